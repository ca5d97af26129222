//! The log browser (prefix O) and the replay pane, driven as a user would: recordings written
//! with the store's API, the browser opened with C-b O, filtered by host, searched with `/`,
//! one replayed, paused, sought to its end, back to the start and to a marker, sped up.
#![allow(clippy::unwrap_used)]

mod common;

use common::app::{app_spec_with, screen, settle};
use common::copilot::{key, prefix, typed};
use crossterm::event::{KeyCode, KeyModifiers};
use lumen::app::{App, PaneSpec};
use lumen::panes::Pane;
use lumen::record::cast::{Event, Header};
use lumen::record::store;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, SystemTime};

/// 2026-12-01 10:00:00 UTC, so the browser's dates are fixed.
const START: u64 = 1_796_119_200;

/// A recording of `host` started `offset` seconds after [`START`], holding `events`.
fn record(root: &Path, host: &str, offset: u64, events: &[Event]) {
    let at = SystemTime::UNIX_EPOCH + Duration::from_secs(START + offset);
    let path = store::new_path(root, host, 1, at).unwrap();
    let mut f = store::create_private(&path).unwrap();
    let header = Header {
        version: 2,
        width: 60,
        height: 8,
        timestamp: (START + offset) as i64,
        env: Default::default(),
        title: host.into(),
        lumen_version: None,
        redacted: true,
    };
    writeln!(f, "{}", serde_json::to_string(&header).unwrap()).unwrap();
    for ev in events {
        f.write_all(ev.line().as_bytes()).unwrap();
    }
}

fn out(t: f64, text: &str) -> Event {
    Event::Output(t, text.into())
}

/// Three recordings: two of db1 (one ran `uptime`), one of web2.
fn recordings(root: &Path) {
    record(
        root,
        "db1.example",
        3600,
        &[
            out(0.5, "$ uptime\r\n"),
            Event::Marker(1.0, "uptime".into()),
            out(1.2, " 10:00 up 3 days, load 0.1\r\n"),
            out(3.0, "FINAL-LINE\r\n$ "),
        ],
    );
    record(
        root,
        "db1.example",
        60,
        &[out(0.2, "other-session output\r\n"), out(2.0, "bye\r\n")],
    );
    record(root, "web2", 0, &[out(0.1, "web2 motd\r\n")]);
}

fn app_on(root: &Path) -> App {
    let root = root.to_path_buf();
    let (app, _b, _) = app_spec_with(120, 20, PaneSpec::LocalShell, |o| {
        o.recordings_root = Some(root);
    });
    app
}

fn press(app: &mut App, code: KeyCode) {
    key(app, code, KeyModifiers::NONE);
}

fn status_line(app: &App) -> String {
    let s = screen(app);
    s.lines()
        .find(|l| l.contains("space pause"))
        .unwrap_or_else(|| panic!("no replay status line:\n{s}"))
        .trim_matches(|c: char| c == ' ' || c == '"' || c == '│')
        .to_string()
}

