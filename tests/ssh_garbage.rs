//! A "server" that answers with garbage instead of SSH: a clear error, never a panic or a hang.
#![allow(clippy::unwrap_used)]

use lumen::ssh::{ConnectOptions, Prompter, Target, connect};
use std::time::Duration;
use tokio::io::AsyncWriteExt;

async fn serve_once(reply: Vec<u8>) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        if let Ok((mut sock, _)) = listener.accept().await {
            let _ = sock.write_all(&reply).await;
            let _ = sock.flush().await;
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    port
}

#[tokio::test]
async fn garbage_instead_of_a_banner_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut seed = 0x9e37_79b9_u32;
    let garbage: Vec<u8> = (0..4096)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            seed as u8
        })
        .collect();
    for (reply, says) in [
        (garbage, "does not speak SSH"),
        (
            b"HTTP/1.1 400 Bad Request\r\n\r\n".to_vec(),
            "does not speak SSH (it answered \"HTTP/1.1 400 Bad Request\")",
        ),
        (
            Vec::new(),
            "closed the connection before the SSH version exchange",
        ),
        (
            b"SSH-2.0-fake\r\n\x00\x00\x00\x0cgarbagegarbage".to_vec(),
            "127.0.0.1",
        ),
    ] {
        let port = serve_once(reply).await;
        let mut opts = ConnectOptions::isolated(&dir.path().join("known_hosts"));
        opts.connect_timeout = Duration::from_secs(5);
        let target = Target::new("nobody", "127.0.0.1", port);
        let result = tokio::time::timeout(
            Duration::from_secs(30),
            connect(&target, &opts, &Prompter::none()),
        )
        .await
        .expect("connect gives up by itself");
        let err = match result {
            Ok(_) => panic!("garbage was accepted as an SSH server"),
            Err(e) => e.to_string(),
        };
        assert!(!err.is_empty());
        assert!(err.contains("127.0.0.1"), "the error names the host: {err}");
        assert!(err.contains(says), "{err}");
        assert!(
            !err.contains("during authentication") || says == "127.0.0.1",
            "{err}"
        );
    }
}
