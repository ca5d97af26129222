//! Terminal bytes → the text the operator saw: escape sequences (CSI, OSC, DCS, APC, PM, SOS)
//! removed, text under SGR 8 "conceal" dropped, carriage returns and backspaces applied to the
//! line (so text overwritten on screen is gone), bidi controls and invisible characters removed.

const ESC: u8 = 0x1b;
const BEL: u8 = 0x07;

/// Characters that change how text reads without being visible: bidi overrides and isolates,
/// zero-width characters, invisible fillers, tag characters and variation selectors (both can
/// smuggle text past a reader).
pub fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{202A}'..='\u{202E}'
            | '\u{2066}'..='\u{2069}'
            | '\u{200B}'..='\u{200F}'
            | '\u{2060}'..='\u{2064}'
            | '\u{061C}'
            | '\u{FEFF}'
            | '\u{180E}'
            | '\u{00AD}'
            | '\u{034F}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{3164}'
            | '\u{FFA0}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{E0000}'..='\u{E007F}'
            | '\u{E0100}'..='\u{E01EF}'
    )
}

/// The output so far. The current line is written straight into `out` until a `\r`, a
/// backspace or a cursor move makes later characters overwrite earlier ones; then it becomes
/// a grid of cells until the line ends.
struct Line {
    out: String,
    /// Where the current line starts in `out`.
    start: usize,
    /// Set once the cursor left the end of the line: characters and the cursor column.
    grid: Option<(Vec<char>, usize)>,
}

impl Line {
    fn push(&mut self, c: char) {
        match &mut self.grid {
            None => self.out.push(c),
            Some((cells, col)) => {
                if *col < cells.len() {
                    cells[*col] = c;
                } else {
                    cells.resize(*col, ' ');
                    cells.push(c);
                }
                *col += 1;
            }
        }
    }

    fn push_str(&mut self, s: &str) {
        match self.grid {
            None => self.out.push_str(s),
            Some(_) => s.chars().for_each(|c| self.push(c)),
        }
    }

    fn grid(&mut self) -> (&mut Vec<char>, &mut usize) {
        let (out, start) = (&mut self.out, self.start);
        let (cells, col) = self.grid.get_or_insert_with(|| {
            let cells: Vec<char> = out[start..].chars().collect();
            out.truncate(start);
            let len = cells.len();
            (cells, len)
        });
        (cells, col)
    }

    fn empty(&self) -> bool {
        self.grid.is_none() && self.out.len() == self.start
    }

    fn carriage_return(&mut self) {
        if !self.empty() {
            *self.grid().1 = 0;
        }
    }

    fn left(&mut self, n: usize) {
        let (_, col) = self.grid();
        *col = col.saturating_sub(n);
    }

    fn right(&mut self, n: usize) {
        let (_, col) = self.grid();
        *col += n;
    }

    fn column(&mut self, n: usize) {
        *self.grid().1 = n;
    }

    /// `ESC[K` (0: to the end, 1: to the start, 2: whole line).
    fn erase(&mut self, mode: u32) {
        if self.grid.is_none() && mode == 0 {
            return;
        }
        let (cells, col) = self.grid();
        match mode {
            0 => cells.truncate(*col),
            1 => cells.iter_mut().take(*col + 1).for_each(|c| *c = ' '),
            _ => cells.iter_mut().for_each(|c| *c = ' '),
        }
    }

    /// End the line (with `\n` when one was written).
    fn finish(&mut self, newline: bool) {
        if let Some((cells, _)) = self.grid.take() {
            self.out.extend(cells.iter());
        }
        if newline {
            self.out.push('\n');
        }
        self.start = self.out.len();
    }
}

/// The text a terminal would have shown for `input`.
pub fn visible_text(input: &[u8]) -> String {
    let text = String::from_utf8_lossy(input);
    let s = text.as_ref();
    let bytes = s.as_bytes();
    let mut line = Line {
        out: String::with_capacity(s.len()),
        start: 0,
        grid: None,
    };
    let mut concealed = false;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if (0x20..0x7f).contains(&b) {
            // Runs of plain ASCII, copied at once.
            let end = bytes[i..]
                .iter()
                .position(|&b| !(0x20..0x7f).contains(&b))
                .map_or(bytes.len(), |p| i + p);
            if !concealed {
                line.push_str(&s[i..end]);
            }
            i = end;
            continue;
        }
        match b {
            b'\n' => {
                line.finish(true);
                i += 1;
            }
            b'\r' => {
                line.carriage_return();
                i += 1;
            }
            b'\t' => {
                if !concealed {
                    line.push('\t');
                }
                i += 1;
            }
            0x08 => {
                line.left(1);
                i += 1;
            }
            ESC => i = escape(bytes, i + 1, &mut line, &mut concealed),
            0x00..=0x1f | 0x7f => i += 1,
            _ => {
                let c = s[i..].chars().next().unwrap_or('\u{fffd}');
                let len = c.len_utf8();
                match c {
                    '\u{9b}' => i = csi(bytes, i + len, &mut line, &mut concealed),
                    '\u{9d}' | '\u{90}' | '\u{9f}' | '\u{9e}' | '\u{98}' => {
                        i = skip_string(bytes, i + len)
                    }
                    '\u{80}'..='\u{9f}' => i += len,
                    c if is_invisible(c) => i += len,
                    c => {
                        if !concealed {
                            line.push(c);
                        }
                        i += len;
                    }
                }
            }
        }
    }
    line.finish(false);
    line.out
}

