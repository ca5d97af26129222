//! Terminal emulation throughput (MB/s) of our pane (with and without the compact scrollback
//! store, in the same run) vs `vt100` on the same deterministic
//! streams, frame time of rendering 1 and 4 panes of 200x50, and what a full scrollback
//! costs when it comes back from the compact store (copy mode, resize).
//!
//! Extra modes for benches/parse_vs_tmux.sh (checked before criterion runs):
//! - `LUMEN_BENCH_WRITE_STREAMS=DIR`: write the streams to DIR/NAME.bin and exit;
//! - `LUMEN_BENCH_FILE=PATH` (+ `LUMEN_BENCH_REPEAT=N`): feed the file N times through one pane
//!   in 4 KiB chunks and print `MB/s` (for a profiler too: `perf record` on this mode);
//!   `LUMEN_BENCH_WITHOUT_STORE=1` uses the pane without the compact store; the compact
//!   store's size goes to stderr;
//! - `LUMEN_BENCH_CPU=ROUNDS` (+ `LUMEN_BENCH_STREAM=SUBSTRING`): CPU time per MB of the parse
//!   bench's iteration (a new pane fed the stream, drawn, dropped) with and without the store,
//!   interleaved, median of ROUNDS: the thread's CPU clock, so a loaded machine changes it
//!   far less than criterion's wall-clock ratio.

use criterion::{BenchmarkId, Criterion, Throughput};
use lumen::panes::terminal::{TerminalConfig, TerminalPane};
use lumen::stream::{self, StreamEnds, Waker};
use lumen::ui::theme::Theme;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use std::hint::black_box;
use std::num::NonZeroU16;
use std::time::{Duration, Instant};

const COLS: u16 = 200;
const ROWS: u16 = 50;
const SCROLLBACK: usize = 10_000;
/// Bytes per read, as a PTY or SSH channel hands them over.
const CHUNK: usize = 4096;
/// Size of each generated stream.
const STREAM_SIZE: usize = 2 << 20;
/// New data per pane before each rendered frame.
const FRAME_DATA: usize = 8 << 10;
const MEASURE: Duration = Duration::from_secs(3);

/// A bench-sized pane, with the compact scrollback store or (`store` false) without it.
fn pane(store: bool) -> (TerminalPane, StreamEnds) {
    let (stream, ends) = stream::channel(&Waker::new());
    let cfg = TerminalConfig {
        cols: COLS,
        rows: ROWS,
        scrollback: SCROLLBACK,
    };
    let pane = if store {
        TerminalPane::new(stream, cfg)
    } else {
        TerminalPane::new_without_compact_history(stream, cfg)
    };
    (pane, ends)
}

/// A small deterministic pseudo-random generator (the streams must not change between runs).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, bound: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % bound
    }
}

fn seq(size: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(size + 16);
    let mut i = 1u64;
    while out.len() < size {
        out.extend_from_slice(format!("{i}\r\n").as_bytes());
        i += 1;
    }
    out
}

