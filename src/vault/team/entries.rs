//! One file per entry, `team/entries/NAME.lv`: `LUMENTE1`, the key epoch (8 bytes, big
//! endian), a 24-byte nonce, then the entry as JSON sealed with XChaCha20-Poly1305 under the
//! team key of that epoch, with the entry's name and the epoch as associated data. Two people
//! changing different entries touch different files; a file moved, renamed or swapped for
//! another entry's does not open under its new name.

use super::error::TeamError;
use super::keyfile::TeamKeys;
use crate::vault::Entry;
use crate::vault::format::{Key, random_bytes};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

const MAGIC: &[u8; 8] = b"LUMENTE1";
const HEAD: usize = 8 + 8 + 24;
/// Largest entry file read (the vault's own limit on a secret is 1 MiB).
const MAX_ENTRY_FILE: u64 = 4 * 1024 * 1024;
pub const EXT: &str = "lv";

fn aad(name: &str, epoch: u64) -> Vec<u8> {
    let mut a = b"lumen team entry v1\0".to_vec();
    a.extend_from_slice(name.as_bytes());
    a.push(0);
    a.extend_from_slice(&epoch.to_be_bytes());
    a
}

/// The bytes of `entry`'s file at `epoch` under `key`.
pub fn seal(entry: &Entry, epoch: u64, key: &Key) -> Result<Vec<u8>, TeamError> {
    let plain = Zeroizing::new(serde_json::to_vec(entry).map_err(|e| TeamError::Entry {
        path: PathBuf::from(&entry.name),
        why: format!("cannot encode: {e}"),
    })?);
    let nonce: [u8; 24] = random_bytes();
    let cipher = XChaCha20Poly1305::new(key.as_ref().into());
    let aad = aad(&entry.name, epoch);
    let ct = cipher
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: &plain,
                aad: &aad,
            },
        )
        .map_err(|_| TeamError::Entry {
            path: PathBuf::from(&entry.name),
            why: "encryption failed".into(),
        })?;
    let mut out = Vec::with_capacity(HEAD + ct.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&epoch.to_be_bytes());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ct);
    Ok(out)
}

/// The epoch an entry file says it was written at (unauthenticated until opened).
pub fn epoch_of(bytes: &[u8]) -> Option<u64> {
    if bytes.len() < HEAD || &bytes[..8] != MAGIC {
        return None;
    }
    let mut e = [0u8; 8];
    e.copy_from_slice(&bytes[8..16]);
    Some(u64::from_be_bytes(e))
}

/// Read and open the file of entry `name`; returns it and the epoch it was written at.
pub fn open(path: &Path, name: &str, keys: &TeamKeys) -> Result<(Entry, u64), TeamError> {
    let bad = |why: String| TeamError::Entry {
        path: path.to_path_buf(),
        why,
    };
    let bytes = crate::text::read_capped(path, MAX_ENTRY_FILE)
        .map_err(|e| bad(format!("cannot read it: {e}")))?;
    open_bytes(path, &bytes, name, keys)
}

/// Open the bytes of entry `name`'s file (`path` names it in errors).
pub fn open_bytes(
    path: &Path,
    bytes: &[u8],
    name: &str,
    keys: &TeamKeys,
) -> Result<(Entry, u64), TeamError> {
    let bad = |why: String| TeamError::Entry {
        path: path.to_path_buf(),
        why,
    };
    let epoch = epoch_of(bytes).ok_or_else(|| {
        bad(
            "not a lumen team entry (truncated or damaged); take it from the last good commit"
                .into(),
        )
    })?;
    let candidates = keys.keys_for(epoch);
    match candidates.first() {
        Some(_) => {}
        None if epoch > keys.epoch => {
            return Err(bad(format!(
                "written at key epoch {epoch}, but key.age is at epoch {}: key.age is an older \
                 copy (restored from an old commit?); take key.age from the newest commit",
                keys.epoch
            )));
        }
        None => {
            return Err(bad(format!(
                "written at key epoch {epoch}, whose key key.age (epoch {}) no longer holds; \
                 ask the member who wrote it to add it again",
                keys.epoch
            )));
        }
    }
    let aad = aad(name, epoch);
    let plain = candidates
        .iter()
        .find_map(|key| {
            XChaCha20Poly1305::new(key.as_ref().into())
                .decrypt(
                    XNonce::from_slice(&bytes[16..HEAD]),
                    Payload {
                        msg: &bytes[HEAD..],
                        aad: &aad,
                    },
                )
                .ok()
        })
        .map(Zeroizing::new)
        .ok_or_else(|| {
            bad(format!(
                "does not open as entry '{}' at epoch {epoch}: it was tampered with, or \
                 moved, renamed or swapped from another entry's file; take it from the \
                 last good commit",
                crate::text::escape_controls(name)
            ))
        })?;
    let entry: Entry = serde_json::from_slice(&plain)
        .map_err(|_| bad("decrypted, but the entry does not parse".into()))?;
    if entry.name != name {
        return Err(bad("the entry inside has another name".into()));
    }
    Ok((entry, epoch))
}

/// `entries/NAME.lv` for `name` (names may hold `/`: subfolders).
pub fn path_for(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{name}.{EXT}"))
}

/// Every entry file under `dir`, with the name its path gives.
pub fn list(dir: &Path) -> Result<Vec<(String, PathBuf)>, TeamError> {
    let mut out = Vec::new();
    walk(dir, dir, &mut out)?;
    out.sort();
    Ok(out)
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) -> Result<(), TeamError> {
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => {
            return Err(TeamError::Entry {
                path: dir.to_path_buf(),
                why: format!("cannot list it: {e}"),
            });
        }
    };
    for e in rd.flatten() {
        let p = e.path();
        let file = e.file_name().to_string_lossy().into_owned();
        if file.starts_with('.') {
            continue;
        }
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            walk(root, &p, out)?;
        } else if let Some(stem) = file.strip_suffix(&format!(".{EXT}")) {
            let rel = p.parent().and_then(|d| d.strip_prefix(root).ok());
            let name = match rel {
                Some(r) if !r.as_os_str().is_empty() => format!("{}/{stem}", r.display()),
                _ => stem.to_string(),
            };
            out.push((name, p));
        }
    }
    Ok(())
}
