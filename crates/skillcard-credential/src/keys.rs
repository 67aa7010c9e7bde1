//! Issuer signing keys and the published public key set.
//!
//! ## Issuer key file (secret; the operator's, through the CLI)
//!
//! One JSON object per file, written with mode 0600 and never overwritten:
//!
//! ```json
//! {"format":"skillcard-issuer-key/1","kid":"2025-01","alg":"EdDSA","crv":"Ed25519",
//!  "d":"<base64url 32-byte seed>","x":"<base64url 32-byte public key>"}
//! ```
//!
//! `x` is redundant and checked against `d` on load, so a corrupted file is caught. On Unix,
//! [`IssuerKey::load`] refuses a file that group or others may read.
//!
//! ## Public key set (published; JWKS-like, RFC 7517/8037 field names)
//!
//! ```json
//! {"keys":[{"kid":"2025-01","kty":"OKP","crv":"Ed25519","x":"<base64url>",
//!           "status":"active","not_after":"2026-03-20"}]}
//! ```
//!
//! * `status` — `active` (may sign new cards), `retired` (signs no new cards; cards it signed
//!   stay valid — this is rotation), `revoked` (compromised: every signature by it is invalid).
//! * `not_after` — optional last Gregorian date on which the key may have signed; a credential
//!   whose `issued_on` is later gets [`crate::Verdict::ExpiredKey`]. `issued_on` is asserted by
//!   the signer, so a stolen key can backdate: a compromised key must be `revoked`, not expired.
//!
//! Old keys are kept in the set for as long as cards signed by them are in circulation.
//!
//! ## Keys held elsewhere
//!
//! A national deployment keeps the secret in a hardware security module: [`IssuerKey::external`]
//! wraps an [`ExternalSigner`] (the PKCS#11 one lives in the `skillcard-hsm` crate, so this crate
//! stays free of I/O) with the public key the module reported. Every signature it returns is
//! checked against that public key before it is used, so a module that signs with another key,
//! or returns garbage, fails loudly instead of printing cards nobody can verify.

use std::path::Path;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ed25519_dalek::{SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::claims::is_iso_date;

/// The `format` field of an issuer key file.
pub const KEY_FILE_FORMAT: &str = "skillcard-issuer-key/1";

/// Why a key or key set cannot be made, read or written.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The key id breaks the rule: 1..=32 of `A-Z a-z 0-9 . _ -`.
    #[error("invalid key id {0:?}: use 1 to 32 of A-Z a-z 0-9 . _ -")]
    InvalidKid(String),
    /// The operating system's random source failed.
    #[error("no randomness: {0}")]
    Random(String),
    /// A file could not be read or written.
    #[error("key file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A secret key file that group or others can read.
    #[error("key file {0} is readable by group or others; chmod 600 it")]
    InsecurePermissions(String),
    /// The file's content is not a valid key or key set.
    #[error("invalid key data: {0}")]
    Invalid(String),
    /// Two keys in a set with the same id.
    #[error("duplicate key id {0:?} in the key set")]
    DuplicateKid(String),
    /// No key with this id in the set.
    #[error("no key {0:?} in the key set")]
    NoSuchKid(String),
    /// The secret is held by a security module and never leaves it.
    #[error("key {0:?} is held by a security module; its secret cannot be exported")]
    NotExportable(String),
}

/// Signs with an Ed25519 secret this process never sees (a hardware security module).
pub trait ExternalSigner: Send + Sync {
    /// The 64-byte Ed25519 signature of `message`, or why the module could not make it.
    fn sign_ed25519(&self, message: &[u8]) -> Result<[u8; 64], String>;
    /// Where the secret lives, for logs and `keys list` (never the PIN).
    fn describe(&self) -> String;
}

enum Secret {
    Software(Box<SigningKey>),
    External(Box<dyn ExternalSigner>),
}

/// Decodes a base64url (no padding) 32-byte value, naming `field` on error.
pub fn decode_key_bytes(field: &str, s: &str) -> Result<[u8; 32], KeyError> {
    b64_32(field, s)
}

/// Checks a key id: 1..=32 of `A-Z a-z 0-9 . _ -`.
pub fn validate_kid(kid: &str) -> Result<(), KeyError> {
    let ok = (1..=32).contains(&kid.len())
        && kid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(KeyError::InvalidKid(kid.to_owned()))
    }
}

