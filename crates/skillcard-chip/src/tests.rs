#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::emulator::{CardConfig, IsoCard};
use crate::iso::{self, Transport};
use crate::{CardWriter, ChipError, FileWriter, Step, EF_ID, EF_SIZE, MAX_PAYLOAD};

fn payload(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// A card that is pulled after `left` APDUs.
struct Flaky {
    card: IsoCard,
    left: usize,
    log: Vec<Vec<u8>>,
}

impl Transport for Flaky {
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, ChipError> {
        if self.left == 0 {
            return Err(ChipError::CardRemoved);
        }
        self.left -= 1;
        self.log.push(apdu.to_vec());
        Ok(self.card.process(apdu))
    }
}

#[test]
fn iso_write_creates_the_file_and_reads_back() {
    let mut card = IsoCard::new(CardConfig::default());
    assert_eq!(iso::read_payload(&mut card), Err(ChipError::Blank));
    let p = payload(500, 1);
    iso::write_payload(&mut card, &p).unwrap();
    let f = card.file(EF_ID).unwrap();
    assert_eq!(f.len(), EF_SIZE);
    assert_eq!(&f[..2], &[0x01, 0xF4]);
    assert_eq!(&f[2..502], &p[..]);
    assert_eq!(iso::read_payload(&mut card).unwrap(), p);
    // Overwrite with a shorter payload, then the largest one.
    iso::write_payload(&mut card, b"short").unwrap();
    assert_eq!(iso::read_payload(&mut card).unwrap(), b"short");
    let max = payload(MAX_PAYLOAD, 7);
    iso::write_payload(&mut card, &max).unwrap();
    assert_eq!(iso::read_payload(&mut card).unwrap(), max);
    assert_eq!(iso::uid(&mut card).unwrap(), crate::emulator::DEFAULT_UID);
}

#[test]
fn iso_apdus_are_the_documented_ones() {
    let mut t = Flaky {
        card: IsoCard::new(CardConfig::default()),
        left: usize::MAX,
        log: Vec::new(),
    };
    iso::write_payload(&mut t, &payload(598, 0)).unwrap();
    assert_eq!(t.log[0], hex("00A4000C023F00"));
    assert_eq!(t.log[1], hex("00A4020C02E101"));
    assert_eq!(t.log[2], hex("00E000000D620B8201018302E10180020258"));
    assert_eq!(
        t.log[3],
        hex("00D60000020000") /* length prefix zeroed */
    );
    assert!(t.log.iter().all(|a| a.len() <= 5 + 200));
}

#[test]
fn iso_too_large_is_rejected_before_any_apdu() {
    let mut t = Flaky {
        card: IsoCard::new(CardConfig::default()),
        left: 0,
        log: Vec::new(),
    };
    assert_eq!(
        iso::write_payload(&mut t, &payload(MAX_PAYLOAD + 1, 0)),
        Err(ChipError::TooLarge {
            len: MAX_PAYLOAD + 1,
            max: MAX_PAYLOAD
        })
    );
    assert!(t.log.is_empty());
}

#[test]
fn iso_torn_write_reads_as_blank_never_as_a_mix() {
    let mut card = IsoCard::new(CardConfig::default());
    iso::write_payload(&mut card, &payload(400, 1)).unwrap();
    // Pulled after each possible number of APDUs of a second write.
    for n in 0..8 {
        let mut t = Flaky {
            card: card.clone(),
            left: n,
            log: Vec::new(),
        };
        let new = payload(500, 2);
        let r = iso::write_payload(&mut t, &new);
        assert_eq!(r, Err(ChipError::CardRemoved), "pulled after {n} APDUs");
        t.card.reset();
        match iso::read_payload(&mut t.card) {
            Ok(p) => assert!(p == payload(400, 1) || p == new, "after {n}: a mix"),
            Err(e) => assert_eq!(e, ChipError::Blank, "after {n}"),
        }
    }
}

#[test]
fn iso_card_errors_are_reported_with_step_and_status() {
    // A card whose EF is too small for the payload: UPDATE BINARY past the end → 6700.
    let mut card = IsoCard::new(CardConfig::default());
    let small = hex("00E000000D620B8201018302E10180020064"); // 100 bytes
    assert_eq!(card.process(&small), vec![0x90, 0x00]);
    card.reset();
    assert_eq!(
        iso::write_payload(&mut card, &payload(300, 0)),
        Err(ChipError::Apdu {
            step: Step::UpdateBinary,
            sw1: 0x67,
            sw2: 0x00
        })
    );
    // A card refusing large files.
    let mut card = IsoCard::new(CardConfig {
        max_file_size: 256,
        ..CardConfig::default()
    });
    let e = iso::write_payload(&mut card, b"x").unwrap_err();
    assert_eq!(
        e,
        ChipError::Apdu {
            step: Step::CreateFile,
            sw1: 0x6A,
            sw2: 0x84
        }
    );
    assert!(e.message_fa().contains("6A84"));
}

#[test]
fn emulated_card_enforces_file_bounds() {
    let mut card = IsoCard::new(CardConfig::default());
    assert_eq!(card.process(&hex("00A4020C02E101")), hex("6A82"));
    assert_eq!(
        card.process(&hex("00E000000D620B8201018302E10180020258")),
        hex("9000")
    );
    assert_eq!(
        card.process(&hex("00E000000D620B8201018302E10180020258")),
        hex("6986")
    );
    assert_eq!(card.process(&hex("00A4000C023F00")), hex("9000"));
    assert_eq!(
        card.process(&hex("00E000000D620B8201018302E10180020258")),
        hex("6A89")
    );
    assert_eq!(card.process(&hex("00A4020C02E101")), hex("9000"));
    assert_eq!(card.process(&hex("00D6025702AAAA")), hex("6700"));
    assert_eq!(card.process(&hex("00D6025801AA")), hex("6B00"));
    assert_eq!(card.process(&hex("00D6025701AA")), hex("9000"));
    assert_eq!(card.process(&hex("00B0025702")), hex("AA6282"));
    assert_eq!(card.process(&hex("00B0025801")), hex("6B00"));
    assert_eq!(card.process(&hex("FFCA000000")), hex("045C11C42D00019000"));
    assert_eq!(card.process(&hex("0012000000")), hex("6D00"));
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("skillcard-chip-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

#[test]
fn file_writer_round_trip_and_stable_uid() {
    let dir = temp_dir("rt");
    let mut w = FileWriter::new(&dir).unwrap();
    assert_eq!(w.card(), "default");
    assert_eq!(w.read(), Err(ChipError::Blank));
    let p = payload(500, 3);
    w.write(&p).unwrap();
    assert_eq!(w.read().unwrap(), p);
    assert_eq!(std::fs::read(w.path()).unwrap().len(), 502);
    let uid = w.uid().unwrap();
    assert_eq!(uid.len(), 7);
    assert_eq!(FileWriter::new(&dir).unwrap().uid().unwrap(), uid);
    let mut other = FileWriter::for_card(&dir, "card-2").unwrap();
    assert_ne!(other.uid().unwrap(), uid);
    assert_eq!(other.read(), Err(ChipError::Blank));
    // `current` picks the card.
    std::fs::write(dir.join("current"), "card-2\n").unwrap();
    let mut cur = FileWriter::new(&dir).unwrap();
    assert_eq!(cur.card(), "card-2");
    assert_eq!(cur.uid().unwrap(), other.uid().unwrap());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn file_writer_limits_and_errors() {
    let dir = temp_dir("lim");
    let mut w = FileWriter::for_card(&dir, "c").unwrap();
    assert_eq!(
        w.write(&payload(MAX_PAYLOAD + 1, 0)),
        Err(ChipError::TooLarge {
            len: MAX_PAYLOAD + 1,
            max: MAX_PAYLOAD
        })
    );
    w.write(&payload(MAX_PAYLOAD, 0)).unwrap();
    assert_eq!(w.read().unwrap().len(), MAX_PAYLOAD);
    std::fs::write(w.path(), [0xFF, 0xFF, 1]).unwrap();
    assert!(matches!(w.read(), Err(ChipError::Corrupt(_))));
    assert!(FileWriter::for_card(&dir, "../x").is_err());
    assert!(FileWriter::for_card(&dir, "").is_err());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn every_error_has_a_persian_message() {
    let all = [
        ChipError::NoService,
        ChipError::NoReader,
        ChipError::ReaderNotFound("X".into()),
        ChipError::ReaderBusy,
        ChipError::NoCard,
        ChipError::CardRemoved,
        ChipError::CardUnresponsive,
        ChipError::Apdu {
            step: Step::ReadBinary,
            sw1: 0x6B,
            sw2: 0x00,
        },
        ChipError::BadResponse { step: Step::GetUid },
        ChipError::TooLarge { len: 700, max: 598 },
        ChipError::ReadBackMismatch,
        ChipError::Blank,
        ChipError::Corrupt("x".into()),
        ChipError::Reader("x".into()),
        ChipError::Io("x".into()),
    ];
    for e in all {
        let m = e.message_fa();
        assert!(
            m.chars().any(|c| ('\u{0600}'..='\u{06FF}').contains(&c)),
            "{e:?}"
        );
        assert!(!e.to_string().is_empty());
    }
    assert_eq!(
        ChipError::from(pcsc::Error::NoService),
        ChipError::NoService
    );
    assert_eq!(ChipError::from(pcsc::Error::NoSmartcard), ChipError::NoCard);
    assert_eq!(
        ChipError::from(pcsc::Error::RemovedCard),
        ChipError::CardRemoved
    );
}
