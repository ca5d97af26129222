//! OpenAI's chat completions wire format, spoken by OpenAI, xAI and OpenAI-compatible servers
//! (Ollama, llama.cpp, vLLM, LM Studio): request JSON and streamed chunks to events.

use super::http::Target;
use super::sse::{Decoder, drive, json};
use super::{
    ChatEvent, ChatRequest, ChatStream, Message, Provider, ProviderError, ProviderKind, StopReason,
    ToolCall, Usage, normalise_stop,
};
use serde_json::{Value, json};

pub(crate) struct OpenAi {
    target: Target,
}

impl OpenAi {
    pub fn new(target: Target) -> Self {
        Self { target }
    }
}

impl Provider for OpenAi {
    fn stream(&self, request: ChatRequest) -> ChatStream {
        let body = request_body(self.target.kind, &self.target.model, &request);
        drive(
            self.target.clone(),
            body.to_string().into(),
            Chunks::new(self.target.kind),
        )
    }

    fn kind(&self) -> ProviderKind {
        self.target.kind
    }

    fn model(&self) -> &str {
        &self.target.model
    }
}

/// The request JSON, as OpenAI's chat completions reference describes it. An assistant
/// message needs content or tool calls: one with neither is left out.
pub(crate) fn request_body(kind: ProviderKind, model: &str, request: &ChatRequest) -> Value {
    let mut messages = Vec::new();
    if !request.system.is_empty() {
        messages.push(json!({"role": "system", "content": request.system}));
    }
    for message in &request.messages {
        messages.push(match message {
            Message::User(text) => json!({"role": "user", "content": text}),
            Message::Assistant { text, tool_calls }
                if text.trim().is_empty() && tool_calls.is_empty() =>
            {
                continue;
            }
            Message::Assistant { text, tool_calls } => {
                let mut m = json!({
                    "role": "assistant",
                    "content": if text.trim().is_empty() { Value::Null } else { json!(text) },
                });
                if !tool_calls.is_empty() {
                    m["tool_calls"] = tool_calls
                        .iter()
                        .map(|c| {
                            json!({
                                "id": c.id,
                                "type": "function",
                                "function": {"name": c.name, "arguments": c.arguments.to_string()},
                            })
                        })
                        .collect();
                }
                m
            }
            Message::ToolResult { call_id, content } => {
                json!({"role": "tool", "tool_call_id": call_id, "content": content})
            }
        });
    }
    // Last, after the stable prefix OpenAI caches by itself.
    if let Some(context) = &request.context {
        messages.push(json!({"role": "user", "content": context}));
    }
    let mut body = json!({
        "model": model,
        "messages": messages,
        "stream": true,
        "stream_options": {"include_usage": true},
    });
    // OpenAI replaced max_tokens with max_completion_tokens (reasoning models refuse the
    // old name); xAI and local servers know max_tokens.
    let limit = if kind == ProviderKind::OpenAi {
        "max_completion_tokens"
    } else {
        "max_tokens"
    };
    body[limit] = json!(request.max_tokens);
    if !request.tools.is_empty() {
        body["tools"] = request
            .tools
            .iter()
            .map(|t| {
                json!({
                    "type": "function",
                    "function": {
                        "name": t.name,
                        "description": t.description,
                        "parameters": t.json_schema,
                    },
                })
            })
            .collect();
    }
    body
}

/// A tool call still arriving in fragments.
struct Partial {
    index: Option<u64>,
    id: String,
    name: String,
    arguments: String,
}

impl Partial {
    fn complete_json(&self) -> bool {
        serde_json::from_str::<Value>(&self.arguments).is_ok()
    }
}

/// Reads `chat.completion.chunk`s until `[DONE]`.
pub(crate) struct Chunks {
    kind: ProviderKind,
    calls: Vec<Partial>,
    emitted_calls: usize,
    stop: Option<StopReason>,
    /// The model's words of refusal (`delta.refusal`), when it refused.
    refusal: String,
    usage: Option<Usage>,
    done: bool,
}

