//! The vault as a login [`Credentials`] source: a host's `credential` entry supplies its
//! password or private key, the TOTP entry bound to the host answers one-time-code prompts.
//! Every use is audited by the vault (`auth`); secrets leave it only for one login.
//!
//! It reads the app's one [`VaultOwner`]. When a login needs the vault while it is locked, the
//! owner asks the app (an `UnlockRequest`), which shows its unlock dialog and replies; a
//! dropped request means "stay locked" and the login asks the user instead.

use super::credentials::{CredentialFuture, Credentials, Secret};
use crate::vault::{Action, Kind, VaultOwner};
use secrecy::SecretString;
use std::collections::HashMap;
use std::sync::Arc;

/// The vault as a login source. Cheap to clone. Reads the app's one [`VaultOwner`], so a
/// login never opens a vault of its own and locking in the app locks logins too.
#[derive(Clone)]
pub struct VaultCredentials {
    owner: VaultOwner,
    /// Inventory host name → its groups, for entries bound to `@group`.
    groups: Arc<HashMap<String, Vec<String>>>,
}

impl std::fmt::Debug for VaultCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VaultCredentials")
            .field("unlocked", &self.owner.is_unlocked())
            .finish_non_exhaustive()
    }
}

impl VaultCredentials {
    /// Logins read `owner`'s vaults (asking it to unlock when they are locked).
    pub fn new(owner: VaultOwner) -> Self {
        Self {
            owner,
            groups: Arc::default(),
        }
    }

    /// Host groups (inventory name → groups), so entries bound to `@group` apply.
    pub fn with_groups(mut self, groups: HashMap<String, Vec<String>>) -> Self {
        self.groups = Arc::new(groups);
        self
    }

    pub fn is_unlocked(&self) -> bool {
        self.owner.is_unlocked()
    }

    fn groups_of(&self, host: &str) -> &[String] {
        self.groups.get(host).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Run `f` on the first vault holding `entry`.
    fn with_entry<T>(
        &self,
        entry: &str,
        f: impl FnOnce(&crate::vault::Vault) -> crate::vault::Result<T>,
    ) -> Result<T, String> {
        self.owner
            .with_entry(entry, f)
            .map_err(|e| format!("{e}; check the host's credential"))
    }

    fn lookup_secret(&self, entry: &str, host: &str) -> Result<Option<Secret>, String> {
        let groups = self.groups_of(host).to_vec();
        self.with_entry(entry, |vault| {
            let kind = vault.get(entry)?.kind;
            match kind {
                Kind::SshKey => Ok(Some(Secret::PrivateKey(Box::new(
                    vault.private_key(entry, host, &groups)?,
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
        let groups = self.groups_of(host);
        let bound = |hosts: &[String]| {
            hosts.iter().any(|h| {
                h == host
                    || h.strip_prefix('@')
                        .is_some_and(|g| groups.iter().any(|x| x == g))
            })
        };
        self.owner
            .read(|vaults| {
                let vaults = || vaults.iter().map(|s| &s.vault);
                if let Some(name) = entry
                    && vaults().any(|v| v.get(name).is_ok_and(|e| e.kind == Kind::Totp))
                {
                    return Some(name.to_string());
                }
                vaults().find_map(|v| {
                    v.entries()
                        .find(|e| e.kind == Kind::Totp && bound(&e.hosts))
                        .map(|e| e.name.clone())
                })
            })
            .ok()
            .flatten()
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
            if !self.owner.ensure_unlocked().await {
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
            if !self.owner.ensure_unlocked().await {
                return Ok(None);
            }
            self.lookup_code(entry, host)
        })
    }
}
