//! Shared fixtures: a store in a temp folder with the demo community loaded and a user signed in.

#![allow(dead_code)]

use gridmate_demo::{DemoCommunity, DemoConfig, generate};
use gridmate_device::{ScopeData, Session, Store};
use gridmate_model::Role;
use std::sync::OnceLock;

pub fn demo() -> &'static DemoCommunity {
    static DEMO: OnceLock<DemoCommunity> = OnceLock::new();
    DEMO.get_or_init(|| generate(&DemoConfig::lianhe()))
}

pub fn session(d: &DemoCommunity, role: Role) -> Session {
    let u = d.user(role);
    Session {
        user: u.user.clone(),
        assignments: u.assignments.clone(),
    }
}

/// A fresh store holding the demo community, signed in as `role`.
pub fn demo_store(role: Role) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let d = demo();
    store.load_scope(ScopeData::of_demo(d, true)).unwrap();
    store.sign_in(&session(d, role)).unwrap();
    (dir, store)
}

/// A fresh store holding the demo community with a call-up under way (called for two hours
/// from the demo's "now", nobody answered yet), signed in as `role`.
pub fn demo_store_with_open_callup(role: Role) -> (tempfile::TempDir, Store) {
    static UNDER_WAY: OnceLock<DemoCommunity> = OnceLock::new();
    let d = UNDER_WAY.get_or_init(|| {
        generate(&DemoConfig::lianhe()).with_callup_under_way(DemoConfig::lianhe().as_of)
    });
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    store.load_scope(ScopeData::of_demo(d, true)).unwrap();
    store.sign_in(&session(d, role)).unwrap();
    (dir, store)
}

/// Row counts of every table, to prove a refused action changed nothing.
pub fn counts(store_dir: &std::path::Path) -> Vec<(String, i64)> {
    let conn = rusqlite::Connection::open(store_dir.join("gridmate.sqlite")).unwrap();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    tables
        .into_iter()
        .map(|t| {
            let n = conn
                .query_row(&format!("SELECT COUNT(*) FROM \"{t}\""), [], |r| r.get(0))
                .unwrap();
            (t, n)
        })
        .collect()
}
