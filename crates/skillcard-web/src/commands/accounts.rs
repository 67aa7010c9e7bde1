//! Accounts: an administrator's users and roles, and a user's second factor.

use crate::forms::NumText;
use serde::Deserialize;
use skillcard_core::policy::Role;
use skillcard_core::DomainError;
use skillcard_db::NewUser;
use utoipa::ToSchema;

/// A role's stored word, `issuance_clerk`, …
fn role(word: &str) -> Result<Role, DomainError> {
    Role::parse(word).ok_or(DomainError::InvalidValue { field: "role" })
}

/// A new user account.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateUser {
    pub username: String,
    /// The first password; the policy applies (10–128 characters, not a common one).
    pub password: String,
    pub full_name: String,
    #[serde(default)]
    pub title: String,
    pub role: String,
    /// Absent (or empty in a form) for a national user.
    #[serde(default)]
    pub province_id: Option<NumText>,
}

impl CreateUser {
    pub fn input(self) -> Result<NewUser, DomainError> {
        Ok(NewUser {
            username: self.username,
            password: self.password,
            full_name: self.full_name,
            title: self.title,
            role: role(&self.role)?,
            province_id: province(&self.province_id)?,
        })
    }
}

/// Another role or province for a user.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SetRole {
    pub role: String,
    #[serde(default)]
    pub province_id: Option<NumText>,
}

impl SetRole {
    pub fn input(self) -> Result<(Role, Option<i64>), DomainError> {
        Ok((role(&self.role)?, province(&self.province_id)?))
    }
}

fn province(v: &Option<NumText>) -> Result<Option<i64>, DomainError> {
    NumText::optional(v, "province")?
        .map(|p| i64::try_from(p).map_err(|_| DomainError::InvalidValue { field: "province" }))
        .transpose()
}

/// A code the authenticator app shows now (turning the second factor on).
#[derive(Debug, Deserialize, ToSchema)]
pub struct ConfirmSecondFactor {
    pub otp: String,
}

/// A user changes their own password.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ChangePassword {
    pub current_password: String,
    pub new_password: String,
}
