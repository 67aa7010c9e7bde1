//! Each record's possible next steps, decided once for the pages, the dashboards and the API.
//!
//! A record (shipment, monthly request, exam list and its entries, a candidate's issuance, a
//! card print, a card waiting for its holder, a delivery list, a damage or replacement case)
//! is at one point of the regulation's road. The function named after the record says which
//! [`Step`]s that point allows, from the same clause checks the store runs before it writes
//! (`r6_1_check_editable`, `r6_8_check_can_start`, `r7_check_listable`…), so a step offered
//! here is one the store accepts, save for the input it still has to parse. [`NextActions`]
//! then splits them by [`authorize`]: what the acting user can do now, and what the record
//! waits for from someone else. Pages render their forms from `actions`, the dashboards their
//! to-dos, and the API returns both as `next_actions`; nothing above the store decides a step.
//!
//! Invariant: every `Step` is a write operation of the store guarded by `Step::permission`.

use crate::cases::{self, CaseKind, CaseStatus};
use crate::custody::{RequestStatus, ShipmentStatus};
use crate::delivery::{r7_check_deliverable, r7_check_listable, DeliveryState};
use crate::exam::{r6_1_check_editable, Decision, ListStatus};
use crate::issuance::{r6_5_check_payable, r6_6_check_issuable};
use crate::policy::{authorize, Action, Actor, Role};
use crate::printing::{r6_8_check_can_start, CardHistory, PrintProgress, PrintStatus};
use serde::{Deserialize, Serialize};

/// One write a record can take next. The names are the API's words for them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// R-1, Form 1: the province receives a shipment in transit.
    ReceiveShipment,
    /// the letter telling HQ that the shipment arrived.
    SendReceiptNotice,
    /// Form 4: Security hands cards over against an open request.
    HandOver,
    /// a candidate joins a list the centre still holds.
    RegisterCandidate,
    /// practical scores on a list the centre still holds.
    RecordScores,
    /// a candidate's data is corrected, until the day before the exam.
    CorrectCandidate,
    /// the centre sends the list to the Assessment Office.
    SubmitList,
    /// the Assessment Office checks a submitted list or returns it.
    CheckList,
    /// the head approves or rejects a practical score of a checked list.
    DecideScore,
    /// the issuance fee is recorded.
    RecordPayment,
    /// the certificate is issued (on an entry: the approved, passing candidate's
    /// certificate is due at the issuance clerk).
    IssueCertificate,
    /// a card of the office stock is taken and its print begins.
    StartPrint,
    /// the printed face is inspected.
    RecordInspection,
    /// the chip is written and read back (at the issuance workstation).
    WriteChip,
    /// the serial is registered for the certificate.
    RegisterSerial,
    /// a card damaged at printing is spoiled.
    SpoilPrint,
    /// a registered card is reported damaged.
    OpenDamageCase,
    /// R-9, Note 4: the holder asks for a replacement.
    RequestReplacement,
    /// R-7, Form 5: a card waiting for its holder joins a handover list.
    ListForDelivery,
    /// the card is handed to its holder, in person or by post.
    DeliverCard,
    /// the signed Form 5's scan is kept with its list.
    UploadListScan,
    /// Form 6: the damage is reviewed.
    ReviewDamage,
    /// Note 4: the provincial assessment board decides a replacement.
    DecideReplacement,
    /// Note 4: the Assessment Office voids the old card.
    VoidCard,
    /// Note 4: the replacement fee is recorded.
    PayReplacementFee,
    /// the Director General's letter sends the minutes and cards to HQ.
    SendToHq,
    /// HQ records the letter's and the cards' arrival.
    RecordArrival,
    /// HQ authorises the reprint.
    AuthorizeReprint,
}

