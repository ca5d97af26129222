//! `lumen run` fanning a 3-step runbook out to 50 hosts with `--parallel 16`, against
//! `parallel-ssh -p 16` (Debian's pssh) running the same three commands chained in one ssh
//! per host, and pssh run once per step (what per-step results take with pssh); same run,
//! alternating, median of RUNS. lumen runs each step on its own exec channel over one login
//! per host, so it starts the remote shell three times per host where chained pssh starts it
//! once. Prints wall times, their ratio, and the
//! CPU time (user + system) and peak RSS of lumen (and of pssh with its ssh children).
//! Never asserted in tests. The 50 hosts are 5 loopback sshds each listening on 10 loopback
//! addresses (127.0.0.1–10), so every host is its own destination: lumen logs in 50 times,
//! as pssh does. Run: `benches/runbook.sh` or `cargo bench --bench runbook`.
#![allow(clippy::unwrap_used)]

#[path = "../tests/common/mod.rs"]
mod common;

use common::{Sshd, keygen};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::Instant;

const SERVERS: usize = 5;
const ADDRESSES: usize = 10;
const PARALLEL: &str = "16";
const RUNS: usize = 3;
const STEPS: [&str; 3] = ["uname -sr", "grep -c . /etc/passwd", "sleep 0.5; echo done"];

/// Wall time, CPU (user + system) and peak RSS (KiB) of one command and its children.
struct Usage {
    wall: f64,
    cpu: f64,
    rss_kib: i64,
}

