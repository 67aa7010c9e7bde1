//! Part 2 pages: exam lists from score entry to the head's decisions and the
//! issuance clerk's side-by-side view, fee and certificate, and the card: print,
//! inspection, chip and serial registration. Each handler calls the
//! same store operation as the API.

use super::{can, filters, html, nav, Nav, PageResult};
use crate::auth::PageActor;
use crate::commands::issuance::{
    CheckList, CorrectCandidate, CreateCentre, CreateTrade, DecideScore, IssueCertificate,
    OpenExamList, RecordInspection, RecordPayment, RecordScores, RegisterCandidate, SetFee,
    SpoilPrint, StartPrint,
};
use crate::error::PageError;
use crate::paging::PageQuery;
use crate::AppState;
use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use skillcard_core::exam::ListStatus;
use skillcard_core::policy::{Action, Actor};
use skillcard_core::printing::PrintStatus;
use skillcard_core::search::SearchQuery;
use skillcard_core::text::{fa_num, persian_digits};
use skillcard_core::workflow::{self, Step};
use skillcard_core::DomainError;
use skillcard_db::exams::{CentreView, Cursor, ExamListSummary, ExamListView, Page, TradeView};
use skillcard_db::issuance::IssuanceView;
use skillcard_db::printing::PrintView;
use skillcard_db::search::SearchHit;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/exams", get(exam_lists).post(create_exam_list))
        .route("/exams/{id}", get(exam_list))
        .route("/exams/{id}/candidates", post(register_candidate))
        .route("/exams/{id}/scores", post(record_scores))
        .route("/exams/{id}/submit", post(submit))
        .route("/exams/{id}/check", post(check))
        .route("/exams/entries/{entry_id}/decision", post(decide))
        .route(
            "/exams/candidates/{candidate_id}/correction",
            post(correct_candidate),
        )
        .route("/issuance/{candidate_id}", get(issuance))
        .route("/search", get(search))
        .route("/issuance/{candidate_id}/payments", post(record_payment))
        .route("/issuance/{candidate_id}/issue", post(issue))
        .route("/issuance/{candidate_id}/prints", post(start_print))
        .route("/reference", get(reference))
        .route("/reference/trades", post(create_trade))
        .route("/reference/centres", post(create_centre))
        .route("/reference/fees", post(set_fee))
        .route("/prints/{id}/inspection", post(print_inspection))
        .route("/prints/{id}/spoil", post(spoil_print))
        .route("/prints/{id}/register", post(register_print))
}

fn list_label(l: &ExamListSummary) -> String {
    skillcard_core::text::persian_digits(&format!(
        "{} ({}) — {} — {}",
        l.trade_title, l.standard_code, l.centre_name, l.exam_date_fa
    ))
}

/// How many lists of one status a dashboard names; more wait on the exams page.
const TODO_LISTS: i64 = 50;

/// The exam to-dos of the dashboard, from work queues: for each status at which the reader has
/// a step, one page of the lists in it (heads and counts, no entries), and the issuance clerk's
/// queue of certificates due — bounded by what is actionable, never a scan of every list.
pub async fn dashboard_todo(s: &AppState, a: &Actor) -> Result<Vec<(String, String)>, PageError> {
    let mut todo = Vec::new();
    if !can(a, Action::ViewExams, None) {
        return Ok(todo);
    }
    for status in ListStatus::ALL {
        // The steps a list in this status can offer (with a decision pending, for a checked one).
        let steps = workflow::exam_list_summary(status, 1);
        if !steps
            .iter()
            .any(|st| can(a, st.permission(), a.province_id))
        {
            continue;
        }
        let queue = s
            .store
            .exam_list_page(a, Some(status), Cursor::first(TODO_LISTS))
            .await?;
        for l in queue.items {
            let link = format!("/exams/{}", l.id);
            if l.next_actions.offers(Step::SubmitList) {
                let what = if l.status == ListStatus::Returned {
                    "اصلاح فهرست برگشت‌خورده"
                } else {
                    "تکمیل و ارسال فهرست آزمون"
                };
                todo.push((format!("{what}: {}", list_label(&l)), link.clone()));
            }
            if l.next_actions.offers(Step::CheckList) {
                todo.push((
                    format!("بررسی فهرست ارسال‌شده: {}", list_label(&l)),
                    link.clone(),
                ));
            }
            if l.next_actions.offers(Step::DecideScore) {
                todo.push((
                    format!(
                        "تصمیم درباره {} نمره: {}",
                        fa_num(l.pending_decisions),
                        list_label(&l)
                    ),
                    link,
                ));
            }
        }
    }
    if can(a, Action::IssueCertificate, a.province_id) {
        for e in s.store.certificates_due(a, TODO_LISTS).await? {
            todo.push((
                format!(
                    "صدور گواهینامه {} {} (کد ملی {})",
                    e.first_name,
                    e.last_name,
                    persian_digits(&e.national_id)
                ),
                format!("/issuance/{}", e.candidate_id),
            ));
        }
    }
    if can(a, Action::PrintCard, a.province_id) {
        for p in s.store.card_prints(a, PrintStatus::Printing).await? {
            todo.push((
                format!(
                    "ادامه چاپ کارت سریال {} برای گواهینامه {} ({} {})",
                    fa_num(p.serial),
                    persian_digits(&p.certificate_no),
                    p.given_name,
                    p.family_name
                ),
                format!("/issuance/{}#card-prints", p.candidate_id),
            ));
        }
        for c in s.store.awaiting_card(a, TODO_LISTS).await? {
            todo.push((
                format!(
                    "چاپ کارت گواهینامه {} ({})",
                    persian_digits(&c.certificate_no),
                    c.holder
                ),
                format!("/issuance/{}#card-prints", c.candidate_id),
            ));
        }
    }
    Ok(todo)
}

