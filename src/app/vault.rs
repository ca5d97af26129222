//! The vault in the app: the unlock dialog layer, unlocking through the one [`VaultOwner`]
//! off the UI task, the vault-browser pane, its timers and locking.
//!
//! [`VaultOwner`]: crate::vault::VaultOwner

use crate::app::frontend::{ClientEffect, ClipboardRequest};
use crate::app::layers::Layer;
use crate::app::layout::PaneId;
use crate::app::msg::{Effect, Task};
use crate::app::state::{App, PaneSlot, PaneSpec};
use crate::panes::vault::{UnlockDialog, UnlockOutcome, VaultBrowser};
use crate::panes::{Pane, PaneView};
use crossterm::event::KeyEvent;
use std::time::{Duration, Instant};

/// How often ticking panes (reveal countdowns, TOTP codes, auto-lock) are woken.
pub const TICK: Duration = Duration::from_secs(1);

/// Who asked for the vault to be unlocked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Purpose {
    /// The browser: this pane re-unlocks, or None opens a new browser.
    Browser(Option<PaneId>),
    /// A login needs a secret from the vault.
    Login,
    /// The copilot needs its API key or a vault value.
    Copilot,
}

/// The unlock dialog on screen and who asked for it.
pub struct UnlockState {
    pub dialog: UnlockDialog,
    purpose: Purpose,
    busy: bool,
}

impl UnlockState {
    /// Whether the passphrase is being tried (the dialog takes no keys meanwhile).
    pub fn is_busy(&self) -> bool {
        self.busy
    }
}

impl App {
    /// Open the vault browser: focus it if it is open, else ask for the passphrase (or open
    /// it at once when the vault is already unlocked, e.g. by a login).
    pub fn open_vault(&mut self) {
        if let Some(id) = self.browser_id() {
            if let Some(ti) = self.tabs.iter().position(|t| t.layout.contains(id)) {
                self.tabs[ti].focused = id;
                self.switch_to(ti);
            }
            if !self.vault.is_unlocked() {
                self.ask_unlock(Some(id));
            }
            return;
        }
        if !self.vault.any_exists() {
            self.error("no vault yet: create one with `lumen vault init`");
            return;
        }
        if self.vault.is_unlocked() {
            self.show_vault(None);
        } else {
            self.ask_unlock(None);
        }
    }

    fn browser_id(&self) -> Option<PaneId> {
        self.panes
            .iter()
            .find_map(|(id, s)| matches!(s.pane, Pane::Vault(_)).then_some(*id))
    }

    pub(crate) fn ask_unlock(&mut self, for_pane: Option<PaneId>) {
        self.open_unlock(Purpose::Browser(for_pane), "vault");
    }

    fn open_unlock(&mut self, purpose: Purpose, what: &str) {
        if self.layers.unlock().is_some() {
            return;
        }
        self.layers.push(Layer::Unlock(UnlockState {
            dialog: UnlockDialog::new(what).with_hint(self.vault_hint.clone()),
            purpose,
            busy: false,
        }));
        self.dirty = true;
    }

    /// The copilot needs the vault (its API key, a value for an approved command).
    pub(crate) fn open_unlock_for(&mut self, what: &str) {
        if self.vault.is_unlocked() {
            self.copilot_vault_answer(true);
            return;
        }
        if !self.vault.any_exists() {
            self.copilot_vault_answer(false);
            return;
        }
        self.open_unlock(Purpose::Copilot, what);
    }

    /// A login wants a secret from the locked vault: ask for the passphrase; `reply` learns
    /// whether it was unlocked.
    pub fn unlock_for_login(&mut self, reply: crate::vault::UnlockRequest) {
        if self.vault.is_unlocked() {
            let _ = reply.send(true);
            return;
        }
        if !self.vault.any_exists() {
            let _ = reply.send(false);
            return;
        }
        self.unlock_waiters.push(reply);
        self.open_unlock(Purpose::Login, "vault for a login");
    }

    /// Tell logins waiting for the vault whether it is open now.
    fn answer_waiters(&mut self, unlocked: bool) {
        for reply in self.unlock_waiters.drain(..) {
            let _ = reply.send(unlocked);
        }
    }

