//! Fake AI providers on loopback: a raw HTTP/1.1 server that answers each request from a
//! script of replies (real wire formats, split where a test says, cut short, stalled) and
//! records every request byte.

use lumen::ai::provider::{
    ChatEvent, ChatStream, ProviderError, ProviderSettings, ProxyEnv, RetryPolicy,
};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;

/// Pause between body pieces so each reaches the client as its own read.
const PIECE_GAP: Duration = Duration::from_millis(2);

/// One scripted answer.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// Body pieces, each written (and, when chunked, framed) separately.
    pub pieces: Vec<Vec<u8>>,
    /// Transfer-Encoding: chunked; otherwise the body ends when the connection closes.
    pub chunked: bool,
    /// Close the connection after the pieces without finishing the body.
    pub cut: bool,
    /// Keep the connection open, silent, this long after the pieces.
    pub stall: Option<Duration>,
}

impl Reply {
    /// A 200 event stream of `text`, in one piece.
    pub fn sse(text: &str) -> Self {
        Self {
            status: 200,
            headers: vec![("content-type".into(), "text/event-stream".into())],
            pieces: vec![text.as_bytes().to_vec()],
            chunked: true,
            cut: false,
            stall: None,
        }
    }

    /// An answer with `status` and a JSON (or any) body.
    pub fn status(status: u16, body: &str) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            pieces: vec![body.as_bytes().to_vec()],
            chunked: false,
            cut: false,
            stall: None,
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Re-split the body into pieces of `size` bytes: cuts fall mid-line and, where the text
    /// has multi-byte characters, mid-UTF-8.
    pub fn split_every(mut self, size: usize) -> Self {
        let all: Vec<u8> = self.pieces.concat();
        self.pieces = all.chunks(size).map(<[u8]>::to_vec).collect();
        self
    }

    /// Split the body before each byte offset in `cuts`.
    pub fn split_at(mut self, cuts: &[usize]) -> Self {
        let all: Vec<u8> = self.pieces.concat();
        let mut pieces = Vec::new();
        let mut start = 0;
        for &cut in cuts {
            pieces.push(all[start..cut].to_vec());
            start = cut;
        }
        pieces.push(all[start..].to_vec());
        self.pieces = pieces;
        self
    }
}

/// A request as received.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// Every byte, head and body.
    pub raw: Vec<u8>,
    pub request_line: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Recorded {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("request body is JSON")
    }

    /// A header's value (names compared without case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A fake provider; stops when dropped.
