//! The audit log's keyed chain and its anchor in the vault: removed, reordered, edited and
//! forged events; a log cut, emptied, deleted or rechained with plain SHA-256; a vault file
//! replaced by an older copy; `--accept`; and format 1 vaults and logs upgraded without losing an
//! event. Through the library and through the real `lumen` binary.
#![allow(clippy::unwrap_used)]

use lumen::vault::{Action, AuditProblem, KdfParams, Kind, NewEntry, Vault};
use secrecy::SecretString;
use sha2::Digest;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const FAST: KdfParams = KdfParams {
    memory_kib: 64,
    time: 1,
    lanes: 1,
};

fn pass() -> SecretString {
    SecretString::from("pw")
}

fn entry(secret: &str) -> NewEntry {
    NewEntry {
        kind: Some(Kind::Password),
        hosts: Some(vec!["db1".into()]),
        secret: Some(SecretString::from(secret)),
        ..Default::default()
    }
}

/// A vault whose log holds: init, add, reveal, substitute (db1), delete.
fn vault_with_events(dir: &Path) -> Vault {
    let path = dir.join("vault.lumen");
    let mut v = Vault::create(&path, &pass(), FAST).unwrap();
    v.add("db/root", entry("s3cret-value")).unwrap();
    v.save().unwrap();
    v.secret("db/root", Action::Reveal, None).unwrap();
    v.substitute_placeholders("x {{vault:db/root}}", "db1", &[])
        .unwrap();
    v.remove("db/root").unwrap();
    v.save().unwrap();
    v
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

fn write_lines(path: &Path, lines: &[String]) {
    let text = if lines.is_empty() {
        String::new()
    } else {
        lines.join("\n") + "\n"
    };
    std::fs::write(path, text).unwrap();
}

/// The problems `verify_audit` reports, as text, for a fresh open of the vault.
fn problems(vault: &Path) -> String {
    let v = Vault::open_to_accept(vault, &pass()).unwrap();
    let report = v.verify_audit().unwrap();
    assert!(!report.problems.is_empty(), "tampering not detected");
    report
        .problems
        .iter()
        .map(|p| p.to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

#[test]
fn intact_log_verifies_and_holds_no_secret_fields() {
    let dir = tempfile::tempdir().unwrap();
    let v = vault_with_events(dir.path());
    let report = v.verify_audit().unwrap();
    assert_eq!((report.events, report.problems.len()), (5, 0));
    let events = v.audit_log().events().unwrap();
    let actions: Vec<_> = events.iter().map(|e| e.action).collect();
    assert_eq!(
        actions,
        [
            Action::Init,
            Action::Add,
            Action::Reveal,
            Action::Substitute,
            Action::Delete
        ]
    );
    assert_eq!(events[3].host.as_deref(), Some("db1"));
    // Saves carry the generation they wrote; uses of a secret do not.
    let gens: Vec<_> = events.iter().map(|e| e.generation).collect();
    assert_eq!(gens, [Some(1), Some(2), None, None, Some(3)]);
    let text = std::fs::read_to_string(v.audit_log().path()).unwrap();
    assert!(!text.contains("s3cret-value"));
    let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    let mut keys: Vec<_> = first.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "action",
            "entry",
            "generation",
            "host",
            "mac",
            "pid",
            "prev",
            "seq",
            "time"
        ]
    );
}

#[test]
fn removed_reordered_and_edited_events_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let v = vault_with_events(dir.path());
    let (vault, log) = (v.path().to_path_buf(), v.audit_log().path().to_path_buf());
    drop(v);
    let original = lines(&log);

    let mut l = original.clone();
    l.remove(2);
    write_lines(&log, &l);
    assert!(problems(&vault).contains("event 2 was removed"));

    let mut l = original.clone();
    l.swap(1, 3);
    write_lines(&log, &l);
    let p = problems(&vault);
    assert!(p.contains("out of order") || p.contains("removed"), "{p}");

    for (from, to) in [
        ("\"reveal\"", "\"copy\""),
        ("db1", "db2"),
        ("\"seq\":2", "\"seq\":7"),
    ] {
        let l: Vec<String> = original.iter().map(|x| x.replacen(from, to, 1)).collect();
        assert_ne!(l, original);
        write_lines(&log, &l);
        assert!(problems(&vault).contains("edited or forged"), "{from}");
    }
    let mut l = original.clone();
    l[1] = "not json".into();
    write_lines(&log, &l);
    assert!(problems(&vault).contains("line 2 is not an audit event"));

    write_lines(&log, &original);
    let v = Vault::open(&vault, &pass()).unwrap();
    assert!(v.verify_audit().unwrap().problems.is_empty());
}

