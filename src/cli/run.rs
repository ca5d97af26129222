//! `lumen run NAME [TARGET…]`: a runbook or snippet fanned out to hosts. Shows the plan,
//! asks for approval (a terminal: `y`, or the target expression for High steps; without one:
//! `--yes`, plus `--allow-high` for High steps, else exit 2), unlocks the vault when steps take
//! secrets, runs with a progress bar on a terminal, Ctrl-C cancels, prints a gathered summary
//! or `--json`, and keeps every run in the history. `--list` and `--history [NAME]` too.

use super::connect::{self, ConnectArgs, SshFlags};
use super::run_output;
use crate::ai::risk::Risk;
use crate::paths::Paths;
use crate::runbook::exec::{self, Confirm, HostStatus, RunEvent, RunVault};
use crate::runbook::plan::{Plan, Resolver};
use crate::runbook::{Catalog, history};
use crate::vault::{ScopedVault, VaultOwner};
use crate::workspace::{DEFAULT_WORKSPACE, HostsFile, Inventory};
use anyhow::{Context, Result, anyhow, bail};
use clap::Args;
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

/// Some host failed or was unreachable.
const EXIT_FAILED: u8 = 1;
/// Usage or configuration errors, a refused plan: nothing ran.
const EXIT_USAGE: u8 = 2;

#[derive(Debug, Args)]
#[command(
    args_conflicts_with_subcommands = true,
    after_help = "Exit status: 0 when every host succeeded, 1 when any failed or was \
                        unreachable, 2 for usage or configuration errors and refused plans \
                        (nothing ran).\nWithout a terminal, --yes approves Low and Medium \
                        steps (and `confirm = true` steps); High steps also need --allow-high.\n\
                        A runbook literally named `export`: write `lumen run -- export`."
)]
pub struct RunArgs {
    #[command(subcommand)]
    pub command: Option<super::run_export::RunCommand>,

    /// The runbook or snippet (see --list); with --history, the runbook whose runs to show.
    #[arg(value_name = "NAME")]
    pub name: Option<String>,

    /// Hosts: inventory names, ssh_config aliases or [USER@]HOST[:PORT]; `@GROUP`; globs
    /// over inventory names (`web*`). Default: the runbook's `targets`.
    #[arg(value_name = "TARGET")]
    pub targets: Vec<String>,

    /// A parameter, as NAME=VALUE; repeat for several.
    #[arg(short = 'p', value_name = "NAME=VALUE")]
    pub params: Vec<String>,

    /// Hosts at a time (default: the runbook's `parallel`, else 8).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub parallel: Option<u16>,

    /// Show the plan and exit; nothing runs.
    #[arg(long)]
    pub dry_run: bool,

    /// Approve the plan's Low and Medium steps without asking (and `confirm = true` steps).
    #[arg(long)]
    pub yes: bool,

    /// With --yes: approve High steps too.
    #[arg(long)]
    pub allow_high: bool,

    /// Print the report as JSON on stdout (with --list / --history: those as JSON).
    #[arg(long)]
    pub json: bool,

    /// Read the vault passphrase from the first line of a file (for scripts).
    #[arg(long, value_name = "F")]
    pub passphrase_file: Option<PathBuf>,

    /// Run on every host of the workspace's inventory.
    #[arg(long)]
    pub all: bool,

    /// List the runbooks and snippets with their descriptions and parameters.
    #[arg(long, conflicts_with_all = ["history", "dry_run", "yes"])]
    pub list: bool,

    /// Show past runs (of runbook NAME when given).
    #[arg(long, conflicts_with_all = ["dry_run", "yes"])]
    pub history: bool,

    /// Port to connect to when a destination names none.
    #[arg(long, value_name = "PORT")]
    pub port: Option<u16>,

    #[command(flatten)]
    pub ssh: SshFlags,

    /// The workspace (its hosts.toml, runbooks/, snippets.toml, vault and run history).
    #[arg(long, value_name = "NAME", default_value = DEFAULT_WORKSPACE)]
    pub workspace: String,
}

pub fn run(mut args: RunArgs, paths: &Paths) -> ExitCode {
    if let Some(command) = args.command.take() {
        return super::run_export::run(command, paths);
    }
    let result = if args.list {
        list(&args, paths)
    } else if args.history {
        show_history(&args, paths)
    } else {
        run_named(&args, paths)
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            crate::errln!("lumen run: {}", crate::text::error_chain(e.as_ref()));
            ExitCode::from(EXIT_USAGE)
        }
    }
}

/// Why `lumen run` refused the plan (nothing ran).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Refused(String);

fn history_path(paths: &Paths, workspace: &str) -> Result<PathBuf> {
    crate::workspace::store::check_workspace_name(workspace)?;
    Ok(paths.workspace_dir(workspace).join(history::HISTORY_FILE))
}