impl Step {
    pub const ALL: [Step; 28] = [
        Step::ReceiveShipment,
        Step::SendReceiptNotice,
        Step::HandOver,
        Step::RegisterCandidate,
        Step::RecordScores,
        Step::CorrectCandidate,
        Step::SubmitList,
        Step::CheckList,
        Step::DecideScore,
        Step::RecordPayment,
        Step::IssueCertificate,
        Step::StartPrint,
        Step::RecordInspection,
        Step::WriteChip,
        Step::RegisterSerial,
        Step::SpoilPrint,
        Step::OpenDamageCase,
        Step::RequestReplacement,
        Step::ListForDelivery,
        Step::DeliverCard,
        Step::UploadListScan,
        Step::ReviewDamage,
        Step::DecideReplacement,
        Step::VoidCard,
        Step::PayReplacementFee,
        Step::SendToHq,
        Step::RecordArrival,
        Step::AuthorizeReprint,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Step::ReceiveShipment => "receive_shipment",
            Step::SendReceiptNotice => "send_receipt_notice",
            Step::HandOver => "hand_over",
            Step::RegisterCandidate => "register_candidate",
            Step::RecordScores => "record_scores",
            Step::CorrectCandidate => "correct_candidate",
            Step::SubmitList => "submit_list",
            Step::CheckList => "check_list",
            Step::DecideScore => "decide_score",
            Step::RecordPayment => "record_payment",
            Step::IssueCertificate => "issue_certificate",
            Step::StartPrint => "start_print",
            Step::RecordInspection => "record_inspection",
            Step::WriteChip => "write_chip",
            Step::RegisterSerial => "register_serial",
            Step::SpoilPrint => "spoil_print",
            Step::OpenDamageCase => "open_damage_case",
            Step::RequestReplacement => "request_replacement",
            Step::ListForDelivery => "list_for_delivery",
            Step::DeliverCard => "deliver_card",
            Step::UploadListScan => "upload_list_scan",
            Step::ReviewDamage => "review_damage",
            Step::DecideReplacement => "decide_replacement",
            Step::VoidCard => "void_card",
            Step::PayReplacementFee => "pay_replacement_fee",
            Step::SendToHq => "send_to_hq",
            Step::RecordArrival => "record_arrival",
            Step::AuthorizeReprint => "authorize_reprint",
        }
    }

    /// The permission the store asks [`authorize`] for before it takes this step.
    pub fn permission(self) -> Action {
        match self {
            Step::ReceiveShipment => Action::ReceiveShipment,
            Step::SendReceiptNotice => Action::SendReceiptNotice,
            Step::HandOver => Action::HandOver,
            Step::RegisterCandidate => Action::RegisterCandidate,
            Step::RecordScores => Action::RecordScores,
            Step::CorrectCandidate => Action::CorrectCandidate,
            Step::SubmitList => Action::SubmitExamList,
            Step::CheckList => Action::CheckExamList,
            Step::DecideScore => Action::DecideScores,
            Step::RecordPayment | Step::PayReplacementFee => Action::RecordPayment,
            Step::IssueCertificate => Action::IssueCertificate,
            Step::StartPrint
            | Step::RecordInspection
            | Step::WriteChip
            | Step::RegisterSerial
            | Step::SpoilPrint => Action::PrintCard,
            Step::OpenDamageCase => Action::OpenDamageCase,
            Step::RequestReplacement => Action::RequestReplacement,
            Step::ListForDelivery | Step::DeliverCard | Step::UploadListScan => {
                Action::DeliverCards
            }
            Step::ReviewDamage => Action::ReviewDamage,
            Step::DecideReplacement => Action::DecideReplacement,
            Step::VoidCard => Action::VoidCard,
            Step::SendToHq => Action::SendToHq,
            Step::RecordArrival | Step::AuthorizeReprint => Action::AuthorizeReprint,
        }
    }

    /// A step that may be taken but need not be (a correction of the candidate's data): a
    /// record is never said to wait for it.
    pub fn is_optional(self) -> bool {
        matches!(self, Step::CorrectCandidate)
    }

    /// Who takes this step.
    pub fn roles(self) -> &'static [Role] {
        self.permission().roles()
    }

    pub fn label_fa(self) -> &'static str {
        crate::fa::step(self)
    }

    /// "Waiting for this step, from these roles", in Persian.
    pub fn waiting_fa(self) -> String {
        crate::fa::waiting_for(self)
    }
}

