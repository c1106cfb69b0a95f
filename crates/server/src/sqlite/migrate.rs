//! The server's SQLite schema: numbered, embedded, append-only migrations applied by
//! `gridmate_schema` (the one runner of every Gridmate schema), each in its own transaction and
//! recorded in `schema_migrations` with its name. The versions are the server's, the same on
//! PostgreSQL (`crate::postgres::migrate`): a database at version 8 has the same tables on both.

use super::rows::SqliteTx;
use crate::store::{ReadTx, Result, StoreError, WriteTx, facts, log};
use chrono::Utc;
use gridmate_protocol::Entity;
use gridmate_schema::{Database, Migration};
use rusqlite::{Connection, params};
use uuid::Uuid;

pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "init",
        sql: include_str!("../../migrations/0001_init.sql"),
    },
    Migration {
        version: 2,
        name: "grid_digests",
        sql: include_str!("../../migrations/0002_grid_digests.sql"),
    },
    Migration {
        version: 3,
        name: "login_failures",
        sql: include_str!("../../migrations/0003_login_failures.sql"),
    },
    Migration {
        version: 4,
        name: "office",
        sql: include_str!("../../migrations/0004_office.sql"),
    },
    Migration {
        version: 5,
        name: "facts",
        sql: include_str!("../../migrations/0005_facts.sql"),
    },
    Migration {
        version: 6,
        name: "case_numbers",
        sql: include_str!("../../migrations/0006_case_numbers.sql"),
    },
    Migration {
        version: 7,
        name: "visit_months",
        sql: include_str!("../../migrations/0007_visit_months.sql"),
    },
    Migration {
        version: 8,
        name: "messages",
        sql: include_str!("../../migrations/0008_messages.sql"),
    },
    Migration {
        version: 9,
        name: "late_facts",
        sql: include_str!("../../migrations/0009_late_facts.sql"),
    },
    Migration {
        version: 10,
        name: "residents",
        sql: include_str!("../../migrations/0010_residents.sql"),
    },
];

/// Set by a migration that added digests to a database with records: they are computed once,
/// at the next open.
const DIGESTS_STALE: &str = "grid_digests_stale";

/// The server's SQLite file as `gridmate_schema` sees it.
struct ServerFile<'a>(&'a mut Connection);

impl Database for ServerFile<'_> {
    type Error = rusqlite::Error;

    fn version(&mut self) -> rusqlite::Result<u32> {
        self.0.execute_batch(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL, name TEXT NOT NULL DEFAULT '') STRICT;",
        )?;
        // A database of an earlier release recorded versions without names.
        let named: bool = self.0.query_row(
            "SELECT COUNT(*) > 0 FROM pragma_table_info('schema_migrations') WHERE name = 'name'",
            [],
            |r| r.get(0),
        )?;
        if !named {
            self.0.execute_batch(
                "ALTER TABLE schema_migrations ADD COLUMN name TEXT NOT NULL DEFAULT ''",
            )?;
        }
        self.0.query_row(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
            [],
            |r| r.get(0),
        )
    }

    fn apply(&mut self, m: &Migration) -> rusqlite::Result<()> {
        let tx = self.0.transaction()?;
        tx.execute_batch(m.sql)?;
        tx.execute(
            "INSERT INTO schema_migrations (version, applied_at, name) VALUES (?1, ?2, ?3)",
            params![m.version, Utc::now().timestamp_millis(), m.name],
        )?;
        tx.commit()
    }
}

pub fn migrate(conn: &mut Connection) -> Result<()> {
    gridmate_schema::migrate(&mut ServerFile(conn), MIGRATIONS)
        .map_err(|e| StoreError::Schema(e.to_string()))?;
    rebuild_grid_digests_if_stale(conn)?;
    let tx = conn.transaction()?;
    facts::ensure(&mut SqliteTx { conn: &tx })?;
    tx.commit()?;
    Ok(())
}

fn rebuild_grid_digests_if_stale(conn: &mut Connection) -> Result<()> {
    let tx = conn.transaction()?;
    if (SqliteTx { conn: &tx }).meta(DIGESTS_STALE)?.as_deref() != Some("1") {
        return Ok(());
    }
    let mut by_grid: std::collections::HashMap<Uuid, Vec<(Entity, Uuid, u64)>> =
        std::collections::HashMap::new();
    {
        let mut st = tx.prepare(
            "SELECT grid_id, entity, id, seq FROM records WHERE deleted = 0 AND grid_id IS NOT NULL",
        )?;
        let rows = st.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
            ))
        })?;
        for row in rows {
            let (grid, entity, id, seq) = row?;
            if let (Ok(grid), Ok(id)) = (grid.parse(), id.parse()) {
                by_grid
                    .entry(grid)
                    .or_default()
                    .push((Entity::from_code(&entity), id, seq as u64));
            }
        }
    }
    tx.execute("DELETE FROM grid_digests", [])?;
    tx.execute("DELETE FROM meta WHERE key = ?1", [DIGESTS_STALE])?;
    let mut rows = SqliteTx { conn: &tx };
    for (grid, keys) in by_grid {
        let digest = log::digest_of(keys.iter().map(|(e, id, seq)| (*e, id, *seq)));
        rows.set_grid_digest(grid, &digest)?;
    }
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_list_is_numbered_without_gap_and_named_once() {
        assert_eq!(gridmate_schema::check(super::MIGRATIONS), Ok(()));
    }
}
