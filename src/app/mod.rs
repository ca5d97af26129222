//! The application: `App`, actions, the event loop, keymap, focus, tab/split layout, palette,
//! status bar, config and theme loading.

pub mod config;
pub mod keymap;
pub mod layout;
pub mod popup;
pub mod run;
pub mod state;
pub mod theme;
pub mod ui;

pub use run::{RunOptions, run};
pub use state::{App, AppOptions, PaneSpec, Spawner};
