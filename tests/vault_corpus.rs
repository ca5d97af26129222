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

proptest::proptest! {
    // A fixed seed, so CI runs the same cases every time.
    #![proptest_config(proptest::prelude::ProptestConfig {
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x6c75_6d65_6e00_0005),
        ..proptest::prelude::ProptestConfig::default()
    })]

    /// Arbitrary bytes, and valid files with random edits, never panic the parser and never
    /// open with the right passphrase unless they are the original.
    #[test]
    fn parser_never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600)) {
        lumen::vault::format::fuzz_one(&bytes);
    }

    #[test]
    fn edited_valid_file_never_opens(at in 0usize..521, value in proptest::prelude::any::<u8>(), cut in 0usize..600) {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/vault/corpus/valid-two-entries.lumen");
        let good = std::fs::read(&path).unwrap();
        let mut bytes = good.clone();
        let at = at % bytes.len();
        bytes[at] = value;
        bytes.truncate(cut.max(1));
        lumen::vault::format::fuzz_one(&bytes);
        if bytes != good {
            proptest::prop_assert!(lumen::vault::format::parse(&path, &bytes).is_err());
        }
    }
}
