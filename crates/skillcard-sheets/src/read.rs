//! Reading an uploaded sheet: format detection, xlsx/xls/ods via calamine,
//! CSV with encoding and delimiter sniffing.

use std::io::Cursor;

use calamine::{Data, DataRef, Reader, SheetType, SheetVisible};

use crate::{Row, SheetError, Table, MAX_COLUMNS, MAX_INPUT_BYTES, MAX_ROWS};

/// Most bytes a workbook's parts may declare once unpacked (guards against
/// zip bombs; a full 10,000 × 64 sheet is far below it).
pub(crate) const MAX_UNPACKED_BYTES: usize = 256 * 1024 * 1024;

const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
const OLE_MAGIC: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

/// Reads an uploaded sheet into a [`Table`].
///
/// The format is decided by content, not by name: a zip (`PK\x03\x04`) is read
/// as `.xlsx` (or `.ods`), an OLE2 file as legacy `.xls`, anything else as
/// CSV text. `filename_hint` only breaks delimiter ties (`.tsv`/`.txt`
/// prefer tab).
///
/// The first visible worksheet is read. The header is the first non-blank
/// row; blank rows are skipped (their numbers still count); cells are
/// trimmed. Workbook numbers are rendered as Excel shows them in General
/// format (`18`, not `18.0`; at most 15 significant digits), booleans as
/// `TRUE`/`FALSE`, date cells as ISO `YYYY-MM-DD` (with `THH:MM:SS` when there
/// is a time), error cells as their code (`#DIV/0!`).
pub fn read_sheet(bytes: &[u8], filename_hint: Option<&str>) -> Result<Table, SheetError> {
    if bytes.len() > MAX_INPUT_BYTES {
        return Err(SheetError::TooLarge {
            max_bytes: MAX_INPUT_BYTES,
        });
    }
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(SheetError::Empty);
    }
    if bytes.starts_with(ZIP_MAGIC) {
        read_zip(bytes)
    } else if bytes.starts_with(OLE_MAGIC) {
        read_xls(bytes)
    } else {
        read_csv(bytes, filename_hint)
    }
}

/// Collects rows in order, applying the blank-row, trimming and limit rules.
#[derive(Default)]
struct Builder {
    header: Option<Vec<String>>,
    rows: Vec<Row>,
}

impl Builder {
    fn push(&mut self, number: usize, cells: Vec<String>) -> Result<(), SheetError> {
        let mut cells: Vec<String> = cells
            .into_iter()
            .map(|c| {
                let t = c.trim();
                if t.len() == c.len() {
                    c
                } else {
                    t.to_string()
                }
            })
            .collect();
        while cells.last().is_some_and(String::is_empty) {
            cells.pop();
        }
        if cells.is_empty() {
            return Ok(());
        }
        if cells.len() > MAX_COLUMNS {
            return Err(SheetError::TooManyColumns { max: MAX_COLUMNS });
        }
        if self.header.is_none() {
            self.header = Some(cells);
            return Ok(());
        }
        if self.rows.len() >= MAX_ROWS {
            return Err(SheetError::TooManyRows { max: MAX_ROWS });
        }
        self.rows.push(Row { number, cells });
        Ok(())
    }

    fn finish(self) -> Result<Table, SheetError> {
        match self.header {
            Some(headers) if !self.rows.is_empty() => Ok(Table {
                headers,
                rows: self.rows,
            }),
            _ => Err(SheetError::Empty),
        }
    }
}

// ---------------------------------------------------------------- workbooks

fn xlsx_err(e: impl std::fmt::Display) -> SheetError {
    SheetError::Xlsx(e.to_string())
}

