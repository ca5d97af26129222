//! Dialogs that answer the SSH code's questions: an unknown host key, a password, a key
//! passphrase, keyboard-interactive rounds. They sit above every other layer; typed secrets are
//! masked on screen and zeroized when the dialog goes away.

use crate::ssh::{HostKeyDecision, PromptAnswer, PromptKind, PromptRequest};
use crate::ui::centered;
use crate::ui::input::TextInput;
use crate::ui::theme::{Role, Theme};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget, Wrap};
use secrecy::SecretString;

/// One answer field: its label and what was typed (masked unless the server says echo; wiped
/// on drop either way).
struct Field {
    label: String,
    input: TextInput,
}

impl Field {
    fn new(label: String, echo: bool) -> Self {
        let input = if echo {
            TextInput::default()
        } else {
            TextInput::secret()
        };
        Self { label, input }
    }

    fn take(&mut self) -> SecretString {
        self.input.take_secret()
    }
}

/// A question on screen, with the channel its answer goes back on.
pub struct PromptDialog {
    kind: PromptKind,
    fields: Vec<Field>,
    focus: usize,
    reply: Option<tokio::sync::oneshot::Sender<Option<PromptAnswer>>>,
}

impl PromptDialog {
    /// A dialog for `req`, or None when the question needs no user (an empty
    /// keyboard-interactive round is answered empty at once, as OpenSSH does).
    pub fn new(req: PromptRequest) -> Option<Self> {
        let fields = match &req.kind {
            PromptKind::UnknownHostKey { .. } => Vec::new(),
            PromptKind::Password { user, host } => {
                vec![Field::new(format!("{user}@{host}'s password: "), false)]
            }
            PromptKind::Passphrase { key_path, .. } => vec![Field::new(
                format!("Enter passphrase for key '{key_path}': "),
                false,
            )],
            PromptKind::KeyboardInteractive { prompts, .. } => {
                if prompts.is_empty() {
                    let _ = req.reply.send(Some(PromptAnswer::Responses(Vec::new())));
                    return None;
                }
                prompts
                    .iter()
                    .map(|(label, echo)| Field::new(label.clone(), *echo))
                    .collect()
            }
        };
        Some(Self {
            kind: req.kind,
            fields,
            focus: 0,
            reply: Some(req.reply),
        })
    }

    fn answer(&mut self, answer: Option<PromptAnswer>) {
        if let Some(reply) = self.reply.take() {
            let _ = reply.send(answer);
        }
    }

