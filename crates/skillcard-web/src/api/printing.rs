//! Printing a certificate's card in the API: the clerk's workstation opens a
//! print with the chip UID it read, downloads the face and the signed bytes, writes the chip and
//! reports the read-back; the clerk records the inspection and registers the serial.

use super::ApiQuery;
use super::{pdf, ApiJson, ApiResult};
use crate::auth::ApiActor;
use crate::commands::issuance::{RecordInspection, SpoilPrint, StartPrint};
use crate::documents;
use crate::error::{ApiError, AppError, ErrorBody};
use crate::forms::hex_bytes;
use crate::paging::PageQuery;
use crate::AppState;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use skillcard_core::printing::PrintStatus;
use skillcard_db::printing::PrintView;
use skillcard_db::views::Page;
use utoipa::{IntoParams, OpenApi, ToSchema};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/certificates/{id}/prints",
            get(certificate_prints).post(start_print),
        )
        .route("/api/v1/prints", get(list_prints))
        .route("/api/v1/prints/faces.pdf", get(faces_pdf))
        .route("/api/v1/prints/export.xlsx", get(export_prints))
        .route("/api/v1/prints/{id}", get(get_print))
        .route("/api/v1/prints/{id}/face.pdf", get(face_pdf))
        .route("/api/v1/prints/{id}/inspection", post(inspection))
        .route("/api/v1/prints/{id}/chip", post(chip))
        .route("/api/v1/prints/{id}/spoil", post(spoil))
        .route("/api/v1/prints/{id}/register", post(register))
}

#[derive(OpenApi)]
#[openapi(
    paths(
        start_print,
        certificate_prints,
        list_prints,
        get_print,
        face_pdf,
        faces_pdf,
        export_prints,
        inspection,
        chip,
        spoil,
        register
    ),
    components(schemas(ErrorBody, PrintView))
)]
pub struct PrintingDoc;

