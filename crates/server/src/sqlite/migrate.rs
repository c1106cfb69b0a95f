//! The server's SQLite schema: numbered, embedded, append-only migrations, each applied once in
//! its own transaction and recorded in `schema_migrations`.

use super::rows::SqliteTx;
use crate::store::{ReadTx, Result, WriteTx, facts, log};
use chrono::Utc;
use gridmate_protocol::Entity;
use rusqlite::{Connection, params};
use uuid::Uuid;

const MIGRATIONS: &[(u32, &str)] = &[
    (1, include_str!("../../migrations/0001_init.sql")),
    (2, include_str!("../../migrations/0002_grid_digests.sql")),
    (3, include_str!("../../migrations/0003_login_failures.sql")),
    (4, include_str!("../../migrations/0004_office.sql")),
    (5, include_str!("../../migrations/0005_facts.sql")),
    (6, include_str!("../../migrations/0006_case_numbers.sql")),
];

/// Set by a migration that added digests to a database with records: they are computed once,
/// at the next open.
const DIGESTS_STALE: &str = "grid_digests_stale";

pub fn migrate(conn: &mut Connection) -> Result<()> {
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
