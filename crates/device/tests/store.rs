//! The offline store against real SQLite files: schema, demo load, the reads each screen makes,
//! and the writes, each checked for "record and outbox entry, or nothing".

mod common;

use chrono::{Duration, Utc};
use common::{counts, demo, demo_store, session};
use gridmate_device::outbox::OutboxState;
use gridmate_device::*;
use gridmate_model::*;
use gridmate_protocol::{MutationPayload, PushResult, PushStatus};

fn as_of() -> chrono::DateTime<Utc> {
    gridmate_demo::DemoConfig::lianhe().as_of
}

#[test]
fn a_new_store_is_migrated_and_keeps_its_device_id() {
    let dir = tempfile::tempdir().unwrap();
    let id = {
        let s = Store::open(dir.path()).unwrap();
        assert_eq!(s.schema_version().unwrap(), migrate::latest_version());
        assert_eq!(s.integrity_check().unwrap(), "ok");
        s.device_id().to_string()
    };
    let again = Store::open(dir.path()).unwrap();
    assert_eq!(again.device_id(), id);
    assert!(again.session().unwrap().is_none());
}

#[test]
fn every_earlier_schema_version_migrates_to_the_latest() {
    for start in 0..migrate::latest_version() {
        let dir = tempfile::tempdir().unwrap();
        {
            let mut conn = rusqlite::Connection::open(dir.path().join("gridmate.sqlite")).unwrap();
            assert_eq!(migrate::migrate_to(&mut conn, start).unwrap(), start);
            if start >= 1 {
                // Data written under the old schema must survive the upgrade.
                conn.execute(
                    "INSERT INTO community (id, name, district) VALUES (x'00', '旧社区', '旧区')",
                    [],
                )
                .unwrap();
            }
        }
        let s = Store::open(dir.path()).unwrap();
        assert_eq!(
            s.schema_version().unwrap(),
            migrate::latest_version(),
            "from {start}"
        );
        assert_eq!(s.integrity_check().unwrap(), "ok");
        let conn = rusqlite::Connection::open(dir.path().join("gridmate.sqlite")).unwrap();
        let kept: i64 = conn
            .query_row("SELECT COUNT(*) FROM community", [], |r| r.get(0))
            .unwrap();
        assert_eq!(kept, i64::from(start >= 1), "from {start}");
        let applied: i64 = conn
            .query_row("SELECT COUNT(*) FROM schema_migrations", [], |r| r.get(0))
            .unwrap();
        assert_eq!(applied, i64::from(migrate::latest_version()));
    }
}

#[test]
fn a_database_from_a_newer_app_is_refused_not_guessed_at() {
    let dir = tempfile::tempdir().unwrap();
    drop(Store::open(dir.path()).unwrap());
    let conn = rusqlite::Connection::open(dir.path().join("gridmate.sqlite")).unwrap();
    conn.execute("INSERT INTO schema_migrations VALUES (99, 'future', 0)", [])
        .unwrap();
    drop(conn);
    match Store::open(dir.path()) {
        Err(DeviceError::SchemaTooNew { found: 99, .. }) => {}
        Err(other) => panic!("wrong error {other}"),
        Ok(_) => panic!("opened a database from the future"),
    }
}

#[test]
fn home_shows_the_workers_grid() {
    let (_dir, store) = demo_store(Role::GridWorker);
    let d = demo();
    let home = store.home(as_of()).unwrap();
    assert_eq!(home.user_name, "李敏");
    assert_eq!(home.grids.len(), 1, "a worker sees their own grid");
    let grid = &home.grids[0];
    assert_eq!(grid.grid.id, d.grids[0].id);
    let expected = d
        .households
        .iter()
        .filter(|h| h.grid_id == d.grids[0].id)
        .count() as u32;
    assert_eq!(home.households, expected);
    assert_eq!(
        grid.buildings as usize,
        d.buildings
            .iter()
            .filter(|b| b.grid_id == d.grids[0].id)
            .count()
    );
    assert!(home.visited_this_month > 0 && home.visited_this_month < home.households);
    assert!(home.due_visits > 0);
    let open: u32 = home.open_issues.iter().map(|(_, n)| n).sum();
    let expected_open = d
        .issues
        .iter()
        .filter(|i| i.grid_id == d.grids[0].id && i.status.is_open())
        .count();
    assert_eq!(open as usize, expected_open);
    assert_eq!(home.sync.pending, 0);
}

