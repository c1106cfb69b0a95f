//! The office API under `/api/v1/office/`: the lists, timelines, statistics and ledgers the
//! community office reads, and the administration of its people. Office roles only (grid
//! leaders over their grids, the community office over its community, the street read-only over
//! its communities); every answer stays within the caller's grids.
//!
//! Its commands (a step of an issue or a request, a request taken at the desk) are the console's
//! own, [`crate::app::commands`]: each becomes one typed mutation pushed through the rules a
//! phone's push goes through, so there is one set of rules.
//! What it does change — passwords and devices — goes through [`crate::store::admin`] and is
//! written to the audit log in the same transaction.

use super::extract::{ApiBytes, ApiJson, ApiPath};
use crate::app::commands::{self, Command, IssueStep, NewOrder, OrderStep, Outcome};
use crate::app::limits::{self, TimeLimitsBody};
use crate::app::people::{self, NewPerson, must_administer};
use crate::app::{AppState, Params, imports, ledgers};
use crate::error::ApiError;
use crate::store::{Backend, Principal, admin};
use crate::store::{office, outbox};
use axum::extract::{FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use gridmate_model::{IssueAction, OrderAction, OrderKind, OrderSource, Role, Satisfaction};
use gridmate_words::Lang;
use uuid::Uuid;

/// The signed-in caller, holding an office role.
pub struct OfficeUser(pub Principal);

impl FromRequestParts<AppState> for OfficeUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let p = Principal::from_request_parts(parts, state).await?;
        if !p.works_in_office() {
            return Err(ApiError::Forbidden(
                "the office API is for grid leaders, the community office and the street".into(),
            ));
        }
        Ok(OfficeUser(p))
    }
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/office/issues", get(issues))
        .route("/office/issues/{id}", get(issue))
        .route("/office/issues/{id}/steps", post(issue_step))
        .route("/office/orders", get(orders).post(new_order))
        .route("/office/orders/{id}", get(order))
        .route("/office/orders/{id}/steps", post(order_step))
        .route("/office/households", get(households))
        .route("/office/households/{id}", get(household))
        .route("/office/patrols", get(patrols))
        .route("/office/patrols/{id}", get(patrol))
        .route("/office/commitments", get(commitments))
        .route("/office/people", get(people).post(post_person))
        .route("/office/people/{id}/devices", get(devices))
        .route(
            "/office/people/{id}/devices/{device}/revoke",
            post(revoke_device),
        )
        .route("/office/people/{id}/password", post(reset_password))
        .route("/office/audit", get(audit))
        .route("/office/callups", get(callups))
        .route("/office/messages", get(messages))
        .route("/office/time-limits", get(time_limits).put(set_time_limits))
        .route("/office/departments", get(departments).post(put_department))
        .route("/office/stats", get(stats))
        .route("/office/export/{file}", get(export))
        .route(
            "/office/import/base-map",
            post(import_base_map).layer(axum::extract::DefaultBodyLimit::max(
                crate::import::base_map::MAX_FILE_BYTES + 1024,
            )),
        )
        .route(
            "/office/import/people",
            post(import_people).layer(axum::extract::DefaultBodyLimit::max(
                crate::import::people::MAX_FILE_BYTES + 1024,
            )),
        )
}

#[utoipa::path(get, path = "/office/issues", tag = "office",
    params(("grid" = Option<String>, Query, description = "one of your grids"),
        ("category" = Option<String>, Query), ("status" = Option<String>, Query, description = "a status, or `open`"),
        ("source" = Option<String>, Query), ("overdue" = Option<bool>, Query), ("unassigned" = Option<bool>, Query),
        ("q" = Option<String>, Query, description = "words in the title or description"),
        ("limit" = Option<u32>, Query, description = "1–500, default 50"), ("offset" = Option<u32>, Query)),
    responses((status = 200, description = "one page of the issues of your grids that match, overdue first, then by due time"),
        (status = 400, description = "a parameter of the wrong type", body = gridmate_protocol::ErrorBody),
        (status = 403, description = "not an office role", body = gridmate_protocol::ErrorBody),
        (status = 422, description = "an unknown code, or a grid that is not yours", body = gridmate_protocol::ErrorBody)))]
