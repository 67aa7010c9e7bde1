use std::fmt;

/// The step of the chip protocol that failed, for messages and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    SelectMf,
    SelectFile,
    CreateFile,
    UpdateBinary,
    ReadBinary,
    GetUid,
}

impl Step {
    fn fa(self) -> &'static str {
        match self {
            Step::SelectMf => "انتخاب شاخهٔ اصلی",
            Step::SelectFile => "انتخاب پروندهٔ گواهی",
            Step::CreateFile => "ساخت پروندهٔ گواهی",
            Step::UpdateBinary => "نوشتن",
            Step::ReadBinary => "خواندن",
            Step::GetUid => "خواندن شناسهٔ تراشه",
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Step::SelectMf => "SELECT MF",
            Step::SelectFile => "SELECT EF",
            Step::CreateFile => "CREATE FILE",
            Step::UpdateBinary => "UPDATE BINARY",
            Step::ReadBinary => "READ BINARY",
            Step::GetUid => "GET DATA (UID)",
        })
    }
}

/// Everything that can go wrong between the application and the chip.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ChipError {
    #[error("the PC/SC service (pcscd) is not running")]
    NoService,
    #[error("no card reader is connected")]
    NoReader,
    #[error("card reader {0:?} not found")]
    ReaderNotFound(String),
    #[error("the card reader is in use by another program")]
    ReaderBusy,
    #[error("no card in the reader")]
    NoCard,
    #[error("the card was removed (or lost contact) during the operation")]
    CardRemoved,
    #[error("the card does not respond")]
    CardUnresponsive,
    #[error("{step} failed: status word {sw1:02X}{sw2:02X}")]
    Apdu { step: Step, sw1: u8, sw2: u8 },
    #[error("{step}: malformed response from the card")]
    BadResponse { step: Step },
    #[error("payload of {len} bytes is too large for the chip (at most {max})")]
    TooLarge { len: usize, max: usize },
    #[error("the data read back from the chip differs from the data written")]
    ReadBackMismatch,
    #[error("the chip holds no certificate data")]
    Blank,
    #[error("the chip's data is corrupt: {0}")]
    Corrupt(String),
    #[error("card reader error: {0}")]
    Reader(String),
    #[error("development card file: {0}")]
    Io(String),
}

impl ChipError {
    /// A short Persian message for the clerk's screen.
    pub fn message_fa(&self) -> String {
        match self {
            ChipError::NoService => {
                "سرویس کارت‌خوان (pcscd) اجرا نمی‌شود. با پشتیبانی تماس بگیرید.".into()
            }
            ChipError::NoReader => "هیچ کارت‌خوانی وصل نیست. کارت‌خوان را وصل کنید.".into(),
            ChipError::ReaderNotFound(name) => format!("کارت‌خوان «{name}» پیدا نشد."),
            ChipError::ReaderBusy => {
                "کارت‌خوان در دست برنامهٔ دیگری است. کمی بعد دوباره بکوشید.".into()
            }
            ChipError::NoCard => "کارتی در کارت‌خوان نیست. کارت را در کارت‌خوان بگذارید.".into(),
            ChipError::CardRemoved => {
                "کارت در میانهٔ کار از کارت‌خوان بیرون آمد. کارت را دوباره بگذارید و از نو بنویسید."
                    .into()
            }
            ChipError::CardUnresponsive => {
                "تراشهٔ کارت پاسخ نمی‌دهد. کارت را درست در کارت‌خوان بگذارید.".into()
            }
            ChipError::Apdu { step, sw1, sw2 } => format!(
                "کارت فرمان «{}» را نپذیرفت (کد {sw1:02X}{sw2:02X}).",
                step.fa()
            ),
            ChipError::BadResponse { step } => {
                format!("پاسخ کارت به فرمان «{}» نامعتبر است.", step.fa())
            }
            ChipError::TooLarge { len, max } => {
                format!("اطلاعات برای تراشهٔ کارت بزرگ است ({len} بایت؛ حداکثر {max} بایت).")
            }
            ChipError::ReadBackMismatch => {
                "اطلاعات خوانده‌شده از تراشه با اطلاعات نوشته‌شده یکی نیست. دوباره بنویسید.".into()
            }
            ChipError::Blank => "تراشهٔ این کارت خالی است.".into(),
            ChipError::Corrupt(_) => "اطلاعات تراشهٔ کارت خراب است.".into(),
            ChipError::Reader(detail) => format!("خطای کارت‌خوان: {detail}"),
            ChipError::Io(detail) => format!("خطای پروندهٔ کارت آزمایشی: {detail}"),
        }
    }
}

#[cfg(feature = "pcsc")]
impl From<pcsc::Error> for ChipError {
    fn from(e: pcsc::Error) -> Self {
        use pcsc::Error as E;
        match e {
            E::NoService | E::ServiceStopped => ChipError::NoService,
            E::NoReadersAvailable => ChipError::NoReader,
            E::UnknownReader | E::ReaderUnavailable => ChipError::ReaderNotFound(String::new()),
            E::SharingViolation => ChipError::ReaderBusy,
            E::NoSmartcard => ChipError::NoCard,
            E::RemovedCard | E::ResetCard | E::UnpoweredCard | E::CommError | E::NotTransacted => {
                ChipError::CardRemoved
            }
            E::UnresponsiveCard | E::Timeout => ChipError::CardUnresponsive,
            other => ChipError::Reader(other.to_string()),
        }
    }
}
