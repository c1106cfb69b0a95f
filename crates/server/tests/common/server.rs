//! The test server of the API and office tests: the demo community seeded once per process
//! (SQLite file, or PostgreSQL database with `GRIDMATE_TEST_POSTGRES`), each test serving a copy
//! of it over real HTTP on 127.0.0.1, and the helpers that speak to it.

use super::*;
use chrono::Utc;
use gridmate_demo::{DemoCommunity, DemoConfig, generate};
use gridmate_model::{Hlc, Role};
use gridmate_protocol::*;
use gridmate_server::app::AppState;
use gridmate_server::database::Database;
use gridmate_server::demo::{DemoAccount, seed};
use gridmate_server::postgres::{PostgresStore, scratch_database};
use gridmate_server::routes::router;
use gridmate_server::sqlite::SqliteStore;
use gridmate_server::store::outbox::{self, Notice};
use gridmate_server::store::{Backend, MessageFilter, MessageRow};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

pub struct Fixture {
    pub dir: PathBuf,
    /// On PostgreSQL, the seeded database each test's database is copied from.
    pub postgres_template: Option<String>,
    pub accounts: Vec<DemoAccount>,
}

/// The demo community seeded once; each test server starts from a copy of its file (or of its
/// PostgreSQL database).
pub fn template() -> &'static Fixture {
    static T: OnceLock<Fixture> = OnceLock::new();
    T.get_or_init(|| {
        let dir = scratch::for_this_process("gridmate-server-template");
        match postgres() {
            Some(base) => {
                let (name, url) = scratch_database(&base, None).unwrap();
                let store = PostgresStore::open(&url).unwrap();
                let accounts = seed(&store, demo()).unwrap();
                drop(store);
                Fixture {
                    dir,
                    postgres_template: Some(name),
                    accounts,
                }
            }
            None => {
                let store = SqliteStore::open(&dir).unwrap();
                let accounts = seed(&store, demo()).unwrap();
                drop(store);
                Fixture {
                    dir,
                    postgres_template: None,
                    accounts,
                }
            }
        }
    })
}

pub fn demo() -> &'static DemoCommunity {
    static D: OnceLock<DemoCommunity> = OnceLock::new();
    D.get_or_init(|| generate(&DemoConfig::lianhe()))
}

pub struct Server {
    pub base: String,
    pub data: tempfile::TempDir,
    /// This test's PostgreSQL database, when on PostgreSQL.
    pub database: Option<String>,
    pub task: tokio::task::JoinHandle<()>,
    pub http: reqwest::Client,
}

/// A task aborted when this is dropped.
struct StopWith(tokio::task::JoinHandle<()>);

impl Drop for StopWith {
    fn drop(&mut self) {
        self.0.abort();
    }
}

