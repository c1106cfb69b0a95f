//! Round trips against JSON written by hand from PROTOCOL.md: each example must decode into the
//! wire types and encode back to the same JSON value, and each bad example must be refused with
//! the right error code.

use gridmate_protocol::records::{self, Record};
use gridmate_protocol::*;
use serde_json::{Value, json};

fn round_trip<T: serde::de::DeserializeOwned + serde::Serialize>(example: Value) -> T {
    let typed: T = serde_json::from_value(example.clone()).expect("example decodes");
    let back = serde_json::to_value(&typed).unwrap();
    assert_eq!(back, example, "re-encoded JSON differs");
    typed
}

const HH: &str = "01935f2e-8a4b-7c3d-9e1f-2a3b4c5d6e7f";
const GRID: &str = "01935f2e-0000-7000-8000-000000000001";
const PHOTO: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

#[test]
fn login() {
    let req: LoginRequest = round_trip(json!({
        "phone": "13800001111", "password": "correct horse", "device_id": "dev-1", "device_name": "红米 Note 12"
    }));
    assert_eq!(req.device_name, "红米 Note 12");
    let resp: LoginResponse = round_trip(json!({
        "token": "3q2+7w==",
        "user": {"id": "01935f2e-1111-7000-8000-000000000001", "name": "李敏", "roles": ["grid_worker"]},
        "assignments": [{"grid_id": GRID, "role": "grid_worker"}, {"building_id": HH, "role": "building_leader"}],
        "scope_epoch": 3
    }));
    assert_eq!(resp.assignments[1].grid_id, None);
    let extra = serde_json::from_value::<LoginRequest>(json!({
        "phone": "1", "password": "p", "device_id": "d", "device_name": "n", "admin": true
    }));
    assert!(extra.is_err(), "unknown login fields are refused");
}

#[test]
fn pull_page_with_an_upsert_and_a_delete() {
    let page: PullPage = round_trip(json!({
        "changes": [
            {"seq": 41, "entity": "household", "id": HH, "op": "upsert", "data": {
                "id": HH, "grid_id": GRID, "building_id": GRID, "unit": 2, "room": "301",
                "address": "江门市蓬江区联和花园12栋2单元301", "head_name": "张三",
                "tags": ["elderly_alone", "low_income"], "visit_cadence_days": 7
            }},
            {"seq": 42, "entity": "issue", "id": HH, "op": "delete", "data": {"id": HH}}
        ],
        "cursor": "43", "has_more": false, "scope_epoch": 3,
        "scope_count": 1, "scope_digest": "ab12"
    }));
    let hh = records::decode(page.changes[0].entity, &page.changes[0].data).unwrap();
    let Record::Household(hh) = hh else {
        panic!("not a household")
    };
    assert_eq!(records::tags_from_codes(&hh.tags).len(), 2);
    assert_eq!(page.changes[1].op, Op::Delete);
    let newer: Change = serde_json::from_value(json!(
        {"seq": 43, "entity": "parking_permit", "id": HH, "op": "upsert", "data": {"id": HH}}
    ))
    .unwrap();
    assert_eq!(
        newer.entity,
        Entity::Unknown,
        "newer entities are skipped, not fatal"
    );
    assert!(records::decode(newer.entity, &newer.data).is_err());
}

