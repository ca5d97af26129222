//! `lumen scan`: scan hosts over SSH (destinations, `@GROUP`, `--all`), several at a time, match
//! their packages against OSV data, keep the history, print a report or `--json`; and
//! `lumen scan db import|status` for the offline OSV data.

use super::connect::{self, ConnectArgs};
use super::scan_output;
use crate::paths::Paths;
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

/// Exit status when `--fail-on` found something at or above its level.
const EXIT_FAIL_ON: u8 = 1;
/// Exit status for bad arguments or unreadable local files.
const EXIT_USAGE: u8 = 2;
/// Exit status when some host could not be fully scanned: not reached, or its packages not
/// matched against advisories (no OSV data); `--fail-on` did not trigger.
const EXIT_HOST_FAILED: u8 = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Low,
    Medium,
    High,
    Critical,
}

impl FailOn {
    fn severity(self) -> Severity {
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
                  checked: no OSV data).\nA host literally named `db`: write `lumen scan -- db`."
)]
pub struct ScanArgs {
    #[command(subcommand)]
    pub command: Option<ScanCommand>,

    /// Port to connect to when a destination names none.
    #[arg(short = 'p', value_name = "PORT")]
    pub port: Option<u16>,

    /// Identity file (private key); repeat for several.
    #[arg(short = 'i', value_name = "KEY")]
    pub identity: Vec<PathBuf>,

    /// User to log in as when a destination names none.
    #[arg(short = 'l', value_name = "USER")]
    pub user: Option<String>,

    /// Jump hosts, first hop first: `[user@]host[:port][,…]`, or `none`.
    #[arg(short = 'J', value_name = "JUMP[,JUMP…]")]
    pub jump: Option<String>,

    /// Read this ssh config instead of ~/.ssh/config and /etc/ssh/ssh_config.
    #[arg(short = 'F', value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// An ssh_config option, as `Keyword=value`; repeat for several.
    #[arg(short = 'o', value_name = "OPTION")]
    pub options: Vec<String>,

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

    /// Hosts scanned at the same time.
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..))]
    pub parallel: u16,

    /// Print the results as JSON on stdout.
    #[arg(long)]
    pub json: bool,

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

fn db_path(paths: &Paths, workspace: &str) -> Result<PathBuf> {
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
    let out = crate::workspace::targets::expand(&args.targets, args.all, inventory)
        .map_err(anyhow::Error::msg)?;
    anyhow::ensure!(
        !out.is_empty(),
        "nothing to scan: name hosts, @GROUP, or --all"
    );
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
    let inventory = load_inventory(paths, &args.workspace).unwrap_or_else(|e| {
        crate::errln!("lumen scan: {e:#}; using ssh_config only");
        Inventory::default()
    });
    let names = expand_targets(args, &inventory)?;
    let connect_args = ConnectArgs {
        port: args.port,
        identity: args.identity.clone(),
        user: args.user.clone(),
        forward_agent: false,
        jump: args.jump.clone(),
        config: args.config.clone(),
        options: args.options.clone(),
        workspace: args.workspace.clone(),
        no_tty: false,
        words: connect::destination_words(names),
    };
    let base = connect::options(&connect_args, paths);
    let resolve = connect::resolve_options(&connect_args)?;
    let plans = connect::plans(&connect_args, &inventory, &resolve, &base)?;
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
        let ctx = Ctx {
            pool: &pool,
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
    // Hosts not fully scanned: unreachable, or their packages not matched (no OSV data).
    let mut failed_hosts = 0;
    let mut worst: Option<Severity> = None;
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
                if scan.vulnerabilities_unchecked().is_some() {
                    failed_hosts += 1;
                }
                filter_findings(&mut scan, args);
                // A finding of unknown severity still counts for `--fail-on low`.
                worst = worst.max(scan.worst().map(|w| w.max(Severity::Low)));
                let mut json = JsonHost::new(&scan, diff.as_ref());
                if args.timings {
                    json = json.with_timings(&scan);
                    if !args.json {
                        crate::errln!("lumen scan: {}", timings_line(&scan));
                    }
                }
                report.hosts.push(json);
                human.push((scan, diff));
            }
            Err(e) => {
                failed_hosts += 1;
                crate::errln!("lumen scan: {name}: {e}");
                report.hosts.push(JsonHost::failed(&name, e.clone()));
                human.push((failed_scan(&name, e), None::<Diff>));
            }
        }
    }
    if args.json {
        crate::outln!(
            "{}",
            crate::text::escape_json_controls(&serde_json::to_string_pretty(&report)?)
        );
    } else {
        let color = std::io::stdout().is_terminal();
        for (scan, diff) in &human {
            print!("{}", scan_output::host(scan, diff.as_ref(), color));
        }
    }
    if let Some(level) = args.fail_on
        && worst.is_some_and(|w| w >= level.severity())
    {
        return Ok(ExitCode::from(EXIT_FAIL_ON));
    }
    if failed_hosts > 0 {
        return Ok(ExitCode::from(EXIT_HOST_FAILED));
    }
    Ok(ExitCode::SUCCESS)
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

/// What each host's scan shares.
struct Ctx<'a> {
    pool: &'a JumpPool,
    prompter: &'a Prompter,
    source: &'a Advisories,
    ignore: &'a IgnoreList,
    opts: &'a ScanOptions,
}

impl Ctx<'_> {
    async fn scan_one(&self, plan: &Plan) -> (String, Result<HostScan, String>) {
        let name = plan.target.name.clone();
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
