//! End to end: `lumen demo` in tmux, the copilot against the demo's scripted model on
//! loopback. Prefix a opens it beside the session; the answer streams in; the harmless
//! proposal runs in the session only after Enter, its output goes back; the risky one is
//! High and is rejected with x, so it never reaches the host, and so is the last one, which
//! uses the demo vault's entry.
#![allow(clippy::unwrap_used)]

mod common;

use common::tmux::Tmux;

#[test]
fn the_demo_copilot_proposes_runs_on_enter_and_rejects_on_x() {
    let dir = tempfile::tempdir().unwrap();
    let t = Tmux::demo(dir.path());
    t.wait_text("Welcome to the lumen demo");
    t.keys(&["Escape"]);
    t.wait_for("a prompt", |s| s.lines().any(|l| l.trim_end() == "$"));
    t.keys(&["C-b", "a"]);
    let s = t.wait_text("copilot");
    assert!(s.contains("not an AI"), "the demo says what it is:\n{s}");
    t.type_text("what is this host?");
    t.keys(&["Enter"]);
    // The demo has a vault: nothing goes to the model until lumen can mask its values.
    let s = t.wait_text("Unlock vault for the copilot");
    let at = s.find("passphrase is ").unwrap() + "passphrase is ".len();
    let passphrase = s[at..].split_whitespace().next().unwrap().to_string();
    t.type_text(&passphrase);
    t.keys(&["Enter"]);
    let s = t.wait_text("LOW");
    assert!(s.contains("uptime"), "{s}");
    assert!(
        s.contains("0:demo-web*"),
        "the tab keeps the session's name:\n{s}"
    );
    // Nothing ran yet: the session (left) shows only its prompt.
    assert!(!s.lines().any(|l| l.starts_with("│$ uptime")), "{s}");
    t.keys(&["Enter"]);
    t.wait_text("load average:");
    // The output went back; the script now proposes its risky command.
    let s = t.wait_text("HIGH");
    assert!(s.contains("rm -rf /tmp/lumen-demo-cache"), "{s}");
    t.keys(&["x"]);
    // The last proposal uses the vault: rejected too, nothing of it runs.
    t.wait_text("{{vault:");
    t.keys(&["x"]);
    t.wait_text("That is the whole script");
    let s = t.screen();
    assert!(
        !s.lines()
            .any(|l| l.starts_with("│$ rm") || l.contains("psql: ")),
        "a rejected command was typed:\n{s}"
    );
    t.keys(&["C-b", "d"]);
    t.wait_text("Quit lumen?");
    t.keys(&["y"]);
    let s = t.wait_text("LUMEN_EXIT=");
    assert!(s.contains("LUMEN_EXIT=0"), "{s}");
}
