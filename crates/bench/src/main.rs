//! Gridmate's benchmarks in one run: each result beside a floor measured in the same run on the
//! same machine, so the ratio means something on a noisy 2-core box.
//!
//! ```text
//! cargo run --release -p gridmate-bench            # prints the table and rewrites BENCHMARKS.md
//! cargo run --release -p gridmate-bench -- --quick # smaller counts, for a smoke run
//! cargo run --release -p gridmate-bench -- --only server   # one part, BENCHMARKS.md untouched
//!                                                   (add --write to rewrite its section)
//! cargo run --release -p gridmate-bench -- --only burst    # the server's 200-device burst alone
//! cargo run --release -p gridmate-bench -- --only at-once  # 50 phones pushing at once, SQLite and PostgreSQL
//! cargo run --release -p gridmate-bench -- --only office   # the office at a year's size
//! cargo run --release -p gridmate-bench -- --only street   # the street: 247 grids, 1M visits
//! cargo run --release -p gridmate-bench -- --only field    # my tasks, a 2-hour patrol
//! cargo run --release -p gridmate-bench -- --only city     # 5,000 grids, 2,000,000 households
//! cargo run --release -p gridmate-bench -- --only netem    # a first sync over 1.6 Mbit/s (root)
//! cargo run --release -p gridmate-bench -- --only reach    # a call-up to 500 by SMS, 2,000 phones woken
//! ```
//!
//! The floors use raw SQLite on purpose: they measure what the machine can do at best, which is
//! the yardstick for what the store adds on top.

mod app;
mod city;
mod desktop;
mod field;
mod netem;
mod office;
mod peer;
mod postgres;
mod reach;
mod relay;
mod server;
mod sync;

use anyhow::Result;
use chrono::{Duration, Utc};
use gridmate_demo::{DemoCommunity, DemoConfig, generate};
use gridmate_device::search_keys::name_keys;
use gridmate_device::{NewVisit, ScopeData, Session, Store, photos};
use gridmate_model::validate::{mask_id_number, mask_phone};
use gridmate_model::*;
use rusqlite::{Connection, params};
use std::time::{Duration as StdDuration, Instant};

struct Row {
    name: String,
    value: String,
    floor: String,
    ratio: Option<f64>,
    target: String,
    pass: Option<bool>,
}

