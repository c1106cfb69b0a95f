//! A fault-injecting TCP proxy in front of the real server (not a mock: every request that gets
//! through is served by the real thing). Per connection it can drop before forwarding, forward
//! the request and lose the response, cut the upload mid-body, delay, or answer 502/503 itself.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Probabilities per connection; the rest pass through untouched.
#[derive(Clone, Copy, Debug, Default)]
pub struct Faults {
    pub drop_before: f64,
    pub lose_response: f64,
    pub cut_upload: f64,
    pub bad_gateway: f64,
    pub delay: Duration,
}

#[derive(Default)]
pub struct Counts {
    pub connections: AtomicU64,
    pub dropped: AtomicU64,
    pub lost: AtomicU64,
    pub cut: AtomicU64,
    pub bad_gateway: AtomicU64,
}

pub struct Proxy {
    pub addr: SocketAddr,
    faults: Arc<Mutex<Faults>>,
    pub counts: Arc<Counts>,
}

enum Fate {
    Pass,
    Drop,
    Lose,
    Cut,
    BadGateway,
}

impl Proxy {
    pub fn start(rt: &tokio::runtime::Runtime, upstream: SocketAddr, seed: u64) -> Proxy {
        let listener = rt.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
        let addr = listener.local_addr().unwrap();
        let faults = Arc::new(Mutex::new(Faults::default()));
        let counts = Arc::new(Counts::default());
        let (f, c) = (faults.clone(), counts.clone());
        rt.spawn(async move {
            let mut rng = seed | 1;
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    return;
                };
                c.connections.fetch_add(1, Ordering::Relaxed);
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                let roll = (rng >> 11) as f64 / (1u64 << 53) as f64;
                let faults = *f.lock().unwrap();
                let fate = {
                    let mut edge = faults.drop_before;
                    if roll < edge {
                        Fate::Drop
                    } else if roll < {
                        edge += faults.lose_response;
                        edge
                    } {
                        Fate::Lose
                    } else if roll < {
                        edge += faults.cut_upload;
                        edge
                    } {
                        Fate::Cut
                    } else if roll < {
                        edge += faults.bad_gateway;
                        edge
                    } {
                        Fate::BadGateway
                    } else {
                        Fate::Pass
                    }
                };
                let counts = c.clone();
                tokio::spawn(async move {
                    if !faults.delay.is_zero() {
                        tokio::time::sleep(faults.delay).await;
                    }
                    let _ = handle(client, upstream, fate, &counts).await;
                });
            }
        });
        Proxy {
            addr,
            faults,
            counts,
        }
    }

    pub fn set(&self, faults: Faults) {
        *self.faults.lock().unwrap() = faults;
    }

    pub fn heal(&self) {
        self.set(Faults::default());
    }
}

async fn handle(
    mut client: TcpStream,
    upstream: SocketAddr,
    fate: Fate,
    counts: &Counts,
) -> std::io::Result<()> {
    match fate {
        Fate::Drop => {
            counts.dropped.fetch_add(1, Ordering::Relaxed);
            drop(client);
            Ok(())
        }
        Fate::BadGateway => {
            counts.bad_gateway.fetch_add(1, Ordering::Relaxed);
            let mut buf = [0u8; 4096];
            let _ = tokio::time::timeout(Duration::from_millis(200), client.read(&mut buf)).await;
            client.write_all(b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").await?;
            client.shutdown().await
        }
        Fate::Pass => {
            let mut server = TcpStream::connect(upstream).await?;
            tokio::io::copy_bidirectional(&mut client, &mut server)
                .await
                .map(|_| ())
        }
        Fate::Lose => {
            // Forward the whole request; once the server starts answering, it has done the work:
            // hang up on the client without a byte of the answer.
            counts.lost.fetch_add(1, Ordering::Relaxed);
            let server = TcpStream::connect(upstream).await?;
            let (mut sr, mut sw) = server.into_split();
            let (mut cr, _cw) = client.into_split();
            let up = tokio::spawn(async move {
                let mut buf = vec![0u8; 64 * 1024];
                loop {
                    let n = cr.read(&mut buf).await?;
                    if n == 0 {
                        return std::io::Result::Ok(());
                    }
                    sw.write_all(&buf[..n]).await?;
                }
            });
            let mut first = [0u8; 1];
            let _ = sr.read(&mut first).await;
            up.abort();
            Ok(())
        }
        Fate::Cut => {
            // Forward the headers and part of the body, then cut both sides.
            counts.cut.fetch_add(1, Ordering::Relaxed);
            let mut server = TcpStream::connect(upstream).await?;
            let mut buf = vec![0u8; 64 * 1024];
            let n = tokio::time::timeout(Duration::from_secs(2), client.read(&mut buf))
                .await
                .unwrap_or(Ok(0))?;
            let keep = (n / 2).max(1).min(n);
            server.write_all(&buf[..keep]).await?;
            Ok(())
        }
    }
}
