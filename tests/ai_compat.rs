//! OpenAI-compatible servers (Ollama, llama.cpp, vLLM, LM Studio) and the HTTP layer shared
//! by every provider: reused tool-call indexes, no key, the scripted demo model, no route,
//! proxies, idle timeouts.
#![allow(clippy::unwrap_used)]

mod common;

use common::fake_ai::*;
use lumen::ai::demo::{DemoModel, HARMLESS_COMMAND, RISKY_COMMAND, vault_command};
use lumen::ai::provider::{
    ChatEvent, ChatRequest, Message, PROPOSE_COMMAND, ProposeCommand, ProviderError, ProviderKind,
    ProxyEnv, READ_SCROLLBACK, StopReason, ToolCall,
};
use serde_json::{Value, json};
use std::time::Duration;

const MODEL: &str = "qwen2.5-coder";

/// As Ollama streams tool calls: each whole call in one chunk, both under index 0.
fn reused_index_stream() -> String {
    let chunk = |delta: Value, finish: Value| {
        json!({"id":"chatcmpl-9","object":"chat.completion.chunk","created":1,"model":MODEL,"system_fingerprint":"fp_ollama",
               "choices":[{"index":0,"delta":delta,"finish_reason":finish}]})
    };
    data_events_done(&[
        chunk(
            json!({"role":"assistant","content":"Zwei Schritte:"}),
            Value::Null,
        ),
        chunk(
            json!({"role":"assistant","content":"","tool_calls":[{"id":"call_x1","index":0,"type":"function","function":{"name":"propose_command","arguments":"{\"command\":\"uptime\",\"explanation\":\"load\"}"}}]}),
            Value::Null,
        ),
        chunk(
            json!({"role":"assistant","content":"","tool_calls":[{"id":"call_x2","index":0,"type":"function","function":{"name":"read_scrollback","arguments":"{\"lines\":20}"}}]}),
            Value::Null,
        ),
        chunk(json!({"role":"assistant","content":""}), json!("stop")),
    ])
}

#[tokio::test]
async fn reused_indexes_give_separate_calls_and_no_key_sends_no_auth() {
    let fake = FakeServer::start(vec![Reply::sse(&reused_index_stream()).split_every(11)]).await;
    let p = provider(
        ProviderKind::OpenAiCompatible,
        &format!("{}/v1/", fake.url()),
        MODEL,
        None,
    );
    let (events, error) = collect(p.stream(conversation())).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(text(&events), "Zwei Schritte:");
    assert_eq!(
        structure(&events),
        vec![
            ChatEvent::ToolCall(ToolCall {
                id: "call_x1".into(),
                name: "propose_command".into(),
                arguments: json!({"command": "uptime", "explanation": "load"}),
                signature: None
            }),
            ChatEvent::ToolCall(ToolCall {
                id: "call_x2".into(),
                name: "read_scrollback".into(),
                arguments: json!({"lines": 20}),
                signature: None
            }),
            ChatEvent::Done {
                stop_reason: StopReason::ToolUse
            },
        ],
        "no usage reported, none made up; 'stop' after tool calls reads as tool use"
    );
    let r = &fake.requests()[0];
    assert_eq!(
        r.request_line, "POST /v1/chat/completions HTTP/1.1",
        "a trailing / in base_url is fine"
    );
    assert_eq!(r.header("authorization"), None);
    let body = r.json();
    assert_eq!(body["max_tokens"], json!(1024));
    assert_eq!(body.get("max_completion_tokens"), None);
    assert_eq!(body["stream"], json!(true));
    assert_eq!(body["model"], json!(MODEL));
}

