//! Opening, creating, saving and accepting a vault: the file, its anchor and its audit log
//! moved together. Lock order is always the vault's writer lock, then the log's `flock`; a save
//! holds the log's lock from before it renames the new vault into place until its events are
//! appended, and an open checks the log under that lock, so each sees the two in step.

use super::audit::{self, Action, AuditLog};
use super::error::{Result, VaultError};
use super::format::{self, Anchor, Key};
use super::integrity::{self, AuditProblem, Findings};
use super::logfile::{self, LogFile, NewEvent};
use super::store::{self, WriteLock};
use super::{KdfParams, Payload, Vault};
use secrecy::{ExposeSecret, SecretString};
use std::path::{Path, PathBuf};

/// Something found while opening a vault that the user should hear about. The vault works;
/// changes are refused while an audit problem stands (see [`VaultError::AuditOutOfStep`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// The file is in vault format 1 (no anchor); the next save or `audit --accept` upgrades it.
    OldFormat,
    /// The audit log does not agree with the vault.
    Audit(AuditProblem),
    /// An audit log that could not be continued was kept under another name.
    LogSetAside { to: PathBuf },
    /// Team vaults: something to put right that leaves the vault readable.
    Team(String),
}

impl std::fmt::Display for Notice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Notice::OldFormat => f.write_str(
                "it is in vault format 1, which cannot tell an old copy of the vault or a cut \
                 audit log; lumen upgrades it at its next change, or now with 'lumen vault audit \
                 --accept' (the audit log is kept)",
            ),
            Notice::Audit(p) => write!(f, "{p}"),
            Notice::Team(what) => f.write_str(what),
            Notice::LogSetAside { to } => write!(
                f,
                "the audit log already there was kept as {} and a new one begun",
                to.display()
            ),
        }
    }
}

/// Result of [`Vault::verify_audit`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditReport {
    pub events: u64,
    /// Empty when the log is intact and in step with the vault.
    pub problems: Vec<AuditProblem>,
    /// The vault file is in format 1: a cut log or an old vault copy cannot be detected yet.
    pub old_format: bool,
}

/// How many times an open re-reads a vault that a concurrent save replaced meanwhile.
const OPEN_ATTEMPTS: u32 = 3;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Commit {
    /// An ordinary save: refused while the log is out of step.
    Save,
    /// `lumen vault audit --accept`: take the vault and log as they are.
    Accept,
}

impl Vault {
    /// Create a new, empty vault file. Fails if one exists. An audit log left beside it by an
    /// earlier vault is kept under another name ([`Notice::LogSetAside`]).
    pub fn create(path: &Path, passphrase: &SecretString, kdf: KdfParams) -> Result<Vault> {
        if passphrase.expose_secret().is_empty() {
            return Err(VaultError::EmptyPassphrase);
        }
        kdf.check()?;
        let lock = WriteLock::acquire(path)?;
        if path.exists() {
            return Err(VaultError::AlreadyExists {
                path: path.to_path_buf(),
            });
        }
        let mut bytes: [u8; format::KEY_LEN] = format::random_bytes();
        let data_key = Key::from_bytes(bytes);
        zeroize::Zeroize::zeroize(&mut bytes);
        let mut header = format::Header::new(kdf);
        let kek = format::derive_kek(passphrase.expose_secret().as_bytes(), &header.salt, kdf)?;
        header.wrap(&kek, &data_key)?;
        let audit = AuditLog::beside(path);
        let mut notices = Vec::new();
        if std::fs::metadata(audit.path()).is_ok_and(|m| m.len() > 0) {
            notices.push(Notice::LogSetAside {
                to: logfile::set_aside(audit.path())?,
            });
        }
        let mut vault = Vault {
            path: path.to_path_buf(),
            header,
            audit_key: audit::derive_key(&data_key),
            data_key,
            payload: Payload::default(),
            on_disk: None,
            on_disk_version: format::VERSION,
            lock: Some(lock),
            audit,
            pending: vec![(String::new(), Action::Init)],
            notices,
            team: None,
        };
        vault.save()?;
        vault.lock = None;
        Ok(vault)
    }

    /// Unlock a vault: one key derivation, then decrypt, then check the audit log against the
    /// file ([`Vault::notices`] says what was found). No lock is held; `save` takes it. A file
    /// older than its audit log is [`VaultError::RolledBack`].
    pub fn open(path: &Path, passphrase: &SecretString) -> Result<Vault> {
        Vault::open_checked(path, passphrase, false)
    }

    /// Take the writer lock first, then unlock: for a read-modify-save that no other process
    /// may interleave with. A second writer gets [`VaultError::Busy`] with this PID.
    pub fn open_for_write(path: &Path, passphrase: &SecretString) -> Result<Vault> {
        let lock = WriteLock::acquire(path)?;
        let mut vault = Vault::open(path, passphrase)?;
        vault.lock = Some(lock);
        Ok(vault)
    }

    /// [`Vault::open_for_write`] that also opens a file older than its audit log, for
    /// [`Vault::accept`].
    pub fn open_to_accept(path: &Path, passphrase: &SecretString) -> Result<Vault> {
        let lock = WriteLock::acquire(path)?;
        let mut vault = Vault::open_checked(path, passphrase, true)?;
        vault.lock = Some(lock);
        Ok(vault)
    }

