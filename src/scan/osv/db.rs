//! OSV data imported into the workspace's `scans.sqlite`: `lumen scan db import PATH` stores a
//! directory or an ecosystem's `all.zip` in one transaction (a broken zip imports nothing), and
//! scans look advisories up by package name.

use super::source::{self, ReadReport};
use super::{Advisory, AdvisoryLookup};
use crate::scan::ScanError;
use crate::scan::os::EcosystemSpec;
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Imported data older than this makes scans warn.
pub const STALE_AFTER: time::Duration = time::Duration::days(7);

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportReport {
    pub read: ReadReport,
    /// Ecosystems named in the imported records, with their record counts.
    pub ecosystems: Vec<(String, usize)>,
}

/// The last import's source, date and size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportInfo {
    pub source: String,
    pub imported_at: OffsetDateTime,
    pub records: usize,
}

type Cache = HashMap<String, Vec<Arc<Advisory>>>;

/// The imported OSV data. Shared by the hosts of a fleet scan (lookups are cached).
pub struct OsvDb {
    path: PathBuf,
    conn: Mutex<Connection>,
    cache: Mutex<Cache>,
}

impl std::fmt::Debug for OsvDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OsvDb")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl OsvDb {
    pub fn open(path: &Path) -> Result<Self, ScanError> {
        Ok(Self {
            path: path.to_path_buf(),
            conn: Mutex::new(crate::scan::sqlite::open(path)?),
            cache: Mutex::new(HashMap::new()),
        })
    }

    fn conn(&self) -> Result<std::sync::MutexGuard<'_, Connection>, ScanError> {
        self.conn
            .lock()
            .map_err(|_| ScanError::db(&self.path, "a previous use panicked"))
    }

    /// Import a directory of OSV JSON files or a zip. Records replace those with the same ID.
    pub fn import(&self, source_path: &Path) -> Result<ImportReport, ScanError> {
        let path = self.path.clone();
        let fail = |e: rusqlite::Error| ScanError::db(&path, e);
        let mut conn = self.conn()?;
        let tx = conn.transaction().map_err(fail)?;
        let mut ecosystems: HashMap<String, usize> = HashMap::new();
        let read = {
            let mut put_record = tx
                .prepare(
                    "INSERT OR REPLACE INTO osv_record (id, modified, body) VALUES (?1, ?2, ?3)",
                )
                .map_err(fail)?;
            let mut clear = tx
                .prepare("DELETE FROM osv_package WHERE record = ?1")
                .map_err(fail)?;
            let mut put_package = tx
                .prepare("INSERT OR IGNORE INTO osv_package (name, ecosystem, record) VALUES (?1, ?2, ?3)")
                .map_err(fail)?;
            source::read(source_path, |a: Advisory| {
                let body = serde_json::to_string(&a).map_err(|e| ScanError::db(&path, e))?;
                put_record
                    .execute(params![a.id, a.modified, body])
                    .map_err(fail)?;
                clear.execute(params![a.id]).map_err(fail)?;
                for affected in &a.affected {
                    let p = &affected.package;
                    if put_package
                        .execute(params![p.name, p.ecosystem, a.id])
                        .map_err(fail)?
                        > 0
                    {
                        *ecosystems.entry(p.ecosystem.clone()).or_default() += 1;
                    }
                }
                Ok(())
            })?
        };
        let now = OffsetDateTime::now_utc()
            .format(&Rfc3339)
            .unwrap_or_default();
        tx.execute(
            "INSERT INTO osv_import (source, imported_at, records, skipped) VALUES (?1, ?2, ?3, ?4)",
            params![
                source_path.display().to_string(),
                now,
                read.records as i64,
                read.skipped as i64
            ],
        )
        .map_err(fail)?;
        tx.commit().map_err(fail)?;
        if let Ok(mut cache) = self.cache.lock() {
            cache.clear();
        }
        let mut ecosystems: Vec<(String, usize)> = ecosystems.into_iter().collect();
        ecosystems.sort();
        Ok(ImportReport { read, ecosystems })
    }

    /// The most recent import, if any.
    pub fn last_import(&self) -> Result<Option<ImportInfo>, ScanError> {
        let conn = self.conn()?;
        let row = conn
            .query_row(
                "SELECT source, imported_at, records FROM osv_import ORDER BY id DESC LIMIT 1",
                [],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, i64>(2)?,
                    ))
                },
            )
            .optional()
            .map_err(|e| ScanError::db(&self.path, e))?;
        Ok(row.map(|(source, at, records)| ImportInfo {
            source,
            imported_at: OffsetDateTime::parse(&at, &Rfc3339).unwrap_or(OffsetDateTime::UNIX_EPOCH),
            records: usize::try_from(records).unwrap_or(0),
        }))
    }

    /// How many records are stored.
    pub fn count(&self) -> Result<usize, ScanError> {
        let conn = self.conn()?;
        conn.query_row("SELECT COUNT(*) FROM osv_record", [], |r| {
            r.get::<_, i64>(0)
        })
        .map(|n| usize::try_from(n).unwrap_or(0))
        .map_err(|e| ScanError::db(&self.path, e))
    }

    /// A warning when the data is older than [`STALE_AFTER`].
    pub fn stale_warning(&self, now: OffsetDateTime) -> Option<String> {
        let info = self.last_import().ok()??;
        let age = now - info.imported_at;
        (age > STALE_AFTER).then(|| {
            format!(
                "the OSV data was imported {} days ago ({}); newer advisories are missing: run `lumen scan db import` with a fresh all.zip",
                age.whole_days(),
                info.imported_at.date()
            )
        })
    }
}

impl AdvisoryLookup for OsvDb {
    fn lookup(&self, spec: &EcosystemSpec, package: &str) -> Result<Vec<Arc<Advisory>>, ScanError> {
        if let Some(hit) = self.cache.lock().ok().and_then(|c| c.get(package).cloned()) {
            return Ok(filter(hit, spec, package));
        }
        let all: Vec<Arc<Advisory>> = {
            let conn = self.conn()?;
            let mut stmt = conn
                .prepare_cached(
                    "SELECT DISTINCT r.body FROM osv_package p JOIN osv_record r ON r.id = p.record WHERE p.name = ?1",
                )
                .map_err(|e| ScanError::db(&self.path, e))?;
            let rows = stmt
                .query_map(params![package], |r| r.get::<_, String>(0))
                .map_err(|e| ScanError::db(&self.path, e))?;
            let mut all = Vec::new();
            for body in rows {
                let body = body.map_err(|e| ScanError::db(&self.path, e))?;
                // A row this lumen cannot read (written by another version) is skipped.
                if let Ok(a) = serde_json::from_str::<Advisory>(&body) {
                    all.push(Arc::new(a));
                }
            }
            all
        };
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(package.to_string(), all.clone());
        }
        Ok(filter(all, spec, package))
    }

    fn imported_at(&self) -> Option<OffsetDateTime> {
        self.last_import().ok().flatten().map(|i| i.imported_at)
    }
}

fn filter(all: Vec<Arc<Advisory>>, spec: &EcosystemSpec, package: &str) -> Vec<Arc<Advisory>> {
    all.into_iter()
        .filter(|a| {
            a.affected
                .iter()
                .any(|x| x.package.name == package && spec.matches(&x.package.ecosystem))
        })
        .collect()
}
