//! Driving the copilot in tests: keys as the operator types them, an `[ai]` setup that talks
//! to a fake provider, an app whose first pane is a real local shell on a PTY in a temporary
//! home, and the event loop in small that runs the app's jobs until a condition holds.

use super::fake_ai::FakeServer;
use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use lumen::ai::config::{AiConfig, Profile};
use lumen::ai::provider::ProviderKind;
use lumen::app::copilot::AiSetup;
use lumen::app::layout::PaneId;
use lumen::app::{App, AppOptions, Bus, Effect, LiveSpawner, PaneSpec};
use lumen::pty::PtyCommand;
use lumen::ssh::{ConnectOptions, Connector, Prompter};
use std::path::Path;
use std::time::Duration;

/// How long [`drive`] waits for its condition before failing the test.
const SETTLE: Duration = Duration::from_secs(30);
/// Pause between turns of [`drive`] while nothing is ready.
const TURN: Duration = Duration::from_millis(20);

pub fn key(app: &mut App, code: KeyCode, m: KeyModifiers) {
    app.handle_event(Event::Key(KeyEvent::new(code, m)));
}

pub fn typed(app: &mut App, text: &str) {
    for c in text.chars() {
        key(app, KeyCode::Char(c), KeyModifiers::NONE);
    }
}

/// The prefix (C-b), then `c`.
pub fn prefix(app: &mut App, c: char) {
    key(app, KeyCode::Char('b'), KeyModifiers::CONTROL);
    key(app, KeyCode::Char(c), KeyModifiers::NONE);
}

/// `[ai]` with one OpenAI-compatible profile served by `fake`; histories under `workspace`.
pub fn ai_setup(fake: &FakeServer, workspace: &Path) -> AiSetup {
    AiSetup {
        config: AiConfig::with_profile(Profile {
            provider: ProviderKind::OpenAiCompatible,
            model: "m".into(),
            base_url: Some(format!("{}/v1", fake.url())),
            api_key: None,
            prices: None,
        }),
        demo: false,
        workspace_dir: Some(workspace.to_path_buf()),
    }
}

/// An app, `w`x`h`, whose first pane is `/bin/sh` on a PTY with `home` as its HOME and `$ `
/// as its prompt; `adjust` changes the options before the app is made.
pub fn shell_app(home: &Path, w: u16, h: u16, adjust: impl FnOnce(&mut AppOptions)) -> App {
    let (prompter, _) = Prompter::channel();
    let connector = Connector::new(
        ConnectOptions::isolated(&home.join("lumen_known_hosts")),
        prompter,
    );
    let mut shell = PtyCommand::new("/bin/sh");
    shell.env = vec![
        ("HOME".into(), home.display().to_string()),
        ("PS1".into(), "$ ".into()),
    ];
    let mut options = AppOptions::new(Box::new(LiveSpawner::new(shell, connector.clone())));
    options.size = (w, h);
    options.connector = Some(connector);
    adjust(&mut options);
    let mut app = App::new(options);
    app.new_tab(PaneSpec::LocalShell);
    app
}

/// The text of terminal pane `pane`'s screen.
pub fn screen_of(app: &App, pane: PaneId) -> String {
    app.panes[&pane]
        .pane
        .as_terminal()
        .map(|t| t.screen_text())
        .unwrap_or_default()
}

/// The event loop in small: run the app's jobs (the copilot's, the vault's unlock), apply
/// their messages, pump the panes, until `done` holds. Blocking tasks run here and now.
pub async fn drive(app: &mut App, what: &str, done: impl FnMut(&App) -> bool) {
    drive_with(app, what, done, false).await
}

/// Like [`drive`], with blocking tasks (disk work, the vault's unlock) on blocking threads as
/// the real loop runs them: the app goes on while they wait. What a task still running when
/// `done` holds reports later goes nowhere, so let `done` wait for it.
pub async fn drive_threaded(app: &mut App, what: &str, done: impl FnMut(&App) -> bool) {
    drive_with(app, what, done, true).await
}

async fn drive_with(app: &mut App, what: &str, done: impl FnMut(&App) -> bool, off_thread: bool) {
    let (bus, mut inbox) = Bus::channel();
    drive_on(&bus, &mut inbox, app, what, done, off_thread).await
}

