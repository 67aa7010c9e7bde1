//! The JSON API under `/api/v1`, described by the OpenAPI document at `/api/openapi.json`.
//! Errors are `ErrorBody` (stable code, Persian message, details) with a fitting status.

use crate::auth::ApiActor;
use crate::commands::custody::{
    CreateRequest, HandOver, OverrideCap, ReceiveShipment, RecordShipment, RecordVaultInspection,
    SendReceiptNotice, SetBaseline,
};
use crate::documents;
use crate::error::{ApiError, AppError, ErrorBody};
use crate::forms::{self, Flag, NumText, RangeInput, Ranges};
use crate::paging::{self, PageQuery};
use crate::AppState;
use axum::extract::{FromRequest, Path, Query, Request, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use skillcard_core::custody::{RequestStatus, ShipmentStatus};
use skillcard_core::DomainError;
use skillcard_db::views::*;
use utoipa::{OpenApi, ToSchema};

mod account;
mod aftercare;
mod exams;
mod issuance;
mod printing;
pub mod transparency;
mod verify;

type ApiResult<T> = Result<Json<T>, ApiError>;

/// `Json` whose rejections are answered in the API's error shape.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        Json::<T>::from_request(req, state)
            .await
            .map(|Json(v)| ApiJson(v))
            .map_err(|e| match e.status() {
                axum::http::StatusCode::PAYLOAD_TOO_LARGE => {
                    ApiError(AppError::Http(e.status(), e.body_text()))
                }
                _ => ApiError(AppError::BadRequest(e.body_text())),
            })
    }
}

/// `Query` whose rejections (a missing or malformed parameter) are answered in the API's error
/// shape, like [`ApiJson`].
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> axum::extract::FromRequestParts<S>
    for ApiQuery<T>
{
    type Rejection = ApiError;
    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| ApiQuery(v))
            .map_err(|e| ApiError(AppError::BadRequest(e.body_text())))
    }
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/health", get(health))
        .route("/health/ready", get(ready))
        .route("/api/openapi.json", get(openapi))
        .route("/api/v1/provinces", get(provinces))
        .route("/api/v1/stock", get(stock))
        .route(
            "/api/v1/shipments",
            get(list_shipments).post(create_shipment),
        )
        .route("/api/v1/shipments/{id}", get(get_shipment))
        .route("/api/v1/shipments/{id}/receipt", post(receive_shipment))
        .route(
            "/api/v1/shipments/{id}/receipt-notice",
            post(receipt_notice),
        )
        .route("/api/v1/shipments/{id}/form1.pdf", get(form1_pdf))
        .route(
            "/api/v1/shipments/{id}/receipt-notice.pdf",
            get(receipt_notice_pdf),
        )
        .route("/api/v1/provinces/{id}/ledger", get(ledger))
        .route("/api/v1/provinces/{id}/form2.pdf", get(form2_pdf))
        .route(
            "/api/v1/provinces/{id}/inspections",
            get(list_inspections).post(create_inspection),
        )
        .route("/api/v1/provinces/{id}/baseline", put(set_baseline))
        .route("/api/v1/provinces/{id}/overrides", post(create_override))
        .route("/api/v1/provinces/{id}/cap", get(cap))
        .route("/api/v1/requests", get(list_requests).post(create_request))
        .route("/api/v1/requests/{id}", get(get_request))
        .route("/api/v1/requests/{id}/form3.pdf", get(form3_pdf))
        .route("/api/v1/requests/{id}/handovers", post(create_handover))
        .route("/api/v1/handovers/{id}", get(get_handover))
        .route("/api/v1/handovers/{id}/form4.pdf", get(form4_pdf))
        .route(
            "/api/v1/handovers/{id}/letter.pdf",
            get(handover_letter_pdf),
        )
        .route("/api/v1/audit", get(audit))
        .merge(account::routes())
        .merge(exams::routes())
        .merge(issuance::routes())
        .merge(printing::routes())
        .merge(verify::routes())
        .merge(transparency::routes())
        .merge(aftercare::routes())
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "skillcard",
        description = "Custody and issuance of electronic skill certificate cards. Errors: ErrorBody."
    ),
    paths(
        health,
        ready,
        provinces,
        stock,
        list_shipments,
        create_shipment,
        get_shipment,
        receive_shipment,
        receipt_notice,
        form1_pdf,
        receipt_notice_pdf,
        ledger,
        form2_pdf,
        list_inspections,
        create_inspection,
        set_baseline,
        create_override,
        cap,
        list_requests,
        create_request,
        get_request,
        form3_pdf,
        create_handover,
        get_handover,
        form4_pdf,
        handover_letter_pdf,
        audit
    ),
    components(schemas(ErrorBody, NumText, RangeInput, Ranges, Flag))
)]
pub struct ApiDoc;

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    let mut doc = ApiDoc::openapi();
    doc.merge(account::AccountDoc::openapi());
    doc.merge(exams::ExamsDoc::openapi());
    doc.merge(issuance::IssuanceDoc::openapi());
    doc.merge(printing::PrintingDoc::openapi());
    doc.merge(verify::VerifyDoc::openapi());
    doc.merge(transparency::TransparencyDoc::openapi());
    doc.merge(aftercare::AftercareDoc::openapi());
    describe_access(&mut doc);
    Json(doc)
}

