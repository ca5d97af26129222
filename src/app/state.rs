//! `App`: all UI state, owned by the UI task, and `update`, the only place it changes.

use crate::app::config::Config;
use crate::app::layout::{Layout, PaneId, Split};
use crate::app::popup::Popup;
use crate::app::prompt::PromptDialog;
use crate::app::theme::Theme;
use crate::panes::terminal::{TerminalConfig, TerminalPane};
use crate::panes::{Pane, PaneView};
use crate::stream::{Stream, Waker};
use ratatui::layout::Rect;
use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

/// Bytes a pane may parse per loop turn, so a flood in one pane cannot delay keys or others.
pub const PANE_BYTE_BUDGET: usize = 128 * 1024;
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
}

impl PaneSpec {
    /// Whether the pane stays after its stream ends (to show why, and to reconnect).
    pub(crate) fn keeps_pane_on_close(&self) -> bool {
        matches!(self, PaneSpec::Ssh { .. })
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

/// Work for the event loop that touches the outer terminal.
#[derive(Debug)]
pub enum Effect {
    /// Set the outer terminal's clipboard (OSC 52).
    SetClipboard(String),
    /// The same for a secret, which is never kept.
    SetClipboardSecret(secrecy::SecretString),
}

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
    next_pane: u64,
    pub size: (u16, u16),
    pub prefix_pending: bool,
    pub popup: Option<Popup>,
    /// Questions from SSH sessions (host keys, passwords), answered one at a time, above all.
    pub prompts: VecDeque<PromptDialog>,
    pub message: Option<Message>,
    /// Names offered when a new tab asks for a host (inventory, recent targets).
    pub host_names: Vec<String>,
    /// The vault passphrase dialog, when open.
    pub unlock: Option<crate::app::vault::UnlockState>,
    /// Vault files the browser opens (personal, workspace).
    pub(crate) vault_files: Vec<(crate::vault::Scope, std::path::PathBuf)>,
    pub(crate) background_tx: std::sync::mpsc::Sender<crate::app::vault::Background>,
    pub(crate) background_rx: std::sync::mpsc::Receiver<crate::app::vault::Background>,
    /// The workspace's hosts, the error loading them had, and where they are saved.
    pub inventory: crate::workspace::Inventory,
    pub(crate) inventory_error: Option<String>,
    pub(crate) hosts_file: Option<crate::workspace::HostsFile>,
    /// Resolves a host name into a connection plan (ssh_config + inventory); None in tests
    /// and the demo, where names connect directly.
    pub planner: Option<Planner>,
    /// The vault as a source of login secrets, and logins waiting for it to be unlocked.
    pub credentials: Option<crate::ssh::VaultCredentials>,
    pub(crate) unlock_waiters: Vec<crate::ssh::UnlockRequest>,
    /// When the user last pressed a key (the vault locks itself after a while without one).
    pub(crate) last_input: Instant,
    pub(crate) spawner: Box<dyn Spawner>,
    pub(crate) waker: Waker,
    /// The last text copied, for paste.
    pub clipboard: Option<String>,
    pub quit: bool,
    pub dirty: bool,
    pub(crate) effects: Vec<Effect>,
    last_tick: Instant,
}

/// The configuration `App::new` needs.
pub struct AppOptions {
    pub config: Config,
    pub theme: Theme,
    pub size: (u16, u16),
    pub spawner: Box<dyn Spawner>,
    pub waker: Waker,
    /// Vault files the vault browser opens, by scope (empty: no vault).
    pub vault_files: Vec<(crate::vault::Scope, std::path::PathBuf)>,
}

impl App {
    pub fn new(opts: AppOptions) -> Self {
        let (background_tx, background_rx) = std::sync::mpsc::channel();
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
            popup: None,
            prompts: VecDeque::new(),
            message: None,
            host_names: Vec::new(),
            unlock: None,
            vault_files: opts.vault_files,
            background_tx,
            background_rx,
            inventory: Default::default(),
            inventory_error: None,
            hosts_file: None,
            planner: None,
            credentials: None,
            unlock_waiters: Vec::new(),
            last_input: Instant::now(),
            spawner: opts.spawner,
            waker: opts.waker,
            clipboard: None,
            quit: false,
            dirty: true,
            effects: Vec::new(),
            last_tick: Instant::now(),
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

    pub(crate) fn alloc_pane(&mut self) -> PaneId {
        let id = PaneId(self.next_pane);
        self.next_pane += 1;
        id
    }

    /// Make a pane for `spec`, at the size it will probably get (relayout fixes it).
    pub(crate) fn make_pane(&mut self, spec: &PaneSpec, rect: Rect) -> (PaneId, PaneSlot) {
        let id = self.alloc_pane();
        let cols = rect.width.max(2);
        let rows = rect.height.max(2);
        let cfg = TerminalConfig {
            cols,
            rows,
            scrollback: self.config.scrollback,
        };
        let (pane, default_title) = match self.spawner.spawn(spec, cols, rows, &self.waker) {
            Ok((stream, title)) => (TerminalPane::new(stream, cfg), title),
            Err(why) => {
                self.error(why.clone());
                (TerminalPane::failed(&why, cfg), "failed".to_string())
            }
        };
        let slot = PaneSlot {
            pane: Pane::Terminal(Box::new(pane)),
            spec: spec.clone(),
            default_title,
            rect,
            inner: rect,
            connected: false,
        };
        (id, slot)
    }

    /// Open a new tab running `spec` and focus it.
    pub fn new_tab(&mut self, spec: PaneSpec) {
        let body = self.body();
        let (id, slot) = self.make_pane(&spec, body);
        self.push_tab(id, slot);
    }

    /// Add a tab holding one pane, and focus it.
    pub(crate) fn push_tab(&mut self, id: PaneId, slot: PaneSlot) {
        self.panes.insert(id, slot);
        self.tabs.push(Tab {
            name: None,
            layout: Layout::new(id),
            focused: id,
            activity: false,
            bell: false,
            broadcast: Default::default(),
        });
        self.switch_to(self.tabs.len() - 1);
        self.relayout();
    }

    /// Split the focused pane; the new one runs what the focused one runs (a host opens
    /// another session to it; the vault or the host list opens a local shell).
    pub(crate) fn split(&mut self, split: Split) {
        let Some(tab) = self.tabs.get(self.active) else {
            return;
        };
        let spec = match self.panes.get(&tab.focused).map(|s| &s.spec) {
            Some(spec @ (PaneSpec::LocalShell | PaneSpec::Ssh { .. })) => spec.clone(),
            _ => PaneSpec::LocalShell,
        };
        self.split_with(spec, split);
    }

    /// Split the focused pane with a new pane running `spec`, and focus it.
    pub(crate) fn split_with(&mut self, spec: PaneSpec, split: Split) {
        let Some(tab) = self.tabs.get(self.active) else {
            return;
        };
        let target = tab.focused;
        let half = self.panes.get(&target).map(|s| s.rect).unwrap_or_default();
        let (id, slot) = self.make_pane(&spec, half);
        self.panes.insert(id, slot);
        if let Some(tab) = self.tabs.get_mut(self.active) {
            tab.layout.split(target, id, split);
            tab.focused = id;
        }
        self.relayout();
    }

    pub(crate) fn switch_to(&mut self, index: usize) {
        if index < self.tabs.len() && index != self.active {
            self.last_active = self.active;
            self.active = index;
        }
        if let Some(tab) = self.tabs.get_mut(self.active) {
            tab.activity = false;
            tab.bell = false;
        }
        self.relayout();
    }

    /// Close a pane; the tab closes with its last pane, and lumen quits with its last tab.
    pub fn close_pane(&mut self, id: PaneId) {
        // Dropping the pane drops its stream handle, which ends the backend (PTY hang-up).
        self.panes.remove(&id);
        let Some(ti) = self.tabs.iter().position(|t| t.layout.contains(id)) else {
            return;
        };
        let tab = &mut self.tabs[ti];
        tab.broadcast.remove(&id);
        if tab.broadcast.len() == 1 {
            tab.broadcast.clear();
        }
        if tab.layout.len() > 1 {
            tab.layout.remove(id);
            if tab.focused == id {
                tab.focused = tab.layout.panes()[0];
            }
        } else {
            self.tabs.remove(ti);
            if self.tabs.is_empty() {
                self.quit = true;
                return;
            }
            if self.last_active >= self.tabs.len() || self.last_active == ti {
                self.last_active = 0;
            } else if self.last_active > ti {
                self.last_active -= 1;
            }
            if self.active >= self.tabs.len() || self.active > ti {
                self.active = self.active.saturating_sub(1);
            }
            self.active = self.active.min(self.tabs.len() - 1);
        }
        self.relayout();
    }

    pub(crate) fn close_tab(&mut self, index: usize) {
        let Some(tab) = self.tabs.get(index) else {
            return;
        };
        for id in tab.layout.panes() {
            self.close_pane(id);
        }
    }

    /// Compute every visible pane's rectangle and resize panes whose inside changed.
    /// Layout is done here, never while drawing.
    pub fn relayout(&mut self) {
        self.dirty = true;
        let body = self.body();
        let Some(tab) = self.tabs.get(self.active) else {
            return;
        };
        let rects = tab.layout.rects(body);
        let bordered = rects.len() > 1;
        for (id, rect) in rects {
            let Some(slot) = self.panes.get_mut(&id) else {
                continue;
            };
            let inner = if bordered {
                Rect::new(
                    rect.x + 1,
                    rect.y + 1,
                    rect.width.saturating_sub(2),
                    rect.height.saturating_sub(2),
                )
            } else {
                rect
            };
            slot.rect = rect;
            if inner != slot.inner {
                slot.inner = inner;
                if inner.width > 0 && inner.height > 0 {
                    slot.pane.resize(inner.width, inner.height);
                }
            }
        }
    }

    pub fn resize(&mut self, w: u16, h: u16) {
        self.size = (w, h);
        self.relayout();
    }

    /// Parse what the backends sent, within a byte budget per pane. Returns true when some
    /// pane still has data queued (the loop then runs again without waiting).
    pub fn pump(&mut self) -> bool {
        self.drain_background();
        let mut more = false;
        let visible: Vec<PaneId> = self
            .tabs
            .get(self.active)
            .map(|t| {
                t.layout
                    .rects(self.body())
                    .into_iter()
                    .map(|(p, _)| p)
                    .collect()
            })
            .unwrap_or_default();
        let mut closed = Vec::new();
        let mut copied = Vec::new();
        let mut first_output = Vec::new();
        for (id, slot) in self.panes.iter_mut() {
            let Some(t) = slot.pane.as_terminal_mut() else {
                continue;
            };
            let was_closed = t.closed().is_some();
            let p = t.pump(PANE_BYTE_BUDGET);
            more |= p.more;
            let activity = t.take_activity();
            let bell = t.take_bell();
            if let Some(text) = t.take_clipboard() {
                copied.push(text);
            }
            if !was_closed && let Some(reason) = t.closed() {
                closed.push((*id, reason.to_string(), slot.spec.clone(), slot.connected));
            }
            if activity && !slot.connected {
                slot.connected = true;
                first_output.push(slot.spec.clone());
            }
            if activity && visible.contains(id) {
                self.dirty = true;
            }
            if activity || bell {
                for (ti, tab) in self.tabs.iter_mut().enumerate() {
                    if tab.layout.contains(*id) && ti != self.active {
                        tab.activity |= activity;
                        tab.bell |= bell;
                        self.dirty = true;
                    }
                }
            }
        }
        for text in copied {
            self.copy(text);
        }
        for spec in first_output {
            self.note_state(&spec, crate::panes::hosts::HostState::Connected);
        }
        for (id, reason, spec, connected) in closed {
            tracing::info!("pane {} ended: {reason}", id.0);
            let state = if connected {
                crate::panes::hosts::HostState::Ended(reason.clone())
            } else {
                crate::panes::hosts::HostState::Failed(reason.clone())
            };
            self.note_state(&spec, state);
            if spec.keeps_pane_on_close() {
                // An SSH pane stays with its scrollback and the reason; r reconnects.
                self.dirty = true;
            } else {
                // A local shell's pane closes when the shell exits, as in tmux.
                self.close_pane(id);
            }
        }
        more
    }

    pub(crate) fn copy(&mut self, text: String) {
        self.say(format!("copied {} characters", text.chars().count()));
        self.effects.push(Effect::SetClipboard(text.clone()));
        self.clipboard = Some(text);
    }

    /// What the tab bar shows for tab `i`.
    pub fn tab_title(&self, i: usize) -> String {
        let Some(tab) = self.tabs.get(i) else {
            return String::new();
        };
        if let Some(name) = &tab.name {
            return name.clone();
        }
        self.panes
            .get(&tab.focused)
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
        [self.message.as_ref().map(|m| m.until), tick]
            .into_iter()
            .flatten()
            .min()
    }

    /// Housekeeping at a deadline.
    pub fn tick(&mut self, now: Instant) {
        if self.ticking() && now >= self.last_tick + crate::app::vault::TICK {
            self.last_tick = now;
            self.tick_panes(now);
        }
        if self.message.as_ref().is_some_and(|m| m.until <= now) {
            self.message = None;
            self.dirty = true;
        }
    }
}
