//! The workspace's `scans.sqlite`: opened private (0600 in a 0700 directory), in WAL mode so a
//! scan can read OSV data while another process imports, with the schema created on first use.

use crate::scan::ScanError;
use rusqlite::Connection;
use std::path::Path;
use std::time::Duration;

/// How long to wait for another lumen holding the database (an import, a parallel scan).
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);
const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS osv_import (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    imported_at TEXT NOT NULL,
    records INTEGER NOT NULL,
    skipped INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS osv_record (
    id TEXT PRIMARY KEY,
    modified TEXT,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS osv_package (
    name TEXT NOT NULL,
    ecosystem TEXT NOT NULL,
    record TEXT NOT NULL,
    PRIMARY KEY (name, ecosystem, record)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS osv_package_record ON osv_package(record);
CREATE TABLE IF NOT EXISTS scan (
    id INTEGER PRIMARY KEY,
    host TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    new_count INTEGER NOT NULL,
    diff TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS scan_host ON scan(host, id);
CREATE TABLE IF NOT EXISTS finding (
    scan INTEGER NOT NULL REFERENCES scan(id),
    id TEXT NOT NULL,
    package TEXT NOT NULL,
    installed TEXT NOT NULL,
    fixed TEXT,
    severity TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS finding_scan ON finding(scan);
";

pub(crate) fn open(path: &Path) -> Result<Connection, ScanError> {
    let fail = |e: &dyn std::fmt::Display| ScanError::db(path, e);
    if let Some(dir) = path.parent() {
        crate::paths::ensure_private_dir(dir).map_err(|e| ScanError::Io {
            path: dir.to_path_buf(),
            source: e,
        })?;
    }
    // Created 0600 before SQLite opens it; a FIFO or device there is refused, not waited on.
    crate::paths::open_append_private(path).map_err(|e| ScanError::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    let conn = Connection::open(path).map_err(|e| fail(&e))?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(|e| fail(&e))?;
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(|e| fail(&e))?;
    conn.pragma_update(None, "synchronous", "NORMAL")
        .map_err(|e| fail(&e))?;
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(|e| fail(&e))?;
    if version > SCHEMA_VERSION {
        return Err(fail(&format!(
            "it was written by a newer lumen (schema {version}); upgrade lumen"
        )));
    }
    conn.execute_batch(SCHEMA).map_err(|e| fail(&e))?;
    conn.pragma_update(None, "user_version", SCHEMA_VERSION)
        .map_err(|e| fail(&e))?;
    Ok(conn)
}
