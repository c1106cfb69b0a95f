//! The sync engine: the device half of the protocol, over HTTP.
//!
//! One [`sync`] run, in order:
//! 1. **push** the outbox, oldest first, 500 at a time; every answer is recorded (`applied` and
//!    `duplicate` acknowledge, `merged` acknowledges and is shown, `rejected` stays, failed, with
//!    the server's reason, and never blocks the entries behind it);
//! 2. **photos**: each photo the server does not confirm (`HEAD`) is uploaded with
//!    `Content-Range`, resuming where the server says a broken upload stopped; the local file is
//!    kept until the server holds it;
//! 3. **pull** pages from the saved cursor; each page and its cursor go into the store in ONE
//!    transaction, so a crash never skips or repeats one; local records with unsent changes are
//!    not overwritten by the older server copy;
//! 4. **verify** the scope: the last page's count and digest against the device's own; on a
//!    difference, re-pull the scope over the cache (no wipe) and sweep what the server no longer
//!    sends.
//!
//! `409 scope_changed`/`resync_required` drop the cached scope (never the outbox) and pull from
//! the start; `401 token_revoked` wipes residents' data and the session, keeping the outbox for
//! whoever signs in next. Every request has a timeout; a failure leaves the store consistent and
//! the next run continues where this one stopped. Scheduling (on start, on reconnect, after
//! writes, on a timer, with backoff) is the caller's: see [`backoff`].

use crate::store::{Session, Store};
use crate::{DeviceError, Result as DeviceResult};
use gridmate_model::{Assignment, BuildingId, GridId, Role, User, UserId};
use gridmate_protocol::*;
use reqwest::StatusCode;
use reqwest::blocking::{Client, RequestBuilder, Response};
use std::io::Read;
use std::time::Duration;

/// Pages of this many changes, the most the server serves (about 2 MB of JSON, 300 kB
/// compressed): each page is one transaction and one fsync on the phone, so fewer, larger pages
/// load a scope faster, and a page lost to a dropped connection costs seconds, not minutes.
pub const PULL_PAGE: u32 = 5000;
/// Photo upload chunk: a stairwell connection that drops loses at most this much.
pub const UPLOAD_CHUNK: usize = 256 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("cannot reach the server: {0}")]
    Offline(String),
    #[error("signed out by the server ({0})")]
    SignedOut(String),
    #[error("wrong phone number or password")]
    BadCredentials,
    #[error("too many sign-in attempts; try again in {0} s")]
    RateLimited(u64),
    #[error("{0}")]
    UnsupportedProtocol(String),
    #[error("the server answered {status}: {code}: {message}")]
    Server {
        status: u16,
        code: String,
        message: String,
    },
    #[error("unexpected answer from the server: {0}")]
    Protocol(String),
    #[error("sync was cancelled")]
    Cancelled,
    #[error(transparent)]
    Device(#[from] DeviceError),
}

/// What went wrong with a sync run, as the sync bar shows it: a code the app words in the
/// user's language, kept in the store across restarts (`SyncStatus::last_error`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncProblem {
    Offline,
    SignedOut,
    BadCredentials,
    RateLimited(u64),
    VersionMismatch,
    ServerError,
    Cancelled,
    LocalData,
}

impl SyncProblem {
    /// The stored form: `offline`, `rate_limited:30`, ...
    pub fn code(self) -> String {
        match self {
            SyncProblem::Offline => "offline".into(),
            SyncProblem::SignedOut => "signed_out".into(),
            SyncProblem::BadCredentials => "bad_credentials".into(),
            SyncProblem::RateLimited(s) => format!("rate_limited:{s}"),
            SyncProblem::VersionMismatch => "version_mismatch".into(),
            SyncProblem::ServerError => "server_error".into(),
            SyncProblem::Cancelled => "cancelled".into(),
            SyncProblem::LocalData => "local_data".into(),
        }
    }

    /// The problem a stored code names; an unknown code (written by another app version) is a
    /// server error, the one that says "it retries by itself".
    pub fn from_code(code: &str) -> SyncProblem {
        match code.split_once(':') {
            Some(("rate_limited", s)) => SyncProblem::RateLimited(s.parse().unwrap_or(60)),
            _ => match code {
                "offline" => SyncProblem::Offline,
                "signed_out" => SyncProblem::SignedOut,
                "bad_credentials" => SyncProblem::BadCredentials,
                "version_mismatch" => SyncProblem::VersionMismatch,
                "cancelled" => SyncProblem::Cancelled,
                "local_data" => SyncProblem::LocalData,
                _ => SyncProblem::ServerError,
            },
        }
    }
}

