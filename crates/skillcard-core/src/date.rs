//! Solar Hijri (Jalali) dates. Every date a user reads or types is Solar Hijri; storage keeps
//! Gregorian ISO dates so that the database sorts and compares them without a calendar.
//! The conversion is ICU4X's Persian calendar.

use crate::error::DomainError;
use crate::text;
use icu_calendar::cal::Persian;
use icu_calendar::Date;
use serde::{Deserialize, Serialize};

/// A Solar Hijri calendar date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct JalaliDate {
    pub year: i32,
    pub month: u8,
    pub day: u8,
}

/// A Solar Hijri month, the period of a monthly request (R-4.1, Note 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct JalaliMonth {
    pub year: i32,
    pub month: u8,
}

const MONTH_NAMES: [&str; 12] = [
    "فروردین",
    "اردیبهشت",
    "خرداد",
    "تیر",
    "مرداد",
    "شهریور",
    "مهر",
    "آبان",
    "آذر",
    "دی",
    "بهمن",
    "اسفند",
];

impl JalaliDate {
    pub fn from_gregorian(d: time::Date) -> Result<Self, DomainError> {
        let iso = Date::try_new_iso(d.year(), d.month() as u8, d.day()).map_err(|_| {
            DomainError::InvalidDate {
                input: d.to_string(),
            }
        })?;
        let p = iso.to_calendar(Persian);
        Ok(JalaliDate {
            year: p.year().extended_year(),
            month: p.month().ordinal,
            day: p.day_of_month().0,
        })
    }

    pub fn to_gregorian(self) -> Result<time::Date, DomainError> {
        let bad = || DomainError::InvalidDate {
            input: self.to_string(),
        };
        let p = Date::try_new_persian(self.year, self.month, self.day).map_err(|_| bad())?;
        let iso = p.to_calendar(icu_calendar::Iso);
        let month = time::Month::try_from(iso.month().ordinal).map_err(|_| bad())?;
        time::Date::from_calendar_date(iso.year().extended_year(), month, iso.day_of_month().0)
            .map_err(|_| bad())
    }

    /// Parses `1405/09/03` (or with `-`), in any digit system; checks the day exists.
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        let bad = || DomainError::InvalidDate {
            input: input.to_string(),
        };
        let norm = text::normalize(input);
        let parts: Vec<&str> = norm.split(['/', '-']).collect();
        let [y, m, d] = parts.as_slice() else {
            return Err(bad());
        };
        let date = JalaliDate {
            year: y.parse().map_err(|_| bad())?,
            month: m.parse().map_err(|_| bad())?,
            day: d.parse().map_err(|_| bad())?,
        };
        if !(1300..=1600).contains(&date.year) {
            return Err(bad());
        }
        date.to_gregorian().map_err(|_| bad())?;
        Ok(date)
    }

    pub fn month_of(self) -> JalaliMonth {
        JalaliMonth {
            year: self.year,
            month: self.month,
        }
    }

    /// `۱۴۰۵/۰۹/۰۳`.
    pub fn to_persian(self) -> String {
        text::persian_digits(&self.to_string())
    }
}

impl std::fmt::Display for JalaliDate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}/{:02}/{:02}", self.year, self.month, self.day)
    }
}

impl JalaliMonth {
    /// `140509`: a sortable integer key for storage.
    pub fn key(self) -> i64 {
        i64::from(self.year) * 100 + i64::from(self.month)
    }

    pub fn from_key(key: i64) -> Result<Self, DomainError> {
        let month = u8::try_from(key % 100).unwrap_or(0);
        let year = i32::try_from(key / 100).unwrap_or(0);
        if !(1..=12).contains(&month) {
            return Err(DomainError::InvalidDate {
                input: key.to_string(),
            });
        }
        Ok(JalaliMonth { year, month })
    }

    pub fn previous(self) -> Self {
        if self.month == 1 {
            JalaliMonth {
                year: self.year - 1,
                month: 12,
            }
        } else {
            JalaliMonth {
                year: self.year,
                month: self.month - 1,
            }
        }
    }

    pub fn first_day(self) -> JalaliDate {
        JalaliDate {
            year: self.year,
            month: self.month,
            day: 1,
        }
    }

