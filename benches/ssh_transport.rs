//! SSH transport and connect-to-prompt time, lumen (russh) vs the OpenSSH client, both against
//! the same test sshd in one run, reported as ratios; transport also through a delayed link (a
//! relay holding each chunk `LUMEN_BENCH_DELAY_MS`, default 50 ms, each way: with a 100 ms
//! round trip a 2 MiB channel window allows at most 21 MB/s, so a window that does not open
//! fully shows). Run: `cargo bench --bench ssh_transport` (as root or a user sshd accepts;
//! `LUMEN_BENCH_MB` changes the 200 MB file size).
#![allow(clippy::unwrap_used)]

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "support/delay_link.rs"]
mod delay_link;

use common::{Answers, Sshd, auto_answer, keygen};
use lumen::ssh::{ConnectOptions, Target, open_command, open_session};
use lumen::stream::{StreamEvent, Waker};
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const DEFAULT_MB: usize = 200;
/// One-way delay of the delayed-link case (0: skip it), and its file size.
const DEFAULT_DELAY_MS: u64 = 50;
const DELAYED_MB: usize = 50;
const TRANSPORT_RUNS: usize = 3;
const CONNECT_RUNS: usize = 7;
const PANE: (u16, u16) = (200, 50);
const READY: &str = "READY";
/// Typed so that the echoed command line itself does not contain the marker.
const READY_CMD: &str = "echo RE''ADY";

fn ssh_base(key: &Path, port: u16) -> Command {
    let mut cmd = Command::new("ssh");
    cmd.args([
        "-F",
        "/dev/null",
        "-o",
        "BatchMode=yes",
        "-o",
        "LogLevel=ERROR",
    ])
    .args([
        "-o",
        "StrictHostKeyChecking=no",
        "-o",
        "UserKnownHostsFile=/dev/null",
    ])
    .args(["-c", "chacha20-poly1305@openssh.com", "-i"])
    .arg(key)
    .args(["-p", &port.to_string()]);
    cmd
}

