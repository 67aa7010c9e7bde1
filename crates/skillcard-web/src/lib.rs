//! The HTTP layer of skillcard: a JSON API (with its OpenAPI document) for machine clients and
//! server-rendered Persian pages for people. Both are thin: they parse input, call one
//! `skillcard_db::Store` operation with the signed-in [`Actor`](skillcard_core::policy::Actor),
//! and render the result. Access is decided by the store (through `skillcard_core::policy`),
//! authentication and CSRF by one middleware ([`auth::authenticate`]).

pub mod api;
pub mod auth;
pub mod commands;
mod documents;
pub mod error;
mod forms;
pub mod metrics;
mod multipart;
mod pages;
mod paging;
pub mod ratelimit;
pub mod request_id;
pub mod verification;
pub mod verify_cache;

use axum::Router;
use skillcard_credential::{IssuerKey, PublicKeySet};
use skillcard_db::Store;
use skillcard_docs::Renderer;
use std::sync::Arc;

/// Settings of the web layer.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Mark cookies `Secure`. Off only for plain-HTTP development on a loopback address.
    pub secure_cookies: bool,
    /// Days an API token lives unless its request asks for fewer or more (1–365).
    pub token_days: i64,
    /// Roles that must sign in with a second factor: until they set one up, they may do
    /// nothing else.
    pub second_factor_roles: Vec<skillcard_core::policy::Role>,
    /// The bearer token that opens `/metrics`; `None`: no metrics endpoint.
    pub metrics_token: Option<String>,
    /// The secret the SMS provider's delivery reports carry; `None` refuses them.
    pub delivery_report_token: Option<String>,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            secure_cookies: true,
            token_days: skillcard_core::account::DEFAULT_TOKEN_DAYS,
            second_factor_roles: Vec::new(),
            metrics_token: None,
            delivery_report_token: None,
        }
    }
}

/// What every handler can reach: one `Arc`, so cloning it for each request is one atomic
/// increment.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The parts of [`AppState`].
#[derive(Clone)]
pub struct Shared {
    pub store: Store,
    pub config: Arc<WebConfig>,
    /// `None` when no Persian font was found: documents then answer with a clear error.
    pub docs: Option<Arc<Renderer>>,
    /// The shared secret of the payment gateway's HMAC; `None` disables the callback.
    pub gateway_secret: Option<Arc<Vec<u8>>>,
    /// The active issuer key that signs each card's credential; `None` refuses printing
    /// with a clear error.
    pub signing_key: Option<Arc<IssuerKey>>,
    /// The published key set public verification checks credentials against (retired keys
    /// included); `None` answers QR verification with a clear error.
    pub public_keys: Option<Arc<PublicKeySet>>,
    /// Reverse proxies whose `X-Forwarded-For` names the client (rate limits, sign-in
    /// throttling, security events).
    pub trusted_proxies: Arc<Vec<std::net::IpAddr>>,
    /// The per-address limit on the public endpoints; `None` leaves them unlimited.
    pub public_limit: Option<Arc<ratelimit::PublicLimit>>,
    /// The last signed status list, reused while the transparency log has not grown.
    pub status_list: Arc<std::sync::Mutex<Option<SignedStatusList>>>,
    /// The last signed tree head, reused while the log's head is the same (Ed25519 signatures
    /// are deterministic, so it equals a fresh one); a security module signs once per change.
    pub signed_head: Arc<std::sync::Mutex<Option<SignedHead>>>,
    /// The last signed audit checkpoint, reused while the audit chain has not grown.
    pub signed_checkpoint: Arc<std::sync::Mutex<Option<api::transparency::SignedAuditCheckpoint>>>,
    /// Public verification answers about registered cards (see [`verify_cache`]).
    pub verify_cache: Arc<verify_cache::VerifyCache>,
    /// The operations team's counters and histograms (see [`metrics`]).
    pub metrics: Arc<metrics::Metrics>,
}

/// A signed tree head, with the key that signed it.
#[derive(Clone)]
pub struct SignedHead {
    pub head: skillcard_credential::transparency::TreeHead,
    pub kid: String,
    pub bytes: Arc<Vec<u8>>,
}

/// A signed status list and the log size it reflects.
#[derive(Clone)]
pub struct SignedStatusList {
    pub tree_size: u64,
    pub kid: String,
    pub bytes: Arc<Vec<u8>>,
}

impl AppState {
    pub fn new(store: Store, config: WebConfig, docs: Option<Renderer>) -> Self {
        AppState(Arc::new(Shared {
            store,
            config: Arc::new(config),
            docs: docs.map(Arc::new),
            gateway_secret: None,
            signing_key: None,
            public_keys: None,
            trusted_proxies: Arc::default(),
            public_limit: None,
            status_list: Arc::default(),
            signed_head: Arc::default(),
            signed_checkpoint: Arc::default(),
            verify_cache: Arc::new(verify_cache::VerifyCache::new(
                verify_cache::DEFAULT_CAPACITY,
            )),
            metrics: Arc::default(),
        }))
    }

