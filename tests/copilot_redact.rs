//! The copilot must not leak, over a real shell on a PTY and a fake provider that records
//! every byte: with the vault locked nothing is sent (question, Ctrl-o, a command's output
//! after an auto-lock) until it is unlocked, and then its values leave in no encoding; a
//! private key cut by `context_lines` or by `read_scrollback` is masked whole; a value masked
//! on the screen is masked when the question repeats it, and the pane says so.
#![allow(clippy::unwrap_used)]

mod common;

use base64::Engine;
use common::copilot::{ai_setup, ask_copilot, drive, key, screen_of, sent, shell_app, typed};
use common::fake_ai::{FakeServer, openai_calls, openai_proposes, openai_says};
use common::leak_corpus::{corpus, leaks};
use crossterm::event::{KeyCode, KeyModifiers};
use lumen::ai::copilot::Item;
use lumen::app::App;
use lumen::app::layout::PaneId;
use lumen::app::popup::Popup;
use lumen::vault::VaultOwner;
use std::path::Path;

const SECRET: &str = "hunter2-the-secret";
const PASSPHRASE: &str = "correct horse";
/// A surviving piece of a secret this long counts as a leak.
const WINDOW: usize = 12;

/// A vault at `dir/vault.lumen` holding `db/root` = [`SECRET`], unlocked.
fn vault(dir: &Path) -> VaultOwner {
    common::copilot::root_vault(dir, SECRET)
}

/// [`SECRET`] as it may be printed: plain, base64, hex.
fn secret_forms() -> Vec<String> {
    let b64 = base64::engine::general_purpose::STANDARD.encode(SECRET);
    let hex: String = SECRET.bytes().map(|b| format!("{b:02x}")).collect();
    vec![SECRET.to_string(), b64, hex]
}

/// Run `command` in the shell and wait for its end (it must print `done-42` last). It is typed
/// at the prompt: typed earlier, the prompt lands inside the echoed command (a slow start).
async fn run(app: &mut App, terminal: PaneId, command: &str) {
    drive(app, "the prompt", |app| {
        screen_of(app, terminal).trim_end().ends_with('$')
    })
    .await;
    typed(app, &format!("{command}; echo done-$((6*7))\r"));
    drive(app, "the command", |app| {
        screen_of(app, terminal).contains("done-42")
    })
    .await;
}

/// Whether the conversation about `terminal` is idle after `n` requests.
fn answered(app: &App, fake: &FakeServer, terminal: PaneId, n: usize) -> bool {
    fake.requests().len() >= n && app.copilot.session(terminal).is_some_and(|s| !s.is_busy())
}

