//! OpenAI chat completions (and xAI, same format) against a fake on loopback: the exact
//! request, chunks with tool-call fragments and [DONE], status codes, retries, garbage.
#![allow(clippy::unwrap_used)]

mod common;

use common::fake_ai::*;
use lumen::ai::provider::{
    ChatEvent, PROPOSE_COMMAND, ProviderError, ProviderKind, READ_SCROLLBACK, StopReason, ToolCall,
    Usage,
};
use serde_json::{Value, json};
use std::time::Duration;

/// What an error must be.
type Expect = fn(&ProviderError) -> bool;

const KEY: &str = "sk-proj-test-key-0002";
const MODEL: &str = "gpt-5";

fn chunk(delta: Value, finish: Value) -> Value {
    json!({"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":MODEL,
           "choices":[{"index":0,"delta":delta,"logprobs":null,"finish_reason":finish}],"usage":null})
}

/// Text, then two parallel calls whose arguments arrive in fragments, then usage and [DONE].
fn fragments_stream() -> String {
    data_events_done(&[
        chunk(json!({"role":"assistant","content":""}), Value::Null),
        chunk(json!({"content":"Übersicht — "}), Value::Null),
        chunk(json!({"content":"zwei Befehle ✅"}), Value::Null),
        chunk(
            json!({"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"propose_command","arguments":""}}]}),
            Value::Null,
        ),
        chunk(
            json!({"tool_calls":[{"index":0,"function":{"arguments":"{\"comm"}}]}),
            Value::Null,
        ),
        chunk(
            json!({"tool_calls":[{"index":0,"function":{"arguments":"and\": \"df -h\", "}}]}),
            Value::Null,
        ),
        chunk(
            json!({"tool_calls":[{"index":1,"id":"call_b","type":"function","function":{"name":"read_scrollback","arguments":""}}]}),
            Value::Null,
        ),
        chunk(
            json!({"tool_calls":[{"index":0,"function":{"arguments":"\"explanation\": \"Plattenplatz\"}"}}]}),
            Value::Null,
        ),
        chunk(
            json!({"tool_calls":[{"index":1,"function":{"arguments":"{\"lines\": 400}"}}]}),
            Value::Null,
        ),
        chunk(json!({}), json!("tool_calls")),
        json!({"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":MODEL,"choices":[],
               "usage":{"prompt_tokens":812,"completion_tokens":64,"total_tokens":876,"prompt_tokens_details":{"cached_tokens":768}}}),
    ])
}

fn expected_calls() -> Vec<ChatEvent> {
    vec![
        ChatEvent::ToolCall(ToolCall {
            id: "call_a".into(),
            name: "propose_command".into(),
            arguments: json!({"command": "df -h", "explanation": "Plattenplatz"}),
            signature: None,
        }),
        ChatEvent::ToolCall(ToolCall {
            id: "call_b".into(),
            name: "read_scrollback".into(),
            arguments: json!({"lines": 400}),
            signature: None,
        }),
        ChatEvent::Usage(Usage {
            input_tokens: 812,
            output_tokens: 64,
            // usage.prompt_tokens_details.cached_tokens: part of prompt_tokens.
            cached_input_tokens: 768,
        }),
        ChatEvent::Done {
            stop_reason: StopReason::ToolUse,
        },
    ]
}

/// The request OpenAI's chat completions reference documents, for `conversation()`.
fn expected_request(limit: &str) -> Value {
    let mut body = json!({
        "model": MODEL,
        "stream": true,
        "stream_options": {"include_usage": true},
        "messages": [
            {"role": "system", "content": "You help an operator on host web1."},
            {"role": "user", "content": "Is the disk full?"},
            {"role": "assistant", "content": "Let me check.", "tool_calls": [
                {"id": "call-1", "type": "function", "function": {
                    "name": "propose_command",
                    "arguments": "{\"command\":\"df -h\",\"explanation\":\"disk use\"}"}},
            ]},
            {"role": "tool", "tool_call_id": "call-1", "content": "/dev/sda1 50G 49G 1G 98% /"},
            {"role": "user", "content": "What now?"},
        ],
        "tools": [
            {"type": "function", "function": {"name": "propose_command", "description": PROPOSE_COMMAND.description, "parameters": PROPOSE_COMMAND.json_schema}},
            {"type": "function", "function": {"name": "read_scrollback", "description": READ_SCROLLBACK.description, "parameters": READ_SCROLLBACK.json_schema}},
        ],
    });
    body[limit] = json!(1024);
    body
}

#[tokio::test]
async fn fragments_assemble_and_the_request_is_the_documented_one() {
    // 7-byte pieces: cuts fall mid-line, inside "data:", inside "Ü", "—" and "✅".
    let fake = FakeServer::start(vec![Reply::sse(&fragments_stream()).split_every(7)]).await;
    let p = provider(
        ProviderKind::OpenAi,
        &format!("{}/v1", fake.url()),
        MODEL,
        Some(KEY),
    );
    let (events, error) = collect(p.stream(conversation())).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(text(&events), "Übersicht — zwei Befehle ✅");
    assert_eq!(structure(&events), expected_calls());

    let r = &fake.requests()[0];
    assert_eq!(r.request_line, "POST /v1/chat/completions HTTP/1.1");
    assert_eq!(
        r.header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.json(), expected_request("max_completion_tokens"));
    assert_eq!(String::from_utf8_lossy(&r.raw).matches(KEY).count(), 1);
}

#[tokio::test]
async fn xai_speaks_the_same_format_with_its_own_limit_field() {
    let fake = FakeServer::start(vec![Reply::sse(&fragments_stream())]).await;
    let p = provider(
        ProviderKind::Xai,
        &format!("{}/v1", fake.url()),
        MODEL,
        Some(KEY),
    );
    let (events, error) = collect(p.stream(conversation())).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(structure(&events), expected_calls());
    let r = &fake.requests()[0];
    assert_eq!(r.request_line, "POST /v1/chat/completions HTTP/1.1");
    assert_eq!(
        r.header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    assert_eq!(r.json(), expected_request("max_tokens"));
}

#[tokio::test]
async fn rate_limits_are_retried_as_asked_and_quota_is_not() {
    let limited = r#"{"error":{"message":"Rate limit reached for gpt-5","type":"requests","code":"rate_limit_exceeded"}}"#;
    let fake = FakeServer::start(vec![
        Reply::status(429, limited).header("retry-after", "0"),
        Reply::status(429, limited).header("retry-after-ms", "1"),
        Reply::sse(&fragments_stream()),
    ])
    .await;
    let p = provider(ProviderKind::OpenAi, &fake.url(), MODEL, Some(KEY));
    let (events, error) = collect(p.stream(conversation())).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!((fake.attempts(), retries(&events)), (3, 2));
    let ChatEvent::Retrying {
        attempt: 1,
        wait,
        reason,
    } = &events[0]
    else {
        panic!("{events:?}")
    };
    assert_eq!(*wait, Duration::ZERO);
    assert_eq!(reason, "OpenAI rate limited (HTTP 429)");

    let quota = r#"{"error":{"message":"You exceeded your current quota, please check your plan and billing details.","type":"insufficient_quota","code":"insufficient_quota"}}"#;
    let fake = FakeServer::start(vec![
        Reply::status(429, quota).header("retry-after", "0");
        3
    ])
    .await;
    let p = provider(ProviderKind::OpenAi, &fake.url(), MODEL, Some(KEY));
    let (_, error) = collect(p.stream(conversation())).await;
    let e = error.unwrap();
    assert!(matches!(e, ProviderError::QuotaExhausted { .. }), "{e:?}");
    assert!(e.to_string().contains("add credit"), "{e}");
    assert_eq!(fake.attempts(), 1);

    // A wait longer than the policy allows is reported at once, with the wait.
    let fake = FakeServer::start(vec![
        Reply::status(429, limited).header("retry-after", "3600"),
    ])
    .await;
    let p = provider(ProviderKind::OpenAi, &fake.url(), MODEL, Some(KEY));
    let (_, error) = collect(p.stream(conversation())).await;
    let e = error.unwrap();
    assert!(
        matches!(e, ProviderError::RateLimited { retry_after: Some(d), attempts: 1, .. } if d == Duration::from_secs(3600)),
        "{e:?}"
    );
    assert!(e.to_string().contains("it asks to wait 3600 s"), "{e}");
    assert_eq!(fake.attempts(), 1);
}

#[tokio::test]
async fn server_errors_back_off_and_client_errors_do_not_retry() {
    let fake = FakeServer::start(vec![
        Reply::status(500, r#"{"error":{"message":"The server had an error"}}"#),
        Reply::status(502, "<html><body>Bad gateway</body></html>"),
        Reply::sse(&fragments_stream()),
    ])
    .await;
    let p = provider(ProviderKind::OpenAi, &fake.url(), MODEL, Some(KEY));
    let (_, error) = collect(p.stream(conversation())).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(fake.attempts(), 3);

    let cases: [(u16, &str, Expect); 4] = [
        (
            401,
            r#"{"error":{"message":"Incorrect API key provided: sk-proj-****0002.","code":"invalid_api_key"}}"#,
            |e| matches!(e, ProviderError::BadKey { status: 401, .. }),
        ),
        (
            403,
            r#"{"error":{"message":"Project does not have access"}}"#,
            |e| matches!(e, ProviderError::BadKey { status: 403, .. }),
        ),
        (
            404,
            r#"{"error":{"message":"The model `gpt-5` does not exist or you do not have access to it.","code":"model_not_found"}}"#,
            |e| matches!(e, ProviderError::UnknownModel { model, .. } if model == MODEL),
        ),
        (
            400,
            r#"{"error":{"message":"Invalid 'max_completion_tokens'"}}"#,
            |e| matches!(e, ProviderError::Rejected { status: 400, .. }),
        ),
    ];
    for (status, body, expected) in cases {
        let fake = FakeServer::start(vec![Reply::status(status, body); 2]).await;
        let p = provider(ProviderKind::OpenAi, &fake.url(), MODEL, Some(KEY));
        let (_, error) = collect(p.stream(conversation())).await;
        let e = error.unwrap();
        assert!(expected(&e), "{status}: {e:?}");
        assert_eq!(fake.attempts(), 1, "{status} is never retried");
    }
}

#[tokio::test]
async fn garbage_bodies_and_early_closes_are_named() {
    let not_json =
        "data: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}]}\n\ndata: {\"choices\": [tru\n\n";
    let html = Reply {
        headers: vec![("content-type".into(), "text/html".into())],
        ..Reply::sse("<html>Welcome to nginx!</html>")
    };
    let bad_args = data_events_done(&[
        chunk(
            json!({"tool_calls":[{"index":0,"id":"c","function":{"name":"propose_command","arguments":"{\"command\": "}}]}),
            Value::Null,
        ),
        chunk(json!({}), json!("tool_calls")),
    ]);
    for (reply, needle) in [
        (Reply::sse(not_json), "an event is not JSON"),
        (
            Reply::sse(&bad_args),
            "the arguments of its call to propose_command are not JSON",
        ),
    ] {
        let fake = FakeServer::start(vec![reply]).await;
        let p = provider(ProviderKind::OpenAi, &fake.url(), MODEL, Some(KEY));
        let (_, error) = collect(p.stream(conversation())).await;
        let e = error.unwrap();
        assert!(matches!(e, ProviderError::Garbage { .. }), "{e:?}");
        assert!(e.to_string().contains(needle), "{e}");
        assert_eq!(fake.attempts(), 1);
    }

    // A web page where the API should be: the URL posted and the base_url it came from.
    let fake = FakeServer::start(vec![html]).await;
    let p = provider(ProviderKind::OpenAi, &fake.url(), MODEL, Some(KEY));
    let (_, error) = collect(p.stream(conversation())).await;
    let e = error.unwrap();
    let shown = e.to_string();
    assert!(
        shown.contains(&format!(
            "OpenAI has no API at {}/v1/chat/completions (HTTP 200: an HTML page: <html>Welcome to nginx!</html>); that URL was made from base_url = \"{}\"",
            fake.url(),
            fake.url()
        )),
        "{shown}"
    );

    // The body ends (cleanly, close-delimited) before any finish_reason or [DONE].
    let partial = format!(
        "data: {}\n\n",
        chunk(json!({"content":"Schau"}), Value::Null)
    );
    let mut reply = Reply::sse(&partial);
    reply.chunked = false;
    reply.cut = true;
    let fake = FakeServer::start(vec![reply]).await;
    let p = provider(ProviderKind::OpenAi, &fake.url(), MODEL, Some(KEY));
    let (events, error) = collect(p.stream(conversation())).await;
    assert_eq!(text(&events), "Schau");
    assert!(
        matches!(error, Some(ProviderError::EarlyClose { .. })),
        "{error:?}"
    );

    // The connection drops inside a chunk in the middle of a multi-byte character.
    let full = fragments_stream();
    let inside = full.find("Übersicht").unwrap() + 1;
    let mut reply = Reply::sse(&full).split_at(&[inside]);
    reply.pieces.truncate(1);
    reply.cut = true;
    let fake = FakeServer::start(vec![reply]).await;
    let p = provider(ProviderKind::OpenAi, &fake.url(), MODEL, Some(KEY));
    let (events, error) = collect(p.stream(conversation())).await;
    assert_eq!(text(&events), "");
    assert!(
        matches!(error, Some(ProviderError::EarlyClose { .. })),
        "{error:?}"
    );
}
