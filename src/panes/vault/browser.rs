//! The vault browser's state and key handling: a filtered list over both scopes, a detail view
//! with the secret masked, timed reveal, copy with a timed clipboard clear, live TOTP codes,
//! add/edit/delete, and auto-lock after idle.

use super::form::{EntryForm, FormData, FormEvent};
use super::work::{VaultWork, WorkDone};
use crate::vault::{Entry, Kind, Scope, ScopedVault, TotpCode, Vault, VaultOwner};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use secrecy::SecretString;
use std::time::{Duration, Instant};

/// A revealed secret hides again after this long.
pub const REVEAL_FOR: Duration = Duration::from_secs(10);
/// The app clears the outer clipboard this long after a copy.
pub const CLIPBOARD_CLEAR_AFTER: Duration = Duration::from_secs(20);
/// Lock after this long without a key, unless configured otherwise.
pub const AUTO_LOCK_DEFAULT: Duration = Duration::from_secs(15 * 60);

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
    /// Run this off the UI task (it reads a secret, audited, or saves the vault file) and
    /// hand the result to [`VaultBrowser::work_done`].
    Work(VaultWork),
    /// A Credential Test of this entry on the hosts it is bound to (the app has the hosts and
    /// the SSH options); the verdicts come back through [`VaultBrowser::tested`].
    Test(String),
}

#[derive(Debug)]
pub(super) enum Mode {
    List,
    Filter,
    ConfirmDelete,
    Form(Box<EntryForm>),
}

/// One listed entry: where it lives and its metadata (never its secret).
#[derive(Debug)]
pub(super) struct Row {
    pub scope: Scope,
    pub entry: Entry,
}

/// The vault-browser pane. The vaults belong to the app's [`VaultOwner`]; the browser keeps
/// only the filtered list's metadata, refreshed after every change.
#[derive(Debug)]
pub struct VaultBrowser {
    owner: VaultOwner,
    pub(super) rows: Vec<Row>,
    pub(super) selected: usize,
    pub(super) filter: crate::ui::input::TextInput,
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
    /// Work is running off the UI task: keys wait for it (all but lock), and ticks leave the
    /// vault alone, which the work holds meanwhile.
    working: bool,
}

impl VaultBrowser {
    /// A browser over `owner`'s vaults. `unix_now` anchors the TOTP clock to `now` (tests
    /// pass fixed values).
    pub fn new(owner: VaultOwner, now: Instant, unix_now: u64, auto_lock: Duration) -> Self {
        let locked = !owner.is_unlocked();
        let mut b = VaultBrowser {
            owner,
            rows: Vec::new(),
            selected: 0,
            filter: crate::ui::input::TextInput::default(),
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
            locked,
            working: false,
        };
        b.refresh_rows();
        b.refresh_totp(now);
        b
    }

    /// The owner was unlocked again (after [`BrowserOutcome::UnlockRequested`]).
    pub fn unlocked(&mut self, now: Instant) {
        self.locked = false;
        self.last_activity = now;
        self.status = None;
        self.refresh_rows();
        self.refresh_totp(now);
    }

    pub fn is_locked(&self) -> bool {
        self.locked
    }

    /// Drop every decrypted secret and vault key now: the owner's (so logins lock too) and
    /// the browser's own reveal.
    pub fn lock(&mut self) -> BrowserOutcome {
        self.owner.lock();
        self.forget()
    }

