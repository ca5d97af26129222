//! Drawing: tab bar, panes with borders, status bar, popups. Read-only over `App`: layout was
//! computed in update.

use crate::app::layers::Layer;
use crate::app::state::App;
use crate::panes::PaneView;
use crate::ui::theme::Role;
use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::symbols::merge::MergeStrategy;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Widget};
use unicode_width::UnicodeWidthStr;

/// Below this size lumen shows a short message instead of its screen.
pub const MIN_WIDTH: u16 = 20;
pub const MIN_HEIGHT: u16 = 5;
/// Widest a tab title gets in the tab bar.
const TAB_TITLE_MAX: usize = 24;

pub fn draw(app: &App, frame: &mut Frame) {
    let area = frame.area();
    let buf = frame.buffer_mut();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        let msg = format!("terminal too small ({}x{})", area.width, area.height);
        buf.set_stringn(0, 0, msg, area.width as usize, app.theme.style(Role::Error));
        return;
    }
    draw_tab_bar(app, Rect::new(0, 0, area.width, 1), buf);
    draw_panes(app, buf);
    draw_status(app, Rect::new(0, area.height - 1, area.width, 1), buf);
    if !app.layers.is_empty() {
        draw_layers(app, frame);
        return;
    }
    if let Some(id) = app.focused()
        && let Some(slot) = app.panes.get(&id)
        && let Some((x, y)) = slot.pane.cursor()
        && x < slot.inner.width
        && y < slot.inner.height
    {
        frame.set_cursor_position((slot.inner.x + x, slot.inner.y + y));
    }
}

/// Every dialog, bottom-up over the panes; the text cursor is the top one's.
fn draw_layers(app: &App, frame: &mut Frame) {
    let body = app.body();
    let buf = frame.buffer_mut();
    let mut card_cursor = None;
    let mut runbook_cursor = None;
    for layer in app.layers.iter() {
        match layer {
            Layer::Prompt(d) => d.render(body, buf, &app.theme),
            Layer::Unlock(u) => u.dialog.render(body, buf, &app.theme),
            Layer::Popup(p) => p.render(body, buf, &app.theme, &app.config.keymap),
            Layer::Runbook(d) => runbook_cursor = d.render(body, buf, &app.theme),
            Layer::Approval(a) => {
                let area = card_area(app, a.pane);
                if let Some(proposal) = app
                    .copilot
                    .session(a.pane)
                    .and_then(|s| s.proposal(a.proposal))
                {
                    let host = app.pane_host(a.pane);
                    card_cursor = a.render(area, buf, &app.theme, proposal, &host);
                }
            }
        }
    }
    if let Some(Layer::Popup(p)) = app.layers.top()
        && let Some(pos) = p.cursor(body)
    {
        frame.set_cursor_position(pos);
    }
    if let (Some(Layer::Runbook(_)), Some(pos)) = (app.layers.top(), runbook_cursor) {
        frame.set_cursor_position(pos);
    }
    if let (Some(Layer::Approval(_)), Some(pos)) = (app.layers.top(), card_cursor) {
        frame.set_cursor_position(pos);
    }
}

/// Where the card for `terminal`'s proposal goes: over the copilot pane talking about it when
/// that pane is on screen (not hidden by another pane's zoom), else over the whole body.
pub(crate) fn card_area(app: &App, terminal: crate::app::layout::PaneId) -> Rect {
    copilot_area(app, terminal).unwrap_or_else(|| app.body())
}

fn copilot_area(app: &App, terminal: crate::app::layout::PaneId) -> Option<Rect> {
    let tab = app.tabs.get(app.active)?;
    let zoomed = tab.layout.zoomed();
    tab.layout.panes().into_iter().find_map(|id| {
        let shown = zoomed.is_none_or(|z| z == id);
        (shown && app.copilot.bound(id) == Some(terminal))
            .then(|| app.panes.get(&id).map(|s| s.inner))?
    })
}

/// The text and style of each tab's label, in order.
fn tab_labels(app: &App) -> Vec<(String, Role)> {
    app.tabs
        .iter()
        .enumerate()
        .map(|(i, tab)| {
            let mut title = app.tab_title(i);
            if title.width() > TAB_TITLE_MAX {
                title = title.chars().take(TAB_TITLE_MAX - 1).collect::<String>() + "…";
            }
            let mut flags = String::new();
            if i == app.active {
                flags.push('*');
            }
            if tab.layout.zoomed().is_some() {
                flags.push('Z');
            }
            if tab.activity {
                flags.push('#');
            }
            if tab.bell {
                flags.push('!');
            }
            let role = if i == app.active {
                Role::TabActive
            } else if tab.bell {
                Role::TabBell
            } else if tab.activity {
                Role::TabActivity
            } else {
                Role::Tab
            };
            (format!(" {i}:{title}{flags} "), role)
        })
        .collect()
}

fn draw_tab_bar(app: &App, area: Rect, buf: &mut Buffer) {
    buf.set_style(area, app.theme.style(Role::TabBar));
    let mut x = area.x;
    for (label, role) in tab_labels(app) {
        if x >= area.right() {
            break;
        }
        let w = area.right() - x;
        let (nx, _) = buf.set_stringn(x, area.y, &label, w as usize, app.theme.style(role));
        x = nx;
    }
}

/// Which tab the tab-bar column `col` falls on.
pub fn tab_at(app: &App, col: u16) -> Option<usize> {
    let mut x = 0u16;
    for (i, (label, _)) in tab_labels(app).iter().enumerate() {
        let w = label.width() as u16;
        if col >= x && col < x + w {
            return Some(i);
        }
        x += w;
    }
    None
}

