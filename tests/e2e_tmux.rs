//! End to end: the real binary in tmux. Start `lumen shell`, run a command, split, run one in
//! the new pane, open a tab, zoom, close everything; lumen exits 0 and the terminal is sane.
#![allow(clippy::unwrap_used)]

mod common;

use common::tmux::{Tmux, panes_drawn};

#[test]
fn shell_split_tab_zoom_and_exit() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let lumen = env!("CARGO_BIN_EXE_lumen");
    let env = [
        ("HOME", home.display().to_string()),
        ("LUMEN_HOME", dir.path().join("lumen").display().to_string()),
        ("SHELL", "/bin/sh".to_string()),
        ("ENV", "".to_string()),
        ("PS1", "$ ".to_string()),
        ("TERM", "xterm-256color".to_string()),
    ];
    let t = Tmux::start(
        dir.path(),
        100,
        30,
        &env,
        &format!("{lumen} shell; echo LUMEN_EXIT=$?; stty -a; sleep 30"),
    );
    t.wait_text("0:sh*");
    t.wait_for("a prompt", |s| s.lines().any(|l| l.trim_end() == "$"));
    t.type_text("echo one-$((40+2))");
    t.keys(&["Enter"]);
    t.wait_text("one-42");

    t.keys(&["C-b", "%"]);
    t.wait_for("two panes", |s| panes_drawn(s) == 2);
    t.type_text("echo two-$((50+5))");
    t.keys(&["Enter"]);
    let s = t.wait_text("two-55");
    assert!(
        s.contains("one-42"),
        "first pane's output stays visible:\n{s}"
    );

    t.keys(&["C-b", "c"]);
    t.wait_text("host or local shell");
    t.keys(&["Enter"]);
    t.wait_text("1:sh*");
    t.type_text("echo three");
    t.keys(&["Enter"]);
    t.wait_text("three");

    t.keys(&["C-b", "0"]);
    t.wait_text("one-42");
    t.keys(&["C-b", "z"]);
    let s = t.wait_text("0:sh*Z");
    assert_eq!(panes_drawn(&s), 0, "zoomed pane fills the tab:\n{s}");
    assert!(s.contains("two-55") && !s.contains("one-42"), "{s}");
    t.keys(&["C-b", "z"]);
    t.wait_for("unzoomed", |s| panes_drawn(s) == 2);

    // Close everything: both panes of tab 0, then tab 1.
    for _ in 0..2 {
        t.type_text("exit");
        t.keys(&["Enter"]);
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
    t.wait_text("three");
    t.type_text("exit");
    t.keys(&["Enter"]);
    let s = t.wait_text("LUMEN_EXIT=");
    assert!(s.contains("LUMEN_EXIT=0"), "{s}");
    // The terminal is back to normal: main screen, cooked mode with echo, cursor shown.
    let s = t.wait_text("icanon");
    assert!(s.contains(" icanon") && s.contains(" echo "), "{s}");
    assert_eq!(t.format("#{alternate_on}"), "0");
    assert_eq!(t.format("#{cursor_flag}"), "1");
    assert_eq!(t.format("#{mouse_any_flag}"), "0");
}

/// Start `lumen shell` in tmux with a private home.
fn start(dir: &std::path::Path, extra: &str) -> Tmux {
    Tmux::lumen(
        dir,
        90,
        24,
        &format!("shell {extra}; echo LUMEN_EXIT=$?; stty -a; sleep 30"),
    )
}

