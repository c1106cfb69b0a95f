//! Log volunteer service (a party member's 志愿服务): what was done, hours, people served,
//! photos. Every edit is a draft; saved on the phone, uploaded when online.

use crate::draft::use_draft;
use crate::i18n::{Lang, Msg};
use crate::state::{Services, Ui, use_nav};
use crate::widgets::{Edit, PhotoButtons, PhotoStrip, TitleBar, edit, use_thumbs};
use chrono::Utc;
use dioxus::prelude::*;
use gridmate_device::{NewService, Store};
use gridmate_model::PhotoRef;
use serde::{Deserialize, Serialize};

/// The form as typed so far; also the draft's JSON.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServiceForm {
    pub title: String,
    pub hours: String,
    pub people: String,
    pub photos: Vec<String>,
}

impl Default for ServiceForm {
    fn default() -> Self {
        ServiceForm {
            title: String::new(),
            hours: "1".into(),
            people: "1".into(),
            photos: vec![],
        }
    }
}

impl ServiceForm {
    pub const DRAFT_KEY: &str = "service";

    pub fn save(&self, store: &mut Store) -> Result<(), gridmate_device::DeviceError> {
        let grid = store.home_grid()?;
        let hours: f64 = self.hours.trim().parse().map_err(|_| {
            gridmate_device::DeviceError::Invalid(gridmate_model::ValidationError::OutOfRange {
                field: "hours",
                value: f64::NAN,
            })
        })?;
        if !(0.1..=24.0).contains(&hours) {
            return Err(gridmate_device::DeviceError::Invalid(
                gridmate_model::ValidationError::OutOfRange {
                    field: "hours",
                    value: hours,
                },
            ));
        }
        store.record_service(NewService {
            grid_id: grid,
            issue_id: None,
            order_id: None,
            title: self.title.clone(),
            at: Utc::now(),
            hours_tenths: (hours * 10.0).round() as u16,
            people_served: self.people.trim().parse().unwrap_or(0),
            photos: self
                .photos
                .iter()
                .filter_map(|p| PhotoRef::parse(p))
                .collect(),
        })?;
        Ok(())
    }
}

#[component]
pub fn ServiceFormView(
    form: ServiceForm,
    thumbs: Vec<String>,
    error: Option<String>,
    lang: Lang,
    on_edit: EventHandler<Edit<ServiceForm>>,
    on_photo: EventHandler<Option<Vec<u8>>>,
    on_save: EventHandler<()>,
) -> Element {
    rsx! {
        div { class: "form",
            label { {lang.t(Msg::WhatYouDid)}
                input { name: "title", initial_value: "{form.title}", placeholder: lang.t(Msg::EGTookAnElderlyResident),
                    oninput: move |e: FormEvent| { let v = e.value(); on_edit.call(edit(move |f: &mut ServiceForm| f.title = v.clone())) } }
            }
            label { {lang.t(Msg::HoursField)}
                input { name: "hours", r#type: "number", step: "0.5", min: "0.5", max: "24", inputmode: "decimal", value: "{form.hours}",
                    oninput: move |e: FormEvent| { let v = e.value(); on_edit.call(edit(move |f: &mut ServiceForm| f.hours = v.clone())) } }
            }
            label { {lang.t(Msg::PeopleServedField)}
                input { name: "people", r#type: "number", min: "0", inputmode: "numeric", value: "{form.people}",
                    oninput: move |e: FormEvent| { let v = e.value(); on_edit.call(edit(move |f: &mut ServiceForm| f.people = v.clone())) } }
            }
            PhotoButtons { count: form.photos.len(), lang, on_photo }
            PhotoStrip { thumbs }
            if let Some(e) = error { p { class: "error-card", role: "alert", "{e}" } }
            button { class: "primary", r#type: "button", onclick: move |_| on_save.call(()), "data-action": "save-service", {lang.t(Msg::ActionSave)} }
        }
    }
}

#[component]
pub fn ServiceScreen() -> Element {
    let ui = use_context::<Ui>();
    let nav = use_nav();
    let services = use_context::<Services>();
    let lang = (ui.lang)();
    let draft = use_draft(ServiceForm::DRAFT_KEY.to_string(), ServiceForm::default);
    let thumbs = use_thumbs(move || draft.form.read().photos.clone());
    let error = use_signal(|| None::<String>);
    let on_photo = move |bytes| draft.add_photo(bytes, error, |f: &mut ServiceForm| &mut f.photos);
    let on_save = move |_| {
        let services = services.clone();
        draft.submit(
            error,
            move |s, f| f.save(s),
            move |()| {
                ui.saved(&services, Msg::ServiceLoggedItUploadsWhenOnline, None);
                nav.back();
            },
        );
    };
    rsx! {
        TitleBar { title: lang.t(Msg::LogService).to_string(), lang, on_back: move |_| nav.back() }
        if (draft.ready)() {
            ServiceFormView { form: draft.form.cloned(), thumbs: thumbs(), error: error(), lang, on_edit: move |e| draft.edit(e), on_photo, on_save }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::screens::fixtures::demo_store;
    use gridmate_model::Role;

    #[test]
    fn service_hours_are_checked_and_add_up() {
        let (_dir, mut store) = demo_store(Role::PartyMember);
        let me = store.session().unwrap().unwrap().user.id;
        let before = store.service_summary(me, Utc::now()).unwrap();
        let bad = ServiceForm {
            title: "x".into(),
            hours: "30".into(),
            people: "1".into(),
            photos: vec![],
        };
        assert!(bad.save(&mut store).is_err());
        let nan = ServiceForm {
            hours: "abc".into(),
            ..bad.clone()
        };
        assert!(nan.save(&mut store).is_err());
        let ok = ServiceForm {
            title: "清理楼道小广告".into(),
            hours: "1.5".into(),
            people: "20".into(),
            photos: vec![],
        };
        ok.save(&mut store).unwrap();
        let after = store.service_summary(me, Utc::now()).unwrap();
        assert_eq!(after.hours_tenths, before.hours_tenths + 15);
        assert_eq!(after.records, before.records + 1);
        assert_eq!(after.recent[0].title, "清理楼道小广告");
    }
}
