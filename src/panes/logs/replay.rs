//! A recording replayed in a pane: the cast's output fed into lumen's own terminal emulator
//! at its timing, driven by the app's timer (the pane says when it next wants waking), with
//! pause, seek (±10 s, next/previous marker; back means again from the start, at once) and
//! speed. The last row is the status line.

use crate::panes::terminal::{TerminalConfig, TerminalPane};
use crate::record::cast::{self, Event};
use crate::ui::theme::{Role, Theme};
use crossterm::event::{KeyCode, KeyEvent, MouseEvent};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::widgets::{Paragraph, Widget};
use std::path::Path;
use std::time::{Duration, Instant};

/// How far Left/Right seek, in recorded seconds.
const SEEK_STEP: f64 = 10.0;
/// The speeds `+`/`-` step through.
const SPEEDS: [f64; 5] = [0.5, 1.0, 2.0, 4.0, 8.0];
/// While playing, the status line's clock moves at least this often.
const CLOCK_INTERVAL: Duration = Duration::from_millis(250);
/// `[` from just after a marker goes to the one before it, not back to the same.
const MARKER_SLACK: f64 = 0.5;
/// Scrollback the replaying emulator keeps.
const REPLAY_SCROLLBACK: usize = 10_000;

/// `m:ss` (or `h:mm:ss`) of a number of seconds.
pub fn clock(seconds: f64) -> String {
    let s = seconds.max(0.0) as u64;
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

/// A recording read into memory, for a replay (read off the UI task).
#[derive(Debug)]
pub struct Recording {
    events: Vec<Event>,
    size: (u16, u16),
    broken: Option<String>,
}

impl Recording {
    /// Read `path` up to where it breaks.
    pub fn load(path: &Path) -> Result<Self, String> {
        let mut events = Vec::new();
        let reading = cast::read(path, |ev| {
            events.push(ev);
            true
        });
        let Some(header) = reading.header else {
            return Err(format!(
                "cannot replay {}: {}",
                path.display(),
                reading.broken.unwrap_or_else(|| "empty file".into())
            ));
        };
        Ok(Self {
            events,
            size: (header.width.max(2), header.height.max(1)),
            broken: reading.broken,
        })
    }
}

pub struct ReplayPane {
    title: String,
    events: Vec<Event>,
    size: (u16, u16),
    duration: f64,
    broken: Option<String>,
    term: TerminalPane,
    /// Index of the next event to apply.
    next: usize,
    /// Recorded time played up to.
    pos: f64,
    speed: f64,
    paused: bool,
    /// When `pos` was last moved on by the clock.
    last: Instant,
}

impl ReplayPane {
    /// Start playing `recording` at `now`.
    pub fn new(recording: Recording, title: String, now: Instant) -> Self {
        let Recording {
            events,
            size,
            broken,
        } = recording;
        let duration = events.iter().map(Event::time).fold(0.0, f64::max);
        Self {
            title,
            events,
            size,
            duration,
            broken,
            term: Self::fresh_term(size),
            next: 0,
            pos: 0.0,
            speed: 1.0,
            paused: false,
            last: now,
        }
    }

    fn fresh_term((cols, rows): (u16, u16)) -> TerminalPane {
        TerminalPane::offline(TerminalConfig {
            cols,
            rows,
            scrollback: REPLAY_SCROLLBACK,
        })
    }

    pub fn position(&self) -> f64 {
        self.pos
    }

    pub fn paused(&self) -> bool {
        self.paused
    }

    pub fn speed(&self) -> f64 {
        self.speed
    }

    /// The replayed screen's lines.
    pub fn screen_lines(&self) -> Vec<String> {
        self.term.screen_lines()
    }

    /// Apply every event up to `pos`.
    fn apply_to_pos(&mut self) {
        while let Some(ev) = self.events.get(self.next) {
            if ev.time() > self.pos {
                break;
            }
            match ev {
                Event::Output(_, data) => self.term.feed(data.as_bytes()),
                Event::Resize(_, c, r) => self.term.resize((*c).max(2), (*r).max(1)),
                Event::Marker(..) => {}
            }
            self.next += 1;
        }
    }

    /// Go to `target` seconds: forward by applying what lies between, back by replaying from
    /// the start.
    pub fn seek(&mut self, target: f64, now: Instant) {
        let target = target.clamp(0.0, self.duration);
        if target < self.pos {
            self.term = Self::fresh_term(self.size);
            self.next = 0;
        }
        self.pos = target;
        self.last = now;
        self.apply_to_pos();
    }

    fn ended(&self) -> bool {
        self.pos >= self.duration && self.next >= self.events.len()
    }

    /// Move the clock on to `now`.
    fn advance(&mut self, now: Instant) {
        if !self.paused {
            let played = now.saturating_duration_since(self.last).as_secs_f64() * self.speed;
            self.pos = (self.pos + played).min(self.duration);
            self.apply_to_pos();
        }
        self.last = now;
    }

    /// When the app should next call [`super::super::PaneView::tick`]: the next event's time
    /// or the clock's next step, while playing.
    pub fn wake_at(&self) -> Option<Instant> {
        if self.paused || self.ended() {
            return None;
        }
        let until_event = self
            .events
            .get(self.next)
            .map_or(0.0, |e| (e.time() - self.pos).max(0.0) / self.speed);
        let wait = Duration::from_secs_f64(until_event).min(CLOCK_INTERVAL);
        Some(self.last + wait)
    }

    fn marker_times(&self) -> impl Iterator<Item = f64> + '_ {
        self.events.iter().filter_map(|e| match e {
            Event::Marker(t, _) => Some(*t),
            _ => None,
        })
    }

    pub fn handle_key(&mut self, key: &KeyEvent, now: Instant) -> super::super::Outcome {
        self.advance(now);
        match key.code {
            KeyCode::Char('q') | KeyCode::Esc => return super::super::Outcome::Close,
            KeyCode::Char(' ') => self.paused = !self.paused,
            KeyCode::Left => self.seek(self.pos - SEEK_STEP, now),
            KeyCode::Right => self.seek(self.pos + SEEK_STEP, now),
            KeyCode::Char(']') => {
                let next = self.marker_times().find(|t| *t > self.pos);
                if let Some(t) = next {
                    self.seek(t, now);
                }
            }
            KeyCode::Char('[') => {
                let before = self.pos - MARKER_SLACK;
                let t = self.marker_times().filter(|t| *t < before).last();
                let t = t.unwrap_or(0.0);
                self.seek(t, now);
            }
            KeyCode::Char('+') | KeyCode::Char('=') => {
                self.speed = SPEEDS
                    .iter()
                    .copied()
                    .find(|s| *s > self.speed)
                    .unwrap_or(self.speed);
            }
            KeyCode::Char('-') => {
                self.speed = SPEEDS
                    .iter()
                    .copied()
                    .rev()
                    .find(|s| *s < self.speed)
                    .unwrap_or(self.speed);
            }
            _ => {}
        }
        super::super::Outcome::Done
    }

    /// The status line: time/duration, speed, paused or ended, the keys.
    pub fn status_line(&self) -> String {
        let state = if self.paused {
            "paused"
        } else if self.ended() {
            "ended"
        } else {
            "playing"
        };
        let broken = if self.broken.is_some() {
            " · damaged: plays up to where it breaks"
        } else {
            ""
        };
        format!(
            "{} / {}  {}x  {state}{broken} · space pause · ←→ 10s · [ ] marker · + - speed · q close",
            clock(self.pos),
            clock(self.duration),
            self.speed
        )
    }
}

