//! The default backend: one SQLite file in WAL mode. Writes go through one connection behind a
//! mutex (SQLite has one writer; the mutex is the queue), reads through a small pool of their
//! own connections, so pulls run in parallel with pushes. All of it on tokio's blocking pool.

use crate::apply::{self, ConflictRow, PriorOutcome, PutRecord, RecordTx, StoredRecord};
use crate::store::*;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use gridmate_model::{Hlc, Role};
use gridmate_protocol::{Entity, ErrorDetail, Mutation, Op, PushResult, PushStatus};
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use uuid::Uuid;

const MIGRATIONS: &[(u32, &str)] = &[
    (1, include_str!("../migrations/0001_init.sql")),
    (2, include_str!("../migrations/0002_grid_digests.sql")),
];
/// Reader connections kept open between requests.
const READERS: usize = 16;
/// Tokens live this long without use of a new login.
pub const TOKEN_TTL_DAYS: i64 = 30;

struct Inner {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
    pushes: Option<std::sync::mpsc::Sender<PushJob>>,
    push_thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Inner {
    /// Stop the push thread and wait for it, so that once the last handle is gone the database
    /// file is closed (and its WAL checkpointed) — a copy or a reopen sees everything.
    fn drop(&mut self) {
        self.pushes.take();
        if let Some(t) = self.push_thread.take() {
            let _ = t.join();
        }
    }
}

/// One push waiting for the group-commit thread.
struct PushJob {
    principal: Principal,
    mutations: Vec<Mutation>,
    reply: tokio::sync::oneshot::Sender<Result<Vec<PushResult>>>,
}

/// Pushes that arrive together are applied in one transaction (each inside its own savepoint,
/// so one push's database error does not touch another's): with 200 devices pushing at once,
/// a commit per push made the writer queue the tail latency.
const MAX_GROUP: usize = 64;

fn group_commit(mut conn: Connection, jobs: std::sync::mpsc::Receiver<PushJob>) {
    while let Ok(first) = jobs.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match jobs.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        let outcome = (|| -> Result<Vec<Result<Vec<PushResult>>>> {
            let mut tx =
                conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let mut results = Vec::with_capacity(group.len());
            for job in &group {
                let sp = tx.savepoint()?;
                let r = apply::push(
                    &mut SqliteTx { tx: &sp },
                    &job.principal,
                    &job.mutations,
                    Utc::now(),
                );
                if r.is_ok() {
                    sp.commit()?;
                }
                results.push(r);
            }
            tx.commit()?;
            Ok(results)
        })();
        match outcome {
            Ok(results) => {
                for (job, r) in group.into_iter().zip(results) {
                    let _ = job.reply.send(r);
                }
            }
            Err(e) => {
                let msg = e.to_string();
                for job in group {
                    let _ = job
                        .reply
                        .send(Err(StoreError::Invalid(format!("commit failed: {msg}"))));
                }
            }
        }
    }
}

#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

fn open_conn(path: &Path) -> Result<Connection> {
    let conn = Connection::open(path)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    Ok(conn)
}

fn uuid_opt(s: Option<String>) -> Option<Uuid> {
    s.and_then(|s| s.parse().ok())
}

fn roles_from(s: &str) -> Vec<Role> {
    s.split(',').filter_map(Role::from_code).collect()
}

impl SqliteStore {
    /// Open (creating and migrating) `DIR/gridmate-server.sqlite`.
    pub fn open(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join("gridmate-server.sqlite");
        let mut writer = open_conn(&path)?;
        migrate(&mut writer)?;
        rebuild_grid_digests_if_stale(&mut writer)?;
        let (pushes, jobs) = std::sync::mpsc::channel();
        let push_conn = open_conn(&path)?;
        let push_thread = std::thread::Builder::new()
            .name("gridmate-push".into())
            .spawn(move || group_commit(push_conn, jobs))?;
        Ok(Self {
            inner: Arc::new(Inner {
                path,
                writer: Mutex::new(writer),
                readers: Mutex::new(Vec::new()),
                pushes: Some(pushes),
                push_thread: Some(push_thread),
            }),
        })
    }

    /// Run `f` with the writer inside one transaction, on the blocking pool.
    async fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = inner.writer.lock().unwrap_or_else(|e| e.into_inner());
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let out = f(&tx)?;
            tx.commit()?;
            Ok(out)
        })
        .await
        .map_err(|e| StoreError::Join(e.to_string()))?
    }

    /// Run `f` on a reader connection inside one read transaction (a consistent snapshot).
    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let taken = inner
                .readers
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .pop();
            let mut conn = match taken {
                Some(c) => c,
                None => open_conn(&inner.path)?,
            };
            let out = (|| {
                let tx = conn.transaction()?;
                let out = f(&tx)?;
                tx.commit()?;
                Ok(out)
            })();
            let mut pool = inner.readers.lock().unwrap_or_else(|e| e.into_inner());
            if pool.len() < READERS {
                pool.push(conn);
            }
            out
        })
        .await
        .map_err(|e| StoreError::Join(e.to_string()))?
    }

    /// Blocking access for the command line (user add, assign, demo import).
    pub fn admin<T>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        let mut conn = self.inner.writer.lock().unwrap_or_else(|e| e.into_inner());
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }
}

