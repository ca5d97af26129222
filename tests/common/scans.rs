//! Scans for app tests: a workspace whose scans.sqlite already holds scans of a host, and
//! a session pane to that host.

use lumen::app::PaneSpec;
use lumen::scan::os::OsRelease;
use lumen::scan::report::{Finding, HostScan};
use lumen::scan::{ScanSetup, Severity, Store};
use lumen::ssh::Target;

/// A workspace whose history holds two scans of web1 (the second finds a new CVE).
pub fn scanned_workspace() -> (tempfile::TempDir, ScanSetup) {
    let dir = tempfile::tempdir().unwrap();
    let setup = ScanSetup {
        db: dir.path().join("scans.sqlite"),
        ignore: dir.path().join("scan-ignore.toml"),
        osv: lumen::scan::OsvSource::Imported,
        sudo: false,
    };
    let mut store = Store::open(&setup.db).unwrap();
    let scan = |ids: &[&str], at: &str| HostScan {
        host: "web1".into(),
        finished_at: at.into(),
        os: Some(OsRelease::parse(
            "ID=debian\nVERSION_ID=\"12\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n",
        )),
        kernel: Some("6.1.0-18-amd64".into()),
        packages: 300,
        findings: ids
            .iter()
            .map(|id| Finding {
                id: id.to_string(),
                aliases: Vec::new(),
                package: "openssl".into(),
                binaries: vec!["libssl3".into()],
                installed: "3.0.11-1".into(),
                fixed: Some("3.0.13-1".into()),
                severity: Severity::High,
                summary: "a flaw".into(),
            })
            .collect(),
        ..HostScan::default()
    };
    store
        .record(&mut scan(&["CVE-2024-0001"], "2026-11-01T10:00:00Z"))
        .unwrap();
    store
        .record(&mut scan(
            &["CVE-2024-0001", "CVE-2024-0727"],
            "2026-12-01T10:00:00Z",
        ))
        .unwrap();
    (dir, setup)
}

pub fn session(name: &str) -> PaneSpec {
    PaneSpec::Ssh {
        name: name.into(),
        target: Target::new("ops", "10.0.0.11", 22),
        plan: None,
    }
}
