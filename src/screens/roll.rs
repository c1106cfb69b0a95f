//! The roll in the field (实有人口): register a household in a building (a tenant moving in), add
//! a person to a household, correct a person's phone or tags or mark them moved out, correct a
//! household's head, tags (独居老人, 残疾, 低保…) and visit cadence. Each new record's form is a
//! draft until saved; saved on the phone, it uploads when online, and the form says while a
//! change of it is still waiting to go up.

use crate::draft::use_draft;
use crate::i18n::{Labelled, Lang, Msg};
use crate::state::{Destination, Services, Ui, run_store, use_load, use_nav, use_seeded_form};
use crate::widgets::{Edit, ErrorCard, Loading, TitleBar, edit};
use dioxus::prelude::*;
use gridmate_device::{
    DeviceError, HouseholdDetail, HouseholdPatch, NewHousehold, NewResident, ResidentPatch,
    ResidentRow, Store,
};
use gridmate_model::community::cadence_for;
use gridmate_model::validate::ValidationError;
use gridmate_model::{BuildingId, HouseholdId, HouseholdTag, ResidentId};
use serde::{Deserialize, Serialize};

fn number<T: std::str::FromStr>(text: &str, field: &'static str) -> Result<T, DeviceError> {
    text.trim().parse().map_err(|_| {
        DeviceError::Invalid(ValidationError::OutOfRange {
            field,
            value: f64::NAN,
        })
    })
}

/// A household being registered; also the draft's JSON.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HouseholdForm {
    pub unit: String,
    pub room: String,
    pub head_name: String,
    #[serde(default)]
    pub head_phone: String,
    pub tenant: bool,
}

impl HouseholdForm {
    pub fn draft_key(building: BuildingId) -> String {
        format!("household-new:{building}")
    }

    pub fn save(
        &self,
        store: &mut Store,
        building: BuildingId,
    ) -> Result<HouseholdId, DeviceError> {
        store.register_household(NewHousehold {
            building_id: building,
            unit: number(&self.unit, "unit")?,
            room: self.room.clone(),
            head_name: self.head_name.clone(),
            head_phone: Some(self.head_phone.trim().to_string()).filter(|p| !p.is_empty()),
            tags: if self.tenant {
                vec![HouseholdTag::Rental]
            } else {
                vec![]
            },
        })
    }
}

#[component]
pub fn HouseholdFormView(
    form: HouseholdForm,
    error: Option<String>,
    lang: Lang,
    on_edit: EventHandler<Edit<HouseholdForm>>,
    on_save: EventHandler<()>,
) -> Element {
    rsx! {
        div { class: "form",
            label { {lang.t(Msg::UnitField)}
                input { name: "unit", r#type: "number", min: "1", max: "99", inputmode: "numeric", initial_value: "{form.unit}",
                    oninput: move |e: FormEvent| { let v = e.value(); on_edit.call(edit(move |f: &mut HouseholdForm| f.unit = v.clone())) } }
            }
            label { {lang.t(Msg::RoomField)}
                input { name: "room", initial_value: "{form.room}", placeholder: "301",
                    oninput: move |e: FormEvent| { let v = e.value(); on_edit.call(edit(move |f: &mut HouseholdForm| f.room = v.clone())) } }
            }
            label { {lang.t(Msg::FieldHeadName)}
                input { name: "head_name", initial_value: "{form.head_name}",
                    oninput: move |e: FormEvent| { let v = e.value(); on_edit.call(edit(move |f: &mut HouseholdForm| f.head_name = v.clone())) } }
            }
            label { {lang.t(Msg::FieldPhone)}
                input { name: "head_phone", r#type: "tel", inputmode: "tel", initial_value: "{form.head_phone}",
                    oninput: move |e: FormEvent| { let v = e.value(); on_edit.call(edit(move |f: &mut HouseholdForm| f.head_phone = v.clone())) } }
            }
            label { class: "check",
                input { r#type: "checkbox", name: "tenant", checked: form.tenant,
                    onchange: move |e: FormEvent| { let on = e.checked(); on_edit.call(edit(move |f: &mut HouseholdForm| f.tenant = on)) } }
                {lang.t(Msg::TenantHousehold)}
            }
            if let Some(e) = error { p { class: "error-card", role: "alert", "{e}" } }
            button { class: "primary", r#type: "button", "data-action": "save-household",
                onclick: move |_| on_save.call(()), {lang.t(Msg::ActionSave)} }
        }
    }
}

