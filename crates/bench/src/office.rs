//! The office at a year's size: a 20-grid community of 10,000 households with a year of activity
//! (100,000 visits, 10,000 issues), served over real HTTP on 127.0.0.1. The dispatch board and
//! the statistics, as JSON and as the console's pages, each at p95 beside a floor: the same
//! records read straight from the server's SQLite file and parsed, which is the least any board
//! over them must do. Then the year's visits ledger as XLSX: its time, its rows, and how much the
//! process's peak memory grew while writing it (it is streamed, so far less than the file).

use crate::server::{PASSWORD, PHONE, start_with};
use crate::{Row, ms, percentile};
use anyhow::{Result, ensure};
use chrono::{Datelike, Duration};
use gridmate_demo::{DemoConfig, generate};
use gridmate_model::Role;
use gridmate_protocol::Entity;
use gridmate_protocol::records::VisitRecord;
use gridmate_server::database::Database;
use gridmate_server::store::{Backend, PutRecord, admin};
use std::time::{Duration as StdDuration, Instant};

/// The street's account, at the street's scale.
const STREET: &str = "13900030000";

/// This process's peak resident memory so far, in MB (Linux).
fn peak_rss_mb() -> f64 {
    crate::peak_rss_mb("self").unwrap_or(0.0)
}

async fn p95_of(
    http: &reqwest::Client,
    url: &str,
    auth: (&str, &str),
    runs: usize,
) -> Result<StdDuration> {
    let mut samples = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        let r = http.get(url).header(auth.0, auth.1).send().await?;
        ensure!(r.status().is_success(), "{url}: {}", r.status());
        r.bytes().await?;
        samples.push(t.elapsed());
    }
    Ok(percentile(&mut samples, 0.95))
}

/// Read every live record of these entities from the file and parse it: the floor.
fn raw_scan(db: &std::path::Path, entities: &[&str]) -> Result<StdDuration> {
    let conn = rusqlite::Connection::open(db)?;
    let t = Instant::now();
    let mut n = 0usize;
    for e in entities {
        let mut st = conn.prepare("SELECT data FROM records WHERE entity = ?1 AND deleted = 0")?;
        let mut rows = st.query([e])?;
        while let Some(r) = rows.next()? {
            let v: serde_json::Value = serde_json::from_str(r.get_ref(0)?.as_str()?)?;
            n += usize::from(v.is_object());
        }
    }
    ensure!(n > 0, "the floor read nothing");
    Ok(t.elapsed())
}

/// How big the office is, who reads it, and what its figures must stay under.
struct Size {
    grids: usize,
    households: usize,
    visits: usize,
    issues: usize,
    /// Who reads: the community office (over its grids) or the street (over every grid).
    reader: Role,
    runs: usize,
    ledger_target_s: f64,
}

pub fn run(quick: bool) -> Result<Vec<Row>> {
    let (households, visits, issues): (usize, usize, usize) = if quick {
        (1_000, 10_000, 1_000)
    } else {
        (10_000, 100_000, 10_000)
    };
    at_size(&Size {
        grids: 20,
        households,
        visits,
        issues,
        reader: Role::CommunityAdmin,
        runs: if quick { 5 } else { 30 },
        ledger_target_s: 5.0,
    })
}

/// The street's view at the seeds' own scale (济阳: 247 grids, ~100,000 households, a million
/// visits a year): its statistics for a year, its board, and the year's visits ledger, read by a
/// `street_viewer` over every grid. Minutes of seeding: `--only street`.
pub fn run_street(quick: bool) -> Result<Vec<Row>> {
    let scale = if quick { 10 } else { 1 };
    at_size(&Size {
        grids: 247,
        households: 100_000 / scale,
        visits: 1_000_000 / scale,
        issues: 20_000 / scale,
        reader: Role::StreetViewer,
        runs: if quick { 5 } else { 20 },
        ledger_target_s: 10.0,
    })
}