pub(crate) async fn issues(
    State(state): State<AppState>,
    OfficeUser(p): OfficeUser,
    q: Params,
) -> Result<Response, ApiError> {
    let (filter, paging) = (q.issue_filter()?, q.paging()?);
    let page = state
        .store
        .read(move |tx| office::issues(tx, &p, &filter, paging, Utc::now()))
        .await?;
    Ok(Json(page).into_response())
}

#[utoipa::path(get, path = "/office/issues/{id}", tag = "office",
    params(("id" = String, Path)),
    responses((status = 200, description = "the issue, its timeline and the open issues near it"),
        (status = 404, description = "no such issue in your grids", body = gridmate_protocol::ErrorBody)))]
pub(crate) async fn issue(
    State(state): State<AppState>,
    OfficeUser(p): OfficeUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, ApiError> {
    state
        .store
        .read(move |tx| office::issue(tx, &p, id, Utc::now()))
        .await?
        .map(|d| Json(d).into_response())
        .ok_or_else(|| ApiError::NotFound("no such issue in your grids".into()))
}

#[utoipa::path(get, path = "/office/orders", tag = "office",
    params(("grid" = Option<String>, Query), ("kind" = Option<String>, Query),
        ("status" = Option<String>, Query, description = "a status, or `open`"),
        ("overdue" = Option<bool>, Query), ("unassigned" = Option<bool>, Query, description = "posted, sent to nobody yet"),
        ("q" = Option<String>, Query), ("limit" = Option<u32>, Query), ("offset" = Option<u32>, Query)),
    responses((status = 200, description = "one page of the requests (三单制) of your grids"),
        (status = 422, description = "an unknown code, or a grid that is not yours", body = gridmate_protocol::ErrorBody)))]
pub(crate) async fn orders(
    State(state): State<AppState>,
    OfficeUser(p): OfficeUser,
    q: Params,
) -> Result<Response, ApiError> {
    let (filter, paging) = (q.order_filter()?, q.paging()?);
    let page = state
        .store
        .read(move |tx| office::orders(tx, &p, &filter, paging, Utc::now()))
        .await?;
    Ok(Json(page).into_response())
}

#[utoipa::path(get, path = "/office/orders/{id}", tag = "office",
    params(("id" = String, Path)),
    responses((status = 200, description = "the order, its steps and the grid's party members"),
        (status = 404, description = "no such order in your grids", body = gridmate_protocol::ErrorBody)))]
pub(crate) async fn order(
    State(state): State<AppState>,
    OfficeUser(p): OfficeUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, ApiError> {
    state
        .store
        .read(move |tx| office::order(tx, &p, id, Utc::now()))
        .await?
        .map(|d| Json(d).into_response())
        .ok_or_else(|| ApiError::NotFound("no such order in your grids".into()))
}

#[utoipa::path(get, path = "/office/households", tag = "office",
    params(("grid" = Option<String>, Query), ("building" = Option<String>, Query),
        ("vulnerable" = Option<bool>, Query), ("visit_overdue" = Option<bool>, Query),
        ("unvisited_this_month" = Option<bool>, Query, description = "only households due by their cadence before this month ends (China time) and not visited since the first"),
        ("q" = Option<String>, Query, description = "words of the address, or a name of the household (head or any resident) as written, or its pinyin or initials"),
        ("limit" = Option<u32>, Query), ("offset" = Option<u32>, Query)),
    responses((status = 200, description = "one page of the households of your grids, by address")))]
pub(crate) async fn households(
    State(state): State<AppState>,
    OfficeUser(p): OfficeUser,
    q: Params,
) -> Result<Response, ApiError> {
    let (filter, paging) = (q.household_filter()?, q.paging()?);
    let page = state
        .store
        .read(move |tx| office::households(tx, &p, &filter, paging, Utc::now()))
        .await?;
    Ok(Json(page).into_response())
}

