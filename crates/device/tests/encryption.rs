//! Encryption at rest (built with `--features encryption`, SQLCipher): the file on disk holds no
//! readable byte of residents' data, opens with its key, and refuses any other key or none.

#![cfg(feature = "encryption")]

mod common;

use gridmate_device::encryption::{DatabaseKey, set_database_key};
use gridmate_device::{DeviceError, ScopeData, Store};
use gridmate_model::Role;

#[test]
fn an_encrypted_store_holds_nothing_readable_and_opens_only_with_its_key() {
    let d = common::demo();
    let key = DatabaseKey([0x5a; 32]);
    set_database_key(Some(key.clone()));
    let dir = tempfile::tempdir().unwrap();
    {
        let mut store = Store::open(dir.path()).unwrap();
        store.load_scope(ScopeData::of_demo(d, true)).unwrap();
        store
            .sign_in(&common::session(d, Role::GridWorker))
            .unwrap();
    }
    let mut bytes = std::fs::read(dir.path().join("gridmate.sqlite")).unwrap();
    if let Ok(wal) = std::fs::read(dir.path().join("gridmate.sqlite-wal")) {
        bytes.extend(wal);
    }
    assert!(
        bytes.len() > 100_000,
        "the demo is in there: {} bytes",
        bytes.len()
    );
    assert!(!bytes.starts_with(b"SQLite format 3"));
    for r in d.residents.iter().take(200) {
        let name = r.name.as_bytes();
        assert!(
            !bytes.windows(name.len()).any(|w| w == name),
            "{} readable on disk",
            r.name
        );
    }

    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.integrity_check().unwrap(), "ok");
    assert!(store.session().unwrap().is_some());
    drop(store);

    set_database_key(Some(DatabaseKey([0x5b; 32])));
    assert!(matches!(
        Store::open(dir.path()),
        Err(DeviceError::Locked(_))
    ));
    set_database_key(None);
    assert!(Store::open(dir.path()).is_err(), "no key, no data");
    set_database_key(Some(key));
    assert!(Store::open(dir.path()).is_ok());
}
