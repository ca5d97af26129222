//! What a newcomer meets in the copilot pane, at the sizes a newcomer tries (80x24 and
//! 160x45): the intro and key hints wrapped, never cut; with no `[ai]` section, config.toml's
//! path and a ready section for each provider; and a missing `env:` key said before anything
//! is asked of the host (a real sshd logs every channel request: no exec).
#![allow(clippy::unwrap_used)]

mod common;

use common::app::{app_spec_with, output, screen};
use common::copilot::{drive, key, prefix, ssh_app, typed};
use common::fake_ai::FakeServer;
use crossterm::event::{KeyCode, KeyModifiers};
use lumen::ai::config::{AiConfig, Profile};
use lumen::ai::copilot::Item;
use lumen::ai::provider::{KeySource, ProviderKind};
use lumen::app::copilot::AiSetup;
use lumen::app::{App, AppOptions, PaneSpec};
use lumen::ssh::Target;
use std::path::PathBuf;

/// Shown as config.toml's path: a display string only, nothing reads or writes it.
const CONFIG_FILE: &str = "/home/op/.config/lumen/config.toml";

/// An app of `w`x`h` on a session to web1 (its prompt shown), the copilot opened beside it.
fn opened(w: u16, h: u16, adjust: impl FnOnce(&mut AppOptions)) -> App {
    let web1 = PaneSpec::Ssh {
        name: "web1".into(),
        target: Target::new("ops", "10.0.0.11", 22),
        plan: None,
    };
    let (mut app, backends, _) = app_spec_with(w, h, web1, adjust);
    output(&mut app, &backends, 0, b"ops@web1:~$ ");
    prefix(&mut app, 'a');
    app
}

/// A profile that is never asked anything here.
fn setup(api_key: Option<KeySource>, base_url: &str) -> AiSetup {
    AiSetup {
        config: AiConfig::with_profile(Profile {
            provider: if api_key.is_some() {
                ProviderKind::OpenAi
            } else {
                ProviderKind::OpenAiCompatible
            },
            model: "m".into(),
            base_url: Some(base_url.into()),
            api_key,
            prices: None,
        }),
        demo: false,
        workspace_dir: None,
    }
}

/// The copilot pane's column of the screen: its rows, trimmed, joined with spaces (so text
/// wrapped over rows reads as one).
fn pane_text(s: &str, w: u16) -> String {
    let from = (w as usize) * 60 / 100;
    s.lines()
        .map(|l| {
            let row: String = l.chars().skip(from).collect();
            row.trim_matches(|c: char| c == '"' || c == '│' || c.is_whitespace())
                .to_string()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn the_intro_and_key_hints_wrap_at_every_size() {
    for (w, h) in [(80, 24), (160, 45)] {
        let app = opened(w, h, |o| {
            o.ai = Some(setup(None, "http://127.0.0.1:9/v1"));
        });
        let s = screen(&app);
        let text = pane_text(&s, w);
        for whole in [
            "Ask about this terminal's host.",
            "each runs only after you approve it.",
            "Enter send",
            "Alt-Enter newline",
            "Esc stop",
            "C-o context",
            "C-p profile",
            "C-r release",
            "C-s runbook",
        ] {
            assert!(text.contains(whole), "{w}x{h}: {whole:?} is cut:\n{s}");
        }
        insta::assert_snapshot!(format!("intro_{w}x{h}"), s);
    }
}

#[test]
fn without_an_ai_section_the_pane_names_the_file_and_shows_every_provider() {
    for (w, h) in [(80, 24), (160, 45)] {
        let app = opened(w, h, |o| {
            o.config.file = Some(PathBuf::from(CONFIG_FILE));
        });
        let terminal = app.copilot.bound(app.focused().unwrap()).unwrap();
        let notes: Vec<String> = app
            .copilot
            .session(terminal)
            .unwrap()
            .items()
            .iter()
            .filter_map(|i| match i {
                Item::Notice(n) => Some(n.clone()),
                _ => None,
            })
            .collect();
        let all = notes.join("\n");
        assert!(all.contains(CONFIG_FILE), "{all}");
        assert!(all.contains("lumen ai setup"), "{all}");
        for provider in [
            "\"anthropic\"",
            "\"openai\"",
            "\"gemini\"",
            "\"xai\"",
            "11434",
            "llama.cpp",
        ] {
            assert!(all.contains(provider), "{provider}: {all}");
        }
        // What a bottom-anchored pane shows first: where the file is and what to run.
        let s = screen(&app);
        assert!(pane_text(&s, w).contains("lumen ai setup"), "{w}x{h}:\n{s}");
        insta::assert_snapshot!(format!("no_ai_section_{w}x{h}"), s);
    }
}

/// The environment variable api_key names is not set: the pane says so at the question,
/// and nothing was run on the host for its facts nor sent to the provider.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_env_key_is_said_before_the_host_is_asked_anything() {
    let sshd = common::Sshd::start_logged("");
    let fake = FakeServer::start(Vec::new()).await;
    let dir = tempfile::tempdir().unwrap();
    let unset = "LUMEN_TEST_UNSET_KEY_7Q2";
    assert!(std::env::var_os(unset).is_none());
    let url = format!("{}/v1", fake.url());
    let (mut app, terminal) = ssh_app(&sshd, &fake, dir.path(), "web1", |o| {
        o.ai = Some(setup(Some(KeySource::Env(unset.into())), &url));
    })
    .await;
    assert!(sshd.log_count("req shell") >= 1, "{}", sshd.log());
    // Said as the pane opens, before any question.
    prefix(&mut app, 'a');
    let opened = app.copilot.session(terminal).unwrap().items().to_vec();
    assert!(
        opened
            .iter()
            .any(|i| matches!(i, Item::Notice(n) if n.contains(unset))),
        "{opened:?}"
    );
    typed(&mut app, "why is it slow?");
    key(&mut app, KeyCode::Enter, KeyModifiers::NONE);
    drive(&mut app, "the error", |app| {
        let items = app.copilot.session(terminal).unwrap().items();
        items.iter().any(|i| matches!(i, Item::Error(_)))
    })
    .await;
    let items = app.copilot.session(terminal).unwrap().items().to_vec();
    let error = items
        .iter()
        .find_map(|i| match i {
            Item::Error(e) => Some(e.clone()),
            _ => None,
        })
        .unwrap();
    assert!(error.contains(unset) && error.contains("export"), "{error}");
    assert!(
        !items
            .iter()
            .any(|i| matches!(i, Item::Notice(n) if n.contains("facts"))),
        "{items:?}"
    );
    assert_eq!(sshd.log_count("req exec"), 0, "{}", sshd.log());
    assert_eq!(fake.attempts(), 0);
}
