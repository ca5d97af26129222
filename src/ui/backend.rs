//! The outer terminal's backend, pinned. ratatui writes a changed run of cells and trusts the
//! terminal to advance the cursor by each character's width; a terminal whose width table
//! disagrees with ours (soft hyphens, private-use or unassigned code points from random bytes)
//! then shifts the rest of the line and leaves stale characters until a resize. So after every
//! non-ASCII cell the next cell is placed with an explicit cursor move, and a cell holding a
//! character whose width terminals disagree on is blanked first.

use ratatui::backend::{Backend, ClearType, WindowSize};
use ratatui::buffer::Cell;
use ratatui::layout::{Position, Size};

/// Wraps the real backend; see the module comment.
pub struct PinnedBackend<B>(pub B);

/// A character some terminals draw with another width than unicode-width gives it (or none).
fn doubtful(c: char) -> bool {
    let u = c as u32;
    matches!(u,
        0xAD                       // soft hyphen: 1 here, 0 in many terminals
        | 0x80..=0x9F              // C1 controls
        | 0x200B..=0x200F          // zero-width space, joiners, direction marks
        | 0x2028..=0x202E
        | 0x2060..=0x206F
        | 0xE000..=0xF8FF          // private use
        | 0xFEFF
        | 0xFFF0..=0xFFFC
        | 0x30000..=0xEFFFF        // mostly unassigned; tags and selectors
        | 0xF0000..=0x10FFFF)      // private use planes
        || (u & 0xFFFE) == 0xFFFE // noncharacters
}

impl<B: Backend> Backend for PinnedBackend<B> {
    type Error = B::Error;

    fn draw<'a, I>(&mut self, content: I) -> Result<(), Self::Error>
    where
        I: Iterator<Item = (u16, u16, &'a Cell)>,
    {
        let mut run: Vec<(u16, u16, &Cell)> = Vec::new();
        for (x, y, cell) in content {
            let symbol = cell.symbol();
            if symbol.is_ascii() {
                run.push((x, y, cell));
                continue;
            }
            if symbol.chars().any(doubtful) {
                self.0.draw(run.drain(..))?;
                let mut blank = cell.clone();
                blank.set_symbol(" ");
                self.0.draw(std::iter::once((x, y, &blank)))?;
            }
            run.push((x, y, cell));
            // Each draw call starts with a cursor move: the next cell is placed, not assumed.
            self.0.draw(run.drain(..))?;
        }
        self.0.draw(run.into_iter())
    }

    fn append_lines(&mut self, n: u16) -> Result<(), Self::Error> {
        self.0.append_lines(n)
    }

    fn hide_cursor(&mut self) -> Result<(), Self::Error> {
        self.0.hide_cursor()
    }

    fn show_cursor(&mut self) -> Result<(), Self::Error> {
        self.0.show_cursor()
    }

    fn get_cursor_position(&mut self) -> Result<Position, Self::Error> {
        self.0.get_cursor_position()
    }

    fn set_cursor_position<P: Into<Position>>(&mut self, position: P) -> Result<(), Self::Error> {
        self.0.set_cursor_position(position)
    }

    fn clear(&mut self) -> Result<(), Self::Error> {
        self.0.clear()
    }

    fn clear_region(&mut self, clear_type: ClearType) -> Result<(), Self::Error> {
        self.0.clear_region(clear_type)
    }

    fn size(&self) -> Result<Size, Self::Error> {
        self.0.size()
    }

    fn window_size(&mut self) -> Result<WindowSize, Self::Error> {
        self.0.window_size()
    }

    fn flush(&mut self) -> Result<(), Self::Error> {
        self.0.flush()
    }
}

/// Bytes written by a ratatui backend into memory, shared with whoever sends or checks them
/// (the server's per-client frames, tests). Clones share one buffer.
#[derive(Clone, Default)]
pub struct Sink(std::rc::Rc<std::cell::RefCell<Vec<u8>>>);

impl std::io::Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Sink {
    /// What was written since the last take.
    pub fn take(&self) -> Vec<u8> {
        std::mem::take(&mut *self.0.borrow_mut())
    }

    /// Write `bytes` ahead of what a backend writes next.
    pub fn push(&self, bytes: &[u8]) {
        self.0.borrow_mut().extend_from_slice(bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::Terminal;
    use ratatui::backend::CrosstermBackend;

    /// The bytes written for a frame showing `text` on a 10x1 screen.
    fn frame(text: &str) -> String {
        let sink = Sink::default();
        let backend = PinnedBackend(CrosstermBackend::new(sink.clone()));
        let area = ratatui::layout::Rect::new(0, 0, 10, 1);
        let mut t = Terminal::with_options(
            backend,
            ratatui::TerminalOptions {
                viewport: ratatui::Viewport::Fixed(area),
            },
        )
        .unwrap_or_else(|e| panic!("terminal: {e}"));
        // One character per cell, as the terminal pane draws its emulator's cells.
        t.draw(|f| {
            for (x, c) in text.chars().enumerate() {
                f.buffer_mut()[(x as u16, 0)].set_char(c);
            }
        })
        .unwrap_or_else(|e| panic!("draw: {e}"));
        String::from_utf8_lossy(&sink.take()).into_owned()
    }

    /// CSI row;col H, 1-based.
    fn moves(out: &str) -> Vec<String> {
        let mut found = Vec::new();
        let mut rest = out;
        while let Some(i) = rest.find("\x1b[") {
            rest = &rest[i + 2..];
            let end = rest
                .find(|c: char| c.is_ascii_alphabetic())
                .unwrap_or(rest.len());
            if rest[end..].starts_with('H') {
                found.push(rest[..end].to_string());
            }
            rest = &rest[end..];
        }
        found
    }

    #[test]
    fn an_ascii_line_is_one_run() {
        let out = frame("abcdef");
        assert!(out.contains("abcdef"), "{out:?}");
        assert_eq!(moves(&out), ["1;1"], "{out:?}");
    }

    #[test]
    fn the_cell_after_a_non_ascii_one_is_placed() {
        let out = frame("é€b");
        // é at column 1, € placed at 2, b placed at 3.
        assert_eq!(moves(&out), ["1;1", "1;2", "1;3"], "{out:?}");
    }

    #[test]
    fn a_soft_hyphen_is_blanked_then_drawn_and_the_rest_placed() {
        let out = frame("a\u{AD}b");
        let hyphen = out.find('\u{AD}').unwrap_or_else(|| panic!("{out:?}"));
        let before = &out[..hyphen];
        // a, then a blank at column 2, then the hyphen placed at column 2, then b at 3.
        assert!(before.ends_with("\x1b[1;2H"), "{out:?}");
        assert!(before.contains(' '), "{out:?}");
        assert_eq!(moves(&out), ["1;1", "1;2", "1;2", "1;3"], "{out:?}");
        assert!(!doubtful('é') && doubtful('\u{AD}') && doubtful('\u{F0000}'));
        assert!(doubtful('\u{10FFFF}') && !doubtful('\u{FFFD}'));
    }
}
