//! Card faces: the photos and QR codes of a [`CardBatch`] as the render's virtual files.
//!
//! The JSON the template reads has, for card `i`, `photo` replaced by the path of its virtual file
//! (`"/photo-<i>.png"` or `"/photo-<i>.jpg"`, `null` without a photo) and `qr` set to
//! `"/qr-<i>.svg"`, an SVG of the QR code drawn from the encoder's module matrix.

use qrcode::{Color, EcLevel, QrCode, Version};
use typst::foundations::Bytes;
use typst::syntax::FileId;

use crate::model::CardBatch;
use crate::world::file_id;
use crate::DocsError;

/// The largest QR version (4·v + 17 modules a side) printed. The code is printed 40 mm wide,
/// quiet zone included: version 22 (105 modules + 8 of quiet zone) still gets modules of about
/// 0.35 mm, which a phone and a 300 dpi card printer handle. A ~530-character alphanumeric
/// payload needs version 14 at level M.
pub(crate) const MAX_QR_VERSION: i16 = 22;

/// Modules of light margin around the code (the standard's quiet zone).
const QUIET_ZONE: usize = 4;

/// Encodes `text` at error correction level M, or L when M would need a version above
/// [`MAX_QR_VERSION`]. The encoder picks the segment modes (alphanumeric for uppercase text).
pub(crate) fn encode_qr(text: &str) -> Result<QrCode, DocsError> {
    for level in [EcLevel::M, EcLevel::L] {
        if let Ok(code) = QrCode::with_error_correction_level(text.as_bytes(), level) {
            if let Version::Normal(v) = code.version() {
                if v <= MAX_QR_VERSION {
                    return Ok(code);
                }
            }
        }
    }
    Err(DocsError::Invalid(format!(
        "QR payload of {} bytes does not fit a version-{MAX_QR_VERSION} QR code at level L",
        text.len()
    )))
}

/// The code as an SVG, one unit per module, with the quiet zone: a white square and one path of
/// the dark modules (horizontal runs merged), so viewers and printers draw no seams.
pub(crate) fn qr_svg(code: &QrCode) -> String {
    let width = code.width();
    let size = width + 2 * QUIET_ZONE;
    let colors = code.to_colors();
    let mut path = String::with_capacity(width * width * 4);
    for (y, row) in colors.chunks(width.max(1)).enumerate() {
        let mut x = 0;
        while x < row.len() {
            if row[x] == Color::Dark {
                let start = x;
                while x < row.len() && row[x] == Color::Dark {
                    x += 1;
                }
                let run = x - start;
                path.push_str(&format!(
                    "M{} {}h{run}v1h-{run}z",
                    start + QUIET_ZONE,
                    y + QUIET_ZONE
                ));
            } else {
                x += 1;
            }
        }
    }
    format!(
        concat!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" "#,
            r#"width="{size}" height="{size}" shape-rendering="crispEdges">"#,
            r##"<rect width="{size}" height="{size}" fill="#fff"/>"##,
            r##"<path fill="#000" d="{path}"/></svg>"##
        ),
        size = size,
        path = path
    )
}

/// The file extension for an image's bytes, from its signature: PNG or JPEG only.
/// The file extension of a photo the typesetter may decode. Its header is checked against
/// `skillcard_media::RENDER` first: typst allocates what an image declares, so a photo stored
/// before uploads were bounded must not reach it unchecked.
fn image_ext(bytes: &[u8]) -> Result<&'static str, skillcard_media::MediaError> {
    match skillcard_media::check_renderable(bytes)? {
        skillcard_media::ImageFormat::Png => Ok("png"),
        _ => Ok("jpg"),
    }
}

