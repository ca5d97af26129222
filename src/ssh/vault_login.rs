//! The vault as a login [`Credentials`] source: a host's `credential` entry supplies its
//! password or private key, the TOTP entry bound to the host answers one-time-code prompts.
//! Every use is audited by the vault (`auth`); secrets leave it only for one login.
//!
//! The app shares its unlocked vaults through a [`VaultCredentials`] handle (`put` on unlock,
//! `clear` on lock). When a login needs the vault while it is locked, the handle sends an
//! [`UnlockRequest`] the app answers by showing its unlock dialog, `put`ting the vaults and
//! replying; a dropped request means "stay locked" and the login asks the user instead.

use super::credentials::{CredentialFuture, Credentials, Secret};
use crate::vault::{Action, Kind, Vault, VaultError};
use secrecy::SecretString;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, oneshot};

/// "Unlock the vault, then reply." Reply `true` once unlocked; drop it to stay locked.
pub type UnlockRequest = oneshot::Sender<bool>;

/// How many unlock requests may wait for the app.
pub const UNLOCK_QUEUE: usize = 4;

/// Shared unlocked vaults (personal, workspace) for SSH logins. Cheap to clone.
#[derive(Clone, Default)]
pub struct VaultCredentials {
    vaults: Arc<Mutex<Vec<Vault>>>,
    unlock: Option<mpsc::Sender<UnlockRequest>>,
    /// Inventory host name → its groups, for entries bound to `@group`.
    groups: Arc<HashMap<String, Vec<String>>>,
}

impl std::fmt::Debug for VaultCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let open = self.vaults.lock().map(|v| v.len()).unwrap_or(0);
        f.debug_struct("VaultCredentials")
            .field("unlocked_vaults", &open)
            .finish_non_exhaustive()
    }
}

impl VaultCredentials {
    /// A handle with no vault open and no way to unlock (logins fall back to asking).
    pub fn new() -> Self {
        Self::default()
    }

    /// A handle that asks the app to unlock through the returned receiver.
    pub fn with_unlock() -> (Self, mpsc::Receiver<UnlockRequest>) {
        let (tx, rx) = mpsc::channel(UNLOCK_QUEUE);
        let handle = Self {
            unlock: Some(tx),
            ..Self::default()
        };
        (handle, rx)
    }

    /// Host groups from the inventory, so entries bound to `@group` apply.
    pub fn with_groups(mut self, inventory: &crate::workspace::Inventory) -> Self {
        let groups = inventory
            .hosts
            .iter()
            .map(|h| (h.name.clone(), h.groups.clone()))
            .collect();
        self.groups = Arc::new(groups);
        self
    }

    /// The app unlocked: logins may read these vaults.
    pub fn put(&self, vaults: Vec<Vault>) {
        if let Ok(mut v) = self.vaults.lock() {
            *v = vaults;
        }
    }

    /// The app locked: drop the vaults (wiping their keys).
    pub fn clear(&self) {
        if let Ok(mut v) = self.vaults.lock() {
            v.clear();
        }
    }

    pub fn is_unlocked(&self) -> bool {
        self.vaults.lock().is_ok_and(|v| !v.is_empty())
    }

    /// Ask the app to unlock when locked. False when it stays locked.
    async fn ensure_unlocked(&self) -> bool {
        if self.is_unlocked() {
            return true;
        }
        let Some(tx) = &self.unlock else {
            return false;
        };
        let (reply, answer) = oneshot::channel();
        if tx.send(reply).await.is_err() {
            return false;
        }
        answer.await.unwrap_or(false) && self.is_unlocked()
    }

    fn groups_of(&self, host: &str) -> &[String] {
        self.groups.get(host).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Run `f` on the first vault holding `entry`.
    fn with_entry<T>(
        &self,
        entry: &str,
        f: impl FnOnce(&Vault) -> Result<T, VaultError>,
    ) -> Result<T, String> {
        let vaults = self
            .vaults
            .lock()
            .map_err(|_| "the vault is unavailable".to_string())?;
        let vault = vaults
            .iter()
            .find(|v| v.get(entry).is_ok())
            .ok_or_else(|| {
                format!("no vault entry named {entry:?}; check the host's credential")
            })?;
        f(vault).map_err(|e| e.to_string())
    }

    fn lookup_secret(&self, entry: &str, host: &str) -> Result<Option<Secret>, String> {
        let groups = self.groups_of(host).to_vec();
        self.with_entry(entry, |vault| {
            let kind = vault.get(entry)?.kind;
            match kind {
                Kind::SshKey => Ok(Some(Secret::PrivateKey(Box::new(
                    vault.private_key(entry, host)?,
                )))),
                Kind::Password => Ok(Some(Secret::Password(vault.secret_for_host(
                    entry,
                    Action::Auth,
                    host,
                    &groups,
                )?))),
                // A TOTP entry as the credential: it answers codes only.
                _ => Ok(None),
            }
        })
    }

    /// The TOTP entry for `host`: `entry` when it is one, else one bound to the host.
    fn totp_entry(&self, entry: Option<&str>, host: &str) -> Option<String> {
        let vaults = self.vaults.lock().ok()?;
        if let Some(name) = entry
            && vaults
                .iter()
                .any(|v| v.get(name).is_ok_and(|e| e.kind == Kind::Totp))
        {
            return Some(name.to_string());
        }
        let groups = self.groups_of(host);
        let bound = |hosts: &[String]| {
            hosts.iter().any(|h| {
                h == host
                    || h.strip_prefix('@')
                        .is_some_and(|g| groups.iter().any(|x| x == g))
            })
        };
        vaults.iter().find_map(|v| {
            v.entries()
                .find(|e| e.kind == Kind::Totp && bound(&e.hosts))
                .map(|e| e.name.clone())
        })
    }

    fn lookup_code(&self, entry: Option<&str>, host: &str) -> Result<Option<SecretString>, String> {
        let Some(name) = self.totp_entry(entry, host) else {
            return Ok(None);
        };
        let groups = self.groups_of(host).to_vec();
        self.with_entry(&name, |vault| {
            // Checks the binding and audits the use; the seed itself is dropped at once.
            drop(vault.secret_for_host(&name, Action::Auth, host, &groups)?);
            Ok(Some(SecretString::from(vault.totp_now(&name)?.code)))
        })
    }
}

impl Credentials for VaultCredentials {
    fn secret<'a>(
        &'a self,
        entry: &'a str,
        host: &'a str,
    ) -> CredentialFuture<'a, Result<Option<Secret>, String>> {
        Box::pin(async move {
            if !self.ensure_unlocked().await {
                return Ok(None);
            }
            self.lookup_secret(entry, host)
        })
    }

    fn one_time_code<'a>(
        &'a self,
        entry: Option<&'a str>,
        host: &'a str,
    ) -> CredentialFuture<'a, Result<Option<SecretString>, String>> {
        Box::pin(async move {
            if !self.ensure_unlocked().await {
                return Ok(None);
            }
            self.lookup_code(entry, host)
        })
    }
}
