//! The public verification page: no login. Two GET forms (the QR text pasted, or a
//! certificate number with the national code) and one POST form that uploads a photo of the
//! card — on a phone it opens the camera — whose QR code the server reads. The photo form
//! carries a CSRF token like every form that posts: the session's, or a pre-session one.

use super::aftercare::multipart_form;
use super::{filters, random_hex, PageResult};
use crate::auth::{set_cookie, SessionCsrf, PRE_SESSION_COOKIE};
use crate::error::AppError;
use crate::multipart;
use crate::verification::{check, VerifyOutcome, VerifyQuery};
use crate::AppState;
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{Html, IntoResponse};
use skillcard_core::DomainError;
use skillcard_credential::photo::{qr_text_from_photo, PhotoError};

#[derive(Template)]
#[template(path = "verify.html")]
struct VerifyPage {
    nav: Option<super::Nav>,
    csrf: String,
    outcome: Option<VerifyOutcome>,
    error: Option<String>,
}

/// Renders the page; a visitor without a session gets a fresh pre-session token. A refused
/// question is shown on the page with the status of its error (422 for a bad photo, …).
fn page(
    s: &AppState,
    session: SessionCsrf,
    outcome: Option<VerifyOutcome>,
    error: Option<AppError>,
) -> PageResult {
    let status = error
        .as_ref()
        .map_or(axum::http::StatusCode::OK, AppError::status);
    let error = error.map(|e| e.body().message);
    let (csrf, cookie) = match session.0 {
        Some(token) => (token, None),
        None => {
            let token = random_hex();
            let cookie = set_cookie(PRE_SESSION_COOKIE, &token, 3600, s.config.secure_cookies);
            (token, Some(cookie))
        }
    };
    let body = VerifyPage {
        nav: None,
        csrf,
        outcome,
        error,
    }
    .render()
    .map_err(AppError::from)?;
    Ok(match cookie {
        Some(c) => (status, [(header::SET_COOKIE, c)], Html(body)).into_response(),
        None => (status, Html(body)).into_response(),
    })
}

pub async fn verify(
    State(s): State<AppState>,
    session: SessionCsrf,
    Query(q): Query<VerifyQuery>,
) -> PageResult {
    let (outcome, error) = if q.is_empty() {
        (None, None)
    } else {
        match check(&s, &q).await {
            Ok(o) => (Some(o), None),
            Err(e) => (None, Some(e)),
        }
    };
    page(&s, session, outcome, error)
}

fn photo_error(e: PhotoError) -> DomainError {
    match e {
        PhotoError::Image(e) => e.for_field("photo"),
        PhotoError::NoCode => DomainError::NoQrInPhoto,
    }
}

/// The QR text in the uploaded photo of a card.
async fn qr_from_upload(headers: &HeaderMap, body: &[u8]) -> Result<String, AppError> {
    let parts = multipart_form(headers, body).map_err(|e| e.0)?;
    let photo = multipart::file(&parts, "photo")
        .filter(|p| !p.is_empty())
        .ok_or(DomainError::Required { field: "photo" })?
        .to_vec();
    tokio::task::spawn_blocking(move || qr_text_from_photo(&photo))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
        .map_err(|e| AppError::Domain(photo_error(e)))
}

pub async fn verify_photo(
    State(s): State<AppState>,
    session: SessionCsrf,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    let checked = match qr_from_upload(&headers, &body).await {
        Ok(text) => {
            let q = VerifyQuery {
                qr: Some(text),
                ..VerifyQuery::default()
            };
            check(&s, &q).await
        }
        Err(e) => Err(e),
    };
    match checked {
        Ok(o) => page(&s, session, Some(o), None),
        Err(e) => page(&s, session, None, Some(e)),
    }
}
