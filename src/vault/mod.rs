//! The encrypted vault: file format, KDF + AEAD, entries, audit log, placeholder substitution.
//!
//! ```no_run
//! # use lumen::vault::{Vault, KdfParams};
//! # use secrecy::SecretString;
//! let pass = SecretString::from("correct horse");
//! let vault = Vault::open("vault.lumen".as_ref(), &pass)?;
//! let cmd = vault.substitute_placeholders("mysql -p{{vault:db/root}}", "db1", &[])?;
//! # Ok::<(), lumen::vault::VaultError>(())
//! ```
//! Opening also checks the audit log against the vault (`integrity.rs`): an older vault file is
//! an error, other problems are [`Vault::notices`] for the front end to show.
//! Nothing here draws or prints; the CLI (`src/cli/vault.rs`) and the browser pane
//! (`src/panes/vault/`) are the front ends.

mod audit;
mod entry;
mod error;
pub mod format;
mod integrity;
mod logfile;
mod otp;
mod owner;
mod persist;
mod placeholders;
mod sshkey;
mod store;
pub mod team;

pub use audit::{Action, AuditLog, Event, Seal};
pub use entry::{Entry, Kind, NewEntry, Payload, check_name};
pub use error::{Result, VaultError};
pub use format::KdfParams;
pub use integrity::{AuditProblem, REMEDY};
pub use otp::{TotpCode, unix_now};
pub use owner::{Locked, ScopedVault, UnlockRequest, VaultOwner};
pub use persist::{AuditReport, Notice};
pub use placeholders::placeholder;
pub use sshkey::{KeyInfo, KeyType, generate_key};
pub use store::{TEST_HOOK_ENV, lock_path};

use audit::AuditKey;
use format::{Header, Key};
use logfile::{LogFile, NewEvent};
use secrecy::{ExposeSecret, SecretString};
use std::path::{Path, PathBuf};
use store::WriteLock;

/// Which vault an entry comes from: the workspace's shared file or the user's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    Personal,
    Workspace,
    /// The workspace's team vault (`team/` in the workspace folder), opened with your own key.
    Team,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Personal => "personal",
            Scope::Workspace => "workspace",
            Scope::Team => "team",
        }
    }
}

/// An unlocked vault. Dropping it wipes the data key and every decrypted secret.
pub struct Vault {
    path: PathBuf,
    /// The header the next save writes (always the current format once unlocked).
    header: Header,
    data_key: Key,
    /// Seals the audit log's events (derived from the data key).
    audit_key: AuditKey,
    payload: Payload,
    /// Digest of the file as we last read or wrote it; a save refuses if the disk differs.
    on_disk: Option<[u8; 32]>,
    /// Format of the file on disk: 1 until the first save upgrades it.
    on_disk_version: u16,
    lock: Option<WriteLock>,
    audit: AuditLog,
    /// Events recorded by the next successful save (add, edit, delete, passwd).
    pending: Vec<(String, Action)>,
    /// What opening (or creating) found that the user should hear about.
    notices: Vec<Notice>,
    /// Set for a team vault: its members, keys and folder; saving writes entry files.
    team: Option<Box<team::TeamState>>,
}

/// Names and metadata only: the data key and secrets print as `[redacted]`.
impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault")
            .field("path", &self.path)
            .field("kdf", &self.header.kdf)
            .field("data_key", &"[redacted]")
            .field("entries", &self.payload.entries.keys().collect::<Vec<_>>())
            .field("locked_for_write", &self.lock.is_some())
            .finish()
    }
}

impl Vault {
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn kdf(&self) -> KdfParams {
        self.header.kdf
    }

    pub fn audit_log(&self) -> &AuditLog {
        &self.audit
    }

    /// What opening found that the user should hear about: an old file format, a problem with
    /// the audit log (changes are refused until it is fixed or accepted), a log set aside.
    pub fn notices(&self) -> &[Notice] {
        &self.notices
    }

