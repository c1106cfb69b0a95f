//! The office API under `/api/v1/office/`: the lists, timelines, statistics and ledgers the
//! community office reads, and the administration of its people. Office roles only (grid
//! leaders over their grids, the community office over its community, the street read-only over
//! its communities); every answer stays within the caller's grids.
//!
//! It changes records never: dispatching, assigning, closing and call-ups are mutations pushed to
//! `POST /sync/push` like a phone's (the console does exactly that), so there is one set of rules.
//! What it does change — passwords and devices — goes through [`crate::store::admin`] and is
//! written to the audit log in the same transaction.

use super::{ApiJson, ApiPath, AppState};
use crate::error::ApiError;
use crate::ledger::{CsvSink, LedgerKind, XlsxSink, beijing};
use crate::store::office::{self, HouseholdFilter, IssueFilter, OrderFilter, Paging, Period};
use crate::store::{Principal, StoreError, admin, read_with, write_with};
use axum::body::Body;
use axum::extract::{FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use gridmate_model::Role;
use std::collections::HashMap;
use std::io::{Seek, SeekFrom};
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

/// Only the community office administers people; the street reads, a grid leader leads.
pub(crate) fn must_administer(p: &Principal) -> Result<(), ApiError> {
    if p.has(Role::CommunityAdmin) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "only the community office manages people and devices".into(),
        ))
    }
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/office/issues", get(issues))
        .route("/office/issues/{id}", get(issue))
        .route("/office/orders", get(orders))
        .route("/office/orders/{id}", get(order))
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

/// A query string read leniently: an empty value is an absent one (HTML forms send `grid=`),
/// a present one must parse or the request is a 400 naming the parameter.
pub struct Params(pub HashMap<String, String>);

impl Params {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(|v| v.trim()).filter(|v| !v.is_empty())
    }

    pub fn text(&self, key: &str) -> Option<String> {
        self.get(key).map(|v| v.chars().take(100).collect())
    }

    pub fn uuid(&self, key: &str) -> Result<Option<Uuid>, ApiError> {
        self.get(key)
            .map(|v| {
                v.parse()
                    .map_err(|_| ApiError::BadRequest(format!("{key} must be a uuid")))
            })
            .transpose()
    }

    pub fn flag(&self, key: &str) -> Result<bool, ApiError> {
        match self.get(key) {
            None | Some("false" | "0") => Ok(false),
            Some("true" | "1" | "on") => Ok(true),
            Some(_) => Err(ApiError::BadRequest(format!("{key} must be true or false"))),
        }
    }

    pub fn number(&self, key: &str, default: u32) -> Result<u32, ApiError> {
        self.get(key).map_or(Ok(default), |v| {
            v.parse()
                .map_err(|_| ApiError::BadRequest(format!("{key} must be a whole number")))
        })
    }

    pub fn paging(&self) -> Result<Paging, ApiError> {
        Ok(Paging {
            limit: self.number("limit", Paging::default().limit)?,
            offset: self.number("offset", 0)?,
        })
    }

    pub fn issue_filter(&self) -> Result<IssueFilter, ApiError> {
        Ok(IssueFilter {
            grid: self.uuid("grid")?,
            category: self.text("category"),
            status: self.text("status"),
            source: self.text("source"),
            overdue: self.flag("overdue")?,
            unassigned: self.flag("unassigned")?,
            q: self.text("q"),
        })
    }

    pub fn order_filter(&self) -> Result<OrderFilter, ApiError> {
        Ok(OrderFilter {
            grid: self.uuid("grid")?,
            kind: self.text("kind"),
            status: self.text("status"),
            overdue: self.flag("overdue")?,
            unassigned: self.flag("unassigned")?,
            q: self.text("q"),
        })
    }

    pub fn household_filter(&self) -> Result<HouseholdFilter, ApiError> {
        Ok(HouseholdFilter {
            grid: self.uuid("grid")?,
            building: self.uuid("building")?,
            vulnerable: self.flag("vulnerable")?,
            visit_overdue: self.flag("visit_overdue")?,
            unvisited_this_month: self.flag("unvisited_this_month")?,
            q: self.text("q"),
        })
    }

    /// `year`: a year from 2000 to 2100; absent, this year in China time.
    pub fn year(&self) -> Result<i32, ApiError> {
        match self.get("year") {
            None | Some("") => Ok(gridmate_model::calendar::year(Utc::now())),
            Some(y) => y
                .parse::<i32>()
                .ok()
                .filter(|y| (2000..=2100).contains(y))
                .ok_or_else(|| ApiError::BadRequest("year must be a year like 2026".into())),
        }
    }

    /// `from` and `to` are days (`2026-11-01`), `to` included, in Beijing time; absent, the
    /// last 30 days.
    pub fn period(&self) -> Result<Period, ApiError> {
        let day = |key: &str| -> Result<Option<NaiveDate>, ApiError> {
            self.get(key)
                .map(|v| {
                    NaiveDate::parse_from_str(v, "%Y-%m-%d").map_err(|_| {
                        ApiError::BadRequest(format!("{key} must be a day like 2026-11-01"))
                    })
                })
                .transpose()
        };
        let today = Utc::now().with_timezone(&beijing()).date_naive();
        let to = day("to")?.unwrap_or(today);
        let from = day("from")?.unwrap_or(to - Duration::days(29));
        Period::new(start_of(from), start_of(to + Duration::days(1))).map_err(Into::into)
    }
}

