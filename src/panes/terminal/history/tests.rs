//! The compact history against the bare emulator: any byte stream, resizes, scrolling and copy
//! mode leave the screen, every history row (text and attributes, cell for cell) and the
//! cursor exactly as a pane without the compact store has them.

use super::super::{KeyOutcome, TerminalConfig, TerminalPane};
use super::codec::{self, Encoder};
use crate::ui::theme::Theme;
use alacritty_terminal::grid::{Dimensions, Row};
use alacritty_terminal::index::{Column, Line};
use alacritty_terminal::term::cell::{Cell, Flags, Hyperlink};
use alacritty_terminal::vte::ansi::{Color, NamedColor, Rgb};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use proptest::prelude::*;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

/// Every row of the pane's primary history and screen, oldest first.
fn all_rows(pane: &TerminalPane) -> Vec<Vec<Cell>> {
    let mut rows = pane.history.rows(&pane.term);
    let grid = pane.term.grid();
    for line in 0..grid.screen_lines() as i32 {
        rows.push(grid[Line(line)][..].to_vec());
    }
    rows
}

/// The pane drawn into a buffer of its own size.
fn drawn(pane: &TerminalPane) -> Buffer {
    let grid = pane.term.grid();
    let area = Rect::new(0, 0, grid.columns() as u16, grid.screen_lines() as u16);
    let mut buf = Buffer::empty(area);
    thread_local! {
        static THEME: Theme = Theme::builtin();
    }
    THEME.with(|theme| pane.render(area, &mut buf, theme));
    buf
}

fn assert_same(compact: &TerminalPane, plain: &TerminalPane) -> Result<(), TestCaseError> {
    prop_assert_eq!(compact.history_len(), plain.history_len());
    prop_assert_eq!(compact.scroll_offset(), plain.scroll_offset());
    prop_assert_eq!(compact.screen_text(), plain.screen_text());
    prop_assert_eq!(compact.cursor(), plain.cursor());
    prop_assert_eq!(
        compact.term.grid().cursor.point,
        plain.term.grid().cursor.point
    );
    prop_assert_eq!(compact.alt_screen(), plain.alt_screen());
    prop_assert_eq!(compact.copy_status(), plain.copy_status());
    prop_assert_eq!(compact.in_copy_mode(), plain.in_copy_mode());
    if compact.in_copy_mode() {
        prop_assert_eq!(
            compact.term.vi_mode_cursor.point,
            plain.term.vi_mode_cursor.point
        );
    }
    prop_assert_eq!(compact.selected_text(), plain.selected_text());
    let (drawn, bare) = (drawn(compact), drawn(plain));
    prop_assert_eq!(&drawn, &bare, "drawn screens differ");
    for (i, cell) in drawn.content().iter().enumerate() {
        // Sent to the outer terminal, a control character (a tab) moves its cursor past cells
        // without writing them: what it showed there before would stay.
        prop_assert!(
            !cell.symbol().chars().any(char::is_control),
            "drawn cell {} holds {:?}",
            i,
            cell.symbol()
        );
    }
    let (a, b) = (all_rows(compact), all_rows(plain));
    prop_assert_eq!(a.len(), b.len(), "rows kept");
    for (i, (x, y)) in a.iter().zip(&b).enumerate() {
        prop_assert!(
            x == y,
            "row {} of {} differs:\n{:?}\n{:?}",
            i,
            a.len(),
            x,
            y
        );
    }
    Ok(())
}

#[derive(Debug, Clone)]
enum Step {
    Output(Vec<u8>),
    Resize(u16, u16),
    Scroll(i32),
    CopyMode(bool),
    /// Copy-mode keys (ignored outside copy mode, where they would go to the program).
    Keys(String),
    Compress,
}

/// Emoji as programs print them: with a variation selector (text or emoji presentation), joined
/// by ZWJ, a regional-indicator flag, a keycap.
const EMOJI: [&str; 6] = [
    "❤\u{FE0F}",
    "☃\u{FE0E}",
    "👩\u{200D}👩\u{200D}👧",
    "🇯🇵",
    "1\u{FE0F}\u{20E3}",
    "🏳\u{FE0F}\u{200D}🌈",
];

