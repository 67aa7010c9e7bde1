//! Font discovery: find a Persian-capable font (Vazirmatn preferred) in a set of directories.

use std::path::{Path, PathBuf};

use typst::foundations::Bytes;
use typst::text::Font;

/// Letters a font must cover to print Persian: the Arabic-script letters Persian uses
/// (including the Persian-only پ چ ژ گ ک ی) and the extended digits ۰ and ۹.
const PERSIAN_PROBE: &[char] = &[
    'ا', 'ب', 'پ', 'ت', 'چ', 'ح', 'ژ', 'س', 'ع', 'گ', 'ک', 'ل', 'م', 'ن', 'و', 'ه', 'ی', '۰', '۹',
];

/// Families preferred for Persian, best first; any other font covering the probe comes after.
const PREFERRED: &[&str] = &["vazirmatn", "noto naskh arabic", "noto sans arabic"];

/// The fonts kept for rendering, and the font families the templates should ask for, best first.
pub(crate) struct FontSet {
    pub fonts: Vec<Font>,
    pub families: Vec<String>,
}

fn covers_persian(font: &Font) -> bool {
    let coverage = &font.info().coverage;
    PERSIAN_PROBE.iter().all(|&c| coverage.contains(c as u32))
}

fn covers_latin(font: &Font) -> bool {
    let coverage = &font.info().coverage;
    ['A', 'z', '0', '.']
        .iter()
        .all(|&c| coverage.contains(c as u32))
}

/// All `.ttf`, `.otf`, `.ttc` and `.otc` files under `dir`, recursively, sorted by path.
fn font_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            font_files(&path, out);
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .map(|e| {
                matches!(
                    e.to_ascii_lowercase().as_str(),
                    "ttf" | "otf" | "ttc" | "otc"
                )
            })
            .unwrap_or(false)
        {
            out.push(path);
        }
    }
}

/// Loads the fonts under `dirs`. Keeps every face that covers Persian; when none of those covers
/// Latin letters too, also keeps one Latin family as a fallback (so a stray Latin word still
/// prints). Returns `None` when no Persian-capable font is found.
pub(crate) fn load(dirs: &[PathBuf]) -> Option<FontSet> {
    let mut files = Vec::new();
    for dir in dirs {
        font_files(dir, &mut files);
    }

    let mut persian: Vec<Font> = Vec::new();
    let mut latin: Vec<Font> = Vec::new();
    for path in files {
        let Ok(data) = std::fs::read(&path) else {
            continue;
        };
        for font in Font::iter(Bytes::new(data)) {
            if covers_persian(&font) {
                persian.push(font);
            } else if covers_latin(&font) {
                latin.push(font);
            }
        }
    }
    if persian.is_empty() {
        return None;
    }

    // Families covering Persian: preferred ones first, then the rest in path order.
    let mut families: Vec<String> = Vec::new();
    for font in &persian {
        let family = font.info().family.clone();
        if !families.iter().any(|f| f.eq_ignore_ascii_case(&family)) {
            families.push(family);
        }
    }
    families.sort_by_key(|f| {
        let lower = f.to_lowercase();
        PREFERRED
            .iter()
            .position(|p| *p == lower)
            .unwrap_or(PREFERRED.len())
    });

    let mut fonts = persian;
    if !fonts.iter().any(covers_latin) {
        if let Some(first) = latin.first() {
            let family = first.info().family.clone();
            fonts.extend(latin.into_iter().filter(|f| f.info().family == family));
        }
    }
    Some(FontSet { fonts, families })
}

/// Where [`crate::Renderer::discover`] looks, in order.
pub(crate) fn default_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(dir) = std::env::var_os("SKILLCARD_FONT_DIR") {
        if !dir.is_empty() {
            dirs.push(PathBuf::from(dir));
        }
    }
    dirs.push(PathBuf::from("assets/fonts"));
    dirs.push(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join("..")
            .join("assets")
            .join("fonts"),
    );
    dirs.push(PathBuf::from("/usr/share/fonts"));
    dirs
}