/// An issuer's Ed25519 signing key with its key id: a secret in memory (from a key file) or in
/// a security module. `Debug` never shows the secret.
pub struct IssuerKey {
    kid: String,
    public: VerifyingKey,
    secret: Secret,
}

impl std::fmt::Debug for IssuerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("IssuerKey");
        d.field("kid", &self.kid)
            .field("x", &URL_SAFE_NO_PAD.encode(self.public.as_bytes()));
        if let Secret::External(signer) = &self.secret {
            d.field("held_by", &signer.describe());
        }
        d.finish_non_exhaustive()
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyFile {
    format: String,
    kid: String,
    alg: String,
    crv: String,
    d: String,
    x: String,
}

fn b64_32(field: &str, s: &str) -> Result<[u8; 32], KeyError> {
    let v = URL_SAFE_NO_PAD
        .decode(s)
        .map_err(|e| KeyError::Invalid(format!("{field}: {e}")))?;
    <[u8; 32]>::try_from(v.as_slice())
        .map_err(|_| KeyError::Invalid(format!("{field}: not 32 bytes")))
}

impl IssuerKey {
    /// Generates a new key from the operating system's random source.
    pub fn generate(kid: &str) -> Result<IssuerKey, KeyError> {
        use rand::RngCore as _;
        let mut seed = [0u8; 32];
        rand::rngs::OsRng
            .try_fill_bytes(&mut seed)
            .map_err(|e| KeyError::Random(e.to_string()))?;
        let key = IssuerKey::from_seed(kid, seed);
        seed.fill(0);
        key
    }

    /// Makes a key from a 32-byte Ed25519 seed (tests and key import).
    pub fn from_seed(kid: &str, seed: [u8; 32]) -> Result<IssuerKey, KeyError> {
        validate_kid(kid)?;
        let key = SigningKey::from_bytes(&seed);
        Ok(IssuerKey {
            kid: kid.to_owned(),
            public: key.verifying_key(),
            secret: Secret::Software(Box::new(key)),
        })
    }

    /// A key whose secret stays in a security module. `public` is the 32-byte Ed25519 public key
    /// the module reported for it; one probe signature is made and checked here, so a module
    /// that cannot sign, or signs with another key, is refused before it is used.
    pub fn external(
        kid: &str,
        public: [u8; 32],
        signer: Box<dyn ExternalSigner>,
    ) -> Result<IssuerKey, KeyError> {
        validate_kid(kid)?;
        let public = VerifyingKey::from_bytes(&public)
            .map_err(|e| KeyError::Invalid(format!("key {kid:?}: {e}")))?;
        if public.is_weak() {
            return Err(KeyError::Invalid(format!("key {kid:?} is weak")));
        }
        let key = IssuerKey {
            kid: kid.to_owned(),
            public,
            secret: Secret::External(signer),
        };
        key.sign_bytes(b"skillcard issuer key probe")
            .map_err(|e| KeyError::Invalid(e.to_string()))?;
        Ok(key)
    }

    /// The key id, written into each credential's protected header.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// Whether the secret is held by a security module.
    pub fn is_external(&self) -> bool {
        matches!(self.secret, Secret::External(_))
    }

    /// The Ed25519 signature of `message`. A module's signature is verified against the
    /// public key before it is returned.
    pub(crate) fn sign_bytes(&self, message: &[u8]) -> Result<[u8; 64], crate::SignError> {
        use ed25519_dalek::Signer as _;
        match &self.secret {
            Secret::Software(key) => Ok(key.sign(message).to_bytes()),
            Secret::External(signer) => {
                let bytes = signer
                    .sign_ed25519(message)
                    .map_err(|e| crate::SignError::Signer(format!("{}: {e}", signer.describe())))?;
                let sig = ed25519_dalek::Signature::from_bytes(&bytes);
                self.public.verify_strict(message, &sig).map_err(|_| {
                    crate::SignError::Signer(format!(
                        "{} returned a signature that key {:?} does not verify",
                        signer.describe(),
                        self.kid
                    ))
                })?;
                Ok(bytes)
            }
        }
    }

