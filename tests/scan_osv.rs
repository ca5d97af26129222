//! OSV data: import of a directory and of an `all.zip` into scans.sqlite (malformed records
//! skipped with a warning naming the file, a corrupt zip refused with nothing imported), and
//! matching semantics end to end: source-package matching with source versions (binNMU),
//! binaries shown, aliases/upstream merged into one finding, withdrawn records skipped,
//! severities, "no fix yet" apart.
#![allow(clippy::unwrap_used)]

use lumen::scan::collect::InstalledPackage;
use lumen::scan::matcher::match_packages;
use lumen::scan::os::OsRelease;
use lumen::scan::osv::source;
use lumen::scan::{AdvisoryLookup, OsvDb, ScanError, Severity};
use serde_json::json;
use std::io::Write;
use std::path::Path;

fn record(id: &str, eco: &str, name: &str, events: serde_json::Value) -> serde_json::Value {
    json!({
        "schema_version": "1.6.0",
        "id": id,
        "modified": "2026-01-01T00:00:00Z",
        "summary": format!("{id} in {name}"),
        "affected": [{
            "package": {"ecosystem": eco, "name": name},
            "ranges": [{"type": "ECOSYSTEM", "events": events}]
        }]
    })
}

fn write_zip(path: &Path, files: &[(&str, Vec<u8>)]) {
    let file = std::fs::File::create(path).unwrap();
    let mut zip = zip::ZipWriter::new(file);
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in files {
        zip.start_file(*name, opts).unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap();
}

fn pkg(name: &str, version: &str, source: &str, source_version: &str) -> InstalledPackage {
    InstalledPackage {
        name: name.into(),
        version: version.into(),
        arch: Some("amd64".into()),
        source: source.into(),
        source_version: source_version.into(),
    }
}

fn debian12() -> lumen::scan::os::EcosystemSpec {
    OsRelease::parse("ID=debian\nVERSION_ID=12\n")
        .ecosystem(false)
        .unwrap()
}

#[test]
fn zip_import_skips_malformed_records_and_names_them() {
    let dir = tempfile::tempdir().unwrap();
    let zip = dir.path().join("all.zip");
    let good = record(
        "DSA-1-1",
        "Debian:12",
        "openssl",
        json!([{"introduced": "0"}, {"fixed": "3.0.13-1"}]),
    );
    write_zip(
        &zip,
        &[
            ("DSA-1-1.json", serde_json::to_vec(&good).unwrap()),
            ("broken.json", b"{\"id\": \"X\", \"affected\": [".to_vec()),
            ("README.txt", b"not a record".to_vec()),
        ],
    );
    let db = OsvDb::open(&dir.path().join("scans.sqlite")).unwrap();
    let report = db.import(&zip).unwrap();
    assert_eq!(report.read.records, 1);
    assert_eq!(report.read.skipped, 1);
    assert!(
        report.read.warnings[0].contains("all.zip:broken.json"),
        "{:?}",
        report.read.warnings
    );
    assert_eq!(report.ecosystems, [("Debian:12".to_string(), 1)]);
    assert_eq!(db.count().unwrap(), 1);
    assert!(db.last_import().unwrap().is_some());
    assert!(db.stale_warning(time::OffsetDateTime::now_utc()).is_none());
    let later = time::OffsetDateTime::now_utc() + time::Duration::days(8);
    assert!(db.stale_warning(later).unwrap().contains("8 days ago"));
    let found = db.lookup(&debian12(), "openssl").unwrap();
    assert_eq!(found.len(), 1);
    assert!(db.lookup(&debian12(), "bash").unwrap().is_empty());
}

#[test]
fn corrupt_zip_is_refused_and_imports_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let zip = dir.path().join("all.zip");
    let recs: Vec<(String, Vec<u8>)> = (0..50)
        .map(|i| {
            let r = record(
                &format!("DSA-{i}-1"),
                "Debian:12",
                "openssl",
                json!([{"introduced": "0"}, {"fixed": "9"}]),
            );
            (format!("DSA-{i}-1.json"), serde_json::to_vec(&r).unwrap())
        })
        .collect();
    let files: Vec<(&str, Vec<u8>)> = recs.iter().map(|(n, b)| (n.as_str(), b.clone())).collect();
    write_zip(&zip, &files);
    let mut bytes = std::fs::read(&zip).unwrap();
    // Damage compressed data in the middle (the central directory at the end stays readable).
    let mid = bytes.len() / 3;
    for b in &mut bytes[mid..mid + 64] {
        *b ^= 0x5a;
    }
    std::fs::write(&zip, &bytes).unwrap();
    let db = OsvDb::open(&dir.path().join("scans.sqlite")).unwrap();
    let err = db.import(&zip).unwrap_err();
    assert!(matches!(err, ScanError::Zip { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("download the ecosystem's all.zip again"),
        "{err}"
    );
    assert_eq!(db.count().unwrap(), 0, "a broken zip imports nothing");
    // Truncated to half: not even a zip any more.
    std::fs::write(&zip, &bytes[..bytes.len() / 2]).unwrap();
    assert!(matches!(
        db.import(&zip).unwrap_err(),
        ScanError::Zip { .. }
    ));
    // Not OSV at all.
    let other = dir.path().join("notes.txt");
    std::fs::write(&other, "hello").unwrap();
    assert!(matches!(
        db.import(&other).unwrap_err(),
        ScanError::NotOsv { .. }
    ));
}

#[test]
fn directory_source_warns_about_the_bad_file() {
    let dir = tempfile::tempdir().unwrap();
    let osv = dir.path().join("osv");
    std::fs::create_dir_all(osv.join("sub")).unwrap();
    let good = record(
        "DSA-2-1",
        "Debian:12",
        "bash",
        json!([{"introduced": "0"}, {"fixed": "9"}]),
    );
    std::fs::write(
        osv.join("sub/DSA-2-1.json"),
        serde_json::to_vec(&good).unwrap(),
    )
    .unwrap();
    std::fs::write(osv.join("bad.json"), "{\"affected\": 3}").unwrap();
    let (index, report) = source::load(&osv).unwrap();
    assert_eq!(index.len(), 1);
    assert_eq!(report.skipped, 1);
    assert!(
        report.warnings[0].contains("bad.json"),
        "{:?}",
        report.warnings
    );
}

/// Matching through the real lookup code (an imported database), on Debian packages.
fn matched(
    records: &[serde_json::Value],
    packages: &[InstalledPackage],
) -> Vec<lumen::scan::Finding> {
    let dir = tempfile::tempdir().unwrap();
    let osv = dir.path().join("osv");
    std::fs::create_dir_all(&osv).unwrap();
    for (i, r) in records.iter().enumerate() {
        std::fs::write(
            osv.join(format!("{i}.json")),
            serde_json::to_vec(r).unwrap(),
        )
        .unwrap();
    }
    let db = OsvDb::open(&dir.path().join("scans.sqlite")).unwrap();
    db.import(&osv).unwrap();
    match_packages(packages, &debian12(), &db).unwrap()
}

#[test]
fn source_packages_binnmu_and_binaries() {
    let packages = [
        pkg("libssl3", "3.0.11-1~deb12u2", "openssl", "3.0.11-1~deb12u2"),
        pkg("openssl", "3.0.11-1~deb12u2", "openssl", "3.0.11-1~deb12u2"),
        // binNMU: binary 5.2.15-2+b8, source 5.2.15-2.
        pkg("bash", "5.2.15-2+b8", "bash", "5.2.15-2"),
    ];
    let records = [
        record(
            "CVE-2024-0001",
            "Debian:12",
            "openssl",
            json!([{"introduced": "0"}, {"fixed": "3.0.13-1~deb12u1"}]),
        ),
        // Names the binary, not the source: Debian records never do, so it must not match.
        record(
            "CVE-2024-0002",
            "Debian:12",
            "libssl3",
            json!([{"introduced": "0"}, {"fixed": "9"}]),
        ),
        // Fixed in the binNMU's version: the source version is still affected.
        record(
            "CVE-2024-0003",
            "Debian:12",
            "bash",
            json!([{"introduced": "0"}, {"fixed": "5.2.15-2+b8"}]),
        ),
        // Another release's record.
        record(
            "CVE-2024-0004",
            "Debian:11",
            "openssl",
            json!([{"introduced": "0"}, {"fixed": "9"}]),
        ),
    ];
    let f = matched(&records, &packages);
    let got: Vec<(&str, &str)> = f
        .iter()
        .map(|f| (f.id.as_str(), f.package.as_str()))
        .collect();
    assert_eq!(
        got,
        [("CVE-2024-0003", "bash"), ("CVE-2024-0001", "openssl")]
    );
    let openssl = &f[1];
    assert_eq!(openssl.binaries, ["libssl3", "openssl"]);
    assert_eq!(openssl.installed, "3.0.11-1~deb12u2");
    assert_eq!(openssl.fixed.as_deref(), Some("3.0.13-1~deb12u1"));
    assert_eq!(f[0].installed, "5.2.15-2");
}

#[test]
fn aliases_and_upstream_merge_withdrawn_skipped_severity_and_no_fix() {
    let packages = [
        pkg("curl", "7.88.1-10+deb12u5", "curl", "7.88.1-10+deb12u5"),
        pkg("zlib1g", "1:1.2.13.dfsg-1", "zlib", "1:1.2.13.dfsg-1"),
    ];
    let mut dsa = record(
        "DSA-5700-1",
        "Debian:12",
        "curl",
        json!([{"introduced": "0"}, {"fixed": "7.88.1-10+deb12u6"}]),
    );
    dsa["upstream"] = json!(["CVE-2024-2398"]);
    let mut cve = record(
        "DEBIAN-CVE-2024-2398",
        "Debian:12",
        "curl",
        json!([{"introduced": "0"}, {"fixed": "7.88.1-10+deb12u6"}]),
    );
    cve["aliases"] = json!(["CVE-2024-2398"]);
    cve["severity"] =
        json!([{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}]);
    let mut withdrawn = record(
        "DSA-9999-1",
        "Debian:12",
        "curl",
        json!([{"introduced": "0"}, {"fixed": "9"}]),
    );
    withdrawn["withdrawn"] = json!("2026-01-02T00:00:00Z");
    let mut unfixed = record(
        "CVE-2023-45853",
        "Debian:12",
        "zlib",
        json!([{"introduced": "0"}]),
    );
    unfixed["severity"] = json!([{"type": "Ubuntu", "score": "low"}, {"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}]);
    let f = matched(&[dsa, cve, withdrawn, unfixed], &packages);
    assert_eq!(f.len(), 2, "{f:#?}");
    let curl = f.iter().find(|x| x.package == "curl").unwrap();
    assert_eq!(curl.id, "CVE-2024-2398");
    assert_eq!(curl.aliases, ["DEBIAN-CVE-2024-2398", "DSA-5700-1"]);
    assert_eq!(curl.severity, Severity::Critical, "from the CVSS vector");
    let zlib = f.iter().find(|x| x.package == "zlib").unwrap();
    assert_eq!(zlib.fixed, None, "no fix yet");
    assert_eq!(
        zlib.severity,
        Severity::Low,
        "the distro's rating wins over CVSS"
    );
}
