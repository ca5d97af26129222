//! An SSH PTY session as a byte-stream backend for a terminal pane, and one-shot `exec`.
//!
//! [`spawn_session`] returns the [`Stream`] at once and connects in the background: a
//! connection failure arrives as `StreamEvent::Closed(CloseReason::Failed(message))`, so the
//! pane shows it like any other end. [`open_session`] connects first and returns the error.
//! Reconnecting is opening again.

use super::SshError;
use super::client::{Connection, connect};
use super::jump::{JumpPool, SharedConnection};
use super::prompt::Prompter;
use super::resolve::Plan;
use super::target::{ConnectOptions, Target};
use crate::stream::{self, CloseReason, Stream, StreamCmd, StreamEnds, StreamEvent, Waker};
use russh::ChannelMsg;
use std::sync::Arc;
use std::time::Duration;

/// How long to wait for the connection task's own error after the channel vanished.
const END_REASON_WAIT: Duration = Duration::from_secs(2);

/// Connect and start a PTY shell of `size` = (cols, rows); errors come back here.
pub async fn open_session(
    target: &Target,
    opts: &ConnectOptions,
    prompter: Prompter,
    size: (u16, u16),
    waker: &Waker,
) -> Result<Stream, SshError> {
    open_command(target, opts, prompter, size, waker, None).await
}

/// Like [`open_session`] but runs `command` (instead of the login shell) on the PTY, as
/// `ssh -t host command` does.
pub async fn open_command(
    target: &Target,
    opts: &ConnectOptions,
    prompter: Prompter,
    size: (u16, u16),
    waker: &Waker,
    command: Option<&str>,
) -> Result<Stream, SshError> {
    let conn = connect(target, opts, &prompter).await?;
    let channel = start_pty(&conn, opts, size, command).await?;
    let (stream, ends) = stream::channel(waker);
    tokio::spawn(pump(ConnRef::Own(Box::new(conn)), channel, ends));
    Ok(stream)
}

/// Like [`open_session`] but returns at once; failures end the stream with
/// `CloseReason::Failed`. Must be called inside a tokio runtime.
pub fn spawn_session(
    target: &Target,
    opts: &ConnectOptions,
    prompter: Prompter,
    size: (u16, u16),
    waker: &Waker,
) -> Stream {
    let (target, opts) = (target.clone(), opts.clone());
    spawn_started(waker, async move {
        let conn = connect(&target, &opts, &prompter).await?;
        let channel = start_pty(&conn, &opts, size, None).await?;
        Ok((conn, channel))
    })
}

/// Return a stream at once and start the session behind it in a task: `started` connects and
/// opens the PTY channel; its error ends the stream with `CloseReason::Failed(message)`.
fn spawn_started(
    waker: &Waker,
    started: impl std::future::Future<Output = Result<(Connection, Channel), SshError>> + Send + 'static,
) -> Stream {
    let (stream, ends) = stream::channel(waker);
    tokio::spawn(async move {
        match started.await {
            Ok((conn, channel)) => pump(ConnRef::Own(Box::new(conn)), channel, ends).await,
            Err(e) => {
                ends.send(StreamEvent::Closed(CloseReason::Failed(e.to_string())))
                    .await;
            }
        }
    });
    stream
}

/// Connect along `plan` (jump hosts shared through `pool`, ProxyCommand) and start a PTY
/// shell; errors come back here, naming the hop that failed.
pub async fn open_planned_session(
    plan: &Plan,
    pool: &JumpPool,
    prompter: Prompter,
    size: (u16, u16),
    waker: &Waker,
) -> Result<Stream, SshError> {
    let conn = pool.connect(plan, &prompter).await?;
    let channel = start_pty(&conn, &plan.target.options, size, None).await?;
    let (stream, ends) = stream::channel(waker);
    tokio::spawn(pump(ConnRef::Own(Box::new(conn)), channel, ends));
    Ok(stream)
}

/// Like [`open_planned_session`] but returns at once (what a pane uses); a failure ends the
/// stream with `CloseReason::Failed(message)`. Must be called inside a tokio runtime. The jump
/// connections are released when the stream's session ends.
pub fn spawn_planned_session(
    plan: &Plan,
    pool: &JumpPool,
    prompter: Prompter,
    size: (u16, u16),
    waker: &Waker,
) -> Stream {
    let (plan, pool) = (plan.clone(), pool.clone());
    spawn_started(waker, async move {
        let conn = pool.connect(&plan, &prompter).await?;
        let channel = start_pty(&conn, &plan.target.options, size, None).await?;
        Ok((conn, channel))
    })
}

pub(crate) type Channel = russh::Channel<russh::client::Msg>;

pub(crate) async fn start_pty(
    conn: &Connection,
    opts: &ConnectOptions,
    (cols, rows): (u16, u16),
    command: Option<&str>,
) -> Result<Channel, SshError> {
    let refused = |what: &str| {
        let what = what.to_string();
        move |e: russh::Error| SshError::Channel {
            what,
            why: e.to_string(),
        }
    };
    let channel = conn
        .handle
        .channel_open_session()
        .await
        .map_err(refused("a session channel"))?;
    if conn.forward_agent {
        channel
            .agent_forward(false)
            .await
            .map_err(refused("agent forwarding"))?;
    }
    for (k, v) in &opts.env {
        // Servers refuse variables they do not AcceptEnv; that is fine, as with ssh.
        let _ = channel.set_env(false, k.as_str(), v.as_str()).await;
    }
    channel
        .request_pty(
            false,
            &opts.term,
            u32::from(cols.max(1)),
            u32::from(rows.max(1)),
            0,
            0,
            &[],
        )
        .await
        .map_err(refused("a terminal (PTY)"))?;
    match command {
        Some(c) => channel
            .exec(false, c)
            .await
            .map_err(refused("the command"))?,
        None => channel
            .request_shell(false)
            .await
            .map_err(refused("a shell"))?,
    }
    Ok(channel)
}

