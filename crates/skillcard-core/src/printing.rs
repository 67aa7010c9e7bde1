//! from an issued certificate to a registered card.
//!
//! A *print* ties one serial of the Assessment Office's stock to one certificate. It opens when
//! the clerk's workstation has read the blank chip's UID (the signed credential names the UID,
//! and the QR on the face carries the same bytes, so the UID must be known before the face is
//! printed); it then collects two facts in either order — the inspection of the printed face
//! and the chip written and read back — and ends in exactly one of two ways:
//! registered (R-6.9, the card is bound to the certificate) or spoiled (damaged at printing, the
//! serial never used again). Until it ends, the card sits in state `printing`: a crash at any
//! point leaves a print the clerk can resume or report as spoiled, never a lost card and never a
//! second card bound to the same certificate.

use crate::card::CardState;
use crate::error::DomainError;
use crate::text;
use serde::{Deserialize, Serialize};

/// Where a print stands. While it is printing, bound or spoiled its card's state is the same
/// word; after registration the card moves on physically (delivered, sent to HQ…) while the
/// print keeps what it means for the certificate ([`card_state_fits`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrintStatus {
    Printing,
    /// Registered; the card stays valid whether delivered yet or not.
    Bound,
    /// Damaged at printing before registration.
    Spoiled,
    /// Registered, then found damaged: a damage case (R-8, Note 3).
    Damaged,
    /// Registered, then voided for a replacement (Note 4).
    Void,
}

impl PrintStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PrintStatus::Printing => "printing",
            PrintStatus::Bound => "bound",
            PrintStatus::Spoiled => "spoiled",
            PrintStatus::Damaged => "damaged",
            PrintStatus::Void => "void",
        }
    }

    pub const ALL: [PrintStatus; 5] = [
        PrintStatus::Printing,
        PrintStatus::Bound,
        PrintStatus::Spoiled,
        PrintStatus::Damaged,
        PrintStatus::Void,
    ];

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

/// Invariant: the card of a print is in a state that fits the print's status and whether the
/// print records a delivery to its holder: a registered card is `delivered` exactly when its
/// print says it was handed over. The custody check proves it for every print.
pub fn card_state_fits(print: PrintStatus, delivered: bool, card: CardState) -> bool {
    use CardState as C;
    match print {
        PrintStatus::Printing => card == C::Printing && !delivered,
        PrintStatus::Spoiled => card == C::Spoiled && !delivered,
        PrintStatus::Bound if delivered => card == C::Delivered,
        PrintStatus::Bound => card == C::Bound,
        PrintStatus::Damaged => matches!(card, C::Damaged | C::SentToHq | C::AtHq),
        PrintStatus::Void => matches!(card, C::Void | C::SentToHq | C::AtHq),
    }
}

/// What storage knows of one print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrintProgress {
    pub print_id: i64,
    pub status: PrintStatus,
    pub inspected_sound: bool,
    pub chip_verified: bool,
}

/// Every step on a print (inspection, chip, registration, spoiling) needs it still printing.
pub fn check_printing(p: &PrintProgress) -> Result<(), DomainError> {
    if p.status != PrintStatus::Printing {
        return Err(DomainError::NotPrinting {
            print_id: p.print_id,
            status: p.status,
        });
    }
    Ok(())
}

/// What storage knows of a certificate's earlier cards when a new print is asked for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CardHistory {
    pub open_print: Option<i64>,
    pub bound_print: Option<i64>,
    /// A registered card of this certificate was damaged or voided (R-8, Note 4).
    pub had_registered_card: bool,
    /// HQ's authorisation to reprint that is not yet used by a registered card.
    pub open_authorisation: Option<i64>,
}

/// A certificate gets a new print only when it has none in progress and no bound card; once a
/// registered card of it was damaged or voided, only on HQ's authorisation. A card
/// spoiled at printing, before registration, needs none (Note 3 applies to registered serials).
pub fn r6_8_check_can_start(h: &CardHistory) -> Result<(), DomainError> {
    if let Some(print_id) = h.open_print {
        return Err(DomainError::PrintInProgress { print_id });
    }
    if h.bound_print.is_some() {
        return Err(DomainError::AlreadyRecorded { what: "card" });
    }
    if h.had_registered_card && h.open_authorisation.is_none() {
        return Err(DomainError::ReprintNotAuthorized);
    }
    Ok(())
}

/// The outcome of R-6.7's inspection of a printed card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inspection {
    Sound,
    /// Damaged: the card is spoiled, with the reason written on the record.
    Damaged {
        reason: String,
    },
}

/// the clerk records the inspection; a damaged card needs its reason.
pub fn r6_7_inspection(sound: bool, reason: &str) -> Result<Inspection, DomainError> {
    if sound {
        return Ok(Inspection::Sound);
    }
    Ok(Inspection::Damaged {
        reason: text::required("reason", reason, 500)?,
    })
}

/// what the workstation read back must be exactly the credential signed for this card,
/// from the chip whose UID the credential names.
pub fn r6_8_check_read_back(
    signed: &[u8],
    signed_uid: &[u8],
    read_back: &[u8],
    read_uid: &[u8],
) -> Result<(), DomainError> {
    if read_uid != signed_uid {
        return Err(DomainError::ChipMismatch { reason: "uid" });
    }
    if read_back != signed {
        return Err(DomainError::ChipMismatch { reason: "payload" });
    }
    Ok(())
}