    /// The builders below run before the state is shared; should one run after, it changes a
    /// copy.
    fn parts(&mut self) -> &mut Shared {
        Arc::make_mut(&mut self.0)
    }

    /// Accepts the SMS provider's delivery reports that carry `token`.
    pub fn with_delivery_report_token(mut self, token: &str) -> Self {
        Arc::make_mut(&mut self.parts().config).delivery_report_token =
            (!token.is_empty()).then(|| token.to_owned());
        self
    }

    /// Keeps up to `capacity` public verification answers in memory; 0 reads the database for
    /// every verification.
    pub fn with_verify_cache(mut self, capacity: usize) -> Self {
        self.parts().verify_cache = Arc::new(verify_cache::VerifyCache::new(capacity));
        self
    }

    /// Enables public verification of QR texts against the published key set.
    pub fn with_public_keys(mut self, keys: PublicKeySet) -> Self {
        self.parts().public_keys = Some(Arc::new(keys));
        self
    }

    /// Limits the public endpoints to `per_minute` requests a minute per client address, with
    /// bursts of `burst`; 0 disables the limit.
    pub fn with_public_rate_limit(self, per_minute: u32, burst: u32) -> Self {
        self.with_public_rate_limit_behind(per_minute, burst, Vec::new())
    }

    /// Limits the public endpoints as [`with_public_rate_limit`](Self::with_public_rate_limit)
    /// does, counting requests relayed by `proxies` against the client they name in
    /// `X-Forwarded-For`.
    pub fn with_public_rate_limit_behind(
        mut self,
        per_minute: u32,
        burst: u32,
        proxies: Vec<std::net::IpAddr>,
    ) -> Self {
        self.parts().trusted_proxies = Arc::new(proxies.clone());
        self.parts().public_limit =
            ratelimit::PublicLimit::new(per_minute, burst).map(|l| Arc::new(l.trusting(proxies)));
        self
    }

    /// Requires a second factor of users of `roles`.
    pub fn with_second_factor_roles(mut self, roles: Vec<skillcard_core::policy::Role>) -> Self {
        let mut config = (*self.config).clone();
        config.second_factor_roles = roles;
        self.parts().config = Arc::new(config);
        self
    }

    /// Enables printing cards: the key that signs their credentials.
    pub fn with_signing_key(mut self, key: IssuerKey) -> Self {
        self.parts().signing_key = Some(Arc::new(key));
        self
    }

    /// Enables the payment gateway's callback with its HMAC secret.
    pub fn with_gateway_secret(mut self, secret: &[u8]) -> Self {
        self.parts().gateway_secret = (!secret.is_empty()).then(|| Arc::new(secret.to_vec()));
        self
    }
}

/// The whole application: API, pages, static files, with authentication in front.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(api::routes())
        .merge(pages::routes())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::authenticate,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            ratelimit::limit,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .layer(axum::middleware::from_fn(error::uniform_errors))
        // Outside sign-in, the public limit and the page/JSON error shapes: the scraper brings
        // its own token and reads plain statuses.
        .route("/metrics", axum::routing::get(metrics::scrape))
        .layer(
            tower_http::trace::TraceLayer::new_for_http()
                .make_span_with(request_id::span)
                .on_response(
                    tower_http::trace::DefaultOnResponse::new().level(tracing::Level::INFO),
                ),
        )
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            request_id::assign,
        ))
        .layer(
            tower_http::set_header::SetResponseHeaderLayer::if_not_present(
                axum::http::header::X_CONTENT_TYPE_OPTIONS,
                axum::http::HeaderValue::from_static("nosniff"),
            ),
        )
        .layer(
            tower_http::set_header::SetResponseHeaderLayer::if_not_present(
                axum::http::header::X_FRAME_OPTIONS,
                axum::http::HeaderValue::from_static("DENY"),
            ),
        )
        .with_state(state)
}

/// Serves until ctrl-c / SIGTERM. The verification cache follows the transparency log
/// meanwhile, for changes made by other servers over the same database.
pub async fn serve(listener: tokio::net::TcpListener, state: AppState) -> std::io::Result<()> {
    // Stopped when serving ends, or when this future is dropped.
    let _follow = state.verify_cache.enabled().then(|| {
        AbortOnDrop(tokio::spawn(verify_cache::follow(
            state.verify_cache.clone(),
            state.store.clone(),
        )))
    });
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown())
    .await
}

/// A background task that ends with its owner.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
