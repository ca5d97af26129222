//! The [`Connector`]: one cloneable handle through which the app, scans and the copilot reach
//! hosts. Sessions and execs to the same destination (user, host, port, route) share one
//! authenticated connection and open a channel each, as OpenSSH's ControlMaster does:
//! splitting an SSH pane, a second tab to the host, or a scan command asks nothing and logs in
//! no more. The connection closes with its last channel.

use super::SshError;
use super::exec::{self, ExecOptions, ExecOutput};
use super::jump::JumpPool;
use super::prompt::Prompter;
use super::resolve::Plan;
use super::session::{ConnRef, pump, start_pty};
use super::target::{ConnectOptions, Target};
use crate::stream::{self, CloseReason, Stream, StreamEvent, Waker};
use std::time::Duration;

/// How long a connection used only by execs stays open after the last one, so a run of
/// commands (a scan, the copilot's host facts) logs in once, not once per command.
pub const EXEC_LINGER: Duration = Duration::from_secs(5);

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

    /// Open (or reuse) the destination's shared connection without running anything, so a
    /// caller can tell "unreachable" from "the command failed". It stays open as after an
    /// exec ([`EXEC_LINGER`]) for the commands that follow.
    pub async fn reach(&self, plan: &Plan) -> Result<(), SshError> {
        let (shared, _) = self.pool.shared(plan, &self.prompter).await?;
        shared.conn().ok_or_else(|| closed(plan))?;
        linger(shared);
        Ok(())
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
        let result = exec::run(conn, command, opts).await;
        linger(shared.clone());
        result.map_err(|f| f.into_ssh_error(&plan.target.name, command, opts.timeout))
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
