//! The approval card: a layer over the copilot pane for one proposed command. It shows the
//! command, the model's explanation and lumen's own risk with its reasons, and waits for the
//! operator: Enter runs it, e edits it (lumen assesses the edit again), x rejects it, c copies
//! it, Esc stops the task. A High command needs the host's name typed first.

use crate::ai::copilot::Proposal;
use crate::ai::risk::Risk;
use crate::app::layout::PaneId;
use crate::ui::input::TextInput;
use crate::ui::theme::{Role, Theme};
use crossterm::event::{KeyCode, KeyEvent};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget, Wrap};

/// What the card is waiting for.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Mode {
    Choose,
    Edit(TextInput),
    /// High risk: the host's name typed to confirm.
    Confirm(TextInput),
}

/// The card for proposal `proposal` of terminal pane `pane`'s conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approval {
    pub pane: PaneId,
    pub proposal: usize,
    mode: Mode,
    /// Why the last try did not go through (wrong host name).
    problem: Option<String>,
}

/// What the operator decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApprovalOutcome {
    Stay,
    /// Run it; `confirmation` is the typed host name for a High command.
    Run {
        confirmation: Option<String>,
    },
    Edited(String),
    Reject,
    Copy,
    /// Stop the whole task.
    Stop,
}

impl Approval {
    pub fn new(pane: PaneId, proposal: usize) -> Self {
        Self {
            pane,
            proposal,
            mode: Mode::Choose,
            problem: None,
        }
    }

    /// The typed confirmation was not the host's name.
    pub fn confirmation_failed(&mut self, why: String) {
        self.problem = Some(why);
        self.mode = Mode::Confirm(TextInput::default());
    }

    pub fn handle_key(&mut self, key: &KeyEvent, proposal: &Proposal) -> ApprovalOutcome {
        match &mut self.mode {
            Mode::Choose => match key.code {
                KeyCode::Enter if proposal.needs_confirmation() => {
                    self.mode = Mode::Confirm(TextInput::default());
                    ApprovalOutcome::Stay
                }
                KeyCode::Enter => ApprovalOutcome::Run { confirmation: None },
                KeyCode::Char('e') => {
                    self.mode = Mode::Edit(TextInput::new(&proposal.command));
                    ApprovalOutcome::Stay
                }
                KeyCode::Char('x') => ApprovalOutcome::Reject,
                KeyCode::Char('c') => ApprovalOutcome::Copy,
                KeyCode::Esc => ApprovalOutcome::Stop,
                _ => ApprovalOutcome::Stay,
            },
            Mode::Edit(input) => match key.code {
                KeyCode::Enter => {
                    let text = input.text().to_string();
                    self.mode = Mode::Choose;
                    ApprovalOutcome::Edited(text)
                }
                KeyCode::Esc => {
                    self.mode = Mode::Choose;
                    ApprovalOutcome::Stay
                }
                _ => {
                    input.key(key);
                    ApprovalOutcome::Stay
                }
            },
            Mode::Confirm(input) => match key.code {
                KeyCode::Enter => ApprovalOutcome::Run {
                    confirmation: Some(input.text().to_string()),
                },
                KeyCode::Esc => {
                    self.mode = Mode::Choose;
                    self.problem = None;
                    ApprovalOutcome::Stay
                }
                _ => {
                    input.key(key);
                    ApprovalOutcome::Stay
                }
            },
        }
    }

    pub fn paste(&mut self, text: &str) {
        match &mut self.mode {
            Mode::Edit(i) | Mode::Confirm(i) => i.paste(text),
            Mode::Choose => {}
        }
    }

