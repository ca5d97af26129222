//! The copilot's conversation, without a terminal or a network: a [`Session`] per terminal
//! pane holds what the operator saw (the transcript) and what the model saw (redacted
//! messages), turns model events into proposals, and decides what may run. The approval rules
//! live here, in lumen: a proposal runs only after [`Session::approve`] for that exact
//! command (a High one only with the host's name typed), except Low-risk commands on a host
//! whose policy is `read-only-auto`. The app drives it: it sends the requests the session asks
//! for, types approved commands, and hands back their (redacted) output.

mod capture;
mod context;
mod facts;
mod history;
mod session;

pub use capture::{COMMAND_TIMEOUT, Capture, CaptureState};
pub use context::{
    Built, Context, HostFacts, KEY_LOOKBEHIND, MAX_TOKENS, MESSAGES_HEADING, SYSTEM_HEADING,
    SYSTEM_PROMPT, TOOLS_HEADING, build_request, redact_question, redact_scrollback, trim_lines,
};
pub use facts::{FACTS_COMMAND, FACTS_MAX_OUTPUT, FACTS_TIMEOUT, parse_facts};
pub use history::{
    HistoryQueue, HistoryRecord, append as append_history, history_path, read as read_history,
};
pub use session::{Do, OUTPUT_WITHHELD, Proposal, ProposalState, Session, SessionError};

/// One thing the copilot pane shows, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// What the operator asked.
    User(String),
    /// The model's answer text (streamed in).
    Assistant(String),
    /// A command the model proposed, with lumen's verdict and what became of it.
    Proposal(Box<Proposal>),
    /// What an approved command printed (redacted), as the model will see it.
    Output { command: String, text: String },
    /// What a command that received a vault value printed (redacted), shown to the operator
    /// only: the model was told it was withheld, until the operator releases it.
    Withheld {
        command: String,
        text: String,
        released: bool,
    },
    /// lumen's own note (steps used, a warning about the screen, a stop).
    Notice(String),
    /// A failure the operator can act on (bad key, no route, quota…).
    Error(String),
}
