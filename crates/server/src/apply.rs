//! Applying pushed mutations: the domain rules of the server, written against [`WriteTx`] so
//! they run unchanged on any backend.
//!
//! Each mutation is decided before anything is written (validation, scope, state machine), so a
//! rejected one changes nothing, and the caller runs the whole batch in one transaction. Rules:
//! - the mutation id is the idempotency key: one that already changed something answers
//!   `duplicate` with its original seq; a rejected one is judged afresh (it changed nothing);
//! - creations (`visit.record`, `issue.report`, `checkin.record`, `service.record`,
//!   `household.create`, `resident.create`, `order.create`, `callup.create`, `callup.respond`,
//!   `commitment.create`, `patrol.record`) are immutable: the same id with different content is
//!   rejected, never overwritten;
//! - `issue.event` goes through `gridmate_model::issue::transition`, `order.event` through
//!   `gridmate_model::order::transition` (`apply::orders`); an event that is no longer legal (two
//!   phones resolved the same issue, two members took the same order, offline) is kept as a
//!   comment and answered `merged` with the reason; call-ups are in `apply::callups`,
//!   commitments in `apply::commitments`;
//! - `household.patch`/`resident.patch` are last-writer-wins per field by HLC (ties by device
//!   id), the HLC clamped to 5 minutes ahead of the server clock; the losing value goes to the
//!   conflict log;
//! - an applied call-up, assignment or dispatch queues its messages in the same transaction
//!   (`apply::notices`); what time sets off (a call-up's silent, a late issue, a vulnerable
//!   household unseen, a leader's digest) is the sweep's (`apply::sweep`).

use crate::store::scope::may_edit;
use crate::store::{ConflictRow, OutcomeRow, Principal, PutRecord, Result, WriteTx, log};
use chrono::{DateTime, Utc};
use gridmate_model::case_number::CaseKind;
use gridmate_model::geo_rules::locate_in_grid;
use gridmate_model::hlc::wins;
use gridmate_model::issue::transition_for_roles;
use gridmate_model::{
    GpsFix, Hlc, IssueAction, IssueCategory, IssueSource, IssueStatus, Severity, TransitionError,
};
use gridmate_protocol::mutations::*;
use gridmate_protocol::records::*;
use gridmate_protocol::{Entity, ErrorDetail, Mutation, MutationPayload, PushResult, PushStatus};
use serde_json::{Value, json};
use uuid::Uuid;

/// A device clock further ahead than this cannot push its stamps past the server's.
pub const MAX_HLC_AHEAD_MS: i64 = 5 * 60 * 1000;
/// Visits whose device time is this far off the server's are flagged.
pub const SKEW_FLAG_MS: i64 = 5 * 60 * 1000;

mod callups;
mod commitments;
pub mod notices;
mod orders;
mod records;
pub mod sweep;

use records::{Decision, Refusal, case_number, create, refuse, to_value};

/// Apply a batch in order. Database failures abort the batch (the caller rolls back); every
/// other outcome is a per-mutation result.
pub fn push(
    tx: &mut dyn WriteTx,
    p: &Principal,
    batch: &[Mutation],
    now: DateTime<Utc>,
) -> Result<Vec<PushResult>> {
    Ok(push_group(tx, &[(p, batch)], now)?
        .pop()
        .unwrap_or_default())
}

