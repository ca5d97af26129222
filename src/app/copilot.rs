//! The copilot in the app: prefix `a` opens it beside the focused terminal pane (each terminal
//! pane keeps its own conversation; moving focus rebinds it), questions become requests built
//! fresh through redaction, proposals become approval cards, approved commands are typed into
//! the pane (or run on an exec channel when they use a vault value) and their output goes back
//! redacted, within the bounded task loop of `ai::copilot::Session`.

use crate::ai::config::AiConfig;
use crate::ai::copilot::parse_facts;
use crate::ai::copilot::{
    COMMAND_TIMEOUT, Capture, CaptureState, Context, Do, HistoryQueue, HistoryRecord, HostFacts,
    Item, KEY_LOOKBEHIND, Proposal, ProposalState, Session, SessionError, build_request,
    redact_question, redact_scrollback,
};
use crate::ai::provider::{ApiKey, ChatEvent, KeySource, Provider};
use crate::ai::redact::{Secrets, prepare};
use crate::app::ai_jobs::AiJob;
use crate::app::approval::{Approval, ApprovalOutcome};
use crate::app::disk::{DiskJob, Resolution};
use crate::app::layers::Layer;
use crate::app::layout::{PaneId, Split};
use crate::app::msg::{Effect, Task};
use crate::app::state::{App, PaneSlot, PaneSpec};
use crate::panes::Pane;
use crate::panes::copilot::CopilotOutcome;
use crate::ssh::Plan;
use crate::workspace::AiPolicy;
use crossterm::event::KeyEvent;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

/// Width of the copilot side pane, in percent of the pane it splits.
const SIDE_PERCENT: u16 = 40;

/// What the app needs to run the copilot (from config.toml's `[ai]`, or the demo).
pub struct AiSetup {
    pub config: AiConfig,
    /// The scripted demo model: labelled as such everywhere.
    pub demo: bool,
    /// Where `ai/<host>.jsonl` histories go.
    pub workspace_dir: Option<PathBuf>,
}

/// A question waiting for something before its request can go.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Waiting {
    /// The host's facts are being gathered.
    Facts,
    /// The vault holds the API key (or a value to substitute) and is locked.
    Vault,
    /// The host's last scan is being read for the request.
    Scan,
    /// The API key is being read from the vault.
    Key,
}

/// Work held back while the vault is locked: nothing goes to the model while lumen cannot mask
/// the vault's values (and their encodings) in it.
enum Held {
    /// A question, as typed.
    Ask(String),
    /// What an approved command printed, not yet masked.
    Output { proposal: usize, text: String },
    /// Ctrl-o's view of what would be sent.
    ShowContext,
}

/// One terminal pane's conversation and the work around it.
struct Convo {
    session: Session,
    facts: Option<Result<HostFacts, String>>,
    gathering: bool,
    /// Stops the running answer when fired or dropped.
    cancel: Option<tokio::sync::oneshot::Sender<()>>,
    /// Only events of the newest request count.
    generation: u64,
    /// A typed command being watched: its proposal and the capture.
    capture: Option<(usize, Capture)>,
    /// Work held back until facts arrive or the vault opens.
    waiting: Option<(Waiting, Vec<Do>)>,
    /// Exec'd proposals whose output may go to the model unasked (no vault value, or values
    /// only given to programs known not to print them); the rest is withheld.
    quiet: HashMap<usize, bool>,
    /// Work held back until the vault opens, so its values can be masked.
    held: Vec<Held>,
    /// The host's last scan as last read (None: never scanned), and whether it was read for
    /// the request being prepared (each request reads it afresh, off the UI task).
    scan: Option<String>,
    scan_read: bool,
    /// A read of the last scan is under way; Ctrl-o's view waits for it.
    scan_reading: bool,
    show_after_scan: bool,
}

/// All copilot state of the app.
#[derive(Default)]
pub struct CopilotHub {
    setup: Option<AiSetup>,
    /// Why the copilot cannot run (a broken `[ai]` section), shown when it is opened.
    unavailable: Option<String>,
    /// config.toml, named when it has no `[ai]` section.
    config_file: Option<PathBuf>,
    /// The current profile (`default` or an `[ai.profiles]` name).
    profile: String,
    provider: Option<(String, Arc<dyn Provider>)>,
    convos: HashMap<PaneId, Convo>,
    /// Copilot pane → the terminal pane it talks about.
    bindings: HashMap<PaneId, PaneId>,
    /// History lines on their way to disk.
    history: HistoryQueue,
    /// The API key read from the vault for a profile, until its provider is made; whether a
    /// read is under way.
    key: Option<(String, secrecy::SecretString)>,
    reading_key: bool,
    /// Nobody is attached to the session (the server's): nothing runs without a keystroke.
    unwatched: bool,
}

impl CopilotHub {
    /// `setup` from config (None: no `[ai]` section); `unavailable` says why when it is broken;
    /// `config_file` is where an `[ai]` section goes.
    pub fn new(
        setup: Option<AiSetup>,
        unavailable: Option<String>,
        config_file: Option<PathBuf>,
    ) -> Self {
        Self {
            setup,
            unavailable,
            config_file,
            profile: crate::ai::config::DEFAULT_PROFILE.to_string(),
            ..Self::default()
        }
    }

    /// The terminal pane a copilot pane talks about.
    pub fn bound(&self, copilot: PaneId) -> Option<PaneId> {
        self.bindings.get(&copilot).copied()
    }

    /// The conversation about a terminal pane.
    pub fn session(&self, terminal: PaneId) -> Option<&Session> {
        self.convos.get(&terminal).map(|c| &c.session)
    }

    /// When a watched command must be looked at again.
    pub fn next_deadline(&self, now: Instant) -> Option<Instant> {
        self.convos
            .values()
            .filter_map(|c| c.capture.as_ref().map(|(_, cap)| cap.next_check(now)))
            .min()
    }