#[utoipa::path(get, path = "/office/households/{id}", tag = "office",
    params(("id" = String, Path)),
    responses((status = 200, description = "the household, its residents (phones masked), its visits and its issues, newest first"),
        (status = 404, description = "no such household in your grids", body = gridmate_protocol::ErrorBody)))]
pub(crate) async fn household(
    State(state): State<AppState>,
    OfficeUser(p): OfficeUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, ApiError> {
    state
        .store
        .read(move |tx| crate::store::roll::household(tx, &p, id, Utc::now()))
        .await?
        .map(|d| Json(d).into_response())
        .ok_or_else(|| ApiError::NotFound("no such household in your grids".into()))
}

#[utoipa::path(get, path = "/office/patrols", tag = "office",
    params(("grid" = Option<String>, Query), ("from" = Option<String>, Query, description = "a day, Beijing time (2026-11-01); absent: 30 days before `to`"),
        ("to" = Option<String>, Query, description = "the last day, included; absent: today")),
    responses((status = 200, description = "the period's patrols of your grids, newest first, and each person's tally"),
        (status = 422, description = "a grid that is not yours, or a period that ends before it starts", body = gridmate_protocol::ErrorBody)))]
pub(crate) async fn patrols(
    State(state): State<AppState>,
    OfficeUser(p): OfficeUser,
    q: Params,
) -> Result<Response, ApiError> {
    let (grid, period) = (q.uuid("grid")?, q.period()?);
    let patrols = state
        .store
        .read(move |tx| crate::store::field::patrols(tx, &p, grid, period))
        .await?;
    Ok(Json(patrols).into_response())
}

#[utoipa::path(get, path = "/office/patrols/{id}", tag = "office",
    params(("id" = String, Path)),
    responses((status = 200, description = "one patrol with its track over its grid and the issues found on it"),
        (status = 404, description = "no such patrol in your grids", body = gridmate_protocol::ErrorBody)))]
pub(crate) async fn patrol(
    State(state): State<AppState>,
    OfficeUser(p): OfficeUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, ApiError> {
    state
        .store
        .read(move |tx| crate::store::field::patrol(tx, &p, id))
        .await?
        .map(|d| Json(d).into_response())
        .ok_or_else(|| ApiError::NotFound("no such patrol in your grids".into()))
}

#[utoipa::path(get, path = "/office/commitments", tag = "office",
    params(("grid" = Option<String>, Query), ("year" = Option<i32>, Query, description = "absent: this year, China time")),
    responses((status = 200, description = "the year's promises (承诺践诺) of your grids, under way first")))]
pub(crate) async fn commitments(
    State(state): State<AppState>,
    OfficeUser(p): OfficeUser,
    q: Params,
) -> Result<Response, ApiError> {
    let grid = q.uuid("grid")?;
    let year = q.year()?;
    let rows = state
        .store
        .read(move |tx| crate::store::field::commitments(tx, &p, grid, year))
        .await?;
    Ok(Json(rows).into_response())
}

#[utoipa::path(get, path = "/office/people", tag = "office",
    params(("grid" = Option<String>, Query)),
    responses((status = 200, description = "everyone assigned to your grids, phones masked")))]
pub(crate) async fn people(
    State(state): State<AppState>,
    OfficeUser(p): OfficeUser,
    q: Params,
) -> Result<Response, ApiError> {
    let grid = q.uuid("grid")?;
    let people = state
        .store
        .read(move |tx| office::people(tx, &p, grid))
        .await?;
    Ok(Json(people).into_response())
}

#[utoipa::path(get, path = "/office/people/{id}/devices", tag = "office",
    params(("id" = String, Path)),
    responses((status = 200, description = "the devices this person signed in on"),
        (status = 404, description = "not one of your people", body = gridmate_protocol::ErrorBody)))]
