//! Server-rendered Persian pages: one handler per screen or form post. Each one calls the same
//! store operation as the API; a rejected post shows the Persian reason and changes nothing.

use crate::auth::{set_cookie, PageActor, SessionToken, PRE_SESSION_COOKIE, SESSION_COOKIE};
use crate::commands::accounts::{ChangePassword, ConfirmSecondFactor, CreateUser, SetRole};
use crate::commands::custody::{
    CreateRequest, HandOver, OverrideCap, ReceiveShipment, RecordShipment, RecordVaultInspection,
    SendReceiptNotice, SetBaseline,
};
use crate::error::{AppError, PageError};
use crate::forms;
use crate::paging::PageQuery;
use crate::AppState;
use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use skillcard_core::custody::{CapBasis, RequestStatus, ShipmentStatus};
use skillcard_core::date::{fa_date, JalaliDate};
use skillcard_core::ledger::Direction;
use skillcard_core::policy::{authorize, Action, Actor, Role};
use skillcard_core::workflow::Step;
use skillcard_core::DomainError;
use skillcard_db::views::*;
use skillcard_db::AccountAdmin;

mod aftercare;
mod exams;
mod verify;

type PageResult = Result<Response, PageError>;

mod filters {
    /// Persian digits for any number or text shown on a page.
    pub fn fa<T: std::fmt::Display>(v: T, _: &dyn askama::Values) -> askama::Result<String> {
        Ok(skillcard_core::text::persian_digits(&v.to_string()))
    }

    /// A score or other decimal with the Persian decimal separator (`۸۳٫۸`).
    pub fn decimal<T: std::fmt::Display>(v: T, _: &dyn askama::Values) -> askama::Result<String> {
        Ok(skillcard_core::text::fa_decimal(&v.to_string()))
    }

    /// An amount of money, grouped in thousands (`۱٬۵۰۰٬۰۰۰`).
    pub fn rials(v: &i64, _: &dyn askama::Values) -> askama::Result<String> {
        Ok(skillcard_core::text::fa_amount(*v))
    }

    /// An RFC 3339 instant as a Solar Hijri date and Tehran time.
    pub fn when<T: std::fmt::Display>(v: T, _: &dyn askama::Values) -> askama::Result<String> {
        Ok(skillcard_core::date::fa_datetime(&v.to_string()))
    }
}

/// The header's view of the signed-in user.
pub struct Nav {
    full_name: String,
    role: &'static str,
    province: Option<String>,
    csrf: String,
    /// Which sections the user may open; links to the others are not shown.
    custody: bool,
    exams: bool,
    audit: bool,
    users: bool,
}

async fn nav(s: &AppState, p: &PageActor) -> Nav {
    let province = match p.actor.province_id {
        Some(id) => s
            .store
            .provinces()
            .await
            .ok()
            .and_then(|ps| ps.into_iter().find(|x| x.id == id))
            .map(|x| x.name_fa),
        None => None,
    };
    Nav {
        full_name: p.actor.full_name.clone(),
        role: p.actor.role.label_fa(),
        province,
        csrf: p.csrf.clone(),
        custody: can(&p.actor, Action::ViewCustody, None),
        exams: can(&p.actor, Action::ViewExams, None),
        audit: can(&p.actor, Action::ViewAudit, None),
        users: can(&p.actor, Action::ManageUsers, None),
    }
}

fn html(t: impl Template) -> PageResult {
    Ok(Html(t.render().map_err(AppError::from)?).into_response())
}

fn can(a: &Actor, action: Action, province: Option<i64>) -> bool {
    authorize(a, action, province).is_ok()
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    nav: Option<Nav>,
    message: &'a str,
    code: &'a str,
}

