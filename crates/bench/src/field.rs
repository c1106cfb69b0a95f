//! The field loops' two felt speeds (issue 11), on the phone's real store:
//!
//! - **my tasks**: a grid worker with 500 open items assigned to them (400 issues, 100 orders
//!   dispatched to them) in a 5,000-household cache opens the home screen: the whole home data
//!   read (summary, due visits, buildings, base map, my tasks sorted by due time with overdue
//!   marked, call-ups, the patrol under way). Floor: the same 500 rows read with one plain
//!   rusqlite query each for issues and orders, no sorting, no home screen.
//! - **a 2-hour patrol**: one fix every 5 s (1,440 fixes, GPS jitter of a few metres, some fixes
//!   too imprecise to use) stored as the patrol runs, then the patrol stopped: the fixes read,
//!   filtered, simplified to at most 500 points, the patrol written and `patrol.record` queued, in
//!   one transaction. Size: that mutation as JSON, as it goes on the wire. Floor: reading the
//!   1,440 fixes back with a plain query.

use crate::{Row, median_of, ms, percentile, session};
use anyhow::Result;
use chrono::{Duration, Utc};
use gridmate_demo::{DemoConfig, generate};
use gridmate_device::{ScopeData, Store};
use gridmate_model::*;
use std::time::{Duration as StdDuration, Instant};

const ISSUES: usize = 400;
const ORDERS: usize = 100;
/// Two hours at one fix every five seconds.
const FIXES: usize = 2 * 3600 / 5;

pub fn run(quick: bool) -> Result<Vec<Row>> {
    let runs = if quick { 5 } else { 21 };
    Ok(vec![my_tasks(runs)?, patrol(if quick { 3 } else { 9 })?])
}

fn my_tasks(runs: usize) -> Result<Row> {
    let mut demo = generate(&DemoConfig::scaled(5_000));
    let worker = demo.user(Role::GridWorker).user.id;
    let now = Utc::now();
    anyhow::ensure!(demo.issues.len() >= ISSUES && !demo.orders.is_empty());
    // Due times spread from a week ago to three weeks ahead: a quarter of them overdue.
    for (i, issue) in demo.issues.iter_mut().take(ISSUES).enumerate() {
        issue.status = IssueStatus::Assigned;
        issue.assignee = Some(worker);
        issue.due_at = Some(now + Duration::hours(i as i64 % (28 * 24) - 7 * 24));
    }
    let template = demo.orders[0].clone();
    for i in 0..ORDERS {
        demo.orders.push(Order {
            id: OrderId::new_v7(),
            status: OrderStatus::Dispatched,
            assignee: Some(worker),
            taker: None,
            title: format!("代办事项{i}"),
            due_at: now + Duration::hours(i as i64 * 5 - 100),
            ..template.clone()
        });
    }
    let dir = tempfile::tempdir()?;
    let mut store = Store::open(dir.path())?;
    store.load_scope(ScopeData::of_demo(&demo, true))?;
    store.sign_in(&session(&demo, Role::GridWorker))?;

    let mut tasks = 0;
    let mut overdue = 0;
    let home = median_of(runs, || {
        let t = Instant::now();
        let home = gridmate::screens::home::HomeData::read(&store, now)?;
        let elapsed = t.elapsed();
        tasks = home.tasks.len();
        overdue = home.tasks.iter().filter(|t| t.overdue).count();
        anyhow::ensure!(
            home.tasks.windows(2).all(|w| w[0].due_at <= w[1].due_at),
            "my tasks soonest due first"
        );
        Ok(elapsed)
    })?;
    anyhow::ensure!(
        tasks >= ISSUES + ORDERS,
        "{tasks} tasks, not the {} assigned",
        ISSUES + ORDERS
    );

    let alone = median_of(runs, || {
        let t = Instant::now();
        anyhow::ensure!(store.my_tasks(now)?.len() == tasks);
        Ok(t.elapsed())
    })?;
    let raw = rusqlite::Connection::open(dir.path().join(gridmate_device::DATABASE_FILE))?;
    let floor = median_of(runs, || {
        let t = Instant::now();
        let mut n = 0;
        for sql in [
            "SELECT id, title, due_at FROM issues WHERE assignee = ?1",
            "SELECT id, title, due_at FROM orders WHERE assignee = ?1",
        ] {
            let mut st = raw.prepare_cached(sql)?;
            let mut rows = st.query([worker.0])?;
            while let Some(r) = rows.next()? {
                let _: (uuid::Uuid, String) = (r.get(0)?, r.get(1)?);
                n += 1;
            }
        }
        anyhow::ensure!(n >= ISSUES + ORDERS);
        Ok(t.elapsed())
    })?;
    Ok(Row {
        name: format!(
            "home screen data for a grid worker with {tasks} open items ({overdue} overdue; my tasks alone {:.1} ms), 5000 households cached (median of {runs})",
            ms(alone)
        ),
        value: format!("{:.1} ms", ms(home)),
        floor: format!("{:.2} ms plain query of the same rows", ms(floor)),
        ratio: Some(home.as_secs_f64() / floor.as_secs_f64()),
        target: "< 20 ms".into(),
        pass: Some(home < StdDuration::from_millis(20)),
    })
}