fn draw_panes(app: &App, buf: &mut Buffer) {
    let Some(tab) = app.tabs.get(app.active) else {
        return;
    };
    let body = app.body();
    let mut rects = tab.layout.rects(body);
    let bordered = rects.len() > 1;
    // Neighbours share a border line; the focused pane draws last so that line shows it.
    rects.sort_by_key(|(id, _)| *id == tab.focused);
    for (id, rect) in rects {
        let Some(slot) = app.panes.get(&id) else {
            continue;
        };
        if rect.is_empty() {
            continue;
        }
        if bordered {
            let focused = id == tab.focused;
            let broadcasting = tab.broadcast.contains(&id);
            let style = app.theme.style(if broadcasting {
                Role::Broadcast
            } else if focused {
                Role::BorderFocused
            } else {
                Role::Border
            });
            let copilot_title;
            let title = match &slot.pane {
                crate::panes::Pane::Copilot(_) => {
                    let terminal = app.copilot.bound(id);
                    let host = terminal.map(|t| app.pane_host(t)).unwrap_or_default();
                    copilot_title = app.copilot.title(terminal, &host);
                    copilot_title.as_str()
                }
                pane => pane.title().unwrap_or(&slot.default_title),
            };
            let mut spans = Vec::new();
            if broadcasting {
                spans.push(Span::styled(" ⇶ BROADCAST ", style));
            }
            if focused && broadcasting {
                spans.push(Span::styled("▶", style));
            }
            spans.push(Span::styled(format!(" {title} "), style));
            if let Some(mode) = slot.pane.mode() {
                spans.push(Span::styled(format!("[{mode}] "), style));
            }
            Block::default()
                .borders(Borders::ALL)
                .border_style(style)
                .merge_borders(MergeStrategy::Exact)
                .title(Line::from(spans))
                .render(crate::app::layout::frame(rect, body), buf);
        }
        if slot.inner.is_empty() {
            continue;
        }
        match &slot.pane {
            crate::panes::Pane::Copilot(c) => {
                let terminal = app.copilot.bound(id);
                let session = terminal.and_then(|t| app.copilot.session(t));
                let items = session.map(|s| s.items()).unwrap_or(&[]);
                // Waiting on the operator's card is not "working".
                let busy = session.is_some_and(|s| s.is_busy() && s.pending().is_none());
                c.render_with(slot.inner, buf, &app.theme, items, busy);
            }
            pane => pane.render(slot.inner, buf, &app.theme),
        }
    }
}

fn draw_status(app: &App, area: Rect, buf: &mut Buffer) {
    let theme = &app.theme;
    buf.set_style(area, theme.style(Role::Status));
    let prefix = app.config.keymap.prefix.to_string();
    let focused = app.focused().and_then(|id| app.panes.get(&id));
    let mut left = vec![Span::styled(
        format!(" [{}] ", app.config.workspace),
        theme.style(Role::StatusKey),
    )];
    if let Some(tab) = app.tabs.get(app.active)
        && !tab.broadcast.is_empty()
    {
        left.push(Span::styled(
            format!(" BROADCAST: {} panes ", tab.broadcast.len()),
            theme.style(Role::Broadcast),
        ));
    }
    if let Some(slot) = focused {
        let title = slot.pane.title().unwrap_or(&slot.default_title);
        left.push(Span::styled(title.to_string(), theme.style(Role::Status)));
        if let Some(mode) = slot.pane.mode() {
            left.push(Span::styled(
                format!(" {mode}"),
                theme.style(Role::StatusKey),
            ));
        }
    }
    if let Some(runs) = app.background_runs() {
        left.push(Span::styled(
            format!(" {runs}"),
            theme.style(Role::StatusKey),
        ));
    }
    let ended = app.focused().is_some_and(|id| app.reconnectable(id));
    let right = if ended {
        vec![Span::styled(
            " session ended: r to reconnect, or C-b x to close ".replace("C-b", &prefix),
            theme.style(Role::StatusKey),
        )]
    } else if app.prefix_pending {
        vec![Span::styled(
            format!(" {prefix} … (? help, : palette) "),
            theme.style(Role::StatusKey),
        )]
    } else {
        vec![
            Span::styled(format!(" {prefix} ?"), theme.style(Role::StatusKey)),
            Span::styled(" help ", theme.style(Role::Status)),
            Span::styled(format!("{prefix} :"), theme.style(Role::StatusKey)),
            Span::styled(" palette ", theme.style(Role::Status)),
        ]
    };
    // A message takes the room of the key hints; the left part keeps at most half.
    let left_w = (area.width / 2).min(48);
    Paragraph::new(Line::from(left)).render(Rect::new(area.x, area.y, left_w, 1), buf);
    if let Some(m) = &app.message {
        let role = if m.error {
            Role::Error
        } else {
            Role::StatusMessage
        };
        let start = area.x + left_w;
        let room = area.width.saturating_sub(left_w);
        buf.set_stringn(
            start,
            area.y,
            format!(" {} ", m.text),
            room as usize,
            theme.style(role),
        );
        return;
    }
    let right_w: u16 = right.iter().map(|s| s.content.width() as u16).sum();
    if right_w + left_w <= area.width {
        Paragraph::new(Line::from(right))
            .render(Rect::new(area.right() - right_w, area.y, right_w, 1), buf);
    }
}
