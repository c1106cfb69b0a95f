//! The HTTP surface: routes of PROTOCOL.md, their extractors and handlers. Handlers speak to the
//! database only through [`ServerStore`].

use crate::auth::{self, LoginLimiter};
use crate::error::{ApiError, error_response};
use crate::sqlite::TOKEN_TTL_DAYS;
use crate::store::{Principal, PullCursor, PullRefusal, ServerStore, SessionLookup};
use axum::body::Bytes;
use axum::extract::rejection::JsonRejection;
use axum::extract::{
    ConnectInfo, DefaultBodyLimit, FromRequest, FromRequestParts, Path, Query, Request, State,
};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use gridmate_protocol::*;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::net::SocketAddr;
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
    pub limiter: Arc<LoginLimiter>,
    pub blob_dir: PathBuf,
}

impl AppState {
    pub fn new(store: Arc<dyn ServerStore>, data_dir: &std::path::Path) -> std::io::Result<Self> {
        let blob_dir = data_dir.join("blobs");
        std::fs::create_dir_all(blob_dir.join("partial"))?;
        Ok(Self {
            store,
            // Five wrong passwords per phone or address in fifteen minutes.
            limiter: Arc::new(LoginLimiter::new(5, Duration::from_secs(15 * 60))),
            blob_dir,
        })
    }
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
        .layer(DefaultBodyLimit::max(MAX_JSON_BYTES))
        .layer(middleware::from_fn(protocol_version));
    Router::new()
        .nest(API_BASE, api)
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
        .layer(
            tower_http::compression::CompressionLayer::new()
                .quality(tower_http::CompressionLevel::Fastest),
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
        .layer(tower_http::trace::TraceLayer::new_for_http())
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
async fn health(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    Ok(Json(Health {
        status: "ok".into(),
        schema_version: state.store.schema_version().await?,
        protocol_versions: vec![PROTOCOL_VERSION],
    }))
}

#[utoipa::path(post, path = "/session", tag = "session", security(()), request_body = LoginRequest,
    responses(
        (status = 200, description = "signed in: the device's token, the user and their assignments", body = LoginResponse),
        (status = 401, description = "wrong phone number or password", body = ErrorBody),
        (status = 422, description = "a field is too long", body = ErrorBody),
        (status = 429, description = "too many failed sign-ins; Retry-After says when to try again", body = ErrorBody,
            headers(("Retry-After" = u64, description = "seconds")))))]
async fn login(
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
    let phone_key = format!("phone:{}", req.phone.trim());
    let keys = [phone_key.clone(), format!("addr:{}", addr.ip())];
    if let Some(retry_after_s) = state.limiter.check(&keys) {
        return Err(ApiError::RateLimited { retry_after_s });
    }
    let user = state
        .store
        .user_by_phone(req.phone.trim().to_string())
        .await?;
    let password = req.password.clone();
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
        state.limiter.fail(&keys);
        tracing::info!(addr = %addr.ip(), "login refused");
        return Err(ApiError::Unauthorized {
            code: "bad_credentials",
            message: "wrong phone number or password".into(),
        });
    };
    state.limiter.succeed(&phone_key);
    let (token, hash) = auth::new_token();
    state
        .store
        .create_session(
            user.id,
            hash,
            req.device_id.clone(),
            req.device_name.clone(),
            TOKEN_TTL_DAYS,
        )
        .await?;
    let assignments = state.store.assignments(user.id).await?;
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

/// An Argon2id hash of nothing anyone knows, so unknown phones cost the same time as known ones.
static DUMMY_HASH: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| auth::hash_password("no such user").unwrap_or_default());

#[utoipa::path(delete, path = "/session", tag = "session",
    responses((status = 204, description = "this token is revoked")))]
async fn logout(
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

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct PullQuery {
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
        (status = 409, description = "scope_changed (the cursor is from before the caller's scope changed) or resync_required (older than the tombstones kept): pull from the start", body = ErrorBody)))]