#[test]
fn browse_filter_search_and_replay_a_recording() {
    let dir = tempfile::tempdir().unwrap();
    recordings(dir.path());
    let mut app = app_on(dir.path());

    prefix(&mut app, 'O');
    assert_eq!(app.tabs.len(), 2, "the browser opens as a tab");
    assert!(
        screen(&app).contains("reading the recordings"),
        "the list is read off the UI task"
    );
    settle(&mut app);
    let s = screen(&app);
    let at = |needle: &str| {
        s.find(needle)
            .unwrap_or_else(|| panic!("{needle} not listed:\n{s}"))
    };
    // Newest first; the first command, else the first output line.
    assert!(at("uptime") < at("other-session output"));
    assert!(at("other-session output") < at("web2 motd"));
    insta::assert_snapshot!("logs_browser", s);

    typed(&mut app, "db1");
    let s = screen(&app);
    assert!(!s.contains("web2 motd"), "filtered by host:\n{s}");
    assert!(s.contains("other-session output"), "{s}");

    // `/` searches the text of db1's recordings.
    typed(&mut app, "/3 days");
    press(&mut app, KeyCode::Enter);
    assert!(
        screen(&app).contains("searching"),
        "searched off the UI task"
    );
    settle(&mut app);
    let s = screen(&app);
    assert!(s.contains("1 found"), "{s}");
    assert!(
        !s.contains("other-session output"),
        "narrowed to matches:\n{s}"
    );
    typed(&mut app, "/no such text");
    press(&mut app, KeyCode::Enter);
    settle(&mut app);
    assert!(screen(&app).contains("no recordings match"));
    press(&mut app, KeyCode::Esc);
    typed(&mut app, "/3 days");
    press(&mut app, KeyCode::Enter);
    settle(&mut app);

    press(&mut app, KeyCode::Enter);
    settle(&mut app);
    assert_eq!(app.tabs.len(), 3, "the replay opens in a tab of its own");
    let id = app.focused().unwrap();
    assert!(matches!(app.panes[&id].pane, Pane::Replay(_)));

    press(&mut app, KeyCode::Char(' '));
    assert!(status_line(&app).contains("paused"));
    press(&mut app, KeyCode::Right);
    let s = screen(&app);
    assert!(s.contains("FINAL-LINE"), "sought to the end:\n{s}");
    assert!(s.contains("up 3 days"), "{s}");
    insta::assert_snapshot!("logs_replay_status", status_line(&app));

    // Back to the start: replayed from nothing; then the marker: what came before it.
    press(&mut app, KeyCode::Left);
    let s = screen(&app);
    assert!(!s.contains("FINAL-LINE") && !s.contains("$ uptime"), "{s}");
    press(&mut app, KeyCode::Char(']'));
    let s = screen(&app);
    assert!(s.contains("$ uptime") && !s.contains("up 3 days"), "{s}");
    assert!(
        status_line(&app).starts_with("0:01 / 0:03"),
        "{:?}",
        status_line(&app)
    );

    press(&mut app, KeyCode::Char('+'));
    press(&mut app, KeyCode::Char('+'));
    assert!(status_line(&app).contains(" 4x "), "{}", status_line(&app));
    for _ in 0..5 {
        press(&mut app, KeyCode::Char('-'));
    }
    assert!(
        status_line(&app).contains(" 0.5x "),
        "{}",
        status_line(&app)
    );

    press(&mut app, KeyCode::Char('q'));
    assert_eq!(app.tabs.len(), 2, "q closes the replay");
}

#[test]
fn a_playing_replay_asks_the_loop_to_wake_it_and_moves_on_at_ticks() {
    let dir = tempfile::tempdir().unwrap();
    recordings(dir.path());
    let mut app = app_on(dir.path());
    prefix(&mut app, 'O');
    settle(&mut app);
    press(&mut app, KeyCode::Enter);
    settle(&mut app);
    let id = app.focused().unwrap();
    assert!(matches!(app.panes[&id].pane, Pane::Replay(_)));
    // Playing: the loop has a deadline; ticking past the whole recording plays all of it.
    let wake = app
        .next_deadline()
        .expect("a playing replay sets a deadline");
    let later = wake + Duration::from_secs(3600);
    app.tick(later);
    let s = screen(&app);
    assert!(s.contains("FINAL-LINE"), "{s}");
    assert!(status_line(&app).contains("ended"), "{}", status_line(&app));
    press(&mut app, KeyCode::Char('q'));
    assert_eq!(app.tabs.len(), 2);
}

#[test]
fn prefix_o_without_recordings_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app_on(&dir.path().join("none"));
    prefix(&mut app, 'O');
    settle(&mut app);
    assert!(
        screen(&app).contains("no recordings in"),
        "{}",
        screen(&app)
    );
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.tabs.len(), 1, "Esc closes the browser");
}

#[test]
fn a_damaged_recording_is_marked_and_replays_up_to_where_it_breaks() {
    let dir = tempfile::tempdir().unwrap();
    record(
        dir.path(),
        "db1.example",
        0,
        &[out(0.5, "BEFORE-BREAK\r\n"), out(1.0, "second line\r\n")],
    );
    let (_, path) = store::files(dir.path()).pop().unwrap();
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    f.write_all(b"[2.0, \"o\", \"AFTER-BREAK\\r\\n\"]\n[3.0, \"o\", ")
        .unwrap();
    let mut app = app_on(dir.path());
    prefix(&mut app, 'O');
    settle(&mut app);
    assert!(screen(&app).contains("(damaged)"), "{}", screen(&app));
    press(&mut app, KeyCode::Enter);
    settle(&mut app);
    press(&mut app, KeyCode::Char(' '));
    press(&mut app, KeyCode::Right);
    let s = screen(&app);
    assert!(
        s.contains("BEFORE-BREAK") && s.contains("AFTER-BREAK"),
        "{s}"
    );
    assert!(
        status_line(&app).contains("damaged"),
        "{}",
        status_line(&app)
    );
}
