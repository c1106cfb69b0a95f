//! The residents' door over real HTTP on a real database (SQLite, or PostgreSQL with
//! `GRIDMATE_TEST_POSTGRES`): signing in with a texted code, the roll match, a report with a
//! photo through the one write path, the messages at each step, the rating that sends an issue
//! back; and every way in that must stay shut (forged forms, replayed and guessed codes, other
//! residents' items, hostile text and files, oversize bodies, staff routes).

mod common;

use common::server::*;
use gridmate_model::Role;
use gridmate_protocol::records::IssueRecord;
use gridmate_protocol::{Entity, PushResponse, PushStatus};
use gridmate_server::store::{Backend, MessageRow, residents};
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::json;
use uuid::Uuid;

fn site(s: &Server) -> String {
    s.base.trim_end_matches("/api/v1").to_string() + "/resident"
}

/// A browser at the resident page: its cookies, never following redirects.
struct Browser {
    http: reqwest::Client,
    base: String,
}

impl Browser {
    fn new(s: &Server) -> Browser {
        Browser {
            http: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: site(s),
        }
    }

    async fn get(&self, path: &str) -> (StatusCode, String) {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        (r.status(), r.text().await.unwrap())
    }

    async fn post(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.http
            .post(format!("{}{path}", self.base))
            .form(form)
            .send()
            .await
            .unwrap()
    }

    /// The door's form token (its cookie is now in the jar).
    async fn form_token(&self) -> String {
        let (status, html) = self.get("/").await;
        assert_eq!(status, StatusCode::OK);
        let at = html.find("name=\"form\" value=\"").expect("the phone form") + 19;
        html[at..at + 32].to_string()
    }

    /// Ask for a code and sign in with what the outbox was given to text.
    async fn sign_in(&self, s: &Server, phone: &str) -> reqwest::Response {
        let token = self.form_token().await;
        let r = self
            .post("/code", &[("form", &token), ("phone", phone)])
            .await;
        assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
        let code = last_code(s, phone).await;
        self.post(
            "/sign-in",
            &[("form", &token), ("phone", phone), ("code", &code)],
        )
        .await
    }

    /// The page's own form token once signed in.
    async fn csrf(&self, path: &str) -> String {
        let (status, html) = self.get(path).await;
        assert_eq!(status, StatusCode::OK, "{html}");
        csrf_in(&html)
    }
}

/// The code most recently queued for `phone`.
async fn last_code(s: &Server, phone: &str) -> String {
    let m = codes_to(s, phone)
        .await
        .into_iter()
        .next()
        .expect("a code was queued");
    assert!(m.urgent, "a code is wanted now, at any hour");
    m.params[0].1.clone()
}

async fn codes_to(s: &Server, phone: &str) -> Vec<MessageRow> {
    s.messages()
        .await
        .into_iter()
        .filter(|m| m.notice == "resident_code" && m.address == phone)
        .collect()
}

/// A roll resident of the demo grid worker's grid, with their phone.
fn roll_resident(s: &Server, nth: usize) -> &'static gridmate_model::Resident {
    let grid: Uuid = s.account(Role::GridWorker).grids[0].parse().unwrap();
    let d = demo();
    d.residents
        .iter()
        .filter(|r| {
            !r.moved_out
                && d.households
                    .iter()
                    .any(|h| h.id == r.household_id && h.grid_id.0 == grid)
        })
        .nth(nth)
        .unwrap()
}

fn jpeg_of(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([x as u8, y as u8, 90]));
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 80)
        .encode_image(&img)
        .unwrap();
    out
}

fn report_form(csrf: &str, mid: Uuid, place: &str, grid: Uuid, title: &str) -> Form {
    report_of("broken_facility", csrf, mid, place, grid, title)
}

fn report_of(category: &str, csrf: &str, mid: Uuid, place: &str, grid: Uuid, title: &str) -> Form {
    Form::new()
        .text("csrf", csrf.to_string())
        .text("mid", mid.to_string())
        .text("category", category.to_string())
        .text("where", place.to_string())
        .text("grid", grid.to_string())
        .text("title", title.to_string())
        .text("description", "三楼到四楼之间的灯坏了一周")
}

