//! The dispatch board (问题调度) and the requests (群众点单): lists with filters, one issue or
//! order with its timeline, and the office's actions on them. Every action is one mutation
//! (`issue.event`, `order.event`, `order.create`) pushed through the same rules as a phone's;
//! the form carries the mutation's id, so a double-clicked button applies once.

use super::frame::{ConsoleForm, ConsoleUser, act, back_to, layout, notice, refused};
use super::page::{badge, code_select, grid_select, pager, when, word};
use crate::app::AppState;
use crate::app::Params;
use crate::app::commands::{Command, IssueStep, NewOrder, OrderStep, Outcome, derived_id};
use crate::error::ApiError;
use crate::store::Backend;
use crate::store::office::{self, IssueDetail, OrderDetail, Page, Person};
use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use chrono::Utc;
use gridmate_model::{
    IssueAction, IssueSource, IssueStatus, OrderAction, OrderKind, OrderSource, OrderStatus, Role,
    Satisfaction, UserId,
};
use gridmate_words::{Lang, Msg, Vocabulary};
use maud::{Markup, html};
use uuid::Uuid;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console/board", get(board))
        .route("/console/board/assign", post(bulk_assign))
        .route("/console/issues/{id}", get(issue_page).post(issue_act))
        .route("/console/issues/{id}/block-reporter", post(block_reporter))
        .route("/console/orders", get(orders))
        .route("/console/orders/new", get(new_order).post(create_order))
        .route("/console/orders/{id}", get(order_page).post(order_act))
}

/// `GET /console/board`: every issue of the user's grids that matches the filters, overdue
/// first; tick several to assign them at once.
async fn board(State(state): State<AppState>, user: ConsoleUser, q: Params) -> Response {
    let lang = user.lang;
    let (filter, mut paging) = match (q.issue_filter(), q.paging()) {
        (Ok(f), Ok(p)) => (f, p),
        (Err(e), _) | (_, Err(e)) => return refused(lang, e),
    };
    // The board opens on what needs the office: open issues.
    let mut filter = filter;
    if !q.0.contains_key("status") {
        filter.status = Some("open".into());
    }
    paging.limit = paging.limit.min(100);
    let p = user.principal.clone();
    let f = filter.clone();
    let answer = state
        .store
        .read(move |tx| {
            let names = office::Names::load(tx, &p)?;
            let page = office::issues(tx, &p, &f, paging, Utc::now())?;
            let people = office::people(tx, &p, f.grid)?;
            Ok((names, page, people))
        })
        .await;
    let (names, page, people): (office::Names, Page<office::IssueRow>, Vec<Person>) = match answer {
        Ok(a) => a,
        Err(e) => return refused(lang, e.into()),
    };
    let handlers: Vec<&Person> = people.iter().filter(|m| can_handle(m)).collect();
    let writes = !user.principal.reads_only();
    layout(&user, lang.t(Msg::OfficeDispatchBoard), "board").render(html! {
        h1 { (lang.t(Msg::OfficeDispatchBoard)) }
        (notice(lang, &q))
        form.filters method="get" action="/console/board" {
            (grid_select(lang, &names, filter.grid))
            (code_select(lang, "category", Vocabulary::IssueCategory, filter.category.as_deref(), lang.t(Msg::OfficeAllCategories), None))
            (code_select(lang, "status", Vocabulary::IssueStatus, filter.status.as_deref(), lang.t(Msg::OfficeEveryStatus), Some(("open", lang.t(Msg::OfficeNotClosed)))))
            (code_select(lang, "source", Vocabulary::IssueSource, filter.source.as_deref(), lang.t(Msg::OfficeAllSources), None))
            label.check { input type="checkbox" name="overdue" value="true" checked[filter.overdue]; (lang.t(Msg::OfficeOverdue)) }
            label.check { input type="checkbox" name="unassigned" value="true" checked[filter.unassigned]; (lang.t(Msg::OfficeUnassigned)) }
            input type="search" name="q" value=[filter.q.as_deref()] placeholder=(lang.t(Msg::OfficeNumberTitleOrDescription));
            button type="submit" { (lang.t(Msg::OfficeFilter)) }
        }
        form method="post" action="/console/board/assign" {
            input type="hidden" name="csrf" value=(user.csrf);
            @if writes { input type="hidden" name="mid" value=(Uuid::now_v7()); }
            table.list {
                thead { tr {
                    @if writes { th {} }
                    th { (lang.t(Msg::OfficeNo)) }
                    th { (lang.t(Msg::OfficeReportedAt)) } th { (lang.t(Msg::OfficeGrid)) }
                    th { (lang.t(Msg::FieldCategory)) } th { (lang.t(Msg::FieldTitle)) }
                    th { (lang.t(Msg::OfficeStatus)) } th { (lang.t(Msg::OfficeAssignee)) }
                    th { (lang.t(Msg::OfficeTimeLimit)) }
                } }
                tbody {
                    @for row in &page.items {
                        tr class=[row.overdue.then_some("overdue")] {
                            @if writes { td { input type="checkbox" name="issue" value=(row.issue.id) aria-label=(row.issue.title); } }
                            td.number { (row.issue.number.as_deref().unwrap_or("—")) }
                            td { (when(row.issue.reported_at)) }
                            td { (row.grid_name) }
                            td { (word(lang, Vocabulary::IssueCategory, &row.issue.category)) }
                            td { a href=(format!("/console/issues/{}", row.issue.id)) { (row.issue.title) } }
                            td { (badge(lang, Vocabulary::IssueStatus, &row.issue.status, row.overdue)) }
                            td { (row.assignee_name.as_deref().or(row.department_name.as_deref()).unwrap_or("—")) }
                            td { (row.issue.due_at.map(when).unwrap_or_default()) }
                        }
                    }
                    @if page.items.is_empty() {
                        tr { td colspan="9" .empty { (lang.t(Msg::OfficeNoIssueMatches)) } }
                    }
                }
            }
            (pager(lang, &q, "/console/board", page.total, page.offset, paging.limit))
            @if writes && !page.items.is_empty() {
                fieldset.bulk {
                    legend { (lang.t(Msg::OfficeAssignTheTicked)) }
                    (person_select(lang, "assignee", &handlers))
                    input type="text" name="note" maxlength="500" placeholder=(lang.t(Msg::OfficeNoteOptional));
                    button.primary type="submit" { (lang.t(Msg::OfficeAssign)) }
                }
            }
        }
    })
}

