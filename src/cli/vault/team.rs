//! `lumen vault … --scope team`: the team vault opened with your own key, and its members'
//! audit logs.

use super::{Ctx, PassSource, input};
use crate::vault::team::{MyKey, TeamDir};
use crate::vault::{AuditLog, Scope, Vault};
use anyhow::Result;
use std::path::Path;

impl Ctx {
    fn team_dir(&self) -> TeamDir {
        let workspace = self
            .team
            .parent()
            .and_then(Path::parent)
            .unwrap_or(Path::new("."));
        TeamDir::in_workspace(workspace)
    }

    /// Your key, its passphrase from the passphrase options or a prompt.
    pub(super) fn team_key(&mut self) -> Result<MyKey> {
        let dir = self.team_dir();
        let identity = self.identity.clone();

        let source = match &self.source {
            PassSource::File(f) => Some(input::first_line_of_file(f)?),
            PassSource::Stdin => Some(self.stdin_line(0)?),
            PassSource::Tty => None,
        };
        crate::cli::team::load_my_key(identity.as_deref(), &dir, |prompt| match source {
            Some(p) => Ok(p),
            None => input::prompt_hidden(prompt),
        })
    }

    pub(super) fn unlock_team(&mut self) -> Result<Vault> {
        let me = self.team_key()?;
        Ok(crate::vault::team::open(&self.team_dir(), &me)?)
    }

    /// [`Ctx::open`], except that a team vault you cannot open (no member key here) is skipped
    /// with a note unless `--scope team` asked for it: the other vaults still list.
    pub(super) fn open_or_skip_team(&mut self, scope: Scope, write: bool) -> Result<Option<Vault>> {
        match self.open(scope, write) {
            Ok(v) => Ok(Some(v)),
            Err(e) if scope == Scope::Team && self.scope.is_none() => {
                eprintln!("lumen: note: the team vault was skipped: {e}");
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// The audit logs of `scope`: one per vault, one per member for the team.
    pub(super) fn logs(&self, scope: Scope) -> Vec<AuditLog> {
        match scope {
            Scope::Team => self.team_dir().audit_logs(),
            _ => vec![AuditLog::beside(self.path(scope))],
        }
    }

    /// `audit --verify` for the team: every member's log under the team's audit key.
    pub(super) fn verify_team_logs(&self, vault: &Vault) -> Result<(String, bool)> {
        let mut out = String::new();
        let mut broken = false;
        for log in self.team_dir().audit_logs() {
            let report = vault.verify_team_log(&log)?;
            if report.problems.is_empty() {
                out += &format!(
                    "team: intact, {} event{} ({})\n",
                    report.events,
                    if report.events == 1 { "" } else { "s" },
                    log.path().display()
                );
            } else {
                broken = true;
                out += &format!("team: BROKEN ({}):\n", log.path().display());
                for p in &report.problems {
                    out += &format!("  - {p}\n");
                }
            }
        }
        Ok((out, broken))
    }
}
