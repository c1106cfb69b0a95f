//! A byte-counting relay between a client and a server on 127.0.0.1, with an optional delay
//! each way: the sync benchmarks count what travels through it, the slow-link one delays it.

use anyhow::Result;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// A relay on 127.0.0.1 to `to` that counts the bytes coming back from the server into
/// `received` as they travel, and holds every chunk, each way, for `delay` (zero: none) before
/// passing it on in order — a link's propagation delay, where the kernel cannot add it.
pub(crate) fn relay(
    rt: &tokio::runtime::Runtime,
    to: SocketAddr,
    delay: Duration,
    received: Arc<AtomicU64>,
) -> Result<SocketAddr> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
    async fn pipe(
        mut from: OwnedReadHalf,
        mut to: OwnedWriteHalf,
        delay: Duration,
        count: Option<Arc<AtomicU64>>,
    ) {
        let (tx, mut rx) =
            tokio::sync::mpsc::unbounded_channel::<(tokio::time::Instant, Vec<u8>)>();
        tokio::spawn(async move {
            let mut buf = vec![0u8; 64 * 1024];
            while let Ok(n) = from.read(&mut buf).await {
                if n == 0
                    || tx
                        .send((tokio::time::Instant::now() + delay, buf[..n].to_vec()))
                        .is_err()
                {
                    break;
                }
                if let Some(c) = &count {
                    c.fetch_add(n as u64, Ordering::Relaxed);
                }
            }
        });
        while let Some((due, chunk)) = rx.recv().await {
            if !delay.is_zero() {
                tokio::time::sleep_until(due).await;
            }
            if to.write_all(&chunk).await.is_err() {
                break;
            }
        }
        let _ = to.shutdown().await;
    }
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    let addr = listener.local_addr()?;
    rt.spawn(async move {
        while let Ok((phone, _)) = listener.accept().await {
            let received = received.clone();
            tokio::spawn(async move {
                let Ok(server) = tokio::net::TcpStream::connect(to).await else {
                    return;
                };
                let (pr, pw) = phone.into_split();
                let (sr, sw) = server.into_split();
                tokio::spawn(pipe(pr, sw, delay, None));
                pipe(sr, pw, delay, Some(received)).await;
            });
        }
    });
    Ok(addr)
}
