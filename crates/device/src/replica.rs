//! The store's side of sync: applying pulled pages, the local half of the scope digest, the
//! repair sweep, dropping or wiping the cached scope, and the few values sync keeps between runs.
//! All SQL of sync lives here; the HTTP half is in [`crate::sync`].

use crate::cache::{ScopeData, write_scope};
use crate::store::{Store, state_get, state_set};
use crate::time::ms;
use crate::{DeviceError, Result};
use gridmate_model::*;
use gridmate_protocol::digest;
use gridmate_protocol::records::{self, Record};
use gridmate_protocol::{Entity, Op, RawPullPage};
use rusqlite::{OptionalExtension, Transaction, params};
use std::collections::HashSet;
use std::path::PathBuf;
use uuid::Uuid;

fn table(entity: &str) -> Option<&'static str> {
    Some(match entity {
        "grid" => "grids",
        "building" => "buildings",
        "household" => "households",
        "resident" => "residents",
        "issue" => "issues",
        "issue_event" => "issue_events",
        "visit" => "visits",
        "checkin" => "checkins",
        "service_record" => "service_records",
        "department" => "departments",
        "order" => "orders",
        "order_event" => "order_events",
        "callup" => "callups",
        "callup_response" => "callup_responses",
        "commitment" => "commitments",
        "commitment_event" => "commitment_events",
        "patrol" => "patrols",
        "base_map" => "base_maps",
        _ => return None,
    })
}

/// Tables holding residents' personal data, wiped when the token is revoked.
const PERSONAL_TABLES: [&str; 12] = [
    "patrols",
    "patrol_fixes",
    "callup_responses",
    "residents",
    "households",
    "visits",
    "issues",
    "issue_events",
    "checkins",
    "service_records",
    "orders",
    "order_events",
];
const ALL_TABLES: [&str; 20] = [
    "base_maps",
    "patrols",
    "patrol_fixes",
    "commitments",
    "commitment_events",
    "callups",
    "callup_responses",
    "orders",
    "order_events",
    "departments",
    "residents",
    "households",
    "visits",
    "issue_events",
    "issues",
    "checkins",
    "service_records",
    "buildings",
    "grids",
    "community",
];

/// What applying one page did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PageOutcome {
    pub applied: usize,
    pub deleted: usize,
    /// Upserts left alone because this device has unsent changes to the same record: the server
    /// copy is older than what the user typed, and comes again once the change is pushed.
    pub kept_local: usize,
    /// Records this app version cannot read (a newer server): skipped, not fatal.
    pub skipped: usize,
}

#[derive(Default)]
struct Batch {
    community: Option<Community>,
    grids: Vec<Grid>,
    buildings: Vec<Building>,
    households: Vec<Household>,
    residents_full: Vec<Resident>,
    residents_masked: Vec<Resident>,
    issues: Vec<Issue>,
    issue_events: Vec<IssueEvent>,
    visits: Vec<Visit>,
    checkins: Vec<CheckIn>,
    services: Vec<ServiceRecord>,
    departments: Vec<Department>,
    orders: Vec<Order>,
    order_events: Vec<OrderEvent>,
    callups: Vec<Callup>,
    callup_responses: Vec<CallupResponse>,
    commitments: Vec<Commitment>,
    commitment_events: Vec<CommitmentEvent>,
    patrols: Vec<Patrol>,
    base_maps: Vec<records::BaseMapRecord>,
}

fn photo_refs(list: &[String]) -> Vec<PhotoRef> {
    list.iter().filter_map(|p| PhotoRef::parse(p)).collect()
}

fn fix(l: &gridmate_protocol::mutations::Location) -> GpsFix {
    GpsFix {
        lat: l.lat,
        lon: l.lon,
        accuracy_m: l.accuracy_m.unwrap_or(0.0),
        mock_location: false,
    }
}

