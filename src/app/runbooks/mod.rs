//! Runbooks and snippets in the app (prefix R): the catalog loaded off the UI task, the picker,
//! the parameter form, a snippet typed into the focused pane as a paste, and a runbook's plan,
//! approval and run (`card.rs`, `run.rs`).

pub mod card;
pub mod form;
pub mod picker;
pub(crate) mod run;
pub mod save;

pub use run::RunJob;

use crate::app::layers::Layer;
use crate::app::layout::PaneId;
use crate::app::msg::{Effect, Msg, Task};
use crate::app::state::App;
use crate::paths::Paths;
use crate::runbook::{Catalog, Runbook, Snippet};
use crossterm::event::KeyEvent;
use form::{FormOutcome, ParamForm};
use picker::{Choice, PickOutcome, Picker};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

/// Where runbooks and snippets are read from: the workspace's and the user's own.
#[derive(Debug, Clone)]
pub struct RunbookDirs {
    pub paths: Paths,
    pub workspace: String,
}

impl RunbookDirs {
    /// Where the picker says to put files when there are none.
    fn hint(&self) -> String {
        let ws = self.paths.workspace_dir(&self.workspace);
        format!(
            "put runbooks in {}/ or snippets in {}",
            ws.join("runbooks").display(),
            ws.join("snippets.toml").display()
        )
    }
}

/// The runbooks' names and descriptions, as the copilot's context lists them.
pub fn index(catalog: &Catalog) -> Vec<(String, String)> {
    catalog
        .runbooks
        .iter()
        .map(|r| (r.name.clone(), r.description.clone()))
        .collect()
}

/// Why the catalog is read.
#[derive(Debug)]
pub enum Purpose {
    /// Prefix R in pane `target`: the picker.
    Pick { target: Option<PaneId> },
    /// The copilot of `terminal` proposed a runbook in tool call `call_id`: its plan.
    Copilot {
        terminal: PaneId,
        call_id: String,
        proposal: crate::ai::provider::ProposeRunbook,
    },
}

/// Read the catalog (a blocking [`Task`]).
pub struct LoadCatalog {
    pub dirs: RunbookDirs,
    pub purpose: Purpose,
}

impl LoadCatalog {
    pub fn run(self) -> Msg {
        let result = Catalog::load(&self.dirs.paths, &self.dirs.workspace)
            .map(Box::new)
            .map_err(|e| e.to_string());
        Msg::RunbooksLoaded {
            purpose: self.purpose,
            hint: self.dirs.hint(),
            result,
        }
    }
}

/// The runbook dialogs, one at a time in one layer.
pub enum RunbookDialog {
    Pick {
        picker: Box<Picker>,
        target: Option<PaneId>,
    },
    /// A snippet's parameters; then it is typed into `target`.
    Snippet {
        form: ParamForm,
        snippet: Box<Snippet>,
        target: Option<PaneId>,
    },
    /// A runbook's parameters and targets; then its plan.
    Runbook {
        form: ParamForm,
        runbook: Box<Runbook>,
    },
    /// A runbook's plan, waiting for approval.
    Plan(card::PlanCard),
    /// A `confirm = true` step of run `run` asks again before it starts.
    ConfirmStep {
        run: u64,
        text: String,
        reply: Option<tokio::sync::oneshot::Sender<bool>>,
    },
}

impl RunbookDialog {
    pub fn paste(&mut self, text: &str) {
        match self {
            RunbookDialog::Pick { picker, .. } => picker.paste(text),
            RunbookDialog::Snippet { form, .. } | RunbookDialog::Runbook { form, .. } => {
                form.paste(text)
            }
            RunbookDialog::Plan(card) => card.paste(text),
            RunbookDialog::ConfirmStep { .. } => {}
        }
    }

    /// Draw over `area` (the body); returns where the text cursor goes.
    pub fn render(
        &self,
        area: Rect,
        buf: &mut Buffer,
        theme: &crate::ui::theme::Theme,
    ) -> Option<(u16, u16)> {
        match self {
            RunbookDialog::Pick { picker, .. } => picker.render(area, buf, theme),
            RunbookDialog::Snippet { form, .. } | RunbookDialog::Runbook { form, .. } => {
                form.render(area, buf, theme)
            }
            RunbookDialog::Plan(card) => card.render(area, buf, theme),
            RunbookDialog::ConfirmStep { text, .. } => {
                run::render_confirm(text, area, buf, theme);
                None
            }
        }
    }
}

