//! One conversation and its bounded task loop. The app feeds it model events and the
//! operator's decisions and carries out the [`Do`]s it returns; nothing here runs anything.

use super::Item;
use crate::ai::provider::{
    ChatEvent, Message, PROPOSE_COMMAND_TOOL, PROPOSE_RUNBOOK_TOOL, ProposeCommand, ProposeRunbook,
    READ_SCROLLBACK_TOOL, ReadScrollback, StopReason, ToolCall, Usage,
};
use crate::ai::risk::{Assessment, Reason, Risk, assess};
use crate::workspace::AiPolicy;

/// The text of a placeholder's start: a command holding one runs on an exec channel.
const PLACEHOLDER_START: &str = "{{vault:";

/// What the model is told in place of the output of a command that received a vault value.
pub const OUTPUT_WITHHELD: &str = "[output withheld: this command received a vault value, so \
    its output may hold the value in a form lumen cannot mask; the operator has seen it and \
    can release it to you]";

/// What the app must do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Do {
    /// Send the conversation to the model, with fresh context.
    Request,
    /// Serve `read_scrollback` from the pane (redacted), then call [`Session::tool_result`].
    ReadScrollback { call_id: String, lines: usize },
    /// Show proposal `n` as a card and wait for the operator.
    Ask { proposal: usize },
    /// Type proposal `n`'s command into the pane, capture its output, then call
    /// [`Session::command_finished`].
    Type { proposal: usize, command: String },
    /// Run proposal `n`'s command (it holds `{{vault:…}}`) on an exec channel after
    /// substituting for the bound host, then call [`Session::command_finished`].
    Exec { proposal: usize, command: String },
    /// Show the plan of the runbook the model proposed (the operator approves it or not, as
    /// with prefix R), then call [`Session::tool_result`] with what ran where or why nothing.
    ProposeRunbook {
        call_id: String,
        runbook: ProposeRunbook,
    },
}

/// Where a proposal stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProposalState {
    /// Waiting for the operator's keystroke.
    Pending,
    /// Approved (or run by the host's read-only-auto policy) and running.
    Running {
        auto: bool,
    },
    Done,
    Rejected,
    /// lumen would not run it (e.g. a placeholder bound for another host).
    Refused(String),
    /// The operator stopped the task before it ran.
    Stopped,
}

/// A command the model proposed, as the card shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Proposal {
    pub call_id: String,
    /// The command that would run (the model's, or the operator's edit of it).
    pub command: String,
    pub explanation: String,
    /// lumen's own verdict on `command`, never the model's word.
    pub assessment: Assessment,
    /// Text addressed to an AI found in what the model was shown for this turn.
    pub injection: Vec<String>,
    /// For a command with vault placeholders, lumen's judgement of where they stand (without
    /// the vault): `Ok(quiet)` when they are all where a known program takes a secret
    /// (`quiet`: its output may go to the model unasked), `Err(why)` when lumen will refuse it.
    pub placement: Option<Result<bool, String>>,
    /// The model's own command when the operator edited it: `command` is then the operator's,
    /// and `explanation` still speaks of this one.
    pub original: Option<String>,
    pub state: ProposalState,
}

impl Proposal {
    fn new(
        host: &str,
        call_id: String,
        command: String,
        explanation: String,
        injection: Vec<String>,
    ) -> Self {
        let assessment = verdict(&command, &injection);
        let placement = placement(&command, host);
        Self {
            call_id,
            command,
            explanation,
            assessment,
            injection,
            placement,
            original: None,
            state: ProposalState::Pending,
        }
    }

    /// Whether it needs the host's name typed before it runs.
    pub fn needs_confirmation(&self) -> bool {
        self.assessment.risk == Risk::High
    }

    /// Whether the operator changed the model's command.
    pub fn edited(&self) -> bool {
        self.original.is_some()
    }

    /// What the model hears before a command's output: whose command ran.
    fn whose(&self) -> String {
        match &self.original {
            Some(model) => format!(
                "The operator edited your command before running it (you proposed `{model}`); \
                 this is what ran:\n"
            ),
            None => String::new(),
        }
    }

    /// Whether it runs on an exec channel (it uses a vault placeholder).
    pub fn uses_vault(&self) -> bool {
        self.command.contains(PLACEHOLDER_START)
    }
}

