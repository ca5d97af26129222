//! A runbook's run in the app: the plan built from the form (targets resolved as the app
//! resolves hosts for its tabs), the card's decision, the run itself off the UI task
//! ([`RunJob`]: the executor over the app's shared connections, its events and
//! `confirm = true` questions sent as messages), the run view pane, runs left in the
//! background with their progress in the status bar, and the copilot told how its proposed
//! runbook went.

use super::RunbookDialog;
use super::card::{Origin, PlanCard};
use crate::app::layers::Layer;
use crate::app::layout::PaneId;
use crate::app::msg::{AsyncTask, Bus, Effect, Msg};
use crate::app::state::{App, PaneSlot, PaneSpec};
use crate::panes::Pane;
use crate::panes::run::{RunOutcome, RunView};
use crate::runbook::exec::{self, Canceller, Confirm, RunEvent, RunReport, RunVault};
use crate::runbook::plan::{Plan, PlanHost};
use crate::runbook::{Catalog, Runbook, history};
use crate::ssh::Connector;
use crate::ui::theme::{Role, Theme};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Widget, Wrap};
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

/// The app's runs: numbers, how to cancel each, who to tell when one ends, and the views of
/// those left running in the background.
#[derive(Default)]
pub struct Runs {
    next: u64,
    cancel: HashMap<u64, Canceller>,
    origin: HashMap<u64, Origin>,
    background: HashMap<u64, Box<RunView>>,
}

/// One run, off the UI task.
pub struct RunJob {
    pub run: u64,
    pub plan: Arc<Plan>,
    pub connector: Connector,
    pub vault: RunVault,
    pub cancel: exec::Cancel,
    /// Where the run's report is appended (`runs.jsonl`); None: not kept (no workspace).
    pub history: Option<PathBuf>,
}

impl RunJob {
    /// Run the plan; every event, every question and the report go to `bus`.
    pub async fn run(self, bus: Bus) {
        let RunJob {
            run,
            plan,
            connector,
            vault,
            cancel,
            history,
        } = self;
        let asker = bus.clone();
        let confirm: Confirm = Arc::new(move |step| {
            let bus = asker.clone();
            Box::pin(async move {
                let (reply, answer) = tokio::sync::oneshot::channel();
                if !bus.send(Msg::RunbookConfirm { run, step, reply }) {
                    return false;
                }
                answer.await.unwrap_or(false)
            })
        });
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<RunEvent>();
        let events = bus.clone();
        let forward = tokio::spawn(async move {
            while let Some(event) = rx.recv().await {
                events.send(Msg::RunbookEvent { run, event });
            }
        });
        // The executor's future is driven on a blocking thread of its own: it borrows the plan
        // across its hosts' futures, which the compiler cannot prove `Send` for `spawn`.
        let runtime = tokio::runtime::Handle::current();
        let ran = tokio::task::spawn_blocking(move || {
            runtime.block_on(exec::run(&plan, &connector, vault, confirm, tx, cancel))
        })
        .await;
        let _ = forward.await;
        let report = match ran {
            Ok(report) => report,
            Err(e) => {
                bus.send(Msg::RunbookFailed {
                    run,
                    why: format!("the run stopped unexpectedly ({e})"),
                });
                return;
            }
        };
        let kept = match history {
            Some(path) => {
                let r = report.clone();
                tokio::task::spawn_blocking(move || history::append(&path, &r))
                    .await
                    .map_err(|e| e.to_string())
                    .and_then(|r| r.map_err(|e| e.to_string()))
                    .err()
            }
            None => None,
        };
        bus.send(Msg::RunbookDone {
            run,
            report: Box::new(report),
            history_error: kept,
        });
    }
}

