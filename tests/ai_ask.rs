//! The real `lumen ai ask|context|history` binary against a fake OpenAI-compatible provider on
//! loopback that records every request byte, and a real OpenSSH `sshd` for `--host` facts:
//! answers and proposals printed (text and JSON) and nothing run, vault values never in a sent
//! byte, `ai = "off"` refused before anything is sent, a 401 in words, `context` sending
//! nothing, and the saved history listed.
#![allow(clippy::unwrap_used)]

mod common;

use common::fake_ai::{FakeServer, Reply, data_events_done};
use common::{Sshd, keygen};
use serde_json::{Value, json};
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

const MODEL: &str = "test-model";
const ANSWER: &str = "The disk is nearly full; see what grows.";
const EXPLANATION: &str = "creates a marker file";
const VAULT_PASS: &str = "ask test passphrase";
const SECRET: &str = "Sup3r-S3cret-Vault-Value!";

struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        let env = Env {
            dir: tempfile::tempdir().unwrap(),
        };
        std::fs::create_dir_all(env.home().join(".ssh")).unwrap();
        std::fs::write(env.file("pass"), format!("{VAULT_PASS}\n")).unwrap();
        env
    }

    fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn lumen_home(&self) -> PathBuf {
        self.dir.path().join("lumen")
    }

    fn workspace(&self) -> PathBuf {
        self.lumen_home().join("data/workspaces/default")
    }

    /// config.toml's [ai] pointing at `fake`, plus `extra` lines in the table.
    fn config(&self, fake: &FakeServer, extra: &str) {
        let dir = self.lumen_home().join("config");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("config.toml"),
            format!(
                "[ai]\nprovider = \"openai-compatible\"\nmodel = \"{MODEL}\"\n\
                 base_url = \"{}/v1\"\n{extra}",
                fake.url()
            ),
        )
        .unwrap();
    }

    fn hosts(&self, text: &str) {
        std::fs::create_dir_all(self.workspace()).unwrap();
        std::fs::write(self.workspace().join("hosts.toml"), text).unwrap();
    }

    /// Run lumen with no controlling terminal (nothing can be asked), off the async runtime.
    async fn lumen(&self, args: &[&str], stdin: Option<&str>) -> Output {
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
    async fn vault_with_secret(&self) {
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

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "stdout {} stderr {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// The model's turn: a sentence, then `command` through propose_command, and its usage.
fn proposing(command: &str) -> Reply {
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
fn ssh_host(env: &Env, extra: &str) -> Sshd {
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

fn this_hostname() -> String {
    let out = Command::new("uname").arg("-n").output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ask_with_host_prints_answer_and_proposal_sends_facts_and_runs_nothing() {
    let env = Env::new();
    let _sshd = ssh_host(&env, "");
    let marker = env.file("ran-marker");
    let command = format!("touch {}", marker.display());
    let fake = FakeServer::start(vec![proposing(&command)]).await;
    env.config(&fake, "");
    let out = env
        .lumen(
            &["ai", "ask", "--host", "web1", "why", "is", "it", "slow?"],
            None,
        )
        .await;
    let text = ok(&out);
    let verdict = lumen::ai::risk::assess(&command);
    assert!(text.contains(ANSWER), "{text}");
    assert!(
        text.contains(&format!(
            "proposed command ({} risk):\n    {command}",
            verdict.risk.as_str()
        )),
        "{text}"
    );
    assert!(text.contains(&format!("why: {EXPLANATION}")), "{text}");
    for r in &verdict.reasons {
        assert!(text.contains(&format!("  - {}", r.text)), "{text}");
    }
    assert!(text.contains("Nothing was run"), "{text}");
    assert!(
        stderr(&out).contains("tokens: 321 in, 45 out"),
        "{}",
        stderr(&out)
    );
    // The conversation ends with the proposal: one request, and nothing ran anywhere.
    assert_eq!(fake.attempts(), 1);
    assert!(!marker.exists(), "the proposed command ran");
    // The host's facts went with the request, gathered over SSH from this very machine.
    let body = fake.requests()[0].json();
    let system = body["messages"][0]["content"].as_str().unwrap();
    assert!(
        system.contains("The terminal is connected to host web1."),
        "{system}"
    );
    assert!(
        system.contains(&format!("hostname: {}", this_hostname())),
        "{system}"
    );
    assert!(system.contains("kernel: Linux"), "{system}");
    assert!(system.contains("uptime: "), "{system}");
    assert_eq!(body["messages"][1]["content"], "why is it slow?");
    assert_eq!(body["model"], MODEL);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ask_json_has_answer_proposals_and_usage() {
    let env = Env::new();
    let command = "systemctl restart nginx";
    let fake = FakeServer::start(vec![proposing(command)]).await;
    env.config(&fake, "price_per_mtok = { input = 3.0, output = 15.0 }\n");
    let out = env
        .lumen(&["ai", "ask", "--json", "restart", "it"], None)
        .await;
    let json: Value = serde_json::from_str(&ok(&out)).unwrap();
    let verdict = lumen::ai::risk::assess(command);
    let reasons: Vec<&str> = verdict.reasons.iter().map(|r| r.text.as_str()).collect();
    assert_eq!(json["answer"], ANSWER);
    assert_eq!(
        json["proposals"],
        json!([{"command": command, "explanation": EXPLANATION,
                "risk": verdict.risk.as_str(), "reasons": reasons}])
    );
    assert_eq!(json["usage"]["input_tokens"], 321);
    assert_eq!(json["usage"]["output_tokens"], 45);
    let cost = json["usage"]["cost"].as_f64().unwrap();
    assert!(
        (cost - (321.0 * 3.0 + 45.0 * 15.0) / 1e6).abs() < 1e-12,
        "{cost}"
    );
    // Without --host the model is told no host is attached, and no facts are gathered.
    let system = fake.requests()[0].json()["messages"][0]["content"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        system.contains("No terminal or host is attached"),
        "{system}"
    );
    assert!(!system.contains("the host's facts"), "{system}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vault_value_in_pane_text_or_question_is_never_sent() {
    let env = Env::new();
    env.vault_with_secret().await;
    let pane = env.file("pane.txt");
    std::fs::write(
        &pane,
        format!("$ cat .env\nDB_PASS={SECRET}\n\x1b[8m{SECRET}\x1b[0m\n$ mysql -p{SECRET}\n"),
    )
    .unwrap();
    let fake = FakeServer::start(vec![proposing("uptime")]).await;
    env.config(&fake, "");
    let pass = env.file("pass");
    let question = format!("is {SECRET} a good password?");
    let args = [
        "ai",
        "ask",
        "--passphrase-file",
        pass.to_str().unwrap(),
        "--pane-text",
        pane.to_str().unwrap(),
        &question,
    ];
    let out = env.lumen(&args, None).await;
    ok(&out);
    let requests = fake.requests();
    assert_eq!(requests.len(), 1);
    let raw = &requests[0].raw;
    assert!(!contains(raw, SECRET), "a vault value was sent");
    assert!(
        !contains(raw, "Sup3r-S3cret"),
        "part of a vault value was sent"
    );
    assert!(
        contains(raw, "{{vault:db/root}}"),
        "no placeholder in the request"
    );
    assert!(contains(raw, "mysql -p"), "the pane text was not sent");
    // Nor is it written to the history.
    let history = std::fs::read(env.workspace().join("ai/cli.jsonl")).unwrap();
    assert!(!contains(&history, SECRET));
    assert!(contains(&history, "{{vault:db/root}}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_with_ai_off_is_refused_before_anything_is_sent() {
    let env = Env::new();
    let fake = FakeServer::start(vec![proposing("uptime")]).await;
    env.config(&fake, "");
    env.hosts("[hosts.vault1]\nhostname = \"127.0.0.1\"\ngroups = [\"secure\"]\n[groups.secure]\nai = \"off\"\n");
    for cmd in ["ask", "context"] {
        let out = env
            .lumen(&["ai", cmd, "--host", "vault1", "anything?"], None)
            .await;
        assert!(!out.status.success(), "{cmd}");
        assert!(
            stderr(&out).contains("the copilot is off for vault1 (ai = \"off\" in hosts.toml)"),
            "{cmd}: {}",
            stderr(&out)
        );
        assert!(out.stdout.is_empty(), "{cmd}");
    }
    assert_eq!(fake.attempts(), 0);
    assert!(
        !env.workspace().join("ai").exists(),
        "a history was written"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_key_is_said_in_words_and_fails() {
    let env = Env::new();
    let fake = FakeServer::start(vec![Reply::status(
        401,
        r#"{"error":{"message":"Incorrect API key provided","type":"invalid_request_error"}}"#,
    )])
    .await;
    env.config(&fake, "api_key = \"env:LUMEN_TEST_KEY\"\n");
    let out = env.lumen(&["ai", "ask", "hello"], None).await;
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("refused the API key (HTTP 401"), "{err}");
    assert!(err.contains("Incorrect API key provided"), "{err}");
    assert!(err.contains("config.toml"), "{err}");
    assert!(
        !err.contains("sk-test-not-a-real-key"),
        "the key was shown: {err}"
    );
    assert_eq!(fake.attempts(), 1, "a 401 is not retried");
    // The key went, in its header, to its own provider only.
    assert_eq!(
        fake.requests()[0].header("authorization"),
        Some("Bearer sk-test-not-a-real-key-1234567890")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn context_prints_the_redacted_request_and_sends_nothing() {
    let env = Env::new();
    env.vault_with_secret().await;
    let _sshd = ssh_host(&env, "");
    let fake = FakeServer::start(vec![proposing("uptime")]).await;
    env.config(&fake, "");
    let pane = env.file("pane.txt");
    std::fs::write(
        &pane,
        format!("$ df -h\n/dev/sda1 98% /\nexport PW={SECRET}\n"),
    )
    .unwrap();
    let pass = env.file("pass");
    let common = [
        "--host",
        "web1",
        "--passphrase-file",
        pass.to_str().unwrap(),
        "--pane-text",
        pane.to_str().unwrap(),
    ];
    let mut args = vec!["ai", "context"];
    args.extend(common);
    let text = ok(&env.lumen(&args, None).await);
    assert!(
        text.contains(&format!("posted to {}/v1/chat/completions", fake.url())),
        "{text}"
    );
    assert!(
        text.contains("=== system ===") && text.contains("=== tools ==="),
        "{text}"
    );
    assert!(text.contains("/dev/sda1 98% /"), "{text}");
    assert!(text.contains("export PW={{vault:db/root}}"), "{text}");
    assert!(
        text.contains(&format!("hostname: {}", this_hostname())),
        "{text}"
    );
    assert!(
        text.contains("propose_command") && text.contains("read_scrollback"),
        "{text}"
    );
    assert!(!text.contains(SECRET));
    // --json with a question: the wire body, the same one `ask` posts.
    let mut args = vec!["ai", "context", "--json"];
    args.extend(common);
    args.push("why full?");
    let json: Value = serde_json::from_str(&ok(&env.lumen(&args, None).await)).unwrap();
    assert_eq!(json["provider"], "openai-compatible");
    assert_eq!(json["url"], format!("{}/v1/chat/completions", fake.url()));
    assert_eq!(json["body"]["model"], MODEL);
    assert_eq!(json["body"]["stream"], true);
    assert_eq!(json["body"]["messages"][1]["content"], "why full?");
    assert_eq!(json["body"]["tools"].as_array().unwrap().len(), 2);
    assert!(json["masked"].as_u64().unwrap() >= 1);
    assert!(!json.to_string().contains(SECRET));
    assert_eq!(fake.attempts(), 0, "context sent something");
    assert!(
        !env.workspace().join("ai").exists(),
        "context wrote a history"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_lists_hosts_and_one_hosts_records() {
    let env = Env::new();
    let empty = ok(&env.lumen(&["ai", "history"], None).await);
    assert!(
        empty.starts_with("no copilot conversations saved yet"),
        "{empty}"
    );
    let fake = FakeServer::start(vec![proposing("df -h"), proposing("free -m")]).await;
    env.config(&fake, "");
    ok(&env.lumen(&["ai", "ask", "disk?"], None).await);
    ok(&env.lumen(&["ai", "ask", "memory?"], None).await);
    let list = ok(&env.lumen(&["ai", "history"], None).await);
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(lines.len(), 2, "{list}");
    assert!(lines[0].starts_with("HOST"), "{list}");
    let row: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(&row[..2], ["cli", "6"], "{list}");
    let one = ok(&env.lumen(&["ai", "history", "cli"], None).await);
    for needle in [
        "question\n    disk?",
        &format!("answer\n    {ANSWER}"),
        "proposal (risk low, not-run)\n    df -h",
        "question\n    memory?",
        "free -m",
    ] {
        assert!(one.contains(needle), "{needle:?} in {one}");
    }
    let json: Value = serde_json::from_str(&ok(&env
        .lumen(&["ai", "history", "--json", "cli"], None)
        .await))
    .unwrap();
    let kinds: Vec<&str> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "question", "answer", "proposal", "question", "answer", "proposal"
        ]
    );
    let path = env.workspace().join("ai/cli.jsonl");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let none = ok(&env.lumen(&["ai", "history", "db9"], None).await);
    assert!(
        none.starts_with("no copilot conversations saved for db9"),
        "{none}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn privacy_names_the_history_files_and_what_is_sent() {
    let env = Env::new();
    let text = ok(&env.lumen(&["--privacy"], None).await);
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for needle in [
        "workspaces/<name>/ai/<host>.jsonl",
        "lumen ai history [HOST]",
        "lumen ai context` prints exactly what would be sent, and sends nothing",
        "the host's facts: OS, kernel, hostname, addresses and uptime",
        "Vault values never go",
        "ai = \"off\"",
    ] {
        assert!(text.contains(needle), "{needle:?} missing from --privacy");
    }
}
