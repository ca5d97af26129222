//! What reaches the app ([`Msg`], on one channel: the [`Bus`]) and what the app asks the event
//! loop to do ([`Effect`]). `App::update` turns one message into state changes and effects;
//! background work ([`Task`]) runs off the UI task and answers with a message.

use crate::ai::provider::ChatEvent;
use crate::app::layout::PaneId;
use crate::scan::{ScanSetup, Snapshot, Step};
use crate::ssh::{PromptRequest, Prompter};
use crate::vault::{UnlockRequest, VaultOwner};
use crate::workspace::{Host, HostsFile, Inventory, StateFile};
use crossterm::event::Event;
use futures::future::BoxFuture;
use secrecy::SecretString;
use std::sync::Arc;
use tokio::sync::mpsc;

/// Everything that can happen to the app, from any source.
#[derive(Debug)]
pub enum Msg {
    /// A key, paste, mouse event or resize from the terminal.
    Input(Event),
    /// An SSH session asks the user something (host key, password, passphrase, a
    /// keyboard-interactive round).
    Prompt(PromptRequest),
    /// A login needs the vault, which is locked.
    UnlockForLogin(UnlockRequest),
    /// A vault unlock attempt finished (with notices about the opened vaults), or failed.
    VaultUnlocked(Result<Vec<String>, String>),
    /// An edited host was saved to hosts.toml (the inventory as now on disk), or not.
    HostSaved {
        name: String,
        result: Result<Inventory, String>,
    },
    /// When `host` last connected was written to the workspace's state.toml, or why not.
    ConnectedRecorded {
        host: String,
        result: Result<(), String>,
    },
    /// What the scan-results pane asked to load: the fleet and, with a name, that host's
    /// latest scan; or why the scans database could not be read.
    /// A recording to replay, read.
    ReplayLoaded(
        std::path::PathBuf,
        Result<Box<crate::panes::logs::replay::Recording>, String>,
    ),
    /// The log browser's list, read.
    LogsListed(PaneId, Vec<crate::panes::logs::Row>),
    /// A log browser's search, done.
    /// A Credential Test from the vault browser `pane` ended: each host and its verdict.
    CredentialTested {
        pane: PaneId,
        name: String,
        results: Vec<(String, crate::ssh::cred_check::Verdict)>,
    },
    LogsSearched {
        pane: PaneId,
        job: crate::panes::logs::SearchJob,
        hits: Vec<std::path::PathBuf>,
    },
    ScansLoaded {
        host: Option<String>,
        result: Result<Box<Snapshot>, String>,
    },
    /// A background scan of `host` reached a new step.
    ScanProgress { host: String, step: Step },
    /// A background scan of `host` ended: what the pane shows now (the scan saved and compared
    /// with the previous one), or why the host could not be scanned.
    ScanFinished {
        host: String,
        result: Result<Box<Snapshot>, String>,
    },
    /// An event of the copilot's answer for terminal pane `pane` (its request `generation`).
    Ai {
        pane: PaneId,
        generation: u64,
        event: Result<ChatEvent, String>,
    },
    /// The host facts for pane `pane`'s copilot were gathered (or not).
    AiFacts {
        pane: PaneId,
        facts: Result<String, String>,
    },
    /// An approved command with vault placeholders ran on an exec channel.
    AiExec {
        pane: PaneId,
        proposal: usize,
        output: Result<String, String>,
    },
    /// Disk work handed off the UI task finished.
    Disk(crate::app::disk::DiskDone),
    /// The runbooks and snippets were read (for the picker, or the copilot's proposal), or
    /// why not; `hint` says where files go.
    RunbooksLoaded {
        purpose: crate::app::runbooks::Purpose,
        hint: String,
        result: Result<Box<crate::runbook::Catalog>, String>,
    },
    /// Run `run` of a runbook moved on (a host or a step started or ended).
    RunbookEvent {
        run: u64,
        event: crate::runbook::RunEvent,
    },
    /// A `confirm = true` step of run `run` asks the operator before it starts.
    RunbookConfirm {
        run: u64,
        step: usize,
        reply: tokio::sync::oneshot::Sender<bool>,
    },
    /// A runbook saved from the copilot was written (its path), or why not.
    RunbookSaved(Result<std::path::PathBuf, String>),
    /// Run `run` stopped without a report (its task failed).
    RunbookFailed { run: u64, why: String },
    /// Run `run` ended (and was kept in the history, or why not).
    RunbookDone {
        run: u64,
        report: Box<crate::runbook::RunReport>,
        history_error: Option<String>,
    },
}