fn migrate(conn: &mut Connection) -> Result<()> {
    conn.execute_batch("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL) STRICT;")?;
    let current: u32 = conn.query_row(
        "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
        [],
        |r| r.get(0),
    )?;
    for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > current) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.execute(
            "INSERT INTO schema_migrations VALUES (?1, ?2)",
            params![version, Utc::now().timestamp_millis()],
        )?;
        tx.commit()?;
    }
    Ok(())
}

/// The writer's transaction as the mutation logic sees it.
pub struct SqliteTx<'a> {
    /// A transaction or a savepoint inside one.
    pub tx: &'a Connection,
}

impl RecordTx for SqliteTx<'_> {
    fn get(&mut self, entity: Entity, id: Uuid) -> Result<Option<StoredRecord>> {
        let row = self
            .tx
            .prepare_cached("SELECT seq, grid_id, building_id, owner_id, deleted, data FROM records WHERE entity = ?1 AND id = ?2")?
            .query_row(params![entity.code(), id.to_string()], |r| {
                Ok((r.get::<_, i64>(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get::<_, bool>(4)?, r.get::<_, String>(5)?))
            })
            .optional()?;
        row.map(|(seq, g, b, o, deleted, data)| {
            Ok(StoredRecord {
                seq: seq as u64,
                grid_id: uuid_opt(g),
                building_id: uuid_opt(b),
                owner_id: uuid_opt(o),
                deleted,
                data: serde_json::from_str(&data)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?,
            })
        })
        .transpose()
    }

    fn put(&mut self, r: PutRecord, now_ms: i64) -> Result<u64> {
        put_record(self.tx, &r, now_ms)
    }

    fn outcome(&mut self, mutation: Uuid) -> Result<Option<PriorOutcome>> {
        let row = self
            .tx
            .prepare_cached("SELECT error_code, error_msg, seq FROM mutations WHERE id = ?1")?
            .query_row([mutation.to_string()], |r| {
                Ok((
                    r.get::<_, Option<String>>(0)?,
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, Option<i64>>(2)?,
                ))
            })
            .optional()?;
        Ok(row.map(|(code, msg, seq)| PriorOutcome {
            error: code.map(|code| ErrorDetail {
                code,
                message: msg.unwrap_or_default(),
            }),
            seq: seq.map(|s| s as u64),
        }))
    }

    fn save_outcome(
        &mut self,
        m: &Mutation,
        user: Uuid,
        device_id: &str,
        status: PushStatus,
        error: Option<&ErrorDetail>,
        seq: Option<u64>,
        skew_ms: Option<i64>,
    ) -> Result<()> {
        self.tx
            .prepare_cached(
                "INSERT INTO mutations (id, user_id, device_id, kind, status, error_code, error_msg, seq, recorded_at, received_at, clock_skew_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )?
            .execute(params![
                m.id.to_string(),
                user.to_string(),
                device_id,
                m.kind,
                if status == PushStatus::Merged { "merged" } else { "applied" },
                error.map(|e| e.code.as_str()),
                error.map(|e| e.message.as_str()),
                seq.map(|s| s as i64),
                m.recorded_at.timestamp_millis(),
                Utc::now().timestamp_millis(),
                skew_ms,
            ])?;
        Ok(())
    }

    fn field_version(
        &mut self,
        entity: &'static str,
        id: Uuid,
        field: &str,
    ) -> Result<Option<(Hlc, String)>> {
        Ok(self
            .tx
            .prepare_cached("SELECT hlc_wall, hlc_count, device_id FROM field_versions WHERE entity = ?1 AND id = ?2 AND field = ?3")?
            .query_row(params![entity, id.to_string(), field], |r| Ok((Hlc::new(r.get(0)?, r.get(1)?), r.get(2)?)))
            .optional()?)
    }

    fn set_field_version(
        &mut self,
        entity: &'static str,
        id: Uuid,
        field: &str,
        hlc: Hlc,
        device: &str,
    ) -> Result<()> {
        self.tx
            .prepare_cached(
                "INSERT INTO field_versions (entity, id, field, hlc_wall, hlc_count, device_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT(entity, id, field) DO UPDATE SET hlc_wall = excluded.hlc_wall, hlc_count = excluded.hlc_count, device_id = excluded.device_id",
            )?
            .execute(params![entity, id.to_string(), field, hlc.wall_ms, hlc.counter, device])?;
        Ok(())
    }

    fn log_conflict(&mut self, c: &ConflictRow, now_ms: i64) -> Result<()> {
        self.tx
            .prepare_cached(
                "INSERT INTO conflicts (entity, id, grid_id, field, kept_value, kept_hlc, kept_device, lost_value, lost_hlc, lost_device, mutation_id, at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            )?
            .execute(params![
                c.entity,
                c.id.to_string(),
                c.grid_id.map(|g| g.to_string()),
                c.field,
                c.kept.0.to_string(),
                c.kept.1.to_string(),
                c.kept.2,
                c.lost.0.to_string(),
                c.lost.1.to_string(),
                c.lost.2,
                c.mutation_id.to_string(),
                now_ms
            ])?;
        Ok(())
    }

    fn add_blob_refs(&mut self, shas: &[String], entity: Entity, id: Uuid) -> Result<()> {
        let mut st = self.tx.prepare_cached(
            "INSERT OR IGNORE INTO blob_refs (sha256, entity, id) VALUES (?1, ?2, ?3)",
        )?;
        for sha in shas {
            st.execute(params![
                sha.to_ascii_lowercase(),
                entity.code(),
                id.to_string()
            ])?;
        }
        Ok(())
    }
}

/// Write a record's current state under the next sequence number. The writer is the only one
/// allocating, inside its transaction, so sequence numbers become visible strictly in order.
/// The grid digests follow: the old version leaves its grid's digest, the new one joins.
pub fn put_record(tx: &Connection, r: &PutRecord, now_ms: i64) -> Result<u64> {
    let entity = r.entity.code();
    let id = r.id.to_string();
    let old: Option<(i64, Option<String>, bool)> = tx
        .prepare_cached("SELECT seq, grid_id, deleted FROM records WHERE entity = ?1 AND id = ?2")?
        .query_row(params![entity, id], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?))
        })
        .optional()?;
    let seq: i64 = tx.query_row("SELECT COALESCE(MAX(seq), 0) + 1 FROM records", [], |row| {
        row.get(0)
    })?;
    tx.prepare_cached(
        "INSERT INTO records (entity, id, seq, grid_id, building_id, owner_id, deleted, changed_at, data)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, ?7, ?8)
         ON CONFLICT(entity, id) DO UPDATE SET seq = excluded.seq, grid_id = excluded.grid_id,
             building_id = excluded.building_id, owner_id = excluded.owner_id, deleted = 0,
             changed_at = excluded.changed_at, data = excluded.data",
    )?
    .execute(params![
        entity,
        id,
        seq,
        r.grid_id.map(|g| g.to_string()),
        r.building_id.map(|b| b.to_string()),
        r.owner_id.map(|o| o.to_string()),
        now_ms,
        r.data.to_string()
    ])?;
    if let Some((old_seq, Some(old_grid), false)) = old {
        fold_digest(tx, &old_grid, &row_hash(entity, &id, old_seq as u64), -1)?;
    }
    if let Some(g) = r.grid_id {
        fold_digest(tx, &g.to_string(), &row_hash(entity, &id, seq as u64), 1)?;
    }
    Ok(seq as u64)
}

