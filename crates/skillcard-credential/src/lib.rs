//! The signed credential written into a skill card's chip (regulation) and printed as a
//! QR code, and its offline verification.
//!
//! * The payload is a tagged **COSE_Sign1** (RFC 9052, CBOR tag 18) whose payload is the CBOR
//!   [`Claims`] map (key table in [`claims`]). Protected header: `alg` = EdDSA (-8), `kid` = the
//!   issuer key id as UTF-8 bytes, `content type` = CoAP content format 60 (application/cbor).
//!   The unprotected header is empty; external AAD is empty.
//! * Signatures are **Ed25519** ([`IssuerKey`]); keys are published in a JWKS-like
//!   [`PublicKeySet`] that keeps old keys after rotation. ECDSA P-256 is not implemented: the
//!   `alg` header and the key set's `kty`/`crv` leave room for it.
//! * The chip's UID (read through PC/SC) is a signed claim, so a payload copied onto another
//!   chip fails [`verify`] when the reader passes the UID it read.
//! * The QR carries the same bytes as `SC1:` + Base45(zlib(bytes)) ([`to_qr_text`]).
//!
//! [`verify`] (and [`verify_qr`]) is the one verification function for the page, the API and
//! the CLI. It never panics and never errors: every input gets a [`Verdict`].
//!
//! Nothing here does I/O except the explicit key-file helpers ([`IssuerKey::save`],
//! [`IssuerKey::load`], [`PublicKeySet::save`], [`PublicKeySet::load`]).

pub mod claims;
pub mod keys;
pub mod qr;

use coset::{iana, CborSerializable as _, CoseSign1, CoseSign1Builder, HeaderBuilder};
use coset::{ContentType, RegisteredLabelWithPrivate, TaggedCborSerializable as _};
use ed25519_dalek::Signer as _;

pub use claims::{Claims, ClaimsError};
pub use keys::{IssuerKey, KeyError, KeyStatus, PublicKey, PublicKeySet};
pub use qr::{from_qr_text, to_qr_text, QrError};

/// The largest credential accepted by [`verify`]; anything longer is rejected unread.
pub const MAX_CREDENTIAL_BYTES: usize = 4096;

/// Why a credential could not be signed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignError {
    /// The claims break a rule of the key table.
    #[error(transparent)]
    Claims(#[from] ClaimsError),
    /// COSE encoding failed.
    #[error("COSE encoding failed: {0}")]
    Cose(String),
}

/// Signs the claims: the tagged COSE_Sign1 bytes for the chip file and the QR.
///
/// Whether `key` may still sign (status `active` in the published set) is the caller's check.
pub fn sign(claims: &Claims, key: &IssuerKey) -> Result<Vec<u8>, SignError> {
    let payload = claims.to_cbor()?;
    let protected = HeaderBuilder::new()
        .algorithm(iana::Algorithm::EdDSA)
        .key_id(key.kid().as_bytes().to_vec())
        .content_format(iana::CoapContentFormat::Cbor)
        .build();
    CoseSign1Builder::new()
        .protected(protected)
        .payload(payload)
        .create_signature(&[], |tbs| key.signing_key().sign(tbs).to_bytes().to_vec())
        .build()
        .to_tagged_vec()
        .map_err(|e| SignError::Cose(e.to_string()))
}

/// The outcome of verifying a credential. Only [`Verdict::Valid`] means "trust these claims".
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Signed by a known, unrevoked key within its validity, for this chip (if one was given).
    Valid {
        /// The verified claims (boxed: the other verdicts are small).
        claims: Box<Claims>,
        /// The id of the key that signed them.
        kid: String,
        /// That key's status (`Active` or `Retired`; both are valid).
        key_status: KeyStatus,
    },
    /// Not a credential: bad CBOR or COSE, truncated, wrong header, bad claims.
    Malformed(String),
    /// Signed with an algorithm other than EdDSA.
    UnsupportedAlgorithm(String),
    /// No key with this id in the key set.
    UnknownKey(String),
    /// The key that signed it has been revoked.
    RevokedKey(String),
    /// The signature does not match the payload and the key with this id: tampered or
    /// re-signed with another key.
    BadSignature(String),
    /// The credential claims an issue date after the signing key's `not_after`.
    ExpiredKey {
        /// The key id.
        kid: String,
        /// The key's last signing date.
        not_after: String,
        /// The credential's issue date.
        issued_on: String,
    },
    /// Genuine, but written for another chip: the payload was copied.
    ChipMismatch {
        /// The UID in the signed claims.
        signed: Vec<u8>,
        /// The UID read from the chip.
        read: Vec<u8>,
    },
}

impl Verdict {
    /// Is this [`Verdict::Valid`]?
    pub fn is_valid(&self) -> bool {
        matches!(self, Verdict::Valid { .. })
    }

