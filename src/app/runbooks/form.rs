//! The parameter form of a runbook or a snippet: one field per parameter, its default filled
//! in; the values are checked (patterns, required) by the runbook module when Enter is pressed
//! and a problem is shown under the form, which stays open.

use crate::runbook::Param;
use crate::ui::input::TextInput;
use crate::ui::theme::{Role, Theme};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};
use std::collections::BTreeMap;

struct Field {
    name: String,
    /// The description and the pattern, as the form shows them.
    hint: String,
    input: TextInput,
    /// The runbook's targets rather than a parameter.
    targets: bool,
}

/// What the form decided after a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormOutcome {
    Stay,
    Cancel,
    /// The values typed, by parameter name (empty fields left out, so defaults and "missing"
    /// are the runbook module's to decide).
    Submit(BTreeMap<String, String>),
}

pub struct ParamForm {
    /// Whose parameters: "snippet NAME" or "runbook NAME".
    pub title: String,
    /// The command (snippet) or the steps (runbook) with their placeholders, shown above.
    pub preview: Vec<String>,
    /// What Enter does ("type into the pane", "show the plan").
    pub action: &'static str,
    fields: Vec<Field>,
    focus: usize,
    /// Why the last Enter did not go through.
    pub problem: Option<String>,
}

impl ParamForm {
    pub fn new(
        title: String,
        preview: Vec<String>,
        action: &'static str,
        params: &[Param],
    ) -> Self {
        let fields = params
            .iter()
            .map(|p| {
                let mut hint = p.description.clone();
                if let Some(pattern) = &p.pattern {
                    if !hint.is_empty() {
                        hint.push_str("  ");
                    }
                    hint.push_str(&format!("must match {pattern}"));
                }
                Field {
                    name: p.name.clone(),
                    hint,
                    input: TextInput::new(p.default.as_deref().unwrap_or("")),
                    targets: false,
                }
            })
            .collect();
        Self {
            title,
            preview,
            action,
            fields,
            focus: 0,
            problem: None,
        }
    }

    /// A first field for the hosts to run on, holding the runbook's own targets.
    pub fn with_targets(mut self, default: &str) -> Self {
        self.fields.insert(
            0,
            Field {
                name: "targets".into(),
                hint: "@group, host names or globs".into(),
                input: TextInput::new(default),
                targets: true,
            },
        );
        self
    }

    /// What the targets field holds (empty without one).
    pub fn targets(&self) -> String {
        self.fields
            .iter()
            .find(|f| f.targets)
            .map(|f| f.input.text().trim().to_string())
            .unwrap_or_default()
    }

    pub fn values(&self) -> BTreeMap<String, String> {
        self.fields
            .iter()
            .filter(|f| !f.targets && !f.input.is_empty())
            .map(|f| (f.name.clone(), f.input.text().to_string()))
            .collect()
    }

    pub fn handle_key(&mut self, key: &KeyEvent) -> FormOutcome {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Esc => FormOutcome::Cancel,
            KeyCode::Char('c') if ctrl => FormOutcome::Cancel,
            KeyCode::Enter => FormOutcome::Submit(self.values()),
            KeyCode::Down | KeyCode::Tab => {
                self.focus = (self.focus + 1).min(self.fields.len().saturating_sub(1));
                FormOutcome::Stay
            }
            KeyCode::Up | KeyCode::BackTab => {
                self.focus = self.focus.saturating_sub(1);
                FormOutcome::Stay
            }
            _ => {
                if let Some(f) = self.fields.get_mut(self.focus)
                    && f.input.key(key)
                {
                    self.problem = None;
                }
                FormOutcome::Stay
            }
        }
    }

    pub fn paste(&mut self, text: &str) {
        if let Some(f) = self.fields.get_mut(self.focus) {
            f.input.paste(text);
        }
    }

    /// Draw centred in `area`; returns where the text cursor goes.
    pub fn render(&self, area: Rect, buf: &mut Buffer, theme: &Theme) -> Option<(u16, u16)> {
        let width = area.width.min(FORM_WIDTH);
        let w = usize::from(width.saturating_sub(2));
        let muted = theme.style(Role::Muted);
        let mut lines: Vec<Line> = Vec::new();
        for row in &self.preview {
            for part in crate::ui::wrap(&crate::text::escape_controls(row), w) {
                lines.push(Line::styled(part, theme.style(Role::DialogHighlight)));
            }
        }
        lines.push(Line::raw(""));
        let mut cursor_row = None;
        let label_w = self
            .fields
            .iter()
            .map(|f| f.name.chars().count())
            .max()
            .unwrap_or(0)
            .min(w / 3);
        let input_w = w.saturating_sub(label_w + 3);
        for (i, f) in self.fields.iter().enumerate() {
            let (text, col) = f.input.window(input_w);
            let label_style = if i == self.focus {
                theme.style(Role::DialogTitle)
            } else {
                theme.style(Role::Dialog)
            };
            if i == self.focus {
                cursor_row = Some((lines.len(), label_w + 3 + col));
            }
            lines.push(Line::from(vec![
                Span::styled(crate::ui::cell(&f.name, label_w), label_style),
                Span::styled(" > ", label_style),
                Span::raw(text),
            ]));
            if !f.hint.is_empty() {
                let pad = " ".repeat(label_w + 3);
                for part in crate::ui::wrap(&f.hint, input_w.max(1)) {
                    lines.push(Line::styled(format!("{pad}{part}"), muted));
                }
            }
        }
        if self.fields.is_empty() {
            lines.push(Line::styled("no parameters", muted));
        }
        if let Some(p) = &self.problem {
            lines.push(Line::raw(""));
            for part in crate::ui::wrap(p, w) {
                lines.push(Line::styled(part, theme.style(Role::Error)));
            }
        }
        lines.push(Line::raw(""));
        lines.push(Line::styled(
            crate::ui::fit(
                &format!("Enter {}  Tab/↑/↓ field  Esc cancel", self.action),
                w,
            ),
            muted,
        ));
        let height = u16::try_from(lines.len() + 2).unwrap_or(u16::MAX);
        let rect = crate::ui::centered(area, width, height);
        if rect.is_empty() {
            return None;
        }
        let title = format!(" {} ", self.title);
        let inner = crate::ui::dialog_frame(rect, buf, theme, &title, Role::DialogTitle);
        Paragraph::new(lines)
            .style(theme.style(Role::Dialog))
            .render(inner, buf);
        let (row, col) = cursor_row?;
        let (x, y) = (
            inner.x + u16::try_from(col).ok()?,
            inner.y + u16::try_from(row).ok()?,
        );
        (x < inner.right() && y < inner.bottom()).then_some((x, y))
    }
}

/// Widest the form gets.
const FORM_WIDTH: u16 = 90;
