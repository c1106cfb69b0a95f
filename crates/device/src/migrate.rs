//! The schema: the numbered SQL files in the workspace's `migrations/` folder, embedded at build
//! time and applied in order, each in its own transaction and recorded in `schema_migrations`.
//!
//! Migrations are append-only: an applied migration is never edited, a change is a new file. A
//! database written by a newer app (a version this build does not know) is refused rather than
//! guessed at.

use crate::{DeviceError, Result};
use rusqlite::Connection;

pub struct Migration {
    pub version: u32,
    pub name: &'static str,
    pub sql: &'static str,
}

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
    MIGRATIONS.last().map_or(0, |m| m.version)
}

/// The highest applied version (0 for an empty file).
pub fn current_version(conn: &Connection) -> Result<u32> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version    INTEGER PRIMARY KEY,
             name       TEXT NOT NULL,
             applied_at INTEGER NOT NULL
         ) STRICT;",
    )?;
    Ok(conn.query_row(
        "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
        [],
        |r| r.get(0),
    )?)
}

/// Apply every migration above the current version, up to `target`.
pub fn migrate_to(conn: &mut Connection, target: u32) -> Result<u32> {
    let current = current_version(conn)?;
    if current > latest_version() {
        return Err(DeviceError::SchemaTooNew {
            found: current,
            known: latest_version(),
        });
    }
    for m in MIGRATIONS
        .iter()
        .filter(|m| m.version > current && m.version <= target)
    {
        let wrap = |source| DeviceError::Migration {
            version: m.version,
            name: m.name,
            source,
        };
        let tx = conn.transaction().map_err(wrap)?;
        tx.execute_batch(m.sql).map_err(wrap)?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)",
            (m.version, m.name, chrono::Utc::now().timestamp_millis()),
        )
        .map_err(wrap)?;
        tx.commit().map_err(wrap)?;
    }
    current_version(conn)
}

pub fn migrate(conn: &mut Connection) -> Result<u32> {
    migrate_to(conn, latest_version())
}
