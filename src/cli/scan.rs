//! `lumen scan`: scan hosts over SSH (destinations, `@GROUP`, `--all`), several at a time, match
//! their packages against OSV data, keep the history, print a report or `--json`; and
//! `lumen scan db import|status` for the offline OSV data.

use super::connect::{self, ConnectArgs, SshFlags};
use super::scan_export::{self, OutputFormat};
use super::scan_output;
use crate::paths::Paths;
use crate::scan::export::Shard;
use crate::scan::osv::{AdvisoryLookup, MemoryIndex, OsvDb, online, source};
use crate::scan::report::{HostScan, JsonHost, JsonReport};
use crate::scan::{Diff, IgnoreList, ScanOptions, Severity, SshRunner, Store, engine};
use crate::ssh::{JumpPool, Plan, Prompter};
use crate::workspace::{DEFAULT_WORKSPACE, HostsFile, Inventory};
use anyhow::{Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use futures::StreamExt;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// Exit status for bad arguments or unreadable local files.
const EXIT_USAGE: u8 = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Low,
    Medium,
    High,
    Critical,
}

impl FailOn {
    pub fn severity(self) -> Severity {
        match self {
            FailOn::Low => Severity::Low,
            FailOn::Medium => Severity::Medium,
            FailOn::High => Severity::High,
            FailOn::Critical => Severity::Critical,
        }
    }
}

#[derive(Debug, Args)]
#[command(
    args_conflicts_with_subcommands = true,
    after_help = "Exit status: 0 when every host was scanned (and nothing reached --fail-on), \
                  1 when a finding at or above --fail-on exists, 2 for bad arguments, 3 when \
                  a host could not be fully scanned (not reached, or vulnerabilities not \
                  checked: no OSV data); `--fail-on` wins over 3.\nA host literally named `db` \
                  or `merge`: write `lumen scan -- db`."
)]
pub struct ScanArgs {
    #[command(subcommand)]
    pub command: Option<ScanCommand>,

    /// Port to connect to when a destination names none.
    #[arg(short = 'p', value_name = "PORT")]
    pub port: Option<u16>,

    #[command(flatten)]
    pub ssh: SshFlags,

    /// Scan every host of the workspace's inventory.
    #[arg(long)]
    pub all: bool,

    /// Use this OSV data (a directory of JSON files or an ecosystem's all.zip) for this scan
    /// instead of the imported database.
    #[arg(long, value_name = "PATH", conflicts_with = "online")]
    pub osv_db: Option<PathBuf>,

    /// Ask OSV's online API instead of local data. Sends every package's name, version and
    /// ecosystem to api.osv.dev (see `lumen --privacy`).
    #[arg(long)]
    pub online: bool,

    /// Run the checks that need root through `sudo -n` (never asks for a password).
    #[arg(long)]
    pub sudo: bool,

    /// Hosts scanned at the same time (connections in flight).
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..))]
    pub parallel: u16,

    /// At most this many of the --parallel connections go through the same jump host, so one
    /// bastion is not overloaded.
    #[arg(long, value_name = "N", default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..))]
    pub per_jump: u16,

    /// Scan only shard I of N (1 <= I <= N): the hosts whose name hashes there. N jobs with
    /// I = 1…N scan every host once; `lumen scan merge` joins their --json.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<Shard>,

    /// Print the results as JSON on stdout (the same as --format json).
    #[arg(long, conflicts_with = "format")]
    pub json: bool,

    /// Print the results on stdout as JSON, SARIF 2.1.0 (code scanning) or Prometheus text.
    #[arg(long, value_name = "FORMAT")]
    pub format: Option<OutputFormat>,

    /// Also write the results as Prometheus text to PATH, atomically (for node_exporter's
    /// textfile collector).
    #[arg(long, value_name = "PATH")]
    pub prom_file: Option<PathBuf>,

    /// Say how long each collector took on each host: on stderr, or with --json as each
    /// host's `timings` object (seconds per collector).
    #[arg(long)]
    pub timings: bool,

    /// Exit with status 1 when a finding at or above this severity exists (package or
    /// configuration; a finding of unknown severity counts as low).
    #[arg(long, value_name = "SEVERITY")]
    pub fail_on: Option<FailOn>,

    /// Show only findings that have a fix.
    #[arg(long, conflicts_with = "unfixed")]
    pub fixable: bool,

    /// Show only findings with no fix yet.
    #[arg(long)]
    pub unfixed: bool,

    /// The workspace (its hosts.toml, scan-ignore.toml and scans.sqlite).
    #[arg(long, value_name = "NAME", default_value = DEFAULT_WORKSPACE)]
    pub workspace: String,

    /// Hosts: inventory names, ssh_config aliases or [USER@]HOST[:PORT]; `@GROUP` for a group.
    #[arg(value_name = "DEST|@GROUP")]
    pub targets: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum ScanCommand {
    /// The offline OSV data in the workspace's scans.sqlite.
    Db {
        #[command(subcommand)]
        command: DbCommand,
    },
    /// Merge the --json reports of sharded scans into one report (exit status as a scan's).
    Merge(scan_export::MergeArgs),
}

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Import a directory of OSV JSON files or an ecosystem's all.zip
    /// (e.g. https://osv-vulnerabilities.storage.googleapis.com/Debian/all.zip).
    Import {
        #[arg(value_name = "PATH")]
        path: PathBuf,
    },
    /// Say what is imported and when.
    Status,
}

