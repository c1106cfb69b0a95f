//! Who sees which record, who may edit it, and what is hidden from whom: the one statement of
//! the scope rules, which every backend translates into its own query.
//!
//! A record carries where it belongs (grid, building, owner); a caller's [`Scope`] is a union of
//! [`Rule`]s over those. Whole-grid roles (grid worker, grid leader, community office) see their
//! grids; building leaders their buildings, their grid's outline and the issues they reported;
//! party members their grid's outline, issues and orders, and their own check-ins and service;
//! building leaders and party members their grid's call-ups and the answers to them; party
//! members their grid's public commitments; residents the issues they reported and their steps;
//! everyone the shared lists (departments, filed under the [`SHARED`] grid id).
//! Households and residents reach nobody outside those. [`Scope::admits`] is the rule in Rust;
//! a backend's translation is tested against it.

use super::Principal;
use gridmate_model::Role;
use gridmate_protocol::Entity;
use uuid::Uuid;

/// One way a record can be in scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    /// Every record of the scope's grids.
    Grids,
    /// Every record of the scope's buildings.
    Buildings,
    /// Records of these entities in the scope's grids.
    EntitiesInGrids(&'static [Entity]),
    /// Records of these entities the scope's user owns (reported, checked in, served).
    EntitiesOwned(&'static [Entity]),
}

/// What a caller may read: the union of its rules over its grids, buildings and user id.
#[derive(Clone, Debug, PartialEq)]
pub struct Scope {
    pub grids: Vec<Uuid>,
    pub buildings: Vec<Uuid>,
    pub owner: Uuid,
    pub rules: Vec<Rule>,
}

/// Where a record belongs, as the scope rules read it.
#[derive(Clone, Copy, Debug)]
pub struct Placement {
    pub entity: Entity,
    pub grid_id: Option<Uuid>,
    pub building_id: Option<Uuid>,
    pub owner_id: Option<Uuid>,
}

/// Records every user of the server sees (the departments to escalate to) are filed under this
/// grid id, which no real grid has, and every scope includes it: the per-grid digests and feed
/// slices then cover them as one more grid, and the whole-grid fast paths stay whole-grid.
pub const SHARED: Uuid = Uuid::nil();

const GRID_OUTLINE: &[Entity] = &[
    Entity::Grid,
    Entity::BaseMap,
    Entity::Department,
    Entity::Callup,
    Entity::CallupResponse,
];
const REPORTED: &[Entity] = &[Entity::Issue, Entity::IssueEvent, Entity::Patrol];
const GRID_LEDGER: &[Entity] = &[
    Entity::Grid,
    Entity::BaseMap,
    Entity::Department,
    Entity::Issue,
    Entity::IssueEvent,
    Entity::Order,
    Entity::OrderEvent,
    Entity::Callup,
    Entity::CallupResponse,
    Entity::Commitment,
    Entity::CommitmentEvent,
];
const OWN_SERVICE: &[Entity] = &[Entity::Checkin, Entity::ServiceRecord, Entity::Patrol];
/// What a resident sees: the issues they reported and each step of them.
pub const OWN_REPORTS: &[Entity] = &[Entity::Issue, Entity::IssueEvent];

impl Scope {
    pub fn of(p: &Principal) -> Scope {
        let mut rules = Vec::new();
        if p.sees_whole_grids() {
            rules.push(Rule::Grids);
        }
        if p.has(Role::BuildingLeader) {
            rules.push(Rule::Buildings);
            rules.push(Rule::EntitiesInGrids(GRID_OUTLINE));
            rules.push(Rule::EntitiesOwned(REPORTED));
        }
        if p.has(Role::PartyMember) {
            rules.push(Rule::EntitiesInGrids(GRID_LEDGER));
            rules.push(Rule::EntitiesOwned(OWN_SERVICE));
        }
        if p.has(Role::Resident) {
            rules.push(Rule::EntitiesOwned(OWN_REPORTS));
        }
        Scope {
            grids: p.grids.iter().copied().chain([SHARED]).collect(),
            buildings: p.buildings.clone(),
            owner: p.user_id,
            rules,
        }
    }

    /// Does this scope include the record?
    pub fn admits(&self, r: &Placement) -> bool {
        let in_grids = r.grid_id.is_some_and(|g| self.grids.contains(&g));
        self.rules.iter().any(|rule| match rule {
            Rule::Grids => in_grids,
            Rule::Buildings => r.building_id.is_some_and(|b| self.buildings.contains(&b)),
            Rule::EntitiesInGrids(entities) => in_grids && entities.contains(&r.entity),
            Rule::EntitiesOwned(entities) => {
                r.owner_id == Some(self.owner) && entities.contains(&r.entity)
            }
        })
    }

    /// The scope as an SQL condition over `records` columns prefixed by `t` ("" or "r."), for
    /// the SQL backends: each gives its own spelling of the three membership tests (a column in
    /// the scope's grids, in its buildings, equal to its owner). Entity codes are the protocol's
    /// fixed words, never user input.
    pub fn to_sql(
        &self,
        t: &str,
        in_grids: impl Fn(&str) -> String,
        in_buildings: impl Fn(&str) -> String,
        is_owner: impl Fn(&str) -> String,
    ) -> String {
        let codes = |entities: &[Entity]| {
            entities
                .iter()
                .map(|e| format!("'{}'", e.code()))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let (grid, building, owner) = (
            format!("{t}grid_id"),
            format!("{t}building_id"),
            format!("{t}owner_id"),
        );
        let parts: Vec<String> = self
            .rules
            .iter()
            .map(|rule| match rule {
                Rule::Grids => in_grids(&grid),
                Rule::Buildings => in_buildings(&building),
                Rule::EntitiesInGrids(entities) => {
                    format!(
                        "({t}entity IN ({}) AND {})",
                        codes(entities),
                        in_grids(&grid)
                    )
                }
                Rule::EntitiesOwned(entities) => {
                    format!(
                        "({t}entity IN ({}) AND {})",
                        codes(entities),
                        is_owner(&owner)
                    )
                }
            })
            .collect();
        if parts.is_empty() {
            "1 = 0".into()
        } else {
            format!("({})", parts.join(" OR "))
        }
    }

    /// A scope of whole grids and nothing else: its count and digest are the sum of the
    /// grids' maintained digests, and its feed is a merge of per-grid slices.
    pub fn is_whole_grids(&self) -> bool {
        self.rules == [Rule::Grids]
    }
}

/// May this caller edit a household or resident, or record a visit, placed here? Whole-grid
/// roles in their grids, building leaders in their buildings.
pub fn may_edit(p: &Principal, grid: Option<Uuid>, building: Option<Uuid>) -> bool {
    (p.sees_whole_grids() && grid.is_some_and(|g| p.grids.contains(&g)))
        || building.is_some_and(|b| p.buildings.contains(&b))
}

/// Is anything of this entity hidden from this caller? Only a resident's full phone, from roles
/// that do not call residents (they keep the masked one).
pub fn redacts(entity: Entity, p: &Principal) -> bool {
    entity == Entity::Resident && !p.may_call_residents()
}

/// A record as this caller may see it.
pub fn redact(entity: Entity, mut data: serde_json::Value, p: &Principal) -> serde_json::Value {
    if redacts(entity, p)
        && let Some(obj) = data.as_object_mut()
    {
        obj.remove("phone");
    }
    data
}
