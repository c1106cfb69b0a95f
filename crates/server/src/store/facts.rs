//! Facts: the few columns of a record the office counts by, kept beside the record log.
//!
//! A year of a 20-grid community is 100,000 visits. Statistics recomputed from the records' JSON
//! read and parse all of them on every request (~700 ms of parsing alone); the same counts from
//! narrow, indexed columns take a few milliseconds. So every change the log writes
//! ([`super::log::put_over`], [`super::log::remove`]) also writes the record's [`Fact`] in the
//! same transaction — or removes it — and the office groups and counts facts ([`ReadTx::tally`])
//! instead of parsing records. A fact is derived from the record by [`of`], here, once for both
//! backends; they only store and group rows.
//!
//! Facts are a cache of the records, never a source: [`ensure`] rebuilds them all when
//! [`VERSION`] changes (a new column, a new rule) or on a database from before they existed.
//!
//! What a fact holds, per entity (`at` is when it counts, `until` when it becomes late):
//!
//! | entity | building | subject | actor | kind | status | at | until | amount | seen |
//! |---|---|---|---|---|---|---|---|---|---|
//! | household | its building | – | – | `vulnerable` or – | – | 0 | next visit due | – | last visit |
//! | visit | the household's | household | visitor | – | – | started | – | – | – |
//! | issue | – | – | reporter | category | status | reported | due | – | – |
//! | issue_event | – | – | actor | action | `merged` or – | at | – | – | – |
//! | order | – | – | – | satisfaction | status | recorded | due | – | – |
//! | order_event | – | – | actor | action | `merged` or – | at | – | – | – |
//! | service_record | – | – | member | – | – | at | – | hours | – |
//! | checkin | – | – | member | – | – | at | – | – | – |
//!
//! **A year at a street's size** is a million visit facts; grouping them per household to tell
//! who was visited took 0.76 s. Two summaries make it a read of the households instead: each
//! household's fact is *seen* at its last visit (which only moves forward, see `apply`), so
//! "visited since the period began" is a count of households for any period reaching today; and
//! the visits per grid, person and month ([`VisitMonth`]) are kept beside the facts, changed by
//! the same write, so a period's visit counts are its whole months' rows plus the facts of the
//! days at its edges.
//!
//! [`ReadTx::tally`]: super::ReadTx::tally

pub use super::rows::{Fact, Tally, TallyQuery, VisitMonth};
use super::{Result, StoredRecord, WriteTx};
use chrono::{DateTime, Duration, Utc};
use gridmate_protocol::Entity;
use gridmate_protocol::records::*;
use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

/// The version of [`of`]'s rules: facts built under another are rebuilt at open.
pub const VERSION: &str = "2";

/// The meta key holding the version the stored facts were built under.
const BUILT: &str = "facts_version";

/// The entities that have facts.
pub const COUNTED: [Entity; 8] = [
    Entity::Household,
    Entity::Visit,
    Entity::Issue,
    Entity::IssueEvent,
    Entity::Order,
    Entity::OrderEvent,
    Entity::ServiceRecord,
    Entity::Checkin,
];

/// Whether a household is one the office watches: a tag the model calls vulnerable.
pub fn vulnerable(h: &HouseholdRecord) -> bool {
    h.tags
        .iter()
        .any(|t| gridmate_model::HouseholdTag::from_code(t).is_some_and(|t| t.is_vulnerable()))
}

/// Whether a household is on this month's list (本月应访, `now` in the month): visited since the
/// first, or due by its cadence before the month ends (or never visited).
pub fn due_this_month(h: &HouseholdRecord, now: DateTime<Utc>) -> bool {
    let month_end = gridmate_model::calendar::next_month_start(now);
    visited_this_month(h, now) || next_visit_due(h).is_none_or(|due| due < month_end)
}

/// Whether a household was visited since the first of the month `now` falls in (China time).
pub fn visited_this_month(h: &HouseholdRecord, now: DateTime<Utc>) -> bool {
    h.last_visit_at
        .is_some_and(|v| v >= gridmate_model::calendar::month_start(now))
}

/// When a household's next visit is due by its cadence; `None` if it was never visited (due
/// now).
pub fn next_visit_due(h: &HouseholdRecord) -> Option<DateTime<Utc>> {
    h.last_visit_at
        .map(|v| v + Duration::days(i64::from(h.visit_cadence_days)))
}

fn typed<T: for<'de> Deserialize<'de>>(data: &Value) -> Option<T> {
    T::deserialize(data).ok()
}

fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

/// An issue's or an order's event: who took which action when, and whether it was only kept
/// as a comment (merged) rather than applied.
fn step(
    base: Fact,
    actor: Uuid,
    action: String,
    merged_reason: &Option<String>,
    at: DateTime<Utc>,
) -> Fact {
    Fact {
        actor_id: Some(actor),
        status: merged_reason.as_ref().map(|_| "merged".to_string()),
        kind: Some(action),
        at_ms: ms(at),
        ..base
    }
}

