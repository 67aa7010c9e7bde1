//! handing issued cards to their holders.
//!
//! A registered card waits at the Assessment Office until it is handed over — in person, where
//! the person responsible confirms each handover in the system with the receiver's name,
//! or by post, where the tracking number stands for the handover. Cards are grouped into delivery
//! lists, from which Form 5 (the signed minutes) is printed. allows at most one week from
//! issue to handover; a card still waiting after that is overdue, by a number of days everyone
//! (the office, HQ, the API) computes with [`r5_4_days_overdue`].

use crate::error::DomainError;
use crate::printing::PrintStatus;
use crate::text;

/// printed cards reach their holders at most this many days after issue.
pub const R5_4_MAX_DAYS: i64 = 7;

/// how many days a card issued on `issued_on` and still undelivered on `today` is overdue;
/// `None` while it is within the week.
pub fn r5_4_days_overdue(issued_on: time::Date, today: time::Date) -> Option<i64> {
    let late = (today - issued_on).whole_days() - R5_4_MAX_DAYS;
    (late > 0).then_some(late)
}

/// The last issue date whose undelivered cards are overdue on `today` (for an indexed query).
pub fn r5_4_overdue_cutoff(today: time::Date) -> time::Date {
    today - time::Duration::days(R5_4_MAX_DAYS + 1)
}

/// How a card went to its holder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handover {
    /// in person, to the holder or a representative, confirmed in the system.
    InPerson { receiver: String },
    /// by post; the tracking number is the proof.
    Post { tracking_no: String },
}

impl Handover {
    pub fn method(&self) -> &'static str {
        match self {
            Handover::InPerson { .. } => "in_person",
            Handover::Post { .. } => "post",
        }
    }
}

/// an in-person handover names who received the card.
pub fn r7_1_in_person(receiver: &str) -> Result<Handover, DomainError> {
    Ok(Handover::InPerson {
        receiver: text::required("receiver", receiver, 200)?,
    })
}

/// a postal handover records the post's tracking number (digits and Latin letters; digits
/// in any script are folded).
pub fn r7_post(tracking_no: &str) -> Result<Handover, DomainError> {
    let t: String = text::required("tracking_no", tracking_no, 40)?
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    if t.len() < 6 || !t.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(DomainError::InvalidValue {
            field: "tracking_no",
        });
    }
    Ok(Handover::Post {
        tracking_no: t.to_ascii_uppercase(),
    })
}

/// What storage knows of a card about to be listed or handed over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryState {
    pub print_id: i64,
    pub status: PrintStatus,
    pub delivered: bool,
    pub list_id: Option<i64>,
}

/// only a registered card not yet handed over can go to its holder (a damaged or voided
/// card, or one still printing, cannot).
pub fn r7_check_deliverable(s: &DeliveryState) -> Result<(), DomainError> {
    if s.status != PrintStatus::Bound {
        return Err(DomainError::NotDeliverable {
            print_id: s.print_id,
            status: s.status,
        });
    }
    if s.delivered {
        return Err(DomainError::AlreadyRecorded { what: "delivery" });
    }
    Ok(())
}

/// a card joins one delivery list (Form 5) at most.
pub fn r7_check_listable(s: &DeliveryState) -> Result<(), DomainError> {
    r7_check_deliverable(s)?;
    if let Some(list_id) = s.list_id {
        return Err(DomainError::AlreadyListed {
            print_id: s.print_id,
            list_id,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn r5_4_one_week() {
        let issued = date!(2026 - 11 - 01);
        assert_eq!(r5_4_days_overdue(issued, date!(2026 - 11 - 01)), None);
        assert_eq!(r5_4_days_overdue(issued, date!(2026 - 11 - 08)), None);
        assert_eq!(r5_4_days_overdue(issued, date!(2026 - 11 - 09)), Some(1));
        assert_eq!(r5_4_days_overdue(issued, date!(2026 - 12 - 01)), Some(23));
        // The cutoff agrees with the rule on both sides of it.
        let today = date!(2026 - 11 - 25);
        let cutoff = r5_4_overdue_cutoff(today);
        assert!(r5_4_days_overdue(cutoff, today).is_some());
        assert!(r5_4_days_overdue(cutoff + time::Duration::days(1), today).is_none());
    }

    #[test]
    fn r7_handovers() {
        assert_eq!(
            r7_1_in_person(" علي رضايي "),
            Ok(Handover::InPerson {
                receiver: "علی رضایی".into()
            })
        );
        assert!(r7_1_in_person(" ").is_err());
        assert_eq!(
            r7_post("ab ۱۲۳-۴۵۶۷۸"),
            Ok(Handover::Post {
                tracking_no: "AB12345678".into()
            })
        );
        assert!(r7_post("12345").is_err());
        assert!(r7_post("پست۱۲۳۴۵۶").is_err());
    }

    #[test]
    fn r7_only_registered_undelivered_cards() {
        let ok = DeliveryState {
            print_id: 1,
            status: PrintStatus::Bound,
            delivered: false,
            list_id: None,
        };
        assert!(r7_check_listable(&ok).is_ok());
        for status in [
            PrintStatus::Printing,
            PrintStatus::Damaged,
            PrintStatus::Void,
        ] {
            assert!(matches!(
                r7_check_deliverable(&DeliveryState { status, ..ok }),
                Err(DomainError::NotDeliverable { .. })
            ));
        }
        assert!(r7_check_deliverable(&DeliveryState {
            delivered: true,
            ..ok
        })
        .is_err());
        let listed = DeliveryState {
            list_id: Some(4),
            ..ok
        };
        assert!(r7_check_deliverable(&listed).is_ok());
        assert_eq!(
            r7_check_listable(&listed),
            Err(DomainError::AlreadyListed {
                print_id: 1,
                list_id: 4
            })
        );
    }
}
