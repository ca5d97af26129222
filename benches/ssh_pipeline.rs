//! End-to-end SSH benchmark, reported as ratios in one run (never asserted in tests):
//!  1. throughput of a stream into a lumen pane (session task → emulator → frames drawn at
//!     FRAME_INTERVAL) vs `ssh -tt` inside a plain tmux pane, same server, same bytes,
//!     seq-like and coloured streams separately;
//!  2. echo latency of a keystroke in one pane while another pane is flooded (median, p99);
//!  3. RSS with 50 sessions open to the embedded server.
//!
//! Run: `cargo bench --bench ssh_pipeline` (LUMEN_BENCH_MB sets the stream size, default 64).

use lumen::app::config::Config;
use lumen::app::run::FRAME_INTERVAL;
use lumen::app::{App, AppOptions, LiveSpawner, PaneSpec};
use lumen::pty::PtyCommand;
use lumen::ssh::{Connector, EmbeddedServer, EmbeddedServerOptions, Prompter};
use lumen::stream::Waker;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const WIDTH: u16 = 200;
const HEIGHT: u16 = 50;
const LATENCY_SAMPLES: usize = 200;
const SESSIONS: usize = 50;
const WAIT: Duration = Duration::from_secs(600);

type Res<T> = Result<T, Box<dyn std::error::Error>>;

fn main() -> Res<()> {
    if std::env::args().any(|a| a == "--list" || a == "--test") {
        return Ok(());
    }
    let mb: usize = std::env::var("LUMEN_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    let dir = tempfile::tempdir()?;
    let seq = dir.path().join("seq.txt");
    let color = dir.path().join("color.txt");
    make_streams(&seq, &color, mb * 1_000_000)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let mut shell = PtyCommand::new("/bin/sh");
        shell.env.push(("PS1".into(), "$ ".into()));
        shell.env.push(("ENV".into(), String::new()));
        let server = EmbeddedServer::start(EmbeddedServerOptions {
            shell,
            ..Default::default()
        })
        .await?;
        let known = dir.path().join("known_hosts");
        let key_file = dir.path().join("client_key");
        server
            .client_key
            .write_openssh_file(&key_file, russh::keys::ssh_key::LineEnding::LF)?;
        println!("stream size: {mb} MB each, pane {WIDTH}x{HEIGHT}");
        for (name, file) in [("seq-like", &seq), ("coloured ls", &color)] {
            let lumen = lumen_throughput(&server, &known, file).await?;
            let tmux = tmux_throughput(&server, &key_file, dir.path(), file)?;
            println!(
                "{name:>12}: lumen pane {lumen:.1} MB/s, ssh -tt in tmux {tmux:.1} MB/s, ratio {:.2}x (target >= 1.0x)",
                lumen / tmux
            );
        }
        let (median, p99) = latency_under_flood(&server, &known, &color).await?;
        println!(
            "echo latency in one pane while another streams: median {:.1} ms, p99 {:.1} ms (target p99 < 50 ms)",
            median.as_secs_f64() * 1e3,
            p99.as_secs_f64() * 1e3
        );
        let (before, after) = rss_with_sessions(&server, &known).await?;
        println!(
            "RSS with {SESSIONS} sessions to the embedded server (client and server in one process): {} MiB -> {} MiB ({} KiB per session)",
            before / 1024,
            after / 1024,
            (after.saturating_sub(before)) / SESSIONS as u64
        );
        Ok::<_, Box<dyn std::error::Error>>(())
    })
}

fn make_streams(seq: &Path, color: &Path, size: usize) -> Res<()> {
    let mut text = String::with_capacity(size + 64);
    let mut i = 0u64;
    while text.len() < size {
        i += 1;
        text.push_str(&i.to_string());
        text.push('\n');
    }
    std::fs::write(seq, &text[..size])?;
    let ls = Command::new("ls")
        .args(["--color=always", "-laR", "/usr/share", "/usr/lib"])
        .output()?
        .stdout;
    let mut out = Vec::with_capacity(size + ls.len());
    while out.len() < size {
        out.extend_from_slice(&ls);
    }
    out.truncate(size);
    std::fs::write(color, out)?;
    Ok(())
}

