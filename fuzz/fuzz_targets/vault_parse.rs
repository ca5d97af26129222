//! Fuzz the vault file parser. Seed corpus: ../tests/fixtures/vault/corpus/
//! (`cargo +nightly fuzz run vault_parse ../tests/fixtures/vault/corpus`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    lumen::vault::format::fuzz_one(data);
});
