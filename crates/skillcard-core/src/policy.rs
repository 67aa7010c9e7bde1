//! Who may do what, and where. This is the one place access is decided: every operation in
//! `skillcard-db` calls [`authorize`] with the acting user before it touches anything, and every
//! query for lists is scoped with [`Actor::scope`]. Pages and API handlers never decide access.

use crate::error::DomainError;
use serde::{Deserialize, Serialize};

/// The roles of the regulation's table of actors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Hq,
    Security,
    AssessmentHead,
    AssessmentOfficer,
    IssuanceClerk,
    CenterExaminer,
    DeliveryAgent,
    DirectorGeneral,
    AssessmentBoard,
    Applicant,
    /// Manages user accounts and nothing else: national (no province) or of one province.
    Admin,
}

impl Role {
    pub const ALL: [Role; 11] = [
        Role::Hq,
        Role::Security,
        Role::AssessmentHead,
        Role::AssessmentOfficer,
        Role::IssuanceClerk,
        Role::CenterExaminer,
        Role::DeliveryAgent,
        Role::DirectorGeneral,
        Role::AssessmentBoard,
        Role::Applicant,
        Role::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Hq => "hq",
            Role::Security => "security",
            Role::AssessmentHead => "assessment_head",
            Role::AssessmentOfficer => "assessment_officer",
            Role::IssuanceClerk => "issuance_clerk",
            Role::CenterExaminer => "center_examiner",
            Role::DeliveryAgent => "delivery_agent",
            Role::DirectorGeneral => "director_general",
            Role::AssessmentBoard => "assessment_board",
            Role::Applicant => "applicant",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn label_fa(self) -> &'static str {
        match self {
            Role::Hq => "ستاد (دفتر ارزشیابی مهارت)",
            Role::Security => "حراست استان",
            Role::AssessmentHead => "رئیس اداره سنجش",
            Role::AssessmentOfficer => "کارشناس مسئول سنجش",
            Role::IssuanceClerk => "کارشناس صدور گواهینامه",
            Role::CenterExaminer => "کارشناس آزمون مرکز",
            Role::DeliveryAgent => "مسئول تحویل",
            Role::DirectorGeneral => "مدیر کل استان",
            Role::AssessmentBoard => "ستاد ارزشیابی استان",
            Role::Applicant => "متقاضی",
            Role::Admin => "مدیر حساب‌های کاربری",
        }
    }

    /// HQ works nationally; every other role belongs to one province.
    pub fn is_national(self) -> bool {
        self == Role::Hq
    }

    /// Whether a user of this role may be without a province: HQ must be, an administrator may
    /// be (a national administrator), every other role belongs to a province.
    pub fn check_province(self, province_id: Option<i64>) -> Result<(), DomainError> {
        match (self, province_id) {
            (Role::Hq, Some(_)) => Err(DomainError::InvalidValue { field: "province" }),
            (Role::Hq | Role::Admin, _) | (_, Some(_)) => Ok(()),
            (_, None) => Err(DomainError::Required { field: "province" }),
        }
    }
}

/// The signed-in user an operation runs for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub user_id: i64,
    pub username: String,
    pub full_name: String,
    pub role: Role,
    /// `None` only for national roles.
    pub province_id: Option<i64>,
}

/// Which provinces' data an actor may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    National,
    Province(i64),
}

impl Scope {
    pub fn allows(self, province_id: i64) -> bool {
        match self {
            Scope::National => true,
            Scope::Province(p) => p == province_id,
        }
    }
    /// The province filter for a list query: `None` means all.
    pub fn province_filter(self) -> Option<i64> {
        match self {
            Scope::National => None,
            Scope::Province(p) => Some(p),
        }
    }
}

impl Actor {
    pub fn scope(&self) -> Scope {
        match (self.role.is_national(), self.province_id) {
            (true, _) => Scope::National,
            (false, None) if self.role == Role::Admin => Scope::National,
            (false, Some(p)) => Scope::Province(p),
            // A provincial role without a province sees nothing: an impossible province id.
            (false, None) => Scope::Province(-1),
        }
    }
}