/// An App on live sessions to the embedded server, drawn into an off-screen terminal.
struct Harness {
    app: App,
    waker: Waker,
    term: Terminal<TestBackend>,
    last_draw: Instant,
    pending: bool,
}

impl Harness {
    fn new(server: &EmbeddedServer, known: &Path, tabs: usize) -> Res<Self> {
        let connect = server.client_options(known)?;
        let (prompter, _prompts) = Prompter::channel();
        let waker = Waker::new();
        let mut opts = AppOptions::new(Box::new(LiveSpawner::new(
            PtyCommand::new("/bin/sh"),
            Connector::new(connect, prompter),
        )));
        opts.config = Config::default();
        opts.size = (WIDTH, HEIGHT + 2);
        opts.waker = waker.clone();
        let mut app = App::new(opts);
        for i in 0..tabs {
            app.new_tab(PaneSpec::Ssh {
                name: format!("bench{i}"),
                target: server.target(None),
                plan: None,
            });
        }
        Ok(Self {
            app,
            waker,
            term: Terminal::new(TestBackend::new(WIDTH, HEIGHT + 2))?,
            last_draw: Instant::now(),
            pending: false,
        })
    }

    /// One turn of the event loop, as the app's: wait for a wake-up (or the next frame) unless
    /// data is still queued, pump each pane within its budget once, draw if due.
    async fn turn(&mut self) -> Res<()> {
        if !self.pending {
            let _ = tokio::time::timeout(FRAME_INTERVAL, self.waker.woken()).await;
        }
        self.pending = self.app.pump();
        self.draw_if_due()?;
        if self.pending {
            tokio::task::yield_now().await;
        }
        Ok(())
    }

    fn draw_if_due(&mut self) -> Res<()> {
        if self.app.dirty && self.last_draw.elapsed() >= FRAME_INTERVAL {
            self.term.draw(|f| lumen::app::ui::draw(&self.app, f))?;
            self.app.dirty = false;
            self.last_draw = Instant::now();
        }
        Ok(())
    }

    fn screen_of(&self, tab: usize) -> String {
        let Some(t) = self.app.tabs.get(tab) else {
            return String::new();
        };
        self.pane_text(t.focused)
    }

    fn pane_text(&self, id: lumen::app::layout::PaneId) -> String {
        self.app
            .panes
            .get(&id)
            .and_then(|s| s.pane.as_terminal())
            .map(|t| t.screen_text())
            .unwrap_or_default()
    }

    fn type_text(&mut self, text: &str) {
        use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
        for c in text.chars() {
            let code = if c == '\n' {
                KeyCode::Enter
            } else {
                KeyCode::Char(c)
            };
            self.app
                .handle_key(&KeyEvent::new(code, KeyModifiers::NONE));
        }
    }

    async fn wait_until(&mut self, what: &str, pred: impl Fn(&Self) -> bool) -> Res<()> {
        let start = Instant::now();
        while !pred(self) {
            if start.elapsed() > WAIT {
                return Err(format!("timed out waiting for {what}").into());
            }
            self.turn().await?;
        }
        Ok(())
    }
}

async fn lumen_throughput(server: &EmbeddedServer, known: &Path, file: &Path) -> Res<f64> {
    let mut h = Harness::new(server, known, 1)?;
    h.wait_until("a prompt", |h| h.screen_of(0).contains('$'))
        .await?;
    let size = std::fs::metadata(file)?.len() as f64;
    h.type_text(&format!("cat {}; echo DONE-$((6*7))\n", file.display()));
    let start = Instant::now();
    h.wait_until("the stream to end", |h| h.screen_of(0).contains("DONE-42"))
        .await?;
    Ok(size / start.elapsed().as_secs_f64() / 1e6)
}

