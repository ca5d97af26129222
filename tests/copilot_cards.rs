//! The approval card at the sizes a newcomer tries (80x24 and 160x45), against a fake
//! OpenAI-compatible provider on loopback: the risk, the command, the keys and the typed
//! confirmation are always on the card and a long explanation scrolls; a wrong host name says
//! why nothing ran; the prefix passes the card, so `C-b z` zooms the copilot pane under it; and
//! after `e` the card, the transcript, the history and the model all hear that the command that
//! ran is the operator's edit, not the model's.
#![allow(clippy::unwrap_used)]

mod common;

use common::app::{Backends, app_spec_with, output, screen, settle_async, written};
use common::copilot::{ai_setup, ask_copilot, key, prefix, typed};
use common::fake_ai::{FakeServer, Reply, openai_proposes, openai_says};
use crossterm::event::{KeyCode, KeyModifiers};
use lumen::app::{App, PaneSpec};
use lumen::ssh::Target;
use std::time::{Duration, Instant};

/// Long enough to need scrolling in the copilot pane at 80x24.
const EXPLANATION: &str = "Lists the directory with sizes and modification times, so we can \
    see which files grew since the last rotation. Nothing is changed: it only reads the \
    directory entries. If one file is much larger than the others we can look at its end \
    next with tail, or at the whole tree with du, before deciding what to compress, move or \
    delete; the rotation settings live in /etc/logrotate.d and are worth a look as well.";

struct Fixture {
    app: App,
    backends: Backends,
    fake: FakeServer,
    dir: tempfile::TempDir,
}

/// An app of `w`x`h` on a session to host web1, whose copilot's model proposes `command`
/// (then answers `then`), asked a question: the card is up.
async fn card(w: u16, h: u16, command: &str, then: Vec<Reply>) -> Fixture {
    let mut replies = vec![openai_proposes("", "call_1", command, EXPLANATION)];
    replies.extend(then);
    let fake = FakeServer::start(replies).await;
    let dir = tempfile::tempdir().unwrap();
    let workspace = dir.path().join("workspace");
    let web1 = PaneSpec::Ssh {
        name: "web1".into(),
        target: Target::new("ops", "10.0.0.11", 22),
        plan: None,
    };
    let (mut app, backends, _) = app_spec_with(w, h, web1, |o| {
        o.ai = Some(ai_setup(&fake, &workspace));
    });
    output(&mut app, &backends, 0, b"ops@web1:~$ ");
    ask_copilot(&mut app, "what is taking the space?");
    settle_async(&mut app, |_| {}).await;
    assert!(app.layers.approval().is_some(), "{}", screen(&app));
    Fixture {
        app,
        backends,
        fake,
        dir,
    }
}

fn press(app: &mut App, code: KeyCode) {
    key(app, code, KeyModifiers::NONE);
}

/// Whether `s` holds every one of `parts`.
fn shows(s: &str, parts: &[&str]) -> bool {
    parts.iter().all(|p| s.contains(p))
}

#[tokio::test]
async fn a_low_card_shows_risk_command_and_keys_and_scrolls_its_explanation() {
    for (w, h) in [(80, 24), (160, 45)] {
        let mut f = card(w, h, "ls -la /var/log", vec![]).await;
        let s = screen(&f.app);
        assert!(
            shows(
                &s,
                &["LOW RISK", "$ ls -la /var/log", "Enter run", "e edit"]
            ),
            "{w}x{h}:\n{s}"
        );
        assert!(
            shows(&s, &["x reject", "c copy", "Esc stop"]),
            "{w}x{h}:\n{s}"
        );
        insta::assert_snapshot!(format!("card_low_{w}x{h}"), s);
        if (w, h) == (80, 24) {
            // The explanation does not fit: it scrolls, and the keys stay.
            assert!(s.contains("more rows: PgDn"), "{s}");
            assert!(!s.contains("logrotate.d"), "{s}");
            for _ in 0..20 {
                press(&mut f.app, KeyCode::PageDown);
            }
            let end = screen(&f.app);
            assert!(
                shows(
                    &end,
                    &["logrotate.d", "as well.", "PgUp", "Enter run", "$ ls -la"]
                ),
                "{end}"
            );
            // Scrolling is kept within the text: one PgUp leaves the end.
            press(&mut f.app, KeyCode::PageUp);
            assert!(
                !screen(&f.app).contains("logrotate.d"),
                "{}",
                screen(&f.app)
            );
        }
    }
}

#[tokio::test]
async fn a_high_card_shows_the_confirmation_input_at_every_size() {
    for (w, h) in [(80, 24), (160, 45)] {
        let mut f = card(w, h, "rm -rf /var/lib/mysql", vec![]).await;
        press(&mut f.app, KeyCode::Enter);
        typed(&mut f.app, "web");
        let s = screen(&f.app);
        assert!(
            shows(
                &s,
                &["HIGH RISK", "$ rm -rf /var/lib/mysql", "> web", "Enter run"]
            ),
            "{w}x{h}:\n{s}"
        );
        assert!(s.contains("High risk: type the host's"), "{w}x{h}:\n{s}");
        insta::assert_snapshot!(format!("card_high_confirm_{w}x{h}"), s);
        assert!(written(&f.backends, 0).0.is_empty());
    }
}

