//! Users, password checks (argon2id), browser sessions and API tokens. Secrets are random
//! 256-bit tokens; only their SHA-256 is stored, so a database leak yields no usable session.

use crate::tx::{rfc3339, WriteTx};
use crate::{Result, Store, StoreError};
use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use rand::RngCore;
use serde_json::json;
use sha2::{Digest, Sha256};
use skillcard_core::account::{self, Subject, Throttle};
use skillcard_core::policy::{authorize, authorize_user_admin, Action, Actor, Role};
use skillcard_core::{text, DomainError};
use time::{Duration, OffsetDateTime};

/// How long a browser session lives without a new login.
pub const SESSION_TTL: Duration = Duration::hours(12);
/// [`SESSION_TTL`] in seconds, for cookie lifetimes.
pub const SESSION_TTL_SECS: i64 = 12 * 3600;

#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub password: String,
    pub full_name: String,
    pub title: String,
    pub role: Role,
    pub province_id: Option<i64>,
}

/// Who changes someone else's account: the operator at the server's CLI, or an administrator
/// signed in from an address (recorded with the change).
#[derive(Debug, Clone, Copy)]
pub enum AccountAdmin<'a> {
    Operator,
    User(&'a Actor, &'a str),
}

impl<'a> AccountAdmin<'a> {
    fn actor(self) -> Option<&'a Actor> {
        match self {
            AccountAdmin::Operator => None,
            AccountAdmin::User(a, _) => Some(a),
        }
    }

    fn address(self) -> &'a str {
        match self {
            AccountAdmin::Operator => "cli",
            AccountAdmin::User(_, address) => address,
        }
    }
}

/// A successful sign-in, with what the user should be told about their account.
#[derive(Debug, Clone)]
pub struct SignIn {
    pub actor: Actor,
    /// Failed sign-ins to this account since its previous successful one.
    pub previous_failures: i64,
    pub previous_login_at: Option<String>,
}

/// The password an administrator's reset gives: shown once, valid until `expires_at`.
#[derive(Debug, Clone)]
pub struct OneTimePassword {
    pub code: String,
    pub expires_at: String,
}

/// A bearer token just issued: its secret is shown once, never stored.
#[derive(Debug, Clone)]
pub struct NewToken {
    pub id: i64,
    pub token: String,
    pub expires_at: String,
}

/// One of a user's API tokens, without its secret.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct TokenView {
    pub id: i64,
    pub label: String,
    pub created_at: String,
    pub expires_at: String,
    pub last_used_at: Option<String>,
}

/// One of a user's browser sessions.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct SessionView {
    pub id: i64,
    pub created_at: String,
    pub expires_at: String,
    /// The client address it was opened from.
    pub address: String,
}

/// A user as the operator lists them.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct UserListing {
    pub id: i64,
    pub username: String,
    pub full_name: String,
    pub role: String,
    pub province_id: Option<i64>,
    pub active: i64,
    pub last_login_at: Option<String>,
}

/// A signed-in browser session: who, and the CSRF token its forms must echo.
#[derive(Debug, Clone)]
pub struct SessionInfo {
    pub session_id: i64,
    pub actor: Actor,
    pub csrf_token: String,
    /// The password was reset by an administrator: nothing but changing it is allowed.
    pub must_change_password: bool,
    /// The user signs in with a second factor.
    pub has_second_factor: bool,
}

/// What a bearer token stands for.
#[derive(Debug, Clone)]
pub struct TokenAuth {
    pub actor: Actor,
    pub token_id: i64,
    pub must_change_password: bool,
    pub has_second_factor: bool,
}

fn random_token() -> String {
    let mut b = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut b);
    hex::encode(b)
}

pub(crate) fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

pub(crate) fn hash_password(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| StoreError::Hash(e.to_string()))
}

/// A hash to verify against when the user does not exist, so that a wrong username takes as
/// long as a wrong password.
fn dummy_hash() -> String {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY
        .get_or_init(|| hash_password("not-a-real-password").unwrap_or_default())
        .clone()
}

#[derive(sqlx::FromRow)]
struct UserRow {
    id: i64,
    username: String,
    full_name: String,
    role: String,
    province_id: Option<i64>,
}

