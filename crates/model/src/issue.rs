//! The issue ledger (问题台账) and its state machine.
//!
//! Every problem a grid worker or building leader finds becomes an [`Issue`]; everything that
//! happens to it afterwards is an append-only [`IssueEvent`]. The current status is never written
//! directly: it is the result of replaying the events in server order through [`transition`].
//! That is what lets two phones act on the same issue offline: when the server replays an event
//! that is no longer legal (both resolved it), the event is kept as a comment instead of lost.
//!
//! ```text
//!            accept            assign          start            resolve          close
//! Reported ───────▶ Accepted ───────▶ Assigned ──────▶ InProgress ──────▶ Resolved ──────▶ Closed
//!    │  resolve_on_spot                                                     ▲   │ reopen     │
//!    ├──────────────▶ ResolvedOnSpot ──close──▶ Closed                      │   ▼            │
//!    │  escalate                                                             Reopened ◀───────┘
//!    ├──────────────▶ Escalated (to a department) ──resolve / assign──▶ …
//!    │  reject_duplicate
//!    └──────────────▶ RejectedDuplicate
//! ```
//!
//! The full table, with who may do what, is [`transition`]; `tests` check it exhaustively against
//! an independently written grid.

use crate::code_enum;
use crate::ids::{BuildingId, DepartmentId, GridId, HouseholdId, IssueEventId, IssueId, UserId};
use crate::people::Role;
use crate::records::PhotoRef;
use chrono::{DateTime, Duration, Utc};

code_enum! {
    /// Where an issue stands in the ledger.
    pub enum IssueStatus {
        Reported = "reported",
        Accepted = "accepted",
        Assigned = "assigned",
        InProgress = "in_progress",
        Escalated = "escalated",
        Resolved = "resolved",
        ResolvedOnSpot = "resolved_on_spot",
        Closed = "closed",
        Reopened = "reopened",
        RejectedDuplicate = "rejected_duplicate",
    }
}

impl IssueStatus {
    /// Open issues are the ones still on someone's list: everything but closed and duplicates.
    pub fn is_open(self) -> bool {
        !matches!(self, IssueStatus::Closed | IssueStatus::RejectedDuplicate)
    }
}

code_enum! {
    /// What someone does to an issue. The codes are PROTOCOL.md's `issue.event` actions.
    pub enum IssueAction {
        Comment = "comment",
        Accept = "accept",
        Assign = "assign",
        Start = "start",
        Resolve = "resolve",
        Close = "close",
        Reopen = "reopen",
        Escalate = "escalate",
        RejectDuplicate = "reject_duplicate",
        ResolveOnSpot = "resolve_on_spot",
        /// The resident who reported it says they are satisfied (or mostly) with how it ended.
        Rate = "rate",
        /// The resident who reported it is not satisfied: it goes back for handling and a
        /// return visit (回访), as the 12345 hotline sends back a 不满意 work order.
        SendBack = "send_back",
    }
}

code_enum! {
    /// The categories the articles name, in the order the report screen shows them.
    pub enum IssueCategory {
        FireSafety = "fire_safety",
        Sanitation = "sanitation",
        BrokenFacility = "broken_facility",
        Dispute = "dispute",
        Noise = "noise",
        IllegalConstruction = "illegal_construction",
        ResidentNeed = "resident_need",
        Pollution = "pollution",
        Other = "other",
    }
}

code_enum! {
    pub enum Severity {
        Low = "low",
        Medium = "medium",
        High = "high",
    }
}

