//! The AI copilot's safety layer, with no UI and no network: shell parsing and risk
//! classification of proposed commands, redaction of everything the model may see, vault
//! placeholders bound to a host and a sink, and prompt-injection helpers.

pub mod inject;
pub mod placeholders;
pub mod redact;
pub mod risk;
pub mod shell;
