//! The event loop: one task owns the `App`. Every source (terminal input, SSH questions,
//! vault requests, background results, signals) sends a [`Msg`] on one bus; pane bytes come
//! through their own bounded channels and wake the loop. Each turn drains messages, pumps the
//! panes within a byte budget, carries out effects, and draws at most once per frame.

use crate::app::config::Config;
use crate::app::effects;
use crate::app::msg::{Bus, Msg, Signal};
use crate::app::spawner::LiveSpawner;
use crate::app::state::{App, AppOptions, PaneSpec};
use crate::app::terminal::{self, TerminalGuard};
use crate::app::ui;
use crate::panes::terminal::CursorShape;
use crate::paths::Paths;
use crate::pty::{self, PtyCommand};
use crate::ssh::{self, ConnectOptions};
use crate::stream::Waker;
use crate::ui::backend::PinnedBackend;
use crate::ui::theme::Theme;
use crate::vault::VaultOwner;
use crossterm::{cursor, execute};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use std::collections::HashMap;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// The outer terminal as lumen draws on it.
type Screen = PinnedBackend<CrosstermBackend<std::io::Stdout>>;

/// The shortest time between two frames (~60 per second).
pub const FRAME_INTERVAL: Duration = Duration::from_millis(16);
/// Messages applied per turn before the loop pumps panes and draws.
const MAX_MESSAGES_PER_TURN: usize = 256;

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
    /// The copilot's model, instead of config.toml's `[ai]` (the demo's scripted model).
    pub ai: Option<crate::ai::config::AiConfig>,
    /// The copilot talks to the scripted demo model (labelled so everywhere).
    pub ai_demo: bool,
    /// A line for the vault's unlock dialog (the demo's passphrase).
    pub vault_hint: Option<String>,
    /// Exit 255, as ssh does, when no SSH session connected and one failed (`lumen connect`
    /// to one host).
    pub exit_255_if_unconnected: bool,
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
            ai: None,
            ai_demo: false,
            vault_hint: None,
            exit_255_if_unconnected: false,
        }
    }
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

/// ssh's exit status when it could not connect.
pub const SSH_FAILED: u8 = 255;

/// Run the TUI until the last tab closes or the user quits.
pub fn run(opts: RunOptions) -> anyhow::Result<ExitCode> {
    init_logging(&opts.paths);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(run_async(opts))
}

/// Read terminal input on a thread of its own (crossterm's reads block) onto the bus. When
/// input fails (the terminal went away) it says so once and stops.
fn spawn_input_reader(bus: Bus) {
    let spawned = std::thread::Builder::new()
        .name("input".into())
        .spawn(move || {
            loop {
                match crossterm::event::read() {
                    Ok(ev) => {
                        if !bus.send(Msg::Input(ev)) {
                            break;
                        }
                    }
                    Err(e) => {
                        bus.send(Msg::InputClosed(e.to_string()));
                        break;
                    }
                }
            }
        });
    if let Err(e) = spawned {
        tracing::error!("cannot start the input thread: {e}");
    }
}

/// Tell the loop when the terminal hangs up. crossterm's reader spins instead of failing when
/// its terminal disappears, so a thread of its own sleeps in `poll` until the terminal reports
/// a hangup or an error (no events asked for: it costs nothing while the terminal lives).
fn watch_for_hangup(bus: Bus) {
    let spawned = std::thread::Builder::new()
        .name("hangup-watch".into())
        .spawn(move || {
            let mut fd = libc::pollfd {
                fd: libc::STDIN_FILENO,
                events: 0,
                revents: 0,
            };
            loop {
                // SAFETY: poll on one valid pollfd we own, no timeout.
                let n = unsafe { libc::poll(&mut fd, 1, -1) };
                if n < 0 {
                    if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                        continue;
                    }
                    return;
                }
                if fd.revents & (libc::POLLHUP | libc::POLLERR | libc::POLLNVAL) != 0 {
                    bus.send(Msg::InputClosed("the terminal hung up".into()));
                    return;
                }
            }
        });
    if let Err(e) = spawned {
        tracing::error!("cannot start the hangup watch: {e}");
    }
}

