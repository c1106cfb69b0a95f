//! Encryption at rest with SQLCipher, keyed from the platform keystore.
//!
//! The platform layer (Android Keystore, iOS Keychain) produces a 256-bit key once per process
//! and installs it with [`set_database_key`] before the first store opens; every connection the
//! process opens afterwards (the screens' store thread, the sync worker's) is keyed with it as
//! its first statement. Built without the `encryption` feature (plain SQLite), a key is refused
//! rather than silently ignored — plain SQLite accepts `PRAGMA key` and does nothing.
//!
//! A store created without a key stays unencrypted: opening it with one fails (`Locked`), and
//! the app then wipes and re-syncs; see `docs/security.md` for the decision.

use crate::{DeviceError, Result};
use rusqlite::Connection;
use std::sync::RwLock;

/// A 256-bit database key, as the keystore hands it over.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseKey(pub [u8; 32]);

impl std::fmt::Debug for DatabaseKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DatabaseKey(…)")
    }
}

impl DatabaseKey {
    /// 64 hex digits.
    pub fn from_hex(hex: &str) -> Option<DatabaseKey> {
        gridmate_model::hex::decode(hex.trim()).map(DatabaseKey)
    }

    fn hex(&self) -> String {
        gridmate_model::hex::encode(&self.0)
    }
}

static KEY: RwLock<Option<DatabaseKey>> = RwLock::new(None);

/// Key every store this process opens from now on (`None`: unencrypted).
pub fn set_database_key(key: Option<DatabaseKey>) {
    *KEY.write().unwrap_or_else(|e| e.into_inner()) = key;
}

/// Whether this build can encrypt (SQLCipher linked in).
pub fn available() -> bool {
    cfg!(feature = "encryption")
}

/// Key a freshly opened connection, before anything else touches the file, and prove the key
/// opens it.
pub(crate) fn unlock(conn: &Connection) -> Result<()> {
    let Some(key) = KEY.read().unwrap_or_else(|e| e.into_inner()).clone() else {
        return Ok(());
    };
    if !available() {
        return Err(DeviceError::Locked(
            "this build has no encryption; refusing a key it would ignore".into(),
        ));
    }
    // A raw key (no passphrase derivation): the keystore already gives 256 random bits.
    conn.execute_batch(&format!("PRAGMA key = \"x'{}'\";", key.hex()))?;
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    })
    .map_err(|_| DeviceError::Locked("the key does not open this store".into()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_64_hex_digits_and_never_printed() {
        let k = DatabaseKey::from_hex(&"ab".repeat(32)).unwrap();
        assert_eq!(k.0[0], 0xab);
        assert_eq!(format!("{k:?}"), "DatabaseKey(…)");
        assert!(DatabaseKey::from_hex("abc").is_none());
        assert!(DatabaseKey::from_hex(&"zz".repeat(32)).is_none());
    }
}
