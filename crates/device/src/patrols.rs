//! Patrols (巡查) on the phone: start one in a grid, add the fixes the platform samples while it
//! runs (local only, one row each), and end it — ONE transaction that simplifies the track,
//! links the issues reported on the way, writes the patrol and queues `patrol.record`. A patrol
//! under way survives the app being killed: its fixes and start are in the store.

use crate::store::{Session, Store, state_get, state_set};
use crate::time::{from_ms, ms};
use crate::writes::enqueue_checked;
use crate::{DeviceError, Result};
use chrono::{DateTime, Utc};
use gridmate_model::patrol::{simplify, track_length_m, usable};
use gridmate_model::validate::{self, limits};
use gridmate_model::*;
use gridmate_protocol::MutationPayload;
use gridmate_protocol::mutations::PatrolData;
use rusqlite::{Connection, Transaction, params};
use serde::{Deserialize, Serialize};

const ACTIVE: &str = "patrol_active";

#[derive(Serialize, Deserialize)]
struct Running {
    id: uuid::Uuid,
    grid: uuid::Uuid,
    started_ms: i64,
}

/// The patrol under way, as its screen shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct ActivePatrol {
    pub id: PatrolId,
    pub grid_id: GridId,
    pub started_at: DateTime<Utc>,
    /// The usable fixes so far, simplified, WGS-84 (lat, lon).
    pub track: Vec<(f64, f64)>,
    pub distance_m: f64,
}

fn running(conn: &Connection) -> Result<Option<Running>> {
    Ok(state_get(conn, ACTIVE)?.and_then(|v| serde_json::from_str(&v).ok()))
}

