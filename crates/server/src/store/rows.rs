//! The rows a transaction reads and writes, as plain types: users, sessions, the log's records,
//! digests, outcomes, conflicts, facts and their tallies, the outbox's messages. Types only, over the [`Principal`]
//! alone, so every module of the store may use them.

use super::principal::Principal;
use chrono::{DateTime, Utc};
use gridmate_model::{Hlc, Role};
use gridmate_protocol::{Entity, ErrorDetail, Mutation, PushStatus};
use serde_json::Value;
use uuid::Uuid;

#[derive(Clone, Debug)]
pub struct UserRow {
    pub id: Uuid,
    pub phone: String,
    pub name: String,
    pub roles: Vec<Role>,
    pub password_hash: String,
    pub scope_epoch: u64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct AssignmentRow {
    pub role: Role,
    pub grid_id: Option<Uuid>,
    pub building_id: Option<Uuid>,
}

/// A device a user signed in on (one session), as the office lists them.
#[derive(Clone, Debug, PartialEq)]
pub struct DeviceRow {
    pub device_id: String,
    pub device_name: String,
    pub signed_in_at_ms: i64,
    pub expires_at_ms: i64,
    pub revoked_at_ms: Option<i64>,
}

/// One line of the office's audit log: who did what to whom.
#[derive(Clone, Debug, PartialEq)]
pub struct AuditRow {
    pub at_ms: i64,
    pub actor_id: Uuid,
    pub action: String,
    pub target: String,
    pub detail: String,
}

/// A stored session joined with its user.
#[derive(Clone, Debug)]
pub struct SessionRow {
    pub user_id: Uuid,
    pub device_id: String,
    pub expires_at_ms: i64,
    pub revoked: bool,
    pub name: String,
    pub roles: Vec<Role>,
    pub scope_epoch: u64,
}

/// A session to store: the token only as its hash.
#[derive(Clone, Debug)]
pub struct NewSession {
    pub token_hash: String,
    pub user_id: Uuid,
    pub device_id: String,
    pub device_name: String,
    pub created_at_ms: i64,
    pub expires_at_ms: i64,
}

pub enum SessionLookup {
    Valid(Principal),
    Revoked,
    Expired,
    Unknown,
}

/// Where a pull resumes. `snapshot_head` is set while a device is still loading its first copy
/// of the scope: tombstones up to it are of records the device never had, and are skipped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct PullCursor {
    pub seq: u64,
    pub snapshot_head: u64,
}

/// One page of the change feed.
#[derive(Clone, Debug)]
pub struct PullOutcome {
    /// Records pass through as stored (parsing and re-serialising each was most of a page's
    /// cost).
    pub changes: Vec<gridmate_protocol::RawChange>,
    /// Where to resume.
    pub cursor: PullCursor,
    pub has_more: bool,
    pub scope_count: u64,
    pub scope_digest: String,
}

/// Why a pull cannot be served from this cursor.
#[derive(Clone, Debug, PartialEq)]
pub enum PullRefusal {
    /// Tombstones before this cursor were purged: the device must pull from the start.
    ResyncRequired,
}

/// A value overwritten by a later edit, kept for leaders to read.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct ConflictEntry {
    pub seq: i64,
    pub entity: String,
    pub id: Uuid,
    pub field: String,
    pub kept_value: Value,
    pub kept_hlc: String,
    pub kept_device: String,
    pub lost_value: Value,
    pub lost_hlc: String,
    pub lost_device: String,
    pub mutation_id: Uuid,
    pub at: chrono::DateTime<chrono::Utc>,
}

/// A record as stored: where it belongs (for scope), whether it is a tombstone, its data.
#[derive(Clone, Debug)]
pub struct StoredRecord {
    pub seq: u64,
    pub grid_id: Option<Uuid>,
    pub building_id: Option<Uuid>,
    pub owner_id: Option<Uuid>,
    pub deleted: bool,
    pub data: Value,
}

/// A record's new state, before the log gives it a sequence number.
#[derive(Clone, Debug)]
pub struct PutRecord {
    pub entity: Entity,
    pub id: Uuid,
    pub grid_id: Option<Uuid>,
    pub building_id: Option<Uuid>,
    pub owner_id: Option<Uuid>,
    pub data: Value,
}

/// One row of the record log as a backend writes it.
#[derive(Clone, Debug)]
pub struct LogRow<'a> {
    pub entity: Entity,
    pub id: Uuid,
    pub seq: u64,
    pub grid_id: Option<Uuid>,
    pub building_id: Option<Uuid>,
    pub owner_id: Option<Uuid>,
    pub deleted: bool,
    pub changed_at_ms: i64,
    pub data: &'a str,
}

