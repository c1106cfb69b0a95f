//! The app's two felt speeds, measured in process with the real components, the real store
//! thread and a 5,000-household cache on disk:
//!
//! - **start**: from opening the store (migrations checked, session read) to the home screen
//!   rendered with its data — the work between the webview's first paint and a screen a worker
//!   can tap. The webview's own start (a WebKit or Android WebView process) is the platform's and
//!   not counted. Floor: opening the same file with rusqlite and reading the same home data
//!   directly, no UI.
//! - **keystroke**: one character typed in the household search: the query goes to the store
//!   thread, the results come back and the results list is rendered to HTML. Floor: the store's
//!   search call alone, on the calling thread.
//! - **map**: the grid map with a base map at its bound (2,000 features, 20,000 vertices — the
//!   most a grid may hold) read from the store and rendered; and the demo grid's own. Floor: the
//!   store's read of the same base map alone.

use crate::{Row, ms, percentile};
use anyhow::Result;
use dioxus::prelude::*;
use gridmate::i18n::{Lang, Msg};
use gridmate::platform::DesktopPlatform;
use gridmate::screens::households::{SEARCH_LIMIT, SearchResults};
use gridmate::shell::App;
use gridmate::state::{Services, Startup};
use gridmate_demo::{DemoConfig, generate};
use gridmate_device::{ScopeData, SearchHit, Store, StoreThread};
use gridmate_model::Role;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub fn run(quick: bool) -> Result<Vec<Row>> {
    let demo = generate(&DemoConfig::scaled(5_000));
    let dir = tempfile::tempdir()?;
    {
        let mut store = Store::open(dir.path())?;
        store.load_scope(ScopeData::of_demo(&demo, true))?;
        store.sign_in(&crate::session(&demo, Role::GridWorker))?;
    }
    let households = demo.households.len();
    let runs = if quick { 3 } else { 9 };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;

    let mut starts = Vec::new();
    let mut floors = Vec::new();
    for _ in 0..runs {
        starts.push(rt.block_on(start_to_home(dir.path()))?);
        let t = Instant::now();
        let store = Store::open(dir.path())?;
        let home = gridmate::screens::home::HomeData::read(&store, chrono::Utc::now())?;
        anyhow::ensure!(home.summary.households > 0);
        floors.push(t.elapsed());
    }
    let start = percentile(&mut starts, 0.5);
    let floor = percentile(&mut floors, 0.5);

    let queries: Vec<String> = demo
        .residents
        .iter()
        .step_by(demo.residents.len() / if quick { 50 } else { 400 })
        .map(|r| r.name.chars().take(2).collect())
        .collect();
    let (mut keys, mut bare) = (Vec::new(), Vec::new());
    let thread = StoreThread::open(dir.path().to_path_buf())?;
    let direct = Store::open(dir.path())?;
    for q in &queries {
        keys.push(rt.block_on(keystroke(&thread, q.clone()))?);
        let t = Instant::now();
        let hits = direct.search(q, SEARCH_LIMIT)?;
        bare.push(t.elapsed());
        anyhow::ensure!(!hits.is_empty(), "no hit for {q}");
    }
    let k99 = percentile(&mut keys, 0.99);
    let b99 = percentile(&mut bare, 0.99);
    let mut rows = Vec::new();
    if quick {
        println!("real start under Xvfb: skipped in --quick (it builds the release app)");
    } else {
        let shot = std::path::PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../screenshots/bench/real-start-home.png"
        ));
        let real = crate::desktop::real_start(dir.path(), 5, &shot)?;
        rows.push(Row {
            name: format!(
                "real start: desktop binary under Xvfb to its painted home screen, {households} households (median of 5)"
            ),
            value: format!("{:.0} ms", ms(real)),
            floor: format!("{:.0} ms in process (row above)", ms(start)),
            ratio: Some(real.as_secs_f64() / start.as_secs_f64()),
            target: "< 3 s".into(),
            pass: Some(real < Duration::from_secs(3)),
        });
    }
    let mut all = vec![
        Row {
            name: format!(
                "app start to home screen, {households} households cached (median of {runs})"
            ),
            value: format!("{:.0} ms", ms(start)),
            floor: format!("{:.0} ms open + read home data", ms(floor)),
            ratio: Some(start.as_secs_f64() / floor.as_secs_f64()),
            target: "< 1 s".into(),
            pass: Some(start < Duration::from_secs(1)),
        },
        Row {
            name: format!(
                "search keystroke to results rendered, {} queries (p50 {:.2} ms)",
                queries.len(),
                ms(percentile(&mut keys, 0.5))
            ),
            value: format!("p99 {:.2} ms", ms(k99)),
            floor: format!("p99 {:.2} ms search call alone", ms(b99)),
            ratio: Some(k99.as_secs_f64() / b99.as_secs_f64()),
            target: "< 50 ms".into(),
            pass: Some(k99 < Duration::from_millis(50)),
        },
    ];
    all.splice(1..1, rows);
    all.extend(map_rows(&demo, dir.path(), runs)?);
    Ok(all)
}

