//! Which panes are recorded, and the markers written into their recordings (approved copilot
//! commands; runbook steps through [`App::record_marker_for_host`]).

use crate::app::layout::PaneId;
use crate::app::state::{App, PaneSpec};
use crate::record::{Recorder, Session};

impl App {
    /// A recorder for a new session of `spec` in pane `id`, when it is to be recorded: the
    /// host's `record` in hosts.toml (or its groups'), else `[logs] record`.
    pub(crate) fn recorder_for(
        &mut self,
        id: PaneId,
        spec: &PaneSpec,
        cols: u16,
        rows: u16,
    ) -> Option<Recorder> {
        let (host, title, ssh, setting) = match spec {
            PaneSpec::Ssh { name, target, .. } => {
                let known = self.inventory.get(name).is_some();
                let dest = format!("{}@{}:{}", target.user, target.host, target.port);
                let host = if known {
                    name.clone()
                } else {
                    format!("{}@{}_{}", target.user, target.host, target.port)
                };
                let title = if known || *name != target.host {
                    format!("{name} ({dest})")
                } else {
                    dest
                };
                (host, title, true, self.inventory.record(name))
            }
            PaneSpec::LocalShell => ("local".to_string(), "local shell".to_string(), false, None),
            _ => return None,
        };
        if !self.config.logs.records(ssh, setting) {
            return None;
        }
        let waker = self.waker.clone();
        self.recordings.as_mut()?.start(
            Session {
                host,
                pane: id.0,
                title,
                cols,
                rows,
            },
            waker,
        )
    }

    /// Write a marker (`text`, placeholders as `{{vault:NAME}}`) into pane `pane`'s
    /// recording, if it is recorded. Returns whether it was.
    pub fn record_marker(&mut self, pane: PaneId, text: &str) -> bool {
        self.panes
            .get(&pane)
            .and_then(|s| s.pane.as_terminal())
            .is_some_and(|t| t.record_marker(text))
    }

    /// Write a marker into the recording of every open pane on `host` (for runbook steps
    /// that run on a host rather than in one pane). Returns how many recordings got it.
    pub fn record_marker_for_host(&mut self, host: &str, text: &str) -> usize {
        let ids: Vec<PaneId> = self
            .panes
            .iter()
            .filter(|(_, s)| matches!(&s.spec, PaneSpec::Ssh { name, .. } if name == host))
            .map(|(id, _)| *id)
            .collect();
        ids.into_iter()
            .filter(|id| self.record_marker(*id, text))
            .count()
    }

    /// End every recording and wait until each is written and compressed (lumen is ending).
    pub fn finish_recordings(&mut self) {
        for slot in self.panes.values_mut() {
            if let Some(t) = slot.pane.as_terminal_mut() {
                t.set_recorder(None);
            }
        }
        if let Some(r) = &mut self.recordings {
            r.finish();
        }
    }
}
