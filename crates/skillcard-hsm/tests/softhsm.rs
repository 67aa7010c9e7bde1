//! The issuer key on a real SoftHSM2 token: generated inside it, never extractable, and every
//! credential it signs verifies against the public key it reported.
//!
//! One test function: SoftHSM2 reads `SOFTHSM2_CONF` when the module is initialised, once per
//! process, so the token directory is set up before anything else runs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use skillcard_credential::{sign, verify, Claims, IssuerKey, KeyStatus, PublicKeySet};
use skillcard_hsm::{HsmError, Token};
use std::path::{Path, PathBuf};

/// Debian's SoftHSM2 module (package softhsm2); `SKILLCARD_TEST_PKCS11_MODULE` overrides it.
fn module() -> PathBuf {
    let path = std::env::var_os("SKILLCARD_TEST_PKCS11_MODULE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(skillcard_hsm::softhsm::MODULE));
    assert!(
        path.exists(),
        "{} not found: install Debian's softhsm2 (scripts/test does)",
        path.display()
    );
    path
}

/// A token directory of its own and one initialised token labelled `skillcard`.
fn init_token(dir: &Path) {
    let conf = skillcard_hsm::softhsm::init_token(dir, "skillcard", "1234", "123456").unwrap();
    // Set before the module is first loaded, by the only test in this binary.
    std::env::set_var("SOFTHSM2_CONF", &conf);
}

fn claims(serial: u64) -> Claims {
    Claims {
        certificate_no: "1405-04-00000123".to_owned(),
        given_name: "مریم".to_owned(),
        family_name: "احمدی".to_owned(),
        father_name: "علی".to_owned(),
        national_id: "0499370899".to_owned(),
        trade_code: "7-212-10-001-1".to_owned(),
        trade_title: "جوشکار".to_owned(),
        score: 81,
        issued_on: "2026-12-03".to_owned(),
        province_code: "04".to_owned(),
        card_serial: serial,
        chip_uid: UID.to_vec(),
    }
}

const UID: [u8; 7] = [4, 1, 2, 3, 4, 5, 6];

#[test]
fn softhsm_holds_the_issuer_key() {
    let dir = std::env::temp_dir().join(format!("skillcard-hsm-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    init_token(&dir);
    let module = module();

    // Wrong token, wrong PIN: clear errors.
    assert!(matches!(
        Token::open(&module, "no-such-token", "1234"),
        Err(HsmError::NoToken(_))
    ));
    assert!(matches!(
        Token::open(&module, "skillcard", "0000"),
        Err(HsmError::BadPin)
    ));

    let token = Token::open(&module, "skillcard", "1234").unwrap();
    let public = token.generate_ed25519("issuer-k1").unwrap();
    assert_eq!(token.public_key("issuer-k1").unwrap(), public);
    assert!(token.key_is_protected("issuer-k1").unwrap());
    assert!(matches!(
        token.generate_ed25519("issuer-k1"),
        Err(HsmError::KeyExists(_))
    ));
    assert!(matches!(token.signer("issuer-k9"), Err(HsmError::NoKey(_))));

    // A credential signed on the token verifies offline against the reported public key.
    let key =
        IssuerKey::external("k1", public, Box::new(token.signer("issuer-k1").unwrap())).unwrap();
    let bytes = sign(&claims(1), &key).unwrap();
    let mut set = PublicKeySet::new();
    set.insert(key.public_key(KeyStatus::Active, None)).unwrap();
    let verdict = verify(&bytes, &set, Some(&UID));
    assert!(verdict.is_valid(), "{verdict:?}");

    // A second key on the same token is a different key: claiming k1's public key for it fails.
    let other = token.generate_ed25519("issuer-k2").unwrap();
    assert_ne!(other, public);
    assert!(
        IssuerKey::external("k2", public, Box::new(token.signer("issuer-k2").unwrap())).is_err()
    );

    // Signing from several threads shares the one session safely.
    let key = std::sync::Arc::new(key);
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let key = key.clone();
            let set = set.clone();
            std::thread::spawn(move || {
                let bytes = sign(&claims(100 + i), &key).unwrap();
                assert!(verify(&bytes, &set, Some(&UID)).is_valid());
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let _ = std::fs::remove_dir_all(&dir);
}