/// Who may call what, and the refusals every operation can answer, written once for the whole
/// document instead of on each of ~80 handlers: the bearer scheme on every operation that needs
/// an account; 401/403 there; 400/404 where the path names a record; 400/409/422 on writes;
/// 429 where a limit applies (the public paths, sign-in).
fn describe_access(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::security::{
        HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
    };
    use utoipa::openapi::{ContentBuilder, HttpMethod, Ref, ResponseBuilder};
    doc.components
        .get_or_insert_with(Default::default)
        .add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("POST /api/v1/tokens; a browser session works too"))
                    .build(),
            ),
        );
    let error = |what: &str| {
        ResponseBuilder::new()
            .description(what)
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("ErrorBody")))
                    .build(),
            )
            .build()
    };
    for (path, item) in doc.paths.paths.iter_mut() {
        let public = path.starts_with("/api/v1/public/") || path.starts_with("/health");
        let ops = [
            (HttpMethod::Get, &mut item.get),
            (HttpMethod::Post, &mut item.post),
            (HttpMethod::Put, &mut item.put),
            (HttpMethod::Delete, &mut item.delete),
            (HttpMethod::Patch, &mut item.patch),
        ];
        for (method, op) in ops {
            let Some(op) = op.as_mut() else { continue };
            let sign_in = path == "/api/v1/tokens" && method == HttpMethod::Post;
            // Callers that prove themselves with a shared secret, not an account.
            let gateway =
                path == "/api/v1/payments/gateway" || path == "/api/v1/notices/delivery-reports";
            let mut add = |status: &str, what: &str| {
                op.responses
                    .responses
                    .entry(status.to_string())
                    .or_insert_with(|| error(what).into());
            };
            if !(public || sign_in || gateway) {
                add(
                    "401",
                    "No valid token or session (unauthenticated, token_expired)",
                );
                add(
                    "403",
                    "The role or province may not do this (forbidden, wrong_province)",
                );
            }
            if path.contains('{') {
                add("400", "A path parameter is malformed");
                add("404", "No such record within the caller's reach");
            }
            if method != HttpMethod::Get {
                add("400", "The body is not valid JSON of the expected shape");
                add(
                    "409",
                    "The record's state does not allow this (or a concurrent change won)",
                );
                add("422", "A value is invalid (code and details name it)");
                add("413", "The body is over its limit");
            }
            if public || sign_in {
                add("429", "Too many requests from this address (Retry-After)");
            }
            if !(public || sign_in || gateway) && op.security.is_none() {
                op.security = Some(vec![SecurityRequirement::new(
                    "bearer",
                    Vec::<String>::new(),
                )]);
            }
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    status: &'static str,
    database: &'static str,
}

/// Liveness: answers without touching the database.
#[utoipa::path(get, path = "/health", responses((status = 200, body = Health)))]
async fn health(State(s): State<AppState>) -> Json<Health> {
    let database = match s.store.backend() {
        skillcard_db::Backend::Sqlite => "sqlite",
        skillcard_db::Backend::Postgres => "postgres",
    };
    Json(Health {
        status: "ok",
        database,
    })
}

/// Readiness: one round trip to the database (`SELECT 1`); 503 when it does not answer.
#[utoipa::path(get, path = "/health/ready", responses((status = 200, body = Health),
    (status = 503, body = ErrorBody)))]
