//! The local PTY backend: a program (the user's shell by default) on a pseudo-terminal,
//! behind the byte-stream interface of [`crate::stream`].

use crate::stream::{self, CloseReason, Stream, StreamCmd, StreamEvent, Waker};
use portable_pty::{CommandBuilder, PtySize, native_pty_system};
use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::path::PathBuf;

/// Bytes read from the PTY at a time; also the largest chunk a pane receives.
const READ_CHUNK: usize = 16 * 1024;

/// What to run on the PTY.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PtyCommand {
    pub program: PathBuf,
    pub args: Vec<String>,
    pub cwd: Option<PathBuf>,
    /// Extra environment, on top of the inherited one (TERM is always set).
    pub env: Vec<(String, String)>,
    /// The programs started from this command that still run (shared by its clones).
    pub children: Children,
}

impl PtyCommand {
    pub fn new(program: impl Into<PathBuf>) -> Self {
        Self {
            program: program.into(),
            args: Vec::new(),
            cwd: None,
            env: Vec::new(),
            children: Children::default(),
        }
    }
}

/// The user's login shell: `$SHELL` if it names an executable file, else `/bin/sh`.
/// The second value explains a fallback, for the status bar.
pub fn user_shell() -> (PathBuf, Option<String>) {
    shell_from(std::env::var_os("SHELL"))
}

fn shell_from(shell: Option<std::ffi::OsString>) -> (PathBuf, Option<String>) {
    let fallback = PathBuf::from("/bin/sh");
    match shell {
        Some(s) if !s.is_empty() => {
            let p = PathBuf::from(&s);
            if is_executable(&p) {
                (p, None)
            } else {
                let note = format!(
                    "$SHELL ({}) is not an executable file; using /bin/sh",
                    p.display()
                );
                (fallback, Some(note))
            }
        }
        _ => (fallback, Some("$SHELL is not set; using /bin/sh".into())),
    }
}