#[test]
fn push_with_every_kind() {
    let req: PushRequest = round_trip(json!({
        "device_id": "dev-1",
        "mutations": [
            {"id": "01935f2e-2222-7000-8000-000000000001", "kind": "issue.report",
             "recorded_at": "2026-11-22T02:00:00Z", "hlc": "1795312800000-0",
             "data": {"issue_id": HH, "grid_id": GRID, "category": "fire_safety",
                      "title": "楼道电动车充电", "description": "12栋2单元一楼楼道私拉电线充电",
                      "severity": "high", "building_id": GRID,
                      "location": {"lat": 22.58, "lon": 113.07, "accuracy_m": 8.0},
                      "photos": [PHOTO], "source": "visit"}},
            {"id": "01935f2e-2222-7000-8000-000000000002", "kind": "visit.record",
             "recorded_at": "2026-11-22T02:10:00Z", "hlc": "1795313400000-0",
             "data": {"visit_id": HH, "household_id": HH, "started_at": "2026-11-22T02:00:00Z",
                      "ended_at": "2026-11-22T02:10:00Z", "kind": "care", "outcome": "met",
                      "notes": "老人身体好，提醒冬季用电安全", "people_served": 1, "photos": [PHOTO],
                      "raised_issues": [HH]}},
            {"id": "01935f2e-2222-7000-8000-000000000003", "kind": "issue.event",
             "recorded_at": "2026-11-22T02:11:00Z", "hlc": "1795313460000-1",
             "data": {"event_id": HH, "issue_id": HH, "action": "resolve_on_spot",
                      "note": "已劝导移走电动车", "photos": [PHOTO]}},
            {"id": "01935f2e-2222-7000-8000-000000000004", "kind": "household.patch",
             "recorded_at": "2026-11-22T02:12:00Z", "hlc": "1795313520000-0",
             "data": {"id": HH, "fields": {"head_name": "张三", "tags": ["elderly_alone"], "visit_cadence_days": 7}}},
            {"id": "01935f2e-2222-7000-8000-000000000005", "kind": "resident.patch",
             "recorded_at": "2026-11-22T02:12:00Z", "hlc": "1795313520000-1",
             "data": {"id": HH, "fields": {"phone": "13800001111", "birth_year": 1946}}},
            {"id": "01935f2e-2222-7000-8000-000000000006", "kind": "checkin.record",
             "recorded_at": "2026-11-22T02:13:00Z", "hlc": "1795313580000-0",
             "data": {"checkin_id": HH, "grid_id": GRID, "at": "2026-11-22T02:13:00Z",
                      "location": {"lat": 22.58, "lon": 113.07, "accuracy_m": 15.0},
                      "verdict": "inside", "boundary_distance_m": 120.5, "mock_location": false}},
            {"id": "01935f2e-2222-7000-8000-000000000007", "kind": "service.record",
             "recorded_at": "2026-11-22T02:14:00Z", "hlc": "1795313640000-0",
             "data": {"service_id": HH, "grid_id": GRID, "title": "帮独居老人代购药品",
                      "at": "2026-11-22T02:14:00Z", "hours": 1.5, "people_served": 1, "photos": []}},
            {"id": "01935f2e-2222-7000-8000-000000000008", "kind": "order.create",
             "recorded_at": "2026-11-22T02:15:00Z", "hlc": "1795313700000-0",
             "data": {"order_id": HH, "grid_id": GRID, "household_id": HH, "kind": "errand",
                      "source": "visit", "title": "代取慢性病药品", "description": "每月15日",
                      "requester": "张三", "photos": []}},
            {"id": "01935f2e-2222-7000-8000-000000000009", "kind": "order.event",
             "recorded_at": "2026-11-22T02:16:00Z", "hlc": "1795313760000-0",
             "data": {"event_id": HH, "order_id": HH, "action": "confirm", "note": "回访",
                      "photos": [], "satisfaction": "satisfied"}},
            {"id": "01935f2e-2222-7000-8000-00000000000a", "kind": "household.create",
             "recorded_at": "2026-11-22T02:17:00Z", "hlc": "1795313820000-0",
             "data": {"household_id": HH, "building_id": GRID, "unit": 2, "room": "1502",
                      "head_name": "王租户", "tags": ["rental"]}},
            {"id": "01935f2e-2222-7000-8000-00000000000b", "kind": "resident.create",
             "recorded_at": "2026-11-22T02:18:00Z", "hlc": "1795313880000-0",
             "data": {"resident_id": HH, "household_id": HH, "name": "王租户", "relation": "户主",
                      "phone": "13912345678", "tags": []}},
            {"id": "01935f2e-2222-7000-8000-00000000000c", "kind": "callup.create",
             "recorded_at": "2026-11-22T02:19:00Z", "hlc": "1795313940000-0",
             "data": {"callup_id": HH, "grid_id": GRID, "roles": ["party_member"], "place": "北门",
                      "location": {"lat": 22.58, "lon": 113.07}, "at": "2026-11-22T03:00:00Z",
                      "message": "防汛集合"}},
            {"id": "01935f2e-2222-7000-8000-00000000000d", "kind": "callup.respond",
             "recorded_at": "2026-11-22T02:20:00Z", "hlc": "1795314000000-0",
             "data": {"response_id": HH, "callup_id": HH, "answer": "arrived",
                      "location": {"lat": 22.58, "lon": 113.07, "accuracy_m": 9.0}}},
            {"id": "01935f2e-2222-7000-8000-00000000000e", "kind": "callup.close",
             "recorded_at": "2026-11-22T04:00:00Z", "hlc": "1795320000000-0",
             "data": {"callup_id": HH}},
            {"id": "01935f2e-2222-7000-8000-00000000000f", "kind": "commitment.create",
             "recorded_at": "2026-11-22T04:01:00Z", "hlc": "1795320060000-0",
             "data": {"commitment_id": HH, "grid_id": GRID, "year": 2026,
                      "title": "每月陪护独居老人一次", "description": ""}},
            {"id": "01935f2e-2222-7000-8000-000000000010", "kind": "commitment.event",
             "recorded_at": "2026-11-22T04:02:00Z", "hlc": "1795320120000-0",
             "data": {"event_id": HH, "commitment_id": HH, "action": "progress",
                      "note": "11月陪同复诊", "photos": [PHOTO], "service_id": HH}},
            {"id": "01935f2e-2222-7000-8000-000000000011", "kind": "patrol.record",
             "recorded_at": "2026-11-22T22:30:00Z", "hlc": "1795386600000-0",
             "data": {"patrol_id": HH, "grid_id": GRID, "started_at": "2026-11-22T21:00:00Z",
                      "ended_at": "2026-11-22T22:30:00Z",
                      "track": [[113.07, 22.58], [113.071, 22.581], [113.072, 22.58]],
                      "notes": "夜间巡查消防通道", "issues": [HH]}}
        ]
    }));
    let kinds: Vec<&str> = req
        .mutations
        .iter()
        .map(|m| m.payload().expect("valid payload").kind())
        .collect();
    assert_eq!(kinds.len(), MutationPayload::KINDS.len());
    for k in MutationPayload::KINDS {
        assert!(kinds.contains(&k), "{k} covered");
    }
    // The typed payload encodes back to the same data.
    for m in &req.mutations {
        assert_eq!(m.payload().unwrap().to_json(), m.data, "{}", m.kind);
        assert!(m.hlc().is_ok());
    }
}

