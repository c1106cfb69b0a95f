//! A signed-in resident's own things: 我的诉求 (each item with its steps in plain words), the
//! form to report a problem (反映) with up to three photos, and the rating when it ends
//! (满意 / 基本满意 / 不满意 — 不满意 sends it back for handling). What they write goes through
//! the office's one write path as typed commands ([`crate::app::commands`]), as the resident.

use super::frame::{self, Resident, page, refusal};
use crate::app::AppState;
use crate::app::commands::{self, Command, Outcome, ResidentReport};
use crate::error::ApiError;
use crate::ledger::local;
use crate::store::Backend;
use crate::store::residents::{self, ResidentItem};
use axum::extract::{Form, Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use gridmate_model::validate::limits;
use gridmate_model::{IssueAction, IssueCategory, IssueStatus, Satisfaction};
use gridmate_words::{Lang, Msg, Vocabulary};
use maud::{Markup, html};
use uuid::Uuid;

/// Photos a report may carry.
pub const MAX_PHOTOS: usize = 3;
/// Open reports a resident may have at once: more waits until one ends.
pub const OPEN_CAP: usize = 10;

/// What a step of an issue is called on the resident's page: plain words, not the office's.
fn step_words(lang: Lang, action: &str) -> Option<&'static str> {
    let msg = match IssueAction::from_code(action)? {
        IssueAction::Accept => Msg::ResidentStepAccepted,
        IssueAction::Assign => Msg::ResidentStepAssigned,
        IssueAction::Start => Msg::ResidentStepStarted,
        IssueAction::Resolve | IssueAction::ResolveOnSpot => Msg::ResidentStepResolved,
        IssueAction::Close => Msg::ResidentStepClosed,
        IssueAction::Escalate => Msg::ResidentStepEscalated,
        IssueAction::Reopen | IssueAction::SendBack => Msg::ResidentStepReopened,
        IssueAction::RejectDuplicate => Msg::ResidentStepMerged,
        IssueAction::Rate => Msg::ResidentStepRated,
        // The office's notes to each other stay theirs.
        IssueAction::Comment => return None,
    };
    Some(lang.t(msg))
}

fn status_of(item: &ResidentItem) -> Option<IssueStatus> {
    IssueStatus::from_code(&item.issue.status)
}

/// May the resident rate it now? When it was handled, and they have not rated this round.
fn rateable(item: &ResidentItem) -> bool {
    matches!(
        status_of(item),
        Some(IssueStatus::Resolved | IssueStatus::ResolvedOnSpot | IssueStatus::Closed)
    ) && !item
        .steps
        .iter()
        .rev()
        .take_while(|s| {
            !matches!(
                IssueAction::from_code(&s.action),
                Some(IssueAction::Resolve | IssueAction::ResolveOnSpot)
            )
        })
        .any(|s| s.action == IssueAction::Rate.code())
}

fn is_open(item: &ResidentItem) -> bool {
    !matches!(
        status_of(item),
        Some(IssueStatus::Closed | IssueStatus::RejectedDuplicate)
    )
}

async fn load(state: &AppState, r: &Resident) -> Result<Vec<ResidentItem>, ApiError> {
    let p = residents::principal(&r.account);
    Ok(state.store.read(move |tx| residents::items(tx, &p)).await?)
}

fn status_badge(lang: Lang, item: &ResidentItem) -> Markup {
    let open = is_open(item);
    html! {
        span.badge.open[open] { (Vocabulary::IssueStatus.word(&item.issue.status, lang)) }
    }
}

/// The resident's own item named by `id`. Another resident's id, a made-up one or no id at all
/// get the same "not yours".
async fn own_item(state: &AppState, r: &Resident, id: &str) -> Result<ResidentItem, Response> {
    let items = load(state, r).await.map_err(|e| frame::failed(r.lang, e))?;
    id.parse::<Uuid>()
        .ok()
        .and_then(|id| items.into_iter().find(|i| i.issue.id == id))
        .ok_or_else(|| {
            refusal(
                r.lang,
                StatusCode::NOT_FOUND,
                r.lang.t(Msg::ResidentNotYours),
            )
        })
}

