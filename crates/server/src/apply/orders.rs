//! `order.create` and `order.event`: residents' requests (三单制) and their steps.
//!
//! An order belongs to a grid: the grid's workers, leaders and office see and record them, and
//! its party members see them to take them (the scope's grid ledger). Steps replay through
//! `gridmate_model::order::transition` exactly as issue events do: a step that is no longer
//! legal when the server reaches it — a second member taking an order already taken, a member
//! taking one re-dispatched to someone else while they were offline — is kept as a comment and
//! answered `merged`; a step the user's roles never allow is refused.

use super::records::{self, Decision, case_number, refuse, to_value};
use crate::store::{Principal, PutRecord, Result, WriteTx, log};
use gridmate_model::order::{ORDER_TIME_LIMIT, transition};
use gridmate_model::{OrderAction, OrderParties, OrderStatus, OrderTransitionError, Role, UserId};
use gridmate_protocol::mutations::{OrderCreateData, OrderEventData};
use gridmate_protocol::records::{HouseholdRecord, OrderEventRecord, OrderRecord};
use gridmate_protocol::{Entity, ErrorDetail, Mutation, PushStatus};
use serde_json::{Value, json};
use uuid::Uuid;

pub(super) fn create(
    tx: &mut dyn WriteTx,
    p: &Principal,
    m: &Mutation,
    o: OrderCreateData,
    now_ms: i64,
) -> Result<Decision> {
    if tx.record(Entity::Grid, o.grid_id)?.is_none() {
        return Ok(refuse("unknown_record", format!("no grid {}", o.grid_id)));
    }
    // 群众点单 is taken down by the community's side: workers, leaders, the office.
    if !(p.sees_whole_grids() && p.grids.contains(&o.grid_id)) {
        return Ok(refuse(
            "forbidden",
            "you cannot record requests in that grid",
        ));
    }
    let (building_id, address) = match o.household_id {
        None => (None, String::new()),
        Some(h) => match tx.record(Entity::Household, h)?.filter(|r| !r.deleted) {
            Some(rec) if rec.grid_id == Some(o.grid_id) => {
                let address = serde_json::from_value::<HouseholdRecord>(rec.data)
                    .map(|h| h.address)
                    .unwrap_or_default();
                (rec.building_id, address)
            }
            Some(_) => return Ok(refuse("invalid", "the household is not in that grid")),
            None => return Ok(refuse("unknown_record", format!("no household {h}"))),
        },
    };
    let number = case_number(
        tx,
        (Entity::Order, o.order_id),
        o.grid_id,
        gridmate_model::case_number::CaseKind::Order,
        m.recorded_at,
    )?;
    let record = OrderRecord {
        id: o.order_id,
        number,
        grid_id: o.grid_id,
        building_id,
        household_id: o.household_id,
        kind: o.kind,
        source: o.source,
        status: OrderStatus::Posted.code().into(),
        title: o.title,
        description: o.description,
        requester: o.requester,
        address,
        recorded_by: p.user_id,
        recorded_at: m.recorded_at,
        due_at: m.recorded_at + ORDER_TIME_LIMIT,
        assignee_id: None,
        taker_id: None,
        satisfaction: None,
        photos: o.photos.clone(),
    };
    let put = PutRecord {
        entity: Entity::Order,
        id: o.order_id,
        grid_id: Some(o.grid_id),
        building_id: None,
        owner_id: Some(p.user_id),
        data: to_value(&record),
    };
    records::create(tx, put, &o.photos, now_ms)
}

fn uuid_at(data: &Value, field: &str) -> Option<Uuid> {
    data.get(field)?.as_str()?.parse().ok()
}

fn json_of<T: serde::Serialize>(v: T) -> Value {
    json!(v)
}

/// Set or remove a field, so the stored record reads as the record type writes itself (an absent
/// optional field, never a null).
fn set(data: &mut Value, field: &str, value: Option<Value>) {
    if let Some(obj) = data.as_object_mut() {
        match value {
            Some(v) => obj.insert(field.to_string(), v),
            None => obj.remove(field),
        };
    }
}

