//! The one error type of this crate, with a stable code and a Persian message.

/// Everything that can go wrong while reading or writing a sheet.
///
/// `code()` is stable (snake_case, safe to match on in clients and logs);
/// `message_fa()` is a short Persian sentence that can be shown to the user.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SheetError {
    /// More data rows than allowed.
    #[error("the sheet has more than {max} data rows")]
    TooManyRows { max: usize },
    /// More columns than allowed.
    #[error("the sheet has more than {max} columns")]
    TooManyColumns { max: usize },
    /// The input (or, for xlsx, its unpacked content) is too big.
    #[error("the file is larger than {max_bytes} bytes")]
    TooLarge { max_bytes: usize },
    /// Neither a spreadsheet nor a text (CSV) file.
    #[error("the file is neither an Excel workbook nor a CSV text file")]
    NotASheet,
    /// No header row, or a header row and no data rows.
    #[error("the sheet has no data rows")]
    Empty,
    /// Text that could not be decoded.
    #[error("the file's text encoding could not be read")]
    Encoding,
    /// The workbook could not be read (or written).
    #[error("Excel workbook error: {0}")]
    Xlsx(String),
    /// Malformed CSV at a physical line of the file (1-based).
    #[error("CSV error at line {line}: {msg}")]
    Csv { line: u64, msg: String },
    /// Required columns that no header matched: their keys, and for each the
    /// first accepted header name (what to tell the user to add).
    #[error("missing columns: {}", keys.join(", "))]
    MissingColumns {
        keys: Vec<&'static str>,
        names: Vec<String>,
    },
    /// Columns matched by more than one header: their keys, and for each the
    /// first accepted header name.
    #[error("columns given more than once: {}", keys.join(", "))]
    DuplicateColumns {
        keys: Vec<&'static str>,
        names: Vec<String>,
    },
}

impl SheetError {
    /// A stable snake_case code for clients and logs.
    pub fn code(&self) -> &'static str {
        match self {
            SheetError::TooManyRows { .. } => "sheet_too_many_rows",
            SheetError::TooManyColumns { .. } => "sheet_too_many_columns",
            SheetError::TooLarge { .. } => "sheet_too_large",
            SheetError::NotASheet => "sheet_not_a_sheet",
            SheetError::Empty => "sheet_empty",
            SheetError::Encoding => "sheet_encoding",
            SheetError::Xlsx(_) => "sheet_xlsx",
            SheetError::Csv { .. } => "sheet_csv",
            SheetError::MissingColumns { .. } => "sheet_missing_columns",
            SheetError::DuplicateColumns { .. } => "sheet_duplicate_columns",
        }
    }

    /// A short Persian message for the user (digits in Persian).
    pub fn message_fa(&self) -> String {
        match self {
            SheetError::TooManyRows { max } => {
                format!("فایل بیش از {} ردیف داده دارد.", fa_digits(*max))
            }
            SheetError::TooManyColumns { max } => {
                format!("فایل بیش از {} ستون دارد.", fa_digits(*max))
            }
            SheetError::TooLarge { max_bytes } => format!(
                "حجم فایل بیش از حد مجاز ({} مگابایت) است.",
                fa_digits(max_bytes.div_ceil(1024 * 1024))
            ),
            SheetError::NotASheet => "فایل، اکسل (xlsx) یا CSV نیست.".to_string(),
            SheetError::Empty => "فایل هیچ ردیف داده‌ای ندارد.".to_string(),
            SheetError::Encoding => {
                "کدگذاری متن فایل خوانا نیست؛ آن را با قالب «CSV UTF-8» ذخیره کنید.".to_string()
            }
            SheetError::Xlsx(_) => "فایل اکسل خوانا نیست.".to_string(),
            SheetError::Csv { line, .. } => {
                format!("فایل CSV در سطر {} خراب است.", fa_digits(*line))
            }
            SheetError::MissingColumns { names, .. } => {
                format!("این ستون‌ها در فایل پیدا نشد: {}", names.join("، "))
            }
            SheetError::DuplicateColumns { names, .. } => {
                format!("این ستون‌ها بیش از یک بار آمده‌اند: {}", names.join("، "))
            }
        }
    }
}

/// Renders a number with Persian digits.
pub(crate) fn fa_digits(n: impl std::fmt::Display) -> String {
    n.to_string()
        .chars()
        .map(|c| match c.to_digit(10) {
            Some(d) if c.is_ascii_digit() => char::from_u32(0x06F0 + d).unwrap_or(c),
            _ => c,
        })
        .collect()
}
