//! The host view's rows: package findings sorted and filtered by a [`Query`], then the
//! configuration findings and what could not be checked, each under its own header.

use crate::scan::history::{Diff, FindingKey};
use crate::scan::report::{Finding, HostScan};
use crate::scan::severity::Severity;
use std::cmp::Ordering;

/// How package findings are ordered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SortKey {
    /// Most severe first, then by ID.
    #[default]
    Severity,
    /// By package name, most severe first within one.
    Package,
    /// By ID (CVE, advisory).
    Id,
}

impl SortKey {
    pub fn next(self) -> Self {
        match self {
            SortKey::Severity => SortKey::Package,
            SortKey::Package => SortKey::Id,
            SortKey::Id => SortKey::Severity,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            SortKey::Severity => "severity",
            SortKey::Package => "package",
            SortKey::Id => "id",
        }
    }
}

/// Which findings by fix.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum FixFilter {
    #[default]
    All,
    /// A fixed version exists.
    Fixable,
    /// No fix published yet.
    Unfixed,
}

impl FixFilter {
    pub fn next(self) -> Self {
        match self {
            FixFilter::All => FixFilter::Fixable,
            FixFilter::Fixable => FixFilter::Unfixed,
            FixFilter::Unfixed => FixFilter::All,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            FixFilter::All => "all",
            FixFilter::Fixable => "fixable",
            FixFilter::Unfixed => "no fix yet",
        }
    }

    fn accepts(self, f: &Finding) -> bool {
        match self {
            FixFilter::All => true,
            FixFilter::Fixable => f.fixed.is_some(),
            FixFilter::Unfixed => f.fixed.is_none(),
        }
    }
}

/// The least severity shown, cycled from everything to critical only.
pub fn next_min_severity(current: Option<Severity>) -> Option<Severity> {
    match current {
        None => Some(Severity::Low),
        Some(Severity::Low) => Some(Severity::Medium),
        Some(Severity::Medium) => Some(Severity::High),
        Some(Severity::High) => Some(Severity::Critical),
        Some(Severity::Critical) | Some(Severity::Unknown) => None,
    }
}

/// What the host view shows of a scan.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    pub sort: SortKey,
    /// Reverse the sort.
    pub reverse: bool,
    /// At or above this severity; None: all.
    pub min_severity: Option<Severity>,
    pub fix: FixFilter,
    /// Only findings new since the previous scan.
    pub only_new: bool,
    /// Case-insensitive text in the package, its binaries, the ID or an alias (configuration:
    /// the check's name or title).
    pub text: String,
}

impl Query {
    /// Whether anything is filtered out.
    pub fn filters(&self) -> bool {
        self.min_severity.is_some()
            || self.fix != FixFilter::All
            || self.only_new
            || !self.text.is_empty()
    }

    fn severity_ok(&self, s: Severity) -> bool {
        self.min_severity.is_none_or(|min| s >= min)
    }

    fn text_in(&self, fields: &[&str]) -> bool {
        let needle = self.text.trim().to_lowercase();
        needle.is_empty() || fields.iter().any(|f| f.to_lowercase().contains(&needle))
    }

    fn accepts(&self, f: &Finding, new: bool) -> bool {
        let mut fields = vec![f.package.as_str(), f.id.as_str()];
        fields.extend(f.binaries.iter().map(String::as_str));
        fields.extend(f.aliases.iter().map(String::as_str));
        self.severity_ok(f.severity)
            && self.fix.accepts(f)
            && (!self.only_new || new)
            && self.text_in(&fields)
    }
}

/// A selectable row of the host view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Row {
    /// `scan.findings[i]`.
    Finding(usize),
    /// `scan.config_findings[i]`.
    Config(usize),
    /// `scan.errors[i]` (what could not be checked), then `scan.warnings[i - errors]`.
    Note(usize),
}

/// The rows of `scan` that `query` lets through, in order.
pub fn rows(scan: &HostScan, diff: &Diff, query: &Query) -> Vec<Row> {
    let is_new = |f: &Finding| is_new(diff, &f.key());
    let mut findings: Vec<usize> = (0..scan.findings.len())
        .filter(|&i| query.accepts(&scan.findings[i], is_new(&scan.findings[i])))
        .collect();
    findings.sort_by(|&a, &b| {
        let order = compare(&scan.findings[a], &scan.findings[b], query.sort);
        if query.reverse {
            order.reverse()
        } else {
            order
        }
    });
    let mut out: Vec<Row> = findings.into_iter().map(Row::Finding).collect();
    // Configuration checks have no fix version and no history: fix and new filters hide them.
    if query.fix == FixFilter::All && !query.only_new {
        let mut config: Vec<usize> = (0..scan.config_findings.len())
            .filter(|&i| {
                let c = &scan.config_findings[i];
                query.severity_ok(c.severity) && query.text_in(&[&c.check, &c.title])
            })
            .collect();
        config.sort_by_key(|&i| std::cmp::Reverse(scan.config_findings[i].severity));
        out.extend(config.into_iter().map(Row::Config));
    }
    if !query.filters() {
        let notes = scan.errors.len() + scan.warnings.len();
        out.extend((0..notes).map(Row::Note));
    }
    out
}

