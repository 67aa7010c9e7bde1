//! The operator's issuer keys: a key directory holding one secret file per signing key and the
//! public key set that the verification page publishes.
//!
//! ```text
//! skillcard-keys/            (mode 0700 when created here)
//!   issuer-2025-01.key       secret Ed25519 key, mode 0600, never overwritten
//!   issuer-2026-01.hsm       where a key held by a security module lives (no secret)
//!   public-keys.json         the PublicKeySet: every key ever made, with its status
//! ```
//!
//! A key made with `--hsm-module` never leaves the token: its `.hsm` file names the PKCS#11
//! module, the token and the key's label, and repeats the public key so that a token holding
//! another key under that label is refused. The token's user PIN comes from
//! `SKILLCARD_HSM_PIN`, never from a file in this directory.
//!
//! Rotation: [`KeyDir::generate`] makes the new key `active` and the previously active key
//! `retired`, so exactly one key signs new cards while the old ones still verify the cards they
//! signed. A compromised key is `revoked`, which invalidates every card it signed; a revoked key
//! never comes back. Keys are never deleted from the set.
//!
//! Errors are `anyhow` with operator-facing English messages: this is the CLI's edge.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use skillcard_credential::keys::{decode_key_bytes, validate_kid};
use skillcard_credential::{IssuerKey, KeyStatus, PublicKey, PublicKeySet};

/// The public key set's file name inside the key directory.
pub const PUBLIC_KEYS_FILE: &str = "public-keys.json";

/// The `format` of a `.hsm` key reference.
pub const HSM_REF_FORMAT: &str = "skillcard-hsm-key/1";

/// A key directory (it need not exist until the first key is generated).
#[derive(Clone)]
pub struct KeyDir {
    path: PathBuf,
    hsm_pin: Option<String>,
}

impl std::fmt::Debug for KeyDir {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyDir")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// Where the secret of a key is, as far as this directory knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecretKind {
    /// `issuer-<kid>.key` is here.
    File,
    /// `issuer-<kid>.hsm` names the security module holding it.
    Hsm,
    /// Neither: the key can verify but not sign here.
    Absent,
}

impl SecretKind {
    fn name(self) -> &'static str {
        match self {
            SecretKind::File => "file",
            SecretKind::Hsm => "hsm",
            SecretKind::Absent => "absent",
        }
    }
}

/// Where a new key is made: a secret file, or a token of a PKCS#11 module.
#[derive(Clone, Debug)]
pub enum KeyHome {
    /// `issuer-<kid>.key`, mode 0600.
    File,
    /// A key pair generated on the token labelled `token` of `module`.
    Hsm {
        /// The PKCS#11 library.
        module: PathBuf,
        /// The token's label.
        token: String,
    },
}

/// The `issuer-<kid>.hsm` file: where the key lives, and its public key to check the token.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct HsmRef {
    format: String,
    kid: String,
    module: PathBuf,
    token: String,
    label: String,
    /// The public key, base64url, as in the published set.
    x: String,
}

/// One row of [`KeyDir::list`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyInfo {
    /// The key id.
    pub kid: String,
    /// The key's status in the public key set.
    pub status: KeyStatus,
    /// The last `YYYY-MM-DD` on which the key may have signed, if bounded.
    pub not_after: Option<String>,
    /// Where its secret is.
    pub secret: SecretKind,
    /// The public key, base64url (the set's `x`).
    pub public_key: String,
}

/// What [`KeyDir::generate`] did.
#[derive(Clone, Debug)]
pub struct Generated {
    /// The new key's row.
    pub key: KeyInfo,
    /// The keys that were active before and are now retired (normally at most one).
    pub retired: Vec<String>,
    /// The new secret file.
    pub secret_path: PathBuf,
}

/// A problem found by [`KeyDir::check`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// Whether the app cannot sign because of it (as opposed to a warning).
    pub fatal: bool,
    /// What is wrong, for the operator.
    pub message: String,
}

/// The public key's base64url text, as in the published set.
pub fn public_key_text(key: &PublicKey) -> String {
    URL_SAFE_NO_PAD.encode(key.key.as_bytes())
}

fn status_name(s: KeyStatus) -> &'static str {
    match s {
        KeyStatus::Active => "active",
        KeyStatus::Retired => "retired",
        KeyStatus::Revoked => "revoked",
    }
}

