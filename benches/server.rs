//! The lumen server against lumen in-process and tmux, in one run, reported as ratios (never
//! asserted in tests). Each program runs on a PTY this bench owns, as a user's terminal:
//!  1. keystroke to echo at a shell prompt: lumen through client and server, lumen
//!     in-process (`--in-process`), tmux; median and p99 over many keys;
//!  2. a flood: `cat` of a large file in an attached pane, to the marker printed after it;
//!  3. 20 panes with 10 000 lines of scrollback each: RSS of the detached lumen server vs a
//!     tmux server holding the same, and the time from `attach` to the first full frame.
//!
//! `cargo bench --bench server` (release build of this checkout). `KEYS=N`, `FLOOD_MB=N`,
//! `PANES=N` change the sizes.

use portable_pty::{CommandBuilder, PtySize, native_pty_system};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const COLS: u16 = 120;
const ROWS: u16 = 40;
const LIMIT: Duration = Duration::from_secs(120);

fn env_num(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A program on a PTY: what it prints arrives on a channel.
struct Term {
    writer: Box<dyn Write + Send>,
    output: mpsc::Receiver<Vec<u8>>,
    child: Box<dyn portable_pty::Child + Send + Sync>,
    /// Output read but not yet searched past.
    seen: Vec<u8>,
}

impl Term {
    fn spawn(program: &str, args: &[&str], env: &[(&str, &Path)]) -> Term {
        let pty = native_pty_system()
            .openpty(PtySize {
                rows: ROWS,
                cols: COLS,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("a pty");
        let mut cmd = CommandBuilder::new(program);
        cmd.args(args);
        cmd.env("TERM", "xterm-256color");
        cmd.env("SHELL", "/bin/sh");
        cmd.env("PS1", "$ ");
        cmd.env("SSH_AUTH_SOCK", "");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = pty.slave.spawn_command(cmd).expect("spawn");
        drop(pty.slave);
        let mut reader = pty.master.try_clone_reader().expect("reader");
        let writer = pty.master.take_writer().expect("writer");
        let (tx, output) = mpsc::channel();
        std::thread::spawn(move || {
            let _keep = pty.master;
            let mut buf = vec![0u8; 64 * 1024];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        Term {
            writer,
            output,
            child,
            seen: Vec::new(),
        }
    }

    fn send(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).expect("write");
        self.writer.flush().expect("flush");
    }

    /// Drop what was printed so far.
    fn drain(&mut self) {
        self.seen.clear();
        while self.output.try_recv().is_ok() {}
    }

    /// Wait until `needle` was printed; the time it took.
    fn wait_for(&mut self, needle: &[u8]) -> Duration {
        let start = Instant::now();
        loop {
            if let Some(at) = find(&self.seen, needle) {
                self.seen.drain(..at + needle.len());
                return start.elapsed();
            }
            let keep = self.seen.len().saturating_sub(needle.len());
            self.seen.drain(..keep);
            match self
                .output
                .recv_timeout(LIMIT.saturating_sub(start.elapsed()))
            {
                Ok(chunk) => self.seen.extend_from_slice(&chunk),
                Err(_) => panic!(
                    "timed out waiting for {:?}",
                    String::from_utf8_lossy(needle)
                ),
            }
        }
    }
}

impl Drop for Term {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn lumen() -> PathBuf {
    let status = std::process::Command::new("cargo")
        .args(["build", "--release", "--quiet", "--bin", "lumen"])
        .status()
        .expect("cargo build");
    assert!(status.success());
    let dir = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"),
        PathBuf::from,
    );
    dir.join("release/lumen")
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Type `keys` characters one at a time, each waited for on the screen.
fn echo_latency(t: &mut Term, keys: usize) -> (Duration, Duration) {
    let mut times = Vec::with_capacity(keys);
    for i in 0..keys {
        if i % 50 == 0 {
            // Clear the line (Ctrl-U) now and then so it never wraps.
            t.send(b"\x15");
            std::thread::sleep(Duration::from_millis(30));
        }
        std::thread::sleep(Duration::from_millis(3));
        t.drain();
        // A different letter each time (none that ends an escape sequence often), so a late
        // echo of the previous key is never taken for this one's.
        let c = [b'x', b'y', b'z', b'w', b'v'][i % 5];
        t.send(&[c]);
        times.push(t.wait_for(&[c]));
    }
    t.send(b"\x15");
    times.sort();
    (percentile(&times, 0.5), percentile(&times, 0.99))
}

fn flood(t: &mut Term, file: &Path) -> Duration {
    t.drain();
    t.send(format!("cat {}; echo FLOOD-$((6*7))-DONE\r", file.display()).as_bytes());
    t.wait_for(b"FLOOD-42-DONE")
}

/// The shell's `$` (a frame's diff leaves out the blank after it).
fn prompt(t: &mut Term) {
    t.wait_for(b"$");
    std::thread::sleep(Duration::from_millis(300));
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).map(str::to_string))
        })
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// The lumen server of `home`: the process started as `lumen server` with that home.
fn server_pid(home: &Path) -> u32 {
    let want = format!("LUMEN_HOME={}", home.display());
    for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
        let is_server = cmdline.split(|&b| b == 0).any(|a| a == b"server");
        if is_server && environ.split(|&b| b == 0).any(|v| v == want.as_bytes()) {
            return pid;
        }
    }
    panic!("no lumen server for {}", home.display());
}

fn fill_command(marker: &str) -> String {
    format!(
        "seq 1 11000 | sed 's/$/ the quick brown fox jumps over the lazy dog; pack my box with five dozen liquor/'; echo {marker}-$((1+1))\r"
    )
}

fn main() {
    let keys = env_num("KEYS", 300);
    let flood_mb = env_num("FLOOD_MB", 100);
    let panes = env_num("PANES", 20);
    let lumen = lumen();
    let lumen = lumen.to_str().expect("a UTF-8 path");
    let work = tempfile::tempdir().expect("a temp dir");
    let home = work.path().join("lumen");
    let tmux_socket = format!("lumenbench{}", std::process::id());
    let big = work.path().join("big");
    {
        let mut f = std::fs::File::create(&big).expect("create");
        let line = b"0123456789 the quick brown fox jumps over the lazy dog 0123456789 \x1b[32mgreen\x1b[0m\n";
        let mut written = 0;
        while written < flood_mb * 1_000_000 {
            f.write_all(line).expect("write");
            written += line.len();
        }
    }
    let env: [(&str, &Path); 2] = [("LUMEN_HOME", &home), ("HOME", work.path())];

    // 1 and 2: lumen through its server.
    let mut client = Term::spawn(lumen, &["shell"], &env);
    prompt(&mut client);
    let (server_p50, server_p99) = echo_latency(&mut client, keys);
    let server_flood = flood(&mut client, &big);
    drop(client);
    let _ = std::process::Command::new(lumen)
        .arg("kill-server")
        .env("LUMEN_HOME", &home)
        .output();

    // lumen in-process.
    let mut local = Term::spawn(lumen, &["--in-process", "shell"], &env);
    prompt(&mut local);
    let (local_p50, local_p99) = echo_latency(&mut local, keys);
    let local_flood = flood(&mut local, &big);
    drop(local);

    // tmux.
    let mut tmux = Term::spawn(
        "tmux",
        &[
            "-L",
            &tmux_socket,
            "-f",
            "/dev/null",
            "new-session",
            "-s",
            "bench",
            "sh",
        ],
        &[("HOME", work.path())],
    );
    prompt(&mut tmux);
    let (tmux_p50, tmux_p99) = echo_latency(&mut tmux, keys);
    let tmux_flood = flood(&mut tmux, &big);
    drop(tmux);
    let _ = std::process::Command::new("tmux")
        .args(["-L", &tmux_socket, "kill-server"])
        .output();

    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!("keystroke to echo at a shell prompt, {keys} keys, {COLS}x{ROWS}:");
    println!(
        "  lumen via server:   median {:6.2} ms  p99 {:6.2} ms",
        ms(server_p50),
        ms(server_p99)
    );
    println!(
        "  lumen in-process:   median {:6.2} ms  p99 {:6.2} ms",
        ms(local_p50),
        ms(local_p99)
    );
    println!(
        "  tmux:               median {:6.2} ms  p99 {:6.2} ms",
        ms(tmux_p50),
        ms(tmux_p99)
    );
    println!(
        "  ratio server/in-process: median {:.2}x  p99 {:.2}x",
        ms(server_p50) / ms(local_p50),
        ms(server_p99) / ms(local_p99)
    );
    let rate = |d: Duration| flood_mb as f64 / d.as_secs_f64();
    println!("flood, cat of {flood_mb} MB in an attached pane, to the marker after it:");
    println!(
        "  lumen via server:   {:7.2} s  {:6.1} MB/s",
        server_flood.as_secs_f64(),
        rate(server_flood)
    );
    println!(
        "  lumen in-process:   {:7.2} s  {:6.1} MB/s",
        local_flood.as_secs_f64(),
        rate(local_flood)
    );
    println!(
        "  tmux:               {:7.2} s  {:6.1} MB/s",
        tmux_flood.as_secs_f64(),
        rate(tmux_flood)
    );
    println!(
        "  ratio server/in-process {:.2}x, server/tmux {:.2}x (time; lower is faster)",
        server_flood.as_secs_f64() / local_flood.as_secs_f64(),
        server_flood.as_secs_f64() / tmux_flood.as_secs_f64()
    );

    // 3. 20 panes of full scrollback, detached: RSS and attach time.
    let mut client = Term::spawn(lumen, &["shell"], &env);
    prompt(&mut client);
    for i in 0..panes {
        if i > 0 {
            client.send(b"\x02c");
            std::thread::sleep(Duration::from_millis(200));
            client.send(b"\r");
            prompt(&mut client);
        }
        client.send(fill_command(&format!("FILLED{i}")).as_bytes());
        client.wait_for(format!("FILLED{i}-2").as_bytes());
    }
    client.send(b"\x02d");
    client.wait_for(b"[detached");
    drop(client);
    std::thread::sleep(Duration::from_secs(3));
    let lumen_rss = rss_kib(server_pid(&home));
    let mut attach = Term::spawn(lumen, &["attach"], &env);
    // The status bar's last word: the frame is whole when it is drawn.
    let lumen_attach = attach.wait_for(b"palette");
    drop(attach);
    let _ = std::process::Command::new(lumen)
        .arg("kill-server")
        .env("LUMEN_HOME", &home)
        .output();

    let t = |args: &[&str]| {
        std::process::Command::new("tmux")
            .args(["-L", &tmux_socket, "-f", "/dev/null"])
            .args(args)
            .env("SHELL", "/bin/sh")
            .env("PS1", "$ ")
            .output()
            .expect("tmux")
    };
    t(&[
        "new-session",
        "-d",
        "-s",
        "mem",
        "-x",
        "120",
        "-y",
        "40",
        "sh",
    ]);
    t(&["set", "-g", "history-limit", "10000"]);
    for _ in 1..panes {
        t(&["new-window", "-t", "mem", "sh"]);
    }
    std::thread::sleep(Duration::from_millis(500));
    for i in 0..panes {
        let target = format!("mem:{i}");
        t(&[
            "send-keys",
            "-t",
            &target,
            &fill_command(&format!("FILLED{i}")).replace('\r', ""),
            "Enter",
        ]);
    }
    for i in 0..panes {
        let target = format!("mem:{i}");
        let start = Instant::now();
        while !String::from_utf8_lossy(&t(&["capture-pane", "-p", "-t", &target]).stdout)
            .contains(&format!("FILLED{i}-2"))
        {
            assert!(start.elapsed() < LIMIT, "tmux pane {i} never filled");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    std::thread::sleep(Duration::from_secs(3));
    let tmux_pid: u32 = String::from_utf8_lossy(&t(&["display", "-p", "#{pid}"]).stdout)
        .trim()
        .parse()
        .expect("tmux's pid");
    let tmux_rss = rss_kib(tmux_pid);
    let mut attach = Term::spawn(
        "tmux",
        &["-L", &tmux_socket, "-f", "/dev/null", "attach", "-t", "mem"],
        &[("HOME", work.path())],
    );
    let tmux_attach = attach.wait_for(b"[mem]");
    drop(attach);
    t(&["kill-server"]);
    println!("{panes} panes with 10 000 lines of scrollback each, detached:");
    println!(
        "  RSS: lumen server {:.1} MiB, tmux server {:.1} MiB, ratio {:.2}x",
        lumen_rss as f64 / 1024.0,
        tmux_rss as f64 / 1024.0,
        lumen_rss as f64 / tmux_rss as f64
    );
    println!(
        "  attach to the first full frame: lumen {:.1} ms, tmux {:.1} ms, ratio {:.2}x",
        ms(lumen_attach),
        ms(tmux_attach),
        ms(lumen_attach) / ms(tmux_attach)
    );
}
