//! `lumen run export NAME --format ansible [TARGET…] [-p NAME=VALUE…] [-o FILE]`: a runbook (or
//! snippet) as an Ansible playbook ([`crate::runbook::ansible`]). [`RunCommand`] is the
//! subcommand `lumen run` embeds (`#[command(subcommand)]`), [`run`] its handler.

use crate::paths::Paths;
use crate::runbook::Catalog;
use crate::runbook::ansible::{host_pattern, to_playbook};
use crate::workspace::DEFAULT_WORKSPACE;
use anyhow::{Context, Result, anyhow, bail};
use clap::{Args, Subcommand, ValueEnum};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

/// Bad arguments, an unknown runbook, a step that cannot be exported.
const EXIT_USAGE: u8 = 2;

#[derive(Debug, Subcommand)]
pub enum RunCommand {
    /// Write a runbook as an Ansible playbook: `hosts:` from the targets, one shell task per
    /// step, serial/max_fail_percentage from parallel/on_failure, parameters as vars, each
    /// {{vault:NAME}} as a variable to fill from Ansible Vault (no value is written).
    Export(RunExportArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RunExportFormat {
    /// An Ansible playbook (YAML).
    Ansible,
}

#[derive(Debug, Args)]
pub struct RunExportArgs {
    /// The runbook or snippet.
    #[arg(value_name = "NAME")]
    pub name: String,

    #[arg(long, value_enum)]
    pub format: RunExportFormat,

    /// Hosts: `@GROUP`, globs, inventory names (default: the runbook's `targets`).
    #[arg(value_name = "TARGET")]
    pub targets: Vec<String>,

    /// A parameter's value, as NAME=VALUE; repeat for several (default: its `default`).
    #[arg(short = 'p', value_name = "NAME=VALUE")]
    pub params: Vec<String>,

    /// Write the playbook to FILE instead of stdout.
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// The workspace (its runbooks/ and snippets.toml).
    #[arg(long, value_name = "NAME", default_value = DEFAULT_WORKSPACE)]
    pub workspace: String,
}

/// The playbook `args` ask for.
pub fn playbook(args: &RunExportArgs, paths: &Paths) -> Result<String> {
    let catalog = Catalog::load(paths, &args.workspace)?;
    let runbook = catalog.runnable(&args.name).ok_or_else(|| {
        anyhow!(
            "no runbook or snippet named {}; see `lumen run --list`",
            crate::text::quoted(&args.name)
        )
    })?;
    let words = if args.targets.is_empty() {
        crate::workspace::targets::words(runbook.targets.as_deref().unwrap_or(""))
    } else {
        args.targets.clone()
    };
    let hosts = host_pattern(&words).context(
        "no targets: name hosts, @GROUP or a glob after the runbook's name (it sets none)",
    )?;
    let mut given = BTreeMap::new();
    for p in &args.params {
        let (k, v) = p
            .split_once('=')
            .ok_or_else(|| anyhow!("-p takes NAME=VALUE, not {}", crate::text::quoted(p)))?;
        if given.insert(k.to_string(), v.to_string()).is_some() {
            bail!("parameter {k:?} is given twice");
        }
    }
    Ok(to_playbook(&runbook, &hosts, &given)?)
}

pub fn run(command: RunCommand, paths: &Paths) -> ExitCode {
    let RunCommand::Export(args) = command;
    let result = playbook(&args, paths).and_then(|text| match &args.output {
        Some(path) => crate::paths::atomic_write_mode(path, text.as_bytes(), 0o644)
            .with_context(|| format!("cannot write {}", path.display())),
        None => {
            print!("{}", crate::text::escape_lines(&text));
            Ok(())
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            crate::errln!("lumen run export: {}", crate::text::error_chain(e.as_ref()));
            ExitCode::from(EXIT_USAGE)
        }
    }
}
