//! Input routing: keys and pastes go to the top layer of the dialog stack if there is one,
//! else to the prefix, then the focused pane (or every broadcasting one). A mouse event never
//! passes a dialog.

use crate::app::frontend::{ClientEffect, ClipboardRequest};
use crate::app::layers::Layer;
use crate::app::layout::PaneId;
use crate::app::msg::{Effect, Task};
use crate::app::popup::{Confirm, Popup, PopupOutcome};
use crate::app::prompt::PromptDialog;
use crate::app::state::{App, PaneSpec};
use crate::panes::{Outcome, Pane, PaneView};
use crossterm::event::{Event, KeyEvent, KeyEventKind, MouseButton, MouseEvent, MouseEventKind};
use std::time::Instant;

impl App {
    /// Apply one input event.
    pub fn handle_event(&mut self, ev: Event) {
        if matches!(ev, Event::Key(_) | Event::Paste(_)) {
            self.last_input = Instant::now();
        }
        match ev {
            Event::Key(key) if key.kind != KeyEventKind::Release => self.handle_key(&key),
            Event::Key(_) => {}
            Event::Paste(text) => self.paste(&text),
            Event::Resize(w, h) => self.resize(w, h),
            Event::Mouse(m) => self.handle_mouse(&m),
            Event::FocusGained | Event::FocusLost => {}
        }
    }

    pub(crate) fn paste(&mut self, text: &str) {
        self.dirty = true;
        if let Some(top) = self.layers.top_mut() {
            match top {
                Layer::Prompt(d) => d.paste(text),
                Layer::Unlock(u) => u.dialog.handle_paste(text),
                Layer::Popup(p) => p.paste(text),
                Layer::Approval(a) => a.paste(text),
                Layer::Runbook(d) => d.paste(text),
            }
            return;
        }
        let targets = self.input_targets();
        if targets.len() > 1
            && let Some(warning) = crate::app::broadcast::paste_warning(text, targets.len())
        {
            self.open_popup(Popup::ConfirmPaste {
                warning,
                text: text.to_string(),
            });
            return;
        }
        self.paste_into(&targets, text);
    }

    fn paste_into(&mut self, targets: &[PaneId], text: &str) {
        for id in targets {
            if let Some(slot) = self.panes.get_mut(id) {
                slot.pane.paste(text);
            }
        }
    }

    /// The panes that typed input goes to: the focused one, or every broadcasting pane of the
    /// tab when the focused one broadcasts (unless it is in copy mode).
    pub fn input_targets(&self) -> Vec<PaneId> {
        let Some(tab) = self.tabs.get(self.active) else {
            return Vec::new();
        };
        let focused = tab.focused;
        let copying = self
            .panes
            .get(&focused)
            .and_then(|s| s.pane.as_terminal())
            .is_some_and(|t| t.in_copy_mode());
        if tab.broadcast.contains(&focused) && !copying {
            tab.broadcast.iter().copied().collect()
        } else {
            vec![focused]
        }
    }

    /// Queue a question from an SSH session; it shows above everything until answered.
    pub fn ask(&mut self, req: crate::ssh::PromptRequest) {
        if let Some(d) = PromptDialog::new(req) {
            self.layers.push(Layer::Prompt(d));
        }
        self.dirty = true;
    }

    /// A prefix action while a card may wait: zoom, focus and tabs work under it, but a dialog
    /// it would open would hide below the card, so it is not opened and the status says why.
    fn run_action_under_card(&mut self, action: crate::app::keymap::Action) {
        let card = matches!(self.layers.top(), Some(Layer::Approval(_)));
        let before = self.layers.len();
        self.run_action(action);
        if card
            && self.layers.len() > before
            && matches!(self.layers.top(), Some(Layer::Approval(_)))
            && self.layers.remove_newest_popup().is_some()
        {
            self.say(
                "a proposed command waits on its card: answer it first (x rejects, Esc stops \
                 the task)",
            );
        }
    }

    /// Show a dialog above the panes (and below any question).
    pub(crate) fn open_popup(&mut self, popup: Popup) {
        self.layers.push(Layer::Popup(popup));
        self.dirty = true;
    }