pub struct FakeServer {
    pub addr: SocketAddr,
    requests: Arc<Mutex<Vec<Recorded>>>,
    /// Connections the client closed while the fake stalled (a cancelled answer).
    hangups: Arc<std::sync::atomic::AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeServer {
    /// Serve `replies` in order, one per request; requests past the script get a 500.
    pub async fn start(replies: Vec<Reply>) -> Self {
        Self::launch(replies, None).await
    }

    /// The same over TLS, with the certificate `tls` presents (see [`private_ca`]).
    pub async fn start_tls(replies: Vec<Reply>, tls: tokio_rustls::TlsAcceptor) -> Self {
        Self::launch(replies, Some(tls)).await
    }

    async fn launch(replies: Vec<Reply>, tls: Option<tokio_rustls::TlsAcceptor>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let requests: Arc<Mutex<Vec<Recorded>>> = Arc::default();
        let script = Arc::new(Mutex::new(replies.into_iter()));
        let log = requests.clone();
        let hangups: Arc<std::sync::atomic::AtomicUsize> = Arc::default();
        let counter = hangups.clone();
        let task = tokio::spawn(async move {
            let mut connections = tokio::task::JoinSet::new();
            while let Ok((stream, _)) = listener.accept().await {
                stream.set_nodelay(true).unwrap();
                let (log, script, counter) = (log.clone(), script.clone(), counter.clone());
                match tls.clone() {
                    None => connections.spawn(serve(stream, log, script, counter)),
                    Some(tls) => connections.spawn(async move {
                        // A client that refuses the certificate ends here.
                        if let Ok(stream) = tls.accept(stream).await {
                            serve(stream, log, script, counter).await;
                        }
                    }),
                };
            }
        });
        Self {
            addr,
            requests,
            hangups,
            task,
        }
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }

    /// Requests received so far (each attempt is one).
    pub fn attempts(&self) -> usize {
        self.requests.lock().unwrap().len()
    }

    /// Connections the client closed while the fake held them open, silent.
    pub fn hangups(&self) -> usize {
        self.hangups.load(std::sync::atomic::Ordering::SeqCst)
    }
}

async fn serve<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    log: Arc<Mutex<Vec<Recorded>>>,
    script: Arc<Mutex<std::vec::IntoIter<Reply>>>,
    hangups: Arc<std::sync::atomic::AtomicUsize>,
) {
    let mut buffer = Vec::new();
    loop {
        let Some(request) = read_request(&mut stream, &mut buffer).await else {
            return;
        };
        log.lock().unwrap().push(request);
        let reply = script.lock().unwrap().next().unwrap_or_else(|| {
            Reply::status(500, r#"{"error":{"message":"the fake's script is over"}}"#)
        });
        if !write_reply(&mut stream, &reply, &hangups).await {
            return;
        }
    }
}

/// Read one request (head, then a Content-Length body); None when the client closed.
async fn read_request<S: AsyncRead + Unpin>(
    stream: &mut S,
    buffer: &mut Vec<u8>,
) -> Option<Recorded> {
    let head_end = loop {
        if let Some(i) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default().to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    while buffer.len() < head_end + length {
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
    let raw: Vec<u8> = buffer.drain(..head_end + length).collect();
    let body = raw[head_end..].to_vec();
    Some(Recorded {
        raw,
        request_line,
        headers,
        body,
    })
}

/// Write a reply; whether the connection can serve another request.
async fn write_reply<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    reply: &Reply,
    hangups: &std::sync::atomic::AtomicUsize,
) -> bool {
    let mut head = format!("HTTP/1.1 {} Fake\r\n", reply.status);
    for (n, v) in &reply.headers {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    if reply.chunked {
        head.push_str("transfer-encoding: chunked\r\n\r\n");
    } else if reply.cut {
        head.push_str("connection: close\r\n\r\n");
    } else {
        let length: usize = reply.pieces.iter().map(Vec::len).sum();
        head.push_str(&format!("content-length: {length}\r\n\r\n"));
    }
    if stream.write_all(head.as_bytes()).await.is_err() {
        return false;
    }
    for piece in &reply.pieces {
        let framed = if reply.chunked {
            let mut f = format!("{:x}\r\n", piece.len()).into_bytes();
            f.extend_from_slice(piece);
            f.extend_from_slice(b"\r\n");
            f
        } else {
            piece.clone()
        };
        if stream.write_all(&framed).await.is_err() || stream.flush().await.is_err() {
            return false;
        }
        tokio::time::sleep(PIECE_GAP).await;
    }
    if let Some(stall) = reply.stall {
        // Silent, but watching: a read of 0 bytes means the client hung up.
        let mut byte = [0u8; 1];
        if let Ok(Ok(0)) = tokio::time::timeout(stall, stream.read(&mut byte)).await {
            hangups.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            return false;
        }
    }
    if reply.cut {
        let _ = stream.shutdown().await;
        return false;
    }
    if reply.chunked && stream.write_all(b"0\r\n\r\n").await.is_err() {
        return false;
    }
    true
}

/// Settings for tests: no proxy, quick retries, short timeouts.
pub fn settings() -> ProviderSettings {
    ProviderSettings {
        connect_timeout: Duration::from_secs(5),
        idle_timeout: Duration::from_secs(5),
        retry: RetryPolicy {
            attempts: 4,
            first_backoff: Duration::from_millis(5),
            max_backoff: Duration::from_millis(20),
            max_wait: Duration::from_secs(5),
        },
        proxy: ProxyEnv::default(),
        ca_file: None,
    }
}

/// Everything a stream yields, and the error that ended it, if any.
pub async fn collect(mut stream: ChatStream) -> (Vec<ChatEvent>, Option<ProviderError>) {
    use futures::StreamExt;
    let mut events = Vec::new();
    while let Some(item) = stream.next().await {
        match item {
            Ok(e) => events.push(e),
            Err(e) => return (events, Some(e)),
        }
    }
    (events, None)
}

/// The text of all text deltas.
pub fn text(events: &[ChatEvent]) -> String {
    events
        .iter()
        .filter_map(|e| match e {
            ChatEvent::TextDelta(t) => Some(t.as_str()),
            _ => None,
        })
        .collect()
}

/// The events other than text deltas and retries, to compare whole.
pub fn structure(events: &[ChatEvent]) -> Vec<ChatEvent> {
    events
        .iter()
        .filter(|e| !matches!(e, ChatEvent::TextDelta(_) | ChatEvent::Retrying { .. }))
        .cloned()
        .collect()
}

/// Count of `Retrying` events.
pub fn retries(events: &[ChatEvent]) -> usize {
    events
        .iter()
        .filter(|e| matches!(e, ChatEvent::Retrying { .. }))
        .count()
}

/// `event: NAME\ndata: JSON\n\n` for each pair: Anthropic's framing.
pub fn named_events(events: &[(&str, Value)]) -> String {
    events
        .iter()
        .map(|(name, data)| format!("event: {name}\ndata: {data}\n\n"))
        .collect()
}

/// `data: JSON\n\n` for each chunk then `data: [DONE]`: OpenAI's framing.
pub fn data_events_done(chunks: &[Value]) -> String {
    let mut s: String = chunks.iter().map(|c| format!("data: {c}\n\n")).collect();
    s.push_str("data: [DONE]\n\n");
    s
}

/// One OpenAI chat-completion chunk from `model`.
pub fn openai_chunk(model: &str, delta: Value, finish: Value) -> Value {
    json!({"id":"c1","object":"chat.completion.chunk","created":1,"model":model,
                       "choices":[{"index":0,"delta":delta,"finish_reason":finish}]})
}

/// An OpenAI-format answer that ends the task: `text`.
pub fn openai_says(text: &str) -> Reply {
    Reply::sse(&data_events_done(&[
        openai_chunk("m", json!({"role":"assistant","content":text}), Value::Null),
        openai_chunk("m", json!({}), json!("stop")),
    ]))
}

/// A text answer in `kind`'s wire format.
pub fn says_as(kind: lumen::ai::provider::ProviderKind, text: &str) -> Reply {
    use lumen::ai::provider::ProviderKind;
    match kind {
        ProviderKind::Anthropic => Reply::sse(&named_events(&[
            (
                "message_start",
                json!({"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],"usage":{"input_tokens":10,"output_tokens":1}}}),
            ),
            (
                "content_block_start",
                json!({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}),
            ),
            (
                "content_block_delta",
                json!({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":text}}),
            ),
            (
                "content_block_stop",
                json!({"type":"content_block_stop","index":0}),
            ),
            (
                "message_delta",
                json!({"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":5}}),
            ),
            ("message_stop", json!({"type":"message_stop"})),
        ])),
        ProviderKind::Gemini => Reply::sse(&format!(
            "data: {}\n\n",
            json!({"candidates":[{"content":{"role":"model","parts":[{"text":text}]},"finishReason":"STOP"}],
                   "usageMetadata":{"promptTokenCount":10,"candidatesTokenCount":5}})
        )),
        _ => openai_says(text),
    }
}

/// An OpenAI-format answer: `text` (none when empty), then `propose_command` with `command`
/// and `explanation` as call `id`.
pub fn openai_proposes(text: &str, id: &str, command: &str, explanation: &str) -> Reply {
    let args = json!({"command": command, "explanation": explanation});
    openai_calls(text, id, "propose_command", &args)
}

/// An OpenAI-compatible answer: `text` (if any), then a call of tool `name` with `args`.
pub fn openai_calls(text: &str, id: &str, name: &str, args: &Value) -> Reply {
    let args = args.to_string();
    let mut chunks = Vec::new();
    if !text.is_empty() {
        chunks.push(openai_chunk(
            "m",
            json!({"role":"assistant","content":text}),
            Value::Null,
        ));
    }
    chunks.push(openai_chunk(
        "m",
        json!({"tool_calls":[{"index":0,"id":id,"type":"function",
               "function":{"name":name,"arguments":args}}]}),
        Value::Null,
    ));
    chunks.push(openai_chunk("m", json!({}), json!("tool_calls")));
    Reply::sse(&data_events_done(&chunks))
}

/// A call of tool `name` with `args` (call `id`) in `kind`'s wire format, ending the turn for
/// the tool.
pub fn calls_as(
    kind: lumen::ai::provider::ProviderKind,
    id: &str,
    name: &str,
    args: &Value,
) -> Reply {
    use lumen::ai::provider::ProviderKind;
    match kind {
        ProviderKind::Anthropic => {
            let json = args.to_string();
            let (a, b) = json.split_at(json.len() / 2);
            Reply::sse(&named_events(&[
                (
                    "message_start",
                    json!({"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],"usage":{"input_tokens":10,"output_tokens":1}}}),
                ),
                (
                    "content_block_start",
                    json!({"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":id,"name":name,"input":{}}}),
                ),
                (
                    "content_block_delta",
                    json!({"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":a}}),
                ),
                (
                    "content_block_delta",
                    json!({"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":b}}),
                ),
                (
                    "content_block_stop",
                    json!({"type":"content_block_stop","index":0}),
                ),
                (
                    "message_delta",
                    json!({"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":5}}),
                ),
                ("message_stop", json!({"type":"message_stop"})),
            ]))
        }
        ProviderKind::Gemini => Reply::sse(&format!(
            "data: {}\n\n",
            json!({"candidates":[{"content":{"role":"model","parts":[{"functionCall":{"id":id,"name":name,"args":args}}]},"finishReason":"STOP"}],
                   "usageMetadata":{"promptTokenCount":10,"candidatesTokenCount":5}})
        )),
        _ => openai_calls("", id, name, args),
    }
}

/// A provider of `kind` at `base_url` with `key` (a test key, never a real one).
pub fn provider(
    kind: lumen::ai::provider::ProviderKind,
    base_url: &str,
    model: &str,
    key: Option<&str>,
) -> std::sync::Arc<dyn lumen::ai::provider::Provider> {
    provider_with(kind, base_url, model, key, &settings())
}

pub fn provider_with(
    kind: lumen::ai::provider::ProviderKind,
    base_url: &str,
    model: &str,
    key: Option<&str>,
    settings: &ProviderSettings,
) -> std::sync::Arc<dyn lumen::ai::provider::Provider> {
    let endpoint = lumen::ai::provider::Endpoint {
        kind,
        model: model.into(),
        base_url: Some(base_url.into()),
        key: key.map(|k| secrecy::SecretString::from(k.to_string()).into()),
    };
    lumen::ai::provider::connect(endpoint, settings).unwrap()
}

/// A conversation that uses every kind of message: a question, a tool call and its result,
/// and a follow-up.
pub fn conversation() -> lumen::ai::provider::ChatRequest {
    use lumen::ai::provider::{ChatRequest, Message, PROPOSE_COMMAND, READ_SCROLLBACK, ToolCall};
    ChatRequest {
        system: "You help an operator on host web1.".into(),
        messages: vec![
            Message::User("Is the disk full?".into()),
            Message::Assistant {
                text: "Let me check.".into(),
                tool_calls: vec![ToolCall {
                    id: "call-1".into(),
                    name: "propose_command".into(),
                    arguments: serde_json::json!({"command": "df -h", "explanation": "disk use"}),
                    signature: None,
                }],
            },
            Message::ToolResult {
                call_id: "call-1".into(),
                content: "/dev/sda1 50G 49G 1G 98% /".into(),
            },
            Message::User("What now?".into()),
        ],
        context: None,
        tools: vec![PROPOSE_COMMAND.clone(), READ_SCROLLBACK.clone()],
        max_tokens: 1024,
    }
}

/// A private certificate authority (its PEM) and a TLS acceptor presenting a certificate it
/// issued for 127.0.0.1.
pub fn private_ca() -> (String, tokio_rustls::TlsAcceptor) {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
    use tokio_rustls::rustls;
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "lumen test CA");
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_string()])
        .unwrap()
        .signed_by(&leaf_key, &ca)
        .unwrap();
    let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into()),
        )
        .unwrap();
    (
        ca.pem(),
        tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config)),
    )
}
