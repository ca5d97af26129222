//! Anthropic's Messages API: request JSON, and its streamed events (text, `tool_use` blocks
//! assembled from `input_json_delta` fragments, usage, errors) to [`ChatEvent`]s.

use super::http::Target;
use super::sse::{Decoder, drive, json};
use super::{
    ChatEvent, ChatRequest, ChatStream, Message, Provider, ProviderError, ProviderKind, StopReason,
    ToolCall, Usage, normalise_stop,
};
use serde_json::{Value, json};
use std::collections::BTreeMap;

pub(crate) struct Anthropic {
    target: Target,
}

impl Anthropic {
    pub fn new(target: Target) -> Self {
        Self { target }
    }
}

impl Provider for Anthropic {
    fn stream(&self, request: ChatRequest) -> ChatStream {
        let body = request_body(&self.target.model, &request);
        drive(
            self.target.clone(),
            body.to_string().into(),
            Events::default(),
        )
    }

    fn kind(&self) -> ProviderKind {
        ProviderKind::Anthropic
    }

    fn model(&self) -> &str {
        &self.target.model
    }
}

/// Anthropic's mark for "cache the prompt up to and including this block".
fn cache_mark() -> Value {
    json!({"type": "ephemeral"})
}

/// The request JSON. Roles must alternate, so tool results and the user's next words share
/// one user message (results first, as the API asks). An assistant turn with nothing in it
/// is left out: the API refuses empty content (and blank text blocks).
///
/// Prompt caching: the system text (after the tools, which come first in Anthropic's cache
/// order) and the last block of the stored conversation carry `cache_control`, so the next
/// request reads both from the cache; the request's `context` (the screen) follows, uncached.
/// Two of the four breakpoints the API allows.
pub(crate) fn request_body(model: &str, request: &ChatRequest) -> Value {
    let mut messages: Vec<(&str, Vec<Value>)> = Vec::new();
    let mut add = |role, blocks: Vec<Value>| match messages.last_mut() {
        Some((last, existing)) if *last == role => existing.extend(blocks),
        _ if blocks.is_empty() => {}
        _ => messages.push((role, blocks)),
    };
    for message in &request.messages {
        let (role, blocks) = match message {
            Message::User(text) => ("user", vec![json!({"type": "text", "text": text})]),
            Message::ToolResult { call_id, content } => (
                "user",
                vec![json!({"type": "tool_result", "tool_use_id": call_id, "content": content})],
            ),
            Message::Assistant { text, tool_calls } => {
                let mut blocks = Vec::new();
                if !text.trim().is_empty() {
                    blocks.push(json!({"type": "text", "text": text}));
                }
                for c in tool_calls {
                    blocks.push(
                        json!({"type": "tool_use", "id": c.id, "name": c.name, "input": c.arguments}),
                    );
                }
                ("assistant", blocks)
            }
        };
        add(role, blocks);
    }
    if let Some(block) = messages
        .last_mut()
        .and_then(|(_, blocks)| blocks.last_mut())
    {
        block["cache_control"] = cache_mark();
    }
    if let Some(context) = &request.context {
        let block = json!({"type": "text", "text": context});
        match messages.last_mut() {
            Some(("user", blocks)) => blocks.push(block),
            _ => messages.push(("user", vec![block])),
        }
    }
    let messages: Vec<Value> = messages
        .into_iter()
        .map(|(role, blocks)| match blocks.as_slice() {
            // A lone unmarked text block is sent the short way.
            [only] if only["type"] == "text" && only.get("cache_control").is_none() => {
                json!({"role": role, "content": only["text"]})
            }
            _ => json!({"role": role, "content": blocks}),
        })
        .collect();
    let mut body = json!({
        "model": model,
        "max_tokens": request.max_tokens,
        "messages": messages,
        "stream": true,
    });
    if !request.system.is_empty() {
        body["system"] =
            json!([{"type": "text", "text": request.system, "cache_control": cache_mark()}]);
    }
    if !request.tools.is_empty() {
        body["tools"] = request
            .tools
            .iter()
            .map(|t| json!({"name": t.name, "description": t.description, "input_schema": t.json_schema}))
            .collect();
    }
    body
}

/// A `tool_use` block whose input is still arriving.
struct OpenTool {
    id: String,
    name: String,
    json: String,
}

/// Reads events until `message_stop`.
#[derive(Default)]
pub(crate) struct Events {
    tools: BTreeMap<u64, OpenTool>,
    called_tools: bool,
    input_tokens: u64,
    output_tokens: u64,
    cached_input_tokens: u64,
    stop: Option<StopReason>,
    done: bool,
}

impl Events {
    fn garbage(detail: impl Into<String>) -> ProviderError {
        ProviderError::Garbage {
            provider: ProviderKind::Anthropic,
            detail: detail.into(),
        }
    }
}