#[test]
fn push_results_and_errors() {
    let resp: PushResponse = round_trip(json!({"results": [
        {"id": HH, "status": "applied", "seq": 17},
        {"id": HH, "status": "duplicate", "seq": 17},
        {"id": HH, "status": "merged", "seq": 18, "error": {"code": "illegal_transition", "message": "cannot resolve an issue that is closed; kept as a comment"}},
        {"id": HH, "status": "rejected", "error": {"code": "forbidden", "message": "household is outside your grids"}}
    ]}));
    assert_eq!(resp.results[3].status, PushStatus::Rejected);
    let e: ErrorBody = round_trip(
        json!({"error": {"code": "unsupported_protocol", "message": "this server serves protocol versions 1"}}),
    );
    assert_eq!(e.error.code, "unsupported_protocol");
}

fn mutation(kind: &str, data: Value) -> Mutation {
    serde_json::from_value(json!({
        "id": HH, "kind": kind, "recorded_at": "2026-11-22T02:00:00Z", "hlc": "1-0", "data": data
    }))
    .unwrap()
}

fn visit(overrides: Value) -> Value {
    let mut v = json!({"visit_id": HH, "household_id": HH, "started_at": "2026-11-22T02:00:00Z",
        "ended_at": "2026-11-22T02:10:00Z", "kind": "routine", "outcome": "met", "notes": "",
        "people_served": 1, "photos": []});
    for (k, val) in overrides.as_object().unwrap() {
        v[k] = val.clone();
    }
    v
}

