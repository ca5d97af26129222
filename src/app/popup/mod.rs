//! Dialogs drawn over the panes: confirm, rename, command palette, key help. The topmost one
//! gets every key first (a compositor layer, as in helix).

use crate::app::keymap::Action;
use crate::ui::input::TextInput;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

mod render;

/// What a confirmation is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirm {
    ClosePane(crate::app::layout::PaneId),
    CloseTab(usize),
    Quit,
}

/// Where a popup's long text is scrolled to: its first row shown, kept within the rows the
/// last draw had (so End, and Up after it, work at once).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scroll {
    first: u16,
    /// The largest useful `first`, as the last draw found it.
    max: std::cell::Cell<u16>,
}

impl Scroll {
    /// Apply a scroll key (arrows or j/k, PgUp/PgDn or space, Home/End or g/G); false when
    /// `code` is not one.
    pub fn key(&mut self, code: KeyCode) -> bool {
        let first = self.first;
        let to = match code {
            KeyCode::Down | KeyCode::Char('j') => first.saturating_add(1),
            KeyCode::Up | KeyCode::Char('k') => first.saturating_sub(1),
            KeyCode::PageDown | KeyCode::Char(' ') => first.saturating_add(10),
            KeyCode::PageUp => first.saturating_sub(10),
            KeyCode::Home | KeyCode::Char('g') => 0,
            KeyCode::End | KeyCode::Char('G') => self.max.get(),
            _ => return false,
        };
        self.first = to.min(self.max.get());
        true
    }

    /// The first of `rows` rows to draw when `room` of them fit; remembers how far the text
    /// can scroll.
    pub fn first_row(&self, rows: usize, room: usize) -> usize {
        let max = rows.saturating_sub(room);
        self.max.set(u16::try_from(max).unwrap_or(u16::MAX));
        usize::from(self.first).min(max)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Popup {
    Confirm(Confirm),
    Rename(TextInput),
    /// `C-b $`: the session's new name.
    RenameSession(TextInput),
    /// `C-b s`: the server's sessions, to switch to one.
    Sessions {
        names: Vec<String>,
        current: String,
        selected: usize,
    },
    Palette {
        input: TextInput,
        selected: usize,
    },
    /// "Host or local shell": empty opens a local shell, a name or `user@host:port` a session.
    NewTab {
        input: TextInput,
        hosts: Vec<String>,
        /// While Tab cycles: what the user typed and which match is shown.
        cycling: Option<(String, usize)>,
    },
    Help {
        scroll: Scroll,
    },
    /// A paste into a broadcast that needs a yes first.
    ConfirmPaste {
        warning: String,
        text: String,
    },
    /// A program in a pane wants to set the clipboard (OSC 52): allow once, always for this
    /// host, or deny.
    Clipboard {
        /// Who asks: the host's name, or "a local shell".
        host: String,
        text: String,
    },
    /// Something the user must read (problems found at start, what the copilot would send);
    /// any of Esc, Enter, q closes it, and arrows, PgUp/PgDn, Home/End scroll a long one.
    Notice {
        title: String,
        lines: Vec<String>,
        /// Problems are drawn in the error colour, other text plainly.
        problem: bool,
        scroll: Scroll,
    },
}

/// What a popup decided after a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PopupOutcome {
    /// Still open.
    Stay,
    /// Closed without doing anything.
    Cancel,
    Confirmed(Confirm),
    Renamed(String),
    SessionRenamed(String),
    SwitchSession(String),
    Run(Action),
    /// Open a tab on this host (empty: a local shell).
    Open(String),
    /// Paste this into every broadcasting pane.
    PasteConfirmed(String),
    /// The clipboard request was answered.
    Clipboard {
        host: String,
        text: String,
        decision: ClipboardDecision,
    },
}

/// The answer to a program's clipboard request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClipboardDecision {
    Once,
    AlwaysForHost,
    Deny,
}

/// Actions matching a palette filter: every word must appear in the name or description.
pub fn palette_matches(filter: &str) -> Vec<Action> {
    let words: Vec<String> = filter.split_whitespace().map(str::to_lowercase).collect();
    Action::ALL
        .iter()
        .copied()
        .filter(|a| {
            let hay = format!("{} {}", a.name(), a.describe()).to_lowercase();
            words.iter().all(|w| hay.contains(w.as_str()))
        })
        .collect()
}

