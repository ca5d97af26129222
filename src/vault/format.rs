//! The `vault.lumen` byte format: header layout, Argon2id key derivation, key wrapping and the
//! XChaCha20-Poly1305 payload. Pure functions over bytes, so the parser can be fuzzed.
//!
//! Layout (integers little-endian):
//! ```text
//!   0  magic "LUMENVLT"                     8
//!   8  SHA-256 of bytes 40..end            32   (detects corruption before any KDF work)
//!  40  total file length (u64)               8
//!  48  bitwise NOT of the total length       8   (a flipped length byte is corruption, not truncation)
//!  56  format version (u16) = 2              2
//!  58  KDF id (u8) = 1: Argon2id v1.3        1
//!  59  memory KiB, time cost, lanes (u32)   12
//!  71  salt                                 16
//!  87  nonce of the wrapped data key        24
//! 111  wrapped data key (32 + 16-byte tag)  48
//! 159  payload nonce                        24
//! 183  generation: saves so far (u64)        8   (format 2 on; format 1 ends the header here)
//! 191  audit events at that save (u64)       8
//! 199  audit log bytes at that save (u64)    8
//! 207  seal (HMAC) of the last such event   32
//! 239  SHA-256 of the log's bytes up to it  32
//! 271  payload ciphertext + 16-byte tag
//! ```
//! The key wrap's associated data is bytes 0..8 and 40..111; the payload's is the whole header
//! with the digest field zeroed, since the digest itself covers the payload. So the generation
//! and the audit anchor are authenticated by the data key: see `integrity.rs` for their use.
//! Format 1 files (no anchor) are still read; they are written as format 2 at their next save.

use super::error::{Result, VaultError};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::path::Path;
use zeroize::Zeroizing;

pub const MAGIC: &[u8; 8] = b"LUMENVLT";
/// The format this lumen writes.
pub const VERSION: u16 = 2;
/// The oldest format this lumen reads (and upgrades at the next save).
pub const OLDEST_VERSION: u16 = 1;
pub const KDF_ARGON2ID: u8 = 1;
/// Header length of the current format.
pub const HEADER_LEN: usize = 271;
const HEADER_LEN_V1: usize = 183;
pub const SEAL_LEN: usize = 32;
pub const TAG_LEN: usize = 16;
pub const KEY_LEN: usize = 32;
pub const SALT_LEN: usize = 16;
pub const NONCE_LEN: usize = 24;
const DIGEST_AT: usize = 8;
const BODY_AT: usize = 40;
const LEN_PREFIX: usize = 56;
const WRAP_AAD_END: usize = 111;

/// Argon2id cost parameters as stored in the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfParams {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Passes over memory.
    pub time: u32,
    /// Lanes (parallelism).
    pub lanes: u32,
}

impl KdfParams {
    /// RFC 9106's second recommended option: 64 MiB, 3 passes, 4 lanes.
    pub const DEFAULT: KdfParams = KdfParams {
        memory_kib: 64 * 1024,
        time: 3,
        lanes: 4,
    };
    /// At most 1 GiB of memory: 16 times the default.
    pub const MAX_MEMORY_KIB: u32 = 1024 * 1024;
    /// At most 128 passes: about twice what `--kdf-calibrate` reaches at the default memory on
    /// the fastest machines (its target is one second), so every calibrated vault opens.
    pub const MAX_TIME: u32 = 128;
    /// At most 16 lanes.
    pub const MAX_LANES: u32 = 16;
    /// Memory times passes at most 8 GiB (64 MiB × 128 passes): the whole work of one unlock,
    /// seconds at worst, whatever a damaged or crafted header asks for.
    pub const MAX_WORK_KIB: u64 = 8 * 1024 * 1024;

    /// The highest time cost allowed with `memory_kib` of memory.
    pub fn max_time_for(memory_kib: u32) -> u32 {
        let by_work = Self::MAX_WORK_KIB / u64::from(memory_kib.max(1));
        by_work.min(u64::from(Self::MAX_TIME)) as u32
    }

