//! Record a visit: outcome (met / nobody home / refused), kind, notes, people served, needs found
//! (each becomes an issue), photos, and the GPS fix with its accuracy. Saved on the phone at
//! once, with or without signal; every keystroke goes to a draft, so a killed app loses nothing.

use crate::draft::use_draft;
use crate::i18n::{Labelled, Lang, Msg};
use crate::state::{Destination, Services, Ui, run_store, use_load, use_nav};
use crate::widgets::{FixLine, PhotoButtons, PhotoStrip, TitleBar, edit, use_fix, use_thumbs};
use chrono::{TimeZone, Utc};
use dioxus::prelude::*;
use gridmate_device::{NewIssue, NewVisit, Store};
use gridmate_model::{
    GpsFix, HouseholdId, IssueCategory, IssueSource, PhotoRef, Severity, VisitKind, VisitOutcome,
};
use serde::{Deserialize, Serialize};

/// The form as typed so far; also the draft's JSON.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VisitForm {
    pub outcome: String,
    pub kind: String,
    pub notes: String,
    pub people_served: u16,
    pub needs: Vec<String>,
    pub photos: Vec<String>,
    pub started_at_ms: i64,
}

impl VisitForm {
    pub fn new() -> VisitForm {
        VisitForm {
            outcome: VisitOutcome::Met.code().into(),
            kind: VisitKind::Routine.code().into(),
            notes: String::new(),
            people_served: 1,
            needs: Vec::new(),
            photos: Vec::new(),
            started_at_ms: Utc::now().timestamp_millis(),
        }
    }

    pub fn draft_key(household: HouseholdId) -> String {
        format!("visit:{household}")
    }

    /// Save the visit and an issue for each need found (one transaction), then drop the draft.
    pub fn save(
        &self,
        store: &mut Store,
        household: HouseholdId,
        fix: Option<GpsFix>,
        lang: Lang,
    ) -> Result<gridmate_model::VisitId, gridmate_device::DeviceError> {
        let detail = store.household(household)?;
        let h = &detail.household;
        let address = format!("{}-{}-{}", detail.building_number, h.unit, h.room);
        let needs = self
            .needs
            .iter()
            .filter_map(|code| IssueCategory::from_code(code))
            .map(|category| NewIssue {
                grid_id: h.grid_id,
                building_id: Some(h.building_id),
                household_id: Some(household),
                category,
                severity: Severity::Low,
                source: IssueSource::Visit,
                title: format!("{} {address}", category.label(lang)),
                description: if self.notes.trim().is_empty() {
                    lang.t1(Msg::NeedFoundOnVisit, category.label(lang))
                } else {
                    self.notes.clone()
                },
                location: fix,
                photos: Vec::new(),
            })
            .collect();
        let visit = NewVisit {
            household_id: household,
            started_at: Utc
                .timestamp_millis_opt(self.started_at_ms)
                .single()
                .unwrap_or_else(Utc::now),
            ended_at: Utc::now(),
            kind: VisitKind::from_code(&self.kind).unwrap_or(VisitKind::Routine),
            outcome: VisitOutcome::from_code(&self.outcome).unwrap_or(VisitOutcome::Met),
            notes: self.notes.clone(),
            people_served: self.people_served,
            location: fix,
            photos: self
                .photos
                .iter()
                .filter_map(|p| PhotoRef::parse(p))
                .collect(),
            raised_issues: Vec::new(),
        };
        let (id, _) = store.record_visit_with_needs(visit, needs)?;
        store.discard_draft(&Self::draft_key(household))?;
        Ok(id)
    }
}

impl Default for VisitForm {
    fn default() -> Self {
        Self::new()
    }
}

/// Needs a visit commonly finds, offered as one-tap toggles.
const NEEDS: [IssueCategory; 5] = [
    IssueCategory::ResidentNeed,
    IssueCategory::FireSafety,
    IssueCategory::BrokenFacility,
    IssueCategory::Dispute,
    IssueCategory::Sanitation,
];

