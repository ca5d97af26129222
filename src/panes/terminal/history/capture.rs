//! The parser's view of the emulator: every call goes to alacritty's `Term`, and before a call
//! that can push rows into history, the oldest hot rows go cold so none is dropped. Screen
//! switches, resets and history clears also reach the cold store here.

use super::History;
use alacritty_terminal::Term;
use alacritty_terminal::event::EventListener;
use alacritty_terminal::grid::{Dimensions, Grid, GridCell};
use alacritty_terminal::index::Line;
use alacritty_terminal::term::TermMode;
use alacritty_terminal::term::cell::Cell;
use alacritty_terminal::vte::ansi::cursor_icon::CursorIcon;
use alacritty_terminal::vte::ansi::{
    Attr, CharsetIndex, ClearMode, CursorShape, CursorStyle, Handler, Hyperlink, KeyboardModes,
    KeyboardModesApplyBehavior, LineClearMode, Mode, ModifyOtherKeys, NamedPrivateMode,
    PrivateMode, Rgb, ScpCharPath, ScpUpdateMode, StandardCharset, TabulationClearMode,
};

/// The emulator with the history that catches rows leaving it.
pub(in crate::panes::terminal) struct Capture<'a, T> {
    term: &'a mut Term<T>,
    history: &'a mut History,
    /// Rows that may still be pushed into history before the hot part must make room;
    /// counted down by each call's worst case so most calls check nothing else.
    budget: usize,
}

impl<'a, T: EventListener> Capture<'a, T> {
    pub(in crate::panes::terminal) fn new(term: &'a mut Term<T>, history: &'a mut History) -> Self {
        let mut capture = Self {
            term,
            history,
            budget: 0,
        };
        capture.refill();
        capture
    }

    /// The actual room left (none to count while rows are not going cold).
    fn refill(&mut self) {
        self.budget = if self.history.draining {
            self.history
                .limit
                .saturating_sub(self.term.grid().history_size())
        } else {
            usize::MAX
        };
    }

    /// Room for `rows` more history rows before the next call.
    #[inline(always)]
    fn room(&mut self, rows: usize) {
        if self.budget < rows {
            self.make_room(rows);
        }
        self.budget = self.budget.saturating_sub(rows);
    }

    #[cold]
    #[inline(never)]
    fn make_room(&mut self, rows: usize) {
        self.refill();
        if self.budget < rows {
            self.history.make_room(self.term, rows);
            self.refill();
        }
    }

    fn alt(&self) -> bool {
        self.term.mode().contains(TermMode::ALT_SCREEN)
    }
}

/// Screen rows down to the last one with content (at least one).
fn rows_in_use(grid: &Grid<Cell>) -> usize {
    (0..grid.screen_lines())
        .rev()
        .find(|&line| !grid[Line(line as i32)][..].iter().all(GridCell::is_empty))
        .map_or(1, |line| line + 1)
}

fn swaps_screen(mode: &PrivateMode) -> bool {
    matches!(
        mode,
        PrivateMode::Named(NamedPrivateMode::SwapScreenAndSetRestoreCursor)
    )
}

/// Calls that neither add history rows nor switch screens.
macro_rules! forward {
    ($($name:ident($($arg:ident: $ty:ty),*);)*) => {
        $(
            #[inline]
            fn $name(&mut self, $($arg: $ty),*) {
                self.term.$name($($arg),*)
            }
        )*
    };
}

