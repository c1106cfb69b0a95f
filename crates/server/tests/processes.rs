//! Two `gridmate-server serve` processes on one PostgreSQL behave as one server: pushes through
//! both while a device pulls continuously from one of them, and the device ends with exactly
//! the server's state (a change committed out of seq order would be skipped for ever and show
//! here); a session, its revocation and the login limit hold across the two.
//!
//! Runs when `GRIDMATE_TEST_POSTGRES` names a PostgreSQL server (CI starts one).

mod common;

use common::process::{login, serve};

use chrono::Utc;
use gridmate_demo::{DemoConfig, generate};
use gridmate_model::{Hlc, Role};
use gridmate_protocol::*;
use gridmate_server::postgres::{PostgresStore, scratch_database};
use reqwest::StatusCode;
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Pushers × pushes each; every push is one or two visits.
const PUSHERS: usize = 4;
const PUSHES: usize = 300;

fn visit(household: uuid::Uuid, n: usize) -> Mutation {
    let now = Utc::now();
    Mutation {
        id: uuid::Uuid::now_v7(),
        kind: "visit.record".into(),
        recorded_at: now,
        hlc: Hlc::new(now.timestamp_millis(), 0).to_string(),
        data: json!({
            "visit_id": uuid::Uuid::now_v7(), "household_id": household,
            "started_at": now - chrono::Duration::minutes(10), "ended_at": now,
            "kind": "routine", "outcome": "met", "notes": format!("第{n}次"), "people_served": 1, "photos": []
        }),
    }
}

async fn pull(http: &reqwest::Client, base: &str, token: &str, cursor: Option<&str>) -> PullPage {
    let mut url = format!("{base}/sync/pull?limit=500");
    if let Some(c) = cursor {
        url.push_str(&format!("&cursor={c}"));
    }
    let r = http.get(url).bearer_auth(token).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

/// A device's copy: (entity, id) → seq, from upserts and deletes in page order.
fn apply(copy: &mut HashMap<(Entity, uuid::Uuid), u64>, page: &PullPage) {
    for c in &page.changes {
        match c.op {
            Op::Upsert => copy.insert((c.entity, c.id), c.seq),
            Op::Delete => copy.remove(&(c.entity, c.id)),
        };
    }
}

fn digest(copy: &HashMap<(Entity, uuid::Uuid), u64>) -> String {
    gridmate_protocol::digest::scope_digest(copy.iter().map(|((e, id), seq)| (e.code(), *id, *seq)))
        .1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_processes_on_one_postgres_are_one_server() {
    let Some(base_url) = common::postgres() else {
        eprintln!("skipped: GRIDMATE_TEST_POSTGRES is not set");
        return;
    };
    let (_, url) = scratch_database(&base_url, None).unwrap();
    let d = generate(&DemoConfig::scaled(200));
    let accounts = {
        let store = PostgresStore::open(&url).unwrap();
        gridmate_server::demo::seed(&store, &d).unwrap()
    };
    let worker = accounts
        .iter()
        .find(|a| a.role == Role::GridWorker.code())
        .unwrap();
    let grid: uuid::Uuid = worker.grids[0].parse().unwrap();
    let households: Vec<uuid::Uuid> = d
        .households
        .iter()
        .filter(|h| h.grid_id.0 == grid)
        .map(|h| h.id.0)
        .collect();
    let dirs = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (_a, a) = serve(Some(&url), dirs.0.path(), &[], &[]).await;
    let (_b, b) = serve(Some(&url), dirs.1.path(), &[], &[]).await;
    let http = reqwest::Client::new();

    // One session, valid on both processes.
    let r = login(&http, &a, &worker.phone, &worker.password, "pusher").await;
    assert_eq!(r.status(), StatusCode::OK);
    let token = r.json::<LoginResponse>().await.unwrap().token;
    let r = login(&http, &b, &worker.phone, &worker.password, "puller").await;
    let puller = r.json::<LoginResponse>().await.unwrap().token;

    // Pushers alternate between the processes while the puller pulls from B without pause.
    let done = Arc::new(AtomicBool::new(false));
    let mut pushers = Vec::new();
    for p in 0..PUSHERS {
        let (http, token, a, b, households) = (
            http.clone(),
            token.clone(),
            a.clone(),
            b.clone(),
            households.clone(),
        );
        pushers.push(tokio::spawn(async move {
            let mut applied = 0;
            for n in 0..PUSHES {
                let base = if (n + p) % 2 == 0 { &a } else { &b };
                let batch: Vec<Mutation> = (0..1 + n % 2)
                    .map(|k| visit(households[(n + k + p) % households.len()], n))
                    .collect();
                let r = http
                    .post(format!("{base}/sync/push"))
                    .bearer_auth(&token)
                    .json(&PushRequest {
                        device_id: "pusher".into(),
                        mutations: batch,
                    })
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), StatusCode::OK, "push {n} of pusher {p}");
                let results = r.json::<PushResponse>().await.unwrap().results;
                assert!(
                    results.iter().all(|r| r.status == PushStatus::Applied),
                    "{results:?}"
                );
                applied += results.len();
            }
            applied
        }));
    }
    let puller_task = {
        let (http, b, puller, done) = (http.clone(), b.clone(), puller.clone(), done.clone());
        tokio::spawn(async move {
            let mut copy = HashMap::new();
            let mut cursor: Option<String> = None;
            let mut pages = 0;
            loop {
                let finishing = done.load(Ordering::SeqCst);
                let page = pull(&http, &b, &puller, cursor.as_deref()).await;
                apply(&mut copy, &page);
                cursor = Some(page.cursor.clone());
                pages += 1;
                if finishing && !page.has_more {
                    return (copy, page, pages);
                }
            }
        })
    };
    let mut applied = 0;
    for p in pushers {
        applied += p.await.unwrap();
    }
    done.store(true, Ordering::SeqCst);
    let (copy, last, pages) = puller_task.await.unwrap();
    assert!(
        pages > 10,
        "the puller pulled while the pushes ran ({pages} pages)"
    );
    assert_eq!(applied, PUSHERS * PUSHES * 3 / 2);

    // The continuous puller holds exactly what a fresh device gets, and what the server counts.
    let mut fresh = HashMap::new();
    let mut cursor = None;
    loop {
        let page = pull(&http, &a, &puller, cursor.as_deref()).await;
        apply(&mut fresh, &page);
        cursor = Some(page.cursor.clone());
        if !page.has_more {
            break;
        }
    }
    assert_eq!(copy.len() as u64, last.scope_count);
    assert_eq!(
        digest(&copy),
        last.scope_digest,
        "the puller's digest is the server's"
    );
    assert_eq!(copy, fresh, "nothing was skipped");

    // Revoked on A, refused on B.
    let r = http
        .delete(format!("{a}/session"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = http
        .get(format!("{b}/sync/pull"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    // Wrong passwords on A count on B.
    let other = accounts
        .iter()
        .find(|a| a.role == Role::PartyMember.code())
        .unwrap();
    for _ in 0..gridmate_server::store::limiter::MAX_FAILURES {
        let r = login(&http, &a, &other.phone, "wrong password", "x").await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let r = login(&http, &b, &other.phone, &other.password, "x").await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
}
