//! No input makes the decoders panic (proptest), and the committed corpus in `tests/corpus/`
//! keeps giving the same verdicts.
//!
//! Corpus files are named `<verdict code>--<name>.hex` (credential bytes in hex, verified with
//! the chip UID [`common::CHIP_UID`]) or `<verdict code>--<name>.qr` (QR text, verified with
//! `verify_qr`). Regenerate with
//! `SKILLCARD_REGEN_CORPUS=1 cargo test -p skillcard-credential --test robustness -- --ignored`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use proptest::prelude::*;
use skillcard_credential::transparency::{self, Revocation, StatusList, TreeHead};
use skillcard_credential::*;
use std::path::PathBuf;

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

fn valid_bytes() -> Vec<u8> {
    sign(&claims(), &active_key()).unwrap()
}

fn signed_tree_head() -> Vec<u8> {
    TreeHead {
        tree_size: 1234,
        root_hash: [5; 32],
        timestamp: "2026-11-26T08:00:00Z".into(),
    }
    .sign(&active_key())
    .unwrap()
}

fn signed_status_list() -> Vec<u8> {
    let revoked: Vec<_> = (0u8..20)
        .map(|i| (transparency::credential_digest(&[i]), Revocation::Void))
        .collect();
    StatusList::new("2026-11-26T08:00:00Z", 99, &revoked)
        .sign(&active_key())
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..700)) {
        let keys = key_set();
        let v = verify(&bytes, &keys, Some(&CHIP_UID));
        prop_assert!(!v.is_valid());
        let _ = Claims::from_cbor(&bytes);
    }

    #[test]
    fn mutated_credentials_never_panic_nor_pass(
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..4), 1..6)
    ) {
        let keys = key_set();
        let orig = valid_bytes();
        let mut bytes = orig.clone();
        for (idx, b, op) in edits {
            if bytes.is_empty() { break; }
            let i = idx.index(bytes.len());
            match op {
                0 => bytes[i] = b,
                1 => { bytes.remove(i); }
                2 => bytes.insert(i, b),
                _ => bytes.truncate(i),
            }
        }
        // COSE's outer framing is malleable (the tag is optional, CBOR lengths may be
        // non-minimal) without touching what is signed; what no mutation may do is make
        // different claims or a different key verify.
        match verify(&bytes, &keys, Some(&CHIP_UID)) {
            Verdict::Valid { claims: c, kid, .. } => {
                prop_assert_eq!(*c, claims());
                prop_assert_eq!(kid, "sc-2025");
            }
            _ => prop_assert_ne!(bytes, orig),
        }
    }

    #[test]
    fn random_qr_text_never_panics(text in "(SC1:)?[0-9A-Z $%*+./:-]{0,600}") {
        let _ = from_qr_text(&text);
        prop_assert!(!verify_qr(&text, &key_set()).is_valid());
    }

    #[test]
    fn mutated_qr_text_never_panics(
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<char>()), 1..4)
    ) {
        let orig = to_qr_text(&valid_bytes());
        let mut chars: Vec<char> = orig.chars().collect();
        for (idx, c) in edits {
            let i = idx.index(chars.len());
            chars[i] = c;
        }
        let text: String = chars.into_iter().collect();
        let v = verify_qr(&text, &key_set());
        if text.trim() != orig {
            prop_assert!(!v.is_valid() || from_qr_text(&text).ok() == Some(valid_bytes()));
        }
    }

    #[test]
    fn random_bytes_are_no_tree_head_nor_status_list(
        bytes in proptest::collection::vec(any::<u8>(), 0..700)
    ) {
        let keys = key_set();
        prop_assert!(TreeHead::verify(&bytes, &keys).is_err());
        prop_assert!(StatusList::verify(&bytes, &keys).is_err());
    }

    #[test]
    fn mutated_tree_heads_and_status_lists_never_panic_nor_change(
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..4), 1..6)
    ) {
        let keys = key_set();
        let head = signed_tree_head();
        let list = signed_status_list();
        for orig in [&head, &list] {
            let mut bytes = orig.clone();
            for (idx, b, op) in &edits {
                if bytes.is_empty() { break; }
                let i = idx.index(bytes.len());
                match op {
                    0 => bytes[i] = *b,
                    1 => { bytes.remove(i); }
                    2 => bytes.insert(i, *b),
                    _ => bytes.truncate(i),
                }
            }
            // As for credentials: the framing may bend, what is signed may not.
            if let Ok((h, _)) = TreeHead::verify(&bytes, &keys) {
                prop_assert_eq!(h, TreeHead::verify(&head, &keys).unwrap().0);
            }
            if let Ok((l, _)) = StatusList::verify(&bytes, &keys) {
                prop_assert_eq!(l, StatusList::verify(&list, &keys).unwrap().0);
            }
        }
    }

    #[test]
    fn qr_round_trips_any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
        prop_assert_eq!(from_qr_text(&to_qr_text(&bytes)).unwrap(), bytes);
    }
}

fn verdict_for(path: &std::path::Path) -> Verdict {
    let text = std::fs::read_to_string(path).unwrap();
    match path.extension().and_then(|e| e.to_str()) {
        Some("hex") => {
            let bytes = hex::decode(text.trim()).unwrap();
            verify(&bytes, &key_set(), Some(&CHIP_UID))
        }
        Some("qr") => verify_qr(&text, &key_set()),
        other => panic!("unexpected corpus file type {other:?}"),
    }
}

