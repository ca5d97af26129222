//! SSH private keys: ed25519, ecdsa and rsa, OpenSSH and PEM, plain and encrypted, made by
//! `ssh-keygen`; fingerprints must equal `ssh-keygen -lf`.
#![allow(clippy::unwrap_used)]

use lumen::vault::{KdfParams, Kind, NewEntry, Vault, VaultError, key_info};
use secrecy::SecretString;
use std::path::Path;
use std::process::Command;

fn keygen(dir: &Path, name: &str, args: &[&str], passphrase: &str) -> (String, String) {
    let path = dir.join(name);
    let ok = Command::new("ssh-keygen")
        .args(["-q", "-C", "k@test", "-N", passphrase, "-f"])
        .arg(&path)
        .args(args)
        .status()
        .unwrap();
    assert!(ok.success());
    let fp = Command::new("ssh-keygen")
        .arg("-lf")
        .arg(path.with_extension("pub"))
        .output()
        .unwrap();
    let fp = String::from_utf8(fp.stdout).unwrap();
    let fp = fp.split_whitespace().nth(1).unwrap().to_string();
    (std::fs::read_to_string(&path).unwrap(), fp)
}

#[test]
fn key_types_and_formats_match_ssh_keygen() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &[&str], &str); 9] = [
        (
            "rsa-pem-enc",
            &["-t", "rsa", "-b", "2048", "-m", "PEM"],
            "legacy pass",
        ),
        (
            "ecdsa-pkcs8-enc",
            &["-t", "ecdsa", "-m", "PKCS8"],
            "pkcs8 pass",
        ),
        ("ed", &["-t", "ed25519"], ""),
        ("ed-enc", &["-t", "ed25519"], "kèy pass"),
        ("ecdsa", &["-t", "ecdsa", "-b", "256"], ""),
        ("ecdsa-pem", &["-t", "ecdsa", "-b", "384", "-m", "PEM"], ""),
        ("rsa", &["-t", "rsa", "-b", "2048"], ""),
        ("rsa-pem", &["-t", "rsa", "-b", "2048", "-m", "PEM"], ""),
        ("rsa-pkcs8", &["-t", "rsa", "-b", "2048", "-m", "PKCS8"], ""),
    ];
    for (name, args, passphrase) in cases {
        let (text, fp) = keygen(dir.path(), name, args, passphrase);
        let pass = (!passphrase.is_empty()).then_some(passphrase);
        let info = key_info(&text, pass).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(info.fingerprint, fp, "{name}");
        let public = std::fs::read_to_string(dir.path().join(format!("{name}.pub"))).unwrap();
        let field = |s: &str| s.split_whitespace().nth(1).unwrap().to_string();
        assert_eq!(field(&info.public_key), field(&public), "{name}");
    }
}

#[test]
fn encrypted_key_needs_the_right_passphrase() {
    let dir = tempfile::tempdir().unwrap();
    let (text, _) = keygen(dir.path(), "enc", &["-t", "ed25519"], "right");
    for pass in [None, Some("wrong")] {
        let err = key_info(&text, pass).unwrap_err();
        assert!(matches!(err, VaultError::UnreadableKey { .. }), "{err}");
        assert!(!err.to_string().contains("right"));
    }
    let vault_path = dir.path().join("vault.lumen");
    let fast = KdfParams {
        memory_kib: 64,
        time: 1,
        lanes: 1,
    };
    let mut v = Vault::create(&vault_path, &SecretString::from("pw"), fast).unwrap();
    v.add(
        "k",
        NewEntry {
            kind: Some(Kind::SshKey),
            hosts: Some(vec!["web1".into(), "@db".into()]),
            secret: Some(SecretString::from(text.as_str())),
            key_passphrase: Some(SecretString::from("right")),
            ..Default::default()
        },
    )
    .unwrap();
    v.save().unwrap();
    let v = Vault::open(&vault_path, &SecretString::from("pw")).unwrap();
    assert!(
        v.get("k")
            .unwrap()
            .fingerprint
            .as_deref()
            .unwrap()
            .starts_with("SHA256:")
    );
    assert!(v.private_key("k", "web1", &[]).is_ok());
    assert!(matches!(
        v.private_key("k", "db1", &["web".into()]),
        Err(VaultError::NotBound { .. })
    ));
    // Bound to @db: a member of the group may use it.
    assert!(v.private_key("k", "db1", &["db".into()]).is_ok());
}

#[test]
fn garbage_is_not_a_key() {
    for text in [
        "",
        "hello",
        "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n",
    ] {
        assert!(matches!(
            key_info(text, None),
            Err(VaultError::UnreadableKey { .. })
        ));
    }
}
