//! The public verification page: no login, one GET form (nothing to protect from CSRF).

use super::{filters, html, PageResult};
use crate::verification::{check, VerifyOutcome, VerifyQuery};
use crate::AppState;
use askama::Template;
use axum::extract::{Query, State};

#[derive(Template)]
#[template(path = "verify.html")]
struct VerifyPage {
    nav: Option<super::Nav>,
    outcome: Option<VerifyOutcome>,
    error: Option<String>,
}

pub async fn verify(State(s): State<AppState>, Query(q): Query<VerifyQuery>) -> PageResult {
    let (outcome, error) = if q.is_empty() {
        (None, None)
    } else {
        match check(&s, &q).await {
            Ok(o) => (Some(o), None),
            Err(e) => (None, Some(e.body().message)),
        }
    };
    html(VerifyPage {
        nav: None,
        outcome,
        error,
    })
}
