//! The PostgreSQL backend, for a city: several `gridmate-server` processes on one database.
//!
//! Like [`crate::sqlite`] it decides nothing; [`rows`] spells the row traits in PostgreSQL's SQL.
//! What is its own:
//! - **The driver** is tokio-postgres with a deadpool pool. The store runs its own small tokio
//!   runtime for the connections, and every transaction on a blocking thread of it, where the
//!   synchronous row calls of the rules wait on the driver. So the store works the same from an
//!   async handler, a test and the command line, and never blocks an async thread.
//! - **One writer at a time, across processes.** Every write transaction starts by taking
//!   `pg_advisory_xact_lock(WRITER_LOCK)`: the record log's `head + 1` (see
//!   [`crate::store::log`]) is then read and written by one transaction at a time in the whole
//!   cluster, and a later seq is never committed before an earlier one. (A sequence object would
//!   let a `nextval` taken by a transaction that commits after a later one make a puller skip
//!   it forever.) The lock is released by commit, after which the commit is visible to every
//!   new snapshot.
//! - **Pushes that arrive together share a transaction** on a thread of their own, as on
//!   SQLite: with the writer lock held through each commit's WAL flush, a transaction per push
//!   made 50 phones pushing at once wait in line for 50 flushes (p99 4× SQLite's).
//! - **Reads** are `REPEATABLE READ, READ ONLY`: one snapshot for a whole pull page (its head,
//!   its rows and its digest agree).

pub(crate) mod migrate;
mod rows;

use crate::store::group::{self, PushJob};
use crate::store::{Backend, Principal, ReadTx, Result, StoreError, WriteTx, facts};
use chrono::Utc;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use gridmate_protocol::{Mutation, PushResult};
use rows::PgTx;
use std::future::Future;
use std::sync::Arc;
use tokio::runtime::{Handle, Runtime};

/// The advisory lock every write transaction holds (an arbitrary constant: "gridmate").
pub const WRITER_LOCK: i64 = 0x6772_6964_6d61_7465;
/// Connections per process: a blocking thread each while in use.
const POOL_SIZE: usize = 16;