impl App {
    /// The SSH route to `name`, as a tab to it would connect.
    fn route(&self, name: &str, connector: &Connector) -> Result<crate::ssh::Plan, String> {
        match self.host_spec(name)? {
            PaneSpec::Ssh {
                plan: Some(plan), ..
            } => Ok(plan.as_ref().clone()),
            PaneSpec::Ssh { name, target, .. } => Ok(connector.direct(&name, &target)),
            _ => Err(format!("{name} is not a host lumen can reach")),
        }
    }

    /// `runbook`'s plan with `values` on the hosts `targets` names (its own when empty).
    pub(crate) fn plan_for(
        &self,
        runbook: &Runbook,
        values: &BTreeMap<String, String>,
        targets: String,
    ) -> Result<Arc<Plan>, String> {
        // Parameters first, as `lumen run` checks them before anything else.
        crate::runbook::check_params(&runbook.params, values).map_err(|e| e.to_string())?;
        let Some(connector) = &self.connector else {
            return Err("runbooks need SSH, which this lumen has not got".into());
        };
        let expression = if targets.trim().is_empty() {
            runbook.targets.clone().unwrap_or_default()
        } else {
            targets
        };
        let words = crate::workspace::targets::words(&expression);
        let names = crate::workspace::targets::expand(&words, false, &self.inventory)?;
        if names.is_empty() {
            return Err(crate::runbook::plan::PlanError::NoTargets.to_string());
        }
        let hosts = names
            .into_iter()
            .map(|name| {
                let ssh = self
                    .route(&name, connector)
                    .map_err(|e| format!("{name}: {e}"))?;
                let groups = self
                    .inventory
                    .get(&name)
                    .map(|h| h.groups.clone())
                    .unwrap_or_default();
                Ok(PlanHost { name, groups, ssh })
            })
            .collect::<Result<Vec<_>, String>>()?;
        Plan::new(runbook, values, expression, hosts)
            .map(Arc::new)
            .map_err(|e| e.to_string())
    }

    /// Show `plan` as a card for the operator to approve.
    pub(crate) fn show_plan(&mut self, plan: Arc<Plan>, origin: Origin) {
        self.layers
            .push(Layer::Runbook(Box::new(RunbookDialog::Plan(
                PlanCard::new(plan, origin),
            ))));
        self.dirty = true;
    }

    /// The copilot proposed a runbook: read the catalog, then show its plan.
    pub(crate) fn copilot_runbook(
        &mut self,
        terminal: PaneId,
        call_id: String,
        proposal: crate::ai::provider::ProposeRunbook,
    ) -> Vec<crate::ai::copilot::Do> {
        let Some(dirs) = self.runbook_dirs.clone() else {
            self.copilot_tool_result(
                terminal,
                &call_id,
                "There are no runbooks here (lumen has no workspace); nothing ran.".into(),
            );
            return Vec::new();
        };
        self.effects.push(Effect::Spawn(Box::new(
            crate::app::msg::Task::LoadRunbooks(super::LoadCatalog {
                dirs,
                purpose: super::Purpose::Copilot {
                    terminal,
                    call_id,
                    proposal,
                },
            }),
        )));
        Vec::new()
    }

    /// The catalog for the copilot's proposal was read: the plan card, or the model hears why
    /// there is none.
    pub(crate) fn copilot_plan(
        &mut self,
        terminal: PaneId,
        call_id: String,
        proposal: crate::ai::provider::ProposeRunbook,
        catalog: Result<Box<Catalog>, String>,
    ) {
        let plan = catalog.and_then(|c| {
            let runbook = c.runbook(&proposal.name).ok_or_else(|| {
                let known: Vec<&str> = c.runbooks.iter().map(|r| r.name.as_str()).collect();
                format!(
                    "there is no runbook named {:?}; the runbooks are: {}",
                    proposal.name,
                    known.join(", ")
                )
            })?;
            self.plan_for(
                runbook,
                &proposal.params,
                proposal.targets.clone().unwrap_or_default(),
            )
        });
        match plan {
            Ok(plan) => {
                self.show_plan(plan, Origin::Copilot { terminal, call_id });
            }
            Err(why) => {
                self.error(format!("the copilot's runbook: {why}"));
                self.copilot_tool_result(
                    terminal,
                    &call_id,
                    format!("lumen could not plan this runbook, nothing ran: {why}"),
                );
            }
        }
    }

