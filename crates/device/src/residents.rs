//! The roll in the field (实有人口): a household registered on the spot (a tenant moving in), a
//! person added to a household, a resident's facts corrected (phone, tags, moved out). Each is
//! ONE transaction of the local record and its outbox mutation; corrections travel per field
//! with this device's HLC, and the server's conflict log keeps what an edit overwrote.

use crate::cache::{ScopeData, write_scope};
use crate::store::{Session, Store};
use crate::writes::enqueue_checked;
use crate::{DeviceError, Result};
use chrono::Utc;
use gridmate_model::community::{cadence_for, household_address};
use gridmate_model::validate::{self, ValidationError, limits};
use gridmate_model::*;
use gridmate_protocol::MutationPayload;
use gridmate_protocol::mutations::{HouseholdCreateData, PatchData, ResidentCreateData};
use rusqlite::{OptionalExtension, Transaction, params};
use serde_json::json;

/// A household as the "register a household" form fills it in. Its head is registered with it
/// as its first member (户主), with the phone given.
#[derive(Clone, Debug, PartialEq)]
pub struct NewHousehold {
    pub building_id: BuildingId,
    pub unit: u16,
    pub room: String,
    pub head_name: String,
    pub head_phone: Option<String>,
    /// 出租户 for a tenant, plus whatever else applies.
    pub tags: Vec<HouseholdTag>,
}

/// A person as the "add a member" form fills it in.
#[derive(Clone, Debug, PartialEq)]
pub struct NewResident {
    pub household_id: HouseholdId,
    pub name: String,
    pub relation: String,
    pub birth_year: Option<u16>,
    pub phone: Option<String>,
    pub tags: Vec<HouseholdTag>,
}

/// What a correction changes: `None` leaves a field as it is. `phone: Some(None)` clears it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ResidentPatch {
    pub phone: Option<Option<String>>,
    pub tags: Option<Vec<HouseholdTag>>,
    pub moved_out: Option<bool>,
}

fn write_one(tx: &Transaction<'_>, households: &[Household], residents: &[Resident]) -> Result<()> {
    write_scope(
        tx,
        &ScopeData {
            households,
            residents,
            // The user typed the number: this device may hold it.
            keep_full_phones: true,
            ..ScopeData::default()
        },
    )?;
    Ok(())
}

fn register_household_in(
    tx: &Transaction<'_>,
    session: &Session,
    n: NewHousehold,
) -> Result<HouseholdId> {
    let room = validate::room(&n.room)?;
    let head_name = validate::text("head_name", &n.head_name, limits::NAME, true)?;
    if let Some(p) = &n.head_phone {
        validate::phone(p)?;
    }
    if !(1..=99).contains(&n.unit) {
        return Err(ValidationError::OutOfRange {
            field: "unit",
            value: f64::from(n.unit),
        }
        .into());
    }
    let (grid_id, estate, number): (GridId, String, String) = tx
        .query_row(
            "SELECT grid_id, estate, number FROM buildings WHERE id = ?1",
            [n.building_id.0],
            |r| Ok((GridId(r.get(0)?), r.get(1)?, r.get(2)?)),
        )
        .optional()?
        .ok_or_else(|| DeviceError::not_found("building", n.building_id))?;
    let household = Household {
        id: HouseholdId::new_v7(),
        building_id: n.building_id,
        grid_id,
        unit: n.unit,
        address: household_address(&estate, &number, n.unit, &room),
        room: room.clone(),
        head_name: head_name.clone(),
        visit_cadence_days: cadence_for(&n.tags),
        tags: n.tags.clone(),
    };
    write_one(tx, std::slice::from_ref(&household), &[])?;
    let payload = MutationPayload::HouseholdCreate(HouseholdCreateData {
        household_id: household.id.0,
        building_id: n.building_id.0,
        unit: n.unit,
        room,
        head_name: head_name.clone(),
        tags: n.tags.iter().map(|t| t.code().to_string()).collect(),
    });
    enqueue_checked(tx, payload, household.id.0, Utc::now())?;
    add_resident_in(
        tx,
        session,
        NewResident {
            household_id: household.id,
            name: head_name,
            relation: HEAD.into(),
            birth_year: None,
            phone: n.head_phone,
            tags: vec![],
        },
    )?;
    Ok(household.id)
}

