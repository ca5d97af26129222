//! `App`: all UI state, owned by the UI task, and `update`, the only place it changes.

use crate::app::config::Config;
use crate::app::layers::Layers;
use crate::app::layout::{Layout, PaneId};
use crate::app::msg::Effect;
use crate::panes::{Pane, PaneView};
use crate::stream::{Stream, Waker};
use crate::ui::theme::Theme;
use crate::vault::VaultOwner;
use ratatui::layout::Rect;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Bytes a pane may parse per loop turn, so a flood in one pane cannot delay keys or others.
pub const PANE_BYTE_BUDGET: usize = 128 * 1024;
/// Bytes all panes together may parse per loop turn (about 5 ms of parsing), so ten flooding
/// panes do not make a turn longer than a frame.
pub const TURN_BYTE_BUDGET: usize = 192 * 1024;
/// What the other panes may parse in the turn that parses a keystroke's echo, so the frame
/// showing it follows at once.
pub const ECHO_TURN_BUDGET: usize = 16 * 1024;
/// How long a status-bar message stays.
pub const MESSAGE_TIME: Duration = Duration::from_secs(5);
/// Cells a resize key moves a border.
pub const RESIZE_STEP: u16 = 2;

/// What a new pane runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaneSpec {
    /// The user's shell on a local PTY.
    LocalShell,
    /// A login shell on a host over SSH; `name` is what the user calls it (tab title).
    Ssh {
        name: String,
        target: crate::ssh::Target,
        /// How to reach it (jump hosts, per-hop options), when resolved from ssh_config and
        /// the inventory; None connects straight to `target` with the app's options.
        plan: Option<std::sync::Arc<crate::ssh::Plan>>,
    },
    /// The vault browser (made by the app, never by a spawner).
    Vault,
    /// The host picker (made by the app).
    Hosts,
    /// The copilot's side pane (made by the app).
    Copilot,
    /// The scan results (made by the app).
    Scan,
    /// A runbook's run view (made by the app).
    Run,
    /// The log browser (made by the app).
    Logs,
    /// A recording replayed (made by the app).
    Replay,
}

impl PaneSpec {
    /// A session on a host over SSH.
    pub fn is_ssh(&self) -> bool {
        matches!(self, PaneSpec::Ssh { .. })
    }

    /// Whether the pane stays after its stream ends (to show why, and to reconnect).
    pub(crate) fn keeps_pane_on_close(&self) -> bool {
        self.is_ssh()
    }
}

/// Starts the byte stream behind a new pane. The real one spawns PTYs; tests use channels.
pub trait Spawner {
    /// Start `spec` at `cols`x`rows`. Returns the stream and a default title.
    fn spawn(
        &mut self,
        spec: &PaneSpec,
        cols: u16,
        rows: u16,
        waker: &Waker,
    ) -> Result<(Stream, String), String>;
}

/// Turns a host name into a connection plan.
pub type Planner =
    Box<dyn Fn(&str, &crate::workspace::Inventory) -> Result<crate::ssh::Plan, String>>;

#[derive(Debug)]
pub struct Tab {
    /// Set by the user with rename; otherwise the focused pane's title is shown.
    pub name: Option<String>,
    pub layout: Layout,
    pub focused: PaneId,
    pub activity: bool,
    pub bell: bool,
    /// Panes that receive every key typed into any of them (empty: no broadcast).
    pub broadcast: std::collections::BTreeSet<PaneId>,
}

pub struct PaneSlot {
    pub pane: Pane,
    pub spec: PaneSpec,
    /// Title used when the program sets none (shell name, host).
    pub default_title: String,
    /// The pane's outer rectangle (with border) in the current layout.
    pub rect: Rect,
    /// The pane's inside, where its content is drawn.
    pub inner: Rect,
    /// The session has shown output (so an end is "ended", not "failed").
    pub connected: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub text: String,
    pub error: bool,
    pub until: Instant,
}

