//! The vault browser's state and key handling: a filtered list over both scopes, a detail view
//! with the secret masked, timed reveal, copy with a timed clipboard clear, live TOTP codes,
//! add/edit/delete, and auto-lock after idle.

use super::form::{EntryForm, FormData, FormEvent};
use crate::vault::{Action, Kind, Scope, TotpCode, Vault};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use secrecy::SecretString;
use std::time::{Duration, Instant};

/// A revealed secret hides again after this long.
pub const REVEAL_FOR: Duration = Duration::from_secs(10);
/// The app clears the outer clipboard this long after a copy.
pub const CLIPBOARD_CLEAR_AFTER: Duration = Duration::from_secs(20);
/// Lock after this long without a key, unless configured otherwise.
pub const AUTO_LOCK_DEFAULT: Duration = Duration::from_secs(15 * 60);

/// An unlocked vault and which scope it is.
#[derive(Debug)]
pub struct ScopedVault {
    pub scope: Scope,
    pub vault: Vault,
}

/// What the app must do after a key or a tick.
#[derive(Debug)]
pub enum BrowserOutcome {
    None,
    /// Put this text on the outer clipboard (OSC 52). Audited as a copy.
    Copy(SecretString),
    /// Overwrite the outer clipboard with nothing: the copy's time is up.
    ClearClipboard,
    /// All decrypted data was dropped; show the unlock dialog when the user asks.
    Locked {
        clear_clipboard: bool,
    },
    /// The user asked to unlock a locked browser.
    UnlockRequested,
    /// Close the pane.
    Close,
}

#[derive(Debug)]
pub(super) enum Mode {
    List,
    Filter,
    ConfirmDelete,
    Form(Box<EntryForm>),
}

/// The vault-browser pane.
#[derive(Debug)]
pub struct VaultBrowser {
    pub(super) vaults: Vec<ScopedVault>,
    /// (index into `vaults`, entry name), filtered and sorted; recomputed in update.
    pub(super) rows: Vec<(usize, String)>,
    pub(super) selected: usize,
    pub(super) filter: String,
    pub(super) mode: Mode,
    pub(super) revealed: Option<(String, SecretString)>,
    reveal_until: Option<Instant>,
    pub(super) reveal_secs_left: u64,
    clipboard_until: Option<Instant>,
    pub(super) totp: Option<TotpCode>,
    last_activity: Instant,
    auto_lock: Duration,
    clock_base: (Instant, u64),
    pub(super) status: Option<String>,
    pub(super) locked: bool,
}

impl VaultBrowser {
    /// `unix_now` anchors the TOTP clock to `now` (tests pass fixed values).
    pub fn new(vaults: Vec<ScopedVault>, now: Instant, unix_now: u64, auto_lock: Duration) -> Self {
        let mut b = VaultBrowser {
            vaults,
            rows: Vec::new(),
            selected: 0,
            filter: String::new(),
            mode: Mode::List,
            revealed: None,
            reveal_until: None,
            reveal_secs_left: 0,
            clipboard_until: None,
            totp: None,
            last_activity: now,
            auto_lock,
            clock_base: (now, unix_now),
            status: None,
            locked: false,
        };
        b.refresh_rows();
        b.refresh_totp(now);
        b
    }

    /// Hand back freshly unlocked vaults after [`BrowserOutcome::UnlockRequested`].
    pub fn unlocked(&mut self, vaults: Vec<ScopedVault>, now: Instant) {
        self.vaults = vaults;
        self.locked = false;
        self.last_activity = now;
        self.status = None;
        self.refresh_rows();
        self.refresh_totp(now);
    }

    pub fn is_locked(&self) -> bool {
        self.locked
    }

    /// Drop every decrypted secret and vault key now.
    pub fn lock(&mut self) -> BrowserOutcome {
        self.vaults.clear();
        self.rows.clear();
        self.revealed = None;
        self.reveal_until = None;
        self.totp = None;
        self.mode = Mode::List;
        self.locked = true;
        self.status = Some("locked".into());
        let clear_clipboard = self.clipboard_until.take().is_some();
        BrowserOutcome::Locked { clear_clipboard }
    }

