//! One way to migrate every schema Gridmate keeps — the phone's SQLite file, the server's SQLite
//! database and its PostgreSQL one — so that "version 6" means one thing and every side treats
//! an unknown version the same way.
//!
//! **Why a module of our own, not refinery or `sqlx::migrate!`.** The three schemas sit behind
//! three different drivers (rusqlite on the phone and the small server, tokio-postgres for the
//! city), and what the runner must do is small: apply the numbered SQL files above the recorded
//! version, each in its own transaction, and refuse a database written by a newer build. A
//! maintained runner would bring its own driver (sqlx), or one per driver with its own table and
//! checksums (refinery), for a loop of twenty lines; and the phone refuses a newer schema with a
//! message in the user's words, which a runner's own error would not give. So this crate owns the
//! rule and the loop, and each side implements [`Database`] over its driver: how to read the
//! recorded version and how to apply one migration in one transaction.
//!
//! The rules every list obeys ([`check`], asserted by each side's tests): versions start at 1
//! and go up by one — a backend whose first file covers several versions (PostgreSQL's first
//! file is the server's versions 1–3) starts its list at the version that file brings the schema
//! to —, names are unique, and migrations are append-only: an applied one is never edited, a
//! change is a new file.
//!
//! Never: SQL of its own, a driver, a clock (the side records when it applied a migration).

use std::fmt;

/// One numbered migration, embedded at build time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Migration {
    /// The schema version it brings the database to.
    pub version: u32,
    /// A short name, recorded beside the version.
    pub name: &'static str,
    pub sql: &'static str,
}

/// A database a list of migrations is applied to, over its own driver.
pub trait Database {
    type Error;
    /// The version recorded so far (0 for an empty database), creating the bookkeeping table
    /// when it is missing.
    fn version(&mut self) -> Result<u32, Self::Error>;
    /// Run `m`'s SQL and record its version and name, in one transaction: after a crash the
    /// database is at the version before or at `m.version`, never between.
    fn apply(&mut self, m: &Migration) -> Result<(), Self::Error>;
}

/// Why a database was not migrated.
#[derive(Debug, PartialEq, Eq)]
pub enum MigrateError<E> {
    /// Written by a newer build: a version this build does not know. Nothing was changed.
    TooNew { found: u32, known: u32 },
    /// The migration that failed (rolled back), and the driver's error.
    Failed {
        version: u32,
        name: &'static str,
        source: E,
    },
    /// Reading the recorded version failed.
    Database(E),
}

impl<E: fmt::Display> fmt::Display for MigrateError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MigrateError::TooNew { found, known } => write!(
                f,
                "the database is at schema version {found}, newer than this build knows ({known}): \
                 run a build at least as new as the one that wrote it"
            ),
            MigrateError::Failed {
                version,
                name,
                source,
            } => write!(f, "migration {version} ({name}) failed: {source}"),
            MigrateError::Database(e) => write!(f, "reading the schema version: {e}"),
        }
    }
}

impl<E: fmt::Debug + fmt::Display> std::error::Error for MigrateError<E> {}

/// The version the last migration of `list` brings a database to.
pub fn latest(list: &[Migration]) -> u32 {
    list.last().map_or(0, |m| m.version)
}

/// Apply every migration of `list` above the database's version, up to `target`, in order;
/// returns the version reached. A database newer than `list` knows is refused untouched.
pub fn migrate_to<D: Database>(
    db: &mut D,
    list: &[Migration],
    target: u32,
) -> Result<u32, MigrateError<D::Error>> {
    let current = db.version().map_err(MigrateError::Database)?;
    let known = latest(list);
    if current > known {
        return Err(MigrateError::TooNew {
            found: current,
            known,
        });
    }
    let mut reached = current;
    for m in list
        .iter()
        .filter(|m| m.version > current && m.version <= target)
    {
        db.apply(m).map_err(|source| MigrateError::Failed {
            version: m.version,
            name: m.name,
            source,
        })?;
        reached = m.version;
    }
    Ok(reached)
}