/// One step of an issue's or an order's timeline.
struct Step<'a> {
    at: chrono::DateTime<Utc>,
    action: &'a str,
    actor: &'a str,
    note: &'a str,
    /// Why the server kept it as a comment, when it did.
    merged_reason: Option<&'a str>,
    photos: &'a [String],
    /// What the photos show, for readers that cannot see them.
    photo_alt: &'a str,
}

impl Step<'_> {
    fn render(&self, lang: Lang) -> Markup {
        html! {
            li {
                span.when { (when(self.at)) }
                " " strong { (self.action) }
                " · " (self.actor)
                @if !self.note.is_empty() { p { (self.note) } }
                @if let Some(r) = self.merged_reason { p.merged { (lang.t(Msg::OfficeKeptAsAComment)) (r) } }
                @for sha in self.photos {
                    a href=(format!("/console/photos/{sha}")) { img.thumb src=(format!("/console/photos/{sha}")) alt=(self.photo_alt) loading="lazy"; }
                }
            }
        }
    }
}

/// One action the page offers, as a form.
struct ActionForm<'a> {
    /// Where it posts: the issue's or the order's page.
    url: String,
    code: &'a str,
    label: &'a str,
    note_required: bool,
    primary: bool,
}

impl ActionForm<'_> {
    /// The form: its own mutation id (a second click is a duplicate, applied once), the
    /// session's CSRF token, the fields the action needs, a note.
    fn render(&self, lang: Lang, csrf: &str, fields: Markup) -> Markup {
        html! {
            form.action method="post" action=(self.url) {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="mid" value=(Uuid::now_v7());
                input type="hidden" name="action" value=(self.code);
                (fields)
                input type="text" name="note" maxlength="2000" required[self.note_required] placeholder=(lang.t(Msg::FieldNote));
                button class=(if self.primary { "primary" } else { "" }) type="submit" { (self.label) }
            }
        }
    }
}

/// Who can take an issue on: workers, leaders and party members.
fn can_handle(m: &Person) -> bool {
    m.roles.iter().any(|r| {
        matches!(
            Role::from_code(r),
            Some(Role::GridWorker | Role::GridLeader | Role::PartyMember)
        )
    })
}

fn person_select(lang: Lang, name: &str, people: &[&Person]) -> Markup {
    html! {
        select name=(name) required {
            option value="" { (lang.t(Msg::OfficeChooseAPerson)) }
            @for m in people {
                option value=(m.id) {
                    (m.name) "（"
                    @for (i, r) in m.roles.iter().enumerate() {
                        @if i > 0 { "、" }
                        (word(lang, Vocabulary::Role, r))
                    }
                    "）"
                }
            }
        }
    }
}

