//! Households: one search box (name, pinyin initials "zs", full pinyin, "12-2-301"), results as
//! you type; below it the grid's buildings, then a building's units and rooms. Vulnerable
//! households are marked wherever they appear.

use crate::i18n::{Labelled, Lang, Msg};
use crate::state::{Destination, Services, Ui, use_load, use_nav};
use crate::widgets::{ErrorCard, Loading, TitleBar};
use chrono::Utc;
use dioxus::prelude::*;
use gridmate_device::{BuildingRow, HouseholdRow, SearchHit, SearchMatch, Store};
use gridmate_model::{BuildingId, HouseholdId};

/// Search results shown at most; typing more narrows them.
pub const SEARCH_LIMIT: usize = 30;

#[derive(Clone, Debug, PartialEq)]
pub struct BuildingList {
    pub buildings: Vec<BuildingRow>,
}

impl BuildingList {
    pub fn read(store: &Store) -> Result<Self, gridmate_device::DeviceError> {
        let mut buildings = Vec::new();
        for g in store.grids()? {
            buildings.extend(store.buildings(g.grid.id, Utc::now())?);
        }
        Ok(BuildingList { buildings })
    }
}

#[component]
pub fn SearchBox(query: String, lang: Lang, on_query: EventHandler<String>) -> Element {
    rsx! {
        div { class: "search",
            input {
                // Uncontrolled: fast typing is never overwritten by a late re-render.
                r#type: "search", name: "q", autocomplete: "off", initial_value: "{query}",
                placeholder: lang.t(Msg::NameInitialsZsOr122),
                oninput: move |e| on_query.call(e.value()),
            }
        }
    }
}

#[component]
pub fn SearchResults(
    query: String,
    hits: Vec<SearchHit>,
    lang: Lang,
    on_open: EventHandler<HouseholdId>,
) -> Element {
    rsx! {
        section { class: "card results",
            if hits.is_empty() {
                p { class: "empty", {lang.t(Msg::NothingFoundFor)} " “{query}”" }
            }
            ul {
                for h in hits.iter() {
                    li { class: "row", onclick: { let id = h.household_id; move |_| on_open.call(id) },
                        span { class: "addr", "{h.short_address}" }
                        span { class: "name", "{h.name}"
                            if let Some(rel) = &h.relation { span { class: "muted", " · {rel}" } }
                        }
                        if h.vulnerable { span { class: "tag", {lang.t(Msg::Priority)} } }
                        span { class: "muted small",
                            {match h.matched {
                                SearchMatch::Name => lang.t(Msg::MatchName),
                                SearchMatch::Initials => lang.t(Msg::MatchInitials),
                                SearchMatch::Pinyin => lang.t(Msg::MatchPinyin),
                                SearchMatch::Address => lang.t(Msg::MatchAddress),
                            }}
                        }
                    }
                }
            }
        }
    }
}

#[component]
pub fn BuildingListView(
    list: BuildingList,
    lang: Lang,
    on_open: EventHandler<BuildingId>,
) -> Element {
    rsx! {
        section { class: "card",
            h2 { {lang.t(Msg::Buildings)} span { class: "count", " {list.buildings.len()}" } }
            if list.buildings.is_empty() {
                p { class: "empty", {lang.t(Msg::NoGridDataYetSyncWhen)} }
            }
            ul {
                for b in list.buildings.iter() {
                    li { class: "row building-row", onclick: { let id = b.building.id; move |_| on_open.call(id) },
                        span { class: "addr", "{b.building.number}" {lang.t(Msg::BuildingSuffix)} }
                        span { class: "name", "{b.building.estate}" }
                        span { class: "muted", "{b.visited_this_month}/{b.households}" }
                    }
                }
            }
        }
    }
}