#[test]
fn browse_building_then_household_with_masked_residents() {
    let (_dir, store) = demo_store(Role::GridWorker);
    let d = demo();
    let buildings = store.buildings(d.grids[0].id, as_of()).unwrap();
    assert!(!buildings.is_empty());
    let b = &buildings[0];
    assert!(b.visited_this_month <= b.households);
    let unit1 = store.households(b.building.id, Some(1), as_of()).unwrap();
    let all = store.households(b.building.id, None, as_of()).unwrap();
    assert!(!unit1.is_empty() && unit1.len() < all.len());
    assert!(unit1.iter().all(|h| h.unit == 1));
    assert_eq!(all.len() as u32, b.households);

    let detail = store.household(all[0].id).unwrap();
    assert!(!detail.residents.is_empty());
    assert_eq!(detail.residents[0].relation, "户主");
    for r in &detail.residents {
        let phone = r.phone_masked.as_deref().unwrap();
        assert!(phone.contains("****"), "{phone}");
        let id = r.id_number_masked.as_deref().unwrap();
        assert_eq!(id.matches('*').count(), 10, "{id}");
    }
    let full = store
        .resident_phone_for_call(detail.residents[0].id)
        .unwrap()
        .unwrap();
    assert!(validate::phone(&full).is_ok());
}

#[test]
fn a_role_without_calls_keeps_no_full_phone_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    store.load_scope(ScopeData::of_demo(demo(), false)).unwrap();
    store
        .sign_in(&session(demo(), Role::BuildingLeader))
        .unwrap();
    let r = &demo().residents[0];
    assert_eq!(store.resident_phone_for_call(r.id).unwrap(), None);
    let conn = rusqlite::Connection::open(dir.path().join("gridmate.sqlite")).unwrap();
    let full: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM residents WHERE phone IS NOT NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(full, 0);
}

#[test]
fn due_visits_are_vulnerable_overdue_and_oldest_first() {
    let (_dir, store) = demo_store(Role::GridWorker);
    let due = store.due_visits(None, as_of(), 10_000).unwrap();
    assert!(due.len() > 20, "{}", due.len());
    let mut last_overdue = i64::MAX;
    let mut seen_visited = false;
    for v in &due {
        assert!(v.household.is_vulnerable());
        assert!(v.household.due);
        match v.days_overdue {
            // Never-visited households come first, then the longest overdue.
            None => assert!(!seen_visited, "never-visited after a visited one"),
            Some(days) => {
                seen_visited = true;
                assert!(
                    days >= 0 && days <= last_overdue,
                    "{days} after {last_overdue}"
                );
                last_overdue = days;
            }
        }
    }
    // Independent check against the generator's history.
    let d = demo();
    let expected = d
        .households
        .iter()
        .filter(|h| h.is_vulnerable())
        .filter(|h| {
            let last = d
                .visits
                .iter()
                .filter(|v| v.household_id == h.id)
                .map(|v| v.started_at)
                .max();
            last.is_none_or(|t| t + Duration::days(i64::from(h.visit_cadence_days)) <= as_of())
        })
        .count();
    assert_eq!(due.len(), expected);
}

#[test]
fn coverage_counts_every_household_once() {
    let (_dir, store) = demo_store(Role::GridWorker);
    let d = demo();
    let g = d.grids[0].id;
    let from = as_of() - Duration::days(30);
    let c = store.coverage(g, from, as_of()).unwrap();
    assert_eq!(
        c.visited as usize + c.unvisited.len(),
        c.households as usize
    );
    let in_grid: std::collections::HashSet<_> = d
        .households
        .iter()
        .filter(|h| h.grid_id == g)
        .map(|h| h.id)
        .collect();
    let visited: std::collections::HashSet<_> = d
        .visits
        .iter()
        .filter(|v| {
            in_grid.contains(&v.household_id) && v.started_at >= from && v.started_at < as_of()
        })
        .map(|v| v.household_id)
        .collect();
    assert_eq!(c.visited as usize, visited.len());
    assert!(c.unvisited.iter().all(|h| !visited.contains(&h.id)));
    assert!(c.ratio() > 0.0 && c.ratio() < 1.0);
}