fn at_size(size: &Size) -> Result<Vec<Row>> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let (households, visits, issues) = (size.households, size.visits, size.issues);
        // The office's history lies behind today, so "the last twelve months" is what an office
        // asks at the end of its year, and a closed year is the twelve months before this one.
        let cfg = DemoConfig {
            grids: size.grids,
            buildings: households / 70,
            households,
            issues,
            ..DemoConfig::lianhe_at(chrono::Utc::now())
        };
        let today = cfg.as_of.with_timezone(&gridmate_model::calendar::china()).date_naive();
        let twelve_months = format!("from={}&to={today}", today - Duration::days(364));
        let month = today.with_day(1).unwrap_or(today);
        let closed_year = format!(
            "from={}&to={}",
            month.with_year(month.year() - 1).unwrap_or(month),
            month - Duration::days(1)
        );
        let seeding = Instant::now();
        let d = generate(&cfg);
        let s = start_with(&d, None).await?;
        // The rest of the year's visits: every household seen about ten times, by its grid's
        // worker, spread over the year.
        let extra = visits.saturating_sub(d.visits.len());
        let store = Database::open(None, &s.data)?;
        let visitor = d.visits.first().map(|v| v.visitor.0).unwrap_or_default();
        // In the order they were made, as a year of syncs writes them.
        let mut made: Vec<(chrono::DateTime<chrono::Utc>, usize)> = (0..extra)
            .map(|i| {
                let ago = Duration::minutes((i as i64 * 5_237) % (365 * 24 * 60));
                (cfg.as_of - ago, i)
            })
            .collect();
        made.sort();
        store.admin(|tx| {
            for &(at, i) in &made {
                let h = &d.households[i % d.households.len()];
                // Minted when the visit was made, as the phone does.
                let id = uuid::Uuid::new_v7(uuid::Timestamp::from_unix(
                    uuid::NoContext,
                    at.timestamp() as u64,
                    at.timestamp_subsec_nanos(),
                ));
                let rec = VisitRecord {
                    id,
                    household_id: h.id.0,
                    visitor_id: visitor,
                    started_at: at,
                    ended_at: at + Duration::minutes(20),
                    kind: "routine".into(),
                    outcome: "met".into(),
                    notes: "了解家庭近况，无新增诉求".into(),
                    people_served: 1,
                    location: None,
                    photos: vec![],
                };
                admin::put(
                    tx,
                    &PutRecord {
                        entity: Entity::Visit,
                        id,
                        grid_id: Some(h.grid_id.0),
                        building_id: Some(h.building_id.0),
                        owner_id: Some(visitor),
                        data: serde_json::to_value(rec).unwrap_or_default(),
                    },
                )?;
            }
            // The street's account reads every grid of its communities and changes nothing.
            if size.reader == Role::StreetViewer {
                admin::add_user(
                    tx,
                    uuid::Uuid::now_v7(),
                    STREET,
                    "街道压测",
                    &[Role::StreetViewer],
                    PASSWORD,
                )?;
                for g in &d.grids {
                    admin::assign(tx, STREET, Role::StreetViewer, Some(g.id.0), None)?;
                }
            }
            Ok(())
        })?;
        // Residents who reported through the resident page, their reports at every stage.
        let residents = gridmate_server::demo::seed_residents(&store, &d, cfg.as_of)?;
        drop(store);
        eprintln!(
            "office bench: {households} households, {visits} visits seeded in {:.0} s",
            seeding.elapsed().as_secs_f64()
        );
        let reader = if size.reader == Role::StreetViewer {
            STREET
        } else {
            PHONE
        };
        let token = s.login_as(reader, "bench-office").await?;
        let bearer = format!("Bearer {token}");
        let console = s.base.trim_end_matches("/api/v1").to_string() + "/console";
        let session = {
            let r = reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()?
                .post(format!("{console}/login"))
                .form(&[("phone", reader), ("password", PASSWORD)])
                .send()
                .await?;
            let set = r
                .headers()
                .get("set-cookie")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string();
            set.split(';').next().unwrap_or_default().to_string()
        };
        let runs = size.runs;
        let db = s.data.join("gridmate-server.sqlite");
        let board_floor = {
            let mut v = (0..5).map(|_| raw_scan(&db, &["issue"])).collect::<Result<Vec<_>>>()?;
            percentile(&mut v, 0.5)
        };
        let stats_floor = {
            let mut v = (0..3)
                .map(|_| raw_scan(&db, &["household", "visit", "issue", "issue_event"]))
                .collect::<Result<Vec<_>>>()?;
            percentile(&mut v, 0.5)
        };
        let who = if size.reader == Role::StreetViewer { "the street" } else { "the community office" };
        let ledger_target_s = size.ledger_target_s;
        let size = format!("{} grids, {households} households, {visits} visits, {issues} issues, read by {who}", cfg.grids);
        let scale = format!("{} grids, {households} households, {visits} visits, {issues} issues", cfg.grids);
        let mut rows = resident_pages(&s, &db, &residents, runs, &scale).await?;
        let target_ms = 200.0;
        for (name, url, auth, floor) in [
            ("office API: board, open issues, first page", format!("{}/office/issues?status=open", s.base), ("authorization", bearer.as_str()), board_floor),
            ("office API: board, one grid's overdue", format!("{}/office/issues?overdue=true&grid={}", s.base, d.grids[0].id.0), ("authorization", bearer.as_str()), board_floor),
            ("console: the board page (HTML)", format!("{console}/board"), ("cookie", session.as_str()), board_floor),
            ("office API: statistics, last 30 days", format!("{}/office/stats", s.base), ("authorization", bearer.as_str()), stats_floor),
            ("office API: statistics, the last twelve months to today", format!("{}/office/stats?{twelve_months}", s.base), ("authorization", bearer.as_str()), stats_floor),
            ("office API: statistics, a closed year (the twelve months before this one)", format!("{}/office/stats?{closed_year}", s.base), ("authorization", bearer.as_str()), stats_floor),
            ("console: the statistics page (HTML, SVG charts)", format!("{console}/stats"), ("cookie", session.as_str()), stats_floor),
        ] {
            let p95 = p95_of(&s.http, &url, auth, runs).await?;
            rows.push(Row {
                name: format!("{name}: p95 of {runs}, {size}"),
                value: format!("{:.0} ms", ms(p95)),
                floor: format!("{:.0} ms raw SQLite read + parse of the same records", ms(floor)),
                ratio: Some(ms(p95) / ms(floor).max(0.001)),
                target: format!("< {target_ms:.0} ms"),
                pass: Some(ms(p95) < target_ms),
            });
        }

        // The year's visits as XLSX, streamed.
        let before = peak_rss_mb();
        let t = Instant::now();
        let r = s
            .http
            .get(format!("{}/office/export/visits.xlsx?{twelve_months}", s.base))
            .bearer_auth(&token)
            .send()
            .await?;
        ensure!(r.status().is_success(), "export: {}", r.status());
        let bytes = r.bytes().await?;
        let export = t.elapsed();
        let grew = peak_rss_mb() - before;
        let visits_floor = {
            let mut v = (0..3).map(|_| raw_scan(&db, &["visit"])).collect::<Result<Vec<_>>>()?;
            percentile(&mut v, 0.5)
        };
        rows.push(Row {
            name: format!(
                "office API: the year's visits ledger as XLSX ({:.1} MB; peak memory grew {:.0} MB while writing it), {size}",
                bytes.len() as f64 / 1e6,
                grew.max(0.0)
            ),
            value: format!("{:.2} s", export.as_secs_f64()),
            floor: format!("{:.0} ms raw SQLite read + parse of the visits", ms(visits_floor)),
            ratio: Some(ms(export) / ms(visits_floor).max(0.001)),
            target: format!("< {ledger_target_s:.0} s, streamed"),
            pass: Some(export.as_secs_f64() < ledger_target_s),
        });
        Ok(rows)
    })
}

