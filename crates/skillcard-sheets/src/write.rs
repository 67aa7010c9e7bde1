//! Exporting a list as a right-to-left xlsx workbook or as UTF-8 CSV.

use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};

use crate::read::format_number;
use crate::text::parse_decimal;
use crate::SheetError;

/// One exported cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Text, written as a string (never as a formula).
    Text(String),
    /// An integer; beyond ±2^53 it is written as text to keep every digit.
    Int(i64),
    /// A number; NaN and infinities are written as empty cells.
    Float(f64),
    /// Nothing.
    Empty,
}

impl Cell {
    /// A value that is a number when it reads as one (`87.5`, `۸۷٫۵`), so a spreadsheet sums
    /// and sorts it; empty stays empty, anything else stays text.
    pub fn number(text: &str) -> Cell {
        if text.trim().is_empty() {
            return Cell::Empty;
        }
        match parse_decimal(text) {
            Some(v) => Cell::Float(v),
            None => Cell::Text(text.to_string()),
        }
    }
}

impl From<&str> for Cell {
    fn from(s: &str) -> Self {
        Cell::Text(s.to_string())
    }
}

impl From<String> for Cell {
    fn from(s: String) -> Self {
        Cell::Text(s)
    }
}

impl From<i64> for Cell {
    fn from(v: i64) -> Self {
        Cell::Int(v)
    }
}

impl From<f64> for Cell {
    fn from(v: f64) -> Self {
        Cell::Float(v)
    }
}

impl<T: Into<Cell>> From<Option<T>> for Cell {
    fn from(v: Option<T>) -> Self {
        v.map_or(Cell::Empty, Into::into)
    }
}

const XLSX_MAX_ROWS: usize = 1_048_576;
const XLSX_MAX_COLS: usize = 16_384;
const XLSX_MAX_TEXT: usize = 32_767;
const EXACT_INT: i64 = 1 << 53;

fn xerr(e: XlsxError) -> SheetError {
    SheetError::Xlsx(e.to_string())
}

/// Writes one worksheet: right-to-left, the header row bold, frozen and with
/// an autofilter, column widths fitted to the content (8 to 60 characters).
/// The sheet name is made valid for Excel (forbidden characters replaced,
/// at most 31 characters; `Sheet1` if nothing is left).
pub fn write_xlsx(
    sheet_name: &str,
    headers: &[&str],
    rows: &[Vec<Cell>],
) -> Result<Vec<u8>, SheetError> {
    if rows.len() >= XLSX_MAX_ROWS {
        return Err(SheetError::TooManyRows {
            max: XLSX_MAX_ROWS - 1,
        });
    }
    let ncols = rows.iter().map(Vec::len).fold(headers.len(), usize::max);
    if ncols > XLSX_MAX_COLS {
        return Err(SheetError::TooManyColumns { max: XLSX_MAX_COLS });
    }
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    if sheet.set_name(sanitize_sheet_name(sheet_name)).is_err() {
        sheet.set_name("Sheet1").map_err(xerr)?;
    }
    sheet.set_right_to_left(true);
    let bold = Format::new().set_bold();
    let mut widths = vec![0usize; ncols];
    for (c, h) in headers.iter().enumerate() {
        let h = truncate(h);
        sheet
            .write_string_with_format(0, c as u16, h, &bold)
            .map_err(xerr)?;
        widths[c] = widths[c].max(display_width(h) + 2);
    }
    for (r, row) in rows.iter().enumerate() {
        let r = (r + 1) as u32;
        for (c, cell) in row.iter().enumerate() {
            let w = write_cell(sheet, r, c as u16, cell)?;
            widths[c] = widths[c].max(w);
        }
    }
    if !headers.is_empty() {
        sheet.set_freeze_panes(1, 0).map_err(xerr)?;
        sheet
            .autofilter(0, 0, rows.len() as u32, (headers.len() - 1) as u16)
            .map_err(xerr)?;
    }
    for (c, w) in widths.iter().enumerate() {
        let width = (*w).clamp(8, 60) as f64 * 1.1;
        sheet.set_column_width(c as u16, width).map_err(xerr)?;
    }
    workbook.save_to_buffer().map_err(xerr)
}

/// Writes one cell and returns its display width in characters.
fn write_cell(sheet: &mut Worksheet, r: u32, c: u16, cell: &Cell) -> Result<usize, SheetError> {
    match cell {
        Cell::Text(s) => {
            let s = truncate(s);
            if !s.is_empty() {
                sheet.write_string(r, c, s).map_err(xerr)?;
            }
            Ok(display_width(s))
        }
        Cell::Int(v) if (-EXACT_INT..=EXACT_INT).contains(v) => {
            sheet.write_number(r, c, *v as f64).map_err(xerr)?;
            Ok(v.to_string().len())
        }
        Cell::Int(v) => {
            let s = v.to_string();
            sheet.write_string(r, c, &s).map_err(xerr)?;
            Ok(s.len())
        }
        Cell::Float(f) if f.is_finite() => {
            sheet.write_number(r, c, *f).map_err(xerr)?;
            Ok(format_number(*f).len())
        }
        Cell::Float(_) | Cell::Empty => Ok(0),
    }
}

fn truncate(s: &str) -> &str {
    match s.char_indices().nth(XLSX_MAX_TEXT) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// Widest line, in characters (a rough width; good enough for Persian too).
fn display_width(s: &str) -> usize {
    s.lines().map(|l| l.chars().count()).max().unwrap_or(0)
}

fn sanitize_sheet_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| match c {
            '[' | ']' | ':' | '*' | '?' | '/' | '\\' => '-',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect();
    let cleaned: String = cleaned.trim().trim_matches('\'').chars().take(31).collect();
    let cleaned = cleaned.trim().to_string();
    if cleaned.is_empty() {
        "Sheet1".to_string()
    } else {
        cleaned
    }
}

/// Writes CSV for Excel: UTF-8 with BOM (so Persian shows correctly),
/// comma-separated, CRLF line ends, numbers with Latin digits. Text that
/// Excel would run as a formula (`=…`, `+…`, `@…`, or `-…` that is not a
/// number) gets a leading `'`.
pub fn write_csv(headers: &[&str], rows: &[Vec<Cell>]) -> Vec<u8> {
    let mut out = String::from("\u{FEFF}");
    push_line(&mut out, headers.iter().map(|h| csv_text(h)));
    for row in rows {
        push_line(
            &mut out,
            row.iter().map(|cell| match cell {
                Cell::Text(s) => csv_text(s),
                Cell::Int(v) => v.to_string(),
                Cell::Float(f) if f.is_finite() => format_number(*f),
                Cell::Float(_) | Cell::Empty => String::new(),
            }),
        );
    }
    out.into_bytes()
}

fn push_line(out: &mut String, fields: impl Iterator<Item = String>) {
    for (i, f) in fields.enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&f);
    }
    out.push_str("\r\n");
}

fn csv_text(s: &str) -> String {
    let mut s = s.to_string();
    let risky = match s.chars().next() {
        Some('\t' | '\r') => true,
        Some('=' | '+' | '@' | '-') => s.chars().count() > 1 && parse_decimal(&s).is_none(),
        _ => false,
    };
    if risky {
        s.insert(0, '\'');
    }
    let needs_quotes = s.contains([',', ';', '"', '\n', '\r', '\t'])
        || s.starts_with(char::is_whitespace)
        || s.ends_with(char::is_whitespace);
    if needs_quotes {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}
