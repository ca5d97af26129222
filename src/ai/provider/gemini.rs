//! Google Gemini's `streamGenerateContent?alt=sse`: request JSON, and streamed candidates
//! (text and whole `functionCall` parts) to [`ChatEvent`]s.

use super::http::Target;
use super::sse::{Decoder, drive, json};
use super::{
    ChatEvent, ChatRequest, ChatStream, Message, Provider, ProviderError, ProviderKind, StopReason,
    ToolCall, Usage, normalise_stop,
};
use serde_json::{Value, json};

/// Ids lumen makes up for calls that came without one; Gemini never sees them.
const LOCAL_ID_PREFIX: &str = "lumen-call-";

pub(crate) struct Gemini {
    target: Target,
}

impl Gemini {
    pub fn new(target: Target) -> Self {
        Self { target }
    }
}

impl Provider for Gemini {
    fn stream(&self, request: ChatRequest) -> ChatStream {
        let body = request_body(&request);
        // Ids lumen makes up go on counting from the calls already in the conversation, so
        // no two calls in it share one.
        let earlier = request
            .messages
            .iter()
            .map(|m| match m {
                Message::Assistant { tool_calls, .. } => tool_calls.len(),
                _ => 0,
            })
            .sum();
        drive(
            self.target.clone(),
            body.to_string().into(),
            Candidates {
                first_id: earlier,
                ..Candidates::default()
            },
        )
    }

    fn kind(&self) -> ProviderKind {
        ProviderKind::Gemini
    }

    fn model(&self) -> &str {
        &self.target.model
    }
}

/// The request JSON (the model is in the URL). Function responses name their function, so
/// each result looks up the call it answers among the calls of the model turn it follows
/// (ids lumen made up are only unique within a turn in older conversations). A model turn
/// with nothing in it is left out: Gemini refuses a content without parts.
pub(crate) fn request_body(request: &ChatRequest) -> Value {
    let mut turn: &[ToolCall] = &[];
    let mut contents: Vec<(&str, Vec<Value>)> = Vec::new();
    for message in &request.messages {
        let (role, parts) = match message {
            Message::User(text) => ("user", vec![json!({"text": text})]),
            Message::ToolResult { call_id, content } => {
                let name = turn
                    .iter()
                    .find(|c| c.id == *call_id)
                    .map(|c| c.name.clone())
                    .unwrap_or_default();
                let mut response = json!({
                    "name": name,
                    "response": {"result": content},
                });
                if !call_id.starts_with(LOCAL_ID_PREFIX) {
                    response["id"] = json!(call_id);
                }
                ("user", vec![json!({"functionResponse": response})])
            }
            Message::Assistant { text, tool_calls } => {
                turn = tool_calls;
                let mut parts = Vec::new();
                if !text.trim().is_empty() {
                    parts.push(json!({"text": text}));
                }
                for c in tool_calls {
                    let mut call = json!({"name": c.name, "args": c.arguments});
                    if !c.id.starts_with(LOCAL_ID_PREFIX) {
                        call["id"] = json!(c.id);
                    }
                    let mut part = json!({"functionCall": call});
                    if let Some(sig) = &c.signature {
                        part["thoughtSignature"] = json!(sig);
                    }
                    parts.push(part);
                }
                ("model", parts)
            }
        };
        if parts.is_empty() {
            continue;
        }
        match contents.last_mut() {
            Some((last, existing)) if *last == role => existing.extend(parts),
            _ => contents.push((role, parts)),
        }
    }
    // Last, after the stable prefix Gemini caches by itself.
    if let Some(context) = &request.context {
        let part = json!({"text": context});
        match contents.last_mut() {
            Some(("user", parts)) => parts.push(part),
            _ => contents.push(("user", vec![part])),
        }
    }
    let contents: Vec<Value> = contents
        .into_iter()
        .map(|(role, parts)| json!({"role": role, "parts": parts}))
        .collect();
    let mut body = json!({
        "contents": contents,
        "generationConfig": {"maxOutputTokens": request.max_tokens},
    });
    if !request.system.is_empty() {
        body["systemInstruction"] = json!({"parts": [{"text": request.system}]});
    }
    if !request.tools.is_empty() {
        let declarations: Vec<Value> = request
            .tools
            .iter()
            .map(|t| json!({"name": t.name, "description": t.description, "parameters": t.json_schema}))
            .collect();
        body["tools"] = json!([{"functionDeclarations": declarations}]);
    }
    body
}

