//! Masking a pane's raw output stream before it is written: the bytes stay as the host sent
//! them (escape sequences and all, so a replay looks as the session did), with every secret
//! the copilot's redactor finds replaced.
//!
//! Output arrives in chunks that may split a secret anywhere, so the last [`HOLD`] bytes stay
//! held back until more output (or the end) comes, and each pass masks the joined window:
//! - pass 1 reads the stream's printable text in arrival order (escape sequences and control
//!   characters taken out, with where each byte came from), so a value split across chunks
//!   or by colour changes is found whole and replaced by its placeholder;
//! - pass 2 reads the text as a terminal would show it (`\r`, backspace and cursor moves
//!   applied): a value drawn in pieces by cursor movement is found there, and every piece of
//!   it the stream printed (a run of text between two escapes or control characters, at
//!   least 2 characters long) is replaced by as many `*`.
//!
//! A cut falls at the start of the line the held-back bytes would split (so a secret and the
//! keyword that names it stay in one pass), and never inside a masked span, an escape
//! sequence or a UTF-8 character. A quiet
//! stream is written up to its last line end; the rest of the line waits for more output.

use crate::ai::redact::{Secrets, mask_spans, visible_text};
use std::time::Instant;

/// Bytes held back from each chunk until the next one (longer than any secret lumen masks
/// whole: a 4096-bit RSA key in PEM is about 3.3 KiB).
pub const HOLD: usize = 8 * 1024;
/// A span that keeps the window from being cut is given up on (and written masked as found)
/// once the window is this long.
const MAX_WINDOW: usize = 8 * HOLD;
/// Pieces of a cursor-drawn secret shorter than this are left (too likely to be ordinary).
const MIN_PIECE: usize = 2;
/// A [`Flush::Hold`] pass waits until the window holds this much: the held-back part is
/// masked again by the next pass, so re-masking stays under an eighth of the work.
const PASS: usize = 8 * HOLD;

/// Something to write besides output, at its place in the stream.
#[derive(Debug, Clone, PartialEq)]
pub enum Extra {
    Resize(u16, u16),
    Marker(String),
}

/// One event ready to write.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    Output(String),
    Extra(Extra),
}

/// How much of the window to write now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flush {
    /// All but the last [`HOLD`] bytes, once the window holds at least [`PASS`] (before
    /// that, nothing).
    Hold,
    /// Up to the last line end (the stream went quiet).
    Quiet,
    /// Everything (the pane ended).
    All,
}

/// The held-back window of one pane's output.
#[derive(Debug, Default)]
pub struct Masker {
    window: Vec<u8>,
    /// Where each chunk ends in `window`, and when it arrived.
    chunks: Vec<(usize, Instant)>,
    /// Events between the output, at their offset in `window`.
    extras: Vec<(usize, Instant, Extra)>,
    /// The last pass's reading of the window (kept for its buffers).
    scan: Scan,
}

impl Masker {
    pub fn push(&mut self, at: Instant, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        self.window.extend_from_slice(data);
        self.chunks.push((self.window.len(), at));
    }

    pub fn extra(&mut self, at: Instant, extra: Extra) {
        self.extras.push((self.window.len(), at, extra));
    }

    /// Bytes held.
    pub fn held(&self) -> usize {
        self.window.len()
    }

    pub fn is_empty(&self) -> bool {
        self.window.is_empty() && self.extras.is_empty()
    }

    /// Forget the oldest output (the vault stayed locked and the hold-back is full): keeps at
    /// most `keep` bytes. Returns how many bytes went.
    pub fn discard_front(&mut self, keep: usize) -> usize {
        let n = self.window.len().saturating_sub(keep);
        if n == 0 {
            return 0;
        }
        self.window.drain(..n);
        self.chunks.retain(|(end, _)| *end > n);
        for c in &mut self.chunks {
            c.0 -= n;
        }
        for e in &mut self.extras {
            e.0 = e.0.saturating_sub(n);
        }
        n
    }

    /// Mask the window and take what may be written now, in order, with arrival times.
    pub fn take(&mut self, flush: Flush, secrets: &Secrets) -> Vec<(Instant, Item)> {
        if self.window.is_empty() || (flush == Flush::Hold && self.window.len() < PASS) {
            return self.take_extras(0);
        }
        let mut scan = std::mem::take(&mut self.scan);
        scan.read(&self.window);
        let spans = raw_spans(&self.window, &scan, secrets);
        let cut = self.cut(flush, &scan, &spans);
        self.scan = scan;
        let out = self.emit(cut, &spans);
        self.window.drain(..cut);
        self.chunks.retain(|(end, _)| *end > cut);
        for c in &mut self.chunks {
            c.0 -= cut;
        }
        for e in &mut self.extras {
            e.0 -= cut;
        }
        out
    }

