//! The sweep: who is told because time passed, not because someone pushed. Each courier runs
//! it once a minute (`reach::Courier::spawn`); every rule queues its messages with a trigger
//! key naming the rule, its subject, the rung and the person, so a sweep run twice — by one
//! process a minute later or by two processes at once — queues each message once.
//!
//! The rules, each a function here:
//! - [`recall`] — **a call-up's silent**: those a call-up called who have not answered
//!   `recall_after_minutes` after it was sent are called again, urgent, once;
//! - [`overdue`] — **an issue past its time limit** (超时督办), still waiting on someone
//!   (reported, accepted, assigned, in progress, reopened), climbs the office's escalation ladder
//!   for its category and severity (`gridmate_model::issue::Escalation`): its assignee at the
//!   due time, the grid's leaders and then the community office the ladder's hours after it;
//! - [`unseen`] — **a vulnerable household unseen for twice its cadence** (a lone elder visited
//!   weekly, not seen for a fortnight): the grid's workers; at three times its cadence, the
//!   grid's leaders too. A household never visited is the monthly list's, not an alarm;
//! - [`digest`] — **a grid leader's morning digest**: from [`DIGEST_HOUR`] China time, once a
//!   day, how many of their grids' issues are late and vulnerable households unseen, when any is.
//!
//! An alarm is news for [`NEWS_FOR`] after its moment; older ones are left to the digest, so a
//! backlog is counted, not texted item by item.
//!
//! The sweep reads the facts' due times (`ReadTx::late`), never a whole ledger, and never reads a
//! clock: `now` is an argument, so tests run a day in a loop.

use super::notices::{called, param};
use crate::store::outbox::{self, Notice};
use crate::store::trigger_keys;
use crate::store::{AssignmentRow, Result, UserRow, WriteTx};
use chrono::{DateTime, Duration, Timelike, Utc};
use gridmate_model::calendar::china;
use gridmate_model::{IssueCategory, IssueStatus, Role, Severity};
use gridmate_protocol::Entity;
use gridmate_protocol::records::{
    CallupRecord, CallupResponseRecord, HouseholdRecord, IssueRecord,
};
use std::collections::{BTreeMap, HashSet};
use uuid::Uuid;

/// China-time hour from which a leader's digest for the day goes.
pub const DIGEST_HOUR: u32 = 8;

/// How long a rung's moment stays news: an alarm whose moment passed longer ago is not sent
/// (the leader's digest counts it). A server down for a day still catches up; a server first
/// started on years of records, or an office that just shortened a ladder, does not text
/// everyone about the whole backlog at once.
pub const NEWS_FOR: Duration = Duration::days(2);

/// Whether the moment `at` has come by `now` and is still news.
fn fresh(at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    at <= now && now - at <= NEWS_FOR
}

/// The statuses in which an issue waits on someone: late in these, it is chased.
pub const CHASED: [IssueStatus; 5] = [
    IssueStatus::Reported,
    IssueStatus::Accepted,
    IssueStatus::Assigned,
    IssueStatus::InProgress,
    IssueStatus::Reopened,
];

/// Run every rule at `now`; returns how many messages were newly queued.
pub fn sweep(tx: &mut dyn WriteTx, now: DateTime<Utc>) -> Result<usize> {
    let people = tx.people()?;
    let late = late_issues(tx, now)?;
    let unseen_households = unseen_households(tx, now)?;
    let mut notices = recall(tx, &people, now)?;
    notices.extend(overdue(tx, &people, &late, now)?);
    notices.extend(unseen(&people, &unseen_households, now));
    notices.extend(digest(&people, &late, &unseen_households, now));
    let mut queued = 0;
    for n in notices {
        queued += usize::from(outbox::queue(tx, n, now)?);
    }
    Ok(queued)
}

/// The people holding `role` in `grid`.
fn holding(
    people: &[(UserRow, Vec<AssignmentRow>)],
    role: Role,
    grid: Uuid,
) -> impl Iterator<Item = &UserRow> {
    people.iter().filter_map(move |(u, a)| {
        a.iter()
            .any(|a| a.role == role && a.grid_id == Some(grid))
            .then_some(u)
    })
}

fn china_time(t: DateTime<Utc>) -> String {
    t.with_timezone(&china())
        .format("%m月%d日%H:%M")
        .to_string()
}

