//! The AI copilot's domain: model providers behind one streaming trait, the `[ai]` config, and
//! the scripted demo model. No terminal drawing here.

pub mod config;
pub mod demo;
pub mod provider;
