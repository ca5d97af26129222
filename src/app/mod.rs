//! The application: `App`, actions, the event loop, keymap, focus, tab/split layout, palette,
//! status bar, config and theme loading.

pub mod actions;
pub mod ai_jobs;
mod approval;
pub mod broadcast;
mod clipboard;
pub mod config;
pub mod copilot;
pub mod disk;
mod effects;
pub mod hosts;
pub mod input;
pub mod keymap;
pub mod layers;
pub mod layout;
pub mod msg;
pub mod popup;
pub mod prompt;
mod pump;
pub mod run;
pub mod scan_job;
mod scans;
mod spawner;
pub mod state;
mod tabs;
mod terminal;
pub mod ui;
mod update;
pub mod vault;

pub use msg::{AsyncTask, Bus, Effect, Msg, Task};
pub use run::{RunOptions, SSH_FAILED, run, run_async};
pub use spawner::LiveSpawner;
pub use state::{App, AppOptions, PaneSpec, Spawner};
pub use terminal::restore_terminal;
