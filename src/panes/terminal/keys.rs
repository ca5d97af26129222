//! Key-to-bytes encoding: what xterm sends for a key press, so programs see what they expect.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

const ESC: u8 = 0x1b;
const DEL: u8 = 0x7f;

/// The bytes xterm sends for `key`, or None for keys a terminal does not transmit
/// (lone modifiers, media keys, F13 and above).
///
/// `app_cursor` is DECCKM (the program asked for application cursor keys): arrows, Home and End
/// then use SS3 instead of CSI when no modifier is held.
pub fn encode_key(key: &KeyEvent, app_cursor: bool) -> Option<Vec<u8>> {
    let mods = key.modifiers;
    let alt = mods.contains(KeyModifiers::ALT);
    let ctrl = mods.contains(KeyModifiers::CONTROL);
    let param = modifier_param(mods);
    let mut out = Vec::with_capacity(8);
    match key.code {
        KeyCode::Char(c) => {
            if alt {
                out.push(ESC);
            }
            match ctrl.then(|| control_byte(c)).flatten() {
                Some(b) => out.push(b),
                None => push_char(&mut out, c),
            }
        }
        KeyCode::Enter => alt_prefixed(&mut out, alt, b'\r'),
        KeyCode::Tab if mods.contains(KeyModifiers::SHIFT) => out.extend_from_slice(b"\x1b[Z"),
        KeyCode::Tab => alt_prefixed(&mut out, alt, b'\t'),
        KeyCode::BackTab => out.extend_from_slice(b"\x1b[Z"),
        KeyCode::Backspace => alt_prefixed(&mut out, alt, if ctrl { 0x08 } else { DEL }),
        KeyCode::Esc => alt_prefixed(&mut out, alt, ESC),
        KeyCode::Up => cursor_key(&mut out, b'A', param, app_cursor),
        KeyCode::Down => cursor_key(&mut out, b'B', param, app_cursor),
        KeyCode::Right => cursor_key(&mut out, b'C', param, app_cursor),
        KeyCode::Left => cursor_key(&mut out, b'D', param, app_cursor),
        KeyCode::Home => cursor_key(&mut out, b'H', param, app_cursor),
        KeyCode::End => cursor_key(&mut out, b'F', param, app_cursor),
        KeyCode::Insert => tilde_key(&mut out, 2, param),
        KeyCode::Delete => tilde_key(&mut out, 3, param),
        KeyCode::PageUp => tilde_key(&mut out, 5, param),
        KeyCode::PageDown => tilde_key(&mut out, 6, param),
        KeyCode::F(n @ 1..=4) => {
            let last = b'P' + (n - 1);
            match param {
                None => out.extend_from_slice(&[ESC, b'O', last]),
                Some(m) => {
                    out.extend_from_slice(format!("\x1b[1;{m}").as_bytes());
                    out.push(last);
                }
            }
        }
        KeyCode::F(n @ 5..=12) => {
            const CODES: [u8; 8] = [15, 17, 18, 19, 20, 21, 23, 24];
            tilde_key(&mut out, CODES[usize::from(n - 5)], param);
        }
        _ => return None,
    }
    Some(out)
}

/// xterm's modifier parameter: 1 + Shift(1) + Alt(2) + Ctrl(4) + Meta(8); None without modifiers.
fn modifier_param(mods: KeyModifiers) -> Option<u8> {
    let mut m = 0;
    for (flag, bit) in [
        (KeyModifiers::SHIFT, 1),
        (KeyModifiers::ALT, 2),
        (KeyModifiers::CONTROL, 4),
        (KeyModifiers::META, 8),
    ] {
        if mods.contains(flag) {
            m += bit;
        }
    }
    (m > 0).then_some(m + 1)
}

/// The C0 byte for Ctrl plus `c`, as xterm maps it (letters, `@[\]^_`, space and the digits).
fn control_byte(c: char) -> Option<u8> {
    Some(match c {
        'a'..='z' => c as u8 - b'a' + 1,
        'A'..='Z' => c as u8 - b'A' + 1,
        '@' | ' ' | '2' | '`' => 0x00,
        '[' | '3' | '{' => ESC,
        '\\' | '4' | '|' => 0x1c,
        ']' | '5' | '}' => 0x1d,
        '^' | '6' | '~' => 0x1e,
        '_' | '7' | '/' | '-' => 0x1f,
        '8' | '?' => DEL,
        _ => return None,
    })
}

fn push_char(out: &mut Vec<u8>, c: char) {
    let mut buf = [0; 4];
    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
}

fn alt_prefixed(out: &mut Vec<u8>, alt: bool, byte: u8) {
    if alt {
        out.push(ESC);
    }
    out.push(byte);
}

/// Arrows, Home, End: `CSI x` (or `SS3 x` in application mode), `CSI 1;m x` with modifiers.
fn cursor_key(out: &mut Vec<u8>, last: u8, param: Option<u8>, app_cursor: bool) {
    match param {
        None if app_cursor => out.extend_from_slice(&[ESC, b'O', last]),
        None => out.extend_from_slice(&[ESC, b'[', last]),
        Some(m) => {
            out.extend_from_slice(format!("\x1b[1;{m}").as_bytes());
            out.push(last);
        }
    }
}

