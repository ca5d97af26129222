//! What resizes, screen switches, resets and history clears do to the cold rows: they are
//! rewrapped with the emulator's rows, trimmed to what the emulator keeps, and brought back
//! where the emulator would otherwise miss them.

use super::{History, alt, grid_ops, reflow};
use crate::panes::terminal::Size;
use alacritty_terminal::Term;
use alacritty_terminal::grid::Dimensions;
use alacritty_terminal::index::Line;
use alacritty_terminal::term::cell::Cell;
use alacritty_terminal::vte::ansi::Color;

/// Cells of history brought back before a full-screen program takes the alternate screen:
/// a window that grows while it runs pulls rows from history onto the screen, and the
/// emulator then cannot reach the cold ones. This covers growing a 200x50 window to 400x60.
const ALT_RESERVE_CELLS: usize = 64 << 10;
/// Fewest history rows brought back then, however wide the pane.
const ALT_RESERVE_ROWS: usize = 128;

impl History {
    /// Resize the emulator, rewrapping the cold rows as the emulator rewraps its own.
    pub(in crate::panes::terminal) fn resize<T>(
        &mut self,
        term: &mut Term<T>,
        cols: usize,
        rows: usize,
    ) {
        let (old_cols, old_rows) = (term.columns(), term.screen_lines());
        if !self.enabled {
            term.resize(Size { cols, rows });
            grid_ops::mark_rows_written(term.grid_mut());
            return;
        }
        let primary = !alt(term);
        if primary {
            // Rows the screen gains come from history, and when wider rows join wrapped
            // ones, rows above the screen (or the scrolled view) move down onto it: bring
            // back enough that the emulator does this as it would with all history at hand.
            let added = rows.saturating_sub(old_rows);
            let joined = if cols > old_cols {
                rows * (cols.div_ceil(old_cols.max(1)) + 2) + 2
            } else {
                0
            };
            let view = term.grid().display_offset();
            self.reach(term, view + added + joined);
            let limit = self.max_lines;
            self.set_limit(term.grid_mut(), limit);
        }
        // Alacritty changes the lines first: fewer lines push rows above the cursor into
        // history, dropping the oldest past the limit before the columns change. Those come
        // from the cold rows, so drop them first.
        let (hot, cursor) = self.primary_state(term);
        let pushed = if rows < old_rows {
            (cursor + 1).saturating_sub(rows)
        } else {
            0
        };
        self.trim(hot + pushed);
        term.resize(Size { cols, rows });
        if let Some(shadow) = self.shadow.as_mut() {
            shadow.resize::<Color>(true, rows, cols);
        }
        if cols != old_cols && !self.store.is_empty() {
            let store = std::mem::take(&mut self.store);
            self.store = reflow::reflow(store, old_cols, cols, &mut self.encoder);
        }
        // Narrower rows can split in more than the limit allows.
        let (hot, _) = self.primary_state(term);
        self.trim(hot);
        grid_ops::mark_rows_written(term.grid_mut());
        if primary {
            // The resize rebuilt the ring with no spare rows.
            self.ring = Some(term.grid().history_size());
            if !self.store.ends_line() {
                self.thaw(term, 1);
            }
            if self.draining {
                self.resume(term);
            }
        }
    }

    /// History rows and cursor line of the primary grid (its copy while hidden).
    fn primary_state<T>(&self, term: &Term<T>) -> (usize, usize) {
        let grid = match self.shadow.as_deref() {
            Some(shadow) if alt(term) => shadow,
            _ => term.grid(),
        };
        let cursor = usize::try_from(grid.cursor.point.line.0).unwrap_or(0);
        (grid.history_size(), cursor)
    }

    /// The primary screen is about to give way to the alternate one.
    pub(super) fn before_alt<T>(&mut self, term: &mut Term<T>) {
        if !self.enabled {
            return;
        }
        let reserve = (ALT_RESERVE_CELLS / term.columns().max(1)).max(ALT_RESERVE_ROWS);
        self.reach(term, reserve);
        let grid = term.grid_mut();
        // No spare rows in the ring (nor in its copy) while the program runs.
        grid.truncate();
        self.ring = Some(grid.history_size());
        let limit = self.max_lines;
        self.set_limit(grid, limit);
        self.shadow = (!self.store.is_empty()).then(|| Box::new(grid.clone()));
    }

    /// The primary screen is back.
    pub(super) fn after_alt<T>(&mut self, term: &mut Term<T>) {
        self.shadow = None;
        // A resize while it was hidden may have padded its rows.
        grid_ops::mark_rows_written(term.grid_mut());
        if !self.enabled {
            return;
        }
        // Such a resize also rebuilt its ring with no spare rows.
        self.ring = Some(term.grid().history_size());
        self.draining = false;
        self.sync(term);
    }

    /// A full reset (RIS) emptied both screens' history.
    pub(super) fn after_reset<T>(&mut self, term: &mut Term<T>) {
        // A reset on the alternate screen brings back the primary one, maybe resized while
        // hidden: its padded rows hide cells erased in a colour from alacritty's reset. A
        // reset leaves a blank screen, so every row is reset whole.
        let grid = term.grid_mut();
        grid_ops::mark_rows_written(grid);
        let top = -(grid.history_size() as i32);
        for line in top..grid.screen_lines() as i32 {
            grid[Line(line)].reset(&Cell::default());
        }
        self.store.clear();
        self.shadow = None;
        self.ring = None;
        self.draining = false;
        self.sync(term);
    }

    /// The program erased the scrollback (CSI 3 J).
    pub(super) fn clear_cold(&mut self) {
        self.store.clear();
    }
}
