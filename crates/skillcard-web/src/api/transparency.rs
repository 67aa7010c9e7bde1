//! What an offline verifier or a log monitor downloads, without an account: the published key
//! set, the transparency log's signed tree head, inclusion and consistency proofs and entries,
//! and the signed status list of cards out of service.
//!
//! Tree heads and the status list are signed with the active issuer key when the log has
//! changed and kept until it changes again; both are deterministic for a given log (Ed25519
//! signatures are), so caches and clients agree. Signing goes through
//! `skillcard_db::signing::with_key` (a security module's wait is declared blocking).

use super::ApiQuery;
use crate::error::{ApiError, AppError, ErrorBody};
use crate::{AppState, SignedHead, SignedStatusList};
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use skillcard_core::DomainError;
use skillcard_credential::transparency::{InclusionBundle, StatusList, TreeHead};
use skillcard_credential::IssuerKey;
use skillcard_db::signing::with_key;
use skillcard_db::transparency::{LogHead, PublicLogEntry};
use std::sync::Arc;
use utoipa::{IntoParams, OpenApi, ToSchema};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/public/keys", get(keys))
        .route("/api/v1/public/log/tree-head", get(tree_head))
        .route("/api/v1/public/log/inclusion", get(inclusion))
        .route("/api/v1/public/log/consistency", get(consistency))
        .route("/api/v1/public/log/entries", get(entries))
        .route("/api/v1/public/status-list", get(status_list))
        .route("/api/v1/public/audit/checkpoint", get(audit_checkpoint))
}

#[derive(OpenApi)]
#[openapi(
    paths(
        keys,
        tree_head,
        inclusion,
        consistency,
        entries,
        status_list,
        audit_checkpoint
    ),
    components(schemas(
        ErrorBody,
        SignedTreeHead,
        InclusionBundle,
        ConsistencyProof,
        PublicLogEntry,
        SignedAuditCheckpoint
    ))
)]
pub struct TransparencyDoc;

const SHORT_CACHE: &str = "public, max-age=60";

fn signing_key(s: &AppState) -> Result<&Arc<IssuerKey>, ApiError> {
    s.signing_key
        .as_ref()
        .ok_or(ApiError(AppError::Domain(DomainError::NoSigningKey)))
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The published key set (JWKS-like: `kid`, Ed25519 `x`, status, `not_after`). Retired keys
/// stay in it so old cards keep verifying; revoked keys are listed as revoked.
#[utoipa::path(get, path = "/api/v1/public/keys",
    responses((status = 200, description = "The public key set, as `skillcard keys publish` writes it",
        content_type = "application/json"), (status = 422, body = ErrorBody)))]
async fn keys(State(s): State<AppState>) -> Result<Response, ApiError> {
    let set = s
        .public_keys
        .as_ref()
        .ok_or(ApiError(AppError::Domain(DomainError::NoSigningKey)))?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        set.to_json(),
    )
        .into_response())
}

/// A signed tree head: the log's size and root, signed by the issuer key.
#[derive(Debug, Serialize, ToSchema)]
pub struct SignedTreeHead {
    pub tree_size: u64,
    /// Hex SHA-256.
    pub root_hash: String,
    /// When the last entry was appended (RFC 3339).
    pub timestamp: String,
    pub kid: String,
    /// The COSE_Sign1 bytes (base64): the only part a verifier should trust.
    pub signed: String,
}

/// The head of the log at one size signed with the active issuer key, from the cache while
/// the head has not changed.
async fn sign_head(s: &AppState, head: &LogHead) -> Result<(TreeHead, Arc<Vec<u8>>), ApiError> {
    let key = signing_key(s)?;
    let th = TreeHead {
        tree_size: head.tree_size,
        root_hash: head.root_hash,
        timestamp: head.timestamp.clone(),
    };
    let cached = s.signed_head.lock().ok().and_then(|c| c.clone());
    if let Some(c) = cached.filter(|c| c.head == th && c.kid == key.kid()) {
        return Ok((th, c.bytes));
    }
    let signed = with_key(key, |k| th.sign(k)).map_err(|e| AppError::Internal(e.to_string()))?;
    let bytes = Arc::new(signed);
    if let Ok(mut c) = s.signed_head.lock() {
        *c = Some(SignedHead {
            head: th.clone(),
            kid: key.kid().to_owned(),
            bytes: Arc::clone(&bytes),
        });
    }
    Ok((th, bytes))
}