    /// Reject parameters that would allocate absurd memory or run for long, before any work.
    /// The bounds are exactly what `lumen vault init` (with or without `--kdf-calibrate`) can
    /// write, so a header beyond them was damaged or crafted.
    pub fn check(&self) -> Result<()> {
        self.out_of_bounds()
            .map_or(Ok(()), |what| Err(VaultError::KdfOutOfBounds { what }))
    }

    /// What is out of bounds, in words, or `None`.
    pub fn out_of_bounds(&self) -> Option<String> {
        if self.lanes == 0 || self.lanes > Self::MAX_LANES {
            return Some(format!(
                "lanes {} not in 1..={}",
                self.lanes,
                Self::MAX_LANES
            ));
        }
        let min_memory = 8 * self.lanes;
        if self.memory_kib < min_memory || self.memory_kib > Self::MAX_MEMORY_KIB {
            return Some(format!(
                "memory {} KiB not in {min_memory}..={} KiB",
                self.memory_kib,
                Self::MAX_MEMORY_KIB
            ));
        }
        let max_time = Self::max_time_for(self.memory_kib);
        if self.time == 0 || self.time > max_time {
            return Some(format!(
                "time cost {} not in 1..={max_time} at {} KiB (memory × time is at most {} KiB)",
                self.time,
                self.memory_kib,
                Self::MAX_WORK_KIB
            ));
        }
        None
    }
}

/// Where the vault stood at its last save: how many saves it has seen, and the audit log's
/// end at that save. Authenticated with the payload; all zero in a format 1 file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Anchor {
    pub generation: u64,
    /// Number of events in the log right after that save.
    pub audit_events: u64,
    /// Length of the log in bytes right after that save.
    pub audit_bytes: u64,
    /// The seal of the last of those events (zeros when there were none).
    pub audit_seal: [u8; SEAL_LEN],
    /// SHA-256 of the log's first `audit_bytes` bytes: any change to them, even to an old
    /// event, shows without walking the whole chain.
    pub audit_digest: [u8; SEAL_LEN],
}

/// The parsed, integrity-checked header of a vault file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The format of the file this header was read from, or [`VERSION`] for a new one.
    pub version: u16,
    pub kdf: KdfParams,
    pub salt: [u8; SALT_LEN],
    pub wrap_nonce: [u8; NONCE_LEN],
    pub wrapped_key: [u8; KEY_LEN + TAG_LEN],
    pub payload_nonce: [u8; NONCE_LEN],
    pub anchor: Anchor,
}

/// A 256-bit key on a memory page of its own, locked in memory where the system allows it
/// (never written to swap), and wiped when dropped.
pub struct Key(Box<KeyPage>);

/// One page, so locking and unlocking one key never touches another's.
#[repr(C, align(4096))]
struct KeyPage {
    key: [u8; KEY_LEN],
    rest: [u8; 4096 - KEY_LEN],
}

impl Key {
    /// A key of zeros, to be filled in.
    pub fn zeroed() -> Self {
        let page = Box::new(KeyPage {
            key: [0; KEY_LEN],
            rest: [0; 4096 - KEY_LEN],
        });
        // Where RLIMIT_MEMLOCK allows it; without it the key may be swapped like any memory.
        // SAFETY: mlock on the one page this box owns.
        let locked = unsafe {
            libc::mlock(
                (&raw const *page).cast::<libc::c_void>(),
                std::mem::size_of::<KeyPage>(),
            )
        };
        if locked != 0 {
            tracing::debug!("the vault key's page could not be locked in memory");
        }
        Key(page)
    }

    /// This key, copied from `bytes` (which the caller wipes).
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        let mut k = Self::zeroed();
        k.0.key = bytes;
        k
    }
}

impl std::ops::Deref for Key {
    type Target = [u8; KEY_LEN];
    fn deref(&self) -> &[u8; KEY_LEN] {
        &self.0.key
    }
}

impl std::ops::DerefMut for Key {
    fn deref_mut(&mut self) -> &mut [u8; KEY_LEN] {
        &mut self.0.key
    }
}

impl AsRef<[u8]> for Key {
    fn as_ref(&self) -> &[u8] {
        &self.0.key
    }
}

impl AsMut<[u8]> for Key {
    fn as_mut(&mut self) -> &mut [u8] {
        &mut self.0.key
    }
}

