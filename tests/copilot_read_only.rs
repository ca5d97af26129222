//! `ai = "read-only-auto"` against a real `sshd` and a recording fake provider: commands that
//! arm the operator's shell (`PROMPT_COMMAND`, `trap`, `alias`, `PS1`, `export PAGER`), a
//! command holding keys (Ctrl-U, Enter) and Low commands not on the read-only allow-list wait
//! on the approval card and never reach the shell (the files their payloads would create never
//! appear, even after later prompts); read-only commands (`ls -l /etc`, `uptime`) still run by
//! themselves and their output goes back to the model.
#![allow(clippy::unwrap_used)]

mod common;

use common::Sshd;
use common::copilot::{ask_copilot, drive, key, screen_of, ssh_app, typed};
use common::fake_ai::{FakeServer, openai_proposes, openai_says};
use crossterm::event::{KeyCode, KeyModifiers};
use lumen::ai::copilot::{Item, ProposalState};
use lumen::app::App;
use lumen::app::layout::PaneId;

fn proposal_state(app: &App, terminal: PaneId, n: usize) -> Option<ProposalState> {
    app.copilot
        .session(terminal)
        .and_then(|s| s.proposal(n))
        .map(|p| p.state.clone())
}

fn notices(app: &App, terminal: PaneId) -> Vec<String> {
    app.copilot
        .session(terminal)
        .map(|s| {
            s.items()
                .iter()
                .filter_map(|i| match i {
                    Item::Notice(n) => Some(n.clone()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn read_only_auto_asks_for_what_arms_the_shell_and_runs_only_read_only_commands() {
    let Some(sshd) = Sshd::start("") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let markers = dir.path().join("markers");
    std::fs::create_dir(&markers).unwrap();
    let m = markers.display();
    let probes = [
        format!("PROMPT_COMMAND='touch {m}/prompt-command'"),
        format!("trap 'touch {m}/trap' DEBUG"),
        format!("alias ls='touch {m}/alias; command ls'"),
        format!("PS1='$(touch {m}/ps1)$ '"),
        format!("export PAGER='touch {m}/pager'"),
        format!("FOO=1 ls {m}"),
        // Typed byte for byte, Ctrl-U would erase the line and Enter run what follows.
        format!("ls -l /etc #\u{15}touch {m}/ctrl-u\rtouch {m}/enter"),
    ];
    let mut replies: Vec<_> = probes
        .iter()
        .enumerate()
        .map(|(i, p)| openai_proposes("", &format!("call_{i}"), p, "to look"))
        .collect();
    replies.push(openai_proposes("", "call_ls", "ls -l /etc", "to look"));
    replies.push(openai_proposes("", "call_up", "uptime", "to look"));
    replies.push(openai_says("done"));
    let fake = FakeServer::start(replies).await;
    let (mut app, terminal) = ssh_app(&sshd, &fake, dir.path(), "db", |o| {
        let text = "[hosts.db]\nhostname = \"127.0.0.1\"\nai = \"read-only-auto\"\n";
        let path = dir.path().join("hosts.toml");
        std::fs::write(&path, text).unwrap();
        o.inventory = lumen::workspace::hosts::parse(text, &path).unwrap();
    })
    .await;

    ask_copilot(&mut app, "what is going on?");
    for (n, probe) in probes.iter().enumerate() {
        drive(&mut app, &format!("the card for {probe}"), |app| {
            app.layers.approval().is_some_and(|c| c.proposal == n)
        })
        .await;
        let p = app
            .copilot
            .session(terminal)
            .and_then(|s| s.proposal(n))
            .cloned()
            .unwrap();
        assert_eq!(&p.command, probe);
        assert_eq!(
            p.state,
            ProposalState::Pending,
            "{probe} waits for a keystroke"
        );
        assert!(
            !screen_of(&app, terminal).contains(&m.to_string()),
            "{probe} reached the shell:\n{}",
            screen_of(&app, terminal)
        );
        // The operator rejects it: the model is told, and proposes the next one.
        key(&mut app, KeyCode::Char('x'), KeyModifiers::NONE);
        assert_eq!(
            proposal_state(&app, terminal, n),
            Some(ProposalState::Rejected)
        );
    }
    let asked = notices(&app, terminal);
    assert!(
        asked.iter().any(|n| n.starts_with("asks before running:")),
        "the copilot says why it asks: {asked:?}"
    );

    // The read-only ones run with no keystroke, one after the other, and the task ends.
    let (ls, up) = (probes.len(), probes.len() + 1);
    drive(&mut app, "ls and uptime to run by themselves", |app| {
        proposal_state(app, terminal, up) == Some(ProposalState::Done)
            && app.copilot.session(terminal).is_some_and(|s| {
                s.items()
                    .iter()
                    .any(|i| matches!(i, Item::Assistant(t) if t == "done"))
            })
    })
    .await;
    assert!(app.layers.approval().is_none(), "no card for them");
    assert_eq!(
        proposal_state(&app, terminal, ls),
        Some(ProposalState::Done)
    );
    let ran = notices(&app, terminal);
    for command in ["ls -l /etc", "uptime"] {
        let note = format!("ran without asking (read-only-auto, low risk): {command}");
        assert!(ran.contains(&note), "{ran:?}");
    }
    assert!(screen_of(&app, terminal).contains("load average"));
    let requests = fake.requests();
    let last = String::from_utf8_lossy(&requests.last().unwrap().body).to_string();
    assert!(
        last.contains("load average"),
        "uptime's output went back: {last}"
    );

    // Later prompts and commands in the shell: nothing armed fires.
    for _ in 0..3 {
        if app.focused() == Some(terminal) {
            break;
        }
        key(&mut app, KeyCode::Char('b'), KeyModifiers::CONTROL);
        key(&mut app, KeyCode::Char('o'), KeyModifiers::NONE);
    }
    assert_eq!(app.focused(), Some(terminal));
    typed(&mut app, "ls >/dev/null; echo after-$((6*7))\r");
    drive(&mut app, "the shell after the task", |app| {
        screen_of(app, terminal).contains("after-42")
    })
    .await;
    typed(&mut app, "echo again-$((6*7))\r");
    drive(&mut app, "one more prompt", |app| {
        screen_of(app, terminal).contains("again-42")
    })
    .await;
    let left: Vec<_> = std::fs::read_dir(&markers)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(
        left.is_empty(),
        "a payload ran without a keystroke: {left:?}"
    );
}