/// `GET /resident/` signed in: their items, newest first, and the way to report.
pub async fn mine(state: &AppState, r: Resident) -> Response {
    let lang = r.lang;
    let items = match load(state, &r).await {
        Ok(i) => i,
        Err(e) => return frame::failed(lang, e),
    };
    page(
        lang,
        StatusCode::OK,
        lang.t(Msg::ResidentMyRequests),
        html! {
            @if !r.verified() {
                p.notice { (lang.t(Msg::ResidentNotYetConfirmed)) " "
                    a href="/resident/verify" { (lang.t(Msg::ResidentConfirmYourHome)) } }
            }
            p { a.button.primary href="/resident/ask" { (lang.t(Msg::ResidentReportAProblem)) } }
            @if items.is_empty() {
                p.hint { (lang.t(Msg::ResidentNothingYet)) }
            }
            ul.items {
                @for item in &items {
                    li {
                        a href={ "/resident/items/" (item.issue.id) } {
                            strong { (item.issue.title) }
                            " " (status_badge(lang, item))
                            br;
                            small {
                                (Vocabulary::IssueCategory.word(&item.issue.category, lang))
                                " · " (local(item.issue.reported_at))
                                @if let Some(n) = &item.issue.number { " · " (n) }
                            }
                            @if rateable(item) {
                                br; small.due { (lang.t(Msg::ResidentPleaseRate)) }
                            }
                        }
                    }
                }
            }
            p { a href="/resident/board" { (lang.t(Msg::ResidentPublicBoard)) } }
            form method="post" action="/resident/sign-out" {
                input type="hidden" name="csrf" value=(r.csrf);
                button.link type="submit" { (lang.t(Msg::SignOut)) }
            }
        },
    )
}

fn ask_form(
    r: &Resident,
    places: &residents::Places,
    status: StatusCode,
    error: Option<&str>,
) -> Response {
    let lang = r.lang;
    let mid = Uuid::now_v7();
    page(
        lang,
        status,
        lang.t(Msg::ResidentReportAProblem),
        html! {
            @if let Some(e) = error { p.bad role="alert" { (e) } }
            form method="post" action="/resident/ask" enctype="multipart/form-data" {
                input type="hidden" name="csrf" value=(r.csrf);
                input type="hidden" name="mid" value=(mid);
                label { (lang.t(Msg::ResidentWhatKind))
                    select name="category" required {
                        @for c in IssueCategory::ALL {
                            option value=(c.code()) { (Vocabulary::IssueCategory.word(c.code(), lang)) }
                        }
                    }
                }
                fieldset {
                    legend { (lang.t(Msg::ResidentWhere)) }
                    @if let Some(h) = &places.household {
                        label.choice { input type="radio" name="where" value="room" checked;
                            (lang.t(Msg::ResidentMyRoom)) " (" (h.address) ")" }
                        label.choice { input type="radio" name="where" value="building";
                            (lang.t(Msg::ResidentMyBuilding)) }
                    }
                    label.choice { input type="radio" name="where" value="public" checked[places.household.is_none()];
                        (lang.t(Msg::ResidentAPublicPlace)) }
                    label { (lang.t(Msg::ResidentWhichGrid))
                        select name="grid" {
                            @for (id, name) in &places.grids {
                                option value=(id) selected[places.household.as_ref().is_some_and(|h| h.grid_id == *id)] { (name) }
                            }
                        }
                    }
                }
                label { (lang.t(Msg::ResidentInAFewWords))
                    input type="text" name="title" maxlength=(limits::TITLE) required;
                }
                label { (lang.t(Msg::ResidentMoreDetail))
                    textarea name="description" rows="4" maxlength=(limits::TEXT) {}
                }
                label { (lang.t1(Msg::ResidentPhotosUpTo, MAX_PHOTOS))
                    input type="file" name="photo" accept="image/jpeg,image/*" multiple data-shrink="1600";
                }
                p.hint { (lang.t(Msg::ResidentPhotoHint)) }
                button.primary type="submit" { (lang.t(Msg::ResidentSend)) }
            }
        },
    )
}

async fn places(state: &AppState, r: &Resident) -> Result<residents::Places, ApiError> {
    let p = residents::principal(&r.account);
    Ok(state
        .store
        .read(move |tx| residents::places(tx, &p))
        .await?)
}

/// `GET /resident/ask`.
pub async fn ask_page(State(state): State<AppState>, r: Resident) -> Response {
    match places(&state, &r).await {
        Ok(places) => ask_form(&r, &places, StatusCode::OK, None),
        Err(e) => frame::failed(r.lang, e),
    }
}

/// The report's fields as posted.
#[derive(Default)]
struct Posted {
    fields: Vec<(String, String)>,
    photos: Vec<Vec<u8>>,
}

impl Posted {
    fn get(&self, key: &str) -> &str {
        frame::field(&self.fields, key)
    }
}

/// Why a posted report is refused, in the resident's words.
fn said(lang: Lang, msg: Msg) -> (StatusCode, String) {
    (StatusCode::UNPROCESSABLE_ENTITY, lang.t(msg).to_string())
}

