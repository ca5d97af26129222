//! Vault entries: kinds, names, metadata, and the (JSON, then encrypted) payload they live in.

use super::error::{Result, VaultError};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;
use zeroize::Zeroizing;

/// What an entry holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    Password,
    SshKey,
    Totp,
    ApiKey,
    Note,
}

impl Kind {
    pub const ALL: [Kind; 5] = [
        Kind::Password,
        Kind::SshKey,
        Kind::Totp,
        Kind::ApiKey,
        Kind::Note,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Password => "password",
            Kind::SshKey => "ssh-key",
            Kind::Totp => "totp",
            Kind::ApiKey => "api-key",
            Kind::Note => "note",
        }
    }
}

impl std::str::FromStr for Kind {
    type Err = VaultError;
    fn from_str(s: &str) -> Result<Kind> {
        Kind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| VaultError::BadKind { kind: s.into() })
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One credential. Metadata is public to the program (lists, search); `secret` and
/// `key_passphrase` are only reachable through [`super::Vault::secret`], which audits.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    pub name: String,
    pub kind: Kind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Hosts or `@group`s the entry may be used with; `*` means any host.
    #[serde(default)]
    pub hosts: Vec<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub notes: String,
    /// For `api-key`: the provider (anthropic, openai, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// For `ssh-key`: derived OpenSSH public key and SHA256 fingerprint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// Unix seconds.
    pub created: i64,
    pub updated: i64,
    #[serde(serialize_with = "ser_secret", deserialize_with = "de_secret")]
    pub(crate) secret: SecretString,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "ser_opt_secret",
        deserialize_with = "de_opt_secret"
    )]
    pub(crate) key_passphrase: Option<SecretString>,
}

impl Entry {
    /// A copy with the metadata only: secret and key passphrase empty. What lists and detail
    /// views keep, so locking never leaves a decrypted secret behind in them.
    pub fn without_secrets(&self) -> Entry {
        Entry {
            secret: SecretString::from(String::new()),
            key_passphrase: None,
            ..self.clone()
        }
    }

    /// Whether the entry may be used with `host`, a member of `groups`: bound to the host by
    /// name, to one of its groups as `@group`, or to any host as `*`.
    pub fn is_bound_to(&self, host: &str, groups: &[String]) -> bool {
        self.hosts.iter().any(|h| {
            h == "*"
                || h == host
                || h.strip_prefix('@')
                    .is_some_and(|g| groups.iter().any(|x| x == g))
        })
    }
}

/// What a caller supplies to add or replace an entry's content.
#[derive(Debug, Default)]
pub struct NewEntry {
    pub kind: Option<Kind>,
    pub username: Option<String>,
    pub hosts: Option<Vec<String>>,
    pub tags: Option<Vec<String>>,
    pub notes: Option<String>,
    pub provider: Option<String>,
    pub secret: Option<SecretString>,
    /// Passphrase of an encrypted private key (ssh-key only).
    pub key_passphrase: Option<SecretString>,
}

/// Names: 1-128 of letters, digits, `.`, `_`, `-`, `/`.
pub fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 128
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/'));
    if ok {
        Ok(())
    } else {
        Err(VaultError::BadName {
            name: name.chars().take(64).collect(),
        })
    }
}

/// The decrypted payload.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Payload {
    pub entries: BTreeMap<String, Entry>,
}

impl Payload {
    /// JSON in a buffer wiped on drop.
    pub fn encode(&self) -> Result<Zeroizing<Vec<u8>>> {
        let mut out = Zeroizing::new(Vec::with_capacity(4096));
        serde_json::to_writer(&mut *out, self).map_err(|e| {
            VaultError::io("encoding the vault", std::io::Error::other(e.to_string()))
        })?;
        Ok(out)
    }

    /// Parse a decrypted payload. Authenticated bytes that do not parse mean a damaged writer,
    /// reported as a corrupt file. The serde error is not shown: it could quote a secret.
    pub fn decode(path: &std::path::Path, bytes: &[u8]) -> Result<Payload> {
        let payload: Payload = serde_json::from_slice(bytes).map_err(|_| VaultError::Tampered {
            path: path.to_path_buf(),
            what: "payload does not parse",
        })?;
        for (key, e) in &payload.entries {
            if key != &e.name || check_name(key).is_err() {
                return Err(VaultError::Tampered {
                    path: path.to_path_buf(),
                    what: "entry name mismatch",
                });
            }
        }
        Ok(payload)
    }
}

fn ser_secret<S: Serializer>(s: &SecretString, ser: S) -> Result<S::Ok, S::Error> {
    ser.serialize_str(s.expose_secret())
}

fn de_secret<'de, D: Deserializer<'de>>(de: D) -> Result<SecretString, D::Error> {
    let s = Zeroizing::new(String::deserialize(de)?);
    Ok(SecretString::from(s.as_str()))
}

fn ser_opt_secret<S: Serializer>(s: &Option<SecretString>, ser: S) -> Result<S::Ok, S::Error> {
    match s {
        Some(s) => ser.serialize_some(s.expose_secret()),
        None => ser.serialize_none(),
    }
}

fn de_opt_secret<'de, D: Deserializer<'de>>(de: D) -> Result<Option<SecretString>, D::Error> {
    let s: Option<Zeroizing<String>> = Option::deserialize(de)?.map(Zeroizing::new);
    Ok(s.map(|s| SecretString::from(s.as_str())))
}
