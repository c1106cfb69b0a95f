//! The reads behind the issue screens (timeline with each step's sync state, duplicates near a
//! new report), drafts, a party member's service year, and the three ways data leaves a phone:
//! signing out, wiping it, and going too long without reaching the server.

mod common;

use chrono::Utc;
use common::{counts, demo, demo_store};
use gridmate_device::outbox::OutboxState;
use gridmate_device::*;
use gridmate_model::*;
use gridmate_protocol::{PushResult, PushStatus};

fn report(store: &mut Store, category: IssueCategory, at: Option<(f64, f64)>) -> IssueId {
    let d = demo();
    store
        .report_issue(NewIssue {
            grid_id: d.grids[0].id,
            building_id: None,
            household_id: None,
            category,
            severity: Severity::Medium,
            source: IssueSource::Patrol,
            title: "楼道堆放杂物".into(),
            description: "三楼楼道堆满纸箱".into(),
            location: at.map(|(lat, lon)| GpsFix {
                lat,
                lon,
                accuracy_m: 8.0,
                mock_location: false,
            }),
            photos: vec![],
        })
        .unwrap()
}

#[test]
fn an_issue_shows_its_timeline_and_what_the_server_said_about_each_step() {
    let (_dir, mut store) = demo_store(Role::GridWorker);
    let id = report(&mut store, IssueCategory::FireSafety, None);
    store
        .act_on_issue(id, IssueAction::Comment, "已联系物业", vec![])
        .unwrap();
    store
        .act_on_issue(id, IssueAction::Comment, "物业说明天清理", vec![])
        .unwrap();
    let detail = store.issue(id).unwrap();
    assert_eq!(detail.description, "三楼楼道堆满纸箱");
    assert_eq!(
        detail.delivery.as_ref().unwrap().state,
        OutboxState::Pending
    );
    let notes: Vec<_> = detail
        .events
        .iter()
        .map(|e| e.event.note.as_str())
        .collect();
    assert_eq!(notes, ["已联系物业", "物业说明天清理"]);
    assert!(detail.events.iter().all(|e| e.delivery.is_some()));

    // The server takes the report and the first comment, and refuses the second.
    let pending = store.pending_mutations(10).unwrap();
    let results = vec![
        PushResult {
            id: pending[0].id,
            status: PushStatus::Applied,
            error: None,
            seq: Some(1),
        },
        PushResult {
            id: pending[1].id,
            status: PushStatus::Applied,
            error: None,
            seq: Some(2),
        },
        PushResult {
            id: pending[2].id,
            status: PushStatus::Rejected,
            error: Some(gridmate_protocol::ErrorDetail {
                code: "forbidden".into(),
                message: "不在你的网格".into(),
            }),
            seq: None,
        },
    ];
    store.record_push_results(&results).unwrap();
    let detail = store.issue(id).unwrap();
    assert_eq!(detail.delivery, None, "on the server: nothing to show");
    assert_eq!(detail.events[0].delivery, None);
    let refused = detail.events[1].delivery.as_ref().unwrap();
    assert_eq!(refused.state, OutboxState::Failed);
    assert_eq!(refused.reason.as_deref(), Some("不在你的网格"));

    assert!(matches!(
        store.issue(IssueId::new_v7()),
        Err(DeviceError::NotFound { .. })
    ));
}

#[test]
fn a_new_report_is_offered_the_open_issues_of_its_kind_nearby() {
    let (_dir, mut store) = demo_store(Role::GridWorker);
    let d = demo();
    let grid = d.grids[0].id;
    let here = (22.58, 113.08);
    // ~30 m north, ~200 m north, and another category next door.
    let near = report(
        &mut store,
        IssueCategory::Sanitation,
        Some((here.0 + 0.00027, here.1)),
    );
    let far = report(
        &mut store,
        IssueCategory::Sanitation,
        Some((here.0 + 0.0018, here.1)),
    );
    let other = report(&mut store, IssueCategory::Noise, Some(here));
    let found = store
        .nearby_open_issues(grid, IssueCategory::Sanitation, None, Some(here), 50.0)
        .unwrap();
    let ids: Vec<_> = found.iter().map(|n| n.issue.id).collect();
    assert!(ids.contains(&near), "{found:?}");
    assert!(!ids.contains(&far) && !ids.contains(&other));
    let d_m = found
        .iter()
        .find(|n| n.issue.id == near)
        .unwrap()
        .distance_m
        .unwrap();
    assert!((25.0..35.0).contains(&d_m), "{d_m}");

    // Closed issues are not offered.
    store
        .act_on_issue(near, IssueAction::ResolveOnSpot, "已清理", vec![])
        .unwrap();
    store
        .sign_in(&common::session(d, Role::GridLeader))
        .unwrap();
    store
        .act_on_issue(near, IssueAction::Close, "已核查", vec![])
        .unwrap();
    assert_eq!(store.issue(near).unwrap().issue.status, IssueStatus::Closed);
    let again = store
        .nearby_open_issues(grid, IssueCategory::Sanitation, None, Some(here), 50.0)
        .unwrap();
    assert!(again.iter().all(|n| n.issue.id != near));
}

