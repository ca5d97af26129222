//! The real `lumen` binary: a full vault session, then every byte lumen wrote is searched for
//! each secret; a writer killed before its rename; two writers at once.
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const WAIT_FOR_TEMP_FILE: Duration = Duration::from_secs(20);
const POLL: Duration = Duration::from_millis(20);

struct Env {
    home: tempfile::TempDir,
    inputs: tempfile::TempDir,
}

impl Env {
    fn new(passphrase: &str) -> Env {
        let env = Env {
            home: tempfile::tempdir().unwrap(),
            inputs: tempfile::tempdir().unwrap(),
        };
        env.input("pass", passphrase);
        env
    }

    fn input(&self, name: &str, text: &str) -> PathBuf {
        let p = self.inputs.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_lumen"));
        c.env("LUMEN_HOME", self.home.path())
            .env_remove(lumen::vault::TEST_HOOK_ENV)
            .arg("vault")
            .arg("--passphrase-file")
            .arg(self.inputs.path().join("pass"))
            .args(args)
            .stdin(Stdio::null());
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn with_stdin(&self, args: &[&str], stdin: &str) -> Output {
        let mut child = self
            .cmd(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // A refused writer exits before reading stdin: a broken pipe here is expected.
        let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
        child.wait_with_output().unwrap()
    }

    fn vault_file(&self) -> PathBuf {
        self.home.path().join("data").join("vault.lumen")
    }
}

const FAST_INIT: [&str; 7] = [
    "init",
    "--kdf-memory",
    "64",
    "--kdf-time",
    "1",
    "--kdf-lanes",
    "1",
];

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn full_session_leaves_no_secret_in_any_file() {
    let passphrase = "Pässphrase-ünïque-42";
    let env = Env::new(passphrase);
    let password = "Hunter2-pw-QWERTY-987";
    let api_key = "sk-ant-api03-ABCDEFGHIJKLMNOPQRSTUV";
    let totp_secret = "JBSWY3DPEHPK3PXPJBSWY3DP";
    let note = "the safe combination is 31-41-59";
    let new_passphrase = "zweites-Passwort-ß-🔐";
    let key_path = env.inputs.path().join("id_ed25519");
    let keygen = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "cli@test", "-f"])
        .arg(&key_path)
        .status()
        .unwrap();
    assert!(keygen.success());
    let key_text = std::fs::read_to_string(&key_path).unwrap();

