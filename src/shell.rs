//! The app's shell: the root component, the router, the signed-in layout (sync bar, the screen,
//! the notice, the tab bar), and the background loops that keep the sync bar true (the sync
//! worker's status, the server's reachability).
//!
//! This is the one module that names screens: its `Screen` draws each [`Destination`] (the one
//! list of screens and their URLs, in `state`). [`Route`] is a single catch-all route under the
//! signed-in layout, so back, deep links ("/issue/<id>" from a notice) and tabs are the
//! router's while the URLs are the destinations'. Screens never see `Route`; they ask for a
//! [`Destination`] through the [`Nav`] context this shell provides, which keeps the module
//! graph free of circles.

use crate::i18n::{Lang, Msg};
use crate::screens::add_resident::AddResidentScreen;
use crate::screens::commitment::CommitmentScreen;
use crate::screens::correct_resident::CorrectResidentScreen;
use crate::screens::edit_household::EditHouseholdScreen;
use crate::screens::home::HomeScreen;
use crate::screens::household::HouseholdScreen;
use crate::screens::households::{BuildingScreen, HouseholdsScreen};
use crate::screens::issues::{IssueScreen, IssuesScreen};
use crate::screens::orders::{OrderScreen, RequestScreen};
use crate::screens::party::PartyScreen;
use crate::screens::register_household::RegisterHouseholdScreen;
use crate::screens::report::ReportScreen;
use crate::screens::service::ServiceScreen;
use crate::screens::settings::SettingsScreen;
use crate::screens::signin::SignInScreen;
use crate::screens::visit::VisitScreen;
use crate::state::{Destination, Nav, NavOp, Notice, Services, Startup, Ui};
use crate::widgets::bars::{SyncBar, SyncBarState, TabBar};
use dioxus::prelude::*;
use gridmate_device::sync::Trigger;
use gridmate_model::Role;
use std::time::Duration;

/// The router's URL map: the root and one catch-all route inside the signed-in layout. Which
/// screen a URL shows is [`Destination::from_path`]'s (the one list of screens, in `state`), so
/// a new screen adds no route here. (The root has its own route because a catch-all with no
/// segment is written as an empty URL.)
#[derive(Routable, Clone, Debug, PartialEq)]
#[rustfmt::skip]
pub enum Route {
    #[layout(Shell)]
        #[route("/")]
        Root {},
        #[route("/:..segments")]
        Screen { segments: Vec<String> },
}

impl From<Destination> for Route {
    fn from(d: Destination) -> Route {
        let segments: Vec<String> = d
            .path()
            .split('/')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        if segments.is_empty() {
            Route::Root {}
        } else {
            Route::Screen { segments }
        }
    }
}

impl Route {
    /// The destination a URL shows; a URL no screen has (an older app's link, a mistyped one)
    /// is none.
    pub fn destination(&self) -> Option<Destination> {
        match self {
            Route::Root {} => Some(Destination::Home),
            Route::Screen { segments } => {
                Destination::from_path(&format!("/{}", segments.join("/")))
            }
        }
    }
}

#[component]
fn Root() -> Element {
    rsx! { Screen { segments: Vec::new() } }
}

/// The screen a URL names. A screen for an id is keyed by it, so going from one household to
/// another starts it afresh (its loads and drafts belong to the id). A URL no screen has lands
/// on the home screen, not on an error page.
#[component]
fn Screen(segments: Vec<String>) -> Element {
    let navigator = use_navigator();
    let Some(here) = (Route::Screen { segments }).destination() else {
        navigator.replace(Route::from(Destination::Home));
        return rsx! {};
    };
    match here {
        Destination::Home => rsx! { HomeScreen {} },
        Destination::Households => rsx! { HouseholdsScreen {} },
        Destination::Building(building) => rsx! { BuildingScreen { key: "{building}", building } },
        Destination::Household(household) => {
            rsx! { HouseholdScreen { key: "{household}", household } }
        }
        Destination::RecordVisit(household) => {
            rsx! { VisitScreen { key: "{household}", household } }
        }
        Destination::Report => rsx! { ReportScreen { building: None, household: None } },
        Destination::ReportInBuilding(building) => {
            rsx! { ReportScreen { key: "{building}", building, household: None } }
        }
        Destination::ReportForHousehold(household) => {
            rsx! { ReportScreen { key: "{household}", building: None, household } }
        }
        Destination::Issues => rsx! { IssuesScreen {} },
        Destination::Issue(issue) => rsx! { IssueScreen { key: "{issue}", issue } },
        Destination::Order(order) => rsx! { OrderScreen { key: "{order}", order } },
        Destination::RecordRequest(household) => {
            rsx! { RequestScreen { key: "{household}", household } }
        }
        Destination::RegisterHousehold(building) => {
            rsx! { RegisterHouseholdScreen { key: "{building}", building } }
        }
        Destination::AddResident(household) => {
            rsx! { AddResidentScreen { key: "{household}", household } }
        }
        Destination::CorrectResident(household, resident) => {
            rsx! { CorrectResidentScreen { key: "{resident}", household, resident } }
        }
        Destination::EditHousehold(household) => {
            rsx! { EditHouseholdScreen { key: "{household}", household } }
        }
        Destination::Party => rsx! { PartyScreen {} },
        Destination::Commitment(commitment) => {
            rsx! { CommitmentScreen { key: "{commitment}", commitment } }
        }
        Destination::Service => rsx! { ServiceScreen {} },
        Destination::Sync => rsx! { SettingsScreen {} },
    }
}

