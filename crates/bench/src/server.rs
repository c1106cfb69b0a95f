//! Benchmarks of the sync service over real HTTP on 127.0.0.1: the initial pull of a
//! 5,000-household scope, push throughput in 500-mutation batches, and latency with 200 devices
//! pushing and pulling at once. The load generator is bounded in count and time and talks only
//! to the loopback server it started.

use crate::{Row, ms, percentile};
use anyhow::{Result, ensure};
use chrono::Utc;
use gridmate_demo::{DemoConfig, generate};
use gridmate_model::{Hlc, Role};
use gridmate_protocol::*;
use gridmate_server::app::AppState;
use gridmate_server::database::Database;
use gridmate_server::routes::router;
use gridmate_server::store::{Backend, admin};
use serde_json::json;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub(crate) struct Running {
    pub(crate) base: String,
    _dir: Option<tempfile::TempDir>,
    pub(crate) http: reqwest::Client,
    households: Vec<uuid::Uuid>,
    /// Households of each grid, in grid order.
    by_grid: Vec<Vec<uuid::Uuid>>,
    pub(crate) data: std::path::PathBuf,
    /// The store it serves, for what a benchmark sets up behind the API's back.
    store: Arc<Database>,
    /// The PostgreSQL database it serves, for a second server on the same records.
    database_url: Option<String>,
}

pub(crate) fn worker_phone(grid: usize) -> String {
    format!("1390001{grid:04}")
}

pub(crate) const PHONE: &str = "13900000001";
pub(crate) const PASSWORD: &str = "bench-password-1";

/// A server with the demo community scaled to `households`: a community admin over every grid
/// (phone `PHONE`), and one grid worker per grid (phones `worker_phone(i)`). On SQLite, or on a
/// fresh database of the PostgreSQL server at `postgres`.
async fn start(households: usize, postgres: Option<&str>) -> Result<Running> {
    start_with(&generate(&DemoConfig::scaled(households)), postgres).await
}

/// The same for a community of any shape.
pub(crate) async fn start_with(
    d: &gridmate_demo::DemoCommunity,
    postgres: Option<&str>,
) -> Result<Running> {
    let dir = tempfile::tempdir()?;
    let url = match postgres {
        Some(server) => Some(gridmate_server::postgres::scratch_database(server, None)?.1),
        None => None,
    };
    let store = Database::open(url.as_deref(), dir.path())?;
    gridmate_server::demo::seed(&store, d)?;
    store.admin(|tx| {
        admin::add_user(
            tx,
            uuid::Uuid::now_v7(),
            PHONE,
            "压测管理员",
            &[Role::CommunityAdmin],
            PASSWORD,
        )?;
        for (i, g) in d.grids.iter().enumerate() {
            admin::assign(tx, PHONE, Role::CommunityAdmin, Some(g.id.0), None)?;
            admin::add_user(
                tx,
                uuid::Uuid::now_v7(),
                &worker_phone(i),
                "压测网格员",
                &[Role::GridWorker],
                PASSWORD,
            )?;
            admin::assign(tx, &worker_phone(i), Role::GridWorker, Some(g.id.0), None)?;
        }
        Ok(())
    })?;
    let mut running = start_on(store, dir.path()).await?;
    running._dir = Some(dir);
    running.database_url = url;
    running.households = d.households.iter().map(|h| h.id.0).collect();
    running.by_grid = d
        .grids
        .iter()
        .map(|g| {
            d.households
                .iter()
                .filter(|h| h.grid_id == g.id)
                .map(|h| h.id.0)
                .collect()
        })
        .collect();
    Ok(running)
}

/// Serve `store` (photos in `dir`) on a loopback port.
pub(crate) async fn start_on(store: Database, dir: &std::path::Path) -> Result<Running> {
    let store = Arc::new(store);
    let state = AppState::new(Database::clone(&store), dir)?;
    // As `gridmate-server serve` runs: open phones are told of each change.
    state.bell.watch(Database::clone(&store));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            router(state).into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await;
    });
    Ok(Running {
        base: format!("http://{addr}/api/v1"),
        data: dir.to_path_buf(),
        store,
        _dir: None,
        // Bytes are measured as they travel: no transparent decompression (the device crate turns
        // it on for the workspace's reqwest).
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .no_gzip()
            .no_zstd()
            .build()?,
        households: Vec::new(),
        by_grid: Vec::new(),
        database_url: None,
    })
}

