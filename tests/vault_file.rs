//! The vault file: byte flips, truncation, passphrase change, non-ASCII passphrases, bounds,
//! concurrent writers, and one unlock at the real default parameters.
#![allow(clippy::unwrap_used)]

use lumen::vault::{Action, KdfParams, Kind, NewEntry, Vault, VaultError, format};
use secrecy::{ExposeSecret, SecretString};
use std::path::Path;

const FAST: KdfParams = KdfParams {
    memory_kib: 64,
    time: 1,
    lanes: 1,
};
const SECRET: &str = "s3cr3t-VALUE-that-must-not-leak";

fn pass(s: &str) -> SecretString {
    SecretString::from(s)
}

fn secret_entry(kind: Kind, secret: &str) -> NewEntry {
    NewEntry {
        kind: Some(kind),
        username: Some("root".into()),
        hosts: Some(vec!["db1".into()]),
        secret: Some(pass(secret)),
        ..Default::default()
    }
}

fn small_vault(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("vault.lumen");
    let mut v = Vault::create(&path, &pass("pw"), FAST).unwrap();
    v.add("db/root", secret_entry(Kind::Password, SECRET))
        .unwrap();
    v.save().unwrap();
    path
}

#[test]
fn round_trip_and_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = small_vault(&dir.path().join("sub"));
    let v = Vault::open(&path, &pass("pw")).unwrap();
    let e = v.get("db/root").unwrap();
    assert_eq!(e.username.as_deref(), Some("root"));
    assert_eq!(
        v.secret("db/root", Action::Reveal, None)
            .unwrap()
            .expose_secret(),
        SECRET
    );
    assert!(
        !format!("{v:?}").contains(SECRET),
        "Debug must not print secrets"
    );
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(path.parent().unwrap()), 0o700);
    assert_eq!(mode(v.audit_log().path()), 0o600);
    let raw = std::fs::read(&path).unwrap();
    assert!(!raw.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()));
}

#[test]
fn every_flipped_byte_is_tampering() {
    let dir = tempfile::tempdir().unwrap();
    let path = small_vault(dir.path());
    let good = std::fs::read(&path).unwrap();
    let bad_path = dir.path().join("flipped.lumen");
    for i in 0..good.len() {
        for mask in [0x01u8, 0x80] {
            let mut b = good.clone();
            b[i] ^= mask;
            std::fs::write(&bad_path, &b).unwrap();
            match Vault::open(&bad_path, &pass("pw")) {
                Err(VaultError::Tampered { .. }) => {}
                other => panic!("byte {i} mask {mask:#x}: {other:?}"),
            }
        }
    }
}

/// An attacker who also fixes the checksum still gets no plaintext: every change in the body
/// fails authentication (or bounds, or version), never opens.
#[test]
fn flipped_bytes_with_a_recomputed_checksum_never_open() {
    use sha2::Digest;
    let dir = tempfile::tempdir().unwrap();
    let path = small_vault(dir.path());
    let good = std::fs::read(&path).unwrap();
    let bad_path = dir.path().join("forged.lumen");
    for i in 56..good.len() {
        let mut b = good.clone();
        b[i] ^= 0x01;
        let digest = sha2::Sha256::digest(&b[40..]);
        b[8..40].copy_from_slice(&digest);
        std::fs::write(&bad_path, &b).unwrap();
        let err = Vault::open(&bad_path, &pass("pw")).unwrap_err();
        let ok = match i {
            56..=57 => matches!(err, VaultError::UnsupportedVersion { .. }),
            58..=70 => matches!(
                err,
                VaultError::KdfHeader { .. } | VaultError::WrongPassphrase { .. }
            ),
            71..=158 => matches!(err, VaultError::WrongPassphrase { .. }),
            _ => matches!(err, VaultError::Tampered { .. }),
        };
        assert!(ok, "byte {i}: {err:?}");
    }
}

#[test]
fn every_truncation_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = small_vault(dir.path());
    let good = std::fs::read(&path).unwrap();
    let cut = dir.path().join("cut.lumen");
    for len in 0..good.len() {
        std::fs::write(&cut, &good[..len]).unwrap();
        match Vault::open(&cut, &pass("pw")) {
            Err(VaultError::Truncated {
                found, expected, ..
            }) => {
                assert_eq!(found, len as u64);
                assert!(expected > found);
            }
            other => panic!("length {len}: {other:?}"),
        }
    }
}

