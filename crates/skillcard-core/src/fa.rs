//! Every Persian sentence the domain shows a user, in one place so that it can be reviewed.
//! (Page templates hold the rest of the Persian text; see `skillcard-web/templates`.)

use crate::cases::{CaseKind, CaseStatus};
use crate::custody::{RequestStatus, ShipmentStatus};
use crate::error::DomainError;
use crate::exam::{CentreKind, Decision, ListStatus};
use crate::issuance::{FeeKind, PaymentSource};
use crate::notice::{Delivery, NoticeKind, NoticeStatus};
use crate::printing::PrintStatus;
use crate::text::fa_num;
use crate::workflow::Step;

pub fn error_message(e: &DomainError) -> String {
    use DomainError::*;
    match e {
        MalformedNumber { input } => format!("«{input}» یک عدد معتبر نیست."),
        SerialOutOfBounds { value } => {
            format!("شماره سریال {} خارج از محدوده مجاز است.", fa_num(value))
        }
        ReversedRange { first, last } => format!(
            "بازه سریال نادرست است: «از» ({}) بزرگ‌تر از «تا» ({}) است.",
            fa_num(first),
            fa_num(last)
        ),
        RangeTooLarge { first, last, max } => format!(
            "بازه {} تا {} بیش از حد مجاز ({} کارت) است.",
            fa_num(first),
            fa_num(last),
            fa_num(max)
        ),
        OverlappingRanges { a, b } => format!(
            "بازه‌های {} و {} با هم هم‌پوشانی دارند.",
            crate::text::persian_digits(a),
            crate::text::persian_digits(b)
        ),
        TooManyCards { count, max } => format!(
            "تعداد کارت‌ها ({}) بیش از حد مجاز یک عملیات ({}) است.",
            fa_num(count),
            fa_num(max)
        ),
        InvalidDate { input } => format!("تاریخ «{input}» معتبر نیست (نمونه: ۱۴۰۵/۰۹/۰۳)."),
        InvalidNationalId { input } => format!("کد ملی «{input}» معتبر نیست."),
        Required { field } => format!("پر کردن «{}» الزامی است.", field_name(field)),
        TooLong { field, max } => {
            format!("«{}» بیش از {} نویسه است.", field_name(field), fa_num(max))
        }
        InvalidValue { field } => format!("مقدار «{}» معتبر نیست.", field_name(field)),
        ForbiddenCharacter { field, .. } => format!(
            "«{}» نویسه‌ای نامجاز (نویسهٔ کنترلی یا تغییر جهت متن) دارد؛ آن را حذف کنید و دوباره بنویسید.",
            field_name(field)
        ),
        InvisibleText { field } => format!(
            "«{}» فقط نویسه‌های نامرئی دارد؛ مقدار آن را بنویسید.",
            field_name(field)
        ),
        UnreadableImage { field } => format!(
            "«{}» تصویر JPEG یا PNG خوانایی نیست.",
            field_name(field)
        ),
        ImageTooLarge {
            field,
            width,
            height,
            max_side,
            ..
        } => format!(
            "ابعاد «{}» ({} در {} نقطه) بیش از حد مجاز است؛ هر ضلع حداکثر {} نقطه. تصویر را کوچک‌تر کنید.",
            field_name(field),
            fa_num(width),
            fa_num(height),
            fa_num(max_side)
        ),
        DeclaredCountMismatch { declared, actual } => format!(
            "تعداد اعلام‌شده ({}) با مجموع بازه‌های سریال ({}) برابر نیست.",
            fa_num(declared),
            fa_num(actual)
        ),
        ReceivedCountMismatch { counted, expected } => format!(
            "تعداد شمارش‌شده ({}) با تعداد محموله پس از کسر کسری و آسیب‌دیده‌ها ({}) برابر نیست؛ سریال‌های کسری یا آسیب‌دیده را ثبت کنید.",
            fa_num(counted),
            fa_num(expected)
        ),
        AlreadyRecorded { what } => format!("{} پیش‌تر ثبت شده است.", field_name(what)),
        SerialsAlreadyKnown { range } => format!(
            "سریال‌های {} پیش‌تر در سامانه ثبت شده‌اند.",
            crate::text::persian_digits(range)
        ),
        NotInShipment { range } => format!(
            "سریال‌های {} جزو این محموله نیستند.",
            crate::text::persian_digits(range)
        ),
        ShipmentNotInTransit { id } => {
            format!("محموله شماره {} پیش‌تر تحویل گرفته شده است.", fa_num(id))
        }
        OverCap { requested, cap } => format!(
            "تعداد درخواستی ({}) بیش از سقف مجاز این ماه ({}) است؛ سقف برابر عملکرد صدور یک ماه است (تبصره ۲).",
            fa_num(requested),
            fa_num(cap)
        ),
        RequestExists { month } => format!(
            "برای ماه {} پیش‌تر درخواست ثبت شده است؛ درخواست ماهانه است (تبصره ۲).",
            crate::date::JalaliMonth::from_key(*month)
                .map(|m| m.label())
                .unwrap_or_else(|_| fa_num(month))
        ),
        NoCapBaseline => "سقف درخواست این ماه تعیین نشده است: ستاد باید سقف پایه استان را ثبت کند.".into(),
        RequestNotOpen { id } => format!("درخواست شماره {} باز نیست.", fa_num(id)),
        HandoverExceedsRequest { handing, remaining } => format!(
            "تعداد تحویلی ({}) بیش از باقی‌مانده درخواست ({}) است.",
            fa_num(handing),
            fa_num(remaining)
        ),
        InsufficientVaultStock { requested, available } => format!(
            "موجودی خزانه ({}) برای تحویل {} کارت کافی نیست.",
            fa_num(available),
            fa_num(requested)
        ),
        CardsNotInVault { range } => format!(
            "کارت‌های {} در خزانه این استان نیستند.",
            crate::text::persian_digits(range)
        ),
        Forbidden { .. } => "شما اجازه انجام این کار را ندارید.".into(),
        WrongProvince => "این اطلاعات متعلق به استان دیگری است.".into(),
        NotFound { what } => format!("{} پیدا نشد.", field_name(what)),
        ListLocked { .. } => "فهرست آزمون به اداره سنجش ارسال شده و دیگر قابل تغییر نیست.".into(),
        CorrectionClosed { exam_date } => format!(
            "مشخصات داوطلب فقط تا روز پیش از آزمون قابل اصلاح است (تاریخ آزمون: {}؛ بند ۹-۱). برای اصلاح پس از آن، درخواست تعویض کارت به کمیسیون سنجش استان برود (تبصره ۴).",
            crate::date::fa_date(*exam_date)
        ),
        WrongListStatus { status, .. } => format!("این کار در وضعیت کنونی فهرست آزمون ({}) ممکن نیست.", list_status(*status)),
        UnscoredEntries { count } => format!("برای {} نفر هنوز نمره عملی ثبت نشده است.", fa_num(count)),
        InvalidRows { rows } => {
            let list: Vec<String> = rows.iter().take(20).map(|r| format!("ردیف {}: {}", fa_num(r.row), r.message)).collect();
            format!("{} ردیف نادرست است و هیچ ردیفی ثبت نشد. {}", fa_num(rows.len()), list.join("؛ "))
        }
        WrongAmount { paid, fee } => format!(
            "مبلغ پرداختی ({} ریال) با تعرفه صدور ({} ریال) برابر نیست.",
            fa_num(paid),
            fa_num(fee)
        ),
        BadSignature => "امضای پیام درگاه پرداخت معتبر نیست.".into(),
        NotApproved => "نمره عملی این داوطلب هنوز به تأیید رئیس اداره سنجش نرسیده است (بند ۶-۴).".into(),
        NotPassed => "این داوطلب حد نصاب قبولی را کسب نکرده است.".into(),
        NotPaid => "هزینه صدور گواهینامه پرداخت نشده است (بند ۶-۵).".into(),
        Conflict => "هم‌زمان کاربر دیگری همین کارت‌ها را تغییر داد؛ صفحه را تازه کنید و دوباره تلاش کنید.".into(),
        PrintInProgress { print_id } => format!(
            "برای این گواهینامه چاپ کارت شماره {} در جریان است؛ آن را ادامه دهید یا معیوب اعلام کنید.",
            fa_num(print_id)
        ),
        NotPrinting { status, .. } => format!(
            "این کارت دیگر در مرحله چاپ نیست ({}).",
            print_status(*status)
        ),
        CardNotInOfficeStock { serial } => format!(
            "کارت با سریال {} در موجودی اداره سنجش این استان نیست یا پیش‌تر مصرف شده است.",
            fa_num(serial)
        ),
        NoOfficeStock => "اداره سنجش کارت خامی در موجودی ندارد؛ ابتدا از حراست تحویل بگیرید (بند ۴-۳).".into(),
        ChipMismatch { reason } => format!(
            "اطلاعات خوانده‌شده از تراشه با گواهینامه امضاشده این کارت یکسان نیست ({}). تراشه را دوباره بنویسید یا کارت را معیوب اعلام کنید.",
            chip_mismatch_reason(reason)
        ),
        NotInspected => "بازبینی کارت چاپ‌شده هنوز با نتیجه «سالم» ثبت نشده است (بند ۶-۷).".into(),
        ChipNotWritten => "تراشه کارت هنوز نوشته و بازخوانی نشده است (بند ۶-۸).".into(),
        NoSigningKey => "کلید امضای فعالی روی سرور نیست؛ مسئول فنی باید با «skillcard keys generate» کلید بسازد.".into(),
        NotDeliverable { status, .. } => format!(
            "این کارت ({}) کارت ثبت‌شده‌ای در انتظار تحویل به دارنده نیست (بند ۷).",
            print_status(*status)
        ),
        AlreadyListed { list_id, .. } => format!(
            "این کارت پیش‌تر در فهرست تحویل شماره {} آمده است.",
            fa_num(list_id)
        ),
        NotInService { status, .. } => format!(
            "این کارت ({}) کارت ثبت‌شده و معتبری نیست.",
            print_status(*status)
        ),
        WrongCaseStatus { status, expected } => format!(
            "این کار در وضعیت کنونی پرونده ({}) ممکن نیست؛ پرونده باید در وضعیت «{}» باشد.",
            case_status(*status),
            case_status(*expected)
        ),
        ReprintNotAuthorized => "کارت ثبت‌شده این گواهینامه مخدوش یا باطل شده است و دفتر ارزشیابی مهارت هنوز امکان چاپ مجدد را فراهم نکرده است (بند ۸-۱-۲).".into(),
        InvalidCredentials => "نام کاربری یا گذرواژه نادرست است.".into(),
        Unauthenticated => "ابتدا وارد سامانه شوید.".into(),
        CsrfMismatch => "نشست فرم منقضی شده است؛ صفحه را تازه کنید و دوباره بفرستید.".into(),
        LoginThrottled { retry_after_secs } => format!(
            "به دلیل چند ورود ناموفق پیاپی، ورود موقتاً بسته است؛ {} ثانیه دیگر دوباره تلاش کنید.",
            fa_num(retry_after_secs)
        ),
        WeakPassword { reason } => match *reason {
            "too_short" => format!(
                "گذرواژه باید دست‌کم {} نویسه باشد.",
                fa_num(crate::account::MIN_PASSWORD_CHARS)
            ),
            "too_long" => format!(
                "گذرواژه نباید بیش از {} نویسه باشد.",
                fa_num(crate::account::MAX_PASSWORD_CHARS)
            ),
            "like_username" => "گذرواژه نباید نام کاربری را در خود داشته باشد.".into(),
            "control_character" => "گذرواژه نویسهٔ نامجاز دارد.".into(),
            _ => "این گذرواژه بسیار رایج یا ساده است و به‌آسانی حدس زده می‌شود؛ گذرواژهٔ دیگری برگزینید.".into(),
        },
        OtpRequired => "ورود به این حساب دومرحله‌ای است: کد شش‌رقمی برنامهٔ احراز هویت (یا یکی از کدهای بازیابی) را هم وارد کنید.".into(),
        SecondFactorRequired => "برای نقش شما ورود دومرحله‌ای الزامی است؛ پیش از هر کاری آن را فعال کنید.".into(),
        PasswordChangeRequired => "پیش از هر کاری باید گذرواژهٔ خود را تغییر دهید.".into(),
        TokenExpired => "اعتبار این توکن به پایان رسیده است؛ توکن تازه بگیرید.".into(),
        NoQrInPhoto => "در عکس، رمزینه (QR) خوانایی پیدا نشد؛ از نزدیک‌تر، با نور کافی و بدون لرزش عکس بگیرید یا متن رمزینه را بچسبانید.".into(),
    }
}