/// Push `mutations` to the server at `base`; every one must be applied.
async fn push_to(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    device: &str,
    mutations: Vec<Mutation>,
) -> Result<()> {
    let r: PushResponse = http
        .post(format!("{base}/sync/push"))
        .bearer_auth(token)
        .json(&PushRequest {
            device_id: device.into(),
            mutations,
        })
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    ensure!(
        r.results.iter().all(|x| x.status == PushStatus::Applied),
        "a bench mutation was not applied"
    );
    Ok(())
}

impl Running {
    pub(crate) async fn login(&self, device: &str) -> Result<String> {
        self.login_as(PHONE, device).await
    }

    pub(crate) async fn login_as(&self, phone: &str, device: &str) -> Result<String> {
        self.login_at(&self.base, phone, device).await
    }

    /// Sign in at the server at `base` (another server on the same records).
    async fn login_at(&self, base: &str, phone: &str, device: &str) -> Result<String> {
        let r: LoginResponse = self
            .http
            .post(format!("{base}/session"))
            .json(&json!({"phone": phone, "password": PASSWORD, "device_id": device, "device_name": "bench"}))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        Ok(r.token)
    }

    /// Push `mutations`; every one must be applied.
    pub(crate) async fn push(
        &self,
        token: &str,
        device: &str,
        mutations: Vec<Mutation>,
    ) -> Result<()> {
        push_to(&self.http, &self.base, token, device, mutations).await
    }

    /// The changes of `token`'s scope after `cursor`, one page of up to 1,000, records kept as
    /// raw JSON as the phone keeps them: the load generator shares the server's two cores, and
    /// building a JSON tree of every change it never reads took a fifth of them.
    async fn pull_after(&self, token: &str, cursor: &str) -> Result<RawPullPage> {
        Ok(self
            .http
            .get(format!(
                "{}/sync/pull?limit=1000&cursor={cursor}",
                self.base
            ))
            .bearer_auth(token)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?)
    }

    /// Raw bytes of one pull page under an Accept-Encoding, and the page when uncompressed.
    pub(crate) async fn page(
        &self,
        token: &str,
        cursor: Option<&str>,
        limit: u32,
        encoding: &str,
    ) -> Result<(usize, Option<PullPage>)> {
        let q = cursor.map_or(String::new(), |c| format!("&cursor={c}"));
        let r = self
            .http
            .get(format!("{}/sync/pull?limit={limit}{q}", self.base))
            .bearer_auth(token)
            .header("accept-encoding", encoding)
            .send()
            .await?
            .error_for_status()?;
        let bytes = r.bytes().await?;
        let page = if encoding == "identity" {
            Some(serde_json::from_slice(&bytes)?)
        } else {
            None
        };
        Ok((bytes.len(), page))
    }
}

pub(crate) fn visit(household: uuid::Uuid) -> Mutation {
    let now = Utc::now();
    Mutation {
        id: uuid::Uuid::now_v7(),
        kind: "visit.record".into(),
        recorded_at: now,
        hlc: Hlc::new(now.timestamp_millis(), 0).to_string(),
        data: json!({"visit_id": uuid::Uuid::now_v7(), "household_id": household, "started_at": now - chrono::Duration::minutes(10),
                     "ended_at": now, "kind": "routine", "outcome": "met", "notes": "了解家庭情况", "people_served": 1, "photos": []}),
    }
}

/// The 200-device burst alone (`--only burst`), for working on it.
pub fn run_burst(quick: bool) -> Result<Vec<Row>> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    Ok(vec![rt.block_on(burst(if quick { 20 } else { 200 }))?.0])
}

/// Pushing at once on SQLite and on PostgreSQL alone (`--only at-once`), for working on it.
pub fn run_at_once(quick: bool) -> Result<Vec<Row>> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let cluster = crate::postgres::Cluster::start().ok_or_else(|| {
            anyhow::anyhow!("pushing at once compares with PostgreSQL, and none runs here")
        })?;
        let households = if quick { 500 } else { 5_000 };
        let sqlite = start(households, None).await?;
        let pg = start(households, Some(&cluster.url)).await?;
        at_once_rows(&sqlite, &pg, quick).await
    })
}

