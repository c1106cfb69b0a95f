//! The home screen: which grid, how the month's visits stand, who is due a visit, the open
//! issues, and whether everything typed has reached the server.

use crate::i18n::Lang;
use crate::map::GridMap;
use chrono::{DateTime, FixedOffset, Utc};
use dioxus::prelude::*;
use gridmate_demo::{DemoConfig, generate};
use gridmate_device::{BuildingRow, DueVisit, HomeSummary, ScopeData, Session, Store};
use gridmate_model::{Grid, Role};
use std::path::Path;

/// Everything the home screen shows, read from the store in one go.
#[derive(Clone, Debug, PartialEq)]
pub struct HomeData {
    pub summary: HomeSummary,
    pub due: Vec<DueVisit>,
    pub grid: Option<Grid>,
    pub buildings: Vec<BuildingRow>,
}

impl HomeData {
    /// Read the home screen of the signed-in user from the store at `as_of`.
    pub fn read(store: &Store, as_of: DateTime<Utc>) -> Result<Self, gridmate_device::DeviceError> {
        let summary = store.home(as_of)?;
        let grid = summary.grids.first().map(|g| g.grid.clone());
        let grid_id = grid.as_ref().map(|g| g.id);
        Ok(HomeData {
            due: store.due_visits(grid_id, as_of, 5)?,
            buildings: match grid_id {
                Some(id) => store.buildings(id, as_of)?,
                None => Vec::new(),
            },
            grid,
            summary,
        })
    }

    /// Open the store in `dir`; on first start fill it with the demo community and sign in its
    /// grid worker (until sign-in and sync exist).
    pub fn open_demo(dir: &Path) -> Result<Self, gridmate_device::DeviceError> {
        let mut store = Store::open(dir)?;
        let cfg = DemoConfig::lianhe();
        if store.session()?.is_none() {
            let demo = generate(&cfg);
            store.load_scope(ScopeData::of_demo(&demo, true))?;
            let worker = demo.user(Role::GridWorker);
            store.sign_in(&Session {
                user: worker.user.clone(),
                assignments: worker.assignments.clone(),
            })?;
        }
        Self::read(&store, cfg.as_of)
    }
}

fn china_time(t: DateTime<Utc>) -> String {
    let cst = FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset");
    t.with_timezone(&cst).format("%m-%d %H:%M").to_string()
}

#[component]
pub fn Home(data: HomeData, lang: Lang) -> Element {
    let s = &data.summary;
    let pct = (s.visited_this_month * 100)
        .checked_div(s.households)
        .unwrap_or(0);
    let roles: Vec<&str> = s.roles.iter().map(|r| r.label_zh()).collect();
    let open_total: u32 = s.open_issues.iter().map(|(_, n)| n).sum();
    rsx! {
        style { {crate::STYLE} }
        main { class: "screen",
            SyncBar { sync: s.sync.clone(), lang }
            header { class: "who",
                h1 { {data.grid.as_ref().map_or(lang.t("app.name").to_string(), |g| g.name.clone())} }
                p { class: "sub", "{s.user_name} · {roles.join(\"、\")}" }
            }
            section { class: "card coverage",
                h2 { {lang.t("home.visited")} }
                p { class: "big",
                    span { class: "num", "{s.visited_this_month}" }
                    " / {s.households} {lang.t(\"home.households\")}"
                }
                div { class: "bar", div { class: "fill", style: "width: {pct}%" } }
            }
            if let Some(grid) = data.grid.clone() {
                section { class: "card",
                    h2 { {lang.t("home.map")} }
                    GridMap { grid, buildings: data.buildings.clone(), lang }
                }
            }
            section { class: "card due",
                h2 { "{lang.t(\"home.due\")} " span { class: "count", "{s.due_visits}" } }
                if data.due.is_empty() {
                    p { class: "empty", {lang.t("home.due.none")} }
                }
                ul {
                    for d in data.due.iter() {
                        li { class: "due-row",
                            span { class: "addr", {d.household.short_address()} }
                            span { class: "name", {d.household.head_name.clone()} }
                            span { class: "tags",
                                for t in d.household.tags.iter().filter(|t| t.is_vulnerable()) {
                                    span { class: "tag", {if lang == Lang::Zh { t.label_zh() } else { t.label_en() }} }
                                }
                            }
                            span { class: "when",
                                {match d.days_overdue {
                                    None => lang.t("home.never").to_string(),
                                    Some(days) => lang.t1("home.overdue", days),
                                }}
                            }
                        }
                    }
                }
            }
            section { class: "card issues",
                h2 { "{lang.t(\"home.issues\")} " span { class: "count", "{open_total}" } }
                if s.open_issues.is_empty() {
                    p { class: "empty", {lang.t("home.issues.none")} }
                }
                ul { class: "chips",
                    for (status, n) in s.open_issues.iter() {
                        li { class: "chip status-{status.code()}",
                            {if lang == Lang::Zh { status.label_zh() } else { status.label_en() }}
                            b { " {n}" }
                        }
                    }
                }
            }
        }
    }
}