#[test]
fn corpus_replays_to_its_verdicts() {
    let mut n = 0;
    let mut codes = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir(corpus_dir()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        if name.starts_with('.') || name.ends_with(".md") {
            continue;
        }
        let (code, _) = name.split_once("--").unwrap();
        let v = verdict_for(&path);
        assert_eq!(v.code(), code, "{name}: {v}");
        codes.insert(code.to_owned());
        n += 1;
    }
    assert!(n >= 15, "only {n} corpus files");
    for code in [
        "valid",
        "malformed",
        "unknown_key",
        "revoked_key",
        "bad_signature",
        "expired_key",
        "chip_mismatch",
        "unsupported_algorithm",
    ] {
        assert!(codes.contains(code), "no corpus sample for {code}");
    }
}

fn corpus_samples() -> Vec<(String, String)> {
    use coset::{iana, CoseSign1Builder, HeaderBuilder, TaggedCborSerializable as _};
    use ed25519_dalek::Signer as _;
    use flate2::{write::ZlibEncoder, Compression};
    use std::io::Write as _;

    let good = valid_bytes();
    let hexf = |b: &[u8]| hex::encode(b);
    let mut tampered = good.clone();
    let i = tampered.len() - 67;
    tampered[i] ^= 0x01;
    let es256 = {
        let sk = ed25519_dalek::SigningKey::from_bytes(&[1; 32]);
        CoseSign1Builder::new()
            .protected(
                HeaderBuilder::new()
                    .algorithm(iana::Algorithm::ES256)
                    .key_id(b"sc-2025".to_vec())
                    .content_format(iana::CoapContentFormat::Cbor)
                    .build(),
            )
            .payload(claims().to_cbor().unwrap())
            .create_signature(&[], |tbs| sk.sign(tbs).to_bytes().to_vec())
            .build()
            .to_tagged_vec()
            .unwrap()
    };
    let mut enc = ZlibEncoder::new(Vec::new(), Compression::best());
    enc.write_all(&vec![0u8; 1 << 20]).unwrap();
    let bomb = format!("SC1:{}", base45::encode(enc.finish().unwrap()));
    let qr = to_qr_text(&good);
    vec![
        ("valid--active-key.hex".into(), hexf(&good)),
        (
            "valid--retired-key-old-card.hex".into(),
            hexf(&sign(&claims_issued("2024-06-01"), &retired_key()).unwrap()),
        ),
        ("valid--untagged.hex".into(), hexf(&good[1..])),
        (
            "bad_signature--tampered-uid-byte.hex".into(),
            hexf(&tampered),
        ),
        (
            "bad_signature--resigned-same-kid.hex".into(),
            hexf(&sign(&claims(), &impostor_key()).unwrap()),
        ),
        (
            "unknown_key--unknown-kid.hex".into(),
            hexf(&sign(&claims(), &unknown_key()).unwrap()),
        ),
        (
            "revoked_key--revoked.hex".into(),
            hexf(&sign(&claims(), &revoked_key()).unwrap()),
        ),
        (
            "expired_key--issued-after-not-after.hex".into(),
            hexf(&sign(&claims_issued("2025-03-01"), &retired_key()).unwrap()),
        ),
        (
            "chip_mismatch--copied-to-other-chip.hex".into(),
            hexf(
                &sign(
                    &Claims {
                        chip_uid: OTHER_CHIP_UID.to_vec(),
                        ..claims()
                    },
                    &active_key(),
                )
                .unwrap(),
            ),
        ),
        (
            "unsupported_algorithm--es256-header.hex".into(),
            hexf(&es256),
        ),
        ("malformed--empty.hex".into(), String::new()),
        (
            "malformed--truncated.hex".into(),
            hexf(&good[..good.len() / 2]),
        ),
        (
            "malformed--trailing-byte.hex".into(),
            hexf(&[good.as_slice(), &[0]].concat()),
        ),
        (
            "malformed--claims-without-cose.hex".into(),
            hexf(&claims().to_cbor().unwrap()),
        ),
        ("malformed--garbage.hex".into(), "deadbeef00ff".into()),
        ("malformed--deep-nesting.hex".into(), "81".repeat(600)),
        (
            "malformed--huge-bstr-length.hex".into(),
            "5bffffffffffffffff00".into(),
        ),
        ("valid--qr.qr".into(), qr.clone()),
        ("malformed--qr-zip-bomb.qr".into(), bomb),
        (
            "malformed--qr-wrong-prefix.qr".into(),
            format!("HC1:{}", &qr[4..]),
        ),
        (
            "malformed--qr-truncated.qr".into(),
            qr[..qr.len() - 10].to_owned(),
        ),
        ("malformed--qr-lowercase.qr".into(), qr.to_lowercase()),
    ]
}

#[test]
#[ignore = "writes tests/corpus; run with SKILLCARD_REGEN_CORPUS=1"]
fn regenerate_corpus() {
    if std::env::var_os("SKILLCARD_REGEN_CORPUS").is_none() {
        return;
    }
    let dir = corpus_dir();
    std::fs::create_dir_all(&dir).unwrap();
    for (name, content) in corpus_samples() {
        std::fs::write(dir.join(name), format!("{content}\n")).unwrap();
    }
}

#[test]
fn corpus_is_current() {
    // Signing is deterministic, so the committed samples must equal freshly made ones. QR
    // samples are compared after decoding: zlib output depends on the compression backend
    // (flate2's features are unified across the workspace), only the payload is canonical.
    for (name, content) in corpus_samples() {
        let on_disk = std::fs::read_to_string(corpus_dir().join(&name))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let on_disk = on_disk.trim_end();
        if name.ends_with(".qr") && on_disk != content {
            assert_eq!(
                from_qr_text(on_disk).ok(),
                from_qr_text(&content).ok(),
                "{name} is stale; regenerate the corpus"
            );
        } else {
            assert_eq!(on_disk, content, "{name} is stale; regenerate the corpus");
        }
    }
}