pub fn error_page(message: &str, code: &str) -> String {
    ErrorPage {
        nav: None,
        message,
        code,
    }
    .render()
    .unwrap_or_else(|_| message.to_string())
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/static/app.css", get(css))
        .route("/static/fonts/{name}", get(font))
        .route("/login", get(login_form).post(login))
        .route(
            "/verify",
            get(verify::verify).post(verify::verify_photo).layer(
                axum::extract::DefaultBodyLimit::max(crate::auth::UPLOAD_LIMIT),
            ),
        )
        .route("/logout", post(logout))
        .route(
            crate::auth::PASSWORD_PAGE,
            get(password_form).post(change_password),
        )
        .route(crate::auth::SECOND_FACTOR_PAGE, get(second_factor))
        .route("/account", get(account))
        .route("/account/sessions/{id}/end", post(end_session))
        .route("/account/tokens/{id}/revoke", post(revoke_token))
        .route("/users", get(users).post(create_user))
        .route("/users/{username}/disable", post(disable_user))
        .route("/users/{username}/enable", post(enable_user))
        .route("/users/{username}/reset-password", post(reset_password))
        .route("/users/{username}/role", post(set_role))
        .route("/account/2fa/start", post(start_second_factor))
        .route("/account/2fa/confirm", post(confirm_second_factor))
        .route("/", get(dashboard))
        .route("/shipments", get(shipments).post(create_shipment))
        .route("/shipments/{id}", get(shipment))
        .route("/shipments/{id}/receive", post(receive))
        .route("/shipments/{id}/notice", post(notice))
        .route("/vault", get(vault))
        .route("/vault/inspections", post(inspect))
        .route("/requests", get(requests).post(create_request))
        .route("/requests/baseline", post(baseline))
        .route("/requests/override", post(override_cap))
        .route("/requests/{id}", get(request))
        .route("/requests/{id}/handover", post(hand_over))
        .route("/handovers/{id}", get(handover))
        .route("/audit", get(audit))
        .merge(exams::routes())
        .merge(aftercare::routes())
}

async fn css() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("../../static/app.css"),
    )
        .into_response()
}

/// Serves the Vazirmatn font files fetched by `scripts/fetch-fonts`, when present.
async fn font(Path(name): Path<String>) -> Response {
    let allowed = ["Vazirmatn-Regular.ttf", "Vazirmatn-Bold.ttf"];
    if !allowed.contains(&name.as_str()) {
        return axum::http::StatusCode::NOT_FOUND.into_response();
    }
    let dirs = [
        std::env::var("SKILLCARD_FONT_DIR").unwrap_or_default(),
        "assets/fonts".to_string(),
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../assets/fonts").to_string(),
    ];
    for d in dirs.iter().filter(|d| !d.is_empty()) {
        if let Ok(bytes) = tokio::fs::read(std::path::Path::new(d).join(&name)).await {
            return (
                [
                    (header::CONTENT_TYPE, "font/ttf"),
                    (header::CACHE_CONTROL, "max-age=86400"),
                ],
                bytes,
            )
                .into_response();
        }
    }
    axum::http::StatusCode::NOT_FOUND.into_response()
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    nav: Option<Nav>,
    csrf: String,
    error: Option<String>,
}

pub(crate) fn random_hex() -> String {
    use rand::RngCore;
    let mut b = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut b);
    hex::encode(b)
}

async fn login_form(State(s): State<AppState>) -> PageResult {
    let csrf = random_hex();
    let body = LoginPage {
        nav: None,
        csrf: csrf.clone(),
        error: None,
    }
    .render()
    .map_err(AppError::from)?;
    Ok((
        [(
            header::SET_COOKIE,
            set_cookie(PRE_SESSION_COOKIE, &csrf, 3600, s.config.secure_cookies),
        )],
        Html(body),
    )
        .into_response())
}

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
    #[serde(default)]
    otp: Option<String>,
    #[serde(rename = "_csrf")]
    csrf: String,
}