pub struct App {
    pub config: Config,
    pub theme: Theme,
    pub tabs: Vec<Tab>,
    pub active: usize,
    pub(crate) last_active: usize,
    pub panes: HashMap<PaneId, PaneSlot>,
    pub(crate) next_pane: u64,
    pub size: (u16, u16),
    pub prefix_pending: bool,
    /// Dialogs above the panes, bottom first.
    pub layers: Layers,
    pub message: Option<Message>,
    /// Names offered when a new tab asks for a host (inventory, ssh_config aliases, recent).
    pub host_names: Vec<String>,
    /// The one owner of the unlocked vaults (browser, logins, copilot).
    pub vault: VaultOwner,
    /// A line for the unlock dialog (the demo shows its passphrase there).
    pub(crate) vault_hint: Option<String>,
    /// The workspace's hosts, the error loading them had, and where they are saved.
    pub inventory: crate::workspace::Inventory,
    pub(crate) inventory_error: Option<String>,
    pub(crate) hosts_file: Option<crate::workspace::HostsFile>,
    /// Each host's session state this run, shown in the host list (kept while it is closed).
    pub(crate) host_states: HashMap<String, crate::panes::hosts::HostState>,
    /// Host name → when a session to it last connected (RFC 3339), this run or earlier.
    pub(crate) last_connected: HashMap<String, String>,
    /// Where the last connections are remembered; None: not remembered (tests).
    pub(crate) state_file: Option<crate::workspace::StateFile>,
    /// Resolves a host name into a connection plan (ssh_config + inventory); None in tests
    /// and the demo, where names connect directly.
    pub(crate) planner: Option<Planner>,
    /// The shared connections (the spawner holds a clone), for exec on hosts.
    pub connector: Option<crate::ssh::Connector>,
    /// Where runbooks and snippets are read from; None: prefix R says there are none here.
    pub(crate) runbook_dirs: Option<crate::app::runbooks::RunbookDirs>,
    /// Runbook runs: their cancel switches, who asked, views left in the background.
    pub(crate) runs: crate::app::runbooks::run::Runs,
    /// The runbooks' names and descriptions, for the copilot's context (as last read).
    pub(crate) runbook_index: Vec<(String, String)>,
    /// The workspace's scans (history, OSV data); None: no scan pane.
    pub(crate) scans: Option<std::sync::Arc<crate::scan::ScanSetup>>,
    /// Logins waiting for the vault to be unlocked.
    pub(crate) unlock_waiters: Vec<crate::vault::UnlockRequest>,
    /// When the user last pressed a key (the vault locks itself after a while without one).
    pub(crate) last_input: Instant,
    pub(crate) spawner: Box<dyn Spawner>,
    pub(crate) waker: Waker,
    /// The last text copied, for paste.
    pub clipboard: Option<String>,
    /// Hosts the user let set the clipboard without asking again (this session).
    pub(crate) clipboard_hosts: std::collections::HashSet<String>,
    pub quit: bool,
    pub dirty: bool,
    pub(crate) effects: Vec<Effect>,
    last_tick: Instant,
    /// Where the next turn's pumping starts (see `pump_order`).
    pub(crate) pump_rotation: usize,
    /// A key went to the focused pane and its echo has not been parsed yet.
    pub(crate) awaiting_echo: bool,
    /// The echo arrived: draw now rather than at the next frame slot (see `take_echo_frame`).
    pub(crate) echo_frame: bool,
    /// The copilot: its setup, conversations per terminal pane, side-pane bindings.
    pub copilot: crate::app::copilot::CopilotHub,
    /// Whether any SSH session ever connected, and whether one could not be started (for
    /// ssh's exit code 255 when `lumen connect`'s only connection failed).
    pub(crate) ssh_connected: bool,
    pub(crate) ssh_failed: bool,
    /// The panes' recordings (their writers finish when the app is dropped).
    pub(crate) recordings: Option<crate::record::Recordings>,
}

