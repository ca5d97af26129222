//! The host view's panel: the selected finding in full (summary, aliases, installed and fixed
//! versions, the distro's upgrade command; for a configuration check, expected vs actual and
//! how to fix it), or the history (new and resolved since the previous scan, earlier scans).

use super::findings::{Row, is_new, note};
use super::render::{fg, severity_style, short_time};
use super::{Panel, ScanPane};
use crate::scan::HostRecord;
use crate::scan::history::FindingKey;
use crate::scan::report::{ConfigFinding, Finding, HostScan};
use crate::ui::theme::{Role, Theme};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Widget, Wrap};

/// Width of the labels in the panel.
const LABEL_COLS: usize = 10;
/// Finding keys listed per line of the history before "and N more".
const KEYS_SHOWN: usize = 8;

fn labelled(label: &str, value: Vec<Span<'static>>, theme: &Theme) -> Line<'static> {
    let mut spans = vec![Span::styled(
        format!("{label:<LABEL_COLS$}"),
        fg(theme, Role::Muted),
    )];
    spans.extend(value);
    Line::from(spans)
}

fn keys_text(keys: &[FindingKey]) -> String {
    let mut shown: Vec<String> = keys
        .iter()
        .take(KEYS_SHOWN)
        .map(|k| format!("{} ({})", k.id, k.package))
        .collect();
    if keys.len() > KEYS_SHOWN {
        shown.push(format!("and {} more", keys.len() - KEYS_SHOWN));
    }
    shown.join(", ")
}

impl ScanPane {
    pub(crate) fn render_panel(&self, area: Rect, buf: &mut Buffer, theme: &Theme) {
        let Some(record) = &self.record else {
            return;
        };
        let (title, lines) = match self.panel {
            Panel::None => return,
            Panel::Detail => match self.selected_row() {
                Some(Row::Finding(i)) => match record.scan.findings.get(i) {
                    Some(f) => finding_detail(&record.scan, f, record, theme),
                    None => return,
                },
                Some(Row::Config(i)) => match record.scan.config_findings.get(i) {
                    Some(c) => config_detail(c, theme),
                    None => return,
                },
                Some(Row::Note(i)) => match note(&record.scan, i) {
                    Some((text, warning)) => (
                        if warning {
                            " warning "
                        } else {
                            " not checked "
                        }
                        .to_string(),
                        vec![Line::from(text.to_string())],
                    ),
                    None => return,
                },
                None => (" detail ".into(), vec![Line::from("nothing selected")]),
            },
            Panel::History => history(record, theme),
        };
        let block = Block::default()
            .borders(Borders::TOP)
            .border_style(fg(theme, Role::Border))
            .title(Span::styled(title, fg(theme, Role::DialogTitle)));
        let inner = block.inner(area);
        block.render(area, buf);
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .render(inner, buf);
    }
}

fn finding_detail(
    scan: &HostScan,
    f: &Finding,
    record: &HostRecord,
    theme: &Theme,
) -> (String, Vec<Line<'static>>) {
    let title = format!(" {} · {} · {} ", f.id, f.severity, f.package);
    let mut lines = Vec::new();
    if !f.summary.is_empty() {
        lines.push(Line::from(f.summary.clone()));
    }
    if !f.aliases.is_empty() {
        lines.push(labelled(
            "aliases",
            vec![Span::raw(f.aliases.join(", "))],
            theme,
        ));
    }
    if !f.binaries.is_empty() && f.binaries != [f.package.clone()] {
        lines.push(labelled(
            "binaries",
            vec![Span::raw(f.binaries.join(" "))],
            theme,
        ));
    }
    let mut versions = vec![Span::raw(f.installed.clone()), Span::raw("  →  fixed in ")];
    versions.push(match &f.fixed {
        Some(v) => Span::raw(v.clone()),
        None => Span::styled("no fix published yet", fg(theme, Role::Muted)),
    });
    if is_new(&record.diff, &f.key()) {
        versions.push(Span::styled(
            "   new since the previous scan",
            fg(theme, Role::TabActivity),
        ));
    }
    lines.push(labelled("installed", versions, theme));
    let upgrade = match scan.upgrade_command(f) {
        Some(cmd) => vec![
            Span::styled(cmd, fg(theme, Role::StatusKey)),
            Span::styled("   y copies it", fg(theme, Role::Muted)),
        ],
        None if f.fixed.is_none() => vec![Span::styled(
            "none yet: watch the advisory, or mitigate",
            fg(theme, Role::Muted),
        )],
        None => vec![Span::styled(
            "unknown package manager: upgrade the binaries above",
            fg(theme, Role::Muted),
        )],
    };
    lines.push(labelled("upgrade", upgrade, theme));
    (title, lines)
}

fn config_detail(c: &ConfigFinding, theme: &Theme) -> (String, Vec<Line<'static>>) {
    let title = format!(" {} · {} ", c.check, c.severity);
    let lines = vec![
        Line::from(Span::styled(
            c.title.clone(),
            severity_style(theme, c.severity),
        )),
        labelled("expected", vec![Span::raw(c.expected.clone())], theme),
        labelled("found", vec![Span::raw(c.actual.clone())], theme),
        labelled(
            "to fix",
            vec![Span::styled(c.fix.clone(), fg(theme, Role::StatusKey))],
            theme,
        ),
    ];
    (title, lines)
}

fn history(record: &HostRecord, theme: &Theme) -> (String, Vec<Line<'static>>) {
    let title = format!(" history of {} ", record.scan.host);
    let d = &record.diff;
    let mut lines = Vec::new();
    if !d.had_previous {
        lines.push(Line::from(Span::styled(
            "first scan of this host: nothing to compare with yet",
            fg(theme, Role::Muted),
        )));
    } else {
        let none = || vec![Span::styled("none", fg(theme, Role::Muted))];
        let list = |keys: &[FindingKey]| {
            if keys.is_empty() {
                none()
            } else {
                vec![Span::raw(keys_text(keys))]
            }
        };
        lines.push(labelled("new", list(&d.new), theme));
        lines.push(labelled("resolved", list(&d.resolved), theme));
        if !d.suid_added.is_empty() || !d.suid_removed.is_empty() {
            lines.push(labelled(
                "SUID/SGID",
                vec![Span::raw(format!(
                    "added: {}; removed: {}",
                    d.suid_added.join(" "),
                    d.suid_removed.join(" ")
                ))],
                theme,
            ));
        }
    }
    for (i, entry) in record.history.iter().enumerate() {
        let label = if i == 0 { "scans" } else { "" };
        lines.push(labelled(
            label,
            vec![Span::raw(format!(
                "{}  {} findings, {} new",
                short_time(&entry.finished_at),
                entry.findings,
                entry.new
            ))],
            theme,
        ));
    }
    (title, lines)
}
