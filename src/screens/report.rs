//! Report a problem: category (with icons), what and where, photos, location; or "handled on the
//! spot" with an after-photo. Before saving it looks, offline, for open issues of the same
//! category within 50 m or in the same building and offers to join one instead, so the ledger
//! does not fill with duplicates.

use crate::app::{Route, Services, Ui, device_error};
use crate::i18n::{Labelled, Lang};
use crate::screens::visit::{FixLine, add_photo, picked_bytes};
use crate::widgets::edit;
use crate::widgets::{
    PhotoStrip, StatusChip, TitleBar, category_icon, china_date, metres, thumb_urls,
};
use chrono::Utc;
use dioxus::prelude::*;
use gridmate_device::sync::Trigger;
use gridmate_device::{DeviceError, NearbyIssue, NewIssue, Store};
use gridmate_model::{
    BuildingId, GpsFix, GridId, HouseholdId, IssueAction, IssueCategory, IssueId, IssueSource,
    PhotoRef, Role, Severity,
};

/// How close an open issue of the same kind must be to be offered as the same problem.
pub const SAME_PROBLEM_RADIUS_M: f64 = 50.0;

#[derive(Clone, Debug, PartialEq)]
pub struct ReportForm {
    pub category: Option<IssueCategory>,
    pub severity: Severity,
    pub title: String,
    pub description: String,
    pub photos: Vec<PhotoRef>,
    pub on_spot: bool,
    pub after_photos: Vec<PhotoRef>,
    pub building: Option<BuildingId>,
    pub household: Option<HouseholdId>,
}

impl ReportForm {
    pub fn new(building: Option<BuildingId>, household: Option<HouseholdId>) -> ReportForm {
        ReportForm {
            category: None,
            severity: Severity::Medium,
            title: String::new(),
            description: String::new(),
            photos: Vec::new(),
            on_spot: false,
            after_photos: Vec::new(),
            building,
            household,
        }
    }
}

/// Where the report belongs: the household's or building's grid, else the reporter's first.
/// A building leader's report goes to their building when none was chosen.
pub fn report_place(
    store: &Store,
    building: Option<BuildingId>,
    household: Option<HouseholdId>,
) -> Result<(GridId, Option<BuildingId>), DeviceError> {
    if let Some(h) = household {
        let d = store.household(h)?;
        return Ok((d.household.grid_id, Some(d.household.building_id)));
    }
    let session = store.session()?.ok_or(DeviceError::NoSession)?;
    let building = building.or_else(|| session.assignments.iter().find_map(|a| a.building_id));
    if let Some(b) = building {
        for g in store.grids()? {
            if store
                .buildings(g.grid.id, Utc::now())?
                .iter()
                .any(|row| row.building.id == b)
            {
                return Ok((g.grid.id, Some(b)));
            }
        }
    }
    let grid = session
        .grid_ids()
        .first()
        .copied()
        .or_else(|| store.grids().ok()?.first().map(|g| g.grid.id))
        .ok_or(DeviceError::NoSession)?;
    Ok((grid, building))
}

fn source_for(store: &Store) -> IssueSource {
    let roles = store
        .session()
        .ok()
        .flatten()
        .map(|s| s.user.roles)
        .unwrap_or_default();
    if roles.contains(&Role::GridWorker) || roles.contains(&Role::GridLeader) {
        IssueSource::Patrol
    } else if roles.contains(&Role::BuildingLeader) {
        IssueSource::BuildingLeader
    } else {
        IssueSource::PartyMember
    }
}

impl ReportForm {
    /// Save the report (and, when handled on the spot, its resolution) on the phone.
    pub fn save(&self, store: &mut Store, fix: Option<GpsFix>) -> Result<IssueId, DeviceError> {
        let category = self.category.ok_or(DeviceError::Invalid(
            gridmate_model::ValidationError::Required { field: "类别" },
        ))?;
        let (grid_id, building_id) = report_place(store, self.building, self.household)?;
        let title = if self.title.trim().is_empty() {
            category.label_zh().to_string()
        } else {
            self.title.trim().to_string()
        };
        let source = source_for(store);
        let id = store.report_issue(NewIssue {
            grid_id,
            building_id,
            household_id: self.household,
            category,
            severity: self.severity,
            source,
            title,
            description: self.description.clone(),
            location: fix,
            photos: self.photos.clone(),
        })?;
        if self.on_spot {
            store.act_on_issue(
                id,
                IssueAction::ResolveOnSpot,
                "现场已处置",
                self.after_photos.clone(),
            )?;
        }
        Ok(id)
    }