/// A base map at the bound of what a grid may hold: footprints in a lattice over the grid and a
/// road through each, 2,000 features and 20,000 vertices in all.
fn bounded_base_map(grid: &gridmate_model::Grid) -> Result<gridmate_model::BaseMap> {
    use geo::{BoundingRect, Coord, LineString, MultiLineString, MultiPolygon, Polygon};
    use gridmate_model::basemap::{MAX_FEATURES, MAX_VERTICES, Shape};
    use gridmate_model::{MapFeature, MapFeatureKind};
    let r = grid
        .boundary
        .bounding_rect()
        .ok_or_else(|| anyhow::anyhow!("a grid without a boundary"))?;
    let side = ((MAX_FEATURES / 2) as f64).sqrt().ceil() as usize;
    let (w, h) = (r.width() / side as f64, r.height() / side as f64);
    // Footprints of 5 vertices, roads of 15: 1,000 × 5 + 1,000 × 15 = 20,000.
    let road_points = (MAX_VERTICES - MAX_FEATURES / 2 * 5) / (MAX_FEATURES / 2);
    let mut features = Vec::new();
    for i in 0..MAX_FEATURES / 2 {
        let (cx, cy) = (i % side, i / side);
        let x = r.min().x + w * (cx as f64 + 0.2);
        let y = r.min().y + h * (cy as f64 + 0.2);
        let ring = LineString::from(vec![
            (x, y),
            (x + w * 0.5, y),
            (x + w * 0.5, y + h * 0.4),
            (x, y + h * 0.4),
            (x, y),
        ]);
        features.push(MapFeature {
            kind: MapFeatureKind::Building,
            name: String::new(),
            building_id: None,
            shape: Shape::Area(MultiPolygon(vec![Polygon::new(ring, vec![])])),
        });
        let road: Vec<Coord<f64>> = (0..road_points)
            .map(|k| Coord {
                x: x + w * 0.8 * k as f64 / road_points as f64,
                y: y + h * 0.6 + h * 0.05 * (k % 2) as f64,
            })
            .collect();
        features.push(MapFeature {
            kind: MapFeatureKind::Road,
            name: String::new(),
            building_id: None,
            shape: Shape::Line(MultiLineString(vec![LineString(road)])),
        });
    }
    let map = gridmate_model::BaseMap {
        grid_id: grid.id,
        features,
    };
    map.check_size().map_err(anyhow::Error::msg)?;
    anyhow::ensure!(map.vertices() == MAX_VERTICES && map.features.len() == MAX_FEATURES);
    Ok(map)
}

#[derive(Clone, PartialEq, Props)]
struct MapProps {
    grid: gridmate_model::Grid,
    buildings: Vec<gridmate_device::BuildingRow>,
    base: gridmate_model::BaseMap,
}

fn map_view(p: MapProps) -> Element {
    rsx! { gridmate::widgets::GridMap { grid: p.grid, buildings: p.buildings, lang: Lang::Zh, base: Some(p.base) } }
}

/// Read the grid's base map from the store and render the map with it.
fn draw_map(store: &Store, grid: &gridmate_model::Grid) -> Result<(Duration, Duration, usize)> {
    let t = Instant::now();
    let base = store
        .base_map(grid.id)?
        .ok_or_else(|| anyhow::anyhow!("no base map"))?;
    let read = t.elapsed();
    let buildings = store.buildings(grid.id, chrono::Utc::now())?;
    let n = base.features.len();
    let mut dom = VirtualDom::new_with_props(
        map_view,
        MapProps {
            grid: grid.clone(),
            buildings,
            base,
        },
    );
    dom.rebuild_in_place();
    let html = dioxus_ssr::render(&dom);
    anyhow::ensure!(html.matches("<path").count() > n, "every feature drawn");
    Ok((t.elapsed(), read, html.len()))
}