    /// A key for the unlock dialog (the top layer).
    pub(crate) fn unlock_key(&mut self, key: &KeyEvent) {
        let Some(u) = self.layers.unlock_mut() else {
            return;
        };
        if u.busy {
            return;
        }
        match u.dialog.handle_key(key) {
            UnlockOutcome::Pending => {}
            UnlockOutcome::Cancel => {
                self.layers.remove_unlock();
                self.answer_waiters(false);
                self.copilot_vault_answer(false);
            }
            UnlockOutcome::Submit(passphrase) => {
                u.busy = true;
                self.effects.push(Effect::Spawn(Box::new(Task::UnlockVault {
                    owner: self.vault.clone(),
                    passphrase,
                })));
            }
        }
    }

    /// The unlock task finished.
    pub(crate) fn vault_unlocked(&mut self, result: Result<Vec<String>, String>) {
        self.dirty = true;
        match result {
            Ok(notices) => {
                let purpose = self.layers.remove_unlock().map(|u| u.purpose);
                if let Some(Purpose::Browser(for_pane)) = purpose {
                    self.show_vault(for_pane);
                }
                self.answer_waiters(true);
                self.copilot_vault_answer(true);
                if !notices.is_empty() {
                    self.notice("The vault needs your attention", notices);
                }
            }
            Err(why) => {
                if let Some(u) = self.layers.unlock_mut() {
                    u.busy = false;
                    u.dialog.failed(Instant::now(), &why);
                }
            }
        }
    }

    fn show_vault(&mut self, for_pane: Option<PaneId>) {
        let now = Instant::now();
        let for_pane = for_pane.or_else(|| self.browser_id());
        if let Some(id) = for_pane
            && let Some(Pane::Vault(b)) = self.panes.get_mut(&id).map(|s| &mut s.pane)
        {
            b.unlocked(now);
            return;
        }
        let browser = VaultBrowser::new(
            self.vault.clone(),
            now,
            crate::vault::unix_now(),
            self.config.vault_auto_lock,
        );
        let id = self.alloc_pane();
        let body = self.body();
        self.push_tab(
            id,
            PaneSlot {
                pane: Pane::Vault(Box::new(browser)),
                spec: PaneSpec::Vault,
                default_title: "vault".into(),
                rect: body,
                inner: body,
                connected: false,
            },
        );
    }

    /// Lock the vault: the owner drops every decrypted copy (the browser's, the logins'),
    /// and a secret still on the clipboard is cleared.
    pub fn lock_vaults(&mut self) {
        let was_open = self.vault.lock();
        let mut clear_clipboard = false;
        for slot in self.panes.values_mut() {
            if let Pane::Vault(b) = &mut slot.pane {
                let outcome = b.forget();
                clear_clipboard |= matches!(
                    outcome,
                    crate::panes::vault::BrowserOutcome::Locked {
                        clear_clipboard: true
                    }
                );
            }
        }
        if clear_clipboard {
            self.effects.push(Effect::Client(ClientEffect::Clipboard(
                ClipboardRequest::ClearSecret,
            )));
        }
        self.say(if was_open {
            "vault locked"
        } else {
            "no vault is open"
        });
    }

    /// Timers of ticking panes and of the unlock dialog; the vault locks after the configured
    /// idle time, whoever unlocked it.
    pub(crate) fn tick_panes(&mut self, now: Instant) {
        if self.vault.is_unlocked()
            && now.duration_since(self.last_input) >= self.config.vault_auto_lock
        {
            self.lock_vaults();
        }
        if let Some(u) = self.layers.unlock_mut() {
            u.dialog.tick(now);
            self.dirty = true;
        }
        let ticking: Vec<PaneId> = self
            .panes
            .iter()
            .filter(|(_, s)| s.pane.ticks())
            .map(|(id, _)| *id)
            .collect();
        for id in ticking {
            if let Some(slot) = self.panes.get_mut(&id) {
                let outcome = slot.pane.tick(now);
                self.dirty = true;
                self.pane_outcome(id, outcome);
            }
        }
    }

    /// Whether something on screen counts down (so the loop wakes every [`TICK`]).
    pub(crate) fn ticking(&self) -> bool {
        self.layers.unlock().is_some()
            || self.panes.values().any(|s| s.pane.ticks())
            || self.vault.is_unlocked()
    }
}
