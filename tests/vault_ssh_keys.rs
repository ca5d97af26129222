//! SSH credentials made, tested and placed from lumen, against real OpenSSH `sshd`s on loopback
//! whose logins have temporary homes: `lumen vault test` (Credential Test), `vault keygen`,
//! `hosts copy-id` and `vault rotate-key`, driven through the `lumen` binary. OpenSSH's own
//! `ssh` client is the oracle for which keys a host accepts.
#![allow(clippy::unwrap_used)]

mod common;

use common::fleet::{Fleet, json_of};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const PASSPHRASE: &str = "tundra violin mosaic plover";

struct Keys {
    f: Fleet,
    pass: String,
}

impl Keys {
    /// `servers` sshds named web1, web2, … in group `web`, and an empty vault.
    fn new(servers: usize) -> Keys {
        let mut f = Fleet::start_with_homes(servers);
        for i in 0..servers {
            let port = f.port(i);
            f.host(&format!("web{}", i + 1), port, &["web"]);
        }
        Keys::with_vault(f)
    }

    fn with_vault(f: Fleet) -> Keys {
        let pass = f.cli.dir.path().join("pass");
        std::fs::write(&pass, format!("{PASSPHRASE}\n")).unwrap();
        let k = Keys {
            f,
            pass: pass.display().to_string(),
        };
        k.ok(&[&["vault", "init"][..], &common::FAST_KDF].concat());
        k
    }

    /// `lumen ARGS…` with the vault passphrase file (and `-i KEY` for host commands).
    fn run(&self, args: &[&str]) -> Output {
        let key = self.f.cli.key.display().to_string();
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--passphrase-file", &self.pass]);
        if matches!(args.get(1), Some(&"copy-id" | &"rotate-key")) {
            all.extend(["-i", &key]);
        }
        self.f.cli.lumen(&all, &[])
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(out.status.success(), "{args:?}: {}", text(&out));
        String::from_utf8(out.stdout).unwrap()
    }

    fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(!out.status.success(), "{args:?} succeeded: {}", text(&out));
        text(&out)
    }

    /// The lines of server `i`'s `~/.ssh/authorized_keys`.
    fn authorized(&self, i: usize) -> Vec<String> {
        let path = self.f.remote_home(i).join(".ssh/authorized_keys");
        std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// An entry's private key, revealed into a 0600 file (for OpenSSH's client only).
    fn reveal_to_file(&self, name: &str) -> PathBuf {
        let shown = json_of(&self.run(&["vault", "show", name, "--reveal", "--json"]));
        let path = self
            .f
            .cli
            .dir
            .path()
            .join(format!("revealed-{}", name.replace('/', "_")));
        std::fs::write(&path, shown["secret"].as_str().unwrap()).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        path
    }

    /// Whether OpenSSH's `ssh` logs in to server `i` with `key` and nothing else.
    fn openssh_accepts(&self, i: usize, key: &Path) -> bool {
        Command::new("ssh")
            .args([
                "-F",
                "/dev/null",
                "-o",
                "BatchMode=yes",
                "-o",
                "IdentitiesOnly=yes",
            ])
            .args(["-o", "StrictHostKeyChecking=yes", "-o"])
            .arg(format!(
                "UserKnownHostsFile={}",
                self.f
                    .cli
                    .dir
                    .path()
                    .join("home/.ssh/known_hosts")
                    .display()
            ))
            .arg("-i")
            .arg(key)
            .args(["-p", &self.f.port(i).to_string()])
            .arg(format!("{}@127.0.0.1", lumen::ssh::target::local_user()))
            .arg("true")
            .env("SSH_AUTH_SOCK", "")
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap()
            .success()
    }

    /// Audit events for `entry` with `action`, as (host, detail).
    fn audited(&self, entry: &str, action: &str) -> Vec<(String, String)> {
        let events = json_of(&self.run(&["vault", "audit", "--json"]));
        events
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["entry"] == entry && e["action"] == action)
            .map(|e| {
                (
                    e["host"].as_str().unwrap_or("").to_string(),
                    e["detail"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect()
    }

    /// Every byte under lumen's home and the client's home, for leak checks.
    fn everything_on_disk(&self) -> String {
        let mut all = String::new();
        for dir in ["lumen", "home"] {
            collect(&self.f.cli.dir.path().join(dir), &mut all);
        }
        all
    }
}

fn collect(dir: &Path, out: &mut String) {
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            collect(&p, out);
        } else if let Ok(bytes) = std::fs::read(&p) {
            out.push_str(&String::from_utf8_lossy(&bytes));
        }
    }
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn credential_test_says_whether_a_password_works_without_showing_it() {
    let Some((user, password)) = common::password_user() else {
        return;
    };
    let mut f = Fleet::start(1);
    let port = f.port(0);
    f.host("db1", port, &["db"]);
    f.host("db2", port, &["other"]);
    let k = Keys::with_vault(f);
    let right = k.f.cli.dir.path().join("right");
    std::fs::write(&right, &password).unwrap();
    let wrong = k.f.cli.dir.path().join("wrong");
    std::fs::write(&wrong, "not-the-password-at-all").unwrap();
    let (right, wrong) = (right.display().to_string(), wrong.display().to_string());
    k.ok(&[
        "vault",
        "add",
        "db/login",
        "--username",
        &user,
        "--host",
        "@db",
        "--secret-file",
        &right,
    ]);

    let out = k.run(&["vault", "test", "db/login"]);
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("db1: works"), "{said}");
    assert!(!said.contains(&password), "the secret was shown: {said}");

    k.ok(&["vault", "edit", "db/login", "--secret-file", &wrong]);
    let said = k.fails(&["vault", "test", "db/login", "db1"]);
    assert!(said.contains("db1: refused"), "{said}");
    assert!(!said.contains("not-the-password"), "{said}");

    // db2 is the same server, but the entry is not bound to it: nothing is tried there.
    let said = k.fails(&["vault", "test", "db/login", "db2"]);
    assert!(said.contains("not bound to host 'db2'"), "{said}");

    assert_eq!(
        k.audited("db/login", "test"),
        [
            ("db1".to_string(), "works".to_string()),
            ("db1".to_string(), "refused".to_string())
        ]
    );
}

#[test]
fn keygen_and_copy_id_place_one_line_per_host_and_the_key_logs_in() {
    let k = Keys::new(2);
    let public = k.ok(&["vault", "keygen", "deploy", "--host", "@web"]);
    let public = public.trim().to_string();
    assert!(public.starts_with("ssh-ed25519 AAAA"), "{public}");
    let disk = k.everything_on_disk();
    assert!(
        !disk.contains("PRIVATE KEY"),
        "a private key reached the disk in clear"
    );

    // Not installed yet: the Credential Test says the key is refused.
    let said = k.fails(&["vault", "test", "deploy", "web1"]);
    assert!(said.contains("web1: refused"), "{said}");

    let out = k.ok(&["hosts", "copy-id", "@web", "--key", "deploy"]);
    assert!(
        out.contains("web1: added") && out.contains("web2: added"),
        "{out}"
    );
    for i in 0..2 {
        assert_eq!(k.authorized(i), std::slice::from_ref(&public), "server {i}");
        let home = k.f.remote_home(i);
        assert_eq!(mode(&home.join(".ssh")), 0o700);
        assert_eq!(mode(&home.join(".ssh/authorized_keys")), 0o600);
    }

    // Twice: no second line, the file untouched.
    let out = k.ok(&["hosts", "copy-id", "web1", "--key", "deploy"]);
    assert!(out.contains("web1: already there"), "{out}");
    assert_eq!(k.authorized(0), std::slice::from_ref(&public));

    let out = k.ok(&["vault", "test", "deploy"]);
    assert!(
        out.contains("web1: works") && out.contains("web2: works"),
        "{out}"
    );
    // OpenSSH's client agrees, with the key alone.
    let key = k.reveal_to_file("deploy");
    assert!(k.openssh_accepts(0, &key) && k.openssh_accepts(1, &key));
    let copied = k.audited("deploy", "copy-id");
    assert_eq!(copied.len(), 3, "{copied:?}");
}

#[test]
fn copy_id_keeps_existing_lines_and_modes_and_adds_a_missing_newline() {
    let k = Keys::new(1);
    let ssh = k.f.remote_home(0).join(".ssh");
    std::fs::create_dir_all(&ssh).unwrap();
    std::fs::set_permissions(&ssh, std::fs::Permissions::from_mode(0o750)).unwrap();
    let file = ssh.join("authorized_keys");
    let other = "from=\"10.0.0.1\" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOtherKeyOtherKeyOtherKeyOtherKeyOtherK other";
    std::fs::write(&file, other).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o640)).unwrap();
    let public = k.ok(&["vault", "keygen", "deploy", "--host", "web1"]);
    k.ok(&["hosts", "copy-id", "web1", "--key", "deploy"]);
    assert_eq!(
        k.authorized(0),
        [other.to_string(), public.trim().to_string()]
    );
    assert_eq!(mode(&ssh), 0o750);
    assert_eq!(mode(&file), 0o640);
}

