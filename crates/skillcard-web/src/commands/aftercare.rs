//! Part 3: handing cards to their holders and the steps of damage cases and
//! replacement requests (R-8.1, Note 4).

use crate::forms::{self, Flag, NumText, Upload};
use crate::multipart::{self, Part};
use serde::Deserialize;
use skillcard_core::cases::{r8_1_damaged_card, Corrections, DamagedCard};
use skillcard_core::delivery::{r7_1_in_person, r7_post, Handover};
use skillcard_core::notice::{parse_contact, parse_delivery_status, Contact};
use skillcard_core::DomainError;
use utoipa::ToSchema;

/// The values a page form sent under `name` (a list of checkboxes sends one per ticked box).
fn all<'a>(pairs: &'a [(String, String)], name: &'a str) -> impl Iterator<Item = &'a str> {
    pairs
        .iter()
        .filter(move |(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn first<'a>(pairs: &'a [(String, String)], name: &'a str) -> &'a str {
    all(pairs, name).next().unwrap_or_default()
}

/// R-7, Form 5: registered cards grouped into a handover list.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateDeliveryList {
    /// What the list groups (a centre or school, or a name for a hand-made list).
    pub label: String,
    /// The prints (registered, undelivered, on no other list) to hand over.
    pub print_ids: Vec<NumText>,
}

impl CreateDeliveryList {
    /// A page's form: `label` and one `print_id` per ticked card.
    pub fn from_form(pairs: &[(String, String)]) -> Self {
        CreateDeliveryList {
            label: first(pairs, "label").to_string(),
            print_ids: all(pairs, "print_id")
                .map(|v| NumText::Text(v.to_string()))
                .collect(),
        }
    }

    pub fn input(self) -> Result<(String, Vec<i64>), DomainError> {
        let ids = self
            .print_ids
            .iter()
            .map(|id| id.id("cards"))
            .collect::<Result<_, _>>()?;
        Ok((self.label, ids))
    }
}

/// the scan of a signed Form 5, kept with its list.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AttachScan {
    /// The scan (PDF, JPEG or PNG), base64; at most 8 MiB.
    #[serde(rename = "scan_base64")]
    pub scan: Option<Upload>,
}

impl AttachScan {
    pub fn from_multipart(parts: &[Part]) -> Self {
        AttachScan {
            scan: Upload::from_part(multipart::file(parts, "scan")),
        }
    }

    pub fn input(self) -> Result<Vec<u8>, DomainError> {
        Upload::required(self.scan, "scan")
    }
}

/// One card of a damage case.
#[derive(Debug, Deserialize, ToSchema)]
pub struct DamagedCardInput {
    pub print_id: NumText,
    /// `print_defect`, `chip_fault`, `physical`, `data_error` or `other`.
    pub cause: String,
    /// Free text; required with `other`.
    #[serde(default)]
    pub detail: String,
}

/// Note 3: registered cards found damaged, on one set of minutes (Form 6).
#[derive(Debug, Deserialize, ToSchema)]
pub struct OpenDamageCase {
    pub cards: Vec<DamagedCardInput>,
}

/// The page's damage form: ticked prints and typed serials, one cause and detail for all.
pub struct DamageForm {
    pub print_ids: Vec<i64>,
    /// Serials typed separated by spaces, commas or lines (any digits); the page finds their prints.
    pub serials: Vec<u64>,
    pub cause: String,
    pub detail: String,
}

impl DamageForm {
    pub fn from_form(pairs: &[(String, String)]) -> Result<Self, DomainError> {
        let print_ids = all(pairs, "print_id")
            .map(|v| NumText::Text(v.to_string()).id("cards"))
            .collect::<Result<_, _>>()?;
        let typed = skillcard_core::text::normalize(first(pairs, "serials"));
        let serials = typed
            .split(|c: char| c.is_whitespace() || matches!(c, ',' | '،' | '؛' | ';'))
            .filter(|t| !t.is_empty())
            .map(|t| {
                skillcard_core::text::parse_u64(t)
                    .ok_or(DomainError::InvalidValue { field: "serial" })
            })
            .collect::<Result<_, _>>()?;
        Ok(DamageForm {
            print_ids,
            serials,
            cause: first(pairs, "cause").to_string(),
            detail: first(pairs, "detail").to_string(),
        })
    }
}

impl OpenDamageCase {
    /// A page's form: the cards (ticked, or found by the serials typed) share one cause.
    pub fn same_cause(print_ids: &[i64], cause: &str, detail: &str) -> Self {
        OpenDamageCase {
            cards: print_ids
                .iter()
                .map(|id| DamagedCardInput {
                    print_id: NumText::Num(*id as u64),
                    cause: cause.to_string(),
                    detail: detail.to_string(),
                })
                .collect(),
        }
    }

    pub fn input(self) -> Result<Vec<DamagedCard>, DomainError> {
        self.cards
            .iter()
            .map(|c| r8_1_damaged_card(c.print_id.id("cards")?, &c.cause, &c.detail))
            .collect()
    }
}

/// R-9, Note 4: a holder's request to replace a registered card, with the corrections asked for.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RequestReplacement {
    pub reason: String,
    #[serde(default)]
    pub first_name: String,
    #[serde(default)]
    pub last_name: String,
    #[serde(default)]
    pub father_name: String,
    /// The supporting document (PDF, JPEG or PNG), base64.
    #[serde(default, rename = "scan_base64")]
    pub scan: Option<Upload>,
    /// A mobile number or e-mail address for notices.
    #[serde(default)]
    pub contact: Option<String>,
}