fn read_zip(bytes: &[u8]) -> Result<Table, SheetError> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(xlsx_err)?;
    let mut unpacked: u64 = 0;
    let (mut is_xlsx, mut is_ods) = (false, false);
    for i in 0..archive.len() {
        let file = archive.by_index_raw(i).map_err(xlsx_err)?;
        unpacked = unpacked.saturating_add(file.size());
        match file.name().map_err(xlsx_err)?.as_ref() {
            "xl/workbook.xml" => is_xlsx = true,
            "content.xml" => is_ods = true,
            _ => {}
        }
    }
    if unpacked > MAX_UNPACKED_BYTES as u64 {
        return Err(SheetError::TooLarge {
            max_bytes: MAX_UNPACKED_BYTES,
        });
    }
    if is_xlsx {
        read_xlsx(bytes)
    } else if is_ods {
        let mut ods: calamine::Ods<_> =
            calamine::open_workbook_from_rs(Cursor::new(bytes)).map_err(xlsx_err)?;
        let name = first_sheet(ods.sheets_metadata())?;
        let range = ods.worksheet_range(&name).map_err(xlsx_err)?;
        read_range(&range)
    } else {
        Err(SheetError::NotASheet)
    }
}

fn read_xls(bytes: &[u8]) -> Result<Table, SheetError> {
    let mut xls: calamine::Xls<_> =
        calamine::open_workbook_from_rs(Cursor::new(bytes)).map_err(|_| SheetError::NotASheet)?;
    let name = first_sheet(xls.sheets_metadata())?;
    let range = xls.worksheet_range(&name).map_err(xlsx_err)?;
    read_range(&range)
}

/// The first visible worksheet, else the first worksheet.
fn first_sheet(sheets: &[calamine::Sheet]) -> Result<String, SheetError> {
    let worksheets = || sheets.iter().filter(|s| s.typ == SheetType::WorkSheet);
    worksheets()
        .find(|s| s.visible == SheetVisible::Visible)
        .or_else(|| worksheets().next())
        .map(|s| s.name.clone())
        .ok_or(SheetError::Empty)
}

/// Streams the first worksheet cell by cell, so a huge sheet stops at the
/// row limit instead of being loaded whole.
fn read_xlsx(bytes: &[u8]) -> Result<Table, SheetError> {
    let mut xlsx: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(Cursor::new(bytes)).map_err(xlsx_err)?;
    let name = first_sheet(xlsx.sheets_metadata())?;
    let mut cells = xlsx.worksheet_cells_reader(&name).map_err(xlsx_err)?;
    let mut builder = Builder::default();
    let mut current: Option<(u32, Vec<String>)> = None;
    while let Some(cell) = cells.next_cell().map_err(xlsx_err)? {
        let (r, c) = cell.get_position();
        let text = render_ref(cell.get_value());
        if current.as_ref().is_none_or(|(cr, _)| *cr != r) {
            if let Some((cr, row)) = current.take() {
                builder.push(cr as usize + 1, row)?;
            }
            current = Some((r, Vec::new()));
        }
        if text.trim().is_empty() {
            continue;
        }
        let c = c as usize;
        if c >= MAX_COLUMNS {
            return Err(SheetError::TooManyColumns { max: MAX_COLUMNS });
        }
        if let Some((_, row)) = current.as_mut() {
            if row.len() <= c {
                row.resize(c + 1, String::new());
            }
            row[c] = text;
        }
    }
    if let Some((cr, row)) = current.take() {
        builder.push(cr as usize + 1, row)?;
    }
    builder.finish()
}

fn read_range(range: &calamine::Range<Data>) -> Result<Table, SheetError> {
    let mut builder = Builder::default();
    let (r0, c0) = range.start().unwrap_or((0, 0));
    for (i, cells) in range.rows().enumerate() {
        let mut row = vec![String::new(); c0 as usize];
        row.extend(cells.iter().map(render));
        builder.push(r0 as usize + i + 1, row)?;
    }
    builder.finish()
}

fn render_ref(v: &DataRef<'_>) -> String {
    match v {
        DataRef::SharedString(s) => (*s).to_string(),
        other => render(&Data::from(other.clone())),
    }
}

