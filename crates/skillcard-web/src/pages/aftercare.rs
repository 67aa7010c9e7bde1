//! Part 3 pages: handing registered cards to their holders (R-5.4, R-7, R-7.1, Form 5), damage
//! cases (R-8, Note 3, Form 6) and replacement requests (R-9, Note 4) on their road through the
//! Director General's letter and HQ back to a reprint, and the outbox of
//! notices to applicants. Each handler reads the operation's command (`crate::commands`) and
//! calls the same store operation as the API; a form is shown when the record's `next_actions`
//! offer its step, and the store decides again when it is sent.
//!
//! Forms that carry a scan are `multipart/form-data` (read by [`crate::multipart`]; the
//! authentication middleware finds their `_csrf` field there too).

use super::{can, filters, html, nav, Nav, PageResult, TODO_ROWS};
use crate::auth::{PageActor, UPLOAD_LIMIT};
use crate::commands::aftercare::{
    AttachScan, CreateDeliveryList, DamageForm, DecideReplacement, DeliverCard, OpenDamageCase,
    PayReplacementFee, RequestReplacement, ReviewDamage, SendToHq,
};
use crate::error::{AppError, PageError};
use crate::multipart::{self, Part};
use crate::paging::{self, PageQuery};
use crate::AppState;
use askama::Template;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Form, Path, Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use skillcard_core::cases::{CaseKind, CaseStatus, DamageCause};
use skillcard_core::notice::{Delivery, NoticeStatus};
use skillcard_core::policy::{Action, Actor, Scope};
use skillcard_core::printing::PrintStatus;
use skillcard_core::text::{fa_num, persian_digits};
use skillcard_core::workflow::{self, Step};
use skillcard_core::{fa, DomainError};
use skillcard_db::cases::CaseView;
use skillcard_db::delivery::{DeliveryCard, DeliveryListView, ProvinceOverdue};
use skillcard_db::notify::NotificationView;
use skillcard_db::printing::PrintView;
use skillcard_db::views::{Cursor, Page, Queue};

pub fn routes() -> Router<AppState> {
    // The forms that upload a scan may be as large as the largest scan.
    let uploads = Router::new()
        .route("/deliveries/{id}/scan", post(upload_list_scan))
        .route("/cases/{id}/send", post(send_to_hq))
        .route("/prints/{id}/replacement", post(request_replacement))
        .layer(DefaultBodyLimit::max(UPLOAD_LIMIT));
    Router::new()
        .route("/deliveries", get(deliveries).post(create_list))
        .route("/deliveries/{id}", get(delivery_list))
        .route("/prints/{id}/delivery", post(deliver))
        .route("/cases", get(cases).post(open_damage_case))
        .route("/cases/{id}", get(case))
        .route("/cases/{id}/review", post(review))
        .route("/cases/{id}/decision", post(decide))
        .route("/cases/{id}/void", post(void))
        .route("/cases/{id}/fee", post(fee))
        .route("/cases/{id}/arrival", post(arrival))
        .route("/cases/{id}/authorization", post(authorize_reprint))
        .route("/notifications", get(notifications))
        .merge(uploads)
}

fn case_label(c: &CaseView) -> String {
    let serials: Vec<String> = c.items.iter().map(|i| fa_num(i.serial)).collect();
    format!(
        "پرونده {} ({}) — کارت {}",
        fa_num(c.id),
        c.kind_fa,
        serials.join("، ")
    )
}

/// What the dashboard shows of Part 3.
pub struct Dashboard {
    /// Cards waiting for their holders, HQ's overdue provinces, cases waiting for the user's
    /// step, notices that could not be sent: (what, link).
    pub todo: Vec<(String, String)>,
    /// The office's outbox of notices to applicants: (queued, failed).
    pub outbox: Option<(u64, u64)>,
}

