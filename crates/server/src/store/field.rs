//! What the office reads of the field's own work, beside the board: the patrols (巡查) its
//! workers walked, with their tracks and what they found, and the party members' public
//! promises (承诺践诺) with their progress. Read models only: what the console's 巡查与承诺 pages
//! show and the JSON API returns; nothing here writes.

use super::office::{Names, Period, PlaceMap, grids_for, records};
use super::{Principal, ReadTx, Result};
use chrono::{DateTime, Utc};
use gridmate_protocol::Entity;
use gridmate_protocol::records::*;
use serde::Serialize;
use std::collections::BTreeMap;
use uuid::Uuid;

/// One patrol as the list shows it (its track is the detail's).
#[derive(Clone, Debug, Serialize)]
pub struct PatrolRow {
    pub id: Uuid,
    pub grid_id: Uuid,
    pub grid_name: String,
    pub user_id: Uuid,
    pub person_name: String,
    pub started_at: DateTime<Utc>,
    pub ended_at: DateTime<Utc>,
    pub minutes: i64,
    pub distance_m: f64,
    /// Issues reported on the way.
    pub issues: usize,
    pub notes: String,
}

/// One person's patrols of the period, added up.
#[derive(Clone, Debug, Default, Serialize)]
pub struct PatrolTally {
    pub user_id: Uuid,
    pub person_name: String,
    pub patrols: usize,
    pub minutes: i64,
    pub distance_m: f64,
    pub issues: usize,
}

/// The patrols of a period, newest first, and each person's tally (most patrols first).
#[derive(Clone, Debug, Serialize)]
pub struct Patrols {
    pub period: Period,
    pub rows: Vec<PatrolRow>,
    pub people: Vec<PatrolTally>,
}

fn row(p: PatrolRecord, names: &Names) -> PatrolRow {
    PatrolRow {
        id: p.id,
        grid_id: p.grid_id,
        grid_name: names.grid(p.grid_id),
        user_id: p.user_id,
        person_name: names.person(Some(p.user_id)).unwrap_or_default(),
        started_at: p.started_at,
        ended_at: p.ended_at,
        minutes: (p.ended_at - p.started_at).num_minutes().max(0),
        distance_m: p.distance_m,
        issues: p.issues.len(),
        notes: p.notes,
    }
}

pub fn patrols(
    tx: &mut dyn ReadTx,
    p: &Principal,
    grid: Option<Uuid>,
    period: Period,
) -> Result<Patrols> {
    let grids = grids_for(p, grid)?;
    let names = Names::load(tx, p)?;
    let mut rows: Vec<PatrolRow> = records::<PatrolRecord>(tx, Entity::Patrol, &grids)?
        .into_iter()
        .filter(|r| period.holds(r.started_at))
        .map(|r| row(r, &names))
        .collect();
    rows.sort_by(|a, b| b.started_at.cmp(&a.started_at).then(a.id.cmp(&b.id)));
    let mut tallies: BTreeMap<Uuid, PatrolTally> = BTreeMap::new();
    for r in &rows {
        let t = tallies.entry(r.user_id).or_insert_with(|| PatrolTally {
            user_id: r.user_id,
            person_name: r.person_name.clone(),
            ..PatrolTally::default()
        });
        t.patrols += 1;
        t.minutes += r.minutes;
        t.distance_m += r.distance_m;
        t.issues += r.issues;
    }
    let mut people: Vec<PatrolTally> = tallies.into_values().collect();
    people.sort_by(|a, b| {
        b.patrols
            .cmp(&a.patrols)
            .then(a.person_name.cmp(&b.person_name))
    });
    Ok(Patrols {
        period,
        rows,
        people,
    })
}

/// An issue found on a patrol, as its detail lists it.
#[derive(Clone, Debug, Serialize)]
pub struct FoundIssue {
    pub id: Uuid,
    pub number: Option<String>,
    pub title: String,
    pub status: String,
}

/// One patrol with its track drawn over its grid.
#[derive(Clone, Debug, Serialize)]
pub struct PatrolDetail {
    pub patrol: PatrolRow,
    /// `[lon, lat]`, WGS-84, as walked (simplified on the phone to at most 500 points).
    pub track: Vec<[f64; 2]>,
    pub place: PlaceMap,
    pub issues: Vec<FoundIssue>,
}

/// A patrol of the caller's grids; `None` for one they may not see or that does not exist.
pub fn patrol(tx: &mut dyn ReadTx, p: &Principal, id: Uuid) -> Result<Option<PatrolDetail>> {
    let Some(stored) = tx.record(Entity::Patrol, id)?.filter(|r| !r.deleted) else {
        return Ok(None);
    };
    if !stored.grid_id.is_some_and(|g| p.grids.contains(&g)) {
        return Ok(None);
    }
    let record: PatrolRecord = serde_json::from_value(stored.data)
        .map_err(|e| super::StoreError::Corrupt(e.to_string()))?;
    let names = Names::load(tx, p)?;
    let mut issues = Vec::new();
    for issue in &record.issues {
        if let Some(r) = tx.record(Entity::Issue, *issue)?.filter(|r| !r.deleted) {
            let i: IssueRecord = serde_json::from_value(r.data)
                .map_err(|e| super::StoreError::Corrupt(e.to_string()))?;
            issues.push(FoundIssue {
                id: i.id,
                number: i.number,
                title: i.title,
                status: i.status,
            });
        }
    }
    let place = PlaceMap::of_grid(tx, record.grid_id)?;
    let track = record.track.clone();
    Ok(Some(PatrolDetail {
        patrol: row(record, &names),
        track,
        place,
        issues,
    }))
}

/// A promise on the grid's public list.
#[derive(Clone, Debug, Serialize)]
pub struct CommitmentRow {
    #[serde(flatten)]
    pub commitment: CommitmentRecord,
    pub grid_name: String,
    /// When its last step was posted, if any.
    pub last_step_at: Option<DateTime<Utc>>,
}

/// The promises of a year in the caller's grids: under way first, then kept, then dropped; by
/// grid and member within each.
pub fn commitments(
    tx: &mut dyn ReadTx,
    p: &Principal,
    grid: Option<Uuid>,
    year: i32,
) -> Result<Vec<CommitmentRow>> {
    use gridmate_model::CommitmentStatus;
    let grids = grids_for(p, grid)?;
    let names = Names::load(tx, p)?;
    let mut last: BTreeMap<Uuid, DateTime<Utc>> = BTreeMap::new();
    for e in records::<CommitmentEventRecord>(tx, Entity::CommitmentEvent, &grids)? {
        let at = last.entry(e.commitment_id).or_insert(e.at);
        *at = (*at).max(e.at);
    }
    let mut rows: Vec<CommitmentRow> = records::<CommitmentRecord>(tx, Entity::Commitment, &grids)?
        .into_iter()
        .filter(|c| c.year == year)
        .map(|c| CommitmentRow {
            grid_name: names.grid(c.grid_id),
            last_step_at: last.get(&c.id).copied(),
            commitment: c,
        })
        .collect();
    let rank = |s: &str| match CommitmentStatus::from_code(s) {
        Some(CommitmentStatus::Promised) => 0,
        Some(CommitmentStatus::Fulfilled) => 1,
        _ => 2,
    };
    rows.sort_by(|a, b| {
        rank(&a.commitment.status)
            .cmp(&rank(&b.commitment.status))
            .then(a.grid_name.cmp(&b.grid_name))
            .then(a.commitment.user_name.cmp(&b.commitment.user_name))
            .then(a.commitment.id.cmp(&b.commitment.id))
    });
    Ok(rows)
}