/// [`push`] for several pushes in one transaction (a backend's group commit): the records and
/// outcomes they all read are asked for together — on PostgreSQL two round trips for the group
/// instead of two per push — then each is applied in order. A database failure aborts them all.
pub fn push_group(
    tx: &mut dyn WriteTx,
    pushes: &[(&Principal, &[Mutation])],
    now: DateTime<Utc>,
) -> Result<Vec<Vec<PushResult>>> {
    let parsed: Vec<Vec<_>> = pushes
        .iter()
        .map(|(_, batch)| batch.iter().map(|m| (m.payload(), m.hlc())).collect())
        .collect();
    let mut records = Vec::new();
    for payload in parsed
        .iter()
        .flatten()
        .filter_map(|(payload, _)| payload.as_ref().ok())
    {
        reads_of(payload, &mut records);
    }
    let outcomes: Vec<Uuid> = pushes
        .iter()
        .flat_map(|(_, batch)| batch.iter().map(|m| m.id))
        .collect();
    tx.prefetch(&records, &outcomes)?;
    pushes
        .iter()
        .zip(parsed)
        .map(|((p, batch), parsed)| {
            batch
                .iter()
                .zip(parsed)
                .map(|(m, (payload, hlc))| apply_one(tx, p, m, payload, hlc, now))
                .collect()
        })
        .collect()
}

/// The records the rules below read to decide `payload`: fetched for a whole group of pushes at
/// once ([`crate::store::ReadTx::prefetch`]). A record left out is still read, one round trip
/// later.
fn reads_of(payload: &MutationPayload, out: &mut Vec<(Entity, Uuid)>) {
    use MutationPayload as P;
    match payload {
        P::VisitRecord(v) => out.extend([
            (Entity::Household, v.household_id),
            (Entity::Visit, v.visit_id),
        ]),
        P::IssueReport(r) => {
            out.extend([(Entity::Grid, r.grid_id), (Entity::Issue, r.issue_id)]);
            out.extend(r.building_id.map(|b| (Entity::Building, b)));
            out.extend(r.household_id.map(|h| (Entity::Household, h)));
        }
        P::IssueEvent(e) => {
            out.extend([
                (Entity::Issue, e.issue_id),
                (Entity::IssueEvent, e.event_id),
            ]);
            out.extend(e.department_id.map(|d| (Entity::Department, d)));
        }
        P::HouseholdPatch(patch) => out.push((Entity::Household, patch.id)),
        P::ResidentPatch(patch) => out.push((Entity::Resident, patch.id)),
        P::CheckinRecord(c) => {
            out.extend([(Entity::Grid, c.grid_id), (Entity::Checkin, c.checkin_id)])
        }
        P::ServiceRecord(s) => {
            out.extend([
                (Entity::Grid, s.grid_id),
                (Entity::ServiceRecord, s.service_id),
            ]);
            out.extend(s.issue_id.map(|i| (Entity::Issue, i)));
            out.extend(s.order_id.map(|o| (Entity::Order, o)));
        }
        P::OrderCreate(o) => {
            out.extend([(Entity::Grid, o.grid_id), (Entity::Order, o.order_id)]);
            out.extend(o.household_id.map(|h| (Entity::Household, h)));
        }
        P::OrderEvent(e) => out.extend([
            (Entity::Order, e.order_id),
            (Entity::OrderEvent, e.event_id),
        ]),
        P::HouseholdCreate(h) => out.extend([
            (Entity::Building, h.building_id),
            (Entity::Household, h.household_id),
        ]),
        P::ResidentCreate(r) => out.extend([
            (Entity::Household, r.household_id),
            (Entity::Resident, r.resident_id),
        ]),
        P::CallupCreate(c) => {
            out.extend([(Entity::Grid, c.grid_id), (Entity::Callup, c.callup_id)])
        }
        P::CallupClose(c) => out.push((Entity::Callup, c.callup_id)),
        P::CallupRespond(r) => out.extend([
            (Entity::Callup, r.callup_id),
            (Entity::CallupResponse, r.response_id),
        ]),
        P::CommitmentCreate(c) => out.extend([
            (Entity::Grid, c.grid_id),
            (Entity::Commitment, c.commitment_id),
        ]),
        P::CommitmentEvent(e) => out.extend([
            (Entity::Commitment, e.commitment_id),
            (Entity::CommitmentEvent, e.event_id),
        ]),
        P::PatrolRecord(pd) => {
            out.extend([(Entity::Grid, pd.grid_id), (Entity::Patrol, pd.patrol_id)]);
            out.extend(pd.issues.iter().map(|i| (Entity::Issue, *i)));
        }
    }
}

