//! Every image the product accepts passes through here before it is trusted: candidate photos,
//! scans of signed papers, and photos of a card's QR code.
//!
//! Why a crate of its own: an image file says how large it is before any pixel is read, and
//! decoders allocate what it says. A 1 KB PNG that declares 100,000 × 100,000 pixels asks for
//! 30 GB. So every decode here first reads the header, refuses dimensions or pixel counts over
//! the limit of its use ([`Bounds`]), and only then decodes with the image crate's allocation
//! limit as a second fence. The same header check guards rendering ([`check_renderable`]), so a
//! bad image already in the database cannot take the server down either.
//!
//! Candidate photos are *normalised* ([`normalize_photo`]): decoded, turned upright by their
//! EXIF orientation, scaled to fit the card's photo frame, composited on white and re-encoded as
//! a baseline JPEG. What is stored for printing is therefore always a small JPEG that this code
//! wrote, with no metadata (no location, no camera serial) and no surprises for the typesetter.
//! Scans of signed papers are evidence: they are checked (fully decoded within bounds) but kept
//! byte for byte as uploaded.

use image::codecs::jpeg::JpegEncoder;
pub use image::ImageFormat;
use image::{DynamicImage, ImageDecoder, ImageReader, Limits, RgbImage};
use skillcard_core::DomainError;
use std::io::Cursor;

/// Limits for one use of an image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bounds {
    /// The largest file, in bytes.
    pub max_bytes: usize,
    /// The longest side, in pixels.
    pub max_side: u32,
    /// width × height, in pixels.
    pub max_pixels: u64,
    /// What the decoder may allocate, in bytes.
    pub max_alloc: u64,
}

/// A candidate photo as uploaded: 1 MiB (its base64 fits a JSON body), up to ~50 MP.
pub const PHOTO_UPLOAD: Bounds = Bounds {
    max_bytes: 1 << 20,
    max_side: 10_000,
    max_pixels: 50_000_000,
    max_alloc: 256 << 20,
};

/// A scan of a signed paper: A4 at 600 dpi is 4,960 × 7,016 (35 MP).
pub const SCAN: Bounds = Bounds {
    max_bytes: 8 << 20,
    max_side: 14_000,
    max_pixels: 60_000_000,
    max_alloc: 384 << 20,
};

/// A photo of a card's QR code, from the public page or `skillcard verify`.
pub const QR_PHOTO: Bounds = Bounds {
    max_bytes: 8 << 20,
    max_side: 10_000,
    max_pixels: 50_000_000,
    max_alloc: 256 << 20,
};

/// What a card face may embed: a normalised photo is at most [`PHOTO_BOX`]; older stored photos
/// up to this size still print.
pub const RENDER: Bounds = Bounds {
    max_bytes: 2 << 20,
    max_side: 4_000,
    max_pixels: 8_000_000,
    max_alloc: 64 << 20,
};

/// The box a normalised candidate photo fits in (3:4, portrait: ~300 dpi in the card's frame).
pub const PHOTO_BOX: (u32, u32) = (480, 640);
/// JPEG quality of a normalised photo.
const PHOTO_QUALITY: u8 = 88;

/// Why an image was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MediaError {
    #[error("the file is empty")]
    Empty,
    #[error("the file is larger than {max} bytes")]
    TooManyBytes { max: usize },
    #[error("neither a JPEG nor a PNG image")]
    UnknownFormat,
    #[error("the image is {width}×{height} pixels, over the limit ({max_side} a side, {max_pixels} in all)")]
    TooManyPixels {
        width: u32,
        height: u32,
        max_side: u32,
        max_pixels: u64,
    },
    #[error("the image cannot be decoded: {0}")]
    Unreadable(String),
}

impl MediaError {
    /// The domain's error for an upload field (`photo`, `scan`, …).
    pub fn for_field(self, field: &'static str) -> DomainError {
        match self {
            MediaError::Empty => DomainError::Required { field },
            MediaError::TooManyBytes { max } => DomainError::TooLong { field, max },
            MediaError::UnknownFormat => DomainError::InvalidValue { field },
            MediaError::Unreadable(_) => DomainError::UnreadableImage { field },
            MediaError::TooManyPixels {
                width,
                height,
                max_side,
                max_pixels,
            } => DomainError::ImageTooLarge {
                field,
                width,
                height,
                max_side,
                max_pixels,
            },
        }
    }
}

/// The format of an image, from its first bytes (never from a file name or a declared type).
pub fn sniff(bytes: &[u8]) -> Option<ImageFormat> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(ImageFormat::Jpeg)
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(ImageFormat::Png)
    } else {
        None
    }
}

fn media_type(format: ImageFormat) -> &'static str {
    match format {
        ImageFormat::Png => "image/png",
        _ => "image/jpeg",
    }
}

