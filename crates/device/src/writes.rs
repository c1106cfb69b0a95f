//! What users do: each function validates, then writes the record and its outbox mutation in
//! ONE transaction, so the app never holds a record the server will not hear about, nor a
//! mutation without its record.

use crate::columns::photos_text;
use crate::due::note_visit;
use crate::outbox::enqueue;
use crate::store::{Session, Store, next_hlc};
use crate::time::ms;
use crate::{DeviceError, Result};
use chrono::{DateTime, Utc};
use gridmate_model::geo_rules::{GridFix, locate_in_grid};
use gridmate_model::validate::{self, ValidationError, limits};
use gridmate_model::*;
use gridmate_protocol::MutationPayload;
use gridmate_protocol::mutations::{
    CheckinData, IssueEventData, IssueReportData, Location, PatchData, ServiceData, VisitData,
};
use rusqlite::{OptionalExtension, Transaction, params};

/// A visit as the "record visit" screen fills it in.
#[derive(Clone, Debug, PartialEq)]
pub struct NewVisit {
    pub household_id: HouseholdId,
    pub started_at: DateTime<Utc>,
    pub ended_at: DateTime<Utc>,
    pub kind: VisitKind,
    pub outcome: VisitOutcome,
    pub notes: String,
    pub people_served: u16,
    pub location: Option<GpsFix>,
    pub photos: Vec<PhotoRef>,
    pub raised_issues: Vec<IssueId>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct NewIssue {
    pub grid_id: GridId,
    pub building_id: Option<BuildingId>,
    pub household_id: Option<HouseholdId>,
    pub category: IssueCategory,
    pub severity: Severity,
    pub source: IssueSource,
    pub title: String,
    pub description: String,
    pub location: Option<GpsFix>,
    pub photos: Vec<PhotoRef>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct NewService {
    pub grid_id: GridId,
    pub issue_id: Option<IssueId>,
    /// The order this service carried out (set by `Store::complete_order`).
    pub order_id: Option<OrderId>,
    pub title: String,
    pub at: DateTime<Utc>,
    pub hours_tenths: u16,
    pub people_served: u16,
    pub photos: Vec<PhotoRef>,
}

/// Fields of a household a worker may correct in the field. Tags that change with no cadence
/// given bring the cadence their tags call for (an elderly person now living alone is visited
/// weekly from now on); a cadence given is kept as given.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HouseholdPatch {
    pub head_name: Option<String>,
    pub tags: Option<Vec<HouseholdTag>>,
    pub visit_cadence_days: Option<u16>,
}

fn location(fix: &Option<GpsFix>) -> Option<Location> {
    fix.as_ref().map(Location::from)
}

fn check_fix(fix: &Option<GpsFix>) -> Result<()> {
    if let Some(f) = fix {
        validate::coordinates(f.lat, f.lon, Some(f.accuracy_m))?;
    }
    Ok(())
}

pub(crate) fn check_photos(photos: &[PhotoRef]) -> Result<()> {
    if photos.len() > limits::MAX_PHOTOS {
        return Err(ValidationError::TooMany {
            field: "photos",
            len: photos.len(),
            max: limits::MAX_PHOTOS,
        }
        .into());
    }
    Ok(())
}

pub(crate) fn photo_strings(photos: &[PhotoRef]) -> Vec<String> {
    photos.iter().map(|p| p.as_str().to_string()).collect()
}

/// Validate the payload exactly as the server will, then append it to the outbox.
pub(crate) fn enqueue_checked(
    tx: &Transaction<'_>,
    payload: MutationPayload,
    subject: uuid::Uuid,
    now: DateTime<Utc>,
) -> Result<uuid::Uuid> {
    payload.validate().map_err(|e| match e {
        gridmate_protocol::PayloadError::Invalid(v, _) => DeviceError::Invalid(v),
        other => DeviceError::Corrupt(other.to_string()),
    })?;
    let hlc = next_hlc(tx, ms(now))?;
    enqueue(tx, &payload, subject, now, hlc)
}

fn exists(tx: &Transaction<'_>, table: &'static str, id: uuid::Uuid) -> Result<bool> {
    Ok(tx
        .query_row(
            &format!("SELECT 1 FROM {table} WHERE id = ?1"),
            [id],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

/// A visit, written in `tx` (validation first, so a refusal writes nothing).
fn record_visit_in(tx: &Transaction<'_>, session: &Session, v: NewVisit) -> Result<VisitId> {
    let notes = validate::text("notes", &v.notes, limits::TEXT, false)?;
    if v.ended_at < v.started_at {
        return Err(ValidationError::EndsBeforeStart { field: "visit" }.into());
    }
    check_fix(&v.location)?;
    check_photos(&v.photos)?;
    let id = VisitId::new_v7();
    let now = Utc::now();
    if !exists(tx, "households", v.household_id.0)? {
        return Err(DeviceError::not_found("household", v.household_id));
    }
    tx.prepare_cached(
        "INSERT INTO visits (id, household_id, visitor, started_at, ended_at, kind, outcome,
             notes, people_served, lat, lon, accuracy_m, photos)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    )?
    .execute(params![
        id.0,
        v.household_id.0,
        session.user.id.0,
        ms(v.started_at),
        ms(v.ended_at),
        v.kind.code(),
        v.outcome.code(),
        notes,
        v.people_served,
        v.location.map(|l| l.lat),
        v.location.map(|l| l.lon),
        v.location.map(|l| l.accuracy_m),
        photos_text(&v.photos),
    ])?;
    note_visit(tx, v.household_id, ms(v.started_at))?;
    let payload = MutationPayload::VisitRecord(VisitData {
        visit_id: id.0,
        household_id: v.household_id.0,
        started_at: v.started_at,
        ended_at: v.ended_at,
        kind: v.kind.code().into(),
        outcome: v.outcome.code().into(),
        notes,
        people_served: v.people_served,
        location: location(&v.location),
        photos: photo_strings(&v.photos),
        raised_issues: v.raised_issues.iter().map(|i| i.0).collect(),
    });
    enqueue_checked(tx, payload, id.0, now)?;
    Ok(id)
}

/// A new issue, written in `tx`.
fn report_issue_in(tx: &Transaction<'_>, session: &Session, n: NewIssue) -> Result<IssueId> {
    let title = validate::text("title", &n.title, limits::TITLE, true)?;
    let description = validate::text("description", &n.description, limits::TEXT, false)?;
    check_fix(&n.location)?;
    check_photos(&n.photos)?;
    let id = IssueId::new_v7();
    let now = Utc::now();
    if !exists(tx, "grids", n.grid_id.0)? {
        return Err(DeviceError::not_found("grid", n.grid_id));
    }
    tx.prepare_cached(
        "INSERT INTO issues (id, grid_id, building_id, household_id, category, severity,
             source, status, title, description, lat, lon, reported_by, reported_at, photos,
             due_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
    )?
    .execute(params![
        id.0,
        n.grid_id.0,
        n.building_id.map(|b| b.0),
        n.household_id.map(|h| h.0),
        n.category.code(),
        n.severity.code(),
        n.source.code(),
        IssueStatus::Reported.code(),
        title,
        description,
        n.location.map(|l| l.lat),
        n.location.map(|l| l.lon),
        session.user.id.0,
        ms(now),
        photos_text(&n.photos),
        ms(now + gridmate_model::issue::time_limit(n.category, n.severity)),
    ])?;
    let payload = MutationPayload::IssueReport(IssueReportData {
        issue_id: id.0,
        grid_id: n.grid_id.0,
        category: n.category.code().into(),
        title,
        description,
        severity: n.severity.code().into(),
        building_id: n.building_id.map(|b| b.0),
        household_id: n.household_id.map(|h| h.0),
        location: location(&n.location),
        photos: photo_strings(&n.photos),
        source: n.source.code().into(),
    });
    enqueue_checked(tx, payload, id.0, now)?;
    Ok(id)
}

/// One step on an issue, written in `tx`.
fn act_on_issue_in(
    tx: &Transaction<'_>,
    session: &Session,
    issue_id: IssueId,
    action: IssueAction,
    note: &str,
    photos: Vec<PhotoRef>,
    department: Option<DepartmentId>,
) -> Result<(IssueEventId, IssueStatus)> {
    let note = validate::text("note", note, limits::TEXT, action == IssueAction::Comment)?;
    if let Some(d) = department
        && !exists(tx, "departments", d.0)?
    {
        return Err(DeviceError::not_found("department", d));
    }
    check_photos(&photos)?;
    let now = Utc::now();
    let status: String = tx
        .query_row(
            "SELECT status FROM issues WHERE id = ?1",
            [issue_id.0],
            |r| r.get(0),
        )
        .optional()?
        .ok_or_else(|| DeviceError::not_found("issue", issue_id))?;
    let from = IssueStatus::from_code(&status)
        .ok_or_else(|| DeviceError::Corrupt(format!("issue status {status:?}")))?;
    let to = gridmate_model::issue::transition_for_roles(from, action, &session.user.roles)?;
    let id = IssueEventId::new_v7();
    tx.prepare_cached(
        "INSERT INTO issue_events (id, issue_id, action, actor, note, at, photos)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        id.0,
        issue_id.0,
        action.code(),
        session.user.id.0,
        note,
        ms(now),
        photos_text(&photos)
    ])?;
    tx.execute(
        "UPDATE issues SET status = ?2, department_id = COALESCE(?3, department_id) WHERE id = ?1",
        params![issue_id.0, to.code(), department.map(|d| d.0)],
    )?;
    let payload = MutationPayload::IssueEvent(IssueEventData {
        event_id: id.0,
        issue_id: issue_id.0,
        action: action.code().into(),
        note,
        photos: photo_strings(&photos),
        assignee_id: None,
        department: None,
        department_id: department.map(|d| d.0),
        duplicate_of: None,
        satisfaction: None,
    });
    enqueue_checked(tx, payload, issue_id.0, now)?;
    Ok((id, to))
}

/// Volunteer service, written in `tx`.
pub(crate) fn record_service_in(
    tx: &Transaction<'_>,
    session: &Session,
    s: NewService,
) -> Result<ServiceRecordId> {
    let title = validate::text("title", &s.title, limits::TITLE, true)?;
    if !(1..=240).contains(&s.hours_tenths) {
        return Err(ValidationError::OutOfRange {
            field: "时长",
            value: f64::from(s.hours_tenths) / 10.0,
        }
        .into());
    }
    check_photos(&s.photos)?;
    let id = ServiceRecordId::new_v7();
    let now = Utc::now();
    tx.execute(
        "INSERT INTO service_records (id, user_id, grid_id, issue_id, title, at, hours_tenths,
             people_served, photos, order_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            id.0,
            session.user.id.0,
            s.grid_id.0,
            s.issue_id.map(|i| i.0),
            title,
            ms(s.at),
            s.hours_tenths,
            s.people_served,
            photos_text(&s.photos),
            s.order_id.map(|o| o.0),
        ],
    )?;
    let payload = MutationPayload::ServiceRecord(ServiceData {
        service_id: id.0,
        grid_id: s.grid_id.0,
        issue_id: s.issue_id.map(|i| i.0),
        order_id: s.order_id.map(|o| o.0),
        title,
        at: s.at,
        hours: f64::from(s.hours_tenths) / 10.0,
        people_served: s.people_served,
        photos: photo_strings(&s.photos),
    });
    enqueue_checked(tx, payload, id.0, now)?;
    Ok(id)
}

impl Store {
    /// Run `write` in ONE transaction as the signed-in user: everything it writes commits
    /// together or not at all. Every user action goes through here.
    pub(crate) fn one_action<T>(
        &mut self,
        write: impl FnOnce(&Transaction<'_>, &Session) -> Result<T>,
    ) -> Result<T> {
        let session = self.require_session()?;
        let tx = self.conn.transaction()?;
        let out = write(&tx, &session)?;
        tx.commit()?;
        Ok(out)
    }

    /// Record a door-to-door visit. Returns its id, made on this device.
    pub fn record_visit(&mut self, v: NewVisit) -> Result<VisitId> {
        self.one_action(|tx, session| record_visit_in(tx, session, v))
    }

    /// A visit and an issue for each need found on it, in ONE transaction: the visit names the
    /// issues it raised, and a refused visit leaves no issue behind (nor one queued to send).
    pub fn record_visit_with_needs(
        &mut self,
        mut v: NewVisit,
        needs: Vec<NewIssue>,
    ) -> Result<(VisitId, Vec<IssueId>)> {
        self.one_action(|tx, session| {
            let raised = needs
                .into_iter()
                .map(|n| report_issue_in(tx, session, n))
                .collect::<Result<Vec<_>>>()?;
            v.raised_issues.extend(raised.iter().copied());
            Ok((record_visit_in(tx, session, v)?, raised))
        })
    }

    /// Report a new issue to the ledger.
    pub fn report_issue(&mut self, n: NewIssue) -> Result<IssueId> {
        self.one_action(|tx, session| report_issue_in(tx, session, n))
    }

    /// Act on an issue (comment, accept, resolve, ...). The state machine decides whether the
    /// signed-in user's roles allow it from the issue's current status; the local status changes
    /// at once, and the server has the final word when it replays the event in its order.
    pub fn act_on_issue(
        &mut self,
        issue_id: IssueId,
        action: IssueAction,
        note: &str,
        photos: Vec<PhotoRef>,
    ) -> Result<(IssueEventId, IssueStatus)> {
        self.one_action(|tx, session| {
            act_on_issue_in(tx, session, issue_id, action, note, photos, None)
        })
    }

    /// Escalate an issue to a department from the synced list (吹哨报到).
    pub fn escalate_issue(
        &mut self,
        issue_id: IssueId,
        department: DepartmentId,
        note: &str,
        photos: Vec<PhotoRef>,
    ) -> Result<(IssueEventId, IssueStatus)> {
        self.one_action(|tx, session| {
            act_on_issue_in(
                tx,
                session,
                issue_id,
                IssueAction::Escalate,
                note,
                photos,
                Some(department),
            )
        })
    }

    /// A new issue resolved on the spot, in ONE transaction: both or neither.
    pub(crate) fn report_resolved_on_spot(
        &mut self,
        n: NewIssue,
        note: &str,
        after: Vec<PhotoRef>,
    ) -> Result<IssueId> {
        self.one_action(|tx, session| {
            let id = report_issue_in(tx, session, n)?;
            act_on_issue_in(
                tx,
                session,
                id,
                IssueAction::ResolveOnSpot,
                note,
                after,
                None,
            )?;
            Ok(id)
        })
    }

    /// A party member checks in to a grid. The verdict (inside / outside / uncertain, with the
    /// distance to the boundary) is computed here from the cached boundary, offline.
    pub fn check_in(
        &mut self,
        grid_id: GridId,
        fix: GpsFix,
        at: DateTime<Utc>,
    ) -> Result<(CheckInId, GridFix)> {
        let session = self.require_session()?;
        validate::coordinates(fix.lat, fix.lon, Some(fix.accuracy_m))?;
        let grid = self.grid(grid_id)?;
        let verdict = locate_in_grid(&grid.boundary, &fix);
        let id = CheckInId::new_v7();
        let now = Utc::now();
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO checkins (id, user_id, grid_id, at, lat, lon, accuracy_m, mock_location,
                 verdict, boundary_distance_m)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                id.0,
                session.user.id.0,
                grid_id.0,
                ms(at),
                fix.lat,
                fix.lon,
                fix.accuracy_m,
                fix.mock_location,
                verdict.verdict.code(),
                verdict.distance_m
            ],
        )?;
        let payload = MutationPayload::CheckinRecord(CheckinData {
            checkin_id: id.0,
            grid_id: grid_id.0,
            at,
            location: Location::from(&fix),
            verdict: verdict.verdict.code().into(),
            boundary_distance_m: verdict.distance_m,
            mock_location: fix.mock_location,
        });
        enqueue_checked(&tx, payload, id.0, now)?;
        tx.commit()?;
        Ok((id, verdict))
    }

