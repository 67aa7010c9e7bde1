//! Field shapes the commands (`crate::commands`) are built from, so that one type reads an API's
//! JSON and a page's form alike: numbers as JSON numbers or as text in Persian, Arabic-Indic or
//! Latin digits, ranges as a list or a textarea, yes/no as a boolean or a form's value, files as
//! base64 or a multipart part. All of it is parsed by `skillcard_core` functions.

use serde::Deserialize;
use skillcard_core::date::{JalaliDate, JalaliMonth};
use skillcard_core::serial::{self, SerialRange};
use skillcard_core::{text, DomainError};
use utoipa::ToSchema;

/// A non-negative integer given as a JSON number or as text in any digit system.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum NumText {
    Num(u64),
    Text(String),
}

impl NumText {
    pub fn value(&self, field: &'static str) -> Result<u64, DomainError> {
        match self {
            NumText::Num(n) => Ok(*n),
            NumText::Text(t) => required_number(field, t),
        }
    }

    /// A record's id.
    pub fn id(&self, field: &'static str) -> Result<i64, DomainError> {
        i64::try_from(self.value(field)?).map_err(|_| DomainError::InvalidValue { field })
    }

    /// An amount of money in rials (the store bounds it further).
    pub fn rials(&self, field: &'static str) -> Result<i64, DomainError> {
        self.id(field)
    }

    /// An optional number: absent, or typed as nothing in a form field, is `None`.
    pub fn optional(
        value: &Option<NumText>,
        field: &'static str,
    ) -> Result<Option<u64>, DomainError> {
        match value {
            None => Ok(None),
            Some(NumText::Num(n)) => Ok(Some(*n)),
            Some(NumText::Text(t)) => optional_number(field, t),
        }
    }

    fn raw(&self) -> String {
        match self {
            NumText::Num(n) => n.to_string(),
            NumText::Text(t) => t.clone(),
        }
    }
}

/// A serial range in an API body.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct RangeInput {
    pub first: NumText,
    pub last: NumText,
}

pub fn ranges(input: &[RangeInput]) -> Result<Vec<SerialRange>, DomainError> {
    input
        .iter()
        .map(|r| SerialRange::parse(&r.first.raw(), &r.last.raw()))
        .collect()
}

/// Serial ranges as a JSON list of `{first, last}` or as a form's textarea (one range a line,
/// see `serial::parse_range_list`).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum Ranges {
    List(Vec<RangeInput>),
    Text(String),
}

impl Default for Ranges {
    fn default() -> Self {
        Ranges::List(Vec::new())
    }
}

impl Ranges {
    pub fn parse(&self) -> Result<Vec<SerialRange>, DomainError> {
        match self {
            Ranges::List(list) => ranges(list),
            Ranges::Text(t) => range_text(t),
        }
    }
}

/// A decimal (a temperature) as a JSON number or typed text (any digits, `.` or `٫`).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum DecimalText {
    Num(f64),
    Text(String),
}

impl DecimalText {
    pub fn value(&self, field: &'static str) -> Result<f64, DomainError> {
        match self {
            DecimalText::Num(v) if v.is_finite() => Ok(*v),
            DecimalText::Num(_) => Err(DomainError::InvalidValue { field }),
            DecimalText::Text(t) => decimal(field, t),
        }
    }
}

/// A file: base64 text in a JSON body, or the bytes of a page's multipart field.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum Upload {
    #[schema(value_type = String)]
    Base64(String),
    #[serde(skip_deserializing)]
    #[schema(value_type = String)]
    Bytes(Vec<u8>),
}

impl Upload {
    /// A page's file field, if a file was chosen.
    pub fn from_part(bytes: Option<&[u8]>) -> Option<Upload> {
        bytes.map(|b| Upload::Bytes(b.to_vec()))
    }

    /// The file's bytes; an empty upload counts as none.
    pub fn bytes(self, field: &'static str) -> Result<Option<Vec<u8>>, DomainError> {
        let bytes = match self {
            Upload::Bytes(b) => b,
            Upload::Base64(t) => decode_base64(&t).ok_or(DomainError::InvalidValue { field })?,
        };
        Ok((!bytes.is_empty()).then_some(bytes))
    }

