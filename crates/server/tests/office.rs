//! The office over real HTTP on a real database (SQLite, or PostgreSQL with
//! `GRIDMATE_TEST_POSTGRES`): the office API's scope, filters, paging and bad input; the street's
//! read-only account; statistics; the ledgers read back with calamine; people, passwords,
//! devices and the audit log; and the console's sessions, cookies and CSRF checks.

mod common;

use calamine::{Data, Reader, Xlsx};
use common::server::*;
use gridmate_model::Role;
use gridmate_server::ledger::LedgerKind;
use gridmate_words::Lang;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::HashSet;
use uuid::Uuid;

async fn json_of(r: reqwest::Response) -> Value {
    assert_eq!(r.status(), StatusCode::OK, "{}", r.url());
    r.json().await.unwrap()
}

fn grid(i: usize) -> Uuid {
    demo().grids[i].id.0
}

/// The demo issues of these grids, by id.
fn issues_of(grids: &[Uuid]) -> HashSet<Uuid> {
    demo()
        .issues
        .iter()
        .filter(|i| grids.contains(&i.grid_id.0))
        .map(|i| i.id.0)
        .collect()
}

fn ids(page: &Value) -> Vec<Uuid> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().parse().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn office_routes_are_for_office_roles_only() {
    let s = Server::start().await;
    for path in [
        "/office/issues",
        "/office/orders",
        "/office/households",
        "/office/people",
        "/office/stats",
        "/office/export/issues.csv",
    ] {
        let r = s
            .http
            .get(format!("{}{path}", s.base))
            .send()
            .await
            .unwrap();
        assert_eq!(error_code(r).await.0, StatusCode::UNAUTHORIZED, "{path}");
    }
    for (role, allowed) in [
        (Role::GridWorker, false),
        (Role::BuildingLeader, false),
        (Role::PartyMember, false),
        (Role::GridLeader, true),
        (Role::CommunityAdmin, true),
        (Role::StreetViewer, true),
    ] {
        let t = s.login(role, "office-matrix").await;
        for path in [
            "/office/issues",
            "/office/orders",
            "/office/people",
            "/office/stats",
        ] {
            let r = s.get(&t, path).await;
            let want = if allowed {
                StatusCode::OK
            } else {
                StatusCode::FORBIDDEN
            };
            assert_eq!(r.status(), want, "{role:?} {path}");
        }
        // Administration is the community office's alone.
        let r = s.get(&t, "/office/audit").await;
        let want = if role == Role::CommunityAdmin {
            StatusCode::OK
        } else {
            StatusCode::FORBIDDEN
        };
        assert_eq!(r.status(), want, "{role:?} audit");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_board_lists_the_callers_grids_filtered_and_paged() {
    let s = Server::start().await;
    let leader = s.login(Role::GridLeader, "office").await;
    let admin = s.login(Role::CommunityAdmin, "office").await;

    // Every status, all pages: exactly the issues of the caller's grids.
    let all = json_of(s.get(&leader, "/office/issues?limit=500").await).await;
    let leader_grids = [grid(0), grid(1)];
    assert_eq!(
        ids(&all).into_iter().collect::<HashSet<_>>(),
        issues_of(&leader_grids)
    );
    assert_eq!(
        all["total"].as_u64().unwrap() as usize,
        issues_of(&leader_grids).len()
    );
    let everything = json_of(s.get(&admin, "/office/issues?limit=500").await).await;
    assert_eq!(
        everything["total"].as_u64().unwrap() as usize,
        demo().issues.len(),
        "the community office sees the community"
    );

    // Filters narrow and agree with the records.
    let open = json_of(s.get(&admin, "/office/issues?status=open&limit=500").await).await;
    let want_open = demo().issues.iter().filter(|i| i.status.is_open()).count();
    assert_eq!(open["total"].as_u64().unwrap() as usize, want_open);
    let fire = json_of(
        s.get(
            &admin,
            &format!(
                "/office/issues?grid={}&category=fire_safety&limit=500",
                grid(2)
            ),
        )
        .await,
    )
    .await;
    for i in fire["items"].as_array().unwrap() {
        assert_eq!(i["category"], "fire_safety");
        assert_eq!(i["grid_id"], json!(grid(2)));
    }
    let overdue = json_of(s.get(&admin, "/office/issues?overdue=true&limit=500").await).await;
    assert!(
        overdue["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["overdue"] == true)
    );
    let unassigned = json_of(s.get(&admin, "/office/issues?unassigned=1&limit=500").await).await;
    assert!(
        unassigned["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i.get("assignee_id").is_none())
    );

    // Pages do not overlap and together are the whole list.
    let mut seen = Vec::new();
    for offset in (0..all["total"].as_u64().unwrap()).step_by(7) {
        let page = json_of(
            s.get(&leader, &format!("/office/issues?limit=7&offset={offset}"))
                .await,
        )
        .await;
        assert!(page["items"].as_array().unwrap().len() <= 7);
        seen.extend(ids(&page));
    }
    assert_eq!(seen, ids(&all), "paging walks the same order");

    // Bad input: a clear error, and the route still serves.
    for (path, status) in [
        (
            format!("/office/issues?grid={}", grid(3)),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "/office/issues?grid=not-a-uuid".to_string(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/office/issues?category=arson".to_string(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "/office/issues?status=frozen".to_string(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "/office/issues?limit=0".to_string(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "/office/issues?limit=100000".to_string(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "/office/issues?limit=lots".to_string(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/office/issues?overdue=maybe".to_string(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/office/orders?kind=%3Cscript%3E".to_string(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ] {
        let (got, code) = error_code(s.get(&leader, &path).await).await;
        assert_eq!(got, status, "{path}: {code}");
    }

    // One issue with its timeline; another grid's is not found.
    let mine = demo()
        .issues
        .iter()
        .find(|i| i.grid_id.0 == grid(0))
        .unwrap();
    let detail = json_of(
        s.get(&leader, &format!("/office/issues/{}", mine.id.0))
            .await,
    )
    .await;
    assert_eq!(detail["issue"]["id"], json!(mine.id.0));
    assert!(detail["events"].is_array());
    // Where it is: the grid's outline, and the footprints and roads of its base map.
    for part in ["outline", "footprints", "roads", "buildings"] {
        assert!(
            !detail["place"][part].as_array().unwrap().is_empty(),
            "{part}: {}",
            detail["place"]
        );
    }
    let theirs = demo()
        .issues
        .iter()
        .find(|i| i.grid_id.0 == grid(3))
        .unwrap();
    let r = s
        .get(&leader, &format!("/office/issues/{}", theirs.id.0))
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_street_reads_everything_and_changes_nothing() {
    let s = Server::start().await;
    let street = s.login(Role::StreetViewer, "street").await;
    let all = json_of(s.get(&street, "/office/issues?limit=500").await).await;
    assert_eq!(all["total"].as_u64().unwrap() as usize, demo().issues.len());
    let issue = demo().issues[0].id.0;
    let before = s.dump();
    let tries = [
        mutation(
            "issue.event",
            json!({"event_id": Uuid::now_v7(), "issue_id": issue, "action": "comment", "note": "街道意见"}),
        ),
        visit(household_in(0).id.0),
    ];
    for r in s.push_ok(&street, "street", &tries).await {
        assert_eq!(r.status, gridmate_protocol::PushStatus::Rejected);
        assert_eq!(r.error.unwrap().code, "forbidden");
    }
    assert_eq!(s.dump(), before, "nothing changed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statistics_add_up_and_refuse_a_bad_period() {
    let s = Server::start().await;
    let admin = s.login(Role::CommunityAdmin, "office").await;
    let stats = json_of(
        s.get(&admin, "/office/stats?from=2024-01-01&to=2030-12-31")
            .await,
    )
    .await;
    let total = &stats["total"];
    assert_eq!(
        total["households"].as_u64().unwrap() as usize,
        demo().households.len()
    );
    assert_eq!(
        total["issues_reported"].as_u64().unwrap() as usize,
        demo().issues.len()
    );
    let grids = stats["grids"].as_array().unwrap();
    assert_eq!(grids.len(), demo().grids.len());
    for key in [
        "households",
        "due",
        "visited",
        "visits",
        "issues_open",
        "orders",
        "checkins",
    ] {
        let sum: u64 = grids.iter().map(|g| g[key].as_u64().unwrap()).sum();
        assert_eq!(sum, total[key].as_u64().unwrap(), "{key} per grid adds up");
    }
    // Coverage is of the households due: visited this period or overdue now, no more than there
    // are, no fewer than were visited; the map's buildings add up to it.
    let (visited, due) = (
        total["visited"].as_u64().unwrap(),
        total["due"].as_u64().unwrap(),
    );
    assert!(visited <= due && due <= total["households"].as_u64().unwrap());
    let by_building: u64 = stats["map"]["buildings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["due"].as_u64().unwrap())
        .sum();
    assert_eq!(by_building, due);
    // The statistics count from the facts; the household list reads the records: they agree.
    let watched = json_of(
        s.get(
            &admin,
            "/office/households?vulnerable=true&visit_overdue=true&limit=1",
        )
        .await,
    )
    .await;
    assert_eq!(total["vulnerable_overdue"], watched["total"]);
    assert!(watched["total"].as_u64().unwrap() > 0, "the demo has some");
    let open = json_of(s.get(&admin, "/office/issues?status=open&limit=1").await).await;
    assert_eq!(total["issues_open"], open["total"]);
    let overdue = json_of(s.get(&admin, "/office/issues?overdue=true&limit=1").await).await;
    assert_eq!(total["issues_overdue"], overdue["total"]);
    let visits: u64 = stats["people"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["visits"].as_u64().unwrap())
        .sum();
    assert_eq!(
        visits,
        total["visits"].as_u64().unwrap(),
        "every visit has its visitor"
    );

    // The visits of a period as the demo made them, counted two ways by the server: a period
    // reaching today reads the households' last visits and the months' counts (with the days at
    // its ragged edges from the visits), one that ended reads the visits themselves. Both agree
    // with the demo's own visits, per grid and per person.
    for (from, to) in [("2026-08-10", None), ("2026-08-10", Some("2026-10-15"))] {
        let day = |d: &str| {
            chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .unwrap()
                .and_hms_opt(0, 0, 0)
                .unwrap()
                .and_local_timezone(gridmate_server::ledger::beijing())
                .unwrap()
                .with_timezone(&chrono::Utc)
        };
        let start = day(from);
        let end = to.map_or(chrono::DateTime::<chrono::Utc>::MAX_UTC, |t| {
            day(t) + chrono::Duration::days(1)
        });
        let made: Vec<_> = demo()
            .visits
            .iter()
            .filter(|v| start <= v.started_at && v.started_at < end)
            .collect();
        let households: HashSet<_> = made.iter().map(|v| v.household_id).collect();
        let q = match to {
            Some(to) => format!("/office/stats?from={from}&to={to}"),
            None => format!("/office/stats?from={from}"),
        };
        let got = json_of(s.get(&admin, &q).await).await;
        assert_eq!(
            got["total"]["visits"].as_u64().unwrap() as usize,
            made.len(),
            "{q}"
        );
        assert_eq!(
            got["total"]["visited"].as_u64().unwrap() as usize,
            households.len(),
            "{q}"
        );
        for person in got["people"].as_array().unwrap() {
            let id: Uuid = person["user_id"].as_str().unwrap().parse().unwrap();
            let theirs = made.iter().filter(|v| v.visitor.0 == id).count();
            assert_eq!(
                person["visits"].as_u64().unwrap() as usize,
                theirs,
                "{q}: {id}"
            );
        }
    }

    // A period with nothing in it counts nothing but the roll.
    let empty = json_of(
        s.get(&admin, "/office/stats?from=2001-01-01&to=2001-01-31")
            .await,
    )
    .await;
    assert_eq!(empty["total"]["visits"], 0);
    assert_eq!(
        empty["total"]["households"].as_u64().unwrap() as usize,
        demo().households.len()
    );

    for (q, status) in [
        ("from=2026-13-01", StatusCode::BAD_REQUEST),
        ("from=yesterday", StatusCode::BAD_REQUEST),
        (
            "from=2026-11-30&to=2026-11-01",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ] {
        let (got, _) = error_code(s.get(&admin, &format!("/office/stats?{q}")).await).await;
        assert_eq!(got, status, "{q}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ledgers_read_back_with_their_headers_and_rows() {
    let s = Server::start().await;
    let leader = s.login(Role::GridLeader, "office").await;
    let period = "from=2024-01-01&to=2030-12-31";

    // A note that Excel would run as a formula stays text.
    let hostile = "=HYPERLINK(\"http://evil\",\"点我\")";
    let r = s
        .push_ok(&leader, "office", &[mutation("issue.report", json!({
            "issue_id": Uuid::now_v7(), "grid_id": grid(0), "category": "other", "severity": "low",
            "title": hostile, "description": "-1+1", "photos": [],
        }))])
        .await;
    assert_eq!(
        r[0].status,
        gridmate_protocol::PushStatus::Applied,
        "{:?}",
        r[0].error
    );

    let r = s
        .get(&leader, &format!("/office/export/issues.xlsx?{period}"))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("filename*=UTF-8''")
    );
    let bytes = r.bytes().await.unwrap();
    let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let sheet = book
        .worksheet_range(LedgerKind::Issues.title(Lang::Zh))
        .unwrap();
    let rows: Vec<Vec<Data>> = sheet.rows().map(|r| r.to_vec()).collect();
    // A title with the community, a line with the period, the grids and the time of export,
    // then the headers.
    assert_eq!(rows[0][0].to_string(), "联和社区 问题台账");
    let covers = rows[1][0].to_string();
    assert!(
        covers.starts_with("期间：2024-01-01 至 ") && covers.contains("网格：全部网格"),
        "{covers}"
    );
    let headers: Vec<String> = rows[2].iter().map(|c| c.to_string()).collect();
    assert_eq!(headers, LedgerKind::Issues.headers(Lang::Zh));
    let records = &rows[3..];
    assert_eq!(
        records.len(),
        issues_of(&[grid(0), grid(1)]).len() + 1,
        "one row per issue of the leader's grids"
    );
    let serials: Vec<String> = records.iter().map(|r| r[0].to_string()).collect();
    let expected: Vec<String> = (1..=records.len()).map(|n| n.to_string()).collect();
    assert_eq!(serials, expected, "序号 counts the rows");
    // The same ledger asked for in English: every word from the same catalogue, the rows alike.
    let english = s
        .http
        .get(format!("{}/office/export/issues.xlsx?{period}", s.base))
        .bearer_auth(&leader)
        .header(gridmate_protocol::PROTOCOL_HEADER, "1")
        .header("accept-language", "en-GB,en;q=0.9")
        .send()
        .await
        .unwrap();
    assert_eq!(english.status(), StatusCode::OK);
    let disposition = english.headers()["content-disposition"].to_str().unwrap();
    assert!(disposition.contains("Issues%20ledger_"), "{disposition}");
    let bytes_en = english.bytes().await.unwrap();
    let mut book_en: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes_en.to_vec())).unwrap();
    let sheet_en = book_en
        .worksheet_range(LedgerKind::Issues.title(Lang::En))
        .unwrap();
    let rows_en: Vec<Vec<Data>> = sheet_en.rows().map(|r| r.to_vec()).collect();
    assert_eq!(rows_en[0][0].to_string(), "联和社区: Issues ledger");
    assert!(
        rows_en[1][0]
            .to_string()
            .starts_with("Period: 2024-01-01 to ")
    );
    let headers_en: Vec<String> = rows_en[2].iter().map(|c| c.to_string()).collect();
    assert_eq!(headers_en, LedgerKind::Issues.headers(Lang::En));
    assert_eq!(headers_en[1], "No.");
    assert_eq!(rows_en.len(), rows.len());
    // 编号 is the office's number, not the record's id.
    let numbers: HashSet<String> = records.iter().map(|r| r[1].to_string()).collect();
    for i in demo()
        .issues
        .iter()
        .filter(|i| [grid(0), grid(1)].contains(&i.grid_id.0))
    {
        let number = i.number.clone().expect("the demo numbers its issues");
        assert!(numbers.contains(&number), "{number} in the ledger");
    }
    // Times are date cells a spreadsheet can filter and group by month; a closed issue says
    // when it was closed and what was done.
    let column = |name: &str| headers.iter().position(|h| h == name).unwrap();
    assert!(
        records
            .iter()
            .all(|r| matches!(r[column("上报时间")], Data::DateTime(_))),
        "上报时间 is a date"
    );
    let closed: Vec<&Vec<Data>> = records
        .iter()
        .filter(|r| r[column("状态")] == "已销号")
        .collect();
    assert!(!closed.is_empty());
    for r in closed {
        assert!(matches!(r[column("办结时间")], Data::DateTime(_)), "{r:?}");
        assert!(!r[column("处理结果")].to_string().is_empty(), "{r:?}");
    }
    // Printed as filed: column widths per content, A4 landscape one page wide, the header row
    // on every page, filtered, page numbers in the footer.
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let mut xml = String::new();
    std::io::Read::read_to_string(
        &mut zip.by_name("xl/worksheets/sheet1.xml").unwrap(),
        &mut xml,
    )
    .unwrap();
    for part in [
        r#"width="24.7"#,
        r#"orientation="landscape""#,
        r#"paperSize="9""#,
        r#"fitToHeight="0""#,
        r#"<autoFilter ref="A3:"#,
        "第 &amp;P 页",
        r#"ySplit="3""#,
    ] {
        assert!(xml.contains(part), "{part} in the sheet");
    }
    let mut book_xml = String::new();
    std::io::Read::read_to_string(&mut zip.by_name("xl/workbook.xml").unwrap(), &mut book_xml)
        .unwrap();
    assert!(book_xml.contains("_xlnm.Print_Titles"), "{book_xml}");
    let titles: Vec<String> = records.iter().map(|r| r[7].to_string()).collect();
    assert!(
        titles.contains(&hostile.to_string()),
        "the title is kept as text"
    );
    let formulas = book
        .worksheet_formula(LedgerKind::Issues.title(Lang::Zh))
        .unwrap();
    assert!(
        formulas.used_cells().all(|(_, _, f)| f.is_empty()),
        "no formula in a ledger"
    );

    // The CSV: a BOM, the same headers, and the formula defused.
    let csv = s
        .get(&leader, &format!("/office/export/issues.csv?{period}"))
        .await
        .bytes()
        .await
        .unwrap();
    assert!(csv.starts_with("\u{feff}".as_bytes()));
    let text = String::from_utf8(csv[3..].to_vec()).unwrap();
    assert!(text.starts_with(&LedgerKind::Issues.headers(Lang::Zh).join(",")));
    assert!(text.contains("'=HYPERLINK"), "a formula is written as text");
    assert!(text.contains("'-1+1"));

    // Visits of a period: only those started in it.
    let visits = s
        .get(
            &leader,
            "/office/export/visits.csv?from=2001-01-01&to=2001-01-02",
        )
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(
        String::from_utf8(visits[3..].to_vec())
            .unwrap()
            .lines()
            .count(),
        1,
        "headers only"
    );

    for path in [
        "/office/export/secrets.xlsx",
        "/office/export/issues.pdf",
        "/office/export/issues",
    ] {
        assert_eq!(
            s.get(&leader, path).await.status(),
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_office_resets_passwords_and_signs_devices_out_with_an_audit_log() {
    let s = Server::start().await;
    let admin = s.login(Role::CommunityAdmin, "office").await;
    let leader = s.login(Role::GridLeader, "office").await;
    let worker = s.account(Role::GridWorker);
    let people = s.get(&admin, "/office/people").await.text().await.unwrap();
    assert!(!people.contains(&worker.phone), "phones are masked");
    let people: Value = serde_json::from_str(&people).unwrap();
    let w = people
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == worker.name.as_str())
        .unwrap();
    let id = w["id"].as_str().unwrap().to_string();
    assert_eq!(
        w["phone_masked"].as_str().unwrap().len(),
        worker.phone.len()
    );

    let phone_token = s.login(Role::GridWorker, "lost-phone").await;
    let other_token = s.login(Role::GridWorker, "kept-phone").await;

    // A grid leader may not; a short password is refused; neither changes anything.
    let r = s
        .http
        .post(format!("{}/office/people/{id}/password", s.base))
        .bearer_auth(&leader)
        .json(&json!({"password": "new-password-1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = s
        .http
        .post(format!("{}/office/people/{id}/password", s.base))
        .bearer_auth(&admin)
        .json(&json!({"password": "short"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = s
        .http
        .post(format!("{}/office/people/{id}/password", s.base))
        .bearer_auth(&admin)
        .body("{not json")
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        json_of(s.get(&admin, "/office/audit").await)
            .await
            .as_array()
            .unwrap()
            .len(),
        0
    );

    let r = s
        .http
        .post(format!("{}/office/people/{id}/password", s.base))
        .bearer_auth(&admin)
        .json(&json!({"password": "new-password-1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let login = |password: &str| {
        s.http
            .post(format!("{}/session", s.base))
            .json(&json!({
            "phone": worker.phone, "password": password, "device_id": "d", "device_name": "d"}))
            .send()
    };
    assert_eq!(
        login("new-password-1").await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(
        login(&worker.password).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );

    let devices = json_of(s.get(&admin, &format!("/office/people/{id}/devices")).await).await;
    assert!(
        devices
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["device_id"] == "lost-phone")
    );
    let r = s
        .http
        .post(format!(
            "{}/office/people/{id}/devices/lost-phone/revoke",
            s.base
        ))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(r).await["revoked"], 1);
    let (status, code) = error_code(s.get(&phone_token, "/sync/pull").await).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::UNAUTHORIZED, "token_revoked")
    );
    assert_eq!(
        s.get(&other_token, "/sync/pull").await.status(),
        StatusCode::OK,
        "other devices stay"
    );

    let audit = json_of(s.get(&admin, "/office/audit").await).await;
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["revoke_device", "reset_password"]);
    assert!(
        !audit.to_string().contains("new-password-1"),
        "never the password"
    );

    // Someone outside the caller's grids is not theirs to manage.
    let stranger = Uuid::now_v7();
    let r = s
        .http
        .post(format!("{}/office/people/{stranger}/password", s.base))
        .bearer_auth(&admin)
        .json(&json!({"password": "new-password-2"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_keeps_its_session_in_a_strict_cookie_and_checks_every_form() {
    let s = Server::start().await;
    let http = no_redirects();
    // Not signed in: to the sign-in page.
    let r = http
        .get(format!("{}/board", console(&s)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/console/login");

    let wrong = http
        .post(format!("{}/login", console(&s)))
        .form(&[
            ("phone", s.account(Role::CommunityAdmin).phone.as_str()),
            ("password", "guess"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(wrong.headers().get("set-cookie").is_none());
    assert!(wrong.text().await.unwrap().contains("手机号或密码不对"));

    let r = console_login(&s, Role::CommunityAdmin).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let set = r.headers()["set-cookie"].to_str().unwrap().to_string();
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/console", "Max-Age="] {
        assert!(set.contains(flag), "{flag} in {set}");
    }
    let cookie = session_cookie(&r);
    let board = http
        .get(format!("{}/board", console(&s)))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(board.status(), StatusCode::OK);
    assert!(
        board.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'self'")
    );
    let html = board.text().await.unwrap();
    assert!(html.contains("问题调度"));
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "nothing from outside the server"
    );

    // An action without the form's token, or with another's, does nothing.
    let issue = demo().issues.iter().find(|i| i.status.is_open()).unwrap();
    let worker_id = json_of(
        s.get(&s.login(Role::CommunityAdmin, "x").await, "/office/people")
            .await,
    )
    .await
    .as_array()
    .unwrap()
    .iter()
    .find(|p| p["name"] == s.account(Role::GridWorker).name.as_str())
    .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let before = s.dump();
    for csrf in ["", "0123456789abcdef0123456789abcdef"] {
        let r = http
            .post(format!("{}/issues/{}", console(&s), issue.id.0))
            .header("cookie", &cookie)
            .form(&[
                ("csrf", csrf),
                ("mid", &Uuid::now_v7().to_string()),
                ("action", "assign"),
                ("assignee", &worker_id),
                ("note", ""),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
    }
    assert_eq!(s.dump(), before, "a forged form changed nothing");

    // With the token, the action is one mutation; the same form twice applies once.
    let page = http
        .get(format!("{}/issues/{}", console(&s), issue.id.0))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    let csrf = csrf_in(&page.text().await.unwrap());
    let mid = Uuid::now_v7().to_string();
    for _ in 0..2 {
        let r = http
            .post(format!("{}/issues/{}", console(&s), issue.id.0))
            .header("cookie", &cookie)
            .form(&[
                ("csrf", csrf.as_str()),
                ("mid", &mid),
                ("action", "comment"),
                ("note", "请尽快处理"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert!(r.headers()["location"].to_str().unwrap().ends_with("?ok=1"));
    }
    let detail = json_of(
        s.get(
            &s.login(Role::CommunityAdmin, "y").await,
            &format!("/office/issues/{}", issue.id.0),
        )
        .await,
    )
    .await;
    let comments = detail["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["note"] == "请尽快处理")
        .count();
    assert_eq!(comments, 1, "a double click applies once");

    // A field role gets a clear refusal, not the board.
    let r = console_login(&s, Role::GridWorker).await;
    let page = http
        .get(format!("{}/board", console(&s)))
        .header("cookie", session_cookie(&r))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::FORBIDDEN);

    // Signing out revokes the session itself, not only the cookie.
    let r = http
        .post(format!("{}/logout", console(&s)))
        .header("cookie", &cookie)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = http
        .get(format!("{}/board", console(&s)))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["location"], "/console/login");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_console_page_renders_in_both_languages_for_each_office_role() {
    let s = Server::start().await;
    let http = no_redirects();
    let issue = demo()
        .issues
        .iter()
        .find(|i| i.grid_id.0 == grid(0))
        .unwrap()
        .id
        .0;
    let order = demo()
        .orders
        .iter()
        .find(|o| o.grid_id.0 == grid(0))
        .unwrap()
        .id
        .0;
    let household = household_in(0).id.0;
    let patrol = demo()
        .patrols
        .iter()
        .find(|p| p.grid_id.0 == grid(0))
        .unwrap()
        .id
        .0;
    for role in [Role::GridLeader, Role::CommunityAdmin, Role::StreetViewer] {
        let cookie = session_cookie(&console_login(&s, role).await);
        for (lang, word) in [("zh", "统计"), ("en", "Statistics")] {
            let cookies = format!("{cookie}; gm_lang={lang}");
            for path in [
                "/board".to_string(),
                "/board?overdue=true&status=".to_string(),
                format!("/issues/{issue}"),
                "/orders".to_string(),
                format!("/orders/{order}"),
                "/stats".to_string(),
                "/ledgers".to_string(),
                "/people".to_string(),
                "/callups".to_string(),
                "/departments".to_string(),
                "/time-limits".to_string(),
                "/roll".to_string(),
                "/roll?unvisited_this_month=true&q=zs".to_string(),
                format!("/roll/{household}"),
                "/field".to_string(),
                format!("/patrols/{patrol}"),
            ] {
                let r = http
                    .get(format!("{}{path}", console(&s)))
                    .header("cookie", &cookies)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), StatusCode::OK, "{role:?} {lang} {path}");
                let html = r.text().await.unwrap();
                assert!(html.contains(word), "{role:?} {lang} {path}");
                if path.starts_with("/issues/") {
                    assert!(
                        html.contains("<figure class=\"place\"")
                            && html.contains("class=\"here\"")
                            && html.contains("class=\"footprint\""),
                        "the issue on its grid's map"
                    );
                }
                if role == Role::StreetViewer {
                    assert!(
                        !html.contains("name=\"mid\""),
                        "the street gets no action form: {path}"
                    );
                }
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_office_calls_people_up_from_the_console_and_watches_them_answer() {
    let s = Server::start().await;
    let http = no_redirects();
    let cookie = session_cookie(&console_login(&s, Role::CommunityAdmin).await);
    let page = http
        .get(format!("{}/callups", console(&s)))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    let csrf = csrf_in(&page.text().await.unwrap());
    let mid = Uuid::now_v7().to_string();
    let g0 = grid(0).to_string();
    let form = [
        ("csrf", csrf.as_str()),
        ("mid", mid.as_str()),
        ("grid", g0.as_str()),
        ("role", "party_member"),
        ("place", "联和花园东门"),
        ("at", "2026-12-05T19:30"),
        ("message", "防汛值守，请带雨具"),
    ];
    // Sent twice (a double click): one call-up.
    for _ in 0..2 {
        let r = http
            .post(format!("{}/callups", console(&s)))
            .header("cookie", &cookie)
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.headers()["location"], "/console/callups?ok=1");
    }
    let admin = s.login(Role::CommunityAdmin, "office").await;
    let rows = json_of(s.get(&admin, "/office/callups").await).await;
    let ours: Vec<&Value> = rows
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["place"] == "联和花园东门")
        .collect();
    assert_eq!(ours.len(), 1, "a double click calls once");
    let callup = ours[0]["id"].as_str().unwrap().to_string();
    assert_eq!(ours[0]["roles"], json!(["party_member"]));
    assert_eq!(
        ours[0]["at"], "2026-12-05T11:30:00Z",
        "the form's time is Beijing time"
    );
    let member = s.account(Role::PartyMember);
    assert!(
        ours[0]["silent"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["name"] == member.name.as_str())
    );

    // The party member answers from their phone; the office sees it.
    let token = s.login(Role::PartyMember, "member-phone").await;
    let r = s
        .push_ok(
            &token,
            "member-phone",
            &[mutation(
                "callup.respond",
                json!({
            "response_id": Uuid::now_v7(), "callup_id": callup, "answer": "coming"}),
            )],
        )
        .await;
    assert_eq!(
        r[0].status,
        gridmate_protocol::PushStatus::Applied,
        "{:?}",
        r[0].error
    );
    let page = http
        .get(format!("{}/callups", console(&s)))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("马上到"), "the answer is on the page");

    // Closing it: the phones' later answers are refused.
    let r = http
        .post(format!("{}/callups/close", console(&s)))
        .header("cookie", &cookie)
        .form(&[
            ("csrf", csrf.as_str()),
            ("mid", &Uuid::now_v7().to_string()),
            ("callup", &callup),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["location"], "/console/callups?ok=1");
    let r = s
        .push_ok(
            &token,
            "member-phone",
            &[mutation(
                "callup.respond",
                json!({
            "response_id": Uuid::now_v7(), "callup_id": callup, "answer": "cannot"}),
            )],
        )
        .await;
    assert_eq!(r[0].error.as_ref().map(|e| e.code.as_str()), Some("closed"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_community_office_keeps_the_departments_and_phones_receive_them() {
    let s = Server::start().await;
    let admin = s.login(Role::CommunityAdmin, "office").await;
    let leader = s.login(Role::GridLeader, "office").await;
    let post = |token: &str, body: Value| {
        s.http
            .post(format!("{}/office/departments", s.base))
            .bearer_auth(token.to_string())
            .json(&body)
            .send()
    };
    assert_eq!(
        post(&leader, json!({"name": "供电所"}))
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        post(&admin, json!({"name": ""})).await.unwrap().status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        post(&admin, json!({"name": "供电所", "phone": "call me"}))
            .await
            .unwrap()
            .status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let made = json_of(
        post(&admin, json!({"name": "供电所", "phone": "0750-3222110"}))
            .await
            .unwrap(),
    )
    .await;
    let id = made["id"].as_str().unwrap().to_string();
    json_of(
        post(
            &admin,
            json!({"id": id, "name": "江门供电所", "phone": "0750-3222110"}),
        )
        .await
        .unwrap(),
    )
    .await;
    let list = json_of(s.get(&admin, "/office/departments").await).await;
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"江门供电所") && !names.contains(&"供电所"),
        "renamed in place: {names:?}"
    );

    // Every phone receives it, building leaders included.
    let token = s.login(Role::BuildingLeader, "bl-phone").await;
    let (changes, _) = s.pull_all(&token, None).await;
    assert!(changes.iter().any(
        |c| c.entity == gridmate_protocol::Entity::Department && c.data["name"] == "江门供电所"
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_office_sets_time_limits_that_new_reports_are_due_by() {
    let s = Server::start().await;
    let admin = s.login(Role::CommunityAdmin, "office").await;
    let leader = s.login(Role::GridLeader, "office").await;
    let put = |token: &str, body: Value| {
        s.http
            .put(format!("{}/office/time-limits", s.base))
            .bearer_auth(token.to_string())
            .json(&body)
            .send()
    };
    let noise_low = |body: &Value| {
        body["limits"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["category"] == "noise" && e["severity"] == "low")
            .unwrap()["hours"]
            .as_u64()
            .unwrap()
    };
    let current = json_of(s.get(&leader, "/office/time-limits").await).await;
    assert_eq!(current["limits"].as_array().unwrap().len(), 27);
    assert_eq!(noise_low(&current), 168, "the default week");

    let one =
        |hours: i64| json!({"limits": [{"category": "noise", "severity": "low", "hours": hours}]});
    assert_eq!(
        put(&leader, one(48)).await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    for bad in [
        json!({"limits": [{"category": "arson", "severity": "low", "hours": 4}]}),
        one(0),
        one(100_000),
    ] {
        assert_eq!(
            put(&admin, bad.clone()).await.unwrap().status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{bad}"
        );
    }
    assert_eq!(
        put(&admin, one(-1)).await.unwrap().status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        noise_low(&json_of(s.get(&admin, "/office/time-limits").await).await),
        168,
        "refusals changed nothing"
    );

    let set = json_of(put(&admin, one(48)).await.unwrap()).await;
    assert_eq!(noise_low(&set), 48);
    let worker = s.login(Role::GridWorker, "w").await;
    let id = Uuid::now_v7();
    let m = mutation(
        "issue.report",
        json!({
            "issue_id": id, "grid_id": grid(0), "category": "noise", "severity": "low",
            "title": "夜间施工噪音", "description": "", "photos": [],
        }),
    );
    let recorded = m.recorded_at;
    let r = s.push_ok(&worker, "w", &[m]).await;
    assert_eq!(r[0].status, gridmate_protocol::PushStatus::Applied);
    let detail = json_of(s.get(&admin, &format!("/office/issues/{id}")).await).await;
    let due: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(detail["issue"]["due_at"].clone()).unwrap();
    assert_eq!(
        due - recorded,
        chrono::Duration::hours(48),
        "due by the office's limit"
    );
    let audit = json_of(s.get(&admin, "/office/audit").await).await;
    assert_eq!(audit[0]["action"], "set_time_limits");
    assert_eq!(audit[0]["detail"], "noise/low=48h");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_office_registers_a_person_who_then_syncs_their_grid() {
    let s = Server::start().await;
    let admin = s.login(Role::CommunityAdmin, "office").await;
    let leader = s.login(Role::GridLeader, "office").await;
    let post = |token: &str, body: Value| {
        s.http
            .post(format!("{}/office/people", s.base))
            .bearer_auth(token.to_string())
            .json(&body)
            .send()
    };
    let new = |phone: &str, role: &str, grids: Vec<Uuid>| json!({"name": "新网格员 吴敏", "phone": phone, "role": role, "grids": grids, "password": "first-password-1"});
    let before = s.dump();
    assert_eq!(
        post(&leader, new("13700009999", "grid_worker", vec![grid(0)]))
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );
    for (body, status) in [
        (
            new("13700009999", "community_admin", vec![grid(0)]),
            StatusCode::FORBIDDEN,
        ),
        (
            new("12345", "grid_worker", vec![grid(0)]),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            new("13700009999", "grid_worker", vec![]),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            new("13700009999", "wizard", vec![grid(0)]),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            new(
                &s.account(Role::GridWorker).phone,
                "grid_worker",
                vec![grid(0)],
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            new("13700009999", "grid_worker", vec![Uuid::now_v7()]),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"name": "吴敏", "phone": "13700009999", "role": "grid_worker", "grids": [grid(0)], "password": "short"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ] {
        assert_eq!(
            post(&admin, body.clone()).await.unwrap().status(),
            status,
            "{body}"
        );
    }
    assert_eq!(s.dump(), before, "refusals registered no one");

    let made = json_of(
        post(&admin, new("13700009999", "grid_worker", vec![grid(1)]))
            .await
            .unwrap(),
    )
    .await;
    assert!(made["id"].is_string());
    let r = s
        .http
        .post(format!("{}/session", s.base))
        .json(&json!({"phone": "13700009999", "password": "first-password-1", "device_id": "new-phone", "device_name": "d"}))
        .send()
        .await
        .unwrap();
    let token = json_of(r).await["token"].as_str().unwrap().to_string();
    let (changes, _) = s.pull_all(&token, None).await;
    let grids: HashSet<String> = changes
        .iter()
        .filter(|c| c.entity == gridmate_protocol::Entity::Household)
        .map(|c| c.data["grid_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        grids,
        HashSet::from([grid(1).to_string()]),
        "their scope is the grid they were given"
    );
    let audit = json_of(s.get(&admin, "/office/audit").await).await;
    assert_eq!(audit[0]["action"], "add_person");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_conflict_log_reads_in_words_with_phones_masked() {
    let s = Server::start().await;
    let resident = demo()
        .residents
        .iter()
        .find(|r| {
            demo()
                .households
                .iter()
                .any(|h| h.id == r.household_id && h.grid_id.0 == grid(0))
        })
        .unwrap();
    let worker = s.login(Role::GridWorker, "phone-a").await;
    let patch = |phone: &str, ms: i64| {
        let mut m = mutation(
            "resident.patch",
            json!({"id": resident.id.0, "fields": {"phone": phone}}),
        );
        m.hlc = gridmate_model::Hlc::new(ms, 0).to_string();
        m
    };
    let now = chrono::Utc::now().timestamp_millis();
    for m in [patch("13911112222", now + 1_000), patch("13933334444", now)] {
        let r = s.push_ok(&worker, "phone-a", &[m]).await;
        assert_ne!(
            r[0].status,
            gridmate_protocol::PushStatus::Rejected,
            "{:?}",
            r[0].error
        );
    }
    let http = no_redirects();
    let cookie = session_cookie(&console_login(&s, Role::GridLeader).await);
    let page = http
        .get(format!("{}/people", console(&s)))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("同步冲突记录") && page.contains("电话"),
        "the conflict is listed in words"
    );
    assert!(
        page.contains("139****2222") && page.contains("139****4444"),
        "both values, masked"
    );
    assert!(
        !page.contains("13911112222") && !page.contains("13933334444"),
        "never in full"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_taken_at_the_desk_is_linked_to_the_household_its_room_names() {
    let s = Server::start().await;
    let http = no_redirects();
    let cookie = session_cookie(&console_login(&s, Role::CommunityAdmin).await);
    let h = demo()
        .households
        .iter()
        .find(|h| h.grid_id.0 == grid(0))
        .unwrap();
    let b = demo()
        .buildings
        .iter()
        .find(|b| b.id == h.building_id)
        .unwrap();
    let page = http
        .get(format!("{}/orders/new", console(&s)))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    let csrf = csrf_in(&page.text().await.unwrap());
    let post = |mid: String, room: String| {
        let (http, cookie, csrf, url) = (http.clone(), cookie.clone(), csrf.clone(), console(&s));
        async move {
            http.post(format!("{url}/orders/new"))
                .header("cookie", &cookie)
                .form(&[
                    ("csrf", csrf.as_str()),
                    ("mid", mid.as_str()),
                    ("grid", &grid(0).to_string()),
                    ("kind", "errand"),
                    ("source", "phone"),
                    ("requester", "黄阿姨"),
                    ("title", "代买降压药"),
                    ("description", ""),
                    ("room", room.as_str()),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    // A room no household of the grid lives in: refused, nothing recorded.
    let before = s.dump();
    let r = post(Uuid::now_v7().to_string(), "999-9-9999".into()).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("999-9-9999"));
    assert_eq!(s.dump(), before);

    let mid = Uuid::now_v7();
    let r = post(
        mid.to_string(),
        format!("{}栋{}单元{}室", b.number, h.unit, h.room),
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let office = s.login(Role::CommunityAdmin, "desk").await;
    let order = json_of(s.get(&office, &format!("/office/orders/{mid}")).await).await;
    assert_eq!(order["order"]["household_id"], json!(h.id.0), "{order}");
    assert_eq!(order["order"]["building_id"], json!(b.id.0));
}

/// The board's bulk assignment carries its form's id: the same form sent twice (a double click,
/// a browser resending after a timeout) assigns each ticked issue once, and a form without its
/// id is refused in the console's words.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulk_assignment_sent_twice_assigns_once() {
    let s = Server::start().await;
    let http = no_redirects();
    let cookie = session_cookie(&console_login(&s, Role::CommunityAdmin).await);
    let board = http
        .get(format!("{}/board", console(&s)))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = csrf_in(&board);
    let at = board.find("name=\"mid\" value=\"").expect("the form's id") + 18;
    let mid = board[at..at + 36].to_string();
    let d = demo();
    let picked: Vec<Uuid> = d
        .issues
        .iter()
        .filter(|i| i.status == gridmate_model::IssueStatus::Accepted)
        .take(2)
        .map(|i| i.id.0)
        .collect();
    assert_eq!(picked.len(), 2);
    let assignee = d.user(Role::GridWorker).user.id.0.to_string();
    let mut form = vec![
        ("csrf", csrf.clone()),
        ("mid", mid.clone()),
        ("assignee", assignee.clone()),
        ("note", "请本周内处理".to_string()),
    ];
    form.extend(picked.iter().map(|i| ("issue", i.to_string())));
    for _ in 0..2 {
        let r = http
            .post(format!("{}/board/assign", console(&s)))
            .header("cookie", &cookie)
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert!(r.headers()["location"].to_str().unwrap().ends_with("?ok=1"));
    }
    let admin = s.login(Role::CommunityAdmin, "y").await;
    for issue in &picked {
        let detail = json_of(s.get(&admin, &format!("/office/issues/{issue}")).await).await;
        let assigned = detail["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["note"] == "请本周内处理")
            .count();
        assert_eq!(assigned, 1, "{issue} assigned once");
        assert_eq!(detail["issue"]["status"], "assigned");
    }

    // Without its id the form changes nothing and says why in Chinese.
    let before = s.dump();
    let r = http
        .post(format!("{}/board/assign", console(&s)))
        .header("cookie", &cookie)
        .form(&[
            ("csrf", csrf.as_str()),
            ("assignee", assignee.as_str()),
            ("issue", &picked[0].to_string()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("请刷新页面后重试"));
    assert_eq!(s.dump(), before);
}

/// Issues and orders get the office's numbers (2026-000123) as they reach the server: one after
/// another in the community's series for the year, after the seeded demo's own, issues and orders
/// each in their own; a copy of a received issue (the same record under another mutation id) keeps
/// its number; the board finds an issue by it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issues_and_orders_are_numbered_as_they_arrive() {
    use gridmate_model::case_number;
    let s = Server::start().await;
    let leader = s.login(Role::GridLeader, "office").await;
    let now = chrono::Utc::now();
    let year = case_number::year_of(now);
    let last = |numbers: Vec<Option<String>>| {
        numbers
            .iter()
            .filter_map(|n| n.as_deref().and_then(case_number::parse))
            .filter(|(y, _)| *y == year)
            .map(|(_, n)| n)
            .max()
            .unwrap_or(0)
    };
    let last_issue = last(demo().issues.iter().map(|i| i.number.clone()).collect());
    let last_order = last(demo().orders.iter().map(|o| o.number.clone()).collect());

    let report = |grid_at: usize| {
        mutation(
            "issue.report",
            json!({"issue_id": Uuid::now_v7(), "grid_id": grid(grid_at), "category": "other",
                   "severity": "low", "title": "楼道灯不亮", "description": "", "photos": []}),
        )
    };
    let first = report(0);
    let batch = [first.clone(), report(1), report(0)];
    let r = s.push_ok(&leader, "office", &batch).await;
    assert!(
        r.iter()
            .all(|r| r.status == gridmate_protocol::PushStatus::Applied)
    );
    let household = household_in(0);
    let order = mutation(
        "order.create",
        json!({"order_id": Uuid::now_v7(), "grid_id": household.grid_id.0, "household_id": household.id.0,
               "kind": "errand", "source": "visit", "title": "代取药品", "description": "",
               "requester": household.head_name}),
    );
    let r = s
        .push_ok(&leader, "office", std::slice::from_ref(&order))
        .await;
    assert_eq!(r[0].status, gridmate_protocol::PushStatus::Applied);

    let number_of = |path: String, key: &'static str| {
        let s = &s;
        let leader = &leader;
        async move {
            let body: Value = s.get(leader, &path).await.json().await.unwrap();
            body[key]["number"].as_str().unwrap().to_string()
        }
    };
    let mut issue_numbers = Vec::new();
    for m in &batch {
        let id = m.data["issue_id"].as_str().unwrap();
        issue_numbers.push(number_of(format!("/office/issues/{id}"), "issue").await);
    }
    let expected: Vec<String> = (1..=3)
        .map(|k| case_number::format(year, last_issue + k))
        .collect();
    assert_eq!(
        issue_numbers, expected,
        "one series for the community's grids"
    );
    let order_id = order.data["order_id"].as_str().unwrap();
    assert_eq!(
        number_of(format!("/office/orders/{order_id}"), "order").await,
        case_number::format(year, last_order + 1),
        "orders count on their own"
    );

    // The same issue sent again under a new mutation id: the same record, its number unchanged.
    let mut copy = first.clone();
    copy.id = Uuid::now_v7();
    let r = s.push_ok(&leader, "office", &[copy]).await;
    assert_eq!(
        r[0].status,
        gridmate_protocol::PushStatus::Applied,
        "{:?}",
        r[0].error
    );
    let id = first.data["issue_id"].as_str().unwrap();
    assert_eq!(
        number_of(format!("/office/issues/{id}"), "issue").await,
        expected[0]
    );

    let found: Value = s
        .get(&leader, &format!("/office/issues?q={}", expected[1]))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(found["total"], 1, "{found}");
    assert_eq!(found["items"][0]["number"], expected[1].as_str());
}

/// The roll and the field over the office API: a household found by a resident's initials, read
/// whole with phones masked; the month's unvisited filter; another office's household, patrol or
/// grid not shown; the period's patrols with each person's tally adding up to the list; one patrol
/// with its track; the year's promises.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_office_reads_the_roll_and_the_field() {
    let s = Server::start().await;
    let leader = s.login(Role::GridLeader, "office").await;
    let admin = s.login(Role::CommunityAdmin, "office").await;
    let d = demo();
    let leader_grids: HashSet<Uuid> = d
        .user(Role::GridLeader)
        .assignments
        .iter()
        .filter_map(|a| a.grid_id.map(|g| g.0))
        .collect();
    let (household, resident) = d
        .households
        .iter()
        .filter(|h| leader_grids.contains(&h.grid_id.0))
        .find_map(|h| {
            d.residents
                .iter()
                .find(|r| r.household_id == h.id && r.name != h.head_name && r.phone.is_some())
                .map(|r| (h, r))
        })
        .unwrap();
    let (full, initials) = gridmate_model::search_keys::name_keys(&resident.name);
    for q in [resident.name.clone(), initials, full[..3].to_string()] {
        let page = json_of(
            s.get(&leader, &format!("/office/households?q={q}&limit=500"))
                .await,
        )
        .await;
        assert!(
            ids(&page).contains(&household.id.0),
            "{q} finds the household"
        );
    }
    let detail = json_of(
        s.get(&leader, &format!("/office/households/{}", household.id.0))
            .await,
    )
    .await;
    let body = detail.to_string();
    assert!(body.contains(&resident.name));
    assert!(
        !body.contains(resident.phone.as_deref().unwrap()),
        "phones masked"
    );
    assert!(
        detail["visits"].as_array().unwrap().len()
            == d.visits
                .iter()
                .filter(|v| v.household_id == household.id)
                .count()
    );

    // 本月未走访: due before the month ends and not visited since the first.
    let now = chrono::Utc::now();
    let month = gridmate_model::calendar::month_start(now);
    let page = json_of(
        s.get(
            &admin,
            "/office/households?unvisited_this_month=true&limit=500",
        )
        .await,
    )
    .await;
    for h in page["items"].as_array().unwrap() {
        let last: Option<chrono::DateTime<chrono::Utc>> =
            serde_json::from_value(h["last_visit_at"].clone()).unwrap();
        assert!(last.is_none_or(|l| l < month), "{h}");
    }

    // Out of scope: a household of a grid the leader does not have is not there.
    if let Some(other) = d
        .households
        .iter()
        .find(|h| !leader_grids.contains(&h.grid_id.0))
    {
        let r = s
            .get(&leader, &format!("/office/households/{}", other.id.0))
            .await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
    }
    let r = s
        .get(&leader, &format!("/office/households/{}", Uuid::now_v7()))
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    // The demo's fortnight of patrols, by the day of the demo.
    let cst = gridmate_model::calendar::china();
    let day =
        |t: chrono::DateTime<chrono::Utc>| t.with_timezone(&cst).format("%Y-%m-%d").to_string();
    let as_of = gridmate_demo::DemoConfig::lianhe().as_of;
    let period = format!(
        "from={}&to={}",
        day(as_of - chrono::Duration::days(30)),
        day(as_of)
    );
    let patrols = json_of(s.get(&admin, &format!("/office/patrols?{period}")).await).await;
    let rows = patrols["rows"].as_array().unwrap();
    assert_eq!(rows.len(), d.patrols.len(), "every patrol of the fortnight");
    let tallied: u64 = patrols["people"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["patrols"].as_u64().unwrap())
        .sum();
    assert_eq!(tallied as usize, rows.len());
    let first = rows[0]["id"].as_str().unwrap();
    let one = json_of(s.get(&admin, &format!("/office/patrols/{first}")).await).await;
    assert!(one["track"].as_array().unwrap().len() > 1);
    let r = s
        .get(&admin, &format!("/office/patrols/{}", Uuid::now_v7()))
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = s
        .get(&admin, "/office/patrols?from=2026-12-01&to=2026-11-01")
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let year = gridmate_model::calendar::year(as_of);
    let promises = json_of(
        s.get(&admin, &format!("/office/commitments?year={year}"))
            .await,
    )
    .await;
    assert_eq!(promises.as_array().unwrap().len(), d.commitments.len());
    assert_eq!(promises[0]["status"], "promised", "under way first");
    // Both as ledgers: one row per patrol of the period, per promise of its year.
    for (kind, rows) in [
        (LedgerKind::Patrols, d.patrols.len()),
        (LedgerKind::Commitments, d.commitments.len()),
    ] {
        let r = s
            .get(
                &admin,
                &format!("/office/export/{}.xlsx?{period}", kind.code()),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let bytes = r.bytes().await.unwrap();
        let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
        let sheet = book.worksheet_range(kind.title(Lang::Zh)).unwrap();
        let cells: Vec<Vec<Data>> = sheet.rows().map(|r| r.to_vec()).collect();
        let headers: Vec<String> = cells[2].iter().map(|c| c.to_string()).collect();
        assert_eq!(headers, kind.headers(Lang::Zh));
        assert_eq!(cells.len() - 3, rows, "{kind:?}");
    }
    let r = s.get(&admin, "/office/commitments?year=两千").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

/// A household corrected in the console is one `household.patch`: the same form sent twice
/// changes it once, a cadence out of range changes nothing and says why in Chinese, and the
/// street (read only) gets no form.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_household_correction_sent_twice_is_made_once() {
    let s = Server::start().await;
    let http = no_redirects();
    let cookie = session_cookie(&console_login(&s, Role::CommunityAdmin).await);
    let household = household_in(0);
    let url = format!("{}/roll/{}", console(&s), household.id.0);
    let page = http
        .get(&url)
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = csrf_in(&page);
    let at = page.find("name=\"mid\" value=\"").expect("the form's id") + 18;
    let mid = page[at..at + 36].to_string();
    let form = |cadence: &str| {
        vec![
            ("csrf", csrf.clone()),
            ("mid", mid.clone()),
            ("head_name", "王更正".to_string()),
            ("visit_cadence_days", cadence.to_string()),
            ("tag", "elderly_alone".to_string()),
        ]
    };
    let before = s.dump();
    let r = http
        .post(&url)
        .header("cookie", &cookie)
        .form(&form("400"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("走访周期应为 1–365 天"));
    assert_eq!(s.dump(), before, "nothing changed");

    let send = || async {
        let r = http
            .post(&url)
            .header("cookie", &cookie)
            .form(&form("30"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let to = r.headers()["location"].to_str().unwrap().to_string();
        assert!(to.ends_with("?ok=1"), "{to}");
    };
    send().await;
    // A phone renames the head meanwhile; the same form sent again must not undo that.
    let worker = s.login(Role::CommunityAdmin, "phone").await;
    let r = s
        .push_ok(
            &worker,
            "phone",
            &[mutation(
                "household.patch",
                json!({"id": household.id.0, "fields": {"head_name": "李四"}}),
            )],
        )
        .await;
    assert_eq!(r[0].status, gridmate_protocol::PushStatus::Applied);
    send().await;
    let admin = s.login(Role::CommunityAdmin, "y").await;
    let h = json_of(
        s.get(&admin, &format!("/office/households/{}", household.id.0))
            .await,
    )
    .await;
    assert_eq!(
        h["household"]["head_name"], "李四",
        "the resent form changed nothing"
    );
    assert_eq!(h["household"]["visit_cadence_days"], 30);
    assert_eq!(h["household"]["tags"], json!(["elderly_alone"]));
    let patches = s.number(&format!(
        "SELECT COUNT(*) FROM mutations WHERE id = '{mid}'"
    ));
    assert_eq!(patches, 1, "one mutation for the form sent twice");

    let street = session_cookie(&console_login(&s, Role::StreetViewer).await);
    let page = http
        .get(&url)
        .header("cookie", &street)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !page.contains("name=\"head_name\""),
        "read only: no correction form"
    );
}

/// The console's form and the office API's command are one typed command: sent under the same
/// mutation id through either face, in either order, they are one mutation — one event on the
/// issue, named from that id — and the second is answered as already done.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_console_action_and_the_same_api_command_are_one_mutation() {
    let server = Server::start().await;
    let s = &server;
    let http = no_redirects();
    let cookie = session_cookie(&console_login(s, Role::CommunityAdmin).await);
    let admin = s.login(Role::CommunityAdmin, "office").await;
    let d = demo();
    let accepted: Vec<Uuid> = d
        .issues
        .iter()
        .filter(|i| i.status == gridmate_model::IssueStatus::Accepted)
        .take(2)
        .map(|i| i.id.0)
        .collect();
    let worker = d.user(Role::GridWorker).user.id.0;
    let page = http
        .get(format!("{}/issues/{}", console(s), accepted[0]))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    let csrf = csrf_in(&page.text().await.unwrap());
    let by_console = |issue: Uuid, mid: Uuid, note: &'static str| {
        let (http, cookie, csrf) = (http.clone(), cookie.clone(), csrf.clone());
        let url = format!("{}/issues/{issue}", console(s));
        async move {
            let r = http
                .post(url)
                .header("cookie", &cookie)
                .form(&[
                    ("csrf", csrf.as_str()),
                    ("mid", &mid.to_string()),
                    ("action", "assign"),
                    ("assignee", &worker.to_string()),
                    ("note", note),
                ])
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::SEE_OTHER);
            r.headers()["location"].to_str().unwrap().to_string()
        }
    };
    let by_api = |issue: Uuid, mid: Uuid, note: &'static str| {
        let admin = admin.clone();
        async move {
            s.post_json(
                &admin,
                &format!("/office/issues/{issue}/steps"),
                json!({"mutation_id": mid, "action": "assign", "assignee_id": worker, "note": note}),
            )
            .await
        }
    };
    let events_noted = |issue: Uuid, note: &'static str| {
        let admin = admin.clone();
        async move {
            let detail = json_of(s.get(&admin, &format!("/office/issues/{issue}")).await).await;
            detail["events"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|e| e["note"] == note)
                .map(|e| e["id"].as_str().unwrap().parse::<Uuid>().unwrap())
                .collect::<Vec<_>>()
        }
    };
    let event_of = |mid: Uuid| Uuid::new_v5(&mid, b"event");

    // The console first, then the API under the same id.
    let (x, mid) = (accepted[0], Uuid::now_v7());
    assert!(by_console(x, mid, "控制台先派").await.ends_with("?ok=1"));
    let r = by_api(x, mid, "控制台先派").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(json_of(r).await["status"], "applied");
    assert_eq!(events_noted(x, "控制台先派").await, vec![event_of(mid)]);

    // The API first, then the console.
    let (y, mid) = (accepted[1], Uuid::now_v7());
    let r = by_api(y, mid, "接口先派").await;
    assert_eq!(json_of(r).await["status"], "applied");
    assert!(by_console(y, mid, "接口先派").await.ends_with("?ok=1"));
    assert_eq!(events_noted(y, "接口先派").await, vec![event_of(mid)]);

    // Bad commands change nothing and say why: an unknown action, an assignment to nobody (in
    // the caller's language), a field the command does not have, the street (read only).
    let before = s.dump();
    for (body, status, words) in [
        (
            json!({"mutation_id": Uuid::now_v7(), "action": "teleport"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "teleport",
        ),
        (
            json!({"mutation_id": Uuid::now_v7(), "action": "assign"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "派给谁",
        ),
        (
            json!({"mutation_id": Uuid::now_v7(), "action": "comment", "priority": 9}),
            StatusCode::BAD_REQUEST,
            "priority",
        ),
        (
            json!({"mutation_id": "not-a-uuid", "action": "comment"}),
            StatusCode::BAD_REQUEST,
            "mutation_id",
        ),
    ] {
        let r = s
            .post_json(&admin, &format!("/office/issues/{x}/steps"), body.clone())
            .await;
        assert_eq!(r.status(), status, "{body}");
        let text = r.text().await.unwrap();
        assert!(text.contains(words), "{body}: {text}");
    }
    let street = s.login(Role::StreetViewer, "street").await;
    let r = s
        .post_json(
            &street,
            &format!("/office/issues/{x}/steps"),
            json!({"mutation_id": Uuid::now_v7(), "action": "comment", "note": "街道看看"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(s.dump(), before, "no refused command wrote anything");

    // A request taken through the API is named by its mutation id, like the console's form.
    let mid = Uuid::now_v7();
    let grid = d.issues.iter().find(|i| i.id.0 == x).unwrap().grid_id.0;
    let new = json!({"mutation_id": mid, "grid_id": grid, "kind": "errand", "source": "phone",
        "title": "代取药品", "requester": "王阿姨"});
    for _ in 0..2 {
        let r = s.post_json(&admin, "/office/orders", new.clone()).await;
        assert_eq!(json_of(r).await["status"], "applied");
    }
    let order = json_of(s.get(&admin, &format!("/office/orders/{mid}")).await).await;
    assert_eq!(order["order"]["title"], "代取药品", "{order}");
}
