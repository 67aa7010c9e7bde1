//! Sign-in throttling and API token lifetimes: the rules, with the clock passed in.
//!
//! Failures are counted per account and per client address, each with its own allowance
//! before back-off starts (an office behind one address has many honest users). Past the
//! allowance every further failure locks that subject for twice as long as the one before, up to
//! [`MAX_LOCK_SECS`]; while locked, attempts are refused without the password being checked, so
//! guessing gains nothing. A quiet spell of [`FORGET_AFTER_SECS`] starts the count over, and a
//! successful sign-in clears the account's count (never the address's: an attacker's own
//! account must not reset the allowance it spends on others).

use crate::DomainError;
use time::{Duration, OffsetDateTime};

/// What a failure is counted against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Subject {
    Account,
    Address,
}

impl Subject {
    pub fn as_str(self) -> &'static str {
        match self {
            Subject::Account => "account",
            Subject::Address => "address",
        }
    }

    /// Failures allowed before back-off starts.
    pub fn allowance(self) -> u32 {
        match self {
            Subject::Account => 5,
            Subject::Address => 20,
        }
    }
}

/// The longest lock, in seconds.
pub const MAX_LOCK_SECS: i64 = 15 * 60;
/// A subject with no failure for this long starts over.
pub const FORGET_AFTER_SECS: i64 = 60 * 60;

/// A subject's recorded failures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Throttle {
    pub failures: u32,
    pub last_failure: OffsetDateTime,
    pub locked_until: Option<OffsetDateTime>,
}

/// Refuses an attempt while `t` is locked, saying how long to wait.
pub fn check_not_locked(t: Option<&Throttle>, now: OffsetDateTime) -> Result<(), DomainError> {
    match t.and_then(|t| t.locked_until) {
        Some(until) if until > now => Err(DomainError::LoginThrottled {
            retry_after_secs: seconds_until(until, now),
        }),
        _ => Ok(()),
    }
}

fn seconds_until(until: OffsetDateTime, now: OffsetDateTime) -> u64 {
    let d = until - now;
    let secs = d.whole_seconds() + i64::from(d.subsec_nanoseconds() > 0);
    u64::try_from(secs.max(1)).unwrap_or(1)
}

/// The subject's record after one more failure at `now`.
pub fn record_failure(t: Option<&Throttle>, subject: Subject, now: OffsetDateTime) -> Throttle {
    let previous = match t {
        Some(t) if now - t.last_failure < Duration::seconds(FORGET_AFTER_SECS) => t.failures,
        _ => 0,
    };
    let failures = previous.saturating_add(1);
    let locked_until = lock_secs(failures, subject.allowance()).map(|s| now + Duration::seconds(s));
    Throttle {
        failures,
        last_failure: now,
        locked_until,
    }
}

/// How long the `failures`-th failure locks, with `allowance` failures free: 1 s for the first
/// past the allowance, doubling to [`MAX_LOCK_SECS`].
pub fn lock_secs(failures: u32, allowance: u32) -> Option<i64> {
    let over = failures.checked_sub(allowance)?.checked_sub(1)?;
    Some(
        1i64.checked_shl(over.min(20))
            .unwrap_or(MAX_LOCK_SECS)
            .min(MAX_LOCK_SECS),
    )
}

/// How long an API token lives unless the operator says otherwise.
pub const DEFAULT_TOKEN_DAYS: i64 = 30;
/// The longest lifetime a token may be given.
pub const MAX_TOKEN_DAYS: i64 = 365;

/// The lifetime of a new token: `requested` days (1 – [`MAX_TOKEN_DAYS`]) or `default_days`.
pub fn token_lifetime(requested: Option<i64>, default_days: i64) -> Result<Duration, DomainError> {
    let days = requested.unwrap_or(default_days);
    if !(1..=MAX_TOKEN_DAYS).contains(&days) {
        return Err(DomainError::InvalidValue {
            field: "expires_in_days",
        });
    }
    Ok(Duration::days(days))
}

/// The shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// The longest password accepted (argon2 hashes anything, but a megabyte "password" is an attack).
pub const MAX_PASSWORD_CHARS: usize = 128;

