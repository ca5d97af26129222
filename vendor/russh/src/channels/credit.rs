//! LUMEN-PATCH: per-channel flow control on the client (see LUMEN-PATCH.md).
//!
//! The session loop hands a channel's messages over with `try_send`; when the
//! channel's queue is full they wait in the channel's own backlog, so the loop
//! never waits for one channel's reader. The receive window is granted back to
//! the peer only for bytes the reader has taken: the reader counts them here
//! and wakes the session, which sends WINDOW_ADJUST. A reader that stops
//! reading stalls its own channel only.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use russh_util::time::Instant;

use tokio::sync::Notify;
use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::mpsc::{Receiver, Sender};

use super::ChannelMsg;

/// Bytes a channel's reader has taken and the session has not yet granted back.
#[derive(Debug, Clone)]
pub(crate) struct ReadCredit {
    taken: Arc<AtomicUsize>,
    wake: Arc<Notify>,
}

impl ReadCredit {
    /// `wake` is the session's: it runs its window and backlog pass when woken.
    pub(crate) fn new(wake: Arc<Notify>) -> Self {
        Self {
            taken: Arc::new(AtomicUsize::new(0)),
            wake,
        }
    }

    fn add(&self, bytes: usize) {
        if bytes > 0 {
            self.taken.fetch_add(bytes, Ordering::AcqRel);
        }
    }

    /// The bytes taken since the last call.
    pub(crate) fn take(&self) -> usize {
        self.taken.swap(0, Ordering::AcqRel)
    }
}

/// The bytes of data a message carries against the channel's window.
fn data_len(msg: &ChannelMsg) -> usize {
    match msg {
        ChannelMsg::Data { data } | ChannelMsg::ExtendedData { data, .. } => data.len(),
        _ => 0,
    }
}

/// The reading end of a channel's queue: counts what the reader takes.
#[derive(Debug)]
pub(crate) struct ChannelReceiver {
    rx: Receiver<ChannelMsg>,
    credit: Option<ReadCredit>,
}

impl ChannelReceiver {
    pub(crate) fn new(rx: Receiver<ChannelMsg>, credit: Option<ReadCredit>) -> Self {
        Self { rx, credit }
    }

    fn taken(&self, msg: &Option<ChannelMsg>) {
        if let (Some(credit), Some(msg)) = (&self.credit, msg) {
            credit.add(data_len(msg));
            // Also for messages without data: the queue has room again for the backlog.
            credit.wake.notify_one();
        }
    }

    pub(crate) async fn recv(&mut self) -> Option<ChannelMsg> {
        let msg = self.rx.recv().await;
        self.taken(&msg);
        msg
    }

    pub(crate) fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<ChannelMsg>> {
        let polled = self.rx.poll_recv(cx);
        if let Poll::Ready(msg) = &polled {
            self.taken(msg);
        }
        polled
    }

    pub(crate) fn close(&mut self) {
        self.rx.close()
    }
}

impl Drop for ChannelReceiver {
    /// Nobody will read what is queued: count it as taken, so the peer is not
    /// left waiting for window on a channel it may still be closing.
    fn drop(&mut self) {
        self.rx.close();
        while let Ok(msg) = self.rx.try_recv() {
            self.taken(&Some(msg));
        }
    }
}

/// The least window a busy channel is kept to, however many channels are busy
/// (see [`share`]).
pub(crate) const SHARE_FLOOR: u32 = 128 * 1024;

/// The window a channel may have outstanding (in flight from the peer, or
/// received and not yet taken by its reader) while `busy_others` other channels
/// of the connection are receiving: an equal part of the connection's `budget`,
/// at least [`SHARE_FLOOR`]. One flood alone gets the whole budget (full speed
/// on a long round trip); ten floods together have about one budget in flight
/// ahead of a quiet channel's echo rather than ten.
pub(crate) fn share(budget: u32, busy_others: usize) -> u32 {
    let parts = u32::try_from(busy_others.saturating_add(1)).unwrap_or(u32::MAX);
    (budget / parts).max(SHARE_FLOOR).min(budget)
}

