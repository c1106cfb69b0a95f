//! Correct a person in the field: their phone, their tags, or that they moved out; the screen says
//! while a change is still waiting to go up.

use crate::i18n::{Lang, Msg};
use crate::state::{Services, Ui, run_store, use_load, use_nav, use_seeded_form};
use crate::widgets::form::{TagChoice, same_tags, toggled};
use crate::widgets::{Edit, ErrorCard, Loading, TitleBar, edit};
use dioxus::prelude::*;
use gridmate_device::{DeviceError, ResidentPatch, ResidentRow, Store};
use gridmate_model::{HouseholdId, HouseholdTag, ResidentId};

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
    fn a_person_moved_out_with_a_new_phone_and_tag_reads_back_masked_and_pending() {
        let (_dir, mut store) = demo_store(Role::GridWorker);
        let d = demo();
        let household = d
            .households
            .iter()
            .find(|h| h.grid_id == d.grids[0].id)
            .unwrap()
            .id;
        let who = store.household(household).unwrap().residents[0].clone();
        CorrectionForm {
            phone: "13700002222".into(),
            moved_out: true,
            tags: vec![HouseholdTag::Disabled],
        }
        .save(&mut store, &who)
        .unwrap();
        let after = store
            .household(household)
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
}
