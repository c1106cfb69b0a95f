//! The backend a command runs on, chosen at start: SQLite in the data folder (the default, for
//! a community or a street), or PostgreSQL at a URL (`--database`, `GRIDMATE_DATABASE`; for a
//! city, shared by several server processes).

use crate::postgres::PostgresStore;
use crate::sqlite::SqliteStore;
use crate::store::{Backend, Principal, ReadTx, Result, WriteTx};
use gridmate_protocol::{Mutation, PushResult};
use std::future::Future;
use std::path::Path;

#[derive(Clone)]
pub enum Database {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

impl Database {
    /// PostgreSQL when `url` is given (`postgres://…` or `postgresql://…`), else SQLite in `data`.
    pub fn open(url: Option<&str>, data: &Path) -> Result<Database> {
        match url.filter(|u| !u.is_empty()) {
            Some(url) => Ok(Database::Postgres(PostgresStore::open(url)?)),
            None => Ok(Database::Sqlite(SqliteStore::open(data)?)),
        }
    }

    /// Which backend, for logs and health.
    pub fn kind(&self) -> &'static str {
        match self {
            Database::Sqlite(_) => "sqlite",
            Database::Postgres(_) => "postgres",
        }
    }
}

impl Backend for Database {
    fn read<T, F>(&self, f: F) -> impl Future<Output = Result<T>> + Send
    where
        T: Send + 'static,
        F: FnOnce(&mut dyn ReadTx) -> Result<T> + Send + 'static,
    {
        let this = self.clone();
        async move {
            match this {
                Database::Sqlite(s) => s.read(f).await,
                Database::Postgres(p) => p.read(f).await,
            }
        }
    }

    fn write<T, F>(&self, f: F) -> impl Future<Output = Result<T>> + Send
    where
        T: Send + 'static,
        F: FnOnce(&mut dyn WriteTx) -> Result<T> + Send + 'static,
    {
        let this = self.clone();
        async move {
            match this {
                Database::Sqlite(s) => s.write(f).await,
                Database::Postgres(p) => p.write(f).await,
            }
        }
    }

    fn admin<T: Send>(&self, f: impl FnOnce(&mut dyn WriteTx) -> Result<T> + Send) -> Result<T> {
        match self {
            Database::Sqlite(s) => s.admin(f),
            Database::Postgres(p) => p.admin(f),
        }
    }

    fn push(
        &self,
        p: Principal,
        mutations: Vec<Mutation>,
    ) -> impl Future<Output = Result<Vec<PushResult>>> + Send {
        let this = self.clone();
        async move {
            match this {
                Database::Sqlite(s) => Backend::push(&s, p, mutations).await,
                Database::Postgres(pg) => Backend::push(&pg, p, mutations).await,
            }
        }
    }
}

impl From<SqliteStore> for Database {
    fn from(s: SqliteStore) -> Database {
        Database::Sqlite(s)
    }
}

impl From<PostgresStore> for Database {
    fn from(p: PostgresStore) -> Database {
        Database::Postgres(p)
    }
}
