//! Part 1 of the regulation: the custody of blank cards from HQ to the Assessment Office.
//! One function per clause; storage calls them inside its transaction and writes only what they
//! return.

use crate::date::JalaliMonth;
use crate::error::DomainError;
use crate::serial::{self, SerialRange};
use serde::{Deserialize, Serialize};

/// The most cards one shipment may carry.
pub const MAX_SHIPMENT_CARDS: u64 = 1_000_000;
/// The most ranges one shipment, receipt or handover may list.
pub const MAX_RANGES: usize = 1_000;

/// validates a shipment HQ dispatches: at least one range, ranges disjoint, the declared
/// count equal to what the ranges hold. Whether the serials are new to the system is checked by
/// storage against every serial it knows.
pub fn r1_validate_shipment(
    ranges: Vec<SerialRange>,
    declared_count: u64,
) -> Result<Vec<SerialRange>, DomainError> {
    if ranges.is_empty() {
        return Err(DomainError::Required { field: "ranges" });
    }
    if ranges.len() > MAX_RANGES {
        return Err(DomainError::TooManyCards {
            count: ranges.len() as u64,
            max: MAX_RANGES as u64,
        });
    }
    let ranges = serial::sorted_disjoint(ranges)?;
    let total = serial::total(&ranges);
    if total > MAX_SHIPMENT_CARDS {
        return Err(DomainError::TooManyCards {
            count: total,
            max: MAX_SHIPMENT_CARDS,
        });
    }
    if total != declared_count {
        return Err(DomainError::DeclaredCountMismatch {
            declared: declared_count,
            actual: total,
        });
    }
    Ok(ranges)
}

/// What a receipt does to the cards of a shipment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptPlan {
    /// the cards that go into the vault.
    pub to_vault: Vec<SerialRange>,
    pub missing: Vec<SerialRange>,
    pub damaged: Vec<SerialRange>,
    pub received_count: u64,
}

/// R-1 / Form 1: the province counts what arrived. Serials reported missing or damaged must belong
/// to the shipment and not to each other; everything else enters the vault.
pub fn r1_plan_receipt(
    shipment: &[SerialRange],
    missing: Vec<SerialRange>,
    damaged: Vec<SerialRange>,
) -> Result<ReceiptPlan, DomainError> {
    let missing = serial::sorted_disjoint(missing)?;
    let damaged = serial::sorted_disjoint(damaged)?;
    for r in missing.iter().chain(&damaged) {
        if !shipment.iter().any(|s| s.covers(r)) {
            return Err(DomainError::NotInShipment {
                range: r.to_string(),
            });
        }
    }
    let holes = serial::sorted_disjoint(missing.iter().chain(&damaged).copied().collect())?;
    let to_vault: Vec<SerialRange> = shipment
        .iter()
        .flat_map(|s| serial::subtract(s, &holes))
        .collect();
    let received_count = serial::total(&to_vault);
    Ok(ReceiptPlan {
        to_vault,
        missing,
        damaged,
        received_count,
    })
}

stored_words! {
    /// Where a monthly cap comes from.
    pub enum CapBasis {
        /// The cards the office issued in the previous month.
        PreviousMonth => "previous_month",
        /// A province in its first months: HQ's baseline.
        Baseline => "baseline",
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cap {
    pub value: u64,
    pub basis: CapBasis,
}

/// HQ's start-up baseline for a province: the cap for every month up to and including `through`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Baseline {
    pub monthly: u64,
    pub through: JalaliMonth,
}

/// Note 2: no more cards may be transferred in a month than one month's actual issuance. The cap
/// for `month` is the previous month's issuance; during a province's first months (up to HQ's
/// baseline's last month) it is the baseline.
pub fn note2_monthly_cap(
    month: JalaliMonth,
    issued_previous_month: u64,
    baseline: Option<Baseline>,
) -> Cap {
    match baseline {
        Some(b) if month <= b.through => Cap {
            value: b.monthly,
            basis: CapBasis::Baseline,
        },
        _ => Cap {
            value: issued_previous_month,
            basis: CapBasis::PreviousMonth,
        },
    }
}

/// with Note 2: a request must ask for at least one card and no more than the cap, unless HQ
/// recorded an override for the month (the override's count replaces the cap).
pub fn r4_1_check_request(
    count: u64,
    cap: Cap,
    override_max: Option<u64>,
) -> Result<(), DomainError> {
    if count == 0 {
        return Err(DomainError::InvalidValue { field: "count" });
    }
    let limit = override_max.unwrap_or(cap.value);
    if count > limit {
        return Err(DomainError::OverCap {
            requested: count,
            cap: limit,
        });
    }
    Ok(())
}

/// Where a shipment of blank cards stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShipmentStatus {
    /// Dispatched by HQ, not yet received by the province.
    InTransit,
    /// Received, with Form 1's minutes.
    Received,
}

