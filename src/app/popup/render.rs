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
            Popup::Palette { .. } => (" Command palette ", 64, 20),
            Popup::NewTab { .. } => (" New tab: host or local shell ", 60, 12),
            Popup::Help { .. } => (" Keys ", 64, 30),
            Popup::Notice { title, lines, .. } => {
                notice_title = format!(" {title} ");
                let longest = lines.iter().map(|l| l.width()).max().unwrap_or(0);
                // The lines, a blank, the hint, and the border; long lines wrap.
                let width = (longest + 4).clamp(30, 100);
                let wrapped = wrap_rows(lines, width - 2).len();
                (
                    notice_title.as_str(),
                    width as u16,
                    (wrapped + 4).min(30) as u16,
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
            Popup::Palette { input, selected } => {
                let mut lines = vec![input_line(input, theme, rect.width), Line::from("")];
                let matches = palette_matches(input.text());
                let room = inner.height.saturating_sub(2) as usize;
                let first = selected.saturating_sub(room.saturating_sub(1));
                for (i, a) in matches.iter().enumerate().skip(first).take(room) {
                    let keys = binding_text(keymap, &prefix, *a);
                    let text = format!("{:<36}{keys}", a.describe());
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
                    format!(
                        "rows {}–{} of {}: ↑↓ PgUp PgDn Home End scroll; Esc or Enter closes",
                        first + 1,
                        first + room,
                        rows_total
                    )
                };
                out.push(Line::from(Span::styled(hint, theme.style(Role::Muted))));
                out
            }
            Popup::Help { scroll } => {
                let mut lines = vec![
                    Line::from(format!(
                        "Press the prefix {prefix}, then a key. Esc or q closes this."
                    )),
                    Line::from(""),
                ];
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
                    if keys.is_empty() {
                        continue;
                    }
                    lines.push(Line::from(vec![
                        Span::styled(format!("{keys:<16}"), key_style),
                        Span::raw(what),
                    ]));
                }
                lines.push(Line::from(""));
                lines.push(Line::from(
                    "Copy mode: arrows/hjkl move, / ? search, n N next, v select, y copy, q leave",
                ));
                // Rows as if cut at the width; the paragraph wraps these short lines at words
                // into as many, so End shows the last one.
                let width = usize::from(inner.width.max(1));
                let rows: usize = lines.iter().map(|l| l.width().div_ceil(width).max(1)).sum();
                let first = scroll.first_row(rows, usize::from(inner.height));
                lines.into_iter().skip(first).collect()
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
            Popup::Rename(i) => (i, 44, 5),
            Popup::Palette { input, .. } => (input, 64, 20),
            Popup::NewTab { input, .. } => (input, 60, 12),
            _ => return None,
        };
        let rect = centered(area, width, height);
        let x = rect.x + 1 + 2 + input.window(input_width(rect.width)).1 as u16;
        (x < rect.right().saturating_sub(1) && rect.height > 2).then_some((x, rect.y + 1))
    }
}

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
    fn the_key_help_scrolls_to_its_last_line_and_no_further() {
        let mut p = Popup::Help {
            scroll: Default::default(),
        };
        let first = text(&draw(&p));
        assert!(first.contains("Press the prefix"), "{first}");
        assert!(!first.contains("Copy mode"), "{first}");
        let key = |code| crossterm::event::KeyEvent::from(code);
        p.handle_key(&key(crossterm::event::KeyCode::End));
        let last = text(&draw(&p));
        assert!(last.contains("Copy mode"), "{last}");
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
