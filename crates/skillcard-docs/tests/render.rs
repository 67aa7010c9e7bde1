//! Renders every document from realistic data and checks the PDF's text with `pdftotext`.
//!
//! Needs the fonts (`scripts/fetch-fonts`) and poppler's `pdftotext`.
//!
//! About the assertions: `pdftotext` (plain mode, no `-layout`) returns the Persian text in logical
//! order, but how it splits lines and spaces around runs of a different direction (digits inside
//! right-to-left text) and whether it keeps the zero-width non-joiner (U+200C) is not something to
//! rely on. So the checks are on whole words and on whole runs of Persian digits (a date such as
//! ۱۴۰۵/۰۹/۰۳ is one run), after dropping U+200C, and the order checks compare positions of such
//! tokens rather than exact sentences. Two more pdftotext quirks: the lam-alef ligature (لا) comes
//! back as «ال» (so «سلام» reads «سالم»), and a colon after a label may move to the other side of
//! the value; the needles below avoid both.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Instant;

use skillcard_docs::{
    DamageLetter, DamageLetterRow, Document, Form1, Form2, Form3, Form4, Form5, Form5Row, Form6,
    Form6Row, HandoverLetter, LedgerRow, Person, ReceiptNotice, Renderer, ReplacementFeeNotice,
    SerialRangeRow,
};

fn renderer() -> &'static Renderer {
    static R: OnceLock<Renderer> = OnceLock::new();
    R.get_or_init(|| {
        Renderer::discover().expect("fonts missing: run scripts/fetch-fonts from the repo root")
    })
}

