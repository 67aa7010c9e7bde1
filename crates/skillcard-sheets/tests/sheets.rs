use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
use skillcard_sheets::{
    map_columns, normalize_digits, parse_decimal, read_sheet, write_csv, write_xlsx, Cell,
    SheetError, Table, MAX_COLUMNS, MAX_INPUT_BYTES, MAX_ROWS,
};
use std::io::Read;

fn numbers(t: &Table) -> Vec<usize> {
    t.rows.iter().map(|r| r.number).collect()
}

fn cells(t: &Table) -> Vec<Vec<&str>> {
    t.rows
        .iter()
        .map(|r| r.cells.iter().map(String::as_str).collect())
        .collect()
}

fn zip_entry(bytes: &[u8], name: &str) -> Result<String, Box<dyn std::error::Error>> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes))?;
    let mut s = String::new();
    archive.by_name(name)?.read_to_string(&mut s)?;
    Ok(s)
}

// ------------------------------------------------------------------- xlsx

#[test]
fn scores_are_written_as_numbers() {
    assert_eq!(Cell::number("87.5"), Cell::Float(87.5));
    assert_eq!(Cell::number("۸۷٫۵"), Cell::Float(87.5));
    assert_eq!(Cell::number(""), Cell::Empty);
    assert_eq!(Cell::number("غایب"), Cell::Text("غایب".into()));
    let bytes = write_xlsx("نمرات", &["نمره"], &[vec![Cell::number("87.5")]]).unwrap();
    let sheet = zip_entry(&bytes, "xl/worksheets/sheet1.xml").unwrap();
    let cell = &sheet[sheet.find(r#"<c r="A2""#).unwrap()..];
    let cell = &cell[..cell.find("</c>").unwrap()];
    assert!(
        !cell.contains(r#"t="s""#) && cell.contains("<v>87.5</v>"),
        "{cell}"
    );
}

#[test]
fn xlsx_written_then_read_back() {
    let rows = vec![
        vec![
            Cell::Text("۰۰۱۲۳۴۵۶۷۸".into()),
            Cell::Float(18.5),
            Cell::Text("خوب، با دقت\nخط دوم".into()),
        ],
        vec![Cell::Text("٠٠٨٧٦٥٤٣٢١".into()), Cell::Int(20), Cell::Empty],
        vec![Cell::Empty, Cell::Empty, Cell::Empty], // blank: skipped
        vec![
            Cell::Text("0011223344".into()),
            Cell::Text("۱۷".into()),
            Cell::Float(0.1 + 0.2),
        ],
        vec![
            Cell::Int(9_007_199_254_740_993),
            Cell::Float(-3.0),
            Cell::Float(f64::NAN),
        ],
    ];
    let bytes = write_xlsx("نمرات عملی", &["کد ملی", "نمره عملی", "توضیح"], &rows).unwrap();
    assert!(bytes.starts_with(b"PK\x03\x04"));

    let t = read_sheet(&bytes, Some("export.xlsx")).unwrap();
    assert_eq!(t.headers, ["کد ملی", "نمره عملی", "توضیح"]);
    // Excel's numbering: header row 1, data from row 2; the blank row 4 is
    // skipped but keeps its number.
    assert_eq!(numbers(&t), [2, 3, 5, 6]);
    assert_eq!(
        cells(&t),
        vec![
            vec!["۰۰۱۲۳۴۵۶۷۸", "18.5", "خوب، با دقت\nخط دوم"],
            vec!["٠٠٨٧٦٥٤٣٢١", "20"],
            vec!["0011223344", "۱۷", "0.3"],
            vec!["9007199254740993", "-3"],
        ]
    );
    assert_eq!(normalize_digits(t.rows[1].cell(0)), "0087654321");
    assert_eq!(parse_decimal(t.rows[2].cell(1)), Some(17.0));
    assert_eq!(t.rows[1].cell(2), "");

    let sheet = zip_entry(&bytes, "xl/worksheets/sheet1.xml").unwrap();
    assert!(sheet.contains(r#"rightToLeft="1""#), "{sheet}");
    assert!(sheet.contains(r#"state="frozen""#), "{sheet}");
    assert!(sheet.contains("<autoFilter"), "{sheet}");
    assert!(sheet.contains("<cols>"), "{sheet}");
    let workbook = zip_entry(&bytes, "xl/workbook.xml").unwrap();
    assert!(workbook.contains("نمرات عملی"), "{workbook}");
    let styles = zip_entry(&bytes, "xl/styles.xml").unwrap();
    assert!(styles.contains("<b/>"), "header is bold: {styles}");
}

#[test]
fn xlsx_sheet_names_are_made_valid() {
    let long = "نام/خیلی:طولانی*برای?یک[برگه]که از سی و یک نویسه بیشتر است";
    let bytes = write_xlsx(long, &["a"], &[vec![Cell::Int(1)]]).unwrap();
    assert!(read_sheet(&bytes, None).is_ok());
    let bytes = write_xlsx("''", &["a"], &[vec![Cell::Int(1)]]).unwrap();
    assert!(zip_entry(&bytes, "xl/workbook.xml")
        .unwrap()
        .contains("Sheet1"));
}

#[test]
fn xlsx_dates_bools_offsets_and_trailing_blank_rows() {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let datetime = Format::new().set_num_format("yyyy-mm-dd hh:mm");
    let grey = Format::new().set_bold();
    // Header on row 2 (row 1 blank), starting in column B.
    ws.write_string(1, 1, " کد ملی ").unwrap();
    ws.write_string(1, 2, "تاریخ آزمون").unwrap();
    ws.write_string(1, 3, "حاضر").unwrap();
    ws.write_number(2, 1, 1234567890123.0).unwrap();
    ws.write_datetime_with_format(2, 2, ExcelDateTime::from_ymd(2025, 3, 21).unwrap(), &date)
        .unwrap();
    ws.write_boolean(2, 3, true).unwrap();
    ws.write_number(3, 1, 12.25).unwrap();
    let dt = ExcelDateTime::from_ymd(2024, 12, 1)
        .unwrap()
        .and_hms(9, 30, 0)
        .unwrap();
    ws.write_datetime_with_format(3, 2, dt, &datetime).unwrap();
    ws.write_boolean(3, 3, false).unwrap();
    // Formatted but empty cells and whitespace far below: dropped.
    ws.write_blank(10, 1, &grey).unwrap();
    ws.write_string(11, 2, "   ").unwrap();
    let bytes = wb.save_to_buffer().unwrap();

    let t = read_sheet(&bytes, Some("x.xlsx")).unwrap();
    assert_eq!(t.headers, ["", "کد ملی", "تاریخ آزمون", "حاضر"]);
    assert_eq!(numbers(&t), [3, 4]);
    assert_eq!(
        cells(&t),
        vec![
            vec!["", "1234567890123", "2025-03-21", "TRUE"],
            vec!["", "12.25", "2024-12-01T09:30:00", "FALSE"],
        ]
    );
    let map = map_columns(
        &t.headers,
        &[("nid", &["کد ملی"]), ("date", &["تاریخ آزمون"])],
    )
    .unwrap();
    assert_eq!(map.get(&t.rows[0], "nid"), "1234567890123");
    assert_eq!(map.get(&t.rows[1], "date"), "2024-12-01T09:30:00");
}

#[test]
fn xlsx_first_visible_worksheet_is_read() {
    let mut wb = Workbook::new();
    let hidden = wb.add_worksheet();
    hidden.write_string(0, 0, "hidden").unwrap();
    hidden.write_string(1, 0, "x").unwrap();
    hidden.set_hidden(true);
    let shown = wb.add_worksheet();
    shown.write_string(0, 0, "shown").unwrap();
    shown.write_string(1, 0, "y").unwrap();
    shown.set_active(true);
    let bytes = wb.save_to_buffer().unwrap();
    let t = read_sheet(&bytes, None).unwrap();
    assert_eq!(t.headers, ["shown"]);
}

#[test]
fn xlsx_over_limits() {
    let rows: Vec<Vec<Cell>> = (0..=MAX_ROWS as i64).map(|i| vec![Cell::Int(i)]).collect();
    let bytes = write_xlsx("s", &["n"], &rows).unwrap();
    assert!(bytes.len() <= MAX_INPUT_BYTES);
    assert_eq!(
        read_sheet(&bytes, None),
        Err(SheetError::TooManyRows { max: MAX_ROWS })
    );
    let ok = write_xlsx("s", &["n"], &rows[..MAX_ROWS]).unwrap();
    assert_eq!(read_sheet(&ok, None).unwrap().rows.len(), MAX_ROWS);

    let wide = vec![(0..=MAX_COLUMNS as i64).map(Cell::Int).collect::<Vec<_>>()];
    let bytes = write_xlsx("s", &["n"], &wide).unwrap();
    assert_eq!(
        read_sheet(&bytes, None),
        Err(SheetError::TooManyColumns { max: MAX_COLUMNS })
    );
}

#[test]
fn zip_that_is_not_a_workbook() {
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut w = zip::ZipWriter::new(&mut buf);
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        w.start_file("word/document.xml", opts).unwrap();
        std::io::Write::write_all(&mut w, b"<doc/>").unwrap();
        w.finish().unwrap();
    }
    assert_eq!(
        read_sheet(buf.get_ref(), Some("a.xlsx")),
        Err(SheetError::NotASheet)
    );
    // A truncated workbook is an xlsx error, not a panic.
    let good = write_xlsx("s", &["a"], &[vec![Cell::Int(1)]]).unwrap();
    let err = read_sheet(&good[..good.len() / 2], None).unwrap_err();
    assert_eq!(err.code(), "sheet_xlsx");
}

// -------------------------------------------------------------------- CSV

#[test]
fn csv_sample_with_bom_semicolons_and_persian_digits() {
    // Compiled in: a test binary reused from another checkout's build still finds it.
    let bytes = include_bytes!("data/scores.csv").to_vec();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
    let t = read_sheet(&bytes, Some("scores.csv")).unwrap();
    assert_eq!(t.headers, ["کد ملی", "نام", "نمره عملی"]);
    assert_eq!(numbers(&t), [2, 3, 4]);
    assert_eq!(t.rows[2].cells[1], "کریمی; محمد");

    let map = map_columns(
        &t.headers,
        &[
            ("national_id", &["کد ملی", "national id"]),
            ("score", &["نمره عملی", "score"]),
        ],
    )
    .unwrap();
    let got: Vec<(String, Option<f64>)> = t
        .rows
        .iter()
        .map(|r| {
            (
                normalize_digits(map.get(r, "national_id")),
                parse_decimal(map.get(r, "score")),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("0012345678".to_string(), Some(18.5)),
            ("0087654321".to_string(), Some(17.0)),
            ("0011223344".to_string(), Some(20.0)),
        ]
    );
}

#[test]
fn csv_quoted_comma_and_newline_keep_excel_row_numbers() {
    let csv = "کد ملی,توضیح,نمره\n\
               ۱۱۱,\"یک، دو, سه\",۱۵\n\
               ۲۲۲,\"سطر اول\nسطر دوم\nسطر سوم\",۱۶\n\
               \n\
               ۳۳۳,\"گفت \"\"عالی\"\"\",۱۷\n";
    let t = read_sheet(csv.as_bytes(), None).unwrap();
    assert_eq!(t.headers, ["کد ملی", "توضیح", "نمره"]);
    // Excel shows the multi-line record as one row (3) and the blank line as
    // row 4, so the last record is row 5 (though it starts on text line 7).
    assert_eq!(numbers(&t), [2, 3, 5]);
    assert_eq!(t.rows[0].cells[1], "یک، دو, سه");
    assert_eq!(t.rows[1].cells[1], "سطر اول\nسطر دوم\nسطر سوم");
    assert_eq!(t.rows[2].cells[1], "گفت \"عالی\"");
}

#[test]
fn csv_delimiters_and_encodings() {
    let expect = vec![vec!["۱", "علی"], vec!["2", "رضا"]];
    for text in [
        "کد,نام\n۱,علی\n2,رضا\n",
        "کد;نام\r\n۱;علی\r\n2;رضا\r\n",
        "کد\tنام\n۱\tعلی\n2\tرضا",
        "sep=;\nکد;نام\n۱;علی\n2;رضا\n",
        "\n\nکد,نام\n۱,علی\n2,رضا\n\n\n",
    ] {
        let t = read_sheet(text.as_bytes(), None).unwrap();
        assert_eq!(t.headers, ["کد", "نام"], "{text:?}");
        assert_eq!(cells(&t), expect, "{text:?}");
    }
    let t = read_sheet("\n\nکد,نام\n۱,علی\n2,رضا\n".as_bytes(), None).unwrap();
    assert_eq!(numbers(&t), [4, 5]);
    let t = read_sheet("sep=;\nکد;نام\n۱;علی\n2;رضا\n".as_bytes(), None).unwrap();
    assert_eq!(numbers(&t), [2, 3]);

    // Excel "Unicode text": UTF-16LE with BOM, tab separated.
    let mut utf16 = vec![0xFF, 0xFE];
    for u in "کد\tنام\r\n۱\tعلی\r\n2\tرضا\r\n".encode_utf16() {
        utf16.extend_from_slice(&u.to_le_bytes());
    }
    let t = read_sheet(&utf16, Some("scores.txt")).unwrap();
    assert_eq!(cells(&t), expect);

    // Older Persian Excel "CSV (Comma delimited)": Windows-1256.
    let (cp1256, _, bad) = encoding_rs::WINDOWS_1256.encode("كد ملي,نام\n1,علي\n");
    assert!(!bad);
    let t = read_sheet(&cp1256, None).unwrap();
    assert_eq!(t.headers, ["كد ملي", "نام"]);
    assert_eq!(cells(&t), vec![vec!["1", "علي"]]);
    assert!(map_columns(&t.headers, &[("nid", &["کد ملی"])]).is_ok());

    // A BOM that lies about UTF-8.
    assert_eq!(
        read_sheet(b"\xEF\xBB\xBFa,b\n\xC3\x28,1\n", None),
        Err(SheetError::Encoding)
    );
}

#[test]
fn csv_tie_breaks_and_ragged_rows() {
    let t = read_sheet("a,b;c\n1,2;3\n".as_bytes(), None).unwrap();
    assert_eq!(t.headers, ["a", "b;c"]);
    let t = read_sheet("a\tb\n1\t2\t\t\n3\n".as_bytes(), Some("x.tsv")).unwrap();
    assert_eq!(cells(&t), vec![vec!["1", "2"], vec!["3"]]);
    assert_eq!(t.rows[1].cell(1), "");
}

#[test]
fn csv_over_limits() {
    let mut big = String::from("n\n");
    while big.len() <= MAX_INPUT_BYTES {
        big.push_str("1234567890\n");
    }
    assert_eq!(
        read_sheet(big.as_bytes(), None),
        Err(SheetError::TooLarge {
            max_bytes: MAX_INPUT_BYTES
        })
    );

    let mut rows = String::from("n\n");
    for i in 0..MAX_ROWS {
        rows.push_str(&format!("{i}\n"));
    }
    assert_eq!(
        read_sheet(rows.as_bytes(), None).unwrap().rows.len(),
        MAX_ROWS
    );
    rows.push_str("one too many\n");
    let err = read_sheet(rows.as_bytes(), None).unwrap_err();
    assert_eq!(err, SheetError::TooManyRows { max: MAX_ROWS });
    assert_eq!(err.code(), "sheet_too_many_rows");
    assert!(err.message_fa().contains("۱۰۰۰۰"), "{}", err.message_fa());

    let wide = (0..=MAX_COLUMNS)
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(",");
    assert_eq!(
        read_sheet(format!("{wide}\n{wide}\n").as_bytes(), None),
        Err(SheetError::TooManyColumns { max: MAX_COLUMNS })
    );
    // Trailing empty cells do not count as columns.
    let padded = format!("a,b{}\n1,2{}\n", ",".repeat(100), ",".repeat(100));
    assert_eq!(
        read_sheet(padded.as_bytes(), None).unwrap().headers,
        ["a", "b"]
    );
}

#[test]
fn binary_and_empty_inputs() {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let random: Vec<u8> = (0..4096)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect();
    assert_eq!(
        read_sheet(&random, Some("scores.csv")),
        Err(SheetError::NotASheet)
    );
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01";
    assert_eq!(read_sheet(png, None), Err(SheetError::NotASheet));
    let ole_garbage = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0, 1, 2, 3];
    assert_eq!(read_sheet(&ole_garbage, None), Err(SheetError::NotASheet));

    assert_eq!(read_sheet(b"", None), Err(SheetError::Empty));
    assert_eq!(read_sheet(b" \r\n\n", None), Err(SheetError::Empty));
    assert_eq!(read_sheet(b"\xEF\xBB\xBF", None), Err(SheetError::Empty));
    assert_eq!(
        read_sheet("کد ملی,نمره\n,,\n".as_bytes(), None),
        Err(SheetError::Empty)
    );
    let header_only = write_xlsx("s", &["کد ملی"], &[]).unwrap();
    assert_eq!(read_sheet(&header_only, None), Err(SheetError::Empty));
}

// -------------------------------------------------------------- columns

#[test]
fn header_mapping_folds_arabic_letters_zwnj_and_spacing() {
    let headers: Vec<String> = [
        "ردیف",
        "  كد  ملي ",         // Arabic kaf and yeh, extra spaces
        "نمره\u{200C}ی عملی", // ZWNJ
        "NAME",
        "",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let wanted: &[(&'static str, &[&str])] = &[
        ("national_id", &["کد ملی", "national id"]),
        ("score", &["نمره عملی", "نمرهی عملی", "score"]),
        ("name", &["نام", "name"]),
    ];
    let map = map_columns(&headers, wanted).unwrap();
    assert_eq!(map.index("national_id"), Some(1));
    assert_eq!(map.index("score"), Some(2));
    assert_eq!(map.index("name"), Some(3));
    assert_eq!(map.index("nope"), None);

    let row = skillcard_sheets::Row {
        number: 2,
        cells: vec!["1".into(), "۰۰۱۲۳۴۵۶۷۸".into()],
    };
    assert_eq!(map.get(&row, "national_id"), "۰۰۱۲۳۴۵۶۷۸");
    assert_eq!(map.get(&row, "score"), ""); // row shorter than the header
    assert_eq!(map.get(&row, "nope"), "");
}

#[test]
fn header_mapping_errors_list_every_key() {
    let headers: Vec<String> = ["کد ملی", "نمره", "نمره"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let err = map_columns(
        &headers,
        &[
            ("national_id", &["کد ملی"]),
            ("score", &["نمره عملی"]),
            ("center", &["کد مرکز", "center"]),
        ],
    )
    .unwrap_err();
    assert_eq!(
        err,
        SheetError::MissingColumns {
            keys: vec!["score", "center"],
            names: vec!["نمره عملی".into(), "کد مرکز".into()],
        }
    );
    assert_eq!(err.code(), "sheet_missing_columns");
    assert!(err.message_fa().contains("نمره عملی، کد مرکز"));

    let err = map_columns(&headers, &[("score", &["نمره"])]).unwrap_err();
    assert_eq!(err.code(), "sheet_duplicate_columns");
}

// --------------------------------------------------------------- export

#[test]
fn csv_export_has_bom_quotes_and_reads_back() {
    let rows = vec![
        vec![
            Cell::Text("۰۰۱۲۳۴۵۶۷۸".into()),
            Cell::Float(18.5),
            Cell::Text("یک, \"دو\"\nسه".into()),
        ],
        vec![
            Cell::Text("=HYPERLINK(\"x\")".into()),
            Cell::Int(-4),
            Cell::Empty,
        ],
        vec![
            Cell::Text("-".into()),
            Cell::Float(f64::INFINITY),
            Cell::Text("-12".into()),
        ],
    ];
    let bytes = write_csv(&["کد ملی", "نمره", "توضیح"], &rows);
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
    let text = std::str::from_utf8(&bytes[3..]).unwrap();
    assert!(text.starts_with("کد ملی,نمره,توضیح\r\n"), "{text}");
    assert!(
        text.contains("\"'=HYPERLINK(\"\"x\"\")\",-4,\r\n"),
        "{text}"
    );

    let t = read_sheet(&bytes, Some("out.csv")).unwrap();
    assert_eq!(numbers(&t), [2, 3, 4]);
    assert_eq!(
        cells(&t),
        vec![
            vec!["۰۰۱۲۳۴۵۶۷۸", "18.5", "یک, \"دو\"\nسه"],
            vec!["'=HYPERLINK(\"x\")", "-4"],
            vec!["-", "", "-12"],
        ]
    );
}

#[test]
fn error_codes_are_distinct_and_messages_persian() {
    let all = [
        SheetError::TooManyRows { max: 1 },
        SheetError::TooManyColumns { max: 1 },
        SheetError::TooLarge {
            max_bytes: 5 * 1024 * 1024,
        },
        SheetError::NotASheet,
        SheetError::Empty,
        SheetError::Encoding,
        SheetError::Xlsx("x".into()),
        SheetError::Csv {
            line: 3,
            msg: "x".into(),
        },
        SheetError::MissingColumns {
            keys: vec!["k"],
            names: vec!["ک".into()],
        },
        SheetError::DuplicateColumns {
            keys: vec!["k"],
            names: vec!["ک".into()],
        },
    ];
    let mut codes: Vec<&str> = all.iter().map(SheetError::code).collect();
    codes.sort_unstable();
    codes.dedup();
    assert_eq!(codes.len(), all.len());
    for e in &all {
        let m = e.message_fa();
        assert!(
            m.chars().any(|c| ('\u{0600}'..='\u{06FF}').contains(&c)),
            "{m}"
        );
        assert!(!e.to_string().is_empty());
    }
    let csv = SheetError::Csv {
        line: 3,
        msg: "x".into(),
    };
    assert!(csv.message_fa().contains('۳'));
    assert!(SheetError::TooLarge {
        max_bytes: MAX_INPUT_BYTES
    }
    .message_fa()
    .contains('۵'));
}
