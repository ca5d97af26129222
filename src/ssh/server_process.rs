//! The processes behind the embedded server's channels: a PTY (shell or command) or plain pipes
//! for exec without a PTY, streamed back to the client with the exit status at the end.

use crate::pty::PtyCommand;
use crate::stream::{CloseReason, StreamEvent, StreamHandle, Waker};
use russh::ChannelId;
use russh::server::{self, Session};
use std::collections::HashMap;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

const PIPE_CHUNK: usize = 16 * 1024;

/// Where a channel's input goes.
pub(super) enum Input {
    Pty(StreamHandle),
    Pipe(mpsc::UnboundedSender<Vec<u8>>),
}

#[derive(Default)]
pub(super) struct ChannelState {
    pub(super) pty: Option<(u16, u16)>,
    pub(super) env: Vec<(String, String)>,
    pub(super) input: Option<Input>,
}

/// Start `cmd` on a PTY (if one was requested) or on pipes, and stream it to the channel.
pub(super) fn start(
    channels: &mut HashMap<ChannelId, ChannelState>,
    id: ChannelId,
    cmd: PtyCommand,
    session: &mut Session,
) {
    let handle = session.handle();
    let Some(state) = channels.get_mut(&id) else {
        let _ = session.channel_failure(id);
        return;
    };
    let mut cmd = cmd;
    cmd.env.extend(state.env.iter().cloned());
    if let Some((cols, rows)) = state.pty {
        match crate::pty::spawn(&cmd, cols, rows, &Waker::new()) {
            Ok(mut stream) => {
                state.input = Some(Input::Pty(stream.handle.clone()));
                let _ = session.channel_success(id);
                tokio::spawn(async move {
                    let mut code = None;
                    while let Some(ev) = stream.events.recv().await {
                        match ev {
                            StreamEvent::Data(d) => {
                                if handle.data(id, d).await.is_err() {
                                    stream.handle.close();
                                    return;
                                }
                            }
                            StreamEvent::Closed(CloseReason::Exited(c)) => code = c,
                            StreamEvent::Closed(_) | StreamEvent::Notice(_) => {}
                        }
                    }
                    finish(&handle, id, code).await;
                });
            }
            Err(e) => {
                let _ = session.data(id, format!("{e}\r\n").into_bytes());
                let _ = session.channel_failure(id);
            }
        }
        return;
    }
    let child = tokio::process::Command::new(&cmd.program)
        .args(&cmd.args)
        .envs(cmd.env.iter().map(|(k, v)| (k, v)))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(_) => {
            let _ = session.channel_failure(id);
            return;
        }
    };
    let _ = session.channel_success(id);
    let (tx, mut rx) = mpsc::unbounded_channel::<Vec<u8>>();
    state.input = Some(Input::Pipe(tx));
    if let Some(mut stdin) = child.stdin.take() {
        tokio::spawn(async move {
            while let Some(bytes) = rx.recv().await {
                if stdin.write_all(&bytes).await.is_err() {
                    break;
                }
            }
        });
    }
    let (out, err) = (child.stdout.take(), child.stderr.take());
    tokio::spawn(async move {
        let h2 = handle.clone();
        let stdout = async {
            if let Some(mut out) = out {
                let mut buf = vec![0u8; PIPE_CHUNK];
                while let Ok(n @ 1..) = out.read(&mut buf).await {
                    if handle.data(id, buf[..n].to_vec()).await.is_err() {
                        break;
                    }
                }
            }
        };
        let stderr = async {
            if let Some(mut err) = err {
                let mut buf = vec![0u8; PIPE_CHUNK];
                while let Ok(n @ 1..) = err.read(&mut buf).await {
                    if h2.extended_data(id, 1, buf[..n].to_vec()).await.is_err() {
                        break;
                    }
                }
            }
        };
        tokio::join!(stdout, stderr);
        let code = child.wait().await.ok().and_then(|s| s.code());
        finish(&handle, id, code).await;
    });
}

async fn finish(handle: &server::Handle, id: ChannelId, code: Option<i32>) {
    let status = code.map(|c| u32::try_from(c).unwrap_or(255)).unwrap_or(255);
    let _ = handle.exit_status_request(id, status).await;
    let _ = handle.eof(id).await;
    let _ = handle.close(id).await;
}