/// Pieces of terminal output that move rows into history, style them, wrap them, or clear them.
fn piece() -> impl Strategy<Value = Vec<u8>> {
    let text = prop_oneof![
        "[a-z ]{1,30}".prop_map(String::into_bytes),
        Just("日本語のテキスト".as_bytes().to_vec()),
        Just("🦀👍🏽".as_bytes().to_vec()),
        Just("e\u{301}a\u{308}".as_bytes().to_vec()),
        // Emoji with variation selectors, a ZWJ sequence, a flag, a wide character placed at
        // the last columns of a row (it wraps, leaving a leading spacer).
        prop::sample::select(&EMOJI[..]).prop_map(|e| e.as_bytes().to_vec()),
        (1u8..50).prop_map(|c| format!("\x1b[{c}G中").into_bytes()),
        "[A-Z0-9]{60,140}".prop_map(String::into_bytes),
    ];
    let sgr = prop_oneof![
        (30u8..38).prop_map(|n| format!("\x1b[{n}m")),
        (0u8..=255).prop_map(|n| format!("\x1b[38;5;{n}m")),
        (0u8..=255, 0u8..=255, 0u8..=255).prop_map(|(r, g, b)| format!("\x1b[48;2;{r};{g};{b}m")),
        prop::sample::select(vec![
            "\x1b[0m",
            "\x1b[1m",
            "\x1b[2m",
            "\x1b[3m",
            "\x1b[4m",
            "\x1b[7m",
            "\x1b[9m",
            "\x1b[4:3m",
            "\x1b[58;5;196m",
            "\x1b[8m",
            "\x1b[44m",
            "\x1b[49m",
        ])
        .prop_map(str::to_string),
    ]
    .prop_map(String::into_bytes);
    let control = prop_oneof![
        4 => Just(b"\r\n".to_vec()),
        1 => Just(b"\n".to_vec()),
        1 => Just(b"\r".to_vec()),
        1 => Just(b"\t".to_vec()),
        1 => Just(b"\x08".to_vec()),
        1 => (1u8..9).prop_map(|n| format!("\x1b[{n}S").into_bytes()),
        1 => (1u8..9).prop_map(|n| format!("\x1b[{n}T").into_bytes()),
        1 => (1u8..5).prop_map(|n| format!("\x1b[{n}M").into_bytes()),
        1 => (1u8..5).prop_map(|n| format!("\x1b[{n}L").into_bytes()),
        1 => (1u8..5).prop_map(|n| format!("\x1b[{n}P").into_bytes()),
        1 => (1u8..5).prop_map(|n| format!("\x1b[{n}@").into_bytes()),
        1 => (1u8..5).prop_map(|n| format!("\x1b[{n}X").into_bytes()),
        1 => (0u8..3).prop_map(|n| format!("\x1b[{n}K").into_bytes()),
        1 => (0u8..4).prop_map(|n| format!("\x1b[{n}J").into_bytes()),
        1 => (1u8..12, 1u8..40).prop_map(|(l, c)| format!("\x1b[{l};{c}H").into_bytes()),
        1 => (1u8..6, 4u8..12).prop_map(|(t, b)| format!("\x1b[{t};{b}r").into_bytes()),
        1 => prop::sample::select(vec![
            "\x1b[r", "\x1bD", "\x1bM", "\x1bE", "\x1b#8", "\x1b[?7l", "\x1b[?7h", "\x1b[4h",
            "\x1b[4l", "\x1b[?1049h", "\x1b[?1049l", "\x1bc", "\x1b]8;id=a;http://x\x1b\\",
            "\x1b]8;;\x1b\\", "\x1b[?6h", "\x1b[?6l",
        ])
        .prop_map(|s| s.as_bytes().to_vec()),
    ];
    prop_oneof![
        5 => text,
        2 => sgr,
        4 => control,
        2 => overwrite(),
        1 => prop::collection::vec(any::<u8>(), 1..8),
    ]
}

