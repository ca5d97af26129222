//! OSV advisories: the record format as published (schema 1.x), the compact [`Advisory`] lumen
//! keeps of it, where advisories come from (imported SQLite, a directory or zip, the online
//! API) and how a package version is judged affected.

pub mod db;
pub mod eval;
pub mod index;
pub mod online;
pub mod source;

pub use db::OsvDb;
pub use index::{AdvisoryLookup, MemoryIndex};

use crate::scan::severity::Severity;
use serde::{Deserialize, Serialize};

/// The longest summary kept (a record's `details` can be pages long).
const SUMMARY_MAX: usize = 240;

/// An OSV record as published; only the fields lumen uses.
#[derive(Debug, Clone, Deserialize)]
pub struct Record {
    pub id: String,
    #[serde(default)]
    pub modified: Option<String>,
    #[serde(default)]
    pub withdrawn: Option<String>,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub upstream: Vec<String>,
    #[serde(default)]
    pub summary: Option<String>,
    #[serde(default)]
    pub details: Option<String>,
    #[serde(default)]
    pub severity: Vec<SeverityEntry>,
    #[serde(default)]
    pub affected: Vec<RecordAffected>,
    #[serde(default)]
    pub database_specific: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SeverityEntry {
    #[serde(rename = "type")]
    pub kind: String,
    pub score: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RecordAffected {
    #[serde(default)]
    pub package: Option<PackageRef>,
    #[serde(default)]
    pub severity: Vec<SeverityEntry>,
    #[serde(default)]
    pub ranges: Vec<RecordRange>,
    #[serde(default)]
    pub versions: Vec<String>,
    #[serde(default)]
    pub ecosystem_specific: Option<serde_json::Value>,
    #[serde(default)]
    pub database_specific: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
pub struct PackageRef {
    pub ecosystem: String,
    pub name: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RecordRange {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub events: Vec<Event>,
}

/// One range event; OSV gives exactly one of these keys per event.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct Event {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introduced: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_affected: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<String>,
}

/// What lumen keeps of a record: enough to match and to show a finding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Advisory {
    pub id: String,
    #[serde(default)]
    pub modified: Option<String>,
    #[serde(default)]
    pub withdrawn: bool,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub upstream: Vec<String>,
    #[serde(default)]
    pub summary: String,
    #[serde(default)]
    pub severity: Severity,
    #[serde(default)]
    pub affected: Vec<Affected>,
}

/// One package this advisory names, with its ranges (events as published, in any order).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Affected {
    pub package: PackageRef,
    #[serde(default)]
    pub ranges: Vec<Vec<Event>>,
    #[serde(default)]
    pub versions: Vec<String>,
    /// The distro's rating for this package, when it differs per package.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
}

impl Advisory {
    /// The compact form of a record. Only `ECOSYSTEM` ranges count for distro packages
    /// (`GIT` ranges name commits, `SEMVER` is for language packages).
    pub fn from_record(r: Record) -> Advisory {
        let record_rating =
            rating_in(r.database_specific.as_ref()).or_else(|| distro_rating(&r.severity));
        let cvss = highest_cvss(&r.severity);
        let mut affected = Vec::new();
        let mut package_cvss = None;
        for a in r.affected {
            let Some(package) = a.package else { continue };
            let ranges = a
                .ranges
                .into_iter()
                .filter(|rg| rg.kind.eq_ignore_ascii_case("ECOSYSTEM"))
                .map(|rg| rg.events)
                .collect();
            let rating = rating_in(a.ecosystem_specific.as_ref())
                .or_else(|| rating_in(a.database_specific.as_ref()))
                .or_else(|| distro_rating(&a.severity));
            package_cvss = package_cvss.max(highest_cvss(&a.severity));
            affected.push(Affected {
                package,
                ranges,
                versions: a.versions,
                severity: rating,
            });
        }
        let severity = record_rating
            .or(cvss.max(package_cvss).map(Severity::from_score_bits))
            .unwrap_or_default();
        let summary = r
            .summary
            .filter(|s| !s.trim().is_empty())
            .or_else(|| {
                r.details
                    .as_deref()
                    .and_then(|d| d.lines().find(|l| !l.trim().is_empty()))
                    .map(str::to_string)
            })
            .unwrap_or_default();
        Advisory {
            id: r.id,
            modified: r.modified,
            withdrawn: r.withdrawn.is_some_and(|w| !w.trim().is_empty()),
            aliases: r.aliases,
            upstream: r.upstream,
            summary: shorten(summary.trim(), SUMMARY_MAX),
            severity,
            affected,
        }
    }

    /// Every ID this advisory is known by: its own, aliases and upstream.
    pub fn all_ids(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.id.as_str())
            .chain(self.aliases.iter().map(String::as_str))
            .chain(self.upstream.iter().map(String::as_str))
    }
}

impl Severity {
    /// CVSS scores are compared as integer tenths so they can be `max`ed.
    fn from_score_bits(tenths: u32) -> Severity {
        Severity::from_score(f64::from(tenths) / 10.0)
    }
}

fn highest_cvss(entries: &[SeverityEntry]) -> Option<u32> {
    entries
        .iter()
        .filter(|e| e.kind.to_ascii_uppercase().starts_with("CVSS"))
        .filter_map(|e| Severity::cvss_score(&e.kind, &e.score))
        .map(|s| (s * 10.0).round() as u32)
        .max()
}

/// A distro rating given as a severity entry of a non-CVSS type (Ubuntu's `"type": "Ubuntu"`).
fn distro_rating(entries: &[SeverityEntry]) -> Option<Severity> {
    entries
        .iter()
        .filter(|e| !e.kind.to_ascii_uppercase().starts_with("CVSS"))
        .filter_map(|e| Severity::from_rating(&e.score))
        .max()
}

/// `severity` or `urgency` in a `database_specific`/`ecosystem_specific` object.
fn rating_in(v: Option<&serde_json::Value>) -> Option<Severity> {
    let obj = v?.as_object()?;
    ["severity", "urgency"]
        .iter()
        .filter_map(|k| obj.get(*k)?.as_str())
        .find_map(Severity::from_rating)
}

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}