async fn signed_head(s: &AppState) -> Result<SignedTreeHead, ApiError> {
    let key = signing_key(s)?;
    let head = s.store.log_head().await.map_err(AppError::from)?;
    let (th, signed) = sign_head(s, &head).await?;
    Ok(SignedTreeHead {
        tree_size: th.tree_size,
        root_hash: hex::encode(th.root_hash),
        timestamp: th.timestamp,
        kid: key.kid().to_owned(),
        signed: b64(&signed),
    })
}

/// The audit chain's head, signed: what an auditor keeps outside the database for
/// `skillcard check --checkpoint`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SignedAuditCheckpoint {
    /// The newest audit record's sequence number.
    pub seq: u64,
    /// Its hash (hex SHA-256).
    pub hash: String,
    /// When this head was first signed (RFC 3339).
    pub at: String,
    pub kid: String,
    /// The COSE_Sign1 bytes (base64): what `check --checkpoint` verifies.
    pub signed: String,
}

/// A signed checkpoint of the audit chain (sequence number and hash of the newest record; no
/// personal data), the same while the chain has not grown. Copy it somewhere the database's
/// administrator cannot write; `skillcard check --checkpoint URL` reads it from here too.
#[utoipa::path(get, path = "/api/v1/public/audit/checkpoint",
    responses((status = 200, body = SignedAuditCheckpoint), (status = 422, body = ErrorBody)))]
async fn audit_checkpoint(State(s): State<AppState>) -> Result<Response, ApiError> {
    let key = signing_key(&s)?;
    let now = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let cp = s
        .store
        .audit_checkpoint(&now)
        .await
        .map_err(AppError::from)?;
    let cached = s.signed_checkpoint.lock().ok().and_then(|c| c.clone());
    let signed = match cached.filter(|c| c.seq == cp.seq && c.kid == key.kid()) {
        Some(c) => c,
        None => {
            let (seq, hash, at) = (cp.seq, hex::encode(cp.hash), cp.at.clone());
            let bytes =
                with_key(key, |k| cp.sign(k)).map_err(|e| AppError::Internal(e.to_string()))?;
            let fresh = SignedAuditCheckpoint {
                seq,
                hash,
                at,
                kid: key.kid().to_owned(),
                signed: b64(&bytes),
            };
            if let Ok(mut c) = s.signed_checkpoint.lock() {
                *c = Some(fresh.clone());
            }
            fresh
        }
    };
    Ok(([(header::CACHE_CONTROL, SHORT_CACHE)], Json(signed)).into_response())
}

/// The log's current signed tree head.
#[utoipa::path(get, path = "/api/v1/public/log/tree-head",
    responses((status = 200, body = SignedTreeHead), (status = 422, body = ErrorBody)))]
