//! Drawing the scan-results pane: the fleet table, the host view (header, progress, query
//! line, findings table by section) and where everything goes. The detail and history panels
//! are in `detail.rs`.

use super::findings::{Row, is_new, note};
use super::{FleetLine, Panel, ScanPane, View};
use crate::scan::OsvStatus;
use crate::scan::history::FleetRow;
use crate::scan::report::HostScan;
use crate::scan::severity::Severity;
use crate::ui::theme::{Role, Theme};
use crate::ui::{cell, cell_right, fit};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget, Wrap};
use unicode_width::UnicodeWidthStr;

pub(crate) const FILTER_PROMPT: &str = "filter › ";
/// The most rows a notice (no OSV data, a load error) takes.
const MAX_NOTICE_ROWS: u16 = 3;
/// The detail or history panel's height, border included, when there is room.
const PANEL_ROWS: u16 = 11;
const HOST_COLS: usize = 20;
const OS_COLS: usize = 24;
const ID_COLS: usize = 20;
const PACKAGE_COLS: usize = 20;
const VERSION_COLS: usize = 22;
const CHECK_COLS: usize = 30;
/// Severity words are at most this wide ("critical").
const SEVERITY_COLS: usize = 8;
const COUNT_COLS: usize = 4;
const TIME_COLS: usize = 16;
const FLEET_HELP: &str = "↑↓ move · Enter open host · s scan host · / filter hosts · r reload";
const HOST_HELP: &str = "Enter detail · h history · s scan · / filter · o sort · v severity · x fix · n new · y copy · Esc back";

/// A role's foreground and modifiers, on the pane's own background.
pub(crate) fn fg(theme: &Theme, role: Role) -> Style {
    let mut s = theme.style(role);
    s.bg = None;
    s
}

/// How a severity is shown: the worst stand out most.
pub(crate) fn severity_style(theme: &Theme, s: Severity) -> Style {
    match s {
        Severity::Critical => theme.style(Role::Error),
        Severity::High => fg(theme, Role::TabBell),
        Severity::Medium => fg(theme, Role::TabActivity),
        Severity::Low => Style::default(),
        Severity::Unknown => fg(theme, Role::Muted),
    }
}

pub(crate) use crate::ui::short_time;

/// Where the host view's parts go.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HostLayout {
    pub title: Rect,
    pub status: Rect,
    pub notice: Rect,
    pub query: Rect,
    /// The column header and the rows.
    pub table: Rect,
    pub panel: Rect,
    pub footer: Rect,
}