fn apply_one(
    tx: &mut dyn WriteTx,
    p: &Principal,
    m: &Mutation,
    payload: std::result::Result<MutationPayload, PayloadError>,
    hlc: std::result::Result<Hlc, PayloadError>,
    now: DateTime<Utc>,
) -> Result<PushResult> {
    if let Some(prior) = tx.outcome(m.id)? {
        return Ok(PushResult {
            id: m.id,
            status: PushStatus::Duplicate,
            error: prior.error,
            seq: prior.seq,
        });
    }
    let decision = match (payload, hlc) {
        _ if p.reads_only() => refuse(
            "forbidden",
            "the street's account reads; it changes nothing".to_string(),
        ),
        (Err(e), _) | (_, Err(e)) => refuse(e.code(), e.to_string()),
        // A resident reports and rates (and asks after) their own issues; nothing else.
        (Ok(payload), _)
            if p.has(gridmate_model::Role::Resident)
                && !matches!(
                    payload,
                    MutationPayload::IssueReport(_) | MutationPayload::IssueEvent(_)
                ) =>
        {
            refuse("forbidden", "a resident reports and rates their own issues")
        }
        (Ok(payload), Ok(hlc)) => {
            let intents = notices::intents(&payload);
            let decision = decide(tx, p, m, payload, hlc, now)?;
            if let Ok((PushStatus::Applied, _, _)) = &decision {
                for intent in intents {
                    notices::queue(tx, p, intent, now)?;
                }
            }
            decision
        }
    };
    Ok(match decision {
        Ok((status, error, seq)) => {
            let skew = (m.recorded_at - now).num_milliseconds();
            let skew = (skew.abs() > SKEW_FLAG_MS).then_some(skew);
            tx.save_outcome(&OutcomeRow {
                mutation: m,
                user_id: p.user_id,
                device_id: &p.device_id,
                status,
                error: error.as_ref(),
                seq: Some(seq),
                clock_skew_ms: skew,
                received_at_ms: now.timestamp_millis(),
            })?;
            PushResult {
                id: m.id,
                status,
                error,
                seq: Some(seq),
            }
        }
        Err(Refusal(code, message)) => PushResult {
            id: m.id,
            status: PushStatus::Rejected,
            error: Some(ErrorDetail {
                code: code.into(),
                message,
            }),
            seq: None,
        },
    })
}

fn decide(
    tx: &mut dyn WriteTx,
    p: &Principal,
    m: &Mutation,
    payload: MutationPayload,
    hlc: Hlc,
    now: DateTime<Utc>,
) -> Result<Decision> {
    let now_ms = now.timestamp_millis();
    Ok(match payload {
        MutationPayload::VisitRecord(v) => record_visit(tx, p, v, now_ms)?,
        MutationPayload::IssueReport(r) => report_issue(tx, p, m, r, now_ms)?,
        MutationPayload::IssueEvent(e) => issue_event(tx, p, m, e, now_ms)?,
        MutationPayload::HouseholdPatch(patch) => {
            patch_fields(tx, p, m, Entity::Household, patch, hlc, now_ms)?
        }
        MutationPayload::ResidentPatch(patch) => {
            patch_fields(tx, p, m, Entity::Resident, patch, hlc, now_ms)?
        }
        MutationPayload::CheckinRecord(c) => check_in(tx, p, c, now_ms)?,
        MutationPayload::ServiceRecord(s) => service(tx, p, s, now_ms)?,
        MutationPayload::OrderCreate(o) => orders::create(tx, p, m, o, now_ms)?,
        MutationPayload::OrderEvent(e) => orders::event(tx, p, m, e, now_ms)?,
        MutationPayload::HouseholdCreate(h) => register_household(tx, p, h, now_ms)?,
        MutationPayload::ResidentCreate(r) => add_resident(tx, p, r, now_ms)?,
        MutationPayload::CallupCreate(c) => callups::open(tx, p, c, now_ms)?,
        MutationPayload::CallupClose(c) => callups::close(tx, p, m, c, now_ms)?,
        MutationPayload::CallupRespond(r) => callups::respond(tx, p, m, r, now_ms)?,
        MutationPayload::CommitmentCreate(c) => commitments::promise(tx, p, m, c, now_ms)?,
        MutationPayload::CommitmentEvent(e) => commitments::step(tx, p, m, e, now_ms)?,
        MutationPayload::PatrolRecord(pd) => patrol(tx, p, pd, now_ms)?,
    })
}

