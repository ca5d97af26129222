//! The processes behind the embedded server's channels: a PTY (shell or command) or plain pipes
//! for exec without a PTY, streamed back to the client with the exit status at the end.

use crate::pty::PtyCommand;
use crate::stream::{CloseReason, StreamEvent, StreamHandle, Waker};
use russh::server::{self, Msg, Session};
use russh::{ChannelId, ChannelWriteHalf};
use std::collections::HashMap;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{mpsc, watch};

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
    /// Where the channel's output goes; taken when its process starts.
    pub(super) out: Option<Output>,
    /// Dropped with the state when the channel closes: tells its [`Output`] to stop waiting.
    _closing: Option<watch::Sender<()>>,
}

impl ChannelState {
    /// The state of a channel just opened, `writer` its sending half.
    pub(super) fn new(writer: ChannelWriteHalf<Msg>) -> Self {
        let (closing, closed) = watch::channel(());
        Self {
            out: Some(Output {
                writer: Arc::new(writer),
                closed,
            }),
            _closing: Some(closing),
            ..Self::default()
        }
    }
}

/// A channel's output to the client, sent only as the client's window for this channel allows.
///
/// All channels' data reach the session through one in-order queue, and the session stops
/// taking from it while any channel has data waiting for window (russh's `pending_data`). Data
/// handed over without window would let one flooding channel hold the queue, with every other
/// channel's output (an echo) behind it until the flood's reader catches up. Waiting for the
/// window here, per channel, keeps the queue moving: a flood waits for its own window only.
#[derive(Clone)]
pub(super) struct Output {
    writer: Arc<ChannelWriteHalf<Msg>>,
    closed: watch::Receiver<()>,
}

impl Output {
    /// Send `data` (on stream `ext` if given, else stdout). False once the channel or the
    /// connection is gone: the caller stops.
    pub(super) async fn send(&mut self, ext: Option<u32>, data: Vec<u8>) -> bool {
        let sent = async {
            match ext {
                Some(ext) => self.writer.extended_data_bytes(ext, data).await,
                None => self.writer.data_bytes(data).await,
            }
        };
        tokio::select! {
            sent = sent => sent.is_ok(),
            // The channel closed while its window was exhausted: no window will come.
            _ = self.closed.changed() => false,
        }
    }
}

/// Start `cmd` on a PTY (if one was requested) or on pipes, and stream it to the channel.
pub(super) fn start(
    channels: &mut HashMap<ChannelId, ChannelState>,
    id: ChannelId,
    cmd: PtyCommand,
    session: &mut Session,
) {
    let handle = session.handle();
    let Some((state, mut out)) = channels
        .get_mut(&id)
        .and_then(|s| s.out.take().map(|out| (s, out)))
    else {
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
                                if !out.send(None, d).await {
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
    let (pipe_out, pipe_err) = (child.stdout.take(), child.stderr.take());
    let mut out_err = out.clone();
    tokio::spawn(async move {
        let stdout = async {
            if let Some(mut pipe) = pipe_out {
                let mut buf = vec![0u8; PIPE_CHUNK];
                while let Ok(n @ 1..) = pipe.read(&mut buf).await {
                    if !out.send(None, buf[..n].to_vec()).await {
                        break;
                    }
                }
            }
        };
        let stderr = async {
            if let Some(mut pipe) = pipe_err {
                let mut buf = vec![0u8; PIPE_CHUNK];
                while let Ok(n @ 1..) = pipe.read(&mut buf).await {
                    if !out_err.send(Some(1), buf[..n].to_vec()).await {
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
