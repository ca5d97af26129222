//! The one owner of the unlocked vaults. One unlock derives each file's key once; the vault
//! browser, SSH logins and (later) the copilot's placeholders and redaction all ask this owner,
//! so locking drops every decrypted copy at once. "Locked" is a state callers handle, never a
//! panic or an empty answer.

use super::{Scope, Vault, VaultError};
use secrecy::SecretString;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

/// An unlocked vault and which scope it is.
#[derive(Debug)]
pub struct ScopedVault {
    pub scope: Scope,
    pub vault: Vault,
}

/// The answer of a request made while the vaults are locked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the vault is locked; unlock it first (prefix v, or the dialog a login shows)")]
pub struct Locked;

/// "Unlock the vault, then reply." Reply `true` once unlocked; drop it to stay locked.
pub type UnlockRequest = oneshot::Sender<bool>;

/// Where unlock requests go (the app shows its dialog for them).
type UnlockSink = Arc<dyn Fn(UnlockRequest) + Send + Sync>;

#[derive(Default)]
struct State {
    open: Option<Vec<ScopedVault>>,
}

/// A cheap handle to the one owner. Clone it into the app, the spawner and logins.
#[derive(Clone)]
pub struct VaultOwner {
    files: Arc<Vec<(Scope, PathBuf)>>,
    state: Arc<Mutex<State>>,
    /// Whether `state` holds open vaults, readable without waiting for the lock (which a
    /// save or an audited read off the UI task may hold a while).
    open: Arc<AtomicBool>,
    /// Bumped on every unlock, lock and change, so a reader (the session recorder) knows
    /// when the values it masks went stale.
    generation: Arc<std::sync::atomic::AtomicU64>,
    unlock_sink: Option<UnlockSink>,
    /// The home whose `~/.ssh` keys may open the team vault (None: only SSH key entries of
    /// the personal vault do).
    ssh_home: Option<Arc<PathBuf>>,
}

impl std::fmt::Debug for VaultOwner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VaultOwner")
            .field("files", &self.files)
            .field("unlocked", &self.is_unlocked())
            .finish()
    }
}

impl VaultOwner {
    /// An owner of these vault files (personal, workspace), locked.
    pub fn new(files: Vec<(Scope, PathBuf)>) -> Self {
        Self {
            files: Arc::new(files),
            state: Arc::default(),
            open: Arc::default(),
            generation: Arc::default(),
            unlock_sink: None,
            ssh_home: None,
        }
    }

    /// The team vault may also open with your default key under `home`/.ssh.
    pub fn with_ssh_home(mut self, home: PathBuf) -> Self {
        self.ssh_home = Some(Arc::new(home));
        self
    }

    /// Logins that find the vault locked ask through `sink` (the app answers with its dialog).
    pub fn with_unlock_requests(
        mut self,
        sink: impl Fn(UnlockRequest) + Send + Sync + 'static,
    ) -> Self {
        self.unlock_sink = Some(Arc::new(sink));
        self
    }

    /// The vault files, by scope.
    pub fn files(&self) -> &[(Scope, PathBuf)] {
        &self.files
    }

    /// Whether any vault file exists (else "create one with lumen vault init").
    pub fn any_exists(&self) -> bool {
        self.files.iter().any(|(_, p)| p.exists())
    }

