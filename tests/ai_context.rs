//! The real `lumen ai context` (the redacted request shown, nothing sent: the recording fake
//! provider receives no byte), `lumen ai history` over conversations `ask` saved, and
//! `lumen --privacy` naming the history files and what is sent.
#![allow(clippy::unwrap_used)]

mod ai_support;
mod common;

use ai_support::*;
use common::fake_ai::FakeServer;
use serde_json::Value;

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
    assert_eq!(json["body"]["tools"].as_array().unwrap().len(), 3);
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
