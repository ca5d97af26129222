//! Scans in the app: opening the scan-results pane (prefix S on a session, Ctrl-s in the host
//! list), loading what it shows off the UI task, starting a host's scan over the session's
//! shared connection, its progress and result, and the last scan's summary.

use crate::app::layout::PaneId;
use crate::app::msg::{AsyncTask, Effect, Task};
use crate::app::scan_job::ScanJob;
use crate::app::state::{App, PaneSlot, PaneSpec};
use crate::panes::Pane;
use crate::panes::scan::{ScanOutcome, ScanPane};
use crate::scan::{Snapshot, Step};

impl App {
    fn scan_pane_id(&self) -> Option<PaneId> {
        self.panes
            .iter()
            .find_map(|(id, s)| matches!(s.pane, Pane::Scan(_)).then_some(*id))
    }

    fn scan_pane_mut(&mut self) -> Option<&mut ScanPane> {
        self.panes.values_mut().find_map(|s| match &mut s.pane {
            Pane::Scan(p) => Some(p.as_mut()),
            _ => None,
        })
    }

    /// Prefix S, from any pane: the scan results of the host it is about (a session, the
    /// copilot beside one, the host list's selected host, the scan pane's host), else of the
    /// tab's first session; the fleet only when no host is in sight (it lists every
    /// workspace host, so `s` scans one from there too).
    pub fn open_scans(&mut self) {
        let host = self.focused().and_then(|id| self.host_in_sight(id));
        self.open_scan_view(host);
    }

    /// The host a pane is about, for prefix S.
    fn host_in_sight(&self, id: PaneId) -> Option<String> {
        let session = |id: PaneId| match self.panes.get(&id).map(|s| &s.spec) {
            Some(PaneSpec::Ssh { name, .. }) => Some(name.clone()),
            _ => None,
        };
        let slot = self.panes.get(&id)?;
        let own = match &slot.pane {
            Pane::Scan(p) => return p.host().map(str::to_string),
            Pane::Hosts(p) => p.selected_entry().map(|(_, h)| h.name.clone()),
            _ if matches!(slot.spec, PaneSpec::Copilot) => self.copilot.bound(id).and_then(session),
            _ => session(id),
        };
        own.or_else(|| {
            let tab = self.tabs.iter().find(|t| t.layout.contains(id))?;
            tab.layout.panes().into_iter().find_map(session)
        })
    }

    /// Show `host`'s scan results (or the fleet's) in the scan pane, opening it as a tab if
    /// it is not open, and load them.
    pub fn open_scan_view(&mut self, host: Option<String>) {
        let Some(setup) = self.scans.clone() else {
            self.error("scans are not available here: lumen has no workspace to keep them in");
            return;
        };
        if let Some(id) = self.scan_pane_id() {
            if let Some(Pane::Scan(p)) = self.panes.get_mut(&id).map(|s| &mut s.pane) {
                p.show(host.clone());
            }
            if let Some(ti) = self.tabs.iter().position(|t| t.layout.contains(id)) {
                self.tabs[ti].focused = id;
                self.switch_to(ti);
            }
        } else {
            let id = self.alloc_pane();
            let body = self.body();
            self.push_tab(
                id,
                PaneSlot {
                    pane: Pane::Scan(Box::new(ScanPane::new(host.clone()))),
                    spec: PaneSpec::Scan,
                    default_title: "scans".into(),
                    rect: body,
                    inner: body,
                    connected: false,
                },
            );
        }
        let known = self.scannable_hosts();
        if let Some(p) = self.scan_pane_mut() {
            p.set_known_hosts(known);
        }
        self.effects
            .push(Effect::Spawn(Box::new(Task::LoadScans { setup, host })));
    }

    /// Hosts the fleet view offers to scan before they ever were: the workspace's, and
    /// those of open sessions.
    fn scannable_hosts(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .inventory
            .hosts
            .iter()
            .map(|h| h.name.clone())
            .collect();
        for slot in self.panes.values() {
            if let PaneSpec::Ssh { name, .. } = &slot.spec
                && !names.contains(name)
            {
                names.push(name.clone());
            }
        }
        names
    }

