//! Abuse resistance for the public endpoints (the verification page and API): a token bucket
//! per client address (`governor`'s GCRA). Over the limit, the caller gets a clear 429 — JSON for
//! the API, a Persian page for people — with `Retry-After`. Signed-in work is not limited here.
//!
//! The address is the TCP peer's, unless the peer is a trusted reverse proxy
//! (`SKILLCARD_TRUSTED_PROXIES`): then it is the nearest address in `X-Forwarded-For` that is not
//! a trusted proxy ([`client_address`]). The header is ignored from any other peer, so a client
//! cannot name itself anew to escape its quota.

use crate::error::{ApiError, AppError, PageError};
use crate::AppState;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::num::NonZeroU32;

/// Paths anyone may call without an account, and so the ones limited per address.
pub fn is_public(path: &str) -> bool {
    path == "/verify" || path.starts_with("/api/v1/public/")
}

/// Forget addresses idle long enough to be full again once this many are tracked.
const RETAIN_ABOVE: usize = 100_000;

pub struct PublicLimit {
    limiter: DefaultKeyedRateLimiter<IpAddr>,
    clock: DefaultClock,
    trusted_proxies: Vec<IpAddr>,
}

/// The client a request comes from: the TCP `peer`, or — when the peer is one of
/// `trusted_proxies` — the rightmost address of `X-Forwarded-For` that is not a trusted proxy
/// itself (each proxy appends the address it was reached from). A header that cannot be read
/// leaves the last trusted address.
pub fn client_address(
    peer: IpAddr,
    forwarded_for: Option<&str>,
    trusted_proxies: &[IpAddr],
) -> IpAddr {
    let mut client = peer;
    if !trusted_proxies.contains(&client) {
        return client;
    }
    let Some(header) = forwarded_for else {
        return client;
    };
    for hop in header.rsplit(',') {
        match hop.trim().parse::<IpAddr>() {
            Ok(ip) => {
                client = ip;
                if !trusted_proxies.contains(&ip) {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    client
}

/// The client of a request, from its connection and headers (see [`client_address`]).
fn request_client(
    extensions: &axum::http::Extensions,
    headers: &axum::http::HeaderMap,
    trusted_proxies: &[IpAddr],
) -> IpAddr {
    let peer = extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip());
    let forwarded_for = headers.get("x-forwarded-for").and_then(|v| v.to_str().ok());
    client_address(peer, forwarded_for, trusted_proxies)
}

/// The client address of a request, as sign-in throttling and security events record it.
#[derive(Clone, Copy, Debug)]
pub struct ClientIp(pub IpAddr);

impl axum::extract::FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(request_client(
            &parts.extensions,
            &parts.headers,
            &s.trusted_proxies,
        )))
    }
}

impl PublicLimit {
    /// `per_minute` requests a minute per address, up to `burst` at once; `None` when
    /// `per_minute` is 0 (no limit).
    pub fn new(per_minute: u32, burst: u32) -> Option<Self> {
        let rate = NonZeroU32::new(per_minute)?;
        let burst = NonZeroU32::new(burst.max(1)).unwrap_or(rate);
        Some(PublicLimit {
            limiter: RateLimiter::keyed(Quota::per_minute(rate).allow_burst(burst)),
            clock: DefaultClock::default(),
            trusted_proxies: Vec::new(),
        })
    }

    /// Counts requests from `proxies` against the client they forward for.
    pub fn trusting(mut self, proxies: Vec<IpAddr>) -> Self {
        self.trusted_proxies = proxies;
        self
    }

    /// `Err(seconds to wait)` when `ip` is over its quota.
    fn check(&self, ip: IpAddr) -> Result<(), u64> {
        if self.limiter.len() > RETAIN_ABOVE {
            self.limiter.retain_recent();
        }
        self.limiter.check_key(&ip).map_err(|not_until| {
            not_until
                .wait_time_from(self.clock.now())
                .as_secs()
                .saturating_add(1)
        })
    }
}

/// The middleware: limits public paths when the state carries a limit.
pub async fn limit(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Some(limit) = state.public_limit.as_deref() else {
        return next.run(req).await;
    };
    let path = req.uri().path();
    if !is_public(path) {
        return next.run(req).await;
    }
    let ip = request_client(req.extensions(), req.headers(), &limit.trusted_proxies);
    match limit.check(ip) {
        Ok(()) => next.run(req).await,
        Err(retry_after_secs) => {
            let e = AppError::RateLimited { retry_after_secs };
            if path.starts_with("/api/") {
                ApiError(e).into_response()
            } else {
                PageError(e).into_response()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_refused_per_address() {
        let l = PublicLimit::new(60, 3).unwrap_or_else(|| unreachable!());
        let a: IpAddr = "10.0.0.1"
            .parse()
            .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
        let b: IpAddr = "10.0.0.2"
            .parse()
            .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
        for _ in 0..3 {
            assert!(l.check(a).is_ok());
        }
        let wait = l.check(a).err();
        assert!(matches!(wait, Some(1..=2)), "{wait:?}");
        assert!(l.check(b).is_ok(), "another address has its own bucket");
        assert!(PublicLimit::new(0, 5).is_none());
        assert!(is_public("/api/v1/public/verify") && is_public("/verify"));
        assert!(!is_public("/api/v1/prints"));
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
    }

    #[test]
    fn the_client_behind_trusted_proxies_and_only_them() {
        let trusted = [ip("10.0.0.1"), ip("10.0.0.2")];
        let xff = Some("203.0.113.9, 198.51.100.7, 10.0.0.2");
        // From a trusted proxy: the nearest untrusted hop.
        assert_eq!(
            client_address(ip("10.0.0.1"), xff, &trusted),
            ip("198.51.100.7")
        );
        // From anyone else the header is the client's own claim, and ignored.
        assert_eq!(
            client_address(ip("192.0.2.1"), xff, &trusted),
            ip("192.0.2.1")
        );
        assert_eq!(
            client_address(ip("10.0.0.1"), None, &trusted),
            ip("10.0.0.1")
        );
        // An unreadable hop stops the walk at the last trusted address.
        assert_eq!(
            client_address(
                ip("10.0.0.1"),
                Some("203.0.113.9, junk, 10.0.0.2"),
                &trusted
            ),
            ip("10.0.0.2")
        );
        assert_eq!(
            client_address(ip("10.0.0.1"), Some(" 2001:db8::1 "), &trusted),
            ip("2001:db8::1")
        );
        // No proxy trusted: always the peer.
        assert_eq!(client_address(ip("10.0.0.1"), xff, &[]), ip("10.0.0.1"));
    }
}
