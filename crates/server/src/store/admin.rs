//! Administration: users, their assignments and their sessions, and the records the office
//! writes directly (imports, the demo). Used by the command line today, inside
//! [`super::Backend::admin`].
//!
//! A change of assignments moves the user's scope epoch, so each of their devices drops its
//! copy of the scope and pulls the new one (`scope_changed`).

use super::{AssignmentRow, AuditRow, PutRecord, Result, StoreError, UserRow, WriteTx, log};
use chrono::Utc;
use gridmate_model::Role;
use gridmate_protocol::Entity;
use uuid::Uuid;

pub fn add_user(
    tx: &mut dyn WriteTx,
    id: Uuid,
    phone: &str,
    name: &str,
    roles: &[Role],
    password: &str,
) -> Result<()> {
    if tx.user_by_phone(phone)?.is_some() {
        return Err(StoreError::Invalid("a user with that phone exists".into()));
    }
    check_password(password)?;
    let password_hash = crate::auth::hash_password(password).map_err(StoreError::Invalid)?;
    tx.insert_user(
        &UserRow {
            id,
            phone: phone.into(),
            name: name.into(),
            roles: roles.to_vec(),
            password_hash,
            scope_epoch: 1,
        },
        Utc::now().timestamp_millis(),
    )
}

fn user_id(tx: &mut dyn WriteTx, phone: &str) -> Result<Uuid> {
    Ok(tx
        .user_by_phone(phone)?
        .ok_or_else(|| StoreError::Invalid("no user with that phone".into()))?
        .id)
}

/// Add an assignment.
pub fn assign(
    tx: &mut dyn WriteTx,
    phone: &str,
    role: Role,
    grid: Option<Uuid>,
    building: Option<Uuid>,
) -> Result<()> {
    let user = user_id(tx, phone)?;
    tx.insert_assignment(
        user,
        &AssignmentRow {
            role,
            grid_id: grid,
            building_id: building,
        },
    )?;
    tx.bump_scope_epoch(user)
}

/// Replace all of a user's assignments (a worker moved to another grid).
pub fn reassign(
    tx: &mut dyn WriteTx,
    phone: &str,
    role: Role,
    grid: Option<Uuid>,
    building: Option<Uuid>,
) -> Result<()> {
    let user = user_id(tx, phone)?;
    tx.delete_assignments(user)?;
    assign(tx, phone, role, grid, building)
}

/// Revoke every session of a user (a lost phone); returns how many. An unknown phone revokes
/// nothing.
pub fn revoke_user(tx: &mut dyn WriteTx, phone: &str) -> Result<usize> {
    let Some(user) = tx.user_by_phone(phone)? else {
        return Ok(0);
    };
    tx.revoke_sessions_of(user.id, Utc::now().timestamp_millis())
}

fn check_password(password: &str) -> Result<()> {
    if password.chars().count() < 8 || password.len() > 256 {
        return Err(StoreError::Invalid(
            "a password has 8 to 256 characters".into(),
        ));
    }
    Ok(())
}

/// Note in the audit log what an office user did; every office change calls this in the same
/// transaction as the change, so the log never misses one or names one that did not happen.
pub fn audit(
    tx: &mut dyn WriteTx,
    actor: Uuid,
    action: &str,
    target: &str,
    detail: &str,
) -> Result<()> {
    tx.add_audit(&AuditRow {
        at_ms: Utc::now().timestamp_millis(),
        actor_id: actor,
        action: action.into(),
        target: target.into(),
        detail: detail.into(),
    })
}

/// A new password for a user (forgotten, or handed over); their devices stay signed in unless
/// revoked too.
pub fn reset_password(tx: &mut dyn WriteTx, user: Uuid, password: &str) -> Result<()> {
    check_password(password)?;
    let hash = crate::auth::hash_password(password).map_err(StoreError::Invalid)?;
    tx.set_password_hash(user, &hash)
}

/// Sign one device of a user out (a lost or handed-on phone); returns how many sessions ended.
pub fn revoke_device(tx: &mut dyn WriteTx, user: Uuid, device_id: &str) -> Result<usize> {
    tx.revoke_device(user, device_id, Utc::now().timestamp_millis())
}

/// Write a record as the office does (import, demo): through the log, stamped now.
pub fn put(tx: &mut dyn WriteTx, r: &PutRecord) -> Result<u64> {
    log::put(tx, r, Utc::now().timestamp_millis())
}

/// [`put`] for a record under an id minted just now (UUIDv7), which cannot have an older
/// version: nothing is read first (on PostgreSQL, a round trip saved per record of an import).
pub fn put_new(tx: &mut dyn WriteTx, r: &PutRecord) -> Result<u64> {
    log::put_over(tx, r, None, Utc::now().timestamp_millis())
}

pub fn add_blob_refs(
    tx: &mut dyn WriteTx,
    shas: &[String],
    entity: Entity,
    id: Uuid,
) -> Result<()> {
    tx.add_blob_refs(shas, entity, id)
}

/// Add a department issues can be sent to, or change one's name and phone; filed under the
/// shared grid every user's scope includes, so every phone receives it at its next sync.
pub fn put_department(
    tx: &mut dyn WriteTx,
    id: Uuid,
    name: &str,
    phone: Option<&str>,
) -> Result<u64> {
    let name =
        gridmate_model::validate::text("name", name, gridmate_model::validate::limits::NAME, true)
            .map_err(|e| StoreError::Invalid(e.to_string()))?;
    let phone = phone
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            if p.len() <= 20 && p.chars().all(|c| c.is_ascii_digit() || c == '-') {
                Ok(p.to_string())
            } else {
                Err(StoreError::Invalid("a phone is digits and dashes".into()))
            }
        })
        .transpose()?;
    let record = gridmate_protocol::records::DepartmentRecord { id, name, phone };
    put(
        tx,
        &PutRecord {
            entity: Entity::Department,
            id,
            grid_id: Some(super::scope::SHARED),
            building_id: None,
            owner_id: None,
            data: serde_json::to_value(record).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        },
    )
}