async fn read_form(lang: Lang, mut form: Multipart) -> Result<Posted, (StatusCode, String)> {
    let mut posted = Posted::default();
    loop {
        let field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => return Ok(posted),
            Err(_) => {
                return Err((
                    StatusCode::PAYLOAD_TOO_LARGE,
                    lang.t(Msg::ResidentTooLarge).into(),
                ));
            }
        };
        let name = field.name().unwrap_or("").to_string();
        let bytes = field.bytes().await.map_err(|_| {
            (
                StatusCode::PAYLOAD_TOO_LARGE,
                lang.t(Msg::ResidentTooLarge).to_string(),
            )
        })?;
        if name == "photo" {
            // A file input left empty still sends an empty part.
            if !bytes.is_empty() {
                if posted.photos.len() == MAX_PHOTOS {
                    return Err(said(lang, Msg::ResidentTooManyPhotos));
                }
                posted.photos.push(bytes.to_vec());
            }
        } else if posted.fields.len() < 32 {
            let text =
                String::from_utf8(bytes.to_vec()).map_err(|_| said(lang, Msg::ResidentNotText))?;
            posted.fields.push((name, text));
        }
    }
}

/// `POST /resident/ask`: the report, as the resident, through the one write path.
pub async fn ask(State(state): State<AppState>, r: Resident, form: Multipart) -> Response {
    let lang = r.lang;
    let posted = match read_form(lang, form).await {
        Ok(p) => p,
        Err((status, text)) => return refusal(lang, status, &text),
    };
    if !r.checks(Some(posted.get("csrf"))) {
        return refusal(
            lang,
            StatusCode::FORBIDDEN,
            lang.t(Msg::ResidentFormExpired),
        );
    }
    let places = match places(&state, &r).await {
        Ok(p) => p,
        Err(e) => return frame::failed(lang, e),
    };
    let again = |msg: Msg| {
        ask_form(
            &r,
            &places,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(lang.t(msg)),
        )
    };
    let Ok(mid) = posted.get("mid").parse::<Uuid>() else {
        return again(Msg::ResidentFormExpired);
    };
    let Some(category) = IssueCategory::from_code(posted.get("category")) else {
        return again(Msg::ResidentChooseAKind);
    };
    let title = posted.get("title");
    if gridmate_model::validate::text("title", title, limits::TITLE, true).is_err() {
        return again(Msg::ResidentSayWhatInAFewWords);
    }
    let description = posted.get("description");
    if gridmate_model::validate::text("description", description, limits::TEXT, false).is_err() {
        return again(Msg::ResidentTooLong);
    }
    let (grid, building, household) = match (posted.get("where"), &places.household) {
        ("room", Some(h)) => (h.grid_id, Some(h.building_id), Some(h.id)),
        ("building", Some(h)) => (h.grid_id, Some(h.building_id), None),
        ("public", _) => match posted.get("grid").parse::<Uuid>() {
            Ok(g) if places.grids.iter().any(|(id, _)| *id == g) => (g, None, None),
            _ => return again(Msg::ResidentChooseAGrid),
        },
        _ => return again(Msg::ResidentChooseWhere),
    };
    // The cap on open reports, before any photo is kept.
    match load(&state, &r).await {
        Ok(items) if items.iter().filter(|i| is_open(i)).count() >= OPEN_CAP => {
            return again(Msg::ResidentTooManyOpen);
        }
        Ok(_) => {}
        Err(e) => return frame::failed(lang, e),
    }
    let mut photos = Vec::new();
    for bytes in &posted.photos {
        match crate::app::photos::receive_whole(&state, bytes).await {
            Ok(sha) => photos.push(sha),
            Err(ApiError::Internal(e)) => return frame::failed(lang, ApiError::Internal(e)),
            Err(_) => return again(Msg::ResidentPhotoRefused),
        }
    }
    let command = Command::ResidentReport(ResidentReport {
        grid,
        building,
        household,
        category,
        title: title.to_string(),
        description: description.to_string(),
        photos,
    });
    let p = residents::principal(&r.account);
    match commands::run(&state, p, lang, mid, command).await {
        Ok(Outcome::Done) => Redirect::to(&format!("/resident/items/{mid}?sent=1")).into_response(),
        Ok(Outcome::KeptAsComment(w) | Outcome::Refused(w)) => {
            tracing::warn!(resident = %r.account.id, why = %w, "a resident's report was refused");
            again(Msg::ResidentSomethingWentWrong)
        }
        Err(e) => frame::failed(lang, e),
    }
}

