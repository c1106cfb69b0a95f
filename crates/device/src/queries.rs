//! The typed reads the screens call. Every list is bounded and served by an index; nothing here
//! writes.

use crate::columns::split_codes;
use crate::store::{Store, state_get};
use crate::time::{DAY_MS, from_ms, ms};
use crate::{DeviceError, Result};
use chrono::{DateTime, Utc};
use gridmate_model::calendar::{month_start, next_month_start};
use gridmate_model::*;
use gridmate_protocol::records::{MultiPolygonCoords, boundary_to_geo};
use rusqlite::{OptionalExtension, Row, params};

fn tags(s: &str) -> Vec<HouseholdTag> {
    split_codes(s).filter_map(HouseholdTag::from_code).collect()
}

pub(crate) fn photos(s: &str) -> Vec<PhotoRef> {
    split_codes(s).filter_map(PhotoRef::parse).collect()
}

#[derive(Clone, Debug, PartialEq)]
pub struct GridSummary {
    pub grid: Grid,
    pub buildings: u32,
    pub households: u32,
    pub residents: u32,
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct SyncStatus {
    /// Mutations not yet acknowledged by the server.
    pub pending: u32,
    /// Mutations the server rejected: kept, shown with the reason.
    pub failed: u32,
    /// Mutations the server merged (e.g. kept as a comment): shown once to the user.
    pub merged: u32,
    pub last_sync_at: Option<DateTime<Utc>>,
    pub last_error: Option<crate::sync::SyncProblem>,
}

/// What the home screen shows for the signed-in user.
#[derive(Clone, Debug, PartialEq)]
pub struct HomeSummary {
    pub user_name: String,
    pub roles: Vec<Role>,
    pub grids: Vec<GridSummary>,
    pub households: u32,
    pub visited_this_month: u32,
    /// This month's list (本月应访): households visited since the first, or due by their cadence
    /// before the month ends (or never visited). The month's progress is `visited / due`.
    pub due_this_month: u32,
    pub due_visits: u32,
    pub open_issues: Vec<(IssueStatus, u32)>,
    pub sync: SyncStatus,
}

#[derive(Clone, Debug, PartialEq)]
pub struct BuildingRow {
    pub building: Building,
    pub households: u32,
    pub visited_this_month: u32,
}

#[derive(Clone, Debug, PartialEq)]
pub struct HouseholdRow {
    pub id: HouseholdId,
    pub building_number: String,
    pub unit: u16,
    pub room: String,
    pub head_name: String,
    pub tags: Vec<HouseholdTag>,
    pub last_visit_at: Option<DateTime<Utc>>,
    /// Past its visit cadence (or never visited) at the time asked.
    pub due: bool,
}

impl HouseholdRow {
    /// "12-2-301"
    pub fn short_address(&self) -> String {
        format!("{}-{}-{}", self.building_number, self.unit, self.room)
    }

