//! Score sheets in and lists out, for a Persian-speaking user base.
//!
//! * [`read_sheet`] turns an uploaded `.xlsx` (also `.xls`/`.ods`) or CSV file
//!   into a [`Table`]: one header row and data rows, each with the row number
//!   the user sees in Excel (the header is usually row 1, so the first data row
//!   is row 2). CSV may be UTF-8 (with or without BOM), UTF-16 with BOM, or the
//!   Windows Arabic code page (1256) that older Persian Excel saves, separated
//!   by `,`, `;` or tab.
//! * [`map_columns`] finds required columns by any of several accepted header
//!   names (Persian or English), forgiving Arabic yeh/kaf, ZWNJ and spacing.
//! * [`write_xlsx`] and [`write_csv`] export a list (right-to-left workbook,
//!   bold frozen header; CSV as UTF-8 with BOM).
//!
//! Cell text is kept as written (only trimmed): digits are not folded, so use
//! [`normalize_digits`] / [`parse_decimal`] when validating.
//!
//! Limits: [`MAX_INPUT_BYTES`], [`MAX_ROWS`] data rows, [`MAX_COLUMNS`] columns.

mod columns;
mod error;
mod read;
mod text;
mod write;

pub use columns::{map_columns, ColumnMap};
pub use error::SheetError;
pub use read::read_sheet;
pub use text::{fold_header, normalize_digits, parse_decimal};
pub use write::{write_csv, write_xlsx, Cell};

/// Largest accepted upload, in bytes (5 MiB).
pub const MAX_INPUT_BYTES: usize = 5 * 1024 * 1024;
/// Most data rows (not counting the header) accepted in one sheet.
pub const MAX_ROWS: usize = 10_000;
/// Most columns accepted in one sheet.
pub const MAX_COLUMNS: usize = 64;

/// A sheet read from an upload: the header row and the non-blank data rows.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Table {
    /// Header cells, trimmed (trailing empty header cells dropped).
    pub headers: Vec<String>,
    /// Data rows in sheet order; entirely blank rows are left out.
    pub rows: Vec<Row>,
}

/// One data row.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Row {
    /// 1-based row number as the user sees it in the sheet, counting the
    /// header row (and any blank rows): what to quote in an error report.
    pub number: usize,
    /// Cells, trimmed; trailing empty cells dropped, so a row may be shorter
    /// than the header (use [`Row::cell`] or [`ColumnMap::get`]).
    pub cells: Vec<String>,
}

impl Row {
    /// The cell at a 0-based column index, or `""` if the row is shorter.
    pub fn cell(&self, index: usize) -> &str {
        self.cells.get(index).map(String::as_str).unwrap_or("")
    }
}
