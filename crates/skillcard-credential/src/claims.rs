//! The claims of a skill certificate and their CBOR encoding.
//!
//! The claims are a CBOR map (RFC 8949) with small unsigned integer keys, so that the whole
//! signed credential fits the chip file and a QR code. The key table is the wire format and
//! must never be renumbered; a new field gets a new key and a new [`FORMAT_VERSION`].
//!
//! | key | field            | CBOR type   | rule                                                     |
//! |-----|------------------|-------------|----------------------------------------------------------|
//! | 0   | format version   | uint        | must equal [`FORMAT_VERSION`] (1)                        |
//! | 1   | `certificate_no` | text        | 1..=32 chars                                             |
//! | 2   | `given_name`     | text        | 1..=64 chars                                             |
//! | 3   | `family_name`    | text        | 1..=64 chars                                             |
//! | 4   | `father_name`    | text        | 0..=64 chars (may be empty)                              |
//! | 5   | `national_id`    | text        | exactly 10 ASCII digits (check digit: `skillcard-core`)  |
//! | 6   | `trade_code`     | text        | 1..=32 chars                                             |
//! | 7   | `trade_title`    | text        | 1..=128 chars                                            |
//! | 8   | `score`          | uint        | final score in **tenths of a point**, 0..=1000           |
//! | 9   | `issued_on`      | text        | Gregorian `YYYY-MM-DD`, year 2000..=2199 (not Solar Hijri) |
//! | 10  | `province_code`  | text        | 1..=8 chars                                              |
//! | 11  | `card_serial`    | uint        | the printed card's serial number (u64)                   |
//! | 12  | `chip_uid`       | bstr        | the chip UID read through PC/SC, 4..=16 bytes            |
//!
//! Decoding is strict: every key must be present exactly once, **unknown keys are rejected**
//! (a reader that does not know a field cannot vouch for it; new fields come with a new format
//! version), every value must have the listed type and rule, and no bytes may follow the map.
//! Text is signed exactly as given: normalising Persian letters and digits is the caller's job
//! (see `skillcard_core::text`) and must happen before signing.

use ciborium::value::{Integer, Value};
use serde::{Deserialize, Serialize};

/// The value of key 0: the version of this key table.
pub const FORMAT_VERSION: u64 = 1;

/// The largest score, in tenths of a point (100.0).
pub const MAX_SCORE_TENTHS: u16 = 1000;

/// The claims carried in a credential.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The certificate number (شماره گواهینامه).
    pub certificate_no: String,
    /// The holder's given name (نام).
    pub given_name: String,
    /// The holder's family name (نام خانوادگی).
    pub family_name: String,
    /// The holder's father's name (نام پدر); may be empty.
    pub father_name: String,
    /// The holder's national code (کد ملی): ten ASCII digits.
    pub national_id: String,
    /// The trade / skill standard code (کد استاندارد).
    pub trade_code: String,
    /// The trade / skill standard title (عنوان استاندارد).
    pub trade_title: String,
    /// The final score in tenths of a point: 875 means 87.5. At most 1000.
    pub score: u16,
    /// The issue date, Gregorian ISO 8601 `YYYY-MM-DD` (the page shows it in the Solar Hijri
    /// calendar).
    pub issued_on: String,
    /// The issuing province's code.
    pub province_code: String,
    /// The serial number printed on the card.
    pub card_serial: u64,
    /// The chip's UID as read through PC/SC (`FF CA 00 00 00`), 4..=16 bytes. A payload copied
    /// onto another chip carries the wrong UID and fails verification against that chip.
    pub chip_uid: Vec<u8>,
}

