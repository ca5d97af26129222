//! Recording cost, as ratios in one run (never asserted in tests): a flood (`cat` of a
//! 100 MB file, seq-like and coloured `ls` output) into an SSH pane on the embedded server,
//! recorded vs not, same server, same bytes; and the bytes of log written per byte of output
//! (the `.cast.gz` that stays, and the asciicast before compression).
//!
//! Run: `cargo bench --bench record` (LUMEN_BENCH_MB sets the flood size, default 100).

#[path = "support/floods.rs"]
mod floods;

use lumen::app::run::FRAME_INTERVAL;
use lumen::app::{App, AppOptions, LiveSpawner, PaneSpec};
use lumen::pty::PtyCommand;
use lumen::ssh::{Connector, EmbeddedServer, Prompter};
use lumen::stream::Waker;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::path::Path;
use std::time::{Duration, Instant};

const WIDTH: u16 = 200;
const HEIGHT: u16 = 50;
const WAIT: Duration = Duration::from_secs(900);
/// Runs of each kind; the medians are compared.
const RUNS: usize = 5;

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

type Res<T> = Result<T, Box<dyn std::error::Error>>;

fn main() -> Res<()> {
    if std::env::args().any(|a| a == "--list" || a == "--test") {
        return Ok(());
    }
    let mb: usize = std::env::var("LUMEN_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
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
        println!("flood: {mb} MB each, pane {WIDTH}x{HEIGHT}");
        for (name, file) in [("seq-like", &seq), ("coloured ls", &color)] {
            println!("{name:>12}: masking alone (one thread) {:.1} MB/s", mask_rate(file)?);
        }
        for (name, file) in [("seq-like", &seq), ("coloured ls", &color)] {
            // Unrecorded and recorded runs alternate, RUNS of each; the medians are compared
            // (one run of each swings by a third on a busy 2-core machine).
            let (mut plains, mut recordeds, mut finishes) = (Vec::new(), Vec::new(), Vec::new());
            let mut root = dir.path().to_path_buf();
            for run in 0..RUNS {
                plains.push(flood(&server, &known, file, None).await?.0);
                root = dir
                    .path()
                    .join(format!("recordings-{}-{run}", name.replace(' ', "-")));
                let (recorded, finish) = flood(&server, &known, file, Some(&root)).await?;
                recordeds.push(recorded);
                finishes.push(finish);
            }
            let (plain, recorded) = (median(&mut plains), median(&mut recordeds));
            let finish = finishes.iter().max().copied().unwrap_or_default();
            let size = std::fs::metadata(file)?.len() as f64;
            let (gz, cast) = log_bytes(&root)?;
            println!(
                "{name:>12}: unrecorded {plain:.1} MB/s, recorded {recorded:.1} MB/s (medians of {RUNS}), \
                 ratio {:.2} (target >= 0.90); \
                 log {:.3} bytes (.cast.gz) / {:.3} bytes (asciicast) per byte of output; \
                 the recording's end (last writes, gzip) took up to {:.2} s more",
                recorded / plain,
                gz as f64 / size,
                cast as f64 / size,
                finish.as_secs_f64(),
            );
        }
        Ok::<_, Box<dyn std::error::Error>>(())
    })
}

/// MB/s of `cat file` into one SSH pane until the shell's next line shows, drawn at the
/// frame rate as the event loop does, recording under `root` when given; and how long the
/// recording then took to end (its last writes and compression, done as the pane ends).
async fn flood(
    server: &EmbeddedServer,
    known: &Path,
    file: &Path,
    root: Option<&Path>,
) -> Res<(f64, Duration)> {
    let (prompter, _prompts) = Prompter::channel();
    let waker = Waker::new();
    let connector = Connector::new(server.client_options(known)?, prompter);
    let mut opts = AppOptions::new(Box::new(LiveSpawner::new(
        PtyCommand::new("/bin/sh"),
        connector.clone(),
    )));
    opts.size = (WIDTH, HEIGHT + 2);
    opts.waker = waker.clone();
    opts.recordings_root = root.map(Path::to_path_buf);
    let mut app = App::new(opts);
    app.new_tab(PaneSpec::Ssh {
        name: "bench".into(),
        target: server.target(None),
        plan: None,
    });
    let mut term = Terminal::new(TestBackend::new(WIDTH, HEIGHT + 2))?;
    run_until(&mut app, &waker, &mut term, |t| t.contains('$')).await?;
    for c in format!("cat {}; echo DONE-$((6*7))\n", file.display()).chars() {
        use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
        let code = if c == '\n' {
            KeyCode::Enter
        } else {
            KeyCode::Char(c)
        };
        app.handle_key(&KeyEvent::new(code, KeyModifiers::NONE));
    }
    let size = std::fs::metadata(file)?.len() as f64;
    let start = Instant::now();
    run_until(&mut app, &waker, &mut term, |t| t.contains("DONE-42")).await?;
    let rate = size / start.elapsed().as_secs_f64() / 1e6;
    let end = Instant::now();
    app.finish_recordings();
    let finish = end.elapsed();
    drop(app);
    drop(connector);
    Ok((rate, finish))
}

/// Turns of the event loop (wait for a wake-up unless data is queued, pump, draw when a
/// frame is due) until the focused pane's screen satisfies `done`.
async fn run_until(
    app: &mut App,
    waker: &Waker,
    term: &mut Terminal<TestBackend>,
    done: impl Fn(&str) -> bool,
) -> Res<()> {
    let start = Instant::now();
    let mut last_draw = Instant::now();
    let mut pending = false;
    loop {
        let screen = app
            .focused()
            .and_then(|id| app.panes.get(&id))
            .and_then(|s| s.pane.as_terminal())
            .map(|t| t.screen_text())
            .unwrap_or_default();
        if done(&screen) {
            return Ok(());
        }
        if start.elapsed() > WAIT {
            return Err("timed out".into());
        }
        if !pending {
            let _ = tokio::time::timeout(FRAME_INTERVAL, waker.woken()).await;
        }
        pending = app.pump();
        if app.dirty && last_draw.elapsed() >= FRAME_INTERVAL {
            term.draw(|f| lumen::app::ui::draw(app, f))?;
            app.dirty = false;
            last_draw = Instant::now();
        }
        if pending {
            tokio::task::yield_now().await;
        }
    }
}

/// MB/s of the recorder's masking alone over `file` in 32 KiB chunks (no vault values).
fn mask_rate(file: &Path) -> Res<f64> {
    use lumen::record::mask::{Flush, Masker};
    let data = std::fs::read(file)?;
    let secrets = lumen::ai::redact::Secrets::new();
    let mut m = Masker::default();
    let start = Instant::now();
    let mut out = 0usize;
    for chunk in data.chunks(32 * 1024) {
        m.push(Instant::now(), chunk);
        out += m.take(Flush::Hold, &secrets).len();
    }
    out += m.take(Flush::All, &secrets).len();
    std::hint::black_box(out);
    Ok(data.len() as f64 / start.elapsed().as_secs_f64() / 1e6)
}

/// Bytes of the `.cast.gz` files under `root`, and of the asciicast they hold.
fn log_bytes(root: &Path) -> Res<(u64, u64)> {
    let mut gz = 0;
    let mut cast = 0;
    for (_, path) in lumen::record::store::files(root) {
        gz += std::fs::metadata(&path)?.len();
        cast += std::io::copy(&mut lumen::record::cast::open(&path)?, &mut std::io::sink())?;
    }
    Ok((gz, cast))
}