async fn tree_head(State(s): State<AppState>) -> Result<Response, ApiError> {
    let head = signed_head(&s).await?;
    Ok(([(header::CACHE_CONTROL, SHORT_CACHE)], Json(head)).into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct InclusionQuery {
    /// The card's QR text (`SC1:…`).
    pub qr: Option<String>,
    /// Or the SHA-256 of the card's credential bytes, hex.
    pub digest: Option<String>,
}

/// The inclusion proof of a card's issuance in the current tree, with the signed tree head it
/// leads to. Save it and pass it to `skillcard verify --log-proof`.
#[utoipa::path(get, path = "/api/v1/public/log/inclusion", params(InclusionQuery),
    responses((status = 200, body = InclusionBundle), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn inclusion(
    State(s): State<AppState>,
    ApiQuery(q): ApiQuery<InclusionQuery>,
) -> Result<Response, ApiError> {
    // Refused before any work when there is no key to sign the head with.
    signing_key(&s)?;
    let digest = match (q.qr.as_deref(), q.digest.as_deref()) {
        (Some(qr), _) if !qr.trim().is_empty() => {
            let bytes = skillcard_credential::from_qr_text(qr.trim())
                .map_err(|_| AppError::Domain(DomainError::InvalidValue { field: "qr" }))?;
            hex::encode(skillcard_credential::transparency::credential_digest(
                &bytes,
            ))
        }
        (_, Some(d)) => d.to_owned(),
        _ => return Err(AppError::Domain(DomainError::Required { field: "digest" }).into()),
    };
    let proof = s
        .store
        .log_inclusion(&digest)
        .await
        .map_err(AppError::from)?;
    let (_, signed) = sign_head(&s, &proof.head).await?;
    let bundle = InclusionBundle {
        leaf_index: proof.leaf_index,
        tree_size: proof.head.tree_size,
        entry: proof.entry,
        audit_path: proof.audit_path.iter().map(hex::encode).collect(),
        tree_head: b64(&signed),
    };
    Ok(([(header::CACHE_CONTROL, SHORT_CACHE)], Json(bundle)).into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ConsistencyQuery {
    /// The older tree size (at least 1).
    pub first: u64,
    /// The newer tree size (at most the current one).
    pub second: u64,
}

/// A consistency proof between two tree sizes.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConsistencyProof {
    pub first: u64,
    pub second: u64,
    /// Hex hashes (RFC 9162 §2.1.4.1).
    pub proof: Vec<String>,
}

/// The proof that the tree of `first` entries is a prefix of the tree of `second`: nothing
/// logged was removed or changed in between. Proofs between two sizes never change, so they
/// may be cached for long.
#[utoipa::path(get, path = "/api/v1/public/log/consistency", params(ConsistencyQuery),
    responses((status = 200, body = ConsistencyProof), (status = 422, body = ErrorBody)))]
async fn consistency(
    State(s): State<AppState>,
    ApiQuery(q): ApiQuery<ConsistencyQuery>,
) -> Result<Response, ApiError> {
    let proof = s
        .store
        .log_consistency(q.first, q.second)
        .await
        .map_err(AppError::from)?;
    let body = ConsistencyProof {
        first: q.first,
        second: q.second,
        proof: proof.iter().map(hex::encode).collect(),
    };
    Ok((
        [(header::CACHE_CONTROL, "public, max-age=86400")],
        Json(body),
    )
        .into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct EntriesQuery {
    /// The first index.
    pub start: u64,
    /// One past the last index; at most 1,000 entries a page.
    pub end: u64,
}

/// Entries `[start, end)` of the log, for monitors that rebuild the tree.
#[utoipa::path(get, path = "/api/v1/public/log/entries", params(EntriesQuery),
    responses((status = 200, body = Vec<PublicLogEntry>), (status = 422, body = ErrorBody)))]
async fn entries(
    State(s): State<AppState>,
    ApiQuery(q): ApiQuery<EntriesQuery>,
) -> Result<Response, ApiError> {
    let list = s
        .store
        .log_entries(q.start, q.end)
        .await
        .map_err(AppError::from)?;
    Ok(([(header::CACHE_CONTROL, SHORT_CACHE)], Json(list)).into_response())
}

/// The signed status list for the current log, from the cache while the log has not grown.
async fn current_status_list(s: &AppState) -> Result<SignedStatusList, ApiError> {
    let key = signing_key(s)?;
    let size = s.store.log_size().await.map_err(AppError::from)?;
    let cached = s.status_list.lock().ok().and_then(|c| c.clone());
    if let Some(c) = cached.filter(|c| c.tree_size == size && c.kid == key.kid()) {
        return Ok(c);
    }
    let (size, revoked) = s
        .store
        .revoked_credentials()
        .await
        .map_err(AppError::from)?;
    let issued_at = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let list = StatusList::new(&issued_at, size, &revoked);
    let bytes = with_key(key, |k| list.sign(k)).map_err(|e| AppError::Internal(e.to_string()))?;
    let fresh = SignedStatusList {
        tree_size: size,
        kid: key.kid().to_owned(),
        bytes: Arc::new(bytes),
    };
    if let Ok(mut c) = s.status_list.lock() {
        *c = Some(fresh.clone());
    }
    Ok(fresh)
}

/// The signed list of cards out of service (void or damaged), as a COSE_Sign1
/// (`application/cose`). An offline verifier downloads it and passes it to
/// `skillcard verify --status-list`. Answers 304 to a matching `If-None-Match`.
#[utoipa::path(get, path = "/api/v1/public/status-list",
    responses((status = 200, description = "COSE_Sign1 over the CBOR status list", content_type = "application/cose"),
        (status = 304, description = "Unchanged since the ETag given"), (status = 422, body = ErrorBody)))]
async fn status_list(State(s): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let list = current_status_list(&s).await?;
    let etag = format!("\"{}-{}\"", list.tree_size, list.kid);
    let cache = [
        (header::ETAG, etag.clone()),
        (header::CACHE_CONTROL, "public, max-age=300".to_owned()),
    ];
    let unchanged = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    if unchanged {
        return Ok((StatusCode::NOT_MODIFIED, cache).into_response());
    }
    Ok((
        cache,
        [(
            header::CONTENT_TYPE,
            "application/cose; cose-type=\"cose-sign1\"",
        )],
        list.bytes.as_ref().clone(),
    )
        .into_response())
}
