//! A workspace's scans as the TUI uses them: where the history and the OSV data are, what the
//! scan-results pane shows ([`Snapshot`]), and finishing a collected scan (matching, comparing
//! with the previous one, saving). Everything here blocks on SQLite or files: run it off the
//! UI task.

use crate::paths::Paths;
use crate::scan::collect::Collected;
use crate::scan::history::{Diff, FleetRow, ScanEntry, Store};
use crate::scan::osv::{AdvisoryLookup, OsvDb, source};
use crate::scan::report::HostScan;
use crate::scan::{DB_FILE, IGNORE_FILE, IgnoreList, ScanError, ScanOptions, engine};
use std::path::PathBuf;
use std::sync::Arc;
use time::OffsetDateTime;

/// Scans of one host listed in its history.
pub const HISTORY_SCANS: usize = 20;

/// Where a scan's advisories come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OsvSource {
    /// What `lumen scan db import` stored in the scans database.
    Imported,
    /// A directory of OSV JSON files or an ecosystem's all.zip, read for each scan.
    Files(PathBuf),
}

/// What OSV data the scans have, for the pane to say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OsvStatus {
    /// None: packages are not matched (configuration is still checked).
    Missing,
    Imported {
        date: time::Date,
        records: usize,
        /// Set when the data is old enough to miss advisories.
        stale: Option<String>,
    },
    Files(PathBuf),
    /// The database could not be read.
    Unreadable(String),
}

/// One host's latest scan with what changed since the one before, and its earlier scans.
#[derive(Debug, Clone, PartialEq)]
pub struct HostRecord {
    pub scan: HostScan,
    pub diff: Diff,
    /// Newest first.
    pub history: Vec<ScanEntry>,
}

/// What the scan-results pane shows: the fleet, optionally one host, and the OSV data.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub fleet: Vec<FleetRow>,
    pub host: Option<HostRecord>,
    pub osv: OsvStatus,
}

/// A workspace's scan files and how to scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanSetup {
    /// `scans.sqlite`: the history (and the imported OSV data).
    pub db: PathBuf,
    /// `scan-ignore.toml`.
    pub ignore: PathBuf,
    pub osv: OsvSource,
    /// Run the checks that need root through `sudo -n`.
    pub sudo: bool,
}

impl ScanSetup {
    /// The workspace's files, with the imported OSV data and no sudo.
    pub fn for_workspace(paths: &Paths, workspace: &str) -> Self {
        let dir = paths.workspace_dir(workspace);
        Self {
            db: dir.join(DB_FILE),
            ignore: dir.join(IGNORE_FILE),
            osv: OsvSource::Imported,
            sudo: false,
        }
    }

    pub fn options(&self) -> ScanOptions {
        ScanOptions {
            sudo: self.sudo,
            ..ScanOptions::default()
        }
    }

    /// Which OSV data a scan would use now.
    pub fn osv_status(&self) -> OsvStatus {
        match &self.osv {
            OsvSource::Files(path) => OsvStatus::Files(path.clone()),
            OsvSource::Imported => {
                let info = OsvDb::open(&self.db).and_then(|db| Ok((db.last_import()?, db)));
                match info {
                    Ok((Some(info), db)) => OsvStatus::Imported {
                        date: info.imported_at.date(),
                        records: info.records,
                        stale: db.stale_warning(OffsetDateTime::now_utc()),
                    },
                    Ok((None, _)) => OsvStatus::Missing,
                    Err(e) => OsvStatus::Unreadable(e.to_string()),
                }
            }
        }
    }

    /// The fleet and, when `host` is given, that host's latest scan.
    pub fn snapshot(&self, host: Option<&str>) -> Result<Snapshot, ScanError> {
        let store = Store::open(&self.db)?;
        let host = match host {
            Some(h) => host_record(&store, h)?,
            None => None,
        };
        Ok(Snapshot {
            fleet: store.fleet()?,
            host,
            osv: self.osv_status(),
        })
    }

    /// The advisories for a scan, or None without OSV data; warnings (stale data, skipped
    /// records) go to `warnings`.
    fn advisories(
        &self,
        warnings: &mut Vec<String>,
    ) -> Result<Option<Arc<dyn AdvisoryLookup>>, ScanError> {
        match &self.osv {
            OsvSource::Files(path) => {
                let (index, report) = source::load(path)?;
                warnings.extend(report.warnings);
                Ok(Some(Arc::new(index)))
            }
            OsvSource::Imported => {
                let db = OsvDb::open(&self.db)?;
                if db.count()? == 0 {
                    return Ok(None);
                }
                warnings.extend(db.stale_warning(OffsetDateTime::now_utc()));
                Ok(Some(Arc::new(db)))
            }
        }
    }

    /// Match what was collected from `host`, compare it with the host's previous scan and
    /// save it; then what the pane shows. A problem with the local files becomes a warning on
    /// the scan: what was collected is never thrown away.
    pub fn finish(
        &self,
        host: &str,
        started_at: String,
        collected: Collected,
        opts: &ScanOptions,
    ) -> Snapshot {
        let mut warnings = Vec::new();
        let lookup = self.advisories(&mut warnings).unwrap_or_else(|e| {
            warnings.push(format!("OSV data: {e}"));
            None
        });
        let ignore = IgnoreList::load(&self.ignore).unwrap_or_else(|e| {
            warnings.push(format!("{e}; no finding was ignored"));
            IgnoreList::default()
        });
        let mut scan = engine::assess(
            host,
            started_at,
            collected,
            lookup.as_deref(),
            &ignore,
            opts.today,
        );
        scan.warnings.extend(warnings);
        let saved = Store::open(&self.db).and_then(|mut store| {
            let diff = store.record(&mut scan)?;
            Ok((diff, store.fleet()?, store.history(host, HISTORY_SCANS)?))
        });
        let (diff, fleet, history) = saved.unwrap_or_else(|e| {
            scan.warnings.push(format!("this scan was not saved: {e}"));
            (Diff::default(), Vec::new(), Vec::new())
        });
        Snapshot {
            fleet,
            host: Some(HostRecord {
                scan,
                diff,
                history,
            }),
            osv: self.osv_status(),
        }
    }

    /// A few lines about `host`'s latest scan for the copilot's context ([`HostScan::summary`]);
    /// None when it was never scanned or the history cannot be read.
    pub fn last_scan_summary(&self, host: &str) -> Option<String> {
        // Asking must not create the database.
        if !self.db.exists() {
            return None;
        }
        let store = Store::open(&self.db).ok()?;
        Some(store.latest(host).ok()??.summary())
    }
}

fn host_record(store: &Store, host: &str) -> Result<Option<HostRecord>, ScanError> {
    let Some(scan) = store.latest(host)? else {
        return Ok(None);
    };
    Ok(Some(HostRecord {
        diff: store.latest_diff(host)?.unwrap_or_default(),
        history: store.history(host, HISTORY_SCANS)?,
        scan,
    }))
}