pub async fn dashboard(s: &AppState, a: &Actor) -> Result<Dashboard, PageError> {
    let mut todo = Vec::new();
    if !can(a, Action::ViewExams, None) {
        return Ok(Dashboard { todo, outbox: None });
    }
    let national = a.scope() == Scope::National;
    let office = !national && can(a, Action::DeliverCards, a.province_id);
    if office {
        // The counts of the province's line of, read from the index of undelivered cards.
        let mine = s.store.overdue_by_province(a).await?;
        let (waiting, overdue) = mine
            .iter()
            .fold((0, 0), |(w, o), p| (w + p.undelivered, o + p.overdue));
        if waiting > 0 {
            let mut line = format!("تحویل {} کارت ثبت‌شده به دارندگان (بند ۷)", fa_num(waiting));
            if overdue > 0 {
                line.push_str(&format!(
                    " — {} کارت بیش از یک هفته در انتظار (بند ۵-۴)",
                    fa_num(overdue)
                ));
            }
            todo.push((line, "/deliveries".into()));
        }
    }
    if national {
        for p in s
            .store
            .overdue_by_province(a)
            .await?
            .into_iter()
            .filter(|p| p.overdue > 0)
        {
            todo.push((
                format!(
                    "استان {}: {} کارت بیش از یک هفته تحویل نشده (بند ۵-۴)",
                    p.province_name,
                    fa_num(p.overdue)
                ),
                "/deliveries#overdue".into(),
            ));
        }
    }
    // One look-up per status at which this user may have a step to take; each case's own
    // `next_actions` then says which.
    for status in CaseStatus::ALL {
        let mine = CaseKind::ALL
            .into_iter()
            .flat_map(|k| workflow::case(k, status))
            .any(|step| can(a, step.permission(), a.province_id));
        if !mine {
            continue;
        }
        let queue = s
            .store
            .case_page(a, Some(status), Cursor::first(TODO_ROWS))
            .await?;
        for c in queue.items {
            for step in &c.next_actions.actions {
                todo.push((
                    format!("{}: {}", step.label_fa(), case_label(&c)),
                    format!("/cases/{}", c.id),
                ));
            }
        }
    }
    let outbox = if office {
        let (pending, failed) = s.store.notice_counts(a).await?;
        if failed > 0 {
            todo.push((
                format!(
                    "{} اعلان به متقاضیان ارسال نشد؛ نشانی تماس را بررسی کنید",
                    fa_num(failed)
                ),
                "/notifications".into(),
            ));
        }
        Some((pending, failed))
    } else {
        None
    };
    Ok(Dashboard { todo, outbox })
}

/// A Persian date for an ISO date or timestamp (the first ten characters).
fn date_fa(iso: &str) -> String {
    iso.get(..10)
        .and_then(|d| {
            time::Date::parse(d, &time::format_description::well_known::Iso8601::DATE).ok()
        })
        .map(skillcard_core::date::fa_date)
        .unwrap_or_else(|| persian_digits(iso))
}

fn id_of(field: &'static str, v: &str) -> Result<i64, DomainError> {
    let n = crate::forms::required_number(field, v)?;
    i64::try_from(n).map_err(|_| DomainError::InvalidValue { field })
}

/// The fields of a page form that uploads a file.
pub(super) fn multipart_form(headers: &HeaderMap, body: &[u8]) -> Result<Vec<Part>, PageError> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    multipart::parse(ct, body)
        .ok_or_else(|| AppError::BadRequest("expected a multipart/form-data form".into()).into())
}

// ---------------------------------------------------------------------------------------------
// Delivery (R-5.4, R-7, R-7.1, Form 5)

#[derive(Template)]
#[template(path = "deliveries.html")]
struct DeliveriesPage {
    nav: Option<Nav>,
    csrf: String,
    /// The user may group cards and confirm handovers in their province.
    can_deliver: bool,
    /// Oldest (most overdue) first, a page at a time.
    cards: Queue<DeliveryCard>,
    /// The cards waiting and those past the week, in the reader's reach (counted, not listed).
    waiting_count: i64,
    overdue_count: i64,
    /// This page of the queue starts after this card (`after=`).
    after: Option<i64>,
    lists: Page<DeliveryListView>,
    before: Option<i64>,
    /// HQ's per-province view of.
    provinces: Vec<ProvinceOverdue>,
}