fn is_executable(p: &std::path::Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// The programs started on PTYs (by one app: one session of the server) that have not exited
/// yet, by process id. Clones share the set; two sets are equal only if they are the same.
#[derive(Debug, Clone, Default)]
pub struct Children(std::sync::Arc<std::sync::Mutex<BTreeSet<u32>>>);

impl PartialEq for Children {
    fn eq(&self, other: &Self) -> bool {
        std::sync::Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for Children {}

/// How long lumen waits, as a session ends, for its panes' programs to act on the hangup.
const HANGUP_GRACE: std::time::Duration = std::time::Duration::from_millis(500);

impl Children {
    fn with<T>(&self, f: impl FnOnce(&mut BTreeSet<u32>) -> T) -> Option<T> {
        self.0.lock().ok().map(|mut set| f(&mut set))
    }

    /// Send SIGHUP to every program still running on these PTYs, as a terminal that closes
    /// does: shells pass it on to their jobs, so nothing is left orphaned when a session ends
    /// (on quit, on a signal, or because its own terminal disappeared).
    ///
    /// Then wait, at most [`HANGUP_GRACE`], for them to exit while their terminals are still
    /// open. Closing the terminals at once races the signal: a shell that reads end-of-file
    /// before it handles SIGHUP exits as if told `exit`, and leaves its background jobs
    /// running.
    pub fn hang_up(&self) {
        let pids = self.with(|set| set.clone()).unwrap_or_default();
        for &pid in &pids {
            let Ok(pid) = libc::pid_t::try_from(pid) else {
                continue;
            };
            // SAFETY: kill(2) with a pid lumen spawned and has not reaped yet.
            unsafe {
                libc::kill(pid, libc::SIGHUP);
            }
        }
        // The waiter threads take each program off the set as they reap it.
        let deadline = std::time::Instant::now() + HANGUP_GRACE;
        while std::time::Instant::now() < deadline
            && self
                .with(|set| pids.iter().any(|pid| set.contains(pid)))
                .unwrap_or(false)
        {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("could not start {program} on a terminal: {why}")]
pub struct PtyError {
    pub program: String,
    pub why: String,
}

/// Start `cmd` on a new PTY of `cols`x`rows`. A reader thread forwards output, a writer thread
/// applies input, resizes and close; a waiter reports the exit status.
pub fn spawn(cmd: &PtyCommand, cols: u16, rows: u16, waker: &Waker) -> Result<Stream, PtyError> {
    let fail = |why: String| PtyError {
        program: cmd.program.display().to_string(),
        why,
    };
    let pty = native_pty_system()
        .openpty(PtySize {
            rows: rows.max(1),
            cols: cols.max(1),
            pixel_width: 0,
            pixel_height: 0,
        })
        .map_err(|e| fail(e.to_string()))?;
    let mut builder = CommandBuilder::new(&cmd.program);
    builder.args(&cmd.args);
    builder.env("TERM", "xterm-256color");
    builder.env("COLORTERM", "truecolor");
    for (k, v) in &cmd.env {
        builder.env(k, v);
    }
    match &cmd.cwd {
        Some(dir) => builder.cwd(dir),
        None => {
            if let Ok(dir) = std::env::current_dir() {
                builder.cwd(dir);
            }
        }
    }
    let mut child = pty
        .slave
        .spawn_command(builder)
        .map_err(|e| fail(e.to_string()))?;
    drop(pty.slave);
    let pid = child.process_id();
    let children = cmd.children.clone();
    if let Some(pid) = pid {
        children.with(|set| set.insert(pid));
    }
    let mut reader = pty
        .master
        .try_clone_reader()
        .map_err(|e| fail(e.to_string()))?;
    let mut writer = pty.master.take_writer().map_err(|e| fail(e.to_string()))?;
    let master = pty.master;
    let (stream, ends) = stream::channel(waker);
    let stream::StreamEnds {
        events,
        mut commands,
        waker,
    } = ends;
    let send = move |ev: StreamEvent| {
        let ok = events.blocking_send(ev).is_ok();
        waker.wake();
        ok
    };

    // Reader: PTY → pane. Ends at EOF/EIO (the program and its children closed the PTY).
    let (exit_tx, exit_rx) = std::sync::mpsc::channel::<Option<i32>>();
    std::thread::Builder::new()
        .name("pty-reader".into())
        .spawn(move || {
            let mut buf = vec![0u8; READ_CHUNK];
            loop {
                match reader.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if !send(StreamEvent::Data(buf[..n].to_vec())) {
                            return;
                        }
                    }
                }
            }
            let status = exit_rx.recv().unwrap_or(None);
            send(StreamEvent::Closed(CloseReason::Exited(status)));
        })
        .map_err(|e| fail(e.to_string()))?;

    // Waiter: reaps the child so the reader can report its status.
    let mut killer = child.clone_killer();
    std::thread::Builder::new()
        .name("pty-waiter".into())
        .spawn(move || {
            let status = child.wait().ok().map(|s| s.exit_code() as i32);
            if let Some(pid) = pid {
                children.with(|set| set.remove(&pid));
            }
            let _ = exit_tx.send(status);
        })
        .map_err(|e| fail(e.to_string()))?;

    // Writer: pane → PTY. Owns the master so resizes and close happen here.
    std::thread::Builder::new()
        .name("pty-writer".into())
        .spawn(move || {
            while let Some(cmd) = commands.blocking_recv() {
                match cmd {
                    StreamCmd::Input(bytes) => {
                        if writer
                            .write_all(&bytes)
                            .and_then(|_| writer.flush())
                            .is_err()
                        {
                            break;
                        }
                    }
                    StreamCmd::Resize { cols, rows } => {
                        let _ = master.resize(PtySize {
                            rows: rows.max(1),
                            cols: cols.max(1),
                            pixel_width: 0,
                            pixel_height: 0,
                        });
                    }
                    StreamCmd::Close => {
                        let _ = killer.kill();
                        break;
                    }
                }
            }
            drop(master);
        })
        .map_err(|e| fail(e.to_string()))?;
    Ok(stream)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn runs_a_program_and_reports_its_status() {
        let waker = Waker::new();
        let mut cmd = PtyCommand::new("/bin/sh");
        cmd.args = vec!["-c".into(), "stty size; exit 3".into()];
        let mut s = spawn(&cmd, 91, 27, &waker).expect("spawn");
        let mut out = Vec::new();
        let reason = loop {
            match s.events.recv().await {
                Some(StreamEvent::Data(d)) => out.extend(d),
                Some(StreamEvent::Notice(_)) => {}
                Some(StreamEvent::Closed(r)) => break r,
                None => panic!("stream ended without a reason"),
            }
        };
        assert!(String::from_utf8_lossy(&out).contains("27 91"), "{out:?}");
        assert_eq!(reason, CloseReason::Exited(Some(3)));
    }

    #[tokio::test]
    async fn input_reaches_the_program() {
        let waker = Waker::new();
        let mut cmd = PtyCommand::new("/bin/sh");
        cmd.args = vec!["-c".into(), "read x; echo got:$x".into()];
        let mut s = spawn(&cmd, 80, 24, &waker).expect("spawn");
        assert!(s.handle.write(b"hello\r"));
        let mut out = Vec::new();
        while let Some(StreamEvent::Data(d)) = s.events.recv().await {
            out.extend(d);
        }
        assert!(String::from_utf8_lossy(&out).contains("got:hello"));
    }

    #[test]
    fn shell_falls_back_to_bin_sh_and_says_why() {
        assert_eq!(
            shell_from(Some("/bin/sh".into())),
            (PathBuf::from("/bin/sh"), None)
        );
        let (p, note) = shell_from(None);
        assert_eq!(
            (p, note.as_deref()),
            (
                PathBuf::from("/bin/sh"),
                Some("$SHELL is not set; using /bin/sh")
            )
        );
        let (p, note) = shell_from(Some("/no/such/zsh".into()));
        assert_eq!(p, PathBuf::from("/bin/sh"));
        assert!(note.is_some_and(|n| n.contains("/no/such/zsh")));
        let (_, note) = shell_from(Some("/etc".into()));
        assert!(note.is_some(), "a directory is not a shell");
    }

    #[test]
    fn missing_program_is_a_clear_error() {
        let waker = Waker::new();
        let e = spawn(&PtyCommand::new("/nonexistent/shell"), 80, 24, &waker).unwrap_err();
        assert!(e.to_string().contains("/nonexistent/shell"), "{e}");
    }
}
