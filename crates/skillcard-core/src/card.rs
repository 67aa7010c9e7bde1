//! The states a blank card can be in. A card is in exactly one state at every moment: storage
//! keeps one row per serial with one state column, so the invariant holds by construction, and
//! [`crate::custody::check_invariants`] checks that every shipped serial has its row.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CardState {
    /// Dispatched by HQ, not yet received by the province.
    InTransit,
    /// In the province's vault under Security.
    InVault,
    /// Handed over to the provincial Assessment Office: its working stock.
    WithOffice,
    /// Listed in a shipment but absent when the province opened it (R-1, Form 1 remarks).
    MissingOnArrival,
    /// Arrived damaged (R-1, Form 1 remarks).
    DamagedOnArrival,
    /// Taken from the office stock for one certificate: face printed and chip being written, not
    /// yet registered. A crash leaves it here, resumable or reportable as spoiled.
    Printing,
    /// Registered against its certificate: issued, out of the office stock for good.
    Bound,
    /// Found damaged at printing before registration: never used again.
    Spoiled,
    /// A registered card handed to its holder or sent by post.
    Delivered,
    /// A registered card found damaged, held by the office under a damage case (R-8, Note 3).
    Damaged,
    /// A registered card voided by the office after the board approved its replacement (Note 4).
    Void,
    /// A damaged or void card sent to HQ with the minutes and the Director General's letter
    ///
    SentToHq,
    /// A card HQ has recorded as arrived: out of the province's hands for good.
    AtHq,
}

impl CardState {
    pub const ALL: [CardState; 13] = [
        CardState::InTransit,
        CardState::InVault,
        CardState::WithOffice,
        CardState::MissingOnArrival,
        CardState::DamagedOnArrival,
        CardState::Printing,
        CardState::Bound,
        CardState::Spoiled,
        CardState::Delivered,
        CardState::Damaged,
        CardState::Void,
        CardState::SentToHq,
        CardState::AtHq,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CardState::InTransit => "in_transit",
            CardState::InVault => "in_vault",
            CardState::WithOffice => "with_office",
            CardState::MissingOnArrival => "missing_on_arrival",
            CardState::DamagedOnArrival => "damaged_on_arrival",
            CardState::Printing => "printing",
            CardState::Bound => "bound",
            CardState::Spoiled => "spoiled",
            CardState::Delivered => "delivered",
            CardState::Damaged => "damaged",
            CardState::Void => "void",
            CardState::SentToHq => "sent_to_hq",
            CardState::AtHq => "at_hq",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }

    pub fn label_fa(self) -> &'static str {
        match self {
            CardState::InTransit => "در راه",
            CardState::InVault => "در خزانه",
            CardState::WithOffice => "نزد اداره سنجش",
            CardState::MissingOnArrival => "کسری هنگام دریافت",
            CardState::DamagedOnArrival => "آسیب‌دیده هنگام دریافت",
            CardState::Printing => "در حال چاپ",
            CardState::Bound => "صادرشده",
            CardState::Spoiled => "معیوب هنگام چاپ",
            CardState::Delivered => "تحویل‌شده به دارنده",
            CardState::Damaged => "مخدوش (در دست بررسی)",
            CardState::Void => "باطل‌شده (تعویض)",
            CardState::SentToHq => "ارسال‌شده به ستاد",
            CardState::AtHq => "دریافت‌شده در ستاد",
        }
    }

    /// The moves the custody chain allows. Every state change in storage asserts one of these.
    pub fn can_move_to(self, to: CardState) -> bool {
        use CardState::*;
        matches!(
            (self, to),
            (InTransit, InVault)
                | (InTransit, MissingOnArrival)
                | (InTransit, DamagedOnArrival)
                | (InVault, WithOffice)
                | (WithOffice, Printing)
                | (Printing, Bound)
                | (Printing, Spoiled)
                | (Bound, Delivered)
                | (Bound, Damaged)
                | (Delivered, Damaged)
                | (Bound, Void)
                | (Delivered, Void)
                | (Damaged, SentToHq)
                | (Void, SentToHq)
                | (SentToHq, AtHq)
        )
    }

    /// Cards the Assessment Office has taken from its stock for a certificate: each has one
    /// print record (see [`crate::printing::card_state_fits`]).
    pub fn is_used(self) -> bool {
        use CardState::*;
        matches!(
            self,
            Printing | Bound | Spoiled | Delivered | Damaged | Void | SentToHq | AtHq
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_moves() {
        for s in CardState::ALL {
            assert_eq!(CardState::parse(s.as_str()), Some(s));
            assert!(!s.can_move_to(s));
        }
        assert!(CardState::InVault.can_move_to(CardState::WithOffice));
        assert!(!CardState::WithOffice.can_move_to(CardState::InVault));
        assert!(!CardState::InTransit.can_move_to(CardState::WithOffice));
        assert!(CardState::Printing.can_move_to(CardState::Spoiled));
        assert!(!CardState::Spoiled.can_move_to(CardState::WithOffice));
        assert!(!CardState::Bound.can_move_to(CardState::Printing));
        assert!(CardState::Delivered.can_move_to(CardState::Void));
        assert!(!CardState::Delivered.can_move_to(CardState::Bound));
        assert!(!CardState::Spoiled.can_move_to(CardState::SentToHq));
        assert!(!CardState::AtHq.can_move_to(CardState::WithOffice));
    }
}