/// How the roll names the head of a household (与户主关系).
pub const HEAD: &str = "户主";

fn add_resident_in(tx: &Transaction<'_>, _session: &Session, n: NewResident) -> Result<ResidentId> {
    let name = validate::text("name", &n.name, limits::NAME, true)?;
    let relation = validate::text("relation", &n.relation, limits::NAME, false)?;
    let phone = n.phone.as_deref().map(validate::phone).transpose()?;
    if n.birth_year.is_some_and(|y| !(1900..=2100).contains(&y)) {
        return Err(ValidationError::OutOfRange {
            field: "birth_year",
            value: f64::from(n.birth_year.unwrap_or_default()),
        }
        .into());
    }
    let known = tx
        .query_row(
            "SELECT 1 FROM households WHERE id = ?1",
            [n.household_id.0],
            |_| Ok(()),
        )
        .optional()?;
    if known.is_none() {
        return Err(DeviceError::not_found("household", n.household_id));
    }
    let resident = Resident {
        id: ResidentId::new_v7(),
        household_id: n.household_id,
        name: name.clone(),
        relation: relation.clone(),
        birth_year: n.birth_year,
        phone: phone.clone(),
        id_number: None,
        tags: n.tags.clone(),
        moved_out: false,
    };
    write_one(tx, &[], std::slice::from_ref(&resident))?;
    let payload = MutationPayload::ResidentCreate(ResidentCreateData {
        resident_id: resident.id.0,
        household_id: n.household_id.0,
        name,
        relation,
        birth_year: n.birth_year,
        phone,
        tags: n.tags.iter().map(|t| t.code().to_string()).collect(),
    });
    enqueue_checked(tx, payload, resident.id.0, Utc::now())?;
    Ok(resident.id)
}

fn patch_resident_in(
    tx: &Transaction<'_>,
    _session: &Session,
    id: ResidentId,
    patch: ResidentPatch,
) -> Result<()> {
    let known = tx
        .query_row("SELECT 1 FROM residents WHERE id = ?1", [id.0], |_| Ok(()))
        .optional()?;
    if known.is_none() {
        return Err(DeviceError::not_found("resident", id));
    }
    let mut fields = std::collections::BTreeMap::new();
    if let Some(phone) = &patch.phone {
        let phone = phone.as_deref().map(validate::phone).transpose()?;
        tx.execute(
            "UPDATE residents SET phone = ?2, phone_masked = ?3 WHERE id = ?1",
            params![id.0, phone, phone.as_deref().map(validate::mask_phone)],
        )?;
        fields.insert("phone".to_string(), json!(phone));
    }
    if let Some(tags) = &patch.tags {
        tx.execute(
            "UPDATE residents SET tags = ?2 WHERE id = ?1",
            params![id.0, crate::columns::tags_text(tags)],
        )?;
        fields.insert(
            "tags".to_string(),
            json!(tags.iter().map(|t| t.code()).collect::<Vec<_>>()),
        );
    }
    if let Some(moved_out) = patch.moved_out {
        tx.execute(
            "UPDATE residents SET moved_out = ?2 WHERE id = ?1",
            params![id.0, moved_out],
        )?;
        fields.insert("moved_out".to_string(), json!(moved_out));
    }
    if fields.is_empty() {
        return Ok(());
    }
    let payload = MutationPayload::ResidentPatch(PatchData { id: id.0, fields });
    enqueue_checked(tx, payload, id.0, Utc::now())?;
    Ok(())
}

impl Store {
    /// Register a household in a building of my scope (a tenant moving in, 流动人口登记), its
    /// head as its first member.
    pub fn register_household(&mut self, n: NewHousehold) -> Result<HouseholdId> {
        self.one_action(|tx, session| register_household_in(tx, session, n))
    }

    /// Add a person to a household.
    pub fn add_resident(&mut self, n: NewResident) -> Result<ResidentId> {
        self.one_action(|tx, session| add_resident_in(tx, session, n))
    }

    /// Correct a resident's phone or tags, or mark them moved out.
    pub fn patch_resident(&mut self, id: ResidentId, patch: ResidentPatch) -> Result<()> {
        self.one_action(|tx, session| patch_resident_in(tx, session, id, patch))
    }
}