/// the serial is registered only when printing, inspection and the chip write all
/// succeeded.
pub fn r6_9_check_registrable(p: &PrintProgress) -> Result<(), DomainError> {
    check_printing(p)?;
    if !p.inspected_sound {
        return Err(DomainError::NotInspected);
    }
    if !p.chip_verified {
        return Err(DomainError::ChipNotWritten);
    }
    Ok(())
}

/// What a verifier is told about a card of an issued certificate, from its print's status and
/// whether the certificate has a registered card again: only a registered card is valid; a card
/// signed but never registered is not issued; a card spoiled at printing is void; a damaged
/// card says whether the certificate was reissued; a card voided for replacement is replaced.
pub fn public_standing(print: Option<PrintStatus>, reissued: bool) -> Standing {
    match print {
        Some(PrintStatus::Bound) => Standing::Valid,
        Some(PrintStatus::Printing) | None => Standing::NotIssued,
        Some(PrintStatus::Spoiled) => Standing::Void,
        Some(PrintStatus::Damaged) if reissued => Standing::DamagedReissued,
        Some(PrintStatus::Damaged) => Standing::Damaged,
        Some(PrintStatus::Void) => Standing::Replaced,
    }
}

stored_words! {
    /// What the public is told of a card ([`public_standing`]).
    pub enum Standing {
        Valid => "valid",
        NotIssued => "not_issued",
        Void => "void",
        DamagedReissued => "damaged_reissued",
        Damaged => "damaged",
        Replaced => "replaced",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn progress(status: PrintStatus, inspected: bool, chip: bool) -> PrintProgress {
        PrintProgress {
            print_id: 7,
            status,
            inspected_sound: inspected,
            chip_verified: chip,
        }
    }

    #[test]
    fn registration_needs_every_step() {
        use PrintStatus::*;
        assert!(r6_9_check_registrable(&progress(Printing, true, true)).is_ok());
        assert_eq!(
            r6_9_check_registrable(&progress(Printing, false, true)),
            Err(DomainError::NotInspected)
        );
        assert_eq!(
            r6_9_check_registrable(&progress(Printing, true, false)),
            Err(DomainError::ChipNotWritten)
        );
        for done in [Bound, Spoiled] {
            assert_eq!(
                r6_9_check_registrable(&progress(done, true, true)),
                Err(DomainError::NotPrinting {
                    print_id: 7,
                    status: done
                })
            );
        }
    }

    #[test]
    fn one_live_card_per_certificate() {
        let fresh = CardHistory::default();
        assert!(r6_8_check_can_start(&fresh).is_ok());
        let open = CardHistory {
            open_print: Some(3),
            ..fresh
        };
        assert_eq!(
            r6_8_check_can_start(&open),
            Err(DomainError::PrintInProgress { print_id: 3 })
        );
        let bound = CardHistory {
            bound_print: Some(4),
            ..fresh
        };
        assert!(r6_8_check_can_start(&bound).is_err());
    }

    #[test]
    fn r8_1_2_reprint_needs_hq() {
        let damaged = CardHistory {
            had_registered_card: true,
            ..CardHistory::default()
        };
        assert_eq!(
            r6_8_check_can_start(&damaged),
            Err(DomainError::ReprintNotAuthorized)
        );
        let authorised = CardHistory {
            open_authorisation: Some(9),
            ..damaged
        };
        assert!(r6_8_check_can_start(&authorised).is_ok());
    }

    #[test]
    fn card_states_fit_prints() {
        for s in CardState::ALL {
            let mut statuses: Vec<PrintStatus> = PrintStatus::ALL
                .iter()
                .flat_map(|p| [(*p, false), (*p, true)])
                .filter(|(p, delivered)| card_state_fits(*p, *delivered, s))
                .map(|(p, _)| p)
                .collect();
            statuses.dedup();
            let fits = statuses.len();
            // A used card fits one print status, except a card at HQ or on its way (damaged or void).
            let expected = match s {
                CardState::SentToHq | CardState::AtHq => 2,
                s if s.is_used() => 1,
                _ => 0,
            };
            assert_eq!(fits, expected, "{s:?}");
        }
        // A registered card is delivered exactly when its print records the handover.
        assert!(card_state_fits(
            PrintStatus::Bound,
            true,
            CardState::Delivered
        ));
        assert!(!card_state_fits(
            PrintStatus::Bound,
            false,
            CardState::Delivered
        ));
        assert!(!card_state_fits(PrintStatus::Bound, true, CardState::Bound));
        assert_eq!(
            public_standing(Some(PrintStatus::Damaged), true),
            Standing::DamagedReissued
        );
        assert_eq!(
            public_standing(Some(PrintStatus::Void), true),
            Standing::Replaced
        );
    }

    #[test]
    fn inspection_and_read_back() {
        assert_eq!(r6_7_inspection(true, ""), Ok(Inspection::Sound));
        assert!(r6_7_inspection(false, "  ").is_err());
        assert_eq!(
            r6_7_inspection(false, " خط روی عکس "),
            Ok(Inspection::Damaged {
                reason: "خط روی عکس".into()
            })
        );
        assert!(r6_8_check_read_back(b"abc", b"u1", b"abc", b"u1").is_ok());
        assert_eq!(
            r6_8_check_read_back(b"abc", b"u1", b"abc", b"u2"),
            Err(DomainError::ChipMismatch { reason: "uid" })
        );
        assert_eq!(
            r6_8_check_read_back(b"abc", b"u1", b"abd", b"u1"),
            Err(DomainError::ChipMismatch { reason: "payload" })
        );
        for s in ["printing", "bound", "spoiled", "damaged", "void"] {
            assert_eq!(PrintStatus::parse(s).map(PrintStatus::as_str), Some(s));
        }
    }
}