    /// Handle a key; returns true when the dialog is done (answered or cancelled).
    pub fn handle_key(&mut self, key: &KeyEvent) -> bool {
        let cancel = key.code == KeyCode::Esc
            || (key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL));
        if let PromptKind::UnknownHostKey { .. } = self.kind {
            let decision = match key.code {
                KeyCode::Char('y') | KeyCode::Char('Y') | KeyCode::Enter => {
                    HostKeyDecision::AcceptAndSave
                }
                KeyCode::Char('o') | KeyCode::Char('O') => HostKeyDecision::AcceptOnce,
                KeyCode::Char('n') | KeyCode::Char('N') => HostKeyDecision::Reject,
                _ if cancel => HostKeyDecision::Reject,
                _ => return false,
            };
            self.answer(Some(PromptAnswer::HostKey(decision)));
            return true;
        }
        if cancel {
            self.answer(None);
            return true;
        }
        match key.code {
            KeyCode::Enter if self.focus + 1 < self.fields.len() => self.focus += 1,
            KeyCode::Enter => {
                let answer = match self.kind {
                    PromptKind::KeyboardInteractive { .. } => {
                        PromptAnswer::Responses(self.fields.iter_mut().map(Field::take).collect())
                    }
                    _ => match self.fields.first_mut() {
                        Some(f) => PromptAnswer::Secret(f.take()),
                        None => PromptAnswer::Responses(Vec::new()),
                    },
                };
                self.answer(Some(answer));
                return true;
            }
            KeyCode::Tab | KeyCode::Down => {
                self.focus = (self.focus + 1) % self.fields.len().max(1);
            }
            KeyCode::BackTab | KeyCode::Up => {
                self.focus = self
                    .focus
                    .checked_sub(1)
                    .unwrap_or(self.fields.len().saturating_sub(1));
            }
            _ => {
                if let Some(f) = self.fields.get_mut(self.focus) {
                    f.input.key(key);
                }
            }
        }
        false
    }

    pub fn paste(&mut self, text: &str) {
        if let Some(f) = self.fields.get_mut(self.focus) {
            f.input.paste(text);
        }
    }

    fn lines(&self, theme: &Theme) -> (String, Vec<Line<'_>>) {
        let key = theme.style(Role::DialogTitle);
        let muted = theme.style(Role::Muted);
        match &self.kind {
            PromptKind::UnknownHostKey {
                host,
                port,
                key_type,
                fingerprint,
            } => {
                let name = if *port == 22 {
                    host.clone()
                } else {
                    format!("[{host}]:{port}")
                };
                (
                    "Unknown host key".into(),
                    vec![
                        Line::from(format!(
                            "The authenticity of host '{name}' can't be established."
                        )),
                        Line::from(format!("{key_type} key fingerprint is {fingerprint}.")),
                        Line::from(""),
                        Line::from("Compare it with the fingerprint the server's owner gave you."),
                        Line::from(""),
                        Line::from(vec![
                            Span::styled("y", key),
                            Span::raw("/Enter accept and save   "),
                            Span::styled("o", key),
                            Span::raw(" accept once   "),
                            Span::styled("n", key),
                            Span::raw("/Esc reject"),
                        ]),
                    ],
                )
            }
            PromptKind::Password { .. } | PromptKind::Passphrase { .. } => {
                let mut lines = self.field_lines(theme);
                if let PromptKind::Passphrase { attempt, .. } = &self.kind
                    && *attempt > 1
                {
                    lines.insert(
                        0,
                        Line::from(Span::styled(
                            format!("Wrong passphrase; try {attempt} of 3."),
                            theme.style(Role::Error),
                        )),
                    );
                }
                lines.push(Line::from(Span::styled(
                    "Enter to send, Esc to cancel",
                    muted,
                )));
                ("Authentication".into(), lines)
            }
            PromptKind::KeyboardInteractive {
                name, instruction, ..
            } => {
                let mut lines = Vec::new();
                if !instruction.is_empty() {
                    lines.extend(instruction.lines().map(|l| Line::from(l.to_string())));
                    lines.push(Line::from(""));
                }
                lines.extend(self.field_lines(theme));
                lines.push(Line::from(Span::styled(
                    "Enter to answer, Tab to move, Esc to cancel",
                    muted,
                )));
                let title = if name.is_empty() {
                    "Keyboard-interactive authentication".to_string()
                } else {
                    name.clone()
                };
                (title, lines)
            }
        }
    }

    fn field_lines(&self, theme: &Theme) -> Vec<Line<'_>> {
        self.fields
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let style = if i == self.focus {
                    theme.style(Role::DialogHighlight)
                } else {
                    theme.style(Role::Dialog)
                };
                Line::from(vec![
                    Span::raw(f.label.clone()),
                    Span::styled(format!("{} ", f.input.shown()), style),
                ])
            })
            .collect()
    }

    pub fn render(&self, area: Rect, buf: &mut Buffer, theme: &Theme) {
        let (title, lines) = self.lines(theme);
        let width = lines.iter().map(|l| l.width()).max().unwrap_or(20) as u16 + 4;
        let rect = centered(area, width.clamp(40, 100), lines.len() as u16 + 4);
        if rect.is_empty() {
            return;
        }
        let inner =
            crate::ui::dialog_frame(rect, buf, theme, &format!(" {title} "), Role::DialogTitle);
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .style(theme.style(Role::Dialog))
            .render(inner, buf);
    }
}

