//! The PostgreSQL schema: numbered, embedded, append-only migrations applied by
//! `gridmate_schema` (the one runner of every Gridmate schema), each in its own transaction and
//! recorded in `schema_migrations` with its name. Several processes starting at once take turns
//! on an advisory lock.
//!
//! The versions are the server's, the same as SQLite's (`crate::sqlite::migrate`): the first file
//! here holds what SQLite's first three do, so it brings the database to version 3. Releases
//! before this numbering recorded the PostgreSQL files as 1–4 (and no names); such a database is
//! renumbered once, in a transaction, when it is first opened.

use crate::store::{Result, StoreError};
use chrono::Utc;
use gridmate_schema::{Database, Migration};
use tokio::runtime::Handle;

pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 3,
        name: "init",
        sql: include_str!("../../migrations/postgres/0001_init.sql"),
    },
    Migration {
        version: 4,
        name: "office",
        sql: include_str!("../../migrations/postgres/0002_office.sql"),
    },
    Migration {
        version: 5,
        name: "facts",
        sql: include_str!("../../migrations/postgres/0003_facts.sql"),
    },
    Migration {
        version: 6,
        name: "case_numbers",
        sql: include_str!("../../migrations/postgres/0004_case_numbers.sql"),
    },
    Migration {
        version: 7,
        name: "visit_months",
        sql: include_str!("../../migrations/postgres/0005_visit_months.sql"),
    },
    Migration {
        version: 8,
        name: "messages",
        sql: include_str!("../../migrations/postgres/0006_messages.sql"),
    },
    Migration {
        version: 9,
        name: "late_facts",
        sql: include_str!("../../migrations/postgres/0007_late_facts.sql"),
    },
    Migration {
        version: 10,
        name: "residents",
        sql: include_str!("../../migrations/postgres/0008_residents.sql"),
    },
];

/// Held while migrating (an arbitrary constant beside the writer lock).
const MIGRATION_LOCK: i64 = 0x6772_6964_6d69_6772;

/// How far the PostgreSQL files' old numbers (1–4) are below the server's versions (3–6).
const LEGACY_OFFSET: i32 = 2;

/// The PostgreSQL database as `gridmate_schema` sees it.
struct Cluster<'a> {
    rt: &'a Handle,
    client: &'a mut deadpool_postgres::Client,
}

impl Database for Cluster<'_> {
    type Error = tokio_postgres::Error;

    fn version(&mut self) -> Result<u32, tokio_postgres::Error> {
        let rt = self.rt;
        rt.block_on(self.client.batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL, name TEXT NOT NULL DEFAULT '')",
        ))?;
        let named: bool = rt
            .block_on(self.client.query_one(
                "SELECT EXISTS (SELECT 1 FROM information_schema.columns
                  WHERE table_schema = current_schema() AND table_name = 'schema_migrations'
                    AND column_name = 'name')",
                &[],
            ))?
            .get(0);
        if !named {
            // An earlier release's numbering: its versions 1–4 are the server's 3–6. Moved in
            // two steps, as a primary key cannot hold 3 twice even for a moment.
            let tx = rt.block_on(self.client.transaction())?;
            rt.block_on(tx.batch_execute(&format!(
                "ALTER TABLE schema_migrations ADD COLUMN name TEXT NOT NULL DEFAULT '';
                 UPDATE schema_migrations SET version = version + 1000;
                 UPDATE schema_migrations SET version = version - 1000 + {LEGACY_OFFSET};"
            )))?;
            rt.block_on(tx.commit())?;
        }
        let v: i32 = rt
            .block_on(self.client.query_one(
                "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
                &[],
            ))?
            .get(0);
        Ok(v.max(0) as u32)
    }

    fn apply(&mut self, m: &Migration) -> Result<(), tokio_postgres::Error> {
        let rt = self.rt;
        let tx = rt.block_on(self.client.transaction())?;
        rt.block_on(tx.batch_execute(m.sql))?;
        rt.block_on(tx.execute(
            "INSERT INTO schema_migrations (version, applied_at, name) VALUES ($1, $2, $3)",
            &[&(m.version as i32), &Utc::now().timestamp_millis(), &m.name],
        ))?;
        rt.block_on(tx.commit())
    }
}

pub fn migrate(rt: &Handle, client: &mut deadpool_postgres::Client) -> Result<()> {
    rt.block_on(client.execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK]))?;
    let out = gridmate_schema::migrate(&mut Cluster { rt, client }, MIGRATIONS)
        .map(drop)
        .map_err(|e| StoreError::Schema(e.to_string()));
    rt.block_on(client.execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK]))?;
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_list_is_numbered_without_gap_and_ends_where_sqlites_does() {
        assert_eq!(gridmate_schema::check(super::MIGRATIONS), Ok(()));
        assert_eq!(
            gridmate_schema::latest(super::MIGRATIONS),
            gridmate_schema::latest(crate::sqlite::migrate::MIGRATIONS),
            "one version means one schema on both backends"
        );
    }
}
