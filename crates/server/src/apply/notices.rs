//! Who is told what when a pushed mutation is applied. Each rule here queues messages in the
//! outbox (`store::outbox`) inside the mutation's own transaction, so a fact and its messages
//! commit together; the trigger key makes a rule fire once per fact whatever retries the push.
//!
//! The rules:
//! - **call-up** (`callup.create`): everyone of the grid it calls (all, or the roles chosen) but
//!   the caller and the street's read-only accounts, urgent — sent at night and over the daily cap;
//! - **issue assigned** (`issue.event` assign): the assignee, unless they assigned it themselves;
//! - **order dispatched** (`order.event` dispatch to a member): that member, unless themselves;
//! - **a resident's report moved** (`issue.event` accept, assign, escalate, resolve, resolve on
//!   the spot, close, reject as duplicate, on an issue a resident reported): that resident, with the new status
//!   in Chinese words — 件件有回音. (Their sign-in codes are `store::residents`'.)
//!
//! A message says what happened through an approved template's parameters — never free text —
//! and links to the app's page for it. Parameters are cut to [`PARAM_CHARS`]: the providers
//! refuse a variable over their limit.

use crate::store::outbox::{self, Notice};
use crate::store::trigger_keys;
use crate::store::{AssignmentRow, Principal, Result, UserRow, WriteTx};
use chrono::{DateTime, Utc};
use gridmate_model::calendar::china;
use gridmate_model::{IssueSource, Role};
use gridmate_protocol::{Entity, MutationPayload};
use gridmate_words::{Lang, Vocabulary};
use uuid::Uuid;

/// Every notice the server sends, by a rule here or by the sweep (`apply::sweep`): the SMS
/// configuration names an approved template for each.
pub const NOTICES: &[&str] = &[
    "callup",
    "issue_assigned",
    "order_dispatched",
    "callup_recall",
    "issue_overdue",
    "household_unseen",
    "leader_digest",
    "resident_code",
    "resident_update",
];

/// The steps of an issue a resident who reported it hears of.
const RESIDENT_HEARS: &[&str] = &[
    "accept",
    "assign",
    "escalate",
    "resolve",
    "resolve_on_spot",
    "close",
    "reject_duplicate",
];

/// The longest a template parameter may be, in characters: well within what the providers take
/// for a variable (Alibaba 35), and short enough to read on a lock screen.
pub const PARAM_CHARS: usize = 20;

/// What an applied mutation may set off, taken from its payload before the rules consume it.
pub(super) enum Intent {
    Callup {
        callup: Uuid,
        grid: Uuid,
        roles: Vec<String>,
        place: String,
        at: DateTime<Utc>,
    },
    /// An issue assigned or an order dispatched to a person: one rule, told apart by these.
    Assigned {
        notice: &'static str,
        entity: Entity,
        /// The app's page: `/{page}/{record}`.
        page: &'static str,
        event: Uuid,
        record: Uuid,
        assignee: Uuid,
    },
    /// An issue moved a step its reporter, if a resident, hears of.
    IssueStep { event: Uuid, issue: Uuid },
}

/// What an applied mutation with this payload may set off: none, one, or (an issue assigned) a
/// message to the assignee and one to the resident who reported it.
pub(super) fn intents(payload: &MutationPayload) -> Vec<Intent> {
    let mut out = Vec::new();
    match payload {
        MutationPayload::CallupCreate(c) => out.push(Intent::Callup {
            callup: c.callup_id,
            grid: c.grid_id,
            roles: c.roles.clone(),
            place: c.place.clone(),
            at: c.at,
        }),
        MutationPayload::IssueEvent(e) => {
            if e.action == "assign"
                && let Some(assignee) = e.assignee_id
            {
                out.push(Intent::Assigned {
                    notice: "issue_assigned",
                    entity: Entity::Issue,
                    page: "issue",
                    event: e.event_id,
                    record: e.issue_id,
                    assignee,
                });
            }
            if RESIDENT_HEARS.contains(&e.action.as_str()) {
                out.push(Intent::IssueStep {
                    event: e.event_id,
                    issue: e.issue_id,
                });
            }
        }
        MutationPayload::OrderEvent(e) if e.action == "dispatch" => {
            out.extend(e.assignee_id.map(|assignee| Intent::Assigned {
                notice: "order_dispatched",
                entity: Entity::Order,
                page: "order",
                event: e.event_id,
                record: e.order_id,
                assignee,
            }))
        }
        _ => {}
    }
    out
}

