//! Scrollback in compact form, through the pane's public API: the setting still counts lines,
//! old lines cost their text (not the window width), and copy mode, search, selection, wide
//! characters, wrapped lines, colours and resizing work across the line between rows kept in
//! the emulator and rows moved to the compact store.
#![allow(clippy::unwrap_used)]

mod terminal_support;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use lumen::panes::terminal::{KeyOutcome, TerminalPane};
use lumen::ui::theme::Theme;
use ratatui::style::{Color, Modifier};
use terminal_support::{buffer_text, feed, pane, render};

fn keys(pane: &mut TerminalPane, text: &str) -> KeyOutcome {
    let mut last = KeyOutcome::Ignored;
    for c in text.chars() {
        let code = match c {
            '\n' => KeyCode::Enter,
            c => KeyCode::Char(c),
        };
        last = pane.handle_key(&KeyEvent::new(code, KeyModifiers::NONE));
    }
    last
}

/// `count` numbered lines, each with a word found nowhere else (`w0042x`).
fn numbered(count: usize) -> String {
    (0..count)
        .map(|i| format!("line {i:04} w{i:04}x\r\n"))
        .collect()
}

/// The copy-mode status line (the last row unless the copy cursor is there).
fn status(pane: &TerminalPane, cols: u16, rows: u16) -> String {
    let text = buffer_text(&render(pane, cols, rows));
    text.lines()
        .find(|l| l.starts_with("[copy]") || l.starts_with('/') || l.starts_with('?'))
        .unwrap_or_default()
        .to_string()
}

#[test]
fn setting_counts_lines_and_old_lines_cost_their_text() {
    let text: String = (0..11_000)
        .map(|i| {
            format!("{i:05} the quick brown fox jumps over the lazy dog; pack my box with five dozen liquor\r\n")
        })
        .collect();
    let mut bytes = Vec::new();
    for cols in [100, 400] {
        let (mut pane, ends) = pane(cols, 50, 10_000);
        feed(&mut pane, &ends, text.as_bytes());
        let stats = pane.history_stats();
        assert_eq!(
            stats.lines, 10_000,
            "`scrollback = 10000` keeps 10000 lines"
        );
        assert_eq!(pane.history_len(), 10_000);
        assert!(
            stats.cold_lines >= 9_900,
            "old lines are kept compact: {stats:?}"
        );
        let per_line = stats.cold_bytes / stats.cold_lines;
        // A row in the emulator costs 24 bytes per column (2400 at 100 columns).
        assert!(per_line < 64, "{per_line} bytes per line at {cols} columns");
        bytes.push(stats.cold_bytes);
    }
    assert_eq!(
        bytes[0], bytes[1],
        "the same text costs the same at 100 and 400 columns"
    );
}

#[test]
fn scrolling_reaches_the_oldest_kept_line() {
    let (mut pane, ends) = pane(40, 10, 500);
    feed(&mut pane, &ends, numbered(800).as_bytes());
    assert!(pane.history_stats().cold_lines > 400);
    pane.scroll(100_000);
    assert_eq!(pane.scroll_offset(), 500);
    // 800 lines and the empty last one: 10 on screen, 500 in history, from line 291 on.
    assert!(
        pane.screen_text()
            .starts_with("line 0291 w0291x\nline 0292"),
        "{}",
        pane.screen_text()
    );
    let first = buffer_text(&render(&pane, 40, 10));
    assert!(
        first.lines().next().unwrap().ends_with("[500/500]"),
        "{first}"
    );
    pane.scroll(-100_000);
    assert_eq!(pane.scroll_offset(), 0);
    assert!(
        pane.history_stats().cold_lines > 400,
        "back at the bottom, old lines go compact again"
    );
}

