//! The clerk's two work queues, kept as markers on the rows they are about, so a dashboard reads
//! what is actionable from a partial index instead of anti-joining every candidate or
//! certificate the province ever had:
//!
//! - `candidates.certificate_due`: the head approved the scores, they pass the policy in force,
//!   and no certificate exists yet (R-6.4 → );
//! - `certificates.card_due`: the certificate may start a print now (R-6.8, R-8.1.2: none in
//!   progress, none registered, and after a damaged or voided card only on HQ's authorisation).
//!
//! *Invariant*: each marker equals its derivation from the facts. The markers are written only by
//! the core's own rules (`exam::certificate_due`, `printing::r6_8_check_can_start`) in the
//! transaction of every change those rules read ([`refresh_certificate_due`],
//! [`refresh_card_due`], [`rejudge_certificates_due`]); `skillcard check` recomputes them
//! independently in SQL ([`CERTIFICATE_DUE_DERIVED`], [`CARD_DUE_DERIVED`]), so a mistake in
//! either spelling, or an edit behind the store's back, is named.

use crate::exams::{outcome_in, policy_in, score_of};
use crate::printing::card_history;
use crate::Result;
use skillcard_core::exam::certificate_due;
use skillcard_core::printing as rules;
use sqlx::AnyConnection;

/// Whether candidate `k` (an alias of `candidates`) is due a certificate, as an SQL condition:
/// the newest pass policy applied to the approved scores, with the core's rounding of the
/// weighted final score (`PassPolicy::final_score`).
pub(crate) const CERTIFICATE_DUE_DERIVED: &str = "EXISTS (SELECT 1 FROM exam_entries e, pass_policies p \
     WHERE e.candidate_id = k.id AND p.id = (SELECT MAX(id) FROM pass_policies) \
     AND e.decision = 'approved' AND e.practical_score IS NOT NULL \
     AND k.written_score >= p.written_min AND e.practical_score >= p.practical_min \
     AND (k.written_score * p.written_weight_pct + e.practical_score * (100 - p.written_weight_pct) + 50) / 100 >= p.final_min) \
     AND NOT EXISTS (SELECT 1 FROM certificates c WHERE c.candidate_id = k.id)";

/// Whether certificate `c` may start a print now, as an SQL condition.
pub(crate) const CARD_DUE_DERIVED: &str = "c.status = 'issued' \
     AND NOT EXISTS (SELECT 1 FROM card_prints p WHERE p.certificate_id = c.id AND p.status IN ('printing', 'bound')) \
     AND (NOT EXISTS (SELECT 1 FROM card_prints d WHERE d.certificate_id = c.id AND d.status IN ('damaged', 'void')) \
          OR EXISTS (SELECT 1 FROM case_items i JOIN cases ca ON ca.id = i.case_id \
                     WHERE i.certificate_id = c.id AND ca.status = 'authorized' AND i.reprint_print_id IS NULL))";

/// Sets `candidates.certificate_due` for one candidate from the core's outcome (the decision,
/// the pass policy) and whether a certificate exists.
pub(crate) async fn refresh_certificate_due(
    conn: &mut AnyConnection,
    candidate_id: i64,
) -> Result<()> {
    let (decision, passes) = outcome_in(conn, candidate_id).await?;
    let (certified,): (i64,) =
        sqlx::query_as("SELECT CAST(COUNT(*) AS BIGINT) FROM certificates WHERE candidate_id = $1")
            .bind(candidate_id)
            .fetch_one(&mut *conn)
            .await?;
    let due = certificate_due(decision, passes, certified > 0);
    sqlx::query("UPDATE candidates SET certificate_due = $1 WHERE id = $2")
        .bind(i64::from(due))
        .bind(candidate_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Sets `certificates.card_due` for one certificate from the core's decision over its
/// card history.
pub(crate) async fn refresh_card_due(conn: &mut AnyConnection, certificate_id: i64) -> Result<()> {
    let history = card_history(conn, certificate_id).await?;
    let due = rules::r6_8_check_can_start(&history).is_ok();
    sqlx::query("UPDATE certificates SET card_due = CASE WHEN status = 'issued' THEN $1 ELSE 0 END WHERE id = $2")
        .bind(i64::from(due))
        .bind(certificate_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// After HQ changes the pass policy: every approved candidate without a certificate is judged
/// again by the core under the new policy (which applies to certificates not yet issued, as
/// `issue_certificate` applies it), a page of candidates at a time; returns how many markers
/// changed.
pub(crate) async fn rejudge_certificates_due(conn: &mut AnyConnection) -> Result<u64> {
    const PAGE: i64 = 1000;
    let policy = policy_in(conn).await?;
    let (mut after, mut changed) = (0i64, 0u64);
    loop {
        let rows: Vec<(i64, i64, Option<i64>, i64)> = sqlx::query_as(
            "SELECT k.id, k.written_score, e.practical_score, k.certificate_due \
             FROM exam_entries e JOIN candidates k ON k.id = e.candidate_id \
             WHERE e.decision = 'approved' AND e.candidate_id > $1 \
             AND NOT EXISTS (SELECT 1 FROM certificates x WHERE x.candidate_id = e.candidate_id) \
             ORDER BY e.candidate_id LIMIT $2",
        )
        .bind(after)
        .bind(PAGE)
        .fetch_all(&mut *conn)
        .await?;
        let last_page = (rows.len() as i64) < PAGE;
        for (id, written, practical, kept) in rows {
            after = id;
            let passes = practical
                .map(|p| {
                    Ok::<_, crate::StoreError>(policy.passes(score_of(written)?, score_of(p)?))
                })
                .transpose()?;
            let due = i64::from(certificate_due(
                skillcard_core::exam::Decision::Approved,
                passes,
                false,
            ));
            if due != kept {
                sqlx::query("UPDATE candidates SET certificate_due = $1 WHERE id = $2")
                    .bind(due)
                    .bind(id)
                    .execute(&mut *conn)
                    .await?;
                changed += 1;
            }
        }
        if last_page {
            return Ok(changed);
        }
    }
}

/// Rows whose marker differs from its derivation, for `check`: (table, id, kept value).
pub(crate) async fn marker_mismatches(
    conn: &mut AnyConnection,
    limit: i64,
) -> Result<Vec<(&'static str, i64, i64)>> {
    let mut out = Vec::new();
    let candidates: Vec<(i64, i64)> = sqlx::query_as(&format!(
        "SELECT k.id, k.certificate_due FROM candidates k \
         WHERE k.certificate_due <> CASE WHEN {CERTIFICATE_DUE_DERIVED} THEN 1 ELSE 0 END ORDER BY k.id LIMIT $1"
    ))
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    out.extend(
        candidates
            .into_iter()
            .map(|(id, v)| ("candidates.certificate_due", id, v)),
    );
    let certificates: Vec<(i64, i64)> = sqlx::query_as(&format!(
        "SELECT c.id, c.card_due FROM certificates c \
         WHERE c.card_due <> CASE WHEN {CARD_DUE_DERIVED} THEN 1 ELSE 0 END ORDER BY c.id LIMIT $1"
    ))
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    out.extend(
        certificates
            .into_iter()
            .map(|(id, v)| ("certificates.card_due", id, v)),
    );
    Ok(out)
}
