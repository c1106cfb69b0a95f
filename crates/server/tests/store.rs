//! The store seam: a backend's rows obey the backend-neutral rules.
//!
//! - The SQLite translation of a [`Scope`] admits exactly the records [`Scope::admits`] does,
//!   for any roles, grids, buildings and records (the feed, the digest's keys and photo access
//!   all go through it).
//! - Whatever is written, updated and removed, every grid's maintained digest equals the one
//!   recomputed from its live records, and sequence numbers are unique and increasing.

use gridmate_model::Role;
use gridmate_protocol::Entity;
use gridmate_server::store::scope::{Placement, Scope};
use gridmate_server::store::{Backend, Principal, PutRecord, log};
use proptest::prelude::*;
use std::collections::{BTreeSet, HashMap};
use uuid::Uuid;

mod common;

const GRIDS: usize = 3;
const BUILDINGS: usize = 4;
const USERS: usize = 3;

fn ids(prefix: u128, n: usize) -> Vec<Uuid> {
    (0..n)
        .map(|i| Uuid::from_u128(prefix + i as u128))
        .collect()
}

/// One write: which record (entity, slot), where it belongs, and whether it is then removed.
#[derive(Clone, Debug)]
struct Write {
    entity: usize,
    slot: u8,
    grid: Option<usize>,
    building: Option<usize>,
    owner: Option<usize>,
    remove: bool,
}

fn write() -> impl Strategy<Value = Write> {
    (
        0..Entity::ALL.len(),
        0u8..6,
        proptest::option::of(0..GRIDS),
        proptest::option::of(0..BUILDINGS),
        proptest::option::of(0..USERS),
        proptest::bool::weighted(0.2),
    )
        .prop_map(|(entity, slot, grid, building, owner, remove)| Write {
            entity,
            slot,
            grid,
            building,
            owner,
            remove,
        })
}

fn principal() -> impl Strategy<Value = Principal> {
    (
        proptest::sample::subsequence(Role::ALL.to_vec(), 0..=Role::ALL.len()),
        proptest::sample::subsequence(ids(0x100, GRIDS), 0..=GRIDS),
        proptest::sample::subsequence(ids(0x200, BUILDINGS), 0..=BUILDINGS),
        0..USERS,
    )
        .prop_map(|(roles, grids, buildings, user)| Principal {
            user_id: ids(0x300, USERS)[user],
            name: "测试".into(),
            roles,
            grids,
            buildings,
            scope_epoch: 1,
            device_id: "d".into(),
            household: None,
        })
}

/// Apply the writes; return each record's final placement and whether it is live.
fn apply(store: &impl Backend, writes: &[Write]) -> HashMap<(Entity, Uuid), (Placement, bool)> {
    let (grids, buildings, users) = (ids(0x100, GRIDS), ids(0x200, BUILDINGS), ids(0x300, USERS));
    let mut state = HashMap::new();
    store
        .admin(|tx| {
            for (n, w) in writes.iter().enumerate() {
                let entity = Entity::ALL[w.entity];
                let id = Uuid::from_u128(0x1000 + (w.entity as u128) * 16 + u128::from(w.slot));
                let placement = Placement {
                    entity,
                    grid_id: w.grid.map(|g| grids[g]),
                    building_id: w.building.map(|b| buildings[b]),
                    owner_id: w.owner.map(|u| users[u]),
                };
                let record = PutRecord {
                    entity,
                    id,
                    grid_id: placement.grid_id,
                    building_id: placement.building_id,
                    owner_id: placement.owner_id,
                    data: serde_json::json!({ "id": id, "n": n }),
                };
                log::put(tx, &record, n as i64)?;
                if w.remove {
                    log::remove(tx, entity, id, n as i64)?;
                }
                state.insert((entity, id), (placement, !w.remove));
            }
            Ok(())
        })
        .unwrap();
    state
}

