//! Scans over a real OpenSSH `sshd` on loopback: the runner's limits against sshd, and an end to
//! end scan of this Debian machine with OSV records generated around its installed versions,
//! the expected findings computed with `dpkg --compare-versions` as the oracle.
#![allow(clippy::unwrap_used)]

mod common;

use common::Sshd;
use lumen::scan::{RunOptions, Runner, SshRunner};
use lumen::ssh::{ConnectOptions, Prompter, Target, connect};
use std::path::Path;

/// sshd with a fresh client key authorized; options trusting its host keys.
fn sshd(dir: &Path) -> (Sshd, ConnectOptions, Target) {
    let sshd = Sshd::start("").unwrap();
    let opts = sshd.client_options(dir);
    let target = Target::new(lumen::ssh::target::local_user(), "127.0.0.1", sshd.port);
    (sshd, opts, target)
}

#[tokio::test]
async fn output_cap_timeout_and_stdin_against_sshd() {
    let dir = tempfile::tempdir().unwrap();
    let (_sshd, opts, target) = sshd(dir.path());
    let runner = SshRunner::new(connect(&target, &opts, &Prompter::none()).await.unwrap());
    let cap = 1024 * 1024;
    let out = runner
        .run(
            "head -c 100000000 /dev/zero",
            RunOptions {
                max_output: cap,
                ..RunOptions::default()
            },
        )
        .await
        .unwrap();
    assert!(out.truncated);
    assert_eq!(out.stdout.len(), cap);
    let quick = RunOptions::timeout(std::time::Duration::from_millis(500));
    assert!(matches!(
        runner.run("sleep 30", quick).await,
        Err(lumen::scan::RunError::Timeout(_))
    ));
    let fed = RunOptions {
        stdin: Some(b"from stdin".to_vec()),
        ..RunOptions::default()
    };
    let out = runner.run("cat", fed).await.unwrap();
    assert_eq!(out.stdout, b"from stdin");
    let out = runner
        .run("echo still here; exit 3", RunOptions::default())
        .await
        .unwrap();
    assert_eq!(
        (out.stdout_text().as_str(), out.status),
        ("still here\n", Some(3))
    );
}

/// A runner that answers one collector's command with a real 100 MB output from sshd.
struct FloodPackages(SshRunner);

impl Runner for FloodPackages {
    fn run<'a>(
        &'a self,
        command: &'a str,
        opts: RunOptions,
    ) -> futures::future::BoxFuture<'a, Result<lumen::scan::RunOutput, lumen::scan::RunError>> {
        let command = if command.contains("${binary:Package}") {
            "head -c 100000000 /dev/urandom"
        } else {
            command
        };
        self.0.run(command, opts)
    }
}

#[tokio::test]
async fn a_scan_survives_a_100_mb_package_list() {
    let dir = tempfile::tempdir().unwrap();
    let (_sshd, opts, target) = sshd(dir.path());
    let runner = FloodPackages(SshRunner::new(
        connect(&target, &opts, &Prompter::none()).await.unwrap(),
    ));
    let scan_opts = lumen::scan::ScanOptions {
        max_output: 4 * 1024 * 1024,
        ..Default::default()
    };
    let scan = lumen::scan::scan_host(
        "me",
        &runner,
        None,
        &lumen::scan::IgnoreList::default(),
        &scan_opts,
    )
    .await;
    let errors = scan.errors.join("\n");
    assert!(
        errors.contains("packages: output over 4 MiB was cut"),
        "{errors}"
    );
    assert!(
        errors.contains("packages: the package list was not understood"),
        "{errors}"
    );
    // Everything after it still ran on the same connection.
    assert!(scan.kernel.is_some());
    assert!(!scan.listening.is_empty(), "{errors}");
    assert!(!errors.contains("sshd settings"), "{errors}");
}

#[tokio::test]
async fn without_root_sshd_settings_come_from_a_throwaway_key_left_nowhere() {
    // A real non-root login over sshd (the user is created once; root needed, as in CI).
    let Some((user, _password)) = common::password_user() else {
        panic!("this test creates a non-root user; run the tests as root (CI does)");
    };
    let dir = tempfile::tempdir().unwrap();
    let (_sshd, opts, target) = sshd(dir.path());
    let target = Target::new(&user, "127.0.0.1", target.port);
    let runner = SshRunner::new(connect(&target, &opts, &Prompter::none()).await.unwrap());
    let who = runner.run("id -u", RunOptions::default()).await.unwrap();
    assert_ne!(who.stdout_text().trim(), "0", "logged in without root");
    let before = tmp_entries();
    let scan_opts = lumen::scan::ScanOptions {
        slow_timeout: std::time::Duration::from_secs(30),
        ..Default::default()
    };
    let scan = lumen::scan::scan_host(
        "me",
        &runner,
        None,
        &lumen::scan::IgnoreList::default(),
        &scan_opts,
    )
    .await;
    assert!(
        !scan.errors.iter().any(|e| e.starts_with("sshd settings")),
        "{:?}",
        scan.errors
    );
    assert!(scan.packages > 100, "{:?}", scan.errors);
    // sshd -T read its throw-away key from a private directory that is gone again: nothing
    // of it is left in /tmp.
    let new: Vec<String> = tmp_entries()
        .into_iter()
        .filter(|n| !before.contains(n))
        .collect();
    assert!(
        new.iter().all(|n| !n.contains("ssh")
            && !n.contains("key")
            && !n.starts_with(lumen::scan::collect::hardening::SSHD_TEMP_PREFIX)),
        "{new:?}"
    );
}

fn tmp_entries() -> Vec<String> {
    std::fs::read_dir("/tmp")
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}
