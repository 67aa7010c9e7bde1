//! The chip layout and the ISO 7816-4 command sequence, independent of the transport.

use crate::{ChipError, Step};

/// File identifier of the certificate's transparent EF (under the MF).
pub const EF_ID: u16 = 0xE101;
/// Size of the EF in bytes.
pub const EF_SIZE: usize = 600;
/// Bytes of the big-endian length prefix.
pub const LEN_PREFIX: usize = 2;
/// Largest payload that fits the EF.
pub const MAX_PAYLOAD: usize = EF_SIZE - LEN_PREFIX;
/// Bytes per UPDATE BINARY / READ BINARY command (short APDUs carry at most 255 / 256).
pub const CHUNK: usize = 200;

/// Something that carries a command APDU to the card and returns the response APDU
/// (data followed by SW1 SW2).
pub trait Transport {
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, ChipError>;
}

struct Response {
    data: Vec<u8>,
    sw1: u8,
    sw2: u8,
}

impl Response {
    fn ok(&self) -> bool {
        self.sw1 == 0x90 && self.sw2 == 0x00
    }
    fn error(&self, step: Step) -> ChipError {
        ChipError::Apdu {
            step,
            sw1: self.sw1,
            sw2: self.sw2,
        }
    }
}

fn send<T: Transport + ?Sized>(t: &mut T, apdu: &[u8], step: Step) -> Result<Response, ChipError> {
    let mut raw = t.transmit(apdu)?;
    if raw.len() < 2 {
        return Err(ChipError::BadResponse { step });
    }
    let sw2 = raw.pop().unwrap_or_default();
    let sw1 = raw.pop().unwrap_or_default();
    Ok(Response {
        data: raw,
        sw1,
        sw2,
    })
}

fn expect_ok<T: Transport + ?Sized>(
    t: &mut T,
    apdu: &[u8],
    step: Step,
) -> Result<Vec<u8>, ChipError> {
    let r = send(t, apdu, step)?;
    if r.ok() {
        Ok(r.data)
    } else {
        Err(r.error(step))
    }
}

/// `GET DATA` for the UID (PC/SC part 3 pseudo-APDU, also answered by the emulator).
pub fn uid<T: Transport + ?Sized>(t: &mut T) -> Result<Vec<u8>, ChipError> {
    let uid = expect_ok(t, &[0xFF, 0xCA, 0x00, 0x00, 0x00], Step::GetUid)?;
    if uid.is_empty() {
        return Err(ChipError::BadResponse { step: Step::GetUid });
    }
    Ok(uid)
}

fn select_mf<T: Transport + ?Sized>(t: &mut T) -> Result<(), ChipError> {
    expect_ok(
        t,
        &[0x00, 0xA4, 0x00, 0x0C, 0x02, 0x3F, 0x00],
        Step::SelectMf,
    )
    .map(drop)
}

/// Selects EF E101; `Ok(false)` when it does not exist (6A82).
fn select_ef<T: Transport + ?Sized>(t: &mut T) -> Result<bool, ChipError> {
    let [hi, lo] = EF_ID.to_be_bytes();
    let r = send(t, &[0x00, 0xA4, 0x02, 0x0C, 0x02, hi, lo], Step::SelectFile)?;
    match (r.sw1, r.sw2) {
        (0x90, 0x00) => Ok(true),
        (0x6A, 0x82) => Ok(false),
        _ => Err(r.error(Step::SelectFile)),
    }
}

/// CREATE FILE of a transparent EF E101 of [`EF_SIZE`] bytes; the new file becomes current.
fn create_ef<T: Transport + ?Sized>(t: &mut T) -> Result<(), ChipError> {
    let [hi, lo] = EF_ID.to_be_bytes();
    let [s1, s0] = (EF_SIZE as u16).to_be_bytes();
    let fcp = [
        0x62, 0x0B, 0x82, 0x01, 0x01, 0x83, 0x02, hi, lo, 0x80, 0x02, s1, s0,
    ];
    let mut apdu = vec![0x00, 0xE0, 0x00, 0x00, fcp.len() as u8];
    apdu.extend_from_slice(&fcp);
    expect_ok(t, &apdu, Step::CreateFile).map(drop)
}

fn update_binary<T: Transport + ?Sized>(
    t: &mut T,
    offset: usize,
    data: &[u8],
) -> Result<(), ChipError> {
    for (i, chunk) in data.chunks(CHUNK).enumerate() {
        let [p1, p2] = ((offset + i * CHUNK) as u16).to_be_bytes();
        let mut apdu = vec![0x00, 0xD6, p1, p2, chunk.len() as u8];
        apdu.extend_from_slice(chunk);
        expect_ok(t, &apdu, Step::UpdateBinary)?;
    }
    Ok(())
}

