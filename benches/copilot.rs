//! The copilot's own costs, never asserted: building a request from a 10 000-line scrollback
//! (pane text to redacted request), lumen's latency from the provider's first byte to the
//! answer's first character drawn in the copilot pane (stream, parse, message, update, draw),
//! and the memory a 100-turn conversation holds (counted by the allocator).
//!
//! `cargo bench --bench copilot`

#[path = "support/timed_sse.rs"]
mod timed_sse;

use criterion::{Criterion, criterion_group, criterion_main};
use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use lumen::ai::config::{AiConfig, Profile};
use lumen::ai::copilot::{Context, HostFacts, Session, build_request};
use lumen::ai::provider::{ChatEvent, ProviderKind, StopReason, ToolCall};
use lumen::ai::redact::Secrets;
use lumen::app::copilot::AiSetup;
use lumen::app::{App, AppOptions, Bus, Effect, Msg, PaneSpec, Spawner};
use lumen::panes::terminal::{TerminalConfig, TerminalPane};
use lumen::stream::{Stream, StreamEnds, Waker};
use lumen::workspace::AiPolicy;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

/// Counts live heap bytes, for the conversation's memory.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size, Ordering::Relaxed);
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// 10 000 lines of ordinary operator output (logs, a process list), fed through a pane.
fn scrollback_pane() -> (TerminalPane, StreamEnds) {
    let (stream, ends) = lumen::stream::channel(&Waker::new());
    let cfg = TerminalConfig {
        cols: 120,
        rows: 40,
        scrollback: 20_000,
    };
    let mut pane = TerminalPane::new(stream, cfg);
    let mut text = String::new();
    for i in 0..10_000 {
        text.push_str(&format!(
            "2026-12-01T10:{:02}:{:02} web1 nginx[{}]: 10.0.0.{} GET /api/v1/items/{i} 200 {} ms\r\n",
            (i / 60) % 60,
            i % 60,
            1000 + i % 50,
            i % 250,
            i % 900
        ));
    }
    pane.feed(text.as_bytes());
    (pane, ends)
}

fn context_build(c: &mut Criterion) {
    let (pane, _ends) = scrollback_pane();
    let session = Session::new("web1", AiPolicy::Ask, 10, 2000);
    let facts = HostFacts {
        text: "os: Debian GNU/Linux 12\nkernel: Linux 6.1.0 x86_64\nhostname: web1".into(),
    };
    let secrets = Secrets::default();
    let mut g = c.benchmark_group("copilot_context");
    for (name, lines) in [("200 of 10k lines", 200), ("all 10k lines", 10_000)] {
        g.bench_function(name, |b| {
            b.iter(|| {
                let text = pane.last_lines(lines);
                let built = build_request(
                    &session,
                    &Context {
                        host: "web1",
                        facts: Some(&facts),
                        scan_summary: Some("last scan: 3 high findings"),
                        lines: &text,
                        max_lines: lines,
                        lookbehind: 0,
                        vault_entries: &[],
                        secrets: &secrets,
                        runbooks: &[],
                        demo: false,
                    },
                );
                std::hint::black_box(built.request.system.len())
            })
        });
    }
    g.finish();
}

/// Each answer's text is `Hello<n>` (n counts requests).
fn hello(n: usize) -> (String, String) {
    let first = format!(
        "data: {{\"choices\":[{{\"index\":0,\"delta\":{{\"role\":\"assistant\",\"content\":\"Hello{n}\"}},\"finish_reason\":null}}]}}\n\n"
    );
    let rest = "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n";
    (first, rest.to_string())
}

/// Panes on in-memory streams: the bench needs no shell.
struct Channels(Arc<Mutex<Vec<StreamEnds>>>);

impl Spawner for Channels {
    fn spawn(
        &mut self,
        _spec: &PaneSpec,
        _cols: u16,
        _rows: u16,
        waker: &Waker,
    ) -> Result<(Stream, String), String> {
        let (stream, ends) = lumen::stream::channel(waker);
        self.0.lock().map_err(|e| e.to_string())?.push(ends);
        Ok((stream, "sh".into()))
    }
}