#[test]
fn search_by_name_initials_pinyin_and_room() {
    let (_dir, store) = demo_store(Role::GridWorker);
    let d = demo();
    let target = &d.residents[100];
    let (pinyin, initials) = search_keys::name_keys(&target.name);

    let by_name = store.search(&target.name, 50).unwrap();
    assert!(
        by_name.iter().any(|h| h.resident_id == Some(target.id)),
        "name"
    );
    assert!(by_name.iter().all(|h| h.name.starts_with(&target.name)));

    let by_initials = store.search(&initials, 2_000).unwrap();
    assert!(
        by_initials.iter().any(|h| h.resident_id == Some(target.id)),
        "initials {initials}"
    );

    let by_pinyin = store.search(&pinyin.to_uppercase(), 50).unwrap();
    assert!(
        by_pinyin.iter().any(|h| h.resident_id == Some(target.id)),
        "pinyin {pinyin}"
    );

    let h = d
        .households
        .iter()
        .find(|h| h.id == target.household_id)
        .unwrap();
    let b = d.buildings.iter().find(|b| b.id == h.building_id).unwrap();
    for q in [
        format!("{}-{}-{}", b.number, h.unit, h.room),
        format!("{}栋{}单元{}室", b.number, h.unit, h.room),
    ] {
        let hits = store.search(&q, 10).unwrap();
        assert_eq!(hits[0].household_id, h.id, "{q}");
        assert_eq!(hits[0].matched, SearchMatch::Address);
    }
    let stairwell = store
        .search(&format!("{}-{}", b.number, h.unit), 500)
        .unwrap();
    assert!(
        stairwell.len() > 5
            && stairwell.iter().all(|x| x
                .short_address
                .starts_with(&format!("{}-{}-", b.number, h.unit)))
    );
}

#[test]
fn zs_finds_zhang_san() {
    let (_dir, mut store) = demo_store(Role::GridWorker);
    let d = demo();
    let h = &d.households[0];
    let zhang = Resident {
        id: ResidentId::new_v7(),
        household_id: h.id,
        name: "张三".into(),
        relation: "子女".into(),
        birth_year: Some(1990),
        phone: None,
        id_number: None,
        tags: vec![],
        moved_out: false,
    };
    store
        .load_scope(ScopeData {
            residents: std::slice::from_ref(&zhang),
            grids: &[],
            buildings: &[],
            households: &[],
            visits: &[],
            issues: &[],
            ..ScopeData::of_demo(d, true)
        })
        .unwrap();
    for q in ["zs", "ZS", "zhangsan", "zhangs", "张三", "张"] {
        let hits = store.search(q, 5_000).unwrap();
        assert!(hits.iter().any(|x| x.resident_id == Some(zhang.id)), "{q}");
    }
}

#[test]
fn hostile_search_strings_are_just_strings() {
    let (dir, store) = demo_store(Role::GridWorker);
    let before = counts(dir.path());
    for q in [
        "'; DROP TABLE residents; --",
        "%",
        "_",
        "\\",
        "\u{0}",
        "😀",
        "\u{10FFFF}",
        &"张".repeat(10_000),
        "12-2-301' OR '1'='1",
        "a%b",
    ] {
        let hits = store.search(q, 20).unwrap();
        assert!(hits.len() <= 20);
        if q == "%" || q == "_" {
            assert!(hits.is_empty(), "{q} is not a wildcard");
        }
    }
    assert_eq!(counts(dir.path()), before);
}

fn visit(household: HouseholdId) -> NewVisit {
    let now = Utc::now();
    NewVisit {
        household_id: household,
        started_at: now - Duration::minutes(12),
        ended_at: now,
        kind: VisitKind::CareVisit,
        outcome: VisitOutcome::Met,
        notes: "老人血压正常，提醒冬季用电安全".into(),
        people_served: 1,
        location: Some(GpsFix {
            lat: 22.588,
            lon: 113.079,
            accuracy_m: 12.0,
            mock_location: false,
        }),
        photos: vec![PhotoRef::parse(&"ab".repeat(32)).unwrap()],
        raised_issues: vec![],
    }
}

