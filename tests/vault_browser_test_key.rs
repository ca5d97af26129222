//! The vault browser's `t` (Credential Test) in the app, against a real OpenSSH `sshd`: the
//! selected entry alone is offered, over a fresh login, and the verdict shows in the browser.
//! The app's own connection options hold a key sshd accepts, so a test that leaked them into
//! the login would call a refused entry "works".
#![allow(clippy::unwrap_used)]

mod common;

use common::app::{screen, settle_async};
use common::copilot::{key, prefix};
use common::{Answers, Sshd, auto_answer, keygen, unlocked_vault};
use crossterm::event::{KeyCode, KeyModifiers};
use lumen::app::{App, AppOptions, LiveSpawner};
use lumen::pty::PtyCommand;
use lumen::ssh::Connector;
use lumen::vault::{Kind, NewEntry};
use lumen::workspace::{Host, Inventory};
use secrecy::SecretString;

fn key_entry(path: &std::path::Path) -> NewEntry {
    NewEntry {
        kind: Some(Kind::SshKey),
        hosts: Some(vec!["@web".into()]),
        secret: Some(SecretString::from(std::fs::read_to_string(path).unwrap())),
        ..NewEntry::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn t_tests_the_selected_entry_alone_and_shows_the_verdict() {
    let sshd = Sshd::start("").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good");
    keygen(&good, "ed25519", "");
    sshd.authorize(&good.with_extension("pub"));
    let other = dir.path().join("other");
    keygen(&other, "ed25519", "");
    let owner = unlocked_vault(
        &dir.path().join("vault.lumen"),
        vec![("a-good", key_entry(&good)), ("b-other", key_entry(&other))],
    );
    // These options log in by themselves (an authorized identity file).
    let opts = sshd.client_options(dir.path());
    let (prompter, _asked) = auto_answer(Answers::default());
    let connector = Connector::new(opts, prompter);
    let mut options = AppOptions::new(Box::new(LiveSpawner::new(
        PtyCommand::new("/bin/sh"),
        connector.clone(),
    )));
    options.size = (140, 40);
    options.connector = Some(connector);
    options.vault = owner;
    options.inventory = Inventory {
        hosts: vec![Host {
            name: "web1".into(),
            hostname: Some("127.0.0.1".into()),
            port: Some(sshd.port),
            user: Some(lumen::ssh::target::local_user()),
            groups: vec!["web".into()],
            ..Host::default()
        }],
        ..Inventory::default()
    };
    let mut app = App::new(options);
    prefix(&mut app, 'v');
    settle_async(&mut app, |_| {}).await;

    key(&mut app, KeyCode::Char('t'), KeyModifiers::NONE);
    settle_async(&mut app, |_| {}).await;
    let shown = screen(&app);
    assert!(shown.contains("test a-good: web1 works"), "{shown}");

    key(&mut app, KeyCode::Char('j'), KeyModifiers::NONE);
    key(&mut app, KeyCode::Char('t'), KeyModifiers::NONE);
    settle_async(&mut app, |_| {}).await;
    let shown = screen(&app);
    assert!(shown.contains("test b-other: web1 refused"), "{shown}");

    let events = lumen::vault::AuditLog::beside(&dir.path().join("vault.lumen"))
        .events()
        .unwrap();
    let tests: Vec<(Option<String>, Option<String>)> = events
        .iter()
        .filter(|e| e.action == lumen::vault::Action::Test)
        .map(|e| (e.entry.clone(), e.detail.clone()))
        .collect();
    assert_eq!(
        tests,
        [
            (Some("a-good".into()), Some("works".into())),
            (Some("b-other".into()), Some("refused".into()))
        ]
    );
}
