//! Card faces (ID-1 pages): page count and size with `pdfinfo`, the Persian text with `pdftotext`,
//! and the QR code decoded back from a 300 dpi rendering (`pdftoppm` + `rqrr`).
//!
//! Needs the fonts (`scripts/fetch-fonts`) and poppler-utils. See `render.rs` for what the text
//! checks can rely on in `pdftotext`'s output. Set `SKILLCARD_DOCS_KEEP=dir` to keep the PDF and
//! the rendered pages.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Instant;

use skillcard_docs::{CardBatch, CardFace, DocsError, Document, Renderer};

fn renderer() -> &'static Renderer {
    static R: OnceLock<Renderer> = OnceLock::new();
    R.get_or_init(|| {
        Renderer::discover().expect("fonts missing: run scripts/fetch-fonts from the repo root")
    })
}

/// A fresh directory for this test's files (kept when `SKILLCARD_DOCS_KEEP` is set).
fn work_dir(name: &str) -> PathBuf {
    let dir = match std::env::var_os("SKILLCARD_DOCS_KEEP") {
        Some(keep) => PathBuf::from(keep).join(name),
        None => std::env::temp_dir().join(format!("skillcard-cards-{}-{name}", std::process::id())),
    };
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn cleanup(dir: &Path) {
    if std::env::var_os("SKILLCARD_DOCS_KEEP").is_none() {
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// The text of each page (pdftotext ends every page with a form feed), without ZWNJ and the bidi
/// marks, whitespace runs squashed to one space.
fn page_texts(pdf: &[u8]) -> Vec<String> {
    let mut child = Command::new("pdftotext")
        .args(["-enc", "UTF-8", "-", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("pdftotext (poppler-utils) is needed for these tests");
    child.stdin.take().unwrap().write_all(pdf).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "pdftotext failed");
    let text: String = String::from_utf8(out.stdout)
        .unwrap()
        .chars()
        .filter(|c| !matches!(c, '\u{200C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'))
        .collect();
    let mut pages: Vec<String> = text
        .split('\x0c')
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    if pages.last().is_some_and(|p| p.is_empty()) {
        pages.pop();
    }
    pages
}

fn assert_contains_all(text: &str, needles: &[&str]) {
    let missing: Vec<&&str> = needles.iter().filter(|n| !text.contains(**n)).collect();
    assert!(missing.is_empty(), "missing {missing:?} in:\n{text}");
}

/// Persian digits for the Latin digits of `x`.
fn fa(x: &str) -> String {
    x.chars()
        .map(|c| match c.to_digit(10) {
            Some(d) => char::from_u32(0x06F0 + d).unwrap(),
            None => c,
        })
        .collect()
}

/// A signed-credential-like QR payload: "SC1:" and base32 characters, 530 in all.
fn qr_payload(seed: u32) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut state = seed;
    let mut s = String::from("SC1:");
    while s.len() < 530 {
        state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        s.push(ALPHABET[(state >> 16) as usize % 32] as char);
    }
    s
}

/// A small portrait: a vertical gradient with a darker "head".
fn photo(format: image::ImageFormat) -> Vec<u8> {
    let img = image::RgbImage::from_fn(90, 120, |x, y| {
        let dx = x as i32 - 45;
        let dy = y as i32 - 45;
        if dx * dx + dy * dy < 28 * 28 || (y > 80 && (x as i32 - 45).abs() < 40) {
            image::Rgb([70, 50, 40])
        } else {
            image::Rgb([180, 200, (120 + y) as u8])
        }
    });
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, format).unwrap();
    out.into_inner()
}

fn card(i: u64, photo: Option<Vec<u8>>) -> CardFace {
    let names = [
        ("علی", "رضایی", "محمد"),
        ("مریم", "احمدی‌نژاد", "حسین"),
        ("سید محمدحسین", "میرزاده‌طباطبایی", "سید جواد"),
    ];
    let (given, family, father) = names[(i % 3) as usize];
    CardFace {
        certificate_no: format!("14051200{:04}", 345 + i),
        given_name: given.into(),
        family_name: family.into(),
        father_name: father.into(),
        national_id: format!("12700{:05}", 45_678 + i),
        birth_date: "1380/01/15".into(),
        trade_title: if i % 3 == 2 {
            "تعمیرکار سیستم‌های برق و الکترونیک خودروهای سواری و سبک".into()
        } else {
            "جوشکار سازه‌های فولادی".into()
        },
        standard_code: format!("7212-15-001-{}", i + 1),
        final_score: "87.5".into(),
        issue_date: "1405/09/03".into(),
        province: "اصفهان".into(),
        card_serial: 1_405_000_100 + i,
        photo,
        qr_text: qr_payload(i as u32 + 7),
    }
}

fn pdfinfo(pdf_path: &Path, extra: &[&str]) -> String {
    let out = Command::new("pdfinfo")
        .args(extra)
        .arg(pdf_path)
        .output()
        .expect("pdfinfo (poppler-utils) is needed for these tests");
    assert!(out.status.success(), "pdfinfo failed");
    String::from_utf8(out.stdout).unwrap()
}

/// Renders page `page` (1-based) at 300 dpi and decodes the QR codes found on it with `rqrr`.
///
/// The page is rendered without anti-aliasing, as a 300 dpi card printer prints it (dots are ink
/// or no ink): `rqrr` misses some anti-aliased renderings that phones and `zbarimg` read.
fn decode_qr(pdf_path: &Path, page: usize, dir: &Path) -> Vec<String> {
    let prefix = dir.join(format!("page-{page}"));
    let status = Command::new("pdftoppm")
        .args([
            "-r",
            "300",
            "-aa",
            "no",
            "-aaVector",
            "no",
            "-png",
            "-singlefile",
        ])
        .args(["-f", &page.to_string(), "-l", &page.to_string()])
        .arg(pdf_path)
        .arg(&prefix)
        .status()
        .expect("pdftoppm (poppler-utils) is needed for these tests");
    assert!(status.success(), "pdftoppm failed");
    let img = image::open(prefix.with_extension("png"))
        .unwrap()
        .to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(
        img.width() as usize,
        img.height() as usize,
        |x, y| img.get_pixel(x as u32, y as u32)[0],
    );
    prepared
        .detect_grids()
        .into_iter()
        .map(|grid| grid.decode().expect("QR decodes").1)
        .collect()
}

/// When `zbarimg` (Debian's zbar-tools) is installed: the QR codes it reads on page `page`
/// rendered at 300 dpi with anti-aliasing, as a screen shows it. `None` without zbarimg.
fn zbar_qr(pdf_path: &Path, page: usize, dir: &Path) -> Option<Vec<String>> {
    let prefix = dir.join(format!("page-{page}-aa"));
    let status = Command::new("pdftoppm")
        .args(["-r", "300", "-png", "-singlefile"])
        .args(["-f", &page.to_string(), "-l", &page.to_string()])
        .arg(pdf_path)
        .arg(&prefix)
        .status()
        .expect("pdftoppm (poppler-utils) is needed for these tests");
    assert!(status.success(), "pdftoppm failed");
    let out = Command::new("zbarimg")
        .args(["-q", "--raw", "-Sdisable", "-Sqrcode.enable"])
        .arg(prefix.with_extension("png"))
        .stderr(Stdio::null())
        .output()
        .ok()?;
    Some(
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect(),
    )
}

#[test]
fn card_batch_of_three_front_and_back() {
    let cards = vec![
        card(0, None),
        card(1, Some(photo(image::ImageFormat::Png))),
        card(2, Some(photo(image::ImageFormat::Jpeg))),
    ];
    let doc = Document::CardBatch(CardBatch {
        cards: cards.clone(),
    });
    let start = Instant::now();
    let rendered = renderer().render_with_info(&doc).unwrap();
    eprintln!(
        "3 cards: {} pages, {} bytes, rendered in {:?}",
        rendered.pages,
        rendered.pdf.len(),
        start.elapsed()
    );
    assert_eq!(rendered.pages, 6);

    let dir = work_dir("batch-of-three");
    let pdf_path = dir.join("cards.pdf");
    std::fs::write(&pdf_path, &rendered.pdf).unwrap();

    // ID-1: 85.60 × 53.98 mm = 242.65 × 153.01 pt, on every page.
    let info = pdfinfo(&pdf_path, &["-f", "1", "-l", "6"]);
    assert!(info.contains("Pages:           6"), "{info}");
    let sizes: Vec<(f64, f64)> = info
        .lines()
        .filter(|l| l.starts_with("Page") && l.contains(" size: "))
        .map(|l| {
            let dims = l.split(" size: ").nth(1).unwrap();
            let mut it = dims.split_whitespace();
            let w: f64 = it.next().unwrap().parse().unwrap();
            assert_eq!(it.next(), Some("x"));
            let h: f64 = it.next().unwrap().parse().unwrap();
            (w, h)
        })
        .collect();
    assert_eq!(sizes.len(), 6, "{info}");
    for (w, h) in sizes {
        assert!(
            (w - 242.65).abs() <= 0.5 && (h - 153.01).abs() <= 0.5,
            "{w} x {h}"
        );
    }

    let pages = page_texts(&rendered.pdf);
    assert_eq!(pages.len(), 6, "{pages:#?}");
    for (i, c) in cards.iter().enumerate() {
        let front = &pages[2 * i];
        let back = &pages[2 * i + 1];
        assert_contains_all(
            front,
            &[
                "سازمان آموزش فنی و حرفهای کشور",
                "گواهینامه مهارت",
                "نام و نام خانوادگی",
                &c.given_name,
                &c.family_name.replace('\u{200C}', ""),
                "نام پدر",
                &c.father_name,
                "کد ملی",
                &fa(&c.national_id),
                "تاریخ تولد",
                "۱۳۸۰/۰۱/۱۵",
                "حرفه",
                "کد استاندارد",
                "نمره",
                "۸۷",
                "تاریخ صدور",
                "۱۴۰۵/۰۹/۰۳",
                "شماره گواهینامه",
                &fa(&c.certificate_no),
            ],
        );
        assert_eq!(
            front.contains("عکس"),
            c.photo.is_none(),
            "photo placeholder on card {i}: {front}"
        );
        assert!(
            !front.chars().any(|ch| ch.is_ascii_digit()),
            "Latin digits on the front of card {i}: {front}"
        );

        assert_contains_all(
            back,
            &[
                "شماره سریال کارت",
                &fa(&c.card_serial.to_string()),
                "استان اصفهان",
                // «برای استعلام اصالت، رمزینه را اسکن کنید»: pdftotext reads the lam-alef
                // ligature as «ال» and moves the comma.
                "برای استع",
                "اصالت",
                "رمزینه را اسکن کنید",
                // The certificate number in Persian digits, and its small Latin copy: the only
                // Latin digits on the card.
                &fa(&c.certificate_no),
                &c.certificate_no,
            ],
        );
        let latin: String = back.chars().filter(|ch| ch.is_ascii_digit()).collect();
        assert_eq!(latin, c.certificate_no, "Latin digits on the back: {back}");

        // The QR code on the back decodes to the credential.
        let decoded = decode_qr(&pdf_path, 2 * i + 2, &dir);
        assert_eq!(decoded, vec![c.qr_text.clone()], "card {i}");
        if let Some(decoded) = zbar_qr(&pdf_path, 2 * i + 2, &dir) {
            assert_eq!(decoded, vec![c.qr_text.clone()], "card {i}, zbarimg");
        }
    }
    cleanup(&dir);
}

#[test]
fn card_photo_serialises_as_base64() {
    let mut c = card(0, Some(vec![0x89, b'P', b'N', b'G', 0, 255]));
    let json = serde_json::to_value(&c).unwrap();
    assert_eq!(json["photo"], "iVBORwD/");
    let back: CardFace = serde_json::from_value(json).unwrap();
    assert_eq!(back, c);

    c.photo = None;
    let json = serde_json::to_value(&c).unwrap();
    assert!(json["photo"].is_null());
    let back: CardFace = serde_json::from_value(json).unwrap();
    assert_eq!(back, c);
}

#[test]
fn a_photo_that_is_not_png_or_jpeg_is_rejected() {
    let doc = Document::CardBatch(CardBatch {
        cards: vec![card(0, Some(b"GIF89a....".to_vec()))],
    });
    let err = renderer().render(&doc);
    assert!(matches!(err, Err(DocsError::Invalid(_))), "{err:?}");
}

#[test]
fn an_empty_batch_is_rejected() {
    let err = renderer().render(&Document::CardBatch(CardBatch::default()));
    assert!(matches!(err, Err(DocsError::Invalid(_))), "{err:?}");
}

/// A batch for the card printer: 100 cards, 200 pages. `--nocapture` shows the render time.
#[test]
fn card_batch_of_one_hundred() {
    let png = photo(image::ImageFormat::Png);
    let cards: Vec<CardFace> = (0..100)
        .map(|i| card(i, (i % 2 == 1).then(|| png.clone())))
        .collect();
    let doc = Document::CardBatch(CardBatch { cards });
    renderer();
    for run in 1..=2 {
        let start = Instant::now();
        let rendered = renderer().render_with_info(&doc).unwrap();
        eprintln!(
            "100 cards, run {run}: {} pages, {} bytes, rendered in {:?}",
            rendered.pages,
            rendered.pdf.len(),
            start.elapsed()
        );
        assert_eq!(rendered.pages, 200);
        // Laid out in chunks on several cores, the pages still come card by card, front then
        // back, in the batch's order.
        let texts = page_texts(&rendered.pdf);
        assert_eq!(texts.len(), 200);
        for i in 0..100u64 {
            let c = card(i, None);
            let (front, back) = (&texts[2 * i as usize], &texts[2 * i as usize + 1]);
            assert!(
                front.contains(&fa(&c.national_id)),
                "page {}: {front}",
                2 * i
            );
            assert!(
                back.contains(&c.certificate_no),
                "page {}: {back}",
                2 * i + 1
            );
        }
    }
}