/// Everything an actor can ask the system to do in Part 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// HQ dispatches a shipment to a province.
    RecordShipment,
    /// R-1 / Form 1: the province receives a shipment.
    ReceiveShipment,
    /// the receipt notice to HQ.
    SendReceiptNotice,
    /// Note 1: the vault condition log.
    RecordVaultInspection,
    /// R-4.1 / Form 3: the monthly request.
    CreateMonthlyRequest,
    /// Note 2: HQ sets a province's start-up baseline or overrides a cap.
    SetRequestCap,
    /// R-4.3 / Form 4: Security hands cards over.
    HandOver,
    /// Reading custody data (shipments, vault, requests, handovers, forms).
    ViewCustody,
    /// Reading the audit log.
    ViewAudit,
    /// Creating users.
    ManageUsers,
    /// HQ's reference data: trades and standards, fees, the pass policy.
    ManageReferenceData,
    /// A province's test centres and training schools.
    ManageCentres,
    /// Registering a candidate for a trade test.
    RegisterCandidate,
    /// recording practical scores.
    RecordScores,
    /// correcting a candidate's data before the exam day.
    CorrectCandidate,
    /// submitting the exam list to the Assessment Office.
    SubmitExamList,
    /// checking a submitted list or returning it.
    CheckExamList,
    /// approving or rejecting practical scores.
    DecideScores,
    /// Reading candidates, exam lists and reference data.
    ViewExams,
    /// recording a bank receipt for a fee.
    RecordPayment,
    /// matching data and issuing the certificate (R-5.2: the issuance role only).
    IssueCertificate,
    /// printing the card, recording its inspection, writing the chip and
    /// registering the serial (R-5.2: the issuance role only).
    PrintCard,
    /// Form 5: delivery lists and handovers to holders.
    DeliverCards,
    /// the clerk opens a damage case for registered cards.
    OpenDamageCase,
    /// the review of a damage case (Form 6).
    ReviewDamage,
    /// the Director General's letter sending minutes and cards to HQ.
    SendToHq,
    /// HQ records the cards' arrival and enables reprints.
    AuthorizeReprint,
    /// R-9, Note 4: recording a holder's replacement request.
    RequestReplacement,
    /// Note 4: the provincial assessment board's decision.
    DecideReplacement,
    /// Note 4: the Assessment Office voids the old card.
    VoidCard,
    /// How to reach an applicant for notices (not printed on the card).
    EditContact,
}

impl Action {
    pub fn name(self) -> &'static str {
        match self {
            Action::RecordShipment => "record_shipment",
            Action::ReceiveShipment => "receive_shipment",
            Action::SendReceiptNotice => "send_receipt_notice",
            Action::RecordVaultInspection => "record_vault_inspection",
            Action::CreateMonthlyRequest => "create_monthly_request",
            Action::SetRequestCap => "set_request_cap",
            Action::HandOver => "hand_over",
            Action::ViewCustody => "view_custody",
            Action::ViewAudit => "view_audit",
            Action::ManageUsers => "manage_users",
            Action::ManageReferenceData => "manage_reference_data",
            Action::ManageCentres => "manage_centres",
            Action::RegisterCandidate => "register_candidate",
            Action::RecordScores => "record_scores",
            Action::CorrectCandidate => "correct_candidate",
            Action::SubmitExamList => "submit_exam_list",
            Action::CheckExamList => "check_exam_list",
            Action::DecideScores => "decide_scores",
            Action::ViewExams => "view_exams",
            Action::RecordPayment => "record_payment",
            Action::IssueCertificate => "issue_certificate",
            Action::PrintCard => "print_card",
            Action::DeliverCards => "deliver_cards",
            Action::OpenDamageCase => "open_damage_case",
            Action::ReviewDamage => "review_damage",
            Action::SendToHq => "send_to_hq",
            Action::AuthorizeReprint => "authorize_reprint",
            Action::RequestReplacement => "request_replacement",
            Action::DecideReplacement => "decide_replacement",
            Action::VoidCard => "void_card",
            Action::EditContact => "edit_contact",
        }
    }

    pub fn roles(self) -> &'static [Role] {
        use Role::*;
        match self {
            Action::RecordShipment | Action::SetRequestCap | Action::ManageReferenceData => &[Hq],
            // Accounts are an administrator's, who holds no business permission.
            Action::ManageUsers => &[Admin],
            Action::ManageCentres => &[Hq, AssessmentHead],
            Action::RegisterCandidate => &[CenterExaminer, AssessmentOfficer],
            // whoever registers candidates corrects them, on the applicant's word.
            Action::CorrectCandidate => &[CenterExaminer, AssessmentOfficer],
            // the test centre's exam officer.
            Action::RecordScores | Action::SubmitExamList => &[CenterExaminer],
            // the provincial Assessment Office.
            Action::CheckExamList => &[AssessmentOfficer, AssessmentHead],
            // the head of the Assessment Office.
            Action::DecideScores => &[AssessmentHead],
            Action::RecordPayment | Action::IssueCertificate | Action::PrintCard => {
                &[IssuanceClerk]
            }
            Action::ViewExams => &[
                Hq,
                AssessmentHead,
                AssessmentOfficer,
                IssuanceClerk,
                CenterExaminer,
                DirectorGeneral,
                DeliveryAgent,
                AssessmentBoard,
            ],
            // "the person responsible for the handover"; the office may do it too.
            Action::DeliverCards => &[
                DeliveryAgent,
                IssuanceClerk,
                AssessmentOfficer,
                AssessmentHead,
            ],
            // "the certificate issuance clerk".
            Action::OpenDamageCase => &[IssuanceClerk],
            // Form 6 is signed by the clerk, the responsible officer and the head.
            Action::ReviewDamage => &[AssessmentOfficer, AssessmentHead],
            // a letter from the provincial Director General (recorded by the office head).
            Action::SendToHq => &[DirectorGeneral, AssessmentHead],
            Action::AuthorizeReprint => &[Hq],
            Action::RequestReplacement => &[IssuanceClerk, AssessmentOfficer],
            // Note 4: "the provincial assessment board reviews the case".
            Action::DecideReplacement => &[AssessmentBoard],
            // Note 4: "the Assessment Office voids the previous certificate".
            Action::VoidCard => &[AssessmentHead, AssessmentOfficer],
            Action::EditContact => &[
                IssuanceClerk,
                AssessmentOfficer,
                CenterExaminer,
                DeliveryAgent,
            ],
            // "the Assessment and Security units draw up receipt minutes".
            Action::ReceiveShipment => &[Security, AssessmentHead],
            Action::SendReceiptNotice => &[Security, AssessmentHead, DirectorGeneral],
            Action::RecordVaultInspection => &[Security],
            Action::CreateMonthlyRequest => &[AssessmentHead],
            Action::HandOver => &[Security],
            Action::ViewCustody => &[
                Hq,
                Security,
                AssessmentHead,
                AssessmentOfficer,
                IssuanceClerk,
                DirectorGeneral,
            ],
            Action::ViewAudit => &[Hq, Security, AssessmentHead, DirectorGeneral],
        }
    }
}

