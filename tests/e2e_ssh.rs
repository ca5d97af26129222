//! End to end over SSH, the real binary in tmux: `lumen demo` shows a prompt in both tabs and a
//! command round-trips; `lumen connect` to a real OpenSSH sshd shows the host-key fingerprint,
//! accepts and saves it, runs a command, and the next connect asks nothing.
#![allow(clippy::unwrap_used)]

mod common;

use common::tmux::{Tmux, panes_drawn};
use common::{Sshd, keygen, keygen_fingerprint};

use common::tmux::throwaway_env as env;

#[test]
fn demo_connects_two_tabs_and_a_command_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let lumen = env!("CARGO_BIN_EXE_lumen");
    let t = Tmux::start(
        dir.path(),
        100,
        30,
        &env(dir.path()),
        &format!("{lumen} demo; echo LUMEN_EXIT=$?; sleep 30"),
    );
    t.wait_text("Welcome to the lumen demo");
    t.keys(&["Escape"]);
    let prompt = |s: &str| s.lines().any(|l| l.trim_end() == "$");
    let s = t.wait_for("a prompt in tab 0", prompt);
    assert!(s.contains("0:demo-web*"), "{s}");
    t.type_text("echo web-$((20+1))");
    t.keys(&["Enter"]);
    t.wait_text("web-21");
    t.keys(&["C-b", "n"]);
    t.wait_text("1:demo-db*");
    t.wait_for("a prompt in tab 1", prompt);
    t.type_text("echo db-$((30+3))");
    t.keys(&["Enter"]);
    t.wait_text("db-33");
    // The host list (tab 2): both demo hosts are connected; open both, tiled in one tab.
    t.keys(&["C-b", "2"]);
    let s = t.wait_text("2:hosts*");
    assert!(s.contains("demo-web") && s.contains("demo-db"), "{s}");
    t.wait_for("both hosts connected", |s| {
        s.matches("connected").count() >= 2
    });
    t.keys(&["Space", "Down", "Space", "Enter"]);
    t.wait_text("3:demo-");
    t.wait_for("two panes with prompts", |s| {
        panes_drawn(s) == 2 && s.matches("│$").count() >= 2
    });
    t.keys(&["C-b", "d"]);
    t.wait_text("Quit lumen?");
    t.keys(&["y"]);
    let s = t.wait_text("LUMEN_EXIT=");
    assert!(s.contains("LUMEN_EXIT=0"), "{s}");
}

#[test]
fn connect_to_openssh_asks_for_the_host_key_then_remembers_it() {
    let Some(sshd) = Sshd::start("") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("id_ed25519");
    keygen(&key, "ed25519", "");
    sshd.authorize(&key.with_extension("pub"));
    let fingerprints: Vec<String> = sshd
        .host_keys
        .iter()
        .map(|k| {
            keygen_fingerprint(k)
                .split_whitespace()
                .nth(1)
                .unwrap()
                .to_string()
        })
        .collect();
    let lumen = env!("CARGO_BIN_EXE_lumen");
    let user = lumen::ssh::target::local_user();
    let cmd = format!(
        "{lumen} connect -i {} -p {} {user}@127.0.0.1; echo LUMEN_EXIT=$?; sleep 30",
        key.display(),
        sshd.port
    );
    let t = Tmux::start(dir.path(), 110, 30, &env(dir.path()), &cmd);
    let s = t.wait_text("Unknown host key");
    assert!(
        fingerprints.iter().any(|f| s.contains(f.as_str())),
        "the dialog shows the fingerprint as ssh-keygen -lf prints it; {fingerprints:?}\n{s}"
    );
    assert!(s.contains(&format!("[127.0.0.1]:{}", sshd.port)), "{s}");
    t.keys(&["y"]);
    t.wait_for("the dialog to close", |s| !s.contains("Unknown host key"));
    t.type_text("echo remote-$((40+2))");
    t.keys(&["Enter"]);
    t.wait_text("remote-42");
    t.type_text("exit");
    t.keys(&["Enter"]);
    t.wait_text("r to reconnect");
    t.keys(&["r"]);
    t.wait_for("a new session without asking", |s| {
        !s.contains("Unknown host key")
            && s.matches("remote-42").count() >= 1
            && !s.contains("r to reconnect")
    });
    t.type_text("echo again-$((50+5))");
    t.keys(&["Enter"]);
    let s = t.wait_text("again-55");
    assert!(!s.contains("Unknown host key"), "{s}");
    drop(t);
    // The key was saved hashed in lumen's own known_hosts.
    let saved = std::fs::read_to_string(dir.path().join("lumen/data/known_hosts")).unwrap();
    assert!(saved.starts_with("|1|"), "{saved}");
    assert!(
        !saved.contains("127.0.0.1"),
        "host names are hashed: {saved}"
    );
}