fn record_visit(
    tx: &mut dyn WriteTx,
    p: &Principal,
    v: VisitData,
    now_ms: i64,
) -> Result<Decision> {
    let Some(hh) = tx
        .record(Entity::Household, v.household_id)?
        .filter(|r| !r.deleted)
    else {
        return Ok(refuse(
            "unknown_record",
            format!("no household {}", v.household_id),
        ));
    };
    if !may_edit(p, hh.grid_id, hh.building_id) {
        return Ok(refuse("forbidden", "the household is outside your grids"));
    }
    let record = VisitRecord {
        id: v.visit_id,
        household_id: v.household_id,
        visitor_id: p.user_id,
        started_at: v.started_at,
        ended_at: v.ended_at,
        kind: v.kind,
        outcome: v.outcome,
        notes: v.notes,
        people_served: v.people_served,
        location: v.location,
        photos: v.photos.clone(),
    };
    let put = PutRecord {
        entity: Entity::Visit,
        id: v.visit_id,
        grid_id: hh.grid_id,
        building_id: hh.building_id,
        owner_id: Some(p.user_id),
        data: to_value(&record),
    };
    let decision = create(tx, put, &v.photos, now_ms)?;
    if decision.is_ok() {
        // The household's last visit moves forward (never back), so every device's worklist
        // follows.
        let mut data = hh.data.clone();
        let later = match data
            .get("last_visit_at")
            .and_then(|t| t.as_str())
            .and_then(|t| t.parse::<DateTime<Utc>>().ok())
        {
            Some(t) => t < v.started_at,
            None => true,
        };
        if later {
            data["last_visit_at"] = json!(v.started_at);
            log::put_over(
                tx,
                &PutRecord {
                    entity: Entity::Household,
                    id: v.household_id,
                    grid_id: hh.grid_id,
                    building_id: hh.building_id,
                    owner_id: None,
                    data,
                },
                Some(&hh),
                now_ms,
            )?;
        }
    }
    Ok(decision)
}

