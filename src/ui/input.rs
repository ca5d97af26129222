//! The one text-input widget. [`TextInput`] is a line with readline's basic keys, plain or
//! secret (masked on screen, zeroized when cleared or dropped, never in `Debug`); every dialog,
//! form and filter uses it. [`TextBox`] is the multi-line variant (the copilot's prompt), over
//! `ratatui-textarea`.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::widgets::Widget;
use secrecy::SecretString;
use std::borrow::Cow;
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};
use zeroize::Zeroizing;

/// What a secret shows instead of each character.
pub const MASK: char = '•';

/// A one-line text field with a cursor.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct TextInput {
    /// Zeroizing for every field, not only secrets: it costs nothing and a host name typed
    /// into the wrong field is still wiped.
    text: Zeroizing<String>,
    /// Cursor position in chars.
    cursor: usize,
    secret: bool,
}

/// A secret field never prints what was typed.
impl std::fmt::Debug for TextInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("TextInput");
        if self.secret {
            d.field("text", &"[redacted]");
        } else {
            d.field("text", &self.text.as_str());
        }
        d.field("cursor", &self.cursor).finish()
    }
}

impl TextInput {
    /// A plain field holding `text`, the cursor at its end.
    pub fn new(text: &str) -> Self {
        let mut input = Self::default();
        input.set(text);
        input
    }

    /// An empty secret field: masked on screen, zeroized when cleared.
    pub fn secret() -> Self {
        Self {
            secret: true,
            ..Self::default()
        }
    }

    pub fn is_secret(&self) -> bool {
        self.secret
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// Replace the text; the cursor goes to the end.
    pub fn set(&mut self, text: &str) {
        self.text.clear();
        self.text.push_str(text);
        self.cursor = self.text.chars().count();
    }

    pub fn clear(&mut self) {
        self.text.clear();
        self.cursor = 0;
    }

    /// Hand the text over as a secret and empty the field (the old buffer is wiped).
    pub fn take_secret(&mut self) -> SecretString {
        let out = SecretString::from(self.text.as_str());
        self.clear();
        out
    }

    /// The cursor's position in chars.
    pub fn cursor(&self) -> usize {
        self.cursor
    }

    fn byte_at(&self, char_idx: usize) -> usize {
        self.text
            .char_indices()
            .nth(char_idx)
            .map_or(self.text.len(), |(i, _)| i)
    }

    fn len(&self) -> usize {
        self.text.chars().count()
    }

    /// Insert at the cursor. Control characters are dropped (a pasted newline must not end a
    /// one-line field, and an escape sequence must not reach the screen).
    pub fn insert(&mut self, s: &str) {
        for c in s.chars().filter(|c| !c.is_control()) {
            let at = self.byte_at(self.cursor);
            self.text.insert(at, c);
            self.cursor += 1;
        }
    }

    /// A paste: its first line only, as a shell line editor takes it.
    pub fn paste(&mut self, text: &str) {
        self.insert(text.lines().next().unwrap_or(""));
    }

    pub fn backspace(&mut self) {
        if self.cursor > 0 {
            self.cursor -= 1;
            let at = self.byte_at(self.cursor);
            self.text.remove(at);
        }
    }

    /// Delete the word before the cursor (Ctrl-W).
    fn delete_word(&mut self) {
        let chars: Vec<char> = self.text.chars().collect();
        let mut start = self.cursor;
        while start > 0 && chars[start - 1].is_whitespace() {
            start -= 1;
        }
        while start > 0 && !chars[start - 1].is_whitespace() {
            start -= 1;
        }
        let (from, to) = (self.byte_at(start), self.byte_at(self.cursor));
        self.text.replace_range(from..to, "");
        self.cursor = start;
    }

    /// Readline's basic keys. Returns false for keys it does not use (Enter, Esc, Tab, …),
    /// which the dialog then handles.
    pub fn key(&mut self, key: &KeyEvent) -> bool {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let alt = key.modifiers.contains(KeyModifiers::ALT);
        let len = self.len();
        match key.code {
            KeyCode::Char('u') if ctrl => {
                let at = self.byte_at(self.cursor);
                self.text.replace_range(..at, "");
                self.cursor = 0;
            }
            KeyCode::Char('k') if ctrl => {
                let at = self.byte_at(self.cursor);
                self.text.truncate(at);
            }
            KeyCode::Char('w') if ctrl => self.delete_word(),
            KeyCode::Char('a') if ctrl => self.cursor = 0,
            KeyCode::Char('e') if ctrl => self.cursor = len,
            KeyCode::Char(c) if !ctrl && !alt => self.insert(c.encode_utf8(&mut [0; 4])),
            KeyCode::Backspace => self.backspace(),
            KeyCode::Delete if self.cursor < len => {
                let at = self.byte_at(self.cursor);
                self.text.remove(at);
            }
            KeyCode::Delete => {}
            KeyCode::Left => self.cursor = self.cursor.saturating_sub(1),
            KeyCode::Right => self.cursor = (self.cursor + 1).min(len),
            KeyCode::Home => self.cursor = 0,
            KeyCode::End => self.cursor = len,
            _ => return false,
        }
        true
    }

    /// What the screen shows: the text, or one mask character per character of a secret.
    pub fn shown(&self) -> Cow<'_, str> {
        if self.secret {
            Cow::Owned(MASK.to_string().repeat(self.len()))
        } else {
            Cow::Borrowed(self.text.as_str())
        }
    }