pub fn run(quick: bool) -> Result<Vec<Row>> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let mut rows = Vec::new();
        let s = start(5_000, None).await?;
        let token = s.login("bench-0").await?;

        // Initial pull of the whole scope, 1,000 changes a page, then the same pages' bytes
        // with gzip and zstd.
        let t = Instant::now();
        let mut cursors = vec![None];
        let mut identity_bytes = 0;
        let mut changes = 0;
        loop {
            let (n, page) = s.page(&token, cursors.last().cloned().flatten().as_deref(), 1000, "identity").await?;
            let page = page.expect("identity pages decode");
            identity_bytes += n;
            changes += page.changes.len();
            if !page.has_more {
                break;
            }
            cursors.push(Some(page.cursor));
        }
        let pull_time = t.elapsed();
        let mut gzip = 0;
        let mut zstd = 0;
        for c in &cursors {
            gzip += s.page(&token, c.as_deref(), 1000, "gzip").await?.0;
            zstd += s.page(&token, c.as_deref(), 1000, "zstd").await?.0;
        }
        rows.push(Row {
            name: format!("initial pull, 5,000-household scope: {changes} changes in {} pages (loopback, incl. JSON decode)", cursors.len()),
            value: format!("{:.0} ms", ms(pull_time)),
            floor: "—".into(),
            ratio: None,
            target: "reported".into(),
            pass: None,
        });
        rows.push(Row {
            name: "initial pull bytes on the wire: identity / gzip / zstd".into(),
            value: format!("{:.1} / {:.2} / {:.2} MB", identity_bytes as f64 / 1e6, gzip as f64 / 1e6, zstd as f64 / 1e6),
            floor: format!("{:.1} MB uncompressed", identity_bytes as f64 / 1e6),
            ratio: Some(zstd as f64 / identity_bytes as f64),
            target: "reported".into(),
            pass: None,
        });

        // Push throughput: batches of 500 visits, on SQLite, then on PostgreSQL beside it.
        let batches = if quick { 2 } else { 10 };
        let rate = push_rate(&s, &token, batches).await?;
        let floor = raw_insert_rate(&s.data, batches * 500)?;
        rows.push(Row {
            name: format!("push throughput, {batches} × 500 visits (each: validate, scope, record, household status, idempotency row)"),
            value: format!("{rate:.0} mutations/s"),
            floor: format!("{floor:.0} rows/s raw INSERT, 500 per transaction"),
            ratio: Some(floor / rate),
            target: "≥ 5,000 /s".into(),
            pass: Some(rate >= 5_000.0),
        });
        if let Some(cluster) = crate::postgres::Cluster::start() {
            let pg = start(if quick { 500 } else { 5_000 }, Some(&cluster.url)).await?;
            let pg_token = pg.login("bench-0").await?;
            let pg_rate = push_rate(&pg, &pg_token, batches).await?;
            rows.push(Row {
                name: format!("push throughput on PostgreSQL (local cluster, same machine), {batches} × 500 visits"),
                value: format!("{pg_rate:.0} mutations/s"),
                floor: format!("{rate:.0} mutations/s on SQLite, the row above"),
                ratio: Some(rate / pg_rate),
                target: "≤ 2× SQLite".into(),
                pass: Some(rate / pg_rate <= 2.0),
            });
            rows.extend(at_once_rows(&s, &pg, quick).await?);
        }

        let (burst_row, s) = burst(if quick { 20 } else { 200 }).await?;
        rows.push(burst_row);
        rows.push(fleet(&s, if quick { 1_000 } else { 10_000 }, if quick { 10 } else { 60 }).await?);
        Ok(rows)
    })
}

