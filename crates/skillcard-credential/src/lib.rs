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
pub mod merkle;
pub mod photo;
pub mod qr;
pub mod transparency;

use coset::{iana, CborSerializable as _, CoseSign1, CoseSign1Builder, HeaderBuilder};
use coset::{ContentType, RegisteredLabelWithPrivate, TaggedCborSerializable as _};

pub use claims::{Claims, ClaimsError};
pub use keys::{ExternalSigner, IssuerKey, KeyError, KeyStatus, PublicKey, PublicKeySet};
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
    /// The security module holding the key did not sign.
    #[error("signing failed: {0}")]
    Signer(String),
}

/// Signs the claims: the tagged COSE_Sign1 bytes for the chip file and the QR.
///
/// Whether `key` may still sign (status `active` in the published set) is the caller's check.
pub fn sign(claims: &Claims, key: &IssuerKey) -> Result<Vec<u8>, SignError> {
    sign_payload(
        claims.to_cbor()?,
        ContentType::Assigned(iana::CoapContentFormat::Cbor),
        key,
    )
}

/// Signs `payload` as a tagged COSE_Sign1 with `key`, its id and `content_type` in the
/// protected header. The content type keeps the kinds of signed document apart: a credential
/// is `application/cbor`, the log's tree head and the status list have their own.
pub(crate) fn sign_payload(
    payload: Vec<u8>,
    content_type: ContentType,
    key: &IssuerKey,
) -> Result<Vec<u8>, SignError> {
    let mut protected = HeaderBuilder::new()
        .algorithm(iana::Algorithm::EdDSA)
        .key_id(key.kid().as_bytes().to_vec())
        .build();
    protected.content_type = Some(content_type);
    CoseSign1Builder::new()
        .protected(protected)
        .payload(payload)
        .try_create_signature(&[], |tbs| key.sign_bytes(tbs).map(|s| s.to_vec()))?
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
    let opened = match open_signed(
        bytes,
        MAX_CREDENTIAL_BYTES,
        &ContentType::Assigned(iana::CoapContentFormat::Cbor),
        keys,
    ) {
        Ok(o) => o,
        Err(v) => return v,
    };
    let claims = match Claims::from_cbor(&opened.payload) {
        Ok(c) => c,
        Err(e) => return Verdict::Malformed(e.to_string()),
    };
    if let Err(expired) = opened.check_not_after(&claims.issued_on) {
        return expired;
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
        kid: opened.kid,
        key_status: opened.key_status,
    }
}

/// The claims a credential carries, read without asking who signed it: for comparing a stored
/// credential with the records it was made from (`skillcard check`). Wherever a credential is
/// to be trusted, [`verify`] checks its signature.
pub fn read_claims(bytes: &[u8]) -> Result<Claims, String> {
    if bytes.len() > MAX_CREDENTIAL_BYTES {
        return Err(format!(
            "{} bytes is longer than any credential",
            bytes.len()
        ));
    }
    let cose = parse_cose(bytes)?;
    if cose.protected.header.content_type
        != Some(ContentType::Assigned(iana::CoapContentFormat::Cbor))
    {
        return Err("not a credential (content type)".to_owned());
    }
    let payload = cose.payload.as_deref().ok_or("detached payload")?;
    Claims::from_cbor(payload).map_err(|e| e.to_string())
}

/// A COSE_Sign1, tagged (18) or not.
fn parse_cose(bytes: &[u8]) -> Result<CoseSign1, String> {
    let parsed = if bytes.first() == Some(&0xd2) {
        CoseSign1::from_tagged_slice(bytes)
    } else {
        CoseSign1::from_slice(bytes)
    };
    parsed.map_err(|e| format!("not a COSE_Sign1: {e}"))
}

/// A COSE_Sign1 whose signature checked out against a known, unrevoked key.
pub(crate) struct Opened {
    pub payload: Vec<u8>,
    pub kid: String,
    pub key_status: KeyStatus,
    pub not_after: Option<String>,
}

impl Opened {
    /// A key may not sign after its `not_after`; `date` is the signed document's
    /// `YYYY-MM-DD` (validated, so text order is date order).
    pub fn check_not_after(&self, date: &str) -> Result<(), Verdict> {
        match &self.not_after {
            Some(not_after) if date > not_after.as_str() => Err(Verdict::ExpiredKey {
                kid: self.kid.clone(),
                not_after: not_after.clone(),
                issued_on: date.to_owned(),
            }),
            _ => Ok(()),
        }
    }
}

/// The checks every signed document shares, in order: size, COSE_Sign1 structure (tag 18 or
/// untagged), no `crit` header, `alg` = EdDSA, `kid` in the protected header, content type,
/// key known, key not revoked, signature.
pub(crate) fn open_signed(
    bytes: &[u8],
    max_len: usize,
    content_type: &ContentType,
    keys: &PublicKeySet,
) -> Result<Opened, Verdict> {
    let malformed = |why: &str| Err(Verdict::Malformed(why.to_owned()));
    if bytes.is_empty() {
        return malformed("empty input");
    }
    if bytes.len() > max_len {
        return Err(Verdict::Malformed(format!(
            "{} bytes is longer than any such document",
            bytes.len()
        )));
    }
    let cose = parse_cose(bytes).map_err(Verdict::Malformed)?;
    let header = &cose.protected.header;
    if !header.crit.is_empty() {
        return malformed("unknown critical header");
    }
    match &header.alg {
        Some(RegisteredLabelWithPrivate::Assigned(iana::Algorithm::EdDSA)) => {}
        Some(other) => return Err(Verdict::UnsupportedAlgorithm(format!("{other:?}"))),
        None => return malformed("no algorithm in the protected header"),
    }
    if header.key_id.is_empty() {
        return malformed("no key id in the protected header");
    }
    let Ok(kid) = std::str::from_utf8(&header.key_id) else {
        return malformed("key id is not UTF-8");
    };
    if header.content_type.as_ref() != Some(content_type) {
        return malformed("unexpected content type");
    }
    let Some(payload) = cose.payload.as_deref() else {
        return malformed("detached payload");
    };
    let Some(key) = keys.get(kid) else {
        return Err(Verdict::UnknownKey(kid.to_owned()));
    };
    if key.status == KeyStatus::Revoked {
        return Err(Verdict::RevokedKey(kid.to_owned()));
    }
    let Ok(signature) = ed25519_dalek::Signature::from_slice(&cose.signature) else {
        return malformed("signature is not 64 bytes");
    };
    let tbs = cose.tbs_data(&[]);
    if key.key.verify_strict(&tbs, &signature).is_err() {
        return Err(Verdict::BadSignature(kid.to_owned()));
    }
    Ok(Opened {
        payload: payload.to_vec(),
        kid: kid.to_owned(),
        key_status: key.status,
        not_after: key.not_after.clone(),
    })
}

/// Verifies the QR text form: [`from_qr_text`] then [`verify`] with no chip. A text that does
/// not decode is [`Verdict::Malformed`].
pub fn verify_qr(text: &str, keys: &PublicKeySet) -> Verdict {
    match from_qr_text(text) {
        Ok(bytes) => verify(&bytes, keys, None),
        Err(e) => Verdict::Malformed(e.to_string()),
    }
}
