//! The terminal pane: our emulator module over `alacritty_terminal`, drawn with ratatui.
//!
//! `alacritty_terminal` does the emulation (parser, grid, scrollback, selection, regex search);
//! this module feeds it bytes from a [`Stream`], answers the program's queries through the
//! stream, turns keys and mouse events into bytes, and draws the grid into a ratatui buffer.
//! Old scrollback lives outside the emulator in a compact store (`history`). Alacritty's
//! types stay private to this folder.

mod copy;
mod history;
pub mod keys;
mod listener;
mod mouse;
mod output;
mod render;
mod text;

pub use history::HistoryStats;

use crate::stream::{CloseReason, Stream, StreamEvent, StreamHandle};
use alacritty_terminal::grid::{Dimensions, Scroll};
use alacritty_terminal::index::{Column, Line};
use alacritty_terminal::term::cell::Flags;
use alacritty_terminal::term::{self, Term, TermMode};
use alacritty_terminal::vte::ansi::{self, Processor};
use crossterm::event::{KeyEvent, KeyEventKind};
use history::History;
use listener::Inbox;

/// Fewest columns the emulator runs with: alacritty cannot place a wide character in one.
const MIN_COLS: u16 = 2;

/// Default lines of scrollback per pane.
pub const DEFAULT_SCROLLBACK: usize = 10_000;

/// Size and history of a new pane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TerminalConfig {
    pub cols: u16,
    pub rows: u16,
    pub scrollback: usize,
}

impl Default for TerminalConfig {
    fn default() -> Self {
        Self {
            cols: 80,
            rows: 24,
            scrollback: DEFAULT_SCROLLBACK,
        }
    }
}

/// What one [`TerminalPane::pump`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pump {
    /// Bytes parsed.
    pub bytes: usize,
    /// Work is left: data still queued after the budget, or old scrollback to compress
    /// (done a slice at a time while no data waits). Pump again on the next turn.
    pub more: bool,
}

/// What the pane did with a key or mouse event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyOutcome {
    Consumed,
    /// Not for this pane (e.g. no live backend); the app may use it.
    Ignored,
    /// Copy mode copied this text; the app puts it on the clipboard (OSC 52).
    Copied(String),
    /// Copy mode ended without copying.
    LeftCopyMode,
}

/// Cursor shape the program asked for (DECSCUSR), to pass on to the real terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CursorShape {
    #[default]
    Block,
    Underline,
    Bar,
    BlinkingBlock,
    BlinkingUnderline,
    BlinkingBar,
}

/// The emulator's size in cells (alacritty asks for it through a trait).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Size {
    pub(crate) cols: usize,
    pub(crate) rows: usize,
}

impl Dimensions for Size {
    fn total_lines(&self) -> usize {
        self.rows
    }
    fn screen_lines(&self) -> usize {
        self.rows
    }
    fn columns(&self) -> usize {
        self.cols
    }
}

/// One terminal: emulator state, its backend, and what the app reads back.
pub struct TerminalPane {
    term: Term<Inbox>,
    /// Scrollback rows that left the emulator.
    history: History,
    /// Kept to re-apply after a full reset (RIS), which makes alacritty report the title.
    config: term::Config,
    /// The last byte fed was ESC (a reset may straddle two chunks).
    after_esc: bool,
    parser: Processor,
    inbox: Inbox,
    handle: Option<StreamHandle>,
    events: Option<tokio::sync::mpsc::Receiver<StreamEvent>>,
    closed: Option<CloseReason>,
    cols: u16,
    rows: u16,
    title: Option<String>,
    activity: bool,
    bell: bool,
    clipboard: Option<String>,
    /// Connection notices from the backend, for the status bar.
    notices: Vec<String>,
    copy: Option<copy::CopyState>,
    mouse: mouse::MouseState,
    emulator_errors: usize,
    /// Where this pane's output is recorded (output only: never keys or pastes).
    recorder: Option<crate::record::Recorder>,
}

impl TerminalPane {
    /// A pane reading from `stream`, sized by `cfg` (at least 2 columns and 1 row).
    pub fn new(stream: Stream, cfg: TerminalConfig) -> Self {
        let mut pane = Self::detached(cfg);
        pane.handle = Some(stream.handle);
        pane.events = Some(stream.events);
        pane
    }

    /// A pane with no backend that shows `message` (e.g. the PTY could not be started).
    pub fn failed(message: &str, cfg: TerminalConfig) -> Self {
        let mut pane = Self::detached(cfg);
        let reason = CloseReason::Failed(message.to_string());
        pane.show_closed(&reason);
        pane.closed = Some(reason);
        pane.activity = false;
        pane
    }

    fn detached(cfg: TerminalConfig) -> Self {
        Self::with_history(cfg, History::new(cfg.scrollback, true))
    }

    /// A pane with no backend whose scrollback stays in the emulator: for replaying a
    /// recording to text (see [`take_scrolled_lines`](Self::take_scrolled_lines)).
    pub fn offline(cfg: TerminalConfig) -> Self {
        Self::with_history(cfg, History::new(cfg.scrollback, false))
    }

