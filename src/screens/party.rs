//! A party member on dual check-in (双报到): check in to my grid (the geofence verdict and the
//! distance to the boundary, worked out offline from the cached polygon), residents' requests
//! dispatched to me or open to my grid (接单) and those I hold, and my year of service with a
//! form to log more.

use crate::i18n::{Labelled, Lang, Msg};
use crate::state::{Destination, Services, Ui, run_store, use_load, use_nav};
use crate::widgets::{
    ErrorCard, FixLine, Loading, TitleBar, china_time, metres, use_fix, verdict_label,
};
use crate::widgets::{GridMap, OrderRow};
use chrono::{DateTime, Datelike, Utc};
use dioxus::prelude::*;
use gridmate_device::{OrderFilter, OrderStep, ServiceSummary, Store};
use gridmate_model::geo_rules::locate_in_grid;
use gridmate_model::{
    CheckIn, Commitment, CommitmentId, CommitmentStatus, GeoVerdict, GpsFix, Grid, GridId, Order,
    OrderAction, OrderId, OrderStatus, UserId,
};

#[derive(Clone, Debug, PartialEq)]
pub struct PartyData {
    /// Every grid I am registered with (a member may serve more than one); check-in picks one.
    pub grids: Vec<Grid>,
    pub checkins: Vec<CheckIn>,
    /// Open orders dispatched to me or open to my grid, and those I hold.
    pub orders: Vec<Order>,
    pub service: ServiceSummary,
    /// The grid's public commitments for this year (承诺践诺), mine among them.
    pub commitments: Vec<Commitment>,
    pub me: Option<UserId>,
}

impl PartyData {
    pub fn read(store: &Store) -> Result<PartyData, gridmate_device::DeviceError> {
        let session = store
            .session()?
            .ok_or(gridmate_device::DeviceError::NoSession)?;
        let grid_id = session.grid_ids().first().copied();
        let grids = session
            .grid_ids()
            .into_iter()
            .map(|g| store.grid(g))
            .collect::<Result<Vec<_>, _>>()?;
        let orders = store.orders(&OrderFilter {
            open_only: true,
            for_user: Some(session.user.id),
            ..Default::default()
        })?;
        let commitments = match grid_id {
            Some(g) => store.commitments(g, Utc::now().year())?,
            None => vec![],
        };
        Ok(PartyData {
            grids,
            commitments,
            me: Some(session.user.id),
            checkins: store.checkins(session.user.id, 5)?,
            orders,
            service: store.service_summary(session.user.id, Utc::now())?,
        })
    }
}