/// lumen's risk for a command proposed after a screen that addressed the assistant: at least
/// High, whatever the command, so it cannot run on one keystroke.
fn verdict(command: &str, injection: &[String]) -> Assessment {
    let mut a = assess(command);
    if !injection.is_empty() {
        a.risk = Risk::High;
        a.reasons.insert(
            0,
            Reason {
                risk: Risk::High,
                text: "proposed after text on the screen addressed the AI assistant".into(),
            },
        );
    }
    a
}

fn placement(command: &str, host: &str) -> Option<Result<bool, String>> {
    command.contains(PLACEHOLDER_START).then(|| {
        crate::ai::placeholders::check_placement(command, host)
            .map(|v| v.quiet)
            .map_err(|r| r.to_string())
    })
}

/// Why the session refused a request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    #[error("the copilot is still working; press Esc to stop it first")]
    Busy,
    #[error("the copilot is off for {host} (ai = \"off\" in hosts.toml): nothing is sent")]
    Off { host: String },
    #[error("there is no such proposal")]
    NoProposal,
    #[error("this proposal is not waiting for a decision")]
    NotPending,
    #[error("this command is high risk: type the host's name ({host}) to run it")]
    ConfirmationNeeded { host: String },
    #[error("there is no withheld output to release")]
    NothingWithheld,
}

/// What the session is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Busy {
    Idle,
    /// An answer is streaming in.
    Streaming,
    /// The turn's tool calls are being answered (cards, commands, scrollback).
    Tools,
}

/// One tool call of the current turn and its answer, once there is one.
#[derive(Debug)]
struct Call {
    call: ToolCall,
    /// The proposal it made, if it is `propose_command`.
    proposal: Option<usize>,
    /// A `propose_runbook` call whose plan was handed to the app (it answers later).
    handed_over: bool,
    result: Option<String>,
}

/// A conversation about one terminal pane's host.
#[derive(Debug)]
pub struct Session {
    host: String,
    policy: AiPolicy,
    max_steps: u32,
    max_scrollback: usize,
    items: Vec<Item>,
    proposals: Vec<Proposal>,
    messages: Vec<Message>,
    usage: Usage,
    busy: Busy,
    /// Model turns since the operator's question.
    steps: u32,
    /// The answer streaming in.
    text: String,
    calls: Vec<Call>,
    /// Injection warnings about the context of the request in flight.
    injection: Vec<String>,
    /// Why the last answer was none (a refusal, a filter, nothing said), if it was none.
    unanswered: Option<String>,
    /// A typed command was still running when its time was up: what is running in the pane now
    /// would read the next command typed, so nothing runs by itself until a prompt is back.
    auto_held: bool,
    /// Nobody is attached to the session (the server's): nothing runs by itself.
    unwatched: bool,
}

impl Session {
    /// A conversation about `host` under `policy`, at most `max_steps` model turns per task,
    /// `read_scrollback` limited to `max_scrollback` lines.
    pub fn new(host: &str, policy: AiPolicy, max_steps: u32, max_scrollback: usize) -> Self {
        Self {
            host: host.to_string(),
            policy,
            max_steps: max_steps.max(1),
            max_scrollback,
            auto_held: false,
            unwatched: false,
            items: Vec::new(),
            proposals: Vec::new(),
            messages: Vec::new(),
            usage: Usage::default(),
            busy: Busy::Idle,
            steps: 0,
            text: String::new(),
            calls: Vec::new(),
            injection: Vec::new(),
            unanswered: None,
        }
    }

    pub fn host(&self) -> &str {
        &self.host
    }

    pub fn policy(&self) -> AiPolicy {
        self.policy
    }

    /// What the pane shows.
    pub fn items(&self) -> &[Item] {
        &self.items
    }

    pub fn proposal(&self, n: usize) -> Option<&Proposal> {
        self.proposals.get(n)
    }

    /// The conversation as the model sees it (already redacted).
    pub fn messages(&self) -> &[Message] {
        &self.messages
    }

    /// Tokens used so far in this conversation.
    pub fn usage(&self) -> Usage {
        self.usage
    }

    pub fn is_busy(&self) -> bool {
        self.busy != Busy::Idle
    }

    /// Why the last answer was no answer at all — the provider refused or filtered it, or the
    /// model said nothing — or None when it answered.
    pub fn unanswered(&self) -> Option<&str> {
        self.unanswered.as_deref()
    }

