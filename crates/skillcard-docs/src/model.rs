//! The data of each printable document.
//!
//! Dates are Solar Hijri strings with Latin digits (`"1405/09/03"`); names, titles and remarks are
//! Persian strings; counts and serial numbers are `u64`. Callers never format digits: the templates
//! print every Latin digit as a Persian digit.
//!
//! `province` is the province's name only (e.g. `"اصفهان"`); the templates build the office names
//! ("اداره کل آموزش فنی و حرفه‌ای استان اصفهان") around it.

use serde::{Deserialize, Serialize};

/// A person who signs a document: full name and job title (سمت).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub name: String,
    pub title: String,
}

/// A contiguous range of card serial numbers, `from..=to`, with its count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SerialRangeRow {
    pub from: u64,
    pub to: u64,
    pub count: u64,
}

impl SerialRangeRow {
    /// The range `from..=to` with its count computed (0 when `to < from`).
    pub fn new(from: u64, to: u64) -> Self {
        let count = if to >= from { to - from + 1 } else { 0 };
        Self { from, to, count }
    }
}

/// Form 1: minutes of delivery of blank electronic certificates, HQ → provincial Security.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Form1 {
    pub province: String,
    /// HQ's shipment reference; printed as the minutes' number.
    pub shipment_ref: String,
    pub date: String,
    /// The count stated on HQ's shipment.
    pub declared_count: u64,
    /// The count actually received in sound packaging.
    pub received_count: u64,
    pub ranges: Vec<SerialRangeRow>,
    /// Serials missing from the shipment (a table is printed only when non-empty).
    pub missing: Vec<SerialRangeRow>,
    /// Serials received damaged (a table is printed only when non-empty).
    pub damaged: Vec<SerialRangeRow>,
    pub remarks: String,
    pub deliverer: Person,
    pub receiver: Person,
}

/// One row of the vault inventory: cards in, cards out, balance after the row.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LedgerRow {
    pub date: String,
    pub in_from: Option<u64>,
    pub in_to: Option<u64>,
    pub in_count: Option<u64>,
    pub out_from: Option<u64>,
    pub out_to: Option<u64>,
    pub out_count: Option<u64>,
    pub balance: u64,
}

/// Form 2 (Note 1, R-3.9): the vault card inventory for a period.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Form2 {
    pub province: String,
    pub from_date: String,
    pub to_date: String,
    pub opening_balance: u64,
    pub rows: Vec<LedgerRow>,
    pub closing_balance: u64,
}

/// Form 3: the Assessment Office's monthly request to Security to transfer blank cards.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Form3 {
    pub province: String,
    pub request_no: String,
    pub date: String,
    /// The month the request is for, e.g. `"آذر 1405"`.
    pub month_label: String,
    pub count: u64,
    /// Note 2's cap: one month's actual issuance.
    pub cap: u64,
    /// Full name of the Assessment Office's representative who collects the cards.
    pub representative: String,
    /// The head of the provincial Assessment Office (an empty title prints the default title).
    pub head: Person,
}

/// Form 4: minutes of delivery of blank cards, Security → Assessment Office.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Form4 {
    pub province: String,
    pub handover_no: String,
    pub date: String,
    /// The date of the Form 3 request being answered.
    pub request_date: String,
    pub count: u64,
    pub ranges: Vec<SerialRangeRow>,
    pub remarks: String,
    pub deliverer: Person,
    pub receiver: Person,
}

/// the province's letter to HQ's Skill Assessment Office reporting receipt of blank cards.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReceiptNotice {
    pub province: String,
    pub letter_no: String,
    pub date: String,
    pub shipment_ref: String,
    pub declared_count: u64,
    pub received_count: u64,
    pub missing_count: u64,
    pub damaged_count: u64,
    pub ranges: Vec<SerialRangeRow>,
    pub signer: Person,
}

/// Security's letter to the Assessment Office stating the count and serials handed over.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HandoverLetter {
    pub province: String,
    pub letter_no: String,
    pub date: String,
    /// The number of the Form 3 request being answered.
    pub request_no: String,
    pub count: u64,
    pub ranges: Vec<SerialRangeRow>,
    pub signer: Person,
}

