//! `lumen vault audit`: listing the logs, `--verify` and `--accept`, and telling the user what
//! opening or saving a vault found about its log.

use super::{Ctx, Unlock, esc, to_json};
use crate::vault::{AuditLog, Notice, REMEDY, Scope, Vault, VaultError};
use anyhow::{Result, bail};

impl Ctx {
    /// The audit logs of both vaults (no passphrase needed: the log is plain text).
    pub(super) fn audit(&mut self, json: bool) -> Result<String> {
        let mut events = Vec::new();
        for scope in self.scopes() {
            let log = AuditLog::beside(self.path(scope));
            events.extend(log.events()?.into_iter().map(|e| (scope, e)));
        }
        if json {
            let v: Vec<_> = events
                .iter()
                .map(|(s, e)| {
                    let mut v = serde_json::to_value(e).unwrap_or_default();
                    v["scope"] = s.as_str().into();
                    v
                })
                .collect();
            return to_json(&v);
        }
        let mut out = String::new();
        for (s, e) in events {
            out += &format!(
                "{:<6} {} {:<9} {:<10} {:<24} {}",
                e.seq,
                esc(&e.time),
                s.as_str(),
                e.action.as_str(),
                esc(e.entry.as_deref().unwrap_or("-")),
                esc(e.host.as_deref().unwrap_or("-"))
            );
            if let Some(d) = &e.detail {
                out += &format!("  ({})", esc(d));
            }
            out += "\n";
        }
        Ok(out)
    }

    /// `audit --verify`: each vault's log checked with the vault's key and against its anchor.
    pub(super) fn verify(&mut self) -> Result<String> {
        let scopes = self.existing();
        if scopes.is_empty() {
            let path = self.path(self.target()).to_path_buf();
            return Err(VaultError::NoVault { path }.into());
        }
        let mut out = String::new();
        let (mut broken, mut unchecked) = (false, false);
        for scope in scopes {
            let log = AuditLog::beside(self.path(scope));
            let vault = match self.unlock(scope, Unlock::Read) {
                Ok(v) => v,
                Err(e) => match e.downcast::<VaultError>() {
                    Ok(e @ VaultError::RolledBack { .. }) => {
                        broken = true;
                        out += &format!("{}: BROKEN: {e}\n", scope.as_str());
                        continue;
                    }
                    Ok(e @ VaultError::WrongPassphrase { .. }) => {
                        unchecked = true;
                        out += &format!(
                            "{}: not checked: {e} (the log is sealed with a key from the vault; \
                             check each vault with its passphrase and --scope)\n",
                            scope.as_str()
                        );
                        continue;
                    }
                    Ok(e) => return Err(e.into()),
                    Err(e) => return Err(e),
                },
            };
            let report = vault.verify_audit()?;
            if report.problems.is_empty() {
                out += &format!(
                    "{}: intact, {} event{} ({})\n",
                    scope.as_str(),
                    report.events,
                    if report.events == 1 { "" } else { "s" },
                    log.path().display()
                );
            } else {
                broken = true;
                out += &format!("{}: BROKEN ({}):\n", scope.as_str(), log.path().display());
                for p in &report.problems {
                    out += &format!("  - {p}\n");
                }
            }
            if report.old_format {
                out += &format!("{}: note: {}\n", scope.as_str(), Notice::OldFormat);
            }
        }
        if broken {
            bail!("{out}the audit log was altered or is out of step with its vault: {REMEDY}");
        }
        if unchecked {
            bail!("{out}not every audit log could be checked");
        }
        Ok(out)
    }

    /// `audit --accept`: take each vault and its log as they are, recording that in the log.
    pub(super) fn accept(&mut self) -> Result<String> {
        let scopes = self.existing();
        if scopes.is_empty() {
            let path = self.path(self.target()).to_path_buf();
            return Err(VaultError::NoVault { path }.into());
        }
        let mut out = String::new();
        for scope in scopes {
            let mut vault = self.unlock(scope, Unlock::Accept)?;
            out += &match vault.accept()? {
                Some(what) => format!(
                    "{}: accepted ({}): {}\n",
                    scope.as_str(),
                    vault.audit_log().path().display(),
                    esc(&what)
                ),
                None => format!(
                    "{}: nothing to accept: the vault and its audit log agree\n",
                    scope.as_str()
                ),
            };
        }
        Ok(out)
    }

    /// `--scope`'s vault, or both.
    fn scopes(&self) -> Vec<Scope> {
        [Scope::Personal, Scope::Workspace]
            .into_iter()
            .filter(|s| self.scope.is_none_or(|c| c == *s))
            .collect()
    }
}

/// Save, then say if an audit log had to be kept aside (a format 1 log found damaged).
pub(super) fn save(scope: Scope, vault: &mut Vault) -> Result<()> {
    vault.save()?;
    let set_aside = vault
        .notices()
        .iter()
        .filter(|n| matches!(n, Notice::LogSetAside { .. }));
    for n in set_aside {
        eprintln!(
            "lumen: note: the {} vault {}: {n}",
            scope.as_str(),
            vault.path().display()
        );
    }
    Ok(())
}

/// Print what opening a vault found (stderr, so scripts reading stdout are unaffected).
pub(super) fn warn(scope: Scope, vault: &Vault) {
    let mut audit = false;
    for n in vault.notices() {
        audit |= matches!(n, Notice::Audit(_));
        eprintln!(
            "lumen: warning: the {} vault {}: {n}",
            scope.as_str(),
            vault.path().display()
        );
    }
    if audit {
        eprintln!("lumen: {REMEDY}; until then changes to this vault are refused");
    }
}
