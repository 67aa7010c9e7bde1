//! R-8 (Note 3) and R-9 (Note 4): cases that take a registered card out of service and, through
//! HQ, let the province issue the certificate again.
//!
//! Both kinds end on the same road (R-8.1.1, R-8.1.2): the Director General's letter sends the
//! minutes and the original cards to HQ, HQ records their arrival and enables the reprint, and
//! only then may the province print the certificate on a new card. They differ in how they start:
//!
//! ```text
//! damage:       open ─review (Form 6)─▶ reviewed ─────────────────────────────┐
//! replacement:  requested ─board─▶ approved ─void─▶ voided ─fee paid─▶ paid ──┤
//!                         └──────▶ rejected (the old card stays valid)        │
//!                                                    sent_to_hq ◀─DG letter───┘
//!                                                    at_hq ─HQ enables reprint─▶ authorized
//! ```
//!
//! A damage case takes its cards out of service when it opens (a card found damaged is no longer
//! valid); a replacement voids its card only after the board approved it. Cards spoiled at
//! printing, before their serial was registered, are outside these cases: Note 3 applies to
//! registered serials, so those stay `spoiled` at the office, counted by the custody check and
//! listed for HQ, and their certificate is printed again without HQ.

use crate::error::DomainError;
use crate::printing::PrintStatus;
use crate::text;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseKind {
    /// R-8, Note 3: a registered card found damaged (Form 6).
    Damage,
    /// R-9, Note 4: the holder asks for corrected data on a new card.
    Replacement,
}

impl CaseKind {
    pub const ALL: [CaseKind; 2] = [CaseKind::Damage, CaseKind::Replacement];

