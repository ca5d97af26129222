//! The AI copilot's domain, with no terminal drawing here: model providers behind one
//! streaming trait, the `[ai]` config and the scripted demo model; and the safety layer, with
//! no network: shell parsing and risk classification of proposed commands, redaction of
//! everything the model may see, vault placeholders bound to a host and a sink, and
//! prompt-injection helpers.

pub mod config;
pub mod copilot;
pub mod demo;
pub mod inject;
pub mod placeholders;
pub mod provider;
pub mod redact;
pub mod risk;
pub mod shell;
