//! A city on one server: 5,000 grids of 400 households (2,000,000), loaded the way a city's IT
//! office would load them — the `gridmate-server import` command reading the grids' GeoJSON and
//! the households' CSV — timed, with the import process's peak memory. Then one grid worker's
//! sync at that size beside the same at 20 grids: their first full pull (every page) and an
//! incremental pull after 50 visits in their grid. A scope is one grid whatever the city's size,
//! so both must stay within 1.5× of the small server's.
//!
//! `--quick` runs 50 grids. Residents are not imported here: the per-person ledger is a
//! community's upload (`console::people`, capped per file), not a city-wide command.

use crate::server::{PASSWORD, start_on};
use crate::{Row, ms, percentile};
use anyhow::{Context, Result, bail, ensure};
use gridmate_model::Role;
use gridmate_protocol::*;
use gridmate_server::database::Database;
use gridmate_server::store::{Backend, admin};
use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const PER_GRID: usize = 400;
const GRIDS_PER_COMMUNITY: usize = 20;
const WORKER: &str = "13900020000";

/// `grids` squares of 300 m on a lattice west of Jinan, as GeoJSON, codes `C000001`…
fn write_grids(path: &Path, grids: usize) -> Result<()> {
    let side = (grids as f64).sqrt().ceil() as usize;
    let (lat0, lon0, step) = (36.90, 116.90, 0.003);
    let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
    write!(f, "{{\"type\":\"FeatureCollection\",\"features\":[")?;
    for i in 0..grids {
        let (r, c) = (i / side, i % side);
        let (la, lo) = (lat0 + r as f64 * step, lon0 + c as f64 * step);
        let ring = [
            (lo, la),
            (lo + step, la),
            (lo + step, la + step),
            (lo, la + step),
            (lo, la),
        ]
        .iter()
        .map(|(x, y)| format!("[{x:.6},{y:.6}]"))
        .collect::<Vec<_>>()
        .join(",");
        if i > 0 {
            write!(f, ",")?;
        }
        write!(
            f,
            "{{\"type\":\"Feature\",\"properties\":{{\"code\":\"C{i:06}\",\"name\":\"第{}网格\",\"community\":\"第{}社区\"}},\"geometry\":{{\"type\":\"Polygon\",\"coordinates\":[[{ring}]]}}}}",
            i % GRIDS_PER_COMMUNITY + 1,
            i / GRIDS_PER_COMMUNITY + 1
        )?;
    }
    write!(f, "]}}")?;
    f.flush()?;
    Ok(())
}

/// `PER_GRID` households in each grid: 10 buildings of 2 units, 20 rooms a unit.
fn write_households(path: &Path, grids: usize) -> Result<()> {
    const SURNAMES: [&str; 8] = ["王", "李", "张", "刘", "陈", "杨", "赵", "黄"];
    let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(f, "网格编码,楼栋,单元,房号,户主姓名,户主电话,标签")?;
    for g in 0..grids {
        for h in 0..PER_GRID {
            let (building, unit, room) = (h / 40 + 1, h % 40 / 20 + 1, h % 20);
            let floor = room / 2 + 1;
            let tag = if h % 17 == 0 { "独居老人" } else { "" };
            writeln!(
                f,
                "C{g:06},{building},{unit},{floor}0{},{}{}{},139{:08},{tag}",
                room % 2 + 1,
                SURNAMES[h % 8],
                ["建国", "秀英", "志强"][h % 3],
                h % 10,
                (g * PER_GRID + h) % 100_000_000
            )?;
        }
    }
    f.flush()?;
    Ok(())
}