    /// The proposal waiting for the operator, if any.
    pub fn pending(&self) -> Option<usize> {
        self.proposals
            .iter()
            .position(|p| p.state == ProposalState::Pending)
    }

    /// Say something in the pane (the app's notes: facts gathered, text redacted, …).
    pub fn note(&mut self, text: impl Into<String>) {
        self.items.push(Item::Notice(text.into()));
    }

    /// The operator asks `question`; `redacted` is what the model may see of it.
    pub fn ask(&mut self, question: &str, redacted: String) -> Result<Do, SessionError> {
        if self.policy == AiPolicy::Off {
            return Err(SessionError::Off {
                host: self.host.clone(),
            });
        }
        if self.is_busy() {
            return Err(SessionError::Busy);
        }
        self.items.push(Item::User(question.to_string()));
        self.messages.push(Message::User(redacted));
        self.unanswered = None;
        self.steps = 0;
        self.busy = Busy::Streaming;
        Ok(Do::Request)
    }

    /// The context of the request about to be sent addressed the assistant (these warnings):
    /// proposals of this turn are High and the pane says why.
    pub fn set_injection(&mut self, warnings: Vec<String>) {
        if !warnings.is_empty() && warnings != self.injection {
            self.items.push(Item::Notice(format!(
                "the screen holds text addressed to an AI assistant ({}); it is treated as data \
                 and anything proposed now needs your typed confirmation",
                warnings.join("; ")
            )));
        }
        self.injection = warnings;
    }

    /// A model event for the request in flight.
    pub fn on_event(&mut self, event: ChatEvent) -> Vec<Do> {
        if self.busy != Busy::Streaming {
            return Vec::new();
        }
        match event {
            ChatEvent::TextDelta(t) => {
                match self.items.last_mut() {
                    Some(Item::Assistant(s)) if !self.text.is_empty() => s.push_str(&t),
                    _ => self.items.push(Item::Assistant(t.clone())),
                }
                self.text.push_str(&t);
                Vec::new()
            }
            ChatEvent::ToolCall(call) => {
                self.calls.push(Call {
                    call,
                    proposal: None,
                    handed_over: false,
                    result: None,
                });
                Vec::new()
            }
            ChatEvent::Usage(u) => {
                self.usage.input_tokens += u.input_tokens;
                self.usage.output_tokens += u.output_tokens;
                self.usage.cached_input_tokens += u.cached_input_tokens;
                Vec::new()
            }
            ChatEvent::Retrying {
                attempt,
                wait,
                reason,
            } => {
                self.note(format!(
                    "{reason}; trying again in {} s (attempt {})",
                    wait.as_secs().max(1),
                    attempt + 1
                ));
                Vec::new()
            }
            ChatEvent::Done { stop_reason } => self.finish_turn(stop_reason),
        }
    }

    /// The request failed: say why; the conversation stays usable.
    pub fn on_error(&mut self, why: &str) {
        self.items.push(Item::Error(why.to_string()));
        self.abandon_turn("the request failed");
    }

    fn finish_turn(&mut self, stop: StopReason) -> Vec<Do> {
        let text = std::mem::take(&mut self.text);
        if let StopReason::Refused(why) = stop {
            // Whatever came before the refusal is not kept for the model, nor is the question:
            // sent again, it would be refused again (Anthropic asks for the refused turn to be
            // dropped). The pane keeps what it showed.
            self.calls.clear();
            if let Some(question) = self
                .messages
                .iter()
                .rposition(|m| matches!(m, Message::User(_)))
            {
                self.messages.truncate(question);
            }
            self.items.push(Item::Error(format!(
                "{why}. The question is left out of the conversation, so the next one starts \
                 clean: rephrase it or ask something else"
            )));
            self.unanswered = Some(why);
            self.busy = Busy::Idle;
            return Vec::new();
        }
        let tool_calls: Vec<ToolCall> = self.calls.iter().map(|c| c.call.clone()).collect();
        if text.trim().is_empty() && tool_calls.is_empty() {
            // No provider takes an empty turn back: nothing is stored, and the operator hears
            // that nothing came.
            let why = match stop {
                StopReason::MaxTokens => {
                    "the answer reached the token limit before any of it came".to_string()
                }
                StopReason::Other(reason) => {
                    format!("the model stopped without answering (stop reason \"{reason}\")")
                }
                _ => "the model gave an empty answer".to_string(),
            };
            self.items.push(Item::Error(format!(
                "{why}; ask again or rephrase the question"
            )));
            self.unanswered = Some(why);
            self.busy = Busy::Idle;
            return Vec::new();
        }
        self.messages.push(Message::Assistant { text, tool_calls });
        if stop == StopReason::MaxTokens {
            self.note("the answer was cut at the token limit");
        }
        if self.calls.is_empty() {
            self.busy = Busy::Idle;
            return Vec::new();
        }
        self.busy = Busy::Tools;
        self.next_call()
    }

