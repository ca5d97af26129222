//! The copilot pane: a side pane bound to a terminal pane, showing that pane's conversation
//! (questions, the streamed answer, proposal cards, outputs, lumen's notes) above a multi-line
//! prompt box. It owns only what is on screen; the conversation lives in the app's
//! `ai::copilot::Session` for the bound pane, handed in to draw.

mod render;

pub use render::transcript_lines;

use crate::ui::input::TextBox;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// What the app must do after a key in the pane.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CopilotOutcome {
    None,
    /// Send this question.
    Send(String),
    /// Esc: stop the running answer or task.
    Stop,
    /// Show what would be sent to the model.
    ShowContext,
    /// Switch to the next `[ai.profiles]` profile.
    NextProfile,
    /// Ctrl-r: send the newest withheld output (of a command that got a vault value) to the
    /// model.
    Release,
    /// Ctrl-s: save the commands that ran in this conversation as a runbook.
    SaveRunbook,
    /// Close the pane.
    Close,
}

/// The pane's own state. Which terminal pane it talks about is the app's to know.
#[derive(Debug)]
pub struct CopilotPane {
    input: TextBox,
    /// Lines scrolled up from the bottom of the transcript.
    scroll: usize,
    /// `host · provider model · tokens (cost)`, set by the app.
    pub title: String,
}

impl Default for CopilotPane {
    fn default() -> Self {
        Self::new()
    }
}

impl CopilotPane {
    pub fn new() -> Self {
        Self {
            input: TextBox::new(),
            scroll: 0,
            title: "copilot".into(),
        }
    }

    /// The question being typed (for tests and snapshots).
    pub fn draft(&self) -> String {
        self.input.text()
    }

    pub fn handle_key(&mut self, key: &KeyEvent, busy: bool) -> CopilotOutcome {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Esc if busy => return CopilotOutcome::Stop,
            KeyCode::Esc if self.input.is_empty() => return CopilotOutcome::Close,
            KeyCode::Esc => self.input.clear(),
            KeyCode::Enter
                if !key
                    .modifiers
                    .intersects(KeyModifiers::ALT | KeyModifiers::SHIFT) =>
            {
                let text = self.input.text();
                if text.trim().is_empty() {
                    return CopilotOutcome::None;
                }
                self.input.clear();
                self.scroll = 0;
                return CopilotOutcome::Send(text);
            }
            KeyCode::Char('o') if ctrl => return CopilotOutcome::ShowContext,
            KeyCode::Char('p') if ctrl => return CopilotOutcome::NextProfile,
            KeyCode::Char('r') if ctrl => return CopilotOutcome::Release,
            KeyCode::Char('s') if ctrl => return CopilotOutcome::SaveRunbook,
            KeyCode::PageUp => self.scroll = self.scroll.saturating_add(10),
            KeyCode::PageDown => self.scroll = self.scroll.saturating_sub(10),
            _ => {
                self.input.key(key);
            }
        }
        CopilotOutcome::None
    }

    pub fn paste(&mut self, text: &str) {
        self.input.paste(text);
    }

    /// Back to the newest lines (new output arrived).
    pub fn follow(&mut self) {
        self.scroll = 0;
    }
}