/// Apply every migration of `list` above the database's version.
pub fn migrate<D: Database>(db: &mut D, list: &[Migration]) -> Result<u32, MigrateError<D::Error>> {
    migrate_to(db, list, latest(list))
}

/// What is wrong with a list, if anything: versions not one more than the one before (the first
/// may be above 1: see the crate's doc), a name used twice, an empty SQL text.
pub fn check(list: &[Migration]) -> Result<(), String> {
    for (i, m) in list.iter().enumerate() {
        if m.sql.trim().is_empty() {
            return Err(format!("migration {} ({}) has no SQL", m.version, m.name));
        }
        if i > 0 && m.version != list[i - 1].version + 1 {
            return Err(format!(
                "migration {} ({}) follows version {}",
                m.version,
                m.name,
                list[i - 1].version
            ));
        }
        if m.version == 0 {
            return Err(format!("migration {} has version 0", m.name));
        }
        if list[..i].iter().any(|o| o.name == m.name) {
            return Err(format!("two migrations are named {}", m.name));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database in memory: its version, what was applied, and a migration that fails.
    #[derive(Default)]
    struct Fake {
        version: u32,
        applied: Vec<u32>,
        fails: Option<u32>,
    }

    impl Database for Fake {
        type Error = String;
        fn version(&mut self) -> Result<u32, String> {
            Ok(self.version)
        }
        fn apply(&mut self, m: &Migration) -> Result<(), String> {
            if self.fails == Some(m.version) {
                return Err("syntax error".into());
            }
            self.applied.push(m.version);
            self.version = m.version;
            Ok(())
        }
    }

    const LIST: &[Migration] = &[
        Migration {
            version: 1,
            name: "init",
            sql: "CREATE TABLE a (x)",
        },
        Migration {
            version: 2,
            name: "more",
            sql: "CREATE TABLE b (x)",
        },
        Migration {
            version: 3,
            name: "last",
            sql: "CREATE TABLE c (x)",
        },
    ];

    #[test]
    fn applies_what_is_above_the_recorded_version_in_order() {
        let mut db = Fake {
            version: 1,
            ..Fake::default()
        };
        assert_eq!(migrate(&mut db, LIST), Ok(3));
        assert_eq!(db.applied, vec![2, 3]);
        assert_eq!(migrate(&mut db, LIST), Ok(3), "twice changes nothing");
        assert_eq!(db.applied, vec![2, 3]);
    }

    #[test]
    fn stops_at_a_target_and_at_a_failure() {
        let mut db = Fake::default();
        assert_eq!(migrate_to(&mut db, LIST, 2), Ok(2));
        let mut broken = Fake {
            fails: Some(2),
            ..Fake::default()
        };
        assert_eq!(
            migrate(&mut broken, LIST),
            Err(MigrateError::Failed {
                version: 2,
                name: "more",
                source: "syntax error".into()
            })
        );
        assert_eq!(broken.version, 1, "what came before stays");
    }

    #[test]
    fn a_newer_database_is_refused_untouched() {
        let mut db = Fake {
            version: 7,
            ..Fake::default()
        };
        let e = migrate(&mut db, LIST).unwrap_err();
        assert_eq!(e, MigrateError::TooNew { found: 7, known: 3 });
        assert!(e.to_string().contains("newer than this build knows (3)"));
        assert!(db.applied.is_empty());
    }

    #[test]
    fn a_list_is_numbered_without_gap_and_named_once() {
        assert_eq!(check(LIST), Ok(()));
        assert_eq!(check(&LIST[1..]), Ok(()), "may start above 1");
        let gap = [LIST[0], LIST[2]];
        assert!(check(&gap).unwrap_err().contains("follows version 1"));
        let twice = [
            LIST[0],
            Migration {
                name: "init",
                ..LIST[1]
            },
        ];
        assert!(check(&twice).unwrap_err().contains("named init"));
    }
}
