//! Authentication and CSRF, in one middleware in front of every route.
//!
//! A request is either anonymous, a browser session (cookie `skillcard_session`, HttpOnly,
//! SameSite=Lax, Secure unless configured off for loopback development) or a machine client
//! (`Authorization: Bearer …`). Every unsafe request that authenticates by cookie must echo the
//! session's CSRF token in the form field `_csrf` or the `X-CSRF-Token` header; anonymous form
//! posts (the login form) must echo the pre-session cookie instead. Handlers only ever see the
//! outcome through the [`ApiActor`] and [`PageActor`] extractors; what the actor may do is decided
//! by `skillcard_core::policy`, not here.

use crate::error::{ApiError, AppError, PageError};
use crate::AppState;
use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::{header, request::Parts, HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use skillcard_core::policy::Actor;
use skillcard_core::DomainError;
use skillcard_db::SessionInfo;
use std::sync::Arc;

pub const SESSION_COOKIE: &str = "skillcard_session";
pub const PRE_SESSION_COOKIE: &str = "skillcard_pre";
const FORM_LIMIT: usize = 1 << 20;
/// A page form uploading a scan (`multipart/form-data`): the largest scan plus the other fields.
pub const UPLOAD_LIMIT: usize = skillcard_media::SCAN.max_bytes + (256 << 10);

#[derive(Debug, Clone)]
pub enum Auth {
    Anonymous,
    Session { info: SessionInfo, token: String },
    Bearer { actor: Actor, token_id: i64 },
}

/// The outcome of authentication, stored in the request's extensions.
#[derive(Debug, Clone)]
pub struct RequestAuth(pub Arc<Auth>);

pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

pub fn set_cookie(name: &str, value: &str, max_age_secs: i64, secure: bool) -> String {
    format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{}",
        if secure { "; Secure" } else { "" }
    )
}

fn is_api(path: &str) -> bool {
    path.starts_with("/api/")
}

/// The page where a user changes their password.
pub const PASSWORD_PAGE: &str = "/account/password";

/// What a user whose password was reset may reach before replacing it.
fn allowed_before_password_change(path: &str) -> bool {
    matches!(
        path,
        PASSWORD_PAGE | "/logout" | "/api/v1/me" | "/api/v1/me/password" | "/api/v1/tokens/current"
    ) || path.starts_with("/static/")
}

/// The page where a user sets up their second factor.
pub const SECOND_FACTOR_PAGE: &str = "/account/2fa";

/// What a user of a role that needs a second factor may reach before setting one up.
fn allowed_before_second_factor(path: &str) -> bool {
    path.starts_with(SECOND_FACTOR_PAGE)
        || path.starts_with("/api/v1/me/totp")
        || allowed_before_password_change(path)
}

fn reject(path: &str, e: DomainError) -> Response {
    if is_api(path) {
        ApiError(AppError::Domain(e)).into_response()
    } else {
        PageError(AppError::Domain(e)).into_response()
    }
}

pub async fn authenticate(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let headers = req.headers().clone();
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .map(String::from);
    let auth = if let Some(token) = bearer {
        match state.store.token_actor(&token).await {
            Ok(Some(t)) if t.must_change_password && !allowed_before_password_change(&path) => {
                return reject(&path, DomainError::PasswordChangeRequired)
            }
            Ok(Some(t))
                if !t.has_second_factor
                    && state.config.second_factor_roles.contains(&t.actor.role)
                    && !allowed_before_second_factor(&path) =>
            {
                return reject(&path, DomainError::SecondFactorRequired)
            }
            Ok(Some(t)) => Auth::Bearer {
                actor: t.actor,
                token_id: t.token_id,
            },
            Ok(None) => return reject(&path, DomainError::Unauthenticated),
            Err(e) => return ApiError(AppError::from(e)).into_response(),
        }
    } else if let Some(token) = cookie(&headers, SESSION_COOKIE) {
        match state.store.session(&token).await {
            Ok(Some(info))
                if info.must_change_password && !allowed_before_password_change(&path) =>
            {
                if is_api(&path) {
                    return reject(&path, DomainError::PasswordChangeRequired);
                }
                return axum::response::Redirect::to(PASSWORD_PAGE).into_response();
            }
            Ok(Some(info))
                if !info.has_second_factor
                    && state.config.second_factor_roles.contains(&info.actor.role)
                    && !allowed_before_second_factor(&path) =>
            {
                if is_api(&path) {
                    return reject(&path, DomainError::SecondFactorRequired);
                }
                return axum::response::Redirect::to(SECOND_FACTOR_PAGE).into_response();
            }
            Ok(Some(info)) => Auth::Session { info, token },
            Ok(None) => Auth::Anonymous,
            Err(e) => return ApiError(AppError::from(e)).into_response(),
        }
    } else {
        Auth::Anonymous
    };

    let unsafe_method = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let mut req = req;
    if unsafe_method && !matches!(auth, Auth::Bearer { .. }) {
        let expected = match &auth {
            Auth::Session { info, .. } => Some(info.csrf_token.clone()),
            _ => cookie(&headers, PRE_SESSION_COOKIE),
        };
        let (parts, body) = req.into_parts();
        let limit = if is_multipart_form(&headers) {
            UPLOAD_LIMIT
        } else {
            FORM_LIMIT
        };
        let bytes = match axum::body::to_bytes(body, limit).await {
            Ok(b) => b,
            Err(_) => {
                return reject(
                    &path,
                    DomainError::TooLong {
                        field: "body",
                        max: limit,
                    },
                )
            }
        };
        let sent = headers
            .get("x-csrf-token")
            .and_then(|v| v.to_str().ok())
            .map(String::from)
            .or_else(|| form_field(&headers, &bytes, "_csrf"));
        let ok = matches!((&expected, &sent), (Some(e), Some(s)) if !e.is_empty() && constant_time_eq(e, s));
        // Anonymous JSON calls (API token exchange) carry no cookie to protect: let them through.
        let anonymous_api = matches!(auth, Auth::Anonymous) && is_api(&path);
        if !ok && !anonymous_api {
            return reject(&path, DomainError::CsrfMismatch);
        }
        req = Request::from_parts(parts, Body::from(bytes));
    }
    req.extensions_mut().insert(RequestAuth(Arc::new(auth)));
    next.run(req).await
}

