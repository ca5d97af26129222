//! The Connector against a real OpenSSH `sshd` (LogLevel DEBUG1) and the embedded server:
//! sessions and execs to one destination share one authenticated connection (one login in
//! the sshd log, one keyboard-interactive round for the user), exec through a two-hop jump
//! chain, exec's timeout, output cap and cancellation.
#![allow(clippy::unwrap_used)]

mod common;

use common::{Answers, Sshd, auto_answer, keygen, read_until, until_within};
use lumen::pty::PtyCommand;
use lumen::ssh::config::ResolveOptions;
use lumen::ssh::{
    ConnectOptions, Connector, EmbeddedServer, EmbeddedServerOptions, ExecOptions, KiRound,
    PromptKind, SshError, Target, plan,
};
use lumen::stream::{Stream, Waker};
use lumen::workspace::Inventory;
use std::path::PathBuf;
use std::time::Duration;

const SIZE: (u16, u16) = (80, 24);
const ACCEPTED: &str = "Accepted publickey";
const SETTLE: Duration = Duration::from_secs(10);

/// A client key authorized on `servers` and their host keys trusted, in a temp dir.
struct Lab {
    dir: tempfile::TempDir,
    key: PathBuf,
}

impl Lab {
    fn new(servers: &[&Sshd]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("id_ed25519");
        keygen(&key, "ed25519", "");
        let mut known = String::new();
        for s in servers {
            s.authorize(&key.with_extension("pub"));
            let one = dir.path().join("one");
            s.known_hosts_file(&one);
            known.push_str(&std::fs::read_to_string(&one).unwrap());
        }
        std::fs::write(dir.path().join("known_hosts"), known).unwrap();
        Self { dir, key }
    }

    fn options(&self) -> ConnectOptions {
        let mut o = ConnectOptions::isolated(&self.dir.path().join("lumen_known_hosts"));
        o.identity_files = vec![self.key.clone()];
        o.user_known_hosts_files = Some(vec![self.dir.path().join("known_hosts")]);
        o
    }
}

fn me() -> String {
    lumen::ssh::target::local_user()
}

async fn says(stream: &mut Stream, n: u32) {
    stream
        .handle
        .write(format!("echo said-$(({n}+1000))\n").as_bytes());
    read_until(stream, &format!("said-{}", n + 1000)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sessions_and_execs_share_one_login() {
    let sshd = Sshd::start_logged("");
    let lab = Lab::new(&[&sshd]);
    let (prompter, asked) = auto_answer(Answers::default());
    let connector = Connector::new(lab.options(), prompter);
    let plan = connector.direct("db", &Target::new(me(), "127.0.0.1", sshd.port));
    let waker = Waker::new();
    // A tab, then two splits of it.
    let mut panes = Vec::new();
    for n in 0..3 {
        let mut s = connector.session(&plan, SIZE, &waker);
        says(&mut s, n).await;
        panes.push(s);
    }
    for n in 0..3 {
        let out = connector
            .exec(&plan, &format!("echo exec-{n}"), &ExecOptions::default())
            .await
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), format!("exec-{n}\n"));
        assert_eq!(out.status, Some(0));
        assert!(!out.truncated);
    }
    assert_eq!(sshd.log_count(ACCEPTED), 1, "{}", sshd.log());
    assert!(asked.lock().unwrap().is_empty());
    assert_eq!(connector.open_connections(), 1);
    // The connection closes with its last channel.
    drop(panes);
    assert!(until_within(SETTLE, || connector.open_connections() == 0).await);
}