#[test]
fn a_visit_is_the_record_and_its_outbox_entry_together() {
    let (_dir, mut store) = demo_store(Role::GridWorker);
    let due = store.due_visits(None, Utc::now(), 1).unwrap();
    let hh = due[0].household.id;
    let id = store.record_visit(visit(hh)).unwrap();
    assert_eq!(id.0.get_version_num(), 7);

    let detail = store.household(hh).unwrap();
    let v = detail
        .visits
        .iter()
        .find(|v| v.id == id)
        .expect("visit stored");
    assert!(v.pending, "not yet on the server");
    assert!(
        store
            .due_visits(None, Utc::now(), 10_000)
            .unwrap()
            .iter()
            .all(|d| d.household.id != hh)
    );

    let pending = store.pending_mutations(10).unwrap();
    assert_eq!(pending.len(), 1);
    let m = &pending[0];
    assert_eq!(m.id.get_version_num(), 7);
    let MutationPayload::VisitRecord(data) = m.payload().unwrap() else {
        panic!("kind {}", m.kind)
    };
    assert_eq!(data.visit_id, id.0);
    assert_eq!(data.household_id, hh.0);
    assert_eq!(store.sync_status().unwrap().pending, 1);
}

#[test]
fn a_visit_and_the_needs_it_found_are_one_action() {
    let (dir, mut store) = demo_store(Role::GridWorker);
    let due = store.due_visits(None, Utc::now(), 1).unwrap();
    let hh = store.household(due[0].household.id).unwrap().household;
    let need = |title: &str| NewIssue {
        grid_id: hh.grid_id,
        building_id: Some(hh.building_id),
        household_id: Some(hh.id),
        category: IssueCategory::ResidentNeed,
        severity: Severity::Low,
        source: IssueSource::Visit,
        title: title.into(),
        description: "入户走访发现".into(),
        location: None,
        photos: vec![],
    };

    // Refused at the last step (the visit has too many photos): the needs, already valid and
    // written first inside the transaction, are gone with it, and nothing waits to be sent.
    let before = counts(dir.path());
    let too_many = NewVisit {
        photos: vec![PhotoRef::parse(&"ab".repeat(32)).unwrap(); limits_max_photos() + 1],
        ..visit(hh.id)
    };
    assert!(matches!(
        store.record_visit_with_needs(too_many, vec![need("代买药"), need("申请低保")]),
        Err(DeviceError::Invalid(ValidationError::TooMany {
            field: "photos",
            ..
        }))
    ));
    assert_eq!(
        counts(dir.path()),
        before,
        "a refused visit leaves no issue behind"
    );
    assert_eq!(store.sync_status().unwrap().pending, 0);

    // Accepted: the issues go first in the outbox, and the visit names them.
    let (visit_id, raised) = store
        .record_visit_with_needs(visit(hh.id), vec![need("代买药"), need("申请低保")])
        .unwrap();
    assert_eq!(raised.len(), 2);
    let pending = store.pending_mutations(10).unwrap();
    let kinds: Vec<&str> = pending.iter().map(|m| m.kind.as_str()).collect();
    assert_eq!(kinds, ["issue.report", "issue.report", "visit.record"]);
    let MutationPayload::VisitRecord(data) = pending[2].payload().unwrap() else {
        panic!()
    };
    assert_eq!(data.visit_id, visit_id.0);
    assert_eq!(
        data.raised_issues,
        raised.iter().map(|i| i.0).collect::<Vec<_>>()
    );
}

#[test]
fn a_report_handled_on_the_spot_is_one_action() {
    let (dir, mut store) = demo_store(Role::BuildingLeader);
    let report = |after: usize| NewReport {
        building: None,
        household: None,
        category: IssueCategory::Sanitation,
        severity: Severity::Medium,
        title: "楼道堆放杂物".into(),
        description: "三楼楼道堆满纸箱".into(),
        photos: vec![],
        fix: None,
        on_spot: Some((
            "已清理".into(),
            vec![PhotoRef::parse(&"cd".repeat(32)).unwrap(); after],
        )),
    };
    // The report is valid; the resolution (too many after-photos) is not: neither is kept.
    let before = counts(dir.path());
    assert!(
        store
            .report_problem(report(limits_max_photos() + 1))
            .is_err()
    );
    assert_eq!(counts(dir.path()), before);
    assert_eq!(store.sync_status().unwrap().pending, 0);

    let id = store.report_problem(report(1)).unwrap();
    assert_eq!(
        store.issue(id).unwrap().issue.status,
        IssueStatus::ResolvedOnSpot
    );
    assert_eq!(store.sync_status().unwrap().pending, 2);
}

