//! The demo model for `lumen demo`: a small server on loopback that speaks the OpenAI-compatible
//! streaming format and follows a fixed script. It is plainly a script, not an AI.

use crate::ai::config::Profile;
use crate::ai::provider::{PROPOSE_COMMAND_TOOL, ProviderKind};
use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, Limited, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::{Request, Response, StatusCode};
use serde_json::{Value, json};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::{JoinHandle, JoinSet};

/// The model name the demo answers to; the pane shows it, so it says what it is.
pub const DEMO_MODEL: &str = "scripted-demo (not an AI)";
/// First proposal: changes nothing.
pub const HARMLESS_COMMAND: &str = "uptime";
/// Second proposal: destructive on purpose, so the High-risk confirmation shows. It only
/// names a directory of the demo's own.
pub const RISKY_COMMAND: &str = "rm -rf /tmp/lumen-demo-cache";
/// Pause between streamed words, so the answer visibly streams in.
pub const WORD_INTERVAL: Duration = Duration::from_millis(20);
/// Largest request the demo reads.
const MAX_REQUEST: usize = 8 * 1024 * 1024;

const EXPLAIN: &str = "This is lumen's scripted demo, not an AI: your terminal shows a shell on a demo host, so a first, harmless look at how long it has been up and how busy it is.";
const EXPLAIN_HARMLESS: &str = "Prints how long the host has been up, who is logged in and the load averages; it changes nothing.";
const WARN: &str = "Next the script proposes something risky on purpose, so you can see how lumen flags it: read the card, and reject it with x.";
const EXPLAIN_RISKY: &str = "Deletes the demo's cache directory and everything in it, without asking. Destructive on purpose: lumen rates it High and asks you to type the host's name.";
const VAULT: &str = "Last, a command that needs a password: the script names the vault entry bound to this host, never its value. lumen fills the value in on the host, after you approve.";
const EXPLAIN_VAULT: &str = "Asks the local PostgreSQL server for its version with the password from the vault, which lumen puts in on the host, out of sight. The demo has no database: psql will say it cannot connect (or is not installed).";
const NO_VAULT: &str = "No vault entry is bound to this host, so the script skips its last step (a command that uses a vault password without the model seeing it).";
const SUMMARY: &str = "That is the whole script: a harmless command, a risky one and one using a vault password, each shown as a card that ran only if you approved it. To ask your own questions, set up a real model in the [ai] section of config.toml.";

/// The running demo model. Dropping the handle stops it and every connection it serves.
pub struct DemoModel;

pub struct DemoHandle {
    task: JoinHandle<()>,
}

impl Drop for DemoHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl DemoModel {
    /// Listen on a free loopback port; the returned address is where to send requests.
    pub async fn start() -> std::io::Result<(SocketAddr, DemoHandle)> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            let mut connections = JoinSet::new();
            loop {
                while connections.try_join_next().is_some() {}
                let Ok((stream, _)) = listener.accept().await else {
                    tokio::time::sleep(WORD_INTERVAL).await;
                    continue;
                };
                connections.spawn(async move {
                    let io = hyper_util::rt::TokioIo::new(stream);
                    let service = hyper::service::service_fn(answer);
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(io, service)
                        .await;
                });
            }
        });
        Ok((addr, DemoHandle { task }))
    }

    /// The profile that talks to the demo at `addr`, through the ordinary OpenAI-compatible
    /// provider (no key).
    pub fn profile(addr: SocketAddr) -> Profile {
        Profile {
            provider: ProviderKind::OpenAiCompatible,
            model: DEMO_MODEL.to_string(),
            base_url: Some(format!("http://{addr}/v1")),
            api_key: None,
            prices: None,
        }
    }
}

type Body = BoxBody<Bytes, Infallible>;

