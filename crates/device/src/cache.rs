//! Writing the cached scope: the grid, its buildings, households, residents, issues and visit
//! history as the server (or the demo generator) describes them. Upserts, so the same code loads
//! an empty device and refreshes a full one.

use crate::Result;
use crate::columns::{photos_text, tags_text};
use crate::due::note_visit;
use crate::store::Store;
use crate::time::{DAY_MS, ms};
use gridmate_model::search_keys::name_keys;
use gridmate_model::validate::{mask_id_number, mask_phone};
use gridmate_model::*;
use gridmate_protocol::records::boundary_from_geo;
use rusqlite::{Transaction, params};
use std::collections::{HashMap, HashSet};

/// One scope's worth of records, borrowed. The demo generator, tests and (later) the snapshot
/// pull all hand the store this.
#[derive(Clone, Copy, Default)]
pub struct ScopeData<'a> {
    /// Absent when a pull page carries no grid (the community rides on its grids).
    pub community: Option<&'a Community>,
    pub grids: &'a [Grid],
    pub buildings: &'a [Building],
    pub households: &'a [Household],
    pub residents: &'a [Resident],
    pub visits: &'a [Visit],
    pub issues: &'a [Issue],
    pub issue_events: &'a [IssueEvent],
    pub checkins: &'a [CheckIn],
    pub services: &'a [ServiceRecord],
    pub departments: &'a [Department],
    pub orders: &'a [Order],
    pub order_events: &'a [OrderEvent],
    pub callups: &'a [Callup],
    pub callup_responses: &'a [CallupResponse],
    pub commitments: &'a [Commitment],
    pub commitment_events: &'a [CommitmentEvent],
    pub patrols: &'a [Patrol],
    /// Keep residents' full phone numbers (roles that call residents); otherwise only the
    /// masked form is stored.
    pub keep_full_phones: bool,
}

#[cfg(feature = "demo")]
impl<'a> ScopeData<'a> {
    /// The whole demo community as one scope (a community admin's view).
    pub fn of_demo(d: &'a gridmate_demo::DemoCommunity, keep_full_phones: bool) -> Self {
        Self {
            community: Some(&d.community),
            grids: &d.grids,
            buildings: &d.buildings,
            households: &d.households,
            residents: &d.residents,
            visits: &d.visits,
            issues: &d.issues,
            issue_events: &d.issue_events,
            checkins: &d.checkins,
            services: &d.service_records,
            departments: &d.departments,
            orders: &d.orders,
            order_events: &d.order_events,
            callups: &d.callups,
            callup_responses: &d.callup_responses,
            commitments: &d.commitments,
            commitment_events: &d.commitment_events,
            patrols: &d.patrols,
            keep_full_phones,
        }
    }
}

/// Rows written by a load.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LoadStats {
    pub rows: usize,
}

impl Store {
    /// Load a whole scope in one transaction. Existing rows with the same ids are updated.
    pub fn load_scope(&mut self, data: ScopeData<'_>) -> Result<LoadStats> {
        let tx = self.conn.transaction()?;
        let rows = write_scope(&tx, &data)?;
        tx.commit()?;
        Ok(LoadStats { rows })
    }
}

