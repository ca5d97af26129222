//! A frontend with no terminal: frames go into an in-memory screen that anyone holding it can
//! read. Tests and benchmarks run the real event loop over it; the whole-app snapshots are
//! drawn through it.

use crate::app::frontend::{ClientEffect, Flow, Frontend};
use crate::app::msg::Msg;
use crate::app::state::App;
use crate::app::ui;
use crossterm::event::Event;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

/// What a headless frontend is told.
#[derive(Debug)]
pub enum HeadlessEvent {
    /// A key, paste or resize, as from a terminal.
    Input(Event),
    /// The client is gone: the loop ends.
    ClientGone,
}

/// The frames and client effects a headless frontend received, shared with its owner.
#[derive(Debug, Default)]
pub struct Seen {
    /// The last frame drawn, as text, one line per row.
    pub frame: String,
    pub frames: usize,
    /// Client effects, in order (clipboard requests, detach, sessions).
    pub effects: Vec<String>,
}

pub struct Headless {
    terminal: Terminal<TestBackend>,
    events: mpsc::UnboundedReceiver<HeadlessEvent>,
    seen: Arc<Mutex<Seen>>,
}

impl Headless {
    /// A frontend of `w`x`h`, the sender of its events, and what it sees.
    pub fn new(w: u16, h: u16) -> (Self, mpsc::UnboundedSender<HeadlessEvent>, Arc<Mutex<Seen>>) {
        let (tx, events) = mpsc::unbounded_channel();
        let seen = Arc::new(Mutex::new(Seen::default()));
        let terminal = Terminal::new(TestBackend::new(w, h)).unwrap_or_else(|never| match never {});
        (
            Self {
                terminal,
                events,
                seen: seen.clone(),
            },
            tx,
            seen,
        )
    }

    /// Draw `app` once at its own size and return the frame as text.
    pub fn frame(app: &App) -> String {
        let (mut me, _tx, seen) = Self::new(app.size.0, app.size.1);
        let _ = me.draw(app);
        seen.lock().map(|s| s.frame.clone()).unwrap_or_default()
    }
}

impl Frontend for Headless {
    type Event = HeadlessEvent;

    fn events(&mut self) -> &mut mpsc::UnboundedReceiver<HeadlessEvent> {
        &mut self.events
    }

    fn on_event(&mut self, app: &mut App, event: HeadlessEvent) -> anyhow::Result<Flow> {
        Ok(match event {
            HeadlessEvent::Input(ev) => {
                if let Event::Resize(w, h) = ev {
                    self.terminal.backend_mut().resize(w, h);
                }
                Flow::Continue(app.update(Msg::Input(ev)))
            }
            HeadlessEvent::ClientGone => Flow::End,
        })
    }

    fn draw(&mut self, app: &App) -> anyhow::Result<bool> {
        self.terminal.draw(|f| ui::draw(app, f))?;
        let text = self.terminal.backend().to_string();
        if let Ok(mut seen) = self.seen.lock() {
            seen.frame = text;
            seen.frames += 1;
        }
        Ok(true)
    }

    fn client_effect(&mut self, _app: &mut App, effect: ClientEffect) {
        if let Ok(mut seen) = self.seen.lock() {
            let what = match effect {
                ClientEffect::Clipboard(_) => "clipboard".to_string(),
                other => format!("{other:?}"),
            };
            seen.effects.push(what);
        }
    }
}
