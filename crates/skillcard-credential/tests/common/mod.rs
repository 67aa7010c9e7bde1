//! Fixtures shared by the integration tests: deterministic keys, a realistic Persian-name
//! credential and the key set the corpus is replayed against.
#![allow(dead_code, clippy::unwrap_used)]

use skillcard_credential::{Claims, IssuerKey, KeyStatus, PublicKeySet};

pub const CHIP_UID: [u8; 7] = [0x04, 0xA2, 0x3B, 0x1C, 0x5D, 0x80, 0x00];
pub const OTHER_CHIP_UID: [u8; 7] = [0x04, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66];

pub fn active_key() -> IssuerKey {
    IssuerKey::from_seed("sc-2025", [1; 32]).unwrap()
}
pub fn retired_key() -> IssuerKey {
    IssuerKey::from_seed("sc-2024", [2; 32]).unwrap()
}
pub fn revoked_key() -> IssuerKey {
    IssuerKey::from_seed("sc-rev", [3; 32]).unwrap()
}
/// Same kid as the active key, different secret: a forger re-signing.
pub fn impostor_key() -> IssuerKey {
    IssuerKey::from_seed("sc-2025", [9; 32]).unwrap()
}
/// Not in the key set.
pub fn unknown_key() -> IssuerKey {
    IssuerKey::from_seed("sc-1999", [7; 32]).unwrap()
}

pub fn key_set() -> PublicKeySet {
    let mut set = PublicKeySet::new();
    set.insert(active_key().public_key(KeyStatus::Active, None))
        .unwrap();
    set.insert(retired_key().public_key(KeyStatus::Retired, Some("2024-12-31".to_owned())))
        .unwrap();
    set.insert(revoked_key().public_key(KeyStatus::Revoked, None))
        .unwrap();
    set
}

/// A realistic credential with long Persian names and trade title.
pub fn claims() -> Claims {
    Claims {
        certificate_no: "1403-23-00012345".to_owned(),
        given_name: "محمدرضا".to_owned(),
        family_name: "حسینی‌نژاد اصفهانی".to_owned(),
        father_name: "غلامحسین".to_owned(),
        national_id: "0499370899".to_owned(),
        trade_code: "7-231-10-001-1".to_owned(),
        trade_title: "تعمیرکار سیستم‌های برق و انژکتور خودروهای سواری بنزینی درجه ۲".to_owned(),
        score: 875,
        issued_on: "2025-03-10".to_owned(),
        province_code: "23".to_owned(),
        card_serial: 1_403_000_123_456,
        chip_uid: CHIP_UID.to_vec(),
    }
}

pub fn claims_issued(on: &str) -> Claims {
    Claims {
        issued_on: on.to_owned(),
        ..claims()
    }
}