#[test]
fn connect_through_a_jump_host_from_ssh_config_and_share_it() {
    let jump = Sshd::start_logged("");
    let target = Sshd::start_logged("");
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("id_ed25519");
    keygen(&key, "ed25519", "");
    jump.authorize(&key.with_extension("pub"));
    target.authorize(&key.with_extension("pub"));
    let user = lumen::ssh::target::local_user();
    let config = dir.path().join("ssh_config");
    std::fs::write(
        &config,
        format!(
            "Host bastion\n  HostName 127.0.0.1\n  Port {}\n  User {user}\n  IdentityFile {key}\n\n\
             Host inner\n  HostName 127.0.0.1\n  Port {}\n  User {user}\n  IdentityFile {key}\n  ProxyJump bastion\n",
            jump.port,
            target.port,
            key = key.display()
        ),
    )
    .unwrap();
    let lumen = env!("CARGO_BIN_EXE_lumen");
    let mut env = env(dir.path());
    env.push(("LUMEN_SSH_SYSTEM_CONFIG", "none".into()));
    let cmd = format!(
        "{lumen} connect -F {} inner; echo LUMEN_EXIT=$?; sleep 30",
        config.display()
    );
    let t = Tmux::start(dir.path(), 110, 30, &env, &cmd);
    // Every hop's key is checked: first the jump host's, then the target's.
    let s = t.wait_text("Unknown host key");
    assert!(s.contains(&format!("[127.0.0.1]:{}", jump.port)), "{s}");
    t.keys(&["y"]);
    let s = t.wait_text(&format!("[127.0.0.1]:{}", target.port));
    assert!(s.contains("Unknown host key"), "{s}");
    t.keys(&["y"]);
    t.wait_for("the dialog to close", |s| !s.contains("Unknown host key"));
    t.type_text("echo inner-$((7*6))");
    t.keys(&["Enter"]);
    t.wait_text("inner-42");
    assert!(
        jump.wait_log("direct-tcpip", 1),
        "the jump sshd forwarded the session:\n{}",
        jump.log()
    );
    // A second tab to the same host reuses the one connection (to the jump host and to the
    // host itself, as ssh's ControlMaster): nobody logs in again.
    t.keys(&["C-b", "c"]);
    t.wait_text("host or local shell");
    t.type_text("in");
    t.keys(&["Tab"]);
    t.wait_text("> inner");
    t.keys(&["Enter"]);
    t.wait_text("1:inner*");
    t.type_text("echo second-$((8*8))");
    t.keys(&["Enter"]);
    t.wait_text("second-64");
    assert_eq!(jump.log_count("Accepted publickey"), 1, "{}", jump.log());
    assert_eq!(
        target.log_count("Accepted publickey"),
        1,
        "{}",
        target.log()
    );
}

/// Every file under `dir`, recursively.
fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn a_typed_password_logs_in_and_is_written_nowhere() {
    let Some((user, password)) = common::password_user() else {
        return;
    };
    let sshd = Sshd::start("").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let lumen = env!("CARGO_BIN_EXE_lumen");
    let cmd = format!(
        "{lumen} connect -p {} {user}@127.0.0.1; echo LUMEN_EXIT=$?; sleep 30",
        sshd.port
    );
    let mut env = env(dir.path());
    env.push(("LUMEN_LOG", "debug".into()));
    let t = Tmux::start(dir.path(), 110, 30, &env, &cmd);
    t.wait_text("Unknown host key");
    t.keys(&["y"]);
    t.wait_text(&format!("{user}@127.0.0.1's password"));
    t.type_text(&password);
    let s = t.screen();
    assert!(
        !s.contains(&password),
        "the dialog masks the password:\n{s}"
    );
    t.keys(&["Enter"]);
    t.wait_for("the dialog to close", |s| !s.contains("password:"));
    t.type_text("echo logged-$((20+3))");
    t.keys(&["Enter"]);
    t.wait_text("logged-23");
    t.quit_lumen();
    t.wait_text("LUMEN_EXIT=0");
    drop(t);
    let files = files_under(dir.path());
    assert!(
        files.iter().any(|f| f.ends_with("lumen.log")),
        "lumen wrote its log: {files:?}"
    );
    for f in files {
        let bytes = std::fs::read(&f).unwrap_or_default();
        assert!(
            !bytes
                .windows(password.len())
                .any(|w| w == password.as_bytes()),
            "{} contains the password",
            f.display()
        );
    }
}

/// `lumen connect HOST COMMAND` runs COMMAND in the one tab (like `ssh -t host cmd`) instead
/// of opening a second tab to a host named after the command.
#[test]
fn connect_host_command_runs_the_command_in_one_tab() {
    let sshd = Sshd::start("").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("id_ed25519");
    keygen(&key, "ed25519", "");
    sshd.authorize(&key.with_extension("pub"));
    let env = env(dir.path());
    std::fs::create_dir_all(dir.path().join("home/.ssh")).unwrap();
    sshd.known_hosts_file(&dir.path().join("home/.ssh/known_hosts"));
    let lumen = env!("CARGO_BIN_EXE_lumen");
    let user = lumen::ssh::target::local_user();
    let cmd = format!(
        "{lumen} connect -i {} -p {} {user}@127.0.0.1 echo tab-'$((5*5))' '&&' tty '&&' sleep 30; \
         echo LUMEN_EXIT=$?; sleep 30",
        key.display(),
        sshd.port
    );
    let t = Tmux::start(dir.path(), 110, 30, &env, &cmd);
    // `tty` prints the command's terminal: it runs on a PTY, as with `ssh -t`.
    let s = t.wait_text("/dev/pts/");
    assert!(s.contains("tab-25"), "{s}");
    assert!(!s.contains("1:echo"), "no tab for a host named echo: {s}");
    assert!(!s.contains("1:"), "one tab only: {s}");
}

/// As ssh, `lumen connect` exits 255 when its only host could not be connected to.
#[test]
fn connect_exits_255_when_the_only_host_is_unreachable() {
    let dir = tempfile::tempdir().unwrap();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let lumen = env!("CARGO_BIN_EXE_lumen");
    let cmd = format!("{lumen} connect -p {port} 127.0.0.1; echo LUMEN_EXIT=$?; sleep 30");
    let t = Tmux::start(dir.path(), 110, 30, &env(dir.path()), &cmd);
    t.wait_text("r to reconnect");
    t.quit_lumen();
    let s = t.wait_text("LUMEN_EXIT=");
    assert!(s.contains("LUMEN_EXIT=255"), "{s}");
}