/// The batch's virtual files, and `cards` (the JSON array of the batch's cards) rewritten to point
/// at them.
pub(crate) fn files(
    batch: &CardBatch,
    cards: &mut [serde_json::Value],
) -> Result<Vec<(FileId, Bytes)>, DocsError> {
    if batch.cards.is_empty() {
        return Err(DocsError::Invalid("a card batch with no cards".into()));
    }
    if cards.len() != batch.cards.len() {
        return Err(DocsError::Internal(
            "card JSON does not match the batch".into(),
        ));
    }
    let mut files = Vec::with_capacity(batch.cards.len() * 2);
    for (i, (card, json)) in batch.cards.iter().zip(cards.iter_mut()).enumerate() {
        let serde_json::Value::Object(map) = json else {
            return Err(DocsError::Internal("card JSON is not an object".into()));
        };

        let photo = match &card.photo {
            Some(bytes) => {
                let ext = image_ext(bytes).map_err(|e| {
                    DocsError::Invalid(format!(
                        "card {} (certificate {}): the photo cannot be printed: {e}",
                        i + 1,
                        card.certificate_no
                    ))
                })?;
                let path = format!("/photo-{i}.{ext}");
                files.push((file_id(&path)?, Bytes::new(bytes.clone())));
                serde_json::Value::String(path)
            }
            None => serde_json::Value::Null,
        };
        map.insert("photo".into(), photo);

        let code = encode_qr(&card.qr_text).map_err(|e| match e {
            DocsError::Invalid(msg) => DocsError::Invalid(format!(
                "card {} (certificate {}): {msg}",
                i + 1,
                card.certificate_no
            )),
            other => other,
        })?;
        let path = format!("/qr-{i}.svg");
        files.push((file_id(&path)?, Bytes::from_string(qr_svg(&code))));
        map.insert("qr".into(), serde_json::Value::String(path));
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(len: usize) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        let mut state: u32 = 12345;
        let mut s = String::from("SC1:");
        while s.len() < len {
            state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
            s.push(ALPHABET[(state >> 16) as usize % 32] as char);
        }
        s
    }

    #[test]
    fn a_530_char_alphanumeric_payload_fits_at_level_m() {
        let code = encode_qr(&payload(530)).expect("encodes");
        assert_eq!(code.error_correction_level(), EcLevel::M);
        let Version::Normal(v) = code.version() else {
            panic!("micro QR")
        };
        assert!(v <= 15, "version {v}");
    }

    #[test]
    fn a_long_payload_falls_back_to_level_l_then_fails() {
        // Version 22 holds 1,370 alphanumeric characters at level L, 1,062 at M.
        let code = encode_qr(&payload(1_200)).expect("encodes");
        assert_eq!(code.error_correction_level(), EcLevel::L);
        assert!(matches!(
            encode_qr(&payload(1_500)),
            Err(DocsError::Invalid(_))
        ));
    }

    #[test]
    fn svg_has_the_quiet_zone_and_one_path() {
        let code = encode_qr("SC1:ABC").expect("encodes");
        let svg = qr_svg(&code);
        let size = code.width() + 8;
        assert!(
            svg.contains(&format!(r#"viewBox="0 0 {size} {size}""#)),
            "{svg}"
        );
        assert_eq!(svg.matches("<path").count(), 1);
        // The top-left finder pattern's first row: 7 dark modules at (4, 4).
        assert!(svg.contains("M4 4h7v1h-7z"), "{svg}");
    }

    #[test]
    fn photo_formats() {
        use skillcard_media::samples::{jpeg_bomb, png_bomb};
        assert_eq!(image_ext(&png_bomb(90, 120)), Ok("png"));
        let mut jpeg = std::io::Cursor::new(Vec::new());
        image::RgbImage::new(90, 120)
            .write_to(&mut jpeg, image::ImageFormat::Jpeg)
            .unwrap();
        assert_eq!(image_ext(jpeg.get_ref()), Ok("jpg"));
        assert!(image_ext(b"GIF89a").is_err());
        // The typesetter is never handed an image that declares more than it may decode.
        assert!(image_ext(&png_bomb(100_000, 100_000)).is_err());
        assert!(image_ext(&jpeg_bomb(60_000, 60_000)).is_err());
    }
}
