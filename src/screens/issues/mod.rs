//! The issue ledger: a filtered list (mine, my grid, status, category) and one issue's detail —
//! photos, the timeline of every step, and the actions the state machine allows this user's
//! roles from the issue's status. Steps the server merged or refused say so, with its reason.

use crate::draft::use_draft;
use crate::i18n::{ErrorWords, Labelled, Lang, Msg};
use crate::state::{Destination, Services, Ui, run_store, use_load, use_nav};
use crate::widgets::{
    CaseNumberLine, ErrorCard, Loading, PhotoButtons, PhotoStrip, StatusChip, TitleBar,
    category_icon, china_date, china_time, edit, thumb_urls,
};
use dioxus::prelude::*;
use gridmate_device::outbox::OutboxState;
use gridmate_device::{Delivery, IssueDetail, IssueFilter, IssueRow};
use gridmate_model::issue::allowed_actions;
use gridmate_model::{
    Department, DepartmentId, IssueAction, IssueCategory, IssueId, IssueStatus, PhotoRef, Role,
    UserId,
};
use serde::{Deserialize, Serialize};

/// Which slice of the ledger the list shows.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ListFilter {
    pub mine: bool,
    pub status: Option<IssueStatus>,
    pub category: Option<IssueCategory>,
}

/// Actions that need more than a note (a person to assign, the issue it duplicates) are done by
/// grid leaders on the office system; the phone offers the rest.
fn offered(status: IssueStatus, roles: &[Role]) -> Vec<IssueAction> {
    allowed_actions(status, roles)
        .into_iter()
        .filter(|a| !matches!(a, IssueAction::Assign | IssueAction::RejectDuplicate))
        .collect()
}

#[component]
pub fn IssueList(
    rows: Vec<IssueRow>,
    filter: ListFilter,
    lang: Lang,
    on_filter: EventHandler<ListFilter>,
    on_open: EventHandler<IssueId>,
) -> Element {
    rsx! {
        div { class: "filters",
            button { class: if !filter.mine { "chip on" } else { "chip" }, "data-filter": "grid",
                onclick: move |_| on_filter.call(ListFilter { mine: false, ..filter }), {lang.t(Msg::MyGrid)} }
            button { class: if filter.mine { "chip on" } else { "chip" }, "data-filter": "mine",
                onclick: move |_| on_filter.call(ListFilter { mine: true, ..filter }), {lang.t(Msg::Mine)} }
            select { name: "status",
                onchange: move |e: FormEvent| on_filter.call(ListFilter { status: IssueStatus::from_code(&e.value()), ..filter }),
                option { value: "", {lang.t(Msg::AllOpen)} }
                for s in IssueStatus::ALL.iter().copied() {
                    option { value: s.code(), selected: filter.status == Some(s), {s.label(lang)} }
                }
            }
            select { name: "category",
                onchange: move |e: FormEvent| on_filter.call(ListFilter { category: IssueCategory::from_code(&e.value()), ..filter }),
                option { value: "", {lang.t(Msg::AllKinds)} }
                for c in IssueCategory::ALL.iter().copied() {
                    option { value: c.code(), selected: filter.category == Some(c), {c.label(lang)} }
                }
            }
        }
        section { class: "card",
            h2 { {lang.t(Msg::IssuesTitle)} span { class: "count", " {rows.len()}" } }
            if rows.is_empty() { p { class: "empty", {lang.t(Msg::NoIssuesMatch)} } }
            ul {
                for i in rows.iter() {
                    li { class: "row issue-row", onclick: { let id = i.id; move |_| on_open.call(id) },
                        span { class: "cat-icon cat-{i.category.code()}", {category_icon(i.category)} }
                        span { class: "name", "{i.title}" }
                        span { class: "muted small",
                            if let Some(n) = &i.number { span { class: "number", "{n}" } " · " }
                            {china_date(i.reported_at)} " · " {i.severity.label(lang)}
                        }
                        StatusChip { status: i.status, lang }
                    }
                }
            }
        }
    }
}