/// `ls -laR`-like listing, coloured like `ls --color` when `color`.
fn ls(size: usize, color: bool) -> Vec<u8> {
    let mut rng = Lcg(7);
    let mut out = Vec::with_capacity(size + 256);
    let mut dir = 0;
    let paint = |code: &str, name: &str| {
        if color {
            format!("\x1b[0m\x1b[{code}m{name}\x1b[0m")
        } else {
            name.to_string()
        }
    };
    while out.len() < size {
        dir += 1;
        out.extend_from_slice(
            format!("./usr/share/dir{dir}:\r\ntotal {}\r\n", rng.next(900)).as_bytes(),
        );
        for k in 0..rng.next(30) + 3 {
            let line = match rng.next(4) {
                0 => format!(
                    "drwxr-xr-x  2 root root     4096 Jan 12 10:31 {}\r\n",
                    paint("01;34", &format!("subdir_{k}"))
                ),
                1 => format!(
                    "-rwxr-xr-x  1 root root {:>8} Mar  3 09:12 {}\r\n",
                    rng.next(9_000_000),
                    paint("01;32", &format!("tool-{k}"))
                ),
                2 => format!(
                    "lrwxrwxrwx  1 root root       21 Nov 17  2020 {} -> /etc/alternatives/x{k}\r\n",
                    paint("01;36", &format!("link{k}"))
                ),
                _ => format!(
                    "-rw-r--r--  1 user staff {:>8} Sep 19  2022 file_{k}_{}.txt\r\n",
                    rng.next(100_000),
                    rng.next(1000)
                ),
            };
            out.extend_from_slice(line.as_bytes());
        }
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// A full-screen program repainting every cell of a 200x50 screen with 256 colours.
fn tui_repaint(size: usize) -> Vec<u8> {
    let mut rng = Lcg(11);
    let mut out = Vec::with_capacity(size + (64 << 10));
    let words = [
        "cpu ", "mem ", "load", "proc", "net ", "disk", "swap", "user",
    ];
    while out.len() < size {
        out.extend_from_slice(b"\x1b[?2026h\x1b[H");
        for row in 1..=ROWS {
            out.extend_from_slice(format!("\x1b[{row};1H").as_bytes());
            for _ in 0..5 {
                let (fg, bg) = (rng.next(256), rng.next(256));
                out.extend_from_slice(format!("\x1b[38;5;{fg};48;5;{bg}m").as_bytes());
                for _ in 0..10 {
                    out.extend_from_slice(words[rng.next(8) as usize].as_bytes());
                }
            }
            out.extend_from_slice(b"\x1b[0m");
        }
        out.extend_from_slice(b"\x1b[?2026l");
    }
    out
}

/// Mixed CJK, Hangul, emoji (with modifiers) and accented Latin text.
fn utf8_wide(size: usize) -> Vec<u8> {
    let mut rng = Lcg(13);
    let pieces = [
        "日本語のテキスト",
        "中文字符",
        "한국어 ",
        "🦀",
        "🚀 ",
        "👍🏽",
        "café ",
        "naïve ",
        "e\u{301} ",
        "ascii words ",
        "Ελληνικά ",
        "Кириллица ",
    ];
    let mut out = Vec::with_capacity(size + 256);
    while out.len() < size {
        for _ in 0..rng.next(12) + 4 {
            out.extend_from_slice(pieces[rng.next(pieces.len() as u64) as usize].as_bytes());
        }
        out.extend_from_slice(b"\r\n");
    }
    out
}

fn streams() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("seq", seq(STREAM_SIZE)),
        ("ls_laR", ls(STREAM_SIZE, false)),
        ("ls_color_laR", ls(STREAM_SIZE, true)),
        ("tui_repaint", tui_repaint(STREAM_SIZE)),
        ("utf8_cjk_emoji", utf8_wide(STREAM_SIZE)),
    ]
}

fn feed_lumen(bytes: &[u8]) -> TerminalPane {
    let (mut pane, _ends) = pane(true);
    for chunk in bytes.chunks(CHUNK) {
        pane.feed(chunk);
    }
    pane
}

/// The same pane with all its history in the emulator (no compact store), for the store's cost.
fn feed_lumen_plain(bytes: &[u8]) -> TerminalPane {
    let (mut pane, _ends) = pane(false);
    for chunk in bytes.chunks(CHUNK) {
        pane.feed(chunk);
    }
    pane
}

/// alacritty_terminal alone (no pane around it), to show what the pane adds.
fn feed_alacritty(bytes: &[u8]) -> usize {
    use alacritty_terminal::event::VoidListener;
    use alacritty_terminal::grid::Dimensions;
    use alacritty_terminal::term::{Config, Term, test::TermSize};
    use alacritty_terminal::vte::ansi::Processor;
    let config = Config {
        scrolling_history: SCROLLBACK,
        ..Config::default()
    };
    let size = TermSize::new(usize::from(COLS), usize::from(ROWS));
    let mut term = Term::new(config, &size, VoidListener);
    let mut parser: Processor = Processor::new();
    for chunk in bytes.chunks(CHUNK) {
        parser.advance(&mut term, chunk);
    }
    term.grid().history_size()
}

fn feed_vt100(bytes: &[u8]) -> vt100::Parser {
    let (Some(rows), Some(cols)) = (NonZeroU16::new(ROWS), NonZeroU16::new(COLS)) else {
        unreachable!("the bench size is not zero")
    };
    let mut parser = vt100::Parser::new(rows, cols, SCROLLBACK);
    for chunk in bytes.chunks(CHUNK) {
        parser.process(chunk);
    }
    parser
}