    fn open_checked(path: &Path, passphrase: &SecretString, accepting: bool) -> Result<Vault> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let bytes = store::read(path)?;
            let disk = format::parse(path, &bytes)?;
            let kek =
                format::derive_kek(passphrase.expose_secret().as_bytes(), &disk.salt, disk.kdf)?;
            let data_key = disk
                .unwrap_key(&kek)
                .ok_or_else(|| VaultError::WrongPassphrase {
                    path: path.to_path_buf(),
                })?;
            let plain = format::open_payload(path, &disk, &data_key, &bytes)?;
            let payload = Payload::decode(path, &plain)?;
            let mut header = disk.clone();
            header.upgrade(&kek, &data_key)?;
            let audit = AuditLog::beside(path);
            let audit_key = audit::derive_key(&data_key);
            let found = {
                let mut log = LogFile::open_existing(audit.path())?;
                if store::read_digest(path)? != format::file_digest(&bytes) {
                    if attempt < OPEN_ATTEMPTS {
                        continue;
                    }
                    return Err(VaultError::ChangedOnDisk {
                        path: path.to_path_buf(),
                    });
                }
                inspect(log.as_mut(), &audit_key, &disk)?
            };
            if !accepting
                && let Some(AuditProblem::VaultOlder {
                    file,
                    newest,
                    saved,
                }) = found.newer_save_than(generation(&disk))
            {
                return Err(VaultError::RolledBack {
                    path: path.to_path_buf(),
                    file,
                    newest,
                    saved,
                });
            }
            let mut notices = Vec::new();
            if disk.version < format::VERSION {
                notices.push(Notice::OldFormat);
            }
            notices.extend(found.problems.into_iter().map(Notice::Audit));
            return Ok(Vault {
                path: path.to_path_buf(),
                header,
                data_key,
                audit_key,
                payload,
                on_disk: format::file_digest(&bytes),
                on_disk_version: disk.version,
                lock: None,
                audit,
                pending: Vec::new(),
                notices,
                team: None,
            });
        }
    }

    /// Encrypt with a fresh payload nonce and write atomically under the writer lock, with the
    /// new generation and the audit log's new end in the header; then append this save's
    /// events. Refuses if the file changed on disk since this vault was opened or last saved,
    /// or if the audit log is out of step with it ([`VaultError::AuditOutOfStep`]).
    pub fn save(&mut self) -> Result<()> {
        self.commit(Commit::Save).map(|_| ())
    }

    /// Take the vault and its audit log as they are now, after `--verify` (or opening) reported
    /// a problem: a restored backup, a lost or cut log, an upgrade from format 1. Records an
    /// `accept` (or `upgrade`) event saying what was accepted and saves with a generation above
    /// every save in the log. A log that was cut, rewritten or damaged is kept whole under
    /// another name ([`Notice::LogSetAside`]) and a new one begins with that event; a log that
    /// is intact while the vault file is older is continued. Returns what was accepted, or
    /// `None` when vault and log already agree.
    pub fn accept(&mut self) -> Result<Option<String>> {
        self.commit(Commit::Accept)
    }

    /// Check the whole audit log and its agreement with this vault.
    pub fn verify_audit(&self) -> Result<AuditReport> {
        let mut log = LogFile::open_existing(self.audit.path())?;
        let old_format = self.on_disk_version < format::VERSION;
        // A team member's log is checked link by link; no vault file records its end.
        let anchor = (!old_format && self.team.is_none()).then_some(&self.header.anchor);
        let found = integrity::verify(log.as_mut(), &self.audit_key, anchor)?;
        Ok(AuditReport {
            events: found.events,
            problems: found.problems,
            old_format,
        })
    }

    fn commit(&mut self, mode: Commit) -> Result<Option<String>> {
        if self.team.is_some() {
            if mode == Commit::Accept {
                return Err(VaultError::Team(super::team::TeamError::Refused {
                    why: "a team vault has no anchor to accept; 'lumen team verify' checks it"
                        .into(),
                }));
            }
            return self.team_commit().map(|()| None);
        }
        let taken = match self.lock {
            None => Some(WriteLock::acquire(&self.path)?),
            Some(_) => None,
        };
        store::remove_stale_temps(&self.path);
        if store::read_digest(&self.path)? != self.on_disk {
            return Err(VaultError::ChangedOnDisk {
                path: self.path.clone(),
            });
        }
        let log_path = self.audit.path().to_path_buf();
        let old_format = self.on_disk_version < format::VERSION;
        let anchor = self.header.anchor;
        let existed = log_path.exists();
        if !existed && mode == Commit::Save && !old_format && anchor.audit_events > 0 {
            return Err(VaultError::AuditOutOfStep {
                path: log_path,
                problem: AuditProblem::Missing {
                    recorded: anchor.audit_events,
                },
            });
        }
        let mut log = LogFile::open_for_append(&log_path)?;
        let found = match (mode, old_format) {
            (_, true) => integrity::walk(&mut log, &self.audit_key)?,
            (Commit::Save, false) => {
                integrity::check_anchor(existed.then_some(&mut log), &self.audit_key, &anchor)?
            }
            (Commit::Accept, false) => {
                integrity::verify(existed.then_some(&mut log), &self.audit_key, Some(&anchor))?
            }
        };
        let file_generation = if old_format { 0 } else { anchor.generation };
        if mode == Commit::Save {
            if let Some(AuditProblem::VaultOlder {
                file,
                newest,
                saved,
            }) = found.newer_save_than(file_generation)
            {
                return Err(VaultError::RolledBack {
                    path: self.path.clone(),
                    file,
                    newest,
                    saved,
                });
            }
            if let (false, Some(problem)) = (old_format, found.problems.first()) {
                return Err(VaultError::AuditOutOfStep {
                    path: log_path,
                    problem: problem.clone(),
                });
            }
        }
        let mut fresh_start = mode == Commit::Accept || old_format;
        if fresh_start && !old_format && found.problems.is_empty() {
            if self.pending.is_empty() {
                return Ok(None);
            }
            // Nothing to accept: an ordinary save of the pending changes.
            fresh_start = false;
        }
        let mut events = Vec::new();
        let mut accepted = None;
        let generation = if fresh_start {
            let newest = found.newest_save.as_ref().map_or(0, |(g, _)| *g);
            let generation = file_generation.max(newest) + 1;
            let mut detail = describe(&found, old_format);
            // A clean format 1 log is continued: the upgrade event pins its end. Any other log
            // that disagrees with the vault may have been rewritten, so it is kept aside whole
            // and a new one begins; only a log that is fine while the vault is old continues.
            let damaged = if old_format {
                found.chain_broken
            } else {
                found
                    .problems
                    .iter()
                    .any(|p| !matches!(p, AuditProblem::VaultOlder { .. }))
            };
            if damaged && log.len()? > 0 {
                // Renamed under its lock: appenders waiting on it notice and reopen the path.
                let to = logfile::set_aside(&log_path)?;
                detail.push_str(&format!("; that log was kept as {}", to.display()));
                self.notices.push(Notice::LogSetAside { to });
                log = LogFile::open_for_append(&log_path)?;
            }
            let action = if old_format {
                Action::Upgrade
            } else {
                Action::Accept
            };
            events.push(NewEvent {
                generation: Some(generation),
                detail: Some(detail.clone()),
                ..NewEvent::new(action, None, None)
            });
            accepted = Some(detail);
            generation
        } else if self.pending.is_empty() {
            file_generation
        } else {
            file_generation + 1
        };
        for (name, action) in &self.pending {
            let entry = (!name.is_empty()).then_some(name.as_str());
            events.push(NewEvent {
                generation: Some(generation),
                ..NewEvent::new(*action, entry, None)
            });
        }
        let prepared = log.prepare(&self.audit_key, &events)?;
        let mut header = self.header.clone();
        header.anchor = Anchor {
            generation,
            audit_events: prepared.events,
            audit_bytes: prepared.bytes,
            audit_seal: prepared.seal,
            audit_digest: log.digest_after(&prepared)?,
        };
        header.payload_nonce = format::random_bytes();
        let plain = self.payload.encode()?;
        let file = format::seal(&header, &self.data_key, &plain)?;
        store::atomic_write(&self.path, &file)?;
        self.header = header;
        self.on_disk = format::file_digest(&file);
        self.on_disk_version = format::VERSION;
        self.pending.clear();
        self.notices
            .retain(|n| !matches!(n, Notice::OldFormat | Notice::Audit(_)));
        // The vault is saved: a failure here leaves the log short of the new anchor, which the
        // next open reports as a cut log.
        log.write(&prepared).map_err(|e| VaultError::Audit {
            path: log_path,
            problem: format!("the vault was saved but this save's events were not recorded: {e}"),
        })?;
        drop(taken);
        Ok(accepted)
    }
}

/// The generation a file's header records (format 1 files have none).
fn generation(header: &format::Header) -> u64 {
    if header.version >= 2 {
        header.anchor.generation
    } else {
        0
    }
}

/// Check the log at open: against the anchor for a format 2 file, the whole chain for format 1.
fn inspect(
    log: Option<&mut LogFile>,
    key: &audit::AuditKey,
    disk: &format::Header,
) -> Result<Findings> {
    if disk.version >= 2 {
        return integrity::check_anchor(log, key, &disk.anchor);
    }
    match log {
        Some(log) => integrity::walk(log, key),
        None => Ok(Findings::default()),
    }
}

/// What an `upgrade` or `accept` event takes on, for its `detail` field.
fn describe(found: &Findings, upgrade: bool) -> String {
    let mut parts = Vec::new();
    if upgrade {
        parts.push(format!(
            "vault format 1 to 2: events from here on are sealed with a key derived from the \
             vault's data key; the {} events before were sealed with plain SHA-256",
            found.events
        ));
    }
    parts.extend(found.problems.iter().map(|p| p.to_string()));
    if parts.is_empty() {
        parts.push("nothing was wrong".into());
    }
    parts.join("; ")
}