/// `GET /resident/items/{id}`: one of their items, its steps, and the rating when it is due.
pub async fn item(
    State(state): State<AppState>,
    r: Resident,
    Path(id): Path<String>,
    query: axum::extract::Query<Vec<(String, String)>>,
) -> Response {
    let lang = r.lang;
    let item = match own_item(&state, &r, &id).await {
        Ok(i) => i,
        Err(refused) => return refused,
    };
    let sent = query.0.iter().any(|(k, _)| k == "sent");
    let rated = query.0.iter().any(|(k, _)| k == "rated");
    let i = &item.issue;
    page(
        lang,
        StatusCode::OK,
        &i.title,
        html! {
            @if sent { p.ok role="status" { (lang.t(Msg::ResidentReceived)) } }
            @if rated { p.ok role="status" { (lang.t(Msg::ResidentThanksForRating)) } }
            p { (status_badge(lang, &item)) " "
                (Vocabulary::IssueCategory.word(&i.category, lang))
                @if let Some(n) = &i.number { " · " (lang.t(Msg::OfficeNo)) " " (n) } }
            @if !i.description.is_empty() { p { (i.description) } }
            @if !i.photos.is_empty() {
                p.photos { @for sha in &i.photos { img src={ "/resident/photos/" (sha) } alt=""; } }
            }
            ol.steps {
                li { span.when { (local(i.reported_at)) } " " (lang.t(Msg::ResidentStepReported)) }
                @for s in &item.steps {
                    @if let Some(w) = step_words(lang, &s.action) {
                        li {
                            span.when { (local(s.at)) } " " (w)
                            @if let Some(sat) = &s.satisfaction {
                                " · " (Vocabulary::Satisfaction.word(sat, lang))
                            }
                            @if !s.note.is_empty() { br; small { (s.note) } }
                            @if !s.photos.is_empty() {
                                p.photos { @for sha in &s.photos { img src={ "/resident/photos/" (sha) } alt=""; } }
                            }
                        }
                    }
                }
            }
            @if rateable(&item) {
                form.rate method="post" action={ "/resident/items/" (i.id) "/rate" } {
                    input type="hidden" name="csrf" value=(r.csrf);
                    input type="hidden" name="mid" value=(Uuid::now_v7());
                    fieldset {
                        legend { (lang.t(Msg::ResidentHowDidItEnd)) }
                        @for s in Satisfaction::ALL {
                            label.choice { input type="radio" name="satisfaction" value=(s.code()) required;
                                (Vocabulary::Satisfaction.word(s.code(), lang)) }
                        }
                    }
                    label { (lang.t(Msg::ResidentAnythingToAdd))
                        textarea name="comment" rows="3" maxlength=(limits::TEXT) {}
                    }
                    p.hint { (lang.t(Msg::ResidentDissatisfiedSendsBack)) }
                    button.primary type="submit" { (lang.t(Msg::ResidentSendRating)) }
                }
            }
            p { a href="/resident/" { (lang.t(Msg::ResidentBackHome)) } }
        },
    )
}

/// `POST /resident/items/{id}/rate`.
pub async fn rate(
    State(state): State<AppState>,
    r: Resident,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let lang = r.lang;
    let get = |k: &str| frame::field(&form, k);
    if !r.checks(Some(get("csrf"))) {
        return refusal(
            lang,
            StatusCode::FORBIDDEN,
            lang.t(Msg::ResidentFormExpired),
        );
    }
    let item = match own_item(&state, &r, &id).await {
        Ok(i) => i,
        Err(refused) => return refused,
    };
    let (Ok(mid), Some(satisfaction)) = (
        get("mid").parse::<Uuid>(),
        Satisfaction::from_code(get("satisfaction")),
    ) else {
        return refusal(
            lang,
            StatusCode::UNPROCESSABLE_ENTITY,
            lang.t(Msg::ResidentChooseARating),
        );
    };
    let comment = get("comment");
    if gridmate_model::validate::text("note", comment, limits::TEXT, false).is_err() {
        return refusal(
            lang,
            StatusCode::UNPROCESSABLE_ENTITY,
            lang.t(Msg::ResidentTooLong),
        );
    }
    if !rateable(&item) {
        return refusal(
            lang,
            StatusCode::CONFLICT,
            lang.t(Msg::ResidentNotToRateNow),
        );
    }
    let command = Command::Rate {
        issue: item.issue.id,
        satisfaction,
        comment: comment.to_string(),
    };
    let p = residents::principal(&r.account);
    match commands::run(&state, p, lang, mid, command).await {
        Ok(Outcome::Done) => {
            Redirect::to(&format!("/resident/items/{}?rated=1", item.issue.id)).into_response()
        }
        Ok(Outcome::KeptAsComment(_) | Outcome::Refused(_)) => refusal(
            lang,
            StatusCode::CONFLICT,
            lang.t(Msg::ResidentNotToRateNow),
        ),
        Err(e) => frame::failed(lang, e),
    }
}

/// `GET /resident/photos/{sha}`: a photo of one of their own items.
pub async fn photo(
    State(state): State<AppState>,
    r: Resident,
    Path(sha): Path<String>,
) -> Response {
    crate::app::photos::serve(&state, residents::principal(&r.account), &sha)
        .await
        .unwrap_or_else(|e| frame::failed(r.lang, e))
}