fn parse(c: &mut Criterion) {
    let theme = Theme::builtin();
    let mut group = c.benchmark_group("parse");
    group.sample_size(10).measurement_time(MEASURE);
    for (name, bytes) in streams() {
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_with_input(BenchmarkId::new("lumen", name), &bytes, |b, bytes| {
            b.iter(|| {
                let pane = feed_lumen(bytes);
                let area = Rect::new(0, 0, COLS, ROWS);
                let mut buf = Buffer::empty(area);
                pane.render(area, &mut buf, &theme);
                black_box(buf)
            })
        });
        group.bench_with_input(
            BenchmarkId::new("lumen_without_store", name),
            &bytes,
            |b, bytes| {
                b.iter(|| {
                    let pane = feed_lumen_plain(bytes);
                    let area = Rect::new(0, 0, COLS, ROWS);
                    let mut buf = Buffer::empty(area);
                    pane.render(area, &mut buf, &theme);
                    black_box(buf)
                })
            },
        );
        group.bench_with_input(
            BenchmarkId::new("alacritty_alone", name),
            &bytes,
            |b, bytes| b.iter(|| black_box(feed_alacritty(bytes))),
        );
        group.bench_with_input(BenchmarkId::new("vt100", name), &bytes, |b, bytes| {
            b.iter(|| black_box(feed_vt100(bytes)))
        });
    }
    group.finish();
}

/// Render `panes` side by side into one buffer, as a frame of the app would.
fn render_frame(panes: &[TerminalPane], buf: &mut Buffer, theme: &Theme) {
    buf.reset();
    for (i, pane) in panes.iter().enumerate() {
        let x = (i % 2) as u16 * COLS;
        let y = (i / 2) as u16 * ROWS;
        pane.render(Rect::new(x, y, COLS, ROWS), buf, theme);
    }
}

fn frames(c: &mut Criterion) {
    let theme = Theme::builtin();
    let data = ls(1 << 20, true);
    let mut group = c.benchmark_group("frame");
    group.measurement_time(MEASURE);
    for (count, store) in [(1usize, true), (4, true), (1, false), (4, false)] {
        let feed = if store { feed_lumen } else { feed_lumen_plain };
        let suffix = if store { "" } else { "_without_store" };
        let mut panes: Vec<TerminalPane> = (0..count).map(|_| feed(&data[..64 << 10])).collect();
        let area = Rect::new(0, 0, COLS * 2, ROWS * 2);
        let mut buf = Buffer::empty(area);
        group.bench_function(
            BenchmarkId::new(format!("render_200x50{suffix}"), count),
            |b| b.iter(|| render_frame(&panes, &mut buf, &theme)),
        );
        let mut offset = 0;
        group.bench_function(
            BenchmarkId::new(format!("feed_8KiB_and_render_200x50{suffix}"), count),
            |b| {
                b.iter(|| {
                    for pane in panes.iter_mut() {
                        if offset + FRAME_DATA > data.len() {
                            offset = 0;
                        }
                        pane.feed(&data[offset..offset + FRAME_DATA]);
                        offset += FRAME_DATA;
                    }
                    render_frame(&panes, &mut buf, &theme)
                })
            },
        );
    }
    group.finish();
}

/// A 200x50 pane with its 10 000 lines of scrollback full of ~83-column text.
fn full_pane() -> TerminalPane {
    let text: String = (0..11_000)
        .map(|i| {
            format!("{i:05} the quick brown fox jumps over the lazy dog; pack my box with five dozen liquor\r\n")
        })
        .collect();
    feed_lumen(text.as_bytes())
}

/// Copy mode brings every line back into the emulator and leaving it stores them again;
/// resizing rewraps the stored lines.
fn history(c: &mut Criterion) {
    let mut group = c.benchmark_group("history");
    group.sample_size(10).measurement_time(MEASURE);
    let mut pane = full_pane();
    group.bench_function("copy_mode_enter_leave_10k_lines_200x50", |b| {
        b.iter(|| {
            pane.enter_copy_mode();
            pane.handle_key(&crossterm::event::KeyEvent::from(
                crossterm::event::KeyCode::Esc,
            ));
        })
    });
    let mut wide = true;
    group.bench_function("resize_200_to_160_cols_10k_lines", |b| {
        b.iter(|| {
            wide = !wide;
            pane.resize(if wide { COLS } else { 160 }, ROWS);
        })
    });
    group.bench_function("resize_200_to_60_cols_10k_lines", |b| {
        b.iter(|| {
            wide = !wide;
            pane.resize(if wide { COLS } else { 60 }, ROWS);
        })
    });
    group.finish();
}

/// CPU time this thread has used.
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec through a pointer to a live local.
    unsafe {
        libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts);
    }
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// The parse bench's iteration, timed on the thread's CPU clock.
fn cpu_of_parse(bytes: &[u8], store: bool, theme: &Theme) -> Duration {
    let start = thread_cpu();
    let pane = if store {
        feed_lumen(bytes)
    } else {
        feed_lumen_plain(bytes)
    };
    let area = Rect::new(0, 0, COLS, ROWS);
    let mut buf = Buffer::empty(area);
    pane.render(area, &mut buf, theme);
    black_box(buf);
    drop(pane);
    thread_cpu() - start
}

