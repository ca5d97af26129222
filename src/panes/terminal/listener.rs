//! Collects what the emulator reports while parsing (title, bell, clipboard, replies to queries).

use alacritty_terminal::event::{Event, EventListener, WindowSize};
use alacritty_terminal::vte::ansi::Rgb;
use std::sync::{Arc, Mutex};

/// The emulator's event sink. Events are queued while bytes are parsed and handled afterwards
/// by the pane, which owns the stream handle and the flags the app reads.
#[derive(Clone, Default)]
pub(super) struct Inbox(Arc<Mutex<Vec<Event>>>);

impl EventListener for Inbox {
    fn send_event(&self, event: Event) {
        // Only the events the pane acts on are kept; the rest (redraw hints) are noise here.
        match event {
            Event::Title(_)
            | Event::ResetTitle
            | Event::Bell
            | Event::ClipboardStore(..)
            | Event::PtyWrite(_)
            | Event::ColorRequest(..)
            | Event::TextAreaSizeRequest(_) => {
                let mut queue = self.0.lock().unwrap_or_else(|e| e.into_inner());
                queue.push(event);
            }
            _ => {}
        }
    }
}

impl Inbox {
    pub(super) fn drain(&self) -> Vec<Event> {
        let mut queue = self.0.lock().unwrap_or_else(|e| e.into_inner());
        std::mem::take(&mut *queue)
    }
}

/// Cell size we report for `CSI 14 t` style queries: a pane has no pixels, so use a common
/// character cell.
pub(super) const CELL_WIDTH_PX: u16 = 8;
pub(super) const CELL_HEIGHT_PX: u16 = 16;

pub(super) fn window_size(cols: u16, rows: u16) -> WindowSize {
    WindowSize {
        num_lines: rows,
        num_cols: cols,
        cell_width: CELL_WIDTH_PX,
        cell_height: CELL_HEIGHT_PX,
    }
}

/// xterm's default colour for palette index `index` (0-255, then foreground, background,
/// cursor), answered to OSC 4/10/11 queries the program did not override.
pub(super) fn default_rgb(index: usize) -> Rgb {
    const ANSI: [(u8, u8, u8); 16] = [
        (0, 0, 0),
        (205, 0, 0),
        (0, 205, 0),
        (205, 205, 0),
        (0, 0, 238),
        (205, 0, 205),
        (0, 205, 205),
        (229, 229, 229),
        (127, 127, 127),
        (255, 0, 0),
        (0, 255, 0),
        (255, 255, 0),
        (92, 92, 255),
        (255, 0, 255),
        (0, 255, 255),
        (255, 255, 255),
    ];
    let (r, g, b) = match index {
        0..=15 => ANSI[index],
        16..=231 => {
            let i = index - 16;
            let level = |v: usize| if v == 0 { 0 } else { (55 + v * 40) as u8 };
            (level(i / 36), level((i / 6) % 6), level(i % 6))
        }
        232..=255 => {
            let v = (8 + (index - 232) * 10) as u8;
            (v, v, v)
        }
        257 => (0, 0, 0),
        _ => (229, 229, 229),
    };
    Rgb { r, g, b }
}
