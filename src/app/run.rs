//! The event loop: one task owns the `App`. Every source (SSH questions, vault requests,
//! background results) sends a [`Msg`] on one bus; the frontend (the terminal in-process, or
//! the server's clients) has its own events; pane bytes come through their own bounded
//! channels and wake the loop. Each turn drains messages, pumps the panes within a byte
//! budget, carries out effects, and has the frontend draw at most once per frame.

use crate::app::effects;
use crate::app::frontend::{Flow, Frontend};
use crate::app::msg::{Bus, Effect, Msg};
use crate::app::state::App;
use crate::stream::Waker;
use std::time::{Duration, Instant};

pub use crate::app::setup::{RunOptions, SSH_FAILED, init_logging, load_settings};

/// The shortest time between two frames (~60 per second).
pub const FRAME_INTERVAL: Duration = Duration::from_millis(16);
/// Messages applied per turn before the loop pumps panes and draws.
const MAX_MESSAGES_PER_TURN: usize = 256;

/// Wait for something, apply every message and frontend event that is ready, parse the panes'
/// output within its budget, carry out effects, and draw at most once per frame. Messages and
/// keys are taken every turn, however busy the panes are. Returns when the app quits, the
/// frontend ends the session, or every sender of the bus is gone.
pub async fn event_loop<F: Frontend>(
    app: &mut App,
    frontend: &mut F,
    inbox: &mut tokio::sync::mpsc::UnboundedReceiver<Msg>,
    waker: &Waker,
    bus: &Bus,
) -> anyhow::Result<()> {
    let mut last_draw = Instant::now() - FRAME_INTERVAL;
    let mut pending = false;
    loop {
        if !pending {
            let frame_due = app.dirty.then(|| last_draw + FRAME_INTERVAL);
            let deadline = [frame_due, app.next_deadline()].into_iter().flatten().min();
            let sleep = async {
                match deadline {
                    Some(d) => tokio::time::sleep_until(d.into()).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                msg = inbox.recv() => match msg {
                    Some(msg) => apply(app, frontend, app_update(msg), bus),
                    None => return Ok(()),
                },
                event = frontend.events().recv() => {
                    if let Some(event) = event
                        && !on_event(app, frontend, event, bus)?
                    {
                        return Ok(());
                    }
                }
                _ = waker.woken() => {}
                _ = sleep => {}
            }
        }
        for _ in 0..MAX_MESSAGES_PER_TURN {
            let Ok(event) = frontend.events().try_recv() else {
                break;
            };
            if !on_event(app, frontend, event, bus)? {
                return Ok(());
            }
        }
        for _ in 0..MAX_MESSAGES_PER_TURN {
            let Ok(msg) = inbox.try_recv() else { break };
            apply(app, frontend, app_update(msg), bus);
        }
        pending = app.pump();
        app.tick(Instant::now());
        let effects = app.take_effects();
        apply(app, frontend, |_| effects, bus);
        if app.quit {
            return Ok(());
        }
        // A keystroke's echo is drawn at once; everything else at most once a frame.
        let echo = app.take_echo_frame();
        if app.dirty && (echo || last_draw.elapsed() >= FRAME_INTERVAL) {
            let delivered = frontend.draw(app)?;
            // Debug builds only: lets a test prove the terminal is restored after a panic.
            #[cfg(debug_assertions)]
            if std::env::var_os("LUMEN_DEBUG_PANIC").is_some() {
                panic!("LUMEN_DEBUG_PANIC is set: panicking on purpose after the first frame");
            }
            // A client that could not take the frame gets the newest one later.
            app.dirty = !delivered;
            last_draw = Instant::now();
        }
        if pending {
            tokio::task::yield_now().await;
        }
    }
}

fn app_update(msg: Msg) -> impl FnOnce(&mut App) -> Vec<Effect> {
    move |app| app.update(msg)
}

/// Run `f` on the app and carry out the effects it returns.
fn apply<F: Frontend>(
    app: &mut App,
    frontend: &mut F,
    f: impl FnOnce(&mut App) -> Vec<Effect>,
    bus: &Bus,
) {
    for effect in f(app) {
        if let Some(client) = effects::apply(effect, bus) {
            frontend.client_effect(app, client);
        }
    }
}

/// One frontend event; false when the session must end now.
fn on_event<F: Frontend>(
    app: &mut App,
    frontend: &mut F,
    event: F::Event,
    bus: &Bus,
) -> anyhow::Result<bool> {
    match frontend.on_event(app, event)? {
        Flow::End => Ok(false),
        Flow::Continue(effects) => {
            apply(app, frontend, |_| effects, bus);
            Ok(true)
        }
    }
}
