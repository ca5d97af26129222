//! Echo latency of a keystroke in one quiet pane while other panes of the same tab flood, and
//! where the loop spent its turns meanwhile (pump and draw times).

use super::{
    FLOOD_START, FRAME_INTERVAL, HEIGHT, Harness, LATENCY_TARGET, PANE_BYTE_BUDGET, Res, Turns,
    WIDTH, latency_samples,
};
use lumen::app::PaneSpec;
use lumen::app::keymap::Action;
use lumen::app::layout::PaneId;
use lumen::app::state::{ECHO_TURN_BUDGET, TURN_BYTE_BUDGET};
use lumen::panes::terminal::{TerminalConfig, TerminalPane};
use lumen::ssh::EmbeddedServer;
use std::path::Path;
use std::time::{Duration, Instant};

/// Which connection the flooding panes' sessions use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FloodLink {
    /// The quiet pane's: what splitting an SSH pane gives (one shared login per destination).
    Shared,
    /// Another login (another user name on the same server), to tell the connection's
    /// head-of-line blocking apart from the loop's own work.
    Separate,
}

/// One measured case.
pub struct Latency {
    floods: usize,
    /// Parsing one pane's byte budget of the flood, alone, at a flooding pane's size.
    budget_cost: Duration,
    link: FloodLink,
    connections: usize,
    samples: Vec<Duration>,
    turns: Turns,
}

/// The quiet pane and `floods` panes split from it in tab 0, each split halving the largest
/// pane along its longer side. Returns the flooding panes.
fn split_panes(h: &mut Harness, floods: usize, spec: &PaneSpec) -> Vec<PaneId> {
    let mut out = Vec::new();
    for _ in 0..floods {
        let largest = h.app.tabs[0]
            .layout
            .panes()
            .into_iter()
            .filter_map(|id| h.app.panes.get(&id).map(|s| (id, s.rect)))
            .max_by_key(|(_, r)| u32::from(r.width) * u32::from(r.height));
        let Some((from, rect)) = largest else {
            break;
        };
        h.app.tabs[0].focused = from;
        // A split copies the focused pane's spec: lend it the floods' for a moment.
        let own = h.app.panes.get_mut(&from).map(|s| {
            let own = s.spec.clone();
            s.spec = spec.clone();
            own
        });
        // Cells are about twice as tall as wide.
        h.app.run_action(if rect.width >= rect.height * 2 {
            Action::SplitRight
        } else {
            Action::SplitDown
        });
        if let (Some(own), Some(slot)) = (own, h.app.panes.get_mut(&from)) {
            slot.spec = own;
        }
        out.push(h.app.tabs[0].focused);
    }
    out
}

/// The longest a keystroke's echo may take before the case fails.
const ECHO_WAIT: Duration = Duration::from_secs(60);

/// `e` with what the quiet pane shows.
fn on_screen(
    h: &Harness,
    quiet: PaneId,
    e: Box<dyn std::error::Error>,
) -> Box<dyn std::error::Error> {
    format!("{e}; the quiet pane shows:\n{}", h.pane_text(quiet)).into()
}

/// The pane's last non-blank line (trailing blanks aside) and its number counted from the
/// top of the scrollback, which only grows.
fn last_line(h: &Harness, id: PaneId) -> (usize, String) {
    let history = h
        .app
        .panes
        .get(&id)
        .and_then(|s| s.pane.as_terminal())
        .map_or(0, |t| t.history_len());
    let text = h.pane_text(id);
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .last()
        .map_or((0, String::new()), |(i, l)| {
            (history + i, l.trim_end().to_string())
        })
}