#[component]
pub fn RegisterHouseholdScreen(building: BuildingId) -> Element {
    let ui = use_context::<Ui>();
    let nav = use_nav();
    let services = use_context::<Services>();
    let lang = (ui.lang)();
    let draft = use_draft(HouseholdForm::draft_key(building), HouseholdForm::default);
    let error = use_signal(|| None::<String>);
    let on_save = move |_| {
        let services = services.clone();
        draft.submit(
            error,
            move |s, f| f.save(s, building),
            move |id| {
                ui.saved(&services, Msg::SavedItUploadsWhenOnline, None);
                nav.replace(Destination::Household(id));
            },
        );
    };
    rsx! {
        TitleBar { title: lang.t(Msg::RegisterHousehold).to_string(), lang, on_back: move |_| nav.back() }
        if (draft.ready)() {
            HouseholdFormView { form: draft.form.cloned(), error: error(), lang, on_edit: move |e| draft.edit(e), on_save }
        }
    }
}

/// Tags as checkboxes: `offered` in order, those in `chosen` ticked.
#[component]
pub fn TagChoice(
    offered: Vec<HouseholdTag>,
    chosen: Vec<HouseholdTag>,
    lang: Lang,
    on_toggle: EventHandler<(HouseholdTag, bool)>,
) -> Element {
    rsx! {
        fieldset { class: "tag-choice",
            legend { {lang.t(Msg::TagsField)} }
            for t in offered {
                label { class: "check",
                    input { r#type: "checkbox", name: "tag-{t.code()}", checked: chosen.contains(&t),
                        onchange: move |e: FormEvent| on_toggle.call((t, e.checked())) }
                    {t.label(lang)}
                }
            }
        }
    }
}

/// `tags` with `tag` put in or taken out, in the order tags are offered.
fn toggled(tags: &[HouseholdTag], tag: HouseholdTag, on: bool) -> Vec<HouseholdTag> {
    HouseholdTag::ALL
        .into_iter()
        .filter(|t| if *t == tag { on } else { tags.contains(t) })
        .collect()
}

fn same_tags(a: &[HouseholdTag], b: &[HouseholdTag]) -> bool {
    a.len() == b.len() && a.iter().all(|t| b.contains(t))
}

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

/// A person being added; also the draft's JSON.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ResidentForm {
    pub name: String,
    pub relation: String,
    pub birth_year: String,
    pub phone: String,
}

impl ResidentForm {
    pub fn draft_key(household: HouseholdId) -> String {
        format!("resident-new:{household}")
    }

    pub fn save(
        &self,
        store: &mut Store,
        household: HouseholdId,
    ) -> Result<ResidentId, DeviceError> {
        let birth_year = match self.birth_year.trim() {
            "" => None,
            y => Some(number(y, "birth_year")?),
        };
        let phone = Some(self.phone.trim().to_string()).filter(|p| !p.is_empty());
        store.add_resident(NewResident {
            household_id: household,
            name: self.name.clone(),
            relation: self.relation.clone(),
            birth_year,
            phone,
            tags: vec![],
        })
    }
}

#[component]
pub fn ResidentFormView(
    form: ResidentForm,
    error: Option<String>,
    lang: Lang,
    on_edit: EventHandler<Edit<ResidentForm>>,
    on_save: EventHandler<()>,
) -> Element {
    rsx! {
        div { class: "form",
            label { {lang.t(Msg::FieldName)}
                input { name: "name", initial_value: "{form.name}",
                    oninput: move |e: FormEvent| { let v = e.value(); on_edit.call(edit(move |f: &mut ResidentForm| f.name = v.clone())) } }
            }
            label { {lang.t(Msg::RelationField)}
                input { name: "relation", initial_value: "{form.relation}", placeholder: "配偶 / 子女 / 租客",
                    oninput: move |e: FormEvent| { let v = e.value(); on_edit.call(edit(move |f: &mut ResidentForm| f.relation = v.clone())) } }
            }
            label { {lang.t(Msg::BirthYearField)}
                input { name: "birth_year", r#type: "number", inputmode: "numeric", initial_value: "{form.birth_year}",
                    oninput: move |e: FormEvent| { let v = e.value(); on_edit.call(edit(move |f: &mut ResidentForm| f.birth_year = v.clone())) } }
            }
            label { {lang.t(Msg::FieldPhone)}
                input { name: "phone", r#type: "tel", inputmode: "tel", initial_value: "{form.phone}",
                    oninput: move |e: FormEvent| { let v = e.value(); on_edit.call(edit(move |f: &mut ResidentForm| f.phone = v.clone())) } }
            }
            if let Some(e) = error { p { class: "error-card", role: "alert", "{e}" } }
            button { class: "primary", r#type: "button", "data-action": "save-resident",
                onclick: move |_| on_save.call(()), {lang.t(Msg::ActionSave)} }
        }
    }
}