/// Lines of different lengths, as `seq` or a listing prints them, some in colour (a coloured
/// background changes how alacritty resets a row): enough of them and the store takes rows,
/// whose places in the emulator's row ring new rows then reuse.
fn lines(count: std::ops::Range<usize>) -> impl Strategy<Value = Vec<u8>> {
    (count, 1usize..60, any::<bool>()).prop_map(|(count, width, colour)| {
        let mut out = Vec::new();
        for i in 0..count {
            if colour && i % 7 == 3 {
                out.extend_from_slice(b"\x1b[44m");
            }
            let text = format!("{i}{}", "x".repeat((i * 13) % width));
            out.extend_from_slice(text.as_bytes());
            if colour && i % 7 == 3 {
                out.extend_from_slice(b"\x1b[K\x1b[0m");
            }
            out.extend_from_slice(b"\r\n");
        }
        out
    })
}

/// Output that leaves cells of a row unwritten or writes over part of one: tabs (forward and
/// back, with stops set and cleared), cursor jumps (CUP, CHA, HPA, CUF, CUB) then a write past
/// unwritten cells, a carriage return and a shorter text over a longer one, erases to the end
/// or start, inserted, deleted and erased characters.
fn overwrite() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => "[A-Z]{1,3}(\t[a-z]{0,3}){1,4}".prop_map(String::into_bytes),
        1 => (1u8..4).prop_map(|n| format!("\x1b[{n}I").into_bytes()),
        1 => (1u8..4).prop_map(|n| format!("\x1b[{n}Z").into_bytes()),
        1 => prop::sample::select(vec!["\x1bH", "\x1b[g", "\x1b[3g"])
            .prop_map(|s| s.as_bytes().to_vec()),
        2 => (1u8..30, 1u8..50, "[a-z]{1,4}")
            .prop_map(|(l, c, t)| format!("\x1b[{l};{c}H{t}").into_bytes()),
        2 => (1u8..50, "[a-z]{1,4}").prop_map(|(c, t)| format!("\x1b[{c}G{t}").into_bytes()),
        1 => (1u8..50, "[a-z]{1,4}").prop_map(|(c, t)| format!("\x1b[{c}`{t}").into_bytes()),
        2 => (1u8..40, "[a-z]{1,4}").prop_map(|(n, t)| format!("\x1b[{n}C{t}").into_bytes()),
        1 => (1u8..40, "[a-z]{1,4}").prop_map(|(n, t)| format!("\x1b[{n}D{t}").into_bytes()),
        2 => ("[0-9]{4,30}", "[a-z]{1,3}")
            .prop_map(|(long, short)| format!("{long}\r{short}").into_bytes()),
        1 => (0u8..3).prop_map(|n| format!("\x1b[{n}K").into_bytes()),
        1 => (1u8..6).prop_map(|n| format!("\x1b[{n}@").into_bytes()),
        1 => (1u8..6).prop_map(|n| format!("\x1b[{n}P").into_bytes()),
        1 => (1u8..6).prop_map(|n| format!("\x1b[{n}X").into_bytes()),
        3 => Just(b"\r\n".to_vec()),
        1 => Just(b"\x1b[44m".to_vec()),
        1 => Just(b"\x1b[0m".to_vec()),
    ]
}

