//! A proposal holding a vault placeholder, against a real `sshd` and a recording fake
//! provider: once approved it runs on its own exec channel with the value substituted (never
//! typed into the pane), its output goes back redacted (the value in the host's error leaves as
//! the placeholder), and a placeholder for an entry not bound to the host is refused. No
//! request to the provider holds either secret.
#![allow(clippy::unwrap_used)]

mod common;

use common::Sshd;
use common::fake_ai::{FakeServer, Reply, openai_proposes, openai_says};
use common::live::{ask_copilot, drive, key, ssh_app, typed};
use crossterm::event::{KeyCode, KeyModifiers};
use lumen::ai::copilot::{Item, ProposalState};
use lumen::app::App;
use lumen::vault::{Kind, NewEntry, VaultOwner};
use secrecy::SecretString;

const DB_SECRET: &str = "s3cr3t-db-value-42";
const OTHER_SECRET: &str = "other-secret-99";

fn proposes(id: &str, command: &str) -> Reply {
    openai_proposes("", id, command, "check the password")
}

fn vault(dir: &std::path::Path) -> VaultOwner {
    let entry = |host: &str, secret: &str| NewEntry {
        kind: Some(Kind::Password),
        hosts: Some(vec![host.into()]),
        secret: Some(SecretString::from(secret)),
        ..NewEntry::default()
    };
    common::unlocked_vault(
        &dir.join("vault.lumen"),
        vec![
            ("db/pass", entry("db", DB_SECRET)),
            ("other/pass", entry("web9", OTHER_SECRET)),
        ],
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn placeholders_run_over_exec_only_for_their_host_and_never_leave_in_clear() {
    let Some(sshd) = Sshd::start("") else {
        return;
    };
    let fake = FakeServer::start(vec![
        proposes("call_1", "ls {{vault:db/pass}}"),
        proposes("call_2", "PGPASSWORD={{vault:other/pass}} true"),
        openai_says("done"),
    ])
    .await;
    let dir = tempfile::tempdir().unwrap();
    let (mut app, terminal) = ssh_app(&sshd, &fake, dir.path(), "db", |o| {
        o.vault = vault(dir.path());
    })
    .await;

    ask_copilot(&mut app, "is the db password right?");
    drive(&mut app, "the first card", |app| {
        app.layers.approval().is_some()
    })
    .await;
    let proposal = |app: &App, n: usize| {
        app.copilot
            .session(terminal)
            .and_then(|s| s.proposal(n))
            .cloned()
            .unwrap()
    };
    let p = proposal(&app, 0);
    assert!(p.uses_vault());
    key(&mut app, KeyCode::Enter, KeyModifiers::NONE);
    if p.needs_confirmation() {
        typed(&mut app, "db");
        key(&mut app, KeyCode::Enter, KeyModifiers::NONE);
    }
    // It ran on exec; its output came back as the placeholder; then the second card.
    drive(&mut app, "the second card", |app| {
        app.layers.approval().is_some_and(|c| c.proposal == 1)
    })
    .await;
    assert_eq!(proposal(&app, 0).state, ProposalState::Done);
    key(&mut app, KeyCode::Enter, KeyModifiers::NONE);
    if proposal(&app, 1).needs_confirmation() {
        typed(&mut app, "db");
        key(&mut app, KeyCode::Enter, KeyModifiers::NONE);
    }
    drive(&mut app, "the end of the task", |app| {
        app.copilot.session(terminal).is_some_and(|s| {
            s.items()
                .iter()
                .any(|i| matches!(i, Item::Assistant(t) if t == "done"))
        })
    })
    .await;
    let ProposalState::Refused(why) = proposal(&app, 1).state else {
        panic!("an entry of another host is refused");
    };
    assert!(why.contains("other/pass"), "{why}");

    let requests = fake.requests();
    assert_eq!(requests.len(), 3);
    let first = String::from_utf8_lossy(&requests[0].body).to_string();
    assert!(
        first.contains("kernel: Linux"),
        "the host's facts, gathered over exec, went with the first request: {first}"
    );
    let second = String::from_utf8_lossy(&requests[1].body).to_string();
    assert!(
        second.contains("'{{vault:db/pass}}': No such file"),
        "the echoed value came back as its placeholder: {second}"
    );
    let third = String::from_utf8_lossy(&requests[2].body).to_string();
    assert!(third.contains("refused"), "{third}");
    for r in &requests {
        let raw = String::from_utf8_lossy(&r.raw);
        assert!(!raw.contains(DB_SECRET) && !raw.contains(OTHER_SECRET));
    }
    // Never typed into the session.
    let screen = app.panes[&terminal]
        .pane
        .as_terminal()
        .unwrap()
        .screen_text();
    assert!(
        !screen.contains(DB_SECRET) && !screen.contains("vault"),
        "{screen}"
    );
}
