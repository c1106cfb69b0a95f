//! The service over real HTTP on 127.0.0.1 with a real database (SQLite files, or PostgreSQL when
//! `GRIDMATE_TEST_POSTGRES` is set: see `common`): every route's happy path, the error codes of
//! PROTOCOL.md, scope, idempotency across a restart, and hostile input that must change nothing.

mod common;

use chrono::Utc;
use common::server::*;
use gridmate_model::{Hlc, IssueStatus, Role};
use gridmate_protocol::*;
use gridmate_server::store::{Backend, admin, log, sessions};
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_openapi_need_no_token() {
    let s = Server::start().await;
    let h: Health = s
        .http
        .get(format!("{}/health", s.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (h.status.as_str(), h.protocol_versions.as_slice()),
        ("ok", &[1u32][..])
    );
    let doc: Value = s
        .http
        .get(format!("{}/openapi.json", s.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    // Generated from the handlers: every route and method the router serves, each with the
    // errors any route can give, and the wire types with their required fields.
    for (path, methods) in [
        ("/health", &["get"][..]),
        ("/session", &["post", "delete"]),
        ("/sync/pull", &["get"]),
        ("/sync/push", &["post"]),
        ("/conflicts", &["get"]),
        ("/blobs/{sha256}", &["head", "get", "put"]),
    ] {
        for m in methods {
            let op = &doc["paths"][path][m];
            assert!(op.is_object(), "{m} {path} is not documented");
            for code in ["400", "426", "500"] {
                assert!(op["responses"][code].is_object(), "{m} {path} lacks {code}");
            }
            if path != "/health" {
                assert!(op["responses"]["401"].is_object(), "{m} {path} lacks 401");
            }
        }
    }
    let mutation = &doc["components"]["schemas"]["Mutation"]["required"];
    for field in ["id", "kind", "recorded_at", "hlc", "data"] {
        assert!(
            mutation.as_array().unwrap().iter().any(|f| f == field),
            "Mutation.{field} is not required: {mutation}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_errors_and_the_rate_limit() {
    let s = Server::start().await;
    let url = format!("{}/session", s.base);
    let a = s.account(Role::GridWorker);
    let body = |password: &str| json!({"phone": a.phone, "password": password, "device_id": "d", "device_name": "n"});
    let r = s
        .http
        .post(&url)
        .json(&body("wrong password"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(r).await,
        (StatusCode::UNAUTHORIZED, "bad_credentials".into())
    );
    let r = s
        .http
        .post(&url)
        .json(
            &json!({"phone": "13999999999", "password": "x", "device_id": "d", "device_name": "n"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(r).await,
        (StatusCode::UNAUTHORIZED, "bad_credentials".into()),
        "unknown phones look the same"
    );
    let r = s
        .http
        .post(&url)
        .header("content-type", "application/json")
        .body("{\"phone\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(r).await.0, StatusCode::BAD_REQUEST);
    let r = s
        .http
        .post(&url)
        .body(body("x").to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(r).await.0, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let r = s.http.post(&url).json(&json!({"phone": 13800001001u64, "password": "x", "device_id": "d", "device_name": "n"})).send().await.unwrap();
    assert_eq!(error_code(r).await.0, StatusCode::BAD_REQUEST, "wrong type");
    // Five failures for this phone in the window: the sixth try is refused even with the right
    // password, with Retry-After.
    for _ in 0..3 {
        s.http
            .post(&url)
            .json(&body("still wrong"))
            .send()
            .await
            .unwrap();
    }
    let r = s
        .http
        .post(&url)
        .json(&body(&a.password))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=900).contains(&retry));
    assert_eq!(error_code(r).await.1, "rate_limited");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_can_be_missing_wrong_revoked_by_logout_or_by_the_admin_or_expire() {
    let s = Server::start().await;
    let r = s
        .http
        .get(format!("{}/sync/pull", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(r).await,
        (StatusCode::UNAUTHORIZED, "unauthorized".into())
    );
    assert_eq!(
        error_code(s.get("not-a-token", "/sync/pull").await).await,
        (StatusCode::UNAUTHORIZED, "invalid_token".into())
    );
    let t = s.login(Role::GridWorker, "phone-1").await;
    assert_eq!(
        s.get(&t, "/sync/pull?limit=1").await.status(),
        StatusCode::OK
    );
    let r = s
        .http
        .delete(format!("{}/session", s.base))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        error_code(s.get(&t, "/sync/pull").await).await,
        (StatusCode::UNAUTHORIZED, "token_revoked".into())
    );

    let t2 = s.login(Role::GridWorker, "phone-2").await;
    let store = s.store();
    let phone = s.account(Role::GridWorker).phone.clone();
    assert_eq!(store.admin(|tx| admin::revoke_user(tx, &phone)).unwrap(), 1);
    assert_eq!(
        error_code(s.get(&t2, "/sync/pull").await).await,
        (StatusCode::UNAUTHORIZED, "token_revoked".into())
    );

    // A session lives TOKEN_TTL_DAYS; one past its time is refused as expired, not as wrong.
    let t3 = s.login(Role::GridWorker, "phone-3").await;
    let expires =
        s.number("SELECT expires_at - created_at FROM sessions WHERE device_id = 'phone-3'");
    assert_eq!(
        expires,
        sessions::TOKEN_TTL_DAYS * 86_400_000,
        "a new session lives the documented time"
    );
    assert_eq!(
        s.get(&t3, "/sync/pull?limit=1").await.status(),
        StatusCode::OK
    );
    let past = chrono::Utc::now().timestamp_millis() - 1;
    let expire = format!("UPDATE sessions SET expires_at = {past} WHERE device_id = 'phone-3'");
    s.sql(&expire, &expire);
    assert_eq!(
        error_code(s.get(&t3, "/sync/pull").await).await,
        (StatusCode::UNAUTHORIZED, "token_expired".into())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_role_pulls_exactly_its_scope() {
    let s = Server::start().await;
    let d = demo();
    let g0 = d.grids[0].id.0;
    let grid_households = d.households.iter().filter(|h| h.grid_id.0 == g0).count();

    let t = s.login(Role::GridWorker, "w").await;
    let (changes, last) = s.pull_all(&t, None).await;
    let count = |entity: Entity| changes.iter().filter(|c| c.entity == entity).count();
    assert_eq!(count(Entity::Household), grid_households);
    assert_eq!(count(Entity::Grid), 1);
    assert!(
        changes.iter().all(|c| c.op == Op::Upsert),
        "a new device gets no tombstones"
    );
    assert!(
        changes
            .iter()
            .filter(|c| c.entity == Entity::Household)
            .all(|c| c.data["grid_id"] == json!(g0))
    );
    let resident = changes
        .iter()
        .find(|c| c.entity == Entity::Resident)
        .unwrap();
    assert!(
        resident.data["phone"].is_string(),
        "a grid worker calls residents"
    );
    assert!(
        resident.data["phone_masked"]
            .as_str()
            .unwrap()
            .contains("****")
    );
    assert!(resident.data.get("id_number").is_none());
    assert_eq!(
        last.scope_count as usize,
        changes.len(),
        "the count covers the whole scope at the head"
    );
    let seqs: Vec<u64> = changes.iter().map(|c| c.seq).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "sequence order");

    let leader = s.login(Role::GridLeader, "l").await;
    let (lc, _) = s.pull_all(&leader, None).await;
    let leader_grids: Vec<_> = d.grids.iter().take(2).map(|g| g.id.0).collect();
    assert_eq!(
        lc.iter().filter(|c| c.entity == Entity::Household).count(),
        d.households
            .iter()
            .filter(|h| leader_grids.contains(&h.grid_id.0))
            .count()
    );

    let bl = s.login(Role::BuildingLeader, "b").await;
    let (bc, blast) = s.pull_all(&bl, None).await;
    assert_eq!(digest_of(&bc), blast.scope_digest);
    let building = d.user(Role::BuildingLeader).assignments[0]
        .building_id
        .unwrap()
        .0;
    let hh: Vec<_> = bc
        .iter()
        .filter(|c| c.entity == Entity::Household)
        .collect();
    assert_eq!(
        hh.len(),
        d.households
            .iter()
            .filter(|h| h.building_id.0 == building)
            .count()
    );
    assert!(hh.iter().all(|c| c.data["building_id"] == json!(building)));
    assert!(
        bc.iter()
            .filter(|c| c.entity == Entity::Resident)
            .all(|c| c.data.get("phone").is_none()),
        "building leaders get masked phones only"
    );
    assert_eq!(
        bc.iter().filter(|c| c.entity == Entity::Grid).count(),
        1,
        "the grid outline for the map"
    );

    let pm = s.login(Role::PartyMember, "p").await;
    let (pc, _) = s.pull_all(&pm, None).await;
    assert!(
        pc.iter().all(|c| !matches!(
            c.entity,
            Entity::Household | Entity::Resident | Entity::Visit
        )),
        "party members see no residents' data"
    );
    assert!(pc.iter().any(|c| c.entity == Entity::Issue));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cursors_protocol_versions_and_scope_changes() {
    let s = Server::start().await;
    let t = s.login(Role::GridWorker, "w").await;
    let (_, last) = s.pull_all(&t, None).await;
    // Nothing new: an empty page at the same head.
    let page: PullPage = s
        .get(&t, &format!("/sync/pull?cursor={}", last.cursor))
        .await
        .json()
        .await
        .unwrap();
    assert!(page.changes.is_empty() && !page.has_more);
    assert_eq!(page.scope_digest, last.scope_digest);
    assert_eq!(
        error_code(s.get(&t, "/sync/pull?cursor=garbage").await)
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        error_code(s.get(&t, "/sync/pull?limit=-3").await).await.0,
        StatusCode::BAD_REQUEST
    );
    let r = s
        .http
        .get(format!("{}/sync/pull", s.base))
        .bearer_auth(&t)
        .header(PROTOCOL_HEADER, "2")
        .send()
        .await
        .unwrap();
    let (status, code) = error_code(r).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::UPGRADE_REQUIRED, "unsupported_protocol")
    );

    // The office moves the worker to grid 3: the old cursor is refused, the new scope pulled.
    let store = s.store();
    let phone = s.account(Role::GridWorker).phone.clone();
    let g3 = demo().grids[2].id.0;
    store
        .admin(|tx| admin::reassign(tx, &phone, Role::GridWorker, Some(g3), None))
        .unwrap();
    let r = s
        .get(&t, &format!("/sync/pull?cursor={}", last.cursor))
        .await;
    assert_eq!(
        error_code(r).await,
        (StatusCode::CONFLICT, "scope_changed".into())
    );
    let (changes, _) = s.pull_all(&t, None).await;
    assert!(
        changes
            .iter()
            .filter(|c| c.entity == Entity::Household)
            .all(|c| c.data["grid_id"] == json!(g3))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_applies_once_even_across_a_restart() {
    let mut s = Server::start().await;
    let t = s.login(Role::GridWorker, "w").await;
    let (_, head) = s.pull_all(&t, None).await;
    let h = household_in(0);
    let m = visit(h.id.0);
    let first = s.push_ok(&t, "w", std::slice::from_ref(&m)).await;
    assert_eq!(first[0].status, PushStatus::Applied);
    let seq = first[0].seq.unwrap();
    let again = s.push_ok(&t, "w", std::slice::from_ref(&m)).await;
    assert_eq!(
        (again[0].status, again[0].seq),
        (PushStatus::Duplicate, Some(seq))
    );
    let before = s.dump();
    s.restart().await;
    let after_restart = s.push_ok(&t, "w", std::slice::from_ref(&m)).await;
    assert_eq!(
        (after_restart[0].status, after_restart[0].seq),
        (PushStatus::Duplicate, Some(seq))
    );
    assert_eq!(s.dump(), before, "a duplicate changes nothing");
    // The visit and the household's new last visit come down to every device of the scope.
    let (changes, _) = s.pull_all(&t, Some(&head.cursor)).await;
    assert!(changes.iter().any(|c| {
        c.entity == Entity::Visit
            && c.id
                == m.data["visit_id"]
                    .as_str()
                    .unwrap()
                    .parse::<uuid::Uuid>()
                    .unwrap()
    }));
    let hh = changes
        .iter()
        .find(|c| c.entity == Entity::Household)
        .unwrap();
    assert_eq!(hh.id, h.id.0);
    assert!(hh.data["last_visit_at"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_scope_bad_and_unknown_mutations_fail_alone() {
    let s = Server::start().await;
    let t = s.login(Role::GridWorker, "w").await;
    let before = s.dump();
    let foreign = visit(household_in(3).id.0);
    let r = s.push_ok(&t, "w", &[foreign]).await;
    assert_eq!(
        (r[0].status, r[0].error.as_ref().unwrap().code.as_str()),
        (PushStatus::Rejected, "forbidden")
    );
    assert_eq!(
        s.dump(),
        before,
        "a mutation outside the scope changes nothing"
    );

    let good1 = visit(household_in(0).id.0);
    let mut bad = visit(household_in(0).id.0);
    bad.data["outcome"] = json!("maybe");
    let unknown = mutation("parcel.deliver", json!({}));
    let mut missing = visit(uuid::Uuid::now_v7());
    missing.data["household_id"] = json!(uuid::Uuid::now_v7());
    let good2 = visit(household_in(0).id.0);
    let r = s
        .push_ok(&t, "w", &[good1, bad, unknown, missing, good2])
        .await;
    let got: Vec<(PushStatus, Option<&str>)> = r
        .iter()
        .map(|x| (x.status, x.error.as_ref().map(|e| e.code.as_str())))
        .collect();
    assert_eq!(
        got,
        vec![
            (PushStatus::Applied, None),
            (PushStatus::Rejected, Some("invalid")),
            (PushStatus::Rejected, Some("unknown_kind")),
            (PushStatus::Rejected, Some("unknown_record")),
            (PushStatus::Applied, None),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_bodies_get_a_clear_4xx_and_change_nothing() {
    let s = Server::start().await;
    let t = s.login(Role::GridWorker, "w").await;
    let before = s.dump();
    let url = format!("{}/sync/push", s.base);
    let send = |body: String| {
        s.http
            .post(&url)
            .bearer_auth(&t)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let deep = format!(
        "{{\"device_id\": \"w\", \"mutations\": {}{}}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let huge_note = json!({"device_id": "w", "mutations": [visit(household_in(0).id.0)]})
        .to_string()
        .replace("独居老人身体良好", &"长".repeat(5_000_000));
    let too_many = serde_json::to_string(&PushRequest {
        device_id: "w".into(),
        mutations: (0..501).map(|_| visit(household_in(0).id.0)).collect(),
    })
    .unwrap();
    for (body, status) in [
        ("not json".to_string(), StatusCode::BAD_REQUEST),
        (
            "{\"device_id\": 7, \"mutations\": []}".to_string(),
            StatusCode::BAD_REQUEST,
        ),
        ("{\"mutations\": []}".to_string(), StatusCode::BAD_REQUEST),
        (deep, StatusCode::BAD_REQUEST),
        (huge_note, StatusCode::PAYLOAD_TOO_LARGE),
        (too_many, StatusCode::PAYLOAD_TOO_LARGE),
    ] {
        // A refused body is read to its end before the answer goes out, so even a client still
        // writing 15 MB hears the answer, with its error body, instead of a broken pipe.
        let (got, code) = error_code(send(body).await.unwrap()).await;
        assert_eq!(got, status, "{code}");
        assert_ne!(code, "<no error body>");
    }
    // A token of this device used for another device's push.
    let r = s
        .push(&t, "someone-else", &[visit(household_in(0).id.0)])
        .await;
    assert_eq!(error_code(r).await.0, StatusCode::FORBIDDEN);
    assert_eq!(s.dump(), before);
    // Unknown routes and methods answer in the same JSON.
    assert_eq!(
        error_code(s.get(&t, "/nope").await).await,
        (StatusCode::NOT_FOUND, "not_found".into())
    );
    let r = s
        .http
        .patch(format!("{}/sync/push", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(r).await.0, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_phones_resolve_the_same_issue_one_wins_the_other_is_kept_as_a_comment() {
    let s = Server::start().await;
    let d = demo();
    let issue = d
        .issues
        .iter()
        .find(|i| i.grid_id == d.grids[0].id && i.status == IssueStatus::InProgress)
        .unwrap();
    let w = s.login(Role::GridWorker, "w").await;
    let l = s.login(Role::GridLeader, "l").await;
    let resolve = || {
        mutation(
            "issue.event",
            json!({"event_id": uuid::Uuid::now_v7(), "issue_id": issue.id.0, "action": "resolve", "note": "已清理", "photos": []}),
        )
    };
    let a = s.push_ok(&w, "w", &[resolve()]).await;
    assert_eq!(a[0].status, PushStatus::Applied);
    let b = s.push_ok(&l, "l", &[resolve()]).await;
    assert_eq!(b[0].status, PushStatus::Merged);
    assert!(b[0].error.as_ref().unwrap().message.contains("resolved"));
    let (changes, _) = s.pull_all(&l, None).await;
    let events: Vec<_> = changes
        .iter()
        .filter(|c| c.entity == Entity::IssueEvent && c.data["issue_id"] == json!(issue.id.0))
        .collect();
    // The demo's own steps to "in progress", then both resolutions.
    let history = d
        .issue_events
        .iter()
        .filter(|e| e.issue_id == issue.id)
        .count();
    assert_eq!(events.len(), history + 2);
    assert!(events.iter().any(|e| {
        e.data["action"] == "comment"
            && e.data["merged_reason"]
                .as_str()
                .unwrap()
                .starts_with("resolve")
    }));
    let current = changes
        .iter()
        .find(|c| c.entity == Entity::Issue && c.id == issue.id.0)
        .unwrap();
    assert_eq!(current.data["status"], "resolved");
    // A role that may never do it is refused, not merged.
    let p = s.login(Role::PartyMember, "p").await;
    let close = mutation(
        "issue.event",
        json!({"event_id": uuid::Uuid::now_v7(), "issue_id": issue.id.0, "action": "close", "note": "", "photos": []}),
    );
    let r = s.push_ok(&p, "p", &[close]).await;
    assert_eq!(
        (r[0].status, r[0].error.as_ref().unwrap().code.as_str()),
        (PushStatus::Rejected, "forbidden")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn field_edits_converge_by_hlc_and_the_loser_is_in_the_conflict_log() {
    let s = Server::start().await;
    let h = household_in(0);
    let w = s.login(Role::GridWorker, "w").await;
    let l = s.login(Role::GridLeader, "l").await;
    let now = Utc::now().timestamp_millis();
    let patch = |name: &str, hlc: Hlc| Mutation {
        hlc: hlc.to_string(),
        ..mutation(
            "household.patch",
            json!({"id": h.id.0, "fields": {"head_name": name}}),
        )
    };
    // The leader's phone edited later (by HLC) but pushes first; the worker's older edit arrives
    // second and must not win. A phone whose clock runs a year ahead is clamped.
    assert_eq!(
        s.push_ok(&l, "l", &[patch("王新", Hlc::new(now - 1_000, 0))])
            .await[0]
            .status,
        PushStatus::Applied
    );
    assert_eq!(
        s.push_ok(&w, "w", &[patch("王旧", Hlc::new(now - 60_000, 0))])
            .await[0]
            .status,
        PushStatus::Applied
    );
    let (changes, _) = s.pull_all(&w, None).await;
    let current = changes.iter().find(|c| c.id == h.id.0).unwrap();
    assert_eq!(current.data["head_name"], "王新");
    let log: Value = s.get(&l, "/conflicts").await.json().await.unwrap();
    let entry = &log["conflicts"][0];
    assert_eq!(
        (entry["kept_value"].as_str(), entry["lost_value"].as_str()),
        (Some("王新"), Some("王旧"))
    );
    let r = s.get(&w, "/conflicts").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "the log is for leaders");

    let future = patch("未来", Hlc::new(now + 365 * 86_400_000, 0));
    s.push_ok(&w, "w", &[future]).await;
    let fair = patch("现在", Hlc::new(now + 6 * 60_000, 0));
    s.push_ok(&l, "l", &[fair]).await;
    let (changes, _) = s.pull_all(&w, None).await;
    assert_eq!(
        changes.iter().find(|c| c.id == h.id.0).unwrap().data["head_name"],
        "现在",
        "a clock a year ahead does not win for a year"
    );
}

/// A real JPEG of `w` × `h` noisy pixels (tens of kB, so it can be sent in halves).
fn jpeg_of(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        let v = (x.wrapping_mul(7919) ^ y.wrapping_mul(104_729)) as u8;
        image::Rgb([v, v.wrapping_mul(3), x as u8])
    });
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 80)
        .encode_image(&img)
        .unwrap();
    out
}

fn jpeg() -> Vec<u8> {
    jpeg_of(400, 300)
}

/// Upload `bytes` in one piece under their own hash; the error code if refused.
async fn upload(s: &Server, token: &str, bytes: Vec<u8>) -> (StatusCode, String) {
    let name = sha(&bytes);
    let r = s
        .http
        .put(format!("{}/blobs/{name}", s.base))
        .bearer_auth(token)
        .body(bytes)
        .send()
        .await
        .unwrap();
    let refused = error_code(r).await;
    let held = s
        .http
        .head(format!("{}/blobs/{name}", s.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(held, StatusCode::NOT_FOUND, "a refused photo is not kept");
    refused
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_keeps_only_complete_jpegs_of_at_most_1600_px() {
    let s = Server::start().await;
    let w = s.login(Role::GridWorker, "w").await;
    let whole = jpeg();
    // Cut anywhere past its headers: the end-of-image marker is missing.
    for cut in [whole.len() / 2, whole.len() - 1, 200] {
        assert_eq!(
            upload(&s, &w, whole[..cut].to_vec()).await,
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid_photo".into()),
            "cut at {cut}"
        );
    }
    // A real photo of 2000 px: over the contract's long side.
    assert_eq!(
        upload(&s, &w, jpeg_of(2000, 100)).await,
        (StatusCode::UNPROCESSABLE_ENTITY, "photo_too_large".into())
    );
    // A header claiming 50,000 × 50,000: refused from the header, nothing decoded.
    let mut bomb = whole.clone();
    let sof = bomb.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
    bomb[sof + 5..sof + 9].copy_from_slice(&[0xC3, 0x50, 0xC3, 0x50]);
    assert_eq!(
        upload(&s, &w, bomb).await,
        (StatusCode::UNPROCESSABLE_ENTITY, "photo_too_large".into())
    );
    // Anything after the end of the image.
    let mut trailing = whole.clone();
    trailing.extend(b"<?php system($_GET['c']); ?>");
    assert_eq!(
        upload(&s, &w, trailing).await,
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_photo".into())
    );
    // A PNG, however real, is not the contract's photo.
    let mut png = Vec::new();
    image::RgbImage::new(8, 8)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    assert_eq!(
        upload(&s, &w, png).await.0,
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
    // The JPEG magic number followed by noise.
    let mut noise = vec![0xFF, 0xD8, 0xFF, 0xE0];
    noise.extend((0..50_000u32).map(|i| (i % 251) as u8));
    noise.extend([0xFF, 0xD9]);
    assert_eq!(
        upload(&s, &w, noise).await,
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_photo".into())
    );
}

fn sha(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn photos_upload_resume_verify_and_reach_only_their_scope() {
    let s = Server::start().await;
    let w = s.login(Role::GridWorker, "w").await;
    let bytes = jpeg();
    let name = sha(&bytes);
    let url = format!("{}/blobs/{name}", s.base);
    assert_eq!(
        s.http
            .head(&url)
            .bearer_auth(&w)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
    // The first half, then a wrong offset, then the rest.
    let half = bytes.len() / 2;
    let r = s
        .http
        .put(&url)
        .bearer_auth(&w)
        .header(
            "content-range",
            format!("bytes 0-{}/{}", half - 1, bytes.len()),
        )
        .body(bytes[..half].to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    assert_eq!(r.headers()["upload-offset"], half.to_string().as_str());
    let head = s.http.head(&url).bearer_auth(&w).send().await.unwrap();
    assert_eq!(head.headers()["upload-offset"], half.to_string().as_str());
    let r = s
        .http
        .put(&url)
        .bearer_auth(&w)
        .header(
            "content-range",
            format!("bytes 10-{}/{}", half + 9, bytes.len()),
        )
        .body(bytes[10..half + 10].to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(r).await,
        (StatusCode::CONFLICT, "upload_offset".into())
    );
    let r = s
        .http
        .put(&url)
        .bearer_auth(&w)
        .header(
            "content-range",
            format!("bytes {half}-{}/{}", bytes.len() - 1, bytes.len()),
        )
        .body(bytes[half..].to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(
        s.http
            .head(&url)
            .bearer_auth(&w)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );

    // Nobody may read it until a record in their scope references it.
    assert_eq!(
        s.get(&w, &format!("/blobs/{name}")).await.status(),
        StatusCode::FORBIDDEN
    );
    let mut v = visit(household_in(0).id.0);
    v.data["photos"] = json!([name]);
    assert_eq!(
        s.push_ok(&w, "w", &[v]).await[0].status,
        PushStatus::Applied
    );
    let got = s.get(&w, &format!("/blobs/{name}")).await;
    assert_eq!(got.status(), StatusCode::OK);
    assert_eq!(got.bytes().await.unwrap().to_vec(), bytes);
    let pm = s.login(Role::PartyMember, "p").await;
    assert_eq!(
        s.get(&pm, &format!("/blobs/{name}")).await.status(),
        StatusCode::FORBIDDEN
    );

    // Bad uploads.
    let other = jpeg().into_iter().rev().collect::<Vec<_>>();
    let r = s
        .http
        .put(format!("{}/blobs/{}", s.base, sha(&bytes[1..])))
        .bearer_auth(&w)
        .body(other)
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(r).await,
        (StatusCode::UNPROCESSABLE_ENTITY, "hash_mismatch".into())
    );
    let text = b"just some text pretending to be IMG_0001.jpg".to_vec();
    let r = s
        .http
        .put(format!("{}/blobs/{}", s.base, sha(&text)))
        .bearer_auth(&w)
        .body(text)
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(r).await.0, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let big = vec![0xFFu8; 11 * 1024 * 1024];
    let r = s
        .http
        .put(format!("{}/blobs/{}", s.base, sha(&big)))
        .bearer_auth(&w)
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(r).await,
        (StatusCode::PAYLOAD_TOO_LARGE, "too_large".into())
    );
    let r = s
        .http
        .put(format!("{}/blobs/not-a-hash", s.base))
        .bearer_auth(&w)
        .body(vec![1])
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(r).await.0, StatusCode::BAD_REQUEST);
}

/// A body the server refuses is read to its end before the answer goes out: a client still
/// writing hears the refusal instead of a broken pipe (CI once saw a 21 MB base map fail so),
/// and the connection carries on. Proved on one raw connection: an 11 MB photo (over the 10 MB
/// limit) and then a health check, pipelined; both are answered, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_body_is_heard_out_and_the_connection_carries_on() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let s = Server::start().await;
    let w = s.login(Role::GridWorker, "w").await;
    let addr = s
        .base
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_string();
    let big = vec![0xFFu8; 11 * 1024 * 1024];
    let mut wire = format!(
        "PUT {API_BASE}/blobs/{} HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer {w}\r\n\
         content-length: {}\r\n\r\n",
        sha(&big),
        big.len()
    )
    .into_bytes();
    wire.extend_from_slice(&big);
    wire.extend_from_slice(
        format!("GET {API_BASE}/health HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n\r\n")
            .as_bytes(),
    );
    let (mut rx, mut tx) = tokio::net::TcpStream::connect(&addr)
        .await
        .unwrap()
        .into_split();
    // Written beside the reading: a server that answers early must not deadlock the test.
    let writer = tokio::spawn(async move { tx.write_all(&wire).await.map(|()| tx) });
    let mut answers = Vec::new();
    let read = tokio::time::timeout(
        std::time::Duration::from_secs(60),
        rx.read_to_end(&mut answers),
    )
    .await
    .expect("both answers within a minute");
    let answers = String::from_utf8_lossy(&answers);
    let statuses: Vec<&str> = answers
        .match_indices("HTTP/1.1 ")
        .map(|(i, _)| &answers[i + 9..i + 12])
        .collect();
    assert_eq!(statuses, ["413", "200"], "{read:?}\n{answers}");
    assert!(answers.contains("\"too_large\""), "{answers}");
    assert!(writer.await.unwrap().is_ok(), "the whole request was taken");
}

/// Every role × every kind of write × inside and outside its scope, plus the leaders-only
/// conflict log. `true` = applied, `false` = rejected `forbidden` (and nothing changed).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorization_matrix() {
    let s = Server::start().await;
    let d = demo();
    let bl_building = d.user(Role::BuildingLeader).assignments[0]
        .building_id
        .unwrap();
    let in_building = d
        .households
        .iter()
        .find(|h| h.building_id == bl_building)
        .unwrap();
    let same_grid_other_building = d
        .households
        .iter()
        .find(|h| h.grid_id == d.grids[0].id && h.building_id != bl_building)
        .unwrap();
    let far = household_in(3);
    let now = Utc::now();
    let report = |grid: uuid::Uuid, building: Option<uuid::Uuid>| {
        mutation(
            "issue.report",
            json!({
        "issue_id": uuid::Uuid::now_v7(), "grid_id": grid, "building_id": building, "category": "fire_safety",
        "title": "楼道堆放杂物", "description": "", "severity": "medium", "photos": [], "source": "patrol"}),
        )
    };
    let patch = |h: uuid::Uuid| {
        mutation(
            "household.patch",
            json!({"id": h, "fields": {"visit_cadence_days": 14}}),
        )
    };
    let checkin = |grid: uuid::Uuid| {
        mutation(
            "checkin.record",
            json!({"checkin_id": uuid::Uuid::now_v7(), "grid_id": grid, "at": now,
        "location": {"lat": 22.59, "lon": 113.08, "accuracy_m": 10.0}, "verdict": "inside", "boundary_distance_m": 50.0, "mock_location": false}),
        )
    };
    let service = |grid: uuid::Uuid| {
        mutation(
            "service.record",
            json!({"service_id": uuid::Uuid::now_v7(), "grid_id": grid, "title": "清理楼道",
        "at": now, "hours": 1.0, "people_served": 3, "photos": []}),
        )
    };
    let g0 = d.grids[0].id.0;
    let g3 = d.grids[3].id.0;

    type Case<'a> = (&'a str, Box<dyn Fn() -> Mutation + 'a>);
    let cases: Vec<Case> = vec![
        ("visit, own building", Box::new(|| visit(in_building.id.0))),
        (
            "visit, own grid, other building",
            Box::new(|| visit(same_grid_other_building.id.0)),
        ),
        ("visit, other grid", Box::new(|| visit(far.id.0))),
        (
            "report, own building",
            Box::new(move || report(g0, Some(bl_building.0))),
        ),
        ("report, other grid", Box::new(move || report(g3, None))),
        ("patch, own building", Box::new(|| patch(in_building.id.0))),
        ("patch, other grid", Box::new(|| patch(far.id.0))),
        ("check-in, own grid", Box::new(move || checkin(g0))),
        ("check-in, other grid", Box::new(move || checkin(g3))),
        ("service, own grid", Box::new(move || service(g0))),
        ("service, other grid", Box::new(move || service(g3))),
    ];
    // Rows follow `cases`; W worker (grid 1), L leader (grids 1–2), B building leader,
    // P party member (grid 1), A admin (all four grids).
    let expected: [(Role, &str); 5] = [
        (Role::GridWorker, "YYNYNYNYNYN"),
        (Role::GridLeader, "YYNYNYNYNYN"),
        (Role::BuildingLeader, "YNNYNYNYNYN"),
        (Role::PartyMember, "NNNYNNNYNYN"),
        (Role::CommunityAdmin, "YYYYYYYYYYY"),
    ];
    for (role, row) in expected {
        let device = format!("matrix-{}", role.code());
        let token = s.login(role, &device).await;
        for ((name, make), want) in cases.iter().zip(row.chars()) {
            let before = s.dump();
            let r = s.push_ok(&token, &device, &[make()]).await;
            if want == 'Y' {
                assert_eq!(
                    r[0].status,
                    PushStatus::Applied,
                    "{role:?} {name}: {:?}",
                    r[0].error
                );
            } else {
                assert_eq!(
                    (r[0].status, r[0].error.as_ref().map(|e| e.code.as_str())),
                    (PushStatus::Rejected, Some("forbidden")),
                    "{role:?} {name}"
                );
                assert_eq!(s.dump(), before, "{role:?} {name} changed something");
            }
        }
        let conflicts = s.get(&token, "/conflicts").await.status();
        let leader = matches!(role, Role::GridLeader | Role::CommunityAdmin);
        assert_eq!(
            conflicts,
            if leader {
                StatusCode::OK
            } else {
                StatusCode::FORBIDDEN
            },
            "{role:?} conflicts"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removed_households_reach_devices_as_deletes_until_purged() {
    let s = Server::start().await;
    let t = s.login(Role::GridWorker, "w").await;
    let (_, head) = s.pull_all(&t, None).await;
    let h = household_in(0);
    let residents = demo()
        .residents
        .iter()
        .filter(|r| r.household_id == h.id)
        .count();
    let store = s.store();
    let now = Utc::now().timestamp_millis();
    let removed = store
        .admin(|tx| log::remove_household(tx, h.id.0, now))
        .unwrap();
    assert_eq!(removed, residents + 1);

    let (changes, tail) = s.pull_all(&t, Some(&head.cursor)).await;
    let deletes: Vec<_> = changes.iter().filter(|c| c.op == Op::Delete).collect();
    assert_eq!(deletes.len(), residents + 1);
    assert!(
        deletes.iter().all(|c| c.data == json!({"id": c.id})),
        "a tombstone keeps no personal data"
    );
    assert_eq!(tail.scope_count, head.scope_count - (residents as u64 + 1));
    let (fresh, _) = s.pull_all(&t, None).await;
    assert!(
        fresh.iter().all(|c| c.id != h.id.0 && c.op == Op::Upsert),
        "a new device never sees it"
    );

    // Once the tombstones are purged, the old cursor cannot be served incrementally. The
    // household's own tombstone, the log's newest row, stays: new seqs count on from it.
    let purged = store
        .admin(|tx| log::purge_tombstones(tx, now + 1))
        .unwrap();
    assert_eq!(purged, residents);
    assert_eq!(
        error_code(
            s.get(&t, &format!("/sync/pull?cursor={}", head.cursor))
                .await
        )
        .await,
        (StatusCode::CONFLICT, "resync_required".into())
    );
    assert_eq!(
        s.get(&t, &format!("/sync/pull?cursor={}", tail.cursor))
            .await
            .status(),
        StatusCode::OK
    );
    // A cursor past the head comes from another database (a restored backup, a demo seeded
    // afresh): the device starts again rather than keep what this log never held.
    let (epoch, seq) = tail.cursor.split_once('.').unwrap();
    let ahead = format!("{epoch}.{}", seq.parse::<u64>().unwrap() + 1_000);
    assert_eq!(
        error_code(s.get(&t, &format!("/sync/pull?cursor={ahead}")).await).await,
        (StatusCode::CONFLICT, "resync_required".into())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removal_during_a_first_load_still_reaches_the_device() {
    let s = Server::start().await;
    let t = s.login(Role::GridWorker, "w").await;
    let first: PullPage = s
        .get(&t, "/sync/pull?limit=1000")
        .await
        .json()
        .await
        .unwrap();
    assert!(first.has_more);
    let received = first
        .changes
        .iter()
        .find(|c| c.entity == Entity::Household)
        .expect("a household in the first page");
    let store = s.store();
    store
        .admin(|tx| log::remove_household(tx, received.id, Utc::now().timestamp_millis()))
        .unwrap();
    let (rest, _) = s.pull_all(&t, Some(&first.cursor)).await;
    assert!(
        rest.iter()
            .any(|c| c.id == received.id && c.op == Op::Delete),
        "the device drops what it loaded a moment ago"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_whose_last_answer_was_lost_can_be_finished() {
    let s = Server::start().await;
    let w = s.login(Role::GridWorker, "w").await;
    let bytes = jpeg();
    let name = sha(&bytes);
    let url = format!("{}/blobs/{name}", s.base);
    // All bytes held as a partial upload, not yet verified (the server was cut off right after
    // storing the last part).
    std::fs::write(
        s.data.path().join("blobs").join("partial").join(&name),
        &bytes,
    )
    .unwrap();
    let head = s.http.head(&url).bearer_auth(&w).send().await.unwrap();
    assert_eq!(head.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        head.headers()["upload-offset"],
        bytes.len().to_string().as_str()
    );
    let r = s
        .http
        .put(&url)
        .bearer_auth(&w)
        .header("content-range", format!("bytes */{}", bytes.len()))
        .body(Vec::new())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(
        s.http
            .head(&url)
            .bearer_auth(&w)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    // Asking to finish what is not all there is refused with where to resume.
    let other = jpeg().into_iter().chain([0u8; 3]).collect::<Vec<_>>();
    let other_name = sha(&other);
    let r = s
        .http
        .put(format!("{}/blobs/{other_name}", s.base))
        .bearer_auth(&w)
        .header("content-range", format!("bytes */{}", other.len()))
        .body(Vec::new())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert_eq!(r.headers()["upload-offset"], "0");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_failure_half_way_through_a_batch_leaves_nothing_half_applied() {
    let s = Server::start().await;
    let t = s.login(Role::GridWorker, "w").await;
    let h = household_in(0);
    let mut batch: Vec<Mutation> = (0..6).map(|_| visit(h.id.0)).collect();
    batch[3].data["notes"] = json!("FAIL-HERE");
    // Fault injection in the real database: the fourth visit's write fails, as a full disk or
    // an I/O error would, after three visits (and their household updates, idempotency rows)
    // of the same batch were already written.
    s.sql(
        "CREATE TRIGGER injected_fault BEFORE INSERT ON records
           WHEN NEW.entity = 'visit' AND json_extract(NEW.data, '$.notes') = 'FAIL-HERE'
         BEGIN SELECT RAISE(ABORT, 'injected disk failure'); END;",
        "CREATE FUNCTION injected_fault() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
           IF NEW.entity = 'visit' AND (NEW.data::jsonb ->> 'notes') = 'FAIL-HERE' THEN
             RAISE EXCEPTION 'injected disk failure';
           END IF;
           RETURN NEW;
         END $$;
         CREATE TRIGGER injected_fault BEFORE INSERT ON records
           FOR EACH ROW EXECUTE FUNCTION injected_fault();",
    );
    let before = s.dump();
    let r = s.push(&t, "w", &batch).await;
    assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "internal");
    assert!(
        !body.to_string().contains("injected"),
        "no database detail reaches the client: {body}"
    );
    assert_eq!(s.dump(), before, "none of the batch is applied");

    // Another device's push right after is unaffected.
    let other = s.login(Role::GridWorker, "w2").await;
    let ok = s.push_ok(&other, "w2", &[visit(h.id.0)]).await;
    assert_eq!(ok[0].status, PushStatus::Applied);

    // The disk recovers; the device retries the same batch: all six apply, once.
    s.sql(
        "DROP TRIGGER injected_fault",
        "DROP TRIGGER injected_fault ON records",
    );
    let results = s.push_ok(&t, "w", &batch).await;
    assert!(
        results.iter().all(|r| r.status == PushStatus::Applied),
        "{results:?}"
    );
    let again = s.push_ok(&t, "w", &batch).await;
    assert!(again.iter().all(|r| r.status == PushStatus::Duplicate));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_by_route_and_carry_no_personal_data() {
    let s = Server::start().await;
    let w = s.login(Role::GridWorker, "w").await;
    let a = s.account(Role::GridWorker);
    let r = s
        .http
        .post(format!("{}/session", s.base))
        .json(&json!({"phone": a.phone, "password": "wrong password!", "device_id": "x", "device_name": "n"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let h = household_in(0);
    s.push_ok(&w, "w", &[visit(h.id.0), visit(h.id.0)]).await;
    let (changes, _) = s.pull_all(&w, None).await;

    // Every answer carries a request id: the client's own, or a new one.
    let r = s
        .http
        .get(format!("{}/health", s.base))
        .header("x-request-id", "device-42-req-7")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-request-id"], "device-42-req-7");
    let r = s.get(&w, "/health").await;
    assert_eq!(r.headers()["x-request-id"].len(), 36, "a UUID");

    let root = s.base.trim_end_matches("/api/v1");
    let r = s.http.get(format!("{root}/metrics")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = r.text().await.unwrap();
    let value = |line: &str| -> f64 {
        text.lines()
            .find_map(|l| l.strip_prefix(line).map(|v| v.trim().parse().unwrap()))
            .unwrap_or_else(|| panic!("no {line} in\n{text}"))
    };
    assert_eq!(
        value("gridmate_push_mutations_total{status=\"applied\"}"),
        2.0
    );
    assert_eq!(value("gridmate_login_failures_total"), 1.0);
    assert_eq!(value("gridmate_pull_changes_total"), changes.len() as f64);
    assert_eq!(
        value("gridmate_http_requests_total{route=\"/api/v1/sync/push\",status=\"200\"}"),
        1.0
    );
    assert_eq!(
        value("gridmate_http_requests_total{route=\"/api/v1/session\",status=\"401\"}"),
        1.0
    );
    assert_eq!(
        value("gridmate_http_request_duration_seconds_count{route=\"/api/v1/sync/push\"}"),
        1.0
    );
    assert_eq!(value("gridmate_pushes_in_flight"), 0.0);
    // Route templates only: no phone, token, id or hash becomes a label.
    assert!(!text.contains(&a.phone));
    assert!(!text.contains(&w));
    assert!(!text.contains(&h.id.0.to_string()));
    assert!(text.contains("route=\"/api/v1/health\""));
}

/// 群众点单、社区派单、党员接单: a worker records a request, the leader dispatches it to the
/// grid, the party member and the worker both take it offline (one wins, the other is kept as a
/// comment), the member does it and logs the service linked to it, the worker records the
/// resident's feedback. Every step is a mutation through the one push path.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_goes_round_the_loop_and_is_taken_once() {
    let s = Server::start().await;
    let d = demo();
    let (w, l, p) = (
        s.login(Role::GridWorker, "w").await,
        s.login(Role::GridLeader, "l").await,
        s.login(Role::PartyMember, "p").await,
    );
    let household = household_in(0);
    let order_id = uuid::Uuid::now_v7();
    let create = mutation(
        "order.create",
        json!({"order_id": order_id, "grid_id": household.grid_id.0, "household_id": household.id.0,
               "kind": "errand", "source": "visit", "title": "代取慢性病药品",
               "description": "每月15日去社区医院", "requester": household.head_name}),
    );
    let r = s.push_ok(&w, "w", std::slice::from_ref(&create)).await;
    assert_eq!(r[0].status, PushStatus::Applied, "{:?}", r[0].error);
    // The same push again applies nothing new.
    let again = s.push_ok(&w, "w", &[create]).await;
    assert_eq!(again[0].status, PushStatus::Duplicate);
    let step = |action: &str, extra: Value| {
        let mut data = json!({"event_id": uuid::Uuid::now_v7(), "order_id": order_id,
                              "action": action, "note": "好的"});
        for (k, v) in extra.as_object().unwrap() {
            data[k] = v.clone();
        }
        mutation("order.event", data)
    };
    // Party members record no requests; only the office side dispatches.
    let refused = s.push_ok(&p, "p", &[step("dispatch", json!({}))]).await;
    assert_eq!(refused[0].error.as_ref().unwrap().code, "forbidden");
    let r = s.push_ok(&l, "l", &[step("dispatch", json!({}))]).await;
    assert_eq!(r[0].status, PushStatus::Applied);
    // Dispatching to someone not registered with the grid (a building leader is registered with
    // a building) is refused.
    let stranger = s
        .push_ok(
            &l,
            "l",
            &[step(
                "dispatch",
                json!({"assignee_id": d.user(Role::BuildingLeader).user.id.0}),
            )],
        )
        .await;
    assert_eq!(stranger[0].error.as_ref().unwrap().code, "invalid");
    let to_member = json!({"assignee_id": d.user(Role::PartyMember).user.id.0});
    let r = s.push_ok(&l, "l", &[step("dispatch", to_member)]).await;
    assert_eq!(r[0].status, PushStatus::Applied);
    let open_again = s.push_ok(&l, "l", &[step("dispatch", json!({}))]).await;
    assert_eq!(open_again[0].status, PushStatus::Applied);

    let member_take = s.push_ok(&p, "p", &[step("take", json!({}))]).await;
    assert_eq!(member_take[0].status, PushStatus::Applied);
    let worker_take = s.push_ok(&w, "w", &[step("take", json!({}))]).await;
    assert_eq!(worker_take[0].status, PushStatus::Merged);
    // Only the taker marks it done.
    let not_yours = s.push_ok(&w, "w", &[step("done", json!({}))]).await;
    assert_eq!(not_yours[0].status, PushStatus::Merged);
    let service = mutation(
        "service.record",
        json!({"service_id": uuid::Uuid::now_v7(), "grid_id": household.grid_id.0,
               "order_id": order_id, "title": "代取药品", "at": Utc::now(), "hours": 1.5,
               "people_served": 1}),
    );
    let r = s
        .push_ok(&p, "p", &[step("done", json!({})), service])
        .await;
    assert!(r.iter().all(|r| r.status == PushStatus::Applied), "{r:?}");
    let no_feedback = s.push_ok(&w, "w", &[step("confirm", json!({}))]).await;
    assert_eq!(no_feedback[0].error.as_ref().unwrap().code, "invalid");
    let r = s
        .push_ok(
            &w,
            "w",
            &[step("confirm", json!({"satisfaction": "satisfied"}))],
        )
        .await;
    assert_eq!(r[0].status, PushStatus::Applied);

    // The member sees the order, its steps and the departments, and no household.
    let (pc, last) = s.pull_all(&p, None).await;
    assert_eq!(digest_of(&pc), last.scope_digest);
    let order = pc
        .iter()
        .find(|c| c.entity == Entity::Order && c.id == order_id)
        .unwrap();
    assert_eq!(order.data["status"], "confirmed");
    assert_eq!(order.data["satisfaction"], "satisfied");
    assert_eq!(
        order.data["taker_id"],
        json!(d.user(Role::PartyMember).user.id.0)
    );
    assert_eq!(order.data["address"], json!(household.address));
    assert!(order.data.get("assignee_id").is_none(), "open to the grid");
    let steps: Vec<&str> = pc
        .iter()
        .filter(|c| c.entity == Entity::OrderEvent && c.data["order_id"] == json!(order_id))
        .map(|c| c.data["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        [
            "dispatch", "dispatch", "dispatch", "take", "comment", "comment", "done", "confirm"
        ]
    );
    assert_eq!(
        pc.iter().filter(|c| c.entity == Entity::Department).count(),
        d.departments.len()
    );
    assert!(pc.iter().all(|c| c.entity != Entity::Household));
    // Every role gets the departments; the building leader no orders.
    let b = s.login(Role::BuildingLeader, "b").await;
    let (bc, blast) = s.pull_all(&b, None).await;
    assert_eq!(digest_of(&bc), blast.scope_digest);
    assert_eq!(
        bc.iter().filter(|c| c.entity == Entity::Department).count(),
        d.departments.len()
    );
    assert!(bc.iter().all(|c| c.entity != Entity::Order));
    // An order in another grid is out of the member's reach.
    let elsewhere = household_in(3);
    let foreign = mutation(
        "order.create",
        json!({"order_id": uuid::Uuid::now_v7(), "grid_id": elsewhere.grid_id.0,
               "household_id": elsewhere.id.0, "kind": "wish", "source": "desk",
               "title": "x", "description": "", "requester": ""}),
    );
    let r = s.push_ok(&w, "w", &[foreign]).await;
    assert_eq!(r[0].error.as_ref().unwrap().code, "forbidden");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issues_carry_a_due_time_and_escalate_to_a_known_department() {
    let s = Server::start().await;
    let d = demo();
    let w = s.login(Role::GridWorker, "w").await;
    let issue_id = uuid::Uuid::now_v7();
    let report = mutation(
        "issue.report",
        json!({"issue_id": issue_id, "grid_id": d.grids[0].id.0, "category": "fire_safety",
               "title": "楼道堆放电动车", "description": "", "severity": "low", "photos": []}),
    );
    let escalate = |department: uuid::Uuid| {
        mutation(
            "issue.event",
            json!({"event_id": uuid::Uuid::now_v7(), "issue_id": issue_id, "action": "escalate",
                   "note": "需消防站处理", "department_id": department}),
        )
    };
    let r = s
        .push_ok(&w, "w", &[report.clone(), escalate(uuid::Uuid::now_v7())])
        .await;
    assert_eq!(r[0].status, PushStatus::Applied);
    assert_eq!(r[1].error.as_ref().unwrap().code, "unknown_record");
    let fire = &d.departments[2];
    let r = s.push_ok(&w, "w", &[escalate(fire.id.0)]).await;
    assert_eq!(r[0].status, PushStatus::Applied);
    let (changes, _) = s.pull_all(&w, None).await;
    let issue = changes
        .iter()
        .find(|c| c.entity == Entity::Issue && c.id == issue_id)
        .unwrap();
    assert_eq!(issue.data["status"], "escalated");
    assert_eq!(issue.data["department_id"], json!(fire.id.0));
    let due: chrono::DateTime<Utc> = issue.data["due_at"].as_str().unwrap().parse().unwrap();
    let reported = report.recorded_at;
    assert_eq!(
        due - reported,
        chrono::Duration::hours(24),
        "fire hazards: a day"
    );
}

/// 流动人口登记: a worker registers a tenant household and its people in the field; the same
/// push again changes nothing; a building leader may do it in their building only; a party
/// member not at all. A moved-out mark is a field patch like any other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_household_and_its_people_are_registered_once_in_scope() {
    let s = Server::start().await;
    let d = demo();
    let w = s.login(Role::GridWorker, "w").await;
    let building = d
        .buildings
        .iter()
        .find(|b| b.grid_id == d.grids[0].id)
        .unwrap();
    let household_id = uuid::Uuid::now_v7();
    let create = mutation(
        "household.create",
        json!({"household_id": household_id, "building_id": building.id.0, "unit": 2,
               "room": "1502", "head_name": "王租户", "tags": ["rental"]}),
    );
    let resident_id = uuid::Uuid::now_v7();
    let person = mutation(
        "resident.create",
        json!({"resident_id": resident_id, "household_id": household_id, "name": "王租户",
               "relation": "户主", "phone": "13912345678"}),
    );
    let r = s.push_ok(&w, "w", &[create.clone(), person.clone()]).await;
    assert!(r.iter().all(|r| r.status == PushStatus::Applied), "{r:?}");
    let again = s.push_ok(&w, "w", &[create, person]).await;
    assert!(again.iter().all(|r| r.status == PushStatus::Duplicate));
    let (changes, _) = s.pull_all(&w, None).await;
    let hh = changes
        .iter()
        .find(|c| c.entity == Entity::Household && c.id == household_id)
        .unwrap();
    assert_eq!(hh.data["grid_id"], json!(d.grids[0].id.0));
    assert!(
        hh.data["address"]
            .as_str()
            .unwrap()
            .ends_with(&format!("{}栋2单元1502", building.number))
    );
    let rec = changes
        .iter()
        .find(|c| c.entity == Entity::Resident && c.id == resident_id)
        .unwrap();
    assert_eq!(rec.data["phone_masked"], "139****5678");
    // Moved out.
    let moved = mutation(
        "resident.patch",
        json!({"id": resident_id, "fields": {"moved_out": true}}),
    );
    assert_eq!(
        s.push_ok(&w, "w", &[moved]).await[0].status,
        PushStatus::Applied
    );
    let bad = mutation(
        "resident.patch",
        json!({"id": resident_id, "fields": {"moved_out": "yes"}}),
    );
    assert_eq!(
        s.push_ok(&w, "w", &[bad]).await[0]
            .error
            .as_ref()
            .unwrap()
            .code,
        "invalid"
    );
    let (changes, _) = s.pull_all(&w, None).await;
    let rec = changes
        .iter()
        .find(|c| c.entity == Entity::Resident && c.id == resident_id)
        .unwrap();
    assert_eq!(rec.data["moved_out"], true);

    // Out of scope: a building leader elsewhere, a party member anywhere.
    let other = d
        .buildings
        .iter()
        .find(|b| Some(b.id) != d.user(Role::BuildingLeader).assignments[0].building_id)
        .unwrap();
    let elsewhere = |building: uuid::Uuid| {
        mutation(
            "household.create",
            json!({"household_id": uuid::Uuid::now_v7(), "building_id": building, "unit": 1,
                   "room": "101", "head_name": "李"}),
        )
    };
    let b = s.login(Role::BuildingLeader, "b").await;
    let r = s.push_ok(&b, "b", &[elsewhere(other.id.0)]).await;
    assert_eq!(r[0].error.as_ref().unwrap().code, "forbidden");
    let own = d.user(Role::BuildingLeader).assignments[0]
        .building_id
        .unwrap();
    let r = s.push_ok(&b, "b", &[elsewhere(own.0)]).await;
    assert_eq!(r[0].status, PushStatus::Applied);
    let p = s.login(Role::PartyMember, "p").await;
    let r = s.push_ok(&p, "p", &[elsewhere(building.id.0)]).await;
    assert_eq!(r[0].error.as_ref().unwrap().code, "forbidden");
    let hostile = mutation(
        "household.create",
        json!({"household_id": uuid::Uuid::now_v7(), "building_id": building.id.0, "unit": 0,
               "room": "<script>", "head_name": ""}),
    );
    assert_eq!(
        s.push_ok(&w, "w", &[hostile]).await[0]
            .error
            .as_ref()
            .unwrap()
            .code,
        "invalid"
    );
}

/// 一键响应: the leader calls the first grid; a member answers and checks in, the server
/// measuring the distance itself; a member may not call anyone; a closed call-up takes no more
/// answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_up_is_answered_checked_in_and_closed() {
    let s = Server::start().await;
    let d = demo();
    let (l, p) = (
        s.login(Role::GridLeader, "l").await,
        s.login(Role::PartyMember, "p").await,
    );
    let b = d
        .buildings
        .iter()
        .find(|b| b.grid_id == d.grids[0].id)
        .unwrap();
    let callup_id = uuid::Uuid::now_v7();
    let call = mutation(
        "callup.create",
        json!({"callup_id": callup_id, "grid_id": d.grids[0].id.0, "roles": ["party_member"],
               "place": "北门", "location": {"lat": b.lat, "lon": b.lon}, "at": Utc::now(),
               "message": "防汛集合"}),
    );
    let by_member = mutation(
        "callup.create",
        json!({"callup_id": uuid::Uuid::now_v7(), "grid_id": d.grids[0].id.0, "roles": [],
               "place": "北门", "at": Utc::now(), "message": "x"}),
    );
    assert_eq!(
        s.push_ok(&p, "p", &[by_member]).await[0]
            .error
            .as_ref()
            .unwrap()
            .code,
        "forbidden"
    );
    assert_eq!(
        s.push_ok(&l, "l", &[call]).await[0].status,
        PushStatus::Applied
    );
    let answer = |answer: &str, location: Value| {
        let mut data = json!({"response_id": uuid::Uuid::now_v7(), "callup_id": callup_id,
                              "answer": answer});
        if !location.is_null() {
            data["location"] = location;
        }
        mutation("callup.respond", data)
    };
    let r = s
        .push_ok(
            &p,
            "p",
            &[
                answer("coming", Value::Null),
                answer("arrived", Value::Null),
                // About 330 m north of the meeting point, 10 m accurate.
                answer(
                    "arrived",
                    json!({"lat": b.lat + 0.003, "lon": b.lon, "accuracy_m": 10.0}),
                ),
            ],
        )
        .await;
    assert_eq!(r[0].status, PushStatus::Applied);
    assert_eq!(
        r[1].error.as_ref().unwrap().code,
        "invalid",
        "arriving needs a fix"
    );
    assert_eq!(r[2].status, PushStatus::Applied);
    // Only the roles called may answer: the worker is not.
    let w = s.login(Role::GridWorker, "w").await;
    assert_eq!(
        s.push_ok(&w, "w", &[answer("coming", Value::Null)]).await[0]
            .error
            .as_ref()
            .unwrap()
            .code,
        "forbidden"
    );
    let (changes, last) = s.pull_all(&l, None).await;
    assert_eq!(last.scope_count as usize, changes.len());
    let arrived = changes
        .iter()
        .find(|c| {
            c.entity == Entity::CallupResponse
                && c.data["answer"] == "arrived"
                && c.data["callup_id"] == json!(callup_id)
        })
        .unwrap();
    let metres = arrived.data["distance_m"].as_f64().unwrap();
    assert!((300.0..=340.0).contains(&metres), "{metres}");
    let close = mutation("callup.close", json!({"callup_id": callup_id}));
    assert_eq!(
        s.push_ok(&l, "l", &[close]).await[0].status,
        PushStatus::Applied
    );
    assert_eq!(
        s.push_ok(&p, "p", &[answer("coming", Value::Null)]).await[0]
            .error
            .as_ref()
            .unwrap()
            .code,
        "closed"
    );
    let (pc, _) = s.pull_all(&p, None).await;
    let closed = pc
        .iter()
        .find(|c| c.entity == Entity::Callup && c.id == callup_id)
        .unwrap();
    assert!(closed.data["closed_at"].is_string());
}

/// 承诺践诺: a member promises in their grid, reports progress and keeps it; nobody else moves
/// it; a kept promise takes no more steps; the grid's members see the public list.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commitment_is_made_moved_only_by_its_member_and_public_to_the_grid() {
    let s = Server::start().await;
    let d = demo();
    let (p, w) = (
        s.login(Role::PartyMember, "p").await,
        s.login(Role::GridWorker, "w").await,
    );
    let id = uuid::Uuid::now_v7();
    let promise = mutation(
        "commitment.create",
        json!({"commitment_id": id, "grid_id": d.grids[0].id.0, "year": 2026,
               "title": "每周帮独居老人买菜", "description": ""}),
    );
    let by_worker = mutation(
        "commitment.create",
        json!({"commitment_id": uuid::Uuid::now_v7(), "grid_id": d.grids[0].id.0,
               "year": 2026, "title": "x", "description": ""}),
    );
    assert_eq!(
        s.push_ok(&w, "w", &[by_worker]).await[0]
            .error
            .as_ref()
            .unwrap()
            .code,
        "forbidden"
    );
    let step = |action: &str, note: &str| {
        mutation(
            "commitment.event",
            json!({"event_id": uuid::Uuid::now_v7(), "commitment_id": id, "action": action,
                   "note": note}),
        )
    };
    let r = s
        .push_ok(
            &p,
            "p",
            &[promise, step("progress", "第一周"), step("fulfil", "")],
        )
        .await;
    assert!(r.iter().all(|r| r.status == PushStatus::Applied), "{r:?}");
    assert_eq!(
        s.push_ok(&p, "p", &[step("drop", "")]).await[0]
            .error
            .as_ref()
            .unwrap()
            .code,
        "illegal_transition"
    );
    assert_eq!(
        s.push_ok(&w, "w", &[step("progress", "代写")]).await[0]
            .error
            .as_ref()
            .unwrap()
            .code,
        "forbidden"
    );
    let (changes, _) = s.pull_all(&p, None).await;
    let c = changes
        .iter()
        .find(|c| c.entity == Entity::Commitment && c.id == id)
        .unwrap();
    assert_eq!(
        (c.data["status"].as_str(), c.data["progress"].as_u64()),
        (Some("fulfilled"), Some(1))
    );
    assert_eq!(
        c.data["user_name"],
        json!(d.user(Role::PartyMember).user.name)
    );
    assert_eq!(
        changes
            .iter()
            .filter(|c| c.entity == Entity::Commitment)
            .count(),
        d.commitments.len() + 1,
        "the grid's public list"
    );
}

/// 巡查: a patrol goes up once with its track; the server measures its length itself, refuses a
/// track too long or out of range, and a link to an issue it does not know.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_patrol_is_recorded_once_with_the_length_the_server_measured() {
    let s = Server::start().await;
    let d = demo();
    let w = s.login(Role::GridWorker, "w").await;
    let b = d
        .buildings
        .iter()
        .find(|b| b.grid_id == d.grids[0].id)
        .unwrap();
    let patrol = |track: Value, issues: Value| {
        mutation(
            "patrol.record",
            json!({"patrol_id": uuid::Uuid::now_v7(), "grid_id": d.grids[0].id.0,
                   "started_at": "2026-11-22T13:00:00Z", "ended_at": "2026-11-22T14:00:00Z",
                   "track": track, "notes": "夜间巡查", "issues": issues}),
        )
    };
    // About 1.1 km north.
    let good = patrol(json!([[b.lon, b.lat], [b.lon, b.lat + 0.01]]), json!([]));
    let r = s.push_ok(&w, "w", std::slice::from_ref(&good)).await;
    assert_eq!(r[0].status, PushStatus::Applied);
    assert_eq!(
        s.push_ok(&w, "w", &[good]).await[0].status,
        PushStatus::Duplicate
    );
    let too_long: Vec<[f64; 2]> = (0..501).map(|i| [b.lon, b.lat + i as f64 * 1e-5]).collect();
    let r = s
        .push_ok(
            &w,
            "w",
            &[
                patrol(json!(too_long), json!([])),
                patrol(json!([[b.lon, 95.0]]), json!([])),
                patrol(json!([]), json!([uuid::Uuid::now_v7()])),
            ],
        )
        .await;
    let codes: Vec<&str> = r
        .iter()
        .map(|r| r.error.as_ref().unwrap().code.as_str())
        .collect();
    assert_eq!(codes, ["invalid", "invalid", "unknown_record"]);
    let (changes, _) = s.pull_all(&w, None).await;
    let p = changes
        .iter()
        .find(|c| c.entity == Entity::Patrol && c.data["notes"] == "夜间巡查")
        .unwrap();
    let metres = p.data["distance_m"].as_f64().unwrap();
    assert!((1100.0..1125.0).contains(&metres), "{metres}");
}

/// One push whose mutations depend on one another is decided as if each were pushed alone, in
/// order: a report and the event on it, the same event twice, two edits of one field (the
/// older stamp loses and is logged), two visits to one household. PostgreSQL holds a push's
/// writes back and sends them together, so this is where its reads of its own writes show.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_that_builds_on_itself_is_decided_in_order() {
    let s = Server::start().await;
    let d = demo();
    let w = s.login(Role::GridWorker, "w").await;
    let l = s.login(Role::GridLeader, "l").await;
    let h = household_in(0);
    let issue_id = uuid::Uuid::now_v7();
    let report = mutation(
        "issue.report",
        json!({"issue_id": issue_id, "grid_id": d.grids[0].id.0, "category": "sanitation",
               "title": "垃圾满溢", "description": "", "severity": "low", "photos": []}),
    );
    let event = |action: &str| {
        mutation(
            "issue.event",
            json!({"event_id": uuid::Uuid::now_v7(), "issue_id": issue_id, "action": action,
                   "note": "在处理", "photos": []}),
        )
    };
    let accept = event("accept");
    let now = Utc::now().timestamp_millis();
    let name = |n: &str, at: i64| Mutation {
        hlc: Hlc::new(at, 0).to_string(),
        ..mutation(
            "household.patch",
            json!({"id": h.id.0, "fields": {"head_name": n}}),
        )
    };
    let (first, second) = (visit(h.id.0), visit(h.id.0));
    let batch = [
        report,
        accept.clone(),
        accept,
        event("start"),
        name("新户主", now - 1_000),
        name("旧户主", now - 60_000),
        first,
        second,
    ];
    let r = s.push_ok(&w, "w", &batch).await;
    let got: Vec<PushStatus> = r.iter().map(|x| x.status).collect();
    assert_eq!(
        got,
        vec![
            PushStatus::Applied,
            PushStatus::Applied,
            PushStatus::Duplicate,
            PushStatus::Applied,
            PushStatus::Applied,
            PushStatus::Applied,
            PushStatus::Applied,
            PushStatus::Applied,
        ],
        "{r:?}"
    );
    assert_eq!(r[1].seq, r[2].seq, "the same event twice is one event");
    let seqs: Vec<u64> = r.iter().map(|x| x.seq.unwrap()).collect();
    assert_eq!(
        seqs[5], seqs[4],
        "the older edit changed nothing: its answer is the record as it stands"
    );
    assert!(
        seqs.windows(2).all(|w| w[0] <= w[1]) && seqs[7] > seqs[6],
        "in order, the second visit after the first: {seqs:?}"
    );

    let (changes, page) = s.pull_all(&w, None).await;
    assert_eq!(digest_of(&changes), page.scope_digest);
    let issue = changes.iter().find(|c| c.id == issue_id).unwrap();
    assert_eq!(issue.data["status"], "in_progress", "{}", issue.data);
    let household = changes.iter().find(|c| c.id == h.id.0).unwrap();
    assert_eq!(household.data["head_name"], "新户主");
    assert!(household.data["last_visit_at"].is_string());
    let log: Value = s.get(&l, "/conflicts").await.json().await.unwrap();
    assert!(
        log["conflicts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["lost_value"] == "旧户主" && c["kept_value"] == "新户主"),
        "{log}"
    );

    let before = s.dump();
    let again = s.push_ok(&w, "w", &batch).await;
    assert!(again.iter().all(|x| x.status == PushStatus::Duplicate));
    assert_eq!(
        again.iter().map(|x| x.seq.unwrap()).collect::<Vec<_>>(),
        seqs
    );
    assert_eq!(s.dump(), before, "a replayed push changes nothing");
}