fn notices(app: &App, terminal: PaneId) -> Vec<String> {
    app.copilot
        .session(terminal)
        .map(|s| {
            s.items()
                .iter()
                .filter_map(|i| match i {
                    Item::Notice(t) | Item::Error(t) => Some(t.clone()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default()
}

fn popup_text(app: &App) -> Option<String> {
    match app.layers.popup() {
        Some(Popup::Notice { lines, .. }) => Some(lines.join("\n")),
        _ => None,
    }
}

/// The pieces of `secrets` found in `text`.
fn leaked<'a>(text: &str, secrets: &'a [String]) -> Vec<&'a String> {
    secrets
        .iter()
        .filter(|s| !leaks(text, s, WINDOW).is_empty())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_locked_vault_sends_nothing_until_it_is_open_and_then_no_form_of_its_values() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let fake = FakeServer::start(vec![openai_says("Those are configuration files.")]).await;
    // The vault exists and is locked, as it is at start and after its idle time.
    let owner = vault(dir.path());
    owner.lock();
    let (text, mut secrets, _) = corpus();
    let forms = secret_forms();
    let screen_file = format!("{text}\n{}\n", forms.join("\n"));
    std::fs::write(home.join("screen.txt"), screen_file).unwrap();
    secrets.extend(forms.iter().cloned());
    let mut app = shell_app(&home, 160, 50, |o| {
        o.vault = owner;
        let mut ai = ai_setup(&fake, &dir.path().join("workspace"));
        ai.config.context_lines = 1000;
        o.ai = Some(ai);
    });
    let terminal = app.focused().unwrap();
    run(&mut app, terminal, "cat ~/screen.txt").await;

    // A question: the unlock dialog, and nothing goes.
    ask_copilot(&mut app, "what are these files?");
    drive(&mut app, "the unlock dialog or an answer", |app| {
        app.layers.unlock().is_some() || answered(app, &fake, terminal, 1)
    })
    .await;
    assert_eq!(
        fake.attempts(),
        0,
        "a request went while the vault was locked"
    );
    assert!(
        app.layers.unlock().is_some(),
        "{}",
        common::app::screen(&app)
    );
    assert!(
        notices(&app, terminal)
            .iter()
            .any(|n| n.contains("vault is locked")),
        "{:?}",
        notices(&app, terminal)
    );

    // Cancelled: still nothing, and the pane says why.
    key(&mut app, KeyCode::Esc, KeyModifiers::NONE);
    drive(&mut app, "the dialog to close", |app| {
        app.layers.unlock().is_none()
    })
    .await;
    assert_eq!(fake.attempts(), 0);
    assert!(
        notices(&app, terminal)
            .iter()
            .any(|n| n.contains("not sent")),
        "{:?}",
        notices(&app, terminal)
    );

    // Ctrl-o while locked shows nothing of the screen: it asks for the vault first.
    key(&mut app, KeyCode::Char('o'), KeyModifiers::CONTROL);
    if let Some(view) = popup_text(&app) {
        assert!(
            leaked(&view, &forms).is_empty(),
            "Ctrl-o showed a vault value while locked:\n{view}"
        );
    }
    assert!(
        app.layers.unlock().is_some(),
        "{}",
        common::app::screen(&app)
    );
    typed(&mut app, PASSPHRASE);
    key(&mut app, KeyCode::Enter, KeyModifiers::NONE);
    drive(&mut app, "the view", |app| popup_text(app).is_some()).await;
    let view = popup_text(&app).unwrap();
    assert!(view.contains("{{vault:db/root}}"), "{view}");
    assert!(leaked(&view, &secrets).is_empty(), "{view}");
    assert_eq!(fake.attempts(), 0, "Ctrl-o sent a request");
    key(&mut app, KeyCode::Enter, KeyModifiers::NONE);

    // Unlocked: the question goes, with every secret and every form of the value masked.
    typed(&mut app, "what are these files?");
    key(&mut app, KeyCode::Enter, KeyModifiers::NONE);
    drive(&mut app, "the answer", |app| {
        answered(app, &fake, terminal, 1)
    })
    .await;
    let all = sent(&fake);
    assert!(all.contains("$ env | sort") && all.contains("DB_HOST=db1.internal"));
    assert!(all.contains("{{vault:db/root}}"));
    let out = leaked(&all, &secrets);
    assert!(out.is_empty(), "secrets reached the provider: {out:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn output_that_comes_back_after_the_vault_locked_waits_for_it() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let forms = secret_forms();
    std::fs::write(home.join("app.env"), format!("{}\n", forms[1..].join("\n"))).unwrap();
    let fake = FakeServer::start(vec![
        openai_proposes("", "call_1", "cat ~/app.env", "to see the settings"),
        openai_says("Those are encoded."),
    ])
    .await;
    let mut app = shell_app(&home, 160, 50, |o| {
        o.vault = vault(dir.path());
        o.ai = Some(ai_setup(&fake, &dir.path().join("workspace")));
    });
    let terminal = app.focused().unwrap();
    run(&mut app, terminal, "true").await;
    ask_copilot(&mut app, "what is in app.env?");
    drive(&mut app, "the card", |app| app.layers.approval().is_some()).await;
    // The vault locks (its idle time) while the card waits; then the operator approves.
    app.lock_vaults();
    key(&mut app, KeyCode::Enter, KeyModifiers::NONE);
    drive(&mut app, "the unlock dialog or the next request", |app| {
        app.layers.unlock().is_some() || answered(app, &fake, terminal, 2)
    })
    .await;
    assert_eq!(fake.requests().len(), 1, "the output went while locked");
    assert!(app.layers.unlock().is_some());
    typed(&mut app, PASSPHRASE);
    key(&mut app, KeyCode::Enter, KeyModifiers::NONE);
    drive(&mut app, "the answer", |app| {
        answered(app, &fake, terminal, 2)
    })
    .await;
    let requests = fake.requests();
    let second = String::from_utf8_lossy(&requests[1].body).into_owned();
    assert!(second.contains("{{vault:db/root}}"), "{second}");
    let out = leaked(&sent(&fake), &forms);
    assert!(out.is_empty(), "the value reached the provider: {out:?}");
}

/// An RSA 4096 key in PEM, made by ssh-keygen in `home/.ssh`; returns its base64 lines.
fn rsa_key(home: &Path) -> Vec<String> {
    let ssh = home.join(".ssh");
    std::fs::create_dir_all(&ssh).unwrap();
    let key = ssh.join("id_rsa");
    let ok = std::process::Command::new("ssh-keygen")
        .args([
            "-q", "-t", "rsa", "-b", "4096", "-m", "PEM", "-N", "", "-C", "t", "-f",
        ])
        .arg(&key)
        .status()
        .unwrap()
        .success();
    assert!(ok, "ssh-keygen failed");
    let body: Vec<String> = std::fs::read_to_string(&key)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .map(str::to_string)
        .collect();
    assert_eq!(body.len(), 49, "an RSA 4096 PEM key has 49 base64 lines");
    body
}

/// Earlier output, the key, then 120 lines: the key's header is far above the last lines.
const CAT_KEY: &str = "seq 1 150; cat ~/.ssh/id_rsa; seq 1001 1120";

#[tokio::test(flavor = "multi_thread")]
async fn a_private_key_cut_by_context_lines_is_masked_whole() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let body = rsa_key(&home);
    let fake = FakeServer::start(vec![openai_says("ok")]).await;
    // The default context_lines (200).
    let mut app = shell_app(&home, 160, 50, |o| {
        o.ai = Some(ai_setup(&fake, &dir.path().join("workspace")));
    });
    let terminal = app.focused().unwrap();
    run(&mut app, terminal, CAT_KEY).await;
    ask_copilot(&mut app, "what happened?");
    drive(&mut app, "the answer", |app| {
        answered(app, &fake, terminal, 1)
    })
    .await;
    let all = sent(&fake);
    let out = leaked(&all, &body);
    assert!(out.is_empty(), "{} key lines were sent", out.len());
    assert!(all.contains("1001") && all.contains("1120"), "{all}");
    assert!(all.contains("[redacted:private-key]"), "{all}");
}

#[tokio::test(flavor = "multi_thread")]
async fn read_scrollback_masks_a_key_before_cutting_it() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let body = rsa_key(&home);
    let fake = FakeServer::start(vec![
        openai_calls(
            "",
            "call_1",
            "read_scrollback",
            &serde_json::json!({"lines": 140}),
        ),
        openai_says("ok"),
    ])
    .await;
    let mut app = shell_app(&home, 160, 50, |o| {
        let mut ai = ai_setup(&fake, &dir.path().join("workspace"));
        // The screen sent with the question holds none of the key: read_scrollback does.
        ai.config.context_lines = 20;
        o.ai = Some(ai);
    });
    let terminal = app.focused().unwrap();
    run(&mut app, terminal, CAT_KEY).await;
    ask_copilot(&mut app, "what happened?");
    drive(&mut app, "the answer", |app| {
        answered(app, &fake, terminal, 2)
    })
    .await;
    let requests = fake.requests();
    let second = String::from_utf8_lossy(&requests[1].body).into_owned();
    let out = leaked(&sent(&fake), &body);
    assert!(out.is_empty(), "{} key lines were sent", out.len());
    assert!(second.contains("1001") && second.contains("[redacted:private-key]"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_secret_masked_on_screen_is_masked_in_the_question_and_the_pane_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let fake = FakeServer::start(vec![openai_says("Check the user's grants.")]).await;
    let mut app = shell_app(&home, 160, 50, |o| {
        o.ai = Some(ai_setup(&fake, &dir.path().join("workspace")));
    });
    let terminal = app.focused().unwrap();
    run(
        &mut app,
        terminal,
        "mysql -h db1 -u app -pS3cr3t! 2>/dev/null || echo access denied",
    )
    .await;
    ask_copilot(&mut app, "why is S3cr3t! refused for app?");
    drive(&mut app, "the answer", |app| {
        answered(app, &fake, terminal, 1)
    })
    .await;
    let all = sent(&fake);
    assert!(!all.contains("S3cr3t"), "the password left: {all}");
    assert!(all.contains("why is [redacted:cli-password] refused for app?"));
    let said = notices(&app, terminal);
    assert!(
        said.iter()
            .any(|n| n.contains("masked") && n.contains("[redacted:cli-password]")),
        "{said:?}"
    );
    assert!(common::app::screen(&app).contains("masked"));
}
