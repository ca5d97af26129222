//! `lumen scan` results for other tools, end to end: the real binary scanning a fleet of fake
//! Rocky 9 hosts (lumen's embedded SSH server on many loopback ports). SARIF validated against
//! the OASIS 2.1.0 schema (tests/fixtures/sarif) by Python's `jsonschema`; Prometheus text
//! parsed by `prometheus_client`'s parser (both from scripts/ansible-venv.sh's venv);
//! `--prom-file` replaced atomically; exit codes 0/1/2/3; `--shard I/N` and `scan merge`; and
//! 200 hosts with `--parallel 64` started under a small open-files limit.
#![allow(clippy::unwrap_used)]

mod common;

use common::fake_fleet::FakeFleet;
use common::venv;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

/// Each of the fake hosts has openssl-libs 1:3.0.7-24.el9 installed: one package finding.
fn osv(f: &FakeFleet) -> PathBuf {
    f.osv(&[(
        "RLSA-2024:0256",
        "Rocky Linux:9",
        "openssl-libs",
        "1:3.0.7-25.el9_3",
    )])
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {} / {}",
            String::from_utf8_lossy(&out.stdout),
            stderr(out)
        )
    })
}

/// A host in the inventory that nothing answers.
fn add_unreachable(f: &FakeFleet) {
    let port = common::free_port().to_string();
    let out = f.lumen(
        &[
            "hosts",
            "add",
            "down",
            "--hostname",
            "127.0.0.1",
            "--port",
            &port,
            "--user",
            "scan",
        ],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
}

const VALIDATE_SARIF: &str = "
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
doc = json.load(open(sys.argv[2]))
cls = jsonschema.validators.validator_for(schema)
cls.check_schema(schema)
errors = sorted(cls(schema).iter_errors(doc), key=lambda e: list(e.path))
for e in errors:
    print('/'.join(map(str, e.path)), e.message)
sys.exit(1 if errors else 0)
";

fn schema() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sarif/sarif-schema-2.1.0.json")
}

/// Whether `doc` passes the SARIF 2.1.0 schema, and the validator's complaints.
fn sarif_valid(dir: &Path, doc: &Value) -> (bool, String) {
    let file = dir.join("doc.sarif");
    std::fs::write(&file, doc.to_string()).unwrap();
    let out = std::process::Command::new(venv::bin("python"))
        .args(["-c", VALIDATE_SARIF])
        .arg(schema())
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.code().is_some(),
        "the validator died: {}",
        stderr(&out)
    );
    (
        out.status.success(),
        format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out)),
    )
}

/// (ruleId, uri) → fingerprint of every result.
fn fingerprints(sarif: &Value) -> BTreeMap<(String, String), String> {
    sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                (
                    r["ruleId"].as_str().unwrap().to_string(),
                    r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                        .as_str()
                        .unwrap()
                        .to_string(),
                ),
                r["partialFingerprints"]["lumenFinding/v1"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            )
        })
        .collect()
}

