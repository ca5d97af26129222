//! Scrollback that costs what its text costs. The emulator keeps the screen and a few recent
//! history rows at full width; older rows go to a compact store of ours (`store`: text plus
//! style runs, compressed when sealed) and come back into the emulator when the view is
//! scrolled to them, copy mode starts or a full-screen program takes over. Alacritty's own
//! scrolling, search, selection and reflow therefore work on every row as before.

mod capture;
mod codec;
mod grid_ops;
mod occupied;
mod reflow;
mod store;
#[cfg(test)]
mod tests;

pub(super) use capture::Capture;

use alacritty_terminal::Term;
use alacritty_terminal::grid::{Dimensions, Grid, GridCell};
use alacritty_terminal::index::Line;
use alacritty_terminal::term::TermMode;
use alacritty_terminal::term::cell::{Cell, Flags};
use alacritty_terminal::vte::ansi::Color;
use codec::Encoder;
use store::ColdStore;

/// History rows the emulator holds at full width while following output; older ones go cold.
const HOT_ROWS: usize = 32;
/// Cells of history brought back before a full-screen program takes the alternate screen:
/// a window that grows while it runs pulls rows from history onto the screen, and the
/// emulator then cannot reach the cold ones. This covers growing a 200x50 window to 400x60.
const ALT_RESERVE_CELLS: usize = 64 << 10;
/// Fewest history rows brought back then, however wide the pane.
const ALT_RESERVE_ROWS: usize = 128;
/// Bytes of cold history compressed per call to [`History::compress`].
const COMPRESS_BUDGET: usize = 256 << 10;
/// Freed bytes after which unused heap pages go back to the system.
const TRIM_AFTER: usize = 8 << 20;

/// What the user looks at, which decides where history rows may live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum View {
    /// The bottom of the output: rows go cold as they leave the hot part.
    Following,
    /// Scrolled back outside copy mode: rows stay where they are, more come back as needed.
    Scrolled,
    /// Copy mode: search and motions see every row, so all of them come back.
    Copying,
}

/// Sizes of the history, for the status line and benchmarks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HistoryStats {
    /// Lines of scrollback kept.
    pub lines: usize,
    /// Of these, lines in the compact store.
    pub cold_lines: usize,
    /// Heap bytes of the compact store.
    pub cold_bytes: usize,
}

/// The cold part of a pane's scrollback and the rules for moving rows in and out of the
/// emulator.
pub(super) struct History {
    store: ColdStore,
    encoder: Encoder,
    /// The pane's `scrollback` setting: lines kept in all.
    max_lines: usize,
    /// History rows the primary grid may hold before rows must go cold or be dropped.
    limit: usize,
    /// History rows the primary grid's row ring holds without allocating.
    ring: usize,
    /// Off: behave as the bare emulator (for comparisons in tests).
    enabled: bool,
    view: View,
    /// Rows go cold before the emulator would drop them: enabled, following, primary screen.
    draining: bool,
    /// While the alternate screen is shown and cold rows exist: a copy of the primary grid,
    /// resized with it, since alacritty shows only the active grid and the cold rows must be
    /// trimmed to what the primary keeps.
    shadow: Option<Box<Grid<Cell>>>,
    cells: Vec<Cell>,
    /// Heap bytes freed since unused pages were last returned.
    freed: usize,
}

/// A size for the emulator.
#[derive(Debug, Clone, Copy)]
struct Dims {
    cols: usize,
    rows: usize,
}

impl Dimensions for Dims {
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

fn alt<T>(term: &Term<T>) -> bool {
    term.mode().contains(TermMode::ALT_SCREEN)
}

fn hot_limit(max_lines: usize) -> usize {
    HOT_ROWS.min(max_lines)
}

impl History {
    pub(super) fn new(max_lines: usize, enabled: bool) -> Self {
        Self {
            store: ColdStore::default(),
            encoder: Encoder::default(),
            max_lines,
            limit: max_lines,
            ring: 0,
            enabled: enabled && max_lines > 0,
            view: View::Following,
            draining: false,
            shadow: None,
            cells: Vec::new(),
            freed: 0,
        }
    }

