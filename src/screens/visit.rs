//! Record a visit: outcome (met / nobody home / refused), kind, notes, people served, needs found
//! (each becomes an issue), photos, and the GPS fix with its accuracy. Saved on the phone at
//! once, with or without signal; every keystroke goes to a draft, so a killed app loses nothing.

use crate::app::{Route, Services, Ui, device_error};
use crate::i18n::{Labelled, Lang};
use crate::widgets::edit;
use crate::widgets::{PhotoStrip, TitleBar, metres, thumb_urls};
use chrono::{TimeZone, Utc};
use dioxus::prelude::*;
use gridmate_device::sync::Trigger;
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

    /// Save the visit and an issue for each need found, then drop the draft.
    pub fn save(
        &self,
        store: &mut Store,
        household: HouseholdId,
        fix: Option<GpsFix>,
    ) -> Result<gridmate_model::VisitId, gridmate_device::DeviceError> {
        let detail = store.household(household)?;
        let h = &detail.household;
        let address = format!("{}-{}-{}", detail.building_number, h.unit, h.room);
        let mut raised = Vec::new();
        for code in &self.needs {
            let Some(category) = IssueCategory::from_code(code) else {
                continue;
            };
            raised.push(store.report_issue(NewIssue {
                grid_id: h.grid_id,
                building_id: Some(h.building_id),
                household_id: Some(household),
                category,
                severity: Severity::Low,
                source: IssueSource::Visit,
                title: format!("{}：{address}", category.label_zh()),
                description: if self.notes.trim().is_empty() {
                    format!("入户走访发现：{}", category.label_zh())
                } else {
                    self.notes.clone()
                },
                location: fix,
                photos: Vec::new(),
            })?);
        }
        let id = store.record_visit(NewVisit {
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
            raised_issues: raised,
        })?;
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
pub fn FixLine(fix: Option<GpsFix>, lang: Lang) -> Element {
    rsx! {
        p { class: "fix",
            match fix {
                Some(f) => rsx! {
                    span { {lang.pick("位置 ", "Location ")} "{f.lat:.5}, {f.lon:.5} · " {lang.pick("精度", "accuracy")} " ±{metres(f.accuracy_m)}" }
                    if f.mock_location { span { class: "tag", {lang.pick("模拟定位", "mock location")} } }
                },
                None => rsx! { span { class: "muted", {lang.pick("暂无定位，可不带位置保存", "No location fix: saving without one")} } },
            }
        }
    }
}

#[component]
pub fn VisitFormView(
    form: VisitForm,
    thumbs: Vec<String>,
    fix: Option<GpsFix>,
    error: Option<String>,
    saving: bool,
    lang: Lang,
    on_edit: EventHandler<crate::widgets::Edit<VisitForm>>,
    on_take_photo: EventHandler<()>,
    on_pick_photo: EventHandler<FormEvent>,
    on_save: EventHandler<()>,
) -> Element {
    rsx! {
        div { class: "form visit-form",
            fieldset { class: "segmented",
                legend { {lang.pick("走访结果", "Outcome")} }
                for o in VisitOutcome::ALL.iter().copied() {
                    button { r#type: "button", "data-outcome": o.code(),
                        class: if form.outcome == o.code() { "seg on" } else { "seg" },
                        onclick: move |_| { on_edit.call(edit(move |f: &mut VisitForm| f.outcome = o.code().into())) },
                        {o.label(lang)}
                    }
                }
            }
            label { {lang.pick("走访类型", "Kind")}
                select { name: "kind",
                    onchange: move |e: FormEvent| { let v = e.value(); on_edit.call(edit(move |f: &mut VisitForm| f.kind = v.clone())) },
                    for k in VisitKind::ALL.iter().copied() {
                        option { value: k.code(), selected: form.kind == k.code(), {k.label(lang)} }
                    }
                }
            }
            label { {lang.pick("情况记录", "Notes")}
                textarea { name: "notes", rows: "4", initial_value: "{form.notes}",
                    placeholder: lang.pick("身体状况、家庭情况、诉求…", "Health, family, requests…"),
                    oninput: move |e: FormEvent| { let v = e.value(); on_edit.call(edit(move |f: &mut VisitForm| f.notes = v.clone())) } }
            }
            label { {lang.pick("服务人数", "People served")}
                input { name: "people", r#type: "number", inputmode: "numeric", min: "0", max: "99",
                    value: "{form.people_served}",
                    oninput: move |e: FormEvent| { let v = e.value().parse().unwrap_or(0).min(99); on_edit.call(edit(move |f: &mut VisitForm| f.people_served = v)) } }
            }
            fieldset { class: "toggles",
                legend { {lang.pick("发现的需求（保存时各自生成问题）", "Needs found (each becomes an issue)")} }
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
            div { class: "photo-row",
                button { r#type: "button", class: "secondary", "data-action": "camera", onclick: move |_| on_take_photo.call(()),
                    {lang.pick("拍照", "Take photo")} }
                label { class: "file-pick secondary",
                    {lang.pick("从相册选", "From gallery")}
                    input { r#type: "file", accept: "image/*", onchange: move |e| on_pick_photo.call(e) }
                }
                span { class: "muted", " {form.photos.len()} " {lang.pick("张", "photos")} }
            }
            PhotoStrip { thumbs }
            FixLine { fix, lang }
            if let Some(e) = error { p { class: "error-card", role: "alert", "{e}" } }
            button { class: "primary", r#type: "button", onclick: move |_| on_save.call(()), "data-action": "save-visit", disabled: saving,
                {lang.pick("保存走访", "Save visit")} }
            p { class: "hint", {lang.pick("保存在手机上，联网后自动上传。", "Saved on the phone; uploads when online.")} }
        }
    }
}

/// Take a photo through the platform, or ingest picked bytes; both on the store thread.
pub async fn add_photo(
    services: &Services,
    bytes: Option<Vec<u8>>,
    lang: Lang,
) -> Option<Result<PhotoRef, String>> {
    let platform = services.platform.clone();
    services
        .store
        .run(move |s| {
            let bytes = bytes.or_else(|| platform.take_photo())?;
            Some(
                s.ingest_photo(&bytes)
                    .map(|p| p.sha256)
                    .map_err(|e| device_error(lang, &e)),
            )
        })
        .await
        .ok()
        .flatten()
}

/// The bytes of the first file an `<input type=file>` gave.
pub async fn picked_bytes(e: &FormEvent) -> Option<Vec<u8>> {
    let file = e.files().into_iter().next()?;
    file.read_bytes().await.ok().map(|b| b.to_vec())
}

#[component]
pub fn VisitScreen(household: HouseholdId) -> Element {
    let ui = use_context::<Ui>();
    let services = use_context::<Services>();
    let lang = (ui.lang)();
    let mut form = use_signal(VisitForm::new);
    let mut thumbs = use_signal(Vec::<String>::new);
    let mut error = use_signal(|| None::<String>);
    let mut saving = use_signal(|| false);
    let mut title = use_signal(String::new);
    // The form's fields are uncontrolled (a re-render never overwrites a keystroke), so it is
    // drawn once the draft, if any, is loaded.
    let mut ready = use_signal(|| false);
    let fix = use_signal(|| services.platform.location());
    let key = VisitForm::draft_key(household);

    // Resume a draft left by a killed app.
    let s0 = services.clone();
    let k0 = key.clone();
    use_hook(move || {
        spawn(async move {
            let loaded = s0
                .store
                .run(move |s| {
                    let draft = s
                        .draft(&k0)
                        .ok()
                        .flatten()
                        .and_then(|d| serde_json::from_str::<VisitForm>(&d).ok());
                    let thumbs = draft
                        .as_ref()
                        .map(|d| {
                            let refs: Vec<PhotoRef> =
                                d.photos.iter().filter_map(|p| PhotoRef::parse(p)).collect();
                            thumb_urls(s, &refs)
                        })
                        .unwrap_or_default();
                    let title = s.household(household).ok().map(|d| {
                        format!(
                            "{}-{}-{} {}",
                            d.building_number,
                            d.household.unit,
                            d.household.room,
                            d.household.head_name
                        )
                    });
                    (draft, thumbs, title)
                })
                .await;
            if let Ok((draft, t, name)) = loaded {
                if let Some(d) = draft {
                    form.set(d);
                    thumbs.set(t);
                }
                title.set(name.unwrap_or_default());
            }
            ready.set(true);
        });
    });

    let s1 = services.clone();
    let k1 = key.clone();
    let on_edit = move |e: crate::widgets::Edit<VisitForm>| {
        e(&mut form.write());
        let f = form();
        let key = k1.clone();
        let store = s1.store.clone();
        spawn(async move {
            if let Ok(body) = serde_json::to_string(&f) {
                let _ = store.run(move |s| s.save_draft(&key, &body)).await;
            }
        });
    };
    let s2 = services.clone();
    let on_edit_photo = on_edit.clone();
    let add = move |bytes: Option<Vec<u8>>| {
        let services = s2.clone();
        let mut on_edit = on_edit_photo.clone();
        spawn(async move {
            match add_photo(&services, bytes, lang).await {
                Some(Ok(sha)) => {
                    let sha = sha.to_string();
                    on_edit(edit(move |f: &mut VisitForm| {
                        if !f.photos.contains(&sha) {
                            f.photos.push(sha.clone());
                        }
                    }));
                    let refs: Vec<PhotoRef> = form()
                        .photos
                        .iter()
                        .filter_map(|p| PhotoRef::parse(p))
                        .collect();
                    if let Ok(t) = services.store.run(move |s| thumb_urls(s, &refs)).await {
                        thumbs.set(t);
                    }
                    error.set(None);
                }
                Some(Err(e)) => error.set(Some(e)),
                None => error.set(Some(lang.pick("没有拍到照片", "No photo taken").into())),
            }
        });
    };
    let add2 = add.clone();
    let s3 = services.clone();
    let on_save = move |_| {
        if saving() {
            return;
        }
        saving.set(true);
        let f = form();
        let fix = fix();
        let services = s3.clone();
        spawn(async move {
            let r = services.store.run(move |s| f.save(s, household, fix)).await;
            saving.set(false);
            match r {
                Ok(Ok(_)) => {
                    services.trigger(Trigger::LocalWrite);
                    ui.changed();
                    ui.say(lang.pick(
                        "走访已保存，联网后自动上传",
                        "Visit saved; it uploads when online",
                    ));
                    ui.replace(Route::Household(household));
                }
                Ok(Err(e)) => error.set(Some(device_error(lang, &e))),
                Err(gone) => error.set(Some(gone.to_string())),
            }
        });
    };
    rsx! {
        TitleBar { title: format!("{} {}", lang.pick("走访", "Visit"), title()), lang, on_back: move |_| ui.back() }
        if ready() {
        VisitFormView {
            form: form(), thumbs: thumbs(), fix: fix(), error: error(), saving: saving(), lang,
            on_edit,
            on_take_photo: move |_| add(None),
            on_pick_photo: move |e: FormEvent| {
                let add = add2.clone();
                spawn(async move {
                    if let Some(bytes) = picked_bytes(&e).await {
                        add(Some(bytes));
                    }
                });
            },
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
                    on_edit: |_| {}, on_take_photo: |_| {}, on_pick_photo: |_| {}, on_save: |_| {},
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
        form.save(&mut store, h, None).unwrap();
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
            form.save(&mut store, h, None).is_err(),
            "notes over the limit"
        );
        assert!(store.draft(&VisitForm::draft_key(h)).unwrap().is_some());
        assert_eq!(store.sync_status().unwrap().pending, 0);
    }
}
