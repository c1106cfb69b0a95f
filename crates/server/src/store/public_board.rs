//! 公示: what the community shows everyone, signed in or not — each grid's workers and leader
//! with their work phone (网格员公示牌), and the month's handled problems (category, building,
//! days taken; never who reported them or what they wrote), with the month's counts and the
//! residents' ratings.
//!
//! Read from the facts of the month (the events that closed issues, the ratings), so a year of
//! records costs this page nothing more than its month.

use super::error::{Result, StoreError};
use super::rows::{AssignmentRow, UserRow};
use super::transaction::ReadTx;
use chrono::{DateTime, Utc};
use gridmate_model::calendar::month_start;
use gridmate_model::{IssueAction, Role};
use gridmate_protocol::Entity;
use gridmate_protocol::records::{BuildingRecord, GridRecord, IssueEventRecord, IssueRecord};
use std::collections::HashMap;
use uuid::Uuid;

/// What the board needs of a grid: not its boundary, the bulk of the record.
#[derive(serde::Deserialize)]
struct GridName {
    id: Uuid,
    code: String,
    name: String,
}

/// A person on a grid's sign: their role, name and work phone.
#[derive(Clone, Debug, PartialEq)]
pub struct OnDuty {
    pub role: Role,
    pub name: String,
    pub phone: String,
}

/// One problem handled this month, as the public sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct Handled {
    pub category: String,
    /// The building's number, when it was in a building.
    pub building: Option<String>,
    pub days: i64,
    pub closed_at: DateTime<Utc>,
    /// A resident reported it on the resident page.
    pub by_resident: bool,
}

/// One grid's part of the board.
#[derive(Clone, Debug, PartialEq)]
pub struct GridBoard {
    pub id: Uuid,
    pub name: String,
    pub on_duty: Vec<OnDuty>,
    /// Closed this month, newest first.
    pub handled: Vec<Handled>,
    /// Residents' ratings this month: satisfied (or mostly), and sent back.
    pub rated: u32,
    pub sent_back: u32,
}

/// Who serves `grid`, as its sign lists them: the leader first, then the workers by name.
fn on_duty(people: &[(UserRow, Vec<AssignmentRow>)], grid: Uuid) -> Vec<OnDuty> {
    let mut on_duty: Vec<OnDuty> = people
        .iter()
        .flat_map(|(u, assignments)| {
            assignments
                .iter()
                .filter(|a| {
                    a.grid_id == Some(grid) && matches!(a.role, Role::GridWorker | Role::GridLeader)
                })
                .map(|a| OnDuty {
                    role: a.role,
                    name: u.name.clone(),
                    phone: u.phone.clone(),
                })
        })
        .collect();
    on_duty.sort_by(|a, b| {
        (a.role != Role::GridLeader, &a.name).cmp(&(b.role != Role::GridLeader, &b.name))
    });
    on_duty
}

/// The board of every grid (or one), for the month `now` falls in.
pub fn read(tx: &mut dyn ReadTx, only: Option<Uuid>, now: DateTime<Utc>) -> Result<Vec<GridBoard>> {
    let corrupt = |e: serde_json::Error| StoreError::Corrupt(e.to_string());
    let mut grids: Vec<GridName> = tx
        .live_data(Entity::Grid)?
        .iter()
        .map(|d| serde_json::from_str(d))
        .collect::<std::result::Result<_, _>>()
        .map_err(corrupt)?;
    grids.retain(|g| only.is_none_or(|o| o == g.id));
    grids.sort_by(|a, b| a.code.cmp(&b.code));
    let ids: Vec<Uuid> = grids.iter().map(|g| g.id).collect();
    let people = tx.people()?;
    let buildings: HashMap<Uuid, String> = tx
        .live_in_grids(Entity::Building, &ids)?
        .iter()
        .map(|d| serde_json::from_str::<BuildingRecord>(d).map(|b| (b.id, b.number)))
        .collect::<std::result::Result<_, _>>()
        .map_err(corrupt)?;
    let from = month_start(now).timestamp_millis();
    let kinds = [
        IssueAction::Close.code(),
        IssueAction::Rate.code(),
        IssueAction::SendBack.code(),
    ];
    let events: Vec<IssueEventRecord> = tx
        .live_between_kinds(
            Entity::IssueEvent,
            &ids,
            &kinds,
            from,
            now.timestamp_millis() + 1,
        )?
        .iter()
        .map(|d| serde_json::from_str(d))
        .collect::<std::result::Result<_, _>>()
        .map_err(corrupt)?;
    let mut boards: HashMap<Uuid, GridBoard> = grids
        .iter()
        .map(|g| {
            let board = GridBoard {
                id: g.id,
                name: g.name.clone(),
                on_duty: on_duty(&people, g.id),
                handled: Vec::new(),
                rated: 0,
                sent_back: 0,
            };
            (g.id, board)
        })
        .collect();
    for e in events {
        let Some(action) = IssueAction::from_code(&e.action) else {
            continue;
        };
        if !matches!(
            action,
            IssueAction::Close | IssueAction::Rate | IssueAction::SendBack
        ) {
            continue;
        }
        let Some(stored) = tx.record(Entity::Issue, e.issue_id)?.filter(|r| !r.deleted) else {
            continue;
        };
        let issue: IssueRecord = serde_json::from_value(stored.data).map_err(corrupt)?;
        let Some(board) = boards.get_mut(&issue.grid_id) else {
            continue;
        };
        match action {
            IssueAction::Rate => board.rated += 1,
            IssueAction::SendBack => board.sent_back += 1,
            _ => board.handled.push(Handled {
                category: issue.category.clone(),
                building: issue.building_id.and_then(|b| buildings.get(&b).cloned()),
                days: (e.at - issue.reported_at).num_days().max(0),
                closed_at: e.at,
                by_resident: issue.source == gridmate_model::IssueSource::Resident.code(),
            }),
        }
    }
    Ok(grids
        .iter()
        .filter_map(|g| boards.remove(&g.id))
        .map(|mut b| {
            b.handled.sort_by_key(|h| std::cmp::Reverse(h.closed_at));
            b
        })
        .collect())
}