pub(crate) async fn devices(
    State(state): State<AppState>,
    OfficeUser(p): OfficeUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, ApiError> {
    state
        .store
        .read(move |tx| office::devices(tx, &p, id))
        .await?
        .map(|d| {
            Json(
                d.into_iter()
                    .map(|d| {
                        serde_json::json!({
                            "device_id": d.device_id,
                            "device_name": d.device_name,
                            "signed_in_at_ms": d.signed_in_at_ms,
                            "expires_at_ms": d.expires_at_ms,
                            "revoked_at_ms": d.revoked_at_ms,
                        })
                    })
                    .collect::<Vec<_>>(),
            )
            .into_response()
        })
        .ok_or_else(|| ApiError::NotFound("not one of your people".into()))
}

#[utoipa::path(post, path = "/office/people/{id}/devices/{device}/revoke", tag = "office",
    params(("id" = String, Path), ("device" = String, Path)),
    responses((status = 200, description = "how many sessions of that device ended"),
        (status = 403, description = "only the community office manages devices", body = gridmate_protocol::ErrorBody),
        (status = 422, description = "not one of your people", body = gridmate_protocol::ErrorBody)))]
pub(crate) async fn revoke_device(
    State(state): State<AppState>,
    OfficeUser(p): OfficeUser,
    ApiPath((id, device)): ApiPath<(Uuid, String)>,
) -> Result<Response, ApiError> {
    let n = people::revoke_device(&state, p, id, device).await?;
    Ok(Json(serde_json::json!({ "revoked": n })).into_response())
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
pub struct NewPassword {
    pub password: String,
}

#[utoipa::path(post, path = "/office/people/{id}/password", tag = "office",
    params(("id" = String, Path)), request_body = NewPassword,
    responses((status = 204, description = "the password is changed"),
        (status = 403, description = "only the community office manages people", body = gridmate_protocol::ErrorBody),
        (status = 422, description = "too short, or not one of your people", body = gridmate_protocol::ErrorBody)))]
pub(crate) async fn reset_password(
    State(state): State<AppState>,
    OfficeUser(p): OfficeUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<NewPassword>,
) -> Result<StatusCode, ApiError> {
    people::reset_password(&state, p, id, body.password).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/office/audit", tag = "office",
    params(("limit" = Option<u32>, Query)),
    responses((status = 200, description = "the newest lines of the office's audit log"),
        (status = 403, description = "only the community office reads it", body = gridmate_protocol::ErrorBody)))]
pub(crate) async fn audit(
    State(state): State<AppState>,
    OfficeUser(p): OfficeUser,
    q: Params,
) -> Result<Response, ApiError> {
    must_administer(&p)?;
    let limit = q.number("limit", 100)?;
    let rows = state.store.read(move |tx| office::audit(tx, limit)).await?;
    Ok(Json(
        rows.into_iter()
            .map(|r| {
                serde_json::json!({
                    "at_ms": r.at_ms, "actor_id": r.actor_id, "action": r.action,
                    "target": r.target, "detail": r.detail,
                })
            })
            .collect::<Vec<_>>(),
    )
    .into_response())
}

#[utoipa::path(get, path = "/office/stats", tag = "office",
    params(("from" = Option<String>, Query, description = "first day, 2026-11-01 (Beijing time)"),
        ("to" = Option<String>, Query, description = "last day, included"), ("grid" = Option<String>, Query)),
    responses((status = 200, description = "per grid and per person: households, visited, vulnerable overdue, issues, orders, service hours, check-ins, call-up attendance"),
        (status = 400, description = "a day that is not a day", body = gridmate_protocol::ErrorBody),
        (status = 422, description = "a period that ends before it starts", body = gridmate_protocol::ErrorBody)))]
pub(crate) async fn stats(
    State(state): State<AppState>,
    OfficeUser(p): OfficeUser,
    q: Params,
) -> Result<Response, ApiError> {
    let (period, grid) = (q.period()?, q.uuid("grid")?);
    let stats = state
        .store
        .read(move |tx| office::stats(tx, &p, grid, period, Utc::now()))
        .await?;
    Ok(Json(stats).into_response())
}

