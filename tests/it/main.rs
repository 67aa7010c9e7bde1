//! The one integration-test binary: the real server over a fresh database per test.
//! `SKILLCARD_TEST_DATABASE=postgres` runs everything on PostgreSQL instead of SQLite.
//! (`cargo test --test it`; the PostgreSQL server is `postgres://postgres@127.0.0.1:5432`.)

// The workspace denies these outside tests; a test that fails should panic loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod aftercare;
mod aftercare_pages;
mod auth;
mod backup;
mod concurrency;
mod config;
mod corrections;
mod custody;
mod documents;
mod exam_pages;
mod exams;
mod hardening;
mod helpers;
mod integrity;
mod issuance;
mod keys;
mod metrics;
mod next_actions;
mod openapi;
mod paging;
mod print_properties;
mod printing;
mod properties;
mod public_limits;
mod queues;
mod senders;
mod transparency;
mod verify_cache;