/// One building's poster: where the QR code hangs and who answers for it.
#[derive(Clone, Debug, PartialEq)]
pub struct Poster {
    pub building: Uuid,
    pub number: String,
    pub estate: String,
    pub grid_id: Uuid,
    pub grid_name: String,
    pub community: String,
    pub on_duty: Vec<OnDuty>,
}

/// A poster for every building of these grids, by grid then building number.
pub fn posters(tx: &mut dyn ReadTx, grids: &[Uuid]) -> Result<Vec<Poster>> {
    let corrupt = |e: serde_json::Error| StoreError::Corrupt(e.to_string());
    let people = tx.people()?;
    let mut records = Vec::new();
    for id in grids {
        if let Some(r) = tx.record(Entity::Grid, *id)?.filter(|r| !r.deleted) {
            records.push(serde_json::from_value::<GridRecord>(r.data).map_err(corrupt)?);
        }
    }
    records.sort_by(|a, b| a.code.cmp(&b.code));
    let mut out = Vec::new();
    for g in records {
        let on_duty = on_duty(&people, g.id);
        let mut buildings: Vec<BuildingRecord> = tx
            .live_in_grids(Entity::Building, &[g.id])?
            .iter()
            .map(|d| serde_json::from_str(d))
            .collect::<std::result::Result<_, _>>()
            .map_err(corrupt)?;
        // 2栋 before 10栋: by the number's digits first.
        buildings.sort_by_key(|b| {
            (
                b.number
                    .chars()
                    .filter(char::is_ascii_digit)
                    .collect::<String>()
                    .parse::<u32>()
                    .unwrap_or(u32::MAX),
                b.number.clone(),
            )
        });
        out.extend(buildings.into_iter().map(|b| Poster {
            building: b.id,
            number: b.number,
            estate: b.estate,
            grid_id: g.id,
            grid_name: g.name.clone(),
            community: g.community_name.clone(),
            on_duty: on_duty.clone(),
        }));
    }
    Ok(out)
}

/// Where a poster hangs, as its QR code names it: the building and its grid, if it exists.
pub fn where_scanned(tx: &mut dyn ReadTx, building: Uuid) -> Result<Option<Poster>> {
    let corrupt = |e: serde_json::Error| StoreError::Corrupt(e.to_string());
    let Some(b) = tx
        .record(Entity::Building, building)?
        .filter(|r| !r.deleted)
    else {
        return Ok(None);
    };
    let b: BuildingRecord = serde_json::from_value(b.data).map_err(corrupt)?;
    let Some(g) = tx.record(Entity::Grid, b.grid_id)?.filter(|r| !r.deleted) else {
        return Ok(None);
    };
    let g: GridRecord = serde_json::from_value(g.data).map_err(corrupt)?;
    Ok(Some(Poster {
        building: b.id,
        number: b.number,
        estate: b.estate,
        grid_id: g.id,
        grid_name: g.name,
        community: g.community_name,
        on_duty: Vec::new(),
    }))
}
