//! `lumen connect` without the TUI: `-T` runs the remote command over exec against a real
//! OpenSSH sshd (output as it comes, the remote exit status), 255 when the only host cannot
//! be reached, and an unknown `--workspace` names the known ones.
#![allow(clippy::unwrap_used)]

mod common;

use common::CliHost;
use std::process::Output;

fn setup() -> CliHost {
    CliHost::start()
}

trait Connect {
    fn lumen_here(&self, args: &[&str]) -> Output;
    fn exec(&self, words: &[&str]) -> Output;
}

impl Connect for CliHost {
    /// lumen without the machine's /etc/ssh/ssh_config.
    fn lumen_here(&self, args: &[&str]) -> Output {
        self.lumen(args, &[("LUMEN_SSH_SYSTEM_CONFIG", "none")])
    }

    /// `lumen connect -T -i KEY -p PORT 127.0.0.1 WORDS…`
    fn exec(&self, words: &[&str]) -> Output {
        let port = self.sshd.port.to_string();
        let key = self.key.display().to_string();
        let mut args = vec!["connect", "-T", "-i", &key, "-p", &port, "127.0.0.1"];
        args.extend_from_slice(words);
        self.lumen_here(&args)
    }
}

#[test]
fn dash_t_runs_the_remote_command_over_exec_with_its_status() {
    let env = setup();
    let out = env.exec(&["echo out-$((6*7)); echo oops >&2; exit 3"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "out-42\n",
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("oops"));
    assert_eq!(out.status.code(), Some(3));
    // The words after the destination are joined with spaces into one command for the
    // remote shell, as ssh joins them, dashes included.
    let out = env.exec(&["printf", "'%s-%s\\n'", "-a", "b"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "-a-b\n");
    assert_eq!(out.status.code(), Some(0));
    // -T with nothing to run is a usage error, not a silent shell.
    let out = env.exec(&[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("-T needs a command"));
}

#[test]
fn an_unreachable_only_host_exits_255_as_ssh() {
    let env = setup();
    // A loopback port nobody listens on.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port().to_string()
    };
    let key = env.key.display().to_string();
    let out = env.lumen_here(&[
        "connect",
        "-T",
        "-i",
        &key,
        "-p",
        &port,
        "127.0.0.1",
        "true",
    ]);
    assert_eq!(
        out.status.code(),
        Some(255),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("127.0.0.1"));
}

#[test]
fn an_unknown_workspace_is_an_error_naming_the_known_ones() {
    let env = setup();
    let add = env.lumen_here(&["hosts", "add", "db1", "--workspace", "team"]);
    assert!(add.status.success());
    for args in [
        &["connect", "--workspace", "nope", "db1"][..],
        &["hosts", "list", "--workspace", "nope"],
        &["hosts", "resolve", "--workspace", "nope", "db1"],
    ] {
        let out = env.lumen_here(args);
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("no workspace named \"nope\"")
                && err.contains("known workspaces: default, team"),
            "{args:?}: {err}"
        );
    }
    assert!(!env.dir.path().join("lumen/data/workspaces/nope").exists());
}
