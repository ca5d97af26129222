//! One grid row as bytes and back, cell for cell: the row's text, then runs of the cells whose
//! style differs from the default, wide-character positions and the rare per-cell extras
//! (combining marks, underline colour, hyperlink). Trailing default cells are not stored, nor
//! is the spacer alacritty writes after each wide character: the record implies it.
//!
//! A record (after its length) is one of:
//! - `0`: a row of default cells;
//! - `0`, then text: a plain row, one default-styled cell per character (most output);
//! - the cells stored as a varint (at least 1), a byte saying which parts follow, the text's
//!   length and the text, then those parts: any row.

use alacritty_terminal::grid::Row;
use alacritty_terminal::index::Column;
use alacritty_terminal::term::cell::{Cell, CellExtra, Flags, Hyperlink};
use alacritty_terminal::vte::ansi::{Color, NamedColor, Rgb};
use std::sync::Arc;

/// Flags kept in position lists instead of style runs: CJK text alternates them every cell.
const WIDE_FLAGS: Flags = Flags::WIDE_CHAR.union(Flags::WIDE_CHAR_SPACER);

/// A record's first byte for a plain row or a row of default cells (no other record starts
/// with it: their cell count is at least 1).
const PLAIN: u8 = 0;

/// Which optional parts follow a record's text.
const HAS_STYLES: u8 = 1;
const HAS_WIDE: u8 = 2;
const HAS_EXTRAS: u8 = 4;
/// Some cell of the row carries WRAPLINE: the row may continue on the next one when reflowed.
const WRAPS: u8 = 8;

/// What an encoded row looks like from outside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct RowInfo {
    /// Cells stored (the rest of the row is default).
    pub cells: usize,
    /// No cell carries WRAPLINE: reflow never joins this row with the next one.
    pub ends_line: bool,
}

/// Whether `cell` is what an untouched cell looks like.
#[inline(always)]
pub(super) fn is_default(cell: &Cell) -> bool {
    cell.c == ' ' && is_bare(cell)
}

/// Reusable buffers, so encoding a row allocates nothing once warm.
#[derive(Default)]
pub(super) struct Encoder {
    head: Vec<u8>,
    text: Vec<u8>,
    runs: Runs,
    /// Wide characters.
    wide: Positions,
    /// Of these, the ones not followed by the spacer the record implies.
    unpaired: Positions,
    /// Spacers not implied by the wide character before them.
    lone: Positions,
    /// Cells with extra storage, each followed by its contents.
    extras: Positions,
}

/// A stored list: its count, then its bytes.
type List<'a> = (u64, &'a [u8]);

/// A list of cell positions as it is stored: the gaps between them as varints.
#[derive(Default)]
struct Positions {
    bytes: Vec<u8>,
    count: u64,
    last: usize,
}

impl Positions {
    fn clear(&mut self) {
        self.bytes.clear();
        self.count = 0;
        self.last = 0;
    }

    #[inline(always)]
    fn push(&mut self, at: usize) {
        put_varint(&mut self.bytes, (at - self.last) as u64);
        self.last = at;
        self.count += 1;
    }
}

/// The style runs of a row being encoded, and what else its styled cells say.
#[derive(Default)]
struct Runs {
    bytes: Vec<u8>,
    count: u64,
    /// The open run: where it started and its style.
    open: Option<(usize, Style)>,
    /// Where the last closed run ended.
    end: usize,
    /// Some cell carries WRAPLINE.
    wraps: bool,
}

impl Runs {
    fn clear(&mut self) {
        self.bytes.clear();
        self.count = 0;
        self.open = None;
        self.end = 0;
        self.wraps = false;
    }

    /// Note cell `i`, which is not plain or follows a styled one.
    #[inline]
    fn note(&mut self, i: usize, cell: &Cell, extras: &mut Positions) {
        let flags = cell.flags.difference(WIDE_FLAGS);
        self.wraps |= flags.contains(Flags::WRAPLINE);
        let style = Style {
            fg: cell.fg,
            bg: cell.bg,
            flags,
        };
        match self.open {
            Some((_, open)) if open == style => {}
            _ => {
                self.close(i);
                if !style.is_default() {
                    self.open = Some((i, style));
                }
            }
        }
        if cell.extra.is_some() {
            extras.push(i);
            put_extra(&mut extras.bytes, cell);
        }
    }