/// A record's next steps for one actor: the ones they can take now, and the ones the record
/// waits for from others (with [`Step::roles`] saying whom).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct NextActions {
    pub actions: Vec<Step>,
    pub waiting_for: Vec<Step>,
}

impl NextActions {
    /// Splits `steps` of a record of `province_id` by what `actor` may do; an optional step
    /// the actor may not take is left out, as nothing waits for it.
    pub fn for_actor(
        actor: &Actor,
        province_id: Option<i64>,
        steps: impl IntoIterator<Item = Step>,
    ) -> Self {
        let (actions, waiting_for): (Vec<Step>, Vec<Step>) = steps
            .into_iter()
            .partition(|s| authorize(actor, s.permission(), province_id).is_ok());
        NextActions {
            actions,
            waiting_for: waiting_for
                .into_iter()
                .filter(|s| !s.is_optional())
                .collect(),
        }
    }

    /// Whether the actor can take `step` now (what a page asks before it shows a form).
    pub fn offers(&self, step: Step) -> bool {
        self.actions.contains(&step)
    }

    pub fn is_empty(&self) -> bool {
        self.actions.is_empty() && self.waiting_for.is_empty()
    }
}

/// A shipment: received once, then announced to HQ once.
pub fn shipment(status: ShipmentStatus, notice_sent: bool) -> Vec<Step> {
    match (status, notice_sent) {
        (ShipmentStatus::InTransit, _) => vec![Step::ReceiveShipment],
        (ShipmentStatus::Received, false) => vec![Step::SendReceiptNotice],
        (ShipmentStatus::Received, true) => vec![],
    }
}

/// A monthly request: handovers while it is open.
pub fn request(status: RequestStatus) -> Vec<Step> {
    match status {
        RequestStatus::Open => vec![Step::HandOver],
        RequestStatus::Fulfilled => vec![],
    }
}

/// An exam list: the centre works on it while it holds it; the Assessment
/// Office checks it once submitted. A checked list's work is its entries'.
pub fn exam_list(status: ListStatus) -> Vec<Step> {
    if r6_1_check_editable(status).is_ok() {
        return vec![
            Step::RegisterCandidate,
            Step::RecordScores,
            Step::SubmitList,
        ];
    }
    match status {
        ListStatus::Submitted => vec![Step::CheckList],
        _ => vec![],
    }
}

/// An exam list as a listing shows it, with its entries' work counted instead of read: the
/// list's own steps, and the head's decisions while `pending_decisions` of a checked
/// list remain.
pub fn exam_list_summary(status: ListStatus, pending_decisions: u64) -> Vec<Step> {
    let mut steps = exam_list(status);
    if status == ListStatus::Checked && pending_decisions > 0 {
        steps.push(Step::DecideScore);
    }
    steps
}

/// One candidate's entry on a list: corrections of the candidate's data
/// before the exam day (`before_exam`), the head's decision on a checked list, then the
/// certificate for an approved pass.
pub fn exam_entry(
    list: ListStatus,
    decision: Decision,
    passes: Option<bool>,
    certificate: bool,
    before_exam: bool,
) -> Vec<Step> {
    let mut steps = Vec::new();
    if before_exam && !certificate {
        steps.push(Step::CorrectCandidate);
    }
    if decision == Decision::Pending && list == ListStatus::Checked {
        steps.push(Step::DecideScore);
    }
    if crate::exam::certificate_due(decision, passes, certificate) {
        steps.push(Step::IssueCertificate);
    }
    steps
}

