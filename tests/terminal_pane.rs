//! Terminal pane behaviour through its public API, on an in-memory stream: replies to queries,
//! title/bell/clipboard, scrollback, copy mode, keys, paste, mouse, closing.
#![allow(clippy::unwrap_used)]

mod terminal_support;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use lumen::panes::terminal::{KeyOutcome, TerminalConfig, TerminalPane};
use lumen::stream::{self, CloseReason, StreamCmd, StreamEvent, Waker};
use lumen::ui::theme::{Role, Theme};
use terminal_support::{buffer_text, feed, pane, render, written};

fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

fn keys(pane: &mut TerminalPane, text: &str) -> KeyOutcome {
    let mut last = KeyOutcome::Ignored;
    for c in text.chars() {
        let code = match c {
            '\n' => KeyCode::Enter,
            c => KeyCode::Char(c),
        };
        last = pane.handle_key(&key(code));
    }
    last
}

/// One character per cell saying which copy-mode role styled it.
fn highlight_map(buf: &ratatui::buffer::Buffer, theme: &Theme) -> String {
    let role_of = |style: ratatui::style::Style| {
        [
            (Role::CopyCursor, 'C'),
            (Role::SearchCurrent, '#'),
            (Role::SearchMatch, '+'),
            (Role::Selection, 's'),
        ]
        .into_iter()
        .find(|(role, _)| {
            let want = theme.style(*role);
            let styled = want.bg.is_some() || !want.add_modifier.is_empty();
            styled
                && want.bg.is_none_or(|bg| Some(bg) == style.bg)
                && want.fg.is_none_or(|fg| Some(fg) == style.fg)
                && style.add_modifier.contains(want.add_modifier)
        })
        .map_or('.', |(_, c)| c)
    };
    let area = buf.area;
    (area.top()..area.bottom())
        .map(|y| {
            (area.left()..area.right())
                .map(|x| role_of(buf[(x, y)].style()))
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The style of the current search hit, as drawn on `row`.
fn current_style(buf: &ratatui::buffer::Buffer, row: u16) -> ratatui::style::Style {
    buf[(4, row)].style()
}

fn mouse(kind: MouseEventKind, column: u16, row: u16) -> MouseEvent {
    MouseEvent {
        kind,
        column,
        row,
        modifiers: KeyModifiers::NONE,
    }
}

#[test]
fn cursor_position_report_is_written_back() {
    let (mut pane, mut ends) = pane(80, 24, 100);
    feed(&mut pane, &ends, b"abc\r\nde\x1b[6n");
    assert_eq!(written(&mut ends), b"\x1b[2;3R");
    assert_eq!(pane.cursor(), Some((2, 1)));
}

#[test]
fn device_attributes_are_answered() {
    let (mut pane, mut ends) = pane(80, 24, 100);
    feed(&mut pane, &ends, b"\x1b[c");
    let reply = written(&mut ends);
    assert!(reply.starts_with(b"\x1b[?"), "{reply:?}");
    assert!(reply.ends_with(b"c"), "{reply:?}");
    feed(&mut pane, &ends, b"\x1b[>c");
    let reply = written(&mut ends);
    assert!(reply.starts_with(b"\x1b[>"), "{reply:?}");
}

#[test]
fn title_bell_and_clipboard() {
    let (mut pane, ends) = pane(80, 24, 100);
    assert_eq!(pane.title(), None);
    feed(&mut pane, &ends, b"\x1b]0;first\x07");
    assert_eq!(pane.title(), Some("first"));
    feed(&mut pane, &ends, b"\x1b]2;second\x1b\\");
    assert_eq!(pane.title(), Some("second"));
    assert!(!pane.take_bell());
    feed(&mut pane, &ends, b"\x07");
    assert!(pane.take_bell());
    assert!(!pane.take_bell(), "the bell is reported once");
    // OSC 52 with base64 of "copied text".
    feed(&mut pane, &ends, b"\x1b]52;c;Y29waWVkIHRleHQ=\x07");
    assert_eq!(pane.take_clipboard().as_deref(), Some("copied text"));
    assert_eq!(pane.take_clipboard(), None);
    // A full reset forgets the title.
    feed(&mut pane, &ends, b"\x1bc");
    assert_eq!(pane.title(), None);
}

#[test]
fn activity_is_reported_once() {
    let (mut pane, ends) = pane(80, 24, 100);
    assert!(!pane.take_activity());
    feed(&mut pane, &ends, b"x");
    assert!(pane.take_activity());
    assert!(!pane.take_activity());
}

#[test]
fn scrollback_keeps_at_most_the_limit() {
    let (mut pane, ends) = pane(40, 10, 50);
    let text: String = (0..500).map(|i| format!("line {i}\r\n")).collect();
    feed(&mut pane, &ends, text.as_bytes());
    assert_eq!(pane.history_len(), 50);
    pane.scroll(10_000);
    assert_eq!(pane.scroll_offset(), 50);
    // The oldest kept line: 500 lines + the empty last one, 10 on screen, 50 in history.
    assert!(
        pane.screen_text().starts_with("line 441\n"),
        "{}",
        pane.screen_text()
    );
    assert_eq!(pane.cursor(), None, "no cursor while scrolled back");
    let first = buffer_text(&render(&pane, 40, 10));
    let first = first.lines().next().unwrap();
    assert!(first.ends_with("[50/50]"), "scroll position shown: {first}");
}

#[test]
fn pump_respects_the_budget() {
    let (mut pane, ends) = pane(80, 24, 100);
    for _ in 0..4 {
        ends.events
            .try_send(StreamEvent::Data(vec![b'x'; 1000]))
            .unwrap();
    }
    let first = pane.pump(1500);
    assert_eq!((first.bytes, first.more), (2000, true));
    let second = pane.pump(1500);
    assert_eq!((second.bytes, second.more), (2000, false));
}

#[test]
fn keys_are_encoded_and_snap_to_the_bottom() {
    let (mut pane, mut ends) = pane(20, 5, 100);
    feed(&mut pane, &ends, "a\r\n".repeat(30).as_bytes());
    pane.scroll(5);
    assert_eq!(pane.scroll_offset(), 5);
    assert_eq!(keys(&mut pane, "ls\n"), KeyOutcome::Consumed);
    assert_eq!(pane.scroll_offset(), 0);
    pane.handle_key(&KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
    pane.handle_key(&key(KeyCode::Up));
    // Application cursor mode switches arrows to SS3.
    feed(&mut pane, &ends, b"\x1b[?1h");
    pane.handle_key(&key(KeyCode::Up));
    assert_eq!(written(&mut ends), b"ls\r\x03\x1b[A\x1bOA");
}

#[test]
fn paste_is_bracketed_only_when_asked() {
    let (mut pane, mut ends) = pane(80, 24, 100);
    pane.paste("one\ntwo");
    assert_eq!(written(&mut ends), b"one\rtwo");
    feed(&mut pane, &ends, b"\x1b[?2004h");
    pane.paste("x\x1b[201~y");
    assert_eq!(written(&mut ends), b"\x1b[200~xy\x1b[201~");
}

#[test]
fn copy_mode_search_highlights_hits() {
    let (mut pane, ends) = pane(40, 8, 100);
    let text: String = (0..30)
        .map(|i| {
            if i % 4 == 1 {
                format!("{i:02} error: disk full\r\n")
            } else {
                format!("{i:02} ok\r\n")
            }
        })
        .collect();
    feed(&mut pane, &ends, text.as_bytes());
    pane.enter_copy_mode();
    assert!(pane.in_copy_mode());
    keys(&mut pane, "?error\n");
    let buf = render(&pane, 40, 8);
    let screen = buffer_text(&buf);
    insta::assert_snapshot!("copy_mode_search", screen);
    let theme = Theme::builtin();
    let current = theme.style(Role::SearchCurrent);
    let other = theme.style(Role::SearchMatch);
    // The hit the cursor jumped to (backwards from the bottom: line 29) and another one (25).
    let rows: Vec<&str> = screen.lines().collect();
    let row_of = |prefix: &str| rows.iter().position(|l| l.starts_with(prefix)).unwrap() as u16;
    let cur = row_of("29 error");
    let prev = row_of("25 error");
    assert_eq!(
        Some(buf[(4, cur)].bg),
        current.bg.or(Some(buf[(4, cur)].bg))
    );
    assert_eq!(
        Some(buf[(4, prev)].bg),
        other.bg.or(Some(buf[(4, prev)].bg))
    );
    assert_ne!(buf[(4, cur)].style(), buf[(4, prev)].style());
    assert_ne!(
        buf[(4, prev)].style(),
        buf[(1, prev)].style(),
        "hit differs from text"
    );
    // Where the highlights are: '#' current hit, '+' other hits, 'C' the copy cursor.
    insta::assert_snapshot!("copy_mode_search_highlights", highlight_map(&buf, &theme));
    let status = rows.iter().find(|l| l.contains("?error")).unwrap();
    assert!(status.contains("(2 on screen)"), "status line: {status}");
    // n goes on backwards, N forwards again: the current hit moves.
    keys(&mut pane, "n");
    let buf = render(&pane, 40, 8);
    assert_eq!(buf[(4, prev)].style(), current_style(&buf, prev));
    assert_ne!(buf[(4, cur)].style(), current_style(&buf, prev));
    keys(&mut pane, "nnN");
    let screen = buffer_text(&render(&pane, 40, 8));
    assert!(screen.contains("21 error"), "{screen}");
    assert_eq!(keys(&mut pane, "q"), KeyOutcome::LeftCopyMode);
    assert!(!pane.in_copy_mode());
    assert_eq!(pane.scroll_offset(), 0);
}

#[test]
fn copy_mode_selection_copies_text() {
    let (mut pane, ends) = pane(40, 6, 100);
    feed(&mut pane, &ends, b"alpha beta gamma\r\ndelta epsilon\r\n$ ");
    pane.enter_copy_mode();
    // Up two lines to "alpha...", to the line start, right 6 to "beta", select to "delta eps".
    keys(&mut pane, "kk0llllllv");
    assert!(pane.in_copy_mode());
    keys(&mut pane, "jb");
    keys(&mut pane, "lll");
    let outcome = keys(&mut pane, "y");
    assert_eq!(outcome, KeyOutcome::Copied("beta gamma\ndelt".into()));
    assert!(!pane.in_copy_mode());
    // Enter without a selection just leaves.
    pane.enter_copy_mode();
    assert_eq!(keys(&mut pane, "\n"), KeyOutcome::LeftCopyMode);
}

#[test]
fn copy_mode_moves_through_history() {
    let (mut pane, ends) = pane(20, 5, 100);
    let text: String = (0..40).map(|i| format!("row {i}\r\n")).collect();
    feed(&mut pane, &ends, text.as_bytes());
    pane.enter_copy_mode();
    keys(&mut pane, "g");
    assert!(
        pane.screen_text().starts_with("row 0\n"),
        "{}",
        pane.screen_text()
    );
    keys(&mut pane, "G");
    assert_eq!(pane.scroll_offset(), 0);
    pane.handle_key(&key(KeyCode::PageUp));
    let paged = pane.scroll_offset();
    assert!((5..=6).contains(&paged), "{paged}");
    pane.handle_key(&KeyEvent::new(KeyCode::Char('d'), KeyModifiers::CONTROL));
    assert_eq!(pane.scroll_offset(), paged - 2);
    pane.handle_key(&key(KeyCode::Esc));
    assert_eq!(pane.scroll_offset(), 0);
}

#[test]
fn mouse_drag_selects_and_copies_when_not_reported() {
    let (mut pane, ends) = pane(40, 6, 100);
    feed(&mut pane, &ends, b"hello world\r\nsecond line\r\n");
    assert!(!pane.wants_mouse());
    pane.handle_mouse(&mouse(MouseEventKind::Down(MouseButton::Left), 6, 0));
    pane.handle_mouse(&mouse(MouseEventKind::Drag(MouseButton::Left), 8, 1));
    assert!(pane.in_copy_mode());
    let out = pane.handle_mouse(&mouse(MouseEventKind::Up(MouseButton::Left), 8, 1));
    assert_eq!(out, KeyOutcome::Copied("world\nsecond li".into()));
    assert!(!pane.in_copy_mode());
}

#[test]
fn mouse_wheel_scrolls_history() {
    let (mut pane, ends) = pane(20, 5, 100);
    feed(&mut pane, &ends, "x\r\n".repeat(30).as_bytes());
    pane.handle_mouse(&mouse(MouseEventKind::ScrollUp, 0, 0));
    assert_eq!(pane.scroll_offset(), 3);
    pane.handle_mouse(&mouse(MouseEventKind::ScrollDown, 0, 0));
    assert_eq!(pane.scroll_offset(), 0);
}

#[test]
fn mouse_is_reported_in_sgr_and_normal_encodings() {
    let (mut pane, mut ends) = pane(80, 24, 100);
    feed(&mut pane, &ends, b"\x1b[?1000h\x1b[?1006h");
    assert!(pane.wants_mouse());
    pane.handle_mouse(&mouse(MouseEventKind::Down(MouseButton::Left), 4, 2));
    pane.handle_mouse(&mouse(MouseEventKind::Up(MouseButton::Left), 4, 2));
    pane.handle_mouse(&mouse(MouseEventKind::ScrollUp, 0, 0));
    let mut ctrl_click = mouse(MouseEventKind::Down(MouseButton::Right), 9, 9);
    ctrl_click.modifiers = KeyModifiers::CONTROL;
    pane.handle_mouse(&ctrl_click);
    assert_eq!(
        written(&mut ends),
        b"\x1b[<0;5;3M\x1b[<0;5;3m\x1b[<64;1;1M\x1b[<18;10;10M"
    );
    // Drags are reported only with 1002/1003.
    assert_eq!(
        pane.handle_mouse(&mouse(MouseEventKind::Drag(MouseButton::Left), 5, 2)),
        KeyOutcome::Ignored
    );
    feed(&mut pane, &ends, b"\x1b[?1006l\x1b[?1002h");
    pane.handle_mouse(&mouse(MouseEventKind::Down(MouseButton::Left), 4, 2));
    pane.handle_mouse(&mouse(MouseEventKind::Drag(MouseButton::Left), 5, 2));
    pane.handle_mouse(&mouse(MouseEventKind::Up(MouseButton::Left), 5, 2));
    assert_eq!(
        written(&mut ends),
        b"\x1b[M\x20\x25\x23\x1b[M\x40\x26\x23\x1b[M\x23\x26\x23"
    );
}

#[test]
fn closed_stream_is_shown_and_keys_are_ignored() {
    let (mut pane, ends) = pane(40, 6, 100);
    feed(&mut pane, &ends, b"$ exit\r\n");
    ends.events
        .try_send(StreamEvent::Closed(CloseReason::Exited(Some(0))))
        .unwrap();
    pane.pump(usize::MAX);
    assert_eq!(pane.closed(), Some(&CloseReason::Exited(Some(0))));
    assert!(
        pane.screen_text().contains("[exited with status 0]"),
        "{}",
        pane.screen_text()
    );
    assert_eq!(keys(&mut pane, "a"), KeyOutcome::Ignored);

    // Reconnecting keeps the screen and takes input again.
    let (stream, mut ends2) = stream::channel(&Waker::new());
    pane.set_stream(stream);
    assert_eq!(pane.closed(), None);
    assert!(pane.screen_text().contains("$ exit"));
    assert_eq!(keys(&mut pane, "a"), KeyOutcome::Consumed);
    let cmds: Vec<StreamCmd> = std::iter::from_fn(|| ends2.commands.try_recv().ok()).collect();
    assert_eq!(
        cmds,
        vec![
            StreamCmd::Resize { cols: 40, rows: 6 },
            StreamCmd::Input(b"a".to_vec())
        ]
    );
}

#[test]
fn dropped_backend_counts_as_closed() {
    let (mut pane, ends) = pane(40, 6, 100);
    drop(ends);
    pane.pump(usize::MAX);
    assert!(pane.closed().is_some());
}

#[test]
fn failed_pane_shows_the_message() {
    let cfg = TerminalConfig {
        cols: 50,
        rows: 5,
        scrollback: 10,
    };
    let mut pane = TerminalPane::failed("could not start /bin/nope: not found", cfg);
    assert!(pane.screen_text().contains("could not start /bin/nope"));
    assert!(pane.closed().is_some());
    assert_eq!(keys(&mut pane, "x"), KeyOutcome::Ignored);
    assert_eq!(pane.pump(1000).bytes, 0);
}

#[test]
fn resize_reaches_backend_and_ignores_zero() {
    let (mut pane, mut ends) = pane(40, 6, 100);
    feed(&mut pane, &ends, b"hello");
    pane.resize(0, 10);
    pane.resize(10, 0);
    pane.resize(20, 3);
    let cmds: Vec<StreamCmd> = std::iter::from_fn(|| ends.commands.try_recv().ok()).collect();
    assert_eq!(cmds, vec![StreamCmd::Resize { cols: 20, rows: 3 }]);
    assert_eq!(pane.screen_text(), "hello\n\n");
    // Rendering into a larger area than the grid blanks the rest.
    let buf = render(&pane, 30, 5);
    assert_eq!(buffer_text(&buf), "hello\n\n\n\n");
}

#[test]
fn cursor_shape_follows_decscusr() {
    use lumen::panes::terminal::CursorShape;
    let (mut pane, ends) = pane(40, 6, 100);
    assert_eq!(pane.cursor_shape(), CursorShape::Block);
    feed(&mut pane, &ends, b"\x1b[6 q");
    assert_eq!(pane.cursor_shape(), CursorShape::Bar);
    feed(&mut pane, &ends, b"\x1b[3 q");
    assert_eq!(pane.cursor_shape(), CursorShape::BlinkingUnderline);
    feed(&mut pane, &ends, b"\x1b[?25l");
    assert_eq!(pane.cursor(), None);
}

#[test]
fn pane_can_move_between_threads() {
    fn assert_send<T: Send>() {}
    assert_send::<TerminalPane>();
}
