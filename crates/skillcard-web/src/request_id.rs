//! Every request carries an id: it names the request's log span (so every line a request logs,
//! an internal error's among them, can be found together) and comes back in the response's
//! `X-Request-Id`, so a user's report or a proxy's log leads to the server's lines.
//!
//! The id a trusted reverse proxy (`SKILLCARD_TRUSTED_PROXIES`) sends is kept when it is a short
//! plain token, so one id follows the request through the proxy's and the nodes' logs. From any
//! other peer the header is ignored: a client cannot give its requests another's id.

use crate::AppState;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use rand::RngCore as _;
use std::net::SocketAddr;

pub const HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// The longest id accepted from a proxy.
const MAX_LEN: usize = 64;

/// The id of the request being served (a request extension).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestId(pub String);

/// 1–64 characters of letters, digits and `-_.:` (what load balancers send: UUIDs, hex).
fn acceptable(id: &str) -> bool {
    (1..=MAX_LEN).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
}

/// 128 random bits, hex.
fn fresh() -> String {
    let mut b = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut b);
    hex::encode(b)
}

/// Assigns the request its id (see the module doc) and echoes it on the response.
pub async fn assign(State(s): State<AppState>, mut req: Request, next: Next) -> Response {
    let from_proxy = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .is_some_and(|peer| s.trusted_proxies.contains(&peer.0.ip()));
    let id = req
        .headers()
        .get(&HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| from_proxy && acceptable(v))
        .map_or_else(fresh, str::to_owned);
    let value = HeaderValue::from_str(&id).ok();
    if let Some(v) = &value {
        req.headers_mut().insert(HEADER, v.clone());
    }
    req.extensions_mut().insert(RequestId(id));
    let mut resp = next.run(req).await;
    if let Some(v) = value {
        resp.headers_mut().insert(HEADER, v);
    }
    resp
}

/// The span every request's log lines belong to: its id, method and path (never the query,
/// which may carry a card's QR text or a national id).
pub fn span(req: &Request) -> tracing::Span {
    let id = req
        .extensions()
        .get::<RequestId>()
        .map_or("-", |r| r.0.as_str());
    tracing::info_span!(
        "request",
        id = %id,
        method = %req.method(),
        path = %req.uri().path(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_short_plain_ids_are_taken_from_a_proxy() {
        for ok in [
            "a",
            "0f8fad5b-d9cb-469f-a165-70867728950e",
            "lb:1.2_3",
            &"x".repeat(64),
        ] {
            assert!(acceptable(ok), "{ok}");
        }
        for bad in ["", &"x".repeat(65), "a b", "a\"b", "شناسه", "a\u{7f}"] {
            assert!(!acceptable(bad), "{bad:?}");
        }
    }

    #[test]
    fn fresh_ids_are_acceptable_and_differ() {
        let (a, b) = (fresh(), fresh());
        assert!(acceptable(&a) && a.len() == 32);
        assert_ne!(a, b);
    }
}