fn reuse_step() -> impl Strategy<Value = Step> {
    prop_oneof![
        2 => lines(1..200).prop_map(Step::Output),
        6 => prop::collection::vec(overwrite(), 1..30).prop_map(|p| Step::Output(p.concat())),
        1 => (2u16..50, 1u16..14).prop_map(|(c, r)| Step::Resize(c, r)),
        1 => (-30i32..30).prop_map(Step::Scroll),
        1 => Just(Step::Compress),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        12 => prop::collection::vec(piece(), 1..40).prop_map(|p| Step::Output(p.concat())),
        2 => (2u16..50, 1u16..14).prop_map(|(c, r)| Step::Resize(c, r)),
        1 => (-30i32..30).prop_map(Step::Scroll),
        1 => any::<bool>().prop_map(Step::CopyMode),
        2 => prop::collection::vec(
            prop::sample::select(vec![
                "k", "j", "kkkkk", "g", "G", "v", "V", "y", "0", "$", "l", "w", "b", "e", "H",
                "L", "M", "?a\n", "/A\n", "?日\n", "n", "N", "\u{15}", "\u{2}", "\u{4}", "\u{6}",
            ]),
            1..6,
        )
        .prop_map(|keys| Step::Keys(keys.concat())),
        1 => Just(Step::Compress),
    ]
}

/// Apply `step`; what the keys returned, for comparing.
fn apply(pane: &mut TerminalPane, step: &Step) -> Vec<KeyOutcome> {
    let mut outcomes = Vec::new();
    match step {
        Step::Output(bytes) => {
            for chunk in bytes.chunks(97) {
                pane.feed(chunk);
            }
        }
        Step::Resize(cols, rows) => pane.resize(*cols, *rows),
        Step::Scroll(lines) => pane.scroll(*lines),
        Step::CopyMode(true) => pane.enter_copy_mode(),
        Step::CopyMode(false) => {
            if pane.in_copy_mode() {
                pane.leave_copy_mode();
            }
        }
        Step::Keys(keys) => {
            if pane.in_copy_mode() {
                for c in keys.chars() {
                    let key = match c {
                        '\n' => KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE),
                        // Control letters: ^B ^D ^F ^U.
                        c if (c as u32) < 0x20 => KeyEvent::new(
                            KeyCode::Char(char::from(b'a' + c as u8 - 1)),
                            KeyModifiers::CONTROL,
                        ),
                        c => KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE),
                    };
                    outcomes.push(pane.handle_key(&key));
                }
            }
        }
        Step::Compress => while pane.history.compress() {},
    }
    outcomes
}

proptest! {
    // A fixed seed: the same 300 cases on every run, so CI is deterministic (a divergence it
    // found on a random seed is the test after it).
    #![proptest_config(ProptestConfig {
        cases: 300,
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x6c75_6d65_6e00_0013),
        ..ProptestConfig::default()
    })]

    #[test]
    fn compact_history_matches_the_bare_emulator(
        (cols, rows, scrollback) in (2u16..50, 1u16..14, 1usize..120),
        steps in prop::collection::vec(step(), 1..30),
    ) {
        let cfg = TerminalConfig { cols, rows, scrollback };
        let mut compact = TerminalPane::detached(cfg);
        let mut plain = TerminalPane::plain(cfg);
        for step in &steps {
            let outcome = apply(&mut compact, step);
            prop_assert_eq!(outcome, apply(&mut plain, step));
            assert_same(&compact, &plain)?;
        }
        prop_assert_eq!(compact.emulator_errors(), 0);
    }

    #[test]
    fn rows_round_trip(cells in prop::collection::vec(cell(), 1..60)) {
        let row = row_of(&cells, cells.len());
        let mut bytes = Vec::new();
        Encoder::default().encode(&row, row.len(), &mut bytes);
        let (_, mut back) = one_record(&bytes);
        back.resize(cells.len(), Cell::default());
        prop_assert_eq!(back, cells);
    }
}