    /// The public half, as an entry for the published [`PublicKeySet`].
    pub fn public_key(&self, status: KeyStatus, not_after: Option<String>) -> PublicKey {
        PublicKey {
            kid: self.kid.clone(),
            key: self.public,
            status,
            not_after,
        }
    }

    /// The key file's JSON text (contains the secret). A module's key has none to give.
    pub fn to_json(&self) -> Result<String, KeyError> {
        let Secret::Software(key) = &self.secret else {
            return Err(KeyError::NotExportable(self.kid.clone()));
        };
        let file = KeyFile {
            format: KEY_FILE_FORMAT.to_owned(),
            kid: self.kid.clone(),
            alg: "EdDSA".to_owned(),
            crv: "Ed25519".to_owned(),
            d: URL_SAFE_NO_PAD.encode(key.to_bytes()),
            x: URL_SAFE_NO_PAD.encode(self.public.as_bytes()),
        };
        serde_json::to_string_pretty(&file).map_err(|e| KeyError::Invalid(e.to_string()))
    }

    /// Reads a key from the key file's JSON text, checking `x` against `d`.
    pub fn from_json(text: &str) -> Result<IssuerKey, KeyError> {
        let file: KeyFile =
            serde_json::from_str(text).map_err(|e| KeyError::Invalid(e.to_string()))?;
        if file.format != KEY_FILE_FORMAT || file.alg != "EdDSA" || file.crv != "Ed25519" {
            return Err(KeyError::Invalid(format!(
                "unsupported key file (format {:?}, alg {:?}, crv {:?})",
                file.format, file.alg, file.crv
            )));
        }
        let key = IssuerKey::from_seed(&file.kid, b64_32("d", &file.d)?)?;
        if key.public.to_bytes() != b64_32("x", &file.x)? {
            return Err(KeyError::Invalid(
                "public key x does not match secret d".to_owned(),
            ));
        }
        Ok(key)
    }

    /// Writes the key file with mode 0600. Refuses to overwrite an existing file: a signing key
    /// is never replaced in place; rotation makes a new key with a new kid.
    pub fn save(&self, path: &Path) -> Result<(), KeyError> {
        use std::io::Write as _;
        let text = self.to_json()?;
        let io = |source| KeyError::Io {
            path: path.display().to_string(),
            source,
        };
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            opts.mode(0o600);
        }
        let mut f = opts.open(path).map_err(io)?;
        f.write_all(text.as_bytes()).map_err(io)?;
        f.write_all(b"\n").map_err(io)?;
        f.sync_all().map_err(io)?;
        Ok(())
    }

    /// Reads a key file; on Unix refuses one that group or others may read.
    pub fn load(path: &Path) -> Result<IssuerKey, KeyError> {
        let io = |source| KeyError::Io {
            path: path.display().to_string(),
            source,
        };
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(path).map_err(io)?.permissions().mode();
            if mode & 0o077 != 0 {
                return Err(KeyError::InsecurePermissions(path.display().to_string()));
            }
        }
        let text = std::fs::read_to_string(path).map_err(io)?;
        IssuerKey::from_json(&text)
    }
}

/// What a published key may still do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyStatus {
    /// Signs new cards; its signatures are valid.
    Active,
    /// Signs no new cards; the cards it signed stay valid (rotation).
    Retired,
    /// Compromised: every signature by it is invalid.
    Revoked,
}