fn ms(d: StdDuration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn percentile(samples: &mut [StdDuration], p: f64) -> StdDuration {
    samples.sort();
    let i = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples[i]
}

fn median_of<F: FnMut() -> Result<StdDuration>>(runs: usize, mut f: F) -> Result<StdDuration> {
    let mut v = (0..runs).map(|_| f()).collect::<Result<Vec<_>>>()?;
    Ok(percentile(&mut v, 0.5))
}

/// A release binary of this workspace, built into the target folder this benchmark runs from
/// (whatever CARGO_TARGET_DIR says now), beside it.
fn release_binary(package: &str, bin: &str) -> Result<std::path::PathBuf> {
    let exe = std::env::current_exe()?;
    let target = exe
        .parent()
        .and_then(std::path::Path::parent)
        .ok_or_else(|| anyhow::anyhow!("the benchmark runs from <target>/release"))?;
    let status = std::process::Command::new(env!("CARGO"))
        .args(["build", "--release", "-q", "-p", package, "--bin", bin])
        .arg("--target-dir")
        .arg(target)
        .status()?;
    anyhow::ensure!(status.success(), "building {bin} failed");
    let path = exe.with_file_name(bin);
    anyhow::ensure!(path.exists(), "no {}", path.display());
    Ok(path)
}

/// The peak resident memory of process `pid` (or `"self"`) so far, in MB, from `/proc` (Linux);
/// `None` once it has exited or where there is no `/proc`.
fn peak_rss_mb(pid: &str) -> Option<f64> {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()?
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    // `--only server` (or store, sync, app): one part, printed, BENCHMARKS.md left alone.
    if let Some(part) = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1))
    {
        let rows = match part.as_str() {
            "server" => server::run(quick)?,
            "burst" => server::run_burst(quick)?,
            "at-once" => server::run_at_once(quick)?,
            "office" => office::run(quick)?,
            "street" => office::run_street(quick)?,
            "sync" => sync::run(quick)?,
            "app" => app::run(quick)?,
            "field" => field::run(quick)?,
            "city" => city::run(quick)?,
            "netem" => netem::run_bench(quick)?,
            "reach" => reach::run(quick)?,
            other => {
                anyhow::bail!(
                    "no part {other:?}: server, burst, at-once, office, street, sync, app, field, city, netem or reach"
                )
            }
        };
        println!("{}", render(&rows));
        // `--write`: this part's section of BENCHMARKS.md, when a full run takes too long.
        if args.iter().any(|a| a == "--write") && !quick {
            write_section(
                part,
                &format!(
                    "Run on {} with {} cores, `cargo run --release -p gridmate-bench -- --only {part} --write`.\n\n{}",
                    Utc::now().format("%Y-%m-%d"),
                    std::thread::available_parallelism().map_or(0, |n| n.get()),
                    render(&rows)
                ),
            )?;
        }
        return Ok(());
    }
    let mut rows = Vec::new();
    let started = Instant::now();

    for households in [500, 5_000, 50_000] {
        let demo = generate(&DemoConfig::scaled(households));
        rows.push(bulk_load(&demo, households)?);
        let (dir, store) = loaded_store(&demo)?;
        rows.push(search(
            &store,
            dir.path(),
            &demo,
            households,
            if quick { 300 } else { 3_000 },
        )?);
    }
    let demo = generate(&DemoConfig::scaled(5_000));
    rows.push(visit_write(&demo, if quick { 200 } else { 2_000 })?);
    rows.push(photo_ingest(if quick { 2 } else { 5 })?);
    let store_rows = rows.len();
    rows.extend(server::run(quick)?);
    let server_rows = rows.len();
    rows.extend(office::run(quick)?);
    let office_rows = rows.len();
    rows.extend(sync::run(quick)?);
    let sync_rows = rows.len();
    rows.extend(app::run(quick)?);
    let app_rows = rows.len();
    rows.extend(field::run(quick)?);
    let field_rows = rows.len();
    rows.extend(reach::run(quick)?);
    let reach_rows = rows.len();
    // A city and a slow link take minutes and need root: the full run only.
    if !quick {
        rows.extend(city::run(quick)?);
    }
    let city_rows = rows.len();
    if !quick {
        rows.extend(netem::run_bench(quick)?);
    }

    let table = render(&rows[..store_rows]);
    let server_table = render(&rows[store_rows..server_rows]);
    let office_table = render(&rows[server_rows..office_rows]);
    let sync_table = render(&rows[office_rows..sync_rows]);
    let app_table = render(&rows[sync_rows..app_rows]);
    let field_table = render(&rows[app_rows..field_rows]);
    let reach_table = render(&rows[field_rows..reach_rows]);
    let city_table = render(&rows[reach_rows..city_rows]);
    let netem_table = render(&rows[city_rows..]);
    let all_table = render(&rows);
    println!("{all_table}");
    let header = format!(
        "Run on {} with {} cores, `cargo run --release -p gridmate-bench`, {:.0} s.\n\n",
        Utc::now().format("%Y-%m-%d"),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        started.elapsed().as_secs_f64()
    );
    if !quick {
        write_section("store", &format!("{header}{table}"))?;
        write_section("server", &format!("{header}{server_table}"))?;
        write_section("office", &format!("{header}{office_table}"))?;
        write_section("sync", &format!("{header}{sync_table}"))?;
        write_section("app", &format!("{header}{app_table}"))?;
        write_section("field", &format!("{header}{field_table}"))?;
        write_section("reach", &format!("{header}{reach_table}"))?;
        write_section("city", &format!("{header}{city_table}"))?;
        write_section("netem", &format!("{header}{netem_table}"))?;
        write_section("all", &format!("{header}{all_table}"))?;
    }
    Ok(())
}

fn render(rows: &[Row]) -> String {
    let mut s = String::from(
        "| benchmark | value | floor | ratio | target | pass |\n|---|---|---|---|---|---|\n",
    );
    for r in rows {
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            r.name,
            r.value,
            r.floor,
            r.ratio.map_or("—".into(), |x| format!("{x:.2}×")),
            r.target,
            r.pass.map_or("—", |p| if p { "pass" } else { "FAIL" })
        ));
    }
    s
}