impl SyncError {
    /// What the sync bar says about this error.
    pub fn problem(&self) -> SyncProblem {
        match self {
            SyncError::Offline(_) => SyncProblem::Offline,
            SyncError::SignedOut(_) => SyncProblem::SignedOut,
            SyncError::BadCredentials => SyncProblem::BadCredentials,
            SyncError::RateLimited(s) => SyncProblem::RateLimited(*s),
            SyncError::UnsupportedProtocol(_) => SyncProblem::VersionMismatch,
            SyncError::Server { .. } | SyncError::Protocol(_) => SyncProblem::ServerError,
            SyncError::Cancelled => SyncProblem::Cancelled,
            SyncError::Device(_) => SyncProblem::LocalData,
        }
    }
}

type Result<T, E = SyncError> = std::result::Result<T, E>;

/// Where sync stands, for a progress bar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Push,
    Photos,
    Pull,
    Repair,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    pub phase: Phase,
    pub done: u64,
    pub total: Option<u64>,
    pub bytes: u64,
}

/// What one run did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SyncReport {
    pub pushed: usize,
    pub merged: usize,
    pub rejected: usize,
    pub photos_uploaded: usize,
    pub pulled: usize,
    pub kept_local: usize,
    pub scope_reset: bool,
    pub repaired: bool,
    /// The repair re-pulled everything after this sequence number (0: the whole scope).
    pub repaired_after: Option<u64>,
}

/// The HTTP side: the server's base URL (`http://host:port/api/v1`) and a client with timeouts.
/// A clone shares the cancel handle.
#[derive(Clone)]
pub struct SyncClient {
    http: Client,
    base: String,
    protocol: u32,
    cancel: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl SyncClient {
    pub fn new(base_url: &str) -> Result<Self> {
        let http = Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| SyncError::Protocol(e.to_string()))?;
        Ok(Self::with_http(base_url, http))
    }

    pub fn with_http(base_url: &str, http: Client) -> Self {
        Self {
            http,
            base: base_url.trim_end_matches('/').to_string(),
            protocol: PROTOCOL_VERSION,
            cancel: Default::default(),
        }
    }

    /// Announce another protocol version (what an app from another release would send).
    pub fn speaking(mut self, version: u32) -> Self {
        self.protocol = version;
        self
    }

    /// A handle that stops a run between steps (push batches, photos, pages) when set.
    pub fn cancel_handle(&self) -> std::sync::Arc<std::sync::atomic::AtomicBool> {
        self.cancel.clone()
    }

    /// `GET /sync/wake` on this token (the wake listener reads it as a stream).
    pub(crate) fn wake_request(&self, token: &str) -> RequestBuilder {
        self.req(reqwest::Method::GET, "/sync/wake", Some(token))
    }

    fn check_cancel(&self) -> Result<()> {
        if self.cancel.load(std::sync::atomic::Ordering::Relaxed) {
            Err(SyncError::Cancelled)
        } else {
            Ok(())
        }
    }

    fn req(&self, method: reqwest::Method, path: &str, token: Option<&str>) -> RequestBuilder {
        let r = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header(PROTOCOL_HEADER, self.protocol.to_string());
        match token {
            Some(t) => r.bearer_auth(t),
            None => r,
        }
    }
}

fn offline(e: reqwest::Error) -> SyncError {
    SyncError::Offline(e.to_string())
}

/// Turn an error answer into a [`SyncError`] (reading its JSON body).
fn failure(r: Response) -> SyncError {
    let status = r.status();
    let body: Option<ErrorBody> = r.json().ok();
    let (code, message) = body.map_or((String::new(), String::new()), |b| {
        (b.error.code, b.error.message)
    });
    match status {
        StatusCode::UNAUTHORIZED => SyncError::SignedOut(code),
        StatusCode::UPGRADE_REQUIRED => SyncError::UnsupportedProtocol(message),
        _ => SyncError::Server {
            status: status.as_u16(),
            code,
            message,
        },
    }
}

