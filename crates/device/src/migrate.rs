//! The schema: the numbered SQL files in the workspace's `migrations/` folder, embedded at build
//! time and applied in order by `gridmate_schema` (the one runner of every Gridmate schema),
//! each in its own transaction and recorded in `schema_migrations`.
//!
//! Migrations are append-only: an applied migration is never edited, a change is a new file. A
//! database written by a newer app (a version this build does not know) is refused rather than
//! guessed at.

use crate::{DeviceError, Result};
use gridmate_schema::{Database, MigrateError, Migration};
use rusqlite::Connection;

pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "cache",
        sql: include_str!("../../../migrations/0001_cache.sql"),
    },
    Migration {
        version: 2,
        name: "outbox",
        sql: include_str!("../../../migrations/0002_outbox.sql"),
    },
    Migration {
        version: 3,
        name: "search_order",
        sql: include_str!("../../../migrations/0003_search_order.sql"),
    },
    Migration {
        version: 4,
        name: "sync",
        sql: include_str!("../../../migrations/0004_sync.sql"),
    },
    Migration {
        version: 5,
        name: "drafts",
        sql: include_str!("../../../migrations/0005_drafts.sql"),
    },
    Migration {
        version: 6,
        name: "orders",
        sql: include_str!("../../../migrations/0006_orders.sql"),
    },
    Migration {
        version: 7,
        name: "callups",
        sql: include_str!("../../../migrations/0007_callups.sql"),
    },
    Migration {
        version: 8,
        name: "commitments",
        sql: include_str!("../../../migrations/0008_commitments.sql"),
    },
    Migration {
        version: 9,
        name: "patrols",
        sql: include_str!("../../../migrations/0009_patrols.sql"),
    },
    Migration {
        version: 10,
        name: "base_maps",
        sql: include_str!("../../../migrations/0010_base_maps.sql"),
    },
    Migration {
        version: 11,
        name: "case_numbers",
        sql: include_str!("../../../migrations/0011_case_numbers.sql"),
    },
];

pub fn latest_version() -> u32 {
    gridmate_schema::latest(MIGRATIONS)
}

/// The version recorded in the file, creating the bookkeeping table when it is missing.
fn recorded_version(conn: &Connection) -> rusqlite::Result<u32> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version    INTEGER PRIMARY KEY,
             name       TEXT NOT NULL,
             applied_at INTEGER NOT NULL
         ) STRICT;",
    )?;
    conn.query_row(
        "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
        [],
        |r| r.get(0),
    )
}

/// The phone's file as `gridmate_schema` sees it.
struct PhoneFile<'a>(&'a mut Connection);

impl Database for PhoneFile<'_> {
    type Error = rusqlite::Error;

    fn version(&mut self) -> rusqlite::Result<u32> {
        recorded_version(self.0)
    }

    fn apply(&mut self, m: &Migration) -> rusqlite::Result<()> {
        let tx = self.0.transaction()?;
        tx.execute_batch(m.sql)?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)",
            (m.version, m.name, chrono::Utc::now().timestamp_millis()),
        )?;
        tx.commit()
    }
}

fn device_error(e: MigrateError<rusqlite::Error>) -> DeviceError {
    match e {
        MigrateError::TooNew { found, known } => DeviceError::SchemaTooNew { found, known },
        MigrateError::Failed {
            version,
            name,
            source,
        } => DeviceError::Migration {
            version,
            name,
            source,
        },
        MigrateError::Database(e) => DeviceError::Sqlite(e),
    }
}

/// The highest applied version (0 for an empty file).
pub fn current_version(conn: &Connection) -> Result<u32> {
    Ok(recorded_version(conn)?)
}

/// Apply every migration above the current version, up to `target`.
pub fn migrate_to(conn: &mut Connection, target: u32) -> Result<u32> {
    gridmate_schema::migrate_to(&mut PhoneFile(conn), MIGRATIONS, target).map_err(device_error)
}

pub fn migrate(conn: &mut Connection) -> Result<u32> {
    migrate_to(conn, latest_version())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_list_is_numbered_without_gap_and_named_once() {
        assert_eq!(gridmate_schema::check(super::MIGRATIONS), Ok(()));
    }
}
