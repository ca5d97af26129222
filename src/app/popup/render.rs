//! Drawing the popups, and where their text cursor goes.

use super::{Confirm, Popup, host_matches, palette_matches};
use crate::app::keymap::{Action, Keymap};
use crate::ui::centered;
use crate::ui::input::TextInput;
use crate::ui::theme::{Role, Theme};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget, Wrap};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

impl Popup {
    pub fn render(&self, area: Rect, buf: &mut Buffer, theme: &Theme, keymap: &Keymap) {
        let dialog = theme.style(Role::Dialog);
        let notice_title;
        let (title, width, height) = match self {
            Popup::Confirm(_) => (" Confirm ", 44, 5),
            Popup::ConfirmPaste { warning, .. } => (
                " Broadcast paste ",
                (warning
                    .lines()
                    .map(|l| l.chars().count())
                    .max()
                    .unwrap_or(0)
                    + 4)
                .clamp(44, 100) as u16,
                warning.lines().count() as u16 + 5,
            ),
            Popup::Clipboard { .. } => (" Clipboard ", 72, 9),
            Popup::Rename(_) => (" Rename tab ", 44, 5),
            Popup::RenameSession(_) => (" Rename session ", 44, 5),
            Popup::Sessions { names, .. } => (
                " Sessions ",
                44,
                u16::try_from(names.len() + 4).unwrap_or(u16::MAX),
            ),
            Popup::Palette { .. } => {
                let (w, h) = palette_size(area);
                (" Command palette ", w, h)
            }
            Popup::NewTab { .. } => (" New tab: host or local shell ", 60, 12),
            Popup::Help { .. } => {
                // As tall as the text needs, up to the whole body; the scroll cue takes the
                // last row when it does not fit.
                let width = HELP_WIDTH.min(area.width);
                let rows = help_rows(keymap, theme, usize::from(width.saturating_sub(2))).len();
                let height = u16::try_from(rows + 2).unwrap_or(u16::MAX);
                (" Keys ", width, height)
            }
            Popup::Notice { title, lines, .. } => {
                notice_title = format!(" {title} ");
                let longest = lines.iter().map(|l| l.width()).max().unwrap_or(0);
                // The lines, a blank, the hint, and the border; long lines wrap. As tall as
                // the screen allows: a long notice scrolls only when it must.
                let width = (longest + 4).clamp(36, 100);
                let wrapped = wrap_rows(lines, width - 2).len();
                (
                    notice_title.as_str(),
                    width as u16,
                    u16::try_from(wrapped + 4).unwrap_or(u16::MAX),
                )
            }
        };
        let rect = centered(area, width, height);
        if rect.is_empty() {
            return;
        }
        let inner = crate::ui::dialog_frame(rect, buf, theme, title, Role::DialogTitle);
        let prefix = keymap.prefix.to_string();
        let key_style = theme
            .style(Role::StatusKey)
            .bg(dialog.bg.unwrap_or_default());
        let lines: Vec<Line> = match self {
            Popup::Confirm(what) => {
                let q = match what {
                    Confirm::ClosePane(_) => "Close this pane?",
                    Confirm::CloseTab(_) => "Close this tab and all its panes?",
                    Confirm::Quit => "Quit lumen? Every session will end.",
                };
                vec![
                    Line::from(q),
                    Line::from(vec![
                        Span::styled("y", key_style),
                        Span::raw(" yes   "),
                        Span::styled("n", key_style),
                        Span::raw("/"),
                        Span::styled("Esc", key_style),
                        Span::raw(" no"),
                    ]),
                ]
            }
            Popup::ConfirmPaste { warning, .. } => {
                let mut lines: Vec<Line> = warning
                    .lines()
                    .map(|l| Line::from(Span::styled(l.to_string(), theme.style(Role::Error))))
                    .collect();
                lines.push(Line::from(""));
                lines.push(Line::from(vec![
                    Span::styled("y", key_style),
                    Span::raw(" paste into every pane   "),
                    Span::styled("n", key_style),
                    Span::raw("/"),
                    Span::styled("Esc", key_style),
                    Span::raw(" cancel"),
                ]));
                lines
            }
            Popup::Clipboard { host, text } => {
                let shown: String = text.chars().take(200).collect();
                let more = if text.chars().count() > 200 {
                    "…"
                } else {
                    ""
                };
                vec![
                    Line::from(format!(
                        "A program in {host} wants to set your clipboard to:"
                    )),
                    Line::from(Span::styled(
                        format!("{}{more}", crate::text::escape_controls(&shown)),
                        theme.style(Role::DialogHighlight),
                    )),
                    Line::from(""),
                    Line::from(vec![
                        Span::styled("o", key_style),
                        Span::raw(" allow once   "),
                        Span::styled("a", key_style),
                        Span::raw(format!(" always for {host}   ")),
                        Span::styled("d", key_style),
                        Span::raw("/"),
                        Span::styled("Esc", key_style),
                        Span::raw(" deny"),
                    ]),
                ]
            }
            Popup::Rename(input) => vec![
                input_line(input, theme, rect.width),
                Line::from(Span::styled(
                    "Enter to rename, empty to use the program's title",
                    theme.style(Role::Muted),
                )),
            ],
            Popup::RenameSession(input) => vec![
                input_line(input, theme, rect.width),
                Line::from(Span::styled(
                    "Enter to rename the session (lumen attach -t NAME)",
                    theme.style(Role::Muted),
                )),
            ],
            Popup::Sessions {
                names,
                current,
                selected,
            } => {
                let mut lines: Vec<Line> = names
                    .iter()
                    .enumerate()
                    .map(|(i, n)| {
                        let mark = if n == current { " (this one)" } else { "" };
                        let text = format!("{} {n}{mark}", if i == *selected { ">" } else { " " });
                        if i == *selected {
                            Line::from(Span::styled(text, theme.style(Role::Selection)))
                        } else {
                            Line::from(text)
                        }
                    })
                    .collect();
                lines.push(Line::from(""));
                lines.push(Line::from(Span::styled(
                    "Enter switch  ↑/↓ choose  Esc close",
                    theme.style(Role::Muted),
                )));
                lines
            }
            Popup::Palette { input, selected } => {
                let mut lines = vec![input_line(input, theme, rect.width), Line::from("")];
                let matches = palette_matches(input.text());
                let room = inner.height.saturating_sub(2) as usize;
                let first = selected.saturating_sub(room.saturating_sub(1));
                let shown: Vec<(usize, Action, String)> = matches
                    .iter()
                    .enumerate()
                    .skip(first)
                    .take(room)
                    .map(|(i, a)| (i, *a, binding_text(keymap, &prefix, *a)))
                    .collect();
                // The keys get a column of their own at the right; a description that does
                // not fit before it is cut with `…` rather than running into it.
                let width = usize::from(inner.width);
                let keys_w = shown
                    .iter()
                    .map(|(_, _, k)| k.width())
                    .max()
                    .unwrap_or(0)
                    .min(width / 3);
                let what_w = width.saturating_sub(keys_w + PALETTE_GAP);
                for (i, a, keys) in shown {
                    let text = format!(
                        "{}{:gap$}{}",
                        crate::ui::cell(a.describe(), what_w),
                        "",
                        crate::ui::fit(&keys, keys_w),
                        gap = PALETTE_GAP
                    );
                    let style = if i == *selected {
                        theme.style(Role::DialogHighlight)
                    } else {
                        dialog
                    };
                    lines.push(Line::from(Span::styled(text, style)));
                }
                if matches.is_empty() {
                    lines.push(Line::from(Span::styled(
                        "no action matches",
                        theme.style(Role::Muted),
                    )));
                }
                lines
            }
            Popup::NewTab {
                input,
                hosts,
                cycling,
            } => {
                let typed = cycling
                    .as_ref()
                    .map(|(t, _)| t.as_str())
                    .unwrap_or(input.text());
                let mut lines = vec![
                    input_line(input, theme, rect.width),
                    Line::from(Span::styled(
                        "Enter: empty for a local shell, or [user@]host[:port]. Tab completes.",
                        theme.style(Role::Muted),
                    )),
                ];
                let room = inner.height.saturating_sub(3) as usize;
                for h in host_matches(hosts, typed).into_iter().take(room) {
                    let style = if h == input.text() {
                        theme.style(Role::DialogHighlight)
                    } else {
                        dialog
                    };
                    lines.push(Line::from(Span::styled(format!("  {h}"), style)));
                }
                lines
            }
            Popup::Notice {
                lines,
                problem,
                scroll,
                ..
            } => {
                // Wrapped here, by display width, so that scrolling counts the rows drawn.
                let rows = wrap_rows(lines, usize::from(inner.width));
                let rows_total = rows.len();
                let room = usize::from(inner.height.saturating_sub(2));
                let first = scroll.first_row(rows_total, room);
                let mut out: Vec<Line> = rows
                    .into_iter()
                    .skip(first)
                    .take(room)
                    .map(|l| {
                        if *problem {
                            Line::from(Span::styled(l, theme.style(Role::Error)))
                        } else {
                            Line::from(l)
                        }
                    })
                    .collect();
                out.push(Line::from(""));
                let hint = if rows_total <= room {
                    "Esc or Enter closes this".to_string()
                } else {
                    let cue = scroll_cue(first, room, rows_total);
                    let close = "   Esc closes";
                    if cue.width() + close.width() <= usize::from(inner.width) {
                        cue + close
                    } else {
                        cue
                    }
                };
                out.push(Line::from(Span::styled(hint, theme.style(Role::Muted))));
                out
            }
            Popup::Help { scroll } => {
                let rows = help_rows(keymap, theme, usize::from(inner.width));
                let total = rows.len();
                let mut room = usize::from(inner.height);
                let cut = total > room;
                if cut {
                    room = room.saturating_sub(1);
                }
                let first = scroll.first_row(total, room);
                let mut out: Vec<Line> = rows.into_iter().skip(first).take(room).collect();
                if cut {
                    let cue = scroll_cue(first, room, total);
                    out.push(Line::from(Span::styled(cue, theme.style(Role::Muted))));
                }
                out
            }
        };
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .style(dialog)
            .render(inner, buf);
    }

