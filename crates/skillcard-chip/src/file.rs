use std::fs;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::iso;
use crate::{CardWriter, ChipError};

/// Development back end: a directory with one file per "card".
///
/// The card in use is named by the file `current` in the directory (one line), or `default`;
/// its chip image is `<name>.ef-e101` (the same length-prefixed layout as the chip) and its UID
/// is a stable fake, derived from the name (7 bytes, first byte `0x04` like NXP UIDs).
#[derive(Debug, Clone)]
pub struct FileWriter {
    dir: PathBuf,
    card: String,
}

impl FileWriter {
    /// The card named in `dir/current` (or `default`). The directory is created if missing.
    pub fn new(dir: impl Into<PathBuf>) -> Result<Self, ChipError> {
        let dir = dir.into();
        let card = match fs::read_to_string(dir.join("current")) {
            Ok(s) if !s.trim().is_empty() => s.trim().to_owned(),
            Ok(_) => "default".to_owned(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => "default".to_owned(),
            Err(e) => return Err(io_err(&dir.join("current"), e)),
        };
        Self::for_card(dir, &card)
    }

    /// A named card in `dir` (names: ASCII letters, digits, `-` and `_`).
    pub fn for_card(dir: impl Into<PathBuf>, card: &str) -> Result<Self, ChipError> {
        let dir = dir.into();
        let valid = !card.is_empty()
            && card.len() <= 64
            && card
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !valid {
            return Err(ChipError::Io(format!("invalid card name {card:?}")));
        }
        fs::create_dir_all(&dir).map_err(|e| io_err(&dir, e))?;
        Ok(FileWriter {
            dir,
            card: card.to_owned(),
        })
    }

    /// The card's name.
    pub fn card(&self) -> &str {
        &self.card
    }

    /// The file holding the card's chip image.
    pub fn path(&self) -> PathBuf {
        self.dir.join(format!("{}.ef-e101", self.card))
    }
}

fn io_err(path: &Path, e: std::io::Error) -> ChipError {
    ChipError::Io(format!("{}: {e}", path.display()))
}

impl CardWriter for FileWriter {
    fn uid(&mut self) -> Result<Vec<u8>, ChipError> {
        let digest = Sha256::digest(format!("skillcard-dev-card:{}", self.card).as_bytes());
        let mut uid = vec![0x04];
        uid.extend_from_slice(&digest[..6]);
        Ok(uid)
    }

    fn write(&mut self, payload: &[u8]) -> Result<(), ChipError> {
        let image = iso::image(payload)?;
        let path = self.path();
        let tmp = self.dir.join(format!(".{}.ef-e101.tmp", self.card));
        fs::write(&tmp, &image).map_err(|e| io_err(&tmp, e))?;
        fs::rename(&tmp, &path).map_err(|e| io_err(&path, e))?;
        match self.read() {
            Ok(back) if back == payload => Ok(()),
            Err(ChipError::Blank) if payload.is_empty() => Ok(()),
            Ok(_) | Err(ChipError::Blank) | Err(ChipError::Corrupt(_)) => {
                Err(ChipError::ReadBackMismatch)
            }
            Err(e) => Err(e),
        }
    }

    fn read(&mut self) -> Result<Vec<u8>, ChipError> {
        let path = self.path();
        let image = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(ChipError::Blank),
            Err(e) => return Err(io_err(&path, e)),
        };
        iso::parse_image(&image)?.ok_or(ChipError::Blank)
    }
}