    /// Draw over `area` (the copilot pane, or the body when it is not shown).
    pub fn render(
        &self,
        area: Rect,
        buf: &mut Buffer,
        theme: &Theme,
        proposal: &Proposal,
        host: &str,
    ) -> Option<(u16, u16)> {
        let width = area.width.min(100);
        let mut lines: Vec<Line> = Vec::new();
        let risk_role = match proposal.assessment.risk {
            Risk::Low => Role::StatusMessage,
            Risk::Medium => Role::TabActivity,
            Risk::High => Role::Error,
        };
        lines.push(Line::from(vec![
            Span::raw(format!("Run on {host}: ")),
            Span::styled(
                format!(
                    " {} RISK ",
                    proposal.assessment.risk.as_str().to_uppercase()
                ),
                theme.style(risk_role),
            ),
            Span::styled(
                if proposal.edited { "  (edited)" } else { "" },
                theme.style(Role::Muted),
            ),
        ]));
        let command_line = match &self.mode {
            Mode::Edit(input) => Line::from(vec![
                Span::styled("$ ", theme.style(Role::DialogTitle)),
                Span::styled(
                    input.window(width.saturating_sub(6) as usize).0,
                    theme.style(Role::DialogHighlight),
                ),
            ]),
            _ => Line::from(vec![
                Span::styled("$ ", theme.style(Role::DialogTitle)),
                Span::styled(
                    crate::text::escape_controls(&proposal.command).into_owned(),
                    theme.style(Role::DialogHighlight),
                ),
            ]),
        };
        lines.push(command_line);
        if !proposal.explanation.is_empty() {
            lines.push(Line::raw(proposal.explanation.clone()));
        }
        for r in &proposal.assessment.reasons {
            lines.push(Line::styled(
                format!("· {}", r.text),
                theme.style(Role::Muted),
            ));
        }
        for w in &proposal.injection {
            lines.push(Line::styled(
                format!("⚠ the screen addressed the assistant: {w}"),
                theme.style(Role::Error),
            ));
        }
        match &proposal.placement {
            Some(Err(why)) => lines.push(Line::styled(
                format!("✗ lumen will refuse to run this: {why}"),
                theme.style(Role::Error),
            )),
            Some(Ok(quiet)) => {
                lines.push(Line::styled(
                    "uses a vault value: it runs on its own channel, not typed into the pane",
                    theme.style(Role::Muted),
                ));
                if !quiet {
                    lines.push(Line::styled(
                        "its output is shown to you, not sent to the model (Ctrl-r in the \
                         copilot pane releases it)",
                        theme.style(Role::Muted),
                    ));
                }
            }
            None => {}
        }
        lines.push(Line::raw(""));
        let key = theme.style(Role::StatusKey);
        match &self.mode {
            Mode::Choose => lines.push(Line::from(vec![
                Span::styled("Enter", key),
                Span::raw(" run  "),
                Span::styled("e", key),
                Span::raw(" edit  "),
                Span::styled("x", key),
                Span::raw(" reject  "),
                Span::styled("c", key),
                Span::raw(" copy  "),
                Span::styled("Esc", key),
                Span::raw(" stop"),
            ])),
            Mode::Edit(_) => lines.push(Line::from(vec![
                Span::styled("Enter", key),
                Span::raw(" keep the edit (lumen assesses it again)  "),
                Span::styled("Esc", key),
                Span::raw(" back"),
            ])),
            Mode::Confirm(input) => {
                lines.push(Line::styled(
                    format!("High risk: type the host's name ({host}) and Enter to run it"),
                    theme.style(Role::Error),
                ));
                lines.push(Line::from(vec![
                    Span::styled("> ", theme.style(Role::DialogTitle)),
                    Span::raw(input.text().to_string()),
                ]));
            }
        }
        if let Some(p) = &self.problem {
            lines.push(Line::styled(p.clone(), theme.style(Role::Error)));
        }
        let height = (lines.len() as u16 + 2 + 2).min(area.height);
        let rect = Rect::new(
            area.x + (area.width - width) / 2,
            area.y + area.height.saturating_sub(height),
            width,
            height,
        );
        let inner = crate::ui::dialog_frame(rect, buf, theme, " Proposed command ", risk_role);
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .style(theme.style(Role::Dialog))
            .render(inner, buf);
        match &self.mode {
            Mode::Edit(input) => {
                let x = inner.x + 2 + input.window(width.saturating_sub(6) as usize).1 as u16;
                Some((x.min(inner.right().saturating_sub(1)), inner.y + 1))
            }
            _ => None,
        }
    }
}