impl UserRow {
    fn actor(self) -> Result<Actor> {
        let role = Role::parse(&self.role).ok_or_else(|| {
            StoreError::Corrupt(format!("user {} has role {:?}", self.id, self.role))
        })?;
        Ok(Actor {
            user_id: self.id,
            username: self.username,
            full_name: self.full_name,
            role,
            province_id: self.province_id,
        })
    }
}

const USER_COLUMNS: &str = "u.id, u.username, u.full_name, u.role, u.province_id";

/// What holds a signed-in user to one page: a reset password to replace, a second factor set up.
const ACCOUNT_FLAGS: &str = "u.must_change_password, \
     CAST(CASE WHEN u.totp_secret IS NULL THEN 0 ELSE 1 END AS BIGINT) AS has_second_factor";

#[derive(sqlx::FromRow)]
struct AccountFlags {
    must_change_password: i64,
    has_second_factor: i64,
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    session_id: i64,
    csrf_token: String,
    #[sqlx(flatten)]
    user: UserRow,
    #[sqlx(flatten)]
    flags: AccountFlags,
}

#[derive(sqlx::FromRow)]
struct TokenRow {
    token_id: i64,
    expires_at: String,
    last_used_at: Option<String>,
    #[sqlx(flatten)]
    user: UserRow,
    #[sqlx(flatten)]
    flags: AccountFlags,
}

async fn actor_in<'e, E: sqlx::Executor<'e, Database = sqlx::Any>>(
    db: E,
    user_id: i64,
) -> Result<Actor> {
    let row: UserRow = sqlx::query_as(&format!(
        "SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1"
    ))
    .bind(user_id)
    .fetch_optional(db)
    .await?
    .ok_or(DomainError::NotFound { what: "user" })?;
    row.actor()
}

/// Checks a password against its argon2id hash on the blocking pool.
async fn verify_password(password: &str, hash: String) -> bool {
    let password = password.to_string();
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|h| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &h)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

fn parse_time(s: &str) -> Result<OffsetDateTime> {
    OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .map_err(|e| StoreError::Corrupt(format!("time {s:?}: {e}")))
}

/// Audits an event of the user's own account (with the address it came from) and commits.
async fn own_event(
    mut w: WriteTx,
    actor: &Actor,
    action: &str,
    entity: &str,
    id: i64,
    client: &str,
) -> Result<()> {
    w.audit(
        Some(actor),
        action,
        entity,
        id,
        actor.province_id,
        json!(null),
        json!({ "address": client }),
    )
    .await?;
    w.commit().await
}

/// How long a password set by an administrator's reset works.
pub const RESET_TTL: Duration = Duration::hours(24);

/// `len` random characters from an alphabet without look-alikes (~5 bits each), for codes a
/// person reads and types: one-time passwords, recovery codes.
pub(crate) fn readable_code(len: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut b = vec![0u8; len];
    rand::rngs::OsRng.fill_bytes(&mut b);
    b.iter()
        .map(|x| ALPHABET[usize::from(*x) % ALPHABET.len()] as char)
        .collect()
}

/// A user name as typed at sign-in or named by an administrator, as it is stored.
fn username_key(input: &str) -> Result<String> {
    text::check_clean("username", input)?;
    Ok(text::normalize(input).to_lowercase())
}

/// The user an administrator acts on, read in the write transaction and checked against the
/// administrator's reach (`None`: the operator's CLI, which reaches everyone).
struct TargetUser {
    id: i64,
    role: String,
    province_id: Option<i64>,
    active: bool,
}

async fn target_user(w: &mut WriteTx, by: Option<&Actor>, username: &str) -> Result<TargetUser> {
    let username = username_key(username)?;
    let row: Option<(i64, String, Option<i64>, i64)> =
        sqlx::query_as("SELECT id, role, province_id, active FROM users WHERE username = $1")
            .bind(&username)
            .fetch_optional(&mut *w.tx)
            .await?;
    let (id, role, province_id, active) = row.ok_or(DomainError::NotFound { what: "user" })?;
    if let Some(a) = by {
        authorize_user_admin(a, province_id)?;
        if a.user_id == id {
            // An administrator cannot lock themselves out or raise themselves.
            return Err(DomainError::Forbidden {
                action: "manage_own_account",
            }
            .into());
        }
    }
    Ok(TargetUser {
        id,
        role,
        province_id,
        active: active == 1,
    })
}