fn start_of(day: NaiveDate) -> DateTime<Utc> {
    beijing()
        .from_local_datetime(&day.and_hms_opt(0, 0, 0).unwrap_or_default())
        .single()
        .map_or_else(Utc::now, |t| t.with_timezone(&Utc))
}

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map(|Query(m)| Params(m))
            .map_err(|e| ApiError::BadRequest(e.body_text().chars().take(300).collect()))
    }
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
    let page = read_with(&*state.store, move |tx| {
        office::issues(tx, &p, &filter, paging, Utc::now())
    })
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
    read_with(&*state.store, move |tx| {
        office::issue(tx, &p, id, Utc::now())
    })
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
    let page = read_with(&*state.store, move |tx| {
        office::orders(tx, &p, &filter, paging, Utc::now())
    })
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
    read_with(&*state.store, move |tx| {
        office::order(tx, &p, id, Utc::now())
    })
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
    let page = read_with(&*state.store, move |tx| {
        office::households(tx, &p, &filter, paging, Utc::now())
    })
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
    read_with(&*state.store, move |tx| {
        crate::store::roll::household(tx, &p, id, Utc::now())
    })
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
    let patrols = read_with(&*state.store, move |tx| {
        crate::store::field::patrols(tx, &p, grid, period)
    })
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
    read_with(&*state.store, move |tx| {
        crate::store::field::patrol(tx, &p, id)
    })
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
    let rows = read_with(&*state.store, move |tx| {
        crate::store::field::commitments(tx, &p, grid, year)
    })
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
    let people = read_with(&*state.store, move |tx| office::people(tx, &p, grid)).await?;
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
    read_with(&*state.store, move |tx| office::devices(tx, &p, id))
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