async fn login(
    State(s): State<AppState>,
    crate::ratelimit::ClientIp(ip): crate::ratelimit::ClientIp,
    Form(f): Form<LoginForm>,
) -> PageResult {
    let signed = s
        .store
        .sign_in(&f.username, &f.password, f.otp.as_deref(), &ip.to_string())
        .await;
    s.metrics.sign_in(crate::metrics::SignInVia::Page, &signed);
    match signed {
        Ok(signed) => {
            let (token, _) = s
                .store
                .create_session(&signed.actor, &ip.to_string())
                .await?;
            let ttl = skillcard_db::SESSION_TTL_SECS;
            Ok((
                [(
                    header::SET_COOKIE,
                    set_cookie(SESSION_COOKIE, &token, ttl, s.config.secure_cookies),
                )],
                Redirect::to("/"),
            )
                .into_response())
        }
        Err(e) => match e.domain() {
            Some(
                d @ (DomainError::InvalidCredentials
                | DomainError::LoginThrottled { .. }
                | DomainError::OtpRequired
                | DomainError::ForbiddenCharacter { .. }),
            ) => {
                let page = LoginPage {
                    nav: None,
                    csrf: f.csrf,
                    error: Some(d.message_fa()),
                };
                let e = AppError::Domain(d.clone());
                let resp =
                    (e.status(), Html(page.render().map_err(AppError::from)?)).into_response();
                Ok(e.with_retry_after(resp))
            }
            _ => Err(e.into()),
        },
    }
}

async fn logout(State(s): State<AppState>, SessionToken(token): SessionToken) -> PageResult {
    if let Some(t) = token {
        s.store.end_session(&t).await?;
    }
    Ok((
        [(
            header::SET_COOKIE,
            set_cookie(SESSION_COOKIE, "", 0, s.config.secure_cookies),
        )],
        Redirect::to("/login"),
    )
        .into_response())
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    nav: Option<Nav>,
    role_label: &'static str,
    today: String,
    todo: Vec<(String, String)>,
    stock: Vec<StockView>,
    /// The office's outbox of notices to applicants: (queued, failed).
    outbox: Option<(u64, u64)>,
}

async fn dashboard(State(s): State<AppState>, p: PageActor) -> PageResult {
    let a = &p.actor;
    let mut todo = Vec::new();
    let stock = if can(a, Action::ViewCustody, None) {
        s.store.stock(a).await?
    } else {
        Vec::new()
    };
    if can(a, Action::ViewCustody, None) {
        // The shipments with a step left: those in transit, and the newest received ones (a
        // receipt notice or HQ's look at a discrepancy follows within days of receipt).
        let mut shipments = Vec::new();
        for status in ShipmentStatus::ALL {
            shipments.extend(s.store.shipment_summaries(a, status, TODO_ROWS).await?);
        }
        for sh in shipments {
            if sh.next_actions.offers(Step::ReceiveShipment) {
                todo.push((
                    format!(
                        "دریافت محموله {} ({} کارت)",
                        skillcard_core::text::persian_digits(&sh.ref_no),
                        fa(sh.declared_count)
                    ),
                    format!("/shipments/{}", sh.id),
                ));
            }
            if sh.next_actions.offers(Step::SendReceiptNotice) {
                todo.push((
                    format!(
                        "ثبت نامه اعلام وصول محموله {}",
                        skillcard_core::text::persian_digits(&sh.ref_no)
                    ),
                    format!("/shipments/{}", sh.id),
                ));
            }
            if a.role == Role::Hq && sh.discrepancy > 0 {
                todo.push((
                    format!(
                        "مغایرت در دریافت محموله {} — {}",
                        skillcard_core::text::persian_digits(&sh.ref_no),
                        sh.province_name
                    ),
                    format!("/shipments/{}", sh.id),
                ));
            }
        }
        let open = s
            .store
            .request_page(a, Some(RequestStatus::Open), Cursor::first(TODO_ROWS))
            .await?;
        for r in open.items {
            if r.next_actions.offers(Step::HandOver) {
                todo.push((
                    format!(
                        "تحویل {} کارت برای درخواست {}",
                        fa(r.count - r.handed_count),
                        r.month_label
                    ),
                    format!("/requests/{}", r.id),
                ));
            }
        }
        if let Some(pid) = a.province_id {
            if can(a, Action::CreateMonthlyRequest, Some(pid)) {
                let cap = s.store.cap(a, pid, None).await?;
                if cap.existing_request_id.is_none() {
                    todo.push((
                        format!(
                            "ثبت درخواست ماهانه {} (سقف {})",
                            cap.month_label,
                            fa(cap.effective)
                        ),
                        "/requests".into(),
                    ));
                }
            }
        }
    }
    todo.extend(exams::dashboard_todo(&s, a).await?);
    let part3 = aftercare::dashboard(&s, a).await?;
    todo.extend(part3.todo);
    let today = fa_date(skillcard_core::date::tehran_date(
        time::OffsetDateTime::now_utc(),
    ));
    html(DashboardPage {
        nav: Some(nav(&s, &p).await),
        role_label: a.role.label_fa(),
        today,
        todo,
        stock,
        outbox: part3.outbox,
    })
}

