//! Public verification in the API: no token; answers may be cached briefly.

use super::ApiQuery;
use crate::error::{ApiError, ErrorBody};
use crate::verification::{check, VerifyOutcome, VerifyQuery};
use crate::AppState;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use utoipa::OpenApi;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/public/verify", get(verify))
}

#[derive(OpenApi)]
#[openapi(paths(verify), components(schemas(ErrorBody, VerifyOutcome)))]
pub struct VerifyDoc;

/// Verifies a card's QR text (`qr`), or looks a certificate up by `number` and `national_id`.
/// No account needed. The national code in the answer is masked.
#[utoipa::path(get, path = "/api/v1/public/verify", params(VerifyQuery),
    responses((status = 200, body = VerifyOutcome), (status = 422, body = ErrorBody)))]
async fn verify(
    State(s): State<AppState>,
    ApiQuery(q): ApiQuery<VerifyQuery>,
) -> Result<Response, ApiError> {
    let o = check(&s, &q).await?;
    Ok(([(header::CACHE_CONTROL, "public, max-age=60")], Json(o)).into_response())
}