fn write_blob(path: &Path, mb: usize) {
    // Printable lines of 80 columns: what a terminal stream looks like.
    let line: Vec<u8> = (0..79u8).map(|i| b'!' + (i % 90)).chain([b'\n']).collect();
    let block: Vec<u8> = line.iter().copied().cycle().take(1 << 20).collect();
    let mut f = std::fs::File::create(path).unwrap();
    for _ in 0..mb {
        f.write_all(&block).unwrap();
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Resident set size of this process in KiB (Linux).
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// RSS growth with 50 PTY sessions open to the embedded server (client and server both in
/// this process; the shells are separate processes and not counted).
async fn sessions_rss() {
    use lumen::ssh::{EmbeddedServer, EmbeddedServerOptions};
    const SESSIONS: usize = 50;
    let mut shell = lumen::pty::PtyCommand::new("/bin/sh");
    shell.env = vec![("PS1".into(), "$ ".into())];
    let server = EmbeddedServer::start(EmbeddedServerOptions {
        shell,
        ..Default::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let opts = server
        .client_options(&dir.path().join("known_hosts"))
        .unwrap();
    let target = server.target(None);
    let before = rss_kib();
    let waker = Waker::new();
    let mut streams = Vec::new();
    for _ in 0..SESSIONS {
        let (prompter, _) = auto_answer(Answers::default());
        let mut s = open_session(&target, &opts, prompter, PANE, &waker)
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
        streams.push(s);
    }
    let after = rss_kib();
    println!(
        "{SESSIONS} sessions open to the embedded server: RSS {:.1} MiB -> {:.1} MiB \
         ({:.0} KiB per session, client and server side)",
        before as f64 / 1024.0,
        after as f64 / 1024.0,
        after.saturating_sub(before) as f64 / SESSIONS as f64
    );
    for s in &streams {
        s.handle.close();
    }
}

/// `cat` of an `mb` MB file in a PTY, lumen then OpenSSH, TRANSPORT_RUNS times: median MB/s
/// of each.
async fn transport(
    target: &Target,
    opts: &ConnectOptions,
    key: &Path,
    cat: &str,
    mb: usize,
) -> (f64, f64) {
    let bytes = (mb << 20) as f64;
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for _ in 0..TRANSPORT_RUNS {
        let (prompter, _) = auto_answer(Answers::default());
        let waker = Waker::new();
        let start = Instant::now();
        let mut s = open_command(target, opts, prompter, PANE, &waker, Some(cat))
            .await
            .unwrap();
        let mut got = 0usize;
        while let Some(ev) = s.events.recv().await {
            match ev {
                StreamEvent::Data(d) => got += d.len(),
                StreamEvent::Closed(_) => break,
                StreamEvent::Notice(_) => {}
            }
        }
        assert!(got as f64 >= bytes, "russh received {got} of {bytes} bytes");
        ours.push(bytes / start.elapsed().as_secs_f64() / 1e6);

        let start = Instant::now();
        let ok = ssh_base(key, target.port)
            .arg("-tt")
            .arg(format!("{}@127.0.0.1", target.user))
            .arg(cat)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .status()
            .unwrap()
            .success();
        assert!(ok, "ssh -tt failed");
        theirs.push(bytes / start.elapsed().as_secs_f64() / 1e6);
    }
    (median(ours), median(theirs))
}

fn main() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(run());
    rt.block_on(sessions_rss());
}

async fn run() {
    let Some(sshd) = Sshd::start("") else {
        eprintln!("no sshd: nothing measured");
        return;
    };
    let mb: usize = std::env::var("LUMEN_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_MB);
    let key = sshd.path("bench_key");
    keygen(&key, "ed25519", "");
    sshd.authorize(&key.with_extension("pub"));
    let blob = sshd.path("blob");
    write_blob(&blob, mb);
    let user = lumen::ssh::target::local_user();
    let target = Target::new(user.as_str(), "127.0.0.1", sshd.port);
    let mut opts = ConnectOptions::isolated(&sshd.path("lumen_known_hosts"));
    opts.identity_files = vec![key.clone()];
    let ssh_dir = sshd.path("dot-ssh");
    std::fs::create_dir_all(&ssh_dir).unwrap();
    sshd.known_hosts_file(&ssh_dir.join("known_hosts"));
    opts.ssh_dir = Some(ssh_dir);
    let cat = format!("cat {}", blob.display());
    let (o, t) = transport(&target, &opts, &key, &cat, mb).await;
    println!(
        "transport, PTY, cat {mb} MB: lumen/russh {o:.1} MB/s, OpenSSH ssh -tt {t:.1} MB/s, \
         ratio {:.2}x (median of {TRANSPORT_RUNS})",
        o / t
    );

    // The same through a link with a round trip of twice LUMEN_BENCH_DELAY_MS: the window
    // must still open fully for one flooding pane (the kernel here may lack netem).
    let delay_ms: u64 = std::env::var("LUMEN_BENCH_DELAY_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_DELAY_MS);
    if delay_ms > 0 {
        let upstream = std::net::SocketAddr::from(([127, 0, 0, 1], sshd.port));
        let relay = delay_link::start(upstream, Duration::from_millis(delay_ms))
            .await
            .unwrap();
        let known = opts.ssh_dir.as_ref().unwrap().join("known_hosts");
        let text = std::fs::read_to_string(&known).unwrap();
        let moved = text.replace(
            &format!("[127.0.0.1]:{}", sshd.port),
            &format!("[127.0.0.1]:{relay}"),
        );
        std::fs::write(&known, text + &moved).unwrap();
        let delayed = Target::new(user.as_str(), "127.0.0.1", relay);
        let small = mb.min(DELAYED_MB);
        let small_blob = sshd.path("blob-delayed");
        write_blob(&small_blob, small);
        let cat = format!("cat {}", small_blob.display());
        let (o, t) = transport(&delayed, &opts, &key, &cat, small).await;
        println!(
            "transport over a {} ms round trip, PTY, cat {small} MB: lumen/russh {o:.1} MB/s, \
             OpenSSH ssh -tt {t:.1} MB/s, ratio {:.2}x (median of {TRANSPORT_RUNS})",
            2 * delay_ms,
            o / t
        );
    }

    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for _ in 0..CONNECT_RUNS {
        let (prompter, _) = auto_answer(Answers::default());
        let waker = Waker::new();
        let start = Instant::now();
        let mut s = open_session(&target, &opts, prompter, PANE, &waker)
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
        ours.push(start.elapsed());
        s.handle.close();

        let start = Instant::now();
        let mut child = ssh_base(&key, sshd.port)
            .arg("-tt")
            .arg(format!("{user}@127.0.0.1"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        stdin
            .write_all(format!("{READY_CMD}; exit\n").as_bytes())
            .unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n @ 1..) = stdout.read(&mut buf) {
            out.extend_from_slice(&buf[..n]);
            if String::from_utf8_lossy(&out).contains(READY) {
                break;
            }
        }
        theirs.push(start.elapsed());
        drop(stdin);
        let _ = child.kill();
        let _ = child.wait();
    }
    let ms = |v: Vec<Duration>| median(v.iter().map(|d| d.as_secs_f64() * 1e3).collect());
    let (o, t) = (ms(ours), ms(theirs));
    println!(
        "connect to first command output: lumen {o:.1} ms, OpenSSH {t:.1} ms, ratio {:.2}x \
         (median of {CONNECT_RUNS}; lower is better)",
        o / t
    );
}