/// `POST /console/board/assign`: one `issue.event` assign per ticked issue.
async fn bulk_assign(
    State(state): State<AppState>,
    ConsoleForm { user, form: posted }: ConsoleForm,
) -> Response {
    let lang = user.lang;
    let mid = match posted.form_id(lang) {
        Ok(mid) => mid,
        Err(e) => return refused(lang, e),
    };
    let Some(assignee) = posted.get("assignee").and_then(|a| a.parse::<Uuid>().ok()) else {
        return refused(
            lang,
            ApiError::BadRequest(lang.t(Msg::OfficeChooseWhoTakes).into()),
        );
    };
    let note = posted.get("note").unwrap_or("").to_string();
    let ids: Vec<Uuid> = posted.all("issue").filter_map(|i| i.parse().ok()).collect();
    let (mut done, mut not_done) = (0, Vec::new());
    for issue in ids.iter().take(office::MAX_PAGE as usize) {
        // One mutation per issue, named from the form's id and the issue: the same form sent
        // again (a double click, a browser's resubmit) is the same mutations, answered as
        // duplicates.
        let mutation = derived_id(mid, issue.as_bytes());
        let step = Command::Issue(IssueStep {
            issue: *issue,
            action: IssueAction::Assign,
            note: note.clone(),
            assignee: Some(assignee),
            department: None,
            duplicate_of: None,
        });
        match act(&state, &user, mutation, step).await {
            Ok(Outcome::Done) => done += 1,
            Ok(Outcome::KeptAsComment(m) | Outcome::Refused(m)) => not_done.push(m),
            Err(e) => return refused(lang, e),
        }
    }
    if not_done.is_empty() {
        back_to("/console/board", Outcome::Done)
    } else {
        let summary = lang.fill(
            Msg::OfficeAssignedSome,
            &[
                &done,
                &not_done.len(),
                &not_done.join(lang.t(Msg::OfficeSemicolon)),
            ],
        );
        back_to("/console/board", Outcome::Refused(summary))
    }
}

