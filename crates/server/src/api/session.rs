//! Signing in and out: `POST /session` (Argon2id, the login limiter, a new hashed token) and
//! `DELETE /session`.

use super::extract::ApiJson;
use crate::app::AppState;
use crate::app::people::check_credentials;
use crate::auth;
use crate::error::ApiError;
use crate::store::sessions::Start;
use crate::store::{Principal, ServerStore};
use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use gridmate_protocol::*;
use std::net::SocketAddr;

#[utoipa::path(post, path = "/session", tag = "session", security(()), request_body = LoginRequest,
    responses(
        (status = 200, description = "signed in: the device's token, the user and their assignments", body = LoginResponse),
        (status = 401, description = "wrong phone number or password", body = ErrorBody),
        (status = 422, description = "a field is too long", body = ErrorBody),
        (status = 429, description = "too many failed sign-ins; Retry-After says when to try again", body = ErrorBody,
            headers(("Retry-After" = u64, description = "seconds")))))]
pub(crate) async fn login(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    ApiJson(req): ApiJson<LoginRequest>,
) -> Result<Json<LoginResponse>, ApiError> {
    if req.phone.len() > 32
        || req.password.len() > 256
        || req.device_id.len() > 128
        || req.device_name.len() > 128
    {
        return Err(ApiError::Unprocessable {
            code: "invalid",
            message: "a login field is too long".into(),
        });
    }
    let user = check_credentials(&state, &req.phone, &req.password, addr.ip()).await?;
    let (token, hash) = auth::new_token();
    let assignments = state
        .store
        .start_session(Start {
            user_id: user.id,
            token_hash: hash,
            device_id: req.device_id.clone(),
            device_name: req.device_name.clone(),
            ttl: chrono::Duration::days(crate::store::sessions::TOKEN_TTL_DAYS),
        })
        .await?;
    tracing::info!(user = %user.id, "login");
    Ok(Json(LoginResponse {
        token,
        user: UserInfo {
            id: user.id,
            name: user.name,
            roles: user.roles.iter().map(|r| r.code().to_string()).collect(),
        },
        assignments: assignments
            .into_iter()
            .map(|a| AssignmentInfo {
                grid_id: a.grid_id,
                building_id: a.building_id,
                role: a.role.code().into(),
            })
            .collect(),
        scope_epoch: user.scope_epoch,
    }))
}

#[utoipa::path(delete, path = "/session", tag = "session",
    responses((status = 204, description = "this token is revoked")))]
pub(crate) async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    _p: Principal,
) -> Result<StatusCode, ApiError> {
    if let Some(token) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    {
        state
            .store
            .revoke_session(auth::token_hash(token.trim()))
            .await?;
    }
    Ok(StatusCode::NO_CONTENT)
}
