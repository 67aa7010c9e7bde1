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

/// A decimal written as people in Iran read it: Persian digits and the Persian decimal
/// separator (`83.8` → `۸۳٫۸`), as the card face prints scores.
pub fn fa_decimal(s: &str) -> String {
    persian_digits(s).replace('.', "٫")
}

/// A number formatted with Persian digits.
pub fn fa_num(n: impl std::fmt::Display) -> String {
    persian_digits(&n.to_string())
}

/// An amount (rials, counts of money) in Persian digits with the Persian thousands separator,
/// as the printed forms show it: `1500000` → `۱٬۵۰۰٬۰۰۰`.
pub fn fa_amount(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut grouped = String::with_capacity(digits.len() * 2);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push('٬');
        }
        grouped.push(c);
    }
    let sign = if n < 0 { "-" } else { "" };
    persian_digits(&format!("{sign}{grouped}"))
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

/// An optional free-text field: normalised, free of control and bidi-override characters,
/// invisible characters trimmed from its ends, at most `max` characters. A value made only of
/// invisible characters is refused rather than stored as a blank that looks filled in.
pub fn optional(
    field: &'static str,
    input: &str,
    max: usize,
) -> Result<String, crate::DomainError> {
    check_clean(field, input)?;
    let s = normalize(input);
    let trimmed = s.trim_matches(|c: char| is_invisible(c) || c.is_whitespace());
    if trimmed.is_empty() && !s.is_empty() {
        return Err(crate::DomainError::InvisibleText { field });
    }
    if trimmed.chars().count() > max {
        return Err(crate::DomainError::TooLong { field, max });
    }
    Ok(trimmed.to_string())
}

/// Characters no field may hold: control characters other than white space (NUL among them,
/// which PostgreSQL cannot store and SQLite would), the bidi embeddings, overrides and isolates
/// that make a stored name read differently from its bytes, and Unicode non-characters.
pub fn is_forbidden(c: char) -> bool {
    (c.is_control() && !c.is_whitespace())
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
        || matches!(c as u32, 0xFDD0..=0xFDEF)
        || (c as u32) & 0xFFFE == 0xFFFE
}

/// Characters that print nothing: zero-width space, non-joiner and joiner, the direction marks,
/// word joiner, the byte-order mark and the soft hyphen. Inside a word the non-joiner is correct
/// Persian spelling; on its own it is not a value.
pub fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200B}'..='\u{200F}' | '\u{061C}' | '\u{2060}' | '\u{FEFF}' | '\u{00AD}'
    )
}

/// Refuses text that [`optional`] would refuse, for inputs that are looked up rather than
/// stored (a user name at sign-in, a number asked about).
pub fn check_clean(field: &'static str, input: &str) -> Result<(), crate::DomainError> {
    match input.chars().find(|&c| is_forbidden(c)) {
        Some(c) => Err(crate::DomainError::ForbiddenCharacter {
            field,
            codepoint: c as u32,
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_use_the_persian_separator() {
        assert_eq!(fa_decimal("83.8"), "۸۳٫۸");
        assert_eq!(fa_decimal("100"), "۱۰۰");
    }

    #[test]
    fn amounts_are_grouped_in_thousands() {
        assert_eq!(fa_amount(1_500_000), "۱٬۵۰۰٬۰۰۰");
        assert_eq!(fa_amount(800), "۸۰۰");
        assert_eq!(fa_amount(0), "۰");
        assert_eq!(fa_amount(-12_000), "-۱۲٬۰۰۰");
        assert_eq!(parse_u64(&fa_amount(1_500_000)), Some(1_500_000));
    }

    #[test]
    fn folds_digits_and_letters() {
        assert_eq!(normalize("  علي   كريمي ۱۲٣ "), "علی کریمی 123");
    }

    #[test]
    fn keeps_zwnj() {
        assert_eq!(normalize("می\u{200c}خواهم"), "می\u{200c}خواهم");
    }

    #[test]
    fn refuses_control_and_bidi_characters() {
        use crate::DomainError::*;
        for (input, codepoint) in [
            ("hq\u{0}", 0),
            ("علی\u{202E}", 0x202E),
            ("\u{2066}x", 0x2066),
            ("a\u{7}b", 7),
            ("x\u{FFFF}", 0xFFFF),
        ] {
            assert_eq!(
                optional("title", input, 50),
                Err(ForbiddenCharacter {
                    field: "title",
                    codepoint
                }),
                "{input:?}"
            );
        }
        assert_eq!(
            required("first_name", "\u{200c}\u{200b} \u{200d}", 50),
            Err(InvisibleText {
                field: "first_name"
            })
        );
        assert_eq!(
            required("first_name", "\u{200c}زهرا\u{200c}", 50).unwrap(),
            "زهرا"
        );
        assert_eq!(optional("remarks", "a\tb\nc", 50).unwrap(), "a b c");
        assert_eq!(optional("remarks", "", 50).unwrap(), "");
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
