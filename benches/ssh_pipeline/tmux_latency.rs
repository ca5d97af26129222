//! The same echo latency in tmux panes running OpenSSH's `ssh` against the same server: the
//! floods' panes on the quiet pane's ControlMaster connection (`ControlMaster=auto`, what
//! OpenSSH offers for sharing a login) or each on its own login. Keys are typed through a
//! control-mode client and the quiet pane's output is piped out (`pipe-pane -O`), so an echo
//! counts when tmux has read it from the pane, where lumen's counts once drawn.

use super::{FLOOD_START, HEIGHT, Res, WIDTH, latency_samples};
use lumen::ssh::EmbeddedServer;
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How the flooding panes' `ssh` reach the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TmuxLink {
    /// Through the quiet pane's ssh, the ControlMaster (one login).
    ControlMaster,
    /// Each its own login (`ControlMaster=no`).
    Separate,
}

/// One measured tmux case.
pub struct TmuxLatency {
    pub floods: usize,
    pub link: TmuxLink,
    /// Logins to the server the panes made.
    logins: usize,
    /// Sorted.
    pub samples: Vec<Duration>,
}

/// The longest a prompt or an echo may take before the case fails.
const WAIT: Duration = Duration::from_secs(60);
/// How often the panes are looked at while waiting for prompts.
const POLL: Duration = Duration::from_millis(20);

/// A tmux server of its own on a socket in the bench's temporary directory.
struct Tmux<'a> {
    sock: &'a Path,
}

impl Tmux<'_> {
    fn run(&self, args: &[&str]) -> Res<Output> {
        let out = Command::new("tmux")
            .arg("-S")
            .arg(self.sock)
            .arg("-f")
            .arg("/dev/null")
            .args(args)
            .output()?;
        if !out.status.success() {
            return Err(format!(
                "tmux {}: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            )
            .into());
        }
        Ok(out)
    }

    fn text(&self, args: &[&str]) -> Res<String> {
        Ok(String::from_utf8_lossy(&self.run(args)?.stdout).into_owned())
    }

    /// Wait until every pane of the session shows a prompt.
    fn wait_for_prompts(&self, panes: usize) -> Res<Vec<String>> {
        let start = Instant::now();
        loop {
            let ids: Vec<String> = self
                .text(&["list-panes", "-t", "lat", "-F", "#{pane_id}"])?
                .lines()
                .map(str::to_string)
                .collect();
            let mut ready = ids.len() == panes;
            for id in &ids {
                ready = ready && self.text(&["capture-pane", "-p", "-t", id])?.contains('$');
            }
            if ready {
                return Ok(ids);
            }
            if start.elapsed() > WAIT {
                return Err(format!("tmux panes: no prompt in {WAIT:?}").into());
            }
            std::thread::sleep(POLL);
        }
    }
}

/// The `ssh` command line of a pane.
fn ssh_command(server: &EmbeddedServer, key: &Path, control: &Path, link: TmuxLink) -> String {
    let sharing = match link {
        TmuxLink::ControlMaster => format!(
            "-o ControlMaster=auto -o ControlPath={} -o ControlPersist=no",
            control.display()
        ),
        TmuxLink::Separate => "-o ControlMaster=no -o ControlPath=none".to_string(),
    };
    format!(
        "ssh -tt -q -F /dev/null -i {} -p {} -o StrictHostKeyChecking=no \
         -o UserKnownHostsFile=/dev/null -o BatchMode=yes {sharing} {}@127.0.0.1",
        key.display(),
        server.port(),
        lumen::ssh::target::local_user(),
    )
}

pub fn tmux_latency(
    server: &EmbeddedServer,
    key: &Path,
    dir: &Path,
    file: &Path,
    floods: usize,
    link: TmuxLink,
) -> Res<TmuxLatency> {
    let sock = dir.join("tmux-latency.sock");
    let tmux = Tmux { sock: &sock };
    let control = dir.join("cm");
    let ssh = ssh_command(server, key, &control, link);
    let logins_before = server.logins();
    let (w, h) = (WIDTH.to_string(), HEIGHT.to_string());
    let new_session = ["new-session", "-d", "-s", "lat", "-x", &w, "-y", &h, &ssh];
    if tmux.run(&new_session).is_err() {
        // Now and then a new server exits as it starts ("server exited unexpectedly").
        let _ = tmux.run(&["kill-server"]);
        tmux.run(&new_session)?;
    }
    let result = measure(&tmux, &ssh, &control, file, floods, link);
    let _ = tmux.run(&["kill-server"]);
    let mut samples = result?;
    samples.sort();
    Ok(TmuxLatency {
        floods,
        link,
        logins: server.logins() - logins_before,
        samples,
    })
}

