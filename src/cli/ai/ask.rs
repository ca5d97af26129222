//! `lumen ai ask`: one question to the configured model, the answer and any proposed commands
//! printed (text or `--json`), the exchange saved to the host's history. It never runs
//! anything: a proposal is answered "not run" and the conversation ends with that turn. A
//! refusal, a content filter or an empty answer fails, saying which.

use super::setup::{CopilotArgs, Setup, gather};
use crate::ai::copilot::{
    Do, HistoryRecord, Item, Proposal, Session, append_history, history_path,
};
use crate::ai::provider::{ChatEvent, Usage, connect};
use crate::ai::redact::prepare;
use crate::ai::risk::Risk;
use crate::paths::Paths;
use crate::workspace::AiPolicy;
use anyhow::{Context, Result, bail};
use clap::Args;
use futures::StreamExt;
use serde::Serialize;
use std::collections::VecDeque;
use std::io::Write;

/// What the model hears about each proposal: the command line only proposes.
pub const NOT_RUN: &str = "not run: lumen ai ask only proposes";
/// The decision a proposal is saved with in the history.
const DECISION: &str = "not-run";

#[derive(Debug, Args)]
pub struct AskArgs {
    #[command(flatten)]
    pub copilot: CopilotArgs,
    /// Print {"answer", "proposals": [{"command", "explanation", "risk", "reasons"}], "usage"}.
    #[arg(long)]
    pub json: bool,
    /// The question (its words are joined with spaces).
    #[arg(required = true, value_name = "QUESTION")]
    pub question: Vec<String>,
}

