//! `ssh -G` parity: every case of tests/fixtures/ssh_config/cases is resolved by the real
//! OpenSSH client and by lumen, and every keyword lumen prints must carry the same values.
//!
//! ssh takes `~` from the passwd entry and Include globs from `$HOME`; nss_wrapper gives ssh a
//! passwd entry whose home is the fixture home, so nothing outside the tempdir is read.
#![allow(clippy::unwrap_used)]

use lumen::ssh::config::{ResolveOptions, SSH_G_KEYWORDS, resolve};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

const LOCAL_USER: &str = "tester";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ssh_config")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), &dest).unwrap();
        }
    }
}

/// A fake home (copy of the fixture home) plus passwd/group files naming it.
struct Env {
    _dir: tempfile::TempDir,
    home: PathBuf,
    passwd: PathBuf,
    group: PathBuf,
}

fn make_env() -> Env {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    copy_dir(&fixtures().join("home"), &home);
    // ssh refuses included files that others may write; normalise whatever the checkout did.
    for sub in ["", ".ssh", ".ssh/conf.d", ".ssh/conf.d/nested"] {
        let d = home.join(sub);
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o700)).unwrap();
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_file() {
                std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
            }
        }
    }
    let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
    let passwd = dir.path().join("passwd");
    let group = dir.path().join("group");
    std::fs::write(
        &passwd,
        format!(
            "{LOCAL_USER}:x:{uid}:{gid}:Tester:{}:/bin/sh\n",
            home.display()
        ),
    )
    .unwrap();
    std::fs::write(&group, format!("{LOCAL_USER}:x:{gid}:\n")).unwrap();
    Env {
        _dir: dir,
        home,
        passwd,
        group,
    }
}

/// ssh arguments of one `# run:` line.
#[derive(Debug, Default)]
struct Run {
    port: Option<u16>,
    jump: Option<String>,
    login: Option<String>,
    target: String,
    argv: Vec<String>,
}

fn parse_run(line: &str) -> Run {
    let argv: Vec<String> = line.split_whitespace().map(str::to_string).collect();
    let mut run = Run {
        argv: argv.clone(),
        ..Run::default()
    };
    let mut it = argv.into_iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-p" => run.port = Some(it.next().unwrap().parse().unwrap()),
            "-J" => run.jump = it.next(),
            "-l" => run.login = it.next(),
            _ => run.target = a,
        }
    }
    run
}

struct SshOutput {
    ok: bool,
    values: BTreeMap<String, Vec<String>>,
    stderr: String,
}

fn run_ssh(env: &Env, config: &Path, run: &Run) -> SshOutput {
    let out = Command::new("ssh")
        .arg("-G")
        .arg("-F")
        .arg(config)
        .args(&run.argv)
        .env("HOME", &env.home)
        .env("LD_PRELOAD", "libnss_wrapper.so")
        .env("NSS_WRAPPER_PASSWD", &env.passwd)
        .env("NSS_WRAPPER_GROUP", &env.group)
        .output()
        .expect("ssh (openssh-client) must be installed: scripts/install-test-deps.sh");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !stderr.contains("ERROR: ld.so"),
        "nss_wrapper missing (libnss-wrapper; scripts/install-test-deps.sh): {stderr}"
    );
    let mut values: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        if let Some((k, v)) = line.split_once(' ') {
            values.entry(k.to_string()).or_default().push(v.to_string());
        }
    }
    SshOutput {
        ok: out.status.success(),
        values,
        stderr,
    }
}

fn local_options(env: &Env, config: &Path, run: &Run) -> ResolveOptions {
    ResolveOptions {
        user: run.login.clone(),
        port: run.port,
        jump: run.jump.clone(),
        config_file: Some(config.to_path_buf()),
        home_dir: env.home.clone(),
        local_user: LOCAL_USER.into(),
        ..ResolveOptions::from_env()
    }
}

/// Line numbers ssh complains about (`FILE line N:` or `FILE: line N:`).
fn ssh_error_lines(stderr: &str) -> Vec<usize> {
    let mut lines = Vec::new();
    for l in stderr.lines() {
        if let Some(i) = l.find("line ") {
            let digits: String = l[i + 5..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            if let Ok(n) = digits.parse() {
                lines.push(n);
            }
        }
    }
    lines
}

fn cases() -> Vec<(PathBuf, Run)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(fixtures().join("cases"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "conf"))
        .collect();
    files.sort();
    let mut cases = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for line in text.lines() {
            if let Some(args) = line.trim_end_matches('\r').strip_prefix("# run: ") {
                cases.push((f.clone(), parse_run(args)));
            }
        }
    }
    cases
}

#[test]
fn corpus_is_big_enough() {
    let cases = cases();
    let files: std::collections::BTreeSet<_> = cases.iter().map(|(f, _)| f.clone()).collect();
    assert!(files.len() >= 25, "only {} config files", files.len());
    assert!(cases.len() >= 50, "only {} runs", cases.len());
}