/// Plain SHA-256 over the previous hash and the fields: the chain lumen wrote before format 2,
/// which anyone can recompute after editing the log.
fn sha256_chain(lines: &[String], field: &str) -> Vec<String> {
    let mut prev = "0".repeat(64);
    let mut out = Vec::new();
    for line in lines {
        let mut e: serde_json::Value = serde_json::from_str(line).unwrap();
        let o = e.as_object_mut().unwrap();
        o.remove("mac");
        o.remove("hash");
        o.insert("prev".into(), prev.clone().into());
        let mut h = sha2::Sha256::new();
        h.update(prev.as_bytes());
        let s = |k: &str| match &o[k] {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Null => "\u{0}".into(),
            v => v.to_string(),
        };
        for f in ["seq", "time", "entry", "action", "host", "pid"] {
            let v = s(f);
            h.update((v.len() as u64).to_le_bytes());
            h.update(v.as_bytes());
        }
        let hash: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
        o.insert(field.into(), hash.clone().into());
        prev = hash;
        out.push(e.to_string());
    }
    out
}

#[test]
fn a_log_rechained_with_plain_sha256_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let v = vault_with_events(dir.path());
    let (vault, log) = (v.path().to_path_buf(), v.audit_log().path().to_path_buf());
    drop(v);
    let mut original = lines(&log);
    // Point the substitution at another host, then make the chain whole again.
    original[3] = original[3].replacen("db1", "db9", 1);
    write_lines(&log, &sha256_chain(&original, "hash"));
    let p = problems(&vault);
    assert!(
        p.contains("does not hold the event the vault recorded"),
        "{p}"
    );
    write_lines(&log, &sha256_chain(&original, "mac"));
    let p = problems(&vault);
    assert!(p.contains("edited or forged"), "{p}");
}

#[test]
fn events_appended_after_the_last_save_cannot_be_forged() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vault.lumen");
    let mut v = Vault::create(&path, &pass(), FAST).unwrap();
    v.add("db/root", entry("pw-1")).unwrap();
    v.save().unwrap();
    v.secret("db/root", Action::Reveal, None).unwrap();
    v.secret("db/root", Action::Copy, None).unwrap();
    let log = v.audit_log().path().to_path_buf();
    let original = lines(&log);

    // A fabricated event chained to the last one, with a seal made up without the key.
    let mut fake: serde_json::Value = serde_json::from_str(original.last().unwrap()).unwrap();
    let last_mac = fake["mac"].as_str().unwrap().to_string();
    fake["seq"] = 4.into();
    fake["prev"] = last_mac.into();
    fake["mac"] = "ab".repeat(32).into();
    let mut l = original.clone();
    l.push(fake.to_string());
    write_lines(&log, &l);
    assert!(problems(&path).contains("event 4 (line 5) was edited or forged"));
    let opened = Vault::open(&path, &pass()).unwrap();
    assert!(
        opened
            .notices()
            .iter()
            .any(|n| n.to_string().contains("edited or forged")),
        "opening does not report it: {:?}",
        opened.notices()
    );

    // Editing the host of an appended event.
    let mut l = original.clone();
    l[3] = l[3].replacen("\"copy\"", "\"reveal\"", 1);
    write_lines(&log, &l);
    assert!(problems(&path).contains("event 3 (line 4) was edited or forged"));
}

#[test]
fn a_save_refuses_while_the_log_is_out_of_step_and_accept_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let v = vault_with_events(dir.path());
    let (path, log) = (v.path().to_path_buf(), v.audit_log().path().to_path_buf());
    drop(v);
    let mut l = lines(&log);
    l.truncate(3);
    write_lines(&log, &l);
    let mut v = Vault::open(&path, &pass()).unwrap();
    assert!(matches!(
        v.notices(),
        [lumen::vault::Notice::Audit(AuditProblem::Cut {
            found_events: 3,
            recorded_events: 5,
            ..
        })]
    ));
    v.add("new", entry("x")).unwrap();
    let err = v.save().unwrap_err().to_string();
    assert!(
        err.contains("nothing was changed") && err.contains("--accept"),
        "{err}"
    );
    drop(v);
    let mut v = Vault::open_to_accept(&path, &pass()).unwrap();
    let what = v.accept().unwrap().unwrap();
    assert!(what.contains("the audit log was cut"), "{what}");
    assert_eq!(v.accept().unwrap(), None, "accepting twice changes nothing");
    drop(v);
    let mut v = Vault::open(&path, &pass()).unwrap();
    assert!(v.notices().is_empty());
    v.add("new", entry("x")).unwrap();
    v.save().unwrap();
    // The cut log was kept aside whole; the new one begins with the acceptance.
    let report = v.verify_audit().unwrap();
    assert_eq!((report.events, report.problems.len()), (2, 0));
    let events = v.audit_log().events().unwrap();
    assert_eq!(events[0].action, Action::Accept);
    assert_eq!(events[0].generation, Some(4));
    assert_eq!(events[1].generation, Some(5));
    let kept: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("vault.audit.") && n != "vault.audit.jsonl")
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(lines(&dir.path().join(&kept[0])), l);
}