#[utoipa::path(get, path = "/office/export/{file}", tag = "office",
    params(("file" = String, Path, description = "visits|issues|orders|service|checkins|households, then .xlsx or .csv"),
        ("from" = Option<String>, Query), ("to" = Option<String>, Query), ("grid" = Option<String>, Query)),
    responses((status = 200, description = "the ledger (台账): XLSX with headers in the Accept-Language (zh-CN unless en), or CSV in UTF-8 with a BOM", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 404, description = "no such ledger", body = gridmate_protocol::ErrorBody)))]
pub(crate) async fn export(
    State(state): State<AppState>,
    OfficeUser(p): OfficeUser,
    ApiPath(file): ApiPath<String>,
    headers: axum::http::HeaderMap,
    q: Params,
) -> Result<Response, ApiError> {
    let ask = ledgers::ledger_request(&file, &q, lang_of(&headers))?;
    let file = ledgers::ledger_file(&state, p, ask, ledgers::base_url(&headers)).await?;
    Ok(ledgers::ledger_response(file, ask))
}

#[utoipa::path(post, path = "/office/import/people", tag = "office",
    params(("commit" = Option<bool>, Query, description = "write it when the file is clean; absent, a dry run")),
    request_body(content = Vec<u8>, description = "the 实有人口台账: XLSX, or CSV in UTF-8 or GBK", content_type = "application/octet-stream"),
    responses((status = 200, description = "the plan: column mapping, first rows, what is new and what exists, and whether it was written"),
        (status = 413, description = "larger than 20 MB", body = gridmate_protocol::ErrorBody),
        (status = 422, description = "the file's problems by row and column; nothing written", body = gridmate_protocol::ErrorBody)))]
pub(crate) async fn import_people(
    State(state): State<AppState>,
    OfficeUser(p): OfficeUser,
    q: Params,
    ApiBytes(body): ApiBytes,
) -> Result<Response, ApiError> {
    let commit = q.flag("commit")?;
    let plan = imports::people_file(&state, p, body.to_vec(), commit).await?;
    if plan.problems.is_empty() {
        Ok(Json(plan).into_response())
    } else {
        let mut body = refused_file(&plan.problems);
        body["mapping"] = serde_json::json!(plan.mapping);
        Ok((StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response())
    }
}

/// The body of a 422 for an imported file refused whole: every problem, nothing imported.
fn refused_file(problems: &[crate::import::ImportProblem]) -> serde_json::Value {
    serde_json::json!({
        "error": {"code": "invalid", "message": format!("the file has {} problem(s); nothing was imported", problems.len())},
        "problems": problems,
    })
}

#[utoipa::path(post, path = "/office/import/base-map", tag = "office",
    params(("commit" = Option<bool>, Query, description = "write it when the file is clean; absent, a dry run")),
    request_body(content = Vec<u8>, description = "the base map (底图): a GeoJSON FeatureCollection in WGS-84 of building footprints, roads, water and green (kind, or OpenStreetMap tags)", content_type = "application/geo+json"),
    responses((status = 200, description = "the plan: per grid its features, vertices and bytes, footprints matched to buildings, features outside every grid, and whether it was written"),
        (status = 413, description = "larger than 20 MB", body = gridmate_protocol::ErrorBody),
        (status = 422, description = "the file's problems by feature; nothing written", body = gridmate_protocol::ErrorBody)))]
pub(crate) async fn import_base_map(
    State(state): State<AppState>,
    OfficeUser(p): OfficeUser,
    q: Params,
    ApiBytes(body): ApiBytes,
) -> Result<Response, ApiError> {
    let commit = q.flag("commit")?;
    match imports::base_map_file(&state, p, body.to_vec(), commit).await? {
        Ok(plan) => Ok(Json(plan).into_response()),
        Err(problems) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(refused_file(&problems)),
        )
            .into_response()),
    }
}

#[utoipa::path(get, path = "/office/callups", tag = "office",
    responses((status = 200, description = "the call-ups of your grids, open first: each with every answer (the latest per person, arrivals with the distance the server measured) and who has not answered")))]