proptest! {
    // A fresh database per case: fewer cases on PostgreSQL, where making one takes a while.
    #![proptest_config(ProptestConfig {
        cases: if common::postgres().is_some() { 12 } else { 48 },
        ..ProptestConfig::default()
    })]

    #[test]
    fn the_sql_scope_admits_what_the_rule_admits(
        writes in proptest::collection::vec(write(), 0..40),
        p in principal(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = common::fresh(dir.path());
        let state = apply(&store, &writes);
        let scope = Scope::of(&p);
        let (fed, live) = store
            .admin(|tx| {
                let head = tx.head()?;
                let fed: BTreeSet<(&str, Uuid)> = tx
                    .feed_page(&scope, 0, 0, 10_000)?
                    .into_iter()
                    .map(|r| (r.entity.code(), r.id))
                    .collect();
                let live: BTreeSet<(&str, Uuid)> = tx
                    .live_keys(&scope, head)?
                    .into_iter()
                    .map(|(e, id, _)| (e.code(), id))
                    .collect();
                Ok((fed, live))
            })
            .unwrap();
        let admitted: BTreeSet<(&str, Uuid)> = state
            .iter()
            .filter(|(_, (placement, _))| scope.admits(placement))
            .map(|((e, id), _)| (e.code(), *id))
            .collect();
        let admitted_live: BTreeSet<(&str, Uuid)> = state
            .iter()
            .filter(|(_, (placement, live))| *live && scope.admits(placement))
            .map(|((e, id), _)| (e.code(), *id))
            .collect();
        prop_assert_eq!(fed, admitted, "the feed (tombstones included)");
        prop_assert_eq!(live, admitted_live, "the live keys the digest is made of");
    }

    #[test]
    fn grid_digests_follow_every_write_and_seqs_only_grow(
        writes in proptest::collection::vec(write(), 1..60),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = common::fresh(dir.path());
        apply(&store, &writes);
        let grids = ids(0x100, GRIDS);
        let everyone = Scope {
            grids: grids.clone(),
            buildings: vec![],
            owner: Uuid::nil(),
            rules: vec![gridmate_server::store::scope::Rule::Grids],
        };
        let (rows, keys, digests) = store
            .admin(|tx| {
                let head = tx.head()?;
                let rows = tx.feed_page(&everyone, 0, 0, 10_000)?;
                let keys = tx.live_keys(&everyone, head)?;
                let digests: Vec<_> = grids
                    .iter()
                    .map(|g| tx.grid_digests(&[*g]).map(|d| d.first().copied().unwrap_or_default()))
                    .collect::<Result<_, _>>()?;
                Ok((rows, keys, digests))
            })
            .unwrap();
        let seqs: Vec<u64> = rows.iter().map(|r| r.seq).collect();
        prop_assert!(seqs.windows(2).all(|w| w[0] < w[1]), "seqs unique and ordered: {seqs:?}");
        let mut by_grid: HashMap<Uuid, Vec<(Entity, Uuid, u64)>> = HashMap::new();
        let placements: HashMap<(Entity, Uuid), Uuid> = store
            .admin(|tx| {
                keys.iter()
                    .map(|(e, id, _)| Ok(((*e, *id), tx.record(*e, *id)?.and_then(|r| r.grid_id).unwrap_or_default())))
                    .collect()
            })
            .unwrap();
        for (e, id, seq) in &keys {
            by_grid.entry(placements[&(*e, *id)]).or_default().push((*e, *id, *seq));
        }
        for (g, maintained) in grids.iter().zip(digests) {
            let rows = by_grid.remove(g).unwrap_or_default();
            let recomputed = log::digest_of(rows.iter().map(|(e, id, seq)| (*e, id, *seq)));
            prop_assert_eq!(maintained, recomputed, "grid {}", g);
        }
    }
}