async fn ready(State(s): State<AppState>) -> Result<Json<Health>, ApiError> {
    s.store.ping().await.map_err(|e| {
        tracing::warn!("readiness: {e}");
        AppError::Unavailable
    })?;
    Ok(health(State(s)).await)
}

#[utoipa::path(get, path = "/api/v1/provinces", responses((status = 200, body = Vec<ProvinceView>)))]
async fn provinces(State(s): State<AppState>, _actor: ApiActor) -> ApiResult<Vec<ProvinceView>> {
    Ok(Json(s.store.provinces().await?))
}

/// Card counts by state for every province the caller may see.
#[utoipa::path(get, path = "/api/v1/stock", responses((status = 200, body = Vec<StockView>)))]
async fn stock(State(s): State<AppState>, ApiActor(a): ApiActor) -> ApiResult<Vec<StockView>> {
    Ok(Json(s.store.stock(&a).await?))
}

/// Shipments, newest first, a page at a time (`status`: `in_transit` or `received`).
#[utoipa::path(get, path = "/api/v1/shipments", params(PageQuery), responses((status = 200, body = Page<ShipmentView>)))]
async fn list_shipments(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Page<ShipmentView>> {
    let status = q.status(ShipmentStatus::parse)?;
    Ok(Json(s.store.shipment_page(&a, status, q.cursor()).await?))
}

/// HQ dispatches a shipment of blank cards to a province.
#[utoipa::path(post, path = "/api/v1/shipments", request_body = RecordShipment,
    responses((status = 200, body = ShipmentView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_shipment(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(b): ApiJson<RecordShipment>,
) -> ApiResult<ShipmentView> {
    Ok(Json(s.store.record_shipment(&a, b.input()?).await?))
}

#[utoipa::path(get, path = "/api/v1/shipments/{id}", responses((status = 200, body = ShipmentView), (status = 404, body = ErrorBody)))]
async fn get_shipment(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
) -> ApiResult<ShipmentView> {
    Ok(Json(s.store.shipment(&a, id).await?))
}

/// R-1 / Form 1, R-3: the province receives a shipment into its vault.
#[utoipa::path(post, path = "/api/v1/shipments/{id}/receipt", request_body = ReceiveShipment,
    responses((status = 200, body = ShipmentView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn receive_shipment(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<ReceiveShipment>,
) -> ApiResult<ShipmentView> {
    Ok(Json(s.store.receive_shipment(&a, id, b.input()?).await?))
}

/// records the letter that reports the receipt to HQ.
#[utoipa::path(post, path = "/api/v1/shipments/{id}/receipt-notice", request_body = SendReceiptNotice,
    responses((status = 200, body = ShipmentView), (status = 409, body = ErrorBody)))]
async fn receipt_notice(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<SendReceiptNotice>,
) -> ApiResult<ShipmentView> {
    Ok(Json(
        s.store.record_receipt_notice(&a, id, b.input()).await?,
    ))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct DateRange {
    /// Solar Hijri, e.g. 1405/09/01.
    from: Option<String>,
    /// Solar Hijri, inclusive.
    to: Option<String>,
}

/// Form 2's data: the vault ledger with running balance, derived from recorded movements.
#[utoipa::path(get, path = "/api/v1/provinces/{id}/ledger", params(DateRange), responses((status = 200, body = LedgerView)))]
async fn ledger(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    ApiQuery(q): ApiQuery<DateRange>,
) -> ApiResult<LedgerView> {
    let from = forms::optional_date(q.from.as_deref())?;
    let to = forms::optional_date(q.to.as_deref())?;
    Ok(Json(s.store.ledger(&a, id, from, to).await?))
}

#[utoipa::path(get, path = "/api/v1/provinces/{id}/inspections", responses((status = 200, body = Vec<InspectionView>)))]
async fn list_inspections(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
) -> ApiResult<Vec<InspectionView>> {
    Ok(Json(s.store.inspections(&a, id, 200).await?))
}

#[utoipa::path(post, path = "/api/v1/provinces/{id}/inspections", request_body = RecordVaultInspection,
    responses((status = 200, body = InspectionView), (status = 422, body = ErrorBody)))]
async fn create_inspection(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<RecordVaultInspection>,
) -> ApiResult<InspectionView> {
    Ok(Json(s.store.record_inspection(&a, id, b.input()?).await?))
}

#[utoipa::path(put, path = "/api/v1/provinces/{id}/baseline", request_body = SetBaseline,
    responses((status = 200, body = CapView), (status = 403, body = ErrorBody)))]