#[test]
fn copy_mode_search_finds_the_oldest_line_and_one_just_moved_to_the_store() {
    let (mut pane, ends) = pane(60, 10, 500);
    feed(&mut pane, &ends, numbered(800).as_bytes());
    let stats = pane.history_stats();
    let hot = stats.lines - stats.cold_lines;
    assert!(stats.cold_lines > 0 && hot < 100, "{stats:?}");
    // History holds lines 291..=790 (see above); the newest cold one is just above the hot ones.
    let just_moved = 291 + stats.cold_lines - 1;

    // Backwards from the bottom to the oldest kept line.
    pane.enter_copy_mode();
    keys(&mut pane, "?w0291x\n");
    assert!(pane.screen_text().contains("line 0291 w0291x"));
    assert!(!status(&pane, 60, 10).contains("no match"));
    keys(&mut pane, "q");

    // Backwards to the newest line of the compact store, again.
    pane.enter_copy_mode();
    keys(&mut pane, &format!("?w{just_moved:04}x\n"));
    assert!(
        pane.screen_text()
            .contains(&format!("line {just_moved:04} w{just_moved:04}x")),
        "{}",
        pane.screen_text()
    );
    // Forwards from the top, wrapping past the end, with a regex.
    keys(&mut pane, "g");
    keys(&mut pane, &format!("/w{just_moved:04}[x]\n"));
    assert!(
        pane.screen_text()
            .contains(&format!("line {just_moved:04} w{just_moved:04}x"))
    );
    assert!(
        !status(&pane, 60, 10).contains("no match"),
        "{}",
        status(&pane, 60, 10)
    );
    // A word that is nowhere says so.
    keys(&mut pane, "/nowhere\n");
    assert!(status(&pane, 60, 10).contains("no match for 'nowhere'"));
    keys(&mut pane, "q");
    assert!(pane.history_stats().cold_lines > 0);
}

#[test]
fn selection_across_the_store_boundary_copies_the_right_text() {
    let (mut pane, ends) = pane(60, 10, 500);
    feed(&mut pane, &ends, numbered(800).as_bytes());
    let stats = pane.history_stats();
    let just_moved = 291 + stats.cold_lines - 1;
    pane.enter_copy_mode();
    keys(&mut pane, &format!("?w{just_moved:04}x\n"));
    // From the start of the newest cold line to the end of the second hot line after it.
    keys(&mut pane, "0vjj$");
    let copied = keys(&mut pane, "y");
    let want: Vec<String> = (just_moved..just_moved + 3)
        .map(|i| format!("line {i:04} w{i:04}x"))
        .collect();
    assert_eq!(copied, KeyOutcome::Copied(want.join("\n")));
}

#[test]
fn wide_characters_and_wrapped_lines_across_the_boundary() {
    // 3 + 24 cells: each record wraps onto a second row of a 20-column pane, and the wide
    // character that does not fit in the last column moves to the next row whole.
    let record = |i: usize| format!("{i:02}:日本語のテキスト中文字符");
    let text: String = (0..60).map(|i| format!("{}\r\n", record(i))).collect();
    let (mut pane, ends) = pane(20, 5, 100);
    feed(&mut pane, &ends, text.as_bytes());
    let stats = pane.history_stats();
    assert!(stats.cold_lines >= 40, "{stats:?}");
    // 121 rows (the last one empty), 105 kept: records 8..=59, two rows each.
    pane.enter_copy_mode();
    keys(&mut pane, "g");
    let top = pane.screen_text();
    assert!(
        top.starts_with("08:日本語のテキスト\n中文字符\n09:"),
        "{top}"
    );
    // From the newest record in the store to the end of the next one, kept in the emulator:
    // the rows join into lines again.
    let newest_cold = 8 + stats.cold_lines / 2 - 1;
    keys(&mut pane, &format!("?^{newest_cold:02}:\n"));
    keys(&mut pane, "0vjjj$");
    let copied = keys(&mut pane, "y");
    assert_eq!(
        copied,
        KeyOutcome::Copied(format!(
            "{}\n{}",
            record(newest_cold),
            record(newest_cold + 1)
        ))
    );
    // Drawn from the store, the wide characters take two cells each.
    pane.scroll(100_000);
    let buf = render(&pane, 20, 5);
    assert_eq!(buf[(3, 0)].symbol(), "日");
    assert_eq!(buf[(4, 0)].symbol(), " ");
    assert_eq!(buf[(5, 0)].symbol(), "本");
}