/// The login limit counts in the database: blocked after the limit, free again when the oldest
/// failure leaves the window, a success clearing its phone (not its address); on any process.
#[test]
fn the_login_limit_blocks_after_the_limit_and_forgets_on_success() {
    use gridmate_server::store::limiter::{self, MAX_FAILURES, WINDOW_MS};
    let dir = tempfile::tempdir().unwrap();
    let (store, url) = common::fresh(dir.path());
    let keys = vec!["phone:13800001111".to_string(), "addr:10.0.0.7".to_string()];
    let t0 = 1_800_000_000_000;
    for i in 0..MAX_FAILURES as i64 {
        let now = t0 + i * 1000;
        assert_eq!(
            store.admin(|tx| limiter::check(tx, &keys, now)).unwrap(),
            None
        );
        store.admin(|tx| limiter::fail(tx, &keys, now)).unwrap();
    }
    let now = t0 + MAX_FAILURES as i64 * 1000;
    let wait = store.admin(|tx| limiter::check(tx, &keys, now)).unwrap();
    assert_eq!(wait, Some(((WINDOW_MS - (now - t0)) / 1000) as u64));
    // Another store on the same database (another server process) sees the same count.
    let other = gridmate_server::database::Database::open(url.as_deref(), dir.path()).unwrap();
    assert!(
        other
            .admin(|tx| limiter::check(tx, &keys, now))
            .unwrap()
            .is_some()
    );
    // The window moves past the oldest failure.
    let later = t0 + WINDOW_MS + 1;
    assert_eq!(
        store.admin(|tx| limiter::check(tx, &keys, later)).unwrap(),
        None
    );
    // A success forgets the phone, not the address; the table keeps no phone number.
    store.admin(|tx| limiter::succeed(tx, &keys[0])).unwrap();
    assert_eq!(
        store
            .admin(|tx| limiter::check(tx, &keys[..1], now))
            .unwrap(),
        None
    );
    assert!(
        store
            .admin(|tx| limiter::check(tx, &keys[1..], now))
            .unwrap()
            .is_some()
    );
    assert_ne!(limiter::key_digest(&keys[0]), keys[0]);
    assert!(!limiter::key_digest(&keys[0]).contains("13800001111"));
}

/// Purging every tombstone, the newest record among them, never lets a seq be handed out twice:
/// a device whose cursor stands at the removed record's seq still gets the next change.
#[test]
fn a_purge_never_lowers_the_head() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = common::fresh(dir.path());
    let grid = Uuid::from_u128(0x100);
    let record = |n: u128| PutRecord {
        entity: Entity::Household,
        id: Uuid::from_u128(0x5000 + n),
        grid_id: Some(grid),
        building_id: None,
        owner_id: None,
        data: serde_json::json!({ "n": n as u64 }),
    };
    let seen = store
        .admin(|tx| {
            log::put(tx, &record(1), 0)?;
            log::put(tx, &record(2), 0)?;
            log::remove(tx, Entity::Household, record(2).id, 0)?;
            tx.head()
        })
        .unwrap();
    let purged = store.admin(|tx| log::purge_tombstones(tx, 1)).unwrap();
    assert_eq!(purged, 0, "the only tombstone is the head, which stays");
    let next = store.admin(|tx| log::put(tx, &record(3), 0)).unwrap();
    assert!(next > seen, "{next} after {seen}");
    store
        .admin(|tx| log::remove(tx, Entity::Household, record(3).id, 0).map(drop))
        .unwrap();
    store.admin(|tx| log::put(tx, &record(4), 0)).unwrap();
    assert_eq!(store.admin(|tx| log::purge_tombstones(tx, 1)).unwrap(), 2);
    let head = store.admin(|tx| tx.head()).unwrap();
    assert!(
        head > next + 1,
        "the live newest record keeps the head: {head}"
    );
}

/// One write of a record the office counts: which kind, which slot, its grid, its counting
/// values, and whether it is then removed.
#[derive(Clone, Debug)]
struct CountedWrite {
    kind: u8,
    slot: u8,
    grid: usize,
    day: i64,
    flag: bool,
    hours: u8,
    remove: bool,
}

fn counted_write() -> impl Strategy<Value = CountedWrite> {
    (
        0u8..4,
        0u8..5,
        0..GRIDS,
        -400i64..400,
        any::<bool>(),
        0u8..8,
        proptest::bool::weighted(0.2),
    )
        .prop_map(
            |(kind, slot, grid, day, flag, hours, remove)| CountedWrite {
                kind,
                slot,
                grid,
                day,
                flag,
                hours,
                remove,
            },
        )
}