/// The PDF's text, via `pdftotext file.pdf -`, without ZWNJ and without the bidi embedding marks
/// (U+202A..U+202E) that pdftotext puts around every right-to-left line.
fn pdf_text(pdf: &[u8]) -> String {
    let mut child = Command::new("pdftotext")
        .args(["-enc", "UTF-8", "-", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("pdftotext (poppler-utils) is needed for these tests");
    child.stdin.take().unwrap().write_all(pdf).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "pdftotext failed");
    String::from_utf8(out.stdout)
        .unwrap()
        .chars()
        .filter(|c| !matches!(c, '\u{200C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'))
        .collect()
}

fn render(doc: &Document) -> (String, usize) {
    let start = Instant::now();
    let rendered = renderer().render_with_info(doc).unwrap();
    eprintln!(
        "{}: {} page(s), {} bytes, rendered in {:?}",
        doc.slug(),
        rendered.pages,
        rendered.pdf.len(),
        start.elapsed()
    );
    assert!(rendered.pdf.starts_with(b"%PDF-"));
    if let Some(dir) = std::env::var_os("SKILLCARD_DOCS_KEEP") {
        std::fs::write(
            std::path::Path::new(&dir).join(format!("{}.pdf", doc.slug())),
            &rendered.pdf,
        )
        .unwrap();
    }
    (pdf_text(&rendered.pdf), rendered.pages)
}

/// Whitespace runs (line breaks inside a wrapped title or table cell, doubled spaces around digit
/// runs) become one space.
fn squash(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Every needle occurs in the text (needles are written without ZWNJ).
fn assert_contains_all(text: &str, needles: &[&str]) {
    let text = &squash(text);
    let missing: Vec<&&str> = needles.iter().filter(|n| !text.contains(**n)).collect();
    assert!(missing.is_empty(), "missing {missing:?} in:\n{text}");
}

/// The needles occur in this order (first occurrence of each, after the previous one).
fn assert_in_order(text: &str, needles: &[&str]) {
    let text = &squash(text);
    let mut from = 0;
    for needle in needles {
        match text[from..].find(needle) {
            Some(i) => from += i + needle.len(),
            None => {
                panic!("{needle:?} not found after byte {from} (order {needles:?}) in:\n{text}")
            }
        }
    }
}

fn assert_no_latin_digits(text: &str) {
    let latin: String = text.chars().filter(|c| c.is_ascii_digit()).collect();
    assert!(
        latin.is_empty(),
        "Latin digits printed: {latin:?} in:\n{text}"
    );
}

fn person(name: &str, title: &str) -> Person {
    Person {
        name: name.into(),
        title: title.into(),
    }
}

#[test]
fn form1_minutes_of_receipt() {
    let doc = Document::Form1(Form1 {
        province: "اصفهان".into(),
        shipment_ref: "1405/0077".into(),
        date: "1405/09/03".into(),
        declared_count: 500,
        received_count: 497,
        ranges: vec![
            SerialRangeRow::new(100001, 100300),
            SerialRangeRow::new(100304, 100500),
        ],
        missing: vec![SerialRangeRow::new(100301, 100302)],
        damaged: vec![SerialRangeRow::new(100303, 100303)],
        remarks: "یک بسته دارای پارگی در لفاف بیرونی بود.".into(),
        deliverer: person("حسین کاظمی", "نماینده دفتر ارزشیابی مهارت"),
        receiver: person("زهرا موسوی", "مسئول حراست استان"),
    });
    let (text, pages) = render(&doc);
    assert_eq!(pages, 1);
    assert_contains_all(
        &text,
        &[
            "سازمان آموزش فنی و حرفهای کشور",
            "اصفهان",
            "صورتجلسه تحویل گواهینامه خام الکترونیکی",
            "۱۴۰۵/۰۹/۰۳",
            "۱۴۰۵/۰۰۷۷",
            "۴۹۷",
            "۵۰۰",
            "۱۰۰۰۰۱",
            "۱۰۰۳۰۰",
            "۱۰۰۳۰۴",
            "۱۰۰۵۰۰",
            "۱۰۰۳۰۱",
            "۱۰۰۳۰۳",
            "بستهبندی سالم",
            "مسئول حراست استان",
            "کسری",
            "آسیبدیده",
            "پارگی",
            "تحویل دهنده",
            "تحویل گیرنده",
            "حسین کاظمی",
            "زهرا موسوی",
            "امضاء",
        ],
    );
    // The opening sentence of the form, in logical order.
    assert_in_order(
        &text,
        &[
            "در تاریخ",
            "۱۴۰۵/۰۹/۰۳",
            "تعداد",
            "۴۹۷",
            "فقره گواهینامه خام",
        ],
    );
    assert_no_latin_digits(&text);
}

#[test]
fn form1_single_range_names_the_serials_in_the_sentence() {
    let doc = Document::Form1(Form1 {
        province: "قم".into(),
        shipment_ref: "9".into(),
        date: "1405/01/15".into(),
        declared_count: 200,
        received_count: 200,
        ranges: vec![SerialRangeRow::new(200001, 200200)],
        missing: vec![],
        damaged: vec![],
        remarks: String::new(),
        deliverer: person("الف", "ب"),
        receiver: person("پ", "ت"),
    });
    let (text, _) = render(&doc);
    assert_in_order(
        &text,
        &["از شماره سریال", "۲۰۰۰۰۱", "تا شماره سریال", "۲۰۰۲۰۰"],
    );
    // No missing/damaged tables when there is nothing to list.
    assert!(!text.contains("شمارههای سریال دریافتنشده"), "{text}");
    assert!(!text.contains("کارتهای آسیبدیده"), "{text}");
}

fn ledger(rows: usize) -> Form2 {
    let mut balance = 10_000u64;
    let mut next_out = 500_001u64;
    let mut next_in = 600_001u64;
    let mut out = Vec::with_capacity(rows);
    for i in 0..rows {
        let day = (i % 30) + 1;
        let month = (i / 30) % 12 + 1;
        if i % 10 == 0 {
            out.push(LedgerRow {
                date: format!("1405/{month:02}/{day:02}"),
                in_from: Some(next_in),
                in_to: Some(next_in + 99),
                in_count: Some(100),
                out_from: None,
                out_to: None,
                out_count: None,
                balance: balance + 100,
            });
            next_in += 100;
            balance += 100;
        } else {
            out.push(LedgerRow {
                date: format!("1405/{month:02}/{day:02}"),
                in_from: None,
                in_to: None,
                in_count: None,
                out_from: Some(next_out),
                out_to: Some(next_out + 9),
                out_count: Some(10),
                balance: balance - 10,
            });
            next_out += 10;
            balance -= 10;
        }
    }
    Form2 {
        province: "خراسان رضوی".into(),
        from_date: "1405/01/01".into(),
        to_date: "1405/12/29".into(),
        opening_balance: 10_000,
        rows: out,
        closing_balance: balance,
    }
}

#[test]
fn form2_small_inventory() {
    let form = ledger(3);
    let (text, pages) = render(&Document::Form2(form));
    assert_eq!(pages, 1);
    assert_contains_all(
        &text,
        &[
            "فرم آمار موجودی کارتها",
            "تاریخ",
            "تعداد ورود کارت به مخزن",
            "تعداد خروج کارت از مخزن",
            // The balance header wraps in its two-row cell and pdftotext interleaves its second
            // line with the next header row, so only its first line is checked.
            "مانده موجودی",
            "از شماره",
            "تا شماره",
            "خراسان رضوی",
            "۱۴۰۵/۰۱/۰۱",
            "۶۰۰۰۰۱",
            "۶۰۰۱۰۰",
            "۵۰۰۰۰۱",
            "۵۰۰۰۱۰",
            "۱۰۱۰۰",
            "۱۰۰۹۰",
            "۱۰۰۸۰",
            "موجودی پایان دوره",
        ],
    );
    // Rows come out in order: the first row's serials before the second's.
    assert_in_order(&text, &["۶۰۰۰۰۱", "۵۰۰۰۰۱", "۵۰۰۰۱۱"]);
    assert_no_latin_digits(&text);
}

#[test]
fn form2_three_thousand_rows_breaks_across_pages_with_repeated_header() {
    let form = ledger(3000);
    let last_balance = form.closing_balance;
    let (text, pages) = render(&Document::Form2(form));
    assert!(pages >= 20, "3,000 rows on only {pages} pages");
    // The grouped header repeats on every page that carries ledger rows (pdftotext separates
    // pages with form feeds). The signature blocks may end up alone on the last page.
    let page_texts: Vec<String> = text.split('\u{000C}').map(squash).collect();
    let table_pages: Vec<&String> = page_texts.iter().filter(|p| p.contains("۱۴۰۵/")).collect();
    assert!(
        table_pages.len() >= 20,
        "rows on only {} pages",
        table_pages.len()
    );
    for (i, page) in table_pages.iter().enumerate() {
        assert!(
            page.contains("تعداد ورود کارت به مخزن")
                && page.contains("تعداد خروج کارت از مخزن")
                && page.contains("مانده موجودی"),
            "header missing on page {}",
            i + 1
        );
    }
    // The last ledger row (balance 13000 on 1405/04/30) and the closing balance are on the last
    // page of the table, after its header.
    let last = table_pages.last().unwrap();
    let closing = last_balance
        .to_string()
        .chars()
        .map(|c| char::from_u32(c as u32 - '0' as u32 + 0x06F0).unwrap())
        .collect::<String>();
    assert_in_order(
        last,
        &["مانده موجودی", "۱۴۰۵/۰۴/۳۰", "۵۲۷۰۰۰", "موجودی پایان دوره"],
    );
    assert!(
        last.contains("موجودی پایان دوره") && last.contains(&closing),
        "{last}"
    );
}

#[test]
fn form3_request_to_security() {
    let doc = Document::Form3(Form3 {
        province: "فارس".into(),
        request_no: "1405/S/412".into(),
        date: "1405/09/03".into(),
        month_label: "آذر 1405".into(),
        count: 250,
        cap: 320,
        representative: "مریم احمدی".into(),
        head: person("علیرضا رضایی", ""),
    });
    let (text, pages) = render(&doc);
    assert_eq!(pages, 1);
    assert_contains_all(
        &text,
        &[
            "مسئول محترم حراست",
            "خواهشمند است",
            "کارت الکترونیکی خام",
            "مریم احمدی",
            "علیرضا رضایی",
            "رئیس اداره سنجش و ارزشیابی مهارت استان فارس",
            "۲۵۰",
            "۳۲۰",
            "آذر ۱۴۰۵",
            "۱۴۰۵/۰۹/۰۳",
            "۱۴۰۵/S/۴۱۲",
        ],
    );
    assert_in_order(
        &text,
        &["تعداد", "۲۵۰", "کارت الکترونیکی خام", "مریم احمدی", "گردد"],
    );
    assert_no_latin_digits(&text);
}

#[test]
fn form4_minutes_of_handover_to_assessment() {
    let doc = Document::Form4(Form4 {
        province: "اصفهان".into(),
        handover_no: "88".into(),
        date: "1405/09/05".into(),
        request_date: "1405/09/03".into(),
        count: 250,
        ranges: vec![SerialRangeRow::new(100001, 100250)],
        remarks: String::new(),
        deliverer: person("زهرا موسوی", "مسئول حراست استان"),
        receiver: person("مریم احمدی", "نماینده اداره سنجش"),
    });
    let (text, _) = render(&doc);
    assert_contains_all(
        &text,
        &[
            "صورتجلسه تحویل گواهینامه خام الکترونیکی",
            "طبق درخواست",
            "مورخ",
            "نماینده اداره سنجش استان",
            "زهرا موسوی",
            "مریم احمدی",
        ],
    );
    assert_in_order(
        &text,
        &[
            "در تاریخ",
            "۱۴۰۵/۰۹/۰۵",
            "۲۵۰",
            "مورخ",
            "۱۴۰۵/۰۹/۰۳",
            "۱۰۰۰۰۱",
            "۱۰۰۲۵۰",
        ],
    );
    assert_no_latin_digits(&text);
}

#[test]
fn receipt_notice_to_hq() {
    let doc = Document::ReceiptNotice(ReceiptNotice {
        province: "اصفهان".into(),
        letter_no: "12/3456".into(),
        date: "1405/09/04".into(),
        shipment_ref: "1405/0077".into(),
        declared_count: 500,
        received_count: 497,
        missing_count: 2,
        damaged_count: 1,
        ranges: vec![
            SerialRangeRow::new(100001, 100300),
            SerialRangeRow::new(100304, 100500),
        ],
        signer: person("محمد حسینی", "مدیر کل آموزش فنی و حرفهای استان اصفهان"),
    });
    let (text, _) = render(&doc);
    assert_contains_all(
        &text,
        &[
            "دفتر ارزشیابی مهارت",
            "دریافت و وصول",
            "۱۲/۳۴۵۶",
            "۱۴۰۵/۰۹/۰۴",
            "۱۴۰۵/۰۰۷۷",
            "۴۹۷",
            "۵۰۰",
            "کسری",
            "۱۰۰۰۰۱",
            "۱۰۰۵۰۰",
            "محمد حسینی",
        ],
    );
    assert_no_latin_digits(&text);
}

#[test]
fn handover_letter_to_assessment() {
    let doc = Document::HandoverLetter(HandoverLetter {
        province: "اصفهان".into(),
        letter_no: "H/91".into(),
        date: "1405/09/05".into(),
        request_no: "1405/S/412".into(),
        count: 250,
        ranges: vec![
            SerialRangeRow::new(100001, 100200),
            SerialRangeRow::new(100401, 100450),
        ],
        signer: person("زهرا موسوی", ""),
    });
    let (text, _) = render(&doc);
    assert_contains_all(
        &text,
        &[
            "اداره سنجش و ارزشیابی مهارت استان اصفهان",
            "بازگشت به درخواست شماره",
            "۱۴۰۵/S/۴۱۲",
            "۲۵۰",
            "۱۰۰۰۰۱",
            "۱۰۰۲۰۰",
            "۱۰۰۴۰۱",
            "۱۰۰۴۵۰",
            "مسئول حراست استان اصفهان",
            "زهرا موسوی",
        ],
    );
    assert_no_latin_digits(&text);
}

#[test]
fn renderer_is_shared_across_threads() {
    let doc = Document::Form3(Form3 {
        province: "یزد".into(),
        request_no: "1".into(),
        date: "1405/02/02".into(),
        month_label: "اردیبهشت 1405".into(),
        count: 10,
        cap: 10,
        representative: "الف".into(),
        head: person("ب", ""),
    });
    let r = renderer();
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..4).map(|_| s.spawn(|| r.render(&doc))).collect();
        for h in handles {
            assert!(h.join().unwrap().unwrap().starts_with(b"%PDF-"));
        }
    });
}

