//! `lumen scan --format sarif`: the report as SARIF 2.1.0 for code-scanning tools. One run, tool
//! `lumen`, a rule per advisory or hardening check, a result per finding located at
//! `ssh://HOST/<the file it comes from>`, with a fingerprint that stays the same across scans
//! so a code-scanning UI can follow a finding from run to run.

use crate::scan::report::{ConfigFinding, Finding, JsonHost, JsonReport};
use crate::scan::severity::Severity;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

const SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";
/// The key of [`fingerprint`] in `partialFingerprints`; bump the version if its input changes.
const FINGERPRINT_KEY: &str = "lumenFinding/v1";

/// SARIF's `level` for a severity.
fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Unknown => "note",
    }
}

/// GitHub code scanning reads `security-severity` (a CVSS-like score) to rank alerts.
fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "2.0",
        Severity::Unknown => "0.0",
    }
}

/// `ssh://HOST/PATH`, the host percent-encoded where a URI's authority does not allow it.
pub fn ssh_uri(host: &str, path: &str) -> String {
    let mut out = String::from("ssh://");
    for b in host.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~:@[]".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out.push_str(path);
    out
}

/// The package database a host's package findings come from, by the ecosystem matched.
fn package_db(host: &JsonHost) -> &'static str {
    let eco = host
        .os
        .as_ref()
        .and_then(|o| o.ecosystem.as_deref())
        .unwrap_or("");
    let id = host.os.as_ref().map_or("", |o| o.id.as_str());
    if eco.starts_with("Debian") || eco.starts_with("Ubuntu") || id == "debian" || id == "ubuntu" {
        "/var/lib/dpkg/status"
    } else if eco.starts_with("Alpine") || id == "alpine" {
        "/lib/apk/db/installed"
    } else {
        "/var/lib/rpm"
    }
}

/// The file a hardening check reads or its fix changes.
fn config_file(host: &JsonHost, c: &ConfigFinding) -> String {
    let prefix = c.check.split('.').next().unwrap_or("");
    let debian = package_db(host) == "/var/lib/dpkg/status";
    match prefix {
        "sshd" => "/etc/ssh/sshd_config".into(),
        "sysctl" => "/etc/sysctl.conf".into(),
        "accounts" => "/etc/passwd".into(),
        "path" => "/etc/environment".into(),
        "time" => "/etc/systemd/timesyncd.conf".into(),
        "updates" if debian => "/etc/apt/apt.conf.d/20auto-upgrades".into(),
        "updates" => "/etc/dnf/automatic.conf".into(),
        "files" => c
            .actual
            .split([',', ' '])
            .find(|w| w.starts_with('/'))
            .unwrap_or("/")
            .to_string(),
        _ => "/etc/os-release".into(),
    }
}

