//! ssh (filled in by its issue).

pub mod config;