/// Drive the demo model through the ordinary OpenAI-compatible provider, turn by turn: its
/// third proposal uses the vault entry the system prompt names, as lumen lists it.
#[tokio::test]
async fn the_demo_model_follows_its_script_through_the_real_provider() {
    let (addr, _demo) = DemoModel::start().await.unwrap();
    let profile = DemoModel::profile(addr);
    let p = lumen::ai::provider::connect(profile.endpoint(None), &settings()).unwrap();
    let mut request = ChatRequest {
        system: "You are lumen's copilot.\n\nVault entries bound to this host, usable as placeholders in proposed commands: {{vault:web/deploy-key}} (ssh-key), {{vault:db/app}} (password).".into(),
        messages: vec![Message::User("What is on my screen?".into())],
        context: None,
        tools: vec![PROPOSE_COMMAND.clone(), READ_SCROLLBACK.clone()],
        max_tokens: 1024,
    };
    let mut proposed = Vec::new();
    for turn in 0..4 {
        let (events, error) = collect(p.stream(request.clone())).await;
        assert!(error.is_none(), "turn {turn}: {error:?}");
        let said = text(&events);
        let calls: Vec<ToolCall> = events
            .iter()
            .filter_map(|e| match e {
                ChatEvent::ToolCall(c) => Some(c.clone()),
                _ => None,
            })
            .collect();
        assert!(
            events.iter().any(|e| matches!(e, ChatEvent::Usage(_))),
            "turn {turn}"
        );
        match turn {
            0 => {
                assert!(said.contains("scripted demo, not an AI"), "{said}");
                assert!(
                    said.ends_with('.') && said.matches('.').count() == 1,
                    "one sentence: {said}"
                );
            }
            1 => assert!(said.contains("risky on purpose"), "{said}"),
            2 => assert!(said.contains("never its value"), "{said}"),
            _ => assert!(said.contains("whole script"), "{said}"),
        }
        let stop = events.last().unwrap();
        if turn < 3 {
            assert_eq!(
                stop,
                &ChatEvent::Done {
                    stop_reason: StopReason::ToolUse
                }
            );
            assert_eq!(calls.len(), 1);
            assert_eq!(calls[0].name, "propose_command");
            proposed.push(
                ProposeCommand::from_arguments(&calls[0].arguments)
                    .unwrap()
                    .command,
            );
            request.messages.push(Message::Assistant {
                text: said,
                tool_calls: calls.clone(),
            });
            request.messages.push(Message::ToolResult {
                call_id: calls[0].id.clone(),
                content: "done".into(),
            });
        } else {
            assert_eq!(
                stop,
                &ChatEvent::Done {
                    stop_reason: StopReason::EndTurn
                }
            );
            assert!(calls.is_empty());
        }
    }
    assert_eq!(
        proposed,
        vec![
            HARMLESS_COMMAND.to_string(),
            RISKY_COMMAND.to_string(),
            vault_command("db/app")
        ]
    );
    assert!(proposed[2].contains("{{vault:db/app}}"), "{}", proposed[2]);
}

#[tokio::test]
async fn no_route_is_named_with_the_url() {
    // A port bound but never listened on refuses connections; held, so no test can take it.
    let reserved = tokio::net::TcpSocket::new_v4().unwrap();
    reserved.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let port = reserved.local_addr().unwrap().port();
    let p = provider(
        ProviderKind::OpenAiCompatible,
        &format!("http://127.0.0.1:{port}/v1"),
        MODEL,
        None,
    );
    let (_, error) = collect(p.stream(conversation())).await;
    let e = error.unwrap();
    assert!(matches!(e, ProviderError::NoRoute { .. }), "{e:?}");
    let shown = e.to_string();
    assert!(
        shown.contains(&format!(
            "cannot reach http://127.0.0.1:{port}/v1/chat/completions"
        )),
        "{shown}"
    );
    assert!(shown.contains("connection refused"), "{shown}");
    drop(reserved);
}

#[tokio::test]
async fn proxies_from_the_environment_carry_requests_but_never_loopback_ones() {
    let proxy = FakeServer::start(vec![Reply::sse(&reused_index_stream())]).await;
    let mut s = settings();
    s.proxy = ProxyEnv {
        http_proxy: Some(proxy.url()),
        no_proxy: Some("internal.example".into()),
        ..ProxyEnv::default()
    };

    // A host name that resolves nowhere: only the proxy can have answered.
    let p = provider_with(
        ProviderKind::OpenAiCompatible,
        "http://llm.example.test/v1",
        MODEL,
        Some("sk-local-key"),
        &s,
    );
    let (_, error) = collect(p.stream(conversation())).await;
    assert!(error.is_none(), "{error:?}");
    let r = &proxy.requests()[0];
    assert_eq!(
        r.request_line,
        "POST http://llm.example.test/v1/chat/completions HTTP/1.1"
    );
    assert_eq!(r.header("authorization"), Some("Bearer sk-local-key"));

    // A loopback server is reached directly even with the proxy set.
    let direct = FakeServer::start(vec![Reply::sse(&reused_index_stream())]).await;
    let p = provider_with(
        ProviderKind::OpenAiCompatible,
        &direct.url(),
        MODEL,
        None,
        &s,
    );
    let (_, error) = collect(p.stream(conversation())).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!((direct.attempts(), proxy.attempts()), (1, 1));
}

