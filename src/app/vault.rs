//! The vault in the app: the unlock dialog layer, opening vaults off the UI thread, the
//! vault-browser pane, its timers and locking.

use crate::app::layout::PaneId;
use crate::app::state::{App, PaneSlot, PaneSpec};
use crate::panes::vault::{ScopedVault, UnlockDialog, UnlockOutcome, VaultBrowser};
use crate::panes::{Pane, PaneView};
use crate::vault::{Scope, Vault, VaultError};
use crossterm::event::KeyEvent;
use secrecy::SecretString;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How often ticking panes (reveal countdowns, TOTP codes, auto-lock) are woken.
pub const TICK: Duration = Duration::from_secs(1);

/// Who asked for the vault to be unlocked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Purpose {
    /// The browser: this pane re-unlocks, or None opens a new browser.
    Browser(Option<PaneId>),
    /// A login needs a secret from the vault.
    Login,
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

/// Results of work done off the UI thread.
pub enum Background {
    /// The vaults opened for the browser (or the reason not), and a second copy for logins.
    VaultOpened(Result<Vec<ScopedVault>, String>, Option<Vec<Vault>>),
}

/// Open every vault file that exists with one passphrase. Opening is one Argon2id derivation
/// per file, so it runs on a thread of its own. Files the passphrase does not open are named
/// in the error only when none opens; a damaged file is always an error.
fn open_all(files: &[(Scope, PathBuf)], pass: &SecretString) -> Result<Vec<ScopedVault>, String> {
    let mut opened = Vec::new();
    let mut wrong = Vec::new();
    for (scope, path) in files.iter().filter(|(_, p)| p.exists()) {
        match Vault::open(path, pass) {
            Ok(vault) => opened.push(ScopedVault {
                scope: *scope,
                vault,
            }),
            Err(VaultError::WrongPassphrase { .. }) => wrong.push(scope.as_str()),
            Err(e) => return Err(e.to_string()),
        }
    }
    if opened.is_empty() {
        return Err(if wrong.is_empty() {
            "no vault yet: create one with `lumen vault init`".into()
        } else {
            "wrong passphrase".into()
        });
    }
    Ok(opened)
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl App {
    /// Open the vault browser: focus it if it is open, else ask for the passphrase.
    pub fn open_vault(&mut self) {
        let found = self
            .panes
            .iter()
            .find_map(|(id, s)| matches!(s.pane, Pane::Vault(_)).then_some(*id));
        if let Some(id) = found {
            if let Some(ti) = self.tabs.iter().position(|t| t.layout.contains(id)) {
                self.tabs[ti].focused = id;
                self.switch_to(ti);
            }
            let locked = matches!(&self.panes[&id].pane, Pane::Vault(b) if b.is_locked());
            if locked {
                self.ask_unlock(Some(id));
            }
            return;
        }
        if !self.vault_files.iter().any(|(_, p)| p.exists()) {
            self.error("no vault yet: create one with `lumen vault init`");
            return;
        }
        self.ask_unlock(None);
    }

    pub(crate) fn ask_unlock(&mut self, for_pane: Option<PaneId>) {
        self.open_unlock(Purpose::Browser(for_pane), "vault");
    }

    fn open_unlock(&mut self, purpose: Purpose, what: &str) {
        if self.unlock.is_some() {
            return;
        }
        self.unlock = Some(UnlockState {
            dialog: UnlockDialog::new(what),
            purpose,
            busy: false,
        });
        self.dirty = true;
    }

    /// A login wants a secret from the locked vault: ask for the passphrase; `reply` learns
    /// whether it was unlocked.
    pub fn unlock_for_login(&mut self, reply: crate::ssh::UnlockRequest) {
        if self.credentials.as_ref().is_some_and(|c| c.is_unlocked()) {
            let _ = reply.send(true);
            return;
        }
        if !self.vault_files.iter().any(|(_, p)| p.exists()) {
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

    /// The unlock dialog's keys. Returns false when no dialog is open.
    pub(crate) fn unlock_key(&mut self, key: &KeyEvent) -> bool {
        let Some(u) = self.unlock.as_mut() else {
            return false;
        };
        if u.busy {
            return true;
        }
        match u.dialog.handle_key(key) {
            UnlockOutcome::Pending => {}
            UnlockOutcome::Cancel => {
                self.unlock = None;
                self.answer_waiters(false);
            }
            UnlockOutcome::Submit(pass) => {
                u.busy = true;
                let files = self.vault_files.clone();
                let tx = self.background_tx.clone();
                let waker = self.waker.clone();
                let purpose = u.purpose;
                // Logins get their own copy of the vaults, so locking the browser and serving
                // logins stay independent; both come from this one passphrase.
                let for_logins = self.credentials.is_some();
                let spawned =
                    std::thread::Builder::new()
                        .name("vault-open".into())
                        .spawn(move || {
                            let result = open_all(&files, &pass);
                            let logins = match (&result, purpose, for_logins) {
                                (Ok(_), Purpose::Browser(_), true) => open_all(&files, &pass)
                                    .ok()
                                    .map(|v| v.into_iter().map(|s| s.vault).collect()),
                                _ => None,
                            };
                            drop(pass);
                            let _ = tx.send(Background::VaultOpened(result, logins));
                            waker.wake();
                        });
                if let Err(e) = spawned {
                    self.unlock = None;
                    self.error(format!("cannot open the vault: {e}"));
                }
            }
        }
        true
    }

    pub(crate) fn unlock_paste(&mut self, text: &str) -> bool {
        match self.unlock.as_mut() {
            Some(u) => {
                u.dialog.handle_paste(text);
                true
            }
            None => false,
        }
    }

    /// Apply results that background threads sent.
    pub(crate) fn drain_background(&mut self) {
        while let Ok(msg) = self.background_rx.try_recv() {
            self.dirty = true;
            match msg {
                Background::VaultOpened(Ok(vaults), logins) => {
                    let purpose = self.unlock.take().map(|u| u.purpose);
                    match purpose {
                        Some(Purpose::Login) => {
                            if let Some(c) = &self.credentials {
                                c.put(vaults.into_iter().map(|s| s.vault).collect());
                            }
                        }
                        Some(Purpose::Browser(for_pane)) => {
                            if let (Some(c), Some(v)) = (&self.credentials, logins) {
                                c.put(v);
                            }
                            self.show_vault(vaults, for_pane);
                        }
                        None => {}
                    }
                    self.answer_waiters(true);
                }
                Background::VaultOpened(Err(why), _) => {
                    if let Some(u) = self.unlock.as_mut() {
                        u.busy = false;
                        u.dialog.failed(Instant::now(), &why);
                    }
                }
            }
        }
    }

    fn show_vault(&mut self, vaults: Vec<ScopedVault>, for_pane: Option<PaneId>) {
        let now = Instant::now();
        if let Some(id) = for_pane
            && let Some(Pane::Vault(b)) = self.panes.get_mut(&id).map(|s| &mut s.pane)
        {
            b.unlocked(vaults, now);
            return;
        }
        let browser = VaultBrowser::new(vaults, now, unix_now(), self.config.vault_auto_lock);
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

    /// Lock every vault browser: all decrypted data is dropped.
    pub fn lock_vaults(&mut self) {
        let ids: Vec<PaneId> = self
            .panes
            .iter()
            .filter(|(_, s)| matches!(s.pane, Pane::Vault(_)))
            .map(|(id, _)| *id)
            .collect();
        for id in &ids {
            if let Some(Pane::Vault(b)) = self.panes.get_mut(id).map(|s| &mut s.pane) {
                let outcome = b.lock();
                if let crate::panes::vault::BrowserOutcome::Locked {
                    clear_clipboard: true,
                } = outcome
                {
                    self.effects
                        .push(crate::app::state::Effect::SetClipboard(String::new()));
                }
            }
        }
        let logins = self.credentials.as_ref().is_some_and(|c| c.is_unlocked());
        if let Some(c) = &self.credentials {
            c.clear();
        }
        self.say(if ids.is_empty() && !logins {
            "no vault is open"
        } else {
            "vault locked"
        });
    }

    /// Timers of ticking panes and of the unlock dialog; the vault kept for logins locks
    /// after the same idle time as the browser.
    pub(crate) fn tick_panes(&mut self, now: Instant) {
        if self.credentials.as_ref().is_some_and(|c| c.is_unlocked())
            && now.duration_since(self.last_input) >= self.config.vault_auto_lock
        {
            self.lock_vaults();
        }
        if let Some(u) = self.unlock.as_mut() {
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
        self.unlock.is_some()
            || self.panes.values().any(|s| s.pane.ticks())
            || self.credentials.as_ref().is_some_and(|c| c.is_unlocked())
    }
}
