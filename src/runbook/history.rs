//! The run history: every run's report, one JSON line each, in the workspace's `runs.jsonl`
//! (beside `scans.sqlite`; not shared). Reports hold placeholders and redacted output only;
//! each output is cut to its last [`HISTORY_OUTPUT`] bytes here so the file stays small.

use super::exec::RunReport;
use crate::paths::{FileLock, lock_path_for, open_append_private};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

/// The history file's name in the workspace directory.
pub const HISTORY_FILE: &str = "runs.jsonl";
/// Bytes of each step's stdout and stderr kept in the history (the end of it).
pub const HISTORY_OUTPUT: usize = 4096;
/// Longest history line read back; longer lines (a damaged file) are skipped.
const MAX_LINE: usize = 16 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error("cannot write the run history {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read the run history {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// `text` cut to its last `max` bytes (on a character boundary), marked when cut.
fn tail(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut start = text.len() - max;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    format!("[… {start} bytes cut]{}", &text[start..])
}

/// Append `report` to the history at `path` (created 0600, under a lock).
pub fn append(path: &Path, report: &RunReport) -> Result<(), HistoryError> {
    let err = |source| HistoryError::Write {
        path: path.to_path_buf(),
        source,
    };
    let mut kept = report.clone();
    for step in kept.hosts.iter_mut().flat_map(|h| h.steps.iter_mut()) {
        step.stdout = tail(&step.stdout, HISTORY_OUTPUT);
        step.stderr = tail(&step.stderr, HISTORY_OUTPUT);
    }
    let mut line = serde_json::to_string(&kept).map_err(|e| err(std::io::Error::other(e)))?;
    line.push('\n');
    if let Some(dir) = path.parent() {
        crate::paths::ensure_private_dir(dir).map_err(err)?;
    }
    let _lock = FileLock::acquire(&lock_path_for(path)).map_err(err)?;
    let mut file = open_append_private(path).map_err(err)?;
    file.write_all(line.as_bytes()).map_err(err)?;
    file.sync_all().map_err(err)
}

/// The runs in the history, oldest first, those of runbook `name` only when given. A missing
/// file is an empty history; damaged lines are skipped.
pub fn read(path: &Path, name: Option<&str>) -> Result<Vec<serde_json::Value>, HistoryError> {
    let file = match crate::text::open_for_reading(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(HistoryError::Read {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    let mut out = Vec::new();
    for line in std::io::BufReader::new(file).split(b'\n') {
        let line = line.map_err(|source| HistoryError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        if line.len() > MAX_LINE {
            continue;
        }
        let Ok(v) = serde_json::from_slice::<serde_json::Value>(&line) else {
            continue;
        };
        if name.is_none_or(|n| v.get("runbook").and_then(|r| r.as_str()) == Some(n)) {
            out.push(v);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_keeps_the_end_on_a_char_boundary() {
        assert_eq!(tail("abc", 5), "abc");
        assert_eq!(tail("aébc", 3), "[… 3 bytes cut]bc");
    }
}
