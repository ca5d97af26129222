//! The prefix keymap: the prefix key and what each key after it does. Defaults come from the
//! action table ([`action`]); `config.toml` overrides bindings by action name.

mod action;
mod chord;

pub use action::Action;
pub use chord::Chord;
use chord::ChordCode;
use crossterm::event::KeyEvent;
use std::collections::BTreeMap;

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
        for a in Action::ALL {
            for k in a.default_keys() {
                bindings.insert(chord(k), *a);
            }
        }
        Self {
            prefix: chord("C-b"),
            bindings,
        }
    }
}

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
    use crossterm::event::{KeyCode, KeyModifiers};

    #[test]
    fn default_bindings_all_parse_and_none_is_taken_twice() {
        let mut count = 0;
        for a in Action::ALL {
            for k in a.default_keys() {
                Chord::parse(k).unwrap_or_else(|e| panic!("{e}"));
                count += 1;
            }
        }
        assert_eq!(Keymap::default().bindings.len(), count);
    }

    #[test]
    fn every_action_has_a_unique_name_that_maps_back() {
        for a in Action::ALL {
            assert_eq!(Action::from_name(a.name()), Some(*a), "{}", a.name());
            let expected: String = format!("{a:?}")
                .chars()
                .enumerate()
                .flat_map(|(i, c)| {
                    let sep = (i > 0 && c.is_ascii_uppercase()).then_some('_');
                    sep.into_iter()
                        .chain(std::iter::once(c.to_ascii_lowercase()))
                })
                .collect();
            assert_eq!(a.name(), expected, "names stay snake_case of the variant");
        }
        assert_eq!(Action::GoToTab3.name(), "go_to_tab3");
        assert_eq!(Action::GoToTab3.go_to_tab(), Some(3));
        assert_eq!(Action::from_name("split_sideways"), None);
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