/// Everything `App::new` needs; nothing is set on the app afterwards. Start from
/// [`AppOptions::new`] and fill in what differs.
pub struct AppOptions {
    pub config: Config,
    pub theme: Theme,
    pub size: (u16, u16),
    pub spawner: Box<dyn Spawner>,
    pub waker: Waker,
    /// The vaults the browser and logins use (no files: no vault).
    pub vault: VaultOwner,
    /// A line for the unlock dialog (the demo's passphrase).
    pub vault_hint: Option<String>,
    /// The workspace's hosts, where they are saved, and the error loading them had.
    pub inventory: crate::workspace::Inventory,
    pub hosts_file: Option<crate::workspace::HostsFile>,
    pub inventory_error: Option<String>,
    /// The workspace's own state (last connections) and the file it is kept in.
    pub workspace_state: crate::workspace::WorkspaceState,
    pub state_file: Option<crate::workspace::StateFile>,
    /// More names for the new-tab dialog (ssh_config aliases, `lumen connect` arguments).
    pub host_names: Vec<String>,
    /// Host name → connection plan; None connects names directly.
    pub planner: Option<Planner>,
    /// The shared connections, for commands run on hosts (exec); None in tests that need none.
    pub connector: Option<crate::ssh::Connector>,
    /// The copilot's provider settings (None: no `[ai]` section).
    pub ai: Option<crate::app::copilot::AiSetup>,
    /// Why the copilot cannot run (a broken `[ai]` section, file:line).
    pub ai_unavailable: Option<String>,
    /// Where the workspace's scans are kept and where their OSV data comes from; None: the
    /// scan-results pane says scans are unavailable.
    pub scans: Option<crate::scan::ScanSetup>,
    /// Where session recordings go (the data dir's `recordings/`); None records nothing.
    pub recordings_root: Option<std::path::PathBuf>,
    /// Where the runbooks and snippets are (prefix R); None: not available.
    pub runbooks: Option<crate::app::runbooks::RunbookDirs>,
    /// The runbooks' names and descriptions as read at start, for the copilot's context.
    pub runbook_index: Vec<(String, String)>,
}

impl AppOptions {
    /// Defaults around `spawner`: default config and theme, 80x24, no vault, no hosts.
    pub fn new(spawner: Box<dyn Spawner>) -> Self {
        Self {
            config: Config::default(),
            theme: Theme::builtin(),
            size: (80, 24),
            spawner,
            waker: Waker::new(),
            vault: VaultOwner::new(Vec::new()),
            vault_hint: None,
            inventory: Default::default(),
            hosts_file: None,
            inventory_error: None,
            workspace_state: Default::default(),
            state_file: None,
            host_names: Vec::new(),
            planner: None,
            connector: None,
            ai: None,
            ai_unavailable: None,
            scans: None,
            recordings_root: None,
            runbooks: None,
            runbook_index: Vec::new(),
        }
    }
}

impl App {
    /// No SSH session connected and at least one failed to: what ssh reports with exit 255.
    pub fn no_ssh_connection_made(&self) -> bool {
        self.ssh_failed && !self.ssh_connected
    }

    pub fn new(opts: AppOptions) -> Self {
        let config_file = opts.config.file.clone();
        let recordings = opts.recordings_root.map(|root| {
            let r =
                crate::record::Recordings::new(opts.config.logs.settings(root), opts.vault.clone());
            r.prune_in_background();
            r
        });
        let mut host_names = opts.host_names;
        for h in &opts.inventory.hosts {
            if !host_names.contains(&h.name) {
                host_names.push(h.name.clone());
            }
        }
        Self {
            config: opts.config,
            theme: opts.theme,
            tabs: Vec::new(),
            active: 0,
            last_active: 0,
            panes: HashMap::new(),
            next_pane: 1,
            size: opts.size,
            prefix_pending: false,
            layers: Layers::default(),
            message: None,
            host_names,
            vault: opts.vault,
            vault_hint: opts.vault_hint,
            inventory: opts.inventory,
            inventory_error: opts.inventory_error,
            hosts_file: opts.hosts_file,
            host_states: HashMap::new(),
            last_connected: opts.workspace_state.last_connected.into_iter().collect(),
            state_file: opts.state_file,
            planner: opts.planner,
            connector: opts.connector,
            scans: opts.scans.map(std::sync::Arc::new),
            runbook_dirs: opts.runbooks,
            runbook_index: opts.runbook_index,
            runs: Default::default(),
            unlock_waiters: Vec::new(),
            last_input: Instant::now(),
            spawner: opts.spawner,
            waker: opts.waker,
            clipboard: None,
            clipboard_hosts: Default::default(),
            quit: false,
            dirty: true,
            effects: Vec::new(),
            last_tick: Instant::now(),
            pump_rotation: 0,
            awaiting_echo: false,
            echo_frame: false,
            copilot: crate::app::copilot::CopilotHub::new(
                opts.ai,
                opts.ai_unavailable,
                config_file,
            ),
            ssh_connected: false,
            ssh_failed: false,
            recordings,
        }
    }

