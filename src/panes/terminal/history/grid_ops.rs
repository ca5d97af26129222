//! Moves on the emulator's grid that alacritty has no single call for: adding rows above the
//! oldest history row, and sizing the row ring so history can fill up to the hot limit
//! without alacritty's 1 000 spare full-width rows.

use alacritty_terminal::grid::{Dimensions, Grid, Scroll};
use alacritty_terminal::index::Line;
use alacritty_terminal::term::cell::Cell;
use alacritty_terminal::vte::ansi::Color;

/// Add `k` blank rows above the oldest history row; every other row, the cursor and the view
/// stay where they are. The history limit must already allow `k` more rows.
///
/// Alacritty grows history only by scrolling the screen up; scrolling a one-line region at
/// the top by `k` pushes just the top screen row and `k - 1` blank rows. That row is then
/// put back and the history rows are moved down past the new blank ones.
pub(super) fn grow_top(grid: &mut Grid<Cell>, k: usize) {
    if k == 0 {
        return;
    }
    let h = grid.history_size() as i32;
    let offset = grid.display_offset() as i32;
    grid.scroll_up::<Color>(&(Line(0)..Line(1)), k);
    let k = k as i32;
    // The old top screen row is now the k-th newest history row; the rows pushed after it are
    // blank, and so is the new top row.
    swap(grid, Line(0), Line(-k));
    for j in 0..h {
        swap(grid, Line(-1 - j), Line(-1 - j - k));
    }
    let moved = grid.display_offset() as i32 - offset;
    grid.scroll_display(Scroll::Delta(-moved));
}

fn swap(grid: &mut Grid<Cell>, a: Line, b: Line) {
    if a == b {
        return;
    }
    let first = std::mem::take(&mut grid[a]);
    let second = std::mem::replace(&mut grid[b], first);
    grid[a] = second;
}

/// Size the row ring for `limit` history rows, using the spare rows it has (alacritty grows
/// it 1 000 full-width rows at a time and keeps spares after history shrinks): afterwards it
/// holds exactly `limit` history rows (or the history there is), so history can refill to
/// the limit without allocating. History content is unchanged; the caller sets the limit
/// again afterwards.
pub(super) fn fit_ring(grid: &mut Grid<Cell>, limit: usize) {
    let h = grid.history_size();
    if h < limit {
        grid.update_history(limit);
        grow_top(grid, limit - h);
    }
    grid.truncate();
    if h < limit {
        // The added rows are the oldest: shrinking history drops them and keeps them as
        // spares.
        grid.update_history(h);
    }
}

/// Mark every screen and history row as fully written.
///
/// Alacritty keeps per row a bound past which all cells equal the last one, and resets only
/// up to it. A resize that widens rows pads them with default cells and breaks that rule:
/// cells erased in a colour before it then survive every later reset (stray coloured cells in
/// new lines) and hide from the bound. Marked rows are reset whole, and read whole the next
/// time they are frozen; the bound is exact again once a row is reset.
pub(super) fn mark_rows_written(grid: &mut Grid<Cell>) {
    let top = -(grid.history_size() as i32);
    for line in top..grid.screen_lines() as i32 {
        let _ = &mut grid[Line(line)][..];
    }
}
