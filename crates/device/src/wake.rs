//! The wake channel's listener: while the app is open it holds the server's `GET /sync/wake`
//! (Server-Sent Events) and asks for a sync run whenever the server says `ready` or `pull`, so a
//! call-up or a new task shows in seconds instead of at the next timer run.
//!
//! It decides nothing about syncing: it only calls `on_pull`, and the sync worker applies its own
//! rules (backoff, no network). When the stream drops it reconnects after a backoff (2 s doubling
//! to 5 min, back to 2 s after a stream that lived a minute); meanwhile the worker's timer keeps
//! syncing, so a lost channel costs minutes, never data. Without a token it waits.

use std::io::{BufRead, BufReader, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Longer than the server keeps a stream (an hour): a silent dead line is given up then.
pub const STREAM_TIMEOUT: Duration = Duration::from_secs(61 * 60);
const FIRST_RETRY: Duration = Duration::from_secs(2);
const LAST_RETRY: Duration = Duration::from_secs(5 * 60);

/// Listen until `stop` is set (checked between events and keep-alives, at most 25 s apart).
/// `open` makes the request on a token and answers the stream's body, or `None` (no answer, or
/// not a success).
pub fn listen<R: Read>(
    open: impl Fn(&str) -> Option<R>,
    token: impl Fn() -> Option<String>,
    on_pull: impl Fn(),
    stop: &Arc<AtomicBool>,
) {
    let mut retry = FIRST_RETRY;
    while !stop.load(Ordering::Relaxed) {
        let opened = Instant::now();
        if let Some(body) = token().and_then(|t| open(&t)) {
            let _ = hear(body, &on_pull, stop);
        }
        if opened.elapsed() > Duration::from_secs(60) {
            retry = FIRST_RETRY;
        }
        // Sleep in short steps so a stop is seen soon.
        let until = Instant::now() + retry;
        while Instant::now() < until && !stop.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(200));
        }
        retry = (retry * 2).min(LAST_RETRY);
    }
}

/// One stream, until it ends or fails.
fn hear(body: impl Read, on_pull: &impl Fn(), stop: &Arc<AtomicBool>) -> Result<(), ()> {
    for line in BufReader::new(body).lines() {
        if stop.load(Ordering::Relaxed) {
            return Ok(());
        }
        let line = line.map_err(|_| ())?;
        if let Some(event) = line.strip_prefix("event:")
            && matches!(event.trim(), "ready" | "pull")
        {
            on_pull();
        }
    }
    Ok(())
}
