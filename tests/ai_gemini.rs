//! Google Gemini's `streamGenerateContent?alt=sse` against a fake on loopback: the exact
//! request (key in its header, never in the URL), text and function calls, errors.
#![allow(clippy::unwrap_used)]

mod common;

use common::fake_ai::*;
use lumen::ai::provider::{
    ChatEvent, ChatRequest, Message, PROPOSE_COMMAND, ProviderError, ProviderKind, READ_SCROLLBACK,
    StopReason, ToolCall, Usage,
};
use serde_json::{Value, json};

const KEY: &str = "AIza-test-key-0003";
const MODEL: &str = "gemini-2.5-flash";

/// Gemini frames events with CRLF.
fn gemini_events(chunks: &[Value]) -> String {
    chunks
        .iter()
        .map(|c| format!("data: {c}\r\n\r\n"))
        .collect()
}

fn answer() -> String {
    gemini_events(&[
        json!({"candidates":[{"content":{"parts":[{"text":"Der Datenträger ist zu 98 % "}],"role":"model"},"index":0}],
               "usageMetadata":{"promptTokenCount":300,"candidatesTokenCount":5,"totalTokenCount":305},"modelVersion":MODEL}),
        json!({"candidates":[{"content":{"parts":[{"text":"belegt — aufräumen? 🧹"}],"role":"model"},"index":0}],
               "usageMetadata":{"promptTokenCount":300,"candidatesTokenCount":11,"totalTokenCount":311},"modelVersion":MODEL}),
        json!({"candidates":[{"content":{"parts":[
                  {"functionCall":{"name":"propose_command","args":{"command":"journalctl --vacuum-size=200M","explanation":"Logs kürzen"}},
                   "thoughtSignature":"c2lnLTE="}],"role":"model"},
               "finishReason":"STOP","index":0}],
               "usageMetadata":{"promptTokenCount":300,"cachedContentTokenCount":256,"candidatesTokenCount":40,"thoughtsTokenCount":12,"totalTokenCount":352},"modelVersion":MODEL}),
    ])
}

#[tokio::test]
async fn text_and_function_calls_stream_and_the_request_is_the_documented_one() {
    let fake = FakeServer::start(vec![Reply::sse(&answer()).split_every(6)]).await;
    let p = provider(
        ProviderKind::Gemini,
        &format!("{}/v1beta", fake.url()),
        MODEL,
        Some(KEY),
    );
    let mut request = conversation();
    // A call Gemini made earlier, without an id, answered by a result: matched by name.
    request.messages.insert(
        1,
        Message::Assistant {
            text: String::new(),
            tool_calls: vec![ToolCall {
                id: "gemini-id-7".into(),
                name: "read_scrollback".into(),
                arguments: json!({"lines": 50}),
                signature: Some("c2lnLTA=".into()),
            }],
        },
    );
    request.messages.insert(
        2,
        Message::ToolResult {
            call_id: "gemini-id-7".into(),
            content: "(50 lines)".into(),
        },
    );
    let (events, error) = collect(p.stream(request)).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(
        text(&events),
        "Der Datenträger ist zu 98 % belegt — aufräumen? 🧹"
    );
    assert_eq!(
        structure(&events),
        vec![
            // Two calls came earlier in the conversation: a made-up id counts on from them.
            ChatEvent::ToolCall(ToolCall {
                id: "lumen-call-2".into(),
                name: "propose_command".into(),
                arguments: json!({"command": "journalctl --vacuum-size=200M", "explanation": "Logs kürzen"}),
                signature: Some("c2lnLTE=".into()),
            }),
            ChatEvent::Usage(Usage {
                input_tokens: 300,
                output_tokens: 52,
                // usageMetadata.cachedContentTokenCount: part of promptTokenCount.
                cached_input_tokens: 256,
            }),
            ChatEvent::Done {
                stop_reason: StopReason::ToolUse
            },
        ]
    );

    let r = &fake.requests()[0];
    assert_eq!(
        r.request_line,
        format!("POST /v1beta/models/{MODEL}:streamGenerateContent?alt=sse HTTP/1.1")
    );
    assert_eq!(r.header("x-goog-api-key"), Some(KEY));
    assert_eq!(r.header("authorization"), None);
    assert!(!r.request_line.contains(KEY), "the key is never in the URL");
    assert_eq!(String::from_utf8_lossy(&r.raw).matches(KEY).count(), 1);
    assert_eq!(
        r.json(),
        json!({
            "systemInstruction": {"parts": [{"text": "You help an operator on host web1."}]},
            "contents": [
                {"role": "user", "parts": [{"text": "Is the disk full?"}]},
                {"role": "model", "parts": [
                    {"functionCall": {"id": "gemini-id-7", "name": "read_scrollback", "args": {"lines": 50}}, "thoughtSignature": "c2lnLTA="},
                ]},
                {"role": "user", "parts": [
                    {"functionResponse": {"id": "gemini-id-7", "name": "read_scrollback", "response": {"result": "(50 lines)"}}},
                ]},
                {"role": "model", "parts": [
                    {"text": "Let me check."},
                    {"functionCall": {"id": "call-1", "name": "propose_command", "args": {"command": "df -h", "explanation": "disk use"}}},
                ]},
                {"role": "user", "parts": [
                    {"functionResponse": {"id": "call-1", "name": "propose_command", "response": {"result": "/dev/sda1 50G 49G 1G 98% /"}}},
                    {"text": "What now?"},
                ]},
            ],
            "tools": [{"functionDeclarations": [
                {"name": "propose_command", "description": PROPOSE_COMMAND.description, "parameters": PROPOSE_COMMAND.json_schema},
                {"name": "read_scrollback", "description": READ_SCROLLBACK.description, "parameters": READ_SCROLLBACK.json_schema},
            ]}],
            "generationConfig": {"maxOutputTokens": 1024},
        })
    );
}