    /// Why the current profile's `env:` key cannot be read, if it cannot (a vault key is only
    /// read once the vault is open).
    fn missing_env_key(&self) -> Option<String> {
        let setup = self.setup.as_ref()?;
        let profile = setup
            .config
            .profile_named(&self.profile)
            .unwrap_or(&setup.config.profile);
        match &profile.api_key {
            Some(source @ KeySource::Env(_)) => {
                ApiKey::resolve(source, None).err().map(|e| e.to_string())
            }
            _ => None,
        }
    }

    /// The pane title: host, what it cost (tokens, of which cached, money), provider and model.
    pub fn title(&self, terminal: Option<PaneId>, host: &str) -> String {
        let Some(setup) = &self.setup else {
            return format!("copilot · {host} · not configured");
        };
        let profile = setup
            .config
            .profile_named(&self.profile)
            .unwrap_or(&setup.config.profile);
        let who = if setup.demo {
            "scripted demo, not an AI".to_string()
        } else {
            format!("{} {}", profile.provider, profile.model)
        };
        let usage = terminal
            .and_then(|t| self.session(t))
            .map(|s| s.usage())
            .unwrap_or_default();
        let mut spent = format!("{} tokens", usage.input_tokens + usage.output_tokens);
        // Read from the provider's prompt cache: the part of the input billed at a discount.
        if usage.cached_input_tokens > 0 {
            spent.push_str(&format!(", {} cached", usage.cached_input_tokens));
        }
        if let Some(p) = &profile.prices {
            spent.push_str(&format!(", ${:.4}", p.cost(usage)));
        }
        // A narrow pane's title is cut at its right end: what it costs comes before who
        // answers, except that the demo says first that it is no AI.
        if setup.demo {
            format!("copilot · {host} · {who} · {spent}")
        } else {
            format!("copilot · {host} · {spent} · {who}")
        }
    }
}

impl App {
    /// Prefix a: open the copilot beside the focused terminal pane, focus it, or (when it is
    /// focused) close it.
    pub(crate) fn toggle_copilot(&mut self) {
        let Some(tab) = self.tabs.get(self.active) else {
            return;
        };
        let focused = tab.focused;
        let in_tab = tab
            .layout
            .panes()
            .into_iter()
            .find(|id| matches!(self.panes.get(id).map(|s| &s.pane), Some(Pane::Copilot(_))));
        if let Some(c) = in_tab {
            if c == focused {
                self.close_pane(c);
            } else if let Some(tab) = self.tabs.get_mut(self.active) {
                tab.focused = c;
                self.rebind_copilot(c, Some(focused));
            }
            self.dirty = true;
            return;
        }
        let terminal = self
            .panes
            .get(&focused)
            .is_some_and(|s| s.pane.as_terminal().is_some());
        if !terminal {
            self.say("the copilot talks about a terminal pane: focus one first");
            return;
        }
        let id = self.alloc_pane();
        let slot = PaneSlot {
            pane: Pane::Copilot(Box::default()),
            spec: PaneSpec::Copilot,
            default_title: "copilot".into(),
            rect: Default::default(),
            inner: Default::default(),
            connected: true,
        };
        self.panes.insert(id, slot);
        if let Some(tab) = self.tabs.get_mut(self.active) {
            tab.layout
                .split_percent(focused, id, Split::Right, 100 - SIDE_PERCENT);
            tab.focused = id;
        }
        self.copilot.bindings.insert(id, focused);
        if let Some(why) = self.copilot.unavailable.clone() {
            self.convo(focused).session.note(format!(
                "the copilot is off: {why}; fix the [ai] section of config.toml and restart"
            ));
        } else if self.copilot.setup.is_none() {
            let help = crate::ai::config::setup_help(self.copilot.config_file.as_deref());
            self.convo(focused)
                .session
                .note(format!("{help} PageUp scrolls up to the examples."));
        } else if let Some(why) = self.copilot.missing_env_key() {
            // Said on opening, before a question is typed (and asked again at each question).
            self.convo(focused).session.note(why);
        }
        self.relayout();
    }

    /// Keep each tab's copilot pane bound to the terminal pane last focused in that tab.
    pub(crate) fn rebind_copilot(&mut self, copilot: PaneId, terminal: Option<PaneId>) {
        if let Some(t) = terminal
            && self
                .panes
                .get(&t)
                .is_some_and(|s| s.pane.as_terminal().is_some())
        {
            self.copilot.bindings.insert(copilot, t);
        }
    }

    /// After focus moved: a copilot pane in the active tab follows the focused terminal pane.
    pub(crate) fn follow_focus(&mut self) {
        let Some(tab) = self.tabs.get(self.active) else {
            return;
        };
        let focused = tab.focused;
        if self
            .panes
            .get(&focused)
            .and_then(|s| s.pane.as_terminal())
            .is_none()
        {
            return;
        }
        let copilots: Vec<PaneId> = tab
            .layout
            .panes()
            .into_iter()
            .filter(|id| matches!(self.panes.get(id).map(|s| &s.pane), Some(Pane::Copilot(_))))
            .collect();
        for c in copilots {
            self.copilot.bindings.insert(c, focused);
        }
    }

    /// The host a terminal pane is connected to, as lumen names it.
    pub(crate) fn pane_host(&self, terminal: PaneId) -> String {
        match self.panes.get(&terminal).map(|s| &s.spec) {
            Some(PaneSpec::Ssh { name, .. }) => name.clone(),
            _ => "local shell".to_string(),
        }
    }

    fn convo(&mut self, terminal: PaneId) -> &mut Convo {
        let host = self.pane_host(terminal);
        let policy = match self.panes.get(&terminal).map(|s| &s.spec) {
            Some(PaneSpec::Ssh { name, .. }) => self.inventory.ai_policy(name),
            _ => AiPolicy::Ask,
        };
        let (steps, scroll) = self
            .copilot
            .setup
            .as_ref()
            .map(|s| (s.config.max_steps, s.config.max_scrollback_lines))
            .unwrap_or((
                crate::ai::config::DEFAULT_MAX_STEPS,
                crate::ai::config::DEFAULT_MAX_SCROLLBACK_LINES,
            ));
        let unwatched = self.copilot.unwatched;
        self.copilot
            .convos
            .entry(terminal)
            .or_insert_with(|| Convo {
                session: {
                    let mut s = Session::new(&host, policy, steps, scroll);
                    s.set_watched(!unwatched);
                    s
                },
                facts: None,
                gathering: false,
                cancel: None,
                generation: 0,
                capture: None,
                waiting: None,
                quiet: HashMap::new(),
                held: Vec::new(),
                scan: None,
                scan_read: false,
                scan_reading: false,
                show_after_scan: false,
            })
    }