    /// Terminal columns before the cursor in [`TextInput::shown`].
    pub fn cursor_col(&self) -> usize {
        if self.secret {
            return self.cursor;
        }
        self.text[..self.byte_at(self.cursor)].width()
    }

    /// The part of [`TextInput::shown`] that fits in `width` columns with the cursor visible,
    /// and the cursor's column within it.
    pub fn window(&self, width: usize) -> (String, usize) {
        let width = width.max(1);
        // Line breaks kept from a file (a host's notes) show as `↵`.
        let chars: Vec<char> = self
            .shown()
            .chars()
            .map(|c| if c.is_control() { '↵' } else { c })
            .collect();
        // Scroll so the cursor (and one cell for it past the end) fits.
        let mut start = 0;
        let col = |from: usize, to: usize| -> usize {
            chars[from..to]
                .iter()
                .map(|c| c.width().unwrap_or(0))
                .sum::<usize>()
        };
        while start < self.cursor && col(start, self.cursor) + 1 > width {
            start += 1;
        }
        let mut out = String::new();
        let mut used = 0;
        for c in &chars[start..] {
            let w = c.width().unwrap_or(0);
            if used + w > width {
                break;
            }
            used += w;
            out.push(*c);
        }
        (out, col(start, self.cursor))
    }

    /// Draw the field at `area`'s first row; returns where the cursor goes.
    pub fn render(&self, area: Rect, buf: &mut Buffer, style: Style) -> Option<(u16, u16)> {
        if area.is_empty() {
            return None;
        }
        let (text, cursor) = self.window(area.width as usize);
        buf.set_stringn(area.x, area.y, &text, area.width as usize, style);
        let x = area.x + cursor as u16;
        (x < area.right()).then_some((x, area.y))
    }
}

/// A multi-line text field: Enter is the caller's (send), Alt-Enter or Shift-Enter adds a
/// line, the rest is `ratatui-textarea`'s editing (words, undo, scrolling).
#[derive(Clone)]
pub struct TextBox {
    area: ratatui_textarea::TextArea<'static>,
}

impl Default for TextBox {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for TextBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TextBox")
            .field("lines", &self.area.lines().len())
            .finish()
    }
}

impl TextBox {
    pub fn new() -> Self {
        let mut area = ratatui_textarea::TextArea::default();
        area.set_cursor_line_style(Style::default());
        Self { area }
    }

    /// The text, lines joined with `\n`.
    pub fn text(&self) -> String {
        self.area.lines().join("\n")
    }

    pub fn is_empty(&self) -> bool {
        self.area.lines().iter().all(|l| l.is_empty())
    }

    pub fn line_count(&self) -> usize {
        self.area.lines().len()
    }

