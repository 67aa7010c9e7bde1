//! The issuer's signing key inside a hardware security module, through PKCS#11.
//!
//! The secret never enters this process: [`Token::generate_ed25519`] makes the key pair on the
//! token (private key sensitive and not extractable), and [`Token::signer`] returns an
//! [`skillcard_credential::ExternalSigner`] that asks the token for each signature
//! (`CKM_EDDSA`, pure Ed25519). The credential crate checks every signature against the public
//! key before it is used, so this crate need not trust the module either.
//!
//! A key is found by its label (`CKA_LABEL`) on the token with the given label, after logging in
//! as the normal user with the PIN. Any PKCS#11 v3 module with EdDSA works; the suite runs on
//! Debian's SoftHSM2.
//!
//! The PKCS#11 library is loaded and `C_Initialize`d once per module path per process
//! ([`Token::open`] shares it), because a second `C_Initialize` in one process is an error.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Function, Pkcs11};
use cryptoki::error::{Error as P11Error, RvError};
use cryptoki::mechanism::eddsa::{EddsaParams, EddsaSignatureScheme};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;

/// The DER `PrintableString "edwards25519"`: the curve name as PKCS#11 v3 `CKA_EC_PARAMS`
/// (the OID form 1.3.101.112 is not accepted by every module; this one is).
const EDWARDS25519_PARAMS: [u8; 14] = [
    0x13, 0x0c, b'e', b'd', b'w', b'a', b'r', b'd', b's', b'2', b'5', b'5', b'1', b'9',
];

/// Why the module could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum HsmError {
    /// The PKCS#11 library could not be loaded or initialised.
    #[error("PKCS#11 module {module}: {message}")]
    Module {
        /// The library path.
        module: String,
        /// What went wrong.
        message: String,
    },
    /// No initialised token carries this label.
    #[error(
        "no token labelled {0:?} in the module (initialise one, e.g. softhsm2-util --init-token)"
    )]
    NoToken(String),
    /// The user PIN was refused.
    #[error("the token refused the PIN")]
    BadPin,
    /// No key pair with this label on the token.
    #[error("no Ed25519 key labelled {0:?} on the token")]
    NoKey(String),
    /// A key with this label already exists.
    #[error("the token already holds a key labelled {0:?}; a key is never replaced")]
    KeyExists(String),
    /// The key's public point is not a 32-byte Ed25519 key.
    #[error("key {label:?}: unexpected public key encoding ({len} bytes)")]
    BadPublicKey {
        /// The key label.
        label: String,
        /// The length found.
        len: usize,
    },
    /// Any other PKCS#11 failure.
    #[error("PKCS#11: {0}")]
    Pkcs11(#[from] P11Error),
}

/// Where a key lives: the module, the token and the key's label. The PIN is passed separately
/// and never stored in this type's `Debug` output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyLocation {
    /// The PKCS#11 library (for SoftHSM2 on Debian: `/usr/lib/softhsm/libsofthsm2.so`).
    pub module: PathBuf,
    /// The token's label.
    pub token: String,
    /// The key pair's `CKA_LABEL`.
    pub label: String,
}

fn contexts() -> &'static Mutex<HashMap<PathBuf, Pkcs11>> {
    static CONTEXTS: OnceLock<Mutex<HashMap<PathBuf, Pkcs11>>> = OnceLock::new();
    CONTEXTS.get_or_init(|| Mutex::new(HashMap::new()))
}

fn context(module: &Path) -> Result<Pkcs11, HsmError> {
    let err = |message: String| HsmError::Module {
        module: module.display().to_string(),
        message,
    };
    let mut map = contexts()
        .lock()
        .map_err(|_| err("context lock poisoned".to_owned()))?;
    if let Some(ctx) = map.get(module) {
        return Ok(ctx.clone());
    }
    let ctx = Pkcs11::new(module).map_err(|e| err(e.to_string()))?;
    match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        Ok(())
        | Err(P11Error::Pkcs11(RvError::CryptokiAlreadyInitialized, Function::Initialize)) => {}
        Err(e) => return Err(err(e.to_string())),
    }
    map.insert(module.to_owned(), ctx.clone());
    Ok(ctx)
}

/// An open token: the module's context and the slot holding the token with the label.
#[derive(Clone)]
pub struct Token {
    ctx: Pkcs11,
    slot: Slot,
    module: PathBuf,
    label: String,
    pin: Arc<str>,
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Token")
            .field("module", &self.module)
            .field("label", &self.label)
            .finish_non_exhaustive()
    }
}