async fn set_baseline(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<SetBaseline>,
) -> ApiResult<CapView> {
    s.store.set_baseline(&a, id, b.input()?).await?;
    Ok(Json(s.store.cap(&a, id, None).await?))
}

#[utoipa::path(post, path = "/api/v1/provinces/{id}/overrides", request_body = OverrideCap,
    responses((status = 200, body = CapView), (status = 403, body = ErrorBody)))]
async fn create_override(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<OverrideCap>,
) -> ApiResult<CapView> {
    let o = b.input()?;
    s.store
        .record_override(&a, id, o.month, o.max_count, &o.reason)
        .await?;
    Ok(Json(s.store.cap(&a, id, Some(o.month)).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct MonthQuery {
    /// Solar Hijri month `1405/09`; this month by default.
    month: Option<String>,
}

/// Note 2: the cap for a month and its basis.
#[utoipa::path(get, path = "/api/v1/provinces/{id}/cap", params(MonthQuery), responses((status = 200, body = CapView)))]
async fn cap(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    ApiQuery(q): ApiQuery<MonthQuery>,
) -> ApiResult<CapView> {
    let month = q.month.as_deref().map(forms::month).transpose()?;
    Ok(Json(s.store.cap(&a, id, month).await?))
}

/// Monthly requests, newest first, a page at a time (`status`: `open` or `fulfilled`).
#[utoipa::path(get, path = "/api/v1/requests", params(PageQuery), responses((status = 200, body = Page<RequestView>)))]
async fn list_requests(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Page<RequestView>> {
    let status = q.status(RequestStatus::parse)?;
    Ok(Json(s.store.request_page(&a, status, q.cursor()).await?))
}

/// R-4.1 / Form 3: this month's request for blank cards (capped by Note 2).
#[utoipa::path(post, path = "/api/v1/requests", request_body = CreateRequest,
    responses((status = 200, body = RequestView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_request(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(b): ApiJson<CreateRequest>,
) -> ApiResult<RequestView> {
    Ok(Json(s.store.create_request(&a, b.input(&a)?).await?))
}

#[utoipa::path(get, path = "/api/v1/requests/{id}", responses((status = 200, body = RequestView), (status = 404, body = ErrorBody)))]
async fn get_request(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
) -> ApiResult<RequestView> {
    Ok(Json(s.store.request(&a, id).await?))
}

#[utoipa::path(post, path = "/api/v1/requests/{id}/handovers", request_body = HandOver,
    responses((status = 200, body = HandoverView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_handover(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<HandOver>,
) -> ApiResult<HandoverView> {
    Ok(Json(s.store.hand_over(&a, id, b.input()?).await?))
}

#[utoipa::path(get, path = "/api/v1/handovers/{id}", responses((status = 200, body = HandoverView), (status = 404, body = ErrorBody)))]
async fn get_handover(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
) -> ApiResult<HandoverView> {
    Ok(Json(s.store.handover(&a, id).await?))
}

/// Which page of the audit chain, and optionally one record's history.
#[derive(Deserialize, utoipa::IntoParams)]
pub struct AuditQuery {
    /// With `entity_id`: only the history of this record (`shipment`, `card_print`, …).
    entity: Option<String>,
    entity_id: Option<String>,
    /// The previous page's `next_before` (a sequence number).
    before: Option<i64>,
    /// At most 200 (default 50).
    limit: Option<i64>,
}

/// The audit chain, newest first, a page at a time, scoped to the caller's province.
#[utoipa::path(get, path = "/api/v1/audit", params(AuditQuery), responses((status = 200, body = Page<AuditView>)))]
async fn audit(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> ApiResult<Page<AuditView>> {
    let record = match (q.entity.as_deref(), q.entity_id.as_deref()) {
        (Some(e), Some(id)) => Some((e, id)),
        (None, None) => None,
        _ => return Err(DomainError::InvalidValue { field: "entity_id" }.into()),
    };
    let cursor = paging::cursor(q.before, q.limit);
    Ok(Json(s.store.audit_page(&a, record, cursor).await?))
}

/// An Excel workbook to download as `name`.
pub(crate) fn xlsx(bytes: Vec<u8>, name: &str) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
        .into_response()
}

pub(crate) fn pdf(bytes: Vec<u8>, name: &str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{name}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        bytes,
    )
        .into_response()
}

/// Form 1: minutes of receipt of a shipment (PDF).
#[utoipa::path(get, path = "/api/v1/shipments/{id}/form1.pdf", responses((status = 200, content_type = "application/pdf")))]
async fn form1_pdf(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let view = s.store.shipment(&a, id).await?;
    Ok(pdf(
        documents::render(&s, documents::form1(&view)?).await?,
        &format!("form1-{id}.pdf"),
    ))
}

/// the receipt notice to HQ (PDF).
#[utoipa::path(get, path = "/api/v1/shipments/{id}/receipt-notice.pdf", responses((status = 200, content_type = "application/pdf")))]
async fn receipt_notice_pdf(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let view = s.store.shipment(&a, id).await?;
    Ok(pdf(
        documents::render(&s, documents::receipt_notice(&view)?).await?,
        &format!("receipt-notice-{id}.pdf"),
    ))
}

/// Form 2: the vault inventory for a date range (PDF).
#[utoipa::path(get, path = "/api/v1/provinces/{id}/form2.pdf", params(DateRange), responses((status = 200, content_type = "application/pdf")))]
async fn form2_pdf(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    ApiQuery(q): ApiQuery<DateRange>,
) -> Result<Response, ApiError> {
    let from = forms::optional_date(q.from.as_deref())?;
    let to = forms::optional_date(q.to.as_deref())?;
    let view = s.store.ledger(&a, id, from, to).await?;
    Ok(pdf(
        documents::render(&s, documents::form2(&view)).await?,
        &format!("form2-{id}.pdf"),
    ))
}

/// Form 3: the monthly request (PDF).
#[utoipa::path(get, path = "/api/v1/requests/{id}/form3.pdf", responses((status = 200, content_type = "application/pdf")))]
async fn form3_pdf(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let view = s.store.request(&a, id).await?;
    Ok(pdf(
        documents::render(&s, documents::form3(&view)).await?,
        &format!("form3-{id}.pdf"),
    ))
}

/// Form 4: minutes of a handover to the Assessment Office (PDF).
#[utoipa::path(get, path = "/api/v1/handovers/{id}/form4.pdf", responses((status = 200, content_type = "application/pdf")))]
async fn form4_pdf(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let view = s.store.handover(&a, id).await?;
    Ok(pdf(
        documents::render(&s, documents::form4(&view)).await?,
        &format!("form4-{id}.pdf"),
    ))
}

/// Security's letter listing the count and serials handed over (PDF).
#[utoipa::path(get, path = "/api/v1/handovers/{id}/letter.pdf", responses((status = 200, content_type = "application/pdf")))]
async fn handover_letter_pdf(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let view = s.store.handover(&a, id).await?;
    let request = s.store.request(&a, view.request_id).await?;
    Ok(pdf(
        documents::render(&s, documents::handover_letter(&view, &request)).await?,
        &format!("handover-letter-{id}.pdf"),
    ))
}
