//! A card's QR code read back from a photo: drawn from a real credential, placed small in a
//! large, noisy frame (as a phone photographs a card on a desk), saved as JPEG.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use image::{GrayImage, Luma};
use qrcode::{Color, EcLevel, QrCode};
use skillcard_credential::photo::qr_text_from_photo;
use skillcard_credential::{sign, to_qr_text, verify_qr};

/// A `width`×`height` grey "desk" with the QR code drawn at `module` pixels a module, at (x, y).
fn photo(text: &str, width: u32, height: u32, module: u32, at: (u32, u32)) -> Vec<u8> {
    let code = QrCode::with_error_correction_level(text, EcLevel::L).unwrap();
    let n = code.width() as u32;
    let colors = code.to_colors();
    let mut img = GrayImage::from_fn(width, height, |x, y| {
        Luma([150 + ((x * 7 + y * 13) % 40) as u8])
    });
    // The card: white, with a quiet zone of four modules.
    let (x0, y0) = at;
    for y in 0..(n + 8) * module {
        for x in 0..(n + 8) * module {
            img.put_pixel(x0 + x, y0 + y, Luma([245]));
        }
    }
    for (i, c) in colors.iter().enumerate() {
        if *c == Color::Dark {
            let (mx, my) = (i as u32 % n, i as u32 / n);
            for dy in 0..module {
                for dx in 0..module {
                    img.put_pixel(
                        x0 + (mx + 4) * module + dx,
                        y0 + (my + 4) * module + dy,
                        Luma([20]),
                    );
                }
            }
        }
    }
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
    out.into_inner()
}

#[test]
fn the_qr_of_a_real_credential_is_read_from_a_photo_and_verifies() {
    let text = to_qr_text(&sign(&claims(), &active_key()).unwrap());
    // A large photo (searched scaled down first) and a small one (searched as is).
    for (w, h, module, at) in [(3000, 2200, 6, (900, 500)), (900, 700, 3, (120, 80))] {
        let jpeg = photo(&text, w, h, module, at);
        let read = qr_text_from_photo(&jpeg).unwrap_or_else(|e| panic!("{w}x{h}: {e}"));
        assert_eq!(read, text);
        assert!(verify_qr(&read, &key_set()).is_valid());
    }
}
