//! Printable Persian documents (forms and letters of the regulation) rendered to A4 PDF with typst,
//! and the faces of skill certificate cards (ID-1 pages, [`CardBatch`]) for the card printer.
//!
//! The Persian text lives in the typst templates under `templates/` (embedded at compile time); the
//! data goes in as a JSON virtual file (`data.json`), never spliced into markup. The templates print
//! every Latin digit as a Persian digit, so callers pass plain numbers and `"1405/09/03"` dates.
//!
//! ```no_run
//! # fn main() -> Result<(), skillcard_docs::DocsError> {
//! use skillcard_docs::{Document, Form3, Person, Renderer};
//! let renderer = Renderer::discover()?; // load fonts once, share it (it is Send + Sync)
//! let pdf = renderer.render(&Document::Form3(Form3 {
//!     province: "اصفهان".into(),
//!     request_no: "1405/123".into(),
//!     date: "1405/09/03".into(),
//!     month_label: "آذر 1405".into(),
//!     count: 250,
//!     cap: 300,
//!     representative: "مریم احمدی".into(),
//!     head: Person { name: "علی رضایی".into(), title: String::new() },
//! }))?;
//! # let _ = pdf; Ok(()) }
//! ```

mod cards;
mod fonts;
mod model;
mod world;

use std::path::PathBuf;

pub use model::{
    CardBatch, CardFace, DamageLetter, DamageLetterRow, Document, ExamSheet, ExamSheetRow, Form1,
    Form2, Form3, Form4, Form5, Form5Row, Form6, Form6Row, HandoverLetter, LedgerRow, Person,
    ReceiptNotice, ReplacementFeeNotice, SerialRangeRow,
};

/// Why a document could not be rendered, or the renderer not built.
#[derive(Debug, thiserror::Error)]
pub enum DocsError {
    /// No font able to print Persian was found.
    #[error(
        "no Persian-capable font (e.g. Vazirmatn; run scripts/fetch-fonts) found in: {searched}"
    )]
    NoFont { searched: String },
    /// The template failed to compile with this data.
    #[error("typst compilation failed: {0}")]
    Compile(String),
    /// The PDF could not be written.
    #[error("PDF export failed: {0}")]
    Pdf(String),
    /// The data could not be serialised to JSON.
    #[error("document data: {0}")]
    Data(#[from] serde_json::Error),
    /// The data cannot be printed (e.g. a card photo that is neither PNG nor JPEG, or a QR
    /// payload too long for a card).
    #[error("invalid document data: {0}")]
    Invalid(String),
    /// A bug in this crate.
    #[error("internal error: {0}")]
    Internal(String),
}

/// A rendered document.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// The PDF file.
    pub pdf: Vec<u8>,
    /// How many pages it has (A4, or ID-1 card pages for a [`Document::CardBatch`]).
    pub pages: usize,
}

/// Renders [`Document`]s to PDF. Fonts and templates are loaded once; share one renderer (e.g. in
/// an `Arc`) between threads.
pub struct Renderer {
    shared: world::Shared,
    families: Vec<String>,
}

impl std::fmt::Debug for Renderer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Renderer")
            .field("families", &self.families)
            .finish_non_exhaustive()
    }
}

/// How many compilations' worth of typst's memoisation caches to keep after each render.
const CACHE_MAX_AGE: usize = 10;

/// Card batches are split for parallel layout only into chunks of at least this many cards.
const CARDS_PER_CHUNK_MIN: usize = 16;

impl Renderer {
    /// Loads fonts from `dirs` (searched recursively for `.ttf`/`.otf`/`.ttc`). Fails when none of
    /// them can print Persian. Vazirmatn is preferred, then Noto Naskh Arabic, then any other font
    /// covering the Persian letters.
    pub fn from_font_dirs(dirs: &[PathBuf]) -> Result<Self, DocsError> {
        let set = fonts::load(dirs).ok_or_else(|| DocsError::NoFont {
            searched: dirs
                .iter()
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
        })?;
        Ok(Self {
            shared: world::Shared::new(set.fonts)?,
            families: set.families,
        })
    }

    /// Finds fonts in the first of these directories that holds a Persian-capable font:
    /// `$SKILLCARD_FONT_DIR` (if set), `./assets/fonts`, the workspace's `assets/fonts` (found from
    /// this crate's source directory at build time), `/usr/share/fonts`.
    pub fn discover() -> Result<Self, DocsError> {
        let dirs = fonts::default_dirs();
        for dir in &dirs {
            if dir.is_dir() {
                match Self::from_font_dirs(std::slice::from_ref(dir)) {
                    Ok(renderer) => return Ok(renderer),
                    Err(DocsError::NoFont { .. }) => continue,
                    Err(other) => return Err(other),
                }
            }
        }
        Err(DocsError::NoFont {
            searched: dirs
                .iter()
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
        })
    }

    /// The font families the documents are set in, best first (e.g. `["Vazirmatn"]`).
    pub fn font_families(&self) -> &[String] {
        &self.families
    }

    /// Renders `doc` to the bytes of a PDF: A4, or ID-1 card pages (85.60 × 53.98 mm, front and
    /// back of each card) for a [`Document::CardBatch`].
    pub fn render(&self, doc: &Document) -> Result<Vec<u8>, DocsError> {
        self.render_with_info(doc).map(|r| r.pdf)
    }