/// Ends every session and revokes every token of a user; returns how many of each.
async fn end_access(w: &mut WriteTx, user_id: i64) -> Result<serde_json::Value> {
    let sessions = sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *w.tx)
        .await?
        .rows_affected();
    let tokens = sqlx::query(
        "UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
    )
    .bind(w.now_str())
    .bind(user_id)
    .execute(&mut *w.tx)
    .await?
    .rows_affected();
    Ok(json!({ "sessions": sessions, "tokens": tokens }))
}

async fn throttle<'e, E: sqlx::Executor<'e, Database = sqlx::Any>>(
    db: E,
    kind: Subject,
    subject: &str,
) -> Result<Option<Throttle>> {
    let row: Option<(i64, String, Option<String>)> = sqlx::query_as(
        "SELECT failures, last_failure, locked_until FROM login_throttle WHERE subject_kind = $1 AND subject = $2",
    )
    .bind(kind.as_str())
    .bind(subject)
    .fetch_optional(db)
    .await?;
    row.map(|(failures, last, locked)| {
        Ok(Throttle {
            failures: u32::try_from(failures).unwrap_or(u32::MAX),
            last_failure: parse_time(&last)?,
            locked_until: locked.as_deref().map(parse_time).transpose()?,
        })
    })
    .transpose()
}

async fn save_throttle(w: &mut WriteTx, kind: Subject, subject: &str, t: &Throttle) -> Result<()> {
    sqlx::query(
        "INSERT INTO login_throttle (subject_kind, subject, failures, last_failure, locked_until) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (subject_kind, subject) DO UPDATE SET \
         failures = excluded.failures, last_failure = excluded.last_failure, locked_until = excluded.locked_until",
    )
    .bind(kind.as_str())
    .bind(subject)
    .bind(i64::from(t.failures))
    .bind(rfc3339(t.last_failure))
    .bind(t.locked_until.map(rfc3339))
    .execute(&mut *w.tx)
    .await?;
    Ok(())
}