    fn take_extras(&mut self, upto: usize) -> Vec<(Instant, Item)> {
        let n = self.extras.iter().take_while(|e| e.0 <= upto).count();
        self.extras
            .drain(..n)
            .map(|(_, at, e)| (at, Item::Extra(e)))
            .collect()
    }

    fn cut(&self, flush: Flush, scan: &Scan, spans: &[(usize, usize, String)]) -> usize {
        let len = self.window.len();
        let wanted = match flush {
            Flush::All => return len,
            Flush::Hold => {
                // Cut at the start of the line the hold would split, so that a line's secret
                // and what names it (`password X`, `mysql -pX`) are read in one pass: a value
                // held back without its keyword would not be found in the next. A line longer
                // than HOLD is cut where the hold falls.
                let at = len.saturating_sub(HOLD);
                let from = at.saturating_sub(HOLD);
                self.window[from..at]
                    .iter()
                    .rposition(|&b| b == b'\n')
                    .map_or(at, |i| from + i + 1)
            }
            Flush::Quiet => self
                .window
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |i| i + 1),
        };
        let mut cut = wanted;
        loop {
            let before = cut;
            for &(s, e, _) in spans {
                if s < cut && cut < e {
                    cut = s;
                }
            }
            for &(s, e) in &scan.seqs {
                if s < cut && cut < e {
                    cut = s;
                }
            }
            if cut == before {
                break;
            }
        }
        while cut > 0 && cut < len && self.window[cut] & 0xC0 == 0x80 {
            cut -= 1;
        }
        if cut == 0 && len > MAX_WINDOW {
            // Give up waiting for the span to end: write it masked as found so far.
            cut = wanted;
            for &(s, e, _) in spans {
                if s < cut && cut < e {
                    cut = e;
                }
            }
        }
        cut
    }

    /// Build the events for `window[..cut]`, masked spans replaced.
    fn emit(&mut self, cut: usize, spans: &[(usize, usize, String)]) -> Vec<(Instant, Item)> {
        let mut out: Vec<(Instant, Item)> = Vec::new();
        let mut cur: Vec<u8> = Vec::new();
        let mut spans = spans.iter().filter(|s| s.0 < cut).peekable();
        let mut ci = 0;
        let mut ei = 0;
        let mut pos = 0;
        let flush_cur = |cur: &mut Vec<u8>, at: Instant, out: &mut Vec<(Instant, Item)>| {
            if !cur.is_empty() {
                let text = match String::from_utf8(std::mem::take(cur)) {
                    Ok(text) => text,
                    Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
                };
                out.push((at, Item::Output(text)));
            }
        };
        while pos < cut {
            // Extras that stand here come before the bytes after them.
            while let Some((off, at, _)) = self.extras.get(ei)
                && *off <= pos
            {
                let at = *at;
                flush_cur(&mut cur, self.chunk_time(ci), &mut out);
                out.push((at, Item::Extra(self.extras[ei].2.clone())));
                ei += 1;
            }
            let next_end = self.chunks.get(ci).map_or(cut, |c| c.0).min(cut);
            let mut stop = next_end;
            if let Some((off, _, _)) = self.extras.get(ei) {
                stop = stop.min((*off).max(pos + 1));
            }
            while pos < stop {
                match spans.peek() {
                    Some((s, e, repl)) if *s <= pos => {
                        cur.extend_from_slice(repl.as_bytes());
                        pos = pos.max(*e);
                        spans.next();
                    }
                    Some((s, _, _)) => {
                        let to = (*s).min(stop);
                        cur.extend_from_slice(&self.window[pos..to]);
                        pos = to;
                    }
                    None => {
                        cur.extend_from_slice(&self.window[pos..stop]);
                        pos = stop;
                    }
                }
            }
            while ci < self.chunks.len() && self.chunks[ci].0 <= pos {
                let at = self.chunks[ci].1;
                flush_cur(&mut cur, at, &mut out);
                ci += 1;
            }
        }
        flush_cur(&mut cur, self.chunk_time(ci), &mut out);
        let taken = self.extras.drain(..ei).count();
        debug_assert_eq!(taken, ei);
        out.extend(self.take_extras(cut));
        out
    }

    fn chunk_time(&self, i: usize) -> Instant {
        self.chunks
            .get(i)
            .or(self.chunks.last())
            .map_or_else(Instant::now, |c| c.1)
    }
}