/// The server's clock, from the `Date` header, in Unix milliseconds.
fn server_time(r: &Response) -> Option<i64> {
    let date = r.headers().get(reqwest::header::DATE)?.to_str().ok()?;
    chrono::DateTime::parse_from_rfc2822(date)
        .ok()
        .map(|t| t.timestamp_millis())
}

/// Sign in on this device; remembers the user, their assignments and the token. Another user
/// signing in on a device that held someone else's scope starts from an empty cache.
pub fn sign_in(
    store: &mut Store,
    client: &SyncClient,
    phone: &str,
    password: &str,
    device_name: &str,
) -> Result<Session> {
    let r = client
        .req(reqwest::Method::POST, "/session", None)
        .json(&LoginRequest {
            phone: phone.trim().into(),
            password: password.into(),
            device_id: store.device_id().into(),
            device_name: device_name.into(),
        })
        .send()
        .map_err(offline)?;
    match r.status() {
        StatusCode::OK => {}
        StatusCode::UNAUTHORIZED => return Err(SyncError::BadCredentials),
        StatusCode::TOO_MANY_REQUESTS => {
            let wait = r
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok()?.parse().ok())
                .unwrap_or(60);
            return Err(SyncError::RateLimited(wait));
        }
        _ => return Err(failure(r)),
    }
    let login: LoginResponse = r.json().map_err(|e| SyncError::Protocol(e.to_string()))?;
    let session = Session {
        user: User {
            id: UserId(login.user.id),
            name: login.user.name,
            roles: login
                .user
                .roles
                .iter()
                .filter_map(|r| Role::from_code(r))
                .collect(),
        },
        assignments: login
            .assignments
            .iter()
            .filter_map(|a| {
                Some(Assignment {
                    role: Role::from_code(&a.role)?,
                    grid_id: a.grid_id.map(GridId),
                    building_id: a.building_id.map(BuildingId),
                })
            })
            .collect(),
    };
    if store
        .session()?
        .is_some_and(|s| s.user.id != session.user.id)
    {
        store.drop_scope()?;
    }
    store.sign_in(&session)?;
    store.set_sync_value("token", Some(&login.token))?;
    store.set_sync_value("server", Some(&client.base))?;
    let now = chrono::Utc::now().timestamp_millis().to_string();
    store.set_sync_value("last_contact_at", Some(&now))?;
    Ok(session)
}

/// One full sync run. Errors leave the store consistent; the next run picks up from there.
pub fn sync(
    store: &mut Store,
    client: &SyncClient,
    progress: &mut dyn FnMut(Progress),
) -> Result<SyncReport> {
    let result = run(store, client, progress);
    let now = chrono::Utc::now().timestamp_millis().to_string();
    match &result {
        Ok(_) => {
            store.set_sync_value("last_sync_at", Some(&now))?;
            store.set_sync_value("last_contact_at", Some(&now))?;
            store.set_sync_value("last_sync_error", None)?;
        }
        Err(e) => {
            store.set_sync_value("last_sync_error", Some(&e.problem().code()))?;
        }
    }
    result
}

fn run(
    store: &mut Store,
    client: &SyncClient,
    progress: &mut dyn FnMut(Progress),
) -> Result<SyncReport> {
    let token = store
        .sync_value("token")?
        .ok_or_else(|| SyncError::SignedOut("no token".into()))?;
    let mut report = SyncReport::default();
    let outcome = (|| {
        push(store, client, &token, &mut report, progress)?;
        upload_photos(store, client, &token, &mut report, progress)?;
        pull(store, client, &token, &mut report, progress)
    })();
    if let Err(SyncError::SignedOut(code)) = &outcome {
        if code == "token_revoked" {
            store.wipe_personal_data()?;
        } else {
            store.set_sync_value("token", None)?;
        }
    }
    outcome.map(|_| report)
}

