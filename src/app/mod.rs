//! The application: `App`, actions, the event loop, keymap, focus, tab/split layout, palette,
//! status bar, config and theme loading.

pub mod actions;
pub mod ai_jobs;
mod approval;
pub mod broadcast;
mod clipboard;
pub mod config;
pub mod copilot;
pub mod cred_test;
pub mod disk;
mod effects;
pub mod frontend;
pub mod headless;
pub mod hosts;
pub mod input;
pub mod keymap;
pub mod layers;
pub mod layout;
mod logs;
pub mod msg;
pub mod popup;
pub mod prompt;
mod pump;
mod recording;
pub mod run;
pub mod runbooks;
pub mod scan_job;
mod scans;
pub mod setup;
mod spawner;
pub mod state;
mod tabs;
pub mod ui;
mod update;
pub mod vault;

pub use frontend::{ClientEffect, ClipboardRequest, Flow, Frontend};
pub use msg::{AsyncTask, Bus, Effect, Msg, Task};
pub use run::event_loop;
pub use setup::{RunOptions, SSH_FAILED, World};
pub use spawner::LiveSpawner;
pub use state::{App, AppOptions, PaneSpec, Spawner};
