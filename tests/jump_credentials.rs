//! Logins answered by a credential source (what the vault plugs into): a TOTP
//! keyboard-interactive round, a password, a private key; each use counted; a wrong code
//! falls back to asking the user.
#![allow(clippy::unwrap_used)]

mod common;

use common::{Answers, auto_answer, read_until};
use lumen::pty::PtyCommand;
use lumen::ssh::credentials::CredentialFuture;
use lumen::ssh::{
    Credentials, EmbeddedServer, EmbeddedServerOptions, JumpPool, KiRound, Plan, PromptKind,
    Secret, open_planned_session,
};
use lumen::stream::Waker;
use secrecy::SecretString;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const SIZE: (u16, u16) = (80, 24);
const STEP: u64 = 30;
/// Seconds before a TOTP step ends when a test waits for the next one (no code changes
/// between the server's expectation and the client's answer).
const STEP_MARGIN: u64 = 5;
const TOTP_SECRET: &[u8] = b"lumen-test-totp-secret!";

fn totp(unix: u64) -> String {
    let t = totp_rs::TOTP::new(
        totp_rs::Algorithm::SHA1,
        6,
        1,
        STEP,
        TOTP_SECRET.to_vec(),
        None,
        "test".into(),
    )
    .unwrap();
    t.generate(unix)
}

/// The current time, at least `STEP_MARGIN` seconds before the code changes.
async fn stable_now() -> u64 {
    loop {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        if now % STEP < STEP - STEP_MARGIN {
            return now;
        }
        tokio::time::sleep(Duration::from_secs(STEP - now % STEP)).await;
    }
}

/// A credential source from memory; records each use as (entry, host, what).
#[derive(Default)]
struct Source {
    key: Mutex<Option<russh::keys::PrivateKey>>,
    password: Option<String>,
    wrong_code: bool,
    uses: Mutex<Vec<(String, String, &'static str)>>,
    calls: AtomicUsize,
}

impl Credentials for Source {
    fn secret<'a>(
        &'a self,
        entry: &'a str,
        host: &'a str,
    ) -> CredentialFuture<'a, Result<Option<Secret>, String>> {
        Box::pin(async move {
            self.calls.fetch_add(1, Ordering::SeqCst);
            let mut uses = self.uses.lock().unwrap();
            if let Some(key) = self.key.lock().unwrap().clone() {
                uses.push((entry.into(), host.into(), "key"));
                return Ok(Some(Secret::PrivateKey(Box::new(key))));
            }
            Ok(self.password.clone().map(|p| {
                uses.push((entry.into(), host.into(), "password"));
                Secret::Password(SecretString::from(p))
            }))
        })
    }

    fn one_time_code<'a>(
        &'a self,
        entry: Option<&'a str>,
        host: &'a str,
    ) -> CredentialFuture<'a, Result<Option<SecretString>, String>> {
        Box::pin(async move {
            self.uses
                .lock()
                .unwrap()
                .push((entry.unwrap_or("").into(), host.into(), "totp"));
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_secs();
            let code = if self.wrong_code {
                "000000".to_string()
            } else {
                totp(now)
            };
            Ok(Some(SecretString::from(code)))
        })
    }
}

async fn server_with_code(code: &str) -> EmbeddedServer {
    let mut shell = PtyCommand::new("/bin/sh");
    shell.env = vec![("PS1".into(), "$ ".into())];
    EmbeddedServer::start(EmbeddedServerOptions {
        shell,
        keyboard_interactive: vec![KiRound {
            name: "Two-factor".into(),
            instruction: String::new(),
            prompts: vec![("Verification code: ".into(), false, code.into())],
        }],
        ..Default::default()
    })
    .await
    .unwrap()
}

fn plan_for(server: &EmbeddedServer, dir: &tempfile::TempDir, source: Arc<Source>) -> Plan {
    let mut opts = server
        .client_options(&dir.path().join("known_hosts"))
        .unwrap();
    opts.credentials = Some(source);
    opts.credential = Some("prod/ops".into());
    opts.host_alias = Some("box".into());
    Plan::direct("box", server.target(None), opts)
}

