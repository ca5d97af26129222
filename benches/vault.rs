//! Vault benchmarks: unlock at the default and calibrated Argon2id parameters; add, list and
//! save on a 1000-entry vault; the save/unlock ratio (a save must cost well under a tenth); and
//! the audit log's share of open, save, a use of a secret and `--verify` on a 10 000-event log.
//!
//! `cargo bench --bench vault` (`-- audit` for the audit log alone)

use criterion::{Criterion, criterion_group, criterion_main};
use lumen::vault::{KdfParams, Kind, NewEntry, Vault, format};
use secrecy::SecretString;
use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

const ENTRIES: usize = 1000;
const RATIO_ROUNDS: u32 = 5;
const SLOW_MEASUREMENT: Duration = Duration::from_secs(20);

fn pass() -> SecretString {
    SecretString::from("benchmark passphrase")
}

fn entry(i: usize) -> NewEntry {
    NewEntry {
        kind: Some(Kind::Password),
        username: Some(format!("user{i}")),
        hosts: Some(vec![format!("host{i}"), "@web".into()]),
        tags: Some(vec!["bench".into()]),
        notes: Some("a note of moderate length for a realistic payload".into()),
        secret: Some(SecretString::from(format!(
            "secret-value-{i:08}-xxxxxxxxxxxxxxxx"
        ))),
        ..Default::default()
    }
}

fn big_vault(dir: &Path, kdf: KdfParams) -> Vault {
    let path = dir.join("vault.lumen");
    let mut v = Vault::create(&path, &pass(), kdf).unwrap_or_else(|e| panic!("{e}"));
    for i in 0..ENTRIES {
        v.add(&format!("entry/{i:04}"), entry(i))
            .unwrap_or_else(|e| panic!("{e}"));
    }
    v.save().unwrap_or_else(|e| panic!("{e}"));
    v
}

fn unlock(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let calibrated = format::calibrate(KdfParams::DEFAULT, format::CALIBRATION_TARGET)
        .unwrap_or_else(|e| panic!("{e}"));
    eprintln!("calibrated parameters: {calibrated:?}");
    let mut group = c.benchmark_group("unlock");
    group.sample_size(10).measurement_time(SLOW_MEASUREMENT);
    for (label, kdf) in [("default", KdfParams::DEFAULT), ("calibrated", calibrated)] {
        let path = dir.path().join(format!("{label}.lumen"));
        Vault::create(&path, &pass(), kdf).unwrap_or_else(|e| panic!("{e}"));
        group.bench_function(label, |b| {
            b.iter(|| black_box(Vault::open(&path, &pass()).unwrap_or_else(|e| panic!("{e}"))))
        });
    }
    group.finish();
}

fn thousand(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mut v = big_vault(dir.path(), KdfParams::DEFAULT);
    let mut group = c.benchmark_group("1000 entries");
    group.bench_function("add", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for i in 0..iters {
                let name = format!("new/{i}");
                let start = Instant::now();
                v.add(&name, entry(i as usize))
                    .unwrap_or_else(|e| panic!("{e}"));
                total += start.elapsed();
                v.remove(&name).unwrap_or_else(|e| panic!("{e}"));
            }
            total
        })
    });
    group.bench_function("list", |b| {
        b.iter(|| black_box(v.entries().map(|e| e.name.len()).sum::<usize>()))
    });
    // The CPU part of a save (a payload of the same size, sealed), apart from the fsyncs.
    let size = std::fs::metadata(v.path())
        .map(|m| m.len() as usize)
        .unwrap_or(0);
    let plain = vec![b'x'; size];
    let header = format::Header::new(KdfParams::DEFAULT);
    let key = format::Key::from_bytes([7u8; format::KEY_LEN]);
    group.bench_function("seal", |b| {
        b.iter(|| black_box(format::seal(&header, &key, &plain).unwrap_or_else(|e| panic!("{e}"))))
    });
    group.sample_size(20);
    group.bench_function("save", |b| {
        b.iter(|| v.save().unwrap_or_else(|e| panic!("{e}")))
    });
    group.finish();
}

/// Median save over median unlock at the defaults, measured side by side.
fn ratio(_: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mut v = big_vault(dir.path(), KdfParams::DEFAULT);
    let path = v.path().to_path_buf();
    let median = |mut xs: Vec<Duration>| {
        xs.sort();
        xs[xs.len() / 2]
    };
    let mut saves = Vec::new();
    let mut unlocks = Vec::new();
    for _ in 0..RATIO_ROUNDS {
        let t = Instant::now();
        v.save().unwrap_or_else(|e| panic!("{e}"));
        saves.push(t.elapsed());
        let t = Instant::now();
        black_box(Vault::open(&path, &pass()).unwrap_or_else(|e| panic!("{e}")));
        unlocks.push(t.elapsed());
    }
    let (s, u) = (median(saves), median(unlocks));
    eprintln!(
        "1000-entry vault: save {s:?}, unlock (defaults) {u:?}, save/unlock = {:.3}",
        s.as_secs_f64() / u.as_secs_f64()
    );
}

/// Events in the audit benchmark's log: most before the last save, the rest used since.
const AUDIT_EVENTS: usize = 10_000;
const AUDIT_SINCE_SAVE: usize = 1_000;

/// The audit log's cost, apart from key derivation (the vault uses the cheapest parameters):
/// open hashes the log up to the last save and checks each event since; a save checks the same
/// and hashes the whole log; `--verify` walks every event.
fn audit(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let cheap = KdfParams {
        memory_kib: 8,
        time: 1,
        lanes: 1,
    };
    let path = dir.path().join("vault.lumen");
    let mut v = Vault::create(&path, &pass(), cheap).unwrap_or_else(|e| panic!("{e}"));
    v.add("db/root", entry(0)).unwrap_or_else(|e| panic!("{e}"));
    v.save().unwrap_or_else(|e| panic!("{e}"));
    let reveal = |v: &Vault| {
        v.secret("db/root", lumen::vault::Action::Reveal, Some("host0"))
            .unwrap_or_else(|e| panic!("{e}"));
    };
    for _ in 0..AUDIT_EVENTS - AUDIT_SINCE_SAVE {
        reveal(&v);
    }
    v.save().unwrap_or_else(|e| panic!("{e}"));
    for _ in 0..AUDIT_SINCE_SAVE {
        reveal(&v);
    }
    let log_bytes = std::fs::metadata(v.audit_log().path()).map_or(0, |m| m.len());
    eprintln!("audit log: {AUDIT_EVENTS} events, {log_bytes} bytes");
    let mut group = c.benchmark_group("audit 10000 events");
    group.sample_size(20);
    group.bench_function("open (cheapest KDF)", |b| {
        b.iter(|| black_box(Vault::open(&path, &pass()).unwrap_or_else(|e| panic!("{e}"))))
    });
    group.bench_function("verify", |b| {
        b.iter(|| black_box(v.verify_audit().unwrap_or_else(|e| panic!("{e}"))))
    });
    group.bench_function("use of a secret (one append)", |b| b.iter(|| reveal(&v)));
    group.finish();
}

criterion_group!(benches, unlock, thousand, ratio, audit);
criterion_main!(benches);
