//! Drawing the copilot pane: the transcript (paragraphs, lists and code blocks kept readable,
//! proposal cards with lumen's risk and reasons, outputs, notes), bottom-anchored and
//! scrollable, over the prompt box and its key hints.

use super::CopilotPane;
use crate::ai::copilot::{Item, ProposalState};
use crate::ai::risk::Risk;
use crate::ui::theme::{Role, Theme};
use crate::ui::wrap;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Widget};
use unicode_width::UnicodeWidthStr;

/// Output lines shown per command (the model gets them all).
const OUTPUT_LINES: usize = 12;
/// Rows the prompt box takes at most.
const INPUT_ROWS: u16 = 5;
/// The pane's keys, shown over the prompt box.
const HINTS: [&str; 7] = [
    "Enter send",
    "Alt-Enter newline",
    "Esc stop",
    "C-o context",
    "C-p profile",
    "C-r release",
    "C-s runbook",
];
/// What an empty pane says.
const INTRO: &str = "Ask about this terminal's host. The copilot reads its screen (secrets \
                     masked) and proposes commands; each runs only after you approve it.";

/// The key hints in lines of at most `width` columns, a hint cut only when it alone is wider.
fn hint_lines(width: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut line = String::new();
    for hint in HINTS {
        if !line.is_empty() && line.width() + 3 + hint.width() > width {
            out.push(std::mem::take(&mut line));
        }
        if line.is_empty() {
            let mut pieces = wrap(hint, width);
            line = pieces.pop().unwrap_or_default();
            out.extend(pieces);
        } else {
            line.push_str(" · ");
            line.push_str(hint);
        }
    }
    out.push(line);
    out
}

fn risk_role(risk: Risk) -> Role {
    match risk {
        Risk::Low => Role::StatusMessage,
        Risk::Medium => Role::TabActivity,
        Risk::High => Role::Error,
    }
}

/// Markdown-ish answer text: fenced code kept as is (highlighted), other lines wrapped.
fn answer_lines(text: &str, width: usize, theme: &Theme, out: &mut Vec<Line<'static>>) {
    let mut in_code = false;
    for raw in text.split('\n') {
        if raw.trim_start().starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if in_code {
            out.push(Line::styled(
                format!("  {raw}"),
                theme.style(Role::Selection),
            ));
            continue;
        }
        let heading = raw.starts_with('#');
        let shown = raw.trim_start_matches('#').trim_start();
        let style = if heading {
            Style::default().add_modifier(Modifier::BOLD)
        } else {
            Style::default()
        };
        let indent = if shown.starts_with("- ") || shown.starts_with("* ") {
            "  "
        } else {
            ""
        };
        for (i, l) in wrap(shown, width.saturating_sub(indent.len()))
            .into_iter()
            .enumerate()
        {
            let prefix = if i == 0 { "" } else { indent };
            out.push(Line::styled(format!("{prefix}{l}"), style));
        }
    }
}

/// Every item as styled lines for `width` columns.
pub fn transcript_lines(items: &[Item], width: usize, theme: &Theme) -> Vec<Line<'static>> {
    let muted = theme.style(Role::Muted);
    let mut out: Vec<Line<'static>> = Vec::new();
    for item in items {
        if !out.is_empty() {
            out.push(Line::raw(""));
        }
        match item {
            Item::User(q) => {
                for (i, l) in wrap(q, width.saturating_sub(2)).into_iter().enumerate() {
                    let mark = if i == 0 { "› " } else { "  " };
                    out.push(Line::styled(
                        format!("{mark}{l}"),
                        theme.style(Role::DialogTitle),
                    ));
                }
            }
            Item::Assistant(a) => answer_lines(a, width, theme, &mut out),
            Item::Proposal(p) => {
                let badge = format!(" {} ", p.assessment.risk.as_str().to_uppercase());
                let state = match &p.state {
                    ProposalState::Pending => "waiting for you".to_string(),
                    ProposalState::Running { auto: true } => "running (read-only-auto)".into(),
                    ProposalState::Running { auto: false } => "running".into(),
                    ProposalState::Done => "ran".into(),
                    ProposalState::Rejected => "rejected".into(),
                    ProposalState::Refused(why) => format!("refused: {why}"),
                    ProposalState::Stopped => "stopped".into(),
                };
                let whose = if p.edited() {
                    "your edit of the model's command "
                } else {
                    "proposed "
                };
                out.push(Line::from(vec![
                    Span::styled(whose, muted),
                    Span::styled(badge, theme.style(risk_role(p.assessment.risk))),
                    Span::styled(format!(" {state}"), muted),
                ]));
                for l in wrap(&p.command, width.saturating_sub(2)) {
                    out.push(Line::styled(
                        format!("$ {l}"),
                        theme.style(Role::DialogHighlight),
                    ));
                }
                match &p.original {
                    // The explanation speaks of the model's command, not of the edit.
                    Some(model) => {
                        for l in wrap(&format!("the model proposed: {model}"), width) {
                            out.push(Line::styled(l, muted));
                        }
                        if !p.explanation.is_empty() {
                            let text = format!("its explanation of that: {}", p.explanation);
                            for l in wrap(&text, width) {
                                out.push(Line::styled(l, muted));
                            }
                        }
                    }
                    None if !p.explanation.is_empty() => {
                        for l in wrap(&p.explanation, width) {
                            out.push(Line::raw(l));
                        }
                    }
                    None => {}
                }
                for r in p.assessment.reasons.iter().take(3) {
                    out.push(Line::styled(format!("· {}", r.text), muted));
                }
            }
            Item::Withheld {
                command,
                text,
                released,
            } => {
                let state = if *released {
                    "released to the model"
                } else {
                    "withheld from the model: it received a vault value; Ctrl-r releases it"
                };
                out.push(Line::styled(
                    format!("output of {command} ({state}):"),
                    theme.style(Role::StatusKey),
                ));
                output_lines(text, width, *released, muted, &mut out);
            }
            Item::Output { command, text } => {
                out.push(Line::styled(format!("output of {command}:"), muted));
                output_lines(text, width, true, muted, &mut out);
            }
            Item::Notice(n) => {
                for l in wrap(n, width) {
                    out.push(Line::styled(l, muted.add_modifier(Modifier::ITALIC)));
                }
            }
            Item::Error(e) => {
                for l in wrap(e, width) {
                    out.push(Line::styled(l, theme.style(Role::Error)));
                }
            }
        }
    }
    out
}

