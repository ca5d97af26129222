//! The pane's text for the copilot: lines as the operator saw them (hidden cells skipped,
//! wide-character spacers dropped, trailing blanks trimmed), and the text left of the cursor.

use super::TerminalPane;
use alacritty_terminal::grid::Dimensions;
use alacritty_terminal::index::{Column, Line};
use alacritty_terminal::term::cell::Flags;

impl TerminalPane {
    /// The text of one grid line (`Line(0)` is the screen's top, negative lines are history).
    fn line_text(&self, line: Line) -> String {
        let grid = self.term.grid();
        let row = &grid[line];
        let mut out = String::new();
        for col in 0..grid.columns() {
            let cell = &row[Column(col)];
            if cell
                .flags
                .intersects(Flags::WIDE_CHAR_SPACER | Flags::LEADING_WIDE_CHAR_SPACER)
            {
                continue;
            }
            // Text the program hid (SGR 8) was not seen, so it is not sent.
            if cell.flags.contains(Flags::HIDDEN) {
                out.push(' ');
                continue;
            }
            out.push(cell.c);
            if let Some(extra) = cell.zerowidth() {
                out.extend(extra.iter());
            }
        }
        out.truncate(out.trim_end_matches(' ').len());
        out
    }

    /// The last `n` lines of scrollback and screen up to the cursor's line, oldest first.
    pub fn last_lines(&self, n: usize) -> Vec<String> {
        let grid = self.term.grid();
        let history = grid.history_size() as i32;
        let cursor = grid.cursor.point.line.0;
        let first = (cursor + 1 - n as i32).max(-history);
        (first..=cursor).map(|l| self.line_text(Line(l))).collect()
    }

    /// The text of the cursor's line left of the cursor (the prompt, when a shell waits).
    pub fn text_before_cursor(&self) -> String {
        let point = self.term.grid().cursor.point;
        let line = self.line_text(point.line);
        line.chars().take(point.column.0).collect()
    }

    /// The whole cursor line.
    pub fn cursor_line(&self) -> String {
        self.line_text(self.term.grid().cursor.point.line)
    }

    /// Type `text` as if the operator typed it (no bracketed paste: it is one command line).
    pub fn type_text(&mut self, text: &str) {
        self.write(text.as_bytes());
    }
}
