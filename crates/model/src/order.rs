//! Residents' requests (三单制: 群众点单、社区派单、党员接单) and their state machine.
//!
//! A grid worker on a visit, or the office at its desk or on the phone, records what a resident
//! asks for as an [`Order`] (a 微心愿, an errand, help at home). The office dispatches it
//! (社区派单) to a named party member or opens it to the grid's party members; one of them takes
//! it (党员接单), does it and logs the service; a grid worker then records what the resident
//! thought of it (满意 / 基本满意 / 不满意). Like issues, the status is never written directly:
//! it is what replaying the [`OrderEvent`]s in server order through [`transition`] gives.
//!
//! ```text
//!         dispatch            take              done              confirm
//! Posted ─────────▶ Dispatched ─────▶ Taken ─────────▶ Done ─────────▶ Confirmed
//!   │  (to a person or open) ▲  release │
//!   │                        └──────────┘
//!   └── cancel (from posted or dispatched) ──▶ Cancelled
//! ```
//!
//! Unlike an issue, who may act depends on the person as well as the role: only the member an
//! order was dispatched to (or anyone, when it is open) may take it, and only its taker may
//! release it or mark it done. Two members taking the same open order offline is the common
//! race: the server keeps the first and turns the second into a comment.

use crate::code_enum;
use crate::ids::{BuildingId, GridId, HouseholdId, OrderEventId, OrderId, UserId};
use crate::people::Role;
use crate::records::PhotoRef;
use chrono::{DateTime, Duration, Utc};

code_enum! {
    pub enum OrderStatus {
        /// Recorded, waiting for the office.
        Posted = "posted",
        /// Sent to a party member, or open to the grid's party members.
        Dispatched = "dispatched",
        Taken = "taken",
        /// Done by its taker; waits for the resident's feedback.
        Done = "done",
        /// The resident's feedback is in: the order is closed.
        Confirmed = "confirmed",
        Cancelled = "cancelled",
    }
}

impl OrderStatus {
    /// Open orders are still on someone's list.
    pub fn is_open(self) -> bool {
        !matches!(self, OrderStatus::Confirmed | OrderStatus::Cancelled)
    }
}

code_enum! {
    /// What someone does to an order: the `action` of an `order.event`.
    pub enum OrderAction {
        Comment = "comment",
        Dispatch = "dispatch",
        Take = "take",
        Release = "release",
        Done = "done",
        Confirm = "confirm",
        Cancel = "cancel",
    }
}

code_enum! {
    /// What the resident asks for.
    pub enum OrderKind {
        /// 微心愿: a small wish (a pair of glasses, a visit, a book for a child).
        Wish = "wish",
        /// 代办: an errand (papers to the street office, medicine to collect).
        Errand = "errand",
        /// 帮扶: help at home for someone who cannot manage.
        Assistance = "assistance",
        /// 维修: a small repair.
        Repair = "repair",
        Other = "other",
    }
}

code_enum! {
    /// How the request reached the ledger.
    pub enum OrderSource {
        Visit = "visit",
        Phone = "phone",
        Desk = "desk",
    }
}

code_enum! {
    /// The resident's feedback on a done order.
    pub enum Satisfaction {
        Satisfied = "satisfied",
        BasicallySatisfied = "basically_satisfied",
        Dissatisfied = "dissatisfied",
    }
}

/// How long an order may stay open before it counts as overdue.
pub const ORDER_TIME_LIMIT: Duration = Duration::days(7);