    /// Work on the first unanswered tool call of the turn; when all are answered, send them
    /// back for the next turn (or stop at the step limit).
    fn next_call(&mut self) -> Vec<Do> {
        let Some(i) = self.calls.iter().position(|c| c.result.is_none()) else {
            return self.send_results();
        };
        if let Some(p) = self.calls[i].proposal {
            // Already a card; still waiting for the operator or the command.
            return match self.proposals[p].state {
                ProposalState::Pending => vec![Do::Ask { proposal: p }],
                _ => Vec::new(),
            };
        }
        if self.calls[i].handed_over {
            return Vec::new();
        }
        let call = self.calls[i].call.clone();
        match call.name.as_str() {
            PROPOSE_RUNBOOK_TOOL => match ProposeRunbook::from_arguments(&call.arguments) {
                Ok(runbook) => {
                    self.calls[i].handed_over = true;
                    self.note(format!("proposes runbook {}", runbook.name));
                    vec![Do::ProposeRunbook {
                        call_id: call.id,
                        runbook,
                    }]
                }
                Err(e) => self.tool_result(&call.id, format!("invalid arguments: {e}")),
            },
            READ_SCROLLBACK_TOOL => match ReadScrollback::from_arguments(&call.arguments) {
                Ok(r) => vec![Do::ReadScrollback {
                    call_id: call.id,
                    lines: usize::try_from(r.lines)
                        .unwrap_or(usize::MAX)
                        .min(self.max_scrollback),
                }],
                Err(e) => self.tool_result(&call.id, format!("invalid arguments: {e}")),
            },
            PROPOSE_COMMAND_TOOL => match ProposeCommand::from_arguments(&call.arguments) {
                Ok(p) => {
                    let proposal = Proposal::new(
                        &self.host,
                        call.id,
                        p.command.trim().to_string(),
                        p.explanation,
                        self.injection.clone(),
                    );
                    let n = self.proposals.len();
                    self.proposals.push(proposal.clone());
                    self.calls[i].proposal = Some(n);
                    self.items.push(Item::Proposal(Box::new(proposal)));
                    self.propose(n)
                }
                Err(e) => self.tool_result(&call.id, format!("invalid arguments: {e}")),
            },
            other => self.tool_result(
                &call.id,
                format!(
                    "there is no tool named {other:?}; use propose_command, propose_runbook or \
                     read_scrollback"
                ),
            ),
        }
    }

    /// A new proposal: run it at once if the host allows read-only commands to run without a
    /// keystroke, the command is on lumen's read-only allow-list and lumen finds it Low (and
    /// harmless to show: no vault value); else ask.
    fn propose(&mut self, n: usize) -> Vec<Do> {
        let p = &self.proposals[n];
        let allowed = crate::ai::risk::read_only(&p.command);
        let allowed = match allowed {
            Ok(()) if self.auto_held => Err(
                "the last command is still running in the pane, and would read what is typed"
                    .to_string(),
            ),
            Ok(()) if self.unwatched => Err(
                "nobody is attached to this session; it waits for you to approve it".to_string(),
            ),
            other => other,
        };
        let auto = self.policy == AiPolicy::ReadOnlyAuto
            && allowed.is_ok()
            && p.assessment.risk == Risk::Low
            && !p.uses_vault()
            && p.injection.is_empty();
        let command = p.command.clone();
        if self.policy == AiPolicy::ReadOnlyAuto
            && let Err(why) = allowed
        {
            self.note(format!("asks before running: {why}"));
        }
        if auto {
            self.set_state(n, ProposalState::Running { auto: true });
            self.note(format!(
                "ran without asking (read-only-auto, low risk): {command}"
            ));
            return vec![Do::Type {
                proposal: n,
                command,
            }];
        }
        vec![Do::Ask { proposal: n }]
    }

