//! Where login secrets come from before the user is asked: a [`Credentials`] source (the app
//! plugs in the unlocked vault) answers for a host's `credential` entry.
//!
//! The authentication code asks only while it authenticates and drops every secret right after;
//! the source audits each use. A locked vault is the source's business: it shows its unlock
//! dialog (through the app) before answering, or answers `Ok(None)` to fall back to prompts.

use super::target::{ConnectOptions, Target};
use secrecy::SecretString;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// A boxed future, so [`Credentials`] stays object-safe.
pub type CredentialFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A secret from a credential entry, zeroized when dropped.
pub enum Secret {
    /// A login password.
    Password(SecretString),
    /// A decrypted private key (its key material is zeroized when dropped).
    PrivateKey(Box<russh::keys::PrivateKey>),
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Secret::Password(_) => "Secret::Password(..)",
            Secret::PrivateKey(_) => "Secret::PrivateKey(..)",
        })
    }
}

/// A source of login secrets, looked up by the inventory's `credential` name.
///
/// `host` is the host being logged into as the user names it (inventory name or alias, for the
/// audit trail and the entry's host binding). An `Err` is a
/// message for the status bar (never containing a secret); the login then falls back to asking.
pub trait Credentials: Send + Sync {
    /// The password or private key held by `entry`.
    fn secret<'a>(
        &'a self,
        entry: &'a str,
        host: &'a str,
    ) -> CredentialFuture<'a, Result<Option<Secret>, String>>;

    /// The current one-time code (TOTP) for `host`: from `entry` when it is a TOTP entry, else
    /// from the TOTP entry bound to `host`.
    fn one_time_code<'a>(
        &'a self,
        entry: Option<&'a str>,
        host: &'a str,
    ) -> CredentialFuture<'a, Result<Option<SecretString>, String>>;
}

/// Keyboard-interactive rounds the source may answer in one login (a wrong code is not
/// retried forever).
const MAX_SOURCE_ROUNDS: u8 = 3;

/// The credential source for one authentication: asked lazily, secrets dropped with it.
pub(crate) struct SourceLogin {
    source: Arc<dyn Credentials>,
    entry: Option<String>,
    host: String,
    /// None: not fetched yet.
    secret: Option<Option<Secret>>,
    rounds: u8,
    pub warnings: Vec<String>,
}

impl SourceLogin {
    pub(crate) fn new(opts: &ConnectOptions, target: &Target) -> Option<Self> {
        Some(Self {
            source: opts.credentials.clone()?,
            entry: opts.credential.clone(),
            host: opts
                .host_alias
                .clone()
                .unwrap_or_else(|| target.host.clone()),
            secret: None,
            rounds: 0,
            warnings: Vec::new(),
        })
    }

    async fn fetch(&mut self) -> &mut Option<Secret> {
        if self.secret.is_none() {
            let got = match &self.entry {
                Some(entry) => match self.source.secret(entry, &self.host).await {
                    Ok(s) => s,
                    Err(e) => {
                        self.warnings.push(format!("credential {entry}: {e}"));
                        None
                    }
                },
                None => None,
            };
            self.secret = Some(got);
        }
        self.secret.get_or_insert(None)
    }

    /// The entry's private key, handed over once.
    pub(crate) async fn private_key(&mut self) -> Option<russh::keys::PrivateKey> {
        let slot = self.fetch().await;
        match slot.take() {
            Some(Secret::PrivateKey(key)) => Some(*key),
            other => {
                *slot = other;
                None
            }
        }
    }

    /// The entry's password, handed over once.
    pub(crate) async fn password(&mut self) -> Option<SecretString> {
        let slot = self.fetch().await;
        match slot.take() {
            Some(Secret::Password(p)) => Some(p),
            other => {
                *slot = other;
                None
            }
        }
    }

    /// Answers for a keyboard-interactive round when every prompt is a one-time code or the
    /// password; None when the user must answer.
    pub(crate) async fn answers(
        &mut self,
        prompts: &[(String, bool)],
    ) -> Option<Vec<SecretString>> {
        if prompts.is_empty() || self.rounds >= MAX_SOURCE_ROUNDS {
            return None;
        }
        if !prompts
            .iter()
            .all(|(p, _)| asks_for_code(p) || asks_for_password(p))
        {
            return None;
        }
        self.rounds += 1;
        let mut out = Vec::with_capacity(prompts.len());
        for (prompt, _) in prompts {
            let answer = if asks_for_code(prompt) {
                match self
                    .source
                    .one_time_code(self.entry.as_deref(), &self.host)
                    .await
                {
                    Ok(code) => code,
                    Err(e) => {
                        self.warnings
                            .push(format!("one-time code for {}: {e}", self.host));
                        None
                    }
                }
            } else {
                match self.fetch().await {
                    Some(Secret::Password(p)) => Some(p.clone()),
                    _ => None,
                }
            };
            out.push(answer?);
        }
        Some(out)
    }
}

/// Whether a keyboard-interactive prompt asks for a one-time code (`Verification code:`,
/// `OTP`, `Token`, …) rather than a password.
pub fn asks_for_code(prompt: &str) -> bool {
    let p = prompt.to_ascii_lowercase();
    [
        "code",
        "token",
        "otp",
        "verification",
        "one-time",
        "2fa",
        "totp",
    ]
    .iter()
    .any(|w| p.contains(w))
}

/// Whether a keyboard-interactive prompt asks for the password.
pub fn asks_for_password(prompt: &str) -> bool {
    let p = prompt.to_ascii_lowercase();
    p.contains("password") && !asks_for_code(prompt)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_prompts() {
        for p in [
            "Verification code: ",
            "OTP: ",
            "Token code:",
            "Enter one-time password",
        ] {
            assert!(asks_for_code(p), "{p}");
            assert!(!asks_for_password(p), "{p}");
        }
        assert!(asks_for_password("Password: "));
        assert!(!asks_for_code("Password: "));
        assert!(!asks_for_code("Continue? "));
    }
}