    /// A stable machine code for the API and logs.
    pub fn code(&self) -> &'static str {
        match self {
            Verdict::Valid { .. } => "valid",
            Verdict::Malformed(_) => "malformed",
            Verdict::UnsupportedAlgorithm(_) => "unsupported_algorithm",
            Verdict::UnknownKey(_) => "unknown_key",
            Verdict::RevokedKey(_) => "revoked_key",
            Verdict::BadSignature(_) => "bad_signature",
            Verdict::ExpiredKey { .. } => "expired_key",
            Verdict::ChipMismatch { .. } => "chip_mismatch",
        }
    }

    /// A short Persian message for the verification page.
    pub fn message_fa(&self) -> &'static str {
        match self {
            Verdict::Valid { .. } => "گواهینامه معتبر است.",
            Verdict::Malformed(_) => "داده گواهینامه خوانا نیست یا ناقص است.",
            Verdict::UnsupportedAlgorithm(_) => "الگوریتم امضای گواهینامه پشتیبانی نمی‌شود.",
            Verdict::UnknownKey(_) => "کلید امضای گواهینامه شناخته نیست.",
            Verdict::RevokedKey(_) => "کلید امضای گواهینامه باطل شده است؛ گواهینامه معتبر نیست.",
            Verdict::BadSignature(_) => "امضای گواهینامه نادرست است؛ داده دستکاری شده است.",
            Verdict::ExpiredKey { .. } => {
                "گواهینامه پس از پایان اعتبار کلید امضا شده است؛ معتبر نیست."
            }
            Verdict::ChipMismatch { .. } => {
                "داده گواهینامه متعلق به تراشه دیگری است؛ کارت معتبر نیست."
            }
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Verdict::Valid { kid, .. } => write!(f, "valid (signed by key {kid})"),
            Verdict::Malformed(why) => write!(f, "malformed credential: {why}"),
            Verdict::UnsupportedAlgorithm(alg) => write!(f, "unsupported algorithm {alg}"),
            Verdict::UnknownKey(kid) => write!(f, "unknown signing key {kid:?}"),
            Verdict::RevokedKey(kid) => write!(f, "signing key {kid:?} is revoked"),
            Verdict::BadSignature(kid) => write!(f, "bad signature for key {kid:?}"),
            Verdict::ExpiredKey {
                kid,
                not_after,
                issued_on,
            } => write!(
                f,
                "issued on {issued_on}, after key {kid:?} expired on {not_after}"
            ),
            Verdict::ChipMismatch { .. } => write!(f, "credential belongs to another chip"),
        }
    }
}

/// Verifies credential bytes (from the chip, or from [`from_qr_text`]) against the published
/// keys. Pass the UID read from the chip as `expected_chip_uid`; pass `None` when there is no
/// chip (a QR scan), in which case the UID claim is not checked.
///
/// Checks, in order: size, COSE_Sign1 structure (tag 18 or untagged), no `crit` header, `alg`
/// = EdDSA, `kid` in the protected header, content type, key known, key not revoked, signature,
/// claims, key `not_after` against `issued_on`, chip UID.
pub fn verify(bytes: &[u8], keys: &PublicKeySet, expected_chip_uid: Option<&[u8]>) -> Verdict {
    if bytes.is_empty() {
        return Verdict::Malformed("empty input".to_owned());
    }
    if bytes.len() > MAX_CREDENTIAL_BYTES {
        return Verdict::Malformed(format!(
            "{} bytes is longer than any credential",
            bytes.len()
        ));
    }
    let parsed = if bytes.first() == Some(&0xd2) {
        CoseSign1::from_tagged_slice(bytes)
    } else {
        CoseSign1::from_slice(bytes)
    };
    let cose = match parsed {
        Ok(c) => c,
        Err(e) => return Verdict::Malformed(format!("not a COSE_Sign1: {e}")),
    };
    let header = &cose.protected.header;
    if !header.crit.is_empty() {
        return Verdict::Malformed("unknown critical header".to_owned());
    }
    match &header.alg {
        Some(RegisteredLabelWithPrivate::Assigned(iana::Algorithm::EdDSA)) => {}
        Some(other) => return Verdict::UnsupportedAlgorithm(format!("{other:?}")),
        None => return Verdict::Malformed("no algorithm in the protected header".to_owned()),
    }
    if header.key_id.is_empty() {
        return Verdict::Malformed("no key id in the protected header".to_owned());
    }
    let Ok(kid) = std::str::from_utf8(&header.key_id) else {
        return Verdict::Malformed("key id is not UTF-8".to_owned());
    };
    if header.content_type != Some(ContentType::Assigned(iana::CoapContentFormat::Cbor)) {
        return Verdict::Malformed("content type is not application/cbor".to_owned());
    }
    let Some(payload) = cose.payload.as_deref() else {
        return Verdict::Malformed("detached payload".to_owned());
    };
    let Some(key) = keys.get(kid) else {
        return Verdict::UnknownKey(kid.to_owned());
    };
    if key.status == KeyStatus::Revoked {
        return Verdict::RevokedKey(kid.to_owned());
    }
    let Ok(signature) = ed25519_dalek::Signature::from_slice(&cose.signature) else {
        return Verdict::Malformed("signature is not 64 bytes".to_owned());
    };
    let tbs = cose.tbs_data(&[]);
    if key.key.verify_strict(&tbs, &signature).is_err() {
        return Verdict::BadSignature(kid.to_owned());
    }
    let claims = match Claims::from_cbor(payload) {
        Ok(c) => c,
        Err(e) => return Verdict::Malformed(e.to_string()),
    };
    if let Some(not_after) = &key.not_after {
        // Both are validated YYYY-MM-DD strings, so text order is date order.
        if claims.issued_on.as_str() > not_after.as_str() {
            return Verdict::ExpiredKey {
                kid: kid.to_owned(),
                not_after: not_after.clone(),
                issued_on: claims.issued_on,
            };
        }
    }
    if let Some(read) = expected_chip_uid {
        if read != claims.chip_uid.as_slice() {
            return Verdict::ChipMismatch {
                signed: claims.chip_uid,
                read: read.to_vec(),
            };
        }
    }
    Verdict::Valid {
        claims: Box::new(claims),
        kid: kid.to_owned(),
        key_status: key.status,
    }
}

/// Verifies the QR text form: [`from_qr_text`] then [`verify`] with no chip. A text that does
/// not decode is [`Verdict::Malformed`].
pub fn verify_qr(text: &str, keys: &PublicKeySet) -> Verdict {
    match from_qr_text(text) {
        Ok(bytes) => verify(&bytes, keys, None),
        Err(e) => Verdict::Malformed(e.to_string()),
    }
}