/// Latin digits → Persian digits, as the templates print them.
fn fa(x: impl ToString) -> String {
    x.to_string()
        .chars()
        .map(|c| match c.to_digit(10) {
            Some(d) => char::from_u32(0x06F0 + d).unwrap(),
            None => c,
        })
        .collect()
}

/// A valid Iranian national code from a number (nine digits and the published check digit).
fn national_id(n: u64) -> String {
    let body = format!("{:09}", 100_000_000 + n % 900_000_000);
    let sum: u32 = body
        .bytes()
        .enumerate()
        .map(|(i, b)| u32::from(b - b'0') * (10 - i as u32))
        .sum();
    let r = sum % 11;
    format!("{body}{}", if r < 2 { r } else { 11 - r })
}

const GIVEN: [&str; 8] = [
    "مریم",
    "علی",
    "زهرا",
    "حسین",
    "فاطمه",
    "محمدرضا",
    "نرگس",
    "امیر",
];
const FAMILY: [&str; 7] = [
    "احمدی",
    "کریمی",
    "موسوی",
    "رضایی",
    "حسینی",
    "جعفری",
    "نوروزی",
];

/// Form 5's column headers. A header that wraps in its cell comes back from pdftotext with its
/// lines interleaved with the neighbouring cells', so each is checked by a word that stays on one
/// line.
fn assert_form5_header(text: &str) {
    assert_contains_all(
        text,
        &[
            "ردیف",
            "ذینفع",
            "کد ملی",
            "سریال",
            "صدور",
            "مرکز یا آموزشگاه",
            "تحویل گیرنده",
            "امضاء",
        ],
    );
}

