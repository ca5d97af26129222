//! The approval card: a layer over the copilot pane for one proposed command. It shows the
//! command, the model's explanation and lumen's own risk with its reasons, and waits for the
//! operator: Enter runs it, e edits it (lumen assesses the edit again), x rejects it, c copies
//! it, Esc stops the task. A High command needs the host's name typed first. At any size the
//! risk, the command, the keys and the input stay on the card; the explanation scrolls.

use crate::ai::copilot::Proposal;
use crate::ai::risk::Risk;
use crate::app::layout::PaneId;
use crate::ui::input::TextInput;
use crate::ui::theme::{Role, Theme};
use crossterm::event::{KeyCode, KeyEvent};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};
use unicode_width::UnicodeWidthStr;

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
    /// Rows of the explanation scrolled past (kept within the card by the layout).
    scroll: usize,
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
            scroll: 0,
        }
    }

    /// The confirmation did not go through, for reason `why`; the operator may type again.
    pub fn confirmation_failed(&mut self, why: String) {
        self.problem = Some(why);
        self.mode = Mode::Confirm(TextInput::default());
    }

    /// `typed` was not the host's name `host`: say what was typed and what is wanted.
    pub fn wrong_host(&mut self, typed: &str, host: &str) {
        let typed = typed.trim();
        let why = if typed.is_empty() {
            format!("nothing was typed, so nothing ran: type {host} and Enter, or Esc")
        } else {
            format!(
                "\"{}\" is not this host's name, so nothing ran: type {host} and Enter, or Esc",
                crate::ui::fit(&crate::text::escape_controls(typed), 40)
            )
        };
        self.confirmation_failed(why);
    }

    pub fn handle_key(&mut self, key: &KeyEvent, proposal: &Proposal) -> ApprovalOutcome {
        // The explanation scrolls in every mode; arrows too while nothing is typed.
        match key.code {
            KeyCode::PageDown => {
                self.scroll = self.scroll.saturating_add(SCROLL_PAGE);
                return ApprovalOutcome::Stay;
            }
            KeyCode::PageUp => {
                self.scroll = self.scroll.saturating_sub(SCROLL_PAGE);
                return ApprovalOutcome::Stay;
            }
            KeyCode::Down if self.mode == Mode::Choose => {
                self.scroll = self.scroll.saturating_add(1);
                return ApprovalOutcome::Stay;
            }
            KeyCode::Up if self.mode == Mode::Choose => {
                self.scroll = self.scroll.saturating_sub(1);
                return ApprovalOutcome::Stay;
            }
            _ => {}
        }
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

    /// Lay the card out for `area`: where it goes and which rows show, so that the risk, the
    /// command, the keys and any input are always on it and the explanation scrolls.
    pub fn layout(&self, area: Rect, theme: &Theme, proposal: &Proposal, host: &str) -> CardLayout {
        let width = area.width.min(MAX_WIDTH);
        let inner_width = width.saturating_sub(2) as usize;
        let mut head = self.head(inner_width, theme, proposal, host);
        let body = body(inner_width, theme, proposal);
        let (foot, foot_input) = self.foot(inner_width, theme, proposal, host);
        // Rows inside the frame, at most what the area gives.
        let needed = head.len() + body.len() + 1 + foot.len();
        let rows = needed.min(area.height.saturating_sub(2) as usize);
        // The command gives way only when the fixed part alone does not fit: its first row
        // (and the risk above it) stay, the rest ends in "…".
        let fixed = head.len() + foot.len();
        if fixed > rows && head.len() > 2 {
            let keep = rows.saturating_sub(foot.len()).max(2);
            if keep < head.len() {
                head.truncate(keep);
                if let Some(last) = head.last_mut() {
                    last.spans.push(Span::styled("…", theme.style(Role::Muted)));
                }
            }
        }
        let room = rows.saturating_sub(head.len() + foot.len());
        // One row of the room separates the keys from what is above them, when there is one.
        let (view, gap) = match room {
            0 => (0, 0),
            r if r > body.len() => (body.len(), r - body.len()),
            r => (r - 1, 1),
        };
        // When the body does not fit, its last row in view is a cue saying there is more.
        let overflow = body.len() > view;
        let content = if overflow && view > 1 { view - 1 } else { view };
        let max_scroll = body.len().saturating_sub(content);
        let scroll = self.scroll.min(max_scroll);
        let mut shown: Vec<Line<'static>> =
            body.iter().skip(scroll).take(content).cloned().collect();
        if content < view {
            let below = body.len() - scroll - content;
            let cue = match (scroll, below) {
                (0, n) => format!("↓ {n} more rows: PgDn"),
                (_, 0) => "↑ PgUp for the start".to_string(),
                (_, n) => format!("↑↓ {n} more rows: PgUp/PgDn"),
            };
            shown.push(Line::styled(
                crate::ui::fit(&cue, inner_width),
                theme.style(Role::StatusKey),
            ));
        }
        let mut lines = head;
        let command_row = lines.len().saturating_sub(1);
        lines.extend(shown);
        lines.extend(std::iter::repeat_n(Line::raw(""), gap));
        let foot_start = lines.len();
        lines.extend(foot);
        let height = (lines.len() as u16 + 2).min(area.height);
        let rect = Rect::new(
            area.x + (area.width - width) / 2,
            area.y + area.height.saturating_sub(height),
            width,
            height,
        );
        CardLayout {
            rect,
            lines,
            max_scroll,
            cursor_row: match &self.mode {
                Mode::Edit(_) => Some(command_row),
                Mode::Confirm(_) => foot_input.map(|r| foot_start + r),
                Mode::Choose => None,
            },
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
        let layout = self.layout(area, theme, proposal, host);
        let role = risk_role(proposal.assessment.risk);
        let inner = crate::ui::dialog_frame(layout.rect, buf, theme, " Proposed command ", role);
        Paragraph::new(layout.lines)
            .style(theme.style(Role::Dialog))
            .render(inner, buf);
        let row = u16::try_from(layout.cursor_row?).ok()?;
        let input = match &self.mode {
            Mode::Edit(i) | Mode::Confirm(i) => i,
            Mode::Choose => return None,
        };
        let col = 2 + input.window(input_width(inner.width as usize)).1 as u16;
        (row < inner.height).then(|| {
            (
                (inner.x + col).min(inner.right().saturating_sub(1)),
                inner.y + row,
            )
        })
    }

    /// Keep the scroll within what the card at `area` can show (it is laid out again on the
    /// next draw with the same inputs).
    pub fn clamp_scroll(&mut self, area: Rect, theme: &Theme, proposal: &Proposal, host: &str) {
        let max = self.layout(area, theme, proposal, host).max_scroll;
        self.scroll = self.scroll.min(max);
    }

    /// The risk and the command (or its edit, on one row).
    fn head(
        &self,
        width: usize,
        theme: &Theme,
        proposal: &Proposal,
        host: &str,
    ) -> Vec<Line<'static>> {
        let role = risk_role(proposal.assessment.risk);
        let mut title = vec![
            vec![Span::raw(format!("Run on {host}:"))],
            vec![Span::styled(
                format!(
                    " {} RISK ",
                    proposal.assessment.risk.as_str().to_uppercase()
                ),
                theme.style(role),
            )],
        ];
        if proposal.edited() {
            title.push(vec![Span::styled(
                "edited by you",
                theme.style(Role::StatusKey),
            )]);
        }
        let mut lines = pack(title, width);
        let dollar = Span::styled("$ ", theme.style(Role::DialogTitle));
        let command = theme.style(Role::DialogHighlight);
        match &self.mode {
            Mode::Edit(input) => lines.push(Line::from(vec![
                dollar,
                Span::styled(input.window(input_width(width)).0, command),
            ])),
            _ => {
                let text = crate::text::escape_controls(&proposal.command);
                for (i, row) in crate::ui::wrap(&text, width.saturating_sub(2))
                    .into_iter()
                    .enumerate()
                {
                    let lead = if i == 0 {
                        dollar.clone()
                    } else {
                        Span::raw("  ")
                    };
                    lines.push(Line::from(vec![lead, Span::styled(row, command)]));
                }
            }
        }
        lines
    }

    /// The keys, the typed confirmation and why the last one failed; and which of these rows
    /// is the one being typed.
    fn foot(
        &self,
        width: usize,
        theme: &Theme,
        proposal: &Proposal,
        host: &str,
    ) -> (Vec<Line<'static>>, Option<usize>) {
        let key = theme.style(Role::StatusKey);
        let keys = |pairs: &[(&str, &str)]| {
            let items = pairs
                .iter()
                .map(|(k, what)| {
                    vec![
                        Span::styled(k.to_string(), key),
                        Span::raw(format!(" {what}")),
                    ]
                })
                .collect();
            pack(items, width)
        };
        let mut lines = Vec::new();
        let mut input_row = None;
        match &self.mode {
            Mode::Choose => {
                let run = if proposal.needs_confirmation() {
                    "run (asks for the host's name)"
                } else {
                    "run"
                };
                lines.extend(keys(&[
                    ("Enter", run),
                    ("e", "edit"),
                    ("x", "reject"),
                    ("c", "copy"),
                    ("Esc", "stop"),
                ]));
            }
            Mode::Edit(_) => lines.extend(keys(&[
                ("Enter", "keep the edit (lumen assesses it again)"),
                ("Esc", "back"),
            ])),
            Mode::Confirm(input) => {
                for row in crate::ui::wrap(
                    &format!("High risk: type the host's name ({host}) and Enter to run it"),
                    width,
                ) {
                    lines.push(Line::styled(row, theme.style(Role::Error)));
                }
                input_row = Some(lines.len());
                lines.push(Line::from(vec![
                    Span::styled("> ", theme.style(Role::DialogTitle)),
                    Span::raw(input.window(input_width(width)).0),
                ]));
                if let Some(p) = &self.problem {
                    for row in crate::ui::wrap(p, width) {
                        lines.push(Line::styled(row, theme.style(Role::Error)));
                    }
                }
                lines.extend(keys(&[("Enter", "run"), ("Esc", "back")]));
            }
        }
        (lines, input_row)
    }
}

