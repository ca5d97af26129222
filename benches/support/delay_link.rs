//! A delayed link on loopback for benchmarks where the kernel has no `netem` qdisc: a TCP
//! relay that holds every chunk it reads for a fixed one-way delay before writing it on, in
//! both directions. Bandwidth is not limited; only the round trip grows by twice the delay,
//! which is what decides whether a flow-control window opens far enough.

use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::Instant;

/// Chunks read but not yet written, per direction (bounded, so a stalled side stalls the
/// relay instead of growing it: about 64 MiB at most in flight each way).
const QUEUE: usize = 1024;
const CHUNK: usize = 64 * 1024;

/// Listen on a loopback port and relay each connection to `upstream` with `one_way` delay
/// in each direction. Returns the port to connect to; the relay runs until the runtime ends.
pub async fn start(upstream: SocketAddr, one_way: Duration) -> std::io::Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    tokio::spawn(async move {
        while let Ok((down, _)) = listener.accept().await {
            tokio::spawn(async move {
                let Ok(up) = TcpStream::connect(upstream).await else {
                    return;
                };
                let _ = down.set_nodelay(true);
                let _ = up.set_nodelay(true);
                let (down_r, down_w) = down.into_split();
                let (up_r, up_w) = up.into_split();
                tokio::spawn(pipe(down_r, up_w, one_way));
                tokio::spawn(pipe(up_r, down_w, one_way));
            });
        }
    });
    Ok(port)
}

/// Read from `from`, stamp each chunk, and write it to `to` once `delay` has passed since it
/// was read. EOF is passed on after the chunks before it.
async fn pipe(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    delay: Duration,
) {
    let (tx, mut rx) = mpsc::channel::<(Instant, Vec<u8>)>(QUEUE);
    let reader = async move {
        let mut buf = vec![0u8; CHUNK];
        loop {
            match from.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if tx
                        .send((Instant::now() + delay, buf[..n].to_vec()))
                        .await
                        .is_err()
                    {
                        break;
                    }
                }
            }
        }
    };
    let writer = async move {
        while let Some((due, chunk)) = rx.recv().await {
            tokio::time::sleep_until(due).await;
            if to.write_all(&chunk).await.is_err() {
                break;
            }
        }
        let _ = to.shutdown().await;
    };
    tokio::join!(reader, writer);
}
