use tokio::sync::mpsc::Sender;

use super::WindowSizeRef;
use super::credit::{ChannelSender, ReadCredit};
use crate::ChannelMsg;

/// A handle to the [`super::Channel`]'s to be able to transmit messages
/// to it and update it's `window_size`.
#[derive(Debug)]
pub struct ChannelRef {
    // LUMEN-PATCH: the sender with its backlog (see credit.rs).
    pub(crate) queue: ChannelSender,
    pub(super) window_size: WindowSizeRef,
}

impl ChannelRef {
    pub fn new(sender: Sender<ChannelMsg>) -> Self {
        Self {
            queue: ChannelSender::new(sender, None),
            window_size: WindowSizeRef::new(0),
        }
    }

    /// LUMEN-PATCH: a channel whose window is granted back as its reader
    /// takes data (see credit.rs).
    pub(crate) fn with_credit(sender: Sender<ChannelMsg>, credit: ReadCredit) -> Self {
        Self {
            queue: ChannelSender::new(sender, Some(credit)),
            window_size: WindowSizeRef::new(0),
        }
    }

    pub(crate) fn window_size(&self) -> &WindowSizeRef {
        &self.window_size
    }
}

impl std::ops::Deref for ChannelRef {
    type Target = Sender<ChannelMsg>;

    fn deref(&self) -> &Self::Target {
        &self.queue.sender
    }
}
