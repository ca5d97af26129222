//! The audit log's hash chain: an intact log verifies; a removed, reordered or edited event is
//! reported, by the library and by `lumen vault audit --verify`.
#![allow(clippy::unwrap_used)]

use lumen::vault::{Action, AuditLog, Verdict};
use std::path::Path;

fn log_with_events(dir: &Path) -> AuditLog {
    let log = AuditLog::beside(&dir.join("vault.lumen"));
    log.append(None, Action::Init, None).unwrap();
    log.append(Some("db/root"), Action::Add, None).unwrap();
    log.append(Some("db/root"), Action::Reveal, None).unwrap();
    log.append(Some("db/root"), Action::Substitute, Some("db1"))
        .unwrap();
    log.append(Some("db/root"), Action::Delete, None).unwrap();
    log
}

fn lines(log: &AuditLog) -> Vec<String> {
    std::fs::read_to_string(log.path())
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

fn write(log: &AuditLog, lines: &[String]) {
    std::fs::write(log.path(), lines.join("\n") + "\n").unwrap();
}

fn broken(log: &AuditLog) -> String {
    match log.verify().unwrap() {
        Verdict::Broken { problem, .. } => problem,
        Verdict::Intact { .. } => panic!("tampering not detected"),
    }
}

#[test]
fn intact_log_verifies_and_holds_no_secret_fields() {
    let dir = tempfile::tempdir().unwrap();
    let log = log_with_events(dir.path());
    assert_eq!(log.verify().unwrap(), Verdict::Intact { events: 5 });
    let events = log.events().unwrap();
    assert_eq!(events[3].host.as_deref(), Some("db1"));
    let keys: Vec<String> = serde_json::from_str::<serde_json::Value>(&lines(&log)[0])
        .unwrap()
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(keys.len(), 8, "{keys:?}");
}

#[test]
fn removed_event_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let log = log_with_events(dir.path());
    let mut l = lines(&log);
    l.remove(2);
    write(&log, &l);
    assert!(broken(&log).contains("removed"));
    // Removing the first event too.
    let mut l = lines(&log);
    l.remove(0);
    write(&log, &l);
    assert!(broken(&log).contains("removed"));
}

#[test]
fn reordered_events_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let log = log_with_events(dir.path());
    let mut l = lines(&log);
    l.swap(1, 3);
    write(&log, &l);
    let p = broken(&log);
    assert!(p.contains("removed") || p.contains("order"), "{p}");
}

#[test]
fn edited_event_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let log = log_with_events(dir.path());
    for (from, to) in [
        ("\"reveal\"", "\"add\""),
        ("db1", "db2"),
        ("\"seq\":2", "\"seq\":7"),
    ] {
        let original = lines(&log);
        let l: Vec<String> = original.iter().map(|x| x.replacen(from, to, 1)).collect();
        assert_ne!(l, original);
        write(&log, &l);
        assert!(broken(&log).contains("edited"), "{from}");
        write(&log, &original);
        assert_eq!(log.verify().unwrap(), Verdict::Intact { events: 5 });
    }
    let mut l = lines(&log);
    l[1] = "not json".into();
    write(&log, &l);
    assert!(broken(&log).contains("not an audit event"));
}

#[test]
fn cli_verify_fails_on_a_broken_chain() {
    let home = tempfile::tempdir().unwrap();
    let log = log_with_events(&home.path().join("data"));
    let run = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_lumen"))
            .env("LUMEN_HOME", home.path())
            .args(["vault", "audit", "--verify", "--scope", "personal"])
            .output()
            .unwrap()
    };
    assert!(run().status.success());
    let mut l = lines(&log);
    l.remove(1);
    write(&log, &l);
    let out = run();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("removed"));
}

#[test]
fn long_logs_and_long_lines_keep_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::beside(&dir.path().join("vault.lumen"));
    let long_host = "h".repeat(9000);
    for i in 0..100 {
        let host = if i % 10 == 0 {
            long_host.as_str()
        } else {
            "db1"
        };
        log.append(Some("db/root"), Action::Substitute, Some(host))
            .unwrap();
    }
    assert!(std::fs::metadata(log.path()).unwrap().len() > 9000 * 10);
    assert_eq!(log.verify().unwrap(), Verdict::Intact { events: 100 });
    assert_eq!(log.events().unwrap().last().unwrap().seq, 99);
}
