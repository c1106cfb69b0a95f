//! Mutations: what a device pushes. Each has its own UUIDv7 `id` (the idempotency key), a `kind`,
//! the device's wall-clock `recorded_at`, its hybrid logical clock stamp `hlc`, and a `data`
//! payload whose shape depends on the kind.
//!
//! The envelope keeps `data` as raw JSON so that one bad payload fails only its own mutation:
//! [`Mutation::payload`] decodes and validates it into a [`MutationPayload`] or says why not.

use chrono::{DateTime, Utc};
use gridmate_model::validate::{self, ValidationError, limits};
use gridmate_model::{
    CallupAnswer, CommitmentAction, GeoVerdict, Hlc, IssueAction, IssueCategory, IssueSource,
    OrderAction, OrderKind, OrderSource, PhotoRef, Role, Satisfaction, Severity, VisitKind,
    VisitOutcome,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Mutation {
    /// Made on the device (UUIDv7); the idempotency key.
    pub id: Uuid,
    /// One of [`MutationPayload::KINDS`] (`visit.record`, `issue.report`, `order.create`,
    /// `callup.respond`, …); an unknown kind is `rejected`, not a 400.
    pub kind: String,
    pub recorded_at: DateTime<Utc>,
    /// `"<wall_ms>-<counter>"`, see `gridmate_model::Hlc`.
    pub hlc: String,
    /// The kind's payload (docs/protocol.md); one that fails validation is `rejected`.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub data: serde_json::Value,
}

/// Why one mutation cannot be applied. `code()` is the `error.code` of a `rejected` result.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum PayloadError {
    #[error("unknown mutation kind {0:?}")]
    UnknownKind(String),
    #[error("malformed {kind} data: {reason}")]
    Malformed { kind: &'static str, reason: String },
    #[error("invalid {kind} data: {0}", kind = .1)]
    Invalid(ValidationError, &'static str),
    #[error("invalid {kind} data: {reason}")]
    BadValue { kind: &'static str, reason: String },
}

impl PayloadError {
    pub fn code(&self) -> &'static str {
        match self {
            PayloadError::UnknownKind(_) => "unknown_kind",
            _ => "invalid",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Location {
    pub lat: f64,
    pub lon: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accuracy_m: Option<f64>,
}

impl From<&gridmate_model::GpsFix> for Location {
    fn from(f: &gridmate_model::GpsFix) -> Self {
        Location {
            lat: f.lat,
            lon: f.lon,
            accuracy_m: Some(f.accuracy_m),
        }
    }
}

impl Location {
    fn check(&self) -> Result<(), ValidationError> {
        validate::coordinates(self.lat, self.lon, self.accuracy_m)
    }
}

/// `visit.record`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VisitData {
    pub visit_id: Uuid,
    pub household_id: Uuid,
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
    /// Issues raised from needs found on this visit (reported in the same push, before it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub raised_issues: Vec<Uuid>,
}

/// `issue.report`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssueReportData {
    pub issue_id: Uuid,
    pub grid_id: Uuid,
    pub category: String,
    pub title: String,
    pub description: String,
    pub severity: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub building_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub household_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    #[serde(default)]
    pub photos: Vec<String>,
    #[serde(default = "default_source")]
    pub source: String,
}

fn default_source() -> String {
    IssueSource::Visit.code().to_string()
}

/// `issue.event`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssueEventData {
    pub event_id: Uuid,
    pub issue_id: Uuid,
    pub action: String,
    pub note: String,
    #[serde(default)]
    pub photos: Vec<String>,
    /// For `assign`: who takes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee_id: Option<Uuid>,
    /// For `escalate`: the department it goes to, by name (older clients) …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    /// … or, from the synced list, by id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department_id: Option<Uuid>,
    /// For `reject_duplicate`: the issue this one duplicates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicate_of: Option<Uuid>,
    /// For `rate` and `send_back`: the resident's word (`send_back` is `dissatisfied`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub satisfaction: Option<String>,
}

/// `household.patch` and `resident.patch`: named fields and their new values. Every field carries
/// the mutation's HLC; the server keeps, per field, the write with the greatest (HLC, device id).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatchData {
    pub id: Uuid,
    pub fields: BTreeMap<String, serde_json::Value>,
}

pub const HOUSEHOLD_PATCH_FIELDS: &[&str] = &["head_name", "tags", "visit_cadence_days", "address"];
pub const RESIDENT_PATCH_FIELDS: &[&str] = &[
    "name",
    "relation",
    "phone",
    "birth_year",
    "tags",
    "moved_out",
];

/// `household.create`: a household registered in the field (a tenant moving in, 流动人口).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HouseholdCreateData {
    pub household_id: Uuid,
    pub building_id: Uuid,
    pub unit: u16,
    pub room: String,
    pub head_name: String,
    #[serde(default)]
    pub tags: Vec<String>,
}

