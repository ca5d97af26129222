//! Session recordings on channel-backed panes: a secret split across two chunks is masked,
//! output waits while the vault is locked (and is dropped, never written in clear, if it
//! stays locked), a file is cut at its cap and goes on in the next, pruning by age and size,
//! and a damaged recording is listed with a warning and shown up to where it breaks (the
//! real `lumen logs` binary).
#![allow(clippy::unwrap_used)]

mod common;

use common::app::{app_spec_with, close, output};
use lumen::app::{App, PaneSpec};
use lumen::record::cast::{self, Event};
use lumen::record::store;
use std::path::{Path, PathBuf};
use std::process::Command;

const VALUE: &str = "Vv-s3cret-value-2718";

fn ssh_spec(name: &str) -> PaneSpec {
    PaneSpec::Ssh {
        name: name.into(),
        target: lumen::ssh::Target::new("alice", "db1.example", 22),
        plan: None,
    }
}

/// A vault at `dir/vault.lumen` holding `db/root` = [`VALUE`], unlocked.
fn vault(dir: &Path) -> lumen::vault::VaultOwner {
    common::copilot::root_vault(dir, VALUE)
}

/// An app recording under `root`, its first tab an SSH pane on `alice@db1.example`.
fn recording_app(
    root: &Path,
    vault: lumen::vault::VaultOwner,
    adjust: impl FnOnce(&mut lumen::app::AppOptions),
) -> (App, common::app::Backends) {
    let root = root.to_path_buf();
    let (app, backends, _) = app_spec_with(100, 30, ssh_spec("db1.example"), |o| {
        o.recordings_root = Some(root);
        o.vault = vault;
        adjust(o);
    });
    (app, backends)
}

/// Every recording file under `root`, oldest first.
fn files(root: &Path) -> Vec<PathBuf> {
    store::files(root).into_iter().map(|(_, p)| p).collect()
}

/// The events of `path`, and where it broke.
fn events(path: &Path) -> (Vec<Event>, Option<String>) {
    let mut evs = Vec::new();
    let r = cast::read(path, |e| {
        evs.push(e);
        true
    });
    (evs, r.broken)
}

fn output_text(evs: &[Event]) -> String {
    evs.iter()
        .filter_map(|e| match e {
            Event::Output(_, d) => Some(d.as_str()),
            _ => None,
        })
        .collect()
}

