//! Regression: host and user names holding shell syntax never reach a ProxyCommand's shell,
//! from any source (destination, `-l`, `-J`, ssh_config HostName/User, hosts.toml, the
//! new-tab dialog). Each case points a `$(>FILE)` payload at a marker file and checks that
//! lumen refused the name and the file was never created.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Self {
        let s = Self {
            dir: tempfile::tempdir().unwrap(),
        };
        std::fs::create_dir_all(s.dir.path().join("home/.ssh")).unwrap();
        s
    }

    /// Where a successful injection would write.
    fn marker(&self) -> PathBuf {
        self.dir.path().join("pwned")
    }

    /// A payload that creates the marker (lumen runs in the sandbox directory) without a
    /// space, a slash or a colon, so every parser takes it as one name.
    fn payload(&self) -> String {
        "$(>pwned)".to_string()
    }

    /// An ssh config with a ProxyCommand using every name token, plus `extra`.
    fn config(&self, extra: &str) -> PathBuf {
        let file = self.dir.path().join("ssh_config");
        std::fs::write(
            &file,
            format!("{extra}\nHost *\n  ProxyCommand /bin/true %h %p %r %n\n"),
        )
        .unwrap();
        file
    }

    fn hosts_toml(&self, text: &str) {
        let file = self
            .dir
            .path()
            .join("lumen/data/workspaces/default/hosts.toml");
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, text).unwrap();
    }

    fn lumen(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_lumen"))
            .args(args)
            .env("LUMEN_HOME", self.dir.path().join("lumen"))
            .env("HOME", self.dir.path().join("home"))
            .env("LUMEN_SSH_SYSTEM_CONFIG", "none")
            .current_dir(self.dir.path())
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap()
    }

    /// Run `lumen connect -F <config> ARGS…`: it must fail naming the bad name, and the
    /// payload must not have run.
    fn refused(&self, config: &Path, args: &[&str], says: &str) {
        let mut all = vec!["connect", "-F", config.to_str().unwrap()];
        all.extend_from_slice(args);
        let out = self.lumen(&all);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} was accepted");
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(!self.marker().exists(), "{args:?} ran the payload");
    }
}

#[test]
fn destination_user_and_jump_are_checked() {
    let s = Sandbox::new();
    let cfg = s.config("");
    let p = s.payload();
    s.refused(&cfg, &[&format!("a{p}")], "invalid characters");
    s.refused(&cfg, &[&format!("u{p}@db1")], "invalid characters");
    s.refused(&cfg, &["-l", &format!("u{p}"), "db1"], "invalid characters");
    s.refused(&cfg, &["-J", &format!("j{p}"), "db1"], "invalid characters");
    s.refused(
        &cfg,
        &["-J", &format!("u{p}@j"), "db1"],
        "invalid characters",
    );
    s.refused(
        &cfg,
        &["-o", &format!("User=u{p}"), "db1"],
        "invalid characters",
    );
    s.refused(&cfg, &["-l=-oops", "db1"], "starts with '-'");
}

#[test]
fn ssh_config_hostname_and_user_are_checked() {
    let s = Sandbox::new();
    let p = s.payload();
    let cfg = s.config(&format!(
        "Host evil\n  HostName a{p}\nHost evil2\n  User u{p}\n"
    ));
    s.refused(&cfg, &["evil"], "invalid characters");
    s.refused(&cfg, &["evil2"], "invalid characters");
}

#[test]
fn hosts_toml_names_are_checked_with_file_and_line() {
    let s = Sandbox::new();
    let p = s.payload();
    s.hosts_toml(&format!("[hosts.web]\nhostname = \"a{p}\"\n"));
    let out = s.lumen(&["hosts", "list"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("hosts.toml:2:"), "{err}");
    assert!(err.contains("invalid characters"), "{err}");
    s.hosts_toml(&format!(
        "[hosts.web]\nhostname = \"10.0.0.1\"\nuser = \"u{p}\"\n"
    ));
    let err = String::from_utf8_lossy(&s.lumen(&["hosts", "list"]).stderr).to_string();
    assert!(err.contains("hosts.toml:3:"), "{err}");
    // lumen connect reports the broken inventory and does not use it: `web` is then only
    // an ssh_config name, which is safe.
    let cfg = s.config("");
    let out = s.lumen(&["connect", "-F", cfg.to_str().unwrap(), "web"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("hosts.toml:3:"), "{err}");
    assert!(!s.marker().exists());
    // A name with an escape sequence is refused on add, and never printed raw.
    s.hosts_toml("");
    let out = s.lumen(&["hosts", "add", "x\x1b]0;pwn\x07", "--hostname", "10.0.0.1"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains('\x1b'), "raw escape printed: {err:?}");
    assert!(err.contains("\\x1b"), "{err}");
}

#[test]
fn the_new_tab_dialog_refuses_bad_names() {
    let s = Sandbox::new();
    let (app, _backends) = common::app::app(80, 24);
    let bad = format!("a{}", s.payload());
    let e = app.host_spec(&bad).unwrap_err();
    assert!(e.contains("invalid characters"), "{e}");
    let e = app.host_spec(&format!("u{}@db1", s.payload())).unwrap_err();
    assert!(e.contains("invalid characters"), "{e}");
    assert!(!s.marker().exists());
}
