//! The [`Connector`]: one cloneable handle through which the app, scans and the copilot reach
//! hosts. Sessions and execs to the same destination (user, host, port, route) share one
//! authenticated connection and open a channel each, as OpenSSH's ControlMaster does:
//! splitting an SSH pane, a second tab to the host, or a scan command asks nothing and logs in
//! no more. The connection closes with its last channel.

use super::SshError;
use super::jump::JumpPool;
use super::prompt::Prompter;
use super::resolve::Plan;
use super::session::{ConnRef, pump, start_pty};
use super::target::{ConnectOptions, Target};
use crate::stream::{self, CloseReason, Stream, StreamEvent, Waker};
use russh::ChannelMsg;
use std::time::Duration;

/// An exec's default time limit.
pub const EXEC_TIMEOUT: Duration = Duration::from_secs(60);
/// An exec's default cap on stdout and on stderr, each.
pub const EXEC_MAX_OUTPUT: usize = 16 * 1024 * 1024;
/// How long a connection used only by execs stays open after the last one, so a run of
/// commands (a scan, the copilot's host facts) logs in once, not once per command.
pub const EXEC_LINGER: Duration = Duration::from_secs(5);

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
}

impl Default for ExecOptions {
    fn default() -> Self {
        Self {
            timeout: EXEC_TIMEOUT,
            max_output: EXEC_MAX_OUTPUT,
            stdin: None,
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

/// The shared connections, how to ask the user, and the options for direct targets.
#[derive(Clone)]
pub struct Connector {
    pool: JumpPool,
    prompter: Prompter,
    options: ConnectOptions,
}

impl std::fmt::Debug for Connector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connector")
            .field("pool", &self.pool)
            .finish_non_exhaustive()
    }
}

impl Connector {
    /// `options` are used for targets without a plan; `prompter` answers every question.
    pub fn new(options: ConnectOptions, prompter: Prompter) -> Self {
        Self {
            pool: JumpPool::new(),
            prompter,
            options,
        }
    }

    pub fn options(&self) -> &ConnectOptions {
        &self.options
    }

    /// A plan straight to `target` with this connector's options.
    pub fn direct(&self, name: &str, target: &Target) -> Plan {
        Plan::direct(name, target.clone(), self.options.clone())
    }

    /// How many connections (jump hosts and destinations) are open now.
    pub fn open_connections(&self) -> usize {
        self.pool.open_connections()
    }

    /// A login shell (or the plan's command) on a PTY over the destination's shared connection. Returns at once; a
    /// failure to connect ends the stream with `CloseReason::Failed(message)`. A new
    /// connection's warnings arrive as `StreamEvent::Notice`s.
    pub fn session(&self, plan: &Plan, size: (u16, u16), waker: &Waker) -> Stream {
        let (stream, ends) = stream::channel(waker);
        let (this, plan) = (self.clone(), plan.clone());
        tokio::spawn(async move {
            let started = async {
                let (shared, new) = this.pool.shared(&plan, &this.prompter).await?;
                let conn = shared.conn().ok_or_else(|| closed(&plan))?;
                let channel =
                    start_pty(conn, &plan.target.options, size, plan.command.as_deref()).await?;
                let warnings = if new {
                    conn.warnings.clone()
                } else {
                    Vec::new()
                };
                Ok::<_, SshError>((shared, channel, warnings))
            };
            match started.await {
                Ok((shared, channel, warnings)) => {
                    for w in warnings {
                        if !ends.send(StreamEvent::Notice(w)).await {
                            return;
                        }
                    }
                    pump(ConnRef::Shared(shared), channel, ends).await;
                }
                Err(e) => {
                    ends.send(StreamEvent::Closed(CloseReason::Failed(e.to_string())))
                        .await;
                }
            }
        });
        stream
    }

    /// Run `command` on its own channel over the destination's shared connection (opening
    /// it, through any jump chain and with the same questions, if none is open). Dropping the
    /// returned future cancels the command.
    pub async fn exec(
        &self,
        plan: &Plan,
        command: &str,
        opts: &ExecOptions,
    ) -> Result<ExecOutput, SshError> {
        let (shared, _) = self.pool.shared(plan, &self.prompter).await?;
        let conn = shared.conn().ok_or_else(|| closed(plan))?;
        let channel_error = |what: &str| {
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
            .map_err(channel_error("a session channel"))?;
        let mut running = Running(Some(channel));
        let channel = running.channel();
        if conn.forward_agent {
            let _ = channel.agent_forward(false).await;
        }
        channel
            .exec(true, command)
            .await
            .map_err(channel_error("the command"))?;
        if let Some(input) = &opts.stdin {
            channel
                .data(&input[..])
                .await
                .map_err(channel_error("the command's input"))?;
        }
        let _ = channel.eof().await;
        let collected = tokio::time::timeout(opts.timeout, collect(channel, opts.max_output)).await;
        linger(shared.clone());
        match collected {
            Ok(out) => {
                if out.truncated {
                    running.stop().await;
                } else {
                    running.finished();
                }
                Ok(out)
            }
            Err(_) => {
                running.stop().await;
                Err(SshError::ExecTimeout {
                    host: plan.target.name.clone(),
                    command: command.to_string(),
                    secs: opts.timeout.as_secs(),
                })
            }
        }
    }
}

/// Keep `shared` open a little longer (see [`EXEC_LINGER`]).
fn linger(shared: std::sync::Arc<super::jump::SharedConnection>) {
    tokio::spawn(async move {
        tokio::time::sleep(EXEC_LINGER).await;
        drop(shared);
    });
}

fn closed(plan: &Plan) -> SshError {
    SshError::Channel {
        what: format!("a channel to {}", plan.target.name),
        why: "the connection is closing".into(),
    }
}

/// Read a command's output until it ends or a stream reaches `cap`.
async fn collect(channel: &mut Channel, cap: usize) -> ExecOutput {
    let mut out = ExecOutput::default();
    let keep = |buf: &mut Vec<u8>, data: &[u8], truncated: &mut bool| {
        let room = cap.saturating_sub(buf.len());
        if data.len() > room {
            *truncated = true;
        }
        buf.extend_from_slice(&data[..data.len().min(room)]);
    };
    while let Some(msg) = channel.wait().await {
        match msg {
            ChannelMsg::Data { data } => keep(&mut out.stdout, &data, &mut out.truncated),
            ChannelMsg::ExtendedData { data, .. } => {
                keep(&mut out.stderr, &data, &mut out.truncated)
            }
            ChannelMsg::ExitStatus { exit_status } => out.status = Some(exit_status),
            ChannelMsg::Close => break,
            _ => {}
        }
        if out.truncated {
            break;
        }
    }
    out
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
