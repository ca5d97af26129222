//! One grid row as bytes and back, cell for cell: the row's text, then runs of the cells whose
//! style differs from the default, wide-character positions and the rare per-cell extras
//! (combining marks, underline colour, hyperlink). Trailing default cells are not stored.

use alacritty_terminal::grid::Row;
use alacritty_terminal::index::Column;
use alacritty_terminal::term::cell::{Cell, CellExtra, Flags, Hyperlink};
use alacritty_terminal::vte::ansi::{Color, NamedColor, Rgb};
use std::sync::Arc;

/// Flags kept in position lists instead of style runs: CJK text alternates them every cell.
const WIDE_FLAGS: Flags = Flags::WIDE_CHAR.union(Flags::WIDE_CHAR_SPACER);

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
pub(super) fn is_default(cell: &Cell) -> bool {
    cell.c == ' '
        && cell.fg == Color::Named(NamedColor::Foreground)
        && cell.bg == Color::Named(NamedColor::Background)
        && cell.flags.is_empty()
        && cell.extra.is_none()
}

/// Reusable buffers, so encoding a row allocates nothing once warm.
#[derive(Default)]
pub(super) struct Encoder {
    head: Vec<u8>,
    text: Vec<u8>,
    styles: Vec<u8>,
    wide: Vec<u8>,
    spacers: Vec<u8>,
    extras: Vec<u8>,
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
    /// This runs for every row that leaves the emulator, on the parse path: keep the cell
    /// loop lean.
    pub(super) fn encode(&mut self, row: &Row<Cell>, extent: usize, out: &mut Vec<u8>) -> RowInfo {
        let cells = &row[..];
        let mut n = extent.min(cells.len());
        while n > 0 && is_default(&cells[n - 1]) {
            n -= 1;
        }
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
            styles,
            wide: wide_bytes,
            spacers: spacer_bytes,
            extras: extra_bytes,
        } = self;
        styles.clear();
        wide_bytes.clear();
        spacer_bytes.clear();
        extra_bytes.clear();
        // A char is at most 4 bytes in UTF-8, so the text always fits; it is written by index
        // into a slice, without a length to update or a copy per character.
        if text.len() < n * 4 {
            text.resize(n * 4, 0);
        }
        let text_buf: &mut [u8] = text;
        let mut text_len = 0;
        let (mut runs, mut wide, mut spacers, mut extras) = (0u64, 0u64, 0u64, 0u64);
        let (mut last_wide, mut last_spacer, mut last_extra) = (0usize, 0usize, 0usize);
        let mut wraps = false;
        // The open style run: where it started and its style.
        let mut run: Option<(usize, Style)> = None;
        let mut run_end = 0usize;
        for (i, cell) in cells[..n].iter().enumerate() {
            text_len += put_char(text_buf, text_len, cell.c);
            let flags = cell.flags;
            if flags.intersects(WIDE_FLAGS) {
                if flags.contains(Flags::WIDE_CHAR) {
                    put_varint(wide_bytes, (i - last_wide) as u64);
                    last_wide = i;
                    wide += 1;
                }
                if flags.contains(Flags::WIDE_CHAR_SPACER) {
                    put_varint(spacer_bytes, (i - last_spacer) as u64);
                    last_spacer = i;
                    spacers += 1;
                }
            }
            // Most cells are plain text outside any run: nothing more to note.
            if run.is_none() && is_plain(cell) {
                continue;
            }
            let style_flags = flags.difference(WIDE_FLAGS);
            wraps |= flags.contains(Flags::WRAPLINE);
            let style = Style {
                fg: cell.fg,
                bg: cell.bg,
                flags: style_flags,
            };
            match run {
                Some((_, open)) if open == style => {}
                _ => {
                    if let Some((start, open)) = run.take() {
                        put_run(styles, start, i, run_end, open);
                        run_end = i;
                        runs += 1;
                    }
                    if !style.is_default() {
                        run = Some((i, style));
                    }
                }
            }
            if cell.extra.is_some() {
                put_varint(extra_bytes, (i - last_extra) as u64);
                last_extra = i;
                put_extra(extra_bytes, cell);
                extras += 1;
            }
        }
        if let Some((start, s)) = run.take() {
            put_run(styles, start, n, run_end, s);
            runs += 1;
        }
        let text = &text_buf[..text_len];
        let mut bits = 0;
        if wraps {
            bits |= WRAPS;
        }
        // Each optional part: its bit, its count, its bytes.
        let sections = [
            (HAS_STYLES, runs, &*styles, None),
            (
                HAS_WIDE,
                wide,
                &*wide_bytes,
                Some((spacers, &*spacer_bytes)),
            ),
            (HAS_EXTRAS, extras, &*extra_bytes, None),
        ];
        let mut len = 0;
        for (bit, count, bytes, second) in &sections {
            let present = *count > 0 || second.is_some_and(|(c, _)| c > 0);
            if present {
                bits |= bit;
                len += varint_len(*count) + bytes.len();
                if let Some((c, b)) = second {
                    len += varint_len(*c) + b.len();
                }
            }
        }
        head.push(bits);
        put_varint(head, text.len() as u64);
        len += head.len() + text.len();
        out.reserve(len + varint_len(len as u64));
        put_varint(out, len as u64);
        out.extend_from_slice(head);
        out.extend_from_slice(text);
        for (bit, count, bytes, second) in &sections {
            if bits & bit != 0 {
                put_varint(out, *count);
                out.extend_from_slice(bytes);
                if let Some((c, b)) = second {
                    put_varint(out, *c);
                    out.extend_from_slice(b);
                }
            }
        }
        RowInfo {
            cells: n,
            ends_line: !wraps,
        }
    }
}

/// A run of cells `start..end` in `style`; `prev_end` is where the previous run ended.
fn put_run(styles: &mut Vec<u8>, start: usize, end: usize, prev_end: usize, style: Style) {
    put_varint(styles, (start - prev_end) as u64);
    put_varint(styles, (end - start) as u64);
    styles.extend_from_slice(&style.flags.bits().to_le_bytes());
    put_color(styles, style.fg);
    put_color(styles, style.bg);
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
    let parts = if cells == 0 { 0 } else { r.byte().unwrap_or(0) };
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
        return Some(());
    }
    let parts = r.byte()?;
    let text_len = usize::try_from(r.varint()?).ok()?;
    let text = std::str::from_utf8(r.take(text_len)?).ok()?;
    let base = out.len();
    out.extend(text.chars().take(n).map(|c| Cell {
        c,
        ..Cell::default()
    }));
    let cells = &mut out[base..];
    if cells.len() != n {
        return None;
    }
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
    if parts & HAS_WIDE != 0 {
        for flag in [Flags::WIDE_CHAR, Flags::WIDE_CHAR_SPACER] {
            let mut at = 0usize;
            for _ in 0..r.varint()? {
                at = at.checked_add(r.count()?)?;
                cells.get_mut(at)?.flags.insert(flag);
            }
        }
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
