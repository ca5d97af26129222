//! Made-up advisories for `lumen demo`, so that its scan pane shows vulnerability findings
//! offline. The demo's hosts are this machine (through the embedded SSH server), so the
//! advisories name a few packages installed here, at their installed versions, in this
//! release's OSV ecosystem. Each is plainly labelled: its ID starts `LUMEN-DEMO-` and its
//! summary says it is not a real vulnerability. They go through the same import, matching and
//! severity code as real OSV data; only the records are invented.

use crate::scan::collect::{Collected, collect_packages_only};
use crate::scan::matcher::lookup_keys;
use crate::scan::{LocalRunner, OsvDb, ScanOptions, Scheme};
use anyhow::Context;
use serde_json::{Value, json};
use std::cmp::Ordering;
use std::path::Path;

/// Every demo advisory's ID starts with this.
pub const ID_PREFIX: &str = "LUMEN-DEMO-";

/// Packages the demo prefers to name, as the advisories of each family name them (source
/// packages for Debian and Alpine, binary ones for RPM); others fill in when none is installed.
const PREFERRED: [&str; 10] = [
    "openssl",
    "openssh",
    "sudo",
    "curl",
    "bash",
    "openssl-libs",
    "openssh-clients",
    "glibc",
    "busybox",
    "tar",
];

/// One made-up advisory: its severity vector, whether a fix exists, and what it claims.
struct Made {
    vector: &'static str,
    fixed: bool,
    what: &'static str,
}

const MADE: [Made; 4] = [
    Made {
        vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        fixed: true,
        what: "remote code execution",
    },
    Made {
        vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N",
        fixed: false,
        what: "information disclosure",
    },
    Made {
        vector: "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:L/I:L/A:N",
        fixed: true,
        what: "local privilege confusion",
    },
    Made {
        vector: "CVSS:3.1/AV:L/AC:H/PR:H/UI:N/S:U/C:L/I:N/A:N",
        fixed: true,
        what: "a crash on malformed input",
    },
];