    /// End the open run (if any) before cell `i`.
    fn close(&mut self, i: usize) {
        if let Some((start, style)) = self.open.take() {
            put_varint(&mut self.bytes, (start - self.end) as u64);
            put_varint(&mut self.bytes, (i - start) as u64);
            self.bytes
                .extend_from_slice(&style.flags.bits().to_le_bytes());
            put_color(&mut self.bytes, style.fg);
            put_color(&mut self.bytes, style.bg);
            self.end = i;
            self.count += 1;
        }
    }
}

/// Default colours, no attribute but the width flags, no extras: the cell needs no style run.
///
/// `matches!` instead of `==` on the colours: the derived comparison is several times
/// slower, and this runs for every cell of every row that goes cold.
#[inline(always)]
fn is_plain(cell: &Cell) -> bool {
    cell.flags.difference(WIDE_FLAGS).is_empty()
        && matches!(cell.fg, Color::Named(NamedColor::Foreground))
        && matches!(cell.bg, Color::Named(NamedColor::Background))
        && cell.extra.is_none()
}

/// Write `c` as UTF-8 into `buf` at `at`, where 4 bytes are free; returns its length.
///
/// By hand rather than with `char::encode_utf8`, whose length checks and slicing cost more
/// than the encoding itself here.
#[inline(always)]
fn put_char(buf: &mut [u8], at: usize, c: char) -> usize {
    let code = c as u32;
    let Some(dst) = buf.get_mut(at..at + 4) else {
        // Never: the caller sized the buffer for 4 bytes per cell.
        return 0;
    };
    if code < 0x80 {
        dst[0] = code as u8;
        1
    } else if code < 0x800 {
        dst[0] = 0xC0 | (code >> 6) as u8;
        dst[1] = 0x80 | (code & 0x3F) as u8;
        2
    } else if code < 0x1_0000 {
        dst[0] = 0xE0 | (code >> 12) as u8;
        dst[1] = 0x80 | ((code >> 6) & 0x3F) as u8;
        dst[2] = 0x80 | (code & 0x3F) as u8;
        3
    } else {
        dst[0] = 0xF0 | (code >> 18) as u8;
        dst[1] = 0x80 | ((code >> 12) & 0x3F) as u8;
        dst[2] = 0x80 | ((code >> 6) & 0x3F) as u8;
        dst[3] = 0x80 | (code & 0x3F) as u8;
        4
    }
}

impl Encoder {
    /// Append `row` (whose cells from `extent` on are known to be default) to `out` as one
    /// length-prefixed record.
    ///
    /// This runs for every row that leaves the emulator, on the parse path: plain rows take
    /// the short way, inlined into the caller's loop, the others the general one.
    #[inline]
    pub(super) fn encode(&mut self, row: &Row<Cell>, extent: usize, out: &mut Vec<u8>) -> RowInfo {
        let cells = &row[..];
        let cells = &cells[..extent.min(cells.len())];
        match encode_plain(cells, out) {
            Some(info) => info,
            None => self.encode_any(cells, out),
        }
    }

