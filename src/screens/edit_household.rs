//! Correct a household: its head, tags (独居老人, 残疾, 低保…) and visit cadence; only the fields
//! that changed travel, and the screen says while a change of it is still waiting to go up.

use crate::i18n::{Lang, Msg};
use crate::state::{Services, Ui, run_store, use_load, use_nav, use_seeded_form};
use crate::widgets::form::{TagChoice, number, same_tags, toggled};
use crate::widgets::{Edit, ErrorCard, Loading, TitleBar, edit};
use dioxus::prelude::*;
use gridmate_device::{DeviceError, HouseholdDetail, HouseholdPatch, Store};
use gridmate_model::community::cadence_for;
use gridmate_model::{HouseholdId, HouseholdTag};

/// A household's facts as the edit form holds them. The cadence box is empty while the cadence
/// is the one the tags call for, so changing the tags changes it; a number typed is kept.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HouseholdEditForm {
    pub head_name: String,
    pub tags: Vec<HouseholdTag>,
    pub cadence: String,
}

impl HouseholdEditForm {
    pub fn of(d: &HouseholdDetail) -> HouseholdEditForm {
        let h = &d.household;
        HouseholdEditForm {
            head_name: h.head_name.clone(),
            tags: h.tags.clone(),
            cadence: if h.visit_cadence_days == cadence_for(&h.tags) {
                String::new()
            } else {
                h.visit_cadence_days.to_string()
            },
        }
    }

    /// Only what changed travels: each field is merged on its own at the server.
    pub fn save(&self, store: &mut Store, d: &HouseholdDetail) -> Result<(), DeviceError> {
        let h = &d.household;
        let cadence = match self.cadence.trim() {
            "" => cadence_for(&self.tags),
            typed => number(typed, "visit_cadence_days")?,
        };
        store.patch_household(
            h.id,
            HouseholdPatch {
                head_name: (self.head_name.trim() != h.head_name).then(|| self.head_name.clone()),
                tags: (!same_tags(&self.tags, &h.tags)).then(|| self.tags.clone()),
                visit_cadence_days: (cadence != h.visit_cadence_days).then_some(cadence),
            },
        )
    }
}

#[component]
pub fn EditHouseholdView(
    detail: HouseholdDetail,
    form: HouseholdEditForm,
    error: Option<String>,
    lang: Lang,
    on_edit: EventHandler<Edit<HouseholdEditForm>>,
    on_save: EventHandler<()>,
) -> Element {
    rsx! {
        div { class: "form",
            p { class: "sub", "{detail.estate} · {detail.household.address}" }
            if detail.pending { p { class: "tag pending", {lang.t(Msg::ChangesNotUploaded)} } }
            label { {lang.t(Msg::FieldHeadName)}
                input { name: "head_name", initial_value: "{form.head_name}",
                    oninput: move |e: FormEvent| { let v = e.value(); on_edit.call(edit(move |f: &mut HouseholdEditForm| f.head_name = v.clone())) } }
            }
            TagChoice { offered: HouseholdTag::ALL.to_vec(), chosen: form.tags.clone(), lang,
                on_toggle: move |(t, on)| on_edit.call(edit(move |f: &mut HouseholdEditForm| f.tags = toggled(&f.tags, t, on))) }
            label { {lang.t(Msg::CadenceField)}
                input { name: "cadence", r#type: "number", min: "1", max: "365", inputmode: "numeric",
                    initial_value: "{form.cadence}", placeholder: "{cadence_for(&form.tags)}",
                    oninput: move |e: FormEvent| { let v = e.value(); on_edit.call(edit(move |f: &mut HouseholdEditForm| f.cadence = v.clone())) } }
                small { class: "muted", {lang.t(Msg::CadenceFromTags)} }
            }
            if let Some(e) = error { p { class: "error-card", role: "alert", "{e}" } }
            button { class: "primary", r#type: "button", "data-action": "save-household-edit",
                onclick: move |_| on_save.call(()), {lang.t(Msg::ActionSave)} }
        }
    }
}

