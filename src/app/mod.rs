//! The application: `App`, actions, the event loop, keymap, focus, tab/split layout, palette,
//! status bar, config and theme loading.

pub mod actions;
pub mod broadcast;
pub mod config;
pub mod hosts;
pub mod input;
pub mod keymap;
pub mod layout;
pub mod popup;
pub mod prompt;
pub mod run;
pub mod state;
pub mod theme;
pub mod ui;
pub mod vault;

pub use run::{RunOptions, run, run_async};
pub use state::{App, AppOptions, PaneSpec, Spawner};