    /// A key in a focused copilot pane.
    pub(crate) fn copilot_key(&mut self, copilot: PaneId, key: &KeyEvent) {
        let Some(terminal) = self.copilot.bound(copilot) else {
            return;
        };
        let busy = self.copilot.session(terminal).is_some_and(Session::is_busy);
        let outcome = match self.panes.get_mut(&copilot).map(|s| &mut s.pane) {
            Some(Pane::Copilot(p)) => p.handle_key(key, busy),
            _ => return,
        };
        match outcome {
            CopilotOutcome::None => {}
            CopilotOutcome::Send(q) => self.copilot_ask(terminal, &q),
            CopilotOutcome::Stop => self.copilot_stop(terminal),
            CopilotOutcome::ShowContext => self.copilot_show_context(terminal),
            CopilotOutcome::NextProfile => self.copilot_next_profile(),
            CopilotOutcome::Release => self.copilot_release(terminal),
            CopilotOutcome::SaveRunbook => self.copilot_save_runbook(terminal),
            CopilotOutcome::Close => self.close_pane(copilot),
        }
    }

    /// The operator asked `question` about `terminal`'s host.
    pub fn copilot_ask(&mut self, terminal: PaneId, question: &str) {
        self.dirty = true;
        if let Some(why) = self.copilot.unavailable.clone() {
            self.convo(terminal)
                .session
                .note(format!("the copilot is off: {why}"));
            return;
        }
        if self.copilot.setup.is_none() {
            let file = self
                .copilot
                .config_file
                .as_ref()
                .map_or("config.toml".into(), |f| f.display().to_string());
            self.convo(terminal).session.note(format!(
                "nothing was sent: there is no [ai] section in {file}; `lumen ai setup` writes one"
            ));
            return;
        }
        // A host with `ai = "off"` sends nothing anyway: the session says so below.
        let off = self.convo(terminal).session.policy() == AiPolicy::Off;
        if !off && !self.can_mask_vault() {
            self.convo(terminal)
                .held
                .push(Held::Ask(question.to_string()));
            self.convo(terminal).session.note(
                "the vault is locked: unlock it so lumen can mask its values; nothing was sent, \
                 the question goes once it is open",
            );
            self.ask_unlock_for_copilot();
            return;
        }
        let lines = self
            .terminal_lines(terminal, self.context_lines() * 4)
            .unwrap_or_default();
        let redacted = redact_question(question, &lines, &self.secrets());
        let masked = redacted.redactions.len();
        let redacted = redacted.text;
        let asked = self.convo(terminal).session.ask(question, redacted.clone());
        match asked {
            Ok(todo) => {
                if masked > 0 {
                    self.convo(terminal).session.note(format!(
                        "{masked} secret value{} in your question {} masked; the model sees: {redacted}",
                        if masked == 1 { "" } else { "s" },
                        if masked == 1 { "was" } else { "were" },
                    ));
                }
                self.history_text(terminal, "question", redacted);
                self.copilot_do(terminal, vec![todo]);
            }
            Err(e) => self.convo(terminal).session.note(e.to_string()),
        }
    }

    /// `context_lines` of `[ai]`.
    fn context_lines(&self) -> usize {
        self.copilot
            .setup
            .as_ref()
            .map_or(crate::ai::config::DEFAULT_CONTEXT_LINES, |s| {
                s.config.context_lines
            })
    }

    /// Whether lumen can mask vault values now: the vault is open, or there is none. While
    /// it is locked nothing goes to the model (its values and their encodings would leave).
    fn can_mask_vault(&self) -> bool {
        self.vault.is_unlocked() || !self.vault.any_exists()
    }

    /// Hold `work` until the vault is open, and ask for it.
    fn hold_for_vault(&mut self, terminal: PaneId, work: Do) {
        let c = self.convo(terminal);
        match &mut c.waiting {
            Some((Waiting::Vault, todo)) => todo.push(work),
            _ => c.waiting = Some((Waiting::Vault, vec![work])),
        }
        self.ask_unlock_for_copilot();
    }

    /// Esc: stop the answer or the task; a watched command is no longer waited for.
    fn copilot_stop(&mut self, terminal: PaneId) {
        if let Some(c) = self.copilot.convos.get_mut(&terminal) {
            c.cancel = None;
            c.capture = None;
            c.waiting = None;
            c.held.clear();
            c.generation += 1;
            c.session.cancel();
        }
        if self.layers.approval().is_some_and(|a| a.pane == terminal) {
            self.layers.remove_approval();
        }
        self.dirty = true;
    }

    /// Secrets to mask: the unlocked vaults' values (none while locked; the detectors still
    /// catch secrets in known formats).
    fn secrets(&self) -> Secrets {
        self.vault
            .read(|vs| {
                let refs: Vec<&crate::vault::Vault> = vs.iter().map(|s| &s.vault).collect();
                Secrets::from_vaults(&refs)
            })
            .unwrap_or_default()
    }

    /// Carry out what the session asked for, in order.
    fn copilot_do(&mut self, terminal: PaneId, todo: Vec<Do>) {
        for d in todo {
            let more = match d {
                Do::Request => self.copilot_request(terminal),
                Do::ReadScrollback { call_id, lines } if !self.can_mask_vault() => {
                    self.hold_for_vault(terminal, Do::ReadScrollback { call_id, lines });
                    Vec::new()
                }
                Do::ReadScrollback { call_id, lines } => {
                    // Read further back than asked, so a key the cut would halve is masked.
                    let text = self
                        .terminal_lines(terminal, lines.saturating_add(KEY_LOOKBEHIND))
                        .unwrap_or_default();
                    let redacted = redact_scrollback(&text, lines, &self.secrets());
                    self.convo(terminal).session.tool_result(&call_id, redacted)
                }
                Do::Ask { proposal } => {
                    if self.layers.approval().is_none() {
                        self.layers
                            .push(Layer::Approval(Approval::new(terminal, proposal)));
                    }
                    Vec::new()
                }
                Do::Type { proposal, command } => self.copilot_type(terminal, proposal, &command),
                Do::Exec { proposal, command } => self.copilot_exec(terminal, proposal, &command),
                Do::ProposeRunbook { call_id, runbook } => {
                    self.copilot_runbook(terminal, call_id, runbook)
                }
            };
            if !more.is_empty() {
                self.copilot_do(terminal, more);
            }
        }
        self.dirty = true;
    }

