//! Actions, key chords and the prefix keymap. Defaults follow tmux; `config.toml` overrides
//! bindings by action name.

use crate::app::layout::Direction;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;

/// Everything a key binding or the palette can do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    NewTab,
    CloseTab,
    NextTab,
    PrevTab,
    LastTab,
    GoToTab0,
    GoToTab1,
    GoToTab2,
    GoToTab3,
    GoToTab4,
    GoToTab5,
    GoToTab6,
    GoToTab7,
    GoToTab8,
    GoToTab9,
    RenameTab,
    MoveTabLeft,
    MoveTabRight,
    SplitRight,
    SplitDown,
    FocusLeft,
    FocusRight,
    FocusUp,
    FocusDown,
    FocusNext,
    ResizeLeft,
    ResizeRight,
    ResizeUp,
    ResizeDown,
    Zoom,
    ClosePane,
    CopyMode,
    Paste,
    Help,
    Palette,
    SendPrefix,
    ToggleBroadcast,
    BroadcastPane,
    Vault,
    LockVault,
    Quit,
}

impl Action {
    /// Every action, in the order the help and the palette list them.
    pub const ALL: [Action; 41] = [
        Action::NewTab,
        Action::CloseTab,
        Action::NextTab,
        Action::PrevTab,
        Action::LastTab,
        Action::GoToTab0,
        Action::GoToTab1,
        Action::GoToTab2,
        Action::GoToTab3,
        Action::GoToTab4,
        Action::GoToTab5,
        Action::GoToTab6,
        Action::GoToTab7,
        Action::GoToTab8,
        Action::GoToTab9,
        Action::RenameTab,
        Action::MoveTabLeft,
        Action::MoveTabRight,
        Action::SplitRight,
        Action::SplitDown,
        Action::FocusLeft,
        Action::FocusRight,
        Action::FocusUp,
        Action::FocusDown,
        Action::FocusNext,
        Action::ResizeLeft,
        Action::ResizeRight,
        Action::ResizeUp,
        Action::ResizeDown,
        Action::Zoom,
        Action::ClosePane,
        Action::CopyMode,
        Action::Paste,
        Action::Help,
        Action::Palette,
        Action::SendPrefix,
        Action::ToggleBroadcast,
        Action::BroadcastPane,
        Action::Vault,
        Action::LockVault,
        Action::Quit,
    ];

    /// The name used in `config.toml`.
    pub fn name(self) -> String {
        let debug = format!("{self:?}");
        let mut out = String::new();
        for (i, c) in debug.chars().enumerate() {
            if c.is_ascii_uppercase() {
                if i > 0 {
                    out.push('_');
                }
                out.push(c.to_ascii_lowercase());
            } else {
                out.push(c);
            }
        }
        out
    }

