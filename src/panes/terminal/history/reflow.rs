//! Rewrapping the cold rows when the pane's width changes. Alacritty's own resize does the
//! work, block by block on a scratch grid, so old lines wrap exactly as they would have in the
//! emulator; blocks a resize cannot change (no wrapped row, every row fits) are kept as they
//! are, compressed or not.

use super::codec::{self, Encoder};
use super::occupied;
use super::store::{BlockRef, ColdStore};
use alacritty_terminal::grid::{Dimensions, Grid};
use alacritty_terminal::index::{Column, Line, Point};
use alacritty_terminal::term::cell::Cell;
use alacritty_terminal::vte::ansi::Color;

/// `store` rewrapped from `old` to `new` columns.
///
/// Blocks end at rows that end a line, and such a row never joins the next one in a resize,
/// so each block rewraps on its own just as it would among all the others.
pub(super) fn reflow(store: ColdStore, old: usize, new: usize, enc: &mut Encoder) -> ColdStore {
    let (blocks, mut skip) = store.into_blocks();
    let mut out = ColdStore::default();
    let mut cells = Vec::new();
    for block in blocks {
        if block.unchanged_by(old, new) {
            out.adopt(block, skip);
        } else {
            rewrap(&block, skip, old, new, enc, &mut out, &mut cells);
        }
        skip = 0;
    }
    out
}

/// Rewrap the rows of `block` from the `skip`-th on and append them to `out`.
///
/// The rows are laid on the screen of a scratch grid with the cursor on a blank row below
/// them, as history sits above the cursor; after the resize the rows above the cursor are
/// the rewrapped lines.
fn rewrap(
    block: &BlockRef,
    skip: usize,
    old: usize,
    new: usize,
    enc: &mut Encoder,
    out: &mut ColdStore,
    cells: &mut Vec<Cell>,
) {
    let count = block.rows().saturating_sub(skip);
    if count == 0 {
        return;
    }
    // Narrowing can split each row into old/new rows (and a wide character may push one more).
    let most = count * (old.div_ceil(new.max(1)) + 1) + 1;
    let mut grid: Grid<Cell> = Grid::new(count + 1, old, most);
    let mut line = 0;
    block.for_each(skip, |record| {
        cells.clear();
        let _ = codec::decode(record, cells);
        codec::fill_row(&mut grid[Line(line)], cells);
        line += 1;
    });
    grid.cursor.point = Point::new(Line(count as i32), Column(0));
    grid.resize::<Color>(true, count + 1, new);
    let top = -(grid.history_size() as i32);
    for line in top..grid.cursor.point.line.0 {
        let row = &grid[Line(line)];
        out.push(enc, row, occupied::extent(row));
        out.seal_full();
    }
}