/// The 16-byte hash a live record contributes to its scope's digest.
fn row_hash(entity: &str, id: &str, seq: u64) -> [u8; 16] {
    let id: Uuid = id.parse().unwrap_or_default();
    gridmate_protocol::digest::row_hash(entity, &id, seq)
}

fn xor_into(acc: &mut [u8; 16], h: &[u8]) {
    gridmate_protocol::digest::fold(acc, h);
}

fn fold_digest(tx: &Connection, grid: &str, hash: &[u8; 16], delta: i64) -> Result<()> {
    let current: Option<(i64, Vec<u8>)> = tx
        .prepare_cached("SELECT count, digest FROM grid_digests WHERE grid_id = ?1")?
        .query_row([grid], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let (count, digest) = current.unwrap_or((0, vec![0; 16]));
    let mut acc = [0u8; 16];
    acc.copy_from_slice(&digest[..16.min(digest.len())]);
    xor_into(&mut acc, hash);
    tx.prepare_cached(
        "INSERT INTO grid_digests (grid_id, count, digest) VALUES (?1, ?2, ?3)
         ON CONFLICT(grid_id) DO UPDATE SET count = excluded.count, digest = excluded.digest",
    )?
    .execute(params![grid, count + delta, acc.to_vec()])?;
    Ok(())
}

/// After a migration that found records without digests, compute them once from the records.
fn rebuild_grid_digests_if_stale(conn: &mut Connection) -> Result<()> {
    let stale: Option<String> = conn
        .query_row(
            "SELECT value FROM meta WHERE key = 'grid_digests_stale'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    if stale.as_deref() != Some("1") {
        return Ok(());
    }
    let tx = conn.transaction()?;
    let mut sums: std::collections::HashMap<String, (i64, [u8; 16])> =
        std::collections::HashMap::new();
    {
        let mut st = tx.prepare("SELECT entity, id, seq, grid_id FROM records WHERE deleted = 0 AND grid_id IS NOT NULL")?;
        let rows = st.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, String>(3)?,
            ))
        })?;
        for row in rows {
            let (entity, id, seq, grid) = row?;
            let e = sums.entry(grid).or_insert((0, [0; 16]));
            e.0 += 1;
            xor_into(&mut e.1, &row_hash(&entity, &id, seq as u64));
        }
    }
    tx.execute("DELETE FROM grid_digests", [])?;
    for (grid, (count, digest)) in sums {
        tx.execute(
            "INSERT INTO grid_digests VALUES (?1, ?2, ?3)",
            params![grid, count, digest.to_vec()],
        )?;
    }
    tx.execute("DELETE FROM meta WHERE key = 'grid_digests_stale'", [])?;
    tx.commit()?;
    Ok(())
}