    /// Answer tool call `call_id` of `terminal`'s conversation (a runbook's outcome), and go
    /// on with what the session asks next.
    pub(crate) fn copilot_tool_result(&mut self, terminal: PaneId, call_id: &str, content: String) {
        let more = self.convo(terminal).session.tool_result(call_id, content);
        self.copilot_do(terminal, more);
    }

    fn terminal_lines(&self, terminal: PaneId, n: usize) -> Option<Vec<String>> {
        self.panes
            .get(&terminal)
            .and_then(|s| s.pane.as_terminal())
            .map(|t| t.last_lines(n))
    }

    /// Whether anyone is attached to this app's session: while nobody is, read-only-auto runs
    /// nothing by itself (cards wait for the operator).
    pub fn set_attached(&mut self, attached: bool) {
        self.copilot.unwatched = !attached;
        for c in self.copilot.convos.values_mut() {
            c.session.set_watched(attached);
        }
    }

    /// The pane's destination as a connection plan (SSH panes only).
    fn pane_plan(&self, terminal: PaneId) -> Option<Plan> {
        let connector = self.connector.as_ref()?;
        match self.panes.get(&terminal).map(|s| &s.spec) {
            Some(PaneSpec::Ssh { name, target, plan }) => Some(match plan {
                Some(p) => p.as_ref().clone(),
                None => connector.direct(name, target),
            }),
            _ => None,
        }
    }

    /// Send the conversation with fresh context, once the provider (its key) and the facts
    /// are ready.
    fn copilot_request(&mut self, terminal: PaneId) -> Vec<Do> {
        // The key first: a missing one is said before anything is asked of the host.
        let provider = match self.copilot_provider() {
            Ok(Some(p)) => p,
            Ok(None) if self.copilot.reading_key => {
                // The key is being read (an audited read, off the UI task): then go on.
                self.convo(terminal).waiting = Some((Waiting::Key, vec![Do::Request]));
                return Vec::new();
            }
            Ok(None) => {
                // The key is in the vault, which is locked: ask, then go on.
                self.convo(terminal).waiting = Some((Waiting::Vault, vec![Do::Request]));
                self.ask_unlock_for_copilot();
                return Vec::new();
            }
            Err(why) => {
                self.convo(terminal).session.on_error(&why);
                return Vec::new();
            }
        };
        // Facts are gathered once per session, before the first request.
        let needs_facts = {
            let c = self.convo(terminal);
            c.facts.is_none()
        };
        if needs_facts {
            let start = !self.convo(terminal).gathering;
            self.convo(terminal).waiting = Some((Waiting::Facts, vec![Do::Request]));
            if start {
                self.convo(terminal).gathering = true;
                let remote = self
                    .pane_plan(terminal)
                    .and_then(|p| self.connector.clone().map(|c| (c, p)));
                let local = matches!(
                    self.panes.get(&terminal).map(|s| &s.spec),
                    Some(PaneSpec::LocalShell)
                );
                if remote.is_none() && !local {
                    self.convo(terminal).facts = Some(Err("no connection to ask the host".into()));
                    self.convo(terminal).gathering = false;
                    self.convo(terminal).waiting = None;
                    return vec![Do::Request];
                }
                self.convo(terminal)
                    .session
                    .note("gathering the host's facts…");
                self.effects.push(Effect::Ai(Box::new(AiJob::Facts {
                    pane: terminal,
                    remote,
                })));
            }
            return Vec::new();
        }
        if !self.can_mask_vault() {
            self.hold_for_vault(terminal, Do::Request);
            return Vec::new();
        }
        if self.read_last_scan(terminal) {
            self.convo(terminal).waiting = Some((Waiting::Scan, vec![Do::Request]));
            return Vec::new();
        }
        let Some(built) = self.copilot_build(terminal) else {
            return Vec::new();
        };
        let c = self.convo(terminal);
        // The next request reads the last scan again.
        c.scan_read = false;
        c.session.set_injection(built.injection);
        c.generation += 1;
        let (cancel, cancelled) = tokio::sync::oneshot::channel();
        c.cancel = Some(cancel);
        let generation = c.generation;
        self.effects.push(Effect::Ai(Box::new(AiJob::Stream {
            pane: terminal,
            generation,
            provider,
            request: built.request,
            cancel: cancelled,
        })));
        Vec::new()
    }

    /// The next request about `terminal`, built fresh through redaction: the pane's last lines,
    /// the host's facts and last scan, the names of the vault entries bound to it.
    fn copilot_build(&mut self, terminal: PaneId) -> Option<crate::ai::copilot::Built> {
        let setup = self.copilot.setup.as_ref()?;
        let (context_lines, demo) = (setup.config.context_lines, setup.demo);
        let lines = self
            .terminal_lines(terminal, context_lines * 4 + KEY_LOOKBEHIND)
            .unwrap_or_default();
        let lookbehind = lines.len().saturating_sub(context_lines * 4);
        let secrets = self.secrets();
        let host = self.pane_host(terminal);
        let groups = self
            .inventory
            .get(&host)
            .map(|h| h.groups.clone())
            .unwrap_or_default();
        let entries = self
            .vault
            .read(|vs| {
                let refs: Vec<&crate::vault::Vault> = vs.iter().map(|s| &s.vault).collect();
                crate::ai::placeholders::entries_for_host(&refs, &host, &groups)
            })
            .unwrap_or_default();
        let facts = self
            .copilot
            .convos
            .get(&terminal)
            .and_then(|c| c.facts.clone())
            .and_then(Result::ok);
        let runbooks = self.runbook_index.clone();
        let c = self.convo(terminal);
        let scan = c.scan.clone();
        Some(build_request(
            &c.session,
            &Context {
                host: &host,
                facts: facts.as_ref(),
                scan_summary: scan.as_deref(),
                lines: &lines,
                max_lines: context_lines,
                lookbehind,
                vault_entries: &entries,
                secrets: &secrets,
                runbooks: &runbooks,
                demo,
            },
        ))
    }

