//! The host picker's list: grouping, filtering, marking, opening, states, and what it draws.
#![allow(clippy::unwrap_used)]

mod picker_support;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use lumen::panes::PaneView;
use lumen::panes::hosts::{HostPicker, HostState, PickerOutcome};
use lumen::workspace::Inventory;
use picker_support::{ctrl, draw, inventory, key, roles, text, typ};

fn names(p: &HostPicker) -> Vec<String> {
    p.entries()
        .iter()
        .map(|e| format!("{}/{}", e.group, p.inventory().hosts[e.host].name))
        .collect()
}

fn selected(p: &HostPicker) -> String {
    p.selected_entry().unwrap().1.name.clone()
}

fn picker() -> HostPicker {
    let mut p = HostPicker::new(inventory(), None);
    p.resize(90, 16);
    p
}

#[test]
fn hosts_listed_under_each_group() {
    let p = picker();
    assert_eq!(
        names(&p),
        [
            "infra/bastion",
            "prod/web1",
            "prod/db1",
            "prod/cache1",
            "web/web1",
            "web/web2",
            "ungrouped/laptop"
        ]
    );
}

#[test]
fn typing_filters_and_esc_clears() {
    let mut p = picker();
    typ(&mut p, "redis");
    assert_eq!(names(&p), ["prod/cache1"]);
    assert_eq!(selected(&p), "cache1");
    key(&mut p, KeyCode::Backspace);
    assert_eq!(p.filter_text(), "redi");
    key(&mut p, KeyCode::Esc);
    assert_eq!(p.filter_text(), "");
    assert_eq!(names(&p).len(), 7);
    // The selection survives clearing the filter.
    assert_eq!(selected(&p), "cache1");
}

#[test]
fn moving_stops_at_the_ends() {
    let mut p = picker();
    key(&mut p, KeyCode::Up);
    assert_eq!(selected(&p), "bastion");
    key(&mut p, KeyCode::Down);
    key(&mut p, KeyCode::Down);
    assert_eq!(selected(&p), "db1");
    key(&mut p, KeyCode::End);
    assert_eq!(selected(&p), "laptop");
    key(&mut p, KeyCode::Down);
    assert_eq!(selected(&p), "laptop");
    key(&mut p, KeyCode::PageUp);
    key(&mut p, KeyCode::Home);
    assert_eq!(selected(&p), "bastion");
    key(&mut p, KeyCode::PageDown);
    assert_eq!(selected(&p), "laptop", "a page is longer than this list");
}

#[test]
fn enter_opens_the_selected_host() {
    let mut p = picker();
    key(&mut p, KeyCode::Down);
    assert_eq!(
        key(&mut p, KeyCode::Enter),
        PickerOutcome::Open(vec!["web1".into()])
    );
}

#[test]
fn marked_hosts_open_together_in_marking_order() {
    let mut p = picker();
    key(&mut p, KeyCode::Down); // web1
    key(&mut p, KeyCode::Char(' '));
    key(&mut p, KeyCode::End); // laptop
    key(&mut p, KeyCode::Char(' '));
    key(&mut p, KeyCode::Home); // bastion
    key(&mut p, KeyCode::Char(' '));
    key(&mut p, KeyCode::Char(' ')); // unmarked again
    assert_eq!(p.marked(), ["web1", "laptop"]);
    // Marks survive filtering.
    typ(&mut p, "db");
    assert_eq!(
        key(&mut p, KeyCode::Enter),
        PickerOutcome::Open(vec!["web1".into(), "laptop".into()])
    );
    assert!(p.marked().is_empty(), "opening clears the marks");
}

#[test]
fn esc_with_no_filter_clears_marks() {
    let mut p = picker();
    key(&mut p, KeyCode::Char(' '));
    assert_eq!(p.marked().len(), 1);
    key(&mut p, KeyCode::Esc);
    assert!(p.marked().is_empty());
}

#[test]
fn set_inventory_keeps_selection_by_name_and_drops_gone_marks() {
    let mut p = picker();
    key(&mut p, KeyCode::Char(' ')); // bastion marked
    key(&mut p, KeyCode::End); // laptop
    let mut inv = inventory();
    inv.hosts.retain(|h| h.name != "bastion");
    inv.hosts
        .insert(0, picker_support::host("aaa", None, "a", None));
    p.set_inventory(inv);
    assert_eq!(selected(&p), "laptop");
    assert!(p.marked().is_empty());
}