#[component]
pub fn PartyView(
    data: PartyData,
    /// The grid chosen to check in to; the first when none is.
    chosen: Option<GridId>,
    fix: Option<GpsFix>,
    #[props(default)] problem: Option<crate::platform::LocationProblem>,
    error: Option<String>,
    now: DateTime<Utc>,
    lang: Lang,
    on_choose: EventHandler<GridId>,
    on_check_in: EventHandler<GridId>,
    on_take: EventHandler<OrderId>,
    on_open: EventHandler<OrderId>,
    on_log_service: EventHandler<()>,
    /// A new promise (its title).
    on_promise: EventHandler<String>,
    /// Open a commitment: its steps, and a step to log on one of mine.
    on_commitment: EventHandler<CommitmentId>,
) -> Element {
    let mut note = use_signal(String::new);
    let grid = data
        .grids
        .iter()
        .find(|g| Some(g.id) == chosen)
        .or(data.grids.first())
        .cloned();
    let preview = grid
        .as_ref()
        .zip(fix)
        .map(|(g, f)| locate_in_grid(&g.boundary, &f));
    let s = &data.service;
    rsx! {
        section { class: "card checkin",
            h2 { {lang.t(Msg::CheckInToMyGrid)} }
            if data.grids.len() > 1 {
                div { class: "chips",
                    for g in data.grids.iter() {
                        button { r#type: "button", "data-grid": "{g.code}",
                            class: if grid.as_ref().map(|x| x.id) == Some(g.id) { "chip on" } else { "chip" },
                            onclick: { let id = g.id; move |_| on_choose.call(id) },
                            "{g.name}" }
                    }
                }
            }
            if let Some(g) = &grid {
                p { class: "sub", "{g.name}" }
                GridMap { grid: g.clone(), buildings: vec![], lang, here: fix }
            }
            FixLine { fix, problem, lang }
            if let Some(p) = preview {
                p { class: match p.verdict { GeoVerdict::Inside => "verdict inside", GeoVerdict::Outside => "verdict outside", GeoVerdict::Uncertain => "verdict uncertain" },
                    {verdict_label(p.verdict, lang)}
                    " · " {lang.t(Msg::ToTheBoundary)} " {metres(p.distance_m.abs())}"
                }
            }
            if let Some(e) = error { p { class: "error-card", role: "alert", "{e}" } }
            button { class: "primary wide", "data-action": "check-in", disabled: fix.is_none() || grid.is_none(),
                onclick: { let id = grid.as_ref().map(|g| g.id); move |_| if let Some(id) = id { on_check_in.call(id) } },
                {lang.t(Msg::CheckInButton)} }
            if !data.checkins.is_empty() {
                ul { class: "checkins",
                    for c in data.checkins.iter() {
                        li { class: "row",
                            span { {china_time(c.at)} }
                            span { {verdict_label(c.verdict, lang)} }
                            span { class: "muted small", "±{metres(c.fix.accuracy_m)}" }
                            if c.fix.mock_location { span { class: "tag", {lang.t(Msg::MockLocation)} } }
                        }
                    }
                }
            }
        }
        section { class: "card tasks",
            h2 { {lang.t(Msg::OrdersToTake)} span { class: "count", " {data.orders.len()}" } }
            if data.orders.is_empty() { p { class: "empty", {lang.t(Msg::NoOrdersToTake)} } }
            ul {
                for o in data.orders.iter() {
                    OrderRow { order: o.clone(), now, lang, on_open: on_open,
                        on_take: (o.status == OrderStatus::Dispatched).then_some(on_take) }
                }
            }
        }
        section { class: "card commitments",
            h2 { {lang.t(Msg::Commitments)} span { class: "count", " {data.commitments.len()}" } }
            ul {
                for c in data.commitments.iter() {
                    li { class: "row commitment", "data-status": c.status.code(),
                        onclick: { let id = c.id; move |_| on_commitment.call(id) },
                        span { class: "name", "{c.title}" }
                        span { class: "muted small", "{c.user_name}" }
                        span { class: "tag plain", {c.status.label(lang)} }
                        if c.progress > 0 { span { class: "muted small", {lang.t1(Msg::ProgressCount, c.progress)} } }
                        if Some(c.user_id) == data.me && c.status == CommitmentStatus::Promised {
                            button { class: "secondary small", "data-commitment": "act",
                                onclick: { let id = c.id; move |e: MouseEvent| { e.stop_propagation(); on_commitment.call(id) } },
                                {lang.t(Msg::CommitmentAct)} }
                        }
                    }
                }
            }
            div { class: "form",
                input { name: "commitment", value: "{note}", placeholder: lang.t(Msg::MyCommitmentField),
                    oninput: move |e: FormEvent| note.set(e.value()) }
                button { class: "secondary", r#type: "button", "data-action": "promise",
                    onclick: move |_| on_promise.call(note()), {lang.t(Msg::MakeCommitment)} }
            }
        }
        section { class: "card service",
            h2 { "{s.year}" {lang.t(Msg::VolunteerService)} }
            p { class: "big",
                span { class: "num", "{s.hours_tenths / 10}.{s.hours_tenths % 10}" } {lang.t(Msg::HoursUnit)}
                "{s.records}" {lang.t(Msg::TimesUnit)} "{s.people_served}" {lang.t(Msg::PeopleServedUnit)}
            }
            button { class: "primary wide", "data-action": "log-service", onclick: move |_| on_log_service.call(()),
                {lang.t(Msg::LogService)} }
            ul {
                for r in s.recent.iter().take(5) {
                    li { class: "row",
                        span { class: "addr", {china_time(r.at)} }
                        span { class: "name", "{r.title}" }
                        span { class: "muted", "{r.hours_tenths / 10}.{r.hours_tenths % 10} h" }
                    }
                }
            }
        }
    }
}