    /// [`Self::encode`] for rows with styles, wide characters, flags or extras. Keep the cell
    /// loop lean: a wide character and its spacer are visited in one step, the spacer's blank
    /// left out of the text.
    #[inline(never)]
    fn encode_any(&mut self, cells: &[Cell], out: &mut Vec<u8>) -> RowInfo {
        let mut n = cells.len();
        while n > 0 && is_default(&cells[n - 1]) {
            n -= 1;
        }
        let cells = &cells[..n];
        self.head.clear();
        put_varint(&mut self.head, n as u64);
        if n == 0 {
            put_varint(out, self.head.len() as u64);
            out.extend_from_slice(&self.head);
            return RowInfo {
                cells: 0,
                ends_line: true,
            };
        }
        let Self {
            head,
            text,
            runs,
            wide,
            unpaired,
            lone,
            extras,
        } = self;
        runs.clear();
        wide.clear();
        unpaired.clear();
        lone.clear();
        extras.clear();
        // A char is at most 4 bytes in UTF-8, so the text always fits; it is written by index
        // into a slice, without a length to update or a copy per character.
        if text.len() < n * 4 {
            text.resize(n * 4, 0);
        }
        let text_buf: &mut [u8] = text;
        let mut text_len = 0;
        let mut i = 0;
        while i < n {
            let cell = &cells[i];
            text_len += put_char(text_buf, text_len, cell.c);
            // Cells visited in this step: a wide character's spacer goes with it.
            let mut step = 1;
            let flags = cell.flags;
            if flags.intersects(WIDE_FLAGS) {
                if flags.contains(Flags::WIDE_CHAR) {
                    wide.push(i);
                    if cells.get(i + 1).is_some_and(implied_spacer) {
                        step = 2;
                    } else {
                        unpaired.push(i);
                    }
                }
                // A spacer no wide character implied (cell `i` never is an implied one).
                if flags.contains(Flags::WIDE_CHAR_SPACER) {
                    lone.push(i);
                }
            }
            // Most cells are plain text outside any run: nothing more to note.
            if runs.open.is_some() || !is_plain(cell) {
                runs.note(i, cell, extras);
            }
            if step == 2 {
                let spacer = &cells[i + 1];
                if runs.open.is_some() || !is_plain(spacer) {
                    runs.note(i + 1, spacer, extras);
                }
            }
            i += step;
        }
        runs.close(n);
        let text = &text_buf[..text_len];
        let mut bits = 0;
        if runs.wraps {
            bits |= WRAPS;
        }
        // Each optional part: its bit, then each of its lists as a count and its bytes.
        let sections: [(u8, &[List]); 3] = [
            (HAS_STYLES, &[(runs.count, &runs.bytes)]),
            (
                HAS_WIDE,
                &[
                    (lone.count, &lone.bytes),
                    (unpaired.count, &unpaired.bytes),
                    (wide.count, &wide.bytes),
                ],
            ),
            (HAS_EXTRAS, &[(extras.count, &extras.bytes)]),
        ];
        let mut len = 0;
        for (bit, lists) in &sections {
            if lists.iter().any(|(count, _)| *count > 0) {
                bits |= bit;
                len += lists
                    .iter()
                    .map(|(count, bytes)| varint_len(*count) + bytes.len())
                    .sum::<usize>();
            }
        }
        head.push(bits);
        put_varint(head, text.len() as u64);
        len += head.len() + text.len();
        out.reserve(len + varint_len(len as u64));
        put_varint(out, len as u64);
        out.extend_from_slice(head);
        out.extend_from_slice(text);
        for (bit, lists) in &sections {
            if bits & bit != 0 {
                for (count, bytes) in lists.iter() {
                    put_varint(out, *count);
                    out.extend_from_slice(bytes);
                }
            }
        }
        RowInfo {
            cells: n,
            ends_line: !runs.wraps,
        }
    }
}

/// A plain cell with no flag at all: the whole cell is its character.
///
/// `&` rather than `&&`, and `matches!` rather than `==` on the colours: no branch per field
/// (the derived comparison is several times slower).
#[inline(always)]
fn is_bare(cell: &Cell) -> bool {
    cell.flags.is_empty()
        & matches!(cell.fg, Color::Named(NamedColor::Foreground))
        & matches!(cell.bg, Color::Named(NamedColor::Background))
        & cell.extra.is_none()
}

