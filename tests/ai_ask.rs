//! The real `lumen ai ask` binary against a fake OpenAI-compatible provider on loopback that
//! records every request byte, and a real OpenSSH `sshd` for `--host` facts: the answer and
//! proposals printed (text and JSON) and nothing run, vault values never in a sent byte,
//! `ai = "off"` refused before anything is sent, a 401 in words.
#![allow(clippy::unwrap_used)]

mod ai_support;
mod common;

use ai_support::*;
use common::fake_ai::{FakeServer, Reply};
use serde_json::{Value, json};

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

/// A turn that asks for the last `lines` of scrollback, then one that answers `text`.
fn scrollback_then(lines: u64, text: &str) -> Vec<Reply> {
    let chunk = |delta: Value, finish: Value| {
        json!({"id":"c","object":"chat.completion.chunk","created":1,"model":MODEL,
               "choices":[{"index":0,"delta":delta,"finish_reason":finish}]})
    };
    let args = json!({ "lines": lines }).to_string();
    vec![
        Reply::sse(&common::fake_ai::data_events_done(&[
            chunk(
                json!({"tool_calls":[{"index":0,"id":"call_s","type":"function",
                                      "function":{"name":"read_scrollback","arguments":args}}]}),
                Value::Null,
            ),
            chunk(json!({}), json!("tool_calls")),
        ])),
        Reply::sse(&common::fake_ai::data_events_done(&[chunk(
            json!({"role":"assistant","content":text}),
            json!("stop"),
        )])),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_scrollback_is_served_redacted_and_the_answer_follows() {
    let env = Env::new();
    env.vault_with_secret().await;
    let pane = env.file("pane.txt");
    let mut text: String = (0..300).map(|i| format!("log line {i}\n")).collect();
    text.push_str(&format!("token={SECRET}\nlast line\n"));
    std::fs::write(&pane, text).unwrap();
    // Only 20 lines go with each request; the model asks for 5 more than that.
    let fake = FakeServer::start(scrollback_then(25, "Nothing alarming in the log.")).await;
    env.config(&fake, "context_lines = 20\n");
    let pass = env.file("pass");
    let args = [
        "ai",
        "ask",
        "--passphrase-file",
        pass.to_str().unwrap(),
        "--pane-text",
        pane.to_str().unwrap(),
        "anything odd?",
    ];
    let out = ok(&env.lumen(&args, None).await);
    assert_eq!(out.trim(), "Nothing alarming in the log.");
    let requests = fake.requests();
    assert_eq!(requests.len(), 2);
    let first = requests[0].json();
    // The pane text rides in the latest user turn.
    let screen = first["messages"].as_array().unwrap().last().unwrap()["content"]
        .as_str()
        .unwrap();
    assert!(screen.contains("last line"), "{screen}");
    assert!(
        !screen.contains("log line 250\n"),
        "more than context_lines were sent"
    );
    let second = requests[1].json();
    let messages = second["messages"].as_array().unwrap();
    let (screen, messages) = messages.split_last().unwrap();
    assert_eq!(screen["role"], "user");
    let result = messages.last().unwrap();
    assert_eq!(result["role"], "tool");
    assert_eq!(result["tool_call_id"], "call_s");
    let content = result["content"].as_str().unwrap();
    let lines: Vec<&str> = content.lines().collect();
    assert_eq!(lines.len(), 25, "{content}");
    assert_eq!(lines[0], "log line 277");
    assert_eq!(lines[23], "token={{vault:db/root}}");
    assert_eq!(lines[24], "last line");
    for r in &requests {
        assert!(!r.raw.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()));
    }
}

/// On a terminal, `lumen ai ask` says why it asks for the vault's passphrase before asking,
/// then asks the model once the vault is open (issue 21: it asked without saying why).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ask_says_why_it_wants_the_vault_passphrase() {
    let env = Env::new();
    env.vault_with_secret().await;
    let fake = FakeServer::start(vec![common::fake_ai::openai_says("the answer is 42")]).await;
    env.config(&fake, "");
    let vars = [
        ("HOME", env.home().display().to_string()),
        ("LUMEN_HOME", env.lumen_home().display().to_string()),
        ("SSH_AUTH_SOCK", String::new()),
    ];
    let command = format!(
        "{} ai ask 'what now?'; sleep 30",
        env!("CARGO_BIN_EXE_lumen")
    );
    let dir = env.file("tmux");
    std::fs::create_dir_all(&dir).unwrap();
    let t = tokio::task::spawn_blocking(move || {
        let t = common::tmux::Tmux::start(&dir, 160, 20, &vars, &command);
        let s = t.wait_text("passphrase for the personal vault");
        assert!(
            s.contains("masks the personal vault's values in what it sends to the model"),
            "{s}"
        );
        t.type_text(VAULT_PASS);
        t.keys(&["Enter"]);
        t.wait_text("the answer is 42");
        t
    })
    .await
    .unwrap();
    drop(t);
    assert_eq!(fake.attempts(), 1);
}
