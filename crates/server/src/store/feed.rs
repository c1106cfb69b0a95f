//! One page of a caller's change feed: the rules of `GET /sync/pull`.
//!
//! - **From no cursor** a device gets its scope's current state only: tombstones up to the head
//!   at that moment are of records it never had. That head rides in the cursor
//!   (`snapshot_head`) until the first load is done, so later pages skip those tombstones too,
//!   while tombstones after it (of records the device may just have received) come through.
//! - **Resync**: a cursor older than the newest purged tombstone may have missed a delete and
//!   is refused, unless every purged tombstone is older than its snapshot head.
//! - **Paging**: `limit` changes in seq order; the cursor is the last one's seq, or the head
//!   when the page is the last (so a quiet scope's cursor still moves past others' changes).
//! - **Count and digest** of the scope's live records up to the cursor, for the device to
//!   compare with its own. A scope of whole grids answers from the grids' maintained digests:
//!   the state at the head, which is the cursor's state on the last page (the one a device
//!   compares) and, on earlier pages, what the last page will say if nothing changes meanwhile.
//! - **Redaction** per [`super::scope::redact`]; a tombstone carries only its id.

use super::scope::{Scope, redact, redacts};
use super::{
    Principal, PullCursor, PullOutcome, PullRefusal, ReadTx, Result, StoreError,
    log::PURGED_THROUGH,
};
use gridmate_protocol::digest::fold;
use gridmate_protocol::{Op, RawChange};
use serde_json::value::RawValue;

pub fn pull(
    tx: &mut dyn ReadTx,
    p: &Principal,
    from: Option<PullCursor>,
    limit: u32,
) -> Result<Result<PullOutcome, PullRefusal>> {
    let purged: u64 = tx
        .meta(PURGED_THROUGH)?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    if from.is_some_and(|c| c.seq < purged && purged > c.snapshot_head) {
        return Ok(Err(PullRefusal::ResyncRequired));
    }
    let head = tx.head()?;
    // A cursor past the head was given by another database (a restored backup, a demo seeded
    // afresh): what the device holds is not this log's, so it starts again.
    if from.is_some_and(|c| c.seq.max(c.snapshot_head) > head) {
        return Ok(Err(PullRefusal::ResyncRequired));
    }
    let from = from.unwrap_or(PullCursor {
        seq: 0,
        snapshot_head: head,
    });
    let scope = Scope::of(p);
    let mut rows = tx.feed_page(
        &scope,
        from.seq,
        from.snapshot_head,
        limit.saturating_add(1),
    )?;
    let has_more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let corrupt = |e: serde_json::Error| StoreError::Corrupt(e.to_string());
    let mut changes = Vec::with_capacity(rows.len());
    for row in rows {
        let data = if row.deleted {
            serde_json::value::to_raw_value(&serde_json::json!({ "id": row.id }))
                .map_err(corrupt)?
        } else if redacts(row.entity, p) {
            let value = serde_json::from_str(&row.data).map_err(corrupt)?;
            serde_json::value::to_raw_value(&redact(row.entity, value, p)).map_err(corrupt)?
        } else {
            RawValue::from_string(row.data).map_err(corrupt)?
        };
        changes.push(RawChange {
            seq: row.seq,
            entity: row.entity,
            id: row.id,
            op: if row.deleted { Op::Delete } else { Op::Upsert },
            data,
        });
    }
    let cursor = match changes.last() {
        Some(last) if has_more => last.seq,
        _ => head,
    };
    let (scope_count, scope_digest) = if scope.is_whole_grids() {
        let mut acc = [0u8; 16];
        let mut count = 0u64;
        for d in tx.grid_digests(&scope.grids)? {
            count += d.count.max(0) as u64;
            fold(&mut acc, &d.digest);
        }
        (count, gridmate_model::hex::encode(&acc))
    } else {
        let keys = tx.live_keys(&scope, cursor)?;
        gridmate_protocol::digest::scope_digest(
            keys.iter().map(|(e, id, seq)| (e.code(), *id, *seq)),
        )
    };
    let snapshot_head = if cursor < from.snapshot_head {
        from.snapshot_head
    } else {
        0
    };
    Ok(Ok(PullOutcome {
        changes,
        cursor: PullCursor {
            seq: cursor,
            snapshot_head,
        },
        has_more,
        scope_count,
        scope_digest,
    }))
}
