//! Test helpers: an app on channel-backed panes (`app`), tmux driving (`tmux`), an auto-answerer for SSH prompts and a real OpenSSH `sshd` on a loopback port
//! with its own host keys, `authorized_keys` and config in a temporary directory.
#![allow(dead_code, clippy::unwrap_used)]

pub mod app;
pub mod copilot;
pub mod fake_ai;
pub mod fake_fleet;
pub mod fake_host;
pub mod fleet;
pub mod leak_corpus;
pub mod scans;
pub mod tmux;
pub mod venv;

use lumen::ssh::{HostKeyDecision, PromptAnswer, PromptKind, Prompter};
use secrecy::SecretString;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const SSHD: &str = "/usr/sbin/sshd";
const SSHD_START: Duration = Duration::from_secs(10);
const POLL: Duration = Duration::from_millis(50);

/// `lumen vault init` options that make Argon2id cheap enough for tests (64 KiB, one pass,
/// one lane).
pub const FAST_KDF: [&str; 6] = ["--kdf-memory", "64", "--kdf-time", "1", "--kdf-lanes", "1"];

/// What the auto-answerer replies. Unset answers cancel the prompt.
#[derive(Debug, Clone, Default)]
pub struct Answers {
    pub host_key: Option<HostKeyDecision>,
    pub password: Option<String>,
    /// Passphrases tried in order (one per attempt).
    pub passphrases: Vec<String>,
    /// Keyboard-interactive rounds with prompts, in order.
    pub ki_rounds: Vec<Vec<String>>,
}

/// Every prompt the answerer saw.
pub type Asked = Arc<Mutex<Vec<PromptKind>>>;

/// A prompter served by a task that answers from `answers` and records the questions.
pub fn auto_answer(answers: Answers) -> (Prompter, Asked) {
    let (prompter, mut rx) = Prompter::channel();
    let asked: Asked = Arc::default();
    let log = asked.clone();
    tokio::spawn(async move {
        let mut passphrases = answers.passphrases.clone().into_iter();
        let mut rounds = answers.ki_rounds.clone().into_iter();
        while let Some(req) = rx.recv().await {
            log.lock().unwrap().push(req.kind.clone());
            let secret = |s: String| PromptAnswer::Secret(SecretString::from(s));
            let answer = match &req.kind {
                PromptKind::UnknownHostKey { .. } => answers.host_key.map(PromptAnswer::HostKey),
                PromptKind::Password { .. } => answers.password.clone().map(secret),
                PromptKind::Passphrase { .. } => passphrases.next().map(secret),
                PromptKind::KeyboardInteractive { .. } => rounds.next().map(|r| {
                    PromptAnswer::Responses(r.into_iter().map(SecretString::from).collect())
                }),
            };
            let _ = req.reply.send(answer);
        }
    });
    (prompter, asked)
}

/// Tries at starting sshd on a fresh port.
const SSHD_ATTEMPTS: usize = 5;

/// Whether `child` (an sshd on `port`) is up and listening. sshd writes its PID file only
/// after binding its port, so the file naming this child proves the port is this sshd's and
/// not another test's that took it first (that sshd exits instead).
fn wait_listening(child: &mut Child, port: u16, pid_file: &Path) -> bool {
    let start = Instant::now();
    loop {
        if let Ok(Some(_)) = child.try_wait() {
            return false;
        }
        let ours =
            std::fs::read_to_string(pid_file).is_ok_and(|p| p.trim() == child.id().to_string());
        if ours && std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        assert!(start.elapsed() < SSHD_START, "sshd did not start listening");
        std::thread::sleep(POLL);
    }
}

/// A free loopback port (bound then released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn keygen(path: &Path, kind: &str, passphrase: &str) {
    let mut cmd = Command::new("ssh-keygen");
    cmd.args(["-q", "-t", kind, "-N", passphrase, "-C", "lumen-test", "-f"])
        .arg(path);
    if kind == "rsa" {
        cmd.args(["-b", "2048"]);
    }
    let ok = cmd.stdout(Stdio::null()).status().unwrap().success();
    assert!(ok, "ssh-keygen -t {kind} failed");
}

