//! The audit log: one JSON object per line, each sealed with an HMAC-SHA256 over the previous
//! event's seal and its own fields, under a key derived from the vault's data key. A removed,
//! reordered, edited or forged event breaks the chain, and without the passphrase nobody can
//! write a new chain. Logs from before vault format 2 were sealed with plain SHA-256; they are
//! still read, and the first keyed event pins their end.
//!
//! JSON lines rather than SQLite: appends are one `write` + `fsync` under `flock`, the file is
//! readable with `jq` and `grep` by the person auditing, and no extra C dependency is linked.

use super::error::{Result, VaultError};
use super::format::{Key, SEAL_LEN};
use super::logfile::LogFile;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// What happened to an entry, or to the vault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    Reveal,
    Copy,
    Auth,
    Substitute,
    Totp,
    Add,
    Edit,
    Delete,
    Passwd,
    Init,
    /// The vault was written in format 2 for the first time; the log is keyed from here on.
    Upgrade,
    /// The user accepted a vault and log that did not agree (`lumen vault audit --accept`).
    Accept,
    /// A Credential Test: a login tried with the entry, nothing run (`lumen vault test`);
    /// the event's detail is the verdict.
    Test,
    /// The entry's public key was added to a host's `authorized_keys` (`lumen hosts copy-id`).
    CopyId,
    /// One host's step of `lumen vault rotate-key` (detail: what was done there).
    RotateKey,
    /// Team vaults: a member was added (detail names them).
    AddMember,
    /// Team vaults: a member was removed; a new team key, every entry re-encrypted.
    RemoveMember,
    /// Team vaults: a new team key for the current members, every entry re-encrypted.
    Rekey,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Reveal => "reveal",
            Action::Copy => "copy",
            Action::Auth => "auth",
            Action::Substitute => "substitute",
            Action::Totp => "totp",
            Action::Add => "add",
            Action::Edit => "edit",
            Action::Delete => "delete",
            Action::Passwd => "passwd",
            Action::Init => "init",
            Action::Upgrade => "upgrade",
            Action::Accept => "accept",
            Action::Test => "test",
            Action::CopyId => "copy-id",
            Action::RotateKey => "rotate-key",
            Action::AddMember => "add-member",
            Action::RemoveMember => "remove-member",
            Action::Rekey => "rekey",
        }
    }
}

/// One line of the log. Never holds a secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub seq: u64,
    /// RFC 3339, UTC.
    pub time: String,
    pub entry: Option<String>,
    pub action: Action,
    pub host: Option<String>,
    pub pid: u32,
    /// Set on the events a save writes: the vault's generation (its number of saves) after it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation: Option<u64>,
    /// What an `upgrade` or `accept` event took on, in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Team vaults: the member (by name in `team/members.toml`) who did it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member: Option<String>,
    /// The previous event's seal (64 zeros for the first).
    pub prev: String,
    #[serde(flatten)]
    pub seal: Seal,
}

/// How an event is sealed, as hex.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Seal {
    /// HMAC-SHA256 under the vault's audit key (vault format 2 on).
    Mac(String),
    /// Plain SHA-256, which anyone can recompute (logs written before vault format 2).
    Hash(String),
}