    /// An optional file's bytes.
    pub fn optional(
        upload: Option<Upload>,
        field: &'static str,
    ) -> Result<Option<Vec<u8>>, DomainError> {
        upload
            .map(|u| u.bytes(field))
            .transpose()
            .map(Option::flatten)
    }

    /// A required file's bytes.
    pub fn required(upload: Option<Upload>, field: &'static str) -> Result<Vec<u8>, DomainError> {
        Upload::optional(upload, field)?.ok_or(DomainError::Required { field })
    }
}

/// A yes/no as a JSON boolean or as a form's value (`true`/`false`, a button's `value`).
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum Flag {
    Bool(bool),
    #[schema(value_type = String)]
    Text(FlagText),
}

/// The words a form may send for a yes/no.
#[derive(Debug, Clone, Copy, Deserialize)]
pub enum FlagText {
    #[serde(rename = "true", alias = "1", alias = "on", alias = "yes")]
    Yes,
    #[serde(rename = "false", alias = "0", alias = "off", alias = "no")]
    No,
}

impl Default for Flag {
    /// An unticked checkbox sends nothing: no.
    fn default() -> Self {
        Flag::Bool(false)
    }
}

impl Flag {
    pub fn get(self) -> bool {
        matches!(self, Flag::Bool(true) | Flag::Text(FlagText::Yes))
    }
}

/// A range list typed in a textarea (see `serial::parse_range_list`).
pub fn range_text(input: &str) -> Result<Vec<SerialRange>, DomainError> {
    serial::parse_range_list(input)
}

/// A number typed in a form field; empty means absent.
pub fn optional_number(field: &'static str, input: &str) -> Result<Option<u64>, DomainError> {
    let t = text::normalize(input);
    if t.is_empty() {
        return Ok(None);
    }
    text::parse_u64(&t)
        .map(Some)
        .ok_or(DomainError::InvalidValue { field })
}

pub fn required_number(field: &'static str, input: &str) -> Result<u64, DomainError> {
    optional_number(field, input)?.ok_or(DomainError::Required { field })
}

/// A decimal typed in a form field (temperatures), any digit system, `.` or `٫` as the point.
pub fn decimal(field: &'static str, input: &str) -> Result<f64, DomainError> {
    let t = text::normalize(input).replace(['٫', '/'], ".");
    if t.is_empty() {
        return Err(DomainError::Required { field });
    }
    t.parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or(DomainError::InvalidValue { field })
}

/// An optional Solar Hijri date typed by a user, as a Gregorian date for storage queries.
pub fn optional_date(input: Option<&str>) -> Result<Option<time::Date>, DomainError> {
    match input.map(text::normalize).filter(|s| !s.is_empty()) {
        Some(s) => Ok(Some(JalaliDate::parse(&s)?.to_gregorian()?)),
        None => Ok(None),
    }
}

/// A Solar Hijri month typed as `1405/09` (any digits).
pub fn month(input: &str) -> Result<JalaliMonth, DomainError> {
    let d = JalaliDate::parse(&format!("{}/01", text::normalize(input)))?;
    Ok(d.month_of())
}

/// Bytes given as hex (a chip UID, a chip read-back), in any digit system, with optional spaces
/// or colons between bytes (`04:A2:…` as reader tools print it).
pub fn hex_bytes(field: &'static str, input: &str) -> Result<Vec<u8>, DomainError> {
    let folded: String = text::normalize(input)
        .chars()
        .filter(|c| !c.is_whitespace() && *c != ':' && *c != '-')
        .collect();
    if folded.is_empty() {
        return Err(DomainError::Required { field });
    }
    hex::decode(folded).map_err(|_| DomainError::InvalidValue { field })
}

/// Standard base64 (RFC 4648) as JSON bodies carry scans and photos: padding optional, line
/// breaks ignored; `None` when it is not base64.
pub fn decode_base64(input: &str) -> Option<Vec<u8>> {
    use base64::engine::{
        general_purpose::GeneralPurpose, DecodePaddingMode, GeneralPurposeConfig,
    };
    use base64::Engine;
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    let compact: String = input.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    LENIENT.decode(compact).ok()
}
