//! Reading a card's QR text from a photo (a phone's camera, a scanner), so that a verifier
//! needs no QR app: the verification page takes the photo, `skillcard verify` takes the file.
//!
//! Photos are decoded with limits (size in bytes, pixel dimensions, memory), scaled down to a
//! size the QR finder handles quickly, and tried again at full size (small pictures enlarged)
//! if nothing was found.

use image::GrayImage;
use skillcard_media::{MediaError, QR_PHOTO};

/// The largest photo accepted, in bytes.
pub const MAX_PHOTO_BYTES: usize = QR_PHOTO.max_bytes;
/// Photos are first searched at this size (longest side).
const SEARCH_SIDE: u32 = 1600;

/// Why no QR text came out of a photo.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PhotoError {
    #[error("the photo was refused: {0}")]
    Image(#[from] MediaError),
    #[error("no readable QR code in the photo")]
    NoCode,
}

fn decode(bytes: &[u8]) -> Result<GrayImage, PhotoError> {
    Ok(skillcard_media::decode(bytes, &QR_PHOTO)?.to_luma8())
}

/// The text of the first QR code found in `gray`.
fn find(gray: &GrayImage) -> Option<String> {
    let (w, h) = (gray.width() as usize, gray.height() as usize);
    let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| {
        gray.get_pixel(x as u32, y as u32).0[0]
    });
    prepared
        .detect_grids()
        .into_iter()
        .find_map(|grid| grid.decode().ok().map(|(_, text)| text))
}

/// The text of the QR code in a JPEG or PNG photo.
pub fn qr_text_from_photo(bytes: &[u8]) -> Result<String, PhotoError> {
    let gray = decode(bytes)?;
    let longest = gray.width().max(gray.height());
    if longest > SEARCH_SIDE {
        let scale = f64::from(SEARCH_SIDE) / f64::from(longest);
        let small = image::imageops::resize(
            &gray,
            ((f64::from(gray.width()) * scale) as u32).max(1),
            ((f64::from(gray.height()) * scale) as u32).max(1),
            image::imageops::FilterType::Triangle,
        );
        if let Some(text) = find(&small) {
            return Ok(text);
        }
    }
    if let Some(text) = find(&gray) {
        return Ok(text);
    }
    // Small pictures: the finder wants a few pixels a module; enlarge twice.
    if longest < SEARCH_SIDE {
        let big = image::imageops::resize(
            &gray,
            gray.width() * 2,
            gray.height() * 2,
            image::imageops::FilterType::Triangle,
        );
        if let Some(text) = find(&big) {
            return Ok(text);
        }
    }
    Err(PhotoError::NoCode)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn rejects_what_is_not_a_photo() {
        assert!(matches!(
            qr_text_from_photo(b"%PDF-1.4 not an image"),
            Err(PhotoError::Image(MediaError::UnknownFormat))
        ));
        assert_eq!(
            qr_text_from_photo(&vec![0u8; MAX_PHOTO_BYTES + 1]),
            Err(PhotoError::Image(MediaError::TooManyBytes {
                max: MAX_PHOTO_BYTES
            }))
        );
        assert!(matches!(
            qr_text_from_photo(&skillcard_media::samples::png_bomb(100_000, 100_000)),
            Err(PhotoError::Image(MediaError::TooManyPixels { .. }))
        ));
        let blank = GrayImage::from_pixel(300, 200, image::Luma([255]));
        let mut png = std::io::Cursor::new(Vec::new());
        blank.write_to(&mut png, image::ImageFormat::Png).unwrap();
        assert_eq!(qr_text_from_photo(png.get_ref()), Err(PhotoError::NoCode));
    }
}