/// A live record with its placement, as the facts' rebuild reads them in seq order.
#[derive(Clone, Debug)]
pub struct PlacedRow {
    pub seq: u64,
    pub id: Uuid,
    pub grid_id: Option<Uuid>,
    pub building_id: Option<Uuid>,
    pub data: String,
}

/// One row of a pull page as stored (the data text passes through unparsed).
#[derive(Clone, Debug)]
pub struct FeedRow {
    pub seq: u64,
    pub entity: Entity,
    pub id: Uuid,
    pub deleted: bool,
    pub data: String,
}

/// The count of a grid's live records and the XOR of their row hashes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GridDigest {
    pub count: i64,
    pub digest: [u8; 16],
}

#[derive(Clone, Debug)]
pub struct ConflictRow {
    pub entity: &'static str,
    pub id: Uuid,
    pub grid_id: Option<Uuid>,
    pub field: String,
    pub kept: (Value, Hlc, String),
    pub lost: (Value, Hlc, String),
    pub mutation_id: Uuid,
}

/// What an earlier push of the same mutation did: its merge note, if any, and its seq.
#[derive(Clone, Debug)]
pub struct PriorOutcome {
    pub error: Option<ErrorDetail>,
    pub seq: Option<u64>,
}

/// A pushed mutation's outcome, kept so that a replay answers the same.
#[derive(Clone, Debug)]
pub struct OutcomeRow<'a> {
    pub mutation: &'a Mutation,
    pub user_id: Uuid,
    pub device_id: &'a str,
    pub status: PushStatus,
    pub error: Option<&'a ErrorDetail>,
    pub seq: Option<u64>,
    pub clock_skew_ms: Option<i64>,
    pub received_at_ms: i64,
}

/// The counting columns of one live record.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Fact {
    pub grid_id: Uuid,
    pub building_id: Option<Uuid>,
    pub subject_id: Option<Uuid>,
    pub actor_id: Option<Uuid>,
    pub kind: Option<String>,
    pub status: Option<String>,
    pub at_ms: i64,
    pub until_ms: Option<i64>,
    pub amount: f64,
    /// When it was last seen to (a household: its last visit); counted by
    /// [`TallyQuery::seen_since`].
    pub seen_ms: Option<i64>,
}

/// What to count: one entity's facts in these grids whose `at` is in `[from_ms, to_ms)`.
#[derive(Clone, Copy, Debug)]
pub struct TallyQuery<'a> {
    pub entity: Entity,
    pub grids: &'a [Uuid],
    pub from_ms: i64,
    pub to_ms: i64,
    /// Facts whose `until` is before this are counted late.
    pub now_ms: i64,
    /// Facts seen to at or after this are counted in [`Tally::seen`] (`i64::MAX`: none).
    pub seen_from_ms: i64,
}

impl<'a> TallyQuery<'a> {
    /// Every fact of the entity in these grids, whenever it counts.
    pub fn all(entity: Entity, grids: &'a [Uuid], now: DateTime<Utc>) -> Self {
        TallyQuery {
            entity,
            grids,
            from_ms: i64::MIN,
            to_ms: i64::MAX,
            now_ms: now.timestamp_millis(),
            seen_from_ms: i64::MAX,
        }
    }

    /// Also count the facts seen to since `from` ([`Tally::seen`]).
    pub fn seen_since(self, from: DateTime<Utc>) -> Self {
        TallyQuery {
            seen_from_ms: from.timestamp_millis(),
            ..self
        }
    }

    pub fn between(
        entity: Entity,
        grids: &'a [Uuid],
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Self {
        TallyQuery {
            entity,
            grids,
            from_ms: from.timestamp_millis(),
            to_ms: to.timestamp_millis(),
            now_ms: now.timestamp_millis(),
            seen_from_ms: i64::MAX,
        }
    }
}

/// Facts grouped by every column but the times and the amount: how many, how many late, and the
/// sum of their amounts.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Tally {
    pub grid_id: Uuid,
    pub building_id: Option<Uuid>,
    pub subject_id: Option<Uuid>,
    pub actor_id: Option<Uuid>,
    pub kind: Option<String>,
    pub status: Option<String>,
    pub count: u64,
    pub late: u64,
    pub amount: f64,
    /// How many were seen to since the query's [`TallyQuery::seen_from_ms`].
    pub seen: u64,
}

/// Visits made by one person in one grid in one month (China time), kept as they are written:
/// a year's visit counts are a few thousand of these, not a million facts.
#[derive(Clone, Debug, PartialEq)]
pub struct VisitMonth {
    pub grid_id: Uuid,
    pub actor_id: Uuid,
    /// The month's first instant, in ms.
    pub month_ms: i64,
    pub visits: i64,
}

