//! Actions: what each key binding and palette entry does.

use crate::app::frontend::ClientEffect;
use crate::app::keymap::Action;
use crate::app::layout::Split;
use crate::app::msg::Effect;
use crate::app::popup::{Confirm, Popup};
use crate::app::state::{App, RESIZE_STEP};
use crate::panes::PaneView;
use crate::ui::input::TextInput;

impl App {
    /// Carry out an action (from a key binding or the palette).
    pub fn run_action(&mut self, a: Action) {
        self.act(a);
        // Focus may have moved: a copilot pane follows the terminal pane focused beside it.
        self.follow_focus();
    }

    fn act(&mut self, a: Action) {
        self.dirty = true;
        let body = self.body();
        if let Some(i) = a.go_to_tab() {
            if i < self.tabs.len() {
                self.switch_to(i);
            } else {
                self.say(format!("no tab {i}"));
            }
            return;
        }
        if let Some(dir) = a.focus_direction() {
            if let Some(tab) = self.tabs.get_mut(self.active)
                && let Some(n) = tab.layout.neighbor(tab.focused, dir, body)
            {
                tab.focused = n;
            }
            return;
        }
        if let Some(dir) = a.resize_direction() {
            if let Some(tab) = self.tabs.get_mut(self.active) {
                let f = tab.focused;
                tab.layout.resize(f, dir, RESIZE_STEP, body);
            }
            self.relayout();
            return;
        }
        let n = self.tabs.len();
        match a {
            Action::NewTab => self.open_popup(Popup::NewTab {
                input: TextInput::default(),
                hosts: self.host_names.clone(),
                cycling: None,
            }),
            Action::CloseTab => self.open_popup(Popup::Confirm(Confirm::CloseTab(self.active))),
            Action::NextTab if n > 0 => self.switch_to((self.active + 1) % n),
            Action::PrevTab if n > 0 => self.switch_to((self.active + n - 1) % n),
            Action::LastTab => self.switch_to(self.last_active),
            Action::RenameTab => {
                let current = self.tab_title(self.active);
                self.open_popup(Popup::Rename(TextInput::new(&current)));
            }
            Action::MoveTabLeft if self.active > 0 => {
                self.tabs.swap(self.active, self.active - 1);
                self.active -= 1;
            }
            Action::MoveTabRight if self.active + 1 < n => {
                self.tabs.swap(self.active, self.active + 1);
                self.active += 1;
            }
            Action::SplitRight => self.split(Split::Right),
            Action::SplitDown => self.split(Split::Down),
            Action::FocusNext => {
                if let Some(tab) = self.tabs.get_mut(self.active) {
                    let panes = tab.layout.panes();
                    let i = panes.iter().position(|p| *p == tab.focused).unwrap_or(0);
                    tab.focused = panes[(i + 1) % panes.len()];
                    if tab.layout.zoomed().is_some() {
                        tab.layout.toggle_zoom(tab.focused);
                    }
                }
                self.relayout();
            }
            Action::Zoom => {
                if let Some(tab) = self.tabs.get_mut(self.active) {
                    let f = tab.focused;
                    tab.layout.toggle_zoom(f);
                }
                self.relayout();
            }
            Action::ClosePane => {
                if let Some(f) = self.focused() {
                    self.open_popup(Popup::Confirm(Confirm::ClosePane(f)));
                }
            }
            Action::CopyMode | Action::CopyModePageUp => {
                if let Some(t) = self
                    .focused()
                    .and_then(|id| self.panes.get_mut(&id))
                    .and_then(|s| s.pane.as_terminal_mut())
                {
                    if a == Action::CopyModePageUp {
                        t.enter_copy_mode_page_up();
                    } else {
                        t.enter_copy_mode();
                    }
                    self.dirty = true;
                }
            }
            Action::Paste => match self.clipboard.clone() {
                Some(text) => self.paste(&text),
                None => self.say("nothing copied yet: copy with prefix [ first"),
            },
            Action::Help => self.open_popup(Popup::Help {
                scroll: Default::default(),
            }),
            Action::Palette => self.open_popup(Popup::Palette {
                input: TextInput::default(),
                selected: 0,
            }),
            Action::SendPrefix => {
                let key = self.config.keymap.prefix.to_event();
                if let Some(slot) = self.focused().and_then(|id| self.panes.get_mut(&id)) {
                    slot.pane.handle_key(&key);
                }
            }
            Action::ToggleBroadcast => {
                if let Some(tab) = self.tabs.get_mut(self.active) {
                    if !tab.broadcast.is_empty() {
                        tab.broadcast.clear();
                        self.say("broadcast off");
                    } else if tab.layout.len() < 2 {
                        self.say("broadcast needs several panes: split first");
                    } else {
                        tab.broadcast = tab.layout.panes().into_iter().collect();
                        let n = tab.broadcast.len();
                        self.say(format!("broadcast on: keys go to {n} panes"));
                    }
                }
            }
            Action::BroadcastPane => {
                if let Some(tab) = self.tabs.get_mut(self.active) {
                    let f = tab.focused;
                    if !tab.broadcast.remove(&f) {
                        tab.broadcast.insert(f);
                    }
                    let n = tab.broadcast.len();
                    self.say(format!("broadcast: {n} pane(s) chosen"));
                }
            }
            Action::Vault => self.open_vault(),
            Action::Hosts => self.open_hosts(),
            Action::Runbooks => self.open_runbooks(),
            Action::Copilot => self.toggle_copilot(),
            Action::ScanResults => self.open_scans(),
            Action::Logs => self.open_logs(),
            Action::LockVault => self.lock_vaults(),
            Action::Quit => self.open_popup(Popup::Confirm(Confirm::Quit)),
            Action::Detach => self.effects.push(Effect::Client(ClientEffect::Detach)),
            Action::ChooseSession => self
                .effects
                .push(Effect::Client(ClientEffect::ChooseSession)),
            Action::RenameSession => self.open_popup(Popup::RenameSession(TextInput::new(""))),
            _ => {}
        }
    }
}

impl App {
    /// `C-b s` in the server: the sessions to switch between, this one selected.
    pub fn choose_session(&mut self, names: Vec<String>, current: String) {
        let selected = names.iter().position(|n| *n == current).unwrap_or(0);
        self.open_popup(Popup::Sessions {
            names,
            current,
            selected,
        });
    }
}