/// Append the plain record of `cells` (trailing blanks left out) to `out`, or None, with
/// `out` untouched, when some cell is not bare.
///
/// Most rows of most output are plain, and short ones cost more per cell than their text:
/// one pass checks the cells, a second writes their characters straight into `out`, with no
/// staging buffer, style bookkeeping or parts to assemble.
#[inline]
fn encode_plain(cells: &[Cell], out: &mut Vec<u8>) -> Option<RowInfo> {
    // Cells up to the last non-blank one; whether any of them is outside ASCII. Checked a
    // group of cells at a time, without a branch per cell, giving up after a group with a
    // cell that is not bare.
    const GROUP: usize = 16;
    let (mut n, mut high) = (0, 0u32);
    for (g, group) in cells.chunks(GROUP).enumerate() {
        let mut bare = true;
        for (i, cell) in group.iter().enumerate() {
            bare &= is_bare(cell);
            if cell.c != ' ' {
                n = g * GROUP + i + 1;
            }
            high |= cell.c as u32;
        }
        if !bare {
            return None;
        }
    }
    let cells = &cells[..n];
    let ascii = high < 0x80;
    let text_len = if ascii {
        n
    } else {
        cells.iter().map(|cell| cell.c.len_utf8()).sum()
    };
    let len = 1 + text_len;
    out.reserve(varint_len(len as u64) + len);
    put_varint(out, len as u64);
    out.push(PLAIN);
    if ascii {
        out.extend(cells.iter().map(|cell| cell.c as u8));
    } else {
        let mut buf = [0; 4];
        for cell in cells {
            out.extend_from_slice(cell.c.encode_utf8(&mut buf).as_bytes());
        }
    }
    Some(RowInfo {
        cells: n,
        ends_line: true,
    })
}

/// The spacer alacritty writes after a wide character: the record implies it (its blank is
/// not in the text, its position not in a list). Anything else after a wide character, left
/// by edits that split the pair, is stored as it is.
#[inline(always)]
fn implied_spacer(cell: &Cell) -> bool {
    cell.c == ' '
        && cell.flags.contains(Flags::WIDE_CHAR_SPACER)
        && !cell.flags.contains(Flags::WIDE_CHAR)
}

/// The colours and attributes of a cell, without its character.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Style {
    fg: Color,
    bg: Color,
    flags: Flags,
}

impl Style {
    fn is_default(&self) -> bool {
        matches!(self.fg, Color::Named(NamedColor::Foreground))
            && matches!(self.bg, Color::Named(NamedColor::Background))
            && self.flags.is_empty()
    }
}

/// Split the first record off `bytes`: `(record, rest)`, or None when `bytes` is truncated.
pub(super) fn split_record(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let mut r = Reader { bytes, pos: 0 };
    let len = usize::try_from(r.varint()?).ok()?;
    let body = r.take(len)?;
    Some((body, &bytes[r.pos..]))
}

/// What [`Encoder::encode`] said about a record, read back from its first bytes.
pub(super) fn info(record: &[u8]) -> RowInfo {
    let mut r = Reader {
        bytes: record,
        pos: 0,
    };
    let cells = r
        .varint()
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(0);
    if cells == 0 {
        // A plain row: one cell per character, the bytes that do not continue one.
        let text = record.get(1..).unwrap_or_default();
        return RowInfo {
            cells: text.iter().filter(|&&b| b & 0xC0 != 0x80).count(),
            ends_line: true,
        };
    }
    let parts = r.byte().unwrap_or(0);
    RowInfo {
        cells,
        ends_line: parts & WRAPS == 0,
    }
}