/// Replace the `<!-- NAME:start -->…<!-- NAME:end -->` section of BENCHMARKS.md.
fn write_section(name: &str, body: &str) -> Result<()> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../BENCHMARKS.md");
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let (start, end) = (
        format!("<!-- {name}:start -->"),
        format!("<!-- {name}:end -->"),
    );
    let section = format!("{start}\n{body}{end}");
    let new = match (text.find(&start), text.find(&end)) {
        (Some(a), Some(b)) if b > a => format!("{}{section}{}", &text[..a], &text[b + end.len()..]),
        _ => format!("{text}\n{section}\n"),
    };
    std::fs::write(path, new)?;
    Ok(())
}

fn session(d: &DemoCommunity, role: Role) -> Session {
    let u = d.user(role);
    Session {
        user: u.user.clone(),
        assignments: u.assignments.clone(),
    }
}

fn loaded_store(d: &DemoCommunity) -> Result<(tempfile::TempDir, Store)> {
    let dir = tempfile::tempdir()?;
    let mut store = Store::open(dir.path())?;
    store.load_scope(ScopeData::of_demo(d, true))?;
    store.sign_in(&session(d, Role::GridWorker))?;
    Ok((dir, store))
}

/// The floor for a bulk load: the same final rows (search keys, masks and visit status computed
/// beforehand, untimed) inserted with plain prepared INSERTs in one transaction into the same
/// schema with the same pragmas.
fn raw_insert_floor(d: &DemoCommunity) -> Result<StdDuration> {
    let dir = tempfile::tempdir()?;
    let mut conn = Connection::open(dir.path().join("floor.sqlite"))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    gridmate_device::migrate::migrate(&mut conn)?;
    let keys: Vec<(String, String)> = d.residents.iter().map(|r| name_keys(&r.name)).collect();
    let mut last_visit = std::collections::HashMap::new();
    for v in &d.visits {
        let t = v.started_at.timestamp_millis();
        let e = last_visit.entry(v.household_id).or_insert(t);
        *e = (*e).max(t);
    }
    let boundary = "[]";
    let t = Instant::now();
    let tx = conn.transaction()?;
    tx.execute(
        "INSERT INTO community VALUES (?1, ?2, ?3)",
        params![d.community.id.0, d.community.name, d.community.district],
    )?;
    {
        let mut st = tx.prepare("INSERT INTO grids VALUES (?1, ?2, ?3, ?4, ?5, ?6)")?;
        for g in &d.grids {
            st.execute(params![
                g.id.0,
                g.community_id.0,
                g.code,
                g.name,
                g.kind.code(),
                boundary
            ])?;
        }
        let mut st = tx.prepare("INSERT INTO buildings VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")?;
        for b in &d.buildings {
            st.execute(params![
                b.id.0,
                b.grid_id.0,
                b.number,
                b.estate,
                b.units,
                b.floors,
                b.lat,
                b.lon
            ])?;
        }
        let mut st = tx.prepare(
            "INSERT INTO households VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        )?;
        for h in &d.households {
            let last = last_visit.get(&h.id).copied();
            let due = last.map_or(0, |l| l + i64::from(h.visit_cadence_days) * 86_400_000);
            let tags: Vec<&str> = h.tags.iter().map(|t| t.code()).collect();
            st.execute(params![
                h.id.0,
                h.grid_id.0,
                h.building_id.0,
                h.unit,
                h.room,
                h.address,
                h.head_name,
                tags.join(","),
                h.is_vulnerable(),
                h.visit_cadence_days,
                last,
                due
            ])?;
        }
        let mut st = tx.prepare(
            "INSERT INTO residents (id, household_id, name, name_pinyin, name_initials, relation,
                 birth_year, phone, phone_masked, id_number_masked, tags)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        )?;
        for (r, (py, ini)) in d.residents.iter().zip(&keys) {
            st.execute(params![
                r.id.0,
                r.household_id.0,
                r.name,
                py,
                ini,
                r.relation,
                r.birth_year,
                r.phone,
                r.phone.as_deref().map(mask_phone),
                r.id_number.as_deref().map(mask_id_number),
                ""
            ])?;
        }
        let mut st = tx.prepare(
            "INSERT INTO visits VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, NULL, NULL, NULL, '')",
        )?;
        for v in &d.visits {
            st.execute(params![
                v.id.0,
                v.household_id.0,
                v.visitor.0,
                v.started_at.timestamp_millis(),
                v.ended_at.timestamp_millis(),
                v.kind.code(),
                v.outcome.code(),
                v.notes,
                v.people_served
            ])?;
        }
        let mut st = tx.prepare(
            "INSERT INTO issues (id, grid_id, building_id, household_id, category, severity,
                 source, status, title, description, lat, lon, reported_by, reported_at, photos)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, '')",
        )?;
        for i in &d.issues {
            st.execute(params![
                i.id.0,
                i.grid_id.0,
                i.building_id.map(|b| b.0),
                i.household_id.map(|h| h.0),
                i.category.code(),
                i.severity.code(),
                i.source.code(),
                i.status.code(),
                i.title,
                i.description,
                i.location.map(|l| l.0),
                i.location.map(|l| l.1),
                i.reported_by.0,
                i.reported_at.timestamp_millis()
            ])?;
        }
    }
    tx.commit()?;
    Ok(t.elapsed())
}

