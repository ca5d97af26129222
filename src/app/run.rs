//! The event loop: one task owns the `App`; input, backend wake-ups, signals and deadlines
//! arrive in one `select!`; the loop drains, updates, and draws at most once per frame.

use crate::app::config::Config;
use crate::app::state::{App, AppOptions, Effect, PaneSpec, Spawner};
use crate::app::theme::Theme;
use crate::app::ui;
use crate::panes::terminal::CursorShape;
use crate::paths::Paths;
use crate::pty::{self, PtyCommand};
use crate::ssh::{self, ConnectOptions, Prompter};
use crate::stream::{Stream, Waker};
use base64::Engine;
use crossterm::event::{
    DisableBracketedPaste, DisableFocusChange, DisableMouseCapture, EnableBracketedPaste,
    EnableMouseCapture, Event,
};
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use crossterm::{cursor, execute};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use std::io::Write;
use std::process::ExitCode;
use std::time::{Duration, Instant};
use tokio::signal::unix::{SignalKind, signal};

/// The shortest time between two frames (~60 per second).
pub const FRAME_INTERVAL: Duration = Duration::from_millis(16);
/// Input events handled per turn before the loop pumps panes and draws.
const MAX_EVENTS_PER_TURN: usize = 256;
/// Input events queued between the reader thread and the loop.
const INPUT_QUEUE: usize = 1024;

/// Read terminal input on a thread of its own (crossterm's reads block) into a channel.
/// The channel closes when input fails (the terminal went away).
fn spawn_input_reader() -> tokio::sync::mpsc::Receiver<std::io::Result<Event>> {
    let (tx, rx) = tokio::sync::mpsc::channel(INPUT_QUEUE);
    let spawned = std::thread::Builder::new()
        .name("input".into())
        .spawn(move || {
            loop {
                let ev = crossterm::event::read();
                let failed = ev.is_err();
                if tx.blocking_send(ev).is_err() || failed {
                    break;
                }
            }
        });
    if let Err(e) = spawned {
        tracing::error!("cannot start the input thread: {e}");
    }
    rx
}

/// What `lumen shell`, `lumen connect` and `lumen demo` start with.
pub struct RunOptions {
    pub paths: Paths,
    pub theme: Option<String>,
    /// One tab each.
    pub initial: Vec<PaneSpec>,
    /// How SSH panes connect and authenticate.
    pub connect: ConnectOptions,
    /// Hosts offered when a new tab asks for one.
    pub host_names: Vec<String>,
    /// A note shown over the first screen (title, lines), e.g. the demo's key hints.
    pub welcome: Option<(String, Vec<String>)>,
    /// Open the host picker as a tab after the initial ones (alone: the home tab).
    pub hosts_tab: bool,
    /// Resolve host names with ssh_config and the inventory (off for the demo, which must
    /// not depend on the user's ~/.ssh/config).
    pub use_ssh_config: bool,
    /// How to read ssh_config (`lumen connect -F`, `-o`); None: ssh's default files.
    pub resolve: Option<crate::ssh::config::ResolveOptions>,
}

impl RunOptions {
    /// Options for the real user's environment.
    pub fn new(paths: Paths, theme: Option<String>, initial: Vec<PaneSpec>) -> Self {
        let connect = ConnectOptions::from_env(&paths);
        Self {
            paths,
            theme,
            initial,
            connect,
            host_names: Vec::new(),
            welcome: None,
            hosts_tab: false,
            use_ssh_config: true,
            resolve: None,
        }
    }
}

/// Starts local shells on PTYs and SSH sessions with russh; sessions through the same jump
/// host share one connection to it.
pub struct LiveSpawner {
    shell: PtyCommand,
    connect: ConnectOptions,
    prompter: Prompter,
    pool: ssh::JumpPool,
}

impl LiveSpawner {
    pub fn new(shell: PtyCommand, connect: ConnectOptions, prompter: Prompter) -> Self {
        Self {
            shell,
            connect,
            prompter,
            pool: ssh::JumpPool::new(),
        }
    }
}

impl Spawner for LiveSpawner {
    fn spawn(
        &mut self,
        spec: &PaneSpec,
        cols: u16,
        rows: u16,
        waker: &Waker,
    ) -> Result<(Stream, String), String> {
        match spec {
            PaneSpec::LocalShell => {
                let title = self
                    .shell
                    .program
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "shell".into());
                pty::spawn(&self.shell, cols, rows, waker)
                    .map(|s| (s, title))
                    .map_err(|e| e.to_string())
            }
            PaneSpec::Vault | PaneSpec::Hosts => Err("that pane is not a stream".into()),
            PaneSpec::Ssh { name, target, plan } => {
                let size = (cols, rows);
                let prompter = self.prompter.clone();
                let stream = match plan {
                    Some(plan) => {
                        ssh::spawn_planned_session(plan, &self.pool, prompter, size, waker)
                    }
                    None => ssh::spawn_session(target, &self.connect, prompter, size, waker),
                };
                Ok((stream, name.clone()))
            }
        }
    }
}

/// Puts the outer terminal in lumen's modes and always puts it back: on drop, and from the
/// panic hook.
struct TerminalGuard;