pub fn run(args: ScanArgs, paths: &Paths) -> ExitCode {
    let result = match &args.command {
        Some(ScanCommand::Db { command }) => db(command, paths, &args.workspace),
        Some(ScanCommand::Merge(merge)) => scan_export::merge(merge, paths, &args.workspace),
        None => scan(&args, paths),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            crate::errln!("lumen scan: {}", crate::text::error_chain(e.as_ref()));
            ExitCode::from(EXIT_USAGE)
        }
    }
}

pub fn db_path(paths: &Paths, workspace: &str) -> Result<PathBuf> {
    crate::workspace::store::check_workspace_name(workspace)?;
    Ok(paths.workspace_dir(workspace).join(crate::scan::DB_FILE))
}

fn db(command: &DbCommand, paths: &Paths, workspace: &str) -> Result<ExitCode> {
    let db = OsvDb::open(&db_path(paths, workspace)?)?;
    match command {
        DbCommand::Import { path } => {
            let report = db.import(path)?;
            for w in &report.read.warnings {
                crate::errln!("lumen scan db import: warning: {w}");
            }
            crate::outln!(
                "imported {} records from {} ({} skipped)",
                report.read.records,
                path.display(),
                report.read.skipped
            );
            for (eco, n) in &report.ecosystems {
                crate::outln!("  {eco}: {n} package entries");
            }
        }
        DbCommand::Status => match db.last_import()? {
            Some(info) => {
                crate::outln!(
                    "{} records; last import {} from {} ({} records)",
                    db.count()?,
                    info.imported_at.date(),
                    info.source,
                    info.records
                );
                if let Some(w) = db.stale_warning(time::OffsetDateTime::now_utc()) {
                    crate::outln!("warning: {w}");
                }
            }
            None => crate::outln!("no OSV data imported; run `lumen scan db import PATH`"),
        },
    }
    Ok(ExitCode::SUCCESS)
}

/// Destinations from the arguments: names, `@GROUP` members, globs, or the whole inventory.
fn expand_targets(args: &ScanArgs, inventory: &Inventory) -> Result<Vec<String>> {
    let mut out = crate::workspace::targets::expand(&args.targets, args.all, inventory)
        .map_err(anyhow::Error::msg)?;
    anyhow::ensure!(
        !out.is_empty(),
        "nothing to scan: name hosts, @GROUP, or --all"
    );
    if let Some(shard) = args.shard {
        out.retain(|name| shard.contains(name));
    }
    Ok(out)
}

/// Where advisories come from for this run.
enum Advisories {
    Shared(Arc<dyn AdvisoryLookup>),
    Online,
    None,
}

fn advisories(args: &ScanArgs, paths: &Paths, warn: &mut Vec<String>) -> Result<Advisories> {
    if args.online {
        return Ok(Advisories::Online);
    }
    if let Some(path) = &args.osv_db {
        let (index, report): (MemoryIndex, _) = source::load(path)?;
        warn.extend(report.warnings);
        return Ok(Advisories::Shared(Arc::new(index)));
    }
    let db = OsvDb::open(&db_path(paths, &args.workspace)?)?;
    if db.count()? == 0 {
        warn.push(crate::scan::ScanError::NoOsvData.to_string());
        return Ok(Advisories::None);
    }
    warn.extend(db.stale_warning(time::OffsetDateTime::now_utc()));
    Ok(Advisories::Shared(Arc::new(db)))
}

fn load_inventory(paths: &Paths, workspace: &str) -> Result<Inventory> {
    let file = HostsFile::for_workspace(paths, workspace)?;
    Ok(file.load()?)
}