async fn pull(
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
        Ok(page) => Ok(Json(RawPullPage {
            changes: page.changes,
            cursor: format_cursor(epoch, page.cursor),
            has_more: page.has_more,
            scope_epoch: epoch,
            scope_count: page.scope_count,
            scope_digest: page.scope_digest,
        })),
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
async fn push(
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
    let results = state.store.push(p, req.mutations).await?;
    Ok(Json(PushResponse { results }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ConflictQuery {
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
async fn conflicts(
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

fn check_sha(sha: &str) -> Result<String, ApiError> {
    gridmate_model::PhotoRef::parse(sha)
        .map(|p| p.as_str().to_string())
        .ok_or_else(|| {
            ApiError::BadRequest("a blob is named by 64 hex digits of its SHA-256".into())
        })
}

fn upload_offset(len: u64) -> [(header::HeaderName, HeaderValue); 1] {
    [(
        header::HeaderName::from_static("upload-offset"),
        HeaderValue::from(len),
    )]
}

#[utoipa::path(head, path = "/blobs/{sha256}", tag = "photos",
    params(("sha256" = String, Path, pattern = "^[0-9a-fA-F]{64}$", description = "the photo's SHA-256")),
    responses(
        (status = 200, description = "the server holds the whole photo"),
        (status = 404, description = "not held; Upload-Offset says how much of an upload arrived",
            headers(("Upload-Offset" = u64, description = "bytes received so far")))))]
async fn blob_head(
    State(state): State<AppState>,
    _p: Principal,
    ApiPath(sha): ApiPath<String>,
) -> Result<Response, ApiError> {
    let sha = check_sha(&sha)?;
    if state.store.blob_known(sha.clone()).await? {
        return Ok(StatusCode::OK.into_response());
    }
    let partial = tokio::fs::metadata(state.blob_dir.join("partial").join(&sha))
        .await
        .map(|m| m.len())
        .unwrap_or(0);
    Ok((StatusCode::NOT_FOUND, upload_offset(partial)).into_response())
}

#[utoipa::path(get, path = "/blobs/{sha256}", tag = "photos",
    params(("sha256" = String, Path, pattern = "^[0-9a-fA-F]{64}$", description = "the photo's SHA-256")),
    responses(
        (status = 200, description = "the photo", content_type = "image/jpeg", body = Vec<u8>),
        (status = 403, description = "no record in the caller's scope uses this photo", body = ErrorBody),
        (status = 404, description = "no such photo", body = ErrorBody)))]
async fn blob_get(
    State(state): State<AppState>,
    p: Principal,
    ApiPath(sha): ApiPath<String>,
) -> Result<Response, ApiError> {
    let sha = check_sha(&sha)?;
    if !state.store.blob_known(sha.clone()).await? {
        return Err(ApiError::NotFound("no such photo".into()));
    }
    if !state.store.blob_visible(p, sha.clone()).await? {
        return Err(ApiError::Forbidden(
            "no record in your scope uses this photo".into(),
        ));
    }
    let bytes = tokio::fs::read(state.blob_dir.join(&sha))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/jpeg"),
            (
                header::CACHE_CONTROL,
                "private, max-age=31536000, immutable",
            ),
        ],
        bytes,
    )
        .into_response())
}

/// `Content-Range: bytes START-END/TOTAL`; absent means the whole blob in one piece;
/// `bytes */TOTAL` with an empty body asks to finish an upload whose bytes are all held (the
/// last part arrived but its answer was lost before the blob was verified).
fn parse_content_range(headers: &HeaderMap, len: u64) -> Result<(u64, u64), ApiError> {
    let Some(v) = headers.get(header::CONTENT_RANGE) else {
        return Ok((0, len));
    };
    let bad = || {
        ApiError::BadRequest(
            "Content-Range must be 'bytes START-END/TOTAL' or 'bytes */TOTAL'".into(),
        )
    };
    let v = v
        .to_str()
        .map_err(|_| bad())?
        .strip_prefix("bytes ")
        .ok_or_else(bad)?;
    let (range, total) = v.split_once('/').ok_or_else(bad)?;
    if range == "*" && len == 0 {
        let total: u64 = total.parse().map_err(|_| bad())?;
        return Ok((total, total));
    }
    let (start, end) = range.split_once('-').ok_or_else(bad)?;
    let (start, end, total): (u64, u64, u64) = (
        start.parse().map_err(|_| bad())?,
        end.parse().map_err(|_| bad())?,
        total.parse().map_err(|_| bad())?,
    );
    if end < start || end >= total || end - start + 1 != len {
        return Err(bad());
    }
    Ok((start, total))
}

