//! Opening the store, the signed-in session, and the device's small persistent values.

use crate::{DeviceError, Result, migrate};
use gridmate_model::{Assignment, BuildingId, GridId, Hlc, HlcClock, Role, User, UserId};
use rusqlite::{Connection, OptionalExtension, Transaction};
use std::path::{Path, PathBuf};
use uuid::Uuid;

/// The device's offline store: one SQLite file and a folder of photos.
///
/// One `Store` is the one writer: every write takes `&mut self` and runs in one transaction.
/// Screens that only read may open a second `Store` on the same folder (WAL lets readers run
/// beside the writer).
pub struct Store {
    pub(crate) conn: Connection,
    pub(crate) photo_dir: PathBuf,
    device_id: String,
}

/// Who is signed in on this device and what they are assigned to.
#[derive(Clone, Debug, PartialEq)]
pub struct Session {
    pub user: User,
    pub assignments: Vec<Assignment>,
}

impl Session {
    pub fn has_role(&self, role: Role) -> bool {
        self.user.roles.contains(&role)
    }

    /// The grids this user works in, in assignment order.
    pub fn grid_ids(&self) -> Vec<GridId> {
        let mut out: Vec<GridId> = Vec::new();
        for g in self.assignments.iter().filter_map(|a| a.grid_id) {
            if !out.contains(&g) {
                out.push(g);
            }
        }
        out
    }
}

pub const DATABASE_FILE: &str = "gridmate.sqlite";

impl Store {
    /// Open (creating if needed) the store in the app's data folder: `DIR/gridmate.sqlite` and
    /// `DIR/photos/`.
    pub fn open(dir: impl AsRef<Path>) -> Result<Store> {
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir.join("photos"))?;
        let mut conn = Connection::open(dir.join(DATABASE_FILE))?;
        crate::encryption::unlock(&conn)?;
        configure(&mut conn)?;
        migrate::migrate(&mut conn)?;
        let device_id = match state_get(&conn, "device_id")? {
            Some(id) => id,
            None => {
                let id = Uuid::now_v7().to_string();
                state_set(&conn, "device_id", &id)?;
                id
            }
        };
        Ok(Store {
            conn,
            photo_dir: dir.join("photos"),
            device_id,
        })
    }

    /// This install's id: made once, kept across restarts, sent with every push.
    pub fn device_id(&self) -> &str {
        &self.device_id
    }

    pub fn schema_version(&self) -> Result<u32> {
        migrate::current_version(&self.conn)
    }

    /// SQLite's own consistency check; "ok" when the file is sound.
    pub fn integrity_check(&self) -> Result<String> {
        Ok(self
            .conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))?)
    }

    /// Remember who signed in. Replaces any earlier session; keeps the outbox.
    pub fn sign_in(&mut self, session: &Session) -> Result<()> {
        let assignments: Vec<serde_json::Value> = session
            .assignments
            .iter()
            .map(|a| {
                serde_json::json!({
                    "role": a.role.code(),
                    "grid_id": a.grid_id.map(|g| g.to_string()),
                    "building_id": a.building_id.map(|b| b.to_string()),
                })
            })
            .collect();
        let value = serde_json::json!({
            "id": session.user.id.to_string(),
            "name": session.user.name,
            "roles": session.user.roles.iter().map(|r| r.code()).collect::<Vec<_>>(),
            "assignments": assignments,
        });
        state_set(&self.conn, "session", &value.to_string())
    }

    pub fn session(&self) -> Result<Option<Session>> {
        let Some(text) = state_get(&self.conn, "session")? else {
            return Ok(None);
        };
        let corrupt = || DeviceError::Corrupt("session record".into());
        let v: serde_json::Value = serde_json::from_str(&text).map_err(|_| corrupt())?;
        let uuid = |v: &serde_json::Value| v.as_str().and_then(|s| s.parse::<Uuid>().ok());
        let roles = v["roles"]
            .as_array()
            .ok_or_else(corrupt)?
            .iter()
            .filter_map(|r| r.as_str().and_then(Role::from_code))
            .collect();
        let assignments = v["assignments"]
            .as_array()
            .ok_or_else(corrupt)?
            .iter()
            .filter_map(|a| {
                Some(Assignment {
                    role: Role::from_code(a["role"].as_str()?)?,
                    grid_id: uuid(&a["grid_id"]).map(GridId),
                    building_id: uuid(&a["building_id"]).map(BuildingId),
                })
            })
            .collect();
        Ok(Some(Session {
            user: User {
                id: UserId(uuid(&v["id"]).ok_or_else(corrupt)?),
                name: v["name"].as_str().unwrap_or_default().to_string(),
                roles,
            },
            assignments,
        }))
    }

    /// A preference of this install (language, type size): kept through sign-out, gone with a
    /// device wipe.
    pub fn preference(&self, name: &str) -> Result<Option<String>> {
        state_get(&self.conn, &format!("pref.{name}"))
    }

    pub fn set_preference(&mut self, name: &str, value: &str) -> Result<()> {
        state_set(&self.conn, &format!("pref.{name}"), value)
    }

    pub(crate) fn require_session(&self) -> Result<Session> {
        self.session()?.ok_or(DeviceError::NoSession)
    }

    /// The grid the signed-in user's work goes to when they name none: their first.
    pub fn home_grid(&self) -> Result<GridId> {
        self.session()?
            .and_then(|s| s.grid_ids().first().copied())
            .ok_or(DeviceError::NoSession)
    }
}

/// How long a write waits for the file's one write lock before it gives up. The other writer
/// is the sync worker applying one pulled page (a few hundred milliseconds on a starved phone);
/// a save that waits that long is slow, one that fails loses what the user typed.
const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// WAL so readers never wait for the writer; FULL sync so a committed visit survives a dead
/// battery, not only a killed app; foreign keys on.
///
/// Every transaction begins IMMEDIATE, taking the write lock first: two connections write this
/// file (the screens' store thread and the sync worker), and a DEFERRED transaction that has
/// read and then wants to write cannot wait for the lock — SQLite calls no busy handler for a
/// read transaction's upgrade, it answers SQLITE_BUSY at once ("database is locked"), so a save
/// tapped while a pulled page was being written failed. Waiting at BEGIN is always allowed, so
/// with this the busy timeout covers every write.
fn configure(conn: &mut Connection) -> Result<()> {
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.set_transaction_behavior(rusqlite::TransactionBehavior::Immediate);
    Ok(())
}

pub(crate) fn state_get(conn: &Connection, key: &str) -> Result<Option<String>> {
    Ok(conn
        .query_row(
            "SELECT value FROM device_state WHERE key = ?1",
            [key],
            |r| r.get(0),
        )
        .optional()?)
}

pub(crate) fn state_set(conn: &Connection, key: &str, value: &str) -> Result<()> {
    conn.execute(
        "INSERT INTO device_state (key, value) VALUES (?1, ?2)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (key, value),
    )?;
    Ok(())
}

/// The next HLC stamp, persisted in the same transaction as the write it stamps, so order
/// survives restarts and clock changes.
pub(crate) fn next_hlc(tx: &Transaction<'_>, now_ms: i64) -> Result<Hlc> {
    let last = match state_get(tx, "hlc")? {
        Some(s) => s
            .parse::<Hlc>()
            .map_err(|e| DeviceError::Corrupt(e.to_string()))?,
        None => Hlc::default(),
    };
    let mut clock = HlcClock::resume(last);
    let stamp = clock.tick(now_ms);
    state_set(tx, "hlc", &stamp.to_string())?;
    Ok(stamp)
}