/// The SQL condition (and its parameters ?1 grids, ?2 buildings, ?3 user) selecting the records
/// a principal may see, over the `records` columns prefixed by `t` ("" or "r.").
/// Whole-grid roles see their grids; building leaders their buildings, their grid's outline and
/// the issues they reported; party members their grid's outline and ledger, and their own
/// check-ins and service. Households and residents reach nobody outside those.
fn scope_filter(p: &Principal, t: &str) -> (String, [String; 3]) {
    let list = |ids: &[Uuid]| {
        serde_json::to_string(&ids.iter().map(|g| g.to_string()).collect::<Vec<_>>())
            .unwrap_or_default()
    };
    let mut parts = Vec::new();
    if p.sees_whole_grids() {
        parts.push(format!("{t}grid_id IN (SELECT value FROM json_each(?1))"));
    }
    if p.has(Role::BuildingLeader) {
        parts.push(format!(
            "{t}building_id IN (SELECT value FROM json_each(?2))"
        ));
        parts.push(format!(
            "({t}entity = 'grid' AND {t}grid_id IN (SELECT value FROM json_each(?1)))"
        ));
        parts.push(format!(
            "({t}entity IN ('issue', 'issue_event') AND {t}owner_id = ?3)"
        ));
    }
    if p.has(Role::PartyMember) {
        parts.push(format!("({t}entity IN ('grid', 'issue', 'issue_event') AND {t}grid_id IN (SELECT value FROM json_each(?1)))"));
        parts.push(format!(
            "({t}entity IN ('checkin', 'service_record') AND {t}owner_id = ?3)"
        ));
    }
    if parts.is_empty() {
        parts.push("0".to_string());
    }
    (
        format!("({})", parts.join(" OR ")),
        [list(&p.grids), list(&p.buildings), p.user_id.to_string()],
    )
}

/// Order-independent digest of a set of (entity, id, seq): see `gridmate_protocol::digest`.
pub fn digest_rows<'a>(rows: impl Iterator<Item = (&'a str, &'a str, u64)>) -> (u64, String) {
    gridmate_protocol::digest::scope_digest(
        rows.map(|(e, i, s)| (e, i.parse().unwrap_or_default(), s)),
    )
}

/// A resident record as this caller may see it: the full phone only for roles that call.
fn redact(entity: &str, mut data: serde_json::Value, p: &Principal) -> serde_json::Value {
    if entity == "resident"
        && !p.may_call_residents()
        && let Some(obj) = data.as_object_mut()
    {
        obj.remove("phone");
    }
    data
}

#[async_trait]
impl ServerStore for SqliteStore {
    async fn user_by_phone(&self, phone: String) -> Result<Option<UserRow>> {
        self.read(move |tx| {
            Ok(tx
                .query_row(
                    "SELECT id, phone, name, roles, password_hash, scope_epoch FROM users WHERE phone = ?1",
                    [phone],
                    |r| {
                        Ok(UserRow {
                            id: r.get::<_, String>(0)?.parse().unwrap_or_default(),
                            phone: r.get(1)?,
                            name: r.get(2)?,
                            roles: roles_from(&r.get::<_, String>(3)?),
                            password_hash: r.get(4)?,
                            scope_epoch: r.get::<_, i64>(5)? as u64,
                        })
                    },
                )
                .optional()?)
        })
        .await
    }

    async fn assignments(&self, user: Uuid) -> Result<Vec<AssignmentRow>> {
        self.read(move |tx| assignments_of(tx, user)).await
    }

