//! Finding required columns by their (Persian or English) header names.

use crate::text::fold_header;
use crate::{Row, SheetError};

/// Which column each wanted key was found in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnMap {
    columns: Vec<(&'static str, usize)>,
}

impl ColumnMap {
    /// The cell of `row` under the column mapped to `key`; `""` if the row is
    /// shorter, or if `key` was not among the wanted keys.
    pub fn get<'r>(&self, row: &'r Row, key: &str) -> &'r str {
        self.index(key).map(|i| row.cell(i)).unwrap_or("")
    }

    /// The 0-based column index mapped to `key`.
    pub fn index(&self, key: &str) -> Option<usize> {
        self.columns
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, i)| *i)
    }
}

/// Maps each wanted key to the one header that matches any of its accepted
/// names. Matching folds both sides with [`fold_header`] (trim, case, Arabic
/// ي/ى/ك → Persian ی/ک, digits, no ZWNJ/spaces/`_`/`-`).
///
/// Errors: [`SheetError::MissingColumns`] if some key matches no header
/// (all such keys listed), else [`SheetError::DuplicateColumns`] if some key
/// matches two or more headers. Headers matching no key are ignored.
pub fn map_columns(
    headers: &[String],
    wanted: &[(&'static str, &[&str])],
) -> Result<ColumnMap, SheetError> {
    let folded: Vec<String> = headers.iter().map(|h| fold_header(h)).collect();
    let mut columns = Vec::with_capacity(wanted.len());
    let (mut missing, mut missing_names) = (Vec::new(), Vec::new());
    let (mut dup, mut dup_names) = (Vec::new(), Vec::new());
    for (key, names) in wanted {
        let accepted: Vec<String> = names.iter().map(|n| fold_header(n)).collect();
        let hits: Vec<usize> = folded
            .iter()
            .enumerate()
            .filter(|(_, h)| !h.is_empty() && accepted.contains(h))
            .map(|(i, _)| i)
            .collect();
        let display = names.first().copied().unwrap_or(key).to_string();
        match hits.as_slice() {
            [] => {
                missing.push(*key);
                missing_names.push(display);
            }
            [i] => columns.push((*key, *i)),
            _ => {
                dup.push(*key);
                dup_names.push(display);
            }
        }
    }
    if !missing.is_empty() {
        return Err(SheetError::MissingColumns {
            keys: missing,
            names: missing_names,
        });
    }
    if !dup.is_empty() {
        return Err(SheetError::DuplicateColumns {
            keys: dup,
            names: dup_names,
        });
    }
    Ok(ColumnMap { columns })
}
