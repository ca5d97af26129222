//! Scan history in the workspace's `scans.sqlite`: every scan is kept; each new one is compared
//! with the previous scan of the same host (new and resolved findings, SUID/SGID files added),
//! and the fleet view reads the latest scan of every host.

use crate::scan::ScanError;
use crate::scan::collect::hardening;
use crate::scan::os::OsRelease;
use crate::scan::report::{ConfigFinding, HostScan};
use crate::scan::severity::Severity;
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// What names a finding across scans.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct FindingKey {
    pub id: String,
    pub package: String,
}

/// What changed since the host's previous scan.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diff {
    /// False for a host's first scan (then nothing is "new").
    pub had_previous: bool,
    pub new: Vec<FindingKey>,
    pub resolved: Vec<FindingKey>,
    pub suid_added: Vec<String>,
    pub suid_removed: Vec<String>,
}

/// Compare `current` with `previous`. Findings are matched by ID and package.
pub fn diff(previous: Option<&HostScan>, current: &HostScan) -> Diff {
    let Some(prev) = previous else {
        return Diff::default();
    };
    let keys =
        |s: &HostScan| -> BTreeSet<FindingKey> { s.findings.iter().map(|f| f.key()).collect() };
    let (before, now) = (keys(prev), keys(current));
    // A package whose list could not be read this time resolves nothing.
    let resolved = if current.packages == 0 {
        Vec::new()
    } else {
        before.difference(&now).cloned().collect()
    };
    let files = |s: &HostScan| -> BTreeSet<String> { s.suid_files.iter().cloned().collect() };
    let (suid_added, suid_removed) = if prev.suid_files.is_empty() || current.suid_files.is_empty()
    {
        (Vec::new(), Vec::new()) // no baseline, or not collected this time
    } else {
        let (b, n) = (files(prev), files(current));
        (
            n.difference(&b).cloned().collect(),
            b.difference(&n).cloned().collect(),
        )
    };
    Diff {
        had_previous: true,
        new: now.difference(&before).cloned().collect(),
        resolved,
        suid_added,
        suid_removed,
    }
}

/// A host's line in the fleet view: its latest scan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FleetRow {
    pub host: String,
    /// The scan's id in the history (later scans have larger ids): of two rows of a host,
    /// read at different times, the one with the larger id is the newer.
    #[serde(skip)]
    pub scan_id: i64,
    pub os: Option<String>,
    /// Findings per severity, most severe first.
    pub counts: Vec<(Severity, usize)>,
    pub config_findings: usize,
    pub reboot_required: bool,
    /// RFC 3339.
    pub last_scan: String,
    /// Findings new since the scan before it.
    pub new_since_last: usize,
    pub errors: usize,
}

/// One stored scan, listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanEntry {
    pub id: i64,
    pub finished_at: String,
    pub findings: usize,
    pub new: usize,
}

