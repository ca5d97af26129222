//! Sessions that outlive the terminal, end to end: the real binary in tmux, its server on a
//! socket of the test's own home, a real sshd. Detach with `C-b d`, come back with `lumen
//! attach` from another terminal; a killed client loses nothing; two clients of different
//! sizes share a session; the socket is private and checked; another build never hangs.
#![allow(clippy::unwrap_used)]

mod common;

use common::CliHost;
use common::tmux::{Tmux, lumen_in, sessions};
use std::path::Path;

/// Another terminal (its own tmux) on the same lumen home, running `lumen ARGS`.
fn terminal(dir: &Path, name: &str, w: u16, h: u16, args: &str) -> Tmux {
    terminal_with(dir, name, (w, h), &[], args)
}

/// [`terminal`] with some variables changed (`SSH_AUTH_SOCK`…).
fn terminal_with(
    dir: &Path,
    name: &str,
    (w, h): (u16, u16),
    changed: &[(&'static str, String)],
    args: &str,
) -> Tmux {
    let own = dir.join(name);
    std::fs::create_dir_all(&own).unwrap();
    let lumen = env!("CARGO_BIN_EXE_lumen");
    let mut vars = common::tmux::throwaway_env(dir);
    for (k, v) in changed {
        vars.retain(|(name, _)| name != k);
        vars.push((k, v.clone()));
    }
    Tmux::start(
        &own,
        w,
        h,
        &vars,
        &format!("{lumen} {args}; echo LUMEN_EXIT=$?; sleep 60"),
    )
}

/// A shell prompt: `$ ` locally, `user@host:~#` or `$` over SSH.
fn prompt(s: &str) -> bool {
    s.lines()
        .any(|l| l.trim_end().ends_with('$') || l.trim_end().ends_with('#'))
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The value a command printed after `tag` (digits first, so the command line's own
/// `tag$…` is skipped), once it is on the screen.
fn value_after(t: &Tmux, tag: &str) -> String {
    let find = |s: &str| {
        s.lines()
            .filter_map(|l| l.split(tag).nth(1))
            .map(|v| v.split_whitespace().next().unwrap_or("").to_string())
            .find(|v| v.starts_with(|c: char| c.is_ascii_digit()))
    };
    let s = t.wait_for(tag, |s| find(s).is_some());
    find(&s).unwrap()
}

#[test]
fn a_detached_shell_keeps_its_state_and_attach_comes_back_from_another_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("lumen");
    let t = terminal(dir.path(), "first", 100, 30, "shell");
    t.wait_for("a prompt", prompt);
    t.type_text("export X=kept-42; echo PID=$$");
    t.keys(&["Enter"]);
    let pid = value_after(&t, "PID=");
    t.keys(&["C-b", "d"]);
    let s = t.wait_text("LUMEN_EXIT=");
    assert!(s.contains("[detached (from session 0)]"), "{s}");
    assert!(s.contains("LUMEN_EXIT=0"), "{s}");

    let ls = lumen_in(&home).arg("ls").output().unwrap();
    assert!(ls.status.success(), "{}", stderr(&ls));
    assert!(
        stdout(&ls).starts_with("0: 1 pane (created "),
        "{}",
        stdout(&ls)
    );
    let v = sessions(&home);
    let s0 = &v["sessions"][0];
    assert_eq!(s0["name"], "0", "{v}");
    assert_eq!(s0["attached"], 0, "{v}");
    assert_eq!(s0["panes"], 1, "{v}");
    assert!(s0["created"].as_u64().unwrap() > 1_700_000_000, "{v}");
    assert!(s0["hosts"].as_array().unwrap().is_empty(), "{v}");

    let t2 = terminal(dir.path(), "second", 100, 30, "attach");
    t2.wait_for("a prompt", prompt);
    t2.type_text("echo X=$X PID=$$");
    t2.keys(&["Enter"]);
    t2.wait_text("X=kept-42");
    assert_eq!(value_after(&t2, "PID="), pid, "the same shell");
    let v: serde_json::Value = sessions(&home);
    assert_eq!(v["sessions"][0]["attached"], 1, "{v}");
}

#[test]
fn an_ssh_pane_keeps_its_remote_shell_across_detach_and_a_killed_client() {
    let host = CliHost::start();
    let dir = host.dir.path();
    let home = dir.join("lumen");
    let user = lumen::ssh::target::local_user();
    let args = format!(
        "connect -i {} -p {} {user}@127.0.0.1",
        host.key.display(),
        host.sshd.port
    );
    let t = terminal(dir, "first", 100, 30, &args);
    t.wait_for("a remote prompt", |s| s.contains("127.0.0.1*") && prompt(s));
    t.type_text("echo RPID=$$");
    t.keys(&["Enter"]);
    let pid = value_after(&t, "RPID=");
    let v: serde_json::Value = sessions(&home);
    let host = v["sessions"][0]["hosts"][0].as_str().unwrap_or_default();
    assert!(host.ends_with("127.0.0.1"), "{v}");
    t.keys(&["C-b", "d"]);
    t.wait_text("[detached (from session 0)]");

    let t2 = terminal(dir, "second", 100, 30, "attach");
    t2.wait_for("the remote prompt", prompt);
    t2.type_text("echo AGAIN=$$");
    t2.keys(&["Enter"]);
    assert_eq!(value_after(&t2, "AGAIN="), pid, "the same remote shell");

    // kill -9 of the client: the server and the session go on.
    let shell = t2.format("#{pane_pid}");
    let client = std::process::Command::new("pgrep")
        .args(["-P", &shell])
        .output()
        .unwrap();
    let client = stdout(&client).trim().to_string();
    assert!(!client.is_empty());
    assert!(
        std::process::Command::new("kill")
            .args(["-9", &client])
            .status()
            .unwrap()
            .success()
    );
    t2.wait_for("the shell's status of the killed client", |s| {
        s.replace('\n', "").contains("LUMEN_EXIT=137")
    });
    let t3 = terminal(dir, "third", 100, 30, "attach");
    t3.wait_for("the remote prompt", prompt);
    t3.type_text("echo THIRD=$$");
    t3.keys(&["Enter"]);
    assert_eq!(value_after(&t3, "THIRD="), pid, "intact after kill -9");
}

#[test]
fn two_clients_of_different_sizes_share_a_session_and_the_last_typist_sets_the_size() {
    // The pane is an SSH session: the remote window follows the client that typed last.
    let host = CliHost::start();
    let user = lumen::ssh::target::local_user();
    let args = format!(
        "connect -i {} -p {} {user}@127.0.0.1",
        host.key.display(),
        host.sshd.port
    );
    let dir = host.dir.path();
    let big = terminal(dir, "big", 120, 40, &args);
    big.wait_for("a remote prompt", |s| s.contains("127.0.0.1*") && prompt(s));
    let small = terminal(dir, "small", 80, 24, "attach");
    small.wait_for("a prompt", prompt);
    small.type_text("echo SMALL=$(stty size | tr ' ' x)");
    small.keys(&["Enter"]);
    let s = value_after(&small, "SMALL=");
    let (rows, cols) = s.split_once('x').unwrap();
    let (rows, cols): (u16, u16) = (rows.parse().unwrap(), cols.parse().unwrap());
    assert!(rows < 24 && cols <= 80, "the small client's size: {s}");
    // What one client typed, the other sees.
    big.wait_text("SMALL=");
    big.type_text("echo BIG=$(stty size | tr ' ' x)");
    big.keys(&["Enter"]);
    let b = value_after(&big, "BIG=");
    let (brows, bcols) = b.split_once('x').unwrap();
    let (brows, bcols): (u16, u16) = (brows.parse().unwrap(), bcols.parse().unwrap());
    assert!(
        brows > rows && bcols > cols,
        "the big client's size follows it: {b} vs {s}"
    );
    assert!(brows < 40 && bcols <= 120, "{b}");
}

#[test]
fn the_socket_is_private_and_other_users_and_open_directories_are_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let xdg = dir.path().join("xdg");
    std::fs::create_dir(&xdg).unwrap();
    std::fs::set_permissions(&xdg, std::fs::Permissions::from_mode(0o755)).unwrap();
    let home = dir.path().join("lumen");
    let lumen = |args: &[&str]| {
        lumen_in(&home)
            .args(args)
            .env("XDG_RUNTIME_DIR", &xdg)
            .env("HOME", dir.path())
            .env("SHELL", "/bin/sh")
            .output()
            .unwrap()
    };
    let new = lumen(&["new", "-d", "-s", "bg", "shell"]);
    assert!(new.status.success(), "{}", stderr(&new));
    let sockets = xdg.join("lumen");
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&sockets), 0o700);
    let socket = std::fs::read_dir(&sockets)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "sock"))
        .unwrap();
    assert_eq!(mode(&socket), 0o600);
    assert!(stdout(&lumen(&["ls"])).starts_with("bg: 1 pane"));

    // Another uid that reaches the socket (the directory opened on purpose) is closed on
    // at once with no reply, and the server logs it.
    if common::is_root() {
        std::fs::set_permissions(&sockets, std::fs::Permissions::from_mode(0o711)).unwrap();
        std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o666)).unwrap();
        let probe = format!(
            "import socket,struct\ns=socket.socket(socket.AF_UNIX)\ns.connect({:?})\n\
             h=b'{{\"protocol\":1}}'\n\
             s.settimeout(5)\ntry:\n  s.sendall(struct.pack('>I',len(h)+1)+b'\\x01'+h)\n\
             \x20 print('GOT', len(s.recv(100)))\nexcept (ConnectionResetError, BrokenPipeError):\n\
             \x20 print('GOT 0')\n",
            socket.display().to_string()
        );
        let out = std::process::Command::new("setpriv")
            .args([
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                "/usr/bin/python3",
                "-c",
                &probe,
            ])
            .output()
            .unwrap();
        assert_eq!(stdout(&out).trim(), "GOT 0", "{}", stderr(&out));
        let log = std::fs::read_to_string(home.join("data/logs/lumen.log")).unwrap();
        assert!(log.contains("refused a connection from uid 65534"), "{log}");
        std::fs::set_permissions(&sockets, std::fs::Permissions::from_mode(0o700)).unwrap();
        std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(
            stdout(&lumen(&["ls"])).starts_with("bg: 1 pane"),
            "still serving"
        );
    }

    // A directory others can enter is refused, with the reason.
    std::fs::set_permissions(&sockets, std::fs::Permissions::from_mode(0o777)).unwrap();
    let ls = lumen(&["ls"]);
    assert_eq!(ls.status.code(), Some(1));
    assert!(stderr(&ls).contains("has mode 0777"), "{}", stderr(&ls));
    assert!(stderr(&ls).contains("chmod 700"), "{}", stderr(&ls));
    std::fs::set_permissions(&sockets, std::fs::Permissions::from_mode(0o700)).unwrap();
    let killed = lumen(&["kill-server"]);
    assert!(
        killed.status.success(),
        "{}\n{}",
        stderr(&killed),
        std::fs::read_to_string(home.join("data/logs/lumen.log")).unwrap_or_default()
    );
    let none = lumen(&["ls"]);
    assert_eq!(none.status.code(), Some(1));
    assert!(none.stdout.is_empty());
    assert!(
        stderr(&none).contains("no lumen server running"),
        "{}",
        stderr(&none)
    );
    let attach = lumen(&["attach"]);
    assert_eq!(attach.status.code(), Some(1));
    assert!(
        stderr(&attach).contains("no lumen server running"),
        "{}",
        stderr(&attach)
    );
}