#[component]
pub fn HouseholdsScreen() -> Element {
    let ui = use_context::<Ui>();
    let nav = use_nav();
    let services = use_context::<Services>();
    let lang = (ui.lang)();
    let mut query = use_signal(String::new);
    let mut hits = use_signal(Vec::<SearchHit>::new);
    let list = use_load(|s| BuildingList::read(s));
    let on_query = move |q: String| {
        query.set(q.clone());
        let store = services.store.clone();
        spawn(async move {
            let found = store
                .run(move |s| s.search(&q, SEARCH_LIMIT).unwrap_or_default())
                .await
                .unwrap_or_default();
            hits.set(found);
        });
    };
    let q = query();
    rsx! {
        TitleBar { title: lang.t(Msg::Households).to_string(), lang, on_back: None }
        SearchBox { query: q.clone(), lang, on_query }
        if !q.trim().is_empty() {
            SearchResults { query: q.clone(), hits: hits(), lang, on_open: move |id| nav.go(Destination::Household(id)) }
        } else {
            match &*list.read() {
                None => rsx! { Loading { lang } },
                Some(Err(e)) => rsx! { ErrorCard { message: e.clone() } },
                Some(Ok(l)) => rsx! { BuildingListView { list: l.clone(), lang, on_open: move |b| nav.go(Destination::Building(b)) } },
            }
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct BuildingView {
    pub building: BuildingRow,
    pub households: Vec<HouseholdRow>,
}

#[component]
pub fn BuildingHouseholds(
    view: BuildingView,
    lang: Lang,
    on_open: EventHandler<HouseholdId>,
    on_report: EventHandler<BuildingId>,
    on_register: EventHandler<BuildingId>,
) -> Element {
    let b = &view.building.building;
    let mut units: Vec<u16> = view.households.iter().map(|h| h.unit).collect();
    units.dedup();
    let id = b.id;
    rsx! {
        p { class: "sub", "{b.estate} · {view.building.households} " {lang.t(Msg::HomeHouseholds)}
            " · " {lang.t(Msg::VisitedThisMonth)} " {view.building.visited_this_month}" }
        div { class: "actions",
            button { class: "secondary", onclick: move |_| on_report.call(id), {lang.t(Msg::ReportAProblemInThisBuilding)} }
            button { class: "secondary", "data-action": "register-household", onclick: move |_| on_register.call(id), {lang.t(Msg::RegisterHousehold)} }
        }
        for u in units {
            section { class: "card unit",
                h2 { "{u}" {lang.t(Msg::UnitSuffix)} }
                ul { class: "rooms",
                    for h in view.households.iter().filter(|h| h.unit == u) {
                        li {
                            class: if h.due { "room due" } else if h.last_visit_at.is_some() { "room visited" } else { "room" },
                            onclick: { let id = h.id; move |_| on_open.call(id) },
                            span { class: "no", "{h.room}" }
                            span { class: "name", "{h.head_name}" }
                            if h.is_vulnerable() {
                                span { class: "tag",
                                    {h.tags.iter().find(|t| t.is_vulnerable()).map(|t| t.label(lang)).unwrap_or_default()}
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

#[component]
pub fn BuildingScreen(building: BuildingId) -> Element {
    let ui = use_context::<Ui>();
    let nav = use_nav();
    let lang = (ui.lang)();
    let data = use_load(move |s| {
        let now = Utc::now();
        let households = s.households(building, None, now)?;
        let mut row = None;
        for g in s.grids()? {
            row = row.or(s
                .buildings(g.grid.id, now)?
                .into_iter()
                .find(|b| b.building.id == building));
        }
        row.map(|building| BuildingView {
            building,
            households,
        })
        .ok_or_else(|| gridmate_device::DeviceError::not_found("building", building))
    });
    match &*data.read() {
        None => rsx! { Loading { lang } },
        Some(Err(e)) => rsx! { ErrorCard { message: e.clone() } },
        Some(Ok(v)) => rsx! {
            TitleBar { title: format!("{}{}", v.building.building.number, lang.t(Msg::BuildingSuffix)), lang, on_back: move |_| nav.back() }
            BuildingHouseholds {
                view: v.clone(), lang,
                on_open: move |h| nav.go(Destination::Household(h)),
                on_report: move |b| nav.go(Destination::ReportInBuilding(b)),
                on_register: move |b| nav.go(Destination::RegisterHousehold(b)),
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::screens::fixtures::{demo_store, render};
    use gridmate_model::Role;

    #[test]
    fn typing_initials_lists_households_and_marks_the_vulnerable() {
        let (_dir, store) = demo_store(Role::GridWorker);
        let hits = store.search("zs", SEARCH_LIMIT).unwrap();
        assert!(!hits.is_empty());
        let shown = hits.clone();
        let html = render(move || {
            rsx! {
                SearchResults { query: "zs".to_string(), hits: shown.clone(), lang: Lang::Zh, on_open: |_| {} }
            }
        });
        for h in &hits {
            assert!(html.contains(&h.short_address), "{}", h.short_address);
        }
        assert_eq!(html.matches("class=\"row\"").count(), hits.len());
        assert_eq!(
            html.matches(">重点<").count(),
            hits.iter().filter(|h| h.vulnerable).count()
        );
        let none = render(|| {
            rsx! {
                SearchResults { query: "qqqq".to_string(), hits: vec![], lang: Lang::En, on_open: |_| {} }
            }
        });
        assert!(none.contains("Nothing found for"));
    }

    #[test]
    fn a_building_lists_its_units_and_rooms() {
        let (_dir, store) = demo_store(Role::GridWorker);
        let list = BuildingList::read(&store).unwrap();
        let b = list.buildings[0].clone();
        let households = store.households(b.building.id, None, Utc::now()).unwrap();
        let view = BuildingView {
            building: b.clone(),
            households: households.clone(),
        };
        let html = render(move || {
            rsx! {
                BuildingHouseholds { view: view.clone(), lang: Lang::Zh, on_open: |_| {}, on_report: |_| {}, on_register: |_| {} }
            }
        });
        assert_eq!(html.matches("<li class=\"room").count(), households.len());
        for u in 1..=b.building.units {
            assert!(html.contains(&format!("{u}单元")), "unit {u}");
        }
        assert!(html.contains("上报本楼问题"));
        let overview = render(move || {
            rsx! {
                BuildingListView { list: list.clone(), lang: Lang::Zh, on_open: |_| {} }
            }
        });
        assert!(overview.contains(&format!("{}栋", b.building.number)));
    }
}