#[component]
pub fn IssuesScreen() -> Element {
    let ui = use_context::<Ui>();
    let nav = use_nav();
    let lang = (ui.lang)();
    let mut filter = use_signal(|| ListFilter {
        mine: false,
        status: None,
        category: None,
    });
    let me: Option<UserId> = ui.session.read().as_ref().map(|s| s.user.id);
    let rows = use_resource(move || {
        let f = filter();
        let _ = (ui.refresh)();
        let services = consume_context::<Services>();
        async move {
            services
                .store
                .run(move |s| {
                    s.issues(&IssueFilter {
                        statuses: f.status.into_iter().collect(),
                        category: f.category,
                        reported_by: if f.mine { me } else { None },
                        limit: 200,
                        ..Default::default()
                    })
                })
                .await
                .map_err(|g| g.to_string())
                .and_then(|r| r.map_err(|e| lang.device_error(&e)))
        }
    });
    rsx! {
        TitleBar { title: lang.t(Msg::IssueLedger).to_string(), lang, on_back: None }
        button { class: "primary wide", "data-action": "report",
            onclick: move |_| nav.go(Destination::Report),
            {lang.t(Msg::ReportAProblem)} }
        match &*rows.read() {
            None => rsx! { Loading { lang } },
            Some(Err(e)) => rsx! { ErrorCard { message: e.clone() } },
            Some(Ok(r)) => rsx! {
                IssueList { rows: r.clone(), filter: filter(), lang, on_filter: move |f| filter.set(f), on_open: move |id| nav.go(Destination::Issue(id)) }
            },
        }
    }
}

#[component]
fn DeliveryNote(delivery: Option<Delivery>, merged_reason: Option<String>, lang: Lang) -> Element {
    rsx! {
        if let Some(d) = delivery {
            span { class: "tag state-{d.state.code()}",
                {match d.state {
                    OutboxState::Pending => lang.t(Msg::NotUploaded),
                    OutboxState::Merged => lang.t(Msg::KeptAsAComment),
                    OutboxState::Failed => lang.t(Msg::RefusedByServer),
                    OutboxState::Acked => "",
                }}
                if d.state != OutboxState::Pending { "：" {lang.server_refusal(d.code.as_deref())} }
            }
        }
        // The server keeps "ACTION: why" for an action it turned into a comment; the action is
        // what the user needs to know ("核查销号 was kept as a comment").
        if let Some(r) = merged_reason {
            span { class: "tag state-merged", {lang.t(Msg::KeptAsAComment)}
                if let Some(a) = r.split(':').next().and_then(IssueAction::from_code) { "：" {a.label(lang)} }
            }
        }
    }
}

/// One issue, its timeline, and what this user may do next.
#[component]
pub fn IssueView(
    detail: IssueDetail,
    thumbs: Vec<String>,
    roles: Vec<Role>,
    me: Option<UserId>,
    departments: Vec<Department>,
    form: ActionForm,
    error: Option<String>,
    lang: Lang,
    on_note: EventHandler<String>,
    on_photo: EventHandler<Option<Vec<u8>>>,
    on_department: EventHandler<String>,
    on_action: EventHandler<IssueAction>,
) -> Element {
    let i = &detail.issue;
    let actions = offered(i.status, &roles);
    let escalates = actions.contains(&IssueAction::Escalate) && !departments.is_empty();
    let chosen = form.department.clone();
    rsx! {
        div { class: "issue-head",
            span { class: "cat-icon cat-{i.category.code()}", {category_icon(i.category)} }
            div {
                p { class: "sub", {i.category.label(lang)} " · " {i.severity.label(lang)} " · " {detail.source.label(lang)} }
                CaseNumberLine { number: i.number.clone(), lang }
                StatusChip { status: i.status, lang }
                DeliveryNote { delivery: detail.delivery.clone(), merged_reason: None, lang }
            }
        }
        section { class: "card",
            if let Some(a) = &detail.household_address { p { class: "sub", {lang.t(Msg::Where)} "{a}" } }
            else if let Some(b) = &detail.building_number { p { class: "sub", {lang.t(Msg::Where)} "{b}" {lang.t(Msg::BuildingSuffix)} } }
            p { class: "description", "{detail.description}" }
            PhotoStrip { thumbs }
            p { class: "muted small", {lang.t(Msg::ReportedAt)} {china_time(i.reported_at)} }
        }
        section { class: "card timeline",
            h2 { {lang.t(Msg::Timeline)} }
            if detail.events.is_empty() { p { class: "empty", {lang.t(Msg::NothingDoneYet)} } }
            ol {
                for e in detail.events.iter() {
                    li { class: "event",
                        span { class: "when", {china_time(e.event.at)} }
                        b { {e.event.action.label(lang)} }
                        span { class: "muted", " · " {if Some(e.event.actor) == me { lang.t(Msg::Me) } else { lang.t(Msg::Colleague) }} }
                        if !e.event.note.is_empty() { p { "{e.event.note}" } }
                        if !e.event.photos.is_empty() { span { class: "muted small", {lang.t(Msg::PhotosCount)} "{e.event.photos.len()}" } }
                        DeliveryNote { delivery: e.delivery.clone(), merged_reason: e.event.merged_reason.clone(), lang }
                    }
                }
            }
        }
        section { class: "card act",
            h2 { {lang.t(Msg::Act)} }
            textarea { name: "note", rows: "3", initial_value: "{form.note}",
                placeholder: lang.t(Msg::NoteRequiredForAComment),
                oninput: move |e| on_note.call(e.value()) }
            PhotoButtons { count: form.photos.len(), lang, on_photo }
            if escalates {
                p { class: "sub", {lang.t(Msg::EscalateTo)} }
                div { class: "chips departments",
                    for dept in departments.iter() {
                        button { r#type: "button", "data-department": "{dept.name}",
                            class: if chosen.as_deref() == Some(dept.id.to_string().as_str()) { "chip on" } else { "chip" },
                            onclick: { let id = dept.id.to_string(); move |_| on_department.call(id.clone()) },
                            "{dept.name}" }
                    }
                }
            }
            if let Some(e) = error { p { class: "error-card", role: "alert", "{e}" } }
            div { class: "action-buttons",
                for a in actions {
                    button { class: if a == IssueAction::Comment { "secondary" } else { "primary" },
                        "data-issue-action": a.code(),
                        onclick: move |_| on_action.call(a),
                        {a.label(lang)} }
                }
            }
        }
    }
}