pub(crate) async fn callups(
    State(state): State<AppState>,
    OfficeUser(p): OfficeUser,
) -> Result<Response, ApiError> {
    let rows = state.store.read(move |tx| office::callups(tx, &p)).await?;
    Ok(Json(rows).into_response())
}

#[utoipa::path(get, path = "/office/messages", tag = "office",
    params(("state" = Option<String>, Query, description = "queued, sending, sent, delivered, failed or skipped"),
        ("limit" = Option<u32>, Query, description = "1–500, default 200")),
    responses((status = 200, description = "the messages sent to the people of your grids (call-ups, assignments, dispatches), newest first: to whom (the number masked), the notice, its state, attempts, the provider and its words"),
        (status = 400, description = "an unknown state or a limit that is not a number", body = gridmate_protocol::ErrorBody),
        (status = 403, description = "not an office role", body = gridmate_protocol::ErrorBody)))]
pub(crate) async fn messages(
    State(state): State<AppState>,
    OfficeUser(p): OfficeUser,
    q: Params,
) -> Result<Response, ApiError> {
    let (which, limit) = (q.message_state()?, q.number("limit", 200)?);
    let rows = state
        .store
        .read(move |tx| outbox::log(tx, &p, which, limit))
        .await?;
    Ok(Json(rows).into_response())
}

#[utoipa::path(get, path = "/office/departments", tag = "office",
    responses((status = 200, description = "the departments issues can be sent to")))]
pub(crate) async fn departments(
    State(state): State<AppState>,
    OfficeUser(_p): OfficeUser,
) -> Result<Response, ApiError> {
    let rows = state.store.read(office::departments).await?;
    Ok(Json(rows).into_response())
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
pub struct DepartmentBody {
    /// Absent: a new department.
    pub id: Option<Uuid>,
    pub name: String,
    pub phone: Option<String>,
}

#[utoipa::path(post, path = "/office/departments", tag = "office", request_body = DepartmentBody,
    responses((status = 200, description = "the department as stored; phones receive it at their next sync"),
        (status = 403, description = "only the community office keeps the departments", body = gridmate_protocol::ErrorBody),
        (status = 422, description = "no name, or a phone that is not one", body = gridmate_protocol::ErrorBody)))]
pub(crate) async fn put_department(
    State(state): State<AppState>,
    OfficeUser(p): OfficeUser,
    ApiJson(body): ApiJson<DepartmentBody>,
) -> Result<Response, ApiError> {
    must_administer(&p)?;
    let id = body.id.unwrap_or_else(Uuid::now_v7);
    let name = body.name.clone();
    state
        .store
        .write(move |tx| {
            admin::put_department(tx, id, &body.name, body.phone.as_deref())?;
            admin::audit(tx, p.user_id, "put_department", &id.to_string(), &body.name)
        })
        .await?;
    Ok(Json(serde_json::json!({ "id": id, "name": name })).into_response())
}

#[utoipa::path(get, path = "/office/time-limits", tag = "office",
    responses((status = 200, description = "the limit in force for every category and severity, in hours, with its default", body = TimeLimitsBody)))]
pub(crate) async fn time_limits(
    State(state): State<AppState>,
    OfficeUser(_p): OfficeUser,
) -> Result<Response, ApiError> {
    let limits = state.store.read(crate::store::limits::load).await?;
    Ok(Json(TimeLimitsBody {
        limits: limits::entries(&limits),
    })
    .into_response())
}

#[utoipa::path(put, path = "/office/time-limits", tag = "office", request_body = TimeLimitsBody,
    responses((status = 200, description = "the limits now in force", body = TimeLimitsBody),
        (status = 403, description = "only the community office sets them", body = gridmate_protocol::ErrorBody),
        (status = 422, description = "an unknown code, hours outside 1–2160, or a ladder out of order (the leader after the office); nothing changed", body = gridmate_protocol::ErrorBody)))]
