//! One household: who lives there (phones and ID numbers masked), its tags, its visits and the
//! issues tied to it; "record visit" and "report problem" one tap away.

use crate::i18n::{Labelled, Lang, Msg};
use crate::state::{Destination, Services, Ui, use_load, use_nav};
use crate::widgets::{
    ErrorCard, GridMap, Loading, StatusChip, TitleBar, category_icon, china_date,
};
use chrono::Utc;
use dioxus::prelude::*;
use gridmate_device::{BuildingRow, DeviceError, HouseholdDetail, Store};
use gridmate_model::{BaseMap, Grid, GridId, HouseholdId, IssueId, ResidentId, Role};

#[component]
pub fn HouseholdView(
    detail: HouseholdDetail,
    lang: Lang,
    on_visit: EventHandler<()>,
    on_report: EventHandler<()>,
    /// Recording a request is for the community's side (workers, leaders, the office).
    on_request: Option<EventHandler<()>>,
    on_add: EventHandler<()>,
    on_edit: EventHandler<()>,
    on_person: EventHandler<ResidentId>,
    on_call: EventHandler<ResidentId>,
    on_issue: EventHandler<IssueId>,
) -> Element {
    let h = &detail.household;
    rsx! {
        p { class: "sub", "{detail.estate} · {h.address}" }
        p { class: "tags",
            for t in h.tags.iter() {
                span { class: if t.is_vulnerable() { "tag" } else { "tag plain" }, {t.label(lang)} }
            }
            if detail.pending { span { class: "tag pending", {lang.t(Msg::NotUploaded)} } }
            button { class: "secondary small", "data-action": "edit-household", onclick: move |_| on_edit.call(()),
                {lang.t(Msg::EditHousehold)} }
        }
        div { class: "actions",
            button { class: "primary", "data-action": "record-visit", onclick: move |_| on_visit.call(()),
                {lang.t(Msg::RecordVisit)} }
            button { class: "secondary", "data-action": "report", onclick: move |_| on_report.call(()),
                {lang.t(Msg::ReportProblem)} }
            if let Some(on_request) = on_request {
                button { class: "secondary", "data-action": "record-request", onclick: move |_| on_request.call(()),
                    {lang.t(Msg::RecordRequest)} }
            }
        }
        section { class: "card",
            h2 { {lang.t(Msg::Members)} span { class: "count", " {detail.residents.len()}" }
                button { class: "secondary small", "data-action": "add-member", onclick: move |_| on_add.call(()),
                    {lang.t(Msg::AddMember)} }
            }
            ul {
                for r in detail.residents.iter() {
                    li { class: if r.moved_out { "row resident moved-out" } else { "row resident" },
                        onclick: { let id = r.id; move |_| on_person.call(id) },
                        span { class: "name", "{r.name}" }
                        if r.moved_out { span { class: "tag plain", {lang.t(Msg::MovedOut)} } }
                        if r.pending { span { class: "tag pending", {lang.t(Msg::NotUploaded)} } }
                        span { class: "muted", "{r.relation}"
                            if let Some(y) = r.birth_year { " · {y}" {lang.t(Msg::BornSuffix)} }
                        }
                        if let Some(p) = &r.phone_masked { span { class: "phone", "☎ {p}" } }
                        if r.can_call && !r.moved_out {
                            button { class: "secondary small", "data-action": "call",
                                onclick: { let id = r.id; move |e: MouseEvent| { e.stop_propagation(); on_call.call(id) } },
                                {lang.t(Msg::CallResident)} }
                        }
                        if let Some(id) = &r.id_number_masked { span { class: "muted small", "{id}" } }
                        for t in r.tags.iter().filter(|t| t.is_vulnerable()) {
                            span { class: "tag", {t.label(lang)} }
                        }
                    }
                }
            }
        }
        section { class: "card",
            h2 { {lang.t(Msg::Visits)} span { class: "count", " {detail.visits.len()}" } }
            if detail.visits.is_empty() {
                p { class: "empty", {lang.t(Msg::NotVisitedYet)} }
            }
            ul {
                for v in detail.visits.iter() {
                    li { class: "row visit",
                        span { class: "addr", {china_date(v.started_at)} }
                        span { {v.kind.label(lang)} " · " {v.outcome.label(lang)} }
                        if v.pending { span { class: "tag pending", {lang.t(Msg::NotUploaded)} } }
                        if !v.notes.is_empty() { span { class: "notes", "{v.notes}" } }
                    }
                }
            }
        }
        section { class: "card",
            h2 { {lang.t(Msg::LinkedIssues)} span { class: "count", " {detail.issues.len()}" } }
            if detail.issues.is_empty() {
                p { class: "empty", {lang.t(Msg::NoLinkedIssues)} }
            }
            ul {
                for i in detail.issues.iter() {
                    li { class: "row", onclick: { let id = i.id; move |_| on_issue.call(id) },
                        span { class: "cat-icon cat-{i.category.code()}", {category_icon(i.category)} }
                        span { class: "name", "{i.title}" }
                        StatusChip { status: i.status, lang }
                    }
                }
            }
        }
    }
}

