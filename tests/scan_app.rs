//! The scan-results pane in the app: prefix S on a session (or the copilot beside it) opens its
//! host's results, Ctrl-s or prefix S in the host list the selected host's, prefix S elsewhere
//! the fleet, with the workspace's hosts never scanned; the data is
//! loaded off the UI task from the workspace's scans.sqlite; the last scan's summary is there
//! for the copilot.
#![allow(clippy::unwrap_used)]

mod common;

use common::app::{app_spec_with, screen, settle};
use common::scans::{scanned_workspace as workspace, session};
use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use lumen::app::keymap::Action;
use lumen::app::{App, PaneSpec};
use lumen::panes::Pane;
use lumen::panes::scan::{ScanPane, View};

fn key(app: &mut App, code: KeyCode, m: KeyModifiers) {
    app.handle_event(Event::Key(KeyEvent::new(code, m)));
}

fn prefix(app: &mut App, c: char) {
    key(app, KeyCode::Char('b'), KeyModifiers::CONTROL);
    key(app, KeyCode::Char(c), KeyModifiers::NONE);
}

fn scan_pane(app: &App) -> &ScanPane {
    let id = app.focused().unwrap();
    match &app.panes[&id].pane {
        Pane::Scan(p) => p,
        _ => panic!("the focused pane is not the scan pane:\n{}", screen(app)),
    }
}

#[test]
fn prefix_s_on_a_session_opens_its_hosts_results() {
    let (_dir, setup) = workspace();
    let (mut app, _b, _) = app_spec_with(110, 30, session("web1"), |o| o.scans = Some(setup));
    prefix(&mut app, 'S');
    assert_eq!(app.tabs.len(), 2, "the pane opens as a tab");
    assert!(scan_pane(&app).is_loading());
    assert!(settle(&mut app).is_empty());
    let p = scan_pane(&app);
    assert_eq!(p.view(), &View::Host("web1".into()));
    assert_eq!(p.record().unwrap().scan.findings.len(), 2);
    let s = screen(&app);
    assert!(s.contains("1:scans*"), "{s}");
    assert!(s.contains("CVE-2024-0727"), "{s}");
    assert!(
        s.contains("1 new, 0 resolved since the previous scan"),
        "{s}"
    );
    // Again from the scan pane: it stays on its host (and reloads); a second pane is not made.
    prefix(&mut app, 'S');
    settle(&mut app);
    assert_eq!(app.tabs.len(), 2);
    assert_eq!(scan_pane(&app).view(), &View::Host("web1".into()));
    // Esc goes back to the fleet.
    key(&mut app, KeyCode::Esc, KeyModifiers::NONE);
    settle(&mut app);
    let s = screen(&app);
    assert!(s.contains("scan results · 1 host "), "{s}");
    assert!(s.contains("web1"), "{s}");
}

#[test]
fn prefix_s_elsewhere_opens_the_fleet() {
    let (_dir, setup) = workspace();
    let (mut app, _b, _) = app_spec_with(110, 30, PaneSpec::LocalShell, |o| o.scans = Some(setup));
    prefix(&mut app, 'S');
    settle(&mut app);
    assert_eq!(scan_pane(&app).view(), &View::Fleet);
    let s = screen(&app);
    assert!(s.contains("web1") && s.contains("+1"), "{s}");
    // Enter opens the selected host.
    key(&mut app, KeyCode::Enter, KeyModifiers::NONE);
    settle(&mut app);
    assert_eq!(scan_pane(&app).view(), &View::Host("web1".into()));
    assert!(screen(&app).contains("CVE-2024-0001"));
}

#[test]
fn ctrl_s_in_the_host_list_opens_the_selected_hosts_results() {
    let (_dir, setup) = workspace();
    let dir = tempfile::tempdir().unwrap();
    let hosts = dir.path().join("hosts.toml");
    std::fs::write(
        &hosts,
        "[hosts.db1]\nhostname = \"10.0.0.2\"\n\n[hosts.web1]\nhostname = \"10.0.0.1\"\n",
    )
    .unwrap();
    let (inventory, err) = lumen::workspace::load_or_report(&hosts);
    assert!(err.is_none());
    let (mut app, _b, _) = app_spec_with(110, 30, PaneSpec::LocalShell, |o| {
        o.scans = Some(setup);
        o.inventory = inventory;
    });
    prefix(&mut app, 'h');
    assert!(screen(&app).contains("Ctrl-s scans"), "the picker says so");
    key(&mut app, KeyCode::Down, KeyModifiers::NONE); // db1, web1: web1
    key(&mut app, KeyCode::Char('s'), KeyModifiers::CONTROL);
    settle(&mut app);
    assert_eq!(scan_pane(&app).view(), &View::Host("web1".into()));
    assert!(screen(&app).contains("CVE-2024-0727"));
    // db1 was never scanned: the pane says how to scan it.
    prefix(&mut app, 'h');
    key(&mut app, KeyCode::Up, KeyModifiers::NONE);
    key(&mut app, KeyCode::Char('s'), KeyModifiers::CONTROL);
    settle(&mut app);
    assert_eq!(app.tabs.len(), 3, "the one scan pane is reused");
    let s = screen(&app);
    assert!(s.contains("db1 has not been scanned yet"), "{s}");
    assert!(s.contains("No OSV data imported"), "{s}");
}