/// A delivery list of `n` certificates from two centres; every third card already handed over in
/// person, every fifth (of the others) sent by post, the rest left for the receiver to fill in.
fn delivery_list(n: usize) -> Form5 {
    let rows = (0..n)
        .map(|i| {
            let full_name = format!("{} {}", GIVEN[i % GIVEN.len()], FAMILY[i % FAMILY.len()]);
            let (receiver, note) = if i % 3 == 0 {
                (full_name.clone(), "حضوری 1405/09/10".to_owned())
            } else if i % 5 == 1 {
                (
                    full_name.clone(),
                    format!("پست: {}", 681_234_500_000u64 + i as u64),
                )
            } else {
                (String::new(), String::new())
            };
            Form5Row {
                full_name,
                national_id: national_id(2_000 + i as u64),
                card_serial: 300_001 + i as u64,
                issue_date: format!("1405/09/{:02}", 1 + i % 7),
                centre: if i % 2 == 0 {
                    "مرکز شماره 2 اصفهان".into()
                } else {
                    "آموزشگاه آزاد فن آوران".into()
                },
                receiver,
                note,
            }
        })
        .collect();
    Form5 {
        province: "اصفهان".into(),
        list_no: "1405/D/17".into(),
        date: "1405/09/12".into(),
        group: "مرکز شماره 2 اصفهان".into(),
        rows,
        deliverer: person("سعید نوری", "مسئول تحویل گواهینامه"),
    }
}