/// Revoke one device of one of the office's people, and note it.
pub async fn revoke_device_of(
    state: &AppState,
    p: Principal,
    user: Uuid,
    device: String,
) -> Result<usize, ApiError> {
    must_administer(&p)?;
    write_with(&*state.store, move |tx| {
        if !office::people(tx, &p, None)?.iter().any(|m| m.id == user) {
            return Err(StoreError::Invalid("not one of your people".into()));
        }
        let n = admin::revoke_device(tx, user, &device)?;
        admin::audit(tx, p.user_id, "revoke_device", &user.to_string(), &device)?;
        Ok(n)
    })
    .await
    .map_err(Into::into)
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
    let n = revoke_device_of(&state, p, id, device).await?;
    Ok(Json(serde_json::json!({ "revoked": n })).into_response())
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
pub struct NewPassword {
    pub password: String,
}

/// Give one of the office's people a new password, and note it (never the password).
pub async fn reset_password_of(
    state: &AppState,
    p: Principal,
    user: Uuid,
    password: String,
) -> Result<(), ApiError> {
    must_administer(&p)?;
    // Argon2 runs inside the write transaction's blocking thread, off the async threads.
    write_with(&*state.store, move |tx| {
        if !office::people(tx, &p, None)?.iter().any(|m| m.id == user) {
            return Err(StoreError::Invalid("not one of your people".into()));
        }
        admin::reset_password(tx, user, &password)?;
        admin::audit(tx, p.user_id, "reset_password", &user.to_string(), "")
    })
    .await
    .map_err(Into::into)
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
    reset_password_of(&state, p, id, body.password).await?;
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
    let rows = read_with(&*state.store, move |tx| office::audit(tx, limit)).await?;
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
    let stats = read_with(&*state.store, move |tx| {
        office::stats(tx, &p, grid, period, Utc::now())
    })
    .await?;
    Ok(Json(stats).into_response())
}

/// Write a ledger into a temporary file inside one read snapshot; the caller streams the file.
pub async fn ledger_file(
    state: &AppState,
    p: Principal,
    kind: LedgerKind,
    xlsx: bool,
    grid: Option<Uuid>,
    period: Period,
    base: String,
) -> Result<std::fs::File, ApiError> {
    read_with(&*state.store, move |tx| {
        let mut file = tempfile::tempfile()?;
        if xlsx {
            let mut sink = XlsxSink::new();
            crate::ledger::write(tx, &p, kind, grid, period, &base, &mut sink)?;
            sink.finish(&mut file)?;
        } else {
            let mut sink = CsvSink::new(std::io::BufWriter::new(&mut file))?;
            crate::ledger::write(tx, &p, kind, grid, period, &base, &mut sink)?;
            sink.finish()?;
        }
        file.seek(SeekFrom::Start(0))?;
        Ok(file)
    })
    .await
    .map_err(Into::into)
}

/// The response that streams a ledger file to the browser, named for the period.
pub fn ledger_response(
    file: std::fs::File,
    kind: LedgerKind,
    xlsx: bool,
    period: Period,
) -> Response {
    let stream = tokio_util::io::ReaderStream::new(tokio::fs::File::from_std(file));
    let last_day = (period.to - Duration::days(1)).with_timezone(&beijing());
    let name = format!(
        "{}_{}_{}.{}",
        kind.title(),
        period.from.with_timezone(&beijing()).format("%Y%m%d"),
        last_day.format("%Y%m%d"),
        if xlsx { "xlsx" } else { "csv" }
    );
    let encoded: String = name
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'_' | b'-' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    (
        [
            (
                header::CONTENT_TYPE,
                if xlsx {
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
                } else {
                    "text/csv; charset=utf-8"
                }
                .to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"ledger.{}\"; filename*=UTF-8''{encoded}",
                    if xlsx { "xlsx" } else { "csv" }
                ),
            ),
        ],
        Body::from_stream(stream),
    )
        .into_response()
}

/// `visits.xlsx` → (visits, true).
pub fn ledger_name(file: &str) -> Result<(LedgerKind, bool), ApiError> {
    let (name, ext) = file
        .rsplit_once('.')
        .ok_or_else(|| ApiError::NotFound("ask for visits.xlsx, issues.csv, …".into()))?;
    let kind = LedgerKind::from_code(name)
        .ok_or_else(|| ApiError::NotFound(format!("no ledger called {name:?}")))?;
    match ext {
        "xlsx" => Ok((kind, true)),
        "csv" => Ok((kind, false)),
        _ => Err(ApiError::NotFound("a ledger is .xlsx or .csv".into())),
    }
}

#[utoipa::path(get, path = "/office/export/{file}", tag = "office",
    params(("file" = String, Path, description = "visits|issues|orders|service|checkins|households, then .xlsx or .csv"),
        ("from" = Option<String>, Query), ("to" = Option<String>, Query), ("grid" = Option<String>, Query)),
    responses((status = 200, description = "the ledger (台账): XLSX with Chinese headers, or CSV in UTF-8 with a BOM", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 404, description = "no such ledger", body = gridmate_protocol::ErrorBody)))]
pub(crate) async fn export(
    State(state): State<AppState>,
    OfficeUser(p): OfficeUser,
    ApiPath(file): ApiPath<String>,
    headers: axum::http::HeaderMap,
    q: Params,
) -> Result<Response, ApiError> {
    let (kind, xlsx) = ledger_name(&file)?;
    let (period, grid) = (q.period()?, q.uuid("grid")?);
    let file = ledger_file(&state, p, kind, xlsx, grid, period, base_url(&headers)).await?;
    Ok(ledger_response(file, kind, xlsx, period))
}

/// The server's address as the caller reached it, for links in ledgers.
pub fn base_url(headers: &axum::http::HeaderMap) -> String {
    headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            h.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | ':' | '-' | '[' | ']'))
        })
        .map_or_else(String::new, |h| format!("http://{h}"))
}