/// Append the cells of `record` to `out`; None (with `out` holding what could be read) when
/// the record is damaged, which never happens to bytes [`Encoder::encode`] wrote.
pub(super) fn decode(record: &[u8], out: &mut Vec<Cell>) -> Option<()> {
    let mut r = Reader {
        bytes: record,
        pos: 0,
    };
    let n = usize::try_from(r.varint()?).ok()?;
    if n == 0 {
        let text = std::str::from_utf8(record.get(1..)?).ok()?;
        out.extend(text.chars().map(|c| Cell {
            c,
            ..Cell::default()
        }));
        return Some(());
    }
    let parts = r.byte()?;
    let text_len = usize::try_from(r.varint()?).ok()?;
    let mut text = std::str::from_utf8(r.take(text_len)?).ok()?.chars();
    let base = out.len();
    out.resize(base + n, Cell::default());
    let cells = &mut out[base..];
    if parts & HAS_STYLES != 0 {
        let mut at = 0usize;
        for _ in 0..r.varint()? {
            let start = at.checked_add(r.count()?)?;
            let end = start.checked_add(r.count()?)?;
            let flags = Flags::from_bits_retain(u16::from_le_bytes([r.byte()?, r.byte()?]));
            let fg = r.color()?;
            let bg = r.color()?;
            for cell in cells.get_mut(start..end)? {
                cell.fg = fg;
                cell.bg = bg;
                cell.flags = flags;
            }
            at = end;
        }
    }
    // The next cell whose character comes from the text.
    let mut at = 0usize;
    if parts & HAS_WIDE != 0 {
        for cell in r.positions()? {
            cells.get_mut(cell?)?.flags.insert(Flags::WIDE_CHAR_SPACER);
        }
        let unpaired = r.positions()?.collect::<Option<Vec<usize>>>()?;
        let mut unpaired = unpaired.into_iter().peekable();
        for wide in r.positions()? {
            let wide = wide?;
            cells.get_mut(wide)?.flags.insert(Flags::WIDE_CHAR);
            if unpaired.next_if_eq(&wide).is_some() {
                continue;
            }
            // The implied spacer: a blank that takes nothing from the text.
            let spacer = wide.checked_add(1)?;
            for cell in cells.get_mut(at..spacer)? {
                cell.c = text.next()?;
            }
            cells.get_mut(spacer)?.flags.insert(Flags::WIDE_CHAR_SPACER);
            at = spacer + 1;
        }
    }
    for cell in cells.get_mut(at..)? {
        cell.c = text.next()?;
    }
    if parts & HAS_EXTRAS != 0 {
        let mut at = 0usize;
        for _ in 0..r.varint()? {
            at = at.checked_add(r.count()?)?;
            r.extra(cells.get_mut(at)?)?;
        }
    }
    Some(())
}

/// Write `cells` into `row` from its first column; the rest of the row becomes default.
///
/// The row is reset first, which clears the cells it was ever written to (see
/// `grid_ops::mark_rows_written` for why that is all of them).
pub(super) fn fill_row(row: &mut Row<Cell>, cells: &mut Vec<Cell>) {
    row.reset(&Cell::default());
    let width = row.len();
    for (i, cell) in cells.drain(..).enumerate().take(width) {
        row[Column(i)] = cell;
    }
}

/// Bits saying which parts of a cell's extra storage are present.
const EXTRA_ZEROWIDTH: u8 = 1;
const EXTRA_UNDERLINE: u8 = 2;
const EXTRA_HYPERLINK: u8 = 4;

