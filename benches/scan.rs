//! Scan figures: matching 5 000 packages against 100 000 OSV records (in memory and through the
//! imported SQLite database), importing a 100 000-record zip, 20 fake hosts (embedded SSH
//! servers answering recorded Rocky 9 output with 50 ms per command) scanned 8 at a time vs
//! one at a time, and the CPU the collectors cost on a host (a real sshd on loopback: sshd and
//! the commands) vs the same commands run locally. Run: `cargo bench --bench scan`.
#![allow(clippy::unwrap_used)]

#[path = "../tests/common/mod.rs"]
mod common;

use common::fake_host::{fixture_dir, recorded};
use futures::StreamExt;
use lumen::scan::collect::InstalledPackage;
use lumen::scan::matcher::match_packages;
use lumen::scan::os::OsRelease;
use lumen::scan::osv::{Advisory, Record};
use lumen::scan::{IgnoreList, LocalRunner, MemoryIndex, OsvDb, ScanOptions, SshRunner, scan_host};
use lumen::ssh::{
    ConnectOptions, EmbeddedServer, EmbeddedServerOptions, Prompter, Target, connect,
};
use serde_json::json;
use std::collections::HashMap;
use std::io::Write;
use std::time::{Duration, Instant};

const PACKAGES: usize = 5_000;
const RECORDS: usize = 100_000;
const NAMES: usize = 20_000;
const HOSTS: usize = 20;
const COMMAND_LATENCY: Duration = Duration::from_millis(50);

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn record_json(i: usize) -> serde_json::Value {
    let name = format!("pkg{}", i % NAMES);
    json!({
        "id": format!("DEBIAN-CVE-2026-{i:06}"),
        "modified": "2026-11-01T00:00:00Z",
        "aliases": [format!("CVE-2026-{i:06}")],
        "summary": "synthetic advisory",
        "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
        "affected": [{"package": {"ecosystem": "Debian:12", "name": name},
                      "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": format!("1.{}-1", i % 7)}]}]}]
    })
}

fn packages() -> Vec<InstalledPackage> {
    (0..PACKAGES)
        .map(|i| InstalledPackage {
            name: format!("lib{i}"),
            version: format!("1.{}-1+b1", i % 9),
            arch: Some("amd64".into()),
            source: format!("pkg{}", i * 4),
            source_version: format!("1.{}-1", i % 9),
        })
        .collect()
}

