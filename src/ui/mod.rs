//! Drawing building blocks shared by the app and the panes, below both: the theme (styles by
//! role), geometry helpers, the one text-input widget and the pinned terminal backend. Nothing
//! here knows about `App`.

pub mod backend;
pub mod input;
pub mod theme;

use ratatui::layout::Rect;
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

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

/// A dialog's frame over whatever is below it: `rect` cleared, a bordered block in the dialog
/// colours with `title` and borders in `border`. Returns the inside, for the dialog's text.
pub fn dialog_frame(
    rect: Rect,
    buf: &mut ratatui::buffer::Buffer,
    theme: &theme::Theme,
    title: &str,
    border: theme::Role,
) -> Rect {
    use ratatui::text::Span;
    use ratatui::widgets::{Block, Borders, Clear, Widget};
    Clear.render(rect, buf);
    let block = Block::default()
        .borders(Borders::ALL)
        .title(Span::styled(title, theme.style(theme::Role::DialogTitle)))
        .border_style(theme.style(border))
        .style(theme.style(theme::Role::Dialog));
    let inner = block.inner(rect);
    block.render(rect, buf);
    inner
}

/// `s` in at most `cols` terminal columns, with `…` when cut.
pub fn fit(s: &str, cols: usize) -> String {
    if s.width() <= cols {
        return s.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = c.width().unwrap_or(0);
        if used + w + 1 > cols {
            break;
        }
        out.push(c);
        used += w;
    }
    if cols > 0 {
        out.push('…');
    }
    out
}

/// `2026-12-01 14:03` from an RFC 3339 time (UTC as stored), or the text as it is.
pub fn short_time(rfc3339: &str) -> String {
    use time::format_description::well_known::Rfc3339;
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]");
    time::OffsetDateTime::parse(rfc3339, &Rfc3339)
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_else(|| rfc3339.to_string())
}

/// `s` fitted and padded to exactly `cols` columns.
pub fn cell(s: &str, cols: usize) -> String {
    let mut out = fit(s, cols);
    out.push_str(&" ".repeat(cols.saturating_sub(out.width())));
    out
}

/// `s` fitted and padded on the left to exactly `cols` columns (numbers).
pub fn cell_right(s: &str, cols: usize) -> String {
    let fitted = fit(s, cols);
    format!(
        "{}{fitted}",
        " ".repeat(cols.saturating_sub(fitted.width()))
    )
}

/// `text` broken into lines of at most `width` columns, at spaces where possible.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut out = Vec::new();
    for raw in text.split('\n') {
        let mut line = String::new();
        for word in raw.split(' ') {
            let w = word.width();
            if !line.is_empty() && line.width() + 1 + w > width {
                out.push(std::mem::take(&mut line));
            }
            if w > width {
                // A word longer than the line (a path, a hash) is cut.
                let mut chunk = String::new();
                for c in word.chars() {
                    if chunk.width() + c.to_string().width() > width {
                        out.push(std::mem::take(&mut chunk));
                    }
                    chunk.push(c);
                }
                line = chunk;
                continue;
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        out.push(line);
    }
    out
}
