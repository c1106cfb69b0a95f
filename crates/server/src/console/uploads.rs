//! Files the office uploads to import (the roll, a base map). An import is two requests: the
//! upload, planned as a dry run and shown; then a confirming form that names the upload by its
//! SHA-256, so the file is not sent twice and what is imported is exactly what was checked.
//! Kept uploads live in the server's upload folder until their import commits.

use super::frame::{ConsoleForm, ConsoleUser, refused};
use crate::app::AppState;
use crate::error::ApiError;
use axum::extract::Multipart;
use axum::response::{IntoResponse, Response};
use gridmate_words::{Lang, Msg};
use sha2::Digest;
use std::path::PathBuf;

/// The file of a console upload form, once the form's CSRF token is checked. An empty or absent
/// file is refused.
pub async fn posted_file(user: &ConsoleUser, mut form: Multipart) -> Result<Vec<u8>, Response> {
    let lang = user.lang;
    let mut csrf = None;
    let mut bytes = None;
    loop {
        match form.next_field().await {
            Ok(Some(field)) => match field.name() {
                Some("csrf") => csrf = field.text().await.ok(),
                Some("file") => match field.bytes().await {
                    Ok(b) => bytes = Some(b),
                    Err(e) => return Err(refused(lang, ApiError::TooLarge(e.body_text()))),
                },
                _ => {}
            },
            Ok(None) => break,
            Err(e) => return Err(refused(lang, ApiError::BadRequest(e.body_text()))),
        }
    }
    if csrf.as_deref() != Some(user.csrf.as_str()) {
        return Err(super::frame::Forged::of(lang).into_response());
    }
    match bytes.filter(|b| !b.is_empty()) {
        Some(b) => Ok(b.to_vec()),
        None => Err(refused(
            lang,
            ApiError::BadRequest(lang.t(Msg::OfficeChooseAFile).into()),
        )),
    }
}

/// Keep an upload for its confirming form; returns the name that form carries.
pub async fn keep(state: &AppState, lang: Lang, bytes: &[u8]) -> Result<String, Response> {
    let sha = gridmate_model::hex::encode(&sha2::Sha256::digest(bytes));
    match tokio::fs::write(state.upload_dir.join(&sha), bytes).await {
        Ok(()) => Ok(sha),
        Err(e) => Err(refused(lang, ApiError::Internal(e.to_string()))),
    }
}

/// The upload a confirming form names (its path, to drop once imported, and its bytes). A name
/// that is not a SHA-256 never reaches the file system.
pub async fn kept(state: &AppState, form: &ConsoleForm) -> Result<(PathBuf, Vec<u8>), Response> {
    let lang = form.user.lang;
    let Some(sha) = form
        .form
        .get("sha")
        .filter(|s| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()))
    else {
        return Err(refused(lang, ApiError::BadRequest("no such upload".into())));
    };
    let path = state.upload_dir.join(sha);
    match tokio::fs::read(&path).await {
        Ok(bytes) => Ok((path, bytes)),
        Err(_) => Err(refused(
            lang,
            ApiError::NotFound(lang.t(Msg::OfficeTheUploadIsGone).into()),
        )),
    }
}
