//! A fake scanned host for lumen's embedded SSH server: exec requests are answered from
//! recorded command output in a fixture directory (tests/fixtures/scan/NAME), so rpm and apk
//! hosts can be scanned on this Debian machine. Used by tests and benches.
#![allow(dead_code, clippy::unwrap_used)]

use lumen::ssh::{CannedExec, CannedReply};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

pub fn fixture_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/scan")
        .join(name)
}

/// Which recorded file answers a collector's command.
pub fn file_for(command: &str) -> Option<&'static str> {
    let c = command;
    Some(if c.contains("os-release") {
        "os-release"
    } else if c.starts_with("uname") {
        "uname"
    } else if c.contains("rpm -qa") {
        "rpm-qa"
    } else if c.contains("/lib/apk/db/installed") {
        "apk-installed"
    } else if c.contains("${binary:Package}") {
        "dpkg"
    } else if c.contains("sshd -T") {
        "sshd-T"
    } else if c == "cat /etc/passwd" {
        "passwd"
    } else if c.contains("updateinfo") {
        "updateinfo"
    } else if c.starts_with("ss ") {
        "ss"
    } else if c.contains("/proc/sys") {
        "sysctl"
    } else if c.contains("timedatectl") {
        "time"
    } else if c.contains("dnf-automatic") || c.contains("apt-config") {
        "auto-updates"
    } else if c.contains("-perm -4000") {
        "suid"
    } else if c.contains("PATH=%s") {
        "path"
    } else {
        return None;
    })
}

/// Answers from the files in `dir`, each after `delay`; `overrides` win (by file name).
pub fn recorded(
    dir: &Path,
    delay: Duration,
    overrides: HashMap<&'static str, CannedReply>,
) -> CannedExec {
    let mut files = HashMap::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        files.insert(
            entry.file_name().to_string_lossy().into_owned(),
            std::fs::read(entry.path()).unwrap(),
        );
    }
    CannedExec(Arc::new(move |command: &str| {
        let name = file_for(command);
        if let Some(reply) = name.and_then(|n| overrides.get(n)) {
            return reply.clone();
        }
        match name.and_then(|n| files.get(n)) {
            Some(bytes) => CannedReply::Output {
                stdout: bytes.clone(),
                stderr: Vec::new(),
                status: 0,
                delay,
            },
            None => CannedReply::Output {
                stdout: Vec::new(),
                stderr: b"sh: command not found".to_vec(),
                status: 127,
                delay,
            },
        }
    }))
}
