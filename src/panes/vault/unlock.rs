//! The unlock dialog: masked passphrase input; after three wrong tries, input waits a while.

use crate::ui::input::TextInput;
use crate::ui::theme::{Role, Theme};
use crossterm::event::{KeyCode, KeyEvent};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Widget};
use secrecy::SecretString;
use std::time::{Duration, Instant};

/// Wrong tries allowed before the dialog makes the user wait.
pub const MAX_TRIES: u32 = 3;
/// How long the dialog refuses input after [`MAX_TRIES`] wrong tries.
pub const UNLOCK_DELAY: Duration = Duration::from_secs(30);

/// What the app should do after a key.
#[derive(Debug)]
pub enum UnlockOutcome {
    /// Nothing yet (typing, or waiting out the delay).
    Pending,
    /// Try this passphrase; report back with [`UnlockDialog::failed`] if it is wrong.
    Submit(SecretString),
    /// The user gave up.
    Cancel,
}

pub struct UnlockDialog {
    title: String,
    input: TextInput,
    wrong_tries: u32,
    waiting_until: Option<Instant>,
    seconds_left: u64,
    message: Option<String>,
    /// Shown under the input until a try fails (the demo's passphrase).
    hint: Option<String>,
}

/// Never prints what was typed.
impl std::fmt::Debug for UnlockDialog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UnlockDialog")
            .field("title", &self.title)
            .field("input", &"[redacted]")
            .field("wrong_tries", &self.wrong_tries)
            .field("waiting", &self.waiting_until.is_some())
            .finish()
    }
}

impl UnlockDialog {
    /// `what` names the vault, e.g. "personal vault".
    pub fn new(what: &str) -> UnlockDialog {
        UnlockDialog {
            title: format!(" Unlock {what} "),
            input: TextInput::secret(),
            wrong_tries: 0,
            waiting_until: None,
            seconds_left: 0,
            message: None,
            hint: None,
        }
    }

    /// A line under the input, e.g. where the passphrase is written down (the demo's).
    pub fn with_hint(mut self, hint: Option<String>) -> UnlockDialog {
        self.hint = hint;
        self
    }

    pub fn handle_key(&mut self, key: &KeyEvent) -> UnlockOutcome {
        if key.code == KeyCode::Esc {
            self.input.clear();
            return UnlockOutcome::Cancel;
        }
        if self.waiting_until.is_some() {
            return UnlockOutcome::Pending;
        }
        match key.code {
            KeyCode::Enter if !self.input.is_empty() => {
                return UnlockOutcome::Submit(self.input.take_secret());
            }
            _ => {
                self.input.key(key);
            }
        }
        UnlockOutcome::Pending
    }

    /// Bracketed paste (a password manager, a clipboard): its first line is appended to the
    /// input; ignored while waiting.
    pub fn handle_paste(&mut self, text: &str) {
        if self.waiting_until.is_none() {
            self.input.paste(text);
        }
    }

    /// The passphrase was wrong (or the file is unusable: pass its message). Every
    /// [`MAX_TRIES`]th wrong try starts a wait of [`UNLOCK_DELAY`].
    pub fn failed(&mut self, now: Instant, message: &str) {
        self.wrong_tries += 1;
        self.message = Some(message.to_string());
        if self.wrong_tries.is_multiple_of(MAX_TRIES) {
            self.waiting_until = Some(now + UNLOCK_DELAY);
            self.seconds_left = UNLOCK_DELAY.as_secs();
        }
    }

    /// Count the wait down; call on each clock tick.
    pub fn tick(&mut self, now: Instant) {
        if let Some(until) = self.waiting_until {
            if now >= until {
                self.waiting_until = None;
                self.seconds_left = 0;
            } else {
                self.seconds_left = super::ceil_secs(until - now);
            }
        }
    }

    pub fn is_waiting(&self) -> bool {
        self.waiting_until.is_some()
    }

    pub fn render(&self, area: Rect, buf: &mut Buffer, theme: &Theme) {
        let rect = super::centered(area, 52, 7);
        Clear.render(rect, buf);
        let block = Block::default()
            .borders(Borders::ALL)
            .title(Span::styled(
                self.title.as_str(),
                theme.style(Role::DialogTitle),
            ))
            .border_style(theme.style(Role::BorderFocused))
            .style(theme.style(Role::Dialog));
        let masked = self.input.shown();
        let status = if self.waiting_until.is_some() {
            Line::styled(
                format!(
                    "{} wrong tries; wait {} s",
                    self.wrong_tries, self.seconds_left
                ),
                theme.style(Role::Error),
            )
        } else if let Some(m) = &self.message {
            Line::styled(m.as_str(), theme.style(Role::Error))
        } else if let Some(h) = &self.hint {
            Line::styled(h.as_str(), theme.style(Role::Muted))
        } else {
            Line::raw("")
        };
        let lines = vec![
            Line::from(vec![
                Span::raw("Passphrase: "),
                Span::styled(masked.into_owned(), theme.style(Role::DialogHighlight)),
            ]),
            status,
            Line::raw(""),
            Line::styled(
                "Enter unlock · Esc cancel · Ctrl-U clear",
                theme.style(Role::Muted),
            ),
        ];
        Paragraph::new(lines).block(block).render(rect, buf);
    }
}
