//! Shared helpers of the host picker tests: a sample inventory, keys, and screens as text.
#![allow(dead_code)]

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use lumen::panes::hosts::{HostPicker, PickerOutcome};
use lumen::ui::theme::{Role, Theme};
use lumen::workspace::{Host, Inventory};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

pub fn host(name: &str, user: Option<&str>, hostname: &str, port: Option<u16>) -> Host {
    Host {
        name: name.into(),
        user: user.map(str::to_string),
        hostname: Some(hostname.into()),
        port,
        ..Host::default()
    }
}

pub fn with(mut h: Host, tags: &[&str], groups: &[&str]) -> Host {
    h.tags = tags.iter().map(|s| s.to_string()).collect();
    h.groups = groups.iter().map(|s| s.to_string()).collect();
    h
}

/// Six hosts: two groups sharing web1, one ungrouped host, a jump host.
pub fn inventory() -> Inventory {
    Inventory {
        hosts: vec![
            with(
                host("web1", Some("deploy"), "10.0.0.11", Some(2222)),
                &["nginx", "eu"],
                &["prod", "web"],
            ),
            with(
                host("web2", Some("deploy"), "10.0.0.12", None),
                &["nginx"],
                &["web"],
            ),
            with(
                host("db1", Some("postgres"), "db1.internal", None),
                &["postgres"],
                &["prod"],
            ),
            with(
                host("bastion", None, "bastion.example.com", Some(22)),
                &[],
                &["infra"],
            ),
            with(host("laptop", None, "127.0.0.1", None), &["local"], &[]),
            with(
                host("cache1", Some("ops"), "10.0.0.20", None),
                &["redis"],
                &["prod"],
            ),
        ],
        ..Inventory::default()
    }
}

pub fn key(p: &mut HostPicker, code: KeyCode) -> PickerOutcome {
    p.handle_key(&KeyEvent::new(code, KeyModifiers::NONE))
}

pub fn ctrl(p: &mut HostPicker, c: char) -> PickerOutcome {
    p.handle_key(&KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
}

pub fn typ(p: &mut HostPicker, text: &str) {
    for c in text.chars() {
        key(p, KeyCode::Char(c));
    }
}

pub fn draw(p: &HostPicker, w: u16, h: u16) -> Buffer {
    let area = Rect::new(0, 0, w, h);
    let mut buf = Buffer::empty(area);
    p.render(area, &mut buf, &Theme::builtin());
    buf
}

/// The screen as text, trailing spaces trimmed.
pub fn text(buf: &Buffer) -> String {
    let a = buf.area;
    (a.top()..a.bottom())
        .map(|y| {
            // A wide character covers the next cell too: skip that cell, as a terminal shows it.
            let mut row = String::new();
            let mut x = a.left();
            while x < a.right() {
                let sym = buf[(x, y)].symbol();
                row.push_str(sym);
                x += (unicode_width::UnicodeWidthStr::width(sym) as u16).max(1);
            }
            row.trim_end().to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// One character per cell naming the role whose background colour it has: `s` selection, `m` marked
/// (search.match), `E` error, `h` header (dialog.title), `.` none.
pub fn roles(buf: &Buffer) -> String {
    let theme = Theme::builtin();
    let of = |style: ratatui::style::Style| {
        [
            (Role::Selection, 's'),
            (Role::SearchMatch, 'm'),
            (Role::Error, 'E'),
            (Role::DialogTitle, 'h'),
        ]
        .into_iter()
        .find(|(r, _)| {
            let want = theme.style(*r);
            want.bg.is_some() && want.bg == style.bg
        })
        .map_or('.', |(_, c)| c)
    };
    let a = buf.area;
    (a.top()..a.bottom())
        .map(|y| {
            (a.left()..a.right())
                .map(|x| of(buf[(x, y)].style()))
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\n")
}
