//! Reaching people (issue 25), over real HTTP on 127.0.0.1:
//! - **a call-up to 500 people**: 500 urgent messages queued in one transaction (as the call-up
//!   rule queues them), then the courier as a server process runs it, through the Alibaba adapter
//!   to the provider stand-in, which checks every signature; the time until the stand-in holds
//!   all 500, against a floor of the same 500 signed requests sent by the adapter alone, 100 at
//!   a time; and the busiest second's rate against the provider's documented `SendSms` limit
//!   (5,000 per second per account, Alibaba's flow-control table);
//! - **open phones told**: 2,000 wake streams held open on one server, then a visit pushed in
//!   their grid; the time from the push to each stream's `pull` event, p99 over several pushes,
//!   against the same with one phone open.

use crate::{Row, ms, percentile};
use anyhow::{Context, Result, ensure};
use chrono::Utc;
use gridmate_demo::{DemoConfig, generate};
use gridmate_server::database::Database;
use gridmate_server::reach::{Courier, Outgoing, SmsConfig, SmsProvider};
use gridmate_server::store::Backend;
use gridmate_server::store::outbox::{self, Notice};
use gridmate_sms_standin::{Account, StandIn};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Alibaba Cloud SMS's documented `SendSms` flow control, per account and second.
const PROVIDER_LIMIT_PER_SECOND: usize = 5_000;

pub fn run(quick: bool) -> Result<Vec<Row>> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        Ok(vec![
            call_up(500).await?,
            wake(if quick { 200 } else { 2_000 }, if quick { 3 } else { 5 }).await?,
        ])
    })
}

fn account() -> Account {
    let templates = gridmate_server::apply::notices::NOTICES
        .iter()
        .map(|n| {
            // Every notice's parameters by name; the stand-in checks they are all given.
            let names: &[&str] = match *n {
                "callup" | "callup_recall" => &["place", "time"],
                "issue_overdue" => &["number", "title", "due"],
                "household_unseen" => &["address", "days"],
                "leader_digest" => &["date", "overdue", "unseen"],
                "resident_code" => &["code"],
                "resident_update" => &["number", "status"],
                _ => &["number", "title"],
            };
            (
                format!("SMS_{}", n.to_uppercase()),
                names.iter().map(|s| s.to_string()).collect(),
            )
        })
        .collect();
    Account {
        key_id: "LTAI5tBenchKeyId".into(),
        key_secret: "bench-secret-of-thirty-chars!!".into(),
        app_id: "1400007777".into(),
        sign_name: "网格通".into(),
        templates,
    }
}

fn provider(standin: &StandIn) -> Result<Arc<dyn SmsProvider>> {
    let a = account();
    let templates: BTreeMap<String, String> = gridmate_server::apply::notices::NOTICES
        .iter()
        .map(|n| (n.to_string(), format!("SMS_{}", n.to_uppercase())))
        .collect();
    Ok(SmsConfig {
        provider: "aliyun".into(),
        key_id: a.key_id,
        key_secret: a.key_secret,
        sign_name: a.sign_name,
        app_id: None,
        endpoint: Some(standin.aliyun_endpoint()),
        templates,
    }
    .provider()?)
}

fn phone(i: usize) -> String {
    format!("1380013{i:04}")
}

fn notice(key: String, i: usize) -> Notice {
    Notice {
        trigger_key: key,
        recipient_id: uuid::Uuid::now_v7(),
        address: phone(i),
        notice: "callup",
        params: vec![
            ("place".into(), "北门广场".into()),
            ("time".into(), "12月07日18:30".into()),
        ],
        link: "/".into(),
        urgent: true,
        grid_id: None,
    }
}

