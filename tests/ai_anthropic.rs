//! Anthropic's Messages API against a fake on loopback: the exact request, SSE with text and
//! tool use assembled from `input_json_delta`, retries on 529 honouring retry-after, errors.
#![allow(clippy::unwrap_used)]

mod common;

use common::fake_ai::*;
use lumen::ai::provider::{
    ChatEvent, PROPOSE_COMMAND, ProviderError, ProviderKind, READ_SCROLLBACK, StopReason, ToolCall,
    Usage,
};
use serde_json::json;

const KEY: &str = "sk-ant-test-key-0001";
const MODEL: &str = "claude-sonnet-4-5";

/// A tool-use answer as the Messages API streams it (shape from Anthropic's streaming docs).
fn tool_use_stream(text: &str) -> String {
    let (a, b) = text.split_at(text.char_indices().nth(9).unwrap().0);
    named_events(&[
        (
            "message_start",
            json!({"type":"message_start","message":{"id":"msg_01","type":"message","role":"assistant","model":MODEL,"content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":472,"cache_creation_input_tokens":0,"cache_read_input_tokens":1800,"output_tokens":2}}}),
        ),
        (
            "content_block_start",
            json!({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}),
        ),
        ("ping", json!({"type":"ping"})),
        (
            "content_block_delta",
            json!({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":a}}),
        ),
        (
            "content_block_delta",
            json!({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":b}}),
        ),
        (
            "content_block_stop",
            json!({"type":"content_block_stop","index":0}),
        ),
        (
            "content_block_start",
            json!({"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_01T1x1","name":"propose_command","input":{}}}),
        ),
        (
            "content_block_delta",
            json!({"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":""}}),
        ),
        (
            "content_block_delta",
            json!({"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"command\": \"du -sh /var/lo"}}),
        ),
        (
            "content_block_delta",
            json!({"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"g\", \"explanation\": \"Größe der Logs 📦\"}"}}),
        ),
        (
            "content_block_stop",
            json!({"type":"content_block_stop","index":1}),
        ),
        (
            "message_delta",
            json!({"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":89}}),
        ),
        ("message_stop", json!({"type":"message_stop"})),
    ])
}

const TEXT: &str = "Die Platte ist fast voll — schauen wir nach 🔍.";

#[tokio::test]
async fn tool_use_streams_and_the_request_is_the_documented_one() {
    // 5-byte pieces: cuts fall mid-line, mid-JSON and inside "—", "ö" and the emoji.
    let fake = FakeServer::start(vec![Reply::sse(&tool_use_stream(TEXT)).split_every(5)]).await;
    let p = provider(ProviderKind::Anthropic, &fake.url(), MODEL, Some(KEY));
    let (events, error) = collect(p.stream(conversation())).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(text(&events), TEXT);
    assert_eq!(
        structure(&events),
        vec![
            ChatEvent::ToolCall(ToolCall {
                id: "toolu_01T1x1".into(),
                name: "propose_command".into(),
                arguments: json!({"command": "du -sh /var/log", "explanation": "Größe der Logs 📦"}),
                signature: None,
            }),
            ChatEvent::Usage(Usage {
                // Anthropic's input_tokens leave out what was read from (or written to) the
                // cache; lumen counts every input token and says which were cached.
                input_tokens: 2272,
                output_tokens: 89,
                cached_input_tokens: 1800,
            }),
            ChatEvent::Done {
                stop_reason: StopReason::ToolUse
            },
        ]
    );

    let requests = fake.requests();
    assert_eq!(requests.len(), 1);
    let r = &requests[0];
    assert_eq!(r.request_line, "POST /v1/messages HTTP/1.1");
    assert_eq!(r.header("x-api-key"), Some(KEY));
    assert_eq!(r.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.header("authorization"), None);
    assert_eq!(
        r.json(),
        json!({
            "model": MODEL,
            "max_tokens": 1024,
            "stream": true,
            // The stable part is marked for Anthropic's prompt cache: the system text (after
            // the tools) and the last block of the conversation.
            "system": [{"type": "text", "text": "You help an operator on host web1.",
                        "cache_control": {"type": "ephemeral"}}],
            "messages": [
                {"role": "user", "content": "Is the disk full?"},
                {"role": "assistant", "content": [
                    {"type": "text", "text": "Let me check."},
                    {"type": "tool_use", "id": "call-1", "name": "propose_command",
                     "input": {"command": "df -h", "explanation": "disk use"}},
                ]},
                {"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": "call-1", "content": "/dev/sda1 50G 49G 1G 98% /"},
                    {"type": "text", "text": "What now?", "cache_control": {"type": "ephemeral"}},
                ]},
            ],
            "tools": [
                {"name": "propose_command", "description": PROPOSE_COMMAND.description, "input_schema": PROPOSE_COMMAND.json_schema},
                {"name": "read_scrollback", "description": READ_SCROLLBACK.description, "input_schema": READ_SCROLLBACK.json_schema},
            ],
        })
    );
    let raw = String::from_utf8_lossy(&r.raw);
    assert_eq!(
        raw.matches(KEY).count(),
        1,
        "the key is in its header and nowhere else"
    );
}

