//! The home screen: which grid, what waits on me (my tasks, soonest due first, overdue marked),
//! how the month's visits stand, who is due a visit, the open issues, and whether everything
//! typed has reached the server.

use crate::i18n::{Labelled, Lang, Msg};
use crate::state::{Destination, Services, Ui, run_store, use_load, use_nav};
use crate::widgets::GridMap;
use crate::widgets::{ErrorCard, Loading, china_time, metres};
use chrono::{DateTime, Utc};
use dioxus::prelude::*;
use gridmate_device::{
    ActivePatrol, BuildingRow, CallupCard, DueVisit, HomeSummary, Store, Task, TaskSubject,
};
use gridmate_model::callup::ARRIVAL_RADIUS_M;
use gridmate_model::{BaseMap, CallupAnswer, CallupId, Grid, HouseholdId, Role};

/// Everything the home screen shows, read from the store in one go.
#[derive(Clone, Debug, PartialEq)]
pub struct HomeData {
    pub summary: HomeSummary,
    pub due: Vec<DueVisit>,
    pub grid: Option<Grid>,
    pub buildings: Vec<BuildingRow>,
    /// The first grid's base map, when the office has imported one.
    pub base_map: Option<BaseMap>,
    pub tasks: Vec<Task>,
    /// Open call-ups that call me: a banner each until answered.
    pub callups: Vec<CallupCard>,
    /// My patrol under way, if any.
    pub patrol: Option<ActivePatrol>,
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
            base_map: match grid_id {
                Some(id) => store.base_map(id)?,
                None => None,
            },
            grid,
            summary,
            tasks: store.my_tasks(as_of)?,
            callups: store.open_callups()?,
            patrol: store.active_patrol()?,
        })
    }
}

/// One call-up, until it is answered: where, when, why, and the buttons for where I stand.
#[component]
pub fn CallupBanner(
    card: CallupCard,
    lang: Lang,
    on_answer: EventHandler<(CallupId, CallupAnswer)>,
) -> Element {
    let c = &card.callup;
    let id = c.id;
    let answer = move |a: CallupAnswer| move |_| on_answer.call((id, a));
    rsx! {
        section { class: "card callup", role: "alert",
            h2 { {lang.t(Msg::CallupTitle)} }
            p { class: "message", "{c.message}" }
            p { class: "sub", {lang.t(Msg::Where)} "{c.place} · {china_time(c.at)}" }
            p { class: "muted small", {lang.fill(Msg::CallupCounts, &[&card.coming, &card.arrived])} }
            div { class: "action-buttons",
                match card.mine {
                    None => rsx! {
                        button { class: "primary", "data-callup": "coming", onclick: answer(CallupAnswer::Coming), {lang.t(Msg::CallupComing)} }
                        button { class: "secondary", "data-callup": "cannot", onclick: answer(CallupAnswer::Cannot), {lang.t(Msg::CallupCannot)} }
                    },
                    Some(CallupAnswer::Coming) => rsx! {
                        button { class: "primary", "data-callup": "arrived", onclick: answer(CallupAnswer::Arrived), {lang.t(Msg::CallupArrive)} }
                    },
                    Some(CallupAnswer::Cannot) => rsx! {
                        span { class: "muted", {lang.t(Msg::CallupAnsweredCannot)} }
                        button { class: "secondary", "data-callup": "coming", onclick: answer(CallupAnswer::Coming), {lang.t(Msg::CallupComing)} }
                    },
                    Some(CallupAnswer::Arrived) => match card.my_distance_m.filter(|d| *d > ARRIVAL_RADIUS_M) {
                        None => rsx! { span { class: "verdict inside", {lang.t(Msg::CallupArrived)} } },
                        Some(d) => rsx! { span { class: "verdict uncertain", {lang.t1(Msg::CallupArrivedAway, metres(d))} } },
                    },
                }
            }
        }
    }
}