impl TerminalGuard {
    fn enter(mouse: bool) -> std::io::Result<Self> {
        install_panic_hook();
        TERMINAL_TAKEN.store(true, std::sync::atomic::Ordering::SeqCst);
        enable_raw_mode()?;
        let guard = TerminalGuard;
        let mut out = std::io::stdout();
        execute!(
            out,
            EnterAlternateScreen,
            EnableBracketedPaste,
            cursor::Hide
        )?;
        if mouse {
            execute!(out, EnableMouseCapture)?;
        }
        Ok(guard)
    }
}

/// Whether lumen's terminal modes are on, so they are undone exactly once (leaving the
/// alternate screen twice would move the cursor back over what was printed since).
static TERMINAL_TAKEN: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Undo everything `TerminalGuard::enter` (or a program's leftovers) may have set, once.
pub fn restore_terminal() {
    if !TERMINAL_TAKEN.swap(false, std::sync::atomic::Ordering::SeqCst) {
        return;
    }
    let mut out = std::io::stdout();
    let _ = execute!(
        out,
        DisableMouseCapture,
        DisableBracketedPaste,
        DisableFocusChange,
        LeaveAlternateScreen,
        cursor::SetCursorStyle::DefaultUserShape,
        cursor::Show
    );
    let _ = disable_raw_mode();
    let _ = out.flush();
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore_terminal();
    }
}

fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore_terminal();
        tracing::error!("panic: {info}");
        previous(info);
    }));
}

