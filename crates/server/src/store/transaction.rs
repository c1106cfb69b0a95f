//! How a backend runs a transaction ([`Backend`]) and the rows it offers inside one
//! ([`ReadTx`], [`WriteTx`]). A backend implements these three and decides nothing.

use super::error::Result;
use super::facts;
use super::principal::Principal;
use super::rows::*;
use super::scope::Scope;
use gridmate_model::Hlc;
use gridmate_protocol::{Entity, Mutation, PushResult};
use std::future::Future;
use uuid::Uuid;

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
    /// The grids of the records changed after `after` (`None`: a record of no grid), each once.
    fn grids_changed_after(&mut self, after: u64) -> Result<Vec<Option<Uuid>>>;
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
    /// The live records of one entity, in every grid, whose fact fell due (`until`) before
    /// `before_ms`: of this kind when one is given, in one of these statuses unless none is.
    /// The sweep's late issues and unseen households.
    fn late(
        &mut self,
        entity: Entity,
        kind: Option<&str>,
        statuses: &[&str],
        before_ms: i64,
    ) -> Result<Vec<String>>;
    /// The live records of one entity in these grids whose fact counts at a time in
    /// `[from_ms, to_ms)`, in no particular order (a ledger reads a long period a week at a
    /// time).
    fn live_between(
        &mut self,
        entity: Entity,
        grids: &[Uuid],
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<String>>;
    /// [`ReadTx::live_between`] of the facts of these kinds only (an event's kind is its
    /// action: the public board reads the month's closes and ratings, not every comment).
    fn live_between_kinds(
        &mut self,
        entity: Entity,
        grids: &[Uuid],
        kinds: &[&str],
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<String>>;
    /// Live records of one entity after `after` in seq order, with their placement.
    fn live_page(&mut self, entity: Entity, after: u64, limit: u32) -> Result<Vec<PlacedRow>>;
    /// Facts grouped and counted ([`facts`]).
    fn tally(&mut self, q: &facts::TallyQuery<'_>) -> Result<Vec<facts::Tally>>;
    /// The visit counts of these grids for the months starting in `[from_ms, to_ms)`, one row
    /// per grid, person and month.
    fn visit_months(
        &mut self,
        grids: &[Uuid],
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<facts::VisitMonth>>;
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
    /// The outbox's messages `filter` names, newest first.
    fn messages(&mut self, filter: &MessageFilter) -> Result<Vec<MessageRow>>;
    /// How many non-urgent messages to this person were handed to a provider at or after
    /// `since_ms` (the daily cap).
    fn messages_sent_since(&mut self, recipient: Uuid, since_ms: i64) -> Result<u64>;
    /// The messages queued under these trigger keys (those queued so far), in no order.
    fn messages_keyed(&mut self, keys: &[String]) -> Result<Vec<MessageRow>>;
    fn resident_account(&mut self, id: Uuid) -> Result<Option<ResidentAccountRow>>;
    fn resident_account_by_phone(&mut self, phone: &str) -> Result<Option<ResidentAccountRow>>;
    fn resident_code(&mut self, phone_key: &str) -> Result<Option<ResidentCodeRow>>;
    fn resident_session(&mut self, token_hash: &str) -> Result<Option<ResidentSessionRow>>;
}

/// The rows one write transaction changes. Only [`log`] writes records and digests.
pub trait WriteTx: ReadTx {
    /// Store a record's state (live or a tombstone) under `row.seq`, replacing any older one.
    fn write_record(&mut self, row: &LogRow<'_>) -> Result<()>;
    /// Store a record's fact, or drop it (`None`).
    fn set_fact(&mut self, entity: Entity, id: Uuid, fact: Option<&facts::Fact>) -> Result<()>;
    /// Drop every fact and every month count.
    fn clear_facts(&mut self) -> Result<()>;
    /// Add `m.visits` (negative: take away) to one grid's, person's and month's visit count.
    fn count_visits(&mut self, m: &facts::VisitMonth) -> Result<()>;
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
    /// Queue a message unless one with its trigger key exists; returns whether it was queued.
    fn insert_message(&mut self, m: &MessageRow) -> Result<bool>;
    /// Up to `limit` messages due at `now_ms` (queued, or sending with a lapsed lease), urgent
    /// first then oldest due: each is marked sending by `worker` until `lease_until_ms`, its
    /// attempts counted. Returned as they were before the claim (a `Sending` one is in doubt).
    fn claim_messages(
        &mut self,
        worker: &str,
        now_ms: i64,
        lease_until_ms: i64,
        limit: u32,
    ) -> Result<Vec<MessageRow>>;
    /// Store how an attempt ended, if the message is still being sent; returns whether it was.
    fn settle_message(&mut self, s: &MessageSettlement) -> Result<bool>;
    /// Insert a resident's account, or replace the one with its id.
    fn put_resident_account(&mut self, a: &ResidentAccountRow) -> Result<()>;
    /// Set a phone's live code, replacing any earlier one.
    fn put_resident_code(&mut self, c: &ResidentCodeRow) -> Result<()>;
    fn delete_resident_code(&mut self, phone_key: &str) -> Result<()>;
    fn insert_resident_session(&mut self, s: &ResidentSessionRow) -> Result<()>;
    /// Revoke one session, or (`None`) every session of the account; returns how many.
    fn revoke_resident_sessions(
        &mut self,
        account: Uuid,
        token_hash: Option<&str>,
        now_ms: i64,
    ) -> Result<usize>;
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
