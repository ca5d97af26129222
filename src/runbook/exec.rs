//! Running a [`Plan`]: each host runs its steps in order over the Connector's shared
//! connection (exec with time limit, output cap and cancel), at most `parallel` hosts at once,
//! through jump chains. Progress goes out as [`RunEvent`]s; the result is a [`RunReport`]
//! whose JSON shape is a contract (`lumen run --json`, the run history).
//!
//! How a step reaches the host: the remote command line is always the fixed
//! [`REMOTE_COMMAND`]; the step's script (with vault values substituted for this host) is
//! written to the channel's stdin. So a secret is never in any remote process's argv (`ps`
//! shows only the fixed text), nor in the SSH exec request lumen sends; it lives in the
//! remote shell's memory while the step runs.

use super::plan::{Plan, PlanHost, PlanStep};
use crate::ai::placeholders::{HostRef, resolve_bound_for_host};
use crate::ai::redact::{Secrets, prepare};
use crate::ssh::{Connector, ExecOptions, SshError};
use crate::vault::{Vault, VaultOwner};
use futures::StreamExt;
use futures::future::BoxFuture;
use secrecy::ExposeSecret;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;
use tokio::sync::{OnceCell, mpsc, watch};

/// The one remote command line of every step (fixed text: no parameter, no secret). The
/// shell reads the script's length and the script from stdin ([`framed`]), runs it as a
/// background job with stdin from /dev/null (so nothing in it can read the rest of the
/// channel) and waits for it. Meanwhile a watcher reads the channel's stdin, which lumen holds
/// open: when it ends (lumen stopped the step on a timeout, the output cap or Ctrl-C, closing
/// the channel; or lumen or the connection went away) it stops the whole process group, so a
/// `sleep` or `tail -f` in the step stops too. SIGTERM over SSH cannot do this: OpenSSH does
/// not deliver signal requests for root logins. When the job ends by itself the watcher is
/// dismissed and the job's exit status is the step's.
pub const REMOTE_COMMAND: &str = "sh -c 'exec 3<&0
IFS= read -r n || exit 125
s=$(head -c \"$n\")
eval \"$s\" </dev/null &
p=$!
( trap \"kill \\$c 2>/dev/null; exit 0\" TERM; cat >/dev/null <&3 & c=$!; wait $c; kill -TERM 0 ) >/dev/null 2>&1 &
w=$!
wait $p
r=$?
kill $w 2>/dev/null
exit $r'";

/// How a host's run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HostStatus {
    Ok,
    Failed,
    /// Not started: `on_failure = "stop"` after another host failed, or cancelled first.
    Skipped,
    Unreachable,
}

/// One step on one host (the `--json` shape).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepReport {
    pub name: String,
    /// With `{{vault:NAME}}` placeholders, never values.
    pub command: String,
    /// None when the step did not run to an exit status.
    pub exit: Option<u32>,
    /// Redacted as the copilot redacts.
    pub stdout: String,
    pub stderr: String,
    pub duration_ms: u64,
    pub truncated: bool,
    /// Why lumen did not run it or stopped it.
    pub error: Option<String>,
}

impl StepReport {
    pub fn ok(&self) -> bool {
        self.exit == Some(0) && self.error.is_none()
    }
}

/// One host: its steps up to and including the first failing one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostReport {
    pub host: String,
    pub status: HostStatus,
    pub steps: Vec<StepReport>,
}

/// A whole run (the `--json` shape; field names are a contract).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunReport {
    pub runbook: String,
    pub params: BTreeMap<String, String>,
    /// RFC 3339.
    pub started: String,
    pub finished: String,
    pub hosts: Vec<HostReport>,
}

impl RunReport {
    /// Every host succeeded.
    pub fn success(&self) -> bool {
        self.hosts.iter().all(|h| h.status == HostStatus::Ok)
    }

    pub fn count(&self, status: HostStatus) -> usize {
        self.hosts.iter().filter(|h| h.status == status).count()
    }
}

/// Progress, for a progress bar or the TUI's run view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunEvent {
    HostStarted {
        host: String,
    },
    StepStarted {
        host: String,
        step: usize,
    },
    StepDone {
        host: String,
        step: usize,
        report: StepReport,
    },
    HostDone {
        host: String,
        status: HostStatus,
    },
}

/// The operator's answer to a `confirm = true` step (asked once per step, before the first
/// host starts it; the others wait for the answer).
pub type Confirm = Arc<dyn Fn(usize) -> BoxFuture<'static, bool> + Send + Sync>;

/// A confirmer that approves every step (`--yes`, or a plan approved in a TUI that asked).
pub fn confirm_all() -> Confirm {
    Arc::new(|_| Box::pin(async { true }))
}

/// Cancels a run: running steps are stopped on the hosts, nothing new starts.
#[derive(Debug, Clone)]
pub struct Canceller(Arc<watch::Sender<bool>>);

