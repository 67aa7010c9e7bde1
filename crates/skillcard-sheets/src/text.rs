//! Small Persian-aware text helpers: digit folding, header folding, numbers.

/// Replaces Persian (۰-۹) and Arabic-Indic (٠-٩) digits with Latin digits,
/// and the Arabic decimal separator `٫` with `.`. Everything else is kept.
pub fn normalize_digits(s: &str) -> String {
    s.chars().map(fold_digit).collect()
}

fn fold_digit(c: char) -> char {
    match c {
        '\u{06F0}'..='\u{06F9}' => char::from_u32(c as u32 - 0x06F0 + 0x30).unwrap_or(c),
        '\u{0660}'..='\u{0669}' => char::from_u32(c as u32 - 0x0660 + 0x30).unwrap_or(c),
        '\u{066B}' => '.',
        _ => c,
    }
}

/// Parses a decimal number written with Latin, Persian or Arabic-Indic digits,
/// an optional sign, and `.` or `٫` as the decimal separator (e.g. `۱۸٫۵`).
/// Thousands separators are not accepted. Returns `None` for anything else.
pub fn parse_decimal(s: &str) -> Option<f64> {
    let folded = normalize_digits(s.trim());
    let folded = folded.replace('\u{2212}', "-"); // minus sign
    let body = folded.strip_prefix(['-', '+']).unwrap_or(&folded);
    let mut parts = body.splitn(2, '.');
    let int = parts.next().unwrap_or("");
    let frac = parts.next();
    let all_digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    let ok = all_digits(int)
        && frac.is_none_or(all_digits)
        && (!int.is_empty() || frac.is_some_and(|f| !f.is_empty()));
    if !ok {
        return None;
    }
    folded.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// Folds a header for matching: trims, lower-cases, maps Arabic yeh/kaf
/// (ي ى ك) to Persian (ی ک), folds digits, and removes whitespace, ZWNJ,
/// ZWJ, tatweel, bidi marks, BOM, `_` and `-`.
pub fn fold_header(s: &str) -> String {
    s.trim()
        .chars()
        .filter(|c| {
            !(c.is_whitespace()
                || matches!(
                    c,
                    '\u{200B}'..='\u{200F}'
                        | '\u{202A}'..='\u{202E}'
                        | '\u{2066}'..='\u{2069}'
                        | '\u{FEFF}'
                        | '\u{0640}'
                        | '\u{00AD}'
                        | '_'
                        | '-'
                ))
        })
        .map(|c| match c {
            '\u{064A}' | '\u{0649}' => '\u{06CC}',
            '\u{0643}' => '\u{06A9}',
            _ => fold_digit(c),
        })
        .flat_map(char::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_fold() {
        assert_eq!(normalize_digits("۰۱۲۳۴۵۶۷۸۹"), "0123456789");
        assert_eq!(normalize_digits("٠١٢٣٤٥٦٧٨٩"), "0123456789");
        assert_eq!(normalize_digits("نمره ۱۸٫۵"), "نمره 18.5");
    }

    #[test]
    fn decimals_parse() {
        assert_eq!(parse_decimal("۱۸٫۵"), Some(18.5));
        assert_eq!(parse_decimal(" ١٧ "), Some(17.0));
        assert_eq!(parse_decimal("-2.25"), Some(-2.25));
        assert_eq!(parse_decimal(".5"), Some(0.5));
        assert_eq!(parse_decimal("12."), Some(12.0));
        for bad in ["", "-", ".", "1e5", "inf", "NaN", "1,5", "۱۲a", "1.2.3"] {
            assert_eq!(parse_decimal(bad), None, "{bad}");
        }
    }

    #[test]
    fn headers_fold() {
        assert_eq!(fold_header(" کد ملی "), fold_header("كد\u{200C}ملي"));
        assert_eq!(fold_header("National_ID"), "nationalid");
        assert_eq!(fold_header("\u{200F}نمره‌ی عملی"), "نمرهیعملی");
    }
}