/// `LUMEN_BENCH_CPU`: CPU ms per MB with and without the store, each stream, median of `rounds`.
fn cpu_per_mb(rounds: usize, filter: &str) {
    let theme = Theme::builtin();
    println!("stream            store ms/MB  without ms/MB  ratio (store/without; <1 is faster)");
    for (name, bytes) in streams() {
        if !name.contains(filter) {
            continue;
        }
        // As criterion runs them: a warm-up, then all rounds of one pane, then of the other
        // (interleaving would charge the store-less pane for pages the store's pane trimmed).
        let block = |store: bool| -> Vec<Duration> {
            cpu_of_parse(&bytes, store, &theme);
            (0..rounds)
                .map(|_| cpu_of_parse(&bytes, store, &theme))
                .collect()
        };
        let (mut with, mut without) = (block(true), block(false));
        let mb = bytes.len() as f64 / 1e6;
        let median = |v: &mut Vec<Duration>| {
            v.sort();
            v[v.len() / 2].as_secs_f64() * 1e3 / mb
        };
        let (w, wo) = (median(&mut with), median(&mut without));
        println!("{name:<17} {w:>11.2}  {wo:>13.2}  {:.3}", w / wo);
        // Steady state: the scrollback is already full, so the store-less pane recycles its
        // rows and every row the store takes is pure extra work.
        let steady = |store: bool| -> Vec<Duration> {
            let (mut pane, _ends) = pane(store);
            let feed = |pane: &mut TerminalPane| {
                let start = thread_cpu();
                for chunk in bytes.chunks(CHUNK) {
                    pane.feed(chunk);
                }
                thread_cpu() - start
            };
            feed(&mut pane);
            (0..rounds).map(|_| feed(&mut pane)).collect()
        };
        let (mut with, mut without) = (steady(true), steady(false));
        let (w, wo) = (median(&mut with), median(&mut without));
        println!(
            "{:<17} {w:>11.2}  {wo:>13.2}  {:.3}",
            "  (full history)",
            w / wo
        );
    }
}

/// The modes used by parse_vs_tmux.sh; true when one ran and criterion should not.
fn script_modes() -> bool {
    if let Some(rounds) = std::env::var("LUMEN_BENCH_CPU")
        .ok()
        .and_then(|r| r.parse::<usize>().ok())
    {
        let filter = std::env::var("LUMEN_BENCH_STREAM").unwrap_or_default();
        cpu_per_mb(rounds.max(1), &filter);
        return true;
    }
    if let Some(dir) = std::env::var_os("LUMEN_BENCH_WRITE_STREAMS") {
        let dir = std::path::PathBuf::from(dir);
        for (name, bytes) in streams() {
            let path = dir.join(format!("{name}.bin"));
            if let Err(e) = std::fs::write(&path, bytes) {
                eprintln!("cannot write {}: {e}", path.display());
                std::process::exit(1);
            }
        }
        return true;
    }
    if let Some(path) = std::env::var_os("LUMEN_BENCH_FILE") {
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("cannot read {}: {e}", path.to_string_lossy());
                std::process::exit(1);
            }
        };
        let repeat: usize = std::env::var("LUMEN_BENCH_REPEAT")
            .ok()
            .and_then(|r| r.parse().ok())
            .unwrap_or(1);
        let start = Instant::now();
        let (mut pane, _ends) = pane(std::env::var_os("LUMEN_BENCH_WITHOUT_STORE").is_none());
        for _ in 0..repeat {
            for chunk in bytes.chunks(CHUNK) {
                pane.feed(chunk);
            }
        }
        black_box(pane.screen_text());
        let secs = start.elapsed().as_secs_f64();
        println!("{:.1}", (bytes.len() * repeat) as f64 / secs / 1e6);
        // The compact store's size, on stderr: stdout's last line is the figure the script reads.
        let stats = pane.history_stats();
        eprintln!(
            "history: {} lines, {} in the compact store, {} bytes ({:.1} B/line, uncompressed)",
            stats.lines,
            stats.cold_lines,
            stats.cold_bytes,
            stats.cold_bytes as f64 / stats.cold_lines.max(1) as f64
        );
        return true;
    }
    false
}

fn main() {
    if script_modes() {
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    parse(&mut c);
    frames(&mut c);
    history(&mut c);
    c.final_summary();
}
