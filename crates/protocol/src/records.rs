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
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub moved_out: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IssueRecord {
    pub id: Uuid,
    /// The office's number (`2026-000123`), given by the server when it first receives the
    /// issue; absent before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
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
    /// Set by `escalate`: the department it went to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department_id: Option<Uuid>,
    /// Reported time + the category's and severity's time limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_at: Option<DateTime<Utc>>,
    /// The reporting resident's latest rating (`rate`, `send_back`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub satisfaction: Option<String>,
    /// Reported on the resident page by someone not yet matched to the community's roll.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unverified: bool,
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
    /// A resident's rating (`rate`, `send_back`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub satisfaction: Option<String>,
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
    /// The order this service carried out, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<Uuid>,
    pub title: String,
    pub at: DateTime<Utc>,
    pub hours: f64,
    pub people_served: u16,
    #[serde(default)]
    pub photos: Vec<String>,
}

/// An escalation target, community-wide; sent to every user.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DepartmentRecord {
    pub id: Uuid,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

/// A resident's request (三单制). The server keeps `status`, `assignee_id`, `taker_id` and
/// `satisfaction` as the replay of its `order_event`s left them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OrderRecord {
    pub id: Uuid,
    /// The office's number (`2026-000045`), given by the server when it first receives the
    /// order; absent before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    pub grid_id: Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub building_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub household_id: Option<Uuid>,
    pub kind: String,
    pub source: String,
    pub status: String,
    pub title: String,
    pub description: String,
    pub requester: String,
    pub address: String,
    pub recorded_by: Uuid,
    pub recorded_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taker_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub satisfaction: Option<String>,
    #[serde(default)]
    pub photos: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OrderEventRecord {
    pub id: Uuid,
    pub order_id: Uuid,
    pub action: String,
    pub actor_id: Uuid,
    pub note: String,
    pub at: DateTime<Utc>,
    #[serde(default)]
    pub photos: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub satisfaction: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_reason: Option<String>,
}

/// A call-up (一键响应) of one grid.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CallupRecord {
    pub id: Uuid,
    pub grid_id: Uuid,
    /// Role codes called; empty: everyone of the grid.
    #[serde(default)]
    pub roles: Vec<String>,
    pub place: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    pub at: DateTime<Utc>,
    pub message: String,
    pub created_by: Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<DateTime<Utc>>,
    /// Those silent this many minutes after the call-up are called again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recall_after_minutes: Option<u32>,
    /// When the server received it and sent the call (absent on call-ups from before).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub called_at: Option<DateTime<Utc>>,
}

/// One person's answer to a call-up; the latest per person counts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CallupResponseRecord {
    pub id: Uuid,
    pub callup_id: Uuid,
    pub user_id: Uuid,
    pub answer: String,
    pub at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// For an arrival: metres from the meeting point, as the server measured it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distance_m: Option<f64>,
}

/// A party member's commitment for the year (承诺践诺); `status` and `progress` as its events
/// left them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CommitmentRecord {
    pub id: Uuid,
    pub grid_id: Uuid,
    pub user_id: Uuid,
    pub user_name: String,
    pub year: i32,
    pub title: String,
    pub description: String,
    pub status: String,
    #[serde(default)]
    pub progress: u32,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CommitmentEventRecord {
    pub id: Uuid,
    pub commitment_id: Uuid,
    pub action: String,
    pub note: String,
    pub at: DateTime<Utc>,
    #[serde(default)]
    pub photos: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_id: Option<Uuid>,
}

/// A patrol (巡查): its simplified track as GeoJSON `[lon, lat]` positions, and the length the
/// server measured on it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PatrolRecord {
    pub id: Uuid,
    pub grid_id: Uuid,
    pub user_id: Uuid,
    pub started_at: DateTime<Utc>,
    pub ended_at: DateTime<Utc>,
    pub track: Vec<[f64; 2]>,
    pub distance_m: f64,
    pub notes: String,
    #[serde(default)]
    pub issues: Vec<Uuid>,
}

