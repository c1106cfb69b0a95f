//! Request and response envelopes of each route.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Every error answer: `{"error": {"code": "snake_case_code", "message": "..."}}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorDetail {
    pub code: String,
    pub message: String,
}

impl ErrorBody {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            error: ErrorDetail {
                code: code.into(),
                message: message.into(),
            },
        }
    }
}

/// `GET /api/v1/health`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Health {
    pub status: String,
    pub schema_version: u32,
    pub protocol_versions: Vec<u32>,
}

/// `POST /api/v1/session`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginRequest {
    pub phone: String,
    pub password: String,
    pub device_id: String,
    pub device_name: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginResponse {
    pub token: String,
    pub user: UserInfo,
    pub assignments: Vec<AssignmentInfo>,
    /// The scope epoch the token starts in; pulls carry it back.
    #[serde(default)]
    pub scope_epoch: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserInfo {
    pub id: Uuid,
    pub name: String,
    /// Role codes of `gridmate_model::Role`.
    pub roles: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AssignmentInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grid_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub building_id: Option<Uuid>,
    pub role: String,
}

/// The entity of a pulled change. Unknown entities (from a newer server) decode as `Unknown` so an
/// older app can skip them instead of failing the page.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Entity {
    Grid,
    Building,
    Household,
    Resident,
    Issue,
    IssueEvent,
    Visit,
    Checkin,
    ServiceRecord,
    Department,
    Order,
    OrderEvent,
    Callup,
    CallupResponse,
    Commitment,
    CommitmentEvent,
    Patrol,
    BaseMap,
    #[serde(other)]
    Unknown,
}

impl Entity {
    pub const ALL: [Entity; 18] = [
        Entity::Grid,
        Entity::Building,
        Entity::Household,
        Entity::Resident,
        Entity::Issue,
        Entity::IssueEvent,
        Entity::Visit,
        Entity::Checkin,
        Entity::ServiceRecord,
        Entity::Department,
        Entity::Order,
        Entity::OrderEvent,
        Entity::Callup,
        Entity::CallupResponse,
        Entity::Commitment,
        Entity::CommitmentEvent,
        Entity::Patrol,
        Entity::BaseMap,
    ];

    /// The snake_case code on the wire, in storage and in the scope digest.
    pub fn code(self) -> &'static str {
        match self {
            Entity::Grid => "grid",
            Entity::Building => "building",
            Entity::Household => "household",
            Entity::Resident => "resident",
            Entity::Issue => "issue",
            Entity::IssueEvent => "issue_event",
            Entity::Visit => "visit",
            Entity::Checkin => "checkin",
            Entity::ServiceRecord => "service_record",
            Entity::Department => "department",
            Entity::Order => "order",
            Entity::OrderEvent => "order_event",
            Entity::Callup => "callup",
            Entity::CallupResponse => "callup_response",
            Entity::Commitment => "commitment",
            Entity::CommitmentEvent => "commitment_event",
            Entity::Patrol => "patrol",
            Entity::BaseMap => "base_map",
            Entity::Unknown => "unknown",
        }
    }

    pub fn from_code(code: &str) -> Entity {
        Entity::ALL
            .into_iter()
            .find(|e| e.code() == code)
            .unwrap_or(Entity::Unknown)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Op {
    Upsert,
    Delete,
}

/// One change in a pull page. `data` is the entity's full current record for an upsert (decode it
/// with [`crate::records::decode`]) and `{"id": ...}` for a delete.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub seq: u64,
    pub entity: Entity,
    pub id: Uuid,
    pub op: Op,
    pub data: serde_json::Value,
}

/// `GET /api/v1/sync/pull?cursor=C&limit=N`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PullPage {
    pub changes: Vec<Change>,
    /// Opaque: pass it back unchanged as the next `cursor`.
    pub cursor: String,
    pub has_more: bool,
    pub scope_epoch: u64,
    /// Rows in the caller's scope at `cursor`, and a digest of their state, to detect drift.
    pub scope_count: u64,
    pub scope_digest: String,
}

/// A change whose record stays raw JSON: what the server sends (its stored JSON passes through)
/// and what a device reads (each record is decoded once, straight into its type). Same wire
/// shape as [`Change`].
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RawChange {
    pub seq: u64,
    pub entity: Entity,
    pub id: Uuid,
    pub op: Op,
    /// The record's current state for an upsert, `{"id": ...}` for a delete.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub data: Box<serde_json::value::RawValue>,
}

/// [`PullPage`] with [`RawChange`]s.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RawPullPage {
    pub changes: Vec<RawChange>,
    pub cursor: String,
    pub has_more: bool,
    pub scope_epoch: u64,
    pub scope_count: u64,
    pub scope_digest: String,
}

/// `POST /api/v1/sync/push`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushRequest {
    pub device_id: String,
    pub mutations: Vec<crate::Mutation>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum PushStatus {
    Applied,
    Duplicate,
    Merged,
    Rejected,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushResult {
    pub id: Uuid,
    pub status: PushStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorDetail>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushResponse {
    pub results: Vec<PushResult>,
}