fn fixes(conn: &Connection, id: uuid::Uuid) -> Result<Vec<GpsFix>> {
    let mut st = conn.prepare_cached(
        "SELECT lat, lon, accuracy_m, mock FROM patrol_fixes WHERE patrol_id = ?1 ORDER BY seq",
    )?;
    let rows = st.query_map([id], |r| {
        Ok(GpsFix {
            lat: r.get(0)?,
            lon: r.get(1)?,
            accuracy_m: r.get(2)?,
            mock_location: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn put_patrol(tx: &Transaction<'_>, p: &Patrol) -> Result<()> {
    let track: Vec<[f64; 2]> = p.track.iter().map(|&(lat, lon)| [lon, lat]).collect();
    tx.prepare_cached(
        "INSERT OR REPLACE INTO patrols (id, grid_id, user_id, started_at, ended_at, track,
             distance_m, notes, issues)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        p.id.0,
        p.grid_id.0,
        p.user_id.0,
        ms(p.started_at),
        ms(p.ended_at),
        serde_json::to_string(&track).unwrap_or_else(|_| "[]".into()),
        p.distance_m,
        p.notes,
        serde_json::to_string(&p.issues.iter().map(|i| i.0).collect::<Vec<_>>())
            .unwrap_or_else(|_| "[]".into()),
    ])?;
    Ok(())
}

/// Pulled patrols, as the server sent them.
pub(crate) fn write_pulled(tx: &Transaction<'_>, patrols: &[Patrol]) -> Result<usize> {
    for p in patrols {
        put_patrol(tx, p)?;
    }
    Ok(patrols.len())
}

fn stop_in(tx: &Transaction<'_>, session: &Session, notes: &str) -> Result<PatrolId> {
    let notes = validate::text("notes", notes, limits::TEXT, false)?;
    let run = running(tx)?.ok_or_else(|| DeviceError::not_found("patrol under way", ""))?;
    let now = Utc::now();
    let track = simplify(&usable(&fixes(tx, run.id)?));
    // What was reported on the way: my patrol reports in that grid since it started.
    let issues: Vec<IssueId> = {
        let mut st = tx.prepare_cached(
            "SELECT id FROM issues WHERE reported_by = ?1 AND grid_id = ?2 AND source = 'patrol'
               AND reported_at >= ?3 ORDER BY reported_at",
        )?;
        st.query_map(params![session.user.id.0, run.grid, run.started_ms], |r| {
            r.get(0).map(IssueId)
        })?
        .collect::<rusqlite::Result<_>>()?
    };
    let patrol = Patrol {
        id: PatrolId(run.id),
        grid_id: GridId(run.grid),
        user_id: session.user.id,
        started_at: from_ms(run.started_ms),
        ended_at: now,
        distance_m: track_length_m(&track),
        track,
        notes: notes.clone(),
        issues,
    };
    put_patrol(tx, &patrol)?;
    let payload = MutationPayload::PatrolRecord(PatrolData {
        patrol_id: patrol.id.0,
        grid_id: patrol.grid_id.0,
        started_at: patrol.started_at,
        ended_at: patrol.ended_at,
        track: patrol.track.iter().map(|&(lat, lon)| [lon, lat]).collect(),
        notes,
        issues: patrol.issues.iter().map(|i| i.0).collect(),
    });
    enqueue_checked(tx, payload, patrol.id.0, now)?;
    tx.execute("DELETE FROM patrol_fixes WHERE patrol_id = ?1", [run.id])?;
    tx.execute("DELETE FROM device_state WHERE key = ?1", [ACTIVE])?;
    Ok(patrol.id)
}

impl Store {
    /// Start a patrol of one of my grids; a patrol already under way goes on (its id back).
    pub fn start_patrol(&mut self, grid: GridId, now: DateTime<Utc>) -> Result<PatrolId> {
        let session = self.require_session()?;
        if !session.grid_ids().contains(&grid) {
            return Err(DeviceError::not_found("grid of mine", grid));
        }
        if let Some(run) = running(&self.conn)? {
            return Ok(PatrolId(run.id));
        }
        let run = Running {
            id: PatrolId::new_v7().0,
            grid: grid.0,
            started_ms: ms(now),
        };
        state_set(
            &self.conn,
            ACTIVE,
            &serde_json::to_string(&run).unwrap_or_default(),
        )?;
        Ok(PatrolId(run.id))
    }

    /// A fix sampled while the patrol runs; false when no patrol is under way.
    pub fn add_patrol_fix(&mut self, fix: GpsFix, at: DateTime<Utc>) -> Result<bool> {
        validate::coordinates(fix.lat, fix.lon, Some(fix.accuracy_m))?;
        let Some(run) = running(&self.conn)? else {
            return Ok(false);
        };
        self.conn.execute(
            "INSERT INTO patrol_fixes (patrol_id, at, lat, lon, accuracy_m, mock)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                run.id,
                ms(at),
                fix.lat,
                fix.lon,
                fix.accuracy_m,
                fix.mock_location
            ],
        )?;
        Ok(true)
    }

    pub fn active_patrol(&self) -> Result<Option<ActivePatrol>> {
        let Some(run) = running(&self.conn)? else {
            return Ok(None);
        };
        // Simplified as it will be sent: GPS jitter is not distance walked.
        let track = simplify(&usable(&fixes(&self.conn, run.id)?));
        Ok(Some(ActivePatrol {
            id: PatrolId(run.id),
            grid_id: GridId(run.grid),
            started_at: from_ms(run.started_ms),
            distance_m: track_length_m(&track),
            track,
        }))
    }

    /// End the patrol under way: the simplified track, its length, the issues reported on the
    /// way, and `patrol.record` queued, in ONE transaction.
    pub fn stop_patrol(&mut self, notes: &str) -> Result<PatrolId> {
        self.one_action(|tx, session| stop_in(tx, session, notes))
    }

    /// My latest patrols, newest first.
    pub fn my_patrols(&self, limit: usize) -> Result<Vec<Patrol>> {
        let session = self.require_session()?;
        let mut st = self.conn.prepare_cached(
            "SELECT id, grid_id, started_at, ended_at, track, distance_m, notes, issues
               FROM patrols WHERE user_id = ?1 ORDER BY started_at DESC LIMIT ?2",
        )?;
        let rows = st.query_map(params![session.user.id.0, limit as i64], |r| {
            let track: String = r.get(4)?;
            let issues: String = r.get(7)?;
            Ok(Patrol {
                id: PatrolId(r.get(0)?),
                grid_id: GridId(r.get(1)?),
                user_id: session.user.id,
                started_at: from_ms(r.get(2)?),
                ended_at: from_ms(r.get(3)?),
                track: serde_json::from_str::<Vec<[f64; 2]>>(&track)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|p| (p[1], p[0]))
                    .collect(),
                distance_m: r.get(5)?,
                notes: r.get(6)?,
                issues: serde_json::from_str::<Vec<uuid::Uuid>>(&issues)
                    .unwrap_or_default()
                    .into_iter()
                    .map(IssueId)
                    .collect(),
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
