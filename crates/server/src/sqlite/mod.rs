//! The default backend: one SQLite file in WAL mode. Writes go through one connection behind a
//! mutex (SQLite has one writer; the mutex is the queue), reads through a small pool of their
//! own connections, so pulls run in parallel with pushes. All of it on tokio's blocking pool.
//!
//! It implements [`Backend`] and nothing else decides here: [`rows`] spells the row traits in
//! SQL, [`filter`] a scope as an SQL condition, [`migrate`] the schema. Its one addition is the
//! group commit of pushes.

mod filter;
pub(crate) mod migrate;
mod rows;

use crate::store::group::{self, PushJob};
use crate::store::{Backend, Principal, ReadTx, Result, StoreError, WriteTx};
use chrono::Utc;
use gridmate_protocol::{Mutation, PushResult};
use rows::SqliteTx;
use rusqlite::Connection;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Reader connections kept open between requests.
const READERS: usize = 16;

struct Inner {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
    /// Reads running at once: as many as cores. A read is CPU work on pages already in memory,
    /// so more at once only take turns with the writer — in the 200-device burst, 8 at once
    /// made the pushes' p99 a third longer than 2 on two cores — and each one past the pool
    /// of [`READERS`] opened a connection of its own.
    reading: tokio::sync::Semaphore,
    pushes: Option<std::sync::mpsc::Sender<PushJob>>,
    push_thread: Option<std::thread::JoinHandle<()>>,
    /// Dropped to stop the checkpointer.
    checkpoints: Option<std::sync::mpsc::Sender<()>>,
    checkpoint_thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Inner {
    /// Stop the push thread and wait for it, so that once the last handle is gone the database
    /// file is closed (and its WAL checkpointed) — a copy or a reopen sees everything.
    fn drop(&mut self) {
        self.pushes.take();
        if let Some(t) = self.push_thread.take() {
            let _ = t.join();
        }
        self.checkpoints.take();
        if let Some(t) = self.checkpoint_thread.take() {
            let _ = t.join();
        }
    }
}

/// How often the checkpointer copies the WAL back into the database file. Pages written again
/// between two checkpoints (an index's last leaf, a grid's digest) are copied once: with a
/// checkpoint every 250 ms the 200-device burst's p99 was 205–264 ms over four runs, every
/// second 194–246 ms.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(1000);

/// Copy committed pages from the WAL into the database file, on a connection and thread of its
/// own. SQLite's default runs this inside whichever commit crosses 1,000 WAL pages, fsyncs
/// included: in a 200-device burst that put 25–90 ms into every other group commit, and every
/// push queued behind it waited too. A PASSIVE checkpoint never blocks the writer or readers.
fn checkpointer(conn: Connection, stop: std::sync::mpsc::Receiver<()>) {
    while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = stop.recv_timeout(CHECKPOINT_EVERY)
    {
        if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::warn!(error = %e, "WAL checkpoint failed; the next one retries");
        }
    }
}

/// Pushes that arrive together are applied in one transaction: with 200 devices pushing at
/// once, a commit per push made the writer queue the tail latency. Each commit waits for its
/// fsync (15–30 ms here); groups of up to 64 made nine of them in the burst's busiest second.
const MAX_GROUP: usize = 256;

fn group_commit(mut conn: Connection, jobs: std::sync::mpsc::Receiver<PushJob>) {
    while let Some(group) = group::next_group(&jobs, MAX_GROUP) {
        // A database error in one push must not touch another's. Savepoints would isolate
        // them, but a savepoint copies every page it first touches into its sub-journal: a
        // quarter of the writer's time in a burst. Pushes fail at the database only when
        // something is wrong with it, so the group runs bare and, if one fails, runs again
        // with a savepoint per push.
        let results = match apply_together(&mut conn, &group) {
            Ok(results) => results.into_iter().map(Ok).collect(),
            Err(_) => apply_apart(&mut conn, &group).unwrap_or_else(|e| {
                let msg = e.to_string();
                group
                    .iter()
                    .map(|_| {
                        Err(StoreError::Database(Box::new(std::io::Error::other(
                            format!("commit failed: {msg}"),
                        ))))
                    })
                    .collect()
            }),
        };
        group::answer(group, results);
    }
}

/// Apply a group's pushes in one transaction; the first failure at the database rolls all
/// of it back.
fn apply_together(conn: &mut Connection, group: &[PushJob]) -> Result<Vec<Vec<PushResult>>> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let results = crate::apply::push_group(
        &mut SqliteTx { conn: &tx },
        &group::batches(group),
        Utc::now(),
    )?;
    tx.commit()?;
    Ok(results)
}