pub async fn latency_under_flood(
    server: &EmbeddedServer,
    known: &Path,
    file: &Path,
    floods: usize,
    link: FloodLink,
) -> Res<Latency> {
    let mut h = Harness::new(server, known, 1)?;
    let quiet = h.app.tabs[0].focused;
    let flood_spec = match link {
        FloodLink::Shared => h.app.panes[&quiet].spec.clone(),
        FloodLink::Separate => PaneSpec::Ssh {
            name: "flood".into(),
            target: server.target(Some("flood")),
            plan: None,
        },
    };
    let flooding = split_panes(&mut h, floods, &flood_spec);
    h.wait_until("every pane's prompt", |h| {
        std::iter::once(quiet)
            .chain(flooding.iter().copied())
            .all(|id| h.pane_text(id).contains('$'))
    })
    .await?;
    let connections = h.connector.open_connections();
    let size = flooding
        .first()
        .and_then(|id| h.app.panes.get(id))
        .map_or((WIDTH, HEIGHT), |s| (s.inner.width, s.inner.height));
    let budget_cost = budget_cost(file, size)?;
    for &id in &flooding {
        h.app.tabs[0].focused = id;
        h.type_text(&format!("while true; do cat {}; done\n", file.display()));
    }
    h.app.tabs[0].focused = quiet;
    let until = Instant::now() + FLOOD_START;
    while Instant::now() < until {
        h.turn().await?;
    }
    // Keystrokes go on `: xxx…` lines that never wrap (a wrap could scroll x's away) and run
    // as the null command (no output with x's in it).
    let width = h.app.panes[&quiet]
        .inner
        .width
        .saturating_sub(8)
        .clamp(1, 50);
    let per_line = usize::from(width);
    h.profile = Some(Turns::default());
    let mut samples = Vec::with_capacity(latency_samples());
    let mut on_line = per_line;
    for i in 0..latency_samples() {
        if on_line == per_line {
            // The line before (`$ : xxx…`, or the first prompt) ends; a bare prompt follows.
            let (ended, _) = last_line(&h, quiet);
            h.type_text("\n");
            h.wait_for("a fresh prompt", ECHO_WAIT, |h| {
                let (n, line) = last_line(h, quiet);
                n > ended && line == "$"
            })
            .await
            .map_err(|e| on_screen(&h, quiet, e))?;
            h.type_text(": ");
            h.wait_for("the null command", ECHO_WAIT, |h| {
                last_line(h, quiet).1 == "$ :"
            })
            .await
            .map_err(|e| on_screen(&h, quiet, e))?;
            on_line = 0;
        }
        let before = h.pane_text(quiet).matches('x').count();
        let turns_before = h.profile.as_ref().map_or(0, |p| p.pumps.len());
        let start = Instant::now();
        h.type_text("x");
        h.wait_for("the echo", ECHO_WAIT, |h| {
            h.pane_text(quiet).matches('x').count() > before
        })
        .await
        .map_err(|e| on_screen(&h, quiet, e))?;
        // The echo counts once a frame showing it is drawn.
        h.app.dirty = true;
        h.last_draw = Instant::now() - FRAME_INTERVAL;
        h.draw_if_due()?;
        samples.push(start.elapsed());
        if let Some(p) = &mut h.profile {
            let turns = p.pumps.len() - turns_before;
            p.per_echo.push(turns);
        }
        on_line += 1;
        if i % 50 == 49 {
            eprintln!(
                "  {floods} flooding ({link:?}): latency sample {}: {:?}",
                i + 1,
                start.elapsed()
            );
        }
    }
    let turns = h.profile.take().unwrap_or_default();
    samples.sort();
    Ok(Latency {
        floods,
        budget_cost,
        link,
        connections,
        samples,
        turns,
    })
}

/// Bytes the emulator is fed at a time, as the SSH session delivers them (one packet).
const CHUNK: usize = 32 * 1024;
/// Output parsed before timing, so the scrollback is full as in a long flood.
const WARM_UP: usize = 4 * 1024 * 1024;
/// Budgets timed.
const BUDGETS: usize = 31;