#[derive(Template)]
#[template(path = "exams.html")]
struct ExamListsPage {
    nav: Option<Nav>,
    csrf: String,
    can_open: bool,
    centres: Vec<CentreView>,
    trades: Vec<TradeView>,
    lists: Page<ExamListSummary>,
    before: Option<i64>,
}

async fn exam_lists(
    State(s): State<AppState>,
    p: PageActor,
    Query(q): Query<PageQuery>,
) -> PageResult {
    let a = &p.actor;
    let lists = s
        .store
        .exam_list_page(a, q.status(ListStatus::parse)?, q.cursor())
        .await?;
    let can_open = can(a, Action::RecordScores, None);
    let (centres, trades) = if can_open {
        (s.store.centres(a).await?, s.store.trades().await?)
    } else {
        (Vec::new(), Vec::new())
    };
    html(ExamListsPage {
        nav: Some(nav(&s, &p).await),
        csrf: p.csrf.clone(),
        can_open,
        centres,
        trades,
        lists,
        before: q.before,
    })
}

async fn create_exam_list(
    State(s): State<AppState>,
    p: PageActor,
    Form(f): Form<OpenExamList>,
) -> PageResult {
    let (centre, trade) = (f.centre_id.id("centre")?, f.trade_id.id("trade")?);
    let l = s
        .store
        .create_exam_list(&p.actor, centre, trade, &f.exam_date)
        .await?;
    Ok(Redirect::to(&format!("/exams/{}", l.id)).into_response())
}

#[derive(Template)]
#[template(path = "exam_list.html")]
struct ExamListPage {
    nav: Option<Nav>,
    csrf: String,
    l: ExamListView,
}

impl ExamListPage {
    /// Whether any candidate's row has a step for the reader (the column is shown then).
    fn entry_actions(&self) -> bool {
        self.l
            .entries
            .iter()
            .any(|e| !e.next_actions.actions.is_empty())
    }
}

async fn exam_list(State(s): State<AppState>, p: PageActor, Path(id): Path<i64>) -> PageResult {
    let a = &p.actor;
    let l = s.store.exam_list(a, id).await?;
    html(ExamListPage {
        nav: Some(nav(&s, &p).await),
        csrf: p.csrf.clone(),
        l,
    })
}

async fn register_candidate(
    State(s): State<AppState>,
    p: PageActor,
    Path(id): Path<i64>,
    Form(f): Form<RegisterCandidate>,
) -> PageResult {
    s.store.register_candidate(&p.actor, id, f.input()?).await?;
    Ok(Redirect::to(&format!("/exams/{id}")).into_response())
}

async fn correct_candidate(
    State(s): State<AppState>,
    p: PageActor,
    Path(candidate_id): Path<i64>,
    Form(f): Form<CorrectCandidate>,
) -> PageResult {
    let l = s
        .store
        .correct_candidate(&p.actor, candidate_id, f.input())
        .await?;
    Ok(Redirect::to(&format!("/exams/{}#entry-of-{candidate_id}", l.id)).into_response())
}

