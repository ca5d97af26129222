//! Key chords as written in config.toml (`C-b`, `M-x`, `C-Left`, `%`, `F5`) and as crossterm
//! reports them.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::fmt;

/// A key with modifiers, as written in config (`C-b`, `M-x`, `C-Left`, `%`, `F5`, `Space`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Chord {
    pub(super) code: ChordCode,
    pub(super) ctrl: bool,
    pub(super) alt: bool,
    pub(super) shift: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(super) enum ChordCode {
    Char(char),
    Named(Named),
    F(u8),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(super) enum Named {
    Left,
    Right,
    Up,
    Down,
    Home,
    End,
    PageUp,
    PageDown,
    Insert,
    Delete,
    Enter,
    Tab,
    Backspace,
    Esc,
}

const NAMED: [(&str, Named); 14] = [
    ("Left", Named::Left),
    ("Right", Named::Right),
    ("Up", Named::Up),
    ("Down", Named::Down),
    ("Home", Named::Home),
    ("End", Named::End),
    ("PageUp", Named::PageUp),
    ("PageDown", Named::PageDown),
    ("Insert", Named::Insert),
    ("Delete", Named::Delete),
    ("Enter", Named::Enter),
    ("Tab", Named::Tab),
    ("Backspace", Named::Backspace),
    ("Escape", Named::Esc),
];

impl Chord {
    /// Parse `C-b`, `Ctrl-b`, `M-x`, `Alt-x`, `S-Left`, `C-Left`, `%`, `"`, `Space`, `F5`.
    pub fn parse(s: &str) -> Result<Self, String> {
        let bad =
            || format!("'{s}' is not a key (examples: C-b, M-x, C-Left, %, Space, Enter, F5)");
        let mut chord = Chord {
            code: ChordCode::Char(' '),
            ctrl: false,
            alt: false,
            shift: false,
        };
        let mut rest = s;
        loop {
            let lower = rest.to_ascii_lowercase();
            let (flag, len) = if lower.starts_with("ctrl-") {
                (&mut chord.ctrl, 5)
            } else if lower.starts_with("alt-") {
                (&mut chord.alt, 4)
            } else if lower.starts_with("shift-") {
                (&mut chord.shift, 6)
            } else if rest.len() > 2 && (rest.starts_with("C-") || rest.starts_with("c-")) {
                (&mut chord.ctrl, 2)
            } else if rest.len() > 2 && (rest.starts_with("M-") || rest.starts_with("m-")) {
                (&mut chord.alt, 2)
            } else if rest.len() > 2 && (rest.starts_with("S-") || rest.starts_with("s-")) {
                (&mut chord.shift, 2)
            } else {
                break;
            };
            *flag = true;
            rest = &rest[len..];
        }
        let mut chars = rest.chars();
        chord.code = match (chars.next(), chars.next()) {
            (Some(c), None) => {
                if chord.ctrl && c.is_ascii_alphabetic() {
                    ChordCode::Char(c.to_ascii_lowercase())
                } else {
                    ChordCode::Char(c)
                }
            }
            _ => {
                let lower = rest.to_ascii_lowercase();
                if lower == "space" {
                    ChordCode::Char(' ')
                } else if lower == "esc" {
                    ChordCode::Named(Named::Esc)
                } else if lower == "pgup" {
                    ChordCode::Named(Named::PageUp)
                } else if lower == "pgdn" {
                    ChordCode::Named(Named::PageDown)
                } else if let Some((_, n)) = NAMED
                    .iter()
                    .find(|(name, _)| name.eq_ignore_ascii_case(rest))
                {
                    ChordCode::Named(*n)
                } else if let Some(n) = lower.strip_prefix('f').and_then(|n| n.parse::<u8>().ok())
                    && (1..=24).contains(&n)
                {
                    ChordCode::F(n)
                } else {
                    return Err(bad());
                }
            }
        };
        Ok(chord)
    }

    /// The chord a key press is, or None for keys that cannot be bound (media keys etc.).
    pub fn from_event(key: &KeyEvent) -> Option<Self> {
        let m = key.modifiers;
        let ctrl = m.contains(KeyModifiers::CONTROL);
        let alt = m.contains(KeyModifiers::ALT);
        let shift = m.contains(KeyModifiers::SHIFT);
        let code = match key.code {
            // A printable character already carries its shift (`%`, `A`), so shift is dropped.
            KeyCode::Char(c) => {
                let c = if ctrl && c.is_ascii_alphabetic() {
                    c.to_ascii_lowercase()
                } else {
                    c
                };
                return Some(Chord {
                    code: ChordCode::Char(c),
                    ctrl,
                    alt,
                    shift: false,
                });
            }
            KeyCode::F(n) => ChordCode::F(n),
            KeyCode::Left => ChordCode::Named(Named::Left),
            KeyCode::Right => ChordCode::Named(Named::Right),
            KeyCode::Up => ChordCode::Named(Named::Up),
            KeyCode::Down => ChordCode::Named(Named::Down),
            KeyCode::Home => ChordCode::Named(Named::Home),
            KeyCode::End => ChordCode::Named(Named::End),
            KeyCode::PageUp => ChordCode::Named(Named::PageUp),
            KeyCode::PageDown => ChordCode::Named(Named::PageDown),
            KeyCode::Insert => ChordCode::Named(Named::Insert),
            KeyCode::Delete => ChordCode::Named(Named::Delete),
            KeyCode::Enter => ChordCode::Named(Named::Enter),
            KeyCode::Tab => ChordCode::Named(Named::Tab),
            KeyCode::BackTab => {
                return Some(Chord {
                    code: ChordCode::Named(Named::Tab),
                    ctrl,
                    alt,
                    shift: true,
                });
            }
            KeyCode::Backspace => ChordCode::Named(Named::Backspace),
            KeyCode::Esc => ChordCode::Named(Named::Esc),
            _ => return None,
        };
        Some(Chord {
            code,
            ctrl,
            alt,
            shift,
        })
    }

    /// The key event this chord stands for (used to send the prefix through).
    pub fn to_event(self) -> KeyEvent {
        let mut m = KeyModifiers::NONE;
        if self.ctrl {
            m |= KeyModifiers::CONTROL;
        }
        if self.alt {
            m |= KeyModifiers::ALT;
        }
        if self.shift {
            m |= KeyModifiers::SHIFT;
        }
        let code = match self.code {
            ChordCode::Char(c) => KeyCode::Char(c),
            ChordCode::F(n) => KeyCode::F(n),
            ChordCode::Named(n) => match n {
                Named::Left => KeyCode::Left,
                Named::Right => KeyCode::Right,
                Named::Up => KeyCode::Up,
                Named::Down => KeyCode::Down,
                Named::Home => KeyCode::Home,
                Named::End => KeyCode::End,
                Named::PageUp => KeyCode::PageUp,
                Named::PageDown => KeyCode::PageDown,
                Named::Insert => KeyCode::Insert,
                Named::Delete => KeyCode::Delete,
                Named::Enter => KeyCode::Enter,
                Named::Tab => KeyCode::Tab,
                Named::Backspace => KeyCode::Backspace,
                Named::Esc => KeyCode::Esc,
            },
        };
        KeyEvent::new(code, m)
    }
}

impl fmt::Display for Chord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ctrl {
            f.write_str("C-")?;
        }
        if self.alt {
            f.write_str("M-")?;
        }
        if self.shift {
            f.write_str("S-")?;
        }
        match self.code {
            ChordCode::Char(' ') => f.write_str("Space"),
            ChordCode::Char(c) => write!(f, "{c}"),
            ChordCode::F(n) => write!(f, "F{n}"),
            ChordCode::Named(n) => {
                let name = NAMED
                    .iter()
                    .find(|(_, x)| *x == n)
                    .map(|(s, _)| *s)
                    .unwrap_or("?");
                f.write_str(name)
            }
        }
    }
}
