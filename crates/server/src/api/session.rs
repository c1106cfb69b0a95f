//! Signing in and out: `POST /session` (Argon2id, the login limiter, a new hashed token) and
//! `DELETE /session`.

use super::{ApiJson, AppState};
use crate::auth;
use crate::error::ApiError;
use crate::store::sessions::Start;
use crate::store::{Principal, UserRow};
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

/// The one sign-in check, for phones and the office console: the login limiter (per phone and
/// per address, counted in the database so every server process sees the same), then Argon2id
/// off the async threads.
pub(crate) async fn check_credentials(
    state: &AppState,
    phone: &str,
    password: &str,
    ip: std::net::IpAddr,
) -> Result<UserRow, ApiError> {
    let phone_key = format!("phone:{}", phone.trim());
    let keys = [phone_key.clone(), format!("addr:{ip}")];
    if let Some(retry_after_s) = state.store.login_blocked(keys.to_vec()).await? {
        return Err(ApiError::RateLimited { retry_after_s });
    }
    let user = state.store.user_by_phone(phone.trim().to_string()).await?;
    let password = password.to_string();
    let stored = user.as_ref().map(|u| u.password_hash.clone());
    // Argon2 takes tens of milliseconds of CPU: off the async threads. An unknown phone is
    // checked against a dummy hash so the answer takes as long either way.
    let ok = tokio::task::spawn_blocking(move || match stored {
        Some(h) => auth::verify_password(&password, &h),
        None => {
            auth::verify_password(&password, &DUMMY_HASH);
            false
        }
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    let Some(user) = user.filter(|_| ok) else {
        state.store.login_failed(keys.to_vec()).await?;
        state.metrics.login_failed();
        tracing::info!(addr = %ip, "login refused");
        return Err(ApiError::Unauthorized {
            code: "bad_credentials",
            message: "wrong phone number or password".into(),
        });
    };
    state.store.login_succeeded(phone_key).await?;
    Ok(user)
}

/// An Argon2id hash of nothing anyone knows, so unknown phones cost the same time as known ones.
static DUMMY_HASH: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| auth::hash_password("no such user").unwrap_or_default());

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