fn limits_max_photos() -> usize {
    gridmate_model::validate::limits::MAX_PHOTOS
}

#[test]
fn refused_writes_change_nothing() {
    let (dir, mut store) = demo_store(Role::GridWorker);
    let hh = demo().households[3].id;
    let before = counts(dir.path());
    let too_long = NewVisit {
        notes: "长".repeat(2_001),
        ..visit(hh)
    };
    assert!(matches!(
        store.record_visit(too_long),
        Err(DeviceError::Invalid(ValidationError::TooLong { .. }))
    ));
    let backwards = NewVisit {
        ended_at: Utc::now() - Duration::hours(1),
        ..visit(hh)
    };
    assert!(matches!(
        store.record_visit(backwards),
        Err(DeviceError::Invalid(_))
    ));
    let nowhere = NewVisit {
        location: Some(GpsFix {
            lat: 123.0,
            lon: 113.0,
            accuracy_m: 5.0,
            mock_location: false,
        }),
        ..visit(hh)
    };
    assert!(store.record_visit(nowhere).is_err());
    let control = NewVisit {
        notes: "ok\u{1b}[2J".into(),
        ..visit(hh)
    };
    assert!(store.record_visit(control).is_err());
    let unknown = visit(HouseholdId::new_v7());
    assert!(matches!(
        store.record_visit(unknown),
        Err(DeviceError::NotFound { .. })
    ));
    let ten_photos = NewVisit {
        photos: vec![PhotoRef::parse(&"cd".repeat(32)).unwrap(); 10],
        ..visit(hh)
    };
    assert!(store.record_visit(ten_photos).is_err());
    assert_eq!(counts(dir.path()), before);

    // Each refusal is typed, naming the field (the app words it in the user's language).
    let err = store
        .record_visit(NewVisit {
            notes: "长".repeat(2_001),
            ..visit(hh)
        })
        .unwrap_err();
    assert!(
        matches!(
            err,
            DeviceError::Invalid(gridmate_model::ValidationError::TooLong {
                field: "notes",
                len: 2_001,
                ..
            })
        ),
        "{err:?}"
    );
}

#[test]
fn nobody_signed_in_means_no_writes() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    store.load_scope(ScopeData::of_demo(demo(), false)).unwrap();
    let before = counts(dir.path());
    assert!(matches!(
        store.record_visit(visit(demo().households[0].id)),
        Err(DeviceError::NoSession)
    ));
    assert_eq!(counts(dir.path()), before);
}

fn new_issue(d: &gridmate_demo::DemoCommunity) -> NewIssue {
    NewIssue {
        grid_id: d.grids[0].id,
        building_id: Some(d.buildings[0].id),
        household_id: None,
        category: IssueCategory::FireSafety,
        severity: Severity::High,
        source: IssueSource::BuildingLeader,
        title: "楼道电动车充电".into(),
        description: "一楼楼道私拉电线给电动车充电".into(),
        location: None,
        photos: vec![],
    }
}

#[test]
fn issue_actions_follow_the_state_machine_for_the_signed_in_role() {
    let d = demo();
    let (dir, mut store) = demo_store(Role::BuildingLeader);
    let issue = store.report_issue(new_issue(d)).unwrap();

    // A building leader may not accept; nothing is written.
    let before = counts(dir.path());
    let err = store
        .act_on_issue(issue, IssueAction::Accept, "", vec![])
        .unwrap_err();
    assert!(matches!(
        err,
        DeviceError::Transition(TransitionError::RoleNotAllowed { .. })
    ));
    assert_eq!(counts(dir.path()), before);
    // but may handle it on the spot.
    let (_, status) = store
        .act_on_issue(issue, IssueAction::ResolveOnSpot, "已劝导挪走", vec![])
        .unwrap();
    assert_eq!(status, IssueStatus::ResolvedOnSpot);

    // The leader verifies and closes it; closing twice is refused.
    store.sign_in(&session(d, Role::GridLeader)).unwrap();
    let (_, status) = store
        .act_on_issue(issue, IssueAction::Close, "已核查", vec![])
        .unwrap();
    assert_eq!(status, IssueStatus::Closed);
    let err = store
        .act_on_issue(issue, IssueAction::Close, "", vec![])
        .unwrap_err();
    assert!(matches!(
        err,
        DeviceError::Transition(TransitionError::IllegalFromStatus { .. })
    ));

    // Three mutations, in the order they were made, with increasing HLCs.
    let pending = store.pending_mutations(10).unwrap();
    let kinds: Vec<_> = pending.iter().map(|m| m.kind.as_str()).collect();
    assert_eq!(kinds, ["issue.report", "issue.event", "issue.event"]);
    let hlcs: Vec<Hlc> = pending.iter().map(|m| m.hlc().unwrap()).collect();
    assert!(hlcs.windows(2).all(|w| w[0] < w[1]), "{hlcs:?}");
    assert!(
        store
            .issues(&IssueFilter::default())
            .unwrap()
            .iter()
            .all(|i| i.id != issue),
        "closed is not open"
    );
}

