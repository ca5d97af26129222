//! Drawing: the visible grid (or the scrolled view) straight into a ratatui buffer, then the
//! copy-mode overlays (selection, search hits, copy cursor) and status line.

use super::TerminalPane;
use crate::ui::theme::{Palette, Role, Theme};
use alacritty_terminal::grid::Dimensions;
use alacritty_terminal::index::{Column, Line, Point};
use alacritty_terminal::term::cell::{Cell as TermCell, Flags};
use alacritty_terminal::term::color::Colors;
use alacritty_terminal::vte::ansi::{Color as AnsiColor, NamedColor};
use ratatui::buffer::{Buffer, Cell};
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};

impl TerminalPane {
    /// Draw the pane into `area` of `buf`. Cells of `area` outside the grid are blanked.
    pub fn render(&self, area: Rect, buf: &mut Buffer, theme: &Theme) {
        let area = area.intersection(buf.area);
        if area.is_empty() {
            return;
        }
        let grid = self.term.grid();
        let offset = grid.display_offset() as i32;
        let rows = grid.screen_lines().min(usize::from(area.height));
        let cols = grid.columns().min(usize::from(area.width));
        let colors = self.term.colors();
        let palette = &theme.palette;
        for row in 0..rows {
            let line = &grid[Line(row as i32 - offset)];
            let y = area.y + row as u16;
            for col in 0..cols {
                let x = area.x + col as u16;
                if let Some(out) = buf.cell_mut((x, y)) {
                    draw_cell(&line[Column(col)], out, colors, palette);
                }
            }
            blank(
                buf,
                Rect::new(area.x + cols as u16, y, area.width - cols as u16, 1),
            );
        }
        let below = Rect::new(
            area.x,
            area.y + rows as u16,
            area.width,
            area.height - rows as u16,
        );
        blank(buf, below);
        self.draw_overlays(area, buf, theme);
    }

    fn draw_overlays(&self, area: Rect, buf: &mut Buffer, theme: &Theme) {
        let Some(copy) = self.copy.as_ref() else {
            self.draw_scroll_position(area, buf, theme);
            return;
        };
        let view = View::new(self, area);
        if let Some(range) = self
            .term
            .selection
            .as_ref()
            .and_then(|s| s.to_range(&self.term))
        {
            let style = theme.style(Role::Selection);
            view.patch_range(buf, range.start, range.end, range.is_block, style);
        }
        let hit_style = theme.style(Role::SearchMatch);
        for hit in &copy.hits {
            view.patch_range(buf, *hit.start(), *hit.end(), false, hit_style);
        }
        if let Some(hit) = copy.current_hit() {
            let style = theme.style(Role::SearchCurrent);
            view.patch_range(buf, *hit.start(), *hit.end(), false, style);
        }
        let cursor = self.term.vi_mode_cursor.point;
        let style = theme.style(Role::CopyCursor);
        view.patch_range(buf, cursor, cursor, false, style);
        if let Some(status) = self.copy_status() {
            // At the bottom, unless that would hide the copy cursor.
            let cursor_row = i64::from(cursor.line.0) + i64::from(view.offset);
            let y = if cursor_row == i64::from(view.rows) - 1 && area.height > 1 {
                area.y
            } else {
                area.bottom() - 1
            };
            let style = theme.style(Role::Status);
            blank(buf, Rect::new(area.x, y, area.width, 1));
            buf.set_style(Rect::new(area.x, y, area.width, 1), style);
            buf.set_stringn(area.x, y, status, usize::from(area.width), style);
        }
    }
}

impl TerminalPane {
    /// While scrolled back outside copy mode: `[lines back/history]` in the top right corner.
    fn draw_scroll_position(&self, area: Rect, buf: &mut Buffer, theme: &Theme) {
        let grid = self.term.grid();
        let offset = grid.display_offset();
        if offset == 0 {
            return;
        }
        let text = format!("[{offset}/{}]", self.history_len());
        let width = (text.len() as u16).min(area.width);
        let x = area.right() - width;
        buf.set_stringn(
            x,
            area.y,
            text,
            usize::from(width),
            theme.style(Role::Status),
        );
    }
}

/// The visible part of the grid inside the pane's area, for overlays given in grid points.
struct View {
    area: Rect,
    offset: i32,
    rows: i32,
    cols: usize,
}

impl View {
    fn new(pane: &TerminalPane, area: Rect) -> Self {
        let grid = pane.term.grid();
        Self {
            area,
            offset: grid.display_offset() as i32,
            rows: grid.screen_lines().min(usize::from(area.height)) as i32,
            cols: grid.columns().min(usize::from(area.width)),
        }
    }

