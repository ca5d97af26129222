//! Runbooks and snippets in the app (prefix R): the picker over the workspace's files, a
//! snippet's parameter form, and the snippet typed into the focused pane as a paste that
//! waits for the operator's Enter; what must not be typed is refused with the reason.
#![allow(clippy::unwrap_used)]

mod common;

use common::app::{Backends, app_spec_with, output, screen, settle, written};
use common::copilot::{key, prefix, typed};
use crossterm::event::{KeyCode, KeyModifiers};
use lumen::app::runbooks::RunbookDirs;
use lumen::app::{App, PaneSpec};
use lumen::paths::Paths;
use std::collections::BTreeMap;
use std::path::Path;

const RUNBOOK: &str = r#"
name = "restart-nginx"
description = "Restart nginx and check it answers"
targets = "@web"

[[params]]
name = "svc"
description = "Service to restart"
default = "nginx"
pattern = "^[a-z0-9@._-]+$"

[[steps]]
name = "check config"
run = "nginx -t"

[[steps]]
name = "restart"
run = "sudo -n systemctl restart {{svc}}"
confirm = true
"#;

const SNIPPETS: &str = r#"
[[snippets]]
name = "grep-log"
description = "Search a log file"
run = "grep -n {{pattern}} {{file}}"

[[snippets.params]]
name = "pattern"
description = "What to look for"

[[snippets.params]]
name = "file"
default = "/var/log/syslog"
pattern = "^/[^ ]*$"

[[snippets]]
name = "db-ping"
description = "Ask the database whether it answers"
run = "PGPASSWORD={{vault:db-pass}} psql -h localhost -c 'select 1'"

[[snippets]]
name = "two-lines"
description = "Go somewhere and look"
run = """
cd /tmp
ls -l
"""

[[snippets]]
name = "colour"
description = "An escape character in the file"
run = "echo \u001b[31mred"
"#;

/// A home whose default workspace has one runbook and two snippets.
fn workspace(dir: &Path) -> Paths {
    let paths = Paths::under(dir);
    let ws = paths.workspace_dir("default");
    std::fs::create_dir_all(ws.join("runbooks")).unwrap();
    std::fs::write(ws.join("runbooks/restart-nginx.toml"), RUNBOOK).unwrap();
    std::fs::write(ws.join("snippets.toml"), SNIPPETS).unwrap();
    paths
}

/// An app on a channel-backed shell pane, reading runbooks from `paths`.
fn app(paths: &Paths, w: u16, h: u16) -> (App, Backends) {
    let (app, backends, _) = app_spec_with(w, h, PaneSpec::LocalShell, |o| {
        o.runbooks = Some(RunbookDirs {
            paths: paths.clone(),
            workspace: "default".into(),
        });
    });
    (app, backends)
}

/// Prefix R, and the catalog loaded as the event loop would.
fn open_picker(app: &mut App) {
    prefix(app, 'R');
    settle(app);
}

fn enter(app: &mut App) {
    key(app, KeyCode::Enter, KeyModifiers::NONE);
}

fn input_of(backends: &Backends) -> String {
    String::from_utf8_lossy(&written(backends, 0).0).into_owned()
}

#[test]
fn prefix_r_lists_runbooks_and_snippets_and_filters_them() {
    let dir = tempfile::tempdir().unwrap();
    let paths = workspace(dir.path());
    let (mut app, _b) = app(&paths, 100, 24);
    open_picker(&mut app);
    let all = screen(&app);
    assert!(all.contains("restart-nginx"), "{all}");
    assert!(all.contains("grep-log"), "{all}");
    assert!(all.contains("db-ping"), "{all}");
    insta::assert_snapshot!("picker", all);
    // Fuzzy, as the host picker: letters in order, descriptions count.
    typed(&mut app, "srch lg");
    let narrowed = screen(&app);
    assert!(narrowed.contains("grep-log"), "{narrowed}");
    assert!(!narrowed.contains("restart-nginx"), "{narrowed}");
    key(&mut app, KeyCode::Esc, KeyModifiers::NONE);
    assert!(app.layers.is_empty());
}