fn measure(
    tmux: &Tmux,
    ssh: &str,
    control: &Path,
    file: &Path,
    floods: usize,
    link: TmuxLink,
) -> Res<Vec<Duration>> {
    // A control client must not resize the window to its own size.
    tmux.run(&["set-option", "-g", "window-size", "manual"])?;
    let quiet = tmux.wait_for_prompts(1)?.remove(0);
    if link == TmuxLink::ControlMaster {
        // The master is up before the others look for it, so they all share it.
        let start = Instant::now();
        while !control.exists() {
            if start.elapsed() > WAIT {
                return Err("the ControlMaster socket never appeared".into());
            }
            std::thread::sleep(POLL);
        }
    }
    for _ in 0..floods {
        tmux.run(&["split-window", "-d", "-t", "lat", ssh])?;
        tmux.run(&["select-layout", "-t", "lat", "tiled"])?;
    }
    let panes = tmux.wait_for_prompts(floods + 1)?;
    let flooding: Vec<&String> = panes.iter().filter(|id| **id != quiet).collect();
    let cat = format!("while true; do cat {}; done", file.display());
    for id in &flooding {
        tmux.run(&["send-keys", "-t", id, &cat, "Enter"])?;
    }
    std::thread::sleep(FLOOD_START);
    let echoes = echo_pipe(tmux, &quiet)?;
    // Keys go through a control client, without a process per keystroke; it takes no pane
    // output (`refresh-client -A %N:off` crashes tmux 3.3a's server under a flood).
    let mut client = Command::new("tmux")
        .arg("-S")
        .arg(tmux.sock)
        .args(["-C", "attach-session", "-f", "no-output", "-t", "lat"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let result = type_and_time(&mut client, &quiet, &echoes);
    drop(client.stdin.take());
    let _ = client.kill();
    let _ = client.wait();
    result
}

/// The quiet pane's output as tmux reads it (`pipe-pane -O` into a FIFO): how many `x`s each
/// read held, for reads with any.
fn echo_pipe(tmux: &Tmux, quiet: &str) -> Res<mpsc::Receiver<usize>> {
    let fifo = tmux.sock.with_extension("echo");
    let _ = std::fs::remove_file(&fifo);
    if !Command::new("mkfifo").arg(&fifo).status()?.success() {
        return Err("mkfifo failed".into());
    }
    let (tx, rx) = mpsc::channel::<usize>();
    let path = fifo.clone();
    std::thread::spawn(move || {
        // Opening blocks until tmux's `cat` opens the other end.
        let Ok(mut pipe) = std::fs::File::open(&path) else {
            return;
        };
        let mut buf = [0u8; 4096];
        while let Ok(n @ 1..) = pipe.read(&mut buf) {
            let xs = buf[..n].iter().filter(|&&b| b == b'x').count();
            if xs > 0 && tx.send(xs).is_err() {
                break;
            }
        }
    });
    let cat = format!("cat > '{}'", fifo.display());
    tmux.run(&["pipe-pane", "-O", "-t", quiet, &cat])?;
    Ok(rx)
}

/// Type `x` in the quiet pane through the control client, one at a time, and time each until
/// its echo comes out of the pane.
fn type_and_time(
    client: &mut Child,
    quiet: &str,
    echoes: &mpsc::Receiver<usize>,
) -> Res<Vec<Duration>> {
    let Some(mut input) = client.stdin.take() else {
        return Err("tmux control client without a pipe".into());
    };
    let mut samples = Vec::with_capacity(latency_samples());
    for _ in 0..latency_samples() {
        while echoes.try_recv().is_ok() {}
        writeln!(input, "send-keys -t {quiet} x")?;
        input.flush()?;
        let start = Instant::now();
        echoes
            .recv_timeout(WAIT)
            .map_err(|e| format!("tmux: no echo in the quiet pane: {e}"))?;
        samples.push(start.elapsed());
    }
    Ok(samples)
}

/// The median and 99th percentile of sorted durations, in ms.
pub fn median_p99_ms(sorted: &[Duration]) -> (f64, f64) {
    if sorted.is_empty() {
        return (0.0, 0.0);
    }
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    (
        ms(sorted[sorted.len() / 2]),
        ms(sorted[sorted.len() * 99 / 100]),
    )
}

pub fn print_tmux_latency(rows: &[TmuxLatency]) {
    println!(
        "the same floods in tmux panes running OpenSSH's ssh to the same server \
         ({} keystrokes each; an echo counts when tmux reads it from the pane)",
        latency_samples()
    );
    println!("| flooding panes | their connection | logins | echo median (ms) | echo p99 (ms) |");
    println!("| --- | --- | --- | --- | --- |");
    for r in rows {
        let (median, p99) = median_p99_ms(&r.samples);
        let link = match r.link {
            TmuxLink::ControlMaster => "the quiet pane's ControlMaster",
            TmuxLink::Separate => "another login",
        };
        println!(
            "| {} | {link} | {} | {median:.1} | {p99:.1} |",
            r.floods, r.logins
        );
    }
}

/// Shared over separate, median and p99, for lumen's rows (`(floods, shared, median, p99)`)
/// and tmux's.
pub fn print_ratios(lumen: &[(usize, bool, f64, f64)], tmux: &[TmuxLatency]) {
    println!(
        "| flooding panes | lumen split / own login, median / p99 | tmux ControlMaster / own login, median / p99 |"
    );
    println!("| --- | --- | --- |");
    for floods in super::FLOODS {
        let lumen_of = |shared: bool| {
            lumen
                .iter()
                .find(|r| r.0 == floods && r.1 == shared)
                .map(|r| (r.2, r.3))
        };
        let tmux_of = |link: TmuxLink| {
            tmux.iter()
                .find(|r| r.floods == floods && r.link == link)
                .map(|r| median_p99_ms(&r.samples))
        };
        let ratio = |a: Option<(f64, f64)>, b: Option<(f64, f64)>| match (a, b) {
            (Some(a), Some(b)) => format!("{:.2}x / {:.2}x", a.0 / b.0, a.1 / b.1),
            _ => "-".to_string(),
        };
        println!(
            "| {floods} | {} | {} |",
            ratio(lumen_of(true), lumen_of(false)),
            ratio(
                tmux_of(TmuxLink::ControlMaster),
                tmux_of(TmuxLink::Separate)
            )
        );
    }
}
