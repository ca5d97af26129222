//! The client: finds (or starts) the server, sends its hello, and for `new` and `attach`
//! lends the server this terminal: input events go up, frames come down and are written as
//! they are. It always gives the terminal back, says why it left, and never waits forever.

use crate::server::proto::{self, Clipboard, Exit, Hello, Reply, Request, kind};
use crate::term::{LocalEvent, Signal, SignalKind, TerminalGuard};
use std::io::Write;
use std::os::unix::net::UnixStream as StdStream;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;
use tokio::net::UnixStream;

/// How long a started server may take to listen.
const START_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the server may take to answer a hello.
const REPLY_TIMEOUT: Duration = Duration::from_secs(15);

/// The signals a client acts on: a hangup detaches (the session goes on), as does anything
/// that would end it.
const CLIENT_SIGNALS: [(SignalKind, Signal); 6] = [
    (SignalKind::terminate(), Signal::Terminate("SIGTERM")),
    (SignalKind::hangup(), Signal::Detach),
    (SignalKind::interrupt(), Signal::Terminate("SIGINT")),
    (SignalKind::quit(), Signal::Terminate("SIGQUIT")),
    (SignalKind::from_raw(libc::SIGTSTP), Signal::Suspend),
    (SignalKind::from_raw(libc::SIGCONT), Signal::Continue),
];

/// Which server, and how to talk to it.
pub struct Server {
    pub socket: PathBuf,
    /// Talk to a server of another build when the protocol matches.
    pub any_build: bool,
}

impl Server {
    /// The server for `-L NAME` (or the home's, or the default).
    pub fn named(name: Option<&str>, any_build: bool) -> Result<Self, String> {
        let socket = crate::server::socket_path(name)?;
        Ok(Self { socket, any_build })
    }

    /// A connection to the running server; None when there is none (a stale socket, which
    /// refuses connections, is removed).
    fn connect(&self) -> Result<Option<StdStream>, String> {
        let dir = self.socket.parent().unwrap_or(Path::new("/"));
        if dir.exists() {
            crate::server::check_socket_dir(dir)?;
        }
        match StdStream::connect(&self.socket) {
            Ok(s) => Ok(Some(s)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                let _ = std::fs::remove_file(&self.socket);
                Ok(None)
            }
            Err(e) => Err(format!(
                "cannot reach the lumen server at {}: {e}",
                self.socket.display()
            )),
        }
    }