/// The median time to parse one pane's byte budget of `file`'s stream in a pane of `size`
/// with the default scrollback, outside the loop: what each flooding pane costs a turn.
fn budget_cost(file: &Path, (cols, rows): (u16, u16)) -> Res<Duration> {
    let data = std::fs::read(file)?;
    let (stream, _ends) = lumen::stream::channel(&lumen::stream::Waker::new());
    let mut pane = TerminalPane::new(
        stream,
        TerminalConfig {
            cols,
            rows,
            ..TerminalConfig::default()
        },
    );
    let mut chunks = data.chunks(CHUNK).cycle();
    let mut feed = |bytes: usize, pane: &mut TerminalPane| {
        let mut fed = 0;
        while fed < bytes {
            let Some(chunk) = chunks.next() else { break };
            pane.feed(chunk);
            fed += chunk.len();
        }
    };
    feed(WARM_UP, &mut pane);
    let mut times = Vec::with_capacity(BUDGETS);
    for _ in 0..BUDGETS {
        let start = Instant::now();
        feed(PANE_BYTE_BUDGET, &mut pane);
        times.push(start.elapsed());
    }
    times.sort();
    Ok(times[BUDGETS / 2])
}

impl Latency {
    /// (flooding panes, on the quiet pane's connection, echo median ms, echo p99 ms)
    pub fn echo_ms(&self) -> (usize, bool, f64, f64) {
        let (median, p99) = median_p99(&self.samples);
        (
            self.floods,
            self.link == FloodLink::Shared,
            ms(median),
            ms(p99),
        )
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// The median and 99th percentile of sorted durations.
fn median_p99(sorted: &[Duration]) -> (Duration, Duration) {
    if sorted.is_empty() {
        return (Duration::ZERO, Duration::ZERO);
    }
    (sorted[sorted.len() / 2], sorted[sorted.len() * 99 / 100])
}

pub fn print_latency(rows: &[Latency]) {
    println!(
        "echo latency in one pane while other panes of its tab stream coloured ls \
         ({} keystrokes each; target p99 < {} ms, one frame; pump budget {} KiB \
         per pane and {} KiB for all panes per turn, {} KiB in the turn that parses an echo)",
        latency_samples(),
        LATENCY_TARGET.as_millis(),
        PANE_BYTE_BUDGET / 1024,
        TURN_BYTE_BUDGET / 1024,
        ECHO_TURN_BUDGET / 1024
    );
    println!(
        "| flooding panes | their connection | SSH connections | echo median (ms) | echo p99 (ms) \
         | turns per echo median / p99 | turns (busy) | pump per turn median / p99 (ms) \
         | one budget parsed alone (ms) | x flooding panes (ms) | draw median / p99 (ms) |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for r in rows {
        let (median, p99) = median_p99(&r.samples);
        let mut pumps = r.turns.pumps.clone();
        pumps.sort();
        let mut draws = r.turns.draws.clone();
        draws.sort();
        let (pm, pp) = median_p99(&pumps);
        let (dm, dp) = median_p99(&draws);
        let mut per_echo = r.turns.per_echo.clone();
        per_echo.sort();
        let (em, ep) = if per_echo.is_empty() {
            (0, 0)
        } else {
            (
                per_echo[per_echo.len() / 2],
                per_echo[per_echo.len() * 99 / 100],
            )
        };
        let link = match r.link {
            FloodLink::Shared => "the quiet pane's (split)",
            FloodLink::Separate => "another login",
        };
        println!(
            "| {} | {link} | {} | {:.1} | {:.1} | {em} / {ep} | {} ({}) | {:.1} / {:.1} | {:.2} | {:.1} \
             | {:.1} / {:.1} |",
            r.floods,
            r.connections,
            ms(median),
            ms(p99),
            r.turns.pumps.len(),
            r.turns.busy,
            ms(pm),
            ms(pp),
            ms(r.budget_cost),
            ms(r.budget_cost) * r.floods as f64,
            ms(dm),
            ms(dp),
        );
    }
}
