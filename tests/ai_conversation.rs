//! Conversations that survive what providers do besides answering, against fakes on loopback
//! that speak each wire format and record every byte: a refusal, a safety stop or a content
//! filter is said (in the pane, and by `lumen ai ask`, which fails) and the next question is
//! still a valid request by that provider's rules; Gemini calls without ids over several turns
//! are answered under their own names; `base_url` with or without the API's version reaches
//! the right path; a URL where no API answers is named with the base_url it came from.
#![allow(clippy::unwrap_used)]

mod ai_support;
mod common;

use ai_support::{Env, MODEL, ok, stderr};
use common::app::{app_spec_with, screen, settle_async};
use common::fake_ai::*;
use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use lumen::ai::config::{AiConfig, Profile};
use lumen::ai::copilot::Item;
use lumen::ai::provider::{KeySource, ProviderKind};
use lumen::app::copilot::AiSetup;
use lumen::app::{App, PaneSpec};
use serde_json::{Value, json};

const REFUSED_QUESTION: &str = "how do I get into my neighbour's wifi";
const FOLLOW_UP: &str = "which process uses port 8080";
const ANSWERED: &str = "Run ss -ltnp to see it.";

// ---- each provider's wire format: a refusal and an answer ----

fn anthropic_stream(stop: &str, text: Option<&str>) -> Reply {
    let mut events = vec![(
        "message_start",
        json!({"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant",
               "model":MODEL,"content":[],"stop_reason":null,"stop_sequence":null,
               "usage":{"input_tokens":25,"output_tokens":1}}}),
    )];
    if let Some(t) = text {
        events.extend([
            (
                "content_block_start",
                json!({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}),
            ),
            (
                "content_block_delta",
                json!({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":t}}),
            ),
            (
                "content_block_stop",
                json!({"type":"content_block_stop","index":0}),
            ),
        ]);
    }
    events.extend([
        (
            "message_delta",
            json!({"type":"message_delta","delta":{"stop_reason":stop,"stop_sequence":null},"usage":{"output_tokens":7}}),
        ),
        ("message_stop", json!({"type":"message_stop"})),
    ]);
    Reply::sse(&named_events(&events))
}

fn gemini_stream(chunks: &[Value]) -> Reply {
    Reply::sse(
        &chunks
            .iter()
            .map(|c| format!("data: {c}\r\n\r\n"))
            .collect::<String>(),
    )
}

fn gemini_safety() -> Reply {
    gemini_stream(&[json!({"candidates":[{"finishReason":"SAFETY","index":0,
        "safetyRatings":[{"category":"HARM_CATEGORY_DANGEROUS_CONTENT","probability":"HIGH","blocked":true}]}],
        "usageMetadata":{"promptTokenCount":25,"totalTokenCount":25},"modelVersion":MODEL})])
}

/// The question itself blocked: no candidate at all.
fn gemini_blocked() -> Reply {
    gemini_stream(&[
        json!({"promptFeedback":{"blockReason":"PROHIBITED_CONTENT"},
        "usageMetadata":{"promptTokenCount":25,"totalTokenCount":25},"modelVersion":MODEL}),
    ])
}

fn gemini_says(text: &str) -> Reply {
    gemini_stream(&[
        json!({"candidates":[{"content":{"parts":[{"text":text}],"role":"model"},
        "finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":30,"candidatesTokenCount":8}}),
    ])
}

/// A Gemini turn calling `name` without an id.
fn gemini_calls(name: &str, args: Value) -> Reply {
    gemini_stream(&[
        json!({"candidates":[{"content":{"parts":[{"functionCall":{"name":name,"args":args}}],
        "role":"model"},"finishReason":"STOP","index":0}]}),
    ])
}

fn openai_filtered() -> Reply {
    Reply::sse(&data_events_done(&[
        openai_chunk(MODEL, json!({"role":"assistant","content":""}), Value::Null),
        openai_chunk(MODEL, json!({}), json!("content_filter")),
    ]))
}

/// A refusal in the model's words, in the `refusal` field instead of `content`.
fn openai_refusal_field() -> Reply {
    Reply::sse(&data_events_done(&[
        openai_chunk(
            MODEL,
            json!({"role":"assistant","content":null,"refusal":"I can't help with that."}),
            Value::Null,
        ),
        openai_chunk(MODEL, json!({}), json!("stop")),
    ]))
}

struct Case {
    kind: ProviderKind,
    /// As config.toml names it.
    name: &'static str,
    base: &'static str,
    refusal: fn() -> Reply,
    answer: fn() -> Reply,
    /// What the operator is told (a word of it: the pane wraps lines).
    said: &'static str,
    /// The follow-up body checked against the provider's rules.
    rules: fn(&Value),
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            kind: ProviderKind::Anthropic,
            name: "anthropic",
            base: "",
            refusal: || anthropic_stream("refusal", None),
            answer: || anthropic_stream("end_turn", Some(ANSWERED)),
            said: "refused",
            rules: anthropic_rules,
        },
        Case {
            kind: ProviderKind::OpenAi,
            name: "openai",
            base: "/v1",
            refusal: openai_filtered,
            answer: || openai_says(ANSWERED),
            said: "filter",
            rules: openai_rules,
        },
        Case {
            kind: ProviderKind::Gemini,
            name: "gemini",
            base: "/v1beta",
            refusal: gemini_safety,
            answer: || gemini_says(ANSWERED),
            said: "withheld",
            rules: gemini_rules,
        },
        Case {
            kind: ProviderKind::Gemini,
            name: "gemini",
            base: "",
            refusal: gemini_blocked,
            answer: || gemini_says(ANSWERED),
            said: "blocked",
            rules: gemini_rules,
        },
        Case {
            kind: ProviderKind::OpenAiCompatible,
            name: "openai-compatible",
            base: "/v1",
            refusal: openai_refusal_field,
            answer: || openai_says(ANSWERED),
            said: "refused",
            rules: openai_rules,
        },
    ]
}