impl ShipmentStatus {
    pub const ALL: [ShipmentStatus; 2] = [ShipmentStatus::InTransit, ShipmentStatus::Received];

    pub fn as_str(self) -> &'static str {
        match self {
            ShipmentStatus::InTransit => "in_transit",
            ShipmentStatus::Received => "received",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// only a shipment in transit can be received.
pub fn r1_check_receivable(id: i64, status: ShipmentStatus) -> Result<(), DomainError> {
    match status {
        ShipmentStatus::InTransit => Ok(()),
        ShipmentStatus::Received => Err(DomainError::ShipmentNotInTransit { id }),
    }
}

/// Where a monthly request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestStatus {
    /// Cards remain to be handed over against it.
    Open,
    /// Every requested card has been handed over.
    Fulfilled,
}

impl RequestStatus {
    pub const ALL: [RequestStatus; 2] = [RequestStatus::Open, RequestStatus::Fulfilled];

    pub fn as_str(self) -> &'static str {
        match self {
            RequestStatus::Open => "open",
            RequestStatus::Fulfilled => "fulfilled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// handovers are made against an open request only.
pub fn r4_3_check_open(id: i64, status: RequestStatus) -> Result<(), DomainError> {
    match status {
        RequestStatus::Open => Ok(()),
        RequestStatus::Fulfilled => Err(DomainError::RequestNotOpen { id }),
    }
}

/// a request is fulfilled once every card it asked for has been handed over.
pub fn r4_3_status_after(requested: u64, handed: u64) -> RequestStatus {
    if handed >= requested {
        RequestStatus::Fulfilled
    } else {
        RequestStatus::Open
    }
}

/// the count handed over against a request may not exceed what remains of it.
pub fn r4_3_check_handover_count(
    requested: u64,
    already_handed: u64,
    handing: u64,
) -> Result<(), DomainError> {
    let remaining = requested.saturating_sub(already_handed);
    if handing == 0 {
        return Err(DomainError::InvalidValue { field: "count" });
    }
    if handing > remaining {
        return Err(DomainError::HandoverExceedsRequest { handing, remaining });
    }
    Ok(())
}

/// with Note 1 (the vault is kept in serial order): by default Security hands over the
/// lowest serials first. `vault` is the vault's serials in ascending order (at least `count` of
/// them, or the vault is short).
pub fn r4_3_pick_lowest(vault_lowest: &[u64], count: u64) -> Result<Vec<SerialRange>, DomainError> {
    if (vault_lowest.len() as u64) < count {
        return Err(DomainError::InsufficientVaultStock {
            requested: count,
            available: vault_lowest.len() as u64,
        });
    }
    Ok(serial::compress(&vault_lowest[..count as usize]))
}

/// One vault inspection (Note 1, R-3.1 … ).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VaultInspection {
    pub temperature_c: f64,
    pub humidity_pct: f64,
    pub checklist: VaultChecklist,
}

/// The yes/no conditions of Note 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct VaultChecklist {
    pub no_direct_light: bool,
    pub dust_free: bool,
    pub no_magnetic_fields: bool,
    pub no_pressure_on_cards: bool,
    pub serial_order: bool,
    pub safety_systems: bool,
    pub inventory_form_current: bool,
}

/// A departure from Note 1 found by an inspection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConditionFlag {
    TemperatureOutOfRange,
    HumidityOutOfRange,
    DirectLight,
    Dust,
    MagneticFields,
    PressureOnCards,
    NotInSerialOrder,
    SafetyMissing,
    InventoryFormStale,
}

