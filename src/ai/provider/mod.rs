//! Model providers behind one small trait: a streaming chat with tools. Each wire format
//! (Anthropic, OpenAI and compatible servers, Gemini) turns its events into [`ChatEvent`]s.

mod anthropic;
mod error;
mod eventstream;
mod gemini;
mod http;
mod key;
mod openai;
mod sse;
mod status;
mod tools;
mod url;

pub use error::ProviderError;
pub use http::{CONNECT_TIMEOUT, IDLE_TIMEOUT, ProviderSettings, ProxyEnv};
pub use key::{ApiKey, KeySource};
pub use status::{RetryPolicy, parse_retry_after};
pub use tools::{
    PROPOSE_COMMAND, PROPOSE_COMMAND_TOOL, PROPOSE_RUNBOOK, PROPOSE_RUNBOOK_TOOL, ProposeCommand,
    ProposeRunbook, READ_SCROLLBACK, READ_SCROLLBACK_TOOL, ReadScrollback, ToolArgumentsError,
};
pub use url::request_url;

use futures::Stream;
use serde::Deserialize;
use std::pin::Pin;
use std::sync::Arc;

/// Which wire format and which default endpoint a profile talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProviderKind {
    Anthropic,
    #[serde(rename = "openai")]
    OpenAi,
    Gemini,
    Xai,
    #[serde(rename = "openai-compatible")]
    OpenAiCompatible,
}

impl ProviderKind {
    /// The name used in config.toml.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Anthropic => "anthropic",
            Self::OpenAi => "openai",
            Self::Gemini => "gemini",
            Self::Xai => "xai",
            Self::OpenAiCompatible => "openai-compatible",
        }
    }

    /// The public endpoint used when the profile sets no `base_url`; none for
    /// `openai-compatible`, which always names its server.
    pub fn default_base_url(self) -> Option<&'static str> {
        match self {
            Self::Anthropic => Some("https://api.anthropic.com"),
            Self::OpenAi => Some("https://api.openai.com/v1"),
            Self::Gemini => Some("https://generativelanguage.googleapis.com/v1beta"),
            Self::Xai => Some("https://api.x.ai/v1"),
            Self::OpenAiCompatible => None,
        }
    }

    /// Whether requests without a key make sense (local servers such as Ollama take none).
    pub fn key_optional(self) -> bool {
        self == Self::OpenAiCompatible
    }
}

impl std::fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Anthropic => "Anthropic",
            Self::OpenAi => "OpenAI",
            Self::Gemini => "Google Gemini",
            Self::Xai => "xAI",
            Self::OpenAiCompatible => "the OpenAI-compatible server",
        })
    }
}

/// A tool the model may call: its name, what it is for, and a JSON schema of its arguments.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolSpec {
    pub name: String,
    pub description: String,
    pub json_schema: serde_json::Value,
}

/// A tool call, complete: fragments are assembled before it is handed on.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolCall {
    /// The provider's id for the call; the tool result names it.
    pub id: String,
    pub name: String,
    pub arguments: serde_json::Value,
    /// Gemini's opaque thought signature, which must go back with the call; None elsewhere.
    pub signature: Option<String>,
}

/// One turn of the conversation as the providers see it.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    User(String),
    Assistant {
        text: String,
        tool_calls: Vec<ToolCall>,
    },
    ToolResult {
        call_id: String,
        content: String,
    },
}

/// Everything one request sends. Callers build it fresh, already redacted.
///
/// The order is the providers' prompt-cache order: tools, `system` and the stored `messages`
/// are the stable part, byte-identical from one request of a conversation to the next, so a
/// provider's prefix cache can serve them; `context` (the terminal's screen, which changes
/// every time) goes last, in the latest user turn, and is never kept in the conversation.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatRequest {
    pub system: String,
    pub messages: Vec<Message>,
    /// What this request alone carries, sent as the last text of the latest user turn.
    pub context: Option<String>,
    pub tools: Vec<ToolSpec>,
    pub max_tokens: u32,
}

/// Tokens one request used, as the provider counted them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Usage {
    /// Every input token, those read from the provider's prompt cache included.
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// The part of `input_tokens` read from the prompt cache (billed at a discount):
    /// Anthropic's `cache_read_input_tokens`, OpenAI's (and xAI's)
    /// `prompt_tokens_details.cached_tokens`, Gemini's `cachedContentTokenCount`.
    pub cached_input_tokens: u64,
}

/// Why the model stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopReason {
    /// The answer is complete.
    EndTurn,
    /// The model wants tool results before it goes on.
    ToolUse,
    /// `max_tokens` cut the answer short.
    MaxTokens,
    /// The provider would not answer: a refusal, a safety stop, a content filter. The text
    /// says who stopped it and with which reason, for the operator.
    Refused(String),
    /// Anything else the provider said (a content filter, a stop sequence, …).
    Other(String),
}