    /// Changes whenever the open vaults or their entries may have changed.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    fn bump(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    pub fn is_unlocked(&self) -> bool {
        self.open.load(Ordering::SeqCst)
    }

    /// Open every vault file that exists with one passphrase: one key derivation per file,
    /// once. Blocking (Argon2id): run it off the UI thread. Files the passphrase does not open
    /// are named only when none opens; a damaged file is always an error. Returns what the
    /// user must hear about the opened vaults (an out-of-step audit log, an old format).
    pub fn unlock(&self, pass: &SecretString) -> Result<Vec<String>, String> {
        let mut opened: Vec<ScopedVault> = Vec::new();
        let mut wrong = false;
        let mut team_note = None;
        for (scope, path) in self.files.iter().filter(|(_, p)| p.exists()) {
            if *scope == Scope::Team {
                // Opened with your own key: an SSH key entry of the personal vault that is a
                // member, else your default `~/.ssh` key. A key it cannot open leaves the
                // others unlocked.
                let personal = opened.iter().find(|sv| sv.scope == Scope::Personal);
                let from_entry = match personal {
                    Some(sv) => super::team::open_with_vault_key(path, &sv.vault).transpose(),
                    None => None,
                };
                let home = self.ssh_home.as_deref().map(PathBuf::as_path);
                match from_entry
                    .unwrap_or_else(|| super::team::open_with_default_key(path, pass, home))
                {
                    Ok(vault) => opened.push(ScopedVault {
                        scope: *scope,
                        vault,
                    }),
                    Err(e) => team_note = Some(format!("team vault: not opened: {e}")),
                }
                continue;
            }
            match Vault::open(path, pass) {
                Ok(vault) => opened.push(ScopedVault {
                    scope: *scope,
                    vault,
                }),
                Err(VaultError::WrongPassphrase { .. }) => wrong = true,
                Err(e) => return Err(e.to_string()),
            }
        }
        if opened.is_empty() {
            return Err(if wrong {
                "wrong passphrase".into()
            } else if let Some(note) = team_note {
                note
            } else {
                "no vault yet: create one with `lumen vault init`".into()
            });
        }
        let notices = opened
            .iter()
            .flat_map(|sv| {
                sv.vault
                    .notices()
                    .iter()
                    .map(move |n| format!("{} vault: {n}", sv.scope.as_str()))
            })
            .chain(team_note)
            .collect();
        let mut state = self
            .state
            .lock()
            .map_err(|_| "the vault is unavailable".to_string())?;
        state.open = Some(opened);
        self.open.store(true, Ordering::SeqCst);
        self.bump();
        Ok(notices)
    }

    /// Put already opened vaults in the owner (tests, and callers that opened them otherwise).
    pub fn put(&self, vaults: Vec<ScopedVault>) {
        if let Ok(mut s) = self.state.lock() {
            s.open = Some(vaults);
            self.open.store(true, Ordering::SeqCst);
            self.bump();
        }
    }

    /// Drop every decrypted vault (their keys are wiped on drop). Returns whether any was open.
    pub fn lock(&self) -> bool {
        self.state
            .lock()
            .map(|mut s| {
                self.open.store(false, Ordering::SeqCst);
                self.bump();
                s.open.take().is_some()
            })
            .unwrap_or(false)
    }

    /// Read the unlocked vaults.
    pub fn read<T>(&self, f: impl FnOnce(&[ScopedVault]) -> T) -> Result<T, Locked> {
        let state = self.state.lock().map_err(|_| Locked)?;
        state.open.as_deref().map(f).ok_or(Locked)
    }

    /// Change the unlocked vaults (add, edit, delete and save entries).
    pub fn write<T>(&self, f: impl FnOnce(&mut [ScopedVault]) -> T) -> Result<T, Locked> {
        let mut state = self.state.lock().map_err(|_| Locked)?;
        self.bump();
        state.open.as_deref_mut().map(f).ok_or(Locked)
    }

    /// Run `f` on the first unlocked vault holding `entry`.
    pub fn with_entry<T>(
        &self,
        entry: &str,
        f: impl FnOnce(&Vault) -> super::Result<T>,
    ) -> Result<T, String> {
        self.read(|vaults| {
            let vault = vaults
                .iter()
                .map(|s| &s.vault)
                .find(|v| v.get(entry).is_ok())
                .ok_or_else(|| format!("no vault entry named {entry:?}"))?;
            f(vault).map_err(|e| e.to_string())
        })
        .map_err(|e| e.to_string())?
    }

    /// Ask the app to unlock when locked (a login needs a secret). False when it stays locked
    /// or nobody can ask.
    pub async fn ensure_unlocked(&self) -> bool {
        if self.is_unlocked() {
            return true;
        }
        if !self.any_exists() {
            return false;
        }
        let Some(sink) = &self.unlock_sink else {
            return false;
        };
        let (reply, answer) = oneshot::channel();
        sink(reply);
        answer.await.unwrap_or(false) && self.is_unlocked()
    }
}