/// The session's side of a channel's queue: the sender and the backlog.
#[derive(Debug)]
pub(crate) struct ChannelSender {
    pub(crate) sender: Sender<ChannelMsg>,
    backlog: VecDeque<ChannelMsg>,
    credit: Option<ReadCredit>,
    /// Data bytes received for the reader and not yet taken by it.
    unread: usize,
    /// Data bytes received lately (see [`Recent`]).
    recent: Recent,
}

/// How long [`Recent`] counts received bytes in one period.
const RECENT_PERIOD: Duration = Duration::from_millis(100);

/// The data bytes a channel received in the current period and the one
/// before it. A channel that received at least a grant step lately is busy:
/// time-based, so a flood whose reader keeps up stays busy between its
/// window top-ups (a measure of the window alone flaps, and the shares with
/// it), and a flood that stopped is idle again within two periods.
#[derive(Debug)]
struct Recent {
    start: Instant,
    now: usize,
    before: usize,
}

impl Recent {
    fn roll(&mut self, at: Instant) {
        let elapsed = at.duration_since(self.start);
        if elapsed >= RECENT_PERIOD * 2 {
            self.before = 0;
        } else if elapsed >= RECENT_PERIOD {
            self.before = self.now;
        } else {
            return;
        }
        self.now = 0;
        self.start = at;
    }
}

impl ChannelSender {
    pub(crate) fn new(sender: Sender<ChannelMsg>, credit: Option<ReadCredit>) -> Self {
        Self {
            sender,
            backlog: VecDeque::new(),
            credit,
            unread: 0,
            recent: Recent {
                start: Instant::now(),
                now: 0,
                before: 0,
            },
        }
    }

    /// `len` data bytes arrived for this channel's reader `at`.
    pub(crate) fn received(&mut self, len: usize, at: Instant) {
        self.unread = self.unread.saturating_add(len);
        self.recent.roll(at);
        self.recent.now = self.recent.now.saturating_add(len);
    }

    /// Account for what the reader took since the last call; returns the
    /// bytes still unread.
    pub(crate) fn settle(&mut self) -> usize {
        if let Some(credit) = &self.credit {
            self.unread = self.unread.saturating_sub(credit.take());
        }
        self.unread
    }

    /// Is the channel receiving, as of `at`: has it received at least `mark`
    /// bytes in the current or the last period? A quiet channel (an echo, a
    /// prompt) receives less.
    pub(crate) fn is_busy(&mut self, at: Instant, mark: usize) -> bool {
        self.recent.roll(at);
        self.credit.is_some() && self.recent.now.max(self.recent.before) >= mark
    }

    /// Is the window granted back as the reader takes data (else as it arrives)?
    pub(crate) fn credit(&self) -> Option<&ReadCredit> {
        self.credit.as_ref()
    }

    pub(crate) fn has_backlog(&self) -> bool {
        !self.backlog.is_empty()
    }

    /// Queue `msg` for the reader without waiting: behind the backlog if there
    /// is one, or into the backlog if the queue is full.
    pub(crate) fn deliver(&mut self, msg: ChannelMsg) {
        if self.backlog.is_empty() {
            match self.sender.try_send(msg) {
                Ok(()) => {}
                Err(TrySendError::Full(msg)) => self.backlog.push_back(msg),
                Err(TrySendError::Closed(msg)) => self.dropped(&msg),
            }
        } else {
            self.backlog.push_back(msg);
        }
    }

    /// Move what the queue has room for from the backlog into it.
    pub(crate) fn flush_backlog(&mut self) {
        while let Some(msg) = self.backlog.pop_front() {
            match self.sender.try_send(msg) {
                Ok(()) => {}
                Err(TrySendError::Full(msg)) => {
                    self.backlog.push_front(msg);
                    return;
                }
                Err(TrySendError::Closed(msg)) => self.dropped(&msg),
            }
        }
    }

    /// The reader is gone: its data counts as taken.
    fn dropped(&self, msg: &ChannelMsg) {
        if let Some(credit) = &self.credit {
            credit.add(data_len(msg));
        }
    }
}