code_enum! {
    /// How the issue reached the ledger.
    pub enum IssueSource {
        Visit = "visit",
        Patrol = "patrol",
        BuildingLeader = "building_leader",
        ResidentOrder = "resident_order",
        PartyMember = "party_member",
        /// 居民自报: a resident on the resident page.
        Resident = "resident",
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Issue {
    pub id: IssueId,
    /// The office's number for it (`2026-000123`, see [`crate::case_number`]); `None` until the
    /// server has received it.
    pub number: Option<String>,
    pub grid_id: GridId,
    pub building_id: Option<BuildingId>,
    pub household_id: Option<HouseholdId>,
    pub category: IssueCategory,
    pub severity: Severity,
    pub source: IssueSource,
    pub status: IssueStatus,
    pub title: String,
    pub description: String,
    /// WGS-84 (lat, lon) where it was seen.
    pub location: Option<(f64, f64)>,
    pub reported_by: UserId,
    pub reported_at: DateTime<Utc>,
    pub photos: Vec<PhotoRef>,
    /// Who it was assigned to (社区派单), if anyone.
    pub assignee: Option<UserId>,
    /// The department it was escalated to, if any.
    pub department_id: Option<DepartmentId>,
    /// When it should be closed by: reported time + [`time_limit`]. Overdue is derived from it
    /// and the clock, never stored.
    pub due_at: Option<DateTime<Utc>>,
}

/// How long an issue of a category and severity may stay open (处置时限). A fire hazard is a
/// day whatever its severity; otherwise a day, three days or a week by severity. The office
/// may set its own limits; these are the defaults the server applies.
pub fn time_limit(category: IssueCategory, severity: Severity) -> Duration {
    match (category, severity) {
        (IssueCategory::FireSafety, _) | (_, Severity::High) => Duration::hours(24),
        (_, Severity::Medium) => Duration::hours(72),
        (_, Severity::Low) => Duration::days(7),
    }
}

/// The longest limit an office may set: a quarter.
pub const MAX_TIME_LIMIT_HOURS: u32 = 24 * 90;

/// Who is chased when an issue runs past its time limit (超时督办): its assignee at once, the
/// grid leader `leader_after_hours` later, the community office `office_after_hours` after the
/// due time. Hours after the due time, the leader's never after the office's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Escalation {
    pub leader_after_hours: u32,
    pub office_after_hours: u32,
}

/// The ladder the server climbs where the office set none: a fire hazard or a high-severity
/// issue reaches the leader in 2 hours and the office in 8; a medium one in a day and three; a
/// low one in two days and a week.
pub fn escalation(category: IssueCategory, severity: Severity) -> Escalation {
    let (leader, office) = match (category, severity) {
        (IssueCategory::FireSafety, _) | (_, Severity::High) => (2, 8),
        (_, Severity::Medium) => (24, 72),
        (_, Severity::Low) => (48, 168),
    };
    Escalation {
        leader_after_hours: leader,
        office_after_hours: office,
    }
}

/// The office's own time limits, in hours per category and severity, and its escalation
/// ladders; where it set none, the defaults [`time_limit`] and [`escalation`] hold.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TimeLimits {
    pub hours: std::collections::BTreeMap<(IssueCategory, Severity), u32>,
    pub ladders: std::collections::BTreeMap<(IssueCategory, Severity), Escalation>,
}

impl TimeLimits {
    pub fn limit(&self, category: IssueCategory, severity: Severity) -> Duration {
        self.hours.get(&(category, severity)).map_or_else(
            || time_limit(category, severity),
            |h| Duration::hours(i64::from(*h)),
        )
    }

    /// Set one limit; 1 hour to [`MAX_TIME_LIMIT_HOURS`].
    pub fn set(
        &mut self,
        category: IssueCategory,
        severity: Severity,
        hours: u32,
    ) -> Result<(), crate::ValidationError> {
        if !(1..=MAX_TIME_LIMIT_HOURS).contains(&hours) {
            return Err(crate::ValidationError::OutOfRange {
                field: "time limit (hours)",
                value: f64::from(hours),
            });
        }
        self.hours.insert((category, severity), hours);
        Ok(())
    }

    pub fn escalation(&self, category: IssueCategory, severity: Severity) -> Escalation {
        self.ladders
            .get(&(category, severity))
            .copied()
            .unwrap_or_else(|| escalation(category, severity))
    }

