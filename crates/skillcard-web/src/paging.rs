//! How a list is asked for, by the API and the pages alike: one status word where the list has
//! statuses, and a keyset cursor (`before`, the previous page's `next_before`; `limit`, at most
//! `PAGE_MAX`). Parsed once here so every list refuses a bad status the same way.

use serde::Deserialize;
use skillcard_core::DomainError;
use skillcard_db::views::Cursor;

/// Rows on a page when the caller names no limit.
pub const DEFAULT_LIMIT: i64 = 50;

/// Which page of a list.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct PageQuery {
    /// Only records in this status (one of the status words of the list's records).
    pub status: Option<String>,
    /// The previous page's `next_before`; none for the newest page.
    pub before: Option<i64>,
    /// At most 200 (default 50).
    pub limit: Option<i64>,
}

impl PageQuery {
    pub fn cursor(&self) -> Cursor {
        cursor(self.before, self.limit)
    }

    /// The status asked for, as the list's enum; an empty value is none, an unknown word is
    /// refused (never read as "all").
    pub fn status<T>(&self, parse: impl Fn(&str) -> Option<T>) -> Result<Option<T>, DomainError> {
        match self
            .status
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            Some(s) => parse(s)
                .map(Some)
                .ok_or(DomainError::InvalidValue { field: "status" }),
            None => Ok(None),
        }
    }
}

pub fn cursor(before: Option<i64>, limit: Option<i64>) -> Cursor {
    Cursor {
        before,
        limit: limit.unwrap_or(DEFAULT_LIMIT),
    }
}