/// The fact of a live record placed in `grid` (and `building`), or `None` when the entity is
/// not counted, the record is not in a grid, or its data is not the entity's shape (the log
/// stores it anyway; it is just not counted).
pub fn of(
    entity: Entity,
    grid: Option<Uuid>,
    building: Option<Uuid>,
    data: &Value,
) -> Option<Fact> {
    let grid_id = grid?;
    let base = Fact {
        grid_id,
        ..Fact::default()
    };
    Some(match entity {
        Entity::Household => {
            let h: HouseholdRecord = typed(data)?;
            Fact {
                building_id: Some(h.building_id),
                kind: vulnerable(&h).then(|| "vulnerable".to_string()),
                // Never visited: due since the beginning of time.
                until_ms: Some(next_visit_due(&h).map_or(i64::MIN, ms)),
                seen_ms: h.last_visit_at.map(ms),
                ..base
            }
        }
        Entity::Visit => {
            let v: VisitRecord = typed(data)?;
            Fact {
                building_id: building,
                subject_id: Some(v.household_id),
                actor_id: Some(v.visitor_id),
                at_ms: ms(v.started_at),
                ..base
            }
        }
        Entity::Issue => {
            let i: IssueRecord = typed(data)?;
            Fact {
                actor_id: Some(i.reported_by),
                kind: Some(i.category),
                status: Some(i.status),
                at_ms: ms(i.reported_at),
                until_ms: i.due_at.map(ms),
                ..base
            }
        }
        Entity::IssueEvent => {
            let e: IssueEventRecord = typed(data)?;
            step(base, e.actor_id, e.action, &e.merged_reason, e.at)
        }
        Entity::Order => {
            let o: OrderRecord = typed(data)?;
            Fact {
                kind: o.satisfaction,
                status: Some(o.status),
                at_ms: ms(o.recorded_at),
                until_ms: Some(ms(o.due_at)),
                ..base
            }
        }
        Entity::OrderEvent => {
            let e: OrderEventRecord = typed(data)?;
            step(base, e.actor_id, e.action, &e.merged_reason, e.at)
        }
        Entity::ServiceRecord => {
            let s: ServiceRecordRecord = typed(data)?;
            Fact {
                actor_id: Some(s.user_id),
                at_ms: ms(s.at),
                amount: s.hours,
                ..base
            }
        }
        Entity::Checkin => {
            let c: CheckinRecord = typed(data)?;
            Fact {
                actor_id: Some(c.user_id),
                at_ms: ms(c.at),
                ..base
            }
        }
        _ => return None,
    })
}

/// Write the fact of a record just written to the log (`data` = `None`: it was removed), and
/// move its visit between the month counts when it is a visit. `old` is the version it
/// replaced, if any.
pub fn record_changed(
    tx: &mut dyn WriteTx,
    entity: Entity,
    id: Uuid,
    old: Option<&StoredRecord>,
    grid: Option<Uuid>,
    building: Option<Uuid>,
    data: Option<&Value>,
) -> Result<()> {
    if !COUNTED.contains(&entity) {
        return Ok(());
    }
    let fact = data.and_then(|d| of(entity, grid, building, d));
    if entity == Entity::Visit {
        let before = old
            .filter(|o| !o.deleted)
            .and_then(|o| of(entity, o.grid_id, o.building_id, &o.data));
        let (gone, came) = (
            before.as_ref().and_then(month_of),
            fact.as_ref().and_then(month_of),
        );
        if gone != came {
            if let Some(m) = gone {
                tx.count_visits(&VisitMonth { visits: -1, ..m })?;
            }
            if let Some(m) = came {
                tx.count_visits(&m)?;
            }
        }
    }
    tx.set_fact(entity, id, fact.as_ref())
}

/// The month count one visit's fact adds to (one visit).
fn month_of(f: &Fact) -> Option<VisitMonth> {
    let at = DateTime::<Utc>::from_timestamp_millis(f.at_ms)?;
    Some(VisitMonth {
        grid_id: f.grid_id,
        actor_id: f.actor_id?,
        month_ms: ms(gridmate_model::calendar::month_start(at)),
        visits: 1,
    })
}

/// How many live records one rebuild step reads at a time.
const REBUILD_PAGE: u32 = 5_000;

/// Build every fact afresh if the stored ones are from another [`VERSION`] (or none). Returns
/// how many facts were written; 0 when they were current.
pub fn ensure(tx: &mut dyn WriteTx) -> Result<usize> {
    if tx.meta(BUILT)?.as_deref() == Some(VERSION) {
        return Ok(0);
    }
    rebuild(tx)
}

/// Drop every fact (and month count) and derive them again from the live records. Returns how many were written.
pub fn rebuild(tx: &mut dyn WriteTx) -> Result<usize> {
    tx.clear_facts()?;
    let mut written = 0;
    let mut months: std::collections::BTreeMap<(Uuid, Uuid, i64), i64> = Default::default();
    for entity in COUNTED {
        let mut after = 0;
        loop {
            let page = tx.live_page(entity, after, REBUILD_PAGE)?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            for row in &page {
                let data: Value = serde_json::from_str(&row.data)
                    .map_err(|e| super::StoreError::Corrupt(e.to_string()))?;
                if let Some(f) = of(entity, row.grid_id, row.building_id, &data) {
                    if entity == Entity::Visit
                        && let Some(m) = month_of(&f)
                    {
                        *months
                            .entry((m.grid_id, m.actor_id, m.month_ms))
                            .or_default() += 1;
                    }
                    tx.set_fact(entity, row.id, Some(&f))?;
                    written += 1;
                }
            }
        }
    }
    for ((grid_id, actor_id, month_ms), visits) in months {
        tx.count_visits(&VisitMonth {
            grid_id,
            actor_id,
            month_ms,
            visits,
        })?;
    }
    tx.set_meta(BUILT, VERSION)?;
    Ok(written)
}
