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
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::io::AsRawFd;
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
const MAX_LINE: u64 = 1024 * 1024;

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
    fn mac(&self, key: &AuditKey) -> Option<Hmac<Sha256>> {
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

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.is_ascii() {
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

/// An event a save or a use of a secret is about to append.
#[derive(Debug, Clone)]
pub(super) struct NewEvent {
    pub entry: Option<String>,
    pub action: Action,
    pub host: Option<String>,
    pub generation: Option<u64>,
    pub detail: Option<String>,
}

impl NewEvent {
    pub(super) fn new(action: Action, entry: Option<&str>, host: Option<&str>) -> NewEvent {
        NewEvent {
            entry: entry.map(str::to_string),
            action,
            host: host.map(str::to_string),
            generation: None,
            detail: None,
        }
    }
}

/// Lines ready to append, and where the log will end after them.
pub(super) struct Prepared {
    text: String,
    pub events: u64,
    pub bytes: u64,
    pub seal: [u8; SEAL_LEN],
}

/// The log file under `flock`: shared for readers, exclusive for appenders. Released on drop.
pub(super) struct LogFile {
    file: File,
    path: PathBuf,
}

impl LogFile {
    /// Open and lock (shared) an existing log; `None` if there is none. Blocks only while an
    /// append or a save is writing it.
    pub(super) fn open_existing(path: &Path) -> Result<Option<LogFile>> {
        let opened = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(path);
        let file = match opened {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(VaultError::io(format!("reading {}", path.display()), e)),
        };
        let log = LogFile::regular(file, path)?;
        log.flock(libc::LOCK_SH)?;
        Ok(Some(log))
    }

    /// Refuse a FIFO, device or directory in the log's place: reading one could block or
    /// never end. (Opened non-blocking, so even a FIFO without a writer gets here.)
    fn regular(file: File, path: &Path) -> Result<LogFile> {
        let meta = file
            .metadata()
            .map_err(|e| VaultError::io(format!("reading {}", path.display()), e))?;
        if !meta.is_file() {
            return Err(VaultError::Audit {
                path: path.to_path_buf(),
                problem: "it is not a regular file; move it away (lumen begins a new log)".into(),
            });
        }
        Ok(LogFile {
            file,
            path: path.to_path_buf(),
        })
    }

    /// Open (creating it 0600) and lock for appending. If the log was moved aside while this
    /// waited for the lock, the file now at `path` is opened instead.
    pub(super) fn open_for_append(path: &Path) -> Result<LogFile> {
        use std::os::unix::fs::MetadataExt;
        super::store::ensure_parent(path)?;
        let err = |e| VaultError::io(format!("writing {}", path.display()), e);
        loop {
            let file = std::fs::OpenOptions::new()
                .read(true)
                .append(true)
                .create(true)
                .mode(0o600)
                .custom_flags(libc::O_NONBLOCK)
                .open(path)
                .map_err(err)?;
            let log = LogFile::regular(file, path)?;
            log.flock(libc::LOCK_EX)?;
            let ours = log.file.metadata().map_err(err)?.ino();
            if std::fs::metadata(path).is_ok_and(|m| m.ino() == ours) {
                return Ok(log);
            }
        }
    }

    fn flock(&self, how: libc::c_int) -> Result<()> {
        // SAFETY: flock on a descriptor we own; blocks only while another process writes.
        if unsafe { libc::flock(self.file.as_raw_fd(), how) } != 0 {
            return Err(self.err(std::io::Error::last_os_error()));
        }
        Ok(())
    }

    fn err(&self, e: std::io::Error) -> VaultError {
        VaultError::io(format!("reading {}", self.path.display()), e)
    }

    pub(super) fn len(&self) -> Result<u64> {
        Ok(self.file.metadata().map_err(|e| self.err(e))?.len())
    }

    /// Lines from byte `offset` on, each capped at [`MAX_LINE`].
    pub(super) fn lines_from(&mut self, offset: u64) -> Result<Lines<'_>> {
        self.file
            .seek(SeekFrom::Start(offset))
            .map_err(|e| VaultError::io(format!("reading {}", self.path.display()), e))?;
        Ok(Lines {
            reader: BufReader::new(&self.file),
            path: &self.path,
        })
    }

    /// Number of lines (events, in an intact log).
    pub(super) fn count_lines(&mut self) -> Result<u64> {
        let mut lines = self.lines_from(0)?;
        let mut n = 0;
        while lines.next_line()?.is_some() {
            n += 1;
        }
        Ok(n)
    }

    /// The line whose newline is the byte before `end`, without it; `None` if that byte is not
    /// a newline or the line is longer than [`MAX_LINE`]. Reads only the end of the file, so
    /// finding an event by its position stays cheap however long the log grows.
    pub(super) fn line_ending_at(&mut self, end: u64) -> Result<Option<Vec<u8>>> {
        if end == 0 || end > self.len()? {
            return Ok(None);
        }
        let mut chunk = TAIL_CHUNK.min(end);
        loop {
            let start = end - chunk;
            self.file
                .seek(SeekFrom::Start(start))
                .map_err(|e| self.err(e))?;
            let mut buf = Vec::with_capacity(chunk as usize);
            Read::by_ref(&mut self.file)
                .take(chunk)
                .read_to_end(&mut buf)
                .map_err(|e| self.err(e))?;
            if buf.last() != Some(&b'\n') {
                return Ok(None);
            }
            let body = &buf[..buf.len() - 1];
            if let Some(nl) = body.iter().rposition(|b| *b == b'\n') {
                return Ok(Some(body[nl + 1..].to_vec()));
            }
            if start == 0 {
                return Ok(Some(body.to_vec()));
            }
            if chunk > MAX_LINE {
                return Ok(None);
            }
            chunk = (chunk * 2).min(end);
        }
    }

    /// The last event, to chain the next one to. An empty log has none; a last line that is
    /// not an event (or not finished) is an error, since appending would hide the damage.
    pub(super) fn last_event(&mut self) -> Result<Option<Event>> {
        let len = self.len()?;
        if len == 0 {
            return Ok(None);
        }
        match self.line_ending_at(len)?.and_then(|l| parse_line(&l)) {
            Some(e) => Ok(Some(e)),
            None => Err(VaultError::Audit {
                path: self.path.clone(),
                problem: "its last line is not a complete audit event; check it with 'lumen vault \
                          audit --verify'"
                    .into(),
            }),
        }
    }

    /// Seal `new` under `key`, chained to the last event, without writing yet.
    pub(super) fn prepare(&mut self, key: &AuditKey, new: &[NewEvent]) -> Result<Prepared> {
        let len = self.len()?;
        let last = self.last_event()?;
        let (mut seq, mut prev) = match &last {
            Some(e) => (e.seq + 1, e.seal_hex().to_string()),
            None => (0, GENESIS.to_string()),
        };
        let mut seal = last.as_ref().map(Event::seal_bytes).unwrap_or_default();
        let mut text = String::new();
        let pid = std::process::id();
        for n in new {
            let mut event = Event {
                seq,
                time: now_rfc3339(),
                entry: n.entry.clone(),
                action: n.action,
                host: n.host.clone(),
                pid,
                generation: n.generation,
                detail: n.detail.clone(),
                prev,
                seal: Seal::Mac(String::new()),
            };
            let mac = event
                .mac(key)
                .ok_or_else(|| {
                    VaultError::io(
                        "sealing an audit event",
                        std::io::Error::other("HMAC key rejected"),
                    )
                })?
                .finalize()
                .into_bytes();
            seal.copy_from_slice(&mac);
            event.seal = Seal::Mac(hex(&mac));
            let line = serde_json::to_string(&event)
                .map_err(|e| VaultError::io("encoding an audit event", std::io::Error::other(e)))?;
            text.push_str(&line);
            text.push('\n');
            prev = hex(&mac);
            seq += 1;
        }
        Ok(Prepared {
            bytes: len + text.len() as u64,
            text,
            events: seq,
            seal,
        })
    }

    /// Append prepared lines and fsync.
    pub(super) fn write(&mut self, prepared: &Prepared) -> Result<()> {
        let err = |e| VaultError::io(format!("writing {}", self.path.display()), e);
        self.file.write_all(prepared.text.as_bytes()).map_err(err)?;
        self.file.sync_all().map_err(err)
    }

    /// Seal and append one event.
    pub(super) fn append(&mut self, key: &AuditKey, new: NewEvent) -> Result<()> {
        let prepared = self.prepare(key, &[new])?;
        self.write(&prepared)
    }
}

/// Lines of a log, each capped at [`MAX_LINE`]: an over-long line is `Some(None)`.
pub(super) struct Lines<'a> {
    reader: BufReader<&'a File>,
    path: &'a Path,
}