/// Stable across scans: the same host, rule and package give the same value.
fn fingerprint(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    h.finalize()
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn package_rule(f: &Finding) -> Value {
    let mut help = String::new();
    if !f.summary.is_empty() {
        help.push_str(&f.summary);
        help.push_str("\n\n");
    }
    if !f.aliases.is_empty() {
        help.push_str(&format!("Also known as: {}.\n", f.aliases.join(", ")));
    }
    help.push_str(&format!(
        "Upgrade the package to a version with the fix; see https://osv.dev/vulnerability/{}",
        f.id
    ));
    let short = if f.summary.is_empty() {
        format!("{} in {}", f.id, f.package)
    } else {
        f.summary.clone()
    };
    json!({
        "id": f.id,
        "name": "VulnerablePackage",
        "shortDescription": {"text": short},
        "fullDescription": {"text": help.lines().next().unwrap_or(&short)},
        "help": {"text": help},
        "helpUri": format!("https://osv.dev/vulnerability/{}", f.id),
        "defaultConfiguration": {"level": level(f.severity)},
        "properties": {
            "tags": ["security", "vulnerability", "package"],
            "security-severity": security_severity(f.severity),
            "severity": f.severity.as_str(),
        },
    })
}

fn config_rule(c: &ConfigFinding) -> Value {
    json!({
        "id": c.check,
        "name": "HardeningCheck",
        "shortDescription": {"text": c.title},
        "fullDescription": {"text": format!("{}: expected {}", c.title, c.expected)},
        "help": {"text": format!("Expected: {}.\nFix: {}", c.expected, c.fix)},
        "defaultConfiguration": {"level": level(c.severity)},
        "properties": {
            "tags": ["security", "configuration"],
            "security-severity": security_severity(c.severity),
            "severity": c.severity.as_str(),
        },
    })
}

/// Rules in first-seen order, each with its index for `ruleIndex`.
#[derive(Default)]
struct Rules {
    list: Vec<Value>,
    index: BTreeMap<String, usize>,
}

impl Rules {
    fn index_of(&mut self, id: &str, make: impl FnOnce() -> Value) -> usize {
        if let Some(i) = self.index.get(id) {
            return *i;
        }
        self.list.push(make());
        self.index.insert(id.to_string(), self.list.len() - 1);
        self.list.len() - 1
    }
}

fn result(rule: &str, index: usize, severity: Severity, text: String, uri: String) -> Value {
    json!({
        "ruleId": rule,
        "ruleIndex": index,
        "level": level(severity),
        "message": {"text": text},
        "locations": [{"physicalLocation": {"artifactLocation": {"uri": uri}}}],
    })
}

/// The whole report as one SARIF log.
pub fn to_sarif(report: &JsonReport) -> Value {
    let mut rules = Rules::default();
    let mut results = Vec::new();
    let mut notifications = Vec::new();
    for host in &report.hosts {
        let db = package_db(host);
        for f in &host.findings {
            let i = rules.index_of(&f.id, || package_rule(f));
            let fixed = f
                .fixed
                .as_deref()
                .map_or("no fix yet".to_string(), |v| format!("fixed in {v}"));
            let text = format!(
                "{} {} {} is affected by {} ({}; {fixed})",
                host.host,
                f.package,
                f.installed,
                f.id,
                f.severity.as_str()
            );
            let mut r = result(&f.id, i, f.severity, text, ssh_uri(&host.host, db));
            r["partialFingerprints"] = json!({ FINGERPRINT_KEY: fingerprint(&[&host.host, "package", &f.id, &f.package]) });
            r["properties"] = json!({
                "host": host.host, "package": f.package, "installed": f.installed,
                "fixed": f.fixed, "binaries": f.binaries, "aliases": f.aliases,
            });
            results.push(r);
        }
        for c in &host.config_findings {
            let i = rules.index_of(&c.check, || config_rule(c));
            let text = format!(
                "{}: {}; found {}; fix: {}",
                host.host, c.title, c.actual, c.fix
            );
            let uri = ssh_uri(&host.host, &config_file(host, c));
            let mut r = result(&c.check, i, c.severity, text, uri);
            r["partialFingerprints"] =
                json!({ FINGERPRINT_KEY: fingerprint(&[&host.host, "config", &c.check]) });
            r["properties"] =
                json!({"host": host.host, "expected": c.expected, "actual": c.actual});
            results.push(r);
        }
        for e in &host.errors {
            notifications.push(json!({
                "level": "error",
                "message": {"text": format!("{}: {e}", host.host)},
            }));
        }
    }
    let failed = report.hosts.iter().any(|h| h.packages.is_none());
    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "lumen",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules.list,
            }},
            "invocations": [{
                "executionSuccessful": !failed,
                "toolExecutionNotifications": notifications,
            }],
            "results": results,
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names_are_escaped_in_the_uri() {
        assert_eq!(
            ssh_uri("db 1/x", "/var/lib/dpkg/status"),
            "ssh://db%201%2Fx/var/lib/dpkg/status"
        );
        assert_eq!(
            ssh_uri("root@10.0.0.1:22", "/etc"),
            "ssh://root@10.0.0.1:22/etc"
        );
    }

    #[test]
    fn fingerprints_do_not_run_fields_together() {
        assert_ne!(fingerprint(&["ab", "c"]), fingerprint(&["a", "bc"]));
        assert_eq!(fingerprint(&["a", "b"]), fingerprint(&["a", "b"]));
    }
}
