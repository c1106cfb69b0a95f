//! Report a problem: category (with icons), what and where, photos, location; or "handled on the
//! spot" with an after-photo. Before saving it looks, offline, for open issues of the same
//! category within 50 m or in the same building and offers to join one instead, so the ledger
//! does not fill with duplicates. Every edit is a draft.

use crate::draft::use_draft;
use crate::i18n::{Labelled, Lang, Msg};
use crate::state::{Destination, Services, Ui, run_store, use_nav};
use crate::widgets::{
    Edit, FixLine, PhotoButtons, PhotoStrip, StatusChip, TitleBar, category_icon, china_date, edit,
    metres, use_fix, use_thumbs,
};
use dioxus::prelude::*;
use gridmate_device::{DeviceError, NearbyIssue, NewReport};
use gridmate_model::{BuildingId, GpsFix, HouseholdId, IssueCategory, IssueId, PhotoRef, Severity};
use serde::{Deserialize, Serialize};

/// The form as typed so far; also the draft's JSON (codes, not enums: the model has no serde).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReportForm {
    /// Empty until a category is chosen.
    pub category: String,
    pub severity: String,
    pub title: String,
    pub description: String,
    pub photos: Vec<String>,
    pub on_spot: bool,
    pub after_photos: Vec<String>,
}

impl Default for ReportForm {
    fn default() -> Self {
        ReportForm {
            category: String::new(),
            severity: Severity::Medium.code().into(),
            title: String::new(),
            description: String::new(),
            photos: Vec::new(),
            on_spot: false,
            after_photos: Vec::new(),
        }
    }
}

fn refs(photos: &[String]) -> Vec<PhotoRef> {
    photos.iter().filter_map(|p| PhotoRef::parse(p)).collect()
}

impl ReportForm {
    pub fn category(&self) -> Option<IssueCategory> {
        IssueCategory::from_code(&self.category)
    }

    /// One draft per place a report can start from.
    pub fn draft_key(building: Option<BuildingId>, household: Option<HouseholdId>) -> String {
        match (household, building) {
            (Some(h), _) => format!("report:household:{h}"),
            (None, Some(b)) => format!("report:building:{b}"),
            (None, None) => "report".into(),
        }
    }

    /// The report to save; the default title and on-the-spot note in the user's language.
    pub fn to_report(
        &self,
        building: Option<BuildingId>,
        household: Option<HouseholdId>,
        fix: Option<GpsFix>,
        lang: Lang,
    ) -> Result<NewReport, DeviceError> {
        let category = self.category().ok_or(DeviceError::Invalid(
            gridmate_model::ValidationError::Required { field: "category" },
        ))?;
        let title = match self.title.trim() {
            "" => category.label(lang).to_string(),
            t => t.to_string(),
        };
        Ok(NewReport {
            building,
            household,
            category,
            severity: Severity::from_code(&self.severity).unwrap_or(Severity::Medium),
            title,
            description: self.description.clone(),
            photos: refs(&self.photos),
            fix,
            on_spot: self.on_spot.then(|| {
                (
                    lang.t(Msg::OnSpotNote).to_string(),
                    refs(&self.after_photos),
                )
            }),
        })
    }

