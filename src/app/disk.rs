//! Disk work `update` hands off the UI task ([`Task::Disk`]), each job self-contained, and
//! what it found ([`Msg::Disk`]): appending the copilot's histories (one writer at a time,
//! in order), reading a host's last scan for the copilot's next request, and every read of a
//! vault secret (each appends to the audit log) and save of a vault file: the browser's, the
//! copilot's API key and the values of an approved command.
//!
//! [`Task::Disk`]: crate::app::Task::Disk
//! [`Msg::Disk`]: crate::app::Msg::Disk

use crate::ai::copilot::HistoryQueue;
use crate::ai::placeholders::{Approved, HostRef};
use crate::app::layout::PaneId;
use crate::app::state::App;
use crate::panes::Pane;
use crate::panes::vault::{VaultWork, WorkDone};
use crate::scan::ScanSetup;
use crate::vault::VaultOwner;
use secrecy::SecretString;
use std::sync::Arc;

/// One piece of disk work.
pub enum DiskJob {
    /// Append every queued copilot history line, in order.
    History(HistoryQueue),
    /// Read `host`'s last scan (scans.sqlite) for the next request of `pane`'s copilot.
    ScanSummary {
        setup: Arc<ScanSetup>,
        pane: PaneId,
        host: String,
    },
    /// The vault browser `pane`'s audited read or save.
    Vault { pane: PaneId, work: VaultWork },
    /// The copilot's API key for `profile` from the vault entry `entry` (audited as auth
    /// for `provider`).
    ApiKey {
        owner: VaultOwner,
        profile: String,
        entry: String,
        provider: String,
    },
    /// Substitute the vault values in `pane`'s approved `command` for `host` (each audited).
    Resolve {
        owner: VaultOwner,
        pane: PaneId,
        proposal: usize,
        command: String,
        host: HostRef,
    },
}

impl std::fmt::Debug for DiskJob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DiskJob::History(_) => f.write_str("History"),
            DiskJob::ScanSummary { host, .. } => write!(f, "ScanSummary({host})"),
            DiskJob::Vault { work, .. } => write!(f, "{work:?}"),
            DiskJob::ApiKey { profile, .. } => write!(f, "ApiKey({profile})"),
            DiskJob::Resolve { pane, proposal, .. } => {
                write!(f, "Resolve({}, {proposal})", pane.0)
            }
        }
    }
}

/// What a [`DiskJob`] found.
#[derive(Debug)]
pub enum DiskDone {
    /// The history lines were written; these could not be (in words).
    History(Vec<String>),
    /// `pane`'s host's last scan, None when it was never scanned or cannot be read.
    ScanSummary {
        pane: PaneId,
        summary: Option<String>,
    },
    /// What the vault browser `pane` asked for came to this.
    Vault { pane: PaneId, done: WorkDone },
    /// The API key for `profile`, or why it could not be read.
    ApiKey {
        profile: String,
        key: Result<SecretString, String>,
    },
    /// `pane`'s approved command with its values in place, or why not.
    Resolved {
        pane: PaneId,
        proposal: usize,
        command: String,
        resolution: Resolution,
    },
}

/// What substituting an approved command's vault values came to.
#[derive(Debug)]
pub enum Resolution {
    /// Cleared to run.
    Approved(Approved),
    /// Refused (a value not bound to the host, a placement that would leak it…).
    Refused(String),
    /// The vault was locked meanwhile.
    Locked(String),
}

impl DiskJob {
    /// Do the work. Blocking: the loop runs it on a blocking thread.
    pub fn run(self) -> DiskDone {
        match self {
            DiskJob::History(queue) => DiskDone::History(queue.write_all()),
            DiskJob::ScanSummary { setup, pane, host } => DiskDone::ScanSummary {
                pane,
                summary: setup.last_scan_summary(&host),
            },
            DiskJob::Vault { pane, work } => DiskDone::Vault {
                pane,
                done: work.run(),
            },
            DiskJob::ApiKey {
                owner,
                profile,
                entry,
                provider,
            } => DiskDone::ApiKey {
                key: owner.with_entry(&entry, |v| {
                    v.secret(&entry, crate::vault::Action::Auth, Some(&provider))
                }),
                profile,
            },
            DiskJob::Resolve {
                owner,
                pane,
                proposal,
                command,
                host,
            } => {
                let resolved = owner.read(|vs| {
                    let refs: Vec<&crate::vault::Vault> = vs.iter().map(|s| &s.vault).collect();
                    crate::ai::placeholders::resolve_for_host(&command, &host, &refs)
                });
                let resolution = match resolved {
                    Ok(Ok(approved)) => Resolution::Approved(approved),
                    Ok(Err(refusal)) => Resolution::Refused(refusal.to_string()),
                    Err(locked) => Resolution::Locked(locked.to_string()),
                };
                DiskDone::Resolved {
                    pane,
                    proposal,
                    command,
                    resolution,
                }
            }
        }
    }
}

impl App {
    /// Disk work finished: its result goes to whoever asked.
    pub(crate) fn disk_done(&mut self, done: DiskDone) {
        match done {
            DiskDone::History(failures) => {
                // As before the move: the conversation goes on; the log says what was lost.
                for why in failures {
                    tracing::warn!("{why}");
                }
            }
            DiskDone::ScanSummary { pane, summary } => self.copilot_scan_summary(pane, summary),
            DiskDone::Vault { pane, done } => {
                let Some(Pane::Vault(browser)) = self.panes.get_mut(&pane).map(|s| &mut s.pane)
                else {
                    return;
                };
                let outcome = browser.work_done(done, std::time::Instant::now());
                self.dirty = true;
                self.pane_outcome(pane, crate::panes::browser_outcome(outcome));
            }
            DiskDone::ApiKey { profile, key } => self.copilot_key_read(profile, key),
            DiskDone::Resolved {
                pane,
                proposal,
                command,
                resolution,
            } => self.copilot_resolved(pane, proposal, &command, resolution),
        }
    }
}
