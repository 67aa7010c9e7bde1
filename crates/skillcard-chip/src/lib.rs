//! Writing the certificate into the card's chip (regulation) and reading it back.
//!
//! The chip holds one transparent elementary file, EF `E101` (600 bytes) under the MF, with a
//! length-prefixed payload: a 2-byte big-endian length and then the payload bytes.
//!
//! Back ends, behind [`CardWriter`]:
//! - `PcscWriter`: a real reader through PC/SC (`pcscd` on Linux; cargo feature `pcsc`, on by
//!   default);
//! - [`FileWriter`]: a directory of files, one per "card", for development.
//!
//! [`emulator`] is a small ISO 7816-4 card speaking the protocol of vsmartcard's `vpcd` reader
//! driver, so the PC/SC path can be tested end to end without hardware.

pub mod emulator;
mod error;
mod file;
pub mod iso;
#[cfg(feature = "pcsc")]
mod pcsc_writer;

pub use error::{ChipError, Step};
pub use file::FileWriter;
pub use iso::{EF_ID, EF_SIZE, MAX_PAYLOAD};
#[cfg(feature = "pcsc")]
pub use pcsc_writer::PcscWriter;

/// A card writer: reads the chip's UID, writes the payload (and verifies it by reading it back),
/// and reads the payload. Blocking; call it from `spawn_blocking` in async code.
pub trait CardWriter {
    /// The chip's UID (`GET DATA`, `FF CA 00 00 00`).
    fn uid(&mut self) -> Result<Vec<u8>, ChipError>;
    /// Writes `payload` (at most [`MAX_PAYLOAD`] bytes) and reads it back to compare.
    fn write(&mut self, payload: &[u8]) -> Result<(), ChipError>;
    /// Reads the payload. A chip that was never written (or whose last write was torn)
    /// gives [`ChipError::Blank`].
    fn read(&mut self) -> Result<Vec<u8>, ChipError>;
}

#[cfg(all(test, feature = "pcsc"))]
mod tests;