/// Run one server command to its end: its wall time and its peak resident memory (MB), read
/// from `/proc` while it runs.
fn run_measured(cmd: &mut Command) -> Result<(Duration, f64)> {
    let t = Instant::now();
    let mut child = cmd.spawn()?;
    let pid = child.id().to_string();
    let mut peak_mb = 0f64;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if let Some(mb) = crate::peak_rss_mb(&pid) {
            peak_mb = peak_mb.max(mb);
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    ensure!(status.success(), "{cmd:?} failed: {status}");
    Ok((t.elapsed(), peak_mb))
}

/// A city of `grids` grids loaded through the import command.
struct Loaded {
    import: Duration,
    peak_mb: f64,
    households: usize,
}

fn load(bin: &Path, dir: &Path, postgres: Option<&str>, grids: usize) -> Result<Loaded> {
    let grids_file = dir.join("grids.geojson");
    let households_file = dir.join("households.csv");
    write_grids(&grids_file, grids)?;
    write_households(&households_file, grids)?;
    let db = |c: &mut Command| {
        c.arg("--data").arg(dir.join("data"));
        if let Some(url) = postgres {
            c.arg("--database").arg(url);
        }
    };
    let mut import = Duration::ZERO;
    let mut peak_mb = 0f64;
    for (what, file) in [("grids", &grids_file), ("households", &households_file)] {
        let mut c = Command::new(bin);
        c.args(["import", what]);
        db(&mut c);
        let log = dir.join(format!("import-{what}.log"));
        c.arg(file).stderr(std::fs::File::create(&log)?);
        let (t, mb) = run_measured(&mut c).with_context(|| {
            format!(
                "importing {what}: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            )
        })?;
        import += t;
        peak_mb = peak_mb.max(mb);
    }
    Ok(Loaded {
        import,
        peak_mb,
        households: grids * PER_GRID,
    })
}

/// One grid worker's sync against the server at `dir`: the median of 3 first full pulls, and the
/// median of 3 incremental pulls each after 50 visits pushed in their grid.
async fn sync_times(dir: &Path, postgres: Option<&str>) -> Result<(Duration, Duration, usize)> {
    let store = Database::open(postgres, &dir.join("data"))?;
    let first_grid = store.read(|tx| {
        let grids = tx.live_data(Entity::Grid)?;
        let mut ids: Vec<(String, uuid::Uuid)> = grids
            .iter()
            .filter_map(|g| serde_json::from_str::<records::GridRecord>(g).ok())
            .map(|g| (g.code, g.id))
            .collect();
        ids.sort();
        Ok(ids.first().map(|g| g.1))
    });
    let Some(grid) = first_grid.await? else {
        bail!("no grid was imported");
    };
    store.admin(|tx| {
        if tx.user_by_phone(WORKER)?.is_none() {
            admin::add_user(
                tx,
                uuid::Uuid::now_v7(),
                WORKER,
                "城市压测网格员",
                &[Role::GridWorker],
                PASSWORD,
            )?;
            admin::assign(tx, WORKER, Role::GridWorker, Some(grid), None)?;
        }
        Ok(())
    })?;
    let s = start_on(store, dir).await?;
    let token = s.login_as(WORKER, "city-0").await?;
    let mut firsts = Vec::new();
    let mut head = String::new();
    let mut records = 0;
    for _ in 0..3 {
        let t = Instant::now();
        let mut cursor: Option<String> = None;
        records = 0;
        loop {
            let (_, page) = s.page(&token, cursor.as_deref(), 5_000, "identity").await?;
            let page = page.expect("identity pages decode");
            records += page.changes.len();
            cursor = Some(page.cursor);
            if !page.has_more {
                break;
            }
        }
        firsts.push(t.elapsed());
        head = cursor.unwrap_or_default();
    }
    let households: Vec<uuid::Uuid> = {
        let (_, page) = s.page(&token, None, 5_000, "identity").await?;
        page.expect("identity pages decode")
            .changes
            .iter()
            .filter(|c| c.entity == Entity::Household)
            .map(|c| c.id)
            .collect()
    };
    ensure!(
        !households.is_empty(),
        "the worker's grid has no households"
    );
    let mut increments = Vec::new();
    for round in 0..3 {
        let mutations: Vec<Mutation> = (0..50)
            .map(|i| crate::server::visit(households[(round * 50 + i) % households.len()]))
            .collect();
        s.push(&token, "city-0", mutations).await?;
        let t = Instant::now();
        let (_, page) = s.page(&token, Some(&head), 5_000, "identity").await?;
        let page = page.expect("identity pages decode");
        increments.push(t.elapsed());
        ensure!(
            page.changes.len() >= 50,
            "the visits came back: {}",
            page.changes.len()
        );
        head = page.cursor;
    }
    Ok((
        percentile(&mut firsts, 0.5),
        percentile(&mut increments, 0.5),
        records,
    ))
}

pub fn run(quick: bool) -> Result<Vec<Row>> {
    let bin = crate::release_binary("gridmate-server", "gridmate-server")?;
    let city_grids = if quick { 50 } else { 5_000 };
    let cluster = crate::postgres::Cluster::start();
    let mut backends: Vec<(&str, Option<String>)> = vec![("SQLite", None)];
    if let Some(c) = &cluster {
        backends.push(("PostgreSQL", Some(c.url.clone())));
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let mut rows = Vec::new();
    for (name, server) in backends {
        let fresh = |server: &Option<String>| -> Result<Option<String>> {
            Ok(match server {
                Some(s) => Some(gridmate_server::postgres::scratch_database(s, None)?.1),
                None => None,
            })
        };
        let small_dir = tempfile::tempdir()?;
        let small_db = fresh(&server)?;
        let small = load(&bin, small_dir.path(), small_db.as_deref(), 20)?;
        let (small_first, small_next, small_records) =
            rt.block_on(sync_times(small_dir.path(), small_db.as_deref()))?;
        let city_dir = tempfile::tempdir()?;
        let city_db = fresh(&server)?;
        let city = load(&bin, city_dir.path(), city_db.as_deref(), city_grids)?;
        let (city_first, city_next, city_records) =
            rt.block_on(sync_times(city_dir.path(), city_db.as_deref()))?;
        ensure!(
            city_records == small_records,
            "one grid is one grid: {city_records} records at city size, {small_records} at 20 grids"
        );
        let per_s = city.households as f64 / city.import.as_secs_f64();
        rows.push(Row {
            name: format!(
                "{name}: a city imported with `gridmate-server import` — {city_grids} grids (GeoJSON), {} households (CSV); peak memory of the import {:.0} MB",
                city.households, city.peak_mb
            ),
            value: format!("{:.1} s ({per_s:.0} households/s)", city.import.as_secs_f64()),
            floor: format!(
                "{:.2} s for 20 grids, {} households",
                small.import.as_secs_f64(),
                small.households
            ),
            ratio: Some(
                (city.import.as_secs_f64() / city.households as f64)
                    / (small.import.as_secs_f64() / small.households as f64),
            ),
            target: "reported (ratio: time per household)".into(),
            pass: None,
        });
        for (what, at_city, at_small) in [
            ("first full pull", city_first, small_first),
            ("incremental pull after 50 visits", city_next, small_next),
        ] {
            let ratio = ms(at_city) / ms(at_small);
            rows.push(Row {
                name: format!(
                    "{name}: one grid worker's {what} ({city_records} records in scope) at city size, {city_grids} grids"
                ),
                value: format!("{:.1} ms", ms(at_city)),
                floor: format!("{:.1} ms at 20 grids", ms(at_small)),
                ratio: Some(ratio),
                target: "≤ 1.5× the 20-grid server".into(),
                pass: Some(ratio <= 1.5),
            });
        }
    }
    drop(cluster);
    Ok(rows)
}