async fn answer(request: Request<Incoming>) -> Result<Response<Body>, Infallible> {
    let path = request.uri().path().to_string();
    if !path.ends_with("/chat/completions") {
        return Ok(error(
            StatusCode::NOT_FOUND,
            &format!("the demo model serves only /v1/chat/completions, not {path}"),
        ));
    }
    let body = match Limited::new(request.into_body(), MAX_REQUEST)
        .collect()
        .await
    {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            return Ok(error(
                StatusCode::BAD_REQUEST,
                "the request body could not be read",
            ));
        }
    };
    let Ok(chat) = serde_json::from_slice::<Value>(&body) else {
        return Ok(error(
            StatusCode::BAD_REQUEST,
            "the request body is not JSON",
        ));
    };
    let pieces = script(&chat, body.len());
    let frames = futures::stream::unfold(pieces.into_iter().enumerate(), |mut pieces| async move {
        let (i, piece) = pieces.next()?;
        if i > 0 {
            tokio::time::sleep(WORD_INTERVAL).await;
        }
        Some((Ok::<_, Infallible>(Frame::data(Bytes::from(piece))), pieces))
    });
    let mut response = Response::new(StreamBody::new(frames).boxed());
    response.headers_mut().insert(
        "content-type",
        hyper::header::HeaderValue::from_static("text/event-stream"),
    );
    Ok(response)
}

fn error(status: StatusCode, message: &str) -> Response<Body> {
    let body = json!({"error": {"message": message, "type": "invalid_request_error"}}).to_string();
    let mut response = Response::new(Full::new(Bytes::from(body)).boxed());
    *response.status_mut() = status;
    response
}

/// Which step of the script a request is at: tool results since the user last spoke. The
/// screen each request carries last (fenced as untrusted data) is not the user speaking.
fn step(chat: &Value) -> usize {
    let messages = chat
        .get("messages")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let spoke = |m: &Value| {
        m["role"] == "user"
            && !m["content"]
                .as_str()
                .is_some_and(|c| c.starts_with("<<<untrusted-data"))
    };
    let last_user = messages.iter().rposition(spoke).unwrap_or(0);
    messages[last_user..]
        .iter()
        .filter(|m| m["role"] == "tool")
        .count()
}

/// The first password entry the request says is bound to the host, as a real model would
/// read it: lumen lists `{{vault:NAME}} (KIND)` in the system prompt, names and kinds only.
fn bound_entry(chat: &Value) -> Option<String> {
    const LIST: &str = "Vault entries bound to this host";
    let system = chat
        .get("messages")?
        .as_array()?
        .iter()
        .filter(|m| m["role"] == "system")
        .find_map(|m| m["content"].as_str().filter(|c| c.contains(LIST)))?;
    let list = &system[system.find(LIST)?..];
    let list = &list[..list.find('\n').unwrap_or(list.len())];
    list.split("{{vault:").skip(1).find_map(|item| {
        let (name, rest) = item.split_once("}}")?;
        rest.trim_start()
            .starts_with("(password)")
            .then(|| name.to_string())
    })
}

/// The command the script proposes with the vault entry `name`: a database client's
/// password, one of the places lumen lets a value stand.
pub fn vault_command(name: &str) -> String {
    format!(
        "PGPASSWORD={{{{vault:{name}}}}} psql -X -h localhost -U postgres -c 'select version()'"
    )
}

