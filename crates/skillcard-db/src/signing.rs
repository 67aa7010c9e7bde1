//! Signing with the issuer key from async code. A key in memory signs in microseconds; a key
//! held by a security module waits on the device (or the network) while it signs. That wait is
//! declared blocking on the multi-threaded runtime the server runs (`block_in_place`), so the
//! worker's other tasks move to another thread; elsewhere (a test's single-threaded runtime)
//! it signs inline. Every signature the server makes goes through [`with_key`].

use skillcard_credential::IssuerKey;

/// Runs `sign` with `key`, declared blocking when a security module holds the key.
pub fn with_key<R>(key: &IssuerKey, sign: impl FnOnce(&IssuerKey) -> R) -> R {
    let multi_threaded = tokio::runtime::Handle::try_current()
        .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
    if key.is_external() && multi_threaded {
        tokio::task::block_in_place(|| sign(key))
    } else {
        sign(key)
    }
}
