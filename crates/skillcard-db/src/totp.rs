//! The second factor: RFC 6238 time-based one-time codes (an authenticator app on the user's
//! phone) and single-use recovery codes for a lost phone.
//!
//! Enrolment is two steps so that a mistyped secret cannot lock a user out: `start_totp` keeps a
//! pending secret and returns it (base32 and an `otpauth://` URL for the app); `confirm_totp`
//! turns it on only once a code made from it is shown, and returns the recovery codes (shown
//! once; only their SHA-256 is kept). A code's time step is remembered, so each code is accepted
//! once (RFC 6238 §5.2). An administrator's password reset also clears the second factor: it is
//! the account-recovery road.

use crate::auth::token_hash;
use crate::tx::WriteTx;
use crate::{Result, Store, StoreError};
use rand::RngCore;
use serde_json::json;
use skillcard_core::policy::Actor;
use skillcard_core::{text, DomainError};
use time::OffsetDateTime;
use totp_rs::{Builder, Secret, Totp};

/// How many recovery codes an enrolment gives.
pub const RECOVERY_CODES: usize = 10;
const ISSUER: &str = "skillcard";

/// What an authenticator app needs to start making codes.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct TotpEnrolment {
    /// The shared secret, base32 (typed into the app by hand).
    pub secret: String,
    /// `otpauth://totp/…` (the same, as a QR code an app scans).
    pub otpauth_url: String,
}

fn totp(secret_b32: &str, account: &str) -> Result<Totp> {
    let secret = Secret::try_from_base32(secret_b32)
        .map_err(|e| StoreError::Corrupt(format!("totp secret: {e:?}")))?;
    Builder::new()
        .with_secret(secret)
        .with_account_name(account.replace(':', "_"))
        .with_issuer(Some(ISSUER))
        .build()
        .map_err(|e| StoreError::Internal(format!("totp: {e:?}")))
}

/// The time step `code` matches for `secret` at `now` (one step of skew either way).
fn matching_step(t: &Totp, code: &str, now: OffsetDateTime) -> Option<i64> {
    let digits: String = text::normalize(code)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let step = t.check(&digits, u64::try_from(now.unix_timestamp()).ok()?)?;
    i64::try_from(step).ok()
}

fn recovery_code() -> String {
    let s = crate::auth::readable_code(10);
    format!("{}-{}", &s[..5], &s[5..])
}

/// Checks a second factor in a sign-in's transaction: a current code not used before, or an
/// unused recovery code (then spent). `Ok(false)` when neither.
pub(crate) async fn check_second_factor(
    w: &mut WriteTx,
    user_id: i64,
    username: &str,
    secret: &str,
    code: &str,
) -> Result<bool> {
    let t = totp(secret, username)?;
    if let Some(step) = matching_step(&t, code, w.now) {
        let used = sqlx::query(
            "UPDATE users SET totp_last_step = $1 WHERE id = $2 AND totp_last_step < $1",
        )
        .bind(step)
        .bind(user_id)
        .execute(&mut *w.tx)
        .await?;
        return Ok(used.rows_affected() == 1);
    }
    let folded = text::normalize(code).to_lowercase();
    let spent = sqlx::query(
        "UPDATE recovery_codes SET used_at = $1 WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL",
    )
    .bind(w.now_str())
    .bind(user_id)
    .bind(token_hash(&folded))
    .execute(&mut *w.tx)
    .await?;
    Ok(spent.rows_affected() == 1)
}

impl Store {
    /// Starts enrolling the caller's authenticator: a new pending secret (replacing any pending
    /// one). Refused while a second factor is on.
    pub async fn start_totp(&self, actor: &Actor) -> Result<TotpEnrolment> {
        let mut bytes = [0u8; 20];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let secret = Secret::from(bytes).to_base32();
        let url = totp(&secret, &actor.username)?
            .to_url()
            .map_err(|e| StoreError::Internal(format!("totp url: {e:?}")))?;
        let done =
            sqlx::query("UPDATE users SET totp_pending = $1 WHERE id = $2 AND totp_secret IS NULL")
                .bind(&secret)
                .bind(actor.user_id)
                .execute(&self.pool)
                .await?;
        if done.rows_affected() != 1 {
            return Err(DomainError::AlreadyRecorded {
                what: "second_factor",
            }
            .into());
        }
        Ok(TotpEnrolment {
            secret,
            otpauth_url: url,
        })
    }

    /// Turns the pending secret on once `code` shows the app makes the same codes; returns the
    /// recovery codes, shown this once.
    pub async fn confirm_totp(
        &self,
        actor: &Actor,
        code: &str,
        client: &str,
    ) -> Result<Vec<String>> {
        let mut w = WriteTx::begin(self).await?;
        let (pending, enabled): (Option<String>, Option<String>) =
            sqlx::query_as("SELECT totp_pending, totp_secret FROM users WHERE id = $1")
                .bind(actor.user_id)
                .fetch_one(&mut *w.tx)
                .await?;
        if enabled.is_some() {
            return Err(DomainError::AlreadyRecorded {
                what: "second_factor",
            }
            .into());
        }
        let pending = pending.ok_or(DomainError::Required { field: "otp" })?;
        let step = matching_step(&totp(&pending, &actor.username)?, code, w.now)
            .ok_or(DomainError::InvalidValue { field: "otp" })?;
        sqlx::query(
            "UPDATE users SET totp_secret = totp_pending, totp_pending = NULL, totp_last_step = $1 WHERE id = $2",
        )
        .bind(step)
        .bind(actor.user_id)
        .execute(&mut *w.tx)
        .await?;
        sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
            .bind(actor.user_id)
            .execute(&mut *w.tx)
            .await?;
        let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| recovery_code()).collect();
        for c in &codes {
            sqlx::query("INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2)")
                .bind(actor.user_id)
                .bind(token_hash(c))
                .execute(&mut *w.tx)
                .await?;
        }
        w.audit(
            Some(actor),
            "user.totp_enable",
            "user",
            actor.user_id,
            actor.province_id,
            json!(null),
            json!({ "address": client, "recovery_codes": RECOVERY_CODES }),
        )
        .await?;
        w.commit().await?;
        Ok(codes)
    }

    /// Whether the user signs in with a second factor.
    pub async fn has_second_factor(&self, user_id: i64) -> Result<bool> {
        let (on,): (i64,) = sqlx::query_as(
            "SELECT CAST(CASE WHEN totp_secret IS NULL THEN 0 ELSE 1 END AS BIGINT) FROM users WHERE id = $1",
        )
        .bind(user_id)
        .fetch_one(&self.pool)
        .await?;
        Ok(on == 1)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn codes_match_their_step_only() {
        let t = totp("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "ali").unwrap();
        let now = OffsetDateTime::from_unix_timestamp(1_764_672_000).unwrap();
        let code = t.generate(1_764_672_000).to_string();
        assert_eq!(matching_step(&t, &code, now), Some(1_764_672_000 / 30));
        // Persian digits are folded.
        let fa = skillcard_core::text::persian_digits(&code);
        assert!(matching_step(&t, &fa, now).is_some());
        let later = now + time::Duration::minutes(5);
        assert_eq!(matching_step(&t, &code, later), None);
        assert_eq!(matching_step(&t, "12345", now), None);
    }
}