/// One feature of a grid's base map: an area as GeoJSON MultiPolygon coordinates, or a line as
/// MultiLineString coordinates (`[lon, lat]`, WGS-84), never both.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MapFeatureRecord {
    /// building | road | water | green
    pub kind: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub building_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub polygons: MultiPolygonCoords,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<Vec<[f64; 2]>>,
}

/// A grid's base map (底图): one record per grid, replaced whole when the office imports again.
/// Bounded by `gridmate_model::basemap` (features, vertices).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BaseMapRecord {
    pub id: Uuid,
    pub grid_id: Uuid,
    pub features: Vec<MapFeatureRecord>,
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
    Department(DepartmentRecord),
    Order(OrderRecord),
    OrderEvent(OrderEventRecord),
    Callup(CallupRecord),
    CallupResponse(CallupResponseRecord),
    Commitment(CommitmentRecord),
    CommitmentEvent(CommitmentEventRecord),
    Patrol(PatrolRecord),
    BaseMap(BaseMapRecord),
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
        Entity::Department => Record::Department(parse(entity, data)?),
        Entity::Order => Record::Order(parse(entity, data)?),
        Entity::OrderEvent => Record::OrderEvent(parse(entity, data)?),
        Entity::Callup => Record::Callup(parse(entity, data)?),
        Entity::CallupResponse => Record::CallupResponse(parse(entity, data)?),
        Entity::Commitment => Record::Commitment(parse(entity, data)?),
        Entity::CommitmentEvent => Record::CommitmentEvent(parse(entity, data)?),
        Entity::Patrol => Record::Patrol(parse(entity, data)?),
        Entity::BaseMap => Record::BaseMap(parse(entity, data)?),
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
            Record::Department(_) => Entity::Department,
            Record::Order(_) => Entity::Order,
            Record::OrderEvent(_) => Entity::OrderEvent,
            Record::Callup(_) => Entity::Callup,
            Record::CallupResponse(_) => Entity::CallupResponse,
            Record::Commitment(_) => Entity::Commitment,
            Record::CommitmentEvent(_) => Entity::CommitmentEvent,
            Record::Patrol(_) => Entity::Patrol,
            Record::BaseMap(_) => Entity::BaseMap,
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

fn photo_codes(photos: &[m::PhotoRef]) -> Vec<String> {
    photos.iter().map(|p| p.as_str().to_string()).collect()
}

fn photo_refs(codes: &[String]) -> Vec<m::PhotoRef> {
    codes.iter().filter_map(|c| m::PhotoRef::parse(c)).collect()
}

impl IssueRecord {
    pub fn from_model(i: &m::Issue) -> Self {
        Self {
            id: i.id.0,
            number: i.number.clone(),
            grid_id: i.grid_id.0,
            status: i.status.code().into(),
            category: i.category.code().into(),
            severity: i.severity.code().into(),
            source: i.source.code().into(),
            title: i.title.clone(),
            description: i.description.clone(),
            building_id: i.building_id.map(|b| b.0),
            household_id: i.household_id.map(|h| h.0),
            location: i.location.map(|(lat, lon)| Location {
                lat,
                lon,
                accuracy_m: None,
            }),
            reported_by: i.reported_by.0,
            reported_at: i.reported_at,
            photos: photo_codes(&i.photos),
            assignee_id: i.assignee.map(|a| a.0),
            department_id: i.department_id.map(|d| d.0),
            due_at: i.due_at,
            satisfaction: None,
            unverified: false,
        }
    }
}

impl DepartmentRecord {
    pub fn from_model(d: &m::Department) -> Self {
        Self {
            id: d.id.0,
            name: d.name.clone(),
            phone: d.phone.clone(),
        }
    }

    pub fn to_model(&self) -> m::Department {
        m::Department {
            id: self.id.into(),
            name: self.name.clone(),
            phone: self.phone.clone(),
        }
    }
}

