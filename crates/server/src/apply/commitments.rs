//! `commitment.create` and `commitment.event`: a party member's public promises for the year
//! (承诺践诺). Only a party member registered with the grid promises there, and only whoever
//! promised moves the promise; a step on a promise already kept or dropped is refused with
//! `illegal_transition` (it stays on the phone, failed, with the reason).

use super::records::{Decision, create, refuse, to_value};
use crate::store::{Principal, PutRecord, Result, WriteTx, log};
use gridmate_model::commitment::next;
use gridmate_model::{CommitmentAction, CommitmentStatus, Role};
use gridmate_protocol::mutations::{CommitmentCreateData, CommitmentEventData};
use gridmate_protocol::records::{CommitmentEventRecord, CommitmentRecord};
use gridmate_protocol::{Entity, Mutation, PushStatus};
use serde_json::{Value, json};

pub(super) fn promise(
    tx: &mut dyn WriteTx,
    p: &Principal,
    m: &Mutation,
    c: CommitmentCreateData,
    now_ms: i64,
) -> Result<Decision> {
    if !(p.has(Role::PartyMember) && p.grids.contains(&c.grid_id)) {
        return Ok(refuse(
            "forbidden",
            "commitments are made by the grid's party members",
        ));
    }
    let record = CommitmentRecord {
        id: c.commitment_id,
        grid_id: c.grid_id,
        user_id: p.user_id,
        user_name: p.name.clone(),
        year: c.year,
        title: c.title,
        description: c.description,
        status: CommitmentStatus::Promised.code().into(),
        progress: 0,
        created_at: m.recorded_at,
    };
    let put = PutRecord {
        entity: Entity::Commitment,
        id: c.commitment_id,
        grid_id: Some(c.grid_id),
        building_id: None,
        owner_id: Some(p.user_id),
        data: to_value(&record),
    };
    create(tx, put, &[], now_ms)
}

pub(super) fn step(
    tx: &mut dyn WriteTx,
    p: &Principal,
    m: &Mutation,
    e: CommitmentEventData,
    now_ms: i64,
) -> Result<Decision> {
    let Some(current) = tx
        .record(Entity::Commitment, e.commitment_id)?
        .filter(|r| !r.deleted)
    else {
        return Ok(refuse(
            "unknown_record",
            format!("no commitment {}", e.commitment_id),
        ));
    };
    if current.owner_id != Some(p.user_id) {
        return Ok(refuse("forbidden", "only whoever promised moves a promise"));
    }
    if tx.record(Entity::CommitmentEvent, e.event_id)?.is_some() {
        return Ok(refuse(
            "duplicate_id",
            format!("event {} already exists", e.event_id),
        ));
    }
    let action = CommitmentAction::from_code(&e.action).unwrap_or(CommitmentAction::Progress);
    let from = current
        .data
        .get("status")
        .and_then(Value::as_str)
        .and_then(CommitmentStatus::from_code)
        .unwrap_or(CommitmentStatus::Promised);
    let Some(to) = next(from, action) else {
        return Ok(refuse(
            "illegal_transition",
            format!("cannot {action} a commitment that is {from}"),
        ));
    };
    let event = CommitmentEventRecord {
        id: e.event_id,
        commitment_id: e.commitment_id,
        action: action.code().into(),
        note: e.note,
        at: m.recorded_at,
        photos: e.photos.clone(),
        service_id: e.service_id,
    };
    let seq = log::put_over(
        tx,
        &PutRecord {
            entity: Entity::CommitmentEvent,
            id: e.event_id,
            grid_id: current.grid_id,
            building_id: None,
            owner_id: current.owner_id,
            data: to_value(&event),
        },
        None,
        now_ms,
    )?;
    tx.add_blob_refs(&e.photos, Entity::CommitmentEvent, e.event_id)?;
    let mut data = current.data.clone();
    data["status"] = json!(to.code());
    if action == CommitmentAction::Progress {
        let progress = data.get("progress").and_then(Value::as_u64).unwrap_or(0);
        data["progress"] = json!(progress + 1);
    }
    log::put_over(
        tx,
        &PutRecord {
            entity: Entity::Commitment,
            id: e.commitment_id,
            grid_id: current.grid_id,
            building_id: None,
            owner_id: current.owner_id,
            data,
        },
        Some(&current),
        now_ms,
    )?;
    Ok(Ok((PushStatus::Applied, None, seq)))
}