    /// One line for the help and the palette.
    pub fn describe(self) -> &'static str {
        match self {
            Action::NewTab => "new tab: a host or a local shell",
            Action::CloseTab => "close tab (asks)",
            Action::NextTab => "next tab",
            Action::PrevTab => "previous tab",
            Action::LastTab => "last used tab",
            Action::GoToTab0 => "go to tab 0",
            Action::GoToTab1 => "go to tab 1",
            Action::GoToTab2 => "go to tab 2",
            Action::GoToTab3 => "go to tab 3",
            Action::GoToTab4 => "go to tab 4",
            Action::GoToTab5 => "go to tab 5",
            Action::GoToTab6 => "go to tab 6",
            Action::GoToTab7 => "go to tab 7",
            Action::GoToTab8 => "go to tab 8",
            Action::GoToTab9 => "go to tab 9",
            Action::RenameTab => "rename tab",
            Action::MoveTabLeft => "move tab left",
            Action::MoveTabRight => "move tab right",
            Action::SplitRight => "split pane right",
            Action::SplitDown => "split pane down",
            Action::FocusLeft => "focus pane on the left",
            Action::FocusRight => "focus pane on the right",
            Action::FocusUp => "focus pane above",
            Action::FocusDown => "focus pane below",
            Action::FocusNext => "focus next pane",
            Action::ResizeLeft => "move pane border left",
            Action::ResizeRight => "move pane border right",
            Action::ResizeUp => "move pane border up",
            Action::ResizeDown => "move pane border down",
            Action::Zoom => "zoom pane / unzoom",
            Action::ClosePane => "close pane (asks)",
            Action::CopyMode => "copy mode: scroll, search, select",
            Action::Paste => "paste the last copied text",
            Action::Help => "key help",
            Action::Palette => "command palette",
            Action::SendPrefix => "send the prefix key to the program",
            Action::ToggleBroadcast => "broadcast keys to every pane of the tab / stop",
            Action::BroadcastPane => "add / remove this pane from the broadcast",
            Action::Vault => "vault: passwords, keys, TOTP codes (asks to unlock)",
            Action::LockVault => "lock the vault now",
            Action::Quit => "quit lumen (asks)",
        }
    }

    pub fn go_to_tab(self) -> Option<usize> {
        let i = Action::ALL.iter().position(|a| *a == self)?;
        let first = Action::ALL.iter().position(|a| *a == Action::GoToTab0)?;
        (first..first + 10).contains(&i).then(|| i - first)
    }

    pub fn focus_direction(self) -> Option<Direction> {
        match self {
            Action::FocusLeft => Some(Direction::Left),
            Action::FocusRight => Some(Direction::Right),
            Action::FocusUp => Some(Direction::Up),
            Action::FocusDown => Some(Direction::Down),
            _ => None,
        }
    }

    pub fn resize_direction(self) -> Option<Direction> {
        match self {
            Action::ResizeLeft => Some(Direction::Left),
            Action::ResizeRight => Some(Direction::Right),
            Action::ResizeUp => Some(Direction::Up),
            Action::ResizeDown => Some(Direction::Down),
            _ => None,
        }
    }
}

