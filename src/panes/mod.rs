//! Panes: the `Pane` enum and one module per kind of pane. The app talks to every pane through
//! the small [`PaneView`] trait; the enum only dispatches.

pub mod hosts;
pub mod terminal;

use crate::app::theme::Theme;
use crossterm::event::{KeyEvent, MouseEvent};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use terminal::{KeyOutcome, TerminalPane};

/// What a pane asks of the app after a key, a paste or a mouse event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing for the app to do.
    Done,
    /// Put this text on the outer terminal's clipboard (OSC 52) and keep it for paste.
    Copy(String),
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
}

pub enum Pane {
    Terminal(TerminalPane),
}

impl Pane {
    fn view(&self) -> &dyn PaneView {
        match self {
            Pane::Terminal(t) => t,
        }
    }

    fn view_mut(&mut self) -> &mut dyn PaneView {
        match self {
            Pane::Terminal(t) => t,
        }
    }

    pub fn as_terminal_mut(&mut self) -> Option<&mut TerminalPane> {
        match self {
            Pane::Terminal(t) => Some(t),
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
