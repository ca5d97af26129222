//! Hermetic SSH tests against lumen's embedded server: PTY shell, resize, exec,
//! keyboard-interactive rounds, host-key prompts, disconnect and reconnect.
#![allow(clippy::unwrap_used)]

mod common;

use common::{Answers, auto_answer, read_to_close, read_until};
use lumen::pty::PtyCommand;
use lumen::ssh::known_hosts;
use lumen::ssh::{
    ConnectOptions, EmbeddedServer, EmbeddedServerOptions, HostKeyDecision, KiRound, PromptKind,
    SshError, exec, open_session, spawn_session,
};
use lumen::stream::{CloseReason, Waker};

fn sh_options() -> EmbeddedServerOptions {
    let mut shell = PtyCommand::new("/bin/sh");
    shell.env = vec![("PS1".into(), "$ ".into())];
    EmbeddedServerOptions {
        shell,
        ..Default::default()
    }
}

/// Options that trust the server's host key and use its client key.
fn trusting(server: &EmbeddedServer, dir: &tempfile::TempDir) -> ConnectOptions {
    server
        .client_options(&dir.path().join("known_hosts"))
        .unwrap()
}

#[tokio::test]
async fn shell_runs_commands_and_sees_resizes() {
    let mut options = sh_options();
    options.banner = Some("Authorized use only\n".into());
    let server = EmbeddedServer::start(options).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let opts = trusting(&server, &dir);
    let (prompter, asked) = auto_answer(Answers::default());
    let waker = Waker::new();
    let mut s = open_session(&server.target(None), &opts, prompter, (80, 24), &waker)
        .await
        .unwrap();
    s.handle.write(b"echo hi-$((40+2)); stty size\r");
    let out = read_until(&mut s, "24 80").await;
    assert!(out.contains("hi-42"), "{out}");
    assert!(
        out.starts_with("Authorized use only\r\n"),
        "banner first: {out:?}"
    );
    s.handle.resize(100, 30);
    s.handle.write(b"stty size\r");
    read_until(&mut s, "30 100").await;
    s.handle.write(b"exit 5\r");
    let (_, reason) = read_to_close(&mut s).await;
    assert_eq!(reason, CloseReason::Exited(Some(5)));
    assert!(
        asked.lock().unwrap().is_empty(),
        "a known host asks nothing"
    );
}