fn list(args: &RunArgs, paths: &Paths) -> Result<ExitCode> {
    let catalog = Catalog::load(paths, &args.workspace)?;
    let text = if args.json {
        run_output::list_json(&catalog)?
    } else {
        run_output::list_text(&catalog)
    };
    crate::outln!("{}", text.trim_end());
    Ok(ExitCode::SUCCESS)
}

fn show_history(args: &RunArgs, paths: &Paths) -> Result<ExitCode> {
    let runs = history::read(&history_path(paths, &args.workspace)?, args.name.as_deref())?;
    let text = if args.json {
        crate::text::escape_json_controls(&serde_json::to_string_pretty(&runs)?).into_owned()
    } else {
        run_output::history_text(&runs)
    };
    crate::outln!("{}", text.trim_end());
    Ok(ExitCode::SUCCESS)
}

/// `-p NAME=VALUE` pairs; a name given twice is an error.
fn given_params(pairs: &[String]) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for p in pairs {
        let (k, v) = p
            .split_once('=')
            .ok_or_else(|| anyhow!("-p takes NAME=VALUE, not {}", crate::text::quoted(p)))?;
        if out.insert(k.to_string(), v.to_string()).is_some() {
            bail!("parameter {k:?} is given twice");
        }
    }
    Ok(out)
}

fn connect_args(args: &RunArgs) -> ConnectArgs {
    ConnectArgs {
        port: args.port,
        ssh: args.ssh.clone(),
        forward_agent: false,
        workspace: args.workspace.clone(),
        no_tty: false,
        words: Vec::new(),
    }
}

fn load_inventory(paths: &Paths, workspace: &str) -> Inventory {
    let loaded = HostsFile::for_workspace(paths, workspace).and_then(|f| f.load());
    loaded.unwrap_or_else(|e| {
        crate::errln!("lumen run: {e}; using ssh_config only");
        Inventory::default()
    })
}

/// A terminal to ask on: stdin and stderr both terminals.
fn at_terminal() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

fn run_named(args: &RunArgs, paths: &Paths) -> Result<ExitCode> {
    let Some(name) = &args.name else {
        bail!("name a runbook or snippet to run; `lumen run --list` shows them");
    };
    let catalog = Catalog::load(paths, &args.workspace)?;
    let Some(mut runbook) = catalog.runnable(name) else {
        let mut known: Vec<&str> = catalog.runbooks.iter().map(|r| r.name.as_str()).collect();
        known.extend(catalog.snippets.iter().map(|s| s.name.as_str()));
        bail!(
            "no runbook or snippet named {}; known: {}",
            crate::text::quoted(name),
            if known.is_empty() {
                "none (see README: runbooks)".to_string()
            } else {
                known.join(", ")
            }
        );
    };
    if let Some(n) = args.parallel {
        runbook.parallel = usize::from(n);
    }
    let given = given_params(&args.params)?;
    // Parameters are checked before anything else is looked at.
    crate::runbook::check_params(&runbook.params, &given)?;
    let (words, expression) = if args.targets.is_empty() && !args.all {
        let t = runbook.targets.clone().unwrap_or_default();
        (crate::workspace::targets::words(&t), t)
    } else {
        let mut e = args.targets.join(" ");
        if args.all {
            e = if e.is_empty() {
                "--all".into()
            } else {
                format!("--all {e}")
            };
        }
        (args.targets.clone(), e)
    };
    let inventory = load_inventory(paths, &args.workspace);
    let cargs = connect_args(args);
    let base = connect::options(&cargs, paths);
    let resolve = connect::resolve_options(&cargs)?;
    let resolver = Resolver {
        inventory: &inventory,
        resolve: &resolve,
        base: &base,
    };
    let hosts = resolver.hosts(&words, args.all)?;
    for w in hosts.iter().flat_map(|h| &h.ssh.warnings) {
        crate::errln!("lumen run: warning: {w}");
    }
    let plan = Plan::new(&runbook, &given, expression, hosts)?;
    if args.dry_run {
        crate::outln!("{}", plan.describe().trim_end());
        return Ok(ExitCode::SUCCESS);
    }
    crate::errln!("{}", plan.describe().trim_end());
    approve(&plan, args)?;
    let vault = unlock(&plan, args, paths)?;
    let report = execute(&plan, &base, vault, args)?;
    if let Err(e) = history::append(&history_path(paths, &args.workspace)?, &report) {
        crate::errln!("lumen run: warning: {e}");
    }
    if args.json {
        crate::outln!(
            "{}",
            crate::text::escape_json_controls(&serde_json::to_string_pretty(&report)?)
        );
    } else {
        crate::outln!("{}", run_output::summary(&report).trim_end());
    }
    Ok(if report.success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_FAILED)
    })
}