/// The head's decision on a practical score, in Persian.
pub fn decision(decision: Decision) -> &'static str {
    match decision {
        Decision::Pending => "در انتظار تصمیم",
        Decision::Approved => "تأییدشده",
        Decision::Rejected => "ردشده",
    }
}

/// Whether a candidate passed, in Persian (empty while the practical score is missing).
pub fn pass_result(passes: Option<bool>) -> &'static str {
    match passes {
        Some(true) => "قبول",
        Some(false) => "مردود",
        None => "",
    }
}

/// The Persian name of an exam list's status.
pub fn list_status(s: ListStatus) -> &'static str {
    match s {
        ListStatus::Draft => "پیش‌نویس",
        ListStatus::Submitted => "ارسال‌شده",
        ListStatus::Checked => "بررسی‌شده",
        ListStatus::Returned => "برگشت‌خورده",
    }
}

/// The Persian name of a shipment's status.
pub fn shipment_status(s: ShipmentStatus) -> &'static str {
    match s {
        ShipmentStatus::InTransit => "در راه",
        ShipmentStatus::Received => "دریافت‌شده",
    }
}

/// The Persian name of a monthly request's status.
pub fn request_status(s: RequestStatus) -> &'static str {
    match s {
        RequestStatus::Open => "باز",
        RequestStatus::Fulfilled => "تحویل کامل",
    }
}

