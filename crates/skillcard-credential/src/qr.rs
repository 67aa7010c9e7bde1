//! The QR text form of a credential: the same COSE_Sign1 bytes as the chip, compressed with
//! zlib and written in Base45 (RFC 9285) behind the prefix `SC1:`, exactly as the EU digital
//! COVID certificate does with `HC1:`. Base45 uses only the QR alphanumeric alphabet, so the
//! QR encoder can use alphanumeric mode (5.5 bits per character).

use flate2::write::ZlibEncoder;
use flate2::Compression;
use flate2::{Decompress, FlushDecompress, Status};

/// The prefix of the QR text, with its version digit.
pub const QR_PREFIX: &str = "SC1:";

/// The largest decompressed payload accepted (zip-bomb guard).
pub const MAX_DECOMPRESSED: usize = 8 * 1024;

/// The longest QR text accepted (a version-40 QR holds 4296 alphanumeric characters).
pub const MAX_QR_TEXT: usize = 4296;

/// Why QR text does not yield credential bytes.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum QrError {
    /// The text does not start with `SC1:`.
    #[error("QR text does not start with {QR_PREFIX}")]
    MissingPrefix,
    /// The text is longer than any QR code holds.
    #[error("QR text is too long")]
    TooLong,
    /// Not valid Base45.
    #[error("QR text is not valid Base45")]
    Base45,
    /// Not a valid zlib stream, or bytes after it.
    #[error("QR payload is not a valid zlib stream: {0}")]
    Zlib(String),
    /// Decompresses to more than [`MAX_DECOMPRESSED`] bytes.
    #[error("QR payload decompresses to more than {MAX_DECOMPRESSED} bytes")]
    TooLarge,
}

/// `SC1:` + Base45(zlib(bytes)).
pub fn to_qr_text(bytes: &[u8]) -> String {
    use std::io::Write as _;
    let mut enc = ZlibEncoder::new(Vec::with_capacity(bytes.len() + 16), Compression::best());
    // Writing into a Vec cannot fail; fall back to a stored stream if it ever did.
    let compressed = match enc.write_all(bytes).and_then(|()| enc.finish()) {
        Ok(c) => c,
        Err(_) => stored_zlib(bytes),
    };
    let mut out = String::with_capacity(QR_PREFIX.len() + compressed.len() * 3 / 2 + 2);
    out.push_str(QR_PREFIX);
    out.push_str(&base45::encode(&compressed));
    out
}

fn stored_zlib(bytes: &[u8]) -> Vec<u8> {
    let mut c = flate2::Compress::new(Compression::none(), true);
    let mut out = Vec::with_capacity(bytes.len() + 64);
    let _ = c.compress_vec(bytes, &mut out, flate2::FlushCompress::Finish);
    out
}

/// Reverses [`to_qr_text`]. Surrounding whitespace is ignored; anything else wrong is an error.
pub fn from_qr_text(text: &str) -> Result<Vec<u8>, QrError> {
    let text = text.trim();
    if text.len() > MAX_QR_TEXT + QR_PREFIX.len() {
        return Err(QrError::TooLong);
    }
    let body = text.strip_prefix(QR_PREFIX).ok_or(QrError::MissingPrefix)?;
    let compressed = base45::decode(body).map_err(|_| QrError::Base45)?;
    inflate_bounded(&compressed)
}

/// Inflates one complete zlib stream of at most [`MAX_DECOMPRESSED`] bytes, with nothing after
/// it. A truncated stream is an error, not a short result.
fn inflate_bounded(compressed: &[u8]) -> Result<Vec<u8>, QrError> {
    let mut d = Decompress::new(true);
    let mut out = Vec::with_capacity(MAX_DECOMPRESSED + 1);
    loop {
        let (in_before, out_before) = (d.total_in(), d.total_out());
        let consumed = usize::try_from(in_before).unwrap_or(usize::MAX);
        let input = compressed.get(consumed..).unwrap_or(&[]);
        let status = d
            .decompress_vec(input, &mut out, FlushDecompress::None)
            .map_err(|e| QrError::Zlib(e.to_string()))?;
        if out.len() > MAX_DECOMPRESSED {
            return Err(QrError::TooLarge);
        }
        if status == Status::StreamEnd {
            break;
        }
        if d.total_in() == in_before && d.total_out() == out_before {
            return Err(QrError::Zlib("truncated stream".to_owned()));
        }
    }
    if usize::try_from(d.total_in()).ok() != Some(compressed.len()) {
        return Err(QrError::Zlib("bytes after the zlib stream".to_owned()));
    }
    Ok(out)
}