pub(super) const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Longest line read from a log: far beyond any event, small enough that a damaged file (or
/// `/dev/zero` in its place) cannot exhaust memory.
pub(super) const MAX_LINE: u64 = 1024 * 1024;

/// The key that seals events: HKDF-SHA256 of the vault's data key, so only someone who can
/// unlock the vault can extend or rewrite its chain, and the key is never the passphrase.
pub(super) type AuditKey = Zeroizing<[u8; 32]>;

pub(super) fn derive_key(data_key: &Key) -> AuditKey {
    let mut key = Zeroizing::new([0u8; 32]);
    let okm: &mut [u8; 32] = &mut key;
    // Expanding 32 bytes from SHA-256 cannot fail (the limit is 255 × 32).
    let _ = hkdf::Hkdf::<Sha256>::new(None, data_key.as_ref())
        .expand(b"lumen vault audit chain v1", okm);
    key
}

impl Event {
    /// The seal's hex text, whichever kind.
    pub fn seal_hex(&self) -> &str {
        match &self.seal {
            Seal::Mac(s) | Seal::Hash(s) => s,
        }
    }

    pub fn is_keyed(&self) -> bool {
        matches!(self.seal, Seal::Mac(_))
    }

    /// Whether the seal matches the fields: the HMAC under `key`, or the plain hash of an
    /// old event. Comparison of MACs is constant-time.
    pub(super) fn seal_ok(&self, key: &AuditKey) -> bool {
        match &self.seal {
            Seal::Mac(hex_mac) => match (unhex(hex_mac), self.mac(key)) {
                (Some(given), Some(mac)) => mac.verify_slice(&given).is_ok(),
                _ => false,
            },
            Seal::Hash(h) => *h == self.legacy_hash(),
        }
    }

    /// The seal as bytes (for the vault header's anchor).
    pub(super) fn seal_bytes(&self) -> [u8; SEAL_LEN] {
        let mut out = [0u8; SEAL_LEN];
        if let Some(b) = unhex(self.seal_hex()).filter(|b| b.len() == SEAL_LEN) {
            out.copy_from_slice(&b);
        }
        out
    }

    /// The HMAC over this event's fields; `None` never happens (HMAC takes any key length).
    pub(super) fn mac(&self, key: &AuditKey) -> Option<Hmac<Sha256>> {
        let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key.as_ref()).ok()?;
        let mut put = |bytes: &[u8]| {
            m.update(&(bytes.len() as u64).to_le_bytes());
            m.update(bytes);
        };
        let opt = |v: Option<&[u8]>| v.map(|b| [&[1u8][..], b].concat()).unwrap_or(vec![0]);
        put(b"lumen audit event v2");
        put(self.prev.as_bytes());
        put(&self.seq.to_le_bytes());
        put(self.time.as_bytes());
        put(&opt(self.entry.as_deref().map(str::as_bytes)));
        put(self.action.as_str().as_bytes());
        put(&opt(self.host.as_deref().map(str::as_bytes)));
        put(&self.pid.to_le_bytes());
        put(&opt(self
            .generation
            .map(u64::to_le_bytes)
            .as_ref()
            .map(|b| &b[..])));
        put(&opt(self.detail.as_deref().map(str::as_bytes)));
        // Only team events carry a member; older events keep the seal they were given.
        if let Some(member) = &self.member {
            put(b"member");
            put(member.as_bytes());
        }
        Some(m)
    }

    /// The plain SHA-256 of logs written before vault format 2.
    fn legacy_hash(&self) -> String {
        let mut h = Sha256::new();
        h.update(self.prev.as_bytes());
        for field in [
            self.seq.to_string().as_str(),
            &self.time,
            self.entry.as_deref().unwrap_or("\u{0}"),
            self.action.as_str(),
            self.host.as_deref().unwrap_or("\u{0}"),
            &self.pid.to_string(),
        ] {
            h.update((field.len() as u64).to_le_bytes());
            h.update(field.as_bytes());
        }
        hex(&h.finalize())
    }
}

pub(super) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Lowercase hex only: one spelling per seal, so a seal cannot be rewritten to another that
/// decodes to the same bytes.
fn unhex(s: &str) -> Option<Vec<u8>> {
    let canonical = s
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if !s.len().is_multiple_of(2) || !canonical {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

/// One line as an event, if it is one.
pub(super) fn parse_line(line: &[u8]) -> Option<Event> {
    serde_json::from_slice(line).ok()
}

/// The log next to a vault (`vault.lumen` → `vault.audit.jsonl`), for reading. Appending and
/// checking need the vault's key and go through [`super::Vault`].
#[derive(Debug, Clone)]
pub struct AuditLog {
    path: PathBuf,
}

impl AuditLog {
    pub fn beside(vault: &Path) -> AuditLog {
        AuditLog {
            path: vault.with_extension("audit.jsonl"),
        }
    }

    /// A log at a path of its own (a team member's `team/audit/NAME.jsonl`).
    pub fn at(path: PathBuf) -> AuditLog {
        AuditLog { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every event, in file order (no seal is checked: that needs the vault). A line that does
    /// not parse is an error naming the line.
    pub fn events(&self) -> Result<Vec<Event>> {
        let Some(mut log) = LogFile::open_existing(&self.path)? else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        let mut lines = log.lines_from(0)?;
        let mut n = 0;
        while let Some(line) = lines.next_line()? {
            n += 1;
            let event = line
                .and_then(|l| parse_line(&l))
                .ok_or_else(|| VaultError::Audit {
                    path: self.path.clone(),
                    problem: format!("line {n} is not an audit event (edited?)"),
                })?;
            out.push(event);
        }
        Ok(out)
    }
}
