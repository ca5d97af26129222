//! The runbook picker (prefix R): the workspace's and the user's runbooks and snippets, narrowed
//! by the host picker's fuzzy filter. Choosing one hands it to the parameter form.

use crate::panes::hosts::Fuzzy;
use crate::runbook::Catalog;
use crate::ui::input::TextInput;
use crate::ui::theme::{Role, Theme};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

/// One row of the picker: a runbook or a snippet, by its index in the catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    Runbook(usize),
    Snippet(usize),
    /// A run left in the background (index into the picker's runs).
    Run(usize),
}

/// What the picker decided after a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PickOutcome {
    Stay,
    Cancel,
    Chosen(Choice),
}

pub struct Picker {
    pub catalog: Catalog,
    input: TextInput,
    selected: usize,
    fuzzy: Fuzzy,
    /// The rows matching the filter, best first.
    shown: Vec<Choice>,
    /// Where the files are looked for, for the hint when there are none.
    pub dirs_hint: String,
    /// Runs left in the background: (run, runbook, progress), listed first.
    pub runs: Vec<(u64, String, String)>,
}

impl Picker {
    pub fn new(catalog: Catalog, dirs_hint: String, runs: Vec<(u64, String, String)>) -> Self {
        let mut p = Self {
            catalog,
            input: TextInput::default(),
            selected: 0,
            fuzzy: Fuzzy::default(),
            shown: Vec::new(),
            dirs_hint,
            runs,
        };
        p.refilter();
        p
    }

    fn all(&self) -> Vec<Choice> {
        let runs = (0..self.runs.len()).map(Choice::Run);
        let runbooks = (0..self.catalog.runbooks.len()).map(Choice::Runbook);
        runs.chain(runbooks)
            .chain((0..self.catalog.snippets.len()).map(Choice::Snippet))
            .collect()
    }

    /// The name, description and kind of a row.
    pub fn describe(&self, c: Choice) -> (&str, &str, &'static str) {
        match c {
            Choice::Runbook(i) => {
                let r = &self.catalog.runbooks[i];
                (&r.name, &r.description, "runbook")
            }
            Choice::Snippet(i) => {
                let s = &self.catalog.snippets[i];
                (&s.name, &s.description, "snippet")
            }
            Choice::Run(i) => {
                let (_, name, progress) = &self.runs[i];
                (name, progress, "run")
            }
        }
    }

    fn refilter(&mut self) {
        let all = self.all();
        let mut fuzzy = std::mem::take(&mut self.fuzzy);
        let fields: Vec<Vec<&str>> = all
            .iter()
            .map(|c| {
                let (name, description, kind) = self.describe(*c);
                vec![name, description, kind]
            })
            .collect();
        let order = fuzzy.rank(self.input.text(), &fields);
        drop(fields);
        self.fuzzy = fuzzy;
        self.shown = order.into_iter().map(|i| all[i]).collect();
        self.selected = 0;
    }

    /// The rows shown, in order (tests and drawing).
    pub fn rows(&self) -> &[Choice] {
        &self.shown
    }

    pub fn handle_key(&mut self, key: &KeyEvent) -> PickOutcome {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Esc => PickOutcome::Cancel,
            KeyCode::Char('c') if ctrl => PickOutcome::Cancel,
            KeyCode::Enter => self
                .shown
                .get(self.selected)
                .map_or(PickOutcome::Stay, |c| PickOutcome::Chosen(*c)),
            KeyCode::Up => {
                self.selected = self.selected.saturating_sub(1);
                PickOutcome::Stay
            }
            KeyCode::Down | KeyCode::Tab => {
                self.selected = (self.selected + 1).min(self.shown.len().saturating_sub(1));
                PickOutcome::Stay
            }
            _ => {
                if self.input.key(key) {
                    self.refilter();
                }
                PickOutcome::Stay
            }
        }
    }

    pub fn paste(&mut self, text: &str) {
        self.input.paste(text);
        self.refilter();
    }

    /// Draw centred in `area`; returns where the text cursor goes.
    pub fn render(&self, area: Rect, buf: &mut Buffer, theme: &Theme) -> Option<(u16, u16)> {
        let width = area.width.min(PICKER_WIDTH);
        let height = area.height.min(PICKER_HEIGHT);
        let rect = crate::ui::centered(area, width, height);
        if rect.is_empty() {
            return None;
        }
        let inner = crate::ui::dialog_frame(
            rect,
            buf,
            theme,
            " Runbooks and snippets ",
            Role::DialogTitle,
        );
        let w = usize::from(inner.width);
        let (typed, cursor) = self.input.window(w.saturating_sub(2));
        let mut lines = vec![
            Line::from(vec![
                Span::styled("> ", theme.style(Role::DialogTitle)),
                Span::raw(typed),
            ]),
            Line::raw(""),
        ];
        let room = usize::from(inner.height).saturating_sub(3);
        let first = self.selected.saturating_sub(room.saturating_sub(1));
        let name_w = self
            .shown
            .iter()
            .map(|c| self.describe(*c).0.chars().count())
            .max()
            .unwrap_or(0)
            .min(w / 3);
        for (i, c) in self.shown.iter().enumerate().skip(first).take(room) {
            let (name, description, kind) = self.describe(*c);
            let text = format!(
                "{} {} {}",
                crate::ui::cell(kind, 7),
                crate::ui::cell(name, name_w),
                description
            );
            let style = if i == self.selected {
                theme.style(Role::DialogHighlight)
            } else {
                theme.style(Role::Dialog)
            };
            lines.push(Line::styled(crate::ui::fit(&text, w), style));
        }
        if self.shown.is_empty() {
            let why = if self.all().is_empty() {
                format!("no runbooks or snippets yet: {}", self.dirs_hint)
            } else {
                "nothing matches".to_string()
            };
            for row in crate::ui::wrap(&why, w) {
                lines.push(Line::styled(row, theme.style(Role::Muted)));
            }
        }
        let used = lines.len();
        lines.extend(std::iter::repeat_n(
            Line::raw(""),
            usize::from(inner.height).saturating_sub(used + 1),
        ));
        lines.push(Line::styled(
            crate::ui::fit("Enter choose  ↑/↓ move  type to filter  Esc close", w),
            theme.style(Role::Muted),
        ));
        Paragraph::new(lines)
            .style(theme.style(Role::Dialog))
            .render(inner, buf);
        let x = inner.x + 2 + u16::try_from(cursor).unwrap_or(0);
        (x < inner.right()).then_some((x, inner.y))
    }
}

/// Widest and tallest the picker gets.
const PICKER_WIDTH: u16 = 90;
const PICKER_HEIGHT: u16 = 18;
