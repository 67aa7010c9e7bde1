//! A realistic demonstration dataset: HQ, one user per role in Isfahan, a received shipment with
//! discrepancies, a shipment still in transit, a vault inspection, a baseline, this month's
//! request and its handover. Every step goes through the same operations as real users, so the
//! demo is also audited and passes `check`.

use crate::{
    HandoverInput, InspectionInput, NewRequest, NewShipment, NewUser, ReceiptInput,
    ReceiptNoticeInput, Result, Store,
};
use skillcard_core::custody::{Baseline, VaultChecklist};
use skillcard_core::date::JalaliDate;
use skillcard_core::policy::{Actor, Role};
use skillcard_core::serial::SerialRange;

/// Every demo user's password.
pub const DEMO_PASSWORD: &str = "skillcard-demo";
/// The demo's province (Isfahan).
pub const DEMO_PROVINCE: i64 = 4;

/// The demo users: (username, full name, title, role).
pub const DEMO_USERS: [(&str, &str, &str, Role); 10] = [
    ("hq", "مریم احمدی", "کارشناس دفتر ارزشیابی مهارت", Role::Hq),
    ("security", "رضا کریمی", "مسئول حراست استان", Role::Security),
    (
        "head",
        "زهرا موسوی",
        "رئیس اداره سنجش و ارزشیابی مهارت",
        Role::AssessmentHead,
    ),
    (
        "officer",
        "علی رضایی",
        "کارشناس مسئول سنجش",
        Role::AssessmentOfficer,
    ),
    (
        "clerk",
        "فاطمه حسینی",
        "کارشناس صدور گواهینامه",
        Role::IssuanceClerk,
    ),
    (
        "examiner",
        "حسین جعفری",
        "کارشناس آزمون مرکز",
        Role::CenterExaminer,
    ),
    ("delivery", "نرگس صادقی", "مسئول تحویل", Role::DeliveryAgent),
    (
        "dg",
        "محمد نوری",
        "مدیر کل آموزش فنی و حرفه‌ای استان",
        Role::DirectorGeneral,
    ),
    (
        "board",
        "سارا قاسمی",
        "دبیر ستاد ارزشیابی استان",
        Role::AssessmentBoard,
    ),
    ("admin", "نیما کاظمی", "مدیر حساب‌های کاربری", Role::Admin),
];

/// Whether the database already holds the demo.
pub async fn has_demo(store: &Store) -> Result<bool> {
    let row: Option<(i64,)> = sqlx::query_as("SELECT id FROM users WHERE username = 'hq'")
        .fetch_optional(store.pool())
        .await?;
    Ok(row.is_some())
}

/// The demo's HQ user, who signs what `crate::bulk` loads on top of the demo.
pub async fn hq_actor(store: &Store) -> Result<Actor> {
    let (id,): (i64,) = sqlx::query_as("SELECT id FROM users WHERE username = 'hq'")
        .fetch_optional(store.pool())
        .await?
        .ok_or(crate::StoreError::Corrupt(
            "the demo's hq user is missing".into(),
        ))?;
    store.actor(id).await
}

fn r(a: u64, b: u64) -> Result<SerialRange> {
    Ok(SerialRange::new(a, b)?)
}

/// Fills an empty database with the demo; does nothing if it is there already.
pub async fn seed(store: &Store) -> Result<bool> {
    if has_demo(store).await? {
        return Ok(false);
    }
    let mut actors = Vec::new();
    for (username, full_name, title, role) in DEMO_USERS {
        let province_id = if role.is_national() || role == Role::Admin {
            None
        } else {
            Some(DEMO_PROVINCE)
        };
        let id = store
            .create_user(
                None,
                NewUser {
                    username: username.into(),
                    password: DEMO_PASSWORD.into(),
                    full_name: full_name.into(),
                    title: title.into(),
                    role,
                    province_id,
                },
            )
            .await?;
        actors.push(store.actor(id).await?);
    }
    let by = |role: Role| -> Result<&Actor> {
        actors
            .iter()
            .find(|a| a.role == role)
            .ok_or(crate::StoreError::Corrupt("demo user missing".into()))
    };
    let (hq, security, head) = (
        by(Role::Hq)?,
        by(Role::Security)?,
        by(Role::AssessmentHead)?,
    );

    let first = store
        .record_shipment(
            hq,
            NewShipment {
                province_id: DEMO_PROVINCE,
                ref_no: "۱۴۰۵-۰۹۱".into(),
                carrier: "پست پیشتاز — واحد حمل ستاد".into(),
                declared_count: 2000,
                ranges: vec![r(100_001, 101_000)?, r(101_001, 102_000)?],
            },
        )
        .await?;
    store
        .receive_shipment(
            security,
            first.id,
            ReceiptInput {
                counted: 1993,
                missing: vec![r(100_051, 100_055)?],
                damaged: vec![r(101_500, 101_501)?],
                deliverer_name: "کامران یزدانی".into(),
                deliverer_title: "مأمور حمل ستاد".into(),
                receiver_name: security.full_name.clone(),
                receiver_title: "مسئول حراست استان".into(),
                remarks: "دو کارت با لبه شکسته؛ پنج کارت در بسته نبود.".into(),
            },
        )
        .await?;
    store
        .record_receipt_notice(
            security,
            first.id,
            ReceiptNoticeInput {
                letter_no: "۴۵/۱۲۳۴".into(),
                signer_name: "محمد نوری".into(),
                signer_title: "مدیر کل".into(),
            },
        )
        .await?;
    store
        .record_shipment(
            hq,
            NewShipment {
                province_id: DEMO_PROVINCE,
                ref_no: "۱۴۰۵-۰۹۲".into(),
                carrier: "پست پیشتاز".into(),
                declared_count: 1000,
                ranges: vec![r(102_001, 103_000)?],
            },
        )
        .await?;
    store
        .record_inspection(
            security,
            DEMO_PROVINCE,
            InspectionInput {
                temperature_c: 21.5,
                humidity_pct: 42.0,
                checklist: VaultChecklist {
                    no_direct_light: true,
                    dust_free: true,
                    no_magnetic_fields: true,
                    no_pressure_on_cards: true,
                    serial_order: true,
                    safety_systems: true,
                    inventory_form_current: true,
                },
                notes: "بازدید ماهانه".into(),
            },
        )
        .await?;
    let this_month = JalaliDate::from_gregorian(skillcard_core::date::tehran_date(
        time::OffsetDateTime::now_utc(),
    ))?
    .month_of();
    store
        .set_baseline(
            hq,
            DEMO_PROVINCE,
            Baseline {
                monthly: 600,
                through: this_month.next().next(),
            },
        )
        .await?;
    let request = store
        .create_request(
            head,
            NewRequest {
                province_id: DEMO_PROVINCE,
                count: 500,
                representative: "علی رضایی".into(),
            },
        )
        .await?;
    store
        .hand_over(
            security,
            request.id,
            HandoverInput {
                count: Some(500),
                ranges: None,
                letter_no: "ح/۸۸۱".into(),
                deliverer_name: security.full_name.clone(),
                deliverer_title: "مسئول حراست استان".into(),
                receiver_name: "علی رضایی".into(),
                receiver_title: "کارشناس مسئول سنجش".into(),
                remarks: String::new(),
            },
        )
        .await?;
    Ok(true)
}
