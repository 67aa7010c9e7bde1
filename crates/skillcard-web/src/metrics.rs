//! The operations team's metrics: `GET /metrics` in the OpenMetrics text format Prometheus
//! scrapes, only with `Authorization: Bearer <metrics token>` (`SKILLCARD_METRICS_TOKEN`);
//! without a configured token the endpoint does not exist (404).
//!
//! Requests are counted per route (the pattern, never the raw path: ids would explode the
//! series), method and status, with a latency histogram per route; 429s and 401s on the sign-in
//! routes are the refusals and failed sign-ins. The verification cache counts its hits, misses
//! and evictions. The database's side (card counts by province and state, the audit head, the
//! transparency log's size, the outbox's waiting and failed notices, the pool) is read at each
//! scrape through `Store::gauges`, which reads only maintained counts and small index ranges.
//! Each database statement's time comes from sqlx's own statement events through
//! [`query_time_layer`], which the binary installs beside its log lines.

use crate::error::AppError;
use crate::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use sha2::{Digest, Sha256};
use skillcard_core::notice::NoticeStatus;
use skillcard_db::counters::{Channel, SendOutcome};
use std::time::Instant;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    method: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CardLabels {
    province: String,
    state: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabels {
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct NoticeLabels {
    channel: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SendLabels {
    channel: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct QueryLabels {
    /// `select`, `insert`, `update`, `delete` or `other` (the statement's first word).
    kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SignInLabels {
    via: String,
    outcome: String,
}

/// Where a sign-in came from: the API's token request or the login page.
#[derive(Clone, Copy, Debug)]
pub enum SignInVia {
    Api,
    Page,
}

/// Every series the server exports.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    cards: Family<CardLabels, Gauge>,
    notices: Family<NoticeLabels, Gauge>,
    sends: Family<SendLabels, Counter>,
    sign_ins: Family<SignInLabels, Counter>,
    lockouts: Counter,
    pool: Family<StatusLabels, Gauge>,
    audit_seq: Gauge,
    log_size: Gauge,
    cache_hits: Counter,
    cache_misses: Counter,
    cache_evictions: Counter,
    cache_entries: Gauge,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("skillcard");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests by route pattern, method and status",
            requests.clone(),
        );
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.001, 2.0, 14))
        });
        registry.register(
            "http_request_duration_seconds",
            "Time to answer, by route pattern",
            latency.clone(),
        );
        registry.register(
            "db_query_duration_seconds",
            "Time the database took per statement, by kind (this process's pools)",
            query_times().clone(),
        );
        let cards = Family::<CardLabels, Gauge>::default();
        registry.register(
            "cards",
            "Cards by province and custody state",
            cards.clone(),
        );
        let notices = Family::<NoticeLabels, Gauge>::default();
        registry.register(
            "outbox_notices",
            "Notices to applicants waiting to be sent (pending) or given up (failed), by channel",
            notices.clone(),
        );
        let sends = Family::<SendLabels, Counter>::default();
        registry.register(
            "outbox_sends",
            "Attempts to send a notice, by channel and outcome (sent, retried, failed for good)",
            sends.clone(),
        );
        let sign_ins = Family::<SignInLabels, Counter>::default();
        registry.register(
            "sign_ins",
            "Sign-in attempts by way in (api, page) and outcome",
            sign_ins.clone(),
        );
        let lockouts = Counter::default();
        registry.register(
            "login_lockouts",
            "Failed sign-ins that locked an account or a client address",
            lockouts.clone(),
        );
        let pool = Family::<StatusLabels, Gauge>::default();
        registry.register(
            "db_pool_connections",
            "Database connections held, idle or in use",
            pool.clone(),
        );
        let audit_seq = Gauge::default();
        registry.register(
            "audit_sequence",
            "Sequence number of the newest audit record",
            audit_seq.clone(),
        );
        let log_size = Gauge::default();
        registry.register(
            "transparency_log_size",
            "Entries in the transparency log",
            log_size.clone(),
        );
        let [cache_hits, cache_misses, cache_evictions] = [(); 3].map(|_| Counter::default());
        registry.register(
            "verify_cache_hits",
            "Public verifications answered from memory",
            cache_hits.clone(),
        );
        registry.register(
            "verify_cache_misses",
            "Public verifications that read the database",
            cache_misses.clone(),
        );
        registry.register(
            "verify_cache_evictions",
            "Kept answers dropped because their card left service",
            cache_evictions.clone(),
        );
        let cache_entries = Gauge::default();
        registry.register(
            "verify_cache_entries",
            "Answers kept in memory",
            cache_entries.clone(),
        );
        Metrics {
            registry,
            requests,
            latency,
            cards,
            notices,
            sends,
            sign_ins,
            lockouts,
            pool,
            audit_seq,
            log_size,
            cache_hits,
            cache_misses,
            cache_evictions,
            cache_entries,
        }
    }
}

impl Metrics {
    /// Counts one sign-in attempt by what it came to.
    pub fn sign_in<T>(&self, via: SignInVia, result: &Result<T, skillcard_db::StoreError>) {
        use skillcard_core::DomainError as D;
        let outcome = match result {
            Ok(_) => "ok",
            Err(e) => match e.domain() {
                Some(D::InvalidCredentials) => "invalid_credentials",
                Some(D::LoginThrottled { .. }) => "throttled",
                Some(D::OtpRequired) => "otp_required",
                Some(_) => "refused",
                None => "error",
            },
        };
        let via = match via {
            SignInVia::Api => "api",
            SignInVia::Page => "page",
        };
        self.sign_ins
            .get_or_create(&SignInLabels {
                via: via.into(),
                outcome: outcome.into(),
            })
            .inc();
    }
}