/// Why claims cannot be encoded or decoded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ClaimsError {
    /// The bytes are not one well-formed CBOR item.
    #[error("claims are not well-formed CBOR: {0}")]
    Cbor(String),
    /// Bytes follow the claims map.
    #[error("trailing bytes after the claims map")]
    TrailingBytes,
    /// The CBOR item is not a map.
    #[error("claims are not a CBOR map")]
    NotAMap,
    /// A key that is not in the key table, or not an integer.
    #[error("unknown claim key {0}")]
    UnknownKey(String),
    /// A key appears twice.
    #[error("duplicate claim key {0}")]
    DuplicateKey(u8),
    /// A key is missing.
    #[error("missing claim {0}")]
    Missing(&'static str),
    /// A value has the wrong CBOR type.
    #[error("claim {0} has the wrong type")]
    WrongType(&'static str),
    /// A value breaks its rule (length, range, format).
    #[error("claim {field} is invalid: {why}")]
    Invalid {
        /// The field's name.
        field: &'static str,
        /// What is wrong with it.
        why: &'static str,
    },
    /// The format version is not one this library reads.
    #[error("unsupported claims format version {0}")]
    UnsupportedVersion(u64),
}

const NAMES: [&str; 13] = [
    "format_version",
    "certificate_no",
    "given_name",
    "family_name",
    "father_name",
    "national_id",
    "trade_code",
    "trade_title",
    "score",
    "issued_on",
    "province_code",
    "card_serial",
    "chip_uid",
];

fn text_rule(field: &'static str, s: &str, min: usize, max: usize) -> Result<(), ClaimsError> {
    let n = s.chars().count();
    if n < min {
        return Err(ClaimsError::Invalid {
            field,
            why: "empty",
        });
    }
    if n > max {
        return Err(ClaimsError::Invalid {
            field,
            why: "too long",
        });
    }
    if s.chars().any(char::is_control) {
        return Err(ClaimsError::Invalid {
            field,
            why: "contains a control character",
        });
    }
    Ok(())
}

/// Is `s` a valid Gregorian date written `YYYY-MM-DD`?
pub(crate) fn is_iso_date(s: &str) -> bool {
    parse_iso_date(s).is_some()
}

/// Parses a Gregorian `YYYY-MM-DD` date.
pub(crate) fn parse_iso_date(s: &str) -> Option<time::Date> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let digits = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = b.get(r)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(part).ok()?.parse().ok()
    };
    let year = i32::try_from(digits(0..4)?).ok()?;
    // Catches a Solar Hijri date (year 13xx/14xx) written where a Gregorian one belongs.
    if !(2000..=2199).contains(&year) {
        return None;
    }
    let month = time::Month::try_from(u8::try_from(digits(5..7)?).ok()?).ok()?;
    let day = u8::try_from(digits(8..10)?).ok()?;
    time::Date::from_calendar_date(year, month, day).ok()
}