// ---- the providers' rules for a request's turns ----

fn non_blank(v: &Value) -> bool {
    v.as_str().is_some_and(|s| !s.trim().is_empty())
}

/// Anthropic: user first, roles alternating, no empty content and no blank text block.
fn anthropic_rules(body: &Value) {
    let messages = body["messages"].as_array().unwrap();
    assert!(!messages.is_empty(), "{body}");
    for (i, m) in messages.iter().enumerate() {
        let role = if i % 2 == 0 { "user" } else { "assistant" };
        assert_eq!(m["role"], role, "roles must alternate from user: {body}");
        match &m["content"] {
            Value::String(_) => assert!(non_blank(&m["content"]), "blank content: {body}"),
            Value::Array(blocks) => {
                assert!(!blocks.is_empty(), "empty content: {body}");
                for b in blocks {
                    if b["type"] == "text" {
                        assert!(non_blank(&b["text"]), "blank text block: {body}");
                    }
                }
            }
            other => panic!("content {other} in {body}"),
        }
    }
}

/// Gemini: user first, user and model alternating, every content with parts.
fn gemini_rules(body: &Value) {
    let contents = body["contents"].as_array().unwrap();
    assert!(!contents.is_empty(), "{body}");
    for (i, c) in contents.iter().enumerate() {
        let role = if i % 2 == 0 { "user" } else { "model" };
        assert_eq!(c["role"], role, "roles must alternate from user: {body}");
        let parts = c["parts"].as_array().unwrap();
        assert!(!parts.is_empty(), "a content without parts: {body}");
    }
}

/// OpenAI: an assistant message has content or tool calls.
fn openai_rules(body: &Value) {
    for m in body["messages"].as_array().unwrap() {
        if m["role"] == "assistant" {
            let calls = m["tool_calls"].as_array().is_some_and(|c| !c.is_empty());
            assert!(
                calls || non_blank(&m["content"]),
                "an assistant message with neither content nor tool_calls: {body}"
            );
        }
    }
}

/// The follow-up holds the new question and not the refused one.
fn follow_up_checks(case: &Case, body: &Value) {
    (case.rules)(body);
    let text = body.to_string();
    assert!(text.contains(FOLLOW_UP), "{text}");
    assert!(
        !text.contains(REFUSED_QUESTION),
        "{}: the refused question was sent again: {text}",
        case.name
    );
}

// ---- the pane ----

fn key(app: &mut App, code: KeyCode, m: KeyModifiers) {
    app.handle_event(Event::Key(KeyEvent::new(code, m)));
}

/// Type `question` into the focused copilot pane, send it, and let the answer arrive.
async fn ask_in_pane(app: &mut App, question: &str) {
    for c in question.chars() {
        key(app, KeyCode::Char(c), KeyModifiers::NONE);
    }
    key(app, KeyCode::Enter, KeyModifiers::NONE);
    settle_async(app, |_| {}).await;
}