impl KeyDir {
    /// A key directory at `path`. Fails if `path` exists and is not a directory.
    pub fn open(path: impl Into<PathBuf>) -> Result<KeyDir> {
        let path = path.into();
        if path.exists() && !path.is_dir() {
            bail!("key directory {} is not a directory", path.display());
        }
        Ok(KeyDir {
            path,
            hsm_pin: None,
        })
    }

    /// The user PIN for keys held by a security module.
    pub fn with_hsm_pin(mut self, pin: Option<String>) -> KeyDir {
        self.hsm_pin = pin.filter(|p| !p.is_empty());
        self
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The public key set file.
    pub fn public_keys_path(&self) -> PathBuf {
        self.path.join(PUBLIC_KEYS_FILE)
    }

    /// The secret file of key `kid` (the kid is checked first, so it cannot name another path).
    pub fn secret_path(&self, kid: &str) -> Result<PathBuf> {
        validate_kid(kid)?;
        Ok(self.path.join(format!("issuer-{kid}.key")))
    }

    /// The `.hsm` reference of key `kid`.
    pub fn hsm_ref_path(&self, kid: &str) -> Result<PathBuf> {
        validate_kid(kid)?;
        Ok(self.path.join(format!("issuer-{kid}.hsm")))
    }

    fn secret_kind(&self, kid: &str) -> SecretKind {
        if self.secret_path(kid).is_ok_and(|p| p.is_file()) {
            SecretKind::File
        } else if self.hsm_ref_path(kid).is_ok_and(|p| p.is_file()) {
            SecretKind::Hsm
        } else {
            SecretKind::Absent
        }
    }

    fn read_hsm_ref(&self, kid: &str) -> Result<HsmRef> {
        let path = self.hsm_ref_path(kid)?;
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let r: HsmRef = serde_json::from_str(&text).with_context(|| {
            format!("{} is not a security module key reference", path.display())
        })?;
        if r.format != HSM_REF_FORMAT || r.kid != kid {
            bail!(
                "{} is for key {:?} in format {:?}, not key {kid:?} in {HSM_REF_FORMAT}",
                path.display(),
                r.kid,
                r.format
            );
        }
        Ok(r)
    }

    fn open_token(&self, module: &Path, token: &str) -> Result<skillcard_hsm::Token> {
        let Some(pin) = &self.hsm_pin else {
            bail!(
                "the key is held by a security module: set SKILLCARD_HSM_PIN to the token's user PIN"
            );
        };
        skillcard_hsm::Token::open(module, token, pin)
            .with_context(|| format!("opening token {token:?} of {}", module.display()))
    }

    /// Loads key `kid` as `entry` publishes it, from its secret file or its security module.
    fn load_key(&self, entry: &PublicKey) -> Result<IssuerKey> {
        let kid = entry.kid.as_str();
        let key = match self.secret_kind(kid) {
            SecretKind::File => {
                if self.hsm_ref_path(kid)?.exists() {
                    bail!(
                        "key {kid:?} has both a secret file and a security module reference; \
                         remove the one that is wrong"
                    );
                }
                let path = self.secret_path(kid)?;
                let key = IssuerKey::load(&path)
                    .with_context(|| format!("loading the signing key {kid:?}"))?;
                if key.kid() != kid {
                    bail!("{} holds key {:?}, not {kid:?}", path.display(), key.kid());
                }
                key
            }
            SecretKind::Hsm => {
                let r = self.read_hsm_ref(kid)?;
                let token = self.open_token(&r.module, &r.token)?;
                let public = token
                    .public_key(&r.label)
                    .with_context(|| format!("finding key {:?} on token {:?}", r.label, r.token))?;
                if public != decode_key_bytes("x", &r.x)? {
                    bail!(
                        "the token's key {:?} is not the key {kid:?} that {} names",
                        r.label,
                        self.hsm_ref_path(kid)?.display()
                    );
                }
                let signer = token.signer(&r.label)?;
                IssuerKey::external(kid, public, Box::new(signer))
                    .with_context(|| format!("signing with key {kid:?} on token {:?}", r.token))?
            }
            SecretKind::Absent => bail!(
                "no secret for key {kid:?}: neither {} nor {}",
                self.secret_path(kid)?.display(),
                self.hsm_ref_path(kid)?.display()
            ),
        };
        if key.public_key(entry.status, None).key != entry.key {
            bail!(
                "the secret of {kid:?} does not match its published public key in {}",
                self.public_keys_path().display()
            );
        }
        Ok(key)
    }

    /// The public key set; empty if the directory or the file does not exist yet.
    pub fn public_set(&self) -> Result<PublicKeySet> {
        let path = self.public_keys_path();
        if !path.exists() {
            return Ok(PublicKeySet::new());
        }
        PublicKeySet::load(&path)
            .with_context(|| format!("reading the public key set {}", path.display()))
    }

    fn save_set(&self, set: &PublicKeySet) -> Result<()> {
        let path = self.public_keys_path();
        set.save(&path)
            .with_context(|| format!("writing the public key set {}", path.display()))
    }

    fn create_dir(&self) -> Result<()> {
        if self.path.is_dir() {
            return Ok(());
        }
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt as _;
            builder.mode(0o700);
        }
        builder
            .create(&self.path)
            .with_context(|| format!("creating the key directory {}", self.path.display()))
    }