async fn record_scores(
    State(s): State<AppState>,
    p: PageActor,
    Path(id): Path<i64>,
    Form(f): Form<RecordScores>,
) -> PageResult {
    s.store.record_scores(&p.actor, id, f.input()).await?;
    Ok(Redirect::to(&format!("/exams/{id}")).into_response())
}

async fn submit(State(s): State<AppState>, p: PageActor, Path(id): Path<i64>) -> PageResult {
    s.store.submit_exam_list(&p.actor, id).await?;
    Ok(Redirect::to(&format!("/exams/{id}")).into_response())
}

async fn check(
    State(s): State<AppState>,
    p: PageActor,
    Path(id): Path<i64>,
    Form(f): Form<CheckList>,
) -> PageResult {
    s.store
        .check_exam_list(&p.actor, id, f.accept.get(), &f.remarks)
        .await?;
    Ok(Redirect::to(&format!("/exams/{id}")).into_response())
}

async fn decide(
    State(s): State<AppState>,
    p: PageActor,
    Path(entry_id): Path<i64>,
    Form(f): Form<DecideScore>,
) -> PageResult {
    let l = s
        .store
        .decide_score(&p.actor, entry_id, f.approve.get(), &f.reason)
        .await?;
    Ok(Redirect::to(&format!("/exams/{}", l.id)).into_response())
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    nav: Option<Nav>,
    /// What was typed, shown back in the box.
    q: String,
    hits: Option<Page<SearchHit>>,
    before: Option<i64>,
}

impl SearchPage {
    /// This search's address, ready for `before=`.
    fn path(&self) -> String {
        let mut q = String::new();
        for b in self.q.as_bytes() {
            match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => q.push(*b as char),
                _ => q.push_str(&format!("%{b:02X}")),
            }
        }
        format!("/search?q={q}&")
    }
}

#[derive(Deserialize)]
struct SearchForm {
    q: Option<String>,
    before: Option<i64>,
}

/// The office's search box: a national code, a card serial, a certificate number or a name.
async fn search(
    State(s): State<AppState>,
    p: PageActor,
    Query(f): Query<SearchForm>,
) -> PageResult {
    let q = f.q.unwrap_or_default();
    let hits = if q.trim().is_empty() {
        None
    } else {
        let query = SearchQuery::parse(&q)?;
        Some(
            s.store
                .search(&p.actor, &query, crate::paging::cursor(f.before, None))
                .await?,
        )
    };
    html(SearchPage {
        nav: Some(nav(&s, &p).await),
        q,
        hits,
        before: f.before,
    })
}

#[derive(Template)]
#[template(path = "issuance.html")]
struct IssuancePage {
    nav: Option<Nav>,
    csrf: String,
    /// Why no new print may start, for the clerk, when the core's refuse one
    /// (a print in progress or a registered card explain themselves on the page).
    no_print_reason: Option<String>,
    prints: Vec<PrintView>,
    v: IssuanceView,
}

async fn issuance(
    State(s): State<AppState>,
    p: PageActor,
    Path(candidate_id): Path<i64>,
) -> PageResult {
    let a = &p.actor;
    let v = s.store.issuance(a, candidate_id).await?;
    let (prints, no_print_reason) = match &v.certificate {
        Some(c) => {
            let why = match s.store.print_start(a, c.id).await? {
                Err(e @ DomainError::ReprintNotAuthorized)
                    if can(a, Action::PrintCard, Some(v.province_id)) =>
                {
                    Some(e.message_fa())
                }
                _ => None,
            };
            (s.store.certificate_prints(a, c.id).await?, why)
        }
        None => (Vec::new(), None),
    };
    html(IssuancePage {
        nav: Some(nav(&s, &p).await),
        csrf: p.csrf.clone(),
        no_print_reason,
        prints,
        v,
    })
}

/// Opens a print with a chip UID typed from the reader's display (the workstation command does
/// the same with the UID it reads itself).
async fn start_print(
    State(s): State<AppState>,
    p: PageActor,
    Path(candidate_id): Path<i64>,
    Form(f): Form<StartPrint>,
) -> PageResult {
    let v = s.store.issuance(&p.actor, candidate_id).await?;
    let cert = v.certificate.ok_or(DomainError::NotFound {
        what: "certificate",
    })?;
    let (uid, serial) = f.input()?;
    s.store
        .start_print(&p.actor, cert.id, &uid, serial, s.signing_key.as_deref())
        .await?;
    Ok(Redirect::to(&format!("/issuance/{candidate_id}#card-prints")).into_response())
}