    /// Where the text cursor goes, for popups with an input line.
    pub fn cursor(&self, area: Rect) -> Option<(u16, u16)> {
        let (input, width, height) = match self {
            Popup::Rename(i) | Popup::RenameSession(i) => (i, 44, 5),
            Popup::Palette { input, .. } => {
                let (w, h) = palette_size(area);
                (input, w, h)
            }
            Popup::NewTab { input, .. } => (input, 60, 12),
            _ => return None,
        };
        let rect = centered(area, width, height);
        let x = rect.x + 1 + 2 + input.window(input_width(rect.width)).1 as u16;
        (x < rect.right().saturating_sub(1) && rect.height > 2).then_some((x, rect.y + 1))
    }
}

/// What a cut popup says on its last row: which way there is more, the key that shows it,
/// and which of the rows are shown.
fn scroll_cue(first: usize, room: usize, total: usize) -> String {
    let last = (first + room).min(total);
    let way = if last < total {
        "↓ more (PgDn)"
    } else {
        "↑ more (PgUp)"
    };
    format!("{way}   rows {}–{last} of {total}", first + 1)
}

/// The key help's widest; narrower screens get all of theirs.
const HELP_WIDTH: u16 = 90;
/// Columns between a palette entry's description and its keys.
const PALETTE_GAP: usize = 2;

