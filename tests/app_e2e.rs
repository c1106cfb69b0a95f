//! The app end to end, as its users drive it: the real `gridmate-server` (demo community) on
//! 127.0.0.1, the app's real components, store thread and sync worker serving headless Chromium
//! at phone size (Dioxus liveview: the same `App` the desktop build shows), and a cable between
//! app and server that can be unplugged. Each role signs in, syncs, works (offline where it
//! matters), syncs again, and the server is checked for what they did. Screenshots of every
//! screen are saved to `screenshots/e2e/`.

mod support;

use dioxus::prelude::*;
use dioxus_liveview::LiveviewRouter;
use gridmate::platform::{DesktopPlatform, Platform, WebviewPlatform};
use gridmate::shell::App;
use gridmate::state::{Services, Startup};
use gridmate_device::{Store, StoreThread};
use gridmate_model::{GpsFix, Role};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use support::Server;
use support::webdriver::{Browser, available};

/// Chromium is heavy on two cores: one browser at a time.
static ONE_BROWSER: Mutex<()> = Mutex::new(());

/// A TCP cable from the app to the server that can be pulled out: while unplugged, connections
/// are refused, as with no signal at all.
struct Cable {
    addr: SocketAddr,
    plugged: Arc<AtomicBool>,
}

impl Cable {
    fn new(rt: &tokio::runtime::Runtime, upstream: SocketAddr) -> Cable {
        let plugged = Arc::new(AtomicBool::new(true));
        let first = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        first.set_nonblocking(true).unwrap();
        let addr = first.local_addr().unwrap();
        let p = plugged.clone();
        rt.spawn(async move {
            let mut held = Some(tokio::net::TcpListener::from_std(first).unwrap());
            loop {
                let listener = match held.take() {
                    Some(l) => l,
                    None => {
                        if !p.load(Ordering::SeqCst) {
                            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                            continue;
                        }
                        match tokio::net::TcpListener::bind(addr).await {
                            Ok(l) => l,
                            Err(_) => {
                                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                                continue;
                            }
                        }
                    }
                };
                while p.load(Ordering::SeqCst) {
                    let accepted = tokio::time::timeout(
                        std::time::Duration::from_millis(50),
                        listener.accept(),
                    )
                    .await;
                    if let Ok(Ok((mut client, _))) = accepted {
                        let plugged = p.clone();
                        tokio::spawn(async move {
                            if let Ok(mut server) = tokio::net::TcpStream::connect(upstream).await {
                                // Pulling the cable cuts connections already open too (a kept-
                                // alive one would otherwise carry a "offline" sync through).
                                let cut = async {
                                    while plugged.load(Ordering::SeqCst) {
                                        tokio::time::sleep(std::time::Duration::from_millis(20))
                                            .await;
                                    }
                                };
                                tokio::select! {
                                    _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                                    _ = cut => {}
                                }
                            }
                        });
                    }
                }
                // The listener drops here: new connections are refused until plugged again.
            }
        });
        Cable { addr, plugged }
    }

    fn unplug(&self) {
        self.plugged.store(false, Ordering::SeqCst);
        std::thread::sleep(std::time::Duration::from_millis(200));
    }