#[test]
fn through_the_pane_trait_the_outcome_waits_to_be_taken() {
    let mut p = picker();
    let pane: &mut dyn PaneView = &mut p;
    pane.handle_key(&KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    assert_eq!(pane.title(), Some("hosts"));
    assert_eq!(
        p.take_outcome(),
        PickerOutcome::Open(vec!["bastion".into()])
    );
    assert_eq!(p.take_outcome(), PickerOutcome::None);
}

#[test]
fn click_selects_the_row_under_the_mouse() {
    let mut p = picker();
    // Row 0 filter, row 1 "infra" header, row 2 bastion, row 3 "prod", row 4 web1.
    p.handle_mouse(&MouseEvent {
        kind: MouseEventKind::Down(MouseButton::Left),
        column: 5,
        row: 4,
        modifiers: KeyModifiers::NONE,
    });
    assert_eq!(selected(&p), "web1");
}

#[test]
fn cursor_follows_the_filter() {
    let mut p = picker();
    assert_eq!(p.cursor(), Some((9, 0)));
    typ(&mut p, "db");
    assert_eq!(p.cursor(), Some((11, 0)));
}

#[test]
fn selection_scrolls_into_view() {
    let mut p = HostPicker::new(inventory(), None);
    p.resize(90, 5);
    key(&mut p, KeyCode::End);
    let screen = text(&draw(&p, 90, 5));
    assert!(screen.contains("laptop"), "{screen}");
    assert!(!screen.contains("bastion"), "{screen}");
}

fn with_states() -> HostPicker {
    let mut p = picker();
    p.set_state("web1", HostState::Connected);
    p.set_state("db1", HostState::Failed(
        "jump host bastion (bastion.example.com:22): authentication failed (tried publickey)\nmore".into(),
    ));
    p.set_state("web2", HostState::Connecting);
    p.set_state(
        "cache1",
        HostState::Ended("connection closed by peer".into()),
    );
    p
}

#[test]
fn snapshot_groups_and_states() {
    let p = with_states();
    insta::assert_snapshot!("groups_and_states", text(&draw(&p, 110, 14)));
}

#[test]
fn snapshot_filtered() {
    let mut p = with_states();
    typ(&mut p, "ngx");
    insta::assert_snapshot!("filtered", text(&draw(&p, 110, 8)));
}

#[test]
fn snapshot_marked_rows() {
    let mut p = with_states();
    key(&mut p, KeyCode::Down); // web1 (in prod and web)
    key(&mut p, KeyCode::Char(' '));
    key(&mut p, KeyCode::Down);
    key(&mut p, KeyCode::Char(' ')); // db1
    let buf = draw(&p, 110, 12);
    insta::assert_snapshot!("marked", format!("{}\n\n{}", text(&buf), roles(&buf)));
}

#[test]
fn snapshot_load_error_and_empty_inventory() {
    let p = HostPicker::new(
        Inventory::default(),
        Some("/home/op/.local/share/lumen/workspaces/default/hosts.toml:3: invalid type: string \"22\", expected u16 (in `port = \"22\"`)".into()),
    );
    let buf = draw(&p, 80, 10);
    insta::assert_snapshot!("empty_with_error", text(&buf));
    assert!(roles(&buf).lines().nth(1).unwrap().starts_with("EEEE"));
}

#[test]
fn ctrl_e_opens_the_form_and_esc_cancels() {
    let mut p = picker();
    ctrl(&mut p, 'e');
    assert_eq!(p.editing().unwrap().name(), "bastion");
    assert_eq!(PaneView::mode(&p), Some("EDIT"));
    assert_eq!(key(&mut p, KeyCode::Esc), PickerOutcome::None);
    assert!(p.editing().is_none());
}

#[test]
fn wide_names_keep_the_columns_aligned() {
    use unicode_width::UnicodeWidthStr;
    let mut inv = inventory();
    inv.hosts
        .push(picker_support::host("数据库", None, "db.example.cn", None));
    let p = HostPicker::new(inv, None);
    let screen = text(&draw(&p, 100, 14));
    let col_of = |needle: &str| {
        let line = screen.lines().find(|l| l.contains(needle)).unwrap();
        line[..line.find(needle).unwrap()].width()
    };
    assert_eq!(col_of("db.example.cn"), col_of("127.0.0.1"), "{screen}");
}
