//! Sessions: a device's bearer token, stored only as its hash, and the [`Principal`] it names.
//!
//! A token lives [`TOKEN_TTL_DAYS`] from its login; it dies earlier by logout or by the admin's
//! revocation. A building leader's grid is not assigned but follows from their building, so it
//! is looked up on every request: moving a building to another grid moves its leader's scope.

use super::{AssignmentRow, NewSession, Principal, ReadTx, Result, SessionLookup, WriteTx};
use chrono::{DateTime, Utc};
use gridmate_protocol::Entity;
use uuid::Uuid;

/// Tokens live this long; a new login is needed after.
pub const TOKEN_TTL_DAYS: i64 = 30;

/// A login the handler has already verified.
#[derive(Clone, Debug)]
pub struct Start {
    pub user_id: Uuid,
    pub token_hash: Vec<u8>,
    pub device_id: String,
    pub device_name: String,
    /// How long the session lives: [`TOKEN_TTL_DAYS`] for a phone, a working day for the
    /// office console.
    pub ttl: chrono::Duration,
}

/// Store the session; return the user's assignments for the login answer.
pub fn start(tx: &mut dyn WriteTx, s: &Start, now: DateTime<Utc>) -> Result<Vec<AssignmentRow>> {
    let now_ms = now.timestamp_millis();
    tx.insert_session(&NewSession {
        token_hash: gridmate_model::hex::encode(&s.token_hash),
        user_id: s.user_id,
        device_id: s.device_id.clone(),
        device_name: s.device_name.clone(),
        created_at_ms: now_ms,
        expires_at_ms: now_ms + s.ttl.num_milliseconds(),
    })?;
    tx.assignments(s.user_id)
}

/// Who holds this token, if anyone still does.
pub fn lookup(tx: &mut dyn ReadTx, token_hash: &[u8], now: DateTime<Utc>) -> Result<SessionLookup> {
    let Some(s) = tx.session(&gridmate_model::hex::encode(token_hash))? else {
        return Ok(SessionLookup::Unknown);
    };
    if s.revoked {
        return Ok(SessionLookup::Revoked);
    }
    if s.expires_at_ms < now.timestamp_millis() {
        return Ok(SessionLookup::Expired);
    }
    let assignments = tx.assignments(s.user_id)?;
    let mut grids: Vec<Uuid> = assignments.iter().filter_map(|a| a.grid_id).collect();
    for b in assignments.iter().filter_map(|a| a.building_id) {
        let building = tx.record(Entity::Building, b)?;
        grids.extend(building.and_then(|r| r.grid_id));
    }
    grids.sort();
    grids.dedup();
    Ok(SessionLookup::Valid(Principal {
        user_id: s.user_id,
        name: s.name,
        roles: s.roles,
        grids,
        buildings: assignments.iter().filter_map(|a| a.building_id).collect(),
        scope_epoch: s.scope_epoch,
        device_id: s.device_id,
        household: None,
    }))
}
