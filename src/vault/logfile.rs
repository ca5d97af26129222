//! The audit log file on disk: `flock` for readers and appenders, reading lines with a cap,
//! finding an event by its byte position, sealing and appending events, and keeping a log
//! that cannot be continued under another name.

use super::audit::{Action, AuditKey, Event, GENESIS, MAX_LINE, Seal, hex, parse_line};
use super::error::{Result, VaultError};
use super::format::SEAL_LEN;
use hmac::Mac;
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};

/// An event a save or a use of a secret is about to append.
#[derive(Debug, Clone)]
pub(super) struct NewEvent {
    pub entry: Option<String>,
    pub action: Action,
    pub host: Option<String>,
    pub generation: Option<u64>,
    pub detail: Option<String>,
    pub member: Option<String>,
}

impl NewEvent {
    pub(super) fn new(action: Action, entry: Option<&str>, host: Option<&str>) -> NewEvent {
        NewEvent {
            entry: entry.map(str::to_string),
            action,
            host: host.map(str::to_string),
            generation: None,
            detail: None,
            member: None,
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

    /// SHA-256 of the first `end` bytes (fewer if the file is shorter).
    pub(super) fn digest_prefix(&mut self, end: u64) -> Result<Sha256> {
        self.file
            .seek(SeekFrom::Start(0))
            .map_err(|e| self.err(e))?;
        let mut hasher = Sha256::new();
        let path = &self.path;
        let mut reader = Read::by_ref(&mut self.file).take(end);
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = reader
                .read(&mut buf)
                .map_err(|e| VaultError::io(format!("reading {}", path.display()), e))?;
            if n == 0 {
                return Ok(hasher);
            }
            hasher.update(&buf[..n]);
        }
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
                member: n.member.clone(),
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

    /// SHA-256 of the whole log as it will be once `prepared` is appended (for a save's
    /// anchor; a plain use of a secret does not need it, so appends stay cheap).
    pub(super) fn digest_after(&mut self, prepared: &Prepared) -> Result<[u8; SEAL_LEN]> {
        let mut digest = self.digest_prefix(prepared.bytes - prepared.text.len() as u64)?;
        digest.update(prepared.text.as_bytes());
        Ok(digest.finalize().into())
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
    let stamp = time::OffsetDateTime::now_utc()
        .format(time::macros::format_description!(
            "[year][month][day]T[hour][minute][second]Z"
        ))
        .unwrap_or_else(|_| super::unix_now().to_string());
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