/// The history database.
pub struct Store {
    path: PathBuf,
    conn: Connection,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Store {
    pub fn open(path: &Path) -> Result<Self, ScanError> {
        Ok(Self {
            path: path.to_path_buf(),
            conn: crate::scan::sqlite::open(path)?,
        })
    }

    fn fail(&self, e: impl std::fmt::Display) -> ScanError {
        ScanError::db(&self.path, e)
    }

    /// The latest stored scan of `host`.
    pub fn latest(&self, host: &str) -> Result<Option<HostScan>, ScanError> {
        let body: Option<String> = self
            .conn
            .query_row(
                "SELECT body FROM scan WHERE host = ?1 ORDER BY id DESC LIMIT 1",
                params![host],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.fail(e))?;
        Ok(body.and_then(|b| serde_json::from_str(&b).ok()))
    }

    /// Compare with the previous scan of the host (adding a finding for new SUID/SGID files),
    /// then store the scan. Returns the comparison.
    pub fn record(&mut self, scan: &mut HostScan) -> Result<Diff, ScanError> {
        let previous = self.latest(&scan.host)?;
        let d = diff(previous.as_ref(), scan);
        if let Some(f) = hardening::suid_added(&d.suid_added) {
            scan.config_findings.push(f);
            ConfigFinding::sort_by_severity(&mut scan.config_findings);
        }
        let body = serde_json::to_string(scan).map_err(|e| self.fail(e))?;
        let diff_json = serde_json::to_string(&d).map_err(|e| self.fail(e))?;
        let path = self.path.clone();
        let fail = |e: rusqlite::Error| ScanError::db(&path, e);
        let tx = self.conn.transaction().map_err(fail)?;
        tx.execute(
            "INSERT INTO scan (host, finished_at, new_count, diff, body) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![scan.host, scan.finished_at, d.new.len() as i64, diff_json, body],
        )
        .map_err(fail)?;
        let id = tx.last_insert_rowid();
        {
            let mut put = tx
                .prepare("INSERT INTO finding (scan, id, package, installed, fixed, severity) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
                .map_err(fail)?;
            for f in &scan.findings {
                put.execute(params![
                    id,
                    f.id,
                    f.package,
                    f.installed,
                    f.fixed,
                    f.severity.as_str()
                ])
                .map_err(fail)?;
            }
        }
        tx.commit().map_err(fail)?;
        Ok(d)
    }

    /// The scans of `host`, newest first.
    pub fn history(&self, host: &str, limit: usize) -> Result<Vec<ScanEntry>, ScanError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT s.id, s.finished_at, s.new_count, (SELECT COUNT(*) FROM finding f WHERE f.scan = s.id) \
                 FROM scan s WHERE s.host = ?1 ORDER BY s.id DESC LIMIT ?2",
            )
            .map_err(|e| self.fail(e))?;
        let rows = stmt
            .query_map(params![host, limit as i64], |r| {
                Ok(ScanEntry {
                    id: r.get(0)?,
                    finished_at: r.get(1)?,
                    new: usize::try_from(r.get::<_, i64>(2)?).unwrap_or(0),
                    findings: usize::try_from(r.get::<_, i64>(3)?).unwrap_or(0),
                })
            })
            .map_err(|e| self.fail(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.fail(e))
    }

    /// The diff stored with the latest scan of `host`.
    pub fn latest_diff(&self, host: &str) -> Result<Option<Diff>, ScanError> {
        let d: Option<String> = self
            .conn
            .query_row(
                "SELECT diff FROM scan WHERE host = ?1 ORDER BY id DESC LIMIT 1",
                params![host],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.fail(e))?;
        Ok(d.and_then(|d| serde_json::from_str(&d).ok()))
    }

    /// Every scanned host's latest scan, by host name.
    pub fn fleet(&self) -> Result<Vec<FleetRow>, ScanError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT s.host, s.new_count, s.body, s.id FROM scan s \
                 WHERE s.id = (SELECT MAX(id) FROM scan t WHERE t.host = s.host) ORDER BY s.host",
            )
            .map_err(|e| self.fail(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, i64>(3)?,
                ))
            })
            .map_err(|e| self.fail(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (host, new, body, scan_id) = row.map_err(|e| self.fail(e))?;
            let Ok(scan) = serde_json::from_str::<HostScan>(&body) else {
                continue;
            };
            out.push(FleetRow {
                host,
                scan_id,
                os: scan.os.as_ref().map(OsRelease::short_name),
                counts: scan.counts().to_vec(),
                config_findings: scan.config_findings.len(),
                reboot_required: scan.reboot_required,
                last_scan: scan.finished_at.clone(),
                new_since_last: usize::try_from(new).unwrap_or(0),
                errors: scan.errors.len(),
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::report::Finding;

    fn finding(id: &str, severity: Severity) -> Finding {
        Finding {
            id: id.into(),
            aliases: Vec::new(),
            package: "openssl".into(),
            binaries: vec!["libssl3".into()],
            installed: "1".into(),
            fixed: Some("2".into()),
            severity,
            summary: String::new(),
        }
    }

    fn scan(host: &str, ids: &[&str], suid: &[&str]) -> HostScan {
        HostScan {
            host: host.into(),
            finished_at: "2026-12-01T00:00:00Z".into(),
            packages: 100,
            reboot_required: host == "db1",
            findings: ids.iter().map(|i| finding(i, Severity::High)).collect(),
            suid_files: suid.iter().map(|s| s.to_string()).collect(),
            ..HostScan::default()
        }
    }

    #[test]
    fn the_fleet_shows_the_short_os_name() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("scans.sqlite")).unwrap();
        let mut s = scan("web1", &[], &[]);
        s.os = Some(OsRelease::parse(
            "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nID=debian\n",
        ));
        store.record(&mut s).unwrap();
        assert_eq!(store.fleet().unwrap()[0].os.as_deref(), Some("Debian 12"));
    }

    #[test]
    fn history_diffs_and_fleet() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("scans.sqlite")).unwrap();
        let d = store
            .record(&mut scan("db1", &["CVE-1", "CVE-2"], &["/usr/bin/su"]))
            .unwrap();
        assert!(!d.had_previous && d.new.is_empty());
        let mut second = scan("db1", &["CVE-2", "CVE-3"], &["/usr/bin/su", "/tmp/x"]);
        let d = store.record(&mut second).unwrap();
        let ids = |k: &[FindingKey]| k.iter().map(|k| k.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&d.new), ["CVE-3"]);
        assert_eq!(ids(&d.resolved), ["CVE-1"]);
        assert_eq!(d.suid_added, ["/tmp/x"]);
        assert!(
            second
                .config_findings
                .iter()
                .any(|c| c.check == "files.suid_new" && c.actual == "/tmp/x")
        );
        store.record(&mut scan("web1", &[], &[])).unwrap();
        let fleet = store.fleet().unwrap();
        assert_eq!(fleet.len(), 2);
        assert_eq!(fleet[0].host, "db1");
        assert_eq!(fleet[0].new_since_last, 1);
        assert!(fleet[0].reboot_required);
        assert_eq!(fleet[0].counts[1], (Severity::High, 2));
        assert_eq!(store.history("db1", 10).unwrap().len(), 2);
        assert_eq!(store.latest_diff("db1").unwrap().unwrap().new.len(), 1);
        let latest = store.latest("db1").unwrap().unwrap();
        assert!(latest.summary().contains("2 high"), "{}", latest.summary());
        // A scan whose package list failed resolves nothing.
        let mut failed = scan("db1", &[], &[]);
        failed.packages = 0;
        assert!(store.record(&mut failed).unwrap().resolved.is_empty());
    }
}