    async fn create_session(
        &self,
        user: Uuid,
        token_hash: Vec<u8>,
        device_id: String,
        device_name: String,
        ttl_days: i64,
    ) -> Result<()> {
        self.write(move |tx| {
            let now = Utc::now().timestamp_millis();
            tx.execute(
                "INSERT INTO sessions (token_hash, user_id, device_id, device_name, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![gridmate_model::hex::encode(&token_hash), user.to_string(), device_id, device_name, now, now + ttl_days * 86_400_000],
            )?;
            Ok(())
        })
        .await
    }

    async fn session(&self, token_hash: Vec<u8>) -> Result<SessionLookup> {
        self.read(move |tx| {
            let row = tx
                .query_row(
                    "SELECT s.user_id, s.device_id, s.expires_at, s.revoked_at, u.name, u.roles, u.scope_epoch
                       FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?1",
                    [gridmate_model::hex::encode(&token_hash)],
                    |r| {
                        Ok((
                            r.get::<_, String>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, i64>(2)?,
                            r.get::<_, Option<i64>>(3)?,
                            r.get::<_, String>(4)?,
                            r.get::<_, String>(5)?,
                            r.get::<_, i64>(6)?,
                        ))
                    },
                )
                .optional()?;
            let Some((user, device_id, expires, revoked, name, roles, epoch)) = row else {
                return Ok(SessionLookup::Unknown);
            };
            if revoked.is_some() {
                return Ok(SessionLookup::Revoked);
            }
            if expires < Utc::now().timestamp_millis() {
                return Ok(SessionLookup::Expired);
            }
            let user_id: Uuid = user.parse().map_err(|_| StoreError::Corrupt("session user id".into()))?;
            let assignments = assignments_of(tx, user_id)?;
            let mut grids: Vec<Uuid> = assignments.iter().filter_map(|a| a.grid_id).collect();
            // A building leader's grid is the grid of their building.
            for a in assignments.iter().filter_map(|a| a.building_id) {
                let g: Option<String> = tx
                    .query_row("SELECT grid_id FROM records WHERE entity = 'building' AND id = ?1", [a.to_string()], |r| r.get(0))
                    .optional()?
                    .flatten();
                grids.extend(uuid_opt(g));
            }
            grids.sort();
            grids.dedup();
            Ok(SessionLookup::Valid(Principal {
                user_id,
                name,
                roles: roles_from(&roles),
                grids,
                buildings: assignments.iter().filter_map(|a| a.building_id).collect(),
                scope_epoch: epoch as u64,
                device_id,
            }))
        })
        .await
    }

    async fn revoke_session(&self, token_hash: Vec<u8>) -> Result<()> {
        self.write(move |tx| {
            tx.execute(
                "UPDATE sessions SET revoked_at = ?2 WHERE token_hash = ?1 AND revoked_at IS NULL",
                params![
                    gridmate_model::hex::encode(&token_hash),
                    Utc::now().timestamp_millis()
                ],
            )?;
            Ok(())
        })
        .await
    }

    async fn revoke_user(&self, phone: String) -> Result<usize> {
        self.write(move |tx| revoke_user_sessions(tx, &phone)).await
    }

