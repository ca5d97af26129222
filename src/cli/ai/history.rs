//! `lumen ai history [HOST]`: the copilot conversations saved in the workspace
//! (`ai/<host>.jsonl`, redacted): one line per host, or one host's records.

use crate::ai::copilot::{HistoryRecord, history_path, read_history};
use crate::paths::Paths;
use crate::workspace::DEFAULT_WORKSPACE;
use anyhow::{Context, Result};
use clap::Args;
use serde::Serialize;
use std::io::Write;
use std::path::Path;

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// The host whose conversations to print; without it, one line per host.
    #[arg(value_name = "HOST")]
    pub host: Option<String>,
    /// Print JSON: [{"host", "records", "last"}], or the host's records.
    #[arg(long)]
    pub json: bool,
    /// The workspace whose ai/ directory is read.
    #[arg(long, value_name = "NAME", default_value = DEFAULT_WORKSPACE)]
    pub workspace: String,
}

/// One host in the listing.
#[derive(Debug, Serialize)]
struct HostLine {
    host: String,
    records: usize,
    /// The last record's time (RFC 3339, UTC).
    last: String,
}

pub fn run(args: &HistoryArgs, paths: &Paths) -> Result<()> {
    crate::workspace::store::check_workspace_name(&args.workspace)?;
    let dir = paths.workspace_dir(&args.workspace);
    let out = match &args.host {
        Some(host) => one_host(&dir, host, args.json)?,
        None => all_hosts(&dir, args.json)?,
    };
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(out.as_bytes())?;
    stdout.flush()?;
    Ok(())
}

/// Records of a file, with a warning for lines that could not be read.
fn read(path: &Path) -> Result<Vec<HistoryRecord>> {
    let (records, bad) =
        read_history(path).with_context(|| format!("reading {}", path.display()))?;
    if bad > 0 {
        crate::errln!(
            "lumen ai history: warning: {bad} unreadable line(s) in {} skipped",
            path.display()
        );
    }
    Ok(records)
}

fn all_hosts(dir: &Path, json: bool) -> Result<String> {
    let ai = dir.join("ai");
    let mut lines = Vec::new();
    let entries = match std::fs::read_dir(&ai) {
        Ok(e) => e.collect::<std::io::Result<Vec<_>>>()?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(e).with_context(|| format!("reading {}", ai.display())),
    };
    for entry in entries {
        let path = entry.path();
        if path.extension().is_none_or(|x| x != "jsonl") {
            continue;
        }
        let records = read(&path)?;
        let Some(last) = records.last() else { continue };
        // The name as the records give it: the file name is made safe for the disk.
        let host = last.host.clone();
        lines.push(HostLine {
            host,
            records: records.len(),
            last: last.time.clone(),
        });
    }
    lines.sort_by(|a, b| b.last.cmp(&a.last).then_with(|| a.host.cmp(&b.host)));
    if json {
        return Ok(format!("{}\n", json_text(&lines)?));
    }
    if lines.is_empty() {
        return Ok(format!(
            "no copilot conversations saved yet (they are kept in {})\n",
            ai.display()
        ));
    }
    let width = lines
        .iter()
        .map(|l| l.host.chars().count())
        .max()
        .unwrap_or(4);
    let mut out = format!("{:<width$}  {:>7}  LAST\n", "HOST", "RECORDS");
    for l in &lines {
        out.push_str(&format!(
            "{:<width$}  {:>7}  {}\n",
            crate::text::escape_controls(&l.host),
            l.records,
            crate::text::escape_controls(&l.last)
        ));
    }
    Ok(out)
}

fn one_host(dir: &Path, host: &str, json: bool) -> Result<String> {
    let path = history_path(dir, host);
    let records = read(&path)?;
    if json {
        return Ok(format!("{}\n", json_text(&records)?));
    }
    if records.is_empty() {
        return Ok(format!(
            "no copilot conversations saved for {} ({} does not exist or is empty)\n",
            crate::text::escape_controls(host),
            path.display()
        ));
    }
    let mut out = String::new();
    for r in &records {
        let mut head = format!("{}  {}", r.time, r.kind);
        let tags: Vec<String> = [
            r.risk.as_ref().map(|x| format!("risk {x}")),
            r.decision.clone(),
        ]
        .into_iter()
        .flatten()
        .collect();
        if !tags.is_empty() {
            head.push_str(&format!(" ({})", tags.join(", ")));
        }
        // Text from the file is shown, never obeyed: controls become visible escapes, and each
        // of its lines is indented under its record.
        let text: Vec<String> = r
            .text
            .lines()
            .map(|l| format!("    {}", crate::text::escape_controls(l)))
            .collect();
        out.push_str(&format!(
            "{}\n{}\n",
            crate::text::escape_controls(&head),
            text.join("\n")
        ));
    }
    Ok(out)
}

fn json_text<T: Serialize>(value: &T) -> Result<String> {
    let text = serde_json::to_string_pretty(value)?;
    Ok(crate::text::escape_json_controls(&text).into_owned())
}