impl Chunks {
    pub fn new(kind: ProviderKind) -> Self {
        Self {
            kind,
            calls: Vec::new(),
            emitted_calls: 0,
            stop: None,
            refusal: String::new(),
            usage: None,
            done: false,
        }
    }

    /// Add one `delta.tool_calls` entry. OpenAI sends a call's id and name first and then
    /// argument fragments under the same index; some compatible servers reuse an index for
    /// the next call, or send each whole call in one entry, with or without an index.
    fn fragment(&mut self, entry: &Value) {
        let index = entry.get("index").and_then(Value::as_u64);
        let id = entry
            .get("id")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty());
        let function = entry.get("function");
        let name = function
            .and_then(|f| f.get("name"))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty());
        let arguments = match function.and_then(|f| f.get("arguments")) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Null) | None => String::new(),
            Some(other) => other.to_string(),
        };
        let open = self.calls[self.emitted_calls..]
            .iter()
            .rposition(|c| c.index == index)
            .map(|i| i + self.emitted_calls);
        let continues = open.is_some_and(|i| {
            let call = &self.calls[i];
            match id {
                Some(id) => call.id == id,
                None => name.is_none() || call.name.is_empty() || !call.complete_json(),
            }
        });
        match open {
            Some(i) if continues => {
                let call = &mut self.calls[i];
                if call.name.is_empty()
                    && let Some(name) = name
                {
                    call.name = name.to_string();
                }
                call.arguments.push_str(&arguments);
            }
            _ => {
                let n = self.calls.len();
                self.calls.push(Partial {
                    index,
                    id: id
                        .map(str::to_string)
                        .unwrap_or_else(|| format!("call_{n}")),
                    name: name.unwrap_or_default().to_string(),
                    arguments,
                });
            }
        }
    }

    /// Hand on every call assembled so far, arguments parsed.
    fn flush_calls(&mut self, out: &mut Vec<ChatEvent>) -> Result<(), ProviderError> {
        for call in &self.calls[self.emitted_calls..] {
            let arguments = if call.arguments.trim().is_empty() {
                json!({})
            } else {
                serde_json::from_str(&call.arguments).map_err(|e| ProviderError::Garbage {
                    provider: self.kind,
                    detail: format!(
                        "the arguments of its call to {} are not JSON ({e})",
                        call.name
                    ),
                })?
            };
            if call.name.is_empty() {
                return Err(ProviderError::Garbage {
                    provider: self.kind,
                    detail: "a tool call has no name".into(),
                });
            }
            out.push(ChatEvent::ToolCall(ToolCall {
                id: call.id.clone(),
                name: call.name.clone(),
                arguments,
                signature: None,
            }));
        }
        self.emitted_calls = self.calls.len();
        Ok(())
    }

    fn finish(&mut self, out: &mut Vec<ChatEvent>) -> Result<(), ProviderError> {
        self.flush_calls(out)?;
        if let Some(usage) = self.usage.take() {
            out.push(ChatEvent::Usage(usage));
        }
        let mut stop = self.stop.take().unwrap_or(StopReason::EndTurn);
        if !self.refusal.trim().is_empty() {
            stop = StopReason::Refused(format!(
                "{} refused to answer: \"{}\"",
                self.kind,
                super::error::quote(&self.refusal, None)
            ));
        } else if stop == StopReason::Other("content_filter".into()) {
            stop = StopReason::Refused(format!(
                "{}'s content filter withheld the answer (finish_reason \"content_filter\")",
                self.kind
            ));
        }
        out.push(ChatEvent::Done {
            stop_reason: normalise_stop(stop, !self.calls.is_empty()),
        });
        self.done = true;
        Ok(())
    }
}

fn stop_reason(reason: &str) -> StopReason {
    match reason {
        "stop" => StopReason::EndTurn,
        "tool_calls" | "function_call" => StopReason::ToolUse,
        "length" => StopReason::MaxTokens,
        other => StopReason::Other(other.to_string()),
    }
}