    pub fn handle_key(&mut self, key: &KeyEvent) {
        self.dirty = true;
        match self.layers.top_mut() {
            Some(Layer::Prompt(d)) => {
                if d.handle_key(key) {
                    self.layers.pop();
                }
                return;
            }
            Some(Layer::Unlock(_)) => {
                self.unlock_key(key);
                return;
            }
            // The prefix passes the card (zoom, focus, help…); nothing there answers it.
            Some(Layer::Approval(_))
                if !self.prefix_pending && !self.config.keymap.is_prefix(key) =>
            {
                self.approval_key(key);
                return;
            }
            Some(Layer::Approval(_)) => {}
            Some(Layer::Runbook(_)) => {
                self.runbook_key(key);
                return;
            }
            Some(Layer::Popup(popup)) => {
                let outcome = popup.handle_key(key);
                if outcome != PopupOutcome::Stay {
                    self.layers.pop();
                }
                self.popup_outcome(outcome);
                return;
            }
            None => {}
        }
        // The prefix and the key after it.
        if self.prefix_pending {
            self.prefix_pending = false;
            match self.config.keymap.action(key) {
                Some(a) => self.run_action_under_card(a),
                None if key.code == crossterm::event::KeyCode::Esc => {}
                None => self.say(format!(
                    "{} {} is not bound; {} ? lists the keys",
                    self.config.keymap.prefix,
                    crate::app::keymap::Chord::from_event(key)
                        .map(|c| c.to_string())
                        .unwrap_or_else(|| "that key".into()),
                    self.config.keymap.prefix
                )),
            }
            return;
        }
        if self.config.keymap.is_prefix(key) {
            self.prefix_pending = true;
            return;
        }
        // The focused pane; an ended SSH session reconnects on r or Enter.
        if let Some(id) = self.focused()
            && self.reconnectable(id)
        {
            if matches!(
                key.code,
                crossterm::event::KeyCode::Char('r') | crossterm::event::KeyCode::Enter
            ) {
                self.reconnect(id);
            }
            return;
        }
        let focused = self.focused();
        if let Some(id) = focused
            && matches!(self.panes.get(&id).map(|s| &s.pane), Some(Pane::Copilot(_)))
        {
            self.copilot_key(id, key);
            return;
        }
        if let Some(Pane::Hosts(picker)) = focused
            .and_then(|id| self.panes.get_mut(&id))
            .map(|s| &mut s.pane)
        {
            let outcome = picker.handle_key(key);
            self.picker_outcome(outcome);
            return;
        }
        if let Some(id) = focused
            && matches!(self.panes.get(&id).map(|s| &s.pane), Some(Pane::Run(_)))
        {
            self.run_view_key(id, key);
            return;
        }
        if let Some(id) = focused
            && let Some(Pane::Logs(browser)) = self.panes.get_mut(&id).map(|s| &mut s.pane)
        {
            let outcome = browser.handle_key(key);
            self.logs_outcome(id, outcome);
            return;
        }
        if let Some(id) = focused
            && let Some(Pane::Replay(replay)) = self.panes.get_mut(&id).map(|s| &mut s.pane)
        {
            let outcome = replay.handle_key(key, std::time::Instant::now());
            self.pane_outcome(id, outcome);
            return;
        }
        if let Some(Pane::Scan(pane)) = focused
            .and_then(|id| self.panes.get_mut(&id))
            .map(|s| &mut s.pane)
        {
            let outcome = pane.handle_key(key);
            self.scan_outcome(outcome);
            return;
        }
        for id in self.input_targets() {
            let Some(slot) = self.panes.get_mut(&id) else {
                continue;
            };
            let outcome = slot.pane.handle_key(key);
            if Some(id) == focused {
                self.pane_outcome(id, outcome);
                self.awaiting_echo = true;
            }
        }
    }

    fn popup_outcome(&mut self, outcome: PopupOutcome) {
        match outcome {
            PopupOutcome::Stay | PopupOutcome::Cancel => {}
            PopupOutcome::Confirmed(c) => self.confirmed(c),
            PopupOutcome::Renamed(name) => {
                if let Some(tab) = self.tabs.get_mut(self.active) {
                    tab.name = (!name.is_empty()).then_some(name);
                }
            }
            PopupOutcome::SessionRenamed(name) => {
                if !name.is_empty() {
                    self.effects
                        .push(Effect::Client(ClientEffect::RenameSession(name)));
                }
            }
            PopupOutcome::SwitchSession(name) => {
                self.effects
                    .push(Effect::Client(ClientEffect::SwitchSession(name)));
            }
            PopupOutcome::Run(a) => self.run_action(a),
            PopupOutcome::Open(target) => self.open_target(&target),
            PopupOutcome::PasteConfirmed(text) => {
                let targets = self.input_targets();
                self.paste_into(&targets, &text);
            }
            PopupOutcome::Clipboard {
                host,
                text,
                decision,
            } => self.clipboard_answered(host, text, decision),
        }
    }

    /// Act on what a pane asked for.
    pub(crate) fn pane_outcome(&mut self, id: PaneId, outcome: Outcome) {
        match outcome {
            Outcome::Done => {}
            Outcome::Copy(text) => self.copy(text),
            Outcome::CopySecret(secret) => {
                self.effects.push(Effect::Client(ClientEffect::Clipboard(
                    ClipboardRequest::SetSecret(secret),
                )));
                self.say("copied; the clipboard is cleared in 20 s");
            }
            Outcome::ClearClipboard => self.effects.push(Effect::Client(ClientEffect::Clipboard(
                ClipboardRequest::ClearSecret,
            ))),
            Outcome::Unlock => self.ask_unlock(Some(id)),
            Outcome::Close => self.close_pane(id),
            Outcome::TestCredential(name) => self.test_credential(id, name),
            Outcome::Vault(work) => self.effects.push(Effect::Spawn(Box::new(Task::Disk(
                crate::app::disk::DiskJob::Vault { pane: id, work },
            )))),
        }
    }

