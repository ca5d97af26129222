//! The picker's edit form: one line per field of a host, validated into a `Host` on Enter.

use crate::ui::input::TextInput as Input;
use crate::ui::theme::{Role, Theme};
use crate::workspace::Host;
use crate::workspace::hosts::check_host;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

/// The fields the form edits, top to bottom. The name is the title and is not edited here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Hostname,
    Port,
    User,
    Jump,
    Credential,
    Tags,
    Groups,
    Notes,
}

impl Field {
    pub const ALL: [Field; 8] = [
        Field::Hostname,
        Field::Port,
        Field::User,
        Field::Jump,
        Field::Credential,
        Field::Tags,
        Field::Groups,
        Field::Notes,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Field::Hostname => "hostname",
            Field::Port => "port",
            Field::User => "user",
            Field::Jump => "jump",
            Field::Credential => "credential",
            Field::Tags => "tags",
            Field::Groups => "groups",
            Field::Notes => "notes",
        }
    }

    /// The field `check_host` names in its errors.
    fn from_check(name: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.label() == name)
    }
}

/// A validation problem, under its field (or under the form when it is about no field).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: Option<Field>,
    pub message: String,
}

/// What the form decided after a key.
// One outcome per key, moved at once: boxing the host would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormOutcome {
    Stay,
    Cancel,
    Save(Host),
}

/// Label column width: the longest label, a space, and a margin.
const LABEL_COLS: u16 = 12;
const FORM_WIDTH: u16 = 96;
/// Border, blank line, hint line.
const FORM_CHROME: u16 = 4;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditForm {
    original: Host,
    inputs: Vec<Input>,
    focus: usize,
    errors: Vec<FieldError>,
}

fn join(list: &[String]) -> String {
    list.join(", ")
}