proptest! {
    // Fewer cases than above, each with many more rows through the store.
    #![proptest_config(ProptestConfig {
        cases: 100,
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x6c75_6d65_6e00_0017),
        ..ProptestConfig::default()
    })]

    /// Rows that come back from the row ring after the store took the ones there are cleared
    /// exactly as fresh rows: tabs, cursor jumps and partial overwrites over them leave what
    /// the bare emulator leaves (issue 17).
    #[test]
    fn reused_rows_match_the_bare_emulator(
        (cols, rows, scrollback) in (2u16..50, 1u16..14, 40usize..300),
        first in lines(60..200),
        steps in prop::collection::vec(reuse_step(), 1..20),
    ) {
        let cfg = TerminalConfig { cols, rows, scrollback };
        let mut compact = TerminalPane::detached(cfg);
        let mut plain = TerminalPane::plain(cfg);
        apply(&mut compact, &Step::Output(first.clone()));
        apply(&mut plain, &Step::Output(first));
        assert_same(&compact, &plain)?;
        prop_assert!(compact.history_stats().cold_lines > 0, "the store took rows");
        for step in &steps {
            apply(&mut compact, step);
            apply(&mut plain, step);
            assert_same(&compact, &plain)?;
        }
        prop_assert_eq!(compact.emulator_errors(), 0);
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 300,
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x6c75_6d65_6e00_0014),
        ..ProptestConfig::default()
    })]

    /// Rows as CJK and emoji output leaves them (wide characters with their spacers, styled or
    /// not, long narrow stretches between them, and pairs split by edits) round-trip, and one
    /// encoder reused row after row writes the bytes a fresh one writes.
    #[test]
    fn wide_rows_round_trip_through_a_reused_encoder(
        rows in prop::collection::vec(wide_row(), 1..6),
    ) {
        let mut reused = Encoder::default();
        for cells in rows {
            let row = row_of(&cells, cells.len());
            let (mut bytes, mut fresh) = (Vec::new(), Vec::new());
            reused.encode(&row, row.len(), &mut bytes);
            Encoder::default().encode(&row, row.len(), &mut fresh);
            prop_assert_eq!(&bytes, &fresh);
            let (_, mut back) = one_record(&bytes);
            back.resize(cells.len(), Cell::default());
            prop_assert_eq!(back, cells);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 300,
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x6c75_6d65_6e00_0020),
        ..ProptestConfig::default()
    })]

    /// Plain rows (default style, no flag) of every length from empty to full width, with
    /// blanks inside and after the text, narrow characters of one to four UTF-8 bytes, read
    /// up to any extent from the last written cell on; and the same rows wrapping (WRAPLINE on
    /// the last cell), which are not plain. Each round-trips, says what `info` reads back, and
    /// a reused encoder writes what a fresh one writes.
    #[test]
    fn plain_rows_round_trip_through_a_reused_encoder(
        rows in prop::collection::vec(plain_row(), 1..8),
    ) {
        let mut reused = Encoder::default();
        for (cells, width, wraps) in rows {
            let mut row = row_of(&cells, width);
            if wraps {
                row[Column(width - 1)].flags.insert(Flags::WRAPLINE);
            }
            let extent = super::occupied::extent(&row);
            let (mut bytes, mut fresh) = (Vec::new(), Vec::new());
            let info = reused.encode(&row, extent, &mut bytes);
            Encoder::default().encode(&row, extent, &mut fresh);
            prop_assert_eq!(&bytes, &fresh);
            let (record, mut back) = one_record(&bytes);
            prop_assert_eq!(codec::info(record), info);
            prop_assert_eq!(info.ends_line, !wraps);
            prop_assert_eq!(back.len(), info.cells);
            back.resize(width, Cell::default());
            prop_assert_eq!(&back[..], &row[..]);
        }
    }
}

/// A row `width` wide starting with `cells`.
fn row_of(cells: &[Cell], width: usize) -> Row<Cell> {
    let mut row = Row::<Cell>::new(width);
    for (i, cell) in cells.iter().enumerate() {
        row[Column(i)] = cell.clone();
    }
    row
}

/// The one record `bytes` holds (nothing after it), and the cells it decodes to.
fn one_record(bytes: &[u8]) -> (&[u8], Vec<Cell>) {
    let (record, rest) = codec::split_record(bytes).expect("a whole record");
    assert!(rest.is_empty(), "{} bytes after the record", rest.len());
    let mut cells = Vec::new();
    assert!(
        codec::decode(record, &mut cells).is_some(),
        "the record decodes"
    );
    (record, cells)
}