#[test]
fn bad_payloads_fail_only_their_own_mutation_with_a_code() {
    let cases = [
        ("parcel.deliver", json!({}), "unknown_kind"),
        (
            "visit.record",
            visit(json!({"outcome": "maybe"})),
            "invalid",
        ),
        (
            "visit.record",
            visit(json!({"people_served": "three"})),
            "invalid",
        ),
        (
            "visit.record",
            visit(json!({"people_served": -1})),
            "invalid",
        ),
        (
            "visit.record",
            visit(json!({"ended_at": "2026-11-22T01:00:00Z"})),
            "invalid",
        ),
        (
            "visit.record",
            visit(json!({"location": {"lat": 95.0, "lon": 113.0}})),
            "invalid",
        ),
        (
            "visit.record",
            visit(json!({"photos": ["../../etc/passwd"]})),
            "invalid",
        ),
        (
            "visit.record",
            visit(json!({"notes": "x".repeat(2001)})),
            "invalid",
        ),
        (
            "visit.record",
            visit(json!({"notes": "a\u{0}b"})),
            "invalid",
        ),
        ("visit.record", visit(json!({"is_admin": true})), "invalid"),
        ("visit.record", json!([1, 2, 3]), "invalid"),
        (
            "issue.event",
            json!({"event_id": HH, "issue_id": HH, "action": "delete", "note": ""}),
            "invalid",
        ),
        (
            "issue.event",
            json!({"event_id": HH, "issue_id": HH, "action": "comment", "note": " "}),
            "invalid",
        ),
        (
            "issue.event",
            json!({"event_id": HH, "issue_id": HH, "action": "reject_duplicate", "note": "dup"}),
            "invalid",
        ),
        (
            "household.patch",
            json!({"id": HH, "fields": {"grid_id": GRID}}),
            "invalid",
        ),
        (
            "household.patch",
            json!({"id": HH, "fields": {}}),
            "invalid",
        ),
        (
            "resident.patch",
            json!({"id": HH, "fields": {"phone": "12345"}}),
            "invalid",
        ),
        (
            "service.record",
            json!({"service_id": HH, "grid_id": GRID, "title": "x", "at": "2026-11-22T02:00:00Z", "hours": 99.0, "people_served": 1}),
            "invalid",
        ),
    ];
    for (kind, data, code) in cases {
        let err = mutation(kind, data.clone())
            .payload()
            .expect_err(&format!("{kind} {data}"));
        assert_eq!(err.code(), code, "{kind} {data}: {err}");
        assert!(!err.to_string().is_empty());
    }
}

#[test]
fn malformed_envelopes_do_not_decode() {
    for body in [
        "",
        "{",
        "[]",
        r#"{"device_id": "d"}"#,
        r#"{"device_id": 5, "mutations": []}"#,
        r#"{"device_id": "d", "mutations": [{"id": "not-a-uuid", "kind": "visit.record", "recorded_at": "2026-11-22T02:00:00Z", "hlc": "1-0", "data": {}}]}"#,
        r#"{"device_id": "d", "mutations": [{"id": "01935f2e-2222-7000-8000-000000000001", "kind": "visit.record", "recorded_at": "yesterday", "hlc": "1-0", "data": {}}]}"#,
    ] {
        assert!(serde_json::from_str::<PushRequest>(body).is_err(), "{body}");
    }
    // 10,000 levels of nesting: serde_json's recursion limit answers with an error, not a crash.
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let body = format!(
        r#"{{"device_id": "d", "mutations": [{{"id": "{HH}", "kind": "visit.record", "recorded_at": "2026-11-22T02:00:00Z", "hlc": "1-0", "data": {deep}}}]}}"#
    );
    assert!(serde_json::from_str::<PushRequest>(&body).is_err());
}

#[test]
fn mutation_new_makes_a_v7_key_and_carries_the_hlc() {
    let payload = mutation("visit.record", visit(json!({})))
        .payload()
        .unwrap();
    let hlc = gridmate_model::Hlc::new(1_795_313_400_000, 2);
    let m = Mutation::new(chrono::Utc::now(), hlc, &payload);
    assert_eq!(m.id.get_version_num(), 7);
    assert_eq!(m.hlc().unwrap(), hlc);
    assert_eq!(m.payload().unwrap(), payload);
}

#[test]
fn grid_boundaries_convert_both_ways_and_reject_open_rings() {
    let coords = vec![vec![vec![
        [113.07, 22.58],
        [113.08, 22.58],
        [113.08, 22.59],
        [113.07, 22.58],
    ]]];
    let geo = records::boundary_to_geo(&coords).unwrap();
    assert_eq!(records::boundary_from_geo(&geo), coords);
    let open = vec![vec![vec![
        [113.07, 22.58],
        [113.08, 22.58],
        [113.08, 22.59],
        [113.07, 22.59],
    ]]];
    assert!(records::boundary_to_geo(&open).is_err());
    let out_of_range = vec![vec![vec![
        [213.07, 22.58],
        [113.08, 22.58],
        [113.08, 22.59],
        [213.07, 22.58],
    ]]];
    assert!(records::boundary_to_geo(&out_of_range).is_err());
    assert!(records::boundary_to_geo(&vec![]).is_err());
}