#[component]
pub fn VisitFormView(
    form: VisitForm,
    thumbs: Vec<String>,
    fix: Option<GpsFix>,
    #[props(default)] problem: Option<crate::platform::LocationProblem>,
    error: Option<String>,
    saving: bool,
    lang: Lang,
    on_edit: EventHandler<crate::widgets::Edit<VisitForm>>,
    on_photo: EventHandler<Option<Vec<u8>>>,
    on_save: EventHandler<()>,
) -> Element {
    rsx! {
        div { class: "form visit-form",
            fieldset { class: "segmented",
                legend { {lang.t(Msg::Outcome)} }
                for o in VisitOutcome::ALL.iter().copied() {
                    button { r#type: "button", "data-outcome": o.code(),
                        class: if form.outcome == o.code() { "seg on" } else { "seg" },
                        onclick: move |_| { on_edit.call(edit(move |f: &mut VisitForm| f.outcome = o.code().into())) },
                        {o.label(lang)}
                    }
                }
            }
            label { {lang.t(Msg::Kind)}
                select { name: "kind",
                    onchange: move |e: FormEvent| { let v = e.value(); on_edit.call(edit(move |f: &mut VisitForm| f.kind = v.clone())) },
                    for k in VisitKind::ALL.iter().copied() {
                        option { value: k.code(), selected: form.kind == k.code(), {k.label(lang)} }
                    }
                }
            }
            label { {lang.t(Msg::Notes)}
                textarea { name: "notes", rows: "4", initial_value: "{form.notes}",
                    placeholder: lang.t(Msg::HealthFamilyRequests),
                    oninput: move |e: FormEvent| { let v = e.value(); on_edit.call(edit(move |f: &mut VisitForm| f.notes = v.clone())) } }
            }
            label { {lang.t(Msg::PeopleServedField)}
                input { name: "people", r#type: "number", inputmode: "numeric", min: "0", max: "99",
                    value: "{form.people_served}",
                    oninput: move |e: FormEvent| { let v = e.value().parse().unwrap_or(0).min(99); on_edit.call(edit(move |f: &mut VisitForm| f.people_served = v)) } }
            }
            fieldset { class: "toggles",
                legend { {lang.t(Msg::NeedsFoundEachBecomesAnIssue)} }
                for c in NEEDS {
                    button { r#type: "button", "data-need": c.code(),
                        class: if form.needs.iter().any(|n| n == c.code()) { "toggle on" } else { "toggle" },
                        onclick: move |_| on_edit.call(edit(move |f: &mut VisitForm| {
                            if let Some(i) = f.needs.iter().position(|n| n == c.code()) {
                                f.needs.remove(i);
                            } else {
                                f.needs.push(c.code().into());
                            }
                        })),
                        {c.label(lang)}
                    }
                }
            }
            PhotoButtons { count: form.photos.len(), lang, on_photo }
            PhotoStrip { thumbs }
            FixLine { fix, problem, lang }
            if let Some(e) = error { p { class: "error-card", role: "alert", "{e}" } }
            button { class: "primary", r#type: "button", onclick: move |_| on_save.call(()), "data-action": "save-visit", disabled: saving,
                {lang.t(Msg::SaveVisit)} }
            p { class: "hint", {lang.t(Msg::SavedOnThePhoneUploadsWhen)} }
        }
    }
}