#[test]
fn sarif_is_valid_2_1_0_with_file_locations_and_stable_fingerprints() {
    let f = FakeFleet::start(2, "rocky9", Duration::ZERO);
    let osv = osv(&f).display().to_string();
    let scan = || {
        let out = f.lumen(
            &["scan", "--all", "--osv-db", &osv, "--format", "sarif"],
            None,
        );
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        json(&out)
    };
    let first = scan();
    let (ok, why) = sarif_valid(f.dir.path(), &first);
    assert!(ok, "not valid SARIF 2.1.0: {why}");
    // The validator does reject what the schema forbids.
    let mut broken = first.clone();
    broken["runs"][0]["results"][0]["level"] = Value::from("fatal");
    assert!(
        !sarif_valid(f.dir.path(), &broken).0,
        "the validator accepts anything"
    );

    let run = &first["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "lumen");
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let rule_ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    let unique: BTreeSet<&str> = rule_ids.iter().copied().collect();
    assert_eq!(unique.len(), rule_ids.len(), "one rule per advisory/check");
    assert!(rule_ids.contains(&"RLSA-2024:0256"), "{rule_ids:?}");
    assert!(rule_ids.contains(&"sshd.permit_root_login"), "{rule_ids:?}");
    for r in rules {
        assert!(!r["help"]["text"].as_str().unwrap().is_empty(), "{r}");
        assert!(r["properties"]["security-severity"].is_string(), "{r}");
    }
    for r in run["results"].as_array().unwrap() {
        let i = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[i]["id"], r["ruleId"], "ruleIndex points at the rule");
    }
    let prints = fingerprints(&first);
    for host in ["h000", "h001"] {
        assert!(
            prints.contains_key(&("RLSA-2024:0256".into(), format!("ssh://{host}/var/lib/rpm"))),
            "{prints:?}"
        );
        assert!(
            prints.contains_key(&(
                "sshd.permit_root_login".into(),
                format!("ssh://{host}/etc/ssh/sshd_config")
            )),
            "{prints:?}"
        );
    }
    let distinct: BTreeSet<&String> = prints.values().collect();
    assert_eq!(
        distinct.len(),
        prints.len(),
        "each finding its own fingerprint"
    );
    // A second scan: the same findings carry the same fingerprints.
    assert_eq!(fingerprints(&scan()), prints);

    // A host not reached: still valid SARIF, the run marked unsuccessful with the reason.
    add_unreachable(&f);
    let out = f.lumen(
        &["scan", "--all", "--osv-db", &osv, "--format", "sarif"],
        None,
    );
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let failed = json(&out);
    let (ok, why) = sarif_valid(f.dir.path(), &failed);
    assert!(ok, "not valid SARIF 2.1.0: {why}");
    let invocation = &failed["runs"][0]["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false);
    assert!(
        invocation["toolExecutionNotifications"][0]["message"]["text"]
            .as_str()
            .unwrap()
            .starts_with("down: "),
        "{invocation}"
    );
}

const PARSE_PROM: &str = "
import json, sys
from prometheus_client.parser import text_string_to_metric_families
out = []
for fam in text_string_to_metric_families(open(sys.argv[1]).read()):
    for s in fam.samples:
        out.append([s.name, s.labels, s.value])
print(json.dumps(out))
";

/// Samples as (name, labels) → value, by prometheus_client's parser.
fn parse_prom(file: &Path) -> BTreeMap<(String, BTreeMap<String, String>), f64> {
    let out = venv::python(PARSE_PROM, &[file.to_str().unwrap()]);
    let samples: Vec<(String, BTreeMap<String, String>, f64)> =
        serde_json::from_slice(&out.stdout).unwrap();
    samples.into_iter().map(|(n, l, v)| ((n, l), v)).collect()
}

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn prometheus_text_parses_and_matches_the_report_and_the_file_is_replaced_atomically() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let f = FakeFleet::start(2, "rocky9", Duration::ZERO);
    add_unreachable(&f);
    let osv = osv(&f).display().to_string();
    let textfiles = f.path("textfiles");
    std::fs::create_dir_all(&textfiles).unwrap();
    let prom = textfiles.join("lumen.prom");
    // What was there before, and a second name for it: written in place, both would change.
    std::fs::write(&prom, "old\n").unwrap();
    std::fs::hard_link(&prom, f.path("old-link")).unwrap();
    let old_inode = std::fs::metadata(&prom).unwrap().ino();

    let prom_arg = prom.display().to_string();
    let out = f.lumen(
        &[
            "scan",
            "--all",
            "--osv-db",
            &osv,
            "--json",
            "--prom-file",
            &prom_arg,
        ],
        None,
    );
    assert_eq!(
        out.status.code(),
        Some(3),
        "a host was not reached: {}",
        stderr(&out)
    );
    let report = json(&out);

    assert_eq!(
        std::fs::read_to_string(f.path("old-link")).unwrap(),
        "old\n"
    );
    let meta = std::fs::metadata(&prom).unwrap();
    assert_ne!(meta.ino(), old_inode, "replaced by a rename");
    assert_eq!(
        meta.permissions().mode() & 0o777,
        0o644,
        "node_exporter may read it"
    );
    let left: Vec<_> = std::fs::read_dir(&textfiles).unwrap().collect();
    assert_eq!(left.len(), 1, "no temporary file left behind");

    let samples = parse_prom(&prom);
    let hosts = report["hosts"].as_array().unwrap();
    assert_eq!(hosts.len(), 3);
    for h in hosts {
        let name = h["host"].as_str().unwrap();
        for severity in ["critical", "high", "medium", "low", "unknown"] {
            for (kind, list) in [("package", "findings"), ("config", "config_findings")] {
                let want = h[list]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|x| x["severity"] == severity)
                    .count() as f64;
                let key = (
                    "lumen_scan_findings".to_string(),
                    labels(&[("host", name), ("severity", severity), ("kind", kind)]),
                );
                assert_eq!(samples.get(&key), Some(&want), "{key:?}");
            }
        }
        let one = |metric: &str| samples.get(&(metric.to_string(), labels(&[("host", name)])));
        assert_eq!(
            one("lumen_scan_reboot_required"),
            Some(&f64::from(u8::from(h["reboot_required"] == true)))
        );
        assert_eq!(
            one("lumen_scan_errors"),
            Some(&(h["errors"].as_array().unwrap().len() as f64))
        );
        let finished = h["finished_at"].as_str().map(|t| {
            time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
                .unwrap()
                .unix_timestamp() as f64
        });
        assert_eq!(
            one("lumen_scan_last_success_timestamp_seconds").copied(),
            finished,
            "{name}"
        );
    }
    let down = |m: &str| samples[&(m.to_string(), labels(&[("host", "down")]))];
    assert!(down("lumen_scan_errors") >= 1.0);
    // The package finding is counted on the hosts that answered.
    let openssl = samples[&(
        "lumen_scan_findings".to_string(),
        labels(&[
            ("host", "h000"),
            ("severity", "unknown"),
            ("kind", "package"),
        ]),
    )];
    assert_eq!(openssl, 1.0);

    // On stdout too.
    let out = f.lumen(
        &["scan", "h000", "--osv-db", &osv, "--format", "prom"],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    std::fs::write(f.path("stdout.prom"), &out.stdout).unwrap();
    assert!(parse_prom(&f.path("stdout.prom")).len() >= 13);
}

