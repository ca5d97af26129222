//! `lumen scan --format prom` and `--prom-file`: the report in Prometheus' text exposition
//! format, for node_exporter's textfile collector. Every host gets every series (zeros
//! included), so a dashboard's sums do not jump when a severity comes or goes.

use crate::scan::report::{JsonHost, JsonReport};
use crate::scan::severity::Severity;
use std::fmt::Write;

/// A label value with `\`, `"` and newlines escaped, as the text format requires.
fn label(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

fn header(out: &mut String, name: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} gauge");
}

/// The Unix time a host's scan finished, when it was scanned.
fn finished_unix(host: &JsonHost) -> Option<i64> {
    use time::format_description::well_known::Rfc3339;
    host.packages?;
    let at = host.finished_at.as_deref()?;
    Some(
        time::OffsetDateTime::parse(at, &Rfc3339)
            .ok()?
            .unix_timestamp(),
    )
}

/// The whole report as exposition text.
pub fn to_prom(report: &JsonReport) -> String {
    let mut out = String::new();
    header(
        &mut out,
        "lumen_scan_findings",
        "Findings of the host's latest scan by severity and kind (package or config).",
    );
    for h in &report.hosts {
        let host = label(&h.host);
        for s in Severity::ALL {
            let packages = h.findings.iter().filter(|f| f.severity == s).count();
            let config = h.config_findings.iter().filter(|f| f.severity == s).count();
            for (kind, n) in [("package", packages), ("config", config)] {
                let _ = writeln!(
                    out,
                    "lumen_scan_findings{{host=\"{host}\",severity=\"{}\",kind=\"{kind}\"}} {n}",
                    s.as_str()
                );
            }
        }
    }
    header(
        &mut out,
        "lumen_scan_reboot_required",
        "1 when the host needs a reboot (newer kernel, reboot-required file, needrestart).",
    );
    for h in &report.hosts {
        let _ = writeln!(
            out,
            "lumen_scan_reboot_required{{host=\"{}\"}} {}",
            label(&h.host),
            u8::from(h.reboot_required)
        );
    }
    header(
        &mut out,
        "lumen_scan_last_success_timestamp_seconds",
        "Unix time the host's last scan that reached it finished.",
    );
    for h in &report.hosts {
        if let Some(t) = finished_unix(h) {
            let _ = writeln!(
                out,
                "lumen_scan_last_success_timestamp_seconds{{host=\"{}\"}} {t}",
                label(&h.host)
            );
        }
    }
    header(
        &mut out,
        "lumen_scan_errors",
        "What could not be collected or checked on the host in its latest scan (0: all of it).",
    );
    for h in &report.hosts {
        let _ = writeln!(
            out,
            "lumen_scan_errors{{host=\"{}\"}} {}",
            label(&h.host),
            h.errors.len()
        );
    }
    out
}

/// Write `text` to `path` atomically (temp file beside it, fsync, rename), so the textfile
/// collector never reads half a file. Readable by others: node_exporter often runs as
/// another user.
pub fn write_file(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    crate::paths::atomic_write_mode(path, text.as_bytes(), 0o644)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