/// The printable text of raw output in stream order, and where it came from.
#[derive(Debug, Default)]
struct Scan {
    text: String,
    /// Where `text` came from, a pair per run of it that stands in one piece in the raw
    /// bytes: (offset in `text`, offset in raw) where the run starts, in order.
    runs: Vec<(usize, usize)>,
    /// Raw ranges of escape sequences (a cut never falls inside one).
    seqs: Vec<(usize, usize)>,
    /// Offsets in `text` where something was taken out (a piece of text ends there).
    breaks: Vec<usize>,
    /// Something may have moved the cursor back over text (a lone `\r`, a backspace, a
    /// cursor movement): only then can the screen show text the stream did not write in
    /// order.
    moves: bool,
}

impl Scan {
    /// Read `raw` afresh (the buffers are reused).
    fn read(&mut self, raw: &[u8]) {
        self.text.clear();
        self.runs.clear();
        self.seqs.clear();
        self.breaks.clear();
        self.moves = false;
        let s = self;
        let mut i = 0;
        while i < raw.len() {
            let b = raw[i];
            if b == 0x1b {
                let end = sequence_end(raw, i);
                s.moves |= moves_cursor(&raw[i..end]);
                s.seqs.push((i, end));
                s.gap();
                i = end;
            } else if plain(b) {
                // A run of printable ASCII at once.
                let end = raw[i..]
                    .iter()
                    .position(|&c| !plain(c))
                    .map_or(raw.len(), |n| i + n);
                // Printable ASCII is UTF-8 as it is.
                s.keep(i, std::str::from_utf8(&raw[i..end]).unwrap_or_default());
                i = end;
            } else if b < 0x80 {
                s.moves |= b == 0x08 || (b == b'\r' && raw.get(i + 1) != Some(&b'\n'));
                s.gap();
                i += 1;
            } else {
                let len = utf8_len(b);
                match raw
                    .get(i..i + len)
                    .and_then(|c| std::str::from_utf8(c).ok())
                {
                    Some(c) => {
                        s.keep(i, c);
                        i += len;
                    }
                    None => {
                        s.gap();
                        i += 1;
                    }
                }
            }
        }
    }

    /// Add `part`, read at raw offset `at`, to the text.
    fn keep(&mut self, at: usize, part: &str) {
        let follows = self
            .runs
            .last()
            .is_some_and(|&(ts, rs)| rs + (self.text.len() - ts) == at);
        if !follows {
            self.runs.push((self.text.len(), at));
        }
        self.text.push_str(part);
    }

    /// The raw offset of the byte at `t` in `text`.
    fn raw_at(&self, t: usize) -> usize {
        let k = self
            .runs
            .partition_point(|&(ts, _)| ts <= t)
            .saturating_sub(1);
        self.runs.get(k).map_or(t, |&(ts, rs)| rs + (t - ts))
    }

    fn gap(&mut self) {
        if self.breaks.last() != Some(&self.text.len()) {
            self.breaks.push(self.text.len());
        }
    }

    /// Raw range of `text[start..end]`.
    fn raw(&self, start: usize, end: usize) -> (usize, usize) {
        (self.raw_at(start), self.raw_at(end - 1) + 1)
    }

    /// The pieces of text between breaks: (start, end) in `text`.
    fn pieces(&self) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let mut start = 0;
        for &b in self.breaks.iter().chain(std::iter::once(&self.text.len())) {
            if b > start {
                out.push((start, b));
            }
            start = b;
        }
        out
    }
}

/// Printable ASCII, newline or tab: text as it is.
fn plain(b: u8) -> bool {
    PLAIN[usize::from(b)]
}

/// [`plain`] as a table, one look-up a byte.
static PLAIN: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = b == b'\n' as usize || b == b'\t' as usize || (b >= 0x20 && b < 0x7f);
        b += 1;
    }
    t
};

/// Where the escape sequence starting at `raw[i]` (an ESC) ends: CSI up to its final byte,
/// OSC/DCS/APC/PM/SOS up to BEL or ST, charset designations 3 bytes, others 2. An unfinished
/// one runs to the end.
fn sequence_end(raw: &[u8], i: usize) -> usize {
    let Some(&kind) = raw.get(i + 1) else {
        return raw.len();
    };
    match kind {
        b'[' => raw[i + 2..]
            .iter()
            .position(|b| (0x40..=0x7e).contains(b))
            .map_or(raw.len(), |p| i + 2 + p + 1),
        b']' | b'P' | b'_' | b'^' | b'X' => {
            let mut j = i + 2;
            while j < raw.len() {
                if raw[j] == 0x07 {
                    return j + 1;
                }
                if raw[j] == 0x1b && raw.get(j + 1) == Some(&b'\\') {
                    return j + 2;
                }
                j += 1;
            }
            raw.len()
        }
        b'(' | b')' | b'*' | b'+' | b'-' | b'.' | b'/' | b'#' | b'%' => (i + 3).min(raw.len()),
        _ => i + 2,
    }
}

