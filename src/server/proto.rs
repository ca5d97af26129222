//! The client–server protocol on the server's Unix socket: length-prefixed frames, each a
//! kind byte and a payload (JSON, or the raw bytes of a frame for the terminal).
//!
//! The client speaks first with a [`Hello`] (protocol version, build, terminal, size, agent
//! socket, and what it wants). A server of another build answers [`Reply::Refused`] naming
//! its own, so neither side ever waits for the other. Then the client sends input events and
//! the server sends output (each client its own diff), clipboard requests and the exit.

use serde::{Deserialize, Serialize};
use std::io;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Bumped when a frame changes shape. Clients and servers of one protocol can talk even when
/// their builds differ (`lumen attach --any-build`).
pub const PROTOCOL: u32 = 1;

/// The largest frame either side accepts.
pub const MAX_FRAME: usize = 16 * 1024 * 1024;

/// Frame kinds.
pub mod kind {
    /// Client → server.
    pub const HELLO: u8 = 1;
    pub const INPUT: u8 = 2;
    pub const DETACH: u8 = 3;
    pub const REDRAW: u8 = 4;
    /// Server → client.
    pub const REPLY: u8 = 10;
    pub const OUTPUT: u8 = 11;
    pub const CLIPBOARD: u8 = 12;
    pub const EXIT: u8 = 13;
}

/// What this binary is: its version and the size and time of its executable, so two builds of
/// one version differ too. `LUMEN_BUILD_ID` overrides it (tests).
pub fn build_id() -> String {
    if let Some(id) = std::env::var_os("LUMEN_BUILD_ID") {
        return id.to_string_lossy().into_owned();
    }
    let exe = std::env::current_exe()
        .and_then(std::fs::metadata)
        .map(|m| {
            use std::os::unix::fs::MetadataExt;
            format!("{:x}-{:x}", m.len(), m.mtime())
        })
        .unwrap_or_else(|_| "unknown".into());
    format!("{}+{exe}", env!("CARGO_PKG_VERSION"))
}

/// The client's first frame.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Hello {
    pub protocol: u32,
    pub build: String,
    /// Talk to a server of another build when the protocol matches.
    #[serde(default)]
    pub any_build: bool,
    pub term: Option<String>,
    pub colorterm: Option<String>,
    /// Columns, rows.
    pub size: (u16, u16),
    pub ssh_auth_sock: Option<String>,
    pub request: Request,
}

/// What the client wants.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Request {
    /// A new session started from these lumen arguments (as typed after `lumen`), run in
    /// `cwd`; attach to it unless `detached`.
    New {
        name: Option<String>,
        args: Vec<String>,
        cwd: Option<String>,
        detached: bool,
    },
    /// Attach to a session (the most recently used without a target).
    Attach {
        target: Option<String>,
        read_only: bool,
        detach_others: bool,
    },
    /// The sessions, for `lumen ls`.
    List,
    KillSession {
        target: String,
    },
    KillServer,
}

/// One session as `lumen ls` shows it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SessionSummary {
    pub name: String,
    /// Seconds since the Unix epoch.
    pub created: u64,
    pub attached: usize,
    pub panes: usize,
    pub hosts: Vec<String>,
}

/// The server's answer to a hello.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Reply {
    /// Attached to this session; output follows.
    Attached {
        session: String,
        build: String,
    },
    /// Done (`kill-session`, `kill-server`, `new -d`), with a line to print.
    Done {
        message: Option<String>,
    },
    Sessions {
        sessions: Vec<SessionSummary>,
    },
    /// Not done: why. `build` and `protocol` are the server's, so an old client can say which
    /// server it met.
    Refused {
        reason: String,
        build: String,
        protocol: u32,
    },
}

/// Why an attached client's session view ended.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub enum Exit {
    /// `C-b d`, another client's `attach -d`, or the client's own hangup.
    Detached { session: String },
    /// The session's last pane closed (its exit status: `lumen connect`'s 255).
    SessionEnded { session: String, code: u8 },
    /// `lumen kill-session` ended the session.
    SessionKilled { session: String },
    /// `lumen kill-server`.
    ServerKilled,
}

/// A clipboard request carried to the client (which owns the terminal and its tmux).
#[derive(Debug, Serialize, Deserialize)]
pub enum Clipboard {
    Set(String),
    /// A secret: wiped on both sides after use.
    SetSecret(String),
    ClearSecret,
}

/// Write one frame.
pub async fn write_frame<W: AsyncWrite + Unpin>(
    w: &mut W,
    kind: u8,
    payload: &[u8],
) -> io::Result<()> {
    let len = u32::try_from(payload.len() + 1)
        .ok()
        .filter(|&n| n as usize <= MAX_FRAME)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "frame too large"))?;
    let mut head = [0u8; 5];
    head[..4].copy_from_slice(&len.to_be_bytes());
    head[4] = kind;
    w.write_all(&head).await?;
    w.write_all(payload).await?;
    w.flush().await
}

/// Write one frame of JSON.
pub async fn write_json<W: AsyncWrite + Unpin, T: Serialize>(
    w: &mut W,
    kind: u8,
    value: &T,
) -> io::Result<()> {
    let payload = serde_json::to_vec(value).map_err(io::Error::other)?;
    write_frame(w, kind, &payload).await
}

/// Read one frame: its kind and payload; None at a clean end of the stream.
pub async fn read_frame<R: AsyncRead + Unpin>(r: &mut R) -> io::Result<Option<(u8, Vec<u8>)>> {
    let mut len = [0u8; 4];
    match r.read_exact(&mut len).await {
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let len = u32::from_be_bytes(len) as usize;
    if len == 0 || len > MAX_FRAME {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("a frame of {len} bytes (the most is {MAX_FRAME})"),
        ));
    }
    let mut kind = [0u8; 1];
    r.read_exact(&mut kind).await?;
    let mut payload = vec![0u8; len - 1];
    r.read_exact(&mut payload).await?;
    Ok(Some((kind[0], payload)))
}

/// Parse a JSON payload, naming the frame when it is not what it should be.
pub fn parse<T: for<'de> Deserialize<'de>>(what: &str, payload: &[u8]) -> io::Result<T> {
    serde_json::from_slice(payload).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("a malformed {what}: {e}"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn frames_round_trip_and_garbage_is_an_error_not_a_hang() {
        let (mut a, mut b) = tokio::io::duplex(1 << 16);
        write_json(&mut a, kind::EXIT, &Exit::ServerKilled)
            .await
            .unwrap();
        write_frame(&mut a, kind::OUTPUT, b"\x1b[2J").await.unwrap();
        let (k, p) = read_frame(&mut b).await.unwrap().unwrap();
        assert_eq!(
            (k, parse::<Exit>("exit", &p).unwrap()),
            (kind::EXIT, Exit::ServerKilled)
        );
        assert_eq!(
            read_frame(&mut b).await.unwrap().unwrap(),
            (kind::OUTPUT, b"\x1b[2J".to_vec())
        );
        // A length past the limit is refused at once.
        a.write_all(&u32::MAX.to_be_bytes()).await.unwrap();
        let e = read_frame(&mut b).await.unwrap_err();
        assert!(e.to_string().contains("the most is"), "{e}");
        drop(a);
        let (mut c, mut d) = tokio::io::duplex(64);
        drop(c.shutdown().await);
        drop(c);
        assert!(read_frame(&mut d).await.unwrap().is_none());
    }
}