    /// Timers: hide a reveal, clear the clipboard, refresh the TOTP code, auto-lock.
    pub fn tick(&mut self, now: Instant) -> BrowserOutcome {
        if self.locked {
            return BrowserOutcome::None;
        }
        if now.duration_since(self.last_activity) >= self.auto_lock {
            return self.lock();
        }
        if let Some(until) = self.reveal_until {
            if now >= until {
                self.revealed = None;
                self.reveal_until = None;
            } else {
                self.reveal_secs_left = super::ceil_secs(until - now);
            }
        }
        self.refresh_totp(now);
        if self.clipboard_until.is_some_and(|until| now >= until) {
            self.clipboard_until = None;
            self.status = Some("clipboard cleared".into());
            return BrowserOutcome::ClearClipboard;
        }
        BrowserOutcome::None
    }

    pub fn handle_key(&mut self, key: &KeyEvent, now: Instant) -> BrowserOutcome {
        self.last_activity = now;
        if self.locked {
            return match key.code {
                KeyCode::Enter => BrowserOutcome::UnlockRequested,
                KeyCode::Esc | KeyCode::Char('q') => BrowserOutcome::Close,
                _ => BrowserOutcome::None,
            };
        }
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        if ctrl && key.code == KeyCode::Char('l') {
            return self.lock();
        }
        match &mut self.mode {
            Mode::Form(form) => match form.handle_key(key) {
                FormEvent::Pending => {}
                FormEvent::Cancel => self.mode = Mode::List,
                FormEvent::Submit(data) => self.save_form(*data),
            },
            Mode::Filter => match key.code {
                KeyCode::Enter | KeyCode::Esc => self.mode = Mode::List,
                KeyCode::Backspace => {
                    self.filter.pop();
                    self.refilter(now);
                }
                KeyCode::Char(c) if !ctrl => {
                    self.filter.push(c);
                    self.refilter(now);
                }
                _ => {}
            },
            Mode::ConfirmDelete => {
                if key.code == KeyCode::Char('y') {
                    self.delete_selected();
                }
                self.mode = Mode::List;
            }
            Mode::List => return self.list_key(key, now),
        }
        BrowserOutcome::None
    }

    /// Bracketed paste: into the open form, or the filter.
    pub fn handle_paste(&mut self, text: &str, now: Instant) {
        self.last_activity = now;
        match &mut self.mode {
            Mode::Form(form) => form.handle_paste(text),
            Mode::Filter => {
                self.filter.extend(text.chars().filter(|c| !c.is_control()));
                self.refilter(now);
            }
            Mode::List | Mode::ConfirmDelete => {}
        }
    }

    fn list_key(&mut self, key: &KeyEvent, now: Instant) -> BrowserOutcome {
        match key.code {
            KeyCode::Char('q') | KeyCode::Esc => return BrowserOutcome::Close,
            KeyCode::Down | KeyCode::Char('j') => self.select(self.selected as isize + 1, now),
            KeyCode::Up | KeyCode::Char('k') => self.select(self.selected as isize - 1, now),
            KeyCode::Char('/') => self.mode = Mode::Filter,
            KeyCode::Enter | KeyCode::Char('r') => self.reveal(now),
            KeyCode::Char('c') | KeyCode::Char('y') => return self.copy(now),
            KeyCode::Char('a') => {
                let scope = self
                    .vaults
                    .first()
                    .map(|v| v.scope)
                    .unwrap_or(Scope::Personal);
                self.mode = Mode::Form(Box::new(EntryForm::add(scope)));
            }
            KeyCode::Char('e') => {
                if let Some((scope, entry)) = self.current() {
                    let form = EntryForm::edit(scope, entry);
                    self.mode = Mode::Form(Box::new(form));
                }
            }
            KeyCode::Char('d') if self.current().is_some() => self.mode = Mode::ConfirmDelete,
            _ => {}
        }
        BrowserOutcome::None
    }

    pub(super) fn current(&self) -> Option<(Scope, &crate::vault::Entry)> {
        let (vi, name) = self.rows.get(self.selected)?;
        let sv = self.vaults.get(*vi)?;
        Some((sv.scope, sv.vault.get(name).ok()?))
    }

    fn current_vault(&self) -> Option<(&Vault, &str)> {
        let (vi, name) = self.rows.get(self.selected)?;
        Some((&self.vaults.get(*vi)?.vault, name.as_str()))
    }

    fn select(&mut self, index: isize, now: Instant) {
        let max = self.rows.len().saturating_sub(1) as isize;
        let index = index.clamp(0, max) as usize;
        if index != self.selected {
            self.selected = index;
            self.revealed = None;
            self.reveal_until = None;
        }
        self.refresh_totp(now);
    }

