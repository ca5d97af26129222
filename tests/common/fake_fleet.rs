//! A fleet of fake hosts for the `lumen` binary: N embedded SSH servers on loopback answering a
//! recorded host's command output (tests/fixtures/scan/NAME), all accepting one client key,
//! which is `~/.ssh/id_ed25519` of a throw-away home whose known_hosts trusts every server, and
//! a hosts.toml listing them as `h000`, `h001`, … Cheaper than N sshd; used by tests and benches.
#![allow(dead_code, clippy::unwrap_used)]

use super::fake_host::{fixture_dir, recorded};
use lumen::ssh::{EmbeddedServer, EmbeddedServerOptions};
use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::time::Duration;

pub struct FakeFleet {
    pub dir: tempfile::TempDir,
    pub names: Vec<String>,
    pub servers: Vec<EmbeddedServer>,
    // Last: the servers stop before their runtime does.
    pub runtime: tokio::runtime::Runtime,
}

impl FakeFleet {
    /// `n` hosts answering as `fixture`, each command after `delay`.
    pub fn start(n: usize, fixture: &str, delay: Duration) -> FakeFleet {
        let dir = tempfile::tempdir().unwrap();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let seed: [u8; 32] = rand::random();
        let key = Arc::new(russh::keys::PrivateKey::from(
            russh::keys::ssh_key::private::Ed25519Keypair::from_seed(&seed),
        ));
        let canned = recorded(&fixture_dir(fixture), delay, HashMap::new());
        let servers: Vec<EmbeddedServer> = runtime.block_on(async {
            let mut out = Vec::new();
            for _ in 0..n {
                let opts = EmbeddedServerOptions {
                    canned: Some(canned.clone()),
                    client_key: Some(key.clone()),
                    ..Default::default()
                };
                out.push(EmbeddedServer::start(opts).await.unwrap());
            }
            out
        });
        let ssh = dir.path().join("home/.ssh");
        std::fs::create_dir_all(&ssh).unwrap();
        let id = ssh.join("id_ed25519");
        std::fs::write(
            &id,
            key.to_openssh(russh::keys::ssh_key::LineEnding::LF)
                .unwrap(),
        )
        .unwrap();
        std::fs::set_permissions(&id, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
        std::fs::write(
            id.with_extension("pub"),
            key.public_key().to_openssh().unwrap() + "\n",
        )
        .unwrap();
        let mut known = String::new();
        for s in &servers {
            known.push_str(&format!(
                "[127.0.0.1]:{} {}\n",
                s.port(),
                s.host_key.to_openssh().unwrap()
            ));
        }
        std::fs::write(ssh.join("known_hosts"), known).unwrap();
        let names: Vec<String> = (0..n).map(|i| format!("h{i:03}")).collect();
        let paths = lumen::paths::Paths::under(&dir.path().join("lumen"));
        let file = lumen::workspace::HostsFile::for_workspace(&paths, "default").unwrap();
        file.update(|_, ed| {
            for (name, s) in names.iter().zip(&servers) {
                ed.put(&lumen::workspace::Host {
                    name: name.clone(),
                    hostname: Some("127.0.0.1".into()),
                    port: Some(s.port()),
                    user: Some("scan".into()),
                    ..Default::default()
                })?;
            }
            Ok(())
        })
        .unwrap();
        FakeFleet {
            dir,
            names,
            servers,
            runtime,
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A directory of OSV records: `id` affects `package` of `ecosystem` below `fixed`.
    pub fn osv(&self, records: &[(&str, &str, &str, &str)]) -> PathBuf {
        let dir = self.path("osv");
        std::fs::create_dir_all(&dir).unwrap();
        for (id, eco, package, fixed) in records {
            let r = serde_json::json!({
                "id": id, "summary": format!("{id} in {package}"),
                "affected": [{"package": {"ecosystem": eco, "name": package},
                  "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}]}]
            });
            std::fs::write(dir.join(format!("{id}.json")), r.to_string()).unwrap();
        }
        dir
    }

    /// The `lumen` binary as cron would run it (no terminal, no agent), in this home; with
    /// `open_files`, the soft limit on open files it starts with.
    pub fn lumen(&self, args: &[&str], open_files: Option<u64>) -> Output {
        self.command(args, open_files).output().unwrap()
    }

    pub fn command(&self, args: &[&str], open_files: Option<u64>) -> Command {
        use std::os::unix::process::CommandExt;
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_lumen"));
        cmd.args(args)
            .env("HOME", self.path("home"))
            .env("LUMEN_HOME", self.path("lumen"))
            .env("SSH_AUTH_SOCK", "")
            .env_remove("LUMEN_OSV_API_URL")
            .stdin(Stdio::null());
        // SAFETY: setsid and setrlimit are async-signal-safe and touch only the child.
        unsafe {
            cmd.pre_exec(move || {
                libc::setsid();
                if let Some(n) = open_files {
                    let mut lim = libc::rlimit {
                        rlim_cur: 0,
                        rlim_max: 0,
                    };
                    libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim);
                    lim.rlim_cur = n.min(lim.rlim_max);
                    libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
                }
                Ok(())
            });
        }
        cmd
    }

    /// Logins on all the fleet's servers so far.
    pub fn logins(&self) -> usize {
        self.servers.iter().map(|s| s.logins()).sum()
    }

    /// The workspace's scans.sqlite.
    pub fn store(&self) -> lumen::scan::Store {
        let paths = lumen::paths::Paths::under(&self.path("lumen"));
        lumen::scan::Store::open(&paths.workspace_dir("default").join(lumen::scan::DB_FILE))
            .unwrap()
    }
}