pub(crate) async fn set_time_limits(
    State(state): State<AppState>,
    OfficeUser(p): OfficeUser,
    ApiJson(body): ApiJson<TimeLimitsBody>,
) -> Result<Response, ApiError> {
    limits::set(&state, p, body.limits).await?;
    let limits = state.store.read(crate::store::limits::load).await?;
    Ok(Json(TimeLimitsBody {
        limits: limits::entries(&limits),
    })
    .into_response())
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
pub struct NewPersonBody {
    pub name: String,
    pub phone: String,
    /// grid_worker, grid_leader, building_leader or party_member.
    pub role: String,
    #[serde(default)]
    pub grids: Vec<Uuid>,
    #[serde(default)]
    pub buildings: Vec<Uuid>,
    pub password: String,
}

#[utoipa::path(post, path = "/office/people", tag = "office", request_body = NewPersonBody,
    responses((status = 200, description = "registered: `{id}`; they sign in on a phone with the phone number and password"),
        (status = 403, description = "only the community office registers people, and not office accounts", body = gridmate_protocol::ErrorBody),
        (status = 422, description = "a bad phone, name or password, a phone already registered, or a grid not yours", body = gridmate_protocol::ErrorBody)))]
pub(crate) async fn post_person(
    State(state): State<AppState>,
    OfficeUser(p): OfficeUser,
    ApiJson(body): ApiJson<NewPersonBody>,
) -> Result<Response, ApiError> {
    let role = Role::from_code(&body.role).ok_or_else(|| ApiError::Unprocessable {
        code: "invalid",
        message: format!("no role {:?}", body.role),
    })?;
    let id = people::add_person(
        &state,
        p,
        NewPerson {
            name: body.name,
            phone: body.phone,
            role,
            grids: body.grids,
            buildings: body.buildings,
            password: body.password,
        },
    )
    .await?;
    Ok(Json(serde_json::json!({ "id": id })).into_response())
}

/// The caller's language for the words of a refusal: Chinese unless the request asks otherwise.
fn lang_of(headers: &axum::http::HeaderMap) -> Lang {
    match headers
        .get(axum::http::header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
    {
        Some(l) if l.trim_start().starts_with("en") => Lang::En,
        _ => Lang::Zh,
    }
}

/// How an office command ended: `applied` (now or before, under the same mutation id) or
/// `merged` (the record had moved on; kept as a comment, `message` says why). A refusal is a
/// 422 with the protocol's error body.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct CommandAnswer {
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

async fn answer(
    state: &AppState,
    p: Principal,
    headers: &axum::http::HeaderMap,
    mutation: Uuid,
    command: Command,
) -> Result<Json<CommandAnswer>, ApiError> {
    if p.reads_only() {
        return Err(ApiError::Forbidden(
            "the street's account reads; it changes nothing".into(),
        ));
    }
    match commands::run(state, p, lang_of(headers), mutation, command).await? {
        Outcome::Done => Ok(Json(CommandAnswer {
            status: "applied",
            message: None,
        })),
        Outcome::KeptAsComment(m) => Ok(Json(CommandAnswer {
            status: "merged",
            message: Some(m),
        })),
        Outcome::Refused(message) => Err(ApiError::Unprocessable {
            code: "rejected",
            message,
        }),
    }
}

fn code<T>(what: &str, value: &str, parse: impl Fn(&str) -> Option<T>) -> Result<T, ApiError> {
    parse(value).ok_or_else(|| ApiError::Unprocessable {
        code: "invalid",
        message: format!("no {what} {value:?}"),
    })
}

/// One step of an issue's handling, as the console's forms take it.
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueStepBody {
    /// The command's idempotency key: the same id again is the same step.
    pub mutation_id: Uuid,
    /// An `issue_event` action code: accept, assign, escalate, close (verify and close), reopen,
    /// reject_duplicate, comment, …
    pub action: String,
    #[serde(default)]
    pub note: String,
    pub assignee_id: Option<Uuid>,
    pub department_id: Option<Uuid>,
    pub duplicate_of: Option<Uuid>,
}

#[utoipa::path(post, path = "/office/issues/{id}/steps", tag = "office",
    params(("id" = String, Path)), request_body = IssueStepBody,
    responses((status = 200, description = "applied, or kept as a comment when the issue had moved on", body = CommandAnswer),
        (status = 403, description = "not an office role, or the street (read only)", body = gridmate_protocol::ErrorBody),
        (status = 422, description = "an unknown action, one that lacks its person or department, or refused by the rules", body = gridmate_protocol::ErrorBody)))]