    /// Take over a new emulator (a new pane, or one reset after a failure).
    pub(super) fn install<T>(&mut self, term: &mut Term<T>) {
        self.store.clear();
        self.shadow = None;
        self.draining = false;
        self.limit = self.max_lines;
        self.ring = 0;
        self.sync(term);
    }

    /// Apply the limit again after alacritty's `set_options` set its own.
    pub(super) fn restore_limit<T>(&mut self, term: &mut Term<T>) {
        if self.enabled && !alt(term) {
            term.grid_mut().update_history(self.limit);
        }
    }

    /// Lines of scrollback behind the active screen.
    pub(super) fn lines<T>(&self, term: &Term<T>) -> usize {
        let hot = term.grid().history_size();
        if alt(term) {
            hot
        } else {
            hot + self.store.rows()
        }
    }

    pub(super) fn stats<T>(&self, term: &Term<T>) -> HistoryStats {
        HistoryStats {
            lines: self.lines(term),
            cold_lines: if alt(term) { 0 } else { self.store.rows() },
            cold_bytes: self.store.bytes(),
        }
    }

    /// The user's view changed.
    pub(super) fn set_view<T>(&mut self, term: &mut Term<T>, view: View) {
        if view == self.view {
            return;
        }
        self.view = view;
        self.sync(term);
    }

    /// Start or stop draining as the view and screen say; copy mode brings every row back.
    pub(super) fn sync<T>(&mut self, term: &mut Term<T>) {
        let primary = !alt(term);
        let draining = self.enabled && primary && self.view == View::Following;
        if draining != self.draining {
            self.draining = draining;
            if draining {
                self.resume(term);
            } else if primary {
                self.limit = self.max_lines;
                term.grid_mut().update_history(self.limit);
            }
        }
        if primary && self.view == View::Copying && !self.store.is_empty() {
            self.thaw(term, self.store.rows());
        }
    }

    /// Back to following: freeze what can go, size the ring for the hot rows.
    fn resume<T>(&mut self, term: &mut Term<T>) {
        let grid = term.grid_mut();
        let before = grid.history_size();
        self.freeze(grid);
        let hot = grid.history_size();
        self.limit = hot_limit(self.max_lines).max(hot);
        grid.update_history(self.limit);
        if before > self.ring || self.ring != self.limit {
            grid_ops::fit_ring(grid, self.limit);
            grid.update_history(self.limit);
            self.freed += before.saturating_sub(self.limit) * grid.columns() * size_of::<Cell>();
            self.ring = self.limit;
        }
        self.trim(hot);
        self.release_memory();
    }

    /// Called by [`Capture`] when the next parser call may push `need` rows past the limit.
    fn make_room<T>(&mut self, term: &mut Term<T>, need: usize) {
        let grid = term.grid_mut();
        self.freeze(grid);
        let hot = grid.history_size();
        if hot + need > self.limit {
            // One wrapped line fills every hot row: hold more until it ends.
            self.limit = (self.limit * 2).max(hot + need).min(self.max_lines);
            grid.update_history(self.limit);
        }
        self.trim(hot);
    }

    /// Rows that can go cold: the oldest ones, up to the last that ends a line (a row that
    /// wraps stays with the rest of its line, so a resize can still join them). The newest
    /// history row stays: clearing the screen pushes one more row when there is no history.
    fn freeze(&mut self, grid: &mut Grid<Cell>) -> usize {
        let h = grid.history_size();
        let top = -(h as i32);
        let mut end = h.saturating_sub(1);
        while end > 0 && wraps_at_end(&grid[Line(top + end as i32 - 1)]) {
            end -= 1;
        }
        if end == 0 {
            return 0;
        }
        let mut mark = self.store.mark();
        let mut frozen = 0;
        for i in 0..end {
            let row = &grid[Line(top + i as i32)];
            if self
                .store
                .push(&mut self.encoder, row, occupied::extent(row))
                .ends_line
            {
                frozen = i + 1;
                self.store.seal_full();
                mark = self.store.mark();
            }
        }
        self.store.rollback(mark);
        if frozen > 0 {
            grid.update_history(h - frozen);
            grid.update_history(self.limit.max(h - frozen));
        }
        frozen
    }

