//! Part 3 in the API: delivery lists and handovers (R-5.4, R-7, Form 5), damage cases and
//! replacements on their road to HQ and back (R-8, R-9, Notes 3–4, Form 6, the Director
//! General's letter, the fee notice), and the outbox of notices to applicants.

use super::ApiQuery;
use super::{pdf, ApiJson, ApiResult};
use crate::auth::ApiActor;
use crate::commands::aftercare::{
    AttachScan, CreateDeliveryList, DecideReplacement, DeliverCard, DeliveryReportInput, MessageId,
    OpenDamageCase, PayReplacementFee, RequestReplacement, ReviewDamage, SendToHq,
};
use crate::documents;
use crate::error::{ApiError, AppError, ErrorBody};
use crate::paging::PageQuery;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use skillcard_core::cases::CaseStatus;
use skillcard_core::notice::parse_contact;
use skillcard_core::notice::NoticeStatus;
use skillcard_core::DomainError;
use skillcard_db::cases::{CaseItemView, CaseView};
use skillcard_db::delivery::{DeliveryCard, DeliveryListView, ProvinceOverdue};
use skillcard_db::notify::{DeliveryRecorded, NotificationView};
use skillcard_db::views::{Page, Queue};
use utoipa::{IntoParams, OpenApi, ToSchema};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/deliveries/undelivered", get(undelivered))
        .route("/api/v1/deliveries/overdue", get(overdue))
        .route(
            "/api/v1/deliveries/overdue/provinces",
            get(overdue_provinces),
        )
        .route("/api/v1/delivery-lists", get(list_lists).post(create_list))
        .route("/api/v1/delivery-lists/{id}", get(get_list))
        .route("/api/v1/delivery-lists/{id}/form5.pdf", get(form5_pdf))
        .route(
            "/api/v1/delivery-lists/{id}/scan",
            get(get_list_scan).put(put_list_scan),
        )
        .route("/api/v1/prints/{id}/delivery", post(deliver))
        .route("/api/v1/cases", get(list_cases))
        .route("/api/v1/cases/damage", post(open_damage))
        .route("/api/v1/prints/{id}/replacement", post(request_replacement))
        .route("/api/v1/cases/{id}", get(get_case))
        .route("/api/v1/cases/{id}/review", post(review))
        .route("/api/v1/cases/{id}/decision", post(decide))
        .route("/api/v1/cases/{id}/void", post(void))
        .route("/api/v1/cases/{id}/fee", post(fee))
        .route("/api/v1/cases/{id}/send", post(send))
        .route("/api/v1/cases/{id}/arrival", post(arrival))
        .route("/api/v1/cases/{id}/authorization", post(authorization))
        .route("/api/v1/cases/{id}/form6.pdf", get(form6_pdf))
        .route("/api/v1/cases/{id}/letter.pdf", get(letter_pdf))
        .route("/api/v1/cases/{id}/fee-notice.pdf", get(fee_notice_pdf))
        .route("/api/v1/cases/{id}/scans/{which}", get(case_scan))
        .route("/api/v1/candidates/{id}/contact", put(set_contact))
        .route("/api/v1/notifications", get(notifications))
        // Scans travel base64 in JSON: the largest scan, a third larger, plus the other fields.
        .layer(axum::extract::DefaultBodyLimit::max(
            skillcard_media::SCAN.max_bytes / 3 * 4 + (256 << 10),
        ))
        .route(
            "/api/v1/notices/delivery-reports",
            post(delivery_report).layer(axum::extract::DefaultBodyLimit::max(REPORT_MAX_BYTES)),
        )
}

/// A delivery report is a few short fields.
const REPORT_MAX_BYTES: usize = 4 << 10;

#[derive(Deserialize, IntoParams)]
pub struct ReportQuery {
    /// The report secret (`SKILLCARD_SMS_REPORT_TOKEN`), when the provider cannot send the
    /// `X-Report-Token` header.
    pub token: Option<String>,
}

