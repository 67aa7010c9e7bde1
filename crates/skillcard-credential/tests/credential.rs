//! Signing, verification verdicts, key files and the QR form.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use coset::{iana, CoseSign1Builder, HeaderBuilder, TaggedCborSerializable as _};
use ed25519_dalek::Signer as _;
use skillcard_credential::*;

fn sign_raw_payload(payload: Vec<u8>, key_seed: [u8; 32], kid: &str) -> Vec<u8> {
    let sk = ed25519_dalek::SigningKey::from_bytes(&key_seed);
    CoseSign1Builder::new()
        .protected(
            HeaderBuilder::new()
                .algorithm(iana::Algorithm::EdDSA)
                .key_id(kid.as_bytes().to_vec())
                .content_format(iana::CoapContentFormat::Cbor)
                .build(),
        )
        .payload(payload)
        .create_signature(&[], |tbs| sk.sign(tbs).to_bytes().to_vec())
        .build()
        .to_tagged_vec()
        .unwrap()
}

#[test]
fn round_trip_with_chip() {
    let bytes = sign(&claims(), &active_key()).unwrap();
    assert_eq!(bytes[0], 0xd2, "COSE_Sign1 tag 18");
    match verify(&bytes, &key_set(), Some(&CHIP_UID)) {
        Verdict::Valid {
            claims: c,
            kid,
            key_status,
        } => {
            assert_eq!(*c, claims());
            assert_eq!(kid, "sc-2025");
            assert_eq!(key_status, KeyStatus::Active);
        }
        v => panic!("{v:?}"),
    }
    // Without a chip (QR scan) the UID is not checked.
    assert!(verify(&bytes, &key_set(), None).is_valid());
}

#[test]
fn signing_is_deterministic() {
    assert_eq!(
        sign(&claims(), &active_key()).unwrap(),
        sign(&claims(), &active_key()).unwrap()
    );
}

#[test]
fn every_tampered_byte_is_rejected() {
    let bytes = sign(&claims(), &active_key()).unwrap();
    let keys = key_set();
    for i in 0..bytes.len() {
        for flip in [0x01u8, 0x80, 0xff] {
            let mut t = bytes.clone();
            t[i] ^= flip;
            let v = verify(&t, &keys, Some(&CHIP_UID));
            assert!(!v.is_valid(), "byte {i} ^ {flip:#x} still valid");
        }
    }
}

#[test]
fn tampered_payload_is_bad_signature() {
    let mut bytes = sign(&claims(), &active_key()).unwrap();
    // The signature bstr is the last 2 + 64 bytes; the byte before it is the last UID byte.
    let i = bytes.len() - 67;
    bytes[i] ^= 0x01;
    assert_eq!(
        verify(&bytes, &key_set(), None),
        Verdict::BadSignature("sc-2025".to_owned())
    );
}

#[test]
fn resigned_with_another_key_same_kid_is_bad_signature() {
    let bytes = sign(&claims(), &impostor_key()).unwrap();
    let v = verify(&bytes, &key_set(), Some(&CHIP_UID));
    assert_eq!(v, Verdict::BadSignature("sc-2025".to_owned()));
    assert_eq!(v.code(), "bad_signature");
}

#[test]
fn unknown_kid() {
    let bytes = sign(&claims(), &unknown_key()).unwrap();
    assert_eq!(
        verify(&bytes, &key_set(), None),
        Verdict::UnknownKey("sc-1999".to_owned())
    );
}

#[test]
fn revoked_key_is_invalid_even_for_old_cards() {
    let bytes = sign(&claims_issued("2023-01-05"), &revoked_key()).unwrap();
    assert_eq!(
        verify(&bytes, &key_set(), Some(&CHIP_UID)),
        Verdict::RevokedKey("sc-rev".to_owned())
    );
}

#[test]
fn retired_key_still_verifies_old_cards() {
    let bytes = sign(&claims_issued("2024-06-01"), &retired_key()).unwrap();
    match verify(&bytes, &key_set(), Some(&CHIP_UID)) {
        Verdict::Valid {
            kid, key_status, ..
        } => {
            assert_eq!(kid, "sc-2024");
            assert_eq!(key_status, KeyStatus::Retired);
        }
        v => panic!("{v:?}"),
    }
}

#[test]
fn card_issued_after_key_not_after_is_expired_key() {
    let bytes = sign(&claims_issued("2025-01-01"), &retired_key()).unwrap();
    assert_eq!(
        verify(&bytes, &key_set(), None),
        Verdict::ExpiredKey {
            kid: "sc-2024".to_owned(),
            not_after: "2024-12-31".to_owned(),
            issued_on: "2025-01-01".to_owned(),
        }
    );
}