/// The server-sent events of one answer: words of text, then maybe a `propose_command`
/// call sent in fragments (as real servers do), then usage and `[DONE]`.
fn script(chat: &Value, request_bytes: usize) -> Vec<String> {
    let step = step(chat);
    let vault_command = bound_entry(chat).map(|name| vault_command(&name));
    let no_vault = format!("{NO_VAULT}\n\n{SUMMARY}");
    let (text, call) = match (step, &vault_command) {
        (0, _) => (EXPLAIN, Some((HARMLESS_COMMAND, EXPLAIN_HARMLESS))),
        (1, _) => (WARN, Some((RISKY_COMMAND, EXPLAIN_RISKY))),
        (2, Some(command)) => (VAULT, Some((command.as_str(), EXPLAIN_VAULT))),
        (2, None) => (no_vault.as_str(), None),
        _ => (SUMMARY, None),
    };
    let chunk = |delta: Value, finish: Value| {
        let c = json!({
            "id": "demo",
            "object": "chat.completion.chunk",
            "model": DEMO_MODEL,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        });
        format!("data: {c}\n\n")
    };
    let mut events = vec![chunk(
        json!({"role": "assistant", "content": ""}),
        Value::Null,
    )];
    let words: Vec<&str> = text.split_inclusive(' ').collect();
    events.extend(
        words
            .iter()
            .map(|w| chunk(json!({"content": w}), Value::Null)),
    );
    let finish = match call {
        Some((command, explanation)) => {
            let arguments = json!({"command": command, "explanation": explanation}).to_string();
            let id = format!("demo-call-{step}");
            events.push(chunk(
                json!({"tool_calls": [{"index": 0, "id": id, "type": "function", "function": {"name": PROPOSE_COMMAND_TOOL, "arguments": ""}}]}),
                Value::Null,
            ));
            let cut = arguments.len() / 2;
            let cut = (cut..arguments.len())
                .find(|i| arguments.is_char_boundary(*i))
                .unwrap_or(cut);
            for part in [&arguments[..cut], &arguments[cut..]] {
                events.push(chunk(
                    json!({"tool_calls": [{"index": 0, "function": {"arguments": part}}]}),
                    Value::Null,
                ));
            }
            "tool_calls"
        }
        None => "stop",
    };
    events.push(chunk(json!({}), json!(finish)));
    // Rough counts, a quarter of the bytes, so the pane's token display has something to show.
    let usage = json!({
        "id": "demo",
        "object": "chat.completion.chunk",
        "choices": [],
        "usage": {"prompt_tokens": request_bytes / 4, "completion_tokens": text.len() / 4},
    });
    events.push(format!("data: {usage}\n\n"));
    events.push("data: [DONE]\n\n".to_string());
    events
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_advances_with_tool_results() {
        let user = json!({"role": "user", "content": "what is this?"});
        let tool = json!({"role": "tool", "tool_call_id": "x", "content": "up 3 days"});
        assert_eq!(step(&json!({"messages": [user]})), 0);
        assert_eq!(
            step(&json!({"messages": [user, {"role": "assistant"}, tool]})),
            1
        );
        assert_eq!(step(&json!({"messages": [user, tool, tool]})), 2);
        assert_eq!(step(&json!({"messages": [user, tool, tool, tool]})), 3);
        let screen =
            json!({"role": "user", "content": "<<<untrusted-data 1a2b source=\"the terminal\">>>"});
        assert_eq!(step(&json!({"messages": [user, tool, screen]})), 1);
        assert_eq!(
            step(&json!({"messages": [user, tool, tool, user]})),
            0,
            "a new question starts over"
        );
    }

    /// The script reads the entry's name where lumen puts it, and its command is one lumen
    /// accepts for that host.
    #[test]
    fn the_vault_step_uses_the_bound_entry_in_an_allowed_place() {
        use crate::ai::copilot::{Context, Session, build_request};
        use crate::workspace::AiPolicy;
        let session = Session::new("demo-web", AiPolicy::Ask, 10, 2000);
        let built = build_request(
            &session,
            &Context {
                host: "demo-web",
                facts: None,
                scan_summary: None,
                lines: &["$ ".to_string()],
                max_lines: 200,
                lookbehind: 0,
                vault_entries: &[
                    ("demo-db/totp".into(), crate::vault::Kind::Totp),
                    ("demo-db/postgres".into(), crate::vault::Kind::Password),
                ],
                secrets: &crate::ai::redact::Secrets::new(),
                runbooks: &[],
                demo: true,
            },
        );
        let chat = json!({"messages": [{"role": "system", "content": built.request.system}]});
        assert_eq!(bound_entry(&chat).as_deref(), Some("demo-db/postgres"));
        let command = vault_command("demo-db/postgres");
        assert!(
            crate::ai::placeholders::check_placement(&command, "demo-web").is_ok(),
            "{command}"
        );
        let none = json!({"messages": [{"role": "system", "content": "No vault entries are bound to this host."}]});
        assert_eq!(bound_entry(&none), None);
    }
}