#[tokio::test]
async fn after_a_refusal_the_pane_says_so_and_the_next_question_is_a_valid_request() {
    for case in cases() {
        let fake = FakeServer::start(vec![(case.refusal)(), (case.answer)()]).await;
        let dir = tempfile::tempdir().unwrap();
        // The API key comes from the vault, as config.toml's `api_key = "vault:ai/key"`.
        let profile = Profile {
            provider: case.kind,
            model: MODEL.into(),
            base_url: Some(format!("{}{}", fake.url(), case.base)),
            api_key: Some(KeySource::Vault("ai/key".into())),
            prices: None,
        };
        let (mut app, _backends, _) = app_spec_with(120, 40, PaneSpec::LocalShell, |o| {
            o.ai = Some(AiSetup {
                config: AiConfig::with_profile(profile),
                demo: false,
                workspace_dir: Some(dir.path().join("workspace")),
            });
            o.vault = common::unlocked_vault(
                &dir.path().join("vault.lumen"),
                vec![(
                    "ai/key",
                    lumen::vault::NewEntry {
                        kind: Some(lumen::vault::Kind::ApiKey),
                        secret: Some(secrecy::SecretString::from("test-key-not-real-0001")),
                        ..Default::default()
                    },
                )],
            );
        });
        let terminal = app.focused().unwrap();
        key(&mut app, KeyCode::Char('b'), KeyModifiers::CONTROL);
        key(&mut app, KeyCode::Char('a'), KeyModifiers::NONE);

        ask_in_pane(&mut app, REFUSED_QUESTION).await;
        let session = app.copilot.session(terminal).unwrap();
        let said = session.items().iter().rev().find_map(|i| match i {
            Item::Error(e) => Some(e.clone()),
            _ => None,
        });
        let said =
            said.unwrap_or_else(|| panic!("{}: nothing said: {:?}", case.name, session.items()));
        assert!(said.contains(case.said), "{}: {said}", case.name);
        assert!(!session.is_busy(), "{}", case.name);
        let shown = screen(&app);
        assert!(
            shown.contains(case.said),
            "{}: the pane shows nothing:\n{shown}",
            case.name
        );

        ask_in_pane(&mut app, FOLLOW_UP).await;
        let requests = fake.requests();
        assert_eq!(requests.len(), 2, "{}", case.name);
        follow_up_checks(&case, &requests[1].json());
        let session = app.copilot.session(terminal).unwrap();
        assert!(
            matches!(session.items().last(), Some(Item::Assistant(a)) if a == ANSWERED),
            "{}: {:?}",
            case.name,
            session.items()
        );
    }
}

