//! The real `lumen ai setup` binary, driven by flags and piped stdin as a script would: the
//! [ai] section written into config.toml (the rest of the file kept), the key kept in the
//! vault and in no file in plain text, and a question then asked with it to a fake Anthropic
//! on loopback. An existing section is not replaced without --force; nothing is asked without
//! a terminal. And `lumen ai ask` says a missing `env:` key before it asks the host anything.
#![allow(clippy::unwrap_used)]

mod ai_support;
mod common;

use ai_support::*;
use common::fake_ai::{FakeServer, says_as};
use lumen::ai::config::AiConfig;
use lumen::ai::provider::{KeySource, ProviderKind};
use std::path::Path;

const KEY: &str = "sk-ant-setup-test-0123456789abcdef";

/// Every file under `dir` whose bytes hold `needle`.
fn files_holding(dir: &Path, needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files_holding(&path, needle));
        } else if std::fs::read(&path).is_ok_and(|b| contains(&b, needle)) {
            found.push(path.display().to_string());
        }
    }
    found
}

async fn empty_vault(env: &Env) {
    let pass = env.file("pass");
    let init = [
        "vault",
        "--passphrase-file",
        pass.to_str().unwrap(),
        "init",
        "--kdf-memory",
        "64",
        "--kdf-time",
        "1",
        "--kdf-lanes",
        "1",
    ];
    ok(&env.lumen(&init, None).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setup_writes_the_section_and_keeps_the_key_in_the_vault_only() {
    let env = Env::new();
    empty_vault(&env).await;
    let config = env.lumen_home().join("config/config.toml");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::write(&config, "# my settings\ntheme = \"default\"\n").unwrap();
    let fake = FakeServer::start(vec![says_as(ProviderKind::Anthropic, "Hello.")]).await;
    let pass = env.file("pass");
    let args = [
        "ai",
        "setup",
        "--provider",
        "anthropic",
        "--model",
        "claude-test",
        "--base-url",
        &fake.url(),
        "--key-stdin",
        "--passphrase-file",
        pass.to_str().unwrap(),
    ];
    let out = ok(&env.lumen(&args, Some(&format!("{KEY}\n"))).await);
    assert!(out.contains("vault:anthropic"), "{out}");

    let text = std::fs::read_to_string(&config).unwrap();
    assert!(
        text.starts_with("# my settings\ntheme = \"default\"\n"),
        "{text}"
    );
    let ai = AiConfig::parse("config.toml", &text).unwrap().unwrap();
    assert_eq!(ai.profile.provider, ProviderKind::Anthropic);
    assert_eq!(ai.profile.model, "claude-test");
    assert_eq!(
        ai.profile.api_key,
        Some(KeySource::Vault("anthropic".into()))
    );
    // In no file in plain text: not config.toml, not the vault, its log, or anything else.
    assert_eq!(
        files_holding(env.file("").as_path(), KEY),
        Vec::<String>::new()
    );

    let show = [
        "vault",
        "--passphrase-file",
        pass.to_str().unwrap(),
        "show",
        "anthropic",
        "--reveal",
    ];
    let shown = ok(&env.lumen(&show, None).await);
    assert!(shown.contains("api-key") && shown.contains(KEY), "{shown}");

    // The copilot's command line uses it: the key goes in Anthropic's header, once.
    let ask = [
        "ai",
        "ask",
        "--passphrase-file",
        pass.to_str().unwrap(),
        "hello?",
    ];
    let answer = ok(&env.lumen(&ask, None).await);
    assert_eq!(answer.trim(), "Hello.");
    let sent = &fake.requests()[0];
    assert_eq!(sent.header("x-api-key"), Some(KEY));
    assert!(contains(&sent.body, "claude-test"));
    assert!(!contains(&sent.body, KEY));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setup_keeps_an_existing_section_and_asks_nothing_without_a_terminal() {
    let env = Env::new();
    let config = env.lumen_home().join("config/config.toml");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    let before = "[ai]\nprovider = \"xai\"\nmodel = \"grok-4\"\napi_key = \"env:XAI_API_KEY\"\n";
    std::fs::write(&config, before).unwrap();
    let args = [
        "ai",
        "setup",
        "--provider",
        "gemini",
        "--key-env",
        "GEMINI_API_KEY",
    ];
    let out = env.lumen(&args, None).await;
    assert!(!out.status.success());
    assert!(stderr(&out).contains("--force"), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&config).unwrap(), before);

    // With --force the provider, model and key change; the model is the provider's default.
    let forced = [
        "ai",
        "setup",
        "--force",
        "--provider",
        "gemini",
        "--key-env",
        "GEMINI_API_KEY",
        "--model",
        "gemini-2.5-pro",
    ];
    ok(&env.lumen(&forced, None).await);
    let ai = AiConfig::parse("c", &std::fs::read_to_string(&config).unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(ai.profile.provider, ProviderKind::Gemini);
    assert_eq!(
        ai.profile.api_key,
        Some(KeySource::Env("GEMINI_API_KEY".into()))
    );

    // No terminal and no --provider: it says which flag, and changes nothing.
    std::fs::remove_file(&config).unwrap();
    let out = env.lumen(&["ai", "setup"], None).await;
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("give it as a flag"),
        "{}",
        stderr(&out)
    );
    assert!(!config.exists());
    // No terminal to ask for the key on: which flags give it.
    let out = env
        .lumen(
            &["ai", "setup", "--provider", "openai", "--model", "gpt-5"],
            None,
        )
        .await;
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("--key-stdin") && stderr(&out).contains("--key-env"),
        "{}",
        stderr(&out)
    );
    assert!(!config.exists());
    // A key for the vault with no vault yet: what to do, and nothing written.
    let out = env
        .lumen(
            &[
                "ai",
                "setup",
                "--provider",
                "openai",
                "--model",
                "gpt-5",
                "--key-stdin",
            ],
            Some(KEY),
        )
        .await;
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("lumen vault init"),
        "{}",
        stderr(&out)
    );
    assert!(!config.exists());
}

