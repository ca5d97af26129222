//! The cold history: rows that left the emulator, oldest first, as records (see `codec`) packed
//! in blocks. A block is sealed once full at the end of a line and lz4-compressed later, when
//! the pane has nothing else to do; taking rows back unpacks only the blocks they are in.

use super::codec::{self, Encoder, RowInfo};
use super::occupied;
use alacritty_terminal::grid::Row;
use alacritty_terminal::term::cell::Cell;
use std::collections::VecDeque;

/// Uncompressed bytes after which a block is sealed (at the next end of a line).
#[cfg(not(test))]
const BLOCK_BYTES: usize = 32 << 10;
/// Small blocks in tests, so a few lines already use many blocks, sealed and compressed.
#[cfg(test)]
const BLOCK_BYTES: usize = 200;

/// Rows of history in compact form.
#[derive(Default)]
pub(super) struct ColdStore {
    blocks: VecDeque<Block>,
    /// Rows at the front of the first block that are no longer kept (dropped by the line
    /// limit); they go when their whole block does.
    skip: usize,
    /// Rows kept.
    rows: usize,
    /// Some sealed block may still be uncompressed.
    unpacked: bool,
}

struct Block {
    /// The records while unpacked; empty while packed.
    raw: Vec<u8>,
    /// The records compressed, with their uncompressed length.
    packed: Option<(Box<[u8]>, usize)>,
    /// Rows in the block, skipped ones included.
    rows: usize,
    /// Where each record starts, found when rows are taken off the end; stale when its
    /// length is not `rows`.
    starts: Vec<u32>,
    /// Some row has a WRAPLINE cell: a resize may join it with the row below.
    wraps: bool,
    /// Most cells stored for one row.
    widest: usize,
    /// The last row has no WRAPLINE cell.
    ends_line: bool,
    /// Full: new rows go to a new block.
    sealed: bool,
}

/// Where the store stood, to take back rows pushed after it.
#[derive(Debug, Clone, Copy)]
struct Mark {
    blocks: usize,
    rows: usize,
    bytes: usize,
}

impl Block {
    fn new() -> Self {
        Self {
            raw: Vec::new(),
            packed: None,
            rows: 0,
            starts: Vec::new(),
            wraps: false,
            widest: 0,
            ends_line: true,
            sealed: false,
        }
    }

    /// The records, decompressed when packed (a damaged block reads as empty rows).
    fn records(&self) -> std::borrow::Cow<'_, [u8]> {
        match &self.packed {
            None => std::borrow::Cow::Borrowed(&self.raw),
            Some((bytes, len)) => std::borrow::Cow::Owned(
                lz4_flex::block::decompress(bytes, *len).unwrap_or_default(),
            ),
        }
    }

    /// Decompress the records, so rows can be appended.
    fn unpack(&mut self) {
        if let Some((bytes, len)) = self.packed.take() {
            self.raw = lz4_flex::block::decompress(&bytes, len).unwrap_or_default();
        }
    }

    /// Append `row`, whose cells from `extent` on are default, to this unpacked block.
    fn append(&mut self, enc: &mut Encoder, row: &Row<Cell>, extent: usize) -> RowInfo {
        let info = enc.encode(row, extent, &mut self.raw);
        self.rows += 1;
        self.wraps |= !info.ends_line;
        self.widest = self.widest.max(info.cells);
        self.ends_line = info.ends_line;
        info
    }

    /// Unpack and find where each record starts, so rows can be taken off the end.
    fn index(&mut self) {
        self.unpack();
        if self.starts.len() != self.rows {
            self.starts.clear();
            let mut rest: &[u8] = &self.raw;
            while let Some((_, tail)) = codec::split_record(rest) {
                self.starts.push((self.raw.len() - rest.len()) as u32);
                rest = tail;
            }
            // A damaged block keeps its row count, with empty rows.
            while self.starts.len() < self.rows {
                self.starts.push(self.raw.len() as u32);
            }
            self.starts.truncate(self.rows);
        }
    }

    fn bytes(&self) -> usize {
        let packed = self.packed.as_ref().map_or(0, |(bytes, _)| bytes.len());
        self.raw.capacity() + packed + self.starts.capacity() * size_of::<u32>() + size_of::<Self>()
    }
}

impl ColdStore {
    /// Rows kept.
    pub(super) fn rows(&self) -> usize {
        self.rows
    }

    pub(super) fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Heap bytes held, for the figures in benchmarks.
    pub(super) fn bytes(&self) -> usize {
        self.blocks.iter().map(Block::bytes).sum()
    }

    pub(super) fn clear(&mut self) {
        *self = Self::default();
    }