/// A key with modifiers, as written in config (`C-b`, `M-x`, `C-Left`, `%`, `F5`, `Space`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Chord {
    code: ChordCode,
    ctrl: bool,
    alt: bool,
    shift: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum ChordCode {
    Char(char),
    Named(Named),
    F(u8),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Named {
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

/// The prefix key and what each key after it does.
#[derive(Debug, Clone, PartialEq)]
pub struct Keymap {
    pub prefix: Chord,
    bindings: BTreeMap<Chord, Action>,
}

fn chord(s: &str) -> Chord {
    // Only called on the literals below, which the tests parse.
    Chord::parse(s).unwrap_or(Chord {
        code: ChordCode::Char('\0'),
        ctrl: false,
        alt: false,
        shift: false,
    })
}

impl Default for Keymap {
    /// tmux's defaults, so muscle memory works.
    fn default() -> Self {
        let mut bindings = BTreeMap::new();
        for (k, a) in DEFAULT_BINDINGS {
            bindings.insert(chord(k), *a);
        }
        Self {
            prefix: chord("C-b"),
            bindings,
        }
    }
}

const DEFAULT_BINDINGS: &[(&str, Action)] = &[
    ("c", Action::NewTab),
    ("&", Action::CloseTab),
    ("n", Action::NextTab),
    ("p", Action::PrevTab),
    ("l", Action::LastTab),
    ("0", Action::GoToTab0),
    ("1", Action::GoToTab1),
    ("2", Action::GoToTab2),
    ("3", Action::GoToTab3),
    ("4", Action::GoToTab4),
    ("5", Action::GoToTab5),
    ("6", Action::GoToTab6),
    ("7", Action::GoToTab7),
    ("8", Action::GoToTab8),
    ("9", Action::GoToTab9),
    (",", Action::RenameTab),
    ("<", Action::MoveTabLeft),
    (">", Action::MoveTabRight),
    ("%", Action::SplitRight),
    ("\"", Action::SplitDown),
    ("Left", Action::FocusLeft),
    ("Right", Action::FocusRight),
    ("Up", Action::FocusUp),
    ("Down", Action::FocusDown),
    ("o", Action::FocusNext),
    ("C-Left", Action::ResizeLeft),
    ("C-Right", Action::ResizeRight),
    ("C-Up", Action::ResizeUp),
    ("C-Down", Action::ResizeDown),
    ("z", Action::Zoom),
    ("x", Action::ClosePane),
    ("[", Action::CopyMode),
    ("]", Action::Paste),
    ("?", Action::Help),
    (":", Action::Palette),
    ("b", Action::ToggleBroadcast),
    ("B", Action::BroadcastPane),
    ("v", Action::Vault),
    ("L", Action::LockVault),
    ("d", Action::Quit),
];

impl Keymap {
    /// What the key after the prefix does. The prefix itself sends the prefix through.
    pub fn action(&self, key: &KeyEvent) -> Option<Action> {
        let c = Chord::from_event(key)?;
        if c == self.prefix {
            return Some(Action::SendPrefix);
        }
        self.bindings.get(&c).copied()
    }

    pub fn is_prefix(&self, key: &KeyEvent) -> bool {
        Chord::from_event(key) == Some(self.prefix)
    }

    /// Keys bound to `action`, for the help and the palette.
    pub fn keys_for(&self, action: Action) -> Vec<Chord> {
        if action == Action::SendPrefix {
            return vec![self.prefix];
        }
        self.bindings
            .iter()
            .filter(|(_, a)| **a == action)
            .map(|(c, _)| *c)
            .collect()
    }

    /// Bind `keys` to `action`, replacing that action's default keys (an empty list unbinds).
    pub fn rebind(&mut self, action: Action, keys: &[Chord]) {
        self.bindings.retain(|_, a| *a != action);
        for k in keys {
            self.bindings.insert(*k, action);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_bindings_all_parse() {
        for (k, _) in DEFAULT_BINDINGS {
            Chord::parse(k).unwrap_or_else(|e| panic!("{e}"));
        }
        assert_eq!(Keymap::default().bindings.len(), DEFAULT_BINDINGS.len());
    }

    #[test]
    fn every_action_has_a_name_that_deserializes_back() {
        for a in Action::ALL {
            let name = a.name();
            let back: Action =
                serde::de::Deserialize::deserialize(serde::de::value::StrDeserializer::<
                    serde::de::value::Error,
                >::new(&name))
                .unwrap_or_else(|_| panic!("{name}"));
            assert_eq!(back, a);
        }
        assert_eq!(Action::GoToTab3.name(), "go_to_tab3");
        assert_eq!(Action::GoToTab3.go_to_tab(), Some(3));
    }

    #[test]
    fn chords_parse_and_print() {
        for (text, shown) in [
            ("C-b", "C-b"),
            ("Ctrl-A", "C-a"),
            ("M-x", "M-x"),
            ("C-Left", "C-Left"),
            ("%", "%"),
            ("Space", "Space"),
            ("F5", "F5"),
            ("S-Tab", "S-Tab"),
            ("-", "-"),
            ("C--", "C--"),
        ] {
            assert_eq!(Chord::parse(text).map(|c| c.to_string()), Ok(shown.into()));
        }
        assert!(Chord::parse("Hyper-q").is_err());
        assert!(Chord::parse("F99").is_err());
        assert!(Chord::parse("").is_err());
    }

    #[test]
    fn events_match_chords() {
        let km = Keymap::default();
        let ev = |code, m| KeyEvent::new(code, m);
        assert_eq!(
            km.action(&ev(KeyCode::Char('%'), KeyModifiers::SHIFT)),
            Some(Action::SplitRight)
        );
        assert_eq!(
            km.action(&ev(KeyCode::Char('"'), KeyModifiers::NONE)),
            Some(Action::SplitDown)
        );
        assert_eq!(
            km.action(&ev(KeyCode::Left, KeyModifiers::CONTROL)),
            Some(Action::ResizeLeft)
        );
        assert_eq!(
            km.action(&ev(KeyCode::Char('b'), KeyModifiers::CONTROL)),
            Some(Action::SendPrefix)
        );
        assert!(km.is_prefix(&ev(KeyCode::Char('b'), KeyModifiers::CONTROL)));
        assert_eq!(km.action(&ev(KeyCode::Char('y'), KeyModifiers::NONE)), None);
        assert_eq!(Chord::from_event(&km.prefix.to_event()), Some(km.prefix));
    }
}