/// The first [`OUTPUT_LINES`] lines of a command's output, cut to `width`.
fn output_lines(text: &str, width: usize, sent: bool, style: Style, out: &mut Vec<Line<'static>>) {
    let lines: Vec<&str> = text.lines().collect();
    let shown = lines.len().min(OUTPUT_LINES);
    for l in &lines[..shown] {
        let cut: String = l.chars().take(width).collect();
        out.push(Line::styled(cut, style));
    }
    if lines.len() > shown {
        let whose = if sent {
            "sent to the model"
        } else {
            "not sent"
        };
        out.push(Line::styled(
            format!("… {} more lines ({whose})", lines.len() - shown),
            style,
        ));
    }
}

impl CopilotPane {
    /// Draw the pane with the bound conversation's `items`; `busy` shows a working line.
    pub fn render_with(
        &self,
        area: Rect,
        buf: &mut Buffer,
        theme: &Theme,
        items: &[Item],
        busy: bool,
    ) -> Option<(u16, u16)> {
        if area.height < 4 || area.width < 10 {
            return None;
        }
        let input_rows =
            ((self.input.line_count() as u16).clamp(1, INPUT_ROWS) + 2).min(area.height - 1);
        let hints = hint_lines(area.width as usize);
        // The transcript keeps a row at least; hints beyond that are left out.
        let hint_rows = (hints.len() as u16).min(area.height.saturating_sub(input_rows + 1));
        let transcript = Rect::new(
            area.x,
            area.y,
            area.width,
            area.height - input_rows - hint_rows,
        );
        let hint_area = Rect::new(area.x, area.y + transcript.height, area.width, hint_rows);
        let prompt = Rect::new(area.x, hint_area.y + hint_rows, area.width, input_rows);
        let mut lines = transcript_lines(items, transcript.width as usize, theme);
        if busy {
            lines.push(Line::styled(
                "… working (Esc stops)",
                theme.style(Role::StatusKey),
            ));
        }
        if lines.is_empty() {
            for l in wrap(INTRO, transcript.width as usize) {
                lines.push(Line::styled(l, theme.style(Role::Muted)));
            }
        }
        let room = transcript.height as usize;
        let end = lines
            .len()
            .saturating_sub(self.scroll.min(lines.len().saturating_sub(room)));
        let start = end.saturating_sub(room);
        Paragraph::new(lines[start..end].to_vec()).render(transcript, buf);
        let hints: Vec<Line> = hints
            .into_iter()
            .take(hint_rows as usize)
            .map(|h| Line::styled(h, theme.style(Role::Muted)))
            .collect();
        Paragraph::new(hints).render(hint_area, buf);
        let block = Block::default()
            .borders(Borders::TOP)
            .border_style(theme.style(Role::Border));
        let inner = block.inner(prompt);
        block.render(prompt, buf);
        let mut input = self.input_view();
        input.set_style(Style::default(), theme.style(Role::Selection));
        input.render(inner, buf);
        None
    }

    fn input_view(&self) -> crate::ui::input::TextBox {
        self.input.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapping_keeps_words_and_cuts_long_ones() {
        assert_eq!(wrap("a bb ccc", 4), ["a bb", "ccc"]);
        assert_eq!(wrap("x", 8), ["x"]);
        let long = wrap(&"y".repeat(20), 8);
        assert_eq!(long, ["yyyyyyyy", "yyyyyyyy", "yyyy"]);
        assert_eq!(wrap("one\ntwo", 10), ["one", "two"]);
    }

    #[test]
    fn key_hints_fill_lines_and_never_lose_a_key() {
        for width in [1, 8, 20, 30, 45, 80, 200] {
            let lines = hint_lines(width);
            assert!(
                lines.iter().all(|l| l.width() <= width),
                "{width}: {lines:?}"
            );
            let all = lines.join(" ");
            for hint in HINTS {
                let words: Vec<&str> = hint.split(' ').collect();
                let squeezed: String = all.split_whitespace().collect();
                assert!(
                    squeezed.contains(&words.concat()),
                    "{width}: {hint} in {lines:?}"
                );
            }
        }
        assert_eq!(hint_lines(200).len(), 1);
    }

    #[test]
    fn withheld_output_says_so_and_how_to_release_it() {
        let text = |released| {
            let item = Item::Withheld {
                command: "sudo -S id".into(),
                text: "uid=0".into(),
                released,
            };
            transcript_lines(&[item], 200, &Theme::builtin())
                .iter()
                .map(|l| l.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        };
        let held = text(false);
        assert!(held.contains("withheld from the model") && held.contains("Ctrl-r"));
        assert!(held.contains("uid=0"), "the operator sees it: {held}");
        assert!(text(true).contains("released to the model"));
    }
}