/// Rows PgUp/PgDn scroll the explanation by.
const SCROLL_PAGE: usize = 5;

/// Widest the card gets.
const MAX_WIDTH: u16 = 100;

/// Where the card goes and what it shows, from [`Approval::layout`].
pub struct CardLayout {
    /// The card's frame.
    pub rect: Rect,
    /// Its rows inside the frame.
    pub lines: Vec<Line<'static>>,
    /// How far the explanation can scroll.
    pub max_scroll: usize,
    /// The row of the text being typed, if any.
    pub cursor_row: Option<usize>,
}

/// Columns of a one-row input after its "$ " or "> ".
fn input_width(width: usize) -> usize {
    width.saturating_sub(3)
}

pub(crate) fn risk_role(risk: Risk) -> Role {
    match risk {
        Risk::Low => Role::StatusMessage,
        Risk::Medium => Role::TabActivity,
        Risk::High => Role::Error,
    }
}

/// What may scroll: whose command it is, lumen's reasons and notes (its word, before the
/// model's), then the model's explanation.
fn body(width: usize, theme: &Theme, proposal: &Proposal) -> Vec<Line<'static>> {
    let muted = theme.style(Role::Muted);
    let mut lines = Vec::new();
    let mut text = |s: &str, style| {
        for row in crate::ui::wrap(s, width) {
            lines.push(Line::styled(row, style));
        }
    };
    if let Some(model) = &proposal.original {
        text(
            &format!(
                "you edited the model's command; it proposed: {}",
                crate::text::escape_controls(model)
            ),
            muted,
        );
    }
    for r in &proposal.assessment.reasons {
        text(&format!("· {}", r.text), muted);
    }
    for w in &proposal.injection {
        text(
            &format!("⚠ the screen addressed the assistant: {w}"),
            theme.style(Role::Error),
        );
    }
    match &proposal.placement {
        Some(Err(why)) => text(
            &format!("✗ lumen will refuse to run this: {why}"),
            theme.style(Role::Error),
        ),
        Some(Ok(quiet)) => {
            text(
                "uses a vault value: it runs on its own channel, not typed into the pane",
                muted,
            );
            if !quiet {
                text(
                    "its output is shown to you, not sent to the model (Ctrl-r in the copilot \
                     pane releases it)",
                    muted,
                );
            }
        }
        None => {}
    }
    if !proposal.explanation.is_empty() {
        match proposal.original {
            // The explanation speaks of the model's command, not of the edit.
            Some(_) => text(
                &format!(
                    "the model's explanation of its command (not of your edit): {}",
                    proposal.explanation
                ),
                muted,
            ),
            None => text(&proposal.explanation, theme.style(Role::Dialog)),
        }
    }
    lines
}

/// `items` (each a few spans that stay together) on rows of at most `width` columns, two
/// spaces apart; an item wider than a row gets a row of its own and is cut.
fn pack(items: Vec<Vec<Span<'static>>>, width: usize) -> Vec<Line<'static>> {
    let mut rows: Vec<Line<'static>> = Vec::new();
    let mut used = 0;
    for item in items {
        let w: usize = item.iter().map(|s| s.content.width()).sum();
        match rows.last_mut() {
            Some(row) if used + 2 + w <= width => {
                row.spans.push(Span::raw("  "));
                row.spans.extend(item);
                used += 2 + w;
            }
            _ => {
                rows.push(Line::from(item));
                used = w;
            }
        }
    }
    rows
}
