//! `lumen run` end to end: the real binary against real OpenSSH `sshd`s on loopback as the
//! hosts of a group. Parameters and a vault placeholder bound to some hosts; the value in no
//! output, no file and no remote argv (`/proc/*/cmdline` read while the step runs);
//! `on_failure`; `--parallel` (observed on the hosts, not timed); unreachable hosts, refused
//! logins, timeouts, the output cap, Ctrl-C; approval without a terminal; format errors;
//! the history.
#![allow(clippy::unwrap_used)]

mod common;

use common::fleet::{Fleet, json_of};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::path::Path;
use std::time::{Duration, Instant};

const SECRET: &str = "Tok3n-Zq81xVv-runbook-7741";
const PASSPHRASE: &str = "fleet passphrase 42";
const WAIT: Duration = Duration::from_secs(30);

fn status(report: &Value) -> Vec<(String, String)> {
    report["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["host"].as_str().unwrap().to_string(),
                h["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn code(out: &std::process::Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

fn text(out: &std::process::Output) -> String {
    format!(
        "stdout {}\nstderr {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Every file under `dir` that contains `needle`.
fn files_containing(dir: &Path, needle: &[u8]) -> Vec<String> {
    let mut hits = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return hits;
    };
    for e in rd.flatten() {
        let p = e.path();
        let Ok(t) = e.file_type() else { continue };
        if t.is_dir() {
            hits.extend(files_containing(&p, needle));
        } else if t.is_file()
            && let Ok(bytes) = std::fs::read(&p)
            && bytes.windows(needle.len()).any(|w| w == needle)
        {
            hits.push(p.display().to_string());
        }
    }
    hits
}

/// Command lines of all processes, NUL-separated as in /proc.
fn cmdlines() -> Vec<Vec<u8>> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
        .collect()
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < WAIT, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Three sshds as web01..web03 of group web.
fn web() -> Fleet {
    let mut f = Fleet::start(3);
    for i in 0..3 {
        let port = f.port(i);
        f.host(&format!("web0{}", i + 1), port, &["web"]);
    }
    f
}

fn init_vault(f: &Fleet) -> String {
    let pass = f.cli.dir.path().join("pass");
    std::fs::write(&pass, format!("{PASSPHRASE}\n")).unwrap();
    let secret = f.cli.dir.path().join("secret");
    std::fs::write(&secret, SECRET).unwrap();
    let p = pass.display().to_string();
    let s = secret.display().to_string();
    let init = f.cli.lumen(
        &[
            "vault",
            "--passphrase-file",
            &p,
            "init",
            "--kdf-memory",
            "64",
            "--kdf-time",
            "1",
            "--kdf-lanes",
            "1",
        ],
        &[],
    );
    assert!(init.status.success(), "{}", text(&init));
    let add = f.cli.lumen(
        &[
            "vault",
            "--passphrase-file",
            &p,
            "add",
            "web-token",
            "--kind",
            "api-key",
            "--host",
            "web01",
            "--host",
            "web02",
            "--secret-file",
            &s,
        ],
        &[],
    );
    assert!(add.status.success(), "{}", text(&add));
    std::fs::remove_file(&secret).unwrap();
    p
}

#[test]
fn a_group_runs_params_and_a_bound_secret_that_reaches_no_output_file_or_argv() {
    let f = web();
    let pass = init_vault(&f);
    let marks = f.cli.dir.path().join("marks");
    std::fs::create_dir_all(&marks).unwrap();
    f.runbook(
        "check",
        &format!(
            r#"description = "three steps"
targets = "@web"
on_failure = "continue"

[[params]]
name = "word"
pattern = "[a-z ;']+"

[[steps]]
name = "hello"
run = "printf 'hello %s\n' {{{{word}}}}"

[[steps]]
name = "use the token"
run = "tok={{{{vault:web-token}}}}; printf '%s' \"$tok\" | sha256sum | cut -c1-16; touch {marks}/$$; sleep 2"

[[steps]]
name = "echo it back"
run = "printf 'got %s\n' '{{{{vault:web-token}}}}'"
"#,
            marks = marks.display()
        ),
    );
    let child = f
        .run_command(&[
            "check",
            "-p",
            "word=it's a; test",
            "--yes",
            "--json",
            "--passphrase-file",
            &pass,
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // While the token step runs on both bound hosts, no process on this machine (the hosts
    // are loopback sshds) has the value on its command line; lumen's fixed shell is what runs.
    wait_until("the token step on two hosts", || {
        std::fs::read_dir(&marks).unwrap().count() >= 2
    });
    let lines = cmdlines();
    assert!(
        lines.iter().any(|l| l.starts_with(b"sh\0-c\0exec 3<&0")),
        "lumen's step shell not seen while the step runs"
    );
    let leaked: Vec<String> = lines
        .iter()
        .filter(|l| l.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()))
        .map(|l| String::from_utf8_lossy(l).into_owned())
        .collect();
    assert!(leaked.is_empty(), "secret on a command line: {leaked:?}");
    let out = child.wait_with_output().unwrap();
    assert_eq!(code(&out), 1, "web03 failed: {}", text(&out));
    let report = json_of(&out);
    assert_eq!(
        status(&report),
        [
            ("web01".into(), "ok".into()),
            ("web02".into(), "ok".into()),
            ("web03".into(), "failed".into())
        ]
    );
    assert_eq!(report["runbook"], "check");
    assert_eq!(report["params"]["word"], "it's a; test");
    for key in ["started", "finished"] {
        assert!(report[key].as_str().unwrap().ends_with('Z'), "{report}");
    }
    let hash: String = Sha256::digest(SECRET.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let web01 = &report["hosts"][0]["steps"];
    let keys: Vec<&String> = web01[0].as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "command",
            "duration_ms",
            "error",
            "exit",
            "name",
            "stderr",
            "stdout",
            "truncated"
        ]
    );
    assert_eq!(
        web01[0]["stdout"], "hello it's a; test\n",
        "the value arrived as one word"
    );
    assert_eq!(
        web01[0]["command"],
        "printf 'hello %s\n' 'it'\\''s a; test'"
    );
    assert_eq!(web01[0]["exit"], 0);
    assert_eq!(web01[1]["stdout"], format!("{}\n", &hash[..16]));
    assert_eq!(
        web01[1]["command"]
            .as_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap(),
        "tok={{vault:web-token}}"
    );
    let echoed = web01[2]["stdout"].as_str().unwrap();
    assert!(
        echoed.starts_with("got ") && !echoed.contains(SECRET),
        "{echoed}"
    );
    assert!(web01[2]["error"].is_null() && web01[2]["truncated"] == false);
    // web03 is in the group but the entry is not bound to it: that step fails with the
    // reason, nothing ran with an empty value, and its later steps are not listed.
    let web03 = report["hosts"][2]["steps"].as_array().unwrap();
    assert_eq!(web03.len(), 2, "{report}");
    assert!(web03[1]["exit"].is_null());
    let why = web03[1]["error"].as_str().unwrap();
    assert!(why.contains("web-token") && why.contains("web03"), "{why}");
    assert_eq!(std::fs::read_dir(&marks).unwrap().count(), 2);
    // Nowhere: stdout, stderr, any file of lumen's home or of the hosts' sshd directories.
    for stream in [&out.stdout, &out.stderr] {
        assert!(!String::from_utf8_lossy(stream).contains(SECRET));
    }
    let mut dirs = vec![
        f.cli.dir.path().to_path_buf(),
        f.cli.sshd.dir.path().to_path_buf(),
    ];
    dirs.extend(f.extra.iter().map(|s| s.dir.path().to_path_buf()));
    for d in dirs {
        let hits = files_containing(&d, SECRET.as_bytes());
        assert!(hits.is_empty(), "secret in {hits:?}");
    }
    // Each use audited as the copilot's are, naming the host.
    let audit = std::fs::read_to_string(f.cli.dir.path().join("lumen/data/vault.audit.jsonl"))
        .unwrap_or_default();
    for host in ["web01", "web02"] {
        assert!(
            audit
                .lines()
                .any(|l| l.contains("web-token") && l.contains(host)),
            "{audit}"
        );
    }
    // The history keeps the run, placeholders only.
    let h = f.run(&["--history", "check", "--json"]);
    let runs = json_of(&h);
    assert_eq!(runs.as_array().unwrap().len(), 1);
    assert_eq!(
        runs[0]["hosts"][0]["steps"][1]["command"],
        web01[1]["command"]
    );
}

#[test]
fn on_failure_stop_skips_new_hosts_and_continue_runs_all() {
    let f = web();
    for (name, mode) in [("stop", "stop"), ("cont", "continue")] {
        f.runbook(
            name,
            &format!(
                "targets = \"web*\"\non_failure = \"{mode}\"\n[[steps]]\nname = \"fail\"\nrun = \"echo on $(hostname); exit 3\"\n"
            ),
        );
    }
    let out = f.run(&["stop", "--parallel", "1", "--yes", "--json"]);
    assert_eq!(code(&out), 1, "{}", text(&out));
    let r = json_of(&out);
    assert_eq!(
        status(&r),
        [
            ("web01".into(), "failed".into()),
            ("web02".into(), "skipped".into()),
            ("web03".into(), "skipped".into())
        ]
    );
    assert_eq!(r["hosts"][0]["steps"][0]["exit"], 3);
    assert_eq!(r["hosts"][1]["steps"].as_array().unwrap().len(), 0);
    let out = f.run(&["cont", "--parallel", "1", "--yes", "--json"]);
    let r = json_of(&out);
    assert!(status(&r).iter().all(|(_, s)| s == "failed"), "{r}");
    // Without --json: identical outputs gathered, failures per host.
    let out = f.run(&["stop", "--parallel", "1", "--yes"]);
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(
        summary.contains("FAILED web01: step \"fail\": exit 3"),
        "{summary}"
    );
    assert!(
        summary.contains("skipped (not started): web[02-03]"),
        "{summary}"
    );
    f.runbook(
        "same",
        "targets = \"@web\"\n[[steps]]\nname = \"s\"\nrun = \"echo active\"\n",
    );
    let out = f.run(&["same", "--yes"]);
    assert_eq!(code(&out), 0, "{}", text(&out));
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(
        summary.contains("web[01-03] (3 hosts): active"),
        "{summary}"
    );
}

#[test]
fn parallel_limits_how_many_hosts_run_at_once() {
    // Six hosts on three sshds; each step records how many steps were running when it
    // started and waits (up to 5 s) until three run together. Concurrency is observed on the
    // hosts, not inferred from timings.
    let mut f = Fleet::start(3);
    for i in 0..6 {
        let port = f.port(i % 3);
        f.host(&format!("h{i}"), port, &["six"]);
    }
    let dir = f.cli.dir.path().join("running");
    std::fs::create_dir_all(&dir).unwrap();
    let d = dir.display();
    f.runbook(
        "par",
        &format!(
            "targets = \"@six\"\n[[steps]]\nname = \"s\"\nrun = '''\ntouch {d}/r.$$\nfirst=$(ls {d} | wc -l)\ni=0\nwhile [ \"$(ls {d} | wc -l)\" -lt 3 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done\nseen=$(ls {d} | wc -l)\nsleep 1\nrm {d}/r.$$\necho \"$first $seen\"\n'''\n"
        ),
    );
    let out = f.run(&["par", "--parallel", "3", "--yes", "--json"]);
    assert_eq!(code(&out), 0, "{}", text(&out));
    let r = json_of(&out);
    let counts: Vec<(u32, u32)> = r["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            let s = h["steps"][0]["stdout"].as_str().unwrap();
            let mut it = s.split_whitespace().map(|n| n.parse::<u32>().unwrap());
            (it.next().unwrap(), it.next().unwrap())
        })
        .collect();
    assert_eq!(counts.len(), 6);
    assert!(
        counts.iter().all(|(first, _)| *first <= 3),
        "more than 3 at once: {counts:?}"
    );
    assert!(
        counts.iter().any(|(_, seen)| *seen == 3),
        "never 3 at once: {counts:?}"
    );
}

#[test]
fn unreachable_refused_login_timeout_and_output_cap() {
    let mut f = web();
    // Nothing listens on this port; this sshd does not know our key (its host key is known).
    let closed = common::free_port();
    f.host("gone", closed, &["bad"]);
    let locked_out = common::Sshd::start("").unwrap();
    let kh = locked_out.path("kh");
    locked_out.known_hosts_file(&kh);
    let known = f.cli.dir.path().join("home/.ssh/known_hosts");
    let mut all = std::fs::read_to_string(&known).unwrap();
    all.push_str(&std::fs::read_to_string(&kh).unwrap());
    std::fs::write(&known, all).unwrap();
    f.host("noauth", locked_out.port, &["bad"]);
    f.runbook(
        "hi",
        "on_failure = \"continue\"\n[[steps]]\nname = \"hi\"\nrun = \"echo hi\"\n",
    );
    let out = f.run(&["hi", "web01", "@bad", "--yes", "--json"]);
    assert_eq!(code(&out), 1, "{}", text(&out));
    let r = json_of(&out);
    assert_eq!(
        status(&r),
        [
            ("web01".into(), "ok".into()),
            ("gone".into(), "unreachable".into()),
            ("noauth".into(), "unreachable".into())
        ]
    );
    for h in 1..3 {
        let step = &r["hosts"][h]["steps"][0];
        assert!(step["exit"].is_null() && step["error"].is_string(), "{r}");
    }
    let noauth = r["hosts"][2]["steps"][0]["error"]
        .as_str()
        .unwrap()
        .to_lowercase();
    assert!(noauth.contains("auth"), "{noauth}");

    f.runbook(
        "slow",
        "timeout = \"1s\"\n[[steps]]\nname = \"slow\"\nrun = \"sleep 37.25; echo late\"\n",
    );
    let out = f.run(&["slow", "web01", "--yes", "--json"]);
    let step = &json_of(&out)["hosts"][0]["steps"][0];
    assert!(step["exit"].is_null(), "{step}");
    assert!(
        step["error"].as_str().unwrap().contains("timed out"),
        "{step}"
    );
    wait_until("the timed-out command to be stopped on the host", || {
        !cmdlines()
            .iter()
            .any(|l| String::from_utf8_lossy(l).contains("37.25"))
    });

    f.runbook(
        "flood",
        "[[steps]]\nname = \"flood\"\nrun = \"head -c 5000000 /dev/zero | tr '\\\\0' x; echo end\"\n",
    );
    let out = f.run(&["flood", "web01", "--yes", "--json"]);
    assert_eq!(code(&out), 1, "{}", text(&out));
    let step = &json_of(&out)["hosts"][0]["steps"][0];
    assert_eq!(step["truncated"], true);
    assert!(step["exit"].is_null());
    assert!(step["error"].as_str().unwrap().contains("output"), "{step}");
    let kept = step["stdout"].as_str().unwrap().len();
    assert!(kept <= 1024 * 1024 && kept > 0, "{kept}");
}

#[test]
fn ctrl_c_stops_running_steps_and_starts_nothing_new() {
    let f = web();
    let marks = f.cli.dir.path().join("marks");
    std::fs::create_dir_all(&marks).unwrap();
    f.runbook(
        "long",
        &format!(
            "targets = \"@web\"\n[[steps]]\nname = \"long\"\nrun = \"touch {}/$$; sleep 41.75; echo never\"\n[[steps]]\nname = \"next\"\nrun = \"echo next\"\n",
            marks.display()
        ),
    );
    let child = f
        .run_command(&["long", "--parallel", "1", "--yes", "--json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    wait_until("the first host's step", || {
        std::fs::read_dir(&marks).unwrap().count() == 1
    });
    // SAFETY: signalling the child this test started.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    let out = child.wait_with_output().unwrap();
    assert_eq!(code(&out), 1, "{}", text(&out));
    let r = json_of(&out);
    assert_eq!(
        status(&r),
        [
            ("web01".into(), "failed".into()),
            ("web02".into(), "skipped".into()),
            ("web03".into(), "skipped".into())
        ]
    );
    let steps = r["hosts"][0]["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 1);
    assert!(
        steps[0]["error"].as_str().unwrap().contains("cancelled"),
        "{r}"
    );
    assert_eq!(
        std::fs::read_dir(&marks).unwrap().count(),
        1,
        "nothing new started"
    );
    wait_until("the cancelled command to be stopped on the host", || {
        !cmdlines()
            .iter()
            .any(|l| String::from_utf8_lossy(l).contains("41.75"))
    });
}

#[test]
fn without_a_terminal_nothing_runs_unless_approved() {
    let f = web();
    let mark = f.cli.dir.path().join("ran");
    let m = mark.display();
    f.runbook(
        "touch",
        &format!("targets = \"web01\"\n[[steps]]\nname = \"t\"\nrun = \"touch {m}\"\n"),
    );
    f.runbook(
        "wipe",
        &format!(
            "targets = \"web01\"\n[[steps]]\nname = \"w\"\nrun = \"rm -rf {m}.d; touch {m}\"\n"
        ),
    );
    f.runbook(
        "svc",
        &format!(
            "targets = \"web01\"\n[[params]]\nname = \"svc\"\npattern = \"^[a-z]+$\"\n[[steps]]\nname = \"t\"\nrun = \"touch {m}; echo {{{{svc}}}}\"\n"
        ),
    );
    let cases: [&[&str]; 4] = [
        &["touch"],
        &["wipe", "--yes"],
        &["svc", "--yes", "-p", "svc=nginx; reboot"],
        &["svc", "--yes", "-p", "other=x"],
    ];
    for args in cases {
        let out = f.run(args);
        assert_eq!(code(&out), 2, "{args:?}: {}", text(&out));
        assert!(!mark.exists(), "{args:?} ran");
    }
    let refused = f.run(&["wipe", "--yes"]);
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(
        err.contains("--allow-high") && err.contains("nothing ran"),
        "{err}"
    );
    // The plan shows the risk and why.
    assert!(err.contains("risk high") && err.contains("rm"), "{err}");
    let out = f.run(&["wipe", "--yes", "--allow-high"]);
    assert_eq!(code(&out), 0, "{}", text(&out));
    assert!(mark.exists());
    // Dry run: the plan, nothing run.
    std::fs::remove_file(&mark).unwrap();
    let out = f.run(&["svc", "-p", "svc=nginx", "--dry-run"]);
    assert_eq!(code(&out), 0, "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("echo nginx"));
    assert!(!mark.exists());
}

#[test]
fn format_errors_name_file_line_and_key_and_list_shows_the_catalog() {
    let f = web();
    f.runbook("good", "description = \"fine\"\n[[params]]\nname = \"n\"\ndefault = \"1\"\n[[steps]]\nname = \"s\"\nrun = \"echo {{n}}\"\n");
    let snippets = f.workspace().join("snippets.toml");
    std::fs::write(
        &snippets,
        "[[snippets]]\nname = \"disk\"\ndescription = \"free space\"\nrun = \"df -h\"\n",
    )
    .unwrap();
    let out = f.run(&["--list"]);
    assert_eq!(code(&out), 0, "{}", text(&out));
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(
        listed.contains("good") && listed.contains("fine") && listed.contains("n=\"1\""),
        "{listed}"
    );
    assert!(
        listed.contains("disk") && listed.contains("free space"),
        "{listed}"
    );
    // A snippet runs as a one-step runbook; the history lists both runs.
    let out = f.run(&["disk", "web01", "--yes", "--json"]);
    assert_eq!(code(&out), 0, "{}", text(&out));
    assert_eq!(json_of(&out)["hosts"][0]["steps"][0]["command"], "df -h");
    let out = f.run(&["good", "web02", "--yes"]);
    assert_eq!(code(&out), 0, "{}", text(&out));
    let h = f.run(&["--history"]);
    let listed = String::from_utf8_lossy(&h.stdout);
    assert!(
        listed.contains("disk  1 hosts: 1 ok") && listed.contains("good  1 hosts: 1 ok"),
        "{listed}"
    );
    let bad = f.runbook(
        "bad",
        "description = \"x\"\n\n[[steps]]\nname = \"s\"\nrun = \"echo\"\nconfrim = true\n",
    );
    let out = f.run(&["--list"]);
    assert_eq!(code(&out), 2);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("{}:6:", bad.display())) && err.contains("confrim"),
        "{err}"
    );
    std::fs::remove_file(&bad).unwrap();
    let personal = f.cli.dir.path().join("lumen/config/runbooks");
    std::fs::create_dir_all(&personal).unwrap();
    std::fs::write(
        personal.join("good.toml"),
        "[[steps]]\nname = \"s\"\nrun = \"id\"\n",
    )
    .unwrap();
    let out = f.run(&["good", "--dry-run"]);
    assert_eq!(code(&out), 2);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("runbooks/good.toml and ") && err.contains("config/runbooks/good.toml"),
        "{err}"
    );
}

#[test]
fn hosts_behind_a_jump_host_run_through_its_one_login() {
    const FORWARD: &str = "server_request_direct_tcpip";
    const ACCEPTED: &str = "Accepted publickey";
    let mut f = Fleet::start(3);
    let bastion = common::Sshd::start_logged("");
    bastion.authorize(&f.cli.key.with_extension("pub"));
    let kh = bastion.path("kh");
    bastion.known_hosts_file(&kh);
    let known = f.cli.dir.path().join("home/.ssh/known_hosts");
    let mut all = std::fs::read_to_string(&known).unwrap();
    all.push_str(&std::fs::read_to_string(&kh).unwrap());
    std::fs::write(&known, all).unwrap();
    f.host("bastion", bastion.port, &[]);
    for i in 1..3 {
        let port = f.port(i);
        f.host(&format!("inner{i}"), port, &["inner"]);
    }
    // Route the inner hosts through the bastion (a jump hop takes the inventory's key, not
    // -i, as with ssh -J).
    let hosts = f.workspace().join("hosts.toml");
    let mut routed = std::fs::read_to_string(&hosts).unwrap().replace(
        "groups = [\"inner\"]",
        "groups = [\"inner\"]\njump = [\"bastion\"]",
    );
    routed.push_str(&format!(
        "[hosts.bastion.options]\nidentity_file = [{:?}]\n",
        f.cli.key.display().to_string()
    ));
    std::fs::write(&hosts, routed).unwrap();
    f.runbook(
        "hi",
        "[[steps]]\nname = \"a\"\nrun = \"echo a\"\n[[steps]]\nname = \"b\"\nrun = \"echo b\"\n",
    );
    let out = f.run(&["hi", "@inner", "--yes", "--json"]);
    assert_eq!(code(&out), 0, "{}", text(&out));
    assert_eq!(
        status(&json_of(&out)),
        [
            ("inner1".into(), "ok".into()),
            ("inner2".into(), "ok".into())
        ]
    );
    assert!(bastion.wait_log(FORWARD, 2), "{}", bastion.log());
    assert_eq!(bastion.log_count(ACCEPTED), 1, "one login to the jump host");
}