    /// A pane whose scrollback all stays in the emulator, as before the compact store.
    #[cfg(test)]
    fn plain(cfg: TerminalConfig) -> Self {
        Self::with_history(cfg, History::new(cfg.scrollback, false))
    }

    /// Like [`TerminalPane::new`] with every history row kept in the emulator (no compact
    /// store): only for benchmarks that measure what the store costs, in the same run.
    #[doc(hidden)]
    pub fn new_without_compact_history(stream: Stream, cfg: TerminalConfig) -> Self {
        let mut pane = Self::with_history(cfg, History::new(cfg.scrollback, false));
        pane.handle = Some(stream.handle);
        pane.events = Some(stream.events);
        pane
    }

    fn with_history(cfg: TerminalConfig, mut history: History) -> Self {
        let cols = cfg.cols.max(MIN_COLS);
        let rows = cfg.rows.max(1);
        let inbox = Inbox::default();
        let config = term::Config {
            scrolling_history: cfg.scrollback,
            ..term::Config::default()
        };
        let size = Size {
            cols: usize::from(cols),
            rows: usize::from(rows),
        };
        let mut term = Term::new(config.clone(), &size, inbox.clone());
        history.install(&mut term);
        Self {
            term,
            history,
            config,
            after_esc: false,
            parser: Processor::new(),
            inbox,
            handle: None,
            events: None,
            closed: None,
            cols,
            rows,
            title: None,
            activity: false,
            bell: false,
            clipboard: None,
            notices: Vec::new(),
            copy: None,
            mouse: mouse::MouseState::default(),
            emulator_errors: 0,
            recorder: None,
        }
    }

    /// Record this pane's output from now on (None ends the recording).
    pub fn set_recorder(&mut self, recorder: Option<crate::record::Recorder>) {
        self.recorder = recorder;
    }

    /// Whether this pane's output is being recorded.
    pub fn is_recorded(&self) -> bool {
        self.recorder.is_some()
    }

    /// A marker in the recording; false when the pane is not recorded.
    pub fn record_marker(&self, text: &str) -> bool {
        self.recorder.as_ref().map(|r| r.marker(text)).is_some()
    }

    /// Reconnect this pane to a new backend; the screen and scrollback stay.
    pub fn set_stream(&mut self, stream: Stream) {
        if let Some(old) = self.handle.take() {
            old.close();
        }
        stream.handle.resize(self.cols, self.rows);
        // Forget a half-parsed sequence from the old stream so it cannot eat the new one's bytes.
        self.parser = Processor::new();
        self.after_esc = false;
        self.handle = Some(stream.handle);
        self.events = Some(stream.events);
        self.closed = None;
    }

    /// Why the backend ended, once it has.
    pub fn closed(&self) -> Option<&CloseReason> {
        self.closed.as_ref()
    }

    fn live(&self) -> bool {
        self.handle.is_some() && self.closed.is_none()
    }

    /// A key for the pane: sent to the program, or a copy-mode command while in copy mode.
    pub fn handle_key(&mut self, key: &KeyEvent) -> KeyOutcome {
        if key.kind == KeyEventKind::Release {
            return KeyOutcome::Ignored;
        }
        if self.copy.is_some() {
            return self.copy_key(key);
        }
        if !self.live() {
            return KeyOutcome::Ignored;
        }
        let app_cursor = self.term.mode().contains(TermMode::APP_CURSOR);
        match keys::encode_key(key, app_cursor) {
            Some(bytes) => {
                self.term.scroll_display(Scroll::Bottom);
                self.sync_view();
                self.write(&bytes);
                KeyOutcome::Consumed
            }
            None => KeyOutcome::Ignored,
        }
    }

    /// Paste text: bracketed when the program asked for it, newlines sent as Enter otherwise.
    pub fn paste(&mut self, text: &str) {
        if !self.live() {
            return;
        }
        if self.copy.is_some() {
            self.leave_copy_mode();
        }
        self.term.scroll_display(Scroll::Bottom);
        self.sync_view();
        if self.term.mode().contains(TermMode::BRACKETED_PASTE) {
            // A pasted end marker would let the text escape the bracket and run as typed input.
            let body = text.replace("\x1b[201~", "");
            self.write(format!("\x1b[200~{body}\x1b[201~").as_bytes());
        } else {
            let body = text.replace("\r\n", "\r").replace('\n', "\r");
            self.write(body.as_bytes());
        }
    }

    /// Resize the emulator and the backend. Zero sizes are ignored; one column counts as two.
    pub fn resize(&mut self, cols: u16, rows: u16) {
        if cols == 0 || rows == 0 {
            return;
        }
        let cols = cols.max(MIN_COLS);
        if (cols, rows) == (self.cols, self.rows) {
            return;
        }
        self.cols = cols;
        self.rows = rows;
        self.history
            .resize(&mut self.term, usize::from(cols), usize::from(rows));
        self.sync_view();
        if let Some(handle) = &self.handle {
            handle.resize(cols, rows);
        }
        if let Some(r) = &self.recorder {
            r.resize(cols, rows);
        }
        if self.copy.is_some() {
            self.refresh_hits();
        }
    }