/// May `actor` manage the account of a user of `target_province` (`None`: a national user)?
/// A provincial administrator manages the users of their province only.
pub fn authorize_user_admin(
    actor: &Actor,
    target_province: Option<i64>,
) -> Result<(), DomainError> {
    authorize(actor, Action::ManageUsers, target_province)?;
    if target_province.is_none() && actor.scope() != Scope::National {
        return Err(DomainError::WrongProvince);
    }
    Ok(())
}

/// The one access decision: may `actor` do `action` on data of `province_id`
/// (`None` for national data such as the list of provinces)?
pub fn authorize(
    actor: &Actor,
    action: Action,
    province_id: Option<i64>,
) -> Result<(), DomainError> {
    if !action.roles().contains(&actor.role) {
        return Err(DomainError::Forbidden {
            action: action.name(),
        });
    }
    match province_id {
        Some(p) if !actor.scope().allows(p) => Err(DomainError::WrongProvince),
        _ => Ok(()),
    }
}

/// An actor for the core's unit tests.
#[cfg(test)]
pub(crate) fn test_actor(role: Role, province: Option<i64>) -> Actor {
    Actor {
        user_id: 1,
        username: "u".into(),
        full_name: "u".into(),
        role,
        province_id: province,
    }
}

#[cfg(test)]
mod tests {
    use super::test_actor as actor;
    use super::*;

    #[test]
    fn province_scoping() {
        let sec = actor(Role::Security, Some(7));
        assert!(authorize(&sec, Action::HandOver, Some(7)).is_ok());
        assert_eq!(
            authorize(&sec, Action::HandOver, Some(8)),
            Err(DomainError::WrongProvince)
        );
        let hq = actor(Role::Hq, None);
        assert!(authorize(&hq, Action::ViewCustody, Some(8)).is_ok());
        assert!(authorize(&hq, Action::HandOver, Some(8)).is_err());
        let lost = actor(Role::Security, None);
        assert_eq!(
            authorize(&lost, Action::HandOver, Some(7)),
            Err(DomainError::WrongProvince)
        );
    }

    #[test]
    fn roles_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
    }
}