fn push(
    store: &mut Store,
    client: &SyncClient,
    token: &str,
    report: &mut SyncReport,
    progress: &mut dyn FnMut(Progress),
) -> Result<()> {
    let total = store.sync_status()?.pending as u64;
    let mut done = 0;
    loop {
        client.check_cancel()?;
        let batch = store.pending_mutations(MAX_PUSH_BATCH)?;
        if batch.is_empty() {
            return Ok(());
        }
        let ids: Vec<uuid::Uuid> = batch.iter().map(|m| m.id).collect();
        let r = client
            .req(reqwest::Method::POST, "/sync/push", Some(token))
            .json(&PushRequest {
                device_id: store.device_id().into(),
                mutations: batch,
            })
            .send()
            .map_err(offline)?;
        if !r.status().is_success() {
            return Err(failure(r));
        }
        if let Some(t) = server_time(&r) {
            store.observe_server_time(t)?;
        }
        let answer: PushResponse = r
            .json()
            .map_err(|e| SyncError::Offline(format!("the answer was cut: {e}")))?;
        // Only answers to what was sent count; a short answer leaves the rest pending.
        let results: Vec<PushResult> = answer
            .results
            .into_iter()
            .filter(|r| ids.contains(&r.id))
            .collect();
        if results.is_empty() {
            return Err(SyncError::Protocol(
                "the push answer named none of the mutations sent".into(),
            ));
        }
        for r in &results {
            match r.status {
                PushStatus::Applied | PushStatus::Duplicate => report.pushed += 1,
                PushStatus::Merged => report.merged += 1,
                PushStatus::Rejected => report.rejected += 1,
            }
        }
        store.record_push_results(&results)?;
        done += results.len() as u64;
        progress(Progress {
            phase: Phase::Push,
            done,
            total: Some(total),
            bytes: 0,
        });
    }
}

