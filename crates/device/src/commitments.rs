//! Commitments (承诺践诺) on the phone: the grid's public list for the year, making a promise,
//! and moving one's own (progress with evidence, kept, dropped). All SQL of commitments lives
//! here.

use crate::columns::{photos_text, split_codes};
use crate::store::{Session, Store};
use crate::time::{from_ms, ms};
use crate::writes::{check_photos, enqueue_checked, photo_strings};
use crate::{DeviceError, Result};
use chrono::{DateTime, Datelike, Utc};
use gridmate_model::commitment::next;
use gridmate_model::validate::{self, limits};
use gridmate_model::*;
use gridmate_protocol::MutationPayload;
use gridmate_protocol::mutations::{CommitmentCreateData, CommitmentEventData};
use rusqlite::{OptionalExtension, Row, Transaction, params};

const COMMITMENT_ROW: &str =
    "id, grid_id, user_id, user_name, year, title, description, status, progress, created_at";

fn commitment_row(r: &Row<'_>) -> rusqlite::Result<Commitment> {
    Ok(Commitment {
        id: CommitmentId(r.get(0)?),
        grid_id: GridId(r.get(1)?),
        user_id: UserId(r.get(2)?),
        user_name: r.get(3)?,
        year: r.get(4)?,
        title: r.get(5)?,
        description: r.get(6)?,
        status: CommitmentStatus::from_code(&r.get::<_, String>(7)?)
            .unwrap_or(CommitmentStatus::Promised),
        progress: r.get(8)?,
        created_at: from_ms(r.get(9)?),
    })
}

fn put_commitment(tx: &Transaction<'_>, c: &Commitment) -> Result<()> {
    tx.prepare_cached(
        "INSERT OR REPLACE INTO commitments (id, grid_id, user_id, user_name, year, title,
             description, status, progress, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(params![
        c.id.0,
        c.grid_id.0,
        c.user_id.0,
        c.user_name,
        c.year,
        c.title,
        c.description,
        c.status.code(),
        c.progress,
        ms(c.created_at),
    ])?;
    Ok(())
}

fn put_event(tx: &Transaction<'_>, e: &CommitmentEvent) -> Result<()> {
    tx.prepare_cached(
        "INSERT OR REPLACE INTO commitment_events (id, commitment_id, action, note, at, photos,
             service_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        e.id.0,
        e.commitment_id.0,
        e.action.code(),
        e.note,
        ms(e.at),
        photos_text(&e.photos),
        e.service_id.map(|s| s.0),
    ])?;
    Ok(())
}

/// Pulled commitments and their steps, as the server sent them.
pub(crate) fn write_pulled(
    tx: &Transaction<'_>,
    commitments: &[Commitment],
    events: &[CommitmentEvent],
) -> Result<usize> {
    for c in commitments {
        put_commitment(tx, c)?;
    }
    for e in events {
        put_event(tx, e)?;
    }
    Ok(commitments.len() + events.len())
}

fn promise_in(
    tx: &Transaction<'_>,
    session: &Session,
    grid_id: GridId,
    title: &str,
    description: &str,
    now: DateTime<Utc>,
) -> Result<CommitmentId> {
    let title = validate::text("title", title, limits::TITLE, true)?;
    let description = validate::text("description", description, limits::TEXT, false)?;
    if !session.grid_ids().contains(&grid_id) {
        return Err(DeviceError::not_found("grid of mine", grid_id));
    }
    let c = Commitment {
        id: CommitmentId::new_v7(),
        grid_id,
        user_id: session.user.id,
        user_name: session.user.name.clone(),
        year: now.year(),
        title: title.clone(),
        description: description.clone(),
        status: CommitmentStatus::Promised,
        progress: 0,
        created_at: now,
    };
    put_commitment(tx, &c)?;
    let payload = MutationPayload::CommitmentCreate(CommitmentCreateData {
        commitment_id: c.id.0,
        grid_id: grid_id.0,
        year: c.year,
        title,
        description,
    });
    enqueue_checked(tx, payload, c.id.0, now)?;
    Ok(c.id)
}