/// Reads candidate chunks until the server closes the stream after the last one.
#[derive(Default)]
pub(crate) struct Candidates {
    /// The number of the first id made up for a call without one.
    first_id: usize,
    calls: usize,
    usage: Option<Usage>,
    stop: Option<StopReason>,
    done: bool,
}

fn stop_reason(reason: &str) -> StopReason {
    match reason {
        "STOP" => StopReason::EndTurn,
        "MAX_TOKENS" => StopReason::MaxTokens,
        // SAFETY, RECITATION, BLOCKLIST, PROHIBITED_CONTENT, SPII, IMAGE_SAFETY, …: Google's
        // filters withheld the answer.
        filtered
            if ["SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED", "SPII"]
                .iter()
                .any(|w| filtered.contains(w)) =>
        {
            StopReason::Refused(format!(
                "Google Gemini's filters withheld the answer (finishReason \"{filtered}\")"
            ))
        }
        other => StopReason::Other(other.to_string()),
    }
}

impl Decoder for Candidates {
    fn event(
        &mut self,
        _name: &str,
        data: &str,
        out: &mut Vec<ChatEvent>,
    ) -> Result<(), ProviderError> {
        let chunk = json(ProviderKind::Gemini, data)?;
        let stream_error = |message: String| ProviderError::Stream {
            provider: ProviderKind::Gemini,
            message: super::error::quote(&message, None),
        };
        if let Some(error) = chunk.get("error") {
            let message = error
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("unknown error");
            return Err(stream_error(message.to_string()));
        }
        if let Some(reason) = chunk
            .pointer("/promptFeedback/blockReason")
            .and_then(Value::as_str)
        {
            // The question itself was blocked: a refusal, so that the session leaves it out
            // (sent again, it would be blocked again).
            self.stop = Some(StopReason::Refused(format!(
                "Google Gemini blocked the question (promptFeedback blockReason \"{reason}\")"
            )));
            return Ok(());
        }
        if let Some(usage) = chunk.get("usageMetadata") {
            let count = |k: &str| usage.get(k).and_then(Value::as_u64).unwrap_or(0);
            self.usage = Some(Usage {
                input_tokens: count("promptTokenCount"),
                output_tokens: count("candidatesTokenCount") + count("thoughtsTokenCount"),
                cached_input_tokens: count("cachedContentTokenCount"),
            });
        }
        let Some(candidate) = chunk.pointer("/candidates/0") else {
            return Ok(());
        };
        let parts = candidate
            .pointer("/content/parts")
            .and_then(Value::as_array);
        for part in parts.into_iter().flatten() {
            if part.get("thought").and_then(Value::as_bool) == Some(true) {
                continue;
            }
            if let Some(text) = part.get("text").and_then(Value::as_str)
                && !text.is_empty()
            {
                out.push(ChatEvent::TextDelta(text.to_string()));
            }
            if let Some(call) = part.get("functionCall") {
                let name = call.get("name").and_then(Value::as_str).unwrap_or("");
                if name.is_empty() {
                    return Err(ProviderError::Garbage {
                        provider: ProviderKind::Gemini,
                        detail: "a functionCall without a name".into(),
                    });
                }
                let id = call
                    .get("id")
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("{LOCAL_ID_PREFIX}{}", self.first_id + self.calls));
                self.calls += 1;
                out.push(ChatEvent::ToolCall(ToolCall {
                    id,
                    name: name.to_string(),
                    arguments: call.get("args").cloned().unwrap_or_else(|| json!({})),
                    signature: part
                        .get("thoughtSignature")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                }));
            }
        }
        if let Some(reason) = candidate.get("finishReason").and_then(Value::as_str) {
            self.stop = Some(stop_reason(reason));
        }
        Ok(())
    }

    fn end(&mut self, out: &mut Vec<ChatEvent>) -> Result<(), ProviderError> {
        let Some(stop) = self.stop.take() else {
            return Err(ProviderError::EarlyClose {
                provider: ProviderKind::Gemini,
            });
        };
        if let Some(usage) = self.usage.take() {
            out.push(ChatEvent::Usage(usage));
        }
        out.push(ChatEvent::Done {
            stop_reason: normalise_stop(stop, self.calls > 0),
        });
        self.done = true;
        Ok(())
    }

    fn done(&self) -> bool {
        self.done
    }
}