/// Whether the finding named `key` is new since the previous scan.
pub fn is_new(diff: &Diff, key: &FindingKey) -> bool {
    diff.new.contains(key)
}

fn compare(a: &Finding, b: &Finding, key: SortKey) -> Ordering {
    let by_severity = b.severity.cmp(&a.severity);
    let by_id = a.id.cmp(&b.id);
    let by_package = a.package.cmp(&b.package);
    match key {
        SortKey::Severity => by_severity.then(by_id).then(by_package),
        SortKey::Package => by_package.then(by_severity).then(by_id),
        SortKey::Id => by_id.then(by_package),
    }
}

/// The text of note `i` ([`Row::Note`]) and whether it is a warning (else an unchecked fact).
pub fn note(scan: &HostScan, i: usize) -> Option<(&str, bool)> {
    match scan.errors.get(i) {
        Some(e) => Some((e.as_str(), false)),
        None => scan
            .warnings
            .get(i - scan.errors.len())
            .map(|w| (w.as_str(), true)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::report::ConfigFinding;

    fn finding(id: &str, package: &str, severity: Severity, fixed: Option<&str>) -> Finding {
        Finding {
            id: id.into(),
            aliases: vec![format!("DSA-{id}")],
            package: package.into(),
            binaries: vec![format!("lib{package}1")],
            installed: "1.0".into(),
            fixed: fixed.map(str::to_string),
            severity,
            summary: String::new(),
        }
    }

    fn scan() -> (HostScan, Diff) {
        let scan = HostScan {
            findings: vec![
                finding("CVE-3", "zlib", Severity::Low, Some("2")),
                finding("CVE-1", "openssl", Severity::High, None),
                finding("CVE-2", "curl", Severity::Critical, Some("8")),
                finding("CVE-4", "openssl", Severity::Medium, Some("3")),
            ],
            config_findings: vec![ConfigFinding {
                check: "sshd.x11_forwarding".into(),
                title: "X11 forwarding is on".into(),
                severity: Severity::Low,
                expected: "no".into(),
                actual: "yes".into(),
                fix: "set it".into(),
            }],
            errors: vec!["packages: unknown".into()],
            ..HostScan::default()
        };
        let diff = Diff {
            had_previous: true,
            new: vec![scan.findings[1].key()],
            ..Diff::default()
        };
        (scan, diff)
    }

    fn ids(scan: &HostScan, rows: &[Row]) -> Vec<String> {
        rows.iter()
            .map(|r| match r {
                Row::Finding(i) => scan.findings[*i].id.clone(),
                Row::Config(i) => scan.config_findings[*i].check.clone(),
                Row::Note(i) => format!("note{i}"),
            })
            .collect()
    }

    #[test]
    fn sorts_by_each_key_and_reverses() {
        let (s, d) = scan();
        let mut q = Query::default();
        assert_eq!(
            ids(&s, &rows(&s, &d, &q)),
            [
                "CVE-2",
                "CVE-1",
                "CVE-4",
                "CVE-3",
                "sshd.x11_forwarding",
                "note0"
            ]
        );
        q.sort = SortKey::Package;
        assert_eq!(
            ids(&s, &rows(&s, &d, &q))[..4],
            ["CVE-2", "CVE-1", "CVE-4", "CVE-3"]
        );
        q.sort = SortKey::Id;
        q.reverse = true;
        assert_eq!(
            ids(&s, &rows(&s, &d, &q))[..4],
            ["CVE-4", "CVE-3", "CVE-2", "CVE-1"]
        );
    }

    #[test]
    fn filters_by_severity_fix_new_and_text() {
        let (s, d) = scan();
        let q = |f: fn(&mut Query)| {
            let mut q = Query::default();
            f(&mut q);
            ids(&s, &rows(&s, &d, &q))
        };
        assert_eq!(
            q(|q| q.min_severity = Some(Severity::High)),
            ["CVE-2", "CVE-1"]
        );
        assert_eq!(q(|q| q.fix = FixFilter::Unfixed), ["CVE-1"]);
        assert_eq!(
            q(|q| q.fix = FixFilter::Fixable),
            ["CVE-2", "CVE-4", "CVE-3"]
        );
        assert_eq!(q(|q| q.only_new = true), ["CVE-1"]);
        // Binaries and aliases match too; configuration checks by name.
        assert_eq!(q(|q| q.text = "LIBOPENSSL".into()), ["CVE-1", "CVE-4"]);
        assert_eq!(q(|q| q.text = "dsa-cve-3".into()), ["CVE-3"]);
        assert_eq!(q(|q| q.text = "x11".into()), ["sshd.x11_forwarding"]);
    }

    #[test]
    fn cycles_come_back() {
        assert_eq!(SortKey::default().next().next().next(), SortKey::default());
        assert_eq!(FixFilter::All.next().next().next(), FixFilter::All);
        let mut s = None;
        for _ in 0..5 {
            s = next_min_severity(s);
        }
        assert_eq!(s, None);
    }
}
