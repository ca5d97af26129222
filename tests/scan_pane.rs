//! The scan-results pane on its own: the fleet, a host's findings (sorted, filtered), the
//! detail and history panels, progress, and what it says without data; keys and what they ask
//! of the app.
#![allow(clippy::unwrap_used)]

mod picker_support;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use lumen::panes::PaneView;
use lumen::panes::scan::{FixFilter, Panel, Row, ScanOutcome, ScanPane, SortKey, View};
use lumen::scan::history::{Diff, FindingKey, FleetRow, ScanEntry};
use lumen::scan::os::OsRelease;
use lumen::scan::report::{ConfigFinding, Finding, HostScan};
use lumen::scan::{HostRecord, OsvStatus, Severity, Snapshot, Step};
use lumen::ui::theme::Theme;
use picker_support::text;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

fn finding(
    id: &str,
    package: &str,
    binaries: &[&str],
    installed: &str,
    fixed: Option<&str>,
    severity: Severity,
) -> Finding {
    Finding {
        id: id.into(),
        aliases: vec![format!("DSA-{}", &id[id.len() - 4..])],
        package: package.into(),
        binaries: binaries.iter().map(|b| b.to_string()).collect(),
        installed: installed.into(),
        fixed: fixed.map(str::to_string),
        severity,
        summary: format!("{package}: a flaw lets a remote attacker do harm ({id})"),
    }
}

fn web1() -> HostRecord {
    let scan = HostScan {
        host: "web1".into(),
        started_at: "2026-12-01T14:02:10Z".into(),
        finished_at: "2026-12-01T14:03:22Z".into(),
        os: Some(OsRelease::parse(
            "ID=debian\nVERSION_ID=\"12\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n",
        )),
        ecosystem: Some("Debian:12".into()),
        kernel: Some("6.1.0-18-amd64".into()),
        arch: Some("x86_64".into()),
        reboot_required: true,
        reboot_reasons: vec!["/var/run/reboot-required".into()],
        packages: 412,
        security_updates: Some(3),
        findings: vec![
            finding(
                "CVE-2024-0727",
                "openssl",
                &["libssl3", "openssl"],
                "3.0.11-1~deb12u2",
                Some("3.0.13-1~deb12u1"),
                Severity::High,
            ),
            finding(
                "CVE-2023-45853",
                "zlib",
                &["zlib1g"],
                "1:1.2.13.dfsg-1",
                None,
                Severity::Critical,
            ),
            finding(
                "CVE-2024-2398",
                "curl",
                &["curl", "libcurl4"],
                "7.88.1-10+deb12u5",
                Some("7.88.1-10+deb12u6"),
                Severity::Medium,
            ),
            finding(
                "CVE-2023-7008",
                "systemd",
                &["systemd", "libsystemd0"],
                "252.22-1~deb12u1",
                Some("252.23-1~deb12u1"),
                Severity::Low,
            ),
        ],
        config_findings: vec![ConfigFinding {
            check: "sshd.permit_root_login".into(),
            title: "root can log in over SSH".into(),
            severity: Severity::High,
            expected: "PermitRootLogin no".into(),
            actual: "PermitRootLogin yes".into(),
            fix: "set PermitRootLogin no in /etc/ssh/sshd_config, then reload sshd".into(),
        }],
        errors: vec!["time synchronisation: unknown (ended with status 127)".into()],
        ..HostScan::default()
    };
    let key = |id: &str, package: &str| FindingKey {
        id: id.into(),
        package: package.into(),
    };
    HostRecord {
        diff: Diff {
            had_previous: true,
            new: vec![key("CVE-2024-2398", "curl")],
            resolved: vec![key("CVE-2023-5678", "openssl")],
            ..Diff::default()
        },
        history: vec![
            ScanEntry {
                id: 2,
                finished_at: "2026-12-01T14:03:22Z".into(),
                findings: 4,
                new: 1,
            },
            ScanEntry {
                id: 1,
                finished_at: "2026-11-28T09:00:00Z".into(),
                findings: 4,
                new: 0,
            },
        ],
        scan,
    }
}

