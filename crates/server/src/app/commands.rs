//! The office's actions on records, typed. Each [`Command`] becomes one protocol payload of
//! [`gridmate_protocol::MutationPayload`], stamped by the server's [`ServerClock`] and pushed
//! through the same rules ([`crate::apply`]) as a phone's mutation, so an assignment made in
//! the console, one made through the office API and one made on a leader's phone are the same
//! kind of fact with the same checks.
//!
//! A command is named by the mutation id its form or request carries. Everything else the
//! payload needs (an event's id, a call-up's id per grid) is derived from that id, so the same
//! command sent twice — a double click, a retried request — is the same mutation, which the
//! server answers as a duplicate.
//!
//! [`ServerClock`]: super::clock::ServerClock

use super::state::AppState;
use crate::error::ApiError;
use crate::store::{Principal, ServerStore};
use chrono::{DateTime, Utc};
use gridmate_model::{
    IssueAction, IssueCategory, IssueSource, OrderAction, OrderKind, OrderSource, Role,
    Satisfaction, Severity,
};
use gridmate_protocol::{
    CallupCloseData, CallupCreateData, IssueEventData, IssueReportData, Mutation, MutationPayload,
    OrderCreateData, OrderEventData, PatchData, PushResult, PushStatus,
};
use gridmate_words::{Lang, Msg, Said};
use serde_json::Value;
use std::collections::BTreeMap;
use uuid::Uuid;

/// One step of an issue's handling as the office takes it.
#[derive(Clone, Debug)]
pub struct IssueStep {
    pub issue: Uuid,
    pub action: IssueAction,
    pub note: String,
    /// `assign`: who takes it.
    pub assignee: Option<Uuid>,
    /// `escalate`: the department it goes to.
    pub department: Option<Uuid>,
    /// `reject_duplicate`: the issue this one repeats.
    pub duplicate_of: Option<Uuid>,
}

/// One step of a request's handling (dispatch, verify, confirm with the resident's word…).
#[derive(Clone, Debug)]
pub struct OrderStep {
    pub order: Uuid,
    pub action: OrderAction,
    pub note: String,
    pub assignee: Option<Uuid>,
    pub satisfaction: Option<Satisfaction>,
}

/// A resident's request taken by phone or at the desk (群众点单).
#[derive(Clone, Debug)]
pub struct NewOrder {
    pub grid: Uuid,
    pub household: Option<Uuid>,
    pub kind: OrderKind,
    pub source: OrderSource,
    pub title: String,
    pub description: String,
    pub requester: String,
}

/// A problem a resident reports on the resident page (居民自报).
#[derive(Clone, Debug)]
pub struct ResidentReport {
    pub grid: Uuid,
    pub building: Option<Uuid>,
    /// Their own room, when the problem is there.
    pub household: Option<Uuid>,
    pub category: IssueCategory,
    pub title: String,
    pub description: String,
    pub photos: Vec<String>,
}

/// A call-up (一键响应) of one grid's people to a place at a time.
#[derive(Clone, Debug)]
pub struct NewCallup {
    pub grid: Uuid,
    /// Empty calls everyone of the grid.
    pub roles: Vec<Role>,
    pub place: String,
    pub at: DateTime<Utc>,
    pub message: String,
    /// Call again those silent this many minutes after.
    pub recall_after_minutes: Option<u32>,
}

/// What the office can do to a record.
#[derive(Clone, Debug)]
pub enum Command {
    Issue(IssueStep),
    Order(OrderStep),
    /// The new order is named by the command's mutation id: a second click finds the same order.
    NewOrder(NewOrder),
    Callup(NewCallup),
    CloseCallup(Uuid),
    /// The resident's report; named by the command's mutation id, as a new order is.
    ResidentReport(ResidentReport),
    /// The resident's rating of how their issue ended (不满意 sends it back).
    Rate {
        issue: Uuid,
        satisfaction: Satisfaction,
        comment: String,
    },
    /// A household's record corrected from the roll: the changed fields only.
    CorrectHousehold {
        household: Uuid,
        fields: BTreeMap<String, Value>,
    },
}

/// How a command ended, in the words the server gives.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// Applied now, or applied before under the same mutation id.
    Done,
    /// The record had moved on; the action was kept as a comment on it.
    KeptAsComment(String),
    Refused(String),
}

impl Outcome {
    fn of(r: PushResult) -> Outcome {
        let words = || r.error.clone().map(|e| e.message).unwrap_or_default();
        match r.status {
            PushStatus::Applied | PushStatus::Duplicate => Outcome::Done,
            PushStatus::Merged => Outcome::KeptAsComment(words()),
            PushStatus::Rejected => Outcome::Refused(words()),
        }
    }
}

/// The id of a part of the command `mutation` (its event, the call-up of its n-th grid).
pub fn derived_id(mutation: Uuid, part: &[u8]) -> Uuid {
    Uuid::new_v5(&mutation, part)
}

