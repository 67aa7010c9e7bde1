//! The caller's own account: exchanging a password for a bearer token, listing and revoking
//! tokens, and who the caller is.

use super::{ApiJson, ApiResult};
use crate::auth::{ApiActor, BearerToken};
use crate::error::{ApiError, ErrorBody};
use crate::ratelimit::ClientIp;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use skillcard_core::DomainError;
use skillcard_db::TokenView;
use utoipa::{OpenApi, ToSchema};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/tokens", post(create_token).get(list_tokens))
        .route("/api/v1/tokens/current", delete(revoke_current))
        .route("/api/v1/tokens/{id}", delete(revoke_token))
        .route("/api/v1/me", axum::routing::get(me))
}

#[derive(OpenApi)]
#[openapi(
    paths(create_token, list_tokens, revoke_token, revoke_current, me),
    components(schemas(TokenRequest, TokenResponse, TokenView, Me))
)]
pub struct AccountDoc;

#[derive(Deserialize, ToSchema)]
pub struct TokenRequest {
    username: String,
    password: String,
    /// A name to tell the token apart in the list (default `api`).
    #[serde(default)]
    label: String,
    /// Days until the token expires (1–365; the server's default when absent).
    #[serde(default)]
    expires_in_days: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct TokenResponse {
    /// Send as `Authorization: Bearer <token>`. Shown once; only its digest is kept.
    token: String,
    id: i64,
    /// RFC 3339; the token answers 401 `token_expired` from then on.
    expires_at: String,
}

/// Exchanges a username and password for a bearer token for machine clients. Failed attempts
/// are counted per account and per client address; past a few, sign-in is refused for a while
/// (429 with `Retry-After`).
#[utoipa::path(post, path = "/api/v1/tokens", request_body = TokenRequest,
    responses((status = 200, body = TokenResponse), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 429, body = ErrorBody)))]
async fn create_token(
    State(s): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(b): ApiJson<TokenRequest>,
) -> ApiResult<TokenResponse> {
    let lifetime = skillcard_core::account::token_lifetime(b.expires_in_days, s.config.token_days)?;
    let client = ip.to_string();
    let signed = s.store.sign_in(&b.username, &b.password, &client).await?;
    let t = s
        .store
        .create_api_token(&signed.actor, &b.label, lifetime, &client)
        .await?;
    Ok(Json(TokenResponse {
        token: t.token,
        id: t.id,
        expires_at: t.expires_at,
    }))
}

/// The caller's tokens that still work, newest first (no secrets).
#[utoipa::path(get, path = "/api/v1/tokens", security(("bearer" = [])),
    responses((status = 200, body = Vec<TokenView>), (status = 401, body = ErrorBody)))]
async fn list_tokens(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
) -> ApiResult<Vec<TokenView>> {
    Ok(Json(s.store.api_tokens(&a).await?))
}

/// Revokes one of the caller's tokens: from the next request on it answers 401, on every
/// server.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", security(("bearer" = [])),
    params(("id" = i64, Path, description = "The token's id")),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn revoke_token(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    s.store.revoke_api_token(&a, id, &ip.to_string()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Revokes the token this request presents (a machine client's logout).
#[utoipa::path(delete, path = "/api/v1/tokens/current", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn revoke_current(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ClientIp(ip): ClientIp,
    BearerToken(id): BearerToken,
) -> Result<StatusCode, ApiError> {
    let id = id.ok_or(DomainError::InvalidValue { field: "token" })?;
    s.store.revoke_api_token(&a, id, &ip.to_string()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct Me {
    user_id: i64,
    username: String,
    full_name: String,
    role: String,
    province_id: Option<i64>,
    /// Failed sign-ins to this account before its latest successful one: the holder should
    /// know if someone tried their password.
    failed_sign_ins_before_last: i64,
    last_sign_in_at: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/me", security(("bearer" = [])),
    responses((status = 200, body = Me), (status = 401, body = ErrorBody)))]
async fn me(State(s): State<AppState>, ApiActor(a): ApiActor) -> ApiResult<Me> {
    let (failed, last) = s.store.last_sign_in(a.user_id).await?;
    Ok(Json(Me {
        user_id: a.user_id,
        username: a.username,
        full_name: a.full_name,
        role: a.role.as_str().into(),
        province_id: a.province_id,
        failed_sign_ins_before_last: failed,
        last_sign_in_at: last,
    }))
}