    fn info(&self, key: &PublicKey) -> KeyInfo {
        KeyInfo {
            kid: key.kid.clone(),
            status: key.status,
            not_after: key.not_after.clone(),
            secret: self.secret_kind(&key.kid),
            public_key: public_key_text(key),
        }
    }

    /// Makes a new active signing key `kid` at `home`, retiring the key that was active
    /// (rotation), and writes its secret file (0600) or module reference and the updated public
    /// key set. Refuses a kid already in the set or already on disk. `not_after` bounds the
    /// dates the new key may sign.
    pub fn generate(
        &self,
        kid: &str,
        not_after: Option<&str>,
        home: &KeyHome,
    ) -> Result<Generated> {
        let secret_path = self.secret_path(kid)?;
        let ref_path = self.hsm_ref_path(kid)?;
        let mut set = self.public_set()?;
        if let Some(existing) = set.get(kid) {
            bail!(
                "key {kid:?} already exists (status {}); a key is never replaced: choose a new key id",
                status_name(existing.status)
            );
        }
        for path in [&secret_path, &ref_path] {
            if path.exists() {
                bail!(
                    "{} already exists but key {kid:?} is not in the public key set; \
                     move that file away or choose a new key id",
                    path.display()
                );
            }
        }
        let active: Vec<String> = set
            .keys()
            .iter()
            .filter(|k| k.status == KeyStatus::Active)
            .map(|k| k.kid.clone())
            .collect();
        // The new set is validated (not_after included) before any key is made.
        let not_after = not_after.map(str::to_owned);
        let mut trial = set.clone();
        trial.insert(IssuerKey::generate(kid)?.public_key(KeyStatus::Active, not_after.clone()))?;
        PublicKeySet::from_json(&trial.to_json())
            .context("the new key set does not validate (is --not-after a YYYY-MM-DD date?)")?;

        self.create_dir()?;
        let (key, written) = match home {
            KeyHome::File => {
                let key = IssuerKey::generate(kid)?;
                key.save(&secret_path)
                    .with_context(|| format!("writing the secret key {}", secret_path.display()))?;
                (key, secret_path)
            }
            KeyHome::Hsm { module, token } => {
                let label = format!("skillcard-issuer-{kid}");
                let t = self.open_token(module, token)?;
                let public = t
                    .generate_ed25519(&label)
                    .with_context(|| format!("generating key {label:?} on token {token:?}"))?;
                let key = IssuerKey::external(kid, public, Box::new(t.signer(&label)?))?;
                let r = HsmRef {
                    format: HSM_REF_FORMAT.to_owned(),
                    kid: kid.to_owned(),
                    module: module.clone(),
                    token: token.clone(),
                    label,
                    x: URL_SAFE_NO_PAD.encode(public),
                };
                write_new(&ref_path, &serde_json::to_string_pretty(&r)?)?;
                (key, ref_path)
            }
        };
        let entry = key.public_key(KeyStatus::Active, not_after);
        for old in &active {
            set.set_status(old, KeyStatus::Retired)?;
        }
        set.insert(entry.clone())?;
        self.save_set(&set).with_context(|| {
            format!(
                "{} was written but the public key set was not updated; \
                 remove that file before trying again",
                written.display()
            )
        })?;
        Ok(Generated {
            key: self.info(&entry),
            retired: active,
            secret_path: written,
        })
    }

    /// Every key in the public key set, in the order they were made.
    pub fn list(&self) -> Result<Vec<KeyInfo>> {
        Ok(self
            .public_set()?
            .keys()
            .iter()
            .map(|k| self.info(k))
            .collect())
    }