    fn set_state(&mut self, n: usize, state: ProposalState) {
        if let Some(p) = self.proposals.get_mut(n) {
            p.state = state;
            let copy = p.clone();
            for item in self.items.iter_mut().rev() {
                if let Item::Proposal(shown) = item
                    && shown.call_id == copy.call_id
                {
                    **shown = copy;
                    break;
                }
            }
        }
    }

    fn pending_mut(&mut self, n: usize) -> Result<&mut Proposal, SessionError> {
        let p = self.proposals.get_mut(n).ok_or(SessionError::NoProposal)?;
        if p.state != ProposalState::Pending {
            return Err(SessionError::NotPending);
        }
        Ok(p)
    }

    /// The operator's keystroke on proposal `n`. A High one needs `confirmation` equal to the
    /// host's name. Returns how to run it.
    pub fn approve(&mut self, n: usize, confirmation: Option<&str>) -> Result<Do, SessionError> {
        let host = self.host.clone();
        let p = self.pending_mut(n)?;
        if p.needs_confirmation() && confirmation.map(str::trim) != Some(host.as_str()) {
            return Err(SessionError::ConfirmationNeeded { host });
        }
        let command = p.command.clone();
        let exec = p.uses_vault();
        self.set_state(n, ProposalState::Running { auto: false });
        Ok(if exec {
            Do::Exec {
                proposal: n,
                command,
            }
        } else {
            Do::Type {
                proposal: n,
                command,
            }
        })
    }

    /// The operator edited proposal `n`'s command: lumen assesses it again. The model's own
    /// command is kept beside it (an edit back to it is no edit).
    pub fn edit(&mut self, n: usize, command: &str) -> Result<(), SessionError> {
        let host = self.host.clone();
        let p = self.pending_mut(n)?;
        let model = p.original.take().unwrap_or_else(|| p.command.clone());
        p.command = command.trim().to_string();
        p.assessment = verdict(&p.command, &p.injection);
        p.placement = placement(&p.command, &host);
        p.original = (p.command != model).then_some(model);
        let state = p.state.clone();
        self.set_state(n, state);
        Ok(())
    }

    /// The commands that ran in this conversation, in order (the operator approved them, or
    /// the host's read-only-auto policy ran them): what Ctrl-s saves as a runbook.
    pub fn ran_commands(&self) -> Vec<String> {
        self.proposals
            .iter()
            .filter(|p| matches!(p.state, ProposalState::Done | ProposalState::Running { .. }))
            .map(|p| p.command.clone())
            .collect()
    }

    /// The operator rejected proposal `n`; the model hears so and may go on.
    pub fn reject(&mut self, n: usize) -> Result<Vec<Do>, SessionError> {
        self.pending_mut(n)?;
        self.set_state(n, ProposalState::Rejected);
        let id = self.proposals[n].call_id.clone();
        Ok(self.tool_result(
            &id,
            "The operator rejected this command; it was not run. Do not propose it again \
             unchanged."
                .into(),
        ))
    }

    /// lumen would not run proposal `n` after all (e.g. a placeholder for another host).
    pub fn refuse(&mut self, n: usize, why: &str) -> Vec<Do> {
        if self.proposals.get(n).is_none() {
            return Vec::new();
        }
        self.set_state(n, ProposalState::Refused(why.to_string()));
        self.items
            .push(Item::Error(format!("lumen refused to run it: {why}")));
        let id = self.proposals[n].call_id.clone();
        self.tool_result(&id, format!("lumen refused to run this command: {why}"))
    }

    /// Proposal `n` ran; `output` is what it printed, already redacted.
    /// A typed command's time ran out before the prompt came back: later proposals ask.
    pub fn hold_auto_run(&mut self) {
        self.auto_held = true;
    }

    /// Whether someone is attached to the session: with nobody, read-only-auto runs nothing
    /// by itself (every proposal waits for a keystroke).
    pub fn set_watched(&mut self, watched: bool) {
        self.unwatched = !watched;
    }

    /// The prompt came back after a typed command: read-only-auto may type again.
    pub fn release_auto_run(&mut self) {
        self.auto_held = false;
    }