/// The statement times of this process, shared by every [`Metrics`]: the logging layer that
/// fills it is installed once, before any server state exists.
fn query_times() -> &'static Family<QueryLabels, Histogram> {
    static TIMES: std::sync::OnceLock<Family<QueryLabels, Histogram>> = std::sync::OnceLock::new();
    TIMES.get_or_init(|| {
        Family::new_with_constructor(|| Histogram::new(exponential_buckets(0.0001, 2.0, 16)))
    })
}

/// Reads the time of each statement from sqlx's own statement events (target `sqlx::query`,
/// with `elapsed_secs` and the statement's first words in `summary`).
struct QueryTimes;

#[derive(Default)]
struct StatementFields {
    elapsed_secs: Option<f64>,
    kind: Option<&'static str>,
}

impl tracing::field::Visit for StatementFields {
    fn record_f64(&mut self, field: &tracing::field::Field, value: f64) {
        if field.name() == "elapsed_secs" {
            self.elapsed_secs = Some(value);
        }
    }

    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        if field.name() == "summary" {
            let verb = value.split_whitespace().next().unwrap_or("");
            self.kind = Some(
                ["select", "insert", "update", "delete"]
                    .into_iter()
                    .find(|k| verb.eq_ignore_ascii_case(k))
                    .unwrap_or("other"),
            );
        }
    }

    fn record_debug(&mut self, _: &tracing::field::Field, _: &dyn std::fmt::Debug) {}
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for QueryTimes {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        let mut f = StatementFields::default();
        event.record(&mut f);
        if let Some(secs) = f.elapsed_secs {
            query_times()
                .get_or_create(&QueryLabels {
                    kind: f.kind.unwrap_or("other").into(),
                })
                .observe(secs);
        }
    }
}

/// The layer that times database statements, with its own filter: only sqlx's statement events
/// (emitted at DEBUG), whatever `RUST_LOG` lets the log lines show.
pub fn query_time_layer<S>() -> impl tracing_subscriber::Layer<S>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    use tracing_subscriber::Layer as _;
    QueryTimes.with_filter(
        tracing_subscriber::filter::Targets::new()
            .with_target("sqlx::query", tracing::Level::DEBUG),
    )
}

/// Brings a cumulative counter kept elsewhere up to `total`.
fn catch_up(counter: &Counter, total: u64) {
    counter.inc_by(total.saturating_sub(counter.get()));
}

/// Counts and times every request, by the route pattern it matched.
pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().as_str().to_string();
    let started = Instant::now();
    let response = next.run(req).await;
    let m = &state.metrics;
    m.requests
        .get_or_create(&RequestLabels {
            route: route.clone(),
            method,
            status: response.status().as_u16(),
        })
        .inc();
    m.latency
        .get_or_create(&RouteLabels { route })
        .observe(started.elapsed().as_secs_f64());
    response
}

/// `GET /metrics`.
pub async fn scrape(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(expected) = state.config.metrics_token.as_deref() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    // Compared as digests, so the time taken says nothing about the token.
    if Sha256::digest(given.as_bytes()) != Sha256::digest(expected.as_bytes()) {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
        )
            .into_response();
    }
    match render(&state).await {
        Ok(text) => (
            [(
                header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            text,
        )
            .into_response(),
        Err(e) => crate::error::ApiError(e).into_response(),
    }
}

async fn render(state: &AppState) -> Result<String, AppError> {
    let m = &state.metrics;
    let g = state.store.gauges().await?;
    m.cards.clear();
    for (province, card_state, n) in g.cards {
        m.cards
            .get_or_create(&CardLabels {
                province,
                state: card_state,
            })
            .set(n);
    }
    m.notices.clear();
    for channel in [Channel::Sms, Channel::Email] {
        for status in [NoticeStatus::Pending, NoticeStatus::Failed] {
            let n = g
                .notices
                .iter()
                .find(|(c, s, _)| *c == channel && *s == status)
                .map_or(0, |r| r.2);
            m.notices
                .get_or_create(&NoticeLabels {
                    channel: channel.as_str().into(),
                    status: status.as_str().into(),
                })
                .set(n);
        }
    }
    let counted = state.store.counters();
    for channel in Channel::ALL {
        for outcome in SendOutcome::ALL {
            catch_up(
                &m.sends.get_or_create(&SendLabels {
                    channel: channel.as_str().into(),
                    outcome: outcome.as_str().into(),
                }),
                counted.sends(channel, outcome),
            );
        }
    }
    catch_up(&m.lockouts, counted.lockouts());
    let idle = i64::try_from(g.pool_idle).unwrap_or(i64::MAX);
    for (status, n) in [("idle", idle), ("busy", i64::from(g.pool_size) - idle)] {
        m.pool
            .get_or_create(&StatusLabels {
                status: status.into(),
            })
            .set(n.max(0));
    }
    m.audit_seq.set(g.audit_seq);
    m.log_size
        .set(i64::try_from(g.log_size).unwrap_or(i64::MAX));
    let cache = state.verify_cache.stats();
    catch_up(&m.cache_hits, cache.hits);
    catch_up(&m.cache_misses, cache.misses);
    catch_up(&m.cache_evictions, cache.evictions);
    m.cache_entries
        .set(i64::try_from(cache.entries).unwrap_or(i64::MAX));
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &m.registry)
        .map_err(|e| AppError::Internal(format!("encoding metrics: {e}")))?;
    Ok(text)
}