#[component]
pub fn AddResidentScreen(household: HouseholdId) -> Element {
    let ui = use_context::<Ui>();
    let nav = use_nav();
    let services = use_context::<Services>();
    let lang = (ui.lang)();
    let draft = use_draft(ResidentForm::draft_key(household), ResidentForm::default);
    let error = use_signal(|| None::<String>);
    let on_save = move |_| {
        let services = services.clone();
        draft.submit(
            error,
            move |s, f| f.save(s, household),
            move |_| {
                ui.saved(&services, Msg::SavedItUploadsWhenOnline, None);
                nav.back();
            },
        );
    };
    rsx! {
        TitleBar { title: lang.t(Msg::AddMember).to_string(), lang, on_back: move |_| nav.back() }
        if (draft.ready)() {
            ResidentFormView { form: draft.form.cloned(), error: error(), lang, on_edit: move |e| draft.edit(e), on_save }
        }
    }
}

/// One person's facts a worker corrects in the field.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CorrectionForm {
    pub phone: String,
    pub moved_out: bool,
    pub tags: Vec<HouseholdTag>,
}

/// The tags a person carries (a household's rental or vacancy is the household's).
fn person_tags() -> Vec<HouseholdTag> {
    HouseholdTag::ALL
        .into_iter()
        .filter(|t| t.is_vulnerable())
        .collect()
}

impl CorrectionForm {
    pub fn save(&self, store: &mut Store, who: &ResidentRow) -> Result<(), DeviceError> {
        let phone = self.phone.trim();
        store.patch_resident(
            who.id,
            ResidentPatch {
                // An empty box leaves the number as it is; a number typed replaces it.
                phone: (!phone.is_empty()).then(|| Some(phone.to_string())),
                moved_out: (self.moved_out != who.moved_out).then_some(self.moved_out),
                tags: (!same_tags(&self.tags, &who.tags)).then(|| self.tags.clone()),
            },
        )
    }
}

#[component]
pub fn CorrectionView(
    who: ResidentRow,
    form: CorrectionForm,
    error: Option<String>,
    lang: Lang,
    on_edit: EventHandler<Edit<CorrectionForm>>,
    on_save: EventHandler<()>,
) -> Element {
    rsx! {
        div { class: "form",
            p { class: "sub", "{who.name} · {who.relation}"
                if let Some(p) = &who.phone_masked { " · ☎ {p}" }
            }
            if who.pending { p { class: "tag pending", {lang.t(Msg::NotUploaded)} } }
            label { {lang.t(Msg::NewPhone)}
                input { name: "phone", r#type: "tel", inputmode: "tel", initial_value: "{form.phone}",
                    oninput: move |e: FormEvent| { let v = e.value(); on_edit.call(edit(move |f: &mut CorrectionForm| f.phone = v.clone())) } }
            }
            label { class: "check",
                input { r#type: "checkbox", name: "moved_out", checked: form.moved_out,
                    onchange: move |e: FormEvent| { let on = e.checked(); on_edit.call(edit(move |f: &mut CorrectionForm| f.moved_out = on)) } }
                {lang.t(Msg::MovedOut)}
            }
            TagChoice { offered: person_tags(), chosen: form.tags.clone(), lang,
                on_toggle: move |(t, on)| on_edit.call(edit(move |f: &mut CorrectionForm| f.tags = toggled(&f.tags, t, on))) }
            if let Some(e) = error { p { class: "error-card", role: "alert", "{e}" } }
            button { class: "primary", r#type: "button", "data-action": "save-correction",
                onclick: move |_| on_save.call(()), {lang.t(Msg::ActionSave)} }
        }
    }
}