gridmate_model::code_enum! {
    /// Where a message of the outbox stands ([`super::outbox`]); its code is what is stored.
    pub enum MessageState {
        /// Waiting for its due time (quiet hours, a retry's backoff) or for a worker.
        Queued = "queued",
        /// Taken by a worker until its lease ends; past that, in doubt.
        Sending = "sending",
        /// The provider took it (its reference kept).
        Sent = "sent",
        /// The provider reported it on the phone.
        Delivered = "delivered",
        /// The provider refused it for good (an invalid number, a template not approved), or
        /// the retries ran out; its words kept.
        Failed = "failed",
        /// Never sent, by the server's own rule (the person's daily cap, no number).
        Skipped = "skipped",
    }
}

/// One message of the outbox, as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct MessageRow {
    /// The provider's idempotency key (Alibaba's `OutId`, Tencent's `SessionContext`).
    pub id: Uuid,
    /// The rule and its subject (`callup:<callup>:<person>`): one message per key, ever.
    pub trigger_key: String,
    pub recipient_id: Uuid,
    /// The mobile number it goes to, as it was when queued.
    pub address: String,
    /// What it says: a notice whose provider template the server's configuration names.
    pub notice: String,
    /// The template's parameters, in its order.
    pub params: Vec<(String, String)>,
    /// The app's page it opens.
    pub link: String,
    /// Sent at night and over the daily cap (a call-up).
    pub urgent: bool,
    /// The grid it concerns: the console shows a grid's messages to those who see the grid.
    pub grid_id: Option<Uuid>,
    pub created_at_ms: i64,
    pub state: MessageState,
    pub attempts: u32,
    /// A queued row's due time; a sending row's lease end.
    pub next_at_ms: i64,
    pub claimed_by: Option<String>,
    pub provider: Option<String>,
    pub provider_ref: Option<String>,
    /// The provider's words on the last attempt, or the server's reason for skipping it.
    pub words: Option<String>,
    pub settled_at_ms: Option<i64>,
}

impl MessageRow {
    /// The parameters as stored: a JSON list of `[name, value]` pairs.
    pub fn params_json(&self) -> String {
        serde_json::to_string(&self.params).unwrap_or_else(|_| "[]".into())
    }

    pub fn params_from_json(s: &str) -> Option<Vec<(String, String)>> {
        serde_json::from_str(s).ok()
    }
}

/// How a worker's attempt at one message ended, as [`super::WriteTx::settle_message`] stores it.
#[derive(Clone, Debug, PartialEq)]
pub struct MessageSettlement {
    pub id: Uuid,
    pub state: MessageState,
    /// For a retry: when it is due again.
    pub next_at_ms: i64,
    pub provider: Option<String>,
    pub provider_ref: Option<String>,
    pub words: Option<String>,
    pub settled_at_ms: Option<i64>,
}

/// Which messages the office's log lists: those of some grids, or of one person; newest first.
#[derive(Clone, Debug, Default)]
pub struct MessageFilter {
    /// `None`: every grid (the community office).
    pub grids: Option<Vec<Uuid>>,
    pub recipient: Option<Uuid>,
    pub state: Option<MessageState>,
    pub limit: u32,
}

/// A resident who signed in on the resident page.
#[derive(Clone, Debug, PartialEq)]
pub struct ResidentAccountRow {
    pub id: Uuid,
    /// The full number, which only the outbox reads (to send their codes and news).
    pub phone: String,
    /// Set when they were matched to the roll: their household, the resident record they are,
    /// and its grid.
    pub household_id: Option<Uuid>,
    pub resident_id: Option<Uuid>,
    pub grid_id: Option<Uuid>,
    pub verified_at_ms: Option<i64>,
    /// Blocked by the office (an abusive number): signs in to nothing.
    pub blocked_at_ms: Option<i64>,
    pub created_at_ms: i64,
}

/// The live sign-in code of one phone.
#[derive(Clone, Debug, PartialEq)]
pub struct ResidentCodeRow {
    /// The phone's digest ([`super::limiter::key_digest`]).
    pub phone_key: String,
    pub code_hash: String,
    pub expires_at_ms: i64,
    pub tries: u32,
}

/// A resident page's session.
#[derive(Clone, Debug, PartialEq)]
pub struct ResidentSessionRow {
    pub token_hash: String,
    pub account_id: Uuid,
    pub created_at_ms: i64,
    pub expires_at_ms: i64,
    pub revoked: bool,
}