    /// Add this report to an existing issue instead: a comment with the text and photos.
    pub fn join(&self, store: &mut Store, issue: IssueId) -> Result<(), DeviceError> {
        let note = if self.description.trim().is_empty() {
            "同一问题再次发现".to_string()
        } else {
            self.description.clone()
        };
        store.act_on_issue(issue, IssueAction::Comment, &note, self.photos.clone())?;
        Ok(())
    }
}

#[component]
pub fn CategoryPicker(
    chosen: Option<IssueCategory>,
    lang: Lang,
    on_pick: EventHandler<IssueCategory>,
) -> Element {
    rsx! {
        div { class: "categories",
            for c in IssueCategory::ALL.iter().copied() {
                button { r#type: "button", "data-category": c.code(),
                    class: if chosen == Some(c) { "category on" } else { "category" },
                    onclick: move |_| on_pick.call(c),
                    span { class: "cat-icon cat-{c.code()}", {category_icon(c)} }
                    span { {c.label(lang)} }
                }
            }
        }
    }
}

#[component]
pub fn SameProblemOffer(
    nearby: Vec<NearbyIssue>,
    lang: Lang,
    on_join: EventHandler<IssueId>,
    on_dismiss: EventHandler<()>,
) -> Element {
    rsx! {
        section { class: "card offer", role: "alert",
            h2 { {lang.pick("附近已有同类问题，是否并入？", "Same kind of problem already open nearby. Join it instead?")} }
            ul {
                for n in nearby.iter() {
                    li { class: "row",
                        span { class: "name", "{n.issue.title}" }
                        span { class: "muted small",
                            {china_date(n.issue.reported_at)}
                            if n.same_building { " · " {lang.pick("同一楼栋", "same building")} }
                            if let Some(d) = n.distance_m { " · " {metres(d)} }
                        }
                        StatusChip { status: n.issue.status, lang }
                        button { r#type: "button", class: "secondary", "data-action": "join",
                            onclick: { let id = n.issue.id; move |_| on_join.call(id) },
                            {lang.pick("并入此件", "Join this one")} }
                    }
                }
            }
            button { r#type: "button", class: "link", "data-action": "new-anyway", onclick: move |_| on_dismiss.call(()),
                {lang.pick("不是同一问题，仍然新建", "A different problem: report it")} }
        }
    }
}