fn stop_reason(reason: &str) -> StopReason {
    match reason {
        "end_turn" | "stop_sequence" => StopReason::EndTurn,
        "tool_use" => StopReason::ToolUse,
        "max_tokens" => StopReason::MaxTokens,
        "refusal" => {
            StopReason::Refused("Anthropic refused to answer (stop_reason \"refusal\")".into())
        }
        other => StopReason::Other(other.to_string()),
    }
}

impl Decoder for Events {
    fn event(
        &mut self,
        _name: &str,
        data: &str,
        out: &mut Vec<ChatEvent>,
    ) -> Result<(), ProviderError> {
        let event = json(ProviderKind::Anthropic, data)?;
        let index = event.get("index").and_then(Value::as_u64).unwrap_or(0);
        let text =
            |v: &Value, key: &str| v.get(key).and_then(Value::as_str).unwrap_or("").to_string();
        match event.get("type").and_then(Value::as_str).unwrap_or("") {
            "message_start" => {
                let usage = event.pointer("/message/usage");
                let count = |k: &str| {
                    usage
                        .and_then(|u| u.get(k))
                        .and_then(Value::as_u64)
                        .unwrap_or(0)
                };
                self.input_tokens = count("input_tokens")
                    + count("cache_creation_input_tokens")
                    + count("cache_read_input_tokens");
                self.cached_input_tokens = count("cache_read_input_tokens");
                self.output_tokens = count("output_tokens");
            }
            "content_block_start" => {
                let block = event.get("content_block").cloned().unwrap_or_default();
                match block.get("type").and_then(Value::as_str) {
                    Some("text") => {
                        let t = text(&block, "text");
                        if !t.is_empty() {
                            out.push(ChatEvent::TextDelta(t));
                        }
                    }
                    Some("tool_use") => {
                        let tool = OpenTool {
                            id: text(&block, "id"),
                            name: text(&block, "name"),
                            json: String::new(),
                        };
                        if tool.id.is_empty() || tool.name.is_empty() {
                            return Err(Self::garbage("a tool_use block without id or name"));
                        }
                        self.tools.insert(index, tool);
                    }
                    _ => {}
                }
            }
            "content_block_delta" => {
                let delta = event.get("delta").cloned().unwrap_or_default();
                match delta.get("type").and_then(Value::as_str) {
                    Some("text_delta") => {
                        let t = text(&delta, "text");
                        if !t.is_empty() {
                            out.push(ChatEvent::TextDelta(t));
                        }
                    }
                    Some("input_json_delta") => {
                        let tool = self.tools.get_mut(&index).ok_or_else(|| {
                            Self::garbage("input_json_delta for a block that is not a tool_use")
                        })?;
                        tool.json.push_str(&text(&delta, "partial_json"));
                    }
                    // thinking and signature deltas are not shown.
                    _ => {}
                }
            }
            "content_block_stop" => {
                if let Some(tool) = self.tools.remove(&index) {
                    let arguments = if tool.json.trim().is_empty() {
                        json!({})
                    } else {
                        serde_json::from_str(&tool.json).map_err(|e| {
                            Self::garbage(format!(
                                "the input of its call to {} is not JSON ({e})",
                                tool.name
                            ))
                        })?
                    };
                    self.called_tools = true;
                    out.push(ChatEvent::ToolCall(ToolCall {
                        id: tool.id,
                        name: tool.name,
                        arguments,
                        signature: None,
                    }));
                }
            }
            "message_delta" => {
                if let Some(reason) = event.pointer("/delta/stop_reason").and_then(Value::as_str) {
                    self.stop = Some(stop_reason(reason));
                }
                if let Some(n) = event
                    .pointer("/usage/output_tokens")
                    .and_then(Value::as_u64)
                {
                    self.output_tokens = n;
                }
            }
            "message_stop" => {
                out.push(ChatEvent::Usage(Usage {
                    input_tokens: self.input_tokens,
                    output_tokens: self.output_tokens,
                    cached_input_tokens: self.cached_input_tokens,
                }));
                let stop = self.stop.take().unwrap_or(StopReason::EndTurn);
                out.push(ChatEvent::Done {
                    stop_reason: normalise_stop(stop, self.called_tools),
                });
                self.done = true;
            }
            "error" => {
                let kind = event
                    .pointer("/error/type")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                let message = event
                    .pointer("/error/message")
                    .and_then(Value::as_str)
                    .unwrap_or(kind);
                return Err(if kind == "overloaded_error" {
                    ProviderError::Overloaded {
                        provider: ProviderKind::Anthropic,
                        retry_after: None,
                        attempts: 1,
                    }
                } else {
                    ProviderError::Stream {
                        provider: ProviderKind::Anthropic,
                        message: super::error::quote(message, None),
                    }
                });
            }
            // ping, and event types added after this was written
            _ => {}
        }
        Ok(())
    }

    fn end(&mut self, _out: &mut Vec<ChatEvent>) -> Result<(), ProviderError> {
        Err(ProviderError::EarlyClose {
            provider: ProviderKind::Anthropic,
        })
    }

    fn done(&self) -> bool {
        self.done
    }
}
