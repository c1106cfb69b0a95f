//! The office's time limits (处置时限) per issue category and severity, kept in the database so
//! every server process applies the same: a reported issue's `due_at` is its time plus the limit
//! in force when it was reported (a changed limit never moves an existing issue's due time).
//!
//! Stored under one meta key as `{"fire_safety/high": 12, …}` (hours); a key this server does not
//! know is ignored, so an older server reads a newer one's limits. The escalation ladders (who
//! is chased when an issue runs late, `reach::sweep`) are kept the same way under a key of their
//! own, `{"fire_safety/high": [2, 8], …}` (hours after the due time to the leader, to the office).

use super::{ReadTx, Result, StoreError, WriteTx};
use gridmate_model::issue::{Escalation, TimeLimits};
use gridmate_model::{IssueCategory, Severity};
use std::collections::BTreeMap;

const KEY: &str = "time_limits";
const LADDERS: &str = "escalation_ladders";

/// One meta key's map, its keys read back to a category and severity; keys this server does
/// not know are left out.
fn stored<T: serde::de::DeserializeOwned>(
    tx: &mut dyn ReadTx,
    key: &str,
) -> Result<Vec<(IssueCategory, Severity, T)>> {
    let Some(text) = tx.meta(key)? else {
        return Ok(Vec::new());
    };
    let stored: BTreeMap<String, T> =
        serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok(stored
        .into_iter()
        .filter_map(|(key, value)| {
            let (c, s) = key.split_once('/')?;
            Some((IssueCategory::from_code(c)?, Severity::from_code(s)?, value))
        })
        .collect())
}

fn store<T: serde::Serialize + Copy>(
    tx: &mut dyn WriteTx,
    key: &str,
    map: &BTreeMap<(IssueCategory, Severity), T>,
) -> Result<()> {
    let stored: BTreeMap<String, T> = map
        .iter()
        .map(|((c, s), v)| (format!("{}/{}", c.code(), s.code()), *v))
        .collect();
    let text = serde_json::to_string(&stored).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    tx.set_meta(key, &text)
}

pub fn load(tx: &mut dyn ReadTx) -> Result<TimeLimits> {
    let mut limits = TimeLimits::default();
    // A stored value out of bounds (written by hand) is left at the default.
    for (c, s, hours) in stored::<u32>(tx, KEY)? {
        let _ = limits.set(c, s, hours);
    }
    for (c, s, [leader, office]) in stored::<[u32; 2]>(tx, LADDERS)? {
        let ladder = Escalation {
            leader_after_hours: leader,
            office_after_hours: office,
        };
        let _ = limits.set_escalation(c, s, ladder);
    }
    Ok(limits)
}

pub fn save(tx: &mut dyn WriteTx, limits: &TimeLimits) -> Result<()> {
    store(tx, KEY, &limits.hours)?;
    let ladders = limits
        .ladders
        .iter()
        .map(|(k, l)| (*k, [l.leader_after_hours, l.office_after_hours]))
        .collect();
    store(tx, LADDERS, &ladders)
}