#[tokio::test]
async fn a_silent_provider_times_out_and_dropping_a_stream_cancels_it() {
    let first = data_events_done(&[json!({"choices":[{"index":0,"delta":{"content":"Moment"}}]})]);
    let first = &first[..first.find("data: [DONE]").unwrap()];
    let mut reply = Reply::sse(first);
    reply.stall = Some(Duration::from_secs(30));
    let fake = FakeServer::start(vec![reply.clone(), reply]).await;
    let mut s = settings();
    s.idle_timeout = Duration::from_millis(300);
    let p = provider_with(ProviderKind::OpenAiCompatible, &fake.url(), MODEL, None, &s);
    let (events, error) = collect(p.stream(conversation())).await;
    assert_eq!(text(&events), "Moment");
    let e = error.unwrap();
    assert!(matches!(e, ProviderError::IdleTimeout { .. }), "{e:?}");
    assert_eq!(fake.attempts(), 1, "a stalled answer is not sent again");

    // Cancel: take the first delta and drop the stream; the fake sees the connection close.
    // (The timed-out request above hung up too, hence counting from `before`.)
    let before = fake.hangups();
    use futures::StreamExt;
    let mut stream = p.stream(conversation());
    assert_eq!(
        stream.next().await.unwrap().unwrap(),
        ChatEvent::TextDelta("Moment".into())
    );
    drop(stream);
    assert_eq!(fake.attempts(), 2);
    for _ in 0..500 {
        if fake.hangups() > before {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("dropping the stream did not close the connection");
}

#[tokio::test]
async fn a_private_ca_is_trusted_only_when_ca_file_names_it() {
    let (ca_pem, tls) = private_ca();
    let fake = FakeServer::start_tls(vec![Reply::sse(&reused_index_stream())], tls).await;
    let url = format!("https://{}/v1", fake.addr);

    let p = provider(ProviderKind::OpenAiCompatible, &url, MODEL, None);
    let (_, error) = collect(p.stream(conversation())).await;
    let e = error.unwrap();
    assert!(matches!(e, ProviderError::Tls { .. }), "{e:?}");
    assert!(e.to_string().contains("failed: invalid peer certificate: UnknownIssuer; if the server's certificate comes from a private authority, set ca_file in the [ai] section"), "{e}");
    assert_eq!(
        fake.attempts(),
        0,
        "nothing was sent over an untrusted connection"
    );

    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, ca_pem).unwrap();
    let mut s = settings();
    s.ca_file = Some(ca_file);
    let p = provider_with(ProviderKind::OpenAiCompatible, &url, MODEL, None, &s);
    let (events, error) = collect(p.stream(conversation())).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(text(&events), "Zwei Schritte:");
    assert_eq!(fake.attempts(), 1);

    // A CA file that holds no certificate is a clear error, before anything is sent.
    let bogus = dir.path().join("bogus.pem");
    std::fs::write(&bogus, "not a certificate").unwrap();
    s.ca_file = Some(bogus);
    let endpoint = DemoModel::profile(fake.addr).endpoint(None);
    let e = lumen::ai::provider::connect(endpoint, &s).err().unwrap();
    assert!(matches!(e, ProviderError::CaFile { .. }), "{e:?}");
}

#[tokio::test]
async fn a_line_past_the_cap_ends_the_answer_with_a_clear_error() {
    let cap = 4 * 1024 * 1024;
    let mut s = settings();
    // Long enough that a reader waiting for the line's end would time out instead.
    s.idle_timeout = Duration::from_secs(20);
    let shown = |e: &ProviderError| e.to_string();

    // A 20 MB line, sent whole and ended: refused, not parsed.
    let mut line = b"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"".to_vec();
    line.resize(20 * 1024 * 1024, b'a');
    line.extend_from_slice(b"\"}}]}\n\n");
    let mut huge = Reply::sse("");
    huge.pieces = vec![line];
    let huge = huge.split_every(256 * 1024);
    // A line that never ends: the reader gives up at the cap, while the server still holds
    // the connection open, so memory is bounded by the cap and not by what the server sends.
    let mut endless = Reply::sse("");
    endless.pieces = vec![format!("data: {}", "b".repeat(cap + 1024)).into_bytes()];
    endless.stall = Some(Duration::from_secs(60));
    // Many short data lines in one event, together past the cap.
    let lines =
        "data: cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc\n".repeat(cap / 60);
    let fake = FakeServer::start(vec![huge, endless, Reply::sse(&lines)]).await;
    let p = provider_with(ProviderKind::OpenAiCompatible, &fake.url(), MODEL, None, &s);
    for what in ["a line", "a line", "an event"] {
        let (events, error) = collect(p.stream(conversation())).await;
        assert!(events.is_empty(), "{events:?}");
        let e = error.unwrap();
        assert!(
            shown(&e).contains(&format!(
                "the OpenAI-compatible server sent {what} longer than {cap} bytes"
            )),
            "{e}"
        );
    }
    assert_eq!(fake.attempts(), 3, "a refused stream is not asked again");
}