fn is_multipart_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(crate::multipart::is_multipart)
}

fn form_field(headers: &HeaderMap, body: &[u8], name: &str) -> Option<String> {
    if is_multipart_form(headers) {
        let ct = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
        let parts = crate::multipart::parse(ct, body)?;
        return parts
            .into_iter()
            .find(|p| p.name == name && p.filename.is_none())
            .and_then(|p| String::from_utf8(p.data).ok());
    }
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return None;
    }
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

fn request_auth(parts: &Parts) -> Arc<Auth> {
    parts
        .extensions
        .get::<RequestAuth>()
        .map(|a| a.0.clone())
        .unwrap_or_else(|| Arc::new(Auth::Anonymous))
}

/// The actor of an API call: a bearer token or a browser session.
pub struct ApiActor(pub Actor);

impl<S: Send + Sync> FromRequestParts<S> for ApiActor {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        match &*request_auth(parts) {
            Auth::Bearer { actor, .. } => Ok(ApiActor(actor.clone())),
            Auth::Session { info, .. } => Ok(ApiActor(info.actor.clone())),
            Auth::Anonymous => Err(ApiError(AppError::Domain(DomainError::Unauthenticated))),
        }
    }
}

/// The actor of a page: a browser session, with the CSRF token its forms must carry.
pub struct PageActor {
    pub actor: Actor,
    pub csrf: String,
}

impl<S: Send + Sync> FromRequestParts<S> for PageActor {
    type Rejection = PageError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        match &*request_auth(parts) {
            Auth::Session { info, .. } => Ok(PageActor {
                actor: info.actor.clone(),
                csrf: info.csrf_token.clone(),
            }),
            _ => Err(PageError(AppError::Domain(DomainError::Unauthenticated))),
        }
    }
}

/// The session's CSRF token when the visitor is signed in, for public pages whose forms post
/// (they make a pre-session token otherwise, as the login form does).
pub struct SessionCsrf(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for SessionCsrf {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(SessionCsrf(match &*request_auth(parts) {
            Auth::Session { info, .. } => Some(info.csrf_token.clone()),
            _ => None,
        }))
    }
}

/// The id of the bearer token a request presents, if it presents one.
pub struct BearerToken(pub Option<i64>);

impl<S: Send + Sync> FromRequestParts<S> for BearerToken {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(BearerToken(match &*request_auth(parts) {
            Auth::Bearer { token_id, .. } => Some(*token_id),
            _ => None,
        }))
    }
}

/// The id of the browser session a request comes with, if any.
pub struct CurrentSession(pub Option<i64>);

impl<S: Send + Sync> FromRequestParts<S> for CurrentSession {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(CurrentSession(match &*request_auth(parts) {
            Auth::Session { info, .. } => Some(info.session_id),
            _ => None,
        }))
    }
}

/// The session's cookie secret, for logout.
pub struct SessionToken(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for SessionToken {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(SessionToken(match &*request_auth(parts) {
            Auth::Session { token, .. } => Some(token.clone()),
            _ => None,
        }))
    }
}