fn put_extra(out: &mut Vec<u8>, cell: &Cell) {
    let zerowidth = cell.zerowidth().unwrap_or(&[]);
    let underline = cell.underline_color();
    let hyperlink = cell.hyperlink();
    let mut bits = 0;
    if !zerowidth.is_empty() {
        bits |= EXTRA_ZEROWIDTH;
    }
    if underline.is_some() {
        bits |= EXTRA_UNDERLINE;
    }
    if hyperlink.is_some() {
        bits |= EXTRA_HYPERLINK;
    }
    out.push(bits);
    if !zerowidth.is_empty() {
        let text: String = zerowidth.iter().collect();
        put_str(out, &text);
    }
    if let Some(color) = underline {
        put_color(out, color);
    }
    if let Some(link) = hyperlink {
        put_str(out, link.id());
        put_str(out, link.uri());
    }
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_varint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

fn put_color(out: &mut Vec<u8>, color: Color) {
    match color {
        Color::Named(named) => {
            out.push(0);
            out.extend_from_slice(&(named as u16).to_le_bytes());
        }
        Color::Spec(rgb) => out.extend_from_slice(&[1, rgb.r, rgb.g, rgb.b]),
        Color::Indexed(i) => out.extend_from_slice(&[2, i]),
    }
}

fn varint_len(v: u64) -> usize {
    (64 - v.max(1).leading_zeros() as usize).div_ceil(7)
}

pub(super) fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Every named colour, to turn the stored number back into one.
const NAMED: [NamedColor; 29] = [
    NamedColor::Black,
    NamedColor::Red,
    NamedColor::Green,
    NamedColor::Yellow,
    NamedColor::Blue,
    NamedColor::Magenta,
    NamedColor::Cyan,
    NamedColor::White,
    NamedColor::BrightBlack,
    NamedColor::BrightRed,
    NamedColor::BrightGreen,
    NamedColor::BrightYellow,
    NamedColor::BrightBlue,
    NamedColor::BrightMagenta,
    NamedColor::BrightCyan,
    NamedColor::BrightWhite,
    NamedColor::Foreground,
    NamedColor::Background,
    NamedColor::Cursor,
    NamedColor::DimBlack,
    NamedColor::DimRed,
    NamedColor::DimGreen,
    NamedColor::DimYellow,
    NamedColor::DimBlue,
    NamedColor::DimMagenta,
    NamedColor::DimCyan,
    NamedColor::DimWhite,
    NamedColor::BrightForeground,
    NamedColor::DimForeground,
];

/// A bounds-checked cursor over a record.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn byte(&mut self) -> Option<u8> {
        let b = *self.bytes.get(self.pos)?;
        self.pos += 1;
        Some(b)
    }

    fn take(&mut self, len: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(len)?;
        let out = self.bytes.get(self.pos..end)?;
        self.pos = end;
        Some(out)
    }

    fn varint(&mut self) -> Option<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Some(v);
            }
        }
        None
    }

    fn count(&mut self) -> Option<usize> {
        usize::try_from(self.varint()?).ok()
    }

    /// A list of cell positions, stored as a count and the gaps between them: each item is
    /// None once the list turns out damaged.
    fn positions(&mut self) -> Option<impl Iterator<Item = Option<usize>> + use<'_, 'a>> {
        let count = self.varint()?;
        let mut at = 0usize;
        Some((0..count).map(move |_| {
            at = at.checked_add(self.count()?)?;
            Some(at)
        }))
    }

    fn color(&mut self) -> Option<Color> {
        Some(match self.byte()? {
            0 => {
                let n = u16::from_le_bytes([self.byte()?, self.byte()?]);
                Color::Named(*NAMED.iter().find(|c| **c as u16 == n)?)
            }
            1 => Color::Spec(Rgb {
                r: self.byte()?,
                g: self.byte()?,
                b: self.byte()?,
            }),
            2 => Color::Indexed(self.byte()?),
            _ => return None,
        })
    }

    fn str(&mut self) -> Option<&'a str> {
        let len = self.count()?;
        std::str::from_utf8(self.take(len)?).ok()
    }

    /// Rebuild a cell's extra storage: present even when empty, as the emulator may leave it.
    fn extra(&mut self, cell: &mut Cell) -> Option<()> {
        let bits = self.byte()?;
        cell.extra = Some(Arc::new(CellExtra::default()));
        if bits & EXTRA_ZEROWIDTH != 0 {
            for c in self.str()?.chars() {
                cell.push_zerowidth(c);
            }
        }
        if bits & EXTRA_UNDERLINE != 0 {
            cell.set_underline_color(Some(self.color()?));
        }
        if bits & EXTRA_HYPERLINK != 0 {
            let id = self.str()?.to_string();
            let uri = self.str()?.to_string();
            cell.set_hyperlink(Some(Hyperlink::new(Some(id), uri)));
        }
        Some(())
    }
}

#[cfg(test)]
mod tests {
    /// Every char, as the standard library encodes it.
    #[test]
    fn put_char_writes_utf8() {
        let mut buf = [0u8; 4];
        let mut std_buf = [0u8; 4];
        for c in (0..=u32::from(char::MAX)).filter_map(char::from_u32) {
            let len = super::put_char(&mut buf, 0, c);
            assert_eq!(&buf[..len], c.encode_utf8(&mut std_buf).as_bytes(), "{c:?}");
        }
    }
}
