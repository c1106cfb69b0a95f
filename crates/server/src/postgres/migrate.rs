//! The PostgreSQL schema: numbered, embedded, append-only migrations, each applied once in its
//! own transaction and recorded in `schema_migrations`, the same runner as SQLite's. Several
//! processes starting at once take turns on an advisory lock.

use crate::store::Result;
use chrono::Utc;
use tokio::runtime::Handle;

const MIGRATIONS: &[(i32, &str)] = &[
    (1, include_str!("../../migrations/postgres/0001_init.sql")),
    (2, include_str!("../../migrations/postgres/0002_office.sql")),
    (3, include_str!("../../migrations/postgres/0003_facts.sql")),
    (
        4,
        include_str!("../../migrations/postgres/0004_case_numbers.sql"),
    ),
];

/// Held while migrating (an arbitrary constant beside the writer lock).
const MIGRATION_LOCK: i64 = 0x6772_6964_6d69_6772;

pub fn migrate(rt: &Handle, client: &mut deadpool_postgres::Client) -> Result<()> {
    rt.block_on(client.execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK]))?;
    let out = (|| {
        rt.block_on(client.batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)",
        ))?;
        let current: i32 = rt
            .block_on(client.query_one(
                "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
                &[],
            ))?
            .get(0);
        for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > current) {
            let tx = rt.block_on(client.transaction())?;
            rt.block_on(tx.batch_execute(sql))?;
            rt.block_on(tx.execute(
                "INSERT INTO schema_migrations VALUES ($1, $2)",
                &[version, &Utc::now().timestamp_millis()],
            ))?;
            rt.block_on(tx.commit())?;
        }
        Ok(())
    })();
    rt.block_on(client.execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK]))?;
    out
}