/// One published verification key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicKey {
    /// The key id.
    pub kid: String,
    /// The Ed25519 public key.
    pub key: VerifyingKey,
    /// What the key may still do.
    pub status: KeyStatus,
    /// The last `YYYY-MM-DD` on which the key may have signed, if bounded.
    pub not_after: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct RawJwk {
    kid: String,
    kty: String,
    crv: String,
    x: String,
    status: KeyStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    not_after: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct RawKeySet {
    keys: Vec<RawJwk>,
}

impl TryFrom<RawJwk> for PublicKey {
    type Error = KeyError;
    fn try_from(raw: RawJwk) -> Result<Self, KeyError> {
        validate_kid(&raw.kid)?;
        if raw.kty != "OKP" || raw.crv != "Ed25519" {
            return Err(KeyError::Invalid(format!(
                "key {:?}: unsupported kty {:?} / crv {:?}",
                raw.kid, raw.kty, raw.crv
            )));
        }
        let key = VerifyingKey::from_bytes(&b64_32("x", &raw.x)?)
            .map_err(|e| KeyError::Invalid(format!("key {:?}: {e}", raw.kid)))?;
        if key.is_weak() {
            return Err(KeyError::Invalid(format!("key {:?} is weak", raw.kid)));
        }
        if let Some(d) = &raw.not_after {
            if !is_iso_date(d) {
                return Err(KeyError::Invalid(format!(
                    "key {:?}: not_after {d:?} is not YYYY-MM-DD",
                    raw.kid
                )));
            }
        }
        Ok(PublicKey {
            kid: raw.kid,
            key,
            status: raw.status,
            not_after: raw.not_after,
        })
    }
}

impl From<&PublicKey> for RawJwk {
    fn from(k: &PublicKey) -> RawJwk {
        RawJwk {
            kid: k.kid.clone(),
            kty: "OKP".to_owned(),
            crv: "Ed25519".to_owned(),
            x: URL_SAFE_NO_PAD.encode(k.key.as_bytes()),
            status: k.status,
            not_after: k.not_after.clone(),
        }
    }
}

/// The published set of verification keys, old ones included. Every entry is checked when the
/// set is built or parsed, so verification never meets a bad key.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawKeySet", into = "RawKeySet")]
pub struct PublicKeySet {
    keys: Vec<PublicKey>,
}

impl TryFrom<RawKeySet> for PublicKeySet {
    type Error = KeyError;
    fn try_from(raw: RawKeySet) -> Result<Self, KeyError> {
        let mut set = PublicKeySet::default();
        for k in raw.keys {
            set.insert(PublicKey::try_from(k)?)?;
        }
        Ok(set)
    }
}

impl From<PublicKeySet> for RawKeySet {
    fn from(set: PublicKeySet) -> RawKeySet {
        RawKeySet {
            keys: set.keys.iter().map(RawJwk::from).collect(),
        }
    }
}

impl PublicKeySet {
    /// An empty set.
    pub fn new() -> PublicKeySet {
        PublicKeySet::default()
    }

    /// Adds a key; refuses a second key with the same id.
    pub fn insert(&mut self, key: PublicKey) -> Result<(), KeyError> {
        validate_kid(&key.kid)?;
        if self.get(&key.kid).is_some() {
            return Err(KeyError::DuplicateKid(key.kid));
        }
        self.keys.push(key);
        Ok(())
    }

    /// The key with this id.
    pub fn get(&self, kid: &str) -> Option<&PublicKey> {
        self.keys.iter().find(|k| k.kid == kid)
    }

    /// All keys, in insertion order.
    pub fn keys(&self) -> &[PublicKey] {
        &self.keys
    }

    /// Changes a key's status (retire on rotation, revoke on compromise).
    pub fn set_status(&mut self, kid: &str, status: KeyStatus) -> Result<(), KeyError> {
        let key = self
            .keys
            .iter_mut()
            .find(|k| k.kid == kid)
            .ok_or_else(|| KeyError::NoSuchKid(kid.to_owned()))?;
        key.status = status;
        Ok(())
    }

    /// Parses the published JSON.
    pub fn from_json(text: &str) -> Result<PublicKeySet, KeyError> {
        let raw: RawKeySet =
            serde_json::from_str(text).map_err(|e| KeyError::Invalid(e.to_string()))?;
        PublicKeySet::try_from(raw)
    }

    /// The published JSON, pretty-printed.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(&RawKeySet::from(self.clone())).unwrap_or_default()
    }

    /// Reads a published key set file.
    pub fn load(path: &Path) -> Result<PublicKeySet, KeyError> {
        let text = std::fs::read_to_string(path).map_err(|source| KeyError::Io {
            path: path.display().to_string(),
            source,
        })?;
        PublicKeySet::from_json(&text)
    }

    /// Writes the key set file (public; replaced through a temporary file and a rename).
    pub fn save(&self, path: &Path) -> Result<(), KeyError> {
        let io = |source| KeyError::Io {
            path: path.display().to_string(),
            source,
        };
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        let tmp = std::path::PathBuf::from(tmp);
        std::fs::write(&tmp, format!("{}\n", self.to_json())).map_err(io)?;
        std::fs::rename(&tmp, path).map_err(io)?;
        Ok(())
    }
}