#[test]
fn colours_and_attributes_of_old_lines_come_back() {
    let line =
        "\x1b[31mred\x1b[0m plain \x1b[1;4;38;2;10;20;30mrgb\x1b[0m \x1b[7;48;5;202mrev\x1b[0m\r\n";
    let (mut pane, ends) = pane(30, 4, 200);
    feed(&mut pane, &ends, line.repeat(150).as_bytes());
    assert!(pane.history_stats().cold_lines > 100);
    pane.scroll(100_000);
    let buf = render(&pane, 30, 4);
    let palette = Theme::builtin().palette;
    // Row 0 also shows the scroll position; row 1 is the next oldest line.
    assert_eq!(buf_text_row(&buf, 1), "red plain rgb rev");
    assert_eq!(buf[(0, 1)].fg, palette.ansi[1]);
    assert_eq!(buf[(4, 1)].fg, palette.foreground);
    assert_eq!(buf[(10, 1)].fg, Color::Rgb(10, 20, 30));
    assert!(
        buf[(10, 1)]
            .modifier
            .contains(Modifier::BOLD | Modifier::UNDERLINED)
    );
    assert!(buf[(14, 1)].modifier.contains(Modifier::REVERSED));
    assert_eq!(buf[(14, 1)].bg, Color::Indexed(202));
}

fn buf_text_row(buf: &ratatui::buffer::Buffer, row: usize) -> String {
    buffer_text(buf)
        .lines()
        .nth(row)
        .unwrap_or_default()
        .to_string()
}

#[test]
fn resize_after_lines_went_cold_rewraps_them() {
    let record = |i: usize| format!("{i:03} abcdefghijklmnopqrstuvwxyz");
    let text: String = (0..100).map(|i| format!("{}\r\n", record(i))).collect();
    let (mut pane, ends) = pane(40, 5, 300);
    feed(&mut pane, &ends, text.as_bytes());
    assert!(pane.history_stats().cold_lines > 80);
    // Narrower: every 30-character record takes two rows of 20.
    pane.resize(20, 5);
    assert_eq!(
        pane.history_len(),
        196,
        "100 records of 2 rows, 4 on screen"
    );
    pane.enter_copy_mode();
    keys(&mut pane, "g");
    assert!(
        pane.screen_text()
            .starts_with("000 abcdefghijklmnop\nqrstuvwxyz\n001 abcdefghijklmnop"),
        "{}",
        pane.screen_text()
    );
    keys(&mut pane, "vj$");
    assert_eq!(keys(&mut pane, "y"), KeyOutcome::Copied(record(0)));
    // Wider again: the rows join back into one line per record.
    pane.resize(40, 5);
    pane.enter_copy_mode();
    keys(&mut pane, "g");
    assert!(
        pane.screen_text()
            .starts_with(&format!("{}\n{}", record(0), record(1))),
        "{}",
        pane.screen_text()
    );
    keys(&mut pane, "q");
    assert_eq!(pane.history_len(), 96);
}

