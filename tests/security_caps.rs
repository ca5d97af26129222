//! Regression: settings files are read with a size limit. Pointing config.toml, a theme,
//! hosts.toml, an ssh_config Include or a key file at `/dev/zero` or at an endless FIFO fails
//! at once with "larger than N MiB", said once, instead of eating memory. A FIFO that no
//! program writes fails at once too, instead of blocking forever: config.toml, hosts.toml, an
//! Include, known_hosts, `--secret-file`, `--passphrase-file`, `ai redact FILE`, the vault
//! file, `scan-ignore.toml` and OSV import (which also refuses /dev/zero); `[ai] ca_file` is
//! capped.
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

/// The longest a refused read may take before the test gives up on it. Not a timing
/// assertion: the bug is a read that never ends, and this only keeps it from hanging the run.
const HANG_GUARD: std::time::Duration = std::time::Duration::from_secs(120);

/// A FIFO at `path` that no program opens for writing.
fn lonely_fifo(path: &Path) {
    let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo with a valid C string.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
}

/// `f()` on another thread; a panic naming `what` if it has not returned within HANG_GUARD.
fn guarded<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(HANG_GUARD)
        .unwrap_or_else(|_| panic!("{what} blocked on a FIFO with no writer"))
}

/// `lumen ARGS` in the test home with stdin closed, killed (and the test failed) if it hangs.
fn lumen_guarded(dir: &Path, args: &[&str]) -> (bool, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_lumen"));
    cmd.args(args)
        .env("LUMEN_HOME", dir.join("lumen"))
        .env("HOME", dir.join("home"))
        .env("LUMEN_SSH_SYSTEM_CONFIG", "none")
        .env("SSH_AUTH_SOCK", "")
        .env_remove(lumen::vault::TEST_HOOK_ENV)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let child = cmd.spawn().unwrap();
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(HANG_GUARD) {
        Ok(out) => {
            let out = out.unwrap();
            (
                out.status.success(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            )
        }
        Err(_) => {
            // SAFETY: kill of the child this function started.
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
            panic!("lumen {args:?} blocked on a FIFO with no writer");
        }
    }
}

const NO_WRITER: &str = "FIFO (named pipe) and nothing was written to it";

#[test]
fn fifos_without_a_writer_fail_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("home")).unwrap();

    // hosts.toml
    let hosts = hosts_toml(d);
    lonely_fifo(&hosts);
    let (ok, err) = lumen_guarded(d, &["hosts", "list"]);
    assert!(!ok && err.contains(NO_WRITER), "hosts.toml: {err}");
    std::fs::remove_file(&hosts).unwrap();

    // config.toml (read by the copilot's command line)
    let config = d.join("lumen/config/config.toml");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    lonely_fifo(&config);
    let (ok, err) = lumen_guarded(d, &["ai", "ask", "hello"]);
    assert!(
        !ok && err.contains("config.toml") && err.contains(NO_WRITER),
        "config.toml: {err}"
    );
    let e = guarded("Config::load", move || {
        lumen::app::config::Config::load(&config).map(|_| ())
    })
    .unwrap_err();
    assert!(e.to_string().contains(NO_WRITER), "{e}");

    // An ssh_config Include
    let include = d.join("included");
    lonely_fifo(&include);
    let cfg = d.join("cfg");
    std::fs::write(
        &cfg,
        format!(
            "Include {}\nHost db1\n  HostName 10.9.9.9\n",
            include.display()
        ),
    )
    .unwrap();
    let (_, err) = lumen_guarded(
        d,
        &[
            "hosts",
            "resolve",
            "db1",
            "--ssh-config",
            cfg.to_str().unwrap(),
        ],
    );
    assert!(
        err.contains("cfg:1:") && err.contains(NO_WRITER),
        "Include: {err}"
    );

    // known_hosts: unreadable, so connections through it fail closed.
    let known = d.join("known_hosts");
    lonely_fifo(&known);
    let file = guarded("known_hosts", move || {
        lumen::ssh::known_hosts::HostsFile::load(&known)
    });
    assert!(
        file.unreadable
            .as_deref()
            .is_some_and(|w| w.contains(NO_WRITER)),
        "{file:?}"
    );

    // ai redact FILE
    let text = d.join("text");
    lonely_fifo(&text);
    let (ok, err) = lumen_guarded(d, &["ai", "redact", text.to_str().unwrap()]);
    assert!(!ok && err.contains(NO_WRITER), "ai redact: {err}");

    // --passphrase-file, then (with a real vault) --secret-file and the vault file itself.
    let pass_fifo = d.join("pass-fifo");
    lonely_fifo(&pass_fifo);
    let init = [
        "init",
        "--kdf-memory",
        "64",
        "--kdf-time",
        "1",
        "--kdf-lanes",
        "1",
    ];
    let with_pass = |pass: &Path, rest: &[&str]| {
        let mut args = vec!["vault", "--passphrase-file", pass.to_str().unwrap()];
        args.extend_from_slice(rest);
        lumen_guarded(d, &args)
    };
    let (ok, err) = with_pass(&pass_fifo, &init);
    assert!(!ok && err.contains(NO_WRITER), "--passphrase-file: {err}");
    let pass = d.join("pass");
    std::fs::write(&pass, "a passphrase\n").unwrap();
    let (ok, err) = with_pass(&pass, &init);
    assert!(ok, "{err}");
    let secret = d.join("secret-fifo");
    lonely_fifo(&secret);
    let (ok, err) = with_pass(
        &pass,
        &[
            "add",
            "db",
            "--kind",
            "password",
            "--secret-file",
            secret.to_str().unwrap(),
        ],
    );
    assert!(!ok && err.contains(NO_WRITER), "--secret-file: {err}");
    let vault = d.join("lumen/data/vault.lumen");
    std::fs::remove_file(&vault).unwrap();
    lonely_fifo(&vault);
    let (ok, err) = with_pass(&pass, &["list"]);
    assert!(!ok && err.contains(NO_WRITER), "vault file: {err}");
}

