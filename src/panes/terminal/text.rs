//! The pane's text for the copilot: lines as the operator saw them (hidden cells skipped,
//! wide-character spacers dropped, trailing blanks trimmed), and the text left of the cursor.

use super::TerminalPane;
use alacritty_terminal::grid::Dimensions;
use alacritty_terminal::index::{Column, Line};
use alacritty_terminal::term::cell::{Cell, Flags};

impl TerminalPane {
    /// The text of one grid line (`Line(0)` is the screen's top, negative lines are history).
    fn line_text(&self, line: Line) -> String {
        self.row_text(line).0
    }

    /// One grid row's text, and whether it continues on the next row (it wrapped).
    fn row_text(&self, line: Line) -> (String, bool) {
        let grid = self.term.grid();
        let row = &grid[line];
        cells_text((0..grid.columns()).map(|col| &row[Column(col)]))
    }

    /// The last `n` lines of scrollback and screen up to the cursor's line, oldest first,
    /// rows that wrapped joined into the line they belong to (so a long token reaches the
    /// redactor whole, however narrow the pane). Rows come from the compact store, then the
    /// emulator.
    pub fn last_lines(&self, n: usize) -> Vec<String> {
        let want = n + WRAP_LOOKBEHIND;
        let grid = self.term.grid();
        let history = grid.history_size() as i32;
        let cursor = grid.cursor.point.line.0;
        let first = (cursor + 1 - want as i32).max(-history);
        let in_grid = (cursor + 1 - first).max(0) as usize;
        let mut rows: Vec<(String, bool)> = self
            .history
            .cold_tail(&self.term, want.saturating_sub(in_grid))
            .iter()
            .map(|row| cells_text(row.iter()))
            .collect();
        let cut = rows.len() + in_grid >= want;
        rows.extend((first..=cursor).map(|l| self.row_text(Line(l))));
        let mut lines: Vec<String> = Vec::new();
        let mut open = false;
        for (text, wraps) in rows {
            match lines.last_mut() {
                Some(last) if open => last.push_str(&text),
                _ => lines.push(text),
            }
            open = wraps;
        }
        // The oldest line may be the end of one that began above the rows read: drop it.
        if cut && !lines.is_empty() {
            lines.remove(0);
        }
        let skip = lines.len().saturating_sub(n);
        lines.drain(..skip);
        for l in &mut lines {
            l.truncate(l.trim_end_matches(' ').len());
        }
        lines
    }

    /// The rows that scrolled off the top since the last call, oldest first, rows that
    /// wrapped joined, trailing blanks trimmed; then forgotten (replaying a recording to text
    /// reads them as they go, so memory stays bounded). Only for an [`offline`] pane.
    ///
    /// [`offline`]: TerminalPane::offline
    pub fn take_scrolled_lines(&mut self) -> Vec<String> {
        let n = self.term.grid().history_size() as i32;
        let mut lines: Vec<String> = Vec::new();
        let mut open = false;
        for l in -n..0 {
            let (text, wraps) = self.row_text(Line(l));
            match lines.last_mut() {
                Some(last) if open => last.push_str(&text),
                _ => lines.push(text),
            }
            open = wraps;
        }
        for l in &mut lines {
            l.truncate(l.trim_end_matches(' ').len());
        }
        self.term.grid_mut().clear_history();
        lines
    }

    /// The screen's rows from the top to the cursor's, trailing blanks trimmed.
    pub fn screen_lines_to_cursor(&self) -> Vec<String> {
        let cursor = self.term.grid().cursor.point.line.0.max(0);
        (0..=cursor)
            .map(|l| {
                let t = self.line_text(Line(l));
                t.trim_end_matches(' ').to_string()
            })
            .collect()
    }

    /// The screen's lines, trailing blanks and blank lines at the bottom trimmed.
    pub fn screen_lines(&self) -> Vec<String> {
        let mut lines: Vec<String> = self.screen_text().lines().map(str::to_string).collect();
        while lines.last().is_some_and(|l| l.is_empty()) {
            lines.pop();
        }
        lines
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

/// Rows read above the ones asked for, so a line that wrapped over them is read whole.
const WRAP_LOOKBEHIND: usize = 64;

/// Cells as the operator saw them: wide-character spacers dropped, hidden text (SGR 8) as
/// blanks (it was not seen, so it is not sent), combining marks kept; and whether the row
/// wrapped onto the next one. Trailing blanks are trimmed unless it wrapped (they are then
/// part of the line).
fn cells_text<'a>(cells: impl Iterator<Item = &'a Cell>) -> (String, bool) {
    let mut out = String::new();
    let mut wraps = false;
    for cell in cells {
        wraps = cell.flags.contains(Flags::WRAPLINE);
        if cell
            .flags
            .intersects(Flags::WIDE_CHAR_SPACER | Flags::LEADING_WIDE_CHAR_SPACER)
        {
            continue;
        }
        if cell.flags.contains(Flags::HIDDEN) {
            out.push(' ');
            continue;
        }
        out.push(cell.c);
        if let Some(extra) = cell.zerowidth() {
            out.extend(extra.iter());
        }
    }
    if !wraps {
        out.truncate(out.trim_end_matches(' ').len());
    }
    (out, wraps)
}