fn scan(args: &ScanArgs, paths: &Paths) -> Result<ExitCode> {
    if let Err(e) = super::limits::raise_open_files() {
        crate::errln!("lumen scan: warning: {e}");
    }
    let format = args.format.or(args.json.then_some(OutputFormat::Json));
    let inventory = load_inventory(paths, &args.workspace).unwrap_or_else(|e| {
        crate::errln!("lumen scan: {e:#}; using ssh_config only");
        Inventory::default()
    });
    let names = expand_targets(args, &inventory)?;
    let connect_args = ConnectArgs {
        port: args.port,
        ssh: args.ssh.clone(),
        forward_agent: false,
        workspace: args.workspace.clone(),
        no_tty: false,
        words: connect::destination_words(names),
    };
    let base = connect::options(&connect_args, paths);
    let resolve = connect::resolve_options(&connect_args)?;
    // A shard can be empty: its report is then empty too.
    let plans = if connect_args.words.is_empty() {
        Vec::new()
    } else {
        connect::plans(&connect_args, &inventory, &resolve, &base)?
    };
    for w in plans.iter().flat_map(|p| &p.warnings) {
        crate::errln!("lumen scan: warning: {w}");
    }
    let mut warnings = Vec::new();
    let source = advisories(args, paths, &mut warnings)?;
    let ignore = IgnoreList::load(
        &paths
            .workspace_dir(&args.workspace)
            .join(crate::scan::IGNORE_FILE),
    )?;
    let mut store = Store::open(&db_path(paths, &args.workspace)?)?;
    for w in &warnings {
        crate::errln!("lumen scan: warning: {w}");
    }
    let opts = ScanOptions {
        sudo: args.sudo,
        ..ScanOptions::default()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let bar = progress_bar(plans.len());
    let pause_bar = bar.clone();
    let results = runtime.block_on(async {
        let prompter = super::tty_prompt::terminal_prompter(move |ask| pause_bar.suspend(ask));
        let pool = JumpPool::new();
        let per_jump = PerJump::new(&plans, usize::from(args.per_jump));
        let ctx = Ctx {
            pool: &pool,
            per_jump: &per_jump,
            prompter: &prompter,
            source: &source,
            ignore: &ignore,
            opts: &opts,
        };
        let mut done = Vec::new();
        let mut stream = futures::stream::iter(plans.iter())
            .map(|plan| ctx.scan_one(plan))
            .buffer_unordered(usize::from(args.parallel));
        while let Some((name, result)) = stream.next().await {
            bar.inc(1);
            bar.set_message(crate::text::escape_controls(&name).into_owned());
            done.push((name, result));
        }
        done
    });
    bar.finish_and_clear();
    // Report in the order the hosts were given.
    let order: Vec<&str> = plans.iter().map(|p| p.target.name.as_str()).collect();
    let mut results = results;
    results.sort_by_key(|(n, _)| order.iter().position(|o| o == n));
    let mut report = JsonReport::default();
    let mut human = Vec::new();
    for (name, result) in results {
        match result {
            Ok(mut scan) => {
                for w in &scan.warnings {
                    crate::errln!("lumen scan: {name}: warning: {w}");
                }
                let diff = match store.record(&mut scan) {
                    Ok(d) => Some(d),
                    Err(e) => {
                        crate::errln!("lumen scan: {name}: the scan was not saved: {e}");
                        None
                    }
                };
                filter_findings(&mut scan, args);
                let mut json = JsonHost::new(&scan, diff.as_ref());
                if args.timings {
                    json = json.with_timings(&scan);
                    if format.is_none() {
                        crate::errln!("lumen scan: {}", timings_line(&scan));
                    }
                }
                report.hosts.push(json);
                human.push((scan, diff));
            }
            Err(e) => {
                crate::errln!("lumen scan: {name}: {e}");
                report.hosts.push(JsonHost::failed(&name, e.clone()));
                human.push((failed_scan(&name, e), None::<Diff>));
            }
        }
    }
    match format {
        Some(format) => scan_export::print(&report, format)?,
        None => {
            let color = std::io::stdout().is_terminal();
            for (scan, diff) in &human {
                print!("{}", scan_output::host(scan, diff.as_ref(), color));
            }
        }
    }
    if let Some(path) = &args.prom_file {
        scan_export::write_prom(&report, path)?;
    }
    Ok(scan_export::exit_status(&report, args.fail_on))
}

/// `HOST: 4.2 s in all; packages 0.1 s, SUID/SGID files 2.3 s, …` (slowest first).
fn timings_line(scan: &HostScan) -> String {
    let mut t: Vec<_> = scan.timings.iter().collect();
    t.sort_by(|a, b| b.seconds.total_cmp(&a.seconds));
    let each: Vec<String> = t
        .iter()
        .map(|t| format!("{} {:.2} s", t.what, t.seconds))
        .collect();
    let total = scan
        .duration_seconds()
        .map_or("?".to_string(), |d| format!("{d:.2}"));
    crate::text::escape_controls(&format!(
        "{}: {total} s in all; {}",
        scan.host,
        each.join(", ")
    ))
    .into_owned()
}

fn failed_scan(name: &str, error: String) -> HostScan {
    HostScan {
        host: name.to_string(),
        errors: vec![error],
        ..HostScan::default()
    }
}

fn filter_findings(scan: &mut HostScan, args: &ScanArgs) {
    if args.fixable {
        scan.findings.retain(|f| f.fixed.is_some());
    }
    if args.unfixed {
        scan.findings.retain(|f| f.fixed.is_none());
    }
}

fn progress_bar(hosts: usize) -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(hosts as u64),
        indicatif::ProgressDrawTarget::stderr(),
    );
    let template = format!(
        "scanning {{bar:30}} {{pos}}/{{len}} {} {{msg}}",
        hosts_word(hosts)
    );
    if let Ok(style) = indicatif::ProgressStyle::with_template(&template) {
        bar.set_style(style);
    }
    bar
}

