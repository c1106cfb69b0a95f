//! Photos by content hash: `HEAD`, `GET` and resumable `PUT /blobs/{sha256}`. A photo is served
//! only to callers who can see a record that references it.

use super::extract::{ApiBytes, ApiPath, MAX_BLOB_BYTES};
use crate::app::AppState;
use crate::app::photos::{self, check_sha};
use crate::error::ApiError;
use crate::store::{Principal, ServerStore};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use gridmate_protocol::ErrorBody;
use gridmate_protocol::photo::PhotoProblem;
use sha2::{Digest, Sha256};

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
pub(crate) async fn blob_head(
    State(state): State<AppState>,
    _p: Principal,
    ApiPath(sha): ApiPath<String>,
) -> Result<Response, ApiError> {
    let sha = check_sha(&sha)?;
    if state.store.blob_known(sha.clone()).await? {
        return Ok(StatusCode::OK.into_response());
    }
    let partial = state.blobs.partial_len(&sha).await?;
    Ok((StatusCode::NOT_FOUND, upload_offset(partial)).into_response())
}

#[utoipa::path(get, path = "/blobs/{sha256}", tag = "photos",
    params(("sha256" = String, Path, pattern = "^[0-9a-fA-F]{64}$", description = "the photo's SHA-256")),
    responses(
        (status = 200, description = "the photo", content_type = "image/jpeg", body = Vec<u8>),
        (status = 403, description = "no record in the caller's scope uses this photo", body = ErrorBody),
        (status = 404, description = "no such photo", body = ErrorBody)))]
pub(crate) async fn blob_get(
    State(state): State<AppState>,
    p: Principal,
    ApiPath(sha): ApiPath<String>,
) -> Result<Response, ApiError> {
    photos::serve(&state, p, &sha).await
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

#[utoipa::path(put, path = "/blobs/{sha256}", tag = "photos",
    params(("sha256" = String, Path, pattern = "^[0-9a-fA-F]{64}$", description = "the photo's SHA-256"),
        ("Content-Range" = Option<String>, Header, description = "bytes START-END/TOTAL of a part, or bytes */TOTAL to finish")),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses(
        (status = 200, description = "already held"),
        (status = 201, description = "complete and verified against its name"),
        (status = 202, description = "part stored", headers(("Upload-Offset" = u64, description = "bytes received so far"))),
        (status = 409, description = "the part does not start where the upload stands", body = ErrorBody),
        (status = 415, description = "not a JPEG", body = ErrorBody),
        (status = 422, description = "the bytes do not hash to the name, or the JPEG is truncated, malformed or over 1600 px (`hash_mismatch`, `invalid_photo`, `photo_too_large`)", body = ErrorBody)))]
pub(crate) async fn blob_put(
    State(state): State<AppState>,
    _p: Principal,
    ApiPath(sha): ApiPath<String>,
    headers: HeaderMap,
    ApiBytes(body): ApiBytes,
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
    let blobs = &state.blobs;
    let have = blobs.partial_len(&sha).await?;
    if start != have {
        let mut r = ApiError::Conflict {
            code: "upload_offset",
            message: format!("resume at byte {have}"),
        }
        .into_response();
        r.headers_mut().extend(upload_offset(have));
        return Ok(r);
    }
    let now_have = if body.is_empty() {
        have
    } else {
        blobs.append(&sha, body).await?
    };
    if now_have < total {
        return Ok((StatusCode::ACCEPTED, upload_offset(now_have)).into_response());
    }
    let bytes = blobs.partial(&sha).await?;
    let digest = gridmate_model::hex::encode(&Sha256::digest(&bytes));
    if digest != sha {
        blobs.discard(&sha).await?;
        return Err(ApiError::Unprocessable {
            code: "hash_mismatch",
            message: "the bytes do not hash to the name they were sent under".into(),
        });
    }
    // The contract's photo, checked from its headers: nothing that a phone or the office would
    // choke on decoding is ever stored or served.
    if let Err(problem) = gridmate_protocol::photo::check_jpeg(&bytes) {
        blobs.discard(&sha).await?;
        return Err(match problem {
            PhotoProblem::NotJpeg => ApiError::UnsupportedMedia(problem.to_string()),
            _ => ApiError::Unprocessable {
                code: problem.code(),
                message: problem.to_string(),
            },
        });
    }
    blobs.keep(&sha).await?;
    state.store.blob_received(sha, bytes.len() as u64).await?;
    Ok(StatusCode::CREATED.into_response())
}
