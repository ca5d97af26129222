//! `lumen scan` end to end, the real binary against a real OpenSSH `sshd` on loopback scanning
//! this Debian machine: OSV records generated around its installed source packages (expected
//! findings computed with `dpkg --compare-versions` as the oracle), `scan db import` of a zip,
//! the `--json` shape, history (new and resolved), `--fail-on`, `--osv-db`, `--online` against
//! a fake OSV API on loopback, a failing host beside a good one, and an unknown host key refused
//! without a terminal.
#![allow(clippy::unwrap_used)]

mod common;

use lumen::scan::collect::packages::{DPKG_COMMAND, parse_dpkg};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};

type Env = common::CliHost;

fn setup() -> Env {
    Env::start()
}

impl Env {
    fn scan(&self, extra: &[&str], env: &[(&str, &str)]) -> (Value, Output) {
        let port = self.sshd.port.to_string();
        let key = self.key.display().to_string();
        let mut args = vec!["scan", "--json", "-i", &key, "-p", &port];
        args.extend_from_slice(extra);
        if !extra.iter().any(|a| a.starts_with("127.0.0.1")) {
            args.push("127.0.0.1");
        }
        let out = self.lumen(&args, env);
        let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "{e}: stdout {} stderr {}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        });
        (json, out)
    }
}

/// dpkg's answer to `a OP b`.
fn dpkg(a: &str, op: &str, b: &str) -> bool {
    Command::new("dpkg")
        .args(["--compare-versions", a, op, b])
        .status()
        .unwrap()
        .success()
}

