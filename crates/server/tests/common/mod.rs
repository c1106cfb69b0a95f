//! The backend every server test runs on: SQLite in the test's folder, or, when
//! `GRIDMATE_TEST_POSTGRES` names a PostgreSQL server (`postgres://user@host:port/postgres`), a
//! fresh database of its own there. CI runs the server tests once each way.

#![allow(dead_code)]

pub mod process;
pub mod scratch;
pub mod server;

use gridmate_server::database::Database;
use gridmate_server::postgres::{PostgresStore, scratch_database};
use gridmate_server::sqlite::SqliteStore;
use std::path::Path;

pub fn postgres() -> Option<String> {
    std::env::var("GRIDMATE_TEST_POSTGRES")
        .ok()
        .filter(|u| !u.is_empty())
}

/// A fresh, empty backend; `dir` holds the SQLite file (and photos either way). Also returns
/// the PostgreSQL URL when there is one.
pub fn fresh(dir: &Path) -> (Database, Option<String>) {
    match postgres() {
        Some(base) => {
            let (_, url) = scratch_database(&base, None).expect("a scratch database");
            (
                Database::Postgres(PostgresStore::open(&url).expect("postgres")),
                Some(url),
            )
        }
        None => (
            Database::Sqlite(SqliteStore::open(dir).expect("sqlite")),
            None,
        ),
    }
}

/// Run `f` with a client of its own on the database at `url`, from any thread (a test may be
/// inside a runtime): a test inspecting or breaking the database directly.
pub fn on_postgres<T, F, Fut>(url: &str, f: F) -> T
where
    T: Send,
    F: FnOnce(tokio_postgres::Client) -> Fut + Send,
    Fut: std::future::Future<Output = Result<T, tokio_postgres::Error>>,
{
    std::thread::scope(|s| {
        s.spawn(|| {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
                    .await
                    .unwrap();
                tokio::spawn(connection);
                f(client).await.unwrap()
            })
        })
        .join()
        .unwrap()
    })
}
