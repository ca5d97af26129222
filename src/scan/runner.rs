//! Running a command on the scanned host: the [`Runner`] seam, over an SSH connection
//! ([`SshRunner`]) or locally ([`LocalRunner`], for benchmarks and tests). Every run has a
//! timeout and an output cap; the caller turns a failure into "unknown".

use crate::ssh::{Connection, ExecFailure, ExecOptions};
use futures::future::BoxFuture;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// How long one command may take unless its collector says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// The most stdout (and, separately, stderr) kept of one command.
pub const DEFAULT_MAX_OUTPUT: usize = 32 * 1024 * 1024;

/// How long to wait, after a command ended without a status, to see whether the connection
/// itself ended.
const CLOSED_CHECK: Duration = Duration::from_millis(50);

/// Limits of one run, and what to feed the command's stdin.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub timeout: Duration,
    pub max_output: usize,
    pub stdin: Option<Vec<u8>>,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            timeout: DEFAULT_TIMEOUT,
            max_output: DEFAULT_MAX_OUTPUT,
            stdin: None,
        }
    }
}

impl RunOptions {
    pub fn timeout(timeout: Duration) -> Self {
        Self {
            timeout,
            ..Self::default()
        }
    }
}

/// What a command printed and how it ended.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunOutput {
    /// None when killed by a signal or when no status came.
    pub status: Option<u32>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// Output went past `max_output`; the rest was dropped and the command stopped.
    pub truncated: bool,
}

impl RunOutput {
    pub fn ok(&self) -> bool {
        self.status == Some(0)
    }

    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RunError {
    #[error("timed out after {} s", .0.as_secs())]
    Timeout(Duration),
    #[error("the connection is gone ({0})")]
    Disconnected(String),
    #[error("the host refused to run it ({0})")]
    Refused(String),
}

/// Runs commands on one host. Implementations share one connection between calls.
pub trait Runner: Send + Sync {
    fn run<'a>(
        &'a self,
        command: &'a str,
        opts: RunOptions,
    ) -> BoxFuture<'a, Result<RunOutput, RunError>>;

    /// A collector is about to run its command(s); `what` names the fact in words ("packages",
    /// "sshd settings"). Runners that report progress (the TUI's) listen; others ignore it.
    fn step(&self, _what: &str) {}
}

/// Commands over an authenticated SSH connection, one exec channel each (no PTY).
pub struct SshRunner {
    conn: Connection,
}

impl SshRunner {
    pub fn new(conn: Connection) -> Self {
        Self { conn }
    }

    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// Say goodbye to the host.
    pub async fn close(self) {
        self.conn.disconnect().await;
    }

    async fn exec(&self, command: &str, opts: RunOptions) -> Result<RunOutput, RunError> {
        let exec = ExecOptions {
            timeout: opts.timeout,
            max_output: opts.max_output,
            stdin: opts.stdin,
            cancel: None,
            hold_stdin: false,
        };
        let out = match crate::ssh::exec::run(&self.conn, command, &exec).await {
            Ok(out) => out,
            Err(ExecFailure::Channel { why, .. }) => return Err(RunError::Disconnected(why)),
            Err(ExecFailure::Refused) => {
                return Err(RunError::Refused("exec request failed".into()));
            }
            // Scans pass no cancel switch (a dropped scan stops its execs).
            Err(ExecFailure::Cancelled) => {
                return Err(RunError::Disconnected("cancelled".into()));
            }
            Err(ExecFailure::TimedOut) => return Err(RunError::Timeout(opts.timeout)),
        };
        if out.status.is_none() {
            // No status: killed by a signal, or the connection went away under it.
            tokio::time::sleep(CLOSED_CHECK).await;
            if self.conn.handle.is_closed() {
                return Err(RunError::Disconnected(
                    "the host closed the connection".into(),
                ));
            }
        }
        Ok(RunOutput {
            status: out.status,
            stdout: out.stdout,
            stderr: out.stderr,
            truncated: out.truncated,
        })
    }
}

impl Runner for SshRunner {
    fn run<'a>(
        &'a self,
        command: &'a str,
        opts: RunOptions,
    ) -> BoxFuture<'a, Result<RunOutput, RunError>> {
        Box::pin(self.exec(command, opts))
    }
}

/// Commands on this machine through `sh -c`, with the same limits.
#[derive(Debug, Clone, Default)]
pub struct LocalRunner;

impl LocalRunner {
    async fn exec(command: &str, opts: RunOptions) -> Result<RunOutput, RunError> {
        let mut child = tokio::process::Command::new("/bin/sh")
            .arg("-c")
            .arg(command)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| RunError::Refused(e.to_string()))?;
        let stdin = child.stdin.take();
        let input = opts.stdin.clone();
        let feed = async move {
            if let (Some(mut pipe), Some(bytes)) = (stdin, input) {
                let _ = pipe.write_all(&bytes).await;
            }
        };
        let (out, err) = (child.stdout.take(), child.stderr.take());
        let max = opts.max_output;
        let work = async {
            let ((stdout, t1), (stderr, t2), ()) =
                tokio::join!(read_capped(out, max), read_capped(err, max), feed);
            (stdout, stderr, t1 || t2)
        };
        match tokio::time::timeout(opts.timeout, work).await {
            Ok((stdout, stderr, truncated)) => {
                if truncated {
                    let _ = child.kill().await;
                }
                let status = child
                    .wait()
                    .await
                    .ok()
                    .and_then(|s| s.code())
                    .map(|c| u32::try_from(c).unwrap_or(255));
                Ok(RunOutput {
                    status,
                    stdout,
                    stderr,
                    truncated,
                })
            }
            Err(_) => {
                let _ = child.kill().await;
                Err(RunError::Timeout(opts.timeout))
            }
        }
    }
}

/// Read a pipe to its end or to `max` bytes (then true: truncated).
async fn read_capped<R: tokio::io::AsyncRead + Unpin>(
    pipe: Option<R>,
    max: usize,
) -> (Vec<u8>, bool) {
    let mut buf = Vec::new();
    let Some(mut p) = pipe else {
        return (buf, false);
    };
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let n = match p.read(&mut chunk).await {
            Ok(0) | Err(_) => return (buf, false),
            Ok(n) => n,
        };
        let room = max.saturating_sub(buf.len());
        if n > room {
            buf.extend_from_slice(&chunk[..room]);
            return (buf, true);
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

impl Runner for LocalRunner {
    fn run<'a>(
        &'a self,
        command: &'a str,
        opts: RunOptions,
    ) -> BoxFuture<'a, Result<RunOutput, RunError>> {
        Box::pin(Self::exec(command, opts))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn local_runner_caps_times_out_and_feeds_stdin() {
        let r = LocalRunner;
        let out = r
            .run(
                "cat",
                RunOptions {
                    stdin: Some(b"hi".to_vec()),
                    ..RunOptions::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(out.stdout, b"hi");
        assert_eq!(out.status, Some(0));
        let capped = RunOptions {
            max_output: 1000,
            ..RunOptions::default()
        };
        let out = r.run("yes", capped).await.unwrap();
        assert!(out.truncated);
        assert_eq!(out.stdout.len(), 1000);
        let quick = RunOptions::timeout(Duration::from_millis(200));
        assert_eq!(
            r.run("sleep 5", quick).await,
            Err(RunError::Timeout(Duration::from_millis(200)))
        );
    }
}
