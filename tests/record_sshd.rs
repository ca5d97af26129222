//! Session recordings against a real OpenSSH sshd: a recorded SSH pane runs commands, `cat`s
//! the leak corpus and a vault value in plain, base64 and hex, reads a password typed with
//! echo off, is resized, runs two approved copilot commands and exits. Its `.cast.gz` is valid
//! asciicast v2 (parsed here, and by `asciinema cat` when installed), 0600 in 0700
//! directories, holds none of the secrets nor the typed password, and has the resize and a
//! marker per approved command. A session that ran `top` shows as readable lines.
#![allow(clippy::unwrap_used)]

mod common;

use base64::Engine;
use common::Sshd;
use common::copilot::{ask_copilot, drive, key, screen_of, ssh_app, typed};
use common::fake_ai::{FakeServer, openai_proposes, openai_says};
use common::leak_corpus::{corpus, leaks};
use crossterm::event::{Event as TermEvent, KeyCode, KeyModifiers};
use lumen::app::App;
use lumen::app::layout::PaneId;
use lumen::record::cast::{self, Event};
use lumen::record::store;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

const VALUE: &str = "Vv-s3cret-value-2718";
const TYPED: &str = "typed-at-the-prompt-4242";
/// Pieces of a secret this long found in the recording count as a leak (as for the copilot).
const LEAK_WINDOW: usize = 8;

fn vault(dir: &Path) -> lumen::vault::VaultOwner {
    use lumen::vault::{Kind, NewEntry};
    common::unlocked_vault(
        &dir.join("vault.lumen"),
        vec![(
            "db/root",
            NewEntry {
                kind: Some(Kind::Password),
                hosts: Some(vec!["db1".into()]),
                secret: Some(secrecy::SecretString::from(VALUE)),
                ..NewEntry::default()
            },
        )],
    )
}

fn inventory() -> lumen::workspace::Inventory {
    lumen::workspace::hosts::parse(
        "[hosts.db1]\nhostname = \"127.0.0.1\"\n",
        Path::new("hosts.toml"),
    )
    .unwrap()
}

/// `lumen` with `LUMEN_HOME` = `home` and nothing else of this environment.
fn lumen(home: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_lumen"));
    c.env_clear()
        .env("LUMEN_HOME", home)
        .env("PATH", std::env::var_os("PATH").unwrap_or_default());
    c
}

/// Run `line` in the pane and wait until `done` is on its screen.
async fn run(app: &mut App, pane: PaneId, line: &str, done: &str) {
    typed(app, line);
    key(app, KeyCode::Enter, KeyModifiers::NONE);
    drive(app, done, |app| screen_of(app, pane).contains(done)).await;
}

/// Type `exit` and wait until the session ended.
async fn exit(app: &mut App, pane: PaneId) {
    typed(app, "exit\r");
    drive(app, "the end of the session", |app| {
        app.panes[&pane]
            .pane
            .as_terminal()
            .is_some_and(|t| t.closed().is_some() && !t.is_recorded())
    })
    .await;
}