/// One line of the host view's table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HostLine {
    Header(&'static str, usize),
    /// Index into the pane's rows.
    Row(usize),
    /// A line saying why a section is empty.
    Empty(&'static str),
}

/// Rows a wrapped text of `width` takes, at most `cap`.
fn wrapped_height(text: &str, width: u16, cap: u16) -> u16 {
    if text.is_empty() {
        return 0;
    }
    let w = usize::from(width.max(1));
    let rows: usize = text.lines().map(|l| l.width().max(1).div_ceil(w)).sum();
    (rows.max(1) as u16).min(cap)
}

/// Take `rows` rows off the top of `area`.
fn take_top(area: &mut Rect, rows: u16) -> Rect {
    let rows = rows.min(area.height);
    let top = Rect {
        height: rows,
        ..*area
    };
    area.y += rows;
    area.height -= rows;
    top
}

fn take_bottom(area: &mut Rect, rows: u16) -> Rect {
    let rows = rows.min(area.height);
    area.height -= rows;
    Rect {
        y: area.y + area.height,
        height: rows,
        ..*area
    }
}

/// The first line to show so `at` is visible in `height` lines (the top when it fits).
pub(crate) fn scroll_for(at: usize, height: usize) -> usize {
    (at + 1).saturating_sub(height.max(1))
}

pub(crate) fn host_layout(pane: &ScanPane, area: Rect) -> HostLayout {
    let mut rest = area;
    let title = take_top(&mut rest, 1);
    let status = take_top(&mut rest, 1);
    let notice_rows = wrapped_height(&pane.notice().0, area.width, MAX_NOTICE_ROWS);
    let notice = take_top(&mut rest, notice_rows);
    let query = take_top(&mut rest, 1);
    let footer = take_bottom(&mut rest, 1);
    let panel_rows = match pane.panel {
        Panel::None => 0,
        _ => PANEL_ROWS.min(rest.height / 2),
    };
    let panel = take_bottom(&mut rest, panel_rows);
    HostLayout {
        title,
        status,
        notice,
        query,
        table: rest,
        panel,
        footer,
    }
}

struct FleetLayout {
    title: Rect,
    notice: Rect,
    filter: Rect,
    table: Rect,
    footer: Rect,
}

fn fleet_layout(pane: &ScanPane, area: Rect) -> FleetLayout {
    let mut rest = area;
    let title = take_top(&mut rest, 1);
    let notice_rows = wrapped_height(&pane.notice().0, area.width, MAX_NOTICE_ROWS);
    let notice = take_top(&mut rest, notice_rows);
    let filter = take_top(&mut rest, 1);
    let footer = take_bottom(&mut rest, 1);
    FleetLayout {
        title,
        notice,
        filter,
        table: rest,
        footer,
    }
}

/// The list row under screen row `y` of the pane (fleet or host view), if any.
pub(crate) fn row_at(pane: &ScanPane, area: Rect, y: u16) -> Option<usize> {
    match pane.view {
        View::Fleet => {
            let table = fleet_layout(pane, area).table;
            let first = table.y + 1;
            let height = usize::from(table.height.saturating_sub(1));
            let scroll = scroll_for(pane.fleet_selected, height);
            let i = scroll + usize::from(y.checked_sub(first)?);
            (i < pane.fleet_lines().len() && y < table.bottom()).then_some(i)
        }
        View::Host(_) => {
            let table = host_layout(pane, area).table;
            let first = table.y + 1;
            let lines = pane.host_lines();
            let height = usize::from(table.height.saturating_sub(1));
            let at = selected_line(&lines, pane.selected);
            let scroll = scroll_for(at, height);
            match lines.get(scroll + usize::from(y.checked_sub(first)?)) {
                Some(HostLine::Row(i)) if y < table.bottom() => Some(*i),
                _ => None,
            }
        }
    }
}

/// Where the filter's cursor is, while typing into it.
pub(crate) fn filter_cursor(pane: &ScanPane, area: Rect) -> Option<(u16, u16)> {
    let (line, prefix) = match pane.view {
        View::Fleet => (fleet_layout(pane, area).filter, 0),
        View::Host(_) => {
            let q = host_layout(pane, area).query;
            (q, pane.query_prefix().width())
        }
    };
    let x = prefix + FILTER_PROMPT.width() + pane.filter.cursor_col();
    (x < usize::from(area.width) && line.height > 0).then_some((x as u16, line.y - area.y))
}

fn selected_line(lines: &[HostLine], selected: usize) -> usize {
    lines
        .iter()
        .position(|l| *l == HostLine::Row(selected))
        .unwrap_or(0)
}

/// `spans` cut to `width` columns, ending in `…` (in the cut span's style) when something
/// did not fit, so a cut word never passes for a whole one.
fn fit_spans(spans: Vec<Span<'static>>, width: usize) -> Vec<Span<'static>> {
    let total: usize = spans.iter().map(|s| s.content.width()).sum();
    if total <= width {
        return spans;
    }
    let mut out = Vec::new();
    let mut used = 0;
    for span in spans {
        let w = span.content.width();
        if used + w < width {
            used += w;
            out.push(span);
            continue;
        }
        // `fit` keeps one column for the `…` it adds.
        out.push(Span::styled(
            fit(&format!("{}…", span.content), width - used),
            span.style,
        ));
        break;
    }
    out
}

/// A key help line (`key what · key what · …`) in `width` columns: whole items only, then
/// `…` when some did not fit, so no key is shown half-named.
fn fit_help(help: &str, width: u16) -> String {
    let width = usize::from(width);
    if help.width() <= width {
        return help.to_string();
    }
    let mut out = String::new();
    for item in help.split(" · ") {
        let next = if out.is_empty() {
            item.to_string()
        } else {
            format!("{out} · {item}")
        };
        // Room is kept for the closing " · …".
        if next.width() + 4 > width {
            break;
        }
        out = next;
    }
    if out.is_empty() {
        fit(help, width)
    } else {
        format!("{out} · …")
    }
}

/// A line of `spans` fitted to `width` (see [`fit_spans`]).
fn fit_line(spans: Vec<Span<'static>>, width: u16) -> Line<'static> {
    Line::from(fit_spans(spans, usize::from(width)))
}

fn pad(spans: Vec<Span<'static>>, width: usize, style: Style) -> Line<'static> {
    let mut spans = fit_spans(spans, width);
    let used: usize = spans.iter().map(|s| s.content.width()).sum();
    if used < width {
        spans.push(Span::styled(" ".repeat(width - used), style));
    }
    Line::from(spans).style(style)
}

impl ScanPane {
    /// A note above the table (OSV data missing, stale or unreadable; a load error), with its
    /// role.
    pub(crate) fn notice(&self) -> (String, Role) {
        if let Some(e) = &self.load_error {
            return (format!("cannot read the scan history: {e}"), Role::Error);
        }
        match &self.osv {
            Some(OsvStatus::Missing) => (
                "No OSV data imported: packages are not matched against advisories (the \
                 configuration is still checked). Import once with `lumen scan db import all.zip` \
                 (an ecosystem's export, e.g. https://osv-vulnerabilities.storage.googleapis.com/Debian/all.zip)."
                    .into(),
                Role::TabActivity,
            ),
            Some(OsvStatus::Imported {
                stale: Some(why), ..
            }) => (why.clone(), Role::TabActivity),
            Some(OsvStatus::Unreadable(e)) => (format!("OSV data: {e}"), Role::Error),
            _ => (String::new(), Role::Muted),
        }
    }

    fn osv_label(&self) -> String {
        match &self.osv {
            None => String::new(),
            Some(OsvStatus::Missing) => "no OSV data".into(),
            Some(OsvStatus::Imported { date, records, .. }) => {
                format!("OSV data of {date} ({records} records)")
            }
            Some(OsvStatus::Files(path)) => format!("OSV data from {}", path.display()),
            Some(OsvStatus::Unreadable(_)) => "OSV data unreadable".into(),
        }
    }

    /// The host view's table lines: package findings, then configuration, then notes.
    pub(crate) fn host_lines(&self) -> Vec<HostLine> {
        let Some(record) = &self.record else {
            return Vec::new();
        };
        let count = |f: fn(&Row) -> bool| self.rows.iter().filter(|r| f(r)).count();
        let packages = count(|r| matches!(r, Row::Finding(_)));
        let config = count(|r| matches!(r, Row::Config(_)));
        let notes = count(|r| matches!(r, Row::Note(_)));
        let mut out = Vec::with_capacity(self.rows.len() + 4);
        if packages == 0 {
            out.push(HostLine::Empty(if self.query.filters() {
                "no vulnerable package matches the filter"
            } else if record.scan.vulnerabilities_unchecked().is_some() {
                // Never "none found" when nothing was matched (no OSV data, packages unknown).
                "vulnerabilities not checked: see \"not checked\" below"
            } else if record.scan.findings.is_empty() {
                "no vulnerable package found"
            } else {
                "no vulnerable package shown"
            }));
        }
        for (i, row) in self.rows.iter().enumerate() {
            match row {
                Row::Config(_) if i == packages => {
                    out.push(HostLine::Header("configuration", config))
                }
                Row::Note(_) if i == packages + config => {
                    out.push(HostLine::Header("not checked, warnings", notes))
                }
                _ => {}
            }
            out.push(HostLine::Row(i));
        }
        out
    }

    /// What the query line shows before the filter prompt.
    pub(crate) fn query_prefix(&self) -> String {
        let q = &self.query;
        let mut s = format!(
            "sort {}{} · severity ≥ {} · fix: {}",
            q.sort.label(),
            if q.reverse { " ▲" } else { " ▼" },
            q.min_severity.map_or("any", |s| s.as_str()),
            q.fix.label(),
        );
        if q.only_new {
            s.push_str(" · new only");
        }
        s.push_str(" · ");
        s
    }

    pub fn render(&self, area: Rect, buf: &mut Buffer, theme: &Theme) {
        if area.is_empty() {
            return;
        }
        match &self.view {
            View::Fleet => self.render_fleet(area, buf, theme),
            View::Host(host) => self.render_host(host, area, buf, theme),
        }
    }

    fn render_notice(&self, area: Rect, buf: &mut Buffer, theme: &Theme) {
        let (text, role) = self.notice();
        if area.is_empty() || text.is_empty() {
            return;
        }
        Paragraph::new(text)
            .style(fg(theme, role))
            .wrap(Wrap { trim: false })
            .render(area, buf);
    }

    fn filter_line(&self, prefix: Vec<Span<'static>>, hint: &str, theme: &Theme) -> Line<'static> {
        let mut spans = prefix;
        spans.push(Span::styled(FILTER_PROMPT, fg(theme, Role::DialogTitle)));
        spans.push(Span::raw(self.filter.text().to_string()));
        if self.filter.is_empty() && !self.filtering {
            spans.push(Span::styled(hint.to_string(), fg(theme, Role::Muted)));
        } else if !self.filtering {
            spans.push(Span::styled("  Esc clears", fg(theme, Role::Muted)));
        }
        Line::from(spans)
    }

    fn render_fleet(&self, area: Rect, buf: &mut Buffer, theme: &Theme) {
        let layout = fleet_layout(self, area);
        let lines = self.fleet_lines();
        let listed = self.fleet_hosts();
        let count = if listed > self.fleet.len() {
            format!("{} of {} scanned", self.fleet.len(), plural(listed, "host"))
        } else {
            plural(self.fleet.len(), "host")
        };
        let mut title = vec![Span::styled(
            format!("scan results · {count}"),
            fg(theme, Role::DialogTitle),
        )];
        let osv = self.osv_label();
        if !osv.is_empty() {
            title.push(Span::styled(format!(" · {osv}"), fg(theme, Role::Muted)));
        }
        Paragraph::new(fit_line(title, layout.title.width)).render(layout.title, buf);
        self.render_notice(layout.notice, buf, theme);
        Paragraph::new(self.filter_line(Vec::new(), "/ filters hosts", theme))
            .render(layout.filter, buf);
        let help = fit_help(FLEET_HELP, layout.footer.width);
        Paragraph::new(Span::styled(help, fg(theme, Role::Muted))).render(layout.footer, buf);
        let table = layout.table;
        if table.is_empty() {
            return;
        }
        if lines.is_empty() {
            let text = if self.loading {
                vec![Line::from("  loading…")]
            } else if !self.filter.is_empty() {
                vec![Line::from(Span::styled(
                    format!(
                        "  No scanned host matches {:?}. Esc clears the filter.",
                        self.filter.text()
                    ),
                    fg(theme, Role::Muted),
                ))]
            } else {
                empty_fleet_help(theme)
            };
            Paragraph::new(text).render(table, buf);
            return;
        }
        let width = usize::from(area.width);
        let host_w = lines
            .iter()
            .map(|l| l.host.width())
            .max()
            .unwrap_or(0)
            .clamp(4, HOST_COLS);
        // Host, counts, reboot, last scan and new are fixed; the OS gets what is left.
        let fixed = 2 + host_w + 2 + 6 * (COUNT_COLS + 1) + 8 + TIME_COLS + 2 + COUNT_COLS;
        let os_natural = self
            .fleet
            .iter()
            .filter_map(|r| r.os.as_deref())
            .map(UnicodeWidthStr::width)
            .max()
            .unwrap_or(2)
            .clamp(2, OS_COLS);
        let os_w = os_natural.min(width.saturating_sub(fixed + 2));
        let widths = (host_w, os_w);
        let header_style = fg(theme, Role::DialogTitle);
        let header = format!(
            "  {}  {}{}  reboot  {}  {}",
            cell("HOST", host_w),
            if os_w > 0 {
                format!("{}  ", cell("OS", os_w))
            } else {
                String::new()
            },
            ["CRIT", "HIGH", "MED", "LOW", "UNK", "CONF"]
                .map(|h| cell_right(h, COUNT_COLS))
                .join(" "),
            cell("LAST SCAN (UTC)", TIME_COLS),
            cell_right("NEW", COUNT_COLS),
        );
        Paragraph::new(Span::styled(header.to_uppercase(), header_style))
            .render(Rect { height: 1, ..table }, buf);
        let height = usize::from(table.height.saturating_sub(1));
        let scroll = scroll_for(self.fleet_selected, height);
        let shown: Vec<Line> = lines
            .iter()
            .enumerate()
            .skip(scroll)
            .take(height)
            .map(|(i, l)| self.fleet_row(l, i == self.fleet_selected, widths, width, theme))
            .collect();
        Paragraph::new(shown).render(
            Rect {
                y: table.y + 1,
                height: table.height - 1,
                ..table
            },
            buf,
        );
    }

    fn fleet_row(
        &self,
        line: &FleetLine,
        selected: bool,
        (host_w, os_w): (usize, usize),
        width: usize,
        theme: &Theme,
    ) -> Line<'static> {
        let base = if selected {
            theme.style(Role::Selection)
        } else {
            Style::default()
        };
        // On the selected row everything takes the selection's colours.
        let style = |s: Style| if selected { base } else { s };
        let mut spans = vec![Span::styled(
            format!(
                "{} {}  ",
                if selected { '›' } else { ' ' },
                cell(line.host, host_w)
            ),
            base,
        )];
        if let Some(row) = line.row {
            spans.extend(fleet_columns(row, os_w, theme, &style));
        }
        if let Some(run) = self.running.get(line.host) {
            let text = match &run.step {
                Some(step) => format!("  ⟳ step {} · {}", step.number, step.what),
                None => "  ⟳ connecting…".to_string(),
            };
            spans.push(Span::styled(text, style(fg(theme, Role::TabActivity))));
        } else if let Some(e) = self.failed.get(line.host) {
            let first = e.lines().next().unwrap_or("");
            spans.push(Span::styled(
                format!("  ✗ {}", fit(first, 60)),
                style(fg(theme, Role::TabBell)),
            ));
        } else if line.row.is_none() {
            spans.push(Span::styled(
                "  not scanned yet · s scans it",
                style(fg(theme, Role::Muted)),
            ));
        }
        pad(spans, width, base)
    }

    fn render_host(&self, host: &str, area: Rect, buf: &mut Buffer, theme: &Theme) {
        let layout = host_layout(self, area);
        let muted = fg(theme, Role::Muted);
        let title = self.title_line(host, theme).spans;
        Paragraph::new(fit_line(title, layout.title.width)).render(layout.title, buf);
        let status = self.status_line(host, theme).spans;
        Paragraph::new(fit_line(status, layout.status.width)).render(layout.status, buf);
        self.render_notice(layout.notice, buf, theme);
        let prefix = vec![Span::styled(self.query_prefix(), muted)];
        Paragraph::new(self.filter_line(prefix, "/ package, ID", theme)).render(layout.query, buf);
        let help = fit_help(HOST_HELP, layout.footer.width);
        Paragraph::new(Span::styled(help, muted)).render(layout.footer, buf);
        let table = layout.table;
        if table.is_empty() {
            return;
        }
        let Some(record) = &self.record else {
            let text = if self.loading {
                vec![Line::from("  loading…")]
            } else if self.running.contains_key(host) {
                vec![Line::from(format!(
                    "  {host} is being scanned; its findings show here when it ends."
                ))]
            } else {
                never_scanned(host, theme)
            };
            Paragraph::new(text)
                .wrap(Wrap { trim: false })
                .render(table, buf);
            return;
        };
        let scan = &record.scan;
        let width = usize::from(area.width);
        let widths = FindingWidths::of(scan);
        Paragraph::new(Span::styled(widths.header(), fg(theme, Role::DialogTitle)))
            .render(Rect { height: 1, ..table }, buf);
        let lines = self.host_lines();
        let height = usize::from(table.height.saturating_sub(1));
        let scroll = scroll_for(selected_line(&lines, self.selected), height);
        let header = theme.style(Role::DialogTitle);
        let shown: Vec<Line> = lines
            .iter()
            .skip(scroll)
            .take(height)
            .map(|l| match l {
                HostLine::Header(name, n) => pad(
                    vec![Span::styled(format!(" {name} · {n}"), header)],
                    width,
                    header,
                ),
                HostLine::Empty(why) => Line::from(Span::styled(format!("  {why}"), muted)),
                HostLine::Row(i) => self.host_row(*i, &widths, width, theme),
            })
            .collect();
        Paragraph::new(shown).render(
            Rect {
                y: table.y + 1,
                height: table.height - 1,
                ..table
            },
            buf,
        );
        if !layout.panel.is_empty() {
            self.render_panel(layout.panel, buf, theme);
        }
    }

    fn title_line(&self, host: &str, theme: &Theme) -> Line<'static> {
        let mut spans = vec![Span::styled(host.to_string(), fg(theme, Role::DialogTitle))];
        let muted = fg(theme, Role::Muted);
        if let Some(scan) = self.record.as_ref().map(|r| &r.scan) {
            // The badge first: a long OS name must not push it off a narrow pane.
            if scan.reboot_required {
                spans.push(Span::raw(" "));
                spans.push(Span::styled(
                    " ⟳ reboot needed ",
                    theme.style(Role::SearchMatch),
                ));
            }
            let mut facts = Vec::new();
            if let Some(os) = &scan.os {
                facts.push(os.short_name());
            }
            if let Some(k) = &scan.kernel {
                facts.push(format!("kernel {k}"));
            }
            facts.push(format!("{} packages", scan.packages));
            if let Some(n) = scan.security_updates {
                facts.push(format!("{n} security updates pending"));
            }
            spans.push(Span::styled(format!(" · {}", facts.join(" · ")), muted));
        }
        Line::from(spans)
    }

    fn status_line(&self, host: &str, theme: &Theme) -> Line<'static> {
        if let Some(run) = self.running.get(host) {
            let text = match &run.step {
                Some(step) => format!("⟳ scanning {host}: step {} · {}", step.number, step.what),
                None => format!("⟳ scanning {host}: connecting…"),
            };
            return Line::from(Span::styled(text, fg(theme, Role::TabActivity)));
        }
        if let Some(e) = self.failed.get(host) {
            return Line::from(Span::styled(
                format!("✗ the last scan failed: {}", e.lines().next().unwrap_or("")),
                fg(theme, Role::TabBell),
            ));
        }
        let Some(record) = &self.record else {
            return Line::from("");
        };
        let scan = &record.scan;
        let d = &record.diff;
        let mut spans = vec![Span::raw(format!(
            "scanned {} UTC · ",
            short_time(&scan.finished_at)
        ))];
        if d.had_previous {
            let new_style = if d.new.is_empty() {
                Style::default()
            } else {
                fg(theme, Role::TabActivity)
            };
            spans.push(Span::styled(format!("{} new", d.new.len()), new_style));
            spans.push(Span::raw(format!(
                ", {} resolved since the previous scan",
                d.resolved.len()
            )));
        } else {
            spans.push(Span::styled("first scan", fg(theme, Role::Muted)));
        }
        spans.push(Span::raw(format!(
            " · {} · {}",
            scan.vulnerable_packages(),
            plural(scan.config_findings.len(), "configuration problem")
        )));
        Line::from(spans)
    }

    fn host_row(&self, i: usize, w: &FindingWidths, width: usize, theme: &Theme) -> Line<'static> {
        let Some(record) = &self.record else {
            return Line::from("");
        };
        let scan = &record.scan;
        let selected = i == self.selected;
        let base = if selected {
            theme.style(Role::Selection)
        } else {
            Style::default()
        };
        let style = |s: Style| if selected { base } else { s };
        let mark = Span::styled(if selected { "› " } else { "  " }, base);
        let spans = match self.rows.get(i) {
            Some(Row::Finding(f)) => {
                let Some(f) = scan.findings.get(*f) else {
                    return Line::from("");
                };
                let new = is_new(&record.diff, &f.key());
                vec![
                    mark,
                    Span::styled(
                        cell(f.severity.as_str(), SEVERITY_COLS),
                        style(severity_style(theme, f.severity)),
                    ),
                    Span::styled(
                        if new { " new " } else { "     " },
                        style(fg(theme, Role::TabActivity).add_modifier(Modifier::BOLD)),
                    ),
                    Span::styled(
                        format!(
                            "{}  {}  {}  ",
                            cell(&f.id, w.id),
                            cell(&f.package, w.package),
                            cell(&f.installed, w.installed)
                        ),
                        base,
                    ),
                    match &f.fixed {
                        Some(v) => Span::styled(cell(v, w.fixed), base),
                        None => {
                            Span::styled(cell("no fix yet", w.fixed), style(fg(theme, Role::Muted)))
                        }
                    },
                ]
            }
            Some(Row::Config(c)) => {
                let Some(c) = scan.config_findings.get(*c) else {
                    return Line::from("");
                };
                vec![
                    mark,
                    Span::styled(
                        cell(c.severity.as_str(), SEVERITY_COLS),
                        style(severity_style(theme, c.severity)),
                    ),
                    Span::styled(
                        format!("     {}  {}", cell(&c.check, CHECK_COLS), c.title),
                        base,
                    ),
                ]
            }
            Some(Row::Note(n)) => {
                let Some((text, warning)) = note(scan, *n) else {
                    return Line::from("");
                };
                let (sign, role) = if warning {
                    ("!", Role::TabActivity)
                } else {
                    ("?", Role::Muted)
                };
                vec![
                    mark,
                    Span::styled(
                        format!("{sign} {}", text.lines().next().unwrap_or("")),
                        style(fg(theme, role)),
                    ),
                ]
            }
            None => return Line::from(""),
        };
        pad(spans, width, base)
    }
}

/// `1 thing`, `2 things`.
fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// The fleet row's columns after the host: OS, counts, reboot, last scan, new.
fn fleet_columns(
    row: &FleetRow,
    os_w: usize,
    theme: &Theme,
    style: &dyn Fn(Style) -> Style,
) -> Vec<Span<'static>> {
    let muted = fg(theme, Role::Muted);
    let mut spans = Vec::new();
    if os_w > 0 {
        spans.push(Span::styled(
            format!("{}  ", cell(row.os.as_deref().unwrap_or("?"), os_w)),
            style(Style::default()),
        ));
    }
    for s in Severity::ALL {
        let n = row
            .counts
            .iter()
            .find(|(k, _)| *k == s)
            .map_or(0, |(_, n)| *n);
        let st = if n == 0 {
            muted
        } else {
            severity_style(theme, s)
        };
        spans.push(Span::styled(
            cell_right(&n.to_string(), COUNT_COLS),
            style(st),
        ));
        spans.push(Span::styled(" ", style(Style::default())));
    }
    let conf = row.config_findings;
    spans.push(Span::styled(
        cell_right(&conf.to_string(), COUNT_COLS),
        style(if conf == 0 { muted } else { Style::default() }),
    ));
    spans.push(Span::styled("  ", style(Style::default())));
    spans.push(if row.reboot_required {
        Span::styled("reboot", style(theme.style(Role::SearchMatch)))
    } else {
        Span::styled("      ", style(Style::default()))
    });
    spans.push(Span::styled(
        format!("  {}  ", cell(&short_time(&row.last_scan), TIME_COLS)),
        style(Style::default()),
    ));
    let new = row.new_since_last;
    spans.push(Span::styled(
        cell_right(
            &if new == 0 {
                "–".into()
            } else {
                format!("+{new}")
            },
            COUNT_COLS,
        ),
        style(if new == 0 {
            muted
        } else {
            fg(theme, Role::TabActivity)
        }),
    ));
    spans
}