fn tmux_throughput(server: &EmbeddedServer, key: &Path, dir: &Path, file: &Path) -> Res<f64> {
    let sock = dir.join("tmux.sock");
    let tmux = |args: &[&str]| {
        Command::new("tmux")
            .arg("-S")
            .arg(&sock)
            .arg("-f")
            .arg("/dev/null")
            .args(args)
            .output()
    };
    let ssh = format!(
        "ssh -tt -q -i {} -p {} -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes {}@127.0.0.1 'cat {}'",
        key.display(),
        server.port(),
        lumen::ssh::target::local_user(),
        file.display()
    );
    let size = std::fs::metadata(file)?.len() as f64;
    let w = WIDTH.to_string();
    let h = HEIGHT.to_string();
    let start = Instant::now();
    tmux(&["new-session", "-d", "-s", "b", "-x", &w, "-y", &h, &ssh])?;
    tmux(&["set-option", "-t", "b", "remain-on-exit", "on"])?;
    loop {
        let out = tmux(&["list-panes", "-t", "b", "-F", "#{pane_dead}"])?;
        if String::from_utf8_lossy(&out.stdout).trim() == "1" || !out.status.success() {
            break;
        }
        if start.elapsed() > WAIT {
            return Err("tmux stream timed out".into());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let rate = size / start.elapsed().as_secs_f64() / 1e6;
    tmux(&["kill-server"])?;
    Ok(rate)
}

async fn latency_under_flood(
    server: &EmbeddedServer,
    known: &Path,
    file: &Path,
) -> Res<(Duration, Duration)> {
    let mut h = Harness::new(server, known, 1)?;
    h.wait_until("a prompt", |h| h.screen_of(0).contains('$'))
        .await?;
    h.app.run_action(lumen::app::keymap::Action::SplitRight);
    let quiet = h.app.tabs[0].focused;
    h.wait_until("a prompt in the quiet pane", |h| {
        h.pane_text(quiet).contains('$')
    })
    .await?;
    h.app.run_action(lumen::app::keymap::Action::FocusLeft);
    h.type_text(&format!("while true; do cat {}; done\n", file.display()));
    h.app.run_action(lumen::app::keymap::Action::FocusRight);
    // Let the flood start.
    let until = Instant::now() + Duration::from_millis(500);
    while Instant::now() < until {
        h.turn().await?;
    }
    let mut samples = Vec::with_capacity(LATENCY_SAMPLES);
    for i in 0..LATENCY_SAMPLES {
        let before = h.pane_text(quiet).matches('x').count();
        let start = Instant::now();
        h.type_text("x");
        h.wait_until("the echo", |h| {
            h.pane_text(quiet).matches('x').count() > before
        })
        .await?;
        // The echo counts once a frame showing it is drawn.
        h.app.dirty = true;
        h.last_draw = Instant::now() - FRAME_INTERVAL;
        h.draw_if_due()?;
        samples.push(start.elapsed());
        if i % 20 == 19 {
            eprintln!("  latency sample {}: {:?}", i + 1, start.elapsed());
        }
        if i % 50 == 49 {
            // A fresh prompt line (the shell says "xxx…: not found"; the count only grows).
            h.type_text("\n");
        }
    }
    samples.sort();
    Ok((
        samples[samples.len() / 2],
        samples[samples.len() * 99 / 100],
    ))
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

async fn rss_with_sessions(server: &EmbeddedServer, known: &Path) -> Res<(u64, u64)> {
    let before = rss_kib();
    let mut h = Harness::new(server, known, SESSIONS)?;
    h.wait_until("every session's prompt", |h| {
        (0..SESSIONS).all(|t| {
            h.app
                .tabs
                .get(t)
                .is_some_and(|tab| h.pane_text(tab.focused).contains('$'))
        })
    })
    .await?;
    Ok((before, rss_kib()))
}
