//! The run view of a runbook: a row per host (status, step, exit, duration, last line) kept
//! up to date from the executor's events, the gathered outputs when the run ends, and one
//! host's full output on Enter. `r` re-runs the failed hosts, Esc leaves the run going in the
//! background (the app keeps this view and shows progress in the status bar), Ctrl-c cancels.

mod render;

use crate::runbook::exec::{HostStatus, RunEvent, RunReport, StepReport};
use crate::runbook::plan::Plan;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::sync::Arc;

/// Where a host stands in the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowState {
    Waiting,
    Running,
    Done(HostStatus),
}

/// One host's row.
#[derive(Debug, Clone)]
pub struct HostRow {
    pub host: String,
    pub state: RowState,
    /// The step running or last run (index into the plan's steps).
    pub step: Option<usize>,
    pub exit: Option<u32>,
    /// Of the steps done so far.
    pub duration_ms: u64,
    pub last_line: String,
    pub steps: Vec<StepReport>,
}

/// What the view asks of the app after a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunOutcome {
    None,
    /// Esc: close the view; the run goes on in the background.
    Leave,
    /// `r`: run the plan again on these hosts (those that did not succeed).
    Rerun(Vec<String>),
    /// Ctrl-c: stop the run (running steps are cancelled, nothing new starts).
    Cancel,
}

pub struct RunView {
    /// The run this view shows (the app's number for it).
    pub run: u64,
    pub plan: Arc<Plan>,
    pub rows: Vec<HostRow>,
    pub report: Option<RunReport>,
    pub(crate) selected: usize,
    /// The host whose full output is shown, if any.
    pub(crate) detail: Option<usize>,
    pub(crate) scroll: usize,
    /// The operator asked to cancel it.
    pub cancelling: bool,
}

impl RunView {
    pub fn new(run: u64, plan: Arc<Plan>) -> Self {
        let rows = plan
            .hosts
            .iter()
            .map(|h| HostRow {
                host: h.name.clone(),
                state: RowState::Waiting,
                step: None,
                exit: None,
                duration_ms: 0,
                last_line: String::new(),
                steps: Vec::new(),
            })
            .collect();
        Self {
            run,
            plan,
            rows,
            report: None,
            selected: 0,
            detail: None,
            scroll: 0,
            cancelling: false,
        }
    }

    fn row(&mut self, host: &str) -> Option<&mut HostRow> {
        self.rows.iter_mut().find(|r| r.host == host)
    }

    /// Apply one event of the executor.
    pub fn apply(&mut self, event: RunEvent) {
        match event {
            RunEvent::HostStarted { host } => {
                if let Some(r) = self.row(&host) {
                    r.state = RowState::Running;
                }
            }
            RunEvent::StepStarted { host, step } => {
                if let Some(r) = self.row(&host) {
                    r.state = RowState::Running;
                    r.step = Some(step);
                    r.exit = None;
                }
            }
            RunEvent::StepDone { host, step, report } => {
                if let Some(r) = self.row(&host) {
                    r.step = Some(step);
                    r.exit = report.exit;
                    r.duration_ms += report.duration_ms;
                    r.last_line = last_line(&report);
                    r.steps.push(report);
                }
            }
            RunEvent::HostDone { host, status } => {
                if let Some(r) = self.row(&host) {
                    r.state = RowState::Done(status);
                    if status == HostStatus::Skipped && r.last_line.is_empty() {
                        r.last_line =
                            "not started: an earlier host failed (on_failure = stop)".into();
                    }
                }
            }
        }
    }

    /// The run ended: its report (rows take its word for every host).
    pub fn finished(&mut self, report: RunReport) {
        for h in &report.hosts {
            if let Some(r) = self.row(&h.host) {
                r.state = RowState::Done(h.status);
                if r.steps.len() < h.steps.len() {
                    r.steps = h.steps.clone();
                    if let Some(last) = h.steps.last() {
                        r.last_line = last_line(last);
                        r.exit = last.exit;
                    }
                }
            }
        }
        self.report = Some(report);
    }

    pub fn is_done(&self) -> bool {
        self.report.is_some()
    }

    /// (done, failed, running, total) hosts.
    pub fn progress(&self) -> (usize, usize, usize, usize) {
        let mut p = (0, 0, 0, self.rows.len());
        for r in &self.rows {
            match r.state {
                RowState::Done(HostStatus::Ok) => p.0 += 1,
                RowState::Done(_) => {
                    p.0 += 1;
                    p.1 += 1;
                }
                RowState::Running => p.2 += 1,
                RowState::Waiting => {}
            }
        }
        p
    }

    /// Hosts that did not succeed (what `r` runs again).
    pub fn failed_hosts(&self) -> Vec<String> {
        self.rows
            .iter()
            .filter(|r| matches!(r.state, RowState::Done(s) if s != HostStatus::Ok))
            .map(|r| r.host.clone())
            .collect()
    }

    pub fn handle_key(&mut self, key: &KeyEvent) -> RunOutcome {
        if key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL) {
            return if self.is_done() {
                RunOutcome::None
            } else {
                RunOutcome::Cancel
            };
        }
        if self.detail.is_some() {
            match key.code {
                KeyCode::Esc | KeyCode::Char('q') | KeyCode::Enter => {
                    self.detail = None;
                    self.scroll = 0;
                }
                KeyCode::Down | KeyCode::Char('j') => self.scroll += 1,
                KeyCode::Up | KeyCode::Char('k') => self.scroll = self.scroll.saturating_sub(1),
                KeyCode::PageDown | KeyCode::Char(' ') => self.scroll += PAGE,
                KeyCode::PageUp => self.scroll = self.scroll.saturating_sub(PAGE),
                KeyCode::Home | KeyCode::Char('g') => self.scroll = 0,
                _ => {}
            }
            return RunOutcome::None;
        }
        match key.code {
            KeyCode::Esc | KeyCode::Char('q') => RunOutcome::Leave,
            KeyCode::Down | KeyCode::Char('j') => {
                self.selected = (self.selected + 1).min(self.rows.len().saturating_sub(1));
                RunOutcome::None
            }
            KeyCode::Up | KeyCode::Char('k') => {
                self.selected = self.selected.saturating_sub(1);
                RunOutcome::None
            }
            KeyCode::Enter if !self.rows.is_empty() => {
                self.detail = Some(self.selected);
                self.scroll = 0;
                RunOutcome::None
            }
            KeyCode::Char('r') if self.is_done() => {
                let failed = self.failed_hosts();
                if failed.is_empty() {
                    RunOutcome::None
                } else {
                    RunOutcome::Rerun(failed)
                }
            }
            _ => RunOutcome::None,
        }
    }
}

/// Rows PgUp/PgDn scroll a host's output by.
const PAGE: usize = 10;

/// What a step's row shows: why lumen did not run it or stopped it, else its last line of
/// output (stderr when it failed and said something there).
fn last_line(s: &StepReport) -> String {
    if let Some(e) = &s.error {
        return e.clone();
    }
    let last = |t: &str| {
        t.lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .map(str::to_string)
    };
    let failed = s.exit != Some(0);
    let pick = if failed {
        last(&s.stderr).or_else(|| last(&s.stdout))
    } else {
        last(&s.stdout).or_else(|| last(&s.stderr))
    };
    pick.unwrap_or_default()
}