    pub fn is_vulnerable(&self) -> bool {
        self.tags.iter().any(|t| t.is_vulnerable())
    }
}

/// A resident as lists show them: phone and ID number masked.
#[derive(Clone, Debug, PartialEq)]
pub struct ResidentRow {
    pub id: ResidentId,
    pub name: String,
    pub relation: String,
    pub birth_year: Option<u16>,
    pub phone_masked: Option<String>,
    pub id_number_masked: Option<String>,
    pub tags: Vec<HouseholdTag>,
    /// Whether this device holds the full number (so a "call" button can be offered).
    pub can_call: bool,
    pub moved_out: bool,
    /// A change to this person typed here and not yet accepted by the server.
    pub pending: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct VisitRow {
    pub id: VisitId,
    pub started_at: DateTime<Utc>,
    pub kind: VisitKind,
    pub outcome: VisitOutcome,
    pub notes: String,
    pub photos: Vec<PhotoRef>,
    /// Still in the outbox: not yet on the server.
    pub pending: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct IssueRow {
    pub id: IssueId,
    pub grid_id: GridId,
    pub building_id: Option<BuildingId>,
    pub household_id: Option<HouseholdId>,
    pub category: IssueCategory,
    pub severity: Severity,
    pub status: IssueStatus,
    pub title: String,
    pub reported_by: UserId,
    pub reported_at: DateTime<Utc>,
    pub location: Option<(f64, f64)>,
    /// When it should be closed by; overdue when past.
    pub due_at: Option<DateTime<Utc>>,
    pub assignee: Option<UserId>,
    /// The office's number (2026-000123); `None` until the server has it.
    pub number: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct HouseholdDetail {
    pub household: Household,
    /// A correction of the household typed here and not yet accepted by the server.
    pub pending: bool,
    pub building_number: String,
    pub estate: String,
    pub residents: Vec<ResidentRow>,
    pub visits: Vec<VisitRow>,
    pub issues: Vec<IssueRow>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct DueVisit {
    pub household: HouseholdRow,
    /// Days past the cadence; `None` when the household was never visited.
    pub days_overdue: Option<i64>,
}

/// "不落一户": how many of a grid's households were visited in a period, and which were not.
#[derive(Clone, Debug, PartialEq)]
pub struct Coverage {
    pub households: u32,
    pub visited: u32,
    pub unvisited: Vec<HouseholdRow>,
}

impl Coverage {
    pub fn ratio(&self) -> f64 {
        if self.households == 0 {
            1.0
        } else {
            f64::from(self.visited) / f64::from(self.households)
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct IssueFilter {
    pub grid_id: Option<GridId>,
    /// Empty: every open status.
    pub statuses: Vec<IssueStatus>,
    pub category: Option<IssueCategory>,
    pub reported_by: Option<UserId>,
    pub building_id: Option<BuildingId>,
    pub limit: usize,
}

const HOUSEHOLD_ROW: &str =
    "h.id, b.number, h.unit, h.room, h.head_name, h.tags, h.last_visit_at, h.due_at";

fn household_row(r: &Row<'_>, as_of_ms: i64) -> rusqlite::Result<HouseholdRow> {
    let tags_text: String = r.get(5)?;
    let due_at: i64 = r.get(7)?;
    Ok(HouseholdRow {
        id: HouseholdId(r.get(0)?),
        building_number: r.get(1)?,
        unit: r.get(2)?,
        room: r.get(3)?,
        head_name: r.get(4)?,
        tags: tags(&tags_text),
        last_visit_at: r.get::<_, Option<i64>>(6)?.map(from_ms),
        due: due_at <= as_of_ms,
    })
}

pub(crate) const ISSUE_ROW: &str =
    "id, grid_id, building_id, household_id, category, severity, status, title,
     reported_by, reported_at, lat, lon, due_at, assignee, number";

/// How many columns [`ISSUE_ROW`] selects: a query adding its own reads them from here on.
pub(crate) const ISSUE_ROW_LEN: usize = 15;

pub(crate) fn issue_row(r: &Row<'_>) -> rusqlite::Result<IssueRow> {
    let code = |i: usize| r.get::<_, String>(i);
    let lat: Option<f64> = r.get(10)?;
    let lon: Option<f64> = r.get(11)?;
    Ok(IssueRow {
        id: IssueId(r.get(0)?),
        grid_id: GridId(r.get(1)?),
        building_id: r.get::<_, Option<uuid::Uuid>>(2)?.map(BuildingId),
        household_id: r.get::<_, Option<uuid::Uuid>>(3)?.map(HouseholdId),
        category: IssueCategory::from_code(&code(4)?).unwrap_or(IssueCategory::Other),
        severity: Severity::from_code(&code(5)?).unwrap_or(Severity::Low),
        status: IssueStatus::from_code(&code(6)?).unwrap_or(IssueStatus::Reported),
        title: r.get(7)?,
        reported_by: UserId(r.get(8)?),
        reported_at: from_ms(r.get(9)?),
        location: lat.zip(lon),
        due_at: r.get::<_, Option<i64>>(12)?.map(from_ms),
        assignee: r.get::<_, Option<uuid::Uuid>>(13)?.map(UserId),
        number: r.get(14)?,
    })
}

impl Store {
    pub fn grid(&self, id: GridId) -> Result<Grid> {
        let row = self
            .conn
            .query_row(
                "SELECT community_id, code, name, kind, boundary FROM grids WHERE id = ?1",
                [id.0],
                |r| {
                    Ok((
                        r.get::<_, uuid::Uuid>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, String>(4)?,
                    ))
                },
            )
            .optional()?
            .ok_or_else(|| DeviceError::not_found("grid", id))?;
        let (community, code, name, kind, boundary) = row;
        let coords: MultiPolygonCoords = serde_json::from_str(&boundary)
            .map_err(|e| DeviceError::Corrupt(format!("grid boundary: {e}")))?;
        Ok(Grid {
            id,
            community_id: CommunityId(community),
            code,
            name,
            kind: GridKind::from_code(&kind).unwrap_or(GridKind::Resident),
            boundary: boundary_to_geo(&coords).map_err(DeviceError::Corrupt)?,
        })
    }

    /// The cached grids: the user's own first, then by code.
    pub fn grids(&self) -> Result<Vec<GridSummary>> {
        let mine = self.session()?.map(|s| s.grid_ids()).unwrap_or_default();
        let ids: Vec<uuid::Uuid> = self
            .conn
            .prepare_cached("SELECT id FROM grids ORDER BY code")?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let grid = self.grid(GridId(id))?;
            let (buildings, households, residents) = self.conn.query_row(
                "SELECT (SELECT COUNT(*) FROM buildings WHERE grid_id = ?1),
                        (SELECT COUNT(*) FROM households WHERE grid_id = ?1),
                        (SELECT COUNT(*) FROM residents r JOIN households h ON h.id = r.household_id
                          WHERE h.grid_id = ?1)",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )?;
            out.push(GridSummary {
                grid,
                buildings,
                households,
                residents,
            });
        }
        out.sort_by_key(|g| !mine.contains(&g.grid.id));
        Ok(out)
    }

    /// Everything the home screen shows, at `as_of`.
    pub fn home(&self, as_of: DateTime<Utc>) -> Result<HomeSummary> {
        let session = self.require_session()?;
        let grids: Vec<GridSummary> = {
            let mine = session.grid_ids();
            let all = self.grids()?;
            let own: Vec<GridSummary> = all
                .iter()
                .filter(|g| mine.contains(&g.grid.id))
                .cloned()
                .collect();
            if own.is_empty() { all } else { own }
        };
        let mut households = 0;
        let mut visited = 0;
        let mut month_due = 0;
        let mut due = 0;
        let mut open: Vec<(IssueStatus, u32)> = Vec::new();
        for g in &grids {
            households += g.households;
            // One pass over the grid's households: seen this month, and on this month's list
            // (seen, or due by the cadence before the month ends).
            let (seen, listed) = self.conn.query_row(
                "SELECT COALESCE(SUM(seen), 0), COALESCE(SUM(seen OR due_at < ?4), 0) FROM (
                     SELECT h.due_at, EXISTS (SELECT 1 FROM visits v WHERE v.household_id = h.id
                                AND v.started_at >= ?2 AND v.started_at < ?3) AS seen
                       FROM households h WHERE h.grid_id = ?1)",
                params![
                    g.grid.id.0,
                    ms(month_start(as_of)),
                    ms(as_of),
                    ms(next_month_start(as_of))
                ],
                |r| Ok((r.get::<_, u32>(0)?, r.get::<_, u32>(1)?)),
            )?;
            visited += seen;
            month_due += listed;
            due += self.conn.query_row(
                "SELECT COUNT(*) FROM households WHERE grid_id = ?1 AND vulnerable = 1 AND due_at <= ?2",
                params![g.grid.id.0, ms(as_of)],
                |r| r.get::<_, u32>(0),
            )?;
            for (status, n) in self.open_issue_counts(Some(g.grid.id))? {
                match open.iter_mut().find(|(s, _)| *s == status) {
                    Some((_, total)) => *total += n,
                    None => open.push((status, n)),
                }
            }
        }
        open.sort_by_key(|(s, _)| *s);
        Ok(HomeSummary {
            user_name: session.user.name.clone(),
            roles: session.user.roles.clone(),
            grids,
            households,
            visited_this_month: visited,
            due_this_month: month_due,
            due_visits: due,
            open_issues: open,
            sync: self.sync_status()?,
        })
    }

    fn visited_count(&self, grid: GridId, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<u32> {
        Ok(self.conn.query_row(
            "SELECT COUNT(*) FROM households h WHERE h.grid_id = ?1 AND EXISTS (
                 SELECT 1 FROM visits v WHERE v.household_id = h.id
                    AND v.started_at >= ?2 AND v.started_at < ?3)",
            params![grid.0, ms(from), ms(to)],
            |r| r.get(0),
        )?)
    }

    /// A grid's buildings with their household count and how many were visited this month.
    pub fn buildings(&self, grid: GridId, as_of: DateTime<Utc>) -> Result<Vec<BuildingRow>> {
        let mut st = self.conn.prepare_cached(
            "SELECT b.id, b.number, b.estate, b.units, b.floors, b.lat, b.lon,
                    COUNT(h.id),
                    COUNT(h.id) FILTER (WHERE h.last_visit_at >= ?2)
               FROM buildings b LEFT JOIN households h ON h.building_id = b.id
              WHERE b.grid_id = ?1
              GROUP BY b.id
              ORDER BY CAST(b.number AS INTEGER), b.number",
        )?;
        let rows = st.query_map(params![grid.0, ms(month_start(as_of))], |r| {
            Ok(BuildingRow {
                building: Building {
                    id: BuildingId(r.get(0)?),
                    grid_id: grid,
                    number: r.get(1)?,
                    estate: r.get(2)?,
                    units: r.get(3)?,
                    floors: r.get(4)?,
                    lat: r.get(5)?,
                    lon: r.get(6)?,
                },
                households: r.get(7)?,
                visited_this_month: r.get(8)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Households of a building (optionally one unit), by unit and room, with visit status.
    pub fn households(
        &self,
        building: BuildingId,
        unit: Option<u16>,
        as_of: DateTime<Utc>,
    ) -> Result<Vec<HouseholdRow>> {
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {HOUSEHOLD_ROW} FROM households h JOIN buildings b ON b.id = h.building_id
              WHERE h.building_id = ?1 AND (?2 IS NULL OR h.unit = ?2)
              ORDER BY h.unit, length(h.room), h.room"
        ))?;
        let as_of = ms(as_of);
        let rows = st.query_map(params![building.0, unit], |r| household_row(r, as_of))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn household(&self, id: HouseholdId) -> Result<HouseholdDetail> {
        let (household, building_number, estate, pending) = self
            .conn
            .query_row(
                "SELECT h.building_id, h.grid_id, h.unit, h.room, h.address, h.head_name, h.tags,
                        h.visit_cadence_days, b.number, b.estate,
                        h.id IN (SELECT subject_id FROM outbox WHERE state = 'pending')
                   FROM households h JOIN buildings b ON b.id = h.building_id WHERE h.id = ?1",
                [id.0],
                |r| {
                    Ok((
                        Household {
                            id,
                            building_id: BuildingId(r.get(0)?),
                            grid_id: GridId(r.get(1)?),
                            unit: r.get(2)?,
                            room: r.get(3)?,
                            address: r.get(4)?,
                            head_name: r.get(5)?,
                            tags: tags(&r.get::<_, String>(6)?),
                            visit_cadence_days: r.get(7)?,
                        },
                        r.get::<_, String>(8)?,
                        r.get::<_, String>(9)?,
                        r.get::<_, bool>(10)?,
                    ))
                },
            )
            .optional()?
            .ok_or_else(|| DeviceError::not_found("household", id))?;
        let residents = self
            .conn
            .prepare_cached(
                "SELECT id, name, relation, birth_year, phone_masked, id_number_masked, tags,
                        phone IS NOT NULL, moved_out,
                        id IN (SELECT subject_id FROM outbox WHERE state = 'pending')
                   FROM residents WHERE household_id = ?1
                  ORDER BY moved_out, relation = '户主' DESC, birth_year",
            )?
            .query_map([id.0], |r| {
                Ok(ResidentRow {
                    id: ResidentId(r.get(0)?),
                    name: r.get(1)?,
                    relation: r.get(2)?,
                    birth_year: r.get(3)?,
                    phone_masked: r.get(4)?,
                    id_number_masked: r.get(5)?,
                    tags: tags(&r.get::<_, String>(6)?),
                    can_call: r.get(7)?,
                    moved_out: r.get(8)?,
                    pending: r.get(9)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        let visits = self
            .conn
            .prepare_cached(
                "SELECT v.id, v.started_at, v.kind, v.outcome, v.notes, v.photos,
                        EXISTS (SELECT 1 FROM outbox o WHERE o.subject_id = v.id AND o.state = 'pending')
                   FROM visits v WHERE v.household_id = ?1 ORDER BY v.started_at DESC LIMIT 50",
            )?
            .query_map([id.0], |r| {
                Ok(VisitRow {
                    id: VisitId(r.get(0)?),
                    started_at: from_ms(r.get(1)?),
                    kind: VisitKind::from_code(&r.get::<_, String>(2)?).unwrap_or(VisitKind::Routine),
                    outcome: VisitOutcome::from_code(&r.get::<_, String>(3)?)
                        .unwrap_or(VisitOutcome::Met),
                    notes: r.get(4)?,
                    photos: photos(&r.get::<_, String>(5)?),
                    pending: r.get(6)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        let issues = self
            .conn
            .prepare_cached(&format!(
                "SELECT {ISSUE_ROW} FROM issues WHERE household_id = ?1 ORDER BY reported_at DESC LIMIT 50"
            ))?
            .query_map([id.0], issue_row)?
            .collect::<rusqlite::Result<_>>()?;
        Ok(HouseholdDetail {
            household,
            pending,
            building_number,
            estate,
            residents,
            visits,
            issues,
        })
    }

    /// The full phone number of a resident, for the "call" button only; `None` when this device
    /// was not given it.
    pub fn resident_phone_for_call(&self, id: ResidentId) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row("SELECT phone FROM residents WHERE id = ?1", [id.0], |r| {
                r.get(0)
            })
            .optional()?
            .flatten())
    }

    /// Vulnerable households past their visit cadence, never-visited first, then the longest
    /// overdue. `grid` narrows to one grid.
    pub fn due_visits(
        &self,
        grid: Option<GridId>,
        as_of: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<DueVisit>> {
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {HOUSEHOLD_ROW} FROM households h JOIN buildings b ON b.id = h.building_id
              WHERE h.vulnerable = 1 AND h.due_at <= ?1 AND (?2 IS NULL OR h.grid_id = ?2)
              ORDER BY h.due_at LIMIT ?3"
        ))?;
        let now = ms(as_of);
        let rows = st.query_map(params![now, grid.map(|g| g.0), limit as i64], |r| {
            let row = household_row(r, now)?;
            let due_at: i64 = r.get(7)?;
            Ok(DueVisit {
                days_overdue: row.last_visit_at.map(|_| (now - due_at) / DAY_MS),
                household: row,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Household coverage of a grid between `from` (inclusive) and `to` (exclusive).
    pub fn coverage(
        &self,
        grid: GridId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Coverage> {
        let households: u32 = self.conn.query_row(
            "SELECT COUNT(*) FROM households WHERE grid_id = ?1",
            [grid.0],
            |r| r.get(0),
        )?;
        let visited = self.visited_count(grid, from, to)?;
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {HOUSEHOLD_ROW} FROM households h JOIN buildings b ON b.id = h.building_id
              WHERE h.grid_id = ?1 AND NOT EXISTS (
                  SELECT 1 FROM visits v WHERE v.household_id = h.id
                     AND v.started_at >= ?2 AND v.started_at < ?3)
              ORDER BY CAST(b.number AS INTEGER), h.unit, length(h.room), h.room"
        ))?;
        let to_ms = ms(to);
        let unvisited = st
            .query_map(params![grid.0, ms(from), to_ms], |r| {
                household_row(r, to_ms)
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(Coverage {
            households,
            visited,
            unvisited,
        })
    }

    /// Open issues per status (statuses with none are left out), in ledger order.
    pub fn open_issue_counts(&self, grid: Option<GridId>) -> Result<Vec<(IssueStatus, u32)>> {
        let mut st = self.conn.prepare_cached(
            "SELECT status, COUNT(*) FROM issues
              WHERE (?1 IS NULL OR grid_id = ?1) AND status NOT IN ('closed', 'rejected_duplicate')
              GROUP BY status",
        )?;
        let mut out: Vec<(IssueStatus, u32)> = st
            .query_map([grid.map(|g| g.0)], |r| {
                Ok((r.get::<_, String>(0)?, r.get(1)?))
            })?
            .filter_map(|row| match row {
                Ok((s, n)) => IssueStatus::from_code(&s).map(|s| Ok((s, n))),
                Err(e) => Some(Err(e)),
            })
            .collect::<rusqlite::Result<_>>()?;
        out.sort_by_key(|(s, _)| *s);
        Ok(out)
    }

    pub fn issues(&self, f: &IssueFilter) -> Result<Vec<IssueRow>> {
        let statuses: Vec<&str> = if f.statuses.is_empty() {
            IssueStatus::ALL
                .iter()
                .filter(|s| s.is_open())
                .map(|s| s.code())
                .collect()
        } else {
            f.statuses.iter().map(|s| s.code()).collect()
        };
        let statuses = serde_json::to_string(&statuses).unwrap_or_else(|_| "[]".into());
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {ISSUE_ROW} FROM issues
              WHERE status IN (SELECT value FROM json_each(?1))
                AND (?2 IS NULL OR grid_id = ?2)
                AND (?3 IS NULL OR category = ?3)
                AND (?4 IS NULL OR reported_by = ?4)
                AND (?5 IS NULL OR building_id = ?5)
              ORDER BY reported_at DESC LIMIT ?6"
        ))?;
        let limit = if f.limit == 0 { 200 } else { f.limit };
        let rows = st.query_map(
            params![
                statuses,
                f.grid_id.map(|g| g.0),
                f.category.map(|c| c.code()),
                f.reported_by.map(|u| u.0),
                f.building_id.map(|b| b.0),
                limit as i64
            ],
            issue_row,
        )?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// A user's check-ins, newest first.
    pub fn checkins(&self, user: UserId, limit: usize) -> Result<Vec<CheckIn>> {
        let mut st = self.conn.prepare_cached(
            "SELECT id, grid_id, at, lat, lon, accuracy_m, mock_location, verdict, boundary_distance_m
               FROM checkins WHERE user_id = ?1 ORDER BY at DESC LIMIT ?2",
        )?;
        let rows = st.query_map(params![user.0, limit as i64], |r| {
            Ok(CheckIn {
                id: CheckInId(r.get(0)?),
                user_id: user,
                grid_id: GridId(r.get(1)?),
                at: from_ms(r.get(2)?),
                fix: GpsFix {
                    lat: r.get(3)?,
                    lon: r.get(4)?,
                    accuracy_m: r.get(5)?,
                    mock_location: r.get(6)?,
                },
                verdict: GeoVerdict::from_code(&r.get::<_, String>(7)?)
                    .unwrap_or(GeoVerdict::Uncertain),
                boundary_distance_m: r.get(8)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn sync_status(&self) -> Result<SyncStatus> {
        let (pending, failed, merged) = self.conn.query_row(
            "SELECT COUNT(*) FILTER (WHERE state = 'pending'),
                    COUNT(*) FILTER (WHERE state = 'failed'),
                    COUNT(*) FILTER (WHERE state = 'merged')
               FROM outbox",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        let last_sync_at = state_get(&self.conn, "last_sync_at")?
            .and_then(|s| s.parse::<i64>().ok())
            .map(from_ms);
        Ok(SyncStatus {
            pending,
            failed,
            merged,
            last_sync_at,
            last_error: state_get(&self.conn, "last_sync_error")?
                .map(|c| crate::sync::SyncProblem::from_code(&c)),
        })
    }
}
