//! `lumen hosts …` through the real binary, with LUMEN_HOME and HOME in a tempdir.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Self {
        let s = Self {
            dir: tempfile::tempdir().unwrap(),
        };
        std::fs::create_dir_all(s.home().join(".ssh")).unwrap();
        s
    }

    fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    fn hosts_toml(&self, workspace: &str) -> PathBuf {
        self.dir
            .path()
            .join("lumen/data/workspaces")
            .join(workspace)
            .join("hosts.toml")
    }

    fn lumen(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_lumen"))
            .arg("hosts")
            .args(args)
            .env("LUMEN_HOME", self.dir.path().join("lumen"))
            .env("HOME", self.home())
            .env("LUMEN_SSH_SYSTEM_CONFIG", "none")
            .output()
            .unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.lumen(args);
        assert!(
            out.status.success(),
            "lumen hosts {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn fails(&self, args: &[&str]) -> String {
        let out = self.lumen(args);
        assert!(!out.status.success(), "lumen hosts {args:?} should fail");
        String::from_utf8(out.stderr).unwrap()
    }
}

fn json(s: &str) -> serde_json::Value {
    serde_json::from_str(s).unwrap()
}

#[test]
fn add_list_show_edit_rm() {
    let s = Sandbox::new();
    s.ok(&[
        "add",
        "db1",
        "--hostname",
        "10.0.0.5",
        "--port",
        "2222",
        "--user",
        "admin",
        "--jump",
        "bastion",
        "--jump",
        "ops@10.0.0.1:2200",
        "--credential",
        "db1-admin",
        "--tag",
        "prod",
        "--group",
        "databases",
        "--notes",
        "primary",
        "--keepalive",
        "30",
    ]);
    s.ok(&[
        "add",
        "web1",
        "--hostname",
        "web1.example",
        "--tag",
        "staging",
    ]);
    let all = json(&s.ok(&["list", "--json"]));
    assert_eq!(all.as_array().unwrap().len(), 2);
    let prod = json(&s.ok(&["list", "--json", "--tag", "prod"]));
    assert_eq!(prod[0]["name"], "db1");
    assert_eq!(prod[0]["jump"][1], "ops@10.0.0.1:2200");
    assert_eq!(prod[0]["options"]["keepalive_interval"], 30);
    assert_eq!(
        json(&s.ok(&["list", "--json", "--group", "nope"])),
        json("[]")
    );
    assert!(s.ok(&["list"]).contains("web1.example"));

    let shown = json(&s.ok(&["show", "db1", "--json"]));
    assert_eq!(shown["host"]["credential"], "db1-admin");
    assert_eq!(shown["effective"]["hostname"][0], "10.0.0.5");
    assert_eq!(shown["effective"]["user"][0], "admin");
    assert_eq!(shown["effective"]["port"][0], "2222");
    // ssh -G brackets a numeric last hop.
    assert_eq!(
        shown["effective"]["proxyjump"][0],
        "bastion,ops@[10.0.0.1]:2200"
    );
    assert_eq!(shown["effective"]["serveraliveinterval"][0], "30");

    s.ok(&[
        "edit", "db1", "--port", "22", "--clear", "jump", "--tag", "prod", "--tag", "eu",
    ]);
    let db1 = json(&s.ok(&["show", "db1", "--json"]));
    assert_eq!(db1["host"]["port"], 22);
    assert!(db1["host"].get("jump").is_none());
    assert_eq!(db1["host"]["tags"], json(r#"["prod","eu"]"#));
    assert_eq!(db1["host"]["user"], "admin");

    s.ok(&["rm", "web1"]);
    assert_eq!(
        json(&s.ok(&["list", "--json"])).as_array().unwrap().len(),
        1
    );
}

#[test]
fn files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let s = Sandbox::new();
    s.ok(&["add", "a", "--hostname", "a.example"]);
    let path = s.hosts_toml("default");
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(path.parent().unwrap()), 0o700);
}

#[test]
fn unknown_hosts_and_duplicates_are_clear_errors() {
    let s = Sandbox::new();
    s.ok(&["add", "a"]);
    for args in [
        &["show", "ghost"][..],
        &["rm", "ghost"],
        &["edit", "ghost", "--port", "1"],
    ] {
        let err = s.fails(args);
        assert!(err.contains("no host named \"ghost\""), "{err}");
    }
    assert!(s.fails(&["add", "a"]).contains("already exists"));
    assert!(s.fails(&["add", "bad name"]).contains("host name"));
    assert!(
        s.fails(&["add", "b", "--jump", "@nohost"])
            .contains("jump host")
    );
    assert!(
        s.fails(&["list", "--workspace", "../escape"])
            .contains("workspace name")
    );
}

