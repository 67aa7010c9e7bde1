//! Public verification, shared by the page and the API: verify a QR text offline-style against
//! the published key set (the same `skillcard_credential::verify` the CLI uses), then look up the
//! standing of the certificate and of that very card; or look a certificate up by number plus
//! national code. No account; nothing beyond what a verifier needs is revealed.

use crate::error::AppError;
use crate::verify_cache::{number_key, qr_key, Key};
use crate::AppState;
use serde::{Deserialize, Serialize};
use skillcard_core::national_id::NationalId;
use skillcard_core::printing::Standing;
use skillcard_core::{text, DomainError};
use skillcard_credential::{verify_qr, Verdict};
use skillcard_db::verification::PublicStatus;
use utoipa::{IntoParams, ToSchema};

/// What a verifier sends: the QR text, or a certificate number with the holder's national code.
#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct VerifyQuery {
    /// The QR text, `SC1:…`.
    pub qr: Option<String>,
    /// The certificate number (needs `national_id`).
    pub number: Option<String>,
    /// The holder's national code (any digits).
    pub national_id: Option<String>,
}

impl VerifyQuery {
    pub fn is_empty(&self) -> bool {
        [&self.qr, &self.number, &self.national_id]
            .iter()
            .all(|f| f.as_deref().is_none_or(|s| s.trim().is_empty()))
    }
}

/// The answer: the signature's verdict (for a QR) and the standing found.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VerifyOutcome {
    /// `valid`, `void`, `not_issued` or `unknown`; for a QR whose signature fails, the verdict's
    /// code (`bad_signature`, `malformed`, `unknown_key`, `revoked_key`, `expired_key`).
    pub result: String,
    /// A Persian sentence for people.
    pub message: String,
    /// For a QR: the signature verdict's code.
    pub signature: Option<String>,
    pub certificate: Option<PublicStatus>,
}

impl VerifyOutcome {
    /// The card is a registered card of an issued certificate (its signature, if read, sound).
    pub fn is_valid(&self) -> bool {
        self.result == Standing::Valid.as_str()
    }
}

fn outcome(
    result: &str,
    signature: Option<&str>,
    certificate: Option<PublicStatus>,
) -> VerifyOutcome {
    VerifyOutcome {
        result: result.to_string(),
        message: skillcard_core::fa::verification(result).to_string(),
        signature: signature.map(str::to_string),
        certificate,
    }
}

/// Verifies a QR text or looks a certificate up, answering from [`crate::verify_cache`] when it
/// holds the answer (only answers about a registered card are kept there).
pub async fn check(state: &AppState, q: &VerifyQuery) -> Result<VerifyOutcome, AppError> {
    let request = Request::parse(q)?;
    let cache = &state.verify_cache;
    let key = request.key();
    if let Some(kept) = cache.get(&state.store, &key).await? {
        return Ok(kept);
    }
    let ticket = cache.ticket();
    let answer = answer(state, &request).await?;
    if let Some(serial) = keepable(&answer) {
        cache.insert(ticket, key, serial, answer.clone());
    }
    Ok(answer)
}

/// A parsed verification request.
enum Request<'q> {
    Qr(&'q str),
    Number(String, NationalId),
}

impl<'q> Request<'q> {
    fn parse(q: &'q VerifyQuery) -> Result<Self, AppError> {
        if let Some(qr) = q.qr.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            return Ok(Request::Qr(qr));
        }
        let number = text::required("certificate", q.number.as_deref().unwrap_or(""), 32)?;
        let nid = NationalId::parse(q.national_id.as_deref().unwrap_or(""))?;
        Ok(Request::Number(number, nid))
    }

    fn key(&self) -> Key {
        match self {
            Request::Qr(qr) => qr_key(qr),
            Request::Number(number, nid) => number_key(number, nid.as_str()),
        }
    }
}

/// The card an answer may be kept for: only a registered card's. (An answer names a
/// certificate only once the QR's signature, if any, verified.)
fn keepable(answer: &VerifyOutcome) -> Option<u64> {
    let certificate = answer.certificate.as_ref()?;
    (certificate.standing == Standing::Valid)
        .then_some(certificate.card_serial)
        .flatten()
}

/// The answer from the signature and the database.
async fn answer(state: &AppState, request: &Request<'_>) -> Result<VerifyOutcome, AppError> {
    match request {
        Request::Qr(qr) => {
            let keys = state
                .public_keys
                .as_deref()
                .ok_or(AppError::Domain(DomainError::NoSigningKey))?;
            Ok(match verify_qr(qr, keys) {
                Verdict::Valid { claims, .. } => {
                    match state
                        .store
                        .public_card_status(&claims.certificate_no, claims.card_serial)
                        .await?
                    {
                        Some(s) => outcome(s.standing.as_str(), Some("valid"), Some(s)),
                        None => outcome("unknown", Some("valid"), None),
                    }
                }
                other => outcome(other.code(), Some(other.code()), None),
            })
        }
        Request::Number(number, nid) => Ok(match state.store.public_lookup(number, nid).await? {
            Some(s) => outcome(s.standing.as_str(), None, Some(s)),
            None => outcome("unknown", None, None),
        }),
    }
}
