//! The vault's one error type. Messages say what to do and never contain a secret.

use crate::text::escape_controls;
use std::path::PathBuf;

/// Everything that can go wrong opening, changing or saving a vault.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error(transparent)]
    Team(#[from] super::team::TeamError),
    #[error("no vault at {}; create one with 'lumen vault init'", path.display())]
    NoVault { path: PathBuf },
    #[error("a vault already exists at {}; use 'lumen vault passwd' to change its passphrase", path.display())]
    AlreadyExists { path: PathBuf },
    #[error("wrong passphrase for {}; try again", path.display())]
    WrongPassphrase { path: PathBuf },
    #[error("vault file {} is corrupt or was tampered with ({what}); restore it from a backup", path.display())]
    Tampered { path: PathBuf, what: &'static str },
    #[error("vault file {} is truncated ({found} of {expected} bytes); restore it from a backup", path.display())]
    Truncated {
        path: PathBuf,
        found: u64,
        expected: u64,
    },
    #[error("vault file {} has format version {found}, this lumen reads version {supported}; upgrade lumen", path.display())]
    UnsupportedVersion {
        path: PathBuf,
        found: u16,
        supported: u16,
    },
    #[error("key-derivation parameters out of bounds: {what}; use values within the limits")]
    KdfOutOfBounds { what: String },
    #[error(
        "vault file {} asks for {what}, beyond anything lumen writes; its header was damaged or crafted: restore the file from a backup", path.display()
    )]
    KdfHeader { path: PathBuf, what: String },
    #[error(
        "no entry named '{}'; 'lumen vault list' shows the names",
        escape_controls(name)
    )]
    NotFound { name: String },
    #[error("an entry named '{name}' already exists; pick another name or use 'lumen vault edit'")]
    NameTaken { name: String },
    #[error(
        "'{}' is not a valid entry name; use letters, digits, '.', '_', '-', '/' (1-128 characters)",
        escape_controls(name)
    )]
    BadName { name: String },
    #[error(
        "'{}' is not an entry kind; use password, ssh-key, totp, api-key or note",
        escape_controls(kind)
    )]
    BadKind { kind: String },
    #[error("bad TOTP secret: {reason}; give a base32 secret or an otpauth://totp/ URI")]
    BadTotp { reason: String },
    #[error("unreadable private key: {reason}")]
    UnreadableKey { reason: String },
    #[error("the secret is empty; give a non-empty secret")]
    EmptySecret,
    #[error("the passphrase is empty; choose a non-empty passphrase")]
    EmptyPassphrase,
    #[error("vault is being changed by process {pid}; try again when it has finished")]
    Busy { pid: String },
    #[error("vault file {} changed on disk since it was opened; open it again and redo the change", path.display())]
    ChangedOnDisk { path: PathBuf },
    #[error(
        "entry '{name}' is not bound to host '{host}'; bind it with 'lumen vault edit {name} --host {host}'"
    )]
    NotBound { name: String, host: String },
    #[error("entry '{name}' is a {kind} entry and has no {what}")]
    WrongKind {
        name: String,
        kind: &'static str,
        what: &'static str,
    },
    #[error("audit log {}: {problem}", path.display())]
    Audit { path: PathBuf, problem: String },
    #[error(
        "vault file {} is older than its audit log: the log records save {newest} ({saved}), this file is save {file}. An older copy replaced it (a restored backup, a sync or checkout, or tampering): entries deleted since are back and newer changes are missing. Restore the newest copy of the file; if you went back to this copy on purpose, run 'lumen vault audit --accept'", path.display()
    )]
    RolledBack {
        path: PathBuf,
        file: u64,
        newest: u64,
        saved: String,
    },
    #[error(
        "nothing was changed: the audit log {} is out of step with the vault ({problem}). Check it with 'lumen vault audit --verify'; restore the log from a backup, or accept it as it is with 'lumen vault audit --accept', then redo the change", path.display()
    )]
    AuditOutOfStep {
        path: PathBuf,
        problem: super::AuditProblem,
    },
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

impl VaultError {
    /// Wrap an I/O error with what we were doing and where.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        VaultError::Io {
            context: context.into(),
            source,
        }
    }
}

pub type Result<T, E = VaultError> = std::result::Result<T, E>;
