//! The real app over a real `sshd`: a tab whose SSH session the copilot talks about, with the
//! copilot's provider a recording fake on loopback, and [`drive`], the event loop in small.

use super::fake_ai::FakeServer;
use super::{Answers, Sshd, auto_answer};
use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use lumen::ai::config::{AiConfig, Profile};
use lumen::ai::provider::ProviderKind;
use lumen::app::copilot::AiSetup;
use lumen::app::layout::PaneId;
use lumen::app::{App, AppOptions, Bus, Effect, LiveSpawner, PaneSpec};
use lumen::pty::PtyCommand;
use lumen::ssh::{Connector, Target};
use std::path::Path;
use std::time::Duration;

/// How long [`drive`] waits for a condition before failing the test.
pub const SETTLE: Duration = Duration::from_secs(20);

pub fn key(app: &mut App, code: KeyCode, m: KeyModifiers) {
    app.handle_event(Event::Key(KeyEvent::new(code, m)));
}

pub fn typed(app: &mut App, text: &str) {
    for c in text.chars() {
        key(app, KeyCode::Char(c), KeyModifiers::NONE);
    }
}

/// An app with one tab, `host`, logged in to `sshd` as the local user, its shell ready; the
/// copilot uses `fake`. `adjust` changes the options first (vault, inventory). Returns the
/// app and the terminal pane.
pub async fn ssh_app(
    sshd: &Sshd,
    fake: &FakeServer,
    dir: &Path,
    host: &str,
    adjust: impl FnOnce(&mut AppOptions),
) -> (App, PaneId) {
    let opts = sshd.client_options(dir);
    let (prompter, _asked) = auto_answer(Answers::default());
    let connector = Connector::new(opts, prompter);
    let mut options = AppOptions::new(Box::new(LiveSpawner::new(
        PtyCommand::new("/bin/sh"),
        connector.clone(),
    )));
    options.size = (140, 40);
    options.connector = Some(connector.clone());
    options.ai = Some(AiSetup {
        config: AiConfig::with_profile(Profile {
            provider: ProviderKind::OpenAiCompatible,
            model: "m".into(),
            base_url: Some(format!("{}/v1", fake.url())),
            api_key: None,
            prices: None,
        }),
        demo: false,
        workspace_dir: Some(dir.join("workspace")),
    });
    adjust(&mut options);
    let mut app = App::new(options);
    let target = Target::new(lumen::ssh::target::local_user(), "127.0.0.1", sshd.port);
    app.new_tab(PaneSpec::Ssh {
        name: host.into(),
        target,
        plan: None,
    });
    let terminal = app.focused().unwrap();
    typed(&mut app, "echo ready-$((6*7))\r");
    drive(&mut app, "the shell", |app| {
        screen_of(app, terminal).contains("ready-42")
    })
    .await;
    (app, terminal)
}

/// The text on the terminal pane's screen.
pub fn screen_of(app: &App, terminal: PaneId) -> String {
    app.panes[&terminal]
        .pane
        .as_terminal()
        .map(|t| t.screen_text())
        .unwrap_or_default()
}

/// `C-b a`, the question, Enter.
pub fn ask_copilot(app: &mut App, question: &str) {
    key(app, KeyCode::Char('b'), KeyModifiers::CONTROL);
    key(app, KeyCode::Char('a'), KeyModifiers::NONE);
    typed(app, question);
    key(app, KeyCode::Enter, KeyModifiers::NONE);
}

/// The event loop in small: run the copilot's jobs, apply their messages, pump the panes,
/// until `done` holds.
pub async fn drive(app: &mut App, what: &str, mut done: impl FnMut(&App) -> bool) {
    let (bus, mut inbox) = Bus::channel();
    let deadline = tokio::time::Instant::now() + SETTLE;
    let mut queue = Vec::new();
    loop {
        queue.extend(app.take_effects());
        for effect in std::mem::take(&mut queue) {
            if let Effect::Ai(job) = effect {
                tokio::spawn(job.report_to(bus.clone()));
            }
        }
        while let Ok(msg) = inbox.try_recv() {
            queue.extend(app.update(msg));
        }
        while app.pump() {}
        app.tick(std::time::Instant::now());
        if done(app) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}:\n{}",
            super::app::screen(app)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