impl Store {
    /// Creates a user. `by` is the administrator doing it (the user must then replace the first
    /// password at their first sign-in), or `None` for the operator's CLI.
    pub async fn create_user(&self, by: Option<&Actor>, new: NewUser) -> Result<i64> {
        if let Some(a) = by {
            authorize_user_admin(a, new.province_id)?;
        }
        let username = text::required("username", &new.username, 64)?.to_lowercase();
        if username.len() > 64
            || !username
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        {
            return Err(DomainError::InvalidValue { field: "username" }.into());
        }
        account::check_password(&new.password, &username)?;
        let full_name = text::required("full_name", &new.full_name, 200)?;
        let title = text::optional("title", &new.title, 200)?;
        new.role.check_province(new.province_id)?;
        let hash = hash_password(&new.password)?;
        let mut w = WriteTx::begin(self).await?;
        if let Some(p) = new.province_id {
            let found: Option<(i64,)> = sqlx::query_as("SELECT id FROM provinces WHERE id = $1")
                .bind(p)
                .fetch_optional(&mut *w.tx)
                .await?;
            if found.is_none() {
                return Err(DomainError::NotFound { what: "province" }.into());
            }
        }
        let now = w.now_str();
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO users (username, password_hash, full_name, title, role, province_id, active, created_at, must_change_password) \
             VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $8) RETURNING id",
        )
        .bind(&username)
        .bind(&hash)
        .bind(&full_name)
        .bind(&title)
        .bind(new.role.as_str())
        .bind(new.province_id)
        .bind(&now)
        // The administrator chose the first password: the user replaces it at first sign-in.
        .bind(i64::from(by.is_some()))
        .fetch_one(&mut *w.tx)
        .await
        .map_err(|e| crate::error::unique_to(e, DomainError::InvalidValue { field: "username" }))?;
        w.audit(
            by,
            "user.create",
            "user",
            id,
            new.province_id,
            json!(null),
            json!({ "username": username, "full_name": full_name, "role": new.role.as_str(), "province_id": new.province_id }),
        )
        .await?;
        w.commit().await?;
        Ok(id)
    }

    /// Signs a user in: refused at once while the account or the client address is locked
    /// (no password is checked then); otherwise the password is verified, and the outcome
    /// recorded — a failure counts against both subjects and is audited with the address, a
    /// success clears the account's count and is audited too. An unknown user and a wrong
    /// password give the same error and take the same time.
    pub async fn sign_in(
        &self,
        username: &str,
        password: &str,
        otp: Option<&str>,
        client: &str,
    ) -> Result<SignIn> {
        let username = username_key(username)?;
        let now = OffsetDateTime::now_utc();
        let subjects = [
            (Subject::Account, username.as_str()),
            (Subject::Address, client),
        ];
        for (kind, subject) in subjects {
            let t = throttle(&self.pool, kind, subject).await?;
            account::check_not_locked(t.as_ref(), now)?;
        }
        let row: Option<(i64, String, Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT id, password_hash, password_expires_at, totp_secret FROM users WHERE username = $1 AND active = 1",
        )
        .bind(&username)
        .fetch_optional(&self.pool)
        .await?;
        let (id, hash, expires, totp_secret) = row.unwrap_or_else(|| (0, dummy_hash(), None, None));
        let otp = otp.map(str::trim).filter(|o| !o.is_empty());
        if totp_secret.is_some() && otp.is_none() {
            // Said before the password is checked, so it tells nothing about the password.
            return Err(DomainError::OtpRequired.into());
        }
        // A reset's one-time password past its time is as wrong as a wrong password.
        let expired = match expires.as_deref() {
            Some(t) => parse_time(t)? <= now,
            None => false,
        };
        let ok = verify_password(password, hash).await && id != 0 && !expired;

        let mut w = WriteTx::begin(self).await?;
        let now = w.now;
        let ok = match (&totp_secret, otp) {
            (Some(secret), Some(code)) if ok => {
                crate::totp::check_second_factor(&mut w, id, &username, secret, code).await?
            }
            _ => ok,
        };
        if !ok {
            let mut locked = Vec::new();
            for (kind, subject) in subjects {
                let before = throttle(&mut *w.tx, kind, subject).await?;
                let after = account::record_failure(before.as_ref(), kind, now);
                save_throttle(&mut w, kind, subject, &after).await?;
                if after.locked_until.is_some() {
                    locked.push(
                        json!({ "subject": kind.as_str(), "failures": after.failures,
                        "locked_until": after.locked_until.map(rfc3339) }),
                    );
                }
            }
            if id != 0 {
                sqlx::query("UPDATE users SET failed_logins = failed_logins + 1 WHERE id = $1")
                    .bind(id)
                    .execute(&mut *w.tx)
                    .await?;
            }
            w.audit(
                None,
                "login.failure",
                "user",
                id,
                None,
                json!(null),
                json!({ "username": username, "address": client }),
            )
            .await?;
            if !locked.is_empty() {
                w.audit(
                    None,
                    "login.lockout",
                    "user",
                    id,
                    None,
                    json!(null),
                    json!({ "username": username, "address": client, "locks": locked }),
                )
                .await?;
            }
            w.commit().await?;
            if !locked.is_empty() {
                self.counters().lockout();
            }
            return Err(DomainError::InvalidCredentials.into());
        }
        let (previous_failures, previous_login_at): (i64, Option<String>) =
            sqlx::query_as("SELECT failed_logins, last_login_at FROM users WHERE id = $1")
                .bind(id)
                .fetch_one(&mut *w.tx)
                .await?;
        sqlx::query(
            "UPDATE users SET failed_logins = 0, last_login_failures = $1, last_login_at = $2 WHERE id = $3",
        )
        .bind(previous_failures)
        .bind(w.now_str())
        .bind(id)
        .execute(&mut *w.tx)
        .await?;
        sqlx::query("DELETE FROM login_throttle WHERE subject_kind = $1 AND subject = $2")
            .bind(Subject::Account.as_str())
            .bind(&username)
            .execute(&mut *w.tx)
            .await?;
        let actor = actor_in(&mut *w.tx, id).await?;
        w.audit(
            Some(&actor),
            "login.success",
            "user",
            id,
            actor.province_id,
            json!(null),
            json!({ "address": client, "failures_since_last_login": previous_failures }),
        )
        .await?;
        w.commit().await?;
        Ok(SignIn {
            actor,
            previous_failures,
            previous_login_at,
        })
    }

    /// Failed sign-ins to the account before its last successful one, and when that was.
    pub async fn last_sign_in(&self, user_id: i64) -> Result<(i64, Option<String>)> {
        Ok(
            sqlx::query_as("SELECT last_login_failures, last_login_at FROM users WHERE id = $1")
                .bind(user_id)
                .fetch_one(&self.pool)
                .await?,
        )
    }

    pub async fn actor(&self, user_id: i64) -> Result<Actor> {
        actor_in(&self.pool, user_id).await
    }

    /// Starts a browser session; returns the cookie's secret.
    pub async fn create_session(
        &self,
        actor: &Actor,
        client: &str,
    ) -> Result<(String, SessionInfo)> {
        let flags: AccountFlags = sqlx::query_as(&format!(
            "SELECT {ACCOUNT_FLAGS} FROM users u WHERE u.id = $1"
        ))
        .bind(actor.user_id)
        .fetch_one(&self.pool)
        .await?;
        let token = random_token();
        let csrf = random_token();
        let now = OffsetDateTime::now_utc();
        // Expired sessions no longer authenticate; sweep them here so the table stays small.
        sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(rfc3339(now))
            .execute(&self.pool)
            .await?;
        let (session_id,): (i64,) = sqlx::query_as(
            "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at, address) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(token_hash(&token))
        .bind(actor.user_id)
        .bind(&csrf)
        .bind(rfc3339(now))
        .bind(rfc3339(now + SESSION_TTL))
        .bind(client)
        .fetch_one(&self.pool)
        .await?;
        Ok((
            token,
            SessionInfo {
                session_id,
                actor: actor.clone(),
                csrf_token: csrf,
                must_change_password: flags.must_change_password == 1,
                has_second_factor: flags.has_second_factor == 1,
            },
        ))
    }

    /// The live session a cookie's secret belongs to, if any.
    /// One statement: every request with a cookie asks it.
    pub async fn session(&self, token: &str) -> Result<Option<SessionInfo>> {
        let row: Option<SessionRow> = sqlx::query_as(&format!(
            "SELECT s.id AS session_id, s.csrf_token, {USER_COLUMNS}, {ACCOUNT_FLAGS} \
             FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.active = 1"
        ))
        .bind(token_hash(token))
        .bind(rfc3339(OffsetDateTime::now_utc()))
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(SessionInfo {
                session_id: r.session_id,
                actor: r.user.actor()?,
                csrf_token: r.csrf_token,
                must_change_password: r.flags.must_change_password == 1,
                has_second_factor: r.flags.has_second_factor == 1,
            })
        })
        .transpose()
    }

    pub async fn end_session(&self, token: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash(token))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Issues a bearer token for a machine client acting as `actor`, living `lifetime`.
    pub async fn create_api_token(
        &self,
        actor: &Actor,
        label: &str,
        lifetime: Duration,
        client: &str,
    ) -> Result<NewToken> {
        let label = text::optional("label", label, 100)?;
        let label = if label.is_empty() {
            "api".to_string()
        } else {
            label
        };
        let token = random_token();
        let mut w = WriteTx::begin(self).await?;
        let expires_at = rfc3339(w.now + lifetime);
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO api_tokens (token_hash, user_id, label, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(token_hash(&token))
        .bind(actor.user_id)
        .bind(&label)
        .bind(w.now_str())
        .bind(&expires_at)
        .fetch_one(&mut *w.tx)
        .await?;
        w.audit(Some(actor), "token.issue", "api_token", id, actor.province_id, json!(null),
            json!({ "user_id": actor.user_id, "label": label, "expires_at": expires_at, "address": client }))
            .await?;
        w.commit().await?;
        Ok(NewToken {
            id,
            token,
            expires_at,
        })
    }

    /// The user and token id a bearer secret stands for; `None` for an unknown or revoked
    /// token or a deactivated user, [`DomainError::TokenExpired`] for one past its expiry.
    /// Its last use is written at most once a minute.
    pub async fn token_actor(&self, token: &str) -> Result<Option<TokenAuth>> {
        let row: Option<TokenRow> = sqlx::query_as(&format!(
            "SELECT t.id AS token_id, t.expires_at, t.last_used_at, {USER_COLUMNS}, {ACCOUNT_FLAGS} \
             FROM api_tokens t JOIN users u ON u.id = t.user_id \
             WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND u.active = 1"
        ))
        .bind(token_hash(token))
        .fetch_optional(&self.pool)
        .await?;
        let Some(TokenRow {
            token_id: id,
            expires_at,
            last_used_at: last_used,
            user,
            flags,
        }) = row
        else {
            return Ok(None);
        };
        let now = OffsetDateTime::now_utc();
        if parse_time(&expires_at)? <= now {
            return Err(DomainError::TokenExpired.into());
        }
        let stale = match last_used.as_deref() {
            Some(t) => now - parse_time(t)? > Duration::minutes(1),
            None => true,
        };
        if stale {
            sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
                .bind(rfc3339(now))
                .bind(id)
                .execute(&self.pool)
                .await?;
        }
        Ok(Some(TokenAuth {
            actor: user.actor()?,
            token_id: id,
            must_change_password: flags.must_change_password == 1,
            has_second_factor: flags.has_second_factor == 1,
        }))
    }

    /// The user's own live sessions, newest first.
    pub async fn own_sessions(&self, actor: &Actor) -> Result<Vec<SessionView>> {
        Ok(sqlx::query_as(
            "SELECT id, created_at, expires_at, address FROM sessions \
             WHERE user_id = $1 AND expires_at > $2 ORDER BY id DESC",
        )
        .bind(actor.user_id)
        .bind(rfc3339(OffsetDateTime::now_utc()))
        .fetch_all(&self.pool)
        .await?)
    }

    /// Ends one of the user's own sessions (a browser left signed in elsewhere).
    pub async fn end_own_session(
        &self,
        actor: &Actor,
        session_id: i64,
        client: &str,
    ) -> Result<()> {
        let mut w = WriteTx::begin(self).await?;
        let done = sqlx::query("DELETE FROM sessions WHERE id = $1 AND user_id = $2")
            .bind(session_id)
            .bind(actor.user_id)
            .execute(&mut *w.tx)
            .await?;
        if done.rows_affected() != 1 {
            return Err(DomainError::NotFound { what: "session" }.into());
        }
        own_event(w, actor, "session.end", "session", session_id, client).await
    }

    /// The user's own tokens that still work, newest first.
    pub async fn api_tokens(&self, actor: &Actor) -> Result<Vec<TokenView>> {
        Ok(sqlx::query_as(
            "SELECT id, label, created_at, expires_at, last_used_at FROM api_tokens \
             WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 ORDER BY id DESC",
        )
        .bind(actor.user_id)
        .bind(rfc3339(OffsetDateTime::now_utc()))
        .fetch_all(&self.pool)
        .await?)
    }

    /// Revokes one of the user's own tokens; it answers 401 from the next request on, on every
    /// server (each request reads the token's row).
    pub async fn revoke_api_token(&self, actor: &Actor, token_id: i64, client: &str) -> Result<()> {
        let mut w = WriteTx::begin(self).await?;
        let done = sqlx::query(
            "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL",
        )
        .bind(w.now_str())
        .bind(token_id)
        .bind(actor.user_id)
        .execute(&mut *w.tx)
        .await?;
        if done.rows_affected() != 1 {
            return Err(DomainError::NotFound { what: "token" }.into());
        }
        own_event(w, actor, "token.revoke", "api_token", token_id, client).await
    }

    /// Deactivates or reactivates a user (`by` is an administrator, or `None` for the operator's
    /// CLI). Deactivation ends every session and revokes every token in the same transaction.
    pub async fn set_user_active(
        &self,
        by: AccountAdmin<'_>,
        username: &str,
        active: bool,
    ) -> Result<()> {
        let mut w = WriteTx::begin(self).await?;
        let t = target_user(&mut w, by.actor(), username).await?;
        sqlx::query("UPDATE users SET active = $1 WHERE id = $2")
            .bind(i64::from(active))
            .bind(t.id)
            .execute(&mut *w.tx)
            .await?;
        let ended = if active {
            json!(null)
        } else {
            end_access(&mut w, t.id).await?
        };
        w.audit(
            by.actor(),
            if active {
                "user.enable"
            } else {
                "user.disable"
            },
            "user",
            t.id,
            t.province_id,
            json!({ "active": t.active }),
            json!({ "active": active, "ended": ended, "address": by.address() }),
        )
        .await?;
        w.commit().await?;
        Ok(())
    }

    /// Gives a user another role or province. Their sessions and tokens carry on with the new
    /// role from the next request (each request reads the user).
    pub async fn set_user_role(
        &self,
        by: AccountAdmin<'_>,
        username: &str,
        role: Role,
        province_id: Option<i64>,
    ) -> Result<()> {
        role.check_province(province_id)?;
        if let Some(a) = by.actor() {
            authorize_user_admin(a, province_id)?;
        }
        let mut w = WriteTx::begin(self).await?;
        let t = target_user(&mut w, by.actor(), username).await?;
        if let Some(p) = province_id {
            let found: Option<(i64,)> = sqlx::query_as("SELECT id FROM provinces WHERE id = $1")
                .bind(p)
                .fetch_optional(&mut *w.tx)
                .await?;
            found.ok_or(DomainError::NotFound { what: "province" })?;
        }
        sqlx::query("UPDATE users SET role = $1, province_id = $2 WHERE id = $3")
            .bind(role.as_str())
            .bind(province_id)
            .bind(t.id)
            .execute(&mut *w.tx)
            .await?;
        w.audit(
            by.actor(),
            "user.role",
            "user",
            t.id,
            province_id.or(t.province_id),
            json!({ "role": t.role, "province_id": t.province_id }),
            json!({ "role": role.as_str(), "province_id": province_id, "address": by.address() }),
        )
        .await?;
        w.commit().await?;
        Ok(())
    }

    /// An administrator's password reset: a one-time password, valid for [`RESET_TTL`], that
    /// must be replaced at the first sign-in. The user's sessions and tokens end. Returns the
    /// one-time password, to hand to the user out of band; only its hash is kept.
    pub async fn reset_password(
        &self,
        by: AccountAdmin<'_>,
        username: &str,
    ) -> Result<OneTimePassword> {
        let code = readable_code(16);
        let hash = hash_password(&code)?;
        let mut w = WriteTx::begin(self).await?;
        let t = target_user(&mut w, by.actor(), username).await?;
        let expires = rfc3339(w.now + RESET_TTL);
        sqlx::query(
            "UPDATE users SET password_hash = $1, must_change_password = 1, password_expires_at = $2, \
             totp_secret = NULL, totp_pending = NULL WHERE id = $3",
        )
        .bind(&hash)
        .bind(&expires)
        .bind(t.id)
        .execute(&mut *w.tx)
        .await?;
        let ended = end_access(&mut w, t.id).await?;
        w.audit(
            by.actor(),
            "user.password_reset",
            "user",
            t.id,
            t.province_id,
            json!(null),
            json!({ "expires_at": expires, "ended": ended, "address": by.address() }),
        )
        .await?;
        w.commit().await?;
        Ok(OneTimePassword {
            code,
            expires_at: expires,
        })
    }

    /// The user changes their own password: the current one must be right and the new one
    /// pass the policy (`account::check_password`). Clears a reset's obligation.
    pub async fn change_password(
        &self,
        actor: &Actor,
        current: &str,
        new: &str,
        client: &str,
    ) -> Result<()> {
        account::check_password(new, &actor.username)?;
        let (hash,): (String,) = sqlx::query_as("SELECT password_hash FROM users WHERE id = $1")
            .bind(actor.user_id)
            .fetch_one(&self.pool)
            .await?;
        if !verify_password(current, hash).await {
            return Err(DomainError::InvalidValue {
                field: "current_password",
            }
            .into());
        }
        if current == new {
            return Err(DomainError::WeakPassword {
                reason: "unchanged",
            }
            .into());
        }
        let hash = hash_password(new)?;
        let mut w = WriteTx::begin(self).await?;
        sqlx::query(
            "UPDATE users SET password_hash = $1, must_change_password = 0, password_expires_at = NULL WHERE id = $2",
        )
        .bind(&hash)
        .bind(actor.user_id)
        .execute(&mut *w.tx)
        .await?;
        own_event(
            w,
            actor,
            "user.password_change",
            "user",
            actor.user_id,
            client,
        )
        .await
    }

    /// Whether the user must replace a reset password before doing anything else.
    pub async fn must_change_password(&self, user_id: i64) -> Result<bool> {
        let (m,): (i64,) = sqlx::query_as("SELECT must_change_password FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_one(&self.pool)
            .await?;
        Ok(m == 1)
    }

    /// The users an administrator manages (`None`: every user, for the operator's CLI).
    pub async fn users(&self, by: Option<&Actor>) -> Result<Vec<UserListing>> {
        let filter = match by {
            Some(a) => {
                authorize(a, Action::ManageUsers, None)?;
                a.scope().province_filter()
            }
            None => None,
        };
        Ok(sqlx::query_as(
            "SELECT id, username, full_name, role, province_id, active, last_login_at FROM users \
             WHERE ($1 IS NULL OR province_id = $1) ORDER BY username",
        )
        .bind(filter)
        .fetch_all(&self.pool)
        .await?)
    }
}