#[tokio::test]
async fn exec_returns_output_and_status() {
    let server = EmbeddedServer::start(sh_options()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let opts = trusting(&server, &dir);
    let (prompter, _) = auto_answer(Answers::default());
    let out = exec(
        &server.target(None),
        &opts,
        &prompter,
        "echo out; echo err >&2; exit 7",
    )
    .await
    .unwrap();
    assert_eq!(out.stdout, b"out\n");
    assert_eq!(out.stderr, b"err\n");
    assert_eq!(out.status, Some(7));
}

#[tokio::test]
async fn keyboard_interactive_rounds_after_the_key() {
    let mut options = sh_options();
    options.keyboard_interactive = vec![
        KiRound {
            name: "Second factor".into(),
            instruction: "Enter your code".into(),
            prompts: vec![("Code: ".into(), false, "123456".into())],
        },
        KiRound {
            name: String::new(),
            instruction: "nothing to ask".into(),
            prompts: vec![],
        },
        KiRound {
            name: "Two".into(),
            instruction: String::new(),
            prompts: vec![
                ("Color: ".into(), true, "blue".into()),
                ("PIN: ".into(), false, "0000".into()),
            ],
        },
    ];
    let server = EmbeddedServer::start(options).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let opts = trusting(&server, &dir);
    let (prompter, asked) = auto_answer(Answers {
        ki_rounds: vec![vec!["123456".into()], vec!["blue".into(), "0000".into()]],
        ..Default::default()
    });
    let out = exec(&server.target(None), &opts, &prompter, "echo in")
        .await
        .unwrap();
    assert_eq!(out.stdout, b"in\n");
    let asked = asked.lock().unwrap().clone();
    assert_eq!(
        asked,
        vec![
            PromptKind::KeyboardInteractive {
                name: "Second factor".into(),
                instruction: "Enter your code".into(),
                prompts: vec![("Code: ".into(), false)],
            },
            PromptKind::KeyboardInteractive {
                name: "Two".into(),
                instruction: String::new(),
                prompts: vec![("Color: ".into(), true), ("PIN: ".into(), false)],
            },
        ]
    );

    let (wrong, _) = auto_answer(Answers {
        ki_rounds: vec![vec!["999999".into()]],
        ..Default::default()
    });
    let e = exec(&server.target(None), &opts, &wrong, "true")
        .await
        .unwrap_err();
    assert!(matches!(e, SshError::AuthExhausted { .. }), "{e}");
}

#[tokio::test]
async fn unknown_host_is_asked_once_then_saved() {
    let server = EmbeddedServer::start(sh_options()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let kh = dir.path().join("known_hosts");
    let mut opts = ConnectOptions::isolated(&kh);
    opts.keys = vec![server.client_key.clone()];
    let target = server.target(None);

    let (reject, _) = auto_answer(Answers {
        host_key: Some(HostKeyDecision::Reject),
        ..Default::default()
    });
    let e = exec(&target, &opts, &reject, "true").await.unwrap_err();
    assert!(matches!(e, SshError::HostKeyRejected { .. }), "{e}");

    let (once, asked) = auto_answer(Answers {
        host_key: Some(HostKeyDecision::AcceptOnce),
        ..Default::default()
    });
    exec(&target, &opts, &once, "true").await.unwrap();
    assert_eq!(asked.lock().unwrap().len(), 1);
    assert!(!kh.exists(), "accept once saves nothing");

    let (save, asked) = auto_answer(Answers {
        host_key: Some(HostKeyDecision::AcceptAndSave),
        ..Default::default()
    });
    exec(&target, &opts, &save, "true").await.unwrap();
    match &asked.lock().unwrap()[..] {
        [
            PromptKind::UnknownHostKey {
                port,
                key_type,
                fingerprint,
                ..
            },
        ] => {
            assert_eq!(*port, server.port());
            assert_eq!(key_type, "ED25519");
            assert_eq!(
                *fingerprint,
                lumen::ssh::fingerprint::sha256(&server.host_key)
            );
        }
        other => panic!("expected one host-key prompt, got {other:?}"),
    }
    let (again, asked) = auto_answer(Answers::default());
    exec(&target, &opts, &again, "true").await.unwrap();
    assert!(asked.lock().unwrap().is_empty());
}

#[tokio::test]
async fn changed_host_key_is_refused_with_both_fingerprints() {
    let server = EmbeddedServer::start(sh_options()).await.unwrap();
    let other = EmbeddedServer::start(sh_options()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let kh = dir.path().join("known_hosts");
    known_hosts::add(&kh, "127.0.0.1", server.port(), &other.host_key).unwrap();
    let mut opts = ConnectOptions::isolated(&kh);
    opts.keys = vec![server.client_key.clone()];
    let (prompter, asked) = auto_answer(Answers {
        host_key: Some(HostKeyDecision::AcceptAndSave),
        ..Default::default()
    });
    let e = exec(&server.target(None), &opts, &prompter, "true")
        .await
        .unwrap_err();
    let SshError::HostKeyChanged(changed) = &e else {
        panic!("expected a changed key, got {e}");
    };
    assert_eq!(
        changed.old_fingerprint,
        lumen::ssh::fingerprint::sha256(&other.host_key)
    );
    assert_eq!(
        changed.new_fingerprint,
        lumen::ssh::fingerprint::sha256(&server.host_key)
    );
    assert_eq!(changed.line, 1);
    assert!(
        e.to_string()
            .contains(&format!("lumen hosts forget 127.0.0.1:{}", server.port()))
    );
    assert!(asked.lock().unwrap().is_empty(), "no override is offered");
}

#[tokio::test]
async fn wrong_client_key_exhausts_auth() {
    let server = EmbeddedServer::start(sh_options()).await.unwrap();
    let other = EmbeddedServer::start(sh_options()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut opts = trusting(&server, &dir);
    opts.keys = vec![other.client_key.clone()];
    let (prompter, _) = auto_answer(Answers::default());
    let e = exec(&server.target(None), &opts, &prompter, "true")
        .await
        .unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, SshError::AuthExhausted { .. }), "{msg}");
    assert!(
        msg.contains("publickey (in-memory key)") && msg.contains("accepts publickey"),
        "{msg}"
    );
}

#[tokio::test]
async fn server_going_away_ends_the_session_and_reconnect_works() {
    let server = EmbeddedServer::start(sh_options()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let opts = trusting(&server, &dir);
    let target = server.target(None);
    let (prompter, _) = auto_answer(Answers::default());
    let waker = Waker::new();
    let mut first = spawn_session(&target, &opts, prompter.clone(), (80, 24), &waker);
    first.handle.write(b"echo first-$((1+1))\r");
    read_until(&mut first, "first-2").await;
    first.handle.write(b"exit\r");
    let (_, reason) = read_to_close(&mut first).await;
    assert_eq!(reason, CloseReason::Exited(Some(0)));

    // Reconnect in the same place: open again.
    let mut second = spawn_session(&target, &opts, prompter.clone(), (80, 24), &waker);
    second.handle.write(b"echo second-$((2+1))\r");
    read_until(&mut second, "second-3").await;
    drop(server);
    let (_, reason) = read_to_close(&mut second).await;
    assert!(
        matches!(
            reason,
            CloseReason::ServerClosed | CloseReason::NetworkLost(_)
        ),
        "{reason:?}"
    );

    let mut third = spawn_session(&target, &opts, prompter, (80, 24), &waker);
    let (_, reason) = read_to_close(&mut third).await;
    match reason {
        // Usually "connection refused"; the freed port may meanwhile belong to another test's
        // server, so only a clear failure naming the host is required here (ssh_openssh tests
        // the refused case on a port held closed).
        CloseReason::Failed(why) => assert!(why.contains("127.0.0.1"), "{why}"),
        other => panic!("expected a failure, got {other:?}"),
    }
}

/// A TCP relay to `upstream` that stops forwarding (without closing) once `freeze` is set:
/// a dead link as keepalives see it.
async fn freezable_relay(
    upstream: std::net::SocketAddr,
    freeze: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> u16 {
    use std::sync::atomic::Ordering;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let (client, _) = listener.accept().await.unwrap();
        let server = tokio::net::TcpStream::connect(upstream).await.unwrap();
        let (mut cr, mut cw) = client.into_split();
        let (mut sr, mut sw) = server.into_split();
        let f1 = freeze.clone();
        let up = async move {
            let mut buf = vec![0u8; 16384];
            while let Ok(n @ 1..) = cr.read(&mut buf).await {
                if !f1.load(Ordering::SeqCst) && sw.write_all(&buf[..n]).await.is_err() {
                    break;
                }
            }
        };
        let down = async move {
            let mut buf = vec![0u8; 16384];
            while let Ok(n @ 1..) = sr.read(&mut buf).await {
                if !freeze.load(Ordering::SeqCst) && cw.write_all(&buf[..n]).await.is_err() {
                    break;
                }
            }
        };
        tokio::join!(up, down);
    });
    port
}

#[tokio::test]
async fn dead_link_ends_with_keepalive_timeout() {
    let server = EmbeddedServer::start(sh_options()).await.unwrap();
    let freeze = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let port = freezable_relay(server.addr, freeze.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let kh = dir.path().join("known_hosts");
    known_hosts::add(&kh, "127.0.0.1", port, &server.host_key).unwrap();
    let mut opts = ConnectOptions::isolated(&kh);
    opts.keys = vec![server.client_key.clone()];
    opts.keepalive_interval = std::time::Duration::from_millis(200);
    opts.keepalive_max = 2;
    let (prompter, _) = auto_answer(Answers::default());
    let waker = Waker::new();
    let target = lumen::ssh::Target::new("u", "127.0.0.1", port);
    let mut s = open_session(&target, &opts, prompter, (80, 24), &waker)
        .await
        .unwrap();
    s.handle.write(b"echo alive-$((3*3))\r");
    read_until(&mut s, "alive-9").await;
    freeze.store(true, std::sync::atomic::Ordering::SeqCst);
    let (_, reason) = read_to_close(&mut s).await;
    assert_eq!(reason, CloseReason::KeepaliveTimeout);
}

#[tokio::test]
async fn silent_server_is_a_connect_timeout() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let held = tokio::spawn(async move {
        let (socket, _) = listener.accept().await.unwrap();
        tokio::time::sleep(std::time::Duration::from_secs(30)).await;
        drop(socket);
    });
    let dir = tempfile::tempdir().unwrap();
    let mut opts = ConnectOptions::isolated(&dir.path().join("known_hosts"));
    opts.connect_timeout = std::time::Duration::from_millis(300);
    let (prompter, _) = auto_answer(Answers::default());
    let target = lumen::ssh::Target::new("u", "127.0.0.1", port);
    let e = exec(&target, &opts, &prompter, "true").await.unwrap_err();
    assert!(matches!(e, SshError::ConnectTimeout { .. }), "{e}");
    held.abort();
}
