//! Part 2: HQ's reference data and the province's centres, exam lists and candidates,
//! checking a list and deciding scores, the fee and the certificate (R-6.5,
//! ), and the card's print.

use crate::forms::{self, Flag, NumText};
use serde::Deserialize;
use skillcard_core::DomainError;
use skillcard_db::exams::{CandidateCorrection, NewCandidate, ScoreLine};
use utoipa::ToSchema;

/// HQ adds a trade (skill standard).
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateTrade {
    pub standard_code: String,
    pub title: String,
}

/// A province's test centre or training school.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateCentre {
    pub province_id: NumText,
    pub code: String,
    pub name: String,
    /// `public` or `private`.
    pub kind: String,
}

/// HQ sets the issuance or replacement fee.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SetFee {
    /// `issuance` or `replacement`.
    pub kind: String,
    pub amount_rial: NumText,
}

/// a centre's exam officer opens the list of one trade and exam date.
#[derive(Debug, Deserialize, ToSchema)]
pub struct OpenExamList {
    pub centre_id: NumText,
    pub trade_id: NumText,
    /// Solar Hijri, e.g. 1405/09/10 (any digits).
    pub exam_date: String,
}

/// a candidate joins an editable list.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RegisterCandidate {
    pub national_id: String,
    pub first_name: String,
    pub last_name: String,
    pub father_name: String,
    /// Solar Hijri.
    pub birth_date: String,
    pub written_score: String,
    /// JPEG or PNG, base64 (the API; the pages upload a photo separately).
    #[serde(default)]
    pub photo_base64: Option<String>,
}

impl RegisterCandidate {
    pub fn input(self) -> Result<NewCandidate, DomainError> {
        let photo = match self.photo_base64.as_deref().filter(|p| !p.is_empty()) {
            Some(p) => {
                Some(forms::decode_base64(p).ok_or(DomainError::InvalidValue { field: "photo" })?)
            }
            None => None,
        };
        Ok(NewCandidate {
            national_id: self.national_id,
            first_name: self.first_name,
            last_name: self.last_name,
            father_name: self.father_name,
            birth_date: self.birth_date,
            written_score: self.written_score,
            photo,
        })
    }
}

/// corrects a candidate's data until the day before the exam; a field left out or empty
/// keeps what is on record; the reason (the applicant's request, say) is required.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CorrectCandidate {
    #[serde(default)]
    pub national_id: Option<String>,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub father_name: Option<String>,
    /// Solar Hijri.
    #[serde(default)]
    pub birth_date: Option<String>,
    pub reason: String,
}

impl CorrectCandidate {
    pub fn input(self) -> CandidateCorrection {
        CandidateCorrection {
            national_id: self.national_id,
            first_name: self.first_name,
            last_name: self.last_name,
            father_name: self.father_name,
            birth_date: self.birth_date,
            reason: self.reason,
        }
    }
}

/// One candidate's practical score.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ScoreRow {
    pub national_id: String,
    pub score: String,
}

/// practical scores, all or nothing: a JSON list of rows, or a form's textarea with one
/// `national-id score` a line (the row number is the line's; blank lines are skipped).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum Scores {
    List(Vec<ScoreRow>),
    Text(String),
}

/// The command of [`Scores`].
#[derive(Debug, Deserialize, ToSchema)]
pub struct RecordScores {
    pub scores: Scores,
}

impl RecordScores {
    pub fn input(self) -> Vec<ScoreLine> {
        match self.scores {
            Scores::List(rows) => rows
                .into_iter()
                .enumerate()
                .map(|(i, r)| ScoreLine {
                    row: i + 1,
                    national_id: r.national_id,
                    score: r.score,
                })
                .collect(),
            Scores::Text(text) => text
                .lines()
                .enumerate()
                .filter(|(_, l)| !l.trim().is_empty())
                .map(|(i, l)| {
                    let mut parts = l.split_whitespace();
                    let national_id = parts.next().unwrap_or_default().to_string();
                    ScoreLine {
                        row: i + 1,
                        national_id,
                        score: parts.collect::<Vec<_>>().join(" "),
                    }
                })
                .collect(),
        }
    }
}

/// a bank receipt for the issuance fee.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RecordPayment {
    pub reference: String,
    pub amount_rial: NumText,
}

/// the certificate, once the clerk confirms the data match the exam record.
#[derive(Debug, Deserialize, ToSchema)]
pub struct IssueCertificate {
    /// The clerk confirms the candidate's data match the exam worksheet (a ticked checkbox).
    #[serde(default)]
    pub confirm: Flag,
}

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