#[test]
fn resolve_matches_ssh_dash_g() {
    let env = make_env();
    let mut failures = Vec::new();
    let mut compared = 0;
    for (file, run) in cases() {
        let name = format!(
            "{} [{}]",
            file.file_name().unwrap().to_string_lossy(),
            run.argv.join(" ")
        );
        let ssh = run_ssh(&env, &file, &run);
        let lumen = resolve(&run.target, &local_options(&env, &file, &run));
        let bad = file
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("bad-");
        if bad {
            if ssh.ok {
                failures.push(format!(
                    "{name}: ssh accepted a config the corpus calls bad"
                ));
            }
            let lumen = lumen.unwrap();
            for n in ssh_error_lines(&ssh.stderr) {
                if !lumen.warnings.iter().any(|w| w.line == n && w.file == file) {
                    failures.push(format!(
                        "{name}: ssh rejects line {n} but lumen does not warn there; lumen warned: {:?}",
                        lumen.warnings.iter().map(ToString::to_string).collect::<Vec<_>>()
                    ));
                }
            }
            continue;
        }
        if !ssh.ok {
            failures.push(format!("{name}: ssh failed: {}", ssh.stderr.trim()));
            continue;
        }
        let lumen = match lumen {
            Ok(r) => r,
            Err(e) => {
                failures.push(format!("{name}: lumen failed: {e}"));
                continue;
            }
        };
        for k in SSH_G_KEYWORDS {
            let expected = ssh.values.get(*k).cloned().unwrap_or_default();
            let got = lumen.ssh_g_values(k);
            compared += 1;
            if expected != got {
                failures.push(format!("{name}: {k}: ssh {expected:?}, lumen {got:?}"));
            }
        }
    }
    assert!(compared > 0);
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn exec_is_never_run_and_warned() {
    let env = make_env();
    let file = fixtures().join("cases/13-match-exec.conf");
    let r = resolve("x", &local_options(&env, &file, &Run::default())).unwrap();
    let w = r
        .warnings
        .iter()
        .find(|w| w.message.contains("exec"))
        .unwrap();
    assert_eq!(w.line, 4);
    assert_eq!(r.port, 2);
}

fn compare(name: &str, ssh: &SshOutput, lumen: &lumen::ssh::config::Resolved) -> Vec<String> {
    assert!(ssh.ok, "{name}: ssh failed: {}", ssh.stderr);
    SSH_G_KEYWORDS
        .iter()
        .filter_map(|k| {
            let expected = ssh.values.get(*k).cloned().unwrap_or_default();
            let got = lumen.ssh_g_values(k);
            (expected != got).then(|| format!("{name}: {k}: ssh {expected:?}, lumen {got:?}"))
        })
        .collect()
}

/// Without -F: ~/.ssh/config (from the fake home) then the system config, as `ssh host` reads.
#[test]
fn default_files_match_ssh_without_dash_f() {
    let env = make_env();
    let user_config = env.home.join(".ssh/config");
    std::fs::copy(
        fixtures().join("cases/14-include-in-host.conf"),
        &user_config,
    )
    .unwrap();
    let mut failures = Vec::new();
    for host in ["inc", "other", "third"] {
        let out = Command::new("ssh")
            .args(["-G", host])
            .env("HOME", &env.home)
            .env("LD_PRELOAD", "libnss_wrapper.so")
            .env("NSS_WRAPPER_PASSWD", &env.passwd)
            .env("NSS_WRAPPER_GROUP", &env.group)
            .output()
            .unwrap();
        let mut values: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            if let Some((k, v)) = line.split_once(' ') {
                values.entry(k.to_string()).or_default().push(v.to_string());
            }
        }
        let ssh = SshOutput {
            ok: out.status.success(),
            values,
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        let opts = ResolveOptions {
            config_file: None,
            system_config: Some(lumen::ssh::config::SYSTEM_CONFIG.into()),
            home_dir: env.home.clone(),
            local_user: LOCAL_USER.into(),
            ..ResolveOptions::from_env()
        };
        failures.extend(compare(host, &ssh, &resolve(host, &opts).unwrap()));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// ssh refuses an included file others can write; lumen skips it with a warning.
#[test]
fn writable_include_is_refused_like_ssh() {
    use std::os::unix::fs::PermissionsExt;
    let env = make_env();
    let inc = env.home.join(".ssh/conf.d/a.conf");
    std::fs::set_permissions(&inc, std::fs::Permissions::from_mode(0o666)).unwrap();
    let file = fixtures().join("cases/15-include-top.conf");
    let run = parse_run("any");
    let ssh = run_ssh(&env, &file, &run);
    assert!(
        !ssh.ok && ssh.stderr.contains("Bad owner or permissions"),
        "{}",
        ssh.stderr
    );
    let r = resolve("any", &local_options(&env, &file, &run)).unwrap();
    assert_eq!(r.user, "later", "the writable file's User must not apply");
    let w = r
        .warnings
        .iter()
        .find(|w| w.message.contains("permissions"))
        .unwrap();
    assert_eq!((w.file.as_path(), w.line), (file.as_path(), 3));
}
