//! Copy mode: a tmux-like cursor over the screen and scrollback with vi keys, regex search
//! and selection, built on alacritty's vi mode, `Selection` and `RegexSearch`.

use super::{KeyOutcome, TerminalPane};
use alacritty_terminal::grid::{Dimensions, Scroll};
use alacritty_terminal::index::{Boundary, Column, Direction, Line, Point, Side};
use alacritty_terminal::selection::{Selection, SelectionType};
use alacritty_terminal::term::TermMode;
use alacritty_terminal::term::cell::{Cell, Flags};
use alacritty_terminal::term::search::{Match, RegexIter, RegexSearch};
use alacritty_terminal::vi_mode::ViMotion;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// Most search hits highlighted at once (a screen rarely holds more).
const MAX_HITS: usize = 2_000;

/// Copy-mode state beside alacritty's own vi cursor and selection.
#[derive(Default)]
pub(super) struct CopyState {
    /// The search pattern being typed after `/` or `?`.
    prompt: Option<Prompt>,
    search: Option<Search>,
    /// Entered by dragging the mouse: leave again once the drag copied.
    pub(super) by_mouse: bool,
    /// A one-line note for the status line (no match, bad pattern).
    message: Option<String>,
    /// Hits of the search on the visible screen, recomputed after every change.
    pub(super) hits: Vec<Match>,
}

struct Prompt {
    forward: bool,
    text: String,
}

struct Search {
    regex: RegexSearch,
    pattern: String,
    forward: bool,
    current: Option<Match>,
}

impl CopyState {
    pub(super) fn current_hit(&self) -> Option<&Match> {
        self.search.as_ref().and_then(|s| s.current.as_ref())
    }
}

impl TerminalPane {
    /// Start copy mode with the cursor where the program's cursor is.
    pub fn enter_copy_mode(&mut self) {
        if self.copy.is_some() {
            return;
        }
        // Old lines stay in the compact store until a motion or a search reaches them.
        self.copy = Some(CopyState::default());
        self.sync_view();
        if !self.term.mode().contains(TermMode::VI) {
            self.term.toggle_vi_mode();
        }
    }

    /// Start copy mode one page up (tmux's `copy-mode -u`, on prefix PageUp); already in it,
    /// go one page further up.
    pub fn enter_copy_mode_page_up(&mut self) {
        self.enter_copy_mode();
        self.copy_key(&KeyEvent::new(KeyCode::PageUp, KeyModifiers::NONE));
    }

    pub fn in_copy_mode(&self) -> bool {
        self.copy.is_some()
    }

    /// Leave copy mode: drop the selection and follow the output again.
    pub(super) fn leave_copy_mode(&mut self) {
        self.term.selection = None;
        if self.term.mode().contains(TermMode::VI) {
            self.term.toggle_vi_mode();
        }
        self.term.scroll_display(Scroll::Bottom);
        self.copy = None;
        self.sync_view();
    }

    /// Output can take away the line the copy-mode cursor is on (a full-screen program
    /// starts, history is cleared); alacritty's motions would then read outside the grid.
    pub(super) fn keep_copy_cursor_in_grid(&mut self) {
        let point = self.term.vi_mode_cursor.point;
        self.term.vi_mode_cursor.point = point.grid_clamp(&self.term, Boundary::Grid);
    }

    /// The selected text, if a selection is active.
    pub(super) fn selected_text(&self) -> Option<String> {
        self.term
            .selection
            .as_ref()
            .filter(|s| !s.is_empty())
            .and_then(|_| self.term.selection_to_string())
    }

    /// The selected text to copy, once the selected rows are safe for alacritty to read.
    pub(super) fn copy_selection(&mut self) -> Option<String> {
        let range = self
            .term
            .selection
            .as_ref()
            .filter(|s| !s.is_empty())?
            .to_range(&self.term)?;
        self.clear_lone_spacers(range.start.line, range.end.line);
        self.selected_text()
    }

    /// A wide character's spacer at the start of a row has lost its character (a delete or
    /// an erase split the pair, then the row shifted or reflowed). It shows as a blank, but
    /// alacritty_terminal 0.26 copies such a row by stepping one column left of column 0: a
    /// panic in debug builds, the row silently left out in release. Make those cells the
    /// blanks they show as.
    fn clear_lone_spacers(&mut self, first: Line, last: Line) {
        for line in first.0..=last.0 {
            let cell = &mut self.term.grid_mut()[Line(line)][Column(0)];
            if cell.flags.contains(Flags::WIDE_CHAR_SPACER) {
                cell.flags.remove(Flags::WIDE_CHAR_SPACER);
                cell.c = ' ';
            }
        }
    }