/// Reads the header only and refuses what `bounds` does not allow; returns the format and size.
pub fn check_header(bytes: &[u8], bounds: &Bounds) -> Result<(ImageFormat, u32, u32), MediaError> {
    if bytes.is_empty() {
        return Err(MediaError::Empty);
    }
    if bytes.len() > bounds.max_bytes {
        return Err(MediaError::TooManyBytes {
            max: bounds.max_bytes,
        });
    }
    let format = sniff(bytes).ok_or(MediaError::UnknownFormat)?;
    // The header is read with the allocation fence only, so that an oversized image is named
    // as such rather than as a decoder's limit error.
    let mut header = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_alloc = Some(bounds.max_alloc);
    header.limits(limits);
    let (width, height) = header
        .into_dimensions()
        .map_err(|e| MediaError::Unreadable(e.to_string()))?;
    let pixels = u64::from(width) * u64::from(height);
    if width == 0
        || height == 0
        || width > bounds.max_side
        || height > bounds.max_side
        || pixels > bounds.max_pixels
    {
        return Err(MediaError::TooManyPixels {
            width,
            height,
            max_side: bounds.max_side,
            max_pixels: bounds.max_pixels,
        });
    }
    Ok((format, width, height))
}

fn reader<'a>(
    bytes: &'a [u8],
    format: ImageFormat,
    bounds: &Bounds,
) -> ImageReader<Cursor<&'a [u8]>> {
    let mut r = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(bounds.max_side);
    limits.max_image_height = Some(bounds.max_side);
    limits.max_alloc = Some(bounds.max_alloc);
    r.limits(limits);
    r
}

/// Decodes an image within `bounds`, upright (its EXIF orientation applied).
pub fn decode(bytes: &[u8], bounds: &Bounds) -> Result<DynamicImage, MediaError> {
    let (format, _, _) = check_header(bytes, bounds)?;
    let unreadable = |e: image::ImageError| MediaError::Unreadable(e.to_string());
    let mut decoder = reader(bytes, format, bounds)
        .into_decoder()
        .map_err(unreadable)?;
    let orientation = decoder.orientation().map_err(unreadable)?;
    let mut image = DynamicImage::from_decoder(decoder).map_err(unreadable)?;
    image.apply_orientation(orientation);
    Ok(image)
}

/// A candidate photo made ready for printing: upright, fitted into [`PHOTO_BOX`] (never
/// enlarged), transparent parts on white, re-encoded as a JPEG with no metadata.
pub fn normalize_photo(bytes: &[u8]) -> Result<Vec<u8>, MediaError> {
    let image = decode(bytes, &PHOTO_UPLOAD)?;
    let (w, h) = (image.width(), image.height());
    let (bw, bh) = PHOTO_BOX;
    let image = if w > bw || h > bh {
        image.resize(bw, bh, image::imageops::FilterType::Lanczos3)
    } else {
        image
    };
    let rgb = on_white(&image);
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, PHOTO_QUALITY)
        .encode_image(&rgb)
        .map_err(|e| MediaError::Unreadable(e.to_string()))?;
    Ok(out)
}

fn on_white(image: &DynamicImage) -> RgbImage {
    if !image.color().has_alpha() {
        return image.to_rgb8();
    }
    let rgba = image.to_rgba8();
    RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let [r, g, b, a] = rgba.get_pixel(x, y).0;
        let blend =
            |c: u8| ((u16::from(c) * u16::from(a) + 255 * (255 - u16::from(a))) / 255) as u8;
        image::Rgb([blend(r), blend(g), blend(b)])
    })
}

/// Checks an uploaded scan of a signed paper: a PDF of bounded size, or a JPEG/PNG that decodes
/// within [`SCAN`]. Returns its media type, sniffed from the bytes.
pub fn check_scan(bytes: &[u8]) -> Result<&'static str, MediaError> {
    if bytes.is_empty() {
        return Err(MediaError::Empty);
    }
    if bytes.len() > SCAN.max_bytes {
        return Err(MediaError::TooManyBytes {
            max: SCAN.max_bytes,
        });
    }
    if bytes.starts_with(b"%PDF-") {
        return Ok("application/pdf");
    }
    let image = decode(bytes, &SCAN)?;
    drop(image);
    Ok(media_type(sniff(bytes).ok_or(MediaError::UnknownFormat)?))
}

/// Checks that an image about to be typeset (a photo on a card face) is within [`RENDER`], from
/// its header: decoders allocate what the header declares, so this bounds the render's memory
/// even for an image stored before uploads were checked.
pub fn check_renderable(bytes: &[u8]) -> Result<ImageFormat, MediaError> {
    check_header(bytes, &RENDER).map(|(format, _, _)| format)
}

