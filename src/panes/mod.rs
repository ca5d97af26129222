//! Panes: the `Pane` enum and one module per kind of pane.

pub mod terminal;
pub mod vault;
