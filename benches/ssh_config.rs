//! ssh_config resolution: lumen's resolver against spawning `ssh -G` on the same config.
//! Report the ratio of the two means, not the absolute figures.
#![allow(clippy::unwrap_used)]

use criterion::{Criterion, criterion_group, criterion_main};
use lumen::ssh::config::{ResolveOptions, resolve};
use std::hint::black_box;
use std::path::Path;
use std::process::Command;

fn bench(c: &mut Criterion) {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ssh_config");
    let config = fixtures.join("cases/14-include-in-host.conf");
    let home = fixtures.join("home");
    let opts = ResolveOptions {
        config_file: Some(config.clone()),
        home_dir: home.clone(),
        local_user: "tester".into(),
        ..ResolveOptions::from_env()
    };
    c.bench_function("lumen resolve (Include in Host)", |b| {
        b.iter(|| black_box(resolve(black_box("inc"), &opts).unwrap()))
    });
    c.bench_function("ssh -G (same config)", |b| {
        b.iter(|| {
            let out = Command::new("ssh")
                .arg("-G")
                .arg("-F")
                .arg(&config)
                .arg("inc")
                .env("HOME", &home)
                .output()
                .unwrap();
            black_box(out.stdout.len())
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