/// Log to a file under the data dir, never to the screen.
fn init_logging(paths: &Paths) {
    let dir = paths.logs_dir();
    if crate::paths::ensure_private_dir(&dir).is_err() {
        return;
    }
    use std::os::unix::fs::OpenOptionsExt;
    let Ok(file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(dir.join("lumen.log"))
    else {
        return;
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("LUMEN_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(std::sync::Mutex::new(file))
        .try_init();
}

/// Load config and theme; problems become messages, never a refusal to start.
pub fn load_settings(paths: &Paths, theme_flag: Option<&str>) -> (Config, Theme, Vec<String>) {
    let mut problems = Vec::new();
    let config = Config::load(&paths.config_file()).unwrap_or_else(|e| {
        problems.push(format!("{e} (using defaults)"));
        Config::default()
    });
    let name = theme_flag.unwrap_or(&config.theme).to_string();
    let theme = Theme::load(&name, &paths.themes_dir()).unwrap_or_else(|e| {
        problems.push(format!("{e} (using the default theme)"));
        Theme::builtin()
    });
    (config, theme, problems)
}

/// Run the TUI until the last tab closes or the user quits.
pub fn run(opts: RunOptions) -> anyhow::Result<ExitCode> {
    init_logging(&opts.paths);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(run_async(opts))
}

/// Run the TUI inside an existing tokio runtime (the demo starts its server there first).
pub async fn run_async(opts: RunOptions) -> anyhow::Result<ExitCode> {
    use std::io::IsTerminal;
    if !std::io::stdout().is_terminal() {
        anyhow::bail!(
            "lumen draws a full-screen interface and needs a terminal, but its output is not one; \
             run it in a terminal (the subcommands hosts, vault and --privacy work without one)"
        );
    }
    let (config, theme, mut problems) = load_settings(&opts.paths, opts.theme.as_deref());
    let (shell, shell_note) = pty::user_shell();
    let mouse = config.mouse;
    let size = crossterm::terminal::size().unwrap_or((80, 24));
    let waker = Waker::new();
    let workspace = config.workspace.clone();
    let (prompter, mut prompts) = Prompter::channel();
    let (credentials, mut unlock_requests) = ssh::VaultCredentials::with_unlock();
    let inventory_file = crate::workspace::HostsFile::for_workspace(&opts.paths, &workspace);
    let (inventory, inventory_error) = match &inventory_file {
        Ok(file) => {
            let (inv, err) = crate::workspace::load_or_report(file.path());
            (inv, err.map(|e| e.to_string()))
        }
        Err(e) => (Default::default(), Some(e.to_string())),
    };
    let mut connect = opts.connect;
    connect.credentials = Some(std::sync::Arc::new(
        credentials.clone().with_groups(&inventory),
    ));
    let mut app = App::new(AppOptions {
        config,
        theme,
        size,
        spawner: Box::new(LiveSpawner::new(
            PtyCommand::new(shell),
            connect.clone(),
            prompter,
        )),
        waker: waker.clone(),
        vault_files: vec![
            (crate::vault::Scope::Personal, opts.paths.personal_vault()),
            (
                crate::vault::Scope::Workspace,
                opts.paths.workspace_dir(&workspace).join("vault.lumen"),
            ),
        ],
    });
    app.host_names = opts.host_names;
    app.set_inventory(inventory_file.ok(), inventory, inventory_error);
    app.credentials = Some(credentials);
    if opts.use_ssh_config {
        let resolve = opts
            .resolve
            .unwrap_or_else(crate::ssh::config::ResolveOptions::from_env);
        // The new-tab dialog completes ssh_config's Host aliases too.
        let config_file = resolve
            .config_file
            .clone()
            .unwrap_or_else(|| resolve.home_dir.join(".ssh/config"));
        if let Ok(scan) = crate::ssh::config::concrete_hosts(&config_file, &resolve.home_dir) {
            for (alias, _) in scan.aliases {
                if !app.host_names.contains(&alias) {
                    app.host_names.push(alias);
                }
            }
        }
        app.planner = Some(Box::new(move |name, inventory| {
            ssh::plan(name, inventory, &resolve, &connect).map_err(|e| e.to_string())
        }));
    }
    let guard = TerminalGuard::enter(mouse)?;
    let mut terminal = Terminal::new(CrosstermBackend::new(std::io::stdout()))?;
    terminal.clear()?;
    for spec in opts.initial {
        app.new_tab(spec);
    }
    if opts.hosts_tab {
        app.open_hosts();
    }
    app.run_action(crate::app::keymap::Action::GoToTab0);
    problems.extend(shell_note);
    if !problems.is_empty() {
        app.popup = Some(crate::app::popup::Popup::Notice {
            title: "Problems at start".into(),
            lines: problems,
        });
    } else if let Some((title, lines)) = opts.welcome {
        app.popup = Some(crate::app::popup::Popup::Notice { title, lines });
    }
    let mut events = spawn_input_reader();
    let mut sigterm = signal(SignalKind::terminate())?;
    let mut sighup = signal(SignalKind::hangup())?;
    let mut last_draw = Instant::now() - FRAME_INTERVAL;
    let mut pending = false;
    let mut shape = None;
    loop {
        // Wait for something, unless a pane still has bytes queued from the last turn.
        let frame_due = app.dirty.then(|| last_draw + FRAME_INTERVAL);
        let deadline = [frame_due, app.next_deadline()].into_iter().flatten().min();
        let sleep = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(d.into()).await,
                None => std::future::pending().await,
            }
        };
        if !pending {
            tokio::select! {
                ev = events.recv() => match ev {
                    Some(Ok(ev)) => app.handle_event(ev),
                    Some(Err(e)) => return Err(e.into()),
                    None => break,
                },
                _ = waker.woken() => {}
                Some(req) = prompts.recv() => app.ask(req),
                Some(reply) = unlock_requests.recv() => app.unlock_for_login(reply),
                _ = sleep => {}
                _ = sigterm.recv() => break,
                _ = sighup.recv() => break,
            }
        }
        // Drain what else is ready, keys first.
        for _ in 0..MAX_EVENTS_PER_TURN {
            match events.try_recv() {
                Ok(Ok(ev)) => app.handle_event(ev),
                Ok(Err(e)) => return Err(e.into()),
                Err(_) => break,
            }
        }
        pending = app.pump();
        app.tick(Instant::now());
        for effect in app.take_effects() {
            apply(effect);
        }
        if app.quit {
            break;
        }
        if app.dirty && last_draw.elapsed() >= FRAME_INTERVAL {
            terminal.draw(|f| ui::draw(&app, f))?;
            // Debug builds only: lets a test prove the terminal is restored after a panic.
            #[cfg(debug_assertions)]
            if std::env::var_os("LUMEN_DEBUG_PANIC").is_some() {
                panic!("LUMEN_DEBUG_PANIC is set: panicking on purpose after the first frame");
            }
            let want = app.cursor_shape();
            if shape != Some(want) {
                execute!(std::io::stdout(), cursor_style(want))?;
                shape = Some(want);
            }
            app.dirty = false;
            last_draw = Instant::now();
        }
        if pending {
            tokio::task::yield_now().await;
        }
    }
    drop(app);
    drop(terminal);
    drop(guard);
    Ok(ExitCode::SUCCESS)
}

fn cursor_style(shape: CursorShape) -> cursor::SetCursorStyle {
    match shape {
        CursorShape::Block => cursor::SetCursorStyle::SteadyBlock,
        CursorShape::Underline => cursor::SetCursorStyle::SteadyUnderScore,
        CursorShape::Bar => cursor::SetCursorStyle::SteadyBar,
        CursorShape::BlinkingBlock => cursor::SetCursorStyle::BlinkingBlock,
        CursorShape::BlinkingUnderline => cursor::SetCursorStyle::BlinkingUnderScore,
        CursorShape::BlinkingBar => cursor::SetCursorStyle::BlinkingBar,
    }
}

fn apply(effect: Effect) {
    match effect {
        Effect::SetClipboard(text) => osc52(text.as_bytes()),
        Effect::SetClipboardSecret(secret) => {
            use secrecy::ExposeSecret;
            osc52(secret.expose_secret().as_bytes());
        }
    }
}

/// Set the outer terminal's clipboard. The encoded copy of a secret is wiped after writing.
fn osc52(bytes: &[u8]) {
    let b64 = zeroize::Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(bytes));
    let seq = zeroize::Zeroizing::new(format!("\x1b]52;c;{}\x07", b64.as_str()));
    let mut out = std::io::stdout();
    let _ = out.write_all(seq.as_bytes());
    let _ = out.flush();
}