impl OrderRecord {
    pub fn from_model(o: &m::Order) -> Self {
        Self {
            id: o.id.0,
            number: o.number.clone(),
            grid_id: o.grid_id.0,
            building_id: o.building_id.map(|b| b.0),
            household_id: o.household_id.map(|h| h.0),
            kind: o.kind.code().into(),
            source: o.source.code().into(),
            status: o.status.code().into(),
            title: o.title.clone(),
            description: o.description.clone(),
            requester: o.requester.clone(),
            address: o.address.clone(),
            recorded_by: o.recorded_by.0,
            recorded_at: o.recorded_at,
            due_at: o.due_at,
            assignee_id: o.assignee.map(|a| a.0),
            taker_id: o.taker.map(|t| t.0),
            satisfaction: o.satisfaction.map(|s| s.code().into()),
            photos: vec![],
        }
    }

    /// The domain order; `None` when a code is one this version does not know.
    pub fn to_model(&self) -> Option<m::Order> {
        Some(m::Order {
            id: self.id.into(),
            number: self.number.clone(),
            grid_id: self.grid_id.into(),
            building_id: self.building_id.map(Into::into),
            household_id: self.household_id.map(Into::into),
            kind: m::OrderKind::from_code(&self.kind)?,
            source: m::OrderSource::from_code(&self.source)?,
            status: m::OrderStatus::from_code(&self.status)?,
            title: self.title.clone(),
            description: self.description.clone(),
            requester: self.requester.clone(),
            address: self.address.clone(),
            recorded_by: self.recorded_by.into(),
            recorded_at: self.recorded_at,
            due_at: self.due_at,
            assignee: self.assignee_id.map(Into::into),
            taker: self.taker_id.map(Into::into),
            satisfaction: match &self.satisfaction {
                Some(code) => Some(m::Satisfaction::from_code(code)?),
                None => None,
            },
        })
    }
}

impl OrderEventRecord {
    pub fn from_model(e: &m::OrderEvent) -> Self {
        Self {
            id: e.id.0,
            order_id: e.order_id.0,
            action: e.action.code().into(),
            actor_id: e.actor.0,
            note: e.note.clone(),
            at: e.at,
            photos: photo_codes(&e.photos),
            assignee_id: e.assignee.map(|a| a.0),
            satisfaction: e.satisfaction.map(|s| s.code().into()),
            merged_reason: e.merged_reason.clone(),
        }
    }

    pub fn to_model(&self) -> Option<m::OrderEvent> {
        Some(m::OrderEvent {
            id: self.id.into(),
            order_id: self.order_id.into(),
            action: m::OrderAction::from_code(&self.action)?,
            actor: self.actor_id.into(),
            note: self.note.clone(),
            at: self.at,
            photos: photo_refs(&self.photos),
            assignee: self.assignee_id.map(Into::into),
            satisfaction: match &self.satisfaction {
                Some(code) => Some(m::Satisfaction::from_code(code)?),
                None => None,
            },
            merged_reason: self.merged_reason.clone(),
        })
    }
}

impl CallupResponseRecord {
    pub fn from_model(r: &m::CallupResponse) -> Self {
        Self {
            id: r.id.0,
            callup_id: r.callup_id.0,
            user_id: r.user_id.0,
            answer: r.answer.code().into(),
            at: r.at,
            location: r.location.as_ref().map(Location::from),
            distance_m: r.distance_m,
        }
    }
}

impl ServiceRecordRecord {
    pub fn from_model(s: &m::ServiceRecord) -> Self {
        Self {
            id: s.id.0,
            user_id: s.user_id.0,
            grid_id: s.grid_id.0,
            issue_id: s.issue_id.map(|i| i.0),
            order_id: s.order_id.map(|o| o.0),
            title: s.title.clone(),
            at: s.at,
            hours: f64::from(s.hours_tenths) / 10.0,
            people_served: s.people_served,
            photos: s.photos.iter().map(|p| p.as_str().to_string()).collect(),
        }
    }
}

