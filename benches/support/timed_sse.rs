//! A keep-alive fake AI provider for benchmarks: it answers every request with a chunked
//! `text/event-stream` body in two writes (the first event, then the rest) and reports, for
//! each answer, the instant just before it wrote the first byte. `answer(n)` gives the n-th
//! request's (first, rest) event text.

use std::net::SocketAddr;
use std::sync::mpsc;
use std::time::Instant;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

fn chunk(s: &str) -> String {
    format!("{:x}\r\n{s}\r\n", s.len())
}

pub async fn serve(
    answer: impl Fn(usize) -> (String, String) + Send + Sync + 'static,
    starts: mpsc::Sender<Instant>,
) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let answer = std::sync::Arc::new(answer);
    let counter = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let _ = stream.set_nodelay(true);
            let (answer, counter, starts) = (answer.clone(), counter.clone(), starts.clone());
            tokio::spawn(async move {
                let mut buf = Vec::new();
                loop {
                    let mut read = [0u8; 65536];
                    let Ok(n) = stream.read(&mut read).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&read[..n]);
                    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
                        continue;
                    };
                    let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
                    let len: usize = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse().ok())
                        .unwrap_or(0);
                    if buf.len() < end + 4 + len {
                        continue;
                    }
                    buf.drain(..end + 4 + len);
                    let n = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let (first, rest) = answer(n);
                    let opening = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\
                         transfer-encoding: chunked\r\n\r\n{}",
                        chunk(&first)
                    );
                    let t0 = Instant::now();
                    if stream.write_all(opening.as_bytes()).await.is_err() {
                        return;
                    }
                    let _ = starts.send(t0);
                    let closing = format!("{}0\r\n\r\n", chunk(&rest));
                    if stream.write_all(closing.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    addr
}
