//! Register a household in a building (a tenant moving in): unit, room, the head and their phone.
//! The form is a draft until saved; saved on the phone, it uploads when online.

use crate::draft::use_draft;
use crate::i18n::{Lang, Msg};
use crate::state::{Destination, Services, Ui, use_nav};
use crate::widgets::form::number;
use crate::widgets::{Edit, TitleBar, edit};
use dioxus::prelude::*;
use gridmate_device::{DeviceError, NewHousehold, Store};
use gridmate_model::{BuildingId, HouseholdId, HouseholdTag};
use serde::{Deserialize, Serialize};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::screens::fixtures::{demo, demo_store};
    use gridmate_model::Role;

    /// A unit that is not a number is refused and nothing is written; a tenant's household
    /// comes with its head as its first resident and the rental tag.
    #[test]
    fn a_tenant_is_registered_with_the_head_and_a_bad_unit_refused() {
        let (_dir, mut store) = demo_store(Role::GridWorker);
        let d = demo();
        let building = d
            .buildings
            .iter()
            .find(|b| b.grid_id == d.grids[0].id)
            .unwrap();
        let queued = store.pending_mutations(1000).unwrap().len();
        let bad = HouseholdForm {
            unit: "二".into(),
            room: "301".into(),
            head_name: "王".into(),
            head_phone: String::new(),
            tenant: true,
        };
        assert!(bad.save(&mut store, building.id).is_err());
        assert_eq!(store.pending_mutations(1000).unwrap().len(), queued);
        let id = HouseholdForm {
            unit: "2".into(),
            ..bad
        }
        .save(&mut store, building.id)
        .unwrap();
        let detail = store.household(id).unwrap();
        assert_eq!(detail.household.tags, [HouseholdTag::Rental]);
        assert_eq!(
            detail
                .residents
                .iter()
                .map(|r| (r.name.as_str(), r.relation.as_str()))
                .collect::<Vec<_>>(),
            [("王", "户主")],
            "the head came with the household"
        );
    }
}
