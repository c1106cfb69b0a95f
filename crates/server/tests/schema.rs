//! The server's schema on both backends: one version means one schema (SQLite and PostgreSQL
//! both end at the same version, named alike), a database made by the previous release opens and
//! is brought up to date with what it held kept, and a database from a newer build is refused
//! untouched with a message that says so.

mod common;

use gridmate_server::postgres::{PostgresStore, scratch_database};
use gridmate_server::sqlite::SqliteStore;

/// The SQLite files of the previous release, recorded as it recorded them (no names).
const SQLITE_OLD: &[(u32, &str)] = &[
    (1, include_str!("../migrations/0001_init.sql")),
    (2, include_str!("../migrations/0002_grid_digests.sql")),
    (3, include_str!("../migrations/0003_login_failures.sql")),
    (4, include_str!("../migrations/0004_office.sql")),
    (5, include_str!("../migrations/0005_facts.sql")),
];

/// The PostgreSQL files of the previous release, numbered 1–3 as it numbered them.
const POSTGRES_OLD: &[(i32, &str)] = &[
    (1, include_str!("../migrations/postgres/0001_init.sql")),
    (2, include_str!("../migrations/postgres/0002_office.sql")),
    (3, include_str!("../migrations/postgres/0003_facts.sql")),
];

/// The versions and names a SQLite file records.
fn sqlite_versions(dir: &std::path::Path) -> Vec<(u32, String)> {
    let conn = rusqlite::Connection::open(dir.join("gridmate-server.sqlite")).unwrap();
    let mut st = conn
        .prepare("SELECT version, name FROM schema_migrations ORDER BY version")
        .unwrap();
    st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn a_sqlite_database_of_the_previous_release_is_brought_up_to_date_and_a_newer_one_refused() {
    let dir = tempfile::tempdir().unwrap();
    {
        let conn = rusqlite::Connection::open(dir.path().join("gridmate-server.sqlite")).unwrap();
        conn.execute_batch("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL) STRICT;")
            .unwrap();
        for (v, sql) in SQLITE_OLD {
            conn.execute_batch(sql).unwrap();
            conn.execute("INSERT INTO schema_migrations VALUES (?1, 0)", [v])
                .unwrap();
        }
        conn.execute(
            "INSERT INTO meta (key, value) VALUES ('kept', 'from the old release')",
            [],
        )
        .unwrap();
    }
    drop(SqliteStore::open(dir.path()).expect("the old database opens"));
    let versions = sqlite_versions(dir.path());
    assert_eq!(
        versions.iter().map(|v| v.0).collect::<Vec<_>>(),
        vec![1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
    );
    assert_eq!(versions[5].1, "case_numbers", "named from now on");
    assert_eq!(versions[6].1, "visit_months");
    let conn = rusqlite::Connection::open(dir.path().join("gridmate-server.sqlite")).unwrap();
    let kept: String = conn
        .query_row("SELECT value FROM meta WHERE key = 'kept'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(kept, "from the old release");
    let tables: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE name = 'case_series'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(tables, 1);

    // A newer build's database: refused, untouched.
    conn.execute(
        "INSERT INTO schema_migrations (version, applied_at, name) VALUES (99, 0, 'future')",
        [],
    )
    .unwrap();
    drop(conn);
    let before = std::fs::read(dir.path().join("gridmate-server.sqlite")).unwrap();
    let refused = SqliteStore::open(dir.path()).err().expect("refused");
    assert!(
        refused
            .to_string()
            .contains("schema version 99, newer than this build knows (10)"),
        "{refused}"
    );
    assert_eq!(
        std::fs::read(dir.path().join("gridmate-server.sqlite")).unwrap(),
        before
    );
}

#[test]
fn a_postgres_database_of_the_previous_release_is_renumbered_like_sqlites_and_a_newer_one_refused()
{
    let Some(base) = common::postgres() else {
        eprintln!(
            "GRIDMATE_TEST_POSTGRES unset: SQLite only here (CI runs this on PostgreSQL too)"
        );
        return;
    };
    let (_, url) = scratch_database(&base, None).unwrap();
    common::on_postgres(&url, |c| async move {
        c.batch_execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)")
            .await?;
        for (v, sql) in POSTGRES_OLD {
            c.batch_execute(sql).await?;
            c.execute("INSERT INTO schema_migrations VALUES ($1, 0)", &[v])
                .await?;
        }
        c.batch_execute("INSERT INTO meta (key, value) VALUES ('kept', 'from the old release')")
            .await
    });
    drop(PostgresStore::open(&url).expect("the old database opens"));
    let versions: Vec<(i32, String)> = common::on_postgres(&url, |c| async move {
        let rows = c
            .query(
                "SELECT version, name FROM schema_migrations ORDER BY version",
                &[],
            )
            .await?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    });
    assert_eq!(
        versions.iter().map(|v| v.0).collect::<Vec<_>>(),
        vec![3, 4, 5, 6, 7, 8, 9, 10],
        "the server's numbers: the first file is SQLite's 1–3"
    );
    assert_eq!(versions[3].1, "case_numbers");
    assert_eq!(versions[4].1, "visit_months");
    let kept: String = common::on_postgres(&url, |c| async move {
        Ok(
            c.query_one("SELECT value FROM meta WHERE key = 'kept'", &[])
                .await?
                .get(0),
        )
    });
    assert_eq!(kept, "from the old release");

    // The same version as a SQLite file made afresh.
    let dir = tempfile::tempdir().unwrap();
    drop(SqliteStore::open(dir.path()).unwrap());
    assert_eq!(sqlite_versions(dir.path()).last().unwrap().0, 10);

    common::on_postgres(&url, |c| async move {
        c.batch_execute(
            "INSERT INTO schema_migrations (version, applied_at, name) VALUES (99, 0, 'future')",
        )
        .await
    });
    let refused = PostgresStore::open(&url).err().expect("refused");
    assert!(
        refused
            .to_string()
            .contains("schema version 99, newer than this build knows (10)"),
        "{refused}"
    );
}
