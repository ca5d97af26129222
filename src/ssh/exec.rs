//! One command on its own exec channel (no PTY), the one way lumen runs a command over SSH:
//! open a session channel, forward the agent when the connection does, send the command, feed
//! its stdin, then read stdout, stderr and the exit status — within a time limit and a cap on
//! each stream, stopping the command (SIGTERM, close) when either is reached or the caller
//! gives up. The [`Connector`](super::Connector), scans and `lumen connect HOST COMMAND` use it.

use super::SshError;
use super::client::Connection;
use russh::ChannelMsg;
use std::time::Duration;

/// An exec's default time limit.
pub const EXEC_TIMEOUT: Duration = Duration::from_secs(60);
/// An exec's default cap on stdout and on stderr, each.
pub const EXEC_MAX_OUTPUT: usize = 16 * 1024 * 1024;
/// After the output cap, how long to keep reading (and dropping) what is still in flight, so
/// a shared connection's flow control never stalls on the stopped command.
const DRAIN_GRACE: Duration = Duration::from_secs(2);

/// How to run one command.
#[derive(Debug, Clone)]
pub struct ExecOptions {
    /// Give up (and stop the command) after this long.
    pub timeout: Duration,
    /// Keep at most this many bytes of stdout and of stderr; past it the command is stopped
    /// and the output marked as cut.
    pub max_output: usize,
    /// Bytes written to the command's stdin, then end-of-file.
    pub stdin: Option<Vec<u8>>,
    /// When this turns true the command is stopped (SIGTERM, close) before the exec returns
    /// [`ExecFailure::Cancelled`]; unlike dropping the future, the stop is sent for sure.
    pub cancel: Option<tokio::sync::watch::Receiver<bool>>,
    /// Leave the command's stdin open after `stdin` until it ends, so the command can tell
    /// that lumen stopped it (or went away) by its stdin ending: a remote shell stops
    /// everything it started then, where SIGTERM over SSH is not delivered (OpenSSH ignores
    /// signal requests for root logins).
    pub hold_stdin: bool,
}

impl Default for ExecOptions {
    fn default() -> Self {
        Self {
            timeout: EXEC_TIMEOUT,
            max_output: EXEC_MAX_OUTPUT,
            stdin: None,
            cancel: None,
            hold_stdin: false,
        }
    }
}

/// What a command printed and how it ended.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecOutput {
    /// The exit status; None when killed by a signal, stopped by lumen, or not reported.
    pub status: Option<u32>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// stdout or stderr reached the cap; the command was stopped there.
    pub truncated: bool,
}

/// Why a command did not run to its end. Each caller words it for its own users.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecFailure {
    /// The channel could not be opened, or the command (or its input) not sent.
    Channel { what: &'static str, why: String },
    /// The host answered the exec request with a failure.
    Refused,
    /// The time limit was reached; the command was stopped.
    TimedOut,
    /// The caller's cancel switch turned; the command was stopped.
    Cancelled,
}

impl ExecFailure {
    /// In the SSH layer's words: `command` on `host`, with `limit` its time limit.
    pub(crate) fn into_ssh_error(self, host: &str, command: &str, limit: Duration) -> SshError {
        match self {
            ExecFailure::Channel { what, why } => SshError::Channel {
                what: what.to_string(),
                why,
            },
            ExecFailure::Refused => SshError::Channel {
                what: "the command".into(),
                why: "the host refused to run it".into(),
            },
            ExecFailure::Cancelled => SshError::Channel {
                what: "the command".into(),
                why: "cancelled; it was stopped on the host".into(),
            },
            ExecFailure::TimedOut => SshError::ExecTimeout {
                host: host.to_string(),
                command: command.to_string(),
                secs: limit.as_secs(),
            },
        }
    }
}

/// Run `command` with `opts`' limits and collect what it printed. Dropping the future stops
/// the command on the host.
pub async fn run(
    conn: &Connection,
    command: &str,
    opts: &ExecOptions,
) -> Result<ExecOutput, ExecFailure> {
    let mut out = ExecOutput::default();
    let max = opts.max_output;
    let limits = Limits {
        stdin: opts.stdin.as_deref(),
        timeout: Some(opts.timeout),
        cancel: opts.cancel.clone(),
        hold_stdin: opts.hold_stdin,
    };
    let status = exec(conn, command, limits, |stderr, data| {
        let buf = if stderr {
            &mut out.stderr
        } else {
            &mut out.stdout
        };
        let room = max.saturating_sub(buf.len());
        buf.extend_from_slice(&data[..data.len().min(room)]);
        data.len() <= room
    })
    .await?;
    out.truncated = status.capped;
    out.status = status.status;
    Ok(out)
}

