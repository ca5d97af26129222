//! The outer terminal, behind a port: raw mode and its guard, the pinned backend, input
//! reading, hangup watching and the clipboard (OSC 52, tmux's buffer). The event loop never
//! imports this module: it draws through an [`crate::app::Frontend`], and the one here,
//! [`LocalFrontend`], is lumen in-process (the demo). The server's clients use the same parts
//! to drive the terminal they run in.

pub mod clipboard;
mod guard;
pub mod input;
mod local;

pub use guard::{IN_PROCESS_SIGNALS, SignalKind, TerminalGuard, forward_signals, restore_terminal};
pub use local::{LocalFrontend, run, run_async};

/// The signals lumen acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// SIGTERM, SIGINT, SIGQUIT (and SIGHUP in-process): restore the terminal and end.
    Terminate(&'static str),
    /// SIGHUP to a client: detach (the session goes on in the server).
    Detach,
    /// SIGTSTP: give the terminal back and stop, as full-screen programs do.
    Suspend,
    /// SIGCONT: take the terminal again and redraw everything.
    Continue,
    /// SIGWINCH: the terminal changed size.
    Resize,
}

/// What the terminal's own sources say, apart from input events.
#[derive(Debug)]
pub enum LocalEvent {
    Signal(Signal),
    /// The terminal went away (input failed, or it hung up).
    ClientGone(String),
}

/// An empty screen and a ratatui terminal that knows it, so the next frame is drawn whole.
/// (ratatui's own `clear` asks the terminal for the cursor position, which the input thread,
/// already reading, would swallow.)
pub fn fresh_screen() -> std::io::Result<ratatui::Terminal<Screen>> {
    crossterm::execute!(
        std::io::stdout(),
        crossterm::terminal::Clear(crossterm::terminal::ClearType::All)
    )?;
    ratatui::Terminal::new(crate::ui::backend::PinnedBackend(
        ratatui::backend::CrosstermBackend::new(std::io::stdout()),
    ))
}

/// The outer terminal as lumen draws on it.
pub type Screen =
    crate::ui::backend::PinnedBackend<ratatui::backend::CrosstermBackend<std::io::Stdout>>;

/// The escape sequence for a cursor shape.
pub fn cursor_style(
    shape: crate::panes::terminal::CursorShape,
) -> crossterm::cursor::SetCursorStyle {
    use crate::panes::terminal::CursorShape;
    use crossterm::cursor::SetCursorStyle;
    match shape {
        CursorShape::Block => SetCursorStyle::SteadyBlock,
        CursorShape::Underline => SetCursorStyle::SteadyUnderScore,
        CursorShape::Bar => SetCursorStyle::SteadyBar,
        CursorShape::BlinkingBlock => SetCursorStyle::BlinkingBlock,
        CursorShape::BlinkingUnderline => SetCursorStyle::BlinkingUnderScore,
        CursorShape::BlinkingBar => SetCursorStyle::BlinkingBar,
    }
}