#[tokio::test]
async fn a_wrong_host_name_says_why_nothing_ran() {
    for (w, h) in [(80, 24), (160, 45)] {
        let mut f = card(w, h, "rm -rf /var/lib/mysql", vec![]).await;
        press(&mut f.app, KeyCode::Enter);
        typed(&mut f.app, "web2");
        press(&mut f.app, KeyCode::Enter);
        let s = screen(&f.app);
        assert!(
            shows(
                &s,
                &["\"web2\" is not this", "nothing ran", "HIGH RISK", "> "]
            ),
            "{w}x{h}:\n{s}"
        );
        assert!(written(&f.backends, 0).0.is_empty(), "nothing ran");
        // An empty Enter says so too; the right name then runs it.
        press(&mut f.app, KeyCode::Enter);
        assert!(
            screen(&f.app).contains("nothing was typed"),
            "{}",
            screen(&f.app)
        );
        typed(&mut f.app, "web1");
        press(&mut f.app, KeyCode::Enter);
        let sent = String::from_utf8_lossy(&written(&f.backends, 0).0).into_owned();
        assert!(sent.contains("rm -rf /var/lib/mysql"), "{sent}");
    }
}

#[tokio::test]
async fn prefix_z_zooms_the_copilot_pane_under_its_card() {
    let mut f = card(80, 24, "ls -la /var/log", vec![]).await;
    let copilot = f.app.focused().unwrap();
    prefix(&mut f.app, 'z');
    assert_eq!(f.app.tabs[0].layout.zoomed(), Some(copilot));
    let s = screen(&f.app);
    assert!(
        shows(&s, &["Proposed command", "$ ls -la /var/log", "Enter run"]),
        "{s}"
    );
    // Zoomed, the card has the whole width: the key line is one row.
    assert!(
        s.contains("Enter run  e edit  x reject  c copy  Esc stop"),
        "{s}"
    );
    prefix(&mut f.app, 'z');
    assert_eq!(f.app.tabs[0].layout.zoomed(), None);
    // A dialog would hide under the card: it is not opened, and the status says why.
    prefix(&mut f.app, '?');
    assert!(f.app.layers.popup().is_none());
    assert!(
        screen(&f.app).contains("waits on its card"),
        "{}",
        screen(&f.app)
    );
    // The card still answers its keys: nothing ran on the prefix.
    assert!(written(&f.backends, 0).0.is_empty());
    press(&mut f.app, KeyCode::Char('x'));
    assert!(f.app.layers.approval().is_none());
}

#[tokio::test]
async fn an_edit_is_recorded_as_the_operators_not_the_models() {
    let mut f = card(160, 45, "ls /var/log", vec![openai_says("ok")]).await;
    press(&mut f.app, KeyCode::Char('e'));
    typed(&mut f.app, " | head");
    press(&mut f.app, KeyCode::Enter);
    let s = screen(&f.app);
    assert!(
        shows(
            &s,
            &[
                "edited by you",
                "$ ls /var/log | head",
                "it proposed: ls /var/log",
                "the model's explanation of its"
            ]
        ),
        "{s}"
    );

    press(&mut f.app, KeyCode::Enter);
    let sent = String::from_utf8_lossy(&written(&f.backends, 0).0).into_owned();
    assert!(sent.contains("ls /var/log | head"), "{sent}");
    // The transcript says whose command ran and keeps the explanation with the model's.
    let s = screen(&f.app);
    assert!(
        shows(
            &s,
            &[
                "your edit of the model's command",
                "the model proposed: ls /var/log",
                "its explanation of that"
            ]
        ),
        "{s}"
    );

    // The history records the operator's command beside the model's (written off the UI task).
    settle_async(&mut f.app, |_| {}).await;
    let history = std::fs::read_to_string(f.dir.path().join("workspace/ai/web1.jsonl")).unwrap();
    let approved: serde_json::Value = history
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|r| r["decision"] == "approved")
        .unwrap();
    assert_eq!(approved["text"], "ls /var/log | head");
    assert_eq!(approved["author"], "operator");
    assert_eq!(approved["edited_from"], "ls /var/log");

    // So does the model, with the output.
    output(
        &mut f.app,
        &f.backends,
        0,
        b"ls /var/log | head\r\nsyslog\r\nops@web1:~$ ",
    );
    let now = Instant::now();
    f.app.tick(now + Duration::from_secs(1));
    f.app.tick(now + Duration::from_secs(2));
    settle_async(&mut f.app, |_| {}).await;
    let requests = f.fake.requests();
    assert_eq!(requests.len(), 2, "the output went back");
    let body = String::from_utf8_lossy(&requests[1].body).into_owned();
    assert!(
        body.contains("The operator edited your command before running it"),
        "{body}"
    );
}

#[tokio::test]
async fn every_size_from_80x24_up_keeps_risk_command_input_and_keys_on_the_card() {
    let long = "rm -rf /var/lib/mysql && find /var/log -name '*.gz' -mtime +30 -delete && \
                systemctl restart rsyslog";
    let mut f = card(80, 24, long, vec![]).await;
    press(&mut f.app, KeyCode::Enter);
    typed(&mut f.app, "web");
    for w in [80, 81, 97, 120, 160, 211] {
        for h in [24, 25, 31, 45, 60] {
            f.app.handle_event(crossterm::event::Event::Resize(w, h));
            let s = screen(&f.app);
            assert!(
                shows(
                    &s,
                    &[
                        "HIGH RISK",
                        "$ rm -rf /var/lib/mysql",
                        "> web",
                        "Enter run",
                        "Esc back"
                    ]
                ),
                "{w}x{h}:\n{s}"
            );
        }
    }
}
