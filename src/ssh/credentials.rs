//! Where login secrets come from before the user is asked: a [`Credentials`] source (the app
//! plugs in the unlocked vault) answers for a host's `credential` entry.
//!
//! The authentication code asks only while it authenticates and drops every secret right after;
//! the source audits each use. A locked vault is the source's business: it shows its unlock
//! dialog (through the app) before answering, or answers `Ok(None)` to fall back to prompts.

use secrecy::SecretString;
use std::future::Future;
use std::pin::Pin;

/// A boxed future, so [`Credentials`] stays object-safe.
pub type CredentialFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A secret from a credential entry, zeroized when dropped.
pub enum Secret {
    /// A login password.
    Password(SecretString),
    /// A private key in OpenSSH (or PEM) text form, with its passphrase if it has one.
    PrivateKey {
        text: SecretString,
        passphrase: Option<SecretString>,
    },
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Secret::Password(_) => "Secret::Password(..)",
            Secret::PrivateKey { .. } => "Secret::PrivateKey(..)",
        })
    }
}

/// A source of login secrets, looked up by the inventory's `credential` name.
///
/// `host` is the host being logged into (for the audit trail and host binding). An `Err` is a
/// message for the status bar (never containing a secret); the login then falls back to asking.
pub trait Credentials: Send + Sync {
    /// The password or private key held by `entry`.
    fn secret<'a>(
        &'a self,
        entry: &'a str,
        host: &'a str,
    ) -> CredentialFuture<'a, Result<Option<Secret>, String>>;

    /// The current one-time code (TOTP) of the entry bound to `host`.
    fn one_time_code<'a>(
        &'a self,
        entry: &'a str,
        host: &'a str,
    ) -> CredentialFuture<'a, Result<Option<SecretString>, String>>;
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