    /// Renders `doc` and also reports the page count.
    pub fn render_with_info(&self, doc: &Document) -> Result<Rendered, DocsError> {
        let result = self.render_inner(doc);
        typst::comemo::evict(CACHE_MAX_AGE);
        result
    }

    fn render_inner(&self, doc: &Document) -> Result<Rendered, DocsError> {
        let (document, tagged) = match doc {
            Document::CardBatch(batch) => (self.compile_cards(doc, batch)?, false),
            _ => (self.compile(doc)?, true),
        };
        let options = typst_pdf::PdfOptions {
            tagged,
            ..Default::default()
        };
        let pdf = typst_pdf::pdf(&document, &options)
            .map_err(|errors| DocsError::Pdf(describe_plain(&errors)))?;
        Ok(Rendered {
            pdf,
            pages: document.pages().len(),
        })
    }

    /// Lays `doc` out into pages.
    fn compile(&self, doc: &Document) -> Result<typst_layout::PagedDocument, DocsError> {
        let mut value = serde_json::to_value(doc)?;
        if let serde_json::Value::Object(map) = &mut value {
            map.insert("fonts".to_owned(), serde_json::to_value(&self.families)?);
        }
        let files = match (doc, value.pointer_mut("/data/cards")) {
            (Document::CardBatch(batch), Some(serde_json::Value::Array(cards))) => {
                cards::files(batch, cards)?
            }
            (Document::CardBatch(_), _) => {
                return Err(DocsError::Internal("card batch JSON has no cards".into()))
            }
            _ => Vec::new(),
        };
        let data = serde_json::to_vec(&value)?;

        let world = world::RenderWorld::new(&self.shared, doc.template(), data, files)?;
        typst::compile::<typst_layout::PagedDocument>(&world)
            .output
            .map_err(|errors| DocsError::Compile(describe(&world, &errors)))
    }

    /// Card faces: every card is laid out on its own two pages, independent of the others, so a
    /// large batch is laid out in chunks on all cores and the pages joined in order. The PDF for
    /// the card printer is not tagged: a structure tree for screen readers has no reader there,
    /// and chunks laid out apart do not share one.
    fn compile_cards(
        &self,
        doc: &Document,
        batch: &CardBatch,
    ) -> Result<typst_layout::PagedDocument, DocsError> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let chunks = (batch.cards.len() / CARDS_PER_CHUNK_MIN).clamp(1, cores);
        if chunks == 1 {
            return self.compile(doc);
        }
        let size = batch.cards.len().div_ceil(chunks);
        let parts: Vec<Result<typst_layout::PagedDocument, DocsError>> = std::thread::scope(|s| {
            let workers: Vec<_> = batch
                .cards
                .chunks(size)
                .map(|cards| {
                    s.spawn(move || {
                        self.compile(&Document::CardBatch(CardBatch {
                            cards: cards.to_vec(),
                        }))
                    })
                })
                .collect();
            workers
                .into_iter()
                .map(|w| {
                    w.join().unwrap_or_else(|_| {
                        Err(DocsError::Internal("card layout thread panicked".into()))
                    })
                })
                .collect()
        });
        let mut pages = typst::ecow::EcoVec::new();
        let mut info = None;
        for part in parts {
            let part = part?;
            info.get_or_insert_with(|| typst::model::Document::info(&part).clone());
            pages.extend(part.pages().iter().cloned());
        }
        Ok(typst_layout::PagedDocument::new(
            pages,
            info.unwrap_or_default(),
        ))
    }
}

/// Export diagnostics (no source to point into once chunks are joined).
fn describe_plain(errors: &[typst::diag::SourceDiagnostic]) -> String {
    errors
        .iter()
        .map(|e| e.message.to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

/// Turns typst diagnostics into one message, with the template line each points at.
fn describe(world: &world::RenderWorld<'_>, errors: &[typst::diag::SourceDiagnostic]) -> String {
    use typst::World as _;
    let mut out = Vec::new();
    for error in errors {
        let mut msg = error.message.to_string();
        if let Some(id) = error.span.id() {
            if let Ok(source) = world.source(id) {
                if let Some(range) = typst::WorldExt::range(world, error.span) {
                    let line = source.lines().byte_to_line(range.start).unwrap_or(0) + 1;
                    msg = format!("{}:{line}: {msg}", id.vpath().get_without_slash());
                }
            }
        }
        for hint in &error.hints {
            msg.push_str(&format!(" (hint: {})", hint.v));
        }
        out.push(msg);
    }
    out.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn renderer_is_send_and_sync() {
        assert_send_sync::<Renderer>();
    }

    #[test]
    fn no_font_in_an_empty_dir() {
        let dir = std::env::temp_dir().join(format!("skillcard-docs-empty-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let err = Renderer::from_font_dirs(std::slice::from_ref(&dir));
        assert!(matches!(err, Err(DocsError::NoFont { .. })), "{err:?}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn document_serialises_with_kind_and_data() {
        let doc = Document::Form2(Form2 {
            province: "قم".into(),
            from_date: "1405/01/01".into(),
            to_date: "1405/01/31".into(),
            opening_balance: 5,
            rows: vec![],
            closing_balance: 5,
        });
        let v = serde_json::to_value(&doc).ok();
        let v = v.as_ref();
        assert_eq!(v.and_then(|v| v["kind"].as_str()), Some("Form2"));
        assert_eq!(
            v.and_then(|v| v["data"]["opening_balance"].as_u64()),
            Some(5)
        );
    }
}