fn report_issue(
    tx: &mut dyn WriteTx,
    p: &Principal,
    m: &Mutation,
    r: IssueReportData,
    now_ms: i64,
) -> Result<Decision> {
    if tx.record(Entity::Grid, r.grid_id)?.is_none() {
        return Ok(refuse("unknown_record", format!("no grid {}", r.grid_id)));
    }
    if let Some(b) = r.building_id {
        match tx.record(Entity::Building, b)? {
            Some(rec) if rec.grid_id == Some(r.grid_id) => {}
            Some(_) => return Ok(refuse("invalid", "the building is not in that grid")),
            None => return Ok(refuse("unknown_record", format!("no building {b}"))),
        }
    }
    if let Some(h) = r.household_id {
        match tx.record(Entity::Household, h)? {
            Some(rec) if rec.grid_id == Some(r.grid_id) => {}
            Some(_) => return Ok(refuse("invalid", "the household is not in that grid")),
            None => return Ok(refuse("unknown_record", format!("no household {h}"))),
        }
    }
    // Party members report in the grids they serve; building leaders in their buildings; a
    // resident anywhere in the community (a public spot), but of households only their own, and
    // always as a resident's report.
    let resident = p.has(gridmate_model::Role::Resident);
    let allowed = may_edit(p, Some(r.grid_id), r.building_id)
        || (p.has(gridmate_model::Role::PartyMember) && p.grids.contains(&r.grid_id))
        || (resident && r.household_id.is_none_or(|h| p.household == Some(h)));
    if !allowed {
        return Ok(refuse("forbidden", "you cannot report issues there"));
    }
    if resident != (r.source == IssueSource::Resident.code()) {
        return Ok(refuse(
            "forbidden",
            "only a resident's own report is a resident's report",
        ));
    }
    // Codes were validated with the payload; the office's limit counts from when it was seen.
    let limits = crate::store::limits::load(tx)?;
    let due_at = IssueCategory::from_code(&r.category)
        .zip(Severity::from_code(&r.severity))
        .map(|(c, s)| m.recorded_at + limits.limit(c, s));
    let number = case_number(
        tx,
        (Entity::Issue, r.issue_id),
        r.grid_id,
        CaseKind::Issue,
        m.recorded_at,
    )?;
    let record = IssueRecord {
        id: r.issue_id,
        number,
        grid_id: r.grid_id,
        status: IssueStatus::Reported.code().into(),
        category: r.category,
        severity: r.severity,
        source: r.source,
        title: r.title,
        description: r.description,
        building_id: r.building_id,
        household_id: r.household_id,
        location: r.location,
        reported_by: p.user_id,
        reported_at: m.recorded_at,
        photos: r.photos.clone(),
        assignee_id: None,
        department_id: None,
        due_at,
        satisfaction: None,
        unverified: resident && p.household.is_none(),
    };
    let put = PutRecord {
        entity: Entity::Issue,
        id: r.issue_id,
        grid_id: Some(r.grid_id),
        building_id: r.building_id,
        owner_id: Some(p.user_id),
        data: to_value(&record),
    };
    create(tx, put, &r.photos, now_ms)
}

fn issue_event(
    tx: &mut dyn WriteTx,
    p: &Principal,
    m: &Mutation,
    e: IssueEventData,
    now_ms: i64,
) -> Result<Decision> {
    let Some(issue) = tx.record(Entity::Issue, e.issue_id)?.filter(|r| !r.deleted) else {
        return Ok(refuse("unknown_record", format!("no issue {}", e.issue_id)));
    };
    let reporter = issue.owner_id;
    let visible = may_edit(p, issue.grid_id, issue.building_id)
        || reporter == Some(p.user_id)
        || (p.has(gridmate_model::Role::PartyMember)
            && issue.grid_id.is_some_and(|g| p.grids.contains(&g)));
    if !visible {
        return Ok(refuse("forbidden", "the issue is outside your scope"));
    }
    if tx.record(Entity::IssueEvent, e.event_id)?.is_some() {
        return Ok(refuse(
            "duplicate_id",
            format!("event {} already exists", e.event_id),
        ));
    }
    let action = IssueAction::from_code(&e.action).unwrap_or(IssueAction::Comment);
    if let Some(d) = e.department_id
        && tx.record(Entity::Department, d)?.is_none_or(|r| r.deleted)
    {
        return Ok(refuse("unknown_record", format!("no department {d}")));
    }
    let from = issue
        .data
        .get("status")
        .and_then(Value::as_str)
        .and_then(IssueStatus::from_code)
        .unwrap_or(IssueStatus::Reported);
    let (status, error, stored_action, merged_reason, new_status) =
        match transition_for_roles(from, action, &p.roles) {
            Ok(to) => (PushStatus::Applied, None, action, None, Some(to)),
            Err(err @ TransitionError::IllegalFromStatus { .. }) => {
                let reason = format!("{err}; kept as a comment");
                (
                    PushStatus::Merged,
                    Some(ErrorDetail {
                        code: "illegal_transition".into(),
                        message: reason.clone(),
                    }),
                    IssueAction::Comment,
                    Some(format!("{}: {reason}", action.code())),
                    None,
                )
            }
            Err(err) => return Ok(refuse("forbidden", err.to_string())),
        };
    let event = IssueEventRecord {
        id: e.event_id,
        issue_id: e.issue_id,
        action: stored_action.code().into(),
        actor_id: p.user_id,
        note: e.note,
        at: m.recorded_at,
        photos: e.photos.clone(),
        merged_reason,
        satisfaction: e
            .satisfaction
            .clone()
            .filter(|_| status == PushStatus::Applied),
    };
    let seq = log::put_over(
        tx,
        &PutRecord {
            entity: Entity::IssueEvent,
            id: e.event_id,
            grid_id: issue.grid_id,
            building_id: issue.building_id,
            owner_id: reporter,
            data: to_value(&event),
        },
        None,
        now_ms,
    )?;
    tx.add_blob_refs(&e.photos, Entity::IssueEvent, e.event_id)?;
    let rewrites = matches!(
        action,
        IssueAction::Assign | IssueAction::Rate | IssueAction::SendBack
    );
    if let Some(to) = new_status.filter(|to| *to != from || rewrites) {
        let mut data = issue.data.clone();
        data["status"] = json!(to.code());
        if action == IssueAction::Assign {
            data["assignee_id"] = json!(e.assignee_id);
        }
        if action == IssueAction::Escalate && e.department_id.is_some() {
            data["department_id"] = json!(e.department_id);
        }
        if matches!(action, IssueAction::Rate | IssueAction::SendBack) {
            data["satisfaction"] = json!(e.satisfaction);
        }
        log::put_over(
            tx,
            &PutRecord {
                entity: Entity::Issue,
                id: e.issue_id,
                grid_id: issue.grid_id,
                building_id: issue.building_id,
                owner_id: reporter,
                data,
            },
            Some(&issue),
            now_ms,
        )?;
    }
    Ok(Ok((status, error, seq)))
}

