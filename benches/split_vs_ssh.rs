//! Time to open a split on an SSH pane: a second session to a host that already has one open.
//! lumen over its shared connection (`Connector::session`, a new channel) and with a fresh
//! login (a new `Connector`), against OpenSSH over a ControlMaster (`ControlMaster=auto`,
//! `ControlPersist`) and plain `ssh` with no master. Same sshd on loopback, same key, one run,
//! median of alternating runs, reported as ratios. Never asserted in tests.
//!
//! Each way is timed to the shell's prompt, then to the output of a command typed at it. As
//! root the sessions log in as the tests' user with `/bin/sh` (see `common::password_user`),
//! so a slow `.bashrc` does not drown the differences; otherwise as the local user.
//! Run: `benches/split_vs_ssh.sh` or `cargo bench --bench split_vs_ssh`.
#![allow(clippy::unwrap_used)]

#[path = "../tests/common/mod.rs"]
mod common;

use common::{Answers, Sshd, auto_answer, keygen};
use lumen::ssh::{ConnectOptions, Connector, Plan, Target};
use lumen::stream::{StreamEvent, Waker};
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const RUNS: usize = 15;
const PANE: (u16, u16) = (120, 40);
const PROMPT: &str = "$ ";
const READY: &str = "READY";
/// Typed so that the echoed command line itself does not contain the marker.
const READY_CMD: &str = "echo RE''ADY";
/// How long the OpenSSH master outlives its last session (it is stopped with `-O exit`).
const CONTROL_PERSIST: &str = "ControlPersist=300";
/// Lets closed sessions finish closing before the next one is timed.
const SETTLE: Duration = Duration::from_millis(50);
/// Every way sessions over one master reach the same sshd at once.
const SSHD_EXTRA: &str = "MaxSessions 100\nPrintLastLog no\n";

/// One opened split: when its prompt showed and when the output of a command typed at the
/// prompt did.
#[derive(Debug, Clone, Copy)]
struct Sample {
    prompt: Duration,
    ready: Duration,
}

/// The four ways, in the order they alternate and are printed.
const WAYS: [&str; 4] = [
    "lumen, shared connection (new channel)",
    "lumen, fresh login (new Connector)",
    "ssh over a ControlMaster (mux client)",
    "ssh, no master (fresh login)",
];

struct Setup {
    sshd: Sshd,
    key: PathBuf,
    known_hosts: PathBuf,
    control: PathBuf,
    target: Target,
    opts: ConnectOptions,
}

impl Setup {
    fn new() -> Self {
        let sshd = Sshd::start(SSHD_EXTRA).unwrap();
        let key = sshd.path("bench_key");
        keygen(&key, "ed25519", "");
        sshd.authorize(&key.with_extension("pub"));
        let ssh_dir = sshd.path("dot-ssh");
        std::fs::create_dir_all(&ssh_dir).unwrap();
        let known_hosts = ssh_dir.join("known_hosts");
        sshd.known_hosts_file(&known_hosts);
        let mut opts = ConnectOptions::isolated(&sshd.path("lumen_known_hosts"));
        opts.identity_files = vec![key.clone()];
        opts.ssh_dir = Some(ssh_dir);
        let user = common::password_user()
            .map(|(user, _)| user)
            .unwrap_or_else(lumen::ssh::target::local_user);
        let target = Target::new(user.as_str(), "127.0.0.1", sshd.port);
        let control = sshd.path("cm.sock");
        Self {
            sshd,
            key,
            known_hosts,
            control,
            target,
            opts,
        }
    }

    /// `ssh` with the same key, key exchange, cipher and host key check as lumen, no user
    /// config. (OpenSSH 9.2 would pick sntrup761x25519, which this sshd offers and russh
    /// lacks; it costs a fresh login ~100 ms more here.)
    fn ssh(&self) -> Command {
        let mut cmd = Command::new("ssh");
        cmd.args([
            "-F",
            "/dev/null",
            "-o",
            "BatchMode=yes",
            "-o",
            "LogLevel=ERROR",
        ])
        .args(["-o", "KexAlgorithms=curve25519-sha256"])
        .args(["-o", "StrictHostKeyChecking=yes", "-o"])
        .arg(format!("UserKnownHostsFile={}", self.known_hosts.display()))
        .args(["-c", "chacha20-poly1305@openssh.com", "-i"])
        .arg(&self.key)
        .args(["-p", &self.sshd.port.to_string()]);
        cmd
    }

    fn destination(&self) -> String {
        format!("{}@127.0.0.1", self.target.user)
    }

    /// `ssh` sharing the master at `self.control` (starting it when there is none).
    fn ssh_mux(&self) -> Command {
        let mut cmd = self.ssh();
        cmd.args(["-o", "ControlMaster=auto", "-o"])
            .arg(format!("ControlPath={}", self.control.display()))
            .args(["-o", CONTROL_PERSIST]);
        cmd
    }

    fn ssh_plain(&self) -> Command {
        let mut cmd = self.ssh();
        cmd.args(["-o", "ControlMaster=no", "-o", "ControlPath=none"]);
        cmd
    }

    /// `ssh -O CMD` against the master; true when it succeeded.
    fn control(&self, cmd: &str) -> bool {
        self.ssh_mux()
            .args(["-O", cmd])
            .arg(self.destination())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap()
            .success()
    }
}