    /// The provider for the current profile; Ok(None) when its key is in the vault, locked
    /// or being read (`reading_key`).
    fn copilot_provider(&mut self) -> Result<Option<Arc<dyn Provider>>, String> {
        if let Some((profile, p)) = &self.copilot.provider
            && *profile == self.copilot.profile
        {
            return Ok(Some(p.clone()));
        }
        let Some(setup) = &self.copilot.setup else {
            return Err("no [ai] section in config.toml".into());
        };
        let profile = setup
            .config
            .profile_named(&self.copilot.profile)
            .unwrap_or(&setup.config.profile)
            .clone();
        let key = match &profile.api_key {
            None => None,
            Some(KeySource::Env(name)) => Some(
                ApiKey::resolve(&KeySource::Env(name.clone()), None).map_err(|e| e.to_string())?,
            ),
            Some(KeySource::Vault(name)) => {
                let value = match self.copilot.key.take() {
                    Some((p, value)) if p == self.copilot.profile => value,
                    _ => {
                        if !self.vault.is_unlocked() {
                            return Ok(None);
                        }
                        if !self.copilot.reading_key {
                            // Reading a secret appends to the audit log: not here.
                            self.copilot.reading_key = true;
                            let job = DiskJob::ApiKey {
                                owner: self.vault.clone(),
                                profile: self.copilot.profile.clone(),
                                entry: name.clone(),
                                provider: profile.provider.as_str().to_string(),
                            };
                            self.effects.push(Effect::Spawn(Box::new(Task::Disk(job))));
                        }
                        return Ok(None);
                    }
                };
                Some(
                    ApiKey::resolve(&KeySource::Vault(name.clone()), Some(value))
                        .map_err(|e| e.to_string())?,
                )
            }
        };
        let provider =
            crate::ai::provider::connect(profile.endpoint(key), &setup.config.settings())
                .map_err(|e| e.to_string())?;
        self.copilot.provider = Some((self.copilot.profile.clone(), provider.clone()));
        Ok(Some(provider))
    }

    /// The API key was read from the vault (or not): requests waiting for it go on, or fail
    /// with the reason.
    pub(crate) fn copilot_key_read(
        &mut self,
        profile: String,
        key: Result<secrecy::SecretString, String>,
    ) {
        self.copilot.reading_key = false;
        self.dirty = true;
        let waiting: Vec<(PaneId, Vec<Do>)> = self
            .copilot
            .convos
            .iter_mut()
            .filter_map(|(id, c)| match c.waiting.take() {
                Some((Waiting::Key, todo)) => Some((*id, todo)),
                other => {
                    c.waiting = other;
                    None
                }
            })
            .collect();
        match key {
            Ok(value) => {
                self.copilot.key = Some((profile, value));
                for (terminal, todo) in waiting {
                    self.copilot_do(terminal, todo);
                }
                // Unused (no request waited, or the profile changed): not kept.
                self.copilot.key = None;
            }
            Err(why) => {
                for (terminal, _) in waiting {
                    self.convo(terminal)
                        .session
                        .on_error(&format!("the API key: {why}"));
                }
            }
        }
    }

    /// Ctrl-p: the next `[ai.profiles]` profile (the provider is made again on next use).
    fn copilot_next_profile(&mut self) {
        let Some(setup) = &self.copilot.setup else {
            return;
        };
        let mut names: Vec<String> = vec![crate::ai::config::DEFAULT_PROFILE.to_string()];
        names.extend(setup.config.profiles.keys().cloned());
        let i = names
            .iter()
            .position(|n| *n == self.copilot.profile)
            .unwrap_or(0);
        self.copilot.profile = names[(i + 1) % names.len()].clone();
        self.copilot.provider = None;
        self.say(format!("copilot profile: {}", self.copilot.profile));
    }

    /// Ctrl-o: show exactly what the next request would send (nothing is sent).
    fn copilot_show_context(&mut self, terminal: PaneId) {
        if self.copilot.setup.is_some() && !self.can_mask_vault() {
            self.convo(terminal).held.push(Held::ShowContext);
            self.ask_unlock_for_copilot();
            return;
        }
        // As the request would carry it: the last scan read afresh.
        if self.copilot.setup.is_some() && self.read_last_scan(terminal) {
            self.convo(terminal).show_after_scan = true;
            return;
        }
        let Some(built) = self.copilot_build(terminal) else {
            self.say("no [ai] section in config.toml");
            return;
        };
        let text = built.readable().lines().map(str::to_string).collect();
        self.show_text("What the model would see", text);
    }

    /// Type an approved command into the pane and start watching for its end.
    fn copilot_type(&mut self, terminal: PaneId, proposal: usize, command: &str) -> Vec<Do> {
        let Some(t) = self
            .panes
            .get_mut(&terminal)
            .and_then(|s| s.pane.as_terminal_mut())
        else {
            return self
                .convo(terminal)
                .session
                .refuse(proposal, "its terminal pane is closed");
        };
        if t.closed().is_some() {
            return self
                .convo(terminal)
                .session
                .refuse(proposal, "its session has ended; reconnect with r first");
        }
        let prompt = t.text_before_cursor();
        t.record_marker(command);
        t.type_text(command);
        t.type_text("\r");
        let capture = Capture::start(&prompt, command, Instant::now(), COMMAND_TIMEOUT);
        self.convo(terminal).capture = Some((proposal, capture));
        self.history(
            terminal,
            vec![self.decision_record(terminal, proposal, command, "approved")],
        );
        Vec::new()
    }

