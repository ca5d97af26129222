//! Dialogs drawn over the panes: confirm, rename, command palette, key help. The topmost one
//! gets every key first (a compositor layer, as in helix).

use crate::app::keymap::{Action, Keymap};
use crate::app::theme::{Role, Theme};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Widget, Wrap};

/// What a confirmation is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirm {
    ClosePane(crate::app::layout::PaneId),
    CloseTab(usize),
    Quit,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Popup {
    Confirm(Confirm),
    Rename(LineInput),
    Palette {
        input: LineInput,
        selected: usize,
    },
    /// "Host or local shell": empty opens a local shell, a name or `user@host:port` a session.
    NewTab {
        input: LineInput,
        hosts: Vec<String>,
        /// While Tab cycles: what the user typed and which match is shown.
        cycling: Option<(String, usize)>,
    },
    Help {
        scroll: u16,
    },
    /// A paste into a broadcast that needs a yes first.
    ConfirmPaste {
        warning: String,
        text: String,
    },
    /// Something the user must read (problems found at start); any of Esc, Enter, q closes it.
    Notice {
        title: String,
        lines: Vec<String>,
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
    Run(Action),
    /// Open a tab on this host (empty: a local shell).
    Open(String),
    /// Paste this into every broadcasting pane.
    PasteConfirmed(String),
}

/// A one-line text input with a cursor.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineInput {
    text: String,
    /// Cursor position in chars.
    cursor: usize,
}

impl LineInput {
    pub fn new(text: &str) -> Self {
        Self {
            text: text.to_string(),
            cursor: text.chars().count(),
        }
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    fn byte_at(&self, char_idx: usize) -> usize {
        self.text
            .char_indices()
            .nth(char_idx)
            .map(|(i, _)| i)
            .unwrap_or(self.text.len())
    }

    pub fn insert(&mut self, s: &str) {
        for c in s.chars().filter(|c| !c.is_control()) {
            let at = self.byte_at(self.cursor);
            self.text.insert(at, c);
            self.cursor += 1;
        }
    }

    /// Edit keys (like readline's basics). Returns false for keys it does not use.
    pub fn key(&mut self, key: &KeyEvent) -> bool {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Char('u') if ctrl => {
                let at = self.byte_at(self.cursor);
                self.text.replace_range(..at, "");
                self.cursor = 0;
            }
            KeyCode::Char('a') if ctrl => self.cursor = 0,
            KeyCode::Char('e') if ctrl => self.cursor = self.text.chars().count(),
            KeyCode::Char(c) if !ctrl => self.insert(&c.to_string()),
            KeyCode::Backspace if self.cursor > 0 => {
                self.cursor -= 1;
                let at = self.byte_at(self.cursor);
                self.text.remove(at);
            }
            KeyCode::Delete if self.cursor < self.text.chars().count() => {
                let at = self.byte_at(self.cursor);
                self.text.remove(at);
            }
            KeyCode::Left => self.cursor = self.cursor.saturating_sub(1),
            KeyCode::Right => self.cursor = (self.cursor + 1).min(self.text.chars().count()),
            KeyCode::Home => self.cursor = 0,
            KeyCode::End => self.cursor = self.text.chars().count(),
            _ => return false,
        }
        true
    }
}