/// Whether an escape sequence may move the cursor (anything but SGR and mode settings, to
/// be safe).
fn moves_cursor(seq: &[u8]) -> bool {
    match seq {
        [0x1b, b'[', .., last] => !matches!(last, b'm' | b'h' | b'l' | b'K'),
        [0x1b, b']' | b'P' | b'_' | b'^' | b'X', ..] => false,
        [0x1b, b'(' | b')' | b'*' | b'+', ..] => false,
        _ => true,
    }
}

fn utf8_len(b: u8) -> usize {
    match b {
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF7 => 4,
        _ => 1,
    }
}

/// The spans of `raw` to replace, in raw offsets, sorted and not overlapping.
fn raw_spans(raw: &[u8], scan: &Scan, secrets: &Secrets) -> Vec<(usize, usize, String)> {
    let mut spans: Vec<(usize, usize, String)> = mask_spans(&scan.text, secrets)
        .into_iter()
        .filter(|(s, e, _)| s < e)
        .map(|(s, e, repl)| {
            let (rs, re) = scan.raw(s, e);
            (rs, re, repl)
        })
        .collect();
    if !scan.moves {
        return spans; // the screen shows the text in the order the stream wrote it
    }
    // Pass 2: as a terminal shows it.
    let shown = visible_text(raw);
    for (s, e, _) in mask_spans(&shown, secrets) {
        let value = shown[s..e].trim();
        if value.chars().count() < MIN_PIECE || scan.text.contains(value) {
            continue; // pass 1 found it where the stream wrote it whole
        }
        for (ps, pe) in scan.pieces() {
            let piece = &scan.text[ps..pe];
            let Some((a, b)) = common_part(piece, value) else {
                continue;
            };
            let (rs, re) = scan.raw(ps + a, ps + b);
            let stars = "*".repeat(piece[a..b].chars().count());
            spans.push((rs, re, stars));
        }
    }
    spans.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
    let mut out: Vec<(usize, usize, String)> = Vec::with_capacity(spans.len());
    for s in spans {
        match out.last_mut() {
            Some(last) if s.0 < last.1 => last.1 = last.1.max(s.1),
            _ => out.push(s),
        }
    }
    out
}