#[test]
fn form5_delivery_minutes_small_list() {
    let mut form = delivery_list(4);
    form.group = String::new();
    let (text, pages) = render(&Document::Form5(form));
    assert_eq!(pages, 1);
    assert_contains_all(
        &text,
        &[
            "صورتجلسه تحویل گواهینامه به",
            "ذینفعان",
            "پیوست شماره",
            "اداره سنجش و ارزشیابی مهارت",
            "امضاء",
            "۱۴۰۵/۰۹/۱۲",
            "۱۴۰۵/D/۱۷",
            "۳۰۰۰۰۱",
            "۳۰۰۰۰۴",
            "۱۴۰۵/۰۹/۰۴",
            "آموزشگاه آزاد فن آوران",
            "حضوری",
            "۱۴۰۵/۰۹/۱۰",
            "۶۸۱۲۳۴۵۰۰۰۰۱",
            "مریم احمدی",
            "سعید نوری",
            "مسئول تحویل گواهینامه",
        ],
    );
    assert_form5_header(&text);
    assert!(text.contains(&fa(national_id(2_000))), "{text}");
    // Rows in order, and the count line after the table.
    assert_in_order(
        &text,
        &[
            "۳۰۰۰۰۱",
            "۳۰۰۰۰۲",
            "۳۰۰۰۰۳",
            "۳۰۰۰۰۴",
            "تعداد گواهینامههای این صورتجلسه",
            "۴",
            "فقره",
        ],
    );
    // No group: no «مرکز یا آموزشگاه:» line above the table (only the column header).
    assert_eq!(
        squash(&text).matches("مرکز یا آموزشگاه").count(),
        1,
        "{text}"
    );
    assert_no_latin_digits(&text);
}

