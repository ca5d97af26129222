//! Opening 20 sessions to 20 hosts behind one jump host: lumen (one shared jump connection,
//! sessions opened together like 20 tabs) vs 20 `ssh -J` processes started together, same run,
//! reported as a ratio. Run: `benches/jump_vs_ssh.sh` or `cargo bench --bench jump_vs_ssh`.
#![allow(clippy::unwrap_used)]

#[path = "../tests/common/mod.rs"]
mod common;

use common::{Answers, Sshd, auto_answer, keygen};
use lumen::ssh::config::ResolveOptions;
use lumen::ssh::{ConnectOptions, JumpPool, open_planned_session, plan};
use lumen::stream::{StreamEvent, Waker};
use lumen::workspace::Inventory;
use std::process::{Command, Stdio};
use std::time::Instant;

const HOSTS: usize = 20;
const RUNS: usize = 3;
const PANE: (u16, u16) = (120, 40);
const READY: &str = "READY";
/// Typed so that the echoed command line itself does not contain the marker.
const READY_CMD: &str = "echo RE''ADY";
/// Both servers take 20 handshakes at once (sshd's default MaxStartups starts refusing at 10).
const SSHD_EXTRA: &str = "MaxStartups 100\nMaxSessions 100\n";

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// An ssh config naming `host1`…`host20` (all the target sshd) behind `bastion`.
fn write_config(dir: &std::path::Path, jump: &Sshd, target: &Sshd, key: &std::path::Path) {
    let user = lumen::ssh::target::local_user();
    let common = format!(
        "  User {user}\n  IdentityFile {}\n  IdentitiesOnly yes\n  UserKnownHostsFile {}\n  \
         BatchMode yes\n  LogLevel ERROR\n",
        key.display(),
        dir.join("known_hosts").display()
    );
    let mut text = format!(
        "Host bastion\n  HostName 127.0.0.1\n  Port {}\n{common}",
        jump.port
    );
    for i in 1..=HOSTS {
        text.push_str(&format!(
            "Host host{i}\n  HostName 127.0.0.1\n  Port {}\n  ProxyJump bastion\n{common}",
            target.port
        ));
    }
    std::fs::write(dir.join("config"), text).unwrap();
    let mut known = String::new();
    for s in [jump, target] {
        let one = dir.join("one");
        s.known_hosts_file(&one);
        known.push_str(&std::fs::read_to_string(&one).unwrap());
    }
    std::fs::write(dir.join("known_hosts"), known).unwrap();
}

async fn lumen_run(dir: &std::path::Path) -> f64 {
    let ropts = ResolveOptions {
        config_file: Some(dir.join("config")),
        home_dir: dir.to_path_buf(),
        local_user: lumen::ssh::target::local_user(),
        ..ResolveOptions::default()
    };
    let base = ConnectOptions::isolated(&dir.join("lumen_known_hosts"));
    let pool = JumpPool::new();
    let (prompter, _) = auto_answer(Answers::default());
    let start = Instant::now();
    let mut tasks = Vec::new();
    for i in 1..=HOSTS {
        let p = plan(&format!("host{i}"), &Inventory::default(), &ropts, &base).unwrap();
        let (pool, prompter) = (pool.clone(), prompter.clone());
        tasks.push(tokio::spawn(async move {
            let mut s = open_planned_session(&p, &pool, prompter, PANE, &Waker::new())
                .await
                .unwrap();
            s.handle.write(format!("{READY_CMD}\r").as_bytes());
            let mut out = Vec::new();
            while let Some(StreamEvent::Data(d)) = s.events.recv().await {
                out.extend(d);
                if String::from_utf8_lossy(&out).contains(READY) {
                    break;
                }
            }
            s
        }));
    }
    let mut streams = Vec::new();
    for t in tasks {
        streams.push(t.await.unwrap());
    }
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(pool.open_connections(), 1, "one shared jump connection");
    for s in &streams {
        s.handle.close();
    }
    secs
}

fn ssh_run(dir: &std::path::Path) -> f64 {
    let start = Instant::now();
    let children: Vec<_> = (1..=HOSTS)
        .map(|i| {
            Command::new("ssh")
                .arg("-F")
                .arg(dir.join("config"))
                .args(["-tt", &format!("host{i}"), READY_CMD])
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(
            String::from_utf8_lossy(&out.stdout).contains(READY),
            "ssh -J failed"
        );
    }
    start.elapsed().as_secs_f64()
}

fn main() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let jump = Sshd::start(SSHD_EXTRA).unwrap();
    let target = Sshd::start(SSHD_EXTRA).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("id_ed25519");
    keygen(&key, "ed25519", "");
    jump.authorize(&key.with_extension("pub"));
    target.authorize(&key.with_extension("pub"));
    write_config(dir.path(), &jump, &target, &key);
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        ours.push(rt.block_on(lumen_run(dir.path())));
        theirs.push(ssh_run(dir.path()));
    }
    let (o, t) = (median(ours), median(theirs));
    println!(
        "{HOSTS} sessions behind one jump host: lumen (shared jump connection) {:.0} ms, \
         {HOSTS} x ssh -J {:.0} ms, lumen is {:.2}x faster (median of {RUNS})",
        o * 1e3,
        t * 1e3,
        t / o
    );
}
