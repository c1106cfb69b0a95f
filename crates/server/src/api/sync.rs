//! The change feed and the outbox's destination: `GET /sync/pull`, `POST /sync/push`, and the
//! leaders' `GET /conflicts`.

use super::extract::{ApiJson, ApiQuery};
use crate::app::AppState;
use crate::error::ApiError;
use crate::store::ServerStore;
use crate::store::{Principal, PullCursor, PullRefusal};
use axum::Json;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, Stream, StreamExt};
use gridmate_protocol::*;
use serde::Deserialize;
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct PullQuery {
    /// The `cursor` of the previous page; absent for a first load.
    #[param(pattern = r"^[0-9]+\.[0-9]+(\.[0-9]+)?$")]
    cursor: Option<String>,
    /// Changes per page (default 1000, at most 5000).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 5000)]
    limit: Option<String>,
}

/// Cursors are `<scope_epoch>.<seq>`, or `<scope_epoch>.<seq>.<snapshot_head>` while a first
/// load of the scope is under way. A cursor from before the caller's scope changed is refused
/// with `scope_changed`, so the device drops its scope and pulls it afresh.
fn parse_cursor(c: &str) -> Option<(u64, PullCursor)> {
    let mut parts = c.split('.');
    let epoch = parts.next()?.parse().ok()?;
    let seq = parts.next()?.parse().ok()?;
    let snapshot_head = match parts.next() {
        Some(h) => h.parse().ok()?,
        None => 0,
    };
    parts
        .next()
        .is_none()
        .then_some((epoch, PullCursor { seq, snapshot_head }))
}

fn format_cursor(epoch: u64, c: PullCursor) -> String {
    if c.snapshot_head > c.seq {
        format!("{epoch}.{}.{}", c.seq, c.snapshot_head)
    } else {
        cursor_after(epoch, c.seq)
    }
}

#[utoipa::path(get, path = "/sync/pull", tag = "sync", params(PullQuery),
    responses(
        (status = 200, description = "a page of changes in the caller's scope", body = RawPullPage),
        (status = 409, description = "scope_changed (the cursor is from before the caller's scope changed) or resync_required (older than the tombstones kept, or from another database): pull from the start", body = ErrorBody)))]
pub(crate) async fn pull(
    State(state): State<AppState>,
    p: Principal,
    ApiQuery(q): ApiQuery<PullQuery>,
) -> Result<Json<RawPullPage>, ApiError> {
    let limit = match q.limit.as_deref() {
        None => DEFAULT_PULL_LIMIT,
        Some(l) => l
            .parse::<u32>()
            .map_err(|_| ApiError::BadRequest("limit must be a positive number".into()))?
            .clamp(1, MAX_PULL_LIMIT),
    };
    let cursor = match q.cursor.as_deref().filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => {
            let (epoch, seq) =
                parse_cursor(c).ok_or_else(|| ApiError::BadRequest("malformed cursor".into()))?;
            if epoch != p.scope_epoch {
                return Err(ApiError::Conflict {
                    code: "scope_changed",
                    message: "your assignments changed: pull your scope from the start".into(),
                });
            }
            Some(seq)
        }
    };
    let epoch = p.scope_epoch;
    match state.store.pull(p, cursor, limit).await? {
        Ok(page) => {
            state.metrics.pulled(page.changes.len());
            Ok(Json(RawPullPage {
                changes: page.changes,
                cursor: format_cursor(epoch, page.cursor),
                has_more: page.has_more,
                scope_epoch: epoch,
                scope_count: page.scope_count,
                scope_digest: page.scope_digest,
            }))
        }
        Err(PullRefusal::ResyncRequired) => Err(ApiError::Conflict {
            code: "resync_required",
            message: "this cursor is older than the change history kept; pull from the start"
                .into(),
        }),
    }
}

#[utoipa::path(post, path = "/sync/push", tag = "sync", request_body = PushRequest,
    responses(
        (status = 200, description = "one result per mutation, in the order sent", body = PushResponse),
        (status = 403, description = "the token belongs to another device", body = ErrorBody)))]
