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
    Document, Form1, Form2, Form3, Form4, HandoverLetter, LedgerRow, Person, ReceiptNotice,
    Renderer, SerialRangeRow,
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
