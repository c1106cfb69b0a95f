//! The HTTP surface: routes of PROTOCOL.md, their extractors and handlers. Handlers speak to the
//! database only through [`ServerStore`]. Split by concern: [`session`] (sign in and out),
//! [`sync`] (pull, push, conflicts), [`blobs`] (photos), [`office`] (the office's reads and
//! people); here the router, the protocol-version
//! gate and the extractors whose every rejection is the protocol's error body.

pub mod blobs;
pub mod office;
pub mod session;
pub(crate) mod sync;

use blobs::{blob_get, blob_head, blob_put};
use session::{login, logout};
use sync::{conflicts, pull, push};
use tower_http::compression::Predicate;
use tower_http::compression::predicate::{DefaultPredicate, NotForContentType};

use crate::auth;
use crate::blobs::{BlobFolder, BlobStore};
use crate::error::{ApiError, error_response};
use crate::metrics::Metrics;
use crate::store::{Principal, ServerStore, SessionLookup};
use axum::extract::rejection::JsonRejection;
use axum::extract::{
    DefaultBodyLimit, FromRequest, FromRequestParts, MatchedPath, Path, Query, Request, State,
};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use gridmate_protocol::*;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Largest JSON body (a 500-mutation push with long notes fits well within it).
pub const MAX_JSON_BYTES: usize = 4 * 1024 * 1024;
/// Largest photo: the device sends ≤ 1600 px JPEGs of a few hundred kB.
pub const MAX_BLOB_BYTES: u64 = 10 * 1024 * 1024;

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn ServerStore>,
    /// The photos: `DATA/blobs` unless the server was given an object store.
    pub blobs: Arc<dyn BlobStore>,
    /// Ledgers uploaded to the console, held between the dry run and the import (by SHA-256).
    pub upload_dir: PathBuf,
    pub metrics: Arc<Metrics>,
}

impl AppState {
    /// A server on `store`, its photos in `DATA/blobs`.
    pub fn new(store: Arc<dyn ServerStore>, data_dir: &std::path::Path) -> std::io::Result<Self> {
        let blobs = BlobFolder::open(data_dir.join("blobs")).map_err(std::io::Error::other)?;
        AppState::with_blobs(store, Arc::new(blobs), data_dir)
    }

    /// A server on `store` with its photos in `blobs` (an object store several processes share).
    pub fn with_blobs(
        store: Arc<dyn ServerStore>,
        blobs: Arc<dyn BlobStore>,
        data_dir: &std::path::Path,
    ) -> std::io::Result<Self> {
        let upload_dir = data_dir.join("uploads");
        std::fs::create_dir_all(&upload_dir)?;
        Ok(Self {
            store,
            blobs,
            upload_dir,
            metrics: Arc::new(Metrics::default()),
        })
    }
}

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

/// `GET /metrics`: the Prometheus text format (no personal data: route templates and counts).
async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}

pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/health", get(health))
        .route("/session", post(login).delete(logout))
        .route("/sync/pull", get(pull))
        .route("/sync/push", post(push))
        .route("/conflicts", get(conflicts))
        .route(
            "/blobs/{sha256}",
            get(blob_get)
                .head(blob_head)
                .put(blob_put)
                .layer(DefaultBodyLimit::max(MAX_BLOB_BYTES as usize + 1024)),
        )
        .route("/openapi.json", get(openapi))
        .merge(office::routes())
        .route_layer(middleware::from_fn_with_state(state.clone(), track))
        .layer(DefaultBodyLimit::max(MAX_JSON_BYTES))
        .layer(middleware::from_fn(protocol_version));
    Router::new()
        .nest(API_BASE, api)
        .merge(crate::console::router())
        .route("/metrics", get(metrics))
        .fallback(|| async { ApiError::NotFound("no such route".into()) })
        .method_not_allowed_fallback(|| async {
            error_response(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this route does not take that method",
            )
        })
        // The fastest level: a first sync is CPU-bound on the server's compression, and pages
        // of repetitive JSON compress almost as well at level 1 (measured: 1.39 MB against
        // 1.49 MB at the default, 7 % faster initial sync).
        // An XLSX ledger is a zip already: compressing it again cost a year's ledger a second
        // of CPU for a few bytes.
        .layer(
            tower_http::compression::CompressionLayer::new()
                .quality(tower_http::CompressionLevel::Fastest)
                .compress_when(DefaultPredicate::new().and(NotForContentType::const_new(
                    "application/vnd.openxmlformats",
                ))),
        )
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(|_| {
            error_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "internal error",
            )
        }))
        // Every request carries an id (the client's `x-request-id`, or a new UUID), in its log
        // span and in the answer, so one device's complaint finds its lines in the logs.
        .layer(tower_http::trace::TraceLayer::new_for_http().make_span_with(
            |req: &axum::http::Request<axum::body::Body>| {
                let id = req
                    .headers()
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-");
                tracing::info_span!("request", method = %req.method(), uri = %req.uri(), request_id = %id)
            },
        ))
        .layer(tower_http::request_id::PropagateRequestIdLayer::x_request_id())
        .layer(tower_http::request_id::SetRequestIdLayer::x_request_id(
            tower_http::request_id::MakeRequestUuid,
        ))
        .with_state(state)
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

/// `Json` whose every rejection is the protocol's error body with the right status.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(ApiJson(v)),
            Err(JsonRejection::MissingJsonContentType(_)) => Err(ApiError::UnsupportedMedia(
                "send Content-Type: application/json".into(),
            )),
            Err(JsonRejection::BytesRejection(e))
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE =>
            {
                Err(ApiError::TooLarge(format!(
                    "the body is larger than {MAX_JSON_BYTES} bytes"
                )))
            }
            Err(e) => Err(ApiError::BadRequest(
                e.body_text().chars().take(300).collect(),
            )),
        }
    }
}

/// `Query` and `Path` whose rejections are the protocol's error body (axum's own are plain text).
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| ApiQuery(v))
            .map_err(|e| ApiError::BadRequest(e.body_text().chars().take(300).collect()))
    }
}

pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(v)| ApiPath(v))
            .map_err(|e| ApiError::BadRequest(e.body_text().chars().take(300).collect()))
    }
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or(ApiError::Unauthorized {
                code: "unauthorized",
                message: "sign in first (Authorization: Bearer <token>)".into(),
            })?;
        match state.store.session(auth::token_hash(token.trim())).await? {
            SessionLookup::Valid(p) => Ok(p),
            SessionLookup::Revoked => Err(ApiError::Unauthorized {
                code: "token_revoked",
                message: "this device was signed out; sign in again".into(),
            }),
            SessionLookup::Expired => Err(ApiError::Unauthorized {
                code: "token_expired",
                message: "the session expired; sign in again".into(),
            }),
            SessionLookup::Unknown => Err(ApiError::Unauthorized {
                code: "invalid_token",
                message: "unknown token".into(),
            }),
        }
    }
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

async fn openapi() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        crate::openapi::document(),
    )
        .into_response()
}