    /// Log volunteer service (hours in tenths: 15 = 1.5 h).
    pub fn record_service(&mut self, s: NewService) -> Result<ServiceRecordId> {
        self.one_action(|tx, session| record_service_in(tx, session, s))
    }

    /// Correct a household's facts. Each changed field travels with this device's HLC; the
    /// server keeps the latest write per field.
    pub fn patch_household(&mut self, id: HouseholdId, patch: HouseholdPatch) -> Result<()> {
        self.one_action(|tx, _| patch_household_in(tx, id, patch))
    }
}

fn patch_household_in(tx: &Transaction<'_>, id: HouseholdId, patch: HouseholdPatch) -> Result<()> {
    let stored: Option<String> = tx
        .query_row("SELECT tags FROM households WHERE id = ?1", [id.0], |r| {
            r.get(0)
        })
        .optional()?;
    let Some(stored) = stored else {
        return Err(DeviceError::not_found("household", id));
    };
    let mut fields = std::collections::BTreeMap::new();
    let head_name = patch
        .head_name
        .as_deref()
        .map(|n| validate::text("head_name", n, limits::NAME, true))
        .transpose()?;
    if let Some(n) = &head_name {
        fields.insert("head_name".to_string(), serde_json::json!(n));
    }
    let tags = patch
        .tags
        .filter(|t| crate::columns::tags_text(t) != stored);
    if let Some(tags) = &tags {
        fields.insert(
            "tags".to_string(),
            serde_json::json!(tags.iter().map(|t| t.code()).collect::<Vec<_>>()),
        );
    }
    let cadence = patch
        .visit_cadence_days
        .or_else(|| tags.as_deref().map(gridmate_model::community::cadence_for));
    if let Some(days) = cadence {
        if !(1..=365).contains(&days) {
            return Err(ValidationError::OutOfRange {
                field: "走访周期",
                value: f64::from(days),
            }
            .into());
        }
        fields.insert("visit_cadence_days".to_string(), serde_json::json!(days));
    }
    if fields.is_empty() {
        return Ok(());
    }
    if let Some(n) = &head_name {
        tx.execute(
            "UPDATE households SET head_name = ?2 WHERE id = ?1",
            params![id.0, n],
        )?;
    }
    if let Some(tags) = &tags {
        let vulnerable = tags.iter().any(|t| t.is_vulnerable());
        tx.execute(
            "UPDATE households SET tags = ?2, vulnerable = ?3 WHERE id = ?1",
            params![id.0, crate::columns::tags_text(tags), vulnerable],
        )?;
    }
    if let Some(days) = cadence {
        tx.execute(
            "UPDATE households SET visit_cadence_days = ?2,
                    due_at = CASE WHEN last_visit_at IS NULL THEN 0
                                  ELSE last_visit_at + ?2 * ?3 END
              WHERE id = ?1",
            params![id.0, days, crate::time::DAY_MS],
        )?;
    }
    let payload = MutationPayload::HouseholdPatch(PatchData { id: id.0, fields });
    enqueue_checked(tx, payload, id.0, Utc::now())?;
    Ok(())
}
