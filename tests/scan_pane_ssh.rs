//! End to end: a session to a host (lumen's embedded SSH server answering the scan's commands
//! with a Rocky Linux 9 host's recorded output), then prefix S and `s` in the scan pane. The
//! scan runs in the background over the session's shared connection: the pane shows its
//! progress, then the findings matched against imported OSV data, and the server saw one login
//! for the session and the scans together.
#![allow(clippy::unwrap_used)]

mod common;

use common::app::{screen, settle_async};
use common::fake_host::{fixture_dir, recorded};
use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use lumen::app::{App, AppOptions, Effect, LiveSpawner, PaneSpec};
use lumen::panes::Pane;
use lumen::panes::scan::ScanPane;
use lumen::pty::PtyCommand;
use lumen::scan::{OsvDb, ScanSetup};
use lumen::ssh::{Connector, EmbeddedServer, EmbeddedServerOptions, Prompter};
use serde_json::json;
use std::collections::HashMap;
use std::time::Duration;

/// Each recorded command answers after this long, so the scan has steps to watch.
const COMMAND_DELAY: Duration = Duration::from_millis(40);
const SETTLE: Duration = Duration::from_secs(20);

fn key(app: &mut App, code: KeyCode, m: KeyModifiers) {
    app.handle_event(Event::Key(KeyEvent::new(code, m)));
}

fn prefix(app: &mut App, c: char) {
    key(app, KeyCode::Char('b'), KeyModifiers::CONTROL);
    key(app, KeyCode::Char(c), KeyModifiers::NONE);
}

fn typ(app: &mut App, text: &str) {
    for c in text.chars() {
        key(app, KeyCode::Char(c), KeyModifiers::NONE);
    }
}

fn scan_pane(app: &App) -> &ScanPane {
    app.panes
        .values()
        .find_map(|s| match &s.pane {
            Pane::Scan(p) => Some(p.as_ref()),
            _ => None,
        })
        .unwrap()
}

/// Pump the app (session bytes) until `done` holds.
async fn pump_until(app: &mut App, what: &str, mut done: impl FnMut(&App) -> bool) {
    let deadline = tokio::time::Instant::now() + SETTLE;
    loop {
        while app.pump() {}
        if done(app) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}:\n{}",
            screen(app)
        );
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
}

fn session_text(app: &App) -> String {
    app.tabs[0]
        .layout
        .panes()
        .iter()
        .filter_map(|id| app.panes[id].pane.as_terminal())
        .map(|t| t.screen_text())
        .collect()
}

