//! What a scan found: [`HostScan`] with its package [`Finding`]s and [`ConfigFinding`]s, and the
//! `--json` document built from it.

pub use crate::scan::collect::Timing;
use crate::scan::history::{Diff, FindingKey};
use crate::scan::os::{Family, OsRelease};
use crate::scan::severity::Severity;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A vulnerable package (one per advisory group and source package).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// The CVE when the group names exactly one, else the distro advisory's ID.
    pub id: String,
    /// Every other ID of the same vulnerability (DSA, USN, GHSA, CVE…), sorted.
    pub aliases: Vec<String>,
    /// The package the advisory names: the source package on Debian, Ubuntu and Alpine.
    pub package: String,
    /// Installed binary packages built from it.
    pub binaries: Vec<String>,
    pub installed: String,
    /// None: no fix published yet.
    pub fixed: Option<String>,
    pub severity: Severity,
    pub summary: String,
}

impl Finding {
    pub fn key(&self) -> FindingKey {
        FindingKey {
            id: self.id.clone(),
            package: self.package.clone(),
        }
    }

    /// Whether `id` names this finding (its ID or an alias).
    pub fn is_named(&self, id: &str) -> bool {
        self.id.eq_ignore_ascii_case(id) || self.aliases.iter().any(|a| a.eq_ignore_ascii_case(id))
    }
}

/// A hardening check that failed: what was expected, what was found, how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigFinding {
    /// Stable name of the check, e.g. `sshd.permit_root_login`.
    pub check: String,
    pub title: String,
    pub severity: Severity,
    pub expected: String,
    pub actual: String,
    pub fix: String,
}

impl ConfigFinding {
    /// Most severe first; checks of the same severity keep their order.
    pub fn sort_by_severity(list: &mut [ConfigFinding]) {
        list.sort_by_key(|c| std::cmp::Reverse(c.severity));
    }
}

/// How an error about matching advisories starts ([`HostScan::vulnerabilities_unchecked`]).
pub const VULNERABILITIES_ERROR: &str = "vulnerabilities:";

/// One host's scan.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HostScan {
    pub host: String,
    /// RFC 3339, UTC.
    pub started_at: String,
    pub finished_at: String,
    pub os: Option<OsRelease>,
    /// The OSV ecosystem matched against, e.g. `Debian:12`.
    pub ecosystem: Option<String>,
    pub kernel: Option<String>,
    pub arch: Option<String>,
    pub reboot_required: bool,
    /// Why a reboot is needed (newer kernel installed, reboot-required file, needrestart).
    #[serde(default)]
    pub reboot_reasons: Vec<String>,
    pub packages: usize,
    /// Pending security updates, when the package manager tells.
    pub security_updates: Option<usize>,
    #[serde(default)]
    pub listening: Vec<String>,
    #[serde(default)]
    pub suid_files: Vec<String>,
    pub findings: Vec<Finding>,
    pub config_findings: Vec<ConfigFinding>,
    /// Findings hidden by scan-ignore.toml.
    #[serde(default)]
    pub ignored: Vec<FindingKey>,
    /// What could not be collected or checked ("unknown"), in words.
    pub errors: Vec<String>,
    /// Local warnings: stale OSV data, expired ignore entries, skipped records.
    #[serde(default)]
    pub warnings: Vec<String>,
    /// How long each collector took.
    #[serde(default)]
    pub timings: Vec<Timing>,
}

impl HostScan {
    /// Seconds from the start of the scan to its end, when both times are known.
    pub fn duration_seconds(&self) -> Option<f64> {
        use time::format_description::well_known::Rfc3339;
        let start = time::OffsetDateTime::parse(&self.started_at, &Rfc3339).ok()?;
        let end = time::OffsetDateTime::parse(&self.finished_at, &Rfc3339).ok()?;
        let secs = (end - start).as_seconds_f64();
        // Milliseconds are precision enough, and keep the JSON short.
        Some((secs * 1000.0).round() / 1000.0)
    }

    /// Findings per severity, most severe first (the fleet view's columns).
    pub fn counts(&self) -> [(Severity, usize); 5] {
        Severity::ALL.map(|s| (s, self.findings.iter().filter(|f| f.severity == s).count()))
    }