fn bulk_load(d: &DemoCommunity, households: usize) -> Result<Row> {
    let runs = if households >= 50_000 { 1 } else { 3 };
    let ours = median_of(runs, || {
        let dir = tempfile::tempdir()?;
        let mut store = Store::open(dir.path())?;
        let t = Instant::now();
        store.load_scope(ScopeData::of_demo(d, true))?;
        Ok(t.elapsed())
    })?;
    let floor = median_of(runs, || raw_insert_floor(d))?;
    let ratio = ours.as_secs_f64() / floor.as_secs_f64();
    Ok(Row {
        name: format!(
            "bulk load {} households / {} residents",
            households,
            d.residents.len()
        ),
        value: format!("{:.0} ms", ms(ours)),
        floor: format!("{:.0} ms raw INSERTs", ms(floor)),
        ratio: Some(ratio),
        target: "≤ 1.5× floor".into(),
        pass: Some(ratio <= 1.5),
    })
}

fn search(
    store: &Store,
    dir: &std::path::Path,
    d: &DemoCommunity,
    households: usize,
    n: usize,
) -> Result<Row> {
    // A keystroke mix: surname, full name, initials, pinyin prefix, building-unit-room.
    let mut queries = Vec::with_capacity(n);
    let buildings: std::collections::HashMap<_, _> =
        d.buildings.iter().map(|b| (b.id, b)).collect();
    let step = (d.residents.len() / n).max(1);
    for (i, r) in d.residents.iter().step_by(step).take(n).enumerate() {
        let (py, ini) = name_keys(&r.name);
        let h = &d.households[(i * 7919) % d.households.len()];
        queries.push(match i % 5 {
            0 => r.name.chars().take(1).collect(),
            1 => r.name.clone(),
            2 => ini,
            3 => py.chars().take(5).collect(),
            _ => format!("{}-{}-{}", buildings[&h.building_id].number, h.unit, h.room),
        });
    }
    let mut samples = Vec::with_capacity(queries.len());
    let mut found = 0usize;
    for q in &queries {
        let t = Instant::now();
        let hits = store.search(q, 30)?;
        samples.push(t.elapsed());
        found += usize::from(!hits.is_empty());
    }
    anyhow::ensure!(
        found * 10 >= queries.len() * 9,
        "search found too little: {found}/{}",
        queries.len()
    );
    // Floor: a primary-key lookup of a resident through the same connection kind.
    let conn = Connection::open(dir.join(gridmate_device::DATABASE_FILE))?;
    let mut st = conn.prepare("SELECT name FROM residents WHERE id = ?1")?;
    let mut floor = Vec::with_capacity(queries.len());
    for r in d.residents.iter().step_by(step).take(n) {
        let t = Instant::now();
        let name: String = st.query_row([r.id.0], |row| row.get(0))?;
        anyhow::ensure!(name == r.name);
        floor.push(t.elapsed());
    }
    let p99 = percentile(&mut samples, 0.99);
    let p50 = percentile(&mut samples, 0.5);
    let f99 = percentile(&mut floor, 0.99);
    Ok(Row {
        name: format!(
            "search keystroke, {households} households / {} residents (p50 {:.3} ms)",
            d.residents.len(),
            ms(p50)
        ),
        value: format!("p99 {:.3} ms", ms(p99)),
        floor: format!("p99 {:.3} ms primary-key lookup", ms(f99)),
        ratio: Some(p99.as_secs_f64() / f99.as_secs_f64()),
        target: "p99 < 2 ms".into(),
        pass: Some(ms(p99) < 2.0),
    })
}