/// What a running answer yields, in order. `Usage` comes at most once, before `Done`;
/// `Done` is last. `Retrying` tells the pane why nothing arrives yet.
#[derive(Debug, Clone, PartialEq)]
pub enum ChatEvent {
    TextDelta(String),
    ToolCall(ToolCall),
    Usage(Usage),
    Done {
        stop_reason: StopReason,
    },
    Retrying {
        /// The attempt that failed (1 is the first).
        attempt: u32,
        wait: std::time::Duration,
        reason: String,
    },
}

/// A running answer. Dropping it cancels the request and closes the connection.
pub type ChatStream = Pin<Box<dyn Stream<Item = Result<ChatEvent, ProviderError>> + Send>>;

/// A model endpoint that streams answers.
pub trait Provider: Send + Sync {
    /// Start a request. Nothing is sent until the stream is first polled.
    fn stream(&self, request: ChatRequest) -> ChatStream;
    fn kind(&self) -> ProviderKind;
    fn model(&self) -> &str;
}

/// Where and how to reach one provider.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub kind: ProviderKind,
    pub model: String,
    /// The profile's base_url, or the provider's public endpoint when None.
    pub base_url: Option<String>,
    pub key: Option<ApiKey>,
}

/// A provider for `endpoint`, with HTTP settings (timeouts, proxies, CA, retries) applied.
pub fn connect(
    endpoint: Endpoint,
    settings: &ProviderSettings,
) -> Result<Arc<dyn Provider>, ProviderError> {
    let kind = endpoint.kind;
    let url = request_url(&endpoint)?;
    if endpoint.key.is_none() && !kind.key_optional() {
        return Err(ProviderError::NoKey { provider: kind });
    }
    let client = settings.client()?;
    let target = |url: String| http::Target {
        client,
        url,
        base_url: endpoint.base_url.clone(),
        kind,
        model: endpoint.model.clone(),
        key: endpoint.key.clone(),
        retry: settings.retry,
        connect_timeout: settings.connect_timeout,
        idle_timeout: settings.idle_timeout,
    };
    Ok(match kind {
        ProviderKind::Anthropic => Arc::new(anthropic::Anthropic::new(target(url))),
        ProviderKind::Gemini => Arc::new(gemini::Gemini::new(target(url))),
        ProviderKind::OpenAi | ProviderKind::Xai | ProviderKind::OpenAiCompatible => {
            Arc::new(openai::OpenAi::new(target(url)))
        }
    })
}

/// The JSON body `kind` sends for `request` to `model`, byte for byte what [`Provider::stream`]
/// posts (`lumen ai context` shows it without sending it).
pub fn request_body(kind: ProviderKind, model: &str, request: &ChatRequest) -> serde_json::Value {
    match kind {
        ProviderKind::Anthropic => anthropic::request_body(model, request),
        ProviderKind::Gemini => gemini::request_body(request),
        ProviderKind::OpenAi | ProviderKind::Xai | ProviderKind::OpenAiCompatible => {
            openai::request_body(kind, model, request)
        }
    }
}

/// Stop reasons are normalised so that a turn with tool calls always reads as `ToolUse`
/// (some OpenAI-compatible servers say "stop" after calling a tool).
fn normalise_stop(reason: StopReason, called_tools: bool) -> StopReason {
    match reason {
        StopReason::EndTurn if called_tools => StopReason::ToolUse,
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_empty_assistant_turn_is_never_sent() {
        let request = ChatRequest {
            system: String::new(),
            messages: vec![
                Message::User("a".into()),
                Message::Assistant {
                    text: " ".into(),
                    tool_calls: Vec::new(),
                },
                Message::User("b".into()),
            ],
            context: None,
            tools: Vec::new(),
            max_tokens: 10,
        };
        let anthropic = request_body(ProviderKind::Anthropic, "m", &request);
        assert_eq!(
            anthropic["messages"],
            json!([{"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b", "cache_control": {"type": "ephemeral"}}]}])
        );
        let gemini = request_body(ProviderKind::Gemini, "m", &request);
        assert_eq!(
            gemini["contents"],
            json!([{"role": "user", "parts": [{"text": "a"}, {"text": "b"}]}])
        );
        for kind in [
            ProviderKind::OpenAi,
            ProviderKind::Xai,
            ProviderKind::OpenAiCompatible,
        ] {
            let openai = request_body(kind, "m", &request);
            assert_eq!(
                openai["messages"],
                json!([{"role": "user", "content": "a"}, {"role": "user", "content": "b"}])
            );
        }
    }
}