fn fleet() -> Vec<FleetRow> {
    vec![
        FleetRow {
            host: "db1".into(),
            scan_id: 1,
            os: Some("Rocky 9.3".into()),
            counts: vec![
                (Severity::Critical, 0),
                (Severity::High, 2),
                (Severity::Medium, 0),
                (Severity::Low, 1),
                (Severity::Unknown, 0),
            ],
            config_findings: 5,
            reboot_required: false,
            last_scan: "2026-11-30T22:15:00Z".into(),
            new_since_last: 0,
            errors: 0,
        },
        FleetRow {
            host: "web1".into(),
            scan_id: 2,
            os: Some("Debian 12".into()),
            counts: vec![
                (Severity::Critical, 1),
                (Severity::High, 1),
                (Severity::Medium, 1),
                (Severity::Low, 1),
                (Severity::Unknown, 0),
            ],
            config_findings: 1,
            reboot_required: true,
            last_scan: "2026-12-01T14:03:22Z".into(),
            new_since_last: 1,
            errors: 1,
        },
    ]
}

fn imported() -> OsvStatus {
    OsvStatus::Imported {
        date: time::macros::date!(2026 - 11 - 30),
        records: 41210,
        stale: None,
    }
}

fn snapshot(host: Option<HostRecord>) -> Snapshot {
    Snapshot {
        fleet: fleet(),
        host,
        osv: imported(),
    }
}

fn host_pane(w: u16, h: u16) -> ScanPane {
    let mut p = ScanPane::new(Some("web1".into()));
    p.resize(w, h);
    p.loaded(Some("web1"), snapshot(Some(web1())));
    p
}

fn key(p: &mut ScanPane, code: KeyCode) -> ScanOutcome {
    p.handle_key(&KeyEvent::new(code, KeyModifiers::NONE))
}

fn typ(p: &mut ScanPane, s: &str) {
    for c in s.chars() {
        key(p, KeyCode::Char(c));
    }
}

fn draw(p: &ScanPane, w: u16, h: u16) -> Buffer {
    let area = Rect::new(0, 0, w, h);
    let mut buf = Buffer::empty(area);
    p.render(area, &mut buf, &Theme::builtin());
    buf
}

fn screen(p: &ScanPane, w: u16, h: u16) -> String {
    text(&draw(p, w, h))
}

/// The IDs (package findings) and checks (configuration) in the order shown.
fn shown(p: &ScanPane) -> Vec<String> {
    let record = p.record().unwrap();
    p.rows()
        .iter()
        .map(|r| match r {
            Row::Finding(i) => record.scan.findings[*i].id.clone(),
            Row::Config(i) => record.scan.config_findings[*i].check.clone(),
            Row::Note(i) => format!("note {i}"),
        })
        .collect()
}

#[test]
fn snapshot_fleet() {
    let mut p = ScanPane::new(None);
    p.resize(110, 12);
    p.loaded(None, snapshot(None));
    p.started("cache1");
    p.progress(
        "cache1",
        Step {
            number: 3,
            what: "packages".into(),
        },
    );
    insta::assert_snapshot!("fleet", screen(&p, 110, 12));
}

#[test]
fn snapshot_host_view() {
    let p = host_pane(100, 20);
    insta::assert_snapshot!("host_view", screen(&p, 100, 20));
}

/// The OS is named short (`Debian 12`, not `Debian GNU/Linux 12 (bookworm)`) even with room
/// to spare; at 80 columns what does not fit ends in `…` rather than a cut word.
#[test]
fn snapshot_host_view_160_and_80_columns() {
    let wide = screen(&host_pane(160, 20), 160, 20);
    assert!(
        wide.contains(" · Debian 12 · kernel 6.1.0-18-amd64"),
        "{wide}"
    );
    assert!(!wide.contains("GNU/Linux"), "{wide}");
    insta::assert_snapshot!("host_view_160", wide);
    let narrow = screen(&host_pane(80, 24), 80, 24);
    assert!(!narrow.contains("GNU/Linux"), "{narrow}");
    // Each line that reaches the right edge was cut, and says so.
    let cut: Vec<&str> = narrow
        .lines()
        .filter(|l| l.chars().count() >= 80 && !l.ends_with('…'))
        .collect();
    assert!(cut.is_empty(), "cut with no ellipsis: {cut:#?}\n{narrow}");
    assert!(narrow.contains('…'), "{narrow}");
    insta::assert_snapshot!("host_view_80", narrow);
}