/// A test centre's kind.
pub fn centre_kind(k: CentreKind) -> &'static str {
    match k {
        CentreKind::Public => "مرکز دولتی",
        CentreKind::Private => "آموزشگاه آزاد",
    }
}

/// What a fee is for.
pub fn fee_kind(k: FeeKind) -> &'static str {
    match k {
        FeeKind::Issuance => "صدور گواهینامه",
        FeeKind::Replacement => "صدور المثنی",
    }
}

/// How a fee was paid.
pub fn payment_source(s: PaymentSource) -> &'static str {
    match s {
        PaymentSource::Gateway => "درگاه پرداخت",
        PaymentSource::BankReceipt => "فیش بانکی",
    }
}

/// What a notice to an applicant is about.
pub fn notice_kind(k: NoticeKind) -> &'static str {
    match k {
        NoticeKind::CardReady => "آماده بودن کارت برای تحویل",
        NoticeKind::OverduePickup => "یادآوری دریافت کارت (بند ۵-۴)",
        NoticeKind::FeeDue => "پرداخت هزینه تعویض (تبصره ۴)",
    }
}

/// The Persian name of a notice's place in the outbox.
pub fn notice_status(s: NoticeStatus) -> &'static str {
    match s {
        NoticeStatus::Pending => "در صف ارسال",
        NoticeStatus::Sent => "ارسال‌شده",
        NoticeStatus::Failed => "ناموفق",
    }
}