impl Batch {
    /// Add one decoded record; false if its values are not ones this version knows.
    fn add(&mut self, record: Record) -> bool {
        match record {
            Record::Grid(g) => {
                let Ok(grid) = g.to_model() else { return false };
                self.community = Some(Community {
                    id: CommunityId(g.community_id),
                    name: g.community_name,
                    district: String::new(),
                });
                self.grids.push(grid);
            }
            Record::Building(b) => self.buildings.push(Building {
                id: BuildingId(b.id),
                grid_id: GridId(b.grid_id),
                number: b.number,
                estate: b.estate,
                units: b.units,
                floors: b.floors,
                lat: b.lat,
                lon: b.lon,
            }),
            Record::Household(h) => self.households.push(Household {
                id: HouseholdId(h.id),
                building_id: BuildingId(h.building_id),
                grid_id: GridId(h.grid_id),
                unit: h.unit,
                room: h.room,
                address: h.address,
                head_name: h.head_name,
                tags: records::tags_from_codes(&h.tags),
                visit_cadence_days: h.visit_cadence_days,
            }),
            Record::Resident(r) => {
                let full = r.phone.is_some();
                // A masked number masks to itself, so it can ride in the phone field.
                let resident = Resident {
                    id: ResidentId(r.id),
                    household_id: HouseholdId(r.household_id),
                    name: r.name,
                    relation: r.relation,
                    birth_year: r.birth_year,
                    phone: r.phone.or(r.phone_masked),
                    id_number: r.id_number_masked,
                    tags: records::tags_from_codes(&r.tags),
                    moved_out: r.moved_out,
                };
                if full {
                    self.residents_full.push(resident);
                } else {
                    self.residents_masked.push(resident);
                }
            }
            Record::Issue(i) => {
                let (Some(category), Some(severity), Some(source), Some(status)) = (
                    IssueCategory::from_code(&i.category),
                    Severity::from_code(&i.severity),
                    IssueSource::from_code(&i.source),
                    IssueStatus::from_code(&i.status),
                ) else {
                    return false;
                };
                self.issues.push(Issue {
                    id: IssueId(i.id),
                    number: i.number,
                    grid_id: GridId(i.grid_id),
                    building_id: i.building_id.map(BuildingId),
                    household_id: i.household_id.map(HouseholdId),
                    category,
                    severity,
                    source,
                    status,
                    title: i.title,
                    description: i.description,
                    location: i.location.map(|l| (l.lat, l.lon)),
                    reported_by: UserId(i.reported_by),
                    reported_at: i.reported_at,
                    photos: photo_refs(&i.photos),
                    assignee: i.assignee_id.map(UserId),
                    department_id: i.department_id.map(DepartmentId),
                    due_at: i.due_at,
                });
            }
            Record::IssueEvent(e) => {
                let Some(action) = IssueAction::from_code(&e.action) else {
                    return false;
                };
                self.issue_events.push(IssueEvent {
                    id: IssueEventId(e.id),
                    issue_id: IssueId(e.issue_id),
                    action,
                    actor: UserId(e.actor_id),
                    note: e.note,
                    at: e.at,
                    photos: photo_refs(&e.photos),
                    merged_reason: e.merged_reason,
                });
            }
            Record::Visit(v) => {
                let (Some(kind), Some(outcome)) = (
                    VisitKind::from_code(&v.kind),
                    VisitOutcome::from_code(&v.outcome),
                ) else {
                    return false;
                };
                self.visits.push(Visit {
                    id: VisitId(v.id),
                    household_id: HouseholdId(v.household_id),
                    visitor: UserId(v.visitor_id),
                    started_at: v.started_at,
                    ended_at: v.ended_at,
                    kind,
                    outcome,
                    notes: v.notes,
                    people_served: v.people_served,
                    location: v.location.as_ref().map(fix),
                    photos: photo_refs(&v.photos),
                    raised_issues: vec![],
                });
            }
            Record::Checkin(c) => {
                let Some(verdict) = GeoVerdict::from_code(&c.verdict) else {
                    return false;
                };
                self.checkins.push(CheckIn {
                    id: CheckInId(c.id),
                    user_id: UserId(c.user_id),
                    grid_id: GridId(c.grid_id),
                    at: c.at,
                    fix: GpsFix {
                        mock_location: c.mock_location,
                        ..fix(&c.location)
                    },
                    verdict,
                    boundary_distance_m: c.boundary_distance_m,
                });
            }
            Record::ServiceRecord(s) => self.services.push(ServiceRecord {
                id: ServiceRecordId(s.id),
                user_id: UserId(s.user_id),
                grid_id: GridId(s.grid_id),
                issue_id: s.issue_id.map(IssueId),
                order_id: s.order_id.map(OrderId),
                title: s.title,
                at: s.at,
                hours_tenths: (s.hours * 10.0).round().clamp(0.0, f64::from(u16::MAX)) as u16,
                people_served: s.people_served,
                photos: photo_refs(&s.photos),
            }),
            Record::Department(d) => self.departments.push(d.to_model()),
            Record::Order(o) => match o.to_model() {
                Some(o) => self.orders.push(o),
                None => return false,
            },
            Record::OrderEvent(e) => match e.to_model() {
                Some(e) => self.order_events.push(e),
                None => return false,
            },
            Record::Callup(c) => self.callups.push(c.to_model()),
            Record::CallupResponse(r) => match r.to_model() {
                Some(r) => self.callup_responses.push(r),
                None => return false,
            },
            Record::Commitment(c) => match c.to_model() {
                Some(c) => self.commitments.push(c),
                None => return false,
            },
            Record::CommitmentEvent(e) => match e.to_model() {
                Some(e) => self.commitment_events.push(e),
                None => return false,
            },
            Record::Patrol(p) => self.patrols.push(p.to_model()),
            Record::BaseMap(m) => self.base_maps.push(m),
        }
        true
    }

