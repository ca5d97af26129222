//! The vault browser's `t`: a Credential Test of the selected entry on every host it is bound
//! to, as `lumen vault test` does: each login offers that entry alone over a fresh connection
//! (never a shared one, which would prove nothing), asks nothing and runs nothing. The logins
//! run off the UI task; the verdicts come back in one message for the browser's status line.

use crate::app::layout::PaneId;
use crate::app::msg::{AsyncTask, Bus, Effect, Msg};
use crate::app::state::App;
use crate::app::state::PaneSpec;
use crate::panes::Pane;
use crate::ssh::cred_check::{self, Verdict};
use crate::ssh::{Plan, VaultCredentials};
use crate::vault::{Action, VaultOwner};
use std::collections::HashMap;
use std::sync::Arc;

/// The logins of one test, planned by the app.
pub struct CredentialTest {
    pub pane: PaneId,
    pub name: String,
    /// Each host as the inventory names it, with its route and the entry as the only credential.
    pub plans: Vec<(String, Plan)>,
    pub owner: VaultOwner,
}

impl CredentialTest {
    /// Try each host in turn, audit each verdict, then report them all.
    pub async fn run(self, bus: Bus) {
        let mut results = Vec::with_capacity(self.plans.len());
        for (host, plan) in self.plans {
            let verdict = cred_check::try_login(&plan).await;
            let (owner, name, h, word) = (
                self.owner.clone(),
                self.name.clone(),
                host.clone(),
                verdict.word(),
            );
            // The audit append fsyncs: not on the async workers.
            let audited = tokio::task::spawn_blocking(move || {
                owner.with_entry(&name, |v| v.record_outcome(&name, Action::Test, &h, word))
            })
            .await;
            if let Ok(Err(e)) = audited {
                tracing::warn!(
                    "credential test of {} on {host} not audited: {e}",
                    self.name
                );
            }
            results.push((host, verdict));
        }
        bus.send(Msg::CredentialTested {
            pane: self.pane,
            name: self.name,
            results,
        });
    }
}

impl App {
    /// Start a Credential Test of `name` for the browser `pane`.
    pub(crate) fn test_credential(&mut self, pane: PaneId, name: String) {
        match self.credential_test(pane, &name) {
            Ok(job) => {
                let hosts = job.plans.len();
                self.effects
                    .push(Effect::SpawnAsync(Box::new(AsyncTask::CredentialTest(
                        Box::new(job),
                    ))));
                self.say(format!("testing {name} on {hosts} host(s)…"));
            }
            Err(e) => {
                self.browser_says(pane, e.clone());
                self.error(e);
            }
        }
    }

    fn credential_test(&self, pane: PaneId, name: &str) -> Result<CredentialTest, String> {
        let connector = self
            .connector
            .clone()
            .ok_or("testing a credential needs SSH, which this lumen has not got")?;
        let entry = self.vault.with_entry(name, |v| v.get(name).cloned())?;
        let words: Vec<String> = entry.hosts.iter().filter(|h| *h != "*").cloned().collect();
        let all = entry.hosts.iter().any(|h| h == "*");
        let hosts = crate::workspace::targets::expand(&words, all, &self.inventory)?;
        if hosts.is_empty() {
            return Err(format!(
                "{name} is bound to no host of this workspace; nothing to test it on"
            ));
        }
        let groups: HashMap<String, Vec<String>> = self
            .inventory
            .hosts
            .iter()
            .map(|h| (h.name.clone(), h.groups.clone()))
            .collect();
        let source = Arc::new(VaultCredentials::new(self.vault.clone()).with_groups(groups));
        let mut plans = Vec::with_capacity(hosts.len());
        for host in hosts {
            let (target_name, target, plan) = match self.host_spec(&host)? {
                PaneSpec::Ssh { name, target, plan } => (name, target, plan),
                _ => return Err(format!("{host} is not an SSH host")),
            };
            let mut plan = match plan {
                Some(p) => p.as_ref().clone(),
                None => connector.direct(&target_name, &target),
            };
            if let Some(user) = &entry.username {
                plan.target.target.user = user.clone();
            }
            plan.target.options =
                cred_check::with_credential(&plan.target.options, source.clone(), name, &host);
            plans.push((host, plan));
        }
        Ok(CredentialTest {
            pane,
            name: name.to_string(),
            plans,
            owner: self.vault.clone(),
        })
    }

    /// The verdicts of `name`'s test: one line in the browser, the status bar too.
    pub(crate) fn credential_tested(
        &mut self,
        pane: PaneId,
        name: &str,
        results: Vec<(String, Verdict)>,
    ) {
        let all_work = results.iter().all(|(_, v)| v.works());
        let each: Vec<String> = results
            .iter()
            .map(|(host, v)| format!("{host} {}", v.word().replace('-', " ")))
            .collect();
        let summary = format!("test {name}: {}", each.join(", "));
        for (host, v) in results.iter().filter(|(_, v)| !v.works()) {
            tracing::info!("credential test of {name} on {host}: {v}");
        }
        self.browser_says(pane, summary.clone());
        if all_work {
            self.say(summary);
        } else {
            self.error(summary);
        }
    }

    fn browser_says(&mut self, pane: PaneId, text: String) {
        if let Some(Pane::Vault(browser)) = self.panes.get_mut(&pane).map(|s| &mut s.pane) {
            browser.tested(text);
            self.dirty = true;
        }
    }
}
