//! Accounts: the caller's own (a password exchanged for a bearer token, tokens listed and
//! revoked, the password changed, who the caller is) and, for administrators, the users they
//! manage (created, given a role, disabled, enabled, their password reset).

use super::{ApiJson, ApiResult};
use crate::auth::{ApiActor, BearerToken};
use crate::commands::accounts::{ChangePassword, ConfirmSecondFactor, CreateUser, SetRole};
use crate::error::{ApiError, ErrorBody};
use crate::ratelimit::ClientIp;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use skillcard_core::DomainError;
use skillcard_db::totp::TotpEnrolment;
use skillcard_db::{AccountAdmin, SessionView, TokenView, UserListing};
use utoipa::{OpenApi, ToSchema};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/tokens", post(create_token).get(list_tokens))
        .route("/api/v1/tokens/current", delete(revoke_current))
        .route("/api/v1/tokens/{id}", delete(revoke_token))
        .route("/api/v1/me", axum::routing::get(me))
        .route("/api/v1/me/password", post(change_password))
        .route("/api/v1/me/sessions", axum::routing::get(list_sessions))
        .route("/api/v1/me/sessions/{id}", delete(end_session))
        .route("/api/v1/me/totp", post(start_totp))
        .route("/api/v1/me/totp/confirm", post(confirm_totp))
        .route(
            "/api/v1/users",
            axum::routing::get(list_users).post(create_user),
        )
        .route(
            "/api/v1/users/{username}/role",
            axum::routing::put(set_role),
        )
        .route("/api/v1/users/{username}/disable", post(disable_user))
        .route("/api/v1/users/{username}/enable", post(enable_user))
        .route(
            "/api/v1/users/{username}/reset-password",
            post(reset_password),
        )
}

#[derive(OpenApi)]
#[openapi(
    paths(
        create_token,
        list_tokens,
        revoke_token,
        revoke_current,
        me,
        change_password,
        list_users,
        create_user,
        set_role,
        disable_user,
        enable_user,
        reset_password,
        start_totp,
        confirm_totp,
        list_sessions,
        end_session
    ),
    components(schemas(
        TokenRequest,
        TokenResponse,
        TokenView,
        Me,
        ChangePassword,
        UserListing,
        CreateUser,
        Created,
        SetRole,
        ResetAnswer,
        TotpEnrolment,
        ConfirmSecondFactor,
        RecoveryCodes,
        SessionView
    ))
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
    /// The authenticator's current code (or a recovery code), for accounts with a second
    /// factor; without it they are answered 401 `otp_required`.
    #[serde(default)]
    otp: Option<String>,
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
    let signed = s
        .store
        .sign_in(&b.username, &b.password, b.otp.as_deref(), &client)
        .await;
    s.metrics.sign_in(crate::metrics::SignInVia::Api, &signed);
    let signed = signed?;
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

/// Changes the caller's own password (required first after an administrator's reset).
#[utoipa::path(post, path = "/api/v1/me/password", request_body = ChangePassword,
    security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn change_password(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ClientIp(ip): ClientIp,
    ApiJson(b): ApiJson<ChangePassword>,
) -> Result<StatusCode, ApiError> {
    s.store
        .change_password(&a, &b.current_password, &b.new_password, &ip.to_string())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The users the calling administrator manages (a provincial administrator: their province's).
#[utoipa::path(get, path = "/api/v1/users", security(("bearer" = [])),
    responses((status = 200, body = Vec<UserListing>), (status = 403, body = ErrorBody)))]
async fn list_users(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
) -> ApiResult<Vec<UserListing>> {
    Ok(Json(s.store.users(Some(&a)).await?))
}

#[derive(Serialize, ToSchema)]
pub struct Created {
    id: i64,
}

/// An administrator creates a user within their reach.
#[utoipa::path(post, path = "/api/v1/users", request_body = CreateUser, security(("bearer" = [])),
    responses((status = 200, body = Created), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_user(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(b): ApiJson<CreateUser>,
) -> ApiResult<Created> {
    let id = s.store.create_user(Some(&a), b.input()?).await?;
    Ok(Json(Created { id }))
}

/// Gives a user another role or province (effective from their next request).
#[utoipa::path(put, path = "/api/v1/users/{username}/role", request_body = SetRole,
    params(("username" = String, Path)), security(("bearer" = [])), responses((status = 204)))]
