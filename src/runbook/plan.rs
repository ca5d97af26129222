//! The plan: what a run will do before anything runs. Targets resolved to hosts (each with
//! its SSH route), every step's command with parameters filled and vault placeholders kept
//! as `{{vault:NAME}}`, lumen's risk for each step with its reasons, and which steps take
//! secrets. The operator approves this, and the executor runs exactly this.

use super::fill::{FillError, ParamError, check_params, fill};
use super::format::{OnFailure, Runbook};
use crate::ai::risk::{Risk, assess};
use crate::ssh::config::ResolveOptions;
use crate::ssh::{ConnectOptions, SshError, plan_destination};
use crate::workspace::Inventory;
use std::collections::BTreeMap;
use std::time::Duration;

/// The cap on each step's stdout and on its stderr, per host: enough for diagnostics, and 50
/// hosts of it stay small.
pub const STEP_MAX_OUTPUT: usize = 1024 * 1024;

/// One host of the plan.
#[derive(Debug, Clone)]
pub struct PlanHost {
    /// As the targets named it (inventory name, alias or address).
    pub name: String,
    /// Its inventory groups (without `@`): vault entries bound to `@group` apply.
    pub groups: Vec<String>,
    /// How to reach it (jump chain included).
    pub ssh: crate::ssh::Plan,
}

/// One step as it will run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanStep {
    pub name: String,
    /// Parameters filled; vault placeholders as `{{vault:NAME}}`.
    pub command: String,
    /// Vault entries it takes (substituted per host, only where bound).
    pub vault: Vec<String>,
    pub risk: Risk,
    /// Why the risk is what it is, highest first.
    pub reasons: Vec<String>,
    /// Asks again before it starts.
    pub confirm: bool,
}

/// What a run will do.
#[derive(Debug, Clone)]
pub struct Plan {
    pub runbook: String,
    pub description: String,
    /// The parameter values (given or default), all checked.
    pub params: BTreeMap<String, String>,
    /// The target expression as written (what High plans are approved by typing).
    pub targets: String,
    pub hosts: Vec<PlanHost>,
    pub steps: Vec<PlanStep>,
    pub parallel: usize,
    pub on_failure: OnFailure,
    /// Per step per host.
    pub timeout: Duration,
    /// Per step per host, on stdout and on stderr each.
    pub max_output: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error(transparent)]
    Param(#[from] ParamError),
    #[error("step {step:?}: {source}")]
    Fill { step: String, source: FillError },
    #[error("no targets: name hosts, @GROUP or a glob, or --all (the runbook sets none)")]
    NoTargets,
    #[error("{0}")]
    Targets(String),
    #[error("{0}")]
    Destination(#[from] SshError),
}

/// How targets become hosts.
pub struct Resolver<'a> {
    pub inventory: &'a Inventory,
    pub resolve: &'a ResolveOptions,
    pub base: &'a ConnectOptions,
}

impl Resolver<'_> {
    /// The hosts `words` name (`@group`, globs, names; `all` adds the whole inventory), each
    /// with its route.
    pub fn hosts(&self, words: &[String], all: bool) -> Result<Vec<PlanHost>, PlanError> {
        let names = crate::workspace::targets::expand(words, all, self.inventory)
            .map_err(PlanError::Targets)?;
        if names.is_empty() {
            return Err(PlanError::NoTargets);
        }
        names
            .into_iter()
            .map(|name| {
                let ssh = plan_destination(&name, self.inventory, self.resolve, self.base)?;
                let groups = self
                    .inventory
                    .get(&name)
                    .map(|h| h.groups.clone())
                    .unwrap_or_default();
                Ok(PlanHost { name, groups, ssh })
            })
            .collect()
    }
}

impl Plan {
    /// Check `given` against the runbook's parameters, fill every step and assess it.
    pub fn new(
        runbook: &Runbook,
        given: &BTreeMap<String, String>,
        targets: String,
        hosts: Vec<PlanHost>,
    ) -> Result<Plan, PlanError> {
        let params = check_params(&runbook.params, given)?;
        if hosts.is_empty() {
            return Err(PlanError::NoTargets);
        }
        let mut steps = Vec::with_capacity(runbook.steps.len());
        for s in &runbook.steps {
            let filled = fill(&s.run, &params).map_err(|source| PlanError::Fill {
                step: s.name.clone(),
                source,
            })?;
            let a = assess(&filled.command);
            steps.push(PlanStep {
                name: s.name.clone(),
                reasons: a.reasons.iter().map(|r| r.text.clone()).collect(),
                risk: a.risk,
                command: filled.command,
                vault: filled.vault,
                confirm: s.confirm,
            });
        }
        Ok(Plan {
            runbook: runbook.name.clone(),
            description: runbook.description.clone(),
            params,
            targets,
            hosts,
            steps,
            parallel: runbook.parallel,
            on_failure: runbook.on_failure,
            timeout: runbook.timeout,
            max_output: STEP_MAX_OUTPUT,
        })
    }

    /// The highest risk of any step.
    pub fn risk(&self) -> Risk {
        self.steps.iter().map(|s| s.risk).max().unwrap_or(Risk::Low)
    }

    /// Whether any step takes a vault value.
    pub fn takes_secrets(&self) -> bool {
        self.steps.iter().any(|s| !s.vault.is_empty())
    }

    /// The plan as the operator reads it before approving (plain text, one item a line).
    pub fn describe(&self) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        let names: Vec<String> = self.hosts.iter().map(|h| h.name.clone()).collect();
        let _ = writeln!(out, "runbook {}: {}", self.runbook, self.description);
        let _ = writeln!(
            out,
            "targets {} → {} ({} {})",
            self.targets,
            super::gather::host_set(&names),
            names.len(),
            if names.len() == 1 { "host" } else { "hosts" }
        );
        if !self.params.is_empty() {
            let p: Vec<String> = self
                .params
                .iter()
                .map(|(k, v)| format!("{k}={}", crate::text::quoted(v)))
                .collect();
            let _ = writeln!(out, "params {}", p.join(" "));
        }
        let _ = writeln!(
            out,
            "{} at a time, on failure {}, {}s per step",
            self.parallel,
            match self.on_failure {
                OnFailure::Stop => "stop",
                OnFailure::Continue => "continue",
            },
            self.timeout.as_secs()
        );
        for (i, s) in self.steps.iter().enumerate() {
            let mut flags = vec![format!("risk {}", s.risk)];
            if s.confirm {
                flags.push("asks again".into());
            }
            if !s.vault.is_empty() {
                flags.push(format!("takes secrets: {}", s.vault.join(", ")));
            }
            let _ = writeln!(out, "{}. {} [{}]", i + 1, s.name, flags.join("; "));
            for line in s.command.lines() {
                let _ = writeln!(out, "     $ {line}");
            }
            for r in &s.reasons {
                let _ = writeln!(out, "     ! {r}");
            }
        }
        out
    }
}