    /// Drop the oldest cold rows beyond the line limit, with `hot` rows in the emulator.
    fn trim(&mut self, hot: usize) {
        let excess = (self.store.rows() + hot).saturating_sub(self.max_lines);
        self.store.drop_front(excess);
    }

    /// After the parser ran: keep the line limit and go back to the hot size after a long
    /// wrapped line needed more rows.
    pub(super) fn after_advance<T>(&mut self, term: &mut Term<T>) {
        if alt(term) || !self.enabled {
            return;
        }
        let hot = term.grid().history_size();
        self.trim(hot);
        if self.draining && self.limit > hot_limit(self.max_lines) {
            self.resume(term);
        }
    }

    /// Bring back at least `rows` of the newest cold rows (whole lines) into the emulator.
    fn thaw<T>(&mut self, term: &mut Term<T>, rows: usize) {
        if rows == 0 || self.store.is_empty() || alt(term) {
            return;
        }
        let mut chunks = Vec::new();
        self.store.take_back(rows, &mut chunks);
        while !self.store.ends_line() {
            self.store.take_back(1, &mut chunks);
        }
        let count: usize = chunks.iter().map(|c| records(c).count()).sum();
        let grid = term.grid_mut();
        let h = grid.history_size();
        self.limit = self.limit.max(h + count);
        grid.update_history(self.limit);
        grid_ops::grow_top(grid, count);
        let mut line = -((h + count) as i32);
        for chunk in chunks.iter().rev() {
            for record in records(chunk) {
                self.cells.clear();
                let _ = codec::decode(record, &mut self.cells);
                codec::fill_row(&mut grid[Line(line)], &mut self.cells);
                line += 1;
            }
        }
    }

    /// The emulator should hold `depth` history rows (as far as there are), for a view
    /// scrolled that far back.
    pub(super) fn reach<T>(&mut self, term: &mut Term<T>, depth: usize) {
        let hot = term.grid().history_size();
        if depth > hot {
            self.thaw(term, depth - hot);
        }
    }

    /// Resize the emulator, rewrapping the cold rows as the emulator rewraps its own.
    pub(super) fn resize<T>(&mut self, term: &mut Term<T>, cols: usize, rows: usize) {
        let (old_cols, old_rows) = (term.columns(), term.screen_lines());
        if !self.enabled {
            term.resize(Dims { cols, rows });
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
            self.limit = self.max_lines;
            term.grid_mut().update_history(self.limit);
        }
        // Lines first, then columns, as alacritty does within one resize; the emulator
        // drops history past the limit after each step, so the cold rows are trimmed after
        // each step too.
        if rows != old_rows {
            term.resize(Dims {
                cols: old_cols,
                rows,
            });
            self.after_resize_step(term, old_cols, old_cols);
        }
        if cols != old_cols {
            term.resize(Dims { cols, rows });
            self.after_resize_step(term, old_cols, cols);
        }
        grid_ops::mark_rows_written(term.grid_mut());
        if primary {
            self.ring = 0;
            if !self.store.ends_line() {
                self.thaw(term, 1);
            }
            if self.draining {
                self.resume(term);
            }
        }
    }