impl super::super::PaneView for ReplayPane {
    fn render(&self, area: Rect, buf: &mut Buffer, theme: &Theme) {
        if area.is_empty() {
            return;
        }
        let screen = Rect {
            height: area.height - 1,
            ..area
        };
        self.term.render(screen, buf, theme);
        let status = Rect {
            y: area.bottom() - 1,
            height: 1,
            ..area
        };
        Paragraph::new(self.status_line())
            .style(theme.style(Role::Status))
            .render(status, buf);
    }
    fn handle_key(&mut self, key: &KeyEvent) -> super::super::Outcome {
        ReplayPane::handle_key(self, key, Instant::now())
    }
    fn handle_mouse(&mut self, _ev: &MouseEvent) -> super::super::Outcome {
        super::super::Outcome::Done
    }
    fn paste(&mut self, _text: &str) {}
    /// The replay keeps the recording's own size (and its resizes); a smaller pane clips it.
    fn resize(&mut self, _cols: u16, _rows: u16) {}
    fn title(&self) -> Option<&str> {
        Some(&self.title)
    }
    fn cursor(&self) -> Option<(u16, u16)> {
        None
    }
    fn mode(&self) -> Option<&'static str> {
        Some("REPLAY")
    }
    fn tick(&mut self, now: Instant) -> super::super::Outcome {
        self.advance(now);
        super::super::Outcome::Done
    }
    fn wake_at(&self) -> Option<Instant> {
        ReplayPane::wake_at(self)
    }
}