    /// What the scan pane asked for after a key.
    pub(crate) fn scan_outcome(&mut self, outcome: ScanOutcome) {
        match outcome {
            ScanOutcome::None => {}
            ScanOutcome::Load(host) => {
                if let Some(setup) = self.scans.clone() {
                    self.effects
                        .push(Effect::Spawn(Box::new(Task::LoadScans { setup, host })));
                }
            }
            ScanOutcome::Scan(host) => self.start_scan(&host),
            ScanOutcome::Copy(text) => self.copy(text),
        }
    }

    /// How to reach `host` for a scan: the spec of an open session to it (so the scan shares
    /// its connection), else what opening it would use.
    fn scan_spec(&self, host: &str) -> Result<PaneSpec, String> {
        let open = self.panes.values().find_map(|s| match &s.spec {
            spec @ PaneSpec::Ssh { name, .. } if name == host => Some(spec.clone()),
            _ => None,
        });
        match open {
            Some(spec) => Ok(spec),
            None => self.host_spec(host),
        }
    }

    /// Scan `host` in the background; the pane shows its progress.
    fn start_scan(&mut self, host: &str) {
        let (Some(connector), Some(setup)) = (self.connector.clone(), self.scans.clone()) else {
            self.error("scanning needs SSH and a workspace, which this lumen has not got");
            return;
        };
        if self.scan_pane_mut().is_some_and(|p| p.is_running(host)) {
            self.say(format!("{host} is being scanned already"));
            return;
        }
        let (name, target, plan) = match self.scan_spec(host) {
            Ok(PaneSpec::Ssh { name, target, plan }) => (name, target, plan),
            Ok(_) => return self.error(format!("{host} is not a host lumen can scan")),
            Err(e) => return self.error(format!("cannot scan {host}: {e}")),
        };
        let plan = match plan {
            Some(plan) => plan.as_ref().clone(),
            None => connector.direct(&name, &target),
        };
        if let Some(p) = self.scan_pane_mut() {
            p.started(host);
        }
        self.effects
            .push(Effect::SpawnAsync(Box::new(AsyncTask::Scan(Box::new(
                ScanJob {
                    host: host.to_string(),
                    plan,
                    connector,
                    setup,
                },
            )))));
        self.say(format!(
            "scanning {host} in the background over its SSH connection…"
        ));
    }

    /// The pane's data arrived (or could not be read).
    pub(crate) fn scans_loaded(
        &mut self,
        host: Option<String>,
        result: Result<Box<Snapshot>, String>,
    ) {
        self.dirty = true;
        let Some(p) = self.scan_pane_mut() else {
            return;
        };
        match result {
            Ok(snapshot) => p.loaded(host.as_deref(), *snapshot),
            Err(e) => p.load_failed(e),
        }
    }

    pub(crate) fn scan_progress(&mut self, host: &str, step: Step) {
        if let Some(p) = self.scan_pane_mut() {
            p.progress(host, step);
            self.dirty = true;
        }
    }

    /// A scan ended: the status bar says how it went, the pane shows it.
    pub(crate) fn scan_finished(&mut self, host: String, result: Result<Box<Snapshot>, String>) {
        match &result {
            Ok(snapshot) => {
                let what = snapshot.host.as_ref().map(|r| {
                    let mut s = format!(
                        "{}, {}",
                        r.scan.vulnerable_packages(),
                        count(r.scan.config_findings.len(), "configuration problem")
                    );
                    if r.diff.had_previous {
                        s.push_str(&format!(
                            "; {} new, {} resolved since the previous scan",
                            r.diff.new.len(),
                            r.diff.resolved.len()
                        ));
                    }
                    s
                });
                self.say(format!(
                    "scan of {host} done: {}",
                    what.unwrap_or_else(|| "saved".into())
                ));
            }
            Err(e) => self.error(format!("cannot scan {host}: {e}")),
        }
        self.dirty = true;
        if let Some(p) = self.scan_pane_mut() {
            p.finished(&host, result.map(|s| *s));
        }
    }

    /// A few lines about `host`'s latest scan, None when it was never scanned. Blocking (it
    /// opens scans.sqlite): never from `update`, where the copilot reads it through
    /// [`DiskJob::ScanSummary`](crate::app::disk::DiskJob::ScanSummary).
    pub fn last_scan_summary(&self, host: &str) -> Option<String> {
        self.scans.as_ref()?.last_scan_summary(host)
    }
}

/// `1 thing`, `2 things`.
fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}