/// Editing and function keys: `CSI n ~`, `CSI n;m ~` with modifiers.
fn tilde_key(out: &mut Vec<u8>, code: u8, param: Option<u8>) {
    let text = match param {
        None => format!("\x1b[{code}~"),
        Some(m) => format!("\x1b[{code};{m}~"),
    };
    out.extend_from_slice(text.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode, mods: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, mods)
    }

    #[test]
    fn table_matches_xterm() {
        let none = KeyModifiers::NONE;
        let shift = KeyModifiers::SHIFT;
        let ctrl = KeyModifiers::CONTROL;
        let alt = KeyModifiers::ALT;
        let cases: &[(KeyCode, KeyModifiers, bool, &[u8])] = &[
            (KeyCode::Char('a'), none, false, b"a"),
            (KeyCode::Char('A'), shift, false, b"A"),
            (KeyCode::Char('é'), none, false, "é".as_bytes()),
            (KeyCode::Char('c'), ctrl, false, b"\x03"),
            (KeyCode::Char('C'), ctrl | shift, false, b"\x03"),
            (KeyCode::Char('@'), ctrl, false, b"\x00"),
            (KeyCode::Char(' '), ctrl, false, b"\x00"),
            (KeyCode::Char('['), ctrl, false, b"\x1b"),
            (KeyCode::Char('\\'), ctrl, false, b"\x1c"),
            (KeyCode::Char(']'), ctrl, false, b"\x1d"),
            (KeyCode::Char('^'), ctrl, false, b"\x1e"),
            (KeyCode::Char('_'), ctrl, false, b"\x1f"),
            (KeyCode::Char('/'), ctrl, false, b"\x1f"),
            (KeyCode::Char('x'), alt, false, b"\x1bx"),
            (KeyCode::Char('x'), alt | ctrl, false, b"\x1b\x18"),
            (KeyCode::Enter, none, false, b"\r"),
            (KeyCode::Enter, alt, false, b"\x1b\r"),
            (KeyCode::Backspace, none, false, b"\x7f"),
            (KeyCode::Backspace, alt, false, b"\x1b\x7f"),
            (KeyCode::Backspace, ctrl, false, b"\x08"),
            (KeyCode::Tab, none, false, b"\t"),
            (KeyCode::BackTab, shift, false, b"\x1b[Z"),
            (KeyCode::Esc, none, false, b"\x1b"),
            (KeyCode::Up, none, false, b"\x1b[A"),
            (KeyCode::Down, none, false, b"\x1b[B"),
            (KeyCode::Right, none, false, b"\x1b[C"),
            (KeyCode::Left, none, false, b"\x1b[D"),
            (KeyCode::Up, none, true, b"\x1bOA"),
            (KeyCode::Left, none, true, b"\x1bOD"),
            (KeyCode::Home, none, false, b"\x1b[H"),
            (KeyCode::End, none, false, b"\x1b[F"),
            (KeyCode::Home, none, true, b"\x1bOH"),
            (KeyCode::Up, ctrl, false, b"\x1b[1;5A"),
            (KeyCode::Up, ctrl, true, b"\x1b[1;5A"),
            (KeyCode::Right, shift, false, b"\x1b[1;2C"),
            (KeyCode::Left, alt, false, b"\x1b[1;3D"),
            (KeyCode::Down, ctrl | shift, false, b"\x1b[1;6B"),
            (KeyCode::End, ctrl | alt, false, b"\x1b[1;7F"),
            (KeyCode::Insert, none, false, b"\x1b[2~"),
            (KeyCode::Delete, none, false, b"\x1b[3~"),
            (KeyCode::Delete, shift, false, b"\x1b[3;2~"),
            (KeyCode::PageUp, none, false, b"\x1b[5~"),
            (KeyCode::PageDown, none, false, b"\x1b[6~"),
            (KeyCode::PageUp, ctrl, false, b"\x1b[5;5~"),
            (KeyCode::F(1), none, false, b"\x1bOP"),
            (KeyCode::F(2), none, false, b"\x1bOQ"),
            (KeyCode::F(3), none, false, b"\x1bOR"),
            (KeyCode::F(4), none, false, b"\x1bOS"),
            (KeyCode::F(1), alt, false, b"\x1b[1;3P"),
            (KeyCode::F(4), shift, false, b"\x1b[1;2S"),
            (KeyCode::F(5), none, false, b"\x1b[15~"),
            (KeyCode::F(6), none, false, b"\x1b[17~"),
            (KeyCode::F(7), none, false, b"\x1b[18~"),
            (KeyCode::F(8), none, false, b"\x1b[19~"),
            (KeyCode::F(9), none, false, b"\x1b[20~"),
            (KeyCode::F(10), none, false, b"\x1b[21~"),
            (KeyCode::F(11), none, false, b"\x1b[23~"),
            (KeyCode::F(12), none, false, b"\x1b[24~"),
            (KeyCode::F(12), ctrl, false, b"\x1b[24;5~"),
            (KeyCode::F(5), shift, false, b"\x1b[15;2~"),
        ];
        for (code, mods, app, want) in cases {
            let got = encode_key(&key(*code, *mods), *app);
            assert_eq!(
                got.as_deref(),
                Some(*want),
                "{code:?} {mods:?} app_cursor={app}"
            );
        }
    }

    #[test]
    fn untransmitted_keys_give_none() {
        for code in [KeyCode::F(13), KeyCode::CapsLock, KeyCode::Null] {
            assert_eq!(encode_key(&key(code, KeyModifiers::NONE), false), None);
        }
    }
}
