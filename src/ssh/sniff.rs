//! Remembers the first bytes a server sends, so a failed handshake can say whether the far end
//! speaks SSH at all (an HTTP server or another service on the port) or closed before saying
//! anything, instead of blaming authentication.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// How much of the server's first output is kept.
const KEEP: usize = 512;

/// The first bytes read, shared with whoever wraps the transport.
#[derive(Clone, Default)]
pub struct Greeting(Arc<Mutex<Vec<u8>>>);

impl Greeting {
    /// What the server had said before the failure, as the user should hear it.
    pub fn verdict(&self) -> Verdict {
        let bytes = self.0.lock().map(|b| b.clone()).unwrap_or_default();
        if bytes.is_empty() {
            return Verdict::Silent;
        }
        // RFC 4253 4.2: lines before the version line are allowed; the version line starts
        // with "SSH-".
        let speaks_ssh = bytes.split(|b| *b == b'\n').any(|l| l.starts_with(b"SSH-"));
        if speaks_ssh {
            return Verdict::Ssh;
        }
        let first = bytes.split(|b| *b == b'\n').next().unwrap_or_default();
        let line = String::from_utf8_lossy(first);
        let line: String = line.trim_end().chars().take(60).collect();
        Verdict::NotSsh(crate::text::escape_controls(&line).into_owned())
    }
}

/// What [`Greeting::verdict`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Nothing arrived before the connection ended.
    Silent,
    /// A version line arrived: the failure came later.
    Ssh,
    /// Something else answered; its first line.
    NotSsh(String),
}

/// A transport that copies the first [`KEEP`] bytes it reads into a [`Greeting`].
pub struct Sniffed<S> {
    inner: S,
    greeting: Greeting,
}

impl<S> Sniffed<S> {
    pub fn new(inner: S) -> (Self, Greeting) {
        let greeting = Greeting::default();
        (
            Self {
                inner,
                greeting: greeting.clone(),
            },
            greeting,
        )
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Sniffed<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = polled
            && let Ok(mut kept) = self.greeting.0.lock()
            && kept.len() < KEEP
        {
            let new = &buf.filled()[before..];
            let room = KEEP - kept.len();
            kept.extend_from_slice(&new[..new.len().min(room)]);
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Sniffed<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