/// Work the event loop carries out for the app.
#[derive(Debug)]
pub enum Effect {
    /// Something for the client using the app (clipboard, detach, sessions).
    Client(crate::app::frontend::ClientEffect),
    /// Run this off the UI task; its result comes back as a message.
    Spawn(Box<Task>),
    /// Copilot work that talks to a provider or a host (async).
    Ai(Box<crate::app::ai_jobs::AiJob>),
    /// Run this on the async runtime; it reports on the bus as it goes and at its end.
    SpawnAsync(Box<AsyncTask>),
}

/// Background work with its inputs. Self-contained, so the loop (or a test) can run it.
pub enum Task {
    /// Derive the vaults' keys from a passphrase (Argon2id: slow by design).
    UnlockVault {
        owner: VaultOwner,
        passphrase: SecretString,
    },
    /// Write an edited host to hosts.toml under its lock, then read the file back.
    SaveHost { file: HostsFile, host: Box<Host> },
    /// Write when `host` last connected (`at`, RFC 3339) to state.toml under its lock.
    RecordConnected {
        file: StateFile,
        host: String,
        at: String,
    },
    /// Read what the scan-results pane shows from scans.sqlite (the fleet; `host`'s scans).
    LoadScans {
        setup: Arc<ScanSetup>,
        host: Option<String>,
    },
    /// Disk work `update` must not wait for: histories, scans.sqlite, the vault.
    Disk(crate::app::disk::DiskJob),
    /// Read the runbooks and snippets for the picker.
    LoadRunbooks(crate::app::runbooks::LoadCatalog),
    /// Write a runbook saved from the copilot (Ctrl-s).
    SaveRunbook(crate::app::runbooks::save::SaveRunbook),
    /// Read a recording to replay.
    LoadReplay(std::path::PathBuf),
    /// Read the recordings for the log browser `pane`.
    ListLogs {
        pane: PaneId,
        root: std::path::PathBuf,
    },
    /// Search recordings' text for the log browser `pane`.
    SearchLogs {
        pane: PaneId,
        root: std::path::PathBuf,
        job: crate::panes::logs::SearchJob,
    },
}

impl std::fmt::Debug for Task {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Task::UnlockVault { .. } => f.write_str("UnlockVault"),
            Task::SaveHost { host, .. } => write!(f, "SaveHost({})", host.name),
            Task::RecordConnected { host, .. } => write!(f, "RecordConnected({host})"),
            Task::LoadScans { host, .. } => write!(f, "LoadScans({host:?})"),
            Task::Disk(job) => write!(f, "Disk({job:?})"),
            Task::LoadRunbooks(_) => f.write_str("LoadRunbooks"),
            Task::SaveRunbook(job) => write!(f, "SaveRunbook({})", job.name),
            Task::LoadReplay(path) => write!(f, "LoadReplay({})", path.display()),
            Task::ListLogs { root, .. } => write!(f, "ListLogs({})", root.display()),
            Task::SearchLogs { job, .. } => write!(f, "SearchLogs({})", job.host),
        }
    }
}

