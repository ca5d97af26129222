//! Several real OpenSSH `sshd`s on loopback as the hosts of one workspace, driven through the
//! `lumen` binary: one client key authorized on all, their host keys in `~/.ssh/known_hosts`,
//! `hosts.toml` naming each (with groups), runbooks written into the workspace.

use super::{CliHost, Sshd};
use std::path::PathBuf;
use std::process::Output;

pub struct Fleet {
    /// The first server and the throw-away home (`lumen`, `command`).
    pub cli: CliHost,
    /// Every server, the first included by port only (it lives in `cli`).
    pub extra: Vec<Sshd>,
    /// Ports by inventory name, in the order added.
    pub hosts: Vec<(String, u16)>,
}

impl Fleet {
    /// `servers` sshds (at least one), none named yet.
    pub fn start(servers: usize) -> Fleet {
        let cli = CliHost::start();
        let extra: Vec<Sshd> = (1..servers.max(1))
            .map(|_| {
                let s = Sshd::start("").unwrap();
                s.authorize(&cli.key.with_extension("pub"));
                s
            })
            .collect();
        let known = cli.dir.path().join("home/.ssh/known_hosts");
        let mut all = std::fs::read_to_string(&known).unwrap();
        for s in &extra {
            let f = s.path("kh");
            s.known_hosts_file(&f);
            all.push_str(&std::fs::read_to_string(f).unwrap());
        }
        std::fs::write(&known, all).unwrap();
        Fleet {
            cli,
            extra,
            hosts: Vec::new(),
        }
    }

    /// `servers` sshds whose logins have homes of their own in the temporary directory
    /// (`remote_home(i)`), so keys can be placed in `~/.ssh/authorized_keys` as on real hosts.
    pub fn start_with_homes(servers: usize) -> Fleet {
        let dir = tempfile::tempdir().unwrap();
        let sshds: Vec<Sshd> = (0..servers.max(1))
            .map(|i| {
                let home = dir.path().join(format!("remote{i}"));
                std::fs::create_dir_all(&home).unwrap();
                Sshd::start_with_home(&home)
            })
            .collect();
        let key = dir.path().join("id_ed25519");
        super::keygen(&key, "ed25519", "");
        let ssh_dir = dir.path().join("home/.ssh");
        std::fs::create_dir_all(&ssh_dir).unwrap();
        let mut known = String::new();
        for s in &sshds {
            s.authorize(&key.with_extension("pub"));
            let f = s.path("kh");
            s.known_hosts_file(&f);
            known.push_str(&std::fs::read_to_string(f).unwrap());
        }
        std::fs::write(ssh_dir.join("known_hosts"), known).unwrap();
        let mut sshds = sshds.into_iter();
        let sshd = sshds.next().unwrap();
        Fleet {
            cli: CliHost { dir, sshd, key },
            extra: sshds.collect(),
            hosts: Vec::new(),
        }
    }

    /// The login home of server `i` of [`Fleet::start_with_homes`].
    pub fn remote_home(&self, i: usize) -> PathBuf {
        self.cli.dir.path().join(format!("remote{i}"))
    }

    /// Port of server `i` (0 is `cli`'s).
    pub fn port(&self, i: usize) -> u16 {
        if i == 0 {
            self.cli.sshd.port
        } else {
            self.extra[i - 1].port
        }
    }

    pub fn workspace(&self) -> PathBuf {
        self.cli.dir.path().join("lumen/data/workspaces/default")
    }

    /// Add `name` on `port` in `groups` to hosts.toml (rewritten each time).
    pub fn host(&mut self, name: &str, port: u16, groups: &[&str]) {
        self.hosts.push((name.to_string(), port));
        let dir = self.workspace();
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("hosts.toml");
        let mut text = std::fs::read_to_string(&path).unwrap_or_default();
        let groups: Vec<String> = groups.iter().map(|g| format!("{g:?}")).collect();
        text.push_str(&format!(
            "[hosts.{name}]\nhostname = \"127.0.0.1\"\nport = {port}\nuser = {:?}\ngroups = [{}]\n\n",
            lumen::ssh::target::local_user(),
            groups.join(", ")
        ));
        std::fs::write(path, text).unwrap();
    }

    /// Write `runbooks/NAME.toml` in the workspace.
    pub fn runbook(&self, name: &str, text: &str) -> PathBuf {
        let dir = self.workspace().join("runbooks");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{name}.toml"));
        std::fs::write(&path, text).unwrap();
        path
    }

    /// `lumen run ARGS… -i KEY`.
    pub fn run(&self, args: &[&str]) -> Output {
        let key = self.cli.key.display().to_string();
        let mut all = vec!["run", "-i", &key];
        all.extend_from_slice(args);
        self.cli.lumen(&all, &[])
    }

    /// `lumen run ARGS… -i KEY` as a command to spawn.
    pub fn run_command(&self, args: &[&str]) -> std::process::Command {
        let key = self.cli.key.display().to_string();
        let mut all = vec!["run", "-i", &key];
        all.extend_from_slice(args);
        self.cli.command(&all, &[])
    }
}

/// stdout as JSON, or a panic showing both streams.
pub fn json_of(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: status {:?}\nstdout {}\nstderr {}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}