/// The resident's own page and the public board, each at p95 beside a floor: the rows they show
/// read straight from the SQLite file and parsed (the resident's records by owner; the grids,
/// the month's closes and ratings by their facts).
async fn resident_pages(
    s: &crate::server::Running,
    db: &std::path::Path,
    residents: &[gridmate_server::demo::DemoAccount],
    runs: usize,
    size: &str,
) -> Result<Vec<Row>> {
    let resident = residents
        .first()
        .ok_or_else(|| anyhow::anyhow!("no demo resident"))?;
    let site = s.base.trim_end_matches("/api/v1").to_string() + "/resident";
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let door = browser.get(format!("{site}/")).send().await?.text().await?;
    let at = door.find("name=\"form\" value=\"").map(|i| i + 19);
    let token = at.map(|i| door[i..i + 32].to_string()).unwrap_or_default();
    let sent = browser
        .post(format!("{site}/code"))
        .form(&[("form", token.as_str()), ("phone", resident.phone.as_str())])
        .send()
        .await?;
    ensure!(sent.status().is_success(), "code: {}", sent.status());
    let code: String = {
        let conn = rusqlite::Connection::open(db)?;
        let params: String = conn.query_row(
            "SELECT params FROM messages WHERE notice = 'resident_code' AND address = ?1
             ORDER BY created_at DESC LIMIT 1",
            [&resident.phone],
            |r| r.get(0),
        )?;
        let params: Vec<(String, String)> = serde_json::from_str(&params)?;
        params.into_iter().next().map(|p| p.1).unwrap_or_default()
    };
    let signed = browser
        .post(format!("{site}/sign-in"))
        .form(&[
            ("form", token.as_str()),
            ("phone", resident.phone.as_str()),
            ("code", code.as_str()),
        ])
        .send()
        .await?;
    ensure!(
        signed.status().is_redirection(),
        "sign-in: {}",
        signed.status()
    );
    let account = gridmate_server::store::residents::account_id(&resident.phone).to_string();
    let mine_floor = {
        let conn = rusqlite::Connection::open(db)?;
        let mut v = Vec::new();
        for _ in 0..5 {
            let t = Instant::now();
            let mut st =
                conn.prepare("SELECT data FROM records WHERE owner_id = ?1 AND deleted = 0")?;
            let mut rows = st.query([&account])?;
            let mut n = 0;
            while let Some(r) = rows.next()? {
                let v: serde_json::Value = serde_json::from_str(r.get_ref(0)?.as_str()?)?;
                n += usize::from(v.is_object());
            }
            ensure!(n > 0, "the resident's floor read nothing");
            v.push(t.elapsed());
        }
        percentile(&mut v, 0.5)
    };
    let board_floor =
        {
            let conn = rusqlite::Connection::open(db)?;
            let month =
                gridmate_model::calendar::month_start(chrono::Utc::now()).timestamp_millis();
            let mut v = Vec::new();
            for _ in 0..5 {
                let t = Instant::now();
                let mut n = 0usize;
                for sql in [
                "SELECT data FROM records WHERE entity IN ('grid', 'building') AND deleted = 0",
                "SELECT r.data FROM facts f JOIN records r ON r.entity = f.entity AND r.id = f.id
                  WHERE f.entity = 'issue_event' AND f.at >= ?1
                    AND f.kind IN ('close', 'rate', 'send_back')",
            ] {
                let mut st = conn.prepare(sql)?;
                let mut rows = if sql.contains("?1") { st.query([month])? } else { st.query([])? };
                while let Some(r) = rows.next()? {
                    let v: serde_json::Value = serde_json::from_str(r.get_ref(0)?.as_str()?)?;
                    n += usize::from(v.is_object());
                }
            }
                ensure!(n > 0, "the board's floor read nothing");
                v.push(t.elapsed());
            }
            percentile(&mut v, 0.5)
        };
    let target_ms = 50.0;
    let mut rows = Vec::new();
    for (name, url, floor, what) in [
        (
            "resident page: my requests (signed in)",
            format!("{site}/"),
            mine_floor,
            "the resident's own records by owner",
        ),
        (
            "resident page: the public board, every grid",
            format!("{site}/board"),
            board_floor,
            "the grids, buildings and the month's closes and ratings",
        ),
    ] {
        let mut samples = Vec::with_capacity(runs);
        for _ in 0..runs {
            let t = Instant::now();
            let r = browser.get(&url).send().await?;
            ensure!(r.status().is_success(), "{url}: {}", r.status());
            r.bytes().await?;
            samples.push(t.elapsed());
        }
        let p95 = percentile(&mut samples, 0.95);
        rows.push(Row {
            name: format!("{name}: p95 of {runs}, {size}"),
            value: format!("{:.1} ms", ms(p95)),
            floor: format!("{:.1} ms raw SQLite read + parse of {what}", ms(floor)),
            ratio: Some(ms(p95) / ms(floor).max(0.001)),
            target: format!("< {target_ms:.0} ms"),
            pass: Some(ms(p95) < target_ms),
        });
    }
    Ok(rows)
}