/// A fix `i` steps along a walk around the grid's first building's block: 1.4 m/s between
/// fixes 5 s apart, a few metres of jitter, and one fix in twenty too imprecise to use.
fn walk(origin: (f64, f64), i: usize) -> GpsFix {
    let metres_per_deg_lat = 111_320.0;
    let metres_per_deg_lon = metres_per_deg_lat * origin.0.to_radians().cos();
    // A 300 × 200 m block walked round and round.
    let d = (i as f64 * 7.0) % 1_000.0;
    let (x, y) = match d {
        d if d < 300.0 => (d, 0.0),
        d if d < 500.0 => (300.0, d - 300.0),
        d if d < 800.0 => (800.0 - d, 200.0),
        d => (0.0, 1_000.0 - d),
    };
    let jitter = ((i * 7919) % 11) as f64 - 5.0;
    GpsFix {
        lat: origin.0 + (y + jitter * 0.6) / metres_per_deg_lat,
        lon: origin.1 + (x - jitter * 0.4) / metres_per_deg_lon,
        accuracy_m: if i % 20 == 7 {
            80.0
        } else {
            6.0 + (i % 5) as f64
        },
        mock_location: false,
    }
}

fn patrol(runs: usize) -> Result<Row> {
    let demo = generate(&DemoConfig::scaled(500));
    let grid = demo.grids[0].id;
    let origin = demo
        .buildings
        .iter()
        .find(|b| b.grid_id == grid)
        .map(|b| (b.lat, b.lon))
        .ok_or_else(|| anyhow::anyhow!("a grid without buildings"))?;
    let (mut stops, mut floors, mut adds) = (Vec::new(), Vec::new(), Vec::new());
    let (mut bytes, mut points, mut km) = (0, 0, 0.0);
    for _ in 0..runs {
        let dir = tempfile::tempdir()?;
        let mut store = Store::open(dir.path())?;
        store.load_scope(ScopeData::of_demo(&demo, true))?;
        store.sign_in(&session(&demo, Role::GridWorker))?;
        let start = Utc::now() - Duration::hours(2);
        let id = store.start_patrol(grid, start)?;
        for i in 0..FIXES {
            let t = Instant::now();
            anyhow::ensure!(
                store.add_patrol_fix(walk(origin, i), start + Duration::seconds(5 * i as i64))?
            );
            adds.push(t.elapsed());
        }
        let raw = rusqlite::Connection::open(dir.path().join(gridmate_device::DATABASE_FILE))?;
        let t = Instant::now();
        let mut st = raw.prepare("SELECT lat, lon, accuracy_m FROM patrol_fixes ORDER BY seq")?;
        let fixes: Vec<(f64, f64, f64)> = st
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<_>>()?;
        floors.push(t.elapsed());
        anyhow::ensure!(fixes.len() == FIXES);

        let t = Instant::now();
        anyhow::ensure!(store.stop_patrol("夜间巡查")? == id);
        stops.push(t.elapsed());

        let sent = store
            .pending_mutations(10)?
            .into_iter()
            .find(|m| m.kind == "patrol.record")
            .ok_or_else(|| anyhow::anyhow!("patrol.record not queued"))?;
        bytes = serde_json::to_string(&sent)?.len();
        let p = store
            .my_patrols(1)?
            .pop()
            .ok_or_else(|| anyhow::anyhow!("the patrol was not kept"))?;
        points = p.track.len();
        km = p.distance_m / 1000.0;
    }
    let stop = percentile(&mut stops, 0.5);
    let floor = percentile(&mut floors, 0.5);
    let add = percentile(&mut adds, 0.99);
    Ok(Row {
        name: format!(
            "a 2-hour patrol stopped: {FIXES} fixes (one per 5 s, stored as they came: p99 {:.2} ms each) filtered and simplified to {points} points, {km:.1} km, written and queued in one transaction; {:.1} KB on the wire (median of {runs})",
            ms(add),
            bytes as f64 / 1024.0
        ),
        value: format!("{:.1} ms", ms(stop)),
        floor: format!("{:.2} ms reading the fixes back", ms(floor)),
        ratio: Some(stop.as_secs_f64() / floor.as_secs_f64()),
        target: "< 50 ms, < 20 KB".into(),
        pass: Some(stop < StdDuration::from_millis(50) && bytes < 20 * 1024),
    })
}