/// What storage knows of one candidate's issuance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Issuance {
    pub decision: Decision,
    pub passes: Option<bool>,
    pub paid: bool,
    /// The certificate's earlier cards, once it is issued.
    pub certificate: Option<CardHistory>,
}

/// A candidate's issuance: the fee once the pass is approved (R-6.4 before ), the
/// certificate (R-6.6, the data match being the clerk's confirmation in the form), then a print
/// whenever allow one.
pub fn issuance(i: &Issuance) -> Vec<Step> {
    match &i.certificate {
        None => {
            let mut steps = Vec::new();
            if !i.paid && r6_5_check_payable(i.decision, i.passes).is_ok() {
                steps.push(Step::RecordPayment);
            }
            if r6_6_check_issuable(i.decision, i.passes == Some(true), i.paid, true).is_ok() {
                steps.push(Step::IssueCertificate);
            }
            steps
        }
        Some(history) if r6_8_check_can_start(history).is_ok() => vec![Step::StartPrint],
        Some(_) => vec![],
    }
}

/// A card print: while printing, inspection, the chip and then the
/// registration, or spoiling it; once registered, a damage report or a replacement request
/// unless a case already holds it.
pub fn print(p: &PrintProgress, in_case: bool) -> Vec<Step> {
    match p.status {
        PrintStatus::Printing => {
            let mut steps = Vec::new();
            if !p.inspected_sound {
                steps.push(Step::RecordInspection);
            }
            if !p.chip_verified {
                steps.push(Step::WriteChip);
            }
            if p.inspected_sound && p.chip_verified {
                steps.push(Step::RegisterSerial);
            }
            steps.push(Step::SpoilPrint);
            steps
        }
        PrintStatus::Bound if !in_case => vec![Step::OpenDamageCase, Step::RequestReplacement],
        _ => vec![],
    }
}

/// A registered card on its way to its holder: listed on one handover list, handed over
/// once.
pub fn delivery(s: &DeliveryState) -> Vec<Step> {
    let mut steps = Vec::new();
    if r7_check_listable(s).is_ok() {
        steps.push(Step::ListForDelivery);
    }
    if r7_check_deliverable(s).is_ok() {
        steps.push(Step::DeliverCard);
    }
    steps
}

/// A handover list: its signed Form 5 can be scanned in (again, if a better scan comes).
pub fn delivery_list() -> Vec<Step> {
    vec![Step::UploadListScan]
}