#[component]
pub fn PartyScreen() -> Element {
    let ui = use_context::<Ui>();
    let nav = use_nav();
    let services = use_context::<Services>();
    let lang = (ui.lang)();
    let (fix, problem) = use_fix();
    let mut error = use_signal(|| None::<String>);
    let data = use_load(|s| PartyData::read(s));
    let s1 = services.clone();
    let mut written = move |r: Result<(), String>, services: Services, said, link| match r {
        Ok(()) => {
            error.set(None);
            ui.saved(&services, said, link);
        }
        Err(e) => error.set(Some(e)),
    };
    let mut chosen = use_signal(|| None::<GridId>);
    let on_check_in = move |grid: GridId| {
        let Some(f) = fix() else { return };
        let services = s1.clone();
        spawn(async move {
            let r = run_store(&services.store, lang, move |s| {
                s.check_in(grid, f, Utc::now()).map(|_| ())
            })
            .await;
            written(r, services, Msg::CheckedInItUploadsWhenOnline, None);
        });
    };
    let s2 = services.clone();
    let on_promise = move |title: String| {
        let services = s2.clone();
        spawn(async move {
            let r = run_store(&services.store, lang, move |s| {
                let grid = s.home_grid()?;
                s.make_commitment(grid, &title, "").map(|_| ())
            })
            .await;
            written(r, services, Msg::SavedItUploadsWhenOnline, None);
        });
    };
    let on_take = move |id: OrderId| {
        let services = services.clone();
        spawn(async move {
            let r = run_store(&services.store, lang, move |s| {
                s.act_on_order(id, OrderStep::new(OrderAction::Take, ""))
                    .map(|_| ())
            })
            .await;
            // The notice opens the order taken.
            written(
                r,
                services,
                Msg::OrderTakenOpenIt,
                Some(Destination::Order(id)),
            );
        });
    };
    rsx! {
        TitleBar { title: lang.t(Msg::PartyMemberService).to_string(), lang, on_back: None }
        match &*data.read() {
            None => rsx! { Loading { lang } },
            Some(Err(e)) => rsx! { ErrorCard { message: e.clone() } },
            Some(Ok(d)) => rsx! {
                PartyView { data: d.clone(), chosen: chosen(), fix: fix(), problem: problem(), error: error(), now: Utc::now(), lang,
                    on_choose: move |g| chosen.set(Some(g)), on_check_in, on_take,
                    on_open: move |id| nav.go(Destination::Order(id)),
                    on_log_service: move |_| nav.go(Destination::Service),
                    on_promise, on_commitment: move |id| nav.go(Destination::Commitment(id)) }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::screens::fixtures::{demo, demo_store, render};
    use gridmate_model::Role;

    #[test]
    fn a_member_of_two_grids_picks_the_one_to_check_in_to() {
        let (_dir, store) = demo_store(Role::PartyMember);
        let mut data = PartyData::read(&store).unwrap();
        data.grids.push(demo().grids[1].clone());
        let second = demo().grids[1].id;
        let html = render(move || {
            rsx! {
                PartyView { data: data.clone(), chosen: Some(second), fix: None, error: None, lang: Lang::Zh, now: Utc::now(), on_choose: |_| {}, on_check_in: |_| {}, on_take: |_| {}, on_open: |_| {}, on_log_service: |_| {}, on_promise: |_| {}, on_commitment: |_| {} }
            }
        });
        assert_eq!(html.matches("data-grid=").count(), 2);
        assert!(
            html.contains("chip on") && html.contains("<p class=\"sub\">联和第二网格</p>"),
            "{html}"
        );
    }

    #[test]
    fn check_in_shows_the_verdict_and_the_distance_before_tapping() {
        let (_dir, store) = demo_store(Role::PartyMember);
        let data = PartyData::read(&store).unwrap();
        let grid = data.grids.first().cloned().expect("a party member's grid");
        let b = demo()
            .buildings
            .iter()
            .find(|b| b.grid_id == grid.id)
            .unwrap();
        let inside = GpsFix {
            lat: b.lat,
            lon: b.lon,
            accuracy_m: 5.0,
            mock_location: false,
        };
        let far = GpsFix {
            lat: b.lat + 0.05,
            lon: b.lon,
            accuracy_m: 5.0,
            mock_location: true,
        };
        let d1 = data.clone();
        let html = render(move || {
            rsx! {
                PartyView { data: d1.clone(), chosen: None, fix: Some(inside), error: None, lang: Lang::Zh, now: Utc::now(), on_choose: |_| {}, on_check_in: |_| {}, on_take: |_| {}, on_open: |_| {}, on_log_service: |_| {}, on_promise: |_| {}, on_commitment: |_| {} }
            }
        });
        assert!(html.contains("在网格内") && html.contains("距边界"));
        assert!(html.contains("签到"));
        // Requests dispatched to me or open to the grid, each with a take button.
        let to_take = data
            .orders
            .iter()
            .filter(|o| o.status == OrderStatus::Dispatched)
            .count();
        assert!(to_take > 0);
        assert_eq!(html.matches("data-action=\"take-order\"").count(), to_take);
        // The grid's public promises; only an open one of mine can be moved.
        assert!(html.contains("年度承诺") && html.contains("每月陪护独居老人就医一次"));
        assert_eq!(html.matches("data-commitment=\"act\"").count(), 1);
        let d2 = data.clone();
        let out = render(move || {
            rsx! {
                PartyView { data: d2.clone(), chosen: None, fix: Some(far), error: None, lang: Lang::En, now: Utc::now(), on_choose: |_| {}, on_check_in: |_| {}, on_take: |_| {}, on_open: |_| {}, on_log_service: |_| {}, on_promise: |_| {}, on_commitment: |_| {} }
            }
        });
        assert!(out.contains("Outside the grid") && out.contains("mock location"));
        let none = render(move || {
            rsx! {
                PartyView { data: data.clone(), chosen: None, fix: None, error: None, lang: Lang::Zh, now: Utc::now(), on_choose: |_| {}, on_check_in: |_| {}, on_take: |_| {}, on_open: |_| {}, on_log_service: |_| {}, on_promise: |_| {}, on_commitment: |_| {} }
            }
        });
        assert!(
            none.contains("暂无定位") && none.contains("disabled"),
            "no fix, no check-in"
        );
    }
}