/// An audit record's action, as people read it on the audit page; an action without a name
/// here shows as its code (so a new one is never hidden).
pub fn audit_action(action: &str) -> &str {
    match action {
        "shipment.dispatch" => "ارسال محموله از ستاد",
        "shipment.receive" => "دریافت محموله (بند ۱)",
        "shipment.receipt_notice" => "اعلام وصول محموله به ستاد (بند ۲)",
        "vault.inspect" => "بازرسی خزانه (تبصره ۱)",
        "request.baseline" => "ثبت مبنای سقف درخواست",
        "request.create" => "درخواست ماهانه کارت (بند ۴-۱)",
        "request.override" => "مجوز درخواست بیش از سقف",
        "handover.create" => "تحویل کارت از خزانه (بند ۴-۳)",
        "trade.create" => "ثبت حرفه",
        "centre.create" => "ثبت مرکز آزمون",
        "fee.set" => "تعیین تعرفه",
        "pass_policy.set" => "تعیین حد نصاب قبولی",
        "exam_list.create" => "ایجاد فهرست آزمون",
        "exam_list.scores" => "ثبت نمره‌ها",
        "exam_list.submitted" => "ارسال فهرست به اداره سنجش (بند ۶-۲)",
        "exam_list.checked" => "تأیید فهرست در اداره سنجش (بند ۶-۳)",
        "exam_list.returned" => "بازگرداندن فهرست به مرکز (بند ۶-۳)",
        "exam_list.draft" => "بازگشت فهرست به پیش‌نویس",
        "candidate.register" => "ثبت داوطلب",
        "candidate.correct" => "اصلاح مشخصات داوطلب (بند ۹-۱)",
        "candidate.contact" => "ثبت راه تماس متقاضی",
        "score.approved" => "تأیید نمره (بند ۶-۴)",
        "score.rejected" => "رد نمره (بند ۶-۴)",
        "score.pending" => "بازگشت نمره به انتظار تصمیم",
        "payment.record" => "ثبت پرداخت هزینه (بند ۶-۵)",
        "certificate.issue" => "صدور گواهینامه (بند ۶-۶)",
        "card.print.start" => "آغاز چاپ کارت (بند ۶-۸)",
        "card.print.inspect" => "بازبینی چاپ کارت (بند ۶-۷)",
        "card.print.spoil" => "ابطال کارت معیوب در چاپ (بند ۶-۷)",
        "card.print.chip" => "نوشتن تراشه کارت (بند ۶-۸)",
        "card.register" => "ثبت سریال کارت (بند ۶-۹)",
        "card.deliver" => "تحویل کارت به دارنده (بند ۷)",
        "card.damage" => "ثبت خرابی کارت (بند ۸)",
        "card.void" => "ابطال کارت برای تعویض (تبصره ۴)",
        "card.send_to_hq" => "ارسال کارت به ستاد (بند ۸-۱-۱)",
        "card.at_hq" => "رسیدن کارت به ستاد",
        "delivery.list.create" => "ایجاد فهرست تحویل (فرم ۵)",
        "delivery.list.scan" => "بارگذاری فرم ۵ امضاشده",
        "case.damage.open" => "گشودن پرونده خرابی (بند ۸)",
        "case.damage.review" => "بررسی پرونده خرابی",
        "case.replacement.request" => "درخواست تعویض کارت (تبصره ۴)",
        "case.replacement.decide" => "تصمیم درباره درخواست تعویض",
        "case.replacement.void" => "ابطال کارت پیشین (تبصره ۴)",
        "case.replacement.pay" => "پرداخت هزینه تعویض (تبصره ۴)",
        "case.send_to_hq" => "ارسال پرونده به ستاد (بند ۸-۱-۱)",
        "case.at_hq" => "رسیدن پرونده به ستاد",
        "case.authorize_reprint" => "مجوز چاپ دوباره (بند ۸-۱-۲)",
        "notice.delivery" => "گزارش رسیدن پیامک",
        "login.success" => "ورود به سامانه",
        "login.failure" => "ورود ناموفق",
        "login.lockout" => "قفل شدن ورود پس از تلاش‌های ناموفق",
        "session.end" => "خروج از سامانه",
        "token.issue" => "صدور توکن دسترسی",
        "token.revoke" => "ابطال توکن دسترسی",
        "user.create" => "ایجاد کاربر",
        "user.disable" => "غیرفعال کردن کاربر",
        "user.enable" => "فعال کردن کاربر",
        "user.role" => "تغییر نقش کاربر",
        "user.password_change" => "تغییر گذرواژه",
        "user.password_reset" => "بازنشانی گذرواژه",
        "user.totp_enable" => "فعال کردن ورود دومرحله‌ای",
        "log.backfill" => "ساخت دفتر شفافیت برای کارت‌های پیشین",
        "bulk.load" => "بارگذاری داده‌های تاریخی",
        other => other,
    }
}

