//! lumen's own latency on a streamed answer: from the instant a provider starts writing its
//! response (status line, headers and the first event in one write) to the first text delta
//! out of our stream, per wire format, against a local fake on loopback. Never asserted.
//!
//! `cargo bench --bench ai_provider`

#[path = "support/timed_sse.rs"]
mod timed_sse;

use criterion::{Criterion, criterion_group, criterion_main};
use futures::StreamExt;
use lumen::ai::provider::{
    ChatEvent, ChatRequest, Endpoint, Message, PROPOSE_COMMAND, ProviderKind, ProviderSettings,
    ProxyEnv, RetryPolicy,
};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The first event and the rest of one answer, in each format.
fn answer(kind: ProviderKind) -> (String, String) {
    match kind {
        ProviderKind::Anthropic => (
            "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":9}}}\n\n\
             event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n\
             event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hello\"}}\n\n".into(),
            "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n\
             event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":1}}\n\n\
             event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n".into(),
        ),
        ProviderKind::Gemini => (
            "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Hello\"}],\"role\":\"model\"}}]}\r\n\r\n".into(),
            "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"!\"}],\"role\":\"model\"},\"finishReason\":\"STOP\"}]}\r\n\r\n".into(),
        ),
        _ => (
            "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Hello\"},\"finish_reason\":null}]}\n\n".into(),
            "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n".into(),
        ),
    }
}

fn first_delta(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let settings = ProviderSettings {
        retry: RetryPolicy::default(),
        proxy: ProxyEnv::default(),
        ca_file: None,
        ..ProviderSettings::from_env(None)
    };
    let request = ChatRequest {
        system: "You help an operator.".into(),
        messages: vec![Message::User("What is on my screen?".into())],
        context: None,
        tools: vec![PROPOSE_COMMAND.clone()],
        max_tokens: 256,
    };
    let mut group = c.benchmark_group("ai_first_byte_to_first_delta");
    for (name, kind, prefix) in [
        ("anthropic", ProviderKind::Anthropic, ""),
        ("openai", ProviderKind::OpenAi, "/v1"),
        ("gemini", ProviderKind::Gemini, "/v1beta"),
    ] {
        let (tx, rx) = mpsc::channel();
        let addr = runtime.block_on(timed_sse::serve(move |_| answer(kind), tx));
        let endpoint = Endpoint {
            kind,
            model: "bench-model".into(),
            base_url: Some(format!("http://{addr}{prefix}")),
            key: Some(secrecy::SecretString::from("bench-key").into()),
        };
        let provider = lumen::ai::provider::connect(endpoint, &settings).expect("provider");
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                runtime.block_on(async {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        let mut stream = provider.stream(request.clone());
                        let mut t1 = None;
                        while let Some(event) = stream.next().await {
                            match event.expect("answer") {
                                ChatEvent::TextDelta(_) if t1.is_none() => {
                                    t1 = Some(Instant::now())
                                }
                                _ => {}
                            }
                        }
                        let t0 = rx.recv().expect("start instant");
                        total += t1.expect("a text delta").duration_since(t0);
                    }
                    total
                })
            })
        });
    }
    group.finish();
}

criterion_group!(benches, first_delta);
criterion_main!(benches);