/// "host" or "hosts", to go after a count.
pub fn hosts_word(n: usize) -> &'static str {
    if n == 1 { "host" } else { "hosts" }
}

/// A cap on connections in flight through each first jump host (`--per-jump`).
struct PerJump {
    limits: std::collections::HashMap<String, Arc<tokio::sync::Semaphore>>,
}

impl PerJump {
    fn new(plans: &[Plan], cap: usize) -> Self {
        let limits = plans
            .iter()
            .filter_map(Self::key)
            .map(|k| (k, Arc::new(tokio::sync::Semaphore::new(cap))))
            .collect();
        Self { limits }
    }

    /// The first hop, as `user@host:port`: what a bastion is.
    fn key(plan: &Plan) -> Option<String> {
        let hop = plan.jumps.first()?;
        Some(format!("{}@{}", hop.target.user, hop.addr()))
    }

    /// Wait for room on the plan's jump host; None when it has no jump host.
    async fn enter(&self, plan: &Plan) -> Option<tokio::sync::OwnedSemaphorePermit> {
        let limit = self.limits.get(&Self::key(plan)?)?.clone();
        limit.acquire_owned().await.ok()
    }
}

/// What each host's scan shares.
struct Ctx<'a> {
    pool: &'a JumpPool,
    per_jump: &'a PerJump,
    prompter: &'a Prompter,
    source: &'a Advisories,
    ignore: &'a IgnoreList,
    opts: &'a ScanOptions,
}

impl Ctx<'_> {
    async fn scan_one(&self, plan: &Plan) -> (String, Result<HostScan, String>) {
        let name = plan.target.name.clone();
        // Held until the scan of this host ends, connection closed.
        let _through_jump = self.per_jump.enter(plan).await;
        let conn = match self.pool.connect(plan, self.prompter).await {
            Ok(c) => c,
            Err(e) => return (name, Err(e.to_string())),
        };
        let runner = SshRunner::new(conn);
        let started = time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        let collected = engine::collect(&runner, self.opts).await;
        runner.close().await;
        let scan = match self.source {
            Advisories::Shared(lookup) => engine::assess(
                &name,
                started,
                collected,
                Some(lookup.as_ref()),
                self.ignore,
                self.opts.today,
            ),
            Advisories::None => engine::assess(
                &name,
                started,
                collected,
                None,
                self.ignore,
                self.opts.today,
            ),
            Advisories::Online => {
                let queries = engine::online_queries(&collected);
                match online::fetch(&queries).await {
                    Ok(index) => engine::assess(
                        &name,
                        started,
                        collected,
                        Some(&index),
                        self.ignore,
                        self.opts.today,
                    ),
                    Err(e) => {
                        let mut scan = engine::assess(
                            &name,
                            started,
                            collected,
                            None,
                            self.ignore,
                            self.opts.today,
                        );
                        scan.errors.retain(|e| !e.starts_with("vulnerabilities:"));
                        scan.errors.push(format!("vulnerabilities: {e}"));
                        scan
                    }
                }
            }
        };
        (name, Ok(scan))
    }
}