    /// The owner was locked elsewhere (prefix L, idle): drop what the browser shows.
    pub fn forget(&mut self) -> BrowserOutcome {
        self.rows.clear();
        self.revealed = None;
        self.reveal_until = None;
        self.totp = None;
        self.mode = Mode::List;
        self.locked = true;
        self.working = false;
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
        if !self.working {
            self.refresh_totp(now);
        }
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
        if self.working {
            return BrowserOutcome::None;
        }
        match &mut self.mode {
            Mode::Form(form) => match form.handle_key(key) {
                FormEvent::Pending => {}
                FormEvent::Cancel => self.mode = Mode::List,
                FormEvent::Submit(data) => return self.save_form(*data),
            },
            Mode::Filter => match key.code {
                KeyCode::Enter | KeyCode::Esc => self.mode = Mode::List,
                _ => {
                    if self.filter.key(key) {
                        self.refilter(now);
                    }
                }
            },
            Mode::ConfirmDelete => {
                self.mode = Mode::List;
                if key.code == KeyCode::Char('y') {
                    return self.delete_selected();
                }
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
                self.filter.paste(text);
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
            KeyCode::Enter | KeyCode::Char('r') => return self.reveal(),
            KeyCode::Char('c') | KeyCode::Char('y') => return self.copy(now),
            KeyCode::Char('a') => {
                let scope = self
                    .owner
                    .read(|v| v.first().map(|v| v.scope))
                    .ok()
                    .flatten()
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
            KeyCode::Char('t') => return self.test(),
            _ => {}
        }
        BrowserOutcome::None
    }

    /// `t`: a Credential Test of the selected password or key entry.
    fn test(&mut self) -> BrowserOutcome {
        let Some((_, entry)) = self.current() else {
            return BrowserOutcome::None;
        };
        if !matches!(entry.kind, Kind::Password | Kind::SshKey) {
            self.status = Some(format!(
                "{} is a {} entry; only passwords and SSH keys can be tested",
                entry.name, entry.kind
            ));
            return BrowserOutcome::None;
        }
        let name = entry.name.clone();
        self.status = Some(format!("testing {name}…"));
        BrowserOutcome::Test(name)
    }

    /// What the Credential Test of `name` came to, in words, for the status line.
    pub fn tested(&mut self, summary: String) {
        self.status = Some(summary);
    }

    pub(super) fn current(&self) -> Option<(Scope, &Entry)> {
        let row = self.rows.get(self.selected)?;
        Some((row.scope, &row.entry))
    }

    /// Run `f` on the vault holding the selected entry, with its name.
    fn with_current<T>(&self, f: impl FnOnce(&Vault, &str) -> T) -> Option<T> {
        let row = self.rows.get(self.selected)?;
        let name = row.entry.name.as_str();
        self.owner
            .read(|vaults| {
                let sv = vaults.iter().find(|v| v.scope == row.scope)?;
                Some(f(&sv.vault, name))
            })
            .ok()
            .flatten()
    }

    /// Start `work` off the UI task, saying what is going on meanwhile.
    fn start(&mut self, work: VaultWork, doing: &str) -> BrowserOutcome {
        self.working = true;
        self.status = Some(doing.to_string());
        BrowserOutcome::Work(work)
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

    fn reveal(&mut self) -> BrowserOutcome {
        let Some((scope, entry)) = self.current() else {
            return BrowserOutcome::None;
        };
        let work = VaultWork::reveal(&self.owner, scope, &entry.name);
        self.start(work, "revealing…")
    }

    fn copy(&mut self, now: Instant) -> BrowserOutcome {
        let Some((scope, entry)) = self.current() else {
            return BrowserOutcome::None;
        };
        let work = VaultWork::copy(&self.owner, scope, &entry.name, self.unix_at(now));
        self.start(work, "copying…")
    }

    fn delete_selected(&mut self) -> BrowserOutcome {
        let Some((scope, entry)) = self.current() else {
            return BrowserOutcome::None;
        };
        let work = VaultWork::delete(&self.owner, scope, &entry.name);
        self.start(work, "deleting…")
    }

    fn save_form(&mut self, data: FormData) -> BrowserOutcome {
        let name = data.name.clone();
        let work = VaultWork::save(&self.owner, data);
        self.start(work, &format!("saving {name}…"))
    }

    /// The work [`BrowserOutcome::Work`] asked for is done. Dropped if the browser was locked
    /// meanwhile (a revealed or copied secret with it).
    pub fn work_done(&mut self, done: WorkDone, now: Instant) -> BrowserOutcome {
        if self.locked {
            return BrowserOutcome::None;
        }
        self.working = false;
        self.status = None;
        match done {
            WorkDone::Revealed { name, result } => match result {
                Ok(secret) => {
                    self.revealed = Some((name, secret));
                    self.reveal_until = Some(now + REVEAL_FOR);
                    self.reveal_secs_left = REVEAL_FOR.as_secs();
                }
                Err(e) => self.status = Some(e),
            },
            WorkDone::Copied { name, result } => match result {
                Ok(text) => {
                    self.clipboard_until = Some(now + CLIPBOARD_CLEAR_AFTER);
                    self.status = Some(format!(
                        "copied {name}; clipboard clears in {} s",
                        CLIPBOARD_CLEAR_AFTER.as_secs()
                    ));
                    return BrowserOutcome::Copy(text);
                }
                Err(e) => self.status = Some(e),
            },
            WorkDone::Saved { name, result } => match result {
                Ok(()) => {
                    self.mode = Mode::List;
                    self.status = Some(format!("saved {name}"));
                    self.refresh_rows();
                    if let Some(i) = self.rows.iter().position(|r| r.entry.name == name) {
                        self.selected = i;
                    }
                }
                Err(e) => match &mut self.mode {
                    Mode::Form(f) => f.error = Some(e),
                    _ => self.status = Some(e),
                },
            },
            WorkDone::Deleted { name, result } => {
                self.status = Some(match result {
                    Ok(()) => format!("deleted {name}"),
                    Err(e) => e,
                });
                self.refresh_rows();
            }
        }
        self.refresh_totp(now);
        BrowserOutcome::None
    }

    fn refilter(&mut self, now: Instant) {
        self.refresh_rows();
        self.selected = 0;
        self.revealed = None;
        self.refresh_totp(now);
    }

    fn refresh_rows(&mut self) {
        let needle = self.filter.text().to_lowercase();
        let matches = |e: &Entry| {
            needle.is_empty()
                || e.name.to_lowercase().contains(&needle)
                || e.username
                    .as_deref()
                    .unwrap_or("")
                    .to_lowercase()
                    .contains(&needle)
                || e.tags.iter().any(|t| t.to_lowercase().contains(&needle))
                || e.hosts.iter().any(|h| h.to_lowercase().contains(&needle))
        };
        let rows = self.owner.read(|vaults: &[ScopedVault]| {
            vaults
                .iter()
                .flat_map(|sv| sv.vault.entries().map(move |e| (sv.scope, e)))
                .filter(|(_, e)| matches(e))
                .map(|(scope, e)| Row {
                    scope,
                    entry: e.without_secrets(),
                })
                .collect::<Vec<_>>()
        });
        match rows {
            Ok(rows) => self.rows = rows,
            Err(_) => {
                self.forget();
            }
        }
        self.selected = self.selected.min(self.rows.len().saturating_sub(1));
    }

    fn unix_at(&self, now: Instant) -> u64 {
        self.clock_base.1 + now.saturating_duration_since(self.clock_base.0).as_secs()
    }

    fn refresh_totp(&mut self, now: Instant) {
        let unix = self.unix_at(now);
        self.totp = self
            .with_current(|vault, name| {
                let is_totp = vault.get(name).ok()?.kind == Kind::Totp;
                is_totp.then(|| vault.totp_at(name, unix).ok()).flatten()
            })
            .flatten();
    }
}
