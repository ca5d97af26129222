//! Each conversation is kept, redacted, per host in the workspace: `ai/<host>.jsonl`, one JSON
//! object per line (grep- and jq-able), appended, 0600. Only text that was already redacted
//! for the model (or lumen's own words) is written.

use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

/// The largest history file read back.
const MAX_HISTORY: u64 = 64 * 1024 * 1024;

/// One line of a history file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryRecord {
    /// RFC 3339, UTC.
    pub time: String,
    pub host: String,
    /// `question`, `answer`, `proposal`, `output`, `notice`, `error`.
    pub kind: String,
    pub text: String,
    /// For a proposal: lumen's risk level.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk: Option<String>,
    /// For a proposal: approved, rejected, refused, ran-automatically, stopped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<String>,
    /// For a proposal the operator edited: the model's own command (`text` is the operator's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_from: Option<String>,
    /// For a proposal: whose command `text` is, "operator" when edited (absent: the model's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
}

impl HistoryRecord {
    pub fn new(host: &str, kind: &str, text: impl Into<String>) -> Self {
        Self {
            time: time::OffsetDateTime::now_utc()
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
            host: host.to_string(),
            kind: kind.to_string(),
            text: text.into(),
            risk: None,
            decision: None,
            edited_from: None,
            author: None,
        }
    }
}

/// `<workspace dir>/ai/<host>.jsonl`, the host name made safe as a file name.
pub fn history_path(workspace_dir: &Path, host: &str) -> PathBuf {
    let safe: String = host
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-@".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let safe = if safe.is_empty() || safe.starts_with('.') {
        format!("_{safe}")
    } else {
        safe
    };
    workspace_dir.join("ai").join(format!("{safe}.jsonl"))
}

/// Append records to a host's history (the directory is made 0700, the file 0600).
pub fn append(path: &Path, records: &[HistoryRecord]) -> std::io::Result<()> {
    if records.is_empty() {
        return Ok(());
    }
    if let Some(dir) = path.parent() {
        crate::paths::ensure_private_dir(dir)?;
    }
    let mut text = String::new();
    for r in records {
        text.push_str(&serde_json::to_string(r).map_err(std::io::Error::other)?);
        text.push('\n');
    }
    let mut f = crate::paths::open_append_private(path)?;
    f.write_all(text.as_bytes())?;
    f.sync_data()
}

/// History lines waiting to be written, in the order they were made. One writer at a time
/// drains the queue (what is queued while it writes included), so each file's lines stay in
/// order while whoever queues them never waits on the disk.
#[derive(Debug, Clone, Default)]
pub struct HistoryQueue(Arc<Mutex<Queued>>);

#[derive(Debug, Default)]
struct Queued {
    pending: VecDeque<(PathBuf, Vec<HistoryRecord>)>,
    /// A writer is draining the queue.
    writing: bool,
}

impl HistoryQueue {
    /// Queue `records` for the history at `path`. True when no writer is at work: the caller
    /// must start one ([`HistoryQueue::write_all`], off its own thread).
    pub fn push(&self, path: PathBuf, records: Vec<HistoryRecord>) -> bool {
        if records.is_empty() {
            return false;
        }
        let mut q = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        q.pending.push_back((path, records));
        !std::mem::replace(&mut q.writing, true)
    }

    /// Append everything queued, in order, until the queue is empty. Blocking (it fsyncs).
    /// Returns what could not be written, in words.
    pub fn write_all(&self) -> Vec<String> {
        let mut failures = Vec::new();
        loop {
            let next = {
                let mut q = self.0.lock().unwrap_or_else(PoisonError::into_inner);
                let next = q.pending.pop_front();
                // Decided under the lock, so a push after this sees no writer and starts one.
                q.writing = next.is_some();
                next
            };
            let Some((path, records)) = next else {
                return failures;
            };
            if let Err(e) = append(&path, &records) {
                failures.push(format!("cannot write {}: {e}", path.display()));
            }
        }
    }
}

/// Every record of a history file; unreadable lines are skipped and counted.
pub fn read(path: &Path) -> std::io::Result<(Vec<HistoryRecord>, usize)> {
    let bytes = match crate::text::read_capped(path, MAX_HISTORY) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), 0)),
        Err(e) => return Err(e),
    };
    let text = String::from_utf8_lossy(&bytes);
    let mut bad = 0;
    let records = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .filter_map(|l| match serde_json::from_str(l) {
            Ok(r) => Some(r),
            Err(_) => {
                bad += 1;
                None
            }
        })
        .collect();
    Ok((records, bad))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_and_reads_back_privately() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = history_path(dir.path(), "db/1 ../x");
        assert!(path.ends_with("ai/db_1_.._x.jsonl"), "{path:?}");
        append(&path, &[HistoryRecord::new("db1", "question", "why slow?")]).expect("append");
        append(&path, &[HistoryRecord::new("db1", "answer", "disk full")]).expect("append");
        let (records, bad) = read(&path).expect("read");
        assert_eq!((records.len(), bad), (2, 0));
        assert_eq!(records[1].text, "disk full");
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn the_queue_writes_in_order_with_one_writer_at_a_time() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = history_path(dir.path(), "db1");
        let q = HistoryQueue::default();
        let line = |n: usize| vec![HistoryRecord::new("db1", "output", format!("line {n}"))];
        assert!(
            q.push(path.clone(), line(0)),
            "the first push starts a writer"
        );
        assert!(!q.push(path.clone(), line(1)), "one writer at a time");
        let writer = {
            let q = q.clone();
            std::thread::spawn(move || q.write_all())
        };
        for n in 2..200 {
            if q.push(path.clone(), line(n)) {
                assert!(q.write_all().is_empty());
            }
        }
        assert!(writer.join().expect("writer").is_empty());
        // Whatever the writer left for a later one is written by it.
        if q.push(path.clone(), line(200)) {
            assert!(q.write_all().is_empty());
        }
        let (records, bad) = read(&path).expect("read");
        let texts: Vec<String> = records.into_iter().map(|r| r.text).collect();
        let expected: Vec<String> = (0..=200).map(|n| format!("line {n}")).collect();
        assert_eq!((texts, bad), (expected, 0));
    }
}
