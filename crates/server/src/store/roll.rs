//! The community's roll (实有人口) as the office reads it: one household whole — its people,
//! its visits, its issues — and, per grid, who has not yet been visited this month (不落一户).
//! Finding a household is [`super::office::households`]'. Read models only: a correction goes
//! through the write path as a `household.patch`, as a phone's does.

use super::office::{HouseholdRow, Names, grids_for, records};
use super::{Principal, ReadTx, Result, StoreError};
use crate::store::facts::{due_this_month, next_visit_due, visited_this_month, vulnerable};
use chrono::{DateTime, Utc};
use gridmate_protocol::Entity;
use gridmate_protocol::records::*;
use serde::Serialize;
use uuid::Uuid;

/// A resident as the office's screens show them: the phone masked (the full number stays on
/// the record, for the worker who calls).
#[derive(Clone, Debug, Serialize)]
pub struct RollResident {
    pub id: Uuid,
    pub name: String,
    pub relation: String,
    pub birth_year: Option<u16>,
    pub phone_masked: Option<String>,
    pub id_number_masked: Option<String>,
    pub tags: Vec<String>,
    pub moved_out: bool,
}

impl From<ResidentRecord> for RollResident {
    fn from(r: ResidentRecord) -> Self {
        RollResident {
            phone_masked: r
                .phone_masked
                .or_else(|| r.phone.as_deref().map(gridmate_model::validate::mask_phone)),
            id: r.id,
            name: r.name,
            relation: r.relation,
            birth_year: r.birth_year,
            id_number_masked: r.id_number_masked,
            tags: r.tags,
            moved_out: r.moved_out,
        }
    }
}

/// A visit as the household's history lists it.
#[derive(Clone, Debug, Serialize)]
pub struct RollVisit {
    #[serde(flatten)]
    pub visit: VisitRecord,
    pub visitor_name: Option<String>,
}

/// One household whole.
#[derive(Clone, Debug, Serialize)]
pub struct HouseholdDetail {
    pub household: HouseholdRow,
    pub next_visit_due: Option<DateTime<Utc>>,
    pub residents: Vec<RollResident>,
    /// Newest first.
    pub visits: Vec<RollVisit>,
    /// Newest first.
    pub issues: Vec<IssueRecord>,
}

/// The household record alone, if it is in the caller's grids: what a correction compares with.
pub fn household_record(
    tx: &mut dyn ReadTx,
    p: &Principal,
    id: Uuid,
) -> Result<Option<HouseholdRecord>> {
    let Some(stored) = tx.record(Entity::Household, id)?.filter(|r| !r.deleted) else {
        return Ok(None);
    };
    if !stored.grid_id.is_some_and(|g| p.grids.contains(&g)) {
        return Ok(None);
    }
    serde_json::from_value(stored.data)
        .map(Some)
        .map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// A household of the caller's grids whole; `None` for one they may not see or that does not
/// exist.
pub fn household(
    tx: &mut dyn ReadTx,
    p: &Principal,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<Option<HouseholdDetail>> {
    let Some(h) = household_record(tx, p, id)? else {
        return Ok(None);
    };
    let grid = h.grid_id;
    let names = Names::load(tx, p)?;
    let residents = records::<ResidentRecord>(tx, Entity::Resident, &[grid])?
        .into_iter()
        .filter(|r| r.household_id == id)
        .map(RollResident::from)
        .collect();
    let mut visits: Vec<RollVisit> = records::<VisitRecord>(tx, Entity::Visit, &[grid])?
        .into_iter()
        .filter(|v| v.household_id == id)
        .map(|v| RollVisit {
            visitor_name: names.person(Some(v.visitor_id)),
            visit: v,
        })
        .collect();
    visits.sort_by_key(|v| std::cmp::Reverse(v.visit.started_at));
    let mut issues: Vec<IssueRecord> = records::<IssueRecord>(tx, Entity::Issue, &[grid])?
        .into_iter()
        .filter(|i| i.household_id == Some(id))
        .collect();
    issues.sort_by_key(|i| std::cmp::Reverse(i.reported_at));
    Ok(Some(HouseholdDetail {
        next_visit_due: next_visit_due(&h),
        household: HouseholdRow {
            grid_name: names.grid(h.grid_id),
            vulnerable: vulnerable(&h),
            visit_overdue: next_visit_due(&h).is_none_or(|due| due < now),
            household: h,
        },
        residents,
        visits,
        issues,
    }))
}

/// A grid's month so far: of the households on this month's list (visited since the first, or
/// due by their cadence before the month ends), how many were visited and how many not yet — the
/// vulnerable among them counted apart, as they come first.
#[derive(Clone, Debug, Serialize)]
pub struct MonthCoverage {
    pub grid_id: Uuid,
    pub grid_name: String,
    pub households: usize,
    pub due: usize,
    pub visited: usize,
    pub not_visited: usize,
    pub vulnerable_not_visited: usize,
}

/// This month's coverage of each of the caller's grids (or the one named), by grid name.
pub fn month_coverage(
    tx: &mut dyn ReadTx,
    p: &Principal,
    grid: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<Vec<MonthCoverage>> {
    let grids = grids_for(p, grid)?;
    let names = Names::load(tx, p)?;
    let mut out: Vec<MonthCoverage> = grids
        .iter()
        .map(|g| MonthCoverage {
            grid_id: *g,
            grid_name: names.grid(*g),
            households: 0,
            due: 0,
            visited: 0,
            not_visited: 0,
            vulnerable_not_visited: 0,
        })
        .collect();
    for h in records::<HouseholdRecord>(tx, Entity::Household, &grids)? {
        let Some(c) = out.iter_mut().find(|c| c.grid_id == h.grid_id) else {
            continue;
        };
        c.households += 1;
        if !due_this_month(&h, now) {
            continue;
        }
        c.due += 1;
        if visited_this_month(&h, now) {
            c.visited += 1;
        } else {
            c.not_visited += 1;
            if vulnerable(&h) {
                c.vulnerable_not_visited += 1;
            }
        }
    }
    out.sort_by(|a, b| a.grid_name.cmp(&b.grid_name));
    Ok(out)
}