/// `devices` phones, each syncing every 5 minutes (push 2 visits, then pull its grid from its
/// cursor), arrivals open-loop: each sync starts at its slot whether or not earlier ones have
/// been answered, and its latency counts from the slot (so a server falling behind shows as
/// queueing, not as a slower load). `seconds` of the schedule are run. Sessions are written
/// straight into the store: 10,000 Argon2 sign-ins would be the benchmark.
async fn fleet(s: &Arc<Running>, devices: usize, seconds: u64) -> Result<Row> {
    const EVERY_S: f64 = 300.0;
    let grids = s.by_grid.len();
    let store = &s.store;
    let mut tokens = Vec::with_capacity(devices);
    let users: Vec<uuid::Uuid> = store
        .read(move |tx| {
            (0..grids)
                .map(|g| {
                    tx.user_by_phone(&worker_phone(g))?
                        .map(|u| u.id)
                        .ok_or_else(|| {
                            gridmate_server::store::StoreError::Invalid("no worker".into())
                        })
                })
                .collect()
        })
        .await?;
    let mut sessions = Vec::with_capacity(devices);
    for i in 0..devices {
        let (token, hash) = gridmate_server::auth::new_token();
        tokens.push(token);
        sessions.push(gridmate_server::store::sessions::Start {
            user_id: users[i % grids],
            token_hash: hash,
            device_id: format!("fleet-{i}"),
            device_name: "bench".into(),
            ttl: chrono::Duration::days(1),
        });
    }
    store.admin(move |tx| {
        for start in &sessions {
            gridmate_server::store::sessions::start(tx, start, Utc::now())?;
        }
        Ok(())
    })?;
    // Every device starts from its grid's head, as one that synced before.
    let mut heads = Vec::with_capacity(grids);
    for token in tokens.iter().take(grids) {
        let mut cursor: Option<String> = None;
        loop {
            let (_, page) = s.page(token, cursor.as_deref(), 5000, "identity").await?;
            let page = page.expect("identity pages decode");
            cursor = Some(page.cursor);
            if !page.has_more {
                break;
            }
        }
        heads.push(cursor.unwrap_or_default());
    }
    let rate = devices as f64 / EVERY_S;
    let syncs = (rate * seconds as f64) as usize;
    let start = tokio::time::Instant::now() + Duration::from_millis(200);
    let mut tasks = Vec::with_capacity(syncs);
    for k in 0..syncs {
        // Device k's slot: evenly spread, so the arrival rate is the fleet's.
        let slot = start + Duration::from_secs_f64(k as f64 / rate);
        let device = (k * 7919) % devices;
        let (s, token, cursor) = (
            s.clone(),
            tokens[device].clone(),
            heads[device % grids].clone(),
        );
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep_until(slot).await;
            let mine = &s.by_grid[device % grids];
            let mutations: Vec<Mutation> = (0..2)
                .map(|j| visit(mine[(device + j * 13) % mine.len()]))
                .collect();
            s.push(&token, &format!("fleet-{device}"), mutations)
                .await?;
            s.pull_after(&token, &cursor).await?;
            anyhow::Ok(slot.elapsed())
        }));
    }
    let mut latencies = Vec::with_capacity(syncs);
    for t in tasks {
        latencies.push(t.await??);
    }
    let p99 = percentile(&mut latencies, 0.99);
    let p50 = percentile(&mut latencies, 0.5);
    Ok(Row {
        name: format!(
            "{devices} devices each syncing every 5 min, open loop ({rate:.0} syncs/s for {seconds} s: push 2 visits, pull the grid since its cursor; {syncs} syncs, p50 {:.0} ms), latency from each sync's slot",
            ms(p50)
        ),
        value: format!("p99 {:.0} ms", ms(p99)),
        floor: "—".into(),
        ratio: None,
        target: "p99 < 250 ms at the fleet's rate".into(),
        pass: Some(ms(p99) < 250.0),
    })
}

/// Visits in each push of [`pushing_at_once`].
const AT_ONCE_VISITS: usize = 20;