/// Records around the installed source versions, and the (id, package) pairs that dpkg says
/// are affected.
fn generate(osv: &Path) -> (BTreeSet<(String, String)>, usize) {
    std::fs::create_dir_all(osv).unwrap();
    let out = Command::new("sh")
        .args(["-c", DPKG_COMMAND])
        .output()
        .unwrap();
    let packages = parse_dpkg(&String::from_utf8_lossy(&out.stdout)).packages;
    let mut sources: Vec<(String, String)> = packages
        .iter()
        .map(|p| (p.source.clone(), p.source_version.clone()))
        .collect();
    sources.sort();
    sources.dedup();
    // Kernel packages follow the running-kernel rule; leave them to the unit tests.
    sources.retain(|(s, _)| s != "linux" && !s.starts_with("linux-signed"));
    let step = (sources.len() / 120).max(1);
    let mut expected = BTreeSet::new();
    let mut n = 0;
    let write = |id: &str, rec: Value| {
        std::fs::write(
            osv.join(format!("{id}.json")),
            serde_json::to_vec(&rec).unwrap(),
        )
        .unwrap();
    };
    for (i, (source, v)) in sources.iter().step_by(step).enumerate() {
        let id = format!("LUMEN-TEST-{i:04}");
        let (introduced, fixed, last, versions): (
            String,
            Option<String>,
            Option<String>,
            Vec<String>,
        ) = match i % 7 {
            0 => ("0".into(), Some(format!("{v}+lumen1")), None, vec![]),
            1 => ("0".into(), Some(v.clone()), None, vec![]),
            2 => ("0".into(), Some(format!("{v}~")), None, vec![]),
            3 => (format!("{v}+x"), Some(format!("{v}+y")), None, vec![]),
            4 => ("0".into(), None, Some(v.clone()), vec![]),
            5 => ("0".into(), None, Some(format!("{v}~")), vec![]),
            _ => ("0".into(), Some("0~".into()), None, vec![v.clone()]),
        };
        let mut events = vec![json!({"introduced": introduced})];
        events.extend(fixed.iter().map(|f| json!({"fixed": f})));
        events.extend(last.iter().map(|l| json!({"last_affected": l})));
        events.reverse(); // any order
        let severity = if i % 7 == 0 {
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
        } else {
            "CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N"
        };
        write(
            &id,
            json!({
                "id": id, "modified": "2026-11-01T00:00:00Z", "summary": format!("test advisory for {source}"),
                "severity": [{"type": "CVSS_V3", "score": severity}],
                "affected": [{"package": {"ecosystem": "Debian:12", "name": source},
                              "ranges": [{"type": "ECOSYSTEM", "events": events}], "versions": versions}]
            }),
        );
        n += 1;
        // The oracle: dpkg decides each case.
        let after_intro = introduced == "0" || dpkg(v, "ge", &introduced);
        let before_fix = fixed.as_ref().is_none_or(|f| dpkg(v, "lt", f));
        let within_last = last.as_ref().is_none_or(|l| dpkg(v, "le", l));
        let in_range =
            after_intro && before_fix && within_last && (fixed.is_some() || last.is_some());
        let listed = versions.iter().any(|x| dpkg(v, "eq", x));
        if in_range || listed {
            expected.insert((id.clone(), source.clone()));
        }
    }
    // A record naming a binary package (never a source) must not match.
    if let Some(p) = packages.iter().find(|p| p.name != p.source) {
        write(
            "LUMEN-BINARY",
            json!({"id": "LUMEN-BINARY", "affected": [{"package": {"ecosystem": "Debian:12", "name": p.name},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "99999"}]}]}]}),
        );
        n += 1;
    }
    // binNMU: fixed in exactly the binary's version; the source version decides.
    if let Some(p) = packages
        .iter()
        .find(|p| p.version.starts_with(&format!("{}+b", p.source_version)))
    {
        write(
            "LUMEN-BINNMU",
            json!({"id": "LUMEN-BINNMU", "affected": [{"package": {"ecosystem": "Debian:12", "name": p.source},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": p.version}]}]}]}),
        );
        n += 1;
        if dpkg(&p.source_version, "lt", &p.version) {
            expected.insert(("LUMEN-BINNMU".into(), p.source.clone()));
        }
    }
    (expected, n)
}

fn zip_dir(dir: &Path, zip: &Path) {
    let mut w = zip::ZipWriter::new(std::fs::File::create(zip).unwrap());
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        w.start_file(
            e.file_name().to_string_lossy(),
            zip::write::SimpleFileOptions::default(),
        )
        .unwrap();
        w.write_all(&std::fs::read(e.path()).unwrap()).unwrap();
    }
    w.finish().unwrap();
}

fn found(host: &Value) -> BTreeSet<(String, String)> {
    host["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["id"].as_str().unwrap().starts_with("LUMEN-"))
        .map(|f| {
            (
                f["id"].as_str().unwrap().to_string(),
                f["package"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn keys(v: &Value) -> Vec<&str> {
    let mut k: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    k.sort();
    k
}

#[test]
fn scans_this_machine_with_dpkg_as_the_oracle_and_keeps_history() {
    let env = setup();
    let osv = env.dir.path().join("osv");
    let (expected, records) = generate(&osv);
    assert!(
        expected.len() > 20 && records > 100,
        "{} expected of {records}",
        expected.len()
    );
    let zip = env.dir.path().join("all.zip");
    zip_dir(&osv, &zip);
    let out = env.lumen(&["scan", "db", "import", zip.to_str().unwrap()], &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("imported {records} records")));

    let (report, out) = env.scan(&[], &[]);
    let host = &report["hosts"][0];
    assert_eq!(keys(&report), ["hosts"]);
    assert_eq!(
        keys(host),
        [
            "config_findings",
            "duration_seconds",
            "errors",
            "findings",
            "finished_at",
            "host",
            "kernel",
            "new",
            "os",
            "packages",
            "reboot_required",
            "resolved",
            "security_updates",
            "vulnerabilities_checked"
        ]
    );
    // The package count is dpkg's; the time is the scan's own.
    let installed = Command::new("sh")
        .args(["-c", DPKG_COMMAND])
        .output()
        .unwrap();
    assert_eq!(
        host["packages"].as_u64().unwrap() as usize,
        parse_dpkg(&String::from_utf8_lossy(&installed.stdout))
            .packages
            .len()
    );
    assert!(host["duration_seconds"].as_f64().unwrap() > 0.0, "{host}");
    assert!(
        host["security_updates"].is_u64(),
        "apt-get -s upgrade answers on this Debian: {host}"
    );
    assert_eq!(host["vulnerabilities_checked"], true);
    let first = &host["findings"][0];
    assert_eq!(
        keys(first),
        [
            "aliases",
            "binaries",
            "fixed",
            "id",
            "installed",
            "package",
            "severity",
            "summary"
        ]
    );
    assert_eq!(host["os"]["ecosystem"], "Debian:12");
    assert_eq!(
        host["kernel"].as_str().unwrap(),
        String::from_utf8(Command::new("uname").arg("-r").output().unwrap().stdout)
            .unwrap()
            .trim()
    );
    let got = found(host);
    let missing: Vec<_> = expected.difference(&got).collect();
    let extra: Vec<_> = got.difference(&expected).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing (false negatives) {missing:?}\nextra (false positives) {extra:?}"
    );
    let errors = host["errors"].as_array().unwrap();
    assert!(
        !errors
            .iter()
            .any(|e| e.as_str().unwrap().starts_with("packages")
                || e.as_str().unwrap().starts_with("sshd settings")),
        "{errors:?}"
    );
    assert_eq!(host["new"], json!([]), "nothing is new on a first scan");
    assert!(
        out.status.code() == Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Same data again: nothing new, nothing resolved.
    let (report, _) = env.scan(&[], &[]);
    assert_eq!(report["hosts"][0]["new"], json!([]));
    assert_eq!(report["hosts"][0]["resolved"], json!([]));

    // One more advisory imported: it is new.
    let pkg = expected.iter().next().map(|(_, p)| p.clone()).unwrap();
    let more = env.dir.path().join("more");
    std::fs::create_dir_all(&more).unwrap();
    std::fs::write(more.join("LUMEN-NEW.json"), serde_json::to_vec(&json!({"id": "LUMEN-NEW",
        "affected": [{"package": {"ecosystem": "Debian:12", "name": pkg}, "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]}]})).unwrap()).unwrap();
    assert!(
        env.lumen(&["scan", "db", "import", more.to_str().unwrap()], &[])
            .status
            .success()
    );
    let (report, _) = env.scan(&[], &[]);
    assert_eq!(
        report["hosts"][0]["new"],
        json!([{"id": "LUMEN-NEW", "package": pkg}])
    );
    let unfixed = report["hosts"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "LUMEN-NEW")
        .unwrap();
    assert_eq!(unfixed["fixed"], Value::Null);

    // --osv-db with the first directory only: LUMEN-NEW is resolved. --fail-on: the 0th case is critical.
    let (report, out) = env.scan(
        &["--osv-db", osv.to_str().unwrap(), "--fail-on", "critical"],
        &[],
    );
    assert_eq!(
        report["hosts"][0]["resolved"],
        json!([{"id": "LUMEN-NEW", "package": pkg}])
    );
    assert_eq!(out.status.code(), Some(1), "a critical finding exists");
    let (_, out) = env.scan(
        &["--osv-db", more.to_str().unwrap(), "--fail-on", "critical"],
        &[],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Human output: readable, with the findings that have no fix apart.
    let port = env.sshd.port.to_string();
    let key = env.key.display().to_string();
    let out = env.lumen(&["scan", "-i", &key, "-p", &port, "127.0.0.1"], &[]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("no fix yet") && text.contains("fix available") && text.contains("LUMEN-"),
        "{text}"
    );
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains('\u{1b}'),
        "no progress bar without a terminal"
    );
}

#[test]
fn failing_host_is_reported_and_unknown_key_refused_without_a_terminal() {
    let env = setup();
    let closed = common::free_port();
    let (report, out) = env.scan(&["127.0.0.1", &format!("127.0.0.1:{closed}")], &[]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let hosts = report["hosts"].as_array().unwrap();
    assert_eq!(hosts.len(), 2);
    assert!(hosts[0]["os"].is_object(), "the good host was scanned");
    assert!(hosts[1]["os"].is_null());
    assert!(!hosts[1]["errors"].as_array().unwrap().is_empty());
    // A host whose key is not known: refused, as ssh does in batch use.
    std::fs::remove_file(env.dir.path().join("home/.ssh/known_hosts")).unwrap();
    let (report, out) = env.scan(&[], &[]);
    assert_eq!(out.status.code(), Some(3));
    let error = report["hosts"][0]["errors"][0]
        .as_str()
        .unwrap()
        .to_lowercase();
    assert!(
        error.contains("host key") || error.contains("authenticity") || error.contains("known"),
        "{error}"
    );
}

/// Without OSV data nothing is matched: the report says "not checked" where the count would
/// be, never "none found", and the exit status is 3 (not fully scanned), with `--fail-on` too.
/// The merged-/usr `PATH` (`/bin -> usr/bin`) is not reported as world-writable.
#[test]
fn no_osv_data_is_not_checked_and_merged_usr_path_is_clean() {
    let env = setup();
    let (report, out) = env.scan(&["--fail-on", "critical"], &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    let host = &report["hosts"][0];
    assert_eq!(host["vulnerabilities_checked"], false, "{host}");
    assert!(host["os"].is_object(), "the host was reached: {host}");
    let errors = host["errors"].to_string();
    assert!(errors.contains("vulnerabilities: no OSV data"), "{errors}");
    let checks: Vec<&str> = host["config_findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["check"].as_str().unwrap())
        .collect();
    assert!(
        std::fs::symlink_metadata("/bin").unwrap().is_symlink(),
        "this test expects a merged-/usr Debian"
    );
    assert!(!checks.contains(&"path.world_writable"), "{checks:?}");
    // Most severe first, as the pane and the human report show them.
    let rank = |s: &str| {
        ["unknown", "low", "medium", "high", "critical"]
            .iter()
            .position(|r| *r == s)
    };
    let severities: Vec<usize> = host["config_findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| rank(f["severity"].as_str().unwrap()).unwrap())
        .collect();
    assert!(
        severities.windows(2).all(|w| w[0] >= w[1]),
        "{checks:?} {severities:?}"
    );

    let port = env.sshd.port.to_string();
    let key = env.key.display().to_string();
    let out = env.lumen(&["scan", "-i", &key, "-p", &port, "127.0.0.1"], &[]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("vulnerabilities: not checked: no OSV data"),
        "{text}"
    );
    assert!(!text.contains("none found"), "{text}");
    assert_eq!(out.status.code(), Some(3));
}

/// A fake OSV API on loopback: answers querybatch for one package and serves its record;
/// records every request body.
/// Request lines and bodies the fake API received.
type Requests = Arc<Mutex<Vec<(String, String)>>>;

fn fake_osv(package: String, version_fixed: String) -> (String, Requests) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen: Requests = Arc::default();
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request = String::new();
            reader.read_line(&mut request).unwrap();
            let mut length = 0;
            loop {
                let mut h = String::new();
                reader.read_line(&mut h).unwrap();
                if h.trim().is_empty() {
                    break;
                }
                if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap();
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            let body = String::from_utf8(body).unwrap();
            log.lock()
                .unwrap()
                .push((request.trim().to_string(), body.clone()));
            let answer = if request.starts_with("POST /v1/querybatch") {
                let q: Value = serde_json::from_str(&body).unwrap();
                let results: Vec<Value> = q["queries"].as_array().unwrap().iter().map(|q| {
                    if q["package"]["name"] == package.as_str() { json!({"vulns": [{"id": "OSV-ONLINE-1", "modified": "2026-11-01T00:00:00Z"}]}) } else { json!({}) }
                }).collect();
                json!({"results": results})
            } else if request.starts_with("GET /v1/vulns/OSV-ONLINE-1") {
                json!({"id": "OSV-ONLINE-1", "summary": "found online", "affected": [{"package": {"ecosystem": "Debian:12", "name": package},
                    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": version_fixed}]}]}]})
            } else {
                json!({"error": "not found"})
            };
            let text = answer.to_string();
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
                text.len()
            );
        }
    });
    (url, seen)
}

#[test]
fn online_mode_asks_the_api_with_names_versions_and_ecosystem_only() {
    let env = setup();
    let out = Command::new("dpkg-query")
        .args(["-W", "-f=${source:Package} ${source:Version}\n", "bash"])
        .output()
        .unwrap();
    let line = String::from_utf8(out.stdout).unwrap();
    let (source, version) = line.trim().split_once(' ').unwrap();
    let (url, seen) = fake_osv(source.to_string(), format!("{version}+lumen1"));
    let (report, out) = env.scan(&["--online"], &[("LUMEN_OSV_API_URL", &url)]);
    assert!(
        out.status.success() || out.status.code() == Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ids: Vec<&str> = report["hosts"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["OSV-ONLINE-1"]);
    let requests = seen.lock().unwrap().clone();
    let (_, batch) = requests
        .iter()
        .find(|(r, _)| r.starts_with("POST /v1/querybatch"))
        .unwrap();
    let body: Value = serde_json::from_str(batch).unwrap();
    for q in body["queries"].as_array().unwrap() {
        assert_eq!(
            keys(q),
            ["package", "version"],
            "only the package and its version: {q}"
        );
        assert_eq!(keys(&q["package"]), ["ecosystem", "name"]);
        assert_eq!(q["package"]["ecosystem"], "Debian:12");
    }
    let all: String = requests
        .iter()
        .map(|(r, b)| format!("{r}\n{b}\n"))
        .collect();
    let hostname = String::from_utf8(Command::new("hostname").output().unwrap().stdout).unwrap();
    assert!(
        !all.contains("127.0.0.1"),
        "the scanned host's address is not sent"
    );
    // (A short machine name like "vm" is a substring of package names; check longer ones.)
    let hostname = hostname.trim();
    assert!(
        hostname.len() < 5 || !all.contains(hostname),
        "the machine's name is not sent"
    );
}

#[test]
fn unknown_host_key_is_asked_on_the_terminal() {
    let env = setup();
    std::fs::remove_file(env.dir.path().join("home/.ssh/known_hosts")).unwrap();
    let home = env.dir.path().join("home");
    let vars = vec![
        ("HOME", home.display().to_string()),
        (
            "LUMEN_HOME",
            env.dir.path().join("lumen").display().to_string(),
        ),
        ("SSH_AUTH_SOCK", String::new()),
    ];
    let cmd = format!(
        "{} scan -i {} -p {} 127.0.0.1; echo LUMEN_EXIT=$?; sleep 30",
        env!("CARGO_BIN_EXE_lumen"),
        env.key.display(),
        env.sshd.port
    );
    let t = common::tmux::Tmux::start(env.dir.path(), 120, 40, &vars, &cmd);
    let s = t.wait_text("continue connecting (yes/no/[fingerprint])?");
    assert!(s.contains("SHA256:"), "{s}");
    t.type_text("yes");
    t.keys(&["Enter"]);
    // On a terminal, progress shows on stderr while the host is scanned.
    t.wait_text("scanning");
    // A whole scan of this machine can take minutes on a loaded machine.
    let start = std::time::Instant::now();
    let s = loop {
        let s = t.screen();
        if s.contains("LUMEN_EXIT=") || start.elapsed() > std::time::Duration::from_secs(600) {
            break s;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    // No OSV data was imported: vulnerabilities were not checked, so not fully scanned (3).
    assert!(
        s.contains("LUMEN_EXIT=3") && s.contains("packages; vulnerabilities: not checked"),
        "{s}"
    );
    // Accepted and saved in lumen's known_hosts: the next scan asks nothing.
    let (report, _) = env.scan(&[], &[]);
    assert!(report["hosts"][0]["os"].is_object(), "{report}");
}

/// Control characters a terminal would obey, with their offsets: ESC, BEL and every other C0
/// but newline, DEL, and C1 (U+0080..U+009F; U+009B is CSI).
fn raw_controls(bytes: &[u8]) -> Vec<(usize, char)> {
    String::from_utf8_lossy(bytes)
        .char_indices()
        .filter(|(_, c)| (*c < ' ' && *c != '\n') || ('\u{7f}'..='\u{9f}').contains(c))
        .collect()
}

/// Clipboard write (OSC 52), screen clear, title, C1 CSI and DEL: what a hostile host sends.
const EVIL: &str = "\x1b]52;c;cm0gLXJmIH4=\x07\x1b[2J\x1b]0;pwned\x07\u{9b}31m\x7f";
/// How [`EVIL`] looks once escaped.
const EVIL_SHOWN: &str = "\\x1b]52;c;cm0gLXJmIH4=\\x07\\x1b[2J\\x1b]0;pwned\\x07\\u{9b}31m\\x7f";

/// A hostile host: lumen's embedded SSH server answering from the Rocky 9 recording, with
/// [`EVIL`] in its kernel release, OS name, a package version and an sshd setting, and OSV
/// data with it in an id and a summary; its host key is in lumen's known_hosts.
struct HostileHost {
    server: lumen::ssh::EmbeddedServer,
    dir: tempfile::TempDir,
}

impl HostileHost {
    async fn start(keyboard_interactive: Vec<lumen::ssh::KiRound>) -> Self {
        use common::fake_host::{fixture_dir, recorded};
        use lumen::ssh::{CannedReply, EmbeddedServer, EmbeddedServerOptions};
        let fixture = fixture_dir("rocky9");
        let read = |name: &str| std::fs::read_to_string(fixture.join(name)).unwrap();
        let reply = |text: String| CannedReply::Output {
            stdout: text.into_bytes(),
            stderr: Vec::new(),
            status: 0,
            delay: std::time::Duration::ZERO,
        };
        let overrides = std::collections::HashMap::from([
            (
                "uname",
                reply(format!("5.14.0-362.8.1.el9_3.x86_64{EVIL}\nx86_64\n")),
            ),
            (
                "os-release",
                reply(read("os-release").replace(
                    "PRETTY_NAME=\"Rocky Linux 9.3 (Blue Onyx)\"",
                    &format!("PRETTY_NAME=\"Rocky{EVIL} Linux\""),
                )),
            ),
            (
                "rpm-qa",
                reply(read("rpm-qa").replace("6.el9_1", &format!("6.el9_1{EVIL}"))),
            ),
            (
                "sshd-T",
                reply(
                    read("sshd-T")
                        .replace("permitrootlogin yes", &format!("permitrootlogin yes{EVIL}")),
                ),
            ),
        ]);
        let server = EmbeddedServer::start(EmbeddedServerOptions {
            canned: Some(recorded(&fixture, std::time::Duration::ZERO, overrides)),
            keyboard_interactive,
            ..Default::default()
        })
        .await
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("home")).unwrap();
        server
            .client_options(&dir.path().join("lumen/data/known_hosts"))
            .unwrap();
        let key = dir.path().join("id_ed25519");
        let pem = server
            .client_key
            .to_openssh(russh::keys::ssh_key::LineEnding::LF)
            .unwrap();
        std::fs::write(&key, pem.as_bytes()).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
        let osv = dir.path().join("osv");
        std::fs::create_dir_all(&osv).unwrap();
        let record = json!({
            "id": format!("RLSA-2099:0001{EVIL}"),
            "summary": format!("bash {EVIL} summary"),
            "affected": [{"package": {"ecosystem": "Rocky Linux:9", "name": "bash"},
                          "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "0:9.9-1.el9"}]}]}]
        });
        std::fs::write(osv.join("r.json"), record.to_string()).unwrap();
        Self { server, dir }
    }

    /// `lumen scan` of this host, its environment, and the lumen binary.
    fn command(&self, json: bool) -> (Vec<String>, Vec<(&'static str, String)>) {
        let d = self.dir.path();
        let mut args = vec![
            "scan".to_string(),
            "-i".into(),
            d.join("id_ed25519").display().to_string(),
            "-p".into(),
            self.server.port().to_string(),
            "--osv-db".into(),
            d.join("osv").display().to_string(),
        ];
        if json {
            args.push("--json".into());
        }
        args.push("127.0.0.1".into());
        let env = vec![
            ("HOME", d.join("home").display().to_string()),
            ("LUMEN_HOME", d.join("lumen").display().to_string()),
            ("SSH_AUTH_SOCK", String::new()),
            ("LUMEN_SSH_SYSTEM_CONFIG", "none".to_string()),
        ];
        (args, env)
    }
}

/// The report shows what a hostile host sent escaped, in text and in JSON: not one control
/// character reaches stdout or stderr.
#[tokio::test(flavor = "multi_thread")]
async fn escapes_from_a_scanned_host_never_reach_the_terminal() {
    let host = HostileHost::start(Vec::new()).await;
    for json in [false, true] {
        let (args, env) = host.command(json);
        let out = tokio::task::spawn_blocking(move || {
            Command::new(env!("CARGO_BIN_EXE_lumen"))
                .args(&args)
                .envs(env)
                .env_remove("LUMEN_OSV_API_URL")
                .stdin(Stdio::null())
                .output()
                .unwrap()
        })
        .await
        .unwrap();
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        assert!(
            stdout.contains("5.14.0-362.8.1.el9_3.x86_64") && stdout.contains("RLSA-2099:0001"),
            "json {json}: the host was not scanned: {stdout}\n{stderr}"
        );
        assert_eq!(raw_controls(&out.stdout), [], "json {json}: {stdout}");
        assert_eq!(raw_controls(&out.stderr), [], "json {json}: {stderr}");
        if json {
            // JSON keeps the values, escaped as JSON: they parse back to what the host sent.
            let v: Value = serde_json::from_slice(&out.stdout).unwrap();
            let kernel = v["hosts"][0]["kernel"].as_str().unwrap_or_default();
            assert!(kernel.contains(EVIL), "{kernel:?}");
        } else {
            assert!(stdout.contains(EVIL_SHOWN), "{stdout}");
        }
    }
}

/// On a terminal: the host's keyboard-interactive name, instruction and prompt, the progress
/// bar and the coloured report carry lumen's own sequences only; every one of the host's is
/// shown escaped.
#[tokio::test(flavor = "multi_thread")]
async fn escapes_from_a_scanned_host_never_reach_a_real_terminal() {
    use portable_pty::{CommandBuilder, PtySize, native_pty_system};
    let host = HostileHost::start(vec![lumen::ssh::KiRound {
        name: format!("Lab{EVIL}"),
        instruction: format!("Say{EVIL} the word"),
        prompts: vec![(format!("Code{EVIL}: "), false, "42".into())],
    }])
    .await;
    let (args, env) = host.command(false);
    let pair = native_pty_system()
        .openpty(PtySize {
            rows: 50,
            cols: 250,
            pixel_width: 0,
            pixel_height: 0,
        })
        .unwrap();
    let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_lumen"));
    cmd.args(&args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.env_remove("LUMEN_OSV_API_URL");
    let mut child = pair.slave.spawn_command(cmd).unwrap();
    drop(pair.slave);
    let mut reader = pair.master.try_clone_reader().unwrap();
    let mut writer = pair.master.take_writer().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let reading = std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        // Until the child is gone (EOF, or EIO once the last slave closes on Linux).
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            log.lock().unwrap().extend_from_slice(&buf[..n]);
        }
    });
    let prompt = format!("Code{EVIL_SHOWN}: ");
    let asked = tokio::task::spawn_blocking(move || {
        let start = std::time::Instant::now();
        while start.elapsed() < std::time::Duration::from_secs(120) {
            if String::from_utf8_lossy(&seen.lock().unwrap()).contains(&prompt) {
                return Some(seen);
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        None
    })
    .await
    .unwrap();
    let Some(seen) = asked else {
        let _ = child.kill();
        panic!("the keyboard-interactive prompt never appeared escaped");
    };
    writer.write_all(b"42\r").unwrap();
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    reading.join().unwrap();
    let bytes = seen.lock().unwrap().clone();
    let text = String::from_utf8_lossy(&bytes);
    assert!(status.success(), "{text:?}");
    assert!(
        text.contains("5.14.0-362.8.1.el9_3.x86_64") && text.contains(EVIL_SHOWN),
        "{text:?}"
    );
    assert!(text.contains(&format!("Lab{EVIL_SHOWN}")), "{text:?}");
    for raw in ["\x1b]", "\x07", "\u{9b}", "\x7f", "\x1b[2J"] {
        assert!(
            !text.contains(raw),
            "{raw:?} reached the terminal: {text:?}"
        );
    }
}

/// `--timings` says how long each collector took: per host on stderr, or in `--json` as a
/// `timings` object; without it the JSON has no `timings`.
#[test]
fn timings_are_reported_on_request() {
    let env = setup();
    let (report, _) = env.scan(&["--timings"], &[]);
    let timings = report["hosts"][0]["timings"].as_object().unwrap();
    for what in ["OS release", "packages", "sshd settings", "SUID/SGID files"] {
        assert!(
            timings[what].as_f64().unwrap() >= 0.0,
            "{what}: {timings:?}"
        );
    }
    let (report, _) = env.scan(&[], &[]);
    assert!(report["hosts"][0].get("timings").is_none(), "{report}");

    let port = env.sshd.port.to_string();
    let key = env.key.display().to_string();
    let out = env.lumen(
        &["scan", "--timings", "-i", &key, "-p", &port, "127.0.0.1"],
        &[],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = stderr
        .lines()
        .find(|l| l.starts_with("lumen scan: 127.0.0.1: ") && l.contains(" s in all; "))
        .unwrap_or_else(|| panic!("{stderr}"));
    assert!(
        line.contains("SUID/SGID files ") && line.contains("packages "),
        "{line}"
    );
}