    /// Everything in one pass that keeps full phones; then the residents that came masked.
    fn write(&self, tx: &Transaction<'_>) -> Result<()> {
        write_scope(
            tx,
            &ScopeData {
                community: self.community.as_ref(),
                grids: &self.grids,
                buildings: &self.buildings,
                households: &self.households,
                residents: &self.residents_full,
                visits: &self.visits,
                issues: &self.issues,
                issue_events: &self.issue_events,
                checkins: &self.checkins,
                services: &self.services,
                departments: &self.departments,
                orders: &self.orders,
                order_events: &self.order_events,
                callups: &self.callups,
                callup_responses: &self.callup_responses,
                commitments: &self.commitments,
                commitment_events: &self.commitment_events,
                patrols: &self.patrols,
                keep_full_phones: true,
            },
        )?;
        write_scope(
            tx,
            &ScopeData {
                residents: &self.residents_masked,
                keep_full_phones: false,
                ..ScopeData::default()
            },
        )?;
        crate::basemaps::write_pulled(tx, &self.base_maps)?;
        Ok(())
    }
}

impl Store {
    pub(crate) fn sync_value(&self, key: &str) -> Result<Option<String>> {
        state_get(&self.conn, key)
    }

    pub(crate) fn set_sync_value(&self, key: &str, value: Option<&str>) -> Result<()> {
        match value {
            Some(v) => state_set(&self.conn, key, v),
            None => {
                self.conn
                    .execute("DELETE FROM device_state WHERE key = ?1", [key])?;
                Ok(())
            }
        }
    }

    /// Apply one pulled page and move the cursor past it, in ONE transaction: a crash leaves the
    /// page either wholly applied with the new cursor, or not at all with the old one.
    pub fn apply_pull_page(&mut self, page: &RawPullPage) -> Result<PageOutcome> {
        // The feed is in server order, not parent-before-child: a household touched by a visit
        // after its residents were created comes after them. The server keeps referential
        // integrity; locally, foreign keys are off while a page goes in.
        self.conn.pragma_update(None, "foreign_keys", "OFF")?;
        let result = self.apply_page_inner(page);
        self.conn.pragma_update(None, "foreign_keys", "ON")?;
        result
    }