#[test]
fn scanning_without_ssh_says_why() {
    let (_dir, setup) = workspace();
    let (mut app, _b, _) = app_spec_with(110, 30, session("web1"), |o| o.scans = Some(setup));
    prefix(&mut app, 'S');
    settle(&mut app);
    key(&mut app, KeyCode::Char('s'), KeyModifiers::NONE);
    assert!(
        app.take_effects().is_empty(),
        "no connector: nothing is started"
    );
    let m = app.message.as_ref().unwrap();
    assert!(m.error && m.text.contains("scanning needs SSH"), "{m:?}");
    assert!(!scan_pane(&app).is_running("web1"));
}

#[test]
fn no_workspace_no_pane() {
    let (mut app, _b, _) = app_spec_with(110, 30, PaneSpec::LocalShell, |_| {});
    prefix(&mut app, 'S');
    assert_eq!(app.tabs.len(), 1);
    assert!(app.message.as_ref().unwrap().text.contains("no workspace"));
}

#[test]
fn the_copilot_gets_the_last_scans_summary() {
    let (_dir, setup) = workspace();
    let (app, _b, _) = app_spec_with(110, 30, session("web1"), |o| o.scans = Some(setup));
    let summary = app.last_scan_summary("web1").unwrap();
    assert!(summary.contains("Debian GNU/Linux 12"), "{summary}");
    assert!(summary.contains("vulnerable packages: 2 high"), "{summary}");
    assert!(summary.contains("CVE-2024-0727"), "{summary}");
    assert_eq!(app.last_scan_summary("db1"), None);
}

#[test]
fn the_action_is_in_the_table_help_and_palette() {
    assert_eq!(Action::from_name("scan_results"), Some(Action::ScanResults));
    assert_eq!(Action::ScanResults.default_keys(), ["S"]);
    let (mut app, _b, _) = app_spec_with(110, 60, PaneSpec::LocalShell, |_| {});
    prefix(&mut app, '?');
    let line = "scan results: findings per host";
    let mut seen = false;
    for _ in 0..40 {
        let s = screen(&app);
        if let Some(l) = s.lines().find(|l| l.contains(line)) {
            assert!(l.contains(" S "), "{l}");
            seen = true;
            break;
        }
        key(&mut app, KeyCode::Down, KeyModifiers::NONE);
    }
    assert!(seen, "the help lists the action");
}

/// Prefix S from any pane: the copilot means the session it sits beside, the host list its
/// selected host; where no host is in sight, the fleet, which lists the workspace's hosts
/// never scanned (so `s` can scan them from there).
#[test]
fn prefix_s_from_any_pane_opens_the_host_in_sight() {
    let (_dir, setup) = workspace();
    let (mut app, _b, _) = app_spec_with(110, 30, session("db1"), |o| {
        o.scans = Some(setup);
        o.inventory = lumen::workspace::Inventory {
            hosts: ["db1", "cache1"]
                .map(|name| lumen::workspace::Host {
                    name: name.into(),
                    hostname: Some("10.0.0.9".into()),
                    ..Default::default()
                })
                .into(),
            ..Default::default()
        };
    });
    prefix(&mut app, 'a');
    assert!(matches!(
        app.panes[&app.focused().unwrap()].pane,
        Pane::Copilot(_)
    ));
    prefix(&mut app, 'S');
    settle(&mut app);
    assert_eq!(scan_pane(&app).view(), &View::Host("db1".into()));
    app.open_hosts();
    let selected = match &app.panes[&app.focused().unwrap()].pane {
        Pane::Hosts(p) => p.selected_entry().unwrap().1.name.clone(),
        _ => panic!("the host list is not focused"),
    };
    prefix(&mut app, 'S');
    settle(&mut app);
    assert_eq!(scan_pane(&app).view(), &View::Host(selected));
    app.new_tab(PaneSpec::LocalShell);
    prefix(&mut app, 'S');
    settle(&mut app);
    assert_eq!(scan_pane(&app).view(), &View::Fleet);
    let s = screen(&app);
    assert!(s.contains("1 of 3 hosts scanned"), "{s}");
    let cache1 = s.lines().find(|l| l.contains("cache1")).unwrap();
    assert!(cache1.contains("not scanned yet"), "{s}");
}
