//! Disk work leaves `update`: the copilot's history lines are written off the UI task and in
//! order, a busy scans.sqlite (another lumen saving a scan) holds up neither keys nor drawing,
//! and the vault browser's audited reads and saves run as background tasks.
#![allow(clippy::unwrap_used)]

mod common;

use common::app::{app_spec_with, output, screen, settle, settle_async};
use common::copilot::{
    ai_setup, ask_copilot, drive_threaded, key, prefix, root_vault, sent, typed,
};
use common::fake_ai::{FakeServer, openai_says};
use common::scans::{scanned_workspace, session};
use crossterm::event::{KeyCode, KeyModifiers};
use lumen::app::PaneSpec;
use std::path::Path;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_scans_database_holds_up_neither_keys_nor_drawing() {
    let (dir, setup) = scanned_workspace();
    let db = setup.db.clone();
    let fake = FakeServer::start(vec![openai_says("web1 needs openssl 3.0.13")]).await;
    let workspace = dir.path().join("workspace");
    let (mut app, backends, _) = app_spec_with(150, 40, session("web1"), |o| {
        o.scans = Some(setup);
        o.ai = Some(ai_setup(&fake, &workspace));
    });
    output(&mut app, &backends, 0, b"ops@web1:~$ ");

    // Another lumen is saving a scan: it holds scans.sqlite's write lock.
    let saving = rusqlite::Connection::open(&db).unwrap();
    saving.execute_batch("BEGIN EXCLUSIVE").unwrap();
    ask_copilot(&mut app, "is web1 patched?");
    typed(&mut app, "and then");
    let mut busy = Some(saving);
    drive_threaded(&mut app, "the answer", |app| {
        let s = screen(app);
        if let Some(saving) = &busy {
            // While it is busy the app still takes keys and draws; the request waits for
            // the last scan, not the UI.
            if s.contains("is web1 patched?") && s.contains("and then") {
                assert!(fake.requests().is_empty(), "sent before the scan was read");
                // The scan is saved: the request goes, with the host's last scan in it.
                saving.execute_batch("COMMIT").unwrap();
                busy = None;
            }
            return false;
        }
        s.contains("web1 needs openssl 3.0.13")
    })
    .await;
    let body = sent(&fake);
    assert!(body.contains("CVE-2024-0727"), "{body}");
}