    pub fn as_str(self) -> &'static str {
        match self {
            CaseKind::Damage => "damage",
            CaseKind::Replacement => "replacement",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [CaseKind::Damage, CaseKind::Replacement]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    Open,
    Reviewed,
    Requested,
    Approved,
    Rejected,
    Voided,
    Paid,
    SentToHq,
    AtHq,
    Authorized,
}

impl CaseStatus {
    pub const ALL: [CaseStatus; 10] = [
        CaseStatus::Open,
        CaseStatus::Reviewed,
        CaseStatus::Requested,
        CaseStatus::Approved,
        CaseStatus::Rejected,
        CaseStatus::Voided,
        CaseStatus::Paid,
        CaseStatus::SentToHq,
        CaseStatus::AtHq,
        CaseStatus::Authorized,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CaseStatus::Open => "open",
            CaseStatus::Reviewed => "reviewed",
            CaseStatus::Requested => "requested",
            CaseStatus::Approved => "approved",
            CaseStatus::Rejected => "rejected",
            CaseStatus::Voided => "voided",
            CaseStatus::Paid => "paid",
            CaseStatus::SentToHq => "sent_to_hq",
            CaseStatus::AtHq => "at_hq",
            CaseStatus::Authorized => "authorized",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

fn expect(
    status: CaseStatus,
    expected: CaseStatus,
    next: CaseStatus,
) -> Result<CaseStatus, DomainError> {
    if status != expected {
        return Err(DomainError::WrongCaseStatus { status, expected });
    }
    Ok(next)
}

fn kind_is(kind: CaseKind, expected: CaseKind) -> Result<(), DomainError> {
    if kind != expected {
        return Err(DomainError::InvalidValue { field: "case" });
    }
    Ok(())
}

/// The causes of damage the office chooses from (with free text beside).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DamageCause {
    PrintDefect,
    ChipFault,
    Physical,
    DataError,
    Other,
}

impl DamageCause {
    pub const ALL: [DamageCause; 5] = [
        DamageCause::PrintDefect,
        DamageCause::ChipFault,
        DamageCause::Physical,
        DamageCause::DataError,
        DamageCause::Other,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            DamageCause::PrintDefect => "print_defect",
            DamageCause::ChipFault => "chip_fault",
            DamageCause::Physical => "physical",
            DamageCause::DataError => "data_error",
            DamageCause::Other => "other",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// One card of a damage case, as the clerk reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DamagedCard {
    pub print_id: i64,
    pub cause: DamageCause,
    pub detail: String,
}

/// R-8.1: each card named with a known cause; "other" needs its words. At most 100 cards per
/// minutes, each once.
pub fn r8_1_damaged_card(
    print_id: i64,
    cause: &str,
    detail: &str,
) -> Result<DamagedCard, DomainError> {
    let cause = DamageCause::parse(cause).ok_or(DomainError::InvalidValue { field: "cause" })?;
    let detail = if cause == DamageCause::Other {
        text::required("cause_detail", detail, 500)?
    } else {
        text::optional("cause_detail", detail, 500)?
    };
    Ok(DamagedCard {
        print_id,
        cause,
        detail,
    })
}

/// R-8.1: the cards of one Form 6.
pub fn r8_1_check_cards(cards: &[DamagedCard]) -> Result<(), DomainError> {
    if cards.is_empty() {
        return Err(DomainError::Required { field: "cards" });
    }
    if cards.len() > 100 {
        return Err(DomainError::TooManyCards {
            count: cards.len() as u64,
            max: 100,
        });
    }
    let mut ids: Vec<i64> = cards.iter().map(|c| c.print_id).collect();
    ids.sort_unstable();
    if ids.windows(2).any(|w| w[0] == w[1]) {
        return Err(DomainError::InvalidValue { field: "cards" });
    }
    Ok(())
}

/// Note 3 / Note 4: only a registered card (delivered or not) can be taken out of service.
pub fn check_in_service(print_id: i64, status: PrintStatus) -> Result<(), DomainError> {
    if status != PrintStatus::Bound {
        return Err(DomainError::NotInService { print_id, status });
    }
    Ok(())
}

/// R-8.1: the review's outcome is recorded on the minutes (Form 6), which can then be signed.
pub fn r8_1_review(kind: CaseKind, status: CaseStatus) -> Result<CaseStatus, DomainError> {
    kind_is(kind, CaseKind::Damage)?;
    expect(status, CaseStatus::Open, CaseStatus::Reviewed)
}

/// Note 4: the provincial assessment board approves the replacement (with its minutes) or
/// rejects it with a reason; a rejected request leaves the card valid.
pub fn note4_decide(
    kind: CaseKind,
    status: CaseStatus,
    approve: bool,
) -> Result<CaseStatus, DomainError> {
    kind_is(kind, CaseKind::Replacement)?;
    let next = if approve {
        CaseStatus::Approved
    } else {
        CaseStatus::Rejected
    };
    expect(status, CaseStatus::Requested, next)
}

/// Note 4: the board's reason, required to reject (the applicant must see why) and kept, if
/// given, with an approval (its minutes).
pub fn note4_decision_reason(approve: bool, reason: &str) -> Result<String, DomainError> {
    if approve {
        text::optional("decision_reason", reason, 1000)
    } else {
        text::required("decision_reason", reason, 1000)
    }
}

/// Note 4: after approval the Assessment Office voids the old card.
pub fn note4_void(kind: CaseKind, status: CaseStatus) -> Result<CaseStatus, DomainError> {
    kind_is(kind, CaseKind::Replacement)?;
    expect(status, CaseStatus::Approved, CaseStatus::Voided)
}

/// Note 4: the applicant pays the replacement fee once the card is void.
pub fn note4_pay(kind: CaseKind, status: CaseStatus) -> Result<CaseStatus, DomainError> {
    kind_is(kind, CaseKind::Replacement)?;
    expect(status, CaseStatus::Voided, CaseStatus::Paid)
}

/// R-8.1.1: the minutes and the original cards go to HQ with the Director General's letter — a
/// damage case once reviewed, a replacement once its fee is paid.
pub fn r8_1_1_send(kind: CaseKind, status: CaseStatus) -> Result<CaseStatus, DomainError> {
    let ready = match kind {
        CaseKind::Damage => CaseStatus::Reviewed,
        CaseKind::Replacement => CaseStatus::Paid,
    };
    expect(status, ready, CaseStatus::SentToHq)
}

/// R-8.1.1: HQ records the arrival of the letter and the cards.
pub fn r8_1_1_receive(status: CaseStatus) -> Result<CaseStatus, DomainError> {
    expect(status, CaseStatus::SentToHq, CaseStatus::AtHq)
}

/// R-8.1.2: HQ enables the reprint of the case's certificates, once it holds the cards.
pub fn r8_1_2_authorize(status: CaseStatus) -> Result<CaseStatus, DomainError> {
    expect(status, CaseStatus::AtHq, CaseStatus::Authorized)
}

/// R-9.1 / Note 4: the corrections a replacement asks for. Only the holder's personal data can
/// change; at least one field must.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Corrections {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub father_name: Option<String>,
}

impl Corrections {
    /// Each field normalised; empty means unchanged.
    pub fn parse(first: &str, last: &str, father: &str) -> Result<Self, DomainError> {
        let field = |name: &'static str, v: &str| -> Result<Option<String>, DomainError> {
            let v = text::optional(name, v, 100)?;
            Ok((!v.is_empty()).then_some(v))
        };
        Ok(Corrections {
            first_name: field("first_name", first)?,
            last_name: field("last_name", last)?,
            father_name: field("father_name", father)?,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.first_name.is_none() && self.last_name.is_none() && self.father_name.is_none()
    }
}

/// Note 4: a replacement request states why; corrections are optional (a worn card is replaced
/// with the same data).
pub fn note4_request(reason: &str) -> Result<String, DomainError> {
    text::required("reason", reason, 1000)
}

#[cfg(test)]
mod tests {
    use super::*;
    use CaseKind::*;
    use CaseStatus::*;