/// The home screen, drawn from `data`. Taps go to `on_go`.
#[component]
pub fn Home(
    data: HomeData,
    lang: Lang,
    on_go: EventHandler<Destination>,
    on_answer: EventHandler<(CallupId, CallupAnswer)>,
    /// Start a patrol (true) or end the one under way (false).
    on_patrol: EventHandler<bool>,
    now: DateTime<Utc>,
) -> Element {
    let s = &data.summary;
    let pct = (s.visited_this_month * 100)
        .checked_div(s.due_this_month)
        .unwrap_or(100)
        .min(100);
    let roles: Vec<&str> = s.roles.iter().map(|r| r.label(lang)).collect();
    let open_total: u32 = s.open_issues.iter().map(|(_, n)| n).sum();
    let visits = s
        .roles
        .iter()
        .any(|r| matches!(r, Role::GridWorker | Role::GridLeader));
    let party = s.roles.contains(&Role::PartyMember);
    let building_leader = s.roles.contains(&Role::BuildingLeader);
    let patrol_minutes = data.patrol.as_ref().map_or(0, |p| {
        now.signed_duration_since(p.started_at).num_minutes().max(0)
    });
    rsx! {
        header { class: "who",
            h1 { {data.grid.as_ref().map_or(lang.t(Msg::AppName).to_string(), |g| g.name.clone())} }
            p { class: "sub", "{s.user_name} · {roles.join(\"、\")}" }
        }
        for card in data.callups.iter() {
            CallupBanner { card: card.clone(), lang, on_answer }
        }
        div { class: "quick",
            if visits || building_leader {
                button { class: "quick-action", "data-action": "visit",
                    onclick: move |_| on_go.call(Destination::Households),
                    span { class: "icon", "访" }
                    {if visits { lang.t(Msg::VisitAHousehold) } else { lang.t(Msg::MyBuilding) }}
                }
            }
            button { class: "quick-action", "data-action": "report",
                onclick: move |_| on_go.call(Destination::Report),
                span { class: "icon", "报" }
                {lang.t(Msg::ReportAProblem)}
            }
            if data.patrol.is_none() {
                button { class: "quick-action", "data-action": "patrol",
                    onclick: move |_| on_patrol.call(true),
                    span { class: "icon", "巡" }
                    {lang.t(Msg::StartPatrol)}
                }
            }
            if party {
                button { class: "quick-action", "data-action": "checkin",
                    onclick: move |_| on_go.call(Destination::Party),
                    span { class: "icon", "签" }
                    {lang.t(Msg::QuickCheckIn)}
                }
            }
        }
        if !(building_leader && data.tasks.is_empty()) {
            section { class: "card my-tasks",
                h2 { "{lang.t(Msg::MyTasks)} " span { class: "count", "{data.tasks.len()}" } }
                if data.tasks.is_empty() { p { class: "empty", {lang.t(Msg::MyTasksNone)} } }
                ul {
                    for t in data.tasks.iter().take(5) {
                        TaskRow { task: t.clone(), lang, on_open: move |d| on_go.call(d) }
                    }
                }
            }
        }
        if let Some(p) = &data.patrol {
            section { class: "card patrol",
                h2 { {lang.t(Msg::PatrolUnderWay)} }
                p { class: "big",
                    {lang.fill(Msg::PatrolSoFar, &[&metres(p.distance_m), &patrol_minutes])}
                }
                if let Some(grid) = data.grid.clone() {
                    GridMap { grid, buildings: vec![], lang, base: data.base_map.clone(), track: p.track.clone() }
                }
                button { class: "primary wide", "data-action": "stop-patrol", onclick: move |_| on_patrol.call(false),
                    {lang.t(Msg::StopPatrol)} }
            }
        }
        if visits || building_leader {
            section { class: "card coverage",
                h2 { {lang.t(Msg::HomeVisited)} }
                p { class: "big",
                    span { class: "num", "{s.visited_this_month}" }
                    " / {s.due_this_month} {lang.t(Msg::HomeHouseholds)}"
                }
                div { class: "bar", div { class: "fill", style: "width: {pct}%" } }
                p { class: "muted small", {lang.fill(Msg::HomeMonthList, &[&s.due_this_month, &s.households])} }
            }
        }
        if let Some(grid) = data.grid.clone() {
            section { class: "card",
                h2 { {lang.t(Msg::HomeMap)} }
                GridMap { grid, buildings: data.buildings.clone(), lang, base: data.base_map.clone() }
            }
        }
        if visits {
            section { class: "card due",
                h2 { "{lang.t(Msg::HomeDue)} " span { class: "count", "{s.due_visits}" } }
                if data.due.is_empty() {
                    p { class: "empty", {lang.t(Msg::HomeDueNone)} }
                }
                ul {
                    for d in data.due.iter() {
                        DueRow { due: d.clone(), lang, on_open: move |id| on_go.call(Destination::Household(id)) }
                    }
                }
            }
        }
        section { class: "card issues",
            onclick: move |_| on_go.call(Destination::Issues),
            h2 { "{lang.t(Msg::HomeIssues)} " span { class: "count", "{open_total}" } }
            if s.open_issues.is_empty() {
                p { class: "empty", {lang.t(Msg::HomeIssuesNone)} }
            }
            ul { class: "chips",
                for (status, n) in s.open_issues.iter() {
                    li { class: "chip status-{status.code()}",
                        {status.label(lang)}
                        b { " {n}" }
                    }
                }
            }
        }
    }
}

