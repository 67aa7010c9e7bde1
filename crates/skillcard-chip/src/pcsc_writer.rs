use std::ffi::{CStr, CString};

use pcsc::{Card, Context, Protocols, Scope, ShareMode, MAX_BUFFER_SIZE};

use crate::iso::{self, Transport};
use crate::{CardWriter, ChipError};

/// A card in a PC/SC reader (pcscd on Linux).
pub struct PcscWriter {
    card: Card,
    reader: String,
    // Keeps the PC/SC context alive as long as the card handle.
    _context: Context,
}

impl std::fmt::Debug for PcscWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PcscWriter")
            .field("reader", &self.reader)
            .finish_non_exhaustive()
    }
}

impl PcscWriter {
    /// Connects (exclusively) to the card in `reader_name`, or with `None` to the card in the
    /// first reader that holds one.
    pub fn connect(reader_name: Option<&str>) -> Result<Self, ChipError> {
        let context = Context::establish(Scope::User)?;
        let readers = match context.list_readers_owned() {
            Ok(r) => r,
            Err(pcsc::Error::NoReadersAvailable) => Vec::new(),
            Err(e) => return Err(e.into()),
        };
        if readers.is_empty() {
            return Err(ChipError::NoReader);
        }
        let candidates: Vec<CString> = match reader_name {
            Some(name) => {
                let found = readers
                    .into_iter()
                    .find(|r| r.to_str().is_ok_and(|s| s == name));
                match found {
                    Some(r) => vec![r],
                    None => return Err(ChipError::ReaderNotFound(name.to_owned())),
                }
            }
            None => readers,
        };
        let mut last = ChipError::NoCard;
        for reader in &candidates {
            match connect_one(&context, reader) {
                Ok(card) => {
                    return Ok(PcscWriter {
                        card,
                        reader: reader.to_string_lossy().into_owned(),
                        _context: context,
                    })
                }
                Err(ChipError::ReaderNotFound(_)) => {
                    last = ChipError::ReaderNotFound(reader.to_string_lossy().into_owned());
                }
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    /// The names of the connected readers (empty when none).
    pub fn list_readers() -> Result<Vec<String>, ChipError> {
        let context = Context::establish(Scope::User)?;
        match context.list_readers_owned() {
            Ok(r) => Ok(r
                .into_iter()
                .map(|c| c.to_string_lossy().into_owned())
                .collect()),
            Err(pcsc::Error::NoReadersAvailable) => Ok(Vec::new()),
            Err(e) => Err(e.into()),
        }
    }

    /// The reader this card is in.
    pub fn reader(&self) -> &str {
        &self.reader
    }
}

fn connect_one(context: &Context, reader: &CStr) -> Result<Card, ChipError> {
    Ok(context.connect(reader, ShareMode::Exclusive, Protocols::ANY)?)
}

struct PcscTransport<'a>(&'a Card);

impl Transport for PcscTransport<'_> {
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, ChipError> {
        let mut buf = [0u8; MAX_BUFFER_SIZE];
        let resp = self.0.transmit(apdu, &mut buf)?;
        Ok(resp.to_vec())
    }
}

impl CardWriter for PcscWriter {
    fn uid(&mut self) -> Result<Vec<u8>, ChipError> {
        iso::uid(&mut PcscTransport(&self.card))
    }

    fn write(&mut self, payload: &[u8]) -> Result<(), ChipError> {
        if payload.len() > iso::MAX_PAYLOAD {
            return Err(ChipError::TooLarge {
                len: payload.len(),
                max: iso::MAX_PAYLOAD,
            });
        }
        iso::write_payload(&mut PcscTransport(&self.card), payload)
    }

    fn read(&mut self) -> Result<Vec<u8>, ChipError> {
        iso::read_payload(&mut PcscTransport(&self.card))
    }
}