    fn apply_page_inner(&mut self, page: &RawPullPage) -> Result<PageOutcome> {
        let tx = self.conn.transaction()?;
        let pending: HashSet<Uuid> = {
            let mut st =
                tx.prepare_cached("SELECT subject_id FROM outbox WHERE state = 'pending'")?;
            st.query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?
        };
        let mut outcome = PageOutcome::default();
        let mut batch = Batch::default();
        let mut seen: Vec<(&'static str, Uuid, u64)> = Vec::with_capacity(page.changes.len());
        for change in &page.changes {
            if change.entity == Entity::Unknown {
                outcome.skipped += 1;
                continue;
            }
            let entity = change.entity.code();
            match change.op {
                Op::Delete => {
                    delete_record(&tx, entity, change.id)?;
                    outcome.deleted += 1;
                }
                Op::Upsert => {
                    seen.push((entity, change.id, change.seq));
                    if pending.contains(&change.id) {
                        outcome.kept_local += 1;
                        continue;
                    }
                    let added = records::decode_raw(change.entity, change.data.get())
                        .is_ok_and(|record| batch.add(record));
                    if added {
                        outcome.applied += 1;
                    } else {
                        outcome.skipped += 1;
                    }
                }
            }
        }
        batch.write(&tx)?;
        {
            // REPLACE, not an upsert: nothing hangs off `synced`, and SQLite's upsert is slower
            // per row even when nothing conflicts.
            let mut st = tx.prepare_cached(
                "INSERT OR REPLACE INTO synced (entity, id, seq, seen) VALUES (?1, ?2, ?3, 1)",
            )?;
            for (entity, id, seq) in &seen {
                st.execute(params![entity, id, *seq as i64])?;
            }
        }
        state_set(&tx, "sync_cursor", &page.cursor)?;
        state_set(&tx, "scope_epoch", &page.scope_epoch.to_string())?;
        tx.commit()?;
        Ok(outcome)
    }

    /// Count and digest of the server records this device holds (see `gridmate_protocol::digest`).
    pub fn local_digest(&self) -> Result<(u64, String)> {
        let mut st = self
            .conn
            .prepare_cached("SELECT entity, id, seq FROM synced WHERE seen = 1")?;
        let rows: Vec<(String, Uuid, i64)> = st
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(digest::scope_digest(
            rows.iter().map(|(e, id, s)| (e.as_str(), *id, *s as u64)),
        ))
    }

    /// Start a repair of the range after `after_seq` (0: the whole scope): the records held at
    /// a later sequence are unseen until the re-pull meets them again, and the cursor moves back
    /// to just after `after_seq`.
    pub(crate) fn begin_repair(&mut self, epoch: u64, after_seq: u64) -> Result<()> {
        self.conn.execute(
            "UPDATE synced SET seen = 0 WHERE seq > ?1",
            [after_seq as i64],
        )?;
        if after_seq == 0 {
            self.set_sync_value("sync_cursor", None)
        } else {
            self.set_sync_value(
                "sync_cursor",
                Some(&gridmate_protocol::cursor_after(epoch, after_seq)),
            )
        }
    }

    /// The sequence numbers a range repair tries to resume from, latest range first: where the
    /// newest tenth and the newest half of the held records begin, then the whole scope (0).
    pub(crate) fn repair_points(&self) -> Result<Vec<u64>> {
        let n: i64 = self
            .conn
            .query_row("SELECT COUNT(*) FROM synced", [], |r| r.get(0))?;
        let mut points = Vec::new();
        for skip in [n * 9 / 10, n / 2] {
            if skip <= 0 {
                continue;
            }
            let seq: Option<i64> = self
                .conn
                .query_row(
                    "SELECT seq FROM synced ORDER BY seq LIMIT 1 OFFSET ?1",
                    [skip - 1],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(s) = seq.filter(|s| *s > 0 && !points.contains(&(*s as u64))) {
                points.push(s as u64);
            }
        }
        points.push(0);
        Ok(points)
    }

    /// End a repair: what the re-pull did not meet has left the scope, unless the user has unsent
    /// changes to it.
    pub(crate) fn finish_repair(&mut self) -> Result<usize> {
        let tx = self.conn.transaction()?;
        let gone: Vec<(String, Uuid)> = {
            let mut st = tx.prepare(
                "SELECT entity, id FROM synced WHERE seen = 0
                   AND id NOT IN (SELECT subject_id FROM outbox WHERE state = 'pending')",
            )?;
            st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?
        };
        for (entity, id) in &gone {
            delete_record(&tx, entity, *id)?;
        }
        tx.execute("UPDATE synced SET seen = 1", [])?;
        tx.commit()?;
        Ok(gone.len())
    }

    /// Forget the cached scope (assignments changed): every cached record goes, the outbox and
    /// photos stay, and the next pull starts from the beginning.
    pub fn drop_scope(&mut self) -> Result<()> {
        let tx = self.conn.transaction()?;
        for t in ALL_TABLES {
            tx.execute(&format!("DELETE FROM {t}"), [])?;
        }
        tx.execute("DELETE FROM synced", [])?;
        tx.execute(
            "DELETE FROM device_state WHERE key IN ('sync_cursor', 'scope_epoch')",
            [],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The token was revoked (a lost phone): wipe residents' data and the session; keep the
    /// outbox, which goes up when someone signs in again on this device.
    pub fn wipe_personal_data(&mut self) -> Result<()> {
        let tx = self.conn.transaction()?;
        for t in PERSONAL_TABLES {
            tx.execute(&format!("DELETE FROM {t}"), [])?;
        }
        tx.execute("DELETE FROM synced", [])?;
        tx.execute(
            "DELETE FROM device_state WHERE key IN ('sync_cursor', 'scope_epoch', 'token',
                 'session', 'news_tasks_seen', 'news_closed_seen', 'patrol_active')",
            [],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The server this device last signed in to, so the app can sync after a restart.
    pub fn server_address(&self) -> Result<Option<String>> {
        self.sync_value("server")
    }

    /// The user signs out: like a revocation, residents' data and the session go and the outbox
    /// stays (the screen warns first when it holds unsent items).
    pub fn sign_out(&mut self) -> Result<()> {
        self.wipe_personal_data()
    }

    /// "Wipe this device": everything this install holds, unsent items, drafts and photo files
    /// included. Only the install's id survives.
    pub fn wipe_device(&mut self) -> Result<()> {
        let tx = self.conn.transaction()?;
        for t in ALL_TABLES {
            tx.execute(&format!("DELETE FROM {t}"), [])?;
        }
        for t in ["synced", "outbox", "photos", "drafts"] {
            tx.execute(&format!("DELETE FROM {t}"), [])?;
        }
        tx.execute("DELETE FROM device_state WHERE key <> 'device_id'", [])?;
        tx.commit()?;
        if let Ok(entries) = std::fs::read_dir(&self.photo_dir) {
            for e in entries.flatten() {
                let _ = std::fs::remove_file(e.path());
            }
        }
        Ok(())
    }

    /// A lost phone that never comes online again must not keep residents' data for ever: when
    /// the server has not been reached for `max_silence`, wipe personal data as a revocation
    /// would (the outbox stays). Returns whether it wiped. A device never signed in has nothing
    /// to wipe.
    pub fn wipe_if_out_of_contact(
        &mut self,
        max_silence: chrono::Duration,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<bool> {
        let Some(last) = self
            .sync_value("last_contact_at")?
            .and_then(|v| v.parse::<i64>().ok())
        else {
            return Ok(false);
        };
        if now.timestamp_millis() - last <= max_silence.num_milliseconds() {
            return Ok(false);
        }
        self.wipe_personal_data()?;
        self.set_sync_value("last_contact_at", None)?;
        Ok(true)
    }

    /// Photos not yet confirmed by the server, oldest first.
    pub fn photos_to_upload(&self, limit: usize) -> Result<Vec<(PhotoRef, PathBuf)>> {
        let mut st = self.conn.prepare_cached(
            "SELECT sha256, path FROM photos WHERE uploaded_at IS NULL ORDER BY created_at LIMIT ?1",
        )?;
        let rows = st.query_map([limit as i64], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (sha, path) = row?;
            let sha = PhotoRef::parse(&sha)
                .ok_or_else(|| DeviceError::Corrupt(format!("photo name {sha:?}")))?;
            out.push((sha, PathBuf::from(path)));
        }
        Ok(out)
    }

    /// The server holds this photo: from now on the file may be cleaned up.
    pub fn mark_photo_uploaded(&mut self, sha: &PhotoRef) -> Result<()> {
        self.conn.execute(
            "UPDATE photos SET uploaded_at = ?2 WHERE sha256 = ?1 AND uploaded_at IS NULL",
            params![sha.as_str(), ms(chrono::Utc::now())],
        )?;
        Ok(())
    }

    /// Advance this device's HLC past a time the server reported, so its next edits order after
    /// everything it has seen even when the phone's clock is behind.
    pub fn observe_server_time(&mut self, server_ms: i64) -> Result<()> {
        let tx = self.conn.transaction()?;
        let last = state_get(&tx, "hlc")?
            .and_then(|s| s.parse::<Hlc>().ok())
            .unwrap_or_default();
        let mut clock = HlcClock::resume(last);
        let stamp = clock.observe(Hlc::new(server_ms, 0), ms(chrono::Utc::now()));
        state_set(&tx, "hlc", &stamp.to_string())?;
        tx.commit()?;
        Ok(())
    }
}

fn delete_record(tx: &Transaction<'_>, entity: &str, id: Uuid) -> Result<()> {
    if let Some(t) = table(entity) {
        tx.execute(&format!("DELETE FROM {t} WHERE id = ?1"), [id])?;
    }
    tx.execute(
        "DELETE FROM synced WHERE entity = ?1 AND id = ?2",
        params![entity, id],
    )?;
    Ok(())
}