/// `resident.create`: a person added to a household in the field.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResidentCreateData {
    pub resident_id: Uuid,
    pub household_id: Uuid,
    pub name: String,
    pub relation: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birth_year: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
}

/// `checkin.record`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckinData {
    pub checkin_id: Uuid,
    pub grid_id: Uuid,
    pub at: DateTime<Utc>,
    pub location: Location,
    /// The device's verdict: `inside`, `outside` or `uncertain`.
    pub verdict: String,
    pub boundary_distance_m: f64,
    #[serde(default)]
    pub mock_location: bool,
}

/// `service.record`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceData {
    pub service_id: Uuid,
    pub grid_id: Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issue_id: Option<Uuid>,
    /// The order (三单制) this service carried out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<Uuid>,
    pub title: String,
    pub at: DateTime<Utc>,
    pub hours: f64,
    pub people_served: u16,
    #[serde(default)]
    pub photos: Vec<String>,
}

/// `order.create`: a resident's request (群众点单), recorded in the field or at the office.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderCreateData {
    pub order_id: Uuid,
    pub grid_id: Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub household_id: Option<Uuid>,
    pub kind: String,
    pub source: String,
    pub title: String,
    pub description: String,
    /// Who asked, as they gave their name.
    pub requester: String,
    #[serde(default)]
    pub photos: Vec<String>,
}

/// `order.event`: one step on an order, replayed through `gridmate_model::order::transition`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderEventData {
    pub event_id: Uuid,
    pub order_id: Uuid,
    pub action: String,
    pub note: String,
    #[serde(default)]
    pub photos: Vec<String>,
    /// For `dispatch`: the member it goes to; absent, the order is open to the grid's members.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee_id: Option<Uuid>,
    /// For `confirm`: the resident's feedback.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub satisfaction: Option<String>,
}

/// `callup.create` (office roles: grid leaders, the community office): call a grid's people.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallupCreateData {
    pub callup_id: Uuid,
    pub grid_id: Uuid,
    /// Role codes called; empty calls everyone of the grid.
    #[serde(default)]
    pub roles: Vec<String>,
    pub place: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    pub at: DateTime<Utc>,
    pub message: String,
    /// Call again, by SMS, those who have not answered this many minutes after the call-up
    /// (1–1440); absent: once only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recall_after_minutes: Option<u32>,
}

/// `callup.close` (office roles): the call-up is over.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallupCloseData {
    pub callup_id: Uuid,
}

/// `callup.respond`: coming, cannot, or arrived (with the fix at the meeting point).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallupRespondData {
    pub response_id: Uuid,
    pub callup_id: Uuid,
    pub answer: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
}

/// `commitment.create`: a party member's public promise for the year (承诺践诺).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommitmentCreateData {
    pub commitment_id: Uuid,
    pub grid_id: Uuid,
    pub year: i32,
    pub title: String,
    pub description: String,
}

/// `commitment.event`: progress (with evidence), fulfil or drop; only by whoever promised.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommitmentEventData {
    pub event_id: Uuid,
    pub commitment_id: Uuid,
    pub action: String,
    pub note: String,
    #[serde(default)]
    pub photos: Vec<String>,
    /// Evidence: the service record that carried the promise out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_id: Option<Uuid>,
}

