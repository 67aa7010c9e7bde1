//! Uploaded images checked before a transaction begins: decoding is CPU work, so it runs on the
//! blocking pool, and a refusal leaves nothing to roll back.

use crate::{Result, StoreError};

/// The media type of every stored candidate photo: they are all re-encoded as JPEG.
pub const PHOTO_TYPE: &str = "image/jpeg";

/// A candidate photo, normalised for printing (see `skillcard_media::normalize_photo`).
pub(crate) async fn photo(bytes: Vec<u8>) -> Result<Vec<u8>> {
    tokio::task::spawn_blocking(move || skillcard_media::normalize_photo(&bytes))
        .await
        .map_err(|e| StoreError::Internal(format!("photo check: {e}")))?
        .map_err(|e| e.for_field("photo").into())
}

/// A scan of a signed paper, checked and kept as uploaded; returns its media type.
pub(crate) async fn scan(bytes: &[u8]) -> Result<&'static str> {
    let owned = bytes.to_vec();
    tokio::task::spawn_blocking(move || skillcard_media::check_scan(&owned))
        .await
        .map_err(|e| StoreError::Internal(format!("scan check: {e}")))?
        .map_err(|e| e.for_field("scan").into())
}