/// Actions matching a palette filter: every word must appear in the name or description.
pub fn palette_matches(filter: &str) -> Vec<Action> {
    let words: Vec<String> = filter.split_whitespace().map(str::to_lowercase).collect();
    Action::ALL
        .into_iter()
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
                        *input = LineInput::new(matches[i]);
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
            Popup::Notice { .. } => match key.code {
                KeyCode::Char('q') | KeyCode::Enter => PopupOutcome::Cancel,
                _ => PopupOutcome::Stay,
            },
            Popup::Help { scroll } => match key.code {
                KeyCode::Char('q') | KeyCode::Enter => PopupOutcome::Cancel,
                KeyCode::Down | KeyCode::Char('j') => {
                    *scroll = scroll.saturating_add(1);
                    PopupOutcome::Stay
                }
                KeyCode::Up | KeyCode::Char('k') => {
                    *scroll = scroll.saturating_sub(1);
                    PopupOutcome::Stay
                }
                KeyCode::PageDown | KeyCode::Char(' ') => {
                    *scroll = scroll.saturating_add(10);
                    PopupOutcome::Stay
                }
                KeyCode::PageUp => {
                    *scroll = scroll.saturating_sub(10);
                    PopupOutcome::Stay
                }
                _ => PopupOutcome::Stay,
            },
        }
    }

    pub fn paste(&mut self, text: &str) {
        match self {
            Popup::Rename(input) | Popup::Palette { input, .. } | Popup::NewTab { input, .. } => {
                input.insert(text.lines().next().unwrap_or(""))
            }
            Popup::Confirm(_)
            | Popup::Help { .. }
            | Popup::Notice { .. }
            | Popup::ConfirmPaste { .. } => {}
        }
    }

    pub fn render(&self, area: Rect, buf: &mut Buffer, theme: &Theme, keymap: &Keymap) {
        let dialog = theme.style(Role::Dialog);
        let title_style = theme.style(Role::DialogTitle);
        let notice_title;
        let (title, width, height) = match self {
            Popup::Confirm(_) => (" Confirm ", 44, 5),
            Popup::ConfirmPaste { warning, .. } => (
                " Broadcast paste ",
                (warning
                    .lines()
                    .map(|l| l.chars().count())
                    .max()
                    .unwrap_or(0)
                    + 4)
                .clamp(44, 100) as u16,
                warning.lines().count() as u16 + 5,
            ),
            Popup::Rename(_) => (" Rename tab ", 44, 5),
            Popup::Palette { .. } => (" Command palette ", 64, 20),
            Popup::NewTab { .. } => (" New tab: host or local shell ", 60, 12),
            Popup::Help { .. } => (" Keys ", 64, 30),
            Popup::Notice { title, lines } => {
                notice_title = format!(" {title} ");
                let longest = lines.iter().map(|l| l.chars().count()).max().unwrap_or(0);
                // The lines, a blank, the hint, and the border; long lines wrap.
                let width = (longest + 4).clamp(30, 100);
                let wrapped: usize = lines
                    .iter()
                    .map(|l| l.chars().count() / (width - 2) + 1)
                    .sum();
                (
                    notice_title.as_str(),
                    width as u16,
                    (wrapped + 4).min(30) as u16,
                )
            }
        };
        let rect = centered(area, width, height);
        if rect.is_empty() {
            return;
        }
        Clear.render(rect, buf);
        let block = Block::default()
            .borders(Borders::ALL)
            .title(Span::styled(title, title_style))
            .style(dialog)
            .border_style(title_style);
        let inner = block.inner(rect);
        block.render(rect, buf);
        let prefix = keymap.prefix.to_string();
        let key_style = theme
            .style(Role::StatusKey)
            .bg(dialog.bg.unwrap_or_default());
        let lines: Vec<Line> = match self {
            Popup::Confirm(what) => {
                let q = match what {
                    Confirm::ClosePane(_) => "Close this pane?",
                    Confirm::CloseTab(_) => "Close this tab and all its panes?",
                    Confirm::Quit => "Quit lumen? Every session will end.",
                };
                vec![
                    Line::from(q),
                    Line::from(vec![
                        Span::styled("y", key_style),
                        Span::raw(" yes   "),
                        Span::styled("n", key_style),
                        Span::raw("/"),
                        Span::styled("Esc", key_style),
                        Span::raw(" no"),
                    ]),
                ]
            }
            Popup::ConfirmPaste { warning, .. } => {
                let mut lines: Vec<Line> = warning
                    .lines()
                    .map(|l| Line::from(Span::styled(l.to_string(), theme.style(Role::Error))))
                    .collect();
                lines.push(Line::from(""));
                lines.push(Line::from(vec![
                    Span::styled("y", key_style),
                    Span::raw(" paste into every pane   "),
                    Span::styled("n", key_style),
                    Span::raw("/"),
                    Span::styled("Esc", key_style),
                    Span::raw(" cancel"),
                ]));
                lines
            }
            Popup::Rename(input) => vec![
                input_line(input, theme),
                Line::from(Span::styled(
                    "Enter to rename, empty to use the program's title",
                    theme.style(Role::Muted),
                )),
            ],
            Popup::Palette { input, selected } => {
                let mut lines = vec![input_line(input, theme), Line::from("")];
                let matches = palette_matches(input.text());
                let room = inner.height.saturating_sub(2) as usize;
                let first = selected.saturating_sub(room.saturating_sub(1));
                for (i, a) in matches.iter().enumerate().skip(first).take(room) {
                    let keys = binding_text(keymap, &prefix, *a);
                    let text = format!("{:<36}{keys}", a.describe());
                    let style = if i == *selected {
                        theme.style(Role::DialogHighlight)
                    } else {
                        dialog
                    };
                    lines.push(Line::from(Span::styled(text, style)));
                }
                if matches.is_empty() {
                    lines.push(Line::from(Span::styled(
                        "no action matches",
                        theme.style(Role::Muted),
                    )));
                }
                lines
            }
            Popup::NewTab {
                input,
                hosts,
                cycling,
            } => {
                let typed = cycling
                    .as_ref()
                    .map(|(t, _)| t.as_str())
                    .unwrap_or(input.text());
                let mut lines = vec![
                    input_line(input, theme),
                    Line::from(Span::styled(
                        "Enter: empty for a local shell, or [user@]host[:port]. Tab completes.",
                        theme.style(Role::Muted),
                    )),
                ];
                let room = inner.height.saturating_sub(3) as usize;
                for h in host_matches(hosts, typed).into_iter().take(room) {
                    let style = if h == input.text() {
                        theme.style(Role::DialogHighlight)
                    } else {
                        dialog
                    };
                    lines.push(Line::from(Span::styled(format!("  {h}"), style)));
                }
                lines
            }
            Popup::Notice { lines, .. } => {
                let mut out: Vec<Line> = lines
                    .iter()
                    .map(|l| Line::from(Span::styled(l.as_str(), theme.style(Role::Error))))
                    .collect();
                out.push(Line::from(""));
                out.push(Line::from(Span::styled(
                    "Esc or Enter closes this",
                    theme.style(Role::Muted),
                )));
                out
            }
            Popup::Help { scroll } => {
                let mut lines = vec![
                    Line::from(format!(
                        "Press the prefix {prefix}, then a key. Esc or q closes this."
                    )),
                    Line::from(""),
                ];
                let digits_default = (0..10).all(|i| {
                    Action::ALL
                        .iter()
                        .find(|a| a.go_to_tab() == Some(i))
                        .is_some_and(|a| {
                            keymap
                                .keys_for(*a)
                                .iter()
                                .any(|k| k.to_string() == i.to_string())
                        })
                });
                for a in Action::ALL {
                    let mut keys = binding_text(keymap, &prefix, a);
                    let mut what = a.describe().to_string();
                    if digits_default && let Some(i) = a.go_to_tab() {
                        if i > 0 {
                            continue;
                        }
                        keys = format!("{prefix} 0…9");
                        what = "go to tab 0…9".into();
                    }
                    if keys.is_empty() {
                        continue;
                    }
                    lines.push(Line::from(vec![
                        Span::styled(format!("{keys:<16}"), key_style),
                        Span::raw(what),
                    ]));
                }
                lines.push(Line::from(""));
                lines.push(Line::from(
                    "Copy mode: arrows/hjkl move, / ? search, n N next, v select, y copy, q leave",
                ));
                lines.into_iter().skip(*scroll as usize).collect()
            }
        };
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .style(dialog)
            .render(inner, buf);
    }

    /// Where the text cursor goes, for popups with an input line.
    pub fn cursor(&self, area: Rect) -> Option<(u16, u16)> {
        let (input, width, height) = match self {
            Popup::Rename(i) => (i, 44, 5),
            Popup::Palette { input, .. } => (input, 64, 20),
            Popup::NewTab { input, .. } => (input, 60, 12),
            _ => return None,
        };
        let rect = centered(area, width, height);
        let x = rect.x + 1 + 2 + input.cursor as u16;
        (x < rect.right().saturating_sub(1) && rect.height > 2).then_some((x, rect.y + 1))
    }
}

/// Hosts whose name starts with `prefix`, then those containing it.
fn host_matches<'a>(hosts: &'a [String], prefix: &str) -> Vec<&'a str> {
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

fn binding_text(keymap: &Keymap, prefix: &str, a: Action) -> String {
    keymap
        .keys_for(a)
        .iter()
        .map(|k| format!("{prefix} {k}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn input_line<'a>(input: &'a LineInput, theme: &Theme) -> Line<'a> {
    Line::from(vec![
        Span::styled("> ", theme.style(Role::DialogTitle)),
        Span::raw(input.text()),
    ])
}

/// A rectangle of at most `width`x`height`, centred in `area`.
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(c: KeyCode) -> KeyEvent {
        KeyEvent::new(c, KeyModifiers::NONE)
    }

    #[test]
    fn line_input_edits_unicode() {
        let mut i = LineInput::new("héllo");
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
            input: LineInput::default(),
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
