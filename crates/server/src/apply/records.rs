//! The shapes every rule shares: a decision (applied, merged or refused), the refusal with its
//! code, and the two ways a rule writes a new record — an immutable creation and the office's
//! case number for it. The rule modules (`apply.rs` and `apply::*`) import these; this module
//! imports none of them.

use crate::store::{PutRecord, Result, StoreError, WriteTx, log};
use chrono::{DateTime, Utc};
use gridmate_model::case_number::{self, CaseKind};
use gridmate_protocol::{Entity, ErrorDetail, PushStatus};
use serde_json::Value;
use uuid::Uuid;

/// Why a mutation is refused: its `error.code` and message.
pub(super) struct Refusal(pub(super) &'static str, pub(super) String);

pub(super) type Decision = std::result::Result<(PushStatus, Option<ErrorDetail>, u64), Refusal>;

pub(super) fn refuse<T>(
    code: &'static str,
    msg: impl Into<String>,
) -> std::result::Result<T, Refusal> {
    Err(Refusal(code, msg.into()))
}

pub(super) fn to_value<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// The office's number for a new issue or order: the one it already has when this is a copy of
/// a record received before (so the copy compares equal in [`create`]), else the next of its
/// community's series for the year it was recorded.
pub(super) fn case_number(
    tx: &mut dyn WriteTx,
    (entity, id): (Entity, Uuid),
    grid: Uuid,
    kind: CaseKind,
    recorded_at: DateTime<Utc>,
) -> Result<Option<String>> {
    if let Some(existing) = tx.record(entity, id)? {
        return Ok(existing.data["number"].as_str().map(str::to_string));
    }
    let Some(grid) = tx.record(Entity::Grid, grid)? else {
        return Ok(None);
    };
    let community: Uuid = serde_json::from_value(grid.data["community_id"].clone())
        .map_err(|e| StoreError::Corrupt(format!("grid without community: {e}")))?;
    let year = case_number::year_of(recorded_at);
    let seq = tx.next_in_series(&case_number::series(kind, community, year))?;
    Ok(Some(case_number::format(year, seq)))
}

/// An immutable creation: a new id is written; the same id again with the same data is the
/// same record (a replay under a new mutation id); different data under a used id is refused.
pub(super) fn create(
    tx: &mut dyn WriteTx,
    record: PutRecord,
    photos: &[String],
    now_ms: i64,
) -> Result<Decision> {
    if let Some(existing) = tx.record(record.entity, record.id)? {
        return Ok(if existing.data == record.data {
            Ok((PushStatus::Applied, None, existing.seq))
        } else {
            refuse(
                "duplicate_id",
                format!(
                    "{:?} {} already exists with other content",
                    record.entity, record.id
                ),
            )
        });
    }
    let (entity, id) = (record.entity, record.id);
    let seq = log::put_over(tx, &record, None, now_ms)?;
    tx.add_blob_refs(photos, entity, id)?;
    Ok(Ok((PushStatus::Applied, None, seq)))
}