/// The longest part of `piece` (at least [`MIN_PIECE`] characters, not only blanks) that
/// also stands in `value`: (start, end) in `piece`.
fn common_part(piece: &str, value: &str) -> Option<(usize, usize)> {
    let bounds: Vec<usize> = piece
        .char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(piece.len()))
        .collect();
    let mut best: Option<(usize, usize)> = None;
    for (si, &s) in bounds.iter().enumerate() {
        // Grow from s while the part stands in value.
        let mut end = None;
        for &e in &bounds[si + 1..] {
            if value.contains(&piece[s..e]) {
                end = Some(e);
            } else {
                break;
            }
        }
        if let Some(e) = end {
            let part = &piece[s..e];
            let long = part.chars().count() >= MIN_PIECE && !part.trim().is_empty();
            if long && best.is_none_or(|(bs, be)| e - s > be - bs) {
                best = Some((s, e));
            }
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::SecretString;

    fn written(m: &mut Masker, flush: Flush, secrets: &Secrets) -> String {
        m.take(flush, secrets)
            .into_iter()
            .filter_map(|(_, i)| match i {
                Item::Output(t) => Some(t),
                Item::Extra(_) => None,
            })
            .collect()
    }

    fn vault(value: &str) -> Secrets {
        let v = SecretString::from(value.to_string());
        Secrets::from_values([("db/root", &v)])
    }

    #[test]
    fn a_value_split_across_chunks_is_masked() {
        let secrets = vault("Tr0ub4dor&3xyz");
        let mut m = Masker::default();
        let now = Instant::now();
        m.push(now, b"the password is Tr0ub4");
        let mut out = written(&mut m, Flush::Hold, &secrets);
        m.push(now, b"dor&3xyz and more\r\n");
        out += &written(&mut m, Flush::All, &secrets);
        assert!(!out.contains("Tr0ub4"), "{out}");
        assert!(out.contains("{{vault:db/root}}"), "{out}");
    }

    #[test]
    fn a_value_drawn_by_cursor_movement_is_masked() {
        let secrets = vault("hunter2hunter2");
        let mut m = Masker::default();
        // "hunter2" then the cursor back to column 1 and the first half written over a blank.
        m.push(
            Instant::now(),
            b"      2hunter2\r\x1b[1Ghunter\x1b[0m\x1b[31m\r\n",
        );
        let out = written(&mut m, Flush::All, &secrets);
        assert!(!out.contains("hunter"), "{out:?}");
        assert!(!out.contains("2hunter2"), "{out:?}");
    }

    #[test]
    fn a_quiet_flush_keeps_the_unfinished_line() {
        let secrets = vault("abcdefgh12345");
        let mut m = Masker::default();
        m.push(Instant::now(), b"line one\r\nsecret: abcdef");
        let out = written(&mut m, Flush::Quiet, &secrets);
        assert_eq!(out, "line one\r\n");
        m.push(Instant::now(), b"gh12345\r\n");
        let out = written(&mut m, Flush::All, &secrets);
        assert!(
            out.contains("{{vault:db/root}}") && !out.contains("abcdef"),
            "{out}"
        );
    }

    #[test]
    fn escapes_are_kept_and_never_cut() {
        let mut m = Masker::default();
        let mut data = vec![b'x'; HOLD + 10];
        data.extend_from_slice(b"\x1b[38;5;196mred\x1b[0m");
        let cut_at = data.len() - HOLD;
        data[cut_at - 2] = 0x1b;
        data[cut_at - 1] = b'[';
        data[cut_at] = b'm';
        m.push(Instant::now(), &data);
        let mut out = written(&mut m, Flush::Hold, &Secrets::new());
        assert!(!out.ends_with("\x1b["), "a cut inside an escape");
        out += &written(&mut m, Flush::All, &Secrets::new());
        assert_eq!(out.as_bytes(), &data[..]);
    }

    proptest::proptest! {
        /// Each byte of the text maps back to the same byte of the raw stream, escapes,
        /// control characters and broken UTF-8 in between.
        #[test]
        fn the_text_maps_back_to_its_raw_bytes(
            parts in proptest::collection::vec((0..8usize, "[a-z0-9 é€]{0,12}"), 0..30)
        ) {
            let mut raw = Vec::new();
            for (k, text) in parts {
                raw.extend_from_slice(text.as_bytes());
                let between: &[u8] = match k {
                    0 => b"\x1b[31m",
                    1 => b"\r\n",
                    2 => b"\x08",
                    3 => b"\xff",
                    4 => b"\x1b]0;title\x07",
                    5 => "\u{1F600}".as_bytes(),
                    6 => b"\x1b[2;5H",
                    _ => b"",
                };
                raw.extend_from_slice(between);
            }
            let mut scan = Scan::default();
            scan.read(&raw);
            for (t, b) in scan.text.bytes().enumerate() {
                proptest::prop_assert_eq!(raw[scan.raw_at(t)], b, "text byte {}", t);
            }
        }
    }

    #[test]
    fn a_hold_pass_waits_for_a_full_window() {
        let secrets = vault("Tr0ub4dor&3xyz");
        let mut m = Masker::default();
        let line = b"ordinary output, nothing to see here\r\n";
        while m.held() + line.len() < PASS {
            m.push(Instant::now(), line);
        }
        assert_eq!(written(&mut m, Flush::Hold, &secrets), "");
        m.push(Instant::now(), b"Tr0ub4dor&3xyz\r\n");
        m.push(Instant::now(), line);
        let out = written(&mut m, Flush::Hold, &secrets);
        // What is held: the last HOLD bytes and the start of the line they split.
        assert!(
            !out.is_empty() && m.held() <= HOLD + line.len(),
            "{}",
            m.held()
        );
        let out = out + &written(&mut m, Flush::All, &secrets);
        assert!(out.contains("{{vault:db/root}}") && !out.contains("Tr0ub4"));
    }

    #[test]
    fn extras_keep_their_place() {
        let mut m = Masker::default();
        let t = Instant::now();
        m.push(t, b"a\r\n");
        m.extra(t, Extra::Resize(100, 30));
        m.push(t, b"b\r\n");
        let items: Vec<Item> = m
            .take(Flush::All, &Secrets::new())
            .into_iter()
            .map(|(_, i)| i)
            .collect();
        assert_eq!(
            items,
            vec![
                Item::Output("a\r\n".into()),
                Item::Extra(Extra::Resize(100, 30)),
                Item::Output("b\r\n".into())
            ]
        );
    }
}
