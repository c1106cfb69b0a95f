//! The JSON API: the routes of PROTOCOL.md under `/api/v1`, their extractors and handlers.
//! Handlers read and write through the store's named operations and the application layer
//! ([`crate::app`]); they parse a request and say the answer, and decide nothing else. Split by
//! concern: [`session`] (sign in and out), [`sync`] (pull, push, conflicts), [`blobs`]
//! (photos), [`office`] (the office's reads, commands and people); here the router, the
//! protocol-version gate and the extractors whose every rejection is the protocol's error body.
//!
//! It must never import the console ([`crate::console`]): what both need is in [`crate::app`].

pub mod blobs;
pub mod extract;
pub mod office;
pub mod session;
pub(crate) mod sync;

pub use extract::{MAX_BLOB_BYTES, MAX_JSON_BYTES};

use blobs::{blob_get, blob_head, blob_put};
use session::{login, logout};
use sync::{conflicts, pull, push};

use crate::app::AppState;
use crate::error::ApiError;
use crate::store::ServerStore;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use gridmate_protocol::*;

/// Count and time every request to a route of the API, by its route template.
async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |m| m.as_str())
        .to_string();
    let _in_flight = state.metrics.request_started();
    let started = std::time::Instant::now();
    let response = next.run(req).await;
    state
        .metrics
        .request_done(&route, response.status().as_u16(), started.elapsed());
    response
}

/// The routes under `/api/v1`, with `extra` (the OpenAPI document, served by
/// [`crate::routes`] which can name every route) among them: counted per route, their bodies
/// limited, their protocol version checked.
pub fn router(state: &AppState, extra: Router<AppState>) -> Router<AppState> {
    Router::new()
        .route("/health", get(health))
        .route("/session", post(login).delete(logout))
        .route("/sync/pull", get(pull))
        .route("/sync/push", post(push))
        .route("/sync/wake", get(sync::wake))
        .route("/conflicts", get(conflicts))
        .route(
            "/blobs/{sha256}",
            get(blob_get)
                .head(blob_head)
                .put(blob_put)
                .layer(DefaultBodyLimit::max(MAX_BLOB_BYTES as usize + 1024)),
        )
        .merge(extra)
        .merge(office::routes())
        .route_layer(middleware::from_fn_with_state(state.clone(), track))
        .layer(DefaultBodyLimit::max(MAX_JSON_BYTES))
        .layer(middleware::from_fn(protocol_version))
}

/// 426 for an app that speaks another protocol version. An absent header is taken as version 1
/// (curl, health checks).
async fn protocol_version(req: Request, next: Next) -> Response {
    if let Some(v) = req.headers().get(PROTOCOL_HEADER) {
        let sent = v.to_str().unwrap_or("?").trim().to_string();
        if sent != PROTOCOL_VERSION.to_string() {
            return ApiError::UpgradeRequired {
                sent: sent.chars().take(20).collect(),
                served: PROTOCOL_VERSION.to_string(),
            }
            .into_response();
        }
    }
    next.run(req).await
}

#[utoipa::path(get, path = "/health", tag = "service", security(()),
    responses((status = 200, description = "alive, with the schema and protocol versions", body = Health)))]
pub(crate) async fn health(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    Ok(Json(Health {
        status: "ok".into(),
        schema_version: state.store.schema_version().await?,
        protocol_versions: vec![PROTOCOL_VERSION],
    }))
}