/// Hostile images for tests: small files whose headers declare enormous pixel counts.
pub mod samples {
    /// A valid-looking PNG of `width` × `height` RGB pixels whose data is a few bytes.
    pub fn png_bomb(width: u32, height: u32) -> Vec<u8> {
        let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
        let mut ihdr = Vec::new();
        ihdr.extend_from_slice(&width.to_be_bytes());
        ihdr.extend_from_slice(&height.to_be_bytes());
        ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
        chunk(&mut out, b"IHDR", &ihdr);
        // A zlib stream of one stored empty block: the decoder wants far more rows than this.
        chunk(
            &mut out,
            b"IDAT",
            &[0x78, 0x01, 0x01, 0x00, 0x00, 0xFF, 0xFF, 0, 0, 0, 1],
        );
        chunk(&mut out, b"IEND", &[]);
        out
    }

    /// A real 8 × 8 baseline JPEG whose frame header (SOF0) is rewritten to declare
    /// `width` × `height`.
    pub fn jpeg_bomb(width: u16, height: u16) -> Vec<u8> {
        let mut out = Vec::new();
        let small = image::RgbImage::from_pixel(8, 8, image::Rgb([200, 30, 30]));
        if image::codecs::jpeg::JpegEncoder::new(&mut out)
            .encode_image(&small)
            .is_err()
        {
            return out;
        }
        if let Some(sof) = out.windows(2).position(|w| w == [0xFF, 0xC0]) {
            // marker (2), length (2), precision (1), then height and width.
            out[sof + 5..sof + 7].copy_from_slice(&height.to_be_bytes());
            out[sof + 7..sof + 9].copy_from_slice(&width.to_be_bytes());
        }
        out
    }

    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let start = out.len();
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        let crc = crc32(&out[start..]);
        out.extend_from_slice(&crc.to_be_bytes());
    }

    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &b in bytes {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn png(w: u32, h: u32) -> Vec<u8> {
        let img = RgbImage::from_pixel(w, h, image::Rgb([10, 120, 200]));
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, ImageFormat::Png).unwrap();
        out.into_inner()
    }

    #[test]
    fn a_photo_is_fitted_into_the_box_as_jpeg() {
        let out = normalize_photo(&png(1200, 1200)).unwrap();
        assert_eq!(sniff(&out), Some(ImageFormat::Jpeg));
        let img = image::load_from_memory(&out).unwrap();
        assert_eq!((img.width(), img.height()), (480, 480));
    }

    #[test]
    fn a_small_photo_is_not_enlarged() {
        let out = normalize_photo(&png(90, 120)).unwrap();
        let img = image::load_from_memory(&out).unwrap();
        assert_eq!((img.width(), img.height()), (90, 120));
    }

    #[test]
    fn bombs_are_refused_from_the_header() {
        for bomb in [
            samples::png_bomb(100_000, 100_000),
            samples::jpeg_bomb(65_000, 65_000),
        ] {
            for result in [
                normalize_photo(&bomb).map(|_| ()),
                check_scan(&bomb).map(|_| ()),
            ] {
                assert!(
                    matches!(result, Err(MediaError::TooManyPixels { .. })),
                    "{result:?}"
                );
            }
            assert!(matches!(
                check_renderable(&bomb),
                Err(MediaError::TooManyPixels { .. })
            ));
        }
        // The samples are real headers: a small declared size reads as such.
        assert_eq!(
            check_header(&samples::jpeg_bomb(90, 120), &RENDER).map(|(_, w, h)| (w, h)),
            Ok((90, 120))
        );
        assert_eq!(
            check_header(&samples::png_bomb(90, 120), &RENDER).map(|(_, w, h)| (w, h)),
            Ok((90, 120))
        );
        // Within the side limit but over the pixel count.
        assert!(matches!(
            normalize_photo(&samples::png_bomb(9_000, 9_000)),
            Err(MediaError::TooManyPixels { .. })
        ));
    }

    #[test]
    fn refusals() {
        assert_eq!(normalize_photo(b""), Err(MediaError::Empty));
        assert_eq!(
            normalize_photo(b"GIF89a...."),
            Err(MediaError::UnknownFormat)
        );
        assert!(matches!(
            normalize_photo(b"\x89PNG\r\n\x1a\nnot really"),
            Err(MediaError::Unreadable(_))
        ));
        assert!(matches!(check_scan(&png(20, 20)), Ok("image/png")));
        assert_eq!(check_scan(b"%PDF-1.7 ..."), Ok("application/pdf"));
        assert!(matches!(
            check_renderable(&png(4001, 10)),
            Err(MediaError::TooManyPixels { width: 4001, .. })
        ));
    }
}