#[component]
pub fn CorrectResidentScreen(household: HouseholdId, resident: ResidentId) -> Element {
    let ui = use_context::<Ui>();
    let nav = use_nav();
    let services = use_context::<Services>();
    let lang = (ui.lang)();
    let mut error = use_signal(|| None::<String>);
    let data = use_load(move |s| {
        s.household(household)?
            .residents
            .into_iter()
            .find(|r| r.id == resident)
            .ok_or_else(|| DeviceError::not_found("resident", resident))
    });
    let mut form = use_seeded_form(data, |who: &ResidentRow| CorrectionForm {
        phone: String::new(),
        moved_out: who.moved_out,
        tags: who.tags.clone(),
    });
    let on_save = move |_| {
        let (Some(Ok(who)), Some(f)) = (data.peek().clone(), form()) else {
            return;
        };
        let services = services.clone();
        spawn(async move {
            let r = run_store(&services.store, lang, move |s| f.save(s, &who)).await;
            match r {
                Ok(()) => {
                    ui.saved(&services, Msg::SavedItUploadsWhenOnline, None);
                    nav.back();
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    rsx! {
        TitleBar { title: lang.t(Msg::CorrectDetails).to_string(), lang, on_back: move |_| nav.back() }
        match &*data.read() {
            None => rsx! { Loading { lang } },
            Some(Err(e)) => rsx! { ErrorCard { message: e.clone() } },
            Some(Ok(who)) => match form() {
                None => rsx! { Loading { lang } },
                Some(f) => rsx! {
                    CorrectionView { who: who.clone(), form: f, error: error(), lang,
                        on_edit: move |e: Edit<CorrectionForm>| form.with_mut(|f| if let Some(f) = f { e(f) }), on_save }
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

    #[test]
    fn forms_save_through_the_store_and_say_what_is_wrong() {
        let (_dir, mut store) = demo_store(Role::GridWorker);
        let d = demo();
        let building = d
            .buildings
            .iter()
            .find(|b| b.grid_id == d.grids[0].id)
            .unwrap();
        let bad = HouseholdForm {
            unit: "二".into(),
            room: "301".into(),
            head_name: "王".into(),
            head_phone: String::new(),
            tenant: true,
        };
        assert!(bad.save(&mut store, building.id).is_err());
        let id = HouseholdForm {
            unit: "2".into(),
            ..bad
        }
        .save(&mut store, building.id)
        .unwrap();
        let person = ResidentForm {
            name: "王小明".into(),
            relation: "子女".into(),
            birth_year: "2015".into(),
            phone: String::new(),
        };
        person.save(&mut store, id).unwrap();
        let detail = store.household(id).unwrap();
        assert_eq!(detail.household.tags, [HouseholdTag::Rental]);
        assert_eq!(
            detail
                .residents
                .iter()
                .map(|r| (r.name.as_str(), r.relation.as_str()))
                .collect::<Vec<_>>(),
            [("王", "户主"), ("王小明", "子女")],
            "the head came with the household"
        );
        let who = detail.residents[1].clone();
        assert_eq!(who.birth_year, Some(2015));
        CorrectionForm {
            phone: "13700002222".into(),
            moved_out: true,
            tags: vec![HouseholdTag::Disabled],
        }
        .save(&mut store, &who)
        .unwrap();
        let after = store
            .household(id)
            .unwrap()
            .residents
            .into_iter()
            .find(|r| r.id == who.id)
            .unwrap();
        assert!(after.moved_out && after.pending);
        assert_eq!(after.tags, [HouseholdTag::Disabled]);
        let form = CorrectionForm {
            tags: after.tags.clone(),
            ..CorrectionForm::default()
        };
        let html = render(move || {
            rsx! {
                CorrectionView { who: after.clone(), form: form.clone(), error: None, lang: Lang::Zh,
                    on_edit: |_| {}, on_save: |_| {} }
            }
        });
        assert!(html.contains("137****2222") && html.contains("待上传") && html.contains("已搬离"));
        assert!(
            html.contains(r#"name="tag-disabled" checked"#),
            "the person's tag is ticked: {html}"
        );
        assert!(
            !html.contains("tag-rental"),
            "a household's tag is not offered for a person"
        );
    }

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