/// Collect this machine's release and packages (the commands a scan runs, run locally), make
/// up to four advisories for them in `dir`, and import them into the OSV data at `db`.
/// Returns how many were imported: 0 when the release has no OSV ecosystem or no package list.
pub async fn import_made_up_advisories(db: &Path, dir: &Path) -> anyhow::Result<usize> {
    let collected = collect_packages_only(&LocalRunner, &ScanOptions::default()).await;
    let records = advisories(&collected);
    if records.is_empty() {
        return Ok(0);
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for (i, record) in records.iter().enumerate() {
        let path = dir.join(format!("demo-{i}.json"));
        std::fs::write(&path, record.to_string())
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    let report = OsvDb::open(db)?.import(dir)?;
    Ok(report.read.records)
}

/// The made-up OSV records for what was collected: one per package chosen, each affecting the
/// installed version (fixed in a later one, or not fixed yet).
pub fn advisories(collected: &Collected) -> Vec<Value> {
    let Some(spec) = collected.os.as_ref().and_then(|os| os.ecosystem(false)) else {
        return Vec::new();
    };
    // Red Hat's ecosystems are prefixes (a product stream follows); the demo needs an exact one.
    let Some(ecosystem) = spec.names.first() else {
        return Vec::new();
    };
    let mut keys = lookup_keys(&collected.packages, spec.scheme);
    keys.retain(|(name, _)| !name.starts_with("linux") && !name.starts_with("kernel"));
    let mut chosen: Vec<(String, String)> = Vec::new();
    for want in PREFERRED {
        if let Some(k) = keys.iter().find(|(n, _)| n == want) {
            chosen.push(k.clone());
        }
    }
    for k in &keys {
        if chosen.len() >= MADE.len() {
            break;
        }
        if !chosen.iter().any(|(n, _)| n == &k.0) {
            chosen.push(k.clone());
        }
    }
    chosen
        .into_iter()
        .zip(MADE.iter())
        .enumerate()
        .map(|(i, ((name, installed), made))| {
            let mut events = vec![json!({"introduced": "0"})];
            if made.fixed
                && let Some(fixed) = later_version(spec.scheme, &installed)
            {
                events.push(json!({"fixed": fixed}));
            }
            json!({
                "id": format!("{ID_PREFIX}{:04}", i + 1),
                "modified": "2026-01-01T00:00:00Z",
                "summary": format!(
                    "Made up for the lumen demo, not a real vulnerability: {} in {name}",
                    made.what
                ),
                "details": format!(
                    "lumen demo invented this advisory so that the scan pane has something to \
                     show. {name} {installed} is installed here; no real advisory is implied."
                ),
                "severity": [{"type": "CVSS_V3", "score": made.vector}],
                "affected": [{
                    "package": {"ecosystem": ecosystem, "name": name},
                    "ranges": [{"type": "ECOSYSTEM", "events": events}],
                }],
            })
        })
        .collect()
}

/// A version the scheme orders after `installed`, looking like a distro's next revision.
fn later_version(scheme: Scheme, installed: &str) -> Option<String> {
    [
        bump_last_number(installed),
        Some(format!("{installed}.1")),
        Some(format!("{installed}+1")),
    ]
    .into_iter()
    .flatten()
    .find(|v| scheme.compare(v, installed) == Ordering::Greater)
}

/// `installed` with its last run of digits increased by one (`3.0.15-1~deb12u1` → `…u2`).
fn bump_last_number(installed: &str) -> Option<String> {
    let end = installed.rfind(|c: char| c.is_ascii_digit())? + 1;
    let start = installed[..end]
        .rfind(|c: char| !c.is_ascii_digit())
        .map_or(0, |i| i + 1);
    let n: u64 = installed[start..end].parse().ok()?;
    Some(format!(
        "{}{}{}",
        &installed[..start],
        n.checked_add(1)?,
        &installed[end..]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::collect::InstalledPackage;
    use crate::scan::os::OsRelease;

    fn package(name: &str, source: &str, version: &str) -> InstalledPackage {
        InstalledPackage {
            name: name.into(),
            version: version.into(),
            arch: None,
            source: source.into(),
            source_version: version.into(),
        }
    }

    #[test]
    fn a_later_version_is_later_in_each_scheme() {
        for (scheme, v, want) in [
            (Scheme::Dpkg, "3.0.15-1~deb12u1", "3.0.15-1~deb12u2"),
            (Scheme::Rpm, "1:3.0.7-27.el9", "1:3.0.7-27.el10"),
            (Scheme::Apk, "3.1.4-r5", "3.1.4-r6"),
            (Scheme::Dpkg, "5.2.15-2+b7", "5.2.15-2+b8"),
        ] {
            let later = later_version(scheme, v).unwrap();
            assert_eq!(later, want);
            assert_eq!(scheme.compare(&later, v), Ordering::Greater);
        }
        assert_eq!(later_version(Scheme::Dpkg, "abc").unwrap(), "abc.1");
    }

    #[test]
    fn advisories_name_installed_sources_in_the_host_ecosystem_and_skip_kernels() {
        let collected = Collected {
            os: Some(OsRelease::parse("ID=debian\nVERSION_ID=\"12\"\n")),
            packages: vec![
                package("libssl3", "openssl", "3.0.15-1~deb12u1"),
                package("linux-image-amd64", "linux", "6.1.0-1"),
                package("bash", "bash", "5.2.15-2+b7"),
                package("zlib1g", "zlib", "1:1.2.13.dfsg-1"),
            ],
            packages_known: true,
            ..Collected::default()
        };
        let records = advisories(&collected);
        let names: Vec<&str> = records
            .iter()
            .map(|r| r["affected"][0]["package"]["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["openssl", "bash", "zlib"]);
        assert!(
            records
                .iter()
                .all(|r| r["affected"][0]["package"]["ecosystem"] == "Debian:12"
                    && r["id"].as_str().unwrap().starts_with(ID_PREFIX)
                    && r["summary"].as_str().unwrap().contains("not a real"))
        );
        // The second one has no fix yet; the others are fixed in the next revision.
        assert_eq!(
            records[1]["affected"][0]["ranges"][0]["events"],
            json!([{"introduced": "0"}])
        );
        assert_eq!(
            records[0]["affected"][0]["ranges"][0]["events"][1]["fixed"],
            "3.0.15-1~deb12u2"
        );
    }

    #[test]
    fn no_ecosystem_no_advisories() {
        let collected = Collected {
            os: Some(OsRelease::parse("ID=arch\n")),
            packages: vec![package("bash", "bash", "5.2")],
            ..Collected::default()
        };
        assert!(advisories(&collected).is_empty());
    }
}