/// `patrol.record`: a finished patrol, its track simplified on the phone (GeoJSON `[lon, lat]`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatrolData {
    pub patrol_id: Uuid,
    pub grid_id: Uuid,
    pub started_at: DateTime<Utc>,
    pub ended_at: DateTime<Utc>,
    pub track: Vec<[f64; 2]>,
    pub notes: String,
    /// Issues reported on the way (in the same push, before it, or earlier).
    #[serde(default)]
    pub issues: Vec<Uuid>,
}

/// A decoded, validated mutation payload.
#[derive(Clone, Debug, PartialEq)]
pub enum MutationPayload {
    VisitRecord(VisitData),
    IssueReport(IssueReportData),
    IssueEvent(IssueEventData),
    HouseholdPatch(PatchData),
    ResidentPatch(PatchData),
    CheckinRecord(CheckinData),
    ServiceRecord(ServiceData),
    OrderCreate(OrderCreateData),
    OrderEvent(OrderEventData),
    HouseholdCreate(HouseholdCreateData),
    ResidentCreate(ResidentCreateData),
    CallupCreate(CallupCreateData),
    CallupClose(CallupCloseData),
    CallupRespond(CallupRespondData),
    CommitmentCreate(CommitmentCreateData),
    CommitmentEvent(CommitmentEventData),
    PatrolRecord(PatrolData),
}

impl MutationPayload {
    pub const KINDS: [&'static str; 17] = [
        "visit.record",
        "issue.report",
        "issue.event",
        "household.patch",
        "resident.patch",
        "checkin.record",
        "service.record",
        "order.create",
        "order.event",
        "household.create",
        "resident.create",
        "callup.create",
        "callup.close",
        "callup.respond",
        "commitment.create",
        "commitment.event",
        "patrol.record",
    ];

