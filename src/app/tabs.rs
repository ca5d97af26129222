//! Tabs and panes: making panes through the spawner, opening tabs, splitting, closing,
//! switching, and layout (computed here, in update, never while drawing).

use crate::app::layout::{Layout, PaneId, Split};
use crate::app::state::{App, PaneSlot, PaneSpec, Tab};
use crate::panes::terminal::{TerminalConfig, TerminalPane};
use crate::panes::{Pane, PaneView};
use ratatui::layout::Rect;

impl App {
    pub(crate) fn alloc_pane(&mut self) -> PaneId {
        let id = PaneId(self.next_pane);
        self.next_pane += 1;
        id
    }

    /// Make a pane for `spec`, at the size it will probably get (relayout fixes it).
    pub(crate) fn make_pane(&mut self, spec: &PaneSpec, rect: Rect) -> (PaneId, PaneSlot) {
        let id = self.alloc_pane();
        let cols = rect.width.max(2);
        let rows = rect.height.max(2);
        let cfg = TerminalConfig {
            cols,
            rows,
            scrollback: self.config.scrollback,
        };
        let (pane, default_title) = match self.spawner.spawn(spec, cols, rows, &self.waker) {
            Ok((stream, title)) => {
                let mut pane = TerminalPane::new(stream, cfg);
                pane.set_recorder(self.recorder_for(id, spec, cols, rows));
                (pane, title)
            }
            Err(why) => {
                self.error(why.clone());
                (TerminalPane::failed(&why, cfg), "failed".to_string())
            }
        };
        let slot = PaneSlot {
            pane: Pane::Terminal(Box::new(pane)),
            spec: spec.clone(),
            default_title,
            rect,
            inner: rect,
            connected: false,
        };
        (id, slot)
    }

    /// Open a new tab running `spec` and focus it.
    pub fn new_tab(&mut self, spec: PaneSpec) {
        let body = self.body();
        let (id, slot) = self.make_pane(&spec, body);
        self.push_tab(id, slot);
    }

    /// Add a tab holding one pane, and focus it.
    pub(crate) fn push_tab(&mut self, id: PaneId, slot: PaneSlot) {
        self.panes.insert(id, slot);
        self.tabs.push(Tab {
            name: None,
            layout: Layout::new(id),
            focused: id,
            activity: false,
            bell: false,
            broadcast: Default::default(),
        });
        self.switch_to(self.tabs.len() - 1);
        self.relayout();
    }

    /// Split the focused pane; the new one runs what the focused one runs (a host opens
    /// another login shell on it, not the remote command the pane was opened with; the vault
    /// or the host list opens a local shell).
    pub(crate) fn split(&mut self, split: Split) {
        let Some(tab) = self.tabs.get(self.active) else {
            return;
        };
        let spec = match self.panes.get(&tab.focused).map(|s| &s.spec) {
            Some(PaneSpec::Ssh { name, target, plan }) => PaneSpec::Ssh {
                name: name.clone(),
                target: target.clone(),
                plan: plan.as_ref().map(|p| {
                    std::sync::Arc::new(crate::ssh::Plan {
                        command: None,
                        ..p.as_ref().clone()
                    })
                }),
            },
            Some(spec @ PaneSpec::LocalShell) => spec.clone(),
            _ => PaneSpec::LocalShell,
        };
        self.split_with(spec, split);
    }

    /// Split the focused pane with a new pane running `spec`, and focus it.
    pub(crate) fn split_with(&mut self, spec: PaneSpec, split: Split) {
        let Some(tab) = self.tabs.get(self.active) else {
            return;
        };
        let target = tab.focused;
        let half = self.panes.get(&target).map(|s| s.rect).unwrap_or_default();
        let (id, slot) = self.make_pane(&spec, half);
        self.panes.insert(id, slot);
        if let Some(tab) = self.tabs.get_mut(self.active) {
            tab.layout.split(target, id, split);
            tab.focused = id;
        }
        self.relayout();
    }

    pub(crate) fn switch_to(&mut self, index: usize) {
        if index < self.tabs.len() && index != self.active {
            self.last_active = self.active;
            self.active = index;
        }
        if let Some(tab) = self.tabs.get_mut(self.active) {
            tab.activity = false;
            tab.bell = false;
        }
        self.relayout();
    }

    /// Close a pane; the tab closes with its last pane, and lumen quits with its last tab.
    pub fn close_pane(&mut self, id: PaneId) {
        // Dropping the pane drops its stream handle, which ends the backend (PTY hang-up).
        self.panes.remove(&id);
        self.forget_copilot(id);
        let Some(ti) = self.tabs.iter().position(|t| t.layout.contains(id)) else {
            return;
        };
        let tab = &mut self.tabs[ti];
        tab.broadcast.remove(&id);
        if tab.broadcast.len() == 1 {
            tab.broadcast.clear();
        }
        if tab.layout.len() > 1 {
            tab.layout.remove(id);
            if tab.focused == id {
                tab.focused = tab.layout.panes()[0];
            }
        } else {
            self.tabs.remove(ti);
            if self.tabs.is_empty() {
                self.quit = true;
                return;
            }
            if self.last_active >= self.tabs.len() || self.last_active == ti {
                self.last_active = 0;
            } else if self.last_active > ti {
                self.last_active -= 1;
            }
            if self.active >= self.tabs.len() || self.active > ti {
                self.active = self.active.saturating_sub(1);
            }
            self.active = self.active.min(self.tabs.len() - 1);
        }
        self.relayout();
    }

    pub(crate) fn close_tab(&mut self, index: usize) {
        let Some(tab) = self.tabs.get(index) else {
            return;
        };
        for id in tab.layout.panes() {
            self.close_pane(id);
        }
    }

    /// Compute every visible pane's rectangle and resize panes whose inside changed.
    /// Layout is done here, never while drawing.
    pub fn relayout(&mut self) {
        self.dirty = true;
        let body = self.body();
        let Some(tab) = self.tabs.get(self.active) else {
            return;
        };
        let rects = tab.layout.rects(body);
        let bordered = rects.len() > 1;
        for (id, rect) in rects {
            let Some(slot) = self.panes.get_mut(&id) else {
                continue;
            };
            let inner = if bordered {
                crate::app::layout::framed_inner(rect, body)
            } else {
                rect
            };
            slot.rect = rect;
            if inner != slot.inner {
                slot.inner = inner;
                if inner.width > 0 && inner.height > 0 {
                    slot.pane.resize(inner.width, inner.height);
                }
            }
        }
    }

    pub fn resize(&mut self, w: u16, h: u16) {
        self.size = (w, h);
        self.relayout();
    }
}