/// `GET /console/issues/{id}`: the issue, its photos, where it is, its timeline, and the
/// actions the office may take from its status.
async fn issue_page(
    State(state): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<Uuid>,
    q: Params,
) -> Response {
    let lang = user.lang;
    let p = user.principal.clone();
    let answer = state
        .store
        .read(move |tx| {
            let detail = office::issue(tx, &p, id, Utc::now())?;
            let people = match &detail {
                Some(d) => office::people(tx, &p, Some(d.issue.issue.grid_id))?,
                None => Vec::new(),
            };
            let names = office::Names::load(tx, &p)?;
            Ok((detail, people, names))
        })
        .await;
    let (detail, people, names): (Option<IssueDetail>, Vec<Person>, office::Names) = match answer {
        Ok(a) => a,
        Err(e) => return refused(lang, e.into()),
    };
    let Some(d) = detail else {
        return refused(
            lang,
            ApiError::NotFound(lang.t(Msg::OfficeNoSuchIssue).into()),
        );
    };
    let i = &d.issue.issue;
    let status = IssueStatus::from_code(&i.status);
    let actions: Vec<IssueAction> = status
        .map(|s| gridmate_model::issue::allowed_actions(s, &user.principal.roles))
        .unwrap_or_default();
    let handlers: Vec<&Person> = people.iter().filter(|m| can_handle(m)).collect();
    let title = i.title.clone();
    layout(&user, &title, "board").render(html! {
        p.crumbs { a href="/console/board" { (lang.t(Msg::OfficeDispatchBoard)) } " › " (i.title) }
        (notice(lang, &q))
        section.card {
            h1 { @if let Some(n) = &i.number { span.number { (n) } " " } (i.title) " " (badge(lang, Vocabulary::IssueStatus, &i.status, d.issue.overdue)) }
            dl.facts {
                dt { (lang.t(Msg::OfficeGrid)) } dd { (d.issue.grid_name) }
                dt { (lang.t(Msg::FieldCategory)) } dd { (word(lang, Vocabulary::IssueCategory, &i.category)) " · " (word(lang, Vocabulary::Severity, &i.severity)) }
                dt { (lang.t(Msg::OfficeSource)) } dd { (word(lang, Vocabulary::IssueSource, &i.source))
                    @if i.unverified { " · " span.badge.open { (lang.t(Msg::OfficeUnverifiedResident)) } } }
                @if let Some(s) = &i.satisfaction { dt { (lang.t(Msg::OfficeFeedback)) } dd { (word(lang, Vocabulary::Satisfaction, s)) } }
                @if i.source == IssueSource::Resident.code() && user.principal.has(Role::CommunityAdmin) {
                    dt {} dd {
                        form.inline method="post" action=(format!("/console/issues/{}/block-reporter", i.id)) {
                            input type="hidden" name="csrf" value=(user.csrf);
                            button.link type="submit" { (lang.t(Msg::OfficeBlockThisNumber)) }
                        }
                    }
                }
                dt { (lang.t(Msg::OfficeReportedOn)) } dd { (when(i.reported_at)) " · " (d.issue.reporter_name.as_deref().unwrap_or("—")) }
                dt { (lang.t(Msg::OfficeAssignee)) } dd { (d.issue.assignee_name.as_deref().unwrap_or("—")) }
                @if let Some(dep) = &d.issue.department_name { dt { (lang.t(Msg::OfficeDepartment)) } dd { (dep) } }
                dt { (lang.t(Msg::OfficeTimeLimit)) } dd { (i.due_at.map(when).unwrap_or_else(|| "—".into())) }
                @if let Some(loc) = &i.location {
                    dt { (lang.t(Msg::FieldLocation)) } dd { (format!("{:.5}, {:.5}", loc.lat, loc.lon))
                        @if let Some(a) = loc.accuracy_m { " (±" (a.round()) " m)" } }
                }
            }
            p.description { (i.description) }
            (place_svg(lang, &d))
            @if !i.photos.is_empty() {
                div.photos {
                    @for sha in &i.photos {
                        a href=(format!("/console/photos/{sha}")) { img src=(format!("/console/photos/{sha}")) alt=(lang.t(Msg::OfficeSitePhoto)) loading="lazy"; }
                    }
                }
            }
        }
        section.card {
            h2 { (lang.t(Msg::OfficeTimeline)) }
            ol.timeline {
                @for e in &d.events {
                    (Step {
                        at: e.event.at,
                        action: word(lang, Vocabulary::IssueAction, &e.event.action),
                        actor: e.actor_name.as_deref().unwrap_or("—"),
                        note: &e.event.note,
                        merged_reason: e.event.merged_reason.as_deref(),
                        photos: &e.event.photos,
                        photo_alt: lang.t(Msg::OfficeWorkPhoto),
                    }.render(lang))
                }
                @if d.events.is_empty() { li.empty { (lang.t(Msg::OfficeNothingDoneYet)) } }
            }
        }
        @if !user.principal.reads_only() {
            section.card.actions {
                h2 { (lang.t(Msg::OfficeAct)) }
                @for action in &actions {
                    (ActionForm {
                        url: format!("/console/issues/{}", i.id),
                        code: action.code(),
                        label: word(lang, Vocabulary::IssueAction, action.code()),
                        note_required: *action == IssueAction::Comment || *action == IssueAction::Reopen,
                        primary: *action == IssueAction::Close,
                    }.render(
                        lang,
                        &user.csrf,
                        html! {
                            @match action {
                                IssueAction::Assign => { (person_select(lang, "assignee", &handlers)) }
                                IssueAction::Escalate => {
                                    select name="department" required {
                                        option value="" { (lang.t(Msg::OfficeChooseADepartment)) }
                                        @for (id, name) in &names.departments { option value=(id) { (name) } }
                                    }
                                }
                                IssueAction::RejectDuplicate => {
                                    select name="duplicate_of" required {
                                        option value="" { (lang.t(Msg::OfficeDuplicateOfTheNearby)) }
                                        @for n in &d.nearby { option value=(n.issue.id) { (when(n.issue.reported_at)) " " (n.issue.title) } }
                                    }
                                }
                                _ => {}
                            }
                        },
                    ))
                }
            }
        }
        @if !d.nearby.is_empty() {
            section.card {
                h2 { (lang.t(Msg::OfficeOpenIssuesNearby)) }
                ul { @for n in &d.nearby { li { a href=(format!("/console/issues/{}", n.issue.id)) { (n.issue.title) } " · " (when(n.issue.reported_at)) " · " (badge(lang, Vocabulary::IssueStatus, &n.issue.status, n.overdue)) } } }
            }
        }
    })
}