/// The same pushes at once on SQLite, on PostgreSQL through one server and through two servers
/// on one database, taken in turns ([`AT_ONCE_TURNS`] times) so that the machine's drift over a
/// minute falls on all three alike; each is reported by its median turn. A single turn of each
/// put PostgreSQL's p99 anywhere from 1.4× to 2.2× SQLite's on this box.
async fn at_once_rows(sqlite: &Running, pg: &Running, quick: bool) -> Result<Vec<Row>> {
    let (phones, rounds) = if quick { (10, 3) } else { (50, 10) };
    let turns = if quick { 1 } else { AT_ONCE_TURNS };
    // A second server on the same database: its own pool, sessions and limiter state, sharing
    // only PostgreSQL, as a second process would (in this process, so that both runs share the
    // same two cores in the same way).
    let url = pg
        .database_url
        .clone()
        .expect("the PostgreSQL server keeps its URL");
    let photos = tempfile::tempdir()?;
    let second = start_on(Database::open(Some(&url), photos.path())?, photos.path()).await?;
    let on_sqlite = at_once_phones(sqlite, std::slice::from_ref(&sqlite.base), phones).await?;
    let on_one = at_once_phones(pg, std::slice::from_ref(&pg.base), phones).await?;
    let on_two = at_once_phones(pg, &[pg.base.clone(), second.base.clone()], phones).await?;
    let (mut lite, mut one, mut two) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..turns {
        lite.push(pushing_at_once(sqlite, &on_sqlite, rounds).await?);
        one.push(pushing_at_once(pg, &on_one, rounds).await?);
        two.push(pushing_at_once(pg, &on_two, rounds).await?);
    }
    let [lite_m, one_m, two_m] = [&lite, &one, &two].map(|runs| median_by_p99(runs));
    let at_once = |servers: &str| {
        format!(
            "{phones} phones pushing at once, {rounds} pushes of {AT_ONCE_VISITS} visits each, {servers}, median of {turns} turns taken in turns with SQLite"
        )
    };
    let p99s = |runs: &[AtOnce]| {
        runs.iter()
            .map(|r| format!("{:.0}", ms(r.p99)))
            .collect::<Vec<_>>()
            .join("/")
    };
    Ok(vec![
        Row {
            name: format!(
                "{}: push p99 on PostgreSQL ({:.0} mutations/s; turns {} ms) against SQLite ({:.0} mutations/s; turns {} ms)",
                at_once("one server"),
                one_m.rate,
                p99s(&one),
                lite_m.rate,
                p99s(&lite)
            ),
            value: format!("p99 {:.0} ms", ms(one_m.p99)),
            floor: format!("p99 {:.0} ms on SQLite", ms(lite_m.p99)),
            ratio: Some(ms(one_m.p99) / ms(lite_m.p99)),
            target: "≤ 2× SQLite".into(),
            pass: Some(ms(one_m.p99) <= 2.0 * ms(lite_m.p99)),
        },
        Row {
            name: format!(
                "{}: two servers on one PostgreSQL, phones split between them (p99 {:.0} ms; one server: p99 {:.0} ms)",
                at_once("the same load"),
                ms(two_m.p99),
                ms(one_m.p99)
            ),
            value: format!("{:.0} mutations/s", two_m.rate),
            floor: format!("{:.0} mutations/s through one server", one_m.rate),
            ratio: Some(two_m.rate / one_m.rate),
            target: "reported".into(),
            pass: None,
        },
    ])
}

/// How many times [`at_once_rows`] takes its three runs in turn.
const AT_ONCE_TURNS: usize = 3;

/// One run of [`pushing_at_once`].
#[derive(Clone, Copy)]
struct AtOnce {
    rate: f64,
    p99: Duration,
}

/// The run of median p99 among `runs`.
fn median_by_p99(runs: &[AtOnce]) -> AtOnce {
    let mut sorted = runs.to_vec();
    sorted.sort_by_key(|r| r.p99);
    sorted[sorted.len() / 2]
}

/// `phones` grid workers signed in for [`pushing_at_once`], phone i through the server at
/// `bases[i % bases.len()]` (all serving `s`'s records): each phone's server and token.
async fn at_once_phones(
    s: &Running,
    bases: &[String],
    phones: usize,
) -> Result<Vec<(String, String)>> {
    let grids = s.by_grid.len();
    let mut signed_in = Vec::with_capacity(phones);
    for i in 0..phones {
        let base = &bases[i % bases.len()];
        let token = s
            .login_at(base, &worker_phone(i % grids), &format!("at-once-{i}"))
            .await?;
        signed_in.push((base.clone(), token));
    }
    Ok(signed_in)
}

/// The phones of [`at_once_phones`] pushing at once, each `rounds` pushes of
/// [`AT_ONCE_VISITS`] visits to its grid: mutations per second over the run, and the pushes'
/// p99.
async fn pushing_at_once(
    s: &Running,
    phones: &[(String, String)],
    rounds: usize,
) -> Result<AtOnce> {
    let grids = s.by_grid.len();
    let t = Instant::now();
    let mut tasks = Vec::with_capacity(phones.len());
    for (i, (base, token)) in phones.iter().cloned().enumerate() {
        let http = s.http.clone();
        let mine = s.by_grid[i % grids].clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(rounds);
            for round in 0..rounds {
                let mutations: Vec<Mutation> = (0..AT_ONCE_VISITS)
                    .map(|k| visit(mine[(i * 31 + round * AT_ONCE_VISITS + k) % mine.len()]))
                    .collect();
                let t = Instant::now();
                push_to(&http, &base, &token, &format!("at-once-{i}"), mutations).await?;
                latencies.push(t.elapsed());
            }
            anyhow::Ok(latencies)
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await??);
    }
    Ok(AtOnce {
        rate: (phones.len() * rounds * AT_ONCE_VISITS) as f64 / t.elapsed().as_secs_f64(),
        p99: percentile(&mut all, 0.99),
    })
}