fn patch_fields(
    tx: &mut dyn WriteTx,
    p: &Principal,
    m: &Mutation,
    entity: Entity,
    patch: PatchData,
    hlc: Hlc,
    now_ms: i64,
) -> Result<Decision> {
    let name: &'static str = if entity == Entity::Household {
        "household"
    } else {
        "resident"
    };
    let Some(current) = tx.record(entity, patch.id)?.filter(|r| !r.deleted) else {
        return Ok(refuse("unknown_record", format!("no {name} {}", patch.id)));
    };
    if !may_edit(p, current.grid_id, current.building_id) {
        return Ok(refuse(
            "forbidden",
            format!("the {name} is outside your scope"),
        ));
    }
    let hlc = hlc.clamp(now_ms, MAX_HLC_AHEAD_MS);
    let mut data = current.data.clone();
    let mut changed = false;
    for (field, value) in &patch.fields {
        let stored_version = tx.field_version(name, patch.id, field)?;
        let incoming_wins = match &stored_version {
            None => true,
            Some((stored, device)) => wins(hlc, &p.device_id, *stored, device),
        };
        let stored_value = data.get(field).cloned().unwrap_or(Value::Null);
        if incoming_wins {
            if let Some(stored_version) = stored_version.filter(|_| stored_value != *value) {
                tx.log_conflict(
                    &ConflictRow {
                        entity: name,
                        id: patch.id,
                        grid_id: current.grid_id,
                        field: field.clone(),
                        kept: (value.clone(), hlc, p.device_id.clone()),
                        lost: (stored_value, stored_version.0, stored_version.1),
                        mutation_id: m.id,
                    },
                    now_ms,
                )?;
            }
            if entity == Entity::Resident && field == "phone" {
                data["phone_masked"] =
                    json!(value.as_str().map(gridmate_model::validate::mask_phone));
            }
            data[field.as_str()] = value.clone();
            tx.set_field_version(name, patch.id, field, hlc, &p.device_id)?;
            changed = true;
        } else if let Some(stored_version) = stored_version.filter(|_| stored_value != *value) {
            tx.log_conflict(
                &ConflictRow {
                    entity: name,
                    id: patch.id,
                    grid_id: current.grid_id,
                    field: field.clone(),
                    kept: (stored_value, stored_version.0, stored_version.1),
                    lost: (value.clone(), hlc, p.device_id.clone()),
                    mutation_id: m.id,
                },
                now_ms,
            )?;
        }
    }
    let seq = if changed {
        log::put_over(
            tx,
            &PutRecord {
                entity,
                id: patch.id,
                grid_id: current.grid_id,
                building_id: current.building_id,
                owner_id: current.owner_id,
                data,
            },
            Some(&current),
            now_ms,
        )?
    } else {
        current.seq
    };
    Ok(Ok((PushStatus::Applied, None, seq)))
}