/// After an ESC at `i - 1`: returns the index after the sequence.
fn escape(bytes: &[u8], i: usize, line: &mut Line, concealed: &mut bool) -> usize {
    match bytes.get(i) {
        Some(b'[') => csi(bytes, i + 1, line, concealed),
        Some(b']' | b'P' | b'_' | b'^' | b'X') => skip_string(bytes, i + 1),
        Some(_) => {
            // ESC, intermediates (0x20-0x2f), one final byte (0x30-0x7e).
            let mut j = i;
            while bytes.get(j).is_some_and(|b| (0x20..0x30).contains(b)) {
                j += 1;
            }
            if bytes.get(j).is_some_and(|b| (0x30..0x7f).contains(b)) {
                j += 1;
            }
            j
        }
        None => i,
    }
}

/// A control sequence: parameters, intermediates, final byte. SGR updates concealment;
/// cursor moves along the line and erasing are applied.
fn csi(bytes: &[u8], start: usize, line: &mut Line, concealed: &mut bool) -> usize {
    let mut j = start;
    while bytes.get(j).is_some_and(|b| (0x20..0x40).contains(b)) {
        j += 1;
    }
    let Some(&fin) = bytes.get(j) else {
        return j;
    };
    if !(0x40..0x7f).contains(&fin) {
        return j; // malformed: drop what we have, keep the rest as text
    }
    let params = std::str::from_utf8(&bytes[start..j]).unwrap_or("");
    let private = params.starts_with(['?', '>', '<', '=']);
    let nums = || {
        params
            .split([';', ':'])
            .map(|p| p.parse::<u32>().unwrap_or(0))
    };
    let first = || nums().next().unwrap_or(0);
    let count = || first().max(1) as usize;
    if !private {
        match fin {
            b'm' => {
                for p in nums() {
                    match p {
                        8 => *concealed = true,
                        0 | 28 => *concealed = false,
                        _ => {}
                    }
                }
                if params.is_empty() {
                    *concealed = false;
                }
            }
            b'D' => line.left(count()),
            b'C' => line.right(count()),
            b'G' | b'`' => line.column(count() - 1),
            b'K' => line.erase(first()),
            _ => {}
        }
    }
    j + 1
}

/// OSC, DCS, APC, PM and SOS strings end at BEL, ESC \ or ST (U+009C).
fn skip_string(bytes: &[u8], mut j: usize) -> usize {
    while j < bytes.len() {
        match bytes[j] {
            BEL => return j + 1,
            ESC if bytes.get(j + 1) == Some(&b'\\') => return j + 2,
            0xc2 if bytes.get(j + 1) == Some(&0x9c) => return j + 2,
            _ => j += 1,
        }
    }
    j
}

#[cfg(test)]
mod tests {
    use super::visible_text;

    #[test]
    fn what_the_operator_saw() {
        let cases: &[(&[u8], &str)] = &[
            (b"\x1b[1;31mred\x1b[0m plain", "red plain"),
            (b"\x1b]0;title\x07after", "after"),
            (b"\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\", "link"),
            (b"\x1bPq#0;2;0;0;0\x1b\\text", "text"),
            (b"\x1b_apc payload\x1b\\ok", "ok"),
            (b"shown \x1b[8mhidden\x1b[28m shown", "shown  shown"),
            (b"a \x1b[8mx\x1b[0mb", "a b"),
            (
                b"password: hunter2\r                 \rdone",
                "done             ",
            ),
            (b"abc\x08\x08XY", "aXY"),
            (b"10%\r\x1b[K100%\n", "100%\n"),
            ("rm\u{202e}txt.exe\u{200b}".as_bytes(), "rmtxt.exe"),
            ("ig\u{e0041}nore".as_bytes(), "ignore"),
            (b"bad \xff utf8", "bad \u{fffd} utf8"),
            (b"\x1b(Bcharset\x1b=", "charset"),
            ("c1 \u{9b}31mcsi".as_bytes(), "c1 csi"),
            (b"bell\x07 nul\x00", "bell nul"),
            (b"tab\there\r\n", "tab\there\n"),
        ];
        for (input, want) in cases {
            assert_eq!(
                visible_text(input),
                *want,
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
    }
}
