//! Notices to applicants (Part 3): the fee to pay for a replacement, a card ready to collect, a
//! pickup overdue under. Storage keeps them in an outbox and a sender (SMS or e-mail
//! gateway) delivers them; what is retried, and when, is decided here so every deployment and
//! every test agrees.

use crate::error::DomainError;
use crate::text;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    /// Note 4: the replacement was approved and the old card voided; the fee is due.
    FeeDue,
    /// the card is registered and waits at the office.
    CardReady,
    /// the card is still at the office a week after issue.
    OverduePickup,
}

impl NoticeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeKind::FeeDue => "fee_due",
            NoticeKind::CardReady => "card_ready",
            NoticeKind::OverduePickup => "overdue_pickup",
        }
    }

    pub const ALL: [NoticeKind; 3] = [
        NoticeKind::FeeDue,
        NoticeKind::CardReady,
        NoticeKind::OverduePickup,
    ];

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Where a notice stands in the outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeStatus {
    /// Waiting for its (next) attempt.
    Pending,
    Sent,
    /// Every attempt failed; the office must reach the applicant another way.
    Failed,
}

impl NoticeStatus {
    pub const ALL: [NoticeStatus; 3] = [
        NoticeStatus::Pending,
        NoticeStatus::Sent,
        NoticeStatus::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            NoticeStatus::Pending => "pending",
            NoticeStatus::Sent => "sent",
            NoticeStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// After the `attempts`-th try failed: still pending (retry after the delay) or failed.
    pub fn after_failure(attempts: i64) -> (NoticeStatus, Option<time::Duration>) {
        match retry_delay(attempts) {
            Some(d) => (NoticeStatus::Pending, Some(d)),
            None => (NoticeStatus::Failed, None),
        }
    }
}

/// Where a notice can go: a mobile number (SMS) or an e-mail address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Contact {
    Mobile(String),
    Email(String),
}

impl Contact {
    pub fn as_str(&self) -> &str {
        match self {
            Contact::Mobile(s) | Contact::Email(s) => s,
        }
    }
}

/// Parses an applicant's contact: an Iranian mobile number (`09…`, 11 digits, in any digit
/// script, `+98` folded to `0`) or an e-mail address.
pub fn parse_contact(input: &str) -> Result<Contact, DomainError> {
    let s = text::required("contact", input, 120)?;
    if s.contains('@') {
        let (local, domain) = s.split_once('@').unwrap_or_default();
        if local.is_empty() || !domain.contains('.') || s.contains(char::is_whitespace) {
            return Err(DomainError::InvalidValue { field: "contact" });
        }
        return Ok(Contact::Email(s.to_lowercase()));
    }
    let digits: String = s
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '(' | ')'))
        .collect();
    let digits = match digits.strip_prefix("+98") {
        Some(rest) => format!("0{rest}"),
        None => digits,
    };
    if digits.len() != 11
        || !digits.starts_with("09")
        || !digits.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(DomainError::InvalidValue { field: "contact" });
    }
    Ok(Contact::Mobile(digits))
}

stored_words! {
    /// What the SMS provider's delivery report said about a sent notice: it reached the phone,
    /// or the network gave up on it (the office then reaches the applicant another way).
    pub enum Delivery {
        Delivered => "delivered",
        Undelivered => "undelivered",
    }
}

/// A provider's word for how a message ended, as delivery reports spell it: ours, the SMPP
/// receipt states (`DELIVRD`, `UNDELIV`, `EXPIRED`, `REJECTD`) and the usual plain words, in
/// any case. A state that is not final (`ENROUTE`, `ACCEPTD`, "sent") is not a delivery
/// report and is refused.
pub fn parse_delivery_status(word: &str) -> Result<Delivery, DomainError> {
    let w = text::required("status", word, 40)?.to_ascii_lowercase();
    match w.as_str() {
        "delivered" | "delivrd" | "success" | "ok" => Ok(Delivery::Delivered),
        "undelivered" | "undeliv" | "undeliverable" | "failed" | "expired" | "rejected"
        | "rejectd" | "deleted" | "blocked" => Ok(Delivery::Undelivered),
        _ => Err(DomainError::InvalidValue { field: "status" }),
    }
}

/// Sending is tried at most this many times before the notice is marked failed.
pub const MAX_ATTEMPTS: i64 = 6;

/// After `attempts` failed tries, how long to wait before the next (1, 2, 4, 8, 16 minutes),
/// or `None` when the notice has failed for good.
pub fn retry_delay(attempts: i64) -> Option<time::Duration> {
    if attempts >= MAX_ATTEMPTS {
        return None;
    }
    let minutes = 1i64 << (attempts - 1).clamp(0, 10);
    Some(time::Duration::minutes(minutes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivery_report_words() {
        for w in ["delivered", "DELIVRD", " Success "] {
            assert_eq!(
                parse_delivery_status(w).unwrap(),
                Delivery::Delivered,
                "{w}"
            );
        }
        for w in ["UNDELIV", "expired", "REJECTD", "failed"] {
            assert_eq!(
                parse_delivery_status(w).unwrap(),
                Delivery::Undelivered,
                "{w}"
            );
        }
        for w in ["ENROUTE", "accepted", "sent", "", "delivered!"] {
            assert!(parse_delivery_status(w).is_err(), "{w:?}");
        }
    }

    #[test]
    fn contacts() {
        assert_eq!(
            parse_contact("۰۹۱۲ ۳۴۵ ۶۷۸۹").unwrap(),
            Contact::Mobile("09123456789".into())
        );
        assert_eq!(
            parse_contact("+989123456789").unwrap(),
            Contact::Mobile("09123456789".into())
        );
        assert_eq!(
            parse_contact("Ali@Example.IR").unwrap(),
            Contact::Email("ali@example.ir".into())
        );
        for bad in ["", "0912345", "08123456789", "a@b", "@x.ir"] {
            assert!(parse_contact(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn retries_back_off_then_stop() {
        let delays: Vec<i64> = (1..=MAX_ATTEMPTS)
            .map(|a| retry_delay(a).map_or(-1, |d| d.whole_minutes()))
            .collect();
        assert_eq!(delays, vec![1, 2, 4, 8, 16, -1]);
    }
}