impl<T: EventListener> Handler for Capture<'_, T> {
    #[inline(always)]
    fn input(&mut self, c: char) {
        // Only a pending wrap, and a wide character that does not fit at the cursor, each
        // start a new row: most characters cannot push one, and counting them all would send
        // every few rows of short lines through `make_room`.
        let cursor = &self.term.grid().cursor;
        if cursor.input_needs_wrap || cursor.point.column.0 + 1 >= self.term.columns() {
            self.room(2);
        }
        self.term.input(c)
    }

    #[inline]
    fn put_tab(&mut self, count: u16) {
        self.room(1);
        self.term.put_tab(count)
    }

    #[inline]
    fn linefeed(&mut self) {
        self.room(1);
        self.term.linefeed()
    }

    #[inline]
    fn newline(&mut self) {
        self.room(1);
        self.term.newline()
    }

    fn scroll_up(&mut self, rows: usize) {
        self.room(rows.min(self.term.screen_lines()));
        self.term.scroll_up(rows)
    }

    fn delete_lines(&mut self, rows: usize) {
        self.room(rows.min(self.term.screen_lines()));
        self.term.delete_lines(rows)
    }

    fn clear_screen(&mut self, mode: ClearMode) {
        match mode {
            // Clearing the screen scrolls its rows up to the last one in use into history.
            ClearMode::All => self.room(rows_in_use(self.term.grid())),
            ClearMode::Saved if !self.alt() => self.history.clear_cold(),
            _ => {}
        }
        self.term.clear_screen(mode);
        self.refill();
    }

    fn set_private_mode(&mut self, mode: PrivateMode) {
        if swaps_screen(&mode) && !self.alt() {
            self.history.before_alt(self.term);
        }
        self.term.set_private_mode(mode);
        self.history.sync(self.term);
        self.refill();
    }

    fn unset_private_mode(&mut self, mode: PrivateMode) {
        let was_alt = self.alt();
        self.term.unset_private_mode(mode);
        if was_alt && !self.alt() {
            self.history.after_alt(self.term);
        }
        self.refill();
    }

    fn reset_state(&mut self) {
        self.term.reset_state();
        self.history.after_reset(self.term);
        self.refill();
    }

    forward! {
        set_title(title: Option<String>);
        set_cursor_style(style: Option<CursorStyle>);
        set_cursor_shape(shape: CursorShape);
        goto(line: i32, col: usize);
        goto_line(line: i32);
        goto_col(col: usize);
        insert_blank(count: usize);
        move_up(rows: usize);
        move_down(rows: usize);
        identify_terminal(intermediate: Option<char>);
        device_status(arg: usize);
        move_forward(cols: usize);
        move_backward(cols: usize);
        move_down_and_cr(rows: usize);
        move_up_and_cr(rows: usize);
        backspace();
        carriage_return();
        bell();
        substitute();
        set_horizontal_tabstop();
        scroll_down(rows: usize);
        insert_blank_lines(rows: usize);
        erase_chars(count: usize);
        delete_chars(count: usize);
        move_backward_tabs(count: u16);
        move_forward_tabs(count: u16);
        save_cursor_position();
        restore_cursor_position();
        clear_line(mode: LineClearMode);
        clear_tabs(mode: TabulationClearMode);
        set_tabs(interval: u16);
        reverse_index();
        terminal_attribute(attr: Attr);
        set_mode(mode: Mode);
        unset_mode(mode: Mode);
        report_mode(mode: Mode);
        report_private_mode(mode: PrivateMode);
        set_scrolling_region(top: usize, bottom: Option<usize>);
        set_keypad_application_mode();
        unset_keypad_application_mode();
        set_active_charset(index: CharsetIndex);
        configure_charset(index: CharsetIndex, charset: StandardCharset);
        set_color(index: usize, color: Rgb);
        dynamic_color_sequence(prefix: String, index: usize, terminator: &str);
        reset_color(index: usize);
        clipboard_store(clipboard: u8, data: &[u8]);
        clipboard_load(clipboard: u8, terminator: &str);
        decaln();
        push_title();
        pop_title();
        text_area_size_pixels();
        text_area_size_chars();
        set_hyperlink(link: Option<Hyperlink>);
        set_mouse_cursor_icon(icon: CursorIcon);
        report_keyboard_mode();
        push_keyboard_mode(mode: KeyboardModes);
        pop_keyboard_modes(count: u16);
        set_keyboard_mode(mode: KeyboardModes, behavior: KeyboardModesApplyBehavior);
        set_modify_other_keys(mode: ModifyOtherKeys);
        report_modify_other_keys();
        set_scp(char_path: ScpCharPath, update_mode: ScpUpdateMode);
    }
}