/// `POST /console/issues/{id}`: one `issue.event`.
async fn issue_act(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    ConsoleForm { user, form: posted }: ConsoleForm,
) -> Response {
    let lang = user.lang;
    let mid = match posted.form_id(lang) {
        Ok(mid) => mid,
        Err(e) => return refused(lang, e),
    };
    let uuid = |k: &str| posted.get(k).and_then(|v| v.parse::<Uuid>().ok());
    let Some(action) = posted.get("action").and_then(IssueAction::from_code) else {
        return refused(lang, ApiError::BadRequest("no such action".into()));
    };
    let step = Command::Issue(IssueStep {
        issue: id,
        action,
        note: posted.get("note").unwrap_or("").to_string(),
        assignee: uuid("assignee"),
        department: uuid("department"),
        duplicate_of: uuid("duplicate_of"),
    });
    match act(&state, &user, mid, step).await {
        Ok(o) => back_to(&format!("/console/issues/{id}"), o),
        Err(e) => refused(lang, e),
    }
}

/// `POST /console/issues/{id}/block-reporter`: the community office stops an abusive number that
/// reported this issue from signing in on the resident page again (audited).
async fn block_reporter(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    ConsoleForm { user, .. }: ConsoleForm,
) -> Response {
    let lang = user.lang;
    if let Err(e) = crate::app::people::must_administer(&user.principal) {
        return refused(lang, e);
    }
    let (p, now) = (user.principal.clone(), Utc::now());
    match state
        .store
        .write(move |tx| crate::store::residents::block_reporter(tx, &p, id, now))
        .await
    {
        Ok(Some(_)) => back_to(&format!("/console/issues/{id}"), Outcome::Done),
        Ok(None) => refused(
            lang,
            ApiError::NotFound(lang.t(Msg::OfficeNotAResidentsReport).into()),
        ),
        Err(e) => refused(lang, e.into()),
    }
}

/// `GET /console/orders`: the requests of the user's grids.
async fn orders(State(state): State<AppState>, user: ConsoleUser, q: Params) -> Response {
    let lang = user.lang;
    let (mut filter, mut paging) = match (q.order_filter(), q.paging()) {
        (Ok(f), Ok(p)) => (f, p),
        (Err(e), _) | (_, Err(e)) => return refused(lang, e),
    };
    if !q.0.contains_key("status") {
        filter.status = Some("open".into());
    }
    paging.limit = paging.limit.min(100);
    let p = user.principal.clone();
    let f = filter.clone();
    let answer = state
        .store
        .read(move |tx| {
            Ok((
                office::Names::load(tx, &p)?,
                office::orders(tx, &p, &f, paging, Utc::now())?,
            ))
        })
        .await;
    let (names, page) = match answer {
        Ok(a) => a,
        Err(e) => return refused(lang, e.into()),
    };
    layout(&user, lang.t(Msg::OfficeResidentRequests), "orders").render(html! {
        h1 { (lang.t(Msg::OfficeResidentRequests)) }
        (notice(lang, &q))
        @if !user.principal.reads_only() {
            p { a.button href="/console/orders/new" { (lang.t(Msg::OfficeRecordARequest)) } }
        }
        form.filters method="get" action="/console/orders" {
            (grid_select(lang, &names, filter.grid))
            (code_select(lang, "kind", Vocabulary::OrderKind, filter.kind.as_deref(), lang.t(Msg::OfficeAllKinds), None))
            (code_select(lang, "status", Vocabulary::OrderStatus, filter.status.as_deref(), lang.t(Msg::OfficeEveryStatus), Some(("open", lang.t(Msg::OfficeNotClosed)))))
            label.check { input type="checkbox" name="overdue" value="true" checked[filter.overdue]; (lang.t(Msg::OfficeOverdue)) }
            label.check { input type="checkbox" name="unassigned" value="true" checked[filter.unassigned]; (lang.t(Msg::OfficeNotDispatched)) }
            input type="search" name="q" value=[filter.q.as_deref()] placeholder=(lang.t(Msg::OfficeTitleRequesterOrAddress));
            button type="submit" { (lang.t(Msg::OfficeFilter)) }
        }
        table.list {
            thead { tr {
                th { (lang.t(Msg::OfficeNo)) }
                th { (lang.t(Msg::OfficeRecordedAt)) } th { (lang.t(Msg::OfficeGrid)) } th { (lang.t(Msg::OfficeKind)) }
                th { (lang.t(Msg::OfficeRequest)) } th { (lang.t(Msg::OfficeRequester)) } th { (lang.t(Msg::OfficeStatus)) }
                th { (lang.t(Msg::OfficeTakenBy)) } th { (lang.t(Msg::OfficeTimeLimit)) }
            } }
            tbody {
                @for row in &page.items {
                    tr class=[row.overdue.then_some("overdue")] {
                        td.number { (row.order.number.as_deref().unwrap_or("—")) }
                        td { (when(row.order.recorded_at)) }
                        td { (row.grid_name) }
                        td { (word(lang, Vocabulary::OrderKind, &row.order.kind)) }
                        td { a href=(format!("/console/orders/{}", row.order.id)) { (row.order.title) } }
                        td { (row.order.requester) }
                        td { (badge(lang, Vocabulary::OrderStatus, &row.order.status, row.overdue)) }
                        td { (row.taker_name.as_deref().or(row.assignee_name.as_deref()).unwrap_or("—")) }
                        td { (when(row.order.due_at)) }
                    }
                }
                @if page.items.is_empty() { tr { td colspan="9" .empty { (lang.t(Msg::OfficeNoRequestMatches)) } } }
            }
        }
        (pager(lang, &q, "/console/orders", page.total, page.offset, paging.limit))
    })
}