// wait4 below reaps the child (std's wait cannot report its rusage).
#[allow(clippy::zombie_processes)]
fn measure(mut cmd: Command) -> Usage {
    let start = Instant::now();
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut status = 0;
    // SAFETY: rusage is plain data that wait4 fills for our own child.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = child.id() as libc::pid_t;
    // SAFETY: waiting for the child spawned above.
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut ru) };
    let wall = start.elapsed().as_secs_f64();
    assert_eq!(r, pid);
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "{cmd:?} failed: {status}"
    );
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    Usage {
        wall,
        cpu: secs(ru.ru_utime) + secs(ru.ru_stime),
        rss_kib: ru.ru_maxrss,
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() {
    let extra = {
        let mut t = String::from("MaxStartups 200\nMaxSessions 100\n");
        for a in 2..=ADDRESSES {
            t.push_str(&format!("ListenAddress 127.0.0.{a}\n"));
        }
        t
    };
    let servers: Vec<Sshd> = (0..SERVERS).map(|_| Sshd::start(&extra).unwrap()).collect();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let key = d.join("id_ed25519");
    keygen(&key, "ed25519", "");
    let user = lumen::ssh::target::local_user();
    let (mut known, mut inventory, mut pssh_hosts) = (String::new(), String::new(), String::new());
    let mut n = 0;
    for s in &servers {
        s.authorize(&key.with_extension("pub"));
        for a in 1..=ADDRESSES {
            n += 1;
            for k in &s.host_keys {
                known.push_str(&format!(
                    "[127.0.0.{a}]:{} {}",
                    s.port,
                    std::fs::read_to_string(k).unwrap()
                ));
            }
            inventory.push_str(&format!(
                "[hosts.h{n:02}]\nhostname = \"127.0.0.{a}\"\nport = {}\nuser = {user:?}\n\n",
                s.port
            ));
            pssh_hosts.push_str(&format!("127.0.0.{a}:{}\n", s.port));
        }
    }
    let home = d.join("home");
    std::fs::create_dir_all(home.join(".ssh")).unwrap();
    std::fs::write(home.join(".ssh/known_hosts"), &known).unwrap();
    let ws = d.join("lumen/data/workspaces/default");
    std::fs::create_dir_all(ws.join("runbooks")).unwrap();
    std::fs::write(ws.join("hosts.toml"), inventory).unwrap();
    let mut runbook = String::from("description = \"bench\"\ntimeout = \"120s\"\n");
    for (i, s) in STEPS.iter().enumerate() {
        runbook.push_str(&format!("[[steps]]\nname = \"step {i}\"\nrun = {s:?}\n"));
    }
    std::fs::write(ws.join("runbooks/bench.toml"), runbook).unwrap();
    std::fs::write(d.join("hosts"), pssh_hosts).unwrap();

    let lumen = || {
        let mut c = Command::new(env!("CARGO_BIN_EXE_lumen"));
        c.args([
            "run",
            "bench",
            "--all",
            "--parallel",
            PARALLEL,
            "--yes",
            "--json",
            "-i",
        ])
        .arg(&key)
        .env("HOME", &home)
        .env("LUMEN_HOME", d.join("lumen"))
        .env("SSH_AUTH_SOCK", "");
        // SAFETY: setsid is async-signal-safe and touches only the child (no terminal).
        unsafe {
            c.pre_exec(|| {
                libc::setsid();
                Ok(())
            });
        }
        c
    };
    let pssh = |command: &str| {
        let mut c = Command::new("parallel-ssh");
        c.arg("-h")
            .arg(d.join("hosts"))
            .args(["-p", PARALLEL, "-t", "120", "-l", &user, "-o"])
            .arg(d.join("pssh-out"))
            .arg("-x")
            .arg(format!(
                "-F /dev/null -i {} -o IdentitiesOnly=yes -o BatchMode=yes \
                 -o StrictHostKeyChecking=yes -o UserKnownHostsFile={}",
                key.display(),
                home.join(".ssh/known_hosts").display()
            ))
            .arg(command)
            .env("HOME", &home)
            .env("SSH_AUTH_SOCK", "");
        c
    };
    let chained = STEPS.join(" && ");
    // Per-step results need a pssh run per step (one login per host per step).
    let per_step = || {
        let runs: Vec<Usage> = STEPS.iter().map(|s| measure(pssh(s))).collect();
        Usage {
            wall: runs.iter().map(|u| u.wall).sum(),
            cpu: runs.iter().map(|u| u.cpu).sum(),
            rss_kib: runs.iter().map(|u| u.rss_kib).max().unwrap_or(0),
        }
    };
    // A warm-up of each, then alternate.
    measure(lumen());
    measure(pssh(&chained));
    let (mut ours, mut theirs, mut stepwise) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..RUNS {
        ours.push(measure(lumen()));
        theirs.push(measure(pssh(&chained)));
        stepwise.push(per_step());
    }
    let wall = |u: &[Usage]| median(u.iter().map(|x| x.wall).collect());
    let cpu = |u: &[Usage]| median(u.iter().map(|x| x.cpu).collect());
    let rss = |u: &[Usage]| u.iter().map(|x| x.rss_kib).max().unwrap_or(0) as f64 / 1024.0;
    println!(
        "{n} hosts x {} steps, --parallel {PARALLEL} / pssh -p {PARALLEL}, median of {RUNS}:",
        STEPS.len()
    );
    println!(
        "  lumen run     {:6.2} s wall  {:6.2} s CPU  {:6.1} MiB peak RSS",
        wall(&ours),
        cpu(&ours),
        rss(&ours)
    );
    println!(
        "  parallel-ssh  {:6.2} s wall  {:6.2} s CPU  {:6.1} MiB peak RSS (one process; CPU includes its ssh children)",
        wall(&theirs),
        cpu(&theirs),
        rss(&theirs)
    );
    println!(
        "  parallel-ssh, one run per step  {:6.2} s wall  {:6.2} s CPU",
        wall(&stepwise),
        cpu(&stepwise)
    );
    println!(
        "  wall-time ratio lumen / parallel-ssh (chained): {:.2}; / parallel-ssh (per step): {:.2}",
        wall(&ours) / wall(&theirs),
        wall(&ours) / wall(&stepwise)
    );
}