impl Token {
    /// Loads `module` (once per process) and finds the token labelled `token`.
    pub fn open(module: &Path, token: &str, pin: &str) -> Result<Token, HsmError> {
        let ctx = context(module)?;
        let mut found = None;
        for slot in ctx.get_slots_with_token()? {
            if ctx.get_token_info(slot)?.label().trim_end() == token {
                found = Some(slot);
                break;
            }
        }
        let slot = found.ok_or_else(|| HsmError::NoToken(token.to_owned()))?;
        let t = Token {
            ctx,
            slot,
            module: module.to_owned(),
            label: token.to_owned(),
            pin: Arc::from(pin),
        };
        drop(t.session()?);
        Ok(t)
    }

    /// A logged-in read-write session.
    fn session(&self) -> Result<Session, HsmError> {
        let session = self.ctx.open_rw_session(self.slot)?;
        match session.login(
            UserType::User,
            Some(&AuthPin::new(self.pin.as_ref().into())),
        ) {
            Ok(()) | Err(P11Error::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => Ok(session),
            Err(P11Error::Pkcs11(RvError::PinIncorrect | RvError::PinLenRange, _)) => {
                Err(HsmError::BadPin)
            }
            Err(e) => Err(e.into()),
        }
    }

    fn find(
        session: &Session,
        class: ObjectClass,
        label: &str,
    ) -> Result<Vec<ObjectHandle>, HsmError> {
        Ok(session.find_objects(&[
            Attribute::Class(class),
            Attribute::KeyType(KeyType::EC_EDWARDS),
            Attribute::Label(label.as_bytes().to_vec()),
        ])?)
    }

    /// Makes a new Ed25519 key pair labelled `label` on the token and returns its public key.
    /// The private key is sensitive and never extractable; an existing label is refused.
    pub fn generate_ed25519(&self, label: &str) -> Result<[u8; 32], HsmError> {
        let session = self.session()?;
        if !Self::find(&session, ObjectClass::PRIVATE_KEY, label)?.is_empty()
            || !Self::find(&session, ObjectClass::PUBLIC_KEY, label)?.is_empty()
        {
            return Err(HsmError::KeyExists(label.to_owned()));
        }
        let id = label.as_bytes().to_vec();
        let public_template = [
            Attribute::Token(true),
            Attribute::Private(false),
            Attribute::Verify(true),
            Attribute::Label(id.clone()),
            Attribute::Id(id.clone()),
            Attribute::EcParams(EDWARDS25519_PARAMS.to_vec()),
        ];
        let private_template = [
            Attribute::Token(true),
            Attribute::Private(true),
            Attribute::Sensitive(true),
            Attribute::Extractable(false),
            Attribute::Sign(true),
            Attribute::Label(id.clone()),
            Attribute::Id(id),
        ];
        let (public, _private) = session.generate_key_pair(
            &Mechanism::EccEdwardsKeyPairGen,
            &public_template,
            &private_template,
        )?;
        Self::public_point(&session, public, label)
    }

    /// The public key of the key pair labelled `label`.
    pub fn public_key(&self, label: &str) -> Result<[u8; 32], HsmError> {
        let session = self.session()?;
        let public = Self::find(&session, ObjectClass::PUBLIC_KEY, label)?
            .into_iter()
            .next()
            .ok_or_else(|| HsmError::NoKey(label.to_owned()))?;
        Self::public_point(&session, public, label)
    }

    /// `CKA_EC_POINT` is the DER OCTET STRING around the 32 key bytes (some modules give the
    /// bare 32 bytes; both are accepted).
    fn public_point(
        session: &Session,
        public: ObjectHandle,
        label: &str,
    ) -> Result<[u8; 32], HsmError> {
        let attrs = session.get_attributes(public, &[AttributeType::EcPoint])?;
        let point = attrs
            .into_iter()
            .find_map(|a| match a {
                Attribute::EcPoint(p) => Some(p),
                _ => None,
            })
            .ok_or_else(|| HsmError::NoKey(label.to_owned()))?;
        let raw = match point.as_slice() {
            [0x04, 0x20, rest @ ..] if rest.len() == 32 => rest,
            bare if bare.len() == 32 => bare,
            other => {
                return Err(HsmError::BadPublicKey {
                    label: label.to_owned(),
                    len: other.len(),
                })
            }
        };
        let mut out = [0u8; 32];
        out.copy_from_slice(raw);
        Ok(out)
    }

    /// A signer for the key labelled `label`: one logged-in session, reopened once if the
    /// token dropped it (a module restart, a network HSM reconnecting).
    pub fn signer(&self, label: &str) -> Result<Pkcs11Signer, HsmError> {
        let session = self.session()?;
        let key = Self::private_key(&session, label)?;
        Ok(Pkcs11Signer {
            token: self.clone(),
            label: label.to_owned(),
            state: Mutex::new((session, key)),
        })
    }

    fn private_key(session: &Session, label: &str) -> Result<ObjectHandle, HsmError> {
        Self::find(session, ObjectClass::PRIVATE_KEY, label)?
            .into_iter()
            .next()
            .ok_or_else(|| HsmError::NoKey(label.to_owned()))
    }

    /// Whether the private key labelled `label` is marked sensitive and not extractable.
    pub fn key_is_protected(&self, label: &str) -> Result<bool, HsmError> {
        let session = self.session()?;
        let key = Self::private_key(&session, label)?;
        let attrs =
            session.get_attributes(key, &[AttributeType::Sensitive, AttributeType::Extractable])?;
        let mut sensitive = false;
        let mut extractable = true;
        for a in attrs {
            match a {
                Attribute::Sensitive(v) => sensitive = v,
                Attribute::Extractable(v) => extractable = v,
                _ => {}
            }
        }
        Ok(sensitive && !extractable)
    }
}

/// Signs with a key that stays on the token. One session, used under a lock (PKCS#11 sessions
/// are not shared between threads).
pub struct Pkcs11Signer {
    token: Token,
    label: String,
    state: Mutex<(Session, ObjectHandle)>,
}

impl Pkcs11Signer {
    fn sign_once(
        session: &Session,
        key: ObjectHandle,
        message: &[u8],
    ) -> Result<Vec<u8>, HsmError> {
        let mechanism = Mechanism::Eddsa(EddsaParams::new(EddsaSignatureScheme::Pure));
        Ok(session.sign(&mechanism, key, message)?)
    }
}

fn session_lost(e: &HsmError) -> bool {
    matches!(
        e,
        HsmError::Pkcs11(P11Error::Pkcs11(
            RvError::SessionHandleInvalid
                | RvError::SessionClosed
                | RvError::UserNotLoggedIn
                | RvError::DeviceRemoved
                | RvError::TokenNotPresent
                | RvError::ObjectHandleInvalid
                | RvError::KeyHandleInvalid,
            _
        ))
    )
}

impl skillcard_credential::ExternalSigner for Pkcs11Signer {
    fn sign_ed25519(&self, message: &[u8]) -> Result<[u8; 64], String> {
        let mut state = self
            .state
            .lock()
            .map_err(|_| "signer lock poisoned".to_owned())?;
        let signature = match Self::sign_once(&state.0, state.1, message) {
            Err(e) if session_lost(&e) => {
                let session = self.token.session().map_err(|e| e.to_string())?;
                let key = Token::private_key(&session, &self.label).map_err(|e| e.to_string())?;
                *state = (session, key);
                Self::sign_once(&state.0, state.1, message)
            }
            other => other,
        }
        .map_err(|e| e.to_string())?;
        <[u8; 64]>::try_from(signature.as_slice())
            .map_err(|_| format!("the token returned a {}-byte signature", signature.len()))
    }

