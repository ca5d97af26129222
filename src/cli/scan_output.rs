//! `lumen scan`'s report for people: per host a header (OS, kernel, reboot), counts by
//! severity, findings with a fix, findings with no fix yet (apart), configuration findings,
//! what changed since the last scan, and what is unknown.
//!
//! Nearly every word of it came from the host or from OSV data (kernel, OS name, package
//! names and versions, `sshd -T` values, error text): each is printed through
//! [`escape_controls`], so a hostile host cannot send escape sequences (clipboard writes,
//! screen clears, titles) to the operator's terminal. Only this module's own colours are raw.

use crate::scan::report::{Finding, HostScan};
use crate::scan::{Diff, Severity};
use crate::text::escape_controls as esc;
use std::fmt::Write;

fn paint(text: &str, severity: Severity, color: bool) -> String {
    if !color {
        return text.to_string();
    }
    let code = match severity {
        Severity::Critical => "1;31",
        Severity::High => "31",
        Severity::Medium => "33",
        Severity::Low => "36",
        Severity::Unknown => "2",
    };
    format!("\x1b[{code}m{text}\x1b[0m")
}

fn table(out: &mut String, findings: &[&Finding], color: bool) {
    // Escaped first, so the columns line up with what is printed.
    let cells: Vec<[String; 3]> = findings
        .iter()
        .map(|f| [&f.id, &f.package, &f.installed].map(|s| esc(s).into_owned()))
        .collect();
    let w = |i: usize| {
        cells
            .iter()
            .map(|c| c[i].chars().count())
            .max()
            .unwrap_or(0)
    };
    let (wi, wp, wv) = (w(0), w(1), w(2));
    for (f, [id, package, installed]) in findings.iter().zip(&cells) {
        let sev = paint(&format!("{:<8}", f.severity.as_str()), f.severity, color);
        let fixed = esc(f.fixed.as_deref().unwrap_or("-"));
        let _ = write!(
            out,
            "    {sev} {id:<wi$}  {package:<wp$}  {installed:<wv$}  {fixed}"
        );
        if f.binaries.len() > 1 || f.binaries.first().is_some_and(|b| *b != f.package) {
            let _ = write!(out, "  [{}]", esc(&f.binaries.join(", ")));
        }
        out.push('\n');
        if !f.summary.is_empty() {
            let _ = writeln!(out, "             {}", esc(&f.summary));
        }
    }
}

/// One host's report.
pub fn host(scan: &HostScan, diff: Option<&Diff>, color: bool) -> String {
    let mut out = String::new();
    let os = scan
        .os
        .as_ref()
        .map_or("unknown OS".to_string(), |o| o.pretty_name.clone());
    let kernel = scan.kernel.as_deref().unwrap_or("unknown");
    let _ = write!(
        out,
        "{}  {}, kernel {}",
        esc(&scan.host),
        esc(&os),
        esc(kernel)
    );
    if scan.reboot_required {
        out.push_str("  [REBOOT NEEDED]");
    }
    out.push('\n');
    if scan.os.is_none() && scan.packages == 0 && !scan.errors.is_empty() {
        let _ = writeln!(out, "  not scanned: {}\n", esc(&scan.errors.join("; ")));
        return out;
    }
    let counts: Vec<String> = scan
        .counts()
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(s, n)| format!("{n} {s}"))
        .collect();
    let _ = writeln!(
        out,
        "  {} packages; vulnerabilities: {}",
        scan.packages,
        match (scan.vulnerabilities_unchecked(), counts.is_empty()) {
            (Some(why), true) => format!("not checked: {why}"),
            (Some(why), false) => format!("{} (incomplete: {why})", counts.join(", ")),
            (None, true) => "none found".to_string(),
            (None, false) => counts.join(", "),
        }
    );
    for r in &scan.reboot_reasons {
        let _ = writeln!(out, "  reboot: {}", esc(r));
    }
    if let Some(n) = scan.security_updates {
        let _ = writeln!(out, "  pending security updates: {n}");
    }
    let fixable: Vec<&Finding> = scan.findings.iter().filter(|f| f.fixed.is_some()).collect();
    let unfixed: Vec<&Finding> = scan.unfixed().collect();
    if !fixable.is_empty() {
        let _ = writeln!(
            out,
            "  fix available ({}):  severity, id, package, installed, fixed",
            fixable.len()
        );
        table(&mut out, &fixable, color);
    }
    if !unfixed.is_empty() {
        let _ = writeln!(out, "  no fix yet ({}):", unfixed.len());
        table(&mut out, &unfixed, color);
    }
    if !scan.config_findings.is_empty() {
        let _ = writeln!(out, "  configuration ({}):", scan.config_findings.len());
        for c in &scan.config_findings {
            let sev = paint(&format!("{:<8}", c.severity.as_str()), c.severity, color);
            let _ = writeln!(out, "    {sev} {}: {}", esc(&c.check), esc(&c.title));
            let _ = writeln!(
                out,
                "             expected {}; found {}",
                esc(&c.expected),
                esc(&c.actual)
            );
            let _ = writeln!(out, "             fix: {}", esc(&c.fix));
        }
    }
    if let Some(d) = diff.filter(|d| d.had_previous) {
        let list = |keys: &[crate::scan::FindingKey]| {
            keys.iter()
                .map(|k| format!("{} ({})", esc(&k.id), esc(&k.package)))
                .collect::<Vec<_>>()
                .join(", ")
        };
        if d.new.is_empty() && d.resolved.is_empty() {
            let _ = writeln!(out, "  since the last scan: no change in findings");
        }
        if !d.new.is_empty() {
            let _ = writeln!(
                out,
                "  new since the last scan ({}): {}",
                d.new.len(),
                list(&d.new)
            );
        }
        if !d.resolved.is_empty() {
            let _ = writeln!(
                out,
                "  resolved since the last scan ({}): {}",
                d.resolved.len(),
                list(&d.resolved)
            );
        }
    }
    if !scan.ignored.is_empty() {
        let _ = writeln!(
            out,
            "  {} findings hidden by scan-ignore.toml",
            scan.ignored.len()
        );
    }
    for e in &scan.errors {
        let _ = writeln!(out, "  unknown: {}", esc(e));
    }
    out.push('\n');
    out
}
