//! What a clerk types into the search box, read as what it can be: a national code, a card
//! serial, a certificate number or a name. One box serves the office's daily question ("where is
//! this person's card?") without a form per key; each reading maps to one indexed look-up.

use crate::{text, DomainError};

/// The longest search text accepted.
pub const MAX_LEN: usize = 80;

/// The readings of one search text, each an exact match on an indexed column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SearchQuery {
    /// Only digits: a national code (ten digits) and/or a card serial.
    Digits {
        national_id: Option<String>,
        serial: Option<u64>,
    },
    /// Latin letters, digits and dashes, as certificates are numbered (`THR-1405-000123`).
    Certificate(String),
    /// A family name, and with two or more words the given name first: `علی محمدی`.
    Name { last: String, first: Option<String> },
}

impl SearchQuery {
    /// Digits in any script, Arabic ي/ك folded; thousands separators in a serial ignored.
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        let q = text::required("q", input, MAX_LEN)?;
        let compact: String = q
            .chars()
            .filter(|c| !matches!(c, ' ' | ',' | '٬' | '،'))
            .collect();
        if !compact.is_empty() && compact.chars().all(|c| c.is_ascii_digit()) {
            let national_id = (compact.len() == 10).then(|| compact.clone());
            let serial = compact
                .parse::<u64>()
                .ok()
                .filter(|s| *s > 0 && *s <= i64::MAX as u64);
            return Ok(SearchQuery::Digits {
                national_id,
                serial,
            });
        }
        if q.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '/')
        {
            return Ok(SearchQuery::Certificate(q.to_ascii_uppercase()));
        }
        if q.chars().any(|c| c.is_ascii_digit()) {
            return Err(DomainError::InvalidValue { field: "q" });
        }
        let words: Vec<&str> = q.split(' ').collect();
        Ok(match words.as_slice() {
            [last] => SearchQuery::Name {
                last: (*last).to_string(),
                first: None,
            },
            [first, rest @ ..] => SearchQuery::Name {
                last: rest.join(" "),
                first: Some((*first).to_string()),
            },
            [] => return Err(DomainError::Required { field: "q" }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_in_any_script_read_as_a_national_code_and_a_serial() {
        assert_eq!(
            SearchQuery::parse(" ۰۰۱۲۳۴۵۶۷۸ ").unwrap(),
            SearchQuery::Digits {
                national_id: Some("0012345678".into()),
                serial: Some(12_345_678)
            }
        );
        assert_eq!(
            SearchQuery::parse("١٠٠٬٠٠٠٬٠٠١").unwrap(),
            SearchQuery::Digits {
                national_id: None,
                serial: Some(100_000_001)
            }
        );
    }

    #[test]
    fn a_certificate_number_and_names_are_read_apart() {
        assert_eq!(
            SearchQuery::parse("thr-1405-000123").unwrap(),
            SearchQuery::Certificate("THR-1405-000123".into())
        );
        assert_eq!(
            SearchQuery::parse("علي كريمي").unwrap(),
            SearchQuery::Name {
                last: "کریمی".into(),
                first: Some("علی".into())
            }
        );
        assert_eq!(
            SearchQuery::parse("محمدی").unwrap(),
            SearchQuery::Name {
                last: "محمدی".into(),
                first: None
            }
        );
    }

    #[test]
    fn empty_overlong_and_mixed_text_is_refused() {
        assert!(matches!(
            SearchQuery::parse("  "),
            Err(DomainError::Required { field: "q" })
        ));
        assert!(SearchQuery::parse(&"ب".repeat(MAX_LEN + 1)).is_err());
        assert!(matches!(
            SearchQuery::parse("علی ۱۲"),
            Err(DomainError::InvalidValue { field: "q" })
        ));
    }
}