#[test]
fn long_logs_and_long_lines_keep_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vault.lumen");
    let mut v = Vault::create(&path, &pass(), FAST).unwrap();
    v.add(
        "db/root",
        NewEntry {
            hosts: Some(vec!["*".into()]),
            ..entry("pw")
        },
    )
    .unwrap();
    v.save().unwrap();
    let long_host = "h".repeat(9000);
    for i in 0..100 {
        let host = if i % 10 == 0 {
            long_host.as_str()
        } else {
            "db1"
        };
        v.substitute_placeholders("{{vault:db/root}}", host, &[])
            .unwrap();
        if i % 25 == 0 {
            v.save().unwrap();
        }
    }
    assert!(std::fs::metadata(v.audit_log().path()).unwrap().len() > 9000 * 10);
    let v = Vault::open(&path, &pass()).unwrap();
    assert!(v.notices().is_empty(), "{:?}", v.notices());
    let report = v.verify_audit().unwrap();
    assert_eq!((report.events, report.problems.len()), (102, 0));
}

proptest::proptest! {
    // A fixed seed, so CI runs the same cases every time.
    #![proptest_config(proptest::prelude::ProptestConfig {
        cases: 64,
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x6c75_6d65_6e00_0004),
        ..proptest::prelude::ProptestConfig::default()
    })]

    /// Any change to a genuine log (a byte changed anywhere, or the log cut anywhere) is
    /// reported by `verify_audit`, and opening never panics or takes it for a newer save.
    #[test]
    fn every_change_to_a_genuine_log_is_reported(
        at in 0usize..10_000,
        mask in 1u8..=255,
        cut in proptest::prelude::any::<bool>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let v = vault_with_events(dir.path());
        let (path, log) = (v.path().to_path_buf(), v.audit_log().path().to_path_buf());
        drop(v);
        let mut bytes = std::fs::read(&log).unwrap();
        let at = at % bytes.len();
        if cut {
            bytes.truncate(at);
        } else {
            bytes[at] ^= mask;
        }
        std::fs::write(&log, &bytes).unwrap();
        let opened = Vault::open(&path, &pass()).unwrap();
        proptest::prop_assert!(!opened.notices().is_empty());
        let report = opened.verify_audit().unwrap();
        proptest::prop_assert!(!report.problems.is_empty(), "not detected: {}", String::from_utf8_lossy(&bytes));
    }

    /// Arbitrary bytes in place of the log: reported, never a panic, never a newer save.
    #[test]
    fn arbitrary_bytes_as_the_log_are_reported(
        bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..2000),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let v = vault_with_events(dir.path());
        let (path, log) = (v.path().to_path_buf(), v.audit_log().path().to_path_buf());
        drop(v);
        std::fs::write(&log, &bytes).unwrap();
        let opened = Vault::open(&path, &pass()).unwrap();
        proptest::prop_assert!(!opened.notices().is_empty());
        proptest::prop_assert!(!opened.verify_audit().unwrap().problems.is_empty());
    }
}

#[test]
fn privacy_says_what_stays_undetectable() {
    let out = Command::new(env!("CARGO_BIN_EXE_lumen"))
        .arg("--privacy")
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap().replace('\n', " ");
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        text.contains(
            "the vault file and its audit log both put back to an older copy taken together"
        ) && text.contains("cut from the end of the log"),
        "{text}"
    );
}

// ---- the real binary ----