/// `GET /console/orders/{id}`: one request, its steps, and what the office may do next.
async fn order_page(
    State(state): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<Uuid>,
    q: Params,
) -> Response {
    let lang = user.lang;
    let p = user.principal.clone();
    let answer = state
        .store
        .read(move |tx| {
            let d = office::order(tx, &p, id, Utc::now())?;
            Ok((d, office::Names::load(tx, &p)?))
        })
        .await;
    let (detail, names): (Option<OrderDetail>, office::Names) = match answer {
        Ok(a) => a,
        Err(e) => return refused(lang, e.into()),
    };
    let Some(d) = detail else {
        return refused(
            lang,
            ApiError::NotFound(lang.t(Msg::OfficeNoSuchRequest).into()),
        );
    };
    let o = &d.order.order;
    let parties = gridmate_model::OrderParties {
        actor: UserId(user.principal.user_id),
        assignee: o.assignee_id.map(UserId),
        taker: o.taker_id.map(UserId),
    };
    let actions: Vec<OrderAction> = OrderStatus::from_code(&o.status)
        .map(|s| gridmate_model::order::allowed_actions(s, &user.principal.roles, parties))
        .unwrap_or_default();
    let members: Vec<&Person> = d.members.iter().collect();
    let title = o.title.clone();
    layout(&user, &title, "orders").render(html! {
        p.crumbs { a href="/console/orders" { (lang.t(Msg::OfficeResidentRequests)) } " › " (o.title) }
        (notice(lang, &q))
        section.card {
            h1 { @if let Some(n) = &o.number { span.number { (n) } " " } (o.title) " " (badge(lang, Vocabulary::OrderStatus, &o.status, d.order.overdue)) }
            dl.facts {
                dt { (lang.t(Msg::OfficeGrid)) } dd { (d.order.grid_name) }
                dt { (lang.t(Msg::OfficeKind)) } dd { (word(lang, Vocabulary::OrderKind, &o.kind)) " · " (word(lang, Vocabulary::OrderSource, &o.source)) }
                dt { (lang.t(Msg::OfficeRequester)) } dd { (o.requester) @if !o.address.is_empty() { " · " (o.address) } }
                dt { (lang.t(Msg::OfficeRecordedOn)) } dd { (when(o.recorded_at)) " · " (names.person(Some(o.recorded_by)).unwrap_or_default()) }
                dt { (lang.t(Msg::OfficeSentTo)) } dd { (d.order.assignee_name.as_deref().unwrap_or(if o.status == "dispatched" { lang.t(Msg::OfficeOpenToTheGrid) } else { "—" })) }
                dt { (lang.t(Msg::OfficeTakenBy)) } dd { (d.order.taker_name.as_deref().unwrap_or("—")) }
                dt { (lang.t(Msg::OfficeTimeLimit)) } dd { (when(o.due_at)) }
                @if let Some(s) = &o.satisfaction { dt { (lang.t(Msg::OfficeFeedback)) } dd { (word(lang, Vocabulary::Satisfaction, s)) } }
            }
            p.description { (o.description) }
        }
        section.card {
            h2 { (lang.t(Msg::OfficeOrderSteps)) }
            ol.timeline {
                @for e in &d.events {
                    (Step {
                        at: e.at,
                        action: word(lang, Vocabulary::OrderAction, &e.action),
                        actor: &names.person(Some(e.actor_id)).unwrap_or_default(),
                        note: &e.note,
                        merged_reason: e.merged_reason.as_deref(),
                        photos: &e.photos,
                        photo_alt: lang.t(Msg::OfficeServicePhoto),
                    }.render(lang))
                }
                @if d.events.is_empty() { li.empty { (lang.t(Msg::OfficeNoStepYet)) } }
            }
        }
        @if !user.principal.reads_only() {
            section.card.actions {
                h2 { (lang.t(Msg::OfficeAct)) }
                @for action in &actions {
                    (ActionForm {
                        url: format!("/console/orders/{}", o.id),
                        code: action.code(),
                        label: word(lang, Vocabulary::OrderAction, action.code()),
                        note_required: *action == OrderAction::Comment || *action == OrderAction::Cancel,
                        primary: *action == OrderAction::Dispatch,
                    }.render(
                        lang,
                        &user.csrf,
                        html! {
                            @match action {
                                OrderAction::Dispatch => {
                                    select name="assignee" {
                                        option value="" { (lang.t(Msg::OfficeOpenToTheGrid)) }
                                        @for m in &members { option value=(m.id) { (m.name) } }
                                    }
                                }
                                OrderAction::Confirm => {
                                    select name="satisfaction" required {
                                        option value="" { (lang.t(Msg::OfficeResidentsFeedback)) }
                                        @for code in Vocabulary::Satisfaction.codes() { option value=(code) { (word(lang, Vocabulary::Satisfaction, code)) } }
                                    }
                                }
                                _ => {}
                            }
                        },
                    ))
                }
            }
        }
    })
}