    pub(super) fn copy_key(&mut self, key: &KeyEvent) -> KeyOutcome {
        let outcome = if self.copy.as_ref().is_some_and(|c| c.prompt.is_some()) {
            self.prompt_key(key);
            KeyOutcome::Consumed
        } else {
            if let Some(copy) = self.copy.as_mut() {
                copy.message = None;
            }
            self.command_key(key)
        };
        if self.copy.is_some() {
            self.refresh_hits();
        }
        outcome
    }

    fn prompt_key(&mut self, key: &KeyEvent) {
        let Some(copy) = self.copy.as_mut() else {
            return;
        };
        let Some(prompt) = copy.prompt.as_mut() else {
            return;
        };
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Esc => copy.prompt = None,
            KeyCode::Char('c') if ctrl => copy.prompt = None,
            KeyCode::Char('u') if ctrl => prompt.text.clear(),
            KeyCode::Char(c) if !ctrl => prompt.text.push(c),
            KeyCode::Backspace if prompt.text.pop().is_none() => copy.prompt = None,
            KeyCode::Enter => {
                let forward = prompt.forward;
                let text = std::mem::take(&mut prompt.text);
                copy.prompt = None;
                if text.is_empty() {
                    // An empty pattern repeats the last search, as in vi.
                    if copy.search.is_some() {
                        self.search_step(forward);
                    }
                } else {
                    self.start_search(text, forward);
                }
            }
            _ => {}
        }
    }

    fn command_key(&mut self, key: &KeyEvent) -> KeyOutcome {
        self.reach_for(key);
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let half = (self.term.screen_lines() / 2).max(1) as i32;
        let page = self.term.screen_lines().max(1) as i32;
        match key.code {
            KeyCode::Esc | KeyCode::Char('q') => {
                self.leave_copy_mode();
                return KeyOutcome::LeftCopyMode;
            }
            KeyCode::Char('c') if ctrl => {
                self.leave_copy_mode();
                return KeyOutcome::LeftCopyMode;
            }
            KeyCode::Enter | KeyCode::Char('y') => {
                let text = self.copy_selection();
                self.leave_copy_mode();
                return match text {
                    Some(text) => KeyOutcome::Copied(text),
                    None => KeyOutcome::LeftCopyMode,
                };
            }
            KeyCode::Char('u') if ctrl => self.page(half),
            KeyCode::Char('d') if ctrl => self.page(-half),
            KeyCode::Char('b') if ctrl => self.page(page),
            KeyCode::Char('f') if ctrl => self.page(-page),
            KeyCode::Char('v') if ctrl => self.toggle_selection(SelectionType::Block),
            KeyCode::PageUp => self.page(page),
            KeyCode::PageDown => self.page(-page),
            KeyCode::Char('h') | KeyCode::Left => self.term.vi_motion(ViMotion::Left),
            KeyCode::Char('j') | KeyCode::Down => self.term.vi_motion(ViMotion::Down),
            KeyCode::Char('k') | KeyCode::Up => self.term.vi_motion(ViMotion::Up),
            KeyCode::Char('l') | KeyCode::Right => self.right(),
            KeyCode::Char('0') | KeyCode::Home => self.term.vi_motion(ViMotion::First),
            KeyCode::Char('$') | KeyCode::End => self.end_of_line(),
            KeyCode::Char('^') => self.term.vi_motion(ViMotion::FirstOccupied),
            KeyCode::Char('w') => self.term.vi_motion(ViMotion::SemanticRight),
            KeyCode::Char('b') => self.term.vi_motion(ViMotion::SemanticLeft),
            KeyCode::Char('e') => self.term.vi_motion(ViMotion::SemanticRightEnd),
            KeyCode::Char('W') => self.term.vi_motion(ViMotion::WordRight),
            KeyCode::Char('B') => self.term.vi_motion(ViMotion::WordLeft),
            KeyCode::Char('E') => self.term.vi_motion(ViMotion::WordRightEnd),
            KeyCode::Char('H') => self.term.vi_motion(ViMotion::High),
            // Alacritty's middle of a one-line screen is the line above it (none at first).
            KeyCode::Char('M') if self.term.screen_lines() < 2 => {
                self.term.vi_motion(ViMotion::High)
            }
            KeyCode::Char('M') => self.term.vi_motion(ViMotion::Middle),
            KeyCode::Char('L') => self.term.vi_motion(ViMotion::Low),
            KeyCode::Char('g') => {
                let top = Point::new(self.term.topmost_line(), Column(0));
                self.term.vi_goto_point(top);
            }
            KeyCode::Char('G') => {
                let bottom = Point::new(self.term.bottommost_line(), Column(0));
                self.term.vi_goto_point(bottom);
            }
            KeyCode::Char('v') | KeyCode::Char(' ') => self.toggle_selection(SelectionType::Simple),
            KeyCode::Char('V') => self.toggle_selection(SelectionType::Lines),
            KeyCode::Char('/') | KeyCode::Char('?') => {
                if let Some(copy) = self.copy.as_mut() {
                    copy.prompt = Some(Prompt {
                        forward: key.code == KeyCode::Char('/'),
                        text: String::new(),
                    });
                }
            }
            KeyCode::Char('n') => self.search_again(false),
            KeyCode::Char('N') => self.search_again(true),
            _ => {}
        }
        KeyOutcome::Consumed
    }

    /// Bring back from the compact store the lines `key` may move to: the whole history for
    /// `g` and searches, otherwise two screens above the cursor or the view (a page up and
    /// any motion over a line end stay within them).
    fn reach_for(&mut self, key: &KeyEvent) {
        let depth = match key.code {
            KeyCode::Char('g') | KeyCode::Char('n') | KeyCode::Char('N') => usize::MAX,
            _ => {
                let cursor = self.term.vi_mode_cursor.point.line.0;
                let above = usize::try_from(-cursor).unwrap_or(0);
                let screen = self.term.screen_lines();
                self.term.grid().display_offset().max(above) + 2 * screen
            }
        };
        self.history.reach(&mut self.term, depth);
    }

    /// `l`: one cell right, to the next row where the line wraps. At a bottom row that wraps
    /// (see [`Self::bottom_open`]) alacritty would step below the screen; stay instead.
    fn right(&mut self) {
        let cursor = self.term.vi_mode_cursor.point;
        if cursor.line == self.term.bottommost_line() && self.bottom_open(cursor) {
            return;
        }
        self.term.vi_motion(ViMotion::Right);
    }

    /// `$`: to the last character of the line, across the rows it wraps over. Where the
    /// line runs on past the bottom row (see [`Self::bottom_open`]), alacritty would read the
    /// row below the screen and panic; the line ends at the bottom row instead.
    fn end_of_line(&mut self) {
        let bottom = self.term.bottommost_line();
        let cursor = self.term.vi_mode_cursor.point;
        let runs_off = if cursor.line == bottom {
            self.bottom_open(cursor)
        } else {
            // Alacritty follows wrap flags down the cursor's column from the cell after it.
            let point = self.term.expand_wide(cursor, Direction::Right);
            let grid = self.term.grid();
            (point.line.0..=bottom.0).all(|line| {
                grid[Point::new(Line(line), point.column)]
                    .flags
                    .contains(Flags::WRAPLINE)
            })
        };
        if !runs_off {
            self.term.vi_motion(ViMotion::Last);
            return;
        }
        let grid = self.term.grid();
        let target = (0..self.term.columns())
            .rev()
            .map(|col| Point::new(bottom, Column(col)))
            .find(|&p| !is_space(&grid[p]))
            .unwrap_or(cursor);
        self.term.vi_goto_point(target);
    }

    /// The cell at `point` on the bottom row continues below the screen: a wrap flag (a
    /// program wrote past the bottom of its scroll region) or the spacer before a wide
    /// character that did not fit. Alacritty's motions assume the bottom row never does.
    fn bottom_open(&self, point: Point) -> bool {
        let grid = self.term.grid();
        if grid[point].flags.contains(Flags::LEADING_WIDE_CHAR_SPACER) {
            return true;
        }
        let point = self.term.expand_wide(point, Direction::Right);
        grid[point].flags.contains(Flags::WRAPLINE)
    }

    /// Move the view and the cursor by `lines` (positive = back into history).
    fn page(&mut self, lines: i32) {
        self.term.scroll_display(Scroll::Delta(lines));
        let target = self.term.vi_mode_cursor.scroll(&self.term, lines).point;
        self.term.vi_goto_point(target);
    }

    /// Start a selection of `ty` at the cursor, or drop the current one.
    fn toggle_selection(&mut self, ty: SelectionType) {
        match &self.term.selection {
            Some(sel) if sel.ty == ty => self.term.selection = None,
            _ => {
                let mut sel = Selection::new(ty, self.term.vi_mode_cursor.point, Side::Left);
                sel.include_all();
                self.term.selection = Some(sel);
            }
        }
    }

    fn start_search(&mut self, pattern: String, forward: bool) {
        // The pattern is a regex; if it is not a valid one, search for the text literally.
        let regex = RegexSearch::new(&pattern).or_else(|_| RegexSearch::new(&escape(&pattern)));
        let Some(copy) = self.copy.as_mut() else {
            return;
        };
        match regex {
            Ok(regex) => {
                copy.search = Some(Search {
                    regex,
                    pattern,
                    forward,
                    current: None,
                });
                self.search_step(forward);
            }
            Err(_) => copy.message = Some(format!("cannot search for '{pattern}'")),
        }
    }

    /// `n` (same direction as the search) or `N` (`reverse`).
    fn search_again(&mut self, reverse: bool) {
        let Some(forward) = self
            .copy
            .as_ref()
            .and_then(|c| c.search.as_ref())
            .map(|s| s.forward)
        else {
            if let Some(copy) = self.copy.as_mut() {
                copy.message = Some("no search yet: type / or ?".into());
            }
            return;
        };
        self.search_step(forward != reverse);
    }

    /// Jump to the next hit after (or before) the copy cursor, wrapping around the history.
    fn search_step(&mut self, forward: bool) {
        // A search runs over every line.
        self.history.reach(&mut self.term, usize::MAX);
        let term = &mut self.term;
        let Some(copy) = self.copy.as_mut() else {
            return;
        };
        let Some(search) = copy.search.as_mut() else {
            return;
        };
        let cursor = term.vi_mode_cursor.point;
        let (origin, direction) = if forward {
            (cursor.add(&*term, Boundary::None, 1), Direction::Right)
        } else {
            (cursor.sub(&*term, Boundary::None, 1), Direction::Left)
        };
        match term.search_next(&mut search.regex, origin, direction, Side::Left, None) {
            Some(hit) => {
                term.vi_goto_point(*hit.start());
                search.current = Some(hit);
            }
            None => {
                search.current = None;
                copy.message = Some(format!("no match for '{}'", search.pattern));
            }
        }
    }

    /// Recompute the search hits on the visible screen (after scrolling, output, resizing).
    pub(super) fn refresh_hits(&mut self) {
        let term = &self.term;
        let Some(copy) = self.copy.as_mut() else {
            return;
        };
        copy.hits.clear();
        let Some(search) = copy.search.as_mut() else {
            return;
        };
        let offset = term.grid().display_offset() as i32;
        let top = Point::new(Line(-offset), Column(0));
        let bottom = Point::new(
            Line(term.screen_lines() as i32 - 1 - offset),
            term.last_column(),
        );
        let iter = RegexIter::new(top, bottom, Direction::Right, term, &mut search.regex);
        copy.hits.extend(iter.take(MAX_HITS));
    }

    /// The copy-mode status line: the search prompt, a message, or where the cursor is.
    pub(super) fn copy_status(&self) -> Option<String> {
        let copy = self.copy.as_ref()?;
        if let Some(prompt) = &copy.prompt {
            let lead = if prompt.forward { '/' } else { '?' };
            return Some(format!("{lead}{}", prompt.text));
        }
        if let Some(message) = &copy.message {
            return Some(format!("[copy] {message}"));
        }
        // Lines still in the compact store count too.
        let history = self.history_len();
        let line = self.term.vi_mode_cursor.point.line.0 + history as i32 + 1;
        let total = history + self.term.screen_lines();
        let mut text = format!("[copy] line {line}/{total}");
        if let Some(search) = &copy.search {
            let lead = if search.forward { '/' } else { '?' };
            text.push_str(&format!(
                "  {lead}{} ({} on screen)",
                search.pattern,
                copy.hits.len()
            ));
        }
        text.push_str("  v select  y copy  / search  q quit");
        Some(text)
    }
}