    async fn pull(
        &self,
        p: Principal,
        from: Option<PullCursor>,
        limit: u32,
    ) -> Result<Result<PullOutcome, PullRefusal>> {
        self.read(move |tx| {
            let purged: u64 = tx
                .query_row(
                    "SELECT value FROM meta WHERE key = 'purged_through_seq'",
                    [],
                    |r| r.get::<_, String>(0),
                )
                .optional()?
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            // Deletes this device may have needed are gone (unless they were all of records
            // it never had, before its snapshot's head).
            if from.is_some_and(|c| c.seq < purged && purged > c.snapshot_head) {
                return Ok(Err(PullRefusal::ResyncRequired));
            }
            let head: u64 = tx.query_row("SELECT COALESCE(MAX(seq), 0) FROM records", [], |r| {
                r.get::<_, i64>(0)
            })? as u64;
            let (filter, args) = scope_filter(&p, "");
            // From no cursor: current state only. Tombstones up to the head at that moment are
            // of records a new device never had; later ones may be of records it just received.
            let from = from.unwrap_or(PullCursor { seq: 0, snapshot_head: head });
            let whole_grids_only =
                p.sees_whole_grids() && !p.has(Role::BuildingLeader) && !p.has(Role::PartyMember);
            let page_of = |condition: &str| {
                format!(
                    "SELECT seq, entity, id, deleted, data FROM records
                      WHERE seq > ?4 AND NOT (deleted = 1 AND seq <= ?6) AND {condition}
                      ORDER BY seq LIMIT ?5"
                )
            };
            // Several whole grids: each grid's slice comes ordered off (grid_id, seq), and
            // merging a few short lists beats sorting the whole scope for every page.
            let sql = if whole_grids_only && p.grids.len() > 1 {
                let slices: Vec<String> = (0..p.grids.len())
                    .map(|i| format!("SELECT * FROM ({})", page_of(&format!("grid_id = ?{}", 7 + i))))
                    .collect();
                format!("{} ORDER BY seq LIMIT ?5", slices.join(" UNION ALL "))
            } else {
                page_of(&filter)
            };
            let mut values: Vec<rusqlite::types::Value> = vec![
                args[0].clone().into(),
                args[1].clone().into(),
                args[2].clone().into(),
                (from.seq as i64).into(),
                (i64::from(limit) + 1).into(),
                (from.snapshot_head as i64).into(),
            ];
            if whole_grids_only && p.grids.len() > 1 {
                values.extend(p.grids.iter().map(|g| g.to_string().into()));
            }
            let mut st = tx.prepare_cached(&sql)?;
            let rows = st.query_map(rusqlite::params_from_iter(values), |r| {
                Ok((
                    r.get::<_, i64>(0)? as u64,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, bool>(3)?,
                    r.get::<_, String>(4)?,
                ))
            })?;
            let mut changes = Vec::new();
            let mut has_more = false;
            for row in rows {
                let (seq, entity, id, deleted, data) = row?;
                if changes.len() == limit as usize {
                    has_more = true;
                    break;
                }
                let id: Uuid = id
                    .parse()
                    .map_err(|_| StoreError::Corrupt("record id".into()))?;
                let corrupt = |e: serde_json::Error| StoreError::Corrupt(e.to_string());
                let data = if deleted {
                    serde_json::value::to_raw_value(&serde_json::json!({ "id": id })).map_err(corrupt)?
                } else if entity == "resident" && !p.may_call_residents() {
                    let value: serde_json::Value = serde_json::from_str(&data).map_err(corrupt)?;
                    serde_json::value::to_raw_value(&redact(&entity, value, &p)).map_err(corrupt)?
                } else {
                    serde_json::value::RawValue::from_string(data).map_err(corrupt)?
                };
                changes.push(gridmate_protocol::RawChange {
                    seq,
                    entity: Entity::from_code(&entity),
                    id,
                    op: if deleted { Op::Delete } else { Op::Upsert },
                    data,
                });
            }
            let cursor = if has_more {
                changes.last().map_or(head, |c| c.seq)
            } else {
                head
            };
            // Count and digest of the scope's live records up to the cursor. At the head, a
            // scope made of whole grids is the XOR of those grids' maintained digests.
            // A scope of whole grids answers from the maintained aggregates: the state at the
            // head, which is the cursor's state on the last page (the one a device compares) and,
            // on earlier pages, what the last page will say if nothing changes meanwhile.
            let (scope_count, scope_digest) = if whole_grids_only {
                let mut st = tx.prepare_cached("SELECT count, digest FROM grid_digests WHERE grid_id IN (SELECT value FROM json_each(?1))")?;
                let mut acc = [0u8; 16];
                let mut n = 0u64;
                for row in st.query_map([&args[0]], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?)))? {
                    let (count, digest) = row?;
                    n += count as u64;
                    xor_into(&mut acc, &digest);
                }
                (n, gridmate_model::hex::encode(&acc))
            } else {
                let mut st = tx.prepare_cached(&format!(
                    "SELECT entity, id, seq FROM records WHERE deleted = 0 AND seq <= ?4 AND {filter}"
                ))?;
                let rows: Vec<(String, String, u64)> = st
                    .query_map(params![args[0], args[1], args[2], cursor as i64], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get::<_, i64>(2)? as u64))
                    })?
                    .collect::<rusqlite::Result<_>>()?;
                digest_rows(rows.iter().map(|(e, i, s)| (e.as_str(), i.as_str(), *s)))
            };
            let snapshot_head = if cursor < from.snapshot_head { from.snapshot_head } else { 0 };
            Ok(Ok(PullOutcome {
                changes,
                cursor: PullCursor { seq: cursor, snapshot_head },
                has_more,
                scope_count,
                scope_digest,
            }))
        })
        .await
    }

    async fn push(&self, p: Principal, mutations: Vec<Mutation>) -> Result<Vec<PushResult>> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.inner
            .pushes
            .as_ref()
            .ok_or_else(|| StoreError::Join("the push writer stopped".into()))?
            .send(PushJob {
                principal: p,
                mutations,
                reply,
            })
            .map_err(|_| StoreError::Join("the push writer stopped".into()))?;
        answer
            .await
            .map_err(|_| StoreError::Join("the push writer stopped".into()))?
    }

    async fn conflicts(&self, p: Principal, after: i64, limit: u32) -> Result<Vec<ConflictEntry>> {
        self.read(move |tx| {
            let grids = serde_json::to_string(&p.grids.iter().map(|g| g.to_string()).collect::<Vec<_>>()).unwrap_or_default();
            let mut st = tx.prepare_cached(
                "SELECT seq, entity, id, field, kept_value, kept_hlc, kept_device, lost_value, lost_hlc, lost_device, mutation_id, at
                   FROM conflicts WHERE seq > ?1 AND grid_id IN (SELECT value FROM json_each(?2)) ORDER BY seq LIMIT ?3",
            )?;
            let rows = st.query_map(params![after, grids, limit], |r| {
                let json = |i: usize| r.get::<_, String>(i).map(|s| serde_json::from_str(&s).unwrap_or(serde_json::Value::Null));
                Ok(ConflictEntry {
                    seq: r.get(0)?,
                    entity: r.get(1)?,
                    id: r.get::<_, String>(2)?.parse().unwrap_or_default(),
                    field: r.get(3)?,
                    kept_value: json(4)?,
                    kept_hlc: r.get(5)?,
                    kept_device: r.get(6)?,
                    lost_value: json(7)?,
                    lost_hlc: r.get(8)?,
                    lost_device: r.get(9)?,
                    mutation_id: r.get::<_, String>(10)?.parse().unwrap_or_default(),
                    at: DateTime::from_timestamp_millis(r.get(11)?).unwrap_or_default(),
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    async fn blob_visible(&self, p: Principal, sha256: String) -> Result<bool> {
        self.read(move |tx| {
            let (filter, args) = scope_filter(&p, "r.");
            let sql = format!(
                "SELECT 1 FROM blob_refs b JOIN records r ON r.entity = b.entity AND r.id = b.id
                  WHERE b.sha256 = ?4 AND r.deleted = 0 AND {filter} LIMIT 1"
            );
            Ok(tx
                .query_row(&sql, params![args[0], args[1], args[2], sha256], |_| Ok(()))
                .optional()?
                .is_some())
        })
        .await
    }

    async fn blob_received(&self, sha256: String, bytes: u64) -> Result<()> {
        self.write(move |tx| {
            tx.execute(
                "INSERT OR IGNORE INTO blobs (sha256, bytes, received_at) VALUES (?1, ?2, ?3)",
                params![sha256, bytes as i64, Utc::now().timestamp_millis()],
            )?;
            Ok(())
        })
        .await
    }

    async fn blob_known(&self, sha256: String) -> Result<bool> {
        self.read(move |tx| {
            Ok(tx
                .query_row(
                    "SELECT 1 FROM blobs WHERE sha256 = ?1",
                    [sha256],
                    |_| Ok(()),
                )
                .optional()?
                .is_some())
        })
        .await
    }

    async fn schema_version(&self) -> Result<u32> {
        self.read(|tx| {
            Ok(tx.query_row(
                "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
                [],
                |r| r.get(0),
            )?)
        })
        .await
    }
}

fn assignments_of(tx: &Transaction<'_>, user: Uuid) -> Result<Vec<AssignmentRow>> {
    let mut st =
        tx.prepare_cached("SELECT role, grid_id, building_id FROM assignments WHERE user_id = ?1")?;
    let rows = st.query_map([user.to_string()], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, Option<String>>(1)?,
            r.get::<_, Option<String>>(2)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (role, g, b) = row?;
        if let Some(role) = Role::from_code(&role) {
            out.push(AssignmentRow {
                role,
                grid_id: uuid_opt(g),
                building_id: uuid_opt(b),
            });
        }
    }
    Ok(out)
}

/// Command-line administration, all synchronous on the writer.
pub mod admin {
    use super::*;

    pub fn add_user(
        tx: &Transaction<'_>,
        id: Uuid,
        phone: &str,
        name: &str,
        roles: &[Role],
        password: &str,
    ) -> Result<()> {
        let hash = crate::auth::hash_password(password).map_err(StoreError::Invalid)?;
        let roles: Vec<&str> = roles.iter().map(|r| r.code()).collect();
        tx.execute(
            "INSERT INTO users (id, phone, name, roles, password_hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![id.to_string(), phone, name, roles.join(","), hash, Utc::now().timestamp_millis()],
        )?;
        Ok(())
    }

    /// Add an assignment; the user's scope epoch moves so their devices re-pull their scope.
    pub fn assign(
        tx: &Transaction<'_>,
        phone: &str,
        role: Role,
        grid: Option<Uuid>,
        building: Option<Uuid>,
    ) -> Result<()> {
        let user: String = tx
            .query_row("SELECT id FROM users WHERE phone = ?1", [phone], |r| {
                r.get(0)
            })
            .optional()?
            .ok_or_else(|| StoreError::Invalid("no user with that phone".into()))?;
        tx.execute(
            "INSERT INTO assignments (user_id, role, grid_id, building_id) VALUES (?1, ?2, ?3, ?4)",
            params![
                user,
                role.code(),
                grid.map(|g| g.to_string()),
                building.map(|b| b.to_string())
            ],
        )?;
        tx.execute(
            "UPDATE users SET scope_epoch = scope_epoch + 1 WHERE id = ?1",
            [user],
        )?;
        Ok(())
    }

    /// Replace all of a user's assignments (a worker moved to another grid).
    pub fn reassign(
        tx: &Transaction<'_>,
        phone: &str,
        role: Role,
        grid: Option<Uuid>,
        building: Option<Uuid>,
    ) -> Result<()> {
        tx.execute(
            "DELETE FROM assignments WHERE user_id = (SELECT id FROM users WHERE phone = ?1)",
            [phone],
        )?;
        assign(tx, phone, role, grid, building)
    }

    pub fn put(tx: &Transaction<'_>, r: &PutRecord) -> Result<u64> {
        put_record(tx, r, Utc::now().timestamp_millis())
    }

    pub fn add_blob_refs(
        tx: &Transaction<'_>,
        shas: &[String],
        entity: Entity,
        id: Uuid,
    ) -> Result<()> {
        SqliteTx { tx }.add_blob_refs(shas, entity, id)
    }
}

/// How long tombstones of removed records are kept: a device that has not synced for longer must
/// pull its scope from the start (409 `resync_required`).
pub const TOMBSTONE_RETENTION_DAYS: i64 = 90;

/// Mark a record removed under a new seq: devices pulling from a cursor see a `delete`, new devices
/// never see it. The tombstone keeps only the id: a removed resident's data is gone.
pub fn remove_record(tx: &Connection, entity: Entity, id: Uuid, now_ms: i64) -> Result<bool> {
    let code = entity.code();
    let old: Option<(i64, Option<String>, bool)> = tx
        .query_row(
            "SELECT seq, grid_id, deleted FROM records WHERE entity = ?1 AND id = ?2",
            params![code, id.to_string()],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let Some((old_seq, grid, false)) = old else {
        return Ok(false);
    };
    let seq: i64 = tx.query_row("SELECT COALESCE(MAX(seq), 0) + 1 FROM records", [], |r| {
        r.get(0)
    })?;
    tx.execute(
        "UPDATE records SET seq = ?3, deleted = 1, changed_at = ?4, data = ?5 WHERE entity = ?1 AND id = ?2",
        params![code, id.to_string(), seq, now_ms, serde_json::json!({ "id": id }).to_string()],
    )?;
    if let Some(grid) = grid {
        fold_digest(
            tx,
            &grid,
            &row_hash(code, &id.to_string(), old_seq as u64),
            -1,
        )?;
    }
    Ok(true)
}

/// Remove a household that left the grid, with its residents.
pub fn remove_household(tx: &Connection, id: Uuid, now_ms: i64) -> Result<usize> {
    let residents: Vec<String> = tx
        .prepare("SELECT id FROM records WHERE entity = 'resident' AND deleted = 0 AND json_extract(data, '$.household_id') = ?1")?
        .query_map([id.to_string()], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut removed = 0;
    for r in residents {
        if let Ok(rid) = r.parse() {
            removed += usize::from(remove_record(tx, Entity::Resident, rid, now_ms)?);
        }
    }
    removed += usize::from(remove_record(tx, Entity::Household, id, now_ms)?);
    Ok(removed)
}

/// Drop tombstones older than the cutoff; cursors from before the newest one dropped can no
/// longer be served incrementally.
pub fn purge_tombstones(tx: &Connection, older_than_ms: i64) -> Result<usize> {
    let through: Option<i64> = tx.query_row(
        "SELECT MAX(seq) FROM records WHERE deleted = 1 AND changed_at < ?1",
        [older_than_ms],
        |r| r.get(0),
    )?;
    let Some(through) = through else {
        return Ok(0);
    };
    let n = tx.execute(
        "DELETE FROM records WHERE deleted = 1 AND seq <= ?1",
        [through],
    )?;
    tx.execute(
        "INSERT INTO meta (key, value) VALUES ('purged_through_seq', ?1)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        [through.to_string()],
    )?;
    Ok(n)
}

pub fn revoke_user_sessions(tx: &Transaction<'_>, phone: &str) -> Result<usize> {
    Ok(tx.execute(
        "UPDATE sessions SET revoked_at = ?2 WHERE revoked_at IS NULL AND user_id = (SELECT id FROM users WHERE phone = ?1)",
        params![phone, Utc::now().timestamp_millis()],
    )?)
}