pub fn run(args: &AskArgs, paths: &Paths) -> Result<()> {
    let question = args.question.join(" ");
    if question.trim().is_empty() {
        bail!("the question is empty");
    }
    let setup = gather(&args.copilot, paths, true)?;
    for w in &setup.warnings {
        crate::errln!("lumen ai ask: warning: {w}");
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let mut out = Output::new(args.json);
    let result = runtime.block_on(converse(&setup, &question, &mut out));
    let session = match result {
        Ok(s) => s,
        Err(Failed { session, error }) => {
            save(paths, &args.copilot.workspace, &setup, &session);
            return Err(error);
        }
    };
    save(paths, &args.copilot.workspace, &setup, &session);
    if let Some(why) = session.unanswered() {
        // A refusal or a filter is not an answer: scripts must not read it as one.
        bail!("{why}; no answer was given");
    }
    out.finish(&session, &setup)
}

/// A conversation that ended in an error, kept so its history is saved.
struct Failed {
    session: Session,
    error: anyhow::Error,
}

/// Ask, stream the answer, answer the model's tool calls, and stop after the first turn that
/// proposed a command (or at the step limit).
async fn converse(setup: &Setup, question: &str, out: &mut Output) -> Result<Session, Failed> {
    let ai = setup.ai.as_ref();
    let (max_steps, max_scrollback) = ai.map_or((1, 0), |a| (a.max_steps, a.max_scrollback_lines));
    // Whatever the host's policy (`off` was refused earlier), the command line only proposes:
    // `ask` never turns a proposal into something to run.
    let mut session = Session::new(
        setup.history_host(),
        AiPolicy::Ask,
        max_steps,
        max_scrollback,
    );
    let provider = match provider(setup) {
        Ok(p) => p,
        Err(error) => return Err(Failed { session, error }),
    };
    let redacted = setup.question(question);
    let first = match session.ask(question, redacted) {
        Ok(d) => d,
        Err(e) => {
            return Err(Failed {
                session,
                error: e.into(),
            });
        }
    };
    let mut todo = VecDeque::from([first]);
    let mut proposed = false;
    while let Some(next) = todo.pop_front() {
        match next {
            Do::Request => {
                if proposed {
                    break;
                }
                let built = setup.build(&session);
                session.set_injection(built.injection.clone());
                let mut stream = provider.stream(built.request);
                while let Some(event) = stream.next().await {
                    match event {
                        Ok(e) => {
                            out.event(&e);
                            todo.extend(session.on_event(e));
                        }
                        Err(e) => {
                            session.on_error(&e.to_string());
                            return Err(Failed {
                                session,
                                error: e.into(),
                            });
                        }
                    }
                }
                out.end_turn();
            }
            Do::ReadScrollback { call_id, lines } => {
                let text = setup.scrollback(lines);
                todo.extend(session.tool_result(&call_id, text));
            }
            Do::Ask { proposal } | Do::Type { proposal, .. } | Do::Exec { proposal, .. } => {
                proposed = true;
                let Some(id) = session.proposal(proposal).map(|p| p.call_id.clone()) else {
                    continue;
                };
                todo.extend(session.tool_result(&id, NOT_RUN.into()));
            }
            // `lumen ai ask` runs nothing: the runbook is shown as proposed, not planned.
            Do::ProposeRunbook { call_id, .. } => {
                proposed = true;
                todo.extend(session.tool_result(&call_id, NOT_RUN.into()));
            }
        }
    }
    Ok(session)
}

/// The profile's provider, its key resolved (from the unlocked vault or the environment).
fn provider(setup: &Setup) -> Result<std::sync::Arc<dyn crate::ai::provider::Provider>> {
    let (Some(ai), Some(profile)) = (&setup.ai, &setup.profile) else {
        bail!("there is no [ai] profile to ask");
    };
    let key = setup.api_key()?;
    Ok(connect(profile.endpoint(key), &ai.settings())?)
}

/// Save the exchange, redacted, to the host's history; a failure is a warning.
fn save(paths: &Paths, workspace: &str, setup: &Setup, session: &Session) {
    let host = setup.history_host();
    let records = records(host, session, &setup.secrets);
    let path = history_path(&paths.workspace_dir(workspace), host);
    if let Err(e) = append_history(&path, &records) {
        crate::errln!(
            "lumen ai ask: warning: the conversation was not saved to {}: {e}",
            path.display()
        );
    }
}

/// The history records of a session: only what the model saw (redacted) or said, and lumen's
/// own words.
fn records(
    host: &str,
    session: &Session,
    secrets: &crate::ai::redact::Secrets,
) -> Vec<HistoryRecord> {
    session
        .items()
        .iter()
        .map(|item| match item {
            // The question as the model saw it, never as typed.
            Item::User(q) => HistoryRecord::new(host, "question", prepare(q, secrets).text),
            Item::Assistant(a) => HistoryRecord::new(host, "answer", a.clone()),
            Item::Proposal(p) => {
                let mut r = HistoryRecord::new(host, "proposal", p.command.clone());
                r.risk = Some(p.assessment.risk.as_str().to_string());
                r.decision = Some(DECISION.into());
                r
            }
            Item::Output { command, text } => {
                HistoryRecord::new(host, "output", format!("$ {command}\n{text}"))
            }
            // Not the model's to see, so not the history's either.
            Item::Withheld { command, .. } => HistoryRecord::new(
                host,
                "output",
                format!("$ {command}\n{}", crate::ai::copilot::OUTPUT_WITHHELD),
            ),
            Item::Notice(n) => HistoryRecord::new(host, "notice", n.clone()),
            Item::Error(e) => HistoryRecord::new(host, "error", e.clone()),
        })
        .collect()
}

/// `--json`'s object, fields in the documented order.
#[derive(Serialize)]
struct JsonAnswer<'a> {
    answer: String,
    proposals: Vec<JsonProposal<'a>>,
    usage: JsonUsage,
}

#[derive(Serialize)]
struct JsonProposal<'a> {
    command: &'a str,
    explanation: &'a str,
    risk: Risk,
    reasons: Vec<&'a str>,
}

#[derive(Serialize)]
struct JsonUsage {
    input_tokens: u64,
    output_tokens: u64,
    /// Of `input_tokens`, those read from the provider's prompt cache.
    cached_input_tokens: u64,
    /// Money, when config.toml gives the profile's prices.
    #[serde(skip_serializing_if = "Option::is_none")]
    cost: Option<f64>,
}

/// Printing as the answer arrives (text) or once at the end (`--json`).
struct Output {
    json: bool,
    /// Text was printed in this turn and the line is open.
    open_line: bool,
    printed_any: bool,
}

impl Output {
    fn new(json: bool) -> Self {
        Self {
            json,
            open_line: false,
            printed_any: false,
        }
    }