#[component]
pub fn App() -> Element {
    let startup = use_context::<Startup>();
    let services = use_context::<Services>();
    let ui = use_context_provider(|| Ui::new(&startup));
    // A device that was signed in starts syncing at once.
    use_hook({
        let services = services.clone();
        let startup = startup.clone();
        move || {
            if let (Some(_), Some(server)) = (&startup.session, &startup.server) {
                let _ = services.start_sync(server);
            }
        }
    });
    use_hook({
        let platform = services.platform.clone();
        move || crate::platform::serve_page(platform)
    });
    use_background_loops(services.clone(), ui);
    let lang = (ui.lang)();
    let class = if (ui.big_type)() {
        "app big-type"
    } else {
        "app"
    };
    rsx! {
        style { {crate::STYLE} }
        div { class, lang: lang.code(),
            if (ui.session)().is_none() {
                SignInScreen { auto: startup.auto_sign_in.clone() }
            } else {
                Router::<Route> {}
            }
        }
    }
}

/// How often a patrol under way samples the phone's position.
const PATROL_FIX_EVERY: Duration = Duration::from_secs(10);

/// Poll the worker's status and the server's reachability, and sample the position while a patrol
/// runs; none of them ever blocks the UI thread.
fn use_background_loops(services: Services, mut ui: Ui) {
    let patrol_services = services.clone();
    use_future(move || {
        let services = patrol_services.clone();
        async move {
            loop {
                tokio::time::sleep(PATROL_FIX_EVERY).await;
                if ui.session.peek().is_none() {
                    continue;
                }
                let platform = services.platform.clone();
                let Ok(Some(fix)) = tokio::task::spawn_blocking(move || platform.location()).await
                else {
                    continue;
                };
                let added = services
                    .store
                    .run(move |s| s.add_patrol_fix(fix, chrono::Utc::now()).unwrap_or(false))
                    .await
                    .unwrap_or(false);
                if added {
                    ui.changed();
                }
            }
        }
    });
    let status_services = services.clone();
    use_future(move || {
        let services = status_services.clone();
        async move {
            let mut last_runs = 0;
            loop {
                if let Some(st) = services.worker_status() {
                    if st.runs != last_runs {
                        last_runs = st.runs;
                        // A run that reached the server proves the network; one that could
                        // not is as good as a failed probe.
                        let reached = st.last_error.is_none();
                        if *ui.online.peek() != reached {
                            ui.online.set(reached);
                        }
                        // A revoked token signs the device out; the store knows.
                        let session = services
                            .store
                            .run(|s| s.session().ok().flatten())
                            .await
                            .ok()
                            .flatten();
                        if session.is_none() && ui.session.peek().is_some() {
                            services.stop_sync();
                            ui.session.set(None);
                        }
                        if reached && session.is_some() {
                            tell_news(&services, ui).await;
                        }
                        ui.changed();
                    }
                    if *ui.worker.peek() != st {
                        ui.worker.set(st);
                    }
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    });
    use_future(move || {
        let services = services.clone();
        async move {
            // The phone's own word on the network, where it gives one, ends the wait at once.
            let mut changes = services.platform.connectivity();
            loop {
                let server = ui.server.peek().clone();
                let online = match server {
                    Some(server) => {
                        let platform = services.platform.clone();
                        tokio::task::spawn_blocking(move || platform.reachable(&server))
                            .await
                            .unwrap_or(false)
                    }
                    None => false,
                };
                let was = *ui.online.peek();
                if online != was {
                    ui.online.set(online);
                    services.trigger(if online {
                        Trigger::NetworkUp
                    } else {
                        Trigger::NetworkDown
                    });
                }
                let pause = Duration::from_secs(if online { 10 } else { 3 });
                match changes.as_mut() {
                    Some(c) => {
                        if let Ok(Err(_)) = tokio::time::timeout(pause, c.changed()).await {
                            changes = None;
                        }
                    }
                    None => tokio::time::sleep(pause).await,
                }
            }
        }
    });
}

/// After a sync that reached the server: what it brought that concerns the user (new tasks, a
/// report of theirs closed), as a notification and as the notice on screen.
async fn tell_news(services: &Services, mut ui: Ui) {
    let news = services
        .store
        .run(|s| s.news_since_last_look(chrono::Utc::now()).ok())
        .await
        .ok()
        .flatten()
        .unwrap_or_default();
    if news.is_empty() {
        return;
    }
    let lang = *ui.lang.peek();
    let mut lines = Vec::new();
    if news.new_tasks > 0 {
        lines.push(lang.t1(Msg::NewTasks, news.new_tasks));
    }
    for title in &news.closed_reports {
        lines.push(lang.t1(Msg::ReportClosed, title));
    }
    let text = lines.join("；");
    services.platform.notify(lang.t(Msg::AppName), &text);
    ui.notice.set(Some(Notice {
        text,
        link: Some(Destination::Home),
        until_tapped: true,
    }));
}

/// How long a notice ("已保存…") stays before it goes by itself.
const NOTICE_FOR: Duration = Duration::from_secs(4);

/// The signed-in layout: sync bar, the routed screen, the notice, the tab bar. It gives screens
/// their [`Nav`].
#[component]
fn Shell() -> Element {
    let ui = use_context::<Ui>();
    let services = use_context::<Services>();
    let navigator = use_navigator();
    use_context_provider(|| {
        Nav(Callback::new(move |op: NavOp| match op {
            NavOp::Go(d) => {
                navigator.push(Route::from(d));
            }
            NavOp::Replace(d) => {
                navigator.replace(Route::from(d));
            }
            NavOp::Back if navigator.can_go_back() => navigator.go_back(),
            NavOp::Back => {
                navigator.replace(Route::from(Destination::Home));
            }
        }))
    });
    let lang: Lang = (ui.lang)();
    let here = use_route::<Route>()
        .destination()
        .unwrap_or(Destination::Home);
    let roles: Vec<Role> = ui
        .session
        .read()
        .as_ref()
        .map(|s| s.user.roles.clone())
        .unwrap_or_default();
    let status = crate::state::use_load(|s| s.sync_status());
    let bar = SyncBarState {
        status: status
            .read()
            .as_ref()
            .and_then(|r| r.as_ref().ok().cloned())
            .unwrap_or_default(),
        online: (ui.online)(),
        worker: (ui.worker)(),
    };
    let notice = (ui.notice)();
    use_effect(move || {
        if let Some(n) = (ui.notice)().filter(|n| !n.until_tapped) {
            let mut slot = ui.notice;
            spawn(async move {
                tokio::time::sleep(NOTICE_FOR).await;
                if slot.peek().as_ref() == Some(&n) {
                    slot.set(None);
                }
            });
        }
    });
    rsx! {
        SyncBar {
            state: bar,
            lang,
            on_retry: move |_| services.trigger(Trigger::Now),
        }
        main { class: "screen", Outlet::<Route> {} }
        if let Some(n) = notice {
            div { class: if n.link.is_some() { "notice link" } else { "notice" }, role: "status",
                onclick: move |_| {
                    let mut slot = ui.notice;
                    slot.set(None);
                    if let Some(d) = n.link {
                        navigator.push(Route::from(d));
                    }
                },
                "{n.text}"
            }
        }
        TabBar { current: here.tab(), roles, lang, on_tab: move |d: Destination| { navigator.push(Route::from(d)); } }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gridmate_model::{BuildingId, CommitmentId, HouseholdId, IssueId, OrderId, ResidentId};

    #[test]
    fn every_destination_is_a_url_the_router_reads_back() {
        let (b, h, i, r) = (
            BuildingId::new_v7(),
            HouseholdId::new_v7(),
            IssueId::new_v7(),
            ResidentId::new_v7(),
        );
        let all = [
            Destination::Home,
            Destination::Households,
            Destination::Building(b),
            Destination::Household(h),
            Destination::RecordVisit(h),
            Destination::Report,
            Destination::ReportInBuilding(b),
            Destination::ReportForHousehold(h),
            Destination::Issues,
            Destination::Issue(i),
            Destination::Order(OrderId::new_v7()),
            Destination::RecordRequest(h),
            Destination::RegisterHousehold(b),
            Destination::AddResident(h),
            Destination::CorrectResident(h, r),
            Destination::EditHousehold(h),
            Destination::Party,
            Destination::Commitment(CommitmentId::new_v7()),
            Destination::Service,
            Destination::Sync,
        ];
        assert_eq!(all.len(), Destination::PATTERNS.len(), "one of each");
        let mut urls = std::collections::HashSet::new();
        for d in all {
            let url = Route::from(d).to_string();
            assert!(urls.insert(url.clone()), "{url} twice");
            let back: Route = url.parse().unwrap_or_else(|e| panic!("{url}: {e}"));
            assert_eq!(back.destination(), Some(d), "{url}");
        }
        assert_eq!(Route::from(Destination::Home).to_string(), "/");
        // A notice's deep link is a plain URL.
        assert_eq!(
            format!("/issue/{i}")
                .parse::<Route>()
                .unwrap()
                .destination(),
            Some(Destination::Issue(i))
        );
        // Unknown or stale links are no screen (the shell shows home).
        for stale in [
            "/app",
            "/issue/not-an-id",
            "/issue/not-an-id/x",
            "/patrols/2026",
        ] {
            assert_eq!(
                stale.parse::<Route>().unwrap().destination(),
                None,
                "{stale}"
            );
        }
    }
}
