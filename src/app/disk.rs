//! Disk work `update` hands off the UI task ([`Task::Disk`]), each job self-contained, and
//! what it found ([`Msg::Disk`]): appending the copilot's histories (one writer at a time,
//! in order), reading a host's last scan for the copilot's next request, and the vault's
//! audited reads and saves.
//!
//! [`Task::Disk`]: crate::app::Task::Disk
//! [`Msg::Disk`]: crate::app::Msg::Disk

use crate::ai::copilot::HistoryQueue;
use crate::app::layout::PaneId;
use crate::app::state::App;
use crate::scan::ScanSetup;
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
}

impl std::fmt::Debug for DiskJob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DiskJob::History(_) => f.write_str("History"),
            DiskJob::ScanSummary { host, .. } => write!(f, "ScanSummary({host})"),
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
        }
    }
}
