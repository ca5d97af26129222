//! Per-host identities from ssh_config, as ssh uses them: `IdentitiesOnly` limits the agent to
//! the configured key files (a key in the agent and on disk is used through the agent).
#![allow(clippy::unwrap_used)]

mod common;

use common::{Answers, Sshd, TestAgent, auto_answer, keygen};
use lumen::ssh::config::ResolveOptions;
use lumen::ssh::{ConnectOptions, JumpPool, PromptKind, plan};
use lumen::workspace::Inventory;
use std::path::Path;

fn resolve_options(dir: &Path, config: &str) -> ResolveOptions {
    std::fs::write(dir.join("config"), config).unwrap();
    ResolveOptions {
        config_file: Some(dir.join("config")),
        home_dir: dir.to_path_buf(),
        local_user: lumen::ssh::target::local_user(),
        ..ResolveOptions::default()
    }
}

fn host(sshd: &Sshd, key: &Path, only: &str) -> String {
    let kh = sshd.path("kh");
    sshd.known_hosts_file(&kh);
    format!(
        "Host db1\n  HostName 127.0.0.1\n  Port {}\n  User {}\n  IdentityFile {}\n  \
         IdentitiesOnly {only}\n  UserKnownHostsFile {}\n",
        sshd.port,
        lumen::ssh::target::local_user(),
        key.display(),
        kh.display()
    )
}

/// Connect to db1 with the agent; the error text, or None on success, and the prompts asked.
async fn login(dir: &Path, config: &str, agent: &TestAgent) -> (Option<String>, Vec<PromptKind>) {
    let ropts = resolve_options(dir, config);
    let mut base = ConnectOptions::isolated(&dir.join("lumen_kh"));
    base.agent_socket = Some(agent.socket.clone());
    let p = plan("db1", &Inventory::default(), &ropts, &base).unwrap();
    let (prompter, asked) = auto_answer(Answers::default());
    let r = JumpPool::new().connect(&p, &prompter).await;
    let asked = asked.lock().unwrap().clone();
    (r.err().map(|e| e.to_string()), asked)
}

#[tokio::test]
async fn identities_only_limits_the_agent_to_the_configured_keys() {
    let sshd = Sshd::start("").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let authorized = dir.path().join("authorized_key");
    let other = dir.path().join("other_key");
    keygen(&authorized, "ed25519", "");
    keygen(&other, "ed25519", "");
    sshd.authorize(&authorized.with_extension("pub"));
    let agent = TestAgent::start(dir.path(), &[&authorized]);

    // The configured file is not authorized; the agent's key is, but IdentitiesOnly hides it.
    let (err, _) = login(dir.path(), &host(&sshd, &other, "yes"), &agent).await;
    let err = err.expect("the agent's other key must not be offered");
    assert!(!err.contains("agent"), "{err}");
    // Without IdentitiesOnly the agent's key logs in.
    let (err, _) = login(dir.path(), &host(&sshd, &other, "no"), &agent).await;
    assert_eq!(err, None);
}

#[tokio::test]
async fn a_configured_key_held_by_the_agent_needs_no_passphrase() {
    let sshd = Sshd::start("").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("plain_key");
    keygen(&plain, "ed25519", "");
    sshd.authorize(&plain.with_extension("pub"));
    let agent = TestAgent::start(dir.path(), &[&plain]);
    // The same key on disk, encrypted: only reachable without a prompt through the agent.
    let encrypted = dir.path().join("encrypted_key");
    std::fs::copy(&plain, &encrypted).unwrap();
    let ok = std::process::Command::new("ssh-keygen")
        .args(["-q", "-p", "-N", "secret-pass", "-P", "", "-f"])
        .arg(&encrypted)
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap()
        .success();
    assert!(ok);
    std::fs::remove_file(plain.with_extension("pub")).ok();
    let (err, asked) = login(dir.path(), &host(&sshd, &encrypted, "yes"), &agent).await;
    assert_eq!(err, None);
    assert!(asked.is_empty(), "no passphrase asked: {asked:?}");
}
