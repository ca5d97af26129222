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
pub use history::{HistoryRecord, append as append_history, history_path, read as read_history};
pub use session::{Do, OUTPUT_WITHHELD, Proposal, ProposalState, Session, SessionError};

use serde::{Deserialize, Serialize};

/// What the copilot may do on a host (`ai = …` in hosts.toml, per host or group).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AiPolicy {
    /// Low-risk commands run without a keystroke and are listed; Medium and High still ask.
    ReadOnlyAuto,
    /// Every command needs the operator's keystroke (the default).
    Ask,
    /// Nothing from this host is ever sent to a model.
    Off,
}

impl AiPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            AiPolicy::ReadOnlyAuto => "read-only-auto",
            AiPolicy::Ask => "ask",
            AiPolicy::Off => "off",
        }
    }

    /// A host's policy: its own setting wins; else the strictest of its groups'; else ask.
    pub fn effective(own: Option<AiPolicy>, groups: impl IntoIterator<Item = AiPolicy>) -> Self {
        own.or_else(|| groups.into_iter().max())
            .unwrap_or(AiPolicy::Ask)
    }
}

impl std::str::FromStr for AiPolicy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "ask" => Ok(AiPolicy::Ask),
            "read-only-auto" => Ok(AiPolicy::ReadOnlyAuto),
            "off" => Ok(AiPolicy::Off),
            other => Err(format!(
                "ai = {other:?}: use \"ask\", \"read-only-auto\" or \"off\""
            )),
        }
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_host_wins_then_strictest_group() {
        use AiPolicy::*;
        assert_eq!(AiPolicy::effective(None, []), Ask);
        assert_eq!(AiPolicy::effective(None, [ReadOnlyAuto, Off]), Off);
        assert_eq!(AiPolicy::effective(Some(ReadOnlyAuto), [Off]), ReadOnlyAuto);
        assert_eq!("read-only-auto".parse(), Ok(ReadOnlyAuto));
        assert!("auto".parse::<AiPolicy>().is_err());
    }
}
