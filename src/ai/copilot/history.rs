//! Each conversation is kept, redacted, per host in the workspace: `ai/<host>.jsonl`, one JSON
//! object per line (grep- and jq-able), appended, 0600. Only text that was already redacted
//! for the model (or lumen's own words) is written.

use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

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
}
