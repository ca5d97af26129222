//! lumen: a keyboard-driven terminal workspace for operations engineers.
//!
//! `main.rs` only parses the command line; everything else lives here so tests can drive it.

pub mod ai;
pub mod app;
pub mod cli;
pub mod panes;
pub mod paths;
pub mod pty;
pub mod record;
pub mod runbook;
pub mod scan;
pub mod server;
pub mod ssh;
pub mod stream;
pub mod term;
pub mod text;
pub mod ui;
pub mod vault;
pub mod workspace;

/// What `lumen --privacy` prints. Keep it true as features arrive.
pub const PRIVACY: &str = include_str!("privacy.txt");