/// A plain row's cells (the written ones: fewer than the width, or all of it), its width,
/// and whether it wraps.
fn plain_row() -> impl Strategy<Value = (Vec<Cell>, usize, bool)> {
    let c = prop_oneof![
        4 => Just(' '),
        8 => prop::char::range('!', '~'),
        1 => prop::sample::select(vec!['é', 'ж', '€', '\u{10348}', '\t']),
    ];
    (1usize..300, any::<bool>(), prop::collection::vec(c, 0..300)).prop_map(
        |(width, wraps, text)| {
            let cells = text
                .into_iter()
                .take(width)
                .map(|c| Cell {
                    c,
                    ..Cell::default()
                })
                .collect();
            (cells, width, wraps)
        },
    )
}

/// A plain row costs its text and two bytes (the record's length and its tag), whatever the
/// width of the pane: the seq stream's rows of a few digits are most of their record.
#[test]
fn plain_rows_cost_their_text_and_two_bytes() {
    for (text, width) in [
        ("1234567", 200),
        ("", 80),
        ("a b", 3),
        ("é".repeat(60).as_str(), 60),
    ] {
        let mut row = Row::<Cell>::new(width);
        for (i, c) in text.chars().enumerate() {
            row[Column(i)].c = c;
        }
        let mut bytes = Vec::new();
        let info = Encoder::default().encode(&row, super::occupied::extent(&row), &mut bytes);
        assert_eq!(info.cells, text.chars().count());
        assert_eq!(bytes.len(), text.len() + 2, "{text:?} in {width} columns");
    }
}

/// Rows of a few characters through a full scrollback, with lines that end exactly at the
/// last column (a wrap pending when the next character comes), lines that wrap, and wide
/// characters that do not fit at the end of a row: the store keeps every row the bare
/// emulator keeps, as the room the parser needs is counted only where a row can start.
#[test]
fn short_rows_through_a_full_scrollback() {
    let cfg = TerminalConfig {
        cols: 9,
        rows: 4,
        scrollback: 300,
    };
    let mut compact = TerminalPane::detached(cfg);
    let mut plain = TerminalPane::plain(cfg);
    let mut out = String::new();
    for i in 1..3_000 {
        out.push_str(&i.to_string());
        match i % 11 {
            0 => out.push_str("abcde"),
            3 => out.push_str("\x1b[9G中"),
            5 => out.push_str(&"x".repeat(9 + i % 4)),
            7 => out.push_str("\x1b[32mgreen\x1b[0m"),
            _ => {}
        }
        out.push_str("\r\n");
    }
    for chunk in out.as_bytes().chunks(4096) {
        let step = Step::Output(chunk.to_vec());
        apply(&mut compact, &step);
        apply(&mut plain, &step);
    }
    assert_same(&compact, &plain).unwrap();
    assert!(
        compact.history_stats().cold_lines > 250,
        "the store took rows"
    );
}

/// A row of wide-character pairs, narrow text (some stretches longer than 128 cells, so
/// positions need more than one byte), styles, and the odd cell edits leave: a spacer alone,
/// a wide character without its spacer, a spacer with a character, a cell with both flags.
fn wide_row() -> impl Strategy<Value = Vec<Cell>> {
    fn styled(c: char, flags: Flags, bg: Option<Color>) -> Cell {
        let mut cell = Cell {
            c,
            flags,
            ..Cell::default()
        };
        if let Some(bg) = bg {
            cell.bg = bg;
        }
        cell
    }
    let segment = prop_oneof![
        8 => (prop::sample::select(vec!['日', '語', '한', '🦀', '👍']), prop::option::of(color()))
            .prop_map(|(c, bg)| vec![
                styled(c, Flags::WIDE_CHAR, bg),
                styled(' ', Flags::WIDE_CHAR_SPACER, bg),
            ]),
        4 => "[a-zé ]{1,8}".prop_map(|t| t.chars().map(|c| styled(c, Flags::empty(), None)).collect()),
        1 => (100usize..200).prop_map(|n| vec![styled('x', Flags::empty(), None); n]),
        1 => prop::sample::select(vec![
            styled(' ', Flags::WIDE_CHAR_SPACER, None),
            styled('日', Flags::WIDE_CHAR, None),
            styled('x', Flags::WIDE_CHAR_SPACER, None),
            styled(' ', Flags::WIDE_CHAR | Flags::WIDE_CHAR_SPACER, None),
            styled(' ', Flags::LEADING_WIDE_CHAR_SPACER, None),
            styled('a', Flags::WRAPLINE, None),
        ])
        .prop_map(|cell| vec![cell]),
        1 => cell().prop_map(|cell| vec![cell]),
    ];
    prop::collection::vec(segment, 1..60).prop_map(|segments| segments.concat())
}

