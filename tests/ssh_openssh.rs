//! Interop with a real OpenSSH `sshd` on loopback: key auth with each key type (RSA with
//! rsa-sha2), an encrypted key, ssh-agent (and `-A` forwarding), password auth, host-key
//! prompts and changes, a PTY session.
#![allow(clippy::unwrap_used)]

mod common;

use common::{Answers, Sshd, auto_answer, keygen, read_until};
use lumen::ssh::known_hosts;
use lumen::ssh::{
    ConnectOptions, HostKeyDecision, PromptKind, SshError, Target, exec, open_session,
};
use lumen::stream::Waker;
use russh::keys::PublicKey;
use std::path::{Path, PathBuf};

fn me() -> String {
    lumen::ssh::target::local_user()
}

fn target(sshd: &Sshd, user: &str) -> Target {
    Target::new(user, "127.0.0.1", sshd.port)
}

/// Options that trust the sshd's keys through a "user" known_hosts in its directory.
fn trusting(sshd: &Sshd) -> ConnectOptions {
    let ssh_dir = sshd.path("dot-ssh");
    std::fs::create_dir_all(&ssh_dir).unwrap();
    sshd.known_hosts_file(&ssh_dir.join("known_hosts"));
    let mut opts = ConnectOptions::isolated(&sshd.path("lumen_known_hosts"));
    opts.ssh_dir = Some(ssh_dir);
    opts
}

fn client_key(sshd: &Sshd, kind: &str, passphrase: &str) -> PathBuf {
    let key = sshd.path(&format!("client_{kind}"));
    keygen(&key, kind, passphrase);
    sshd.authorize(&key.with_extension("pub"));
    key
}

#[tokio::test]
async fn key_auth_with_each_key_type() {
    let Some(sshd) = Sshd::start("") else { return };
    for kind in ["ed25519", "ecdsa", "rsa"] {
        let key = client_key(&sshd, kind, "");
        let mut opts = trusting(&sshd);
        opts.identity_files = vec![key];
        let (prompter, asked) = auto_answer(Answers::default());
        let out = exec(&target(&sshd, &me()), &opts, &prompter, "echo ok-$((6*7))")
            .await
            .unwrap_or_else(|e| panic!("{kind}: {e}"));
        assert_eq!(out.stdout, b"ok-42\n", "{kind}");
        assert_eq!(out.status, Some(0));
        assert!(asked.lock().unwrap().is_empty(), "{kind}: nothing to ask");
    }
}

#[tokio::test]
async fn default_identity_from_ssh_dir() {
    let Some(sshd) = Sshd::start("") else { return };
    let opts = trusting(&sshd);
    let ssh_dir = opts.ssh_dir.clone().unwrap();
    keygen(&ssh_dir.join("id_ecdsa"), "ecdsa", "");
    sshd.authorize(&ssh_dir.join("id_ecdsa.pub"));
    let (prompter, _) = auto_answer(Answers::default());
    let out = exec(&target(&sshd, &me()), &opts, &prompter, "echo default")
        .await
        .unwrap();
    assert_eq!(out.stdout, b"default\n");
}

#[tokio::test]
async fn encrypted_key_asks_for_the_passphrase() {
    let Some(sshd) = Sshd::start("") else { return };
    let key = client_key(&sshd, "ed25519", "correct horse");
    let mut opts = trusting(&sshd);
    opts.identity_files = vec![key.clone()];
    let (prompter, asked) = auto_answer(Answers {
        passphrases: vec!["wrong".into(), "correct horse".into()],
        ..Default::default()
    });
    let out = exec(&target(&sshd, &me()), &opts, &prompter, "echo unlocked")
        .await
        .unwrap();
    assert_eq!(out.stdout, b"unlocked\n");
    let asked = asked.lock().unwrap().clone();
    let attempts: Vec<u8> = asked
        .iter()
        .map(|k| match k {
            PromptKind::Passphrase { attempt, key_path } => {
                assert_eq!(key_path, &key.display().to_string());
                *attempt
            }
            other => panic!("unexpected prompt {other:?}"),
        })
        .collect();
    assert_eq!(attempts, vec![1, 2]);

    let (wrong, _) = auto_answer(Answers {
        passphrases: vec!["a".into(), "b".into(), "c".into()],
        ..Default::default()
    });
    let e = exec(&target(&sshd, &me()), &opts, &wrong, "true")
        .await
        .unwrap_err();
    assert!(matches!(e, SshError::WrongPassphrase { .. }), "{e}");
}

#[tokio::test]
async fn malformed_explicit_key_names_the_file() {
    let Some(sshd) = Sshd::start("") else { return };
    let bad = sshd.path("not_a_key");
    std::fs::write(&bad, "-----BEGIN OPENSSH PRIVATE KEY-----\ngarbage\n").unwrap();
    let mut opts = trusting(&sshd);
    opts.identity_files = vec![bad.clone()];
    let (prompter, _) = auto_answer(Answers::default());
    let e = exec(&target(&sshd, &me()), &opts, &prompter, "true")
        .await
        .unwrap_err();
    assert!(matches!(e, SshError::MalformedKey { .. }), "{e}");
    assert!(e.to_string().contains(&bad.display().to_string()), "{e}");
}