/// Run `command` without limits, handing each chunk of its output to `output` as it arrives
/// (`true`: stderr) — `ssh -T host COMMAND`. Returns the exit status (None: killed by a
/// signal, or the server sent none).
pub async fn stream(
    conn: &Connection,
    command: &str,
    mut output: impl FnMut(bool, &[u8]),
) -> Result<Option<u32>, ExecFailure> {
    let limits = Limits {
        stdin: None,
        timeout: None,
        cancel: None,
        hold_stdin: false,
    };
    let end = exec(conn, command, limits, |stderr, data| {
        output(stderr, data);
        true
    })
    .await?;
    Ok(end.status)
}

struct Limits<'a> {
    stdin: Option<&'a [u8]>,
    timeout: Option<Duration>,
    cancel: Option<tokio::sync::watch::Receiver<bool>>,
    hold_stdin: bool,
}

/// How the command's output ended.
struct End {
    status: Option<u32>,
    /// The sink said "enough": the command was stopped.
    capped: bool,
}

/// The one exec: `keep` gets each chunk (`true`: stderr) and returns false when it has
/// enough, which stops the command.
async fn exec(
    conn: &Connection,
    command: &str,
    limits: Limits<'_>,
    mut keep: impl FnMut(bool, &[u8]) -> bool,
) -> Result<End, ExecFailure> {
    let failed = |what: &'static str| {
        move |e: russh::Error| ExecFailure::Channel {
            what,
            why: e.to_string(),
        }
    };
    let channel = conn
        .handle
        .channel_open_session()
        .await
        .map_err(failed("a session channel"))?;
    let mut running = Running(Some(channel));
    let channel = running.channel();
    if conn.forward_agent {
        let _ = channel.agent_forward(false).await;
    }
    channel
        .exec(true, command)
        .await
        .map_err(failed("the command"))?;
    let work = async {
        if let Some(input) = limits.stdin {
            channel
                .data(input)
                .await
                .map_err(failed("the command's input"))?;
        }
        if !limits.hold_stdin {
            let _ = channel.eof().await;
        }
        let mut end = End {
            status: None,
            capped: false,
        };
        let mut stopping = false;
        loop {
            let msg = if end.capped {
                match tokio::time::timeout(DRAIN_GRACE, channel.wait()).await {
                    Ok(msg) => msg,
                    Err(_) => break, // the host has not stopped yet; enough was kept
                }
            } else {
                channel.wait().await
            };
            let Some(msg) = msg else { break };
            match msg {
                ChannelMsg::Data { data } if !end.capped => end.capped = !keep(false, &data),
                ChannelMsg::ExtendedData { data, .. } if !end.capped => {
                    end.capped = !keep(true, &data)
                }
                ChannelMsg::ExitStatus { exit_status } => end.status = Some(exit_status),
                ChannelMsg::Failure => return Err(ExecFailure::Refused),
                ChannelMsg::Close => break,
                _ => {}
            }
            if end.capped && !stopping {
                // Ask the host to stop, and keep reading (and dropping) what is already on
                // its way.
                stopping = true;
                let _ = channel.signal(russh::Sig::TERM).await;
                let _ = channel.close().await;
            }
        }
        Ok(end)
    };
    let limited = async {
        match limits.timeout {
            Some(limit) => tokio::time::timeout(limit, work)
                .await
                .unwrap_or(Err(ExecFailure::TimedOut)),
            None => work.await,
        }
    };
    let result = match limits.cancel {
        Some(mut cancel) => {
            tokio::select! {
                r = limited => r,
                // A dropped switch never cancels.
                Ok(_) = cancel.wait_for(|c| *c) => Err(ExecFailure::Cancelled),
            }
        }
        None => limited.await,
    };
    match &result {
        Ok(end) if !end.capped => running.finished(),
        _ => running.stop().await,
    }
    result
}

type Channel = russh::Channel<russh::client::Msg>;

/// A command's channel while it runs. If the exec is dropped (cancelled) or gives up, the
/// command is sent SIGTERM and the channel closed, so nothing keeps running on the host.
struct Running(Option<Channel>);

impl Running {
    fn channel(&mut self) -> &mut Channel {
        // Set in the constructor and only taken by `finished`/`stop`/drop, which consume it.
        self.0
            .as_mut()
            .expect("the channel is there until the exec ends")
    }

    /// The command ended by itself.
    fn finished(&mut self) {
        self.0 = None;
    }

    /// Stop the command now.
    async fn stop(&mut self) {
        if let Some(channel) = self.0.take() {
            let _ = channel.signal(russh::Sig::TERM).await;
            let _ = channel.close().await;
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let Some(channel) = self.0.take() else {
            return;
        };
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                let _ = channel.signal(russh::Sig::TERM).await;
                let _ = channel.close().await;
            });
        }
    }
}