#[test]
fn workspaces_are_separate() {
    let s = Sandbox::new();
    s.ok(&["add", "a", "--workspace", "team"]);
    assert_eq!(json(&s.ok(&["list", "--json"])), json("[]"));
    assert_eq!(
        json(&s.ok(&["list", "--json", "--workspace", "team"]))[0]["name"],
        "a"
    );
    assert!(s.hosts_toml("team").exists());
}

#[test]
fn broken_hosts_toml_names_file_and_line() {
    let s = Sandbox::new();
    let path = s.hosts_toml("default");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, "[hosts.a]\nhostname = \"a\"\nport = 70000\n").unwrap();
    let err = s.fails(&["list"]);
    assert!(err.contains(&format!("{}:3:", path.display())), "{err}");
    // Writing refuses too, and leaves the file as it was.
    s.fails(&["add", "b"]);
    assert!(std::fs::read_to_string(&path).unwrap().contains("70000"));
}

#[test]
fn edits_keep_comments() {
    let s = Sandbox::new();
    let path = s.hosts_toml("default");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(
        &path,
        "# my fleet\n\n[hosts.b] # second\nport = 1\n\n[hosts.a]\nport = 2 # keep\n",
    )
    .unwrap();
    s.ok(&["edit", "b", "--port", "3"]);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.starts_with("# my fleet\n"), "{text}");
    assert!(text.contains("port = 2 # keep"), "{text}");
    assert!(text.find("[hosts.b]").unwrap() < text.find("[hosts.a]").unwrap());
}

const SSH_CONFIG: &str = "\
Host web1 web2
  User deploy
Host db1
  Hostname 10.0.0.5
  Port 2222
  ProxyJump bastion
  IdentityFile ~/.ssh/db_key
Host *.prod bastion
  User ops
Match host foo
  Port 1
Host !neg
";