fn the_recording(root: &Path) -> PathBuf {
    let all = store::files(root);
    assert_eq!(all.len(), 1, "{all:?}");
    all[0].1.clone()
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[tokio::test(flavor = "multi_thread")]
async fn a_recorded_ssh_session_is_valid_asciicast_without_a_secret() {
    let Some(sshd) = Sshd::start("") else {
        return;
    };
    let fake = FakeServer::start(vec![
        openai_proposes("", "call_1", "uname -s", "the kernel"),
        openai_proposes(
            "",
            "call_2",
            "printf '%s\\n' {{vault:db/root}} | sudo -S true",
            "its length",
        ),
        openai_says("done"),
    ])
    .await;
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("lumen");
    let root = lumen::paths::Paths::under(&home).recordings_dir();
    // The secrets file: the leak corpus, and the vault value plain, in base64 and in hex.
    let (text, secrets, _) = corpus();
    let b64 = base64::engine::general_purpose::STANDARD.encode(VALUE);
    let hex: String = VALUE.bytes().map(|b| format!("{b:02x}")).collect();
    let file = dir.path().join("secrets.txt");
    std::fs::write(
        &file,
        format!("{text}\nplain {VALUE}\nb64 {b64}\nhex {hex}\nEND-OF-SECRETS\n"),
    )
    .unwrap();
    let (mut app, pane) = ssh_app(&sshd, &fake, dir.path(), "db1", |o| {
        o.vault = vault(dir.path());
        o.inventory = inventory();
        o.recordings_root = Some(root.clone());
    })
    .await;
    run(
        &mut app,
        pane,
        &format!("cat {}", file.display()),
        "END-OF-SECRETS",
    )
    .await;
    // A password read with echo off: what is typed never comes back as output.
    run(
        &mut app,
        pane,
        "stty -echo; printf 'Password: '; read -r pw; stty echo; echo; echo got-${#pw}-chars",
        "Password:",
    )
    .await;
    typed(&mut app, TYPED);
    key(&mut app, KeyCode::Enter, KeyModifiers::NONE);
    drive(&mut app, "the read", |app| {
        screen_of(app, pane).contains(&format!("got-{}-chars", TYPED.len()))
    })
    .await;
    app.handle_event(TermEvent::Resize(120, 35));
    run(&mut app, pane, "echo resized-$((3*5))", "resized-15").await;
    // Two approved commands: one typed into the pane, one with a vault value over exec.
    ask_copilot(&mut app, "what kernel, and how long is the password?");
    for n in 0..2 {
        drive(&mut app, "a card", |app| {
            app.layers.approval().is_some_and(|c| c.proposal == n)
        })
        .await;
        let high = app
            .copilot
            .session(pane)
            .and_then(|s| s.proposal(n))
            .unwrap()
            .needs_confirmation();
        key(&mut app, KeyCode::Enter, KeyModifiers::NONE);
        if high {
            typed(&mut app, "db1");
            key(&mut app, KeyCode::Enter, KeyModifiers::NONE);
        }
    }
    drive(&mut app, "the copilot's end", |app| {
        app.copilot.session(pane).is_some_and(|s| {
            s.items()
                .iter()
                .any(|i| matches!(i, lumen::ai::copilot::Item::Assistant(t) if t == "done"))
        })
    })
    .await;
    // Back to the terminal pane, left of the copilot's.
    key(&mut app, KeyCode::Char('b'), KeyModifiers::CONTROL);
    key(&mut app, KeyCode::Left, KeyModifiers::NONE);
    exit(&mut app, pane).await;
    app.finish_recordings();

    let path = the_recording(&root);
    assert!(
        path.starts_with(root.join("db1")),
        "the inventory name: {path:?}"
    );
    assert!(path.to_string_lossy().ends_with(".cast.gz"), "{path:?}");
    assert_eq!(mode(&path), 0o600);
    for dir in [
        path.parent().unwrap(),
        path.parent().unwrap().parent().unwrap(),
        &root,
    ] {
        assert_eq!(mode(dir), 0o700, "{dir:?}");
    }
    let mut evs = Vec::new();
    let reading = cast::read(&path, |e| {
        evs.push(e);
        true
    });
    assert_eq!(reading.broken, None);
    let header = reading.header.unwrap();
    assert_eq!(header.version, 2);
    assert!(header.redacted);
    assert_eq!(
        header.lumen_version.as_deref(),
        Some(env!("CARGO_PKG_VERSION"))
    );
    assert!(header.title.contains("db1"), "{header:?}");
    let times: Vec<f64> = evs.iter().map(Event::time).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "times go forward");
    let output: String = evs
        .iter()
        .filter_map(|e| match e {
            Event::Output(_, d) => Some(d.as_str()),
            _ => None,
        })
        .collect();
    assert!(output.contains("END-OF-SECRETS") && output.contains("resized-15"));
    assert!(
        output.contains("{{vault:db/root}}"),
        "the value was masked as its placeholder"
    );
    for forbidden in [VALUE, &b64, &hex, TYPED] {
        assert!(
            !output.contains(forbidden),
            "{forbidden} is in the recording"
        );
    }
    let leaked: Vec<String> = secrets
        .iter()
        .filter(|s| !leaks(&output, s, LEAK_WINDOW).is_empty())
        .map(|s| format!("{s:?} → {:?}", leaks(&output, s, LEAK_WINDOW)))
        .collect();
    assert!(
        leaked.is_empty(),
        "secrets in the recording:\n{}",
        leaked.join("\n")
    );
    assert!(
        evs.iter().any(|e| matches!(e, Event::Resize(_, 120, _))),
        "the resize: {:?}",
        evs.iter()
            .filter(|e| matches!(e, Event::Resize(..)))
            .collect::<Vec<_>>()
    );
    let markers: Vec<&str> = evs
        .iter()
        .filter_map(|e| match e {
            Event::Marker(_, m) => Some(m.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(
        markers,
        vec![
            "uname -s",
            "printf '%s\\n' {{vault:db/root}} | sudo -S true"
        ],
        "one marker per approved command"
    );

    // lumen logs: listed with its ID; exported as plain asciicast; read by asciinema.
    let out = lumen(&home)
        .args(["logs", "list", "db1", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let id = doc["recordings"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(doc["recordings"][0]["host"], "db1");
    let grep = lumen(&home)
        .args(["logs", "list", "--grep", "resized-15"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&grep.stdout).contains(&id));
    let none = lumen(&home)
        .args(["logs", "list", "--grep", "no-such-text-anywhere"])
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&none.stdout).contains(&id));
    let plain = dir.path().join("export.cast");
    let out = lumen(&home)
        .args(["logs", "export", &id, "-o", plain.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    if Path::new("/usr/bin/asciinema").exists() {
        // asciinema 2.x's `cat` opens /dev/tty: util-linux `script` gives it one.
        let cat = Command::new("script")
            .args(["-q", "-e", "-c"])
            .arg(format!("asciinema cat {}", plain.display()))
            .arg("/dev/null")
            .env("HOME", dir.path())
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        assert!(cat.status.success(), "{cat:?}");
        let said = String::from_utf8_lossy(&cat.stdout);
        assert!(said.contains("END-OF-SECRETS") && said.contains("resized-15"));
        assert!(!said.contains(VALUE) && !said.contains(TYPED));
    } else {
        eprintln!("SKIP asciinema cat: install it with scripts/install-test-deps.sh");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_value_printed_in_two_pieces_with_a_pause_between_is_masked() {
    let Some(sshd) = Sshd::start("") else {
        return;
    };
    let fake = FakeServer::start(vec![]).await;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("recordings");
    let (mut app, pane) = ssh_app(&sshd, &fake, dir.path(), "db1", |o| {
        o.vault = vault(dir.path());
        o.inventory = inventory();
        o.recordings_root = Some(root.clone());
    })
    .await;
    let (a, b) = VALUE.split_at(10);
    run(
        &mut app,
        pane,
        &format!("printf '%s' 'x={a}'; sleep 1; printf '%s\\n' '{b}'; echo piece-$((2*5))"),
        "piece-10",
    )
    .await;
    exit(&mut app, pane).await;
    app.finish_recordings();
    let mut output = String::new();
    cast::read(&the_recording(&root), |e| {
        if let Event::Output(_, d) = e {
            output.push_str(&d);
        }
        true
    });
    // The command line's echo holds the halves apart; the output joins them, masked.
    assert!(output.contains("x={{vault:db/root}}"), "{output:?}");
    assert!(!output.contains(VALUE));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_session_that_ran_top_shows_as_readable_lines() {
    let Some(sshd) = Sshd::start("") else {
        return;
    };
    let fake = FakeServer::start(vec![]).await;
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("lumen");
    let root = lumen::paths::Paths::under(&home).recordings_dir();
    let (mut app, pane) = ssh_app(&sshd, &fake, dir.path(), "db1", |o| {
        o.inventory = inventory();
        o.recordings_root = Some(root.clone());
    })
    .await;
    run(&mut app, pane, "echo before-$((2*3))", "before-6").await;
    // A few refreshes, then top ends by itself (keys typed meanwhile would be top's).
    run(
        &mut app,
        pane,
        "top -d 0.2 -n 6; echo after-$((2*4))",
        "after-8",
    )
    .await;
    exit(&mut app, pane).await;
    app.finish_recordings();
    let id = store::id_of(&root, &the_recording(&root));
    let out = lumen(&home).args(["logs", "show", &id]).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let shown = String::from_utf8(out.stdout).unwrap();
    assert!(!shown.contains('\x1b'), "no escape sequence: {shown:?}");
    assert!(
        !shown.chars().any(|c| c.is_control() && c != '\n'),
        "{shown:?}"
    );
    let lines: Vec<&str> = shown.lines().collect();
    let at = |needle: &str| lines.iter().position(|l| l.contains(needle));
    let (before, top, after) = (
        at("before-6").unwrap(),
        at("load average").unwrap(),
        at("after-8").unwrap(),
    );
    assert!(before < top && top < after, "{shown}");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("PID") && l.contains("COMMAND")),
        "{shown}"
    );
}