fn visit_write(d: &DemoCommunity, n: usize) -> Result<Row> {
    let (dir, mut store) = loaded_store(d)?;
    let photos = vec![
        PhotoRef::parse(&"ab".repeat(32)).unwrap(),
        PhotoRef::parse(&"cd".repeat(32)).unwrap(),
    ];
    let mut samples = Vec::with_capacity(n);
    for i in 0..n {
        let now = Utc::now();
        let v = NewVisit {
            household_id: d.households[i % d.households.len()].id,
            started_at: now - Duration::minutes(15),
            ended_at: now,
            kind: VisitKind::Routine,
            outcome: VisitOutcome::Met,
            notes: "了解家庭情况，宣传冬季消防安全".into(),
            people_served: 2,
            location: Some(GpsFix {
                lat: 22.59,
                lon: 113.08,
                accuracy_m: 12.0,
                mock_location: false,
            }),
            photos: photos.clone(),
            raised_issues: vec![],
        };
        let t = Instant::now();
        store.record_visit(v)?;
        samples.push(t.elapsed());
    }
    drop(store);
    // Floor: one plain INSERT per transaction into the same file with the same durability.
    let conn = Connection::open(dir.path().join(gridmate_device::DATABASE_FILE))?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    let mut st = conn.prepare("INSERT INTO device_state (key, value) VALUES (?1, ?2)")?;
    let mut floor = Vec::with_capacity(n);
    for i in 0..n {
        let t = Instant::now();
        st.execute(params![format!("floor-{i}"), "x"])?;
        floor.push(t.elapsed());
    }
    let p99 = percentile(&mut samples, 0.99);
    let p50 = percentile(&mut samples, 0.5);
    let f99 = percentile(&mut floor, 0.99);
    Ok(Row {
        name: format!(
            "record a visit with 2 photo refs, transaction + outbox (p50 {:.3} ms)",
            ms(p50)
        ),
        value: format!("p99 {:.3} ms", ms(p99)),
        floor: format!("p99 {:.3} ms one-row INSERT commit", ms(f99)),
        ratio: Some(p99.as_secs_f64() / f99.as_secs_f64()),
        target: "p99 < 2 ms".into(),
        pass: Some(ms(p99) < 2.0),
    })
}

/// A 4000×3000 camera-like JPEG: smooth gradients with sensor-like noise, quality 92.
fn camera_jpeg() -> Result<Vec<u8>> {
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let img = image::RgbImage::from_fn(4000, 3000, |x, y| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let noise = (seed % 17) as i32 - 8;
        let c = |base: i32| (base + noise).clamp(0, 255) as u8;
        image::Rgb([
            c((x / 16) as i32 % 256),
            c((y / 12) as i32 % 256),
            c(((x + y) / 28) as i32 % 256),
        ])
    });
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 92).encode_image(&img)?;
    Ok(out)
}

fn photo_ingest(runs: usize) -> Result<Row> {
    let input = camera_jpeg()?;
    let ours = median_of(runs, || {
        let t = Instant::now();
        let p = photos::process(&input)?;
        anyhow::ensure!(p.width == 1600 && p.height == 1200);
        Ok(t.elapsed())
    })?;
    let floor = median_of(runs, || {
        let t = Instant::now();
        let img = image::load_from_memory(&input)?.into_rgb8();
        let mut out = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 80).encode_image(&img)?;
        Ok(t.elapsed())
    })?;
    Ok(Row {
        name: format!(
            "photo ingest 4000×3000 JPEG ({:.1} MB) → 1600 px + thumb, one thread",
            input.len() as f64 / 1e6
        ),
        value: format!("{:.0} ms", ms(ours)),
        floor: format!("{:.0} ms plain decode + encode", ms(floor)),
        ratio: Some(ours.as_secs_f64() / floor.as_secs_f64()),
        target: "< 300 ms".into(),
        pass: Some(ms(ours) < 300.0),
    })
}