    pub fn clear(&mut self) {
        self.area = ratatui_textarea::TextArea::default();
        self.area.set_cursor_line_style(Style::default());
    }

    /// Take the text and empty the box.
    pub fn take(&mut self) -> String {
        let text = self.text();
        self.clear();
        text
    }

    /// A paste keeps its line breaks (other control characters are dropped).
    pub fn paste(&mut self, text: &str) {
        let clean: String = text
            .replace("\r\n", "\n")
            .chars()
            .filter(|c| *c == '\n' || !c.is_control())
            .collect();
        self.area.insert_str(clean);
    }

    /// Editing keys. Returns false for keys it leaves to the caller: plain Enter, Esc, Tab.
    pub fn key(&mut self, key: &KeyEvent) -> bool {
        let newline_mods = KeyModifiers::ALT | KeyModifiers::SHIFT;
        match key.code {
            KeyCode::Enter if key.modifiers.intersects(newline_mods) => {
                self.area.insert_newline();
                true
            }
            KeyCode::Enter | KeyCode::Esc | KeyCode::Tab | KeyCode::BackTab => false,
            KeyCode::Char(c) if c.is_control() => false,
            _ => self.area.input(*key),
        }
    }

    /// Set the style of the text and the cursor.
    pub fn set_style(&mut self, text: Style, cursor: Style) {
        self.area.set_style(text);
        self.area.set_cursor_style(cursor);
    }

    pub fn render(&self, area: Rect, buf: &mut Buffer) {
        (&self.area).render(area, buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(c: KeyCode) -> KeyEvent {
        KeyEvent::new(c, KeyModifiers::NONE)
    }

    fn ctrl(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)
    }

    #[test]
    fn edits_unicode_with_readline_keys() {
        let mut i = TextInput::new("héllo");
        i.key(&key(KeyCode::Backspace));
        i.key(&key(KeyCode::Left));
        i.key(&key(KeyCode::Char('✓')));
        assert_eq!(i.text(), "hél✓l");
        i.key(&ctrl('u'));
        assert_eq!(i.text(), "l");
        i.set("ssh root@db1 -p 22");
        i.key(&ctrl('w'));
        assert_eq!(i.text(), "ssh root@db1 -p ");
        i.key(&key(KeyCode::Home));
        i.key(&ctrl('k'));
        assert_eq!(i.text(), "");
        assert!(!i.key(&key(KeyCode::Enter)));
    }

    #[test]
    fn pastes_drop_control_characters() {
        let mut i = TextInput::default();
        i.paste("db1\x1b[31m\nsecond line");
        assert_eq!(i.text(), "db1[31m");
    }

    #[test]
    fn secrets_are_masked_and_never_debugged() {
        let mut s = TextInput::secret();
        s.insert("hunter2");
        assert_eq!(s.shown(), "•••••••");
        assert!(!format!("{s:?}").contains("hunter2"));
        use secrecy::ExposeSecret;
        assert_eq!(s.take_secret().expose_secret(), "hunter2");
        assert!(s.is_empty());
    }

    #[test]
    fn window_keeps_the_cursor_visible_by_columns() {
        let i = TextInput::new("abcdef");
        assert_eq!(i.window(4), ("def".to_string(), 3));
        let wide = TextInput::new("日本語");
        assert_eq!(wide.window(5), ("本語".to_string(), 4));
        let mut start = TextInput::new("abcdef");
        start.key(&key(KeyCode::Home));
        assert_eq!(start.window(4), ("abcd".to_string(), 0));
    }

    #[test]
    fn text_box_takes_lines() {
        let mut b = TextBox::new();
        for c in "df -h".chars() {
            b.key(&key(KeyCode::Char(c)));
        }
        assert!(b.key(&KeyEvent::new(KeyCode::Enter, KeyModifiers::ALT)));
        b.paste("and\r\nthis\x1b");
        assert!(!b.key(&key(KeyCode::Enter)));
        assert_eq!(b.text(), "df -h\nand\nthis");
        assert_eq!(b.take(), "df -h\nand\nthis");
        assert!(b.is_empty());
    }
}