#[derive(Deserialize)]
struct DeliveriesQuery {
    /// The handover lists' page.
    before: Option<i64>,
    /// The waiting cards' page.
    after: Option<i64>,
}

async fn deliveries(
    State(s): State<AppState>,
    p: PageActor,
    Query(q): Query<DeliveriesQuery>,
) -> PageResult {
    let a = &p.actor;
    let cards = s
        .store
        .undelivered_cards(a, false, false, q.after, PAGE_CARDS)
        .await?;
    let lines = s.store.overdue_by_province(a).await?;
    let waiting_count = lines.iter().map(|l| l.undelivered).sum();
    let overdue_count = lines.iter().map(|l| l.overdue).sum();
    let provinces = if a.scope() == Scope::National {
        lines
    } else {
        Vec::new()
    };
    html(DeliveriesPage {
        nav: Some(nav(&s, &p).await),
        csrf: p.csrf.clone(),
        can_deliver: a.scope() != Scope::National && can(a, Action::DeliverCards, a.province_id),
        waiting_count,
        overdue_count,
        after: q.after,
        cards,
        lists: s
            .store
            .delivery_list_page(a, paging::cursor(q.before, None))
            .await?,
        before: q.before,
        provinces,
    })
}

/// Waiting cards on one page of `/deliveries`.
const PAGE_CARDS: i64 = 100;

/// `label` and one `print_id` per checked card.
async fn create_list(
    State(s): State<AppState>,
    p: PageActor,
    Form(f): Form<Vec<(String, String)>>,
) -> PageResult {
    let (label, ids) = CreateDeliveryList::from_form(&f).input()?;
    let l = s.store.create_delivery_list(&p.actor, &label, &ids).await?;
    Ok(Redirect::to(&format!("/deliveries/{}", l.id)).into_response())
}

#[derive(Template)]
#[template(path = "delivery_list.html")]
struct DeliveryListPage {
    nav: Option<Nav>,
    csrf: String,
    l: DeliveryListView,
}

impl DeliveryListPage {
    fn method(&self, m: &str) -> String {
        fa::delivery_method(m).to_string()
    }
    fn when(&self, iso: &str) -> String {
        date_fa(iso)
    }
}

async fn delivery_list(State(s): State<AppState>, p: PageActor, Path(id): Path<i64>) -> PageResult {
    let l = s.store.delivery_list(&p.actor, id).await?;
    html(DeliveryListPage {
        nav: Some(nav(&s, &p).await),
        csrf: p.csrf.clone(),
        l,
    })
}

async fn deliver(
    State(s): State<AppState>,
    p: PageActor,
    Path(print_id): Path<i64>,
    Form(f): Form<DeliverCard>,
) -> PageResult {
    let c = s
        .store
        .confirm_delivery(&p.actor, print_id, &f.input()?)
        .await?;
    let to = match c.delivery_list_id {
        Some(l) => format!("/deliveries/{l}#card-{print_id}"),
        None => "/deliveries".to_string(),
    };
    Ok(Redirect::to(&to).into_response())
}

async fn upload_list_scan(
    State(s): State<AppState>,
    p: PageActor,
    Path(id): Path<i64>,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    let parts = multipart_form(&headers, &body)?;
    let scan = AttachScan::from_multipart(&parts).input()?;
    s.store.attach_delivery_scan(&p.actor, id, &scan).await?;
    Ok(Redirect::to(&format!("/deliveries/{id}")).into_response())
}

// ---------------------------------------------------------------------------------------------
// Damage cases and replacements (R-8, R-9, Notes 3–4, Form 6)

