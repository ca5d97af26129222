//! What a conversation costs: the stable part of each request (tools, instructions, host
//! facts, the conversation so far) comes first and is byte-identical from one request to the
//! next, Anthropic's is marked cacheable, and the screen, which changes every time, rides in
//! the latest user turn only. Measured on the wire bodies a fake provider records.
#![allow(clippy::unwrap_used)]

mod common;

use common::copilot::{ai_setup, ask_copilot, drive, shell_app};
use common::fake_ai::*;
use lumen::ai::copilot::{Context, Do, HostFacts, Session, build_request};
use lumen::ai::provider::{ChatEvent, ProviderKind, StopReason, ToolCall, request_body};
use lumen::ai::redact::Secrets;
use lumen::workspace::AiPolicy;
use serde_json::{Value, json};

const FACTS: &str = "os: Debian GNU/Linux 12 (bookworm)\nkernel: Linux 6.1.0-28-amd64 x86_64\n\
                     hostname: web1\naddresses: 10.0.0.5/24 fd00::5/64\nuptime: up 41 days";

/// The screen after `turn` commands: each left its prompt and its output.
fn screen(turn: usize) -> Vec<String> {
    let mut lines = Vec::new();
    for t in 0..=turn {
        lines.push(format!(
            "web1$ journalctl -u nginx -n 12 --no-pager # step {t}"
        ));
        for i in 0..12 {
            lines.push(format!(
                "Dec 06 18:{t:02}:{i:02} web1 nginx[{}]: 10.0.0.{i} GET /api/items/{} 502 upstream timed out",
                900 + t,
                t * 100 + i
            ));
        }
    }
    lines.push("web1$ ".into());
    lines
}

/// The request for `session` with the screen of `turn`.
fn built(session: &Session, turn: usize) -> lumen::ai::copilot::Built {
    let facts = HostFacts { text: FACTS.into() };
    let lines = screen(turn);
    build_request(
        session,
        &Context {
            host: "web1",
            facts: Some(&facts),
            scan_summary: Some("2 high, 5 medium findings (openssl, nginx)"),
            lines: &lines,
            max_lines: 200,
            lookbehind: 0,
            vault_entries: &[],
            secrets: &Secrets::new(),
            runbooks: &[],
            demo: false,
        },
    )
}

/// The model proposes command `n` (call id `call-n`) and stops for it.
fn propose(session: &mut Session, n: usize) -> usize {
    session.on_event(ChatEvent::TextDelta(format!("Step {n}: let me look.")));
    session.on_event(ChatEvent::ToolCall(ToolCall {
        id: format!("call-{n}"),
        name: "propose_command".into(),
        arguments: json!({"command": format!("journalctl -u nginx -n 12 --no-pager # step {n}"),
                          "explanation": "the last errors"}),
        signature: None,
    }));
    let todo = session.on_event(ChatEvent::Done {
        stop_reason: StopReason::ToolUse,
    });
    match todo.as_slice() {
        [Do::Ask { proposal }] => *proposal,
        other => panic!("expected a card, got {other:?}"),
    }
}

/// The wire bodies of a task of `requests` model turns (one question, then a command
/// approved and its output sent back each turn), as `kind` would post them.
fn task_bodies(kind: ProviderKind, requests: usize) -> Vec<Value> {
    let mut session = Session::new("web1", AiPolicy::Ask, 100, 2000);
    let mut todo = session
        .ask(
            "nginx answers 502 since noon; why?",
            "nginx answers 502 since noon; why?".into(),
        )
        .unwrap();
    let mut bodies = Vec::new();
    for turn in 0..requests {
        assert_eq!(todo, Do::Request);
        bodies.push(request_body(kind, "m", &built(&session, turn).request));
        let n = propose(&mut session, turn);
        session.approve(n, None).unwrap();
        let output = screen(turn)[turn * 13 + 1..turn * 13 + 13].join("\n");
        todo = session
            .command_finished(n, output)
            .into_iter()
            .next()
            .unwrap();
    }
    bodies
}

/// A request as the provider reads it for its prefix cache: tools, then instructions, then
/// each turn's blocks in order, one JSON text per block. Anthropic's `cache_control` marker is
/// left out: it says where to cache, it is not part of what is cached.
fn cache_order(kind: ProviderKind, body: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let mut push = |v: &Value| {
        let mut v = v.clone();
        if let Some(o) = v.as_object_mut() {
            o.remove("cache_control");
        }
        out.push(v.to_string());
    };
    match kind {
        ProviderKind::Anthropic => {
            body["tools"].as_array().unwrap().iter().for_each(&mut push);
            match &body["system"] {
                Value::String(s) => push(&json!({"type": "text", "text": s})),
                Value::Array(blocks) => blocks.iter().for_each(&mut push),
                _ => {}
            }
            for m in body["messages"].as_array().unwrap() {
                push(&json!({"role": m["role"]}));
                match &m["content"] {
                    Value::String(s) => push(&json!({"type": "text", "text": s})),
                    Value::Array(blocks) => blocks.iter().for_each(&mut push),
                    _ => {}
                }
            }
        }
        ProviderKind::Gemini => {
            push(&body["tools"]);
            push(&body["systemInstruction"]);
            for c in body["contents"].as_array().unwrap() {
                push(&json!({"role": c["role"]}));
                c["parts"].as_array().unwrap().iter().for_each(&mut push);
            }
        }
        _ => {
            body["tools"].as_array().unwrap().iter().for_each(&mut push);
            body["messages"]
                .as_array()
                .unwrap()
                .iter()
                .for_each(&mut push);
        }
    }
    out
}

