//! Regression: known_hosts files are read as bytes, line by line, against a real `sshd`. One
//! non-UTF-8 byte must not make a file unread (a changed key would then look unknown and be
//! offered for acceptance); a file that cannot be read at all fails closed. The system-wide
//! files (`GlobalKnownHostsFile`) count as ssh counts them.
#![allow(clippy::unwrap_used)]

mod common;

use common::{Answers, Sshd, auto_answer, keygen};
use lumen::ssh::config::{NoHosts, ResolveOptions, StrictHostKeyChecking};
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
        parsed.warnings[0].contains("known_hosts:2: ")
            && parsed.warnings[0].ends_with("line ignored"),
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

/// `opts` asking nothing and saving any new key (`accept-new`): a changed or revoked key must
/// still be refused, and nothing saved.
async fn refused_under_accept_new(sshd: &Sshd, mut opts: ConnectOptions) -> SshError {
    opts.strict_host_key_checking = StrictHostKeyChecking::AcceptNew;
    let (answer, asked) = auto_answer(Answers {
        host_key: Some(HostKeyDecision::AcceptAndSave),
        ..Default::default()
    });
    let e = exec(&target(sshd), &opts, &answer, "true")
        .await
        .expect_err("connected despite the recorded key");
    assert!(asked.lock().unwrap().is_empty(), "asked about the key: {e}");
    assert!(
        !opts.lumen_known_hosts.exists(),
        "the presented key was saved: {e}"
    );
    e
}

/// Entry lines with a Latin-1 byte after the key (a comment) or in the host pattern are
/// entries all the same, as in OpenSSH: a different key recorded on such a line is a changed
/// key, not an unknown one to be saved under accept-new.
#[tokio::test]
async fn a_latin1_comment_or_host_pattern_still_records_the_key() {
    let Some(sshd) = Sshd::start("") else { return };
    let name = format!("[127.0.0.1]:{}", sshd.port);
    let impostor = other_key(&sshd.path(""));
    let entry = format!("{name} {impostor}");
    let lines: [Vec<u8>; 2] = [
        // A Latin-1 comment after the key.
        [entry.as_bytes(), b" d\xe9pannage\n"].concat(),
        // A Latin-1 byte in one of the host patterns.
        [b"caf\xe9,".as_slice(), entry.as_bytes(), b"\n"].concat(),
    ];
    let opts = options(&sshd);
    for line in lines {
        let user_file = sshd.path("dot-ssh/known_hosts");
        std::fs::write(&user_file, &line).unwrap();
        let parsed = HostsFile::load(&user_file);
        assert_eq!(parsed.entries.len(), 1, "{:?}", parsed.warnings);
        assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
        let e = refused_under_accept_new(&sshd, opts.clone()).await;
        assert!(matches!(e, SshError::HostKeyChanged(_)), "{e}");
        assert!(e.to_string().contains("known_hosts"), "{e}");
    }
}

/// `@revoked` with a Latin-1 comment or host pattern still revokes the key.
#[tokio::test]
async fn a_revoked_line_with_a_latin1_byte_still_revokes() {
    let Some(sshd) = Sshd::start("") else { return };
    let listing = sshd.path("server_keys");
    sshd.known_hosts_file(&listing);
    let server_lines = std::fs::read_to_string(&listing).unwrap();
    let opts = options(&sshd);
    for pattern_byte in [false, true] {
        let mut bytes = Vec::new();
        for line in server_lines.lines() {
            bytes.extend_from_slice(b"@revoked ");
            if pattern_byte {
                bytes.extend_from_slice(b"\xe9t\xe9,");
            }
            bytes.extend_from_slice(line.as_bytes());
            if !pattern_byte {
                bytes.extend_from_slice(b" cl\xe9 r\xe9voqu\xe9e");
            }
            bytes.push(b'\n');
        }
        // The same keys also recorded as good: revoked wins, as in OpenSSH.
        bytes.extend_from_slice(server_lines.as_bytes());
        std::fs::write(sshd.path("dot-ssh/known_hosts"), &bytes).unwrap();
        let e = refused_under_accept_new(&sshd, opts.clone()).await;
        assert!(matches!(e, SshError::HostKeyRevoked { .. }), "{e}");
        assert!(e.to_string().contains("@revoked"), "{e}");
    }
}

/// `GlobalKnownHostsFile` from ssh_config, read as ssh reads it: several files (a missing one
/// is fine), each trusted like the user's; a different key there is a changed key; `none`
/// reads none. (The real /etc/ssh/ssh_known_hosts is never consulted: the config names the
/// files.)
#[tokio::test]
async fn global_known_hosts_files_are_honoured() {
    let Some(sshd) = Sshd::start("") else { return };
    let _ = options(&sshd);
    let global = sshd.path("global_known_hosts");
    let plan_with = |global_line: &str| {
        let config = sshd.path("config");
        std::fs::write(
            &config,
            format!(
                "Host box\n  HostName 127.0.0.1\n  Port {}\n  IdentityFile {}\n  \
                 UserKnownHostsFile /dev/null\n  {global_line}\n  StrictHostKeyChecking yes\n",
                sshd.port,
                sshd.path("client_ed25519").display(),
            ),
        )
        .unwrap();
        let ropts = ResolveOptions {
            config_file: Some(config),
            home_dir: sshd.path(""),
            local_user: lumen::ssh::target::local_user(),
            ..ResolveOptions::default()
        };
        let base = ConnectOptions::isolated(&sshd.path("lumen_known_hosts"));
        lumen::ssh::plan("box", &NoHosts, &ropts, &base)
            .unwrap()
            .target
    };
    let both = format!(
        "GlobalKnownHostsFile {} {}",
        sshd.path("missing").display(),
        global.display()
    );

    // The server's key only in the second global file: known, nothing asked.
    sshd.known_hosts_file(&global);
    let hop = plan_with(&both);
    let (silent, asked) = auto_answer(Answers::default());
    exec(&hop.target, &hop.options, &silent, "true")
        .await
        .expect("the key in GlobalKnownHostsFile is trusted");
    assert!(asked.lock().unwrap().is_empty());
    assert!(!sshd.path("lumen_known_hosts").exists());

    // `none`: the same file is not read, so the key is unknown (and refused: strict yes).
    let hop = plan_with("GlobalKnownHostsFile none");
    let e = exec(&hop.target, &hop.options, &silent, "true")
        .await
        .unwrap_err();
    assert!(matches!(e, SshError::HostKeyUnknown { .. }), "{e}");

    // Another key recorded there: changed, refused, whatever the policy.
    let name = format!("[127.0.0.1]:{}", sshd.port);
    std::fs::write(&global, format!("{name} {}\n", other_key(&sshd.path("")))).unwrap();
    let hop = plan_with(&both);
    let e = refused_under_accept_new(&sshd, hop.options.clone()).await;
    assert!(matches!(e, SshError::HostKeyChanged(_)), "{e}");
    // lumen never edits that file, so the fix it names is ssh-keygen's, not `hosts forget`.
    assert!(
        e.to_string().contains(&format!(
            "ssh-keygen -R \"{name}\" -f \"{}\"",
            global.display()
        )),
        "{e}"
    );
}