async fn call_up(people: usize) -> Result<Row> {
    let standin = StandIn::start(account()).await?;
    let sms = provider(&standin)?;

    // The floor: the adapter alone, 100 requests in flight, as the courier sends a batch.
    let floor_started = Instant::now();
    for chunk in (0..people).collect::<Vec<_>>().chunks(100) {
        let mut sending = tokio::task::JoinSet::new();
        for &i in chunk {
            let sms = sms.clone();
            sending.spawn(async move {
                let key = uuid::Uuid::now_v7();
                let params = vec![
                    ("place".to_string(), "北门广场".to_string()),
                    ("time".to_string(), "12月07日18:30".to_string()),
                ];
                let out = Outgoing {
                    key,
                    phone: &phone(i),
                    notice: "callup",
                    params: &params,
                    link: "/",
                    attempt: 1,
                    queued_at_ms: Utc::now().timestamp_millis(),
                };
                sms.send(out).await
            });
        }
        while sending.join_next().await.is_some() {}
    }
    let floor = floor_started.elapsed();
    let sent_by_floor = standin.delivered().len();
    ensure!(
        sent_by_floor == people,
        "the stand-in took {sent_by_floor} of the floor's {people}"
    );

    // The outbox and the courier: queued in one transaction, the courier woken as a push wakes it.
    let dir = tempfile::tempdir()?;
    let store = Database::open(None, dir.path())?;
    let wake = Arc::new(tokio::sync::Notify::new());
    let courier = Courier::new(Database::clone(&store), sms, wake.clone());
    let started = Instant::now();
    store
        .write(move |tx| {
            let now = Utc::now();
            for i in 0..people {
                outbox::queue(tx, notice(format!("bench-callup:{i}"), i), now)?;
            }
            Ok(())
        })
        .await?;
    let queued = started.elapsed();
    let task = courier.spawn();
    wake.notify_one();
    let deadline = Instant::now() + Duration::from_secs(60);
    while standin.delivered().len() < 2 * people {
        ensure!(Instant::now() < deadline, "the courier did not send all");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let took = started.elapsed();
    task.abort();
    // The busiest second of the courier's sending, as the stand-in saw it.
    let mut at: Vec<i64> = standin.delivered()[people..]
        .iter()
        .map(|d| d.at.timestamp_millis())
        .collect();
    at.sort_unstable();
    let busiest = (0..at.len())
        .map(|i| at[i..].partition_point(|t| *t < at[i] + 1_000))
        .max()
        .unwrap_or(0);
    let per_key = standin.per_key();
    ensure!(per_key.values().all(|n| *n == 1), "a message went twice");
    Ok(Row {
        name: format!(
            "a call-up to {people} people: queued in one transaction ({:.0} ms), each handed to the SMS stand-in (Alibaba SendSms, signature checked) by the courier; busiest second {busiest} messages, against the provider's documented {PROVIDER_LIMIT_PER_SECOND}/s",
            ms(queued)
        ),
        value: format!("{:.0} ms", ms(took)),
        floor: format!("{:.0} ms the adapter alone, 100 in flight", ms(floor)),
        ratio: Some(ms(took) / ms(floor).max(0.001)),
        target: format!("all within 5 s, ≤ {PROVIDER_LIMIT_PER_SECOND}/s"),
        pass: Some(took < Duration::from_secs(5) && busiest <= PROVIDER_LIMIT_PER_SECOND),
    })
}

/// `phones` wake streams held open, `rounds` visits pushed; each stream's delay from the push to
/// its `pull`, all rounds together.
async fn told(phones: usize, rounds: usize) -> Result<Vec<Duration>> {
    let d = generate(&DemoConfig::scaled(500));
    // The community admin over every grid holds the streams; grid 0's worker pushes.
    let server = crate::server::start_with(&d, None).await?;
    let base = server.base.clone();
    let http = reqwest::Client::new();
    let leader = server.login("bench-phones").await?;
    let worker = server
        .login_as(&crate::server::worker_phone(0), "bench-worker")
        .await?;
    let (heard, mut hearing) = tokio::sync::mpsc::unbounded_channel::<Instant>();
    let (ready, mut readying) = tokio::sync::mpsc::unbounded_channel::<()>();
    let mut streams = tokio::task::JoinSet::new();
    for _ in 0..phones {
        let (http, base, token) = (reqwest::Client::new(), base.clone(), leader.clone());
        let (heard, ready) = (heard.clone(), ready.clone());
        streams.spawn(async move {
            let Ok(mut r) = http
                .get(format!("{base}/sync/wake"))
                .bearer_auth(&token)
                .send()
                .await
            else {
                return;
            };
            let mut text = String::new();
            while let Ok(Some(chunk)) = r.chunk().await {
                text.push_str(&String::from_utf8_lossy(&chunk));
                while let Some(end) = text.find("\n\n") {
                    let event: String = text.drain(..end + 2).collect();
                    if event.contains("event: ready") {
                        let _ = ready.send(());
                    } else if event.contains("event: pull") {
                        let _ = heard.send(Instant::now());
                    }
                }
            }
        });
    }
    for _ in 0..phones {
        tokio::time::timeout(Duration::from_secs(60), readying.recv())
            .await
            .context("a wake stream did not open")?;
    }
    let household = d
        .households
        .iter()
        .find(|h| h.grid_id == d.grids[0].id)
        .context("a household in grid 0")?
        .id
        .0;
    let mut delays = Vec::with_capacity(phones * rounds);
    // Round 0 warms the connections and the server's caches up: not counted.
    for round in 0..=rounds {
        // Each stream's first pull after a round's push: a stream that was told once for the
        // push may be told again by the watcher's next look, which is not news.
        tokio::time::sleep(Duration::from_millis(1_500)).await;
        while hearing.try_recv().is_ok() {}
        let now = Utc::now();
        let visit = gridmate_protocol::PushRequest {
            device_id: "bench-worker".into(),
            mutations: vec![gridmate_protocol::Mutation {
                id: uuid::Uuid::now_v7(),
                kind: "visit.record".into(),
                recorded_at: now,
                hlc: gridmate_model::Hlc::new(now.timestamp_millis(), 0).to_string(),
                data: serde_json::json!({
                    "visit_id": uuid::Uuid::now_v7(), "household_id": household,
                    "started_at": now - chrono::Duration::minutes(15), "ended_at": now,
                    "kind": "care", "outcome": "met", "notes": format!("压测 {round}"),
                    "people_served": 1, "photos": []
                }),
            }],
        };
        let pushed = Instant::now();
        let r: gridmate_protocol::PushResponse = http
            .post(format!("{base}/sync/push"))
            .bearer_auth(&worker)
            .json(&visit)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        ensure!(
            r.results
                .iter()
                .all(|x| x.status == gridmate_protocol::PushStatus::Applied),
            "the visit was not applied: {:?}",
            r.results
        );
        for _ in 0..phones {
            let at = tokio::time::timeout(Duration::from_secs(30), hearing.recv())
                .await
                .context("a phone was not told within 30 s")?
                .context("the streams ended")?;
            if round > 0 {
                delays.push(at.saturating_duration_since(pushed));
            }
        }
    }
    streams.abort_all();
    Ok(delays)
}

async fn wake(phones: usize, rounds: usize) -> Result<Row> {
    let mut one = told(1, rounds * 10).await?;
    let mut many = told(phones, rounds).await?;
    let floor = percentile(&mut one, 0.99);
    let p99 = percentile(&mut many, 0.99);
    let p50 = percentile(&mut many, 0.5);
    Ok(Row {
        name: format!(
            "open phones told over the wake channel: {phones} streams held on one server, a visit pushed in their grid, {rounds} rounds (p50 {:.0} ms), load generator on the same cores",
            ms(p50)
        ),
        value: format!("p99 {:.0} ms", ms(p99)),
        floor: format!("p99 {:.0} ms with one phone open", ms(floor)),
        ratio: Some(ms(p99) / ms(floor).max(0.001)),
        target: "p99 < 2 s".into(),
        pass: Some(p99 < Duration::from_secs(2)),
    })
}
