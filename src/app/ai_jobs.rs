//! The copilot's background work, each job self-contained: stream an answer from the provider,
//! gather a host's facts over exec, run an approved command with vault values on an exec
//! channel. Results come back as messages; dropping a stream's cancel sender stops it.

use crate::ai::copilot::{FACTS_COMMAND, FACTS_MAX_OUTPUT, FACTS_TIMEOUT};
use crate::ai::provider::{ChatRequest, Provider};
use crate::app::layout::PaneId;
use crate::app::msg::Msg;
use crate::ssh::{Connector, ExecOptions, Plan};
use futures::StreamExt;
use secrecy::{ExposeSecret, SecretString};
use std::sync::Arc;
use std::time::Duration;

/// How long an approved exec command may run.
pub const EXEC_TIMEOUT: Duration = Duration::from_secs(60);
/// Output kept from an approved exec command (stdout and stderr each).
pub const EXEC_MAX_OUTPUT: usize = 1024 * 1024;

/// Work for the copilot.
pub enum AiJob {
    /// Stream the answer to `request`; stops when `cancel` is dropped or fires.
    Stream {
        pane: PaneId,
        generation: u64,
        provider: Arc<dyn Provider>,
        request: ChatRequest,
        cancel: tokio::sync::oneshot::Receiver<()>,
    },
    /// Gather host facts: over the shared connection for an SSH pane, locally for a shell.
    Facts {
        pane: PaneId,
        remote: Option<(Connector, Plan)>,
    },
    /// Run an approved command (values substituted) on the destination's exec channel.
    Exec {
        pane: PaneId,
        proposal: usize,
        connector: Connector,
        plan: Plan,
        command: SecretString,
    },
}

impl std::fmt::Debug for AiJob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AiJob::Stream { pane, .. } => write!(f, "Stream({})", pane.0),
            AiJob::Facts { pane, .. } => write!(f, "Facts({})", pane.0),
            AiJob::Exec { pane, .. } => write!(f, "Exec({}, [redacted])", pane.0),
        }
    }
}

impl AiJob {
    /// Do the work, reporting every result on `bus` (as the event loop runs it).
    pub async fn report_to(self, bus: crate::app::msg::Bus) {
        self.run(move |msg| {
            bus.send(msg);
        })
        .await
    }

    /// Do the work, handing every result to `send`.
    async fn run(self, send: impl Fn(Msg)) {
        match self {
            AiJob::Stream {
                pane,
                generation,
                provider,
                request,
                mut cancel,
            } => {
                let mut stream = provider.stream(request);
                loop {
                    let next = tokio::select! {
                        _ = &mut cancel => break,
                        next = stream.next() => next,
                    };
                    let Some(event) = next else { break };
                    let failed = event.is_err();
                    send(Msg::Ai {
                        pane,
                        generation,
                        event: event.map_err(|e| e.to_string()),
                    });
                    if failed {
                        break;
                    }
                }
            }
            AiJob::Facts { pane, remote } => {
                let facts = match remote {
                    Some((connector, plan)) => {
                        let opts = ExecOptions {
                            timeout: FACTS_TIMEOUT,
                            max_output: FACTS_MAX_OUTPUT,
                            stdin: None,
                            cancel: None,
                            hold_stdin: false,
                        };
                        connector
                            .exec(&plan, FACTS_COMMAND, &opts)
                            .await
                            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
                            .map_err(|e| e.to_string())
                    }
                    None => local_facts().await,
                };
                send(Msg::AiFacts { pane, facts });
            }
            AiJob::Exec {
                pane,
                proposal,
                connector,
                plan,
                command,
            } => {
                let opts = ExecOptions {
                    timeout: EXEC_TIMEOUT,
                    max_output: EXEC_MAX_OUTPUT,
                    stdin: None,
                    cancel: None,
                    hold_stdin: false,
                };
                let output = connector
                    .exec(&plan, command.expose_secret(), &opts)
                    .await
                    .map(|o| {
                        let mut text = String::from_utf8_lossy(&o.stdout).into_owned();
                        text.push_str(&String::from_utf8_lossy(&o.stderr));
                        if o.truncated {
                            text.push_str("\n[output cut]");
                        }
                        match o.status {
                            Some(0) => text,
                            Some(s) => format!("{text}\n[exit status {s}]"),
                            None => format!("{text}\n[no exit status]"),
                        }
                    })
                    .map_err(|e| e.to_string());
                drop(command);
                send(Msg::AiExec {
                    pane,
                    proposal,
                    output,
                });
            }
        }
    }
}

/// The facts of this machine (a local shell pane).
async fn local_facts() -> Result<String, String> {
    let run = tokio::process::Command::new("/bin/sh")
        .arg("-c")
        .arg(FACTS_COMMAND)
        .stdin(std::process::Stdio::null())
        .output();
    match tokio::time::timeout(FACTS_TIMEOUT, run).await {
        Ok(Ok(out)) => Ok(String::from_utf8_lossy(&out.stdout).into_owned()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("gathering the facts took too long".into()),
    }
}
