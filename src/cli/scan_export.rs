//! `lumen scan`'s results for other tools: `--format json|sarif|prom`, `--prom-file`, the exit
//! status every scan shares, and `lumen scan merge` of sharded scans' JSON.

use super::scan::FailOn;
use crate::paths::Paths;
use crate::scan::Store;
use crate::scan::export::{self, prom, sarif};
use crate::scan::report::JsonReport;
use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Exit status when `--fail-on` found something at or above its level.
const EXIT_FAIL_ON: u8 = 1;
/// Exit status when some host could not be fully scanned: not reached, or its packages not
/// matched against advisories (no OSV data); `--fail-on` did not trigger.
const EXIT_HOST_FAILED: u8 = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// The `--json` document.
    Json,
    /// SARIF 2.1.0, for code-scanning tools.
    Sarif,
    /// Prometheus text exposition format.
    Prom,
}

/// Print `report` on stdout in `format`.
pub fn print(report: &JsonReport, format: OutputFormat) -> Result<()> {
    // Host-supplied text is escaped in JSON strings, so no control byte reaches a terminal.
    let text = match format {
        OutputFormat::Json => serde_json::to_string_pretty(report)?,
        OutputFormat::Sarif => serde_json::to_string_pretty(&sarif::to_sarif(report))?,
        OutputFormat::Prom => {
            print!("{}", crate::text::escape_lines(&prom::to_prom(report)));
            return Ok(());
        }
    };
    crate::outln!("{}", crate::text::escape_json_controls(&text));
    Ok(())
}

/// `--prom-file PATH`: the Prometheus text, written atomically.
pub fn write_prom(report: &JsonReport, path: &Path) -> Result<()> {
    prom::write_file(path, &prom::to_prom(report))
        .with_context(|| format!("cannot write {}", path.display()))
}

/// 1 when a finding reaches `--fail-on`, else 3 when a host was not fully scanned, else 0.
pub fn exit_status(report: &JsonReport, fail_on: Option<FailOn>) -> ExitCode {
    if let Some(level) = fail_on
        && report
            .hosts
            .iter()
            .filter_map(|h| h.worst())
            .any(|w| w >= level.severity())
    {
        return ExitCode::from(EXIT_FAIL_ON);
    }
    if report.hosts.iter().any(|h| !h.fully_scanned()) {
        return ExitCode::from(EXIT_HOST_FAILED);
    }
    ExitCode::SUCCESS
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The reports: `lumen scan --json` output of each shard.
    #[arg(value_name = "FILE.json", required = true)]
    pub files: Vec<PathBuf>,

    /// Also record each scanned host in the workspace's scans.sqlite (history, fleet view).
    #[arg(long)]
    pub import: bool,

    /// Print the merged report as JSON (default), SARIF or Prometheus text.
    #[arg(long, value_name = "FORMAT", default_value = "json")]
    pub format: OutputFormat,

    /// Also write the merged results as Prometheus text to PATH, atomically.
    #[arg(long, value_name = "PATH")]
    pub prom_file: Option<PathBuf>,

    /// Exit with status 1 when a finding at or above this severity exists.
    #[arg(long, value_name = "SEVERITY")]
    pub fail_on: Option<FailOn>,
}

fn read_report(path: &Path) -> Result<JsonReport> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not a `lumen scan --json` report (expected {{\"hosts\": [...]}})",
            path.display()
        )
    })
}

/// `lumen scan merge FILE…`.
pub fn merge(args: &MergeArgs, paths: &Paths, workspace: &str) -> Result<ExitCode> {
    let reports = args
        .files
        .iter()
        .map(|f| read_report(f))
        .collect::<Result<Vec<_>>>()?;
    let merged = export::merge(reports);
    for host in &merged.duplicates {
        crate::errln!(
            "lumen scan merge: warning: {} is in more than one report; kept its latest scan",
            crate::text::escape_controls(host)
        );
    }
    if args.import {
        let mut store = Store::open(&super::scan::db_path(paths, workspace)?)?;
        let mut imported = 0;
        for host in merged.report.hosts.iter().filter(|h| h.packages.is_some()) {
            store.record(&mut host.to_host_scan())?;
            imported += 1;
        }
        crate::errln!(
            "lumen scan merge: recorded {imported} {} in scans.sqlite",
            super::scan::hosts_word(imported)
        );
    }
    print(&merged.report, args.format)?;
    if let Some(path) = &args.prom_file {
        write_prom(&merged.report, path)?;
    }
    Ok(exit_status(&merged.report, args.fail_on))
}