#[test]
fn form5_thousand_rows_breaks_across_pages_with_repeated_header() {
    let form = delivery_list(1_000);
    let start = Instant::now();
    let (text, pages) = render(&Document::Form5(form));
    let took = start.elapsed();
    assert!(pages >= 10, "1,000 rows on only {pages} pages");
    // Debug builds of this crate compile typst optimised (profile.dev.package."*"), so even a
    // test build should stay far below this; the release-mode target is checked by the bench.
    assert!(took.as_secs() < 30, "1,000 rows took {took:?}");
    let page_texts: Vec<String> = text.split('\u{000C}').map(squash).collect();
    let table_pages: Vec<&String> = page_texts
        .iter()
        .filter(|p| p.contains("۱۴۰۵/۰۹/۰"))
        .collect();
    assert!(
        table_pages.len() >= 10,
        "rows on only {} pages",
        table_pages.len()
    );
    // The header repeats on every page of the table, e.g. on a page in the middle, which holds
    // neither the first nor the last row.
    for page in &table_pages {
        assert_form5_header(page);
    }
    let later = table_pages[table_pages.len() / 2];
    assert!(
        !later.contains("۳۰۰۰۰۱") && !later.contains("۳۰۱۰۰۰"),
        "{later}"
    );
    assert_form5_header(later);
    // The last row (serial 301000) is on the last page of the table, with the count and the
    // deliverer after it.
    let last = page_texts
        .iter()
        .rposition(|p| p.contains("۳۰۱۰۰۰"))
        .expect("the last row's serial is printed");
    let tail = page_texts[last..].join(" ");
    assert_in_order(
        &tail,
        &[
            "۳۰۱۰۰۰",
            "تعداد گواهینامههای این صورتجلسه",
            "۱۰۰۰",
            "فقره",
            "سعید نوری",
            "امضاء",
        ],
    );
    // The first page has the letterhead, the group and the first row.
    assert_contains_all(
        &page_texts[0],
        &[
            "صورتجلسه تحویل گواهینامه به",
            "ذینفعان",
            "مرکز یا آموزشگاه",
            "۳۰۰۰۰۱",
        ],
    );
    assert!(page_texts[0].contains("مرکز شماره ۲"), "{}", page_texts[0]);
    assert_no_latin_digits(&text);
}

