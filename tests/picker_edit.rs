//! The host picker's edit form: validation shown inline, and an edit that round-trips through
//! `hosts.toml`.
#![allow(clippy::unwrap_used)]

mod picker_support;

use crossterm::event::KeyCode;
use lumen::panes::hosts::{Field, HostPicker, PickerOutcome};
use lumen::workspace::{Host, HostOptions, HostsFile};
use picker_support::{ctrl, draw, inventory, key, text, typ};

/// The picker with the form open on `name` (found by filtering).
fn editing(name: &str) -> HostPicker {
    let mut p = HostPicker::new(inventory(), None);
    p.resize(100, 24);
    typ(&mut p, name);
    ctrl(&mut p, 'e');
    assert_eq!(p.editing().unwrap().name(), name);
    p
}

fn go_to(p: &mut HostPicker, field: Field) {
    // Tab wraps around, so every field is at most eight presses away.
    for _ in 0..Field::ALL.len() {
        if p.editing().unwrap().focus() == field {
            return;
        }
        key(p, KeyCode::Tab);
    }
    panic!("Tab never reached {field:?}");
}

/// Replace the focused field's text.
fn set(p: &mut HostPicker, field: Field, value: &str) {
    go_to(p, field);
    ctrl(p, 'e');
    ctrl(p, 'u');
    typ(p, value);
}

#[test]
fn bad_values_are_shown_under_their_fields_and_nothing_is_saved() {
    let mut p = editing("db1");
    set(&mut p, Field::Port, "70000");
    set(&mut p, Field::Hostname, "db 1");
    set(&mut p, Field::Jump, "bastion, @nobody");
    assert_eq!(key(&mut p, KeyCode::Enter), PickerOutcome::None);
    let form = p.editing().expect("the form stays open");
    let fields: Vec<Option<Field>> = form.errors().iter().map(|e| e.field).collect();
    assert_eq!(
        fields,
        [Some(Field::Port), Some(Field::Hostname), Some(Field::Jump)]
    );
    // The focus goes to the topmost field at fault.
    assert_eq!(form.focus(), Field::Hostname);
    insta::assert_snapshot!("form_with_errors", text(&draw(&p, 100, 24)));
    // Fixing everything saves.
    set(&mut p, Field::Port, "5432");
    set(&mut p, Field::Hostname, "db1.internal");
    set(&mut p, Field::Jump, "bastion");
    assert!(matches!(
        key(&mut p, KeyCode::Enter),
        PickerOutcome::Edit(_)
    ));
    assert!(p.editing().is_none());
}

#[test]
fn cursor_sits_in_the_focused_field() {
    let mut p = editing("web2");
    let (x0, y0) = p.cursor().unwrap();
    key(&mut p, KeyCode::Tab);
    let (_, y1) = p.cursor().unwrap();
    assert_eq!(y1, y0 + 1);
    key(&mut p, KeyCode::Home);
    let (x2, _) = p.cursor().unwrap();
    assert!(x2 < x0);
}

#[test]
fn an_edit_round_trips_through_hosts_toml() {
    let dir = tempfile::tempdir().unwrap();
    let file = HostsFile::new(dir.path().join("workspaces/default/hosts.toml"));
    // The file holds the inventory, plus options the form does not show.
    let mut start = inventory();
    start.hosts[2].options = HostOptions {
        keepalive_interval: Some(30),
        forward_agent: Some(true),
        ..HostOptions::default()
    };
    start.hosts[2].notes = Some("primary\nreplica is db2".into());
    file.update(|_, ed| {
        for h in &start.hosts {
            ed.put(h)?;
        }
        Ok(())
    })
    .unwrap();
    let loaded = file.load().unwrap();
    assert_eq!(loaded, start);

    let mut p = HostPicker::new(loaded, None);
    typ(&mut p, "db1");
    ctrl(&mut p, 'e');
    set(&mut p, Field::Port, "5432");
    set(&mut p, Field::User, "admin");
    set(&mut p, Field::Jump, " bastion , ops@10.0.0.9:2200 ");
    set(&mut p, Field::Credential, "db-admin");
    set(&mut p, Field::Tags, "postgres, primary,");
    set(&mut p, Field::Groups, "prod, databases");
    let PickerOutcome::Edit(edited) = key(&mut p, KeyCode::Enter) else {
        panic!("the form did not save");
    };
    let expected = Host {
        port: Some(5432),
        user: Some("admin".into()),
        jump: vec!["bastion".into(), "ops@10.0.0.9:2200".into()],
        credential: Some("db-admin".into()),
        tags: vec!["postgres".into(), "primary".into()],
        groups: vec!["prod".into(), "databases".into()],
        ..start.hosts[2].clone()
    };
    assert_eq!(
        edited, expected,
        "notes and options kept, lists split and trimmed"
    );

    file.update(|_, ed| ed.put(&edited)).unwrap();
    let back = file.load().unwrap();
    assert_eq!(back.get("db1"), Some(&edited));
    assert_eq!(back.hosts.len(), start.hosts.len());
    for h in start.hosts.iter().filter(|h| h.name != "db1") {
        assert_eq!(back.get(&h.name), Some(h), "{} unchanged", h.name);
    }
    // The app hands the reloaded inventory back; the row shows the new address.
    p.set_inventory(back);
    assert!(text(&draw(&p, 100, 10)).contains("admin@db1.internal:5432"));
}

#[test]
fn clearing_fields_unsets_them() {
    let mut p = editing("web1");
    set(&mut p, Field::Port, "");
    set(&mut p, Field::User, "  ");
    set(&mut p, Field::Tags, "");
    let PickerOutcome::Edit(h) = key(&mut p, KeyCode::Enter) else {
        panic!("the form did not save");
    };
    assert_eq!((h.port, h.user, h.tags.len()), (None, None, 0));
    assert_eq!(h.groups, ["prod", "web"]);
}