    /// Seal and append one event for a use of an entry (no save needed).
    fn append(&self, name: Option<&str>, action: Action, host: Option<&str>) -> Result<()> {
        let mut log = LogFile::open_for_append(self.audit.path())?;
        let mut event = NewEvent::new(action, name, host);
        event.member = self.team_member().map(str::to_string);
        log.append(&self.audit_key, event)
    }

    /// All entries, sorted by name. Metadata only; secrets need [`Vault::secret`].
    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.payload.entries.values()
    }

    pub fn get(&self, name: &str) -> Result<&Entry> {
        self.payload
            .entries
            .get(name)
            .ok_or_else(|| VaultError::NotFound { name: name.into() })
    }

    /// The secret of `name`, recording `action` (reveal, copy, auth, …) and `host` in the audit log.
    pub fn secret(&self, name: &str, action: Action, host: Option<&str>) -> Result<SecretString> {
        let entry = self.get(name)?;
        self.append(Some(name), action, host)?;
        Ok(entry.secret.clone())
    }

    /// The secret of `name` for use with `host` (a member of `groups`): refused unless the
    /// entry is bound to it; audited as `action` (normally [`Action::Auth`]) with the host.
    pub fn secret_for_host(
        &self,
        name: &str,
        action: Action,
        host: &str,
        groups: &[String],
    ) -> Result<SecretString> {
        let entry = self.get(name)?;
        self.check_bound(entry, host, groups)?;
        self.append(Some(name), action, Some(host))?;
        Ok(entry.secret.clone())
    }

    /// The decoded private key of an `ssh-key` entry for logging in to `host`, a member of
    /// `groups` (audited as auth).
    pub fn private_key(
        &self,
        name: &str,
        host: &str,
        groups: &[String],
    ) -> Result<russh::keys::PrivateKey> {
        let entry = self.get(name)?;
        if entry.kind != Kind::SshKey {
            return Err(wrong_kind(entry, "private key"));
        }
        self.check_bound(entry, host, groups)?;
        let pass = entry.key_passphrase.as_ref().map(|p| p.expose_secret());
        let key = sshkey::decode(entry.secret.expose_secret(), pass)?;
        self.append(Some(name), Action::Auth, Some(host))?;
        Ok(key)
    }

    /// The decoded private key of the `ssh-key` entry `name`, to open a team vault you are a
    /// member of with it (audited as auth, with no host).
    pub fn private_key_for_team(&self, name: &str) -> Result<russh::keys::PrivateKey> {
        let entry = self.get(name)?;
        if entry.kind != Kind::SshKey {
            return Err(wrong_kind(entry, "private key"));
        }
        let pass = entry.key_passphrase.as_ref().map(|p| p.expose_secret());
        let key = sshkey::decode(entry.secret.expose_secret(), pass)?;
        self.append(Some(name), Action::Auth, None)?;
        Ok(key)
    }

    /// Append an audit event for something a front end did with an entry (e.g. a TOTP code shown).
    pub fn record(&self, name: &str, action: Action, host: Option<&str>) -> Result<()> {
        self.append(Some(name), action, host)
    }

    /// [`Vault::record`] with what came of it in words (a Credential Test's verdict, what
    /// `copy-id` did on the host). `detail` must never hold a secret.
    pub fn record_outcome(
        &self,
        name: &str,
        action: Action,
        host: &str,
        detail: &str,
    ) -> Result<()> {
        let mut event = NewEvent::new(action, Some(name), Some(host));
        event.detail = Some(detail.to_string());
        let mut log = LogFile::open_for_append(self.audit.path())?;
        log.append(&self.audit_key, event)
    }

    /// Add a new entry (validated: name, non-empty secret, TOTP parses, key decodes). Call `save`.
    pub fn add(&mut self, name: &str, new: NewEntry) -> Result<()> {
        check_name(name)?;
        if self.payload.entries.contains_key(name) {
            return Err(VaultError::NameTaken { name: name.into() });
        }
        let now = unix_now() as i64;
        let secret = new.secret.ok_or(VaultError::EmptySecret)?;
        let mut entry = Entry {
            name: name.to_string(),
            kind: new.kind.unwrap_or(Kind::Password),
            username: new.username.filter(|u| !u.is_empty()),
            hosts: new.hosts.unwrap_or_default(),
            tags: new.tags.unwrap_or_default(),
            notes: new.notes.unwrap_or_default(),
            provider: new.provider.filter(|p| !p.is_empty()),
            public_key: None,
            fingerprint: None,
            created: now,
            updated: now,
            secret,
            key_passphrase: new.key_passphrase,
        };
        validate(&mut entry)?;
        self.payload.entries.insert(name.to_string(), entry);
        self.note(name, Action::Add);
        Ok(())
    }

    /// Change an entry: every `Some` field of `changes` replaces the old value. Call `save`.
    pub fn edit(&mut self, name: &str, changes: NewEntry) -> Result<()> {
        let mut entry = self.get(name)?.clone();
        if let Some(k) = changes.kind {
            entry.kind = k;
        }
        if changes.username.is_some() {
            entry.username = changes.username.filter(|u| !u.is_empty());
        }
        if let Some(h) = changes.hosts {
            entry.hosts = h;
        }
        if let Some(t) = changes.tags {
            entry.tags = t;
        }
        if let Some(n) = changes.notes {
            entry.notes = n;
        }
        if changes.provider.is_some() {
            entry.provider = changes.provider.filter(|p| !p.is_empty());
        }
        if let Some(s) = changes.secret {
            entry.secret = s;
        }
        if changes.key_passphrase.is_some() {
            entry.key_passphrase = changes.key_passphrase;
        }
        validate(&mut entry)?;
        entry.updated = unix_now() as i64;
        self.payload.entries.insert(name.to_string(), entry);
        self.note(name, Action::Edit);
        Ok(())
    }

    /// Give an `ssh-key` entry a new private key (unencrypted, so any key passphrase is
    /// dropped); public key and fingerprint are derived again. Call `save`.
    pub fn replace_key(&mut self, name: &str, key_text: SecretString) -> Result<()> {
        let mut entry = self.get(name)?.clone();
        if entry.kind != Kind::SshKey {
            return Err(wrong_kind(&entry, "private key"));
        }
        entry.secret = key_text;
        entry.key_passphrase = None;
        validate(&mut entry)?;
        entry.updated = unix_now() as i64;
        self.payload.entries.insert(name.to_string(), entry);
        self.note(name, Action::Edit);
        Ok(())
    }

    /// Remove an entry. Call `save`.
    pub fn remove(&mut self, name: &str) -> Result<()> {
        self.payload
            .entries
            .remove(name)
            .ok_or_else(|| VaultError::NotFound { name: name.into() })?;
        self.note(name, Action::Delete);
        Ok(())
    }

    /// New passphrase (and optionally new KDF costs): fresh salt, the data key re-wrapped with
    /// a fresh nonce; the payload gets a fresh nonce when saved. Call `save`.
    pub fn change_passphrase(&mut self, new: &SecretString, kdf: Option<KdfParams>) -> Result<()> {
        if self.team.is_some() {
            return Err(team::TeamError::Refused {
                why: "a team vault has no passphrase: each member opens it with their own key"
                    .into(),
            }
            .into());
        }
        if new.expose_secret().is_empty() {
            return Err(VaultError::EmptyPassphrase);
        }
        let kdf = kdf.unwrap_or(self.header.kdf);
        kdf.check()?;
        let mut header = self.header.clone();
        header.kdf = kdf;
        header.salt = format::random_bytes();
        header.wrap_nonce = format::random_bytes();
        let kek = format::derive_kek(new.expose_secret().as_bytes(), &header.salt, kdf)?;
        header.wrap(&kek, &self.data_key)?;
        self.header = header;
        self.note("", Action::Passwd);
        Ok(())
    }

    /// The TOTP code of a `totp` entry at `unix_secs` (not audited: the TUI shows codes live;
    /// front ends call [`Vault::record`] with [`Action::Totp`] when a user asks for one).
    pub fn totp_at(&self, name: &str, unix_secs: u64) -> Result<TotpCode> {
        let entry = self.get(name)?;
        if entry.kind != Kind::Totp {
            return Err(wrong_kind(entry, "TOTP secret"));
        }
        let totp = otp::parse(entry.secret.expose_secret())?;
        Ok(otp::code_at(&totp, unix_secs))
    }

    /// [`Vault::totp_at`] now.
    pub fn totp_now(&self, name: &str) -> Result<TotpCode> {
        self.totp_at(name, unix_now())
    }

    /// Queue an audit event for the next save, describing what that save persists: an entry
    /// added and deleted before a save never reached the disk and leaves no event; repeated
    /// edits before a save are one event. This also keeps the queue bounded.
    fn note(&mut self, name: &str, action: Action) {
        let pending_add = self
            .pending
            .iter()
            .any(|(n, a)| n == name && *a == Action::Add);
        match action {
            Action::Delete if pending_add => {
                self.pending.retain(|(n, _)| n != name);
                return;
            }
            Action::Delete => self
                .pending
                .retain(|(n, a)| !(n == name && *a == Action::Edit)),
            Action::Edit | Action::Passwd
                if pending_add || self.pending.iter().any(|(n, a)| n == name && *a == action) =>
            {
                return;
            }
            _ => {}
        }
        self.pending.push((name.to_string(), action));
    }

    fn check_bound(&self, entry: &Entry, host: &str, groups: &[String]) -> Result<()> {
        if entry.is_bound_to(host, groups) {
            Ok(())
        } else {
            Err(VaultError::NotBound {
                name: entry.name.clone(),
                host: host.into(),
            })
        }
    }
}

