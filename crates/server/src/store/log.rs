//! The record log: every record's current state under the sequence number of its last change.
//!
//! **Sequence numbers.** A change takes `head + 1`, read and written inside the one write
//! transaction ([`super::Backend`] serialises writers). So a puller that has seen seq N has seen
//! every change below N: no transaction can commit a smaller seq later. A backend with several
//! concurrent writers (a sequence object, say) would break that — a `nextval` taken by a
//! transaction that commits after a later one lets a puller skip it forever — and must not be
//! used for this log.
//!
//! **Tombstones.** Removing a record keeps its placement and id under a new seq with no data:
//! devices that had it see a delete, devices loading their scope afresh never see it. Tombstones
//! older than [`TOMBSTONE_RETENTION_DAYS`] are purged; the newest purged seq is remembered, and
//! a cursor from before it must start over (see [`super::feed`]).
//!
//! **Digests.** Each grid keeps the count of its live records and the XOR of their row hashes
//! (`gridmate_protocol::digest`), updated with every change, so a scope of whole grids answers
//! its digest without reading its records.
//!
//! **Facts.** Each change also writes (or drops) the record's counting columns
//! ([`super::facts`]) in the same transaction, so the office's statistics never lag the log.

use super::{GridDigest, LogRow, PutRecord, Result, StoredRecord, WriteTx, facts};
use gridmate_protocol::Entity;
use gridmate_protocol::digest::{fold, row_hash};
use uuid::Uuid;

/// How long tombstones of removed records are kept: a device that has not synced for longer must
/// pull its scope from the start (409 `resync_required`).
pub const TOMBSTONE_RETENTION_DAYS: i64 = 90;

/// The meta key remembering the newest purged tombstone.
pub const PURGED_THROUGH: &str = "purged_through_seq";

fn next_seq(tx: &mut dyn WriteTx) -> Result<u64> {
    Ok(tx.head()? + 1)
}

fn fold_digest(tx: &mut dyn WriteTx, grid: Uuid, hash: &[u8; 16], delta: i64) -> Result<()> {
    let mut d = tx.grid_digests(&[grid])?.pop().unwrap_or_default();
    d.count += delta;
    fold(&mut d.digest, hash);
    tx.set_grid_digest(grid, &d)
}

/// Write a record's current state under the next sequence number; returns it. The old version
/// leaves its grid's digest, the new one joins its own.
pub fn put(tx: &mut dyn WriteTx, r: &PutRecord, now_ms: i64) -> Result<u64> {
    let old = tx.record(r.entity, r.id)?;
    put_over(tx, r, old.as_ref(), now_ms)
}

/// [`put`] for a caller that has just read the record's stored version in this transaction
/// (`None`: there is none), so the read is not repeated: on PostgreSQL each is a round trip.
pub fn put_over(
    tx: &mut dyn WriteTx,
    r: &PutRecord,
    old: Option<&StoredRecord>,
    now_ms: i64,
) -> Result<u64> {
    let seq = next_seq(tx)?;
    let data = r.data.to_string();
    tx.write_record(&LogRow {
        entity: r.entity,
        id: r.id,
        seq,
        grid_id: r.grid_id,
        building_id: r.building_id,
        owner_id: r.owner_id,
        deleted: false,
        changed_at_ms: now_ms,
        data: &data,
    })?;
    if let Some(old) = old
        && !old.deleted
        && let Some(grid) = old.grid_id
    {
        fold_digest(tx, grid, &row_hash(r.entity.code(), &r.id, old.seq), -1)?;
    }
    if let Some(grid) = r.grid_id {
        fold_digest(tx, grid, &row_hash(r.entity.code(), &r.id, seq), 1)?;
    }
    facts::record_changed(
        tx,
        r.entity,
        r.id,
        old,
        r.grid_id,
        r.building_id,
        Some(&r.data),
    )?;
    Ok(seq)
}

/// Mark a record removed under a new seq. The tombstone keeps only the id: a removed resident's
/// data is gone. Returns whether there was a live record.
pub fn remove(tx: &mut dyn WriteTx, entity: Entity, id: Uuid, now_ms: i64) -> Result<bool> {
    let Some(old) = tx.record(entity, id)?.filter(|r| !r.deleted) else {
        return Ok(false);
    };
    let seq = next_seq(tx)?;
    let data = serde_json::json!({ "id": id }).to_string();
    tx.write_record(&LogRow {
        entity,
        id,
        seq,
        grid_id: old.grid_id,
        building_id: old.building_id,
        owner_id: old.owner_id,
        deleted: true,
        changed_at_ms: now_ms,
        data: &data,
    })?;
    if let Some(grid) = old.grid_id {
        fold_digest(tx, grid, &row_hash(entity.code(), &id, old.seq), -1)?;
    }
    facts::record_changed(tx, entity, id, Some(&old), None, None, None)?;
    Ok(true)
}

/// Remove a household that left the grid, with its residents. Returns how many records went.
pub fn remove_household(tx: &mut dyn WriteTx, id: Uuid, now_ms: i64) -> Result<usize> {
    let mut removed = 0;
    for resident in tx.residents_of(id)? {
        removed += usize::from(remove(tx, Entity::Resident, resident, now_ms)?);
    }
    removed += usize::from(remove(tx, Entity::Household, id, now_ms)?);
    Ok(removed)
}

/// Drop tombstones changed before the cutoff; cursors from before the newest one dropped can no
/// longer be served incrementally. Returns how many went.
pub fn purge_tombstones(tx: &mut dyn WriteTx, older_than_ms: i64) -> Result<usize> {
    let Some(newest) = tx.newest_tombstone_before(older_than_ms)? else {
        return Ok(0);
    };
    // The log's newest row stays, tombstone or not: it is the head new seqs count from, and a
    // seq a device has seen must never be handed out again.
    let through = newest.min(tx.head()?.saturating_sub(1));
    if through == 0 {
        return Ok(0);
    }
    let n = tx.delete_tombstones_through(through)?;
    tx.set_meta(PURGED_THROUGH, &through.to_string())?;
    Ok(n)
}

/// The digest of a grid recomputed from its records' (entity, id, seq): what the maintained one
/// must equal.
pub fn digest_of<'a>(rows: impl IntoIterator<Item = (Entity, &'a Uuid, u64)>) -> GridDigest {
    let mut d = GridDigest::default();
    for (entity, id, seq) in rows {
        d.count += 1;
        fold(&mut d.digest, &row_hash(entity.code(), id, seq));
    }
    d
}
