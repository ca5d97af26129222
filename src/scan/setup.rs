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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::scan::collect::InstalledPackage;
    use crate::scan::os::OsRelease;

    fn collected() -> Collected {
        Collected {
            os: Some(OsRelease::parse("ID=debian\nVERSION_ID=\"12\"\n")),
            kernel: Some("6.1.0-18-amd64".into()),
            packages: vec![InstalledPackage {
                name: "libssl3".into(),
                version: "3.0.11-1".into(),
                arch: None,
                source: "openssl".into(),
                source_version: "3.0.11-1".into(),
            }],
            packages_known: true,
            ..Collected::default()
        }
    }

    fn setup(dir: &std::path::Path, osv: OsvSource) -> ScanSetup {
        ScanSetup {
            db: dir.join("scans.sqlite"),
            ignore: dir.join(IGNORE_FILE),
            osv,
            sudo: false,
        }
    }

    #[test]
    fn finish_matches_files_saves_and_summarises() {
        let dir = tempfile::tempdir().unwrap();
        let osv = dir.path().join("osv");
        std::fs::create_dir(&osv).unwrap();
        std::fs::write(
            osv.join("DSA-1.json"),
            r#"{"id": "DSA-1", "aliases": ["CVE-2024-1"], "affected": [{"package": {"ecosystem": "Debian:12", "name": "openssl"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.0.13-1"}]}]}]}"#,
        )
        .unwrap();
        let s = setup(dir.path(), OsvSource::Files(osv.clone()));
        assert_eq!(s.last_scan_summary("db1"), None);
        assert!(!s.db.exists(), "asking creates nothing");
        let snap = s.finish("db1", String::new(), collected(), &ScanOptions::default());
        let record = snap.host.unwrap();
        assert_eq!(record.scan.findings[0].id, "CVE-2024-1");
        assert_eq!(snap.fleet.len(), 1);
        assert_eq!(record.history.len(), 1);
        assert_eq!(snap.osv, OsvStatus::Files(osv));
        assert!(s.last_scan_summary("db1").unwrap().contains("CVE-2024-1"));
        let again = s.snapshot(Some("db1")).unwrap();
        assert_eq!(again.host.unwrap().scan.findings.len(), 1);
    }

    #[test]
    fn without_osv_data_or_a_writable_history_nothing_collected_is_lost() {
        let dir = tempfile::tempdir().unwrap();
        let s = setup(dir.path(), OsvSource::Imported);
        assert_eq!(s.osv_status(), OsvStatus::Missing);
        let snap = s.finish("db1", String::new(), collected(), &ScanOptions::default());
        let scan = snap.host.unwrap().scan;
        assert!(
            scan.errors
                .iter()
                .any(|e| e.contains("lumen scan db import")),
            "{:?}",
            scan.errors
        );
        // A history that cannot be written: the scan is still shown, with the reason.
        let file = dir.path().join("a-file");
        std::fs::write(&file, "").unwrap();
        let broken = ScanSetup {
            db: file.join("scans.sqlite"),
            ..setup(dir.path(), OsvSource::Imported)
        };
        let snap = broken.finish("db1", String::new(), collected(), &ScanOptions::default());
        let scan = snap.host.unwrap().scan;
        assert_eq!(scan.packages, 1);
        assert!(
            scan.warnings
                .iter()
                .any(|w| w.starts_with("this scan was not saved")),
            "{:?}",
            scan.warnings
        );
    }
}
