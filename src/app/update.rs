//! `App::update`: the one place a message changes the app. It returns the effects the event
//! loop carries out (clipboard, background tasks).

use crate::app::msg::{Effect, Msg};
use crate::app::state::App;

impl App {
    /// Apply one message; return what the event loop must do.
    pub fn update(&mut self, msg: Msg) -> Vec<Effect> {
        match msg {
            Msg::Input(ev) => self.handle_event(ev),
            Msg::Prompt(req) => self.ask(req),
            Msg::UnlockForLogin(reply) => self.unlock_for_login(reply),
            Msg::VaultUnlocked(result) => self.vault_unlocked(result),
            Msg::HostSaved { name, result } => self.host_saved(name, result),
            Msg::ConnectedRecorded { host, result } => self.connected_recorded(&host, result),
            Msg::Ai {
                pane,
                generation,
                event,
            } => self.copilot_event(pane, generation, event),
            Msg::AiFacts { pane, facts } => self.copilot_facts(pane, facts),
            Msg::AiExec {
                pane,
                proposal,
                output,
            } => self.copilot_exec_done(pane, proposal, output),
            Msg::ScansLoaded { host, result } => self.scans_loaded(host, result),
            Msg::LogsListed(pane, rows) => self.logs_listed(pane, rows),
            Msg::ReplayLoaded(path, result) => self.replay_loaded(&path, result),
            Msg::LogsSearched { pane, job, hits } => self.logs_searched(pane, job, hits),
            Msg::CredentialTested {
                pane,
                name,
                results,
            } => self.credential_tested(pane, &name, results),
            Msg::ScanProgress { host, step } => self.scan_progress(&host, step),
            Msg::ScanFinished { host, result } => self.scan_finished(host, result),
            Msg::Disk(done) => self.disk_done(done),
            Msg::RunbooksLoaded {
                purpose,
                hint,
                result,
            } => self.runbooks_loaded(purpose, hint, result),
            Msg::RunbookEvent { run, event } => self.runbook_event(run, event),
            Msg::RunbookConfirm { run, step, reply } => self.runbook_confirm(run, step, reply),
            Msg::RunbookFailed { run, why } => self.runbook_failed(run, why),
            Msg::RunbookSaved(result) => self.runbook_saved(result),
            Msg::RunbookDone {
                run,
                report,
                history_error,
            } => self.runbook_done(run, *report, history_error),
        }
        self.take_effects()
    }
}
