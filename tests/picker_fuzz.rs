//! Any keys, pastes, clicks and sizes: the host picker never panics and its selection stays
//! on a listed row.
#![allow(clippy::unwrap_used)]

mod picker_support;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use lumen::panes::hosts::{HostPicker, HostState, PickerOutcome};
use picker_support::{draw, host, inventory, with};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Key(KeyCode, KeyModifiers),
    Paste(String),
    Click(u16),
    Resize(u16, u16),
}

fn op() -> impl Strategy<Value = Op> {
    let code = prop_oneof![
        any::<char>().prop_map(KeyCode::Char),
        "[a-z0-9 ]".prop_map(|s: String| KeyCode::Char(s.chars().next().unwrap_or('a'))),
        Just(KeyCode::Enter),
        Just(KeyCode::Esc),
        Just(KeyCode::Backspace),
        Just(KeyCode::Tab),
        Just(KeyCode::BackTab),
        Just(KeyCode::Up),
        Just(KeyCode::Down),
        Just(KeyCode::PageUp),
        Just(KeyCode::PageDown),
        Just(KeyCode::Home),
        Just(KeyCode::End),
        Just(KeyCode::Left),
        Just(KeyCode::Delete),
    ];
    let mods = prop_oneof![
        3 => Just(KeyModifiers::NONE),
        1 => Just(KeyModifiers::CONTROL),
    ];
    prop_oneof![
        8 => (code, mods).prop_map(|(c, m)| Op::Key(c, m)),
        1 => ".{0,40}".prop_map(Op::Paste),
        1 => (0u16..30).prop_map(Op::Click),
        1 => (0u16..120, 0u16..40).prop_map(|(w, h)| Op::Resize(w, h)),
    ]
}

proptest! {
    // A fixed seed, so CI runs the same cases every time.
    #![proptest_config(proptest::prelude::ProptestConfig {
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x6c75_6d65_6e00_0001),
        ..proptest::prelude::ProptestConfig::default()
    })]

    #[test]
    fn never_panics(ops in prop::collection::vec(op(), 0..80), w in 0u16..130, h in 0u16..40) {
        let mut inv = inventory();
        inv.hosts.push(with(host("数据库-1", Some("ユーザー"), "db.例え.jp", None), &["日本"], &["アジア"]));
        let mut p = HostPicker::new(inv, Some("hosts.toml:1: something\nsecond line".into()));
        p.set_state("web1", HostState::Failed("x".repeat(500)));
        for op in ops {
            match op {
                Op::Key(c, m) => {
                    if let PickerOutcome::Open(names) = p.handle_key(&KeyEvent::new(c, m)) {
                        prop_assert!(!names.is_empty());
                        for n in names {
                            prop_assert!(p.inventory().get(&n).is_some());
                        }
                    }
                }
                Op::Paste(t) => p.paste(&t),
                Op::Click(row) => p.handle_mouse(&MouseEvent {
                    kind: MouseEventKind::Down(MouseButton::Left),
                    column: 1,
                    row,
                    modifiers: KeyModifiers::NONE,
                }),
                Op::Resize(cw, ch) => p.resize(cw, ch),
            }
            draw(&p, w, h);
            let _ = p.cursor();
            if !p.entries().is_empty() {
                prop_assert!(p.selected_entry().is_some());
            }
        }
    }
}
