//! Arbitrary bytes into the readers a hostile or clumsy file reaches: known_hosts keeps every
//! good line whatever surrounds it, hosts.toml and ssh_config never panic (errors name the
//! file), and a host or user name the validators accept never carries a shell metacharacter.
#![allow(clippy::unwrap_used)]

use lumen::ssh::known_hosts::HostsFile;
use lumen::ssh::names::{check_hostname, check_user};
use proptest::prelude::*;
use std::path::Path;

const KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";

/// What a shell would act on inside `sh -c "… %h …"`.
const SHELL_META: &str = "'`\"$\\;&<>|(){}";

/// Lines of arbitrary bytes without a newline.
fn garbage_line() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(
        any::<u8>().prop_filter("no newline", |b| *b != b'\n'),
        0..60,
    )
}

proptest! {
    // A fixed seed, so CI runs the same cases every time.
    #![proptest_config(ProptestConfig {
        cases: 300,
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x6c75_6d65_6e00_0002),
        ..ProptestConfig::default()
    })]

    #[test]
    fn known_hosts_keeps_its_good_line_among_any_bytes(
        before in proptest::collection::vec(garbage_line(), 0..6),
        after in proptest::collection::vec(garbage_line(), 0..6),
    ) {
        let mut bytes = Vec::new();
        for l in &before {
            bytes.extend_from_slice(l);
            bytes.push(b'\n');
        }
        bytes.extend_from_slice(format!("good.example {KEY}\n").as_bytes());
        for l in &after {
            bytes.extend_from_slice(l);
            bytes.push(b'\n');
        }
        let file = HostsFile::parse_bytes(Path::new("known_hosts"), &bytes);
        prop_assert!(file.unreadable.is_none());
        prop_assert!(file.matching("good.example").count() >= 1);
        for w in &file.warnings {
            prop_assert!(w.starts_with("known_hosts:"), "{}", w);
        }
    }

    #[test]
    fn hosts_toml_from_any_text_is_read_or_refused_with_its_file(text in any::<String>()) {
        if let Err(e) = lumen::workspace::hosts::parse(&text, Path::new("hosts.toml")) {
            prop_assert!(e.to_string().contains("hosts.toml"), "{}", e);
        }
    }

    #[test]
    fn ssh_config_from_any_bytes_never_panics(
        bytes in proptest::collection::vec(any::<u8>(), 0..400),
        host in "[a-z0-9.-]{1,12}",
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        std::fs::write(&path, &bytes).unwrap();
        let opts = lumen::ssh::config::ResolveOptions {
            config_file: Some(path),
            home_dir: dir.path().to_path_buf(),
            local_user: "me".into(),
            ..Default::default()
        };
        let _ = lumen::ssh::config::resolve(&host, &opts);
    }

    #[test]
    fn accepted_names_carry_no_shell_metacharacter(name in any::<String>()) {
        if check_hostname(&name).is_ok() {
            prop_assert!(!name.is_empty() && !name.starts_with('-'));
            prop_assert!(!name.chars().any(|c| SHELL_META.contains(c)
                || c.is_whitespace()
                || c.is_control()), "{:?}", name);
        }
        if check_user(&name).is_ok() {
            prop_assert!(!name.chars().any(|c| "'`\";&<>|(){}".contains(c)
                || c.is_control()), "{:?}", name);
        }
    }
}
