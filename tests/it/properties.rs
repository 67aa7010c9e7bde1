//! Property: any sequence of custody operations (R-1 dispatch/receipt, Note 2 baseline, R-4.1
//! requests, R-4.3 handovers), called directly on the store with random and often invalid input,
//! keeps `check()` clean after every step, and every rejected operation changes nothing.

use crate::helpers::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use skillcard_core::custody::Baseline;
use skillcard_core::date::JalaliMonth;
use skillcard_core::policy::{Actor, Role};
use skillcard_core::serial::SerialRange;
use skillcard_db::{HandoverInput, NewRequest, NewShipment, ReceiptInput, Store};
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Clone)]
enum Op {
    Dispatch {
        province: i64,
        ranges: Vec<(u64, u64)>,
        declared_off: i64,
    },
    Receive {
        pick: usize,
        missing: Option<(u64, u64)>,
        damaged: Option<(u64, u64)>,
        count_off: i64,
    },
    Baseline {
        province: i64,
        monthly: u64,
    },
    Request {
        province: i64,
        count: u64,
    },
    Handover {
        pick: usize,
        count: Option<u64>,
        explicit: Option<(u64, u64)>,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let province = prop_oneof![Just(4i64), Just(5i64)];
    let off = prop_oneof![4 => Just(0i64), 1 => -2i64..=2];
    prop_oneof![
        3 => (province.clone(), prop::collection::vec((0u64..3000, 1u64..400), 1..3), off.clone())
            .prop_map(|(province, ranges, declared_off)| Op::Dispatch { province, ranges, declared_off }),
        3 => (any::<usize>(), prop::option::of((0u64..500, 1u64..20)), prop::option::of((0u64..500, 1u64..5)), off)
            .prop_map(|(pick, missing, damaged, count_off)| Op::Receive { pick, missing, damaged, count_off }),
        1 => (province.clone(), 1u64..500).prop_map(|(province, monthly)| Op::Baseline { province, monthly }),
        2 => (province, 1u64..600).prop_map(|(province, count)| Op::Request { province, count }),
        3 => (any::<usize>(), prop::option::of(1u64..200), prop::option::of((0u64..600, 1u64..50)))
            .prop_map(|(pick, count, explicit)| Op::Handover { pick, count, explicit }),
    ]
}

/// How many operations of each kind were accepted over all cases (dispatch, receive, baseline,
/// request, handover), to be sure the property is not vacuous.
static ACCEPTED: [AtomicU64; 5] = [const { AtomicU64::new(0) }; 5];

fn kind(op: &Op) -> usize {
    match op {
        Op::Dispatch { .. } => 0,
        Op::Receive { .. } => 1,
        Op::Baseline { .. } => 2,
        Op::Request { .. } => 3,
        Op::Handover { .. } => 4,
    }
}

/// Most cases start with a received shipment, a baseline and a request in Isfahan, so that requests and
/// handovers have something to work on; the rest start from nothing.
fn ops() -> impl Strategy<Value = Vec<Op>> {
    (
        prop::bool::weighted(0.75),
        prop::collection::vec(op(), 1..16),
    )
        .prop_map(|(prologue, tail)| {
            let mut ops = Vec::new();
            if prologue {
                ops.push(Op::Dispatch {
                    province: 4,
                    ranges: vec![(0, 300)],
                    declared_off: 0,
                });
                ops.push(Op::Receive {
                    pick: 0,
                    missing: Some((10, 5)),
                    damaged: Some((200, 2)),
                    count_off: 0,
                });
                ops.push(Op::Baseline {
                    province: 4,
                    monthly: 400,
                });
                ops.push(Op::Request {
                    province: 4,
                    count: 250,
                });
            }
            ops.extend(tail);
            ops
        })
}

struct World {
    store: Store,
    hq: Actor,
    security: [Actor; 2],
    head: [Actor; 2],
    month: JalaliMonth,
}

impl World {
    fn idx(p: i64) -> usize {
        usize::from(p != 4)
    }
}

const BASE: u64 = 1_000;

fn range(f: u64, l: u64) -> SerialRange {
    SerialRange::new(f, l).unwrap()
}

/// Runs one operation; `Ok(true)` if the store accepted it, `Ok(false)` for a domain refusal.
async fn apply(w: &World, op: &Op) -> Result<bool, TestCaseError> {
    let s = &w.store;
    let outcome = match op {
        Op::Dispatch {
            province,
            ranges,
            declared_off,
        } => {
            let rs: Vec<SerialRange> = ranges
                .iter()
                .map(|(start, len)| range(BASE + start, BASE + start + len - 1))
                .collect();
            let total: u64 = rs.iter().map(|r| r.len()).sum();
            s.record_shipment(
                &w.hq,
                NewShipment {
                    province_id: *province,
                    ref_no: "P".into(),
                    carrier: "C".into(),
                    declared_count: (total as i64 + declared_off).max(0) as u64,
                    ranges: rs,
                },
            )
            .await
            .map(|_| ())
        }
        Op::Receive {
            pick,
            missing,
            damaged,
            count_off,
        } => {
            let ids: Vec<(i64, i64)> =
                sqlx::query_as("SELECT id, province_id FROM shipments ORDER BY id")
                    .fetch_all(s.pool())
                    .await
                    .unwrap();
            if ids.is_empty() {
                return Ok(false);
            }
            let (id, p) = ids[pick % ids.len()];
            let view = s.shipment(&w.hq, id).await.unwrap();
            let r0 = &view.ranges[0];
            let clip = |(off, len): (u64, u64)| {
                let f = r0.first + off % r0.count;
                range(f, (f + len - 1).min(r0.last))
            };
            let missing: Vec<SerialRange> = missing.map(clip).into_iter().collect();
            let damaged: Vec<SerialRange> = damaged.map(clip).into_iter().collect();
            let expected = view.declared_count as i64
                - missing.iter().map(|r| r.len() as i64).sum::<i64>()
                - damaged.iter().map(|r| r.len() as i64).sum::<i64>();
            s.receive_shipment(
                &w.security[World::idx(p)],
                id,
                ReceiptInput {
                    counted: (expected + count_off).max(0) as u64,
                    missing,
                    damaged,
                    deliverer_name: "D".into(),
                    deliverer_title: "T".into(),
                    receiver_name: "R".into(),
                    receiver_title: "T".into(),
                    remarks: String::new(),
                },
            )
            .await
            .map(|_| ())
        }
        Op::Baseline { province, monthly } => {
            s.set_baseline(
                &w.hq,
                *province,
                Baseline {
                    monthly: *monthly,
                    through: w.month,
                },
            )
            .await
        }
        Op::Request { province, count } => s
            .create_request(
                &w.head[World::idx(*province)],
                NewRequest {
                    province_id: *province,
                    count: *count,
                    representative: "نماینده".into(),
                },
            )
            .await
            .map(|_| ()),
        Op::Handover {
            pick,
            count,
            explicit,
        } => {
            let ids: Vec<(i64, i64)> =
                sqlx::query_as("SELECT id, province_id FROM monthly_requests ORDER BY id")
                    .fetch_all(s.pool())
                    .await
                    .unwrap();
            if ids.is_empty() {
                return Ok(false);
            }
            let (id, p) = ids[pick % ids.len()];
            s.hand_over(
                &w.security[World::idx(p)],
                id,
                HandoverInput {
                    count: *count,
                    ranges: explicit
                        .map(|(off, len)| vec![range(BASE + off, BASE + off + len - 1)]),
                    letter_no: "L".into(),
                    deliverer_name: "D".into(),
                    deliverer_title: "T".into(),
                    receiver_name: "R".into(),
                    receiver_title: "T".into(),
                    remarks: String::new(),
                },
            )
            .await
            .map(|_| ())
        }
    };
    match outcome {
        Ok(()) => Ok(true),
        Err(e) if e.domain().is_some() => Ok(false),
        Err(e) => Err(TestCaseError::fail(format!(
            "{op:?}: not a domain error: {e}"
        ))),
    }
}

async fn run_case(ops: Vec<Op>) -> Result<(), TestCaseError> {
    let (store, url) = fresh_store().await;
    let hq = create_user(&store, "hq", Role::Hq, None).await;
    let security = [
        create_user(&store, "sec4", Role::Security, Some(4)).await,
        create_user(&store, "sec5", Role::Security, Some(5)).await,
    ];
    let head = [
        create_user(&store, "head4", Role::AssessmentHead, Some(4)).await,
        create_user(&store, "head5", Role::AssessmentHead, Some(5)).await,
    ];
    let month = JalaliMonth::from_key(store.cap(&hq, 4, None).await.unwrap().month).unwrap();
    let w = World {
        store,
        hq,
        security,
        head,
        month,
    };
    for (i, op) in ops.iter().enumerate() {
        let before = db_fingerprint(&w.store).await;
        let accepted = apply(&w, op).await?;
        if accepted {
            ACCEPTED[kind(op)].fetch_add(1, Ordering::Relaxed);
        } else {
            let after = db_fingerprint(&w.store).await;
            prop_assert_eq!(
                &before,
                &after,
                "step {}: rejected {:?} changed the database",
                i,
                op
            );
        }
        let report = w.store.check().await.unwrap();
        prop_assert!(report.is_ok(), "step {}: after {:?}: {:?}", i, op, report);
    }
    // The counts add up: every card shipped is in exactly one state.
    let (cards,): (i64,) = sqlx::query_as("SELECT CAST(COUNT(*) AS BIGINT) FROM cards")
        .fetch_one(w.store.pool())
        .await
        .unwrap();
    let (shipped,): (i64,) = sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(last - first + 1), 0) AS BIGINT) FROM shipment_ranges WHERE kind = 'shipped'",
    )
    .fetch_one(w.store.pool())
    .await
    .unwrap();
    prop_assert_eq!(cards, shipped);
    w.store.close().await;
    // Dropping a PostgreSQL database is slow (a checkpoint): do it in the background.
    tokio::spawn(async move { discard_database(&url).await });
    Ok(())
}

#[test]
fn prop_custody_operations_keep_invariants() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut runner = TestRunner::new(Config {
        cases: 24,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&ops(), |ops| rt.block_on(run_case(ops)));
    if let Err(e) = result {
        panic!("{e}");
    }
    let accepted: Vec<u64> = ACCEPTED.iter().map(|a| a.load(Ordering::Relaxed)).collect();
    eprintln!("accepted operations (dispatch, receive, baseline, request, handover): {accepted:?}");
    assert!(
        accepted[0] > 0 && accepted[1] > 0 && accepted[4] > 0,
        "vacuous run: {accepted:?}"
    );
}