#[derive(Clone, Debug, PartialEq)]
pub struct Order {
    pub id: OrderId,
    /// The office's number for it (`2026-000045`, see [`crate::case_number`]); `None` until the
    /// server has received it.
    pub number: Option<String>,
    pub grid_id: GridId,
    pub building_id: Option<BuildingId>,
    pub household_id: Option<HouseholdId>,
    pub kind: OrderKind,
    pub source: OrderSource,
    pub status: OrderStatus,
    pub title: String,
    pub description: String,
    /// Who asked, as they gave their name (not a resident id: a caller may not be on the roll).
    pub requester: String,
    /// Where to go, copied from the household when there is one.
    pub address: String,
    pub recorded_by: UserId,
    pub recorded_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    /// Dispatched to this person; `None` once dispatched means open to the grid's members.
    pub assignee: Option<UserId>,
    pub taker: Option<UserId>,
    pub satisfaction: Option<Satisfaction>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct OrderEvent {
    pub id: OrderEventId,
    pub order_id: OrderId,
    pub action: OrderAction,
    pub actor: UserId,
    pub note: String,
    pub at: DateTime<Utc>,
    pub photos: Vec<PhotoRef>,
    pub assignee: Option<UserId>,
    pub satisfaction: Option<Satisfaction>,
    /// Set when the server kept the event as a comment: the action meant and why it did not
    /// apply.
    pub merged_reason: Option<String>,
}

/// Who the acting user is to the order, beside their roles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrderParties {
    pub actor: UserId,
    pub assignee: Option<UserId>,
    pub taker: Option<UserId>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OrderTransitionError {
    #[error("none of your roles may {action} an order")]
    RoleNotAllowed { action: OrderAction },
    #[error("cannot {action} an order that is {from}")]
    IllegalFromStatus {
        from: OrderStatus,
        action: OrderAction,
    },
    /// The order is someone else's: dispatched to another member, or taken by another.
    #[error("the order is someone else's: you cannot {action} it")]
    NotYours { action: OrderAction },
}

fn role_may(role: Role, action: OrderAction) -> bool {
    use OrderAction::*;
    use Role::*;
    match action {
        // The street reads; it writes nothing, not even a comment.
        Comment => role != StreetViewer,
        // 社区派单: the office's or the grid leader's call.
        Dispatch => matches!(role, GridLeader | CommunityAdmin),
        // 党员接单; a grid worker may take one on too.
        Take | Release | Done => matches!(role, PartyMember | GridWorker),
        // The resident's feedback is taken by whoever stands for the community with them.
        Confirm => matches!(role, GridWorker | GridLeader | CommunityAdmin),
        Cancel => matches!(role, GridWorker | GridLeader | CommunityAdmin),
    }
}

fn next_status(from: OrderStatus, action: OrderAction) -> Option<OrderStatus> {
    use OrderAction as A;
    use OrderStatus as S;
    Some(match (action, from) {
        (A::Comment, s) => s,
        (A::Dispatch, S::Posted | S::Dispatched) => S::Dispatched,
        (A::Take, S::Dispatched) => S::Taken,
        (A::Release, S::Taken) => S::Dispatched,
        (A::Done, S::Taken) => S::Done,
        (A::Confirm, S::Done) => S::Confirmed,
        (A::Cancel, S::Posted | S::Dispatched) => S::Cancelled,
        _ => return None,
    })
}

/// The one rule for order status: what `action` by a user holding `roles` does to an order that
/// is `from`, given who they are to it. The device and the server both decide with it. A refusal
/// says the most useful thing: the status first, then the person, then the role.
pub fn transition(
    from: OrderStatus,
    action: OrderAction,
    roles: &[Role],
    parties: OrderParties,
) -> Result<OrderStatus, OrderTransitionError> {
    let to = next_status(from, action);
    if !roles.iter().any(|&r| role_may(r, action)) {
        return Err(OrderTransitionError::RoleNotAllowed { action });
    }
    let to = to.ok_or(OrderTransitionError::IllegalFromStatus { from, action })?;
    let mine = match action {
        OrderAction::Take => parties.assignee.is_none_or(|a| a == parties.actor),
        OrderAction::Release | OrderAction::Done => parties.taker == Some(parties.actor),
        _ => true,
    };
    if !mine {
        return Err(OrderTransitionError::NotYours { action });
    }
    Ok(to)
}

/// The actions a user can offer on an order, in display order (comment always among them).
pub fn allowed_actions(
    status: OrderStatus,
    roles: &[Role],
    parties: OrderParties,
) -> Vec<OrderAction> {
    OrderAction::ALL
        .into_iter()
        .filter(|&a| transition(status, a, roles, parties).is_ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn user(n: u128) -> UserId {
        UserId(uuid::Uuid::from_u128(n))
    }

    /// Written by hand from the workflow, independent of the `match` above. Cell: target status
    /// or `-`. Roles: W worker, L leader, B building leader, P party member, A admin.
    const TABLE: &str = "
        action   roles  posted     dispatched taken      done      confirmed cancelled
        comment  WLBPAR =          =          =          =         =         =
        dispatch LA     dispatched dispatched -          -         -         -
        take     WP     -          taken      -          -         -         -
        release  WP     -          -          dispatched -         -         -
        done     WP     -          -          done       -         -         -
        confirm  WLA    -          -          -          confirmed -         -
        cancel   WLA    cancelled  cancelled  -          -         -         -
    ";

    fn letter(r: Role) -> char {
        match r {
            Role::GridWorker => 'W',
            Role::GridLeader => 'L',
            Role::BuildingLeader => 'B',
            Role::PartyMember => 'P',
            Role::CommunityAdmin => 'A',
            Role::StreetViewer => 'V',
            Role::Resident => 'R',
        }
    }

    #[test]
    fn every_status_action_and_role_matches_the_table() {
        let me = user(1);
        let mine = OrderParties {
            actor: me,
            assignee: Some(me),
            taker: Some(me),
        };
        let mut lines = TABLE.lines().map(str::trim).filter(|l| !l.is_empty());
        let header: Vec<OrderStatus> = lines
            .next()
            .unwrap()
            .split_whitespace()
            .skip(2)
            .map(|c| OrderStatus::from_code(c).unwrap())
            .collect();
        assert_eq!(header.len(), OrderStatus::ALL.len());
        let mut rows = 0;
        for line in lines {
            let cells: Vec<&str> = line.split_whitespace().collect();
            let action = OrderAction::from_code(cells[0]).unwrap();
            rows += 1;
            for (i, &from) in header.iter().enumerate() {
                let expected = match cells[2 + i] {
                    "-" => None,
                    "=" => Some(from),
                    code => Some(OrderStatus::from_code(code).unwrap()),
                };
                for role in Role::ALL {
                    let got = transition(from, action, &[role], mine);
                    let want = match (cells[1].contains(letter(role)), expected) {
                        (false, _) => Err(OrderTransitionError::RoleNotAllowed { action }),
                        (true, None) => {
                            Err(OrderTransitionError::IllegalFromStatus { from, action })
                        }
                        (true, Some(to)) => Ok(to),
                    };
                    assert_eq!(got, want, "{from} {action} {role:?}");
                }
            }
        }
        assert_eq!(rows, OrderAction::ALL.len());
    }

    #[test]
    fn only_the_assignee_takes_a_dispatched_order_and_anyone_an_open_one() {
        let (a, b) = (user(1), user(2));
        let to_a = OrderParties {
            actor: b,
            assignee: Some(a),
            taker: None,
        };
        assert_eq!(
            transition(
                OrderStatus::Dispatched,
                OrderAction::Take,
                &[Role::PartyMember],
                to_a
            ),
            Err(OrderTransitionError::NotYours {
                action: OrderAction::Take
            })
        );
        let open = OrderParties {
            assignee: None,
            ..to_a
        };
        assert_eq!(
            transition(
                OrderStatus::Dispatched,
                OrderAction::Take,
                &[Role::PartyMember],
                open
            ),
            Ok(OrderStatus::Taken)
        );
        let taken_by_a = OrderParties {
            actor: b,
            assignee: None,
            taker: Some(a),
        };
        for action in [OrderAction::Done, OrderAction::Release] {
            assert!(matches!(
                transition(OrderStatus::Taken, action, &[Role::PartyMember], taken_by_a),
                Err(OrderTransitionError::NotYours { .. })
            ));
        }
        // A second take of a taken order fails on its status: the server keeps it as a comment.
        assert_eq!(
            transition(
                OrderStatus::Taken,
                OrderAction::Take,
                &[Role::PartyMember],
                open
            ),
            Err(OrderTransitionError::IllegalFromStatus {
                from: OrderStatus::Taken,
                action: OrderAction::Take
            })
        );
    }

    proptest! {
        /// Whatever anyone tries, in any order: a closed order never opens again, an order is
        /// only ever done by the one who holds it, and comments change nothing.
        #[test]
        fn replaying_any_events_keeps_the_lifecycle(
            steps in proptest::collection::vec((0usize..7, 0usize..5, 0u128..3), 0..40)
        ) {
            let mut status = OrderStatus::Posted;
            let mut assignee: Option<UserId> = None;
            let mut taker: Option<UserId> = None;
            for (a, r, who) in steps {
                let action = OrderAction::ALL[a];
                let actor = user(who);
                let parties = OrderParties { actor, assignee, taker };
                let Ok(to) = transition(status, action, &[Role::ALL[r]], parties) else {
                    continue;
                };
                prop_assert!(
                    status.is_open() || action == OrderAction::Comment,
                    "{action} moved a closed order"
                );
                match action {
                    OrderAction::Comment => prop_assert_eq!(to, status),
                    OrderAction::Dispatch => assignee = Some(actor),
                    OrderAction::Take => {
                        prop_assert!(assignee.is_none_or(|x| x == actor));
                        taker = Some(actor);
                    }
                    OrderAction::Release => {
                        prop_assert_eq!(taker, Some(actor));
                        taker = None;
                        assignee = None;
                    }
                    OrderAction::Done => prop_assert_eq!(taker, Some(actor)),
                    OrderAction::Confirm => prop_assert_eq!(status, OrderStatus::Done),
                    OrderAction::Cancel => prop_assert!(taker.is_none()),
                }
                status = to;
            }
        }
    }
}
