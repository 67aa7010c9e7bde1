//! Normalisation of what Persian users type, and Persian digits on output.
//!
//! Keyboards in Iran produce a mix of Persian (۰–۹), Arabic-Indic (٠–٩) and Latin digits and of
//! Arabic (ي ك) and Persian (ی ک) letters; the same name typed twice must compare equal, so every
//! text input goes through [`normalize`] before it is validated or stored.

/// Folds Persian and Arabic-Indic digits to ASCII, Arabic yeh/kaf to their Persian forms, trims the
/// ends and collapses runs of white space. The zero-width non-joiner (U+200C) is kept: it is part
/// of correct Persian spelling.
pub fn normalize(input: &str) -> String {
    let folded: String = input.chars().map(fold_char).collect();
    folded.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn fold_char(c: char) -> char {
    match c {
        '۰'..='۹' => char::from(b'0' + (c as u32 - '۰' as u32) as u8),
        '٠'..='٩' => char::from(b'0' + (c as u32 - '٠' as u32) as u8),
        'ي' | 'ى' => 'ی',
        'ك' => 'ک',
        _ => c,
    }
}

/// Replaces every ASCII digit with its Persian form, for output.
pub fn persian_digits(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '0'..='9' => char::from_u32('۰' as u32 + (c as u32 - '0' as u32)).unwrap_or(c),
            _ => c,
        })
        .collect()
}

/// A number formatted with Persian digits.
pub fn fa_num(n: impl std::fmt::Display) -> String {
    persian_digits(&n.to_string())
}

/// Parses a non-negative integer typed in any of the accepted digit systems; thousands
/// separators (`,` `٬` `،`) and spaces inside the number are ignored.
pub fn parse_u64(input: &str) -> Option<u64> {
    let folded = normalize(input);
    let digits: String = folded
        .chars()
        .filter(|c| !matches!(c, ',' | '٬' | '،' | ' '))
        .collect();
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// A required free-text field: normalised, non-empty, at most `max` characters.
pub fn required(
    field: &'static str,
    input: &str,
    max: usize,
) -> Result<String, crate::DomainError> {
    let s = optional(field, input, max)?;
    if s.is_empty() {
        return Err(crate::DomainError::Required { field });
    }
    Ok(s)
}

/// An optional free-text field: normalised, at most `max` characters.
pub fn optional(
    field: &'static str,
    input: &str,
    max: usize,
) -> Result<String, crate::DomainError> {
    let s = normalize(input);
    if s.chars().count() > max {
        return Err(crate::DomainError::TooLong { field, max });
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_digits_and_letters() {
        assert_eq!(normalize("  علي   كريمي ۱۲٣ "), "علی کریمی 123");
    }

    #[test]
    fn keeps_zwnj() {
        assert_eq!(normalize("می\u{200c}خواهم"), "می\u{200c}خواهم");
    }

    #[test]
    fn parses_mixed_digits() {
        assert_eq!(parse_u64("۱۰٠,000"), Some(100_000));
        assert_eq!(parse_u64("12a"), None);
        assert_eq!(parse_u64(""), None);
        assert_eq!(parse_u64("-1"), None);
    }

    #[test]
    fn persian_output() {
        assert_eq!(persian_digits("1405/09/03"), "۱۴۰۵/۰۹/۰۳");
    }
}
