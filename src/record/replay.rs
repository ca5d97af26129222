//! Replaying a recording: as plain text through lumen's terminal emulator (`lumen logs
//! show`: each line as it scrolled off or stood on the last screen, and the last screen of
//! each full-screen program such as `top` when it ended), or in real time to a terminal
//! (`lumen logs play`).

use super::cast::{self, Event};
use crate::panes::terminal::{TerminalConfig, TerminalPane};
use std::io::Write;
use std::path::Path;
use std::time::Duration;

/// Rows of scrollback the replaying emulator keeps between reads (lines are taken as they
/// scroll off, so this only bounds one event's worth).
const REPLAY_SCROLLBACK: usize = 100_000;

/// Print `path` as plain lines to `out`. Returns where the file broke, if it did.
pub fn show(path: &Path, out: &mut dyn Write) -> std::io::Result<Option<String>> {
    let (cols, rows) = cast::header(path).map_or((80, 24), |h| (h.width, h.height));
    let mut pane = TerminalPane::offline(TerminalConfig {
        cols: cols.max(2),
        rows: rows.max(1),
        scrollback: REPLAY_SCROLLBACK,
    });
    let mut alt_screen: Option<Vec<String>> = None;
    let mut failed: Option<std::io::Error> = None;
    let mut emit = |lines: Vec<String>, failed: &mut Option<std::io::Error>| {
        for l in lines {
            if let Err(e) = writeln!(out, "{l}") {
                *failed = Some(e);
                return false;
            }
        }
        true
    };
    let reading = cast::read(path, |ev| {
        match ev {
            Event::Output(_, data) => {
                let mut bytes = data.as_bytes();
                // A screen about to be cleared, or left for a full-screen program: what it
                // shows down to the cursor is printed first (a full-screen program's own
                // screen is printed when it ends).
                while !pane.alt_screen()
                    && let Some((i, len, alt)) = next_clear(bytes)
                {
                    pane.feed(&bytes[..i]);
                    let mut lines = pane.take_scrolled_lines();
                    let shown = pane.screen_lines_to_cursor();
                    if shown.iter().any(|l| !l.is_empty()) {
                        lines.extend(shown);
                    }
                    if !emit(lines, &mut failed) {
                        return false;
                    }
                    if alt {
                        // Cleared, so those lines are not printed again when it ends.
                        pane.feed(b"\x1b[2J\x1b[H");
                    }
                    pane.feed(&bytes[i..i + len]);
                    bytes = &bytes[i + len..];
                }
                let was_alt = pane.alt_screen();
                pane.feed(bytes);
                if !emit(pane.take_scrolled_lines(), &mut failed) {
                    return false;
                }
                if pane.alt_screen() {
                    alt_screen = Some(pane.screen_lines());
                } else if was_alt && let Some(last) = alt_screen.take() {
                    return emit(last, &mut failed);
                }
            }
            Event::Resize(_, c, r) => {
                pane.resize(c, r);
                return emit(pane.take_scrolled_lines(), &mut failed);
            }
            Event::Marker(..) => {}
        }
        true
    });
    if let Some(e) = failed {
        return Err(e);
    }
    let mut last = pane.take_scrolled_lines();
    last.extend(alt_screen.take().unwrap_or_else(|| pane.screen_lines()));
    emit(last, &mut failed);
    match failed {
        Some(e) => Err(e),
        None => Ok(reading.broken),
    }
}

/// The first sequence in `bytes` that clears the screen (`ESC[2J`) or switches to the
/// alternate screen: where it starts, its length, and whether it is the switch.
fn next_clear(bytes: &[u8]) -> Option<(usize, usize, bool)> {
    [
        (&b"\x1b[2J"[..], false),
        (b"\x1b[?1049h", true),
        (b"\x1b[?1047h", true),
        (b"\x1b[?47h", true),
    ]
    .iter()
    .filter_map(|(seq, alt)| {
        bytes
            .windows(seq.len())
            .position(|w| w == *seq)
            .map(|i| (i, seq.len(), *alt))
    })
    .min()
}

/// How `lumen logs play` paces a recording.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pace {
    pub speed: f64,
    /// Pauses longer than this many seconds are cut to it.
    pub idle_limit: Option<f64>,
}

/// Write `path`'s output to `out` as it was timed. Returns where the file broke, if it did.
pub fn play(path: &Path, pace: Pace, out: &mut dyn Write) -> std::io::Result<Option<String>> {
    let speed = if pace.speed.is_finite() && pace.speed > 0.0 {
        pace.speed
    } else {
        1.0
    };
    let mut prev = 0.0f64;
    let mut failed = None;
    let reading = cast::read(path, |ev| {
        let t = ev.time();
        let mut wait = (t - prev).max(0.0);
        prev = t;
        if let Some(limit) = pace.idle_limit {
            wait = wait.min(limit.max(0.0));
        }
        std::thread::sleep(Duration::try_from_secs_f64(wait / speed).unwrap_or(Duration::MAX));
        if let Event::Output(_, data) = ev
            && let Err(e) = out.write_all(data.as_bytes()).and_then(|_| out.flush())
        {
            failed = Some(e);
            return false;
        }
        true
    });
    match failed {
        Some(e) => Err(e),
        None => Ok(reading.broken),
    }
}