async fn issue(s: &Server, id: Uuid) -> (IssueRecord, Option<Uuid>) {
    let rec = s
        .store()
        .read(move |tx| tx.record(Entity::Issue, id))
        .await
        .unwrap()
        .expect("the issue is on record");
    (serde_json::from_value(rec.data).unwrap(), rec.owner_id)
}

async fn user_id(s: &Server, role: Role) -> Uuid {
    let phone = s.account(role).phone.clone();
    s.store()
        .read(move |tx| tx.user_by_phone(&phone))
        .await
        .unwrap()
        .unwrap()
        .id
}

fn location(r: &reqwest::Response) -> String {
    r.headers()["location"].to_str().unwrap().to_string()
}

#[tokio::test]
async fn a_resident_signs_in_is_matched_reports_hears_each_step_and_sends_it_back() {
    let s = Server::start().await;
    let person = roll_resident(&s, 0);
    let phone = person.phone.clone().unwrap();
    let b = Browser::new(&s);

    // A wrong code first: refused with the tries left, nothing signed in.
    let token = b.form_token().await;
    let r = b
        .post("/code", &[("form", &token), ("phone", &phone)])
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let page = r.text().await.unwrap();
    assert!(page.contains(&gridmate_model::validate::mask_phone(&phone)));
    // (The form carries their own number back in a hidden field: theirs, on their phone.)
    let code = last_code(&s, &phone).await;
    assert_eq!(code.len(), 6);
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let r = b
        .post(
            "/sign-in",
            &[("form", &token), ("phone", &phone), ("code", wrong)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.text().await.unwrap().contains("还可以再试 4 次"));

    // The right one signs in (HttpOnly, SameSite) and, not yet matched, asks for the roll.
    let r = b
        .post(
            "/sign-in",
            &[("form", &token), ("phone", &phone), ("code", &code)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/resident/verify");
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    // The code is spent: replayed, it signs nobody in.
    let replay = Browser::new(&s);
    let t2 = replay.form_token().await;
    let r = replay
        .post(
            "/sign-in",
            &[("form", &t2), ("phone", &phone), ("code", &code)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    // A wrong name says only that it did not match; the right name with the proven phone does.
    let csrf = b.csrf("/verify").await;
    let r = b
        .post(
            "/verify",
            &[("csrf", &csrf), ("name", "查无此人"), ("id_last_four", "")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let said = r.text().await.unwrap();
    assert!(said.contains("没有核对上"), "{said}");
    let r = b
        .post(
            "/verify",
            &[
                ("csrf", &csrf),
                ("name", &person.name),
                ("id_last_four", ""),
            ],
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        r.text().await.unwrap()
    );
    let account = residents::account_id(&phone);
    let row = s
        .store()
        .read(move |tx| tx.resident_account(account))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.household_id, Some(person.household_id.0));
    assert_eq!(row.resident_id, Some(person.id.0));

    // A report about their home with a photo lands on the board as a resident's, linked to them.
    let csrf = b.csrf("/ask").await;
    let mid = Uuid::now_v7();
    let photo = jpeg_of(1200, 900);
    let form = report_form(
        &csrf,
        mid,
        "room",
        Uuid::nil(),
        "楼道灯坏了<script>alert(1)</script>",
    )
    .part(
        "photo",
        Part::bytes(photo)
            .file_name("a.jpg")
            .mime_str("image/jpeg")
            .unwrap(),
    );
    let r = b
        .http
        .post(format!("{}/ask", b.base))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        r.text().await.unwrap()
    );
    assert_eq!(location(&r), format!("/resident/items/{mid}?sent=1"));
    let (rec, owner) = issue(&s, mid).await;
    assert_eq!(owner, Some(account));
    assert_eq!(rec.reported_by, account);
    assert_eq!(rec.source, "resident");
    assert_eq!(rec.household_id, Some(person.household_id.0));
    assert!(!rec.unverified);
    assert_eq!(rec.photos.len(), 1);
    assert!(rec.number.is_some(), "the office's number is given at once");
    let (status, page) = b.get(&format!("/items/{mid}?sent=1")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("&lt;script&gt;") && !page.contains("<script>alert"));
    // Their own photo is theirs to see.
    let (status, _) = b.get(&format!("/photos/{}", rec.photos[0])).await;
    assert_eq!(status, StatusCode::OK);

    // The office assigns it to the grid's worker: the resident is texted the step.
    let office = s.login(Role::CommunityAdmin, "office").await;
    let worker_id = user_id(&s, Role::GridWorker).await;
    let r = s
        .post_json(
            &office,
            &format!("/office/issues/{mid}/steps"),
            json!({"mutation_id": Uuid::now_v7(), "action": "assign", "note": "请尽快",
                   "assignee_id": worker_id}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let updates = |all: Vec<MessageRow>| -> Vec<MessageRow> {
        all.into_iter()
            .filter(|m| m.notice == "resident_update" && m.recipient_id == account)
            .collect()
    };
    let told = updates(s.messages().await);
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(told[0].address, phone);
    assert!(
        told[0].params.contains(&("status".into(), "已派单".into())),
        "{told:?}"
    );
    assert_eq!(told[0].link, format!("/resident/items/{mid}"));

    // The worker starts and resolves it from the phone; the resident hears of the end.
    let worker = s.login(Role::GridWorker, "worker-phone").await;
    for action in ["start", "resolve"] {
        let m = mutation(
            "issue.event",
            json!({"event_id": Uuid::now_v7(), "issue_id": mid, "action": action,
                   "note": "换了灯泡"}),
        );
        let r: PushResponse = s
            .push(&worker, "worker-phone", &[m])
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(r.results[0].status, PushStatus::Applied, "{r:?}");
    }
    let told = updates(s.messages().await);
    assert_eq!(
        told.len(),
        2,
        "started is not texted, resolved is: {told:?}"
    );
    let (status, page) = b.get(&format!("/items/{mid}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("已办结") && page.contains("换了灯泡"),
        "{page}"
    );
    assert!(
        page.contains("name=\"satisfaction\""),
        "the rating is offered"
    );

    // 不满意: it goes back for handling, with the resident's words on the record.
    let csrf = csrf_in(&page);
    let rate_mid = Uuid::now_v7().to_string();
    let r = b
        .post(
            &format!("/items/{mid}/rate"),
            &[
                ("csrf", &csrf),
                ("mid", &rate_mid),
                ("satisfaction", "dissatisfied"),
                ("comment", "灯还是不亮"),
            ],
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        r.text().await.unwrap()
    );
    let (rec, _) = issue(&s, mid).await;
    assert_eq!(rec.status, "reopened");
    assert_eq!(rec.satisfaction.as_deref(), Some("dissatisfied"));
    // Sent twice (a double tap): one rating.
    let again = b
        .post(
            &format!("/items/{mid}/rate"),
            &[
                ("csrf", &csrf),
                ("mid", &rate_mid),
                ("satisfaction", "dissatisfied"),
                ("comment", "灯还是不亮"),
            ],
        )
        .await;
    assert_eq!(
        again.status(),
        StatusCode::CONFLICT,
        "not rateable while reopened"
    );
    let board: serde_json::Value = s
        .get(&office, &format!("/office/issues/{mid}"))
        .await
        .json()
        .await
        .unwrap();
    let steps = board.to_string();
    assert!(
        steps.contains("send_back") && steps.contains("灯还是不亮"),
        "{steps}"
    );
    // The rating counts in the office's statistics.
    let stats: serde_json::Value = s.get(&office, "/office/stats").await.json().await.unwrap();
    assert_eq!(stats["total"]["issues_sent_back"], 1, "{}", stats["total"]);
    assert_eq!(stats["total"]["issues_rated"], 0);
}

#[tokio::test]
async fn the_door_refuses_forged_forms_guessed_codes_and_a_flood_of_texts() {
    let s = Server::start().await;
    let phone = roll_resident(&s, 1).phone.clone().unwrap();
    let b = Browser::new(&s);
    let token = b.form_token().await;
    // A form without the browser's token (another site's page posting here) does nothing.
    let stranger = Browser::new(&s);
    let r = stranger
        .post("/code", &[("form", &token), ("phone", &phone)])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(codes_to(&s, &phone).await.is_empty());
    // Not a mainland mobile: said so, nothing queued.
    for bad in ["12345", "<script>", &"1".repeat(5000)] {
        let r = b.post("/code", &[("form", &token), ("phone", bad)]).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.text().await.unwrap().contains("11 位手机号"));
    }
    assert!(
        s.messages()
            .await
            .iter()
            .all(|m| m.notice != "resident_code")
    );

    // Five wrong guesses and the code is gone, right or not.
    let r = b
        .post("/code", &[("form", &token), ("phone", &phone)])
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let code = last_code(&s, &phone).await;
    let wrong = if code == "999999" { "888888" } else { "999999" };
    for _ in 0..residents::CODE_TRIES {
        let r = b
            .post(
                "/sign-in",
                &[("form", &token), ("phone", &phone), ("code", wrong)],
            )
            .await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let r = b
        .post(
            "/sign-in",
            &[("form", &token), ("phone", &phone), ("code", &code)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.text().await.unwrap().contains("验证码已失效"));

    // Codes to one phone are limited: the next ones wait, and nothing more is texted.
    for _ in 1..residents::SENDS_PER_PHONE {
        let r = b
            .post("/code", &[("form", &token), ("phone", &phone)])
            .await;
        assert_eq!(r.status(), StatusCode::OK);
    }
    let r = b
        .post("/code", &[("form", &token), ("phone", &phone)])
        .await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.text().await.unwrap().contains("秒后再试"));
    assert_eq!(codes_to(&s, &phone).await.len(), residents::SENDS_PER_PHONE);
}

#[tokio::test]
async fn a_resident_reaches_only_their_own_and_hostile_reports_change_nothing() {
    let s = Server::start().await;
    let grid: Uuid = s.account(Role::GridWorker).grids[0].parse().unwrap();
    // Two residents: one matched to the roll, one not (a newcomer, any number).
    let matched = roll_resident(&s, 2);
    let a = Browser::new(&s);
    assert_eq!(
        a.sign_in(&s, matched.phone.as_deref().unwrap())
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    let csrf = a.csrf("/verify").await;
    let r = a
        .post(
            "/verify",
            &[
                ("csrf", &csrf),
                ("name", &matched.name),
                ("id_last_four", ""),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let newcomer = Browser::new(&s);
    let r = newcomer.sign_in(&s, "13912345678").await;
    assert_eq!(location(&r), "/resident/verify");

    // The newcomer may report a public place (flagged unverified), never "my home".
    let csrf_n = newcomer.csrf("/ask").await;
    let post = |b: &Browser, form: Form| {
        b.http
            .post(format!("{}/ask", b.base))
            .multipart(form)
            .send()
    };
    let r = post(
        &newcomer,
        report_form(&csrf_n, Uuid::now_v7(), "room", grid, "我家漏水"),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let public = Uuid::now_v7();
    let r = post(
        &newcomer,
        report_form(&csrf_n, public, "public", grid, "小区门口井盖松动"),
    )
    .await
    .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        r.text().await.unwrap()
    );
    let (rec, _) = issue(&s, public).await;
    assert!(rec.unverified && rec.household_id.is_none() && rec.building_id.is_none());

    // The matched resident's report, then every way at it from the other account.
    let csrf_a = a.csrf("/ask").await;
    let mine = Uuid::now_v7();
    let r = post(&a, report_form(&csrf_a, mine, "building", grid, "电梯异响"))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (rec, _) = issue(&s, mine).await;
    let (theirs, _) = newcomer.get(&format!("/items/{mine}")).await;
    let (made_up, _) = newcomer.get(&format!("/items/{}", Uuid::now_v7())).await;
    let (garbage, _) = newcomer.get("/items/..%2F..%2Fetc").await;
    assert_eq!(theirs, StatusCode::NOT_FOUND);
    assert_eq!(made_up, theirs, "another's item and no item look the same");
    assert_eq!(garbage, StatusCode::NOT_FOUND);
    assert!(!newcomer.get("/").await.1.contains("电梯异响"));
    let (photo, _) = newcomer.get(&format!("/photos/{}", "ab".repeat(32))).await;
    assert_ne!(photo, StatusCode::OK);
    let before = s.dump();
    let r = newcomer
        .post(
            &format!("/items/{mine}/rate"),
            &[
                ("csrf", &csrf_n),
                ("mid", &Uuid::now_v7().to_string()),
                ("satisfaction", "satisfied"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // A forged token, a form of another session, a wrong type, an oversize body, a file that
    // is not a JPEG, a photo too large, four photos: refused, nothing written.
    let r = a
        .post(
            &format!("/items/{mine}/rate"),
            &[
                ("csrf", &csrf_n),
                ("mid", &Uuid::now_v7().to_string()),
                ("satisfaction", "satisfied"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = post(
        &a,
        report_form(
            "x".repeat(32).as_str(),
            Uuid::now_v7(),
            "room",
            grid,
            "伪造",
        ),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = post(
        &a,
        report_of("arson", &csrf_a, Uuid::now_v7(), "room", grid, "t"),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let big = Part::bytes(vec![0xFF; 9 * 1024 * 1024]).file_name("big.jpg");
    let r = post(
        &a,
        report_form(&csrf_a, Uuid::now_v7(), "room", grid, "大").part("photo", big),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let png = Part::bytes(b"\x89PNG\r\n\x1a\n....".to_vec()).file_name("a.png");
    let r = post(
        &a,
        report_form(&csrf_a, Uuid::now_v7(), "room", grid, "图").part("photo", png),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("1600"));
    let huge = Part::bytes(jpeg_of(2000, 1000)).file_name("big.jpg");
    let r = post(
        &a,
        report_form(&csrf_a, Uuid::now_v7(), "room", grid, "大图").part("photo", huge),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let mut four = report_form(&csrf_a, Uuid::now_v7(), "room", grid, "四张");
    for _ in 0..4 {
        four = four.part("photo", Part::bytes(jpeg_of(64, 64)).file_name("p.jpg"));
    }
    let r = post(&a, four).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(s.dump(), before, "nothing a refused request sent was kept");
    assert_eq!(rec.status, "reported");

    // A resident's cookie opens no staff route, and no staff account is a resident's.
    let r = a
        .http
        .get(s.base.trim_end_matches("/api/v1").to_string() + "/console/board")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "to the console's own sign-in"
    );
    let r = a
        .http
        .get(format!("{}/sync/pull", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

/// Every resident page says where it may load from: nothing but this server.
#[tokio::test]
async fn the_resident_pages_carry_their_security_headers_and_stay_small() {
    let s = Server::start().await;
    let r = reqwest::get(format!("{}/", site(&s))).await.unwrap();
    let policy = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(policy.contains("default-src 'none'") && policy.contains("frame-ancestors 'none'"));
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    let page = r.bytes().await.unwrap().len();
    let css = reqwest::get(format!("{}/style.css", site(&s)))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap()
        .len();
    let js = reqwest::get(format!("{}/shrink.js", site(&s)))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap()
        .len();
    assert!(page + css + js < 60 * 1024, "{page} + {css} + {js} bytes");
}

/// Behind the community's TLS terminator: cookies Secure and HSTS only when the trusted proxy
/// says the browser used HTTPS; the same header from anyone else changes nothing.
#[tokio::test]
async fn cookies_are_secure_over_https_through_a_trusted_proxy_only() {
    use gridmate_server::app::AppState;
    use gridmate_server::database::Database;
    async fn serve(trusted: &[std::net::IpAddr]) -> (String, tempfile::TempDir) {
        let data = tempfile::tempdir().unwrap();
        let mut state =
            AppState::new(Database::open(None, data.path()).unwrap(), data.path()).unwrap();
        state.trusted_proxies = gridmate_server::proxy::TrustedProxies(trusted.into());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(
                listener,
                gridmate_server::routes::router(state)
                    .into_make_service_with_connect_info::<std::net::SocketAddr>(),
            )
            .await
            .unwrap();
        });
        (format!("http://{addr}"), data)
    }
    let get = |base: String, proto: Option<&'static str>| async move {
        let mut req = reqwest::Client::new().get(format!("{base}/resident/"));
        if let Some(p) = proto {
            req = req.header("x-forwarded-proto", p);
        }
        req.send().await.unwrap()
    };
    let (behind, _a) = serve(&["127.0.0.1".parse().unwrap()]).await;
    let r = get(behind.clone(), Some("https")).await;
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        cookie.ends_with("; Secure") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
    assert!(
        r.headers()["strict-transport-security"]
            .to_str()
            .unwrap()
            .contains("max-age=31536000")
    );
    let r = get(behind, None).await;
    assert!(
        !r.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Secure")
    );
    assert!(r.headers().get("strict-transport-security").is_none());
    // Nobody trusted: a client saying "https" is only a client saying it.
    let (open, _b) = serve(&[]).await;
    let r = get(open, Some("https")).await;
    assert!(
        !r.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Secure")
    );
    assert!(r.headers().get("strict-transport-security").is_none());
}

/// 公示: anyone reads each grid's sign and the month's handled problems, rated — and nothing
/// of who reported them or what they wrote.
#[tokio::test]
async fn the_public_board_shows_the_month_without_a_residents_name_or_words() {
    let s = Server::start().await;
    let grid: Uuid = s.account(Role::GridWorker).grids[0].parse().unwrap();
    let person = roll_resident(&s, 3);
    let phone = person.phone.clone().unwrap();
    let b = Browser::new(&s);
    b.sign_in(&s, &phone).await;
    let csrf = b.csrf("/verify").await;
    b.post(
        "/verify",
        &[
            ("csrf", &csrf),
            ("name", &person.name),
            ("id_last_four", ""),
        ],
    )
    .await;
    let csrf = b.csrf("/ask").await;
    let mid = Uuid::now_v7();
    let title = "二单元门口积水很深";
    let r = b
        .http
        .post(format!("{}/ask", b.base))
        .multipart(report_form(&csrf, mid, "building", grid, title))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let office = s.login(Role::CommunityAdmin, "office").await;
    let worker_id = user_id(&s, Role::GridWorker).await;
    let worker = s.login(Role::GridWorker, "worker-phone").await;
    let step = |action: &str, assignee: Option<Uuid>| {
        json!({"mutation_id": Uuid::now_v7(), "action": action, "note": "已处理",
               "assignee_id": assignee})
    };
    let r = s
        .post_json(
            &office,
            &format!("/office/issues/{mid}/steps"),
            step("assign", Some(worker_id)),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let m = mutation(
        "issue.event",
        json!({"event_id": Uuid::now_v7(), "issue_id": mid, "action": "resolve", "note": "已疏通"}),
    );
    s.push(&worker, "worker-phone", &[m]).await;
    let r = s
        .post_json(
            &office,
            &format!("/office/issues/{mid}/steps"),
            step("close", None),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let page = b.get(&format!("/items/{mid}")).await.1;
    let csrf = csrf_in(&page);
    let r = b
        .post(
            &format!("/items/{mid}/rate"),
            &[
                ("csrf", &csrf),
                ("mid", &Uuid::now_v7().to_string()),
                ("satisfaction", "satisfied"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    // Nobody signed in reads it.
    let anyone = Browser::new(&s);
    let (status, board) = anyone.get(&format!("/board?grid={grid}")).await;
    assert_eq!(status, StatusCode::OK);
    let worker_account = s.account(Role::GridWorker);
    assert!(board.contains(&worker_account.name) && board.contains(&worker_account.phone));
    assert!(board.contains("满意 1 件"), "{board}");
    assert!(board.contains("设施损坏") && board.contains("居民自报"));
    for secret in [title, person.name.as_str(), phone.as_str(), "已疏通"] {
        assert!(!board.contains(secret), "the board shows {secret:?}");
    }
    let (status, _) = anyone.get(&format!("/board?grid={}", Uuid::now_v7())).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, all) = anyone.get("/board").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        all.matches("<section class=\"grid\"").count(),
        demo().grids.len()
    );
}

/// The posters: one per building of the office's grids, each with the resident page's address
/// for that building and who serves it; another grid's posters are not the office's.
#[tokio::test]
async fn the_console_prints_a_poster_per_building_with_its_qr_code() {
    let s = Server::start().await;
    let leader = console_login(&s, Role::GridLeader).await;
    let cookie = session_cookie(&leader);
    let grid: Uuid = s.account(Role::GridLeader).grids[0].parse().unwrap();
    let r = no_redirects()
        .get(format!("{}/posters?grid={grid}", console(&s)))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    let buildings: Vec<_> = demo()
        .buildings
        .iter()
        .filter(|b| b.grid_id.0 == grid)
        .collect();
    assert_eq!(
        html.matches("<section class=\"poster\"").count(),
        buildings.len()
    );
    assert_eq!(html.matches("<svg").count(), buildings.len());
    let host = s
        .base
        .trim_start_matches("http://")
        .trim_end_matches("/api/v1");
    for b in &buildings {
        assert!(html.contains(&format!("http://{host}/resident/?b={}", b.id.0)));
    }
    assert!(
        html.contains(&s.account(Role::GridWorker).phone),
        "who serves it"
    );
    // (tests/resident_e2e.rs prints one in Chromium and decodes its QR code from the picture.)
    let leader_grids = &s.account(Role::GridLeader).grids;
    let other = demo()
        .grids
        .iter()
        .map(|g| g.id.0)
        .find(|g| !leader_grids.contains(&g.to_string()))
        .unwrap_or_else(Uuid::now_v7);
    let r = no_redirects()
        .get(format!("{}/posters?grid={other}", console(&s)))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

/// The office blocks an abusive number from the report it made: its session ends at once, no
/// code is sent to it again, the audit log has it; a grid leader may not, nor for a staff report.
#[tokio::test]
async fn the_office_blocks_an_abusive_number_and_its_door_shuts() {
    let s = Server::start().await;
    let grid: Uuid = s.account(Role::GridWorker).grids[0].parse().unwrap();
    let b = Browser::new(&s);
    b.sign_in(&s, "13700001111").await;
    let csrf = b.csrf("/ask").await;
    let mid = Uuid::now_v7();
    let r = b
        .http
        .post(format!("{}/ask", b.base))
        .multipart(report_form(&csrf, mid, "public", grid, "骂人的话"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    let block = |cookie: String, issue: Uuid| {
        let base = console(&s);
        async move {
            let page = no_redirects()
                .get(format!("{base}/board"))
                .header("cookie", &cookie)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            no_redirects()
                .post(format!("{base}/issues/{issue}/block-reporter"))
                .header("cookie", &cookie)
                .form(&[("csrf", csrf_in(&page))])
                .send()
                .await
                .unwrap()
        }
    };
    let leader = session_cookie(&console_login(&s, Role::GridLeader).await);
    assert_eq!(block(leader, mid).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(b.get("/").await.0, StatusCode::OK, "still signed in");
    let office = session_cookie(&console_login(&s, Role::CommunityAdmin).await);
    let staff_report = demo()
        .issues
        .iter()
        .find(|i| i.grid_id.0 == grid)
        .unwrap()
        .id
        .0;
    assert_eq!(
        block(office.clone(), staff_report).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(block(office, mid).await.status(), StatusCode::SEE_OTHER);

    // Signed out at once, and the door stays shut.
    let (status, page) = b.get("/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("获取验证码"), "back at the door");
    let token = b.form_token().await;
    let r = b
        .post("/code", &[("form", &token), ("phone", "13700001111")])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.text().await.unwrap().contains("停用"));
    assert_eq!(
        codes_to(&s, "13700001111").await.len(),
        1,
        "no new code sent"
    );
    let audit = s.number("SELECT COUNT(*) FROM audit_log WHERE action = 'block_resident'");
    assert_eq!(audit, 1);
}
