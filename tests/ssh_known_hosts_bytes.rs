//! Regression: known_hosts files are read as bytes, line by line, against a real `sshd`. One
//! non-UTF-8 byte must not make a file unread (a changed key would then look unknown and be
//! offered for acceptance); a file that cannot be read at all fails closed.
#![allow(clippy::unwrap_used)]

mod common;

use common::{Answers, Sshd, auto_answer, keygen};
use lumen::ssh::known_hosts::{self, HostsFile};
use lumen::ssh::{ConnectOptions, HostKeyDecision, PromptKind, SshError, Target, exec};
use russh::keys::PublicKey;
use std::path::Path;

/// Options whose "user" known_hosts is `dot-ssh/known_hosts` in the sshd's directory.
fn options(sshd: &Sshd) -> ConnectOptions {
    let ssh_dir = sshd.path("dot-ssh");
    std::fs::create_dir_all(&ssh_dir).unwrap();
    let key = sshd.path("client_ed25519");
    keygen(&key, "ed25519", "");
    sshd.authorize(&key.with_extension("pub"));
    let mut opts = ConnectOptions::isolated(&sshd.path("lumen_known_hosts"));
    opts.ssh_dir = Some(ssh_dir);
    opts.identity_files = vec![key];
    opts
}

fn target(sshd: &Sshd) -> Target {
    Target::new(lumen::ssh::target::local_user(), "127.0.0.1", sshd.port)
}

/// A fresh ed25519 public key in OpenSSH form, unrelated to the server.
fn other_key(dir: &Path) -> String {
    let path = dir.join("impostor");
    keygen(&path, "ed25519", "");
    std::fs::read_to_string(path.with_extension("pub"))
        .unwrap()
        .trim()
        .to_string()
}

#[tokio::test]
async fn a_bad_byte_does_not_hide_a_changed_key() {
    let Some(sshd) = Sshd::start("") else { return };
    let opts = options(&sshd);
    let user_file = sshd.path("dot-ssh/known_hosts");
    let mut bytes = b"# caf\xe9 (a Latin-1 comment)\n\xff\xfe not text at all\n".to_vec();
    let name = format!("[127.0.0.1]:{}", sshd.port);
    bytes.extend_from_slice(format!("{name} {}\n", other_key(&sshd.path(""))).as_bytes());
    std::fs::write(&user_file, &bytes).unwrap();

    let parsed = HostsFile::load(&user_file);
    assert_eq!(parsed.entries.len(), 1);
    assert_eq!(parsed.warnings.len(), 1, "{:?}", parsed.warnings);
    assert!(
        parsed.warnings[0].contains("known_hosts:2: not valid UTF-8"),
        "{:?}",
        parsed.warnings
    );

    let (answer, asked) = auto_answer(Answers {
        host_key: Some(HostKeyDecision::AcceptOnce),
        ..Default::default()
    });
    let e = exec(&target(&sshd), &opts, &answer, "true")
        .await
        .unwrap_err();
    assert!(matches!(e, SshError::HostKeyChanged(_)), "{e}");
    assert!(
        asked.lock().unwrap().is_empty(),
        "the changed key was offered"
    );
}

#[tokio::test]
async fn good_lines_around_a_bad_one_are_kept_and_accepting_appends() {
    let Some(sshd) = Sshd::start("") else { return };
    let opts = options(&sshd);
    // lumen's own file starts with a line it cannot read; accepting must append after it
    // and keep it byte for byte.
    let lumen_file = sshd.path("lumen_known_hosts");
    let junk = b"\xc3\x28 broken utf-8 line\n".to_vec();
    std::fs::write(&lumen_file, &junk).unwrap();
    let (save, asked) = auto_answer(Answers {
        host_key: Some(HostKeyDecision::AcceptAndSave),
        ..Default::default()
    });
    exec(&target(&sshd), &opts, &save, "true").await.unwrap();
    assert!(matches!(
        &asked.lock().unwrap()[..],
        [PromptKind::UnknownHostKey { .. }]
    ));
    let after = std::fs::read(&lumen_file).unwrap();
    assert!(after.starts_with(&junk), "the unreadable line was not kept");
    assert_eq!(HostsFile::load(&lumen_file).entries.len(), 1);
    // The lock file beside it is private, as the privacy text promises.
    use std::os::unix::fs::PermissionsExt;
    let lock = sshd.path("lumen_known_hosts.lock");
    let mode = std::fs::metadata(&lock).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "{lock:?} is {mode:o}");

    // Known now, despite the bad line: no question the second time.
    let (silent, asked) = auto_answer(Answers::default());
    exec(&target(&sshd), &opts, &silent, "true").await.unwrap();
    assert!(asked.lock().unwrap().is_empty());

    // forget keeps the bad line too.
    let server_key = HostsFile::load(&lumen_file).entries[0].key.clone();
    known_hosts::forget(&lumen_file, None, "127.0.0.1", sshd.port).unwrap();
    assert_eq!(std::fs::read(&lumen_file).unwrap(), junk);
    let _: PublicKey = server_key;
}

#[tokio::test]
async fn an_unreadable_file_fails_closed() {
    let Some(sshd) = Sshd::start("") else { return };
    let opts = options(&sshd);
    // A directory where the file should be: root can read any file, but not a directory.
    std::fs::create_dir_all(sshd.path("dot-ssh/known_hosts")).unwrap();
    let (answer, asked) = auto_answer(Answers {
        host_key: Some(HostKeyDecision::AcceptOnce),
        ..Default::default()
    });
    let e = exec(&target(&sshd), &opts, &answer, "true")
        .await
        .unwrap_err();
    assert!(matches!(e, SshError::KnownHostsUnreadable { .. }), "{e}");
    assert!(e.to_string().contains("will not connect"), "{e}");
    assert!(asked.lock().unwrap().is_empty());
}
