//! Part 1: shipments, receipts and notices, the monthly cap and requests (Note 2,
//! ) and handovers.

use crate::forms::{self, DecimalText, Flag, NumText, Ranges};
use serde::Deserialize;
use skillcard_core::custody::{Baseline, VaultChecklist};
use skillcard_core::date::JalaliMonth;
use skillcard_core::policy::Actor;
use skillcard_core::DomainError;
use skillcard_db::{
    HandoverInput, InspectionInput, NewRequest, NewShipment, ReceiptInput, ReceiptNoticeInput,
};
use utoipa::ToSchema;

/// HQ dispatches blank cards to a province by serial range.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RecordShipment {
    pub province_id: i64,
    pub ref_no: String,
    pub carrier: String,
    pub declared_count: NumText,
    pub ranges: Ranges,
}

impl RecordShipment {
    pub fn input(self) -> Result<NewShipment, DomainError> {
        Ok(NewShipment {
            province_id: self.province_id,
            ref_no: self.ref_no,
            carrier: self.carrier,
            declared_count: self.declared_count.value("declared_count")?,
            ranges: self.ranges.parse()?,
        })
    }
}

/// R-1, Form 1: the province receives a shipment.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ReceiveShipment {
    /// Cards counted on arrival: the shipment less the missing and damaged ones.
    pub counted: NumText,
    #[serde(default)]
    pub missing: Ranges,
    #[serde(default)]
    pub damaged: Ranges,
    pub deliverer_name: String,
    pub deliverer_title: String,
    pub receiver_name: String,
    pub receiver_title: String,
    #[serde(default)]
    pub remarks: String,
}

impl ReceiveShipment {
    pub fn input(self) -> Result<ReceiptInput, DomainError> {
        Ok(ReceiptInput {
            counted: self.counted.value("counted")?,
            missing: self.missing.parse()?,
            damaged: self.damaged.parse()?,
            deliverer_name: self.deliverer_name,
            deliverer_title: self.deliverer_title,
            receiver_name: self.receiver_name,
            receiver_title: self.receiver_title,
            remarks: self.remarks,
        })
    }
}

/// the letter that tells HQ the shipment arrived.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SendReceiptNotice {
    pub letter_no: String,
    pub signer_name: String,
    #[serde(default)]
    pub signer_title: String,
}

impl SendReceiptNotice {
    pub fn input(self) -> ReceiptNoticeInput {
        ReceiptNoticeInput {
            letter_no: self.letter_no,
            signer_name: self.signer_name,
            signer_title: self.signer_title,
        }
    }
}

/// Note 1, Form 2: Security's record of the vault's condition.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RecordVaultInspection {
    pub temperature_c: DecimalText,
    pub humidity_pct: DecimalText,
    /// The conditions as one object (the API)…
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub checklist: Option<VaultChecklist>,
    /// …or as a form's checkboxes, one field per condition.
    #[serde(flatten)]
    pub ticked: Ticked,
    #[serde(default)]
    pub notes: String,
}

/// Note 1's conditions as checkboxes (an unticked box sends nothing).
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct Ticked {
    #[serde(default)]
    pub no_direct_light: Flag,
    #[serde(default)]
    pub dust_free: Flag,
    #[serde(default)]
    pub no_magnetic_fields: Flag,
    #[serde(default)]
    pub no_pressure_on_cards: Flag,
    #[serde(default)]
    pub serial_order: Flag,
    #[serde(default)]
    pub safety_systems: Flag,
    #[serde(default)]
    pub inventory_form_current: Flag,
}

impl RecordVaultInspection {
    pub fn input(self) -> Result<InspectionInput, DomainError> {
        let t = &self.ticked;
        Ok(InspectionInput {
            temperature_c: self.temperature_c.value("temperature")?,
            humidity_pct: self.humidity_pct.value("humidity")?,
            checklist: self.checklist.unwrap_or(VaultChecklist {
                no_direct_light: t.no_direct_light.get(),
                dust_free: t.dust_free.get(),
                no_magnetic_fields: t.no_magnetic_fields.get(),
                no_pressure_on_cards: t.no_pressure_on_cards.get(),
                serial_order: t.serial_order.get(),
                safety_systems: t.safety_systems.get(),
                inventory_form_current: t.inventory_form_current.get(),
            }),
            notes: self.notes,
        })
    }
}

/// Note 2: HQ's start-up baseline for a province.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SetBaseline {
    pub monthly: NumText,
    /// The last month the baseline applies to, `1405/09`.
    pub through: String,
}

impl SetBaseline {
    pub fn input(self) -> Result<Baseline, DomainError> {
        Ok(Baseline {
            monthly: self.monthly.value("baseline")?,
            through: forms::month(&self.through)?,
        })
    }
}

/// Note 2: HQ raises one month's cap of a province, with its reason.
#[derive(Debug, Deserialize, ToSchema)]
pub struct OverrideCap {
    pub month: String,
    pub max_count: NumText,
    pub reason: String,
}

/// An override, parsed.
pub struct CapOverride {
    pub month: JalaliMonth,
    pub max_count: u64,
    pub reason: String,
}

impl OverrideCap {
    pub fn input(self) -> Result<CapOverride, DomainError> {
        Ok(CapOverride {
            month: forms::month(&self.month)?,
            max_count: self.max_count.value("count")?,
            reason: self.reason,
        })
    }
}

/// Form 3: the head's monthly request (of their own province unless HQ names one).
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateRequest {
    #[serde(default)]
    pub province_id: Option<i64>,
    pub count: NumText,
    pub representative: String,
}

impl CreateRequest {
    pub fn input(self, actor: &Actor) -> Result<NewRequest, DomainError> {
        Ok(NewRequest {
            province_id: self
                .province_id
                .or(actor.province_id)
                .ok_or(DomainError::Required { field: "province" })?,
            count: self.count.value("count")?,
            representative: self.representative,
        })
    }
}

/// Form 4: Security hands cards over against a request (the lowest serials of the vault
/// unless ranges are named).
#[derive(Debug, Deserialize, ToSchema)]
pub struct HandOver {
    #[serde(default)]
    pub count: Option<NumText>,
    #[serde(default)]
    pub ranges: Ranges,
    pub letter_no: String,
    pub deliverer_name: String,
    pub deliverer_title: String,
    pub receiver_name: String,
    pub receiver_title: String,
    #[serde(default)]
    pub remarks: String,
}

impl HandOver {
    pub fn input(self) -> Result<HandoverInput, DomainError> {
        Ok(HandoverInput {
            count: NumText::optional(&self.count, "count")?,
            ranges: Some(self.ranges.parse()?),
            letter_no: self.letter_no,
            deliverer_name: self.deliverer_name,
            deliverer_title: self.deliverer_title,
            receiver_name: self.receiver_name,
            receiver_title: self.receiver_title,
            remarks: self.remarks,
        })
    }
}
