//! Requests that came over HTTPS through the community's TLS terminator (nginx, below
//! `docs/deployment.md`): their cookies are marked `Secure` and the answer carries HSTS.
//!
//! The server itself speaks plain HTTP on its port; only the proxy in front of it knows whether
//! the browser used HTTPS, and says so in `X-Forwarded-Proto`. That header is believed only from
//! the addresses the operator names (`--trusted-proxy`): from anyone else it is a client's word
//! and changes nothing. A leaf: it knows requests and responses, nothing of the faces.

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// The addresses whose `X-Forwarded-Proto` is believed.
#[derive(Clone, Debug, Default)]
pub struct TrustedProxies(pub Arc<[IpAddr]>);

/// One year, the whole site: what HSTS preload lists ask for.
const HSTS: &str = "max-age=31536000; includeSubDomains";

/// Did this request reach the proxy over HTTPS?
fn over_https(trusted: &TrustedProxies, req: &Request) -> bool {
    let from_proxy = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .is_some_and(|ConnectInfo(peer)| trusted.0.contains(&peer.ip()));
    from_proxy
        && req
            .headers()
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"))
}

/// Mark every cookie `Secure` and send HSTS when the request came over HTTPS.
pub async fn mark_secure(
    State(trusted): State<TrustedProxies>,
    req: Request,
    next: Next,
) -> Response {
    let https = over_https(&trusted, &req);
    let mut r = next.run(req).await;
    if !https {
        return r;
    }
    let cookies: Vec<HeaderValue> = match r.headers_mut().entry(header::SET_COOKIE) {
        header::Entry::Occupied(e) => e.remove_entry_mult().1.collect(),
        header::Entry::Vacant(_) => Vec::new(),
    };
    for c in cookies {
        let secured = match c.to_str() {
            Ok(s) if !s.to_ascii_lowercase().contains("; secure") => {
                HeaderValue::from_str(&format!("{s}; Secure")).unwrap_or(c)
            }
            _ => c,
        };
        r.headers_mut().append(header::SET_COOKIE, secured);
    }
    r.headers_mut().insert(
        header::STRICT_TRANSPORT_SECURITY,
        HeaderValue::from_static(HSTS),
    );
    r
}