impl ConditionFlag {
    pub fn label_fa(self) -> &'static str {
        match self {
            ConditionFlag::TemperatureOutOfRange => "دما خارج از ۱۵ تا ۲۵ درجه",
            ConditionFlag::HumidityOutOfRange => "رطوبت خارج از حد متعارف (۳۰ تا ۶۰ درصد)",
            ConditionFlag::DirectLight => "تابش مستقیم نور",
            ConditionFlag::Dust => "گرد و غبار",
            ConditionFlag::MagneticFields => "میدان مغناطیسی",
            ConditionFlag::PressureOnCards => "فشار یا خمش روی کارت‌ها",
            ConditionFlag::NotInSerialOrder => "چینش خارج از ترتیب سریال",
            ConditionFlag::SafetyMissing => "نقص سامانه‌های ایمنی و اطفای حریق",
            ConditionFlag::InventoryFormStale => "فرم موجودی خزانه به‌روز نیست",
        }
    }
}

/// The range of normal humidity the office uses for Note 1's "normal humidity".
pub const HUMIDITY_RANGE: (f64, f64) = (30.0, 60.0);
/// Note 1: temperature 15–25 °C.
pub const TEMPERATURE_RANGE: (f64, f64) = (15.0, 25.0);

/// Note 1: what an inspection found wrong. Readings must be physically plausible.
pub fn note1_assess(i: &VaultInspection) -> Result<Vec<ConditionFlag>, DomainError> {
    if !i.temperature_c.is_finite() || !(-40.0..=80.0).contains(&i.temperature_c) {
        return Err(DomainError::InvalidValue {
            field: "temperature",
        });
    }
    if !i.humidity_pct.is_finite() || !(0.0..=100.0).contains(&i.humidity_pct) {
        return Err(DomainError::InvalidValue { field: "humidity" });
    }
    let mut flags = Vec::new();
    let (tlo, thi) = TEMPERATURE_RANGE;
    if i.temperature_c < tlo || i.temperature_c > thi {
        flags.push(ConditionFlag::TemperatureOutOfRange);
    }
    let (hlo, hhi) = HUMIDITY_RANGE;
    if i.humidity_pct < hlo || i.humidity_pct > hhi {
        flags.push(ConditionFlag::HumidityOutOfRange);
    }
    let c = &i.checklist;
    let checks = [
        (c.no_direct_light, ConditionFlag::DirectLight),
        (c.dust_free, ConditionFlag::Dust),
        (c.no_magnetic_fields, ConditionFlag::MagneticFields),
        (c.no_pressure_on_cards, ConditionFlag::PressureOnCards),
        (c.serial_order, ConditionFlag::NotInSerialOrder),
        (c.safety_systems, ConditionFlag::SafetyMissing),
        (c.inventory_form_current, ConditionFlag::InventoryFormStale),
    ];
    flags.extend(checks.iter().filter(|(ok, _)| !ok).map(|(_, f)| *f));
    Ok(flags)
}

/// The counts storage gathers for one province, for the custody invariants.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProvinceCounts {
    pub province_id: i64,
    pub in_transit: u64,
    pub in_vault: u64,
    pub with_office: u64,
    pub missing_on_arrival: u64,
    pub damaged_on_arrival: u64,
    /// Serials listed in this province's shipments.
    pub shipped: u64,
    /// Σ in − Σ out of the vault ledger's movements.
    pub ledger_balance: i64,
    /// Cards listed in this province's handovers.
    pub handed_over: u64,
    /// Cards taken from the office stock for a certificate, in any state since: printing,
    /// registered, spoiled, delivered, damaged, void, sent to or at HQ
    /// ([`crate::card::CardState::is_used`]).
    pub used: u64,
    /// Print records, counted from the prints, not the cards: one per used card.
    pub prints: u64,
    /// Serials of in-transit shipments.
    pub shipped_in_transit: u64,
}