    assert!(env.ok(&FAST_INIT).contains("created the personal vault"));
    let pw_file = env.input("pw", &format!("{password}\n"));
    env.ok(&[
        "add",
        "db/root",
        "--kind",
        "password",
        "--username",
        "root",
        "--host",
        "db1",
    ]
    .into_iter()
    .chain(["--secret-file", pw_file.to_str().unwrap()])
    .collect::<Vec<_>>());
    let out = env.with_stdin(
        &[
            "add",
            "ai/anthropic",
            "--kind",
            "api-key",
            "--provider",
            "anthropic",
            "--secret-stdin",
        ],
        api_key,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = env.with_stdin(
        &["add", "github", "--kind", "totp", "--secret-stdin"],
        totp_secret,
    );
    assert!(out.status.success());
    let out = env.with_stdin(&["add", "safe", "--kind", "note", "--secret-stdin"], note);
    assert!(out.status.success());
    env.ok(&[
        "add",
        "deploy-key",
        "--kind",
        "ssh-key",
        "--key-file",
        key_path.to_str().unwrap(),
        "--host",
        "*",
    ]);

    let list = env.ok(&["list"]);
    let list_json = env.ok(&["list", "--json"]);
    let show = env.ok(&["show", "db/root"]);
    let show_key = env.ok(&["show", "deploy-key"]);
    for text in [&list, &list_json, &show, &show_key] {
        for s in [password, api_key, totp_secret, note, passphrase] {
            assert!(
                !text.contains(s),
                "printed a secret without --reveal:\n{text}"
            );
        }
        assert!(!text.contains("PRIVATE KEY"));
    }
    assert!(list.contains("db/root") && list.contains("deploy-key") && list.contains("personal"));
    let fp = String::from_utf8(
        Command::new("ssh-keygen")
            .arg("-lf")
            .arg(key_path.with_extension("pub"))
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let fp = fp.split_whitespace().nth(1).unwrap();
    assert!(show_key.contains(fp), "{show_key} lacks {fp}");
    assert!(env.ok(&["show", "db/root", "--reveal"]).contains(password));

    let totp = env.ok(&["totp", "github"]);
    assert!(totp.contains("s left"));
    let code = totp.split_whitespace().next().unwrap();
    assert_eq!(code.len(), 6);
    assert!(code.chars().all(|c| c.is_ascii_digit()));

    env.ok(&["edit", "db/root", "--username", "admin", "--host", "db2"]);
    assert!(env.ok(&["show", "db/root"]).contains("admin"));
    env.ok(&["rm", "safe"]);
    let out = env.run(&["show", "safe"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no entry named 'safe'"));

    // Workspace scope in the same format; lists show both, marked.
    let out = env.run(
        &["--scope", "workspace"]
            .into_iter()
            .chain(FAST_INIT)
            .collect::<Vec<_>>(),
    );
    assert!(out.status.success());
    let out = env.with_stdin(
        &["--scope", "workspace", "add", "team/db", "--secret-stdin"],
        "team-shared-PW-555",
    );
    assert!(out.status.success());
    let both = env.ok(&["list"]);
    assert!(
        both.contains("workspace  team/db") && both.contains("personal   db/root"),
        "{both}"
    );

    // Passphrase change through stdin: old, then new.
    let mut passwd = Command::new(env!("CARGO_BIN_EXE_lumen"));
    passwd
        .env("LUMEN_HOME", env.home.path())
        .args(["vault", "--passphrase-stdin", "passwd"]);
    let mut child = passwd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{passphrase}\n{new_passphrase}\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !env.run(&["list"]).status.success(),
        "old passphrase still works"
    );
    env.input("pass", new_passphrase);
    assert!(
        env.ok(&["list", "--scope", "personal"])
            .contains("deploy-key")
    );

    let audit = env.ok(&["audit"]);
    for action in ["init", "add", "reveal", "totp", "edit", "delete", "passwd"] {
        assert!(audit.contains(action), "audit lacks {action}:\n{audit}");
    }
    // The logs are sealed with keys from their vaults, which now have different passphrases.
    let out = env.run(&["audit", "--verify"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("personal: intact") && err.contains("workspace: not checked"),
        "{err}"
    );
    assert!(
        env.ok(&["audit", "--verify", "--scope", "personal"])
            .contains("personal: intact")
    );
    assert!(env.ok(&["lock"]).contains("no vault agent"));

    // Every byte of every file lumen wrote, for every secret (and the passphrases).
    let key_body: Vec<&str> = key_text
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let mut needles: Vec<&str> = vec![
        password,
        api_key,
        totp_secret,
        note,
        passphrase,
        new_passphrase,
        "team-shared-PW-555",
    ];
    needles.extend(key_body.iter().copied());
    let files = files_under(env.home.path());
    assert!(files.len() >= 4, "{files:?}");
    for f in files {
        let bytes = std::fs::read(&f).unwrap();
        for n in &needles {
            assert!(
                !contains(&bytes, n.as_bytes()),
                "{} contains a secret",
                f.display()
            );
        }
    }
}

#[test]
fn clear_errors_and_nonzero_exit() {
    let env = Env::new("pw");
    let out = env.run(&["list"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("lumen vault init"));
    assert!(out.stdout.is_empty());
    env.ok(&FAST_INIT);
    env.input("pass", "wrong");
    let out = env.run(&["list"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("wrong passphrase"));
    assert!(out.stdout.is_empty());
    env.input("pass", "pw");
    let mut bytes = std::fs::read(env.vault_file()).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(env.vault_file(), &bytes).unwrap();
    let out = env.run(&["list"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("tampered"));
    assert!(out.stdout.is_empty());
}

/// Start `add NAME` paused between writing its temp file and renaming it over the vault.
fn paused_writer(env: &Env, name: &str) -> std::process::Child {
    let child = env
        .cmd(&["add", name, "--secret-stdin"])
        .env(lumen::vault::TEST_HOOK_ENV, "pause-before-rename")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut child = child;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"paused-writer-secret")
        .unwrap();
    let dir = env.vault_file().parent().unwrap().to_path_buf();
    let start = Instant::now();
    loop {
        let temp = std::fs::read_dir(&dir)
            .unwrap()
            .any(|e| e.unwrap().file_name().to_string_lossy().ends_with(".tmp"));
        if temp {
            return child;
        }
        assert!(
            start.elapsed() < WAIT_FOR_TEMP_FILE,
            "the writer never wrote its temp file"
        );
        std::thread::sleep(POLL);
    }
}

#[test]
fn a_writer_killed_before_rename_leaves_the_previous_vault() {
    let env = Env::new("pw");
    env.ok(&FAST_INIT);
    let _ = env.with_stdin(&["add", "first", "--secret-stdin"], "first-secret");
    let before = std::fs::read(env.vault_file()).unwrap();
    let mut child = paused_writer(&env, "second");
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(std::fs::read(env.vault_file()).unwrap(), before);
    let temps = std::fs::read_dir(env.vault_file().parent().unwrap())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".tmp")
        })
        .count();
    assert_eq!(temps, 1, "the killed writer got as far as its temp file");
    let list = env.ok(&["list"]);
    assert!(list.contains("first") && !list.contains("second"), "{list}");
    // The dead writer's lock is gone with it: the next writer succeeds.
    let out = env.with_stdin(&["add", "third", "--secret-stdin"], "third-secret");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn two_writers_one_refused_nothing_lost() {
    let env = Env::new("pw");
    env.ok(&FAST_INIT);
    let child = paused_writer(&env, "from-a");
    let pid = child.id();
    let out = env.with_stdin(&["add", "from-b", "--secret-stdin"], "b-secret");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("vault is being changed by process {pid}")),
        "{err}"
    );
    let a = child.wait_with_output().unwrap();
    assert!(a.status.success(), "{}", String::from_utf8_lossy(&a.stderr));
    let list = env.ok(&["list"]);
    assert!(list.contains("from-a") && !list.contains("from-b"));
    let out = env.with_stdin(&["add", "from-b", "--secret-stdin"], "b-secret");
    assert!(out.status.success());
    let list = env.ok(&["list"]);
    assert!(list.contains("from-a") && list.contains("from-b"));
}

#[test]
fn calibrated_init_raises_the_time_cost() {
    let env = Env::new("pw");
    let out = env.ok(&["init", "--kdf-calibrate"]);
    let header =
        lumen::vault::format::parse(&env.vault_file(), &std::fs::read(env.vault_file()).unwrap())
            .unwrap();
    assert_eq!(header.kdf.memory_kib, 65536);
    assert!(header.kdf.time >= 3, "{out}");
    assert!(out.contains(&format!("t={}", header.kdf.time)));
    env.ok(&["list"]);
}

/// A weak new passphrase is warned about (on stderr, with the way out) but not refused; a
/// phrase of unrelated words is not; `passwd` checks the new one too.
#[test]
fn a_weak_passphrase_is_warned_about() {
    let weak = Env::new("abcde\n");
    let out = weak.run(&FAST_INIT);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("this passphrase is weak") && err.contains("lumen vault passwd"),
        "{err}"
    );
    weak.ok(&["list"]);

    let strong = Env::new("tundra violin mosaic plover\n");
    let out = strong.run(&FAST_INIT);
    assert!(out.status.success());
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("weak"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let new = strong.input("new", "password1\n");
    let out = strong.run(&["passwd", "--new-passphrase-file", new.to_str().unwrap()]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("this passphrase is weak"));
}

const TMUX_STEP: Duration = Duration::from_millis(300);

/// The passphrase prompt on a real terminal (tmux): typed twice, never echoed, and the vault
/// it made opens with the same passphrase from a file.
#[test]
fn tty_prompt_does_not_echo() {
    let env = Env::new("tty-pässword-42");
    let socket = format!("lumen-vault-test-{}", std::process::id());
    let tmux = |args: &[&str]| {
        Command::new("tmux")
            .arg("-L")
            .arg(&socket)
            .args(args)
            .output()
            .unwrap()
    };
    let shell_cmd = format!(
        "env LUMEN_HOME={} {} vault init --kdf-memory 64 --kdf-time 1 --kdf-lanes 1; sleep 30",
        env.home.path().display(),
        env!("CARGO_BIN_EXE_lumen")
    );
    assert!(
        tmux(&[
            "new-session",
            "-d",
            "-s",
            "t",
            "-x",
            "100",
            "-y",
            "10",
            &shell_cmd
        ])
        .status
        .success()
    );
    let start = Instant::now();
    let wait_for = |text: &str| loop {
        let screen = String::from_utf8(tmux(&["capture-pane", "-p", "-t", "t"]).stdout).unwrap();
        if screen.contains(text) {
            return screen;
        }
        assert!(
            start.elapsed() < WAIT_FOR_TEMP_FILE,
            "never saw {text:?}:\n{screen}"
        );
        std::thread::sleep(POLL);
    };
    wait_for("new vault passphrase:");
    tmux(&["send-keys", "-t", "t", "tty-pässword-42", "Enter"]);
    wait_for("repeat it:");
    std::thread::sleep(TMUX_STEP);
    tmux(&["send-keys", "-t", "t", "tty-pässword-42", "Enter"]);
    let screen = wait_for("created the personal vault");
    tmux(&["kill-server"]);
    assert!(
        !screen.contains("tty-p"),
        "the passphrase was echoed:\n{screen}"
    );
    assert!(env.ok(&["list"]).contains("SCOPE"));
}

/// `lumen ARGS` (as [`Env::cmd`] would run it) with stdout and stderr on a new pseudo-terminal:
/// every byte the terminal received.
fn on_a_terminal(env: &Env, args: &[&str]) -> Vec<u8> {
    use portable_pty::{CommandBuilder, PtySize, native_pty_system};
    use std::io::Read;
    let pair = native_pty_system()
        .openpty(PtySize {
            rows: 40,
            cols: 200,
            pixel_width: 0,
            pixel_height: 0,
        })
        .unwrap();
    let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_lumen"));
    cmd.env("LUMEN_HOME", env.home.path());
    cmd.env_remove(lumen::vault::TEST_HOOK_ENV);
    cmd.arg("vault");
    cmd.arg("--passphrase-file");
    cmd.arg(env.inputs.path().join("pass"));
    cmd.args(args);
    let mut child = pair.slave.spawn_command(cmd).unwrap();
    drop(pair.slave);
    let mut reader = pair.master.try_clone_reader().unwrap();
    let mut bytes = Vec::new();
    let mut buf = [0u8; 4096];
    // Read until the child is gone (EOF, or EIO once the last slave closes on Linux).
    while let Ok(n) = reader.read(&mut buf) {
        if n == 0 {
            break;
        }
        bytes.extend_from_slice(&buf[..n]);
    }
    assert!(
        child.wait().unwrap().success(),
        "{}",
        String::from_utf8_lossy(&bytes)
    );
    bytes
}

/// A stored value with control characters (ESC, BEL, C1 CSI) is shown escaped by `show
/// --reveal` on a terminal, with a note; piped, it is written byte for byte for scripts.
#[test]
fn reveal_escapes_control_characters_on_a_terminal_only() {
    let env = Env::new("reveal-pass");
    env.ok(&FAST_INIT);
    let value = "pw\x1b]52;c;cm0gLXJmIH4=\x07\u{9b}2J\x1b[2Jend";
    let secret = env.input("secret", value);
    env.ok(&[
        "add",
        "odd",
        "--kind",
        "password",
        "--secret-file",
        secret.to_str().unwrap(),
    ]);
    let shown = on_a_terminal(&env, &["show", "odd", "--reveal"]);
    let text = String::from_utf8_lossy(&shown);
    assert!(
        !shown.contains(&0x1b) && !shown.contains(&0x07) && !text.contains('\u{9b}'),
        "{text:?}"
    );
    assert!(
        text.contains("pw\\x1b]52;c;cm0gLXJmIH4=\\x07\\u{9b}2J\\x1b[2Jend")
            && text.contains("control characters shown as escapes"),
        "{text:?}"
    );
    let piped = env.ok(&["show", "odd", "--reveal"]);
    assert!(piped.contains(&format!("secret:\n{value}\n")), "{piped:?}");
}