    /// Whether `id` is an ended session that can be started again in place.
    pub fn reconnectable(&self, id: PaneId) -> bool {
        self.panes.get(&id).is_some_and(|s| {
            s.spec.keeps_pane_on_close()
                && s.pane.as_terminal().is_some_and(|t| t.closed().is_some())
        })
    }

    /// Start the pane's session again, keeping its scrollback; every other ended pane of the
    /// same destination (they shared the connection that dropped) reconnects with it, over
    /// one new connection.
    fn reconnect(&mut self, id: PaneId) {
        let Some(spec) = self.panes.get(&id).map(|s| s.spec.clone()) else {
            return;
        };
        let mut ids: Vec<PaneId> = self
            .panes
            .iter()
            .filter(|(other, s)| **other != id && s.spec == spec)
            .map(|(other, _)| *other)
            .filter(|other| self.reconnectable(*other))
            .collect();
        ids.sort();
        ids.insert(0, id);
        for pane in &ids {
            let Some(slot) = self.panes.get(pane) else {
                continue;
            };
            let (cols, rows) = (slot.inner.width.max(2), slot.inner.height.max(2));
            match self.spawner.spawn(&spec, cols, rows, &self.waker) {
                Ok((stream, _)) => {
                    // The session before ended its recording; this one starts a new file.
                    let recorder = self.recorder_for(*pane, &spec, cols, rows);
                    if let Some(t) = self
                        .panes
                        .get_mut(pane)
                        .and_then(|s| s.pane.as_terminal_mut())
                    {
                        t.set_stream(stream);
                        t.set_recorder(recorder);
                    }
                }
                Err(why) => return self.error(why),
            }
        }
        self.say(match ids.len() {
            1 => "reconnecting…".to_string(),
            n => format!("reconnecting {n} panes…"),
        });
    }

    /// Open what the new-tab dialog was given: empty is a local shell, else a host.
    fn open_target(&mut self, text: &str) {
        let text = text.trim();
        if text.is_empty() {
            self.new_tab(PaneSpec::LocalShell);
            return;
        }
        match self.host_spec(text) {
            Ok(spec) => {
                if !self.host_names.iter().any(|h| h == text) {
                    self.host_names.push(text.to_string());
                }
                self.note_state(&spec, crate::panes::hosts::HostState::Connecting);
                self.new_tab(spec);
            }
            Err(e) => self.error(e),
        }
    }

    fn confirmed(&mut self, c: Confirm) {
        match c {
            Confirm::ClosePane(id) => self.close_pane(id),
            Confirm::CloseTab(i) => self.close_tab(i),
            Confirm::Quit => {
                let ids: Vec<PaneId> = self.panes.keys().copied().collect();
                for id in ids {
                    self.close_pane(id);
                }
                self.quit = true;
            }
        }
    }

    fn handle_mouse(&mut self, m: &MouseEvent) {
        // A dialog is modal: a click under it reaches no pane and moves no focus.
        if !self.config.mouse || !self.layers.is_empty() {
            return;
        }
        let (col, row) = (m.column, m.row);
        if row == 0 {
            if let MouseEventKind::Down(MouseButton::Left) = m.kind
                && let Some(i) = crate::app::ui::tab_at(self, col)
            {
                self.switch_to(i);
            }
            return;
        }
        let Some(tab) = self.tabs.get(self.active) else {
            return;
        };
        let hit = tab
            .layout
            .rects(self.body())
            .into_iter()
            .find(|(_, r)| r.contains((col, row).into()));
        let Some((id, _)) = hit else {
            return;
        };
        if let MouseEventKind::Down(_) = m.kind
            && let Some(tab) = self.tabs.get_mut(self.active)
            && tab.focused != id
        {
            tab.focused = id;
            self.dirty = true;
            self.follow_focus();
        }
        let Some(slot) = self.panes.get_mut(&id) else {
            return;
        };
        let inner = slot.inner;
        if !inner.contains((col, row).into()) && !matches!(m.kind, MouseEventKind::Drag(_)) {
            return;
        }
        let mut local = *m;
        local.column = col
            .saturating_sub(inner.x)
            .min(inner.width.saturating_sub(1));
        local.row = row
            .saturating_sub(inner.y)
            .min(inner.height.saturating_sub(1));
        self.dirty = true;
        let outcome = slot.pane.handle_mouse(&local);
        self.pane_outcome(id, outcome);
    }
}