#[tokio::test]
async fn ctrl_o_shows_the_last_scan_as_a_request_would_carry_it() {
    let (dir, setup) = scanned_workspace();
    let fake = FakeServer::start(Vec::new()).await;
    let workspace = dir.path().join("workspace");
    let (mut app, _b, _) = app_spec_with(150, 50, session("web1"), |o| {
        o.scans = Some(setup);
        o.ai = Some(ai_setup(&fake, &workspace));
    });
    prefix(&mut app, 'a');
    key(&mut app, KeyCode::Char('o'), KeyModifiers::CONTROL);
    // The view waits for scans.sqlite, read off the UI task.
    assert!(!screen(&app).contains("What the model would see"));
    settle(&mut app);
    let s = screen(&app);
    assert!(s.contains("What the model would see"), "{s}");
    assert!(s.contains("CVE-2024-0727"), "{s}");
    assert!(fake.requests().is_empty(), "nothing is sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_copilot_history_is_written_off_the_ui_task_every_line_in_order() {
    let fake = FakeServer::start(vec![
        openai_says("first answer"),
        openai_says("second answer"),
    ])
    .await;
    let dir = tempfile::tempdir().unwrap();
    let workspace = dir.path().join("workspace");
    let (mut app, backends, _) = app_spec_with(150, 40, session("web1"), |o| {
        o.ai = Some(ai_setup(&fake, &workspace));
    });
    output(&mut app, &backends, 0, b"ops@web1:~$ ");
    let path = lumen::ai::copilot::history_path(&workspace, "web1");

    ask_copilot(&mut app, "first question");
    assert!(
        !path.exists(),
        "update wrote the history itself instead of handing it to a task"
    );
    drive_threaded(&mut app, "the first answer", |app| {
        screen(app).contains("first answer")
    })
    .await;
    typed(&mut app, "second question");
    key(&mut app, KeyCode::Enter, KeyModifiers::NONE);
    let lines = |path: &std::path::Path| {
        lumen::ai::copilot::read_history(path)
            .map(|(records, _)| records)
            .unwrap_or_default()
    };
    drive_threaded(&mut app, "four history lines", |_| lines(&path).len() >= 4).await;

    let got: Vec<(String, String)> = lines(&path).into_iter().map(|r| (r.kind, r.text)).collect();
    let want: Vec<(String, String)> = [
        ("question", "first question"),
        ("answer", "first answer"),
        ("question", "second question"),
        ("answer", "second answer"),
    ]
    .iter()
    .map(|(k, t)| (k.to_string(), t.to_string()))
    .collect();
    assert_eq!(got, want);
}

#[test]
fn the_vault_browser_reads_and_saves_off_the_ui_task() {
    let dir = tempfile::tempdir().unwrap();
    let vault = root_vault(dir.path(), "s3cret-value-1");
    let (mut app, _b, _) = app_spec_with(120, 30, PaneSpec::LocalShell, |o| o.vault = vault);
    let (file, log) = (
        dir.path().join("vault.lumen"),
        dir.path().join("vault.audit.jsonl"),
    );
    let bytes = |p: &Path| std::fs::read(p).unwrap();
    prefix(&mut app, 'v');
    let (saved, audited) = (bytes(&file), bytes(&log));

    // Revealing reads the secret, which appends to the audit log: a task does it.
    key(&mut app, KeyCode::Char('r'), KeyModifiers::NONE);
    assert_eq!(bytes(&log), audited, "update wrote the audit log itself");
    assert!(!screen(&app).contains("s3cret-value-1"));
    settle(&mut app);
    let s = screen(&app);
    assert!(s.contains("s3cret-value-1"), "{s}");
    assert!(bytes(&log).len() > audited.len(), "the reveal is audited");

    // Deleting saves the vault file: a task does that too.
    key(&mut app, KeyCode::Char('d'), KeyModifiers::NONE);
    key(&mut app, KeyCode::Char('y'), KeyModifiers::NONE);
    assert_eq!(bytes(&file), saved, "update saved the vault itself");
    settle(&mut app);
    assert_ne!(bytes(&file), saved);
    let s = screen(&app);
    assert!(s.contains("deleted db/root"), "{s}");
}

#[tokio::test]
async fn the_copilots_api_key_is_read_from_the_vault_off_the_ui_task() {
    let fake = FakeServer::start(vec![openai_says("hello from the model")]).await;
    let dir = tempfile::tempdir().unwrap();
    let mut setup = ai_setup(&fake, &dir.path().join("workspace"));
    setup.config.profile.api_key = Some(lumen::ai::provider::KeySource::Vault("ai/key".into()));
    let vault = common::unlocked_vault(
        &dir.path().join("vault.lumen"),
        vec![(
            "ai/key",
            lumen::vault::NewEntry {
                kind: Some(lumen::vault::Kind::ApiKey),
                secret: Some(secrecy::SecretString::from("test-key-not-real-0002")),
                ..Default::default()
            },
        )],
    );
    let (mut app, _b, _) = app_spec_with(120, 40, PaneSpec::LocalShell, |o| {
        o.ai = Some(setup);
        o.vault = vault;
    });
    let audit = dir.path().join("vault.audit.jsonl");
    let audited = std::fs::read(&audit).unwrap();

    ask_copilot(&mut app, "hi");
    // The question asks for the key first (before the host's facts); update only queued the
    // read, which a task does (an audited read) when the loop runs it.
    assert_eq!(
        std::fs::read(&audit).unwrap(),
        audited,
        "update read the API key itself"
    );
    settle_async(&mut app, |_| {}).await;
    assert!(std::fs::read(&audit).unwrap().len() > audited.len());
    let s = screen(&app);
    assert!(s.contains("hello from the model"), "{s}");
    let auth = fake.requests()[0]
        .header("authorization")
        .unwrap()
        .to_string();
    assert!(auth.contains("test-key-not-real-0002"), "{auth}");
}