    /// The operator answered the plan card.
    pub(crate) fn plan_decided(&mut self, card: PlanCard, approved: bool) {
        let PlanCard { plan, origin, .. } = card;
        if !approved {
            match origin {
                Origin::Copilot { terminal, call_id } => self.copilot_tool_result(
                    terminal,
                    &call_id,
                    "The operator rejected this runbook's plan; nothing ran.".into(),
                ),
                Origin::Operator => self.say(format!("runbook {}: not run", plan.runbook)),
            }
            return;
        }
        if plan.takes_secrets() && !self.vault.is_unlocked() {
            let why = "its steps take vault values and the vault is locked: unlock it (prefix v) \
                       and run it again; nothing ran";
            self.error(format!("runbook {}: {why}", plan.runbook));
            if let Origin::Copilot { terminal, call_id } = origin {
                self.copilot_tool_result(terminal, &call_id, format!("Not run: {why}."));
            }
            return;
        }
        self.start_run(plan, origin, None);
    }

    /// Start `plan` in a new run view tab, or in pane `reuse` (a re-run).
    fn start_run(&mut self, plan: Arc<Plan>, origin: Origin, reuse: Option<PaneId>) {
        let Some(connector) = self.connector.clone() else {
            self.error("runbooks need SSH, which this lumen has not got");
            return;
        };
        let run = self.runs.next;
        self.runs.next += 1;
        let (canceller, cancel) = exec::cancel_switch();
        self.runs.cancel.insert(run, canceller);
        self.runs.origin.insert(run, origin);
        let view = Box::new(RunView::new(run, plan.clone()));
        match reuse.and_then(|id| self.panes.get_mut(&id)) {
            Some(slot) => slot.pane = Pane::Run(view),
            None => {
                let id = self.alloc_pane();
                let body = self.body();
                self.push_tab(
                    id,
                    PaneSlot {
                        pane: Pane::Run(view),
                        spec: PaneSpec::Run,
                        default_title: format!("run {}", plan.runbook),
                        rect: body,
                        inner: body,
                        connected: false,
                    },
                );
            }
        }
        let history = self.runbook_dirs.as_ref().map(|d| {
            d.paths
                .workspace_dir(&d.workspace)
                .join(history::HISTORY_FILE)
        });
        self.effects
            .push(Effect::SpawnAsync(Box::new(AsyncTask::Runbook(Box::new(
                RunJob {
                    run,
                    plan,
                    connector,
                    vault: RunVault::from_owner(self.vault.clone()),
                    cancel,
                    history,
                },
            )))));
        self.dirty = true;
    }

    /// The view of run `run`, in a pane or in the background.
    fn run_view(&mut self, run: u64) -> Option<&mut RunView> {
        let shown = self.panes.values_mut().find_map(|s| match &mut s.pane {
            Pane::Run(v) if v.run == run => Some(v.as_mut()),
            _ => None,
        });
        match shown {
            Some(v) => Some(v),
            None => self.runs.background.get_mut(&run).map(|b| b.as_mut()),
        }
    }

    pub(crate) fn runbook_event(&mut self, run: u64, event: RunEvent) {
        let mut marker = None;
        if let Some(v) = self.run_view(run) {
            if let RunEvent::StepStarted { host, step } = &event
                && let Some(s) = v.plan.steps.get(*step)
            {
                // The command as planned: placeholders, never values.
                let text = format!(
                    "runbook {} step {} ({}): {}",
                    v.plan.runbook,
                    step + 1,
                    s.name,
                    s.command
                );
                marker = Some((host.clone(), text));
            }
            v.apply(event);
        }
        if let Some((host, text)) = marker {
            self.record_marker_for_host(&host, &text);
        }
        self.dirty = true;
    }