/// `POST /console/orders/{id}`: one `order.event`.
async fn order_act(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    ConsoleForm { user, form: posted }: ConsoleForm,
) -> Response {
    let lang = user.lang;
    let mid = match posted.form_id(lang) {
        Ok(mid) => mid,
        Err(e) => return refused(lang, e),
    };
    let Some(action) = posted.get("action").and_then(OrderAction::from_code) else {
        return refused(lang, ApiError::BadRequest("no such action".into()));
    };
    let satisfaction = match posted.get("satisfaction").filter(|s| !s.is_empty()) {
        None => None,
        Some(code) => match Satisfaction::from_code(code) {
            Some(s) => Some(s),
            None => {
                return refused(
                    lang,
                    ApiError::BadRequest(format!("no satisfaction {code:?}")),
                );
            }
        },
    };
    let step = Command::Order(OrderStep {
        order: id,
        action,
        note: posted.get("note").unwrap_or("").to_string(),
        assignee: posted.get("assignee").and_then(|v| v.parse::<Uuid>().ok()),
        satisfaction,
    });
    match act(&state, &user, mid, step).await {
        Ok(o) => back_to(&format!("/console/orders/{id}"), o),
        Err(e) => refused(lang, e),
    }
}

/// `GET /console/orders/new`: a resident's request taken by phone or at the desk.
async fn new_order(State(state): State<AppState>, user: ConsoleUser, q: Params) -> Response {
    let lang = user.lang;
    let p = user.principal.clone();
    let names = match state
        .store
        .read(move |tx| office::Names::load(tx, &p))
        .await
    {
        Ok(n) => n,
        Err(e) => return refused(lang, e.into()),
    };
    layout(&user, lang.t(Msg::OfficeRecordARequest), "orders").render(html! {
        p.crumbs { a href="/console/orders" { (lang.t(Msg::OfficeResidentRequests)) } " › " (lang.t(Msg::OfficeNew)) }
        (notice(lang, &q))
        section.card {
            h1 { (lang.t(Msg::OfficeRecordARequest)) }
            form.stack method="post" action="/console/orders/new" {
                input type="hidden" name="csrf" value=(user.csrf);
                input type="hidden" name="mid" value=(Uuid::now_v7());
                label { (lang.t(Msg::OfficeGrid))
                    select name="grid" required { @for (id, name) in &names.grids { option value=(id) { (name) } } } }
                label { (lang.t(Msg::OfficeKind))
                    select name="kind" required { @for code in Vocabulary::OrderKind.codes() { option value=(code) { (word(lang, Vocabulary::OrderKind, code)) } } } }
                label { (lang.t(Msg::OfficeTaken))
                    select name="source" required {
                        option value="phone" { (word(lang, Vocabulary::OrderSource, "phone")) }
                        option value="desk" { (word(lang, Vocabulary::OrderSource, "desk")) }
                    } }
                label { (lang.t(Msg::OfficeRequester)) input type="text" name="requester" required maxlength="50"; }
                label { (lang.t(Msg::OfficeHouseholdBuildingUnit))
                    input type="text" name="room" maxlength="40" placeholder="12-2-301"; }
                label { (lang.t(Msg::OfficeRequest)) input type="text" name="title" required maxlength="100"; }
                label { (lang.t(Msg::OfficeDetails)) textarea name="description" maxlength="2000" rows="4" {} }
                button.primary type="submit" { (lang.t(Msg::OfficeRecordIt)) }
            }
        }
    })
}