#[component]
pub fn EditHouseholdScreen(household: HouseholdId) -> Element {
    let ui = use_context::<Ui>();
    let nav = use_nav();
    let services = use_context::<Services>();
    let lang = (ui.lang)();
    let mut error = use_signal(|| None::<String>);
    let data = use_load(move |s| s.household(household));
    let mut form = use_seeded_form(data, HouseholdEditForm::of);
    let on_save = move |_| {
        let (Some(Ok(d)), Some(f)) = (data.peek().clone(), form()) else {
            return;
        };
        let services = services.clone();
        spawn(async move {
            match run_store(&services.store, lang, move |s| f.save(s, &d)).await {
                Ok(()) => {
                    ui.saved(&services, Msg::SavedItUploadsWhenOnline, None);
                    nav.back();
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    rsx! {
        TitleBar { title: lang.t(Msg::EditHousehold).to_string(), lang, on_back: move |_| nav.back() }
        match &*data.read() {
            None => rsx! { Loading { lang } },
            Some(Err(e)) => rsx! { ErrorCard { message: e.clone() } },
            Some(Ok(d)) => match form() {
                None => rsx! { Loading { lang } },
                Some(f) => rsx! {
                    EditHouseholdView { detail: d.clone(), form: f, error: error(), lang,
                        on_edit: move |e: Edit<HouseholdEditForm>| form.with_mut(|f| if let Some(f) = f { e(f) }), on_save }
                },
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::screens::fixtures::{demo, demo_store, render};
    use gridmate_model::Role;

    /// Ticking 独居老人 on a household makes it a weekly visit unless a cadence is typed; only
    /// the fields that changed are queued, and the screen says the change waits to go up.
    #[test]
    fn a_household_edit_sends_what_changed_and_its_tags_set_the_cadence() {
        let (_dir, mut store) = demo_store(Role::GridWorker);
        let d = demo();
        let plain = d
            .households
            .iter()
            .find(|h| h.tags.is_empty() && h.grid_id == d.grids[0].id)
            .unwrap();
        let before = store.household(plain.id).unwrap();
        assert!(!before.pending);
        let mut form = HouseholdEditForm::of(&before);
        assert_eq!(form.cadence, "", "the ordinary cadence is the tags' own");
        form.tags = toggled(&form.tags, HouseholdTag::ElderlyLivingAlone, true);
        form.save(&mut store, &before).unwrap();
        let after = store.household(plain.id).unwrap();
        assert_eq!(after.household.tags, [HouseholdTag::ElderlyLivingAlone]);
        assert_eq!(after.household.visit_cadence_days, 7);
        assert_eq!(after.household.head_name, before.household.head_name);
        assert!(after.pending);
        let queued = store.pending_mutations(1000).unwrap();
        let patch = queued.last().unwrap();
        assert_eq!(patch.kind, "household.patch");
        let fields = patch.data["fields"].as_object().unwrap();
        assert_eq!(
            fields.keys().collect::<Vec<_>>(),
            ["tags", "visit_cadence_days"],
            "the head's name did not change and does not travel"
        );

        let mut typed = HouseholdEditForm::of(&after);
        assert_eq!(typed.cadence, "");
        typed.cadence = "10".into();
        typed.tags = toggled(&typed.tags, HouseholdTag::LowIncome, true);
        typed.save(&mut store, &after).unwrap();
        let kept = store.household(plain.id).unwrap();
        assert_eq!(
            kept.household.visit_cadence_days, 10,
            "a typed cadence is kept"
        );
        assert_eq!(
            kept.household.tags,
            [HouseholdTag::ElderlyLivingAlone, HouseholdTag::LowIncome]
        );
        assert_eq!(HouseholdEditForm::of(&kept).cadence, "10");

        let bad = HouseholdEditForm {
            cadence: "0".into(),
            ..HouseholdEditForm::of(&kept)
        };
        let queued = store.pending_mutations(1000).unwrap().len();
        assert!(bad.save(&mut store, &kept).is_err());
        assert_eq!(
            store.pending_mutations(1000).unwrap().len(),
            queued,
            "nothing queued"
        );

        for lang in [Lang::Zh, Lang::En] {
            let (k, f) = (kept.clone(), HouseholdEditForm::of(&kept));
            let html = render(move || {
                rsx! {
                    EditHouseholdView { detail: k.clone(), form: f.clone(), error: None, lang, on_edit: |_| {}, on_save: |_| {} }
                }
            });
            assert!(
                html.contains(r#"name="tag-elderly_alone" checked"#),
                "{html}"
            );
            assert!(
                html.contains(r#"name="tag-rental""#),
                "a household may be a rental"
            );
            assert!(html.contains(lang.t(Msg::ChangesNotUploaded)));
        }
    }
}