    /// A `confirm = true` step asks again before it starts.
    pub(crate) fn runbook_confirm(
        &mut self,
        run: u64,
        step: usize,
        reply: tokio::sync::oneshot::Sender<bool>,
    ) {
        let Some(v) = self.run_view(run) else {
            let _ = reply.send(false);
            return;
        };
        let text = match v.plan.steps.get(step) {
            Some(s) => format!(
                "Runbook {}, step {} ({}) asks again before it starts:\n$ {}\n\ny run it on the \
                 hosts   n/Esc do not (the hosts stop there)",
                v.plan.runbook,
                step + 1,
                s.name,
                crate::text::escape_controls(&s.command)
            ),
            None => format!(
                "Runbook {}: step {} asks again: y / n",
                v.plan.runbook,
                step + 1
            ),
        };
        self.layers
            .push(Layer::Runbook(Box::new(RunbookDialog::ConfirmStep {
                run,
                text,
                reply: Some(reply),
            })));
        self.dirty = true;
    }

    pub(crate) fn runbook_done(
        &mut self,
        run: u64,
        report: RunReport,
        history_error: Option<String>,
    ) {
        self.runs.cancel.remove(&run);
        let summary = summary(&report);
        let (ok, failed) = (
            report.count(exec::HostStatus::Ok),
            report.hosts.len() - report.count(exec::HostStatus::Ok),
        );
        let name = report.runbook.clone();
        let background = self.runs.background.contains_key(&run);
        if let Some(v) = self.run_view(run) {
            v.finished(report);
        }
        match self.runs.origin.remove(&run) {
            Some(Origin::Copilot { terminal, call_id }) => {
                self.copilot_tool_result(terminal, &call_id, summary);
            }
            _ if background => self.say(format!(
                "runbook {name} finished: {ok} ok, {failed} failed (prefix R shows it again)"
            )),
            _ => {}
        }
        if let Some(e) = history_error {
            self.error(format!(
                "runbook {name}: the run was not kept in the history: {e}"
            ));
        }
        self.dirty = true;
    }

    /// Run `run`'s task failed: the view and whoever asked hear why.
    pub(crate) fn runbook_failed(&mut self, run: u64, why: String) {
        self.runs.cancel.remove(&run);
        if let Some(Origin::Copilot { terminal, call_id }) = self.runs.origin.remove(&run) {
            self.copilot_tool_result(terminal, &call_id, format!("The run failed: {why}"));
        }
        self.error(format!("runbook run: {why}"));
    }

    /// A key for the run view in pane `id`.
    pub(crate) fn run_view_key(&mut self, id: PaneId, key: &crossterm::event::KeyEvent) {
        let Some(Pane::Run(view)) = self.panes.get_mut(&id).map(|s| &mut s.pane) else {
            return;
        };
        match view.handle_key(key) {
            RunOutcome::None => {}
            RunOutcome::Cancel => {
                view.cancelling = true;
                if let Some(c) = self.runs.cancel.get(&view.run) {
                    c.cancel();
                }
            }
            RunOutcome::Rerun(hosts) => {
                let mut plan = view.plan.as_ref().clone();
                plan.hosts.retain(|h| hosts.contains(&h.name));
                self.start_run(Arc::new(plan), Origin::Operator, Some(id));
            }
            RunOutcome::Leave => {
                let run = view.run;
                let done = view.is_done();
                if let Some(slot) = self.panes.remove(&id)
                    && let Pane::Run(view) = slot.pane
                    && !done
                {
                    self.runs.background.insert(run, view);
                }
                // The slot is gone; close_pane tidies the layout and focus.
                self.close_pane(id);
                if !done {
                    self.say(
                        "the run goes on in the background: its progress is in the status bar",
                    );
                }
            }
        }
        self.dirty = true;
    }