    /// Rewrap the cold rows from `old` to `new` columns and trim them to what the primary
    /// grid keeps after one step of a resize.
    fn after_resize_step<T>(&mut self, term: &mut Term<T>, old: usize, new: usize) {
        if old != new && !self.store.is_empty() {
            let store = std::mem::take(&mut self.store);
            self.store = reflow::reflow(store, old, new, &mut self.encoder);
        }
        let hot = if !alt(term) {
            term.grid().history_size()
        } else if let Some(shadow) = self.shadow.as_mut() {
            shadow.resize::<Color>(true, term.screen_lines(), term.columns());
            shadow.history_size()
        } else {
            return;
        };
        self.trim(hot);
    }

    /// The primary screen is about to give way to the alternate one.
    fn before_alt<T>(&mut self, term: &mut Term<T>) {
        if !self.enabled {
            return;
        }
        let reserve = (ALT_RESERVE_CELLS / term.columns().max(1)).max(ALT_RESERVE_ROWS);
        self.reach(term, reserve);
        self.limit = self.max_lines;
        let grid = term.grid_mut();
        // No spare rows in the ring (nor in its copy) while the program runs.
        grid.truncate();
        grid.update_history(self.limit);
        self.ring = 0;
        self.shadow = (!self.store.is_empty()).then(|| Box::new(grid.clone()));
    }

    /// The primary screen is back.
    fn after_alt<T>(&mut self, term: &mut Term<T>) {
        self.shadow = None;
        // A resize while it was hidden may have padded its rows.
        grid_ops::mark_rows_written(term.grid_mut());
        if !self.enabled {
            return;
        }
        self.ring = 0;
        self.draining = false;
        self.sync(term);
    }

    /// A full reset (RIS) emptied both screens' history.
    fn after_reset<T>(&mut self, term: &mut Term<T>) {
        // A reset on the alternate screen brings back the primary one, maybe resized.
        grid_ops::mark_rows_written(term.grid_mut());
        self.store.clear();
        self.shadow = None;
        self.draining = false;
        self.sync(term);
    }

    /// The program erased the scrollback (CSI 3 J).
    fn clear_cold(&mut self) {
        self.store.clear();
    }

    /// Compress some sealed cold blocks; true when more are waiting.
    pub(super) fn compress(&mut self) -> bool {
        let before = self.store.bytes();
        let more = self.store.compress(COMPRESS_BUDGET);
        self.freed += before.saturating_sub(self.store.bytes());
        if !more {
            self.release_memory();
        }
        more
    }

    /// Give freed heap pages back to the system once enough were freed: rows thawed for
    /// copy mode or a resize are many small allocations the allocator would otherwise keep.
    fn release_memory(&mut self) {
        if self.freed < TRIM_AFTER {
            return;
        }
        self.freed = 0;
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        // SAFETY: malloc_trim only releases free memory of the allocator; it has no inputs
        // that could be invalid.
        unsafe {
            libc::malloc_trim(0);
        }
    }

    /// The rows of the whole history, oldest first, cold ones decoded (for tests).
    #[cfg(test)]
    pub(super) fn rows<T>(&self, term: &Term<T>) -> Vec<Vec<Cell>> {
        let mut out = Vec::new();
        if !alt(term) {
            self.store.for_each(|record| {
                let mut cells = Vec::new();
                let _ = codec::decode(record, &mut cells);
                cells.resize(term.columns(), Cell::default());
                out.push(cells);
            });
        }
        let grid = term.grid();
        for line in -(grid.history_size() as i32)..0 {
            out.push(grid[Line(line)][..].to_vec());
        }
        out
    }
}

/// The records in a chunk taken from the store.
fn records(mut rest: &[u8]) -> impl Iterator<Item = &[u8]> {
    std::iter::from_fn(move || {
        let (record, tail) = codec::split_record(rest)?;
        rest = tail;
        Some(record)
    })
}

/// The row's last cell carries WRAPLINE: its line goes on in the next row.
fn wraps_at_end(row: &alacritty_terminal::grid::Row<Cell>) -> bool {
    row.last()
        .is_some_and(|c| c.flags().contains(Flags::WRAPLINE))
}
