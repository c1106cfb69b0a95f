//! The server's one router: the JSON API under `/api/v1` with its OpenAPI document, the console
//! under `/console/`, the Prometheus counters at `/metrics`, and the layers every request goes
//! through (compression, a time limit, a caught panic, a request id in every log line).
//!
//! This is the top of the crate: it names both faces and nothing below imports it.

use crate::app::AppState;
use crate::error::{ApiError, error_response};
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use gridmate_protocol::API_BASE;
use std::time::Duration;
use tower_http::compression::Predicate;
use tower_http::compression::predicate::{DefaultPredicate, NotForContentType};

pub fn router(state: AppState) -> Router {
    let openapi = Router::new().route("/openapi.json", get(openapi));
    Router::new()
        .nest(API_BASE, crate::api::router(&state, openapi))
        .merge(crate::console::router())
        .merge(crate::resident::router())
        .route("/metrics", get(metrics))
        .fallback(|| async { ApiError::NotFound("no such route".into()) })
        .method_not_allowed_fallback(|| async {
            error_response(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this route does not take that method",
            )
        })
        // Cookies marked Secure, and HSTS, for what came over HTTPS through a trusted proxy.
        .layer(axum::middleware::from_fn_with_state(
            state.trusted_proxies.clone(),
            crate::proxy::mark_secure,
        ))
        // Whatever a handler left unread is read before its answer goes out (`body_limit`).
        .layer(axum::middleware::from_fn(crate::body_limit::hear_out))
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

async fn openapi() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        crate::openapi::document(),
    )
        .into_response()
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