#[tokio::test]
async fn agent_auth_and_forwarding_only_with_dash_a() {
    let Some(sshd) = Sshd::start("") else { return };
    let key = client_key(&sshd, "rsa", "");
    let agent = common::TestAgent::start(sshd.dir.path(), &[key.as_path()]);
    let mut opts = trusting(&sshd);
    opts.agent_socket = Some(agent.socket.clone());
    let (prompter, _) = auto_answer(Answers::default());
    let out = exec(&target(&sshd, &me()), &opts, &prompter, "ssh-add -l")
        .await
        .unwrap();
    assert_ne!(out.status, Some(0), "no agent on the server without -A");

    opts.forward_agent = true;
    let out = exec(&target(&sshd, &me()), &opts, &prompter, "ssh-add -l")
        .await
        .unwrap();
    let listed = String::from_utf8_lossy(&out.stdout);
    let public = PublicKey::from_openssh(
        std::fs::read_to_string(key.with_extension("pub"))
            .unwrap()
            .trim(),
    )
    .unwrap();
    assert!(
        listed.contains(&lumen::ssh::fingerprint::sha256(&public)),
        "forwarded agent lists the key: {listed:?} {:?}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn password_auth_for_a_test_user() {
    let Some(sshd) = Sshd::start("") else { return };
    let Some((user, password)) = common::password_user() else {
        return;
    };
    let opts = trusting(&sshd);
    let (prompter, asked) = auto_answer(Answers {
        password: Some(password),
        ..Default::default()
    });
    let out = exec(&target(&sshd, &user), &opts, &prompter, "id -un")
        .await
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), user);
    assert!(matches!(
        asked.lock().unwrap()[..],
        [PromptKind::Password { .. }]
    ));

    let (wrong, _) = auto_answer(Answers {
        password: Some("not the password".into()),
        ..Default::default()
    });
    let e = exec(&target(&sshd, &user), &opts, &wrong, "true")
        .await
        .unwrap_err();
    assert!(e.to_string().contains("password"), "{e}");
}

#[tokio::test]
async fn host_key_prompt_save_then_silent_then_changed() {
    let Some(sshd) = Sshd::start("") else { return };
    let key = client_key(&sshd, "ed25519", "");
    let lumen_kh = sshd.path("lumen_known_hosts");
    let mut opts = ConnectOptions::isolated(&lumen_kh);
    opts.identity_files = vec![key];
    let t = target(&sshd, &me());

    let (save, asked) = auto_answer(Answers {
        host_key: Some(HostKeyDecision::AcceptAndSave),
        ..Default::default()
    });
    exec(&t, &opts, &save, "true").await.unwrap();
    let fingerprint = match &asked.lock().unwrap()[..] {
        [PromptKind::UnknownHostKey { fingerprint, .. }] => fingerprint.clone(),
        other => panic!("expected one host-key prompt, got {other:?}"),
    };
    let keygen_prints: Vec<String> = sshd
        .host_keys
        .iter()
        .map(|k| common::keygen_fingerprint(k))
        .collect();
    assert!(
        keygen_prints.iter().any(|p| p.contains(&fingerprint)),
        "{fingerprint} not in {keygen_prints:?}"
    );

    let (silent, asked) = auto_answer(Answers::default());
    exec(&t, &opts, &silent, "true").await.unwrap();
    assert!(asked.lock().unwrap().is_empty());

    // Replace the saved key with another key of the same type: refused, no prompt.
    let saved = known_hosts::KnownHosts::load(None, &lumen_kh);
    let old = saved.files[0].entries[0].key.clone();
    known_hosts::forget(&lumen_kh, None, "127.0.0.1", sshd.port).unwrap();
    let other = sshd.path("other_host_key");
    keygen(&other, "ed25519", "");
    let other_key = PublicKey::from_openssh(
        std::fs::read_to_string(other.with_extension("pub"))
            .unwrap()
            .trim(),
    )
    .unwrap();
    assert_eq!(old.algorithm(), other_key.algorithm());
    known_hosts::add(&lumen_kh, "127.0.0.1", sshd.port, &other_key).unwrap();
    let (refuse, asked) = auto_answer(Answers {
        host_key: Some(HostKeyDecision::AcceptAndSave),
        ..Default::default()
    });
    let e = exec(&t, &opts, &refuse, "true").await.unwrap_err();
    assert!(matches!(e, SshError::HostKeyChanged(_)), "{e}");
    assert!(asked.lock().unwrap().is_empty());
}