/// Snapshots are read on other threads and may arrive out of order: two scans ending together,
/// or a load begun before a scan was saved. One read before web1's scan was saved, arriving
/// after the one read after it, must not hide that scan (e2e_demo_vault saw this once).
#[test]
fn a_stale_snapshot_arriving_late_does_not_hide_a_newer_scan() {
    let mut p = ScanPane::new(None);
    p.resize(110, 12);
    let fresh = snapshot(None);
    let mut stale = snapshot(None);
    stale.fleet.retain(|r| r.host != "web1");
    stale.fleet[0].scan_id = 0;
    p.finished("web1", Ok(fresh));
    p.finished("db1", Ok(stale));
    let s = screen(&p, 110, 12);
    assert!(s.contains("scan results · 2 hosts"), "{s}");
    assert!(!s.contains("not scanned yet"), "{s}");
    // The newer row of each host stays, whatever order the snapshots came in.
    let mut newer = snapshot(None);
    newer.fleet[0].scan_id = 3;
    newer.fleet[0].config_findings = 9;
    p.loaded(None, newer);
    let mut older = snapshot(None);
    older.fleet[0].config_findings = 5;
    p.loaded(None, older);
    let db1 = p.fleet().iter().find(|r| r.host == "db1").unwrap();
    assert_eq!((db1.scan_id, db1.config_findings), (3, 9));
}

/// One host is "1 host".
#[test]
fn one_host_is_singular() {
    let mut p = ScanPane::new(None);
    p.resize(110, 12);
    let mut one = snapshot(None);
    one.fleet.truncate(1);
    p.loaded(None, one);
    let s = screen(&p, 110, 12);
    assert!(s.contains("scan results · 1 host"), "{s}");
    assert!(!s.contains("1 hosts"), "{s}");
}

#[test]
fn snapshot_detail_panel() {
    let mut p = host_pane(100, 24);
    key(&mut p, KeyCode::Down); // the high openssl finding, below the critical one
    key(&mut p, KeyCode::Enter);
    assert_eq!(p.panel(), Panel::Detail);
    insta::assert_snapshot!("detail", screen(&p, 100, 24));
    assert_eq!(
        key(&mut p, KeyCode::Char('y')),
        ScanOutcome::Copy("sudo apt-get install --only-upgrade libssl3 openssl".into())
    );
}

#[test]
fn snapshot_config_detail_and_history() {
    let mut p = host_pane(100, 24);
    key(&mut p, KeyCode::End);
    key(&mut p, KeyCode::Up); // the configuration finding, above the note
    key(&mut p, KeyCode::Enter);
    let detail = screen(&p, 100, 24);
    assert!(detail.contains("expected  PermitRootLogin no"), "{detail}");
    assert!(detail.contains("found     PermitRootLogin yes"), "{detail}");
    assert!(
        detail.contains("to fix    set PermitRootLogin no"),
        "{detail}"
    );
    key(&mut p, KeyCode::Char('h'));
    assert_eq!(p.panel(), Panel::History);
    insta::assert_snapshot!("history", screen(&p, 100, 24));
}

#[test]
fn snapshot_filtered() {
    let mut p = host_pane(100, 14);
    key(&mut p, KeyCode::Char('/'));
    typ(&mut p, "lib");
    key(&mut p, KeyCode::Enter);
    key(&mut p, KeyCode::Char('x')); // fixable only
    assert_eq!(p.query().fix, FixFilter::Fixable);
    insta::assert_snapshot!("filtered", screen(&p, 100, 14));
}