/// How many records of one queue a dashboard names; the rest wait on the list pages.
pub(crate) const TODO_ROWS: i64 = 50;

fn fa(n: u64) -> String {
    skillcard_core::text::fa_num(n)
}

#[derive(Template)]
#[template(path = "shipments.html")]
struct ShipmentsPage {
    nav: Option<Nav>,
    csrf: String,
    can_create: bool,
    provinces: Vec<ProvinceView>,
    shipments: Page<ShipmentView>,
    before: Option<i64>,
}

async fn shipments(
    State(s): State<AppState>,
    p: PageActor,
    Query(q): Query<PageQuery>,
) -> PageResult {
    let status = q.status(ShipmentStatus::parse)?;
    let shipments = s.store.shipment_page(&p.actor, status, q.cursor()).await?;
    html(ShipmentsPage {
        nav: Some(nav(&s, &p).await),
        csrf: p.csrf.clone(),
        can_create: can(&p.actor, Action::RecordShipment, None),
        provinces: s.store.provinces().await?,
        shipments,
        before: q.before,
    })
}

async fn create_shipment(
    State(s): State<AppState>,
    p: PageActor,
    Form(f): Form<RecordShipment>,
) -> PageResult {
    let sh = s.store.record_shipment(&p.actor, f.input()?).await?;
    Ok(Redirect::to(&format!("/shipments/{}", sh.id)).into_response())
}

#[derive(Template)]
#[template(path = "shipment.html")]
struct ShipmentPage {
    nav: Option<Nav>,
    csrf: String,
    me_name: String,
    s: ShipmentView,
}

async fn shipment(State(s): State<AppState>, p: PageActor, Path(id): Path<i64>) -> PageResult {
    let sh = s.store.shipment(&p.actor, id).await?;
    html(ShipmentPage {
        nav: Some(nav(&s, &p).await),
        csrf: p.csrf.clone(),
        me_name: p.actor.full_name.clone(),
        s: sh,
    })
}

async fn receive(
    State(s): State<AppState>,
    p: PageActor,
    Path(id): Path<i64>,
    Form(f): Form<ReceiveShipment>,
) -> PageResult {
    s.store.receive_shipment(&p.actor, id, f.input()?).await?;
    Ok(Redirect::to(&format!("/shipments/{id}")).into_response())
}

async fn notice(
    State(s): State<AppState>,
    p: PageActor,
    Path(id): Path<i64>,
    Form(f): Form<SendReceiptNotice>,
) -> PageResult {
    s.store
        .record_receipt_notice(&p.actor, id, f.input())
        .await?;
    Ok(Redirect::to(&format!("/shipments/{id}")).into_response())
}

#[derive(Template)]
#[template(path = "vault.html")]
struct VaultPage {
    nav: Option<Nav>,
    csrf: String,
    provinces: Vec<ProvinceView>,
    ledger: LedgerView,
    from: String,
    to: String,
    can_inspect: bool,
    inspections: Vec<InspectionView>,
}

#[derive(Deserialize)]
struct VaultQuery {
    province: Option<i64>,
    from: Option<String>,
    to: Option<String>,
}

