//! AI safety layer benchmarks: `assess` over 10 000 commands (time per command), and
//! `prepare` over 10 MB of mixed terminal output with a 200-entry vault (MB/s).
//!
//! `cargo bench --bench ai`

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use lumen::ai::redact::{Secrets, prepare};
use lumen::ai::risk::assess;
use lumen::vault::{KdfParams, Kind, NewEntry, Vault};
use secrecy::SecretString;
use std::hint::black_box;
use std::time::Duration;

const COMMANDS: usize = 10_000;
const OUTPUT_BYTES: usize = 10 * 1024 * 1024;
const VAULT_ENTRIES: usize = 200;
const MEASUREMENT: Duration = Duration::from_secs(20);

fn commands() -> Vec<String> {
    let corpus = include_str!("../tests/fixtures/ai/risk_corpus.txt");
    let base: Vec<String> = corpus
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('\t').map(|(_, c)| c.replace('␤', "\n")))
        .collect();
    base.iter().cycle().take(COMMANDS).cloned().collect()
}

/// Recorded screens (colour `ls`, htop, vim, CJK), a leak corpus with secrets, and log lines,
/// repeated to 10 MB.
fn terminal_output(vault_values: &[String]) -> Vec<u8> {
    let mut chunk: Vec<u8> = Vec::new();
    for f in ["ls_color.bin", "htop.bin", "vim.bin", "cjk_emoji.bin"] {
        let path = format!("{}/tests/fixtures/{f}", env!("CARGO_MANIFEST_DIR"));
        chunk.extend(std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}")));
    }
    let leak = include_str!("../tests/fixtures/ai/leak_corpus.txt").replace(['⟦', '⟧'], "");
    chunk.extend(leak.as_bytes());
    for i in 0..2000 {
        let line = format!(
            "May 07 09:12:{:02} web{} app[{}]: GET /api/v1/orders/{} 200 {}ms user={} trace=3f2a9c1e-7b4d-4e8f-9a0b-{:012x}\n",
            i % 60,
            i % 7,
            2000 + i,
            i * 37,
            i % 900,
            i % 13,
            i
        );
        chunk.extend(line.as_bytes());
        if i % 400 == 0 {
            let v = &vault_values[i % vault_values.len()];
            chunk.extend(format!("debug: connecting with password {v}\n").as_bytes());
        }
    }
    let mut out = Vec::with_capacity(OUTPUT_BYTES + chunk.len());
    while out.len() < OUTPUT_BYTES {
        out.extend_from_slice(&chunk);
    }
    out.truncate(OUTPUT_BYTES);
    out
}

fn vault(dir: &std::path::Path) -> (Vault, Vec<String>) {
    let fast = KdfParams {
        memory_kib: 64,
        time: 1,
        lanes: 1,
    };
    let mut v = Vault::create(&dir.join("vault.lumen"), &SecretString::from("bench"), fast)
        .unwrap_or_else(|e| panic!("{e}"));
    let mut values = Vec::new();
    for i in 0..VAULT_ENTRIES {
        let value = format!("S3cr3t-{i:04}-{:x}", i * 7919 + 1_000_003);
        v.add(
            &format!("entry/{i:03}"),
            NewEntry {
                kind: Some(Kind::Password),
                hosts: Some(vec!["*".into()]),
                secret: Some(SecretString::from(value.as_str())),
                ..Default::default()
            },
        )
        .unwrap_or_else(|e| panic!("{e}"));
        values.push(value);
    }
    (v, values)
}

fn bench(c: &mut Criterion) {
    let cmds = commands();
    let mut g = c.benchmark_group("assess");
    g.throughput(Throughput::Elements(COMMANDS as u64));
    g.sample_size(10).measurement_time(MEASUREMENT);
    g.bench_function("10k commands", |b| {
        b.iter(|| {
            for cmd in &cmds {
                black_box(assess(cmd));
            }
        })
    });
    g.finish();

    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let (v, values) = vault(dir.path());
    let secrets = Secrets::from_vaults(&[&v]);
    let output = terminal_output(&values);
    let mut g = c.benchmark_group("redact");
    g.throughput(Throughput::Bytes(output.len() as u64));
    g.sample_size(10).measurement_time(MEASUREMENT);
    g.bench_function("10 MB, 200-entry vault", |b| {
        b.iter(|| black_box(prepare(&output, &secrets)))
    });
    g.bench_function("10 MB, no vault", |b| {
        b.iter(|| black_box(prepare(&output, &Secrets::new())))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