impl Drop for PromptDialog {
    fn drop(&mut self) {
        // Closing without an answer cancels the question rather than leaving the SSH task
        // waiting.
        self.answer(None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    fn req(
        kind: PromptKind,
    ) -> (
        PromptRequest,
        tokio::sync::oneshot::Receiver<Option<PromptAnswer>>,
    ) {
        let (reply, rx) = tokio::sync::oneshot::channel();
        (PromptRequest { kind, reply }, rx)
    }

    fn key(c: KeyCode) -> KeyEvent {
        KeyEvent::new(c, KeyModifiers::NONE)
    }

    #[test]
    fn host_key_keys() {
        for (k, want) in [
            (KeyCode::Enter, HostKeyDecision::AcceptAndSave),
            (KeyCode::Char('y'), HostKeyDecision::AcceptAndSave),
            (KeyCode::Char('o'), HostKeyDecision::AcceptOnce),
            (KeyCode::Char('n'), HostKeyDecision::Reject),
            (KeyCode::Esc, HostKeyDecision::Reject),
        ] {
            let (r, mut rx) = req(PromptKind::UnknownHostKey {
                host: "db1".into(),
                port: 22,
                key_type: "ED25519".into(),
                fingerprint: "SHA256:abc".into(),
            });
            let mut d = PromptDialog::new(r).unwrap();
            assert!(
                !d.handle_key(&key(KeyCode::Char('x'))),
                "other keys do nothing"
            );
            assert!(d.handle_key(&key(k)));
            match rx.try_recv() {
                Ok(Some(PromptAnswer::HostKey(got))) => assert_eq!(got, want),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn password_is_masked_and_sent() {
        let (r, mut rx) = req(PromptKind::Password {
            user: "bob".into(),
            host: "db1".into(),
        });
        let mut d = PromptDialog::new(r).unwrap();
        for c in "s3cr€t".chars() {
            d.handle_key(&key(KeyCode::Char(c)));
        }
        let theme = Theme::builtin();
        let mut buf = Buffer::empty(Rect::new(0, 0, 80, 20));
        d.render(buf.area, &mut buf, &theme);
        let screen: String = buf.content.iter().map(|c| c.symbol()).collect();
        assert!(screen.contains("bob@db1's password: ••••••"), "{screen}");
        assert!(!screen.contains("s3cr"));
        assert!(d.handle_key(&key(KeyCode::Enter)));
        match rx.try_recv() {
            Ok(Some(PromptAnswer::Secret(s))) => assert_eq!(s.expose_secret(), "s3cr€t"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn keyboard_interactive_rounds() {
        let (r, mut rx) = req(PromptKind::KeyboardInteractive {
            name: "Duo".into(),
            instruction: "Two answers".into(),
            prompts: vec![("Code: ".into(), true), ("PIN: ".into(), false)],
        });
        let mut d = PromptDialog::new(r).unwrap();
        d.handle_key(&key(KeyCode::Char('7')));
        assert!(
            !d.handle_key(&key(KeyCode::Enter)),
            "Enter moves to the next prompt"
        );
        d.handle_key(&key(KeyCode::Char('4')));
        assert!(d.handle_key(&key(KeyCode::Enter)));
        match rx.try_recv() {
            Ok(Some(PromptAnswer::Responses(r))) => {
                let got: Vec<&str> = r.iter().map(|s| s.expose_secret()).collect();
                assert_eq!(got, ["7", "4"]);
            }
            other => panic!("{other:?}"),
        }
        let (r, mut rx) = req(PromptKind::KeyboardInteractive {
            name: String::new(),
            instruction: String::new(),
            prompts: vec![],
        });
        assert!(
            PromptDialog::new(r).is_none(),
            "empty rounds need no dialog"
        );
        assert!(matches!(rx.try_recv(), Ok(Some(PromptAnswer::Responses(v))) if v.is_empty()));
    }

    #[test]
    fn escape_and_drop_cancel() {
        let (r, mut rx) = req(PromptKind::Passphrase {
            key_path: "/k".into(),
            attempt: 1,
        });
        let mut d = PromptDialog::new(r).unwrap();
        assert!(d.handle_key(&key(KeyCode::Esc)));
        assert!(matches!(rx.try_recv(), Ok(None)));
        let (r, mut rx) = req(PromptKind::Password {
            user: "u".into(),
            host: "h".into(),
        });
        drop(PromptDialog::new(r));
        assert!(matches!(rx.try_recv(), Ok(None)));
    }
}