impl Popup {
    pub fn handle_key(&mut self, key: &KeyEvent) -> PopupOutcome {
        if key.code == KeyCode::Esc
            || (key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL))
        {
            return PopupOutcome::Cancel;
        }
        match self {
            Popup::Confirm(what) => match key.code {
                KeyCode::Char('y') | KeyCode::Char('Y') => PopupOutcome::Confirmed(*what),
                KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Char('q') => {
                    PopupOutcome::Cancel
                }
                _ => PopupOutcome::Stay,
            },
            Popup::Rename(input) => match key.code {
                KeyCode::Enter => PopupOutcome::Renamed(input.text().trim().to_string()),
                _ => {
                    input.key(key);
                    PopupOutcome::Stay
                }
            },
            Popup::RenameSession(input) => match key.code {
                KeyCode::Enter => PopupOutcome::SessionRenamed(input.text().trim().to_string()),
                _ => {
                    input.key(key);
                    PopupOutcome::Stay
                }
            },
            Popup::Sessions {
                names, selected, ..
            } => match key.code {
                KeyCode::Up | KeyCode::Char('k') => {
                    *selected = selected.saturating_sub(1);
                    PopupOutcome::Stay
                }
                KeyCode::Down | KeyCode::Char('j') => {
                    *selected = (*selected + 1).min(names.len().saturating_sub(1));
                    PopupOutcome::Stay
                }
                KeyCode::Enter => names.get(*selected).map_or(PopupOutcome::Cancel, |n| {
                    PopupOutcome::SwitchSession(n.clone())
                }),
                KeyCode::Char('q') => PopupOutcome::Cancel,
                _ => PopupOutcome::Stay,
            },
            Popup::Palette { input, selected } => {
                let matches = palette_matches(input.text());
                match key.code {
                    KeyCode::Enter => match matches.get(*selected) {
                        Some(a) => PopupOutcome::Run(*a),
                        None => PopupOutcome::Stay,
                    },
                    KeyCode::Up => {
                        *selected = selected.saturating_sub(1);
                        PopupOutcome::Stay
                    }
                    KeyCode::Down | KeyCode::Tab => {
                        *selected = (*selected + 1).min(matches.len().saturating_sub(1));
                        PopupOutcome::Stay
                    }
                    _ => {
                        if input.key(key) {
                            *selected = 0;
                        }
                        PopupOutcome::Stay
                    }
                }
            }
            Popup::ConfirmPaste { text, .. } => match key.code {
                KeyCode::Char('y') | KeyCode::Char('Y') => {
                    PopupOutcome::PasteConfirmed(std::mem::take(text))
                }
                KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Char('q') => {
                    PopupOutcome::Cancel
                }
                _ => PopupOutcome::Stay,
            },
            Popup::NewTab {
                input,
                hosts,
                cycling,
            } => match key.code {
                KeyCode::Enter => PopupOutcome::Open(input.text().to_string()),
                KeyCode::Tab => {
                    // Each Tab shows the next host matching what was typed.
                    let (typed, next) = match cycling.take() {
                        Some((typed, i)) => (typed, i + 1),
                        None => (input.text().to_string(), 0),
                    };
                    let matches = host_matches(hosts, &typed);
                    if !matches.is_empty() {
                        let i = next % matches.len();
                        *input = TextInput::new(matches[i]);
                        *cycling = Some((typed, i));
                    }
                    PopupOutcome::Stay
                }
                _ => {
                    if input.key(key) {
                        *cycling = None;
                    }
                    PopupOutcome::Stay
                }
            },
            Popup::Clipboard { host, text } => {
                let decision = match key.code {
                    KeyCode::Char('o') | KeyCode::Char('y') => ClipboardDecision::Once,
                    KeyCode::Char('a') => ClipboardDecision::AlwaysForHost,
                    KeyCode::Char('d') | KeyCode::Char('n') => ClipboardDecision::Deny,
                    _ => return PopupOutcome::Stay,
                };
                PopupOutcome::Clipboard {
                    host: std::mem::take(host),
                    text: std::mem::take(text),
                    decision,
                }
            }
            Popup::Notice { scroll, .. } | Popup::Help { scroll } => match key.code {
                KeyCode::Char('q') | KeyCode::Enter => PopupOutcome::Cancel,
                code => {
                    scroll.key(code);
                    PopupOutcome::Stay
                }
            },
        }
    }

    pub fn paste(&mut self, text: &str) {
        match self {
            Popup::Rename(input)
            | Popup::RenameSession(input)
            | Popup::Palette { input, .. }
            | Popup::NewTab { input, .. } => input.paste(text),
            Popup::Sessions { .. } => {}
            Popup::Confirm(_)
            | Popup::Help { .. }
            | Popup::Notice { .. }
            | Popup::Clipboard { .. }
            | Popup::ConfirmPaste { .. } => {}
        }
    }
}

/// Hosts whose name starts with `prefix`, then those containing it.
pub(super) fn host_matches<'a>(hosts: &'a [String], prefix: &str) -> Vec<&'a str> {
    let mut out: Vec<&str> = hosts
        .iter()
        .filter(|h| h.starts_with(prefix))
        .map(String::as_str)
        .collect();
    out.extend(
        hosts
            .iter()
            .filter(|h| !h.starts_with(prefix) && h.contains(prefix))
            .map(String::as_str),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(c: KeyCode) -> KeyEvent {
        KeyEvent::new(c, KeyModifiers::NONE)
    }

    #[test]
    fn line_input_edits_unicode() {
        let mut i = TextInput::new("héllo");
        i.key(&key(KeyCode::Backspace));
        i.key(&key(KeyCode::Left));
        i.key(&key(KeyCode::Char('✓')));
        assert_eq!(i.text(), "hél✓l");
        i.key(&KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
        assert_eq!(i.text(), "l");
    }

    #[test]
    fn palette_filters_and_runs() {
        let mut p = Popup::Palette {
            input: TextInput::default(),
            selected: 0,
        };
        for c in "split down".chars() {
            p.handle_key(&key(KeyCode::Char(c)));
        }
        assert_eq!(palette_matches("split down"), vec![Action::SplitDown]);
        assert_eq!(
            p.handle_key(&key(KeyCode::Enter)),
            PopupOutcome::Run(Action::SplitDown)
        );
    }

    #[test]
    fn confirm_answers() {
        let mut p = Popup::Confirm(Confirm::Quit);
        assert_eq!(p.handle_key(&key(KeyCode::Char('x'))), PopupOutcome::Stay);
        assert_eq!(
            p.handle_key(&key(KeyCode::Char('y'))),
            PopupOutcome::Confirmed(Confirm::Quit)
        );
        assert_eq!(p.handle_key(&key(KeyCode::Esc)), PopupOutcome::Cancel);
    }
}
