//! Mouse events: reported to programs that asked (SGR 1006, UTF-8 1005, normal/X10), else the
//! wheel scrolls the scrollback and a drag selects text (through copy mode).

use super::keys::encode_key;
use super::{KeyOutcome, TerminalPane};
use alacritty_terminal::grid::Dimensions;
use alacritty_terminal::index::{Column, Line, Point, Side};
use alacritty_terminal::selection::{Selection, SelectionType};
use alacritty_terminal::term::TermMode;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};

/// Lines the wheel scrolls per notch.
const WHEEL_LINES: i32 = 3;
/// Largest coordinate the normal (X10) encoding can carry: one byte, offset by 32.
const X10_MAX: u32 = 255 - 32;
/// Largest coordinate the UTF-8 (1005) encoding can carry: a two-byte character, offset by 32.
const UTF8_MAX: u32 = 2047 - 32;

#[derive(Debug, Default)]
pub(super) struct MouseState {
    /// Where the left button went down, in grid coordinates.
    anchor: Option<Point>,
}

impl TerminalPane {
    /// A mouse event with coordinates relative to the pane.
    pub fn handle_mouse(&mut self, ev: &MouseEvent) -> KeyOutcome {
        // Shift bypasses the program's mouse reporting, as in xterm, so text can still be selected.
        let bypass = ev.modifiers.contains(KeyModifiers::SHIFT);
        if self.wants_mouse() && self.copy.is_none() && !bypass {
            if !self.live() {
                return KeyOutcome::Ignored;
            }
            return match self.mouse_report(ev) {
                Some(bytes) => {
                    self.write(&bytes);
                    KeyOutcome::Consumed
                }
                None => KeyOutcome::Ignored,
            };
        }
        match ev.kind {
            MouseEventKind::ScrollUp => self.wheel(WHEEL_LINES, KeyCode::Up),
            MouseEventKind::ScrollDown => self.wheel(-WHEEL_LINES, KeyCode::Down),
            MouseEventKind::Down(MouseButton::Left) => {
                self.mouse.anchor = Some(self.grid_point(ev));
                self.term.selection = None;
                KeyOutcome::Consumed
            }
            MouseEventKind::Drag(MouseButton::Left) => {
                let point = self.grid_point(ev);
                let anchor = *self.mouse.anchor.get_or_insert(point);
                if self.copy.is_none() {
                    self.enter_copy_mode();
                    if let Some(copy) = self.copy.as_mut() {
                        copy.by_mouse = true;
                    }
                }
                if self.term.selection.is_none() {
                    let mut sel = Selection::new(SelectionType::Simple, anchor, Side::Left);
                    sel.include_all();
                    self.term.selection = Some(sel);
                }
                self.term.vi_goto_point(point);
                self.refresh_hits();
                KeyOutcome::Consumed
            }
            MouseEventKind::Up(MouseButton::Left) => {
                self.mouse.anchor = None;
                let Some(text) = self.copy_selection() else {
                    return KeyOutcome::Consumed;
                };
                if self.copy.as_ref().is_some_and(|c| c.by_mouse) {
                    self.leave_copy_mode();
                }
                KeyOutcome::Copied(text)
            }
            _ => KeyOutcome::Ignored,
        }
    }

    /// The wheel: arrow keys for full-screen programs (alternate scroll), else scrollback.
    fn wheel(&mut self, lines: i32, arrow: KeyCode) -> KeyOutcome {
        let mode = *self.term.mode();
        if self.copy.is_none()
            && mode.contains(TermMode::ALT_SCREEN | TermMode::ALTERNATE_SCROLL)
            && self.live()
        {
            let app_cursor = mode.contains(TermMode::APP_CURSOR);
            let key = KeyEvent::new(arrow, KeyModifiers::NONE);
            if let Some(bytes) = encode_key(&key, app_cursor) {
                self.write(&bytes.repeat(lines.unsigned_abs() as usize));
            }
            return KeyOutcome::Consumed;
        }
        self.scroll(lines);
        KeyOutcome::Consumed
    }

    /// The grid point under a pane-relative mouse position, clamped to the screen.
    fn grid_point(&self, ev: &MouseEvent) -> Point {
        let col = usize::from(ev.column).min(self.term.columns().saturating_sub(1));
        let row = usize::from(ev.row).min(self.term.screen_lines().saturating_sub(1));
        let offset = self.term.grid().display_offset();
        Point::new(Line(row as i32 - offset as i32), Column(col))
    }

    /// The bytes reporting `ev` to the program in the encoding it enabled, or None when its
    /// mode does not report this event (or the position cannot be encoded).
    fn mouse_report(&self, ev: &MouseEvent) -> Option<Vec<u8>> {
        let mode = *self.term.mode();
        let drag_reported = mode.intersects(TermMode::MOUSE_DRAG | TermMode::MOUSE_MOTION);
        let (mut code, release) = match ev.kind {
            MouseEventKind::Down(b) => (button_code(b), false),
            MouseEventKind::Up(b) => (button_code(b), true),
            MouseEventKind::Drag(b) if drag_reported => (button_code(b) + 32, false),
            MouseEventKind::Moved if mode.contains(TermMode::MOUSE_MOTION) => (3 + 32, false),
            MouseEventKind::ScrollUp => (64, false),
            MouseEventKind::ScrollDown => (65, false),
            MouseEventKind::ScrollLeft => (66, false),
            MouseEventKind::ScrollRight => (67, false),
            _ => return None,
        };
        for (flag, bit) in [
            (KeyModifiers::SHIFT, 4),
            (KeyModifiers::ALT, 8),
            (KeyModifiers::CONTROL, 16),
        ] {
            if ev.modifiers.contains(flag) {
                code += bit;
            }
        }
        let x = u32::from(ev.column) + 1;
        let y = u32::from(ev.row) + 1;
        if mode.contains(TermMode::SGR_MOUSE) {
            let last = if release { 'm' } else { 'M' };
            return Some(format!("\x1b[<{code};{x};{y}{last}").into_bytes());
        }
        // The older encodings cannot say which button went up.
        if release {
            code = (code & !3) | 3;
        }
        let mut out = b"\x1b[M".to_vec();
        out.push(32 + code);
        for v in [x, y] {
            if mode.contains(TermMode::UTF8_MOUSE) {
                if v > UTF8_MAX {
                    return None;
                }
                let c = char::from_u32(32 + v)?;
                let mut buf = [0; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            } else {
                if v > X10_MAX {
                    return None;
                }
                out.push((32 + v) as u8);
            }
        }
        Some(out)
    }
}

fn button_code(b: MouseButton) -> u8 {
    match b {
        MouseButton::Left => 0,
        MouseButton::Middle => 1,
        MouseButton::Right => 2,
    }
}