struct Inner {
    pool: Pool,
    /// Taken in `drop`: a runtime dropped from async code must not block.
    rt: Option<Runtime>,
    pushes: Option<std::sync::mpsc::Sender<PushJob>>,
    push_thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Inner {
    /// The push thread first (it answers what it holds), then the runtime its connections use.
    fn drop(&mut self) {
        self.pushes.take();
        if let Some(t) = self.push_thread.take() {
            let _ = t.join();
        }
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

/// The most pushes one transaction applies.
const MAX_GROUP: usize = 256;

/// Apply the pushes waiting together in one transaction: one turn of the writer lock, one
/// commit. A push failing at the database rolls the whole group back; then each push is applied
/// in a transaction of its own, so that a failure is only its own push's.
fn group_commit(pool: Pool, rt: Handle, jobs: std::sync::mpsc::Receiver<PushJob>) {
    while let Some(group) = group::next_group(&jobs, MAX_GROUP) {
        let pushes = group::batches(&group);
        let together = run_on(&pool, &rt, Mode::Write, |tx| {
            crate::apply::push_group(tx, &pushes, Utc::now())
        });
        let results = match together {
            Ok(results) => results.into_iter().map(Ok).collect(),
            Err(e) if group.len() == 1 => vec![Err(e)],
            Err(_) => group
                .iter()
                .map(|job| {
                    run_on(&pool, &rt, Mode::Write, |tx| {
                        crate::apply::push(tx, &job.principal, &job.mutations, Utc::now())
                    })
                })
                .collect(),
        };
        group::answer(group, results);
    }
}

#[derive(Clone)]
pub struct PostgresStore {
    inner: Arc<Inner>,
}

/// How a transaction begins.
#[derive(Clone, Copy)]
enum Mode {
    Read,
    Write,
}

/// Run `f` in a transaction on this thread (never an async one), on a connection of `pool`
/// driven by `rt`.
fn run_on<T>(
    pool: &Pool,
    rt: &Handle,
    mode: Mode,
    f: impl FnOnce(&mut PgTx<'_>) -> Result<T>,
) -> Result<T> {
    let client = rt.block_on(pool.get())?;
    // A write begins with the writer lock in the same round trip.
    let begin = match mode {
        Mode::Read => "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY".to_string(),
        Mode::Write => format!("BEGIN; SELECT pg_advisory_xact_lock({WRITER_LOCK})"),
    };
    let out = (|| {
        rt.block_on(client.batch_execute(&begin))?;
        let mut tx = PgTx::new(&client, rt);
        let out = f(&mut tx)?;
        tx.flush()?;
        Ok(out)
    })();
    match out {
        Ok(v) => {
            rt.block_on(client.batch_execute("COMMIT"))?;
            Ok(v)
        }
        Err(e) => {
            if rt.block_on(client.batch_execute("ROLLBACK")).is_err() {
                // A connection whose state is unknown does not go back to the pool.
                drop(deadpool_postgres::Object::take(client));
            }
            Err(e)
        }
    }
}

impl Inner {
    fn rt(&self) -> &Runtime {
        self.rt
            .as_ref()
            .expect("the runtime lives as long as the store")
    }

    /// Run `f` in a transaction on this thread (never an async one).
    fn run<T>(&self, mode: Mode, f: impl FnOnce(&mut PgTx<'_>) -> Result<T>) -> Result<T> {
        run_on(&self.pool, self.rt().handle(), mode, f)
    }

    /// Run `f` in a transaction on a blocking thread of the store's runtime; await it from any
    /// runtime.
    fn spawn<T, F>(
        self: &Arc<Self>,
        mode: Mode,
        f: F,
    ) -> impl Future<Output = Result<T>> + Send + use<T, F>
    where
        T: Send + 'static,
        F: FnOnce(&mut PgTx<'_>) -> Result<T> + Send + 'static,
    {
        let inner = self.clone();
        let job = self.rt().spawn_blocking(move || inner.run(mode, f));
        async move { job.await.map_err(|e| StoreError::Join(e.to_string()))? }
    }
}

impl PostgresStore {
    /// Connect to `url` (`postgres://user:password@host:port/database`) and bring its schema up
    /// to date.
    pub fn open(url: &str) -> Result<Self> {
        let config: tokio_postgres::Config = url.parse().map_err(|e: tokio_postgres::Error| {
            StoreError::Invalid(format!("database url: {e}"))
        })?;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .max_blocking_threads(POOL_SIZE * 4)
            .thread_name("gridmate-postgres")
            .enable_all()
            .build()?;
        let manager = Manager::from_config(
            config,
            tokio_postgres::NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .build()
            .map_err(|e| StoreError::Invalid(format!("database pool: {e}")))?;
        let mut inner = Inner {
            pool,
            rt: Some(rt),
            pushes: None,
            push_thread: None,
        };
        // Migrations run on a thread of their own: the caller may be inside a runtime.
        std::thread::scope(|s| {
            s.spawn(|| {
                let rt = inner.rt().handle();
                let mut client = rt.block_on(inner.pool.get())?;
                migrate::migrate(rt, &mut client)?;
                drop(client);
                // Under the writer lock: a second process starting at once finds them built.
                inner.run(Mode::Write, |tx| facts::ensure(tx).map(drop))
            })
            .join()
            .map_err(|_| StoreError::Join("the migration thread panicked".into()))?
        })?;
        let (pushes, jobs) = std::sync::mpsc::channel();
        let (pool, handle) = (inner.pool.clone(), inner.rt().handle().clone());
        inner.push_thread = Some(
            std::thread::Builder::new()
                .name("gridmate-push".into())
                .spawn(move || group_commit(pool, handle, jobs))?,
        );
        inner.pushes = Some(pushes);
        Ok(Self {
            inner: Arc::new(inner),
        })
    }
}

impl Backend for PostgresStore {
    fn read<T, F>(&self, f: F) -> impl Future<Output = Result<T>> + Send
    where
        T: Send + 'static,
        F: FnOnce(&mut dyn ReadTx) -> Result<T> + Send + 'static,
    {
        self.inner.spawn(Mode::Read, move |tx| f(tx))
    }

    fn write<T, F>(&self, f: F) -> impl Future<Output = Result<T>> + Send
    where
        T: Send + 'static,
        F: FnOnce(&mut dyn WriteTx) -> Result<T> + Send + 'static,
    {
        self.inner.spawn(Mode::Write, move |tx| f(tx))
    }

    /// Pushes that arrive together share one transaction (see [`group_commit`]).
    fn push(
        &self,
        principal: Principal,
        mutations: Vec<Mutation>,
    ) -> impl Future<Output = Result<Vec<PushResult>>> + Send {
        let inner = self.inner.clone();
        async move { group::enqueue(inner.pushes.as_ref(), principal, mutations).await }
    }

    fn admin<T: Send>(&self, f: impl FnOnce(&mut dyn WriteTx) -> Result<T> + Send) -> Result<T> {
        // On a thread of its own: the caller may be inside a runtime, where waiting on the
        // driver is not allowed.
        std::thread::scope(|s| {
            s.spawn(|| self.inner.run(Mode::Write, |tx| f(tx)))
                .join()
                .map_err(|_| StoreError::Join("an admin transaction panicked".into()))?
        })
    }
}

/// `url` with its database name replaced by `name`.
pub fn with_database(url: &str, name: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("postgres", url));
    let (authority, tail) = rest.split_once('/').unwrap_or((rest, ""));
    let query = tail
        .split_once('?')
        .map(|(_, q)| format!("?{q}"))
        .unwrap_or_default();
    format!("{scheme}://{authority}/{name}{query}")
}

/// Create an empty database (or a copy of `template`) on the server `url` points at, named
/// uniquely; returns its name and URL. For tests and benchmarks, which each want a database of
/// their own.
pub fn scratch_database(url: &str, template: Option<&str>) -> Result<(String, String)> {
    let config: tokio_postgres::Config = url
        .parse()
        .map_err(|e: tokio_postgres::Error| StoreError::Invalid(format!("database url: {e}")))?;
    let name = format!("gridmate_{}", uuid::Uuid::now_v7().simple());
    let create = match template {
        Some(t) => format!("CREATE DATABASE \"{name}\" TEMPLATE \"{t}\""),
        None => format!("CREATE DATABASE \"{name}\""),
    };
    std::thread::scope(|s| {
        s.spawn(|| -> Result<()> {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            rt.block_on(async {
                let (client, connection) = config.connect(tokio_postgres::NoTls).await?;
                tokio::spawn(connection);
                // A template must have no other sessions (a store just dropped may linger).
                if let Some(t) = template {
                    client
                        .execute(
                            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
                            &[&t],
                        )
                        .await?;
                }
                client.batch_execute(&create).await?;
                Ok(())
            })
        })
        .join()
        .map_err(|_| StoreError::Join("creating a database panicked".into()))?
    })?;
    let url = with_database(url, &name);
    Ok((name, url))
}