#[test]
fn check_in_knows_inside_from_outside_offline() {
    let d = demo();
    let (_dir, mut store) = demo_store(Role::PartyMember);
    let g = &d.grids[0];
    let b = d.buildings.iter().find(|b| b.grid_id == g.id).unwrap();
    let inside = GpsFix {
        lat: b.lat,
        lon: b.lon,
        accuracy_m: 10.0,
        mock_location: false,
    };
    let (first, fix) = store
        .check_in(g.id, inside, Utc::now() - chrono::Duration::minutes(1))
        .unwrap();
    assert_eq!(fix.verdict, GeoVerdict::Inside);
    assert!(fix.distance_m > 10.0);
    let far = GpsFix {
        lat: 22.70,
        lon: 113.20,
        accuracy_m: 10.0,
        mock_location: true,
    };
    let (second, fix) = store.check_in(g.id, far, Utc::now()).unwrap();
    assert_eq!(fix.verdict, GeoVerdict::Outside);
    assert!(fix.distance_m < -1_000.0);
    // The newest first, before the demo's check-ins of the year.
    let mine = store
        .checkins(d.user(Role::PartyMember).user.id, 10)
        .unwrap();
    let ids: Vec<_> = mine.iter().map(|c| c.id).collect();
    assert_eq!(ids[..2], [second, first]);
    assert!(
        mine[0].fix.mock_location,
        "the mock-location flag is kept as evidence"
    );
    assert_eq!(store.sync_status().unwrap().pending, 2);
}

#[test]
fn service_and_household_patch_enqueue_their_mutations() {
    let d = demo();
    let (_dir, mut store) = demo_store(Role::PartyMember);
    store
        .record_service(NewService {
            grid_id: d.grids[0].id,
            issue_id: None,
            order_id: None,
            title: "帮独居老人代购药品".into(),
            at: Utc::now(),
            hours_tenths: 15,
            people_served: 1,
            photos: vec![],
        })
        .unwrap();
    let hh = d.households[5].id;
    store
        .patch_household(
            hh,
            HouseholdPatch {
                tags: Some(vec![HouseholdTag::ElderlyLivingAlone]),
                visit_cadence_days: Some(7),
                ..Default::default()
            },
        )
        .unwrap();
    assert!(store.household(hh).unwrap().household.tags == vec![HouseholdTag::ElderlyLivingAlone]);
    let kinds: Vec<_> = store
        .pending_mutations(10)
        .unwrap()
        .into_iter()
        .map(|m| m.payload().unwrap().kind())
        .collect();
    assert_eq!(kinds, ["service.record", "household.patch"]);
    assert!(
        store
            .record_service(NewService {
                hours_tenths: 0,
                title: "x".into(),
                grid_id: d.grids[0].id,
                issue_id: None,
                order_id: None,
                at: Utc::now(),
                people_served: 0,
                photos: vec![]
            })
            .is_err()
    );
}

#[test]
fn rejected_mutations_stay_and_are_shown() {
    let (_dir, mut store) = demo_store(Role::GridWorker);
    for i in 0..3 {
        store.record_visit(visit(demo().households[i].id)).unwrap();
    }
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
            status: PushStatus::Rejected,
            error: Some(gridmate_protocol::ErrorDetail {
                code: "forbidden".into(),
                message: "household is outside your grids".into(),
            }),
            seq: None,
        },
    ];
    store.record_push_results(&results).unwrap();
    let status = store.sync_status().unwrap();
    assert_eq!((status.pending, status.failed), (1, 1));
    let failed = store.outbox(&[OutboxState::Failed], 10).unwrap();
    assert_eq!(failed[0].mutation_id, pending[1].id);
    assert_eq!(
        failed[0].error_message.as_deref(),
        Some("household is outside your grids")
    );
    // The rejected one does not block the one behind it.
    assert_eq!(store.pending_mutations(10).unwrap()[0].id, pending[2].id);
    assert_eq!(store.outbox(&[], 10).unwrap().len(), 3, "nothing deleted");
}