    /// The comment that adds this report to an issue already open.
    pub fn join_note(&self, lang: Lang) -> String {
        match self.description.trim() {
            "" => lang.t(Msg::TheSameProblemSeenAgain).to_string(),
            d => d.to_string(),
        }
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
            h2 { {lang.t(Msg::SameKindOfProblemAlreadyOpen)} }
            ul {
                for n in nearby.iter() {
                    li { class: "row",
                        span { class: "name", "{n.issue.title}" }
                        span { class: "muted small",
                            {china_date(n.issue.reported_at)}
                            if n.same_building { " · " {lang.t(Msg::SameBuilding)} }
                            if let Some(d) = n.distance_m { " · " {metres(d)} }
                        }
                        StatusChip { status: n.issue.status, lang }
                        button { r#type: "button", class: "secondary", "data-action": "join",
                            onclick: { let id = n.issue.id; move |_| on_join.call(id) },
                            {lang.t(Msg::JoinThisOne)} }
                    }
                }
            }
            button { r#type: "button", class: "link", "data-action": "new-anyway", onclick: move |_| on_dismiss.call(()),
                {lang.t(Msg::ADifferentProblemReportIt)} }
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
    #[props(default)] problem: Option<crate::platform::LocationProblem>,
    error: Option<String>,
    lang: Lang,
    on_edit: EventHandler<crate::widgets::Edit<ReportForm>>,
    /// (after handling?, picked bytes or `None` for the camera)
    on_photo: EventHandler<(bool, Option<Vec<u8>>)>,
    on_join: EventHandler<IssueId>,
    on_dismiss: EventHandler<()>,
    on_save: EventHandler<()>,
) -> Element {
    rsx! {
        div { class: "form report-form",
            h2 { {lang.t(Msg::Category)} }
            CategoryPicker { chosen: form.category(), lang,
                on_pick: move |c: IssueCategory| on_edit.call(edit(move |f: &mut ReportForm| f.category = c.code().into())) }
            if !nearby.is_empty() {
                SameProblemOffer { nearby, lang, on_join, on_dismiss }
            }
            fieldset { class: "segmented",
                legend { {lang.t(Msg::Urgency)} }
                for s in Severity::ALL.iter().copied() {
                    button { r#type: "button", class: if form.severity == s.code() { "seg on" } else { "seg" },
                        onclick: move |_| on_edit.call(edit(move |f: &mut ReportForm| f.severity = s.code().into())),
                        {s.label(lang)} }
                }
            }
            label { {lang.t(Msg::TitleOptional)}
                input { name: "title", initial_value: "{form.title}", maxlength: "60",
                    oninput: move |e: FormEvent| { let v = e.value(); on_edit.call(edit(move |f: &mut ReportForm| f.title = v.clone())) } }
            }
            label { {lang.t(Msg::WhatIsWrong)}
                textarea { name: "description", rows: "4", initial_value: "{form.description}",
                    oninput: move |e: FormEvent| { let v = e.value(); on_edit.call(edit(move |f: &mut ReportForm| f.description = v.clone())) } }
            }
            PhotoButtons { count: form.photos.len(), lang, on_photo: move |b| on_photo.call((false, b)) }
            PhotoStrip { thumbs }
            label { class: "check",
                input { r#type: "checkbox", name: "on_spot", checked: form.on_spot,
                    onchange: move |e: FormEvent| { let v = e.checked(); on_edit.call(edit(move |f: &mut ReportForm| f.on_spot = v)) } }
                {lang.t(Msg::HandledOnTheSpot)}
            }
            if form.on_spot {
                PhotoButtons { count: form.after_photos.len(), lang, action: "after-photo", after: true, on_photo: move |b| on_photo.call((true, b)) }
                PhotoStrip { thumbs: after_thumbs }
            }
            FixLine { fix, problem, lang }
            if let Some(e) = error { p { class: "error-card", role: "alert", "{e}" } }
            button { class: "primary", r#type: "button", onclick: move |_| on_save.call(()), "data-action": "save-report", disabled: form.category().is_none(),
                {lang.t(Msg::SaveReport)} }
        }
    }
}

#[component]
pub fn ReportScreen(building: Option<BuildingId>, household: Option<HouseholdId>) -> Element {
    let ui = use_context::<Ui>();
    let nav = use_nav();
    let services = use_context::<Services>();
    let lang = (ui.lang)();
    let draft = use_draft(
        ReportForm::draft_key(building, household),
        ReportForm::default,
    );
    let thumbs = use_thumbs(move || draft.form.read().photos.clone());
    let after_thumbs = use_thumbs(move || draft.form.read().after_photos.clone());
    let mut dismissed = use_signal(|| false);
    let mut error = use_signal(|| None::<String>);
    let (fix, problem) = use_fix();
    // The "same problem?" offer follows the chosen category (also a restored draft's).
    let category = use_memo(move || draft.form.read().category());
    let store = services.store.clone();
    let nearby = use_resource(move || {
        let store = store.clone();
        let at = fix().map(|x| (x.lat, x.lon));
        let chosen = category();
        async move {
            let Some(c) = chosen else { return Vec::new() };
            store
                .run(move |s| s.same_problem_nearby(building, household, c, at))
                .await
                .ok()
                .and_then(Result::ok)
                .unwrap_or_default()
        }
    });
    let on_edit = move |e: Edit<ReportForm>| {
        let before = draft.form.peek().category.clone();
        draft.edit(e);
        if draft.form.peek().category != before {
            dismissed.set(false);
        }
    };
    let on_photo = move |(after, bytes): (bool, Option<Vec<u8>>)| {
        if after {
            draft.add_photo(bytes, error, |f: &mut ReportForm| &mut f.after_photos)
        } else {
            draft.add_photo(bytes, error, |f: &mut ReportForm| &mut f.photos)
        }
    };
    let save = move |join: Option<IssueId>| {
        let f = draft.finish();
        let key = draft.key();
        let fix = fix();
        let services = services.clone();
        spawn(async move {
            let r = run_store(&services.store, lang, move |s| {
                let id = match join {
                    Some(issue) => {
                        s.join_issue(issue, &f.join_note(lang), refs(&f.photos))?;
                        issue
                    }
                    None => s.report_problem(f.to_report(building, household, fix, lang)?)?,
                };
                s.discard_draft(&key)?;
                Ok(id)
            })
            .await;
            match r {
                Ok(id) => {
                    ui.saved(&services, Msg::SavedItUploadsWhenOnline, None);
                    nav.replace(Destination::Issue(id));
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let join = save.clone();
    rsx! {
        TitleBar { title: lang.t(Msg::ReportAProblem).to_string(), lang, on_back: move |_| nav.back() }
        if (draft.ready)() {
            ReportFormView {
                form: draft.form.cloned(), thumbs: thumbs(), after_thumbs: after_thumbs(),
                nearby: if dismissed() { vec![] } else { nearby.read().clone().unwrap_or_default() },
                fix: fix(), problem: problem(), error: error(), lang,
                on_edit,
                on_photo,
                on_join: move |id| join(Some(id)),
                on_dismiss: move |_| dismissed.set(true),
                on_save: move |_| save(None),
            }
        }
    }
}

#[cfg(test)]
mod tests;
