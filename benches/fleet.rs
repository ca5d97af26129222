//! A fleet on one machine: 200 fake hosts (lumen's embedded SSH server on 200 loopback ports,
//! answering recorded Rocky 9 output, 20 ms per command) scanned by the release `lumen scan
//! --all` with `--parallel 64` vs `--parallel 8`: wall time (median of 3), the most files the
//! process had open at once (sampled from /proc every 2 ms) and its peak RSS (wait4's rusage).
//! Run: `benches/fleet.sh` or `cargo bench --bench fleet`.
#![allow(clippy::unwrap_used)]

#[path = "../tests/common/mod.rs"]
mod common;

use common::fake_fleet::FakeFleet;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const HOSTS: usize = 200;
const COMMAND_LATENCY: Duration = Duration::from_millis(20);
const RUNS: usize = 3;
const SAMPLE_EVERY: Duration = Duration::from_millis(2);

struct Run {
    seconds: f64,
    peak_fds: usize,
    max_rss_kb: i64,
}

fn scan(fleet: &FakeFleet, osv: &str, parallel: u16) -> Run {
    let out_path = fleet.path(&format!("report-{parallel}.json"));
    let p = parallel.to_string();
    let mut cmd = fleet.command(
        &["scan", "--all", "--osv-db", osv, "--json", "--parallel", &p],
        None,
    );
    cmd.stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(Stdio::null());
    let started = Instant::now();
    let child = cmd.spawn().unwrap();
    let pid = child.id() as i32;
    let done = Arc::new(AtomicBool::new(false));
    let peak = Arc::new(AtomicUsize::new(0));
    let sampler = {
        let (done, peak) = (done.clone(), peak.clone());
        std::thread::spawn(move || {
            let fd_dir = format!("/proc/{pid}/fd");
            while !done.load(Ordering::Relaxed) {
                if let Ok(entries) = std::fs::read_dir(&fd_dir) {
                    peak.fetch_max(entries.count(), Ordering::Relaxed);
                }
                std::thread::sleep(SAMPLE_EVERY);
            }
        })
    };
    let mut status = 0;
    // SAFETY: an all-zero rusage is valid; wait4 fills it for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for the child we spawned; `child` is never waited on again.
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let seconds = started.elapsed().as_secs_f64();
    done.store(true, Ordering::Relaxed);
    sampler.join().unwrap();
    std::mem::forget(child);
    assert_eq!(reaped, pid);
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "lumen scan failed: status {status}"
    );
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&out_path).unwrap()).unwrap();
    let scanned = report["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["errors"].as_array().is_some_and(|e| e.is_empty()))
        .count();
    assert_eq!(scanned, HOSTS, "every host scanned");
    Run {
        seconds,
        peak_fds: peak.load(Ordering::Relaxed),
        max_rss_kb: usage.ru_maxrss,
    }
}

fn main() {
    let fleet = FakeFleet::start(HOSTS, "rocky9", COMMAND_LATENCY);
    let osv = fleet
        .osv(&[(
            "RLSA-2024:0256",
            "Rocky Linux:9",
            "openssl-libs",
            "1:3.0.7-25.el9_3",
        )])
        .display()
        .to_string();
    println!(
        "{HOSTS} hosts (embedded SSH servers on loopback, {} ms per command), lumen scan --all:",
        COMMAND_LATENCY.as_millis()
    );
    let mut medians = Vec::new();
    for parallel in [64u16, 8] {
        let runs: Vec<Run> = (0..RUNS).map(|_| scan(&fleet, &osv, parallel)).collect();
        let mut times: Vec<f64> = runs.iter().map(|r| r.seconds).collect();
        times.sort_by(f64::total_cmp);
        let median = times[RUNS / 2];
        medians.push(median);
        println!(
            "  --parallel {parallel:>2}: {median:.2} s wall (median of {RUNS}), peak open files {}, max RSS {:.1} MB",
            runs.iter().map(|r| r.peak_fds).max().unwrap_or(0),
            runs.iter().map(|r| r.max_rss_kb).max().unwrap_or(0) as f64 / 1024.0
        );
    }
    println!(
        "  --parallel 64 is {:.1}x faster than --parallel 8",
        medians[1] / medians[0]
    );
}
