//! One commitment (承诺践诺): what was promised, every step logged on it with its evidence
//! (note and photos), and — on one of my own still under way — a step to log, or the promise
//! marked kept or dropped. The step is a draft until saved, its photos with it; saved on the
//! phone, it uploads when online.

use crate::draft::use_draft;
use crate::i18n::{Labelled, Lang, Msg};
use crate::state::{Services, Ui, use_load, use_nav};
use crate::widgets::{
    Edit, ErrorCard, Loading, PhotoButtons, PhotoStrip, TitleBar, china_date, edit, thumb_urls,
    use_thumbs,
};
use dioxus::prelude::*;
use gridmate_device::{DeviceError, Store};
use gridmate_model::{
    Commitment, CommitmentAction, CommitmentEvent, CommitmentId, CommitmentStatus, PhotoRef,
};
use serde::{Deserialize, Serialize};

/// A commitment with its steps, each step's photos as thumbnails this phone holds.
#[derive(Clone, Debug, PartialEq)]
pub struct CommitmentDetail {
    pub commitment: Commitment,
    pub steps: Vec<(CommitmentEvent, Vec<String>)>,
    /// Mine and still under way: I may log a step on it.
    pub mine_open: bool,
}

impl CommitmentDetail {
    pub fn read(s: &Store, id: CommitmentId) -> Result<CommitmentDetail, DeviceError> {
        let commitment = s.commitment(id)?;
        let me = s.session()?.map(|x| x.user.id);
        let steps = s
            .commitment_events(id)?
            .into_iter()
            .map(|e| {
                let thumbs = thumb_urls(s, &e.photos);
                (e, thumbs)
            })
            .collect();
        Ok(CommitmentDetail {
            mine_open: me == Some(commitment.user_id)
                && commitment.status == CommitmentStatus::Promised,
            commitment,
            steps,
        })
    }
}

/// A step being logged; also the draft's JSON.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StepForm {
    pub note: String,
    pub photos: Vec<String>,
}

impl StepForm {
    pub fn draft_key(id: CommitmentId) -> String {
        format!("commitment-step:{id}")
    }

    pub fn save(
        &self,
        store: &mut Store,
        id: CommitmentId,
        action: CommitmentAction,
    ) -> Result<CommitmentStatus, DeviceError> {
        store.act_on_commitment(
            id,
            action,
            &self.note,
            self.photos
                .iter()
                .filter_map(|p| PhotoRef::parse(p))
                .collect(),
        )
    }
}

#[component]
pub fn CommitmentView(
    detail: CommitmentDetail,
    form: StepForm,
    thumbs: Vec<String>,
    error: Option<String>,
    lang: Lang,
    on_edit: EventHandler<Edit<StepForm>>,
    on_photo: EventHandler<Option<Vec<u8>>>,
    on_act: EventHandler<CommitmentAction>,
) -> Element {
    let c = &detail.commitment;
    rsx! {
        section { class: "card commitment",
            h2 { "{c.title}" }
            p { class: "sub", "{c.user_name} · {c.year} · " span { class: "tag plain", {c.status.label(lang)} } }
            if !c.description.is_empty() { p { "{c.description}" } }
        }
        section { class: "card steps",
            h2 { {lang.t(Msg::Timeline)} }
            if detail.steps.is_empty() { p { class: "empty", {lang.t(Msg::CommitmentNoSteps)} } }
            ul {
                for (e, thumbs) in detail.steps.iter() {
                    li { class: "row step", "data-action": e.action.code(),
                        span { class: "addr", {china_date(e.at)} }
                        span { class: "tag plain", {e.action.label(lang)} }
                        if !e.note.is_empty() { span { class: "notes", "{e.note}" } }
                        if !e.photos.is_empty() {
                            span { class: "muted small", " {e.photos.len()} " {lang.t(Msg::PhotoUnit)} }
                            PhotoStrip { thumbs: thumbs.clone() }
                        }
                    }
                }
            }
        }
        if detail.mine_open {
            section { class: "card form", key: "{detail.steps.len()}",
                label { {lang.t(Msg::CommitmentNoteField)}
                    textarea { name: "note", initial_value: "{form.note}", rows: "3",
                        oninput: move |e: FormEvent| { let v = e.value(); on_edit.call(edit(move |f: &mut StepForm| f.note = v.clone())) } }
                }
                PhotoButtons { count: form.photos.len(), lang, on_photo, action: "commitment-photo" }
                PhotoStrip { thumbs }
                if let Some(e) = error { p { class: "error-card", role: "alert", "{e}" } }
                div { class: "actions",
                    button { class: "primary", r#type: "button", "data-action": "commitment-progress",
                        onclick: move |_| on_act.call(CommitmentAction::Progress), {lang.t(Msg::CommitmentProgress)} }
                    button { class: "secondary", r#type: "button", "data-action": "commitment-fulfil",
                        onclick: move |_| on_act.call(CommitmentAction::Fulfil), {lang.t(Msg::CommitmentFulfil)} }
                    button { class: "danger", r#type: "button", "data-action": "commitment-drop",
                        onclick: move |_| on_act.call(CommitmentAction::Drop), {lang.t(Msg::CommitmentDrop)} }
                }
            }
        }
    }
}