/// opens a print for an issued certificate: takes a card from the Assessment Office's
/// stock and signs the credential for it and the chip. The answer carries the signed bytes
/// (`credential_hex`) for the chip and the face's QR.
#[utoipa::path(post, path = "/api/v1/certificates/{id}/prints", request_body = StartPrint,
    responses((status = 200, body = PrintView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn start_print(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<StartPrint>,
) -> ApiResult<PrintView> {
    let (uid, serial) = b.input()?;
    let key = s.signing_key.as_deref();
    Ok(Json(s.store.start_print(&a, id, &uid, serial, key).await?))
}

/// The prints of a certificate, oldest first (spoiled ones included).
#[utoipa::path(get, path = "/api/v1/certificates/{id}/prints", responses((status = 200, body = [PrintView])))]
async fn certificate_prints(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
) -> ApiResult<Vec<PrintView>> {
    Ok(Json(s.store.certificate_prints(&a, id).await?))
}

/// The prints in one status within the caller's province (the clerk's queue: `printing`), newest
/// first, a page at a time.
#[utoipa::path(get, path = "/api/v1/prints", params(PageQuery), responses((status = 200, body = Page<PrintView>)))]
async fn list_prints(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Page<PrintView>> {
    let status = q
        .status(PrintStatus::parse)?
        .unwrap_or(PrintStatus::Printing);
    Ok(Json(s.store.print_page(&a, status, q.cursor()).await?))
}

/// One print: status, steps done, and the signed credential to write.
#[utoipa::path(get, path = "/api/v1/prints/{id}", responses((status = 200, body = PrintView), (status = 404, body = ErrorBody)))]
async fn get_print(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
) -> ApiResult<PrintView> {
    Ok(Json(s.store.card_print(&a, id).await?))
}

/// The card face (front and back, ID-1) of one print, for the card printer (PDF).
#[utoipa::path(get, path = "/api/v1/prints/{id}/face.pdf", responses((status = 200, content_type = "application/pdf")))]
async fn face_pdf(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let doc = documents::card_batch(&s, &a, &[id]).await?;
    Ok(pdf(
        documents::render(&s, doc).await?,
        &format!("card-{id}.pdf"),
    ))
}

/// The cards in one status as an Excel workbook (right to left): by default the prints in
/// progress; `status=bound` is the register of issued cards (serial ↔ certificate).
#[utoipa::path(get, path = "/api/v1/prints/export.xlsx", params(PageQuery),
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")))]
async fn export_prints(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Response, ApiError> {
    use skillcard_sheets::Cell;
    let st = q
        .status(PrintStatus::parse)?
        .unwrap_or(PrintStatus::Printing);
    let prints = s.store.card_prints(&a, st).await?;
    let headers = [
        "ردیف",
        "سریال کارت",
        "شماره گواهینامه",
        "کد ملی",
        "نام",
        "نام خانوادگی",
        "حرفه",
        "کد استاندارد",
        "نمره نهایی",
        "تاریخ صدور",
        "وضعیت",
        "توضیح",
    ];
    let rows: Vec<Vec<Cell>> = prints
        .iter()
        .enumerate()
        .map(|(i, p)| {
            vec![
                Cell::Int(i as i64 + 1),
                Cell::Int(p.serial as i64),
                Cell::from(p.certificate_no.as_str()),
                Cell::from(p.national_id.as_str()),
                Cell::from(p.given_name.as_str()),
                Cell::from(p.family_name.as_str()),
                Cell::from(p.trade_title.as_str()),
                Cell::from(p.standard_code.as_str()),
                Cell::number(&p.final_score),
                Cell::from(p.issued_on_fa.as_str()),
                Cell::from(p.status_fa.as_str()),
                Cell::from(p.spoil_reason.clone()),
            ]
        })
        .collect();
    let bytes = skillcard_sheets::write_xlsx("کارت‌ها", &headers, &rows).map_err(AppError::from)?;
    Ok(super::xlsx(bytes, &format!("cards-{}.xlsx", st.as_str())))
}

#[derive(Deserialize, IntoParams)]
pub struct IdsQuery {
    /// Print ids, comma-separated; by default every print in progress in the caller's province.
    ids: Option<String>,
}

/// Batch printing: the faces of several prints in one PDF, two ID-1 pages per card.
#[utoipa::path(get, path = "/api/v1/prints/faces.pdf", params(IdsQuery), responses((status = 200, content_type = "application/pdf")))]
async fn faces_pdf(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(q): ApiQuery<IdsQuery>,
) -> Result<Response, ApiError> {
    let ids = documents::print_ids(&s, &a, q.ids.as_deref()).await?;
    let doc = documents::card_batch(&s, &a, &ids).await?;
    Ok(pdf(documents::render(&s, doc).await?, "cards.pdf"))
}

/// records the inspection of the printed card; a damaged card is spoiled (its serial is
/// never used again) and the certificate may be printed on another card.
#[utoipa::path(post, path = "/api/v1/prints/{id}/inspection", request_body = RecordInspection,
    responses((status = 200, body = PrintView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn inspection(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<RecordInspection>,
) -> ApiResult<PrintView> {
    Ok(Json(
        s.store
            .record_print_inspection(&a, id, b.sound.get(), &b.reason)
            .await?,
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct ChipBody {
    /// The UID of the chip written (hex).
    chip_uid: String,
    /// What the workstation read back from the chip after writing (hex).
    read_back: String,
}

/// the workstation reports the read-back of the chip it wrote; it must equal the signed
/// credential of this print, from the chip it names.
#[utoipa::path(post, path = "/api/v1/prints/{id}/chip", request_body = ChipBody,
    responses((status = 200, body = PrintView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn chip(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<ChipBody>,
) -> ApiResult<PrintView> {
    let uid = hex_bytes("chip_uid", &b.chip_uid)?;
    let read_back = hex_bytes("read_back", &b.read_back)?;
    Ok(Json(s.store.confirm_chip(&a, id, &uid, &read_back).await?))
}

/// Reports a card in printing as spoiled (damaged face, a chip that will not write, a card lost
/// in the printer): its serial is never used again.
#[utoipa::path(post, path = "/api/v1/prints/{id}/spoil", request_body = SpoilPrint,
    responses((status = 200, body = PrintView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn spoil(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<SpoilPrint>,
) -> ApiResult<PrintView> {
    Ok(Json(s.store.spoil_print(&a, id, &b.reason).await?))
}

/// registers the card's serial against the certificate (inspected sound, chip verified).
#[utoipa::path(post, path = "/api/v1/prints/{id}/register",
    responses((status = 200, body = PrintView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn register(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
) -> ApiResult<PrintView> {
    Ok(Json(s.store.register_print(&a, id).await?))
}