pub(crate) async fn issue_step(
    State(state): State<AppState>,
    OfficeUser(p): OfficeUser,
    headers: axum::http::HeaderMap,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(b): ApiJson<IssueStepBody>,
) -> Result<Json<CommandAnswer>, ApiError> {
    let step = Command::Issue(IssueStep {
        issue: id,
        action: code("action", &b.action, IssueAction::from_code)?,
        note: b.note,
        assignee: b.assignee_id,
        department: b.department_id,
        duplicate_of: b.duplicate_of,
    });
    answer(&state, p, &headers, b.mutation_id, step).await
}

/// One step of a request's handling.
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderStepBody {
    pub mutation_id: Uuid,
    /// dispatch, take, release, done, confirm, cancel or comment.
    pub action: String,
    #[serde(default)]
    pub note: String,
    pub assignee_id: Option<Uuid>,
    /// For `confirm`: satisfied, basically_satisfied or dissatisfied.
    pub satisfaction: Option<String>,
}

#[utoipa::path(post, path = "/office/orders/{id}/steps", tag = "office",
    params(("id" = String, Path)), request_body = OrderStepBody,
    responses((status = 200, description = "applied, or kept as a comment when the request had moved on", body = CommandAnswer),
        (status = 422, description = "an unknown action or satisfaction, or refused by the rules", body = gridmate_protocol::ErrorBody)))]
pub(crate) async fn order_step(
    State(state): State<AppState>,
    OfficeUser(p): OfficeUser,
    headers: axum::http::HeaderMap,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(b): ApiJson<OrderStepBody>,
) -> Result<Json<CommandAnswer>, ApiError> {
    let step = Command::Order(OrderStep {
        order: id,
        action: code("action", &b.action, OrderAction::from_code)?,
        note: b.note,
        assignee: b.assignee_id,
        satisfaction: b
            .satisfaction
            .as_deref()
            .map(|s| code("satisfaction", s, Satisfaction::from_code))
            .transpose()?,
    });
    answer(&state, p, &headers, b.mutation_id, step).await
}

/// A resident's request taken by phone or at the desk; the order's id is the mutation id.
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOrderBody {
    pub mutation_id: Uuid,
    pub grid_id: Uuid,
    pub household_id: Option<Uuid>,
    pub kind: String,
    /// phone or desk.
    pub source: String,
    pub title: String,
    #[serde(default)]
    pub description: String,
    pub requester: String,
}

#[utoipa::path(post, path = "/office/orders", tag = "office", request_body = NewOrderBody,
    responses((status = 200, description = "recorded; the order's id is the mutation id", body = CommandAnswer),
        (status = 422, description = "an unknown kind or source, a bad field, or a grid not yours", body = gridmate_protocol::ErrorBody)))]
pub(crate) async fn new_order(
    State(state): State<AppState>,
    OfficeUser(p): OfficeUser,
    headers: axum::http::HeaderMap,
    ApiJson(b): ApiJson<NewOrderBody>,
) -> Result<Json<CommandAnswer>, ApiError> {
    let order = Command::NewOrder(NewOrder {
        grid: b.grid_id,
        household: b.household_id,
        kind: code("kind", &b.kind, OrderKind::from_code)?,
        source: code("source", &b.source, OrderSource::from_code)?,
        title: b.title,
        description: b.description,
        requester: b.requester,
    });
    answer(&state, p, &headers, b.mutation_id, order).await
}