    /// Run an approved command holding vault placeholders on its own exec channel, after
    /// substituting the values for this host (or refusing, with the reason).
    fn copilot_exec(&mut self, terminal: PaneId, proposal: usize, command: &str) -> Vec<Do> {
        if self.pane_plan(terminal).is_none() {
            return self.convo(terminal).session.refuse(
                proposal,
                "vault values are only used on SSH hosts, over their own channel",
            );
        };
        // Where the placeholders stand needs no vault: refuse before asking to unlock it.
        let host = self.pane_host(terminal);
        if let Err(refusal) = crate::ai::placeholders::check_placement(command, &host) {
            self.history(
                terminal,
                vec![self.decision_record(terminal, proposal, command, "refused")],
            );
            return self
                .convo(terminal)
                .session
                .refuse(proposal, &refusal.to_string());
        }
        if !self.vault.is_unlocked() {
            self.convo(terminal).waiting = Some((
                Waiting::Vault,
                vec![Do::Exec {
                    proposal,
                    command: command.to_string(),
                }],
            ));
            self.ask_unlock_for_copilot();
            return Vec::new();
        }
        let groups = self
            .inventory
            .get(&host)
            .map(|h| h.groups.clone())
            .unwrap_or_default();
        // Substituting reads each value, which appends to the audit log: off the UI task.
        let job = DiskJob::Resolve {
            owner: self.vault.clone(),
            pane: terminal,
            proposal,
            command: command.to_string(),
            host: crate::ai::placeholders::HostRef { name: host, groups },
        };
        self.effects.push(Effect::Spawn(Box::new(Task::Disk(job))));
        Vec::new()
    }

    /// An approved command's vault values were substituted (or refused): it runs on its exec
    /// channel, or the model hears why not.
    pub(crate) fn copilot_resolved(
        &mut self,
        terminal: PaneId,
        proposal: usize,
        command: &str,
        resolution: Resolution,
    ) {
        // Stopped (or its pane closed) while the values were read: it does not run.
        let running = self
            .copilot
            .session(terminal)
            .and_then(|s| s.proposal(proposal))
            .is_some_and(|p| matches!(p.state, ProposalState::Running { .. }));
        if !running {
            return;
        }
        let (Some(connector), Some(plan)) = (self.connector.clone(), self.pane_plan(terminal))
        else {
            let todo = self.convo(terminal).session.refuse(
                proposal,
                "vault values are only used on SSH hosts, over their own channel",
            );
            return self.copilot_do(terminal, todo);
        };
        let todo = match resolution {
            Resolution::Approved(approved) => {
                // The marker shows the command as approved, placeholders and all.
                self.record_marker(terminal, command);
                self.history(
                    terminal,
                    vec![self.decision_record(terminal, proposal, command, "approved")],
                );
                self.convo(terminal).quiet.insert(proposal, approved.quiet);
                self.effects.push(Effect::Ai(Box::new(AiJob::Exec {
                    pane: terminal,
                    proposal,
                    connector,
                    plan,
                    command: approved.command,
                })));
                Vec::new()
            }
            Resolution::Refused(why) => {
                self.history(
                    terminal,
                    vec![self.decision_record(terminal, proposal, command, "refused")],
                );
                self.convo(terminal).session.refuse(proposal, &why)
            }
            Resolution::Locked(why) => self.convo(terminal).session.refuse(proposal, &why),
        };
        self.copilot_do(terminal, todo);
    }

    fn ask_unlock_for_copilot(&mut self) {
        self.open_unlock_for("vault for the copilot");
    }

    /// The vault was unlocked (or stayed locked): held-back copilot work goes on, or is
    /// dropped with the reason (nothing of it was sent).
    pub(crate) fn copilot_vault_answer(&mut self, unlocked: bool) {
        let waiting: Vec<(PaneId, Vec<Do>, Vec<Held>)> = self
            .copilot
            .convos
            .iter_mut()
            .filter_map(|(id, c)| {
                let todo = match c.waiting.take() {
                    Some((Waiting::Vault, todo)) => todo,
                    other => {
                        c.waiting = other;
                        Vec::new()
                    }
                };
                let held = std::mem::take(&mut c.held);
                (!todo.is_empty() || !held.is_empty()).then_some((*id, todo, held))
            })
            .collect();
        for (terminal, todo, held) in waiting {
            if unlocked {
                for h in held {
                    match h {
                        Held::Ask(q) => self.copilot_ask(terminal, &q),
                        Held::Output { proposal, text } => {
                            self.command_output(terminal, proposal, &text)
                        }
                        Held::ShowContext => self.copilot_show_context(terminal),
                    }
                }
                self.copilot_do(terminal, todo);
                continue;
            }
            // Refused first (what they ask for next is not done): the turn ends below.
            for d in &todo {
                if let Do::Exec { proposal, .. } = d {
                    let _ = self
                        .convo(terminal)
                        .session
                        .refuse(*proposal, "the vault is locked");
                }
            }
            let mid_turn =
                !todo.is_empty() || held.iter().any(|h| matches!(h, Held::Output { .. }));
            if mid_turn {
                self.convo(terminal).session.on_error(
                    "the vault stayed locked: the copilot needs it (for its API key, a vault \
                     value, or to mask vault values before anything is sent); nothing was sent",
                );
            }
            if held
                .iter()
                .any(|h| matches!(h, Held::Ask(_) | Held::ShowContext))
            {
                self.convo(terminal).session.note(
                    "not sent: the vault stayed locked, and lumen must mask its values before \
                     anything goes to the model; unlock it (prefix v) and ask again",
                );
            }
        }
    }

