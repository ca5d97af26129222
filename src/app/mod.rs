//! The application: `App`, messages and actions, the event loop, keymap, focus, tab/split
//! layout, palette, status bar, config and theme loading.

pub mod theme;