fn color() -> impl Strategy<Value = Color> {
    prop_oneof![
        Just(Color::Named(NamedColor::Foreground)),
        Just(Color::Named(NamedColor::Background)),
        Just(Color::Named(NamedColor::DimRed)),
        Just(Color::Named(NamedColor::BrightCyan)),
        any::<u8>().prop_map(Color::Indexed),
        any::<(u8, u8, u8)>().prop_map(|(r, g, b)| Color::Spec(Rgb { r, g, b })),
    ]
}

/// Any cell, including the rare parts: combining marks, underline colour, hyperlinks and an
/// extra storage left empty.
fn cell() -> impl Strategy<Value = Cell> {
    let c = prop_oneof![Just(' '), Just('a'), Just('日'), Just('\t'), any::<char>()];
    let extra = prop_oneof![
        6 => Just(0u8),
        1 => Just(1),
        1 => Just(2),
        1 => Just(3),
        1 => Just(4),
    ];
    (c, color(), color(), any::<u16>(), extra, any::<bool>()).prop_map(
        |(c, fg, bg, flags, extra, auto_id)| {
            let mut cell = Cell {
                c,
                fg,
                bg,
                flags: Flags::from_bits_truncate(flags),
                extra: None,
            };
            match extra {
                1 => cell.push_zerowidth('\u{301}'),
                2 => cell.set_underline_color(Some(Color::Indexed(9))),
                3 => {
                    let id = (!auto_id).then_some("link");
                    cell.set_hyperlink(Some(Hyperlink::new(id, "https://example.com".into())));
                }
                4 => {
                    cell.push_zerowidth('\u{301}');
                    cell.clear_wide();
                    cell.c = c;
                }
                _ => {}
            }
            cell
        },
    )
}

#[test]
fn trailing_default_cells_are_not_stored() {
    let mut row = Row::<Cell>::new(400);
    for (i, c) in "hello".chars().enumerate() {
        row[Column(i)].c = c;
    }
    let mut bytes = Vec::new();
    let info = Encoder::default().encode(&row, 400, &mut bytes);
    assert_eq!(info.cells, 5);
    assert!(bytes.len() <= 10, "{} bytes for 5 letters", bytes.len());
    assert_eq!(
        super::occupied::extent(&row),
        5,
        "read from the row's own bound"
    );
}

/// Found by the property test: after a clear with a background colour set, a scroll region,
/// the alternate screen, a resize while on it and a full reset (RIS), rows padded on the
/// hidden screen kept the colour through alacritty's reset (differently with and without the
/// store). A reset leaves a blank screen in both.
#[test]
fn a_reset_after_a_coloured_clear_and_an_alt_screen_resize() {
    let cfg = TerminalConfig {
        cols: 3,
        rows: 3,
        scrollback: 2,
    };
    let mut compact = TerminalPane::detached(cfg);
    let mut plain = TerminalPane::plain(cfg);
    let steps = [
        Step::Output(b"\x1b[48;2;0;0;0m\x1b[3;4r".to_vec()),
        Step::Output(b"\x1b[2J\r\n\r\n".to_vec()),
        Step::Output(b"\x1b[2J".to_vec()),
        Step::Output(b"a\x1b[?1049h".to_vec()),
        Step::Resize(4, 5),
        Step::Output(b"\x1bc".to_vec()),
    ];
    for step in &steps {
        apply(&mut compact, step);
        apply(&mut plain, step);
    }
    assert_eq!(all_rows(&compact), all_rows(&plain));
    for row in all_rows(&compact) {
        assert!(row.iter().all(codec::is_default), "{row:?}");
    }
}

