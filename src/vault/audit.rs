//! The audit log: one JSON object per line, each carrying the SHA-256 of the previous line's
//! hash and its own fields, so a removed, reordered or edited event breaks the chain.
//!
//! JSON lines rather than SQLite: appends are one `write` + `fsync` under `flock`, the file is
//! readable with `jq` and `grep` by the person auditing, and no extra C dependency is linked.

use super::error::{Result, VaultError};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::{BufRead, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};

/// What happened to an entry.
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
    /// Hex SHA-256 of the previous event (64 zeros for the first).
    pub prev: String,
    /// Hex SHA-256 over `prev` and this event's other fields.
    pub hash: String,
}

const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

impl Event {
    fn compute_hash(&self) -> String {
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

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The log next to a vault: `vault.lumen` → `vault.audit.jsonl`.
#[derive(Debug, Clone)]
pub struct AuditLog {
    path: PathBuf,
}

/// Result of `verify`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Intact { events: u64 },
    Broken { line: usize, problem: String },
}

impl AuditLog {
    pub fn beside(vault: &Path) -> AuditLog {
        AuditLog {
            path: vault.with_extension("audit.jsonl"),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Append one event under an exclusive lock, chained to the last line, then fsync.
    pub fn append(&self, entry: Option<&str>, action: Action, host: Option<&str>) -> Result<()> {
        let err = |e: std::io::Error| VaultError::io(format!("writing {}", self.path.display()), e);
        super::store::ensure_parent(&self.path)?;
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .mode(0o600)
            .open(&self.path)
            .map_err(err)?;
        // SAFETY: flock on a descriptor we own; blocks only while another append runs.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } != 0 {
            return Err(err(std::io::Error::last_os_error()));
        }
        let last = last_event(&self.path)?;
        let (seq, prev) = match last {
            Some(e) => (e.seq + 1, e.hash),
            None => (0, GENESIS.to_string()),
        };
        let mut event = Event {
            seq,
            time: now_rfc3339(),
            entry: entry.map(str::to_string),
            action,
            host: host.map(str::to_string),
            pid: std::process::id(),
            prev,
            hash: String::new(),
        };
        event.hash = event.compute_hash();
        let mut line = serde_json::to_string(&event).map_err(|e| err(std::io::Error::other(e)))?;
        line.push('\n');
        file.write_all(line.as_bytes()).map_err(err)?;
        file.sync_all().map_err(err)
    }

    /// Every event, in file order. Lines that do not parse are an error naming the line.
    pub fn events(&self) -> Result<Vec<Event>> {
        let file = match std::fs::File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => {
                return Err(VaultError::io(
                    format!("reading {}", self.path.display()),
                    e,
                ));
            }
        };
        let mut out = Vec::new();
        for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
            let line =
                line.map_err(|e| VaultError::io(format!("reading {}", self.path.display()), e))?;
            let event = serde_json::from_str(&line).map_err(|_| VaultError::Audit {
                path: self.path.clone(),
                problem: format!("line {} is not an audit event (edited?)", i + 1),
            })?;
            out.push(event);
        }
        Ok(out)
    }

    /// Walk the chain and report the first break.
    pub fn verify(&self) -> Result<Verdict> {
        let events = match self.events() {
            Ok(e) => e,
            Err(VaultError::Audit { problem, .. }) => {
                return Ok(Verdict::Broken { line: 0, problem });
            }
            Err(e) => return Err(e),
        };
        Ok(verify_events(&events))
    }
}

/// Check hashes, links and sequence numbers of a list of events.
pub fn verify_events(events: &[Event]) -> Verdict {
    let mut prev_hash = GENESIS.to_string();
    let mut expected_seq = 0u64;
    for (i, e) in events.iter().enumerate() {
        let line = i + 1;
        if e.compute_hash() != e.hash {
            return Verdict::Broken {
                line,
                problem: format!(
                    "event {} was edited (its hash does not match its fields)",
                    e.seq
                ),
            };
        }
        if e.seq != expected_seq || e.prev != prev_hash {
            let problem = if e.seq > expected_seq {
                format!("event(s) {expected_seq}..{} were removed", e.seq - 1)
            } else if e.seq < expected_seq {
                format!("event {} is out of order (reordered or duplicated)", e.seq)
            } else {
                format!(
                    "event {} does not follow the event before it (chain broken)",
                    e.seq
                )
            };
            return Verdict::Broken { line, problem };
        }
        prev_hash = e.hash.clone();
        expected_seq = e.seq + 1;
    }
    Verdict::Intact {
        events: events.len() as u64,
    }
}

/// The last event, reading only the end of the file (appends stay cheap as the log grows).
fn last_event(path: &Path) -> Result<Option<Event>> {
    use std::io::{Read, Seek, SeekFrom};
    let err = |e| VaultError::io(format!("reading {}", path.display()), e);
    let mut file = std::fs::File::open(path).map_err(err)?;
    let len = file.metadata().map_err(err)?.len();
    let mut tail_len = TAIL_CHUNK.min(len);
    loop {
        file.seek(SeekFrom::Start(len - tail_len)).map_err(err)?;
        let mut tail = Vec::with_capacity(tail_len as usize);
        Read::by_ref(&mut file)
            .take(tail_len)
            .read_to_end(&mut tail)
            .map_err(err)?;
        let text = String::from_utf8_lossy(&tail);
        let trimmed = text.trim_end();
        let whole_line = tail_len == len || trimmed.contains('\n');
        if !whole_line {
            tail_len = (tail_len * 2).min(len);
            continue;
        }
        let Some(line) = trimmed.rsplit('\n').next().filter(|l| !l.trim().is_empty()) else {
            return Ok(None);
        };
        return serde_json::from_str(line)
            .map(Some)
            .map_err(|_| VaultError::Audit {
                path: path.to_path_buf(),
                problem: "the last line is not an audit event; run 'lumen vault audit --verify'"
                    .into(),
            });
    }
}

/// How much of the log's end `append` reads to find the previous event.
const TAIL_CHUNK: u64 = 4096;

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| String::from("1970-01-01T00:00:00Z"))
}
