//! Test support for end-to-end sync: the real `gridmate-server` on 127.0.0.1 (the demo community
//! seeded once and copied per test), a fault-injecting proxy in front of it, and devices — real
//! stores in temp folders with the real sync client.

#![allow(dead_code)]

pub mod exif;
pub mod proxy;
pub mod webdriver;

use gridmate_demo::{DemoCommunity, DemoConfig, generate};
use gridmate_device::Store;
use gridmate_device::sync::{self, SyncClient, SyncError, SyncReport};
use gridmate_model::Role;
use gridmate_server::app::AppState;
use gridmate_server::demo::{DemoAccount, seed};
use gridmate_server::routes::router;
use gridmate_server::sqlite::SqliteStore;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::OnceLock;

/// The end-to-end runs' community lives in the present, as the demo a user starts does: its
/// history laid out behind this run's start (to the minute), so that the phone's "this month",
/// the board's time limits and the screenshots taken here read as a working community on any
/// day. One moment per test process: every test of the process sees the same community.
pub fn demo_as_of() -> chrono::DateTime<chrono::Utc> {
    use chrono::{DurationRound, TimeDelta};
    static AT: OnceLock<chrono::DateTime<chrono::Utc>> = OnceLock::new();
    *AT.get_or_init(|| {
        chrono::Utc::now()
            .duration_trunc(TimeDelta::minutes(1))
            .unwrap_or_else(|_| chrono::Utc::now())
    })
}

pub fn demo() -> &'static DemoCommunity {
    static D: OnceLock<DemoCommunity> = OnceLock::new();
    D.get_or_init(|| {
        let cfg = DemoConfig {
            as_of: demo_as_of(),
            ..DemoConfig::scaled(3000)
        };
        generate(&cfg).with_callup_under_way(cfg.as_of)
    })
}

#[path = "../../crates/server/tests/common/scratch.rs"]
mod scratch;

struct Template {
    dir: PathBuf,
    accounts: Vec<DemoAccount>,
}

fn template() -> &'static Template {
    static T: OnceLock<Template> = OnceLock::new();
    T.get_or_init(|| {
        let dir = scratch::for_this_process("gridmate-sync-template");
        let store = SqliteStore::open(&dir).unwrap();
        let accounts = seed(&store, demo()).unwrap();
        drop(store);
        Template { dir, accounts }
    })
}

/// The real server on a loopback port, on its own runtime.
pub struct Server {
    pub rt: tokio::runtime::Runtime,
    pub addr: SocketAddr,
    pub data: tempfile::TempDir,
}

impl Server {
    pub fn start() -> Server {
        let data = tempfile::tempdir().unwrap();
        std::fs::copy(
            template().dir.join("gridmate-server.sqlite"),
            data.path().join("gridmate-server.sqlite"),
        )
        .unwrap();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let store = SqliteStore::open(data.path()).unwrap();
        let state = AppState::new(store, data.path()).unwrap();
        // Its courier, as `gridmate-server serve` runs one without SMS credentials.
        let courier = state.courier(std::sync::Arc::new(gridmate_server::reach::LogProvider));
        {
            let _in_runtime = rt.enter();
            courier.spawn();
            state.bell.watch(state.store.clone());
        }
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr = listener.local_addr().unwrap();
        rt.spawn(async move {
            axum::serve(
                listener,
                router(state).into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
            .unwrap();
        });
        Server { rt, addr, data }
    }

    pub fn account(&self, role: Role) -> &'static DemoAccount {
        template()
            .accounts
            .iter()
            .find(|a| a.role == role.code())
            .unwrap()
    }

    /// Operator access to the server's database (assign, revoke, inspect).
    pub fn admin(&self) -> SqliteStore {
        SqliteStore::open(self.data.path()).unwrap()
    }

    /// The server's SQLite file, opened beside it, for a test to inspect.
    pub fn database(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.data.path().join("gridmate-server.sqlite")).unwrap()
    }

    /// How many live records of an entity the server holds with this id.
    pub fn count(&self, entity: &str, id: uuid::Uuid) -> i64 {
        self.database()
            .query_row(
                "SELECT COUNT(*) FROM records WHERE entity = ?1 AND id = ?2 AND deleted = 0",
                [entity, &id.to_string()],
                |r| r.get(0),
            )
            .unwrap()
    }

    pub fn record(&self, entity: &str, id: uuid::Uuid) -> serde_json::Value {
        let data: String = self
            .database()
            .query_row(
                "SELECT data FROM records WHERE entity = ?1 AND id = ?2",
                [entity, &id.to_string()],
                |r| r.get(0),
            )
            .unwrap();
        serde_json::from_str(&data).unwrap()
    }
}

/// A phone: its own store, talking to `addr` (the server or a proxy in front of it).
pub struct Device {
    pub dir: tempfile::TempDir,
    pub store: Store,
    pub client: SyncClient,
}