/// What an audit record is about, as people read it; unknown kinds show as their code.
pub fn audit_entity(entity: &str) -> &str {
    match entity {
        "shipment" => "محموله",
        "card" => "کارت",
        "card_print" => "چاپ کارت",
        "case" => "پرونده",
        "candidate" => "داوطلب",
        "exam_list" => "فهرست آزمون",
        "exam_entry" => "ردیف فهرست آزمون",
        "payment" => "پرداخت",
        "certificate" => "گواهینامه",
        "user" => "کاربر",
        "session" => "نشست",
        "api_token" => "توکن دسترسی",
        "notification" => "اعلان",
        "request" | "monthly_request" => "درخواست ماهانه",
        "handover" => "تحویل از خزانه",
        "vault_inspection" => "بازرسی خزانه",
        "delivery_list" => "فهرست تحویل",
        "fee" => "تعرفه",
        "trade" => "حرفه",
        "centre" => "مرکز آزمون",
        "pass_policy" => "حد نصاب قبولی",
        "province" => "استان",
        "log" => "دفتر شفافیت",
        other => other,
    }
}

/// What the SMS provider reported about a sent notice.
pub fn delivery(d: Delivery) -> &'static str {
    match d {
        Delivery::Delivered => "به گوشی رسید",
        Delivery::Undelivered => "به گوشی نرسید",
    }
}