#[test]
fn import_adds_then_updates() {
    let s = Sandbox::new();
    std::fs::write(s.home().join(".ssh/config"), SSH_CONFIG).unwrap();
    let out = s.ok(&["import"]);
    for line in [
        "added      web1",
        "added      web2",
        "added      db1",
        "added      bastion",
    ] {
        assert!(out.contains(line), "{out}");
    }
    assert!(out.contains(":8: Host *.prod"), "{out}");
    assert!(out.contains(":10: Match host foo"), "{out}");
    assert!(out.contains(":12: Host !neg"), "{out}");
    let db1 = json(&s.ok(&["show", "db1", "--json"]))["host"].clone();
    assert_eq!(db1["hostname"], "10.0.0.5");
    assert_eq!(db1["port"], 2222);
    assert_eq!(db1["jump"], json(r#"["bastion"]"#));
    assert_eq!(
        db1["options"]["identity_file"],
        json(r#"["~/.ssh/db_key"]"#)
    );
    assert_eq!(
        json(&s.ok(&["show", "bastion", "--json"]))["host"]["user"],
        "ops"
    );

    // A tag added by hand survives re-import; a changed port is reported as a change.
    s.ok(&["edit", "db1", "--tag", "mine"]);
    std::fs::write(
        s.home().join(".ssh/config"),
        SSH_CONFIG.replace("2222", "2200"),
    )
    .unwrap();
    let again = s.ok(&["import"]);
    assert!(
        again.contains("changed    db1: port 2222 -> 2200"),
        "{again}"
    );
    assert!(again.contains("unchanged  web1"), "{again}");
    assert!(again.contains("0 added"), "{again}");
    let hosts = json(&s.ok(&["list", "--json"]));
    assert_eq!(hosts.as_array().unwrap().len(), 4);
    let db1 = json(&s.ok(&["show", "db1", "--json"]))["host"].clone();
    assert_eq!(db1["tags"], json(r#"["mine"]"#));
}

#[test]
fn import_from_a_named_file_and_missing_file() {
    let s = Sandbox::new();
    let file = s.dir.path().join("other_config");
    std::fs::write(&file, "Host only\n  Port 2022\n").unwrap();
    let out = s.ok(&["import", file.to_str().unwrap()]);
    assert!(out.contains("added      only"), "{out}");
    assert!(
        s.fails(&["import", "/nonexistent/config"])
            .contains("does not exist")
    );
}

#[test]
fn resolve_prints_ssh_g_lines_and_warnings() {
    let s = Sandbox::new();
    let cfg = s.dir.path().join("cfg");
    std::fs::write(&cfg, "Host x\n  Port 2200\n  Bogus 1\n").unwrap();
    let out = s.lumen(&["resolve", "--ssh-config", cfg.to_str().unwrap(), "bob@X"]);
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.starts_with("host X\nuser bob\nhostname x\nport 22\n"),
        "{stdout}"
    );
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains(&format!("{}:3: unknown keyword 'bogus'", cfg.display())),
        "{stderr}"
    );
    let out = s.ok(&[
        "resolve",
        "--ssh-config",
        cfg.to_str().unwrap(),
        "-p",
        "1",
        "-J",
        "j",
        "x",
    ]);
    assert!(
        out.contains("\nport 1\n") && out.contains("\nproxyjump j\n"),
        "{out}"
    );
    assert!(
        s.fails(&["resolve", "--ssh-config", "/nonexistent", "x"])
            .contains("cannot read ssh config")
    );
}

/// The binary's own view of the local side (HOME, passwd entry) against `ssh -G`, both run
/// under nss_wrapper with the same fake passwd entry.
#[test]
fn binary_resolve_equals_ssh_g() {
    let s = Sandbox::new();
    let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
    let passwd = s.dir.path().join("passwd");
    let group = s.dir.path().join("group");
    std::fs::write(
        &passwd,
        format!("tester:x:{uid}:{gid}::{}:/bin/sh\n", s.home().display()),
    )
    .unwrap();
    std::fs::write(&group, format!("tester:x:{gid}:\n")).unwrap();
    let cfg = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/ssh_config/cases/06-tokens.conf");
    let run = |program: &str, args: &[&str]| {
        let out = Command::new(program)
            .args(args)
            .env("LUMEN_HOME", s.dir.path().join("lumen"))
            .env("HOME", s.home())
            .env("LUMEN_SSH_SYSTEM_CONFIG", "none")
            .env("LD_PRELOAD", "libnss_wrapper.so")
            .env("NSS_WRAPPER_PASSWD", &passwd)
            .env("NSS_WRAPPER_GROUP", &group)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{program}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let cfg = cfg.to_str().unwrap();
    let lumen = run(
        env!("CARGO_BIN_EXE_lumen"),
        &["hosts", "resolve", "--ssh-config", cfg, "t1"],
    );
    let ssh = run("ssh", &["-G", "-F", cfg, "t1"]);
    let ssh_lines: Vec<&str> = ssh.lines().collect();
    for line in lumen.lines() {
        assert!(
            ssh_lines.contains(&line),
            "lumen printed {line:?}, not in ssh -G:\n{ssh}"
        );
    }
    assert!(lumen.contains("userknownhostsfile"));
}

/// `hosts resolve` shows what `lumen connect` would use (the inventory over ssh_config);
/// `--ssh-only` shows exactly `ssh -G`'s view, which ignores the inventory.
#[test]
fn resolve_merges_the_inventory_and_ssh_only_is_ssh_g() {
    let s = Sandbox::new();
    let cfg = s.dir.path().join("cfg");
    std::fs::write(&cfg, "Host db1\n  User cfguser\n").unwrap();
    let cfg = cfg.to_str().unwrap();
    s.ok(&["add", "db1", "--hostname", "10.0.0.7", "--port", "2222"]);
    let merged = s.ok(&["resolve", "--ssh-config", cfg, "db1"]);
    assert!(
        merged.contains("\nhostname 10.0.0.7\n") && merged.contains("\nport 2222\n"),
        "{merged}"
    );
    assert!(merged.contains("\nuser cfguser\n"), "{merged}");
    let ssh_only = s.ok(&["resolve", "--ssh-only", "--ssh-config", cfg, "db1"]);
    let ssh_g = Command::new("ssh")
        .args(["-G", "-F", cfg, "db1"])
        .env("HOME", s.home())
        .output()
        .unwrap();
    let ssh_g = String::from_utf8(ssh_g.stdout).unwrap();
    assert!(ssh_only.contains("\nport 22\n"), "{ssh_only}");
    // (ssh takes its home from passwd, not $HOME: compare the lines that do not name it.)
    for keyword in ["hostname", "port", "user"] {
        let pick = |text: &str| {
            text.lines()
                .find(|l| l.split_whitespace().next() == Some(keyword))
                .map(str::to_string)
        };
        assert_eq!(pick(&ssh_only), pick(&ssh_g), "{ssh_only}\n---\n{ssh_g}");
    }
    // `:PORT` and -p are lumen connect's, and win over the inventory.
    let out = s.ok(&["resolve", "--ssh-config", cfg, "db1:2200"]);
    assert!(out.contains("\nport 2200\n"), "{out}");
}
