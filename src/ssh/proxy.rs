//! `ProxyCommand`: run the command with `sh -c` and speak SSH over its stdin/stdout. Its stderr
//! goes to the log; the child is killed when the connection that uses it is dropped.

use super::SshError;
use super::config::Resolved;
use tokio::io::{AsyncBufReadExt, BufReader, Join};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

/// The child's pipes as one duplex transport.
pub type ProxyStream = Join<ChildStdout, ChildStdin>;

/// A running ProxyCommand; killed when dropped.
pub struct ProxyChild {
    child: Child,
}

impl Drop for ProxyChild {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

/// `%h %p %r %n %u %d %%` expanded as ssh does for ProxyCommand; an unknown token is kept as
/// written (ssh would refuse the command; lumen lets the shell see it).
pub fn expand_tokens(command: &str, r: &Resolved) -> String {
    let t = &r.tokens;
    crate::ssh::config::tokens::expand_percent_lenient(command, |c| match c {
        'h' => Some(r.hostname.clone()),
        'p' => Some(r.port.to_string()),
        'r' => Some(r.user.clone()),
        'n' => Some(r.host_arg.clone()),
        'u' => Some(t.local_user.clone()),
        'd' => Some(t.home_dir.clone()),
        _ => None,
    })
}

/// Start `command` with `sh -c` (as ssh does, via `exec`), its stderr logged under `name`.
pub fn spawn(command: &str, name: &str) -> Result<(ProxyStream, ProxyChild), SshError> {
    let fail = |why: String| SshError::ProxyCommand {
        command: command.to_string(),
        why,
    };
    let mut child = Command::new("/bin/sh")
        .arg("-c")
        .arg(format!("exec {command}"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| fail(e.to_string()))?;
    let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
        return Err(fail("its pipes could not be opened".into()));
    };
    if let Some(stderr) = child.stderr.take() {
        let name = name.to_string();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                tracing::info!("ProxyCommand for {name}: {line}");
            }
        });
    }
    Ok((tokio::io::join(stdout, stdin), ProxyChild { child }))
}