#[test]
fn a_server_of_another_build_is_named_and_nothing_hangs() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("lumen");
    let run = |args: &[&str], build: Option<&str>| {
        let mut cmd = lumen_in(&home);
        cmd.args(args)
            .env("HOME", dir.path())
            .env("SHELL", "/bin/sh");
        match build {
            Some(b) => cmd.env("LUMEN_BUILD_ID", b),
            None => cmd.env_remove("LUMEN_BUILD_ID"),
        };
        cmd.output().unwrap()
    };
    let new = run(&["new", "-d", "shell"], Some("0.0.0-other"));
    assert!(new.status.success(), "{}", stderr(&new));
    let ls = run(&["ls"], None);
    assert_eq!(ls.status.code(), Some(1));
    let e = stderr(&ls);
    assert!(e.contains("the server runs lumen 0.0.0-other"), "{e}");
    assert!(e.contains("lumen kill-server"), "{e}");
    assert!(e.contains("--any-build"), "same protocol: {e}");
    // Its own build talks to it, and ends it.
    assert!(run(&["ls"], Some("0.0.0-other")).status.success());
    assert!(run(&["kill-server"], Some("0.0.0-other")).status.success());
}

#[test]
fn with_lock_when_detached_the_vault_asks_again_after_a_detach() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("lumen");
    std::fs::create_dir_all(home.join("data")).unwrap();
    std::fs::create_dir_all(home.join("config")).unwrap();
    std::fs::write(
        home.join("config/config.toml"),
        "[vault]\nlock_when_detached = \"1s\"\n",
    )
    .unwrap();
    let entry = lumen::vault::NewEntry {
        kind: Some(lumen::vault::Kind::Password),
        secret: Some(secrecy::SecretString::from("hunter2-kept-secret")),
        ..Default::default()
    };
    drop(common::unlocked_vault(
        &home.join("data/vault.lumen"),
        vec![("db/root", entry)],
    ));
    let t = terminal(dir.path(), "first", 100, 30, "shell");
    t.wait_for("a prompt", prompt);
    t.keys(&["C-b", "v"]);
    t.wait_text("Unlock vault");
    t.type_text("correct horse");
    t.keys(&["Enter"]);
    t.wait_text("db/root");
    t.keys(&["C-b", "d"]);
    t.wait_text("[detached (from session 0)]");
    // Nobody attached for longer than lock_when_detached.
    std::thread::sleep(std::time::Duration::from_secs(3));
    let t2 = terminal(dir.path(), "second", 100, 30, "attach");
    t2.wait_text("0:");
    t2.keys(&["C-b", "v"]);
    t2.wait_text("Unlock vault");
    t2.type_text("correct horse");
    t2.keys(&["Enter"]);
    t2.wait_text("db/root");
}

