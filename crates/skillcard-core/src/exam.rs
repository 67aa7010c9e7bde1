//! Part 2 of the regulation, before issuance: practical scores are recorded by the test centre
//! the exam list is submitted to the provincial Assessment Office, checked by it
//! and each practical score approved or rejected by the head of the office.
//! Approved scores are frozen. The pass rule is policy, not law: HQ sets it (see [`PassPolicy`]).

use crate::error::DomainError;
use crate::text;
use serde::{Deserialize, Serialize};

/// A score in tenths of a point, 0.0–100.0 (stored as 0–1000).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Score(u16);

impl Score {
    pub fn from_tenths(t: u16) -> Result<Self, DomainError> {
        if t > 1000 {
            return Err(DomainError::InvalidValue { field: "score" });
        }
        Ok(Score(t))
    }

    pub fn tenths(self) -> u16 {
        self.0
    }

    /// Parses `87.5`, `۸۷/۵`, `87,5` or `87` (at most one decimal).
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        let bad = || DomainError::InvalidValue { field: "score" };
        let t = text::normalize(input).replace(['٫', '/', ','], ".");
        let (whole, frac) = match t.split_once('.') {
            Some((w, f)) => (w, f),
            None => (t.as_str(), ""),
        };
        if whole.is_empty() || !whole.chars().all(|c| c.is_ascii_digit()) || frac.len() > 1 {
            return Err(bad());
        }
        if !frac.chars().all(|c| c.is_ascii_digit()) {
            return Err(bad());
        }
        let w: u16 = whole.parse().map_err(|_| bad())?;
        let f: u16 = if frac.is_empty() {
            0
        } else {
            frac.parse().map_err(|_| bad())?
        };
        let tenths = w
            .checked_mul(10)
            .and_then(|x| x.checked_add(f))
            .ok_or_else(bad)?;
        Self::from_tenths(tenths)
    }
}

impl std::fmt::Display for Score {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0.is_multiple_of(10) {
            write!(f, "{}", self.0 / 10)
        } else {
            write!(f, "{}.{}", self.0 / 10, self.0 % 10)
        }
    }
}

/// HQ's pass rule: minimums for each part and for the weighted final score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PassPolicy {
    pub written_min: Score,
    pub practical_min: Score,
    /// Weight of the written part in percent; the practical part weighs the rest.
    pub written_weight_pct: u8,
    pub final_min: Score,
}

impl PassPolicy {
    /// The commonly published rule: written ≥ 50, practical ≥ 70, 0.25 w + 0.75 p ≥ 70.
    pub const PUBLISHED: PassPolicy = PassPolicy {
        written_min: Score(500),
        practical_min: Score(700),
        written_weight_pct: 25,
        final_min: Score(700),
    };

    pub fn validate(&self) -> Result<(), DomainError> {
        if self.written_weight_pct > 100 {
            return Err(DomainError::InvalidValue { field: "weight" });
        }
        Ok(())
    }

    /// The weighted final score, rounded half up to a tenth.
    pub fn final_score(&self, written: Score, practical: Score) -> Score {
        let w = u32::from(self.written_weight_pct);
        let sum = u32::from(written.0) * w + u32::from(practical.0) * (100 - w);
        Score(((sum + 50) / 100) as u16)
    }

    pub fn passes(&self, written: Score, practical: Score) -> bool {
        written >= self.written_min
            && practical >= self.practical_min
            && self.final_score(written, practical) >= self.final_min
    }
}

/// Where an exam list (the "special exam form") stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ListStatus {
    /// The centre is recording scores.
    Draft,
    /// Sent to the Assessment Office; the centre can no longer change it.
    Submitted,
    /// Checked by the Assessment Office; the head decides each score.
    Checked,
    /// Sent back to the centre with remarks; editable again.
    Returned,
}

impl ListStatus {
    pub const ALL: [ListStatus; 4] = [
        ListStatus::Draft,
        ListStatus::Submitted,
        ListStatus::Checked,
        ListStatus::Returned,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ListStatus::Draft => "draft",
            ListStatus::Submitted => "submitted",
            ListStatus::Checked => "checked",
            ListStatus::Returned => "returned",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            ListStatus::Draft,
            ListStatus::Submitted,
            ListStatus::Checked,
            ListStatus::Returned,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }
}

/// The head's decision on one practical score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Pending,
    Approved,
    Rejected,
}

impl Decision {
    pub const ALL: [Decision; 3] = [Decision::Pending, Decision::Approved, Decision::Rejected];

    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Pending => "pending",
            Decision::Approved => "approved",
            Decision::Rejected => "rejected",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Decision::Pending, Decision::Approved, Decision::Rejected]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

stored_words! {
    /// A test centre: a public training centre or a private training school.
    pub enum CentreKind {
        Public => "public",
        Private => "private",
    }
}

/// →: a certificate is due for a candidate whose passing scores the head approved,
/// until it is issued. The clerk's queue and the entry's `IssueCertificate` step both ask this.
pub fn certificate_due(decision: Decision, passes: Option<bool>, certified: bool) -> bool {
    decision == Decision::Approved && passes == Some(true) && !certified
}