impl Task {
    /// Do the work and say how it went. Blocking: the loop runs it on a blocking thread.
    pub fn run_blocking(self) -> Msg {
        match self {
            Task::UnlockVault { owner, passphrase } => {
                let result = owner.unlock(&passphrase);
                drop(passphrase);
                Msg::VaultUnlocked(result)
            }
            Task::SaveHost { file, host } => {
                let result = file
                    .update(|_, editor| editor.put(&host))
                    .and_then(|_| file.load())
                    .map_err(|e| e.to_string());
                Msg::HostSaved {
                    name: host.name,
                    result,
                }
            }
            Task::RecordConnected { file, host, at } => {
                let result = file.record_connected(&host, &at).map_err(|e| e.to_string());
                Msg::ConnectedRecorded { host, result }
            }
            Task::LoadScans { setup, host } => {
                let result = setup
                    .snapshot(host.as_deref())
                    .map(Box::new)
                    .map_err(|e| e.to_string());
                Msg::ScansLoaded { host, result }
            }
            Task::Disk(job) => Msg::Disk(job.run()),
            Task::LoadRunbooks(job) => job.run(),
            Task::SaveRunbook(job) => job.run(),
            Task::LoadReplay(path) => {
                let result = crate::panes::logs::replay::Recording::load(&path).map(Box::new);
                Msg::ReplayLoaded(path, result)
            }
            Task::ListLogs { pane, root } => Msg::LogsListed(pane, crate::panes::logs::list(&root)),
            Task::SearchLogs { pane, root, job } => {
                let hits = crate::panes::logs::search(&root, &job.host, &job.files, &job.text);
                Msg::LogsSearched { pane, job, hits }
            }
        }
    }
}

/// Long background work that reports while it runs (progress messages on the bus) and ends
/// with a message of its own. Self-contained, so the loop (or a test, on its runtime) can run it.
pub enum AsyncTask {
    /// Scan a host over the app's shared connection, then match, compare and save the scan.
    Scan(Box<crate::app::scan_job::ScanJob>),
    /// Run a runbook's approved plan over the app's shared connections.
    Runbook(Box<crate::app::runbooks::RunJob>),
    /// Log in with one vault entry to the hosts it is bound to (the browser's `t`).
    CredentialTest(Box<crate::app::cred_test::CredentialTest>),
}

impl std::fmt::Debug for AsyncTask {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AsyncTask::Scan(job) => write!(f, "Scan({})", job.host),
            AsyncTask::Runbook(job) => write!(f, "Runbook({})", job.plan.runbook),
            AsyncTask::CredentialTest(job) => write!(f, "CredentialTest({})", job.name),
        }
    }
}

impl AsyncTask {
    /// Do the work, sending every message (progress, then the result) on `bus`.
    pub fn run(self, bus: Bus) -> BoxFuture<'static, ()> {
        match self {
            AsyncTask::Scan(job) => Box::pin((*job).run(bus)),
            AsyncTask::Runbook(job) => Box::pin((*job).run(bus)),
            AsyncTask::CredentialTest(job) => Box::pin((*job).run(bus)),
        }
    }
}

/// The sending side of the app's one channel. Cheap to clone into any background task.
#[derive(Debug, Clone)]
pub struct Bus(mpsc::UnboundedSender<Msg>);

impl Bus {
    /// A bus and the receiver the event loop drains.
    pub fn channel() -> (Bus, mpsc::UnboundedReceiver<Msg>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (Bus(tx), rx)
    }

    /// Send a message; false when the app is gone.
    pub fn send(&self, msg: Msg) -> bool {
        self.0.send(msg).is_ok()
    }

    /// A prompter whose questions arrive here as [`Msg::Prompt`].
    pub fn prompter(&self) -> Prompter {
        let bus = self.clone();
        Prompter::from_fn(move |req| {
            // If the app is gone the request is dropped, which cancels the question.
            bus.send(Msg::Prompt(req));
        })
    }

    /// An unlock-request sink for the vault owner: requests arrive as
    /// [`Msg::UnlockForLogin`].
    pub fn unlock_requests(&self) -> impl Fn(UnlockRequest) + Send + Sync + 'static {
        let bus = self.clone();
        move |reply| {
            bus.send(Msg::UnlockForLogin(reply));
        }
    }
}