/// Bytes of `now` (in cache order) that repeat the start of `before`, and all its bytes.
fn shared_prefix(kind: ProviderKind, before: &Value, now: &Value) -> (usize, usize) {
    let (a, b) = (cache_order(kind, before), cache_order(kind, now));
    let shared = a
        .iter()
        .zip(&b)
        .take_while(|(x, y)| x == y)
        .map(|(x, _)| x.len())
        .sum();
    (shared, b.iter().map(String::len).sum())
}

/// What the input of a 10-request task costs, in tokens (about four bytes each): all of it,
/// and what is billed when the repeated prefix of each request is read from the cache at a
/// tenth of the price (Anthropic's cache reads; OpenAI's and Gemini's discounts are of the
/// same order). Each request repeats all of the one before it but its screen; the screen
/// itself (up to `context_lines` lines) is sent whole each time and is most of what is billed.
///
/// Measured on the layout before this one (the screen inside the system text): 10 requests
/// sent about 40 100 input tokens of which about 1 900 (the tools) repeated a prefix, so about
/// 38 500 were billed (and Anthropic, without `cache_control`, cached nothing: 40 100).
#[test]
fn ten_requests_repeat_all_but_their_last_turn() {
    let mut short = Vec::new();
    for kind in [
        ProviderKind::Anthropic,
        ProviderKind::OpenAi,
        ProviderKind::Gemini,
    ] {
        let bodies = task_bodies(kind, 10);
        let (mut all, mut cached) = (0, 0);
        for (i, body) in bodies.iter().enumerate() {
            let blocks = cache_order(kind, body);
            let total: usize = blocks.iter().map(String::len).sum();
            let shared = match i {
                0 => 0,
                _ => {
                    let (shared, _) = shared_prefix(kind, &bodies[i - 1], body);
                    let before = cache_order(kind, &bodies[i - 1]);
                    let (_, stable) = before.split_last().unwrap();
                    let stable: usize = stable.iter().map(String::len).sum();
                    if shared != stable {
                        short.push(format!(
                            "{kind}: request {i} repeats {shared} bytes of the previous one, \
                             whose stable part is {stable}"
                        ));
                    }
                    shared
                }
            };
            all += total;
            cached += shared;
        }
        let billed = (all - cached) + cached / 10;
        eprintln!(
            "{kind}: 10 requests send {} input tokens; {} of them repeat the previous \
             request's prefix; billed as about {} tokens",
            all / 4,
            cached / 4,
            billed / 4
        );
    }
    assert!(short.is_empty(), "{short:#?}");
}

/// A short screen that is different every time.
fn small_screen(n: usize) -> Vec<String> {
    vec![
        format!("web1$ uptime   # screen-{n}"),
        format!(" 18:{n:02}:00 up 41 days, load average: 0.{n}0, 0.40, 0.35"),
        "web1$ ".into(),
    ]
}

/// Two questions in a row, each sent with the screen of its moment, through a fake `kind`
/// provider: the two request bodies as recorded.
async fn two_requests(kind: ProviderKind) -> (Value, Value) {
    let fake = FakeServer::start(vec![
        says_as(kind, "Load is low."),
        says_as(kind, "Still fine."),
    ])
    .await;
    let p = provider(kind, &fake.url(), "m", Some("test-key-not-real"));
    let facts = HostFacts { text: FACTS.into() };
    let mut session = Session::new("web1", AiPolicy::Ask, 10, 2000);
    for (n, question) in ["how loaded is web1?", "and now?"].iter().enumerate() {
        assert_eq!(session.ask(question, question.to_string()), Ok(Do::Request));
        let lines = small_screen(n);
        let built = build_request(
            &session,
            &Context {
                host: "web1",
                facts: Some(&facts),
                scan_summary: None,
                lines: &lines,
                max_lines: 200,
                lookbehind: 0,
                vault_entries: &[],
                secrets: &Secrets::new(),
                runbooks: &[],
                demo: false,
            },
        );
        let (events, error) = collect(p.stream(built.request)).await;
        assert!(error.is_none(), "{error:?}");
        for e in events {
            session.on_event(e);
        }
        assert!(!session.is_busy());
    }
    let requests = fake.requests();
    assert_eq!(requests.len(), 2);
    (requests[0].json(), requests[1].json())
}