#[component]
fn TaskRow(task: Task, lang: Lang, on_open: EventHandler<Destination>) -> Element {
    let to = match task.subject {
        TaskSubject::Issue(id) => Destination::Issue(id),
        TaskSubject::Order(id) => Destination::Order(id),
    };
    rsx! {
        li { class: "task-row", onclick: move |_| on_open.call(to),
            span { class: "tag plain", {task.step.label(lang)} }
            span { class: "name", "{task.title}" }
            if let Some(due) = task.due_at {
                span { class: if task.overdue { "when overdue" } else { "when" },
                    {if task.overdue { lang.t(Msg::Overdue) } else { lang.t(Msg::DueBy) }}
                    " {china_time(due)}"
                }
            }
        }
    }
}

#[component]
fn DueRow(due: DueVisit, lang: Lang, on_open: EventHandler<HouseholdId>) -> Element {
    let id = due.household.id;
    rsx! {
        li { class: "due-row", onclick: move |_| on_open.call(id),
            span { class: "addr", {due.household.short_address()} }
            span { class: "name", {due.household.head_name.clone()} }
            span { class: "tags",
                for t in due.household.tags.iter().filter(|t| t.is_vulnerable()) {
                    span { class: "tag", {t.label(lang)} }
                }
            }
            span { class: "when",
                {match due.days_overdue {
                    None => lang.t(Msg::HomeNever).to_string(),
                    Some(days) => lang.t1(Msg::HomeOverdue, days),
                }}
            }
        }
    }
}