    /// Set one ladder: each rung 0 hours to [`MAX_TIME_LIMIT_HOURS`] after the due time, the
    /// leader's no later than the office's.
    pub fn set_escalation(
        &mut self,
        category: IssueCategory,
        severity: Severity,
        ladder: Escalation,
    ) -> Result<(), crate::ValidationError> {
        for (field, hours) in [
            ("leader after (hours)", ladder.leader_after_hours),
            ("office after (hours)", ladder.office_after_hours),
        ] {
            if hours > MAX_TIME_LIMIT_HOURS {
                return Err(crate::ValidationError::OutOfRange {
                    field,
                    value: f64::from(hours),
                });
            }
        }
        if ladder.leader_after_hours > ladder.office_after_hours {
            return Err(crate::ValidationError::OutOfRange {
                field: "leader after (hours), later than the office",
                value: f64::from(ladder.leader_after_hours),
            });
        }
        self.ladders.insert((category, severity), ladder);
        Ok(())
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct IssueEvent {
    pub id: IssueEventId,
    pub issue_id: IssueId,
    pub action: IssueAction,
    pub actor: UserId,
    pub note: String,
    pub at: DateTime<Utc>,
    pub photos: Vec<PhotoRef>,
    /// Set when the server kept this event as a comment because it was no longer a legal
    /// transition: the action meant, and why it did not apply.
    pub merged_reason: Option<String>,
}

/// Why an action is not allowed. The server turns this into a `merged` push result (the event is
/// kept as a comment); the app uses it to decide which buttons to show.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("{role:?} may not {action} an issue")]
    RoleNotAllowed { role: Role, action: IssueAction },
    #[error("cannot {action} an issue that is {from}")]
    IllegalFromStatus {
        from: IssueStatus,
        action: IssueAction,
    },
    #[error("a user with no role cannot {action} an issue")]
    NoRole { action: IssueAction },
}

/// Which roles may take an action at all, independent of the issue's status.
fn role_may(role: Role, action: IssueAction) -> bool {
    use IssueAction::*;
    use Role::*;
    match action {
        // The street reads; it writes nothing, not even a comment. A resident may ask after
        // their own report (the server lets them reach only those).
        Comment => role != StreetViewer,
        // 接单: a worker or leader takes a report on; a party member takes a dispatched task.
        Accept => matches!(role, GridWorker | GridLeader | PartyMember),
        // 社区下单: dispatching is the leader's or the office's call.
        Assign => matches!(role, GridLeader | CommunityAdmin),
        Start | Resolve => matches!(role, GridWorker | GridLeader | PartyMember),
        // 核查销号: only whoever verifies may close, reopen, or rule a report a duplicate.
        Close | Reopen | RejectDuplicate => matches!(role, GridLeader | CommunityAdmin),
        Escalate => matches!(role, GridWorker | GridLeader | CommunityAdmin),
        // Anyone in the field may fix a small thing on the spot; a leader still verifies it.
        ResolveOnSpot => matches!(role, GridWorker | GridLeader | BuildingLeader | PartyMember),
        // 群众评议: only the resident's own word counts as a rating.
        Rate | SendBack => role == Resident,
    }
}

/// The action a resident's rating is: 不满意 sends the issue back, any other word rates it.
pub fn rating(satisfaction: crate::order::Satisfaction) -> IssueAction {
    match satisfaction {
        crate::order::Satisfaction::Dissatisfied => IssueAction::SendBack,
        _ => IssueAction::Rate,
    }
}

/// The status an action leads to from a status, if the action is legal there (ignoring roles).
fn next_status(from: IssueStatus, action: IssueAction) -> Option<IssueStatus> {
    use IssueAction as A;
    use IssueStatus as S;
    let to = match (action, from) {
        (A::Comment, s) => s,
        (A::Accept, S::Reported | S::Reopened) => S::Accepted,
        (A::Assign, S::Reported | S::Accepted | S::Reopened | S::Escalated) => S::Assigned,
        (A::Start, S::Accepted | S::Assigned | S::Reopened) => S::InProgress,
        (A::Resolve, S::Accepted | S::Assigned | S::InProgress | S::Escalated) => S::Resolved,
        (A::Close, S::Resolved | S::ResolvedOnSpot) => S::Closed,
        (A::Reopen, S::Resolved | S::ResolvedOnSpot | S::Closed | S::RejectedDuplicate) => {
            S::Reopened
        }
        (A::Escalate, S::Reported | S::Accepted | S::Assigned | S::InProgress | S::Reopened) => {
            S::Escalated
        }
        (A::RejectDuplicate, S::Reported | S::Accepted | S::Reopened) => S::RejectedDuplicate,
        (A::ResolveOnSpot, S::Reported) => S::ResolvedOnSpot,
        (A::Rate, s @ (S::Resolved | S::ResolvedOnSpot | S::Closed)) => s,
        (A::SendBack, S::Resolved | S::ResolvedOnSpot | S::Closed) => S::Reopened,
        _ => return None,
    };
    Some(to)
}

/// The one rule for issue status: what `action` by `role` does to an issue that is `from`.
pub fn transition(
    from: IssueStatus,
    action: IssueAction,
    role: Role,
) -> Result<IssueStatus, TransitionError> {
    if !role_may(role, action) {
        return Err(TransitionError::RoleNotAllowed { role, action });
    }
    next_status(from, action).ok_or(TransitionError::IllegalFromStatus { from, action })
}

/// The rule for a user holding several roles (a grid leader who is also a worker): the action is
/// legal when any of their roles may take it. When none may, the refusal says the most useful
/// thing: "not from this status" (the device keeps such an event as a comment) over "not your
/// role". The device and the server both decide with this function.
pub fn transition_for_roles(
    from: IssueStatus,
    action: IssueAction,
    roles: &[Role],
) -> Result<IssueStatus, TransitionError> {
    let mut refusal = TransitionError::NoRole { action };
    for &role in roles {
        match transition(from, action, role) {
            Ok(to) => return Ok(to),
            Err(e @ TransitionError::IllegalFromStatus { .. }) => refusal = e,
            Err(e) => {
                if matches!(refusal, TransitionError::NoRole { .. }) {
                    refusal = e;
                }
            }
        }
    }
    Err(refusal)
}

/// The actions a user holding `roles` can offer on an issue that is `status`, in display order.
/// Comment is always among them.
pub fn allowed_actions(status: IssueStatus, roles: &[Role]) -> Vec<IssueAction> {
    IssueAction::ALL
        .into_iter()
        .filter(|&a| transition_for_roles(status, a, roles).is_ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The expected table, written out by hand from the ledger workflow and independent of the
    /// `match` above. Row: from-status; column: action; cell: target status code or `-`; then the
    /// roles that may act, as letters: W worker, L leader, B building leader, P party member,
    /// A admin.
    const TABLE: &str = "
        action           roles   reported  accepted  assigned  in_progress escalated resolved  resolved_on_spot closed   reopened rejected_duplicate
        comment          WLBPAR  =         =         =         =           =         =         =                =        =        =
        accept           WLP     accepted  -         -         -           -         -         -                -        accepted -
        assign           LA      assigned  assigned  -         -           assigned  -         -                -        assigned -
        start            WLP     -         in_progress in_progress -       -         -         -                -        in_progress -
        resolve          WLP     -         resolved  resolved  resolved    resolved  -         -                -        -        -
        close            LA      -         -         -         -           -         closed    closed           -        -        -
        reopen           LA      -         -         -         -           -         reopened  reopened         reopened -        reopened
        escalate         WLA     escalated escalated escalated escalated   -         -         -                -        escalated -
        reject_duplicate LA      rejected_duplicate rejected_duplicate - - -         -         -                -        rejected_duplicate -
        resolve_on_spot  WLBP    resolved_on_spot - -      -           -         -         -                -        -        -
        rate             R       -         -         -         -           -         =         =                =        -        -
        send_back        R       -         -         -         -           -         reopened  reopened         reopened -        -
    ";

    fn role_letter(r: Role) -> char {
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
    fn the_office_limits_override_the_defaults_within_bounds() {
        let mut limits = TimeLimits::default();
        let (c, s) = (IssueCategory::Noise, Severity::Low);
        assert_eq!(limits.limit(c, s), Duration::days(7));
        limits.set(c, s, 48).unwrap();
        assert_eq!(limits.limit(c, s), Duration::hours(48));
        assert_eq!(
            limits.limit(IssueCategory::Noise, Severity::High),
            Duration::hours(24),
            "the others keep their default"
        );
        assert!(limits.set(c, s, 0).is_err());
        assert!(limits.set(c, s, MAX_TIME_LIMIT_HOURS + 1).is_err());
        assert_eq!(
            limits.limit(c, s),
            Duration::hours(48),
            "a refused value changes nothing"
        );
    }

    #[test]
    fn several_roles_take_the_first_that_may_and_refuse_with_the_most_useful_reason() {
        use Role::*;
        assert_eq!(
            transition_for_roles(
                IssueStatus::Resolved,
                IssueAction::Close,
                &[GridWorker, GridLeader]
            ),
            Ok(IssueStatus::Closed)
        );
        assert!(matches!(
            transition_for_roles(IssueStatus::Resolved, IssueAction::Close, &[GridWorker]),
            Err(TransitionError::RoleNotAllowed { .. })
        ));
        // The leader may close, but not a reported issue: the status is the reason.
        assert!(matches!(
            transition_for_roles(
                IssueStatus::Reported,
                IssueAction::Close,
                &[GridWorker, GridLeader]
            ),
            Err(TransitionError::IllegalFromStatus { .. })
        ));
        assert!(matches!(
            transition_for_roles(IssueStatus::Reported, IssueAction::Comment, &[]),
            Err(TransitionError::NoRole { .. })
        ));
        for status in IssueStatus::ALL {
            for action in IssueAction::ALL {
                for r in Role::ALL {
                    assert_eq!(
                        transition_for_roles(status, action, &[r]).ok(),
                        transition(status, action, r).ok()
                    );
                }
            }
        }
    }

    #[test]
    fn every_status_action_and_role_matches_the_table() {
        let mut lines = TABLE.lines().map(str::trim).filter(|l| !l.is_empty());
        let header: Vec<IssueStatus> = lines
            .next()
            .unwrap()
            .split_whitespace()
            .skip(2)
            .map(|c| IssueStatus::from_code(c).unwrap())
            .collect();
        assert_eq!(header.len(), IssueStatus::ALL.len());
        let mut checked = 0;
        let mut rows = 0;
        for line in lines {
            let cells: Vec<&str> = line.split_whitespace().collect();
            let action = IssueAction::from_code(cells[0]).unwrap();
            let roles = cells[1];
            assert_eq!(cells.len(), 2 + header.len(), "row {line}");
            rows += 1;
            for (i, &from) in header.iter().enumerate() {
                let expected = match cells[2 + i] {
                    "-" => None,
                    "=" => Some(from),
                    code => Some(IssueStatus::from_code(code).unwrap()),
                };
                for role in Role::ALL {
                    let got = transition(from, action, role);
                    let may = roles.contains(role_letter(role));
                    match (may, expected) {
                        (true, Some(to)) => assert_eq!(got, Ok(to), "{from} {action} {role:?}"),
                        (true, None) => assert_eq!(
                            got,
                            Err(TransitionError::IllegalFromStatus { from, action }),
                            "{from} {action} {role:?}"
                        ),
                        (false, _) => assert_eq!(
                            got,
                            Err(TransitionError::RoleNotAllowed { role, action }),
                            "{from} {action} {role:?}"
                        ),
                    }
                    checked += 1;
                }
            }
        }
        assert_eq!(rows, IssueAction::ALL.len());
        assert_eq!(
            checked,
            IssueStatus::ALL.len() * IssueAction::ALL.len() * Role::ALL.len()
        );
    }

    #[test]
    fn closed_and_duplicates_are_not_open() {
        let open: Vec<_> = IssueStatus::ALL.iter().filter(|s| s.is_open()).collect();
        assert_eq!(open.len(), IssueStatus::ALL.len() - 2);
        assert!(!IssueStatus::Closed.is_open());
        assert!(
            IssueStatus::Resolved.is_open(),
            "resolved waits for a check"
        );
    }

    #[test]
    fn a_building_leader_can_only_comment_or_fix_on_the_spot() {
        assert_eq!(
            allowed_actions(IssueStatus::Reported, &[Role::BuildingLeader]),
            vec![IssueAction::Comment, IssueAction::ResolveOnSpot]
        );
        assert_eq!(
            allowed_actions(IssueStatus::InProgress, &[Role::BuildingLeader]),
            vec![IssueAction::Comment]
        );
    }

    #[test]
    fn roles_combine() {
        let both = allowed_actions(IssueStatus::Resolved, &[Role::GridWorker, Role::GridLeader]);
        assert!(both.contains(&IssueAction::Close));
        let worker = allowed_actions(IssueStatus::Resolved, &[Role::GridWorker]);
        assert!(!worker.contains(&IssueAction::Close));
    }
}