impl Claims {
    /// Checks every field against the key table's rules.
    pub fn validate(&self) -> Result<(), ClaimsError> {
        text_rule("certificate_no", &self.certificate_no, 1, 32)?;
        text_rule("given_name", &self.given_name, 1, 64)?;
        text_rule("family_name", &self.family_name, 1, 64)?;
        text_rule("father_name", &self.father_name, 0, 64)?;
        if self.national_id.len() != 10 || !self.national_id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ClaimsError::Invalid {
                field: "national_id",
                why: "not ten ASCII digits",
            });
        }
        text_rule("trade_code", &self.trade_code, 1, 32)?;
        text_rule("trade_title", &self.trade_title, 1, 128)?;
        if self.score > MAX_SCORE_TENTHS {
            return Err(ClaimsError::Invalid {
                field: "score",
                why: "above 1000 tenths",
            });
        }
        if !is_iso_date(&self.issued_on) {
            return Err(ClaimsError::Invalid {
                field: "issued_on",
                why: "not a YYYY-MM-DD date",
            });
        }
        text_rule("province_code", &self.province_code, 1, 8)?;
        if !(4..=16).contains(&self.chip_uid.len()) {
            return Err(ClaimsError::Invalid {
                field: "chip_uid",
                why: "not 4..=16 bytes",
            });
        }
        Ok(())
    }

    /// Encodes the claims as the CBOR map of the key table, after [`Claims::validate`].
    pub fn to_cbor(&self) -> Result<Vec<u8>, ClaimsError> {
        self.validate()?;
        let key = |k: u8| Value::Integer(Integer::from(k));
        let text = |s: &str| Value::Text(s.to_owned());
        let map = vec![
            (key(0), Value::Integer(Integer::from(FORMAT_VERSION))),
            (key(1), text(&self.certificate_no)),
            (key(2), text(&self.given_name)),
            (key(3), text(&self.family_name)),
            (key(4), text(&self.father_name)),
            (key(5), text(&self.national_id)),
            (key(6), text(&self.trade_code)),
            (key(7), text(&self.trade_title)),
            (key(8), Value::Integer(Integer::from(self.score))),
            (key(9), text(&self.issued_on)),
            (key(10), text(&self.province_code)),
            (key(11), Value::Integer(Integer::from(self.card_serial))),
            (key(12), Value::Bytes(self.chip_uid.clone())),
        ];
        let mut out = Vec::with_capacity(256);
        ciborium::into_writer(&Value::Map(map), &mut out)
            .map_err(|e| ClaimsError::Cbor(e.to_string()))?;
        Ok(out)
    }

    /// Decodes and validates claims strictly (see the module documentation).
    pub fn from_cbor(bytes: &[u8]) -> Result<Claims, ClaimsError> {
        let mut rest = bytes;
        let value: Value =
            ciborium::from_reader(&mut rest).map_err(|e| ClaimsError::Cbor(e.to_string()))?;
        if !rest.is_empty() {
            return Err(ClaimsError::TrailingBytes);
        }
        let Value::Map(entries) = value else {
            return Err(ClaimsError::NotAMap);
        };
        let mut slots: [Option<Value>; 13] = Default::default();
        for (k, v) in entries {
            let idx = match &k {
                Value::Integer(i) => u8::try_from(*i).ok().filter(|n| usize::from(*n) < 13),
                _ => None,
            };
            let Some(idx) = idx else {
                return Err(ClaimsError::UnknownKey(describe_key(&k)));
            };
            let slot = &mut slots[usize::from(idx)];
            if slot.is_some() {
                return Err(ClaimsError::DuplicateKey(idx));
            }
            *slot = Some(v);
        }
        let mut take = |i: usize| slots[i].take().ok_or(ClaimsError::Missing(NAMES[i]));
        let version = uint(take(0)?, NAMES[0])?;
        if version != FORMAT_VERSION {
            return Err(ClaimsError::UnsupportedVersion(version));
        }
        let claims = Claims {
            certificate_no: text(take(1)?, NAMES[1])?,
            given_name: text(take(2)?, NAMES[2])?,
            family_name: text(take(3)?, NAMES[3])?,
            father_name: text(take(4)?, NAMES[4])?,
            national_id: text(take(5)?, NAMES[5])?,
            trade_code: text(take(6)?, NAMES[6])?,
            trade_title: text(take(7)?, NAMES[7])?,
            score: u16::try_from(uint(take(8)?, NAMES[8])?).map_err(|_| ClaimsError::Invalid {
                field: "score",
                why: "above 1000 tenths",
            })?,
            issued_on: text(take(9)?, NAMES[9])?,
            province_code: text(take(10)?, NAMES[10])?,
            card_serial: uint(take(11)?, NAMES[11])?,
            chip_uid: match take(12)? {
                Value::Bytes(b) => b,
                _ => return Err(ClaimsError::WrongType(NAMES[12])),
            },
        };
        claims.validate()?;
        Ok(claims)
    }
}

fn describe_key(k: &Value) -> String {
    match k {
        Value::Integer(i) => i128::from(*i).to_string(),
        Value::Text(t) => format!("{:?}", t.chars().take(32).collect::<String>()),
        _ => "of a non-integer type".to_owned(),
    }
}

fn uint(v: Value, field: &'static str) -> Result<u64, ClaimsError> {
    match v {
        Value::Integer(i) => u64::try_from(i).map_err(|_| ClaimsError::WrongType(field)),
        _ => Err(ClaimsError::WrongType(field)),
    }
}

fn text(v: Value, field: &'static str) -> Result<String, ClaimsError> {
    match v {
        Value::Text(s) => Ok(s),
        _ => Err(ClaimsError::WrongType(field)),
    }
}