/// A wide character and the spacer after it cost the character's UTF-8 and one position: the
/// spacer is implied, neither its blank nor its position stored (issue 20).
#[test]
fn the_spacer_after_a_wide_character_is_not_stored() {
    let text = "日本語のテキスト中文字符한국어".repeat(4);
    let count = text.chars().count();
    let mut row = Row::<Cell>::new(count * 2);
    for (i, c) in text.chars().enumerate() {
        row[Column(2 * i)].c = c;
        row[Column(2 * i)].flags = Flags::WIDE_CHAR;
        row[Column(2 * i + 1)].flags = Flags::WIDE_CHAR_SPACER;
    }
    let mut bytes = Vec::new();
    let info = Encoder::default().encode(&row, row.len(), &mut bytes);
    assert_eq!(info.cells, count * 2);
    // The text, one byte per position, a few bytes of header.
    assert!(
        bytes.len() <= text.len() + count + 10,
        "{} bytes for {count} wide characters ({} bytes of text)",
        bytes.len(),
        text.len()
    );
    let (_, back) = one_record(&bytes);
    assert_eq!(back, row[..].to_vec());
}

/// Rows whose wide characters sit at the last column, wrap onto the next row, carry
/// variation selectors or ZWJ sequences, or lost their spacer to an erase: stored, rewrapped by
/// resizes, and copied in copy mode exactly as the bare emulator has them.
#[test]
fn wide_characters_at_row_ends_through_store_resize_and_copy_mode() {
    let cfg = TerminalConfig {
        cols: 7,
        rows: 4,
        scrollback: 500,
    };
    let mut compact = TerminalPane::detached(cfg);
    let mut plain = TerminalPane::plain(cfg);
    let mut out = String::new();
    for i in 0..60 {
        // An odd column count puts some wide characters on the last column.
        out.push_str(&"a".repeat(i % 4));
        out.push_str(["日本語のテ", "🦀👍🏽中", EMOJI[i % EMOJI.len()], "e\u{301}字"][i % 4]);
        if i % 5 == 0 {
            // Erase a spacer, or the wide character before it: the pair is split.
            out.push_str("\x1b[2D\x1b[X");
        }
        if i % 7 == 0 {
            // Delete a cell in the middle of a pair: the rest of the row shifts left.
            out.push_str("\x1b[3G\x1b[P");
        }
        out.push_str("\r\n");
    }
    // No selection after the resizes: a narrower width puts a spacer left alone by the erases
    // at the start of a row, and alacritty's copy of such a row underflows a column (a debug
    // panic in alacritty_terminal 0.26, with or without the store).
    let steps = [
        Step::Output(out.into_bytes()),
        Step::CopyMode(true),
        Step::Keys("g0vG$y".to_string()),
        Step::CopyMode(false),
        Step::Compress,
        Step::Resize(5, 4),
        Step::Resize(12, 4),
        Step::Resize(7, 4),
        Step::CopyMode(true),
        Step::Keys("g?字\nnN".to_string()),
        Step::CopyMode(false),
    ];
    for step in &steps {
        let outcome = apply(&mut compact, step);
        assert_eq!(outcome, apply(&mut plain, step), "{step:?}");
        assert_same(&compact, &plain).unwrap();
        if matches!(step, Step::Output(_)) {
            assert!(
                compact.history_stats().cold_lines > 50,
                "the store took rows"
            );
        }
    }
    let rows = all_rows(&compact);
    let flagged = |flag| {
        rows.iter()
            .flatten()
            .filter(|c| c.flags.contains(flag))
            .count()
    };
    assert!(flagged(Flags::WIDE_CHAR) > 50);
    assert!(
        flagged(Flags::LEADING_WIDE_CHAR_SPACER) > 0,
        "a wide character wrapped"
    );
}
