//! [`ConnectorRunner`]: a scan's commands over the app's [`Connector`], so scanning the host of
//! an open session rides its shared connection (one login for both), reporting each step as
//! it starts.

use crate::scan::runner::{RunError, RunOptions, RunOutput, Runner};
use crate::ssh::{Connector, ExecOptions, Plan, SshError};
use futures::future::BoxFuture;
use std::sync::{Mutex, MutexGuard};

/// One step of a running scan, as reported to whoever watches it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// 1 for the first step, counting up.
    pub number: usize,
    /// What is being collected or done, in words ("packages", "sshd settings").
    pub what: String,
}

type OnStep = Box<dyn Fn(Step) + Send + Sync>;

/// What the runner learnt while the scan ran.
#[derive(Debug, Default)]
struct State {
    steps: usize,
    /// Commands the host answered (any status, a timeout included).
    answered: usize,
    /// Why the connection could not be made, while no command has been answered.
    connect_error: Option<String>,
}

/// Runs a scan's commands as execs over the destination's shared connection.
pub struct ConnectorRunner {
    connector: Connector,
    plan: Plan,
    on_step: Option<OnStep>,
    state: Mutex<State>,
}

impl std::fmt::Debug for ConnectorRunner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectorRunner")
            .field("host", &self.plan.target.name)
            .finish_non_exhaustive()
    }
}

impl ConnectorRunner {
    /// Commands to `plan`'s destination through `connector` (the one the app's sessions use).
    pub fn new(connector: Connector, plan: Plan) -> Self {
        Self {
            connector,
            plan,
            on_step: None,
            state: Mutex::new(State::default()),
        }
    }

    /// Call `report` as each step starts (see [`Runner::step`]), and for [`Self::report`].
    pub fn on_step(mut self, report: impl Fn(Step) + Send + Sync + 'static) -> Self {
        self.on_step = Some(Box::new(report));
        self
    }

    /// Report a step of the scan's own (matching, saving) after the collectors' ones.
    pub fn report(&self, what: &str) {
        let number = {
            let mut state = self.state();
            state.steps += 1;
            state.steps
        };
        if let Some(report) = &self.on_step {
            report(Step {
                number,
                what: what.to_string(),
            });
        }
    }

    /// Why no command could run at all (the connection or the login failed); None once the
    /// host answered one.
    pub fn connect_error(&self) -> Option<String> {
        let state = self.state();
        (state.answered == 0)
            .then(|| state.connect_error.clone())
            .flatten()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // The state is a few counters: one left half-updated by a panic is still usable.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    async fn exec(&self, command: &str, opts: RunOptions) -> Result<RunOutput, RunError> {
        let timeout = opts.timeout;
        let exec = ExecOptions {
            timeout,
            max_output: opts.max_output,
            stdin: opts.stdin,
            cancel: None,
            hold_stdin: false,
        };
        let result = self.connector.exec(&self.plan, command, &exec).await;
        let mut state = self.state();
        match result {
            Ok(out) => {
                state.answered += 1;
                Ok(RunOutput {
                    status: out.status,
                    stdout: out.stdout,
                    stderr: out.stderr,
                    truncated: out.truncated,
                })
            }
            Err(SshError::ExecTimeout { .. }) => {
                state.answered += 1;
                Err(RunError::Timeout(timeout))
            }
            Err(e @ SshError::Channel { .. }) => Err(RunError::Refused(e.to_string())),
            // Anything else is the connection itself: the collectors stop at the first.
            Err(e) => {
                if state.answered == 0 && state.connect_error.is_none() {
                    state.connect_error = Some(e.to_string());
                }
                Err(RunError::Disconnected(e.to_string()))
            }
        }
    }
}

impl Runner for ConnectorRunner {
    fn run<'a>(
        &'a self,
        command: &'a str,
        opts: RunOptions,
    ) -> BoxFuture<'a, Result<RunOutput, RunError>> {
        Box::pin(self.exec(command, opts))
    }

    fn step(&self, what: &str) {
        self.report(what);
    }
}
