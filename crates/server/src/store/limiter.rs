//! The login limit: [`MAX_FAILURES`] wrong passwords per phone, or per address, within
//! [`WINDOW_MS`], then refusal until the oldest of them leaves the window. Failures live in the
//! database so that several server processes count the same ones; a success clears its phone's
//! count (not its address's). Keys are stored as SHA-256 digests: the phone numbers people
//! tried are not kept.

use super::{ReadTx, Result, WriteTx};
use sha2::{Digest, Sha256};

pub const MAX_FAILURES: usize = 5;
pub const WINDOW_MS: i64 = 15 * 60 * 1000;

/// The stored form of a key ("phone:…", "addr:…").
pub fn key_digest(key: &str) -> String {
    gridmate_model::hex::encode(&Sha256::digest(key.as_bytes()))
}

/// Seconds to wait if any key is over the limit.
pub fn check(tx: &mut dyn ReadTx, keys: &[String], now_ms: i64) -> Result<Option<u64>> {
    let mut wait = None;
    for key in keys {
        wait = wait.max(wait_over(tx, key, MAX_FAILURES, now_ms)?);
    }
    Ok(wait)
}

/// Seconds to wait if `key` was counted `max` times in the window (the same counter serves
/// other limits than the login's: the resident page's codes and roll matches).
pub fn wait_over(tx: &mut dyn ReadTx, key: &str, max: usize, now_ms: i64) -> Result<Option<u64>> {
    let times = tx.login_failures(&key_digest(key), now_ms - WINDOW_MS)?;
    if times.len() < max {
        return Ok(None);
    }
    let oldest = times.iter().copied().min().unwrap_or(now_ms);
    Ok(Some(((oldest + WINDOW_MS - now_ms) / 1000).max(1) as u64))
}

/// Count a failure against every key; forget failures that left the window.
pub fn fail(tx: &mut dyn WriteTx, keys: &[String], now_ms: i64) -> Result<()> {
    tx.forget_login_failures_before(now_ms - WINDOW_MS)?;
    for key in keys {
        tx.add_login_failure(&key_digest(key), now_ms)?;
    }
    Ok(())
}

pub fn succeed(tx: &mut dyn WriteTx, phone_key: &str) -> Result<()> {
    tx.clear_login_failures(&key_digest(phone_key))
}
