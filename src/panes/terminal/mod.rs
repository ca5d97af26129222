//! The terminal pane. PLACEHOLDER until the emulator branch lands: keeps raw text only.

use crate::app::theme::Theme;
use crate::stream::{CloseReason, Stream, StreamEvent};
use crossterm::event::{KeyEvent, MouseEvent};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

pub mod keys {
    pub fn encode_key(key: &crossterm::event::KeyEvent, _app_cursor: bool) -> Option<Vec<u8>> {
        match key.code {
            crossterm::event::KeyCode::Char(c) => Some(c.to_string().into_bytes()),
            crossterm::event::KeyCode::Enter => Some(b"\r".to_vec()),
            _ => None,
        }
    }
}

pub struct TerminalConfig {
    pub cols: u16,
    pub rows: u16,
    pub scrollback: usize,
}
pub struct Pump {
    pub bytes: usize,
    pub more: bool,
}
pub enum KeyOutcome {
    Consumed,
    Ignored,
    Copied(String),
    LeftCopyMode,
}
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CursorShape {
    Block,
}
pub struct TerminalPane {
    stream: Option<Stream>,
    text: String,
    closed: Option<CloseReason>,
    activity: bool,
}
impl TerminalPane {
    pub fn new(stream: Stream, _cfg: TerminalConfig) -> Self {
        Self {
            stream: Some(stream),
            text: String::new(),
            closed: None,
            activity: false,
        }
    }
    pub fn failed(message: &str, _cfg: TerminalConfig) -> Self {
        Self {
            stream: None,
            text: message.into(),
            closed: Some(CloseReason::Failed(message.into())),
            activity: false,
        }
    }
    pub fn set_stream(&mut self, stream: Stream) {
        self.stream = Some(stream);
        self.closed = None;
    }
    pub fn pump(&mut self, budget: usize) -> Pump {
        let mut bytes = 0;
        while bytes < budget {
            let Some(s) = self.stream.as_mut() else { break };
            match s.events.try_recv() {
                Ok(StreamEvent::Data(d)) => {
                    bytes += d.len();
                    self.text.push_str(&String::from_utf8_lossy(&d));
                    self.activity = true;
                }
                Ok(StreamEvent::Closed(r)) => {
                    self.closed = Some(r);
                    self.stream = None;
                }
                Err(_) => break,
            }
        }
        Pump {
            bytes,
            more: bytes >= budget,
        }
    }
    pub fn closed(&self) -> Option<&CloseReason> {
        self.closed.as_ref()
    }
    pub fn handle_key(&mut self, key: &KeyEvent) -> KeyOutcome {
        if let (Some(s), Some(b)) = (&self.stream, keys::encode_key(key, false)) {
            s.handle.write(&b);
        }
        KeyOutcome::Consumed
    }
    pub fn paste(&mut self, text: &str) {
        if let Some(s) = &self.stream {
            s.handle.write(text.as_bytes());
        }
    }
    pub fn handle_mouse(&mut self, _ev: &MouseEvent) -> KeyOutcome {
        KeyOutcome::Ignored
    }
    pub fn resize(&mut self, cols: u16, rows: u16) {
        if let Some(s) = &self.stream {
            s.handle.resize(cols, rows);
        }
    }
    pub fn render(&self, area: Rect, buf: &mut Buffer, _theme: &Theme) {
        let lines: Vec<&str> = self.text.lines().collect();
        let start = lines.len().saturating_sub(area.height as usize);
        for (i, l) in lines[start..].iter().enumerate() {
            buf.set_stringn(
                area.x,
                area.y + i as u16,
                l,
                area.width as usize,
                ratatui::style::Style::default(),
            );
        }
    }
    pub fn cursor(&self) -> Option<(u16, u16)> {
        None
    }
    pub fn cursor_shape(&self) -> CursorShape {
        CursorShape::Block
    }
    pub fn title(&self) -> Option<&str> {
        None
    }
    pub fn take_activity(&mut self) -> bool {
        std::mem::take(&mut self.activity)
    }
    pub fn take_bell(&mut self) -> bool {
        false
    }
    pub fn take_clipboard(&mut self) -> Option<String> {
        None
    }
    pub fn enter_copy_mode(&mut self) {}
    pub fn in_copy_mode(&self) -> bool {
        false
    }
    pub fn wants_mouse(&self) -> bool {
        false
    }
    pub fn screen_text(&self) -> String {
        self.text.clone()
    }
}
