//! Carrying out the app's background effects: tasks whose results come back as messages on
//! the bus. Effects meant for a client (clipboard, detach) go to the frontend instead.

use crate::app::msg::{Bus, Effect};

/// Carry out one background effect; a client's effect is handed back.
pub(crate) fn apply(effect: Effect, bus: &Bus) -> Option<crate::app::frontend::ClientEffect> {
    match effect {
        Effect::Client(effect) => return Some(effect),
        Effect::Ai(job) => {
            tokio::spawn(job.report_to(bus.clone()));
        }
        Effect::Spawn(task) => {
            let bus = bus.clone();
            tokio::task::spawn_blocking(move || {
                bus.send((*task).run_blocking());
            });
        }
        Effect::SpawnAsync(task) => {
            tokio::spawn((*task).run(bus.clone()));
        }
    }
    None
}
