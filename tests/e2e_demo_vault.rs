//! End to end: `lumen demo` in tmux shows everything without setup. Its vault opens with the
//! passphrase the welcome shows, holds an entry bound to the demo hosts, and the scripted
//! model's last proposal uses that entry as `{{vault:…}}`, run only after Enter and never
//! shown in clear. Prefix S works from any pane: from the copilot it opens the session's
//! host, and the fleet lists the demo hosts never scanned, where `s` scans one.
#![allow(clippy::unwrap_used)]

mod common;

use common::tmux::Tmux;
use std::time::Duration;

/// The word after `passphrase is` on the screen.
fn passphrase_shown(screen: &str) -> String {
    let at = screen
        .find("passphrase is")
        .expect("the passphrase is shown");
    screen[at + "passphrase is".len()..]
        .split_whitespace()
        .next()
        .unwrap()
        .trim_end_matches([';', ',', '.'])
        .to_string()
}

#[test]
fn the_demo_vault_opens_with_the_shown_passphrase_and_feeds_the_copilot() {
    let dir = tempfile::tempdir().unwrap();
    let t = Tmux::demo(dir.path());
    let s = t.wait_for("the whole welcome", |s| {
        s.contains("Welcome to the lumen demo") && s.contains("removed when lumen exits")
    });
    let passphrase = passphrase_shown(&s);
    t.keys(&["Escape"]);
    t.wait_for("a prompt", |s| s.lines().any(|l| l.trim_end() == "$"));
    t.keys(&["C-b", "v"]);
    // The whole dialog: tmux can be read between its title and its hint line.
    let s = t.wait_for("the unlock dialog and its hint", |s| {
        s.contains("Unlock vault") && (s.contains("passphrase is") || s.contains("no vault yet"))
    });
    assert!(!s.contains("no vault yet"), "{s}");
    assert_eq!(passphrase_shown(&s), passphrase, "the dialog repeats it");
    t.type_text(&passphrase);
    t.keys(&["Enter"]);
    let s = t.wait_text("demo-db/postgres");
    assert!(
        s.contains("vault*"),
        "the browser is a tab of its own:\n{s}"
    );
    assert!(s.contains("demo-web, demo-db"), "bound to both hosts:\n{s}");
    assert!(s.contains("••••"), "the secret is hidden:\n{s}");
    // The copilot on the first session: the vault is open, so it asks nothing more.
    t.keys(&["C-b", "0"]);
    t.wait_text("0:demo-web*");
    t.keys(&["C-b", "a"]);
    t.wait_text("not an AI");
    t.type_text("what is this host?");
    t.keys(&["Enter"]);
    t.wait_text("LOW");
    assert!(!t.screen().contains("Unlock vault"));
    t.keys(&["Enter"]);
    t.wait_text("HIGH");
    t.keys(&["x"]);
    let s = t.wait_text("{{vault:demo-db/postgres}}");
    assert!(s.contains("its own channel"), "{s}");
    assert!(s.contains("Enter run"), "it waits for the operator:\n{s}");
    t.keys(&["Enter"]);
    let s = t.wait_longer("the script's end", Duration::from_secs(40), |s| {
        s.contains("That is the whole script")
    });
    assert!(
        s.contains("[exit status"),
        "the command ran on the host:\n{s}"
    );
    // Wherever the command shows, it shows the placeholder, never a value.
    for line in s.lines().filter(|l| l.contains("PGPASSWORD=")) {
        assert!(line.contains("PGPASSWORD={{vault:"), "{line}\n{s}");
    }
    t.keys(&["C-b", "d"]);
    t.wait_text("Quit lumen?");
    t.keys(&["y"]);
    let s = t.wait_text("LUMEN_EXIT=");
    assert!(s.contains("LUMEN_EXIT=0"), "{s}");
}

#[test]
fn prefix_s_scans_from_the_copilot_and_from_the_fleet() {
    let dir = tempfile::tempdir().unwrap();
    let t = Tmux::demo(dir.path());
    t.wait_for("the whole welcome", |s| {
        s.contains("removed when lumen exits")
    });
    t.keys(&["Escape"]);
    t.wait_for("a prompt", |s| s.lines().any(|l| l.trim_end() == "$"));
    t.keys(&["C-b", "a"]);
    t.wait_text("not an AI");
    // Focus is on the copilot: S means the session it sits beside.
    t.keys(&["C-b", "S"]);
    t.wait_text("demo-web has not been scanned yet");
    t.keys(&["s"]);
    t.wait_text("scanning demo-web");
    // The fleet lists the other demo host, never scanned, and s scans it from there.
    t.keys(&["Escape"]);
    let s = t.wait_text("not scanned yet");
    let row = s
        .lines()
        .find(|l| l.trim_start().starts_with("demo-db"))
        .unwrap();
    assert!(row.contains("not scanned yet"), "{s}");
    t.keys(&["j"]);
    t.wait_for("demo-db selected", |s| {
        s.lines().any(|l| l.contains("› demo-db"))
    });
    t.keys(&["s"]);
    t.wait_text("scanning demo-db");
    let s = t.wait_longer("both scans", Duration::from_secs(120), |s| {
        s.contains("scan results · 2 hosts")
    });
    assert!(!s.contains("not scanned yet"), "{s}");
    t.keys(&["C-b", "d"]);
    t.wait_text("Quit lumen?");
    t.keys(&["y"]);
    let s = t.wait_text("LUMEN_EXIT=");
    assert!(s.contains("LUMEN_EXIT=0"), "{s}");
}