async fn vault(State(s): State<AppState>, p: PageActor, Query(q): Query<VaultQuery>) -> PageResult {
    let visible: Vec<ProvinceView> = s
        .store
        .provinces()
        .await?
        .into_iter()
        .filter(|x| p.actor.scope().allows(x.id))
        .collect();
    let province = q
        .province
        .or(p.actor.province_id)
        .or(visible.first().map(|x| x.id))
        .ok_or(DomainError::NotFound { what: "province" })?;
    let from = forms::optional_date(q.from.as_deref())?;
    let to = forms::optional_date(q.to.as_deref())?;
    let ledger = s.store.ledger(&p.actor, province, from, to).await?;
    let inspections = s.store.inspections(&p.actor, province, 50).await?;
    let show = |d: Option<time::Date>| {
        d.and_then(|d| JalaliDate::from_gregorian(d).ok())
            .map(|j| j.to_string())
            .unwrap_or_default()
    };
    html(VaultPage {
        nav: Some(nav(&s, &p).await),
        csrf: p.csrf.clone(),
        provinces: visible,
        from: show(from),
        to: show(to),
        can_inspect: can(&p.actor, Action::RecordVaultInspection, Some(province)),
        ledger,
        inspections,
    })
}

async fn inspect(
    State(s): State<AppState>,
    p: PageActor,
    Form(f): Form<ForProvince<RecordVaultInspection>>,
) -> PageResult {
    s.store
        .record_inspection(&p.actor, f.province_id, f.command.input()?)
        .await?;
    Ok(Redirect::to(&format!("/vault?province={}", f.province_id)).into_response())
}

#[derive(Template)]
#[template(path = "requests.html")]
struct RequestsPage {
    nav: Option<Nav>,
    csrf: String,
    cap: Option<CapView>,
    can_request: bool,
    can_cap: bool,
    provinces: Vec<ProvinceView>,
    requests: Page<RequestView>,
    before: Option<i64>,
}

async fn requests(
    State(s): State<AppState>,
    p: PageActor,
    Query(q): Query<PageQuery>,
) -> PageResult {
    let a = &p.actor;
    let cap = match a.province_id {
        Some(pid) if can(a, Action::ViewCustody, Some(pid)) => {
            Some(s.store.cap(a, pid, None).await?)
        }
        _ => None,
    };
    html(RequestsPage {
        nav: Some(nav(&s, &p).await),
        csrf: p.csrf.clone(),
        can_request: a
            .province_id
            .is_some_and(|pid| can(a, Action::CreateMonthlyRequest, Some(pid))),
        can_cap: can(a, Action::SetRequestCap, None),
        provinces: s.store.provinces().await?,
        requests: s
            .store
            .request_page(a, q.status(RequestStatus::parse)?, q.cursor())
            .await?,
        before: q.before,
        cap,
    })
}

async fn create_request(
    State(s): State<AppState>,
    p: PageActor,
    Form(f): Form<CreateRequest>,
) -> PageResult {
    let r = s.store.create_request(&p.actor, f.input(&p.actor)?).await?;
    Ok(Redirect::to(&format!("/requests/{}", r.id)).into_response())
}

/// The province a page form names, beside the command the API takes with it in the path.
#[derive(Deserialize)]
struct ForProvince<T> {
    province_id: i64,
    #[serde(flatten)]
    command: T,
}

async fn baseline(
    State(s): State<AppState>,
    p: PageActor,
    Form(f): Form<ForProvince<SetBaseline>>,
) -> PageResult {
    s.store
        .set_baseline(&p.actor, f.province_id, f.command.input()?)
        .await?;
    Ok(Redirect::to("/requests").into_response())
}

async fn override_cap(
    State(s): State<AppState>,
    p: PageActor,
    Form(f): Form<ForProvince<OverrideCap>>,
) -> PageResult {
    let o = f.command.input()?;
    s.store
        .record_override(&p.actor, f.province_id, o.month, o.max_count, &o.reason)
        .await?;
    Ok(Redirect::to("/requests").into_response())
}

#[derive(Template)]
#[template(path = "request.html")]
struct RequestPage {
    nav: Option<Nav>,
    csrf: String,
    me_name: String,
    vault_stock: u64,
    r: RequestView,
}

