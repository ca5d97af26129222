//! Drawing building blocks shared by the app and the panes, below both: the theme (styles by
//! role), geometry helpers and the one text-input widget. Nothing here knows about `App`.

pub mod input;
pub mod theme;

use ratatui::layout::Rect;

/// A rectangle of at most `width`x`height`, centred in `area`.
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}
