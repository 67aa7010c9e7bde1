//! Part 3: handing cards to their holders and the steps of damage cases and
//! replacement requests (R-8.1, Note 4).

use crate::forms::{Flag, NumText};
use serde::Deserialize;
use skillcard_core::delivery::{r7_1_in_person, r7_post, Handover};
use skillcard_core::DomainError;
use utoipa::ToSchema;

/// a card handed to its holder in person, or sent by post.
#[derive(Debug, Deserialize, ToSchema)]
pub struct DeliverCard {
    /// `in_person` or `post`.
    pub method: String,
    /// In person: who received the card (the holder or a representative).
    #[serde(default)]
    pub receiver: String,
    /// By post: the tracking number.
    #[serde(default)]
    pub tracking_no: String,
}

impl DeliverCard {
    pub fn input(self) -> Result<Handover, DomainError> {
        match self.method.as_str() {
            "in_person" => r7_1_in_person(&self.receiver),
            "post" => r7_post(&self.tracking_no),
            _ => Err(DomainError::InvalidValue { field: "delivery" }),
        }
    }
}

/// the review's finding, written on Form 6.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ReviewDamage {
    pub outcome: String,
}

/// Note 4: the provincial assessment board's decision on a replacement.
#[derive(Debug, Deserialize, ToSchema)]
pub struct DecideReplacement {
    pub approve: Flag,
    /// Required to reject.
    #[serde(default)]
    pub reason: String,
}

/// Note 4: the replacement fee's payment (a bank receipt).
#[derive(Debug, Deserialize, ToSchema)]
pub struct PayReplacementFee {
    pub reference: String,
    pub amount_rial: NumText,
}

impl PayReplacementFee {
    /// The reference and the amount in rials.
    pub fn input(self) -> Result<(String, i64), DomainError> {
        let amount = self.amount_rial.value("amount")?;
        let amount =
            i64::try_from(amount).map_err(|_| DomainError::InvalidValue { field: "amount" })?;
        Ok((self.reference, amount))
    }
}
