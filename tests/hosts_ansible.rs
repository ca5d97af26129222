//! The inventory handed to Ansible (ansible-core from scripts/ansible-venv.sh's venv):
//! `ansible-inventory` reads `lumen hosts export` through the one-line wrapper README shows, and
//! the static YAML of `--format ansible-yaml`, and finds the hosts, ports, users and groups
//! `lumen hosts list --json` lists; `ansible -m ping` reaches loopback sshd hosts with it,
//! directly and through a jump host (the jump's sshd log shows the forward).
#![allow(clippy::unwrap_used)]

mod common;

use common::venv;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        let env = Env {
            dir: tempfile::tempdir().unwrap(),
        };
        std::fs::create_dir_all(env.path("home")).unwrap();
        env
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn lumen(&self, args: &[&str]) -> Output {
        let out = Command::new(env!("CARGO_BIN_EXE_lumen"))
            .args(args)
            .env("HOME", self.path("home"))
            .env("LUMEN_HOME", self.path("lumen"))
            .env("SSH_AUTH_SOCK", "")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "lumen {args:?}: {}",
            text(&out.stderr)
        );
        out
    }

    fn wrapper(&self) -> PathBuf {
        venv::inventory_wrapper(self.dir.path())
    }

    fn ansible(&self, program: &str, args: &[&str], extra: &[(&str, &str)]) -> Output {
        let mut cmd = venv::ansible(
            program,
            self.dir.path(),
            &self.path("home"),
            &self.path("lumen"),
        );
        cmd.args(args);
        for (k, v) in extra {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// host → (ansible_host, ansible_port, ansible_user, groups) from `ansible-inventory --list`.
type Seen = BTreeMap<String, (String, u64, String, BTreeSet<String>)>;

fn ansible_view(list: &Value) -> Seen {
    // A host is in a group when it is in the group's hosts or in one of its children.
    fn members(list: &Value, group: &str, depth: usize) -> BTreeSet<String> {
        let def = &list[group];
        let mut out: BTreeSet<String> = def["hosts"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|h| h.as_str().unwrap().to_string())
            .collect();
        assert!(depth < 16, "children loop at {group}");
        for child in def["children"].as_array().into_iter().flatten() {
            out.extend(members(list, child.as_str().unwrap(), depth + 1));
        }
        out
    }
    let mut groups: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for g in list.as_object().unwrap().keys() {
        if g == "_meta" || g == "all" || g == "ungrouped" {
            continue;
        }
        for h in members(list, g, 0) {
            groups.entry(h).or_default().insert(g.clone());
        }
    }
    list["_meta"]["hostvars"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(name, v)| {
            (
                name.clone(),
                (
                    v["ansible_host"].as_str().unwrap_or(name).to_string(),
                    v["ansible_port"].as_u64().unwrap_or(22),
                    v["ansible_user"].as_str().unwrap_or("").to_string(),
                    groups.remove(name).unwrap_or_default(),
                ),
            )
        })
        .collect()
}

/// The same, from `lumen hosts list --json`: groups as they are, tags as `tag_TAG` with the
/// characters Ansible does not allow in a group name turned into `_`.
fn lumen_view(list: &Value) -> Seen {
    let ident = |s: &str| -> String {
        s.chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect()
    };
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .into_iter()
            .flatten()
            .map(|x| x.as_str().unwrap().to_string())
            .collect()
    };
    list.as_array()
        .unwrap()
        .iter()
        .map(|h| {
            let mut groups: BTreeSet<String> =
                strings(&h["groups"]).iter().map(|g| ident(g)).collect();
            groups.extend(
                strings(&h["tags"])
                    .iter()
                    .map(|t| format!("tag_{}", ident(t))),
            );
            (
                h["name"].as_str().unwrap().to_string(),
                (
                    h["hostname"].as_str().unwrap().to_string(),
                    h["port"].as_u64().unwrap_or(22),
                    h["user"].as_str().unwrap().to_string(),
                    groups,
                ),
            )
        })
        .collect()
}

#[test]
fn ansible_inventory_sees_the_hosts_ports_users_and_groups_of_hosts_list() {
    let env = Env::new();
    for args in [
        &[
            "web1",
            "--hostname",
            "10.1.0.1",
            "--port",
            "2201",
            "--user",
            "deploy",
            "--group",
            "web",
            "--tag",
            "prod",
        ][..],
        &[
            "web2",
            "--hostname",
            "10.1.0.2",
            "--user",
            "deploy",
            "--group",
            "web",
            "--group",
            "eu-west",
        ],
        &[
            "db.main",
            "--hostname",
            "10.2.0.1",
            "--port",
            "5022",
            "--user",
            "dba",
            "--tag",
            "prod",
            "--tag",
            "pci-dss",
            "--credential",
            "db-root-password",
        ],
        &["bastion", "--hostname", "10.0.0.1", "--user", "ops"],
        &[
            "inner",
            "--hostname",
            "10.9.0.1",
            "--user",
            "app",
            "--jump",
            "bastion",
        ],
    ] {
        let mut a = vec!["hosts", "add"];
        a.extend_from_slice(args);
        env.lumen(&a);
    }
    let want = lumen_view(
        &serde_json::from_slice(&env.lumen(&["hosts", "list", "--json"]).stdout).unwrap(),
    );
    assert_eq!(want.len(), 5);

    let script = env.wrapper();
    let yaml = env.path("inventory.yml");
    std::fs::write(
        &yaml,
        env.lumen(&["hosts", "export", "--format", "ansible-yaml"])
            .stdout,
    )
    .unwrap();
    for source in [&script, &yaml] {
        let out = env.ansible(
            "ansible-inventory",
            &["-i", source.to_str().unwrap(), "--list"],
            &[],
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(
            !text(&out.stderr).contains("WARNING"),
            "ansible-inventory warned about {}: {}",
            source.display(),
            text(&out.stderr)
        );
        let list: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(ansible_view(&list), want, "{}", source.display());
        let inner = &list["_meta"]["hostvars"]["inner"];
        assert_eq!(
            inner["ansible_ssh_common_args"],
            "-o ProxyJump=ops@10.0.0.1:22",
            "{}",
            source.display()
        );
        assert!(
            !text(&out.stdout).contains("db-root-password"),
            "a vault entry's name is no business of Ansible's"
        );
    }
    // `--host NAME` as an inventory script answers it.
    let out = Command::new(&script)
        .args(["--host", "web1"])
        .env("LUMEN_HOME", env.path("lumen"))
        .env("HOME", env.path("home"))
        .output()
        .unwrap();
    let vars: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(vars["ansible_port"], 2201);
}

/// `id -un`: sshd logs in real users only.
fn me() -> String {
    text(&Command::new("id").arg("-un").output().unwrap().stdout)
        .trim()
        .to_string()
}

#[test]
fn ansible_ping_reaches_loopback_hosts_directly_and_through_a_jump_host() {
    let env = Env::new();
    let jump = common::Sshd::start_logged("");
    let target = common::Sshd::start("").unwrap();
    let key = env.path("id_ed25519");
    common::keygen(&key, "ed25519", "");
    let public = key.with_extension("pub");
    jump.authorize(&public);
    target.authorize(&public);
    let known = env.path("known_hosts");
    let (a, b) = (env.path("kh_a"), env.path("kh_b"));
    jump.known_hosts_file(&a);
    target.known_hosts_file(&b);
    std::fs::write(
        &known,
        std::fs::read_to_string(&a).unwrap() + &std::fs::read_to_string(&b).unwrap(),
    )
    .unwrap();
    // What the operator's own ssh setup gives Ansible's ssh: key and known hosts.
    let ssh_args = venv::ssh_args(env.dir.path(), &key, &known);
    let user = me();
    let (jp, tp) = (jump.port.to_string(), target.port.to_string());
    env.lumen(&[
        "hosts",
        "add",
        "direct",
        "--hostname",
        "127.0.0.1",
        "--port",
        &jp,
        "--user",
        &user,
    ]);
    env.lumen(&[
        "hosts",
        "add",
        "jumpbox",
        "--hostname",
        "127.0.0.1",
        "--port",
        &jp,
        "--user",
        &user,
    ]);
    env.lumen(&[
        "hosts",
        "add",
        "behind",
        "--hostname",
        "127.0.0.1",
        "--port",
        &tp,
        "--user",
        &user,
        "--jump",
        "jumpbox",
    ]);
    let script = env.wrapper();
    let out = env.ansible(
        "ansible",
        &[
            "all",
            "-i",
            script.to_str().unwrap(),
            "-m",
            "ping",
            "-o",
            "--limit",
            "direct,behind",
        ],
        &[("ANSIBLE_SSH_ARGS", &ssh_args)],
    );
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    for host in ["direct", "behind"] {
        assert!(
            stdout
                .lines()
                .any(|l| l.starts_with(&format!("{host} | SUCCESS")) && l.contains("pong")),
            "{host}: {stdout}"
        );
    }
    // The way to `behind` went through the jump host's sshd.
    assert!(
        jump.wait_log("server_request_direct_tcpip", 1),
        "no forward in the jump's log:\n{}",
        jump.log()
    );
}

/// An INI inventory as Ansible itself reads it is what lumen imports: after
/// `hosts import --format ansible`, `ansible-inventory` sees the same hosts, ports, users and
/// groups through lumen's export as through the original file.
#[test]
fn an_imported_ini_inventory_reads_back_as_ansible_read_it() {
    let env = Env::new();
    let ini = env.path("hosts.ini");
    std::fs::write(
        &ini,
        "# the old inventory\n\
         bastion ansible_host=10.0.0.1 ansible_user=ops\n\
         [web]\n\
         web1 ansible_host=10.1.0.1 ansible_port=2201\n\
         web2 ansible_host=10.1.0.2 ansible_user=root  # overrides the group's\n\
         [web:vars]\n\
         ansible_user=deploy\n\
         [db]\n\
         db1 ansible_host=10.2.0.1 ansible_ssh_common_args='-o ProxyJump=ops@10.0.0.1:22'\n\
         [tag_prod:children]\n\
         web\n\
         db\n\
         [all:vars]\n\
         ansible_password=not-for-lumen\n",
    )
    .unwrap();
    let out = env.lumen(&[
        "hosts",
        "import",
        "--format",
        "ansible",
        ini.to_str().unwrap(),
    ]);
    let said = text(&out.stdout) + &text(&out.stderr);
    assert!(said.contains("4 added"), "{said}");
    assert!(!said.contains("not-for-lumen"), "{said}");
    let toml = std::fs::read_to_string(env.path("lumen/data/workspaces/default/hosts.toml"))
        .unwrap_or_default();
    assert!(!toml.contains("not-for-lumen"), "{toml}");

    let read = |source: &std::path::Path| -> Value {
        let out = env.ansible(
            "ansible-inventory",
            &["-i", source.to_str().unwrap(), "--list"],
            &[],
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let original = ansible_view(&read(&ini));
    let through_lumen = read(&env.wrapper());
    assert_eq!(ansible_view(&through_lumen), original);
    assert!(
        !through_lumen.to_string().contains("not-for-lumen"),
        "a password in the inventory is not imported"
    );
    assert_eq!(
        through_lumen["_meta"]["hostvars"]["db1"]["ansible_ssh_common_args"],
        "-o ProxyJump=ops@10.0.0.1:22"
    );
}