fn key(app: &mut App, code: KeyCode) {
    app.handle_event(Event::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

/// An app with the copilot open beside a pane, its host facts gathered.
fn copilot_app(addr: std::net::SocketAddr, rt: &tokio::runtime::Runtime) -> (App, Bus, Inbox) {
    let mut opts = AppOptions::new(Box::new(Channels(Arc::default())));
    opts.size = (160, 50);
    opts.ai = Some(AiSetup {
        config: AiConfig::with_profile(Profile {
            provider: ProviderKind::OpenAiCompatible,
            model: "bench".into(),
            base_url: Some(format!("http://{addr}/v1")),
            api_key: None,
            prices: None,
        }),
        demo: false,
        workspace_dir: None,
    });
    let mut app = App::new(opts);
    app.new_tab(PaneSpec::LocalShell);
    app.handle_event(Event::Key(KeyEvent::new(
        KeyCode::Char('b'),
        KeyModifiers::CONTROL,
    )));
    key(&mut app, KeyCode::Char('a'));
    let (bus, inbox) = Bus::channel();
    let mut inbox = Inbox(inbox);
    // The first question waits for the facts, then streams: run it to the end.
    ask(&mut app);
    rt.block_on(async {
        run_until(&mut app, &bus, &mut inbox, |_| false, |app| !busy(app)).await;
    });
    (app, bus, inbox)
}

struct Inbox(tokio::sync::mpsc::UnboundedReceiver<Msg>);

fn busy(app: &App) -> bool {
    app.focused()
        .and_then(|c| app.copilot.bound(c))
        .and_then(|t| app.copilot.session(t))
        .is_some_and(|s| s.is_busy())
}

fn ask(app: &mut App) {
    key(app, KeyCode::Char('?'));
    key(app, KeyCode::Enter);
}

/// The event loop in small: run the copilot's jobs, apply each message and draw, until `end`.
/// Returns the instant `drawn` first held after a draw.
async fn run_until(
    app: &mut App,
    bus: &Bus,
    inbox: &mut Inbox,
    mut drawn: impl FnMut(&str) -> bool,
    end: impl Fn(&App) -> bool,
) -> Option<Instant> {
    let (w, h) = app.size;
    let mut term = Terminal::new(TestBackend::new(w, h)).expect("test backend");
    let mut seen = None;
    let mut handled = 0;
    loop {
        for effect in app.take_effects() {
            if let Effect::Ai(job) = effect {
                tokio::spawn(job.report_to(bus.clone()));
            }
        }
        // Only after a message: a question may wait for the host's facts before it is busy.
        if handled > 0 && end(app) {
            return seen;
        }
        handled += 1;
        let Some(msg) = inbox.0.recv().await else {
            return seen;
        };
        for effect in app.update(msg) {
            if let Effect::Ai(job) = effect {
                tokio::spawn(job.report_to(bus.clone()));
            }
        }
        term.draw(|f| lumen::app::ui::draw(app, f)).expect("draw");
        if seen.is_none() {
            let text: String = term
                .backend()
                .buffer()
                .content()
                .iter()
                .map(|c| c.symbol())
                .collect();
            if drawn(&text) {
                seen = Some(Instant::now());
            }
        }
    }
}

fn first_char_on_screen(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (tx, rx) = mpsc::channel();
    let addr = rt.block_on(timed_sse::serve(hello, tx));
    let mut g = c.benchmark_group("copilot_first_byte_to_screen");
    g.sample_size(30);
    g.measurement_time(Duration::from_secs(8));
    // Requests the fake has answered (it numbers its answers from 0).
    let mut answered = 0usize;
    g.bench_function("openai-compatible", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            let mut done = 0;
            while done < iters {
                // A fresh app every 20 questions, so the conversation stays a usual size.
                let (mut app, bus, mut inbox) = copilot_app(addr, &rt);
                answered += 1;
                let _ = rx.try_iter().count();
                for _ in 0..20.min(iters - done) {
                    ask(&mut app);
                    let marker = format!("Hello{answered}");
                    answered += 1;
                    let shown = rt.block_on(run_until(
                        &mut app,
                        &bus,
                        &mut inbox,
                        |text| text.contains(&marker),
                        |app| !busy(app),
                    ));
                    let t0 = rx.recv_timeout(Duration::from_secs(5)).expect("first byte");
                    total += shown.expect("the answer was drawn").duration_since(t0);
                    done += 1;
                }
            }
            total
        })
    });
    g.finish();
}

/// A 100-turn conversation: a question, an answer, a proposal, its 2 KB output and a follow-up
/// per turn, as the session keeps them.
fn hundred_turns() -> Session {
    let mut s = Session::new("web1", AiPolicy::Ask, 10, 2000);
    let answer = "The disk is filling because of the rotated nginx logs; ".repeat(10);
    let output =
        "Filesystem Size Used Avail Use% Mounted on /dev/vda 252G 79G 13G 87% /\n".repeat(28);
    for turn in 0..100 {
        let q = format!("turn {turn}: why is the disk filling up?");
        if s.ask(&q, q.clone()).is_err() {
            break;
        }
        s.on_event(ChatEvent::TextDelta(answer.clone()));
        s.on_event(ChatEvent::ToolCall(ToolCall {
            id: format!("call_{turn}"),
            name: "propose_command".into(),
            arguments: serde_json::json!({"command": "df -h", "explanation": "see the disks"}),
            signature: None,
        }));
        s.on_event(ChatEvent::Done {
            stop_reason: StopReason::ToolUse,
        });
        let Some(n) = s.pending() else { break };
        if s.approve(n, None).is_err() {
            break;
        }
        s.command_finished(n, output.clone());
        s.on_event(ChatEvent::TextDelta("Done: remove the old logs.".into()));
        s.on_event(ChatEvent::Done {
            stop_reason: StopReason::EndTurn,
        });
    }
    s
}

fn conversation_memory(c: &mut Criterion) {
    let before = LIVE.load(Ordering::Relaxed);
    let s = hundred_turns();
    let held = LIVE.load(Ordering::Relaxed).saturating_sub(before);
    let text: usize = s.messages().iter().map(|m| format!("{m:?}").len()).sum();
    eprintln!(
        "copilot_memory: a 100-turn conversation holds {held} bytes on the heap ({} per turn; \
         its text is about {text} bytes, {} items, {} messages)",
        held / 100,
        s.items().len(),
        s.messages().len()
    );
    drop(s);
    c.bench_function("copilot_100_turns_build", |b| {
        b.iter(|| std::hint::black_box(hundred_turns().items().len()))
    });
}

criterion_group!(
    benches,
    context_build,
    first_char_on_screen,
    conversation_memory
);
criterion_main!(benches);