/// Apply a group's pushes in one transaction, each in a savepoint of its own: a push failing
/// at the database is undone alone and the others commit.
fn apply_apart(conn: &mut Connection, group: &[PushJob]) -> Result<Vec<Result<Vec<PushResult>>>> {
    let mut tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let mut results = Vec::with_capacity(group.len());
    for job in group {
        let sp = tx.savepoint()?;
        let r = crate::apply::push(
            &mut SqliteTx { conn: &sp },
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
}

#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

fn open_conn(path: &Path) -> Result<Connection> {
    let conn = Connection::open(path)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // A push is answered once committed, and the phone then drops it from its outbox: a commit
    // must survive a power cut, not only a crash, so the WAL is synced at every commit. Group
    // commit shares that fsync among the pushes that arrive together.
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // The office's statistics group a year of facts: a 2 MB page cache and a sorter spilling
    // to temporary files made the year's figures 4× slower than with these. The map shares the
    // operating system's page cache instead of copying each page into every connection.
    conn.pragma_update(None, "cache_size", -32_768)?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    conn.pragma_update(None, "mmap_size", 1i64 << 30)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    Ok(conn)
}

/// The database's file in the data folder (beside it, SQLite's `-wal` and `-shm`).
pub const DATABASE_FILE: &str = "gridmate-server.sqlite";

impl SqliteStore {
    /// Open (creating and migrating) `DIR/gridmate-server.sqlite`.
    pub fn open(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join(DATABASE_FILE);
        let mut writer = open_conn(&path)?;
        migrate::migrate(&mut writer)?;
        writer.pragma_update(None, "wal_autocheckpoint", 0)?;
        let (pushes, jobs) = std::sync::mpsc::channel();
        let push_conn = open_conn(&path)?;
        push_conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        let push_thread = std::thread::Builder::new()
            .name("gridmate-push".into())
            .spawn(move || group_commit(push_conn, jobs))?;
        let (checkpoints, stop) = std::sync::mpsc::channel();
        let checkpoint_conn = open_conn(&path)?;
        let checkpoint_thread = std::thread::Builder::new()
            .name("gridmate-checkpoint".into())
            .spawn(move || checkpointer(checkpoint_conn, stop))?;
        Ok(Self {
            inner: Arc::new(Inner {
                path,
                writer: Mutex::new(writer),
                readers: Mutex::new(Vec::new()),
                reading: tokio::sync::Semaphore::new(
                    std::thread::available_parallelism().map_or(2, |n| n.get().max(2)),
                ),
                pushes: Some(pushes),
                push_thread: Some(push_thread),
                checkpoints: Some(checkpoints),
                checkpoint_thread: Some(checkpoint_thread),
            }),
        })
    }

    /// Write a consistent, compacted copy of the database to `to` while it keeps serving
    /// (`VACUUM INTO` reads one snapshot). `to` must not exist.
    pub fn backup(&self, to: &Path) -> Result<()> {
        if to.exists() {
            return Err(StoreError::Invalid(format!(
                "{} exists; a backup never overwrites",
                to.display()
            )));
        }
        open_conn(&self.inner.path)?.execute("VACUUM INTO ?1", [to.to_string_lossy()])?;
        Ok(())
    }
}

impl Backend for SqliteStore {
    fn write<T, F>(&self, f: F) -> impl Future<Output = Result<T>> + Send
    where
        T: Send + 'static,
        F: FnOnce(&mut dyn WriteTx) -> Result<T> + Send + 'static,
    {
        let inner = self.inner.clone();
        async move {
            tokio::task::spawn_blocking(move || {
                let mut conn = inner.writer.lock().unwrap_or_else(|e| e.into_inner());
                let tx =
                    conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
                let out = f(&mut SqliteTx { conn: &tx })?;
                tx.commit()?;
                Ok(out)
            })
            .await
            .map_err(|e| StoreError::Join(e.to_string()))?
        }
    }

    fn read<T, F>(&self, f: F) -> impl Future<Output = Result<T>> + Send
    where
        T: Send + 'static,
        F: FnOnce(&mut dyn ReadTx) -> Result<T> + Send + 'static,
    {
        let (gate, inner) = (self.inner.clone(), self.inner.clone());
        async move {
            let _turn = gate
                .reading
                .acquire()
                .await
                .map_err(|e| StoreError::Join(e.to_string()))?;
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
                    let out = f(&mut SqliteTx { conn: &tx })?;
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
    }

    fn admin<T: Send>(&self, f: impl FnOnce(&mut dyn WriteTx) -> Result<T> + Send) -> Result<T> {
        let mut conn = self.inner.writer.lock().unwrap_or_else(|e| e.into_inner());
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let out = f(&mut SqliteTx { conn: &tx })?;
        tx.commit()?;
        Ok(out)
    }

    /// Pushes that arrive together share one commit (see [`group_commit`]).
    fn push(
        &self,
        principal: Principal,
        mutations: Vec<Mutation>,
    ) -> impl Future<Output = Result<Vec<PushResult>>> + Send {
        let inner = self.inner.clone();
        async move { group::enqueue(inner.pushes.as_ref(), principal, mutations).await }
    }
}
