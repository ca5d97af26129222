//! The host list's state column from the app's side: a host is "connected" while any of its
//! sessions is, in a host list opened before or after; a connection is written to the
//! workspace's state.toml off the UI task, and an app started from that file shows when.
#![allow(clippy::unwrap_used)]

mod common;
mod picker_support;

use common::app::{Backends, app_spec_with, close, output, screen, settle};
use lumen::app::{App, PaneSpec};
use lumen::stream::CloseReason;
use lumen::workspace::StateFile;
use std::path::Path;

fn web1() -> PaneSpec {
    PaneSpec::Ssh {
        name: "web1".into(),
        target: lumen::ssh::Target::new("deploy", "10.0.0.11", 2222),
        plan: None,
    }
}

fn start(state: &Path) -> (App, Backends) {
    let file = StateFile::new(state.to_path_buf());
    let loaded = file.load().unwrap();
    let (app, backends, _) = app_spec_with(120, 20, web1(), |o| {
        o.inventory = picker_support::inventory();
        o.workspace_state = loaded;
        o.state_file = Some(file);
    });
    (app, backends)
}

/// The host list's row for `host`.
fn row(app: &App, host: &str) -> String {
    let s = screen(app);
    s.lines()
        .find(|l| l.split_whitespace().any(|w| w == host) && l.contains("10.0.0"))
        .unwrap_or_else(|| panic!("no row for {host}:\n{s}"))
        .to_string()
}

#[test]
fn a_host_stays_connected_while_any_session_is_and_is_remembered() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("ws/state.toml");
    let (mut app, backends) = start(&state);
    app.new_tab(web1());
    output(&mut app, &backends, 0, b"$ ");
    output(&mut app, &backends, 1, b"$ ");
    // Opened after the sessions connected, the host list knows.
    app.open_hosts();
    assert!(
        row(&app, "web1").contains("● connected"),
        "{}",
        screen(&app)
    );
    assert!(row(&app, "web2").contains("never"));
    close(&mut app, &backends, 0, CloseReason::ServerClosed);
    assert!(
        row(&app, "web1").contains("● connected"),
        "one session is left"
    );
    close(&mut app, &backends, 1, CloseReason::ServerClosed);
    assert!(row(&app, "web1").contains("ended"), "{}", row(&app, "web1"));
    // The write happens in a task; nothing is on disk before it runs.
    assert!(!state.exists());
    settle(&mut app);
    let at = StateFile::new(state.clone()).load().unwrap().last_connected["web1"].clone();
    drop(app);

    let (mut again, _backends) = start(&state);
    again.open_hosts();
    let shown = lumen::ui::short_time(&at);
    assert!(
        row(&again, "web1").contains(&format!("last {shown} UTC")),
        "{}",
        row(&again, "web1")
    );
}