    fn plug(&self) {
        self.plugged.store(true, Ordering::SeqCst);
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

/// One phone: the app served over liveview from its own data folder.
struct Phone {
    _rt: tokio::runtime::Runtime,
    url: String,
    dir: tempfile::TempDir,
    shots: PathBuf,
    cable: Cable,
    platform: Arc<DesktopPlatform>,
}

impl Phone {
    fn new(server: &Server, role: Role, fix: Option<GpsFix>) -> Phone {
        Phone::serving(server, role, fix, None)
    }

    /// A phone whose platform is the webview's: its position comes from the page.
    fn on_webview(server: &Server, role: Role, web: Arc<WebviewPlatform>) -> Phone {
        Phone::serving(server, role, None, Some(web))
    }

    fn serving(
        server: &Server,
        role: Role,
        fix: Option<GpsFix>,
        web: Option<Arc<WebviewPlatform>>,
    ) -> Phone {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let cable = Cable::new(&rt, server.addr);
        let dir = tempfile::tempdir().unwrap();
        let camera = dir.path().join("camera-roll");
        std::fs::create_dir_all(&camera).unwrap();
        for i in 0..3 {
            std::fs::write(
                camera.join(format!("IMG_{i:04}.jpg")),
                support::jpeg(1200, 900, i + 7, 85),
            )
            .unwrap();
        }
        let store = StoreThread::open(dir.path().join("app")).unwrap();
        let startup = Startup::read(&store).unwrap();
        let platform = Arc::new(DesktopPlatform::new(fix, Some(camera)));
        let services = match web {
            Some(web) => Services::new(store, web),
            None => Services::new(store, platform.clone()),
        };
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        // liveview serves its page under a catch-all path; the app's router takes a URL it does
        // not know to its home screen.
        let url = format!("http://{}/app", listener.local_addr().unwrap());
        let router = axum::Router::new().with_virtual_dom("/", move || {
            VirtualDom::new(App)
                .with_root_context(services.clone())
                .with_root_context(startup.clone())
        });
        rt.spawn(async move {
            axum::serve(listener, router.into_make_service())
                .await
                .unwrap();
        });
        let shots = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("screenshots/e2e")
            .join(role.code());
        std::fs::create_dir_all(&shots).unwrap();
        Phone {
            _rt: rt,
            url,
            dir,
            shots,
            cable,
            platform,
        }
    }

    fn sign_in(&self, b: &Browser, server: &Server, role: Role) {
        let account = server.account(role);
        b.open(&self.url);
        b.wait_text("登录", 20);
        b.screenshot(&self.shots.join("01-sign-in.png"));
        b.type_into("input[name=server]", &format!("http://{}", self.cable.addr));
        b.type_into("input[name=phone]", &account.phone);
        b.type_into("input[name=password]", &account.password);
        b.click("[data-action=sign-in]");
        // The first sync downloads the grid; the sync bar then says when it last synced.
        b.wait_text("上次同步", 60);
    }

    /// The app's own store, opened beside it (WAL) to read what the user did.
    fn store(&self) -> Store {
        Store::open(self.dir.path().join("app")).unwrap()
    }

    fn shot(&self, b: &Browser, name: &str) {
        b.screenshot(&self.shots.join(format!("{name}.png")));
    }
}

fn count_rows(dir: &std::path::Path, sql: &str) -> Vec<uuid::Uuid> {
    let conn = rusqlite::Connection::open(dir.join("app/gridmate.sqlite")).unwrap();
    let mut st = conn.prepare(sql).unwrap();
    st.query_map([], |r| r.get::<_, uuid::Uuid>(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// The demo's "now" in the store's milliseconds: rows after it are the test's, not the demo's
/// history (the party member's year of service and check-ins).
fn demo_now_ms() -> i64 {
    support::demo_as_of().timestamp_millis()
}

fn skip() -> bool {
    if available() {
        return false;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI installs chromium and chromium-driver (scripts/deps.sh)"
    );
    eprintln!("chromium/chromedriver not installed: skipping the browser run");
    true
}

#[test]
fn a_grid_worker_visits_offline_with_a_photo_reports_a_hazard_and_it_all_reaches_the_server() {
    if skip() {
        return;
    }
    let _one = ONE_BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let server = Server::start();
    let fix = support::demo().buildings.first().map(|b| GpsFix {
        lat: b.lat,
        lon: b.lon,
        accuracy_m: 9.0,
        mock_location: false,
    });
    let phone = Phone::new(&server, Role::GridWorker, fix);
    let b = Browser::start();
    phone.sign_in(&b, &server, Role::GridWorker);
    b.wait_text("本月走访", 20);
    phone.shot(&b, "02-home");
    // The grid's base map came with the scope: footprints on the home map, and + zooms in.
    let footprints = |b: &Browser| {
        b.script("return document.querySelectorAll('.grid-map .footprint').length")
            .as_u64()
            .unwrap_or(0)
    };
    let view_width = |b: &Browser| {
        b.script("return document.querySelector('.grid-map').getAttribute('viewBox')")
            .as_str()
            .and_then(|v| v.split(' ').nth(2).and_then(|w| w.parse::<f64>().ok()))
            .unwrap_or(0.0)
    };
    for _ in 0..50 {
        if footprints(&b) > 0 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let in_grid = support::demo()
        .buildings
        .iter()
        .filter(|x| x.grid_id == support::demo().grids[0].id)
        .count() as u64;
    assert_eq!(
        footprints(&b),
        in_grid,
        "one footprint per building of the grid"
    );
    b.script("document.querySelector('.grid-map').scrollIntoView({block: 'center'}); return null");
    phone.shot(&b, "02b-home-map");
    let whole = view_width(&b);
    b.click("[data-action=zoom-in]");
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(view_width(&b) < whole, "zoomed in");
    b.script("window.scrollTo(0, 0); return null");

    // Out of signal: the rest of the work happens offline.
    phone.cable.unplug();
    b.wait_text("离线", 20);
    b.click("[data-tab=Households]");
    b.wait_text("楼栋", 10);
    phone.shot(&b, "03-households");
    b.type_into("input[name=q]", "zs");
    b.wait_text("首字母", 10);
    assert_eq!(
        b.script("return document.querySelector('input[name=q]').value"),
        "zs"
    );
    phone.shot(&b, "04-search");
    b.script("document.querySelector('input[name=q]').value=''; return null");
    b.click("[data-tab=Home]");
    b.click(".due-row");
    b.wait_text("家庭成员", 10);
    phone.shot(&b, "05-household");
    // Its building picked out on the map, close up.
    for _ in 0..50 {
        if b.script("return document.querySelectorAll('.place .footprint.selected').length")
            .as_u64()
            == Some(1)
        {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(
        b.script("return document.querySelectorAll('.place .footprint.selected').length")
            .as_u64(),
        Some(1),
        "the household's building is picked out"
    );
    b.script("document.querySelector('.place').scrollIntoView({block: 'center'}); return null");
    phone.shot(&b, "05c-household-map");
    b.script("window.scrollTo(0, 0); return null");
    // Call the head: the number goes to the platform's dialer, never onto the page.
    b.click("[data-action=call]");
    let dialled = (0..50).find_map(|_| {
        std::thread::sleep(std::time::Duration::from_millis(100));
        phone.platform.dialled().first().cloned()
    });
    let dialled = dialled.expect("the call reached the platform");
    assert_eq!(dialled.len(), 11, "the full number");
    assert!(
        !b.text().contains(&dialled),
        "only the masked number is shown"
    );
    // A tenant moved in with the family: added on the spot, offline.
    b.click("[data-action=add-member]");
    b.wait_text("与户主关系", 10);
    b.type_into("input[name=name]", "李小红");
    b.type_into("input[name=relation]", "租客");
    b.type_into("input[name=phone]", "13912345678");
    b.click("[data-action=save-resident]");
    b.wait_text("李小红", 10);
    phone.shot(&b, "05b-member-added");
    b.click("[data-action=record-visit]");
    b.wait_text("走访结果", 10);
    b.type_into("textarea[name=notes]", "老人独居，血压偏高，需代买降压药");
    b.click("[data-need=resident_need]");
    b.click("[data-action=camera]");
    b.wait_text("1 张", 20);
    phone.shot(&b, "06-record-visit");
    b.click("[data-action=save-visit]");
    b.wait_text("走访已保存", 20);
    phone.shot(&b, "07-visit-saved");

    // A fire hazard in the stairwell, reported from the issue tab, still offline.
    b.click("[data-tab=Issues]");
    b.click("[data-action=report]");
    b.click("[data-category=fire_safety]");
    b.type_into(
        "textarea[name=description]",
        "2单元楼道有电动车充电，私拉电线",
    );
    b.click("[data-action=camera]");
    b.wait_text("待上传", 10);
    phone.shot(&b, "08-report");
    b.click("[data-action=save-report]");
    b.wait_text("处理经过", 20);
    phone.shot(&b, "09-issue");

    let store = phone.store();
    let pending = store.sync_status().unwrap().pending;
    assert_eq!(
        pending, 4,
        "the new member, the visit, its need as an issue, and the hazard: all on the phone"
    );
    drop(store);
    let visits = count_rows(
        phone.dir.path(),
        "SELECT id FROM visits WHERE notes = '老人独居，血压偏高，需代买降压药'",
    );
    let hazards = count_rows(
        phone.dir.path(),
        "SELECT id FROM issues WHERE description = '2单元楼道有电动车充电，私拉电线'",
    );
    assert_eq!((visits.len(), hazards.len()), (1, 1));
    assert_eq!(server.count("visit", visits[0]), 0, "not yet: offline");

    // Signal again: the app notices, syncs, and everything is on the server once.
    phone.cable.plug();
    b.click("[data-tab=Sync]");
    b.wait_text("立即同步", 10);
    b.click("[data-action=sync-now]");
    b.wait_text("全部已上传", 60);
    phone.shot(&b, "10-sync");
    assert_eq!(server.count("visit", visits[0]), 1);
    assert_eq!(server.count("issue", hazards[0]), 1);
    let added = count_rows(
        phone.dir.path(),
        "SELECT id FROM residents WHERE name = '李小红'",
    );
    assert_eq!(
        server.record("resident", added[0])["phone_masked"],
        "139****5678"
    );
    let visit = server.record("visit", visits[0]);
    assert_eq!(visit["photos"].as_array().unwrap().len(), 1);
    let sha = visit["photos"][0].as_str().unwrap();
    let held =
        std::fs::read(server.data.path().join("blobs").join(sha)).expect("the photo went up");
    assert_eq!(
        sha256_hex(&held),
        sha,
        "the server holds the photo the phone took, byte for byte"
    );
}

/// The rest of a worker's day in the field, offline: the call-up on the home screen answered,
/// a patrol walked, a tenant household registered in a building and its tags corrected (an
/// elderly tenant living alone: weekly visits from now on); all of it on the server after one
/// sync.
#[test]
fn a_grid_worker_answers_the_call_up_patrols_and_registers_a_tenant() {
    if skip() {
        return;
    }
    let _one = ONE_BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let server = Server::start();
    let phone = Phone::new(&server, Role::GridWorker, fix_in_grid_of(Role::GridWorker));
    let b = Browser::start();
    phone.sign_in(&b, &server, Role::GridWorker);
    b.wait_text("一键响应", 20);
    phone.cable.unplug();
    b.wait_text("离线", 20);
    phone.shot(&b, "11-callup");
    b.click("[data-callup=coming]");
    b.wait_text("已回复", 10);

    b.click("[data-action=patrol]");
    b.wait_text("巡查中", 10);
    // The platform's fix is sampled every 10 s while the patrol runs.
    std::thread::sleep(std::time::Duration::from_secs(11));
    phone.shot(&b, "12-patrol");
    b.click("[data-action=stop-patrol]");
    b.wait_text("巡查已结束", 10);

    b.click("[data-tab=Households]");
    b.wait_text("楼栋", 10);
    b.click(".building-row");
    b.click("[data-action=register-household]");
    b.wait_text("出租户", 10);
    b.type_into("input[name=unit]", "2");
    b.type_into("input[name=room]", "1702");
    b.type_into("input[name=head_name]", "赵建国");
    b.type_into("input[name=head_phone]", "13688886666");
    b.click("input[name=tenant]");
    phone.shot(&b, "13-register-tenant");
    b.click("[data-action=save-household]");
    b.wait_text("家庭成员", 10);
    b.click("[data-action=edit-household]");
    b.wait_text("走访周期", 10);
    b.click("input[name=tag-elderly_alone]");
    phone.shot(&b, "14-edit-household");
    b.click("[data-action=save-household-edit]");
    b.wait_text("独居老人", 10);
    b.wait_text("待上传", 10);
    phone.shot(&b, "15-household-edited");

    phone.cable.plug();
    sync_now(&phone, &b, "16-sync");
    let registered = count_rows(
        phone.dir.path(),
        "SELECT id FROM households WHERE head_name = '赵建国'",
    );
    assert_eq!(registered.len(), 1);
    let h = server.record("household", registered[0]);
    assert_eq!(h["room"], "1702", "{h}");
    assert_eq!(
        h["tags"],
        serde_json::json!(["elderly_alone", "rental"]),
        "{h}"
    );
    assert_eq!(
        h["visit_cadence_days"], 7,
        "weekly, as the tag calls for: {h}"
    );
    let callup = support::demo().callups[0].id.0;
    let me = support::demo().user(Role::GridWorker).user.id.0;
    let answers = count_rows(
        phone.dir.path(),
        "SELECT id FROM callup_responses WHERE answer = 'coming'",
    );
    let answer = answers
        .iter()
        .map(|id| server.record("callup_response", *id))
        .find(|r| {
            r["user_id"] == serde_json::json!(me) && r["callup_id"] == serde_json::json!(callup)
        })
        .expect("my answer reached the server");
    assert_eq!(answer["callup_id"], serde_json::json!(callup));
    let patrols = count_rows(
        phone.dir.path(),
        &format!(
            "SELECT id FROM patrols WHERE started_at > {}",
            demo_now_ms()
        ),
    );
    assert_eq!(patrols.len(), 1);
    let patrol = server.record("patrol", patrols[0]);
    assert!(
        !patrol["track"].as_array().unwrap().is_empty(),
        "the fix sampled on the way: {patrol}"
    );
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A fix at a building of `role`'s first grid, 5 m accurate.
fn fix_in_grid_of(role: Role) -> Option<GpsFix> {
    let d = support::demo();
    let grid = d.user(role).assignments.iter().find_map(|a| a.grid_id)?;
    let b = d.buildings.iter().find(|b| b.grid_id == grid)?;
    Some(GpsFix {
        lat: b.lat,
        lon: b.lon,
        accuracy_m: 5.0,
        mock_location: false,
    })
}

fn sync_now(phone: &Phone, b: &Browser, shot: &str) {
    b.click("[data-tab=Sync]");
    b.click("[data-action=sync-now]");
    b.wait_text("全部已上传", 60);
    phone.shot(b, shot);
}

#[test]
fn a_party_member_checks_in_takes_a_request_does_it_and_logs_service() {
    if skip() {
        return;
    }
    let _one = ONE_BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let server = Server::start();
    let phone = Phone::new(
        &server,
        Role::PartyMember,
        fix_in_grid_of(Role::PartyMember),
    );
    let b = Browser::start();
    phone.sign_in(&b, &server, Role::PartyMember);
    phone.shot(&b, "02-home");
    b.click("[data-tab=Service]");
    b.wait_text("在网格内", 10);
    phone.shot(&b, "03-party");
    b.click("[data-action=check-in]");
    b.wait_text("已签到", 10);
    // 党员接单: take a request open to the grid, do it, and log the service with it.
    b.click("[data-action=take-order]");
    b.wait_text("已接单", 10);
    b.click("li.order[data-status=taken]");
    b.wait_text("处理经过", 10);
    b.type_into("input[name=hours]", ".5");
    phone.shot(&b, "04-order");
    b.click("[data-order-action=done]");
    b.wait_text("已办结待回访", 10);
    b.click("[data-tab=Service]");
    b.wait_text("在网格内", 10);
    b.click("[data-action=log-service]");
    b.type_into("input[name=title]", "陪同独居老人到社区医院复诊");
    b.type_into("input[name=hours]", ".5");
    b.click("[data-action=camera]");
    b.wait_text("1 张", 10);
    phone.shot(&b, "05-log-service");
    b.click("[data-action=save-service]");
    b.wait_text("服务已记录", 10);
    b.wait_text("陪同独居老人到社区医院复诊", 10);
    phone.shot(&b, "06-service-logged");
    // 承诺践诺: a promise made, a step logged with a photo as evidence, the promise kept.
    b.type_into("input[name=commitment]", "每周清理楼道小广告");
    b.click("[data-action=promise]");
    b.wait_text("每周清理楼道小广告", 10);
    b.script(
        "Array.from(document.querySelectorAll('li.commitment')).find(l => l.textContent.includes('每周清理楼道小广告')).click(); return null",
    );
    b.wait_text("还没有进展记录", 10);
    b.type_into("textarea[name=note]", "清理了3栋1至6楼");
    b.click("[data-action=commitment-photo]");
    b.wait_text("1 张", 10);
    phone.shot(&b, "06b-commitment-step");
    b.click("[data-action=commitment-progress]");
    b.wait_text("清理了3栋1至6楼", 10);
    b.click("[data-action=commitment-fulfil]");
    // Kept: the form for further steps is gone.
    let gone = (0..100).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(100));
        b.script("return document.querySelector('[data-action=commitment-fulfil]') === null")
            .as_bool()
            == Some(true)
    });
    assert!(gone, "the promise is kept");
    phone.shot(&b, "06c-commitment-kept");
    // 一键响应: the leader's call-up, answered from the home screen.
    b.click("[data-tab=Home]");
    b.wait_text("一键响应", 10);
    b.click("[data-callup=coming]");
    b.wait_text("已回复", 10);
    phone.shot(&b, "06d-callup-answered");
    sync_now(&phone, &b, "07-sync");
    let promised = count_rows(
        phone.dir.path(),
        "SELECT id FROM commitments WHERE title = '每周清理楼道小广告'",
    );
    assert_eq!(promised.len(), 1);
    assert_eq!(
        server.record("commitment", promised[0])["status"],
        "fulfilled"
    );
    let steps = count_rows(
        phone.dir.path(),
        "SELECT id FROM commitment_events WHERE note = '清理了3栋1至6楼'",
    );
    assert_eq!(steps.len(), 1);
    let step = server.record("commitment_event", steps[0]);
    assert_eq!(step["photos"].as_array().unwrap().len(), 1, "{step}");
    let answered = count_rows(
        phone.dir.path(),
        "SELECT id FROM callup_responses WHERE answer = 'coming'",
    );
    let member_id = support::demo().user(Role::PartyMember).user.id.0;
    assert!(
        answered
            .iter()
            .any(|id| server.record("callup_response", *id)["user_id"]
                == serde_json::json!(member_id)),
        "the answer reached the server"
    );

    let done = count_rows(
        phone.dir.path(),
        "SELECT id FROM orders WHERE status = 'done'",
    );
    let member = support::demo().user(Role::PartyMember).user.id.0;
    let on_server: Vec<_> = done
        .iter()
        .map(|id| server.record("order", *id))
        .filter(|o| o["taker_id"] == serde_json::json!(member))
        .collect();
    assert!(
        !on_server.is_empty(),
        "the request taken and done reached the server"
    );
    let linked = count_rows(
        phone.dir.path(),
        &format!(
            "SELECT id FROM service_records WHERE order_id IS NOT NULL AND at > {}",
            demo_now_ms()
        ),
    );
    assert_eq!(linked.len(), 1);
    let service = server.record("service_record", linked[0]);
    assert_eq!(service["hours"], 1.5, "1 typed then .5: {service}");

    // 社区派单: the leader, on their own phone, sends a posted request to this member; the
    // server's wake channel makes the member's phone pull at once, with nobody tapping sync,
    // and it tells them on screen (until tapped) and as a notification.
    let mut leader = support::Device::new(server.addr);
    leader.sign_in(&server, Role::GridLeader);
    leader.sync().unwrap();
    let posted = support::demo()
        .orders
        .iter()
        .find(|o| o.status == gridmate_model::OrderStatus::Posted)
        .unwrap();
    leader
        .store
        .act_on_order(
            posted.id,
            gridmate_device::OrderStep {
                assignee: Some(support::demo().user(Role::PartyMember).user.id),
                ..gridmate_device::OrderStep::new(gridmate_model::OrderAction::Dispatch, "请帮忙")
            },
        )
        .unwrap();
    leader.sync().unwrap();
    b.wait_text("1 件新任务", 20);
    phone.shot(&b, "08-new-task");
    assert!(
        phone
            .platform
            .notified()
            .iter()
            .any(|(_, body)| body.contains("1 件新任务")),
        "{:?}",
        phone.platform.notified()
    );

    let checkins = count_rows(
        phone.dir.path(),
        &format!("SELECT id FROM checkins WHERE at > {}", demo_now_ms()),
    );
    assert_eq!(checkins.len(), 1);
    assert_eq!(server.count("checkin", checkins[0]), 1);
    let checkin = server.record("checkin", checkins[0]);
    assert_eq!(checkin["verdict"], "inside", "{checkin}");
    let services = count_rows(
        phone.dir.path(),
        "SELECT id FROM service_records WHERE title = '陪同独居老人到社区医院复诊'",
    );
    assert_eq!(services.len(), 1);
    let service = server.record("service_record", services[0]);
    assert_eq!(
        service["hours"], 1.5,
        "1 typed then .5: 1.5 hours: {service}"
    );
    assert_eq!(service["photos"].as_array().unwrap().len(), 1, "{service}");
}

#[test]
fn a_building_leader_reports_a_hazard_in_their_building() {
    if skip() {
        return;
    }
    let _one = ONE_BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let server = Server::start();
    let phone = Phone::new(&server, Role::BuildingLeader, None);
    let b = Browser::start();
    phone.sign_in(&b, &server, Role::BuildingLeader);
    phone.shot(&b, "02-home");
    b.click("[data-action=report]");
    b.click("[data-category=sanitation]");
    b.type_into("textarea[name=description]", "5楼楼道堆放大量纸箱杂物");
    b.click("input[name=on_spot]");
    b.click("[data-action=after-photo]");
    b.wait_text("拍处置后照片", 10);
    phone.shot(&b, "03-report-on-spot");
    b.click("[data-action=save-report]");
    b.wait_text("处理经过", 20);
    b.wait_text("现场已处置", 10);
    phone.shot(&b, "04-issue");
    sync_now(&phone, &b, "05-sync");
    let ids = count_rows(
        phone.dir.path(),
        "SELECT id FROM issues WHERE description = '5楼楼道堆放大量纸箱杂物'",
    );
    assert_eq!(ids.len(), 1);
    let issue = server.record("issue", ids[0]);
    assert_eq!(issue["source"], "building_leader", "{issue}");
    assert_eq!(issue["status"], "resolved_on_spot", "{issue}");
    let leader_building = support::demo().user(Role::BuildingLeader).assignments[0]
        .building_id
        .unwrap();
    assert_eq!(issue["building_id"], leader_building.to_string());
}

#[test]
fn a_grid_leader_verifies_and_closes_a_resolved_issue() {
    if skip() {
        return;
    }
    let _one = ONE_BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let server = Server::start();
    let phone = Phone::new(&server, Role::GridLeader, None);
    let b = Browser::start();
    phone.sign_in(&b, &server, Role::GridLeader);
    phone.shot(&b, "02-home");
    b.click("[data-tab=Issues]");
    b.click("select[name=status] option[value=resolved]");
    b.wait_text("已办结", 10);
    phone.shot(&b, "03-issues-resolved");
    b.click(".issue-row");
    b.wait_text("核查销号", 10);
    phone.shot(&b, "04-issue");
    let title = b.script("return document.querySelector('.title-bar h1').innerText");
    b.type_into("textarea[name=note]", "已现场核查，问题已解决");
    b.click("[data-issue-action=close]");
    b.wait_text("已销号", 10);
    sync_now(&phone, &b, "05-sync");
    let ids = count_rows(
        phone.dir.path(),
        &format!(
            "SELECT id FROM issues WHERE title = '{}' AND status = 'closed'",
            title.as_str().unwrap().replace('\'', "''")
        ),
    );
    assert!(!ids.is_empty());
    assert!(
        ids.iter()
            .any(|id| server.record("issue", *id)["status"] == "closed"),
        "the server closed it"
    );
}

/// The phone's own platform in a real browser: Chromium's DevTools give the page a position, as
/// a phone's GPS gives its webview; the webview platform reads it through the W3C Geolocation
/// API, the visit form shows it, the camera is the page's file input, and the visit reaches the
/// server with that fix and photo. A refused permission is said on the form.
#[test]
fn the_webview_platform_takes_its_fix_from_the_page() {
    if skip() {
        return;
    }
    let _one = ONE_BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let server = Server::start();
    let web = Arc::new(WebviewPlatform::new());
    let phone = Phone::on_webview(&server, Role::GridWorker, web.clone());
    let b = Browser::start();
    b.cdp(
        "Browser.setPermission",
        serde_json::json!({"permission": {"name": "geolocation"}, "setting": "denied"}),
    );
    phone.sign_in(&b, &server, Role::GridWorker);
    let refused = (0..100).find_map(|_| {
        std::thread::sleep(std::time::Duration::from_millis(100));
        web.location_problem()
    });
    assert_eq!(
        refused,
        Some(gridmate::platform::LocationProblem::Denied),
        "the page said the permission was refused"
    );
    b.click("[data-tab=Home]");
    b.click(".due-row");
    b.wait_text("家庭成员", 10);
    b.click("[data-action=record-visit]");
    b.wait_text("定位权限被拒绝", 10);
    phone.shot(&b, "20-webview-location-refused");

    let here = fix_in_grid_of(Role::GridWorker).unwrap();
    b.cdp(
        "Browser.setPermission",
        serde_json::json!({"permission": {"name": "geolocation"}, "setting": "granted"}),
    );
    // Allowed in the settings: the page asks again within seconds, and the open form shows it —
    // first a cell-tower guess, said to be one, then a real fix.
    b.cdp(
        "Emulation.setGeolocationOverride",
        serde_json::json!({"latitude": here.lat, "longitude": here.lon, "accuracy": 800}),
    );
    b.wait_text("定位不准（误差超过 50 米）", 20);
    phone.shot(&b, "20b-webview-imprecise");
    b.cdp(
        "Emulation.setGeolocationOverride",
        serde_json::json!({"latitude": here.lat, "longitude": here.lon, "accuracy": 9}),
    );
    let fix = (0..200).find_map(|_| {
        std::thread::sleep(std::time::Duration::from_millis(100));
        web.location().filter(|f| f.accuracy_m < 50.0)
    });
    let fix = fix.expect("a fix from the page");
    assert!(
        (fix.lat - here.lat).abs() < 1e-9
            && (fix.lon - here.lon).abs() < 1e-9
            && fix.accuracy_m == 9.0,
        "{fix:?}"
    );
    b.wait_text("±9", 10);
    // The camera opened and closed without a photo: said, and the form is as it was.
    b.type_into("textarea[name=notes]", "网页定位走访");
    b.script(
        "document.querySelector('input[name=camera]').dispatchEvent(new Event('cancel')); return null",
    );
    b.wait_text("没有拍照：表单上的内容都还在", 10);
    // The camera is the page's file input: a 12 MP photo handed to it as a phone's camera
    // writes one — sensor-wise, with EXIF saying "turn 90° clockwise" and the camera's make.
    let photo = phone.dir.path().join("IMG_camera.jpg");
    std::fs::write(
        &photo,
        support::exif::with_app1(
            &support::jpeg(4000, 3000, 3, 90),
            &support::exif::exif_orientation(6),
        ),
    )
    .unwrap();
    b.type_into("input[name=camera]", &photo.display().to_string());
    b.wait_text("1 张", 30);
    assert!(!b.text().contains("没有拍照"), "a photo taken clears it");
    phone.shot(&b, "21-webview-fix");
    b.click("[data-action=save-visit]");
    b.wait_text("走访已保存", 20);
    sync_now(&phone, &b, "22-webview-synced");
    let visits = count_rows(
        phone.dir.path(),
        "SELECT id FROM visits WHERE notes = '网页定位走访'",
    );
    assert_eq!(visits.len(), 1);
    let visit = server.record("visit", visits[0]);
    assert_eq!(
        (
            visit["location"]["lat"]
                .as_f64()
                .map(|x| (x - here.lat).abs() < 1e-9),
            visit["location"]["lon"]
                .as_f64()
                .map(|x| (x - here.lon).abs() < 1e-9)
        ),
        (Some(true), Some(true)),
        "{visit}"
    );
    assert_eq!(visit["photos"].as_array().map(Vec::len), Some(1), "{visit}");
    // What the server holds is upright (portrait, long side 1600) and carries no metadata.
    let sha = visit["photos"][0].as_str().unwrap().to_string();
    let held = std::fs::read(server.data.path().join("blobs").join(&sha)).expect("uploaded");
    let img = image::load_from_memory(&held).unwrap();
    assert_eq!((img.width(), img.height()), (1200, 1600), "turned upright");
    assert!(!held.windows(4).any(|w| w == b"Exif"), "EXIF stripped");
    assert!(
        !held.windows(3).any(|w| w == b"GMX"),
        "the camera's make stripped"
    );
}

/// The party member's phone in its webview: a check-in with an emulated fix outside the grid is
/// judged outside, on the phone and again by the server; DevTools take the network away and the
/// app says offline at once and holds what is typed; the network back, it goes up by itself.
#[test]
fn the_webview_platform_judges_a_check_in_and_follows_the_network() {
    if skip() {
        return;
    }
    let _one = ONE_BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let server = Server::start();
    let web = Arc::new(WebviewPlatform::new());
    let phone = Phone::on_webview(&server, Role::PartyMember, web.clone());
    let b = Browser::start();
    let inside = fix_in_grid_of(Role::PartyMember).unwrap();
    // About 3 km north of the grid's first building: no grid of the community is there.
    let (lat, lon) = (inside.lat + 0.027, inside.lon);
    b.cdp(
        "Browser.setPermission",
        serde_json::json!({"permission": {"name": "geolocation"}, "setting": "granted"}),
    );
    b.cdp(
        "Emulation.setGeolocationOverride",
        serde_json::json!({"latitude": lat, "longitude": lon, "accuracy": 12}),
    );
    phone.sign_in(&b, &server, Role::PartyMember);
    let net = || b.script("return document.querySelector('.sync-bar .net').textContent");
    assert_eq!(net(), "在线");
    b.click("[data-tab=Service]");
    b.wait_text("不在网格内", 15);
    b.cdp(
        "Network.emulateNetworkConditions",
        serde_json::json!({"offline": true, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}),
    );
    let went = std::time::Instant::now();
    while net() != "离线" {
        assert!(
            went.elapsed() < std::time::Duration::from_secs(2),
            "offline not shown at once: {}",
            net()
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    b.click("[data-action=check-in]");
    b.wait_text("已签到", 10);
    phone.shot(&b, "23-webview-offline-checkin-outside");
    let checkins = count_rows(
        phone.dir.path(),
        &format!("SELECT id FROM checkins WHERE at > {}", demo_now_ms()),
    );
    assert_eq!(checkins.len(), 1);
    // Offline: well past the sync's debounce, nothing has gone up and it waits on the phone.
    std::thread::sleep(std::time::Duration::from_secs(6));
    assert_eq!(
        server.count("checkin", checkins[0]),
        0,
        "held while offline"
    );
    assert!(b.text().contains("待上传 1 条"), "{}", b.text());
    b.cdp(
        "Network.emulateNetworkConditions",
        serde_json::json!({"offline": false, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}),
    );
    let back = std::time::Instant::now();
    while server.count("checkin", checkins[0]) == 0 {
        assert!(
            back.elapsed() < std::time::Duration::from_secs(20),
            "not synced when the network came back"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let checkin = server.record("checkin", checkins[0]);
    assert_eq!(
        (&checkin["verdict"], &checkin["server_verdict"]),
        (&serde_json::json!("outside"), &serde_json::json!("outside")),
        "the phone's verdict, and the server's own: {checkin}"
    );
    assert!(
        checkin["boundary_distance_m"]
            .as_f64()
            .is_some_and(|d| d < -1000.0),
        "{checkin}"
    );
    b.wait_text("待上传 0 条", 30);
    phone.shot(&b, "24-webview-back-online");
}
