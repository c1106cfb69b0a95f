//! [`ServerStore`]: what the faces may ask of the database in domain terms, implemented once for
//! every [`Backend`] by composing the policy modules.

use super::error::Result;
use super::principal::Principal;
use super::rows::{
    AssignmentRow, ConflictEntry, PullCursor, PullOutcome, PullRefusal, SessionLookup, UserRow,
};
use super::scope::Scope;
use super::transaction::Backend;
use super::{feed, limiter, sessions};
use async_trait::async_trait;
use gridmate_protocol::{Mutation, PushResult};

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
