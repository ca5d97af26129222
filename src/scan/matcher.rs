//! Installed packages against OSV advisories: Debian, Ubuntu and Alpine advisories name the
//! source package (matched with the source version); RPM ones name binary packages. Advisories
//! that are the same vulnerability (a DSA and its CVE, through `aliases` and `upstream`) become
//! one finding.

use crate::scan::ScanError;
use crate::scan::collect::InstalledPackage;
use crate::scan::os::EcosystemSpec;
use crate::scan::osv::eval::evaluate;
use crate::scan::osv::{Advisory, AdvisoryLookup};
use crate::scan::report::Finding;
use crate::scan::severity::Severity;
use crate::scan::version::Scheme;
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

/// What one lookup is for: a package name and version as the advisories name them, and the
/// installed binaries behind it.
#[derive(Debug)]
struct Target {
    name: String,
    version: String,
    binaries: BTreeSet<String>,
}

/// Group packages by what the ecosystem's advisories name.
fn targets(packages: &[InstalledPackage], scheme: Scheme) -> Vec<Target> {
    let mut by_key: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    for p in packages {
        let key = match scheme {
            Scheme::Dpkg | Scheme::Apk => (p.source.clone(), p.source_version.clone()),
            Scheme::Rpm => (p.name.clone(), p.version.clone()),
        };
        by_key.entry(key).or_default().insert(p.name.clone());
    }
    by_key
        .into_iter()
        .map(|((name, version), binaries)| Target {
            name,
            version,
            binaries,
        })
        .collect()
}

/// The (name, version) pairs advisories are looked up by, e.g. for the online API.
pub fn lookup_keys(packages: &[InstalledPackage], scheme: Scheme) -> Vec<(String, String)> {
    targets(packages, scheme)
        .into_iter()
        .map(|t| (t.name, t.version))
        .collect()
}

/// One advisory that affects one target.
struct Hit {
    advisory: Arc<Advisory>,
    fixed: Option<String>,
    severity: Severity,
}

/// Every finding for these packages, most severe first.
pub fn match_packages(
    packages: &[InstalledPackage],
    spec: &EcosystemSpec,
    lookup: &dyn AdvisoryLookup,
) -> Result<Vec<Finding>, ScanError> {
    let mut findings = Vec::new();
    for target in targets(packages, spec.scheme) {
        let mut hits = Vec::new();
        for advisory in lookup.lookup(spec, &target.name)? {
            if advisory.withdrawn {
                continue;
            }
            let mut hit: Option<Hit> = None;
            for affected in advisory
                .affected
                .iter()
                .filter(|a| a.package.name == target.name && spec.matches(&a.package.ecosystem))
            {
                let Some(h) = evaluate(affected, spec.scheme, &target.version) else {
                    continue;
                };
                let severity = affected.severity.unwrap_or(advisory.severity);
                hit = Some(match hit {
                    None => Hit {
                        advisory: advisory.clone(),
                        fixed: h.fixed,
                        severity,
                    },
                    Some(prev) => Hit {
                        fixed: higher(prev.fixed, h.fixed, spec.scheme),
                        severity: prev.severity.max(severity),
                        advisory: prev.advisory,
                    },
                });
            }
            hits.extend(hit);
        }
        findings.extend(merge(&target, hits, spec.scheme));
    }
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.package.cmp(&b.package))
            .then_with(|| a.id.cmp(&b.id))
    });
    Ok(findings)
}

/// The fix that clears both: the higher version; a known fix wins over none.
fn higher(a: Option<String>, b: Option<String>, scheme: Scheme) -> Option<String> {
    match (a, b) {
        (Some(x), Some(y)) => Some(if scheme.compare(&x, &y) == Ordering::Less {
            y
        } else {
            x
        }),
        (x, y) => x.or(y),
    }
}

/// Union the hits that share an ID (own, alias or upstream) into one finding each.
fn merge(target: &Target, hits: Vec<Hit>, scheme: Scheme) -> Vec<Finding> {
    let n = hits.len();
    let mut parent: Vec<usize> = (0..n).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    let mut owner: HashMap<String, usize> = HashMap::new();
    for (i, hit) in hits.iter().enumerate() {
        for id in hit.advisory.all_ids() {
            let id = id.to_ascii_uppercase();
            match owner.get(&id) {
                Some(&j) => {
                    let (a, b) = (root(&mut parent, i), root(&mut parent, j));
                    parent[a] = b;
                }
                None => {
                    owner.insert(id, i);
                }
            }
        }
    }
    let mut groups: BTreeMap<usize, Vec<&Hit>> = BTreeMap::new();
    for (i, hit) in hits.iter().enumerate() {
        let r = root(&mut parent, i);
        groups.entry(r).or_default().push(hit);
    }
    groups
        .into_values()
        .map(|group| {
            let ids: BTreeSet<&str> = group.iter().flat_map(|h| h.advisory.all_ids()).collect();
            let cves: Vec<&str> = ids
                .iter()
                .copied()
                .filter(|i| i.starts_with("CVE-"))
                .collect();
            // One CVE: that is the name people search for. Several: the advisory that
            // groups them (its own record, not an alias).
            let id = match cves.as_slice() {
                [one] => one.to_string(),
                _ => group
                    .iter()
                    .map(|h| h.advisory.id.as_str())
                    .min_by_key(|i| (i.starts_with("CVE-"), *i))
                    .unwrap_or_default()
                    .to_string(),
            };
            let fixed = group
                .iter()
                .map(|h| h.fixed.clone())
                .reduce(|a, b| higher(a, b, scheme))
                .flatten();
            let severity = group.iter().map(|h| h.severity).max().unwrap_or_default();
            let summary = group
                .iter()
                .map(|h| h.advisory.summary.as_str())
                .find(|s| !s.is_empty())
                .unwrap_or_default()
                .to_string();
            Finding {
                aliases: ids
                    .iter()
                    .filter(|i| **i != id)
                    .map(|i| i.to_string())
                    .collect(),
                id,
                package: target.name.clone(),
                binaries: target.binaries.iter().cloned().collect(),
                installed: target.version.clone(),
                fixed,
                severity,
                summary,
            }
        })
        .collect()
}