impl Drop for Key {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.0.key.zeroize();
        // SAFETY: munlock on the page this box owns (harmless if it was never locked).
        unsafe {
            libc::munlock(
                (&raw const *self.0).cast::<libc::c_void>(),
                std::mem::size_of::<KeyPage>(),
            );
        }
    }
}

pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    rand::rngs::OsRng.fill_bytes(&mut out);
    out
}

thread_local! {
    /// How many key derivations ran on this thread (an unlock must cost one per file; tests
    /// count). Per thread, so tests running side by side do not count each other's.
    static KDF_RUNS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// The number of Argon2id derivations run so far on this thread.
pub fn kdf_runs() -> usize {
    KDF_RUNS.with(std::cell::Cell::get)
}

/// Argon2id(passphrase, salt) → key-encryption key.
pub fn derive_kek(passphrase: &[u8], salt: &[u8; SALT_LEN], kdf: KdfParams) -> Result<Key> {
    KDF_RUNS.with(|n| n.set(n.get() + 1));
    kdf.check()?;
    let params =
        argon2::Params::new(kdf.memory_kib, kdf.time, kdf.lanes, Some(KEY_LEN)).map_err(|e| {
            VaultError::KdfOutOfBounds {
                what: e.to_string(),
            }
        })?;
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut out = Key::zeroed();
    argon
        .hash_password_into(passphrase, salt, out.as_mut())
        .map_err(|e| VaultError::KdfOutOfBounds {
            what: e.to_string(),
        })?;
    Ok(out)
}

fn cipher(key: &[u8; KEY_LEN]) -> XChaCha20Poly1305 {
    XChaCha20Poly1305::new(key.into())
}

impl Header {
    /// A fresh header: new salt and nonces, no key wrapped yet (call [`Header::wrap`]).
    pub fn new(kdf: KdfParams) -> Header {
        Header {
            version: VERSION,
            kdf,
            salt: random_bytes(),
            wrap_nonce: random_bytes(),
            wrapped_key: [0; KEY_LEN + TAG_LEN],
            payload_nonce: random_bytes(),
            anchor: Anchor::default(),
        }
    }

    /// Make a header read from an older format write the current one. The version is part of
    /// the key wrap's associated data, so the data key is wrapped again (fresh nonce, same
    /// salt): this needs the key-encryption key, which only exists while unlocking.
    pub fn upgrade(&mut self, kek: &Key, data_key: &Key) -> Result<()> {
        if self.version == VERSION {
            return Ok(());
        }
        self.version = VERSION;
        self.wrap_nonce = random_bytes();
        self.wrap(kek, data_key)
    }

    fn len(&self) -> usize {
        header_len(self.version)
    }

    /// Encrypt `data_key` under `kek` into `wrapped_key` (salt and KDF must already be final).
    pub fn wrap(&mut self, kek: &Key, data_key: &Key) -> Result<()> {
        let aad = self.wrap_aad();
        let ct = cipher(kek)
            .encrypt(
                XNonce::from_slice(&self.wrap_nonce),
                Payload {
                    msg: data_key.as_ref(),
                    aad: &aad,
                },
            )
            .map_err(|_| VaultError::KdfOutOfBounds {
                what: "key wrap failed".into(),
            })?;
        self.wrapped_key.copy_from_slice(&ct);
        Ok(())
    }

    /// Decrypt the data key; `None` means the passphrase (or header) is wrong.
    pub fn unwrap_key(&self, kek: &Key) -> Option<Key> {
        let aad = self.wrap_aad();
        let pt = Zeroizing::new(
            cipher(kek)
                .decrypt(
                    XNonce::from_slice(&self.wrap_nonce),
                    Payload {
                        msg: &self.wrapped_key,
                        aad: &aad,
                    },
                )
                .ok()?,
        );
        let mut key = Key::zeroed();
        if pt.len() != KEY_LEN {
            return None;
        }
        key.copy_from_slice(&pt);
        Some(key)
    }

    fn wrap_aad(&self) -> Vec<u8> {
        let bytes = self.to_bytes(0);
        let mut aad = bytes[..DIGEST_AT].to_vec();
        aad.extend_from_slice(&bytes[BODY_AT..WRAP_AAD_END]);
        aad
    }

    /// The header bytes for a file of `total_len` bytes, digest field zeroed.
    fn to_bytes(&self, total_len: u64) -> Vec<u8> {
        let mut b = vec![0u8; self.len()];
        b[..8].copy_from_slice(MAGIC);
        b[40..48].copy_from_slice(&total_len.to_le_bytes());
        b[48..56].copy_from_slice(&(!total_len).to_le_bytes());
        b[56..58].copy_from_slice(&self.version.to_le_bytes());
        b[58] = KDF_ARGON2ID;
        b[59..63].copy_from_slice(&self.kdf.memory_kib.to_le_bytes());
        b[63..67].copy_from_slice(&self.kdf.time.to_le_bytes());
        b[67..71].copy_from_slice(&self.kdf.lanes.to_le_bytes());
        b[71..87].copy_from_slice(&self.salt);
        b[87..111].copy_from_slice(&self.wrap_nonce);
        b[111..159].copy_from_slice(&self.wrapped_key);
        b[159..183].copy_from_slice(&self.payload_nonce);
        if self.version >= 2 {
            b[183..191].copy_from_slice(&self.anchor.generation.to_le_bytes());
            b[191..199].copy_from_slice(&self.anchor.audit_events.to_le_bytes());
            b[199..207].copy_from_slice(&self.anchor.audit_bytes.to_le_bytes());
            b[207..239].copy_from_slice(&self.anchor.audit_seal);
            b[239..271].copy_from_slice(&self.anchor.audit_digest);
        }
        b
    }
}

fn header_len(version: u16) -> usize {
    if version >= 2 {
        HEADER_LEN
    } else {
        HEADER_LEN_V1
    }
}

/// Encrypt `plaintext` with `data_key` into a complete file image.
pub fn seal(header: &Header, data_key: &Key, plaintext: &[u8]) -> Result<Vec<u8>> {
    let total = (header.len() + plaintext.len() + TAG_LEN) as u64;
    let aad = header.to_bytes(total);
    let ct = cipher(data_key)
        .encrypt(
            XNonce::from_slice(&header.payload_nonce),
            Payload {
                msg: plaintext,
                aad: &aad,
            },
        )
        .map_err(|_| VaultError::Tampered {
            path: Default::default(),
            what: "payload too large to encrypt",
        })?;
    let mut file = aad;
    file.extend_from_slice(&ct);
    let digest = Sha256::digest(&file[BODY_AT..]);
    file[DIGEST_AT..BODY_AT].copy_from_slice(&digest);
    Ok(file)
}

/// Check a file image's framing and digest and parse its header. No key derivation happens
/// here, so this is cheap and safe on any input (the fuzz target calls it).
pub fn parse(path: &Path, bytes: &[u8]) -> Result<Header> {
    let tampered = |what| VaultError::Tampered {
        path: path.to_path_buf(),
        what,
    };
    let found = bytes.len() as u64;
    if bytes.len() < LEN_PREFIX {
        if !MAGIC.starts_with(&bytes[..bytes.len().min(MAGIC.len())]) {
            return Err(tampered("not a lumen vault"));
        }
        return Err(VaultError::Truncated {
            path: path.to_path_buf(),
            found,
            expected: HEADER_LEN as u64,
        });
    }
    if &bytes[..8] != MAGIC {
        return Err(tampered("not a lumen vault"));
    }
    let total = u64_at(bytes, 40);
    if total != !u64_at(bytes, 48) {
        return Err(tampered("length field damaged"));
    }
    if found < total {
        return Err(VaultError::Truncated {
            path: path.to_path_buf(),
            found,
            expected: total,
        });
    }
    if found > total {
        return Err(tampered("trailing bytes"));
    }
    if Sha256::digest(&bytes[BODY_AT..]).as_slice() != &bytes[DIGEST_AT..BODY_AT] {
        return Err(tampered("checksum mismatch"));
    }
    let version = u16::from_le_bytes([bytes[56], bytes[57]]);
    if !(OLDEST_VERSION..=VERSION).contains(&version) {
        return Err(VaultError::UnsupportedVersion {
            path: path.to_path_buf(),
            found: version,
            supported: VERSION,
        });
    }
    if bytes.len() < header_len(version) + TAG_LEN {
        return Err(tampered("file too short for its version"));
    }
    if bytes[58] != KDF_ARGON2ID {
        return Err(VaultError::KdfHeader {
            path: path.to_path_buf(),
            what: format!("an unknown key-derivation function (id {})", bytes[58]),
        });
    }
    let kdf = KdfParams {
        memory_kib: u32_at(bytes, 59),
        time: u32_at(bytes, 63),
        lanes: u32_at(bytes, 67),
    };
    if let Some(what) = kdf.out_of_bounds() {
        return Err(VaultError::KdfHeader {
            path: path.to_path_buf(),
            what: format!("Argon2id {what}"),
        });
    }
    let mut h = Header {
        version,
        kdf,
        salt: [0; SALT_LEN],
        wrap_nonce: [0; NONCE_LEN],
        wrapped_key: [0; KEY_LEN + TAG_LEN],
        payload_nonce: [0; NONCE_LEN],
        anchor: Anchor::default(),
    };
    h.salt.copy_from_slice(&bytes[71..87]);
    h.wrap_nonce.copy_from_slice(&bytes[87..111]);
    h.wrapped_key.copy_from_slice(&bytes[111..159]);
    h.payload_nonce.copy_from_slice(&bytes[159..183]);
    if version >= 2 {
        h.anchor.generation = u64_at(bytes, 183);
        h.anchor.audit_events = u64_at(bytes, 191);
        h.anchor.audit_bytes = u64_at(bytes, 199);
        h.anchor.audit_seal.copy_from_slice(&bytes[207..239]);
        h.anchor.audit_digest.copy_from_slice(&bytes[239..271]);
    }
    Ok(h)
}

/// Decrypt the payload of a parsed file; any failure means the file was altered.
pub fn open_payload(
    path: &Path,
    header: &Header,
    data_key: &Key,
    bytes: &[u8],
) -> Result<Zeroizing<Vec<u8>>> {
    let aad = header.to_bytes(bytes.len() as u64);
    cipher(data_key)
        .decrypt(
            XNonce::from_slice(&header.payload_nonce),
            Payload {
                msg: bytes.get(header.len()..).unwrap_or_default(),
                aad: &aad,
            },
        )
        .map(Zeroizing::new)
        .map_err(|_| VaultError::Tampered {
            path: path.to_path_buf(),
            what: "payload authentication failed",
        })
}

/// The digest field of a file image, used to notice changes on disk.
pub fn file_digest(bytes: &[u8]) -> Option<[u8; 32]> {
    bytes.get(DIGEST_AT..BODY_AT)?.try_into().ok()
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// How long one unlock should take after `--kdf-calibrate` (KeePassXC's default).
pub const CALIBRATION_TARGET: std::time::Duration = std::time::Duration::from_secs(1);

/// Keep `base`'s memory and lanes and raise the time cost until one derivation takes about
/// `target` (never below `base.time`).
pub fn calibrate(base: KdfParams, target: std::time::Duration) -> Result<KdfParams> {
    // Probe with the base cost itself: a one-pass probe overstates the cost per pass, since
    // filling the memory the first time costs more than a later pass.
    let salt = random_bytes();
    let start = std::time::Instant::now();
    derive_kek(b"calibration", &salt, base)?;
    let per_pass = start.elapsed().as_secs_f64().max(1e-6) / f64::from(base.time);
    let passes = (target.as_secs_f64() / per_pass).round() as u64;
    let max = u64::from(KdfParams::max_time_for(base.memory_kib)).max(u64::from(base.time));
    let time = passes.clamp(u64::from(base.time), max) as u32;
    Ok(KdfParams { time, ..base })
}

/// Everything the fuzz target exercises on untrusted bytes, without key derivation: framing and
/// header parsing, payload authentication under a fixed key, and payload JSON decoding.
/// Must return (never panic) on any input.
pub fn fuzz_one(bytes: &[u8]) {
    let path = Path::new("fuzz.lumen");
    if let Ok(header) = parse(path, bytes) {
        let key = Key::zeroed();
        let _ = header.unwrap_key(&key);
        let _ = open_payload(path, &header, &key, bytes);
    }
    let _ = super::entry::Payload::decode(path, bytes);
}