fn read_binary<T: Transport + ?Sized>(
    t: &mut T,
    offset: usize,
    len: usize,
) -> Result<Vec<u8>, ChipError> {
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        let want = (len - out.len()).min(CHUNK);
        let [p1, p2] = ((offset + out.len()) as u16).to_be_bytes();
        let data = expect_ok(t, &[0x00, 0xB0, p1, p2, want as u8], Step::ReadBinary)?;
        if data.is_empty() || data.len() > want {
            return Err(ChipError::BadResponse {
                step: Step::ReadBinary,
            });
        }
        out.extend_from_slice(&data);
    }
    Ok(out)
}

/// Reads the payload; `Ok(None)` when the EF does not exist.
fn read_raw<T: Transport + ?Sized>(t: &mut T) -> Result<Option<Vec<u8>>, ChipError> {
    select_mf(t)?;
    if !select_ef(t)? {
        return Ok(None);
    }
    // The first chunk carries the length prefix and the start of the payload.
    let first = read_binary(t, 0, CHUNK.min(EF_SIZE))?;
    let (len_bytes, rest) = first.split_at(LEN_PREFIX);
    let len = usize::from(u16::from_be_bytes([len_bytes[0], len_bytes[1]]));
    if len > MAX_PAYLOAD {
        return Err(ChipError::Corrupt(format!(
            "length prefix {len} exceeds {MAX_PAYLOAD}"
        )));
    }
    let mut payload = rest[..len.min(rest.len())].to_vec();
    if payload.len() < len {
        let more = read_binary(t, LEN_PREFIX + payload.len(), len - payload.len())?;
        payload.extend_from_slice(&more);
    }
    Ok(Some(payload))
}

/// Reads the payload; [`ChipError::Blank`] for a chip without data.
pub fn read_payload<T: Transport + ?Sized>(t: &mut T) -> Result<Vec<u8>, ChipError> {
    match read_raw(t)? {
        Some(p) if !p.is_empty() => Ok(p),
        _ => Err(ChipError::Blank),
    }
}

/// Writes the payload and verifies it by reading it back.
///
/// Order: length prefix zeroed, payload, then the real length prefix — so a write torn by a
/// pulled card leaves a chip that reads as [`ChipError::Blank`] instead of a mix of old and new.
pub fn write_payload<T: Transport + ?Sized>(t: &mut T, payload: &[u8]) -> Result<(), ChipError> {
    if payload.len() > MAX_PAYLOAD {
        return Err(ChipError::TooLarge {
            len: payload.len(),
            max: MAX_PAYLOAD,
        });
    }
    select_mf(t)?;
    if !select_ef(t)? {
        create_ef(t)?;
    }
    update_binary(t, 0, &[0, 0])?;
    update_binary(t, LEN_PREFIX, payload)?;
    update_binary(t, 0, &(payload.len() as u16).to_be_bytes())?;
    match read_raw(t)? {
        Some(back) if back == payload => Ok(()),
        _ => Err(ChipError::ReadBackMismatch),
    }
}

/// The EF image for a payload (length prefix + payload), as stored on the chip.
pub fn image(payload: &[u8]) -> Result<Vec<u8>, ChipError> {
    if payload.len() > MAX_PAYLOAD {
        return Err(ChipError::TooLarge {
            len: payload.len(),
            max: MAX_PAYLOAD,
        });
    }
    let mut v = (payload.len() as u16).to_be_bytes().to_vec();
    v.extend_from_slice(payload);
    Ok(v)
}

/// The payload of an EF image; `Ok(None)` for a zero length prefix.
pub fn parse_image(image: &[u8]) -> Result<Option<Vec<u8>>, ChipError> {
    let Some((len_bytes, rest)) = image.split_first_chunk::<LEN_PREFIX>() else {
        return Err(ChipError::Corrupt("shorter than the length prefix".into()));
    };
    let len = usize::from(u16::from_be_bytes(*len_bytes));
    if len > MAX_PAYLOAD || len > rest.len() {
        return Err(ChipError::Corrupt(format!(
            "length prefix {len} out of range"
        )));
    }
    if len == 0 {
        return Ok(None);
    }
    Ok(Some(rest[..len].to_vec()))
}