/// The SMS provider's delivery report (no account: the provider proves itself with the report
/// secret, in `X-Report-Token` or `?token=`). JSON or a form: `message_id` (the receipt the
/// provider gave when it took the notice), `status` and an optional `detail`. Repeats are
/// answered with `new: false`.
#[utoipa::path(post, path = "/api/v1/notices/delivery-reports", params(ReportQuery),
    request_body = DeliveryReportInput,
    responses((status = 200, body = DeliveryRecorded), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn delivery_report(
    State(s): State<AppState>,
    ApiQuery(q): ApiQuery<ReportQuery>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<DeliveryRecorded> {
    use sha2::{Digest, Sha256};
    let expected =
        s.config
            .delivery_report_token
            .as_deref()
            .ok_or(ApiError(AppError::BadRequest(
                "delivery reports are not configured (SKILLCARD_SMS_REPORT_TOKEN)".into(),
            )))?;
    let given = headers
        .get("x-report-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or(q.token)
        .unwrap_or_default();
    // Compared as digests, so the time taken says nothing about the secret.
    if Sha256::digest(given.as_bytes()) != Sha256::digest(expected.as_bytes()) {
        return Err(AppError::Domain(DomainError::Unauthenticated).into());
    }
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/json"));
    let input: DeliveryReportInput = if json {
        serde_json::from_slice(&body).map_err(|e| AppError::BadRequest(e.to_string()))?
    } else {
        serde_urlencoded::from_bytes(&body).map_err(|e| AppError::BadRequest(e.to_string()))?
    };
    Ok(Json(s.store.record_delivery_report(&input.input()?).await?))
}

#[derive(OpenApi)]
#[openapi(
    paths(
        undelivered,
        overdue,
        overdue_provinces,
        list_lists,
        create_list,
        get_list,
        form5_pdf,
        get_list_scan,
        put_list_scan,
        deliver,
        list_cases,
        open_damage,
        request_replacement,
        get_case,
        review,
        decide,
        void,
        fee,
        send,
        arrival,
        authorization,
        form6_pdf,
        letter_pdf,
        fee_notice_pdf,
        case_scan,
        set_contact,
        notifications,
        delivery_report
    ),
    components(schemas(
        ErrorBody,
        DeliveryCard,
        DeliveryListView,
        ProvinceOverdue,
        CaseView,
        CaseItemView,
        NotificationView,
        DeliveryReportInput,
        MessageId,
        DeliveryRecorded
    ))
)]
pub struct AftercareDoc;

fn file(bytes: Vec<u8>, media: &str, name: &str) -> Response {
    (
        [
            (header::CONTENT_TYPE, media.to_string()),
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

#[derive(Deserialize, IntoParams)]
pub struct UndeliveredQuery {
    /// Only cards on no handover list yet (to group into a new Form 5).
    #[serde(default)]
    unlisted: bool,
    /// The previous page's `next_after`.
    after: Option<i64>,
    /// At most 200 (default 50).
    limit: Option<i64>,
}

/// Registered cards still at the office, oldest (most overdue) first, with R-5.4's days
/// overdue, a page at a time.
#[utoipa::path(get, path = "/api/v1/deliveries/undelivered", params(UndeliveredQuery),
    responses((status = 200, body = Queue<DeliveryCard>)))]
async fn undelivered(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(q): ApiQuery<UndeliveredQuery>,
) -> ApiResult<Queue<DeliveryCard>> {
    let limit = q.limit.unwrap_or(crate::paging::DEFAULT_LIMIT);
    Ok(Json(
        s.store
            .undelivered_cards(&a, false, q.unlisted, q.after, limit)
            .await?,
    ))
}

/// the cards not delivered within 7 days of issue, most overdue first, a page at a time.
#[utoipa::path(get, path = "/api/v1/deliveries/overdue", params(UndeliveredQuery),
    responses((status = 200, body = Queue<DeliveryCard>)))]
async fn overdue(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(q): ApiQuery<UndeliveredQuery>,
) -> ApiResult<Queue<DeliveryCard>> {
    let limit = q.limit.unwrap_or(crate::paging::DEFAULT_LIMIT);
    Ok(Json(
        s.store
            .undelivered_cards(&a, true, false, q.after, limit)
            .await?,
    ))
}

/// for HQ: per province, the cards overdue, undelivered, and the worst delay.
#[utoipa::path(get, path = "/api/v1/deliveries/overdue/provinces", responses((status = 200, body = [ProvinceOverdue])))]
async fn overdue_provinces(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
) -> ApiResult<Vec<ProvinceOverdue>> {
    Ok(Json(s.store.overdue_by_province(&a).await?))
}