async fn request(State(s): State<AppState>, p: PageActor, Path(id): Path<i64>) -> PageResult {
    let r = s.store.request(&p.actor, id).await?;
    let vault_stock = s
        .store
        .stock(&p.actor)
        .await?
        .into_iter()
        .find(|x| x.province_id == r.province_id)
        .map(|x| x.in_vault)
        .unwrap_or(0);
    html(RequestPage {
        nav: Some(nav(&s, &p).await),
        csrf: p.csrf.clone(),
        me_name: p.actor.full_name.clone(),
        vault_stock,
        r,
    })
}

async fn hand_over(
    State(s): State<AppState>,
    p: PageActor,
    Path(id): Path<i64>,
    Form(f): Form<HandOver>,
) -> PageResult {
    let h = s.store.hand_over(&p.actor, id, f.input()?).await?;
    Ok(Redirect::to(&format!("/handovers/{}", h.id)).into_response())
}

#[derive(Template)]
#[template(path = "handover.html")]
struct HandoverPage {
    nav: Option<Nav>,
    h: HandoverView,
}

async fn handover(State(s): State<AppState>, p: PageActor, Path(id): Path<i64>) -> PageResult {
    let h = s.store.handover(&p.actor, id).await?;
    html(HandoverPage {
        nav: Some(nav(&s, &p).await),
        h,
    })
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    nav: Option<Nav>,
    entries: Page<AuditView>,
    before: Option<i64>,
}

impl AuditPage {
    fn action<'a>(&self, code: &'a str) -> &'a str {
        skillcard_core::fa::audit_action(code)
    }

    fn entity<'a>(&self, code: &'a str) -> &'a str {
        skillcard_core::fa::audit_entity(code)
    }
}

async fn audit(State(s): State<AppState>, p: PageActor, Query(q): Query<PageQuery>) -> PageResult {
    let entries = s.store.audit_page(&p.actor, None, q.cursor()).await?;
    html(AuditPage {
        nav: Some(nav(&s, &p).await),
        entries,
        before: q.before,
    })
}

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage {
    nav: Option<Nav>,
    csrf: String,
    required: bool,
    done: bool,
    error: Option<String>,
}

async fn password_form(State(s): State<AppState>, p: PageActor) -> PageResult {
    let required = s.store.must_change_password(p.actor.user_id).await?;
    password_page(&s, &p, required, false, None, axum::http::StatusCode::OK).await
}

async fn password_page(
    s: &AppState,
    p: &PageActor,
    required: bool,
    done: bool,
    error: Option<String>,
    status: axum::http::StatusCode,
) -> PageResult {
    let body = PasswordPage {
        nav: (!required).then_some(nav(s, p).await),
        csrf: p.csrf.clone(),
        required,
        done,
        error,
    }
    .render()
    .map_err(AppError::from)?;
    Ok((status, Html(body)).into_response())
}

async fn change_password(
    State(s): State<AppState>,
    p: PageActor,
    crate::ratelimit::ClientIp(ip): crate::ratelimit::ClientIp,
    Form(f): Form<ChangePassword>,
) -> PageResult {
    match s
        .store
        .change_password(
            &p.actor,
            &f.current_password,
            &f.new_password,
            &ip.to_string(),
        )
        .await
    {
        Ok(()) => password_page(&s, &p, false, true, None, axum::http::StatusCode::OK).await,
        Err(e) => match e.domain() {
            Some(d) => {
                let required = s.store.must_change_password(p.actor.user_id).await?;
                let status = AppError::Domain(d.clone()).status();
                password_page(&s, &p, required, false, Some(d.message_fa()), status).await
            }
            None => Err(e.into()),
        },
    }
}

#[derive(Template)]
#[template(path = "second_factor.html")]
struct SecondFactorPage {
    nav: Option<Nav>,
    csrf: String,
    /// The user's role must have a second factor and has none yet.
    required: bool,
    enabled: bool,
    enrolment: Option<skillcard_db::totp::TotpEnrolment>,
    recovery_codes: Option<Vec<String>>,
    error: Option<String>,
}

impl SecondFactorPage {
    async fn for_user(s: &AppState, p: &PageActor) -> Result<Self, PageError> {
        let enabled = s.store.has_second_factor(p.actor.user_id).await?;
        let required = !enabled && s.config.second_factor_roles.contains(&p.actor.role);
        Ok(SecondFactorPage {
            nav: (!required).then_some(nav(s, p).await),
            csrf: p.csrf.clone(),
            required,
            enabled,
            enrolment: None,
            recovery_codes: None,
            error: None,
        })
    }

