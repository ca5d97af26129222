//! known_hosts and fingerprints against OpenSSH as the oracle: lookups agree with
//! `ssh-keygen -F` on a corpus, fingerprints with `ssh-keygen -lf`; `lumen hosts forget`.
#![allow(clippy::unwrap_used)]

mod common;

use lumen::ssh::fingerprint;
use lumen::ssh::known_hosts::{self, HostsFile, KnownHosts};
use lumen::ssh::{HostKeyStatus, Target};
use russh::keys::PublicKey;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

const K1: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";
const K2: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILM+rvN+ot98qgEN796jTiQfZfG1KaT0PtFDJ/XFSqti";

/// Lines `ssh-keygen -F name -f file` reports.
fn keygen_lines(file: &Path, name: &str) -> BTreeSet<usize> {
    let out = Command::new("ssh-keygen")
        .args(["-F", name, "-f"])
        .arg(file)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split(" found: line ").nth(1))
        .filter_map(|rest| rest.split_whitespace().next()?.parse().ok())
        .collect()
}

fn corpus(dir: &Path) -> std::path::PathBuf {
    // Hashed lines come from ssh-keygen -H itself, so the oracle also checks our HMAC.
    let hashed = dir.join("hashed");
    std::fs::write(
        &hashed,
        format!("hashed.example.com {K1}\n[hashed.example.com]:2022 {K2}\n"),
    )
    .unwrap();
    let ok = Command::new("ssh-keygen")
        .args(["-q", "-H", "-f"])
        .arg(&hashed)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap()
        .success();
    assert!(ok, "ssh-keygen -H failed");
    let hashed_lines = std::fs::read_to_string(&hashed).unwrap();
    assert!(hashed_lines.starts_with("|1|"), "{hashed_lines}");
    let text = format!(
        "# a comment\n\
         \n\
         db1.example.com,10.0.0.5 {K1} first\n\
         \tdb2.example.com\t{}\n\
         [db3.example.com]:2222 {K1}\n\
         *.wild.example.com,!secret.wild.example.com {K2}\n\
         db? {K1}\n\
         @revoked revoked.example.com {K2}\n\
         @cert-authority *.ca.example.com {K1}\n\
         malformed-line-without-key\n\
         [*.wild.example.com]:2200 {K1}\n\
         UPPER.Example.COM {K1}\n\
         {hashed_lines}\
         @bogus marker.example.com {K1}\n\
         db1.example.com {K2} second key, other line\n",
        K2.replace(' ', "\t"),
    );
    let path = dir.join("known_hosts");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn lookups_agree_with_ssh_keygen_f() {
    let dir = tempfile::tempdir().unwrap();
    let path = corpus(dir.path());
    let file = HostsFile::load(&path);
    let names = [
        "db1.example.com",
        "10.0.0.5",
        "db2.example.com",
        "[db3.example.com]:2222",
        "db3.example.com",
        "x.wild.example.com",
        "secret.wild.example.com",
        "db1",
        "db12",
        "revoked.example.com",
        "a.ca.example.com",
        "[y.wild.example.com]:2200",
        "y.wild.example.com",
        "hashed.example.com",
        "[hashed.example.com]:2022",
        "upper.example.com",
        "marker.example.com",
        "nothing.example.com",
    ];
    let mut nonempty = 0;
    for name in names {
        let ours: BTreeSet<usize> = file.matching(name).map(|e| e.line).collect();
        let theirs = keygen_lines(&path, name);
        assert_eq!(ours, theirs, "lines for {name}");
        nonempty += usize::from(!theirs.is_empty());
    }
    assert!(nonempty >= 12, "the corpus must exercise matches");
    assert!(
        file.warnings.iter().any(|w| w.contains(":10: ")),
        "malformed line reported with its number: {:?}",
        file.warnings
    );
}

#[test]
fn statuses_follow_openssh() {
    let dir = tempfile::tempdir().unwrap();
    let path = corpus(dir.path());
    let kh = KnownHosts::load(Some(&path), &dir.path().join("lumen_known_hosts"));
    let k1 = PublicKey::from_openssh(K1).unwrap();
    let k2 = PublicKey::from_openssh(K2).unwrap();
    assert!(matches!(
        kh.check("db1.example.com", 22, &k1),
        HostKeyStatus::Known { line: 3, .. }
    ));
    // Two keys of one type for a host: either is known (as OpenSSH accepts any match).
    assert!(matches!(
        kh.check("db1.example.com", 22, &k2),
        HostKeyStatus::Known { .. }
    ));
    assert!(matches!(
        kh.check("db3.example.com", 2222, &k2),
        HostKeyStatus::Changed { line: 5, .. }
    ));
    assert!(matches!(
        kh.check("revoked.example.com", 22, &k2),
        HostKeyStatus::Revoked { line: 8, .. }
    ));
    assert_eq!(
        kh.check("secret.wild.example.com", 22, &k2),
        HostKeyStatus::Unknown
    );
    assert_eq!(
        kh.check("a.ca.example.com", 22, &k1),
        HostKeyStatus::Unknown
    );
    assert!(matches!(
        kh.check("hashed.example.com", 22, &k1),
        HostKeyStatus::Known { .. }
    ));
    assert!(matches!(
        kh.check("hashed.example.com", 2022, &k1),
        HostKeyStatus::Changed { .. }
    ));
}

#[test]
fn fingerprints_match_ssh_keygen_lf() {
    let dir = tempfile::tempdir().unwrap();
    for kind in ["ed25519", "ecdsa", "rsa"] {
        let key = dir.path().join(kind);
        common::keygen(&key, kind, "");
        let public = key.with_extension("pub");
        let parsed =
            PublicKey::from_openssh(std::fs::read_to_string(&public).unwrap().trim()).unwrap();
        assert_eq!(
            fingerprint::describe(&parsed, "lumen-test"),
            common::keygen_fingerprint(&public),
            "{kind}"
        );
    }
}

#[test]
fn saved_keys_are_found_by_ssh_keygen_and_forgotten_by_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("lumen");
    let paths = lumen::paths::Paths::under(&home);
    let k1 = PublicKey::from_openssh(K1).unwrap();
    known_hosts::add(&paths.known_hosts(), "db1", 2222, &k1).unwrap();
    known_hosts::add(&paths.known_hosts(), "db2", 22, &k1).unwrap();
    assert_eq!(
        keygen_lines(&paths.known_hosts(), "[db1]:2222"),
        BTreeSet::from([1])
    );
    // The user's own known_hosts also has db1: reported, not edited.
    let fake_home = dir.path().join("home");
    std::fs::create_dir_all(fake_home.join(".ssh")).unwrap();
    let user_kh = fake_home.join(".ssh/known_hosts");
    std::fs::write(&user_kh, format!("[db1]:2222 {K1}\n")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_lumen"))
        .args(["hosts", "forget", "db1:2222"])
        .env("LUMEN_HOME", &home)
        .env("HOME", &fake_home)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("removed 1 key(s)"), "{stdout}");
    assert!(
        stdout.contains("known_hosts:1") && stdout.contains("ssh-keygen -R"),
        "{stdout}"
    );
    assert!(keygen_lines(&paths.known_hosts(), "[db1]:2222").is_empty());
    assert_eq!(
        keygen_lines(&paths.known_hosts(), "db2"),
        BTreeSet::from([1])
    );
    assert_eq!(
        std::fs::read_to_string(&user_kh).unwrap(),
        format!("[db1]:2222 {K1}\n")
    );
    let t = Target::parse("db2", Some("u"), None).unwrap();
    assert_eq!(t.known_hosts_name(), "db2");
}

/// `hosts forget -p PORT HOST`, as with ssh's `-p`; a port given twice must agree.
#[test]
fn forget_takes_the_port_as_dash_p() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("lumen");
    let paths = lumen::paths::Paths::under(&home);
    let k1 = PublicKey::from_openssh(K1).unwrap();
    known_hosts::add(&paths.known_hosts(), "db1", 2222, &k1).unwrap();
    known_hosts::add(&paths.known_hosts(), "db1", 22, &k1).unwrap();
    let forget = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_lumen"))
            .args(["hosts", "forget"])
            .args(args)
            .env("LUMEN_HOME", &home)
            .env("HOME", dir.path().join("home"))
            .output()
            .unwrap()
    };
    let out = forget(&["db1:22", "-p", "2222"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("give the port once"));
    let out = forget(&["-p", "2222", "db1"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("[db1]:2222: removed 1 key(s)"), "{stdout}");
    assert!(keygen_lines(&paths.known_hosts(), "[db1]:2222").is_empty());
    assert_eq!(
        keygen_lines(&paths.known_hosts(), "db1"),
        BTreeSet::from([1]),
        "port 22's key stays (now the first line)"
    );
}