/// The face (front and back) of one skill certificate printed on a blank chip card (ID-1 size).
///
/// Dates are Solar Hijri with Latin digits (`"1405/09/03"`); the card prints every digit in
/// Persian, except inside the QR code and a small Latin copy under the certificate number on the
/// back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardFace {
    pub certificate_no: String,
    pub given_name: String,
    pub family_name: String,
    pub father_name: String,
    /// کد ملی, ten digits.
    pub national_id: String,
    pub birth_date: String,
    /// The trade (عنوان حرفه/استاندارد), in Persian.
    pub trade_title: String,
    pub standard_code: String,
    /// The final score as written, e.g. `"87.5"` (printed `۸۷٫۵`).
    pub final_score: String,
    pub issue_date: String,
    /// The issuing province's name only, e.g. `"اصفهان"`.
    pub province: String,
    /// The serial number of the blank card the certificate is printed on.
    pub card_serial: u64,
    /// The holder's photo: JPEG or PNG bytes (base64 in JSON). `None` prints an empty frame.
    #[serde(default, with = "photo_base64")]
    pub photo: Option<Vec<u8>>,
    /// The QR code's payload (the signed credential), e.g. `"SC1:6BFOXN..."`. Uppercase letters,
    /// digits and ` $%*+-./:` are encoded in the compact alphanumeric mode.
    pub qr_text: String,
}

/// Base64 (standard alphabet, padded) for the photo's bytes in JSON.
mod photo_base64 {
    use base64::Engine as _;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(photo: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        match photo {
            Some(bytes) => {
                s.serialize_some(&base64::engine::general_purpose::STANDARD.encode(bytes))
            }
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
        match Option::<String>::deserialize(d)? {
            Some(text) => base64::engine::general_purpose::STANDARD
                .decode(text.as_bytes())
                .map(Some)
                .map_err(serde::de::Error::custom),
            None => Ok(None),
        }
    }
}

/// Card faces to print in one PDF for the card printer: two ID-1 pages per card (front, back).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardBatch {
    pub cards: Vec<CardFace>,
}

/// The exam list of one test session (the "special exam form", R-6.2 – ).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExamSheet {
    pub province: String,
    pub list_no: String,
    pub centre: String,
    pub trade_title: String,
    pub standard_code: String,
    /// Solar Hijri, e.g. `"1405/09/10"`.
    pub exam_date: String,
    /// The list's status, in Persian.
    pub status: String,
    pub rows: Vec<ExamSheetRow>,
}

/// One candidate on the exam list; scores as written (`"87.5"`), empty when not yet given.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExamSheetRow {
    pub national_id: String,
    pub first_name: String,
    pub last_name: String,
    pub father_name: String,
    pub written: String,
    pub practical: String,
    pub final_score: String,
    /// «قبول», «مردود» or empty.
    pub result: String,
    /// The head's decision, in Persian.
    pub decision: String,
}

/// Form 5: minutes of delivery of certificates to beneficiaries — one delivery list.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Form5 {
    pub province: String,
    pub list_no: String,
    pub date: String,
    /// What the list groups: a centre or school name, or empty for a hand-made list.
    pub group: String,
    pub rows: Vec<Form5Row>,
    /// The Assessment Office's person responsible for the handover (signs the minutes).
    pub deliverer: Person,
}

/// One certificate on a delivery list.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Form5Row {
    pub full_name: String,
    pub national_id: String,
    pub card_serial: u64,
    pub issue_date: String,
    /// The centre or school of the holder's exam.
    pub centre: String,
    /// Who received the card (the holder or a representative); empty leaves the cell blank to be
    /// filled by hand.
    pub receiver: String,
    /// How it went out when already recorded: empty, or e.g. «حضوری 1405/09/10» /
    /// «پست: <tracking>» — printed small under the receiver cell. (free text, digits Latin)
    pub note: String,
}

