//! End to end: `lumen demo` in tmux, the scan pane. Prefix S opens it on the demo host, s scans
//! this machine over the session's SSH connection, and the findings show: the demo's made-up
//! advisories (labelled as such) matched against the packages really installed here, and the
//! real configuration checks. The detail panel gives the distro's upgrade command.
#![allow(clippy::unwrap_used)]

mod common;

use common::tmux::Tmux;
use std::time::Duration;

#[test]
fn the_demo_scan_shows_made_up_advisories_against_installed_packages() {
    let dir = tempfile::tempdir().unwrap();
    let t = Tmux::demo(dir.path());
    // The welcome may be caught half drawn: wait for its end, then read it.
    let s = t.wait_for("the whole welcome", |s| {
        s.contains("Welcome to the lumen demo") && s.contains("removed when lumen exits")
    });
    assert!(
        s.contains("made up"),
        "the welcome says the advisories are made up:\n{s}"
    );
    t.keys(&["Escape"]);
    t.wait_for("a prompt", |s| s.lines().any(|l| l.trim_end() == "$"));
    t.keys(&["C-b", "S"]);
    let s = t.wait_text("has not been scanned yet");
    assert!(!s.contains("No OSV data"), "the demo has advisories:\n{s}");
    t.keys(&["s"]);
    let s = t.wait_longer("the scan's findings", Duration::from_secs(90), |s| {
        s.contains("configuration ·")
    });
    for part in [
        "LUMEN-DEMO-0001",
        "critical",
        "no fix yet",
        "4 vulnerable packages",
    ] {
        assert!(s.contains(part), "{part:?} missing:\n{s}");
    }
    // The installed version shown is this machine's, as dpkg reports that source package.
    let row: Vec<&str> = s
        .lines()
        .find(|l| l.contains("LUMEN-DEMO-0001"))
        .unwrap()
        .split_whitespace()
        .collect();
    let at = row.iter().position(|w| *w == "LUMEN-DEMO-0001").unwrap();
    let (package, installed) = (row[at + 1], row[at + 2]);
    let dpkg = std::process::Command::new("dpkg-query")
        .args(["-W", "-f=${source:Package} ${source:Version}\n"])
        .output()
        .unwrap();
    let dpkg = String::from_utf8(dpkg.stdout).unwrap();
    assert!(
        dpkg.lines().any(|l| l == format!("{package} {installed}")),
        "{package} {installed} is not installed here:\n{s}"
    );
    t.keys(&["Enter"]);
    let s = t.wait_text("not a real vulnerability");
    assert!(s.contains("apt-get install --only-upgrade"), "{s}");
    t.keys(&["C-b", "d"]);
    t.wait_text("Quit lumen?");
    t.keys(&["y"]);
    let s = t.wait_text("LUMEN_EXIT=");
    assert!(s.contains("LUMEN_EXIT=0"), "{s}");
}
