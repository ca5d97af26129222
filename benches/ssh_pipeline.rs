//! End-to-end SSH benchmark, reported as ratios in one run (never asserted in tests):
//!  1. throughput of a stream into a lumen pane (session task → emulator → frames drawn at
//!     FRAME_INTERVAL) vs `ssh -tt` inside a plain tmux pane, same server, same bytes,
//!     seq-like and coloured streams separately;
//!  2. echo latency of a keystroke in one pane while 1 and 10 other panes of the same tab are
//!     flooded (median, p99), with where the loop spent its turns (pump and draw times), on
//!     the quiet pane's connection and on logins of their own; and the same in tmux panes
//!     running OpenSSH's `ssh` over one ControlMaster connection and on logins of their own;
//!  3. RSS with 50 sessions open to the embedded server.
//!
//! Run: `cargo bench --bench ssh_pipeline` (LUMEN_BENCH_MB sets the stream size, default 64;
//! `cargo bench --bench ssh_pipeline -- latency` runs only the parts whose name contains the
//! word: throughput, latency, rss; LUMEN_BENCH_SAMPLES sets the keystrokes per latency case).

#[path = "support/floods.rs"]
mod floods;

use lumen::app::config::Config;
use lumen::app::layout::PaneId;
use lumen::app::run::FRAME_INTERVAL;
use lumen::app::state::PANE_BYTE_BUDGET;
use lumen::app::{App, AppOptions, LiveSpawner, PaneSpec};
use lumen::pty::PtyCommand;
use lumen::ssh::{Connector, EmbeddedServer, Prompter};
use lumen::stream::Waker;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const WIDTH: u16 = 200;
const HEIGHT: u16 = 50;
/// Keystrokes timed per case (`LUMEN_BENCH_SAMPLES`, default 200: a p99 is then the second
/// slowest, so it swings between runs; 1000 steadies it).
fn latency_samples() -> usize {
    std::env::var("LUMEN_BENCH_SAMPLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(200)
}
const SESSIONS: usize = 50;
const WAIT: Duration = Duration::from_secs(600);
/// How many other panes flood while the quiet pane's echo is timed.
const FLOODS: [usize; 2] = [1, 10];
/// How long the floods run before the first sample.
const FLOOD_START: Duration = Duration::from_secs(1);
/// The echo latency to stay under: one frame.
const LATENCY_TARGET: Duration = Duration::from_millis(16);

#[path = "ssh_pipeline/latency.rs"]
mod latency;
use latency::{FloodLink, latency_under_flood, print_latency};
#[path = "ssh_pipeline/tmux_latency.rs"]
mod tmux_latency;
use tmux_latency::{TmuxLink, print_ratios, print_tmux_latency, tmux_latency};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

fn main() -> Res<()> {
    if std::env::args().any(|a| a == "--list" || a == "--test") {
        return Ok(());
    }
    // `cargo bench` passes `--bench`; a plain word picks parts by name.
    let filter = std::env::args().skip(1).find(|a| !a.starts_with("--"));
    let wanted = |part: &str| filter.as_deref().is_none_or(|f| part.contains(f));
    let mb: usize = std::env::var("LUMEN_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    let dir = tempfile::tempdir()?;
    let seq = dir.path().join("seq.txt");
    let color = dir.path().join("color.txt");
    floods::make_streams(&seq, &color, mb * 1_000_000)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let server = floods::sh_server().await?;
        let known = dir.path().join("known_hosts");
        let key_file = dir.path().join("client_key");
        server
            .client_key
            .write_openssh_file(&key_file, russh::keys::ssh_key::LineEnding::LF)?;
        println!("stream size: {mb} MB each, pane {WIDTH}x{HEIGHT}");
        if wanted("throughput") {
            for (name, file) in [("seq-like", &seq), ("coloured ls", &color)] {
                let lumen = lumen_throughput(&server, &known, file).await?;
                let tmux = tmux_throughput(&server, &key_file, dir.path(), file)?;
                println!(
                    "{name:>12}: lumen pane {lumen:.1} MB/s, ssh -tt in tmux {tmux:.1} MB/s, ratio {:.2}x (target >= 1.0x)",
                    lumen / tmux
                );
            }
        }
        if wanted("latency") {
            let mut rows = Vec::new();
            for link in [FloodLink::Shared, FloodLink::Separate] {
                for floods in FLOODS {
                    rows.push(latency_under_flood(&server, &known, &color, floods, link).await?);
                }
            }
            let mut tmux_rows = Vec::new();
            for link in [TmuxLink::ControlMaster, TmuxLink::Separate] {
                for floods in FLOODS {
                    tmux_rows.push(tmux_latency(
                        &server,
                        &key_file,
                        dir.path(),
                        &color,
                        floods,
                        link,
                    )?);
                }
            }
            print_latency(&rows);
            print_tmux_latency(&tmux_rows);
            let lumen: Vec<_> = rows.iter().map(|r| r.echo_ms()).collect();
            print_ratios(&lumen, &tmux_rows);
        }
        if wanted("rss") {
            let (before, after) = rss_with_sessions(&server, &known).await?;
            println!(
                "RSS with {SESSIONS} sessions to the embedded server (client and server in one process): {} MiB -> {} MiB ({} KiB per session)",
                before / 1024,
                after / 1024,
                (after.saturating_sub(before)) / SESSIONS as u64
            );
        }
        Ok::<_, Box<dyn std::error::Error>>(())
    })
}

