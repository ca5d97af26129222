//! Scanning hosts that are not this machine: lumen's embedded SSH server answers with recorded
//! command output of a Rocky Linux 9 and an Alpine 3.19 host (rpm and apk collectors, the
//! running-kernel rule, hardening checks), and with hosts that misbehave: a command that hangs,
//! 100 MB of output, garbage, a connection that drops half-way.
#![allow(clippy::unwrap_used)]

mod common;

use common::fake_host::{fixture_dir, recorded};
use lumen::scan::osv::{Advisory, Record};
use lumen::scan::{IgnoreList, MemoryIndex, RunOptions, Runner, ScanOptions, SshRunner, scan_host};
use lumen::ssh::{CannedReply, EmbeddedServer, EmbeddedServerOptions, Prompter, connect};
use serde_json::json;
use std::collections::HashMap;
use std::time::Duration;

async fn fake_host(
    fixture: &str,
    overrides: HashMap<&'static str, CannedReply>,
) -> (EmbeddedServer, SshRunner, tempfile::TempDir) {
    let server = EmbeddedServer::start(EmbeddedServerOptions {
        canned: Some(recorded(&fixture_dir(fixture), Duration::ZERO, overrides)),
        ..Default::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let opts = server
        .client_options(&dir.path().join("known_hosts"))
        .unwrap();
    let conn = connect(&server.target(None), &opts, &Prompter::none())
        .await
        .unwrap();
    (server, SshRunner::new(conn), dir)
}

fn advisory(id: &str, eco: &str, name: &str, fixed: &str) -> Advisory {
    let r: Record = serde_json::from_value(json!({
        "id": id,
        "summary": format!("{id} summary"),
        "affected": [{"package": {"ecosystem": eco, "name": name},
                      "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}]}]
    }))
    .unwrap();
    Advisory::from_record(r)
}

fn ids(scan: &lumen::scan::HostScan) -> Vec<(String, String, String)> {
    scan.findings
        .iter()
        .map(|f| (f.id.clone(), f.package.clone(), f.installed.clone()))
        .collect()
}

fn checks(scan: &lumen::scan::HostScan) -> Vec<&str> {
    scan.config_findings
        .iter()
        .map(|c| c.check.as_str())
        .collect()
}

#[tokio::test]
async fn rocky_host_from_recorded_rpm_output() {
    let (_server, runner, _dir) = fake_host("rocky9", HashMap::new()).await;
    let index = MemoryIndex::new([
        advisory(
            "RLSA-2024:0256",
            "Rocky Linux:9",
            "openssl-libs",
            "1:3.0.7-25.el9_3",
        ),
        advisory("RLSA-2023:0001", "Rocky Linux:9", "bash", "5.1.8-2.el9"),
        // Fixed in a kernel that is installed but not running: still vulnerable.
        advisory(
            "RLSA-2024:0897",
            "Rocky Linux:9",
            "kernel-core",
            "5.14.0-362.13.1.el9_3",
        ),
        advisory(
            "ALSA-2024:0256",
            "AlmaLinux:9",
            "openssl-libs",
            "1:3.0.7-99.el9",
        ),
    ]);
    let scan = scan_host(
        "rocky",
        &runner,
        Some(&index),
        &IgnoreList::default(),
        &ScanOptions::default(),
    )
    .await;
    assert_eq!(scan.ecosystem.as_deref(), Some("Rocky Linux:9"));
    assert_eq!(scan.packages, 14, "gpg-pubkey is not a package");
    assert_eq!(
        ids(&scan),
        [
            (
                "RLSA-2024:0897".into(),
                "kernel-core".into(),
                "5.14.0-362.8.1.el9_3".into()
            ),
            (
                "RLSA-2024:0256".into(),
                "openssl-libs".into(),
                "1:3.0.7-24.el9".into()
            ),
        ]
    );
    assert!(scan.reboot_required);
    assert!(
        scan.reboot_reasons[0].contains("362.24.1"),
        "{:?}",
        scan.reboot_reasons
    );
    assert_eq!(scan.security_updates, Some(3));
    assert_eq!(
        checks(&scan),
        [
            "sshd.permit_root_login",
            "sshd.password_authentication",
            "sshd.x11_forwarding",
            "sshd.max_auth_tries",
            "updates.automatic"
        ]
    );
    let root = &scan.config_findings[0];
    assert_eq!(
        (root.expected.as_str(), root.actual.as_str()),
        ("PermitRootLogin no", "PermitRootLogin yes")
    );
    assert!(root.fix.contains("sshd_config"));
    assert_eq!(scan.listening, ["tcp 0.0.0.0:22", "tcp [::]:22"]);
    assert_eq!(scan.suid_files.len(), 5);
    assert!(scan.errors.is_empty(), "{:?}", scan.errors);
}

#[tokio::test]
async fn alpine_host_from_recorded_apk_database() {
    let (_server, runner, _dir) = fake_host("alpine319", HashMap::new()).await;
    let index = MemoryIndex::new([
        // Alpine records name the origin (source) package.
        advisory(
            "ALPINE-CVE-2024-0727",
            "Alpine:v3.19",
            "openssl",
            "3.1.4-r6",
        ),
        advisory(
            "ALPINE-CVE-2024-0001",
            "Alpine:v3.19",
            "libcrypto3",
            "9.9-r0",
        ),
        advisory(
            "ALPINE-CVE-2024-26582",
            "Alpine:v3.19",
            "linux-lts",
            "6.6.20-r0",
        ),
        advisory("ALPINE-CVE-2023-0002", "Alpine:v3.18", "zlib", "9.9-r0"),
    ]);
    let scan = scan_host(
        "alpine",
        &runner,
        Some(&index),
        &IgnoreList::default(),
        &ScanOptions::default(),
    )
    .await;
    assert_eq!(scan.ecosystem.as_deref(), Some("Alpine:v3.19"));
    assert_eq!(
        ids(&scan),
        [
            (
                "ALPINE-CVE-2024-26582".into(),
                "linux-lts".into(),
                "6.6.14-r0".into()
            ),
            (
                "ALPINE-CVE-2024-0727".into(),
                "openssl".into(),
                "3.1.4-r5".into()
            ),
        ]
    );
    let openssl = &scan.findings[1];
    assert_eq!(openssl.binaries, ["libcrypto3", "libssl3"]);
    assert!(
        scan.reboot_required,
        "linux-lts 6.6.31 installed, 6.6.14 running"
    );
    let c = checks(&scan);
    for want in [
        "accounts.uid0",
        "path.world_writable",
        "sysctl.fs.suid_dumpable",
        "time.sync",
    ] {
        assert!(c.contains(&want), "{want} missing from {c:?}");
    }
}

#[tokio::test]
async fn hanging_command_times_out_and_the_rest_is_collected() {
    let overrides = HashMap::from([("uname", CannedReply::Hang)]);
    let (_server, runner, _dir) = fake_host("rocky9", overrides).await;
    let opts = ScanOptions {
        timeout: Duration::from_millis(500),
        ..ScanOptions::default()
    };
    let scan = scan_host("rocky", &runner, None, &IgnoreList::default(), &opts).await;
    assert_eq!(scan.kernel, None);
    assert!(
        scan.errors
            .iter()
            .any(|e| e.starts_with("kernel: unknown (timed out")),
        "{:?}",
        scan.errors
    );
    assert_eq!(scan.packages, 14, "later commands still ran");
    assert!(!scan.config_findings.is_empty());
}

#[tokio::test]
async fn a_100_mb_output_is_capped() {
    let flood = HashMap::from([(
        "rpm-qa",
        CannedReply::Flood {
            bytes: 100 * 1024 * 1024,
        },
    )]);
    let (_server, runner, _dir) = fake_host("rocky9", flood).await;
    let cap = 1024 * 1024;
    let out = runner
        .run(
            "rpm -qa --queryformat x",
            RunOptions {
                max_output: cap,
                ..RunOptions::default()
            },
        )
        .await
        .unwrap();
    assert!(out.truncated);
    assert_eq!(out.stdout.len(), cap);
    // The scan-level 100 MB case runs against OpenSSH (tests/scan_sshd.rs): this fake host's
    // flood keeps its connection busy after the client stops reading.
}

#[tokio::test]
async fn garbage_output_is_unknown_not_a_crash() {
    let garbage = |b: &[u8]| CannedReply::Output {
        stdout: b.to_vec(),
        stderr: Vec::new(),
        status: 0,
        delay: Duration::ZERO,
    };
    let overrides = HashMap::from([
        ("rpm-qa", garbage(b"\x00\xff garbage\n\tonly\ttwo\n")),
        ("sshd-T", garbage(b"<html>not sshd</html>")),
        ("uname", garbage(b"\n")),
        ("passwd", garbage(&[0xff; 64])),
        ("sysctl", garbage(b"=\n==\n")),
    ]);
    let (_server, runner, _dir) = fake_host("rocky9", overrides).await;
    let scan = scan_host(
        "rocky",
        &runner,
        None,
        &IgnoreList::default(),
        &ScanOptions::default(),
    )
    .await;
    let errors = scan.errors.join("\n");
    for want in [
        "packages: the package list was not understood",
        "sshd settings",
        "kernel:",
        "sysctl kernel.randomize_va_space",
    ] {
        assert!(errors.contains(want), "{want} not in:\n{errors}");
    }
    assert!(scan.findings.is_empty());
}

#[tokio::test]
async fn host_failing_half_way_keeps_what_was_collected() {
    let overrides = HashMap::from([("rpm-qa", CannedReply::Disconnect)]);
    let (_server, runner, _dir) = fake_host("rocky9", overrides).await;
    let scan = scan_host(
        "rocky",
        &runner,
        None,
        &IgnoreList::default(),
        &ScanOptions::default(),
    )
    .await;
    assert_eq!(scan.os.as_ref().map(|o| o.id.as_str()), Some("rocky"));
    assert_eq!(scan.kernel.as_deref(), Some("5.14.0-362.8.1.el9_3.x86_64"));
    let lost: Vec<&String> = scan
        .errors
        .iter()
        .filter(|e| e.contains("connection was lost"))
        .collect();
    assert_eq!(
        lost.len(),
        1,
        "one error, not one per command: {:?}",
        scan.errors
    );
    assert!(lost[0].starts_with("packages:"), "{lost:?}");
    assert_eq!(scan.packages, 0);
}

#[tokio::test]
async fn sudo_is_only_ever_sudo_n_and_a_refusal_falls_back_to_no_root() {
    let base = recorded(&fixture_dir("rocky9"), Duration::ZERO, HashMap::new());
    let seen: std::sync::Arc<std::sync::Mutex<Vec<String>>> = Default::default();
    let log = seen.clone();
    let canned = lumen::ssh::CannedExec(std::sync::Arc::new(move |command: &str| {
        log.lock().unwrap().push(command.to_string());
        if command.starts_with("sudo ") {
            return CannedReply::Output {
                stdout: Vec::new(),
                stderr: b"sudo: a password is required\n".to_vec(),
                status: 1,
                delay: Duration::ZERO,
            };
        }
        (base.0)(command)
    }));
    let server = EmbeddedServer::start(EmbeddedServerOptions {
        canned: Some(canned),
        ..Default::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let opts = server
        .client_options(&dir.path().join("known_hosts"))
        .unwrap();
    let runner = SshRunner::new(
        connect(&server.target(None), &opts, &Prompter::none())
            .await
            .unwrap(),
    );
    let scan_opts = ScanOptions {
        sudo: true,
        ..ScanOptions::default()
    };
    let scan = scan_host("rocky", &runner, None, &IgnoreList::default(), &scan_opts).await;
    let commands = seen.lock().unwrap().clone();
    let sudo: Vec<&String> = commands.iter().filter(|c| c.contains("sudo")).collect();
    assert_eq!(sudo.len(), 2, "sshd settings and the SUID search: {sudo:?}");
    assert!(
        sudo.iter().all(|c| c.starts_with("sudo -n sh -c '")),
        "{sudo:?}"
    );
    let refused: Vec<&String> = scan
        .errors
        .iter()
        .filter(|e| {
            e.contains("sudo -n refused (sudo: a password is required); checked without root")
        })
        .collect();
    assert_eq!(refused.len(), 2, "{:?}", scan.errors);
    assert!(
        checks(&scan).contains(&"sshd.permit_root_login"),
        "fell back to the plain command"
    );
    assert_eq!(scan.suid_files.len(), 5);
}