#[tokio::test]
async fn consecutive_requests_share_a_byte_identical_prefix_up_to_the_screen() {
    for kind in [
        ProviderKind::Anthropic,
        ProviderKind::OpenAi,
        ProviderKind::Gemini,
    ] {
        let (first, second) = two_requests(kind).await;
        let (a, b) = (cache_order(kind, &first), cache_order(kind, &second));
        let (screen, stable) = a.split_last().unwrap();
        assert!(
            screen.contains("screen-0"),
            "{kind}: the screen is last: {a:#?}"
        );
        assert!(
            stable.iter().all(|block| !block.contains("screen-0")),
            "{kind}: the screen is only in the last block"
        );
        assert_eq!(&b[..stable.len()], stable, "{kind}");
        assert!(b.last().unwrap().contains("screen-1"), "{kind}: {b:#?}");
    }
    // OpenAI's body is even byte-identical on the wire up to the screen's message.
    let (first, second) = two_requests(ProviderKind::OpenAi).await;
    let (first, second) = (first.to_string(), second.to_string());
    let screen = first.find("screen-0").unwrap();
    let message = first[..screen].rfind("{\"content\"").unwrap();
    assert!(second.starts_with(&first[..message]));
}

#[tokio::test]
async fn anthropic_marks_the_stable_part_cacheable_and_not_the_screen() {
    let (first, second) = two_requests(ProviderKind::Anthropic).await;
    for body in [&first, &second] {
        let text = body.to_string();
        assert_eq!(text.matches("cache_control").count(), 2, "{body:#}");
        let system = body["system"].as_array().unwrap();
        assert_eq!(
            system.last().unwrap()["cache_control"],
            json!({"type": "ephemeral"})
        );
        let last = body["messages"].as_array().unwrap().last().unwrap();
        let blocks = last["content"].as_array().unwrap();
        let (screen, before) = blocks.split_last().unwrap();
        assert!(
            screen["text"]
                .as_str()
                .unwrap()
                .contains("<<<untrusted-data")
        );
        assert!(screen.get("cache_control").is_none());
        assert_eq!(
            before.last().unwrap()["cache_control"],
            json!({"type": "ephemeral"}),
            "the conversation up to the screen is cached: {body:#}"
        );
    }
}

/// The screen goes in the latest user turn; the system text carries none of it; an earlier
/// screen is not sent again (the model saw what mattered of it as command output).
#[tokio::test]
async fn the_screen_rides_in_the_latest_user_turn_only() {
    for kind in [
        ProviderKind::Anthropic,
        ProviderKind::OpenAi,
        ProviderKind::Gemini,
    ] {
        let (first, second) = two_requests(kind).await;
        for (body, now) in [(&first, "screen-0"), (&second, "screen-1")] {
            let system = match kind {
                ProviderKind::Anthropic => body["system"].to_string(),
                ProviderKind::Gemini => body["systemInstruction"].to_string(),
                _ => body["messages"][0].to_string(),
            };
            assert!(system.contains("os: Debian"), "{kind}: facts are stable");
            assert!(!system.contains("screen-"), "{kind}: {system}");
            let turns = match kind {
                ProviderKind::Gemini => body["contents"].as_array().unwrap(),
                _ => body["messages"].as_array().unwrap(),
            };
            let last = turns.last().unwrap();
            assert_eq!(last["role"], "user", "{kind}");
            assert!(last.to_string().contains(now), "{kind}: {last}");
        }
        assert!(!second.to_string().contains("screen-0"), "{kind}");
    }
}

/// OpenAI's `usage.prompt_tokens_details.cached_tokens` (OpenAI-compatible servers and xAI
/// send the same) shows next to the token count in the copilot pane's title.
#[tokio::test]
async fn cached_tokens_show_in_the_pane_title() {
    let fake = FakeServer::start(vec![Reply::sse(&data_events_done(&[
        openai_chunk(
            "m",
            json!({"role":"assistant","content":"Load is low."}),
            Value::Null,
        ),
        openai_chunk("m", json!({}), json!("stop")),
        json!({"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[],
               "usage":{"prompt_tokens":2048,"completion_tokens":12,"total_tokens":2060,
                        "prompt_tokens_details":{"cached_tokens":1536}}}),
    ]))])
    .await;
    let home = tempfile::tempdir().unwrap();
    let workspace = home.path().join("workspace");
    let mut app = shell_app(home.path(), 160, 45, |o| {
        o.ai = Some(ai_setup(&fake, &workspace));
    });
    ask_copilot(&mut app, "how loaded is this host?");
    drive(&mut app, "the answer", |app| {
        common::app::screen(app).contains("Load is low.")
    })
    .await;
    let screen = common::app::screen(&app);
    assert!(screen.contains("2060 tokens, 1536 cached"), "{screen}");
}