    /// Patch `style` onto the cells from `start` to `end` (inclusive, reading order, or a
    /// rectangle when `block`), where they are visible.
    fn patch_range(&self, buf: &mut Buffer, start: Point, end: Point, block: bool, style: Style) {
        if self.cols == 0 {
            return;
        }
        let first = (start.line.0 + self.offset).max(0);
        let last = (end.line.0 + self.offset).min(self.rows - 1);
        for row in first..=last {
            let line = Line(row - self.offset);
            let from = if block || line == start.line {
                start.column.0
            } else {
                0
            };
            let to = if block || line == end.line {
                end.column.0
            } else {
                self.cols - 1
            };
            let y = self.area.y + row as u16;
            for col in from..=to.min(self.cols - 1) {
                if let Some(cell) = buf.cell_mut((self.area.x + col as u16, y)) {
                    cell.set_style(style);
                }
            }
        }
    }
}

fn blank(buf: &mut Buffer, area: Rect) {
    let area = area.intersection(buf.area);
    for y in area.top()..area.bottom() {
        for x in area.left()..area.right() {
            if let Some(cell) = buf.cell_mut((x, y)) {
                cell.reset();
            }
        }
    }
}

/// Copy one emulator cell into a buffer cell: symbol (only when it changed) and style.
fn draw_cell(cell: &TermCell, out: &mut Cell, colors: &Colors, palette: &Palette) {
    let flags = cell.flags;
    let (fg, fg_dim) = map_color(cell.fg, colors, palette);
    let (bg, _) = map_color(cell.bg, colors, palette);
    out.fg = fg;
    out.bg = bg;
    out.modifier = modifiers(flags, fg_dim);
    if flags.intersects(Flags::WIDE_CHAR_SPACER | Flags::LEADING_WIDE_CHAR_SPACER)
        || flags.contains(Flags::HIDDEN)
    {
        // The wide character before a spacer covers it; ratatui wants a blank there.
        set_char(out, ' ');
        return;
    }
    match cell.zerowidth() {
        Some(extra) => {
            let mut symbol = String::with_capacity(4 * (extra.len() + 1));
            symbol.push(shown(cell.c));
            symbol.extend(extra.iter());
            out.set_symbol(&symbol);
        }
        None => set_char(out, shown(cell.c)),
    }
}

/// The character a cell shows. Alacritty keeps a tab in the cell it started on (so copied
/// text has the tab); sent to the outer terminal, a tab (like any control character) would
/// move its cursor past cells without writing them, leaving whatever it showed there before.
fn shown(c: char) -> char {
    if c.is_control() { ' ' } else { c }
}

fn set_char(out: &mut Cell, c: char) {
    let mut bytes = [0; 4];
    let s = c.encode_utf8(&mut bytes);
    if out.symbol() != s {
        out.set_char(c);
    }
}

fn modifiers(flags: Flags, dim: bool) -> Modifier {
    let mut m = Modifier::empty();
    if flags.contains(Flags::BOLD) {
        m |= Modifier::BOLD;
    }
    if flags.contains(Flags::ITALIC) {
        m |= Modifier::ITALIC;
    }
    if flags.intersects(Flags::ALL_UNDERLINES) {
        m |= Modifier::UNDERLINED;
    }
    if flags.contains(Flags::INVERSE) {
        m |= Modifier::REVERSED;
    }
    if flags.contains(Flags::DIM) || dim {
        m |= Modifier::DIM;
    }
    if flags.contains(Flags::STRIKEOUT) {
        m |= Modifier::CROSSED_OUT;
    }
    m
}

/// An emulator colour as a ratatui colour: the 16 ANSI colours and the defaults from the
/// theme (unless the program redefined them with OSC 4/10/11), 256 and truecolor as they are.
/// The flag says the colour is a "dim" variant, drawn with the DIM modifier.
fn map_color(color: AnsiColor, colors: &Colors, palette: &Palette) -> (Color, bool) {
    match color {
        AnsiColor::Spec(rgb) => (Color::Rgb(rgb.r, rgb.g, rgb.b), false),
        AnsiColor::Indexed(i) => (indexed(usize::from(i), colors, palette), false),
        AnsiColor::Named(named) => {
            let index = named as usize;
            if index < 16 {
                return (indexed(index, colors, palette), false);
            }
            if let Some(rgb) = colors[index] {
                return (Color::Rgb(rgb.r, rgb.g, rgb.b), false);
            }
            match named {
                NamedColor::Background => (palette.background, false),
                NamedColor::Cursor => (palette.cursor, false),
                NamedColor::DimForeground => (palette.foreground, true),
                NamedColor::Foreground | NamedColor::BrightForeground => {
                    (palette.foreground, false)
                }
                dim => {
                    // DimBlack..DimWhite follow Cursor in order.
                    let base = (dim as usize).saturating_sub(NamedColor::DimBlack as usize);
                    (indexed(base.min(7), colors, palette), true)
                }
            }
        }
    }
}

fn indexed(index: usize, colors: &Colors, palette: &Palette) -> Color {
    if let Some(rgb) = colors[index] {
        return Color::Rgb(rgb.r, rgb.g, rgb.b);
    }
    match palette.ansi.get(index) {
        Some(c) => *c,
        None => Color::Indexed(index as u8),
    }
}