/// The run's side of a [`Canceller`].
#[derive(Debug, Clone)]
pub struct Cancel(watch::Receiver<bool>);

/// A new cancel switch, off.
pub fn cancel_switch() -> (Canceller, Cancel) {
    let (tx, rx) = watch::channel(false);
    (Canceller(Arc::new(tx)), Cancel(rx))
}

impl Canceller {
    pub fn cancel(&self) {
        let _ = self.0.send(true);
    }
}

impl Cancel {
    pub fn is_cancelled(&self) -> bool {
        *self.0.borrow()
    }

    /// Resolves once cancelled (never, if the switch is dropped uncancelled).
    pub async fn cancelled(&self) {
        let mut rx = self.0.clone();
        if rx.wait_for(|c| *c).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// The vault values a run may substitute, and what its outputs are redacted of.
#[derive(Clone)]
pub struct RunVault {
    owner: Option<VaultOwner>,
    secrets: Arc<Secrets>,
}

impl RunVault {
    /// No vault: steps that take secrets fail on every host; outputs are still redacted of
    /// what the detectors recognise (keys, tokens).
    pub fn none() -> Self {
        Self {
            owner: None,
            secrets: Arc::new(Secrets::new()),
        }
    }

    /// The unlocked vaults of `owner` (locked: as [`RunVault::none`]).
    pub fn from_owner(owner: VaultOwner) -> Self {
        let secrets = owner
            .read(|vs| {
                let refs: Vec<&Vault> = vs.iter().map(|s| &s.vault).collect();
                Secrets::from_vaults(&refs)
            })
            .unwrap_or_default();
        Self {
            owner: Some(owner),
            secrets: Arc::new(secrets),
        }
    }

    /// `command` with its placeholders' values for `host` (audited), or why not.
    fn substitute(&self, command: &str, host: &HostRef) -> Result<secrecy::SecretString, String> {
        let Some(owner) = &self.owner else {
            return Err("no vault is unlocked (give --passphrase-file or unlock it)".into());
        };
        match owner.read(|vs| {
            let refs: Vec<&Vault> = vs.iter().map(|s| &s.vault).collect();
            resolve_bound_for_host(command, host, &refs)
        }) {
            Ok(Ok(approved)) => Ok(approved.command),
            Ok(Err(refusal)) => Err(refusal.to_string()),
            Err(locked) => Err(locked.to_string()),
        }
    }

    fn redact(&self, bytes: &[u8]) -> String {
        prepare(bytes, &self.secrets).text
    }
}

/// What all hosts of one run share.
struct Shared<'a> {
    plan: &'a Plan,
    connector: &'a Connector,
    vault: RunVault,
    confirm: Confirm,
    confirmed: Vec<OnceCell<bool>>,
    events: mpsc::UnboundedSender<RunEvent>,
    cancel: Cancel,
    /// A host failed under `on_failure = "stop"`: no new host starts.
    stopped: AtomicBool,
}

/// Run `plan`. Returns when every started host has finished (or been stopped by `cancel`).
pub async fn run(
    plan: &Plan,
    connector: &Connector,
    vault: RunVault,
    confirm: Confirm,
    events: mpsc::UnboundedSender<RunEvent>,
    cancel: Cancel,
) -> RunReport {
    let started = now();
    let shared = Shared {
        plan,
        connector,
        vault,
        confirm,
        confirmed: plan.steps.iter().map(|_| OnceCell::new()).collect(),
        events,
        cancel,
        stopped: AtomicBool::new(false),
    };
    let mut done: Vec<(usize, HostReport)> = futures::stream::iter(plan.hosts.iter().enumerate())
        .map(|(i, h)| {
            let shared = &shared;
            async move { (i, shared.host(h).await) }
        })
        .buffer_unordered(plan.parallel.max(1))
        .collect()
        .await;
    done.sort_by_key(|(i, _)| *i);
    RunReport {
        runbook: plan.runbook.clone(),
        params: plan.params.clone(),
        started,
        finished: now(),
        hosts: done.into_iter().map(|(_, h)| h).collect(),
    }
}

fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn millis(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX)
}