#[tokio::test]
async fn ids_lumen_made_up_never_reach_gemini() {
    let fake = FakeServer::start(vec![Reply::sse(&answer())]).await;
    let p = provider(
        ProviderKind::Gemini,
        &fake.url(),
        &format!("models/{MODEL}"),
        Some(KEY),
    );
    let request = ChatRequest {
        system: String::new(),
        messages: vec![
            Message::User("hi".into()),
            Message::Assistant {
                text: String::new(),
                tool_calls: vec![ToolCall {
                    id: "lumen-call-0".into(),
                    name: "propose_command".into(),
                    arguments: json!({}),
                    signature: None,
                }],
            },
            Message::ToolResult {
                call_id: "lumen-call-0".into(),
                content: "ok".into(),
            },
        ],
        context: None,
        tools: vec![],
        max_tokens: 10,
    };
    let (_, error) = collect(p.stream(request)).await;
    assert!(error.is_none(), "{error:?}");
    let r = &fake.requests()[0];
    assert!(
        r.request_line.starts_with(&format!(
            "POST /v1beta/models/{MODEL}:streamGenerateContent"
        )),
        "{}",
        r.request_line
    );
    assert_eq!(
        r.json(),
        json!({
            "contents": [
                {"role": "user", "parts": [{"text": "hi"}]},
                {"role": "model", "parts": [{"functionCall": {"name": "propose_command", "args": {}}}]},
                {"role": "user", "parts": [{"functionResponse": {"name": "propose_command", "response": {"result": "ok"}}}]},
            ],
            "generationConfig": {"maxOutputTokens": 10},
        })
    );
}

#[tokio::test]
async fn gemini_errors_are_sorted() {
    let invalid_key = r#"[{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID"}]}}]"#;
    let fake = FakeServer::start(vec![Reply::status(400, invalid_key); 2]).await;
    let p = provider(ProviderKind::Gemini, &fake.url(), MODEL, Some(KEY));
    let (_, error) = collect(p.stream(conversation())).await;
    assert!(
        matches!(error, Some(ProviderError::BadKey { status: 400, .. })),
        "{error:?}"
    );
    assert_eq!(fake.attempts(), 1);

    // RESOURCE_EXHAUSTED with a RetryInfo delay is a rate limit: retried after that delay.
    let exhausted = r#"{"error":{"code":429,"message":"You exceeded your current quota, please check your plan and billing details.","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"0s"}]}}"#;
    let fake = FakeServer::start(vec![Reply::status(429, exhausted), Reply::sse(&answer())]).await;
    let p = provider(ProviderKind::Gemini, &fake.url(), MODEL, Some(KEY));
    let (events, error) = collect(p.stream(conversation())).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!((fake.attempts(), retries(&events)), (2, 1));

    // The same words without a delay: the quota is spent, so no retry.
    let spent = exhausted.replace(
        r#","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"0s"}]"#,
        "",
    );
    let fake = FakeServer::start(vec![Reply::status(429, &spent); 2]).await;
    let p = provider(ProviderKind::Gemini, &fake.url(), MODEL, Some(KEY));
    let (_, error) = collect(p.stream(conversation())).await;
    assert!(
        matches!(error, Some(ProviderError::QuotaExhausted { .. })),
        "{error:?}"
    );
    assert_eq!(fake.attempts(), 1);

    let fake = FakeServer::start(vec![Reply::status(
        404,
        r#"{"error":{"code":404,"message":"models/gemini-9 is not found","status":"NOT_FOUND"}}"#,
    )])
    .await;
    let p = provider(ProviderKind::Gemini, &fake.url(), "gemini-9", Some(KEY));
    let (_, error) = collect(p.stream(conversation())).await;
    assert!(
        matches!(error, Some(ProviderError::UnknownModel { ref model, .. }) if model == "gemini-9"),
        "{error:?}"
    );

    // A stream that ends without a finishReason was cut short.
    let first = gemini_events(&[
        json!({"candidates":[{"content":{"parts":[{"text":"Der"}],"role":"model"}}]}),
    ]);
    let fake = FakeServer::start(vec![Reply::sse(&first)]).await;
    let p = provider(ProviderKind::Gemini, &fake.url(), MODEL, Some(KEY));
    let (events, error) = collect(p.stream(conversation())).await;
    assert_eq!(text(&events), "Der");
    assert!(
        matches!(error, Some(ProviderError::EarlyClose { .. })),
        "{error:?}"
    );

    let blocked = gemini_events(&[json!({"promptFeedback":{"blockReason":"SAFETY"}})]);
    let fake = FakeServer::start(vec![Reply::sse(&blocked)]).await;
    let p = provider(ProviderKind::Gemini, &fake.url(), MODEL, Some(KEY));
    let (events, error) = collect(p.stream(conversation())).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(
        events.last(),
        Some(&ChatEvent::Done {
            stop_reason: StopReason::Refused(
                "Google Gemini blocked the question (promptFeedback blockReason \"SAFETY\")".into()
            )
        }),
        "a blocked question is a refusal: the session leaves it out of the conversation"
    );
}