/// The public verification's answer, for people.
pub fn verification(result: &str) -> &'static str {
    match result {
        "valid" => "این گواهینامه و همین کارت معتبر است.",
        "void" => "این کارت باطل است و اعتبار ندارد.",
        "replaced" => "این کارت برای تعویض گواهینامه باطل شده و اعتبار ندارد.",
        "damaged" => "این کارت مخدوش اعلام شده و اعتبار ندارد.",
        "damaged_reissued" => "این کارت مخدوش اعلام شده و گواهینامه روی کارت جدیدی دوباره صادر شده است؛ این کارت اعتبار ندارد.",
        "not_issued" => "این کارت هنوز صادر و ثبت نشده است و اعتبار ندارد.",
        "unknown" => "گواهینامه‌ای با این مشخصات یافت نشد.",
        "bad_signature" => "امضای این کارت معتبر نیست: اطلاعات آن دست‌کاری شده است.",
        "malformed" => "متن خوانده‌شده، کد یک گواهینامه مهارت نیست.",
        "unknown_key" => "این کارت با کلیدی امضا شده که سازمان نمی‌شناسد.",
        "revoked_key" => "کلید امضای این کارت باطل شده است؛ کارت اعتبار ندارد.",
        "expired_key" => "این کارت پس از پایان اعتبار کلید امضا، امضا شده است.",
        "chip_mismatch" => "اطلاعات این کارت به تراشه دیگری تعلق دارد.",
        _ => "نتیجه بررسی نامشخص است.",
    }
}

/// The Persian name of a card print's status.
pub fn print_status(s: PrintStatus) -> &'static str {
    match s {
        PrintStatus::Printing => "در حال چاپ",
        PrintStatus::Bound => "ثبت‌شده",
        PrintStatus::Spoiled => "معیوب هنگام چاپ",
        PrintStatus::Damaged => "مخدوش",
        PrintStatus::Void => "باطل (تعویض)",
    }
}

/// The Persian name of a damage or replacement case's status.
pub fn case_status(s: CaseStatus) -> &'static str {
    match s {
        CaseStatus::Open => "گشوده (در دست بررسی)",
        CaseStatus::Reviewed => "بررسی‌شده (صورتجلسه آماده امضا)",
        CaseStatus::Requested => "درخواست ثبت‌شده",
        CaseStatus::Approved => "تأییدشده در ستاد ارزشیابی استان",
        CaseStatus::Rejected => "ردشده",
        CaseStatus::Voided => "کارت قبلی باطل شد (در انتظار پرداخت هزینه تعویض)",
        CaseStatus::Paid => "هزینه تعویض پرداخت شد",
        CaseStatus::SentToHq => "ارسال‌شده به دفتر ارزشیابی مهارت",
        CaseStatus::AtHq => "دریافت‌شده در ستاد",
        CaseStatus::Authorized => "چاپ مجدد مجاز شد",
    }
}

/// The Persian name of a case's kind.
pub fn case_kind(s: CaseKind) -> &'static str {
    match s {
        CaseKind::Damage => "گواهینامه مخدوش",
        CaseKind::Replacement => "تعویض گواهینامه",
    }
}

/// A step a record can take next, as a to-do or a "waiting for" line.
pub fn step(s: Step) -> &'static str {
    match s {
        Step::ReceiveShipment => "ثبت صورت‌جلسه دریافت محموله (فرم ۱)",
        Step::SendReceiptNotice => "نامه اعلام وصول به ستاد",
        Step::HandOver => "تحویل کارت از خزانه (فرم ۴)",
        Step::RegisterCandidate => "ثبت داوطلب",
        Step::CorrectCandidate => "اصلاح مشخصات داوطلب",
        Step::RecordScores => "ثبت نمرات عملی",
        Step::SubmitList => "ارسال فهرست به اداره سنجش",
        Step::CheckList => "بررسی فهرست ارسالی",
        Step::DecideScore => "تصمیم درباره نمره عملی",
        Step::RecordPayment => "ثبت پرداخت هزینه صدور",
        Step::IssueCertificate => "صدور گواهینامه",
        Step::StartPrint => "شروع چاپ کارت",
        Step::RecordInspection => "بازبینی کارت چاپ‌شده",
        Step::WriteChip => "نوشتن و بازخوانی تراشه",
        Step::RegisterSerial => "ثبت سریال کارت",
        Step::SpoilPrint => "اعلام کارت معیوب هنگام چاپ",
        Step::OpenDamageCase => "گزارش کارت مخدوش",
        Step::RequestReplacement => "درخواست تعویض",
        Step::ListForDelivery => "افزودن به فهرست تحویل",
        Step::DeliverCard => "تحویل کارت به دارنده",
        Step::UploadListScan => "بارگذاری تصویر فرم ۵ امضاشده",
        Step::ReviewDamage => "بررسی علت و تنظیم صورتجلسه (فرم ۶)",
        Step::DecideReplacement => "تصمیم ستاد ارزشیابی استان درباره درخواست تعویض",
        Step::VoidCard => "ابطال کارت قبلی",
        Step::PayReplacementFee => "ثبت پرداخت هزینه تعویض",
        Step::SendToHq => "نامه مدیر کل و ارسال کارت‌ها به ستاد",
        Step::RecordArrival => "ثبت دریافت نامه و کارت‌ها در ستاد",
        Step::AuthorizeReprint => "صدور مجوز چاپ مجدد",
    }
}

