//! Call-ups (一键响应) on the phone: the open call-ups that call this user, with their answer so
//! far, and answering (coming / cannot / arrived with a fix at the meeting point). All SQL of
//! call-ups lives here.

use crate::columns::{join_codes, split_codes};
use crate::store::{Session, Store};
use crate::time::{from_ms, ms};
use crate::writes::enqueue_checked;
use crate::{DeviceError, Result};
use chrono::Utc;
use gridmate_model::validate;
use gridmate_model::*;
use gridmate_protocol::MutationPayload;
use gridmate_protocol::mutations::{CallupRespondData, Location};
use rusqlite::{OptionalExtension, Row, Transaction, params};

/// A call-up as the banner shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct CallupCard {
    pub callup: Callup,
    /// This user's latest answer, if any.
    pub mine: Option<CallupAnswer>,
    /// For my arrival: metres from the meeting point.
    pub my_distance_m: Option<f64>,
    /// How many of those called answered coming, and how many have arrived.
    pub coming: u32,
    pub arrived: u32,
}

const CALLUP_ROW: &str = "id, grid_id, roles, place, lat, lon, at, message, created_by, closed_at";

fn callup_row(r: &Row<'_>) -> rusqlite::Result<Callup> {
    let lat: Option<f64> = r.get(4)?;
    let lon: Option<f64> = r.get(5)?;
    Ok(Callup {
        id: CallupId(r.get(0)?),
        grid_id: GridId(r.get(1)?),
        roles: split_codes(&r.get::<_, String>(2)?)
            .filter_map(Role::from_code)
            .collect(),
        place: r.get(3)?,
        location: lat.zip(lon),
        at: from_ms(r.get(6)?),
        message: r.get(7)?,
        created_by: UserId(r.get(8)?),
        closed_at: r.get::<_, Option<i64>>(9)?.map(from_ms),
        // Only the server calls again; the phone does not keep when.
        recall_after_minutes: None,
    })
}

fn insert_response(tx: &Transaction<'_>, r: &CallupResponse) -> Result<()> {
    tx.prepare_cached(
        "INSERT OR REPLACE INTO callup_responses (id, callup_id, user_id, answer, at, lat, lon,
             accuracy_m, distance_m)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        r.id.0,
        r.callup_id.0,
        r.user_id.0,
        r.answer.code(),
        ms(r.at),
        r.location.map(|l| l.lat),
        r.location.map(|l| l.lon),
        r.location.map(|l| l.accuracy_m),
        r.distance_m,
    ])?;
    Ok(())
}

/// Pulled call-ups and answers, as the server sent them.
pub(crate) fn write_pulled(
    tx: &Transaction<'_>,
    callups: &[Callup],
    responses: &[CallupResponse],
) -> Result<usize> {
    let mut st = tx.prepare_cached(
        "INSERT OR REPLACE INTO callups (id, grid_id, roles, place, lat, lon, at, message,
             created_by, closed_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?;
    for c in callups {
        st.execute(params![
            c.id.0,
            c.grid_id.0,
            join_codes(c.roles.iter().map(|r| r.code())),
            c.place,
            c.location.map(|l| l.0),
            c.location.map(|l| l.1),
            ms(c.at),
            c.message,
            c.created_by.0,
            c.closed_at.map(ms),
        ])?;
    }
    for r in responses {
        insert_response(tx, r)?;
    }
    Ok(callups.len() + responses.len())
}

fn respond_in(
    tx: &Transaction<'_>,
    session: &Session,
    callup_id: CallupId,
    answer: CallupAnswer,
    fix: Option<GpsFix>,
) -> Result<CallupResponseId> {
    let callup = tx
        .query_row(
            &format!("SELECT {CALLUP_ROW} FROM callups WHERE id = ?1"),
            [callup_id.0],
            callup_row,
        )
        .optional()?
        .ok_or_else(|| DeviceError::not_found("call-up", callup_id))?;
    if let Some(f) = &fix {
        validate::coordinates(f.lat, f.lon, Some(f.accuracy_m))?;
    }
    if answer == CallupAnswer::Arrived && fix.is_none() {
        return Err(validate::ValidationError::Required { field: "location" }.into());
    }
    let fix = fix.filter(|_| answer == CallupAnswer::Arrived);
    let now = Utc::now();
    let response = CallupResponse {
        id: CallupResponseId::new_v7(),
        callup_id,
        user_id: session.user.id,
        answer,
        at: now,
        location: fix,
        distance_m: fix.and_then(|f| callup.distance_m(&f)),
    };
    insert_response(tx, &response)?;
    let payload = MutationPayload::CallupRespond(CallupRespondData {
        response_id: response.id.0,
        callup_id: callup_id.0,
        answer: answer.code().into(),
        location: fix.as_ref().map(Location::from),
    });
    enqueue_checked(tx, payload, response.id.0, now)?;
    Ok(response.id)
}

impl Store {
    /// Answer a call-up. Arriving needs a fix; its distance to the meeting point is worked out
    /// here for the screen, and again by the server.
    pub fn respond_to_callup(
        &mut self,
        callup_id: CallupId,
        answer: CallupAnswer,
        fix: Option<GpsFix>,
    ) -> Result<CallupResponseId> {
        self.one_action(|tx, session| respond_in(tx, session, callup_id, answer, fix))
    }

    /// Open call-ups of my grids that call one of my roles, newest first, with my latest answer
    /// and the counts so far.
    pub fn open_callups(&self) -> Result<Vec<CallupCard>> {
        let session = self.require_session()?;
        let grids = session.grid_ids();
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {CALLUP_ROW} FROM callups WHERE closed_at IS NULL ORDER BY at DESC"
        ))?;
        let callups: Vec<Callup> = st
            .query_map([], callup_row)?
            .collect::<rusqlite::Result<_>>()?;
        let mut cards = Vec::new();
        for callup in callups
            .into_iter()
            .filter(|c| grids.contains(&c.grid_id) && c.calls(&session.user.roles))
        {
            // Each person's latest answer.
            let mut st = self.conn.prepare_cached(
                "SELECT user_id, answer, distance_m FROM callup_responses r
                  WHERE callup_id = ?1
                    AND at = (SELECT MAX(at) FROM callup_responses x
                               WHERE x.callup_id = r.callup_id AND x.user_id = r.user_id)",
            )?;
            let latest: Vec<(uuid::Uuid, String, Option<f64>)> = st
                .query_map([callup.id.0], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<rusqlite::Result<_>>()?;
            let count =
                |a: CallupAnswer| latest.iter().filter(|(_, x, _)| x == a.code()).count() as u32;
            let mine = latest.iter().find(|(u, _, _)| *u == session.user.id.0);
            cards.push(CallupCard {
                coming: count(CallupAnswer::Coming) + count(CallupAnswer::Arrived),
                arrived: count(CallupAnswer::Arrived),
                mine: mine.and_then(|(_, a, _)| CallupAnswer::from_code(a)),
                my_distance_m: mine.and_then(|(_, _, d)| *d),
                callup,
            });
        }
        Ok(cards)
    }
}
