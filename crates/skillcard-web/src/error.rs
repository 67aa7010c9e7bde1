//! One error type for the web layer, rendered as JSON for the API and as a Persian page for
//! people. Domain errors carry their own code and message; anything else is logged and shown as
//! a generic server error without internals.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use skillcard_core::error::ErrorKind;
use skillcard_core::DomainError;
use skillcard_db::StoreError;
use utoipa::ToSchema;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error(transparent)]
    Store(StoreError),
    #[error("documents: {0}")]
    Docs(#[from] skillcard_docs::DocsError),
    #[error("sheet: {0}")]
    Sheet(#[from] skillcard_sheets::SheetError),
    #[error("no Persian font is installed, documents cannot be rendered")]
    NoFonts,
    #[error("the database does not answer")]
    Unavailable,
    #[error("rate limited: retry after {retry_after_secs}s")]
    RateLimited { retry_after_secs: u64 },
    #[error("bad request: {0}")]
    BadRequest(String),
    /// A refusal by the HTTP machinery itself (an unknown route, a wrong method, a body too
    /// large, a path id that is not a number), answered in the same shape as every other error.
    #[error("http {0}: {1}")]
    Http(StatusCode, String),
    #[error("internal: {0}")]
    Internal(String),
    #[error("template: {0}")]
    Template(#[from] askama::Error),
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Domain(d) => AppError::Domain(d),
            other => AppError::Store(other),
        }
    }
}

/// The error body of every API response that failed.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Stable machine-readable code, e.g. `over_cap`.
    pub code: String,
    /// What went wrong, in Persian, for people.
    pub message: String,
    /// Structured details (the offending values).
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::Domain(d) => match d.kind() {
                ErrorKind::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
                ErrorKind::Forbidden => StatusCode::FORBIDDEN,
                ErrorKind::NotFound => StatusCode::NOT_FOUND,
                ErrorKind::Conflict => StatusCode::CONFLICT,
                ErrorKind::Unauthenticated => StatusCode::UNAUTHORIZED,
                ErrorKind::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            },
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Http(status, _) => *status,
            AppError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Sheet(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::NoFonts | AppError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Seconds a refused client should wait, for the `Retry-After` header.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            AppError::RateLimited { retry_after_secs }
            | AppError::Domain(DomainError::LoginThrottled { retry_after_secs }) => {
                Some(*retry_after_secs)
            }
            _ => None,
        }
    }

    /// `resp` with the `Retry-After` header this error calls for.
    pub(crate) fn with_retry_after(&self, mut resp: Response) -> Response {
        if let Some(secs) = self.retry_after() {
            if let Ok(v) = axum::http::HeaderValue::from_str(&secs.to_string()) {
                resp.headers_mut()
                    .insert(axum::http::header::RETRY_AFTER, v);
            }
        }
        resp
    }

    pub fn body(&self) -> ErrorBody {
        match self {
            AppError::Domain(d) => ErrorBody {
                code: d.code().into(),
                message: d.message_fa(),
                details: d.details(),
            },
            AppError::BadRequest(why) => ErrorBody {
                code: "bad_request".into(),
                message: "درخواست نادرست است.".into(),
                details: serde_json::json!({ "reason": why }),
            },
            AppError::Http(status, why) => ErrorBody {
                code: http_code(*status).into(),
                message: skillcard_core::fa::http_refusal(status.as_u16()).into(),
                details: serde_json::json!({ "reason": why }),
            },
            AppError::Sheet(e) => ErrorBody {
                code: e.code().into(),
                message: e.message_fa(),
                details: serde_json::json!({}),
            },
            AppError::RateLimited { retry_after_secs } => ErrorBody {
                code: "rate_limited".into(),
                message: skillcard_core::fa::rate_limited(*retry_after_secs),
                details: serde_json::json!({ "retry_after_secs": retry_after_secs }),
            },
            AppError::NoFonts => ErrorBody {
                code: "fonts_missing".into(),
                message: "قلم فارسی روی سرور نصب نیست؛ اسناد قابل تولید نیستند.".into(),
                details: serde_json::json!({}),
            },
            AppError::Unavailable => ErrorBody {
                code: "unavailable".into(),
                message: skillcard_core::fa::UNAVAILABLE.into(),
                details: serde_json::json!({}),
            },
            other => {
                tracing::error!(error = %other, "internal error");
                ErrorBody {
                    code: "internal".into(),
                    message: skillcard_core::fa::http_refusal(500).into(),
                    details: serde_json::json!({}),
                }
            }
        }
    }
}