/// Handover lists, newest first, a page at a time.
#[utoipa::path(get, path = "/api/v1/delivery-lists", params(PageQuery), responses((status = 200, body = Page<DeliveryListView>)))]
async fn list_lists(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Page<DeliveryListView>> {
    Ok(Json(s.store.delivery_list_page(&a, q.cursor()).await?))
}

/// groups registered cards into a handover list (Form 5).
#[utoipa::path(post, path = "/api/v1/delivery-lists", request_body = CreateDeliveryList,
    responses((status = 200, body = DeliveryListView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_list(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(b): ApiJson<CreateDeliveryList>,
) -> ApiResult<DeliveryListView> {
    let (label, ids) = b.input()?;
    Ok(Json(s.store.create_delivery_list(&a, &label, &ids).await?))
}

/// One handover list with its cards.
#[utoipa::path(get, path = "/api/v1/delivery-lists/{id}", responses((status = 200, body = DeliveryListView), (status = 404, body = ErrorBody)))]
async fn get_list(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
) -> ApiResult<DeliveryListView> {
    Ok(Json(s.store.delivery_list(&a, id).await?))
}

/// Form 5 of a handover list (PDF).
#[utoipa::path(get, path = "/api/v1/delivery-lists/{id}/form5.pdf", responses((status = 200, content_type = "application/pdf")))]
async fn form5_pdf(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let l = s.store.delivery_list(&a, id).await?;
    let doc = documents::form5(&l, &a.full_name);
    Ok(pdf(
        documents::render(&s, doc).await?,
        &format!("form5-{id}.pdf"),
    ))
}

/// keeps the scan of the signed Form 5 with its list.
#[utoipa::path(put, path = "/api/v1/delivery-lists/{id}/scan", request_body = AttachScan,
    responses((status = 200, body = DeliveryListView), (status = 422, body = ErrorBody)))]
async fn put_list_scan(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<AttachScan>,
) -> ApiResult<DeliveryListView> {
    let scan = b.input()?;
    Ok(Json(s.store.attach_delivery_scan(&a, id, &scan).await?))
}

/// The scan of a list's signed Form 5.
#[utoipa::path(get, path = "/api/v1/delivery-lists/{id}/scan", responses((status = 200, content_type = "application/pdf"), (status = 404, body = ErrorBody)))]
async fn get_list_scan(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let (bytes, media) = s.store.delivery_scan(&a, id).await?;
    Ok(file(bytes, &media, &format!("form5-{id}-signed")))
}

/// confirms a card's handover, in person or by post.
#[utoipa::path(post, path = "/api/v1/prints/{id}/delivery", request_body = DeliverCard,
    responses((status = 200, body = DeliveryCard), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn deliver(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<DeliverCard>,
) -> ApiResult<DeliveryCard> {
    Ok(Json(s.store.confirm_delivery(&a, id, &b.input()?).await?))
}

/// Damage cases and replacement requests, newest first, a page at a time (`status` narrows
/// them, e.g. `sent_to_hq` for HQ's queue).
#[utoipa::path(get, path = "/api/v1/cases", params(PageQuery), responses((status = 200, body = Page<CaseView>)))]
async fn list_cases(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Page<CaseView>> {
    let status = q.status(CaseStatus::parse)?;
    Ok(Json(s.store.case_page(&a, status, q.cursor()).await?))
}

/// R-8.1 / Note 3: opens a damage case for registered cards found damaged; they leave service.
#[utoipa::path(post, path = "/api/v1/cases/damage", request_body = OpenDamageCase,
    responses((status = 200, body = CaseView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn open_damage(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(b): ApiJson<OpenDamageCase>,
) -> ApiResult<CaseView> {
    Ok(Json(s.store.open_damage_case(&a, &b.input()?).await?))
}

/// R-9 / Note 4: the holder's request to replace a registered card (with corrections).
#[utoipa::path(post, path = "/api/v1/prints/{id}/replacement", request_body = RequestReplacement,
    responses((status = 200, body = CaseView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn request_replacement(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<RequestReplacement>,
) -> ApiResult<CaseView> {
    let r = b.input()?;
    Ok(Json(
        s.store
            .request_replacement(
                &a,
                id,
                &r.reason,
                &r.corrections,
                r.scan.as_deref(),
                r.contact.as_ref(),
            )
            .await?,
    ))
}

/// One case with its cards.
#[utoipa::path(get, path = "/api/v1/cases/{id}", responses((status = 200, body = CaseView), (status = 404, body = ErrorBody)))]
async fn get_case(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
) -> ApiResult<CaseView> {
    Ok(Json(s.store.case(&a, id).await?))
}

/// records the review's outcome; Form 6 is then ready for signature.
#[utoipa::path(post, path = "/api/v1/cases/{id}/review", request_body = ReviewDamage,
    responses((status = 200, body = CaseView), (status = 409, body = ErrorBody)))]
async fn review(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<ReviewDamage>,
) -> ApiResult<CaseView> {
    Ok(Json(s.store.review_damage(&a, id, &b.outcome).await?))
}

/// Note 4: the provincial assessment board approves or rejects a replacement.
#[utoipa::path(post, path = "/api/v1/cases/{id}/decision", request_body = DecideReplacement,
    responses((status = 200, body = CaseView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn decide(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<DecideReplacement>,
) -> ApiResult<CaseView> {
    Ok(Json(
        s.store
            .decide_replacement(&a, id, b.approve.get(), &b.reason)
            .await?,
    ))
}

/// Note 4: voids the old card of an approved replacement; the fee becomes due.
#[utoipa::path(post, path = "/api/v1/cases/{id}/void", responses((status = 200, body = CaseView), (status = 409, body = ErrorBody)))]
async fn void(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
) -> ApiResult<CaseView> {
    Ok(Json(s.store.void_for_replacement(&a, id).await?))
}

/// Note 4: records the replacement fee's payment (a bank receipt).
#[utoipa::path(post, path = "/api/v1/cases/{id}/fee", request_body = PayReplacementFee,
    responses((status = 200, body = CaseView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn fee(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<PayReplacementFee>,
) -> ApiResult<CaseView> {
    let (reference, amount) = b.input()?;
    Ok(Json(
        s.store
            .record_replacement_fee(&a, id, &reference, amount)
            .await?,
    ))
}

/// the Director General's letter sends the minutes and the cards to HQ.
#[utoipa::path(post, path = "/api/v1/cases/{id}/send", request_body = SendToHq,
    responses((status = 200, body = CaseView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn send(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<SendToHq>,
) -> ApiResult<CaseView> {
    let (letter_no, date, scan) = b.input()?;
    Ok(Json(
        s.store
            .send_case_to_hq(&a, id, &letter_no, date, &scan)
            .await?,
    ))
}

/// HQ records the arrival of the letter and the cards.
#[utoipa::path(post, path = "/api/v1/cases/{id}/arrival", responses((status = 200, body = CaseView), (status = 409, body = ErrorBody)))]
async fn arrival(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
) -> ApiResult<CaseView> {
    Ok(Json(s.store.receive_case_at_hq(&a, id).await?))
}

/// HQ authorises the reprint (once per card; corrections of a replacement apply now).
#[utoipa::path(post, path = "/api/v1/cases/{id}/authorization", responses((status = 200, body = CaseView), (status = 409, body = ErrorBody)))]
async fn authorization(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
) -> ApiResult<CaseView> {
    Ok(Json(s.store.authorize_reprint(&a, id).await?))
}

/// One of a case's documents as a PDF named `<name>-<id>.pdf`.
async fn case_pdf(
    s: &AppState,
    a: &skillcard_core::policy::Actor,
    id: i64,
    build: impl FnOnce(&CaseView) -> Result<skillcard_docs::Document, AppError>,
    name: &str,
) -> Result<Response, ApiError> {
    let c = s.store.case(a, id).await?;
    Ok(pdf(
        documents::render(s, build(&c)?).await?,
        &format!("{name}-{id}.pdf"),
    ))
}

/// Form 6, the damaged-card minutes (PDF).
#[utoipa::path(get, path = "/api/v1/cases/{id}/form6.pdf", responses((status = 200, content_type = "application/pdf")))]
async fn form6_pdf(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    case_pdf(&s, &a, id, |c| Ok(documents::form6(c)), "form6").await
}

/// the Director General's letter to HQ (PDF), once its number is recorded.
#[utoipa::path(get, path = "/api/v1/cases/{id}/letter.pdf", responses((status = 200, content_type = "application/pdf"), (status = 404, body = ErrorBody)))]
async fn letter_pdf(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    case_pdf(&s, &a, id, documents::damage_letter, "letter").await
}

/// Note 4: the replacement-fee notice (PDF), once the card is void.
#[utoipa::path(get, path = "/api/v1/cases/{id}/fee-notice.pdf", responses((status = 200, content_type = "application/pdf"), (status = 404, body = ErrorBody)))]
async fn fee_notice_pdf(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    case_pdf(&s, &a, id, documents::fee_notice, "fee-notice").await
}

/// A scan kept with a case: `request` or `minutes`.
#[utoipa::path(get, path = "/api/v1/cases/{id}/scans/{which}", responses((status = 200, content_type = "application/pdf"), (status = 404, body = ErrorBody)))]
async fn case_scan(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path((id, which)): Path<(i64, String)>,
) -> Result<Response, ApiError> {
    let (bytes, media) = s.store.case_scan(&a, id, &which).await?;
    Ok(file(bytes, &media, &format!("case-{id}-{which}")))
}

#[derive(Deserialize, ToSchema)]
pub struct ContactBody {
    /// A mobile number (`09…`) or an e-mail address.
    contact: String,
}

/// How to reach an applicant for notices (not printed on the card; editable after printing).
#[utoipa::path(put, path = "/api/v1/candidates/{id}/contact", request_body = ContactBody,
    responses((status = 204), (status = 422, body = ErrorBody)))]
async fn set_contact(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<ContactBody>,
) -> Result<axum::http::StatusCode, ApiError> {
    let contact = parse_contact(&b.contact)?;
    s.store.set_candidate_contact(&a, id, &contact).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// The outbox of notices to applicants, newest first, a page at a time (`status`: `pending`,
/// `sent` or `failed`).
#[utoipa::path(get, path = "/api/v1/notifications", params(PageQuery), responses((status = 200, body = Page<NotificationView>)))]
async fn notifications(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Page<NotificationView>> {
    let status = q.status(NoticeStatus::parse)?;
    Ok(Json(
        s.store.notification_page(&a, status, q.cursor()).await?,
    ))
}
