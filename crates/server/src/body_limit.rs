//! A request body the server refused is still heard out, so that the client hears the refusal.
//!
//! axum's `DefaultBodyLimit` reads a body up to its route's limit and answers 413 without reading
//! the rest; a handler may also answer (401, 403, 426…) without reading a body at all. The
//! server then closes the connection while the client is still sending, and a client still
//! writing meets a broken pipe before it reads the answer: an office's 21 MB base map failed as a
//! dropped connection instead of "too large" (CI saw exactly this). So every request's body is
//! held where this layer can reach it after the handler has answered, and whatever the handler
//! left unread is read and thrown away before the answer goes out — up to [`DRAIN_CAP`] bytes,
//! within the server's request time limit; past that the connection is dropped as before.
//!
//! Limits themselves stay where they are (`DefaultBodyLimit` on each route), so each face still
//! answers a body too large in its own form.

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use http_body::{Body as _, Frame, SizeHint};
use http_body_util::BodyExt;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

/// How much of an unread body is read to be thrown away: the largest upload any route takes
/// (20 MB), with room for a client that sent somewhat more.
pub const DRAIN_CAP: u64 = 64 * 1024 * 1024;

/// The middleware: run the request with its body shared, then drain what is left of it.
pub async fn hear_out(req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    if body.is_end_stream() {
        return next.run(Request::from_parts(parts, body)).await;
    }
    let held = Held(Arc::new(Mutex::new(Some(body))));
    let answer = next
        .run(Request::from_parts(parts, Body::new(held.clone())))
        .await;
    let rest = held.lock().take();
    if let Some(mut rest) = rest {
        let mut read = 0u64;
        // A read error ends it: the client is gone or sent less than it declared.
        while let Some(Ok(frame)) = rest.frame().await {
            read += frame.data_ref().map_or(0, |d| d.len() as u64);
            if read > DRAIN_CAP {
                break;
            }
        }
    }
    answer
}

/// The request's body, readable by the handler and, once it has answered, by [`hear_out`].
#[derive(Clone)]
struct Held(Arc<Mutex<Option<Body>>>);

impl Held {
    fn lock(&self) -> MutexGuard<'_, Option<Body>> {
        // A handler that panicked mid-read leaves the body as it was: still fine to drain.
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl http_body::Body for Held {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        match self.lock().as_mut() {
            Some(body) => Pin::new(body).poll_frame(cx),
            None => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.lock().as_ref().is_none_or(|b| b.is_end_stream())
    }

    fn size_hint(&self) -> SizeHint {
        self.lock()
            .as_ref()
            .map_or_else(|| SizeHint::with_exact(0), |b| b.size_hint())
    }
}