impl Lines<'_> {
    /// The next line without its newline; `Ok(Some(None))` for one too long to be an event.
    pub(super) fn next_line(&mut self) -> Result<Option<Option<Vec<u8>>>> {
        let err = |e| VaultError::io(format!("reading {}", self.path.display()), e);
        let mut buf = Vec::new();
        let n = Read::by_ref(&mut self.reader)
            .take(MAX_LINE + 1)
            .read_until(b'\n', &mut buf)
            .map_err(err)?;
        if n == 0 {
            return Ok(None);
        }
        if buf.last() == Some(&b'\n') {
            buf.pop();
            return Ok(Some(Some(buf)));
        }
        if (buf.len() as u64) <= MAX_LINE {
            // The last line, without its newline: an append that did not finish.
            return Ok(Some(None));
        }
        // Skip the rest of an over-long line.
        loop {
            let available = self.reader.fill_buf().map_err(err)?;
            if available.is_empty() {
                return Ok(Some(None));
            }
            match available.iter().position(|b| *b == b'\n') {
                Some(i) => {
                    self.reader.consume(i + 1);
                    return Ok(Some(None));
                }
                None => {
                    let all = available.len();
                    self.reader.consume(all);
                }
            }
        }
    }
}

/// Move a log that cannot be continued out of the way, keeping it: `vault.audit.jsonl` →
/// `vault.audit.20261201T144208Z.jsonl` (UTC, with a counter if taken). Returns the new path.
pub(super) fn set_aside(path: &Path) -> Result<PathBuf> {
    let stem = path
        .file_name()
        .map(|n| n.to_string_lossy().trim_end_matches(".jsonl").to_string())
        .unwrap_or_else(|| "audit".into());
    let stamp = time::format_description::parse("[year][month][day]T[hour][minute][second]Z")
        .ok()
        .and_then(|f| time::OffsetDateTime::now_utc().format(&f).ok())
        .unwrap_or_else(|| super::unix_now().to_string());
    for n in 0..1000u32 {
        let name = match n {
            0 => format!("{stem}.{stamp}.jsonl"),
            n => format!("{stem}.{stamp}-{n}.jsonl"),
        };
        let to = path.with_file_name(name);
        if to.exists() {
            continue;
        }
        std::fs::rename(path, &to)
            .map_err(|e| VaultError::io(format!("moving {} aside", path.display()), e))?;
        return Ok(to);
    }
    Err(VaultError::Audit {
        path: path.to_path_buf(),
        problem: "too many old logs beside it; move some away".into(),
    })
}

/// How much of the log's end is read at first to find an event by its position.
const TAIL_CHUNK: u64 = 4096;

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| String::from("1970-01-01T00:00:00Z"))
}