#[tokio::test]
async fn known_algorithm_is_preferred() {
    let Some(sshd) = Sshd::start("") else { return };
    let key = client_key(&sshd, "ed25519", "");
    // Only the ECDSA host key is known: lumen must ask for ECDSA rather than prompt.
    let ssh_dir = sshd.path("dot-ssh");
    std::fs::create_dir_all(&ssh_dir).unwrap();
    let ecdsa = std::fs::read_to_string(&sshd.host_keys[1]).unwrap();
    assert!(ecdsa.starts_with("ecdsa-"), "{ecdsa}");
    std::fs::write(
        ssh_dir.join("known_hosts"),
        format!("[127.0.0.1]:{} {ecdsa}", sshd.port),
    )
    .unwrap();
    let mut opts = ConnectOptions::isolated(&sshd.path("lumen_known_hosts"));
    opts.ssh_dir = Some(ssh_dir);
    opts.identity_files = vec![key];
    let (prompter, asked) = auto_answer(Answers::default());
    exec(&target(&sshd, &me()), &opts, &prompter, "true")
        .await
        .unwrap();
    assert!(
        asked.lock().unwrap().is_empty(),
        "{:?}",
        asked.lock().unwrap()
    );
}

#[tokio::test]
async fn pty_session_with_resize_and_env() {
    let Some(sshd) = Sshd::start("") else { return };
    let key = client_key(&sshd, "ed25519", "");
    let mut opts = trusting(&sshd);
    opts.identity_files = vec![key];
    opts.env = vec![("LC_LUMEN_TEST".into(), "passed".into())];
    let (prompter, _) = auto_answer(Answers::default());
    let waker = Waker::new();
    let mut s = open_session(&target(&sshd, &me()), &opts, prompter, (80, 24), &waker)
        .await
        .unwrap();
    s.handle
        .write(b"echo env-$LC_LUMEN_TEST term-$TERM; stty size\r");
    let out = read_until(&mut s, "24 80").await;
    assert!(out.contains("env-passed term-xterm-256color"), "{out}");
    s.handle.resize(132, 40);
    s.handle.write(b"stty size\r");
    read_until(&mut s, "40 132").await;
    s.handle.write(b"exit 3\r");
    let (_, reason) = common::read_to_close(&mut s).await;
    assert_eq!(reason, lumen::stream::CloseReason::Exited(Some(3)));
}

#[tokio::test]
async fn connection_errors_are_specific() {
    let opts = ConnectOptions::isolated(Path::new("/nonexistent/known_hosts"));
    let (prompter, _) = auto_answer(Answers::default());
    // A port bound but never listened on refuses connections, and no other test can take it
    // while the socket is held (a freed port could be picked up by a parallel sshd).
    let reserved = tokio::net::TcpSocket::new_v4().unwrap();
    reserved.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let port = reserved.local_addr().unwrap().port();
    let refused = Target::new("u", "127.0.0.1", port);
    let e = exec(&refused, &opts, &prompter, "true").await.unwrap_err();
    drop(reserved);
    assert!(matches!(e, SshError::ConnectionRefused { .. }), "{e}");
    // DNS failures are not exercised: resolving a name could leave the machine.
}

#[tokio::test]
async fn server_closing_during_auth_is_reported() {
    let Some(sshd) = Sshd::start("MaxAuthTries 1") else {
        return;
    };
    let mut opts = trusting(&sshd);
    for name in ["stranger1", "stranger2", "stranger3"] {
        let key = sshd.path(name);
        keygen(&key, "ed25519", "");
        opts.identity_files.push(key);
    }
    let (prompter, _) = auto_answer(Answers::default());
    let e = exec(&target(&sshd, &me()), &opts, &prompter, "true")
        .await
        .unwrap_err();
    assert!(matches!(e, SshError::ServerClosedDuringAuth { .. }), "{e}");
}

#[tokio::test]
async fn encrypted_key_the_server_refuses_is_never_unlocked() {
    let Some(sshd) = Sshd::start("") else { return };
    let stranger = sshd.path("stranger_encrypted");
    keygen(&stranger, "ecdsa", "never asked");
    let good = client_key(&sshd, "ed25519", "");
    let mut opts = trusting(&sshd);
    opts.identity_files = vec![stranger, good];
    let (prompter, asked) = auto_answer(Answers {
        passphrases: vec!["never asked".into()],
        ..Default::default()
    });
    let out = exec(&target(&sshd, &me()), &opts, &prompter, "echo in")
        .await
        .unwrap();
    assert_eq!(out.stdout, b"in\n");
    assert!(
        asked.lock().unwrap().is_empty(),
        "{:?}",
        asked.lock().unwrap()
    );
}

#[tokio::test]
async fn encrypted_rsa_and_ecdsa_keys_sign_after_unlock() {
    let Some(sshd) = Sshd::start("") else { return };
    for kind in ["rsa", "ecdsa"] {
        let key = client_key(&sshd, kind, "pass phrase");
        let mut opts = trusting(&sshd);
        opts.identity_files = vec![key];
        let (prompter, asked) = auto_answer(Answers {
            passphrases: vec!["pass phrase".into()],
            ..Default::default()
        });
        let out = exec(&target(&sshd, &me()), &opts, &prompter, "echo in")
            .await
            .unwrap_or_else(|e| panic!("{kind}: {e}"));
        assert_eq!(out.stdout, b"in\n", "{kind}");
        assert_eq!(asked.lock().unwrap().len(), 1, "{kind}");
    }
}