impl CheckinRecord {
    /// A check-in as the phone judged it, with the server's own verdict where it judged one.
    pub fn from_model(c: &m::CheckIn, server_verdict: Option<m::GeoVerdict>) -> Self {
        Self {
            id: c.id.0,
            user_id: c.user_id.0,
            grid_id: c.grid_id.0,
            at: c.at,
            location: Location::from(&c.fix),
            verdict: c.verdict.code().into(),
            server_verdict: server_verdict.map(|v| v.code().into()),
            boundary_distance_m: c.boundary_distance_m,
            mock_location: c.fix.mock_location,
        }
    }
}

impl PatrolRecord {
    pub fn from_model(p: &m::Patrol) -> Self {
        Self {
            id: p.id.0,
            grid_id: p.grid_id.0,
            user_id: p.user_id.0,
            started_at: p.started_at,
            ended_at: p.ended_at,
            // GeoJSON's order: [lon, lat].
            track: p.track.iter().map(|(lat, lon)| [*lon, *lat]).collect(),
            distance_m: p.distance_m,
            notes: p.notes.clone(),
            issues: p.issues.iter().map(|i| i.0).collect(),
        }
    }
}

impl CallupRecord {
    pub fn from_model(c: &m::Callup) -> Self {
        Self {
            id: c.id.0,
            grid_id: c.grid_id.0,
            roles: c.roles.iter().map(|r| r.code().to_string()).collect(),
            place: c.place.clone(),
            location: c.location.map(|(lat, lon)| Location {
                lat,
                lon,
                accuracy_m: None,
            }),
            at: c.at,
            message: c.message.clone(),
            created_by: c.created_by.0,
            closed_at: c.closed_at,
            recall_after_minutes: c.recall_after_minutes,
            called_at: None,
        }
    }

    /// The domain call-up; roles this version does not know are dropped.
    pub fn to_model(&self) -> m::Callup {
        m::Callup {
            id: self.id.into(),
            grid_id: self.grid_id.into(),
            roles: self
                .roles
                .iter()
                .filter_map(|r| m::Role::from_code(r))
                .collect(),
            place: self.place.clone(),
            location: self.location.map(|l| (l.lat, l.lon)),
            at: self.at,
            message: self.message.clone(),
            created_by: self.created_by.into(),
            closed_at: self.closed_at,
            recall_after_minutes: self.recall_after_minutes,
        }
    }
}

impl CallupResponseRecord {
    pub fn to_model(&self) -> Option<m::CallupResponse> {
        Some(m::CallupResponse {
            id: self.id.into(),
            callup_id: self.callup_id.into(),
            user_id: self.user_id.into(),
            answer: m::CallupAnswer::from_code(&self.answer)?,
            at: self.at,
            location: self.location.map(|l| m::GpsFix {
                lat: l.lat,
                lon: l.lon,
                accuracy_m: l.accuracy_m.unwrap_or(0.0),
                mock_location: false,
            }),
            distance_m: self.distance_m,
        })
    }
}

impl CommitmentRecord {
    pub fn from_model(c: &m::Commitment) -> Self {
        Self {
            id: c.id.0,
            grid_id: c.grid_id.0,
            user_id: c.user_id.0,
            user_name: c.user_name.clone(),
            year: c.year,
            title: c.title.clone(),
            description: c.description.clone(),
            status: c.status.code().into(),
            progress: c.progress,
            created_at: c.created_at,
        }
    }

    pub fn to_model(&self) -> Option<m::Commitment> {
        Some(m::Commitment {
            id: self.id.into(),
            grid_id: self.grid_id.into(),
            user_id: self.user_id.into(),
            user_name: self.user_name.clone(),
            year: self.year,
            title: self.title.clone(),
            description: self.description.clone(),
            status: m::CommitmentStatus::from_code(&self.status)?,
            progress: self.progress,
            created_at: self.created_at,
        })
    }
}

impl CommitmentEventRecord {
    pub fn from_model(e: &m::CommitmentEvent) -> Self {
        Self {
            id: e.id.0,
            commitment_id: e.commitment_id.0,
            action: e.action.code().into(),
            note: e.note.clone(),
            at: e.at,
            photos: photo_codes(&e.photos),
            service_id: e.service_id.map(|s| s.0),
        }
    }

