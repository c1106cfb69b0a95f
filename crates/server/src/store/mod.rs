//! The storage boundary, in two layers.
//!
//! **Above**: [`ServerStore`], what handlers may ask in domain terms (a session, a pull page, a
//! push). It is implemented once, for every backend, by composing the policy modules:
//! - [`scope`]: who sees and who may edit which record, and what is redacted for whom;
//! - [`log`]: the record log: how sequence numbers are allocated, how a record is written or
//!   tombstoned, how the per-grid digests follow, how old tombstones are purged;
//! - [`feed`]: a pull page: the resync rule, the first load's snapshot head, paging, the scope's
//!   count and digest;
//! - [`sessions`]: a bearer token to a [`Principal`]; [`limiter`]: the login limit;
//! - [`admin`]: users, assignments, passwords and revocation, as the command line and the office
//!   change them, with the office's audit log;
//! - [`office`]: what the office reads: the board's lists, timelines, people, statistics;
//! - [`limits`]: the office's time limits per issue category and severity;
//! - [`crate::apply`]: the rules of pushed mutations.
//!
//! **Below**: [`ReadTx`] and [`WriteTx`], the rows one transaction reads and writes, and
//! [`Backend`], how a backend runs a transaction. A backend (SQLite in [`crate::sqlite`]) says
//! only how to read and write rows; it decides nothing. atuin splits its server database from its
//! backends the same way.
//!
//! The row traits are synchronous: the rules call them many times per mutation and SQLite answers
//! in microseconds, so each transaction runs on one blocking thread. A backend over an async
//! driver runs its transaction on a blocking thread too and waits on the driver there.

pub mod admin;
pub mod facts;
pub mod feed;
pub mod field;
pub(crate) mod group;
pub mod limiter;
pub mod limits;
pub mod log;
pub mod office;
pub mod roll;
pub mod scope;
pub mod sessions;