#[tokio::test(flavor = "multi_thread")]
async fn keyboard_interactive_with_a_code_is_asked_once() {
    let server = EmbeddedServer::start(EmbeddedServerOptions {
        shell: PtyCommand::new("/bin/sh"),
        keyboard_interactive: vec![KiRound {
            name: "otp".into(),
            instruction: String::new(),
            prompts: vec![("Verification code: ".into(), false, "123456".into())],
        }],
        ..Default::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let opts = server
        .client_options(&dir.path().join("known_hosts"))
        .unwrap();
    let (prompter, asked) = auto_answer(Answers {
        ki_rounds: vec![vec!["123456".into()]],
        ..Default::default()
    });
    let connector = Connector::new(opts, prompter);
    let plan = connector.direct("box", &server.target(None));
    let waker = Waker::new();
    let mut a = connector.session(&plan, SIZE, &waker);
    says(&mut a, 1).await;
    let mut b = connector.session(&plan, SIZE, &waker);
    says(&mut b, 2).await;
    let out = connector
        .exec(&plan, "echo in-exec", &ExecOptions::default())
        .await
        .unwrap();
    assert_eq!(out.stdout, b"in-exec\n");
    let kinds = asked.lock().unwrap().clone();
    let codes = kinds
        .iter()
        .filter(|k| matches!(k, PromptKind::KeyboardInteractive { .. }))
        .count();
    assert_eq!(codes, 1, "asked {kinds:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn exec_through_a_two_hop_chain() {
    let jump1 = Sshd::start_logged("");
    let jump2 = Sshd::start_logged("");
    let target = Sshd::start_logged("");
    let lab = Lab::new(&[&jump1, &jump2, &target]);
    let block = |alias: &str, port: u16, jump: Option<&str>| {
        format!(
            "Host {alias}\n  HostName 127.0.0.1\n  Port {port}\n  User {}\n  IdentityFile {}\n  \
             UserKnownHostsFile {}\n{}",
            me(),
            lab.key.display(),
            lab.dir.path().join("known_hosts").display(),
            jump.map(|j| format!("  ProxyJump {j}\n"))
                .unwrap_or_default()
        )
    };
    let config = format!(
        "{}{}{}",
        block("db1", target.port, Some("j1,j2")),
        block("j1", jump1.port, None),
        block("j2", jump2.port, None)
    );
    std::fs::write(lab.dir.path().join("config"), config).unwrap();
    let resolve = ResolveOptions {
        config_file: Some(lab.dir.path().join("config")),
        home_dir: lab.dir.path().to_path_buf(),
        local_user: me(),
        ..ResolveOptions::default()
    };
    let p = plan("db1", &Inventory::default(), &resolve, &lab.options()).unwrap();
    assert_eq!(p.jumps.len(), 2);
    let (prompter, _) = auto_answer(Answers::default());
    let connector = Connector::new(lab.options(), prompter);
    for n in 0..2 {
        let out = connector
            .exec(&p, "echo through-$((20+22))", &ExecOptions::default())
            .await
            .unwrap();
        assert_eq!(out.stdout, b"through-42\n", "exec {n}");
    }
    // Each jump host forwarded (to the next hop), the target forwarded nothing.
    assert!(jump1.log_count("server_request_direct_tcpip") >= 1);
    assert!(jump2.log_count("server_request_direct_tcpip") >= 1);
    assert_eq!(target.log_count("server_request_direct_tcpip"), 0);
    assert_eq!(jump1.log_count(ACCEPTED), 1);
    assert_eq!(jump2.log_count(ACCEPTED), 1);
    assert_eq!(target.log_count(ACCEPTED), 1, "two execs, one login");
}

#[tokio::test(flavor = "multi_thread")]
async fn exec_timeout_cap_stdin_and_cancel() {
    let sshd = Sshd::start_logged("");
    let lab = Lab::new(&[&sshd]);
    let (prompter, _) = auto_answer(Answers::default());
    let connector = Connector::new(lab.options(), prompter);
    let plan = connector.direct("db", &Target::new(me(), "127.0.0.1", sshd.port));

    // Timeout: a clear error, and the connection stays usable.
    let quick = ExecOptions {
        timeout: Duration::from_millis(700),
        ..ExecOptions::default()
    };
    let e = connector.exec(&plan, "sleep 30", &quick).await.unwrap_err();
    assert!(matches!(e, SshError::ExecTimeout { .. }), "{e}");
    assert!(e.to_string().contains("did not finish within"), "{e}");

    // Cap: an endless output stops at the cap and says so.
    let capped = ExecOptions {
        max_output: 1000,
        ..ExecOptions::default()
    };
    let out = connector.exec(&plan, "yes", &capped).await.unwrap();
    assert!(out.truncated);
    assert_eq!(out.stdout.len(), 1000);

    // Stdin and stderr.
    let fed = ExecOptions {
        stdin: Some(b"fed through stdin\n".to_vec()),
        ..ExecOptions::default()
    };
    let out = connector
        .exec(&plan, "cat; echo oops >&2; exit 3", &fed)
        .await
        .unwrap();
    assert_eq!(out.stdout, b"fed through stdin\n");
    assert_eq!(out.stderr, b"oops\n");
    assert_eq!(out.status, Some(3));

    // Cancel: dropping the exec closes its channel (after a SIGTERM request, which sshd
    // honours for non-root logins), so a command that still writes is stopped on the host.
    let pidfile = sshd.path("cancel.pid");
    let command = format!(
        "echo $$ > {}; while true; do echo tick; sleep 0.1; done",
        pidfile.display()
    );
    let defaults = ExecOptions::default();
    let running = connector.exec(&plan, &command, &defaults);
    let cancelled = tokio::time::timeout(Duration::from_millis(1500), running).await;
    assert!(cancelled.is_err(), "the exec was cancelled by the timeout");
    let pid: i32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // SAFETY: kill(pid, 0) only checks that the process exists.
    let gone = until_within(SETTLE, || unsafe { libc::kill(pid, 0) } != 0).await;
    assert!(
        gone,
        "the cancelled command {pid} still runs: {}",
        sshd.log()
    );
    let out = connector
        .exec(&plan, "echo still-here", &ExecOptions::default())
        .await
        .unwrap();
    assert_eq!(out.stdout, b"still-here\n");
    assert_eq!(sshd.log_count(ACCEPTED), 1);
}