/// Queue the messages `intent` calls for, now that its mutation was applied by `p`.
pub(super) fn queue(
    tx: &mut dyn WriteTx,
    p: &Principal,
    intent: Intent,
    now: DateTime<Utc>,
) -> Result<()> {
    match intent {
        Intent::IssueStep { event, issue } => tell_resident(tx, event, issue, now)?,
        Intent::Callup {
            callup,
            grid,
            roles,
            place,
            at,
        } => {
            let time = at
                .with_timezone(&china())
                .format("%m月%d日%H:%M")
                .to_string();
            for person in called(&tx.people()?, grid, &roles, p.user_id) {
                let notice = Notice {
                    trigger_key: trigger_keys::callup(callup, person.id),
                    recipient_id: person.id,
                    address: person.phone.clone(),
                    notice: "callup",
                    params: vec![param("place", &place), param("time", &time)],
                    link: "/".into(),
                    urgent: true,
                    grid_id: Some(grid),
                };
                outbox::queue(tx, notice, now)?;
            }
        }
        Intent::Assigned {
            notice,
            entity,
            page,
            event,
            record,
            assignee,
        } => {
            if assignee == p.user_id {
                return Ok(());
            }
            let Some(stored) = tx.record(entity, record)? else {
                return Ok(());
            };
            let Some((user, _)) = tx.people()?.into_iter().find(|(u, _)| u.id == assignee) else {
                return Ok(());
            };
            let field = |name: &str| stored.data[name].as_str().unwrap_or_default().to_string();
            let notice = Notice {
                trigger_key: format!("{notice}:{event}"),
                recipient_id: assignee,
                address: user.phone,
                notice,
                params: vec![
                    param("number", &field("number")),
                    param("title", &field("title")),
                ],
                link: format!("/{page}/{record}"),
                urgent: false,
                grid_id: stored.grid_id,
            };
            outbox::queue(tx, notice, now)?;
        }
    }
    Ok(())
}

/// Tell the resident who reported `issue`, if one did, where it stands after `event`.
fn tell_resident(tx: &mut dyn WriteTx, event: Uuid, issue: Uuid, now: DateTime<Utc>) -> Result<()> {
    let Some(stored) = tx.record(Entity::Issue, issue)? else {
        return Ok(());
    };
    if stored.data["source"].as_str() != Some(IssueSource::Resident.code()) {
        return Ok(());
    }
    let Some(account) = stored
        .owner_id
        .map(|o| tx.resident_account(o))
        .transpose()?
        .flatten()
    else {
        return Ok(());
    };
    let status = stored.data["status"].as_str().unwrap_or_default();
    let notice = Notice {
        trigger_key: format!("resident_update:{event}"),
        recipient_id: account.id,
        address: account.phone,
        notice: "resident_update",
        params: vec![
            param("number", stored.data["number"].as_str().unwrap_or_default()),
            param("status", Vocabulary::IssueStatus.word(status, Lang::Zh)),
        ],
        link: format!("/resident/items/{issue}"),
        urgent: false,
        grid_id: stored.grid_id,
    };
    outbox::queue(tx, notice, now).map(drop)
}

/// Who a call-up of `grid` for `roles` (none: everyone) by `caller` calls: the grid's people in
/// those roles, but the caller and the street's read-only accounts, who cannot answer.
pub(super) fn called<'a>(
    people: &'a [(UserRow, Vec<AssignmentRow>)],
    grid: Uuid,
    roles: &'a [String],
    caller: Uuid,
) -> impl Iterator<Item = &'a UserRow> + 'a {
    people.iter().filter_map(move |(person, assignments)| {
        let called = assignments.iter().any(|a| {
            a.grid_id == Some(grid)
                && a.role != Role::StreetViewer
                && (roles.is_empty() || roles.iter().any(|r| r == a.role.code()))
        });
        (called && person.id != caller).then_some(person)
    })
}

/// A template parameter, cut to [`PARAM_CHARS`].
pub(super) fn param(name: &str, value: &str) -> (String, String) {
    (name.to_string(), value.chars().take(PARAM_CHARS).collect())
}