struct Env {
    home: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        let env = Env {
            home: tempfile::tempdir().unwrap(),
        };
        std::fs::write(env.home.path().join("pass"), "pw\n").unwrap();
        env
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_lumen"))
            .env("LUMEN_HOME", self.home.path())
            .env_remove(lumen::vault::TEST_HOOK_ENV)
            .arg("vault")
            .arg("--passphrase-file")
            .arg(self.home.path().join("pass"))
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    /// Succeeds; returns (stdout, stderr).
    fn ok(&self, args: &[&str]) -> (String, String) {
        let out = self.run(args);
        let (o, e) = text(&out);
        assert!(out.status.success(), "{args:?} failed: {e}");
        (o, e)
    }

    /// Fails; returns stderr.
    fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        let (o, e) = text(&out);
        assert!(!out.status.success(), "{args:?} succeeded: {o}");
        e
    }

    fn add(&self, name: &str) {
        let f = self.home.path().join("secret");
        std::fs::write(&f, format!("secret-of-{name}")).unwrap();
        self.ok(&["add", name, "--secret-file", f.to_str().unwrap()]);
    }

    fn data(&self) -> PathBuf {
        self.home.path().join("data")
    }

    fn vault(&self) -> PathBuf {
        self.data().join("vault.lumen")
    }

    fn log(&self) -> PathBuf {
        self.data().join("vault.audit.jsonl")
    }

    fn init(&self) {
        self.ok(&[
            "init",
            "--kdf-memory",
            "64",
            "--kdf-time",
            "1",
            "--kdf-lanes",
            "1",
        ]);
    }
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A vault whose log has: init, add a, add b, reveal a, add c.
fn cli_vault() -> Env {
    let env = Env::new();
    env.init();
    env.add("a");
    env.add("b");
    env.ok(&["show", "a", "--reveal"]);
    env.add("c");
    env
}

/// The whole cycle for a log problem: `--verify` fails naming it, opening warns but reads,
/// a change is refused and changes nothing, `--accept` records it, then all is well again.
fn refused_until_accepted(env: &Env, words: &str) {
    let err = env.fails(&["audit", "--verify"]);
    assert!(
        err.contains(words),
        "--verify does not say {words:?}:\n{err}"
    );
    assert!(err.contains("lumen vault audit --accept"), "{err}");
    let (list, warning) = env.ok(&["list"]);
    assert!(list.contains(" a ") && list.contains(" c "), "{list}");
    assert!(
        warning.contains(words),
        "opening does not warn {words:?}:\n{warning}"
    );
    let before = std::fs::read(env.vault()).unwrap();
    let err = env.fails(&["rm", "a"]);
    assert!(err.contains("nothing was changed"), "{err}");
    assert_eq!(std::fs::read(env.vault()).unwrap(), before);
    let (accepted, _) = env.ok(&["audit", "--accept"]);
    assert!(accepted.contains("personal: accepted"), "{accepted}");
    assert!(accepted.contains(words), "{accepted}");
    let (verified, _) = env.ok(&["audit", "--verify"]);
    assert!(verified.contains("personal: intact"), "{verified}");
    let (_, warning) = env.ok(&["rm", "a"]);
    assert!(warning.is_empty(), "{warning}");
    let (log, _) = env.ok(&["audit"]);
    assert!(log.contains("accept") && log.contains(words), "{log}");
}

#[test]
fn cli_a_cut_log_is_reported() {
    let env = cli_vault();
    // `head -n -2`
    let before_cut = std::fs::read(env.vault()).unwrap();
    let mut l = lines(&env.log());
    l.truncate(l.len() - 2);
    write_lines(&env.log(), &l);
    refused_until_accepted(&env, "the audit log was cut: it has 3 events");
    // The log was begun anew, yet the vault from before is still known to be older.
    std::fs::write(env.vault(), before_cut).unwrap();
    let err = env.fails(&["list"]);
    assert!(
        err.contains("the log records save 6") && err.contains("this file is save 4"),
        "{err}"
    );
}

#[test]
fn cli_an_emptied_log_is_reported() {
    let env = cli_vault();
    // `: > vault.audit.jsonl`
    std::fs::write(env.log(), "").unwrap();
    refused_until_accepted(&env, "the audit log is empty");
}

#[test]
fn cli_a_deleted_log_is_reported() {
    let env = cli_vault();
    std::fs::remove_file(env.log()).unwrap();
    refused_until_accepted(&env, "the audit log is missing");
}

