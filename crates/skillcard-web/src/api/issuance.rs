//! Fees and certificates in the API, including the payment gateway's callback.

use super::{ApiJson, ApiQuery, ApiResult};
use crate::auth::ApiActor;
use crate::commands::issuance::{IssueCertificate, RecordPayment};
use crate::error::{ApiError, AppError, ErrorBody};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use skillcard_core::search::SearchQuery;
use skillcard_core::DomainError;
use skillcard_db::issuance::*;
use skillcard_db::search::SearchHit;
use skillcard_db::views::Page;
use utoipa::{OpenApi, ToSchema};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/candidates/{id}/issuance", get(issuance))
        .route("/api/v1/candidates/{id}/payments", post(bank_payment))
        .route("/api/v1/candidates/{id}/certificate", post(issue))
        .route("/api/v1/payments/gateway", post(gateway))
        .route("/api/v1/search", get(search))
}

#[derive(OpenApi)]
#[openapi(
    paths(issuance, bank_payment, issue, gateway, search),
    components(schemas(ErrorBody, GatewayCallback))
)]
pub struct IssuanceDoc;

/// What to search for, and which page.
#[derive(Deserialize, utoipa::IntoParams)]
pub struct SearchParams {
    /// A national code, a card serial, a certificate number, or a name (`family` or
    /// `given family`); digits in any script.
    pub q: String,
    /// The previous page's `next_before`.
    pub before: Option<i64>,
    /// At most 200 (default 50).
    pub limit: Option<i64>,
}

/// Candidates by national code, card serial, certificate number or name, newest first, a page
/// at a time, within the caller's province.
#[utoipa::path(get, path = "/api/v1/search", params(SearchParams),
    responses((status = 200, body = Page<SearchHit>), (status = 422, body = ErrorBody)))]
async fn search(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(q): ApiQuery<SearchParams>,
) -> ApiResult<Page<SearchHit>> {
    let query = SearchQuery::parse(&q.q)?;
    let cursor = crate::paging::cursor(q.before, q.limit);
    Ok(Json(s.store.search(&a, &query, cursor).await?))
}

/// the candidate's record beside the approved exam record, the fee and its payments.
#[utoipa::path(get, path = "/api/v1/candidates/{id}/issuance", responses((status = 200, body = IssuanceView), (status = 404, body = ErrorBody)))]
async fn issuance(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
) -> ApiResult<IssuanceView> {
    Ok(Json(s.store.issuance(&a, id).await?))
}

/// the clerk records a bank receipt for the issuance fee.
#[utoipa::path(post, path = "/api/v1/candidates/{id}/payments", request_body = RecordPayment,
    responses((status = 200, body = IssuanceView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn bank_payment(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<RecordPayment>,
) -> ApiResult<IssuanceView> {
    let amount = b.amount_rial.rials("amount")?;
    Ok(Json(
        s.store
            .record_bank_payment(&a, id, &b.reference, amount)
            .await?,
    ))
}

/// issues the certificate (approved, passed, paid, data confirmed).
#[utoipa::path(post, path = "/api/v1/candidates/{id}/certificate", request_body = IssueCertificate,
    responses((status = 200, body = IssuanceView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn issue(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<IssueCertificate>,
) -> ApiResult<IssuanceView> {
    Ok(Json(
        s.store.issue_certificate(&a, id, b.confirm.get()).await?,
    ))
}

#[derive(Serialize, ToSchema)]
pub struct GatewayAck {
    payment: PaymentView,
    /// False when this callback repeated one already recorded.
    new: bool,
}

/// the payment gateway's callback: a `GatewayCallback` JSON body, signed with
/// HMAC-SHA256 over the exact body bytes in the `X-Signature` header (hex). Idempotent.
#[utoipa::path(post, path = "/api/v1/payments/gateway", request_body = GatewayCallback,
    responses((status = 200, body = GatewayAck), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn gateway(
    State(s): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<GatewayAck> {
    let secret = s
        .gateway_secret
        .clone()
        .ok_or(ApiError(AppError::BadRequest(
            "the payment gateway is not configured".into(),
        )))?;
    let signature = headers
        .get("x-signature")
        .and_then(|v| v.to_str().ok())
        .ok_or(ApiError(AppError::Domain(DomainError::BadSignature)))?;
    let (payment, new) = s.store.gateway_payment(&secret, &body, signature).await?;
    Ok(Json(GatewayAck { payment, new }))
}