#[test]
fn rotation_retire_then_revoke() {
    let old = sign(&claims_issued("2024-06-01"), &retired_key()).unwrap();
    let mut keys = key_set();
    keys.set_status("sc-2024", KeyStatus::Active).unwrap();
    assert!(verify(&old, &keys, None).is_valid());
    keys.set_status("sc-2024", KeyStatus::Revoked).unwrap();
    assert_eq!(verify(&old, &keys, None).code(), "revoked_key");
    assert!(keys.set_status("nope", KeyStatus::Retired).is_err());
}

#[test]
fn copied_to_another_chip_is_chip_mismatch() {
    let bytes = sign(&claims(), &active_key()).unwrap();
    assert_eq!(
        verify(&bytes, &key_set(), Some(&OTHER_CHIP_UID)),
        Verdict::ChipMismatch {
            signed: CHIP_UID.to_vec(),
            read: OTHER_CHIP_UID.to_vec(),
        }
    );
}

#[test]
fn every_truncation_is_malformed() {
    let bytes = sign(&claims(), &active_key()).unwrap();
    for n in 0..bytes.len() {
        let v = verify(&bytes[..n], &key_set(), Some(&CHIP_UID));
        assert_eq!(v.code(), "malformed", "truncated to {n}: {v:?}");
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert_eq!(verify(&longer, &key_set(), None).code(), "malformed");
}

#[test]
fn untagged_cose_is_accepted() {
    let bytes = sign(&claims(), &active_key()).unwrap();
    assert!(verify(&bytes[1..], &key_set(), None).is_valid());
}

#[test]
fn genuinely_signed_bad_claims_are_malformed() {
    use ciborium::value::{Integer, Value};
    let good = claims().to_cbor().unwrap();
    let mut value: Value = ciborium::from_reader(good.as_slice()).unwrap();
    let Value::Map(entries) = &mut value else {
        panic!()
    };
    // Unknown key 13.
    let mut unknown = entries.clone();
    unknown.push((Value::Integer(Integer::from(13)), Value::Bool(true)));
    // Score as text.
    let mut wrong_type = entries.clone();
    wrong_type[8].1 = Value::Text("87.5".to_owned());
    // Missing chip UID.
    let mut missing = entries.clone();
    missing.pop();
    // Duplicate key.
    let mut dup = entries.clone();
    dup.push(entries[1].clone());
    // Future format version.
    let mut future = entries.clone();
    future[0].1 = Value::Integer(Integer::from(2));
    // Score out of range.
    let mut big = entries.clone();
    big[8].1 = Value::Integer(Integer::from(1001));
    for (name, map) in [
        ("unknown", unknown),
        ("wrong_type", wrong_type),
        ("missing", missing),
        ("dup", dup),
        ("future", future),
        ("big", big),
    ] {
        let mut payload = Vec::new();
        ciborium::into_writer(&Value::Map(map), &mut payload).unwrap();
        let bytes = sign_raw_payload(payload, [1; 32], "sc-2025");
        let v = verify(&bytes, &key_set(), None);
        assert_eq!(v.code(), "malformed", "{name}: {v:?}");
    }
    let not_a_map = sign_raw_payload(vec![0x01], [1; 32], "sc-2025");
    assert_eq!(verify(&not_a_map, &key_set(), None).code(), "malformed");
}

#[test]
fn other_algorithm_is_unsupported() {
    let sk = ed25519_dalek::SigningKey::from_bytes(&[1; 32]);
    let bytes = CoseSign1Builder::new()
        .protected(
            HeaderBuilder::new()
                .algorithm(iana::Algorithm::ES256)
                .key_id(b"sc-2025".to_vec())
                .content_format(iana::CoapContentFormat::Cbor)
                .build(),
        )
        .payload(claims().to_cbor().unwrap())
        .create_signature(&[], |tbs| sk.sign(tbs).to_bytes().to_vec())
        .build()
        .to_tagged_vec()
        .unwrap();
    assert_eq!(
        verify(&bytes, &key_set(), None).code(),
        "unsupported_algorithm"
    );
}

#[test]
fn invalid_claims_are_not_signed() {
    let bad = [
        Claims {
            national_id: "12345".to_owned(),
            ..claims()
        },
        Claims {
            score: 1001,
            ..claims()
        },
        Claims {
            issued_on: "1403-12-20".to_owned(),
            ..claims()
        },
        Claims {
            issued_on: "2025-02-30".to_owned(),
            ..claims()
        },
        Claims {
            chip_uid: vec![1, 2],
            ..claims()
        },
        Claims {
            given_name: String::new(),
            ..claims()
        },
    ];
    for c in bad {
        assert!(sign(&c, &active_key()).is_err(), "{c:?}");
    }
}

#[test]
fn payload_fits_chip_file_and_qr() {
    let bytes = sign(&claims(), &active_key()).unwrap();
    let qr = to_qr_text(&bytes);
    println!(
        "credential: {} bytes (claims CBOR {} bytes); QR text: {} chars",
        bytes.len(),
        claims().to_cbor().unwrap().len(),
        qr.len()
    );
    assert!(bytes.len() <= 600, "{} bytes", bytes.len());
    // A version-40-L QR holds 4296 alphanumeric characters; stay well under version 20-L (1249).
    assert!(qr.len() <= 1000, "{} chars", qr.len());
    assert!(qr
        .bytes()
        .all(|b| b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:".contains(&b)));
}

#[test]
fn qr_round_trip_and_verify() {
    let bytes = sign(&claims(), &active_key()).unwrap();
    let qr = to_qr_text(&bytes);
    assert!(qr.starts_with("SC1:"));
    assert_eq!(from_qr_text(&qr).unwrap(), bytes);
    assert_eq!(from_qr_text(&format!("  {qr}\n")).unwrap(), bytes);
    assert!(verify_qr(&qr, &key_set()).is_valid());
}

#[test]
fn qr_errors() {
    use flate2::{write::ZlibEncoder, Compression};
    use std::io::Write as _;
    let bytes = sign(&claims(), &active_key()).unwrap();
    let qr = to_qr_text(&bytes);
    assert_eq!(from_qr_text(&qr[4..]), Err(QrError::MissingPrefix));
    assert_eq!(from_qr_text("HC1:6BF"), Err(QrError::MissingPrefix));
    assert_eq!(from_qr_text("SC1:a"), Err(QrError::Base45));
    assert!(matches!(
        from_qr_text(&qr[..qr.len() - 3]),
        Err(QrError::Zlib(_)) | Err(QrError::Base45)
    ));
    assert_eq!(
        from_qr_text(&format!("SC1:{}", "0".repeat(5000))),
        Err(QrError::TooLong)
    );
    // Zip bomb: 1 MiB of zeros compresses to about a kilobyte.
    let mut enc = ZlibEncoder::new(Vec::new(), Compression::best());
    enc.write_all(&vec![0u8; 1 << 20]).unwrap();
    let bomb = format!("SC1:{}", base45::encode(enc.finish().unwrap()));
    assert!(bomb.len() < 4296);
    assert_eq!(from_qr_text(&bomb), Err(QrError::TooLarge));
    assert_eq!(verify_qr(&bomb, &key_set()).code(), "malformed");
    // Trailing bytes after the zlib stream.
    let mut compressed = base45::decode(&qr[4..]).unwrap();
    compressed.push(0);
    assert!(matches!(
        from_qr_text(&format!("SC1:{}", base45::encode(compressed))),
        Err(QrError::Zlib(_))
    ));
}

#[test]
fn key_file_save_load() {
    let dir =
        std::env::temp_dir().join(format!("skillcard-credential-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("issuer.json");
    let _ = std::fs::remove_file(&path);
    let key = IssuerKey::generate("prov-23.2025-1").unwrap();
    key.save(&path).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // Never overwritten.
    assert!(matches!(key.save(&path), Err(KeyError::Io { .. })));
    let loaded = IssuerKey::load(&path).unwrap();
    assert_eq!(loaded.kid(), "prov-23.2025-1");
    let bytes = sign(&claims(), &loaded).unwrap();
    let mut set = PublicKeySet::new();
    set.insert(key.public_key(KeyStatus::Active, None)).unwrap();
    assert!(verify(&bytes, &set, Some(&CHIP_UID)).is_valid());
    // The secret is not in Debug output.
    assert!(!format!("{loaded:?}").contains(&loaded.to_json().unwrap()[60..80]));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(
            IssuerKey::load(&path),
            Err(KeyError::InsecurePermissions(_))
        ));
    }
    let set_path = dir.join("keys.json");
    set.save(&set_path).unwrap();
    assert_eq!(PublicKeySet::load(&set_path).unwrap(), set);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn key_file_mismatch_and_bad_kid_rejected() {
    let json = active_key().to_json().unwrap();
    let other_x = {
        let v: serde_json::Value = serde_json::from_str(&retired_key().to_json().unwrap()).unwrap();
        v["x"].as_str().unwrap().to_owned()
    };
    let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
    v["x"] = serde_json::Value::String(other_x);
    assert!(IssuerKey::from_json(&v.to_string()).is_err());
    assert!(IssuerKey::from_json(&json).is_ok());
    for kid in ["", "has space", "کلید", &"x".repeat(33)] {
        assert!(IssuerKey::from_seed(kid, [1; 32]).is_err(), "{kid:?}");
    }
}

#[test]
fn key_set_json_round_trip_and_validation() {
    let set = key_set();
    let json = set.to_json();
    assert!(json.contains(r#""kty": "OKP""#));
    assert!(json.contains(r#""status": "retired""#));
    assert!(json.contains(r#""not_after": "2024-12-31""#));
    assert_eq!(PublicKeySet::from_json(&json).unwrap(), set);
    // Serde path gives the same validation.
    let via_serde: PublicKeySet = serde_json::from_str(&json).unwrap();
    assert_eq!(via_serde, set);

    let x = {
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        v["keys"][0]["x"].as_str().unwrap().to_owned()
    };
    let bad = [
        // duplicate kid
        format!(
            r#"{{"keys":[{{"kid":"a","kty":"OKP","crv":"Ed25519","x":"{x}","status":"active"}},
                         {{"kid":"a","kty":"OKP","crv":"Ed25519","x":"{x}","status":"retired"}}]}}"#
        ),
        // wrong curve
        format!(r#"{{"keys":[{{"kid":"a","kty":"EC","crv":"P-256","x":"{x}","status":"active"}}]}}"#),
        // short x
        r#"{"keys":[{"kid":"a","kty":"OKP","crv":"Ed25519","x":"AAAA","status":"active"}]}"#
            .to_owned(),
        // unknown status
        format!(r#"{{"keys":[{{"kid":"a","kty":"OKP","crv":"Ed25519","x":"{x}","status":"lost"}}]}}"#),
        // bad date
        format!(
            r#"{{"keys":[{{"kid":"a","kty":"OKP","crv":"Ed25519","x":"{x}","status":"active","not_after":"1403-01-01"}}]}}"#
        ),
        // weak (small-order) key: the identity point
        r#"{"keys":[{"kid":"a","kty":"OKP","crv":"Ed25519","x":"AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","status":"active"}]}"#
            .to_owned(),
    ];
    for b in bad {
        assert!(PublicKeySet::from_json(&b).is_err(), "{b}");
    }
}

#[test]
fn verdict_messages() {
    let v = verify(b"", &key_set(), None);
    assert_eq!(v.code(), "malformed");
    assert!(!v.message_fa().is_empty());
    assert!(v.to_string().contains("malformed"));
}

/// Stands in for a security module in this unit test (the SoftHSM2 tests of `skillcard-hsm`
/// cover the real one): signs with the seed it holds, or fails.
struct ModuleDouble(Option<[u8; 32]>);

impl skillcard_credential::ExternalSigner for ModuleDouble {
    fn sign_ed25519(&self, message: &[u8]) -> Result<[u8; 64], String> {
        use ed25519_dalek::Signer as _;
        let seed = self.0.ok_or("token removed")?;
        Ok(ed25519_dalek::SigningKey::from_bytes(&seed)
            .sign(message)
            .to_bytes())
    }
    fn describe(&self) -> String {
        "module double".to_owned()
    }
}

#[test]
fn an_external_key_signs_only_with_the_key_it_claims() {
    let public = *active_key()
        .public_key(KeyStatus::Active, None)
        .key
        .as_bytes();
    let key =
        IssuerKey::external("sc-2025", public, Box::new(ModuleDouble(Some([1; 32])))).unwrap();
    assert!(key.is_external());
    assert!(format!("{key:?}").contains("module double"));
    assert!(matches!(key.to_json(), Err(KeyError::NotExportable(_))));
    let bytes = sign(&claims(), &key).unwrap();
    assert!(verify(&bytes, &key_set(), Some(&CHIP_UID)).is_valid());
    // A module that signs with another secret, or cannot sign, is refused before use.
    let wrong = IssuerKey::external("sc-2025", public, Box::new(ModuleDouble(Some([9; 32]))));
    assert!(matches!(wrong, Err(KeyError::Invalid(m)) if m.contains("does not verify")));
    let dead = IssuerKey::external("sc-2025", public, Box::new(ModuleDouble(None)));
    assert!(matches!(dead, Err(KeyError::Invalid(m)) if m.contains("token removed")));
}