    /// A model event arrived.
    pub(crate) fn copilot_event(
        &mut self,
        terminal: PaneId,
        generation: u64,
        event: Result<ChatEvent, String>,
    ) {
        let Some(c) = self.copilot.convos.get_mut(&terminal) else {
            return;
        };
        if c.generation != generation {
            return;
        }
        self.dirty = true;
        match event {
            Ok(ChatEvent::Done { stop_reason }) => {
                c.cancel = None;
                let todo = c.session.on_event(ChatEvent::Done { stop_reason });
                let answer = c
                    .session
                    .items()
                    .iter()
                    .rev()
                    .take_while(|i| !matches!(i, Item::User(_)))
                    .find_map(|i| match i {
                        Item::Assistant(t) => Some(t.clone()),
                        _ => None,
                    });
                let unanswered = c.session.unanswered().map(str::to_string);
                if let Some(a) = answer {
                    let masked = prepare(&a, &self.secrets()).text;
                    self.history_text(terminal, "answer", masked);
                }
                if let Some(why) = unanswered {
                    self.history_text(terminal, "error", why);
                }
                self.copilot_do(terminal, todo);
            }
            Ok(ev) => {
                let todo = c.session.on_event(ev);
                self.copilot_do(terminal, todo);
            }
            Err(why) => {
                c.cancel = None;
                c.session.on_error(&why);
            }
        }
    }

    /// The host's facts arrived (or failed: the copilot goes on without them).
    pub(crate) fn copilot_facts(&mut self, terminal: PaneId, result: Result<String, String>) {
        let c = self.convo(terminal);
        c.gathering = false;
        match &result {
            Ok(_) => c.session.note("host facts gathered"),
            Err(why) => c
                .session
                .note(format!("no host facts ({why}); asking without them")),
        }
        c.facts = Some(result.map(|out| parse_facts(&out)));
        if let Some((Waiting::Facts, todo)) = c.waiting.take() {
            self.copilot_do(terminal, todo);
        }
    }

    /// Whether `terminal`'s host's last scan must be read for the next request (or Ctrl-o's
    /// view of it); the read is started unless it is under way. scans.sqlite may be busy (a
    /// scan saving), so it is read off the UI task and the request goes on when it is back.
    fn read_last_scan(&mut self, terminal: PaneId) -> bool {
        let Some(setup) = self.scans.clone() else {
            return false;
        };
        if self.convo(terminal).scan_read {
            return false;
        }
        if !std::mem::replace(&mut self.convo(terminal).scan_reading, true) {
            let host = self.pane_host(terminal);
            self.effects
                .push(Effect::Spawn(Box::new(Task::Disk(DiskJob::ScanSummary {
                    setup,
                    pane: terminal,
                    host,
                }))));
        }
        true
    }

    /// The host's last scan was read for `terminal`'s next request: the request (or Ctrl-o's
    /// view) goes on.
    pub(crate) fn copilot_scan_summary(&mut self, terminal: PaneId, summary: Option<String>) {
        let Some(c) = self.copilot.convos.get_mut(&terminal) else {
            return;
        };
        c.scan = summary;
        c.scan_read = true;
        c.scan_reading = false;
        let show = std::mem::take(&mut c.show_after_scan);
        match c.waiting.take() {
            Some((Waiting::Scan, todo)) => self.copilot_do(terminal, todo),
            other => c.waiting = other,
        }
        if show {
            self.copilot_show_context(terminal);
        }
    }

    /// An exec'd command finished: its output (redacted) goes to the pane, and to the model
    /// only when the command is of a shape known not to print the vault values it got (no
    /// redaction can recognise every transformation of a value).
    pub(crate) fn copilot_exec_done(
        &mut self,
        terminal: PaneId,
        proposal: usize,
        output: Result<String, String>,
    ) {
        let text = match output {
            Ok(t) => t,
            Err(e) => format!("[lumen could not run it: {e}]"),
        };
        let quiet = self
            .copilot
            .convos
            .get_mut(&terminal)
            .and_then(|c| c.quiet.remove(&proposal))
            .unwrap_or(false);
        if quiet {
            self.command_output(terminal, proposal, &text);
            return;
        }
        let shown = prepare(&text, &self.secrets()).text;
        let command = self
            .copilot
            .session(terminal)
            .and_then(|s| s.proposal(proposal))
            .map(|p| p.command.clone())
            .unwrap_or_default();
        self.history_text(
            terminal,
            "output",
            format!("$ {command}\n{}", crate::ai::copilot::OUTPUT_WITHHELD),
        );
        let todo = self
            .convo(terminal)
            .session
            .command_withheld(proposal, shown);
        self.copilot_do(terminal, todo);
    }

    /// Ctrl-r: the operator sends the newest withheld output to the model, redacted again.
    fn copilot_release(&mut self, terminal: PaneId) {
        self.dirty = true;
        if self.copilot.setup.is_none() || self.copilot.unavailable.is_some() {
            return;
        }
        let secrets = self.secrets();
        let released = self
            .convo(terminal)
            .session
            .release(|t| prepare(t, &secrets).text);
        match released {
            Ok((todo, sent)) => {
                self.history_text(terminal, "output", sent);
                self.copilot_do(terminal, vec![todo]);
            }
            Err(e) => self.convo(terminal).session.note(e.to_string()),
        }
    }

    /// What an approved command printed: redacted, kept in the history, given to the model.
    fn command_output(&mut self, terminal: PaneId, proposal: usize, output: &str) {
        if !self.can_mask_vault() {
            self.convo(terminal).held.push(Held::Output {
                proposal,
                text: output.to_string(),
            });
            self.ask_unlock_for_copilot();
            return;
        }
        let redacted = prepare(output, &self.secrets()).text;
        self.history_text(terminal, "output", redacted.clone());
        let todo = self
            .convo(terminal)
            .session
            .command_finished(proposal, redacted);
        self.copilot_do(terminal, todo);
    }