/// A damage case or a replacement request (R-8 – R-9, Notes 3–4): the step whose clause
/// (`cases::r8_1_review` … `cases::r8_1_2_authorize`) accepts the case as it stands.
pub fn case(kind: CaseKind, status: CaseStatus) -> Vec<Step> {
    [
        (Step::ReviewDamage, cases::r8_1_review(kind, status)),
        (
            Step::DecideReplacement,
            cases::note4_decide(kind, status, true),
        ),
        (Step::VoidCard, cases::note4_void(kind, status)),
        (Step::PayReplacementFee, cases::note4_pay(kind, status)),
        (Step::SendToHq, cases::r8_1_1_send(kind, status)),
        (Step::RecordArrival, cases::r8_1_1_receive(status)),
        (Step::AuthorizeReprint, cases::r8_1_2_authorize(status)),
    ]
    .into_iter()
    .filter_map(|(step, next)| next.is_ok().then_some(step))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::test_actor as actor;

    #[test]
    fn names_round_trip_through_serde() {
        for s in Step::ALL {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
            assert!(!s.label_fa().is_empty());
            assert!(!s.roles().is_empty(), "{s}: nobody takes it");
        }
    }

    /// A case moves on one step at a time until it is rejected or authorised.
    #[test]
    fn every_open_case_has_one_step() {
        for kind in CaseKind::ALL {
            let mut status = match kind {
                CaseKind::Damage => CaseStatus::Open,
                CaseKind::Replacement => CaseStatus::Requested,
            };
            let mut walked = 0;
            while status != CaseStatus::Authorized {
                let steps = case(kind, status);
                assert_eq!(steps.len(), 1, "{kind} {status}: {steps:?}");
                status = match steps[0] {
                    Step::ReviewDamage => cases::r8_1_review(kind, status),
                    Step::DecideReplacement => cases::note4_decide(kind, status, true),
                    Step::VoidCard => cases::note4_void(kind, status),
                    Step::PayReplacementFee => cases::note4_pay(kind, status),
                    Step::SendToHq => cases::r8_1_1_send(kind, status),
                    Step::RecordArrival => cases::r8_1_1_receive(status),
                    _ => cases::r8_1_2_authorize(status),
                }
                .unwrap();
                walked += 1;
            }
            assert_eq!(walked, if kind == CaseKind::Damage { 4 } else { 6 });
            assert!(case(kind, CaseStatus::Authorized).is_empty());
        }
        assert!(case(CaseKind::Replacement, CaseStatus::Rejected).is_empty());
    }

    #[test]
    fn steps_split_by_who_may_take_them() {
        let steps = case(CaseKind::Damage, CaseStatus::SentToHq);
        let hq = NextActions::for_actor(&actor(Role::Hq, None), Some(3), steps.clone());
        assert_eq!(hq.actions, vec![Step::RecordArrival]);
        let clerk = NextActions::for_actor(&actor(Role::IssuanceClerk, Some(3)), Some(3), steps);
        assert!(clerk.actions.is_empty());
        assert_eq!(clerk.waiting_for, vec![Step::RecordArrival]);
        let elsewhere = NextActions::for_actor(
            &actor(Role::Security, Some(4)),
            Some(3),
            shipment(ShipmentStatus::InTransit, false),
        );
        assert!(elsewhere.actions.is_empty());
    }

    /// A correction may be made before the exam, but an entry never waits for one.
    #[test]
    fn nothing_waits_for_an_optional_step() {
        let steps = exam_entry(
            ListStatus::Checked,
            Decision::Pending,
            Some(true),
            false,
            true,
        );
        assert_eq!(steps, vec![Step::CorrectCandidate, Step::DecideScore]);
        let head = NextActions::for_actor(
            &actor(Role::AssessmentHead, Some(3)),
            Some(3),
            steps.clone(),
        );
        assert_eq!(head.actions, vec![Step::DecideScore]);
        assert!(head.waiting_for.is_empty(), "{head:?}");
        let examiner =
            NextActions::for_actor(&actor(Role::CenterExaminer, Some(3)), Some(3), steps);
        assert!(examiner.offers(Step::CorrectCandidate), "{examiner:?}");
        assert_eq!(examiner.waiting_for, vec![Step::DecideScore]);
    }

    #[test]
    fn a_reprint_waits_for_the_authorisation() {
        let mut history = CardHistory {
            had_registered_card: true,
            ..CardHistory::default()
        };
        let i = Issuance {
            decision: Decision::Approved,
            passes: Some(true),
            paid: true,
            certificate: Some(history),
        };
        assert!(issuance(&i).is_empty());
        history.open_authorisation = Some(9);
        let i = Issuance {
            certificate: Some(history),
            ..i
        };
        assert_eq!(issuance(&i), vec![Step::StartPrint]);
    }

    #[test]
    fn a_print_registers_after_inspection_and_chip() {
        let mut p = PrintProgress {
            print_id: 1,
            status: PrintStatus::Printing,
            inspected_sound: true,
            chip_verified: false,
        };
        assert_eq!(print(&p, false), vec![Step::WriteChip, Step::SpoilPrint]);
        p.chip_verified = true;
        assert_eq!(
            print(&p, false),
            vec![Step::RegisterSerial, Step::SpoilPrint]
        );
        p.status = PrintStatus::Bound;
        assert_eq!(
            print(&p, false),
            vec![Step::OpenDamageCase, Step::RequestReplacement]
        );
        assert!(print(&p, true).is_empty());
    }
}
