//! The Iranian national ID code (کد ملی): ten digits, the last a check digit.

use crate::error::DomainError;
use crate::text;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct NationalId(String);

impl NationalId {
    /// Accepts any digit system; 8- and 9-digit inputs are left-padded with zeros.
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        let bad = || DomainError::InvalidNationalId {
            input: input.to_string(),
        };
        let s: String = text::normalize(input)
            .chars()
            .filter(|c| *c != '-')
            .collect();
        if !(8..=10).contains(&s.len()) || !s.chars().all(|c| c.is_ascii_digit()) {
            return Err(bad());
        }
        let s = format!("{s:0>10}");
        let d: Vec<u32> = s.chars().filter_map(|c| c.to_digit(10)).collect();
        if d.iter().all(|x| *x == d[0]) {
            return Err(bad());
        }
        let sum: u32 = d[..9].iter().zip((2..=10).rev()).map(|(x, w)| x * w).sum();
        let r = sum % 11;
        let check = if r < 2 { r } else { 11 - r };
        if check != d[9] {
            return Err(bad());
        }
        Ok(NationalId(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `00*****123`-style masking for public pages.
    pub fn masked(&self) -> String {
        format!("{}******{}", &self.0[..2], &self.0[8..])
    }
}

impl TryFrom<String> for NationalId {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self, DomainError> {
        Self::parse(&s)
    }
}

impl From<NationalId> for String {
    fn from(n: NationalId) -> String {
        n.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_digit() {
        assert!(NationalId::parse("0499370899").is_ok());
        assert!(NationalId::parse("۰۴۹۹۳۷۰۸۹۹").is_ok());
        assert!(NationalId::parse("0499370898").is_err());
        assert!(NationalId::parse("1111111111").is_err());
        assert!(NationalId::parse("12345").is_err());
    }
}
