//! Writing the cached scope: the grid, its buildings, households, residents, issues and visit
//! history as the server (or the demo generator) describes them. Upserts, so the same code loads
//! an empty device and refreshes a full one.

use crate::search_keys::name_keys;
use crate::store::Store;
use crate::time::{ms, DAY_MS};
use crate::Result;
use gridmate_model::validate::{mask_id_number, mask_phone};
use gridmate_model::*;
use gridmate_protocol::records::boundary_from_geo;
use rusqlite::{params, Transaction};

/// One scope's worth of records, borrowed. The demo generator, tests and (later) the snapshot
/// pull all hand the store this.
#[derive(Clone, Copy)]
pub struct ScopeData<'a> {
    pub community: &'a Community,
    pub grids: &'a [Grid],
    pub buildings: &'a [Building],
    pub households: &'a [Household],
    pub residents: &'a [Resident],
    pub visits: &'a [Visit],
    pub issues: &'a [Issue],
    /// Keep residents' full phone numbers (roles that call residents); otherwise only the
    /// masked form is stored.
    pub keep_full_phones: bool,
}

impl<'a> ScopeData<'a> {
    /// The whole demo community as one scope (a community admin's view).
    pub fn of_demo(d: &'a gridmate_demo::DemoCommunity, keep_full_phones: bool) -> Self {
        Self {
            community: &d.community,
            grids: &d.grids,
            buildings: &d.buildings,
            households: &d.households,
            residents: &d.residents,
            visits: &d.visits,
            issues: &d.issues,
            keep_full_phones,
        }
    }
}

/// Rows written by a load.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LoadStats {
    pub rows: usize,
}

pub(crate) fn join_codes<'a>(codes: impl IntoIterator<Item = &'a str>) -> String {
    codes.into_iter().collect::<Vec<_>>().join(",")
}

pub(crate) fn split_codes(s: &str) -> impl Iterator<Item = &str> {
    s.split(',').filter(|c| !c.is_empty())
}

pub(crate) fn photos_text(photos: &[PhotoRef]) -> String {
    join_codes(photos.iter().map(|p| p.as_str()))
}

pub(crate) fn tags_text(tags: &[HouseholdTag]) -> String {
    join_codes(tags.iter().map(|t| t.code()))
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

fn write_scope(tx: &Transaction<'_>, d: &ScopeData<'_>) -> Result<usize> {
    let mut rows = 0;
    tx.execute(
        "INSERT INTO community (id, name, district) VALUES (?1, ?2, ?3)
         ON CONFLICT(id) DO UPDATE SET name = excluded.name, district = excluded.district",
        params![d.community.id.0, d.community.name, d.community.district],
    )?;
    {
        let mut st = tx.prepare_cached(
            "INSERT INTO grids (id, community_id, code, name, kind, boundary)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT(id) DO UPDATE SET code = excluded.code, name = excluded.name,
                 kind = excluded.kind, boundary = excluded.boundary",
        )?;
        for g in d.grids {
            let boundary = serde_json::to_string(&boundary_from_geo(&g.boundary))
                .map_err(|e| crate::DeviceError::Corrupt(e.to_string()))?;
            st.execute(params![
                g.id.0,
                g.community_id.0,
                g.code,
                g.name,
                g.kind.code(),
                boundary
            ])?;
            rows += 1;
        }
    }
    {
        let mut st = tx.prepare_cached(
            "INSERT INTO buildings (id, grid_id, number, estate, units, floors, lat, lon)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT(id) DO UPDATE SET grid_id = excluded.grid_id, number = excluded.number,
                 estate = excluded.estate, units = excluded.units, floors = excluded.floors,
                 lat = excluded.lat, lon = excluded.lon",
        )?;
        for b in d.buildings {
            st.execute(params![
                b.id.0, b.grid_id.0, b.number, b.estate, b.units, b.floors, b.lat, b.lon
            ])?;
            rows += 1;
        }
    }
    {
        let mut st = tx.prepare_cached(
            "INSERT INTO households (id, grid_id, building_id, unit, room, address, head_name,
                 tags, vulnerable, visit_cadence_days, last_visit_at, due_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, NULL, 0)
             ON CONFLICT(id) DO UPDATE SET grid_id = excluded.grid_id,
                 building_id = excluded.building_id, unit = excluded.unit, room = excluded.room,
                 address = excluded.address, head_name = excluded.head_name,
                 tags = excluded.tags, vulnerable = excluded.vulnerable,
                 visit_cadence_days = excluded.visit_cadence_days",
        )?;
        for h in d.households {
            st.execute(params![
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
            ])?;
            rows += 1;
        }
    }
    {
        let mut st = tx.prepare_cached(
            "INSERT INTO residents (id, household_id, name, name_pinyin, name_initials, relation,
                 birth_year, phone, phone_masked, id_number_masked, tags)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
             ON CONFLICT(id) DO UPDATE SET household_id = excluded.household_id,
                 name = excluded.name, name_pinyin = excluded.name_pinyin,
                 name_initials = excluded.name_initials, relation = excluded.relation,
                 birth_year = excluded.birth_year, phone = excluded.phone,
                 phone_masked = excluded.phone_masked,
                 id_number_masked = excluded.id_number_masked, tags = excluded.tags",
        )?;
        for r in d.residents {
            let (pinyin, initials) = name_keys(&r.name);
            st.execute(params![
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
            ])?;
            rows += 1;
        }
    }
    {
        let mut st = tx.prepare_cached(
            "INSERT INTO visits (id, household_id, visitor, started_at, ended_at, kind, outcome,
                 notes, people_served, lat, lon, accuracy_m, photos)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
             ON CONFLICT(id) DO NOTHING",
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
    {
        let mut st = tx.prepare_cached(
            "INSERT INTO issues (id, grid_id, building_id, household_id, category, severity,
                 source, status, title, description, lat, lon, reported_by, reported_at, photos)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)
             ON CONFLICT(id) DO UPDATE SET status = excluded.status, title = excluded.title,
                 description = excluded.description, severity = excluded.severity",
        )?;
        for i in d.issues {
            st.execute(params![
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
            ])?;
            rows += 1;
        }
    }
    refresh_visit_status(tx)?;
    Ok(rows)
}

/// Recompute every household's last visit and due time from the visits table, in one pass.
fn refresh_visit_status(tx: &Transaction<'_>) -> Result<()> {
    tx.execute(
        "UPDATE households SET last_visit_at =
             (SELECT MAX(started_at) FROM visits WHERE visits.household_id = households.id)",
        [],
    )?;
    tx.execute(
        "UPDATE households SET due_at = COALESCE(last_visit_at + visit_cadence_days * ?1, 0)",
        [DAY_MS],
    )?;
    Ok(())
}

/// After one new visit: move the household's last visit and due time forward (never back).
pub(crate) fn note_visit(tx: &Transaction<'_>, household: HouseholdId, started_ms: i64) -> Result<()> {
    tx.execute(
        "UPDATE households
            SET last_visit_at = MAX(COALESCE(last_visit_at, 0), ?2),
                due_at = MAX(COALESCE(last_visit_at, 0), ?2) + visit_cadence_days * ?3
          WHERE id = ?1",
        params![household.0, started_ms, DAY_MS],
    )?;
    Ok(())
}
