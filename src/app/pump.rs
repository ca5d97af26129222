//! Reading the panes' byte streams: parse what each backend sent within a byte budget per pane
//! per turn, and act on what the output asked for (activity, bell, clipboard, a session's end).

use crate::app::layout::PaneId;
use crate::app::state::{App, ECHO_TURN_BUDGET, PANE_BYTE_BUDGET, TURN_BYTE_BUDGET};
use crate::panes::hosts::HostState;

/// The least a pane parses in a turn, even when the turn's budget is spent.
const MIN_PANE_BUDGET: usize = 4 * 1024;

impl App {
    /// The order panes are pumped in this turn: the focused pane (the one the user types in)
    /// first, then the others starting one further each turn, so a turn's budget never
    /// favours the same flooding pane.
    fn pump_order(&mut self) -> Vec<PaneId> {
        let mut ids: Vec<PaneId> = self.panes.keys().copied().collect();
        ids.sort();
        if !ids.is_empty() {
            let start = self.pump_rotation % ids.len();
            ids.rotate_left(start);
        }
        self.pump_rotation = self.pump_rotation.wrapping_add(1);
        if let Some(f) = self.focused()
            && let Some(i) = ids.iter().position(|id| *id == f)
        {
            let f = ids.remove(i);
            ids.insert(0, f);
        }
        ids
    }

    /// Whether the last pump parsed a keystroke's echo: the loop then draws without waiting
    /// for the frame slot. Reading it clears it.
    pub fn take_echo_frame(&mut self) -> bool {
        std::mem::take(&mut self.echo_frame)
    }

    /// Parse what the backends sent, within a byte budget per pane and one for the whole
    /// turn, so a turn stays short however many panes flood. Returns true when some pane
    /// still has data queued (the loop then runs again without waiting).
    pub fn pump(&mut self) -> bool {
        let mut more = false;
        let mut left = TURN_BYTE_BUDGET;
        let visible: Vec<PaneId> = self
            .tabs
            .get(self.active)
            .map(|t| {
                t.layout
                    .rects(self.body())
                    .into_iter()
                    .map(|(p, _)| p)
                    .collect()
            })
            .unwrap_or_default();
        let mut closed = Vec::new();
        let mut copied = Vec::new();
        let mut first_output = Vec::new();
        let mut notices = Vec::new();
        let focused = self.focused();
        for id in &self.pump_order() {
            let Some(slot) = self.panes.get_mut(id) else {
                continue;
            };
            let Some(t) = slot.pane.as_terminal_mut() else {
                continue;
            };
            let was_closed = t.closed().is_some();
            // Every pane gets a little each turn (its end is noticed, its echo shows), the
            // first ones up to their full budget.
            let budget = PANE_BYTE_BUDGET.min(left).max(MIN_PANE_BUDGET);
            let p = t.pump(budget);
            left = left.saturating_sub(p.bytes);
            if self.awaiting_echo && p.bytes > 0 && Some(*id) == focused {
                // The keystroke's echo is in: the rest of the turn stays short and the frame
                // showing it is drawn right away (once per keystroke, so a flood in the
                // focused pane still draws at the frame rate).
                self.awaiting_echo = false;
                self.echo_frame = true;
                left = left.min(ECHO_TURN_BUDGET);
            }
            more |= p.more;
            let activity = t.take_activity();
            let bell = t.take_bell();
            if let Some(text) = t.take_clipboard() {
                copied.push((slot.spec.clone(), text));
            }
            notices.extend(t.take_notices());
            if !was_closed && let Some(reason) = t.closed() {
                self.ssh_failed |=
                    slot.spec.is_ssh() && matches!(reason, crate::stream::CloseReason::Failed(_));
                closed.push((*id, reason.to_string(), slot.spec.clone(), slot.connected));
            }
            if activity && !slot.connected {
                slot.connected = true;
                // A connection that failed prints why and ends in the same turn: that output
                // is lumen's, not the host's.
                first_output.push((slot.spec.clone(), t.closed().is_none()));
            }
            if activity && visible.contains(id) {
                self.dirty = true;
            }
            if activity || bell {
                for (ti, tab) in self.tabs.iter_mut().enumerate() {
                    if tab.layout.contains(*id) && ti != self.active {
                        tab.activity |= activity;
                        tab.bell |= bell;
                        self.dirty = true;
                    }
                }
            }
        }
        for text in notices {
            self.say(text);
        }
        for (spec, text) in copied {
            self.program_copy(&spec, text);
        }
        for (spec, live) in first_output {
            self.ssh_connected |= live && spec.is_ssh();
            self.note_state(&spec, HostState::Connected);
            if live {
                self.record_connected(&spec);
            }
        }
        for (id, reason, spec, connected) in closed {
            tracing::info!("pane {} ended: {reason}", id.0);
            let state = if connected {
                HostState::Ended(reason.clone())
            } else {
                HostState::Failed(reason.clone())
            };
            self.note_state(&spec, state);
            if spec.keeps_pane_on_close() {
                // An SSH pane stays with its scrollback and the reason; r reconnects.
                self.dirty = true;
            } else {
                // A local shell's pane closes when the shell exits, as in tmux.
                self.close_pane(id);
            }
        }
        more
    }
}