    /// A connection to the server, starting it first if none runs. The server is this
    /// binary, detached: a session and process group of its own, stdio on /dev/null.
    fn connect_or_start(&self) -> Result<StdStream, String> {
        if let Some(s) = self.connect()? {
            return Ok(s);
        }
        crate::server::check_socket_dir(self.socket.parent().unwrap_or(Path::new("/")))?;
        let exe =
            std::env::current_exe().map_err(|e| format!("cannot find lumen's own binary: {e}"))?;
        let mut cmd = std::process::Command::new(exe);
        cmd.arg("server")
            .arg("--socket")
            .arg(&self.socket)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        {
            use std::os::unix::process::CommandExt;
            // SAFETY: setsid is async-signal-safe; nothing else runs between fork and exec.
            unsafe {
                cmd.pre_exec(|| {
                    libc::setsid();
                    Ok(())
                });
            }
        }
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("cannot start the lumen server: {e}"))?;
        let deadline = std::time::Instant::now() + START_TIMEOUT;
        loop {
            if let Some(s) = self.connect()? {
                // Reap the server whenever it ends, so it never lingers as a zombie.
                std::thread::spawn(move || child.wait());
                return Ok(s);
            }
            if let Ok(Some(status)) = child.try_wait() {
                let log = crate::paths::Paths::from_env().logs_dir().join("lumen.log");
                let why = last_error(&log).unwrap_or_default();
                return Err(format!(
                    "the lumen server exited at once ({status}){why}; see its log, {}",
                    log.display()
                ));
            }
            if std::time::Instant::now() > deadline {
                return Err("the lumen server did not start listening within 10 s".into());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// The last error line of the server's log, as `: why`.
fn last_error(log: &Path) -> Option<String> {
    let text = crate::text::read_capped_string(log, crate::text::SETTINGS_FILE_LIMIT).ok()?;
    let line = text.lines().rev().find(|l| l.contains("ERROR"))?;
    let why = line.split_once("ERROR").map_or(line, |(_, w)| w).trim();
    Some(format!(": {}", crate::text::escape_controls(why)))
}

fn hello(request: Request, any_build: bool) -> Hello {
    let size = crossterm::terminal::size().unwrap_or((80, 24));
    Hello {
        protocol: proto::PROTOCOL,
        build: proto::build_id(),
        any_build,
        term: std::env::var("TERM").ok(),
        colorterm: std::env::var("COLORTERM").ok(),
        size,
        ssh_auth_sock: std::env::var("SSH_AUTH_SOCK").ok(),
        request,
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))
}

fn to_tokio(stream: StdStream) -> Result<UnixStream, String> {
    stream
        .set_nonblocking(true)
        .map_err(|e| e.to_string())
        .and_then(|()| UnixStream::from_std(stream).map_err(|e| e.to_string()))
}

/// Send the hello and read the first reply.
async fn ask(stream: &mut UnixStream, hello: &Hello) -> Result<Reply, String> {
    proto::write_json(stream, kind::HELLO, hello)
        .await
        .map_err(|e| format!("cannot talk to the lumen server: {e}"))?;
    let frame = tokio::time::timeout(REPLY_TIMEOUT, proto::read_frame(stream))
        .await
        .map_err(|_| "the lumen server did not answer within 15 s".to_string())?
        .map_err(|e| format!("the lumen server's answer: {e}"))?;
    match frame {
        Some((kind::REPLY, payload)) => proto::parse("reply", &payload).map_err(|e| e.to_string()),
        Some((other, _)) => Err(format!(
            "the lumen server answered with a frame of kind {other}"
        )),
        None => {
            Err("the lumen server closed the connection without answering (see its log)".into())
        }
    }
}

/// Say why the server refused, naming both builds when they differ.
fn refusal(reason: &str, build: &str, protocol: u32) -> String {
    let ours = proto::build_id();
    if build != ours {
        let how = if protocol == proto::PROTOCOL {
            "end it with `lumen kill-server` (its sessions end too), or attach anyway with \
             `lumen attach --any-build`"
        } else {
            "end it with `lumen kill-server` (its sessions end too)"
        };
        format!(
            "{reason}: the server runs lumen {build} (protocol {protocol}), this is lumen {ours} \
             (protocol {}); {how}",
            proto::PROTOCOL
        )
    } else {
        reason.to_string()
    }
}

/// A request that gets one answer (`ls`, `kill-*`): the reply, or None with no server.
fn one_shot(server: &Server, request: Request) -> Result<Option<Reply>, String> {
    let Some(stream) = server.connect()? else {
        return Ok(None);
    };
    let rt = runtime()?;
    rt.block_on(async {
        let mut stream = to_tokio(stream)?;
        ask(&mut stream, &hello(request, server.any_build))
            .await
            .map(Some)
    })
}

fn no_server(server: &Server) -> String {
    format!("no lumen server running on {}", server.socket.display())
}

/// `lumen ls [--json]`.
pub fn list(server: &Server, json: bool) -> ExitCode {
    match one_shot(server, Request::List) {
        Ok(Some(Reply::Sessions { sessions })) => {
            if json {
                let v = serde_json::json!({ "sessions": sessions });
                println!("{v}");
            } else {
                for s in &sessions {
                    let created = chrono_like(s.created);
                    let hosts = if s.hosts.is_empty() {
                        String::new()
                    } else {
                        format!(" [{}]", s.hosts.join(", "))
                    };
                    let attached = if s.attached > 0 {
                        format!(" ({} attached)", s.attached)
                    } else {
                        String::new()
                    };
                    let panes = if s.panes == 1 { "pane" } else { "panes" };
                    println!(
                        "{}: {} {panes}{hosts} (created {created}){attached}",
                        s.name, s.panes
                    );
                }
            }
            ExitCode::SUCCESS
        }
        other => not_done(server, other),
    }
}

/// Seconds since the epoch as a UTC time, `2026-12-06 18:31:26`.
fn chrono_like(secs: u64) -> String {
    let days = secs / 86_400;
    let rem = secs % 86_400;
    // Civil from days (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Any answer but the one asked for: said, exit 1.
fn not_done(server: &Server, answer: Result<Option<Reply>, String>) -> ExitCode {
    match answer {
        Ok(Some(Reply::Refused {
            reason,
            build,
            protocol,
        })) => fail(&refusal(&reason, &build, protocol)),
        Ok(Some(other)) => fail(&format!("unexpected answer from the server: {other:?}")),
        Ok(None) => fail(&no_server(server)),
        Err(e) => fail(&e),
    }
}

fn fail(message: &str) -> ExitCode {
    crate::errln!("lumen: {message}");
    ExitCode::FAILURE
}

/// `lumen kill-session -t NAME` and `lumen kill-server`.
pub fn kill(server: &Server, request: Request) -> ExitCode {
    match one_shot(server, request) {
        Ok(Some(Reply::Done { message })) => {
            if let Some(m) = message {
                println!("{m}");
            }
            ExitCode::SUCCESS
        }
        other => not_done(server, other),
    }
}

/// `lumen attach`: None when no server runs.
pub fn attach(server: &Server, request: Request, mouse: bool) -> ExitCode {
    let stream = match server.connect() {
        Ok(Some(s)) => s,
        Ok(None) => return fail(&no_server(server)),
        Err(e) => return fail(&e),
    };
    session(stream, hello(request, server.any_build), mouse)
}

/// `lumen`, `lumen shell`, `lumen connect …`, `lumen new`: a new session in the server
/// (started if need be), attached to unless `detached`.
pub fn new_session(server: &Server, request: Request, mouse: bool) -> ExitCode {
    let detached = matches!(request, Request::New { detached: true, .. });
    if !detached {
        use std::io::IsTerminal;
        if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
            return fail(
                "lumen draws a full-screen interface and needs a terminal, but its input or \
                 output is not one; run it in a terminal (or `lumen new -d` to start a session \
                 in the background; the subcommands hosts, vault and --privacy work without one)",
            );
        }
    }
    let stream = match server.connect_or_start() {
        Ok(s) => s,
        Err(e) => return fail(&e),
    };
    if detached {
        let rt = match runtime() {
            Ok(rt) => rt,
            Err(e) => return fail(&e),
        };
        let hello = hello(request, server.any_build);
        return match rt.block_on(async {
            let mut stream = to_tokio(stream)?;
            ask(&mut stream, &hello).await
        }) {
            Ok(Reply::Done { .. }) => ExitCode::SUCCESS,
            other => not_done(server, other.map(Some)),
        };
    }
    session(stream, hello(request, server.any_build), mouse)
}

/// How an attached client's time ended.
enum End {
    Exit(Exit),
    /// The server's connection ended without an exit.
    Lost(String),
    /// This client left on its own (a hangup): the session goes on.
    Left,
}

/// Attach this terminal to a session until it detaches or the session or server ends.
fn session(stream: StdStream, hello: Hello, mouse: bool) -> ExitCode {
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(e) => return fail(&e),
    };
    let outcome = rt.block_on(async move {
        let mut stream = to_tokio(stream)?;
        let session = match ask(&mut stream, &hello).await? {
            Reply::Attached { session, .. } => session,
            Reply::Refused {
                reason,
                build,
                protocol,
            } => return Err(refusal(&reason, &build, protocol)),
            other => return Err(format!("unexpected answer from the server: {other:?}")),
        };
        let end = attached(stream, mouse).await.map_err(|e| e.to_string())?;
        Ok((session, end))
    });
    // The guard is gone: the terminal is ours again before anything is printed.
    match outcome {
        Err(e) => fail(&e),
        Ok((_, End::Exit(Exit::Detached { session }))) => {
            println!("[detached (from session {session})]");
            ExitCode::SUCCESS
        }
        Ok((session, End::Left)) => {
            println!("[detached (from session {session})]");
            ExitCode::SUCCESS
        }
        Ok((_, End::Exit(Exit::SessionEnded { code, .. }))) => ExitCode::from(code),
        Ok((_, End::Exit(Exit::SessionKilled { session }))) => {
            println!("[session {session} killed]");
            ExitCode::SUCCESS
        }
        Ok((_, End::Exit(Exit::ServerKilled))) => {
            println!("[the lumen server was killed]");
            ExitCode::SUCCESS
        }
        Ok((_, End::Lost(why))) => fail(&format!(
            "lost the lumen server ({why}); it may have crashed: see its log in {}",
            crate::paths::Paths::from_env().logs_dir().display()
        )),
    }
}

/// The attached part: the terminal in lumen's modes, input up, frames down.
async fn attached(stream: UnixStream, mouse: bool) -> anyhow::Result<End> {
    let (mut read, mut write) = stream.into_split();
    let (local_tx, mut local) = tokio::sync::mpsc::unbounded_channel();
    crate::term::forward_signals(&local_tx, &CLIENT_SIGNALS)?;
    let guard = TerminalGuard::enter(mouse)?;
    let (up_tx, mut up) = tokio::sync::mpsc::unbounded_channel::<(u8, Vec<u8>)>();
    let input_tx = up_tx.clone();
    crate::term::input::spawn_reader(
        move |ev| match serde_json::to_vec(&ev) {
            Ok(json) => input_tx.send((kind::INPUT, json)).is_ok(),
            Err(_) => true,
        },
        local_tx.clone(),
    );
    crate::term::input::watch_for_hangup(local_tx);
    let writer = tokio::spawn(async move {
        while let Some((kind, payload)) = up.recv().await {
            if proto::write_frame(&mut write, kind, &payload)
                .await
                .is_err()
            {
                break;
            }
        }
    });
    let mut out = std::io::stdout();
    let mut leaving: Option<tokio::time::Instant> = None;
    let end = loop {
        let leave_by = async {
            match leaving {
                Some(t) => tokio::time::sleep_until(t).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            frame = proto::read_frame(&mut read) => match frame {
                Ok(Some((kind::OUTPUT, bytes))) => {
                    if out.write_all(&bytes).and_then(|()| out.flush()).is_err() {
                        let _ = up_tx.send((kind::DETACH, Vec::new()));
                        break End::Left;
                    }
                }
                Ok(Some((kind::CLIPBOARD, payload))) => {
                    let payload = zeroize::Zeroizing::new(payload);
                    if let Ok(c) = proto::parse::<Clipboard>("clipboard request", &payload) {
                        crate::term::clipboard::apply(match c {
                            Clipboard::Set(t) => crate::app::ClipboardRequest::Set(t),
                            Clipboard::SetSecret(t) => crate::app::ClipboardRequest::SetSecret(t.into()),
                            Clipboard::ClearSecret => crate::app::ClipboardRequest::ClearSecret,
                        });
                    }
                }
                Ok(Some((kind::EXIT, payload))) => match proto::parse::<Exit>("exit", &payload) {
                    Ok(exit) => break End::Exit(exit),
                    Err(e) => break End::Lost(e.to_string()),
                },
                Ok(Some(_)) => {}
                Ok(None) => break End::Lost("it closed the connection".into()),
                Err(e) => break End::Lost(e.to_string()),
            },
            event = local.recv() => match event {
                Some(LocalEvent::Signal(Signal::Detach | Signal::Terminate(_))) | Some(LocalEvent::ClientGone(_)) => {
                    // Ask to leave; the server answers with the exit (or we go anyway).
                    let _ = up_tx.send((kind::DETACH, Vec::new()));
                    leaving.get_or_insert(tokio::time::Instant::now() + Duration::from_secs(2));
                }
                Some(LocalEvent::Signal(Signal::Suspend)) => {
                    guard.suspend()?;
                    let _ = up_tx.send((kind::REDRAW, Vec::new()));
                }
                Some(LocalEvent::Signal(Signal::Continue)) => {
                    guard.resume()?;
                    let _ = up_tx.send((kind::REDRAW, Vec::new()));
                }
                Some(LocalEvent::Signal(Signal::Resize)) | None => {}
            },
            _ = leave_by => break End::Left,
        }
    };
    writer.abort();
    drop(guard);
    Ok(end)
}

#[cfg(test)]
mod tests {
    #[test]
    fn creation_times_read_as_utc() {
        assert_eq!(super::chrono_like(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(super::chrono_like(1_796_578_286), "2026-12-06 17:31:26 UTC");
    }
}