    fn event(&mut self, event: &ChatEvent) {
        match event {
            ChatEvent::TextDelta(t) if !self.json => {
                // The model's text is shown as text: escape sequences in it are made visible.
                let mut stdout = std::io::stdout().lock();
                if !self.open_line && self.printed_any {
                    let _ = stdout.write_all(b"\n");
                }
                let _ = stdout.write_all(crate::text::escape_lines(t).as_bytes());
                let _ = stdout.flush();
                self.open_line = !t.ends_with('\n');
                self.printed_any = true;
            }
            ChatEvent::Retrying { reason, wait, .. } => {
                crate::errln!(
                    "lumen ai ask: {reason}; trying again in {} s",
                    wait.as_secs().max(1)
                );
            }
            _ => {}
        }
    }

    fn end_turn(&mut self) {
        if self.open_line {
            let _ = std::io::stdout().lock().write_all(b"\n");
            self.open_line = false;
        }
    }

    fn finish(&mut self, session: &Session, setup: &Setup) -> Result<()> {
        let proposals: Vec<&Proposal> = session
            .items()
            .iter()
            .filter_map(|i| match i {
                Item::Proposal(p) => Some(p.as_ref()),
                _ => None,
            })
            .collect();
        for item in session.items() {
            if let Item::Notice(n) = item {
                crate::errln!("lumen ai ask: {n}");
            }
        }
        let usage = session.usage();
        let cost = setup
            .profile
            .as_ref()
            .and_then(|p| p.prices)
            .map(|p| p.cost(usage));
        let mut stdout = std::io::stdout().lock();
        if self.json {
            let answer = answer_text(session);
            let json = JsonAnswer {
                answer,
                proposals: proposals.iter().map(|p| json_proposal(p)).collect(),
                usage: JsonUsage {
                    input_tokens: usage.input_tokens,
                    output_tokens: usage.output_tokens,
                    cached_input_tokens: usage.cached_input_tokens,
                    cost,
                },
            };
            let text = serde_json::to_string_pretty(&json)?;
            writeln!(stdout, "{}", crate::text::escape_json_controls(&text))?;
        } else {
            let mut text = String::new();
            for p in &proposals {
                text.push_str(&proposal_text(p));
            }
            if !proposals.is_empty() {
                text.push_str(
                    "\nNothing was run: lumen ai ask only proposes. Run a command yourself if \
                     you agree with it.\n",
                );
            }
            stdout.write_all(crate::text::escape_lines(&text).as_bytes())?;
            drop(stdout);
            crate::errln!("{}", usage_line(usage, cost));
        }
        Ok(())
    }
}

/// Every answer text of the conversation, a blank line between turns.
fn answer_text(session: &Session) -> String {
    session
        .items()
        .iter()
        .filter_map(|i| match i {
            Item::Assistant(a) => Some(a.trim_end()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("\n\n")
}

fn json_proposal(p: &Proposal) -> JsonProposal<'_> {
    JsonProposal {
        command: &p.command,
        explanation: &p.explanation,
        risk: p.assessment.risk,
        reasons: p
            .assessment
            .reasons
            .iter()
            .map(|r| r.text.as_str())
            .collect(),
    }
}

/// A proposal as the text output shows it.
fn proposal_text(p: &Proposal) -> String {
    let mut s = format!(
        "\nproposed command ({} risk):\n    {}\n",
        p.assessment.risk.as_str(),
        p.command.replace('\n', "\n    ")
    );
    if !p.explanation.trim().is_empty() {
        s.push_str(&format!("  why: {}\n", p.explanation.trim()));
    }
    for r in &p.assessment.reasons {
        s.push_str(&format!("  - {}\n", r.text));
    }
    if p.needs_confirmation() {
        s.push_str("  (high risk: in the copilot pane it would need the host's name typed)\n");
    }
    s
}

fn usage_line(usage: Usage, cost: Option<f64>) -> String {
    let mut s = format!("tokens: {} in", usage.input_tokens);
    if usage.cached_input_tokens > 0 {
        s.push_str(&format!(
            " ({} from the prompt cache)",
            usage.cached_input_tokens
        ));
    }
    s.push_str(&format!(", {} out", usage.output_tokens));
    if let Some(c) = cost {
        s.push_str(&format!(" (about {c:.4} in the configured currency)"));
    }
    s
}
