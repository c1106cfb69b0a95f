//! The `data` of pulled changes, one type per [`Entity`](crate::Entity), and their conversion to
//! the domain types of `gridmate-model`.
//!
//! Residents' personal data travels masked: `phone_masked` always; the full `phone` only to roles
//! that call residents (grid workers and leaders); ID numbers never leave the server in full.

use crate::envelope::Entity;
use crate::mutations::Location;
use chrono::{DateTime, Utc};
use gridmate_model as m;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// GeoJSON `MultiPolygon` coordinates: polygons → rings → `[lon, lat]` positions, WGS-84.
pub type MultiPolygonCoords = Vec<Vec<Vec<[f64; 2]>>>;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GridRecord {
    pub id: Uuid,
    pub community_id: Uuid,
    pub community_name: String,
    pub code: String,
    pub name: String,
    pub kind: String,
    pub boundary: MultiPolygonCoords,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BuildingRecord {
    pub id: Uuid,
    pub grid_id: Uuid,
    pub number: String,
    pub estate: String,
    pub units: u16,
    pub floors: u16,
    pub lat: f64,
    pub lon: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HouseholdRecord {
    pub id: Uuid,
    pub grid_id: Uuid,
    pub building_id: Uuid,
    pub unit: u16,
    pub room: String,
    pub address: String,
    pub head_name: String,
    pub tags: Vec<String>,
    pub visit_cadence_days: u16,
    /// When the household was last visited, as the server knows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_visit_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResidentRecord {
    pub id: Uuid,
    pub household_id: Uuid,
    pub name: String,
    pub relation: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birth_year: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_masked: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_number_masked: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IssueRecord {
    pub id: Uuid,
    pub grid_id: Uuid,
    pub status: String,
    pub category: String,
    pub severity: String,
    pub source: String,
    pub title: String,
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub building_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub household_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    pub reported_by: Uuid,
    pub reported_at: DateTime<Utc>,
    #[serde(default)]
    pub photos: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee_id: Option<Uuid>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IssueEventRecord {
    pub id: Uuid,
    pub issue_id: Uuid,
    pub action: String,
    pub actor_id: Uuid,
    pub note: String,
    pub at: DateTime<Utc>,
    #[serde(default)]
    pub photos: Vec<String>,
    /// Set when the server kept this event as a comment because it was no longer a legal
    /// transition: the action the user meant, and why it did not apply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_reason: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VisitRecord {
    pub id: Uuid,
    pub household_id: Uuid,
    pub visitor_id: Uuid,
    pub started_at: DateTime<Utc>,
    pub ended_at: DateTime<Utc>,
    pub kind: String,
    pub outcome: String,
    pub notes: String,
    pub people_served: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    #[serde(default)]
    pub photos: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckinRecord {
    pub id: Uuid,
    pub user_id: Uuid,
    pub grid_id: Uuid,
    pub at: DateTime<Utc>,
    pub location: Location,
    pub verdict: String,
    /// The server's own verdict against its boundary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_verdict: Option<String>,
    pub boundary_distance_m: f64,
    #[serde(default)]
    pub mock_location: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServiceRecordRecord {
    pub id: Uuid,
    pub user_id: Uuid,
    pub grid_id: Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issue_id: Option<Uuid>,
    pub title: String,
    pub at: DateTime<Utc>,
    pub hours: f64,
    pub people_served: u16,
    #[serde(default)]
    pub photos: Vec<String>,
}

/// A decoded upsert.
#[derive(Clone, Debug, PartialEq)]
pub enum Record {
    Grid(GridRecord),
    Building(BuildingRecord),
    Household(HouseholdRecord),
    Resident(ResidentRecord),
    Issue(IssueRecord),
    IssueEvent(IssueEventRecord),
    Visit(VisitRecord),
    Checkin(CheckinRecord),
    ServiceRecord(ServiceRecordRecord),
}

#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("entity of unknown type")]
    UnknownEntity,
    #[error("malformed {entity:?} record: {source}")]
    Malformed {
        entity: Entity,
        source: serde_json::Error,
    },
    #[error("invalid {entity:?} record: {reason}")]
    Invalid { entity: Entity, reason: String },
}

/// Decode the raw JSON `data` of an upsert of `entity`, in one pass.
pub fn decode_raw(entity: Entity, data: &str) -> Result<Record, RecordError> {
    fn parse<T: serde::de::DeserializeOwned>(entity: Entity, data: &str) -> Result<T, RecordError> {
        serde_json::from_str(data).map_err(|source| RecordError::Malformed { entity, source })
    }
    Ok(match entity {
        Entity::Grid => Record::Grid(parse(entity, data)?),
        Entity::Building => Record::Building(parse(entity, data)?),
        Entity::Household => Record::Household(parse(entity, data)?),
        Entity::Resident => Record::Resident(parse(entity, data)?),
        Entity::Issue => Record::Issue(parse(entity, data)?),
        Entity::IssueEvent => Record::IssueEvent(parse(entity, data)?),
        Entity::Visit => Record::Visit(parse(entity, data)?),
        Entity::Checkin => Record::Checkin(parse(entity, data)?),
        Entity::ServiceRecord => Record::ServiceRecord(parse(entity, data)?),
        Entity::Unknown => return Err(RecordError::UnknownEntity),
    })
}

/// Decode the `data` of an upsert of `entity` already parsed as a JSON value.
pub fn decode(entity: Entity, data: &serde_json::Value) -> Result<Record, RecordError> {
    decode_raw(entity, &data.to_string())
}

impl Record {
    pub fn entity(&self) -> Entity {
        match self {
            Record::Grid(_) => Entity::Grid,
            Record::Building(_) => Entity::Building,
            Record::Household(_) => Entity::Household,
            Record::Resident(_) => Entity::Resident,
            Record::Issue(_) => Entity::Issue,
            Record::IssueEvent(_) => Entity::IssueEvent,
            Record::Visit(_) => Entity::Visit,
            Record::Checkin(_) => Entity::Checkin,
            Record::ServiceRecord(_) => Entity::ServiceRecord,
        }
    }
}

/// GeoJSON coordinates → `geo::MultiPolygon`. Every ring must have at least four positions
/// (closed) with coordinates in range.
pub fn boundary_to_geo(coords: &MultiPolygonCoords) -> Result<geo::MultiPolygon<f64>, String> {
    use geo::{Coord, LineString, MultiPolygon, Polygon};
    let ring = |r: &Vec<[f64; 2]>| -> Result<LineString<f64>, String> {
        if r.len() < 4 || r.first() != r.last() {
            return Err("a ring needs at least 4 positions and must be closed".into());
        }
        for p in r {
            m::validate::coordinates(p[1], p[0], None).map_err(|e| e.to_string())?;
        }
        Ok(LineString(
            r.iter().map(|p| Coord { x: p[0], y: p[1] }).collect(),
        ))
    };
    let mut polys = Vec::with_capacity(coords.len());
    for poly in coords {
        let mut rings = poly.iter().map(ring);
        let exterior = rings.next().ok_or("a polygon needs an exterior ring")??;
        let interiors = rings.collect::<Result<Vec<_>, _>>()?;
        polys.push(Polygon::new(exterior, interiors));
    }
    if polys.is_empty() {
        return Err("a boundary needs at least one polygon".into());
    }
    Ok(MultiPolygon(polys))
}

/// `geo::MultiPolygon` → GeoJSON coordinates.
pub fn boundary_from_geo(b: &geo::MultiPolygon<f64>) -> MultiPolygonCoords {
    b.iter()
        .map(|p| {
            std::iter::once(p.exterior())
                .chain(p.interiors())
                .map(|r| r.coords().map(|c| [c.x, c.y]).collect())
                .collect()
        })
        .collect()
}

impl GridRecord {
    pub fn to_model(&self) -> Result<m::Grid, String> {
        Ok(m::Grid {
            id: self.id.into(),
            community_id: self.community_id.into(),
            code: self.code.clone(),
            name: self.name.clone(),
            kind: m::GridKind::from_code(&self.kind).ok_or("unknown grid kind")?,
            boundary: boundary_to_geo(&self.boundary)?,
        })
    }

    pub fn from_model(g: &m::Grid, community_name: &str) -> Self {
        Self {
            id: g.id.0,
            community_id: g.community_id.0,
            community_name: community_name.to_string(),
            code: g.code.clone(),
            name: g.name.clone(),
            kind: g.kind.code().to_string(),
            boundary: boundary_from_geo(&g.boundary),
        }
    }
}

/// Tag codes → tags, skipping codes this version does not know (a newer server may add some).
pub fn tags_from_codes(codes: &[String]) -> Vec<m::HouseholdTag> {
    codes
        .iter()
        .filter_map(|c| m::HouseholdTag::from_code(c))
        .collect()
}

pub fn tags_to_codes(tags: &[m::HouseholdTag]) -> Vec<String> {
    tags.iter().map(|t| t.code().to_string()).collect()
}