#[test]
fn a_snippet_is_typed_as_a_bracketed_paste_and_waits_for_enter() {
    let dir = tempfile::tempdir().unwrap();
    let paths = workspace(dir.path());
    let (mut app, b) = app(&paths, 100, 24);
    // The shell's line editor asks for bracketed paste.
    output(&mut app, &b, 0, b"\x1b[?2004h$ ");
    open_picker(&mut app);
    typed(&mut app, "grep-log");
    enter(&mut app);
    let form = screen(&app);
    assert!(form.contains("snippet grep-log"), "{form}");
    assert!(
        form.contains("/var/log/syslog"),
        "the default is filled in: {form}"
    );
    insta::assert_snapshot!("snippet_form", form);
    // A value the shell must not read as code.
    typed(&mut app, "it's $(id)");
    enter(&mut app);
    assert!(app.layers.is_empty(), "the form closed: {}", screen(&app));
    let mut values = BTreeMap::new();
    values.insert("pattern".to_string(), "it's $(id)".to_string());
    values.insert("file".to_string(), "/var/log/syslog".to_string());
    let filled = lumen::runbook::fill("grep -n {{pattern}} {{file}}", &values).unwrap();
    let sent = input_of(&b);
    assert_eq!(sent, format!("\x1b[200~{}\x1b[201~", filled.command));
    assert!(
        !sent.contains('\r') && !sent.contains('\n'),
        "no Enter: {sent:?}"
    );
    assert!(screen(&app).contains("press Enter in the pane"));
}

#[test]
fn a_snippet_failing_its_pattern_keeps_the_form_open_and_types_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let paths = workspace(dir.path());
    let (mut app, b) = app(&paths, 100, 24);
    open_picker(&mut app);
    typed(&mut app, "grep-log");
    enter(&mut app);
    typed(&mut app, "x");
    key(&mut app, KeyCode::Tab, KeyModifiers::NONE);
    // The file must start with / and hold no space.
    key(&mut app, KeyCode::Char('u'), KeyModifiers::CONTROL);
    typed(&mut app, "relative path");
    enter(&mut app);
    let shown = screen(&app);
    assert!(!app.layers.is_empty(), "the form stays: {shown}");
    assert!(shown.contains("file"), "{shown}");
    assert_eq!(input_of(&b), "", "nothing was typed");
}

#[test]
fn a_snippet_with_a_vault_placeholder_is_refused_for_typing() {
    let dir = tempfile::tempdir().unwrap();
    let paths = workspace(dir.path());
    let (mut app, b) = app(&paths, 100, 24);
    output(&mut app, &b, 0, b"\x1b[?2004h$ ");
    open_picker(&mut app);
    typed(&mut app, "db-ping");
    enter(&mut app);
    let shown = screen(&app);
    assert!(shown.contains("never types a secret"), "{shown}");
    assert_eq!(input_of(&b), "");
}

#[test]
fn several_lines_are_typed_only_as_a_bracketed_paste_and_escapes_never() {
    let dir = tempfile::tempdir().unwrap();
    let paths = workspace(dir.path());
    let (mut app, b) = app(&paths, 100, 24);
    // No bracketed paste: each line break would be an Enter.
    output(&mut app, &b, 0, b"$ ");
    open_picker(&mut app);
    typed(&mut app, "two-lines");
    enter(&mut app);
    enter(&mut app);
    let shown = screen(&app);
    assert!(shown.contains("several lines"), "{shown}");
    assert_eq!(input_of(&b), "");
    key(&mut app, KeyCode::Esc, KeyModifiers::NONE);
    // With it, the lines wait in the line editor for Enter.
    output(&mut app, &b, 0, b"\x1b[?2004h");
    open_picker(&mut app);
    typed(&mut app, "two-lines");
    enter(&mut app);
    enter(&mut app);
    assert_eq!(input_of(&b), "\x1b[200~cd /tmp\nls -l\x1b[201~");
    // An escape character acts as a key, bracketed or not: refused.
    open_picker(&mut app);
    typed(&mut app, "colour");
    enter(&mut app);
    enter(&mut app);
    let shown = screen(&app);
    assert!(shown.contains("control character"), "{shown}");
    assert_eq!(input_of(&b), "");
}

#[test]
fn a_broken_runbook_file_is_reported_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let paths = workspace(dir.path());
    let ws = paths.workspace_dir("default");
    std::fs::write(ws.join("runbooks/bad.toml"), "name = \"bad\"\nstepz = 1\n").unwrap();
    let (mut app, _b) = app(&paths, 100, 24);
    open_picker(&mut app);
    let shown = screen(&app);
    assert!(shown.contains("bad.toml"), "{shown}");
    assert!(shown.contains("stepz"), "{shown}");
}