/// OSV records for two of the recorded Rocky packages (one fixed upstream, one not yet).
fn import_osv(db: &std::path::Path, dir: &std::path::Path) {
    let osv = dir.join("osv");
    std::fs::create_dir_all(&osv).unwrap();
    let records = [
        json!({"id": "RLSA-2024:0256", "summary": "openssl: denial of service in PKCS12 parsing",
               "aliases": ["CVE-2024-0727"],
               "affected": [{"package": {"ecosystem": "Rocky Linux:9", "name": "openssl-libs"},
                   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1:3.0.7-25.el9_3"}]}]}],
               "database_specific": {"severity": "Moderate"}}),
        json!({"id": "RLSA-2023:0001", "summary": "bash: a flaw",
               "affected": [{"package": {"ecosystem": "Rocky Linux:9", "name": "bash"},
                   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "5.1.8-2.el9"}]}]}]}),
    ];
    for (i, r) in records.iter().enumerate() {
        std::fs::write(osv.join(format!("{i}.json")), r.to_string()).unwrap();
    }
    OsvDb::open(db).unwrap().import(&osv).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn scanning_the_focused_host_shares_the_sessions_login() {
    let server = EmbeddedServer::start(EmbeddedServerOptions {
        shell: PtyCommand::new("/bin/sh"),
        canned: Some(recorded(
            &fixture_dir("rocky9"),
            COMMAND_DELAY,
            HashMap::new(),
        )),
        ..Default::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let opts = server
        .client_options(&dir.path().join("known_hosts"))
        .unwrap();
    let connector = Connector::new(opts, Prompter::none());
    let setup = ScanSetup {
        db: dir.path().join("scans.sqlite"),
        ignore: dir.path().join("scan-ignore.toml"),
        osv: lumen::scan::OsvSource::Imported,
        sudo: false,
    };
    import_osv(&setup.db, dir.path());
    let mut options = AppOptions::new(Box::new(LiveSpawner::new(
        PtyCommand::new("/bin/sh"),
        connector.clone(),
    )));
    options.size = (120, 40);
    options.connector = Some(connector.clone());
    options.scans = Some(setup);
    let mut app = App::new(options);
    app.new_tab(PaneSpec::Ssh {
        name: "rocky".into(),
        target: server.target(None),
        plan: None,
    });
    typ(&mut app, "echo hi-$((6*7))\r");
    pump_until(&mut app, "the session", |app| {
        session_text(app).contains("hi-42")
    })
    .await;
    assert_eq!(server.logins(), 1);

    prefix(&mut app, 'S');
    settle_async(&mut app, |_| {}).await;
    let s = screen(&app);
    assert!(s.contains("rocky has not been scanned yet"), "{s}");

    key(&mut app, KeyCode::Char('s'), KeyModifiers::NONE);
    assert!(
        scan_pane(&app).is_running("rocky"),
        "the pane knows at once"
    );
    let mut progress = Vec::new();
    let others = settle_async(&mut app, |app| {
        if let Some(step) = scan_pane(app).running("rocky").and_then(|r| r.step.clone()) {
            let s = screen(app);
            let line = s
                .lines()
                .find(|l| l.contains("⟳ scanning rocky"))
                .unwrap_or_else(|| panic!("the progress is shown:\n{s}"))
                .trim()
                .to_string();
            assert!(line.contains(&step.what), "{line}");
            progress.push(line);
        }
    })
    .await;
    assert!(others.is_empty(), "{others:?}");
    assert!(
        progress.iter().any(|l| l.contains(" · packages")),
        "{progress:#?}"
    );
    assert!(
        progress
            .last()
            .is_some_and(|l| l.contains("matching packages, saving the scan")),
        "{progress:#?}"
    );
    let s = screen(&app);
    assert!(!scan_pane(&app).is_running("rocky"));
    for want in [
        "⟳ reboot needed",
        "Rocky 9.3",
        "first scan",
        // The advisory names one CVE: the finding goes by it, the advisory is an alias.
        "CVE-2024-0727",
        "openssl-libs",
        "1:3.0.7-24.el9",
        "1:3.0.7-25.el9_3",
        "sshd.permit_root_login",
    ] {
        assert!(s.contains(want), "{want} is shown:\n{s}");
    }
    assert!(
        !s.contains("RLSA-2023:0001"),
        "bash is fixed on the host:\n{s}"
    );
    assert!(
        app.message
            .as_ref()
            .unwrap()
            .text
            .contains("scan of rocky done: 1 vulnerable package,"),
        "{:?}",
        app.message
    );

    // The scan rode the session's connection: still one login, one connection.
    assert_eq!(server.logins(), 1, "one login for the session and the scan");
    assert_eq!(connector.open_connections(), 1);

    // The detail panel offers the distro's upgrade command.
    key(&mut app, KeyCode::Enter, KeyModifiers::NONE);
    let s = screen(&app);
    assert!(s.contains("aliases   RLSA-2024:0256"), "{s}");
    assert!(s.contains("sudo dnf upgrade openssl-libs"), "{s}");

    // A second scan: the history says nothing changed; still the one login.
    key(&mut app, KeyCode::Char('s'), KeyModifiers::NONE);
    settle_async(&mut app, |_| {}).await;
    let s = screen(&app);
    assert!(
        s.contains("0 new, 0 resolved since the previous scan"),
        "{s}"
    );
    assert_eq!(server.logins(), 1);
    let summary = app.last_scan_summary("rocky").unwrap();
    assert!(
        summary.contains("CVE-2024-0727 in openssl-libs"),
        "{summary}"
    );

    // The session is still there and answers.
    app.run_action(lumen::app::keymap::Action::GoToTab0);
    typ(&mut app, "echo again-$((7*6))\r");
    pump_until(&mut app, "the session again", |app| {
        session_text(app).contains("again-42")
    })
    .await;
    assert!(!matches!(
        app.take_effects().first(),
        Some(Effect::SpawnAsync(_))
    ));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_host_that_cannot_be_reached_fails_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let connector = Connector::new(
        lumen::ssh::ConnectOptions::isolated(&dir.path().join("known_hosts")),
        Prompter::none(),
    );
    let port = common::free_port();
    let mut options = common::app::options(100, 30);
    options.connector = Some(connector);
    options.scans = Some(ScanSetup {
        db: dir.path().join("scans.sqlite"),
        ignore: dir.path().join("scan-ignore.toml"),
        osv: lumen::scan::OsvSource::Imported,
        sudo: false,
    });
    let mut app = App::new(options);
    app.new_tab(PaneSpec::Ssh {
        name: "gone".into(),
        target: lumen::ssh::Target::new("ops", "127.0.0.1", port),
        plan: None,
    });
    prefix(&mut app, 'S');
    key(&mut app, KeyCode::Char('s'), KeyModifiers::NONE);
    settle_async(&mut app, |_| {}).await;
    let s = screen(&app);
    assert!(s.contains("✗ the last scan failed:"), "{s}");
    assert!(s.contains("refused"), "{s}");
    assert!(
        app.message
            .as_ref()
            .unwrap()
            .text
            .starts_with("cannot scan gone:"),
        "{:?}",
        app.message
    );
    assert!(
        app.last_scan_summary("gone").is_none(),
        "nothing was saved for a host never reached"
    );
}
