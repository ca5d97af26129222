//! The plan card: what a runbook will do before anything runs — the hosts the targets
//! resolved to, every step's command with its parameters filled and vault placeholders kept
//! as `{{vault:NAME}}`, lumen's risk for each step with its reasons, which steps take secrets
//! and which ask again. Enter approves it; a plan with a High step needs the target
//! expression typed, as `lumen run` asks at a terminal. The copilot's `propose_runbook`
//! shows this same card.

use crate::ai::risk::Risk;
use crate::runbook::plan::Plan;
use crate::ui::input::TextInput;
use crate::ui::theme::{Role, Theme};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};
use std::sync::Arc;

/// Who asked for the plan, and so who hears how it went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// The operator, through prefix R.
    Operator,
    /// The copilot of terminal pane `terminal`, in tool call `call_id`.
    Copilot {
        terminal: crate::app::layout::PaneId,
        call_id: String,
    },
}

/// What the operator decided on the card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CardOutcome {
    Stay,
    Approve,
    Reject,
}

pub struct PlanCard {
    pub plan: Arc<Plan>,
    pub origin: Origin,
    /// High risk: the target expression being typed.
    typing: Option<TextInput>,
    problem: Option<String>,
    scroll: usize,
}

impl PlanCard {
    pub fn new(plan: Arc<Plan>, origin: Origin) -> Self {
        Self {
            plan,
            origin,
            typing: None,
            problem: None,
            scroll: 0,
        }
    }

    fn high(&self) -> bool {
        self.plan.risk() == Risk::High
    }

