//! The issue ledger as the issue screens read it: one issue with its timeline and each step's
//! sync state, the open issues near a new report (so the ledger does not fill with duplicates),
//! and a party member's service record.

use crate::outbox::OutboxState;
use crate::queries::{ISSUE_ROW, ISSUE_ROW_LEN, IssueRow, issue_row, photos};
use crate::store::Store;
use crate::time::{from_ms, ms};
use crate::{DeviceError, Result};
use chrono::{DateTime, Datelike, FixedOffset, TimeZone, Utc};
use gridmate_model::geo_rules::haversine_m;
use gridmate_model::*;
use rusqlite::{OptionalExtension, params};

/// Where a record stands with the server, as the screens say it.
#[derive(Clone, Debug, PartialEq)]
pub struct Delivery {
    pub state: OutboxState,
    /// The server's error code (`forbidden`, `illegal_transition`, …), for `merged` and
    /// `failed`: what the app words for the user.
    pub code: Option<String>,
    /// The server's own words, for the developer's eye.
    pub reason: Option<String>,
}

/// One step of an issue's timeline, and where it stands with the server.
#[derive(Clone, Debug, PartialEq)]
pub struct IssueEventRow {
    pub event: IssueEvent,
    /// `None` once the server has it (or it came from the server).
    pub delivery: Option<Delivery>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct IssueDetail {
    pub issue: IssueRow,
    pub source: IssueSource,
    pub description: String,
    pub photos: Vec<PhotoRef>,
    /// "12栋" when the issue is tied to a building.
    pub building_number: Option<String>,
    /// "12-2-301" when tied to a household.
    pub household_address: Option<String>,
    pub events: Vec<IssueEventRow>,
    /// The report itself, while it is not yet on the server (or was refused).
    pub delivery: Option<Delivery>,
}

/// An open issue close to a new report: the "join this one instead?" offer.
#[derive(Clone, Debug, PartialEq)]
pub struct NearbyIssue {
    pub issue: IssueRow,
    /// Metres from the new report's fix, when both have one.
    pub distance_m: Option<f64>,
    pub same_building: bool,
}

/// A party member's year of service: what the "my service" card shows.
#[derive(Clone, Debug, PartialEq)]
pub struct ServiceSummary {
    pub year: i32,
    pub records: u32,
    pub hours_tenths: u32,
    pub people_served: u32,
    pub recent: Vec<ServiceRecord>,
}

type OutboxAnswer = (String, Option<String>, Option<String>);

fn delivery(state: Option<OutboxAnswer>) -> Option<Delivery> {
    let (state, code, reason) = state?;
    let state = OutboxState::from_code(&state)?;
    (state != OutboxState::Acked).then_some(Delivery {
        state,
        code,
        reason,
    })
}

impl Store {
    /// One issue with its whole timeline, oldest step first.
    pub fn issue(&self, id: IssueId) -> Result<IssueDetail> {
        let (issue, source, description, photo_text, building_number, household_address) = self
            .conn
            .query_row(
                &format!(
                    "SELECT {ISSUE_ROW}, source, description, photos,
                            (SELECT b.number FROM buildings b WHERE b.id = i.building_id),
                            (SELECT b.number || '-' || h.unit || '-' || h.room
                               FROM households h JOIN buildings b ON b.id = h.building_id
                              WHERE h.id = i.household_id)
                       FROM issues i WHERE id = ?1"
                ),
                [id.0],
                |r| {
                    Ok((
                        issue_row(r)?,
                        r.get::<_, String>(ISSUE_ROW_LEN)?,
                        r.get::<_, String>(ISSUE_ROW_LEN + 1)?,
                        r.get::<_, String>(ISSUE_ROW_LEN + 2)?,
                        r.get::<_, Option<String>>(ISSUE_ROW_LEN + 3)?,
                        r.get::<_, Option<String>>(ISSUE_ROW_LEN + 4)?,
                    ))
                },
            )
            .optional()?
            .ok_or_else(|| DeviceError::not_found("issue", id))?;
        let report_state = self
            .conn
            .query_row(
                "SELECT state, error_code, error_message FROM outbox
                  WHERE subject_id = ?1 AND kind = 'issue.report' ORDER BY seq DESC LIMIT 1",
                [id.0],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let mut st = self.conn.prepare_cached(
            "SELECT json_extract(data, '$.event_id'), state, error_code, error_message FROM outbox
              WHERE subject_id = ?1 AND kind = 'issue.event'",
        )?;
        let mut deliveries = std::collections::HashMap::new();
        for row in st.query_map([id.0], |r| {
            Ok((
                r.get::<_, Option<String>>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, Option<String>>(3)?,
            ))
        })? {
            let (event, state, code, reason) = row?;
            if let Some(event) = event.and_then(|e| e.parse::<uuid::Uuid>().ok()) {
                deliveries.insert(event, (state, code, reason));
            }
        }
        let mut st = self.conn.prepare_cached(
            "SELECT id, action, actor, note, at, photos, merged_reason
               FROM issue_events WHERE issue_id = ?1 ORDER BY at, id",
        )?;
        let events = st
            .query_map([id.0], |r| {
                let event: uuid::Uuid = r.get(0)?;
                let action: String = r.get(1)?;
                Ok(IssueEventRow {
                    event: IssueEvent {
                        id: IssueEventId(event),
                        issue_id: id,
                        action: IssueAction::from_code(&action).unwrap_or(IssueAction::Comment),
                        actor: UserId(r.get(2)?),
                        note: r.get(3)?,
                        at: from_ms(r.get(4)?),
                        photos: photos(&r.get::<_, String>(5)?),
                        merged_reason: r.get(6)?,
                    },
                    delivery: delivery(deliveries.get(&event).cloned()),
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(IssueDetail {
            source: IssueSource::from_code(&source).unwrap_or(IssueSource::Patrol),
            description,
            photos: photos(&photo_text),
            building_number,
            household_address,
            events,
            delivery: delivery(report_state),
            issue,
        })
    }

    /// Open issues of `category` in the grid that a new report at `fix` (or in `building`) most
    /// likely duplicates: within `radius_m`, or in the same building; nearest first.
    pub fn nearby_open_issues(
        &self,
        grid: GridId,
        category: IssueCategory,
        building: Option<BuildingId>,
        fix: Option<(f64, f64)>,
        radius_m: f64,
    ) -> Result<Vec<NearbyIssue>> {
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {ISSUE_ROW} FROM issues
              WHERE grid_id = ?1 AND category = ?2
                AND status NOT IN ('closed', 'rejected_duplicate')
              ORDER BY reported_at DESC LIMIT 500"
        ))?;
        let rows = st.query_map(params![grid.0, category.code()], issue_row)?;
        let mut out = Vec::new();
        for row in rows {
            let issue = row?;
            if !issue.status.is_open() {
                continue;
            }
            let distance_m = fix
                .zip(issue.location)
                .map(|((lat, lon), (ilat, ilon))| haversine_m(lat, lon, ilat, ilon));
            let same_building = building.is_some() && issue.building_id == building;
            if same_building || distance_m.is_some_and(|d| d <= radius_m) {
                out.push(NearbyIssue {
                    issue,
                    distance_m,
                    same_building,
                });
            }
        }
        out.sort_by(|a, b| {
            b.same_building.cmp(&a.same_building).then(
                a.distance_m
                    .unwrap_or(f64::MAX)
                    .total_cmp(&b.distance_m.unwrap_or(f64::MAX)),
            )
        });
        out.truncate(5);
        Ok(out)
    }

    /// A user's service this calendar year (China time), with the latest records.
    pub fn service_summary(&self, user: UserId, as_of: DateTime<Utc>) -> Result<ServiceSummary> {
        let cst = FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset");
        let year = as_of.with_timezone(&cst).year();
        let start = cst
            .with_ymd_and_hms(year, 1, 1, 0, 0, 0)
            .single()
            .map_or(as_of, |t| t.with_timezone(&Utc));
        let (records, hours_tenths, people_served) = self.conn.query_row(
            "SELECT COUNT(*), COALESCE(SUM(hours_tenths), 0), COALESCE(SUM(people_served), 0)
               FROM service_records WHERE user_id = ?1 AND at >= ?2",
            params![user.0, ms(start)],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        let mut st = self.conn.prepare_cached(
            "SELECT id, grid_id, issue_id, title, at, hours_tenths, people_served, photos,
                    order_id
               FROM service_records WHERE user_id = ?1 ORDER BY at DESC LIMIT 20",
        )?;
        let recent = st
            .query_map([user.0], |r| {
                Ok(ServiceRecord {
                    id: ServiceRecordId(r.get(0)?),
                    user_id: user,
                    grid_id: GridId(r.get(1)?),
                    issue_id: r.get::<_, Option<uuid::Uuid>>(2)?.map(IssueId),
                    title: r.get(3)?,
                    at: from_ms(r.get(4)?),
                    hours_tenths: r.get(5)?,
                    people_served: r.get(6)?,
                    photos: photos(&r.get::<_, String>(7)?),
                    order_id: r.get::<_, Option<uuid::Uuid>>(8)?.map(OrderId),
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(ServiceSummary {
            year,
            records,
            hours_tenths,
            people_served,
            recent,
        })
    }

    /// Save a half-filled form under `key` (e.g. `visit:<household id>`).
    pub fn save_draft(&mut self, key: &str, body: &str) -> Result<()> {
        self.conn.execute(
            "INSERT INTO drafts (key, body, updated_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (key) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at",
            params![key, body, ms(Utc::now())],
        )?;
        Ok(())
    }

    pub fn draft(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row("SELECT body FROM drafts WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()?)
    }

    pub fn discard_draft(&mut self, key: &str) -> Result<()> {
        self.conn
            .execute("DELETE FROM drafts WHERE key = ?1", [key])?;
        Ok(())
    }
}