pub async fn start_on(
    data: &Path,
    database: Option<&str>,
) -> (String, tokio::task::JoinHandle<()>) {
    let store = Database::open(database, data).unwrap();
    let state = AppState::new(store, data).unwrap();
    let watcher = StopWith(state.bell.watch(state.store.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        // The wake watcher lives as long as this server (a restart starts another).
        let _watcher = watcher;
        axum::serve(
            listener,
            router(state).into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    (format!("http://{addr}/api/v1"), task)
}

impl Server {
    pub async fn start() -> Server {
        let data = tempfile::tempdir().unwrap();
        let database = match (&template().postgres_template, postgres()) {
            (Some(name), Some(base)) => Some(scratch_database(&base, Some(name)).unwrap().1),
            _ => {
                std::fs::copy(
                    template().dir.join("gridmate-server.sqlite"),
                    data.path().join("gridmate-server.sqlite"),
                )
                .unwrap();
                None
            }
        };
        let (base, task) = start_on(data.path(), database.as_deref()).await;
        Server {
            base,
            data,
            database,
            task,
            http: reqwest::Client::new(),
        }
    }

    /// Stop and start again on the same files.
    pub async fn restart(&mut self) {
        self.task.abort();
        let _ = (&mut self.task).await;
        let (base, task) = start_on(self.data.path(), self.database.as_deref()).await;
        self.base = base;
        self.task = task;
    }

    pub fn account(&self, role: Role) -> &'static DemoAccount {
        template()
            .accounts
            .iter()
            .find(|a| a.role == role.code())
            .unwrap()
    }

    pub async fn login(&self, role: Role, device: &str) -> String {
        let a = self.account(role);
        let r = self
            .http
            .post(format!("{}/session", self.base))
            .json(&json!({"phone": a.phone, "password": a.password, "device_id": device, "device_name": "测试机"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        r.json::<LoginResponse>().await.unwrap().token
    }

    pub async fn get(&self, token: &str, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .header(PROTOCOL_HEADER, "1")
            .send()
            .await
            .unwrap()
    }

    pub async fn post_json(
        &self,
        token: &str,
        path: &str,
        body: serde_json::Value,
    ) -> reqwest::Response {
        self.http
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .header(PROTOCOL_HEADER, "1")
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn push(
        &self,
        token: &str,
        device: &str,
        mutations: &[Mutation],
    ) -> reqwest::Response {
        self.http
            .post(format!("{}/sync/push", self.base))
            .bearer_auth(token)
            .header(PROTOCOL_HEADER, "1")
            .json(&PushRequest {
                device_id: device.into(),
                mutations: mutations.to_vec(),
            })
            .send()
            .await
            .unwrap()
    }

    pub async fn push_ok(
        &self,
        token: &str,
        device: &str,
        mutations: &[Mutation],
    ) -> Vec<PushResult> {
        let r = self.push(token, device, mutations).await;
        assert_eq!(r.status(), StatusCode::OK);
        r.json::<PushResponse>().await.unwrap().results
    }

    /// Every page from the start (or from `cursor`).
    pub async fn pull_all(&self, token: &str, cursor: Option<&str>) -> (Vec<Change>, PullPage) {
        let mut changes = Vec::new();
        let mut cursor = cursor.map(str::to_string);
        loop {
            let q = cursor
                .as_ref()
                .map_or(String::new(), |c| format!("&cursor={c}"));
            let r = self.get(token, &format!("/sync/pull?limit=1000{q}")).await;
            assert_eq!(r.status(), StatusCode::OK);
            let page: PullPage = r.json().await.unwrap();
            changes.extend(page.changes.iter().cloned());
            cursor = Some(page.cursor.clone());
            if !page.has_more {
                return (changes, page);
            }
        }
    }

    /// The store as the office's command line opens it.
    pub fn store(&self) -> Database {
        Database::open(self.database.as_deref(), self.data.path()).unwrap()
    }

    /// Run statements directly on the database, as an operator (or a failing disk) would.
    pub fn sql(&self, sqlite: &str, postgres: &str) {
        match &self.database {
            Some(url) => on_postgres(url, |c| async move { c.batch_execute(postgres).await }),
            None => rusqlite::Connection::open(self.data.path().join("gridmate-server.sqlite"))
                .unwrap()
                .execute_batch(sqlite)
                .unwrap(),
        }
    }

    /// One number from the database (the same SQL on both backends).
    pub fn number(&self, sql: &str) -> i64 {
        match &self.database {
            Some(url) => on_postgres(url, |c| async move {
                c.query_one(sql, &[]).await.map(|r| r.get::<_, i64>(0))
            }),
            None => rusqlite::Connection::open(self.data.path().join("gridmate-server.sqlite"))
                .unwrap()
                .query_row(sql, [], |r| r.get(0))
                .unwrap(),
        }
    }

    /// Queue `notice` straight into the outbox at `at` (the rules' times are arguments, so quiet
    /// hours and a day's cap are tried at the hours they are about).
    pub async fn queue(&self, notice: Notice, at: chrono::DateTime<Utc>) {
        self.store()
            .write(move |tx| outbox::queue(tx, notice, at))
            .await
            .unwrap();
    }

    /// Every message of the outbox, newest first.
    pub async fn messages(&self) -> Vec<MessageRow> {
        self.store()
            .read(|tx| {
                tx.messages(&MessageFilter {
                    limit: 10_000,
                    ..Default::default()
                })
            })
            .await
            .unwrap()
    }

    /// A canonical dump of the database's content, to prove a refused request changed nothing.
    pub fn dump(&self) -> Vec<String> {
        let mut out = Vec::new();
        for table in [
            "records",
            "mutations",
            "field_versions",
            "conflicts",
            "blob_refs",
            "blobs",
            "users",
            "assignments",
        ] {
            let n = self.number(&format!("SELECT COUNT(*) FROM {table}"));
            out.push(format!("{table}:{n}"));
        }
        let max = self.number("SELECT COALESCE(MAX(seq), 0) FROM records");
        let sum = self.number("SELECT COALESCE(SUM(length(data)), 0) FROM records");
        out.push(format!("max_seq:{max} bytes:{sum}"));
        out
    }
}

/// An urgent call-up notice under `key` to a made-up person at `phone`, of no grid; a test sets
/// what it is about over it.
pub fn call_up_notice(key: &str, phone: &str) -> Notice {
    Notice {
        trigger_key: key.into(),
        recipient_id: uuid::Uuid::now_v7(),
        address: phone.into(),
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

pub fn mutation(kind: &str, data: Value) -> Mutation {
    Mutation {
        id: uuid::Uuid::now_v7(),
        kind: kind.into(),
        recorded_at: Utc::now(),
        hlc: Hlc::new(Utc::now().timestamp_millis(), 0).to_string(),
        data,
    }
}

pub fn visit(household: uuid::Uuid) -> Mutation {
    let now = Utc::now();
    mutation(
        "visit.record",
        json!({
            "visit_id": uuid::Uuid::now_v7(), "household_id": household,
            "started_at": now - chrono::Duration::minutes(15), "ended_at": now,
            "kind": "care", "outcome": "met", "notes": "独居老人身体良好", "people_served": 1, "photos": []
        }),
    )
}

pub fn household_in(grid: usize) -> &'static gridmate_model::Household {
    let d = demo();
    d.households
        .iter()
        .find(|h| h.grid_id == d.grids[grid].id)
        .unwrap()
}

/// What a device computes over the records it holds: see `docs/protocol.md`.
pub fn digest_of(changes: &[Change]) -> String {
    let rows: Vec<(String, String, u64)> = changes
        .iter()
        .filter(|c| c.op == Op::Upsert)
        .map(|c| (c.entity.code().to_string(), c.id.to_string(), c.seq))
        .collect();
    gridmate_protocol::digest::scope_digest(
        rows.iter()
            .map(|(e, i, s)| (e.as_str(), i.parse().unwrap(), *s)),
    )
    .1
}

pub async fn error_code(r: reqwest::Response) -> (StatusCode, String) {
    let status = r.status();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    (
        status,
        body["error"]["code"]
            .as_str()
            .unwrap_or("<no error body>")
            .to_string(),
    )
}

/// The console's address, beside the API's.
pub fn console(s: &Server) -> String {
    s.base.trim_end_matches("/api/v1").to_string() + "/console"
}

pub fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

pub async fn console_login(s: &Server, role: Role) -> reqwest::Response {
    let a = s.account(role);
    no_redirects()
        .post(format!("{}/login", console(s)))
        .form(&[
            ("phone", a.phone.as_str()),
            ("password", a.password.as_str()),
        ])
        .send()
        .await
        .unwrap()
}

pub fn session_cookie(r: &reqwest::Response) -> String {
    let set = r.headers()["set-cookie"].to_str().unwrap().to_string();
    set.split(';').next().unwrap().to_string()
}

pub fn csrf_in(html: &str) -> String {
    let at = html
        .find("name=\"csrf\" value=\"")
        .expect("a form with its token")
        + 19;
    html[at..at + 32].to_string()
}