async fn set_role(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ClientIp(ip): ClientIp,
    Path(username): Path<String>,
    ApiJson(b): ApiJson<SetRole>,
) -> Result<StatusCode, ApiError> {
    let (role, province) = b.input()?;
    s.store
        .set_user_role(
            AccountAdmin::User(&a, &ip.to_string()),
            &username,
            role,
            province,
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Deactivates a user: every session and token of theirs ends at once.
#[utoipa::path(post, path = "/api/v1/users/{username}/disable",
    params(("username" = String, Path)), security(("bearer" = [])), responses((status = 204)))]
async fn disable_user(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ClientIp(ip): ClientIp,
    Path(username): Path<String>,
) -> Result<StatusCode, ApiError> {
    s.store
        .set_user_active(AccountAdmin::User(&a, &ip.to_string()), &username, false)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Reactivates a user.
#[utoipa::path(post, path = "/api/v1/users/{username}/enable",
    params(("username" = String, Path)), security(("bearer" = [])), responses((status = 204)))]
async fn enable_user(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ClientIp(ip): ClientIp,
    Path(username): Path<String>,
) -> Result<StatusCode, ApiError> {
    s.store
        .set_user_active(AccountAdmin::User(&a, &ip.to_string()), &username, true)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct ResetAnswer {
    /// Give it to the user out of band; it works once, until `expires_at`, and must then be
    /// replaced.
    one_time_password: String,
    expires_at: String,
}

/// Resets a user's password to a one-time password; their sessions and tokens end.
#[utoipa::path(post, path = "/api/v1/users/{username}/reset-password",
    params(("username" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = ResetAnswer)))]
async fn reset_password(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ClientIp(ip): ClientIp,
    Path(username): Path<String>,
) -> ApiResult<ResetAnswer> {
    let otp = s
        .store
        .reset_password(AccountAdmin::User(&a, &ip.to_string()), &username)
        .await?;
    Ok(Json(ResetAnswer {
        one_time_password: otp.code,
        expires_at: otp.expires_at,
    }))
}

/// Starts setting up a second factor: the secret for the authenticator app (pending until
/// confirmed).
#[utoipa::path(post, path = "/api/v1/me/totp", security(("bearer" = [])),
    responses((status = 200, body = TotpEnrolment), (status = 409, body = ErrorBody)))]
async fn start_totp(State(s): State<AppState>, ApiActor(a): ApiActor) -> ApiResult<TotpEnrolment> {
    Ok(Json(s.store.start_totp(&a).await?))
}

#[derive(Serialize, ToSchema)]
pub struct RecoveryCodes {
    /// Each signs in once in place of a code; shown only now.
    recovery_codes: Vec<String>,
}

/// Turns the second factor on once a code from the app matches; answers the recovery codes.
#[utoipa::path(post, path = "/api/v1/me/totp/confirm", request_body = ConfirmSecondFactor,
    security(("bearer" = [])), responses((status = 200, body = RecoveryCodes)))]
async fn confirm_totp(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ClientIp(ip): ClientIp,
    ApiJson(b): ApiJson<ConfirmSecondFactor>,
) -> ApiResult<RecoveryCodes> {
    let recovery_codes = s.store.confirm_totp(&a, &b.otp, &ip.to_string()).await?;
    Ok(Json(RecoveryCodes { recovery_codes }))
}

/// The caller's live browser sessions (where they are signed in).
#[utoipa::path(get, path = "/api/v1/me/sessions", security(("bearer" = [])),
    responses((status = 200, body = Vec<SessionView>)))]
async fn list_sessions(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
) -> ApiResult<Vec<SessionView>> {
    Ok(Json(s.store.own_sessions(&a).await?))
}

/// Ends one of the caller's sessions: that browser is signed out at its next request.
#[utoipa::path(delete, path = "/api/v1/me/sessions/{id}", security(("bearer" = [])),
    params(("id" = i64, Path)), responses((status = 204)))]
async fn end_session(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    s.store.end_own_session(&a, id, &ip.to_string()).await?;
    Ok(StatusCode::NO_CONTENT)
}