/// One request per connection, so a proxy fault hits exactly one request.
pub fn client(addr: SocketAddr) -> SyncClient {
    let http = reqwest::blocking::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(std::time::Duration::from_secs(20))
        .build()
        .unwrap();
    SyncClient::with_http(&format!("http://{addr}/api/v1"), http)
}

impl Device {
    pub fn new(addr: SocketAddr) -> Device {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        Device {
            dir,
            store,
            client: client(addr),
        }
    }

    pub fn sign_in(&mut self, server: &Server, role: Role) {
        let a = server.account(role);
        sync::sign_in(
            &mut self.store,
            &self.client,
            &a.phone,
            &a.password,
            "测试手机",
        )
        .unwrap();
    }

    pub fn sync(&mut self) -> Result<SyncReport, SyncError> {
        sync::sync(&mut self.store, &self.client, &mut |_| {})
    }

    /// Sync until a run succeeds (a flaky network), at most `tries` times.
    pub fn sync_until_ok(&mut self, tries: usize) -> SyncReport {
        let mut last = None;
        for _ in 0..tries {
            match self.sync() {
                Ok(r) => return r,
                Err(e) => last = Some(e),
            }
        }
        panic!("no successful sync in {tries} tries: {last:?}");
    }

    pub fn table_count(&self, table: &str) -> i64 {
        let conn = rusqlite::Connection::open(self.dir.path().join("gridmate.sqlite")).unwrap();
        conn.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
            .unwrap()
    }
}

