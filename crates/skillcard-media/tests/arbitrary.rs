//! Arbitrary bytes through every image check: an answer, never a panic.

use proptest::prelude::*;
use skillcard_media::{check_renderable, check_scan, normalize_photo, samples};

fn prefixed() -> impl Strategy<Value = Vec<u8>> {
    let heads: Vec<Vec<u8>> = vec![
        b"\x89PNG\r\n\x1a\n".to_vec(),
        vec![0xFF, 0xD8, 0xFF],
        b"%PDF-".to_vec(),
        samples::png_bomb(3, 3),
        vec![],
    ];
    (
        proptest::sample::select(heads),
        proptest::collection::vec(any::<u8>(), 0..600),
    )
        .prop_map(|(mut head, tail)| {
            head.extend(tail);
            head
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn no_input_panics(bytes in prefixed()) {
        let _ = normalize_photo(&bytes);
        let _ = check_scan(&bytes);
        let _ = check_renderable(&bytes);
    }

    #[test]
    fn a_declared_size_is_honoured(w in 1u32..200_000, h in 1u32..200_000) {
        let bomb = samples::png_bomb(w, h);
        if u64::from(w) * u64::from(h) > 50_000_000 || w > 10_000 || h > 10_000 {
            prop_assert!(normalize_photo(&bomb).is_err());
        }
        if u64::from(w) * u64::from(h) > 8_000_000 || w > 4_000 || h > 4_000 {
            prop_assert!(check_renderable(&bomb).is_err());
        }
    }
}
