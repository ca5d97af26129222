//! Per-channel flow control on one shared connection to a real OpenSSH `sshd`: a pane whose
//! reader stops (a flood nobody reads) or an exec whose future is not polled stalls only its
//! own channel. The other channels' round trips, keepalives and key re-exchange go on, and
//! the stalled channel's bytes all arrive, in order, when its reader resumes; under floods
//! on ten channels read at different speeds no byte is lost or duplicated. The same holds on
//! lumen's embedded server (`lumen demo`, the benches), whose channels' output all go through
//! one queue in its session.
#![allow(clippy::unwrap_used)]

mod common;

use common::{Answers, Sshd, auto_answer, read_to_close, read_until, until_within};
use lumen::pty::PtyCommand;
use lumen::ssh::{Connector, EmbeddedServer, EmbeddedServerOptions, ExecOptions, Plan, Target};
use lumen::stream::{CloseReason, Stream, StreamEvent, Waker};
use std::time::Duration;

const SIZE: (u16, u16) = (80, 24);
/// Lines of the flood: about 17 MB on a PTY, far more than a channel's window and every
/// queue between the socket and the pane (russh's and the stream's) together.
const FLOOD_LINES: u32 = 2_000_000;
/// How long a flood runs unread before the other channels are tried: enough for it to
/// fill every queue on its way (it needs a few milliseconds).
const FILL: Duration = Duration::from_secs(2);
/// A generous bound on a round trip on a quiet channel (a few milliseconds when the
/// connection is not blocked; without per-channel flow control it never comes).
const ROUND_TRIP: Duration = Duration::from_secs(5);
const SETTLE: Duration = Duration::from_secs(30);

fn me() -> String {
    lumen::ssh::target::local_user()
}

/// What `seq first last` prints, with the PTY's line endings when `pty`.
fn seq(first: u32, last: u32, pty: bool) -> Vec<u8> {
    let end = if pty { "\r\n" } else { "\n" };
    (first..=last)
        .map(|i| format!("{i}{end}"))
        .collect::<String>()
        .into_bytes()
}

/// `got` is `want`, byte for byte; else where they part.
fn assert_same(got: &[u8], want: &[u8], what: &str) {
    if got == want {
        return;
    }
    let at = got.iter().zip(want).take_while(|(a, b)| a == b).count();
    let show = |b: &[u8]| String::from_utf8_lossy(&b[at..(at + 40).min(b.len())]).into_owned();
    panic!(
        "{what}: {} bytes, expected {}; first difference at byte {at}: got {:?}, expected {:?}",
        got.len(),
        want.len(),
        show(got),
        show(want)
    );
}

/// A connector to `sshd` (keepalive every `keepalive`) and a plan to it.
fn lab(sshd: &Sshd, dir: &std::path::Path, keepalive: Option<Duration>) -> (Connector, Plan) {
    let mut opts = sshd.client_options(dir);
    if let Some(k) = keepalive {
        opts.keepalive_interval = k;
    }
    let (prompter, _) = auto_answer(Answers::default());
    let connector = Connector::new(opts, prompter);
    let plan = connector.direct("flood", &Target::new(me(), "127.0.0.1", sshd.port));
    (connector, plan)
}

/// lumen's embedded server with `/bin/sh` sessions, a connector to it and a plan to it.
async fn embedded_lab(dir: &std::path::Path) -> (EmbeddedServer, Connector, Plan) {
    let server = EmbeddedServer::start(EmbeddedServerOptions {
        shell: PtyCommand::new("/bin/sh"),
        ..EmbeddedServerOptions::default()
    })
    .await
    .unwrap();
    let opts = server.client_options(&dir.join("known_hosts")).unwrap();
    let (prompter, _) = auto_answer(Answers::default());
    let connector = Connector::new(opts, prompter);
    let plan = connector.direct("flood", &server.target(None));
    (server, connector, plan)
}

/// A pane running `command` on a PTY over the plan's shared connection.
fn pane_running(connector: &Connector, plan: &Plan, command: &str, waker: &Waker) -> Stream {
    let mut p = plan.clone();
    p.command = Some(command.to_string());
    connector.session(&p, SIZE, waker)
}

/// An echo through the quiet pane, within [`ROUND_TRIP`].
async fn round_trip(quiet: &mut Stream, n: u32) {
    quiet
        .handle
        .write(format!("echo said-$(({n}+1000))\n").as_bytes());
    let said = format!("said-{}", n + 1000);
    let echoed = tokio::time::timeout(ROUND_TRIP, read_until(quiet, &said)).await;
    assert!(
        echoed.is_ok(),
        "no echo within {ROUND_TRIP:?} while another channel's flood was unread"
    );
}

