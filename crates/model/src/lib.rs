//! The Gridmate domain: what a community grid is made of, what grid workers record, and the rules
//! that every part of the system must agree on.
//!
//! This crate owns:
//! - the domain types ([`Grid`], [`Building`], [`Household`], [`Resident`], [`Issue`], [`Visit`],
//!   [`CheckIn`], [`ServiceRecord`], ...) and their typed ids;
//! - the issue state machine ([`issue::transition`]), the single source of truth for which
//!   [`IssueAction`] a [`Role`] may take in which [`IssueStatus`];
//! - the order (三单制) state machine ([`order::transition`]), where the person counts as well
//!   as the role;
//! - the hybrid logical clock ([`Hlc`], [`HlcClock`]) that orders field edits made offline;
//! - geo rules ([`geo_rules`]): point-in-grid with GPS accuracy, WGS-84 ↔ GCJ-02;
//! - the community's calendar ([`calendar`]): days and months in China time;
//! - the numbers offices call issues and orders by ([`case_number`]): `2026-000123`;
//! - address parsing ("12-2-301", "12栋2单元301"), names' pinyin search keys ([`search_keys`]:
//!   "zhangsan", "zs") and validation of what users type.
//!
//! It must never do I/O (no files, no network, no database, no clock reads except through values
//! handed in), and it knows nothing about JSON or SQL: the wire format lives in
//! `gridmate-protocol`, storage in `gridmate-device` and the server.

pub mod address;
pub mod basemap;
pub mod calendar;
pub mod callup;
pub mod case_number;
pub mod codes;
pub mod commitment;
pub mod community;
pub mod geo_rules;
pub mod hex;
pub mod hlc;
pub mod ids;
pub mod issue;
pub mod order;
pub mod patrol;
pub mod people;
pub mod records;
pub mod search_keys;
pub mod validate;

pub use address::RoomAddress;
pub use basemap::{BaseMap, MapFeature, MapFeatureKind};
pub use callup::{Callup, CallupAnswer, CallupResponse};
pub use commitment::{Commitment, CommitmentAction, CommitmentEvent, CommitmentStatus};
pub use community::{
    Building, Community, Department, Grid, GridKind, Household, HouseholdTag, Resident,
};
pub use geo_rules::{GeoVerdict, GpsFix, GridFix};
pub use hlc::{Hlc, HlcClock};
pub use ids::*;
pub use issue::{
    Issue, IssueAction, IssueCategory, IssueEvent, IssueSource, IssueStatus, Severity,
    TransitionError,
};
pub use order::{
    Order, OrderAction, OrderEvent, OrderKind, OrderParties, OrderSource, OrderStatus,
    OrderTransitionError, Satisfaction,
};
pub use patrol::Patrol;
pub use people::{Assignment, Role, User};
pub use records::{CheckIn, PhotoRef, ServiceRecord, Visit, VisitKind, VisitOutcome};
pub use validate::ValidationError;