fn split(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn opt(text: &str) -> Option<String> {
    let t = text.trim();
    (!t.is_empty()).then(|| t.to_string())
}

impl EditForm {
    pub fn new(host: &Host) -> Self {
        let text = |f: Field| match f {
            Field::Hostname => host.hostname.clone().unwrap_or_default(),
            Field::Port => host.port.map(|p| p.to_string()).unwrap_or_default(),
            Field::User => host.user.clone().unwrap_or_default(),
            Field::Jump => join(&host.jump),
            Field::Credential => host.credential.clone().unwrap_or_default(),
            Field::Tags => join(&host.tags),
            Field::Groups => join(&host.groups),
            Field::Notes => host.notes.clone().unwrap_or_default(),
        };
        Self {
            original: host.clone(),
            inputs: Field::ALL
                .into_iter()
                .map(|f| Input::new(&text(f)))
                .collect(),
            focus: 0,
            errors: Vec::new(),
        }
    }

    pub fn name(&self) -> &str {
        &self.original.name
    }

    pub fn focus(&self) -> Field {
        Field::ALL[self.focus.min(Field::ALL.len() - 1)]
    }

    pub fn errors(&self) -> &[FieldError] {
        &self.errors
    }

    fn text(&self, f: Field) -> &str {
        let i = Field::ALL.iter().position(|x| *x == f).unwrap_or(0);
        self.inputs.get(i).map_or("", Input::text)
    }

    /// The edited host, or every problem found. Notes are kept verbatim (they may span lines).
    pub fn host(&self) -> Result<Host, Vec<FieldError>> {
        let mut errors = Vec::new();
        let port = match self.text(Field::Port).trim() {
            "" => None,
            p => match p.parse::<u16>() {
                Ok(n) if n > 0 => Some(n),
                _ => {
                    errors.push(FieldError {
                        field: Some(Field::Port),
                        message: format!("port {p:?} must be a number from 1 to 65535"),
                    });
                    None
                }
            },
        };
        let notes = self.text(Field::Notes);
        let host = Host {
            name: self.original.name.clone(),
            hostname: opt(self.text(Field::Hostname)),
            port,
            user: opt(self.text(Field::User)),
            jump: split(self.text(Field::Jump)),
            credential: opt(self.text(Field::Credential)),
            tags: split(self.text(Field::Tags)),
            groups: split(self.text(Field::Groups)),
            notes: (!notes.trim().is_empty()).then(|| notes.to_string()),
            options: self.original.options.clone(),
            ai: self.original.ai,
            record: self.original.record,
        };
        // check_host stops at the first problem: clear that field and look again, so every
        // field's problem shows at once.
        let mut probe = host.clone();
        for _ in 0..Field::ALL.len() + 1 {
            let Err((name, message)) = check_host(&probe) else {
                break;
            };
            let field = Field::from_check(name);
            errors.push(FieldError { field, message });
            match field {
                Some(Field::Hostname) => probe.hostname = None,
                Some(Field::Jump) => probe.jump.clear(),
                Some(Field::Port) => probe.port = None,
                Some(Field::User) => probe.user = None,
                Some(Field::Credential) => probe.credential = None,
                Some(Field::Notes) => probe.notes = None,
                Some(Field::Tags) => probe.tags.clear(),
                Some(Field::Groups) => probe.groups.clear(),
                _ => break,
            }
        }
        if errors.is_empty() {
            Ok(host)
        } else {
            Err(errors)
        }
    }

    /// Save when valid; otherwise show the problems and move to the topmost field at fault.
    fn submit(&mut self) -> FormOutcome {
        match self.host() {
            Ok(host) => FormOutcome::Save(host),
            Err(errors) => {
                if let Some(i) = errors
                    .iter()
                    .filter_map(|e| e.field)
                    .filter_map(|f| Field::ALL.iter().position(|x| *x == f))
                    .min()
                {
                    self.focus = i;
                }
                self.errors = errors;
                FormOutcome::Stay
            }
        }
    }

    pub fn handle_key(&mut self, key: &KeyEvent) -> FormOutcome {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let last = Field::ALL.len() - 1;
        match key.code {
            KeyCode::Esc => return FormOutcome::Cancel,
            KeyCode::Char('c') if ctrl => return FormOutcome::Cancel,
            KeyCode::Enter => return self.submit(),
            KeyCode::Char('s') if ctrl => return self.submit(),
            KeyCode::Down => self.focus = (self.focus + 1).min(last),
            KeyCode::Up => self.focus = self.focus.saturating_sub(1),
            KeyCode::Tab => self.focus = (self.focus + 1) % Field::ALL.len(),
            KeyCode::BackTab => self.focus = (self.focus + last) % Field::ALL.len(),
            _ => {
                if let Some(input) = self.inputs.get_mut(self.focus) {
                    input.key(key);
                }
            }
        }
        FormOutcome::Stay
    }

    pub fn paste(&mut self, text: &str) {
        if let Some(input) = self.inputs.get_mut(self.focus) {
            input.insert(text.lines().next().unwrap_or(""));
        }
    }

    fn height(&self) -> u16 {
        Field::ALL.len() as u16 + self.errors.len() as u16 + FORM_CHROME
    }

    /// Where the form sits inside the pane area.
    pub fn rect(&self, area: Rect) -> Rect {
        crate::ui::centered(area, FORM_WIDTH, self.height())
    }

    fn value_cols(rect: Rect) -> usize {
        rect.width.saturating_sub(2 + LABEL_COLS + 1) as usize
    }

    pub fn render(&self, area: Rect, buf: &mut Buffer, theme: &Theme) {
        let rect = self.rect(area);
        if rect.width < LABEL_COLS + 4 || rect.height < 3 {
            return;
        }
        let dialog = theme.style(Role::Dialog);
        let title = theme.style(Role::DialogTitle);
        let heading = format!(" Edit host {} ", self.name());
        let inner = crate::ui::dialog_frame(rect, buf, theme, &heading, Role::DialogTitle);
        let cols = Self::value_cols(rect);
        let mut lines = Vec::new();
        for (i, field) in Field::ALL.into_iter().enumerate() {
            let focused = i == self.focus;
            let label_style = if focused {
                theme.style(Role::DialogHighlight)
            } else {
                title
            };
            let (shown, _) = self
                .inputs
                .get(i)
                .map(|x| x.window(cols))
                .unwrap_or_default();
            lines.push(Line::from(vec![
                Span::styled(
                    format!(
                        "{}{:>w$} ",
                        if focused { '›' } else { ' ' },
                        field.label(),
                        w = LABEL_COLS as usize - 2
                    ),
                    label_style,
                ),
                Span::raw(" "),
                Span::styled(shown, dialog),
            ]));
            for e in self.errors.iter().filter(|e| e.field == Some(field)) {
                lines.push(error_line(&e.message, theme));
            }
        }
        for e in self.errors.iter().filter(|e| e.field.is_none()) {
            lines.push(error_line(&e.message, theme));
        }
        lines.push(Line::from(""));
        lines.push(Line::from(Span::styled(
            " Enter save · Tab next · Shift-Tab previous · Esc cancel · lists: a, b",
            theme.style(Role::Muted).bg(dialog.bg.unwrap_or_default()),
        )));
        Paragraph::new(lines).style(dialog).render(inner, buf);
    }

    /// The text cursor, relative to `area`.
    pub fn cursor(&self, area: Rect) -> Option<(u16, u16)> {
        let rect = self.rect(area);
        let before = Field::ALL[..self.focus.min(Field::ALL.len())]
            .iter()
            .map(|f| 1 + self.errors.iter().filter(|e| e.field == Some(*f)).count())
            .sum::<usize>() as u16;
        let (_, col) = self.inputs.get(self.focus)?.window(Self::value_cols(rect));
        let x = rect.x + 1 + LABEL_COLS + 1 + col as u16;
        let y = rect.y + 1 + before;
        (x < rect.right().saturating_sub(1) && y < rect.bottom().saturating_sub(1))
            .then_some((x.saturating_sub(area.x), y.saturating_sub(area.y)))
    }
}

fn error_line<'a>(message: &str, theme: &Theme) -> Line<'a> {
    Line::from(vec![
        Span::raw(" ".repeat(LABEL_COLS as usize + 1)),
        Span::styled(format!("↳ {message}"), theme.style(Role::Error)),
    ])
}