fn is_image(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0xFF, 0xD8, 0xFF]) || bytes.starts_with(b"\x89PNG\r\n\x1a\n")
}

#[utoipa::path(put, path = "/blobs/{sha256}", tag = "photos",
    params(("sha256" = String, Path, pattern = "^[0-9a-fA-F]{64}$", description = "the photo's SHA-256"),
        ("Content-Range" = Option<String>, Header, description = "bytes START-END/TOTAL of a part, or bytes */TOTAL to finish")),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses(
        (status = 200, description = "already held"),
        (status = 201, description = "complete and verified against its name"),
        (status = 202, description = "part stored", headers(("Upload-Offset" = u64, description = "bytes received so far"))),
        (status = 409, description = "the part does not start where the upload stands", body = ErrorBody),
        (status = 422, description = "the bytes do not hash to the name, or are not an image", body = ErrorBody)))]
async fn blob_put(
    State(state): State<AppState>,
    _p: Principal,
    ApiPath(sha): ApiPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let sha = check_sha(&sha)?;
    if state.store.blob_known(sha.clone()).await? {
        return Ok(StatusCode::OK.into_response());
    }
    let (start, total) = parse_content_range(&headers, body.len() as u64)?;
    if total > MAX_BLOB_BYTES {
        return Err(ApiError::TooLarge(format!(
            "a photo may be at most {MAX_BLOB_BYTES} bytes"
        )));
    }
    // The part is written and the blob verified in a task of its own: a client that hangs up
    // mid-request must not leave a complete upload half-finished.
    tokio::spawn(store_part(state, sha, start, total, body))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
}

async fn store_part(
    state: AppState,
    sha: String,
    start: u64,
    total: u64,
    body: Bytes,
) -> Result<Response, ApiError> {
    use tokio::io::AsyncWriteExt;
    let partial = state.blob_dir.join("partial").join(&sha);
    let have = tokio::fs::metadata(&partial)
        .await
        .map(|m| m.len())
        .unwrap_or(0);
    if start != have {
        let mut r = ApiError::Conflict {
            code: "upload_offset",
            message: format!("resume at byte {have}"),
        }
        .into_response();
        r.headers_mut().extend(upload_offset(have));
        return Ok(r);
    }
    let mut f = tokio::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&partial)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    f.write_all(&body)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    f.sync_all()
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    drop(f);
    let now_have = have + body.len() as u64;
    if now_have < total {
        return Ok((StatusCode::ACCEPTED, upload_offset(now_have)).into_response());
    }
    let bytes = tokio::fs::read(&partial)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let digest = gridmate_model::hex::encode(&Sha256::digest(&bytes));
    if digest != sha {
        let _ = tokio::fs::remove_file(&partial).await;
        return Err(ApiError::Unprocessable {
            code: "hash_mismatch",
            message: "the bytes do not hash to the name they were sent under".into(),
        });
    }
    if !is_image(&bytes) {
        let _ = tokio::fs::remove_file(&partial).await;
        return Err(ApiError::UnsupportedMedia(
            "a photo must be a JPEG or PNG".into(),
        ));
    }
    tokio::fs::rename(&partial, state.blob_dir.join(&sha))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    state.store.blob_received(sha, bytes.len() as u64).await?;
    Ok(StatusCode::CREATED.into_response())
}

async fn openapi() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        crate::openapi::document(),
    )
        .into_response()
}