pub(super) fn event(
    tx: &mut dyn WriteTx,
    p: &Principal,
    m: &Mutation,
    e: OrderEventData,
    now_ms: i64,
) -> Result<Decision> {
    let Some(order) = tx.record(Entity::Order, e.order_id)?.filter(|r| !r.deleted) else {
        return Ok(refuse("unknown_record", format!("no order {}", e.order_id)));
    };
    let in_grid = order.grid_id.is_some_and(|g| p.grids.contains(&g));
    if !(in_grid && (p.sees_whole_grids() || p.has(Role::PartyMember))) {
        return Ok(refuse("forbidden", "the order is outside your grids"));
    }
    if tx.record(Entity::OrderEvent, e.event_id)?.is_some() {
        return Ok(refuse(
            "duplicate_id",
            format!("event {} already exists", e.event_id),
        ));
    }
    let action = OrderAction::from_code(&e.action).unwrap_or(OrderAction::Comment);
    if let (OrderAction::Dispatch, Some(assignee), Some(grid)) =
        (action, e.assignee_id, order.grid_id)
    {
        let registered = tx
            .assignments(assignee)?
            .iter()
            .any(|a| a.grid_id == Some(grid));
        if !registered {
            return Ok(refuse(
                "invalid",
                "the assignee is not registered with the order's grid",
            ));
        }
    }
    let from = order
        .data
        .get("status")
        .and_then(Value::as_str)
        .and_then(OrderStatus::from_code)
        .unwrap_or(OrderStatus::Posted);
    let parties = OrderParties {
        actor: UserId(p.user_id),
        assignee: uuid_at(&order.data, "assignee_id").map(UserId),
        taker: uuid_at(&order.data, "taker_id").map(UserId),
    };
    let (status, error, stored_action, merged_reason, new_status) =
        match transition(from, action, &p.roles, parties) {
            Ok(to) => (PushStatus::Applied, None, action, None, Some(to)),
            Err(err @ OrderTransitionError::RoleNotAllowed { .. }) => {
                return Ok(refuse("forbidden", err.to_string()));
            }
            Err(err) => {
                let reason = format!("{err}; kept as a comment");
                (
                    PushStatus::Merged,
                    Some(ErrorDetail {
                        code: "illegal_transition".into(),
                        message: reason.clone(),
                    }),
                    OrderAction::Comment,
                    Some(format!("{}: {reason}", action.code())),
                    None,
                )
            }
        };
    let applied = merged_reason.is_none();
    let event = OrderEventRecord {
        id: e.event_id,
        order_id: e.order_id,
        action: stored_action.code().into(),
        actor_id: p.user_id,
        note: e.note,
        at: m.recorded_at,
        photos: e.photos.clone(),
        assignee_id: e.assignee_id.filter(|_| applied),
        satisfaction: e.satisfaction.clone().filter(|_| applied),
        merged_reason,
    };
    let seq = log::put_over(
        tx,
        &PutRecord {
            entity: Entity::OrderEvent,
            id: e.event_id,
            grid_id: order.grid_id,
            building_id: None,
            owner_id: order.owner_id,
            data: to_value(&event),
        },
        None,
        now_ms,
    )?;
    tx.add_blob_refs(&e.photos, Entity::OrderEvent, e.event_id)?;
    if let Some(to) = new_status.filter(|_| action != OrderAction::Comment) {
        let mut data = order.data.clone();
        data["status"] = json!(to.code());
        match action {
            OrderAction::Dispatch => set(&mut data, "assignee_id", e.assignee_id.map(json_of)),
            OrderAction::Take => set(&mut data, "taker_id", Some(json!(p.user_id))),
            // Given back: open to the grid's members again.
            OrderAction::Release => {
                set(&mut data, "taker_id", None);
                set(&mut data, "assignee_id", None);
            }
            OrderAction::Confirm => set(&mut data, "satisfaction", e.satisfaction.map(json_of)),
            _ => {}
        }
        log::put_over(
            tx,
            &PutRecord {
                entity: Entity::Order,
                id: e.order_id,
                grid_id: order.grid_id,
                building_id: None,
                owner_id: order.owner_id,
                data,
            },
            Some(&order),
            now_ms,
        )?;
    }
    Ok(Ok((status, error, seq)))
}
