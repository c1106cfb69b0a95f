//! Benchmarks of the sync engine against the real server on 127.0.0.1: the initial sync of a
//! 5,000-household / ~15,000-resident / 2,000-issue scope into an empty phone, beside the floor of
//! bulk-inserting the same rows into an empty store in the same run; 1,000 offline visits pushed
//! and acknowledged; and the bytes the initial sync puts on the wire (a counting proxy between
//! phone and server) against the zstd-compressed canonical dump of the same records.

use crate::{Row, ms};
use anyhow::Result;
use chrono::Utc;
use gridmate_demo::{DemoConfig, generate};
use gridmate_device::sync::{self, SyncClient};
use gridmate_device::{NewVisit, ScopeData, Store};
use gridmate_model::*;
use gridmate_server::app::AppState;
use gridmate_server::routes::router;
use gridmate_server::sqlite::SqliteStore;
use gridmate_server::store::{Backend, admin};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

const PHONE: &str = "13900000009";
const PASSWORD: &str = "bench-password-9";

/// A server's SQLite store in `dir` holding the demo community scaled to `households` (two
/// issues for every five households), with a grid worker `phone` over every grid.
pub(crate) fn seeded_server(
    dir: &std::path::Path,
    households: usize,
    phone: &str,
    password: &str,
) -> Result<(gridmate_demo::DemoCommunity, SqliteStore)> {
    let d = generate(&DemoConfig {
        issues: households * 2 / 5,
        ..DemoConfig::scaled(households)
    });
    let store = SqliteStore::open(dir)?;
    gridmate_server::demo::seed(&store, &d)?;
    store.admin(|tx| {
        admin::add_user(
            tx,
            uuid::Uuid::now_v7(),
            phone,
            "同步压测",
            &[Role::GridWorker],
            password,
        )?;
        for g in &d.grids {
            admin::assign(tx, phone, Role::GridWorker, Some(g.id.0), None)?;
        }
        Ok(())
    })?;
    Ok((d, store))
}

pub fn run(quick: bool) -> Result<Vec<Row>> {
    let households = if quick { 1_000 } else { 5_000 };
    let dir = tempfile::tempdir()?;
    let (d, server_store) = seeded_server(&dir.path().join("server"), households, PHONE, PASSWORD)?;
    let db = dir.path().join("server").join("gridmate-server.sqlite");
    let dump = canonical_dump(&db)?;
    // The same records for the peer, as they are before anything else is written.
    let peer_records = dir.path().join("records.ndjson");
    if !quick {
        crate::peer::export_records(&db, &peer_records)?;
    }
    let dump_zstd = zstd::encode_all(dump.as_bytes(), 3)?.len();

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let state = AppState::new(server_store, &dir.path().join("server"))?;
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    let server_addr = listener.local_addr()?;
    rt.spawn(async move {
        let _ = axum::serve(
            listener,
            router(state).into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await;
    });
    // A counting relay: bytes the phone receives, as they travel.
    let received = Arc::new(AtomicU64::new(0));
    let proxy_addr = crate::relay::relay(&rt, server_addr, Duration::ZERO, received.clone())?;

    let client = SyncClient::new(&format!("http://{proxy_addr}/api/v1"))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let phone_dir = tempfile::tempdir()?;
    let mut phone = Store::open(phone_dir.path())?;
    sync::sign_in(&mut phone, &client, PHONE, PASSWORD, "bench")
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let before = received.load(Ordering::Relaxed);
    let t = Instant::now();
    let report =
        sync::sync(&mut phone, &client, &mut |_| {}).map_err(|e| anyhow::anyhow!("{e}"))?;
    let initial = t.elapsed();
    let wire = received.load(Ordering::Relaxed) - before;
    anyhow::ensure!(!report.repaired, "the initial sync needed a repair");

    // Floor: the same community bulk-loaded into an empty store in one transaction.
    let floor_dir = tempfile::tempdir()?;
    let mut floor_store = Store::open(floor_dir.path())?;
    let t = Instant::now();
    floor_store.load_scope(ScopeData::of_demo(&d, true))?;
    let floor = t.elapsed();

    let residents = d.residents.len();
    let mut rows = vec![
        Row {
            name: format!("initial sync into an empty phone: {households} households, {residents} residents, {} issues ({} records)", d.issues.len(), report.pulled),
            value: format!("{:.0} ms", ms(initial)),
            floor: format!("{:.0} ms bulk insert of the same rows", ms(floor)),
            ratio: Some(initial.as_secs_f64() / floor.as_secs_f64()),
            target: "< 2 s and ≤ 3× floor".into(),
            pass: Some(initial.as_secs_f64() < 2.0 && initial.as_secs_f64() <= 3.0 * floor.as_secs_f64()),
        },
        Row {
            name: "initial sync bytes on the wire (zstd pages), vs the zstd canonical dump of the same records".into(),
            value: format!("{:.2} MB", wire as f64 / 1e6),
            floor: format!("{:.2} MB dump.zst ({:.1} MB raw)", dump_zstd as f64 / 1e6, dump.len() as f64 / 1e6),
            ratio: Some(wire as f64 / dump_zstd as f64),
            target: "≤ 1.5× dump".into(),
            pass: Some(wire as f64 <= 1.5 * dump_zstd as f64),
        },
    ];

    // 1,000 visits typed offline, then one sync.
    let hh: Vec<HouseholdId> = d.households.iter().map(|h| h.id).collect();
    for i in 0..1_000 {
        let now = Utc::now();
        phone.record_visit(NewVisit {
            household_id: hh[i * 7 % hh.len()],
            started_at: now - chrono::Duration::minutes(10),
            ended_at: now,
            kind: VisitKind::Routine,
            outcome: VisitOutcome::Met,
            notes: "了解家庭情况".into(),
            people_served: 1,
            location: None,
            photos: vec![],
            raised_issues: vec![],
        })?;
    }
    let t = Instant::now();
    let report =
        sync::sync(&mut phone, &client, &mut |_| {}).map_err(|e| anyhow::anyhow!("{e}"))?;
    let incremental = t.elapsed();
    anyhow::ensure!(
        report.pushed == 1_000 && phone.sync_status()?.pending == 0,
        "not all visits acknowledged: {report:?}"
    );
    rows.push(Row {
        name: format!("incremental sync: 1,000 offline visits pushed and acknowledged, {} changes pulled back", report.pulled),
        value: format!("{:.0} ms", ms(incremental)),
        floor: "—".into(),
        ratio: None,
        target: "< 1 s".into(),
        pass: Some(incremental.as_secs_f64() < 1.0),
    });
    // The peer takes a minute and needs Node.js: the full run only.
    if !quick {
        let ours = crate::peer::Ours {
            initial,
            wire,
            push: incremental,
        };
        rows.extend(crate::peer::run(
            &rt,
            &peer_records,
            &dir.path().join("peer"),
            &ours,
        )?);
    }
    Ok(rows)
}

/// Every live record's JSON, sorted by entity and id, one per line.
fn canonical_dump(db: &std::path::Path) -> Result<String> {
    let conn = rusqlite::Connection::open(db)?;
    let mut st = conn.prepare("SELECT data FROM records WHERE deleted = 0 ORDER BY entity, id")?;
    let lines: Vec<String> = st
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(lines.join("\n"))
}