    /// The first day of the next month, the exclusive end of this one.
    pub fn next(self) -> Self {
        if self.month == 12 {
            JalaliMonth {
                year: self.year + 1,
                month: 1,
            }
        } else {
            JalaliMonth {
                year: self.year,
                month: self.month + 1,
            }
        }
    }

    /// `آذر ۱۴۰۵`.
    pub fn label(self) -> String {
        let name = MONTH_NAMES
            .get(usize::from(self.month.saturating_sub(1)))
            .copied()
            .unwrap_or("");
        format!("{} {}", name, text::fa_num(self.year))
    }
}

/// The calendar day in Iran (UTC+03:30, no daylight saving since 2022) at instant `now`: the day
/// an office works in, for dates of record and for "this month".
pub fn tehran_date(now: time::OffsetDateTime) -> time::Date {
    let offset = time::UtcOffset::from_hms(3, 30, 0).unwrap_or(time::UtcOffset::UTC);
    now.to_offset(offset).date()
}

/// An instant stored as RFC 3339 text, as people in Iran read it: the Solar Hijri date and the
/// time in Tehran, in Persian digits (the text itself if it does not parse).
pub fn fa_datetime(rfc3339: &str) -> String {
    let Ok(t) =
        time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339)
    else {
        return rfc3339.to_string();
    };
    let offset = time::UtcOffset::from_hms(3, 30, 0).unwrap_or(time::UtcOffset::UTC);
    let local = t.to_offset(offset);
    crate::text::persian_digits(&format!(
        "{} {:02}:{:02}",
        fa_date(local.date()),
        local.hour(),
        local.minute()
    ))
}

/// Formats a Gregorian date stored in the database as a Persian Solar Hijri date.
pub fn fa_date(d: time::Date) -> String {
    JalaliDate::from_gregorian(d)
        .map(JalaliDate::to_persian)
        .unwrap_or_else(|_| d.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn known_dates() {
        let j = JalaliDate::from_gregorian(date!(2026 - 11 - 24)).unwrap();
        assert_eq!(j.to_string(), "1405/09/03");
        assert_eq!(j.to_persian(), "۱۴۰۵/۰۹/۰۳");
        assert_eq!(j.to_gregorian().unwrap(), date!(2026 - 11 - 24));
    }

    #[test]
    fn nowruz_boundaries() {
        // 1 Farvardin 1404 = 2025-03-21; 1 Farvardin 1405 = 2026-03-21.
        assert_eq!(
            JalaliDate::from_gregorian(date!(2025 - 03 - 21))
                .unwrap()
                .to_string(),
            "1404/01/01"
        );
        assert_eq!(
            JalaliDate::from_gregorian(date!(2025 - 03 - 20))
                .unwrap()
                .to_string(),
            "1403/12/30"
        );
        assert_eq!(
            JalaliDate::from_gregorian(date!(2026 - 03 - 21))
                .unwrap()
                .to_string(),
            "1405/01/01"
        );
        assert_eq!(
            JalaliDate::from_gregorian(date!(2026 - 03 - 20))
                .unwrap()
                .to_string(),
            "1404/12/29"
        );
    }

    #[test]
    fn leap_year_esfand_30() {
        // 1403 is a leap year: 30 Esfand exists; 1404 is not.
        assert!(JalaliDate::parse("1403/12/30").is_ok());
        assert!(JalaliDate::parse("1404/12/30").is_err());
    }

    #[test]
    fn parses_persian_input() {
        let j = JalaliDate::parse("۱۴۰۵/۰۹/۰۳").unwrap();
        assert_eq!(
            j,
            JalaliDate {
                year: 1405,
                month: 9,
                day: 3
            }
        );
        assert!(JalaliDate::parse("1405/13/01").is_err());
        assert!(JalaliDate::parse("hello").is_err());
    }

    #[test]
    fn months() {
        let m = JalaliMonth {
            year: 1405,
            month: 1,
        };
        assert_eq!(
            m.previous(),
            JalaliMonth {
                year: 1404,
                month: 12
            }
        );
        assert_eq!(JalaliMonth::from_key(m.key()).unwrap(), m);
        assert_eq!(
            JalaliMonth {
                year: 1405,
                month: 9
            }
            .label(),
            "آذر ۱۴۰۵"
        );
    }
}
