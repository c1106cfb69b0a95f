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
    Ok(all)
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