/// Inventory host name → its groups, for vault entries bound to `@group`.
fn host_groups(inventory: &crate::workspace::Inventory) -> HashMap<String, Vec<String>> {
    inventory
        .hosts
        .iter()
        .map(|h| (h.name.clone(), h.groups.clone()))
        .collect()
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
    let (bus, mut inbox) = Bus::channel();
    let vault = VaultOwner::new(vec![
        (crate::vault::Scope::Personal, opts.paths.personal_vault()),
        (
            crate::vault::Scope::Workspace,
            opts.paths.workspace_dir(&workspace).join("vault.lumen"),
        ),
    ])
    .with_unlock_requests(bus.unlock_requests());
    let inventory_file = crate::workspace::HostsFile::for_workspace(&opts.paths, &workspace);
    let (inventory, inventory_error) = match &inventory_file {
        Ok(file) => {
            let (inv, err) = crate::workspace::load_or_report(file.path());
            (inv, err.map(|e| e.to_string()))
        }
        Err(e) => (Default::default(), Some(e.to_string())),
    };
    let state_file = crate::workspace::StateFile::for_workspace(&opts.paths, &workspace).ok();
    let (workspace_state, state_error) = state_file
        .as_ref()
        .map(|f| f.load_or_report())
        .unwrap_or_default();
    problems.extend(state_error.map(|e| e.to_string()));
    let mut connect = opts.connect;
    connect.credentials = Some(std::sync::Arc::new(
        ssh::VaultCredentials::new(vault.clone()).with_groups(host_groups(&inventory)),
    ));
    let mut host_names = opts.host_names;
    let mut planner: Option<crate::app::state::Planner> = None;
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
                if !host_names.contains(&alias) {
                    host_names.push(alias);
                }
            }
        }
        let base = connect.clone();
        planner = Some(Box::new(move |name, inventory| {
            ssh::plan_destination(name, inventory, &resolve, &base).map_err(|e| e.to_string())
        }));
    }
    let connector = ssh::Connector::new(connect, bus.prompter());
    let workspace_dir = opts.paths.workspace_dir(&workspace);
    let (ai_config, ai_unavailable) = match opts.ai {
        Some(c) => (Some(c), None),
        None => match &config.ai {
            Ok(c) => (c.clone(), None),
            Err(e) => {
                problems.push(format!("{e} (the copilot is off)"));
                (None, Some(e.to_string()))
            }
        },
    };
    let ai = ai_config.map(|config| crate::app::copilot::AiSetup {
        config,
        demo: opts.ai_demo,
        workspace_dir: Some(workspace_dir.clone()),
    });
    let mut app = App::new(AppOptions {
        config,
        theme,
        size,
        spawner: Box::new(LiveSpawner::new(PtyCommand::new(shell), connector.clone())),
        connector: Some(connector),
        ai,
        ai_unavailable,
        waker: waker.clone(),
        vault,
        vault_hint: opts.vault_hint,
        inventory,
        hosts_file: inventory_file.ok(),
        workspace_state,
        state_file,
        inventory_error,
        host_names,
        planner,
        scans: Some(crate::scan::ScanSetup::for_workspace(
            &opts.paths,
            &workspace,
        )),
    });
    terminal::forward_signals(&bus)?;
    let guard = TerminalGuard::enter(mouse)?;
    let mut screen = fresh_screen()?;
    for spec in opts.initial {
        app.new_tab(spec);
    }
    if opts.hosts_tab {
        app.open_hosts();
    }
    app.run_action(crate::app::keymap::Action::GoToTab0);
    problems.extend(shell_note);
    if !problems.is_empty() {
        app.notice("Problems at start", problems);
    } else if let Some((title, lines)) = opts.welcome {
        app.show_text(&title, lines);
    }
    spawn_input_reader(bus.clone());
    watch_for_hangup(bus.clone());
    let result = event_loop(&mut app, &mut screen, &guard, &mut inbox, &waker, &bus).await;
    let code = if opts.exit_255_if_unconnected && app.no_ssh_connection_made() {
        ExitCode::from(SSH_FAILED)
    } else {
        ExitCode::SUCCESS
    };
    // Whatever ended the loop, the panes' programs hear a hangup, as from a closing terminal.
    crate::pty::hang_up_all();
    drop(app);
    drop(screen);
    drop(guard);
    result.map(|()| code)
}