#[test]
fn distinct_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = small_vault(dir.path());
    assert!(matches!(
        Vault::open(&path, &pass("wrong")),
        Err(VaultError::WrongPassphrase { .. })
    ));
    assert!(matches!(
        Vault::open(&dir.path().join("none.lumen"), &pass("pw")),
        Err(VaultError::NoVault { .. })
    ));
    let msg = Vault::open(&dir.path().join("none.lumen"), &pass("pw"))
        .unwrap_err()
        .to_string();
    assert!(msg.contains("lumen vault init"), "{msg}");
    assert!(matches!(
        Vault::create(&path, &pass("pw"), FAST),
        Err(VaultError::AlreadyExists { .. })
    ));
    let mut v = Vault::open(&path, &pass("pw")).unwrap();
    assert!(matches!(v.get("nope"), Err(VaultError::NotFound { .. })));
    assert!(matches!(
        v.add("db/root", secret_entry(Kind::Password, "x")),
        Err(VaultError::NameTaken { .. })
    ));
    assert!(matches!(
        v.add("bad name", secret_entry(Kind::Password, "x")),
        Err(VaultError::BadName { .. })
    ));
    assert!(matches!(
        v.add("otp", secret_entry(Kind::Totp, "!!!")),
        Err(VaultError::BadTotp { .. })
    ));
    assert!(matches!(
        v.add("key", secret_entry(Kind::SshKey, "hello")),
        Err(VaultError::UnreadableKey { .. })
    ));
    let err = v.add("p", secret_entry(Kind::Password, "")).unwrap_err();
    assert!(matches!(err, VaultError::EmptySecret));
}

/// Rewrite header fields and fix the checksum, as a newer lumen or a damaged writer might.
fn patched(good: &[u8], at: usize, bytes: &[u8]) -> Vec<u8> {
    use sha2::Digest;
    let mut b = good.to_vec();
    b[at..at + bytes.len()].copy_from_slice(bytes);
    let digest = sha2::Sha256::digest(&b[40..]);
    b[8..40].copy_from_slice(&digest);
    b
}

#[test]
fn version_and_kdf_bounds_are_checked_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let path = small_vault(dir.path());
    let good = std::fs::read(&path).unwrap();
    let p = Path::new("x");
    assert!(matches!(
        format::parse(p, &patched(&good, 56, &3u16.to_le_bytes())),
        Err(VaultError::UnsupportedVersion { found: 3, .. })
    ));
    // 4 TiB of memory, a billion passes, 0 lanes, 1000 lanes: refused by parse, no allocation.
    for (at, value) in [(59, u32::MAX), (63, 1_000_000_000), (67, 0), (67, 1000)] {
        let err = format::parse(p, &patched(&good, at, &value.to_le_bytes())).unwrap_err();
        assert!(matches!(err, VaultError::KdfHeader { .. }), "{at}: {err:?}");
    }
    assert!(matches!(
        format::parse(p, &patched(&good, 58, &[9])),
        Err(VaultError::KdfHeader { .. })
    ));
}

#[test]
fn passphrase_change_matrix() {
    let dir = tempfile::tempdir().unwrap();
    let path = small_vault(dir.path());
    let mut current = "pw".to_string();
    for new in ["new one", "ünïcødé 🔑 пароль", "x"] {
        let before = std::fs::read(&path).unwrap();
        let old_header = format::parse(&path, &before).unwrap();
        let mut v = Vault::open(&path, &pass(&current)).unwrap();
        v.change_passphrase(&pass(new), None).unwrap();
        v.save().unwrap();
        assert!(matches!(
            Vault::open(&path, &pass(&current)),
            Err(VaultError::WrongPassphrase { .. })
        ));
        let reopened = Vault::open(&path, &pass(new)).unwrap();
        assert_eq!(
            reopened
                .secret("db/root", Action::Reveal, None)
                .unwrap()
                .expose_secret(),
            SECRET
        );
        assert_eq!(reopened.entries().count(), 1);
        assert_eq!(reopened.get("db/root").unwrap().hosts, ["db1"]);
        let h = format::parse(&path, &std::fs::read(&path).unwrap()).unwrap();
        assert_ne!(h.salt, old_header.salt);
        assert_ne!(h.wrap_nonce, old_header.wrap_nonce);
        assert_ne!(h.payload_nonce, old_header.payload_nonce);
        assert_ne!(h.wrapped_key, old_header.wrapped_key);
        current = new.to_string();
    }
    let mut v = Vault::open(&path, &pass(&current)).unwrap();
    assert!(matches!(
        v.change_passphrase(&pass(""), None),
        Err(VaultError::EmptyPassphrase)
    ));
}

#[test]
fn non_ascii_passphrases() {
    let dir = tempfile::tempdir().unwrap();
    for (i, pw) in [
        "пароль",
        "密码🔑",
        "Ünïcödé\u{301}",
        "\u{1F600}\u{200D}",
        "tab\tand space ",
    ]
    .iter()
    .enumerate()
    {
        let path = dir.path().join(format!("v{i}.lumen"));
        Vault::create(&path, &pass(pw), FAST).unwrap();
        Vault::open(&path, &pass(pw)).unwrap();
        // One character off, or a different Unicode form, is a different passphrase.
        let mut other = pw.to_string();
        other.pop();
        assert!(matches!(
            Vault::open(&path, &pass(&other)),
            Err(VaultError::WrongPassphrase { .. })
        ));
    }
}

