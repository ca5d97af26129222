//! Signals and a vanishing terminal, the real binary in tmux: every terminating signal
//! (also during an output flood) restores the outer terminal at once; SIGTSTP gives the
//! terminal back and SIGCONT takes it again and redraws; when the terminal disappears an
//! in-process lumen exits without a panic and its panes' programs hear a hangup, so no job is
//! left behind, while a client of the server only detaches: the pane's job lives on in the
//! server until the session ends, and then hears the hangup.
#![allow(clippy::unwrap_used)]

mod common;

use common::tmux::Tmux;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(15);

/// A private home with bash as the shell (for the test that needs its job control).
fn bash_env(dir: &Path) -> Vec<(&'static str, String)> {
    let home = dir.join("home");
    std::fs::create_dir_all(&home).unwrap();
    vec![
        ("HOME", home.display().to_string()),
        ("LUMEN_HOME", dir.join("lumen").display().to_string()),
        ("SHELL", "/bin/bash".to_string()),
        ("PS1", "$ ".to_string()),
        ("ENV", String::new()),
    ]
}

fn start(dir: &Path) -> Tmux {
    Tmux::lumen(dir, 90, 24, "shell; echo LUMEN_EXIT=$?; stty -a; sleep 60")
}

fn pid_of_lumen(t: &Tmux) -> String {
    let shell = t.format("#{pane_pid}");
    let out = Command::new("pgrep")
        .args(["-P", &shell, "lumen"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn signal(pid: &str, sig: &str) {
    assert!(
        Command::new("kill")
            .args([&format!("-{sig}"), pid])
            .status()
            .unwrap()
            .success()
    );
}

fn alive(pid: &str) -> bool {
    Command::new("kill")
        .args(["-0", pid])
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < WAIT, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Start `sleep 1000 &` in the pane's shell; the pids of the shell's parent (whoever runs the
/// pane) and of the job, as the shell itself says them.
fn background_job(t: &Tmux, dir: &Path) -> (String, String) {
    let jobfile = dir.join("job.pid");
    let parentfile = dir.join("parent.pid");
    t.type_text(&format!(
        "sleep 1000 & echo $PPID > {}; echo $! > {}",
        parentfile.display(),
        jobfile.display()
    ));
    t.keys(&["Enter"]);
    let read_pid = |file: &Path| {
        wait_until("a pid file", || {
            std::fs::read_to_string(file).is_ok_and(|s| s.ends_with('\n'))
        });
        std::fs::read_to_string(file).unwrap().trim().to_string()
    };
    (read_pid(&parentfile), read_pid(&jobfile))
}

fn assert_terminal_sane(t: &Tmux) {
    let s = t.wait_text("icanon");
    assert!(s.contains(" icanon") && s.contains(" echo "), "{s}");
    assert_eq!(t.format("#{alternate_on}"), "0");
    assert_eq!(t.format("#{cursor_flag}"), "1");
    assert_eq!(t.format("#{mouse_any_flag}"), "0");
}

#[test]
fn every_terminating_signal_restores_the_terminal_even_during_a_flood() {
    for sig in ["INT", "QUIT", "TERM"] {
        let dir = tempfile::tempdir().unwrap();
        let t = start(dir.path());
        t.wait_for("a prompt", |s| s.lines().any(|l| l.trim_end() == "$"));
        // Mouse reporting on, and a pane flooding the screen.
        t.type_text("yes flood-flood-flood");
        t.keys(&["Enter"]);
        t.wait_text("flood-flood-flood");
        assert_eq!(t.format("#{mouse_any_flag}"), "1");
        let pid = pid_of_lumen(&t);
        signal(&pid, sig);
        let s = t.wait_text("LUMEN_EXIT=");
        assert!(s.contains("LUMEN_EXIT=0"), "SIG{sig}: {s}");
        assert_terminal_sane(&t);
    }
}

#[test]
fn sigtstp_suspends_and_sigcont_redraws() {
    let dir = tempfile::tempdir().unwrap();
    let t = start(dir.path());
    t.wait_for("a prompt", |s| s.lines().any(|l| l.trim_end() == "$"));
    t.type_text("echo before-$((1+1))");
    t.keys(&["Enter"]);
    t.wait_text("before-2");
    let pid = pid_of_lumen(&t);
    signal(&pid, "TSTP");
    wait_until("the terminal to be given back", || {
        t.format("#{alternate_on}") == "0" && t.format("#{mouse_any_flag}") == "0"
    });
    let state = || {
        let out = Command::new("ps")
            .args(["-o", "stat=", "-p", &pid])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    wait_until("lumen to stop", || state().starts_with('T'));
    signal(&pid, "CONT");
    wait_until("lumen to take the terminal again", || {
        t.format("#{alternate_on}") == "1"
    });
    let s = t.wait_text("before-2");
    assert!(s.contains("0:sh*"), "the whole screen is redrawn:\n{s}");
    // And it still works.
    t.type_text("echo after-$((2+2))");
    t.keys(&["Enter"]);
    t.wait_text("after-4");
}

#[test]
fn a_vanished_terminal_ends_an_in_process_lumen_and_hangs_up_its_panes() {
    let dir = tempfile::tempdir().unwrap();
    let lumen = env!("CARGO_BIN_EXE_lumen");
    // setsid: lumen keeps the pane as its output but not as its controlling terminal, so when
    // the pane goes away it sees only EIO, never a SIGHUP.
    let t = Tmux::start(
        dir.path(),
        90,
        24,
        &bash_env(dir.path()),
        &format!("setsid -w {lumen} --in-process shell"),
    );
    t.wait_text("0:bash*");
    t.wait_for("a prompt", |s| {
        s.lines().any(|l| l.trim_end().ends_with(['$', '#']))
    });
    // The pane's shell names both pids: its job's and its parent's, which is this lumen. (A
    // search by command line would also find the other tests' lumens running in parallel.)
    let (pid, job) = background_job(&t, dir.path());
    assert!(pid.parse::<u32>().is_ok() && job.parse::<u32>().is_ok());
    assert!(alive(&pid) && alive(&job));
    t.kill_server();
    wait_until("lumen to exit", || !alive(&pid));
    wait_until("the pane's background job to hear the hangup", || {
        !alive(&job)
    });
    let log =
        std::fs::read_to_string(dir.path().join("lumen/data/logs/lumen.log")).unwrap_or_default();
    assert!(!log.contains("panic"), "{log}");
}

#[test]
fn a_vanished_terminal_detaches_and_the_pane_job_lives_until_the_server_ends() {
    let dir = tempfile::tempdir().unwrap();
    let lumen = env!("CARGO_BIN_EXE_lumen");
    let home = dir.path().join("lumen");
    let t = Tmux::start(
        dir.path(),
        90,
        24,
        &bash_env(dir.path()),
        &format!("setsid -w {lumen} shell"),
    );
    t.wait_text("0:bash*");
    t.wait_for("a prompt", |s| {
        s.lines().any(|l| l.trim_end().ends_with(['$', '#']))
    });
    let client = Command::new("pgrep")
        .args(["-P", &t.format("#{pane_pid}")])
        .output()
        .unwrap();
    let client = String::from_utf8_lossy(&client.stdout).trim().to_string();
    assert!(client.parse::<u32>().is_ok(), "{client:?}");
    // The pane's shell names its job's pid and its parent's, which is now the server.
    let (server, job) = background_job(&t, dir.path());
    assert_ne!(
        server, client,
        "the shell runs in the server, not in the client"
    );
    t.kill_server();
    wait_until("the client to exit", || !alive(&client));
    let v = common::tmux::sessions(&home);
    assert_eq!(v["sessions"][0]["attached"], 0, "{v}");
    assert!(alive(&server) && alive(&job), "detached, not ended");
    let killed = common::tmux::lumen_in(&home)
        .arg("kill-server")
        .output()
        .unwrap();
    assert!(killed.status.success());
    wait_until("the server to exit", || !alive(&server));
    wait_until("the pane's background job to hear the hangup", || {
        !alive(&job)
    });
    let log = std::fs::read_to_string(home.join("data/logs/lumen.log")).unwrap_or_default();
    assert!(!log.contains("panic"), "{log}");
}