#[test]
fn prefix_s_switches_sessions_and_prefix_dollar_renames_one() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("lumen");
    let t = terminal(dir.path(), "first", 100, 30, "new -s main shell");
    t.wait_for("a prompt", prompt);
    let other = lumen_in(&home)
        .args(["new", "-d", "-s", "other", "shell"])
        .env("HOME", dir.path().join("home"))
        .env("SHELL", "/bin/sh")
        .env("PS1", "$ ")
        .output()
        .unwrap();
    assert!(other.status.success(), "{}", stderr(&other));
    t.type_text("echo IN-$((1+1))-MAIN");
    t.keys(&["Enter"]);
    t.wait_text("IN-2-MAIN");
    t.keys(&["C-b", "s"]);
    let s = t.wait_text("Sessions");
    assert!(s.contains("main (this one)") && s.contains("other"), "{s}");
    t.keys(&["Down", "Enter"]);
    t.wait_for("the other session's screen", |s| {
        !s.contains("IN-2-MAIN") && !s.contains("Sessions") && prompt(s)
    });
    let attached = |name: &str| {
        let v: serde_json::Value = sessions(&home);
        v["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .map(|s| s["attached"].as_u64().unwrap())
    };
    assert_eq!(attached("other"), Some(1));
    assert_eq!(attached("main"), Some(0));
    t.keys(&["C-b", "$"]);
    t.wait_text("Rename session");
    t.type_text("renamed");
    t.keys(&["Enter"]);
    t.wait_text("session renamed to renamed");
    assert_eq!(attached("renamed"), Some(1));
    assert_eq!(attached("other"), None);
    t.keys(&["C-b", "d"]);
    t.wait_text("[detached (from session renamed)]");
}

