//! The outbox: every mutation this device owes the server, in the order it was made.
//!
//! An entry is written in the same transaction as the record it describes ([`enqueue`]), so the
//! two cannot disagree whatever happens to the process. An entry leaves the `pending` state only
//! on the server's answer: `applied`/`duplicate` → `acked`, `merged` → `merged` (shown to the
//! user), `rejected` → `failed` with the server's reason (shown, kept, retried never silently).
//! Entries are never deleted by this crate.

use crate::store::Store;
use crate::time::{from_ms, ms};
use crate::{DeviceError, Result};
use chrono::{DateTime, Utc};
use gridmate_model::Hlc;
use gridmate_protocol::{Mutation, MutationPayload, PushResult, PushStatus};
use rusqlite::{Row, Transaction, params};
use uuid::Uuid;

gridmate_model::code_enum! {
    /// Where a mutation stands between this device and the server.
    pub enum OutboxState {
        Pending = "pending",
        Acked = "acked",
        Merged = "merged",
        Failed = "failed",
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct OutboxEntry {
    pub seq: i64,
    pub mutation_id: Uuid,
    pub kind: String,
    pub subject_id: Uuid,
    pub recorded_at: DateTime<Utc>,
    pub hlc: String,
    pub state: OutboxState,
    pub attempts: u32,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub updated_at: DateTime<Utc>,
}

/// Append a mutation for `payload` about `subject`. Must run inside the caller's transaction.
pub(crate) fn enqueue(
    tx: &Transaction<'_>,
    payload: &MutationPayload,
    subject: Uuid,
    now: DateTime<Utc>,
    hlc: Hlc,
) -> Result<Uuid> {
    let mutation = Mutation::new(now, hlc, payload);
    tx.prepare_cached(
        "INSERT INTO outbox (mutation_id, kind, subject_id, recorded_at, hlc, data, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?4)",
    )?
    .execute(params![
        mutation.id,
        mutation.kind,
        subject,
        ms(now),
        mutation.hlc,
        mutation.data.to_string(),
    ])?;
    Ok(mutation.id)
}

fn entry(r: &Row<'_>) -> rusqlite::Result<OutboxEntry> {
    let state: String = r.get(6)?;
    Ok(OutboxEntry {
        seq: r.get(0)?,
        mutation_id: r.get(1)?,
        kind: r.get(2)?,
        subject_id: r.get(3)?,
        recorded_at: from_ms(r.get(4)?),
        hlc: r.get(5)?,
        state: OutboxState::from_code(&state).unwrap_or(OutboxState::Failed),
        attempts: r.get(7)?,
        error_code: r.get(8)?,
        error_message: r.get(9)?,
        updated_at: from_ms(r.get(10)?),
    })
}

const ENTRY_COLUMNS: &str = "seq, mutation_id, kind, subject_id, recorded_at, hlc, state, attempts,
     error_code, error_message, updated_at";

impl Store {
    /// Outbox entries in any of `states`, oldest first (all states if empty).
    pub fn outbox(&self, states: &[OutboxState], limit: usize) -> Result<Vec<OutboxEntry>> {
        let all = states.is_empty();
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {ENTRY_COLUMNS} FROM outbox
              WHERE ?1 OR state IN (?2, ?3, ?4, ?5) ORDER BY seq LIMIT ?6"
        ))?;
        let code = |i: usize| states.get(i).map(|s| s.code());
        let rows = st.query_map(
            params![all, code(0), code(1), code(2), code(3), limit as i64],
            entry,
        )?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The oldest pending mutations, ready to push, in creation order.
    pub fn pending_mutations(&self, limit: usize) -> Result<Vec<Mutation>> {
        let mut st = self.conn.prepare_cached(
            "SELECT mutation_id, kind, recorded_at, hlc, data FROM outbox
              WHERE state = 'pending' ORDER BY seq LIMIT ?1",
        )?;
        let rows = st.query_map([limit as i64], |r| {
            Ok((
                r.get::<_, Uuid>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
            ))
        })?;
        rows.map(|row| {
            let (id, kind, recorded_at, hlc, data) = row?;
            Ok(Mutation {
                id,
                kind,
                recorded_at: from_ms(recorded_at),
                hlc,
                data: serde_json::from_str(&data)
                    .map_err(|e| DeviceError::Corrupt(format!("outbox entry {id}: {e}")))?,
            })
        })
        .collect()
    }

    /// Record the server's answers to a push, all in one transaction. Unknown ids are ignored
    /// (an answer for an entry this device no longer has cannot change anything).
    pub fn record_push_results(&mut self, results: &[PushResult]) -> Result<()> {
        let now = ms(Utc::now());
        let tx = self.conn.transaction()?;
        {
            let mut st = tx.prepare_cached(
                "UPDATE outbox SET state = ?2, attempts = attempts + 1, error_code = ?3,
                        error_message = ?4, server_seq = ?5, updated_at = ?6
                  WHERE mutation_id = ?1",
            )?;
            for r in results {
                let state = match r.status {
                    PushStatus::Applied | PushStatus::Duplicate => OutboxState::Acked,
                    PushStatus::Merged => OutboxState::Merged,
                    PushStatus::Rejected => OutboxState::Failed,
                };
                st.execute(params![
                    r.id,
                    state.code(),
                    r.error.as_ref().map(|e| e.code.as_str()),
                    r.error.as_ref().map(|e| e.message.as_str()),
                    r.seq.map(|s| s as i64),
                    now,
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }
}
