//! Scrollback that costs what its text costs. The emulator keeps the screen and a few recent
//! history rows at full width; older rows go to a compact store of ours (`store`: text plus
//! style runs, compressed once sealed) and come back into the emulator when the view is
//! scrolled to them, a copy-mode motion or search reaches them, a resize needs them, or a
//! full-screen program takes the screen. Alacritty's own scrolling, search, selection and
//! reflow therefore work on every row as before; cold rows are rewrapped by alacritty too.

mod capture;
mod codec;
mod grid_ops;
mod moves;
mod occupied;
mod reflow;
mod screens;
mod store;
#[cfg(test)]
mod tests;

pub(super) use capture::Capture;

use alacritty_terminal::Term;
use alacritty_terminal::grid::{Dimensions, Grid};
use alacritty_terminal::index::Line;
use alacritty_terminal::term::TermMode;
use alacritty_terminal::term::cell::Cell;
use codec::Encoder;
use std::sync::atomic::{AtomicUsize, Ordering};
use store::ColdStore;

/// History rows the emulator holds at full width while following output; older ones go cold.
const HOT_ROWS: usize = 32;
/// Bytes of cold history compressed per call to [`History::compress`].
const COMPRESS_BUDGET: usize = 256 << 10;
/// Freed bytes after which unused heap pages go back to the system.
const TRIM_AFTER: usize = 8 << 20;

/// Heap bytes freed by all panes since unused pages were last returned to the system (the
/// allocator is shared by the whole process, so the count is too).
static FREED: AtomicUsize = AtomicUsize::new(0);

fn freed(bytes: usize) {
    FREED.fetch_add(bytes, Ordering::Relaxed);
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
    /// History rows the primary grid's row ring holds without allocating; None when
    /// alacritty may have added spare rows.
    ring: Option<usize>,
    /// Off: behave as the bare emulator (for comparisons in tests).
    enabled: bool,
    /// The view follows the output (not scrolled back, not in copy mode). Otherwise rows
    /// stay where they are, and more come back as the view or copy mode reaches them.
    following: bool,
    /// Rows go cold before the emulator would drop them: enabled, following, primary screen.
    draining: bool,
    /// While the alternate screen is shown and cold rows exist: a copy of the primary grid,
    /// resized with it, since alacritty shows only the active grid and the cold rows must be
    /// trimmed to what the primary keeps.
    shadow: Option<Box<Grid<Cell>>>,
    cells: Vec<Cell>,
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
            ring: Some(0),
            enabled: enabled && max_lines > 0,
            following: true,
            draining: false,
            shadow: None,
            cells: Vec::new(),
        }
    }

    /// Take over a new emulator (a new pane, or one reset after a failure).
    pub(super) fn install<T>(&mut self, term: &mut Term<T>) {
        self.store.clear();
        self.shadow = None;
        self.draining = false;
        self.limit = self.max_lines;
        // A new emulator's ring holds the screen and nothing more.
        self.ring = Some(0);
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

    /// The view started or stopped following the output.
    pub(super) fn set_following<T>(&mut self, term: &mut Term<T>, following: bool) {
        if following == self.following {
            return;
        }
        self.following = following;
        self.sync(term);
    }

    /// Start or stop draining as the view and screen say.
    pub(super) fn sync<T>(&mut self, term: &mut Term<T>) {
        let primary = !alt(term);
        let draining = self.enabled && primary && self.following;
        if draining != self.draining {
            self.draining = draining;
            if draining {
                self.resume(term);
            } else if primary {
                // History may grow (and shrink) at will until rows go cold again.
                self.ring = None;
                let limit = self.max_lines;
                self.set_limit(term.grid_mut(), limit);
            }
        }
    }

    /// After the parser ran: keep the line limit, and go back to the hot size once a long
    /// wrapped line that needed more rows has ended.
    pub(super) fn after_advance<T>(&mut self, term: &mut Term<T>) {
        if alt(term) || !self.enabled {
            return;
        }
        let grid = term.grid();
        let hot = grid.history_size();
        self.trim(hot);
        if !self.draining {
            return;
        }
        if self.limit > hot_limit(self.max_lines) {
            if hot == 0 || !moves::wraps_at_end(&grid[Line(-1)]) {
                self.resume(term);
            }
        } else {
            // History grew past the ring: alacritty added spare rows; keep only the hot ones.
            self.fit_ring(term.grid_mut());
            self.release_memory();
        }
    }

    /// Compress some sealed cold blocks; true when more are waiting.
    pub(super) fn compress(&mut self) -> bool {
        let (more, bytes) = self.store.compress(COMPRESS_BUDGET);
        if bytes > 0 {
            freed(bytes);
            if !more {
                self.release_memory();
            }
        }
        more
    }

    /// Give freed heap pages back to the system once enough were freed, by any pane: rows
    /// the emulator held for a while are many small allocations the allocator would keep.
    fn release_memory(&self) {
        if FREED.load(Ordering::Relaxed) < TRIM_AFTER {
            return;
        }
        FREED.store(0, Ordering::Relaxed);
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        // SAFETY: malloc_trim only hands free memory of the allocator back to the system; it
        // takes no pointer and touches no live allocation.
        unsafe {
            libc::malloc_trim(0);
        }
    }

    /// The newest `n` rows of the compact store, oldest first, decoded (fewer when it holds
    /// fewer; none on the alternate screen, whose history is the emulator's alone).
    pub(super) fn cold_tail<T>(&self, term: &Term<T>, n: usize) -> Vec<Vec<Cell>> {
        let mut out = Vec::new();
        if n == 0 || alt(term) {
            return out;
        }
        self.store.for_each_last(n, |record| {
            let mut cells = Vec::new();
            let _ = codec::decode(record, &mut cells);
            out.push(cells);
        });
        out
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