#[derive(Template)]
#[template(path = "cases.html")]
struct CasesPage {
    nav: Option<Nav>,
    csrf: String,
    /// The status filter, `""` for all.
    status: String,
    statuses: Vec<(&'static str, String)>,
    causes: Vec<(&'static str, String)>,
    can_open_damage: bool,
    /// A card chosen from its certificate's page (`?print=`) or found by serial (`?serial=`).
    card: Option<PrintView>,
    /// The searched serial, shown back in the search field.
    serial: String,
    cases: Page<CaseView>,
    before: Option<i64>,
}

impl CasesPage {
    fn when(&self, iso: &str) -> String {
        date_fa(iso)
    }

    /// This page's address with its status filter, ready for `before=`.
    fn path(&self) -> String {
        if self.status.is_empty() {
            "/cases?".into()
        } else {
            format!("/cases?status={}&", self.status)
        }
    }
}

#[derive(Deserialize)]
struct CasesQuery {
    status: Option<String>,
    print: Option<String>,
    serial: Option<String>,
    before: Option<i64>,
}

/// The card of a serial within the actor's reach (the store then decides whether it may enter
/// a case).
async fn card_by_serial(s: &AppState, a: &Actor, serial: u64) -> Result<Option<i64>, PageError> {
    Ok(s.store.print_id_by_serial(a, serial).await?)
}

async fn cases(State(s): State<AppState>, p: PageActor, Query(q): Query<CasesQuery>) -> PageResult {
    let a = &p.actor;
    let status = q.status.unwrap_or_default();
    let filter = match status.as_str() {
        "" => None,
        st => Some(CaseStatus::parse(st).ok_or(DomainError::InvalidValue { field: "status" })?),
    };
    let serial = q.serial.unwrap_or_default();
    let print_id = match (q.print.as_deref().filter(|v| !v.is_empty()), serial.trim()) {
        (Some(id), _) => Some(id_of("print", id)?),
        (None, "") => None,
        (None, sn) => {
            let sn = crate::forms::required_number("serial", sn)?;
            Some(
                card_by_serial(&s, a, sn)
                    .await?
                    .ok_or(DomainError::NotFound { what: "card" })?,
            )
        }
    };
    let card = match print_id {
        Some(id) => Some(s.store.card_print(a, id).await?),
        None => None,
    };
    html(CasesPage {
        nav: Some(nav(&s, &p).await),
        csrf: p.csrf.clone(),
        statuses: CaseStatus::ALL
            .into_iter()
            .map(|c| (c.as_str(), c.label_fa().to_string()))
            .collect(),
        causes: DamageCause::ALL
            .into_iter()
            .map(|c| (c.as_str(), fa::damage_cause(c.as_str()).to_string()))
            .collect(),
        can_open_damage: a.scope() != Scope::National
            && can(a, Action::OpenDamageCase, a.province_id),
        card,
        serial,
        cases: s
            .store
            .case_page(a, filter, paging::cursor(q.before, None))
            .await?,
        before: q.before,
        status,
    })
}

/// `print_id` (checked cards), `serials` (typed, separated by spaces, commas or lines),
/// `cause` and `detail` (the same for every card of this minutes).
async fn open_damage_case(
    State(s): State<AppState>,
    p: PageActor,
    Form(f): Form<Vec<(String, String)>>,
) -> PageResult {
    let form = DamageForm::from_form(&f)?;
    let mut ids = form.print_ids;
    for serial in form.serials {
        let id = card_by_serial(&s, &p.actor, serial)
            .await?
            .ok_or(DomainError::NotFound { what: "card" })?;
        ids.push(id);
    }
    let cards = OpenDamageCase::same_cause(&ids, &form.cause, &form.detail).input()?;
    let c = s.store.open_damage_case(&p.actor, &cards).await?;
    Ok(Redirect::to(&format!("/cases/{}", c.id)).into_response())
}

/// Multipart: `reason`, `first_name`, `last_name`, `father_name`, `contact`, `scan` (optional).
async fn request_replacement(
    State(s): State<AppState>,
    p: PageActor,
    Path(print_id): Path<i64>,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    let parts = multipart_form(&headers, &body)?;
    let r = RequestReplacement::from_multipart(&parts).input()?;
    let c = s
        .store
        .request_replacement(
            &p.actor,
            print_id,
            &r.reason,
            &r.corrections,
            r.scan.as_deref(),
            r.contact.as_ref(),
        )
        .await?;
    Ok(Redirect::to(&format!("/cases/{}", c.id)).into_response())
}

#[derive(Template)]
#[template(path = "case.html")]
struct CasePage {
    nav: Option<Nav>,
    csrf: String,
    c: CaseView,
}

impl CasePage {
    fn when(&self, iso: &str) -> String {
        date_fa(iso)
    }
    fn corrections(&self) -> Vec<(&'static str, String)> {
        let Some(k) = &self.c.corrections else {
            return Vec::new();
        };
        [
            ("نام", &k.first_name),
            ("نام خانوادگی", &k.last_name),
            ("نام پدر", &k.father_name),
        ]
        .into_iter()
        .filter_map(|(label, v)| v.clone().map(|v| (label, v)))
        .collect()
    }
}

async fn case(State(s): State<AppState>, p: PageActor, Path(id): Path<i64>) -> PageResult {
    let c = s.store.case(&p.actor, id).await?;
    html(CasePage {
        nav: Some(nav(&s, &p).await),
        csrf: p.csrf.clone(),
        c,
    })
}

fn back(id: i64) -> PageResult {
    Ok(Redirect::to(&format!("/cases/{id}")).into_response())
}

async fn review(
    State(s): State<AppState>,
    p: PageActor,
    Path(id): Path<i64>,
    Form(f): Form<ReviewDamage>,
) -> PageResult {
    s.store.review_damage(&p.actor, id, &f.outcome).await?;
    back(id)
}

async fn decide(
    State(s): State<AppState>,
    p: PageActor,
    Path(id): Path<i64>,
    Form(f): Form<DecideReplacement>,
) -> PageResult {
    s.store
        .decide_replacement(&p.actor, id, f.approve.get(), &f.reason)
        .await?;
    back(id)
}

async fn void(State(s): State<AppState>, p: PageActor, Path(id): Path<i64>) -> PageResult {
    s.store.void_for_replacement(&p.actor, id).await?;
    back(id)
}

async fn fee(
    State(s): State<AppState>,
    p: PageActor,
    Path(id): Path<i64>,
    Form(f): Form<PayReplacementFee>,
) -> PageResult {
    let (reference, amount) = f.input()?;
    s.store
        .record_replacement_fee(&p.actor, id, &reference, amount)
        .await?;
    back(id)
}

/// Multipart: `letter_no`, `letter_date` (Solar Hijri), `scan` (the signed minutes).
async fn send_to_hq(
    State(s): State<AppState>,
    p: PageActor,
    Path(id): Path<i64>,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    let parts = multipart_form(&headers, &body)?;
    let (letter_no, date, scan) = SendToHq::from_multipart(&parts).input()?;
    s.store
        .send_case_to_hq(&p.actor, id, &letter_no, date, &scan)
        .await?;
    back(id)
}

async fn arrival(State(s): State<AppState>, p: PageActor, Path(id): Path<i64>) -> PageResult {
    s.store.receive_case_at_hq(&p.actor, id).await?;
    back(id)
}

async fn authorize_reprint(
    State(s): State<AppState>,
    p: PageActor,
    Path(id): Path<i64>,
) -> PageResult {
    s.store.authorize_reprint(&p.actor, id).await?;
    back(id)
}

// ---------------------------------------------------------------------------------------------
// Notices to applicants

#[derive(Template)]
#[template(path = "notifications.html")]
struct NotificationsPage {
    nav: Option<Nav>,
    notices: Page<NotificationView>,
    before: Option<i64>,
}

impl NotificationsPage {
    fn when(&self, iso: &str) -> String {
        date_fa(iso)
    }
}

async fn notifications(
    State(s): State<AppState>,
    p: PageActor,
    Query(q): Query<PageQuery>,
) -> PageResult {
    let status = q.status(NoticeStatus::parse)?;
    let notices = s
        .store
        .notification_page(&p.actor, status, q.cursor())
        .await?;
    html(NotificationsPage {
        nav: Some(nav(&s, &p).await),
        notices,
        before: q.before,
    })
}
