//! `lumen vault audit`: listing the logs, `--verify` and `--accept`, and telling the user what
//! opening or saving a vault found about its log.

use super::{Ctx, Unlock, esc, to_json};
use crate::vault::{AuditLog, Event, Notice, REMEDY, Scope, Vault, VaultError};
use anyhow::{Result, bail};

impl Ctx {
    /// The audit logs of both vaults (no passphrase needed: the log is plain text).
    pub(super) fn audit(&mut self, json: bool) -> Result<String> {
        let mut events = Vec::new();
        for scope in self.scopes() {
            for log in self.logs(scope) {
                events.extend(log.events()?.into_iter().map(|e| (scope, e)));
            }
        }
        if self.scope == Some(Scope::Team) {
            events.sort_by(|(_, a), (_, b)| a.time.cmp(&b.time));
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
        Ok(table(&events))
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
            if scope == Scope::Team {
                let (text, bad) = self.verify_team_logs(&vault)?;
                out += &text;
                broken |= bad;
                continue;
            }
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

    /// `--scope`'s vault, or all (the team's only where there is one).
    fn scopes(&self) -> Vec<Scope> {
        [Scope::Personal, Scope::Workspace, Scope::Team]
            .into_iter()
            .filter(|s| self.scope.is_none_or(|c| c == *s))
            .filter(|s| *s != Scope::Team || self.path(*s).exists())
            .collect()
    }
}

/// Save, then say if an audit log had to be kept aside (a format 1 log found damaged).
/// The events as aligned columns. Times and entry names vary in width (RFC 3339 drops
/// trailing zeros of the fraction), so each column is as wide as its widest cell.
fn table(events: &[(Scope, Event)]) -> String {
    use unicode_width::UnicodeWidthStr;
    let entry = |e: &Event| esc(e.entry.as_deref().unwrap_or("-")).into_owned();
    let time_w = events.iter().map(|(_, e)| esc(&e.time).width()).max();
    let entry_w = events.iter().map(|(_, e)| entry(e).width()).max();
    let (time_w, entry_w) = (time_w.unwrap_or(0), entry_w.unwrap_or(0).max(ENTRY_MIN));
    let mut out = String::new();
    for (s, e) in events {
        out += &format!(
            "{:<6} {} {:<9} {:<10} {} {}",
            e.seq,
            crate::ui::cell(&esc(&e.time), time_w),
            s.as_str(),
            e.action.as_str(),
            crate::ui::cell(&entry(e), entry_w),
            esc(e.host.as_deref().unwrap_or("-"))
        );
        if let Some(m) = &e.member {
            out += &format!("  by {}", esc(m));
        }
        if let Some(d) = &e.detail {
            out += &format!("  ({})", esc(d));
        }
        out += "\n";
    }
    out
}

/// The entry column's narrowest, so short names still line up with the usual ones.
const ENTRY_MIN: usize = 24;

pub(crate) fn save(scope: Scope, vault: &mut Vault) -> Result<()> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vault::{Action, Seal};

    fn event(seq: u64, time: &str, entry: &str) -> (Scope, Event) {
        let e = Event {
            seq,
            time: time.into(),
            entry: Some(entry.into()),
            action: Action::Reveal,
            host: Some("db1".into()),
            pid: 1,
            generation: None,
            detail: None,
            member: None,
            prev: String::new(),
            seal: Seal::Mac(String::new()),
        };
        (Scope::Personal, e)
    }

    #[test]
    fn columns_line_up_whatever_the_fraction_and_name_widths() {
        let out = table(&[
            event(1, "2026-12-06T17:20:01.123456789Z", "db"),
            event(
                2,
                "2026-12-06T17:20:02.12345678Z",
                "a-rather-long-entry-name-for-db",
            ),
            event(3, "2026-12-06T17:20:03Z", "x"),
        ]);
        let at =
            |needle: &str| -> Vec<usize> { out.lines().map(|l| l.find(needle).unwrap()).collect() };
        for col in ["personal", "reveal", "db1"] {
            let cols = at(col);
            assert!(cols.windows(2).all(|w| w[0] == w[1]), "{col}:\n{out}");
        }
    }
}