/// Column widths of the findings table, from what it holds.
struct FindingWidths {
    id: usize,
    package: usize,
    installed: usize,
    fixed: usize,
}

impl FindingWidths {
    fn of(scan: &HostScan) -> Self {
        let col = |f: &dyn Fn(&crate::scan::report::Finding) -> usize, min: usize, cap: usize| {
            scan.findings
                .iter()
                .map(f)
                .max()
                .unwrap_or(0)
                .clamp(min, cap)
        };
        Self {
            id: col(&|f| f.id.width(), 2, ID_COLS),
            package: col(&|f| f.package.width(), 7, PACKAGE_COLS),
            installed: col(&|f| f.installed.width(), 9, VERSION_COLS),
            fixed: col(
                &|f| f.fixed.as_deref().unwrap_or("no fix yet").width(),
                5,
                VERSION_COLS,
            ),
        }
    }

    fn header(&self) -> String {
        format!(
            "  {}     {}  {}  {}  {}",
            cell("SEVERITY", SEVERITY_COLS),
            cell("ID", self.id),
            cell("PACKAGE", self.package),
            cell("INSTALLED", self.installed),
            cell("FIXED", self.fixed)
        )
    }
}

fn empty_fleet_help(theme: &Theme) -> Vec<Line<'static>> {
    let key = fg(theme, Role::StatusKey);
    vec![
        Line::from(""),
        Line::from("  No host has been scanned yet."),
        Line::from(""),
        Line::from(vec![
            Span::raw("  From a session:          "),
            Span::styled("prefix S, then s", key),
            Span::raw(" scans its host over the same connection"),
        ]),
        Line::from(vec![
            Span::raw("  From the host list:      "),
            Span::styled("Ctrl-s", key),
            Span::raw(" on a host opens it here"),
        ]),
        Line::from(vec![
            Span::raw("  From a shell:            "),
            Span::styled("lumen scan HOST… | @GROUP | --all", key),
        ]),
    ]
}

fn never_scanned(host: &str, theme: &Theme) -> Vec<Line<'static>> {
    let key = fg(theme, Role::StatusKey);
    vec![
        Line::from(""),
        Line::from(format!("  {host} has not been scanned yet.")),
        Line::from(""),
        Line::from(vec![
            Span::raw("  "),
            Span::styled("s", key),
            Span::raw(" scans it now in the background, over the session's SSH connection:"),
        ]),
        Line::from("    read-only commands, nothing installed or written on the host, no root."),
    ]
}