#[component]
pub fn VisitScreen(household: HouseholdId) -> Element {
    let ui = use_context::<Ui>();
    let nav = use_nav();
    let services = use_context::<Services>();
    let lang = (ui.lang)();
    let draft = use_draft(VisitForm::draft_key(household), VisitForm::new);
    let thumbs = use_thumbs(move || draft.form.read().photos.clone());
    let mut error = use_signal(|| None::<String>);
    let mut saving = use_signal(|| false);
    let (fix, problem) = use_fix();
    let title = use_load(move |s| {
        let d = s.household(household)?;
        Ok(format!(
            "{}-{}-{} {}",
            d.building_number, d.household.unit, d.household.room, d.household.head_name
        ))
    });
    let on_photo = move |bytes| draft.add_photo(bytes, error, |f: &mut VisitForm| &mut f.photos);
    let on_save = move |_| {
        if saving() {
            return;
        }
        saving.set(true);
        let f = draft.finish();
        let fix = fix();
        let services = services.clone();
        spawn(async move {
            let r = run_store(&services.store, lang, move |s| {
                f.save(s, household, fix, lang)
            })
            .await;
            saving.set(false);
            match r {
                Ok(_) => {
                    ui.saved(&services, Msg::VisitSavedItUploadsWhenOnline, None);
                    nav.replace(Destination::Household(household));
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let name = title
        .read()
        .as_ref()
        .and_then(|r| r.as_ref().ok().cloned())
        .unwrap_or_default();
    rsx! {
        TitleBar { title: format!("{} {}", lang.t(Msg::Visit), name), lang, on_back: move |_| nav.back() }
        // The fields are uncontrolled (a re-render never overwrites a keystroke), so the form
        // is drawn once its draft, if any, is loaded.
        if (draft.ready)() {
            VisitFormView {
                form: draft.form.cloned(), thumbs: thumbs(), fix: fix(), problem: problem(), error: error(), saving: saving(), lang,
                on_edit: move |e| draft.edit(e),
                on_photo,
                on_save,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::screens::fixtures::{as_of, demo_store, render};
    use gridmate_model::Role;

    #[test]
    fn the_form_offers_outcomes_kinds_needs_photos_and_the_fix() {
        let fix = GpsFix {
            lat: 22.58,
            lon: 113.08,
            accuracy_m: 12.0,
            mock_location: false,
        };
        let mut form = VisitForm::new();
        form.needs.push("fire_safety".into());
        let html = render(move || {
            rsx! {
                VisitFormView {
                    form: form.clone(), thumbs: vec![], fix: Some(fix), error: None, saving: false, lang: Lang::Zh,
                    on_edit: |_| {}, on_photo: |_| {}, on_save: |_| {},
                }
            }
        });
        for text in [
            "见面",
            "无人在家",
            "拒绝",
            "例行走访",
            "上门代办",
            "拍照",
            "保存走访",
            "±12 m",
        ] {
            assert!(html.contains(text), "{text}");
        }
        assert!(
            html.contains(r#"class="seg on" data-outcome="met""#)
                || html.contains(r#"data-outcome="met" class="seg on""#)
        );
        assert_eq!(html.matches("toggle on").count(), 1, "one need chosen");
    }

    #[test]
    fn saving_writes_the_visit_its_needs_as_issues_and_drops_the_draft() {
        let (_dir, mut store) = demo_store(Role::GridWorker);
        let h = store.due_visits(None, as_of(), 1).unwrap()[0].household.id;
        let mut form = VisitForm::new();
        form.notes = "独居老人，需要代买药".into();
        form.needs = vec!["resident_need".into(), "fire_safety".into()];
        store
            .save_draft(
                &VisitForm::draft_key(h),
                &serde_json::to_string(&form).unwrap(),
            )
            .unwrap();
        let before = store.household(h).unwrap();
        form.save(&mut store, h, None, Lang::Zh).unwrap();
        let after = store.household(h).unwrap();
        assert_eq!(after.visits.len(), before.visits.len() + 1);
        assert!(
            after
                .visits
                .iter()
                .any(|v| v.notes == "独居老人，需要代买药" && v.pending)
        );
        assert_eq!(after.issues.len(), before.issues.len() + 2);
        assert_eq!(store.draft(&VisitForm::draft_key(h)).unwrap(), None);
        assert_eq!(store.sync_status().unwrap().pending, 3);
    }

    #[test]
    fn a_refused_visit_keeps_the_draft() {
        let (_dir, mut store) = demo_store(Role::GridWorker);
        let h = store.due_visits(None, as_of(), 1).unwrap()[0].household.id;
        let mut form = VisitForm::new();
        form.notes = "x".repeat(100_000);
        store
            .save_draft(
                &VisitForm::draft_key(h),
                &serde_json::to_string(&form).unwrap(),
            )
            .unwrap();
        assert!(
            form.save(&mut store, h, None, Lang::Zh).is_err(),
            "notes over the limit"
        );
        assert!(store.draft(&VisitForm::draft_key(h)).unwrap().is_some());
        assert_eq!(store.sync_status().unwrap().pending, 0);
    }
}