/// `POST /console/orders/new`: one `order.create`.
async fn create_order(
    State(state): State<AppState>,
    ConsoleForm { user, form: posted }: ConsoleForm,
) -> Response {
    let lang = user.lang;
    let (Some(mid), Some(grid)) = (
        posted.get("mid").and_then(|v| v.parse::<Uuid>().ok()),
        posted.get("grid").and_then(|v| v.parse::<Uuid>().ok()),
    ) else {
        return refused(
            lang,
            ApiError::BadRequest(lang.t(Msg::OfficeChooseAGrid).into()),
        );
    };
    // A room named: the request is the household's, or nothing is recorded.
    let room = posted.get("room").unwrap_or("").trim().to_string();
    let household = if room.is_empty() {
        None
    } else {
        let p = user.principal.clone();
        let text = room.clone();
        match state
            .store
            .read(move |tx| office::household_at(tx, &p, grid, &text))
            .await
        {
            Ok(Some(h)) => Some(h),
            Ok(None) => {
                return refused(
                    lang,
                    ApiError::Unprocessable {
                        code: "invalid",
                        message: format!("{}{room}", lang.t(Msg::OfficeNoHouseholdOfThat)),
                    },
                );
            }
            Err(e) => return refused(lang, e.into()),
        }
    };
    let (Some(kind), Some(source)) = (
        posted.get("kind").and_then(OrderKind::from_code),
        posted.get("source").and_then(OrderSource::from_code),
    ) else {
        return refused(
            lang,
            ApiError::BadRequest(lang.t(Msg::OfficeChooseTheKind).into()),
        );
    };
    let order = Command::NewOrder(NewOrder {
        grid,
        household,
        kind,
        source,
        title: posted.get("title").unwrap_or("").to_string(),
        description: posted.get("description").unwrap_or("").to_string(),
        requester: posted.get("requester").unwrap_or("").to_string(),
    });
    // The order is named by the form's mutation id: a second click finds the same order.
    match act(&state, &user, mid, order).await {
        Ok(Outcome::Done) => back_to(&format!("/console/orders/{mid}"), Outcome::Done),
        Ok(o) => back_to("/console/orders/new", o),
        Err(e) => refused(lang, e),
    }
}

/// Where the issue is on its grid: the outline, the base map's footprints and roads (or the
/// buildings as dots), the open issues nearby, and the issue itself — at its fix, or else at its
/// building's entrance.
fn place_svg(lang: Lang, d: &office::IssueDetail) -> Markup {
    let place = &d.place;
    let i = &d.issue.issue;
    let at = |o: &office::IssueRow| {
        o.issue.location.map(|l| (l.lon, l.lat)).or_else(|| {
            let b = place
                .buildings
                .iter()
                .find(|b| Some(b.0) == o.issue.building_id)?;
            Some((b.2, b.3))
        })
    };
    let (w, h): (f64, f64) = (520.0, 360.0);
    let Some(p) =
        super::page::Projection::fit(place.outline.iter().flatten().map(|c| (c[0], c[1])), w, h)
    else {
        return html! {};
    };
    let here = at(&d.issue);
    html! {
        figure.place {
            svg.chart.map xmlns="http://www.w3.org/2000/svg" width=(w) height=(h) role="img" {
                (super::page::grid_drawing(&p, place))
                @for n in &d.nearby {
                    @if let Some((x, y)) = at(n) {
                        circle.nearby cx=(format!("{:.1}", p.x(x))) cy=(format!("{:.1}", p.y(y))) r="6" { title { (n.issue.title) } }
                    }
                }
                @if let Some((x, y)) = here {
                    circle.here cx=(format!("{:.1}", p.x(x))) cy=(format!("{:.1}", p.y(y))) r="8" { title { (i.title) } }
                }
            }
            figcaption {
                @if here.is_some() {
                    (lang.t(Msg::OfficeRedThisIssue))
                } @else {
                    (lang.t(Msg::OfficeThisIssueHasNoRecorded))
                }
            }
        }
    }
}