impl Command {
    /// The protocol payload of this command sent as `mutation`, or what it lacks.
    pub fn payload(self, mutation: Uuid) -> Result<MutationPayload, Said> {
        let event_id = derived_id(mutation, b"event");
        Ok(match self {
            Command::Issue(s) => {
                let lacking = match s.action {
                    IssueAction::Assign => s.assignee.is_none(),
                    IssueAction::Escalate => s.department.is_none(),
                    IssueAction::RejectDuplicate => s.duplicate_of.is_none(),
                    _ => false,
                };
                if lacking {
                    return Err(Said::of(Msg::OfficeChooseFirst));
                }
                MutationPayload::IssueEvent(IssueEventData {
                    event_id,
                    issue_id: s.issue,
                    action: s.action.code().into(),
                    note: s.note,
                    photos: Vec::new(),
                    assignee_id: s.assignee.filter(|_| s.action == IssueAction::Assign),
                    department: None,
                    department_id: s.department.filter(|_| s.action == IssueAction::Escalate),
                    duplicate_of: s
                        .duplicate_of
                        .filter(|_| s.action == IssueAction::RejectDuplicate),
                    satisfaction: None,
                })
            }
            Command::ResidentReport(r) => MutationPayload::IssueReport(IssueReportData {
                issue_id: mutation,
                grid_id: r.grid,
                category: r.category.code().into(),
                title: r.title,
                description: r.description,
                // A resident's word on urgency is the office's to weigh: it comes in as 一般.
                severity: Severity::Low.code().into(),
                building_id: r.building,
                household_id: r.household,
                location: None,
                photos: r.photos,
                source: IssueSource::Resident.code().into(),
            }),
            Command::Rate {
                issue,
                satisfaction,
                comment,
            } => MutationPayload::IssueEvent(IssueEventData {
                event_id,
                issue_id: issue,
                action: gridmate_model::issue::rating(satisfaction).code().into(),
                note: comment,
                photos: Vec::new(),
                assignee_id: None,
                department: None,
                department_id: None,
                duplicate_of: None,
                satisfaction: Some(satisfaction.code().into()),
            }),
            Command::Order(s) => MutationPayload::OrderEvent(OrderEventData {
                event_id,
                order_id: s.order,
                action: s.action.code().into(),
                note: s.note,
                photos: Vec::new(),
                assignee_id: s.assignee,
                satisfaction: s.satisfaction.map(|v| v.code().into()),
            }),
            Command::NewOrder(o) => MutationPayload::OrderCreate(OrderCreateData {
                order_id: mutation,
                grid_id: o.grid,
                household_id: o.household,
                kind: o.kind.code().into(),
                source: o.source.code().into(),
                title: o.title,
                description: o.description,
                requester: o.requester,
                photos: Vec::new(),
            }),
            Command::Callup(c) => MutationPayload::CallupCreate(CallupCreateData {
                callup_id: mutation,
                grid_id: c.grid,
                roles: c.roles.iter().map(|r| r.code().to_string()).collect(),
                place: c.place,
                location: None,
                at: c.at,
                message: c.message,
                recall_after_minutes: c.recall_after_minutes,
            }),
            Command::CloseCallup(callup) => {
                MutationPayload::CallupClose(CallupCloseData { callup_id: callup })
            }
            Command::CorrectHousehold { household, fields } => {
                MutationPayload::HouseholdPatch(PatchData {
                    id: household,
                    fields,
                })
            }
        })
    }

    /// The mutation this command is, sent as `mutation` at `now` with the server's next stamp.
    pub fn mutation(
        self,
        state: &AppState,
        mutation: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Mutation, Said> {
        let payload = self.payload(mutation)?;
        Ok(Mutation {
            id: mutation,
            kind: payload.kind().into(),
            recorded_at: now,
            hlc: state.clock.tick(now.timestamp_millis()).to_string(),
            data: payload.to_json(),
        })
    }
}

/// Run `command` as `p`, named `mutation`: through the rules a phone's push goes through.
pub async fn run(
    state: &AppState,
    p: Principal,
    lang: Lang,
    mutation: Uuid,
    command: Command,
) -> Result<Outcome, ApiError> {
    let m = command
        .mutation(state, mutation, Utc::now())
        .map_err(|said| ApiError::Unprocessable {
            code: "invalid",
            message: said.in_lang(lang).to_string(),
        })?;
    let result = state
        .store
        .push(p, vec![m])
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::Internal("a push of one gave no result".into()))?;
    state.pushed();
    Ok(Outcome::of(result))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assign(assignee: Option<Uuid>) -> Command {
        Command::Issue(IssueStep {
            issue: Uuid::nil(),
            action: IssueAction::Assign,
            note: "快去".into(),
            assignee,
            department: Some(Uuid::max()),
            duplicate_of: None,
        })
    }

    #[test]
    fn the_same_command_under_the_same_id_is_the_same_payload() {
        let (mid, who) = (Uuid::now_v7(), Some(Uuid::now_v7()));
        let a = assign(who).payload(mid).unwrap();
        let b = assign(who).payload(mid).unwrap();
        assert_eq!(a, b);
        let MutationPayload::IssueEvent(e) = a else {
            panic!("{a:?}")
        };
        // Only the field the action takes travels: a stray department on an assignment does not.
        assert_eq!((e.assignee_id, e.department_id), (who, None));
        assert_ne!(assign(who).payload(Uuid::now_v7()).unwrap(), b);
    }

    #[test]
    fn an_assignment_without_anyone_to_take_it_is_refused_in_both_languages() {
        let said = assign(None).payload(Uuid::now_v7()).unwrap_err();
        assert!(said.in_lang(Lang::Zh).contains("派给谁"));
        assert!(said.in_lang(Lang::En).contains("who takes it"));
    }
}
