//! End to end: the host list shows each host's live state and remembers the last connection.
//! `lumen connect web1` to a real OpenSSH sshd, then the host list opened afterwards says
//! "connected"; after a restart it shows when web1 was last connected, read from the
//! workspace's own state.toml (0600), while hosts.toml, the file a team shares, is untouched.
#![allow(clippy::unwrap_used)]

mod common;

use common::CliHost;
use common::tmux::Tmux;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

fn env(dir: &Path) -> Vec<(&'static str, String)> {
    vec![
        ("HOME", dir.join("home").display().to_string()),
        ("LUMEN_HOME", dir.join("lumen").display().to_string()),
        ("SHELL", "/bin/sh".to_string()),
        ("PS1", "$ ".to_string()),
        ("SSH_AUTH_SOCK", String::new()),
        ("LUMEN_SSH_SYSTEM_CONFIG", "none".to_string()),
    ]
}

/// `lumen ARGS` in tmux over `dir`, its tmux server's socket in `dir/run` (a run's own, so
/// the next does not meet a server still going away); after lumen exits the pane prints
/// `LUMEN_EXIT=<code>`.
fn lumen_in_tmux(dir: &Path, run: &str, args: &str) -> Tmux {
    let lumen = env!("CARGO_BIN_EXE_lumen");
    let socket_dir = dir.join(run);
    std::fs::create_dir_all(&socket_dir).unwrap();
    Tmux::start(
        &socket_dir,
        120,
        30,
        &env(dir),
        &format!("{lumen} {args}; echo LUMEN_EXIT=$?; sleep 30"),
    )
}

fn quit(t: &Tmux) {
    t.quit_lumen();
    let s = t.wait_text("LUMEN_EXIT=");
    assert!(s.contains("LUMEN_EXIT=0"), "{s}");
}

/// The host list's row for `host`.
fn row<'a>(screen: &'a str, host: &str) -> &'a str {
    screen
        .lines()
        .find(|l| l.split_whitespace().any(|w| w == host) && l.contains("127.0.0.1"))
        .unwrap_or_else(|| panic!("no row for {host}:\n{screen}"))
}

#[test]
fn the_host_list_shows_a_live_connection_and_remembers_the_last_one() {
    let host = CliHost::start();
    let dir = host.dir.path();
    let (port, key) = (host.sshd.port.to_string(), host.key.display().to_string());
    for (name, group) in [("web1", "web"), ("db1", "db")] {
        let add = host.lumen(
            &[
                "hosts",
                "add",
                name,
                "--hostname",
                "127.0.0.1",
                "--port",
                &port,
                "--identity-file",
                &key,
                "--group",
                group,
            ],
            &[("LUMEN_SSH_SYSTEM_CONFIG", "none")],
        );
        assert!(add.status.success(), "{add:?}");
    }
    let workspace = dir.join("lumen/data/workspaces/default");
    let hosts_toml = std::fs::read(workspace.join("hosts.toml")).unwrap();

    let before = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap();
    let t = lumen_in_tmux(dir, "first", "connect web1");
    t.type_text("echo up-$((40+2))");
    t.keys(&["Enter"]);
    t.wait_text("up-42");
    // The host list opened now, while web1 is connected, says so.
    t.keys(&["C-b", "h"]);
    let s = t.wait_text("hosts*");
    let s = if row(&s, "web1").contains("connected") {
        s
    } else {
        t.wait_for("web1 connected", |s| row(s, "web1").contains("connected"))
    };
    assert!(row(&s, "db1").contains("never"), "{s}");
    quit(&t);
    drop(t);
    let after = time::OffsetDateTime::now_utc();

    // The time is in the workspace's own file, private; hosts.toml is as it was.
    let state = workspace.join("state.toml");
    let mode = std::fs::metadata(&state).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    assert_eq!(
        std::fs::read(workspace.join("hosts.toml")).unwrap(),
        hosts_toml
    );
    let text = std::fs::read_to_string(&state).unwrap();
    let at = text
        .lines()
        .find_map(|l| l.strip_prefix("web1 = "))
        .unwrap_or_else(|| panic!("{text}"))
        .trim_matches('"');
    let at =
        time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339).unwrap();
    assert!(before <= at && at <= after, "{at} not in {before}..{after}");

    // Started again: the home tab lists web1 with that time; db1 was never connected.
    let t = lumen_in_tmux(dir, "second", "");
    let s = t.wait_text("db1");
    let shown = at
        .format(time::macros::format_description!(
            "[year]-[month]-[day] [hour]:[minute]"
        ))
        .unwrap();
    assert!(
        row(&s, "web1").contains(&format!("last {shown} UTC")),
        "{shown}:\n{s}"
    );
    assert!(row(&s, "db1").contains("never"), "{s}");
    quit(&t);
}
