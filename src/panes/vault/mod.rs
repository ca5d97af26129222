//! Vault widgets for the TUI: the unlock dialog and the vault browser (list, detail, forms).
//!
//! Both are self-contained state machines the app owns: feed them keys and clock ticks, act on
//! the outcomes they return (emit OSC 52, show the unlock dialog, close), and render them with a
//! [`Theme`](crate::ui::theme::Theme). They never touch the terminal themselves.

mod browser;
mod form;
mod render;
mod unlock;
mod work;

pub use browser::{
    AUTO_LOCK_DEFAULT, BrowserOutcome, CLIPBOARD_CLEAR_AFTER, REVEAL_FOR, VaultBrowser,
};
pub use unlock::{MAX_TRIES, UNLOCK_DELAY, UnlockDialog, UnlockOutcome};
pub use work::{VaultWork, WorkDone};

use ratatui::layout::Rect;

/// A rectangle of `width` x `height` centred in `area` (clipped to it).
pub(crate) fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

/// Whole seconds left, rounded up (a countdown shows 30 at exactly 30 s, 1 at 0.2 s).
pub(crate) fn ceil_secs(d: std::time::Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}
