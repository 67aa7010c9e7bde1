//! The exam part of the API and HQ's reference data.

use super::{ApiJson, ApiQuery, ApiResult};
use crate::auth::ApiActor;
use crate::commands::issuance::{
    CheckList, CorrectCandidate, CreateCentre, CreateTrade, DecideScore, OpenExamList,
    RecordScores, RegisterCandidate, SetFee,
};
use crate::error::ErrorBody;
use crate::paging::PageQuery;
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use skillcard_core::exam::{ListStatus, PassPolicy, Score};
use skillcard_db::exams::*;
use utoipa::{OpenApi, ToSchema};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/trades", get(list_trades).post(create_trade))
        .route("/api/v1/centres", get(list_centres).post(create_centre))
        .route("/api/v1/pass-policy", get(get_policy).put(set_policy))
        .route("/api/v1/fees", get(list_fees).put(set_fee))
        .route(
            "/api/v1/exam-lists",
            get(list_exam_lists).post(create_exam_list),
        )
        .route("/api/v1/exam-lists/{id}", get(get_exam_list))
        .route(
            "/api/v1/exam-lists/{id}/candidates",
            post(register_candidate),
        )
        .route("/api/v1/exam-lists/{id}/scores", post(record_scores))
        .route("/api/v1/exam-lists/{id}/scores/upload", post(upload_scores))
        .route("/api/v1/exam-lists/{id}/export.xlsx", get(export_list))
        .route("/api/v1/exam-lists/{id}/sheet.pdf", get(sheet_pdf))
        .route("/api/v1/exam-lists/{id}/submit", post(submit))
        .route("/api/v1/exam-lists/{id}/check", post(check))
        .route("/api/v1/exam-entries/{id}/decision", post(decide))
        .route(
            "/api/v1/candidates/{id}/correction",
            post(correct_candidate),
        )
}

#[derive(OpenApi)]
#[openapi(
    paths(
        list_trades,
        create_trade,
        list_centres,
        create_centre,
        get_policy,
        set_policy,
        list_fees,
        set_fee,
        list_exam_lists,
        create_exam_list,
        get_exam_list,
        sheet_pdf,
        register_candidate,
        correct_candidate,
        record_scores,
        upload_scores,
        export_list,
        submit,
        check,
        decide
    ),
    components(schemas(ErrorBody))
)]
pub struct ExamsDoc;

#[utoipa::path(get, path = "/api/v1/trades", responses((status = 200, body = Vec<TradeView>)))]
async fn list_trades(State(s): State<AppState>, _actor: ApiActor) -> ApiResult<Vec<TradeView>> {
    Ok(Json(s.store.trades().await?))
}

