//! The schema guards its state columns itself: every column that holds a core enum refuses, in
//! the database, a value the enum does not have — so a direct `UPDATE` by an operator or a bug in
//! a query cannot put a card into a state the code has never heard of.
//!
//! The allowed values are generated from the enums (`CardState::ALL`, …) at every migration
//! rather than written into a migration file, so a variant added in the core is allowed the next
//! time the server starts. PostgreSQL gets a named `CHECK` constraint; SQLite, which cannot add a
//! constraint to an existing table, gets a pair of `BEFORE INSERT`/`BEFORE UPDATE` triggers that
//! abort. A guard whose definition is already current is left alone (re-validating a constraint
//! reads the whole table).

use crate::{Backend, Result, Store};
use skillcard_core::card::CardState;
use skillcard_core::cases::{CaseKind, CaseStatus};
use skillcard_core::custody::{RequestStatus, ShipmentStatus};
use skillcard_core::exam::{Decision, ListStatus};
use skillcard_core::notice::{Delivery, NoticeKind, NoticeStatus};
use skillcard_core::policy::Role;
use skillcard_core::printing::PrintStatus;

/// One guarded column and the values its enum allows.
pub struct Guard {
    pub table: &'static str,
    pub column: &'static str,
    pub values: Vec<&'static str>,
}

impl Guard {
    fn new<T: Copy>(
        table: &'static str,
        column: &'static str,
        all: &[T],
        name: fn(T) -> &'static str,
    ) -> Self {
        Guard {
            table,
            column,
            values: all.iter().map(|v| name(*v)).collect(),
        }
    }

    fn name(&self) -> String {
        format!("guard_{}_{}", self.table, self.column)
    }

    fn list(&self) -> String {
        self.values
            .iter()
            .map(|v| format!("'{v}'"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Every guarded column.
pub fn guards() -> Vec<Guard> {
    vec![
        Guard::new("cards", "state", &CardState::ALL, CardState::as_str),
        Guard::new(
            "card_prints",
            "status",
            &PrintStatus::ALL,
            PrintStatus::as_str,
        ),
        Guard::new("cases", "status", &CaseStatus::ALL, CaseStatus::as_str),
        Guard::new("cases", "kind", &CaseKind::ALL, CaseKind::as_str),
        Guard::new("exam_lists", "status", &ListStatus::ALL, ListStatus::as_str),
        Guard::new("exam_entries", "decision", &Decision::ALL, Decision::as_str),
        Guard::new("users", "role", &Role::ALL, Role::as_str),
        Guard::new(
            "shipments",
            "status",
            &ShipmentStatus::ALL,
            ShipmentStatus::as_str,
        ),
        Guard::new(
            "monthly_requests",
            "status",
            &RequestStatus::ALL,
            RequestStatus::as_str,
        ),
        Guard::new(
            "notifications",
            "status",
            &NoticeStatus::ALL,
            NoticeStatus::as_str,
        ),
        Guard::new(
            "notifications",
            "kind",
            &NoticeKind::ALL,
            NoticeKind::as_str,
        ),
        Guard::new("notifications", "delivery", Delivery::ALL, Delivery::as_str),
    ]
}

/// The statements that install `g`, and a text that says whether it is current.
fn statements(backend: Backend, g: &Guard) -> (Vec<String>, String) {
    let (name, table, column, list) = (g.name(), g.table, g.column, g.list());
    match backend {
        Backend::Postgres => {
            let check = format!("CHECK ({column} IN ({list}))");
            (
                vec![
                    format!("ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {name}"),
                    format!("ALTER TABLE {table} ADD CONSTRAINT {name} {check}"),
                ],
                check,
            )
        }
        Backend::Sqlite => {
            let abort = format!(
                "WHEN NEW.{column} NOT IN ({list}) BEGIN SELECT RAISE(ABORT, '{table}.{column}: not a known value'); END"
            );
            (
                vec![
                    format!("DROP TRIGGER IF EXISTS {name}_insert"),
                    format!("DROP TRIGGER IF EXISTS {name}_update"),
                    format!("CREATE TRIGGER {name}_insert BEFORE INSERT ON {table} FOR EACH ROW {abort}"),
                    format!(
                        "CREATE TRIGGER {name}_update BEFORE UPDATE OF {column} ON {table} FOR EACH ROW {abort}"
                    ),
                ],
                abort,
            )
        }
    }
}

impl Store {
    /// Installs or refreshes every guard; part of [`Store::migrate`].
    pub(crate) async fn install_guards(&self) -> Result<()> {
        for g in guards() {
            let (stmts, current) = statements(self.backend, &g);
            let installed: Option<(String,)> =
                match self.backend {
                    Backend::Postgres => sqlx::query_as(
                        "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = $1",
                    )
                    .bind(g.name())
                    .fetch_optional(&self.pool)
                    .await?,
                    Backend::Sqlite => {
                        sqlx::query_as(
                            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = $1",
                        )
                        .bind(format!("{}_update", g.name()))
                        .fetch_optional(&self.pool)
                        .await?
                    }
                };
            if installed.is_some_and(|(def,)| same_guard(&def, &current, &g)) {
                continue;
            }
            let mut tx = self.pool.begin().await?;
            for s in stmts {
                sqlx::query(&s).execute(&mut *tx).await?;
            }
            tx.commit().await?;
        }
        Ok(())
    }
}

/// Whether an installed guard allows exactly `g`'s values. PostgreSQL prints a constraint back
/// in its own form (`CHECK ((state = ANY (ARRAY['a'::text, …])))`), so the values are compared,
/// not the text.
fn same_guard(installed: &str, current: &str, g: &Guard) -> bool {
    if installed.contains(current) {
        return true;
    }
    let quoted: Vec<&str> = installed.split('\'').skip(1).step_by(2).collect();
    quoted.len() == g.values.len() && g.values.iter().all(|v| quoted.contains(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_guard_lists_its_enum() {
        let gs = guards();
        let cards = gs
            .iter()
            .find(|g| g.table == "cards")
            .map(|g| g.values.len());
        assert_eq!(cards, Some(CardState::ALL.len()));
        let (stmts, _) = statements(Backend::Postgres, &gs[0]);
        assert!(stmts[1].contains("'in_vault'"), "{}", stmts[1]);
        let pg_form = "CHECK ((state = ANY (ARRAY['a'::text, 'b'::text])))";
        let g = Guard {
            table: "t",
            column: "state",
            values: vec!["a", "b"],
        };
        assert!(same_guard(pg_form, "CHECK (state IN ('a', 'b'))", &g));
        let g3 = Guard {
            values: vec!["a", "b", "c"],
            ..g
        };
        assert!(!same_guard(
            pg_form,
            "CHECK (state IN ('a', 'b', 'c'))",
            &g3
        ));
    }
}