    /// Show a message in the status bar.
    pub fn say(&mut self, text: impl Into<String>) {
        self.message = Some(Message {
            text: text.into(),
            error: false,
            until: Instant::now() + MESSAGE_TIME,
        });
        self.dirty = true;
    }

    /// Show problems the user must read and close (problems at start, the vault's warnings),
    /// drawn as errors.
    pub fn notice(&mut self, title: &str, lines: Vec<String>) {
        self.open_notice(title, lines, true);
    }

    /// Show text to read and close (the demo's key hints, what the copilot would send).
    pub fn show_text(&mut self, title: &str, lines: Vec<String>) {
        self.open_notice(title, lines, false);
    }

    fn open_notice(&mut self, title: &str, lines: Vec<String>, problem: bool) {
        self.open_popup(crate::app::popup::Popup::Notice {
            title: title.to_string(),
            lines,
            problem,
            scroll: Default::default(),
        });
    }

    /// Show an error in the status bar (it stays longer).
    pub fn error(&mut self, text: impl Into<String>) {
        let text = text.into();
        tracing::warn!("{text}");
        self.message = Some(Message {
            text,
            error: true,
            until: Instant::now() + MESSAGE_TIME * 3,
        });
        self.dirty = true;
    }

    pub fn take_effects(&mut self) -> Vec<Effect> {
        std::mem::take(&mut self.effects)
    }

    /// The area below the tab bar and above the status bar.
    pub fn body(&self) -> Rect {
        let (w, h) = self.size;
        Rect::new(0, 1, w, h.saturating_sub(2))
    }

    pub fn focused(&self) -> Option<PaneId> {
        self.tabs.get(self.active).map(|t| t.focused)
    }

    /// What the tab bar shows for tab `i`.
    pub fn tab_title(&self, i: usize) -> String {
        let Some(tab) = self.tabs.get(i) else {
            return String::new();
        };
        if let Some(name) = &tab.name {
            return name.clone();
        }
        // The copilot beside a session names the tab after that session.
        let shown = self.copilot.bound(tab.focused).unwrap_or(tab.focused);
        self.panes
            .get(&shown)
            .map(|s| {
                s.pane
                    .title()
                    .filter(|t| !t.trim().is_empty())
                    .map(str::to_string)
                    .unwrap_or_else(|| s.default_title.clone())
            })
            .unwrap_or_default()
    }

    /// The cursor shape the focused pane's program asked for.
    pub fn cursor_shape(&self) -> crate::panes::terminal::CursorShape {
        self.focused()
            .and_then(|id| self.panes.get(&id))
            .and_then(|s| s.pane.as_terminal())
            .map(|t| t.cursor_shape())
            .unwrap_or_default()
    }

    /// When the loop must wake even without input (a status message expires).
    pub fn next_deadline(&self) -> Option<Instant> {
        let tick = self
            .ticking()
            .then(|| Instant::now() + crate::app::vault::TICK);
        let capture = self.copilot.next_deadline(Instant::now());
        let replay = self.panes.values().filter_map(|s| s.pane.wake_at()).min();
        [
            self.message.as_ref().map(|m| m.until),
            tick,
            capture,
            replay,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Housekeeping at a deadline.
    pub fn tick(&mut self, now: Instant) {
        self.poll_captures(now);
        if self.ticking() && now >= self.last_tick + crate::app::vault::TICK {
            self.last_tick = now;
            self.tick_panes(now);
        }
        self.wake_panes(now);
        if self.message.as_ref().is_some_and(|m| m.until <= now) {
            self.message = None;
            self.dirty = true;
        }
    }
}
