//! Call-ups (一键响应): the office calls the people of chosen grids and roles to a place at a time
//! (a flood watch, a search for a missing elder, an epidemic check point). Each person answers
//! coming or cannot, and on arrival checks in at the meeting point with a fix; the office watches
//! the answers come in. A call-up is open until the office closes it.

use crate::code_enum;
use crate::geo_rules::{GpsFix, haversine_m};
use crate::ids::{CallupId, CallupResponseId, GridId, UserId};
use crate::people::Role;
use chrono::{DateTime, Utc};

code_enum! {
    /// A person's answer to a call-up; the latest one counts.
    pub enum CallupAnswer {
        Coming = "coming",
        Cannot = "cannot",
        /// Checked in at the meeting point, with a fix.
        Arrived = "arrived",
    }
}

/// An arrival this close to the meeting point (the fix's accuracy counted in its favour) is at
/// the meeting point; further away it is recorded, and flagged.
pub const ARRIVAL_RADIUS_M: f64 = 200.0;

#[derive(Clone, Debug, PartialEq)]
pub struct Callup {
    pub id: CallupId,
    pub grid_id: GridId,
    /// Who is called; empty means everyone of the grid.
    pub roles: Vec<Role>,
    pub place: String,
    /// The meeting point, WGS-84 (lat, lon).
    pub location: Option<(f64, f64)>,
    pub at: DateTime<Utc>,
    pub message: String,
    pub created_by: UserId,
    pub closed_at: Option<DateTime<Utc>>,
    /// Those silent this many minutes after the call-up are called again (by SMS).
    pub recall_after_minutes: Option<u32>,
}

impl Callup {
    /// Is a user holding `roles` called?
    pub fn calls(&self, roles: &[Role]) -> bool {
        self.roles.is_empty() || roles.iter().any(|r| self.roles.contains(r))
    }

    pub fn is_open(&self) -> bool {
        self.closed_at.is_none()
    }

    /// How far a fix is from the meeting point, less its accuracy (never below zero); `None`
    /// when the call-up names no point.
    pub fn distance_m(&self, fix: &GpsFix) -> Option<f64> {
        let (lat, lon) = self.location?;
        Some((haversine_m(lat, lon, fix.lat, fix.lon) - fix.accuracy_m).max(0.0))
    }

    pub fn at_meeting_point(&self, fix: &GpsFix) -> bool {
        self.distance_m(fix).is_none_or(|d| d <= ARRIVAL_RADIUS_M)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct CallupResponse {
    pub id: CallupResponseId,
    pub callup_id: CallupId,
    pub user_id: UserId,
    pub answer: CallupAnswer,
    pub at: DateTime<Utc>,
    pub location: Option<GpsFix>,
    /// For an arrival: metres from the meeting point (less the fix's accuracy).
    pub distance_m: Option<f64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn callup(roles: Vec<Role>) -> Callup {
        Callup {
            id: CallupId(Uuid::nil()),
            grid_id: GridId(Uuid::nil()),
            roles,
            place: "联和花园北门".into(),
            location: Some((22.5905, 113.0815)),
            at: Utc::now(),
            message: "防汛巡查集合".into(),
            created_by: UserId(Uuid::nil()),
            closed_at: None,
            recall_after_minutes: None,
        }
    }

    #[test]
    fn only_the_roles_called_are_called_and_everyone_when_none_is_named() {
        let c = callup(vec![Role::PartyMember, Role::BuildingLeader]);
        assert!(c.calls(&[Role::PartyMember]));
        assert!(!c.calls(&[Role::GridWorker]));
        assert!(callup(vec![]).calls(&[Role::GridWorker]));
    }

    #[test]
    fn an_arrival_counts_within_the_radius_and_its_accuracy() {
        let c = callup(vec![]);
        let at = |dlat: f64, accuracy_m: f64| GpsFix {
            lat: 22.5905 + dlat,
            lon: 113.0815,
            accuracy_m,
            mock_location: false,
        };
        // 0.001° of latitude is about 111 m.
        assert!(c.at_meeting_point(&at(0.001, 10.0)));
        assert!(!c.at_meeting_point(&at(0.003, 10.0)));
        assert!(
            c.at_meeting_point(&at(0.003, 150.0)),
            "a coarse fix is given the benefit"
        );
        let d = c.distance_m(&at(0.003, 10.0)).unwrap();
        assert!((310.0..=330.0).contains(&d), "{d}");
    }
}