/// `api_key = "env:…"` naming an unset variable: `lumen ai ask --host` fails saying so
/// before it connects to the host for its facts (the "host" is a listener that counts).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ask_says_a_missing_env_key_before_it_connects_to_the_host() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let env = Env::new();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let connections = std::sync::Arc::new(AtomicUsize::new(0));
    let counted = connections.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            counted.fetch_add(1, Ordering::SeqCst);
            drop(stream);
        }
    });
    env.hosts(&format!(
        "[hosts.web1]\nhostname = \"127.0.0.1\"\nport = {port}\n"
    ));
    let fake = FakeServer::start(Vec::new()).await;
    env.config_for(
        "openai",
        &format!("{}/v1", fake.url()),
        "api_key = \"env:LUMEN_TEST_UNSET_KEY_7Q2\"\n",
    );
    let out = env
        .lumen(&["ai", "ask", "--host", "web1", "why?"], None)
        .await;
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("LUMEN_TEST_UNSET_KEY_7Q2"), "{err}");
    assert!(!err.contains("facts"), "{err}");
    assert_eq!(connections.load(Ordering::SeqCst), 0, "{err}");
    assert_eq!(fake.attempts(), 0);
}

/// On a terminal `lumen ai setup` asks for what the flags leave out: the provider, the model
/// (a current one offered), the key with echo off, the vault's passphrase.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setup_asks_on_a_terminal_and_never_shows_the_key() {
    let env = Env::new();
    empty_vault(&env).await;
    let t = common::tmux::Tmux::lumen(
        env.file("").as_path(),
        120,
        30,
        "ai setup; echo SETUP_EXIT=$?; sleep 30",
    );
    t.wait_text("provider (anthropic, openai, gemini, xai, openai-compatible):");
    t.type_text("openai");
    t.keys(&["Enter"]);
    t.wait_text("model [gpt-5]:");
    t.keys(&["Enter"]);
    t.wait_text("OpenAI API key (kept in the vault, never in config.toml):");
    t.type_text(KEY);
    t.keys(&["Enter"]);
    t.wait_text("passphrase for the personal vault:");
    t.type_text(VAULT_PASS);
    t.keys(&["Enter"]);
    let s = t.wait_text("SETUP_EXIT=");
    assert!(s.contains("SETUP_EXIT=0"), "{s}");
    assert!(!s.contains(KEY) && !s.contains(VAULT_PASS), "{s}");
    t.kill_server();
    let config = env.lumen_home().join("config/config.toml");
    let ai = AiConfig::parse("c", &std::fs::read_to_string(&config).unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(ai.profile.provider, ProviderKind::OpenAi);
    assert_eq!(ai.profile.model, "gpt-5");
    assert_eq!(ai.profile.api_key, Some(KeySource::Vault("openai".into())));
    assert_eq!(
        files_holding(env.file("").as_path(), KEY),
        Vec::<String>::new()
    );
}
