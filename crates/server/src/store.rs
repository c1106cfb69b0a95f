//! The storage boundary: what handlers may ask of the database, in domain terms.
//!
//! Handlers see only [`ServerStore`]; no SQL type crosses it. The SQLite implementation
//! ([`crate::sqlite::SqliteStore`]) is the default; a PostgreSQL one implements the same trait
//! (and the same [`crate::apply::RecordTx`] for the mutation logic) without touching handlers,
//! as atuin splits its server database from its backends.

use async_trait::async_trait;
use gridmate_model::Role;
use gridmate_protocol::{Mutation, PushResult};
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("stored data is damaged: {0}")]
    Corrupt(String),
    #[error("file: {0}")]
    Io(#[from] std::io::Error),
    #[error("background task failed: {0}")]
    Join(String),
    #[error("{0}")]
    Invalid(String),
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
                Role::GridWorker | Role::GridLeader | Role::CommunityAdmin
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
    pub kept_value: serde_json::Value,
    pub kept_hlc: String,
    pub kept_device: String,
    pub lost_value: serde_json::Value,
    pub lost_hlc: String,
    pub lost_device: String,
    pub mutation_id: Uuid,
    pub at: chrono::DateTime<chrono::Utc>,
}

#[async_trait]
pub trait ServerStore: Send + Sync + 'static {
    async fn user_by_phone(&self, phone: String) -> Result<Option<UserRow>>;
    async fn assignments(&self, user: Uuid) -> Result<Vec<AssignmentRow>>;
    async fn create_session(
        &self,
        user: Uuid,
        token_hash: Vec<u8>,
        device_id: String,
        device_name: String,
        ttl_days: i64,
    ) -> Result<()>;
    async fn session(&self, token_hash: Vec<u8>) -> Result<SessionLookup>;
    async fn revoke_session(&self, token_hash: Vec<u8>) -> Result<()>;
    /// Revoke every session of a user (the admin's `revoke`); returns how many.
    async fn revoke_user(&self, phone: String) -> Result<usize>;

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