/// What a snippet must not hold to be typed into a pane: a control character (it would act as
/// a key), or a line break where the program takes no bracketed paste (it would run at once).
/// Tabs and, with bracketed paste, line breaks are fine.
pub fn typing_problem(text: &str, bracketed: bool) -> Option<String> {
    let allowed = |c: char| c == '\t' || (bracketed && c == '\n');
    if let Some(c) = text.chars().find(|c| c.is_control() && !allowed(*c)) {
        return Some(if c == '\n' || c == '\r' {
            "it has several lines and the program in this pane takes no bracketed paste, so \
             each line would run at once: nothing was typed"
                .to_string()
        } else {
            format!(
                "it holds a control character ({}), which would act as a key: nothing was typed",
                crate::text::escape_controls(&c.to_string())
            )
        });
    }
    None
}

impl App {
    /// Prefix R: load the runbooks and snippets, then show the picker.
    pub fn open_runbooks(&mut self) {
        let Some(dirs) = self.runbook_dirs.clone() else {
            self.error("runbooks are not available here: lumen has no workspace to read them from");
            return;
        };
        let target = self.focused();
        self.effects
            .push(Effect::Spawn(Box::new(Task::LoadRunbooks(LoadCatalog {
                dirs,
                purpose: Purpose::Pick { target },
            }))));
    }

    /// The catalog was read (or not): the picker, or why there is none.
    pub(crate) fn runbooks_loaded(
        &mut self,
        purpose: Purpose,
        hint: String,
        result: Result<Box<Catalog>, String>,
    ) {
        if let Ok(catalog) = &result {
            self.runbook_index = index(catalog);
        }
        match (purpose, result) {
            (Purpose::Pick { target }, Ok(catalog)) => {
                self.layers
                    .push(Layer::Runbook(Box::new(RunbookDialog::Pick {
                        picker: Box::new(Picker::new(*catalog, hint, self.background_list())),
                        target,
                    })));
                self.dirty = true;
            }
            (Purpose::Pick { .. }, Err(e)) => self.notice("Runbooks", vec![e]),
            (
                Purpose::Copilot {
                    terminal,
                    call_id,
                    proposal,
                },
                result,
            ) => self.copilot_plan(terminal, call_id, proposal, result),
        }
    }

    /// A key for the runbook dialog on top.
    pub(crate) fn runbook_key(&mut self, key: &KeyEvent) {
        let Some(Layer::Runbook(dialog)) = self.layers.top_mut() else {
            return;
        };
        match dialog.as_mut() {
            RunbookDialog::Pick { picker, target } => match picker.handle_key(key) {
                PickOutcome::Stay => {}
                PickOutcome::Cancel => {
                    self.layers.pop();
                }
                PickOutcome::Chosen(Choice::Run(i)) => {
                    let run = picker.runs.get(i).map(|r| r.0);
                    self.layers.pop();
                    if let Some(run) = run {
                        self.show_background_run(run);
                    }
                }
                PickOutcome::Chosen(choice) => {
                    let next = chosen(picker, choice, *target);
                    self.layers.pop();
                    match next {
                        Ok(d) => self.layers.push(Layer::Runbook(Box::new(d))),
                        Err(why) => self.notice("Not typed", vec![why]),
                    }
                }
            },
            RunbookDialog::Runbook { form, runbook } => match form.handle_key(key) {
                FormOutcome::Stay => {}
                FormOutcome::Cancel => {
                    self.layers.pop();
                }
                FormOutcome::Submit(values) => {
                    let targets = form.targets();
                    let runbook = runbook.clone();
                    match self.plan_for(&runbook, &values, targets) {
                        Ok(plan) => {
                            self.layers.pop();
                            self.show_plan(plan, card::Origin::Operator);
                        }
                        Err(why) => {
                            if let Some(Layer::Runbook(d)) = self.layers.top_mut()
                                && let RunbookDialog::Runbook { form, .. } = d.as_mut()
                            {
                                form.problem = Some(why);
                            }
                        }
                    }
                }
            },
            RunbookDialog::Plan(card) => match card.handle_key(key) {
                card::CardOutcome::Stay => {}
                outcome => {
                    let Some(Layer::Runbook(d)) = self.layers.pop() else {
                        return;
                    };
                    if let RunbookDialog::Plan(card) = *d {
                        self.plan_decided(card, outcome == card::CardOutcome::Approve);
                    }
                }
            },
            RunbookDialog::ConfirmStep { reply, .. } => {
                let answer = match key.code {
                    crossterm::event::KeyCode::Char('y') | crossterm::event::KeyCode::Char('Y') => {
                        Some(true)
                    }
                    crossterm::event::KeyCode::Char('n')
                    | crossterm::event::KeyCode::Char('N')
                    | crossterm::event::KeyCode::Esc => Some(false),
                    _ => None,
                };
                if let Some(yes) = answer {
                    if let Some(reply) = reply.take() {
                        let _ = reply.send(yes);
                    }
                    self.layers.pop();
                }
            }
            RunbookDialog::Snippet {
                form,
                snippet,
                target,
            } => match form.handle_key(key) {
                FormOutcome::Stay => {}
                FormOutcome::Cancel => {
                    self.layers.pop();
                }
                FormOutcome::Submit(values) => {
                    let (snippet, target) = (snippet.clone(), *target);
                    match self.type_snippet(&snippet, &values, target) {
                        Ok(()) => {
                            self.layers.pop();
                        }
                        Err(why) => {
                            if let Some(Layer::Runbook(d)) = self.layers.top_mut()
                                && let RunbookDialog::Snippet { form, .. } = d.as_mut()
                            {
                                form.problem = Some(why);
                            }
                        }
                    }
                }
            },
        }
        self.dirty = true;
    }

