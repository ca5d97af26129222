//! Vault-backed login against the embedded server: the host's credential entry supplies the
//! private key, the TOTP entry bound to the host answers the keyboard-interactive code; a locked
//! vault asks the app to unlock first; each use is audited.
#![allow(clippy::unwrap_used)]

mod common;

use common::{Answers, auto_answer, read_until};
use lumen::pty::PtyCommand;
use lumen::ssh::{
    EmbeddedServer, EmbeddedServerOptions, JumpPool, KiRound, Plan, VaultCredentials,
    open_planned_session,
};
use lumen::stream::Waker;
use lumen::vault::{Action, KdfParams, Kind, NewEntry, Scope, Vault, VaultOwner};
use secrecy::SecretString;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const FAST: KdfParams = KdfParams {
    memory_kib: 64,
    time: 1,
    lanes: 1,
};
const SIZE: (u16, u16) = (80, 24);
const STEP: u64 = 30;
/// Seconds before a TOTP step ends when the test waits for the next one.
const STEP_MARGIN: u64 = 5;
/// Base32 of a 20-byte seed.
const SEED: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
const PASS: &str = "correct horse";

/// The code an authenticator app shows at `unix`, computed independently of the vault.
fn totp(unix: u64) -> String {
    let bytes = totp_rs::Secret::Encoded(SEED.into()).to_bytes().unwrap();
    let t = totp_rs::TOTP::new(
        totp_rs::Algorithm::SHA1,
        6,
        1,
        STEP,
        bytes,
        None,
        "t".into(),
    )
    .unwrap();
    t.generate(unix)
}

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

fn entry(kind: Kind, secret: String, host: &str) -> NewEntry {
    NewEntry {
        kind: Some(kind),
        hosts: Some(vec![host.into()]),
        secret: Some(SecretString::from(secret)),
        ..Default::default()
    }
}

/// A vault with the server's client key as `box/key` and the TOTP seed as `box/otp`.
fn make_vault(path: &Path, key: &russh::keys::PrivateKey) {
    let mut v = Vault::create(path, &SecretString::from(PASS), FAST).unwrap();
    let text = key
        .to_openssh(russh::keys::ssh_key::LineEnding::LF)
        .unwrap()
        .to_string();
    v.add("box/key", entry(Kind::SshKey, text, "box")).unwrap();
    v.add("box/otp", entry(Kind::Totp, SEED.into(), "box"))
        .unwrap();
    v.save().unwrap();
}

#[tokio::test]
async fn totp_and_key_from_a_locked_vault() {
    let now = stable_now().await;
    let mut shell = PtyCommand::new("/bin/sh");
    shell.env = vec![("PS1".into(), "$ ".into())];
    let server = EmbeddedServer::start(EmbeddedServerOptions {
        shell,
        keyboard_interactive: vec![KiRound {
            name: "2FA".into(),
            instruction: String::new(),
            prompts: vec![("Verification code: ".into(), false, totp(now))],
        }],
        ..Default::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let vault_path = dir.path().join("vault.lumen");
    make_vault(&vault_path, &server.client_key);

    // The app's side: unlock when asked (the dialog), counting the requests.
    let (unlock_tx, mut unlock_rx) = tokio::sync::mpsc::unbounded_channel();
    let owner = VaultOwner::new(vec![(Scope::Personal, vault_path.clone())]).with_unlock_requests(
        move |reply| {
            let _ = unlock_tx.send(reply);
        },
    );
    let creds = VaultCredentials::new(owner.clone());
    let unlocks = Arc::new(AtomicUsize::new(0));
    let counted = unlocks.clone();
    tokio::spawn(async move {
        while let Some(reply) = unlock_rx.recv().await {
            counted.fetch_add(1, Ordering::SeqCst);
            owner.unlock(&SecretString::from(PASS)).unwrap();
            let _ = reply.send(true);
        }
    });
    assert!(!creds.is_unlocked());

    let mut opts = server
        .client_options(&dir.path().join("known_hosts"))
        .unwrap();
    opts.keys.clear(); // the key is only in the vault
    opts.credentials = Some(Arc::new(creds.clone()));
    opts.credential = Some("box/key".into());
    opts.host_alias = Some("box".into());
    let p = Plan::direct("box", server.target(None), opts);
    let (prompter, asked) = auto_answer(Answers::default());
    let mut s = open_planned_session(&p, &JumpPool::new(), prompter, SIZE, &Waker::new())
        .await
        .unwrap();
    s.handle.write(b"echo vault-$((5+5))\r");
    read_until(&mut s, "vault-10").await;
    assert!(asked.lock().unwrap().is_empty(), "the user typed nothing");

    // Audited: the key and the code, each once, for this host.
    let check = Vault::open(&dir.path().join("vault.lumen"), &SecretString::from(PASS)).unwrap();
    let uses: Vec<(String, String)> = check
        .audit_log()
        .events()
        .unwrap()
        .into_iter()
        .filter(|e| e.action == Action::Auth)
        .map(|e| (e.entry.unwrap_or_default(), e.host.unwrap_or_default()))
        .collect();
    assert_eq!(
        uses,
        [
            ("box/key".to_string(), "box".to_string()),
            ("box/otp".to_string(), "box".to_string())
        ]
    );
    assert_eq!(
        unlocks.load(Ordering::SeqCst),
        1,
        "unlocked once, before the first secret"
    );
    assert!(creds.is_unlocked());
}

#[tokio::test]
async fn a_vault_left_locked_falls_back_to_asking() {
    let server = EmbeddedServer::start(EmbeddedServerOptions::default())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let vault_path = dir.path().join("vault.lumen");
    make_vault(&vault_path, &server.client_key);
    // The user cancels the unlock dialog: the request is dropped.
    let owner = VaultOwner::new(vec![(Scope::Personal, vault_path)]).with_unlock_requests(drop);
    let creds = VaultCredentials::new(owner);
    let mut opts = server
        .client_options(&dir.path().join("known_hosts"))
        .unwrap();
    opts.credentials = Some(Arc::new(creds));
    opts.credential = Some("box/key".into());
    let p = Plan::direct("box", server.target(None), opts);
    let (prompter, _) = auto_answer(Answers::default());
    // The in-memory key still works: a locked vault only means no vault secrets.
    let mut s = open_planned_session(&p, &JumpPool::new(), prompter, SIZE, &Waker::new())
        .await
        .unwrap();
    s.handle.write(b"echo ok-$((1+6))\r");
    read_until(&mut s, "ok-7").await;
}
