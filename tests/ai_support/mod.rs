//! Shared by the `lumen ai ask|context|history` tests: a temporary home, config.toml's [ai]
//! pointing at a recording fake provider, a vault holding one secret, a real sshd named `web1`
//! in hosts.toml, and the fake model's proposing turn.
#![allow(dead_code, clippy::unwrap_used)]

use crate::common::fake_ai::{FakeServer, Reply, data_events_done};
use crate::common::{Sshd, keygen};
use serde_json::{Value, json};
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

pub const MODEL: &str = "test-model";
pub const ANSWER: &str = "The disk is nearly full; see what grows.";
pub const EXPLANATION: &str = "creates a marker file";
pub const VAULT_PASS: &str = "ask test passphrase";
pub const SECRET: &str = "Sup3r-S3cret-Vault-Value!";

pub struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    pub fn new() -> Env {
        let env = Env {
            dir: tempfile::tempdir().unwrap(),
        };
        std::fs::create_dir_all(env.home().join(".ssh")).unwrap();
        std::fs::write(env.file("pass"), format!("{VAULT_PASS}\n")).unwrap();
        env
    }

    pub fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn lumen_home(&self) -> PathBuf {
        self.dir.path().join("lumen")
    }

    pub fn workspace(&self) -> PathBuf {
        self.lumen_home().join("data/workspaces/default")
    }

    /// config.toml's [ai] pointing at `fake`, plus `extra` lines in the table.
    pub fn config(&self, fake: &FakeServer, extra: &str) {
        self.config_for("openai-compatible", &format!("{}/v1", fake.url()), extra);
    }

    /// config.toml's [ai] for `provider` at `base_url`, plus `extra` lines in the table.
    pub fn config_for(&self, provider: &str, base_url: &str, extra: &str) {
        let dir = self.lumen_home().join("config");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("config.toml"),
            format!(
                "[ai]\nprovider = \"{provider}\"\nmodel = \"{MODEL}\"\n\
                 base_url = \"{base_url}\"\n{extra}"
            ),
        )
        .unwrap();
    }

    pub fn hosts(&self, text: &str) {
        std::fs::create_dir_all(self.workspace()).unwrap();
        std::fs::write(self.workspace().join("hosts.toml"), text).unwrap();
    }

    /// Run lumen with no controlling terminal (nothing can be asked), off the async runtime.
    pub async fn lumen(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_lumen"));
        cmd.args(args)
            .env("HOME", self.home())
            .env("LUMEN_HOME", self.lumen_home())
            .env("SSH_AUTH_SOCK", "")
            .env("LUMEN_TEST_KEY", "sk-test-not-a-real-key-1234567890")
            .env_remove(lumen::vault::TEST_HOOK_ENV)
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // SAFETY: setsid is async-signal-safe and touches only the child.
        unsafe {
            cmd.pre_exec(|| {
                libc::setsid();
                Ok(())
            });
        }
        let input = stdin.map(str::to_string);
        tokio::task::spawn_blocking(move || {
            let mut child = cmd.spawn().unwrap();
            if let Some(text) = input {
                child
                    .stdin
                    .take()
                    .unwrap()
                    .write_all(text.as_bytes())
                    .unwrap();
            }
            child.wait_with_output().unwrap()
        })
        .await
        .unwrap()
    }

    /// A personal vault holding SECRET as `db/root`, bound to every host.
    pub async fn vault_with_secret(&self) {
        let pass = self.file("pass");
        let pass = pass.to_str().unwrap();
        let init = [
            "vault",
            "--passphrase-file",
            pass,
            "init",
            "--kdf-memory",
            "64",
            "--kdf-time",
            "1",
            "--kdf-lanes",
            "1",
        ];
        ok(&self.lumen(&init, None).await);
        let add = [
            "vault",
            "--passphrase-file",
            pass,
            "add",
            "db/root",
            "--kind",
            "password",
            "--host",
            "*",
            "--secret-stdin",
        ];
        ok(&self.lumen(&add, Some(SECRET)).await);
    }
}

pub fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "stdout {} stderr {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// The model's turn: a sentence, then `command` through propose_command, and its usage.
pub fn proposing(command: &str) -> Reply {
    let chunk = |delta: Value, finish: Value| {
        json!({"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":MODEL,
               "choices":[{"index":0,"delta":delta,"finish_reason":finish}]})
    };
    let args = json!({"command": command, "explanation": EXPLANATION}).to_string();
    Reply::sse(&data_events_done(&[
        chunk(json!({"role":"assistant","content":ANSWER}), Value::Null),
        chunk(
            json!({"tool_calls":[{"index":0,"id":"call_1","type":"function",
                                  "function":{"name":"propose_command","arguments":args}}]}),
            Value::Null,
        ),
        chunk(json!({}), json!("tool_calls")),
        json!({"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":MODEL,
               "choices":[],"usage":{"prompt_tokens":321,"completion_tokens":45}}),
    ]))
    .split_every(7)
}

/// A real sshd that knows a key at ~/.ssh/id_ed25519 and is in ~/.ssh/known_hosts, and a
/// hosts.toml naming it `web1`.
pub fn ssh_host(env: &Env, extra: &str) -> Sshd {
    let sshd = Sshd::start("").unwrap();
    let key = env.home().join(".ssh/id_ed25519");
    keygen(&key, "ed25519", "");
    sshd.authorize(&key.with_extension("pub"));
    sshd.known_hosts_file(&env.home().join(".ssh/known_hosts"));
    env.hosts(&format!(
        "[hosts.web1]\nhostname = \"127.0.0.1\"\nport = {}\n{extra}",
        sshd.port
    ));
    sshd
}

pub fn this_hostname() -> String {
    let out = Command::new("uname").arg("-n").output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}
