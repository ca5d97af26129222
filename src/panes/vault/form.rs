//! The add/edit form: one single-line `ratatui-textarea` per field, the secret masked.

use crate::ui::theme::{Role, Theme};
use crate::vault::{Entry, Kind, NewEntry, Scope};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Widget};
use ratatui_textarea::TextArea;
use secrecy::SecretString;
use zeroize::Zeroize;

const LABELS: [&str; 9] = [
    "Name", "Kind", "Scope", "Username", "Hosts", "Tags", "Notes", "Provider", "Secret",
];
const NAME: usize = 0;
const KIND: usize = 1;
const SCOPE: usize = 2;
const USERNAME: usize = 3;
const HOSTS: usize = 4;
const TAGS: usize = 5;
const NOTES: usize = 6;
const PROVIDER: usize = 7;
const SECRET: usize = 8;
const LABEL_WIDTH: u16 = 10;

/// What a key did to the form.
#[derive(Debug)]
pub enum FormEvent {
    Pending,
    Cancel,
    Submit(Box<FormData>),
}

/// A submitted form, parsed.
#[derive(Debug)]
pub struct FormData {
    /// `Some(old name)` when editing.
    pub editing: Option<String>,
    pub name: String,
    pub scope: Scope,
    pub entry: NewEntry,
}

pub struct EntryForm {
    editing: Option<String>,
    fields: Vec<TextArea<'static>>,
    focus: usize,
    pub error: Option<String>,
}

/// Never prints the fields: the secret field holds what was typed.
impl std::fmt::Debug for EntryForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EntryForm")
            .field("editing", &self.editing)
            .field("fields", &"[redacted]")
            .field("focus", &self.focus)
            .field("error", &self.error)
            .finish()
    }
}

fn field(text: &str) -> TextArea<'static> {
    let mut ta = TextArea::new(vec![text.to_string()]);
    ta.move_cursor(ratatui_textarea::CursorMove::End);
    ta
}

impl EntryForm {
    pub fn add(scope: Scope) -> EntryForm {
        let mut fields: Vec<_> = LABELS.iter().map(|_| field("")).collect();
        fields[KIND] = field("password");
        fields[SCOPE] = field(scope.as_str());
        Self::with(None, fields)
    }

    /// Edit an existing entry; an empty secret keeps the old one.
    pub fn edit(scope: Scope, e: &Entry) -> EntryForm {
        let values = [
            e.name.clone(),
            e.kind.as_str().into(),
            scope.as_str().into(),
            e.username.clone().unwrap_or_default(),
            e.hosts.join(", "),
            e.tags.join(", "),
            e.notes.clone(),
            e.provider.clone().unwrap_or_default(),
            String::new(),
        ];
        let fields = values.iter().map(|v| field(v)).collect();
        let mut form = Self::with(Some(e.name.clone()), fields);
        form.focus = USERNAME;
        form.style_cursors();
        form
    }

    fn with(editing: Option<String>, mut fields: Vec<TextArea<'static>>) -> EntryForm {
        fields[SECRET].set_mask_char('•');
        let mut form = EntryForm {
            editing,
            fields,
            focus: 0,
            error: None,
        };
        form.style_cursors();
        form
    }

    /// Only the focused field shows a cursor.
    fn style_cursors(&mut self) {
        use ratatui::style::{Modifier, Style};
        for (i, f) in self.fields.iter_mut().enumerate() {
            f.set_cursor_line_style(Style::default());
            f.set_cursor_style(if i == self.focus {
                Style::default().add_modifier(Modifier::REVERSED)
            } else {
                Style::default()
            });
        }
    }

    pub fn is_edit(&self) -> bool {
        self.editing.is_some()
    }

    pub fn handle_key(&mut self, key: &KeyEvent) -> FormEvent {
        match key.code {
            KeyCode::Esc => return FormEvent::Cancel,
            KeyCode::Tab | KeyCode::Down => self.move_focus(1),
            KeyCode::BackTab | KeyCode::Up => self.move_focus(-1),
            KeyCode::Enter => match self.parse() {
                Ok(data) => {
                    return FormEvent::Submit(Box::new(data));
                }
                Err(e) => self.error = Some(e),
            },
            KeyCode::Char('m') if key.modifiers.contains(KeyModifiers::CONTROL) => {}
            _ => {
                self.fields[self.focus].input(*key);
            }
        }
        FormEvent::Pending
    }