// ---- the command line ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ask_fails_and_says_so_when_the_provider_refuses() {
    for case in cases() {
        let env = Env::new();
        let fake = FakeServer::start(vec![(case.refusal)()]).await;
        env.config_for(
            case.name,
            &format!("{}{}", fake.url(), case.base),
            "api_key = \"env:LUMEN_TEST_KEY\"\n",
        );
        let out = env.lumen(&["ai", "ask", REFUSED_QUESTION], None).await;
        let err = stderr(&out);
        assert!(!out.status.success(), "{}: exit 0; {err}", case.name);
        assert!(err.contains(case.said), "{}: {err}", case.name);
        assert!(err.contains("no answer was given"), "{}: {err}", case.name);
        assert!(out.stdout.is_empty(), "{}", case.name);
        assert_eq!(
            fake.attempts(),
            1,
            "{}: a refusal is not retried",
            case.name
        );
        // The history says what happened.
        let history = std::fs::read_to_string(env.workspace().join("ai/cli.jsonl")).unwrap();
        assert!(history.contains("\"kind\":\"error\""), "{history}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gemini_calls_without_ids_are_answered_under_their_own_names_turn_after_turn() {
    let env = Env::new();
    let fake = FakeServer::start(vec![
        gemini_calls("read_scrollback", json!({"lines": 3})),
        gemini_calls("run_shell", json!({"command": "id"})),
        gemini_says(ANSWERED),
    ])
    .await;
    // The host alone, as Google's SDK takes it.
    env.config_for("gemini", &fake.url(), "api_key = \"env:LUMEN_TEST_KEY\"\n");
    let out = env.lumen(&["ai", "ask", "who am I?"], None).await;
    assert_eq!(ok(&out).trim(), ANSWERED);
    let requests = fake.requests();
    assert_eq!(requests.len(), 3);
    for r in &requests {
        assert!(
            r.request_line.starts_with(&format!(
                "POST /v1beta/models/{MODEL}:streamGenerateContent?alt=sse "
            )),
            "{}",
            r.request_line
        );
    }
    let body = requests[2].json();
    gemini_rules(&body);
    let contents = body["contents"].as_array().unwrap();
    let mut pairs = 0;
    for pair in contents.windows(2) {
        let called: Vec<&Value> = pair[0]["parts"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|p| {
                p["functionCall"]["name"]
                    .as_str()
                    .map(|_| &p["functionCall"]["name"])
            })
            .collect();
        if called.is_empty() {
            continue;
        }
        // The screen's text part follows the responses in the same user turn.
        let answered: Vec<&Value> = pair[1]["parts"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p.get("functionResponse").is_some())
            .map(|p| &p["functionResponse"]["name"])
            .collect();
        assert_eq!(called, answered, "{body}");
        pairs += 1;
    }
    assert_eq!(pairs, 2, "{body}");
    // Ids lumen made up never reach Gemini.
    assert!(!body.to_string().contains("lumen-call"), "{body}");
}

// ---- base_url as users paste it ----

/// A provider, the endings of base_url tried, the path they must reach, and an answer.
type Forms<'a> = (ProviderKind, &'a [&'a str], &'a str, fn() -> Reply);

#[tokio::test]
async fn base_url_with_or_without_the_version_reaches_the_api_path() {
    let gemini_path = format!("/v1beta/models/{MODEL}:streamGenerateContent?alt=sse");
    let forms: [Forms; 5] = [
        (
            ProviderKind::Anthropic,
            &["", "/", "/v1", "/v1/"],
            "/v1/messages",
            || anthropic_stream("end_turn", Some(ANSWERED)),
        ),
        (
            ProviderKind::Gemini,
            &["", "/", "/v1beta", "/v1beta/"],
            &gemini_path,
            || gemini_says(ANSWERED),
        ),
        (
            ProviderKind::OpenAi,
            &["", "/", "/v1", "/v1/"],
            "/v1/chat/completions",
            || openai_says(ANSWERED),
        ),
        (
            ProviderKind::Xai,
            &["", "/", "/v1", "/v1/"],
            "/v1/chat/completions",
            || openai_says(ANSWERED),
        ),
        (
            ProviderKind::OpenAiCompatible,
            &["", "/", "/v1", "/v1/", "/v1/chat/completions"],
            "/v1/chat/completions",
            || openai_says(ANSWERED),
        ),
    ];
    for (kind, suffixes, path, reply) in forms {
        for suffix in suffixes {
            let fake = FakeServer::start(vec![reply()]).await;
            let p = provider(kind, &format!("{}{suffix}", fake.url()), MODEL, Some("k-1"));
            let (events, error) = collect(p.stream(conversation())).await;
            assert!(error.is_none(), "{kind:?} {suffix:?}: {error:?}");
            assert_eq!(text(&events), ANSWERED);
            assert_eq!(
                fake.requests()[0].request_line,
                format!("POST {path} HTTP/1.1"),
                "{kind:?} with base_url ending {suffix:?}"
            );
        }
    }
}

#[tokio::test]
async fn a_404_or_a_web_page_names_the_url_posted_and_its_base_url() {
    let google_404 = Reply {
        headers: vec![("content-type".into(), "text/html; charset=UTF-8".into())],
        ..Reply::status(
            404,
            "<!DOCTYPE html>\n<html lang=en>\n  <meta charset=utf-8>\n  <title>Error 404 (Not Found)!!1</title>\n  \
             <p>The requested URL <code>/v9/models/gemini:streamGenerateContent</code> was not found on this server.",
        )
    };
    let cases: [(ProviderKind, &str, &str, Reply, &str); 3] = [
        (
            ProviderKind::Anthropic,
            "/v1/v1",
            "/v1/v1/messages",
            Reply::status(
                404,
                r#"{"type":"error","error":{"type":"not_found_error","message":"Not Found"}}"#,
            ),
            "HTTP 404: Not Found",
        ),
        (
            ProviderKind::Gemini,
            "/v9",
            &format!("/v9/models/{MODEL}:streamGenerateContent"),
            google_404,
            "HTTP 404: an HTML page: \"Error 404 (Not Found)!!1\"",
        ),
        (
            ProviderKind::OpenAi,
            "/v2",
            "/v2/chat/completions",
            Reply::status(
                404,
                r#"{"error":{"message":"Invalid URL (POST /v2/chat/completions)","type":"invalid_request_error","param":null,"code":null}}"#,
            ),
            "HTTP 404: Invalid URL (POST /v2/chat/completions)",
        ),
    ];
    for (kind, base, path, reply, detail) in cases {
        let fake = FakeServer::start(vec![reply]).await;
        let base_url = format!("{}{base}", fake.url());
        let p = provider(kind, &base_url, MODEL, Some("k-1"));
        let (_, error) = collect(p.stream(conversation())).await;
        let e = error.unwrap();
        let shown = e.to_string();
        assert!(
            shown.contains(&format!("has no API at {}{path} ({detail})", fake.url())),
            "{shown}"
        );
        assert!(
            shown.contains(&format!("made from base_url = \"{base_url}\"")),
            "{shown}"
        );
        assert!(!shown.contains("does not know the model"), "{shown}");
        assert_eq!(fake.attempts(), 1, "not retried");
    }
}