/// A broken invariant, named so that an operator can act on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    pub invariant: &'static str,
    pub province_id: Option<i64>,
    pub detail: String,
}

impl ProvinceCounts {
    /// Cards the office has taken from its stock for a certificate, whatever became of them.
    pub fn office_used(&self) -> u64 {
        self.used
    }
}

/// The custody invariants for one province:
/// every shipped serial is in exactly one state; the ledger balance equals the cards in the vault;
/// the office stock equals cards handed over minus cards used (taken for a certificate); in-transit
/// cards are exactly those of shipments not yet received; each used card has one print record in
/// the matching state, and each print record one card.
pub fn check_province(c: &ProvinceCounts) -> Vec<Violation> {
    let mut v = Vec::new();
    let mut fail = |invariant: &'static str, detail: String| {
        v.push(Violation {
            invariant,
            province_id: Some(c.province_id),
            detail,
        })
    };
    let accounted = c.in_transit
        + c.in_vault
        + c.with_office
        + c.missing_on_arrival
        + c.damaged_on_arrival
        + c.office_used();
    if accounted != c.shipped {
        fail(
            "every_serial_one_state",
            format!("{} serials shipped, {} accounted for", c.shipped, accounted),
        );
    }
    if c.ledger_balance != c.in_vault as i64 {
        fail(
            "ledger_equals_vault",
            format!(
                "ledger balance {} but {} cards in vault",
                c.ledger_balance, c.in_vault
            ),
        );
    }
    if c.handed_over.checked_sub(c.office_used()) != Some(c.with_office) {
        fail(
            "office_stock",
            format!(
                "{} handed over − {} used ≠ {} with the office",
                c.handed_over,
                c.office_used(),
                c.with_office
            ),
        );
    }
    if c.prints != c.used {
        fail(
            "prints_match_cards",
            format!("{} print records but {} used cards", c.prints, c.used),
        );
    }
    if c.in_transit != c.shipped_in_transit {
        fail(
            "transit_matches_shipments",
            format!(
                "{} cards in transit but open shipments list {}",
                c.in_transit, c.shipped_in_transit
            ),
        );
    }
    v
}

#[cfg(test)]
mod tests {

    #[test]
    fn shipment_and_request_lifecycles() {
        assert!(r1_check_receivable(1, ShipmentStatus::InTransit).is_ok());
        assert_eq!(
            r1_check_receivable(1, ShipmentStatus::Received),
            Err(DomainError::ShipmentNotInTransit { id: 1 })
        );
        assert_eq!(r4_3_status_after(100, 40), RequestStatus::Open);
        assert_eq!(r4_3_status_after(100, 100), RequestStatus::Fulfilled);
        assert!(r4_3_check_open(2, RequestStatus::Open).is_ok());
        assert!(r4_3_check_open(2, RequestStatus::Fulfilled).is_err());
        for s in ShipmentStatus::ALL {
            assert_eq!(ShipmentStatus::parse(s.as_str()), Some(s));
        }
        for r in RequestStatus::ALL {
            assert_eq!(RequestStatus::parse(r.as_str()), Some(r));
        }
    }

    use super::*;

    fn r(a: u64, b: u64) -> SerialRange {
        SerialRange::new(a, b).unwrap()
    }

    #[test]
    fn shipment_rules() {
        assert!(r1_validate_shipment(vec![r(1, 10), r(20, 29)], 20).is_ok());
        assert!(matches!(
            r1_validate_shipment(vec![r(1, 10)], 11),
            Err(DomainError::DeclaredCountMismatch {
                declared: 11,
                actual: 10
            })
        ));
        assert!(matches!(
            r1_validate_shipment(vec![r(1, 10), r(5, 12)], 18),
            Err(DomainError::OverlappingRanges { .. })
        ));
        assert!(r1_validate_shipment(vec![], 0).is_err());
    }

