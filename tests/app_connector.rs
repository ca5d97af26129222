//! The app on the real spawner against a real `sshd`: a tab and two splits of it log in once;
//! when the shared connection drops, every pane on it ends with the reason, and `r` in one of
//! them reconnects them all over one new login.
#![allow(clippy::unwrap_used)]

mod common;

use common::{Answers, Sshd, auto_answer};
use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use lumen::app::{App, AppOptions, LiveSpawner, PaneSpec};
use lumen::pty::PtyCommand;
use lumen::ssh::{Connector, Target};
use std::time::Duration;

const ACCEPTED: &str = "Accepted publickey";
const SETTLE: Duration = Duration::from_secs(15);

fn key(app: &mut App, code: KeyCode) {
    app.handle_event(Event::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

fn prefix(app: &mut App, c: char) {
    app.handle_event(Event::Key(KeyEvent::new(
        KeyCode::Char('b'),
        KeyModifiers::CONTROL,
    )));
    key(app, KeyCode::Char(c));
}

/// Pump the app until `done` holds.
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
            common::app::screen(app)
        );
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
}

fn panes_text(app: &App) -> Vec<String> {
    app.tabs[0]
        .layout
        .panes()
        .iter()
        .map(|id| app.panes[id].pane.as_terminal().unwrap().screen_text())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn splits_share_a_login_and_reconnect_together() {
    let sshd = Sshd::start_logged("");
    let dir = tempfile::tempdir().unwrap();
    let opts = sshd.client_options(dir.path());
    let (prompter, asked) = auto_answer(Answers::default());
    let connector = Connector::new(opts, prompter);
    let mut options = AppOptions::new(Box::new(LiveSpawner::new(
        PtyCommand::new("/bin/sh"),
        connector.clone(),
    )));
    options.size = (120, 40);
    options.connector = Some(connector.clone());
    let mut app = App::new(options);
    let target = Target::new(lumen::ssh::target::local_user(), "127.0.0.1", sshd.port);
    app.new_tab(PaneSpec::Ssh {
        name: "db".into(),
        target,
        plan: None,
    });
    prefix(&mut app, '%');
    prefix(&mut app, '"');
    assert_eq!(app.tabs[0].layout.len(), 3);
    // Each pane runs a command of its own.
    for (i, id) in app.tabs[0].layout.panes().into_iter().enumerate() {
        app.tabs[0].focused = id;
        for c in format!("echo pane-$((100+{i}))\r").chars() {
            key(&mut app, KeyCode::Char(c));
        }
    }
    pump_until(&mut app, "three shells", |app| {
        let t = panes_text(app);
        (0..3).all(|i| t.iter().any(|s| s.contains(&format!("pane-{}", 100 + i))))
    })
    .await;
    assert_eq!(sshd.log_count(ACCEPTED), 1, "{}", sshd.log());
    assert_eq!(connector.open_connections(), 1);

    sshd.drop_connections();
    pump_until(&mut app, "every pane to end", |app| {
        app.tabs[0]
            .layout
            .panes()
            .iter()
            .all(|id| app.reconnectable(*id))
    })
    .await;
    for text in panes_text(&app) {
        assert!(
            text.contains("server closed") || text.contains("network lost"),
            "the reason is shown: {text}"
        );
    }

    key(&mut app, KeyCode::Char('r'));
    pump_until(&mut app, "every pane to reconnect", |app| {
        app.tabs[0]
            .layout
            .panes()
            .iter()
            .all(|id| !app.reconnectable(*id))
    })
    .await;
    for id in app.tabs[0].layout.panes() {
        app.tabs[0].focused = id;
        for c in "echo back-$((7*6))\r".chars() {
            key(&mut app, KeyCode::Char(c));
        }
    }
    pump_until(&mut app, "the shells to answer", |app| {
        panes_text(app)
            .iter()
            .all(|t| t.matches("back-42").count() >= 1)
    })
    .await;
    assert_eq!(sshd.log_count(ACCEPTED), 2, "one new login for three panes");
    assert!(asked.lock().unwrap().is_empty());
}
