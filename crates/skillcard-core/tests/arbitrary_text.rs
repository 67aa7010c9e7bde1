//! Every text parser of the core driven with arbitrary text, heavy on the characters that
//! cause trouble (NUL and other controls, bidi overrides, zero-width characters, mixed digit
//! systems): each answers Ok or a `DomainError`, never a panic, and free text that is accepted
//! holds none of the characters the parsers refuse.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;
use skillcard_core::cases::Corrections;
use skillcard_core::date::JalaliDate;
use skillcard_core::exam::Score;
use skillcard_core::national_id::NationalId;
use skillcard_core::notice::parse_contact;
use skillcard_core::serial::{parse_range_list, parse_serial, SerialRange};
use skillcard_core::text;

fn tricky() -> impl Strategy<Value = String> {
    let pieces = prop_oneof![
        Just("\u{0}".to_string()),
        Just("\u{7}".to_string()),
        Just("\u{202E}".to_string()),
        Just("\u{2066}".to_string()),
        Just("\u{200C}".to_string()),
        Just("\u{200B}".to_string()),
        Just("\u{FEFF}".to_string()),
        Just("ي".to_string()),
        Just("۱۲۳".to_string()),
        Just("٤٥".to_string()),
        Just("-".to_string()),
        Just("/".to_string()),
        Just(" ".to_string()),
        "[0-9]{1,12}",
        "\\PC{0,6}",
        any::<String>(),
    ];
    proptest::collection::vec(pieces, 0..8).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn no_parser_panics(a in tricky(), b in tricky(), c in tricky()) {
        let _ = text::parse_u64(&a);
        let _ = NationalId::parse(&a);
        let _ = JalaliDate::parse(&a);
        let _ = Score::parse(&a);
        let _ = parse_contact(&a);
        let _ = parse_serial(&a);
        let _ = parse_range_list(&a);
        let _ = SerialRange::parse(&a, &b);
        let _ = Corrections::parse(&a, &b, &c);
        let _ = text::check_clean("x", &a);
    }

    #[test]
    fn accepted_text_is_clean(input in tricky()) {
        if let Ok(s) = text::optional("title", &input, 10_000) {
            prop_assert!(!s.chars().any(text::is_forbidden), "{s:?}");
            prop_assert!(s.is_empty() || !s.chars().all(|c| text::is_invisible(c) || c.is_whitespace()));
            prop_assert!(!input.chars().any(text::is_forbidden));
        } else {
            prop_assert!(
                input.chars().any(text::is_forbidden)
                    || input.chars().all(|c| text::is_invisible(c) || c.is_whitespace())
                    || input.chars().count() > 10_000
            );
        }
    }
}