#[test]
fn cli_a_rehashed_log_is_reported_and_kept_when_accepted() {
    let env = cli_vault();
    let mut l = lines(&env.log());
    l[3] = l[3].replacen("\"entry\":\"a\"", "\"entry\":\"b\"", 1);
    let forged = sha256_chain(&l, "hash");
    write_lines(&env.log(), &forged);
    refused_until_accepted(&env, "does not hold the event the vault recorded");
    // The rewritten log was damaged, so accepting it kept it aside, byte for byte.
    let kept: Vec<_> = std::fs::read_dir(env.data())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy().into_owned();
            n.starts_with("vault.audit.") && n != "vault.audit.jsonl"
        })
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(lines(&kept[0]), forged);
}

#[test]
fn cli_a_rolled_back_vault_is_refused_until_accepted() {
    let env = Env::new();
    env.init();
    env.add("keep");
    env.add("gone");
    let old = std::fs::read(env.vault()).unwrap();
    env.ok(&["rm", "gone"]);
    env.add("newer");
    std::fs::write(env.vault(), &old).unwrap();
    for args in [&["list"][..], &["show", "keep"], &["rm", "keep"]] {
        let err = env.fails(args);
        assert!(
            err.contains("is older than its audit log: the log records save 5")
                && err.contains("this file is save 3")
                && err.contains("lumen vault audit --accept"),
            "{args:?}: {err}"
        );
    }
    let err = env.fails(&["audit", "--verify"]);
    assert!(err.contains("older than its audit log"), "{err}");
    assert_eq!(
        std::fs::read(env.vault()).unwrap(),
        old,
        "nothing was written"
    );

    let (accepted, _) = env.ok(&["audit", "--accept"]);
    assert!(accepted.contains("older than its audit log"), "{accepted}");
    let (list, warning) = env.ok(&["list"]);
    assert!(list.contains("gone") && !list.contains("newer"), "{list}");
    assert!(warning.is_empty(), "{warning}");
    assert!(
        env.ok(&["audit", "--verify"])
            .0
            .contains("intact, 6 events")
    );
    // Going back once more, to the copy from before the acceptance, is caught again.
    std::fs::write(env.vault(), &old).unwrap();
    assert!(env.fails(&["list"]).contains("the log records save 6"));
}

fn fixture_v1(env: &Env) {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/vault/v1");
    std::fs::create_dir_all(env.data()).unwrap();
    for f in ["vault.lumen", "vault.audit.jsonl"] {
        std::fs::copy(fixture.join(f), env.data().join(f)).unwrap();
    }
    std::fs::write(env.home.path().join("pass"), "v1-fixture\n").unwrap();
}

fn version(vault: &Path) -> u16 {
    let b = std::fs::read(vault).unwrap();
    u16::from_le_bytes([b[56], b[57]])
}

/// A vault and log written by lumen before format 2 (tests/fixtures/vault/v1, passphrase
/// "v1-fixture": init, add db/root, add old/key, reveal db/root, rm old/key).
#[test]
fn cli_a_format_1_vault_opens_and_upgrades_keeping_every_event() {
    let env = Env::new();
    fixture_v1(&env);
    let old_log = lines(&env.log());
    let old_vault = std::fs::read(env.vault()).unwrap();
    let (list, warning) = env.ok(&["list"]);
    assert!(
        list.contains("db/root") && !list.contains("old/key"),
        "{list}"
    );
    assert!(
        warning.contains("vault format 1") && warning.contains("lumen vault audit --accept"),
        "{warning}"
    );
    assert_eq!(
        std::fs::read(env.vault()).unwrap(),
        old_vault,
        "opening wrote"
    );
    let (verified, _) = env.ok(&["audit", "--verify"]);
    assert!(
        verified.contains("personal: intact, 5 events"),
        "{verified}"
    );
    assert!(verified.contains("vault format 1"), "{verified}");

    env.add("new/one");
    assert_eq!(version(&env.vault()), 2);
    let log = lines(&env.log());
    assert_eq!(
        log[..5],
        old_log[..],
        "the old events are kept as they were"
    );
    assert_eq!(log.len(), 7);
    assert!(log[5].contains("\"upgrade\"") && log[6].contains("new/one"));
    let (verified, warning) = env.ok(&["audit", "--verify"]);
    assert!(
        verified.contains("personal: intact, 7 events"),
        "{verified}"
    );
    assert!(!verified.contains("format 1") && warning.is_empty());
    let (shown, _) = env.ok(&["show", "db/root", "--reveal"]);
    assert!(shown.contains("old-db-pw-1"));
    // Once upgraded, putting the format 1 file back is a rollback.
    std::fs::write(env.vault(), &old_vault).unwrap();
    assert!(env.fails(&["list"]).contains("older than its audit log"));
}

