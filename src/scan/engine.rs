//! One host's scan: [`collect`] facts over a runner, then [`assess`] them against OSV data and
//! the ignore list into a [`HostScan`]. [`scan_host`] does both.

use crate::scan::collect::Collected;
use crate::scan::ignore::IgnoreList;
use crate::scan::kernel;
use crate::scan::matcher::match_packages;
use crate::scan::osv::AdvisoryLookup;
use crate::scan::report::{ConfigFinding, HostScan};
use crate::scan::runner::{DEFAULT_MAX_OUTPUT, DEFAULT_TIMEOUT, Runner};
use std::time::Duration;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The package list, pending updates and the SUID search may take longer than other commands.
pub const SLOW_TIMEOUT: Duration = Duration::from_secs(120);

/// How to scan.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// Run the commands that need root through `sudo -n` (never asking for a password).
    pub sudo: bool,
    /// Timeout of ordinary commands.
    pub timeout: Duration,
    /// Timeout of the package list, pending updates and the SUID search.
    pub slow_timeout: Duration,
    /// Output kept per command.
    pub max_output: usize,
    /// For end-of-life and ignore-expiry checks.
    pub today: time::Date,
}

impl Default for ScanOptions {
    fn default() -> Self {
        Self {
            sudo: false,
            timeout: DEFAULT_TIMEOUT,
            slow_timeout: SLOW_TIMEOUT,
            max_output: DEFAULT_MAX_OUTPUT,
            today: OffsetDateTime::now_utc().date(),
        }
    }
}

pub use crate::scan::collect::collect;

fn now() -> String {
    OffsetDateTime::now_utc()
        .format(&Rfc3339)
        .unwrap_or_default()
}

/// Match what was collected. Without `lookup` (no OSV data) only configuration is assessed and
/// the scan says why there are no package findings.
pub fn assess(
    host: &str,
    started_at: String,
    collected: Collected,
    lookup: Option<&dyn AdvisoryLookup>,
    ignore: &IgnoreList,
    today: time::Date,
) -> HostScan {
    let Collected {
        os,
        kernel: running,
        arch,
        packages,
        packages_known,
        esm,
        mut reboot_reasons,
        security_updates,
        listening,
        suid_files,
        mut config_findings,
        mut errors,
        timings,
    } = collected;
    ConfigFinding::sort_by_severity(&mut config_findings);
    let family = os.as_ref().and_then(|o| o.family());
    let spec = os.as_ref().and_then(|o| o.ecosystem(esm));
    let package_count = packages.len();
    let mut findings = Vec::new();
    let mut warnings = Vec::new();
    if let Some(family) = family.filter(|_| packages_known) {
        let view = kernel::apply(family, running.as_deref(), packages);
        for r in view.reboot_reasons {
            if !reboot_reasons.contains(&r) {
                reboot_reasons.push(r);
            }
        }
        match (&spec, lookup) {
            (Some(spec), Some(lookup)) => match match_packages(&view.packages, spec, lookup) {
                Ok(f) => findings = f,
                Err(e) => errors.push(format!("vulnerabilities: {e}")),
            },
            (None, _) => errors.push(format!(
                "vulnerabilities: OSV has no data for {}; packages were not matched",
                os.as_ref().map_or("this OS", |o| o.pretty_name.as_str())
            )),
            (Some(_), None) => errors.push(
                "vulnerabilities: no OSV data; run `lumen scan db import PATH` or use --osv-db PATH or --online".into(),
            ),
        }
    } else {
        // Without a package list nothing was matched: say so where the count would be,
        // never "none found".
        errors.push("vulnerabilities: packages unknown, nothing was matched".into());
    }
    let (ignored, expired) = ignore.apply(&mut findings, today);
    warnings.extend(expired);
    HostScan {
        host: host.to_string(),
        started_at,
        finished_at: now(),
        ecosystem: spec.as_ref().map(|s| s.primary().to_string()),
        os,
        kernel: running,
        arch,
        reboot_required: !reboot_reasons.is_empty(),
        reboot_reasons,
        packages: package_count,
        security_updates,
        listening,
        suid_files: suid_files.unwrap_or_default(),
        findings,
        config_findings,
        ignored,
        errors,
        warnings,
        timings,
    }
}

/// What `--online` asks the OSV API about this host: each package (after the running-kernel
/// rule) with its ecosystem. Empty when OSV has no exact ecosystem for the OS.
pub fn online_queries(collected: &Collected) -> Vec<crate::scan::osv::online::Query> {
    let Some(os) = &collected.os else {
        return Vec::new();
    };
    let (Some(family), Some(spec)) = (os.family(), os.ecosystem(collected.esm)) else {
        return Vec::new();
    };
    let view = kernel::apply(
        family,
        collected.kernel.as_deref(),
        collected.packages.clone(),
    );
    let keys = crate::scan::matcher::lookup_keys(&view.packages, spec.scheme);
    spec.names
        .iter()
        .flat_map(|eco| {
            keys.iter()
                .map(|(name, version)| crate::scan::osv::online::Query {
                    ecosystem: eco.clone(),
                    name: name.clone(),
                    version: version.clone(),
                })
        })
        .collect()
}

/// Collect and assess one host.
pub async fn scan_host(
    host: &str,
    runner: &dyn Runner,
    lookup: Option<&dyn AdvisoryLookup>,
    ignore: &IgnoreList,
    opts: &ScanOptions,
) -> HostScan {
    let started = now();
    let collected = collect(runner, opts).await;
    assess(host, started, collected, lookup, ignore, opts.today)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::severity::Severity;

    fn check(name: &str, severity: Severity) -> ConfigFinding {
        ConfigFinding {
            check: name.into(),
            title: name.into(),
            severity,
            expected: String::new(),
            actual: String::new(),
            fix: String::new(),
        }
    }

    #[test]
    fn configuration_findings_come_most_severe_first() {
        let collected = Collected {
            config_findings: vec![
                check("sysctl.a", Severity::Low),
                check("sshd.b", Severity::High),
                check("path.c", Severity::Medium),
                check("eol.d", Severity::Critical),
                check("sysctl.e", Severity::Low),
            ],
            ..Collected::default()
        };
        let today = time::macros::date!(2026 - 12 - 01);
        let scan = assess("h", now(), collected, None, &IgnoreList::default(), today);
        let order: Vec<&str> = scan
            .config_findings
            .iter()
            .map(|c| c.check.as_str())
            .collect();
        // Same severity keeps the order the checks ran in.
        assert_eq!(order, ["eol.d", "sshd.b", "path.c", "sysctl.a", "sysctl.e"]);
    }
}
