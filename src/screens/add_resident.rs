//! Add a person to a household (a newborn, a relative moving in). The form is a draft until saved.

use crate::draft::use_draft;
use crate::i18n::{Lang, Msg};
use crate::state::{Services, Ui, use_nav};
use crate::widgets::form::number;
use crate::widgets::{Edit, TitleBar, edit};
use dioxus::prelude::*;
use gridmate_device::{DeviceError, NewResident, Store};
use gridmate_model::{HouseholdId, ResidentId};
use serde::{Deserialize, Serialize};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::screens::fixtures::{demo, demo_store};
    use gridmate_model::Role;

    #[test]
    fn a_person_is_added_with_their_relation_and_birth_year_or_refused() {
        let (_dir, mut store) = demo_store(Role::GridWorker);
        let d = demo();
        let household = d
            .households
            .iter()
            .find(|h| h.grid_id == d.grids[0].id)
            .unwrap()
            .id;
        let before = store.household(household).unwrap().residents.len();
        let bad = ResidentForm {
            name: "王小明".into(),
            relation: "子女".into(),
            birth_year: "二〇一五".into(),
            phone: String::new(),
        };
        assert!(bad.save(&mut store, household).is_err(), "a year in words");
        assert_eq!(store.household(household).unwrap().residents.len(), before);
        ResidentForm {
            birth_year: "2015".into(),
            ..bad
        }
        .save(&mut store, household)
        .unwrap();
        let residents = store.household(household).unwrap().residents;
        let added = residents.iter().find(|r| r.name == "王小明").unwrap();
        assert_eq!(
            (added.relation.as_str(), added.birth_year),
            ("子女", Some(2015))
        );
        assert!(added.pending, "it waits to go up");
    }
}