fn render(v: &Data) -> String {
    match v {
        Data::Int(i) => i.to_string(),
        Data::Float(f) => format_number(*f),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Bool(true) => "TRUE".to_string(),
        Data::Bool(false) => "FALSE".to_string(),
        Data::DateTime(dt) => render_datetime(dt),
        Data::Error(e) => e.to_string(),
        Data::Empty => String::new(),
    }
}

fn render_datetime(dt: &calamine::ExcelDateTime) -> String {
    let (y, mo, d, h, mi, s, _ms) = dt.to_ymd_hms_milli();
    let serial = dt.as_f64();
    if dt.is_duration() {
        let secs = (serial * 86_400.0).round() as i64;
        return format!("{}:{:02}:{:02}", secs / 3600, (secs / 60) % 60, secs % 60);
    }
    if (0.0..1.0).contains(&serial) {
        format!("{h:02}:{mi:02}:{s:02}")
    } else if (h, mi, s) == (0, 0, 0) {
        format!("{y:04}-{mo:02}-{d:02}")
    } else {
        format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}")
    }
}

/// A number as Excel's General format shows it: at most 15 significant
/// digits, integers without a decimal point, otherwise the shortest decimal.
pub(crate) fn format_number(f: f64) -> String {
    if !f.is_finite() {
        return f.to_string();
    }
    let rounded = format!("{f:.14e}").parse::<f64>().unwrap_or(f);
    if rounded.fract() == 0.0 && rounded.abs() < 1e15 {
        format!("{}", rounded as i64)
    } else {
        format!("{rounded}")
    }
}

// ---------------------------------------------------------------------- CSV

fn read_csv(bytes: &[u8], filename_hint: Option<&str>) -> Result<Table, SheetError> {
    let text = decode_text(bytes)?;
    let (delimiter, body) = match sep_directive(&text) {
        Some((d, rest)) => (d, rest),
        None => (sniff_delimiter(&text, filename_hint), text.as_str()),
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(body.as_bytes());
    let numbers = record_rows(body, delimiter);
    let mut builder = Builder::default();
    let mut record = csv::StringRecord::new();
    for index in 0.. {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e
                    .position()
                    .map(|p| p.line())
                    .unwrap_or_else(|| reader.position().line());
                return Err(SheetError::Csv {
                    line,
                    msg: e.to_string(),
                });
            }
        }
        let number = numbers
            .get(index)
            .copied()
            .unwrap_or_else(|| numbers.last().copied().unwrap_or(0) + 1);
        if record.len() > MAX_COLUMNS
            && record
                .iter()
                .skip(MAX_COLUMNS)
                .any(|f| !f.trim().is_empty())
        {
            return Err(SheetError::TooManyColumns { max: MAX_COLUMNS });
        }
        let cells = record
            .iter()
            .take(MAX_COLUMNS + 1)
            .map(str::to_string)
            .collect();
        builder.push(number, cells)?;
    }
    builder.finish()
}

/// The row number Excel shows for each record the `csv` crate yields (its
/// own line counts are off for CRLF and blank lines). Mirrors csv-core: a
/// quote is special only at the start of a field, `""` inside quotes is a
/// quote, CR, LF and CRLF end a row outside quotes, and empty rows yield no
/// record (but keep their number, as Excel shows them).
fn record_rows(body: &str, delimiter: u8) -> Vec<usize> {
    #[derive(PartialEq)]
    enum State {
        FieldStart,
        Unquoted,
        Quoted,
        QuoteInQuoted,
    }
    let bytes = body.as_bytes();
    let mut rows = Vec::new();
    let mut row = 1usize;
    let mut empty = true;
    let mut state = State::FieldStart;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let terminator = b == b'\n' || b == b'\r';
        match state {
            State::Quoted => {
                if b == b'"' {
                    state = State::QuoteInQuoted;
                }
            }
            _ if terminator => {
                if !empty {
                    rows.push(row);
                }
                row += 1;
                empty = true;
                state = State::FieldStart;
                if b == b'\r' && bytes.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
            }
            State::QuoteInQuoted if b == b'"' => state = State::Quoted,
            _ if b == delimiter => state = State::FieldStart,
            State::FieldStart if b == b'"' => state = State::Quoted,
            _ => state = State::Unquoted,
        }
        if !terminator {
            empty = false;
        }
        i += 1;
    }
    if !empty {
        rows.push(row);
    }
    rows
}