/// The approval rules: a terminal asks (`y`; the target expression for High plans); `--yes`
/// approves Low and Medium, `--allow-high` also High; otherwise nothing runs.
fn approve(plan: &Plan, args: &RunArgs) -> Result<()> {
    let high = plan.risk() == Risk::High;
    if args.yes {
        if high && !args.allow_high {
            return Err(Refused(
                "the plan has High risk steps; nothing ran. Add --allow-high to approve them"
                    .into(),
            )
            .into());
        }
        return Ok(());
    }
    if !at_terminal() {
        return Err(Refused(format!(
            "no terminal to approve the plan on; nothing ran. Approve with --yes{}",
            if high {
                " --allow-high (it has High risk steps)"
            } else {
                ""
            }
        ))
        .into());
    }
    let answer = if high {
        super::tty_prompt::read_line(&format!(
            "High risk steps: type the targets ({}) to run this plan: ",
            plan.targets
        ))
        .map(|a| a.trim() == plan.targets.trim())
    } else {
        super::tty_prompt::read_line("Run this plan? [y/N] ")
            .map(|a| a.trim().eq_ignore_ascii_case("y"))
    };
    if answer != Some(true) {
        return Err(Refused("not approved; nothing ran".into()).into());
    }
    Ok(())
}

/// The vaults, when the steps take secrets (or a passphrase file was given): their values
/// are substituted where bound and masked in every output.
fn unlock(plan: &Plan, args: &RunArgs, paths: &Paths) -> Result<RunVault> {
    if !plan.takes_secrets() && args.passphrase_file.is_none() {
        return Ok(RunVault::none());
    }
    let opened = super::ai::setup::open_vaults_because(
        paths,
        &args.workspace,
        args.passphrase_file.as_deref(),
        "the runbook's steps take vault entries",
        "the {scope} vault must be unlocked for the steps that take its entries",
    )?;
    let owner = VaultOwner::new(Vec::new());
    owner.put(
        opened
            .into_iter()
            .map(|(scope, vault)| ScopedVault { scope, vault })
            .collect(),
    );
    Ok(RunVault::from_owner(owner))
}

fn execute(
    plan: &Plan,
    base: &crate::ssh::ConnectOptions,
    vault: RunVault,
    args: &RunArgs,
) -> Result<exec::RunReport> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let bar = run_output::progress_bar(plan.hosts.len());
    let confirm = confirmer(args, &bar);
    let pause_bar = bar.clone();
    let report = runtime.block_on(async {
        let prompter = super::tty_prompt::terminal_prompter(move |ask| pause_bar.suspend(ask));
        let connector = crate::ssh::Connector::new(base.clone(), prompter);
        let (canceller, cancel) = exec::cancel_switch();
        let interrupted = tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                canceller.cancel();
                crate::errln!(
                    "lumen run: cancelling: running steps are stopped, nothing new starts"
                );
            }
        });
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let progress = {
            let bar = bar.clone();
            tokio::spawn(async move {
                let (mut done, mut failed, mut running) = (0usize, 0usize, 0usize);
                while let Some(e) = rx.recv().await {
                    match e {
                        RunEvent::HostStarted { .. } => running += 1,
                        RunEvent::HostDone { status, .. } => {
                            if status != HostStatus::Skipped {
                                running = running.saturating_sub(1);
                            }
                            done += 1;
                            if status != HostStatus::Ok {
                                failed += 1;
                            }
                            bar.inc(1);
                        }
                        _ => {}
                    }
                    bar.set_message(format!("{failed} failed, {running} running"));
                }
                let _ = done;
            })
        };
        let report = exec::run(plan, &connector, vault, confirm, tx, cancel).await;
        interrupted.abort();
        let _ = progress.await;
        report
    });
    bar.finish_and_clear();
    Ok(report)
}

/// `confirm = true` steps: approved by --yes, else asked on the terminal once per step.
fn confirmer(args: &RunArgs, bar: &indicatif::ProgressBar) -> Confirm {
    if args.yes || !at_terminal() {
        // Without a terminal the plan was approved only with --yes, which covers them.
        return exec::confirm_all();
    }
    let bar = bar.clone();
    std::sync::Arc::new(move |step: usize| {
        let bar = bar.clone();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || {
                let mut yes = false;
                bar.suspend(|| {
                    yes = super::tty_prompt::read_line(&format!(
                        "Step {} asks again before it starts: run it now? [y/N] ",
                        step + 1
                    ))
                    .is_some_and(|a| a.trim().eq_ignore_ascii_case("y"));
                });
                yes
            })
            .await
            .unwrap_or(false)
        })
    })
}