/// Put base maps into the store the way sync does: one pulled page.
fn pull_base_maps(store: &mut Store, maps: &[gridmate_model::BaseMap]) -> Result<usize> {
    use gridmate_protocol::records::BaseMapRecord;
    use gridmate_protocol::{Entity, Op, RawChange, RawPullPage};
    let mut bytes = 0;
    let changes = maps
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let id = uuid::Uuid::from_u128(0xba5e_0000 + i as u128);
            let json = serde_json::to_string(&BaseMapRecord::from_model(id, m))?;
            bytes = bytes.max(json.len());
            Ok(RawChange {
                seq: 1_000_000 + i as u64,
                entity: Entity::BaseMap,
                id,
                op: Op::Upsert,
                data: serde_json::value::RawValue::from_string(json)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    store.apply_pull_page(&RawPullPage {
        changes,
        cursor: "bench".into(),
        has_more: false,
        scope_epoch: 1,
        scope_count: 0,
        scope_digest: String::new(),
    })?;
    Ok(bytes)
}

fn map_rows(
    demo: &gridmate_demo::DemoCommunity,
    dir: &std::path::Path,
    runs: usize,
) -> Result<Vec<Row>> {
    let grid = &demo.grids[0];
    let demo_map = gridmate_demo::basemap::base_maps(&demo.grids[..1], &demo.buildings)
        .pop()
        .ok_or_else(|| anyhow::anyhow!("no demo map"))?;
    let mut rows = Vec::new();
    for (what, map) in [
        ("the demo grid's base map", demo_map),
        (
            "a base map at the bound (2,000 features, 20,000 vertices)",
            bounded_base_map(grid)?,
        ),
    ] {
        let vertices = map.vertices();
        let features = map.features.len();
        let mut store = Store::open(dir)?;
        let bytes = pull_base_maps(&mut store, &[map])?;
        let (mut draws, mut reads) = (Vec::new(), Vec::new());
        let mut html = 0;
        for _ in 0..runs.max(5) {
            let (draw, read, len) = draw_map(&store, grid)?;
            draws.push(draw);
            reads.push(read);
            html = len;
        }
        let (draw, read) = (percentile(&mut draws, 0.5), percentile(&mut reads, 0.5));
        rows.push(Row {
            name: format!(
                "grid map: {what} read from the store and drawn ({features} features, {vertices} vertices, {} KB synced, {} KB of SVG)",
                bytes / 1024,
                html / 1024
            ),
            value: format!("{:.1} ms", ms(draw)),
            floor: format!("{:.1} ms reading it from the store", ms(read)),
            ratio: Some(draw.as_secs_f64() / read.as_secs_f64().max(1e-6)),
            target: "< 50 ms".into(),
            pass: Some(draw < Duration::from_millis(50)),
        });
    }
    Ok(rows)
}

/// Open the store thread, read the start-up state, and run the real `App` until its home screen
/// shows the month's visits.
async fn start_to_home(dir: &std::path::Path) -> Result<Duration> {
    let t = Instant::now();
    let store = StoreThread::open(dir.to_path_buf())?;
    let startup = Startup::read(&store)?;
    let services = Services::new(store, Arc::new(DesktopPlatform::new(None, None)));
    let mut dom = VirtualDom::new(App)
        .with_root_context(services)
        .with_root_context(startup);
    dom.rebuild_in_place();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let _ = tokio::time::timeout(Duration::from_millis(2), dom.wait_for_work()).await;
        dom.render_immediate(&mut dioxus_core::NoOpMutations);
        if dioxus_ssr::render(&dom).contains(Lang::Zh.t(Msg::HomeVisited)) {
            return Ok(t.elapsed());
        }
        anyhow::ensure!(Instant::now() < deadline, "the home screen never showed");
    }
}

#[derive(Clone, PartialEq)]
struct Results(Vec<SearchHit>, String);

fn results(r: Results) -> Element {
    rsx! { SearchResults { query: r.1, hits: r.0, lang: Lang::Zh, on_open: |_| {} } }
}

/// One keystroke: search on the store thread, then render the results list.
async fn keystroke(store: &StoreThread, q: String) -> Result<Duration> {
    let t = Instant::now();
    let query = q.clone();
    let hits = store
        .run(move |s| s.search(&query, SEARCH_LIMIT))
        .await
        .map_err(|e| anyhow::anyhow!(e))??;
    let n = hits.len();
    let mut dom = VirtualDom::new_with_props(results, Results(hits, q));
    dom.rebuild_in_place();
    let html = dioxus_ssr::render(&dom);
    anyhow::ensure!(html.matches("class=\"row\"").count() == n);
    Ok(t.elapsed())
}