/// Who keeps the connection a session runs on: the session itself, or everyone sharing it.
pub(crate) enum ConnRef {
    Own(Box<Connection>),
    Shared(Arc<SharedConnection>),
}

impl ConnRef {
    fn conn(&self) -> Option<&Connection> {
        match self {
            ConnRef::Own(c) => Some(c),
            ConnRef::Shared(s) => s.conn(),
        }
    }

    fn take_banner(&mut self) -> Option<String> {
        match self {
            ConnRef::Own(c) => c.banner.take(),
            ConnRef::Shared(s) => s.take_banner(),
        }
    }

    /// This session is done with the connection: an own one is closed; a shared one closes
    /// when its last user lets go.
    async fn release(self) {
        if let ConnRef::Own(c) = self {
            c.disconnect().await;
        }
    }
}

/// Move bytes both ways until the channel or the connection ends, then say why.
pub(crate) async fn pump(mut conn: ConnRef, mut channel: Channel, mut ends: StreamEnds) {
    if let Some(banner) = conn.take_banner() {
        // As ssh prints it: before the session, with terminal line endings.
        let text = banner.replace("\r\n", "\n").replace('\n', "\r\n");
        if !ends.send(StreamEvent::Data(text.into_bytes())).await {
            return;
        }
    }
    let mut status: Option<Option<i32>> = None;
    let reason = loop {
        tokio::select! {
            cmd = ends.commands.recv() => match cmd {
                Some(StreamCmd::Input(bytes)) => {
                    if channel.data_bytes(bytes).await.is_err() {
                        break end_reason(&conn, status).await;
                    }
                }
                Some(StreamCmd::Resize { cols, rows }) => {
                    let _ = channel
                        .window_change(u32::from(cols.max(1)), u32::from(rows.max(1)), 0, 0)
                        .await;
                }
                Some(StreamCmd::Close) | None => {
                    let _ = channel.close().await;
                    conn.release().await;
                    break status.map(CloseReason::Exited).unwrap_or(CloseReason::Exited(None));
                }
            },
            msg = channel.wait() => match msg {
                Some(ChannelMsg::Data { data }) | Some(ChannelMsg::ExtendedData { data, .. }) => {
                    if !ends.send(StreamEvent::Data(data.to_vec())).await {
                        let _ = channel.close().await;
                        conn.release().await;
                        return;
                    }
                }
                Some(ChannelMsg::ExitStatus { exit_status }) => {
                    status = Some(Some(i32::try_from(exit_status).unwrap_or(i32::MAX)));
                }
                Some(ChannelMsg::ExitSignal { .. }) => status = Some(None),
                Some(ChannelMsg::Close) => {
                    let reason = status.map(CloseReason::Exited).unwrap_or(CloseReason::ServerClosed);
                    conn.release().await;
                    break reason;
                }
                Some(_) => {}
                None => break end_reason(&conn, status).await,
            },
        }
    };
    ends.send(StreamEvent::Closed(reason)).await;
}

/// The channel is gone: an exit status wins; else the connection's own reason (for a shared
/// connection, the same for every session on it).
async fn end_reason(conn: &ConnRef, status: Option<Option<i32>>) -> CloseReason {
    if let Some(s) = status {
        return CloseReason::Exited(s);
    }
    match conn.conn() {
        Some(c) => c
            .end_reason(END_REASON_WAIT)
            .await
            .unwrap_or(CloseReason::ServerClosed),
        None => CloseReason::ServerClosed,
    }
}

/// What a command printed and how it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// None when killed by a signal or when the server sent no status.
    pub status: Option<u32>,
}

/// Run one command without a PTY on a new connection. Prompts go through `prompter`
/// (use [`Prompter::none`] for batch use: unknown hosts are then refused).
pub async fn exec(
    target: &Target,
    opts: &ConnectOptions,
    prompter: &Prompter,
    command: &str,
) -> Result<Output, SshError> {
    let conn = connect(target, opts, prompter).await?;
    let out = exec_on(&conn, command).await;
    conn.disconnect().await;
    out
}

/// Run one command on an existing connection (scans reuse one connection).
pub async fn exec_on(conn: &Connection, command: &str) -> Result<Output, SshError> {
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let status = exec_streaming(conn, command, |to_stderr, data| {
        if to_stderr {
            stderr.extend_from_slice(data)
        } else {
            stdout.extend_from_slice(data)
        }
    })
    .await?;
    Ok(Output {
        stdout,
        stderr,
        status,
    })
}

/// Run one command without a PTY, handing each chunk of its output to `output` as it arrives
/// (`true`: stderr) — `ssh -T host COMMAND`. Returns the exit status (None: killed by a
/// signal, or the server sent none).
pub async fn exec_streaming(
    conn: &Connection,
    command: &str,
    output: impl FnMut(bool, &[u8]),
) -> Result<Option<u32>, SshError> {
    super::exec::stream(conn, command, output)
        .await
        .map_err(|f| f.into_ssh_error(&conn.target.host, command, Duration::ZERO))
}
