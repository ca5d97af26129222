//! Recorded PTY streams (tests/fixtures/*.bin, 80x24) replayed into a terminal pane and the
//! rendered screen snapshotted.
#![allow(clippy::unwrap_used)]

mod terminal_support;

use lumen::ui::theme::Theme;
use ratatui::style::{Color, Modifier};
use terminal_support::{buffer_text, feed, fixture, pane, render};

const COLS: u16 = 80;
const ROWS: u16 = 24;

/// Replay a fixture, stopping before the first occurrence of `until` when given.
fn replay(name: &str, until: Option<&[u8]>) -> lumen::panes::terminal::TerminalPane {
    let bytes = fixture(name);
    let end = until
        .and_then(|pat| bytes.windows(pat.len()).position(|w| w == pat))
        .unwrap_or(bytes.len());
    let (mut pane, ends) = pane(COLS, ROWS, 1000);
    feed(&mut pane, &ends, &bytes[..end]);
    pane
}

#[test]
fn ls_color_screen_and_styles() {
    let pane = replay("ls_color.bin", None);
    let buf = render(&pane, COLS, ROWS);
    insta::assert_snapshot!("ls_color", buffer_text(&buf));
    assert_eq!(buffer_text(&buf), pane.screen_text());
    // Executables are bold green in the default LS_COLORS; find one and check its style.
    let palette = Theme::builtin().palette;
    let (x, y) = (0..ROWS)
        .flat_map(|y| (0..COLS).map(move |x| (x, y)))
        .find(|&(x, y)| {
            buf[(x, y)].modifier.contains(Modifier::BOLD) && buf[(x, y)].symbol() != " "
        })
        .expect("a bold cell");
    let cell = &buf[(x, y)];
    assert!(
        [palette.ansi[2], palette.ansi[4], palette.ansi[6]].contains(&cell.fg),
        "bold name drawn in {:?}",
        cell.fg
    );
}

#[test]
fn vim_session_on_alternate_screen() {
    // While vim runs: its buffer with line numbers and the edit, on the alternate screen.
    let pane = replay("vim.bin", Some(b":q!"));
    assert!(pane.alt_screen());
    let buf = render(&pane, COLS, ROWS);
    let text = buffer_text(&buf);
    insta::assert_snapshot!("vim_running", text);
    assert!(text.contains("// edited in vim"), "{text}");
    assert!(!text.contains("before vim"));
    // Line numbers use colour 130 (brown) in vim's default scheme: 256 colours pass through.
    let numbered = (0..COLS).find(|&x| buf[(x, 0)].symbol() == "1").unwrap();
    assert_eq!(buf[(numbered, 0)].fg, Color::Indexed(130));

    // After vim exits its screen is gone and the shell's screen returns.
    let pane = replay("vim.bin", None);
    assert!(!pane.alt_screen());
    let text = pane.screen_text();
    insta::assert_snapshot!("vim_after", text);
    assert!(text.starts_with("before vim\n"), "{text}");
    assert!(text.contains("after vim"));
    assert!(!text.contains("edited in vim"));
}

#[test]
fn htop_screen() {
    let pane = replay("htop.bin", Some(b"\r\x1b[J\x1b[?12l"));
    assert!(pane.alt_screen());
    let buf = render(&pane, COLS, ROWS);
    let text = buffer_text(&buf);
    insta::assert_snapshot!("htop", text);
    // The function-key bar at the bottom: "F1" with a coloured background.
    let last = ROWS - 1;
    assert!(text.lines().last().unwrap().starts_with("F1"), "{text}");
    assert_ne!(
        buf[(2, last)].bg,
        buf[(0, last)].bg,
        "label and key differ in colour"
    );
    assert!(pane.wants_mouse(), "htop enables mouse reporting");
}

#[test]
fn cjk_and_emoji_take_two_cells() {
    let pane = replay("cjk_emoji.bin", None);
    let buf = render(&pane, COLS, ROWS);
    let text = buffer_text(&buf);
    insta::assert_snapshot!("cjk_emoji", text);
    assert_eq!(text, pane.screen_text());
    // "CJK: " is 5 cells, then 日 takes cells 5 and 6, 本 starts at 7.
    assert_eq!(buf[(5, 0)].symbol(), "日");
    assert_eq!(buf[(6, 0)].symbol(), " ");
    assert_eq!(buf[(7, 0)].symbol(), "本");
    // The combining accent stays with its letter in one cell.
    let row = text
        .lines()
        .position(|l| l.starts_with("Combining"))
        .unwrap() as u16;
    assert_eq!(buf[(11, row)].symbol(), "e\u{301}");
    // A wide character that does not fit in the last column wraps to the next line whole.
    assert!(text.contains("01234\n日本"), "{text}");
}
