//! Part 2 before issuance: HQ's reference data (trades, fees, the pass policy), test centres,
//! candidates, and exam lists from score entry through submission, checking
//! and the head's decisions. Rules come from `skillcard_core::exam`.

use crate::error::unique_to;
use crate::queues;
use crate::tx::WriteTx;
use crate::views::{self, iso_fa};
use crate::{Result, Store, StoreError};
use serde::Serialize;
use serde_json::json;
use skillcard_core::date::JalaliDate;
use skillcard_core::error::RowError;
use skillcard_core::exam::{self, CentreKind, Decision, ListStatus, PassPolicy, Score};
use skillcard_core::issuance::FeeKind;
use skillcard_core::national_id::NationalId;
use skillcard_core::policy::{authorize, Action, Actor};
use skillcard_core::workflow::{self, NextActions};
use skillcard_core::{text, DomainError};
use sqlx::AnyConnection;
use std::collections::HashSet;
use utoipa::ToSchema;

const NAME_MAX: usize = 100;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TradeView {
    pub id: i64,
    pub standard_code: String,
    pub title_fa: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CentreView {
    pub id: i64,
    pub province_id: i64,
    pub code: String,
    pub name_fa: String,
    /// `public` (a training centre) or `private` (a training school).
    #[schema(value_type = String)]
    pub kind: CentreKind,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PolicyView {
    pub written_min: String,
    pub practical_min: String,
    pub written_weight_pct: u8,
    pub final_min: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FeeView {
    /// `issuance` or `replacement`.
    #[schema(value_type = String)]
    pub kind: FeeKind,
    pub amount_rial: i64,
    pub since: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EntryView {
    pub id: i64,
    pub candidate_id: i64,
    pub national_id: String,
    pub first_name: String,
    pub last_name: String,
    pub father_name: String,
    pub birth_date: String,
    pub birth_date_fa: String,
    pub written_score: String,
    pub practical_score: Option<String>,
    pub final_score: Option<String>,
    pub passes: Option<bool>,
    /// `pending`, `approved` or `rejected`.
    #[schema(value_type = String)]
    pub decision: Decision,
    pub reason: String,
    pub has_photo: bool,
    /// The certificate's number once issued.
    pub certificate_no: Option<String>,
    /// What the reader can do with this candidate's entry now, and what it waits for.
    #[schema(value_type = Object)]
    pub next_actions: NextActions,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExamListView {
    pub id: i64,
    pub province_id: i64,
    pub centre_id: i64,
    pub centre_name: String,
    pub trade_id: i64,
    pub standard_code: String,
    pub trade_title: String,
    pub exam_date: String,
    pub exam_date_fa: String,
    /// `draft`, `submitted`, `checked` or `returned`.
    #[schema(value_type = String)]
    pub status: ListStatus,
    pub remarks: String,
    /// What the reader can do with the list now, and what it waits for from others.
    #[schema(value_type = Object)]
    pub next_actions: NextActions,
    pub entries: Vec<EntryView>,
}

use crate::views::Terms;
pub use crate::views::{Cursor, Page, PAGE_MAX};

/// An exam list in a listing: its head and counts, without the entries.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExamListSummary {
    pub id: i64,
    pub province_id: i64,
    pub centre_name: String,
    pub standard_code: String,
    pub trade_title: String,
    pub exam_date: String,
    pub exam_date_fa: String,
    #[schema(value_type = String)]
    pub status: ListStatus,
    pub entries: u64,
    /// Entries waiting for the head's decision.
    pub pending_decisions: u64,
    /// The list's steps for the reader, with `decide_score` while decisions are pending.
    #[schema(value_type = Object)]
    pub next_actions: NextActions,
}

/// A candidate whose certificate is due.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CertificateDue {
    pub candidate_id: i64,
    pub first_name: String,
    pub last_name: String,
    pub national_id: String,
}

#[derive(Debug, Clone)]
pub struct NewCandidate {
    pub national_id: String,
    pub first_name: String,
    pub last_name: String,
    pub father_name: String,
    /// Solar Hijri, any digits.
    pub birth_date: String,
    pub written_score: String,
    pub photo: Option<Vec<u8>>,
}

/// a correction of a candidate's data, with why; a field left out keeps what is on
/// record.
#[derive(Debug, Clone, Default)]
pub struct CandidateCorrection {
    pub national_id: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub father_name: Option<String>,
    /// Solar Hijri, any digits.
    pub birth_date: Option<String>,
    pub reason: String,
}

/// One line of practical scores, from a form or a sheet.
#[derive(Debug, Clone)]
pub struct ScoreLine {
    /// The row number the user sees (sheet row, or position in the form).
    pub row: usize,
    pub national_id: String,
    pub score: String,
}

pub(crate) fn score_of(t: i64) -> Result<Score> {
    u16::try_from(t)
        .ok()
        .and_then(|t| Score::from_tenths(t).ok())
        .ok_or_else(|| StoreError::Corrupt(format!("stored score {t}")))
}

/// A stored score (tenths of a point) as written, e.g. `"87.5"`; empty if the stored value is
/// out of range (views only: writes go through [`score_of`]).
pub(crate) fn score_text(tenths: i64) -> String {
    score_of(tenths).map(|s| s.to_string()).unwrap_or_default()
}

async fn list_head(conn: &mut AnyConnection, list_id: i64) -> Result<(i64, ListStatus)> {
    let (province_id, status): (i64, String) =
        sqlx::query_as("SELECT province_id, status FROM exam_lists WHERE id = $1")
            .bind(list_id)
            .fetch_optional(&mut *conn)
            .await?
            .ok_or(DomainError::NotFound { what: "exam_list" })?;
    let status = views::state("exam list status", &status, ListStatus::parse)?;
    Ok((province_id, status))
}

/// A candidate's exam outcome: the head's decision and whether the scores pass the policy
/// (`None` while the practical score is missing).
pub(crate) async fn outcome_in(
    conn: &mut AnyConnection,
    candidate_id: i64,
) -> Result<(Decision, Option<bool>)> {
    let row: Option<(String, i64, Option<i64>)> = sqlx::query_as(
        "SELECT e.decision, c.written_score, e.practical_score FROM exam_entries e \
         JOIN candidates c ON c.id = e.candidate_id WHERE e.candidate_id = $1",
    )
    .bind(candidate_id)
    .fetch_optional(&mut *conn)
    .await?;
    let (decision, written, practical) = row.ok_or(DomainError::NotFound { what: "candidate" })?;
    let decision = views::state("score decision", &decision, Decision::parse)?;
    let policy = policy_in(conn).await?;
    let written = score_of(written)?;
    let passes = practical
        .map(score_of)
        .transpose()?
        .map(|p| policy.passes(written, p));
    Ok((decision, passes))
}

pub(crate) async fn policy_in(conn: &mut AnyConnection) -> Result<PassPolicy> {
    let (w, p, pct, f): (i64, i64, i64, i64) = sqlx::query_as(
        "SELECT written_min, practical_min, written_weight_pct, final_min FROM pass_policies ORDER BY id DESC LIMIT 1",
    )
    .fetch_one(&mut *conn)
    .await?;
    Ok(PassPolicy {
        written_min: score_of(w)?,
        practical_min: score_of(p)?,
        written_weight_pct: u8::try_from(pct)
            .map_err(|_| StoreError::Corrupt("policy weight".into()))?,
        final_min: score_of(f)?,
    })
}

async fn set_list_status(
    w: &mut WriteTx,
    actor: &Actor,
    list_id: i64,
    province_id: i64,
    from: ListStatus,
    to: ListStatus,
    remarks: &str,
) -> Result<()> {
    sqlx::query("UPDATE exam_lists SET status = $1, remarks = $2 WHERE id = $3")
        .bind(to.as_str())
        .bind(remarks)
        .bind(list_id)
        .execute(&mut *w.tx)
        .await?;
    w.audit(
        Some(actor),
        &format!("exam_list.{}", to.as_str()),
        "exam_list",
        list_id,
        Some(province_id),
        json!({ "status": from.as_str() }),
        json!({ "status": to.as_str(), "remarks": remarks }),
    )
    .await
}

impl Store {
    pub async fn create_trade(
        &self,
        actor: &Actor,
        standard_code: &str,
        title: &str,
    ) -> Result<TradeView> {
        authorize(actor, Action::ManageReferenceData, None)?;
        let code = text::required("standard_code", standard_code, 32)?;
        let title = text::required("title", title, 200)?;
        let mut w = WriteTx::begin(self).await?;
        let (id,): (i64,) = sqlx::query_as("INSERT INTO trades (standard_code, title_fa, created_at) VALUES ($1, $2, $3) RETURNING id")
            .bind(&code)
            .bind(&title)
            .bind(w.now_str())
            .fetch_one(&mut *w.tx)
            .await
            .map_err(|e| unique_to(e, DomainError::AlreadyRecorded { what: "trade" }))?;
        w.audit(
            Some(actor),
            "trade.create",
            "trade",
            id,
            None,
            json!(null),
            json!({ "standard_code": code, "title": title }),
        )
        .await?;
        w.commit().await?;
        Ok(TradeView {
            id,
            standard_code: code,
            title_fa: title,
        })
    }

    pub async fn trades(&self) -> Result<Vec<TradeView>> {
        let rows: Vec<(i64, String, String)> =
            sqlx::query_as("SELECT id, standard_code, title_fa FROM trades ORDER BY standard_code")
                .fetch_all(&self.pool)
                .await?;
        Ok(rows
            .into_iter()
            .map(|(id, standard_code, title_fa)| TradeView {
                id,
                standard_code,
                title_fa,
            })
            .collect())
    }

    pub async fn create_centre(
        &self,
        actor: &Actor,
        province_id: i64,
        code: &str,
        name: &str,
        kind: &str,
    ) -> Result<CentreView> {
        authorize(actor, Action::ManageCentres, Some(province_id))?;
        let code = text::required("code", code, 32)?;
        let name = text::required("centre", name, 200)?;
        let kind = CentreKind::parse(kind).ok_or(DomainError::InvalidValue { field: "kind" })?;
        let mut w = WriteTx::begin(self).await?;
        let (id,): (i64,) =
            sqlx::query_as("INSERT INTO centres (province_id, code, name_fa, kind) VALUES ($1, $2, $3, $4) RETURNING id")
                .bind(province_id)
                .bind(&code)
                .bind(&name)
                .bind(kind.as_str())
                .fetch_one(&mut *w.tx)
                .await
                .map_err(|e| unique_to(e, DomainError::AlreadyRecorded { what: "centre" }))?;
        w.audit(
            Some(actor),
            "centre.create",
            "centre",
            id,
            Some(province_id),
            json!(null),
            json!({ "code": code, "name": name, "kind": kind }),
        )
        .await?;
        w.commit().await?;
        Ok(CentreView {
            id,
            province_id,
            code,
            name_fa: name,
            kind,
        })
    }

    pub async fn centres(&self, actor: &Actor) -> Result<Vec<CentreView>> {
        authorize(actor, Action::ViewExams, None)?;
        let rows: Vec<(i64, i64, String, String, String)> = sqlx::query_as(
            "SELECT id, province_id, code, name_fa, kind FROM centres WHERE ($1 IS NULL OR province_id = $1) ORDER BY province_id, code",
        )
        .bind(actor.scope().province_filter())
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(id, province_id, code, name_fa, kind)| {
                Ok(CentreView {
                    id,
                    province_id,
                    code,
                    name_fa,
                    kind: views::state("centre kind", &kind, CentreKind::parse)?,
                })
            })
            .collect()
    }

    /// HQ replaces the pass policy; earlier versions stay in the table and the audit log.
    pub async fn set_pass_policy(&self, actor: &Actor, policy: PassPolicy) -> Result<PolicyView> {
        authorize(actor, Action::ManageReferenceData, None)?;
        policy.validate()?;
        let mut w = WriteTx::begin(self).await?;
        let before = policy_in(&mut w.tx).await?;
        sqlx::query(
            "INSERT INTO pass_policies (written_min, practical_min, written_weight_pct, final_min, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(i64::from(policy.written_min.tenths()))
        .bind(i64::from(policy.practical_min.tenths()))
        .bind(i64::from(policy.written_weight_pct))
        .bind(i64::from(policy.final_min.tenths()))
        .bind(actor.user_id)
        .bind(w.now_str())
        .execute(&mut *w.tx)
        .await?;
        let rejudged = queues::rejudge_certificates_due(&mut w.tx).await?;
        w.audit(
            Some(actor),
            "pass_policy.set",
            "pass_policy",
            "current",
            None,
            json!(before),
            json!({ "policy": policy, "rejudged_candidates": rejudged }),
        )
        .await?;
        w.commit().await?;
        Ok(policy_view(policy))
    }

    pub async fn pass_policy(&self) -> Result<PolicyView> {
        let mut conn = self.pool.acquire().await?;
        Ok(policy_view(policy_in(&mut conn).await?))
    }

    /// HQ sets a fee (`issuance` or `replacement`, in rials); the newest one is in force.
    pub async fn set_fee(
        &self,
        actor: &Actor,
        kind: &str,
        amount_rial: i64,
    ) -> Result<Vec<FeeView>> {
        authorize(actor, Action::ManageReferenceData, None)?;
        let kind = FeeKind::parse(kind).ok_or(DomainError::InvalidValue { field: "kind" })?;
        if amount_rial <= 0 || amount_rial > 10_000_000_000 {
            return Err(DomainError::InvalidValue { field: "amount" }.into());
        }
        let mut w = WriteTx::begin(self).await?;
        sqlx::query(
            "INSERT INTO fees (kind, amount_rial, created_by, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(kind.as_str())
        .bind(amount_rial)
        .bind(actor.user_id)
        .bind(w.now_str())
        .execute(&mut *w.tx)
        .await?;
        w.audit(
            Some(actor),
            "fee.set",
            "fee",
            kind.as_str(),
            None,
            json!(null),
            json!({ "kind": kind, "amount_rial": amount_rial }),
        )
        .await?;
        w.commit().await?;
        self.fees().await
    }

    /// The fees in force, one per kind.
    pub async fn fees(&self) -> Result<Vec<FeeView>> {
        let rows: Vec<(String, i64, String)> = sqlx::query_as(
            "SELECT f.kind, f.amount_rial, f.created_at FROM fees f \
             WHERE f.id = (SELECT MAX(g.id) FROM fees g WHERE g.kind = f.kind) ORDER BY f.kind",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(kind, amount_rial, since)| {
                Ok(FeeView {
                    kind: views::state("fee kind", &kind, FeeKind::parse)?,
                    amount_rial,
                    since,
                })
            })
            .collect()
    }

    /// Opens an exam list (the "special exam form") of one centre, trade and exam date.
    pub async fn create_exam_list(
        &self,
        actor: &Actor,
        centre_id: i64,
        trade_id: i64,
        exam_date: &str,
    ) -> Result<ExamListView> {
        let date = JalaliDate::parse(exam_date)?.to_gregorian()?;
        let mut w = WriteTx::begin(self).await?;
        let (province_id,): (i64,) =
            sqlx::query_as("SELECT province_id FROM centres WHERE id = $1")
                .bind(centre_id)
                .fetch_optional(&mut *w.tx)
                .await?
                .ok_or(DomainError::NotFound { what: "centre" })?;
        authorize(actor, Action::RecordScores, Some(province_id))?;
        let trade: Option<(i64,)> = sqlx::query_as("SELECT id FROM trades WHERE id = $1")
            .bind(trade_id)
            .fetch_optional(&mut *w.tx)
            .await?;
        trade.ok_or(DomainError::NotFound { what: "trade" })?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO exam_lists (province_id, centre_id, trade_id, exam_date, status, remarks, created_by, created_at) \
             VALUES ($1, $2, $3, $4, 'draft', '', $5, $6) RETURNING id",
        )
        .bind(province_id)
        .bind(centre_id)
        .bind(trade_id)
        .bind(date.to_string())
        .bind(actor.user_id)
        .bind(w.now_str())
        .fetch_one(&mut *w.tx)
        .await?;
        w.audit(
            Some(actor),
            "exam_list.create",
            "exam_list",
            id,
            Some(province_id),
            json!(null),
            json!({ "centre_id": centre_id, "trade_id": trade_id, "exam_date": date.to_string(), "status": "draft" }),
        )
        .await?;
        w.commit().await?;
        self.exam_list(actor, id).await
    }

    /// registers a candidate on an editable list (names normalised, national ID checked).
    pub async fn register_candidate(
        &self,
        actor: &Actor,
        list_id: i64,
        c: NewCandidate,
    ) -> Result<ExamListView> {
        let national_id = NationalId::parse(&c.national_id)?;
        let first = text::required("first_name", &c.first_name, NAME_MAX)?;
        let last = text::required("last_name", &c.last_name, NAME_MAX)?;
        let father = text::required("father_name", &c.father_name, NAME_MAX)?;
        let birth = JalaliDate::parse(&c.birth_date)?.to_gregorian()?;
        let written = Score::parse(&c.written_score)?;
        let photo = match c.photo {
            Some(bytes) => Some(crate::media::photo(bytes).await?),
            None => None,
        };
        let photo_type = photo.as_ref().map(|_| crate::media::PHOTO_TYPE);
        let mut w = WriteTx::begin(self).await?;
        let (province_id, status) = list_head(&mut w.tx, list_id).await?;
        authorize(actor, Action::RegisterCandidate, Some(province_id))?;
        exam::r6_1_check_editable(status)?;
        let (centre_id, trade_id): (i64, i64) =
            sqlx::query_as("SELECT centre_id, trade_id FROM exam_lists WHERE id = $1")
                .bind(list_id)
                .fetch_one(&mut *w.tx)
                .await?;
        let (candidate_id,): (i64,) = sqlx::query_as(
            "INSERT INTO candidates (province_id, centre_id, trade_id, national_id, first_name, last_name, father_name, birth_date, \
             written_score, photo, photo_type, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id",
        )
        .bind(province_id)
        .bind(centre_id)
        .bind(trade_id)
        .bind(national_id.as_str())
        .bind(&first)
        .bind(&last)
        .bind(&father)
        .bind(birth.to_string())
        .bind(i64::from(written.tenths()))
        .bind(photo)
        .bind(photo_type)
        .bind(actor.user_id)
        .bind(w.now_str())
        .fetch_one(&mut *w.tx)
        .await
        .map_err(|e| unique_to(e, DomainError::AlreadyRecorded { what: "candidate" }))?;
        sqlx::query("INSERT INTO exam_entries (list_id, candidate_id, practical_score, decision, reason) VALUES ($1, $2, NULL, 'pending', '')")
            .bind(list_id)
            .bind(candidate_id)
            .execute(&mut *w.tx)
            .await?;
        w.audit(
            Some(actor),
            "candidate.register",
            "candidate",
            candidate_id,
            Some(province_id),
            json!(null),
            json!({ "list_id": list_id, "national_id": national_id.as_str(), "name": [first, last], "father": father, "written": written.to_string() }),
        )
        .await?;
        w.commit().await?;
        self.exam_list(actor, list_id).await
    }

    /// corrects a candidate's data until the day before the exam of their list, with who
    /// and why in the audit record (the old and the new value of each changed field).
    pub async fn correct_candidate(
        &self,
        actor: &Actor,
        candidate_id: i64,
        c: CandidateCorrection,
    ) -> Result<ExamListView> {
        let reason = text::required("reason", &c.reason, 2000)?;
        fn given(v: &Option<String>) -> Option<&str> {
            v.as_deref().filter(|s| !text::normalize(s).is_empty())
        }
        let national_id = given(&c.national_id).map(NationalId::parse).transpose()?;
        let name = |field, v: &Option<String>| {
            given(v)
                .map(|s| text::required(field, s, NAME_MAX))
                .transpose()
        };
        let first = name("first_name", &c.first_name)?;
        let last = name("last_name", &c.last_name)?;
        let father = name("father_name", &c.father_name)?;
        let birth = given(&c.birth_date)
            .map(|s| JalaliDate::parse(s).and_then(JalaliDate::to_gregorian))
            .transpose()?;
        let mut w = WriteTx::begin(self).await?;
        #[allow(clippy::type_complexity)]
        let row: Option<(i64, i64, String, String, String, String, String, String)> = sqlx::query_as(
            "SELECT k.province_id, e.list_id, l.exam_date, k.national_id, k.first_name, k.last_name, k.father_name, k.birth_date \
             FROM candidates k JOIN exam_entries e ON e.candidate_id = k.id JOIN exam_lists l ON l.id = e.list_id WHERE k.id = $1",
        )
        .bind(candidate_id)
        .fetch_optional(&mut *w.tx)
        .await?;
        let (province_id, list_id, exam_date, old_nid, old_first, old_last, old_father, old_birth) =
            row.ok_or(DomainError::NotFound { what: "candidate" })?;
        authorize(actor, Action::CorrectCandidate, Some(province_id))?;
        let exam_date = views::iso_date(&exam_date)
            .ok_or_else(|| StoreError::Corrupt(format!("exam date {exam_date:?}")))?;
        exam::r9_1_check_correctable(exam_date, w.today())?;
        let proposed = [
            (
                "national_id",
                old_nid,
                national_id.map(|n| n.as_str().to_string()),
            ),
            ("first_name", old_first, first),
            ("last_name", old_last, last),
            ("father_name", old_father, father),
            ("birth_date", old_birth, birth.map(|d| d.to_string())),
        ];
        let changed: Vec<(&str, String, String)> = proposed
            .into_iter()
            .filter_map(|(field, old, new)| new.filter(|n| *n != old).map(|n| (field, old, n)))
            .collect();
        if changed.is_empty() {
            return Err(DomainError::Required { field: "changes" }.into());
        }
        for (field, _, new) in &changed {
            // `field` is one of the five column names above, never input.
            sqlx::query(&format!("UPDATE candidates SET {field} = $1 WHERE id = $2"))
                .bind(new)
                .bind(candidate_id)
                .execute(&mut *w.tx)
                .await
                .map_err(|e| unique_to(e, DomainError::AlreadyRecorded { what: "candidate" }))?;
        }
        let before: serde_json::Map<String, serde_json::Value> = changed
            .iter()
            .map(|(f, old, _)| (f.to_string(), json!(old)))
            .collect();
        let mut after: serde_json::Map<String, serde_json::Value> = changed
            .iter()
            .map(|(f, _, new)| (f.to_string(), json!(new)))
            .collect();
        after.insert("reason".into(), json!(reason));
        w.audit(
            Some(actor),
            "candidate.correct",
            "candidate",
            candidate_id,
            Some(province_id),
            serde_json::Value::Object(before),
            serde_json::Value::Object(after),
        )
        .await?;
        w.commit().await?;
        self.exam_list(actor, list_id).await
    }

    /// records practical scores, all or nothing. Every line is checked first; if any is
    /// wrong, nothing is written and each bad line is reported by its row number.
    pub async fn record_scores(
        &self,
        actor: &Actor,
        list_id: i64,
        lines: Vec<ScoreLine>,
    ) -> Result<ExamListView> {
        if lines.is_empty() {
            return Err(DomainError::Required { field: "score" }.into());
        }
        let mut w = WriteTx::begin(self).await?;
        let (province_id, status) = list_head(&mut w.tx, list_id).await?;
        authorize(actor, Action::RecordScores, Some(province_id))?;
        exam::r6_1_check_editable(status)?;
        let entries: Vec<(i64, String)> = sqlx::query_as(
            "SELECT e.id, c.national_id FROM exam_entries e JOIN candidates c ON c.id = e.candidate_id WHERE e.list_id = $1",
        )
        .bind(list_id)
        .fetch_all(&mut *w.tx)
        .await?;
        let mut errors = Vec::new();
        let mut updates = Vec::new();
        let mut seen = HashSet::new();
        for line in &lines {
            let fail = |e: DomainError| RowError {
                row: line.row,
                code: e.code().into(),
                message: e.message_fa(),
            };
            let nid = match NationalId::parse(&line.national_id) {
                Ok(n) => n,
                Err(e) => {
                    errors.push(fail(e));
                    continue;
                }
            };
            let Some((entry_id, _)) = entries.iter().find(|(_, n)| n == nid.as_str()) else {
                errors.push(fail(DomainError::NotFound { what: "candidate" }));
                continue;
            };
            if !seen.insert(*entry_id) {
                errors.push(fail(DomainError::AlreadyRecorded { what: "score" }));
                continue;
            }
            match Score::parse(&line.score) {
                Ok(s) => updates.push((*entry_id, s)),
                Err(e) => errors.push(fail(e)),
            }
        }
        if !errors.is_empty() {
            return Err(DomainError::InvalidRows { rows: errors }.into());
        }
        for (entry_id, score) in &updates {
            sqlx::query("UPDATE exam_entries SET practical_score = $1 WHERE id = $2")
                .bind(i64::from(score.tenths()))
                .bind(entry_id)
                .execute(&mut *w.tx)
                .await?;
        }
        w.audit(
            Some(actor),
            "exam_list.scores",
            "exam_list",
            list_id,
            Some(province_id),
            json!(null),
            json!({ "scores": updates.iter().map(|(e, s)| json!([e, s.to_string()])).collect::<Vec<_>>() }),
        )
        .await?;
        w.commit().await?;
        self.exam_list(actor, list_id).await
    }

    /// the centre submits the list to the Assessment Office.
    pub async fn submit_exam_list(&self, actor: &Actor, list_id: i64) -> Result<ExamListView> {
        let mut w = WriteTx::begin(self).await?;
        let (province_id, status) = list_head(&mut w.tx, list_id).await?;
        authorize(actor, Action::SubmitExamList, Some(province_id))?;
        let (total, unscored): (i64, i64) = sqlx::query_as(
            "SELECT CAST(COUNT(*) AS BIGINT), CAST(COALESCE(SUM(CASE WHEN practical_score IS NULL THEN 1 ELSE 0 END), 0) AS BIGINT) \
             FROM exam_entries WHERE list_id = $1",
        )
        .bind(list_id)
        .fetch_one(&mut *w.tx)
        .await?;
        let next = exam::r6_2_submit(status, total as usize, unscored as usize)?;
        set_list_status(&mut w, actor, list_id, province_id, status, next, "").await?;
        w.commit().await?;
        self.exam_list(actor, list_id).await
    }

    /// the Assessment Office marks the list checked, or returns it with remarks.
    pub async fn check_exam_list(
        &self,
        actor: &Actor,
        list_id: i64,
        accept: bool,
        remarks: &str,
    ) -> Result<ExamListView> {
        let remarks = text::optional("remarks", remarks, 2000)?;
        let mut w = WriteTx::begin(self).await?;
        let (province_id, status) = list_head(&mut w.tx, list_id).await?;
        authorize(actor, Action::CheckExamList, Some(province_id))?;
        let next = exam::r6_3_check(status, accept, &remarks)?;
        set_list_status(&mut w, actor, list_id, province_id, status, next, &remarks).await?;
        w.commit().await?;
        self.exam_list(actor, list_id).await
    }

    /// the head approves or rejects one practical score; decided scores are frozen.
    pub async fn decide_score(
        &self,
        actor: &Actor,
        entry_id: i64,
        approve: bool,
        reason: &str,
    ) -> Result<ExamListView> {
        let reason = text::optional("reason", reason, 2000)?;
        let mut w = WriteTx::begin(self).await?;
        let (list_id, candidate_id, decision): (i64, i64, String) = sqlx::query_as(
            "SELECT list_id, candidate_id, decision FROM exam_entries WHERE id = $1",
        )
        .bind(entry_id)
        .fetch_optional(&mut *w.tx)
        .await?
        .ok_or(DomainError::NotFound { what: "candidate" })?;
        let (province_id, status) = list_head(&mut w.tx, list_id).await?;
        authorize(actor, Action::DecideScores, Some(province_id))?;
        let current = views::state("score decision", &decision, Decision::parse)?;
        let next = exam::r6_4_decide(status, current, approve, &reason)?;
        let moved = sqlx::query(
            "UPDATE exam_entries SET decision = $1, reason = $2, decided_by = $3, decided_at = $4 WHERE id = $5 AND decision = 'pending'",
        )
        .bind(next.as_str())
        .bind(&reason)
        .bind(actor.user_id)
        .bind(w.now_str())
        .bind(entry_id)
        .execute(&mut *w.tx)
        .await?
        .rows_affected();
        if moved != 1 {
            return Err(DomainError::Conflict.into());
        }
        queues::refresh_certificate_due(&mut w.tx, candidate_id).await?;
        w.audit(
            Some(actor),
            &format!("score.{}", next.as_str()),
            "exam_entry",
            entry_id,
            Some(province_id),
            json!({ "decision": current.as_str() }),
            json!({ "decision": next.as_str(), "reason": reason }),
        )
        .await?;
        w.commit().await?;
        self.exam_list(actor, list_id).await
    }

    /// Exam lists in the actor's reach, newest first, one page at a time (`before`: the last id
    /// of the previous page), without their entries: one statement, however many lists and
    /// candidates there are.
    pub async fn exam_list_page(
        &self,
        actor: &Actor,
        status: Option<ListStatus>,
        cursor: Cursor,
    ) -> Result<Page<ExamListSummary>> {
        authorize(actor, Action::ViewExams, None)?;
        let (sql, terms) = exam_list_query(actor.scope().province_filter(), status, cursor);
        let query = terms.bind_page(sqlx::query_as(&sql), cursor);
        #[allow(clippy::type_complexity)]
        let rows: Vec<(i64, i64, String, String, String, String, String, i64, i64)> =
            query.fetch_all(&self.pool).await?;
        let items = rows
            .into_iter()
            .map(|r| {
                let status = views::state("exam list status", &r.6, ListStatus::parse)?;
                let steps = workflow::exam_list_summary(status, r.8 as u64);
                Ok(ExamListSummary {
                    id: r.0,
                    province_id: r.1,
                    centre_name: r.2,
                    standard_code: r.3,
                    trade_title: r.4,
                    exam_date_fa: iso_fa(&r.5),
                    exam_date: r.5,
                    status,
                    entries: r.7 as u64,
                    pending_decisions: r.8 as u64,
                    next_actions: NextActions::for_actor(actor, Some(r.1), steps),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Page::from_rows(items, cursor.clamped(), |l| l.id))
    }

    /// The issuance clerk's queue: approved, passing candidates with no certificate yet,
    /// oldest first, at most `limit` — a seek on the kept marker (db/queues.rs), however many
    /// candidates the province has had.
    pub async fn certificates_due(&self, actor: &Actor, limit: i64) -> Result<Vec<CertificateDue>> {
        authorize(actor, Action::IssueCertificate, None)?;
        let (sql, terms) =
            certificates_due_query(actor.scope().province_filter(), limit.clamp(1, PAGE_MAX));
        let rows: Vec<(i64, String, String, String)> = terms
            .bind(sqlx::query_as(&sql))
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .into_iter()
            .map(
                |(candidate_id, first_name, last_name, national_id)| CertificateDue {
                    candidate_id,
                    first_name,
                    last_name,
                    national_id,
                },
            )
            .collect())
    }

    pub async fn exam_list(&self, actor: &Actor, list_id: i64) -> Result<ExamListView> {
        self.exam_list_entries(actor, list_id, None).await
    }

    /// The list with all its entries, or only `candidate`'s (one row instead of the whole
    /// session's, for the issuance clerk's per-candidate view).
    pub(crate) async fn exam_list_entries(
        &self,
        actor: &Actor,
        list_id: i64,
        candidate: Option<i64>,
    ) -> Result<ExamListView> {
        let mut conn = self.pool.acquire().await?;
        #[allow(clippy::type_complexity)]
        let head: Option<(i64, i64, String, i64, String, String, String, String, String)> = sqlx::query_as(
            "SELECT l.province_id, l.centre_id, c.name_fa, l.trade_id, t.standard_code, t.title_fa, l.exam_date, l.status, l.remarks \
             FROM exam_lists l JOIN centres c ON c.id = l.centre_id JOIN trades t ON t.id = l.trade_id WHERE l.id = $1",
        )
        .bind(list_id)
        .fetch_optional(&mut *conn)
        .await?;
        let (
            province_id,
            centre_id,
            centre_name,
            trade_id,
            standard_code,
            trade_title,
            exam_date,
            status,
            remarks,
        ) = head.ok_or(DomainError::NotFound { what: "exam_list" })?;
        authorize(actor, Action::ViewExams, Some(province_id))?;
        let status = views::state("exam list status", &status, ListStatus::parse)?;
        let policy = policy_in(&mut conn).await?;
        // One candidate's row is sought by its unique `candidate_id`: a `$2 IS NULL OR …` term
        // would make every lookup read the whole list.
        let only = if candidate.is_some() {
            "AND e.candidate_id = $2"
        } else {
            ""
        };
        let sql = format!(
            "SELECT e.id, c.id, c.national_id, c.first_name, c.last_name, c.father_name, c.birth_date, c.written_score, \
             e.practical_score, e.decision, e.reason, CAST(CASE WHEN c.photo IS NULL THEN 0 ELSE 1 END AS BIGINT), \
             cert.number FROM exam_entries e JOIN candidates c ON c.id = e.candidate_id \
             LEFT JOIN certificates cert ON cert.candidate_id = c.id \
             WHERE e.list_id = $1 {only} ORDER BY e.id",
        );
        #[allow(clippy::type_complexity)]
        let mut query = sqlx::query_as::<
            _,
            (
                i64,
                i64,
                String,
                String,
                String,
                String,
                String,
                i64,
                Option<i64>,
                String,
                String,
                i64,
                Option<String>,
            ),
        >(&sql)
        .bind(list_id);
        if let Some(c) = candidate {
            query = query.bind(c);
        }
        let rows = query.fetch_all(&mut *conn).await?;
        let before_exam = views::iso_date(&exam_date)
            .is_some_and(|d| exam::r9_1_check_correctable(d, views::today()).is_ok());
        let mut entries = Vec::with_capacity(rows.len());
        for (
            id,
            candidate_id,
            national_id,
            first_name,
            last_name,
            father_name,
            birth,
            written,
            practical,
            decision,
            reason,
            photo,
            certificate_no,
        ) in rows
        {
            let written = score_of(written)?;
            let practical = practical.map(score_of).transpose()?;
            let decision = views::state("score decision", &decision, Decision::parse)?;
            let passes = practical.map(|p| policy.passes(written, p));
            let next_actions = NextActions::for_actor(
                actor,
                Some(province_id),
                workflow::exam_entry(
                    status,
                    decision,
                    passes,
                    certificate_no.is_some(),
                    before_exam,
                ),
            );
            entries.push(EntryView {
                id,
                candidate_id,
                national_id,
                first_name,
                last_name,
                father_name,
                birth_date_fa: iso_fa(&birth),
                birth_date: birth,
                written_score: written.to_string(),
                practical_score: practical.map(|p| p.to_string()),
                final_score: practical.map(|p| policy.final_score(written, p).to_string()),
                passes,
                decision,
                reason,
                has_photo: photo != 0,
                certificate_no,
                next_actions,
            });
        }
        Ok(ExamListView {
            id: list_id,
            province_id,
            centre_id,
            centre_name,
            trade_id,
            standard_code,
            trade_title,
            exam_date_fa: iso_fa(&exam_date),
            exam_date,
            status,
            remarks,
            next_actions: NextActions::for_actor(
                actor,
                Some(province_id),
                workflow::exam_list(status),
            ),
            entries,
        })
    }
}

fn policy_view(p: PassPolicy) -> PolicyView {
    PolicyView {
        written_min: p.written_min.to_string(),
        practical_min: p.practical_min.to_string(),
        written_weight_pct: p.written_weight_pct,
        final_min: p.final_min.to_string(),
    }
}

/// The oldest `limit` candidates due a certificate (see `Store::certificates_due`), for the
/// store and `plans`.
pub(crate) fn certificates_due_query(province: Option<i64>, limit: i64) -> (String, Terms) {
    // The marker is the partial index's own condition: walking it reads only what is due.
    let terms = Terms::new().int("k.province_id = ?", province);
    let sql = format!(
        "SELECT k.id, k.first_name, k.last_name, k.national_id FROM candidates k {} ORDER BY k.id LIMIT {limit}",
        terms.where_sql_and("k.certificate_due = 1")
    );
    (sql, terms)
}

/// One page of exam list summaries (see `Store::exam_list_page`), for the store and `plans`.
pub(crate) fn exam_list_query(
    province: Option<i64>,
    status: Option<ListStatus>,
    cursor: Cursor,
) -> (String, Terms) {
    let terms = Terms::new()
        .int("l.province_id = ?", province)
        .text("l.status = ?", status.map(ListStatus::as_str));
    let sql = format!(
        "SELECT l.id, l.province_id, c.name_fa, t.standard_code, t.title_fa, l.exam_date, l.status, \
         (SELECT COUNT(*) FROM exam_entries e WHERE e.list_id = l.id), \
         (SELECT COUNT(*) FROM exam_entries e WHERE e.list_id = l.id AND e.decision = 'pending') \
         FROM exam_lists l JOIN centres c ON c.id = l.centre_id JOIN trades t ON t.id = l.trade_id {}",
        terms.page_sql("l.id", cursor)
    );
    (sql, terms)
}
