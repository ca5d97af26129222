//! Panes: the `Pane` enum and one module per kind of pane. The app talks to every pane through
//! the small [`PaneView`] trait; the enum only dispatches.

pub mod copilot;
pub mod hosts;
pub mod logs;
pub mod run;
pub mod scan;
pub mod terminal;
pub mod vault;

use crate::ui::theme::Theme;
use crossterm::event::{KeyEvent, MouseEvent};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use terminal::{KeyOutcome, TerminalPane};
use vault::{BrowserOutcome, VaultBrowser};

/// What a pane asks of the app after a key, a paste, a mouse event or a tick.
#[derive(Debug)]
pub enum Outcome {
    /// Nothing for the app to do.
    Done,
    /// Put this text on the outer terminal's clipboard (OSC 52) and keep it for paste.
    Copy(String),
    /// Put a secret on the outer clipboard, never keeping it (the pane clears it later).
    CopySecret(secrecy::SecretString),
    /// Empty the outer clipboard (a copied secret's time is up).
    ClearClipboard,
    /// The pane wants the vault unlocked.
    Unlock,
    /// The pane asks to be closed.
    Close,
    /// The vault browser's disk work (an audited read, a save), to run off the UI task.
    Vault(vault::VaultWork),
    /// The vault browser asks for a Credential Test of this entry.
    TestCredential(String),
}

/// What every pane can do.
pub trait PaneView {
    /// Draw into `area` (the pane's inside, without its border).
    fn render(&self, area: Rect, buf: &mut Buffer, theme: &Theme);
    fn handle_key(&mut self, key: &KeyEvent) -> Outcome;
    fn handle_mouse(&mut self, ev: &MouseEvent) -> Outcome;
    fn paste(&mut self, text: &str);
    /// The pane's inside changed size.
    fn resize(&mut self, cols: u16, rows: u16);
    /// The title the program or host gave, if any.
    fn title(&self) -> Option<&str>;
    /// Where the text cursor is, relative to the pane's inside, when it should be shown.
    fn cursor(&self) -> Option<(u16, u16)>;
    /// A short mode name for the status bar (e.g. "COPY"), if the pane is in one.
    fn mode(&self) -> Option<&'static str> {
        None
    }
    /// Timers (reveal countdowns, auto-lock). Only panes that say [`PaneView::ticks`] get it.
    fn tick(&mut self, _now: std::time::Instant) -> Outcome {
        Outcome::Done
    }
    /// Whether the pane needs [`PaneView::tick`] about once a second.
    fn ticks(&self) -> bool {
        false
    }
    /// When the pane next wants [`PaneView::tick`], sooner than the once-a-second tick (a
    /// replay's next event). The app's loop sleeps until then; nothing sleeps on the UI task.
    fn wake_at(&self) -> Option<std::time::Instant> {
        None
    }
}

pub enum Pane {
    Terminal(Box<TerminalPane>),
    Vault(Box<VaultBrowser>),
    Hosts(Box<hosts::HostPicker>),
    /// Drawn by the app with its bound conversation (see `copilot::CopilotPane::render_with`).
    Copilot(Box<copilot::CopilotPane>),
    Scan(Box<scan::ScanPane>),
    /// A runbook's run: keys go through the app (`App::run_view_key`).
    Run(Box<run::RunView>),
    /// The log browser (prefix O).
    Logs(Box<logs::LogBrowser>),
    /// A recording replayed.
    Replay(Box<logs::replay::ReplayPane>),
}

impl Pane {
    fn view(&self) -> &dyn PaneView {
        match self {
            Pane::Terminal(t) => t.as_ref(),
            Pane::Vault(v) => v.as_ref(),
            Pane::Hosts(h) => h.as_ref(),
            Pane::Copilot(c) => c.as_ref(),
            Pane::Scan(s) => s.as_ref(),
            Pane::Run(r) => r.as_ref(),
            Pane::Logs(l) => l.as_ref(),
            Pane::Replay(r) => r.as_ref(),
        }
    }

    fn view_mut(&mut self) -> &mut dyn PaneView {
        match self {
            Pane::Terminal(t) => t.as_mut(),
            Pane::Vault(v) => v.as_mut(),
            Pane::Hosts(h) => h.as_mut(),
            Pane::Copilot(c) => c.as_mut(),
            Pane::Scan(s) => s.as_mut(),
            Pane::Run(r) => r.as_mut(),
            Pane::Logs(l) => l.as_mut(),
            Pane::Replay(r) => r.as_mut(),
        }
    }

    pub fn as_terminal(&self) -> Option<&TerminalPane> {
        match self {
            Pane::Terminal(t) => Some(t.as_ref()),
            _ => None,
        }
    }

    pub fn as_terminal_mut(&mut self) -> Option<&mut TerminalPane> {
        match self {
            Pane::Terminal(t) => Some(t.as_mut()),
            _ => None,
        }
    }
}

