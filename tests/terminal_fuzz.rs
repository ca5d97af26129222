//! Robustness: random bytes, random resizes (down to 1x1), random keys and mouse events never
//! panic; a 1 MiB line without a newline is fine.
#![allow(clippy::unwrap_used)]

mod terminal_support;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use proptest::prelude::*;
use terminal_support::{buffer_text, feed, pane, render};

#[derive(Debug, Clone)]
enum Step {
    Bytes(Vec<u8>),
    Escape(Vec<u8>),
    Resize(u16, u16),
    Key(char),
    CopyMode,
    Mouse(u8, u16, u16),
    Render(u16, u16),
}

/// Escape sequences with random parameters hit far more of the emulator than plain noise.
fn escape() -> impl Strategy<Value = Vec<u8>> {
    let lead = prop_oneof![
        Just(&b"\x1b["[..]),
        Just(&b"\x1b[?"[..]),
        Just(&b"\x1b]"[..]),
        Just(&b"\x1bP"[..]),
        Just(&b"\x1b"[..]),
    ];
    (
        lead,
        prop::collection::vec(prop_oneof![Just(b';'), b'0'..=b'9'], 0..12),
        any::<u8>(),
    )
        .prop_map(|(lead, params, last)| [lead, &params, &[last]].concat())
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => prop::collection::vec(any::<u8>(), 0..300).prop_map(Step::Bytes),
        4 => escape().prop_map(Step::Escape),
        1 => (0u16..120, 0u16..50).prop_map(|(c, r)| Step::Resize(c, r)),
        2 => prop_oneof![Just('k'), Just('j'), Just('v'), Just('G'), Just('g'), Just('/'), Just('x'),
            Just('\n'), Just('y'), Just('q'), Just('n'), Just('$'), Just('w')].prop_map(Step::Key),
        1 => Just(Step::CopyMode),
        1 => (0u8..6, 0u16..200, 0u16..100).prop_map(|(k, c, r)| Step::Mouse(k, c, r)),
        1 => (0u16..130, 0u16..60).prop_map(|(c, r)| Step::Render(c, r)),
    ]
}

proptest! {
    // A fixed seed, so CI runs the same cases every time.
    #![proptest_config(ProptestConfig {
        cases: 200,
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x6c75_6d65_6e00_0003),
        ..ProptestConfig::default()
    })]

    #[test]
    fn random_input_never_panics(steps in prop::collection::vec(step(), 1..40)) {
        let (mut pane, ends) = pane(20, 6, 50);
        let (mut cols, mut rows) = (20u16, 6u16);
        for step in steps {
            match step {
                Step::Bytes(b) | Step::Escape(b) => feed(&mut pane, &ends, &b),
                Step::Resize(c, r) => {
                    pane.resize(c, r);
                    if c > 0 && r > 0 {
                        (cols, rows) = (c, r);
                    }
                }
                Step::Key(c) => {
                    let code = if c == '\n' { KeyCode::Enter } else { KeyCode::Char(c) };
                    pane.handle_key(&KeyEvent::new(code, KeyModifiers::NONE));
                }
                Step::CopyMode => pane.enter_copy_mode(),
                Step::Mouse(k, column, row) => {
                    let kind = match k {
                        0 => MouseEventKind::Down(MouseButton::Left),
                        1 => MouseEventKind::Drag(MouseButton::Left),
                        2 => MouseEventKind::Up(MouseButton::Left),
                        3 => MouseEventKind::ScrollUp,
                        4 => MouseEventKind::ScrollDown,
                        _ => MouseEventKind::Moved,
                    };
                    pane.handle_mouse(&MouseEvent { kind, column, row, modifiers: KeyModifiers::NONE });
                }
                Step::Render(c, r) => {
                    let _ = render(&pane, c, r);
                }
            }
            let _ = pane.screen_text();
            let _ = pane.cursor();
        }
        prop_assert_eq!(pane.emulator_errors(), 0);
        let text = buffer_text(&render(&pane, cols, rows));
        prop_assert_eq!(text.split('\n').count(), usize::from(rows));
    }
}

#[test]
fn one_mebibyte_line_without_newline() {
    let (mut pane, ends) = pane(80, 24, 100);
    let line: Vec<u8> = (0..1 << 20).map(|i| b'a' + (i % 26) as u8).collect();
    feed(&mut pane, &ends, &line);
    // The line wraps: the last screen line ends with the last bytes of the input.
    let text = pane.screen_text();
    let tail = std::str::from_utf8(&line[line.len() - 16..]).unwrap();
    assert!(
        text.trim_end().ends_with(tail),
        "{}",
        &text[text.len() - 100..]
    );
    assert_eq!(pane.history_len(), 100);
    let _ = render(&pane, 80, 24);
}
