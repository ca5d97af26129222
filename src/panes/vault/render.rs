//! Drawing the vault browser: list (scope-marked) beside the detail of the selected entry,
//! a status/filter line, and the form or delete confirmation on top. Read-only.

use super::browser::{Mode, VaultBrowser};
use crate::ui::theme::{Role, Theme};
use crate::vault::{Kind, Scope};
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Widget, Wrap};
use secrecy::ExposeSecret;

const MASKED: &str = "••••••••";
const COUNTDOWN_WIDTH: u64 = 10;

fn scope_mark(scope: Scope) -> &'static str {
    match scope {
        Scope::Personal => "P",
        Scope::Workspace => "W",
        Scope::Team => "T",
    }
}

impl VaultBrowser {
    pub fn render(&self, area: Rect, buf: &mut Buffer, theme: &Theme) {
        let block = Block::default()
            .borders(Borders::ALL)
            .title(Span::styled(" Vault ", theme.style(Role::DialogTitle)))
            .border_style(theme.style(Role::BorderFocused));
        let inner = block.inner(area);
        block.render(area, buf);
        if self.locked {
            let lines = vec![
                Line::styled(
                    "The vault is locked; decrypted data was dropped.",
                    theme.style(Role::Muted),
                ),
                Line::styled("Enter unlock · q close", theme.style(Role::Muted)),
            ];
            Paragraph::new(lines).render(super::centered(inner, 52, 2), buf);
            return;
        }
        let [body, footer] =
            Layout::vertical([Constraint::Min(1), Constraint::Length(1)]).areas(inner);
        let [list, detail] =
            Layout::horizontal([Constraint::Percentage(40), Constraint::Percentage(60)])
                .areas(body);
        self.render_list(list, buf, theme);
        self.render_detail(detail, buf, theme);
        self.render_footer(footer, buf, theme);
        match &self.mode {
            Mode::Form(form) => form.render(area, buf, theme),
            Mode::ConfirmDelete => self.render_confirm(area, buf, theme),
            Mode::List | Mode::Filter => {}
        }
    }

    fn render_list(&self, area: Rect, buf: &mut Buffer, theme: &Theme) {
        let block = Block::default()
            .borders(Borders::RIGHT)
            .border_style(theme.style(Role::Border));
        let inner = block.inner(area);
        block.render(area, buf);
        if self.rows.is_empty() {
            let text = if self.filter.is_empty() {
                "no entries · a to add"
            } else {
                "no match"
            };
            buf.set_stringn(
                inner.x,
                inner.y,
                text,
                inner.width as usize,
                theme.style(Role::Muted),
            );
            return;
        }
        let height = inner.height as usize;
        let first = self.selected.saturating_sub(height.saturating_sub(1));
        for (row, r) in self.rows.iter().enumerate().skip(first).take(height) {
            let y = inner.y + (row - first) as u16;
            let (scope, name, kind) = (r.scope, &r.entry.name, r.entry.kind.as_str());
            let text = format!(" {} {name:<22} {kind}", scope_mark(scope));
            let style = if row == self.selected {
                theme.style(Role::Selection)
            } else {
                theme.style(Role::Tab)
            };
            buf.set_stringn(
                inner.x,
                y,
                format!("{text:<w$}", w = inner.width as usize),
                inner.width as usize,
                style,
            );
        }
    }

    fn render_detail(&self, area: Rect, buf: &mut Buffer, theme: &Theme) {
        let area = Rect {
            x: area.x + 1,
            width: area.width.saturating_sub(1),
            ..area
        };
        let Some((scope, e)) = self.current() else {
            return;
        };
        let muted = theme.style(Role::Muted);
        let field = |label: &str, value: String| {
            Line::from(vec![
                Span::styled(format!("{label:<12}"), muted),
                Span::raw(value),
            ])
        };
        let mut lines = vec![
            Line::styled(e.name.clone(), theme.style(Role::DialogTitle)),
            field("scope", scope.as_str().into()),
            field("kind", e.kind.as_str().into()),
        ];
        if let Some(u) = &e.username {
            lines.push(field("username", u.clone()));
        }
        if let Some(p) = &e.provider {
            lines.push(field("provider", p.clone()));
        }
        lines.push(field("hosts", e.hosts.join(", ")));
        lines.push(field("tags", e.tags.join(", ")));
        if let Some(fp) = &e.fingerprint {
            lines.push(field("fingerprint", fp.clone()));
        }
        if !e.notes.is_empty() {
            lines.push(field("notes", e.notes.clone()));
        }
        if e.kind == Kind::Totp
            && let Some(code) = &self.totp
        {
            let filled = code.seconds_left * COUNTDOWN_WIDTH / code.period.max(1);
            let bar: String = (0..COUNTDOWN_WIDTH)
                .map(|i| if i < filled { '█' } else { '░' })
                .collect();
            lines.push(Line::from(vec![
                Span::styled(format!("{:<12}", "code"), muted),
                Span::styled(code.code.clone(), theme.style(Role::DialogHighlight)),
                Span::raw(format!("  {bar} {:>2} s", code.seconds_left)),
            ]));
        }
        match &self.revealed {
            Some((name, secret)) if *name == e.name => {
                lines.push(Line::from(vec![
                    Span::styled(format!("{:<12}", "secret"), muted),
                    Span::styled(format!("hidden in {} s", self.reveal_secs_left), muted),
                ]));
                for l in secret.expose_secret().lines() {
                    lines.push(Line::styled(
                        l.to_string(),
                        theme.style(Role::DialogHighlight),
                    ));
                }
            }
            _ => lines.push(field("secret", MASKED.into())),
        }
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .render(area, buf);
    }

    fn render_footer(&self, area: Rect, buf: &mut Buffer, theme: &Theme) {
        let (text, role) = match (&self.mode, &self.status) {
            (Mode::Filter, _) => (format!("/{}", self.filter.text()), Role::StatusMessage),
            (_, Some(s)) => (s.clone(), Role::StatusMessage),
            _ if !self.filter.is_empty() => {
                (format!("filter: {}", self.filter.text()), Role::Muted)
            }
            _ => (
                "j/k · / filter · r reveal · c copy · t test · a add · e edit · d delete · Ctrl-L lock"
                    .into(),
                Role::Muted,
            ),
        };
        buf.set_stringn(area.x, area.y, text, area.width as usize, theme.style(role));
    }

    fn render_confirm(&self, area: Rect, buf: &mut Buffer, theme: &Theme) {
        let name = self
            .current()
            .map(|(_, e)| e.name.clone())
            .unwrap_or_default();
        let rect = super::centered(area, 44, 4);
        Clear.render(rect, buf);
        let block = Block::default()
            .borders(Borders::ALL)
            .title(Span::styled(" Delete ", theme.style(Role::DialogTitle)))
            .border_style(theme.style(Role::Error))
            .style(theme.style(Role::Dialog));
        Paragraph::new(vec![
            Line::raw(format!("Delete '{name}'?")),
            Line::styled(
                "y delete · any other key keeps it",
                theme.style(Role::Muted),
            ),
        ])
        .block(block)
        .render(rect, buf);
    }
}
