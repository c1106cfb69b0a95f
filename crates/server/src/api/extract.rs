//! What an API handler takes from a request, each refusal the protocol's error body with the
//! right status: JSON and raw bodies, query strings and paths, and the bearer token's [`Principal`].
//! The handlers of [`super`]'s children use these; nothing here names a handler.

use crate::app::AppState;
use crate::auth;
use crate::error::ApiError;
use crate::store::{Principal, ServerStore, SessionLookup};
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};

/// Largest JSON body (a 500-mutation push with long notes fits well within it).
pub const MAX_JSON_BYTES: usize = 4 * 1024 * 1024;
/// Largest photo: the device sends ≤ 1600 px JPEGs of a few hundred kB.
pub const MAX_BLOB_BYTES: u64 = 10 * 1024 * 1024;

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

/// The raw body (a photo, an uploaded file) whose every rejection is the protocol's error body:
/// axum's own says "Failed to buffer the request body" in plain text.
pub struct ApiBytes(pub axum::body::Bytes);

impl<S: Send + Sync> FromRequest<S> for ApiBytes {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::body::Bytes::from_request(req, state).await {
            Ok(bytes) => Ok(ApiBytes(bytes)),
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(ApiError::TooLarge(
                "the body is larger than this route takes".into(),
            )),
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