impl Decoder for Chunks {
    fn event(
        &mut self,
        _name: &str,
        data: &str,
        out: &mut Vec<ChatEvent>,
    ) -> Result<(), ProviderError> {
        if data.trim() == "[DONE]" {
            return self.finish(out);
        }
        let chunk = json(self.kind, data)?;
        if let Some(error) = chunk.get("error") {
            let message = error
                .get("message")
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| error.to_string());
            return Err(ProviderError::Stream {
                provider: self.kind,
                message: super::error::quote(&message, None),
            });
        }
        if let Some(usage) = chunk.get("usage").filter(|u| u.is_object()) {
            let count = |k: &str| usage.get(k).and_then(Value::as_u64).unwrap_or(0);
            self.usage = Some(Usage {
                input_tokens: count("prompt_tokens"),
                output_tokens: count("completion_tokens"),
                cached_input_tokens: usage
                    .pointer("/prompt_tokens_details/cached_tokens")
                    .and_then(Value::as_u64)
                    .unwrap_or(0),
            });
        }
        let Some(choice) = chunk.pointer("/choices/0") else {
            return Ok(());
        };
        if let Some(text) = choice.pointer("/delta/content").and_then(Value::as_str)
            && !text.is_empty()
        {
            out.push(ChatEvent::TextDelta(text.to_string()));
        }
        if let Some(refusal) = choice.pointer("/delta/refusal").and_then(Value::as_str)
            && self.refusal.len() < super::error::MAX_QUOTED * 4
        {
            self.refusal.push_str(refusal);
        }
        if let Some(entries) = choice
            .pointer("/delta/tool_calls")
            .and_then(Value::as_array)
        {
            for entry in entries {
                self.fragment(entry);
            }
        }
        if let Some(reason) = choice.get("finish_reason").and_then(Value::as_str) {
            self.stop = Some(stop_reason(reason));
            self.flush_calls(out)?;
        }
        Ok(())
    }

    fn end(&mut self, out: &mut Vec<ChatEvent>) -> Result<(), ProviderError> {
        // A server that said why it stopped but closed without [DONE] did finish its answer.
        if self.stop.is_some() {
            return self.finish(out);
        }
        Err(ProviderError::EarlyClose {
            provider: self.kind,
        })
    }

    fn done(&self) -> bool {
        self.done
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(events: &[&str]) -> Vec<ChatEvent> {
        let mut d = Chunks::new(ProviderKind::OpenAiCompatible);
        let mut out = Vec::new();
        for e in events {
            d.event("message", e, &mut out).unwrap();
        }
        out
    }

    fn calls(out: &[ChatEvent]) -> Vec<(String, String, Value)> {
        out.iter()
            .filter_map(|e| match e {
                ChatEvent::ToolCall(c) => Some((c.id.clone(), c.name.clone(), c.arguments.clone())),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn whole_calls_reusing_index_zero_stay_apart() {
        let out = feed(&[
            r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"id":"a","function":{"name":"f","arguments":"{\"x\":1}"}}]}}]}"#,
            r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"id":"b","function":{"name":"g","arguments":"{\"y\":2}"}}]},"finish_reason":"stop"}]}"#,
            "[DONE]",
        ]);
        assert_eq!(
            calls(&out),
            vec![
                ("a".into(), "f".into(), json!({"x": 1})),
                ("b".into(), "g".into(), json!({"y": 2}))
            ]
        );
        assert_eq!(
            out.last(),
            Some(&ChatEvent::Done {
                stop_reason: StopReason::ToolUse
            })
        );
    }

    #[test]
    fn calls_without_index_or_id_are_told_apart_by_complete_arguments() {
        let out = feed(&[
            r#"{"choices":[{"delta":{"tool_calls":[{"function":{"name":"f","arguments":{"x":1}}},{"function":{"name":"g","arguments":"{}"}}]},"finish_reason":"tool_calls"}]}"#,
            "[DONE]",
        ]);
        assert_eq!(
            calls(&out),
            vec![
                ("call_0".into(), "f".into(), json!({"x": 1})),
                ("call_1".into(), "g".into(), json!({}))
            ]
        );
    }
}
