//! Form 2, the vault inventory: one row per movement with a running balance. The rows are derived
//! from the recorded movements, never typed in, so the ledger cannot disagree with the cards.

use crate::serial::SerialRange;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    In,
    Out,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::In => "in",
            Direction::Out => "out",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "in" => Some(Direction::In),
            "out" => Some(Direction::Out),
            _ => None,
        }
    }
}

/// One recorded movement of a serial range into or out of a vault.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Movement {
    pub date: time::Date,
    pub direction: Direction,
    pub range: SerialRange,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerRow {
    pub date: time::Date,
    pub direction: Direction,
    pub range: SerialRange,
    pub count: u64,
    pub balance: i64,
}

/// Rows of Form 2 for movements in recorded order, starting from `opening` (the balance before
/// the first of them).
pub fn ledger_rows(opening: i64, movements: &[Movement]) -> Vec<LedgerRow> {
    let mut balance = opening;
    movements
        .iter()
        .map(|m| {
            let count = m.range.len();
            balance += match m.direction {
                Direction::In => count as i64,
                Direction::Out => -(count as i64),
            };
            LedgerRow {
                date: m.date,
                direction: m.direction,
                range: m.range,
                count,
                balance,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn running_balance() {
        let r = |a, b| SerialRange::new(a, b).unwrap();
        let ms = vec![
            Movement {
                date: date!(2026 - 11 - 01),
                direction: Direction::In,
                range: r(1, 100),
            },
            Movement {
                date: date!(2026 - 11 - 02),
                direction: Direction::Out,
                range: r(1, 30),
            },
            Movement {
                date: date!(2026 - 11 - 03),
                direction: Direction::In,
                range: r(201, 210),
            },
        ];
        let rows = ledger_rows(5, &ms);
        let balances: Vec<i64> = rows.iter().map(|r| r.balance).collect();
        assert_eq!(balances, vec![105, 75, 85]);
    }
}
