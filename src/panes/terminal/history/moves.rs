//! Moving rows between the emulator and the cold store: freezing the oldest history rows,
//! bringing cold rows back, keeping the line limit, and sizing alacritty's row ring.

use super::{History, codec, grid_ops, hot_limit};
use alacritty_terminal::Term;
use alacritty_terminal::grid::{Dimensions, Grid, GridCell, Row};
use alacritty_terminal::index::Line;
use alacritty_terminal::term::cell::{Cell, Flags};

/// Spare rows alacritty adds whenever its row ring is full (they stay until it is truncated).
const RING_GROWTH: usize = 1_000;

impl History {
    /// Set the history limit of the primary grid.
    pub(super) fn set_limit(&mut self, grid: &mut Grid<Cell>, limit: usize) {
        self.limit = limit;
        grid.update_history(limit);
    }

    /// Size the ring for the hot rows when it may hold more (alacritty grows it by 1 000
    /// full-width rows at a time and keeps them).
    pub(super) fn fit_ring(&mut self, grid: &mut Grid<Cell>) {
        let h = grid.history_size();
        if self.ring.is_some_and(|ring| h <= ring) {
            return;
        }
        super::freed(RING_GROWTH * grid.columns() * size_of::<Cell>());
        grid_ops::fit_ring(grid, self.limit);
        self.ring = Some(self.limit.max(h));
        let limit = self.limit;
        self.set_limit(grid, limit);
    }

    /// Back to following: freeze what can go and drop the spare rows a larger history left.
    pub(super) fn resume<T>(&mut self, term: &mut Term<T>) {
        let grid = term.grid_mut();
        let before = grid.history_size();
        self.freeze(grid);
        let hot = grid.history_size();
        self.trim(hot);
        if hot > hot_limit(self.max_lines) {
            // A wrapped line longer than the hot rows is still being written.
            let limit = self.limit.max(hot);
            self.set_limit(grid, limit);
            return;
        }
        if self.ring.is_none_or(|ring| before > ring) {
            self.ring = None;
            super::freed(before.saturating_sub(hot) * grid.columns() * size_of::<Cell>());
        }
        self.set_limit(grid, hot_limit(self.max_lines));
        self.fit_ring(grid);
        self.release_memory();
    }

    /// Called by [`super::Capture`] when the next parser call may push `need` rows past the
    /// limit.
    pub(super) fn make_room<T>(&mut self, term: &mut Term<T>, need: usize) {
        let grid = term.grid_mut();
        self.freeze(grid);
        let hot = grid.history_size();
        if hot + need > self.limit {
            // One wrapped line fills every hot row: hold more until it ends.
            let limit = (self.limit * 2).max(hot + need).min(self.max_lines);
            self.ring = None;
            self.set_limit(grid, limit);
        }
        self.trim(hot);
    }

    /// Rows that can go cold: the oldest ones, up to the last that ends a line (a row that
    /// wraps stays with the rest of its line, so a resize can still join them). The newest
    /// history row stays: clearing the screen pushes one more row when there is no history.
    pub(super) fn freeze(&mut self, grid: &mut Grid<Cell>) -> usize {
        let h = grid.history_size();
        let top = -(h as i32);
        let mut end = h.saturating_sub(1);
        while end > 0 && wraps_at_end(&grid[Line(top + end as i32 - 1)]) {
            end -= 1;
        }
        if end == 0 {
            return 0;
        }
        let rows = (0..end).map(|i| &grid[Line(top + i as i32)]);
        let frozen = self.store.push_lines(&mut self.encoder, rows);
        if frozen > 0 {
            grid.update_history(h - frozen);
            grid.update_history(self.limit.max(h - frozen));
        }
        frozen
    }

    /// Drop the oldest cold rows beyond the line limit, with `hot` rows in the emulator.
    pub(super) fn trim(&mut self, hot: usize) {
        let excess = (self.store.rows() + hot).saturating_sub(self.max_lines);
        self.store.drop_front(excess);
    }

    /// Bring back at least `rows` of the newest cold rows (whole lines) into the emulator.
    pub(super) fn thaw<T>(&mut self, term: &mut Term<T>, rows: usize) {
        if rows == 0 || self.store.is_empty() || super::alt(term) {
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
        if self.ring.is_some_and(|ring| h + count > ring) {
            self.ring = None;
        }
        let limit = self.limit.max(h + count);
        self.set_limit(grid, limit);
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
    pub(in crate::panes::terminal) fn reach<T>(&mut self, term: &mut Term<T>, depth: usize) {
        let hot = term.grid().history_size();
        if depth > hot {
            self.thaw(term, depth - hot);
        }
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
pub(super) fn wraps_at_end(row: &Row<Cell>) -> bool {
    row.last()
        .is_some_and(|c| c.flags().contains(Flags::WRAPLINE))
}