/// the applicant answers for their data, which can be corrected until the day before the
/// exam; from the exam day on (and so after printing) only the board's replacement road of
/// Note 4 remains.
pub fn r9_1_check_correctable(exam_date: time::Date, today: time::Date) -> Result<(), DomainError> {
    if today < exam_date {
        Ok(())
    } else {
        Err(DomainError::CorrectionClosed { exam_date })
    }
}

/// with: scores can be recorded only while the centre holds the list.
pub fn r6_1_check_editable(status: ListStatus) -> Result<(), DomainError> {
    match status {
        ListStatus::Draft | ListStatus::Returned => Ok(()),
        _ => Err(DomainError::ListLocked { status }),
    }
}

/// a list is submitted whole: not empty, every candidate scored.
pub fn r6_2_submit(
    status: ListStatus,
    entries: usize,
    unscored: usize,
) -> Result<ListStatus, DomainError> {
    r6_1_check_editable(status)?;
    if entries == 0 {
        return Err(DomainError::Required { field: "entries" });
    }
    if unscored > 0 {
        return Err(DomainError::UnscoredEntries {
            count: unscored as u64,
        });
    }
    Ok(ListStatus::Submitted)
}

/// the Assessment Office checks a submitted list, or returns it with remarks.
pub fn r6_3_check(
    status: ListStatus,
    accept: bool,
    remarks: &str,
) -> Result<ListStatus, DomainError> {
    if status != ListStatus::Submitted {
        return Err(DomainError::WrongListStatus {
            status,
            expected: ListStatus::Submitted,
        });
    }
    if accept {
        Ok(ListStatus::Checked)
    } else if text::normalize(remarks).is_empty() {
        Err(DomainError::Required { field: "remarks" })
    } else {
        Ok(ListStatus::Returned)
    }
}

/// the head approves or rejects one practical score of a checked list; a rejection needs
/// a reason; a decided score is frozen.
pub fn r6_4_decide(
    status: ListStatus,
    current: Decision,
    approve: bool,
    reason: &str,
) -> Result<Decision, DomainError> {
    if status != ListStatus::Checked {
        return Err(DomainError::WrongListStatus {
            status,
            expected: ListStatus::Checked,
        });
    }
    if current != Decision::Pending {
        return Err(DomainError::AlreadyRecorded { what: "decision" });
    }
    if approve {
        Ok(Decision::Approved)
    } else if text::normalize(reason).is_empty() {
        Err(DomainError::Required { field: "reason" })
    } else {
        Ok(Decision::Rejected)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r9_1_corrections_close_on_the_exam_day() {
        let exam = time::macros::date!(2026 - 12 - 10);
        assert!(r9_1_check_correctable(exam, time::macros::date!(2026 - 12 - 09)).is_ok());
        for today in [exam, time::macros::date!(2026 - 12 - 11)] {
            assert_eq!(
                r9_1_check_correctable(exam, today),
                Err(DomainError::CorrectionClosed { exam_date: exam })
            );
        }
    }

    fn s(x: &str) -> Score {
        Score::parse(x).unwrap()
    }

    #[test]
    fn parses_scores() {
        assert_eq!(s("87.5").tenths(), 875);
        assert_eq!(s("۸۷/۵").tenths(), 875);
        assert_eq!(s("100").tenths(), 1000);
        assert_eq!(s("0").to_string(), "0");
        assert_eq!(s("70.0").to_string(), "70");
        for bad in ["100.1", "-1", "abc", "", "87.55", "1e2", "."] {
            assert!(Score::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn published_pass_rule() {
        let p = PassPolicy::PUBLISHED;
        assert!(p.passes(s("50"), s("80")));
        // Both minimums met, but 0.25 × 50 + 0.75 × 70 = 65 < 70.
        assert!(!p.passes(s("50"), s("70")));
        assert_eq!(p.final_score(s("50"), s("80")).to_string(), "72.5");
        assert!(!p.passes(s("49.9"), s("100")));
        assert!(!p.passes(s("100"), s("69.9")));
        let strict = PassPolicy {
            final_min: s("75"),
            ..p
        };
        assert!(!strict.passes(s("50"), s("80")));
    }

    #[test]
    fn list_lifecycle() {
        assert_eq!(
            r6_2_submit(ListStatus::Draft, 3, 0).unwrap(),
            ListStatus::Submitted
        );
        assert!(matches!(
            r6_2_submit(ListStatus::Draft, 3, 1),
            Err(DomainError::UnscoredEntries { count: 1 })
        ));
        assert!(r6_2_submit(ListStatus::Submitted, 3, 0).is_err());
        assert!(r6_1_check_editable(ListStatus::Checked).is_err());
        assert_eq!(
            r6_3_check(ListStatus::Submitted, false, "نمره ناخوانا").unwrap(),
            ListStatus::Returned
        );
        assert!(r6_3_check(ListStatus::Submitted, false, "  ").is_err());
        assert_eq!(
            r6_3_check(ListStatus::Submitted, true, "").unwrap(),
            ListStatus::Checked
        );
        assert!(r6_4_decide(ListStatus::Submitted, Decision::Pending, true, "").is_err());
        assert_eq!(
            r6_4_decide(ListStatus::Checked, Decision::Pending, true, "").unwrap(),
            Decision::Approved
        );
        assert!(r6_4_decide(ListStatus::Checked, Decision::Approved, false, "x").is_err());
        assert!(r6_4_decide(ListStatus::Checked, Decision::Pending, false, "").is_err());
    }
}