/// Passwords guessed first, in their lower-case form: the most common ones worldwide and those
/// an Iranian office would reach for. Compared after folding digits, so «۱۲۳۴۵۶۷۸۹۰» counts.
const COMMON_PASSWORDS: &[&str] = &[
    "1234567890",
    "0123456789",
    "12345678910",
    "123456789a",
    "1q2w3e4r5t",
    "qwertyuiop",
    "password123",
    "password1234",
    "passw0rd123",
    "iloveyou123",
    "abcdefghij",
    "abc1234567",
    "qwerty1234",
    "1qaz2wsx3edc",
    "zaq12wsxcde",
    "asdfghjkl1",
    "0987654321",
    "1111111111",
    "administrator",
    "admin12345",
    "admin123456",
    "welcome123",
    "changeme123",
    "letmein123",
    "iran123456",
    "tehran1234",
    "tehran12345",
    "esfahan1234",
    "isfahan1234",
    "mashhad1234",
    "shiraz1234",
    "tabriz1234",
    "skillcard1",
    "skillcard123",
    "irantvto123",
    "fanniherfei",
    "fanni12345",
    "azmoon1234",
    "gavahinameh",
    "1400140014",
    "1401140114",
    "1402140214",
    "1403140314",
    "1404140414",
    "1405140514",
    "13571357ab",
    "09120000000",
    "09121234567",
];

/// A new password: long enough, not absurdly long, not one of the common ones, not the user
/// name in another guise.
pub fn check_password(password: &str, username: &str) -> Result<(), DomainError> {
    let weak = |reason| Err(DomainError::WeakPassword { reason });
    let n = password.chars().count();
    if n < MIN_PASSWORD_CHARS {
        return weak("too_short");
    }
    if n > MAX_PASSWORD_CHARS {
        return weak("too_long");
    }
    if password.chars().any(|c| c.is_control()) {
        return weak("control_character");
    }
    let folded = crate::text::normalize(password).to_lowercase();
    let mut distinct: Vec<char> = folded.chars().collect();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() < 4 || COMMON_PASSWORDS.contains(&folded.as_str()) {
        return weak("common");
    }
    let user = username.to_lowercase();
    if !user.is_empty() && folded.contains(&user) {
        return weak("like_username");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use time::macros::datetime;

    #[test]
    fn back_off_doubles_after_the_allowance() {
        assert_eq!(lock_secs(5, 5), None);
        assert_eq!(lock_secs(6, 5), Some(1));
        assert_eq!(lock_secs(7, 5), Some(2));
        assert_eq!(lock_secs(10, 5), Some(16));
        assert_eq!(lock_secs(40, 5), Some(MAX_LOCK_SECS));
        assert_eq!(lock_secs(u32::MAX, 5), Some(MAX_LOCK_SECS));
    }

    #[test]
    fn a_locked_subject_is_refused_until_the_lock_ends() {
        let now = datetime!(2026-12-02 10:00 UTC);
        let mut t = None;
        for _ in 0..5 {
            t = Some(record_failure(t.as_ref(), Subject::Account, now));
            assert!(check_not_locked(t.as_ref(), now).is_ok());
        }
        for expect in [1, 2, 4] {
            t = Some(record_failure(t.as_ref(), Subject::Account, now));
            assert_eq!(
                check_not_locked(t.as_ref(), now),
                Err(DomainError::LoginThrottled {
                    retry_after_secs: expect
                })
            );
        }
        let later = now + Duration::seconds(5);
        assert!(check_not_locked(t.as_ref(), later).is_ok());
        // A quiet hour forgets.
        let much_later = now + Duration::seconds(FORGET_AFTER_SECS + 1);
        assert_eq!(
            record_failure(t.as_ref(), Subject::Account, much_later).failures,
            1
        );
    }

    #[test]
    fn password_policy() {
        let reason = |p: &str| match check_password(p, "ali") {
            Err(DomainError::WeakPassword { reason }) => reason,
            _ => "ok",
        };
        assert_eq!(reason("short1"), "too_short");
        assert_eq!(reason(&"x1".repeat(65)), "too_long");
        assert_eq!(reason("۱۲۳۴۵۶۷۸۹۰"), "common");
        assert_eq!(reason("aaaaaaaaaaaa"), "common");
        assert_eq!(reason("Password123"), "common");
        assert_eq!(reason("ali-is-the-best"), "like_username");
        assert_eq!(reason("pass\u{0}word-long"), "control_character");
        assert_eq!(reason("skillcard-demo"), "ok");
        assert_eq!(reason("کلمه عبور بلند من"), "ok");
    }

    #[test]
    fn token_lifetimes() {
        assert_eq!(token_lifetime(None, 30).unwrap(), Duration::days(30));
        assert_eq!(token_lifetime(Some(1), 30).unwrap(), Duration::days(1));
        assert!(token_lifetime(Some(0), 30).is_err());
        assert!(token_lifetime(Some(366), 30).is_err());
    }
}