#[test]
fn copy_mode_brings_lines_back_as_it_reaches_them() {
    let (mut pane, ends) = pane(40, 10, 500);
    feed(&mut pane, &ends, numbered(800).as_bytes());
    let before = pane.history_stats();
    // Entering copy mode moves nothing; a page up brings back about a page.
    pane.enter_copy_mode();
    assert_eq!(pane.history_stats(), before);
    pane.handle_key(&KeyEvent::new(KeyCode::PageUp, KeyModifiers::NONE));
    let paged = pane.history_stats();
    assert!(paged.cold_lines < before.cold_lines, "{paged:?}");
    assert!(paged.cold_lines + 100 > before.cold_lines, "{paged:?}");
    // The top of the history brings back all of it, with the line count unchanged.
    keys(&mut pane, "g");
    assert_eq!(pane.history_stats().cold_lines, 0);
    assert_eq!(pane.history_len(), before.lines);
    assert!(
        status(&pane, 40, 10).contains("line 1/510"),
        "{}",
        status(&pane, 40, 10)
    );
    // Leaving copy mode stores them again.
    keys(&mut pane, "q");
    let after = pane.history_stats();
    assert_eq!(after.lines, before.lines);
    assert!(
        after.cold_lines >= before.cold_lines,
        "{before:?} {after:?}"
    );
}

/// What a shell prints for `seq 1 N` at its prompt: the prompt, the echoed command, the
/// numbers (the PTY turns each `\n` into `\r\n`).
fn seq_at_prompt(n: usize) -> String {
    let mut out = format!("root@vm:~# seq 1 {n}\r\n");
    for i in 1..=n {
        out.push_str(&format!("{i}\r\n"));
    }
    out
}

const TABS: &str = "root@vm:~# printf \"A\\tB\\tC\\n\"\r\nA\tB\tC\r\n";

/// Issue 17: after the compact store took rows, a line with tabs showed characters of an
/// older row in the cells the tabs skipped (`A27     B       C`), on screen and in copy mode.
/// The emulator keeps a tab in the cell it started on; drawn as a tab, the outer terminal
/// moved its cursor over cells without writing them.
#[test]
fn tabs_after_the_store_took_rows_show_no_stale_text() {
    let (mut pane, ends) = pane(80, 24, 10_000);
    let waker = lumen::stream::Waker::new();
    let (stream, bare_ends) = lumen::stream::channel(&waker);
    let mut bare = TerminalPane::new_without_compact_history(
        stream,
        lumen::panes::terminal::TerminalConfig {
            cols: 80,
            rows: 24,
            scrollback: 10_000,
        },
    );
    let bytes = format!(
        "{}{TABS}{}{TABS}root@vm:~# ",
        seq_at_prompt(12_000),
        seq_at_prompt(3_000)
    );
    feed(&mut pane, &ends, bytes.as_bytes());
    feed(&mut bare, &bare_ends, bytes.as_bytes());
    assert!(pane.history_stats().cold_lines > 9_000);
    assert_eq!(pane.screen_text(), bare.screen_text());

    let want = "A       B       C";
    for p in [&pane, &bare] {
        let buf = render(p, 80, 24);
        assert_no_controls(&buf);
        let screen = buffer_text(&buf);
        let lines: Vec<&str> = screen.lines().collect();
        assert_eq!(lines[21], "root@vm:~# printf \"A\\tB\\tC\\n\"", "{screen}");
        assert_eq!(lines[22], want, "{screen}");
    }

    // In copy mode the line reads the same, and copying it gives the tabs back, as in the
    // bare emulator.
    for p in [&mut pane, &mut bare] {
        p.enter_copy_mode();
        keys(p, "k0");
        let buf = render(p, 80, 24);
        assert_no_controls(&buf);
        assert_eq!(buf_text_row(&buf, 22), want);
        keys(p, "v$");
    }
    let copied = keys(&mut pane, "y");
    assert_eq!(copied, keys(&mut bare, "y"));
    assert_eq!(copied, KeyOutcome::Copied("A\tB\tC".into()));
}

/// No cell of `buf` holds a control character (ratatui would send it to the terminal raw).
fn assert_no_controls(buf: &ratatui::buffer::Buffer) {
    for (i, cell) in buf.content().iter().enumerate() {
        assert!(
            !cell.symbol().chars().any(char::is_control),
            "cell {i} holds {:?}",
            cell.symbol()
        );
    }
}