#[test]
fn drafts_survive_reopening_the_store_and_go_when_discarded() {
    let (dir, mut store) = demo_store(Role::GridWorker);
    store
        .save_draft("visit:1", r#"{"notes":"老人腿脚不便"}"#)
        .unwrap();
    store
        .save_draft("visit:1", r#"{"notes":"老人腿脚不便，需代办"}"#)
        .unwrap();
    drop(store);
    let mut store = Store::open(dir.path()).unwrap();
    assert_eq!(
        store.draft("visit:1").unwrap().as_deref(),
        Some(r#"{"notes":"老人腿脚不便，需代办"}"#)
    );
    store.discard_draft("visit:1").unwrap();
    assert_eq!(store.draft("visit:1").unwrap(), None);
}

#[test]
fn a_party_members_year_of_service_adds_up() {
    let (_dir, mut store) = demo_store(Role::PartyMember);
    let d = demo();
    let me = d.user(Role::PartyMember).user.id;
    let before = store.service_summary(me, Utc::now()).unwrap();
    for (hours, people) in [(15, 3), (20, 12)] {
        store
            .record_service(NewService {
                grid_id: d.grids[0].id,
                issue_id: None,
                order_id: None,
                title: "陪同独居老人就医".into(),
                at: Utc::now(),
                hours_tenths: hours,
                people_served: people,
                photos: vec![],
            })
            .unwrap();
    }
    let after = store.service_summary(me, Utc::now()).unwrap();
    assert_eq!(after.records, before.records + 2);
    assert_eq!(after.hours_tenths, before.hours_tenths + 35);
    assert_eq!(after.people_served, before.people_served + 15);
    assert_eq!(after.recent[0].title, "陪同独居老人就医");
}

fn table(dir: &std::path::Path, name: &str) -> i64 {
    counts(dir)
        .into_iter()
        .find(|(t, _)| t == name)
        .map_or(-1, |(_, n)| n)
}

#[test]
fn signing_out_wipes_residents_and_keeps_what_is_unsent() {
    let (dir, mut store) = demo_store(Role::GridWorker);
    report(&mut store, IssueCategory::Noise, None);
    store.sign_out().unwrap();
    assert_eq!(table(dir.path(), "residents"), 0);
    assert_eq!(table(dir.path(), "households"), 0);
    assert_eq!(table(dir.path(), "outbox"), 1);
    assert!(store.session().unwrap().is_none());
}

#[test]
fn wiping_the_device_leaves_nothing_but_its_id() {
    let (dir, mut store) = demo_store(Role::GridWorker);
    let id = store.device_id().to_string();
    let photo = {
        let img = image::RgbImage::from_fn(64, 48, |x, y| image::Rgb([x as u8, y as u8, 90]));
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
        out.into_inner()
    };
    store.ingest_photo(&photo).unwrap();
    report(&mut store, IssueCategory::Noise, None);
    store.save_draft("visit:x", "{}").unwrap();
    store.wipe_device().unwrap();
    for (t, n) in counts(dir.path()) {
        if t == "device_state" {
            assert_eq!(n, 1, "only the device id");
        } else if t != "schema_migrations" && t != "sqlite_sequence" {
            assert_eq!(n, 0, "{t}");
        }
    }
    assert_eq!(
        std::fs::read_dir(dir.path().join("photos"))
            .unwrap()
            .count(),
        0
    );
    drop(store);
    assert_eq!(Store::open(dir.path()).unwrap().device_id(), id);
}