fn markers(evs: &[Event]) -> Vec<String> {
    evs.iter()
        .filter_map(|e| match e {
            Event::Marker(_, m) => Some(m.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_secret_split_across_two_chunks_is_masked() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("recordings");
    let (mut app, backends) = recording_app(&root, vault(dir.path()), |_| {});
    let (a, b) = VALUE.split_at(9);
    output(&mut app, &backends, 0, format!("password: {a}").as_bytes());
    output(&mut app, &backends, 0, format!("{b}\r\n").as_bytes());
    // A token (no vault needed) split mid-value, with a colour change inside it too.
    let token = "ghp_Abcdefghij0123456789KLMNOPQRSTUVwxyz";
    let (t1, t2) = token.split_at(17);
    output(
        &mut app,
        &backends,
        0,
        format!("GITHUB {t1}\x1b[0m").as_bytes(),
    );
    output(&mut app, &backends, 0, format!("{t2} end\r\n").as_bytes());
    close(
        &mut app,
        &backends,
        0,
        lumen::stream::CloseReason::Exited(Some(0)),
    );
    app.finish_recordings();

    let all = files(&root);
    assert_eq!(all.len(), 1, "{all:?}");
    assert!(all[0].to_string_lossy().ends_with(".cast.gz"), "{all:?}");
    // The host is the destination made file-name safe: not in the inventory.
    assert!(
        all[0].starts_with(root.join("alice@db1.example_22")),
        "{all:?}"
    );
    let (evs, broken) = events(&all[0]);
    assert_eq!(broken, None);
    let text = output_text(&evs);
    for piece in [a, b, t1, t2, token] {
        assert!(
            !text.contains(piece),
            "{piece:?} is in the recording: {text:?}"
        );
    }
    assert!(text.contains("{{vault:db/root}}"), "{text:?}");
    assert!(text.contains("[redacted:github-token]"), "{text:?}");
    assert!(text.contains(" end\r\n"), "{text:?}");
}

#[test]
fn while_the_vault_is_locked_output_waits_for_the_unlock_and_is_never_written_in_clear() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("recordings");
    let owner = vault(dir.path());
    assert!(owner.lock());
    let (mut app, backends) = recording_app(&root, owner.clone(), |_| {});
    output(
        &mut app,
        &backends,
        0,
        format!("the value is {VALUE}\r\n").as_bytes(),
    );
    // Long enough for the writer to have taken it (and, were it not held, written it).
    std::thread::sleep(std::time::Duration::from_millis(800));
    for f in files(&root) {
        let (evs, _) = events(&f);
        assert!(
            !output_text(&evs).contains("the value is"),
            "written while locked"
        );
    }
    owner
        .unlock(&secrecy::SecretString::from("correct horse"))
        .unwrap();
    output(&mut app, &backends, 0, b"after the unlock\r\n");
    drop(app);
    let all = files(&root);
    assert_eq!(all.len(), 1, "{all:?}");
    let text = output_text(&events(&all[0]).0);
    assert!(
        text.contains("the value is {{vault:db/root}}") && !text.contains(VALUE),
        "{text:?}"
    );

    // Locked until the pane ends: the held output is dropped and the file says so.
    let root2 = dir.path().join("recordings2");
    assert!(owner.lock());
    let (mut app, backends) = recording_app(&root2, owner.clone(), |_| {});
    output(
        &mut app,
        &backends,
        0,
        format!("again {VALUE}\r\n").as_bytes(),
    );
    app.finish_recordings();
    let all = files(&root2);
    assert_eq!(all.len(), 1, "{all:?}");
    let evs = events(&all[0]).0;
    assert!(!output_text(&evs).contains(VALUE));
    let m = markers(&evs);
    assert!(
        m.iter()
            .any(|m| m.contains("not recorded") && m.contains("vault")),
        "{m:?}"
    );
}

#[test]
fn a_file_is_cut_at_its_cap_and_the_session_goes_on_in_the_next() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("recordings");
    let (mut app, backends) =
        recording_app(&root, lumen::vault::VaultOwner::new(Vec::new()), |o| {
            o.config.logs.max_file = 16 * 1024;
        });
    let mut sent = String::new();
    for i in 0..3000 {
        let line = format!("line {i:05}\r\n");
        sent.push_str(&line);
        output(&mut app, &backends, 0, line.as_bytes());
    }
    app.finish_recordings();
    let all = files(&root);
    assert!(all.len() >= 3, "{all:?}");
    let mut text = String::new();
    for (i, f) in all.iter().enumerate() {
        let (evs, broken) = events(f);
        assert_eq!(broken, None, "{f:?}");
        let size = std::fs::read(f).unwrap();
        assert!(!size.is_empty());
        if i + 1 < all.len() {
            assert!(
                markers(&evs).iter().any(|m| m.contains("size cap")),
                "{f:?} ends without the cap marker"
            );
        }
        text.push_str(&output_text(&evs));
    }
    assert_eq!(text, sent, "every byte, in order, across the files");
}

/// A flood far past what waits in memory: during the burst the writer waits and the output
/// is spilled to disk, sealed; every byte still reaches the file, in order, masked. Any spill
/// file still open under the recordings directory (unnamed: seen only through /proc) holds
/// neither the secret nor the text around it.
#[test]
fn a_flood_past_the_memory_queue_is_recorded_whole_in_order_and_never_spilled_in_clear() {
    use tokio::sync::mpsc::error::TrySendError;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("recordings");
    let (mut app, backends) = recording_app(&root, vault(dir.path()), |_| {});
    let pane = backends.borrow()[0].events.clone();
    let mut sent = String::new();
    let mut chunk = String::new();
    let total = 3 * lumen::record::writer::MAX_IN_FLIGHT;
    let mut i = 0u64;
    let mut spills_seen = Vec::new();
    while sent.len() < total {
        chunk.push_str(&format!("flood line {i:07} key {VALUE} end\r\n"));
        i += 1;
        if chunk.len() < 32 * 1024 {
            continue;
        }
        sent.push_str(&chunk);
        let mut ev = lumen::stream::StreamEvent::Data(std::mem::take(&mut chunk).into_bytes());
        loop {
            match pane.try_send(ev) {
                Ok(()) => break,
                Err(TrySendError::Full(back)) => {
                    ev = back;
                    app.pump();
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
                Err(TrySendError::Closed(_)) => panic!("the pane went away"),
            }
        }
        while app.pump() {}
        if i.is_multiple_of(64) {
            spills_seen.extend(open_spill_files(&root));
        }
    }
    spills_seen.extend(open_spill_files(&root));
    for bytes in &spills_seen {
        for needle in [VALUE.as_bytes(), b"flood line"] {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle),
                "a spill file holds {:?} in clear",
                String::from_utf8_lossy(needle)
            );
        }
    }
    close(
        &mut app,
        &backends,
        0,
        lumen::stream::CloseReason::Exited(Some(0)),
    );
    app.finish_recordings();
    let mut text = String::new();
    for f in files(&root) {
        let (evs, broken) = events(&f);
        assert_eq!(broken, None, "{f:?}");
        text.push_str(&output_text(&evs));
    }
    let want = sent.replace(VALUE, "{{vault:db/root}}");
    assert!(
        text == want,
        "the recording is not the flood, masked, in order ({} bytes, {} expected; spill files seen: {})",
        text.len(),
        want.len(),
        spills_seen.len()
    );
}