#[test]
fn form6_damaged_certificate_minutes() {
    let causes = [
        ("گیر کردن کارت در چاپگر", "نقص فنی چاپگر؛ نیاز به چاپ مجدد"),
        ("خطای رایت تراشه", "تراشه معیوب؛ نیاز به چاپ مجدد"),
        ("ترک خوردگی کارت", "ایراد کارت خام؛ نیاز به چاپ مجدد"),
    ];
    let rows = causes
        .iter()
        .enumerate()
        .map(|(i, (cause, outcome))| Form6Row {
            full_name: format!("{} {}", GIVEN[i], FAMILY[i]),
            national_id: national_id(5_000 + i as u64),
            card_serial: 400_117 + 13 * i as u64,
            issue_date: format!("1405/09/0{}", 3 + i),
            cause: (*cause).into(),
            outcome: (*outcome).into(),
        })
        .collect();
    let doc = Document::Form6(Form6 {
        province: "اصفهان".into(),
        minutes_no: "1405/M/6".into(),
        date: "1405/09/08".into(),
        rows,
        clerk: person("نرگس جعفری", "کارشناس صدور گواهینامه"),
        officer: person("امیر نوروزی", "کارشناس مسئول سنجش"),
        head: person("علیرضا رضایی", "رئیس اداره سنجش"),
    });
    let (text, pages) = render(&doc);
    assert_eq!(pages, 1);
    assert_contains_all(
        &text,
        &[
            "صورتجلسه گواهینامه مخدوشی",
            "پیوست شماره",
            "۱۴۰۵/M/۶",
            // Table headers, by words that do not wrap in their cells.
            "ردیف",
            "ذینفع",
            "کد ملی",
            "سریال",
            "تاریخ صدور",
            "علت مخدوشی",
            "نتیجه بررسی",
            "۴۰۰۱۱۷",
            "۴۰۰۱۳۰",
            "۴۰۰۱۴۳",
            "چاپگر",
            "خطای رایت تراشه",
            "ترک خوردگی کارت",
            "نیاز به چاپ مجدد",
            "امضاء کنندگان",
            "کارشناس صدور گواهینامه",
            "کارشناس مسئول سنجش",
            "رئیس اداره سنجش و ارزشیابی",
            "مهارت استان اصفهان",
            "نرگس جعفری",
            "امیر نوروزی",
            "علیرضا رضایی",
        ],
    );
    for i in 0..3 {
        assert!(text.contains(&fa(national_id(5_000 + i))), "{text}");
    }
    // The opening sentence of the form, in logical order; the rows in order.
    assert_in_order(
        &text,
        &[
            "در تاریخ",
            "۱۴۰۵/۰۹/۰۸",
            "با حضور امضاء کنندگان ذیل این صورتجلسه",
            "نسبت به بررسی", // «دلایل» has the lam-alef ligature
            "مخدوشی کارتهای الکترونیکی",
            "مندرج در جدول اقدام گردید",
            "۴۰۰۱۱۷",
            "۴۰۰۱۳۰",
            "۴۰۰۱۴۳",
        ],
    );
    assert_no_latin_digits(&text);
}

/// A clause number such as ۸-۱-۱ is printed right to left (۸ rightmost, as Persian readers
/// expect), and pdftotext returns its parts in either order: accept both.
fn assert_clause(text: &str, clause: &str) {
    let reversed = clause.split('-').rev().collect::<Vec<_>>().join("-");
    let text = squash(text);
    assert!(
        text.contains(&format!("بند {clause}")) || text.contains(&format!("بند {reversed}")),
        "clause {clause} missing in:\n{text}"
    );
}

fn damage_rows() -> Vec<DamageLetterRow> {
    (0..3)
        .map(|i| DamageLetterRow {
            full_name: format!("{} {}", GIVEN[i + 3], FAMILY[i + 3]),
            national_id: national_id(7_000 + i as u64),
            certificate_no: format!("ESF-1405-{:06}", 812 + i),
            card_serial: 400_117 + 13 * i as u64,
        })
        .collect()
}

