//! Card serial numbers and ranges of them.
//!
//! Blank cards move by serial range (R-1, R-4.3, Forms 1, 2 and 4), so ranges are the unit of
//! every custody operation; single cards are ranges of one.

use crate::error::DomainError;
use crate::text;
use serde::{Deserialize, Serialize};

/// The largest serial the system accepts: printed serials are at most 12 digits.
pub const MAX_SERIAL: u64 = 999_999_999_999;
/// The largest range one line of a shipment may hold. A bigger number is almost certainly a typo.
pub const MAX_RANGE_LEN: u64 = 500_000;

/// A closed range of serials `first..=last`, with `first <= last` and a sane size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SerialRange {
    first: u64,
    last: u64,
}

impl SerialRange {
    pub fn new(first: u64, last: u64) -> Result<Self, DomainError> {
        if first == 0 || last > MAX_SERIAL {
            return Err(DomainError::SerialOutOfBounds {
                value: first.max(last),
            });
        }
        if first > last {
            return Err(DomainError::ReversedRange { first, last });
        }
        if last - first + 1 > MAX_RANGE_LEN {
            return Err(DomainError::RangeTooLarge {
                first,
                last,
                max: MAX_RANGE_LEN,
            });
        }
        Ok(SerialRange { first, last })
    }

    pub fn single(serial: u64) -> Result<Self, DomainError> {
        Self::new(serial, serial)
    }

    /// Parses a range typed by a user in any digit system: the two ends as separate fields.
    pub fn parse(first: &str, last: &str) -> Result<Self, DomainError> {
        let f = parse_serial(first)?;
        let l = parse_serial(last)?;
        Self::new(f, l)
    }

    pub fn first(&self) -> u64 {
        self.first
    }
    pub fn last(&self) -> u64 {
        self.last
    }
    pub fn len(&self) -> u64 {
        self.last - self.first + 1
    }
    /// A range always holds at least one serial.
    pub fn is_empty(&self) -> bool {
        false
    }
    pub fn contains(&self, serial: u64) -> bool {
        self.first <= serial && serial <= self.last
    }
    pub fn overlaps(&self, other: &SerialRange) -> bool {
        self.first <= other.last && other.first <= self.last
    }
    pub fn covers(&self, other: &SerialRange) -> bool {
        self.first <= other.first && other.last <= self.last
    }
}

impl std::fmt::Display for SerialRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}–{}", self.first, self.last)
    }
}

/// Parses one serial typed in Persian, Arabic-Indic or Latin digits.
pub fn parse_serial(input: &str) -> Result<u64, DomainError> {
    let n = text::parse_u64(input).ok_or_else(|| DomainError::MalformedNumber {
        input: input.to_string(),
    })?;
    if n == 0 || n > MAX_SERIAL {
        return Err(DomainError::SerialOutOfBounds { value: n });
    }
    Ok(n)
}

/// Parses a list of ranges as people type them: one per line or separated by commas, each
/// `first-last`, `first تا last` or a single serial, in any digit system. Blank items are skipped.
pub fn parse_range_list(input: &str) -> Result<Vec<SerialRange>, DomainError> {
    let norm = text::normalize(&input.replace(['\n', '\r', '،', ';'], ","));
    let mut out = Vec::new();
    for item in norm.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let item = item.replace(" تا ", "-").replace(['–', '—', '_'], "-");
        let r = match item.split_once('-') {
            Some((a, b)) => SerialRange::parse(a.trim(), b.trim())?,
            None => SerialRange::single(parse_serial(item.trim())?)?,
        };
        out.push(r);
    }
    Ok(out)
}

/// Total number of serials in a list of ranges.
pub fn total(ranges: &[SerialRange]) -> u64 {
    ranges.iter().map(SerialRange::len).sum()
}

/// Sorts ranges and fails on the first pair that shares a serial.
pub fn sorted_disjoint(mut ranges: Vec<SerialRange>) -> Result<Vec<SerialRange>, DomainError> {
    ranges.sort();
    for pair in ranges.windows(2) {
        if pair[0].overlaps(&pair[1]) {
            return Err(DomainError::OverlappingRanges {
                a: pair[0].to_string(),
                b: pair[1].to_string(),
            });
        }
    }
    Ok(ranges)
}

/// Compresses a sorted list of distinct serials into maximal ranges.
pub fn compress(serials: &[u64]) -> Vec<SerialRange> {
    let mut out: Vec<SerialRange> = Vec::new();
    for &s in serials {
        match out.last_mut() {
            Some(r) if r.last + 1 == s && r.len() < MAX_RANGE_LEN => r.last = s,
            _ => out.push(SerialRange { first: s, last: s }),
        }
    }
    out
}

/// The serials of `outer` not in any of `holes` (which must be sorted, disjoint and inside
/// `outer`), as ranges.
pub fn subtract(outer: &SerialRange, holes: &[SerialRange]) -> Vec<SerialRange> {
    let mut out = Vec::new();
    let mut next = outer.first;
    for h in holes.iter().filter(|h| h.overlaps(outer)) {
        if h.first > next {
            out.push(SerialRange {
                first: next,
                last: h.first - 1,
            });
        }
        next = next.max(h.last.saturating_add(1));
    }
    if next <= outer.last {
        out.push(SerialRange {
            first: next,
            last: outer.last,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(a: u64, b: u64) -> SerialRange {
        SerialRange::new(a, b).unwrap()
    }

    #[test]
    fn rejects_bad_ranges() {
        assert!(matches!(
            SerialRange::new(10, 9),
            Err(DomainError::ReversedRange { .. })
        ));
        assert!(matches!(
            SerialRange::new(0, 9),
            Err(DomainError::SerialOutOfBounds { .. })
        ));
        assert!(matches!(
            SerialRange::new(1, MAX_RANGE_LEN + 1),
            Err(DomainError::RangeTooLarge { .. })
        ));
        assert_eq!(r(1, MAX_RANGE_LEN).len(), MAX_RANGE_LEN);
    }

    #[test]
    fn parses_persian_digits() {
        assert_eq!(
            SerialRange::parse("۱۰۰۰۰۱", "١٠٠٠١٠").unwrap(),
            r(100001, 100010)
        );
        assert!(matches!(
            SerialRange::parse("12x", "13"),
            Err(DomainError::MalformedNumber { .. })
        ));
    }

    #[test]
    fn parses_lists() {
        let rs = parse_range_list("۱۰۰-۱۹۹\n300 تا 310, 400").unwrap();
        assert_eq!(rs, vec![r(100, 199), r(300, 310), r(400, 400)]);
        assert!(parse_range_list("").unwrap().is_empty());
        assert!(matches!(
            parse_range_list("20-10"),
            Err(DomainError::ReversedRange { .. })
        ));
        assert!(matches!(
            parse_range_list("1-x"),
            Err(DomainError::MalformedNumber { .. })
        ));
    }

    #[test]
    fn detects_overlap() {
        assert!(sorted_disjoint(vec![r(10, 20), r(1, 9)]).is_ok());
        assert!(sorted_disjoint(vec![r(10, 20), r(20, 30)]).is_err());
    }

    #[test]
    fn compress_and_subtract_agree() {
        let outer = r(1, 20);
        let holes = vec![r(1, 2), r(5, 5), r(19, 20)];
        let rest = subtract(&outer, &holes);
        assert_eq!(rest, vec![r(3, 4), r(6, 18)]);
        let serials: Vec<u64> = (1..=20)
            .filter(|s| !holes.iter().any(|h| h.contains(*s)))
            .collect();
        assert_eq!(compress(&serials), rest);
    }
}