/// Read a session until `needle`.
async fn lumen_read(s: &mut lumen::stream::Stream, needle: &str) {
    let mut out = Vec::new();
    while let Some(ev) = s.events.recv().await {
        match ev {
            StreamEvent::Data(d) => {
                out.extend(d);
                if String::from_utf8_lossy(&out).contains(needle) {
                    return;
                }
            }
            StreamEvent::Notice(_) => {}
            StreamEvent::Closed(r) => panic!("session closed before {needle:?}: {r}"),
        }
    }
    panic!("session ended before {needle:?}");
}

/// A split over `connector`: a login shell on a new channel, to its prompt and a command.
async fn lumen_split(connector: &Connector, plan: &Plan, shared: bool) -> Sample {
    let waker = Waker::new();
    let start = Instant::now();
    let mut s = connector.session(plan, PANE, &waker);
    lumen_read(&mut s, PROMPT).await;
    let prompt = start.elapsed();
    s.handle.write(format!("{READY_CMD}\r").as_bytes());
    lumen_read(&mut s, READY).await;
    let ready = start.elapsed();
    if shared {
        assert_eq!(
            connector.open_connections(),
            1,
            "the split shares the login"
        );
    }
    s.handle.close();
    Sample { prompt, ready }
}

/// Read `from` until `needle`; false at end of file.
fn read_until(from: &mut impl Read, needle: &str) -> bool {
    let (mut out, mut buf) = (Vec::new(), [0u8; 4096]);
    while let Ok(n @ 1..) = from.read(&mut buf) {
        out.extend_from_slice(&buf[..n]);
        if String::from_utf8_lossy(&out).contains(needle) {
            return true;
        }
    }
    false
}

/// `ssh -tt` with a login shell, to its prompt and a command typed at it.
fn ssh_split(mut cmd: Command, destination: &str) -> Sample {
    let start = Instant::now();
    let mut child: Child = cmd
        .arg("-tt")
        .arg(destination)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    assert!(read_until(&mut stdout, PROMPT), "ssh showed no prompt");
    let prompt = start.elapsed();
    stdin
        .write_all(format!("{READY_CMD}; exit\n").as_bytes())
        .unwrap();
    assert!(read_until(&mut stdout, READY), "ssh ran no command");
    let ready = start.elapsed();
    drop(stdin);
    drop(stdout);
    // The shell was told to exit; the session ends by itself.
    let _ = child.wait();
    Sample { prompt, ready }
}

fn median_ms(v: &[Duration]) -> f64 {
    let mut ms: Vec<f64> = v.iter().map(|d| d.as_secs_f64() * 1e3).collect();
    ms.sort_by(|a, b| a.total_cmp(b));
    ms[ms.len() / 2]
}

async fn run(setup: &Setup) -> Vec<Vec<Sample>> {
    let (prompter, asked) = auto_answer(Answers::default());
    let plan = |c: &Connector| c.direct("bench", &setup.target);
    // The pane being split: open, and kept open through every run.
    let shared = Connector::new(setup.opts.clone(), prompter.clone());
    let shared_plan = plan(&shared);
    let waker = Waker::new();
    let mut pane = shared.session(&shared_plan, PANE, &waker);
    lumen_read(&mut pane, PROMPT).await;
    // OpenSSH's pane: the first `ssh` becomes the master and stays in the background.
    let ok = setup
        .ssh_mux()
        .arg(setup.destination())
        .arg("true")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap()
        .success();
    assert!(ok && setup.control("check"), "no OpenSSH master running");

    let destination = setup.destination();
    let mut samples = vec![Vec::new(); WAYS.len()];
    // One round not counted: the first of each way pays for cold caches.
    for round in 0..=RUNS {
        let got = [
            lumen_split(&shared, &shared_plan, true).await,
            {
                let fresh = Connector::new(setup.opts.clone(), prompter.clone());
                let p = plan(&fresh);
                lumen_split(&fresh, &p, false).await
            },
            ssh_split(setup.ssh_mux(), &destination),
            ssh_split(setup.ssh_plain(), &destination),
        ];
        if round > 0 {
            for (all, s) in samples.iter_mut().zip(got) {
                all.push(s);
            }
        }
        tokio::time::sleep(SETTLE).await;
    }
    assert!(setup.control("check"), "the OpenSSH master went away");
    setup.control("exit");
    assert!(
        asked.lock().unwrap().is_empty(),
        "lumen asked questions: {:?}",
        asked.lock().unwrap()
    );
    pane.handle.close();
    samples
}

fn print(samples: &[Vec<Sample>], user: &str) {
    let medians: Vec<(f64, f64)> = samples
        .iter()
        .map(|s| {
            let prompt: Vec<Duration> = s.iter().map(|s| s.prompt).collect();
            let ready: Vec<Duration> = s.iter().map(|s| s.ready).collect();
            (median_ms(&prompt), median_ms(&ready))
        })
        .collect();
    let base = medians[0];
    println!(
        "Opening a split on an SSH pane: a second login shell on a PTY (user {user}) to a host \
         with one session open, until its prompt, then until `{READY_CMD}` typed at it prints \
         (median of {RUNS} alternating runs, real sshd on loopback, ed25519 key, \
         curve25519-sha256, chacha20-poly1305; ratios: time / lumen shared's)"
    );
    println!("| way | prompt (ms) | x | command output (ms) | x |");
    println!("| --- | --- | --- | --- | --- |");
    for (way, (prompt, ready)) in WAYS.iter().zip(&medians) {
        println!(
            "| {way} | {prompt:.1} | {:.2}x | {ready:.1} | {:.2}x |",
            prompt / base.0,
            ready / base.1
        );
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list" || a == "--test") {
        return;
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    let setup = Setup::new();
    let samples = rt.block_on(run(&setup));
    print(&samples, &setup.target.user);
}
