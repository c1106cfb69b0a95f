//! The roll in the field (实有人口): register a household in a building (a tenant moving in), add
//! a person to a household, correct a person's phone or mark them moved out. Each form is a
//! draft until saved; saved on the phone, it uploads when online.

use crate::draft::use_draft;
use crate::i18n::{Lang, Msg};
use crate::state::{Destination, Services, Ui, run_store, use_load, use_nav};
use crate::widgets::{Edit, ErrorCard, Loading, TitleBar, edit};
use dioxus::prelude::*;
use gridmate_device::{DeviceError, NewHousehold, NewResident, ResidentPatch, ResidentRow, Store};
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
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CorrectionForm {
    pub phone: String,
    pub moved_out: bool,
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
                ..Default::default()
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
    let mut form = use_signal(CorrectionForm::default);
    let data = use_load(move |s| {
        s.household(household)?
            .residents
            .into_iter()
            .find(|r| r.id == resident)
            .ok_or_else(|| DeviceError::not_found("resident", resident))
    });
    use_effect(move || {
        if let Some(Ok(who)) = &*data.read() {
            form.set(CorrectionForm {
                phone: String::new(),
                moved_out: who.moved_out,
            });
        }
    });
    let on_save = move |_| {
        let Some(Ok(who)) = data.peek().clone() else {
            return;
        };
        let f = form();
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
            Some(Ok(who)) => rsx! {
                CorrectionView { who: who.clone(), form: form(), error: error(), lang,
                    on_edit: move |e: Edit<CorrectionForm>| form.with_mut(|f| e(f)), on_save }
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
        assert_eq!(detail.residents[0].birth_year, Some(2015));
        let who = detail.residents[0].clone();
        CorrectionForm {
            phone: "13700002222".into(),
            moved_out: true,
        }
        .save(&mut store, &who)
        .unwrap();
        let after = store.household(id).unwrap().residents[0].clone();
        assert!(after.moved_out && after.pending);
        let html = render(move || {
            rsx! {
                CorrectionView { who: after.clone(), form: CorrectionForm::default(), error: None, lang: Lang::Zh,
                    on_edit: |_| {}, on_save: |_| {} }
            }
        });
        assert!(html.contains("137****2222") && html.contains("待上传") && html.contains("已搬离"));
    }
}