/// Insert a row, or update it when its id is already cached. A plain INSERT goes first because
/// SQLite's `INSERT … ON CONFLICT DO UPDATE` measured 2.5× slower per row here even when nothing
/// conflicts, and a first load is all new rows; a conflict costs one failed insert and an update.
fn put(
    insert: &mut rusqlite::CachedStatement<'_>,
    update: &mut rusqlite::CachedStatement<'_>,
    params: &[&dyn rusqlite::ToSql],
) -> Result<()> {
    match insert.execute(params) {
        Ok(_) => Ok(()),
        Err(rusqlite::Error::SqliteFailure(e, _))
            if e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY =>
        {
            update.execute(params)?;
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

pub(crate) fn write_scope(tx: &Transaction<'_>, d: &ScopeData<'_>) -> Result<usize> {
    let mut rows = 0;
    if let Some(c) = d.community {
        tx.execute(
            "INSERT INTO community (id, name, district) VALUES (?1, ?2, ?3)
             ON CONFLICT(id) DO UPDATE SET name = excluded.name, district = excluded.district",
            params![c.id.0, c.name, c.district],
        )?;
    }
    {
        let mut ins = tx.prepare_cached(
            "INSERT INTO grids (id, community_id, code, name, kind, boundary)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        let mut upd = tx.prepare_cached(
            "UPDATE grids SET community_id = ?2, code = ?3, name = ?4, kind = ?5, boundary = ?6
              WHERE id = ?1",
        )?;
        for g in d.grids {
            let boundary = serde_json::to_string(&boundary_from_geo(&g.boundary))
                .map_err(|e| crate::DeviceError::Corrupt(e.to_string()))?;
            put(
                &mut ins,
                &mut upd,
                params![
                    g.id.0,
                    g.community_id.0,
                    g.code,
                    g.name,
                    g.kind.code(),
                    boundary
                ],
            )?;
            rows += 1;
        }
    }
    {
        let mut ins = tx.prepare_cached(
            "INSERT INTO buildings (id, grid_id, number, estate, units, floors, lat, lon)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?;
        let mut upd = tx.prepare_cached(
            "UPDATE buildings SET grid_id = ?2, number = ?3, estate = ?4, units = ?5,
                    floors = ?6, lat = ?7, lon = ?8
              WHERE id = ?1",
        )?;
        for b in d.buildings {
            put(
                &mut ins,
                &mut upd,
                params![
                    b.id.0,
                    b.grid_id.0,
                    b.number,
                    b.estate,
                    b.units,
                    b.floors,
                    b.lat,
                    b.lon
                ],
            )?;
            rows += 1;
        }
    }
    // Each household's latest visit in this batch, so households go in with their visit status
    // and no second pass over the table is needed.
    let mut last_visit: HashMap<HouseholdId, i64> = HashMap::with_capacity(d.households.len());
    for v in d.visits {
        let t = ms(v.started_at);
        last_visit
            .entry(v.household_id)
            .and_modify(|l| *l = (*l).max(t))
            .or_insert(t);
    }
    {
        let mut ins = tx.prepare_cached(
            "INSERT INTO households (id, grid_id, building_id, unit, room, address, head_name,
                 tags, vulnerable, visit_cadence_days, last_visit_at, due_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11,
                     COALESCE(?11 + ?10 * ?12, 0))",
        )?;
        // An update keeps the later of the cached and the new last visit; the due time follows
        // it and the (possibly new) cadence.
        let mut upd = tx.prepare_cached(
            "UPDATE households SET grid_id = ?2, building_id = ?3, unit = ?4, room = ?5,
                    address = ?6, head_name = ?7, tags = ?8, vulnerable = ?9,
                    visit_cadence_days = ?10,
                    last_visit_at = MAX(COALESCE(last_visit_at, ?11), COALESCE(?11, last_visit_at)),
                    due_at = COALESCE(
                        MAX(COALESCE(last_visit_at, ?11), COALESCE(?11, last_visit_at)) + ?10 * ?12,
                        0)
              WHERE id = ?1",
        )?;
        for h in d.households {
            put(
                &mut ins,
                &mut upd,
                params![
                    h.id.0,
                    h.grid_id.0,
                    h.building_id.0,
                    h.unit,
                    h.room,
                    h.address,
                    h.head_name,
                    tags_text(&h.tags),
                    h.is_vulnerable(),
                    h.visit_cadence_days,
                    last_visit.get(&h.id),
                    DAY_MS,
                ],
            )?;
            rows += 1;
        }
    }
    {
        let mut ins = tx.prepare_cached(
            "INSERT INTO residents (id, household_id, name, name_pinyin, name_initials, relation,
                 birth_year, phone, phone_masked, id_number_masked, tags, moved_out)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        )?;
        let mut upd = tx.prepare_cached(
            "UPDATE residents SET household_id = ?2, name = ?3, name_pinyin = ?4,
                    name_initials = ?5, relation = ?6, birth_year = ?7, phone = ?8,
                    phone_masked = ?9, id_number_masked = ?10, tags = ?11, moved_out = ?12
              WHERE id = ?1",
        )?;
        for r in d.residents {
            let (pinyin, initials) = name_keys(&r.name);
            put(
                &mut ins,
                &mut upd,
                params![
                    r.id.0,
                    r.household_id.0,
                    r.name,
                    pinyin,
                    initials,
                    r.relation,
                    r.birth_year,
                    r.phone.as_deref().filter(|_| d.keep_full_phones),
                    r.phone.as_deref().map(mask_phone),
                    r.id_number.as_deref().map(mask_id_number),
                    tags_text(&r.tags),
                    r.moved_out,
                ],
            )?;
            rows += 1;
        }
    }
    {
        // Visits are immutable: a visit already cached is the same visit.
        let mut st = tx.prepare_cached(
            "INSERT OR IGNORE INTO visits (id, household_id, visitor, started_at, ended_at, kind,
                 outcome, notes, people_served, lat, lon, accuracy_m, photos)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        )?;
        for v in d.visits {
            st.execute(params![
                v.id.0,
                v.household_id.0,
                v.visitor.0,
                ms(v.started_at),
                ms(v.ended_at),
                v.kind.code(),
                v.outcome.code(),
                v.notes,
                v.people_served,
                v.location.map(|l| l.lat),
                v.location.map(|l| l.lon),
                v.location.map(|l| l.accuracy_m),
                photos_text(&v.photos),
            ])?;
            rows += 1;
        }
    }
    // Visits for households cached earlier (not in this batch) move those households' status.
    let in_batch: HashSet<HouseholdId> = d.households.iter().map(|h| h.id).collect();
    for (&household, &t) in last_visit.iter().filter(|(h, _)| !in_batch.contains(h)) {
        note_visit(tx, household, t)?;
    }
    {
        let mut ins = tx.prepare_cached(
            "INSERT INTO issues (id, grid_id, building_id, household_id, category, severity,
                 source, status, title, description, lat, lon, reported_by, reported_at, photos,
                 assignee, department_id, due_at, number)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
                 ?18, ?19)",
        )?;
        let mut upd = tx.prepare_cached(
            "UPDATE issues SET grid_id = ?2, building_id = ?3, household_id = ?4, category = ?5,
                    severity = ?6, source = ?7, status = ?8, title = ?9, description = ?10,
                    lat = ?11, lon = ?12, reported_by = ?13, reported_at = ?14, photos = ?15,
                    assignee = ?16, department_id = ?17, due_at = ?18, number = ?19
              WHERE id = ?1",
        )?;
        for i in d.issues {
            put(
                &mut ins,
                &mut upd,
                params![
                    i.id.0,
                    i.grid_id.0,
                    i.building_id.map(|b| b.0),
                    i.household_id.map(|h| h.0),
                    i.category.code(),
                    i.severity.code(),
                    i.source.code(),
                    i.status.code(),
                    i.title,
                    i.description,
                    i.location.map(|l| l.0),
                    i.location.map(|l| l.1),
                    i.reported_by.0,
                    ms(i.reported_at),
                    photos_text(&i.photos),
                    i.assignee.map(|a| a.0),
                    i.department_id.map(|d| d.0),
                    i.due_at.map(ms),
                    i.number,
                ],
            )?;
            rows += 1;
        }
    }
    {
        let mut ins = tx.prepare_cached(
            "INSERT INTO issue_events (id, issue_id, action, actor, note, at, photos, merged_reason)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?;
        let mut upd = tx.prepare_cached(
            "UPDATE issue_events SET issue_id = ?2, action = ?3, actor = ?4, note = ?5, at = ?6,
                    photos = ?7, merged_reason = ?8
              WHERE id = ?1",
        )?;
        for e in d.issue_events {
            put(
                &mut ins,
                &mut upd,
                params![
                    e.id.0,
                    e.issue_id.0,
                    e.action.code(),
                    e.actor.0,
                    e.note,
                    ms(e.at),
                    photos_text(&e.photos),
                    e.merged_reason
                ],
            )?;
            rows += 1;
        }
    }
    {
        // Check-ins and service records are immutable once made.
        let mut st = tx.prepare_cached(
            "INSERT OR IGNORE INTO checkins (id, user_id, grid_id, at, lat, lon, accuracy_m,
                 mock_location, verdict, boundary_distance_m)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )?;
        for c in d.checkins {
            st.execute(params![
                c.id.0,
                c.user_id.0,
                c.grid_id.0,
                ms(c.at),
                c.fix.lat,
                c.fix.lon,
                c.fix.accuracy_m,
                c.fix.mock_location,
                c.verdict.code(),
                c.boundary_distance_m
            ])?;
            rows += 1;
        }
        let mut st = tx.prepare_cached(
            "INSERT OR IGNORE INTO service_records (id, user_id, grid_id, issue_id, title, at,
                 hours_tenths, people_served, photos, order_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )?;
        for s in d.services {
            st.execute(params![
                s.id.0,
                s.user_id.0,
                s.grid_id.0,
                s.issue_id.map(|i| i.0),
                s.title,
                ms(s.at),
                s.hours_tenths,
                s.people_served,
                photos_text(&s.photos),
                s.order_id.map(|o| o.0),
            ])?;
            rows += 1;
        }
    }
    rows += crate::orders::write_pulled(tx, d.departments, d.orders, d.order_events)?;
    rows += crate::callups::write_pulled(tx, d.callups, d.callup_responses)?;
    rows += crate::commitments::write_pulled(tx, d.commitments, d.commitment_events)?;
    rows += crate::patrols::write_pulled(tx, d.patrols)?;
    Ok(rows)
}