#[test]
fn reloading_a_scope_updates_in_place_and_never_moves_a_visit_back() {
    let (dir, mut store) = demo_store(Role::GridWorker);
    let d = demo();
    let before = counts(dir.path());
    let hh = d.households[0].id;
    let fresh = store.record_visit(visit(hh)).unwrap();
    let last_before = store
        .households(d.households[0].building_id, None, Utc::now())
        .unwrap()
        .into_iter()
        .find(|h| h.id == hh)
        .unwrap()
        .last_visit_at
        .unwrap();

    // The server sends the same scope again with a renamed household head and a new cadence.
    let mut households = d.households.clone();
    households[0].head_name = "改名后".into();
    households[0].visit_cadence_days = 3;
    store
        .load_scope(ScopeData {
            households: &households,
            ..ScopeData::of_demo(d, true)
        })
        .unwrap();

    let after = counts(dir.path());
    let grew: Vec<_> = before
        .iter()
        .zip(&after)
        .filter(|(a, b)| a.1 != b.1)
        .map(|(a, b)| (a.0.clone(), b.1 - a.1))
        .collect();
    let grew: Vec<_> = grew
        .into_iter()
        .filter(|(t, _)| t != "sqlite_sequence" && t != "device_state")
        .collect();
    assert_eq!(
        grew,
        [("outbox".to_string(), 1), ("visits".to_string(), 1)],
        "only the new visit was added"
    );
    let detail = store.household(hh).unwrap();
    assert_eq!(detail.household.head_name, "改名后");
    assert_eq!(detail.household.visit_cadence_days, 3);
    assert!(detail.visits.iter().any(|v| v.id == fresh));
    let row = store
        .households(d.households[0].building_id, None, Utc::now())
        .unwrap()
        .into_iter()
        .find(|h| h.id == hh)
        .unwrap();
    assert_eq!(
        row.last_visit_at.unwrap(),
        last_before,
        "an older server history does not undo today's visit"
    );
    assert!(!row.due);
}

#[test]
fn a_pulled_page_never_overwrites_what_the_user_has_not_sent_yet() {
    let (_dir, mut store) = demo_store(Role::GridWorker);
    let d = demo();
    let h = &d.households[0];
    store
        .patch_household(
            h.id,
            HouseholdPatch {
                head_name: Some("本机改名".into()),
                ..Default::default()
            },
        )
        .unwrap();
    // The server's older copy of the household (and of another one) arrives before the push.
    let record = |hh: &Household, name: &str| {
        serde_json::json!({"id": hh.id.0, "grid_id": hh.grid_id.0, "building_id": hh.building_id.0, "unit": hh.unit,
            "room": hh.room, "address": hh.address, "head_name": name, "tags": [], "visit_cadence_days": 90})
    };
    let other = &d.households[1];
    let page: gridmate_protocol::RawPullPage = serde_json::from_value(serde_json::json!({
        "changes": [
            {"seq": 900001, "entity": "household", "id": h.id.0, "op": "upsert", "data": record(h, "服务器旧名")},
            {"seq": 900002, "entity": "household", "id": other.id.0, "op": "upsert", "data": record(other, "服务器新名")},
            {"seq": 900003, "entity": "parking_permit", "id": other.id.0, "op": "upsert", "data": {"id": other.id.0}}
        ],
        "cursor": "1.900003", "has_more": false, "scope_epoch": 1, "scope_count": 0, "scope_digest": ""
    }))
    .unwrap();
    let outcome = store.apply_pull_page(&page).unwrap();
    assert_eq!(
        (outcome.applied, outcome.kept_local, outcome.skipped),
        (1, 1, 1)
    );
    assert_eq!(
        store.household(h.id).unwrap().household.head_name,
        "本机改名",
        "the unsent edit stands"
    );
    assert_eq!(
        store.household(other.id).unwrap().household.head_name,
        "服务器新名"
    );
}