/// The event loop's channel kept from one [`Driver::drive`] to the next, for work that
/// outlives one of them (a runbook's run that asks the operator halfway, or goes on in the
/// background while the test acts).
pub struct Driver {
    bus: Bus,
    inbox: tokio::sync::mpsc::UnboundedReceiver<lumen::app::Msg>,
}

impl Default for Driver {
    fn default() -> Self {
        Self::new()
    }
}

impl Driver {
    pub fn new() -> Self {
        let (bus, inbox) = Bus::channel();
        Self { bus, inbox }
    }

    /// Like [`drive`], on this driver's channel.
    pub async fn drive(&mut self, app: &mut App, what: &str, done: impl FnMut(&App) -> bool) {
        drive_on(&self.bus, &mut self.inbox, app, what, done, false).await
    }
}

async fn drive_on(
    bus: &Bus,
    inbox: &mut tokio::sync::mpsc::UnboundedReceiver<lumen::app::Msg>,
    app: &mut App,
    what: &str,
    mut done: impl FnMut(&App) -> bool,
    off_thread: bool,
) {
    let deadline = tokio::time::Instant::now() + SETTLE;
    let mut queue = Vec::new();
    loop {
        queue.extend(app.take_effects());
        while !queue.is_empty() {
            for effect in std::mem::take(&mut queue) {
                match effect {
                    Effect::Ai(job) => {
                        tokio::spawn(job.report_to(bus.clone()));
                    }
                    Effect::SpawnAsync(task) => {
                        tokio::spawn((*task).run(bus.clone()));
                    }
                    Effect::Spawn(task) if off_thread => {
                        let bus = bus.clone();
                        tokio::task::spawn_blocking(move || bus.send((*task).run_blocking()));
                    }
                    Effect::Spawn(task) => queue.extend(app.update((*task).run_blocking())),
                    _ => {}
                }
            }
        }
        while let Ok(msg) = inbox.try_recv() {
            queue.extend(app.update(msg));
        }
        while app.pump() {}
        app.tick(std::time::Instant::now());
        if queue.is_empty() && done(app) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}:\n{}",
            super::app::screen(app)
        );
        tokio::time::sleep(TURN).await;
    }
}

/// Every byte the fake provider received, as text.
pub fn sent(fake: &FakeServer) -> String {
    let raw: Vec<u8> = fake.requests().into_iter().flat_map(|r| r.raw).collect();
    String::from_utf8_lossy(&raw).into_owned()
}

/// An app with one tab, `host`, logged in to `sshd` as the local user, its shell ready; the
/// copilot uses `fake`, its histories under `dir/workspace`. `adjust` changes the options
/// first (vault, inventory). Returns the app and the terminal pane.
pub async fn ssh_app(
    sshd: &super::Sshd,
    fake: &FakeServer,
    dir: &Path,
    host: &str,
    adjust: impl FnOnce(&mut AppOptions),
) -> (App, PaneId) {
    let opts = sshd.client_options(dir);
    let (prompter, _asked) = super::auto_answer(super::Answers::default());
    let connector = Connector::new(opts, prompter);
    let mut options = AppOptions::new(Box::new(LiveSpawner::new(
        PtyCommand::new("/bin/sh"),
        connector.clone(),
    )));
    options.size = (140, 40);
    options.connector = Some(connector.clone());
    options.ai = Some(ai_setup(fake, &dir.join("workspace")));
    adjust(&mut options);
    let mut app = App::new(options);
    let target = lumen::ssh::Target::new(lumen::ssh::target::local_user(), "127.0.0.1", sshd.port);
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

/// `C-b a`, the question, Enter.
pub fn ask_copilot(app: &mut App, question: &str) {
    prefix(app, 'a');
    typed(app, question);
    key(app, KeyCode::Enter, KeyModifiers::NONE);
}

/// A vault at `dir/vault.lumen` holding the password `db/root` (user root) = `secret`,
/// unlocked, bound to no host in particular.
pub fn root_vault(dir: &Path, secret: &str) -> lumen::vault::VaultOwner {
    use lumen::vault::{Kind, NewEntry};
    super::unlocked_vault(
        &dir.join("vault.lumen"),
        vec![(
            "db/root",
            NewEntry {
                kind: Some(Kind::Password),
                username: Some("root".into()),
                secret: Some(secrecy::SecretString::from(secret)),
                ..NewEntry::default()
            },
        )],
    )
}