    /// Paste into the focused field; only the secret keeps line breaks (a private key).
    pub fn handle_paste(&mut self, text: &str) {
        if self.focus == SECRET {
            self.fields[SECRET].insert_str(text);
        } else {
            let line: String = text.chars().filter(|c| *c != '\n' && *c != '\r').collect();
            self.fields[self.focus].insert_str(line);
        }
    }

    fn move_focus(&mut self, by: isize) {
        let n = self.fields.len() as isize;
        loop {
            self.focus = ((self.focus as isize + by).rem_euclid(n)) as usize;
            // Name and scope are fixed when editing.
            if !(self.is_edit() && (self.focus == NAME || self.focus == SCOPE)) {
                break;
            }
        }
        self.style_cursors();
    }

    fn text(&self, i: usize) -> String {
        self.fields[i].lines().join("\n").trim().to_string()
    }

    fn parse(&self) -> Result<FormData, String> {
        let name = self.text(NAME);
        crate::vault::check_name(&name).map_err(|e| e.to_string())?;
        let kind: Kind = self
            .text(KIND)
            .parse()
            .map_err(|e: crate::vault::VaultError| e.to_string())?;
        let scope = match self.text(SCOPE).as_str() {
            "personal" => Scope::Personal,
            "workspace" => Scope::Workspace,
            "team" => Scope::Team,
            _ => return Err("scope is 'personal', 'workspace' or 'team'".into()),
        };
        let list = |i: usize| -> Vec<String> {
            self.text(i)
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        };
        let mut secret_text = self.fields[SECRET].lines().join("\n");
        if kind == Kind::SshKey && !secret_text.is_empty() && !secret_text.ends_with('\n') {
            secret_text.push('\n');
        }
        let secret = (!secret_text.is_empty()).then(|| SecretString::from(secret_text.as_str()));
        secret_text.zeroize();
        if self.editing.is_none() && secret.is_none() {
            return Err("type the secret (it is masked)".into());
        }
        let username = self.text(USERNAME);
        Ok(FormData {
            editing: self.editing.clone(),
            name,
            scope,
            entry: NewEntry {
                kind: Some(kind),
                username: Some(username),
                hosts: Some(list(HOSTS)),
                tags: Some(list(TAGS)),
                notes: Some(self.text(NOTES)),
                provider: Some(self.text(PROVIDER)),
                secret,
                key_passphrase: None,
            },
        })
    }

    pub fn render(&self, area: Rect, buf: &mut Buffer, theme: &Theme) {
        let height = LABELS.len() as u16 + 6;
        let rect = super::centered(area, 64, height);
        let title = if self.is_edit() {
            " Edit entry "
        } else {
            " Add entry "
        };
        let inner = crate::ui::dialog_frame(rect, buf, theme, title, Role::BorderFocused);
        for (i, label) in LABELS.iter().enumerate() {
            let y = inner.y + i as u16;
            if y >= inner.bottom() {
                break;
            }
            let style = if i == self.focus {
                theme.style(Role::DialogHighlight)
            } else {
                theme.style(Role::Muted)
            };
            buf.set_stringn(
                inner.x,
                y,
                format!("{label:<9}"),
                LABEL_WIDTH as usize,
                style,
            );
            let field_area = Rect {
                x: inner.x + LABEL_WIDTH,
                y,
                width: inner.width.saturating_sub(LABEL_WIDTH),
                height: 1,
            };
            (&self.fields[i]).render(field_area, buf);
        }
        let hint_y = inner.y + LABELS.len() as u16 + 1;
        let lines = vec![
            match &self.error {
                Some(e) => Line::styled(e.as_str(), theme.style(Role::Error)),
                None => Line::raw(""),
            },
            Line::styled(
                "Tab next field · Enter save · Esc cancel",
                theme.style(Role::Muted),
            ),
            Line::styled(
                "kinds: password ssh-key totp api-key note · paste a key",
                theme.style(Role::Muted),
            ),
        ];
        if hint_y < inner.bottom() {
            let hint = Rect {
                y: hint_y,
                height: inner.bottom() - hint_y,
                ..inner
            };
            Paragraph::new(lines).render(hint, buf);
        }
    }
}