/// An exec on the shared connection, within [`ROUND_TRIP`].
async fn exec_round_trip(connector: &Connector, plan: &Plan) {
    let opts = ExecOptions::default();
    let exec = connector.exec(plan, "echo exec-ok", &opts);
    let out = tokio::time::timeout(ROUND_TRIP, exec).await;
    let out = out
        .unwrap_or_else(|_| panic!("no exec result within {ROUND_TRIP:?} during the flood"))
        .unwrap();
    assert_eq!(out.stdout, b"exec-ok\n");
}

/// Read a pane to its end: the output and how it ended.
async fn rest_of(stream: &mut Stream) -> (Vec<u8>, CloseReason) {
    let (text, reason) = read_to_close(stream).await;
    (text.into_bytes(), reason)
}

/// The quiet pane, after its shell answered once (the shared connection is up).
async fn quiet_pane(connector: &Connector, plan: &Plan, waker: &Waker) -> Stream {
    let mut quiet = connector.session(plan, SIZE, waker);
    round_trip(&mut quiet, 0).await;
    quiet
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unread_flood_stalls_only_its_own_channel() {
    let sshd = Sshd::start_logged("");
    let dir = tempfile::tempdir().unwrap();
    let (connector, plan) = lab(&sshd, dir.path(), None);
    unread_flood_stalls_only_itself(&connector, &plan, || {
        assert_eq!(connector.open_connections(), 1, "one shared connection");
        assert_eq!(sshd.log_count("Accepted publickey"), 1);
    })
    .await;
}

/// A flood nobody reads for a while: the quiet pane and execs on the same connection still
/// answer (`one_login` checks, meanwhile, that all of it went over one login); then the
/// flood's reader resumes and gets every byte, in order, then its end.
async fn unread_flood_stalls_only_itself(connector: &Connector, plan: &Plan, one_login: impl Fn()) {
    let waker = Waker::new();
    let mut quiet = quiet_pane(connector, plan, &waker).await;
    let mut flood = pane_running(connector, plan, &format!("seq 1 {FLOOD_LINES}"), &waker);
    let mut got = read_until(&mut flood, "1\r\n").await.into_bytes();
    tokio::time::sleep(FILL).await;
    for n in 1..=3 {
        round_trip(&mut quiet, n).await;
        exec_round_trip(connector, plan).await;
    }
    one_login();
    let (rest, reason) = rest_of(&mut flood).await;
    got.extend(rest);
    assert_same(&got, &seq(1, FLOOD_LINES, true), "the flood");
    assert_eq!(reason, CloseReason::Exited(Some(0)));
    round_trip(&mut quiet, 4).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unread_flood_stalls_only_its_own_channel_on_the_embedded_server() {
    // The server's session stops taking output from its one queue while a channel has data
    // waiting for window: a flood handed over regardless of its window held every other
    // channel's output behind it for as long as its reader was paused.
    let dir = tempfile::tempdir().unwrap();
    let (server, connector, plan) = embedded_lab(dir.path()).await;
    unread_flood_stalls_only_itself(&connector, &plan, || {
        assert_eq!(server.logins(), 1, "one shared connection");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn keepalives_and_rekeys_go_on_during_an_unread_flood() {
    // The server re-keys every second there is traffic; the client sends a keepalive every
    // second.
    let sshd = Sshd::start_logged("RekeyLimit default 1s");
    let dir = tempfile::tempdir().unwrap();
    let (connector, plan) = lab(&sshd, dir.path(), Some(Duration::from_secs(1)));
    let waker = Waker::new();
    let mut quiet = quiet_pane(&connector, &plan, &waker).await;
    let mut flood = pane_running(&connector, &plan, &format!("seq 1 {FLOOD_LINES}"), &waker);
    let mut got = read_until(&mut flood, "1\r\n").await.into_bytes();
    tokio::time::sleep(FILL).await;
    let keepalive = "rtype keepalive@openssh.com";
    let rekeyed = "SSH2_MSG_NEWKEYS received";
    let (keepalives, rekeys) = (sshd.log_count(keepalive), sshd.log_count(rekeyed));
    // While the flood stays unread: keepalives answered, keys exchanged again.
    assert!(
        until_within(SETTLE, || sshd.log_count(keepalive) >= keepalives + 3
            && sshd.log_count(rekeyed) >= rekeys + 2)
        .await,
        "keepalives {} -> {}, rekeys {} -> {}",
        keepalives,
        sshd.log_count(keepalive),
        rekeys,
        sshd.log_count(rekeyed)
    );
    round_trip(&mut quiet, 1).await;
    exec_round_trip(&connector, &plan).await;
    let (rest, reason) = rest_of(&mut flood).await;
    got.extend(rest);
    assert_same(&got, &seq(1, FLOOD_LINES, true), "the flood across re-keys");
    assert_eq!(reason, CloseReason::Exited(Some(0)));
    assert!(sshd.log_count(rekeyed) > rekeys, "{}", sshd.log());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_exec_not_being_read_stalls_only_its_own_channel() {
    let sshd = Sshd::start_logged("");
    let dir = tempfile::tempdir().unwrap();
    let (connector, plan) = lab(&sshd, dir.path(), None);
    let waker = Waker::new();
    let mut quiet = quiet_pane(&connector, &plan, &waker).await;
    // An exec whose output is far more than its window: its future is polled for a while,
    // then not (its caller is busy elsewhere), then again.
    let lines = 3_000_000;
    let opts = ExecOptions {
        max_output: 64 << 20,
        ..ExecOptions::default()
    };
    // The output starts late enough that no machine sends all of it while the exec is still
    // polled (on an idle machine a bare `seq` finished within the first 300 ms).
    let command = format!("sleep 0.25; seq 1 {lines}");
    let exec = connector.exec(&plan, &command, &opts);
    tokio::pin!(exec);
    tokio::select! {
        r = &mut exec => panic!("the exec ended before it was paused: {:?}", r.map(|o| o.status)),
        () = tokio::time::sleep(Duration::from_millis(300)) => {}
    }
    tokio::time::sleep(FILL).await;
    for n in 1..=3 {
        round_trip(&mut quiet, n).await;
    }
    let out = exec.await.unwrap();
    assert!(!out.truncated);
    assert_same(&out.stdout, &seq(1, lines, false), "the exec's output");
    assert_eq!(out.status, Some(0));
}

/// Read a pane to its end, stopping for a moment every `every` chunks.
async fn read_slowly(mut stream: Stream, every: usize, pause: Duration) -> Vec<u8> {
    let mut out = Vec::new();
    let mut chunks = 0;
    loop {
        match tokio::time::timeout(SETTLE, stream.events.recv()).await {
            Ok(Some(StreamEvent::Data(d))) => {
                out.extend(d);
                chunks += 1;
                if chunks % every == 0 {
                    tokio::time::sleep(pause).await;
                }
            }
            Ok(Some(StreamEvent::Notice(_))) => {}
            Ok(Some(StreamEvent::Closed(reason))) => {
                assert_eq!(reason, CloseReason::Exited(Some(0)));
                return out;
            }
            Ok(None) => panic!("stream ended without a reason"),
            Err(_) => panic!("no output for {SETTLE:?}; {} bytes so far", out.len()),
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn ten_floods_read_at_different_speeds_lose_and_repeat_nothing() {
    // Fourteen channels at once: more than sshd's default ten sessions per connection.
    let sshd = Sshd::start_logged("MaxSessions 32");
    let dir = tempfile::tempdir().unwrap();
    let (connector, plan) = lab(&sshd, dir.path(), None);
    let waker = Waker::new();
    let mut quiet = quiet_pane(&connector, &plan, &waker).await;
    let lines = 200_000;
    let mut readers = Vec::new();
    for i in 0..10u32 {
        let first = i * 1_000_000 + 1;
        let pane = pane_running(
            &connector,
            &plan,
            &format!("seq {first} {}", first + lines - 1),
            &waker,
        );
        // Half the readers stop now and then, each at its own pace.
        let (every, pause) = if i % 2 == 0 {
            (usize::MAX, Duration::ZERO)
        } else {
            (4 + i as usize, Duration::from_millis(20 * u64::from(i)))
        };
        readers.push((first, tokio::spawn(read_slowly(pane, every, pause))));
    }
    // Execs on the same connection meanwhile.
    let mut execs = Vec::new();
    for i in 0..3u32 {
        let (connector, plan) = (connector.clone(), plan.clone());
        execs.push(tokio::spawn(async move {
            let first = 50_000_000 + i * 1_000_000;
            let command = format!("seq {first} {}", first + lines - 1);
            let out = connector
                .exec(&plan, &command, &ExecOptions::default())
                .await
                .unwrap();
            (first, out)
        }));
    }
    round_trip(&mut quiet, 1).await;
    for (first, reader) in readers {
        let got = reader.await.unwrap();
        assert_same(
            &got,
            &seq(first, first + lines - 1, true),
            &format!("pane from {first}"),
        );
    }
    for exec in execs {
        let (first, out) = exec.await.unwrap();
        assert_same(
            &out.stdout,
            &seq(first, first + lines - 1, false),
            &format!("exec from {first}"),
        );
    }
    assert_eq!(connector.open_connections(), 1, "one shared connection");
}