/// Those silent `recall_after_minutes` after an open call-up was sent, called again.
pub fn recall(
    tx: &mut dyn WriteTx,
    people: &[(UserRow, Vec<AssignmentRow>)],
    now: DateTime<Utc>,
) -> Result<Vec<Notice>> {
    let mut out = Vec::new();
    let callups: Vec<CallupRecord> = tx
        .live_data(Entity::Callup)?
        .iter()
        .filter_map(|d| serde_json::from_str(d).ok())
        .collect();
    for c in callups {
        let (Some(minutes), Some(sent), None) = (c.recall_after_minutes, c.called_at, c.closed_at)
        else {
            continue;
        };
        let due = sent + Duration::minutes(i64::from(minutes));
        // Past the meeting time by a day, a call-up is history even if nobody closed it.
        if now < due || now > c.at.max(due) + Duration::days(1) {
            continue;
        }
        let answered: HashSet<Uuid> = tx
            .live_in_grids(Entity::CallupResponse, &[c.grid_id])?
            .iter()
            .filter_map(|d| serde_json::from_str::<CallupResponseRecord>(d).ok())
            .filter(|r| r.callup_id == c.id)
            .map(|r| r.user_id)
            .collect();
        let time = china_time(c.at);
        for person in called(people, c.grid_id, &c.roles, c.created_by) {
            if answered.contains(&person.id) {
                continue;
            }
            out.push(Notice {
                trigger_key: trigger_keys::callup_recall(c.id, person.id),
                recipient_id: person.id,
                address: person.phone.clone(),
                notice: "callup_recall",
                params: vec![param("place", &c.place), param("time", &time)],
                link: "/".into(),
                urgent: true,
                grid_id: Some(c.grid_id),
            });
        }
    }
    Ok(out)
}

/// The issues past their due time that still wait on someone.
fn late_issues(tx: &mut dyn WriteTx, now: DateTime<Utc>) -> Result<Vec<IssueRecord>> {
    let chased: Vec<&str> = CHASED.iter().map(|s| s.code()).collect();
    Ok(tx
        .late(Entity::Issue, None, &chased, now.timestamp_millis())?
        .iter()
        .filter_map(|d| serde_json::from_str::<IssueRecord>(d).ok())
        .filter(|i| i.due_at.is_some())
        .collect())
}

/// Each late issue up its ladder, as far as the time since its due time reaches.
pub fn overdue(
    tx: &mut dyn WriteTx,
    people: &[(UserRow, Vec<AssignmentRow>)],
    late: &[IssueRecord],
    now: DateTime<Utc>,
) -> Result<Vec<Notice>> {
    let limits = crate::store::limits::load(tx)?;
    let mut out = Vec::new();
    for issue in late {
        let (Some(due), Some(cat), Some(sev)) = (
            issue.due_at,
            IssueCategory::from_code(&issue.category),
            Severity::from_code(&issue.severity),
        ) else {
            continue;
        };
        let ladder = limits.escalation(cat, sev);
        let after = |hours: u32| due + Duration::hours(i64::from(hours));
        let mut told: Vec<(&str, &UserRow)> = Vec::new();
        if fresh(due, now)
            && let Some(assignee) = issue.assignee_id
            && let Some((u, _)) = people.iter().find(|(u, _)| u.id == assignee)
        {
            told.push(("assignee", u));
        }
        if fresh(after(ladder.leader_after_hours), now) {
            told.extend(holding(people, Role::GridLeader, issue.grid_id).map(|u| ("leader", u)));
        }
        if fresh(after(ladder.office_after_hours), now) {
            told.extend(
                holding(people, Role::CommunityAdmin, issue.grid_id).map(|u| ("office", u)),
            );
        }
        let number = issue.number.clone().unwrap_or_default();
        for (rung, person) in told {
            out.push(Notice {
                // The due time is in the key: an issue reopened with a new limit climbs afresh.
                trigger_key: format!(
                    "overdue:{}:{}:{rung}:{}",
                    issue.id,
                    due.timestamp_millis(),
                    person.id
                ),
                recipient_id: person.id,
                address: person.phone.clone(),
                notice: "issue_overdue",
                params: vec![
                    param("number", &number),
                    param("title", &issue.title),
                    param("due", &china_time(due)),
                ],
                link: format!("/issue/{}", issue.id),
                urgent: false,
                grid_id: Some(issue.grid_id),
            });
        }
    }
    Ok(out)
}

