//! A party member on dual check-in (双报到): check in to my grid (the geofence verdict and the
//! distance to the boundary, worked out offline from the cached polygon), open tasks to take
//! (接单), and my year of service with a form to log more.

use crate::i18n::{Lang, Msg};
use crate::state::{Destination, Services, Ui, run_store, use_load, use_nav};
use crate::widgets::GridMap;
use crate::widgets::{
    ErrorCard, FixLine, Loading, TitleBar, category_icon, china_time, metres, verdict_label,
};
use chrono::Utc;
use dioxus::prelude::*;
use gridmate_device::{IssueFilter, IssueRow, ServiceSummary, Store};
use gridmate_model::geo_rules::locate_in_grid;
use gridmate_model::issue::allowed_actions;
use gridmate_model::{CheckIn, GeoVerdict, GpsFix, Grid, IssueAction, IssueId, Role};

#[derive(Clone, Debug, PartialEq)]
pub struct PartyData {
    pub grid: Option<Grid>,
    pub checkins: Vec<CheckIn>,
    pub tasks: Vec<IssueRow>,
    pub service: ServiceSummary,
}

impl PartyData {
    pub fn read(store: &Store) -> Result<PartyData, gridmate_device::DeviceError> {
        let session = store
            .session()?
            .ok_or(gridmate_device::DeviceError::NoSession)?;
        let grid_id = session.grid_ids().first().copied();
        let grid = match grid_id {
            Some(g) => Some(store.grid(g)?),
            None => None,
        };
        let tasks = store
            .issues(&IssueFilter {
                grid_id,
                limit: 200,
                ..Default::default()
            })?
            .into_iter()
            .filter(|i| {
                allowed_actions(i.status, &[Role::PartyMember]).contains(&IssueAction::Accept)
            })
            .take(20)
            .collect();
        Ok(PartyData {
            grid,
            checkins: store.checkins(session.user.id, 5)?,
            tasks,
            service: store.service_summary(session.user.id, Utc::now())?,
        })
    }
}

#[component]
pub fn PartyView(
    data: PartyData,
    fix: Option<GpsFix>,
    error: Option<String>,
    lang: Lang,
    on_check_in: EventHandler<()>,
    on_accept: EventHandler<IssueId>,
    on_log_service: EventHandler<()>,
) -> Element {
    let preview = data
        .grid
        .as_ref()
        .zip(fix)
        .map(|(g, f)| locate_in_grid(&g.boundary, &f));
    let s = &data.service;
    rsx! {
        section { class: "card checkin",
            h2 { {lang.t(Msg::CheckInToMyGrid)} }
            if let Some(g) = &data.grid {
                p { class: "sub", "{g.name}" }
                GridMap { grid: g.clone(), buildings: vec![], lang, here: fix }
            }
            FixLine { fix, lang }
            if let Some(p) = preview {
                p { class: match p.verdict { GeoVerdict::Inside => "verdict inside", GeoVerdict::Outside => "verdict outside", GeoVerdict::Uncertain => "verdict uncertain" },
                    {verdict_label(p.verdict, lang)}
                    " · " {lang.t(Msg::ToTheBoundary)} " {metres(p.distance_m.abs())}"
                }
            }
            if let Some(e) = error { p { class: "error-card", role: "alert", "{e}" } }
            button { class: "primary wide", "data-action": "check-in", disabled: fix.is_none() || data.grid.is_none(),
                onclick: move |_| on_check_in.call(()),
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
            h2 { {lang.t(Msg::TasksToTake)} span { class: "count", " {data.tasks.len()}" } }
            if data.tasks.is_empty() { p { class: "empty", {lang.t(Msg::NoOpenTasks)} } }
            ul {
                for t in data.tasks.iter() {
                    li { class: "row",
                        span { class: "cat-icon cat-{t.category.code()}", {category_icon(t.category)} }
                        span { class: "name", "{t.title}" }
                        button { class: "secondary", "data-action": "take-task",
                            onclick: { let id = t.id; move |_| on_accept.call(id) },
                            {lang.t(Msg::TakeIt)} }
                    }
                }
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
    let fix = use_signal(|| services.platform.location());
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
    let on_check_in = move |_| {
        let Some(f) = fix() else { return };
        let services = s1.clone();
        spawn(async move {
            let r = run_store(&services.store, lang, move |s| {
                let grid = s
                    .session()?
                    .and_then(|x| x.grid_ids().first().copied())
                    .ok_or(gridmate_device::DeviceError::NoSession)?;
                s.check_in(grid, f, Utc::now()).map(|_| ())
            })
            .await;
            written(r, services, Msg::CheckedInItUploadsWhenOnline, None);
        });
    };
    let on_accept = move |id: IssueId| {
        let services = services.clone();
        spawn(async move {
            let r = run_store(&services.store, lang, move |s| {
                s.act_on_issue(id, IssueAction::Accept, lang.t(Msg::TaskTakenNote), vec![])
                    .map(|_| ())
            })
            .await;
            // The notice opens the task taken.
            written(r, services, Msg::TaskTaken, Some(Destination::Issue(id)));
        });
    };
    rsx! {
        TitleBar { title: lang.t(Msg::PartyMemberService).to_string(), lang, on_back: None }
        match &*data.read() {
            None => rsx! { Loading { lang } },
            Some(Err(e)) => rsx! { ErrorCard { message: e.clone() } },
            Some(Ok(d)) => rsx! {
                PartyView { data: d.clone(), fix: fix(), error: error(), lang, on_check_in, on_accept,
                    on_log_service: move |_| nav.go(Destination::Service) }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::screens::fixtures::{demo, demo_store, render};

    #[test]
    fn check_in_shows_the_verdict_and_the_distance_before_tapping() {
        let (_dir, store) = demo_store(Role::PartyMember);
        let data = PartyData::read(&store).unwrap();
        let grid = data.grid.clone().expect("a party member's grid");
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
                PartyView { data: d1.clone(), fix: Some(inside), error: None, lang: Lang::Zh, on_check_in: |_| {}, on_accept: |_| {}, on_log_service: |_| {} }
            }
        });
        assert!(html.contains("在网格内") && html.contains("距边界"));
        assert!(html.contains("签到"));
        assert_eq!(html.contains("接单"), !data.tasks.is_empty());
        let d2 = data.clone();
        let out = render(move || {
            rsx! {
                PartyView { data: d2.clone(), fix: Some(far), error: None, lang: Lang::En, on_check_in: |_| {}, on_accept: |_| {}, on_log_service: |_| {} }
            }
        });
        assert!(out.contains("Outside the grid") && out.contains("mock location"));
        let none = render(move || {
            rsx! {
                PartyView { data: data.clone(), fix: None, error: None, lang: Lang::Zh, on_check_in: |_| {}, on_accept: |_| {}, on_log_service: |_| {} }
            }
        });
        assert!(
            none.contains("暂无定位") && none.contains("disabled"),
            "no fix, no check-in"
        );
    }
}