/// What a record waits for, and from whom: a step the reader cannot take.
pub fn waiting_for(s: Step) -> String {
    let who: Vec<&str> = s.roles().iter().map(|r| r.label_fa()).collect();
    format!("در انتظار {} — {}", step(s), who.join(" یا "))
}

/// The Persian name of a cause of damage.
pub fn damage_cause(s: &str) -> &str {
    match s {
        "print_defect" => "نقص چاپ",
        "chip_fault" => "خرابی تراشه",
        "physical" => "آسیب فیزیکی",
        "data_error" => "مغایرت اطلاعات چاپ‌شده",
        "other" => "سایر",
        other => other,
    }
}

/// How a card went to its holder, in Persian.
pub fn delivery_method(s: &str) -> &str {
    match s {
        "in_person" => "حضوری",
        "post" => "پست",
        other => other,
    }
}

fn chip_mismatch_reason(r: &str) -> &str {
    match r {
        "uid" => "شناسه تراشه متفاوت است",
        "payload" => "محتوای تراشه متفاوت است",
        "signature" => "امضا معتبر نیست",
        other => other,
    }
}

/// Persian names of the fields and things errors refer to.
pub fn field_name(field: &str) -> &str {
    match field {
        "ranges" => "بازه‌های سریال",
        "declared_count" => "تعداد اعلام‌شده",
        "carrier" => "حمل‌کننده",
        "ref_no" => "شماره محموله",
        "deliverer_name" => "نام تحویل‌دهنده",
        "deliverer_title" => "سمت تحویل‌دهنده",
        "receiver_name" => "نام تحویل‌گیرنده",
        "receiver_title" => "سمت تحویل‌گیرنده",
        "letter_no" => "شماره نامه",
        "date" => "تاریخ",
        "count" => "تعداد",
        "representative" => "نماینده",
        "reason" => "دلیل",
        "changes" => "دست‌کم یک مشخصهٔ تازه",
        "temperature" => "دما",
        "humidity" => "رطوبت",
        "username" => "نام کاربری",
        "password" => "گذرواژه",
        "full_name" => "نام و نام خانوادگی",
        "role" => "نقش",
        "province" => "استان",
        "shipment" => "محموله",
        "request" => "درخواست",
        "handover" => "تحویل",
        "user" => "کاربر",
        "document" => "سند",
        "baseline" => "سقف پایه",
        "receipt_notice" => "اعلام وصول به ستاد",
        "override" => "مجوز افزایش سقف",
        "month" => "ماه",
        "counted" => "تعداد شمارش‌شده",
        "letter" => "نامه",
        "score" => "نمره",
        "photo" => "عکس",
        "label" => "نام توکن",
        "expires_in_days" => "مدت اعتبار توکن (روز)",
        "input" => "ورودی",
        "otp" => "کد تأیید دومرحله‌ای",
        "current_password" => "گذرواژهٔ کنونی",
        "kind" => "نوع",
        "confirm" => "تأیید تطبیق اطلاعات با برگه آزمون",
        "reference" => "شماره پیگیری پرداخت",
        "fee" => "تعرفه",
        "amount" => "مبلغ",
        "weight" => "ضریب",
        "entries" => "داوطلبان فهرست",
        "remarks" => "توضیحات",
        "decision" => "تصمیم درباره نمره",
        "trade" => "رشته (استاندارد)",
        "centre" => "مرکز آزمون",
        "candidate" => "داوطلب",
        "exam_list" => "فهرست آزمون",
        "first_name" => "نام",
        "last_name" => "نام خانوادگی",
        "father_name" => "نام پدر",
        "birth_date" => "تاریخ تولد",
        "standard_code" => "کد استاندارد",
        "title" => "عنوان",
        "code" => "کد",
        "national_id" => "کد ملی",
        "chip_uid" => "شناسه تراشه",
        "read_back" => "داده بازخوانی‌شده از تراشه",
        "serial" => "سریال کارت",
        "certificate" => "گواهینامه",
        "card" => "کارت",
        "print" => "چاپ کارت",
        "receiver" => "نام تحویل‌گیرنده",
        "tracking_no" => "شماره مرسوله پستی",
        "delivery" => "تحویل کارت",
        "delivery_list" => "فهرست تحویل",
        "cause" => "علت مخدوشی",
        "cause_detail" => "شرح علت",
        "cards" => "کارت‌ها",
        "case" => "پرونده",
        "outcome" => "نتیجه بررسی",
        "minutes_no" => "شماره صورتجلسه",
        "scan" => "تصویر سند امضاشده",
        "notification" => "اعلان",
        "contact" => "شماره همراه یا نشانی رایانامه",
        "corrections" => "اصلاحات درخواستی",
        "decision_reason" => "دلیل تصمیم",
        "letter_date" => "تاریخ نامه",
        "fee_reference" => "شماره پیگیری پرداخت هزینه تعویض",
        "tree_size" => "اندازه دفتر شفافیت",
        "first" => "اندازه قبلی دفتر شفافیت",
        "second" => "اندازه بعدی دفتر شفافیت",
        "start" => "آغاز بازه",
        "end" => "پایان بازه",
        "digest" => "چکیده گواهینامه",
        "qr" => "متن رمزینه (QR) کارت",
        "log_entry" => "ثبت در دفتر شفافیت",
        "notice" => "اعلان",
        "status" => "وضعیت",
        "message_id" => "شناسه پیامک نزد ارائه‌دهنده",
        "detail" => "توضیح",
        other => other,
    }
}

