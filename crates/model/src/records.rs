//! What people record in the field: visits, check-ins, volunteer service, photos. All of these
//! are immutable once made: a correction is a new record, never an edit.

use crate::code_enum;
use crate::geo_rules::{GeoVerdict, GpsFix};
use crate::ids::{CheckInId, GridId, HouseholdId, IssueId, ServiceRecordId, UserId, VisitId};
use chrono::{DateTime, Utc};
use std::fmt;

/// A photo, named by the SHA-256 of its processed JPEG bytes (64 lowercase hex digits).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PhotoRef(String);

impl PhotoRef {
    /// Accepts exactly 64 hex digits; upper case is folded to lower.
    pub fn parse(s: &str) -> Option<Self> {
        (s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| Self(s.to_ascii_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PhotoRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

code_enum! {
    pub enum VisitKind {
        Routine = "routine",
        CareVisit = "care",
        ProxyService = "proxy_service",
        FollowUp = "follow_up",
        Patrol = "patrol",
    }
}

code_enum! {
    pub enum VisitOutcome {
        Met = "met",
        NobodyHome = "nobody_home",
        Refused = "refused",
    }
}

/// One door-to-door visit (入户走访). Coverage ("不落一户") counts households with at least one
/// visit in a period, whatever the outcome: a closed door is still a visit made.
#[derive(Clone, Debug, PartialEq)]
pub struct Visit {
    pub id: VisitId,
    pub household_id: HouseholdId,
    pub visitor: UserId,
    pub started_at: DateTime<Utc>,
    pub ended_at: DateTime<Utc>,
    pub kind: VisitKind,
    pub outcome: VisitOutcome,
    pub notes: String,
    pub people_served: u16,
    pub location: Option<GpsFix>,
    pub photos: Vec<PhotoRef>,
    /// Issues raised from needs found on this visit.
    pub raised_issues: Vec<IssueId>,
}

/// A party member's check-in to their assigned grid (双报到). The verdict is the device's; the
/// server recomputes its own against its boundary and keeps both.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckIn {
    pub id: CheckInId,
    pub user_id: UserId,
    pub grid_id: GridId,
    pub at: DateTime<Utc>,
    pub fix: GpsFix,
    pub verdict: GeoVerdict,
    /// Distance from the fix to the grid boundary, metres; positive inside, negative outside.
    pub boundary_distance_m: f64,
}

/// Volunteer service a party member logs against a task or on their own.
#[derive(Clone, Debug, PartialEq)]
pub struct ServiceRecord {
    pub id: ServiceRecordId,
    pub user_id: UserId,
    pub grid_id: GridId,
    pub issue_id: Option<IssueId>,
    /// The order (三单制) this service carried out.
    pub order_id: Option<crate::ids::OrderId>,
    pub title: String,
    pub at: DateTime<Utc>,
    /// Hours in tenths, so that 1.5 h is exact.
    pub hours_tenths: u16,
    pub people_served: u16,
    pub photos: Vec<PhotoRef>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn photo_refs_are_64_hex_digits() {
        let h = "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855";
        assert_eq!(PhotoRef::parse(h).unwrap().as_str(), h.to_lowercase());
        assert!(PhotoRef::parse(&h[1..]).is_none());
        assert!(PhotoRef::parse(&format!("{}g", &h[1..])).is_none());
        assert!(PhotoRef::parse("../../etc/passwd").is_none());
    }
}