/// HQ adds a trade / skill standard.
#[utoipa::path(post, path = "/api/v1/trades", request_body = CreateTrade,
    responses((status = 200, body = TradeView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn create_trade(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(b): ApiJson<CreateTrade>,
) -> ApiResult<TradeView> {
    Ok(Json(
        s.store.create_trade(&a, &b.standard_code, &b.title).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/centres", responses((status = 200, body = Vec<CentreView>)))]
async fn list_centres(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
) -> ApiResult<Vec<CentreView>> {
    Ok(Json(s.store.centres(&a).await?))
}

/// A province's test centre or training school.
#[utoipa::path(post, path = "/api/v1/centres", request_body = CreateCentre,
    responses((status = 200, body = CentreView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn create_centre(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(b): ApiJson<CreateCentre>,
) -> ApiResult<CentreView> {
    let province = b.province_id.id("province")?;
    Ok(Json(
        s.store
            .create_centre(&a, province, &b.code, &b.name, &b.kind)
            .await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/pass-policy", responses((status = 200, body = PolicyView)))]
async fn get_policy(State(s): State<AppState>, _actor: ApiActor) -> ApiResult<PolicyView> {
    Ok(Json(s.store.pass_policy().await?))
}

#[derive(Deserialize, ToSchema)]
pub struct PolicyBody {
    written_min: String,
    practical_min: String,
    written_weight_pct: u8,
    final_min: String,
}

/// HQ replaces the pass policy (scores as text, e.g. "70" or "72.5").
#[utoipa::path(put, path = "/api/v1/pass-policy", request_body = PolicyBody,
    responses((status = 200, body = PolicyView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn set_policy(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(b): ApiJson<PolicyBody>,
) -> ApiResult<PolicyView> {
    let policy = PassPolicy {
        written_min: Score::parse(&b.written_min)?,
        practical_min: Score::parse(&b.practical_min)?,
        written_weight_pct: b.written_weight_pct,
        final_min: Score::parse(&b.final_min)?,
    };
    Ok(Json(s.store.set_pass_policy(&a, policy).await?))
}

#[utoipa::path(get, path = "/api/v1/fees", responses((status = 200, body = Vec<FeeView>)))]
async fn list_fees(State(s): State<AppState>, _actor: ApiActor) -> ApiResult<Vec<FeeView>> {
    Ok(Json(s.store.fees().await?))
}

/// HQ sets the issuance or replacement fee.
#[utoipa::path(put, path = "/api/v1/fees", request_body = SetFee,
    responses((status = 200, body = Vec<FeeView>), (status = 403, body = ErrorBody)))]
async fn set_fee(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(b): ApiJson<SetFee>,
) -> ApiResult<Vec<FeeView>> {
    let amount = b.amount_rial.rials("amount")?;
    Ok(Json(s.store.set_fee(&a, &b.kind, amount).await?))
}

/// Exam lists, newest first, a page at a time (heads and counts; a list's entries are at
/// `/api/v1/exam-lists/{id}`).
#[utoipa::path(get, path = "/api/v1/exam-lists", params(PageQuery), responses((status = 200, body = Page<ExamListSummary>)))]
async fn list_exam_lists(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Page<ExamListSummary>> {
    let status = q.status(ListStatus::parse)?;
    Ok(Json(s.store.exam_list_page(&a, status, q.cursor()).await?))
}

/// a centre's exam officer opens the exam list of one trade and exam date.
#[utoipa::path(post, path = "/api/v1/exam-lists", request_body = OpenExamList,
    responses((status = 200, body = ExamListView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_exam_list(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(b): ApiJson<OpenExamList>,
) -> ApiResult<ExamListView> {
    let (centre, trade) = (b.centre_id.id("centre")?, b.trade_id.id("trade")?);
    Ok(Json(
        s.store
            .create_exam_list(&a, centre, trade, &b.exam_date)
            .await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/exam-lists/{id}", responses((status = 200, body = ExamListView), (status = 404, body = ErrorBody)))]
async fn get_exam_list(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
) -> ApiResult<ExamListView> {
    Ok(Json(s.store.exam_list(&a, id).await?))
}

/// registers a candidate on an editable list.
#[utoipa::path(post, path = "/api/v1/exam-lists/{id}/candidates", request_body = RegisterCandidate,
    responses((status = 200, body = ExamListView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn register_candidate(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<RegisterCandidate>,
) -> ApiResult<ExamListView> {
    Ok(Json(s.store.register_candidate(&a, id, b.input()?).await?))
}

/// corrects a candidate's data until the day before the exam (`correction_closed` from
/// the exam day on: the replacement road of Note 4 remains).
#[utoipa::path(post, path = "/api/v1/candidates/{id}/correction", request_body = CorrectCandidate,
    responses((status = 200, body = ExamListView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn correct_candidate(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<CorrectCandidate>,
) -> ApiResult<ExamListView> {
    Ok(Json(s.store.correct_candidate(&a, id, b.input()).await?))
}

/// records practical scores, all or nothing; `invalid_rows` lists each bad row (1-based).
#[utoipa::path(post, path = "/api/v1/exam-lists/{id}/scores", request_body = RecordScores,
    responses((status = 200, body = ExamListView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn record_scores(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<RecordScores>,
) -> ApiResult<ExamListView> {
    Ok(Json(s.store.record_scores(&a, id, b.input()).await?))
}

/// The columns a score sheet must have, with the header names people use.
const SCORE_COLUMNS: [(&str, &[&str]); 2] = [
    (
        "national_id",
        &[
            "کد ملی",
            "کدملی",
            "شماره ملی",
            "national_id",
            "national id",
            "nid",
        ],
    ),
    (
        "score",
        &["نمره عملی", "نمره", "practical_score", "practical", "score"],
    ),
];

/// records practical scores from an Excel (.xlsx) or CSV sheet sent as the request body,
/// with the columns «کد ملی» and «نمره عملی». All or nothing; bad rows are named by their row
/// number in the sheet (the header is row 1).
#[utoipa::path(post, path = "/api/v1/exam-lists/{id}/scores/upload",
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 200, body = ExamListView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn upload_scores(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    body: Bytes,
) -> ApiResult<ExamListView> {
    let table = skillcard_sheets::read_sheet(&body, None).map_err(crate::error::AppError::from)?;
    let columns = skillcard_sheets::map_columns(&table.headers, &SCORE_COLUMNS)
        .map_err(crate::error::AppError::from)?;
    let lines = table
        .rows
        .iter()
        .map(|r| ScoreLine {
            row: r.number,
            national_id: columns.get(r, "national_id").into(),
            score: columns.get(r, "score").into(),
        })
        .collect();
    Ok(Json(s.store.record_scores(&a, id, lines).await?))
}

/// The exam list as an Excel workbook (right to left).
#[utoipa::path(get, path = "/api/v1/exam-lists/{id}/export.xlsx",
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")))]
async fn export_list(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
) -> Result<Response, super::ApiError> {
    use skillcard_sheets::Cell;
    let list = s.store.exam_list(&a, id).await?;
    let headers = [
        "ردیف",
        "کد ملی",
        "نام",
        "نام خانوادگی",
        "نام پدر",
        "تاریخ تولد",
        "نمره کتبی",
        "نمره عملی",
        "نمره نهایی",
        "نتیجه",
        "تأیید رئیس اداره",
    ];
    let rows: Vec<Vec<Cell>> = list
        .entries
        .iter()
        .enumerate()
        .map(|(i, e)| {
            vec![
                Cell::Int(i as i64 + 1),
                Cell::from(e.national_id.as_str()),
                Cell::from(e.first_name.as_str()),
                Cell::from(e.last_name.as_str()),
                Cell::from(e.father_name.as_str()),
                Cell::from(e.birth_date_fa.as_str()),
                Cell::number(&e.written_score),
                Cell::number(e.practical_score.as_deref().unwrap_or("")),
                Cell::number(e.final_score.as_deref().unwrap_or("")),
                Cell::from(skillcard_core::fa::pass_result(e.passes)),
                Cell::from(e.decision.label_fa()),
            ]
        })
        .collect();
    let bytes = skillcard_sheets::write_xlsx(&format!("فهرست {}", list.id), &headers, &rows)
        .map_err(crate::error::AppError::from)?;
    Ok(super::xlsx(bytes, &format!("exam-list-{id}.xlsx")))
}

/// The exam list as the signed "special exam form" (A4 PDF): every candidate's scores, result and
/// the head's decision, with signature blocks for the centre, the officer and the head.
#[utoipa::path(get, path = "/api/v1/exam-lists/{id}/sheet.pdf", responses((status = 200, content_type = "application/pdf")))]
async fn sheet_pdf(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
) -> Result<Response, super::ApiError> {
    let list = s.store.exam_list(&a, id).await?;
    let province = s
        .store
        .provinces()
        .await?
        .into_iter()
        .find(|p| p.id == list.province_id)
        .map(|p| p.name_fa)
        .unwrap_or_default();
    let doc = crate::documents::exam_sheet(&list, province);
    Ok(super::pdf(
        crate::documents::render(&s, doc).await?,
        &format!("exam-list-{id}.pdf"),
    ))
}

/// the centre submits the list; it can no longer change it.
#[utoipa::path(post, path = "/api/v1/exam-lists/{id}/submit", responses((status = 200, body = ExamListView), (status = 409, body = ErrorBody)))]
async fn submit(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
) -> ApiResult<ExamListView> {
    Ok(Json(s.store.submit_exam_list(&a, id).await?))
}

/// the Assessment Office marks the list checked or returns it with remarks.
#[utoipa::path(post, path = "/api/v1/exam-lists/{id}/check", request_body = CheckList,
    responses((status = 200, body = ExamListView), (status = 409, body = ErrorBody)))]
async fn check(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<CheckList>,
) -> ApiResult<ExamListView> {
    Ok(Json(
        s.store
            .check_exam_list(&a, id, b.accept.get(), &b.remarks)
            .await?,
    ))
}

/// the head approves or rejects one practical score (a reason is required to reject).
#[utoipa::path(post, path = "/api/v1/exam-entries/{id}/decision", request_body = DecideScore,
    responses((status = 200, body = ExamListView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn decide(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<DecideScore>,
) -> ApiResult<ExamListView> {
    Ok(Json(
        s.store
            .decide_score(&a, id, b.approve.get(), &b.reason)
            .await?,
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64() {
        use crate::forms::decode_base64;
        assert_eq!(decode_base64("aGVsbG8=").unwrap(), b"hello");
        assert_eq!(decode_base64("aGVs\nbG8").unwrap(), b"hello");
        assert!(decode_base64("a*b").is_none());
    }
}