#[test]
fn exit_codes_clean_threshold_unscanned_usage() {
    let f = FakeFleet::start(1, "rocky9", Duration::ZERO);
    let osv = osv(&f).display().to_string();
    let code = |args: &[&str]| {
        let mut all = vec!["scan", "--osv-db", &osv, "--format", "json"];
        all.extend_from_slice(args);
        let out = f.lumen(&all, None);
        (out.status.code(), stderr(&out))
    };
    assert_eq!(code(&["--all"]).0, Some(0), "scanned, no threshold");
    assert_eq!(code(&["--all", "--fail-on", "low"]).0, Some(1));
    assert_eq!(code(&["--all", "--fail-on", "critical"]).0, Some(0));
    assert_eq!(code(&["--all", "--shard", "0/2"]).0, Some(2));
    assert_eq!(code(&["--all", "--shard", "3/2"]).0, Some(2));
    assert_eq!(code(&["--all", "--format", "xml"]).0, Some(2));
    add_unreachable(&f);
    let (c, err) = code(&["--all"]);
    assert_eq!(c, Some(3), "{err}");
    assert_eq!(
        code(&["--all", "--fail-on", "low"]).0,
        Some(1),
        "a crossed threshold wins over a host not scanned"
    );
}

fn host_names(report: &Value) -> Vec<String> {
    report["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["host"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn shards_cover_the_fleet_once_stably_and_merge_back() {
    let f = FakeFleet::start(12, "rocky9", Duration::ZERO);
    let osv = osv(&f).display().to_string();
    let shard = |i: u32| {
        let s = format!("{i}/3");
        let out = f.lumen(
            &["scan", "--all", "--osv-db", &osv, "--json", "--shard", &s],
            None,
        );
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        out.stdout
    };
    let mut seen: Vec<String> = Vec::new();
    let mut files = Vec::new();
    for i in 1..=3 {
        let stdout = shard(i);
        let names = host_names(&serde_json::from_slice(&stdout).unwrap());
        assert_eq!(
            host_names(&serde_json::from_slice(&shard(i)).unwrap()),
            names,
            "shard {i} is the same hosts on a second run"
        );
        seen.extend(names);
        let file = f.path(&format!("shard{i}.json"));
        std::fs::write(&file, stdout).unwrap();
        files.push(file.display().to_string());
    }
    let unique: BTreeSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no host in two shards: {seen:?}");
    let all: BTreeSet<&String> = f.names.iter().collect();
    assert_eq!(unique, all, "the shards together are the fleet");

    let store = f.store();
    for name in &f.names {
        assert_eq!(store.history(name, 10).unwrap().len(), 2, "{name}");
    }
    let mut args = vec!["scan", "merge", "--import"];
    args.extend(files.iter().map(String::as_str));
    let out = f.lumen(&args, None);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let merged = json(&out);
    let mut want = f.names.clone();
    want.sort();
    assert_eq!(host_names(&merged), want);
    for h in merged["hosts"].as_array().unwrap() {
        assert_eq!(h["findings"][0]["id"], "RLSA-2024:0256", "{h}");
    }
    for name in &f.names {
        assert_eq!(
            store.history(name, 10).unwrap().len(),
            3,
            "{name}: --import recorded the merged scan"
        );
    }
    // A report that is not one is a usage error naming the file.
    std::fs::write(f.path("junk.json"), "[1,2]").unwrap();
    let junk = f.path("junk.json").display().to_string();
    let out = f.lumen(&["scan", "merge", &junk], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("junk.json"), "{}", stderr(&out));
}

/// A soft limit far below what 64 connections in flight need: lumen raises it to the hard
/// limit at start, so no host fails with "Too many open files".
const SMALL_OPEN_FILES_LIMIT: u64 = 40;

#[test]
fn two_hundred_hosts_with_parallel_64_all_scanned_without_emfile() {
    // Each command answers after a while, so 64 connections really are open at once.
    let f = FakeFleet::start(200, "rocky9", Duration::from_millis(20));
    let osv = osv(&f).display().to_string();
    let out = f.lumen(
        &[
            "scan",
            "--all",
            "--osv-db",
            &osv,
            "--json",
            "--parallel",
            "64",
        ],
        Some(SMALL_OPEN_FILES_LIMIT),
    );
    let report = json(&out);
    let err = stderr(&out);
    assert!(!err.contains("Too many open files"), "{err}");
    assert_eq!(out.status.code(), Some(0), "{err}");
    let hosts = report["hosts"].as_array().unwrap();
    assert_eq!(hosts.len(), 200);
    for h in hosts {
        assert_eq!(h["errors"], Value::Array(vec![]), "{h}");
        assert_eq!(h["vulnerabilities_checked"], true);
    }
}

/// How long the fake hosts take to answer a command: longer than the test, so every host that
/// got a connection keeps it (nothing finishes and frees a slot).
const HANG: Duration = Duration::from_secs(600);
/// How long the test waits for logins that must come, and watches for ones that must not.
const PATIENCE: Duration = Duration::from_secs(30);
const SETTLE: Duration = Duration::from_secs(1);

/// Every fleet host behind one jump host (a real sshd that lets the fleet's key in).
fn behind_jump(f: &FakeFleet) -> common::Sshd {
    let jump = common::Sshd::start("").unwrap();
    jump.authorize(&f.path("home/.ssh/id_ed25519.pub"));
    let known = f.path("home/.ssh/known_hosts");
    let jump_known = f.path("jump_known_hosts");
    jump.known_hosts_file(&jump_known);
    let all =
        std::fs::read_to_string(&known).unwrap() + &std::fs::read_to_string(&jump_known).unwrap();
    std::fs::write(&known, all).unwrap();
    let port = jump.port.to_string();
    let me = String::from_utf8(
        std::process::Command::new("id")
            .arg("-un")
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let out = f.lumen(
        &[
            "hosts",
            "add",
            "jumpbox",
            "--hostname",
            "127.0.0.1",
            "--port",
            &port,
            "--user",
            me.trim(),
        ],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    for name in &f.names {
        let out = f.lumen(&["hosts", "edit", name, "--jump", "jumpbox"], None);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    jump
}

/// Start a scan of the fleet (not of the jump host itself), wait until `logins` hosts are
/// logged into, and return the running scan.
fn scan_until_logins(f: &FakeFleet, per_jump: &str, logins: usize) -> std::process::Child {
    let mut args = vec!["scan", "--json", "--parallel", "10", "--per-jump", per_jump];
    args.extend(f.names.iter().map(String::as_str));
    let child = f
        .command(&args, None)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while f.logins() < logins {
        assert!(
            start.elapsed() < PATIENCE,
            "only {} of {logins} hosts logged into",
            f.logins()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

#[test]
fn per_jump_caps_connections_through_one_jump_host() {
    let f = FakeFleet::start(10, "rocky9", HANG);
    let _jump = behind_jump(&f);
    // --per-jump 3 with --parallel 10: three hosts are being scanned, the others wait.
    let mut capped = scan_until_logins(&f, "3", 3);
    std::thread::sleep(SETTLE);
    let seen = f.logins();
    capped.kill().unwrap();
    capped.wait().unwrap();
    assert_eq!(
        seen, 3,
        "more than --per-jump hosts at once through the jump host"
    );
    // The control: with room for all, all ten are logged into at once.
    let before = f.logins();
    let mut open = scan_until_logins(&f, "10", before + 10);
    open.kill().unwrap();
    open.wait().unwrap();
}
