//! Drawing the host picker: filter line, error, grouped rows with state, the empty-inventory help.

use super::{HostPicker, HostState, ListLine};
use crate::ui::theme::{Role, Theme};
use crate::ui::{cell, fit};
use crate::workspace::Host;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget, Wrap};
use unicode_width::UnicodeWidthStr;

pub(crate) const FILTER_PROMPT: &str = "filter › ";
/// At most this many rows of a long inventory error.
const MAX_ERROR_ROWS: u16 = 3;
const NAME_COLS: usize = 24;
const ADDRESS_COLS: usize = 36;
const TAG_COLS: usize = 24;
/// Characters of an error or end reason shown in a row.
const STATE_CHARS: usize = 40;

/// Rows the error takes at `width` (wrapped, capped).
pub(crate) fn error_height(error: Option<&str>, width: u16) -> u16 {
    let Some(e) = error else { return 0 };
    let w = usize::from(width.max(1));
    let rows = e
        .lines()
        .map(|l| l.chars().count().max(1).div_ceil(w))
        .sum::<usize>();
    (rows.max(1) as u16).min(MAX_ERROR_ROWS)
}

/// The first list line to show so the selected entry (and its group's header when it is the
/// group's first row) is visible, moving as little as possible from `scroll`.
pub(crate) fn scroll_for(
    lines: &[ListLine],
    selected: usize,
    scroll: usize,
    height: usize,
) -> usize {
    let Some(at) = lines.iter().position(|l| *l == ListLine::Entry(selected)) else {
        return 0;
    };
    let height = height.max(1);
    let top = match at.checked_sub(1).and_then(|i| lines.get(i)) {
        Some(ListLine::Header(..)) => at - 1,
        _ => at,
    };
    let max_scroll = lines.len().saturating_sub(height);
    let scroll = if top < scroll {
        top
    } else if at >= scroll + height {
        at + 1 - height
    } else {
        scroll
    };
    scroll.min(max_scroll).min(top)
}

/// A role's foreground and modifiers, on the pane's own background.
fn fg(theme: &Theme, role: Role) -> Style {
    let mut s = theme.style(role);
    s.bg = None;
    s
}

/// `user@hostname:port`, with only what the inventory sets (ssh_config may fill the rest).
pub fn address(h: &Host) -> String {
    let mut s = String::new();
    if let Some(u) = &h.user {
        s.push_str(u);
        s.push('@');
    }
    s.push_str(h.hostname.as_deref().unwrap_or(&h.name));
    if let Some(p) = h.port {
        s.push_str(&format!(":{p}"));
    }
    s
}