    fn respond(self, status: axum::http::StatusCode) -> PageResult {
        let body = self.render().map_err(AppError::from)?;
        Ok((status, Html(body)).into_response())
    }
}

async fn second_factor(State(s): State<AppState>, p: PageActor) -> PageResult {
    SecondFactorPage::for_user(&s, &p)
        .await?
        .respond(axum::http::StatusCode::OK)
}

async fn start_second_factor(State(s): State<AppState>, p: PageActor) -> PageResult {
    let mut page = SecondFactorPage::for_user(&s, &p).await?;
    page.enrolment = Some(s.store.start_totp(&p.actor).await?);
    page.respond(axum::http::StatusCode::OK)
}

async fn confirm_second_factor(
    State(s): State<AppState>,
    p: PageActor,
    crate::ratelimit::ClientIp(ip): crate::ratelimit::ClientIp,
    Form(f): Form<ConfirmSecondFactor>,
) -> PageResult {
    match s
        .store
        .confirm_totp(&p.actor, &f.otp, &ip.to_string())
        .await
    {
        Ok(codes) => {
            let mut page = SecondFactorPage::for_user(&s, &p).await?;
            page.recovery_codes = Some(codes);
            page.respond(axum::http::StatusCode::OK)
        }
        Err(e) => match e.domain() {
            Some(d) => {
                let mut page = SecondFactorPage::for_user(&s, &p).await?;
                page.error = Some(d.message_fa());
                page.respond(AppError::Domain(d.clone()).status())
            }
            None => Err(e.into()),
        },
    }
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    nav: Option<Nav>,
    csrf: String,
    current_session: i64,
    sessions: Vec<skillcard_db::SessionView>,
    tokens: Vec<skillcard_db::TokenView>,
    second_factor: bool,
    failed_before_last: i64,
}

/// The user's own account: where they are signed in, their API tokens, links to the password
/// and the second factor.
async fn account(
    State(s): State<AppState>,
    p: PageActor,
    crate::auth::CurrentSession(current): crate::auth::CurrentSession,
) -> PageResult {
    let (failed_before_last, _) = s.store.last_sign_in(p.actor.user_id).await?;
    let body = AccountPage {
        nav: Some(nav(&s, &p).await),
        csrf: p.csrf.clone(),
        current_session: current.unwrap_or(0),
        sessions: s.store.own_sessions(&p.actor).await?,
        tokens: s.store.api_tokens(&p.actor).await?,
        second_factor: s.store.has_second_factor(p.actor.user_id).await?,
        failed_before_last,
    }
    .render()
    .map_err(AppError::from)?;
    Ok(Html(body).into_response())
}

async fn end_session(
    State(s): State<AppState>,
    p: PageActor,
    crate::ratelimit::ClientIp(ip): crate::ratelimit::ClientIp,
    Path(id): Path<i64>,
) -> PageResult {
    s.store
        .end_own_session(&p.actor, id, &ip.to_string())
        .await?;
    Ok(Redirect::to("/account").into_response())
}

async fn revoke_token(
    State(s): State<AppState>,
    p: PageActor,
    crate::ratelimit::ClientIp(ip): crate::ratelimit::ClientIp,
    Path(id): Path<i64>,
) -> PageResult {
    s.store
        .revoke_api_token(&p.actor, id, &ip.to_string())
        .await?;
    Ok(Redirect::to("/account").into_response())
}

/// A user as the administrator's page shows them.
struct UserRow {
    username: String,
    full_name: String,
    role: &'static str,
    role_code: String,
    province: String,
    province_id: Option<i64>,
    active: bool,
    last_login_at: Option<String>,
}

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    nav: Option<Nav>,
    csrf: String,
    users: Vec<UserRow>,
    roles: Vec<(&'static str, &'static str)>,
    provinces: Vec<(i64, String)>,
    /// The one-time password just made by a reset, to hand over: (username, password).
    one_time: Option<(String, String)>,
    message: Option<String>,
}