/// Vulnerable households last visited two cadences ago or more.
fn unseen_households(tx: &mut dyn WriteTx, now: DateTime<Utc>) -> Result<Vec<HouseholdRecord>> {
    Ok(tx
        .late(
            Entity::Household,
            Some("vulnerable"),
            &[],
            now.timestamp_millis(),
        )?
        .iter()
        .filter_map(|d| serde_json::from_str::<HouseholdRecord>(d).ok())
        .filter(|h| cadences_unseen(h, now) >= 2)
        .collect())
}

/// Whole cadences since a household's last visit (0 if never visited: not an alarm).
fn cadences_unseen(h: &HouseholdRecord, now: DateTime<Utc>) -> i64 {
    let cadence = i64::from(h.visit_cadence_days.max(1));
    h.last_visit_at
        .map_or(0, |v| (now - v).num_days().max(0) / cadence)
}

/// Each unseen household to its grid's workers, and at three cadences to its leaders.
pub fn unseen(
    people: &[(UserRow, Vec<AssignmentRow>)],
    households: &[HouseholdRecord],
    now: DateTime<Utc>,
) -> Vec<Notice> {
    let mut out = Vec::new();
    for h in households {
        let Some(last) = h.last_visit_at else {
            continue;
        };
        let cadence = Duration::days(i64::from(h.visit_cadence_days.max(1)));
        let mut told: Vec<(&str, &UserRow)> = Vec::new();
        if fresh(last + cadence * 2, now) {
            told.extend(holding(people, Role::GridWorker, h.grid_id).map(|u| ("worker", u)));
        }
        if fresh(last + cadence * 3, now) {
            told.extend(holding(people, Role::GridLeader, h.grid_id).map(|u| ("leader", u)));
        }
        let days = (now - last).num_days().to_string();
        for (rung, person) in told {
            out.push(Notice {
                // A new visit moves `last`: the next time it goes unseen is a new alarm.
                trigger_key: format!(
                    "unseen:{}:{}:{rung}:{}",
                    h.id,
                    last.timestamp_millis(),
                    person.id
                ),
                recipient_id: person.id,
                address: person.phone.clone(),
                notice: "household_unseen",
                params: vec![param("address", &h.address), param("days", &days)],
                link: format!("/household/{}", h.id),
                urgent: false,
                grid_id: Some(h.grid_id),
            });
        }
    }
    out
}

/// Each grid leader's digest for today, from [`DIGEST_HOUR`], when something waits.
pub fn digest(
    people: &[(UserRow, Vec<AssignmentRow>)],
    late: &[IssueRecord],
    unseen: &[HouseholdRecord],
    now: DateTime<Utc>,
) -> Vec<Notice> {
    let local = now.with_timezone(&china());
    if local.hour() < DIGEST_HOUR {
        return Vec::new();
    }
    let mut late_per_grid: BTreeMap<Uuid, usize> = BTreeMap::new();
    for i in late {
        *late_per_grid.entry(i.grid_id).or_default() += 1;
    }
    let mut unseen_per_grid: BTreeMap<Uuid, usize> = BTreeMap::new();
    for h in unseen {
        *unseen_per_grid.entry(h.grid_id).or_default() += 1;
    }
    let day = local.format("%Y-%m-%d").to_string();
    let mut out = Vec::new();
    for (leader, assignments) in people {
        let grids: Vec<Uuid> = assignments
            .iter()
            .filter(|a| a.role == Role::GridLeader)
            .filter_map(|a| a.grid_id)
            .collect();
        if grids.is_empty() {
            continue;
        }
        let count =
            |m: &BTreeMap<Uuid, usize>| grids.iter().filter_map(|g| m.get(g)).sum::<usize>();
        let (late, unseen) = (count(&late_per_grid), count(&unseen_per_grid));
        if late + unseen == 0 {
            continue;
        }
        out.push(Notice {
            trigger_key: format!("digest:{}:{day}", leader.id),
            recipient_id: leader.id,
            address: leader.phone.clone(),
            notice: "leader_digest",
            params: vec![
                param("date", &local.format("%m月%d日").to_string()),
                param("overdue", &late.to_string()),
                param("unseen", &unseen.to_string()),
            ],
            link: "/".into(),
            urgent: false,
            // A leader of several grids gets one digest: it is filed under their first.
            grid_id: grids.first().copied(),
        });
    }
    out
}
