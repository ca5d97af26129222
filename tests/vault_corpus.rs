//! The fuzz target's seed corpus (tests/fixtures/vault/corpus/) run through the parser as an
//! ordinary test: nothing panics, valid files open (passphrase "corpus"), broken ones fail cleanly.
#![allow(clippy::unwrap_used)]

use lumen::vault::{Vault, VaultError};
use secrecy::SecretString;
use std::path::Path;

#[test]
fn corpus_runs_through_the_parser() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/vault/corpus");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let bytes = std::fs::read(&path).unwrap();
        lumen::vault::format::fuzz_one(&bytes);
        if name.ends_with(".lumen") {
            let opened = Vault::open(&path, &SecretString::from("corpus"));
            match (name.starts_with("valid-"), opened) {
                (true, Ok(_)) => {}
                (false, Err(VaultError::Tampered { .. } | VaultError::Truncated { .. })) => {}
                (_, other) => panic!("{name}: {other:?}"),
            }
        }
        seen += 1;
    }
    assert!(seen >= 10, "corpus has only {seen} files");
}

#[test]
fn valid_fixture_content() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/vault/corpus/valid-two-entries.lumen");
    let v = Vault::open(&path, &SecretString::from("corpus")).unwrap();
    let names: Vec<_> = v.entries().map(|e| e.name.clone()).collect();
    assert_eq!(names, ["db/root", "otp"]);
    assert!(matches!(
        Vault::open(&path, &SecretString::from("Corpus")),
        Err(VaultError::WrongPassphrase { .. })
    ));
}