    /// Where the program's cursor is, relative to the pane, when it should be shown: visible,
    /// not scrolled back, not in copy mode.
    pub fn cursor(&self) -> Option<(u16, u16)> {
        if self.copy.is_some()
            || self.term.grid().display_offset() != 0
            || !self.term.mode().contains(TermMode::SHOW_CURSOR)
        {
            return None;
        }
        let point = self.term.grid().cursor.point;
        let row = u16::try_from(point.line.0).ok()?;
        let mut col = point.column.0;
        if col > 0
            && self.term.grid()[point]
                .flags
                .contains(Flags::WIDE_CHAR_SPACER)
        {
            col -= 1;
        }
        Some((u16::try_from(col).ok()?, row))
    }

    pub fn cursor_shape(&self) -> CursorShape {
        let style = self.term.cursor_style();
        match (style.shape, style.blinking) {
            (ansi::CursorShape::Underline, false) => CursorShape::Underline,
            (ansi::CursorShape::Underline, true) => CursorShape::BlinkingUnderline,
            (ansi::CursorShape::Beam, false) => CursorShape::Bar,
            (ansi::CursorShape::Beam, true) => CursorShape::BlinkingBar,
            (_, true) => CursorShape::BlinkingBlock,
            (_, false) => CursorShape::Block,
        }
    }

    /// The title the program set (OSC 0/2); None until set and after a reset.
    pub fn title(&self) -> Option<&str> {
        self.title.as_deref()
    }

    /// True once after new output arrived.
    pub fn take_activity(&mut self) -> bool {
        std::mem::take(&mut self.activity)
    }

    /// True once after the program rang the bell.
    pub fn take_bell(&mut self) -> bool {
        std::mem::take(&mut self.bell)
    }

    /// Notices the backend sent about its connection, once.
    pub fn take_notices(&mut self) -> Vec<String> {
        std::mem::take(&mut self.notices)
    }

    /// Text the program asked to put on the clipboard (OSC 52), once.
    pub fn take_clipboard(&mut self) -> Option<String> {
        self.clipboard.take()
    }

    /// The program enabled mouse reporting.
    pub fn wants_mouse(&self) -> bool {
        self.term.mode().intersects(TermMode::MOUSE_MODE)
    }

    /// The program asked for bracketed paste (a shell's line editor does): pasted text waits
    /// for Enter, even over several lines.
    pub fn bracketed_paste(&self) -> bool {
        self.term.mode().contains(TermMode::BRACKETED_PASTE)
    }

    /// The program is on the alternate screen (a full-screen program such as vim or htop).
    pub fn alt_screen(&self) -> bool {
        self.term.mode().contains(TermMode::ALT_SCREEN)
    }

    /// Lines of scrollback currently kept.
    pub fn history_len(&self) -> usize {
        self.history.lines(&self.term)
    }

    /// How much scrollback is kept, and how much of it in compact form.
    pub fn history_stats(&self) -> HistoryStats {
        self.history.stats(&self.term)
    }

    /// Lines scrolled back from the bottom (0 when following output).
    pub fn scroll_offset(&self) -> usize {
        self.term.grid().display_offset()
    }

    /// Scroll the view by `lines` (positive = back into history).
    pub fn scroll(&mut self, lines: i32) {
        if lines > 0 {
            // Keep the rows in view out of the cold store, and bring back those to be shown.
            let depth = self.term.grid().display_offset() + lines.unsigned_abs() as usize;
            self.history.set_following(&mut self.term, false);
            self.history.reach(&mut self.term, depth);
        }
        self.term.scroll_display(Scroll::Delta(lines));
        self.sync_view();
        if self.copy.is_some() {
            self.refresh_hits();
        }
    }

    /// Tell the history whether the view follows the output: otherwise it keeps in the
    /// emulator whatever is shown or in copy mode.
    fn sync_view(&mut self) {
        if self.copy.is_none() && self.alt_screen() {
            // The primary screen keeps its own view until it is back.
            return;
        }
        let following = self.copy.is_none() && self.term.grid().display_offset() == 0;
        self.history.set_following(&mut self.term, following);
    }

    /// The visible lines (or the scrolled view) as text, trailing spaces trimmed.
    pub fn screen_text(&self) -> String {
        let grid = self.term.grid();
        let offset = grid.display_offset() as i32;
        let mut out = String::new();
        for row in 0..grid.screen_lines() {
            if row > 0 {
                out.push('\n');
            }
            let start = out.len();
            let line = &grid[Line(row as i32 - offset)];
            for col in 0..grid.columns() {
                let cell = &line[Column(col)];
                if cell
                    .flags
                    .intersects(Flags::WIDE_CHAR_SPACER | Flags::LEADING_WIDE_CHAR_SPACER)
                {
                    continue;
                }
                out.push(cell.c);
                if let Some(extra) = cell.zerowidth() {
                    out.extend(extra.iter());
                }
            }
            let trimmed = out[start..].trim_end_matches(' ').len();
            out.truncate(start + trimmed);
        }
        out
    }
}