    /// Watch typed commands: when the prompt is back (or time is up), hand the output over.
    /// A capture is looked at when its next check is due (the quiet time after the last change
    /// it saw, or its deadline), not on every turn of a flood.
    pub(crate) fn poll_captures(&mut self, now: Instant) {
        let watched: Vec<PaneId> = self
            .copilot
            .convos
            .iter()
            .filter(|(_, c)| {
                c.capture
                    .as_ref()
                    .is_some_and(|(_, cap)| cap.next_check(now) <= now)
            })
            .map(|(id, _)| *id)
            .collect();
        for terminal in watched {
            let (lines, cursor) = match self.panes.get(&terminal).and_then(|s| s.pane.as_terminal())
            {
                Some(t) => (t.last_lines(400), t.cursor_line()),
                None => (Vec::new(), String::new()),
            };
            let Some(c) = self.copilot.convos.get_mut(&terminal) else {
                continue;
            };
            let Some((proposal, capture)) = c.capture.as_mut() else {
                continue;
            };
            let proposal = *proposal;
            let output = match capture.poll(&lines, &cursor, now) {
                CaptureState::Running => continue,
                CaptureState::Finished(out) => {
                    c.session.release_auto_run();
                    out
                }
                CaptureState::TimedOut(out) => {
                    // What still runs (top, a pager) would read the next command typed.
                    c.session.hold_auto_run();
                    format!(
                        "{out}\n[still running after {} s; this is the output so far]",
                        COMMAND_TIMEOUT.as_secs()
                    )
                }
            };
            c.capture = None;
            self.command_output(terminal, proposal, &output);
        }
    }

    /// A key for the approval card (the top layer).
    pub(crate) fn approval_key(&mut self, key: &KeyEvent) {
        let Some(card) = self.layers.approval().cloned() else {
            return;
        };
        let terminal = card.pane;
        let Some(proposal) = self
            .copilot
            .session(terminal)
            .and_then(|s| s.proposal(card.proposal))
            .cloned()
        else {
            self.layers.remove_approval();
            return;
        };
        if proposal.state != ProposalState::Pending {
            self.layers.remove_approval();
            return;
        }
        let outcome = match self.layers.approval_mut() {
            Some(a) => a.handle_key(key, &proposal),
            None => return,
        };
        let host = self.pane_host(terminal);
        match outcome {
            ApprovalOutcome::Stay => {
                let area = crate::app::ui::card_area(self, terminal);
                if let Some(a) = self.layers.approval_mut() {
                    a.clamp_scroll(area, &self.theme, &proposal, &host);
                }
            }
            ApprovalOutcome::Run { confirmation } => {
                let approved = self
                    .convo(terminal)
                    .session
                    .approve(card.proposal, confirmation.as_deref());
                match approved {
                    Ok(todo) => {
                        self.layers.remove_approval();
                        self.copilot_do(terminal, vec![todo]);
                    }
                    Err(e) => {
                        if let Some(a) = self.layers.approval_mut() {
                            match e {
                                SessionError::ConfirmationNeeded { host } => {
                                    a.wrong_host(confirmation.as_deref().unwrap_or(""), &host)
                                }
                                other => a.confirmation_failed(other.to_string()),
                            }
                        }
                    }
                }
            }
            ApprovalOutcome::Edited(text) => {
                if let Err(e) = self.convo(terminal).session.edit(card.proposal, &text) {
                    self.error(e.to_string());
                }
            }
            ApprovalOutcome::Reject => {
                self.layers.remove_approval();
                self.history(
                    terminal,
                    vec![decision_record(&host, &proposal, "rejected")],
                );
                match self.convo(terminal).session.reject(card.proposal) {
                    Ok(todo) => self.copilot_do(terminal, todo),
                    Err(e) => self.error(e.to_string()),
                }
            }
            ApprovalOutcome::Copy => {
                self.copy(proposal.command.clone());
            }
            ApprovalOutcome::Stop => {
                self.history(terminal, vec![decision_record(&host, &proposal, "stopped")]);
                self.copilot_stop(terminal);
            }
        }
        self.dirty = true;
    }

    /// The history line for `decision` on proposal `n`, whose command is `command` now.
    fn decision_record(
        &self,
        terminal: PaneId,
        n: usize,
        command: &str,
        decision: &str,
    ) -> HistoryRecord {
        let host = self.pane_host(terminal);
        let mut proposal = self
            .copilot
            .session(terminal)
            .and_then(|s| s.proposal(n))
            .cloned();
        match &mut proposal {
            Some(p) => {
                p.command = command.to_string();
                decision_record(&host, p, decision)
            }
            None => {
                let mut r = HistoryRecord::new(&host, "proposal", command);
                r.decision = Some(decision.to_string());
                r
            }
        }
    }

    /// Append one text of `kind` ("question", "answer", "output"), already redacted, to the
    /// host's history.
    fn history_text(&mut self, terminal: PaneId, kind: &str, redacted: String) {
        let host = self.pane_host(terminal);
        self.history(terminal, vec![HistoryRecord::new(&host, kind, redacted)]);
    }

    /// Append to the host's redacted history, off the UI task and in order (errors only go
    /// to the log: the conversation goes on).
    fn history(&mut self, terminal: PaneId, records: Vec<HistoryRecord>) {
        let Some(dir) = self
            .copilot
            .setup
            .as_ref()
            .and_then(|s| s.workspace_dir.clone())
        else {
            return;
        };
        let host = self.pane_host(terminal);
        let path = crate::ai::copilot::history_path(&dir, &host);
        if self.copilot.history.push(path, records) {
            let queue = self.copilot.history.clone();
            self.effects
                .push(Effect::Spawn(Box::new(Task::Disk(DiskJob::History(queue)))));
        }
    }

    /// A terminal pane went away: its conversation stops (its history stays on disk).
    pub(crate) fn forget_copilot(&mut self, id: PaneId) {
        self.copilot.convos.remove(&id);
        self.copilot.bindings.remove(&id);
        self.copilot.bindings.retain(|_, t| *t != id);
        if self.layers.approval().is_some_and(|a| a.pane == id) {
            self.layers.remove_approval();
        }
    }
}

/// The history line for the operator's `decision` on `proposal`: an edited command is
/// recorded as the operator's, beside the model's own.
fn decision_record(host: &str, proposal: &Proposal, decision: &str) -> HistoryRecord {
    let mut r = HistoryRecord::new(host, "proposal", &proposal.command);
    r.risk = Some(
        crate::ai::risk::assess(&proposal.command)
            .risk
            .as_str()
            .to_string(),
    );
    r.decision = Some(decision.to_string());
    if let Some(model) = &proposal.original {
        r.edited_from = Some(model.clone());
        r.author = Some("operator".into());
    }
    r
}