    /// The newest row ends a line (true when empty): reflow never joins it with a later row.
    pub(super) fn ends_line(&self) -> bool {
        self.blocks.back().is_none_or(|b| b.ends_line)
    }

    /// The block rows are appended to, unpacked (a new one when there is none or the last is
    /// sealed), and how many blocks there are with it.
    fn open_block(&mut self) -> Option<(usize, &mut Block)> {
        if self.blocks.back().is_none_or(|b| b.sealed) {
            self.blocks.push_back(Block::new());
        }
        let blocks = self.blocks.len();
        let block = self.blocks.back_mut()?;
        block.unpack();
        Some((blocks, block))
    }

    /// Append `row`, whose cells from `extent` on are default.
    pub(super) fn push(&mut self, enc: &mut Encoder, row: &Row<Cell>, extent: usize) -> RowInfo {
        let Some((_, block)) = self.open_block() else {
            return RowInfo {
                cells: 0,
                ends_line: true,
            };
        };
        let info = block.append(enc, row, extent);
        self.rows += 1;
        info
    }

    /// Append `rows`, oldest first, and keep them up to the last one that ends a line: the
    /// rows after it are taken back off (they stay with the rest of their line). Returns the
    /// rows kept.
    ///
    /// One call per freeze, so the open block is looked up and unpacked once per block
    /// rather than once per row: rows of a few characters cost little more than their text.
    pub(super) fn push_lines<'r>(
        &mut self,
        enc: &mut Encoder,
        rows: impl IntoIterator<Item = &'r Row<Cell>>,
    ) -> usize {
        let mut rows = rows.into_iter().peekable();
        let mut mark = self.mark();
        let (mut pushed, mut kept) = (0, 0);
        while rows.peek().is_some() {
            let Some((blocks, block)) = self.open_block() else {
                break;
            };
            let before = block.rows;
            let mut full = false;
            for row in rows.by_ref() {
                let info = block.append(enc, row, occupied::extent(row));
                pushed += 1;
                if info.ends_line {
                    kept = pushed;
                    mark = Mark {
                        blocks,
                        rows: block.rows,
                        bytes: block.raw.len(),
                    };
                    if block.raw.len() >= BLOCK_BYTES {
                        full = true;
                        break;
                    }
                }
            }
            self.rows += block.rows - before;
            if full {
                self.seal_full();
            }
        }
        self.rollback(mark);
        kept
    }

    fn mark(&self) -> Mark {
        let (rows, bytes) = self.blocks.back().map_or((0, 0), |b| {
            (
                b.rows,
                b.packed.as_ref().map_or(b.raw.len(), |(_, len)| *len),
            )
        });
        Mark {
            blocks: self.blocks.len(),
            rows,
            bytes,
        }
    }

    /// Forget the rows pushed since `mark` (nothing is sealed in between).
    fn rollback(&mut self, mark: Mark) {
        while self.blocks.len() > mark.blocks {
            if let Some(block) = self.blocks.pop_back() {
                self.rows -= block.rows;
            }
        }
        let Some(block) = self.blocks.back_mut() else {
            return;
        };
        if block.rows > mark.rows {
            block.unpack();
            block.raw.truncate(mark.bytes);
            self.rows -= block.rows - mark.rows;
            block.rows = mark.rows;
            block.starts.clear();
            block.ends_line = true;
        }
        if block.rows == 0 {
            self.blocks.pop_back();
        }
    }

    /// Seal the last block once it is full and ends a line.
    pub(super) fn seal_full(&mut self) {
        if let Some(block) = self.blocks.back_mut()
            && !block.sealed
            && block.ends_line
            && block.packed.is_none()
            && block.raw.len() >= BLOCK_BYTES
        {
            block.sealed = true;
            block.starts = Vec::new();
            block.raw.shrink_to_fit();
            self.unpacked = true;
        }
    }

    /// Drop the `n` oldest rows.
    pub(super) fn drop_front(&mut self, n: usize) {
        let n = n.min(self.rows);
        self.rows -= n;
        self.skip += n;
        while let Some(first) = self.blocks.front()
            && self.skip >= first.rows
        {
            self.skip -= first.rows;
            self.blocks.pop_front();
        }
        if self.rows == 0 {
            self.clear();
        }
    }

    /// Take the `n` newest rows off the store; their records are appended to `out` newest
    /// block first, each chunk oldest row first.
    pub(super) fn take_back(&mut self, n: usize, out: &mut Vec<Vec<u8>>) {
        let mut left = n.min(self.rows);
        while left > 0 {
            let only = self.blocks.len() == 1;
            let skip = if only { self.skip } else { 0 };
            let Some(block) = self.blocks.back_mut() else {
                break;
            };
            block.index();
            let kept = block.rows - skip;
            let take = left.min(kept);
            let first = block.rows - take;
            let at = block.starts.get(first).map_or(0, |&s| s as usize);
            let bytes = &mut block.raw;
            out.push(bytes.split_off(at.min(bytes.len())));
            block.starts.truncate(first);
            block.rows = first;
            block.sealed = false;
            block.ends_line = block
                .starts
                .last()
                .and_then(|&s| codec::split_record(&bytes[s as usize..]))
                .is_none_or(|(record, _)| codec::info(record).ends_line);
            self.rows -= take;
            left -= take;
            if take == kept {
                self.blocks.pop_back();
                if only {
                    self.skip = 0;
                }
            }
        }
    }

    /// Call `f` with the last `n` kept records (all of them when there are fewer), oldest
    /// first. Blocks before them are not unpacked.
    pub(super) fn for_each_last(&self, n: usize, mut f: impl FnMut(&[u8])) {
        let mut skip = self.skip + self.rows.saturating_sub(n);
        for block in &self.blocks {
            if skip >= block.rows {
                skip -= block.rows;
                continue;
            }
            let records = block.records();
            let mut rest: &[u8] = &records;
            for row in 0..block.rows {
                let (record, tail) = codec::split_record(rest).unwrap_or((&[], &[]));
                if row >= skip {
                    f(record);
                }
                rest = tail;
            }
            skip = 0;
        }
    }

    /// Call `f` with every kept record, oldest first.
    #[cfg(test)]
    pub(super) fn for_each(&self, mut f: impl FnMut(&[u8])) {
        let mut skip = self.skip;
        for block in &self.blocks {
            let records = block.records();
            let mut rest: &[u8] = &records;
            let mut row = 0;
            while row < block.rows {
                let (record, tail) = codec::split_record(rest).unwrap_or((&[], &[]));
                if row >= skip {
                    f(record);
                }
                rest = tail;
                row += 1;
            }
            skip = 0;
        }
    }

    /// Compress sealed blocks, oldest first, until about `budget` bytes were read. Returns
    /// whether some are left for next time, and the bytes freed.
    pub(super) fn compress(&mut self, budget: usize) -> (bool, usize) {
        if !self.unpacked {
            return (false, 0);
        }
        let (mut spent, mut freed) = (0, 0);
        for block in self.blocks.iter_mut() {
            if !block.sealed || block.packed.is_some() {
                continue;
            }
            if spent >= budget {
                return (true, freed);
            }
            let raw = std::mem::take(&mut block.raw);
            let packed = lz4_flex::block::compress(&raw).into_boxed_slice();
            spent += raw.len();
            freed += raw.capacity().saturating_sub(packed.len());
            block.packed = Some((packed, raw.len()));
        }
        self.unpacked = false;
        (false, freed)
    }

    /// Move every block out, with the number of skipped rows at the front of the first.
    pub(super) fn into_blocks(self) -> (VecDeque<BlockRef>, usize) {
        let blocks = self.blocks.into_iter().map(BlockRef).collect();
        (blocks, self.skip)
    }

    /// Append a whole block taken from another store, `skip` rows of it not kept.
    pub(super) fn adopt(&mut self, block: BlockRef, skip: usize) {
        if let Some(last) = self.blocks.back_mut() {
            // Appending after an open block: close it so rows stay in order.
            last.sealed = true;
            last.starts = Vec::new();
        }
        self.unpacked = true;
        if self.blocks.is_empty() {
            self.skip = skip;
        }
        self.rows += block.0.rows - skip;
        self.blocks.push_back(block.0);
    }
}

/// A block moved between stores (when a resize rebuilds the history).
pub(super) struct BlockRef(Block);

impl BlockRef {
    /// Rows in the block, skipped ones included.
    pub(super) fn rows(&self) -> usize {
        self.0.rows
    }

    /// A resize from `old` to `new` columns leaves every row of this block as it is:
    /// nothing wraps, and when narrowing, every row fits.
    pub(super) fn unchanged_by(&self, old: usize, new: usize) -> bool {
        !self.0.wraps && (new >= old || self.0.widest <= new)
    }

    /// Call `f` with the records from the `skip`-th on.
    pub(super) fn for_each(&self, skip: usize, mut f: impl FnMut(&[u8])) {
        let records = self.0.records();
        let mut rest: &[u8] = &records;
        for row in 0..self.0.rows {
            let (record, tail) = codec::split_record(rest).unwrap_or((&[], &[]));
            if row >= skip {
                f(record);
            }
            rest = tail;
        }
    }
}