/// Plan, and with `commit` write, a community's per-person ledger into the caller's grids, in one
/// write transaction (community office only).
pub async fn import_people_file(
    state: &AppState,
    p: Principal,
    bytes: Vec<u8>,
    commit: bool,
) -> Result<crate::import::people::Plan, ApiError> {
    must_administer(&p)?;
    write_with(&*state.store, move |tx| {
        let plan = crate::import::people::plan(tx, &p.grids, &bytes, commit)?;
        if plan.committed {
            admin::audit(
                tx,
                p.user_id,
                "import_people",
                "",
                &format!(
                    "{} households, {} residents",
                    plan.households_new, plan.residents_new
                ),
            )?;
        }
        Ok(plan)
    })
    .await
    .map_err(Into::into)
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
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let commit = q.flag("commit")?;
    let plan = import_people_file(&state, p, body.to_vec(), commit).await?;
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

/// Plan, and with `commit` write, the base maps of the caller's grids from a GeoJSON file, in one
/// write transaction (community office only). `Ok(Err(problems))`: the file was refused.
pub async fn import_base_map_file(
    state: &AppState,
    p: Principal,
    bytes: Vec<u8>,
    commit: bool,
) -> Result<Result<crate::import::base_map::Plan, Vec<crate::import::ImportProblem>>, ApiError> {
    must_administer(&p)?;
    write_with(&*state.store, move |tx| {
        let planned = crate::import::base_map::plan(tx, &p.grids, &bytes, commit)?;
        if let Ok(plan) = &planned
            && plan.committed
        {
            admin::audit(
                tx,
                p.user_id,
                "import_base_map",
                "",
                &format!("{} grids", plan.grids.len()),
            )?;
        }
        Ok(planned)
    })
    .await
    .map_err(Into::into)
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
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let commit = q.flag("commit")?;
    match import_base_map_file(&state, p, body.to_vec(), commit).await? {
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
    let rows = read_with(&*state.store, move |tx| office::callups(tx, &p)).await?;
    Ok(Json(rows).into_response())
}

#[utoipa::path(get, path = "/office/departments", tag = "office",
    responses((status = 200, description = "the departments issues can be sent to")))]
pub(crate) async fn departments(
    State(state): State<AppState>,
    OfficeUser(_p): OfficeUser,
) -> Result<Response, ApiError> {
    let rows = read_with(&*state.store, office::departments).await?;
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
    write_with(&*state.store, move |tx| {
        admin::put_department(tx, id, &body.name, body.phone.as_deref())?;
        admin::audit(tx, p.user_id, "put_department", &id.to_string(), &body.name)
    })
    .await?;
    Ok(Json(serde_json::json!({ "id": id, "name": name })).into_response())
}

/// One time limit as the office reads and sets it.
#[derive(serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct TimeLimitEntry {
    pub category: String,
    pub severity: String,
    pub hours: u32,
    /// The default when the office sets none (read only).
    #[serde(default, skip_deserializing)]
    pub default_hours: u32,
}

#[derive(serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct TimeLimitsBody {
    pub limits: Vec<TimeLimitEntry>,
}

/// Every category and severity with the limit in force.
pub fn time_limit_entries(limits: &gridmate_model::issue::TimeLimits) -> Vec<TimeLimitEntry> {
    use gridmate_model::{IssueCategory, Severity};
    IssueCategory::ALL
        .into_iter()
        .flat_map(|c| Severity::ALL.into_iter().map(move |s| (c, s)))
        .map(|(c, s)| TimeLimitEntry {
            category: c.code().into(),
            severity: s.code().into(),
            hours: limits.limit(c, s).num_hours() as u32,
            default_hours: gridmate_model::issue::time_limit(c, s).num_hours() as u32,
        })
        .collect()
}

#[utoipa::path(get, path = "/office/time-limits", tag = "office",
    responses((status = 200, description = "the limit in force for every category and severity, in hours, with its default", body = TimeLimitsBody)))]
pub(crate) async fn time_limits(
    State(state): State<AppState>,
    OfficeUser(_p): OfficeUser,
) -> Result<Response, ApiError> {
    let limits = read_with(&*state.store, crate::store::limits::load).await?;
    Ok(Json(TimeLimitsBody {
        limits: time_limit_entries(&limits),
    })
    .into_response())
}