impl PaneView for Pane {
    fn render(&self, area: Rect, buf: &mut Buffer, theme: &Theme) {
        self.view().render(area, buf, theme)
    }
    fn handle_key(&mut self, key: &KeyEvent) -> Outcome {
        self.view_mut().handle_key(key)
    }
    fn handle_mouse(&mut self, ev: &MouseEvent) -> Outcome {
        self.view_mut().handle_mouse(ev)
    }
    fn paste(&mut self, text: &str) {
        self.view_mut().paste(text)
    }
    fn resize(&mut self, cols: u16, rows: u16) {
        self.view_mut().resize(cols, rows)
    }
    fn title(&self) -> Option<&str> {
        self.view().title()
    }
    fn cursor(&self) -> Option<(u16, u16)> {
        self.view().cursor()
    }
    fn mode(&self) -> Option<&'static str> {
        self.view().mode()
    }
    fn tick(&mut self, now: std::time::Instant) -> Outcome {
        self.view_mut().tick(now)
    }
    fn ticks(&self) -> bool {
        self.view().ticks()
    }
    fn wake_at(&self) -> Option<std::time::Instant> {
        self.view().wake_at()
    }
}

fn outcome(k: KeyOutcome) -> Outcome {
    match k {
        KeyOutcome::Copied(text) => Outcome::Copy(text),
        KeyOutcome::Consumed | KeyOutcome::Ignored | KeyOutcome::LeftCopyMode => Outcome::Done,
    }
}

impl PaneView for TerminalPane {
    fn render(&self, area: Rect, buf: &mut Buffer, theme: &Theme) {
        TerminalPane::render(self, area, buf, theme)
    }
    fn handle_key(&mut self, key: &KeyEvent) -> Outcome {
        outcome(TerminalPane::handle_key(self, key))
    }
    fn handle_mouse(&mut self, ev: &MouseEvent) -> Outcome {
        outcome(TerminalPane::handle_mouse(self, ev))
    }
    fn paste(&mut self, text: &str) {
        TerminalPane::paste(self, text)
    }
    fn resize(&mut self, cols: u16, rows: u16) {
        TerminalPane::resize(self, cols, rows)
    }
    fn title(&self) -> Option<&str> {
        TerminalPane::title(self)
    }
    fn cursor(&self) -> Option<(u16, u16)> {
        TerminalPane::cursor(self)
    }
    fn mode(&self) -> Option<&'static str> {
        self.in_copy_mode().then_some("COPY")
    }
}

pub(crate) fn browser_outcome(o: BrowserOutcome) -> Outcome {
    match o {
        BrowserOutcome::None => Outcome::Done,
        BrowserOutcome::Copy(secret) => Outcome::CopySecret(secret),
        BrowserOutcome::ClearClipboard => Outcome::ClearClipboard,
        BrowserOutcome::Locked { clear_clipboard } => {
            if clear_clipboard {
                Outcome::ClearClipboard
            } else {
                Outcome::Done
            }
        }
        BrowserOutcome::UnlockRequested => Outcome::Unlock,
        BrowserOutcome::Close => Outcome::Close,
        BrowserOutcome::Work(work) => Outcome::Vault(work),
        BrowserOutcome::Test(name) => Outcome::TestCredential(name),
    }
}

impl PaneView for VaultBrowser {
    fn render(&self, area: Rect, buf: &mut Buffer, theme: &Theme) {
        VaultBrowser::render(self, area, buf, theme)
    }
    fn handle_key(&mut self, key: &KeyEvent) -> Outcome {
        browser_outcome(VaultBrowser::handle_key(
            self,
            key,
            std::time::Instant::now(),
        ))
    }
    fn handle_mouse(&mut self, _ev: &MouseEvent) -> Outcome {
        Outcome::Done
    }
    fn paste(&mut self, text: &str) {
        VaultBrowser::handle_paste(self, text, std::time::Instant::now());
    }
    fn resize(&mut self, _cols: u16, _rows: u16) {}
    fn title(&self) -> Option<&str> {
        Some("vault")
    }
    fn cursor(&self) -> Option<(u16, u16)> {
        None
    }
    fn mode(&self) -> Option<&'static str> {
        self.is_locked().then_some("LOCKED")
    }
    fn tick(&mut self, now: std::time::Instant) -> Outcome {
        browser_outcome(VaultBrowser::tick(self, now))
    }
    fn ticks(&self) -> bool {
        !self.is_locked()
    }
}

/// Key handling and drawing with the conversation go through the app; this covers the rest.
impl PaneView for copilot::CopilotPane {
    fn render(&self, area: Rect, buf: &mut Buffer, theme: &Theme) {
        self.render_with(area, buf, theme, &[], false);
    }
    fn handle_key(&mut self, _key: &KeyEvent) -> Outcome {
        Outcome::Done
    }
    fn handle_mouse(&mut self, _ev: &MouseEvent) -> Outcome {
        Outcome::Done
    }
    fn paste(&mut self, text: &str) {
        copilot::CopilotPane::paste(self, text)
    }
    fn resize(&mut self, _cols: u16, _rows: u16) {}
    fn title(&self) -> Option<&str> {
        Some("copilot")
    }
    fn cursor(&self) -> Option<(u16, u16)> {
        None
    }
}

/// Keys go through the app (they may start or cancel runs); this covers the rest.
impl PaneView for run::RunView {
    fn render(&self, area: Rect, buf: &mut Buffer, theme: &Theme) {
        run::RunView::render(self, area, buf, theme)
    }
    fn handle_key(&mut self, _key: &KeyEvent) -> Outcome {
        Outcome::Done
    }
    fn handle_mouse(&mut self, _ev: &MouseEvent) -> Outcome {
        Outcome::Done
    }
    fn paste(&mut self, _text: &str) {}
    fn resize(&mut self, _cols: u16, _rows: u16) {}
    fn title(&self) -> Option<&str> {
        None
    }
    fn cursor(&self) -> Option<(u16, u16)> {
        None
    }
}