    pub fn to_model(&self) -> Option<m::CommitmentEvent> {
        Some(m::CommitmentEvent {
            id: self.id.into(),
            commitment_id: self.commitment_id.into(),
            action: m::CommitmentAction::from_code(&self.action)?,
            note: self.note.clone(),
            at: self.at,
            photos: photo_refs(&self.photos),
            service_id: self.service_id.map(Into::into),
        })
    }
}

impl PatrolRecord {
    pub fn to_model(&self) -> m::Patrol {
        m::Patrol {
            id: self.id.into(),
            grid_id: self.grid_id.into(),
            user_id: self.user_id.into(),
            started_at: self.started_at,
            ended_at: self.ended_at,
            track: self.track.iter().map(|p| (p[1], p[0])).collect(),
            distance_m: self.distance_m,
            notes: self.notes.clone(),
            issues: self.issues.iter().map(|&i| i.into()).collect(),
        }
    }
}

/// Coordinates kept to 6 decimals (about 0.1 m): what a base map needs, in half the JSON.
fn position(c: geo::Coord<f64>) -> [f64; 2] {
    let round = |v: f64| (v * 1e6).round() / 1e6;
    [round(c.x), round(c.y)]
}

impl MapFeatureRecord {
    pub fn from_model(f: &m::MapFeature) -> Self {
        let ring = |r: &geo::LineString<f64>| r.coords().map(|c| position(*c)).collect::<Vec<_>>();
        let (polygons, lines) = match &f.shape {
            m::basemap::Shape::Area(a) => (
                a.iter()
                    .map(|p| {
                        std::iter::once(p.exterior())
                            .chain(p.interiors())
                            .map(ring)
                            .collect()
                    })
                    .collect(),
                vec![],
            ),
            m::basemap::Shape::Line(l) => (vec![], l.iter().map(ring).collect()),
        };
        MapFeatureRecord {
            kind: f.kind.code().to_string(),
            name: f.name.clone(),
            building_id: f.building_id.map(|b| b.0),
            polygons,
            lines,
        }
    }

    /// The model's feature, or why this one cannot be one (an unknown kind, an area given as
    /// lines, a ring that is not closed...).
    pub fn to_model(&self) -> Result<m::MapFeature, String> {
        use geo::{Coord, LineString, MultiLineString};
        let kind = m::MapFeatureKind::from_code(&self.kind)
            .ok_or_else(|| format!("unknown feature kind {:?}", self.kind))?;
        let shape = if kind.is_area() {
            if !self.lines.is_empty() {
                return Err(format!("a {} is an area, not lines", self.kind));
            }
            m::basemap::Shape::Area(boundary_to_geo(&self.polygons)?)
        } else {
            if !self.polygons.is_empty() {
                return Err("a road is a line, not an area".into());
            }
            let mut lines = Vec::with_capacity(self.lines.len());
            for l in &self.lines {
                if l.len() < 2 {
                    return Err("a line needs at least two positions".into());
                }
                for p in l {
                    m::validate::coordinates(p[1], p[0], None).map_err(|e| e.to_string())?;
                }
                lines.push(LineString(
                    l.iter().map(|p| Coord { x: p[0], y: p[1] }).collect(),
                ));
            }
            m::basemap::Shape::Line(MultiLineString(lines))
        };
        Ok(m::MapFeature {
            kind,
            name: self.name.clone(),
            building_id: self.building_id.map(Into::into),
            shape,
        })
    }
}

impl BaseMapRecord {
    pub fn from_model(id: Uuid, map: &m::BaseMap) -> Self {
        BaseMapRecord {
            id,
            grid_id: map.grid_id.0,
            features: map
                .features
                .iter()
                .map(MapFeatureRecord::from_model)
                .collect(),
        }
    }

    /// The model's base map; a feature it cannot read is left out (a newer server's kind).
    pub fn to_model(&self) -> m::BaseMap {
        m::BaseMap {
            grid_id: self.grid_id.into(),
            features: self
                .features
                .iter()
                .filter_map(|f| f.to_model().ok())
                .collect(),
        }
    }
}