    /// Why the host's packages were not matched against advisories (`no OSV data; …`), or
    /// None when they were: a scan that could not check is never reported as clean.
    pub fn vulnerabilities_unchecked(&self) -> Option<&str> {
        self.errors
            .iter()
            .find_map(|e| e.strip_prefix(VULNERABILITIES_ERROR))
            .map(str::trim_start)
    }

    /// "3 vulnerable packages", or "vulnerabilities not checked" when nothing was matched:
    /// the one summary the status bar and the scan pane show.
    pub fn vulnerable_packages(&self) -> String {
        match (self.vulnerabilities_unchecked(), self.findings.len()) {
            (Some(_), 0) => "vulnerabilities not checked".into(),
            (_, 1) => "1 vulnerable package".into(),
            (_, n) => format!("{n} vulnerable packages"),
        }
    }

    /// The most severe finding's severity (packages and configuration).
    pub fn worst(&self) -> Option<Severity> {
        self.findings
            .iter()
            .map(|f| f.severity)
            .chain(self.config_findings.iter().map(|f| f.severity))
            .max()
    }

    /// Findings with no published fix, shown apart.
    pub fn unfixed(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.fixed.is_none())
    }

    /// The command that installs the fix for `finding` on this host's distro (what the detail
    /// panel shows and the copilot may propose); None without a fix or a known package manager.
    pub fn upgrade_command(&self, finding: &Finding) -> Option<String> {
        finding.fixed.as_ref()?;
        let family = self.os.as_ref()?.family()?;
        let binaries = finding.binaries.join(" ");
        Some(match family {
            Family::Debian => format!("sudo apt-get install --only-upgrade {binaries}"),
            Family::Rpm => format!("sudo dnf upgrade {binaries}"),
            Family::Alpine => format!("sudo apk upgrade {binaries}"),
        })
    }

    /// A few lines for the copilot's context: OS, reboot, counts, the worst findings and
    /// configuration problems. Holds no secret (package names and versions only).
    pub fn summary(&self) -> String {
        let os = self
            .os
            .as_ref()
            .map_or("unknown OS", |o| o.pretty_name.as_str());
        let mut out = format!(
            "last scan {}: {os}, kernel {}{}",
            self.finished_at,
            self.kernel.as_deref().unwrap_or("unknown"),
            if self.reboot_required {
                ", reboot needed"
            } else {
                ""
            }
        );
        let counts: Vec<String> = self
            .counts()
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(s, n)| format!("{n} {s}"))
            .collect();
        out.push_str(&format!(
            "\nvulnerable packages: {}",
            if counts.is_empty() {
                "none".to_string()
            } else {
                counts.join(", ")
            }
        ));
        for f in self.findings.iter().take(SUMMARY_FINDINGS) {
            out.push_str(&format!(
                "\n- {} {} in {} {} (fixed in {})",
                f.severity,
                f.id,
                f.package,
                f.installed,
                f.fixed.as_deref().unwrap_or("no fix yet")
            ));
        }
        for c in &self.config_findings {
            out.push_str(&format!(
                "\n- config {}: {} (found {})",
                c.severity, c.title, c.actual
            ));
        }
        if !self.errors.is_empty() {
            out.push_str(&format!("\nnot checked: {}", self.errors.len()));
        }
        out
    }
}

/// Findings listed in [`HostScan::summary`].
const SUMMARY_FINDINGS: usize = 10;

/// `os` in the JSON document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OsSummary {
    pub id: String,
    pub version_id: String,
    pub pretty_name: String,
    pub ecosystem: Option<String>,
    pub arch: Option<String>,
}

/// One host in `lumen scan --json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JsonHost {
    pub host: String,
    pub os: Option<OsSummary>,
    pub kernel: Option<String>,
    pub reboot_required: bool,
    pub findings: Vec<Finding>,
    pub config_findings: Vec<ConfigFinding>,
    pub new: Vec<FindingKey>,
    pub resolved: Vec<FindingKey>,
    /// False when packages were not matched against advisories (no OSV data, packages
    /// unknown): `findings` being empty then means "not checked", not "clean".
    pub vulnerabilities_checked: bool,
    pub errors: Vec<String>,
    /// Installed packages read from the host (None: not scanned).
    pub packages: Option<usize>,
    /// Pending security updates, when the package manager tells.
    pub security_updates: Option<usize>,
    /// How long the scan of this host took (None: not scanned).
    pub duration_seconds: Option<f64>,
    /// When the scan of this host ended, RFC 3339 UTC (None: not scanned). Lets `scan merge`
    /// keep the later of two scans and `--import` date them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
    /// Seconds per collector; only with `--timings`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timings: Option<BTreeMap<String, f64>>,
}

