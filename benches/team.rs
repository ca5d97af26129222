//! The team vault at size: 500 entries, 20 members (ssh-ed25519 keys from ssh-keygen), in a
//! real git repository. Times `team add` (one more member) and `team remove` (a member out:
//! new key, every entry re-encrypted) through the library, and what each changes in git
//! (`git diff --shortstat` after it, `git diff --stat` summarised): add touches members.toml
//! and key.age only; remove rewrites every entry file.
//! Run: `cargo bench --bench team`.
#![allow(clippy::unwrap_used)]

use lumen::vault::team::{self, MyKey, TeamDir};
use lumen::vault::{Kind, NewEntry};
use secrecy::SecretString;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

const ENTRIES: usize = 500;
const MEMBERS: usize = 20;
const RUNS: usize = 3;

fn keygen(path: &Path) {
    let ok = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "bench", "-f"])
        .arg(path)
        .status()
        .unwrap()
        .success();
    assert!(ok);
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "b")
        .env("GIT_AUTHOR_EMAIL", "b@example.invalid")
        .env("GIT_COMMITTER_NAME", "b")
        .env("GIT_COMMITTER_EMAIL", "b@example.invalid")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

struct Once {
    add_ms: f64,
    remove_ms: f64,
    add_stat: String,
    remove_stat: String,
    add_files: usize,
    remove_files: usize,
    add_bytes: u64,
    remove_bytes: u64,
}

/// Size of the staged change as git would ship it: `git diff --cached --binary` (entry files
/// and key.age are binary, so `--shortstat`'s line counts miss them).
fn changed_bytes(ws: &Path) -> u64 {
    git(ws, &["diff", "--cached", "--binary"]).len() as u64
}

fn once() -> Once {
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("ws");
    std::fs::create_dir_all(&ws).unwrap();
    let keys: Vec<_> = (0..=MEMBERS)
        .map(|i| {
            let k = tmp.path().join(format!("id_{i}"));
            keygen(&k);
            k
        })
        .collect();
    let me = MyKey::load(&keys[0], |_| Ok(SecretString::from(""))).unwrap();
    let dir = TeamDir::in_workspace(&ws);
    git(&ws, &["init", "-q", "-b", "main"]);
    team::init(&dir, "m0", &me).unwrap();
    let mut vault = team::open(&dir, &me).unwrap();
    for (i, k) in keys.iter().enumerate().take(MEMBERS).skip(1) {
        let public = std::fs::read_to_string(k.with_extension("pub")).unwrap();
        vault.team_add(&format!("m{i}"), &public, &me).unwrap();
    }
    for i in 0..ENTRIES {
        let new = NewEntry {
            kind: Some(Kind::Password),
            username: Some("root".into()),
            hosts: Some(vec![format!("host{i}")]),
            secret: Some(SecretString::from(format!(
                "secret-{i:04}-xxxxxxxxxxxxxxxx"
            ))),
            ..NewEntry::default()
        };
        vault.add(&format!("svc/entry{i:03}"), new).unwrap();
    }
    vault.save().unwrap();
    git(&ws, &["add", "-A"]);
    git(&ws, &["commit", "-qm", "team"]);

    let public = std::fs::read_to_string(keys[MEMBERS].with_extension("pub")).unwrap();
    let t = Instant::now();
    let mut vault = team::open(&dir, &me).unwrap();
    vault.team_add("newcomer", &public, &me).unwrap();
    let add_ms = t.elapsed().as_secs_f64() * 1e3;
    git(&ws, &["add", "-A"]);
    let add_stat = git(&ws, &["diff", "--cached", "--shortstat"])
        .trim()
        .to_string();
    let add_files = git(&ws, &["diff", "--cached", "--name-only"])
        .lines()
        .count();
    let add_bytes = changed_bytes(&ws);
    git(&ws, &["commit", "-qm", "add"]);

    let t = Instant::now();
    let mut vault = team::open(&dir, &me).unwrap();
    let readable = vault.team_remove("m1", &me).unwrap();
    let remove_ms = t.elapsed().as_secs_f64() * 1e3;
    assert_eq!(readable.len(), ENTRIES);
    git(&ws, &["add", "-A"]);
    let remove_stat = git(&ws, &["diff", "--cached", "--shortstat"])
        .trim()
        .to_string();
    let remove_files = git(&ws, &["diff", "--cached", "--name-only"])
        .lines()
        .count();
    let remove_bytes = changed_bytes(&ws);
    Once {
        add_ms,
        remove_ms,
        add_stat,
        remove_stat,
        add_files,
        remove_files,
        add_bytes,
        remove_bytes,
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let runs: Vec<Once> = (0..RUNS).map(|_| once()).collect();
    let last = &runs[RUNS - 1];
    println!(
        "team vault: {ENTRIES} entries, {MEMBERS} members, median of {RUNS} (each includes opening: key.age unwrap + every entry decrypted)"
    );
    println!(
        "  team add    {:8.1} ms   git: {} file(s), {} bytes of patch  ({})",
        median(runs.iter().map(|r| r.add_ms).collect()),
        last.add_files,
        last.add_bytes,
        last.add_stat
    );
    println!(
        "  team remove {:8.1} ms   git: {} file(s), {} bytes of patch  ({})",
        median(runs.iter().map(|r| r.remove_ms).collect()),
        last.remove_files,
        last.remove_bytes,
        last.remove_stat
    );
}
