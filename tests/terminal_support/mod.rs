//! Shared helpers for the terminal pane tests: a pane on an in-memory stream, replay, rendering.
#![allow(dead_code, clippy::unwrap_used)]

use lumen::panes::terminal::{TerminalConfig, TerminalPane};
use lumen::stream::{self, StreamCmd, StreamEnds, StreamEvent, Waker};
use lumen::ui::theme::Theme;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use unicode_width::UnicodeWidthStr;

/// Chunk size recorded streams are fed in, like a PTY read.
pub const CHUNK: usize = 4096;

/// A pane whose backend is the returned channel ends (no process behind it).
pub fn pane(cols: u16, rows: u16, scrollback: usize) -> (TerminalPane, StreamEnds) {
    let waker = Waker::new();
    let (stream, ends) = stream::channel(&waker);
    let cfg = TerminalConfig {
        cols,
        rows,
        scrollback,
    };
    (TerminalPane::new(stream, cfg), ends)
}

/// Send `bytes` through the stream in chunks and pump them into the pane.
pub fn feed(pane: &mut TerminalPane, ends: &StreamEnds, bytes: &[u8]) {
    for chunk in bytes.chunks(CHUNK) {
        ends.events
            .try_send(StreamEvent::Data(chunk.to_vec()))
            .unwrap();
        let mut pump = pane.pump(usize::MAX);
        assert_eq!(pump.bytes, chunk.len());
        // More to do can only be compressing old scrollback: no data is left.
        while pump.more {
            pump = pane.pump(usize::MAX);
            assert_eq!(pump.bytes, 0);
        }
    }
}

/// Everything the pane wrote back to the program so far.
pub fn written(ends: &mut StreamEnds) -> Vec<u8> {
    let mut out = Vec::new();
    while let Ok(cmd) = ends.commands.try_recv() {
        if let StreamCmd::Input(bytes) = cmd {
            out.extend_from_slice(&bytes);
        }
    }
    out
}

pub fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Render the pane into a fresh buffer of `cols`x`rows`.
pub fn render(pane: &TerminalPane, cols: u16, rows: u16) -> Buffer {
    let area = Rect::new(0, 0, cols, rows);
    let mut buf = Buffer::empty(area);
    pane.render(area, &mut buf, &Theme::builtin());
    buf
}

/// The buffer as text: one line per row, the cell after a wide character skipped,
/// trailing spaces trimmed.
pub fn buffer_text(buf: &Buffer) -> String {
    let area = buf.area;
    let mut lines = Vec::new();
    for y in area.top()..area.bottom() {
        let mut line = String::new();
        let mut skip = 0;
        for x in area.left()..area.right() {
            if skip > 0 {
                skip -= 1;
                continue;
            }
            let symbol = buf[(x, y)].symbol();
            line.push_str(symbol);
            skip = symbol.width().saturating_sub(1);
        }
        lines.push(line.trim_end().to_string());
    }
    lines.join("\n")
}
