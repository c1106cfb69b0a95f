//! Typed ids. Every record the device creates gets a UUIDv7 made on the device (PROTOCOL.md,
//! principle 2), so ids sort by creation time and never collide between devices. Wrapping each in
//! its own type stops a `HouseholdId` from being passed where a `BuildingId` is expected.

use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

macro_rules! id_type {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A fresh UUIDv7 id, made on this device now.
            pub fn new_v7() -> Self {
                Self(Uuid::now_v7())
            }
            pub fn as_uuid(&self) -> &Uuid {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }

        impl From<Uuid> for $name {
            fn from(u: Uuid) -> Self {
                Self(u)
            }
        }
    )*};
}

id_type!(
    CommunityId,
    GridId,
    BuildingId,
    HouseholdId,
    ResidentId,
    UserId,
    IssueId,
    /// The id of one issue event (also its idempotency key on the wire).
    IssueEventId,
    VisitId,
    CheckInId,
    ServiceRecordId,
    /// A resident's request (三单制 order).
    OrderId,
    OrderEventId,
    /// An escalation target (综治, 城管, 物业…).
    DepartmentId,
    /// A call-up (一键响应) and one person's answer to it.
    CallupId,
    CallupResponseId,
    /// A party member's public commitment (承诺践诺) and one step on it.
    CommitmentId,
    CommitmentEventId,
    /// A patrol (巡查) of a grid.
    PatrolId,
    /// The idempotency key of one mutation in the outbox.
    MutationId,
);

/// A device's stable id, made once at install. Breaks HLC ties between devices.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DeviceId(pub String);

impl fmt::Display for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