#[tokio::test]
async fn overloaded_529_is_retried_after_the_wait_it_asks_for() {
    let overloaded =
        r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#;
    let fake = FakeServer::start(vec![
        Reply::status(529, overloaded).header("retry-after", "0"),
        Reply::status(529, overloaded).header("retry-after", "0"),
        Reply::sse(&tool_use_stream(TEXT)),
    ])
    .await;
    let p = provider(ProviderKind::Anthropic, &fake.url(), MODEL, Some(KEY));
    let (events, error) = collect(p.stream(conversation())).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(fake.attempts(), 3);
    assert_eq!(retries(&events), 2);
    assert_eq!(text(&events), TEXT);
    let bodies: Vec<_> = fake.requests().iter().map(|r| r.body.clone()).collect();
    assert!(
        bodies.iter().all(|b| b == &bodies[0]),
        "every attempt sends the same request"
    );
}

#[tokio::test]
async fn overloaded_every_time_gives_up_after_the_policy_s_attempts() {
    let overloaded =
        r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#;
    let replies = (0..6)
        .map(|_| Reply::status(529, overloaded).header("retry-after", "0"))
        .collect();
    let fake = FakeServer::start(replies).await;
    let p = provider(ProviderKind::Anthropic, &fake.url(), MODEL, Some(KEY));
    let (_, error) = collect(p.stream(conversation())).await;
    let e = error.unwrap();
    assert!(
        matches!(e, ProviderError::Overloaded { attempts: 4, .. }),
        "{e:?}"
    );
    assert!(
        e.to_string()
            .contains("Anthropic is overloaded (after 4 attempts)"),
        "{e}"
    );
    assert_eq!(fake.attempts(), 4);
}

#[tokio::test]
async fn a_refused_key_is_said_once_and_never_retried_or_echoed() {
    // The body echoes the key, as some providers do: the error must not.
    let body = format!(
        r#"{{"type":"error","error":{{"type":"authentication_error","message":"invalid x-api-key {KEY}"}}}}"#
    );
    let fake = FakeServer::start(vec![Reply::status(401, &body), Reply::status(401, &body)]).await;
    let p = provider(ProviderKind::Anthropic, &fake.url(), MODEL, Some(KEY));
    let (_, error) = collect(p.stream(conversation())).await;
    let e = error.unwrap();
    assert!(
        matches!(e, ProviderError::BadKey { status: 401, .. }),
        "{e:?}"
    );
    let shown = e.to_string();
    assert!(!shown.contains(KEY), "{shown}");
    assert!(
        shown.contains("check the key that api_key names"),
        "{shown}"
    );
    assert_eq!(fake.attempts(), 1);

    let fake = FakeServer::start(vec![Reply::status(
        403,
        r#"{"type":"error","error":{"type":"permission_error","message":"no access"}}"#,
    )])
    .await;
    let p = provider(ProviderKind::Anthropic, &fake.url(), MODEL, Some(KEY));
    let (_, error) = collect(p.stream(conversation())).await;
    assert!(
        matches!(error, Some(ProviderError::BadKey { status: 403, .. })),
        "{error:?}"
    );
    assert_eq!(fake.attempts(), 1);
}

#[tokio::test]
async fn errors_mid_stream_and_early_close_are_named() {
    let mid = named_events(&[
        (
            "message_start",
            json!({"type":"message_start","message":{"usage":{"input_tokens":5}}}),
        ),
        (
            "content_block_start",
            json!({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}),
        ),
        (
            "content_block_delta",
            json!({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Partial"}}),
        ),
        (
            "error",
            json!({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}),
        ),
    ]);
    let fake = FakeServer::start(vec![Reply::sse(&mid)]).await;
    let p = provider(ProviderKind::Anthropic, &fake.url(), MODEL, Some(KEY));
    let (events, error) = collect(p.stream(conversation())).await;
    assert_eq!(text(&events), "Partial");
    assert!(
        matches!(error, Some(ProviderError::Overloaded { .. })),
        "{error:?}"
    );
    assert_eq!(
        fake.attempts(),
        1,
        "an answer already streaming is not sent again"
    );

    // The connection drops in the middle of the tool call's input.
    let full = tool_use_stream(TEXT);
    let cut_at = full.find("Größe").unwrap();
    let mut reply = Reply::sse(&full).split_at(&[cut_at]);
    reply.pieces.truncate(1);
    reply.cut = true;
    let fake = FakeServer::start(vec![reply]).await;
    let p = provider(ProviderKind::Anthropic, &fake.url(), MODEL, Some(KEY));
    let (events, error) = collect(p.stream(conversation())).await;
    assert_eq!(text(&events), TEXT);
    assert!(
        structure(&events).is_empty(),
        "no half tool call: {events:?}"
    );
    let e = error.unwrap();
    assert!(matches!(e, ProviderError::EarlyClose { .. }), "{e:?}");
    assert_eq!(
        e.to_string(),
        "Anthropic closed the connection before the answer was complete; ask again"
    );
}
