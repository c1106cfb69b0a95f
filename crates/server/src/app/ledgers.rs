//! The ledgers (台账) as files: written inside one read snapshot into a temporary file, then
//! streamed to the browser under a name that says the ledger and its period.

use super::params::Params;
use super::state::AppState;
use crate::error::ApiError;
use crate::ledger::{CsvSink, LedgerKind, LedgerRequest, XlsxSink, beijing};
use crate::store::{Backend, Principal};
use axum::body::Body;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::Duration;
use gridmate_words::Lang;
use std::io::{Seek, SeekFrom};

/// `visits.xlsx` and the query's period and grid, in the asker's language.
pub fn ledger_request(file: &str, q: &Params, lang: Lang) -> Result<LedgerRequest, ApiError> {
    let (kind, xlsx) = ledger_name(file)?;
    Ok(LedgerRequest {
        kind,
        xlsx,
        grid: q.uuid("grid")?,
        period: q.period()?,
        lang,
    })
}

/// Write a ledger into a temporary file inside one read snapshot; the caller streams the file.
pub async fn ledger_file(
    state: &AppState,
    p: Principal,
    ask: LedgerRequest,
    base: String,
) -> Result<std::fs::File, ApiError> {
    let xlsx = ask.xlsx;
    state
        .store
        .read(move |tx| {
            let mut file = tempfile::tempfile()?;
            if xlsx {
                let mut sink = XlsxSink::new();
                crate::ledger::write(tx, &p, &ask, &base, &mut sink)?;
                sink.finish(&mut file)?;
            } else {
                let mut sink = CsvSink::new(std::io::BufWriter::new(&mut file))?;
                crate::ledger::write(tx, &p, &ask, &base, &mut sink)?;
                sink.finish()?;
            }
            file.seek(SeekFrom::Start(0))?;
            Ok(file)
        })
        .await
        .map_err(Into::into)
}

/// The response that streams a ledger file to the browser, named for the period.
pub fn ledger_response(file: std::fs::File, ask: LedgerRequest) -> Response {
    let LedgerRequest {
        kind, xlsx, period, ..
    } = ask;
    let stream = tokio_util::io::ReaderStream::new(tokio::fs::File::from_std(file));
    let last_day = (period.to - Duration::days(1)).with_timezone(&beijing());
    let name = format!(
        "{}_{}_{}.{}",
        kind.title(ask.lang),
        period.from.with_timezone(&beijing()).format("%Y%m%d"),
        last_day.format("%Y%m%d"),
        if xlsx { "xlsx" } else { "csv" }
    );
    let encoded: String = name
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'_' | b'-' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    (
        [
            (
                header::CONTENT_TYPE,
                if xlsx {
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
                } else {
                    "text/csv; charset=utf-8"
                }
                .to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"ledger.{}\"; filename*=UTF-8''{encoded}",
                    if xlsx { "xlsx" } else { "csv" }
                ),
            ),
        ],
        Body::from_stream(stream),
    )
        .into_response()
}

/// `visits.xlsx` → (visits, true).
pub fn ledger_name(file: &str) -> Result<(LedgerKind, bool), ApiError> {
    let (name, ext) = file
        .rsplit_once('.')
        .ok_or_else(|| ApiError::NotFound("ask for visits.xlsx, issues.csv, …".into()))?;
    let kind = LedgerKind::from_code(name)
        .ok_or_else(|| ApiError::NotFound(format!("no ledger called {name:?}")))?;
    match ext {
        "xlsx" => Ok((kind, true)),
        "csv" => Ok((kind, false)),
        _ => Err(ApiError::NotFound("a ledger is .xlsx or .csv".into())),
    }
}

/// The server's address as the caller reached it, for links in ledgers.
pub fn base_url(headers: &axum::http::HeaderMap) -> String {
    headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            h.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | ':' | '-' | '[' | ']'))
        })
        .map_or_else(String::new, |h| format!("http://{h}"))
}