fn step_in(
    tx: &Transaction<'_>,
    session: &Session,
    id: CommitmentId,
    action: CommitmentAction,
    note: &str,
    photos: Vec<PhotoRef>,
) -> Result<CommitmentStatus> {
    let note = validate::text(
        "note",
        note,
        limits::TEXT,
        action == CommitmentAction::Progress,
    )?;
    check_photos(&photos)?;
    let mut c = tx
        .query_row(
            &format!("SELECT {COMMITMENT_ROW} FROM commitments WHERE id = ?1"),
            [id.0],
            commitment_row,
        )
        .optional()?
        .ok_or_else(|| DeviceError::not_found("commitment", id))?;
    if c.user_id != session.user.id {
        return Err(DeviceError::not_found("commitment of mine", id));
    }
    let to = next(c.status, action).ok_or(DeviceError::Invalid(
        validate::ValidationError::Required { field: "status" },
    ))?;
    let now = Utc::now();
    let event = CommitmentEvent {
        id: CommitmentEventId::new_v7(),
        commitment_id: id,
        action,
        note: note.clone(),
        at: now,
        photos: photos.clone(),
        service_id: None,
    };
    put_event(tx, &event)?;
    c.status = to;
    if action == CommitmentAction::Progress {
        c.progress += 1;
    }
    put_commitment(tx, &c)?;
    let payload = MutationPayload::CommitmentEvent(CommitmentEventData {
        event_id: event.id.0,
        commitment_id: id.0,
        action: action.code().into(),
        note,
        photos: photo_strings(&photos),
        service_id: None,
    });
    enqueue_checked(tx, payload, id.0, now)?;
    Ok(to)
}

impl Store {
    /// Make a public promise for this year in one of my grids.
    pub fn make_commitment(
        &mut self,
        grid_id: GridId,
        title: &str,
        description: &str,
    ) -> Result<CommitmentId> {
        self.one_action(|tx, session| {
            promise_in(tx, session, grid_id, title, description, Utc::now())
        })
    }

    /// Move one of my promises: progress (a note is required), kept, or dropped.
    pub fn act_on_commitment(
        &mut self,
        id: CommitmentId,
        action: CommitmentAction,
        note: &str,
        photos: Vec<PhotoRef>,
    ) -> Result<CommitmentStatus> {
        self.one_action(|tx, session| step_in(tx, session, id, action, note, photos))
    }

    /// The public list of a grid for a year: open promises first, then by member.
    pub fn commitments(&self, grid: GridId, year: i32) -> Result<Vec<Commitment>> {
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {COMMITMENT_ROW} FROM commitments WHERE grid_id = ?1 AND year = ?2
              ORDER BY status <> 'promised', user_name, created_at"
        ))?;
        let rows = st.query_map(params![grid.0, year], commitment_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// One commitment, as the public list holds it.
    pub fn commitment(&self, id: CommitmentId) -> Result<Commitment> {
        self.conn
            .prepare_cached(&format!(
                "SELECT {COMMITMENT_ROW} FROM commitments WHERE id = ?1"
            ))?
            .query_row([id.0], commitment_row)
            .optional()?
            .ok_or_else(|| DeviceError::not_found("commitment", id))
    }

    /// The steps on one commitment, oldest first.
    pub fn commitment_events(&self, id: CommitmentId) -> Result<Vec<CommitmentEvent>> {
        let mut st = self.conn.prepare_cached(
            "SELECT id, action, note, at, photos, service_id FROM commitment_events
              WHERE commitment_id = ?1 ORDER BY at, id",
        )?;
        let rows = st.query_map([id.0], |r| {
            let photos: String = r.get(4)?;
            Ok(CommitmentEvent {
                id: CommitmentEventId(r.get(0)?),
                commitment_id: id,
                action: CommitmentAction::from_code(&r.get::<_, String>(1)?)
                    .unwrap_or(CommitmentAction::Progress),
                note: r.get(2)?,
                at: from_ms(r.get(3)?),
                photos: split_codes(&photos).filter_map(PhotoRef::parse).collect(),
                service_id: r.get::<_, Option<uuid::Uuid>>(5)?.map(ServiceRecordId),
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
