//! API keys: where config.toml says to find one, and the key itself, which never prints.

use super::ProviderError;
use secrecy::{ExposeSecret, SecretString};
use std::ffi::OsString;

/// `api_key = "vault:NAME"` or `api_key = "env:NAME"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// A vault `api-key` entry; the caller unlocks the vault and hands over its value.
    Vault(String),
    /// A named environment variable, read when the provider is set up.
    Env(String),
}

impl std::str::FromStr for KeySource {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        // The value is not echoed: it may be a key pasted by mistake.
        let bad = || {
            "api_key must be \"vault:NAME\" (a vault api-key entry) or \"env:NAME\" (an environment variable); a key itself never goes in config.toml".to_string()
        };
        let (scheme, name) = s.split_once(':').ok_or_else(bad)?;
        if name.is_empty() || name.chars().any(char::is_whitespace) {
            return Err(bad());
        }
        match scheme {
            "vault" => Ok(Self::Vault(name.to_string())),
            "env" => Ok(Self::Env(name.to_string())),
            _ => Err(bad()),
        }
    }
}

impl std::fmt::Display for KeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Vault(n) => write!(f, "vault:{n}"),
            Self::Env(n) => write!(f, "env:{n}"),
        }
    }
}

/// An API key. `Debug` prints `[redacted]`; the only way out is the auth header.
#[derive(Clone)]
pub struct ApiKey(SecretString);

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiKey([redacted])")
    }
}

impl From<SecretString> for ApiKey {
    fn from(s: SecretString) -> Self {
        Self(s)
    }
}

impl ApiKey {
    pub(crate) fn expose(&self) -> &str {
        self.0.expose_secret().trim()
    }

    /// The key `source` names: the vault's value (resolved by the caller) or the environment's.
    pub fn resolve(
        source: &KeySource,
        vault_value: Option<SecretString>,
    ) -> Result<Self, ProviderError> {
        Self::resolve_with(source, vault_value, |name| std::env::var_os(name))
    }

    /// As [`ApiKey::resolve`], reading variables through `env` (tests pass their own).
    pub fn resolve_with(
        source: &KeySource,
        vault_value: Option<SecretString>,
        env: impl Fn(&str) -> Option<OsString>,
    ) -> Result<Self, ProviderError> {
        match source {
            KeySource::Vault(name) => vault_value
                .map(Self)
                .ok_or_else(|| ProviderError::MissingVaultKey { name: name.clone() }),
            KeySource::Env(name) => env(name)
                .and_then(|v| v.into_string().ok())
                .filter(|v| !v.trim().is_empty())
                .map(|v| Self(SecretString::from(v)))
                .ok_or_else(|| ProviderError::MissingEnvKey { name: name.clone() }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_parse_and_reject_keys_pasted_inline() {
        assert_eq!(
            "vault:anthropic".parse(),
            Ok(KeySource::Vault("anthropic".into()))
        );
        assert_eq!(
            "env:OPENAI_API_KEY".parse(),
            Ok(KeySource::Env("OPENAI_API_KEY".into()))
        );
        for bad in ["sk-ant-abc", "vault:", "file:x", "env:A B"] {
            let e = bad.parse::<KeySource>().unwrap_err();
            assert!(e.contains("never goes in config.toml"), "{e}");
        }
    }

    #[test]
    fn keys_resolve_and_never_print() {
        let env = |n: &str| (n == "K").then(|| OsString::from("sk-env-1"));
        let k = ApiKey::resolve_with(&KeySource::Env("K".into()), None, env).unwrap();
        assert_eq!(k.expose(), "sk-env-1");
        assert_eq!(format!("{k:?}"), "ApiKey([redacted])");
        let e = ApiKey::resolve_with(&KeySource::Env("NOPE".into()), None, env).unwrap_err();
        assert!(matches!(e, ProviderError::MissingEnvKey { .. }), "{e}");
        let v = Some(SecretString::from("sk-vault-1"));
        let k = ApiKey::resolve_with(&KeySource::Vault("a".into()), v, env).unwrap();
        assert_eq!(k.expose(), "sk-vault-1");
        let e = ApiKey::resolve_with(&KeySource::Vault("a".into()), None, env).unwrap_err();
        assert!(e.to_string().contains("unlock the vault"), "{e}");
    }
}