#[test]
fn a_second_writer_is_refused_and_nothing_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let path = small_vault(dir.path());
    // Two editors open the same vault; the first saves; the second is refused, not merged over.
    let mut a = Vault::open(&path, &pass("pw")).unwrap();
    let mut b = Vault::open(&path, &pass("pw")).unwrap();
    a.add("from-a", secret_entry(Kind::Password, "aaaaaaa"))
        .unwrap();
    b.add("from-b", secret_entry(Kind::Password, "bbbbbbb"))
        .unwrap();
    a.save().unwrap();
    assert!(matches!(b.save(), Err(VaultError::ChangedOnDisk { .. })));
    let v = Vault::open(&path, &pass("pw")).unwrap();
    assert!(v.get("from-a").is_ok() && v.get("db/root").is_ok());
    // A writer holding the lock makes another writer fail at once, naming the holder.
    let holder = Vault::open_for_write(&path, &pass("pw")).unwrap();
    let err = Vault::open_for_write(&path, &pass("pw")).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains(&format!("process {}", std::process::id())),
        "{msg}"
    );
    let mut c = Vault::open(&path, &pass("pw")).unwrap();
    c.add("from-c", secret_entry(Kind::Password, "ccccccc"))
        .unwrap();
    assert!(matches!(c.save(), Err(VaultError::Busy { .. })));
    drop(holder);
    c.save().unwrap();
    let v = Vault::open(&path, &pass("pw")).unwrap();
    assert_eq!(
        v.entries().map(|e| e.name.as_str()).collect::<Vec<_>>(),
        ["db/root", "from-a", "from-c"]
    );
}

#[test]
fn default_parameters_unlock() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vault.lumen");
    Vault::create(&path, &pass("pw"), KdfParams::DEFAULT).unwrap();
    let v = Vault::open(&path, &pass("pw")).unwrap();
    assert_eq!(v.kdf(), KdfParams::DEFAULT);
    let on_disk = format::parse(&path, &std::fs::read(&path).unwrap())
        .unwrap()
        .kdf;
    assert_eq!(
        (on_disk.memory_kib, on_disk.time, on_disk.lanes),
        (65536, 3, 4)
    );
}

#[test]
fn edit_and_remove() {
    let dir = tempfile::tempdir().unwrap();
    let path = small_vault(dir.path());
    let mut v = Vault::open(&path, &pass("pw")).unwrap();
    v.edit(
        "db/root",
        NewEntry {
            username: Some("admin".into()),
            secret: Some(pass("n3w-secret-value")),
            ..Default::default()
        },
    )
    .unwrap();
    v.save().unwrap();
    let v2 = Vault::open(&path, &pass("pw")).unwrap();
    assert_eq!(
        v2.get("db/root").unwrap().username.as_deref(),
        Some("admin")
    );
    assert_eq!(v2.get("db/root").unwrap().hosts, ["db1"]);
    assert_eq!(
        v2.secret("db/root", Action::Reveal, None)
            .unwrap()
            .expose_secret(),
        "n3w-secret-value"
    );
    let mut v = v2;
    v.remove("db/root").unwrap();
    v.save().unwrap();
    assert_eq!(
        Vault::open(&path, &pass("pw")).unwrap().entries().count(),
        0
    );
    let actions: Vec<_> = v
        .audit_log()
        .events()
        .unwrap()
        .iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(
        actions,
        [
            Action::Init,
            Action::Add,
            Action::Edit,
            Action::Reveal,
            Action::Delete
        ]
    );
}

#[test]
fn audit_events_describe_what_a_save_persists() {
    let dir = tempfile::tempdir().unwrap();
    let path = small_vault(dir.path());
    let mut v = Vault::open(&path, &pass("pw")).unwrap();
    for _ in 0..3 {
        v.add("tmp", secret_entry(Kind::Password, "temporary"))
            .unwrap();
        v.remove("tmp").unwrap();
    }
    for u in ["a", "b", "c"] {
        v.edit(
            "db/root",
            NewEntry {
                username: Some(u.into()),
                ..Default::default()
            },
        )
        .unwrap();
    }
    v.add("kept", secret_entry(Kind::Password, "kept-secret"))
        .unwrap();
    v.edit(
        "kept",
        NewEntry {
            username: Some("x".into()),
            ..Default::default()
        },
    )
    .unwrap();
    v.save().unwrap();
    let events: Vec<_> = v
        .audit_log()
        .events()
        .unwrap()
        .into_iter()
        .skip(2)
        .map(|e| (e.entry.unwrap_or_default(), e.action))
        .collect();
    assert_eq!(
        events,
        [
            ("db/root".to_string(), Action::Edit),
            ("kept".to_string(), Action::Add)
        ]
    );
}