fn upload_offset(r: &Response) -> Option<u64> {
    r.headers()
        .get("upload-offset")?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

fn upload_photos(
    store: &mut Store,
    client: &SyncClient,
    token: &str,
    report: &mut SyncReport,
    progress: &mut dyn FnMut(Progress),
) -> Result<()> {
    let photos = store.photos_to_upload(10_000)?;
    let mut bytes_sent = 0u64;
    for (i, (sha, path)) in photos.iter().enumerate() {
        client.check_cancel()?;
        let path_part = format!("/blobs/{sha}");
        let head = client
            .req(reqwest::Method::HEAD, &path_part, Some(token))
            .send()
            .map_err(offline)?;
        if head.status() == StatusCode::OK {
            store.mark_photo_uploaded(sha)?;
            continue;
        }
        if head.status() != StatusCode::NOT_FOUND {
            return Err(failure(head));
        }
        let mut offset = upload_offset(&head).unwrap_or(0);
        let mut file = std::fs::File::open(path).map_err(DeviceError::from)?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(DeviceError::from)?;
        let total = bytes.len() as u64;
        loop {
            let start = (offset as usize).min(bytes.len());
            let end = (start + UPLOAD_CHUNK).min(bytes.len());
            let chunk = bytes[start..end].to_vec();
            let sent = chunk.len() as u64;
            // Every byte already held (the last part's answer was lost before the server
            // verified the photo): ask it to finish.
            let range = if start == bytes.len() && start > 0 {
                format!("bytes */{total}")
            } else {
                format!("bytes {start}-{}/{total}", end.max(1) - 1)
            };
            let r = client
                .req(reqwest::Method::PUT, &path_part, Some(token))
                .header(reqwest::header::CONTENT_RANGE, range)
                .body(chunk)
                .send()
                .map_err(offline)?;
            match r.status() {
                StatusCode::OK | StatusCode::CREATED => {
                    store.mark_photo_uploaded(sha)?;
                    report.photos_uploaded += 1;
                    break;
                }
                StatusCode::ACCEPTED => offset = upload_offset(&r).unwrap_or(end as u64),
                // The server holds a different amount than we thought: continue from there.
                StatusCode::CONFLICT => {
                    offset = upload_offset(&r)
                        .ok_or_else(|| SyncError::Protocol("409 without Upload-Offset".into()))?
                }
                _ => return Err(failure(r)),
            }
            bytes_sent += sent;
            progress(Progress {
                phase: Phase::Photos,
                done: i as u64,
                total: Some(photos.len() as u64),
                bytes: bytes_sent,
            });
        }
    }
    Ok(())
}

/// Pull pages until the head, then check the scope's digest; repair once on a difference.
fn pull(
    store: &mut Store,
    client: &SyncClient,
    token: &str,
    report: &mut SyncReport,
    progress: &mut dyn FnMut(Progress),
) -> Result<()> {
    let last = pull_pages(store, client, token, report, progress, Phase::Pull)?;
    let (count, digest) = store.local_digest()?;
    if count == last.scope_count && digest == last.scope_digest {
        return Ok(());
    }
    // Drift is almost always recent (a page lost to a bug, a row touched by hand): re-pull the
    // newest tenth of the feed first, then the newest half, and only then the whole scope. Each
    // step sweeps what the re-pulled range no longer holds and compares digests again.
    let mut last = last;
    for after in store.repair_points()? {
        store.begin_repair(last.scope_epoch, after)?;
        last = pull_pages(store, client, token, report, progress, Phase::Repair)?;
        store.finish_repair()?;
        report.repaired = true;
        report.repaired_after = Some(after);
        let (count, digest) = store.local_digest()?;
        if count == last.scope_count && digest == last.scope_digest {
            return Ok(());
        }
    }
    let (count, _) = store.local_digest()?;
    Err(SyncError::Protocol(format!(
        "the scope still differs after a repair ({count} records here, {} on the server)",
        last.scope_count
    )))
}

/// One fetched page, with what the progress bar and the clock need.
struct Fetched {
    page: RawPullPage,
    bytes: u64,
    server_ms: Option<i64>,
}

/// GET one page. A `409` comes back as `SyncError::Server` for the caller to act on.
fn fetch_page(client: &SyncClient, token: &str, cursor: Option<&str>) -> Result<Fetched> {
    let path = match cursor {
        Some(c) => format!("/sync/pull?limit={PULL_PAGE}&cursor={c}"),
        None => format!("/sync/pull?limit={PULL_PAGE}"),
    };
    let r = client
        .req(reqwest::Method::GET, &path, Some(token))
        .send()
        .map_err(offline)?;
    if !r.status().is_success() {
        return Err(failure(r));
    }
    let server_ms = server_time(&r);
    let body = r.bytes().map_err(offline)?;
    let page = serde_json::from_slice(&body)
        .map_err(|e| SyncError::Offline(format!("the page was cut: {e}")))?;
    Ok(Fetched {
        page,
        bytes: body.len() as u64,
        server_ms,
    })
}

fn is_reset(e: &SyncError) -> bool {
    matches!(e, SyncError::Server { code, .. } if code == "scope_changed" || code == "resync_required")
}

/// Pull pages from the saved cursor to the head. While one page goes into the store, the next
/// is already on its way (its cursor is known before the first is applied), so the network and
/// the disk overlap; pages are still applied strictly in order, each with its cursor.
fn pull_pages(
    store: &mut Store,
    client: &SyncClient,
    token: &str,
    report: &mut SyncReport,
    progress: &mut dyn FnMut(Progress),
    phase: Phase,
) -> Result<RawPullPage> {
    let mut done = 0;
    let cursor = store.sync_value("sync_cursor")?;
    let mut fetched = match fetch_page(client, token, cursor.as_deref()) {
        Err(e) if is_reset(&e) => {
            // Assignments changed or history ran out: the cached scope goes, the outbox stays,
            // and the scope comes again from the start.
            store.drop_scope()?;
            report.scope_reset = true;
            fetch_page(client, token, None)?
        }
        other => other?,
    };
    loop {
        client.check_cancel()?;
        let Fetched {
            page,
            bytes,
            server_ms,
        } = fetched;
        let (outcome, next) = std::thread::scope(|scope| {
            let next = page
                .has_more
                .then(|| scope.spawn(|| fetch_page(client, token, Some(&page.cursor))));
            let outcome = store.apply_pull_page(&page);
            (outcome, next.map(|h| h.join()))
        });
        let outcome = outcome?;
        if let Some(t) = server_ms {
            store.observe_server_time(t)?;
        }
        report.pulled += outcome.applied + outcome.deleted;
        report.kept_local += outcome.kept_local;
        done += page.changes.len() as u64;
        progress(Progress {
            phase,
            done,
            total: None,
            bytes,
        });
        match next {
            None => return Ok(page),
            Some(joined) => {
                fetched =
                    joined.map_err(|_| SyncError::Protocol("the page fetch panicked".into()))??;
            }
        }
    }
}

/// How long to wait before retry `attempt` (0-based): exponential from 2 s, capped at 5
/// minutes, with ±25 % jitter so a district's phones do not all come back at once.
pub fn backoff(attempt: u32, jitter_unit: f64) -> Duration {
    let base = 2f64 * 2f64.powi(attempt.min(8) as i32);
    let capped = base.min(300.0);
    let jitter = 0.75 + 0.5 * jitter_unit.clamp(0.0, 1.0);
    Duration::from_secs_f64(capped * jitter)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_caps_and_jitters() {
        assert!((1.5..=2.5).contains(&backoff(0, 0.5).as_secs_f64()));
        assert!(backoff(3, 0.5) > backoff(2, 0.5));
        assert!(backoff(30, 1.0).as_secs_f64() <= 375.0);
        assert!(backoff(30, 0.0).as_secs_f64() >= 225.0);
    }
}

/// After a failure, how soon a user's "sync now" may try again.
const USER_RETRY_PAUSE: Duration = Duration::from_secs(2);

/// What wakes the [`SyncWorker`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trigger {
    /// The app came to the foreground or started.
    AppStarted,
    /// Connectivity came back: retry at once, forgetting the backoff.
    NetworkUp,
    /// The phone says there is no network: no automatic run until `NetworkUp` (or a run the
    /// user asks for succeeds) — attempts that cannot connect only drain the battery.
    NetworkDown,
    /// The user saved something: sync shortly, once the burst of taps is over.
    LocalWrite,
    /// The user asked ("sync now", pull to refresh): at once, or within a couple of seconds
    /// while backing off after a failure.
    Now,
    /// The server said something changed in the user's grids (the wake channel): at once,
    /// unless backing off or without network.
    ServerSaid,
}

