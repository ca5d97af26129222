//! Your own key as a team member: an OpenSSH `ssh-ed25519`/`ssh-rsa` private key file (asked
//! for its passphrase when it has one) or an age `AGE-SECRET-KEY-1…` file. It decrypts
//! `key.age` and (SSH keys) signs members. An ssh-agent cannot serve: it only signs.

use super::error::TeamError;
use super::members::normalize_key;
use russh::keys::ssh_key::{LineEnding, PrivateKey};
use secrecy::{ExposeSecret, SecretString};
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

const MAX_KEY_FILE: u64 = 64 * 1024;

/// A member's private key, decrypted in memory.
pub struct MyKey {
    /// The member key line as `members.toml` holds it.
    pub public: String,
    pub path: PathBuf,
    ssh: Option<PrivateKey>,
    age: Box<dyn age::Identity>,
}

impl std::fmt::Debug for MyKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MyKey")
            .field("public", &self.public)
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

fn err(why: impl Into<String>) -> TeamError {
    TeamError::Identity { why: why.into() }
}

/// The public member key of a private key file, without asking for a passphrase (an OpenSSH
/// key keeps its public half in clear).
pub fn public_of(path: &Path) -> Result<String, TeamError> {
    let text = read(path)?;
    if let Some(line) = age_line(&text) {
        let id: age::x25519::Identity = line
            .parse()
            .map_err(|e| err(format!("{}: not an age identity: {e}", path.display())))?;
        return Ok(id.to_public().to_string());
    }
    let key = PrivateKey::from_openssh(text.as_str()).map_err(|e| {
        err(format!(
            "{}: not an OpenSSH private key: {e}",
            path.display()
        ))
    })?;
    let line = key
        .public_key()
        .to_openssh()
        .map_err(|e| err(format!("{}: {e}", path.display())))?;
    normalize_key(&line).map_err(|why| err(format!("{}: {why}", path.display())))
}

impl MyKey {
    /// Load and decrypt `path`; `passphrase` is asked only if the key is encrypted.
    pub fn load(
        path: &Path,
        passphrase: impl FnOnce(&str) -> anyhow::Result<SecretString>,
    ) -> Result<MyKey, TeamError> {
        let text = read(path)?;
        if let Some(line) = age_line(&text) {
            let id: age::x25519::Identity = line
                .parse()
                .map_err(|e| err(format!("{}: not an age identity: {e}", path.display())))?;
            return Ok(MyKey {
                public: id.to_public().to_string(),
                path: path.to_path_buf(),
                ssh: None,
                age: Box::new(id),
            });
        }
        let mut key = PrivateKey::from_openssh(text.as_str()).map_err(|e| {
            err(format!(
                "{}: not an OpenSSH private key: {e}",
                path.display()
            ))
        })?;
        if key.is_encrypted() {
            let prompt = format!("passphrase for your key {}: ", path.display());
            let pass = passphrase(&prompt).map_err(|e| err(e.to_string()))?;
            key = key
                .decrypt(pass.expose_secret().as_bytes())
                .map_err(|_| err(format!("wrong passphrase for {}", path.display())))?;
        }
        MyKey::from_private_key(key, path)
    }

    /// A decrypted SSH private key held elsewhere (an SSH key entry of your personal vault),
    /// named `label` in messages. It stays in memory.
    pub fn from_private_key(key: PrivateKey, label: &Path) -> Result<MyKey, TeamError> {
        let public = key
            .public_key()
            .to_openssh()
            .map_err(|e| err(e.to_string()))
            .and_then(|l| {
                normalize_key(&l).map_err(|why| err(format!("{}: {why}", label.display())))
            })?;
        let clear = Zeroizing::new(
            key.to_openssh(LineEnding::LF)
                .map_err(|e| err(e.to_string()))?
                .to_string(),
        );
        let id = age::ssh::Identity::from_buffer(clear.as_bytes(), None)
            .map_err(|e| err(format!("{}: {e}", label.display())))?;
        if !matches!(id, age::ssh::Identity::Unencrypted(_)) {
            return Err(err(format!(
                "{}: age cannot decrypt with this kind of key",
                label.display()
            )));
        }
        Ok(MyKey {
            public,
            path: label.to_path_buf(),
            ssh: Some(key),
            age: Box::new(id),
        })
    }

    pub fn age_identity(&self) -> &dyn age::Identity {
        self.age.as_ref()
    }

    /// The SSH key that signs members, or why there is none.
    pub fn signer(&self) -> Result<&PrivateKey, TeamError> {
        self.ssh.as_ref().ok_or_else(|| {
            err(format!(
                "{} is an age key, which cannot sign members; use your SSH key (--identity)",
                self.path.display()
            ))
        })
    }
}

/// Default keys tried, in order, under `~/.ssh`.
const DEFAULT_KEYS: [&str; 2] = ["id_ed25519", "id_rsa"];

/// Your key file: `explicit`, else the first of `~/.ssh/id_ed25519`, `id_rsa` whose public
/// half `is_member` accepts (or simply exists, when `is_member` is `None`).
pub fn find(
    explicit: Option<&Path>,
    home: Option<&Path>,
    is_member: Option<&dyn Fn(&str) -> bool>,
) -> Result<PathBuf, TeamError> {
    if let Some(p) = explicit {
        return Ok(p.to_path_buf());
    }
    let candidates: Vec<PathBuf> = home
        .map(|h| {
            DEFAULT_KEYS
                .iter()
                .map(|k| h.join(".ssh").join(k))
                .collect()
        })
        .unwrap_or_default();
    let existing: Vec<&PathBuf> = candidates.iter().filter(|p| p.exists()).collect();
    for p in &existing {
        match is_member {
            None => return Ok((*p).clone()),
            Some(f) if public_of(p).is_ok_and(|k| f(&k)) => return Ok((*p).clone()),
            Some(_) => {}
        }
    }
    let agent = std::env::var_os("SSH_AUTH_SOCK").is_some();
    let mut why = if existing.is_empty() {
        "no private key found (~/.ssh/id_ed25519 or ~/.ssh/id_rsa)".to_string()
    } else {
        "none of your keys in ~/.ssh is a member of this team".to_string()
    };
    if agent {
        why.push_str(
            "; an ssh-agent is running, but an agent can only sign, not decrypt, so it cannot \
             open the team key",
        );
    }
    why.push_str("; give your private key file with --identity FILE");
    Err(err(why))
}

fn read(path: &Path) -> Result<Zeroizing<String>, TeamError> {
    let bytes = Zeroizing::new(
        crate::text::read_capped(path, MAX_KEY_FILE)
            .map_err(|e| err(format!("cannot read your key {}: {e}", path.display())))?,
    );
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| err(format!("{} is not a key file", path.display())))?;
    Ok(Zeroizing::new(text.to_string()))
}

fn age_line(text: &str) -> Option<&str> {
    text.lines()
        .map(str::trim)
        .find(|l| l.starts_with("AGE-SECRET-KEY-1"))
}