/// The contents of the unnamed (deleted) files this process has open under `root`.
fn open_spill_files(root: &Path) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for fd in std::fs::read_dir("/proc/self/fd").unwrap().flatten() {
        let Ok(target) = std::fs::read_link(fd.path()) else {
            continue;
        };
        let name = target.to_string_lossy();
        if name.starts_with(&*root.to_string_lossy())
            && name.ends_with(" (deleted)")
            && let Ok(bytes) = std::fs::read(fd.path())
        {
            out.push(bytes);
        }
    }
    out
}

/// A `.cast.gz` at `root/<host>/<date>/<name>` holding `body`, started `days_ago`.
fn fake_recording(root: &Path, host: &str, days_ago: u64, n: u64, body: &[u8]) -> PathBuf {
    let at = std::time::SystemTime::now() - std::time::Duration::from_secs(days_ago * 86_400 + n);
    let path = store::new_path(root, host, n, at).unwrap();
    let mut gz = path.as_os_str().to_owned();
    gz.push(".gz");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&gz, body).unwrap();
    PathBuf::from(gz)
}

#[test]
fn pruning_drops_recordings_past_the_age_then_the_oldest_past_the_total() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("recordings");
    let ancient = fake_recording(&root, "db1", 200, 1, &[0; 100]);
    let old = fake_recording(&root, "db1", 10, 2, &[0; 1000]);
    let mid = fake_recording(&root, "web1", 5, 3, &[0; 1000]);
    let new = fake_recording(&root, "web1", 1, 4, &[0; 1000]);
    let removed = store::prune(&root, 90, 10_000, std::time::SystemTime::now());
    assert_eq!(removed, vec![ancient.clone()]);
    assert!(
        !ancient.parent().unwrap().exists(),
        "the empty day goes too"
    );
    let removed = store::prune(&root, 90, 2_500, std::time::SystemTime::now());
    assert_eq!(removed, vec![old.clone()]);
    assert!(mid.exists() && new.exists());
    let removed = store::prune(&root, 3, 1_000_000, std::time::SystemTime::now());
    assert_eq!(removed, vec![mid]);
    assert!(new.exists());
}

fn lumen(home: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_lumen"));
    c.env_clear()
        .env("LUMEN_HOME", home)
        .env("PATH", std::env::var_os("PATH").unwrap_or_default());
    c
}

#[test]
fn a_damaged_recording_is_listed_with_a_warning_and_shown_up_to_the_break() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("lumen");
    let root = lumen::paths::Paths::under(&home).recordings_dir();
    let (mut app, backends) =
        recording_app(&root, lumen::vault::VaultOwner::new(Vec::new()), |_| {});
    for i in 0..400 {
        output(
            &mut app,
            &backends,
            0,
            format!("row {i:04} {}\r\n", "x".repeat(i % 50)).as_bytes(),
        );
    }
    app.finish_recordings();
    let good = files(&root).pop().unwrap();
    // A copy cut in the middle of its compressed stream, and a plain one with a bad line.
    let bytes = std::fs::read(&good).unwrap();
    let cut = good.with_file_name("235959-9.cast.gz");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let mut plain = Vec::new();
    std::io::Read::read_to_end(&mut cast::open(&good).unwrap(), &mut plain).unwrap();
    let text = String::from_utf8(plain).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines.insert(5, "[1.0, \"o\", unterminated");
    let corrupt = good.with_file_name("235958-8.cast");
    std::fs::write(&corrupt, lines.join("\n") + "\n").unwrap();

    let out = lumen(&home)
        .args(["logs", "list", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let recs = doc["recordings"].as_array().unwrap();
    assert_eq!(recs.len(), 3, "{doc}");
    for r in recs {
        for k in ["id", "host", "started", "duration_s", "bytes", "file"] {
            assert!(!r[k].is_null(), "{k} missing in {r}");
        }
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("235959-9.cast.gz") && stderr.contains("235958-8.cast"),
        "each damaged file has a warning: {stderr}"
    );
    let id = store::id_of(&root, &cut);
    let show = lumen(&home).args(["logs", "show", &id]).output().unwrap();
    let shown = String::from_utf8_lossy(&show.stdout);
    assert!(shown.contains("row 0000"), "{shown}");
    assert!(!shown.contains("row 0399"), "a cut file has no end");
    assert!(String::from_utf8_lossy(&show.stderr).contains("damaged"));
    let show = lumen(&home)
        .args(["logs", "show", corrupt.to_str().unwrap()])
        .output()
        .unwrap();
    let shown = String::from_utf8_lossy(&show.stdout);
    assert!(shown.contains("row 0000"), "{shown}");
    assert!(!shown.contains("row 0399"), "{shown}");
    assert!(String::from_utf8_lossy(&show.stderr).contains("line 6"));
    // The whole one: every row, no escape sequence.
    let id = store::id_of(&root, &good);
    let show = lumen(&home).args(["logs", "show", &id]).output().unwrap();
    let shown = String::from_utf8_lossy(&show.stdout);
    assert!(show.status.success() && show.stderr.is_empty(), "{show:?}");
    for i in [0, 123, 399] {
        assert!(shown.contains(&format!("row {i:04}")), "{shown}");
    }
    assert!(!shown.contains('\x1b'));
}