/// Mutations per second through `POST /sync/push`, in batches of 500 visits.
async fn push_rate(s: &Running, token: &str, batches: usize) -> Result<f64> {
    let t = Instant::now();
    for b in 0..batches {
        let mutations: Vec<Mutation> = (0..500)
            .map(|i| visit(s.households[(b * 500 + i) % s.households.len()]))
            .collect();
        s.push(token, "bench-0", mutations).await?;
    }
    Ok((batches * 500) as f64 / t.elapsed().as_secs_f64())
}

/// Rows per second SQLite takes with plain INSERTs, 500 per transaction, on the same disk.
fn raw_insert_rate(dir: &std::path::Path, n: usize) -> Result<f64> {
    let mut conn = rusqlite::Connection::open(dir.join("floor.sqlite"))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.execute_batch("CREATE TABLE t (id TEXT PRIMARY KEY, seq INTEGER UNIQUE, data TEXT)")?;
    let row = visit(uuid::Uuid::now_v7()).data.to_string();
    let t = Instant::now();
    for chunk in 0..n.div_ceil(500) {
        let tx = conn.transaction()?;
        {
            let mut st = tx.prepare_cached("INSERT INTO t VALUES (?1, ?2, ?3)")?;
            for i in 0..500 {
                st.execute(rusqlite::params![
                    uuid::Uuid::now_v7().to_string(),
                    (chunk * 500 + i) as i64,
                    row
                ])?;
            }
        }
        tx.commit()?;
    }
    Ok(n as f64 / t.elapsed().as_secs_f64())
}

/// 200 devices at once, as in a district: grid workers spread over the grids of a
/// 20,000-household deployment, each pushing 5 visits then pulling its grid's changes from its
/// cursor, 3 rounds. The server it ran on comes back for the fleet that follows.
pub(crate) async fn burst(devices: usize) -> Result<(Row, Arc<Running>)> {
    let s = start(20_000, None).await?;
    let grids = s.by_grid.len();
    let mut tokens = Vec::with_capacity(devices);
    let mut cursors = Vec::with_capacity(devices);
    for i in 0..devices {
        let t = s
            .login_as(&worker_phone(i % grids), &format!("dev-{i}"))
            .await?;
        let (_, page) = s.page(&t, None, 1, "identity").await?;
        let mut cursor = page.map(|p| p.cursor).unwrap_or_default();
        // Start at the head of the grid, as a device that has synced before.
        loop {
            let (_, page) = s.page(&t, Some(&cursor), 5000, "identity").await?;
            let page = page.expect("identity pages decode");
            cursor = page.cursor;
            if !page.has_more {
                break;
            }
        }
        tokens.push(t);
        cursors.push(cursor);
    }
    let s = Arc::new(s);
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut tasks = Vec::new();
    for (i, (token, mut cursor)) in tokens.into_iter().zip(cursors).enumerate() {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            for round in 0..3 {
                if Instant::now() > deadline {
                    break;
                }
                let mine = &s.by_grid[i % grids];
                let mutations: Vec<Mutation> = (0..5)
                    .map(|k| visit(mine[(i * 31 + round * 7 + k) % mine.len()]))
                    .collect();
                let t = Instant::now();
                s.push(&token, &format!("dev-{i}"), mutations).await?;
                lat.push(t.elapsed());
                let t = Instant::now();
                let page = s.pull_after(&token, &cursor).await?;
                lat.push(t.elapsed());
                cursor = page.cursor;
            }
            anyhow::Ok(lat)
        }));
    }
    let t = Instant::now();
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await??);
    }
    let wall = t.elapsed();
    let mut pushes: Vec<Duration> = all.iter().step_by(2).copied().collect();
    let mut pulls: Vec<Duration> = all.iter().skip(1).step_by(2).copied().collect();
    let (push99, pull99) = (percentile(&mut pushes, 0.99), percentile(&mut pulls, 0.99));
    let p99 = percentile(&mut all, 0.99);
    let p50 = percentile(&mut all, 0.5);
    let burst_row = Row {
        name: format!(
            "{devices} devices over {grids} grids pushing and pulling at once, load generator on the same 2 cores: {} requests in {:.1} s (p50 {:.0} ms; p99 push {:.0} ms, pull {:.0} ms)",
            all.len(),
            wall.as_secs_f64(),
            ms(p50),
            ms(push99),
            ms(pull99)
        ),
        value: format!("p99 {:.0} ms", ms(p99)),
        floor: "—".into(),
        ratio: None,
        target: "p99 < 250 ms".into(),
        pass: Some(ms(p99) < 250.0),
    };
    Ok((burst_row, s))
}
