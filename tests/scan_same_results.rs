//! The TUI's scan (`s` in the scan pane, over the session's shared connection) and `lumen scan`
//! (the CLI, its own login) run the same collectors and give the same results for the same
//! host: this machine, through a real OpenSSH `sshd` on loopback, with the same OSV data.
#![allow(clippy::unwrap_used)]

mod common;

use common::Sshd;
use common::app::settle_async;
use common::copilot::{key, prefix};
use crossterm::event::{KeyCode, KeyModifiers};
use lumen::app::{App, AppOptions, LiveSpawner, PaneSpec};
use lumen::paths::Paths;
use lumen::pty::PtyCommand;
use lumen::scan::report::JsonHost;
use lumen::scan::{OsvDb, ScanSetup, Store};
use lumen::ssh::{Connector, Prompter, Target};
use serde_json::{Value, json};
use std::process::{Command, Stdio};

/// One made-up advisory for an installed package (bash, never fixed), so both scans have a
/// finding to agree on.
fn import_osv(db: &std::path::Path, dir: &std::path::Path) {
    let osv = dir.join("osv");
    std::fs::create_dir_all(&osv).unwrap();
    let record = json!({"id": "LUMEN-SAME-1", "summary": "made up for this test",
        "affected": [{"package": {"ecosystem": "Debian:12", "name": "bash"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]}]});
    std::fs::write(osv.join("1.json"), record.to_string()).unwrap();
    OsvDb::open(db).unwrap().import(&osv).unwrap();
}

/// What the two scans must agree on (timestamps and the history diff aside).
fn comparable(host: &Value) -> Value {
    json!({
        "os": host["os"],
        "kernel": host["kernel"],
        "reboot_required": host["reboot_required"],
        "findings": host["findings"],
        "config_findings": host["config_findings"],
        "vulnerabilities_checked": host["vulnerabilities_checked"],
        "errors": host["errors"],
    })
}

/// What one scan of the same host showed in the TUI and printed from the CLI.
struct Both {
    tui: Value,
    tui_message: String,
    tui_screen: String,
    cli: Value,
    cli_exit: Option<i32>,
}

/// Scan this machine from the TUI, then with `lumen scan --json`, into one workspace.
async fn scan_both(with_osv: bool) -> Both {
    let dir = tempfile::tempdir().unwrap();
    let sshd = Sshd::start("").unwrap();
    let opts = sshd.client_options(dir.path());
    let home = dir.path().join("lumen");
    let workspace = Paths::under(&home).workspace_dir("default");
    std::fs::create_dir_all(&workspace).unwrap();
    let db = workspace.join(lumen::scan::DB_FILE);
    if with_osv {
        import_osv(&db, dir.path());
    }

    // The TUI: a session to the host, then prefix S and `s`.
    let connector = Connector::new(opts, Prompter::none());
    let mut options = AppOptions::new(Box::new(LiveSpawner::new(
        PtyCommand::new("/bin/sh"),
        connector.clone(),
    )));
    options.size = (120, 40);
    options.connector = Some(connector.clone());
    options.scans = Some(ScanSetup {
        db: db.clone(),
        ignore: workspace.join(lumen::scan::IGNORE_FILE),
        osv: lumen::scan::OsvSource::Imported,
        sudo: false,
    });
    let mut app = App::new(options);
    let user = lumen::ssh::target::local_user();
    app.new_tab(PaneSpec::Ssh {
        name: "127.0.0.1".into(),
        target: Target::new(&user, "127.0.0.1", sshd.port),
        plan: None,
    });
    prefix(&mut app, 'S');
    settle_async(&mut app, |_| {}).await;
    key(&mut app, KeyCode::Char('s'), KeyModifiers::NONE);
    settle_async(&mut app, |_| {}).await;
    let tui_screen = common::app::screen(&app);
    let tui_message = app
        .message
        .as_ref()
        .map(|m| m.text.clone())
        .unwrap_or_default();
    let tui = Store::open(&db)
        .unwrap()
        .latest("127.0.0.1")
        .unwrap()
        .expect("the TUI's scan was saved");
    let tui = serde_json::to_value(JsonHost::new(&tui, None)).unwrap();

    // The CLI, its own login, the same OSV data.
    let out = Command::new(env!("CARGO_BIN_EXE_lumen"))
        .args(["scan", "--json", "-i"])
        .arg(dir.path().join("id_ed25519"))
        .args(["-p", &sshd.port.to_string(), "-o"])
        .arg(format!(
            "UserKnownHostsFile={}",
            dir.path().join("known_hosts").display()
        ))
        .args(["-l", &user, "127.0.0.1"])
        .env("HOME", dir.path())
        .env("LUMEN_HOME", &home)
        .env("SSH_AUTH_SOCK", "")
        .env_remove("LUMEN_OSV_API_URL")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: stderr {}", String::from_utf8_lossy(&out.stderr)));
    Both {
        tui,
        tui_message,
        tui_screen,
        cli: report["hosts"][0].clone(),
        cli_exit: out.status.code(),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_tui_and_the_cli_scan_alike() {
    let Both { tui, cli, .. } = scan_both(true).await;
    let cli = &cli;
    assert!(
        cli["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["id"] == "LUMEN-SAME-1"),
        "{cli}"
    );
    assert_eq!(comparable(&tui), comparable(cli));
    // The CLI's scan compared with the TUI's: nothing new, nothing resolved.
    assert_eq!(cli["new"], json!([]));
    assert_eq!(cli["resolved"], json!([]));
}

/// Without OSV data neither says "none": both say not checked, and the CLI exits 3.
#[tokio::test(flavor = "multi_thread")]
async fn without_osv_data_both_say_not_checked() {
    let both = scan_both(false).await;
    assert_eq!(comparable(&both.tui), comparable(&both.cli));
    assert_eq!(both.cli["vulnerabilities_checked"], false);
    assert_eq!(both.cli_exit, Some(3));
    assert!(
        both.tui_message.contains("vulnerabilities not checked"),
        "{}",
        both.tui_message
    );
    assert!(
        both.tui_screen.contains("vulnerabilities not checked"),
        "{}",
        both.tui_screen
    );
    assert!(
        !both.tui_screen.contains("no vulnerable package found"),
        "{}",
        both.tui_screen
    );
}