async fn users_page(
    s: &AppState,
    p: &PageActor,
    one_time: Option<(String, String)>,
    message: Option<String>,
) -> PageResult {
    let provinces = s.store.provinces().await?;
    let name = |id: Option<i64>| match id {
        Some(id) => provinces
            .iter()
            .find(|x| x.id == id)
            .map_or_else(|| id.to_string(), |x| x.name_fa.clone()),
        None => "کشوری".to_string(),
    };
    let users = s
        .store
        .users(Some(&p.actor))
        .await?
        .into_iter()
        .map(|u| UserRow {
            role: Role::parse(&u.role).map_or("?", Role::label_fa),
            role_code: u.role.clone(),
            province: name(u.province_id),
            province_id: u.province_id,
            username: u.username,
            full_name: u.full_name,
            active: u.active == 1,
            last_login_at: u.last_login_at,
        })
        .collect();
    let reach: Vec<(i64, String)> = provinces
        .iter()
        .filter(|x| p.actor.scope().allows(x.id))
        .map(|x| (x.id, x.name_fa.clone()))
        .collect();
    let body = UsersPage {
        nav: Some(nav(s, p).await),
        csrf: p.csrf.clone(),
        users,
        roles: Role::ALL
            .iter()
            .map(|r| (r.as_str(), r.label_fa()))
            .collect(),
        provinces: reach,
        one_time,
        message,
    }
    .render()
    .map_err(AppError::from)?;
    Ok(Html(body).into_response())
}

/// The administrator's page: the users within reach, and what can be done to each.
async fn users(State(s): State<AppState>, p: PageActor) -> PageResult {
    authorize(&p.actor, Action::ManageUsers, None)?;
    users_page(&s, &p, None, None).await
}

async fn create_user(
    State(s): State<AppState>,
    p: PageActor,
    Form(f): Form<CreateUser>,
) -> PageResult {
    s.store.create_user(Some(&p.actor), f.input()?).await?;
    users_page(&s, &p, None, Some("کاربر ساخته شد.".into())).await
}

async fn disable_user(
    State(s): State<AppState>,
    p: PageActor,
    crate::ratelimit::ClientIp(ip): crate::ratelimit::ClientIp,
    Path(u): Path<String>,
) -> PageResult {
    s.store
        .set_user_active(AccountAdmin::User(&p.actor, &ip.to_string()), &u, false)
        .await?;
    users_page(
        &s,
        &p,
        None,
        Some(format!(
            "حساب «{u}» غیرفعال شد و همهٔ نشست‌ها و توکن‌هایش پایان یافت."
        )),
    )
    .await
}

async fn enable_user(
    State(s): State<AppState>,
    p: PageActor,
    crate::ratelimit::ClientIp(ip): crate::ratelimit::ClientIp,
    Path(u): Path<String>,
) -> PageResult {
    s.store
        .set_user_active(AccountAdmin::User(&p.actor, &ip.to_string()), &u, true)
        .await?;
    users_page(&s, &p, None, Some(format!("حساب «{u}» دوباره فعال شد."))).await
}

async fn reset_password(
    State(s): State<AppState>,
    p: PageActor,
    crate::ratelimit::ClientIp(ip): crate::ratelimit::ClientIp,
    Path(u): Path<String>,
) -> PageResult {
    let otp = s
        .store
        .reset_password(AccountAdmin::User(&p.actor, &ip.to_string()), &u)
        .await?;
    users_page(&s, &p, Some((u, otp.code)), None).await
}

async fn set_role(
    State(s): State<AppState>,
    p: PageActor,
    crate::ratelimit::ClientIp(ip): crate::ratelimit::ClientIp,
    Path(u): Path<String>,
    Form(f): Form<SetRole>,
) -> PageResult {
    let (role, province) = f.input()?;
    s.store
        .set_user_role(
            AccountAdmin::User(&p.actor, &ip.to_string()),
            &u,
            role,
            province,
        )
        .await?;
    users_page(&s, &p, None, Some(format!("نقش «{u}» تغییر کرد."))).await
}