/// Decodes CSV bytes: UTF-8 (BOM optional), UTF-16 LE/BE with BOM, else the
/// Windows Arabic code page 1256. Binary content is rejected.
fn decode_text(bytes: &[u8]) -> Result<String, SheetError> {
    let text = if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        String::from_utf8(rest.to_vec()).map_err(|_| SheetError::Encoding)?
    } else if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        decode_utf16(rest, u16::from_le_bytes)?
    } else if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        decode_utf16(rest, u16::from_be_bytes)?
    } else {
        if looks_binary(bytes) {
            return Err(SheetError::NotASheet);
        }
        match std::str::from_utf8(bytes) {
            Ok(s) => s.to_string(),
            Err(_) => {
                let (s, had_errors) = encoding_rs::WINDOWS_1256.decode_without_bom_handling(bytes);
                if had_errors {
                    return Err(SheetError::Encoding);
                }
                s.into_owned()
            }
        }
    };
    if text.chars().any(|c| c == '\0') {
        return Err(SheetError::NotASheet);
    }
    Ok(text)
}

fn decode_utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> Result<String, SheetError> {
    if !bytes.len().is_multiple_of(2) {
        return Err(SheetError::Encoding);
    }
    let units = bytes.chunks_exact(2).map(|c| unit([c[0], c[1]]));
    char::decode_utf16(units)
        .collect::<Result<String, _>>()
        .map_err(|_| SheetError::Encoding)
}

/// NUL bytes, or more than 1% control bytes other than tab/CR/LF/FF.
fn looks_binary(bytes: &[u8]) -> bool {
    let sample = &bytes[..bytes.len().min(64 * 1024)];
    if sample.contains(&0) {
        return true;
    }
    let controls = sample
        .iter()
        .filter(|b| (**b < 0x20 && !matches!(**b, b'\t' | b'\n' | b'\r' | 0x0C)) || **b == 0x7F)
        .count();
    controls * 100 > sample.len()
}

/// Excel's `sep=;` first line: the delimiter, and the text after that line.
fn sep_directive(text: &str) -> Option<(u8, &str)> {
    let (first, rest) = text.split_once('\n').unwrap_or((text, ""));
    let d = first.trim_end_matches('\r').strip_prefix("sep=")?;
    let mut chars = d.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) if c.is_ascii() && c != '"' => Some((c as u8, rest)),
        _ => None,
    }
}

/// Picks `,` `;` or tab: the one most frequent outside quotes in the first
/// non-blank line (the header); ties go to tab for `.tsv`/`.txt`, then to
/// `,`, then `;`.
fn sniff_delimiter(text: &str, filename_hint: Option<&str>) -> u8 {
    let mut counts = [0usize; 3]; // , ; \t
    let mut in_quotes = false;
    let mut seen_content = false;
    for c in text.chars() {
        match c {
            '"' => in_quotes = !in_quotes,
            '\n' if !in_quotes && seen_content => break,
            ',' if !in_quotes => counts[0] += 1,
            ';' if !in_quotes => counts[1] += 1,
            '\t' if !in_quotes => counts[2] += 1,
            _ => {}
        }
        if !c.is_whitespace() {
            seen_content = true;
        }
    }
    let prefers_tab = filename_hint
        .and_then(|n| n.rsplit_once('.'))
        .is_some_and(|(_, ext)| ext.eq_ignore_ascii_case("tsv") || ext.eq_ignore_ascii_case("txt"));
    let order: [(usize, u8); 3] = if prefers_tab {
        [(2, b'\t'), (0, b','), (1, b';')]
    } else {
        [(0, b','), (1, b';'), (2, b'\t')]
    };
    let mut best = order[0];
    for cand in order {
        if counts[cand.0] > counts[best.0] {
            best = cand;
        }
    }
    best.1
}
