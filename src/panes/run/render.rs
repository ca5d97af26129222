//! Drawing the run view: the host table and gathered outputs, or one host's full output.

use super::{HostRow, RowState, RunView};
use crate::runbook::exec::HostStatus;
use crate::runbook::gather::{final_outputs, render};
use crate::ui::theme::{Role, Theme};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

impl RunView {
    pub fn render(&self, area: Rect, buf: &mut Buffer, theme: &Theme) {
        let w = usize::from(area.width);
        let lines = match self.detail.and_then(|i| self.rows.get(i)) {
            Some(row) => self.detail_lines(row, theme, w, usize::from(area.height)),
            None => self.table_lines(theme, w, usize::from(area.height)),
        };
        Paragraph::new(lines).render(area, buf);
    }

    fn head(&self, theme: &Theme, w: usize) -> Line<'static> {
        let (done, failed, running, total) = self.progress();
        let state = match (&self.report, self.cancelling) {
            (Some(_), _) => format!("finished: {} ok, {failed} failed", done - failed),
            (None, true) => format!("cancelling… {done}/{total} done"),
            (None, false) => format!("{done}/{total} done, {failed} failed, {running} running"),
        };
        Line::from(vec![
            Span::styled(
                crate::ui::fit(
                    &format!("runbook {} on {}", self.plan.runbook, self.plan.targets),
                    w / 2,
                ),
                theme.style(Role::DialogTitle),
            ),
            Span::raw("  "),
            Span::styled(state, theme.style(Role::StatusKey)),
        ])
    }

    fn table_lines(&self, theme: &Theme, w: usize, h: usize) -> Vec<Line<'static>> {
        let host_w = self
            .rows
            .iter()
            .map(|r| r.host.chars().count())
            .max()
            .unwrap_or(4)
            .clamp(4, 24);
        let step_w = 14;
        let fixed = host_w + 1 + 11 + 1 + step_w + 1 + 4 + 1 + 7 + 1;
        let last_w = w.saturating_sub(fixed);
        let mut lines = vec![self.head(theme, w)];
        lines.push(Line::styled(
            crate::ui::fit(
                &format!(
                    "{} {} {} {} {} {}",
                    crate::ui::cell("HOST", host_w),
                    crate::ui::cell("STATUS", 11),
                    crate::ui::cell("STEP", step_w),
                    crate::ui::cell_right("EXIT", 4),
                    crate::ui::cell_right("TIME", 7),
                    "LAST LINE"
                ),
                w,
            ),
            theme.style(Role::Muted),
        ));
        for (i, r) in self.rows.iter().enumerate() {
            let step = r
                .step
                .and_then(|s| self.plan.steps.get(s))
                .map(|s| s.name.as_str())
                .unwrap_or("");
            let text = format!(
                "{} {} {} {} {} {}",
                crate::ui::cell(&r.host, host_w),
                crate::ui::cell(status_text(r), 11),
                crate::ui::cell(step, step_w),
                crate::ui::cell_right(&r.exit.map(|e| e.to_string()).unwrap_or_default(), 4),
                crate::ui::cell_right(&duration(r), 7),
                crate::ui::fit(&crate::text::escape_controls(&r.last_line), last_w),
            );
            let style = if i == self.selected {
                theme.style(Role::Selection)
            } else {
                theme.style(status_role(r.state))
            };
            lines.push(Line::styled(crate::ui::fit(&text, w), style));
        }
        if let Some(report) = &self.report {
            lines.push(Line::raw(""));
            let gathered = final_outputs(report);
            if gathered.is_empty() {
                lines.push(Line::styled(
                    "no host ran to the end",
                    theme.style(Role::Muted),
                ));
            }
            for g in gathered {
                for row in render(&g).lines() {
                    lines.push(Line::raw(crate::ui::fit(
                        &crate::text::escape_controls(row),
                        w,
                    )));
                }
            }
        }
        let keys = if self.is_done() {
            "Enter a host's output  r re-run the failed hosts  Esc close"
        } else {
            "Enter a host's output  Esc leave it running  Ctrl-c cancel the run"
        };
        // The keys stay on the last row.
        lines.truncate(h.saturating_sub(1));
        lines.extend(std::iter::repeat_n(
            Line::raw(""),
            h.saturating_sub(1 + lines.len()),
        ));
        lines.push(Line::styled(
            crate::ui::fit(keys, w),
            theme.style(Role::Muted),
        ));
        lines
    }

    fn detail_lines(&self, row: &HostRow, theme: &Theme, w: usize, h: usize) -> Vec<Line<'static>> {
        let muted = theme.style(Role::Muted);
        let mut body: Vec<Line<'static>> = Vec::new();
        for (i, s) in row.steps.iter().enumerate() {
            let exit = s
                .exit
                .map(|e| format!("exit {e}"))
                .unwrap_or_else(|| "did not finish".into());
            body.push(Line::styled(
                format!("── {}. {} ({exit})", i + 1, s.name),
                theme.style(Role::DialogTitle),
            ));
            body.push(Line::styled(
                format!("$ {}", crate::text::escape_controls(&s.command)),
                theme.style(Role::DialogHighlight),
            ));
            for l in s.stdout.lines() {
                body.push(Line::raw(crate::text::escape_controls(l).into_owned()));
            }
            for l in s.stderr.lines() {
                body.push(Line::styled(
                    format!("[stderr] {}", crate::text::escape_controls(l)),
                    theme.style(Role::Error),
                ));
            }
            if s.truncated {
                body.push(Line::styled("[output cut at lumen's cap]", muted));
            }
            if let Some(e) = &s.error {
                body.push(Line::styled(
                    format!("lumen: {e}"),
                    theme.style(Role::Error),
                ));
            }
        }
        if row.steps.is_empty() {
            body.push(Line::styled(
                match row.state {
                    RowState::Done(HostStatus::Skipped) => "not started",
                    _ => "no step has finished here yet",
                },
                muted,
            ));
        }
        let room = h.saturating_sub(2);
        let first = self.scroll.min(body.len().saturating_sub(room));
        let mut lines = vec![Line::from(vec![
            Span::styled(
                crate::ui::fit(&format!("{}: full output", row.host), w / 2),
                theme.style(Role::DialogTitle),
            ),
            Span::raw("  "),
            Span::styled(status_text(row), theme.style(status_role(row.state))),
        ])];
        lines.extend(body.into_iter().skip(first).take(room));
        lines.extend(std::iter::repeat_n(
            Line::raw(""),
            h.saturating_sub(1 + lines.len()),
        ));
        lines.push(Line::styled(
            crate::ui::fit("↑/↓ PgUp/PgDn scroll  Esc back to the hosts", w),
            muted,
        ));
        lines
    }
}

fn status_text(r: &HostRow) -> &'static str {
    match r.state {
        RowState::Waiting => "waiting",
        RowState::Running => "running",
        RowState::Done(HostStatus::Ok) => "ok",
        RowState::Done(HostStatus::Failed) => "FAILED",
        RowState::Done(HostStatus::Skipped) => "skipped",
        RowState::Done(HostStatus::Unreachable) => "UNREACHABLE",
    }
}

fn status_role(s: RowState) -> Role {
    match s {
        RowState::Done(HostStatus::Failed | HostStatus::Unreachable) => Role::Error,
        RowState::Done(HostStatus::Skipped) | RowState::Waiting => Role::Muted,
        RowState::Running => Role::StatusKey,
        RowState::Done(HostStatus::Ok) => Role::StatusMessage,
    }
}

/// Seconds with one decimal, for the steps done so far.
fn duration(r: &HostRow) -> String {
    if r.steps.is_empty() {
        return String::new();
    }
    format!("{:.1}s", r.duration_ms as f64 / 1000.0)
}