/// An App on live sessions to the embedded server, drawn into an off-screen terminal.
struct Harness {
    app: App,
    connector: Connector,
    waker: Waker,
    term: Terminal<TestBackend>,
    last_draw: Instant,
    pending: bool,
    /// Where the turns went, while recording.
    profile: Option<Turns>,
}

/// How long each turn spent pumping the panes and drawing, and how many turns there were.
#[derive(Debug, Default)]
struct Turns {
    pumps: Vec<Duration>,
    /// Only the turns that drew.
    draws: Vec<Duration>,
    /// Turns that did not wait (some pane still had data past its budget).
    busy: usize,
    /// Turns between a keystroke and its echo, per keystroke.
    per_echo: Vec<usize>,
}

impl Harness {
    fn new(server: &EmbeddedServer, known: &Path, tabs: usize) -> Res<Self> {
        let connect = server.client_options(known)?;
        let (prompter, _prompts) = Prompter::channel();
        let waker = Waker::new();
        let connector = Connector::new(connect, prompter);
        let mut opts = AppOptions::new(Box::new(LiveSpawner::new(
            PtyCommand::new("/bin/sh"),
            connector.clone(),
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
            connector,
            waker,
            term: Terminal::new(TestBackend::new(WIDTH, HEIGHT + 2))?,
            last_draw: Instant::now(),
            pending: false,
            profile: None,
        })
    }

    /// One turn of the event loop, as the app's: wait for a wake-up (or the next frame) unless
    /// data is still queued, pump each pane within its budget once, draw if due.
    async fn turn(&mut self) -> Res<()> {
        if !self.pending {
            let _ = tokio::time::timeout(FRAME_INTERVAL, self.waker.woken()).await;
        }
        let start = Instant::now();
        self.pending = self.app.pump();
        if let Some(p) = &mut self.profile {
            p.pumps.push(start.elapsed());
            p.busy += usize::from(self.pending);
        }
        self.draw_if_due()?;
        if self.pending {
            tokio::task::yield_now().await;
        }
        Ok(())
    }

    fn draw_if_due(&mut self) -> Res<()> {
        // As the event loop: an echo at once, the rest at most once a frame.
        let echo = self.app.take_echo_frame();
        if self.app.dirty && (echo || self.last_draw.elapsed() >= FRAME_INTERVAL) {
            let start = Instant::now();
            self.term.draw(|f| lumen::app::ui::draw(&self.app, f))?;
            if let Some(p) = &mut self.profile {
                p.draws.push(start.elapsed());
            }
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

    fn pane_text(&self, id: PaneId) -> String {
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
        self.wait_for(what, WAIT, pred).await
    }

    /// Run turns until `pred` holds, at most `limit`.
    async fn wait_for(
        &mut self,
        what: &str,
        limit: Duration,
        pred: impl Fn(&Self) -> bool,
    ) -> Res<()> {
        let start = Instant::now();
        while !pred(self) {
            if start.elapsed() > limit {
                return Err(format!("timed out after {limit:?} waiting for {what}").into());
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