    pub fn command_finished(&mut self, n: usize, output: String) -> Vec<Do> {
        let Some(p) = self.proposals.get(n) else {
            return Vec::new();
        };
        let (id, command, whose) = (p.call_id.clone(), p.command.clone(), p.whose());
        self.set_state(n, ProposalState::Done);
        self.items.push(Item::Output {
            command: command.clone(),
            text: output.clone(),
        });
        self.tool_result(&id, format!("{whose}$ {command}\n{output}"))
    }

    /// Proposal `n` received a vault value and ran; `shown` (redacted) is for the operator
    /// only. The model hears that the output was withheld and may be released.
    pub fn command_withheld(&mut self, n: usize, shown: String) -> Vec<Do> {
        let Some(p) = self.proposals.get(n) else {
            return Vec::new();
        };
        let (id, command, whose) = (p.call_id.clone(), p.command.clone(), p.whose());
        self.set_state(n, ProposalState::Done);
        self.items.push(Item::Withheld {
            command: command.clone(),
            text: shown,
            released: false,
        });
        self.tool_result(&id, format!("{whose}$ {command}\n{OUTPUT_WITHHELD}"))
    }

    /// The operator releases the newest withheld output to the model, through `redact`; the
    /// model gets it as the operator's message and answers. Returns the request to send and
    /// the text the model sees.
    pub fn release(
        &mut self,
        redact: impl Fn(&str) -> String,
    ) -> Result<(Do, String), SessionError> {
        if self.policy == AiPolicy::Off {
            return Err(SessionError::Off {
                host: self.host.clone(),
            });
        }
        if self.is_busy() {
            return Err(SessionError::Busy);
        }
        let Some((command, text)) = self.items.iter_mut().rev().find_map(|i| match i {
            Item::Withheld {
                command,
                text,
                released,
            } if !*released => {
                *released = true;
                Some((command.clone(), text.clone()))
            }
            _ => None,
        }) else {
            return Err(SessionError::NothingWithheld);
        };
        let sent = format!(
            "The operator released the output of `{command}` (withheld before because it \
             received a vault value):\n{}",
            redact(&text)
        );
        self.note(format!("released to the model: the output of {command}"));
        self.messages.push(Message::User(sent.clone()));
        self.steps = 0;
        self.busy = Busy::Streaming;
        Ok((Do::Request, sent))
    }

    /// The answer to tool call `call_id` (scrollback served, a command's output, a refusal).
    pub fn tool_result(&mut self, call_id: &str, content: String) -> Vec<Do> {
        if let Some(c) = self
            .calls
            .iter_mut()
            .find(|c| c.call.id == call_id && c.result.is_none())
        {
            c.result = Some(content);
        }
        self.next_call()
    }

    /// Every call answered: hand the results to the model for its next turn.
    fn send_results(&mut self) -> Vec<Do> {
        for c in std::mem::take(&mut self.calls) {
            self.messages.push(Message::ToolResult {
                call_id: c.call.id,
                content: c.result.unwrap_or_default(),
            });
        }
        self.steps += 1;
        if self.steps >= self.max_steps {
            self.busy = Busy::Idle;
            self.note(format!(
                "stopped after {} steps (max_steps in [ai]); ask again to go on",
                self.max_steps
            ));
            return Vec::new();
        }
        self.busy = Busy::Streaming;
        vec![Do::Request]
    }

    /// Esc: stop the running answer or task. Unanswered tool calls are told so, which keeps
    /// the conversation valid for the next question.
    pub fn cancel(&mut self) {
        if !self.is_busy() {
            return;
        }
        self.abandon_turn("stopped by the operator");
        self.note("stopped");
    }

    fn abandon_turn(&mut self, why: &str) {
        if self.busy == Busy::Streaming {
            // A partial answer is dropped from what the model sees next time (it may be cut
            // mid-call); the pane keeps what was shown.
            self.text.clear();
            self.calls.clear();
        }
        for n in 0..self.proposals.len() {
            if matches!(
                self.proposals[n].state,
                ProposalState::Pending | ProposalState::Running { .. }
            ) {
                self.set_state(n, ProposalState::Stopped);
            }
        }
        for c in std::mem::take(&mut self.calls) {
            self.messages.push(Message::ToolResult {
                call_id: c.call.id,
                content: c.result.unwrap_or_else(|| format!("not run: {why}")),
            });
        }
        self.busy = Busy::Idle;
    }
}

#[cfg(test)]
mod tests;