    #[test]
    fn receipt_splits_shipment() {
        let plan = r1_plan_receipt(
            &[r(1, 100), r(201, 300)],
            vec![r(50, 59)],
            vec![r(201, 201)],
        )
        .unwrap();
        assert_eq!(plan.to_vault, vec![r(1, 49), r(60, 100), r(202, 300)]);
        assert_eq!(plan.received_count, 189);
        assert!(matches!(
            r1_plan_receipt(&[r(1, 100)], vec![r(90, 110)], vec![]),
            Err(DomainError::NotInShipment { .. })
        ));
        assert!(r1_plan_receipt(&[r(1, 100)], vec![r(5, 9)], vec![r(9, 9)]).is_err());
    }

    #[test]
    fn cap_rules() {
        let m = JalaliMonth {
            year: 1405,
            month: 9,
        };
        let b = Baseline {
            monthly: 500,
            through: m,
        };
        assert_eq!(note2_monthly_cap(m, 3, Some(b)).value, 500);
        assert_eq!(
            note2_monthly_cap(m.next(), 3, Some(b)),
            Cap {
                value: 3,
                basis: CapBasis::PreviousMonth
            }
        );
        let cap = Cap {
            value: 100,
            basis: CapBasis::PreviousMonth,
        };
        assert!(r4_1_check_request(100, cap, None).is_ok());
        assert_eq!(
            r4_1_check_request(101, cap, None),
            Err(DomainError::OverCap {
                requested: 101,
                cap: 100
            })
        );
        assert!(r4_1_check_request(150, cap, Some(150)).is_ok());
        assert!(r4_1_check_request(0, cap, None).is_err());
    }

    #[test]
    fn pick_lowest_first() {
        let vault = [5, 6, 7, 10, 11, 20];
        assert_eq!(
            r4_3_pick_lowest(&vault, 5).unwrap(),
            vec![r(5, 7), r(10, 11)]
        );
        assert!(matches!(
            r4_3_pick_lowest(&vault, 7),
            Err(DomainError::InsufficientVaultStock { .. })
        ));
    }

    #[test]
    fn inspection_flags() {
        let all_ok = VaultChecklist {
            no_direct_light: true,
            dust_free: true,
            no_magnetic_fields: true,
            no_pressure_on_cards: true,
            serial_order: true,
            safety_systems: true,
            inventory_form_current: true,
        };
        let ok = VaultInspection {
            temperature_c: 20.0,
            humidity_pct: 45.0,
            checklist: all_ok,
        };
        assert!(note1_assess(&ok).unwrap().is_empty());
        let hot = VaultInspection {
            temperature_c: 25.5,
            ..ok.clone()
        };
        assert_eq!(
            note1_assess(&hot).unwrap(),
            vec![ConditionFlag::TemperatureOutOfRange]
        );
        let nan = VaultInspection {
            temperature_c: f64::NAN,
            ..ok
        };
        assert!(note1_assess(&nan).is_err());
    }

    #[test]
    fn invariants_catch_drift() {
        let good = ProvinceCounts {
            province_id: 1,
            in_vault: 90,
            with_office: 10,
            shipped: 100,
            ledger_balance: 90,
            handed_over: 10,
            ..Default::default()
        };
        assert!(check_province(&good).is_empty());
        let bad = ProvinceCounts {
            ledger_balance: 91,
            ..good
        };
        assert_eq!(check_province(&bad)[0].invariant, "ledger_equals_vault");
        let used = ProvinceCounts {
            with_office: 6,
            used: 4,
            prints: 4,
            ..good.clone()
        };
        assert!(check_province(&used).is_empty());
        let orphan = ProvinceCounts {
            prints: 3,
            ..used.clone()
        };
        assert_eq!(check_province(&orphan)[0].invariant, "prints_match_cards");
        let leaked = ProvinceCounts {
            with_office: 7,
            ..used
        };
        let names: Vec<_> = check_province(&leaked)
            .iter()
            .map(|v| v.invariant)
            .collect();
        assert_eq!(names, ["every_serial_one_state", "office_stock"]);
    }
}