    /// Runs in the background, for the status bar: `▶ restart-nginx 2/3 (1 failed)`.
    pub fn background_runs(&self) -> Option<String> {
        let mut parts: Vec<String> = self
            .runs
            .background
            .values()
            .map(|v| {
                let (done, failed, _, total) = v.progress();
                let state = if v.is_done() { "done" } else { "▶" };
                let failed = if failed > 0 {
                    format!(" ({failed} failed)")
                } else {
                    String::new()
                };
                format!("{state} {} {done}/{total}{failed}", v.plan.runbook)
            })
            .collect();
        parts.sort();
        (!parts.is_empty()).then(|| parts.join("  "))
    }

    /// Bring a run left in the background back into a view tab (from the picker).
    pub(crate) fn show_background_run(&mut self, run: u64) {
        let Some(view) = self.runs.background.remove(&run) else {
            return;
        };
        let id = self.alloc_pane();
        let body = self.body();
        let title = format!("run {}", view.plan.runbook);
        self.push_tab(
            id,
            PaneSlot {
                pane: Pane::Run(view),
                spec: PaneSpec::Run,
                default_title: title,
                rect: body,
                inner: body,
                connected: false,
            },
        );
    }

    /// The runs in the background, for the picker: (run, name, progress).
    pub(crate) fn background_list(&self) -> Vec<(u64, String, String)> {
        let mut out: Vec<(u64, String, String)> = self
            .runs
            .background
            .values()
            .map(|v| {
                let (done, failed, _, total) = v.progress();
                let state = if v.is_done() { "finished" } else { "running" };
                (
                    v.run,
                    v.plan.runbook.clone(),
                    format!("{state}: {done}/{total} hosts done, {failed} failed"),
                )
            })
            .collect();
        out.sort_by_key(|r| r.0);
        out
    }
}

/// What the model hears of a run: the gathered outputs and each failure, redacted already
/// (the executor redacts every output).
fn summary(report: &RunReport) -> String {
    use crate::runbook::gather::{final_outputs, render};
    let mut text = format!(
        "The operator approved runbook {}; it ran on {} hosts: {} ok.\n",
        report.runbook,
        report.hosts.len(),
        report.count(exec::HostStatus::Ok)
    );
    for g in final_outputs(report) {
        text.push_str(&render(&g));
        text.push('\n');
    }
    for h in &report.hosts {
        if h.status == exec::HostStatus::Ok {
            continue;
        }
        let why = h
            .steps
            .last()
            .map(|s| {
                let detail = s.error.clone().unwrap_or_else(|| {
                    let err = s.stderr.trim();
                    format!(
                        "exit {}{}",
                        s.exit
                            .map(|e| e.to_string())
                            .unwrap_or_else(|| "none".into()),
                        if err.is_empty() {
                            String::new()
                        } else {
                            format!(": {}", err.chars().take(300).collect::<String>())
                        }
                    )
                });
                format!("step {:?}: {detail}", s.name)
            })
            .unwrap_or_default();
        text.push_str(&format!("{}: {:?} {why}\n", h.host, h.status));
    }
    text
}

/// The question of a `confirm = true` step, centred over the body.
pub(super) fn render_confirm(text: &str, area: Rect, buf: &mut Buffer, theme: &Theme) {
    let width = area.width.min(80);
    let rows: usize = text
        .lines()
        .map(|l| {
            crate::ui::wrap(l, usize::from(width.saturating_sub(2)))
                .len()
                .max(1)
        })
        .sum();
    let rect = crate::ui::centered(area, width, u16::try_from(rows + 2).unwrap_or(u16::MAX));
    let inner = crate::ui::dialog_frame(rect, buf, theme, " Confirm step ", Role::Error);
    let lines: Vec<Line> = text.lines().map(|l| Line::raw(l.to_string())).collect();
    Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .style(theme.style(Role::Dialog))
        .render(inner, buf);
}