/// An error answered as JSON.
#[derive(Debug)]
pub struct ApiError(pub AppError);

impl<E: Into<AppError>> From<E> for ApiError {
    fn from(e: E) -> Self {
        ApiError(e.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let resp = (self.0.status(), Json(self.0.body())).into_response();
        self.0.with_retry_after(resp)
    }
}

/// An error answered as a Persian page.
#[derive(Debug)]
pub struct PageError(pub AppError);

impl<E: Into<AppError>> From<E> for PageError {
    fn from(e: E) -> Self {
        PageError(e.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let status = self.0.status();
        if status == StatusCode::UNAUTHORIZED {
            return axum::response::Redirect::to("/login").into_response();
        }
        let body = self.0.body();
        let resp = (
            status,
            Html(crate::pages::error_page(&body.message, &body.code)),
        )
            .into_response();
        self.0.with_retry_after(resp)
    }
}

/// The stable code of a refusal by the HTTP machinery.
fn http_code(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "bad_request",
        404 => "not_found",
        405 => "method_not_allowed",
        408 => "request_timeout",
        413 => "payload_too_large",
        414 => "uri_too_long",
        415 => "unsupported_media_type",
        422 => "unprocessable",
        431 => "headers_too_large",
        _ if status.is_server_error() => "internal",
        _ => "http_error",
    }
}

/// The longest address (path and query) answered; no page or API call needs more. Past 64 KiB
/// the HTTP parser itself answers 414, without a body.
const MAX_URI_BYTES: usize = 8 * 1024;

/// The most of a framework's plain-text refusal kept as its reason.
const REASON_MAX: usize = 1024;

/// The outermost middleware: a refusal that did not come from [`AppError`] (axum's own
/// rejections, an unknown route, a method not allowed, a body over its limit) is answered in
/// the error shape of every other error — `{code, message, details}` under `/api/`, the Persian
/// error page elsewhere. Responses already JSON or HTML pass untouched.
pub async fn uniform_errors(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let api = req.uri().path().starts_with("/api/");
    let uri_len = req.uri().path_and_query().map_or(0, |pq| pq.as_str().len());
    if uri_len > MAX_URI_BYTES {
        let e = AppError::Http(
            StatusCode::URI_TOO_LONG,
            format!("the address is {uri_len} bytes, more than {MAX_URI_BYTES}"),
        );
        return if api {
            ApiError(e).into_response()
        } else {
            PageError(e).into_response()
        };
    }
    let resp = next.run(req).await;
    let status = resp.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let content_type = resp
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if content_type.starts_with("application/json") || content_type.starts_with("text/html") {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    let reason = match axum::body::to_bytes(body, REASON_MAX * 4).await {
        Ok(b) => String::from_utf8_lossy(&b[..b.len().min(REASON_MAX)]).into_owned(),
        Err(_) => String::new(),
    };
    let e = AppError::Http(status, reason);
    let mut out = if api {
        ApiError(e).into_response()
    } else {
        PageError(e).into_response()
    };
    for name in [axum::http::header::ALLOW, axum::http::header::RETRY_AFTER] {
        if let Some(v) = parts.headers.get(&name) {
            out.headers_mut().insert(name, v.clone());
        }
    }
    out
}