#[test]
fn scan_ignore_file_from_dev_zero_and_a_fifo() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("home")).unwrap();
    let ignore = d.join("lumen/data/workspaces/default/scan-ignore.toml");
    std::fs::create_dir_all(ignore.parent().unwrap()).unwrap();
    // Nothing listens on the port: the ignore file is read before any connection.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port().to_string()
    };
    let scan = ["scan", "-p", &port, "127.0.0.1"];
    std::os::unix::fs::symlink("/dev/zero", &ignore).unwrap();
    let (ok, err) = lumen_guarded(d, &scan);
    assert!(
        !ok && err.contains("scan-ignore.toml") && err.contains("larger than 16 MiB"),
        "{err}"
    );
    std::fs::remove_file(&ignore).unwrap();
    lonely_fifo(&ignore);
    let (ok, err) = lumen_guarded(d, &scan);
    assert!(
        !ok && err.contains("scan-ignore.toml") && err.contains(NO_WRITER),
        "{err}"
    );
}

#[test]
fn osv_import_refuses_devices_and_fifos() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("home")).unwrap();
    let zero_json = d.join("z.json");
    std::os::unix::fs::symlink("/dev/zero", &zero_json).unwrap();
    let zero_zip = d.join("z.zip");
    std::os::unix::fs::symlink("/dev/zero", &zero_zip).unwrap();
    let fifo = d.join("f.json");
    lonely_fifo(&fifo);
    for (path, why) in [
        (&zero_json, "a device"),
        (&zero_zip, "a device"),
        (&fifo, "a FIFO"),
    ] {
        let (ok, err) = lumen_guarded(d, &["scan", "db", "import", path.to_str().unwrap()]);
        assert!(
            !ok && err.contains(path.to_str().unwrap())
                && err.contains(&format!("not a regular file ({why})")),
            "{err}"
        );
    }
    // The scan database itself: opening a FIFO to write would wait for a reader forever.
    let db = d.join("lumen/data/workspaces/default/scans.sqlite");
    std::fs::create_dir_all(db.parent().unwrap()).unwrap();
    let _ = std::fs::remove_file(&db);
    lonely_fifo(&db);
    let (ok, err) = lumen_guarded(d, &["scan", "db", "status"]);
    assert!(
        !ok && err.contains("scans.sqlite") && err.contains("not a regular file (a FIFO)"),
        "{err}"
    );
}

#[test]
fn a_huge_ca_file_is_refused_unread() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("home")).unwrap();
    // 1 GiB, sparse: costs no disk, but reading it whole would take 1 GiB of memory.
    let ca = d.join("ca.pem");
    std::fs::File::create(&ca)
        .unwrap()
        .set_len(1 << 30)
        .unwrap();
    let config = d.join("lumen/config/config.toml");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::write(
        &config,
        format!(
            "[ai]\nprovider = \"openai-compatible\"\nmodel = \"m\"\n\
             base_url = \"http://127.0.0.1:9/v1\"\nca_file = \"{}\"\n",
            ca.display()
        ),
    )
    .unwrap();
    let (ok, err) = lumen_guarded(d, &["ai", "ask", "hello"]);
    assert!(
        !ok && err.contains("ca.pem") && err.contains("larger than 16 MiB"),
        "{err}"
    );
}
