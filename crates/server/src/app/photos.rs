//! Photos as their viewers get them: a photo is served only to a caller who can see a record
//! that uses it (the API's `GET /blobs/{sha256}` and the console's pages alike).

use super::state::AppState;
use crate::error::ApiError;
use crate::store::{Principal, ServerStore};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use gridmate_protocol::photo::PhotoProblem;

/// The photo's name checked: 64 hex digits of its SHA-256, lower-cased.
pub fn check_sha(sha: &str) -> Result<String, ApiError> {
    gridmate_model::PhotoRef::parse(sha)
        .map(|p| p.as_str().to_string())
        .ok_or_else(|| {
            ApiError::BadRequest("a blob is named by 64 hex digits of its SHA-256".into())
        })
}

/// A photo, if a record the caller can see uses it (the API's and the console's route).
pub async fn serve(state: &AppState, p: Principal, sha: &str) -> Result<Response, ApiError> {
    let sha = check_sha(sha)?;
    if !state.store.blob_known(sha.clone()).await? {
        return Err(ApiError::NotFound("no such photo".into()));
    }
    if !state.store.blob_visible(p, sha.clone()).await? {
        return Err(ApiError::Forbidden(
            "no record in your scope uses this photo".into(),
        ));
    }
    let Some(bytes) = state.blobs.read(&sha).await? else {
        return Err(ApiError::Internal(format!(
            "photo {sha} is on record but not in {}",
            state.blobs.describe()
        )));
    };
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

/// Keep a whole photo sent in one request (the resident page's form), checked as the API's
/// uploads are: the contract's JPEG or nothing. Its name, the SHA-256 of its bytes.
pub async fn receive_whole(state: &AppState, bytes: &[u8]) -> Result<String, ApiError> {
    use sha2::Digest;
    let problem = |p: PhotoProblem| match p {
        PhotoProblem::NotJpeg => ApiError::UnsupportedMedia(p.to_string()),
        _ => ApiError::Unprocessable {
            code: p.code(),
            message: p.to_string(),
        },
    };
    gridmate_protocol::photo::check_jpeg(bytes).map_err(problem)?;
    let sha = gridmate_model::hex::encode(&sha2::Sha256::digest(bytes));
    if state.store.blob_known(sha.clone()).await? {
        return Ok(sha);
    }
    // A half-kept earlier attempt under the same name starts again.
    state.blobs.discard(&sha).await?;
    state
        .blobs
        .append(&sha, axum::body::Bytes::copy_from_slice(bytes))
        .await?;
    state.blobs.keep(&sha).await?;
    state
        .store
        .blob_received(sha.clone(), bytes.len() as u64)
        .await?;
    Ok(sha)
}