fn tags(h: &Host) -> String {
    h.tags
        .iter()
        .map(|t| format!("#{t}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The live state of this run, else when the host was last connected (any run), else never.
fn state_span(state: &HostState, last: Option<&str>, theme: &Theme) -> Span<'static> {
    let short = |s: &str| fit(s.lines().next().unwrap_or("").trim(), STATE_CHARS);
    match state {
        HostState::Never => match last {
            Some(at) => Span::styled(
                format!("last {} UTC", crate::ui::short_time(at)),
                fg(theme, Role::Muted),
            ),
            None => Span::styled("never", fg(theme, Role::Muted)),
        },
        HostState::Connecting => Span::styled("◌ connecting", fg(theme, Role::TabActivity)),
        HostState::Connected => Span::styled("● connected", fg(theme, Role::StatusMessage)),
        HostState::Failed(e) => Span::styled(format!("✗ {}", short(e)), theme.style(Role::Error)),
        HostState::Ended(r) => {
            Span::styled(format!("○ ended: {}", short(r)), fg(theme, Role::Muted))
        }
    }
}

fn pad(mut spans: Vec<Span<'static>>, width: usize, style: Style) -> Line<'static> {
    let used: usize = spans.iter().map(|s| s.content.width()).sum();
    if used < width {
        spans.push(Span::styled(" ".repeat(width - used), style));
    }
    Line::from(spans).style(style)
}

impl HostPicker {
    fn filter_line(&self, theme: &Theme) -> Line<'_> {
        let muted = fg(theme, Role::Muted);
        let mut spans = vec![
            Span::styled(FILTER_PROMPT, fg(theme, Role::DialogTitle)),
            Span::raw(self.filter.text()),
        ];
        let total = self.inventory.hosts.len();
        if self.filter.text().is_empty() {
            spans.push(Span::styled(
                "  type to filter · Space mark · Enter open · Ctrl-e edit · Ctrl-s scans",
                muted,
            ));
        } else {
            let mut shown: Vec<usize> = self.listing.entries.iter().map(|e| e.host).collect();
            shown.sort_unstable();
            shown.dedup();
            spans.push(Span::styled(
                format!("  {} of {total} hosts · Esc clears", shown.len()),
                muted,
            ));
        }
        if !self.marked.is_empty() {
            spans.push(Span::styled(
                format!(" · {} marked, Enter opens them tiled", self.marked.len()),
                fg(theme, Role::Broadcast),
            ));
        }
        Line::from(spans)
    }

    fn empty_help(&self, theme: &Theme) -> Vec<Line<'static>> {
        let key = fg(theme, Role::StatusKey);
        if self.inventory.hosts.is_empty() {
            return vec![
                Line::from(""),
                Line::from("  No hosts in this workspace yet."),
                Line::from(""),
                Line::from(vec![
                    Span::raw("  Add one:                 "),
                    Span::styled("lumen hosts add NAME --hostname H", key),
                ]),
                Line::from(vec![
                    Span::raw("  Import ~/.ssh/config:    "),
                    Span::styled("lumen hosts import", key),
                ]),
            ];
        }
        vec![Line::from(Span::styled(
            format!(
                "  No host matches {:?}. Esc clears the filter.",
                self.filter.text()
            ),
            fg(theme, Role::Muted),
        ))]
    }

    fn row(
        &self,
        i: usize,
        widths: (usize, usize, usize),
        width: usize,
        theme: &Theme,
    ) -> Line<'static> {
        let Some(entry) = self.listing.entries.get(i) else {
            return Line::from("");
        };
        let Some(host) = self.inventory.hosts.get(entry.host) else {
            return Line::from("");
        };
        let marked = self.marked.contains(&host.name);
        let selected = i == self.selected;
        let style = match (selected, marked) {
            (true, true) => theme.style(Role::Selection).add_modifier(Modifier::BOLD),
            (true, false) => theme.style(Role::Selection),
            (false, true) => theme.style(Role::SearchMatch),
            (false, false) => Style::default(),
        };
        let (nw, aw, tw) = widths;
        let tag_style = if selected || marked {
            style
        } else {
            fg(theme, Role::Muted)
        };
        let spans = vec![
            Span::styled(
                format!(
                    "{}{} {}  {}  ",
                    if selected { '›' } else { ' ' },
                    if marked { '✓' } else { ' ' },
                    cell(&host.name, nw),
                    cell(&address(host), aw),
                ),
                style,
            ),
            Span::styled(cell(&tags(host), tw), tag_style),
            Span::styled("  ", style),
            state_span(
                self.state(&host.name),
                self.last_connected(&host.name),
                theme,
            ),
        ];
        pad(spans, width, style)
    }

    pub fn render(&self, area: Rect, buf: &mut Buffer, theme: &Theme) {
        if area.is_empty() {
            return;
        }
        let width = usize::from(area.width);
        let mut y = area.y;
        Paragraph::new(self.filter_line(theme)).render(Rect { height: 1, ..area }, buf);
        y += 1;
        let err_rows = error_height(self.error.as_deref(), area.width).min(area.bottom() - y);
        if let Some(e) = &self.error {
            let rect = Rect::new(area.x, y, area.width, err_rows);
            Paragraph::new(e.as_str())
                .style(theme.style(Role::Error))
                .wrap(Wrap { trim: false })
                .render(rect, buf);
            y += err_rows;
        }
        let list = Rect::new(area.x, y, area.width, area.bottom() - y);
        if self.listing.entries.is_empty() {
            Paragraph::new(self.empty_help(theme)).render(list, buf);
            if let Some(form) = &self.form {
                form.render(area, buf, theme);
            }
            return;
        }
        let hosts = &self.inventory.hosts;
        let col = |f: &dyn Fn(&Host) -> usize, cap: usize| {
            self.listing
                .entries
                .iter()
                .filter_map(|e| hosts.get(e.host))
                .map(f)
                .max()
                .unwrap_or(0)
                .min(cap)
        };
        let widths = (
            col(&|h| h.name.width(), NAME_COLS),
            col(&|h| address(h).width(), ADDRESS_COLS),
            col(&|h| tags(h).width(), TAG_COLS),
        );
        let lines = self.lines();
        let height = usize::from(list.height);
        let scroll = scroll_for(&lines, self.selected, self.scroll, height);
        let header = theme.style(Role::DialogTitle);
        let shown: Vec<Line> = lines
            .iter()
            .skip(scroll)
            .take(height)
            .map(|l| match l {
                ListLine::Header(g, n) => pad(
                    vec![Span::styled(format!(" {g} · {n}"), header)],
                    width,
                    header,
                ),
                ListLine::Entry(i) => self.row(*i, widths, width, theme),
            })
            .collect();
        Paragraph::new(shown).render(list, buf);
        if let Some(form) = &self.form {
            form.render(area, buf, theme);
        }
    }
}