/// The text of a notice to an applicant (SMS or e-mail), in Persian.
pub fn notice_body(kind: &str, holder: &str, certificate_no: &str, amount_rials: u64) -> String {
    let cert = crate::text::persian_digits(certificate_no);
    match kind {
        "fee_due" => format!(
            "{holder} گرامی، درخواست تعویض گواهینامه شماره {cert} تأیید شد. لطفاً هزینه تعویض به مبلغ {} ریال را پرداخت کنید.",
            crate::text::fa_num(amount_rials)
        ),
        "card_ready" => format!(
            "{holder} گرامی، کارت گواهینامه مهارت شماره {cert} صادر شد و آماده تحویل است."
        ),
        "overdue_pickup" => format!(
            "{holder} گرامی، کارت گواهینامه مهارت شماره {cert} بیش از یک هفته است که آماده تحویل است؛ لطفاً برای دریافت آن مراجعه کنید."
        ),
        other => other.to_string(),
    }
}

/// The service cannot reach its database (readiness probe).
/// The subject of every notice sent by e-mail.
pub const NOTICE_SUBJECT: &str = "سازمان آموزش فنی و حرفه‌ای — گواهینامه مهارت شما";

pub const UNAVAILABLE: &str = "سامانه موقتاً در دسترس نیست؛ چند دقیقه بعد دوباره تلاش کنید.";

/// A public endpoint's answer when one address asked too often.
pub fn rate_limited(retry_after_secs: u64) -> String {
    format!(
        "درخواست‌های شما بیش از حد مجاز است؛ لطفاً {} ثانیه دیگر دوباره تلاش کنید.",
        crate::text::fa_num(retry_after_secs)
    )
}

/// What a refusal of the HTTP layer itself means, by status.
pub fn http_refusal(status: u16) -> &'static str {
    match status {
        400 => "درخواست نادرست است.",
        401 => "ابتدا وارد سامانه شوید.",
        403 => "اجازه این کار را ندارید.",
        404 => "نشانی یا موردی که خواستید پیدا نشد.",
        405 => "این کار با این روش درخواست پذیرفته نیست.",
        408 => "درخواست بیش از حد طول کشید؛ دوباره تلاش کنید.",
        413 => "حجم درخواست یا پرونده ارسالی بیش از حد مجاز است.",
        414 => "نشانی درخواست بیش از حد طولانی است.",
        415 => "نوع محتوای ارسالی پذیرفته نیست.",
        422 => "مقدار ارسالی معتبر نیست.",
        431 => "سرآیندهای درخواست بیش از حد بزرگ است.",
        500..=599 => "خطای داخلی سامانه؛ لطفاً دوباره تلاش کنید یا با پشتیبانی تماس بگیرید.",
        _ => "درخواست پذیرفته نشد.",
    }
}
