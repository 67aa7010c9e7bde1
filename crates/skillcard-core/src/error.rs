//! The one error type of the domain. Each variant has a stable machine-readable code (for API
//! clients), a Persian message (in [`crate::fa`]) and structured details.

use crate::cases::CaseStatus;
use crate::exam::ListStatus;
use crate::printing::PrintStatus;
use serde_json::{json, Value};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error("malformed number: {input:?}")]
    MalformedNumber { input: String },
    #[error("serial out of bounds: {value}")]
    SerialOutOfBounds { value: u64 },
    #[error("reversed range {first}–{last}")]
    ReversedRange { first: u64, last: u64 },
    #[error("range {first}–{last} is larger than {max}")]
    RangeTooLarge { first: u64, last: u64, max: u64 },
    #[error("ranges {a} and {b} overlap")]
    OverlappingRanges { a: String, b: String },
    #[error("too many cards in one operation: {count} > {max}")]
    TooManyCards { count: u64, max: u64 },
    #[error("invalid date {input:?}")]
    InvalidDate { input: String },
    #[error("invalid national id {input:?}")]
    InvalidNationalId { input: String },
    #[error("field {field} is required")]
    Required { field: &'static str },
    #[error("field {field} is longer than {max}")]
    TooLong { field: &'static str, max: usize },
    #[error("invalid value for {field}")]
    InvalidValue { field: &'static str },
    #[error("field {field} holds the character U+{codepoint:04X}, which is not allowed")]
    ForbiddenCharacter { field: &'static str, codepoint: u32 },
    #[error("field {field} holds only invisible characters")]
    InvisibleText { field: &'static str },
    #[error("field {field} is not a readable JPEG or PNG image")]
    UnreadableImage { field: &'static str },
    #[error("the image in {field} is {width}x{height} pixels, over the limit")]
    ImageTooLarge {
        field: &'static str,
        width: u32,
        height: u32,
        max_side: u32,
        max_pixels: u64,
    },
    #[error("declared count {declared} differs from the ranges' {actual}")]
    DeclaredCountMismatch { declared: u64, actual: u64 },
    #[error("counted {counted} but the shipment less missing and damaged is {expected}")]
    ReceivedCountMismatch { counted: u64, expected: u64 },
    #[error("{what} is already recorded")]
    AlreadyRecorded { what: &'static str },
    #[error("serials {range} are already known to the system")]
    SerialsAlreadyKnown { range: String },
    #[error("serials {range} are not part of the shipment")]
    NotInShipment { range: String },
    #[error("shipment {id} is not in transit")]
    ShipmentNotInTransit { id: i64 },
    #[error("request of {requested} is over the cap {cap}")]
    OverCap { requested: u64, cap: u64 },
    #[error("a request for month {month} already exists")]
    RequestExists { month: i64 },
    #[error("no cap: no baseline and no issuance history")]
    NoCapBaseline,
    #[error("request {id} is not open")]
    RequestNotOpen { id: i64 },
    #[error("handing over {handing} but only {remaining} remain on the request")]
    HandoverExceedsRequest { handing: u64, remaining: u64 },
    #[error("vault holds {available}, {requested} asked")]
    InsufficientVaultStock { requested: u64, available: u64 },
    #[error("serials {range} are not in this province's vault")]
    CardsNotInVault { range: String },
    #[error("not allowed: {action}")]
    Forbidden { action: &'static str },
    #[error("other province")]
    WrongProvince,
    #[error("{what} not found")]
    NotFound { what: &'static str },
    #[error("the exam list is {status} and can no longer be changed by the centre")]
    ListLocked { status: ListStatus },
    #[error("corrections closed: the exam was on {exam_date}")]
    CorrectionClosed { exam_date: time::Date },
    #[error("the exam list is {status}, expected {expected}")]
    WrongListStatus {
        status: ListStatus,
        expected: ListStatus,
    },
    #[error("{count} entries have no practical score")]
    UnscoredEntries { count: u64 },
    #[error("{} rows of the sheet are invalid", rows.len())]
    InvalidRows { rows: Vec<RowError> },
    #[error("paid {paid} but the fee is {fee}")]
    WrongAmount { paid: i64, fee: i64 },
    #[error("bad gateway signature")]
    BadSignature,
    #[error("the practical score is not approved")]
    NotApproved,
    #[error("the candidate did not pass")]
    NotPassed,
    #[error("the issuance fee is not paid")]
    NotPaid,
    #[error("a concurrent change won")]
    Conflict,
    #[error("the certificate already has card print {print_id} in progress")]
    PrintInProgress { print_id: i64 },
    #[error("card print {print_id} is {status}, not printing")]
    NotPrinting { print_id: i64, status: PrintStatus },
    #[error("card {serial} is not in this province's Assessment Office stock")]
    CardNotInOfficeStock { serial: u64 },
    #[error("the Assessment Office has no blank card in stock")]
    NoOfficeStock,
    #[error("the chip does not hold the credential signed for this card")]
    ChipMismatch { reason: &'static str },
    #[error("the printed card has not been inspected as sound")]
    NotInspected,
    #[error("the chip has not been written and read back")]
    ChipNotWritten,
    #[error("no active signing key")]
    NoSigningKey,
    #[error("card print {print_id} is {status}: not a registered card awaiting its holder")]
    NotDeliverable { print_id: i64, status: PrintStatus },
    #[error("card print {print_id} is already on delivery list {list_id}")]
    AlreadyListed { print_id: i64, list_id: i64 },
    #[error("card print {print_id} is {status}: not a registered card in service")]
    NotInService { print_id: i64, status: PrintStatus },
    #[error("the case is {status}, expected {expected}")]
    WrongCaseStatus {
        status: CaseStatus,
        expected: CaseStatus,
    },
    #[error(
        "a registered card of this certificate was damaged or voided; HQ has not enabled a reprint"
    )]
    ReprintNotAuthorized,
    #[error("invalid username or password")]
    InvalidCredentials,
    #[error("not logged in")]
    Unauthenticated,
    #[error("form token mismatch")]
    CsrfMismatch,
    #[error("no readable QR code in the photo")]
    NoQrInPhoto,
    #[error("too many failed sign-ins: retry after {retry_after_secs}s")]
    LoginThrottled { retry_after_secs: u64 },
    #[error("the token has expired")]
    TokenExpired,
    #[error("the password is too weak: {reason}")]
    WeakPassword { reason: &'static str },
    #[error("the password must be changed before anything else")]
    PasswordChangeRequired,
    #[error("this account signs in with a second factor: send the authenticator's code")]
    OtpRequired,
    #[error("this role must set up a second factor before anything else")]
    SecondFactorRequired,
}

impl DomainError {
    /// A stable, machine-readable code; never renamed once published.
    pub fn code(&self) -> &'static str {
        use DomainError::*;
        match self {
            MalformedNumber { .. } => "malformed_number",
            SerialOutOfBounds { .. } => "serial_out_of_bounds",
            ReversedRange { .. } => "reversed_range",
            RangeTooLarge { .. } => "range_too_large",
            OverlappingRanges { .. } => "overlapping_ranges",
            TooManyCards { .. } => "too_many_cards",
            InvalidDate { .. } => "invalid_date",
            InvalidNationalId { .. } => "invalid_national_id",
            Required { .. } => "required",
            TooLong { .. } => "too_long",
            InvalidValue { .. } => "invalid_value",
            ForbiddenCharacter { .. } => "forbidden_character",
            InvisibleText { .. } => "invisible_text",
            UnreadableImage { .. } => "unreadable_image",
            ImageTooLarge { .. } => "image_too_large",
            DeclaredCountMismatch { .. } => "declared_count_mismatch",
            ReceivedCountMismatch { .. } => "received_count_mismatch",
            AlreadyRecorded { .. } => "already_recorded",
            SerialsAlreadyKnown { .. } => "serials_already_known",
            NotInShipment { .. } => "not_in_shipment",
            ShipmentNotInTransit { .. } => "shipment_not_in_transit",
            OverCap { .. } => "over_cap",
            RequestExists { .. } => "request_exists",
            NoCapBaseline => "no_cap_baseline",
            RequestNotOpen { .. } => "request_not_open",
            HandoverExceedsRequest { .. } => "handover_exceeds_request",
            InsufficientVaultStock { .. } => "insufficient_vault_stock",
            CardsNotInVault { .. } => "cards_not_in_vault",
            Forbidden { .. } => "forbidden",
            WrongProvince => "wrong_province",
            NotFound { .. } => "not_found",
            ListLocked { .. } => "list_locked",
            CorrectionClosed { .. } => "correction_closed",
            WrongListStatus { .. } => "wrong_list_status",
            UnscoredEntries { .. } => "unscored_entries",
            InvalidRows { .. } => "invalid_rows",
            WrongAmount { .. } => "wrong_amount",
            BadSignature => "bad_signature",
            NotApproved => "not_approved",
            NotPassed => "not_passed",
            NotPaid => "not_paid",
            Conflict => "conflict",
            PrintInProgress { .. } => "print_in_progress",
            NotPrinting { .. } => "not_printing",
            CardNotInOfficeStock { .. } => "card_not_in_office_stock",
            NoOfficeStock => "no_office_stock",
            ChipMismatch { .. } => "chip_mismatch",
            NotInspected => "not_inspected",
            ChipNotWritten => "chip_not_written",
            NoSigningKey => "no_signing_key",
            NotDeliverable { .. } => "not_deliverable",
            AlreadyListed { .. } => "already_listed",
            NotInService { .. } => "not_in_service",
            WrongCaseStatus { .. } => "wrong_case_status",
            ReprintNotAuthorized => "reprint_not_authorized",
            InvalidCredentials => "invalid_credentials",
            Unauthenticated => "unauthenticated",
            CsrfMismatch => "csrf_mismatch",
            NoQrInPhoto => "no_qr_in_photo",
            LoginThrottled { .. } => "login_throttled",
            TokenExpired => "token_expired",
            WeakPassword { .. } => "weak_password",
            PasswordChangeRequired => "password_change_required",
            OtpRequired => "otp_required",
            SecondFactorRequired => "second_factor_required",
        }
    }

    /// The kind of failure, for the HTTP layer to pick a status without knowing each variant.
    pub fn kind(&self) -> ErrorKind {
        use DomainError::*;
        match self {
            Forbidden { .. }
            | WrongProvince
            | CsrfMismatch
            | BadSignature
            | PasswordChangeRequired
            | SecondFactorRequired => ErrorKind::Forbidden,
            NotFound { .. } => ErrorKind::NotFound,
            Conflict
            | AlreadyRecorded { .. }
            | SerialsAlreadyKnown { .. }
            | RequestExists { .. }
            | ShipmentNotInTransit { .. }
            | RequestNotOpen { .. }
            | ListLocked { .. }
            | CorrectionClosed { .. }
            | WrongListStatus { .. }
            | PrintInProgress { .. }
            | NotPrinting { .. }
            | NotDeliverable { .. }
            | AlreadyListed { .. }
            | NotInService { .. }
            | WrongCaseStatus { .. }
            | ReprintNotAuthorized => ErrorKind::Conflict,
            InvalidCredentials | Unauthenticated | TokenExpired | OtpRequired => {
                ErrorKind::Unauthenticated
            }
            LoginThrottled { .. } => ErrorKind::TooManyRequests,
            _ => ErrorKind::Invalid,
        }
    }

    /// Structured details for API clients.
    pub fn details(&self) -> Value {
        use DomainError::*;
        match self {
            MalformedNumber { input } | InvalidDate { input } | InvalidNationalId { input } => {
                json!({ "input": input })
            }
            SerialOutOfBounds { value } => json!({ "value": value }),
            ReversedRange { first, last } => json!({ "first": first, "last": last }),
            RangeTooLarge { first, last, max } => {
                json!({ "first": first, "last": last, "max": max })
            }
            OverlappingRanges { a, b } => json!({ "a": a, "b": b }),
            TooManyCards { count, max } => json!({ "count": count, "max": max }),
            Required { field }
            | InvalidValue { field }
            | InvisibleText { field }
            | UnreadableImage { field } => json!({ "field": field }),
            ForbiddenCharacter { field, codepoint } => {
                json!({ "field": field, "codepoint": format!("U+{codepoint:04X}") })
            }
            ImageTooLarge {
                field,
                width,
                height,
                max_side,
                max_pixels,
            } => json!({
                "field": field, "width": width, "height": height,
                "max_side": max_side, "max_pixels": max_pixels,
            }),
            TooLong { field, max } => json!({ "field": field, "max": max }),
            DeclaredCountMismatch { declared, actual } => {
                json!({ "declared": declared, "actual": actual })
            }
            ReceivedCountMismatch { counted, expected } => {
                json!({ "counted": counted, "expected": expected })
            }
            AlreadyRecorded { what } => json!({ "what": what }),
            SerialsAlreadyKnown { range } | NotInShipment { range } | CardsNotInVault { range } => {
                json!({ "range": range })
            }
            ShipmentNotInTransit { id } | RequestNotOpen { id } => json!({ "id": id }),
            OverCap { requested, cap } => json!({ "requested": requested, "cap": cap }),
            RequestExists { month } => json!({ "month": month }),
            HandoverExceedsRequest { handing, remaining } => {
                json!({ "handing": handing, "remaining": remaining })
            }
            InsufficientVaultStock {
                requested,
                available,
            } => {
                json!({ "requested": requested, "available": available })
            }
            Forbidden { action } => json!({ "action": action }),
            NotFound { what } => json!({ "what": what }),
            ListLocked { status } => json!({ "status": status }),
            CorrectionClosed { exam_date } => json!({ "exam_date": exam_date.to_string() }),
            WrongListStatus { status, expected } => {
                json!({ "status": status, "expected": expected })
            }
            UnscoredEntries { count } => json!({ "count": count }),
            InvalidRows { rows } => json!({ "rows": rows }),
            WrongAmount { paid, fee } => json!({ "paid": paid, "fee": fee }),
            PrintInProgress { print_id } => json!({ "print_id": print_id }),
            NotPrinting { print_id, status } => json!({ "print_id": print_id, "status": status }),
            CardNotInOfficeStock { serial } => json!({ "serial": serial }),
            NotDeliverable { print_id, status } | NotInService { print_id, status } => {
                json!({ "print_id": print_id, "status": status })
            }
            AlreadyListed { print_id, list_id } => {
                json!({ "print_id": print_id, "list_id": list_id })
            }
            WrongCaseStatus { status, expected } => {
                json!({ "status": status, "expected": expected })
            }
            ReprintNotAuthorized => json!({}),
            ChipMismatch { reason } => json!({ "reason": reason }),
            BadSignature | NotApproved | NotPassed | NotPaid => json!({}),
            NoOfficeStock | NotInspected | ChipNotWritten | NoSigningKey => json!({}),
            NoCapBaseline
            | WrongProvince
            | Conflict
            | InvalidCredentials
            | Unauthenticated
            | CsrfMismatch
            | NoQrInPhoto
            | TokenExpired
            | PasswordChangeRequired
            | OtpRequired
            | SecondFactorRequired => json!({}),
            WeakPassword { reason } => json!({ "reason": reason }),
            LoginThrottled { retry_after_secs } => json!({ "retry_after_secs": retry_after_secs }),
        }
    }

    pub fn message_fa(&self) -> String {
        crate::fa::error_message(self)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    Invalid,
    Forbidden,
    NotFound,
    Conflict,
    Unauthenticated,
    TooManyRequests,
}

/// One bad row of an uploaded sheet: its number as the user sees it, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RowError {
    pub row: usize,
    pub code: String,
    pub message: String,
}