/// `ssh-keygen -lf FILE` output, trimmed.
pub fn keygen_fingerprint(path: &Path) -> String {
    let out = Command::new("ssh-keygen")
        .arg("-lf")
        .arg(path)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A running `sshd -D -e` with its own files; killed when dropped.
pub struct Sshd {
    pub dir: tempfile::TempDir,
    pub port: u16,
    /// Host public key files: ed25519, ecdsa, rsa.
    pub host_keys: Vec<PathBuf>,
    pub authorized_keys: PathBuf,
    child: Child,
}

impl Sshd {
    /// Start sshd with `extra_config` appended to its config. A missing sshd fails the test
    /// (install it with scripts/install-test-deps.sh); the Option is for callers that skip.
    pub fn start(extra_config: &str) -> Option<Sshd> {
        Self::launch(extra_config, false, None)
    }

    /// Like [`Sshd::start`], but logins get `$HOME` = `home` (a temporary directory, never the
    /// real one) and `home/.ssh/authorized_keys` is read too: for tests that place keys where
    /// users have them (`ssh-copy-id`'s file).
    pub fn start_with_home(home: &Path) -> Sshd {
        Self::launch("", false, Some(home)).unwrap()
    }

    /// Like [`Sshd::start`] but logging at DEBUG1 to `self.log_path()` (accepted logins,
    /// `direct-tcpip` forwards), for tests that prove where traffic went.
    pub fn start_logged(extra_config: &str) -> Sshd {
        Self::launch(extra_config, true, None).unwrap()
    }

    /// The log of a [`Sshd::start_logged`] server.
    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("sshd.log")
    }

    /// The log so far (empty when not logging).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// Lines of the log containing `needle`.
    pub fn log_count(&self, needle: &str) -> usize {
        self.log().lines().filter(|l| l.contains(needle)).count()
    }

    /// Wait until `needle` appears `count` times in the log (true), or time out (false).
    pub fn wait_log(&self, needle: &str, count: usize) -> bool {
        let start = Instant::now();
        while start.elapsed() < SSHD_START {
            if self.log_count(needle) >= count {
                return true;
            }
            std::thread::sleep(POLL);
        }
        false
    }

    fn launch(extra_config: &str, logged: bool, home: Option<&Path>) -> Option<Sshd> {
        assert!(
            Path::new(SSHD).exists(),
            "{SSHD} is missing; run scripts/install-test-deps.sh (openssh-server)"
        );
        let _ = std::fs::create_dir_all("/run/sshd");
        let dir = tempfile::tempdir().unwrap();
        let mut host_keys = Vec::new();
        let mut host_key_lines = String::new();
        for kind in ["ed25519", "ecdsa", "rsa"] {
            let key = dir.path().join(format!("ssh_host_{kind}_key"));
            keygen(&key, kind, "");
            host_key_lines.push_str(&format!("HostKey {}\n", key.display()));
            host_keys.push(key.with_extension("pub"));
        }
        let authorized_keys = dir.path().join("authorized_keys");
        std::fs::write(&authorized_keys, "").unwrap();
        // A Match block's values win over the main section's (where the first value counts).
        let home_lines = home
            .map(|h| {
                format!(
                    "Match all\nSetEnv HOME={h}\nAuthorizedKeysFile {} {h}/.ssh/authorized_keys\n",
                    authorized_keys.display(),
                    h = h.display()
                )
            })
            .unwrap_or_default();
        let config = dir.path().join("sshd_config");
        std::fs::write(
            &config,
            format!(
                "{host_key_lines}ListenAddress 127.0.0.1\nAuthorizedKeysFile {}\nStrictModes no\n\
                 PidFile {}\nUsePAM no\nPasswordAuthentication yes\nKbdInteractiveAuthentication no\n\
                 PubkeyAuthentication yes\nPermitRootLogin yes\nAcceptEnv LANG LC_*\n\
                 AllowAgentForwarding yes\nLogLevel {}\nPrintMotd no\n{extra_config}\n{home_lines}",
                authorized_keys.display(),
                dir.path().join("sshd.pid").display(),
                if logged { "DEBUG1" } else { "FATAL" },
            ),
        )
        .unwrap();
        // A free port can be taken by a parallel test between choosing it and sshd binding
        // it; then this sshd exits at start and another port is tried.
        for _attempt in 0..SSHD_ATTEMPTS {
            let port = free_port();
            let mut command = Command::new(SSHD);
            if logged {
                command.arg("-E").arg(dir.path().join("sshd.log"));
            } else {
                command.arg("-e");
            }
            let mut child = command
                .args(["-D", "-f"])
                .arg(&config)
                .args(["-p", &port.to_string()])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::inherit())
                .spawn()
                .unwrap();
            if wait_listening(&mut child, port, &dir.path().join("sshd.pid")) {
                return Some(Sshd {
                    dir,
                    port,
                    host_keys,
                    authorized_keys,
                    child,
                });
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("sshd could not start on a free loopback port in {SSHD_ATTEMPTS} tries");
    }

    /// Allow a public key file to log in.
    pub fn authorize(&self, public_key: &Path) {
        let mut all = std::fs::read_to_string(&self.authorized_keys).unwrap();
        all.push_str(&std::fs::read_to_string(public_key).unwrap());
        std::fs::write(&self.authorized_keys, all).unwrap();
    }

    /// Client options that log in to this server with a new ed25519 key made in `dir`
    /// (authorized here) and trust its host keys through `dir/known_hosts`; lumen's own
    /// known_hosts is `dir/lumen_known_hosts`.
    pub fn client_options(&self, dir: &Path) -> lumen::ssh::ConnectOptions {
        let key = dir.join("id_ed25519");
        keygen(&key, "ed25519", "");
        self.authorize(&key.with_extension("pub"));
        let known = dir.join("known_hosts");
        self.known_hosts_file(&known);
        let mut opts = lumen::ssh::ConnectOptions::isolated(&dir.join("lumen_known_hosts"));
        opts.identity_files = vec![key];
        opts.user_known_hosts_files = Some(vec![known]);
        opts
    }

    /// A known_hosts file listing this server's keys as `[127.0.0.1]:port`.
    pub fn known_hosts_file(&self, path: &Path) {
        let mut text = String::new();
        for k in &self.host_keys {
            text.push_str(&format!(
                "[127.0.0.1]:{} {}",
                self.port,
                std::fs::read_to_string(k).unwrap()
            ));
        }
        std::fs::write(path, text).unwrap();
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Kill every connection this sshd serves (its per-connection processes), as a network
    /// drop would; the listener stays, so clients can connect again.
    pub fn drop_connections(&self) {
        let _ = Command::new("pkill")
            .args(["-KILL", "-P", &self.child.id().to_string()])
            .status();
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// A local user with a password, created once per run; None (with the reason) when not root.
pub fn password_user() -> Option<(String, String)> {
    if !is_root() {
        eprintln!("SKIP: password auth needs root to create a test user");
        return None;
    }
    let user = "lumentest".to_string();
    let exists = Command::new("id")
        .arg(&user)
        .output()
        .unwrap()
        .status
        .success();
    if !exists {
        let ok = Command::new("useradd")
            .args(["-m", "-s", "/bin/sh", &user])
            .status()
            .unwrap()
            .success();
        assert!(ok, "useradd failed");
    }
    let password = format!("pw-{}-{}", std::process::id(), free_port());
    let mut chpasswd = Command::new("chpasswd")
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    chpasswd
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{user}:{password}\n").as_bytes())
        .unwrap();
    assert!(chpasswd.wait().unwrap().success(), "chpasswd failed");
    Some((user, password))
}

/// Poll `done` every 50 ms until it holds (true) or `limit` passes (false).
pub async fn until_within(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    while tokio::time::Instant::now() < deadline {
        if done() {
            return true;
        }
        tokio::time::sleep(POLL).await;
    }
    false
}

/// Read a stream until `needle` appears in the output (or the stream ends); returns all output.
pub async fn read_until(stream: &mut lumen::stream::Stream, needle: &str) -> String {
    let mut out = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let ev = tokio::time::timeout_at(deadline, stream.events.recv()).await;
        match ev {
            Ok(Some(lumen::stream::StreamEvent::Data(d))) => {
                out.extend(d);
                if String::from_utf8_lossy(&out).contains(needle) {
                    break;
                }
            }
            Ok(Some(lumen::stream::StreamEvent::Notice(_))) => {}
            Ok(Some(lumen::stream::StreamEvent::Closed(r))) => {
                panic!(
                    "stream closed ({r}) before {needle:?}; output: {}",
                    String::from_utf8_lossy(&out)
                )
            }
            Ok(None) => panic!("stream ended before {needle:?}"),
            Err(_) => panic!(
                "timed out waiting for {needle:?}; output: {}",
                String::from_utf8_lossy(&out)
            ),
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Read until the stream closes; returns the output and the reason.
pub async fn read_to_close(
    stream: &mut lumen::stream::Stream,
) -> (String, lumen::stream::CloseReason) {
    let mut out = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        match tokio::time::timeout_at(deadline, stream.events.recv()).await {
            Ok(Some(lumen::stream::StreamEvent::Data(d))) => out.extend(d),
            Ok(Some(lumen::stream::StreamEvent::Notice(_))) => {}
            Ok(Some(lumen::stream::StreamEvent::Closed(r))) => {
                return (String::from_utf8_lossy(&out).into_owned(), r);
            }
            Ok(None) => panic!("stream ended without a reason"),
            Err(_) => panic!("timed out; output: {}", String::from_utf8_lossy(&out)),
        }
    }
}

/// A running `ssh-agent -D` on a socket in a temporary place; killed when dropped.
pub struct TestAgent {
    child: Child,
    pub socket: PathBuf,
}

impl TestAgent {
    /// Start an agent at `dir/agent.sock` holding `keys` (unencrypted key files).
    pub fn start(dir: &Path, keys: &[&Path]) -> TestAgent {
        let socket = dir.join("agent.sock");
        let child = Command::new("ssh-agent")
            .args(["-D", "-a"])
            .arg(&socket)
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let start = Instant::now();
        while !socket.exists() {
            assert!(start.elapsed() < SSHD_START, "ssh-agent did not start");
            std::thread::sleep(POLL);
        }
        let agent = TestAgent { child, socket };
        for key in keys {
            // The socket file appears when the agent binds, a moment before it listens: retry.
            let start = Instant::now();
            loop {
                let ok = Command::new("ssh-add")
                    .arg(key)
                    .env("SSH_AUTH_SOCK", &agent.socket)
                    .stderr(Stdio::null())
                    .status()
                    .unwrap()
                    .success();
                if ok {
                    break;
                }
                assert!(
                    start.elapsed() < SSHD_START,
                    "ssh-add {} failed",
                    key.display()
                );
                std::thread::sleep(POLL);
            }
        }
        agent
    }
}

impl Drop for TestAgent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A vault at `path` holding `entries`, made with cheap KDF settings (tests only), unlocked
/// in a vault owner with the passphrase "correct horse".
pub fn unlocked_vault(
    path: &Path,
    entries: Vec<(&str, lumen::vault::NewEntry)>,
) -> lumen::vault::VaultOwner {
    use lumen::vault::{KdfParams, Scope, Vault, VaultOwner};
    let pass = SecretString::from("correct horse");
    let fast = KdfParams {
        memory_kib: 64,
        time: 1,
        lanes: 1,
    };
    let mut v = Vault::create(path, &pass, fast).unwrap();
    for (name, entry) in entries {
        v.add(name, entry).unwrap();
    }
    v.save().unwrap();
    let owner = VaultOwner::new(vec![(Scope::Personal, path.to_path_buf())]);
    owner.unlock(&pass).unwrap();
    owner
}

/// The `lumen` binary against a real sshd, as a script or cron would run it: a throw-away
/// home whose `~/.ssh/known_hosts` trusts the server, a fresh authorized key, no agent, no
/// controlling terminal (nothing can be asked) and no standard input.
pub struct CliHost {
    pub dir: tempfile::TempDir,
    pub sshd: Sshd,
    pub key: PathBuf,
}

impl CliHost {
    pub fn start() -> CliHost {
        let dir = tempfile::tempdir().unwrap();
        let sshd = Sshd::start("").unwrap();
        let key = dir.path().join("id_ed25519");
        keygen(&key, "ed25519", "");
        sshd.authorize(&key.with_extension("pub"));
        let ssh_dir = dir.path().join("home/.ssh");
        std::fs::create_dir_all(&ssh_dir).unwrap();
        sshd.known_hosts_file(&ssh_dir.join("known_hosts"));
        CliHost { dir, sshd, key }
    }

    /// `lumen ARGS…` with `extra_env` set.
    pub fn lumen(&self, args: &[&str], extra_env: &[(&str, &str)]) -> std::process::Output {
        self.command(args, extra_env).output().unwrap()
    }

    /// The `lumen ARGS…` command, to spawn (in a session of its own, no terminal, no stdin).
    pub fn command(&self, args: &[&str], extra_env: &[(&str, &str)]) -> Command {
        use std::os::unix::process::CommandExt;
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_lumen"));
        cmd.args(args)
            .env("HOME", self.dir.path().join("home"))
            .env("LUMEN_HOME", self.dir.path().join("lumen"))
            .env("SSH_AUTH_SOCK", "")
            .env_remove("LUMEN_OSV_API_URL")
            .stdin(Stdio::null());
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        // SAFETY: setsid is async-signal-safe and touches only the child.
        unsafe {
            cmd.pre_exec(|| {
                libc::setsid();
                Ok(())
            });
        }
        cmd
    }
}