/// A canonical text dump of one grid as a device holds it: every household, resident, visit,
/// issue, issue event, order, order event, call-up answer, patrol, commitment and step on one of
/// the grid, one sorted line each, with the fields users type or see.
pub fn device_dump(device: &Device, grid: uuid::Uuid) -> String {
    let conn = rusqlite::Connection::open(device.dir.path().join("gridmate.sqlite")).unwrap();
    let mut lines: Vec<String> = Vec::new();
    let mut q = |sql: &str| {
        let mut st = conn.prepare(sql).unwrap();
        let rows = st.query_map([grid], |r| r.get::<_, String>(0)).unwrap();
        lines.extend(rows.map(Result::unwrap));
    };
    q(
        "SELECT 'household ' || lower(hex(id)) || ' ' || head_name || ' ' || visit_cadence_days || ' ' || tags FROM households WHERE grid_id = ?1",
    );
    q("SELECT 'visit ' || lower(hex(v.id)) || ' ' || lower(hex(v.household_id)) || ' ' || v.started_at || ' ' || v.outcome || ' ' || v.notes || ' ' || v.photos
         FROM visits v JOIN households h ON h.id = v.household_id WHERE h.grid_id = ?1");
    q(
        "SELECT 'issue ' || lower(hex(id)) || ' ' || status || ' ' || title || ' ' || photos FROM issues WHERE grid_id = ?1",
    );
    q("SELECT 'event ' || lower(hex(e.id)) || ' ' || e.action || ' ' || e.note || ' ' || COALESCE(e.merged_reason, '')
         FROM issue_events e JOIN issues i ON i.id = e.issue_id WHERE i.grid_id = ?1");
    q("SELECT 'resident ' || lower(hex(r.id)) || ' ' || r.name || ' ' || IFNULL(r.phone_masked, '-') || ' ' || r.moved_out
         FROM residents r JOIN households h ON h.id = r.household_id WHERE h.grid_id = ?1");
    q(
        "SELECT 'callup_response ' || lower(hex(r.id)) || ' ' || r.answer
         FROM callup_responses r JOIN callups c ON c.id = r.callup_id WHERE c.grid_id = ?1",
    );
    q("SELECT 'patrol ' || lower(hex(id)) || ' ' || CAST(round(distance_m) AS INTEGER) || ' ' || notes
         FROM patrols WHERE grid_id = ?1");
    q("SELECT 'order ' || lower(hex(id)) || ' ' || status || ' ' || title || ' ' || CASE WHEN assignee IS NULL THEN '-' ELSE lower(hex(assignee)) END || ' ' || CASE WHEN taker IS NULL THEN '-' ELSE lower(hex(taker)) END
         FROM orders WHERE grid_id = ?1");
    q("SELECT 'order_event ' || lower(hex(e.id)) || ' ' || e.action || ' ' || e.note || ' ' || COALESCE(e.merged_reason, '')
         FROM order_events e JOIN orders o ON o.id = e.order_id WHERE o.grid_id = ?1");
    q(
        "SELECT 'commitment ' || lower(hex(id)) || ' ' || status || ' ' || progress || ' ' || title
         FROM commitments WHERE grid_id = ?1",
    );
    q("SELECT 'commitment_event ' || lower(hex(e.id)) || ' ' || e.action || ' ' || e.note || ' ' || e.photos
         FROM commitment_events e JOIN commitments c ON c.id = e.commitment_id WHERE c.grid_id = ?1");
    lines.sort();
    lines.join("\n")
}

/// The same dump, from the server's records.
pub fn server_dump(server: &Server, grid: uuid::Uuid) -> String {
    let conn =
        rusqlite::Connection::open(server.data.path().join("gridmate-server.sqlite")).unwrap();
    let mut st = conn
        .prepare("SELECT entity, data FROM records WHERE deleted = 0 AND grid_id = ?1 AND entity IN ('household', 'resident', 'visit', 'issue', 'issue_event', 'order', 'order_event', 'callup_response', 'patrol', 'commitment', 'commitment_event')")
        .unwrap();
    let hex = |v: &serde_json::Value| v.as_str().unwrap().replace('-', "");
    let ms = |v: &serde_json::Value| {
        v.as_str()
            .unwrap()
            .parse::<chrono::DateTime<chrono::Utc>>()
            .unwrap()
            .timestamp_millis()
    };
    let photos = |v: &serde_json::Value| {
        v.as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap())
            .collect::<Vec<_>>()
            .join(",")
    };
    let mut lines: Vec<String> = st
        .query_map([grid.to_string()], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })
        .unwrap()
        .map(|row| {
            let (entity, data) = row.unwrap();
            let d: serde_json::Value = serde_json::from_str(&data).unwrap();
            match entity.as_str() {
                "household" => format!(
                    "household {} {} {} {}",
                    hex(&d["id"]),
                    d["head_name"].as_str().unwrap(),
                    d["visit_cadence_days"],
                    d["tags"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|t| t.as_str().unwrap())
                        .collect::<Vec<_>>()
                        .join(",")
                ),
                "visit" => format!(
                    "visit {} {} {} {} {} {}",
                    hex(&d["id"]),
                    hex(&d["household_id"]),
                    ms(&d["started_at"]),
                    d["outcome"].as_str().unwrap(),
                    d["notes"].as_str().unwrap(),
                    photos(&d["photos"])
                ),
                "issue" => format!(
                    "issue {} {} {} {}",
                    hex(&d["id"]),
                    d["status"].as_str().unwrap(),
                    d["title"].as_str().unwrap(),
                    photos(&d["photos"])
                ),
                "resident" => format!(
                    "resident {} {} {} {}",
                    hex(&d["id"]),
                    d["name"].as_str().unwrap(),
                    d["phone_masked"].as_str().unwrap_or("-"),
                    i32::from(d["moved_out"].as_bool().unwrap_or(false)),
                ),
                "patrol" => format!(
                    "patrol {} {} {}",
                    hex(&d["id"]),
                    d["distance_m"].as_f64().unwrap().round() as i64,
                    d["notes"].as_str().unwrap()
                ),
                "callup_response" => format!(
                    "callup_response {} {}",
                    hex(&d["id"]),
                    d["answer"].as_str().unwrap()
                ),
                "order" => format!(
                    "order {} {} {} {} {}",
                    hex(&d["id"]),
                    d["status"].as_str().unwrap(),
                    d["title"].as_str().unwrap(),
                    d.get("assignee_id").map_or("-".into(), hex),
                    d.get("taker_id").map_or("-".into(), hex),
                ),
                "commitment" => format!(
                    "commitment {} {} {} {}",
                    hex(&d["id"]),
                    d["status"].as_str().unwrap(),
                    d["progress"],
                    d["title"].as_str().unwrap()
                ),
                "commitment_event" => format!(
                    "commitment_event {} {} {} {}",
                    hex(&d["id"]),
                    d["action"].as_str().unwrap(),
                    d["note"].as_str().unwrap(),
                    photos(&d["photos"])
                ),
                "order_event" => format!(
                    "order_event {} {} {} {}",
                    hex(&d["id"]),
                    d["action"].as_str().unwrap(),
                    d["note"].as_str().unwrap(),
                    d["merged_reason"].as_str().unwrap_or("")
                ),
                _ => format!(
                    "event {} {} {} {}",
                    hex(&d["id"]),
                    d["action"].as_str().unwrap(),
                    d["note"].as_str().unwrap(),
                    d["merged_reason"].as_str().unwrap_or("")
                ),
            }
        })
        .collect();
    lines.sort();
    lines.join("\n")
}

/// Phones signed in as `roles`, each with its scope loaded, talking to `addr`.
pub fn phones(server: &Server, addr: SocketAddr, roles: &[Role]) -> Vec<Device> {
    roles
        .iter()
        .map(|&role| {
            let mut p = Device::new(addr);
            p.sign_in(server, role);
            p.sync().unwrap();
            p
        })
        .collect()
}

/// A real JPEG of `w`×`h` whose pixels depend on `salt`, as a camera would hand over.
pub fn jpeg(w: u32, h: u32, salt: u32, quality: u8) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        let n = (x.wrapping_mul(31) ^ y.wrapping_mul(17) ^ salt.wrapping_mul(2_654_435_761))
            .wrapping_mul(1_103_515_245);
        image::Rgb([(x % 256) as u8, (y % 256) as u8, (n >> 24) as u8])
    });
    let mut raw = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut raw, quality)
        .encode_image(&img)
        .unwrap();
    raw
}