    #[test]
    fn damage_road() {
        assert_eq!(r8_1_review(Damage, Open), Ok(Reviewed));
        assert_eq!(r8_1_1_send(Damage, Reviewed), Ok(SentToHq));
        assert_eq!(r8_1_1_receive(SentToHq), Ok(AtHq));
        assert_eq!(r8_1_2_authorize(AtHq), Ok(Authorized));
        // Out of order: each refused, naming what it expected.
        assert_eq!(
            r8_1_1_send(Damage, Open),
            Err(DomainError::WrongCaseStatus {
                status: CaseStatus::Open,
                expected: CaseStatus::Reviewed
            })
        );
        assert!(r8_1_2_authorize(SentToHq).is_err());
        assert!(r8_1_2_authorize(Authorized).is_err());
        assert!(r8_1_review(Replacement, Requested).is_err());
    }

    #[test]
    fn replacement_road() {
        assert_eq!(note4_decide(Replacement, Requested, true), Ok(Approved));
        assert_eq!(note4_decide(Replacement, Requested, false), Ok(Rejected));
        assert!(note4_decide(Replacement, Approved, true).is_err());
        assert!(note4_decision_reason(false, " ").is_err());
        assert_eq!(note4_decision_reason(true, ""), Ok(String::new()));
        assert!(note4_void(Replacement, Rejected).is_err());
        assert_eq!(note4_void(Replacement, Approved), Ok(Voided));
        assert!(note4_pay(Replacement, Approved).is_err());
        assert_eq!(note4_pay(Replacement, Voided), Ok(Paid));
        assert!(r8_1_1_send(Replacement, Voided).is_err());
        assert_eq!(r8_1_1_send(Replacement, Paid), Ok(SentToHq));
        for s in CaseStatus::ALL {
            assert_eq!(CaseStatus::parse(s.as_str()), Some(s));
        }
    }

    #[test]
    fn damage_cards() {
        assert!(r8_1_damaged_card(1, "chip_fault", "").is_ok());
        assert!(r8_1_damaged_card(1, "other", " ").is_err());
        assert!(r8_1_damaged_card(1, "fire", "x").is_err());
        let c = |id| r8_1_damaged_card(id, "physical", "ترک").unwrap_or_else(|_| unreachable!());
        assert!(r8_1_check_cards(&[c(1), c(2)]).is_ok());
        assert!(r8_1_check_cards(&[c(1), c(1)]).is_err());
        assert!(r8_1_check_cards(&[]).is_err());
        assert!(check_in_service(3, PrintStatus::Bound).is_ok());
        assert!(check_in_service(3, PrintStatus::Damaged).is_err());
    }

    #[test]
    fn corrections() {
        let c = Corrections::parse(" علي ", "", "").unwrap_or_default();
        assert_eq!(c.first_name.as_deref(), Some("علی"));
        assert!(!c.is_empty());
        assert!(Corrections::parse("", " ", "").map(|c| c.is_empty()) == Ok(true));
    }
}