/// The TOTP code at `unix_secs` for a base32 secret or `otpauth://totp/` URI (no vault needed;
/// the add forms use it to preview a code, tests use it for RFC 6238 vectors).
pub fn totp_code(secret: &str, unix_secs: u64) -> Result<TotpCode> {
    Ok(otp::code_at(&otp::parse(secret)?, unix_secs))
}

/// Decode a private key text (an `ssh-key` entry's secret), for logging in with it.
pub fn decode_key(key_text: &str, passphrase: Option<&str>) -> Result<russh::keys::PrivateKey> {
    sshkey::decode(key_text, passphrase)
}

/// Public key and fingerprint of a private key text, as `add` would derive them.
pub fn key_info(key_text: &str, passphrase: Option<&str>) -> Result<KeyInfo> {
    Ok(sshkey::info(&sshkey::decode(key_text, passphrase)?))
}

fn wrong_kind(entry: &Entry, what: &'static str) -> VaultError {
    VaultError::WrongKind {
        name: entry.name.clone(),
        kind: entry.kind.as_str(),
        what,
    }
}

/// Kind-specific checks, and derived fields for keys.
fn validate(entry: &mut Entry) -> Result<()> {
    let secret = entry.secret.expose_secret();
    if secret.is_empty() {
        return Err(VaultError::EmptySecret);
    }
    entry.public_key = None;
    entry.fingerprint = None;
    match entry.kind {
        Kind::Totp => {
            otp::parse(secret)?;
        }
        Kind::SshKey => {
            let pass = entry.key_passphrase.as_ref().map(|p| p.expose_secret());
            let key = sshkey::decode(secret, pass)?;
            let info = sshkey::info(&key);
            entry.public_key = Some(info.public_key);
            entry.fingerprint = Some(info.fingerprint);
        }
        Kind::Password | Kind::ApiKey | Kind::Note => {}
    }
    Ok(())
}