async fn print_inspection(
    State(s): State<AppState>,
    p: PageActor,
    Path(id): Path<i64>,
    Form(f): Form<RecordInspection>,
) -> PageResult {
    let v = s
        .store
        .record_print_inspection(&p.actor, id, f.sound.get(), &f.reason)
        .await?;
    Ok(Redirect::to(&format!("/issuance/{}#card-prints", v.candidate_id)).into_response())
}

async fn spoil_print(
    State(s): State<AppState>,
    p: PageActor,
    Path(id): Path<i64>,
    Form(f): Form<SpoilPrint>,
) -> PageResult {
    let v = s.store.spoil_print(&p.actor, id, &f.reason).await?;
    Ok(Redirect::to(&format!("/issuance/{}#card-prints", v.candidate_id)).into_response())
}

async fn register_print(
    State(s): State<AppState>,
    p: PageActor,
    Path(id): Path<i64>,
) -> PageResult {
    let v = s.store.register_print(&p.actor, id).await?;
    Ok(Redirect::to(&format!("/issuance/{}#card-prints", v.candidate_id)).into_response())
}

async fn record_payment(
    State(s): State<AppState>,
    p: PageActor,
    Path(candidate_id): Path<i64>,
    Form(f): Form<RecordPayment>,
) -> PageResult {
    let amount = f.amount_rial.rials("amount")?;
    s.store
        .record_bank_payment(&p.actor, candidate_id, &f.reference, amount)
        .await?;
    Ok(Redirect::to(&format!("/issuance/{candidate_id}")).into_response())
}

async fn issue(
    State(s): State<AppState>,
    p: PageActor,
    Path(candidate_id): Path<i64>,
    Form(f): Form<IssueCertificate>,
) -> PageResult {
    s.store
        .issue_certificate(&p.actor, candidate_id, f.confirm.get())
        .await?;
    Ok(Redirect::to(&format!("/issuance/{candidate_id}")).into_response())
}

#[derive(Template)]
#[template(path = "reference.html")]
struct ReferencePage {
    nav: Option<Nav>,
    csrf: String,
    /// HQ: trades and fees.
    can_manage: bool,
    /// HQ or a province's head: centres.
    can_centres: bool,
    /// A provincial head adds centres of their own province only.
    own_province: Option<i64>,
    provinces: Vec<skillcard_db::views::ProvinceView>,
    trades: Vec<TradeView>,
    centres: Vec<CentreView>,
    fees: Vec<skillcard_db::exams::FeeView>,
}

/// HQ's reference data (trades, fees) and the centres, with the forms each role may use.
async fn reference(State(s): State<AppState>, p: PageActor) -> PageResult {
    let a = &p.actor;
    html(ReferencePage {
        nav: Some(nav(&s, &p).await),
        csrf: p.csrf.clone(),
        can_manage: can(a, Action::ManageReferenceData, None),
        can_centres: can(a, Action::ManageCentres, a.province_id),
        own_province: a.scope().province_filter(),
        provinces: s.store.provinces().await?,
        trades: s.store.trades().await?,
        centres: s.store.centres(a).await?,
        fees: s.store.fees().await?,
    })
}

async fn create_trade(
    State(s): State<AppState>,
    p: PageActor,
    Form(f): Form<CreateTrade>,
) -> PageResult {
    s.store
        .create_trade(&p.actor, &f.standard_code, &f.title)
        .await?;
    Ok(Redirect::to("/reference").into_response())
}

async fn create_centre(
    State(s): State<AppState>,
    p: PageActor,
    Form(f): Form<CreateCentre>,
) -> PageResult {
    let province = f.province_id.id("province")?;
    s.store
        .create_centre(&p.actor, province, &f.code, &f.name, &f.kind)
        .await?;
    Ok(Redirect::to("/reference").into_response())
}

async fn set_fee(State(s): State<AppState>, p: PageActor, Form(f): Form<SetFee>) -> PageResult {
    let amount = f.amount_rial.rials("amount")?;
    s.store.set_fee(&p.actor, &f.kind, amount).await?;
    Ok(Redirect::to("/reference").into_response())
}