fn bench_match_and_import(dir: &std::path::Path) {
    let spec = OsRelease::parse("ID=debian\nVERSION_ID=12\n")
        .ecosystem(false)
        .unwrap();
    let pkgs = packages();
    let index =
        MemoryIndex::new((0..RECORDS).map(|i| {
            Advisory::from_record(serde_json::from_value::<Record>(record_json(i)).unwrap())
        }));
    let mut times = Vec::new();
    let mut found = 0;
    for _ in 0..5 {
        let t = Instant::now();
        found = match_packages(&pkgs, &spec, &index).unwrap().len();
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    println!(
        "match {PACKAGES} packages against {RECORDS} records in memory: {:.1} ms median ({found} findings)",
        median(times)
    );

    let zip = dir.join("all.zip");
    let t = Instant::now();
    let mut w = zip::ZipWriter::new(std::fs::File::create(&zip).unwrap());
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for i in 0..RECORDS {
        w.start_file(format!("DEBIAN-CVE-2026-{i:06}.json"), opts)
            .unwrap();
        w.write_all(&serde_json::to_vec(&record_json(i)).unwrap())
            .unwrap();
    }
    w.finish().unwrap();
    println!(
        "(zip of {RECORDS} records written in {:.1} s, {} MB)",
        t.elapsed().as_secs_f64(),
        std::fs::metadata(&zip).unwrap().len() / 1_000_000
    );
    let mut imports = Vec::new();
    for run in 0..2 {
        let db_path = dir.join(format!("scans-{run}.sqlite"));
        let db = OsvDb::open(&db_path).unwrap();
        let t = Instant::now();
        let report = db.import(&zip).unwrap();
        imports.push(t.elapsed().as_secs_f64());
        assert_eq!(report.read.records, RECORDS);
    }
    println!(
        "import a {RECORDS}-record zip into SQLite: {:.2} s (best of 2: {:.2} s)",
        imports[0],
        imports.iter().cloned().fold(f64::MAX, f64::min)
    );
    let mut times = Vec::new();
    for _ in 0..3 {
        let db = OsvDb::open(&dir.join("scans-0.sqlite")).unwrap(); // cold cache each time
        let t = Instant::now();
        found = match_packages(&pkgs, &spec, &db).unwrap().len();
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    println!(
        "match {PACKAGES} packages against {RECORDS} imported records (SQLite, cold): {:.1} ms median ({found} findings)",
        median(times)
    );
}

async fn scan_fleet(servers: &[(EmbeddedServer, ConnectOptions)], parallel: usize) -> f64 {
    let t = Instant::now();
    let opts = ScanOptions::default();
    let ignore = IgnoreList::default();
    let scans: Vec<_> = futures::stream::iter(servers.iter())
        .map(|(server, copts)| {
            let (opts, ignore) = (&opts, &ignore);
            async move {
                let conn = connect(&server.target(None), copts, &Prompter::none())
                    .await
                    .unwrap();
                let runner = SshRunner::new(conn);
                let scan = scan_host("h", &runner, None, ignore, opts).await;
                runner.close().await;
                scan
            }
        })
        .buffer_unordered(parallel)
        .collect()
        .await;
    assert!(scans.iter().all(|s| s.packages == 14));
    t.elapsed().as_secs_f64()
}

async fn bench_parallel(dir: &std::path::Path) {
    let mut servers = Vec::new();
    for i in 0..HOSTS {
        let server = EmbeddedServer::start(EmbeddedServerOptions {
            canned: Some(recorded(
                &fixture_dir("rocky9"),
                COMMAND_LATENCY,
                HashMap::new(),
            )),
            ..Default::default()
        })
        .await
        .unwrap();
        let opts = server.client_options(&dir.join(format!("kh{i}"))).unwrap();
        servers.push((server, opts));
    }
    let serial = scan_fleet(&servers, 1).await;
    let parallel = scan_fleet(&servers, 8).await;
    println!(
        "{HOSTS} hosts ({} ms per command): --parallel 1 {serial:.2} s, --parallel 8 {parallel:.2} s, ratio {:.1}x",
        COMMAND_LATENCY.as_millis(),
        serial / parallel
    );
}

fn children_cpu() -> f64 {
    // SAFETY: getrusage fills a plain struct.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut u) };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    secs(u.ru_utime) + secs(u.ru_stime)
}

async fn bench_host_cost(dir: &std::path::Path) {
    let opts = ScanOptions::default();
    let ignore = IgnoreList::default();
    // Locally: the same commands through `sh -c`.
    let before = children_cpu();
    let t = Instant::now();
    let local = scan_host("local", &LocalRunner, None, &ignore, &opts).await;
    let (local_cpu, local_wall) = (children_cpu() - before, t.elapsed().as_secs_f64());
    // On the "host": sshd and its session processes are reaped into our children's usage when
    // sshd is stopped.
    let key = dir.join("id_ed25519");
    common::keygen(&key, "ed25519", "");
    let before = children_cpu();
    let sshd = common::Sshd::start("").unwrap();
    sshd.authorize(&key.with_extension("pub"));
    let kh = dir.join("known_hosts");
    sshd.known_hosts_file(&kh);
    let mut copts = ConnectOptions::isolated(&dir.join("lumen_kh"));
    copts.identity_files = vec![key];
    copts.user_known_hosts_files = Some(vec![kh]);
    let target = Target::new(lumen::ssh::target::local_user(), "127.0.0.1", sshd.port);
    let t = Instant::now();
    let runner = SshRunner::new(connect(&target, &copts, &Prompter::none()).await.unwrap());
    let remote = scan_host("sshd", &runner, None, &ignore, &opts).await;
    runner.close().await;
    let remote_wall = t.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_millis(300)).await; // let the session processes exit
    drop(sshd);
    let remote_cpu = children_cpu() - before;
    println!(
        "collectors' CPU on the host (sshd + commands): {remote_cpu:.2} s in {remote_wall:.1} s; the same commands locally: {local_cpu:.2} s in {local_wall:.1} s ({} vs {} packages)",
        remote.packages, local.packages
    );
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    bench_match_and_import(dir.path());
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(bench_parallel(dir.path()));
    rt.block_on(bench_host_cost(dir.path()));
}
