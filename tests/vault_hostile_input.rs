//! Hostile input to the real `lumen vault` binary: a crafted header asking for absurd Argon2id
//! costs, control characters in entries and in the audit log, and endless secret and passphrase
//! sources (`/dev/zero`, a FIFO, a pipe). Every run is under a 1 GiB address-space limit, so
//! an attempt to allocate gigabytes fails the test instead of passing slowly.
#![allow(clippy::unwrap_used)]

use lumen::text::is_control;
use lumen::vault::KdfParams;
use sha2::Digest;
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const ADDRESS_SPACE_LIMIT: u64 = 1 << 30;

struct Env {
    home: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        let env = Env {
            home: tempfile::tempdir().unwrap(),
        };
        std::fs::write(env.pass_file(), "pw\n").unwrap();
        env.ok(&[
            "init",
            "--kdf-memory",
            "64",
            "--kdf-time",
            "1",
            "--kdf-lanes",
            "1",
        ]);
        env
    }

    fn pass_file(&self) -> PathBuf {
        self.home.path().join("pass")
    }

    fn vault(&self) -> PathBuf {
        self.home.path().join("data").join("vault.lumen")
    }

    fn cmd(&self, args: &[&str]) -> Command {
        self.cmd_with_pass(&self.pass_file(), args)
    }

    fn cmd_with_pass(&self, pass: &Path, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_lumen"));
        c.env("LUMEN_HOME", self.home.path())
            .arg("vault")
            .arg("--passphrase-file")
            .arg(pass)
            .args(args)
            .stdin(Stdio::null());
        // SAFETY: setrlimit is async-signal-safe and touches no memory of the parent.
        unsafe {
            c.pre_exec(|| {
                let limit = libc::rlimit {
                    rlim_cur: ADDRESS_SPACE_LIMIT,
                    rlim_max: ADDRESS_SPACE_LIMIT,
                };
                if libc::setrlimit(libc::RLIMIT_AS, &limit) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        c
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.cmd(args).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn fails(&self, args: &[&str]) -> String {
        stderr_of_failure(self.cmd(args).output().unwrap())
    }
}

fn stderr_of_failure(out: Output) -> String {
    assert!(
        !out.status.success(),
        "succeeded: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    // A clean error, not an abort from a failed allocation.
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    String::from_utf8(out.stderr).unwrap()
}

/// Rewrite the header's KDF fields and fix the checksum, as an attacker would.
fn craft_kdf(vault: &Path, memory_kib: u32, time: u32, lanes: u32) {
    let mut b = std::fs::read(vault).unwrap();
    b[59..63].copy_from_slice(&memory_kib.to_le_bytes());
    b[63..67].copy_from_slice(&time.to_le_bytes());
    b[67..71].copy_from_slice(&lanes.to_le_bytes());
    let digest = sha2::Sha256::digest(&b[40..]);
    b[8..40].copy_from_slice(&digest);
    std::fs::write(vault, b).unwrap();
}

#[test]
fn a_header_asking_4_gib_and_1000_passes_is_refused_before_any_work() {
    let env = Env::new();
    let good = std::fs::read(env.vault()).unwrap();
    craft_kdf(&env.vault(), 4 * 1024 * 1024, 1000, 4);
    for args in [&["list"][..], &["show", "x"], &["audit", "--verify"]] {
        let err = env.fails(args);
        assert!(
            err.contains(&format!(
                "vault file {} asks for Argon2id",
                env.vault().display()
            )) && err.contains("memory 4194304 KiB not in 32..=1048576 KiB")
                && err.contains("restore the file from a backup"),
            "{err}"
        );
    }
    // Cheap memory but a thousand passes; many lanes.
    for (m, t, p, says) in [
        (64, 1000, 1, "time cost 1000 not in 1..=128"),
        (1024 * 1024, 9, 4, "time cost 9 not in 1..=8 at 1048576 KiB"),
        (64 * 1024, 3, 64, "lanes 64 not in 1..=16"),
    ] {
        std::fs::write(env.vault(), &good).unwrap();
        craft_kdf(&env.vault(), m, t, p);
        let err = env.fails(&["list"]);
        assert!(err.contains(says), "{err}");
    }
    // Within the bounds, the header passes them and fails where it should: the key wrap.
    std::fs::write(env.vault(), &good).unwrap();
    craft_kdf(&env.vault(), 64, 128, 1);
    assert!(env.fails(&["list"]).contains("wrong passphrase"));
}

#[test]
fn the_bounds_admit_everything_init_and_calibration_write() {
    assert_eq!(KdfParams::DEFAULT.check().ok(), Some(()));
    let calibrated_max = KdfParams {
        time: KdfParams::max_time_for(KdfParams::DEFAULT.memory_kib),
        ..KdfParams::DEFAULT
    };
    assert_eq!(calibrated_max.time, KdfParams::MAX_TIME);
    assert_eq!(calibrated_max.check().ok(), Some(()));
    let beyond = KdfParams {
        time: calibrated_max.time + 1,
        ..calibrated_max
    };
    assert!(beyond.check().is_err());
    // More memory leaves fewer passes, never more work than the default's maximum.
    for m in [128 * 1024, 512 * 1024, KdfParams::MAX_MEMORY_KIB] {
        let t = KdfParams::max_time_for(m);
        assert!(t >= 1 && u64::from(m) * u64::from(t) <= KdfParams::MAX_WORK_KIB);
        let p = KdfParams {
            memory_kib: m,
            time: t,
            lanes: 4,
        };
        assert_eq!(p.check().ok(), Some(()));
    }
    // What `lumen vault init` refuses it never wrote.
    let env = Env::new();
    let dir = tempfile::tempdir().unwrap();
    let out = env
        .cmd(&["--scope", "workspace", "init", "--kdf-time", "129"])
        .env("LUMEN_HOME", dir.path())
        .output()
        .unwrap();
    assert!(stderr_of_failure(out).contains("time cost 129 not in 1..=128"));
}

const HOSTILE_USER: &str = "root\x1b]0;pwn\x07";
const HOSTILE_NOTES: &str = "line1\nsecret: fake\x1b[31m\u{9b}2J\x7f";
const HOSTILE_TAG: &str = "\u{202e}gat\u{2066}";
const HOSTILE_HOST: &str = "db1\r\u{200f}";

fn assert_no_controls(what: &str, text: &str) {
    let bad: Vec<char> = text
        .chars()
        .filter(|c| *c != '\n' && is_control(*c))
        .collect();
    assert!(bad.is_empty(), "{what} prints raw {bad:?}:\n{text}");
}

#[test]
fn control_characters_from_the_vault_are_escaped_in_every_output() {
    let env = Env::new();
    let secret = env.home.path().join("s");
    std::fs::write(&secret, "pw-1").unwrap();
    env.ok(&[
        "add",
        "db/x",
        "--username",
        HOSTILE_USER,
        "--notes",
        HOSTILE_NOTES,
        "--tag",
        HOSTILE_TAG,
        "--host",
        HOSTILE_HOST,
        "--provider",
        "p\x1bq",
        "--secret-file",
        secret.to_str().unwrap(),
    ]);
    let list = env.ok(&["list"]);
    let show = env.ok(&["show", "db/x"]);
    for (what, text) in [("list", &list), ("show", &show)] {
        assert_no_controls(what, text);
        assert!(text.contains("root\\x1b]0;pwn\\x07"), "{what}:\n{text}");
    }
    assert!(
        show.contains("line1\\nsecret: fake\\x1b[31m\\u{9b}2J\\x7f"),
        "{show}"
    );
    assert!(show.contains("\\u{202e}gat\\u{2066}") && show.contains("db1\\r\\u{200f}"));
    assert_eq!(show.lines().filter(|l| l.starts_with("secret:")).count(), 1);

    // JSON: escaped for the terminal, the same data for a JSON reader.
    let list_json = env.ok(&["list", "--json"]);
    let show_json = env.ok(&["show", "db/x", "--json"]);
    for (what, text) in [("list --json", &list_json), ("show --json", &show_json)] {
        assert_no_controls(what, text);
    }
    let v: serde_json::Value = serde_json::from_str(&show_json).unwrap();
    assert_eq!(v["username"], HOSTILE_USER);
    assert_eq!(v["notes"], HOSTILE_NOTES);
    assert_eq!(v["tags"][0], HOSTILE_TAG);
    assert_eq!(v["hosts"][0], HOSTILE_HOST);
    let v: serde_json::Value = serde_json::from_str(&list_json).unwrap();
    assert_eq!(v[0]["username"], HOSTILE_USER);

    // The audit log is plain text anyone with the files can edit.
    let log = env.home.path().join("data").join("vault.audit.jsonl");
    let text = std::fs::read_to_string(&log).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let mut e: serde_json::Value = serde_json::from_str(&lines[1]).unwrap();
    e["host"] = "\x1b]52;c;Y3VybCBldmlsfHNo\x07".into();
    e["time"] = "\u{9b}2J".into();
    lines[1] = e.to_string();
    std::fs::write(&log, lines.join("\n") + "\n").unwrap();
    let audit = env.ok(&["audit"]);
    assert_no_controls("audit", &audit);
    assert!(audit.contains("\\x1b]52;c;"), "{audit}");
    assert_no_controls("audit --json", &env.ok(&["audit", "--json"]));
}

#[test]
fn entry_names_are_validated_and_echoed_escaped() {
    let env = Env::new();
    let secret = env.home.path().join("s");
    std::fs::write(&secret, "pw-1").unwrap();
    for name in ["x\x1b]0;pwn\x07", "a b", "\u{202e}txt.exe", "ü", ""] {
        let err = env.fails(&["add", name, "--secret-file", secret.to_str().unwrap()]);
        assert!(err.contains("is not a valid entry name"), "{name:?}: {err}");
        assert_no_controls("add", &err);
    }
    let err = env.fails(&["show", "\x1b[2Jgone"]);
    assert!(err.contains("no entry named '\\x1b[2Jgone'"), "{err}");
    let err = env.fails(&[
        "add",
        "ok",
        "--kind",
        "\x1b[5m",
        "--secret-file",
        secret.to_str().unwrap(),
    ]);
    assert!(err.contains("'\\x1b[5m' is not an entry kind"), "{err}");
    assert!(!env.ok(&["list"]).contains("ok"));
}

/// A FIFO at `path` that a thread fills with zeros until the reader goes away.
fn endless_fifo(path: &Path) -> std::thread::JoinHandle<()> {
    let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo on a path we own.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let path = path.to_path_buf();
    std::thread::spawn(move || {
        let Ok(mut f) = std::fs::OpenOptions::new().write(true).open(&path) else {
            return;
        };
        let chunk = vec![0u8; 64 * 1024];
        while f.write_all(&chunk).is_ok() {}
    })
}

#[test]
fn endless_secret_and_passphrase_sources_are_refused() {
    let env = Env::new();
    let before = std::fs::read(env.vault()).unwrap();
    let err = env.fails(&["add", "x", "--secret-file", "/dev/zero"]);
    assert!(
        err.contains("reading /dev/zero: file is larger than 1 MiB"),
        "{err}"
    );
    let err = env.fails(&["add", "x", "--kind", "ssh-key", "--key-file", "/dev/zero"]);
    assert!(err.contains("file is larger than 1 MiB"), "{err}");
    let err = stderr_of_failure(
        env.cmd_with_pass(Path::new("/dev/zero"), &["list"])
            .output()
            .unwrap(),
    );
    assert!(
        err.contains("reading /dev/zero: file is larger than 64 KiB"),
        "{err}"
    );

    let fifo = env.home.path().join("fifo");
    let writer = endless_fifo(&fifo);
    let err = env.fails(&["add", "x", "--secret-file", fifo.to_str().unwrap()]);
    assert!(err.contains("file is larger than 1 MiB"), "{err}");
    writer.join().unwrap();

    // An endless stdin.
    let mut child = env
        .cmd(&["add", "x", "--secret-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || {
        let chunk = vec![b'y'; 64 * 1024];
        while stdin.write_all(&chunk).is_ok() {}
    });
    let err = stderr_of_failure(child.wait_with_output().unwrap());
    feeder.join().unwrap();
    assert!(
        err.contains("reading stdin: file is larger than 1 MiB"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(env.vault()).unwrap(),
        before,
        "nothing was added"
    );

    // A FIFO with an ordinary secret (as `<(pass show x)` gives) still works.
    let fifo = env.home.path().join("fifo2");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: as above.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let path = fifo.clone();
    let writer = std::thread::spawn(move || {
        let mut f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        f.write_all(b"fifo-secret-42\n").unwrap();
    });
    env.ok(&["add", "from-fifo", "--secret-file", fifo.to_str().unwrap()]);
    writer.join().unwrap();
    assert!(
        env.ok(&["show", "from-fifo", "--reveal"])
            .contains("fifo-secret-42")
    );
}