#[component]
pub fn ReportFormView(
    form: ReportForm,
    thumbs: Vec<String>,
    after_thumbs: Vec<String>,
    nearby: Vec<NearbyIssue>,
    fix: Option<GpsFix>,
    error: Option<String>,
    lang: Lang,
    on_edit: EventHandler<crate::widgets::Edit<ReportForm>>,
    on_photo: EventHandler<bool>,
    on_pick_photo: EventHandler<FormEvent>,
    on_join: EventHandler<IssueId>,
    on_dismiss: EventHandler<()>,
    on_save: EventHandler<()>,
) -> Element {
    rsx! {
        div { class: "form report-form",
            h2 { {lang.pick("问题类别", "Category")} }
            CategoryPicker { chosen: form.category, lang,
                on_pick: move |c| on_edit.call(edit(move |f: &mut ReportForm| f.category = Some(c))) }
            if !nearby.is_empty() {
                SameProblemOffer { nearby, lang, on_join, on_dismiss }
            }
            fieldset { class: "segmented",
                legend { {lang.pick("紧急程度", "Urgency")} }
                for s in Severity::ALL.iter().copied() {
                    button { r#type: "button", class: if form.severity == s { "seg on" } else { "seg" },
                        onclick: move |_| on_edit.call(edit(move |f: &mut ReportForm| f.severity = s)),
                        {s.label(lang)} }
                }
            }
            label { {lang.pick("标题（可不填）", "Title (optional)")}
                input { name: "title", initial_value: "{form.title}", maxlength: "60",
                    oninput: move |e: FormEvent| { let v = e.value(); on_edit.call(edit(move |f: &mut ReportForm| f.title = v.clone())) } }
            }
            label { {lang.pick("情况描述", "What is wrong")}
                textarea { name: "description", rows: "4", initial_value: "{form.description}",
                    oninput: move |e: FormEvent| { let v = e.value(); on_edit.call(edit(move |f: &mut ReportForm| f.description = v.clone())) } }
            }
            div { class: "photo-row",
                button { r#type: "button", class: "secondary", "data-action": "camera", onclick: move |_| on_photo.call(false),
                    {lang.pick("拍照", "Take photo")} }
                label { class: "file-pick secondary", {lang.pick("从相册选", "From gallery")}
                    input { r#type: "file", accept: "image/*", onchange: move |e| on_pick_photo.call(e) } }
            }
            PhotoStrip { thumbs }
            label { class: "check",
                input { r#type: "checkbox", name: "on_spot", checked: form.on_spot,
                    onchange: move |e: FormEvent| { let v = e.checked(); on_edit.call(edit(move |f: &mut ReportForm| f.on_spot = v)) } }
                {lang.pick("已现场处置", "Handled on the spot")}
            }
            if form.on_spot {
                div { class: "photo-row",
                    button { r#type: "button", class: "secondary", "data-action": "after-photo", onclick: move |_| on_photo.call(true),
                        {lang.pick("拍处置后照片", "Photo after handling")} }
                }
                PhotoStrip { thumbs: after_thumbs }
            }
            FixLine { fix, lang }
            if let Some(e) = error { p { class: "error-card", role: "alert", "{e}" } }
            button { class: "primary", r#type: "button", onclick: move |_| on_save.call(()), "data-action": "save-report", disabled: form.category.is_none(),
                {lang.pick("保存上报", "Save report")} }
        }
    }
}

#[component]
pub fn ReportScreen(building: Option<BuildingId>, household: Option<HouseholdId>) -> Element {
    let ui = use_context::<Ui>();
    let services = use_context::<Services>();
    let lang = (ui.lang)();
    let mut form = use_signal(|| ReportForm::new(building, household));
    let mut thumbs = use_signal(Vec::<String>::new);
    let mut after_thumbs = use_signal(Vec::<String>::new);
    let mut nearby = use_signal(Vec::<NearbyIssue>::new);
    let mut dismissed = use_signal(|| false);
    let mut error = use_signal(|| None::<String>);
    let fix = use_signal(|| services.platform.location());

    let s1 = services.clone();
    let on_edit = move |e: crate::widgets::Edit<ReportForm>| {
        let before = form.peek().category;
        e(&mut form.write());
        let f = form();
        let category_changed = f.category != before;
        if let (true, Some(category)) = (category_changed, f.category) {
            dismissed.set(false);
            let store = s1.store.clone();
            let at = fix().map(|x| (x.lat, x.lon));
            spawn(async move {
                let found = store
                    .run(move |s| {
                        let (grid, building) = report_place(s, f.building, f.household)?;
                        s.nearby_open_issues(grid, category, building, at, SAME_PROBLEM_RADIUS_M)
                    })
                    .await;
                nearby.set(found.ok().and_then(Result::ok).unwrap_or_default());
            });
        }
    };
    let s2 = services.clone();
    let photo = move |after: bool, bytes: Option<Vec<u8>>| {
        let services = s2.clone();
        spawn(async move {
            match add_photo(&services, bytes, lang).await {
                Some(Ok(sha)) => {
                    let mut f = form();
                    let list = if after {
                        &mut f.after_photos
                    } else {
                        &mut f.photos
                    };
                    if !list.contains(&sha) {
                        list.push(sha);
                    }
                    let refs = list.clone();
                    form.set(f);
                    if let Ok(t) = services.store.run(move |s| thumb_urls(s, &refs)).await {
                        if after {
                            after_thumbs.set(t)
                        } else {
                            thumbs.set(t)
                        }
                    }
                    error.set(None);
                }
                Some(Err(e)) => error.set(Some(e)),
                None => error.set(Some(lang.pick("没有拍到照片", "No photo taken").into())),
            }
        });
    };
    let photo2 = photo.clone();
    let s3 = services.clone();
    let mut finish = move |r: Result<Result<IssueId, DeviceError>, gridmate_device::StoreGone>,
                           services: Services| match r {
        Ok(Ok(id)) => {
            services.trigger(Trigger::LocalWrite);
            ui.changed();
            ui.say(lang.pick("已保存，联网后自动上传", "Saved; it uploads when online"));
            ui.replace(Route::Issue(id));
        }
        Ok(Err(e)) => error.set(Some(device_error(lang, &e))),
        Err(gone) => error.set(Some(gone.to_string())),
    };
    let s4 = services.clone();
    let on_join = move |issue: IssueId| {
        let f = form();
        let services = s4.clone();
        spawn(async move {
            let r = services
                .store
                .run(move |s| f.join(s, issue).map(|_| issue))
                .await;
            finish(r, services);
        });
    };
    let on_save = move |_| {
        let f = form();
        let fix = fix();
        let services = s3.clone();
        spawn(async move {
            let r = services.store.run(move |s| f.save(s, fix)).await;
            finish(r, services);
        });
    };
    let photo_a = photo.clone();
    rsx! {
        TitleBar { title: lang.pick("上报问题", "Report a problem").to_string(), lang, on_back: move |_| ui.back() }
        ReportFormView {
            form: form(), thumbs: thumbs(), after_thumbs: after_thumbs(),
            nearby: if dismissed() { vec![] } else { nearby() },
            fix: fix(), error: error(), lang,
            on_edit,
            on_photo: move |after| photo_a(after, None),
            on_pick_photo: move |e: FormEvent| {
                let photo = photo2.clone();
                spawn(async move {
                    if let Some(bytes) = picked_bytes(&e).await {
                        photo(false, Some(bytes));
                    }
                });
            },
            on_join,
            on_dismiss: move |_| dismissed.set(true),
            on_save,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::screens::fixtures::{demo, demo_store, render};

    #[test]
    fn every_category_has_an_icon_and_a_name_in_both_languages() {
        for lang in [Lang::Zh, Lang::En] {
            let html = render(
                move || rsx! { CategoryPicker { chosen: Some(IssueCategory::Noise), lang, on_pick: |_| {} } },
            );
            for c in IssueCategory::ALL {
                assert!(html.contains(category_icon(*c)));
                assert!(html.contains(c.label(lang)), "{c:?}");
            }
            assert_eq!(html.matches("category on").count(), 1);
        }
    }

    #[test]
    fn a_duplicate_nearby_is_offered_and_joining_adds_a_comment_not_an_issue() {
        let (_dir, mut store) = demo_store(Role::GridWorker);
        let d = demo();
        let b = d
            .buildings
            .iter()
            .find(|b| b.grid_id == d.grids[0].id)
            .unwrap()
            .id;
        let mut first = ReportForm::new(Some(b), None);
        first.category = Some(IssueCategory::FireSafety);
        first.description = "楼道电动车充电".into();
        let existing = first.save(&mut store, None).unwrap();

        let (grid, building) = report_place(&store, Some(b), None).unwrap();
        let nearby = store
            .nearby_open_issues(
                grid,
                IssueCategory::FireSafety,
                building,
                None,
                SAME_PROBLEM_RADIUS_M,
            )
            .unwrap();
        assert!(
            nearby
                .iter()
                .any(|n| n.issue.id == existing && n.same_building)
        );
        let shown = nearby.clone();
        let html = render(move || {
            rsx! {
                SameProblemOffer { nearby: shown.clone(), lang: Lang::Zh, on_join: |_| {}, on_dismiss: |_| {} }
            }
        });
        assert!(
            html.contains("附近已有同类问题")
                && html.contains("并入此件")
                && html.contains("同一楼栋")
        );

        let issues_before = store.issues(&Default::default()).unwrap().len();
        let mut second = ReportForm::new(Some(b), None);
        second.category = Some(IssueCategory::FireSafety);
        second.description = "又看到有人充电".into();
        second.join(&mut store, existing).unwrap();
        assert_eq!(
            store.issues(&Default::default()).unwrap().len(),
            issues_before
        );
        let detail = store.issue(existing).unwrap();
        assert_eq!(detail.events.last().unwrap().event.note, "又看到有人充电");
    }

    #[test]
    fn handled_on_the_spot_is_reported_and_resolved_together() {
        let (_dir, mut store) = demo_store(Role::BuildingLeader);
        let mut f = ReportForm::new(None, None);
        f.category = Some(IssueCategory::Sanitation);
        f.on_spot = true;
        let id = f.save(&mut store, None).unwrap();
        let detail = store.issue(id).unwrap();
        assert_eq!(
            detail.issue.status,
            gridmate_model::IssueStatus::ResolvedOnSpot
        );
        assert_eq!(detail.source, IssueSource::BuildingLeader);
        assert!(
            detail.building_number.is_some(),
            "a building leader's report lands in their building"
        );
        assert_eq!(detail.issue.title, "环境卫生");
    }

    #[test]
    fn no_category_no_report() {
        let (_dir, mut store) = demo_store(Role::GridWorker);
        let before = store.sync_status().unwrap().pending;
        assert!(ReportForm::new(None, None).save(&mut store, None).is_err());
        assert_eq!(store.sync_status().unwrap().pending, before);
        let html = render(|| {
            rsx! {
                ReportFormView {
                    form: ReportForm::new(None, None), thumbs: vec![], after_thumbs: vec![], nearby: vec![],
                    fix: None, error: None, lang: Lang::Zh,
                    on_edit: |_| {}, on_photo: |_| {}, on_pick_photo: |_| {}, on_join: |_| {}, on_dismiss: |_| {}, on_save: |_| {},
                }
            }
        });
        assert!(
            html.contains("disabled"),
            "save is disabled until a category is chosen"
        );
        assert!(!html.contains("拍处置后照片"));
    }
}