    /// Fill `snippet` with `values` and type it into `target` as a paste: it waits there for
    /// the operator's Enter. Refused (with the reason) when it takes a vault value, or when
    /// typing it would run something by itself.
    fn type_snippet(
        &mut self,
        snippet: &Snippet,
        values: &std::collections::BTreeMap<String, String>,
        target: Option<PaneId>,
    ) -> Result<(), String> {
        let values =
            crate::runbook::check_params(&snippet.params, values).map_err(|e| e.to_string())?;
        let filled = crate::runbook::fill(&snippet.run, &values).map_err(|e| e.to_string())?;
        if !filled.vault.is_empty() {
            return Err(vault_refusal(&snippet.name));
        }
        let text = filled.command.trim_end_matches(['\n', '\r']).to_string();
        let Some(pane) = target
            .and_then(|id| self.panes.get_mut(&id))
            .and_then(|s| s.pane.as_terminal_mut())
        else {
            return Err(
                "the pane to type into is gone or is not a terminal: focus a \
                        terminal pane and press the prefix and R again"
                    .into(),
            );
        };
        if let Some(why) = typing_problem(&text, pane.bracketed_paste()) {
            return Err(format!("snippet {}: {why}", snippet.name));
        }
        pane.paste(&text);
        self.say(format!(
            "snippet {} typed: press Enter in the pane to run it",
            snippet.name
        ));
        Ok(())
    }
}

/// Why a snippet with a vault placeholder is not typed.
fn vault_refusal(name: &str) -> String {
    format!(
        "snippet {name} uses a {{{{vault:…}}}} value, and lumen never types a secret into a \
         pane (the screen, scrollback and shell history would keep it): make it a runbook, \
         whose steps run on their own channel"
    )
}

/// The dialog after choosing `choice` in the picker.
fn chosen(
    picker: &Picker,
    choice: Choice,
    target: Option<PaneId>,
) -> Result<RunbookDialog, String> {
    match choice {
        Choice::Snippet(i) => {
            let snippet = picker.catalog.snippets[i].clone();
            if snippet.run.contains("{{vault:") {
                return Err(vault_refusal(&snippet.name));
            }
            let form = ParamForm::new(
                format!("snippet {}", snippet.name),
                vec![format!("$ {}", snippet.run)],
                "type it into the pane",
                &snippet.params,
            );
            Ok(RunbookDialog::Snippet {
                form,
                snippet: Box::new(snippet),
                target,
            })
        }
        Choice::Run(_) => Err("that run is no longer kept".into()),
        Choice::Runbook(i) => {
            let runbook = picker.catalog.runbooks[i].clone();
            let preview = runbook
                .steps
                .iter()
                .enumerate()
                .map(|(i, s)| format!("{}. {}: {}", i + 1, s.name, s.run))
                .collect();
            let form = ParamForm::new(
                format!("runbook {}", runbook.name),
                preview,
                "show the plan",
                &runbook.params,
            )
            .with_targets(runbook.targets.as_deref().unwrap_or(""));
            Ok(RunbookDialog::Runbook {
                form,
                runbook: Box::new(runbook),
            })
        }
    }
}