fn counted_record(w: &CountedWrite, id: Uuid, grid: Uuid) -> (Entity, serde_json::Value) {
    use chrono::{Duration, TimeZone, Utc};
    let at = Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap() + Duration::days(w.day);
    let someone = Uuid::from_u128(0x300 + u128::from(w.slot % 2));
    match w.kind {
        0 => (
            Entity::Household,
            serde_json::json!({
                "id": id, "grid_id": grid, "building_id": Uuid::from_u128(0x200),
                "unit": 1, "room": "101", "address": "x", "head_name": "x",
                "tags": if w.flag { vec!["elderly_alone"] } else { vec![] },
                "visit_cadence_days": 30, "last_visit_at": at,
            }),
        ),
        1 => (
            Entity::Visit,
            serde_json::json!({
                "id": id, "household_id": Uuid::from_u128(0x900 + u128::from(w.slot)),
                "visitor_id": someone, "started_at": at, "ended_at": at,
                "kind": "routine", "outcome": "met", "notes": "", "people_served": 1,
            }),
        ),
        2 => (
            Entity::Issue,
            serde_json::json!({
                "id": id, "grid_id": grid,
                "status": if w.flag { "assigned" } else { "closed" },
                "category": "safety", "severity": "normal", "source": "visit",
                "title": "x", "description": "", "reported_by": someone,
                "reported_at": at, "due_at": at + Duration::days(3),
            }),
        ),
        _ => (
            Entity::ServiceRecord,
            serde_json::json!({
                "id": id, "user_id": someone, "grid_id": grid, "title": "x", "at": at,
                "hours": f64::from(w.hours) / 2.0, "people_served": 1,
            }),
        ),
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: if common::postgres().is_some() { 10 } else { 40 },
        ..ProptestConfig::default()
    })]

    /// Whatever is written, rewritten, moved between grids and removed, the facts the write path
    /// keeps count what the live records hold, and equal the facts rebuilt from the records.
    #[test]
    fn facts_follow_every_write_and_equal_a_rebuild(
        writes in proptest::collection::vec(counted_write(), 1..50),
    ) {
        use gridmate_server::store::facts::{self, TallyQuery};
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = common::fresh(dir.path());
        let grids = ids(0x100, GRIDS);
        let now = chrono::Utc::now();
        let mut live: HashMap<(Entity, Uuid), (Uuid, serde_json::Value)> = HashMap::new();
        store
            .admin(|tx| {
                for (n, w) in writes.iter().enumerate() {
                    let id = Uuid::from_u128(0x1000 + u128::from(w.kind) * 16 + u128::from(w.slot));
                    let (entity, data) = counted_record(w, id, grids[w.grid]);
                    let record = PutRecord {
                        entity,
                        id,
                        grid_id: Some(grids[w.grid]),
                        building_id: None,
                        owner_id: None,
                        data: data.clone(),
                    };
                    log::put(tx, &record, n as i64)?;
                    live.insert((entity, id), (grids[w.grid], data));
                    if w.remove {
                        log::remove(tx, entity, id, n as i64)?;
                        live.remove(&(entity, id));
                    }
                }
                Ok(())
            })
            .unwrap();
        let tallies = |store: &gridmate_server::database::Database| {
            store
                .admin(|tx| {
                    facts::COUNTED
                        .iter()
                        .map(|e| {
                            let mut t = tx.tally(&TallyQuery::all(*e, &grids, now))?;
                            t.sort_by_key(|t| format!("{t:?}"));
                            Ok(t)
                        })
                        .collect::<Result<Vec<_>, _>>()
                })
                .unwrap()
        };
        let maintained = tallies(&store);
        // The visits per grid, person and month, kept as they were written, are what the live
        // visits hold.
        let months = |store: &gridmate_server::database::Database| {
            let mut m: Vec<(Uuid, Uuid, i64, i64)> = store
                .admin(|tx| tx.visit_months(&grids, i64::MIN, i64::MAX))
                .unwrap()
                .into_iter()
                .map(|m| (m.grid_id, m.actor_id, m.month_ms, m.visits))
                .collect();
            m.sort();
            m
        };
        let mut expected: std::collections::BTreeMap<(Uuid, Uuid, i64), i64> = Default::default();
        for ((entity, _), (grid, data)) in &live {
            if *entity == Entity::Visit {
                let at: chrono::DateTime<chrono::Utc> =
                    data["started_at"].as_str().unwrap().parse().unwrap();
                let month = gridmate_model::calendar::month_start(at).timestamp_millis();
                let visitor: Uuid = data["visitor_id"].as_str().unwrap().parse().unwrap();
                *expected.entry((*grid, visitor, month)).or_default() += 1;
            }
        }
        let expected: Vec<(Uuid, Uuid, i64, i64)> =
            expected.into_iter().map(|((g, a, m), n)| (g, a, m, n)).collect();
        let kept = months(&store);
        prop_assert_eq!(&kept, &expected, "visit months follow the visits");
        // What the live records hold, counted here from the records themselves.
        for (entity, got) in facts::COUNTED.iter().zip(&maintained) {
            for g in &grids {
                let records: Vec<&serde_json::Value> = live
                    .iter()
                    .filter(|((e, _), (grid, _))| e == entity && grid == g)
                    .map(|(_, (_, d))| d)
                    .collect();
                let counted: u64 = got.iter().filter(|t| t.grid_id == *g).map(|t| t.count).sum();
                prop_assert_eq!(counted, records.len() as u64, "{:?} in grid {}", entity, g);
                let hours: f64 = got.iter().filter(|t| t.grid_id == *g).map(|t| t.amount).sum();
                let expected: f64 = records.iter().filter_map(|d| d["hours"].as_f64()).sum();
                prop_assert!((hours - expected).abs() < 1e-9, "hours in grid {}", g);
                if *entity == Entity::Issue {
                    let late: u64 = got.iter().filter(|t| t.grid_id == *g).map(|t| t.late).sum();
                    let expected = records
                        .iter()
                        .filter(|d| {
                            d["due_at"]
                                .as_str()
                                .and_then(|due| chrono::DateTime::parse_from_rfc3339(due).ok())
                                .is_some_and(|due| due < now)
                        })
                        .count() as u64;
                    prop_assert_eq!(late, expected, "late issues in grid {}", g);
                }
            }
        }
        store.admin(|tx| facts::rebuild(tx)).unwrap();
        prop_assert_eq!(maintained, tallies(&store), "maintained facts equal rebuilt ones");
        prop_assert_eq!(kept, months(&store), "kept visit months equal rebuilt ones");
    }
}