#[test]
fn damage_letter_to_hq() {
    let doc = Document::DamageLetter(DamageLetter {
        province: "اصفهان".into(),
        letter_no: "12/7781".into(),
        date: "1405/09/10".into(),
        minutes_no: "1405/M/6".into(),
        minutes_date: "1405/09/08".into(),
        replacement: false,
        rows: damage_rows(),
        signer: person("محمد حسینی", ""),
    });
    let (text, _) = render(&doc);
    assert_contains_all(
        &text,
        &[
            "دفتر ارزشیابی مهارت سازمان آموزش فنی و حرفهای کشور",
            "اصل گواهینامه مخدوشی",
            "صورتجلسه گواهینامه مخدوشی",
            "امکان چاپ مجدد",
            "۱۲/۷۷۸۱",
            "۱۴۰۵/۰۹/۱۰",
            "۱۴۰۵/M/۶",
            "۱۴۰۵/۰۹/۰۸",
            "۴۰۰۱۱۷",
            "۴۰۰۱۳۰",
            "۴۰۰۱۴۳",
            "۰۰۰۸۱۲",
            "۰۰۰۸۱۴",
            "حسین رضایی",
            "محمدرضا جعفری",
            "محمد حسینی",
            "مدیر کل آموزش فنی و حرفهای استان اصفهان",
        ],
    );
    for i in 0..3 {
        assert!(text.contains(&fa(national_id(7_000 + i))), "{text}");
    }
    assert_clause(&text, "۸-۱-۱");
    assert_clause(&text, "۸-۱-۲");
    assert!(!text.contains("ابطال"), "{text}");
    assert_in_order(
        &text,
        &[
            "صورتجلسه",
            "۱۴۰۵/M/۶",
            "مورخ",
            "۱۴۰۵/۰۹/۰۸",
            "اصل",
            "۳",
            "فقره",
        ],
    );
    assert_no_latin_digits(&text);
}

#[test]
fn damage_letter_for_replacement_says_the_cards_were_voided() {
    let doc = Document::DamageLetter(DamageLetter {
        province: "فارس".into(),
        letter_no: "55/102".into(),
        date: "1405/10/01".into(),
        minutes_no: "1405/B/3".into(),
        minutes_date: "1405/09/25".into(),
        replacement: true,
        rows: damage_rows(),
        signer: person("رضا کریمی", "مدیر کل"),
    });
    let (text, _) = render(&doc);
    assert_contains_all(
        &text,
        &[
            "ابطالشده جهت تعویض",
            "ستاد ارزشیابی استان",
            "تذکر ۴",
            "باطل گردید",
            "۱۴۰۵/B/۳",
            "۱۴۰۵/۰۹/۲۵",
            "۴۰۰۱۱۷",
            "۴۰۰۱۳۰",
            "۴۰۰۱۴۳",
            "رضا کریمی",
            "مدیر کل",
        ],
    );
    assert_clause(&text, "۸-۱-۱");
    assert_clause(&text, "۸-۱-۲");
    assert!(!text.contains("گواهینامه مخدوشی"), "{text}");
    assert_no_latin_digits(&text);
}

#[test]
fn replacement_fee_notice_to_the_applicant() {
    let doc = Document::ReplacementFeeNotice(ReplacementFeeNotice {
        province: "اصفهان".into(),
        notice_no: "1405/T/88".into(),
        date: "1405/09/20".into(),
        full_name: "فاطمه رضایی".into(),
        national_id: national_id(9_001),
        certificate_no: "ESF-1405-000123".into(),
        card_serial: 400_999,
        amount: 12_500_000,
        reason: "اصلاح نام پدر طبق شناسنامه".into(),
        signer: person("علیرضا رضایی", ""),
    });
    let (text, pages) = render(&doc);
    assert_eq!(pages, 1);
    assert_contains_all(
        &text,
        &[
            // The title «اعلام پرداخت هزینه تعویض گواهینامه» wraps, and «اعلام» has lam-alef.
            "پرداخت هزینه تعویض",
            "فاطمه رضایی",
            "۰۰۰۱۲۳",
            "۴۰۰۹۹۹",
            "اصالح نام پدر", // lam-alef comes back as «ال»
            "ستاد ارزشیابی استان",
            "هزینه تعویض گواهینامه",
            "۱۲٬۵۰۰٬۰۰۰",
            "ریال",
            "رسید پرداخت",
            "اصل کارت",
            "علیرضا رضایی",
            "رئیس اداره سنجش و ارزشیابی مهارت استان اصفهان",
            "۱۴۰۵/T/۸۸",
            "۱۴۰۵/۰۹/۲۰",
        ],
    );
    assert!(text.contains(&fa(national_id(9_001))), "{text}");
    assert_in_order(&text, &["مبلغ", "۱۲٬۵۰۰٬۰۰۰", "ریال", "رسید پرداخت"]);
    assert_no_latin_digits(&text);
}