/// `lumen scan --json`: `{"hosts": [...]}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct JsonReport {
    pub hosts: Vec<JsonHost>,
}

impl JsonHost {
    pub fn new(scan: &HostScan, diff: Option<&Diff>) -> Self {
        JsonHost {
            host: scan.host.clone(),
            os: scan.os.as_ref().map(|os| OsSummary {
                id: os.id.clone(),
                version_id: os.version_id.clone(),
                pretty_name: os.pretty_name.clone(),
                ecosystem: scan.ecosystem.clone(),
                arch: scan.arch.clone(),
            }),
            kernel: scan.kernel.clone(),
            reboot_required: scan.reboot_required,
            findings: scan.findings.clone(),
            config_findings: scan.config_findings.clone(),
            new: diff.map(|d| d.new.clone()).unwrap_or_default(),
            resolved: diff.map(|d| d.resolved.clone()).unwrap_or_default(),
            vulnerabilities_checked: scan.vulnerabilities_unchecked().is_none(),
            errors: scan.errors.clone(),
            packages: Some(scan.packages),
            security_updates: scan.security_updates,
            duration_seconds: scan.duration_seconds(),
            finished_at: Some(scan.finished_at.clone()).filter(|t| !t.is_empty()),
            timings: None,
        }
    }

    /// The scan this JSON describes, as far as it tells (for `scan merge --import`): no
    /// SUID list, listening ports or timings, and the OS from its summary.
    pub fn to_host_scan(&self) -> HostScan {
        HostScan {
            host: self.host.clone(),
            started_at: self.finished_at.clone().unwrap_or_default(),
            finished_at: self.finished_at.clone().unwrap_or_default(),
            os: self.os.as_ref().map(|o| OsRelease {
                id: o.id.clone(),
                version_id: o.version_id.clone(),
                pretty_name: o.pretty_name.clone(),
                ..OsRelease::default()
            }),
            ecosystem: self.os.as_ref().and_then(|o| o.ecosystem.clone()),
            kernel: self.kernel.clone(),
            arch: self.os.as_ref().and_then(|o| o.arch.clone()),
            reboot_required: self.reboot_required,
            packages: self.packages.unwrap_or(0),
            security_updates: self.security_updates,
            findings: self.findings.clone(),
            config_findings: self.config_findings.clone(),
            errors: self.errors.clone(),
            ..HostScan::default()
        }
    }

    /// False when the host was not reached or its packages not matched against advisories:
    /// `lumen scan` then exits 3.
    pub fn fully_scanned(&self) -> bool {
        self.packages.is_some() && self.vulnerabilities_checked
    }

    /// The most severe finding (packages and configuration); unknown counts as low, so
    /// `--fail-on low` catches it.
    pub fn worst(&self) -> Option<Severity> {
        self.findings
            .iter()
            .map(|f| f.severity)
            .chain(self.config_findings.iter().map(|f| f.severity))
            .max()
            .map(|w| w.max(Severity::Low))
    }

    /// With `--timings`: seconds per collector.
    pub fn with_timings(mut self, scan: &HostScan) -> Self {
        self.timings = Some(
            scan.timings
                .iter()
                .map(|t| (t.what.clone(), (t.seconds * 1000.0).round() / 1000.0))
                .collect(),
        );
        self
    }

    /// A host that could not be scanned at all.
    pub fn failed(host: &str, error: String) -> Self {
        JsonHost {
            host: host.to_string(),
            os: None,
            kernel: None,
            reboot_required: false,
            findings: Vec::new(),
            config_findings: Vec::new(),
            new: Vec::new(),
            resolved: Vec::new(),
            vulnerabilities_checked: false,
            errors: vec![error],
            packages: None,
            security_updates: None,
            duration_seconds: None,
            finished_at: None,
            timings: None,
        }
    }
}
