//! The Python venv of scripts/ansible-venv.sh (ansible-core, jsonschema, prometheus_client),
//! found where the script puts it. A missing venv fails the test with the command to run.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::PathBuf;
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