/// Hold the database's writer — SQLite's write lock, PostgreSQL's writer lock — from another
/// connection until the returned sender is used or dropped.
fn hold_writer(dir: &std::path::Path, url: Option<&str>) -> std::sync::mpsc::Sender<()> {
    let (release, released) = std::sync::mpsc::channel::<()>();
    let (held, holding) = std::sync::mpsc::channel();
    let file = dir.join("gridmate-server.sqlite");
    let url = url.map(str::to_string);
    std::thread::spawn(move || match url {
        None => {
            let c = rusqlite::Connection::open(file).unwrap();
            c.execute_batch("BEGIN IMMEDIATE").unwrap();
            held.send(()).unwrap();
            let _ = released.recv();
            c.execute_batch("COMMIT").unwrap();
        }
        Some(url) => common::on_postgres(&url, |c| async move {
            c.execute(
                "SELECT pg_advisory_lock($1)",
                &[&gridmate_server::postgres::WRITER_LOCK],
            )
            .await?;
            held.send(()).unwrap();
            let _ = released.recv();
            c.execute(
                "SELECT pg_advisory_unlock($1)",
                &[&gridmate_server::postgres::WRITER_LOCK],
            )
            .await
            .map(drop)
        }),
    });
    holding.recv().unwrap();
    release
}

/// Make the database refuse any record whose data mentions `word`, or (`None`) stop.
fn inject_fault(dir: &std::path::Path, url: Option<&str>, word: Option<&str>) {
    match (url, word) {
        (None, Some(word)) => rusqlite::Connection::open(dir.join("gridmate-server.sqlite"))
            .unwrap()
            .execute_batch(&format!(
                "CREATE TRIGGER injected_fault BEFORE INSERT ON records WHEN NEW.data LIKE '%{word}%'
                 BEGIN SELECT RAISE(ABORT, 'injected fault'); END;"
            ))
            .unwrap(),
        (None, None) => rusqlite::Connection::open(dir.join("gridmate-server.sqlite"))
            .unwrap()
            .execute_batch("DROP TRIGGER injected_fault")
            .unwrap(),
        (Some(url), Some(word)) => {
            let sql = format!(
                "CREATE FUNCTION injected_fault() RETURNS trigger AS $$ BEGIN
                   IF NEW.data::text LIKE '%{word}%' THEN RAISE EXCEPTION 'injected fault'; END IF;
                   RETURN NEW; END $$ LANGUAGE plpgsql;
                 CREATE TRIGGER injected_fault BEFORE INSERT ON records
                   FOR EACH ROW EXECUTE FUNCTION injected_fault();"
            );
            common::on_postgres(url, |c| async move { c.batch_execute(&sql).await });
        }
        (Some(url), None) => common::on_postgres(url, |c| async move {
            c.batch_execute("DROP TRIGGER injected_fault ON records").await
        }),
    }
}