#[tokio::test]
async fn totp_code_comes_from_the_credential_source() {
    let now = stable_now().await;
    let server = server_with_code(&totp(now)).await;
    let dir = tempfile::tempdir().unwrap();
    let source = Arc::new(Source::default());
    let p = plan_for(&server, &dir, source.clone());
    let (prompter, asked) = auto_answer(Answers::default());
    let mut s = open_planned_session(&p, &JumpPool::new(), prompter, SIZE, &Waker::new())
        .await
        .unwrap();
    s.handle.write(b"echo in-$((1+1))\r");
    read_until(&mut s, "in-2").await;
    assert!(asked.lock().unwrap().is_empty(), "the user was not asked");
    let uses = source.uses.lock().unwrap().clone();
    assert_eq!(
        uses,
        [("prod/ops".to_string(), "box".to_string(), "totp")],
        "one audited use, for this host"
    );
}

#[tokio::test]
async fn a_wrong_code_falls_back_to_asking() {
    let now = stable_now().await;
    let code = totp(now);
    let server = server_with_code(&code).await;
    let dir = tempfile::tempdir().unwrap();
    let source = Arc::new(Source {
        wrong_code: true,
        ..Source::default()
    });
    let p = plan_for(&server, &dir, source);
    let (prompter, asked) = auto_answer(Answers {
        ki_rounds: vec![vec![code]],
        ..Answers::default()
    });
    let mut s = open_planned_session(&p, &JumpPool::new(), prompter, SIZE, &Waker::new())
        .await
        .unwrap();
    s.handle.write(b"echo in-$((3+3))\r");
    read_until(&mut s, "in-6").await;
    let asked = asked.lock().unwrap().clone();
    assert_eq!(
        asked.len(),
        1,
        "asked once, after the refused code: {asked:?}"
    );
    assert!(matches!(&asked[0], PromptKind::KeyboardInteractive { .. }));
}

#[tokio::test]
async fn a_wrong_code_and_no_answer_fails_naming_the_method() {
    let now = stable_now().await;
    let server = server_with_code(&totp(now)).await;
    let dir = tempfile::tempdir().unwrap();
    let source = Arc::new(Source {
        wrong_code: true,
        ..Source::default()
    });
    let p = plan_for(&server, &dir, source);
    let (prompter, _) = auto_answer(Answers::default());
    let err = open_planned_session(&p, &JumpPool::new(), prompter, SIZE, &Waker::new())
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("keyboard-interactive"), "{err}");
}

#[tokio::test]
async fn private_key_comes_from_the_credential_source() {
    let mut shell = PtyCommand::new("/bin/sh");
    shell.env = vec![("PS1".into(), "$ ".into())];
    let server = EmbeddedServer::start(EmbeddedServerOptions {
        shell,
        ..Default::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let source = Arc::new(Source::default());
    *source.key.lock().unwrap() = Some((*server.client_key).clone());
    let mut p = plan_for(&server, &dir, source.clone());
    p.target.options.keys.clear(); // only the source has the key
    let (prompter, asked) = auto_answer(Answers::default());
    let mut s = open_planned_session(&p, &JumpPool::new(), prompter, SIZE, &Waker::new())
        .await
        .unwrap();
    s.handle.write(b"echo key-$((2+2))\r");
    read_until(&mut s, "key-4").await;
    assert!(asked.lock().unwrap().is_empty());
    assert_eq!(source.calls.load(Ordering::SeqCst), 1, "fetched once");
    let kinds: Vec<_> = source.uses.lock().unwrap().iter().map(|u| u.2).collect();
    assert_eq!(kinds, ["key"]);
}

#[tokio::test]
async fn without_the_key_the_login_fails_and_says_so() {
    let server = EmbeddedServer::start(EmbeddedServerOptions::default())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let source = Arc::new(Source::default()); // no key, no password
    let mut p = plan_for(&server, &dir, source);
    p.target.options.keys.clear();
    let (prompter, asked) = auto_answer(Answers::default());
    let err = open_planned_session(&p, &JumpPool::new(), prompter, SIZE, &Waker::new())
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("authentication to"), "{err}");
    assert!(
        !asked
            .lock()
            .unwrap()
            .iter()
            .any(|k| matches!(k, PromptKind::UnknownHostKey { .. })),
        "the host key was trusted"
    );
}