fn lumen_pid(t: &Tmux) -> String {
    let shell = t.format("#{pane_pid}");
    let out = std::process::Command::new("pgrep")
        .args(["-P", &shell, "lumen"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn assert_terminal_sane(t: &Tmux) {
    let s = t.wait_text("icanon");
    assert!(s.contains(" icanon") && s.contains(" echo "), "{s}");
    assert_eq!(t.format("#{alternate_on}"), "0");
    assert_eq!(t.format("#{cursor_flag}"), "1");
    assert_eq!(t.format("#{mouse_any_flag}"), "0");
}

#[test]
fn sigterm_and_sighup_restore_the_terminal() {
    for signal in ["TERM", "HUP"] {
        let dir = tempfile::tempdir().unwrap();
        let t = start(dir.path(), "");
        t.wait_text("0:sh*");
        let pid = lumen_pid(&t);
        assert!(!pid.is_empty(), "lumen is running");
        let ok = std::process::Command::new("kill")
            .args([&format!("-{signal}"), &pid])
            .status()
            .unwrap();
        assert!(ok.success());
        t.wait_text("LUMEN_EXIT=");
        assert_terminal_sane(&t);
    }
}

#[test]
fn broken_config_is_shown_and_lumen_starts_anyway() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("lumen/config");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(
        config.join("config.toml"),
        "prefix = \"C-a\"\n[keys]\nsplit_sideways = \"|\"\n",
    )
    .unwrap();
    let t = start(dir.path(), "--theme nosuchtheme");
    let s = t.wait_text("config.toml:3: unknown action 'split_sideways'");
    assert!(s.contains("no theme named 'nosuchtheme'"), "{s}");
    assert!(s.contains("0:sh*"), "{s}");
    t.keys(&["Escape"]);
    // Defaults apply: C-b still splits.
    t.wait_for("a prompt", |s| s.lines().any(|l| l.trim_end() == "$"));
    t.keys(&["C-b", "%"]);
    t.wait_for("two panes", |s| panes_drawn(s) == 2);
}

#[test]
fn broadcast_to_three_panes_and_confirm_a_destructive_paste() {
    let dir = tempfile::tempdir().unwrap();
    let t = start(dir.path(), "");
    t.wait_for("a prompt", |s| s.lines().any(|l| l.trim_end() == "$"));
    t.keys(&["C-b", "%"]);
    t.wait_for("two panes", |s| panes_drawn(s) == 2);
    t.keys(&["C-b", "\""]);
    t.wait_for("three panes", |s| panes_drawn(s) == 3);
    t.keys(&["C-b", "b"]);
    t.wait_text("BROADCAST: 3 panes");
    t.type_text("echo bc-$((20+22))");
    t.keys(&["Enter"]);
    t.wait_for("the output in all three panes", |s| {
        s.matches("bc-42").count() == 3
    });
    let marker = dir.path().join("should-stay");
    std::fs::write(&marker, "x").unwrap();
    t.paste(&format!("rm -rf {}", marker.display()));
    t.wait_text("looks destructive");
    t.keys(&["n"]);
    t.wait_for("the dialog to close", |s| !s.contains("looks destructive"));
    t.keys(&["Enter"]);
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(marker.exists(), "a refused paste runs nowhere");
    t.keys(&["C-b", "b"]);
    t.wait_for("broadcast off", |s| !s.contains("BROADCAST:"));
}

#[test]
fn a_panic_restores_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let t = panicking(dir.path(), "--in-process shell");
    let s = t.wait_text("LUMEN_EXIT=");
    assert!(s.contains("LUMEN_EXIT=101"), "{s}");
    assert!(
        s.contains("panicking on purpose"),
        "the panic message is readable:\n{s}"
    );
    assert_terminal_sane(&t);
}

/// A session that panics in the server: its client gives the terminal back and says the
/// server went away; the server's log has the panic.
#[test]
fn a_panic_in_the_server_restores_the_clients_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let t = panicking(dir.path(), "shell");
    let s = t.wait_text("LUMEN_EXIT=");
    assert!(s.contains("LUMEN_EXIT=1"), "{s}");
    assert!(s.contains("lost the lumen server"), "{s}");
    assert_terminal_sane(&t);
    let log = std::fs::read_to_string(dir.path().join("lumen/data/logs/lumen.log")).unwrap();
    assert!(log.contains("panicking on purpose"), "{log}");
}

/// lumen ARGS with LUMEN_DEBUG_PANIC set (debug builds panic after the first frame).
fn panicking(dir: &std::path::Path, args: &str) -> Tmux {
    let home = dir.join("home");
    std::fs::create_dir_all(&home).unwrap();
    let env = [
        ("HOME", home.display().to_string()),
        ("LUMEN_HOME", dir.join("lumen").display().to_string()),
        ("SHELL", "/bin/sh".to_string()),
        ("LUMEN_DEBUG_PANIC", "1".to_string()),
        ("RUST_BACKTRACE", "0".to_string()),
    ];
    let lumen = env!("CARGO_BIN_EXE_lumen");
    Tmux::start(
        dir,
        90,
        24,
        &env,
        &format!("{lumen} {args}; echo LUMEN_EXIT=$?; stty -a; sleep 30"),
    )
}

/// Issue 17: a tab moves the outer terminal's cursor without writing the cells it passes, so
/// drawing a tab cell as a tab left what the outer terminal showed there before (`A27     B`).
/// The line must read as the host printed it, after the compact store took rows too.
#[test]
fn a_line_with_tabs_shows_no_stale_characters() {
    let dir = tempfile::tempdir().unwrap();
    let t = start(dir.path(), "");
    t.wait_for("a prompt", |s| s.lines().any(|l| l.trim_end() == "$"));
    let tabs = r"printf 'A\tB\tC\n'";
    t.type_text(&format!(
        "seq 1 12000; {tabs}; seq 1 3000; {tabs}; echo end-$((6*7))"
    ));
    t.keys(&["Enter"]);
    let s = t.wait_for("the output's end", |s| {
        s.lines().any(|l| l.trim_end().ends_with("end-42"))
    });
    let lines: Vec<&str> = s.lines().collect();
    let end = lines
        .iter()
        .position(|l| l.trim_end().ends_with("end-42"))
        .unwrap();
    assert_eq!(lines[end - 1].trim(), "A       B       C", "{s}");
    assert_eq!(lines[end - 2].trim(), "3000", "{s}");
}