    pub fn kind(&self) -> &'static str {
        match self {
            MutationPayload::VisitRecord(_) => "visit.record",
            MutationPayload::IssueReport(_) => "issue.report",
            MutationPayload::IssueEvent(_) => "issue.event",
            MutationPayload::HouseholdPatch(_) => "household.patch",
            MutationPayload::ResidentPatch(_) => "resident.patch",
            MutationPayload::CheckinRecord(_) => "checkin.record",
            MutationPayload::ServiceRecord(_) => "service.record",
            MutationPayload::OrderCreate(_) => "order.create",
            MutationPayload::OrderEvent(_) => "order.event",
            MutationPayload::HouseholdCreate(_) => "household.create",
            MutationPayload::ResidentCreate(_) => "resident.create",
            MutationPayload::CallupCreate(_) => "callup.create",
            MutationPayload::CallupClose(_) => "callup.close",
            MutationPayload::CallupRespond(_) => "callup.respond",
            MutationPayload::CommitmentCreate(_) => "commitment.create",
            MutationPayload::CommitmentEvent(_) => "commitment.event",
            MutationPayload::PatrolRecord(_) => "patrol.record",
        }
    }

    /// The payload as the `data` of a mutation.
    pub fn to_json(&self) -> serde_json::Value {
        let v = match self {
            MutationPayload::VisitRecord(d) => serde_json::to_value(d),
            MutationPayload::IssueReport(d) => serde_json::to_value(d),
            MutationPayload::IssueEvent(d) => serde_json::to_value(d),
            MutationPayload::HouseholdPatch(d) | MutationPayload::ResidentPatch(d) => {
                serde_json::to_value(d)
            }
            MutationPayload::CheckinRecord(d) => serde_json::to_value(d),
            MutationPayload::ServiceRecord(d) => serde_json::to_value(d),
            MutationPayload::OrderCreate(d) => serde_json::to_value(d),
            MutationPayload::OrderEvent(d) => serde_json::to_value(d),
            MutationPayload::HouseholdCreate(d) => serde_json::to_value(d),
            MutationPayload::ResidentCreate(d) => serde_json::to_value(d),
            MutationPayload::CallupCreate(d) => serde_json::to_value(d),
            MutationPayload::CallupClose(d) => serde_json::to_value(d),
            MutationPayload::CallupRespond(d) => serde_json::to_value(d),
            MutationPayload::CommitmentCreate(d) => serde_json::to_value(d),
            MutationPayload::CommitmentEvent(d) => serde_json::to_value(d),
            MutationPayload::PatrolRecord(d) => serde_json::to_value(d),
        };
        // These types hold only strings, numbers, uuids and timestamps: serialising cannot fail.
        v.unwrap_or(serde_json::Value::Null)
    }

    /// Decode and validate `data` for `kind`.
    pub fn decode(kind: &str, data: &serde_json::Value) -> Result<Self, PayloadError> {
        fn parse<T: serde::de::DeserializeOwned>(
            kind: &'static str,
            data: &serde_json::Value,
        ) -> Result<T, PayloadError> {
            T::deserialize(data).map_err(|e| PayloadError::Malformed {
                kind,
                reason: e.to_string(),
            })
        }
        let payload = match kind {
            "visit.record" => MutationPayload::VisitRecord(parse("visit.record", data)?),
            "issue.report" => MutationPayload::IssueReport(parse("issue.report", data)?),
            "issue.event" => MutationPayload::IssueEvent(parse("issue.event", data)?),
            "household.patch" => MutationPayload::HouseholdPatch(parse("household.patch", data)?),
            "resident.patch" => MutationPayload::ResidentPatch(parse("resident.patch", data)?),
            "checkin.record" => MutationPayload::CheckinRecord(parse("checkin.record", data)?),
            "service.record" => MutationPayload::ServiceRecord(parse("service.record", data)?),
            "order.create" => MutationPayload::OrderCreate(parse("order.create", data)?),
            "order.event" => MutationPayload::OrderEvent(parse("order.event", data)?),
            "household.create" => {
                MutationPayload::HouseholdCreate(parse("household.create", data)?)
            }
            "resident.create" => MutationPayload::ResidentCreate(parse("resident.create", data)?),
            "callup.create" => MutationPayload::CallupCreate(parse("callup.create", data)?),
            "callup.close" => MutationPayload::CallupClose(parse("callup.close", data)?),
            "callup.respond" => MutationPayload::CallupRespond(parse("callup.respond", data)?),
            "commitment.create" => {
                MutationPayload::CommitmentCreate(parse("commitment.create", data)?)
            }
            "commitment.event" => {
                MutationPayload::CommitmentEvent(parse("commitment.event", data)?)
            }
            "patrol.record" => MutationPayload::PatrolRecord(parse("patrol.record", data)?),
            other => {
                return Err(PayloadError::UnknownKind(other.chars().take(64).collect()));
            }
        };
        payload.validate()?;
        Ok(payload)
    }

    /// Domain validation: codes known, text within limits, coordinates in range, photos hashes.
    pub fn validate(&self) -> Result<(), PayloadError> {
        let kind = self.kind();
        let invalid = |e: ValidationError| PayloadError::Invalid(e, kind);
        let bad = |reason: String| PayloadError::BadValue { kind, reason };
        let photos = |list: &[String]| -> Result<(), PayloadError> {
            if list.len() > limits::MAX_PHOTOS {
                return Err(invalid(ValidationError::TooMany {
                    field: "photos",
                    len: list.len(),
                    max: limits::MAX_PHOTOS,
                }));
            }
            match list.iter().find(|p| PhotoRef::parse(p).is_none()) {
                Some(p) => Err(bad(format!(
                    "photo {:?} is not a sha256 hex digest",
                    p.chars().take(70).collect::<String>()
                ))),
                None => Ok(()),
            }
        };
        let location =
            |l: &Option<Location>| l.as_ref().map_or(Ok(()), |l| l.check().map_err(invalid));
        match self {
            MutationPayload::VisitRecord(v) => {
                VisitKind::from_code(&v.kind)
                    .ok_or_else(|| bad(format!("unknown visit kind {:?}", v.kind)))?;
                VisitOutcome::from_code(&v.outcome)
                    .ok_or_else(|| bad(format!("unknown outcome {:?}", v.outcome)))?;
                if v.ended_at < v.started_at {
                    return Err(invalid(ValidationError::EndsBeforeStart { field: "visit" }));
                }
                validate::text("notes", &v.notes, limits::TEXT, false).map_err(invalid)?;
                if v.people_served > limits::MAX_PEOPLE_SERVED {
                    return Err(bad(format!(
                        "people_served {} is implausible",
                        v.people_served
                    )));
                }
                location(&v.location)?;
                photos(&v.photos)
            }
            MutationPayload::IssueReport(r) => {
                IssueCategory::from_code(&r.category)
                    .ok_or_else(|| bad(format!("unknown category {:?}", r.category)))?;
                Severity::from_code(&r.severity)
                    .ok_or_else(|| bad(format!("unknown severity {:?}", r.severity)))?;
                IssueSource::from_code(&r.source)
                    .ok_or_else(|| bad(format!("unknown source {:?}", r.source)))?;
                validate::text("title", &r.title, limits::TITLE, true).map_err(invalid)?;
                validate::text("description", &r.description, limits::TEXT, false)
                    .map_err(invalid)?;
                location(&r.location)?;
                photos(&r.photos)
            }
            MutationPayload::IssueEvent(e) => {
                let action = IssueAction::from_code(&e.action)
                    .ok_or_else(|| bad(format!("unknown action {:?}", e.action)))?;
                validate::text(
                    "note",
                    &e.note,
                    limits::TEXT,
                    action == IssueAction::Comment,
                )
                .map_err(invalid)?;
                if action == IssueAction::RejectDuplicate && e.duplicate_of.is_none() {
                    return Err(invalid(ValidationError::Required {
                        field: "duplicate_of",
                    }));
                }
                if let Some(d) = &e.department {
                    validate::text("department", d, limits::TITLE, true).map_err(invalid)?;
                }
                let rates = matches!(action, IssueAction::Rate | IssueAction::SendBack);
                match (&e.satisfaction, rates) {
                    (None, true) => {
                        return Err(invalid(ValidationError::Required {
                            field: "satisfaction",
                        }));
                    }
                    (Some(_), false) => {
                        return Err(bad("satisfaction goes with rate and send_back only".into()));
                    }
                    (Some(code), true) => {
                        let said = Satisfaction::from_code(code)
                            .ok_or_else(|| bad(format!("unknown satisfaction {code:?}")))?;
                        if gridmate_model::issue::rating(said) != action {
                            return Err(bad(format!(
                                "{} does not go with {code:?}",
                                action.code()
                            )));
                        }
                    }
                    (None, false) => {}
                }
                photos(&e.photos)
            }
            MutationPayload::HouseholdPatch(p) => check_patch(p, HOUSEHOLD_PATCH_FIELDS, kind),
            MutationPayload::ResidentPatch(p) => check_patch(p, RESIDENT_PATCH_FIELDS, kind),
            MutationPayload::CheckinRecord(c) => {
                GeoVerdict::from_code(&c.verdict)
                    .ok_or_else(|| bad(format!("unknown verdict {:?}", c.verdict)))?;
                c.location.check().map_err(invalid)?;
                if !c.boundary_distance_m.is_finite() {
                    return Err(bad("boundary_distance_m is not a number".into()));
                }
                Ok(())
            }
            MutationPayload::ServiceRecord(s) => {
                validate::text("title", &s.title, limits::TITLE, true).map_err(invalid)?;
                if !(s.hours.is_finite() && s.hours > 0.0 && s.hours <= 24.0) {
                    return Err(invalid(ValidationError::OutOfRange {
                        field: "hours",
                        value: s.hours,
                    }));
                }
                photos(&s.photos)
            }
            MutationPayload::OrderCreate(o) => {
                OrderKind::from_code(&o.kind)
                    .ok_or_else(|| bad(format!("unknown order kind {:?}", o.kind)))?;
                OrderSource::from_code(&o.source)
                    .ok_or_else(|| bad(format!("unknown source {:?}", o.source)))?;
                validate::text("title", &o.title, limits::TITLE, true).map_err(invalid)?;
                validate::text("description", &o.description, limits::TEXT, false)
                    .map_err(invalid)?;
                validate::text("requester", &o.requester, limits::NAME, false).map_err(invalid)?;
                photos(&o.photos)
            }
            MutationPayload::OrderEvent(e) => {
                let action = OrderAction::from_code(&e.action)
                    .ok_or_else(|| bad(format!("unknown action {:?}", e.action)))?;
                validate::text(
                    "note",
                    &e.note,
                    limits::TEXT,
                    action == OrderAction::Comment,
                )
                .map_err(invalid)?;
                match (&e.satisfaction, action) {
                    (None, OrderAction::Confirm) => {
                        return Err(invalid(ValidationError::Required {
                            field: "satisfaction",
                        }));
                    }
                    (Some(_), a) if a != OrderAction::Confirm => {
                        return Err(bad("satisfaction goes with confirm only".into()));
                    }
                    (Some(code), _) if Satisfaction::from_code(code).is_none() => {
                        return Err(bad(format!("unknown satisfaction {code:?}")));
                    }
                    _ => {}
                }
                if e.assignee_id.is_some() && action != OrderAction::Dispatch {
                    return Err(bad("assignee_id goes with dispatch only".into()));
                }
                photos(&e.photos)
            }
            MutationPayload::HouseholdCreate(h) => {
                validate::room(&h.room).map_err(invalid)?;
                validate::text("head_name", &h.head_name, limits::NAME, true).map_err(invalid)?;
                if !(1..=99).contains(&h.unit) {
                    return Err(invalid(ValidationError::OutOfRange {
                        field: "unit",
                        value: f64::from(h.unit),
                    }));
                }
                check_tags(&h.tags, kind)
            }
            MutationPayload::ResidentCreate(r) => {
                validate::text("name", &r.name, limits::NAME, true).map_err(invalid)?;
                validate::text("relation", &r.relation, limits::NAME, false).map_err(invalid)?;
                if let Some(p) = &r.phone {
                    validate::phone(p).map_err(invalid)?;
                }
                if r.birth_year.is_some_and(|y| !(1900..=2100).contains(&y)) {
                    return Err(bad("birth_year must be 1900–2100".into()));
                }
                check_tags(&r.tags, kind)
            }
            MutationPayload::CallupCreate(c) => {
                validate::text("place", &c.place, limits::TITLE, true).map_err(invalid)?;
                validate::text("message", &c.message, limits::TEXT, true).map_err(invalid)?;
                if let Some(r) = c.roles.iter().find(|r| Role::from_code(r).is_none()) {
                    return Err(bad(format!(
                        "unknown role {:?}",
                        r.chars().take(40).collect::<String>()
                    )));
                }
                if c.recall_after_minutes
                    .is_some_and(|m| !(1..=1440).contains(&m))
                {
                    return Err(bad("recall_after_minutes must be 1–1440".into()));
                }
                location(&c.location)
            }
            MutationPayload::CallupClose(_) => Ok(()),
            MutationPayload::CallupRespond(r) => {
                let answer = CallupAnswer::from_code(&r.answer)
                    .ok_or_else(|| bad(format!("unknown answer {:?}", r.answer)))?;
                if answer == CallupAnswer::Arrived && r.location.is_none() {
                    return Err(invalid(ValidationError::Required { field: "location" }));
                }
                location(&r.location)
            }
            MutationPayload::CommitmentCreate(c) => {
                validate::text("title", &c.title, limits::TITLE, true).map_err(invalid)?;
                validate::text("description", &c.description, limits::TEXT, false)
                    .map_err(invalid)?;
                if !(2000..=2100).contains(&c.year) {
                    return Err(bad(format!("year {} is implausible", c.year)));
                }
                Ok(())
            }
            MutationPayload::CommitmentEvent(e) => {
                let action = CommitmentAction::from_code(&e.action)
                    .ok_or_else(|| bad(format!("unknown action {:?}", e.action)))?;
                validate::text(
                    "note",
                    &e.note,
                    limits::TEXT,
                    action == CommitmentAction::Progress,
                )
                .map_err(invalid)?;
                photos(&e.photos)
            }
            MutationPayload::PatrolRecord(p) => {
                if p.ended_at < p.started_at {
                    return Err(invalid(ValidationError::EndsBeforeStart {
                        field: "patrol",
                    }));
                }
                if p.track.len() > gridmate_model::patrol::MAX_TRACK_POINTS {
                    return Err(invalid(ValidationError::TooMany {
                        field: "track",
                        len: p.track.len(),
                        max: gridmate_model::patrol::MAX_TRACK_POINTS,
                    }));
                }
                for point in &p.track {
                    validate::coordinates(point[1], point[0], None).map_err(invalid)?;
                }
                if p.issues.len() > 100 {
                    return Err(bad("a patrol links at most 100 issues".into()));
                }
                validate::text("notes", &p.notes, limits::TEXT, false).map_err(invalid)?;
                Ok(())
            }
        }
    }
}