    fn describe(&self) -> String {
        format!(
            "PKCS#11 key {:?} on token {:?} ({})",
            self.label,
            self.token.label,
            self.token.module.display()
        )
    }
}

/// Debian's SoftHSM2 (package softhsm2): a software token for test sites and the test suite.
pub mod softhsm {
    use std::path::{Path, PathBuf};

    /// Where Debian installs the module.
    pub const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";

    /// Makes a token directory of its own under `dir` holding one token `label` (user PIN
    /// `pin`, security officer PIN `so_pin`) with `softhsm2-util`, so that no machine's real
    /// tokens are touched. Returns the configuration file every process that uses the token
    /// must find in `SOFTHSM2_CONF` (the module reads it once, when it is initialised).
    pub fn init_token(dir: &Path, label: &str, pin: &str, so_pin: &str) -> Result<PathBuf, String> {
        let tokens = dir.join("tokens");
        std::fs::create_dir_all(&tokens).map_err(|e| format!("{}: {e}", tokens.display()))?;
        let conf = dir.join("softhsm2.conf");
        std::fs::write(
            &conf,
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
                tokens.display()
            ),
        )
        .map_err(|e| format!("{}: {e}", conf.display()))?;
        let out = std::process::Command::new("softhsm2-util")
            .args(["--init-token", "--free", "--label", label])
            .args(["--pin", pin, "--so-pin", so_pin])
            .env("SOFTHSM2_CONF", &conf)
            .output()
            .map_err(|e| format!("softhsm2-util (Debian package softhsm2): {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "softhsm2-util --init-token: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(conf)
    }
}