/// Wait for something, apply every message that is ready, parse the panes' output within its
/// budget, carry out effects, and draw at most once per frame. Messages (keys, questions,
/// signals) are taken every turn, however busy the panes are.
async fn event_loop(
    app: &mut App,
    screen: &mut Terminal<Screen>,
    guard: &TerminalGuard,
    inbox: &mut tokio::sync::mpsc::UnboundedReceiver<Msg>,
    waker: &Waker,
    bus: &Bus,
) -> anyhow::Result<()> {
    let mut last_draw = Instant::now() - FRAME_INTERVAL;
    let mut pending = false;
    let mut shape = None;
    loop {
        if !pending {
            let frame_due = app.dirty.then(|| last_draw + FRAME_INTERVAL);
            let deadline = [frame_due, app.next_deadline()].into_iter().flatten().min();
            let sleep = async {
                match deadline {
                    Some(d) => tokio::time::sleep_until(d.into()).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                msg = inbox.recv() => match msg {
                    Some(msg) => {
                        if handle(app, msg, screen, guard, bus)? {
                            return Ok(());
                        }
                    }
                    None => return Ok(()),
                },
                _ = waker.woken() => {}
                _ = sleep => {}
            }
        }
        for _ in 0..MAX_MESSAGES_PER_TURN {
            let Ok(msg) = inbox.try_recv() else { break };
            if handle(app, msg, screen, guard, bus)? {
                return Ok(());
            }
        }
        pending = app.pump();
        app.tick(Instant::now());
        for effect in app.take_effects() {
            effects::apply(effect, bus);
        }
        if app.quit {
            return Ok(());
        }
        // A keystroke's echo is drawn at once; everything else at most once a frame.
        let echo = app.take_echo_frame();
        if app.dirty && (echo || last_draw.elapsed() >= FRAME_INTERVAL) {
            screen.draw(|f| ui::draw(app, f))?;
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
}

/// One message: signals act on the outer terminal here; the rest goes to the app. Returns
/// true when lumen must end now.
fn handle(
    app: &mut App,
    msg: Msg,
    screen: &mut Terminal<Screen>,
    guard: &TerminalGuard,
    bus: &Bus,
) -> anyhow::Result<bool> {
    match msg {
        Msg::Signal(Signal::Terminate(name)) => {
            tracing::info!("{name}: ending");
            return Ok(true);
        }
        Msg::Signal(Signal::Suspend) => {
            guard.suspend()?;
            *screen = fresh_screen()?;
            app.dirty = true;
        }
        Msg::Signal(Signal::Continue) => {
            // Continued after a stop lumen did not ask for (SIGSTOP from elsewhere): take the
            // terminal again and repaint all of it.
            guard.resume()?;
            *screen = fresh_screen()?;
            app.dirty = true;
        }
        msg => {
            for effect in app.update(msg) {
                effects::apply(effect, bus);
            }
        }
    }
    Ok(false)
}

/// An empty screen and a ratatui terminal that knows it, so the next frame is drawn whole.
/// (ratatui's own `clear` asks the terminal for the cursor position, which the input thread,
/// already reading, would swallow.)
fn fresh_screen() -> std::io::Result<Terminal<Screen>> {
    execute!(
        std::io::stdout(),
        crossterm::terminal::Clear(crossterm::terminal::ClearType::All)
    )?;
    Terminal::new(PinnedBackend(CrosstermBackend::new(std::io::stdout())))
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
