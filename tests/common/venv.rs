//! The Python venv of scripts/ansible-venv.sh (ansible-core, jsonschema, prometheus_client),
//! found where the script puts it. A missing venv fails the test with the command to run.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// `$LUMEN_TEST_VENV`, else `$XDG_CACHE_HOME` or `~/.cache`, then `lumen/test-venv`.
pub fn dir() -> PathBuf {
    if let Some(v) = std::env::var_os("LUMEN_TEST_VENV") {
        return PathBuf::from(v);
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache"));
    cache.join("lumen/test-venv")
}

/// A program of the venv (`python`, `ansible-inventory`, …).
pub fn bin(name: &str) -> PathBuf {
    let path = dir().join("bin").join(name);
    assert!(
        path.exists(),
        "{} is missing; run scripts/ansible-venv.sh (scripts/install-test-deps.sh runs it)",
        path.display()
    );
    path
}

/// Run the venv's python on `script` with `args`; panics with its stderr on failure.
pub fn python(script: &str, args: &[&str]) -> Output {
    let out = Command::new(bin("python"))
        .arg("-c")
        .arg(script)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "python failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    out
}

/// The one-line inventory script README shows, written into `dir`: runs `lumen hosts export
/// --format ansible` with what Ansible passes (`--list`, `--host NAME`).
pub fn inventory_wrapper(dir: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join("lumen-inventory");
    std::fs::write(
        &path,
        format!(
            "#!/bin/sh\nexec '{}' hosts export --format ansible \"$@\"\n",
            env!("CARGO_BIN_EXE_lumen")
        ),
    )
    .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// A program of the venv (`ansible`, `ansible-playbook`, …) with `home` as HOME, lumen's data
/// in `lumen_home` (for the inventory wrapper) and Ansible's own files under `dir`. Ansible
/// runs on this machine's loopback hosts: its remote temp files go under `dir` too.
pub fn ansible(program: &str, dir: &Path, home: &Path, lumen_home: &Path) -> Command {
    let mut cmd = Command::new(bin(program));
    cmd.env("HOME", home)
        .env("LUMEN_HOME", lumen_home)
        .env("SSH_AUTH_SOCK", "")
        // ansible-core refuses to run in a locale that is not UTF-8.
        .env("LC_ALL", "C.UTF-8")
        .env("ANSIBLE_LOCAL_TEMP", dir.join("ansible-local"))
        .env("ANSIBLE_HOME", dir.join("ansible-home"))
        .env("ANSIBLE_REMOTE_TMP", dir.join("ansible-remote"))
        .env("ANSIBLE_PYTHON_INTERPRETER", "/usr/bin/python3")
        .env("ANSIBLE_NOCOLOR", "1")
        .stdin(Stdio::null());
    cmd
}

/// `ANSIBLE_SSH_ARGS` for Ansible's ssh: `-F` a config in `dir` with `key` and `known_hosts`,
/// asking nothing. ssh passes `-F` on to the ssh a ProxyJump starts.
pub fn ssh_args(dir: &Path, key: &Path, known_hosts: &Path) -> String {
    let config = dir.join("ansible_ssh_config");
    std::fs::write(
        &config,
        format!(
            "Host *\n  IdentityFile {}\n  IdentitiesOnly yes\n  UserKnownHostsFile {}\n  \
             StrictHostKeyChecking yes\n  BatchMode yes\n",
            key.display(),
            known_hosts.display()
        ),
    )
    .unwrap();
    format!("-F {}", config.display())
}