#[derive(Clone, Copy, Debug)]
pub struct WorkerConfig {
    /// Quiet time after the last local write before syncing.
    pub debounce: Duration,
    /// Sync at least this often while the app runs.
    pub period: Duration,
    /// Hold the server's wake channel and sync when it says so (`crate::wake`).
    pub listen: bool,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            debounce: Duration::from_secs(3),
            period: Duration::from_secs(5 * 60),
            listen: true,
        }
    }
}

/// What the sync bar shows while the worker runs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WorkerStatus {
    pub running: bool,
    pub progress: Option<Progress>,
    pub last_report: Option<SyncReport>,
    /// The last failure; cleared by a success.
    pub last_error: Option<SyncProblem>,
    pub consecutive_failures: u32,
    pub runs: u64,
}

enum Msg {
    Trigger(Trigger),
    Stop,
}

/// Runs sync on its own thread, one run at a time, when triggered, after local writes
/// (debounced), on a timer, and again after failures with exponential backoff and jitter.
/// It owns its own connection to the store (WAL lets the screens keep theirs).
pub struct SyncWorker {
    tx: std::sync::mpsc::Sender<Msg>,
    status: std::sync::Arc<std::sync::Mutex<WorkerStatus>>,
    cancel: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl SyncWorker {
    pub fn start(
        data_dir: std::path::PathBuf,
        client: SyncClient,
        config: WorkerConfig,
    ) -> DeviceResult<SyncWorker> {
        let mut store = Store::open(&data_dir)?;
        let (tx, rx) = std::sync::mpsc::channel();
        let status = std::sync::Arc::new(std::sync::Mutex::new(WorkerStatus::default()));
        let cancel = client.cancel_handle();
        let shared = status.clone();
        if config.listen {
            // Its own connection for the token; it ends with the worker (the shared cancel
            // flag), within a keep-alive of the server's.
            let (client, tx, dir) = (client.clone(), tx.clone(), data_dir.clone());
            std::thread::Builder::new()
                .name("gridmate-wake".into())
                .spawn(move || {
                    let Ok(store) = Store::open(&dir) else { return };
                    let stop = client.cancel_handle();
                    crate::wake::listen(
                        |token| {
                            client
                                .wake_request(token)
                                .timeout(crate::wake::STREAM_TIMEOUT)
                                .send()
                                .ok()
                                .filter(|r| r.status().is_success())
                        },
                        || store.sync_value("token").ok().flatten(),
                        || {
                            let _ = tx.send(Msg::Trigger(Trigger::ServerSaid));
                        },
                        &stop,
                    );
                })
                .map_err(DeviceError::Io)?;
        }
        let thread = std::thread::Builder::new()
            .name("gridmate-sync".into())
            .spawn(move || worker_loop(&mut store, &client, config, &rx, &shared))
            .map_err(DeviceError::Io)?;
        Ok(SyncWorker {
            tx,
            status,
            cancel,
            thread: Some(thread),
        })
    }

    pub fn trigger(&self, t: Trigger) {
        let _ = self.tx.send(Msg::Trigger(t));
    }

    pub fn status(&self) -> WorkerStatus {
        self.status
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Cancel a run in progress (between steps) and stop the worker.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.cancel
            .store(true, std::sync::atomic::Ordering::Relaxed);
        let _ = self.tx.send(Msg::Stop);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for SyncWorker {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn worker_loop(
    store: &mut Store,
    client: &SyncClient,
    config: WorkerConfig,
    rx: &std::sync::mpsc::Receiver<Msg>,
    status: &std::sync::Mutex<WorkerStatus>,
) {
    use std::time::Instant;
    let lock = || status.lock().unwrap_or_else(|e| e.into_inner());
    let mut periodic = Instant::now() + config.period;
    let mut debounced: Option<Instant> = None;
    let mut retry_at: Option<Instant> = None;
    let mut last_finished: Option<Instant> = None;
    let mut network_down = false;
    let mut jitter_seed = (std::process::id() as u64) << 32 | 0x9E37;
    loop {
        let now = Instant::now();
        let wake = [Some(periodic), debounced, retry_at]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(periodic);
        let run_now = match rx.recv_timeout(wake.saturating_duration_since(now)) {
            Ok(Msg::Stop) | Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return,
            Ok(Msg::Trigger(Trigger::LocalWrite)) => {
                debounced = Some(Instant::now() + config.debounce);
                false
            }
            Ok(Msg::Trigger(Trigger::NetworkUp)) => {
                network_down = false;
                retry_at = None;
                lock().consecutive_failures = 0;
                true
            }
            Ok(Msg::Trigger(Trigger::NetworkDown)) => {
                network_down = true;
                false
            }
            // While backing off, a user asking to sync moves the retry up to a short pause
            // after the last failure (taps do not hammer a struggling server, and the user
            // sees an attempt within seconds); automatic triggers wait for the backoff. The user
            // asking also overrides the phone's "no network": they may know better.
            Ok(Msg::Trigger(Trigger::Now)) if network_down => {
                network_down = false;
                true
            }
            Ok(Msg::Trigger(Trigger::Now)) => match retry_at {
                Some(t) if t > Instant::now() => {
                    let soon = last_finished.map_or(Instant::now(), |f| f + USER_RETRY_PAUSE);
                    retry_at = Some(t.min(soon));
                    false
                }
                _ => true,
            },
            Ok(Msg::Trigger(_)) => !network_down && retry_at.is_none_or(|t| t <= Instant::now()),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                let now = Instant::now();
                let due = now >= periodic
                    || debounced.is_some_and(|t| now >= t)
                    || retry_at.is_some_and(|t| now >= t);
                if due && network_down {
                    // Held: what was due runs when the network is back (NetworkUp runs at once).
                    debounced = None;
                    retry_at = None;
                    periodic = now + config.period;
                }
                due && !network_down
            }
        };
        if !run_now {
            continue;
        }
        debounced = None;
        retry_at = None;
        periodic = Instant::now() + config.period;
        lock().running = true;
        let result = sync(store, client, &mut |p| lock().progress = Some(p));
        last_finished = Some(Instant::now());
        let mut s = lock();
        s.running = false;
        s.progress = None;
        s.runs += 1;
        match result {
            Ok(report) => {
                network_down = false;
                s.last_report = Some(report);
                s.last_error = None;
                s.consecutive_failures = 0;
            }
            Err(SyncError::Cancelled) => return,
            Err(e) => {
                s.last_error = Some(e.problem());
                jitter_seed ^= jitter_seed << 13;
                jitter_seed ^= jitter_seed >> 7;
                jitter_seed ^= jitter_seed << 17;
                let unit = (jitter_seed >> 11) as f64 / (1u64 << 53) as f64;
                let wait = backoff(s.consecutive_failures, unit);
                s.consecutive_failures += 1;
                // A signed-out device waits for a sign-in, not a timer.
                if !matches!(
                    e,
                    SyncError::SignedOut(_) | SyncError::UnsupportedProtocol(_)
                ) {
                    retry_at = Some(Instant::now() + wait);
                }
            }
        }
    }
}