fn check_tags(tags: &[String], kind: &'static str) -> Result<(), PayloadError> {
    match tags
        .iter()
        .find(|t| gridmate_model::HouseholdTag::from_code(t).is_none())
    {
        Some(t) => Err(PayloadError::BadValue {
            kind,
            reason: format!("unknown tag {:?}", t.chars().take(40).collect::<String>()),
        }),
        None => Ok(()),
    }
}

fn check_patch(p: &PatchData, allowed: &[&str], kind: &'static str) -> Result<(), PayloadError> {
    let bad = |reason: String| PayloadError::BadValue { kind, reason };
    let invalid = |e: ValidationError| PayloadError::Invalid(e, kind);
    if p.fields.is_empty() {
        return Err(bad("a patch must change at least one field".into()));
    }
    for (name, value) in &p.fields {
        if !allowed.contains(&name.as_str()) {
            return Err(bad(format!(
                "field {:?} cannot be patched (allowed: {})",
                name.chars().take(40).collect::<String>(),
                allowed.join(", ")
            )));
        }
        let as_str = || {
            value
                .as_str()
                .ok_or_else(|| bad(format!("{name} must be a string")))
        };
        match name.as_str() {
            "head_name" | "name" => {
                validate::text("name", as_str()?, limits::NAME, true).map_err(invalid)?;
            }
            "relation" => {
                validate::text("relation", as_str()?, limits::NAME, false).map_err(invalid)?;
            }
            "address" => {
                validate::text("address", as_str()?, limits::TITLE * 2, true).map_err(invalid)?;
            }
            "phone" if !value.is_null() => {
                validate::phone(as_str()?).map_err(invalid)?;
            }
            "visit_cadence_days" => {
                let ok = value.as_u64().is_some_and(|d| (1..=365).contains(&d));
                if !ok {
                    return Err(bad("visit_cadence_days must be 1–365".into()));
                }
            }
            "birth_year" => {
                let ok =
                    value.is_null() || value.as_u64().is_some_and(|y| (1900..=2100).contains(&y));
                if !ok {
                    return Err(bad("birth_year must be 1900–2100 or null".into()));
                }
            }
            "tags" => {
                let tags = value
                    .as_array()
                    .ok_or_else(|| bad("tags must be a list".into()))?
                    .iter()
                    .map(|t| t.as_str().unwrap_or_default().to_string())
                    .collect::<Vec<_>>();
                check_tags(&tags, kind)?;
            }
            "moved_out" if !value.is_boolean() => {
                return Err(bad("moved_out must be true or false".into()));
            }
            _ => {}
        }
    }
    Ok(())
}

impl Mutation {
    /// A mutation ready to push, with a fresh UUIDv7 idempotency key.
    pub fn new(recorded_at: DateTime<Utc>, hlc: Hlc, payload: &MutationPayload) -> Self {
        Self {
            id: Uuid::now_v7(),
            kind: payload.kind().to_string(),
            recorded_at,
            hlc: hlc.to_string(),
            data: payload.to_json(),
        }
    }

    pub fn payload(&self) -> Result<MutationPayload, PayloadError> {
        MutationPayload::decode(&self.kind, &self.data)
    }

    pub fn hlc(&self) -> Result<Hlc, PayloadError> {
        self.hlc.parse().map_err(
            |e: gridmate_model::hlc::HlcParseError| PayloadError::BadValue {
                kind: "mutation",
                reason: e.to_string(),
            },
        )
    }
}
