//! A minimal in-memory typst `World`: the embedded templates, one JSON data file, the fonts and
//! a render's own binary files (card photos and QR codes).

use typst::diag::{FileError, FileResult};
use typst::foundations::{Bytes, Datetime, Duration};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, World};

use crate::DocsError;

/// The embedded templates. `Common` holds the helpers the others import.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Template {
    Common,
    Form1,
    Form2,
    Form3,
    Form4,
    ReceiptNotice,
    HandoverLetter,
    CardBatch,
    ExamSheet,
    Form5,
    Form6,
    DamageLetter,
    ReplacementFeeNotice,
}

impl Template {
    pub const ALL: [Template; 13] = [
        Template::Common,
        Template::Form1,
        Template::Form2,
        Template::Form3,
        Template::Form4,
        Template::ReceiptNotice,
        Template::HandoverLetter,
        Template::CardBatch,
        Template::ExamSheet,
        Template::Form5,
        Template::Form6,
        Template::DamageLetter,
        Template::ReplacementFeeNotice,
    ];

    fn path(self) -> &'static str {
        match self {
            Template::Common => "/common.typ",
            Template::Form1 => "/form1.typ",
            Template::Form2 => "/form2.typ",
            Template::Form3 => "/form3.typ",
            Template::Form4 => "/form4.typ",
            Template::ReceiptNotice => "/receipt-notice.typ",
            Template::HandoverLetter => "/handover-letter.typ",
            Template::CardBatch => "/cards.typ",
            Template::ExamSheet => "/exam-sheet.typ",
            Template::Form5 => "/form5.typ",
            Template::Form6 => "/form6.typ",
            Template::DamageLetter => "/damage-letter.typ",
            Template::ReplacementFeeNotice => "/replacement-fee-notice.typ",
        }
    }

    fn text(self) -> &'static str {
        match self {
            Template::Common => include_str!("../templates/common.typ"),
            Template::Form1 => include_str!("../templates/form1.typ"),
            Template::Form2 => include_str!("../templates/form2.typ"),
            Template::Form3 => include_str!("../templates/form3.typ"),
            Template::Form4 => include_str!("../templates/form4.typ"),
            Template::ReceiptNotice => include_str!("../templates/receipt-notice.typ"),
            Template::HandoverLetter => include_str!("../templates/handover-letter.typ"),
            Template::CardBatch => include_str!("../templates/cards.typ"),
            Template::ExamSheet => include_str!("../templates/exam-sheet.typ"),
            Template::Form5 => include_str!("../templates/form5.typ"),
            Template::Form6 => include_str!("../templates/form6.typ"),
            Template::DamageLetter => include_str!("../templates/damage-letter.typ"),
            Template::ReplacementFeeNotice => {
                include_str!("../templates/replacement-fee-notice.typ")
            }
        }
    }
}

pub(crate) fn file_id(path: &str) -> Result<FileId, DocsError> {
    let vpath = VirtualPath::new(path)
        .map_err(|e| DocsError::Internal(format!("virtual path {path}: {e:?}")))?;
    Ok(RootedPath::new(VirtualRoot::Project, vpath).intern())
}

/// Everything that does not change between renders: parsed once, shared by all renders.
pub(crate) struct Shared {
    library: LazyHash<Library>,
    book: LazyHash<FontBook>,
    fonts: Vec<Font>,
    sources: Vec<(Template, Source)>,
    data_id: FileId,
}

impl Shared {
    pub fn new(fonts: Vec<Font>) -> Result<Self, DocsError> {
        use typst::LibraryExt as _;
        let mut sources = Vec::with_capacity(Template::ALL.len());
        for template in Template::ALL {
            let id = file_id(template.path())?;
            sources.push((template, Source::new(id, template.text().to_owned())));
        }
        Ok(Self {
            library: LazyHash::new(Library::builder().build()),
            book: LazyHash::new(FontBook::from_fonts(&fonts)),
            fonts,
            sources,
            data_id: file_id("/data.json")?,
        })
    }

    fn source_of(&self, template: Template) -> Option<&Source> {
        self.sources
            .iter()
            .find(|(t, _)| *t == template)
            .map(|(_, s)| s)
    }

    fn source_by_id(&self, id: FileId) -> Option<&Source> {
        self.sources
            .iter()
            .find(|(_, s)| s.id() == id)
            .map(|(_, s)| s)
    }
}

/// One render: the shared state, which template is the main file, the data file's bytes and the
/// render's other files (e.g. `/photo-0.png`, `/qr-0.svg`).
pub(crate) struct RenderWorld<'a> {
    shared: &'a Shared,
    main: FileId,
    data: Bytes,
    files: Vec<(FileId, Bytes)>,
}

impl<'a> RenderWorld<'a> {
    pub fn new(
        shared: &'a Shared,
        template: Template,
        data: Vec<u8>,
        files: Vec<(FileId, Bytes)>,
    ) -> Result<Self, DocsError> {
        let main = shared
            .source_of(template)
            .map(|s| s.id())
            .ok_or_else(|| DocsError::Internal(format!("template {template:?} missing")))?;
        Ok(Self {
            shared,
            main,
            data: Bytes::new(data),
            files,
        })
    }
}

impl World for RenderWorld<'_> {
    fn library(&self) -> &LazyHash<Library> {
        &self.shared.library
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &self.shared.book
    }

    fn main(&self) -> FileId {
        self.main
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        match self.shared.source_by_id(id) {
            Some(source) => Ok(source.clone()),
            None if id == self.shared.data_id || self.files.iter().any(|(f, _)| *f == id) => {
                Err(FileError::NotSource)
            }
            None => Err(FileError::NotFound(id.vpath().get_without_slash().into())),
        }
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        if id == self.shared.data_id {
            return Ok(self.data.clone());
        }
        if let Some((_, bytes)) = self.files.iter().find(|(f, _)| *f == id) {
            return Ok(bytes.clone());
        }
        match self.shared.source_by_id(id) {
            Some(source) => Ok(Bytes::from_string(source.clone())),
            None => Err(FileError::NotFound(id.vpath().get_without_slash().into())),
        }
    }

    fn font(&self, index: usize) -> Option<Font> {
        self.shared.fonts.get(index).cloned()
    }

    fn today(&self, _offset: Option<Duration>) -> Option<Datetime> {
        // The documents carry their own Solar Hijri dates; `datetime.today()` is not used.
        None
    }
}