/// The household's grid drawn with its building picked out.
#[derive(Clone, Debug, PartialEq)]
struct PlaceMap {
    grid: Grid,
    buildings: Vec<BuildingRow>,
    base: Option<BaseMap>,
}

impl PlaceMap {
    /// `None` when the grid is not in the cache (nothing to draw it on).
    fn read(s: &Store, grid_id: GridId) -> Result<Option<PlaceMap>, DeviceError> {
        let grid = match s.grid(grid_id) {
            Ok(g) => g,
            Err(DeviceError::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        Ok(Some(PlaceMap {
            buildings: s.buildings(grid_id, Utc::now())?,
            base: s.base_map(grid_id)?,
            grid,
        }))
    }
}

#[component]
pub fn HouseholdScreen(household: HouseholdId) -> Element {
    let ui = use_context::<Ui>();
    let nav = use_nav();
    let services = use_context::<Services>();
    let lang = (ui.lang)();
    let data = use_load(move |s| {
        let d = s.household(household)?;
        let place = PlaceMap::read(s, d.household.grid_id)?;
        Ok((d, place))
    });
    match &*data.read() {
        None => rsx! { Loading { lang } },
        Some(Err(e)) => rsx! { ErrorCard { message: e.clone() } },
        Some(Ok((d, place))) => {
            let title = format!(
                "{}-{}-{} {}",
                d.building_number, d.household.unit, d.household.room, d.household.head_name
            );
            let building = d.household.building_id;
            let community_side = ui.session.read().as_ref().is_some_and(|s| {
                s.user.roles.iter().any(|r| {
                    matches!(
                        r,
                        Role::GridWorker | Role::GridLeader | Role::CommunityAdmin
                    )
                })
            });
            rsx! {
                TitleBar { title, lang, on_back: move |_| nav.back() }
                HouseholdView {
                    detail: d.clone(), lang,
                    on_visit: move |_| nav.go(Destination::RecordVisit(household)),
                    on_report: move |_| nav.go(Destination::ReportForHousehold(household)),
                    on_request: community_side.then_some(EventHandler::new(move |_| nav.go(Destination::RecordRequest(household)))),
                    on_add: move |_| nav.go(Destination::AddResident(household)),
                    on_edit: move |_| nav.go(Destination::EditHousehold(household)),
                    on_person: move |r| nav.go(Destination::CorrectResident(household, r)),
                    on_call: move |r| {
                        let services = services.clone();
                        spawn(async move {
                            let number = services
                                .store
                                .run(move |s| s.resident_phone_for_call(r).ok().flatten())
                                .await
                                .ok()
                                .flatten();
                            if let Some(n) = number {
                                services.platform.dial(&n);
                            }
                        });
                    },
                    on_issue: move |i| nav.go(Destination::Issue(i)),
                }
                if let Some(m) = place {
                    section { class: "card place",
                        h2 { {lang.t(Msg::HouseholdOnMap)} }
                        GridMap { grid: m.grid.clone(), buildings: m.buildings.clone(), lang, base: m.base.clone(), selected: Some(building) }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::screens::fixtures::{as_of, demo_store, render};

    #[test]
    fn members_are_listed_with_masked_phones_and_ids() {
        let (_dir, store) = demo_store(Role::GridWorker);
        let due = store.due_visits(None, as_of(), 1).unwrap();
        let detail = store.household(due[0].household.id).unwrap();
        let d = detail.clone();
        let html = render(move || {
            rsx! {
                HouseholdView { detail: d.clone(), lang: Lang::Zh, on_visit: |_| {}, on_report: |_| {}, on_request: None, on_add: |_| {}, on_edit: |_| {}, on_person: |_| {}, on_call: |_| {}, on_issue: |_| {} }
            }
        });
        assert!(html.contains("记录走访") && html.contains("上报问题"));
        for r in &detail.residents {
            assert!(html.contains(&r.name), "{}", r.name);
            if let Some(p) = &r.phone_masked {
                assert!(p.contains("****"), "{p}");
                assert!(html.contains(p.as_str()));
            }
        }
        // No full mobile number or 18-digit ID appears anywhere on the screen.
        let digits: Vec<&str> = html
            .split(|c: char| !c.is_ascii_digit())
            .filter(|s| s.len() >= 11)
            .collect();
        assert!(digits.is_empty(), "unmasked numbers: {digits:?}");
        assert!(
            html.contains("从未") || html.contains("还没有走访记录") || html.contains("走访记录")
        );
    }
}