/// The palette's width and height over `area`: wide enough for the descriptions where the
/// screen allows.
fn palette_size(area: Rect) -> (u16, u16) {
    (area.width.saturating_sub(4).clamp(40, 96), 20)
}

/// The key help as rows at most `width` columns wide: the keys in a column of their own and
/// each description wrapped within the column beside it, so a wrapped line keeps its indent.
fn help_rows(keymap: &Keymap, theme: &Theme, width: usize) -> Vec<Line<'static>> {
    let prefix = keymap.prefix.to_string();
    let dialog = theme.style(Role::Dialog);
    let key_style = theme
        .style(Role::StatusKey)
        .bg(dialog.bg.unwrap_or_default());
    let digits_default = (0..10).all(|i| {
        Action::ALL
            .iter()
            .find(|a| a.go_to_tab() == Some(i))
            .is_some_and(|a| {
                keymap
                    .keys_for(*a)
                    .iter()
                    .any(|k| k.to_string() == i.to_string())
            })
    });
    // The four arrows (and Ctrl-arrows) take one row each when they are the defaults.
    let group_default = |group: &[Action]| {
        group.iter().all(|a| {
            binding_text(keymap, &prefix, *a) == format!("{prefix} {}", a.default_keys()[0])
        })
    };
    const FOCUS: [Action; 4] = [
        Action::FocusLeft,
        Action::FocusRight,
        Action::FocusUp,
        Action::FocusDown,
    ];
    const RESIZE: [Action; 4] = [
        Action::ResizeLeft,
        Action::ResizeRight,
        Action::ResizeUp,
        Action::ResizeDown,
    ];
    let focus_default = group_default(&FOCUS);
    let resize_default = group_default(&RESIZE);
    let mut entries: Vec<(String, String)> = Vec::new();
    for a in Action::ALL.iter().copied() {
        let mut keys = binding_text(keymap, &prefix, a);
        let mut what = a.describe().to_string();
        if digits_default && let Some(i) = a.go_to_tab() {
            if i > 0 {
                continue;
            }
            keys = format!("{prefix} 0…9");
            what = "go to tab 0…9".into();
        }
        for (group, on, arrows, said) in [
            (&FOCUS, focus_default, "arrows", "focus the pane that way"),
            (
                &RESIZE,
                resize_default,
                "C-arrows",
                "move the pane border that way",
            ),
        ] {
            if on && let Some(at) = group.iter().position(|g| *g == a) {
                if at > 0 {
                    keys.clear();
                } else {
                    keys = format!("{prefix} {arrows}");
                    what = said.into();
                }
            }
        }
        if !keys.is_empty() {
            entries.push((keys, what));
        }
    }
    let width = width.max(1);
    let mut rows: Vec<Line<'static>> = wrap_rows(
        &[format!(
            "Press the prefix {prefix}, then a key. Esc or q closes this."
        )],
        width,
    )
    .into_iter()
    .map(Line::from)
    .collect();
    rows.push(Line::from(""));
    let keys_w = entries
        .iter()
        .map(|(k, _)| k.width() + 2)
        .max()
        .unwrap_or(0)
        .clamp(HELP_KEYS_MIN, HELP_KEYS_MIN.max(width / 2));
    let push = |keys: &str, what: &str, rows: &mut Vec<Line<'static>>| {
        let indent = if keys_w < width { keys_w } else { 0 };
        let mut first_key = Some(keys);
        if keys.width() + 1 > indent {
            // Keys too long for their column get a row of their own.
            rows.push(Line::from(Span::styled(
                crate::ui::fit(keys, width),
                key_style,
            )));
            first_key = None;
        }
        for row in wrap_rows(&[what.to_string()], width - indent) {
            let lead = match first_key.take() {
                Some(k) => Span::styled(crate::ui::cell(k, indent), key_style),
                None => Span::raw(" ".repeat(indent)),
            };
            rows.push(Line::from(vec![lead, Span::raw(row)]));
        }
    };
    for (keys, what) in &entries {
        push(keys, what, &mut rows);
    }
    rows.push(Line::from(""));
    push(
        "copy mode",
        "arrows/hjkl move, / ? search, n N next, v select, y copy, q leave",
        &mut rows,
    );
    rows
}

