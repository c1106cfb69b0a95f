//! `callup.create`, `callup.close` and `callup.respond`: 一键响应. The office (grid leaders, the
//! community office) calls a grid's people — all of them, or chosen roles — to a place; each
//! answers coming or cannot, and on arrival checks in with a fix, whose distance to the meeting
//! point the server measures itself. Answers are immutable records; the latest per person counts.

use super::records::{Decision, create, refuse, to_value};
use crate::store::{Principal, PutRecord, Result, WriteTx, log};
use chrono::{DateTime, Utc};
use gridmate_model::{Callup, CallupAnswer, GpsFix, Role};
use gridmate_protocol::mutations::{CallupCloseData, CallupCreateData, CallupRespondData};
use gridmate_protocol::records::{CallupRecord, CallupResponseRecord};
use gridmate_protocol::{Entity, Mutation, PushStatus};
use serde_json::json;

fn office(p: &Principal) -> bool {
    p.has(Role::GridLeader) || p.has(Role::CommunityAdmin)
}

pub(super) fn open(
    tx: &mut dyn WriteTx,
    p: &Principal,
    c: CallupCreateData,
    now_ms: i64,
) -> Result<Decision> {
    if !(office(p) && p.grids.contains(&c.grid_id)) {
        return Ok(refuse(
            "forbidden",
            "only the office calls up a grid, and only its own",
        ));
    }
    if tx.record(Entity::Grid, c.grid_id)?.is_none() {
        return Ok(refuse("unknown_record", format!("no grid {}", c.grid_id)));
    }
    let record = CallupRecord {
        id: c.callup_id,
        grid_id: c.grid_id,
        roles: c.roles,
        place: c.place,
        location: c.location,
        at: c.at,
        message: c.message,
        created_by: p.user_id,
        closed_at: None,
        recall_after_minutes: c.recall_after_minutes,
        called_at: DateTime::from_timestamp_millis(now_ms),
    };
    let put = PutRecord {
        entity: Entity::Callup,
        id: c.callup_id,
        grid_id: Some(c.grid_id),
        building_id: None,
        owner_id: Some(p.user_id),
        data: to_value(&record),
    };
    create(tx, put, &[], now_ms)
}

pub(super) fn close(
    tx: &mut dyn WriteTx,
    p: &Principal,
    m: &Mutation,
    c: CallupCloseData,
    now_ms: i64,
) -> Result<Decision> {
    let Some(current) = tx
        .record(Entity::Callup, c.callup_id)?
        .filter(|r| !r.deleted)
    else {
        return Ok(refuse(
            "unknown_record",
            format!("no call-up {}", c.callup_id),
        ));
    };
    if !(office(p) && current.grid_id.is_some_and(|g| p.grids.contains(&g))) {
        return Ok(refuse("forbidden", "only the office closes a call-up"));
    }
    if current.data.get("closed_at").is_some_and(|v| !v.is_null()) {
        // Closed already: closing again changes nothing.
        return Ok(Ok((PushStatus::Applied, None, current.seq)));
    }
    let mut data = current.data.clone();
    data["closed_at"] = json!(m.recorded_at);
    let seq = log::put_over(
        tx,
        &PutRecord {
            entity: Entity::Callup,
            id: c.callup_id,
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

pub(super) fn respond(
    tx: &mut dyn WriteTx,
    p: &Principal,
    m: &Mutation,
    r: CallupRespondData,
    now_ms: i64,
) -> Result<Decision> {
    let Some(stored) = tx
        .record(Entity::Callup, r.callup_id)?
        .filter(|c| !c.deleted)
    else {
        return Ok(refuse(
            "unknown_record",
            format!("no call-up {}", r.callup_id),
        ));
    };
    let Ok(callup) = serde_json::from_value::<CallupRecord>(stored.data) else {
        return Ok(refuse("unknown_record", "the call-up record is unreadable"));
    };
    let callup: Callup = callup.to_model();
    if !(p.grids.contains(&callup.grid_id.0) && callup.calls(&p.roles)) {
        return Ok(refuse("forbidden", "you are not called by this call-up"));
    }
    if !callup.is_open() {
        return Ok(refuse("closed", "the call-up is closed"));
    }
    let answer = CallupAnswer::from_code(&r.answer).unwrap_or(CallupAnswer::Coming);
    // The server measures the distance itself, against its own meeting point.
    let distance_m = match (answer, r.location) {
        (CallupAnswer::Arrived, Some(l)) => callup.distance_m(&GpsFix {
            lat: l.lat,
            lon: l.lon,
            accuracy_m: l.accuracy_m.unwrap_or(0.0),
            mock_location: false,
        }),
        _ => None,
    };
    let at: DateTime<Utc> = m.recorded_at;
    let record = CallupResponseRecord {
        id: r.response_id,
        callup_id: r.callup_id,
        user_id: p.user_id,
        answer: answer.code().into(),
        at,
        location: r.location,
        distance_m,
    };
    let put = PutRecord {
        entity: Entity::CallupResponse,
        id: r.response_id,
        grid_id: Some(callup.grid_id.0),
        building_id: None,
        owner_id: Some(p.user_id),
        data: to_value(&record),
    };
    create(tx, put, &[], now_ms)
}