/// The home screen, loaded from the store.
#[component]
pub fn HomeScreen() -> Element {
    let ui = use_context::<Ui>();
    let nav = use_nav();
    let services = use_context::<Services>();
    let s2 = services.clone();
    let data = use_load(|s| HomeData::read(s, Utc::now()));
    let lang = (ui.lang)();
    let mut error = use_signal(|| None::<String>);
    let on_answer = move |(id, answer): (CallupId, CallupAnswer)| {
        let services = services.clone();
        // Arriving is checked in with the fix the phone has now.
        let fix = (answer == CallupAnswer::Arrived)
            .then(|| services.platform.location())
            .flatten();
        if answer == CallupAnswer::Arrived && fix.is_none() {
            error.set(Some(lang.t(Msg::CallupNeedsFix).to_string()));
            return;
        }
        spawn(async move {
            let r = run_store(&services.store, lang, move |s| {
                s.respond_to_callup(id, answer, fix).map(|_| ())
            })
            .await;
            match r {
                Ok(()) => {
                    error.set(None);
                    ui.saved(&services, Msg::CallupAnswered, None);
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let on_patrol = move |start: bool| {
        let services = s2.clone();
        spawn(async move {
            let r = run_store(&services.store, lang, move |s| {
                if start {
                    let grid = s.home_grid()?;
                    s.start_patrol(grid, Utc::now()).map(|_| ())
                } else {
                    s.stop_patrol("").map(|_| ())
                }
            })
            .await;
            match r {
                Ok(()) => {
                    error.set(None);
                    let said = if start {
                        Msg::PatrolUnderWay
                    } else {
                        Msg::PatrolEnded
                    };
                    ui.saved(&services, said, None);
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    match &*data.read() {
        None => rsx! { Loading { lang } },
        Some(Err(e)) => rsx! { ErrorCard { message: e.clone() } },
        Some(Ok(d)) => rsx! {
            if let Some(e) = error() { p { class: "error-card", role: "alert", "{e}" } }
            Home { data: d.clone(), lang, on_go: move |r| nav.go(r), on_answer, on_patrol, now: Utc::now() }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::screens::fixtures::{as_of, demo_store, render};
    use gridmate_device::NewVisit;
    use gridmate_model::{VisitKind, VisitOutcome};

    fn home(data: HomeData, lang: Lang) -> String {
        render(move || {
            rsx! { Home { data: data.clone(), lang, on_go: |_| {}, on_answer: |_| {}, on_patrol: |_| {}, now: as_of() } }
        })
    }

    #[test]
    fn a_patrol_under_way_shows_its_track_distance_and_the_way_to_end_it() {
        let (_dir, mut store) = demo_store(Role::GridWorker);
        let before = home(HomeData::read(&store, as_of()).unwrap(), Lang::Zh);
        assert!(before.contains("data-action=\"patrol\"") && !before.contains("结束巡查"));
        let grid = store.session().unwrap().unwrap().grid_ids()[0];
        let b = store.buildings(grid, as_of()).unwrap()[0].building.clone();
        store.start_patrol(grid, as_of()).unwrap();
        for i in 0..30 {
            let fix = gridmate_model::GpsFix {
                lat: b.lat + i as f64 * 0.0001,
                lon: b.lon,
                accuracy_m: 6.0,
                mock_location: false,
            };
            store
                .add_patrol_fix(fix, as_of() + chrono::Duration::seconds(i * 10))
                .unwrap();
        }
        let html = home(HomeData::read(&store, as_of()).unwrap(), Lang::Zh);
        assert!(html.contains("巡查中") && html.contains("data-action=\"stop-patrol\""));
        assert!(html.contains("class=\"track\""), "the track on the map");
        assert!(
            !html.contains("data-action=\"patrol\""),
            "one patrol at a time"
        );
    }

    #[test]
    fn a_call_up_shows_until_answered_and_then_offers_the_next_step() {
        let (_dir, mut store) = demo_store(Role::PartyMember);
        let data = HomeData::read(&store, as_of()).unwrap();
        let html = home(data, Lang::Zh);
        assert!(html.contains("一键响应") && html.contains("防汛巡查"));
        assert!(html.contains("data-callup=\"coming\"") && html.contains("data-callup=\"cannot\""));
        let id = store.open_callups().unwrap()[0].callup.id;
        store
            .respond_to_callup(id, gridmate_model::CallupAnswer::Coming, None)
            .unwrap();
        let html = home(HomeData::read(&store, as_of()).unwrap(), Lang::En);
        assert!(
            html.contains("data-callup=\"arrived\"") && !html.contains("data-callup=\"cannot\"")
        );
        assert!(html.contains("1 coming · 0 arrived"));
        // The office is not called: no banner.
        let (_dir, office) = demo_store(Role::CommunityAdmin);
        assert!(!home(HomeData::read(&office, as_of()).unwrap(), Lang::Zh).contains("一键响应"));
    }

    #[test]
    fn a_grid_worker_sees_their_grid_month_due_visits_and_ledger() {
        let (_dir, store) = demo_store(Role::GridWorker);
        let as_of = as_of();
        let data = HomeData::read(&store, as_of).unwrap();
        let html = home(data.clone(), Lang::Zh);
        assert!(html.contains("联和第一网格"), "grid name");
        assert!(html.contains("李敏 · 专职网格员"));
        assert!(html.contains("本月走访"));
        assert!(html.contains(&format!(">{}<", data.summary.visited_this_month)));
        // The month's progress is of this month's list, which is more than was visited and
        // fewer than the grid's households (most are seen every quarter).
        let s = &data.summary;
        assert!(html.contains(&format!("/ {} 户", s.due_this_month)));
        assert!(html.contains(&format!(
            "本月应访 {} 户 · 全网格 {} 户",
            s.due_this_month, s.households
        )));
        assert!(s.visited_this_month <= s.due_this_month && s.due_this_month < s.households);
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
            assert!(html.contains(status.label(Lang::Zh)), "{status}");
            assert!(html.contains(&format!(" {n}</b>")), "{status} {n}");
        }
        assert!(!html.contains("已销号"));
        // The map: the boundary and one dot per building.
        assert!(html.contains("class=\"boundary\""));
        assert_eq!(html.matches("<circle").count(), data.buildings.len());
        // A worker's quick actions, and no check-in (that is a party member's).
        assert!(html.contains("入户走访") && html.contains("上报问题"));
        assert!(!html.contains("网格报到"));
        // No i18n key leaked as text.
        for key in ["home.", "sync.", "app."] {
            assert!(!html.contains(key), "untranslated {key}");
        }
    }

    #[test]
    fn english_is_the_second_language() {
        let (_dir, store) = demo_store(Role::GridWorker);
        let html = home(HomeData::read(&store, as_of()).unwrap(), Lang::En);
        assert!(html.contains("Visited this month"));
        assert!(html.contains("Visit a household") && html.contains("Report a problem"));
        assert!(html.contains("Priority visits due"));
        assert!(!html.contains("本月走访"));
    }

    #[test]
    fn a_visit_recorded_offline_shows_as_pending_and_leaves_the_due_list() {
        let (_dir, mut store) = demo_store(Role::GridWorker);
        let as_of = as_of();
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
        let html = home(after.clone(), Lang::Zh);
        assert!(
            !html.contains(&format!(">{}<", first.short_address())),
            "no longer due"
        );
        assert_eq!(after.summary.due_visits, before.summary.due_visits - 1);
        assert_eq!(
            after.summary.visited_this_month,
            before.summary.visited_this_month + 1
        );
        // It was due, so this month's list is as long as before.
        assert_eq!(after.summary.due_this_month, before.summary.due_this_month);
        assert!(after.due.iter().all(|d| d.household.id != first.id));
    }
}