    fn reveal(&mut self, now: Instant) {
        let Some((vault, name)) = self.current_vault() else {
            return;
        };
        match vault.secret(name, Action::Reveal, None) {
            Ok(s) => {
                self.revealed = Some((name.to_string(), s));
                self.reveal_until = Some(now + REVEAL_FOR);
                self.reveal_secs_left = REVEAL_FOR.as_secs();
            }
            Err(e) => self.status = Some(e.to_string()),
        }
    }

    fn copy(&mut self, now: Instant) -> BrowserOutcome {
        let Some((vault, name)) = self.current_vault() else {
            return BrowserOutcome::None;
        };
        let name_owned = name.to_string();
        let is_totp = vault
            .get(name)
            .map(|e| e.kind == Kind::Totp)
            .unwrap_or(false);
        let result = if is_totp {
            // For a TOTP entry the useful thing to paste is the current code.
            let unix = self.unix_at(now);
            vault
                .totp_at(name, unix)
                .and_then(|c| vault.record(name, Action::Copy, None).map(|_| c))
                .map(|c| SecretString::from(c.code))
        } else {
            vault.secret(name, Action::Copy, None)
        };
        match result {
            Ok(text) => {
                self.clipboard_until = Some(now + CLIPBOARD_CLEAR_AFTER);
                let name = name_owned;
                self.status = Some(format!(
                    "copied {name}; clipboard clears in {} s",
                    CLIPBOARD_CLEAR_AFTER.as_secs()
                ));
                BrowserOutcome::Copy(text)
            }
            Err(e) => {
                self.status = Some(e.to_string());
                BrowserOutcome::None
            }
        }
    }

    fn delete_selected(&mut self) {
        let Some((vi, name)) = self.rows.get(self.selected).cloned() else {
            return;
        };
        let Some(sv) = self.vaults.get_mut(vi) else {
            return;
        };
        let result = sv.vault.remove(&name).and_then(|_| sv.vault.save());
        self.status = Some(match result {
            Ok(()) => format!("deleted {name}"),
            Err(e) => e.to_string(),
        });
        self.refresh_rows();
    }

    fn save_form(&mut self, data: FormData) {
        let Some(sv) = self.vaults.iter_mut().find(|v| v.scope == data.scope) else {
            if let Mode::Form(f) = &mut self.mode {
                f.error = Some(format!("no {} vault is open", data.scope.as_str()));
            }
            return;
        };
        let name = data.name.clone();
        let result = match &data.editing {
            Some(old) => sv.vault.edit(old, data.entry),
            None => sv.vault.add(&data.name, data.entry),
        }
        .and_then(|_| sv.vault.save());
        match result {
            Ok(()) => {
                self.mode = Mode::List;
                self.status = Some(format!("saved {name}"));
                self.refresh_rows();
                if let Some(i) = self.rows.iter().position(|(_, n)| *n == name) {
                    self.selected = i;
                }
            }
            Err(e) => {
                if let Mode::Form(f) = &mut self.mode {
                    f.error = Some(e.to_string());
                }
            }
        }
    }

    fn refilter(&mut self, now: Instant) {
        self.refresh_rows();
        self.selected = 0;
        self.revealed = None;
        self.refresh_totp(now);
    }

    fn refresh_rows(&mut self) {
        let needle = self.filter.to_lowercase();
        self.rows = self
            .vaults
            .iter()
            .enumerate()
            .flat_map(|(i, sv)| sv.vault.entries().map(move |e| (i, e)))
            .filter(|(_, e)| {
                needle.is_empty()
                    || e.name.to_lowercase().contains(&needle)
                    || e.username
                        .as_deref()
                        .unwrap_or("")
                        .to_lowercase()
                        .contains(&needle)
                    || e.tags.iter().any(|t| t.to_lowercase().contains(&needle))
                    || e.hosts.iter().any(|h| h.to_lowercase().contains(&needle))
            })
            .map(|(i, e)| (i, e.name.clone()))
            .collect();
        self.selected = self.selected.min(self.rows.len().saturating_sub(1));
    }

    fn unix_at(&self, now: Instant) -> u64 {
        self.clock_base.1 + now.saturating_duration_since(self.clock_base.0).as_secs()
    }

    fn refresh_totp(&mut self, now: Instant) {
        let unix = self.unix_at(now);
        self.totp = self.current_vault().and_then(|(vault, name)| {
            let is_totp = vault.get(name).ok()?.kind == Kind::Totp;
            is_totp.then(|| vault.totp_at(name, unix).ok()).flatten()
        });
    }
}