#[test]
fn new_logins_use_the_agent_of_the_client_that_attached_last() {
    let host = CliHost::start();
    let dir = host.dir.path();
    // The key is only in the agent: lumen has no identity file to try.
    let agent = common::TestAgent::start(dir, &[&host.key]);
    let t = terminal(dir, "first", 100, 30, "shell");
    t.wait_for("a prompt", prompt);
    t.keys(&["C-b", "d"]);
    t.wait_text("[detached (from session 0)]");
    let with_agent = [("SSH_AUTH_SOCK", agent.socket.display().to_string())];
    let t2 = terminal_with(dir, "second", (100, 30), &with_agent, "attach");
    t2.wait_for("a prompt", prompt);
    t2.keys(&["C-b", "c"]);
    t2.wait_text("New tab");
    let user = lumen::ssh::target::local_user();
    t2.type_text(&format!("{user}@127.0.0.1:{}", host.sshd.port));
    t2.keys(&["Enter"]);
    let tab = format!("127.0.0.1:{}*", host.sshd.port);
    t2.wait_for("a remote prompt", |s| s.contains(&tab) && prompt(s));
    t2.type_text("echo AGENT-$((2+3))");
    t2.keys(&["Enter"]);
    t2.wait_text("AGENT-5");
}

#[test]
fn a_bad_or_taken_session_name_is_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let t = terminal(dir.path(), "first", 100, 30, "new -s a:b shell");
    let s = t.wait_text("LUMEN_EXIT=");
    assert!(s.contains("cannot name a session"), "{s}");
    assert!(s.contains("LUMEN_EXIT=1"), "{s}");
    let t = terminal(dir.path(), "second", 100, 30, "new -s db shell");
    t.wait_for("a prompt", prompt);
    let again = terminal(dir.path(), "third", 100, 30, "new -s db shell");
    let s = again.wait_text("LUMEN_EXIT=");
    assert!(s.contains("duplicate session: db"), "{s}");
    assert!(s.contains("LUMEN_EXIT=1"), "{s}");
}