#[test]
fn rotate_key_leaves_only_the_new_key_and_the_old_is_refused() {
    let k = Keys::new(2);
    k.ok(&["vault", "keygen", "deploy", "--host", "@web"]);
    k.ok(&["hosts", "copy-id", "@web", "--key", "deploy"]);
    let old_public = k.authorized(0)[0].clone();
    let old_key = k.reveal_to_file("deploy");
    assert!(k.openssh_accepts(0, &old_key), "the old key works before");
    // A line of another key stays.
    let file0 = k.f.remote_home(0).join(".ssh/authorized_keys");
    let other = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOtherKeyOtherKeyOtherKeyOtherKeyOtherK other";
    std::fs::write(&file0, format!("{other}\n{old_public}\n")).unwrap();

    let out = k.run(&["vault", "rotate-key", "deploy", "@web"]);
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    for host in ["web1", "web2"] {
        assert!(
            said.contains(&format!(
                "{host}: new key installed, login with it works, old key removed (1 line)"
            )),
            "{said}"
        );
    }
    let shown = json_of(&k.run(&["vault", "show", "deploy", "--json"]));
    let new_public = shown["public_key"].as_str().unwrap().to_string();
    assert_ne!(new_public, old_public);
    assert_eq!(k.authorized(0), [other.to_string(), new_public.clone()]);
    assert_eq!(k.authorized(1), std::slice::from_ref(&new_public));
    assert_eq!(mode(&file0), 0o600);

    for i in 0..2 {
        assert!(
            !k.openssh_accepts(i, &old_key),
            "server {i} still takes the old key"
        );
    }
    let new_key = k.reveal_to_file("deploy");
    assert!(k.openssh_accepts(0, &new_key) && k.openssh_accepts(1, &new_key));
    // Every host done: the old key is not kept.
    let list = k.ok(&["vault", "list"]);
    assert!(!list.contains("deploy.old-"), "{list}");
    assert_eq!(k.audited("deploy", "rotate-key").len(), 3);
}

#[test]
fn rotate_key_keeps_the_old_key_when_a_host_fails() {
    let mut k = Keys::new(1);
    // web9 points at a closed port.
    k.f.host("web9", common::free_port(), &["web"]);
    k.ok(&["vault", "keygen", "deploy", "--host", "@web"]);
    k.ok(&["hosts", "copy-id", "web1", "--key", "deploy"]);
    // A target that names nothing changes nothing, in the vault or on a host.
    let before = k.authorized(0);
    let said = k.fails(&["vault", "rotate-key", "deploy", "@nosuchgroup"]);
    assert!(said.contains("nosuchgroup"), "{said}");
    assert!(!k.ok(&["vault", "list"]).contains("deploy.old-"));
    assert_eq!(k.authorized(0), before);

    let said = k.fails(&["vault", "rotate-key", "deploy", "@web"]);
    assert!(said.contains("web1: new key installed"), "{said}");
    assert!(
        said.contains("web9: failed: could not install the new key"),
        "{said}"
    );
    let list = k.ok(&["vault", "list"]);
    assert!(list.contains("deploy.old-"), "{list}");
}

#[test]
fn keygen_makes_keys_openssh_reads_and_refuses_a_taken_name() {
    let k = Keys::new(1);
    for (name, kind, prefix) in [("e", "ed25519", "ssh-ed25519 "), ("r", "rsa", "ssh-rsa ")] {
        let public = k.ok(&["vault", "keygen", name, "--type", kind]);
        assert!(public.starts_with(prefix), "{public}");
        // OpenSSH derives the same public key from the private half lumen stored.
        let private = k.reveal_to_file(name);
        let derived = Command::new("ssh-keygen")
            .arg("-y")
            .arg("-f")
            .arg(&private)
            .output()
            .unwrap();
        assert!(derived.status.success(), "{}", text(&derived));
        let derived = String::from_utf8(derived.stdout).unwrap();
        let words = |s: &str| s.split_whitespace().take(2).collect::<Vec<_>>().join(" ");
        assert_eq!(words(&derived), words(&public));
    }
    let said = k.fails(&["vault", "keygen", "e"]);
    assert!(said.contains("already exists"), "{said}");
}