#[component]
pub fn CommitmentScreen(commitment: CommitmentId) -> Element {
    let ui = use_context::<Ui>();
    let nav = use_nav();
    let services = use_context::<Services>();
    let lang = (ui.lang)();
    let data = use_load(move |s| CommitmentDetail::read(s, commitment));
    let draft = use_draft(StepForm::draft_key(commitment), StepForm::default);
    let thumbs = use_thumbs(move || draft.form.read().photos.clone());
    let error = use_signal(|| None::<String>);
    let on_photo = move |bytes| draft.add_photo(bytes, error, |f: &mut StepForm| &mut f.photos);
    let on_act = move |action: CommitmentAction| {
        let services = services.clone();
        draft.submit(
            error,
            move |s, f| f.save(s, commitment, action),
            // Saving refreshes every loaded screen, this one's timeline among them; the form,
            // keyed by the steps logged, starts empty for the next.
            move |_| {
                draft.reset(StepForm::default());
                ui.saved(&services, Msg::SavedItUploadsWhenOnline, None);
            },
        );
    };
    rsx! {
        TitleBar { title: lang.t(Msg::CommitmentTitle).to_string(), lang, on_back: move |_| nav.back() }
        match &*data.read() {
            None => rsx! { Loading { lang } },
            Some(Err(e)) => rsx! { ErrorCard { message: e.clone() } },
            Some(Ok(d)) => rsx! {
                if (draft.ready)() {
                    CommitmentView { detail: d.clone(), form: draft.form.cloned(), thumbs: thumbs(), error: error(), lang,
                        on_edit: move |e| draft.edit(e), on_photo, on_act }
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::screens::fixtures::{demo_store, render};
    use gridmate_model::Role;

    /// A step with a photo is kept with the commitment and shown on its timeline; a step with
    /// nothing said is refused and leaves nothing; another member's promise offers no form.
    #[test]
    fn a_step_carries_its_evidence_and_only_the_author_may_log_one() {
        let (_dir, mut store) = demo_store(Role::PartyMember);
        let grid = store.home_grid().unwrap();
        let id = store
            .make_commitment(grid, "每周为独居老人买菜", "")
            .unwrap();
        let photo = store
            .ingest_photo(&crate::screens::fixtures::jpeg(640, 480))
            .unwrap()
            .sha256;
        let empty = StepForm::default();
        let before = store.pending_mutations(1000).unwrap().len();
        assert!(
            empty
                .save(&mut store, id, CommitmentAction::Progress)
                .is_err(),
            "a step needs a note"
        );
        assert_eq!(store.pending_mutations(1000).unwrap().len(), before);
        let step = StepForm {
            note: "第一周：买了米和青菜".into(),
            photos: vec![photo.to_string()],
        };
        assert_eq!(
            step.save(&mut store, id, CommitmentAction::Progress)
                .unwrap(),
            CommitmentStatus::Promised
        );
        let detail = CommitmentDetail::read(&store, id).unwrap();
        assert!(detail.mine_open);
        assert_eq!(detail.steps.len(), 1);
        assert_eq!(detail.steps[0].0.photos, [photo]);
        assert_eq!(detail.steps[0].1.len(), 1, "its thumbnail, from this phone");
        for lang in [Lang::Zh, Lang::En] {
            let d = detail.clone();
            let html = render(move || {
                rsx! {
                    CommitmentView { detail: d.clone(), form: StepForm::default(), thumbs: vec![], error: None, lang,
                        on_edit: |_| {}, on_photo: |_| {}, on_act: |_| {} }
                }
            });
            assert!(html.contains("第一周：买了米和青菜"));
            assert!(
                html.contains("data:image/jpeg;base64,"),
                "the evidence shows"
            );
            assert!(html.contains("data-action=\"commitment-fulfil\""));
            assert!(html.contains(CommitmentStatus::Promised.label(lang)));
        }

        StepForm {
            note: "坚持了一年".into(),
            photos: vec![],
        }
        .save(&mut store, id, CommitmentAction::Fulfil)
        .unwrap();
        let kept = CommitmentDetail::read(&store, id).unwrap();
        assert!(!kept.mine_open, "a kept promise takes no more steps");
        assert!(
            StepForm {
                note: "再记一次".into(),
                photos: vec![],
            }
            .save(&mut store, id, CommitmentAction::Progress)
            .is_err()
        );
        let html = render(move || {
            rsx! {
                CommitmentView { detail: kept.clone(), form: StepForm::default(), thumbs: vec![], error: None, lang: Lang::Zh,
                    on_edit: |_| {}, on_photo: |_| {}, on_act: |_| {} }
            }
        });
        assert!(!html.contains("commitment-progress") && html.contains("已践诺"));

        let others = store
            .commitments(grid, chrono::Datelike::year(&chrono::Utc::now()))
            .unwrap()
            .into_iter()
            .find(|c| c.id != id && Some(c.user_id) != store.session().unwrap().map(|s| s.user.id));
        if let Some(c) = others {
            assert!(!CommitmentDetail::read(&store, c.id).unwrap().mine_open);
        }
    }
}
