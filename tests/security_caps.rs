//! Regression: settings files are read with a size limit. Pointing config.toml, a theme,
//! hosts.toml, an ssh_config Include or a key file at `/dev/zero` or at an endless FIFO fails
//! at once with "larger than N MiB", said once, instead of eating memory.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;

fn lumen(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_lumen"))
        .args(args)
        .env("LUMEN_HOME", dir.join("lumen"))
        .env("HOME", dir.join("home"))
        .env("LUMEN_SSH_SYSTEM_CONFIG", "none")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap()
}

fn hosts_toml(dir: &Path) -> std::path::PathBuf {
    let file = dir.join("lumen/data/workspaces/default/hosts.toml");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    file
}

/// A FIFO at `path` with a writer that never stops (until the reader goes away).
fn endless_fifo(path: &Path) {
    let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo with a valid C string.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let path = path.to_path_buf();
    std::thread::spawn(move || {
        use std::io::Write;
        let Ok(mut f) = std::fs::OpenOptions::new().write(true).open(path) else {
            return;
        };
        let chunk = vec![b'#'; 1 << 16];
        while f.write_all(&chunk).is_ok() {}
    });
}

#[test]
fn hosts_toml_from_dev_zero_and_a_fifo() {
    let dir = tempfile::tempdir().unwrap();
    let file = hosts_toml(dir.path());
    std::os::unix::fs::symlink("/dev/zero", &file).unwrap();
    let out = lumen(dir.path(), &["hosts", "list"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert_eq!(err.matches("larger than 16 MiB").count(), 1, "{err}");
    std::fs::remove_file(&file).unwrap();
    endless_fifo(&file);
    let out = lumen(dir.path(), &["hosts", "list"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("larger than 16 MiB"), "{err}");
}

#[test]
fn ssh_config_include_of_dev_zero() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("home/.ssh")).unwrap();
    let cfg = dir.path().join("cfg");
    std::fs::write(&cfg, "Include /dev/zero\nHost db1\n  HostName 10.9.9.9\n").unwrap();
    let out = lumen(dir.path(), &["connect", "-F", cfg.to_str().unwrap(), "db1"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cfg:1:") && err.contains("larger than 16 MiB"),
        "{err}"
    );
}

#[test]
fn config_and_theme_from_dev_zero() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::os::unix::fs::symlink("/dev/zero", &config).unwrap();
    let e = lumen::app::config::Config::load(&config).unwrap_err();
    assert!(e.to_string().contains("larger than 16 MiB"), "{e}");
    let themes = dir.path().join("themes");
    std::fs::create_dir_all(&themes).unwrap();
    std::os::unix::fs::symlink("/dev/zero", themes.join("zero.toml")).unwrap();
    let e = lumen::ui::theme::Theme::load("zero", &themes).unwrap_err();
    assert!(e.to_string().contains("larger than 16 MiB"), "{e}");
}

/// `lumen ARGS` with /dev/zero as its stdin.
fn lumen_reading_zeros(dir: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_lumen"))
        .args(args)
        .env("LUMEN_HOME", dir.join("lumen"))
        .env("HOME", dir.join("home"))
        .stdin(std::fs::File::open("/dev/zero").unwrap())
        .output()
        .unwrap();
    assert!(!out.status.success());
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn endless_stdin_is_refused_by_ai_redact_and_ai_assess() {
    let dir = tempfile::tempdir().unwrap();
    let err = lumen_reading_zeros(dir.path(), &["ai", "redact"]);
    assert!(
        err.contains("reading stdin") && err.contains("larger than 256 MiB"),
        "{err}"
    );
    let err = lumen_reading_zeros(dir.path(), &["ai", "assess", "-"]);
    assert!(
        err.contains("reading commands from stdin") && err.contains("larger than 16 MiB"),
        "{err}"
    );
}

#[test]
fn ai_redact_of_dev_zero_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = lumen(dir.path(), &["ai", "redact", "/dev/zero"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("/dev/zero") && err.contains("larger than"),
        "{err}"
    );
}
