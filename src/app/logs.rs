//! The log browser in the app (prefix O): opening it as a tab (or going to the open one),
//! its list and searches read off the UI task,
//! replaying a recording in a tab of its own, and waking replays at their next event.

use crate::app::layout::PaneId;
use crate::app::msg::{Effect, Task};
use crate::app::state::{App, PaneSlot, PaneSpec};
use crate::panes::logs::replay::{Recording, ReplayPane};
use crate::panes::logs::{LogBrowser, LogsOutcome, Row, SearchJob};
use crate::panes::{Pane, PaneView};
use std::path::{Path, PathBuf};
use std::time::Instant;

impl App {
    /// Prefix O: the recordings, newest first.
    pub fn open_logs(&mut self) {
        let Some(root) = self.recordings.as_ref().map(|r| r.settings().root.clone()) else {
            self.error("no recordings here: this lumen keeps no session logs");
            return;
        };
        let open = self
            .panes
            .iter()
            .find_map(|(id, s)| matches!(s.pane, Pane::Logs(_)).then_some(*id));
        let id = match open {
            Some(id) => {
                // Listed again: recordings may have ended since.
                if let Some(slot) = self.panes.get_mut(&id) {
                    slot.pane = Pane::Logs(Box::new(LogBrowser::new(root.clone())));
                }
                self.go_to_pane(id);
                id
            }
            None => self.push_app_tab(
                Pane::Logs(Box::new(LogBrowser::new(root.clone()))),
                PaneSpec::Logs,
                "logs",
            ),
        };
        self.effects
            .push(Effect::Spawn(Box::new(Task::ListLogs { pane: id, root })));
    }

    fn browser_mut(&mut self, id: PaneId) -> Option<&mut LogBrowser> {
        match self.panes.get_mut(&id).map(|s| &mut s.pane) {
            Some(Pane::Logs(b)) => Some(b.as_mut()),
            _ => None,
        }
    }

    pub(crate) fn logs_listed(&mut self, pane: PaneId, rows: Vec<Row>) {
        if let Some(b) = self.browser_mut(pane) {
            b.loaded(rows);
            self.dirty = true;
        }
    }

    pub(crate) fn logs_searched(&mut self, pane: PaneId, job: SearchJob, hits: Vec<PathBuf>) {
        if let Some(b) = self.browser_mut(pane) {
            b.searched(job, hits);
            self.dirty = true;
        }
    }

    fn go_to_pane(&mut self, id: PaneId) {
        if let Some(ti) = self.tabs.iter().position(|t| t.layout.contains(id)) {
            self.tabs[ti].focused = id;
            self.switch_to(ti);
        }
    }

    fn push_app_tab(&mut self, pane: Pane, spec: PaneSpec, title: &str) -> PaneId {
        let id = self.alloc_pane();
        let body = self.body();
        self.push_tab(
            id,
            PaneSlot {
                pane,
                spec,
                default_title: title.into(),
                rect: body,
                inner: body,
                connected: false,
            },
        );
        id
    }

    /// What the log browser asked for after a key.
    pub(crate) fn logs_outcome(&mut self, browser: PaneId, outcome: LogsOutcome) {
        self.dirty = true;
        match outcome {
            LogsOutcome::None => {}
            LogsOutcome::Close => self.close_pane(browser),
            LogsOutcome::Replay(path) => {
                self.effects
                    .push(Effect::Spawn(Box::new(Task::LoadReplay(path))));
            }
            LogsOutcome::Search(job) => {
                if let Some(root) = self.browser_mut(browser).map(|b| b.root().to_path_buf()) {
                    self.effects.push(Effect::Spawn(Box::new(Task::SearchLogs {
                        pane: browser,
                        root,
                        job,
                    })));
                }
            }
        }
    }

    /// A recording to replay was read: its replay opens in a tab of its own.
    pub(crate) fn replay_loaded(&mut self, path: &Path, result: Result<Box<Recording>, String>) {
        let recording = match result {
            Ok(r) => *r,
            Err(e) => return self.error(e),
        };
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let host = path
            .parent()
            .and_then(Path::parent)
            .and_then(Path::file_name)
            .map(|h| h.to_string_lossy().into_owned())
            .unwrap_or_default();
        let title = format!("replay {host} {}", name.trim_end_matches(".gz"));
        let replay = ReplayPane::new(recording, title.clone(), Instant::now());
        self.push_app_tab(Pane::Replay(Box::new(replay)), PaneSpec::Replay, &title);
    }

    /// Replays whose next event is due: moved on to `now`.
    pub(crate) fn wake_panes(&mut self, now: Instant) {
        let due: Vec<PaneId> = self
            .panes
            .iter()
            .filter(|(_, s)| s.pane.wake_at().is_some_and(|t| t <= now))
            .map(|(id, _)| *id)
            .collect();
        for id in due {
            if let Some(slot) = self.panes.get_mut(&id) {
                let outcome = slot.pane.tick(now);
                self.dirty = true;
                self.pane_outcome(id, outcome);
            }
        }
    }
}