#[test]
fn snapshot_no_data_and_never_scanned() {
    let mut p = ScanPane::new(Some("new-host".into()));
    p.loaded(
        Some("new-host"),
        Snapshot {
            fleet: Vec::new(),
            host: None,
            osv: OsvStatus::Missing,
        },
    );
    insta::assert_snapshot!("never_scanned_no_osv", screen(&p, 90, 16));
    let mut fleet = ScanPane::new(None);
    fleet.loaded(
        None,
        Snapshot {
            fleet: Vec::new(),
            host: None,
            osv: OsvStatus::Missing,
        },
    );
    insta::assert_snapshot!("empty_fleet", screen(&fleet, 90, 14));
}

#[test]
fn sort_keys_cycle_and_reverse() {
    let mut p = host_pane(100, 20);
    assert_eq!(p.query().sort, SortKey::Severity);
    assert_eq!(
        shown(&p),
        [
            "CVE-2023-45853",
            "CVE-2024-0727",
            "CVE-2024-2398",
            "CVE-2023-7008",
            "sshd.permit_root_login",
            "note 0"
        ]
    );
    key(&mut p, KeyCode::Char('o'));
    assert_eq!(p.query().sort, SortKey::Package);
    assert_eq!(
        shown(&p)[..4],
        [
            "CVE-2024-2398",
            "CVE-2024-0727",
            "CVE-2023-7008",
            "CVE-2023-45853"
        ]
    );
    key(&mut p, KeyCode::Char('o'));
    key(&mut p, KeyCode::Char('O'));
    assert_eq!(p.query().sort, SortKey::Id);
    assert_eq!(
        shown(&p)[..4],
        [
            "CVE-2024-2398",
            "CVE-2024-0727",
            "CVE-2023-7008",
            "CVE-2023-45853"
        ]
    );
    let screen = screen(&p, 100, 20);
    assert!(screen.contains("sort id ▲"), "{screen}");
}

#[test]
fn filters_by_severity_fix_and_new() {
    let mut p = host_pane(100, 20);
    key(&mut p, KeyCode::Char('v'));
    key(&mut p, KeyCode::Char('v'));
    key(&mut p, KeyCode::Char('v'));
    assert_eq!(p.query().min_severity, Some(Severity::High));
    assert_eq!(
        shown(&p),
        ["CVE-2023-45853", "CVE-2024-0727", "sshd.permit_root_login"]
    );
    key(&mut p, KeyCode::Char('x'));
    key(&mut p, KeyCode::Char('x'));
    assert_eq!(p.query().fix, FixFilter::Unfixed);
    assert_eq!(shown(&p), ["CVE-2023-45853"], "no fix yet, shown apart");
    key(&mut p, KeyCode::Char('x'));
    key(&mut p, KeyCode::Char('v'));
    key(&mut p, KeyCode::Char('v'));
    assert_eq!(p.query().min_severity, None);
    key(&mut p, KeyCode::Char('n'));
    assert_eq!(shown(&p), ["CVE-2024-2398"]);
}

#[test]
fn the_selection_follows_its_finding_through_a_resort() {
    let mut p = host_pane(100, 20);
    key(&mut p, KeyCode::Down);
    assert_eq!(p.selected_finding().unwrap().id, "CVE-2024-0727");
    key(&mut p, KeyCode::Char('o'));
    assert_eq!(p.selected_finding().unwrap().id, "CVE-2024-0727");
    // A new scan of the host keeps it selected too.
    p.finished("web1", Ok(snapshot(Some(web1()))));
    assert_eq!(p.selected_finding().unwrap().id, "CVE-2024-0727");
}

#[test]
fn filter_typing_esc_clears_and_cursor_follows() {
    let mut p = host_pane(100, 20);
    assert_eq!(p.cursor(), None);
    key(&mut p, KeyCode::Char('/'));
    assert_eq!(PaneView::mode(&p), Some("FILTER"));
    typ(&mut p, "curl");
    assert_eq!(shown(&p), ["CVE-2024-2398"]);
    let (x, y) = p.cursor().unwrap();
    assert_eq!(y, 2, "the query line");
    let line = screen(&p, 100, 20).lines().nth(2).unwrap().to_string();
    assert_eq!(
        line[..line.find("curl").unwrap()].chars().count() + 4,
        usize::from(x),
        "{line}"
    );
    // `s` typed into the filter is text, not a scan.
    assert_eq!(key(&mut p, KeyCode::Char('s')), ScanOutcome::None);
    assert_eq!(p.filter_text(), "curls");
    key(&mut p, KeyCode::Esc);
    assert_eq!(p.filter_text(), "");
    assert_eq!(shown(&p).len(), 6);
}