/// Set some limits (the others keep theirs); all or none, audited.
pub async fn set_time_limits_of(
    state: &AppState,
    p: Principal,
    entries: Vec<(String, String, u32)>,
) -> Result<(), ApiError> {
    use gridmate_model::{IssueCategory, Severity};
    must_administer(&p)?;
    write_with(&*state.store, move |tx| {
        let mut limits = crate::store::limits::load(tx)?;
        let mut changed = Vec::new();
        for (c, s, hours) in &entries {
            let (Some(cat), Some(sev)) = (IssueCategory::from_code(c), Severity::from_code(s))
            else {
                return Err(StoreError::Invalid(format!(
                    "no category {c:?} or severity {s:?}"
                )));
            };
            if limits.limit(cat, sev).num_hours() as u32 != *hours {
                changed.push(format!("{c}/{s}={hours}h"));
            }
            limits
                .set(cat, sev, *hours)
                .map_err(|e| StoreError::Invalid(e.to_string()))?;
        }
        crate::store::limits::save(tx, &limits)?;
        if !changed.is_empty() {
            admin::audit(tx, p.user_id, "set_time_limits", "", &changed.join(" "))?;
        }
        Ok(())
    })
    .await
    .map_err(Into::into)
}

#[utoipa::path(put, path = "/office/time-limits", tag = "office", request_body = TimeLimitsBody,
    responses((status = 200, description = "the limits now in force", body = TimeLimitsBody),
        (status = 403, description = "only the community office sets them", body = gridmate_protocol::ErrorBody),
        (status = 422, description = "an unknown code, or hours outside 1–2160; nothing changed", body = gridmate_protocol::ErrorBody)))]
pub(crate) async fn set_time_limits(
    State(state): State<AppState>,
    OfficeUser(p): OfficeUser,
    ApiJson(body): ApiJson<TimeLimitsBody>,
) -> Result<Response, ApiError> {
    let entries = body
        .limits
        .into_iter()
        .map(|e| (e.category, e.severity, e.hours))
        .collect();
    set_time_limits_of(&state, p, entries).await?;
    let limits = read_with(&*state.store, crate::store::limits::load).await?;
    Ok(Json(TimeLimitsBody {
        limits: time_limit_entries(&limits),
    })
    .into_response())
}

/// A new person the office registers: a field role, the grids (or, for a building leader, the
/// buildings) they serve, and a first password they change on the phone.
pub struct NewPerson {
    pub name: String,
    pub phone: String,
    pub role: Role,
    pub grids: Vec<Uuid>,
    pub buildings: Vec<Uuid>,
    pub password: String,
}

/// Register a person within the office's own grids, and note it.
pub async fn add_person(state: &AppState, p: Principal, n: NewPerson) -> Result<Uuid, ApiError> {
    must_administer(&p)?;
    if matches!(n.role, Role::CommunityAdmin | Role::StreetViewer) {
        return Err(ApiError::Forbidden(
            "office accounts are made by the server's operator".into(),
        ));
    }
    write_with(&*state.store, move |tx| {
        let phone = gridmate_model::validate::phone(&n.phone)
            .map_err(|e| StoreError::Invalid(e.to_string()))?;
        let name = gridmate_model::validate::text(
            "name",
            &n.name,
            gridmate_model::validate::limits::NAME,
            true,
        )
        .map_err(|e| StoreError::Invalid(e.to_string()))?;
        if n.grids.is_empty() && n.buildings.is_empty() {
            return Err(StoreError::Invalid(
                "choose a grid (or a building) for them".into(),
            ));
        }
        if let Some(g) = n.grids.iter().find(|g| !p.grids.contains(g)) {
            return Err(StoreError::Invalid(format!("grid {g} is not yours")));
        }
        let mut places: Vec<(Option<Uuid>, Option<Uuid>)> =
            n.grids.iter().map(|g| (Some(*g), None)).collect();
        for b in &n.buildings {
            let grid = tx
                .record(gridmate_protocol::Entity::Building, *b)?
                .and_then(|r| r.grid_id)
                .filter(|g| p.grids.contains(g))
                .ok_or_else(|| StoreError::Invalid(format!("building {b} is not in your grids")))?;
            places.push((Some(grid), Some(*b)));
        }
        let id = Uuid::now_v7();
        admin::add_user(tx, id, &phone, &name, &[n.role], &n.password)?;
        for (grid, building) in places {
            admin::assign(tx, &phone, n.role, grid, building)?;
        }
        admin::audit(
            tx,
            p.user_id,
            "add_person",
            &id.to_string(),
            &format!("{name} {}", n.role.code()),
        )?;
        Ok(id)
    })
    .await
    .map_err(Into::into)
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
    let id = add_person(
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