/// A replacement request, parsed.
pub struct Replacement {
    pub reason: String,
    pub corrections: Corrections,
    pub scan: Option<Vec<u8>>,
    pub contact: Option<Contact>,
}

impl RequestReplacement {
    pub fn from_multipart(parts: &[Part]) -> Self {
        let text = |name: &str| multipart::text(parts, name).into_owned();
        RequestReplacement {
            reason: text("reason"),
            first_name: text("first_name"),
            last_name: text("last_name"),
            father_name: text("father_name"),
            scan: Upload::from_part(multipart::file(parts, "scan")),
            contact: Some(text("contact")),
        }
    }

    pub fn input(self) -> Result<Replacement, DomainError> {
        Ok(Replacement {
            corrections: Corrections::parse(&self.first_name, &self.last_name, &self.father_name)?,
            scan: Upload::optional(self.scan, "scan")?,
            contact: self
                .contact
                .as_deref()
                .filter(|c| !c.trim().is_empty())
                .map(parse_contact)
                .transpose()?,
            reason: self.reason,
        })
    }
}

/// the Director General's letter sending the minutes and the cards to HQ.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SendToHq {
    pub letter_no: String,
    /// Solar Hijri, e.g. `1405/09/05` (any digits).
    pub letter_date: String,
    /// The scan of the signed minutes (PDF, JPEG or PNG), base64.
    #[serde(default, rename = "minutes_scan_base64")]
    pub scan: Option<Upload>,
}

impl SendToHq {
    pub fn from_multipart(parts: &[Part]) -> Self {
        SendToHq {
            letter_no: multipart::text(parts, "letter_no").into_owned(),
            letter_date: multipart::text(parts, "letter_date").into_owned(),
            scan: Upload::from_part(multipart::file(parts, "scan")),
        }
    }

    /// The letter's number and date, and the scan.
    pub fn input(self) -> Result<(String, time::Date, Vec<u8>), DomainError> {
        let date = forms::optional_date(Some(&self.letter_date))?.ok_or(DomainError::Required {
            field: "letter_date",
        })?;
        Ok((self.letter_no, date, Upload::required(self.scan, "scan")?))
    }
}

/// a card handed to its holder in person, or sent by post.
#[derive(Debug, Deserialize, ToSchema)]
pub struct DeliverCard {
    /// `in_person` or `post`.
    pub method: String,
    /// In person: who received the card (the holder or a representative).
    #[serde(default)]
    pub receiver: String,
    /// By post: the tracking number.
    #[serde(default)]
    pub tracking_no: String,
}

impl DeliverCard {
    pub fn input(self) -> Result<Handover, DomainError> {
        match self.method.as_str() {
            "in_person" => r7_1_in_person(&self.receiver),
            "post" => r7_post(&self.tracking_no),
            _ => Err(DomainError::InvalidValue { field: "delivery" }),
        }
    }
}

/// the review's finding, written on Form 6.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ReviewDamage {
    pub outcome: String,
}

/// Note 4: the provincial assessment board's decision on a replacement.
#[derive(Debug, Deserialize, ToSchema)]
pub struct DecideReplacement {
    pub approve: Flag,
    /// Required to reject.
    #[serde(default)]
    pub reason: String,
}

/// Note 4: the replacement fee's payment (a bank receipt).
#[derive(Debug, Deserialize, ToSchema)]
pub struct PayReplacementFee {
    pub reference: String,
    pub amount_rial: NumText,
}

impl PayReplacementFee {
    /// The reference and the amount in rials.
    pub fn input(self) -> Result<(String, i64), DomainError> {
        let amount = self.amount_rial.value("amount")?;
        let amount =
            i64::try_from(amount).map_err(|_| DomainError::InvalidValue { field: "amount" })?;
        Ok((self.reference, amount))
    }
}

/// The SMS provider's delivery report: the message's id (its receipt, a number or text) and
/// its final state in the provider's words. JSON or a form, as providers post either; the
/// common field names `messageid` and `id` are taken for `message_id`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct DeliveryReportInput {
    #[serde(alias = "messageid", alias = "id")]
    pub message_id: MessageId,
    /// `delivered`/`DELIVRD`, `undelivered`/`UNDELIV`/`EXPIRED`/`REJECTD`/`failed`, …
    pub status: String,
    /// The provider's reason or note, kept for the office.
    #[serde(default)]
    pub detail: Option<String>,
}

/// A provider's message id: a JSON number or text.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum MessageId {
    Num(u64),
    Text(String),
}

impl DeliveryReportInput {
    pub fn input(self) -> Result<skillcard_db::notify::DeliveryReport, DomainError> {
        let message_id = match self.message_id {
            MessageId::Num(n) => n.to_string(),
            MessageId::Text(t) => skillcard_core::text::required("message_id", &t, 200)?,
        };
        let delivery = parse_delivery_status(&self.status)?;
        let detail = match self.detail.as_deref() {
            Some(d) => Some(skillcard_core::text::optional("detail", d, 200)?),
            None => None,
        }
        .filter(|d| !d.is_empty())
        .or_else(|| Some(self.status.trim().chars().take(40).collect()));
        Ok(skillcard_db::notify::DeliveryReport {
            message_id,
            delivery,
            detail,
        })
    }
}