#[test]
fn cli_a_format_1_vault_upgrades_with_accept_and_seals_the_old_events() {
    let env = Env::new();
    fixture_v1(&env);
    let (accepted, _) = env.ok(&["audit", "--accept"]);
    assert!(accepted.contains("vault format 1 to 2"), "{accepted}");
    assert_eq!(version(&env.vault()), 2);
    assert!(
        env.ok(&["audit", "--verify"])
            .0
            .contains("intact, 6 events")
    );
    // The old events were sealed in plain SHA-256; rewriting one and rechaining them no
    // longer fits the first keyed event.
    let mut l = lines(&env.log());
    l[3] = l[3].replacen("\"reveal\"", "\"totp\"", 1);
    let mut rechained = sha256_chain(&l[..5], "hash");
    rechained.push(l[5].clone());
    write_lines(&env.log(), &rechained);
    let err = env.fails(&["audit", "--verify"]);
    assert!(err.contains("event 5 (line 6) does not follow"), "{err}");
}

#[test]
fn cli_a_damaged_format_1_log_is_kept_aside_on_upgrade() {
    let env = Env::new();
    fixture_v1(&env);
    let mut l = lines(&env.log());
    l.remove(1);
    write_lines(&env.log(), &l);
    let (_, warning) = env.ok(&["list"]);
    assert!(warning.contains("event 1 was removed"), "{warning}");
    let (_, warning) = env.ok(&["rm", "db/root"]);
    assert!(warning.contains("was kept as"), "{warning}");
    let kept = std::fs::read_dir(env.data())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            let n = p.file_name().unwrap().to_string_lossy().into_owned();
            n.starts_with("vault.audit.") && n != "vault.audit.jsonl"
        })
        .unwrap();
    assert_eq!(lines(&kept), l, "the damaged log is kept byte for byte");
    let (log, _) = env.ok(&["audit"]);
    assert!(
        log.contains("upgrade") && log.contains("event 1 was removed"),
        "{log}"
    );
    assert!(
        env.ok(&["audit", "--verify"])
            .0
            .contains("intact, 2 events")
    );
}

#[test]
fn cli_a_new_vault_keeps_an_old_log_aside() {
    let env = cli_vault();
    let old_log = lines(&env.log());
    std::fs::remove_file(env.vault()).unwrap();
    let out = env.run(&[
        "init",
        "--kdf-memory",
        "64",
        "--kdf-time",
        "1",
        "--kdf-lanes",
        "1",
    ]);
    let (_, warning) = text(&out);
    assert!(out.status.success(), "{warning}");
    assert!(warning.contains("was kept as"), "{warning}");
    let kept = std::fs::read_dir(env.data())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            let n = p.file_name().unwrap().to_string_lossy().into_owned();
            n.starts_with("vault.audit.") && n != "vault.audit.jsonl"
        })
        .unwrap();
    assert_eq!(lines(&kept), old_log);
    assert!(
        env.ok(&["audit", "--verify"])
            .0
            .contains("intact, 1 event ")
    );
}

/// Saves and uses of a secret from several processes at once: opening always sees the vault
/// and its log in step (a save holds the log's lock from its rename to its append), so no
/// command ever warns, and the log verifies at the end.
#[test]
fn cli_concurrent_saves_and_uses_never_raise_a_false_alarm() {
    let env = std::sync::Arc::new(cli_vault());
    let mut threads = Vec::new();
    for t in 0..3 {
        let env = env.clone();
        threads.push(std::thread::spawn(move || {
            for i in 0..8 {
                let out = if t == 0 {
                    let f = env.home.path().join(format!("s{i}"));
                    std::fs::write(&f, "x").unwrap();
                    env.run(&[
                        "add",
                        &format!("n{i}"),
                        "--secret-file",
                        f.to_str().unwrap(),
                    ])
                } else {
                    env.run(&["show", "b", "--reveal"])
                };
                let (_, err) = text(&out);
                let busy = err.contains("is being changed by process");
                assert!(out.status.success() || busy, "{err}");
                assert!(!err.contains("warning") && !err.contains("older"), "{err}");
            }
        }));
    }
    for t in threads {
        t.join().unwrap();
    }
    let (verified, _) = env.ok(&["audit", "--verify"]);
    assert!(verified.contains("personal: intact"), "{verified}");
}
