//! Byte-stream backends a terminal pane reads from and writes to (a local PTY now, SSH next).
//!
//! A backend owns its resource in a task or thread of its own. The pane holds a
//! [`StreamHandle`] to send input and resizes, and a bounded receiver of [`StreamEvent`]s.
//! After every send on that receiver the backend calls [`Waker::wake`] so the UI loop wakes up.

use std::sync::Arc;
use tokio::sync::{Notify, mpsc};

/// How many chunks a backend may queue before it waits for the UI (backpressure).
pub const STREAM_QUEUE: usize = 64;

/// What a backend sends to its pane.
#[derive(Debug)]
pub enum StreamEvent {
    /// Bytes from the program or host.
    Data(Vec<u8>),
    /// Something the user should know about the connection (a deprecated algorithm, a
    /// skipped known_hosts line); shown in the status bar, not in the pane.
    Notice(String),
    /// The stream ended; the pane keeps its scrollback and shows why.
    Closed(CloseReason),
}

/// Why a stream ended, in words a user can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CloseReason {
    /// The program exited with this status (None when killed by a signal).
    Exited(Option<i32>),
    /// The server closed the channel or connection.
    ServerClosed,
    /// The network went away (read/write error).
    NetworkLost(String),
    /// No answer to keepalives.
    KeepaliveTimeout,
    /// The stream could not be started at all.
    Failed(String),
}

impl std::fmt::Display for CloseReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CloseReason::Exited(Some(code)) => write!(f, "exited with status {code}"),
            CloseReason::Exited(None) => write!(f, "terminated by a signal"),
            CloseReason::ServerClosed => write!(f, "server closed the connection"),
            CloseReason::NetworkLost(why) => write!(f, "network lost: {why}"),
            CloseReason::KeepaliveTimeout => write!(f, "no answer to keepalives; the link is dead"),
            CloseReason::Failed(why) => write!(f, "{why}"),
        }
    }
}

/// What a pane asks of its backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamCmd {
    Input(Vec<u8>),
    Resize { cols: u16, rows: u16 },
    Close,
}

/// The pane's side of a backend: commands out. Cheap to clone.
#[derive(Debug, Clone)]
pub struct StreamHandle {
    tx: mpsc::UnboundedSender<StreamCmd>,
}

impl StreamHandle {
    pub fn new(tx: mpsc::UnboundedSender<StreamCmd>) -> Self {
        Self { tx }
    }

    /// Queue input for the program. Returns false when the backend is gone.
    pub fn write(&self, bytes: &[u8]) -> bool {
        self.tx.send(StreamCmd::Input(bytes.to_vec())).is_ok()
    }

    pub fn resize(&self, cols: u16, rows: u16) -> bool {
        self.tx.send(StreamCmd::Resize { cols, rows }).is_ok()
    }

    pub fn close(&self) {
        let _ = self.tx.send(StreamCmd::Close);
    }
}

/// Wakes the UI loop when a backend queued something. Shared by all backends.
#[derive(Debug, Clone, Default)]
pub struct Waker(Arc<Notify>);

impl Waker {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn wake(&self) {
        self.0.notify_one();
    }

    /// Resolves after the next [`Waker::wake`] (or at once if one is pending).
    pub async fn woken(&self) {
        self.0.notified().await;
    }
}

/// A started backend: its handle and the receiver of its events.
#[derive(Debug)]
pub struct Stream {
    pub handle: StreamHandle,
    pub events: mpsc::Receiver<StreamEvent>,
}

/// The backend's side: where it sends events, and the commands it receives.
#[derive(Debug)]
pub struct StreamEnds {
    pub events: mpsc::Sender<StreamEvent>,
    pub commands: mpsc::UnboundedReceiver<StreamCmd>,
    pub waker: Waker,
}

impl StreamEnds {
    /// Send an event and wake the UI. Returns false when the pane is gone.
    pub async fn send(&self, ev: StreamEvent) -> bool {
        let ok = self.events.send(ev).await.is_ok();
        self.waker.wake();
        ok
    }

    /// Blocking variant for backends on plain threads (PTY readers).
    pub fn blocking_send(&self, ev: StreamEvent) -> bool {
        let ok = self.events.blocking_send(ev).is_ok();
        self.waker.wake();
        ok
    }
}

/// Make the two ends of a new stream.
pub fn channel(waker: &Waker) -> (Stream, StreamEnds) {
    let (ev_tx, ev_rx) = mpsc::channel(STREAM_QUEUE);
    let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
    (
        Stream {
            handle: StreamHandle::new(cmd_tx),
            events: ev_rx,
        },
        StreamEnds {
            events: ev_tx,
            commands: cmd_rx,
            waker: waker.clone(),
        },
    )
}
