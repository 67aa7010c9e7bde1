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
use skillcard_core::policy::{authorize, Action, Actor, Role};
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

/// A signed-in browser session: who, and the CSRF token its forms must echo.
#[derive(Debug, Clone)]
pub struct SessionInfo {
    pub actor: Actor,
    pub csrf_token: String,
}

fn random_token() -> String {
    let mut b = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut b);
    hex::encode(b)
}

fn token_hash(token: &str) -> String {
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

impl Store {
    /// Creates a user. `by` is the HQ user doing it, or `None` for the operator's CLI.
    pub async fn create_user(&self, by: Option<&Actor>, new: NewUser) -> Result<i64> {
        if let Some(a) = by {
            authorize(a, Action::ManageUsers, None)?;
        }
        let username = text::normalize(&new.username).to_lowercase();
        if username.is_empty() {
            return Err(DomainError::Required { field: "username" }.into());
        }
        if username.len() > 64
            || !username
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        {
            return Err(DomainError::InvalidValue { field: "username" }.into());
        }
        if new.password.chars().count() < 8 {
            return Err(DomainError::InvalidValue { field: "password" }.into());
        }
        let full_name = text::normalize(&new.full_name);
        if full_name.is_empty() {
            return Err(DomainError::Required { field: "full_name" }.into());
        }
        match (new.role.is_national(), new.province_id) {
            (true, Some(_)) | (false, None) => {
                return Err(DomainError::InvalidValue { field: "province" }.into())
            }
            _ => {}
        }
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
            "INSERT INTO users (username, password_hash, full_name, title, role, province_id, active, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 1, $7) RETURNING id",
        )
        .bind(&username)
        .bind(&hash)
        .bind(&full_name)
        .bind(text::normalize(&new.title))
        .bind(new.role.as_str())
        .bind(new.province_id)
        .bind(&now)
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

    /// Checks a username and password; the same error for an unknown user and a wrong password.
    pub async fn authenticate(&self, username: &str, password: &str) -> Result<Actor> {
        let username = text::normalize(username).to_lowercase();
        let row: Option<(i64, String)> = sqlx::query_as(
            "SELECT id, password_hash FROM users WHERE username = $1 AND active = 1",
        )
        .bind(&username)
        .fetch_optional(&self.pool)
        .await?;
        let (id, hash) = row.unwrap_or_else(|| (0, dummy_hash()));
        let password = password.to_string();
        let ok = tokio::task::spawn_blocking(move || {
            PasswordHash::new(&hash)
                .map(|h| {
                    Argon2::default()
                        .verify_password(password.as_bytes(), &h)
                        .is_ok()
                })
                .unwrap_or(false)
        })
        .await
        .unwrap_or(false);
        if !ok || id == 0 {
            return Err(DomainError::InvalidCredentials.into());
        }
        self.actor(id).await
    }

    pub async fn actor(&self, user_id: i64) -> Result<Actor> {
        let row: UserRow = sqlx::query_as(&format!(
            "SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1"
        ))
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(DomainError::NotFound { what: "user" })?;
        row.actor()
    }

    /// Starts a browser session; returns the cookie's secret.
    pub async fn create_session(&self, actor: &Actor) -> Result<(String, SessionInfo)> {
        let token = random_token();
        let csrf = random_token();
        let now = OffsetDateTime::now_utc();
        // Expired sessions no longer authenticate; sweep them here so the table stays small.
        sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(rfc3339(now))
            .execute(&self.pool)
            .await?;
        sqlx::query("INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(token_hash(&token))
            .bind(actor.user_id)
            .bind(&csrf)
            .bind(rfc3339(now))
            .bind(rfc3339(now + SESSION_TTL))
            .execute(&self.pool)
            .await?;
        Ok((
            token,
            SessionInfo {
                actor: actor.clone(),
                csrf_token: csrf,
            },
        ))
    }

    /// The live session a cookie's secret belongs to, if any.
    pub async fn session(&self, token: &str) -> Result<Option<SessionInfo>> {
        let row: Option<(i64, String)> = sqlx::query_as(
            "SELECT s.user_id, s.csrf_token FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.active = 1",
        )
        .bind(token_hash(token))
        .bind(rfc3339(OffsetDateTime::now_utc()))
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some((user_id, csrf_token)) => Ok(Some(SessionInfo {
                actor: self.actor(user_id).await?,
                csrf_token,
            })),
            None => Ok(None),
        }
    }

    pub async fn end_session(&self, token: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash(token))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Issues a bearer token for a machine client acting as `actor`.
    pub async fn create_api_token(&self, actor: &Actor, label: &str) -> Result<String> {
        let token = random_token();
        sqlx::query("INSERT INTO api_tokens (token_hash, user_id, label, created_at) VALUES ($1, $2, $3, $4)")
            .bind(token_hash(&token))
            .bind(actor.user_id)
            .bind(text::normalize(label))
            .bind(rfc3339(OffsetDateTime::now_utc()))
            .execute(&self.pool)
            .await?;
        Ok(token)
    }

    pub async fn token_actor(&self, token: &str) -> Result<Option<Actor>> {
        let row: Option<(i64,)> = sqlx::query_as(
            "SELECT t.user_id FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1 AND u.active = 1",
        )
        .bind(token_hash(token))
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some((id,)) => Ok(Some(self.actor(id).await?)),
            None => Ok(None),
        }
    }
}