    pub fn handle_key(&mut self, key: &KeyEvent) -> CardOutcome {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::PageDown => {
                self.scroll += SCROLL_PAGE;
                return CardOutcome::Stay;
            }
            KeyCode::PageUp => {
                self.scroll = self.scroll.saturating_sub(SCROLL_PAGE);
                return CardOutcome::Stay;
            }
            KeyCode::Char('c') if ctrl => return CardOutcome::Reject,
            _ => {}
        }
        if let Some(input) = &mut self.typing {
            return match key.code {
                KeyCode::Enter => {
                    let typed = input.text().trim().to_string();
                    if typed == self.plan.targets.trim() {
                        CardOutcome::Approve
                    } else {
                        self.problem = Some(format!(
                            "{} is not the targets, so nothing ran: type {} and Enter, or Esc",
                            if typed.is_empty() {
                                "nothing typed".to_string()
                            } else {
                                format!("\"{}\"", crate::text::escape_controls(&typed))
                            },
                            self.plan.targets
                        ));
                        *input = TextInput::default();
                        CardOutcome::Stay
                    }
                }
                KeyCode::Esc => {
                    self.typing = None;
                    self.problem = None;
                    CardOutcome::Stay
                }
                _ => {
                    input.key(key);
                    CardOutcome::Stay
                }
            };
        }
        match key.code {
            KeyCode::Enter if self.high() => {
                self.typing = Some(TextInput::default());
                CardOutcome::Stay
            }
            KeyCode::Enter => CardOutcome::Approve,
            KeyCode::Char('x') | KeyCode::Char('n') | KeyCode::Esc => CardOutcome::Reject,
            KeyCode::Down | KeyCode::Char('j') => {
                self.scroll += 1;
                CardOutcome::Stay
            }
            KeyCode::Up | KeyCode::Char('k') => {
                self.scroll = self.scroll.saturating_sub(1);
                CardOutcome::Stay
            }
            _ => CardOutcome::Stay,
        }
    }

    pub fn paste(&mut self, text: &str) {
        if let Some(i) = &mut self.typing {
            i.paste(text);
        }
    }

    /// What may scroll: hosts, parameters, steps.
    fn body(&self, theme: &Theme, w: usize) -> Vec<Line<'static>> {
        let muted = theme.style(Role::Muted);
        let p = &self.plan;
        let mut lines = Vec::new();
        let text = |lines: &mut Vec<Line<'static>>, s: &str, style| {
            for row in crate::ui::wrap(s, w) {
                lines.push(Line::styled(row, style));
            }
        };
        if !p.description.is_empty() {
            text(&mut lines, &p.description, theme.style(Role::Dialog));
        }
        let names: Vec<String> = p.hosts.iter().map(|h| h.name.clone()).collect();
        text(
            &mut lines,
            &format!(
                "on {} {} ({}): {}",
                names.len(),
                if names.len() == 1 { "host" } else { "hosts" },
                p.targets,
                crate::runbook::gather::host_set(&names)
            ),
            theme.style(Role::Dialog),
        );
        if !p.params.is_empty() {
            let params: Vec<String> = p.params.iter().map(|(k, v)| format!("{k}={v}")).collect();
            text(
                &mut lines,
                &crate::text::escape_controls(&format!("params: {}", params.join("  "))),
                muted,
            );
        }
        text(
            &mut lines,
            &format!(
                "{} at a time, on failure: {}",
                p.parallel,
                match p.on_failure {
                    crate::runbook::OnFailure::Stop => "no new host starts",
                    crate::runbook::OnFailure::Continue => "the others go on",
                }
            ),
            muted,
        );
        for (i, s) in p.steps.iter().enumerate() {
            lines.push(Line::raw(""));
            lines.push(Line::from(vec![
                Span::styled(
                    format!("{}. {} ", i + 1, s.name),
                    theme.style(Role::DialogTitle),
                ),
                Span::styled(
                    format!(" {} ", s.risk.as_str().to_uppercase()),
                    theme.style(crate::app::approval::risk_role(s.risk)),
                ),
            ]));
            let command = crate::text::escape_controls(&s.command);
            for (j, row) in crate::ui::wrap(&command, w.saturating_sub(2))
                .into_iter()
                .enumerate()
            {
                let lead = if j == 0 { "$ " } else { "  " };
                lines.push(Line::from(vec![
                    Span::styled(lead, theme.style(Role::DialogTitle)),
                    Span::styled(row, theme.style(Role::DialogHighlight)),
                ]));
            }
            for r in &s.reasons {
                text(&mut lines, &format!("· {r}"), muted);
            }
            if !s.vault.is_empty() {
                text(
                    &mut lines,
                    &format!(
                        "takes a secret, {}: filled in only on hosts the entry is bound to, sent on the \
                         channel's input, never in the remote command line",
                        s.vault
                            .iter()
                            .map(|n| format!("{{{{vault:{n}}}}}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    theme.style(Role::StatusKey),
                );
            }
            if s.confirm {
                text(
                    &mut lines,
                    "asks again before it starts",
                    theme.style(Role::StatusKey),
                );
            }
        }
        lines
    }

    fn foot(&self, theme: &Theme, w: usize) -> (Vec<Line<'static>>, Option<usize>) {
        let mut lines = Vec::new();
        let mut input_row = None;
        match &self.typing {
            None => {
                let run = if self.high() {
                    "run (asks for the targets)"
                } else {
                    "run"
                };
                lines.push(Line::from(vec![
                    Span::styled("Enter", theme.style(Role::StatusKey)),
                    Span::raw(format!(" {run}  ")),
                    Span::styled("x/Esc", theme.style(Role::StatusKey)),
                    Span::raw(" reject  "),
                    Span::styled("↑↓ PgUp/PgDn", theme.style(Role::StatusKey)),
                    Span::raw(" scroll"),
                ]));
            }
            Some(input) => {
                for row in crate::ui::wrap(
                    &format!(
                        "High risk steps: type the targets ({}) and Enter to run this plan",
                        self.plan.targets
                    ),
                    w,
                ) {
                    lines.push(Line::styled(row, theme.style(Role::Error)));
                }
                input_row = Some(lines.len());
                lines.push(Line::from(vec![
                    Span::styled("> ", theme.style(Role::DialogTitle)),
                    Span::raw(input.window(w.saturating_sub(3)).0),
                ]));
                if let Some(p) = &self.problem {
                    for row in crate::ui::wrap(p, w) {
                        lines.push(Line::styled(row, theme.style(Role::Error)));
                    }
                }
            }
        }
        (lines, input_row)
    }

    /// Draw over `area`; returns where the text cursor goes.
    pub fn render(&self, area: Rect, buf: &mut Buffer, theme: &Theme) -> Option<(u16, u16)> {
        let width = area.width.min(MAX_WIDTH);
        let w = usize::from(width.saturating_sub(2));
        let body = self.body(theme, w);
        let (foot, input_row) = self.foot(theme, w);
        let room = usize::from(area.height.saturating_sub(2));
        let view = room.saturating_sub(foot.len() + 1).min(body.len());
        let first = self.scroll.min(body.len().saturating_sub(view));
        let mut lines: Vec<Line<'static>> = body.into_iter().skip(first).take(view).collect();
        lines.push(Line::raw(""));
        let foot_start = lines.len();
        lines.extend(foot);
        let height = u16::try_from(lines.len() + 2)
            .unwrap_or(u16::MAX)
            .min(area.height);
        let rect = crate::ui::centered(area, width, height);
        let role = crate::app::approval::risk_role(self.plan.risk());
        let title = format!(
            " Runbook {} — {} risk ",
            self.plan.runbook,
            self.plan.risk().as_str()
        );
        let inner = crate::ui::dialog_frame(rect, buf, theme, &title, role);
        Paragraph::new(lines)
            .style(theme.style(Role::Dialog))
            .render(inner, buf);
        let row = u16::try_from(foot_start + input_row?).ok()?;
        let col = 2 + self.typing.as_ref()?.window(w.saturating_sub(3)).1 as u16;
        (row < inner.height).then_some((inner.x + col, inner.y + row))
    }
}

const SCROLL_PAGE: usize = 5;
const MAX_WIDTH: u16 = 100;