    /// Retires or revokes key `kid` and returns its previous status. Making a key active again is
    /// refused (rotation makes a new key), as is any change to a revoked key. Setting the status
    /// a key already has changes nothing.
    pub fn set_status(&self, kid: &str, status: KeyStatus) -> Result<KeyStatus> {
        validate_kid(kid)?;
        let mut set = self.public_set()?;
        let Some(current) = set.get(kid).map(|k| k.status) else {
            bail!(
                "no key {kid:?} in {}; `skillcard keys list` shows the keys",
                self.public_keys_path().display()
            );
        };
        if current == status {
            return Ok(current);
        }
        match (current, status) {
            (_, KeyStatus::Active) => bail!(
                "key {kid:?} cannot be made active again; generate a new key to rotate \
                 (`skillcard keys generate --kid NEW`)"
            ),
            (KeyStatus::Revoked, _) => {
                bail!("key {kid:?} is revoked; a revoked key is never used again")
            }
            _ => {}
        }
        set.set_status(kid, status)?;
        self.save_set(&set)?;
        Ok(current)
    }

    /// The one active key, loaded from its secret file: the key the application signs new cards
    /// with. Fails if there is no active key or several, if the secret file is missing or
    /// readable by others, or if it does not match the published public key.
    pub fn active_signing_key(&self) -> Result<IssuerKey> {
        let set = self.public_set()?;
        let active: Vec<&PublicKey> = set
            .keys()
            .iter()
            .filter(|k| k.status == KeyStatus::Active)
            .collect();
        let entry = match active.as_slice() {
            [] => bail!(
                "no active signing key in {}; run `skillcard keys generate --kid KID`",
                self.path.display()
            ),
            [one] => *one,
            several => bail!(
                "several active keys in {} ({}); retire all but one",
                self.public_keys_path().display(),
                several
                    .iter()
                    .map(|k| k.kid.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        self.load_key(entry)
    }

    /// Looks the directory over: the active key must load and match the set; every other
    /// secret file should belong to a key in the set and match it.
    pub fn check(&self) -> Result<Vec<Problem>> {
        let mut problems = Vec::new();
        let set = self.public_set()?;
        if let Err(e) = self.active_signing_key() {
            problems.push(Problem {
                fatal: true,
                message: format!("{e:#}"),
            });
        }
        for k in set.keys() {
            if k.status == KeyStatus::Active {
                continue;
            }
            let message = match self.secret_kind(&k.kid) {
                SecretKind::Absent => continue,
                SecretKind::File => {
                    let path = self.secret_path(&k.kid)?;
                    match IssuerKey::load(&path) {
                        Ok(key)
                            if key.kid() == k.kid
                                && key.public_key(k.status, None).key == k.key =>
                        {
                            continue
                        }
                        Ok(_) => format!(
                            "{} does not match the published key {:?}",
                            path.display(),
                            k.kid
                        ),
                        Err(e) => format!("{e}"),
                    }
                }
                // A key no longer active is not opened on its token: the reference is compared.
                SecretKind::Hsm => match self.read_hsm_ref(&k.kid) {
                    Ok(r) if decode_key_bytes("x", &r.x).is_ok_and(|x| x == *k.key.as_bytes()) => {
                        continue
                    }
                    Ok(r) => format!(
                        "{} names a key (label {:?}) that does not match the published key {:?}",
                        self.hsm_ref_path(&k.kid)?.display(),
                        r.label,
                        k.kid
                    ),
                    Err(e) => format!("{e:#}"),
                },
            };
            problems.push(Problem {
                fatal: false,
                message,
            });
        }
        if self.path.is_dir() {
            let entries = std::fs::read_dir(&self.path)
                .with_context(|| format!("reading the key directory {}", self.path.display()))?;
            for entry in entries {
                let name = entry?.file_name();
                let name = name.to_string_lossy();
                if let Some(kid) = name
                    .strip_prefix("issuer-")
                    .and_then(|r| r.strip_suffix(".key").or_else(|| r.strip_suffix(".hsm")))
                {
                    if set.get(kid).is_none() {
                        problems.push(Problem {
                            fatal: false,
                            message: format!(
                                "{name} is not in the public key set: cards signed with it \
                                 cannot be verified"
                            ),
                        });
                    }
                }
            }
        }
        Ok(problems)
    }
}

/// Writes a new file (mode 0600, never over an existing one).
fn write_new(path: &Path, text: &str) -> Result<()> {
    use std::io::Write as _;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    f.write_all(text.as_bytes())?;
    f.write_all(b"\n")?;
    f.sync_all()?;
    Ok(())
}

/// The `keys list` table.
pub fn format_table(rows: &[KeyInfo]) -> String {
    let header = ["KID", "STATUS", "NOT AFTER", "SECRET"];
    let cells: Vec<[String; 4]> = rows
        .iter()
        .map(|r| {
            [
                r.kid.clone(),
                status_name(r.status).to_owned(),
                r.not_after.clone().unwrap_or_else(|| "-".to_owned()),
                r.secret.name().to_owned(),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |row: &[String]| {
        let parts: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        out.push_str(parts.join("  ").trim_end());
        out.push('\n');
    };
    line(&header.map(str::to_owned));
    for row in &cells {
        line(row);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir() -> KeyDir {
        use std::sync::atomic::{AtomicU64, Ordering};
        static N: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let name = format!(
            "skillcard-keys-unit-{}-{nanos}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        );
        KeyDir::open(std::env::temp_dir().join(name).join("keys")).unwrap()
    }

    #[test]
    fn rotation_keeps_one_active_key_and_the_app_loads_it() {
        let dir = temp_dir();
        assert!(dir.active_signing_key().is_err());
        let g1 = dir.generate("k1", None, &KeyHome::File).unwrap();
        assert!(g1.retired.is_empty());
        assert_eq!(dir.active_signing_key().unwrap().kid(), "k1");
        let g2 = dir
            .generate("k2", Some("2030-12-31"), &KeyHome::File)
            .unwrap();
        assert_eq!(g2.retired, ["k1"]);
        assert_eq!(dir.active_signing_key().unwrap().kid(), "k2");
        let rows = dir.list().unwrap();
        assert_eq!(
            rows.iter()
                .map(|r| (r.kid.as_str(), r.status))
                .collect::<Vec<_>>(),
            [("k1", KeyStatus::Retired), ("k2", KeyStatus::Active)]
        );
        assert_eq!(rows[1].not_after.as_deref(), Some("2030-12-31"));
        assert!(dir.check().unwrap().is_empty());
        assert!(dir.generate("k2", None, &KeyHome::File).is_err());
        assert!(dir.generate("../evil", None, &KeyHome::File).is_err());
        assert!(dir
            .generate("k3", Some("1403-01-01"), &KeyHome::File)
            .is_err());
        assert!(!dir.secret_path("k3").unwrap().exists());
        // Revoked keys stay revoked; nothing becomes active again.
        assert_eq!(
            dir.set_status("k1", KeyStatus::Revoked).unwrap(),
            KeyStatus::Retired
        );
        assert!(dir.set_status("k1", KeyStatus::Retired).is_err());
        assert!(dir.set_status("k1", KeyStatus::Active).is_err());
        assert!(dir.set_status("nope", KeyStatus::Retired).is_err());
        // Retiring the active key leaves none to sign with.
        dir.set_status("k2", KeyStatus::Retired).unwrap();
        assert!(dir.active_signing_key().is_err());
        assert!(dir.check().unwrap().iter().any(|p| p.fatal));
        let _ = std::fs::remove_dir_all(dir.path().parent().unwrap());
    }

    #[test]
    fn a_secret_file_that_does_not_match_the_set_is_refused() {
        let dir = temp_dir();
        dir.generate("k1", None, &KeyHome::File).unwrap();
        let path = dir.secret_path("k1").unwrap();
        std::fs::remove_file(&path).unwrap();
        IssuerKey::generate("k1").unwrap().save(&path).unwrap();
        let err = dir.active_signing_key().unwrap_err();
        assert!(format!("{err:#}").contains("does not match"), "{err:#}");
        let _ = std::fs::remove_dir_all(dir.path().parent().unwrap());
    }

    #[test]
    fn table_lists_every_key() {
        let rows = [KeyInfo {
            kid: "2025-01".to_owned(),
            status: KeyStatus::Retired,
            not_after: None,
            secret: SecretKind::File,
            public_key: String::new(),
        }];
        let t = format_table(&rows);
        assert_eq!(
            t,
            "KID      STATUS   NOT AFTER  SECRET\n2025-01  retired  -          file\n"
        );
    }
}
