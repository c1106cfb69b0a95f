//! Patrols on the phone: fixes sampled while it runs, one transaction at the end holding the
//! simplified track, its length, the issues found on the way and the outbox entry.

mod common;

use chrono::{Duration, Utc};
use common::{counts, demo, demo_store};
use gridmate_device::*;
use gridmate_model::patrol::MAX_TRACK_POINTS;
use gridmate_model::*;

#[test]
fn a_night_patrol_is_tracked_simplified_and_links_what_was_found() {
    let d = demo();
    let (dir, mut store) = demo_store(Role::GridWorker);
    let grid = d.grids[0].id;
    assert!(
        !store.add_patrol_fix(fix(0, 8.0), Utc::now()).unwrap(),
        "no patrol yet"
    );
    assert!(
        store.start_patrol(d.grids[1].id, Utc::now()).is_err(),
        "not my grid"
    );
    let start = Utc::now() - Duration::minutes(40);
    let id = store.start_patrol(grid, start).unwrap();
    assert_eq!(
        store.start_patrol(grid, Utc::now()).unwrap(),
        id,
        "one at a time"
    );
    // 2,000 fixes along a zig-zag, a few coarse ones among them.
    for i in 0..2000 {
        let accuracy = if i % 100 == 7 { 120.0 } else { 8.0 };
        store
            .add_patrol_fix(fix(i, accuracy), start + Duration::seconds(i as i64))
            .unwrap();
    }
    let active = store.active_patrol().unwrap().unwrap();
    // 2,000 steps of about 1.1 m north; the 3 m zig-zag is jitter, not distance.
    assert!(
        (2000.0..2400.0).contains(&active.distance_m),
        "{}",
        active.distance_m
    );
    let found = store
        .report_issue(NewIssue {
            grid_id: grid,
            building_id: None,
            household_id: None,
            category: IssueCategory::FireSafety,
            severity: Severity::High,
            source: IssueSource::Patrol,
            title: "消防通道被占".into(),
            description: String::new(),
            location: None,
            photos: vec![],
        })
        .unwrap();
    let before = counts(dir.path());
    assert!(matches!(
        store.stop_patrol(&"很".repeat(3000)),
        Err(DeviceError::Invalid(_))
    ));
    assert_eq!(
        counts(dir.path()),
        before,
        "a refused stop keeps the patrol running"
    );
    let done = store.stop_patrol("夜间巡查，消防通道一处被占").unwrap();
    assert_eq!(done, id);
    assert!(store.active_patrol().unwrap().is_none());
    let p = &store.my_patrols(5).unwrap()[0];
    assert!(p.track.len() <= MAX_TRACK_POINTS && p.track.len() >= 2);
    assert_eq!(p.issues, [found]);
    assert!((2000.0..2400.0).contains(&p.distance_m), "{}", p.distance_m);
    let m = store.pending_mutations(10).unwrap().pop().unwrap();
    assert_eq!(m.kind, "patrol.record");
    assert_eq!(m.data["issues"][0], serde_json::json!(found.0));
    assert!(m.data["track"].as_array().unwrap().len() <= MAX_TRACK_POINTS);
}

fn fix(i: usize, accuracy_m: f64) -> GpsFix {
    let d = demo();
    let b = d
        .buildings
        .iter()
        .find(|b| b.grid_id == d.grids[0].id)
        .unwrap();
    // About 1 m a step north, zig-zagging 3 m east and west.
    GpsFix {
        lat: b.lat + i as f64 * 0.00001,
        lon: b.lon + if i.is_multiple_of(2) { 0.0 } else { 0.00003 },
        accuracy_m,
        mock_location: false,
    }
}
