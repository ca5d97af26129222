//! What `lumen run` prints: the list of runbooks and snippets, the history, the progress bar
//! and the summary after a run (identical outputs gathered, failures per host).

use crate::runbook::exec::{HostStatus, RunReport};
use crate::runbook::gather::{final_outputs, host_set, render};
use crate::runbook::{Catalog, Param};
use std::fmt::Write;
use std::io::IsTerminal;

fn params_text(params: &[Param]) -> String {
    params
        .iter()
        .map(|p| match &p.default {
            Some(d) => format!("{}={}", p.name, crate::text::quoted(d)),
            None => format!("{} (required)", p.name),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn list_text(catalog: &Catalog) -> String {
    let mut out = String::new();
    if catalog.runbooks.is_empty() && catalog.snippets.is_empty() {
        return "no runbooks or snippets: add runbooks/NAME.toml or snippets.toml to the \
                workspace (see the README)"
            .into();
    }
    for (title, rows) in [
        (
            "runbooks",
            catalog
                .runbooks
                .iter()
                .map(|r| (&r.name, &r.description, &r.params, r.steps.len()))
                .collect::<Vec<_>>(),
        ),
        (
            "snippets",
            catalog
                .snippets
                .iter()
                .map(|s| (&s.name, &s.description, &s.params, 1))
                .collect(),
        ),
    ] {
        if rows.is_empty() {
            continue;
        }
        let _ = writeln!(out, "{title}:");
        for (name, description, params, steps) in rows {
            let _ = writeln!(
                out,
                "  {name}  {description} ({steps} {})",
                if steps == 1 { "step" } else { "steps" }
            );
            if !params.is_empty() {
                let _ = writeln!(out, "      params: {}", params_text(params));
            }
        }
    }
    out
}

pub fn list_json(catalog: &Catalog) -> anyhow::Result<String> {
    let runbooks: Vec<serde_json::Value> = catalog
        .runbooks
        .iter()
        .map(|r| {
            serde_json::json!({
                "name": r.name, "description": r.description, "targets": r.targets,
                "params": r.params, "steps": r.steps, "source": r.source,
            })
        })
        .collect();
    let snippets: Vec<serde_json::Value> = catalog
        .snippets
        .iter()
        .map(|s| {
            serde_json::json!({
                "name": s.name, "description": s.description, "run": s.run,
                "params": s.params, "source": s.source,
            })
        })
        .collect();
    let v = serde_json::json!({"runbooks": runbooks, "snippets": snippets});
    Ok(crate::text::escape_json_controls(&serde_json::to_string_pretty(&v)?).into_owned())
}

pub fn history_text(runs: &[serde_json::Value]) -> String {
    if runs.is_empty() {
        return "no runs yet".into();
    }
    let mut out = String::new();
    for r in runs {
        let s = |k: &str| r.get(k).and_then(|v| v.as_str()).unwrap_or("?");
        let hosts = r.get("hosts").and_then(|h| h.as_array());
        let count = |status: &str| {
            hosts.map_or(0, |h| {
                h.iter()
                    .filter(|x| x.get("status").and_then(|s| s.as_str()) == Some(status))
                    .count()
            })
        };
        let _ = writeln!(
            out,
            "{}  {}  {} hosts: {} ok, {} failed, {} unreachable, {} skipped",
            s("started"),
            s("runbook"),
            hosts.map_or(0, Vec::len),
            count("ok"),
            count("failed"),
            count("unreachable"),
            count("skipped"),
        );
    }
    out
}

pub fn progress_bar(hosts: usize) -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(hosts as u64),
        indicatif::ProgressDrawTarget::stderr(),
    );
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("running {bar:30} {pos}/{len} hosts done, {msg}")
    {
        bar.set_style(style);
    }
    bar
}

/// After a run: counts, the gathered output of the hosts that succeeded, each failure.
pub fn summary(report: &RunReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}: {} ok, {} failed, {} unreachable, {} skipped",
        report.runbook,
        report.count(HostStatus::Ok),
        report.count(HostStatus::Failed),
        report.count(HostStatus::Unreachable),
        report.count(HostStatus::Skipped),
    );
    for g in final_outputs(report) {
        let _ = writeln!(out, "{}", render(&g));
    }
    for h in &report.hosts {
        match h.status {
            HostStatus::Ok => {}
            HostStatus::Skipped => {}
            _ => {
                let Some(step) = h.steps.last() else { continue };
                let why = match (&step.error, step.exit) {
                    (Some(e), _) => e.clone(),
                    (None, Some(code)) => format!("exit {code}"),
                    (None, None) => "no exit status".into(),
                };
                let _ = writeln!(out, "FAILED {}: step {:?}: {why}", h.host, step.name);
                for line in step
                    .stderr
                    .lines()
                    .rev()
                    .take(3)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                {
                    let _ = writeln!(out, "    {line}");
                }
            }
        }
    }
    let skipped: Vec<String> = report
        .hosts
        .iter()
        .filter(|h| h.status == HostStatus::Skipped)
        .map(|h| h.host.clone())
        .collect();
    if !skipped.is_empty() {
        let _ = writeln!(out, "skipped (not started): {}", host_set(&skipped));
    }
    out
}
