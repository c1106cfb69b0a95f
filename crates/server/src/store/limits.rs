//! The office's time limits (处置时限) per issue category and severity, kept in the database so
//! every server process applies the same: a reported issue's `due_at` is its time plus the limit
//! in force when it was reported (a changed limit never moves an existing issue's due time).
//!
//! Stored under one meta key as `{"fire_safety/high": 12, …}` (hours); a key this server does not
//! know is ignored, so an older server reads a newer one's limits.

use super::{ReadTx, Result, StoreError, WriteTx};
use gridmate_model::issue::TimeLimits;
use gridmate_model::{IssueCategory, Severity};
use std::collections::BTreeMap;

const KEY: &str = "time_limits";

pub fn load(tx: &mut dyn ReadTx) -> Result<TimeLimits> {
    let Some(text) = tx.meta(KEY)? else {
        return Ok(TimeLimits::default());
    };
    let stored: BTreeMap<String, u32> =
        serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let mut limits = TimeLimits::default();
    for (key, hours) in stored {
        if let Some((c, s)) = key.split_once('/')
            && let (Some(c), Some(s)) = (IssueCategory::from_code(c), Severity::from_code(s))
        {
            // A stored value out of bounds (written by hand) is left at the default.
            let _ = limits.set(c, s, hours);
        }
    }
    Ok(limits)
}

pub fn save(tx: &mut dyn WriteTx, limits: &TimeLimits) -> Result<()> {
    let stored: BTreeMap<String, u32> = limits
        .hours
        .iter()
        .map(|((c, s), h)| (format!("{}/{}", c.code(), s.code()), *h))
        .collect();
    let text = serde_json::to_string(&stored).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    tx.set_meta(KEY, &text)
}