/// Form 6 (R-8.1, Note 3): damaged-certificate minutes; several cards may share one.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Form6 {
    pub province: String,
    pub minutes_no: String,
    pub date: String,
    pub rows: Vec<Form6Row>,
    /// The certificate issuance clerk (کارشناس صدور گواهینامه).
    pub clerk: Person,
    /// The responsible assessment officer (کارشناس مسئول سنجش).
    pub officer: Person,
    /// The head of the provincial Assessment Office (رئیس اداره سنجش و ارزشیابی مهارت استان).
    pub head: Person,
}

/// One damaged card on the minutes: whose it is, why it was damaged and what the review found.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Form6Row {
    pub full_name: String,
    pub national_id: String,
    pub card_serial: u64,
    pub issue_date: String,
    pub cause: String,
    pub outcome: String,
}

/// the provincial Director General's letter to HQ's Skill Assessment Office sending the
/// minutes and the original cards (damaged, or voided for replacement under Note 4) and asking HQ
/// to enable a reprint.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DamageLetter {
    pub province: String,
    pub letter_no: String,
    pub date: String,
    pub minutes_no: String,
    pub minutes_date: String,
    /// true: cards voided for replacement (Note 4); false: damaged cards (Note 3).
    pub replacement: bool,
    pub rows: Vec<DamageLetterRow>,
    /// The Director General (مدیر کل); an empty title prints the default title.
    pub signer: Person,
}

/// One card sent back to HQ with the letter.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DamageLetterRow {
    pub full_name: String,
    pub national_id: String,
    pub certificate_no: String,
    pub card_serial: u64,
}

/// Note 4: the notice telling an applicant to pay the replacement fee.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReplacementFeeNotice {
    pub province: String,
    pub notice_no: String,
    pub date: String,
    pub full_name: String,
    pub national_id: String,
    pub certificate_no: String,
    pub card_serial: u64,
    /// Rials.
    pub amount: u64,
    /// Why the card is being replaced (the board's decision), free text.
    pub reason: String,
    /// Signs the notice (an empty title prints the head of the provincial Assessment Office).
    pub signer: Person,
}

/// A printable document.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", content = "data")]
pub enum Document {
    Form1(Form1),
    Form2(Form2),
    Form3(Form3),
    Form4(Form4),
    ReceiptNotice(ReceiptNotice),
    HandoverLetter(HandoverLetter),
    /// Card faces (ID-1 pages), not an A4 document.
    CardBatch(CardBatch),
    ExamSheet(ExamSheet),
    Form5(Form5),
    Form6(Form6),
    DamageLetter(DamageLetter),
    ReplacementFeeNotice(ReplacementFeeNotice),
}

impl Document {
    /// The template that renders this document.
    pub(crate) fn template(&self) -> crate::world::Template {
        use crate::world::Template;
        match self {
            Document::Form1(_) => Template::Form1,
            Document::Form2(_) => Template::Form2,
            Document::Form3(_) => Template::Form3,
            Document::Form4(_) => Template::Form4,
            Document::ReceiptNotice(_) => Template::ReceiptNotice,
            Document::HandoverLetter(_) => Template::HandoverLetter,
            Document::CardBatch(_) => Template::CardBatch,
            Document::ExamSheet(_) => Template::ExamSheet,
            Document::Form5(_) => Template::Form5,
            Document::Form6(_) => Template::Form6,
            Document::DamageLetter(_) => Template::DamageLetter,
            Document::ReplacementFeeNotice(_) => Template::ReplacementFeeNotice,
        }
    }

    /// A short ASCII name, e.g. for a download's file name.
    pub fn slug(&self) -> &'static str {
        match self {
            Document::Form1(_) => "form1",
            Document::Form2(_) => "form2",
            Document::Form3(_) => "form3",
            Document::Form4(_) => "form4",
            Document::ReceiptNotice(_) => "receipt-notice",
            Document::HandoverLetter(_) => "handover-letter",
            Document::CardBatch(_) => "cards",
            Document::ExamSheet(_) => "exam-list",
            Document::Form5(_) => "form5",
            Document::Form6(_) => "form6",
            Document::DamageLetter(_) => "damage-letter",
            Document::ReplacementFeeNotice(_) => "replacement-fee-notice",
        }
    }
}
