//! Jump chains against real OpenSSH sshd instances on loopback (and the embedded server as the
//! last hop): the traffic goes through the jump host, jump connections are shared and closed,
//! host keys are asked once per hop, errors name the hop, ProxyCommand works.
#![allow(clippy::unwrap_used)]

mod common;

use common::{Answers, Sshd, auto_answer, keygen, read_to_close, read_until};
use lumen::pty::PtyCommand;
use lumen::ssh::config::ResolveOptions;
use lumen::ssh::{
    ConnectOptions, EmbeddedServer, EmbeddedServerOptions, HostKeyDecision, JumpPool, PromptKind,
    open_planned_session, plan,
};
use lumen::stream::Waker;
use lumen::workspace::{Host, Inventory};
use std::path::{Path, PathBuf};
use std::time::Duration;

const SIZE: (u16, u16) = (80, 24);
const RELEASE_WAIT: Duration = Duration::from_secs(10);
const POLL: Duration = Duration::from_millis(50);

/// A client key authorized on the given servers, an ssh config and a known_hosts in `dir`.
struct Lab {
    dir: tempfile::TempDir,
    key: PathBuf,
}

impl Lab {
    fn new(servers: &[&Sshd]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("id_ed25519");
        keygen(&key, "ed25519", "");
        for s in servers {
            s.authorize(&key.with_extension("pub"));
        }
        Self { dir, key }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A `Host` block for an sshd on loopback, logging in with the lab key.
    fn host_block(&self, alias: &str, port: u16) -> String {
        format!(
            "Host {alias}\n  HostName 127.0.0.1\n  Port {port}\n  User {}\n  IdentityFile {}\n  \
             IdentitiesOnly yes\n  UserKnownHostsFile {}\n",
            user(),
            self.key.display(),
            self.path("known_hosts").display(),
        )
    }

    /// Trust these servers' keys in the lab's known_hosts.
    fn trust(&self, servers: &[&Sshd]) {
        let mut all = String::new();
        for s in servers {
            let one = self.path("one_known_host");
            s.known_hosts_file(&one);
            all.push_str(&std::fs::read_to_string(&one).unwrap());
        }
        std::fs::write(self.path("known_hosts"), all).unwrap();
    }

    fn resolve_options(&self, config: &str) -> ResolveOptions {
        std::fs::write(self.path("config"), config).unwrap();
        ResolveOptions {
            config_file: Some(self.path("config")),
            home_dir: self.dir.path().to_path_buf(),
            local_user: user(),
            ..ResolveOptions::default()
        }
    }

    fn base(&self) -> ConnectOptions {
        ConnectOptions::isolated(&self.path("lumen_known_hosts"))
    }
}

fn user() -> String {
    lumen::ssh::target::local_user()
}

const FORWARD: &str = "server_request_direct_tcpip";
const ACCEPTED: &str = "Accepted publickey";

/// Run a command in a session and wait for its output.
async fn says_hi(stream: &mut lumen::stream::Stream) {
    stream.handle.write(b"echo hi-$((40+2))\n");
    read_until(stream, "hi-42").await;
}

async fn released(pool: &JumpPool) -> bool {
    let deadline = tokio::time::Instant::now() + RELEASE_WAIT;
    while tokio::time::Instant::now() < deadline {
        if pool.open_connections() == 0 {
            return true;
        }
        tokio::time::sleep(POLL).await;
    }
    false
}

#[tokio::test]
async fn two_hops_go_through_the_jump_host() {
    let jump = Sshd::start_logged("");
    let target = Sshd::start_logged("");
    let lab = Lab::new(&[&jump, &target]);
    lab.trust(&[&jump, &target]);
    let config = format!(
        "{}{}  ProxyJump bastion\n{}",
        lab.host_block("db1", target.port),
        "",
        lab.host_block("bastion", jump.port)
    );
    let ropts = lab.resolve_options(&config);
    let p = plan("db1", &Inventory::default(), &ropts, &lab.base()).unwrap();
    assert_eq!(p.jumps.len(), 1);
    let (prompter, asked) = auto_answer(Answers::default());
    let pool = JumpPool::new();
    let mut s = open_planned_session(&p, &pool, prompter, SIZE, &Waker::new())
        .await
        .unwrap();
    says_hi(&mut s).await;
    // The jump sshd opened the tunnel to the target's port: the traffic went through it.
    let wanted = format!("target 127.0.0.1 port {}", target.port);
    assert!(jump.wait_log(&wanted, 1), "jump log: {}", jump.log());
    assert!(jump.log_count(FORWARD) >= 1, "{}", jump.log());
    assert_eq!(target.log_count(FORWARD), 0, "the target forwards nothing");
    assert!(asked.lock().unwrap().is_empty(), "known hosts ask nothing");
    s.handle.write(b"exit 3\n");
    let _ = read_to_close(&mut s).await;
    assert!(released(&pool).await, "the jump connection closes");
}

#[tokio::test]
async fn one_jump_connection_serves_two_sessions() {
    let jump = Sshd::start_logged("");
    let target = Sshd::start("").unwrap();
    let lab = Lab::new(&[&jump, &target]);
    lab.trust(&[&jump, &target]);
    // Two names for the target, as two inventory hosts behind the same bastion.
    let config = format!(
        "{}{}{}",
        lab.host_block("web1", target.port),
        lab.host_block("web2", target.port),
        lab.host_block("bastion", jump.port)
    );
    let ropts = lab.resolve_options(&config);
    let jumped = |name: &str| Host {
        name: name.into(),
        jump: vec!["bastion".into()],
        ..Host::default()
    };
    let inventory = Inventory {
        hosts: vec![jumped("web1"), jumped("web2")],
        ..Inventory::default()
    };
    let pool = JumpPool::new();
    let waker = Waker::new();
    let (prompter, _) = auto_answer(Answers::default());
    let mut streams = Vec::new();
    for name in ["web1", "web2"] {
        let p = plan(name, &inventory, &ropts, &lab.base()).unwrap();
        assert_eq!(p.jumps[0].name, "bastion");
        let mut s = open_planned_session(&p, &pool, prompter.clone(), SIZE, &waker)
            .await
            .unwrap();
        says_hi(&mut s).await;
        streams.push(s);
    }
    assert_eq!(pool.open_connections(), 1);
    assert!(jump.wait_log(FORWARD, 2), "{}", jump.log());
    assert_eq!(jump.log_count(ACCEPTED), 1, "one login to the jump host");
    let mut first = streams.remove(0);
    first.handle.write(b"exit\n");
    let _ = read_to_close(&mut first).await;
    assert_eq!(
        pool.open_connections(),
        1,
        "the other session still uses it"
    );
    let mut second = streams.remove(0);
    second.handle.write(b"exit\n");
    let _ = read_to_close(&mut second).await;
    assert!(released(&pool).await, "closed with the last session");
    assert!(
        jump.wait_log("Received disconnect from 127.0.0.1", 1),
        "the jump host saw the goodbye: {}",
        jump.log()
    );
}

fn sh_server() -> EmbeddedServerOptions {
    let mut shell = PtyCommand::new("/bin/sh");
    shell.env = vec![("PS1".into(), "$ ".into())];
    EmbeddedServerOptions {
        shell,
        ..Default::default()
    }
}

fn write_key(key: &russh::keys::PrivateKey, path: &Path) {
    let text = key
        .to_openssh(russh::keys::ssh_key::LineEnding::LF)
        .unwrap();
    std::fs::write(path, text.as_bytes()).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

#[tokio::test]
async fn three_hops_to_the_embedded_server_ask_each_host_key_once() {
    let j1 = Sshd::start_logged("");
    let j2 = Sshd::start_logged("");
    let server = EmbeddedServer::start(sh_server()).await.unwrap();
    let lab = Lab::new(&[&j1, &j2]);
    let last_key = lab.path("embedded_key");
    write_key(&server.client_key, &last_key);
    // Nothing is trusted yet: every hop's key is unknown.
    let config = format!(
        "{}{}Host box\n  HostName 127.0.0.1\n  Port {}\n  IdentityFile {}\n  \
         UserKnownHostsFile {}\n",
        lab.host_block("j1", j1.port),
        lab.host_block("j2", j2.port),
        server.port(),
        last_key.display(),
        lab.path("known_hosts").display(),
    );
    let mut ropts = lab.resolve_options(&config);
    ropts.jump = Some("j1,j2".into());
    let p = plan("box", &Inventory::default(), &ropts, &lab.base()).unwrap();
    let names: Vec<_> = p.jumps.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(names, ["j1", "j2"]);
    let (prompter, asked) = auto_answer(Answers {
        host_key: Some(HostKeyDecision::AcceptAndSave),
        ..Answers::default()
    });
    let pool = JumpPool::new();
    let mut s = open_planned_session(&p, &pool, prompter.clone(), SIZE, &Waker::new())
        .await
        .unwrap();
    says_hi(&mut s).await;
    let ports: Vec<u16> = asked
        .lock()
        .unwrap()
        .iter()
        .map(|k| match k {
            PromptKind::UnknownHostKey { port, .. } => *port,
            other => panic!("unexpected prompt {other:?}"),
        })
        .collect();
    assert_eq!(
        ports,
        [j1.port, j2.port, server.port()],
        "each hop once, in order"
    );
    let hop2 = format!("target 127.0.0.1 port {}", j2.port);
    let hop3 = format!("target 127.0.0.1 port {}", server.port());
    assert!(j1.wait_log(&hop2, 1), "j1 tunnels to j2: {}", j1.log());
    assert!(j2.wait_log(&hop3, 1), "j2 tunnels to the box: {}", j2.log());
    // A second session: the jumps are shared and every key is now saved.
    let mut again = open_planned_session(&p, &pool, prompter, SIZE, &Waker::new())
        .await
        .unwrap();
    says_hi(&mut again).await;
    assert_eq!(
        asked.lock().unwrap().len(),
        3,
        "saved keys are not asked again"
    );
    assert_eq!(j1.log_count(ACCEPTED), 1);
    assert_eq!(j2.log_count(ACCEPTED), 1);
    assert_eq!(pool.open_connections(), 2);
}

#[tokio::test]
async fn a_failing_jump_host_is_named() {
    let jump = Sshd::start("").unwrap();
    let target = Sshd::start("").unwrap();
    let lab = Lab::new(&[&target]); // not authorized on the jump host
    lab.trust(&[&jump, &target]);
    let config = format!(
        "{}  ProxyJump bastion\n{}",
        lab.host_block("db1", target.port),
        lab.host_block("bastion", jump.port)
    );
    let ropts = lab.resolve_options(&config);
    let p = plan("db1", &Inventory::default(), &ropts, &lab.base()).unwrap();
    let (prompter, _) = auto_answer(Answers::default());
    let err = open_planned_session(&p, &JumpPool::new(), prompter, SIZE, &Waker::new())
        .await
        .unwrap_err()
        .to_string();
    let prefix = format!(
        "jump host bastion (127.0.0.1:{}): authentication",
        jump.port
    );
    assert!(err.starts_with(&prefix), "{err}");
    assert!(err.contains("tried publickey"), "{err}");
}

#[tokio::test]
async fn a_changed_jump_host_key_is_refused_and_named() {
    let jump = Sshd::start("").unwrap();
    let other = Sshd::start("").unwrap();
    let target = Sshd::start("").unwrap();
    let lab = Lab::new(&[&jump, &target]);
    // The jump host's port is recorded with another server's keys.
    let mut text = String::new();
    for k in &other.host_keys {
        text.push_str(&format!(
            "[127.0.0.1]:{} {}",
            jump.port,
            std::fs::read_to_string(k).unwrap()
        ));
    }
    std::fs::write(lab.path("known_hosts"), text).unwrap();
    let config = format!(
        "{}  ProxyJump bastion\n{}",
        lab.host_block("db1", target.port),
        lab.host_block("bastion", jump.port)
    );
    let ropts = lab.resolve_options(&config);
    let p = plan("db1", &Inventory::default(), &ropts, &lab.base()).unwrap();
    let (prompter, asked) = auto_answer(Answers {
        host_key: Some(HostKeyDecision::AcceptOnce),
        ..Answers::default()
    });
    let err = open_planned_session(&p, &JumpPool::new(), prompter, SIZE, &Waker::new())
        .await
        .unwrap_err()
        .to_string();
    let prefix = format!(
        "jump host bastion (127.0.0.1:{}): HOST KEY CHANGED",
        jump.port
    );
    assert!(err.starts_with(&prefix), "{err}");
    assert!(
        asked.lock().unwrap().is_empty(),
        "a changed key is never asked"
    );
}

#[tokio::test]
async fn proxy_command_with_the_real_ssh_client() {
    let jump = Sshd::start_logged("");
    let target = Sshd::start("").unwrap();
    let lab = Lab::new(&[&jump, &target]);
    lab.trust(&[&jump, &target]);
    // The real ssh reads the same config for the jump host (BatchMode: never prompts).
    let config = format!(
        "{}  ProxyCommand ssh -F {} -o BatchMode=yes -W %h:%p bastion\n{}",
        lab.host_block("db1", target.port),
        lab.path("config").display(),
        lab.host_block("bastion", jump.port),
    );
    let ropts = lab.resolve_options(&config);
    let p = plan("db1", &Inventory::default(), &ropts, &lab.base()).unwrap();
    assert!(p.jumps.is_empty());
    let command = p.target.proxy_command.clone().unwrap();
    assert!(
        command.ends_with(&format!("-W 127.0.0.1:{} bastion", target.port)),
        "{command}"
    );
    let (prompter, _) = auto_answer(Answers::default());
    let mut s = open_planned_session(&p, &JumpPool::new(), prompter, SIZE, &Waker::new())
        .await
        .unwrap();
    says_hi(&mut s).await;
    let wanted = format!("target 127.0.0.1 port {}", target.port);
    assert!(jump.wait_log(&wanted, 1), "{}", jump.log());
    s.handle.write(b"exit\n");
    let _ = read_to_close(&mut s).await;
}

#[tokio::test]
async fn proxy_jump_none_connects_directly() {
    let target = Sshd::start("").unwrap();
    let lab = Lab::new(&[&target]);
    lab.trust(&[&target]);
    let config = format!(
        "{}  ProxyJump nowhere.invalid\n",
        lab.host_block("db1", target.port)
    );
    let mut ropts = lab.resolve_options(&config);
    ropts.jump = Some("none".into());
    let p = plan("db1", &Inventory::default(), &ropts, &lab.base()).unwrap();
    assert!(p.jumps.is_empty());
    let (prompter, _) = auto_answer(Answers::default());
    let mut s = open_planned_session(&p, &JumpPool::new(), prompter, SIZE, &Waker::new())
        .await
        .unwrap();
    says_hi(&mut s).await;
}

#[tokio::test]
async fn strict_host_key_checking_per_hop() {
    let jump = Sshd::start("").unwrap();
    let target = Sshd::start("").unwrap();
    let lab = Lab::new(&[&jump, &target]);
    lab.trust(&[&target]); // the jump host's key is unknown
    let config = |strict: &str| {
        format!(
            "{}  ProxyJump bastion\n{}  StrictHostKeyChecking {strict}\n",
            lab.host_block("db1", target.port),
            lab.host_block("bastion", jump.port)
        )
    };
    let (prompter, asked) = auto_answer(Answers {
        host_key: Some(HostKeyDecision::AcceptOnce),
        ..Answers::default()
    });
    // yes: refused without asking, and the error names the hop.
    let ropts = lab.resolve_options(&config("yes"));
    let p = plan("db1", &Inventory::default(), &ropts, &lab.base()).unwrap();
    let err = open_planned_session(&p, &JumpPool::new(), prompter.clone(), SIZE, &Waker::new())
        .await
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("jump host bastion"), "{err}");
    assert!(err.contains("StrictHostKeyChecking is yes"), "{err}");
    // accept-new: saved without asking; the next connection knows it.
    let ropts = lab.resolve_options(&config("accept-new"));
    let p = plan("db1", &Inventory::default(), &ropts, &lab.base()).unwrap();
    let mut s = open_planned_session(&p, &JumpPool::new(), prompter.clone(), SIZE, &Waker::new())
        .await
        .unwrap();
    says_hi(&mut s).await;
    let ropts = lab.resolve_options(&config("yes"));
    let p = plan("db1", &Inventory::default(), &ropts, &lab.base()).unwrap();
    let mut s = open_planned_session(&p, &JumpPool::new(), prompter, SIZE, &Waker::new())
        .await
        .unwrap();
    says_hi(&mut s).await;
    assert!(asked.lock().unwrap().is_empty(), "never asked");
}