impl Shared<'_> {
    fn send(&self, e: RunEvent) {
        let _ = self.events.send(e);
    }

    fn finish(&self, host: &PlanHost, status: HostStatus, steps: Vec<StepReport>) -> HostReport {
        if matches!(status, HostStatus::Failed | HostStatus::Unreachable)
            && self.plan.on_failure == super::format::OnFailure::Stop
        {
            self.stopped.store(true, Ordering::SeqCst);
        }
        self.send(RunEvent::HostDone {
            host: host.name.clone(),
            status,
        });
        HostReport {
            host: host.name.clone(),
            status,
            steps,
        }
    }

    async fn host(&self, host: &PlanHost) -> HostReport {
        if self.stopped.load(Ordering::SeqCst) || self.cancel.is_cancelled() {
            self.send(RunEvent::HostDone {
                host: host.name.clone(),
                status: HostStatus::Skipped,
            });
            return HostReport {
                host: host.name.clone(),
                status: HostStatus::Skipped,
                steps: Vec::new(),
            };
        }
        self.send(RunEvent::HostStarted {
            host: host.name.clone(),
        });
        let reached = tokio::select! {
            r = self.connector.reach(&host.ssh) => r,
            () = self.cancel.cancelled() => Err(SshError::Channel {
                what: "the connection".into(),
                why: "cancelled by the operator".into(),
            }),
        };
        if let Err(e) = reached {
            // The first step says why nothing ran.
            let first = self.plan.steps.first().map(|s| not_run(s, e.to_string()));
            return self.finish(host, HostStatus::Unreachable, first.into_iter().collect());
        }
        let mut reports = Vec::new();
        for (i, step) in self.plan.steps.iter().enumerate() {
            self.send(RunEvent::StepStarted {
                host: host.name.clone(),
                step: i,
            });
            let report = self.step(host, i, step).await;
            let ok = report.ok();
            self.send(RunEvent::StepDone {
                host: host.name.clone(),
                step: i,
                report: report.clone(),
            });
            reports.push(report);
            if !ok {
                return self.finish(host, HostStatus::Failed, reports);
            }
        }
        self.finish(host, HostStatus::Ok, reports)
    }

    async fn step(&self, host: &PlanHost, i: usize, step: &PlanStep) -> StepReport {
        if self.cancel.is_cancelled() {
            return not_run(step, "cancelled by the operator before it started".into());
        }
        if step.confirm {
            let confirm = &self.confirm;
            let yes = match self.confirmed.get(i) {
                Some(cell) => *cell.get_or_init(|| confirm(i)).await,
                None => false,
            };
            if !yes {
                return not_run(step, "not confirmed by the operator".into());
            }
        }
        let script = if step.vault.is_empty() {
            secrecy::SecretString::from(step.command.as_str())
        } else {
            let href = HostRef {
                name: host.name.clone(),
                groups: host.groups.clone(),
            };
            let (vault, command) = (self.vault.clone(), step.command.clone());
            let resolved =
                tokio::task::spawn_blocking(move || vault.substitute(&command, &href)).await;
            match resolved {
                Ok(Ok(s)) => s,
                Ok(Err(why)) => return not_run(step, why),
                Err(e) => return not_run(step, format!("the vault lookup failed: {e}")),
            }
        };
        let stdin = zeroize::Zeroizing::new(framed(script.expose_secret()).into_bytes());
        let mut opts = ExecOptions {
            timeout: self.plan.timeout,
            max_output: self.plan.max_output,
            stdin: Some(stdin.to_vec()),
            cancel: Some(self.cancel.0.clone()),
            hold_stdin: true,
        };
        let start = Instant::now();
        let result = self.connector.exec(&host.ssh, REMOTE_COMMAND, &opts).await;
        let result = (!self.cancel.is_cancelled()).then_some(result);
        if let Some(input) = opts.stdin.as_mut() {
            zeroize::Zeroize::zeroize(input);
        }
        let mut report = StepReport {
            name: step.name.clone(),
            command: step.command.clone(),
            exit: None,
            stdout: String::new(),
            stderr: String::new(),
            duration_ms: millis(start),
            truncated: false,
            error: None,
        };
        match result {
            None => {
                report.error = Some("cancelled by the operator; the command was stopped".into());
            }
            Some(Ok(out)) => {
                report.stdout = self.vault.redact(&out.stdout);
                report.stderr = self.vault.redact(&out.stderr);
                report.truncated = out.truncated;
                report.exit = out.status;
                if out.truncated {
                    report.exit = None;
                    report.error = Some(format!(
                        "output over {} KiB; the command was stopped",
                        self.plan.max_output / 1024
                    ));
                } else if out.status.is_none() {
                    report.error =
                        Some("ended without an exit status (killed by a signal?)".into());
                }
            }
            Some(Err(SshError::ExecTimeout { secs, .. })) => {
                report.error = Some(format!(
                    "timed out after {secs}s (the runbook's timeout); the command was stopped"
                ));
            }
            Some(Err(e)) => report.error = Some(e.to_string()),
        }
        report
    }
}

/// What the remote shell reads on stdin: the script's length in bytes on a line, then the
/// script (see [`REMOTE_COMMAND`]).
pub fn framed(script: &str) -> String {
    format!("{}\n{script}", script.len())
}

fn not_run(step: &PlanStep, why: String) -> StepReport {
    StepReport {
        name: step.name.clone(),
        command: step.command.clone(),
        exit: None,
        stdout: String::new(),
        stderr: String::new(),
        duration_ms: 0,
        truncated: false,
        error: Some(why),
    }
}
