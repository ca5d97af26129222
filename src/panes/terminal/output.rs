//! The output side: queued chunks from the backend parsed into the emulator, and the
//! emulator's events (title, bell, clipboard, replies to queries) handled.

use super::history::Capture;
use super::{Pump, Size, TerminalPane, listener};
use crate::stream::{CloseReason, StreamEvent};
use alacritty_terminal::Term;
use alacritty_terminal::event::Event;
use alacritty_terminal::grid::{Dimensions, Scroll};
use alacritty_terminal::term;
use alacritty_terminal::vte::ansi::Processor;
use tokio::sync::mpsc::error::TryRecvError;

impl TerminalPane {
    /// Parse queued output, about `budget` bytes at most (whole chunks), and answer the
    /// program's queries through the stream.
    pub fn pump(&mut self, budget: usize) -> Pump {
        let mut pump = Pump::default();
        self.flush_sync_timeout();
        loop {
            if pump.bytes >= budget {
                pump.more = self.events.as_ref().is_some_and(|rx| !rx.is_empty());
                break;
            }
            if self.recorder.as_ref().is_some_and(|r| !r.ready()) {
                // The recording's writer is behind: this pane waits (the others go on) until
                // the writer wakes the loop, without spinning.
                break;
            }
            let Some(rx) = self.events.as_mut() else {
                break;
            };
            match rx.try_recv() {
                Ok(StreamEvent::Data(bytes)) => {
                    pump.bytes += bytes.len();
                    self.feed(&bytes);
                    if let Some(r) = &self.recorder {
                        r.output(bytes);
                    }
                }
                Ok(StreamEvent::Notice(text)) => self.notices.push(text),
                Ok(StreamEvent::Closed(reason)) => {
                    self.show_closed(&reason);
                    self.closed = Some(reason);
                    self.events = None;
                    // The session ended: its recording is finished and compressed.
                    self.recorder = None;
                }
                Err(TryRecvError::Empty) => {
                    // Nothing else to do: compress old scrollback, a slice per turn.
                    pump.more = self.history.compress();
                    break;
                }
                Err(TryRecvError::Disconnected) => {
                    let reason =
                        CloseReason::Failed("the connection ended without a reason".into());
                    self.show_closed(&reason);
                    self.closed = Some(reason);
                    self.events = None;
                    self.recorder = None;
                }
            }
        }
        pump
    }

    /// Parse `bytes` as output of the program (what [`pump`](Self::pump) does with each chunk;
    /// also used to replay recorded streams).
    pub fn feed(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        self.advance(bytes);
        self.activity = true;
        // A full reset (ESC c) clears the title without an event; re-applying the config makes
        // alacritty report the current title. A false positive only repeats the same title.
        if contains_reset(self.after_esc, bytes) {
            self.term.set_options(self.config.clone());
            self.history.restore_limit(&mut self.term);
        }
        self.after_esc = bytes.last() == Some(&0x1b);
        self.handle_events();
        self.sync_view();
        if self.copy.is_some() {
            self.keep_copy_cursor_in_grid();
            self.refresh_hits();
        }
    }

    /// Run the parser over `bytes`. Should the emulator panic on some input, the pane starts
    /// over with a fresh screen and says so, instead of taking the whole app down.
    fn advance(&mut self, bytes: &[u8]) {
        let parsed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let mut capture = Capture::new(&mut self.term, &mut self.history);
            self.parser.advance(&mut capture, bytes);
            self.after_parse();
        }));
        if parsed.is_err() {
            self.emulator_errors += 1;
            let size = Size {
                cols: usize::from(self.cols),
                rows: usize::from(self.rows),
            };
            self.term = Term::new(self.config.clone(), &size, self.inbox.clone());
            self.parser = Processor::new();
            self.copy = None;
            self.history.install(&mut self.term);
            let mut capture = Capture::new(&mut self.term, &mut self.history);
            self.parser.advance(
                &mut capture,
                b"[lumen: the terminal emulator failed on this output; screen reset]\r\n",
            );
        }
    }

    fn after_parse(&mut self) {
        self.history.after_advance(&mut self.term);
        // Alacritty moves a scrolled-back view along with every scroll, even one inside a
        // scroll region that adds no history, which can leave the view above the oldest line
        // (and reading it would panic): bring back the rows it reaches, then keep it in range.
        let offset = self.term.grid().display_offset();
        if offset > self.term.grid().history_size() {
            self.history.reach(&mut self.term, offset);
            if offset > self.term.grid().history_size() {
                self.term.scroll_display(Scroll::Delta(0));
            }
        }
    }

    /// How many times the emulator failed and the screen was reset (see [`feed`](Self::feed)).
    pub fn emulator_errors(&self) -> usize {
        self.emulator_errors
    }

    /// Programs that start a synchronized update and never end it get shown after the timeout.
    fn flush_sync_timeout(&mut self) {
        let due = self.parser.sync_timeout().sync_timeout();
        if due.is_some_and(|at| at <= std::time::Instant::now()) {
            let mut capture = Capture::new(&mut self.term, &mut self.history);
            self.parser.stop_sync(&mut capture);
            self.after_parse();
            self.handle_events();
        }
    }

    fn handle_events(&mut self) {
        for event in self.inbox.drain() {
            match event {
                Event::Title(title) => self.title = Some(title),
                Event::ResetTitle => self.title = None,
                Event::Bell => self.bell = true,
                Event::ClipboardStore(_, text) => self.clipboard = Some(text),
                Event::PtyWrite(text) => self.write(text.as_bytes()),
                Event::ColorRequest(index, format) => {
                    let colors = self.term.colors();
                    let rgb = (index < term::color::COUNT)
                        .then(|| colors[index])
                        .flatten()
                        .unwrap_or_else(|| listener::default_rgb(index));
                    self.write(format(rgb).as_bytes());
                }
                Event::TextAreaSizeRequest(format) => {
                    let text = format(listener::window_size(self.cols, self.rows));
                    self.write(text.as_bytes());
                }
                _ => {}
            }
        }
    }

    /// Print why the stream ended under the output, keeping it on screen and in scrollback.
    pub(super) fn show_closed(&mut self, reason: &CloseReason) {
        let text: String = reason
            .to_string()
            .chars()
            .filter(|c| !c.is_control())
            .collect();
        let line = format!("\x1b[0m\r\n[{text}]\r\n");
        self.advance(line.as_bytes());
        self.activity = true;
    }

    pub(super) fn write(&self, bytes: &[u8]) {
        if let Some(handle) = &self.handle
            && self.closed.is_none()
        {
            handle.write(bytes);
        }
    }
}

/// Whether `bytes` (preceded by an ESC when `after_esc`) contain `ESC c`.
fn contains_reset(after_esc: bool, bytes: &[u8]) -> bool {
    if after_esc && bytes.first() == Some(&b'c') {
        return true;
    }
    bytes
        .iter()
        .enumerate()
        .any(|(i, &b)| b == 0x1b && bytes.get(i + 1) == Some(&b'c'))
}