/// The narrowest key column in the help (wide enough for `C-b C-Right`).
const HELP_KEYS_MIN: usize = 16;

fn binding_text(keymap: &Keymap, prefix: &str, a: Action) -> String {
    keymap
        .keys_for(a)
        .iter()
        .map(|k| format!("{prefix} {k}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Columns an input line has in a popup `width` wide: borders and the `> ` mark taken off.
fn input_width(width: u16) -> usize {
    usize::from(width.saturating_sub(4))
}

/// The `> text` line, scrolled so the cursor stays visible in a popup `width` wide.
fn input_line(input: &TextInput, theme: &Theme, width: u16) -> Line<'static> {
    Line::from(vec![
        Span::styled("> ", theme.style(Role::DialogTitle)),
        Span::raw(input.window(input_width(width)).0),
    ])
}

/// `lines` cut into rows at most `width` columns wide (by display width), after a space when
/// the row has one, else inside the word; a character wider than the row gets a row of its
/// own. An empty line is one empty row.
fn wrap_rows(lines: &[String], width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut rows = Vec::new();
    for line in lines {
        let mut row = String::new();
        let mut used = 0;
        for c in line.chars() {
            let w = c.width().unwrap_or(0);
            while used + w > width && !row.is_empty() {
                // The word being written moves to the next row (a word longer than a row
                // is cut: its carry has no space, so the next pass ends the row as it is).
                let carry = match row.rfind(' ') {
                    Some(i) if i + 1 < row.len() => row.split_off(i + 1),
                    _ => String::new(),
                };
                rows.push(std::mem::replace(&mut row, carry));
                used = row.width();
            }
            row.push(c);
            used += w;
        }
        rows.push(row);
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::wrap_rows;
    use crate::app::keymap::Keymap;
    use crate::app::popup::Popup;
    use crate::ui::theme::{Role, Theme};
    use ratatui::buffer::Buffer;
    use ratatui::layout::Rect;

    fn notice(lines: usize, problem: bool) -> Popup {
        Popup::Notice {
            title: "t".into(),
            lines: (0..lines).map(|i| format!("line {i}")).collect(),
            problem,
            scroll: Default::default(),
        }
    }

    fn draw(p: &Popup) -> Buffer {
        let area = Rect::new(0, 0, 60, 20);
        let mut buf = Buffer::empty(area);
        p.render(area, &mut buf, &Theme::builtin(), &Keymap::default());
        buf
    }

    fn text(buf: &Buffer) -> String {
        let area = buf.area;
        (0..area.height)
            .map(|y| {
                (0..area.width)
                    .map(|x| buf[(x, y)].symbol())
                    .collect::<String>()
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn a_problem_is_drawn_as_an_error_and_other_text_plainly() {
        let error_fg = Theme::builtin().style(Role::Error).fg;
        let fg_of = |p: &Popup| {
            let buf = draw(p);
            let (x, y) = (0..buf.area.height)
                .flat_map(|y| (0..buf.area.width).map(move |x| (x, y)))
                .find(|&(x, y)| buf[(x, y)].symbol() == "l")
                .unwrap();
            buf[(x, y)].fg
        };
        assert_eq!(Some(fg_of(&notice(1, true))), error_fg);
        assert_ne!(Some(fg_of(&notice(1, false))), error_fg);
    }

    #[test]
    fn a_long_notice_scrolls_to_its_end_and_says_which_rows_show() {
        let mut p = notice(40, false);
        let first = text(&draw(&p));
        assert!(
            first.contains("line 0") && !first.contains("line 39"),
            "{first}"
        );
        assert!(first.contains("rows 1–"), "{first}");
        let end = crossterm::event::KeyEvent::from(crossterm::event::KeyCode::End);
        p.handle_key(&end);
        let last = text(&draw(&p));
        assert!(
            last.contains("line 39") && !last.contains("line 0 "),
            "{last}"
        );
        assert!(last.contains("of 40"), "{last}");
    }

    #[test]
    fn a_long_notice_uses_a_tall_screen() {
        let p = notice(40, false);
        let area = Rect::new(0, 1, 160, 43);
        let mut buf = Buffer::empty(Rect::new(0, 0, 160, 45));
        p.render(area, &mut buf, &Theme::builtin(), &Keymap::default());
        let shown = text(&buf);
        // 43 rows hold the border, 39 lines, a blank and the cue.
        assert!(shown.contains("line 38"), "{shown}");
        assert!(shown.contains("↓ more (PgDn)   rows 1–39 of 40"), "{shown}");
    }

    #[test]
    fn the_key_help_scrolls_to_its_last_line_and_no_further() {
        let mut p = Popup::Help {
            scroll: Default::default(),
        };
        let first = text(&draw(&p));
        assert!(first.contains("Press the prefix"), "{first}");
        assert!(!first.contains("copy mode"), "{first}");
        let key = |code| crossterm::event::KeyEvent::from(code);
        p.handle_key(&key(crossterm::event::KeyCode::End));
        let last = text(&draw(&p));
        assert!(last.contains("copy mode"), "{last}");
        // Further down stays at the end instead of scrolling into blank rows; Up moves back.
        for _ in 0..5 {
            p.handle_key(&key(crossterm::event::KeyCode::PageDown));
        }
        assert_eq!(text(&draw(&p)), last);
        p.handle_key(&key(crossterm::event::KeyCode::Up));
        assert_ne!(text(&draw(&p)), last);
        p.handle_key(&key(crossterm::event::KeyCode::Home));
        assert_eq!(text(&draw(&p)), first);
    }

    #[test]
    fn rows_wrap_by_display_width() {
        let lines = vec!["abcdef".to_string(), String::new(), "日本語".to_string()];
        assert_eq!(wrap_rows(&lines, 4), ["abcd", "ef", "", "日本", "語"]);
        let words = vec!["ab cd ef".to_string(), "a verylongword x".to_string()];
        assert_eq!(
            wrap_rows(&words, 5),
            ["ab ", "cd ef", "a ", "veryl", "ongwo", "rd x"]
        );
    }
}