pub(crate) async fn push(
    State(state): State<AppState>,
    p: Principal,
    ApiJson(req): ApiJson<PushRequest>,
) -> Result<Json<PushResponse>, ApiError> {
    if req.mutations.len() > MAX_PUSH_BATCH {
        return Err(ApiError::TooLarge(format!(
            "at most {MAX_PUSH_BATCH} mutations per push"
        )));
    }
    if req.device_id != p.device_id {
        return Err(ApiError::Forbidden(
            "this token belongs to another device".into(),
        ));
    }
    let results = {
        let _queued = state.metrics.push_started();
        state.store.push(p, req.mutations).await?
    };
    state.metrics.pushed(&results);
    state.pushed();
    Ok(Json(PushResponse { results }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ConflictQuery {
    /// Entries after this one (the last `id` seen).
    #[param(value_type = Option<u64>)]
    after: Option<String>,
    /// Entries per answer (default 200, at most 1000).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1000)]
    limit: Option<String>,
}

/// A query number, refused with the protocol's error body (axum's own rejection is plain text).
fn query_number<T: std::str::FromStr>(
    v: Option<&str>,
    name: &str,
    default: T,
) -> Result<T, ApiError> {
    match v {
        None => Ok(default),
        Some(s) => s
            .parse()
            .map_err(|_| ApiError::BadRequest(format!("{name} must be a non-negative number"))),
    }
}

/// The conflict log of the caller's grids: values overwritten by a later edit. Leaders only.
#[utoipa::path(get, path = "/conflicts", tag = "sync", params(ConflictQuery),
    responses(
        (status = 200, description = "field values overwritten by a later edit in the caller's grids", body = serde_json::Value),
        (status = 403, description = "the conflict log is for grid leaders", body = ErrorBody)))]
pub(crate) async fn conflicts(
    State(state): State<AppState>,
    p: Principal,
    ApiQuery(q): ApiQuery<ConflictQuery>,
) -> Result<Response, ApiError> {
    use gridmate_model::Role;
    if !(p.has(Role::GridLeader) || p.has(Role::CommunityAdmin)) {
        return Err(ApiError::Forbidden(
            "the conflict log is for grid leaders".into(),
        ));
    }
    let rows = state
        .store
        .conflicts(
            p,
            query_number::<u64>(q.after.as_deref(), "after", 0)?.min(i64::MAX as u64) as i64,
            query_number::<u32>(q.limit.as_deref(), "limit", 200)?.min(1000),
        )
        .await?;
    Ok(Json(serde_json::json!({ "conflicts": rows })).into_response())
}

/// How long one wake stream lasts before the app reconnects (and its token is checked again).
pub const WAKE_STREAM_FOR: Duration = Duration::from_secs(60 * 60);
/// A comment line this often keeps proxies from closing an idle stream.
pub const WAKE_KEEPALIVE: Duration = Duration::from_secs(25);

#[utoipa::path(get, path = "/sync/wake", tag = "sync",
    responses(
        (status = 200, description = "Server-Sent Events: `ready` at once (pull once), then `pull` (data: the log's head) whenever records of your grids were committed by any server process, within about a second; a comment every 25 s; the stream ends after an hour (reconnect). `pull` only says pull now: what changed comes by /sync/pull", content_type = "text/event-stream"),
        (status = 401, description = "no valid token", body = ErrorBody)))]
pub(crate) async fn wake(
    State(state): State<AppState>,
    p: Principal,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let heard = state.bell.subscribe();
    let ends = tokio::time::Instant::now() + WAKE_STREAM_FOR;
    let ready = stream::once(async { Ok(Event::default().event("ready").data("")) });
    let pulls = stream::unfold((heard, p), move |(mut heard, p)| async move {
        loop {
            match tokio::time::timeout_at(ends, heard.recv()).await {
                Err(_elapsed) => return None,
                Ok(Ok(moved)) if moved.concerns(&p) => {
                    let event = Event::default().event("pull").data(moved.head.to_string());
                    return Some((Ok(event), (heard, p)));
                }
                Ok(Ok(_)) => {}
                // Fell behind the bell: something may be missing, so pull.
                Ok(Err(RecvError::Lagged(_))) => {
                    return Some((Ok(Event::default().event("pull").data("")), (heard, p)));
                }
                Ok(Err(RecvError::Closed)) => return None,
            }
        }
    });
    Sse::new(ready.chain(pulls)).keep_alive(KeepAlive::new().interval(WAKE_KEEPALIVE))
}