#[component]
fn SyncBar(sync: gridmate_device::SyncStatus, lang: Lang) -> Element {
    let last = match sync.last_sync_at {
        Some(t) => lang.t1("sync.last", china_time(t)),
        None => lang.t("sync.never").to_string(),
    };
    rsx! {
        div { class: if sync.failed > 0 { "sync-bar failed" } else { "sync-bar" },
            span { class: "dot offline" }
            span { {lang.t("sync.offline")} }
            span { " · " {lang.t1("sync.pending", sync.pending)} }
            if sync.failed > 0 {
                span { class: "warn", " · " {lang.t1("sync.failed", sync.failed)} }
            }
            span { class: "last", " · {last}" }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gridmate_device::NewVisit;
    use gridmate_model::{VisitKind, VisitOutcome};

    fn render(data: HomeData, lang: Lang) -> String {
        let mut dom = VirtualDom::new_with_props(Home, HomeProps { data, lang });
        dom.rebuild_in_place();
        dioxus_ssr::render(&dom)
    }

    fn demo_store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        HomeData::open_demo(dir.path()).unwrap();
        let store = Store::open(dir.path()).unwrap();
        (dir, store)
    }

    #[test]
    fn a_grid_worker_sees_their_grid_month_due_visits_and_ledger() {
        let (_dir, store) = demo_store();
        let as_of = DemoConfig::lianhe().as_of;
        let data = HomeData::read(&store, as_of).unwrap();
        let html = render(data.clone(), Lang::Zh);
        assert!(html.contains("联和第一网格"), "grid name");
        assert!(html.contains("李敏 · 专职网格员"));
        assert!(html.contains("本月走访"));
        assert!(html.contains(&format!(">{}<", data.summary.visited_this_month)));
        assert!(html.contains(&format!("/ {} 户", data.summary.households)));
        // The five most urgent priority households, by address, with their vulnerability.
        assert_eq!(data.due.len(), 5);
        for d in &data.due {
            assert!(
                html.contains(&d.household.short_address()),
                "{}",
                d.household.short_address()
            );
            assert!(html.contains(&d.household.head_name));
        }
        assert!(html.contains("从未走访") || html.contains("逾期"));
        // Every open status with a count, and nothing closed.
        for (status, n) in &data.summary.open_issues {
            assert!(html.contains(status.label_zh()), "{status}");
            assert!(html.contains(&format!(" {n}</b>")), "{status} {n}");
        }
        assert!(!html.contains("已销号"));
        // The map: the boundary and one dot per building.
        assert!(html.contains("<polygon"));
        assert_eq!(html.matches("<circle").count(), data.buildings.len());
        // The sync bar, offline, nothing pending.
        assert!(html.contains("离线") && html.contains("待上传 0 条") && html.contains("从未同步"));
        // No i18n key leaked as text.
        for key in ["home.", "sync.", "app."] {
            assert!(!html.contains(key), "untranslated {key}");
        }
    }

    #[test]
    fn english_is_the_second_language() {
        let (_dir, store) = demo_store();
        let html = render(
            HomeData::read(&store, DemoConfig::lianhe().as_of).unwrap(),
            Lang::En,
        );
        assert!(html.contains("Visited this month"));
        assert!(html.contains("Offline") && html.contains("0 to upload"));
        assert!(html.contains("Priority visits due"));
        assert!(!html.contains("本月走访"));
    }

    #[test]
    fn a_visit_recorded_offline_shows_as_pending_and_leaves_the_due_list() {
        let (_dir, mut store) = demo_store();
        let as_of = DemoConfig::lianhe().as_of;
        let before = HomeData::read(&store, as_of).unwrap();
        // The most urgent is a household never visited, so this visit adds to the month's count.
        assert_eq!(before.due[0].days_overdue, None);
        let first = before.due[0].household.clone();
        store
            .record_visit(NewVisit {
                household_id: first.id,
                started_at: as_of - chrono::Duration::minutes(20),
                ended_at: as_of - chrono::Duration::minutes(5),
                kind: VisitKind::CareVisit,
                outcome: VisitOutcome::Met,
                notes: "身体状况良好".into(),
                people_served: 1,
                location: None,
                photos: vec![],
                raised_issues: vec![],
            })
            .unwrap();
        let after = HomeData::read(&store, as_of).unwrap();
        let html = render(after.clone(), Lang::Zh);
        assert!(html.contains("待上传 1 条"));
        assert_eq!(after.summary.due_visits, before.summary.due_visits - 1);
        assert_eq!(
            after.summary.visited_this_month,
            before.summary.visited_this_month + 1
        );
        assert!(after.due.iter().all(|d| d.household.id != first.id));
    }
}