/// A finished patrol of one of the caller's grids. The server measures the track's length itself;
/// every issue it links must be a known issue of that grid.
fn patrol(tx: &mut dyn WriteTx, p: &Principal, pd: PatrolData, now_ms: i64) -> Result<Decision> {
    if !p.grids.contains(&pd.grid_id) {
        return Ok(refuse("forbidden", "you are not registered with that grid"));
    }
    for issue in &pd.issues {
        match tx.record(Entity::Issue, *issue)? {
            Some(r) if r.grid_id == Some(pd.grid_id) => {}
            Some(_) => return Ok(refuse("invalid", "a linked issue is in another grid")),
            None => return Ok(refuse("unknown_record", format!("no issue {issue}"))),
        }
    }
    let track: Vec<(f64, f64)> = pd.track.iter().map(|q| (q[1], q[0])).collect();
    let record = PatrolRecord {
        id: pd.patrol_id,
        grid_id: pd.grid_id,
        user_id: p.user_id,
        started_at: pd.started_at,
        ended_at: pd.ended_at,
        distance_m: gridmate_model::patrol::track_length_m(&track),
        track: pd.track,
        notes: pd.notes,
        issues: pd.issues,
    };
    let put = PutRecord {
        entity: Entity::Patrol,
        id: pd.patrol_id,
        grid_id: Some(pd.grid_id),
        building_id: None,
        owner_id: Some(p.user_id),
        data: to_value(&record),
    };
    create(tx, put, &[], now_ms)
}

/// A household registered in the field (a tenant moving in): in a building the caller may edit.
fn register_household(
    tx: &mut dyn WriteTx,
    p: &Principal,
    h: HouseholdCreateData,
    now_ms: i64,
) -> Result<Decision> {
    let Some(building) = tx
        .record(Entity::Building, h.building_id)?
        .filter(|r| !r.deleted)
    else {
        return Ok(refuse(
            "unknown_record",
            format!("no building {}", h.building_id),
        ));
    };
    if !may_edit(p, building.grid_id, Some(h.building_id)) {
        return Ok(refuse("forbidden", "the building is outside your scope"));
    }
    let Ok(b) = serde_json::from_value::<BuildingRecord>(building.data) else {
        return Ok(refuse(
            "unknown_record",
            "the building record is unreadable",
        ));
    };
    let tags: Vec<gridmate_model::HouseholdTag> = tags_from_codes(&h.tags);
    let record = HouseholdRecord {
        id: h.household_id,
        grid_id: b.grid_id,
        building_id: h.building_id,
        unit: h.unit,
        room: h.room.trim().to_string(),
        address: gridmate_model::community::household_address(
            &b.estate,
            &b.number,
            h.unit,
            h.room.trim(),
        ),
        head_name: h.head_name.trim().to_string(),
        visit_cadence_days: gridmate_model::community::cadence_for(&tags),
        tags: h.tags,
        last_visit_at: None,
    };
    let put = PutRecord {
        entity: Entity::Household,
        id: h.household_id,
        grid_id: Some(b.grid_id),
        building_id: Some(h.building_id),
        owner_id: None,
        data: to_value(&record),
    };
    create(tx, put, &[], now_ms)
}

