//! Property: any interleaving of print operations (R-6.7 –: open a print, inspect, confirm
//! the chip, spoil, register) over two issued certificates and three chips, with often invalid
//! input and out-of-order steps, keeps `check()` clean after every step — every serial in one
//! state, one live card per certificate — and every rejected step changes nothing.

use crate::helpers::*;
use crate::printing::issued_certificates;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use skillcard_chip::{CardWriter, FileWriter};
use skillcard_core::policy::Role;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Clone)]
enum Op {
    Start {
        cert: usize,
        chip: usize,
        named: Option<u8>,
    },
    Inspect {
        print: usize,
        sound: bool,
        reason: bool,
    },
    Chip {
        print: usize,
        chip: usize,
        tamper: bool,
    },
    Spoil {
        print: usize,
        reason: bool,
    },
    Register {
        print: usize,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0usize..2, 0usize..3, prop::option::of(0u8..4)).prop_map(|(cert, chip, named)| Op::Start { cert, chip, named }),
        3 => (0usize..4, prop::bool::weighted(0.8), any::<bool>()).prop_map(|(print, sound, reason)| Op::Inspect { print, sound, reason }),
        3 => (0usize..4, 0usize..3, prop::bool::weighted(0.2)).prop_map(|(print, chip, tamper)| Op::Chip { print, chip, tamper }),
        1 => (0usize..4, any::<bool>()).prop_map(|(print, reason)| Op::Spoil { print, reason }),
        3 => (0usize..4).prop_map(|print| Op::Register { print }),
    ]
}

/// Most cases start with one card taken to registration and one spoiled, so that later steps
/// meet bound and spoiled serials; the rest start from nothing.
fn ops() -> impl Strategy<Value = Vec<Op>> {
    (
        prop::bool::weighted(0.7),
        prop::collection::vec(op(), 4..16),
    )
        .prop_map(|(prologue, tail)| {
            let mut ops = Vec::new();
            if prologue {
                ops.extend([
                    Op::Start {
                        cert: 0,
                        chip: 0,
                        named: None,
                    },
                    Op::Inspect {
                        print: 0,
                        sound: true,
                        reason: false,
                    },
                    Op::Chip {
                        print: 0,
                        chip: 0,
                        tamper: false,
                    },
                    Op::Register { print: 0 },
                    Op::Start {
                        cert: 1,
                        chip: 1,
                        named: None,
                    },
                    Op::Spoil {
                        print: 1,
                        reason: true,
                    },
                ]);
            }
            ops.extend(tail);
            ops
        })
}

/// Accepted operations per kind over all cases, to be sure the property is not vacuous.
static ACCEPTED: [AtomicU64; 5] = [const { AtomicU64::new(0) }; 5];

async fn run_case(ops: Vec<Op>) -> Result<(), TestCaseError> {
    let app = spawn_app().await;
    let certs: Vec<i64> = issued_certificates(&app)
        .await
        .into_iter()
        .map(|(c, _)| c)
        .collect();
    let clerk = app
        .create_user("clerk_prop", Role::IssuanceClerk, Some(ISFAHAN))
        .await;
    let key = test_issuer_key();
    let dir = tempdir();
    let mut chips: Vec<FileWriter> = (0..3)
        .map(|i| FileWriter::for_card(&dir, &format!("chip-{i}")).unwrap())
        .collect();
    // Serials a start may name: the lowest of the stock, one in the vault, and whatever the
    // first print took (spoiled or bound later on).
    let lowest: (i64,) =
        sqlx::query_as("SELECT MIN(serial) FROM cards WHERE state = 'with_office'")
            .fetch_one(app.store.pool())
            .await
            .unwrap();
    let in_vault: (i64,) = sqlx::query_as("SELECT MIN(serial) FROM cards WHERE state = 'in_vault'")
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    let mut prints: Vec<skillcard_db::printing::PrintView> = Vec::new();
    for (i, op) in ops.iter().enumerate() {
        let before = db_fingerprint(&app.store).await;
        let pick = |n: usize| {
            prints
                .get(n % prints.len().max(1))
                .map(|p| p.id)
                .unwrap_or(999)
        };
        let (kind, result) = match op {
            Op::Start { cert, chip, named } => {
                let serial = named.map(|n| match n {
                    0 => lowest.0 as u64,
                    1 => in_vault.0 as u64,
                    _ => prints.first().map(|p| p.serial).unwrap_or(1),
                });
                let uid = chips[*chip].uid().unwrap();
                let r = app
                    .store
                    .start_print(&clerk, certs[*cert], &uid, serial, Some(&key))
                    .await;
                if let Ok(p) = &r {
                    prints.push(p.clone());
                }
                (0, r.map(|_| ()))
            }
            Op::Inspect {
                print,
                sound,
                reason,
            } => {
                let why = if *reason { "خش روی عکس" } else { "" };
                (
                    1,
                    app.store
                        .record_print_inspection(&clerk, pick(*print), *sound, why)
                        .await
                        .map(|_| ()),
                )
            }
            Op::Chip {
                print,
                chip,
                tamper,
            } => {
                let id = pick(*print);
                let bytes = prints
                    .iter()
                    .find(|p| p.id == id)
                    .map(|p| hex::decode(&p.credential_hex).unwrap())
                    .unwrap_or_else(|| vec![0xA0]);
                let w = &mut chips[*chip];
                w.write(&bytes).unwrap();
                let mut read_back = w.read().unwrap();
                if *tamper {
                    read_back[0] ^= 0x40;
                }
                let uid = w.uid().unwrap();
                (
                    2,
                    app.store
                        .confirm_chip(&clerk, id, &uid, &read_back)
                        .await
                        .map(|_| ()),
                )
            }
            Op::Spoil { print, reason } => {
                let why = if *reason {
                    "گیر کردن در چاپگر"
                } else {
                    " "
                };
                (
                    3,
                    app.store
                        .spoil_print(&clerk, pick(*print), why)
                        .await
                        .map(|_| ()),
                )
            }
            Op::Register { print } => (
                4,
                app.store
                    .register_print(&clerk, pick(*print))
                    .await
                    .map(|_| ()),
            ),
        };
        match result {
            Ok(()) => {
                ACCEPTED[kind].fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => {
                prop_assert!(
                    e.domain().is_some(),
                    "step {}: {:?}: not a domain error: {}",
                    i,
                    op,
                    e
                );
                let after = db_fingerprint(&app.store).await;
                prop_assert_eq!(
                    &before,
                    &after,
                    "step {}: rejected {:?} ({}) changed the database",
                    i,
                    op,
                    e
                );
            }
        }
        let report = app.store.check().await.unwrap();
        prop_assert!(report.is_ok(), "step {}: after {:?}: {:?}", i, op, report);
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

#[test]
fn prop_print_interleavings_keep_invariants() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut runner = TestRunner::new(Config {
        cases: 10,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&ops(), |ops| rt.block_on(run_case(ops)));
    if let Err(e) = result {
        panic!("{e}");
    }
    let accepted: Vec<u64> = ACCEPTED.iter().map(|a| a.load(Ordering::Relaxed)).collect();
    eprintln!("accepted (start, inspect, chip, spoil, register): {accepted:?}");
    assert!(accepted.iter().all(|&n| n > 0), "vacuous run: {accepted:?}");
}
