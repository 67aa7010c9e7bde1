//! The pure domain of skillcard: what a blank card, a shipment, a vault and a monthly request
//! are, which moves between them the regulation allows, and the invariants that must hold after
//! every move. Nothing here does I/O: storage and HTTP live in `skillcard-db` and `skillcard-web`
//! and call into this crate, so every rule of the regulation can be read and tested in one place.
//!
//! Each clause of the regulation that the code enforces has one findable function named after
//! its requirement ID (`r1_…`, `r4_1_…`, `note2_…`); `grep -rn "R-4.1"` finds it.

pub mod account;
pub mod audit;
pub mod card;
pub mod cases;
pub mod custody;
pub mod date;
pub mod delivery;
pub mod error;
pub mod exam;
pub mod fa;
pub mod issuance;
pub mod ledger;
pub mod national_id;
pub mod notice;
pub mod policy;
pub mod printing;
pub mod serial;
pub mod text;

pub use error::DomainError;
