//! Part 2: checking a list and deciding scores, and the card's print (R-6.7 –
//!

use crate::forms::{self, Flag, NumText};
use serde::Deserialize;
use skillcard_core::DomainError;
use utoipa::ToSchema;

/// the Assessment Office accepts a submitted list or returns it with remarks.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CheckList {
    pub accept: Flag,
    /// Required to return the list.
    #[serde(default)]
    pub remarks: String,
}

/// the head approves or rejects one practical score.
#[derive(Debug, Deserialize, ToSchema)]
pub struct DecideScore {
    pub approve: Flag,
    /// Required to reject.
    #[serde(default)]
    pub reason: String,
}

/// a print opens for the chip the workstation read.
#[derive(Debug, Deserialize, ToSchema)]
pub struct StartPrint {
    /// The chip's UID as read through PC/SC (hex, 4 to 16 bytes; spaces or colons allowed).
    pub chip_uid: String,
    /// A serial of the office stock; by default (absent or empty) the lowest one.
    #[serde(default)]
    pub serial: Option<NumText>,
}

impl StartPrint {
    /// The chip UID's bytes and the serial asked for.
    pub fn input(self) -> Result<(Vec<u8>, Option<u64>), DomainError> {
        Ok((
            forms::hex_bytes("chip_uid", &self.chip_uid)?,
            NumText::optional(&self.serial, "serial")?,
        ))
    }
}

/// the inspection of the printed card.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RecordInspection {
    /// True when the printed card is sound.
    pub sound: Flag,
    /// Required when the card is damaged: what is wrong with it.
    #[serde(default)]
    pub reason: String,
}

/// A card in printing spoiled, with its reason: its serial is never used again.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SpoilPrint {
    pub reason: String,
}