/// Pushes that arrive together are applied in one transaction. One that the database itself
/// refuses (here a fault injected by a trigger on the visit's text) fails alone: the others of
/// its group are applied and kept, and nothing of it is, so its retry applies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_the_database_refuses_fails_alone_in_its_group() {
    use gridmate_protocol::{PushStatus, records::HouseholdRecord};
    let dir = tempfile::tempdir().unwrap();
    let (store, url) = common::fresh(dir.path());
    let (grid, building, household) = (
        Uuid::from_u128(0x100),
        Uuid::from_u128(0x200),
        Uuid::from_u128(0x5001),
    );
    let data = serde_json::to_value(HouseholdRecord {
        id: household,
        grid_id: grid,
        building_id: building,
        unit: 1,
        room: "101".into(),
        address: "1栋1单元101".into(),
        head_name: "王".into(),
        tags: vec![],
        visit_cadence_days: 30,
        last_visit_at: None,
    })
    .unwrap();
    store
        .admin(|tx| {
            let put = PutRecord {
                entity: Entity::Household,
                id: household,
                grid_id: Some(grid),
                building_id: Some(building),
                owner_id: None,
                data,
            };
            log::put(tx, &put, 0).map(drop)
        })
        .unwrap();
    let worker = Principal {
        user_id: Uuid::from_u128(0x300),
        name: "网格员".into(),
        roles: vec![Role::GridWorker],
        grids: vec![grid],
        buildings: vec![],
        scope_epoch: 1,
        device_id: "d".into(),
        household: None,
    };
    let visit = |notes: &str| {
        let mut m = common::server::visit(household);
        m.data["notes"] = notes.into();
        m
    };
    inject_fault(dir.path(), url.as_deref(), Some("断电"));
    // With the writer held, the first push waits inside its own group and the next five queue
    // up behind it: they are applied together when the writer is let go.
    let release = hold_writer(dir.path(), url.as_deref());
    let push = |m: gridmate_protocol::Mutation| {
        let (store, worker) = (store.clone(), worker.clone());
        tokio::spawn(async move { store.push(worker, vec![m]).await })
    };
    let first = push(visit("正常"));
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let sent: Vec<_> = ["正常", "正常", "断电", "正常", "正常"]
        .into_iter()
        .map(visit)
        .collect();
    let group: Vec<_> = sent.iter().cloned().map(push).collect();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    release.send(()).unwrap();
    let first = first.await.unwrap().unwrap();
    assert_eq!(first[0].status, PushStatus::Applied);
    let mut answers = Vec::new();
    for task in group {
        answers.push(task.await.unwrap());
    }
    for (m, answer) in sent.iter().zip(&answers) {
        let visit_id: Uuid = serde_json::from_value(m.data["visit_id"].clone()).unwrap();
        let kept = store
            .read(move |tx| tx.record(Entity::Visit, visit_id))
            .await
            .unwrap();
        if m.data["notes"] == "断电" {
            let error = answer
                .as_ref()
                .expect_err("the injected fault fails its push");
            assert!(error.to_string().contains("injected fault"), "{error}");
            assert!(kept.is_none(), "nothing of the refused push is kept");
        } else {
            let results = answer.as_ref().expect("the others of the group apply");
            assert_eq!(results[0].status, PushStatus::Applied);
            assert!(kept.is_some(), "an applied visit is kept");
        }
    }
    // The fault gone, the same push applies: no outcome of it was recorded.
    inject_fault(dir.path(), url.as_deref(), None);
    let retried = store.push(worker, vec![sent[2].clone()]).await.unwrap();
    assert_eq!(retried[0].status, PushStatus::Applied);
}