use async_trait::async_trait;
use gridmate_model::{Hlc, Role};
use gridmate_protocol::{Entity, ErrorDetail, Mutation, PushResult, PushStatus};
use scope::Scope;
use serde_json::Value;
use std::future::Future;
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The backend failed (its own error, kept for the log; clients see "internal").
    #[error("database: {0}")]
    Database(Box<dyn std::error::Error + Send + Sync>),
    #[error("stored data is damaged: {0}")]
    Corrupt(String),
    #[error("file: {0}")]
    Io(#[from] std::io::Error),
    #[error("background task failed: {0}")]
    Join(String),
    #[error("{0}")]
    Invalid(String),
    /// The database is not at a schema this build can serve (written by a newer build, or a
    /// migration failed): the server refuses to start on it.
    #[error("schema: {0}")]
    Schema(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The signed-in caller: who, with which roles, over which grids and buildings, on which device.
#[derive(Clone, Debug, PartialEq)]
pub struct Principal {
    pub user_id: Uuid,
    pub name: String,
    pub roles: Vec<Role>,
    pub grids: Vec<Uuid>,
    pub buildings: Vec<Uuid>,
    pub scope_epoch: u64,
    pub device_id: String,
}

impl Principal {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// Roles that see everything in their grids (households, residents, the whole ledger).
    pub fn sees_whole_grids(&self) -> bool {
        self.roles.iter().any(|r| {
            matches!(
                r,
                Role::GridWorker | Role::GridLeader | Role::CommunityAdmin | Role::StreetViewer
            )
        })
    }

    /// The street's account: it reads its communities and writes nothing; every mutation it
    /// pushes is refused before any rule looks at it.
    pub fn reads_only(&self) -> bool {
        !self.roles.is_empty() && self.roles.iter().all(|r| *r == Role::StreetViewer)
    }

    /// Office roles: the console and the office API are theirs.
    pub fn works_in_office(&self) -> bool {
        self.roles.iter().any(|r| {
            matches!(
                r,
                Role::GridLeader | Role::CommunityAdmin | Role::StreetViewer
            )
        })
    }

    /// Roles that may call residents, and so receive their full phone numbers.
    pub fn may_call_residents(&self) -> bool {
        self.roles
            .iter()
            .any(|r| matches!(r, Role::GridWorker | Role::GridLeader))
    }
}

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

/// How many records [`ReadTx::for_each_live_in_grids`] reads at a time by default.
pub const STREAM_PAGE: u32 = 2_000;

/// The rows one transaction reads, from a consistent snapshot.
pub trait ReadTx {
    fn record(&mut self, entity: Entity, id: Uuid) -> Result<Option<StoredRecord>>;
    /// A hint before a push: its rules are about to read these records and these mutations'
    /// earlier outcomes, one at a time. A backend where every read is a round trip fetches them
    /// together now and answers those reads from memory; SQLite, in process, does nothing.
    fn prefetch(&mut self, _records: &[(Entity, Uuid)], _outcomes: &[Uuid]) -> Result<()> {
        Ok(())
    }
    /// The highest sequence number in the log (0 when empty).
    fn head(&mut self) -> Result<u64>;
    fn meta(&mut self, key: &str) -> Result<Option<String>>;
    /// Records `scope` admits with a seq above `after`, in seq order, leaving out tombstones at
    /// or below `hide_tombstones_through`; at most `limit`.
    fn feed_page(
        &mut self,
        scope: &Scope,
        after: u64,
        hide_tombstones_through: u64,
        limit: u32,
    ) -> Result<Vec<FeedRow>>;
    /// (entity, id, seq) of every live record `scope` admits with a seq up to `through`.
    fn live_keys(&mut self, scope: &Scope, through: u64) -> Result<Vec<(Entity, Uuid, u64)>>;
    /// The maintained digests of these grids (a grid with no records has none).
    fn grid_digests(&mut self, grids: &[Uuid]) -> Result<Vec<GridDigest>>;
    /// The data of every live record of one entity, in seq order.
    fn live_data(&mut self, entity: Entity) -> Result<Vec<String>>;
    /// The data of every live record of one entity filed under these grids (the office's lists).
    fn live_in_grids(&mut self, entity: Entity, grids: &[Uuid]) -> Result<Vec<String>>;
    /// The live records of one entity in these grids whose fact's status is one of these.
    fn live_with_status(
        &mut self,
        entity: Entity,
        grids: &[Uuid],
        statuses: &[&str],
    ) -> Result<Vec<String>>;
    /// Live records of one entity after `after` in seq order, with their placement.
    fn live_page(&mut self, entity: Entity, after: u64, limit: u32) -> Result<Vec<PlacedRow>>;
    /// Facts grouped and counted ([`facts`]).
    fn tally(&mut self, q: &facts::TallyQuery<'_>) -> Result<Vec<facts::Tally>>;
    /// One page of [`ReadTx::live_in_grids`] in seq order after `after`, with each row's seq
    /// (the ledgers stream a year of records this way).
    /// Hand every live record of one entity in these grids to `f`, in one pass over one
    /// snapshot, never holding them all. By default a page of [`STREAM_PAGE`] at a time by seq;
    /// a backend streams one statement where paging would cost more.
    fn for_each_live_in_grids(
        &mut self,
        entity: Entity,
        grids: &[Uuid],
        f: &mut dyn FnMut(&str) -> Result<()>,
    ) -> Result<()> {
        let mut after = 0;
        loop {
            let rows = self.live_page_in_grids(entity, grids, after, STREAM_PAGE)?;
            let Some(last) = rows.last().map(|r| r.0) else {
                return Ok(());
            };
            for (_, data) in &rows {
                f(data)?;
            }
            after = last;
        }
    }
    fn live_page_in_grids(
        &mut self,
        entity: Entity,
        grids: &[Uuid],
        after: u64,
        limit: u32,
    ) -> Result<Vec<(u64, String)>>;
    /// Every user and their assignments (a community has hundreds; the office filters them).
    fn people(&mut self) -> Result<Vec<(UserRow, Vec<AssignmentRow>)>>;
    /// The devices a user signed in on, newest first.
    fn devices_of(&mut self, user: Uuid) -> Result<Vec<DeviceRow>>;
    /// The newest lines of the audit log, newest first.
    fn audit_log(&mut self, limit: u32) -> Result<Vec<AuditRow>>;
    /// The live residents of a household.
    fn residents_of(&mut self, household: Uuid) -> Result<Vec<Uuid>>;
    /// The newest seq among tombstones changed before this time.
    fn newest_tombstone_before(&mut self, changed_before_ms: i64) -> Result<Option<u64>>;
    fn conflicts(&mut self, grids: &[Uuid], after: i64, limit: u32) -> Result<Vec<ConflictEntry>>;
    /// Is this blob referenced by a live record `scope` admits?
    fn blob_in_scope(&mut self, scope: &Scope, sha256: &str) -> Result<bool>;
    fn blob_known(&mut self, sha256: &str) -> Result<bool>;
    fn user_by_phone(&mut self, phone: &str) -> Result<Option<UserRow>>;
    fn user_count(&mut self) -> Result<u64>;
    fn assignments(&mut self, user: Uuid) -> Result<Vec<AssignmentRow>>;
    fn session(&mut self, token_hash: &str) -> Result<Option<SessionRow>>;
    fn outcome(&mut self, mutation: Uuid) -> Result<Option<PriorOutcome>>;
    fn field_version(
        &mut self,
        entity: &'static str,
        id: Uuid,
        field: &str,
    ) -> Result<Option<(Hlc, String)>>;
    fn schema_version(&mut self) -> Result<u32>;
    /// When this key failed to sign in since `since_ms`.
    fn login_failures(&mut self, key: &str, since_ms: i64) -> Result<Vec<i64>>;
}

/// The rows one write transaction changes. Only [`log`] writes records and digests.
pub trait WriteTx: ReadTx {
    /// Store a record's state (live or a tombstone) under `row.seq`, replacing any older one.
    fn write_record(&mut self, row: &LogRow<'_>) -> Result<()>;
    /// Store a record's fact, or drop it (`None`).
    fn set_fact(&mut self, entity: Entity, id: Uuid, fact: Option<&facts::Fact>) -> Result<()>;
    fn clear_facts(&mut self) -> Result<()>;
    fn set_grid_digest(&mut self, grid: Uuid, digest: &GridDigest) -> Result<()>;
    fn set_meta(&mut self, key: &str, value: &str) -> Result<()>;
    /// The next number of a series of the office's numbers (`gridmate_model::case_number`):
    /// 1 for a new series.
    fn next_in_series(&mut self, series: &str) -> Result<u64>;
    /// Continue a series after `last` at least (a seeded community's numbers).
    fn raise_series(&mut self, series: &str, last: u64) -> Result<()>;
    fn delete_tombstones_through(&mut self, seq: u64) -> Result<usize>;
    fn save_outcome(&mut self, row: &OutcomeRow<'_>) -> Result<()>;
    fn set_field_version(
        &mut self,
        entity: &'static str,
        id: Uuid,
        field: &str,
        hlc: Hlc,
        device: &str,
    ) -> Result<()>;
    fn log_conflict(&mut self, c: &ConflictRow, now_ms: i64) -> Result<()>;
    fn add_blob_refs(&mut self, shas: &[String], entity: Entity, id: Uuid) -> Result<()>;
    fn blob_received(&mut self, sha256: &str, bytes: u64, now_ms: i64) -> Result<()>;
    fn insert_user(&mut self, user: &UserRow, created_at_ms: i64) -> Result<()>;
    fn insert_assignment(&mut self, user: Uuid, a: &AssignmentRow) -> Result<()>;
    fn delete_assignments(&mut self, user: Uuid) -> Result<()>;
    fn bump_scope_epoch(&mut self, user: Uuid) -> Result<()>;
    fn insert_session(&mut self, s: &NewSession) -> Result<()>;
    /// Revoke one session; returns whether it was live.
    fn revoke_session(&mut self, token_hash: &str, now_ms: i64) -> Result<bool>;
    /// Revoke every live session of a user; returns how many.
    fn revoke_sessions_of(&mut self, user: Uuid, now_ms: i64) -> Result<usize>;
    fn add_login_failure(&mut self, key: &str, at_ms: i64) -> Result<()>;
    fn set_password_hash(&mut self, user: Uuid, hash: &str) -> Result<()>;
    /// Revoke the live sessions of one device of a user; returns how many.
    fn revoke_device(&mut self, user: Uuid, device_id: &str, now_ms: i64) -> Result<usize>;
    fn add_audit(&mut self, row: &AuditRow) -> Result<()>;
    fn clear_login_failures(&mut self, key: &str) -> Result<()>;
    fn forget_login_failures_before(&mut self, before_ms: i64) -> Result<()>;
}

/// How a backend runs a transaction. Writes must be serialised (one writer at a time): the
/// record log's sequence numbers are allocated inside the write transaction, and a puller may
/// only ever see them become visible in order (see [`log`]).
pub trait Backend: Send + Sync + 'static {
    /// Run `f` in a read transaction (a consistent snapshot), off the async threads.
    fn read<T, F>(&self, f: F) -> impl Future<Output = Result<T>> + Send
    where
        T: Send + 'static,
        F: FnOnce(&mut dyn ReadTx) -> Result<T> + Send + 'static;

    /// Run `f` in the write transaction, off the async threads; commit if it returns `Ok`.
    fn write<T, F>(&self, f: F) -> impl Future<Output = Result<T>> + Send
    where
        T: Send + 'static,
        F: FnOnce(&mut dyn WriteTx) -> Result<T> + Send + 'static;

    /// Run `f` in the write transaction and wait for it: the command line, imports, the demo.
    /// Callable from inside an async runtime or outside one.
    fn admin<T: Send>(&self, f: impl FnOnce(&mut dyn WriteTx) -> Result<T> + Send) -> Result<T>;

    /// Apply one push through `crate::apply`, each push all-or-nothing; a backend may group
    /// concurrent pushes into one commit. (No default: each backend decides how its writes are
    /// grouped, and the store module never calls up into the rules.)
    fn push(
        &self,
        p: Principal,
        mutations: Vec<Mutation>,
    ) -> impl Future<Output = Result<Vec<PushResult>>> + Send;
}

/// What handlers may ask of the database. Every [`Backend`] is one.
#[async_trait]
pub trait ServerStore: Send + Sync + 'static {
    async fn user_by_phone(&self, phone: String) -> Result<Option<UserRow>>;
    /// Store a new session for a signed-in user; returns their assignments.
    async fn start_session(&self, session: sessions::Start) -> Result<Vec<AssignmentRow>>;
    async fn session(&self, token_hash: Vec<u8>) -> Result<SessionLookup>;
    async fn revoke_session(&self, token_hash: Vec<u8>) -> Result<()>;
    /// Seconds to wait before another sign-in with these keys, if any is over the limit.
    async fn login_blocked(&self, keys: Vec<String>) -> Result<Option<u64>>;
    async fn login_failed(&self, keys: Vec<String>) -> Result<()>;
    async fn login_succeeded(&self, phone_key: String) -> Result<()>;

    async fn pull(
        &self,
        principal: Principal,
        from: Option<PullCursor>,
        limit: u32,
    ) -> Result<Result<PullOutcome, PullRefusal>>;
    async fn push(&self, principal: Principal, mutations: Vec<Mutation>)
    -> Result<Vec<PushResult>>;
    async fn conflicts(
        &self,
        principal: Principal,
        after: i64,
        limit: u32,
    ) -> Result<Vec<ConflictEntry>>;

    /// Is this blob referenced by a record the caller can see?
    async fn blob_visible(&self, principal: Principal, sha256: String) -> Result<bool>;
    async fn blob_received(&self, sha256: String, bytes: u64) -> Result<()>;
    async fn blob_known(&self, sha256: String) -> Result<bool>;

    async fn schema_version(&self) -> Result<u32>;
}

#[async_trait]
impl<B: Backend> ServerStore for B {
    async fn user_by_phone(&self, phone: String) -> Result<Option<UserRow>> {
        self.read(move |tx| tx.user_by_phone(&phone)).await
    }

    async fn start_session(&self, start: sessions::Start) -> Result<Vec<AssignmentRow>> {
        self.write(move |tx| sessions::start(tx, &start, chrono::Utc::now()))
            .await
    }

    async fn session(&self, token_hash: Vec<u8>) -> Result<SessionLookup> {
        self.read(move |tx| sessions::lookup(tx, &token_hash, chrono::Utc::now()))
            .await
    }

    async fn revoke_session(&self, token_hash: Vec<u8>) -> Result<()> {
        self.write(move |tx| {
            let hash = gridmate_model::hex::encode(&token_hash);
            tx.revoke_session(&hash, chrono::Utc::now().timestamp_millis())
                .map(drop)
        })
        .await
    }

    async fn login_blocked(&self, keys: Vec<String>) -> Result<Option<u64>> {
        self.read(move |tx| limiter::check(tx, &keys, chrono::Utc::now().timestamp_millis()))
            .await
    }

    async fn login_failed(&self, keys: Vec<String>) -> Result<()> {
        self.write(move |tx| limiter::fail(tx, &keys, chrono::Utc::now().timestamp_millis()))
            .await
    }

    async fn login_succeeded(&self, phone_key: String) -> Result<()> {
        self.write(move |tx| limiter::succeed(tx, &phone_key)).await
    }

    async fn pull(
        &self,
        p: Principal,
        from: Option<PullCursor>,
        limit: u32,
    ) -> Result<Result<PullOutcome, PullRefusal>> {
        self.read(move |tx| feed::pull(tx, &p, from, limit)).await
    }

    async fn push(&self, p: Principal, mutations: Vec<Mutation>) -> Result<Vec<PushResult>> {
        Backend::push(self, p, mutations).await
    }

    async fn conflicts(&self, p: Principal, after: i64, limit: u32) -> Result<Vec<ConflictEntry>> {
        self.read(move |tx| tx.conflicts(&p.grids, after, limit))
            .await
    }

    async fn blob_visible(&self, p: Principal, sha256: String) -> Result<bool> {
        self.read(move |tx| tx.blob_in_scope(&Scope::of(&p), &sha256))
            .await
    }

    async fn blob_received(&self, sha256: String, bytes: u64) -> Result<()> {
        self.write(move |tx| {
            tx.blob_received(&sha256, bytes, chrono::Utc::now().timestamp_millis())
        })
        .await
    }

    async fn blob_known(&self, sha256: String) -> Result<bool> {
        self.read(move |tx| tx.blob_known(&sha256)).await
    }

    async fn schema_version(&self) -> Result<u32> {
        self.read(|tx| tx.schema_version()).await
    }
}