#[test]
fn keys_ask_the_app_to_scan_load_and_go_back() {
    let mut p = host_pane(100, 20);
    assert_eq!(
        key(&mut p, KeyCode::Char('s')),
        ScanOutcome::Scan("web1".into())
    );
    assert_eq!(
        key(&mut p, KeyCode::Char('r')),
        ScanOutcome::Load(Some("web1".into()))
    );
    // Esc closes the panel first, then goes back to the fleet.
    key(&mut p, KeyCode::Enter);
    assert_eq!(key(&mut p, KeyCode::Esc), ScanOutcome::None);
    assert_eq!(p.panel(), Panel::None);
    assert_eq!(key(&mut p, KeyCode::Esc), ScanOutcome::Load(None));
    assert_eq!(p.view(), &View::Fleet);
    p.loaded(None, snapshot(None));
    assert_eq!(p.fleet_host().as_deref(), Some("db1"));
    key(&mut p, KeyCode::Down);
    assert_eq!(
        key(&mut p, KeyCode::Char('s')),
        ScanOutcome::Scan("web1".into())
    );
    assert_eq!(
        key(&mut p, KeyCode::Enter),
        ScanOutcome::Load(Some("web1".into()))
    );
    assert_eq!(p.view(), &View::Host("web1".into()));
    assert!(p.is_loading());
}

#[test]
fn progress_then_failure_show_in_the_host_view() {
    let mut p = host_pane(100, 20);
    p.started("web1");
    assert!(screen(&p, 100, 20).contains("⟳ scanning web1: connecting…"));
    assert_eq!(PaneView::mode(&p), Some("SCANNING"));
    p.progress(
        "web1",
        Step {
            number: 4,
            what: "sshd settings".into(),
        },
    );
    assert!(screen(&p, 100, 20).contains("⟳ scanning web1: step 4 · sshd settings"));
    p.finished(
        "web1",
        Err("authentication failed for ops@10.0.0.11 (tried publickey)".into()),
    );
    let s = screen(&p, 100, 20);
    assert!(
        s.contains("✗ the last scan failed: authentication failed"),
        "{s}"
    );
    assert!(
        s.contains("CVE-2024-0727"),
        "the previous findings stay: {s}"
    );
    assert!(!p.is_running("web1"));
}

#[test]
fn stale_osv_data_is_said() {
    let mut p = ScanPane::new(None);
    let mut snap = snapshot(None);
    snap.osv = OsvStatus::Imported {
        date: time::macros::date!(2026 - 10 - 01),
        records: 10,
        stale: Some("the OSV data was imported 61 days ago (2026-10-01); newer advisories are missing: run `lumen scan db import` with a fresh all.zip".into()),
    };
    p.loaded(None, snap);
    let s = screen(&p, 100, 12);
    assert!(s.contains("imported 61 days ago"), "{s}");
}

#[test]
fn the_fleet_lists_known_hosts_never_scanned_and_s_scans_one() {
    let mut fleet = ScanPane::new(None);
    fleet.set_known_hosts(vec!["web1".into(), "db1".into()]);
    fleet.loaded(
        None,
        Snapshot {
            fleet: Vec::new(),
            host: None,
            osv: OsvStatus::Missing,
        },
    );
    let s = screen(&fleet, 90, 14);
    assert!(s.contains("0 of 2 hosts scanned"), "{s}");
    assert!(!s.contains("No host has been scanned"), "{s}");
    assert_eq!(
        s.lines().filter(|l| l.contains("not scanned yet")).count(),
        2,
        "{s}"
    );
    key(&mut fleet, KeyCode::Char('j'));
    assert_eq!(
        key(&mut fleet, KeyCode::Char('s')),
        ScanOutcome::Scan("db1".into())
    );
}