/// What the user is adding to an issue: a note and photos; also the draft's JSON.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ActionForm {
    pub note: String,
    pub photos: Vec<String>,
    /// For escalate: the department chosen from the synced list.
    #[serde(default)]
    pub department: Option<String>,
}

impl ActionForm {
    pub fn draft_key(issue: IssueId) -> String {
        format!("issue:{issue}")
    }
}

#[component]
pub fn IssueScreen(issue: IssueId) -> Element {
    let ui = use_context::<Ui>();
    let nav = use_nav();
    let services = use_context::<Services>();
    let lang = (ui.lang)();
    let draft = use_draft(ActionForm::draft_key(issue), ActionForm::default);
    let mut error = use_signal(|| None::<String>);
    // Bumped after an action is saved: the note field is uncontrolled, so it is drawn anew.
    let mut generation = use_signal(|| 0u32);
    let data = use_load(move |s| {
        let d = s.issue(issue)?;
        let t = thumb_urls(s, &d.photos);
        Ok((d, t, s.departments()?))
    });
    let session = ui.session.read().clone();
    let roles = session
        .as_ref()
        .map(|s| s.user.roles.clone())
        .unwrap_or_default();
    let me = session.as_ref().map(|s| s.user.id);
    let on_photo = move |bytes| draft.add_photo(bytes, error, |f: &mut ActionForm| &mut f.photos);
    let on_action = move |a: IssueAction| {
        let f = draft.finish();
        let key = draft.key();
        let services = services.clone();
        spawn(async move {
            let department = f
                .department
                .as_deref()
                .and_then(|d| d.parse::<DepartmentId>().ok());
            if a == IssueAction::Escalate && department.is_none() {
                error.set(Some(lang.t(Msg::ChooseADepartment).to_string()));
                return;
            }
            let r = run_store(&services.store, lang, move |s| {
                let photos = f.photos.iter().filter_map(|p| PhotoRef::parse(p)).collect();
                match department.filter(|_| a == IssueAction::Escalate) {
                    Some(d) => s.escalate_issue(issue, d, &f.note, photos)?,
                    None => s.act_on_issue(issue, a, &f.note, photos)?,
                };
                s.discard_draft(&key)
            })
            .await;
            match r {
                Ok(()) => {
                    draft.reset(ActionForm::default());
                    generation += 1;
                    error.set(None);
                    ui.saved(&services, Msg::SavedItUploadsWhenOnline, None);
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    match &*data.read() {
        None => rsx! { Loading { lang } },
        Some(Err(e)) => rsx! { ErrorCard { message: e.clone() } },
        Some(Ok((d, t, departments))) => rsx! {
            TitleBar { title: d.issue.title.clone(), lang, on_back: move |_| nav.back() }
            if (draft.ready)() {
                IssueView {
                    key: "{generation}",
                    detail: d.clone(), thumbs: t.clone(), roles: roles.clone(), me,
                    departments: departments.clone(),
                    form: draft.form.cloned(), error: error(), lang,
                    on_note: move |t: String| draft.edit(edit(move |f: &mut ActionForm| f.note = t.clone())),
                    on_photo, on_action,
                    on_department: move |id: String| draft.edit(edit(move |f: &mut ActionForm| f.department = Some(id.clone()))),
                }
            }
        },
    }
}

#[cfg(test)]
mod tests;
