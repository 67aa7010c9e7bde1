//! The pure domain of skillcard: what a blank card, a shipment, a vault and a monthly request
//! are, which moves between them the regulation allows, and the invariants that must hold after
//! every move. Nothing here does I/O: storage and HTTP live in `skillcard-db` and `skillcard-web`
//! and call into this crate, so every rule of the regulation can be read and tested in one place.
//!
//! Each clause of the regulation that the code enforces has one findable function named after
//! its requirement ID (`r1_…`, `r4_1_…`, `note2_…`); `grep -rn "R-4.1"` finds it.

/// An enum stored as one word per variant: `ALL`, `as_str`, `parse`, serde and `Display` all
/// use the same words (the database's, the API's).
macro_rules! stored_words {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $($(#[$vmeta:meta])* $variant:ident => $word:literal,)+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $word)] $variant,)+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $word,)+
                }
            }

            pub fn parse(s: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.as_str() == s)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

pub mod account;
pub mod audit;
pub mod card;
pub mod cases;
pub mod custody;
pub mod date;
pub mod delivery;
pub mod error;
pub mod exam;
pub mod fa;
pub mod issuance;
pub mod ledger;
pub mod national_id;
pub mod notice;
pub mod policy;
pub mod printing;
pub mod search;
pub mod serial;
pub mod text;
pub mod workflow;

/// A state enum shows as its stored word (`{{ status }}` in a template's attribute, logs).
macro_rules! display_as_str {
    ($($t:ty),* $(,)?) => {$(
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    )*};
}

display_as_str!(
    card::CardState,
    cases::CaseKind,
    cases::CaseStatus,
    custody::ShipmentStatus,
    custody::RequestStatus,
    exam::ListStatus,
    exam::Decision,
    ledger::Direction,
    notice::NoticeKind,
    notice::NoticeStatus,
    printing::PrintStatus,
    policy::Role,
    workflow::Step,
);

/// A state enum's Persian name is `fa`'s, reachable from the value (`{{ status.label_fa() }}`).
macro_rules! label_fa_from {
    ($($t:ty => $f:path),* $(,)?) => {$(
        impl $t {
            pub fn label_fa(self) -> &'static str {
                $f(self)
            }
        }
    )*};
}

label_fa_from!(
    cases::CaseKind => fa::case_kind,
    cases::CaseStatus => fa::case_status,
    custody::ShipmentStatus => fa::shipment_status,
    custody::RequestStatus => fa::request_status,
    exam::ListStatus => fa::list_status,
    exam::Decision => fa::decision,
    notice::NoticeKind => fa::notice_kind,
    notice::NoticeStatus => fa::notice_status,
    printing::PrintStatus => fa::print_status,
    exam::CentreKind => fa::centre_kind,
    issuance::FeeKind => fa::fee_kind,
    issuance::PaymentSource => fa::payment_source,
    notice::Delivery => fa::delivery,
);

pub use error::DomainError;

#[cfg(test)]
mod tests {
    /// A stored word is the same in the database, the API's JSON and `Display`; each has a
    /// Persian name.
    #[test]
    fn stored_words_agree_everywhere() {
        fn agree<T: serde::Serialize + std::fmt::Display + Copy>(
            all: &[T],
            word: fn(T) -> &'static str,
            label: fn(T) -> &'static str,
        ) {
            for &v in all {
                assert_eq!(serde_json::to_value(v).unwrap(), word(v));
                assert_eq!(v.to_string(), word(v));
                assert!(!label(v).is_empty(), "{v} has no Persian name");
            }
        }
        use crate::*;
        agree(&cases::CaseKind::ALL, |v| v.as_str(), |v| v.label_fa());
        agree(&cases::CaseStatus::ALL, |v| v.as_str(), |v| v.label_fa());
        agree(
            &custody::ShipmentStatus::ALL,
            |v| v.as_str(),
            |v| v.label_fa(),
        );
        agree(
            &custody::RequestStatus::ALL,
            |v| v.as_str(),
            |v| v.label_fa(),
        );
        agree(custody::CapBasis::ALL, |v| v.as_str(), |_| "-");
        agree(&exam::ListStatus::ALL, |v| v.as_str(), |v| v.label_fa());
        agree(&exam::Decision::ALL, |v| v.as_str(), |v| v.label_fa());
        agree(exam::CentreKind::ALL, |v| v.as_str(), |v| v.label_fa());
        agree(issuance::FeeKind::ALL, |v| v.as_str(), |v| v.label_fa());
        agree(notice::Delivery::ALL, |v| v.as_str(), |v| v.label_fa());
        agree(
            issuance::PaymentSource::ALL,
            |v| v.as_str(),
            |v| v.label_fa(),
        );
        agree(&notice::NoticeKind::ALL, |v| v.as_str(), |v| v.label_fa());
        agree(&notice::NoticeStatus::ALL, |v| v.as_str(), |v| v.label_fa());
        agree(
            &printing::PrintStatus::ALL,
            |v| v.as_str(),
            |v| v.label_fa(),
        );
        agree(printing::Standing::ALL, |v| v.as_str(), |_| "-");
        agree(&card::CardState::ALL, |v| v.as_str(), |v| v.label_fa());
        agree(&policy::Role::ALL, |v| v.as_str(), |v| v.label_fa());
        agree(&workflow::Step::ALL, |v| v.as_str(), |v| v.label_fa());
    }
}