/// A person added to a household the caller may edit.
fn add_resident(
    tx: &mut dyn WriteTx,
    p: &Principal,
    r: ResidentCreateData,
    now_ms: i64,
) -> Result<Decision> {
    let Some(hh) = tx
        .record(Entity::Household, r.household_id)?
        .filter(|rec| !rec.deleted)
    else {
        return Ok(refuse(
            "unknown_record",
            format!("no household {}", r.household_id),
        ));
    };
    if !may_edit(p, hh.grid_id, hh.building_id) {
        return Ok(refuse("forbidden", "the household is outside your scope"));
    }
    let record = ResidentRecord {
        id: r.resident_id,
        household_id: r.household_id,
        name: r.name.trim().to_string(),
        relation: r.relation.trim().to_string(),
        birth_year: r.birth_year,
        phone_masked: r.phone.as_deref().map(gridmate_model::validate::mask_phone),
        phone: r.phone,
        id_number_masked: None,
        tags: r.tags,
        moved_out: false,
    };
    let put = PutRecord {
        entity: Entity::Resident,
        id: r.resident_id,
        grid_id: hh.grid_id,
        building_id: hh.building_id,
        owner_id: None,
        data: to_value(&record),
    };
    create(tx, put, &[], now_ms)
}

fn check_in(tx: &mut dyn WriteTx, p: &Principal, c: CheckinData, now_ms: i64) -> Result<Decision> {
    if !p.grids.contains(&c.grid_id) {
        return Ok(refuse("forbidden", "you are not registered with that grid"));
    }
    let Some(grid) = tx.record(Entity::Grid, c.grid_id)? else {
        return Ok(refuse("unknown_record", format!("no grid {}", c.grid_id)));
    };
    // The server's own verdict against its own boundary, kept beside the device's.
    let server_verdict = serde_json::from_value::<GridRecord>(grid.data)
        .ok()
        .and_then(|g| g.to_model().ok())
        .map(|g| {
            let fix = GpsFix {
                lat: c.location.lat,
                lon: c.location.lon,
                accuracy_m: c.location.accuracy_m.unwrap_or(f64::INFINITY),
                mock_location: c.mock_location,
            };
            locate_in_grid(&g.boundary, &fix).verdict.code().to_string()
        });
    let record = CheckinRecord {
        id: c.checkin_id,
        user_id: p.user_id,
        grid_id: c.grid_id,
        at: c.at,
        location: c.location,
        verdict: c.verdict,
        server_verdict,
        boundary_distance_m: c.boundary_distance_m,
        mock_location: c.mock_location,
    };
    let put = PutRecord {
        entity: Entity::Checkin,
        id: c.checkin_id,
        grid_id: Some(c.grid_id),
        building_id: None,
        owner_id: Some(p.user_id),
        data: to_value(&record),
    };
    create(tx, put, &[], now_ms)
}

fn service(tx: &mut dyn WriteTx, p: &Principal, s: ServiceData, now_ms: i64) -> Result<Decision> {
    if !p.grids.contains(&s.grid_id) {
        return Ok(refuse("forbidden", "you are not registered with that grid"));
    }
    if let Some(order_id) = s.order_id {
        match tx.record(Entity::Order, order_id)?.filter(|r| !r.deleted) {
            Some(o) if o.grid_id == Some(s.grid_id) => {}
            Some(_) => return Ok(refuse("invalid", "the order is not in that grid")),
            None => return Ok(refuse("unknown_record", format!("no order {order_id}"))),
        }
    }
    let record = ServiceRecordRecord {
        id: s.service_id,
        user_id: p.user_id,
        grid_id: s.grid_id,
        issue_id: s.issue_id,
        order_id: s.order_id,
        title: s.title,
        at: s.at,
        hours: s.hours,
        people_served: s.people_served,
        photos: s.photos.clone(),
    };
    let put = PutRecord {
        entity: Entity::ServiceRecord,
        id: s.service_id,
        grid_id: Some(s.grid_id),
        building_id: None,
        owner_id: Some(p.user_id),
        data: to_value(&record),
    };
    create(tx, put, &s.photos, now_ms)
}