/// A blank cell as alacritty's vi motions see it (wide-character spacers are not blank).
fn is_space(cell: &Cell) -> bool {
    !cell
        .flags
        .intersects(Flags::WIDE_CHAR_SPACER | Flags::LEADING_WIDE_CHAR_SPACER)
        && (cell.c == ' ' || cell.c == '\t')
}

/// `text` as a regex that matches it literally.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    for c in text.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::super::{KeyOutcome, TerminalConfig, TerminalPane};
    use super::escape;
    use alacritty_terminal::grid::Dimensions;
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    #[test]
    fn escape_makes_literal() {
        assert_eq!(escape("a.b*(c)"), r"a\.b\*\(c\)");
    }

    /// A program wrote past the bottom of its scroll region on a one-row screen, leaving the
    /// bottom row with a wrap flag: `$` used to read the row below the screen and panic.
    #[test]
    fn end_of_line_stops_at_a_wrapping_bottom_row() {
        let cfg = TerminalConfig {
            cols: 2,
            rows: 1,
            scrollback: 1,
        };
        let mut pane = TerminalPane::plain(cfg);
        pane.enter_copy_mode();
        pane.resize(3, 1);
        pane.feed(b"\x1b[2;4r");
        pane.feed(b"a aa a aaaa   aaa aa  aaa  a");
        let end = KeyEvent::new(KeyCode::Char('$'), KeyModifiers::NONE);
        pane.handle_key(&end);
        pane.handle_key(&end);
        let point = pane.term.vi_mode_cursor.point;
        assert_eq!(point.line, pane.term.bottommost_line());
        assert!(pane.in_copy_mode());
    }

    /// The same with a wide character that did not fit at the end of the bottom row, and
    /// with `l`, which would move the cursor below the screen.
    #[test]
    fn motions_stay_on_a_bottom_row_ending_in_a_wide_spacer() {
        let cfg = TerminalConfig {
            cols: 2,
            rows: 1,
            scrollback: 1,
        };
        let mut pane = TerminalPane::plain(cfg);
        pane.enter_copy_mode();
        pane.resize(16, 1);
        pane.feed("\x1b[2;4r  🦀👍🏽aaaa\r\n\x1b[30m".as_bytes());
        pane.feed("     日本語のテキスト".as_bytes());
        for key in ['$', '$', 'l', 'l', '$', '0', 'l', 'l', 'l'] {
            pane.handle_key(&KeyEvent::new(KeyCode::Char(key), KeyModifiers::NONE));
            let point = pane.term.vi_mode_cursor.point;
            assert!(
                point.line <= pane.term.bottommost_line(),
                "{key}: {point:?}"
            );
        }
        let bottom = pane.term.bottommost_line();
        for _ in 0..40 {
            pane.handle_key(&KeyEvent::new(KeyCode::Char('l'), KeyModifiers::NONE));
            assert!(pane.term.vi_mode_cursor.point.line <= bottom);
        }
        pane.handle_key(&KeyEvent::new(KeyCode::Char('$'), KeyModifiers::NONE));
        assert!(pane.term.vi_mode_cursor.point.line <= bottom);
    }

    /// A delete at column 0 of a wide character leaves its spacer first on the row; copying
    /// that row stepped left of column 0 inside alacritty (a panic in debug builds, the row
    /// missing from the copy in release).
    #[test]
    fn a_row_starting_with_a_lone_spacer_is_copied_whole() {
        let cfg = TerminalConfig {
            cols: 10,
            rows: 3,
            scrollback: 10,
        };
        let mut pane = TerminalPane::plain(cfg);
        pane.feed("before\r\n中ab\r\x1b[P\r\nafter".as_bytes());
        pane.enter_copy_mode();
        let mut outcome = None;
        for key in ['g', '0', 'v', 'G', '$', 'y'] {
            outcome = Some(pane.handle_key(&KeyEvent::new(KeyCode::Char(key), KeyModifiers::NONE)));
        }
        match outcome {
            Some(KeyOutcome::Copied(text)) => assert_eq!(text, "before\n ab\nafter"),
            other => panic!("{other:?}"),
        }
    }

    /// Alacritty's middle of a one-row screen is the row above it, which does not exist
    /// without history.
    #[test]
    fn middle_of_a_one_row_screen_is_that_row() {
        let cfg = TerminalConfig {
            cols: 2,
            rows: 1,
            scrollback: 1,
        };
        let mut pane = TerminalPane::plain(cfg);
        pane.feed(b"ab");
        pane.enter_copy_mode();
        pane.handle_key(&KeyEvent::new(KeyCode::Char('M'), KeyModifiers::NONE));
        assert_eq!(pane.term.vi_mode_cursor.point.line.0, 0);
    }

    /// A full-screen program starts while copy mode sits on a history line the alternate
    /// screen does not have: the cursor moves into the grid instead of motions panicking.
    #[test]
    fn copy_cursor_stays_in_the_grid_when_a_full_screen_program_starts() {
        let cfg = TerminalConfig {
            cols: 2,
            rows: 1,
            scrollback: 1,
        };
        let mut pane = TerminalPane::plain(cfg);
        pane.feed(b"A00AA0AA0AAA0AAA00A0AA00A0AA0A0A0AA0AAAAAAA0A00A0A0AA00AA0A");
        pane.scroll(1);
        pane.enter_copy_mode();
        pane.feed(b"\x1b[?1049h");
        for key in ['0', 'w', 'b', '$', 'k', 'j'] {
            pane.handle_key(&KeyEvent::new(KeyCode::Char(key), KeyModifiers::NONE));
        }
        let point = pane.term.vi_mode_cursor.point;
        assert!(point.line >= pane.term.topmost_line(), "{point:?}");
    }
}
