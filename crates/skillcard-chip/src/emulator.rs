//! A small ISO 7816-4 card, and a client for vsmartcard's `vpcd` reader driver that puts it in a
//! virtual reader.
//!
//! `vpcd` (loaded by pcscd) *listens* on a TCP port; the card emulator *connects* to it. Every
//! frame is a 2-byte big-endian length and a body. A 1-byte body from the reader is a control
//! code (0 power off, 1 power on, 2 reset, 4 "send the ATR"); any longer body is a command APDU,
//! answered with the response APDU. A closed connection is a card taken out of the reader.
//!
//! The card ([`IsoCard`]) has an MF (`3F00`) holding transparent EFs made with CREATE FILE, and
//! answers SELECT, UPDATE BINARY, READ BINARY and GET DATA for the UID (`FF CA 00 00 00`). It
//! enforces file sizes (6700 / 6B00) so the writer's error paths can be tested.

use std::collections::BTreeMap;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::iso::Transport;
use crate::ChipError;

/// An ATR announcing T=1 (`3B 80 80 01 01`: TD1, TD2 = T=1, TCK).
pub const DEFAULT_ATR: [u8; 5] = [0x3B, 0x80, 0x80, 0x01, 0x01];
/// The emulator's default UID (7 bytes, like an NXP chip).
pub const DEFAULT_UID: [u8; 7] = [0x04, 0x5C, 0x11, 0xC4, 0x2D, 0x00, 0x01];

const MF: u16 = 0x3F00;

/// Settings of an emulated card.
#[derive(Debug, Clone)]
pub struct CardConfig {
    pub uid: Vec<u8>,
    pub atr: Vec<u8>,
    /// Largest EF that CREATE FILE accepts (6A84 above).
    pub max_file_size: usize,
}

impl Default for CardConfig {
    fn default() -> Self {
        CardConfig {
            uid: DEFAULT_UID.to_vec(),
            atr: DEFAULT_ATR.to_vec(),
            max_file_size: 4096,
        }
    }
}

/// The card's file system and command interpreter.
#[derive(Debug, Clone)]
pub struct IsoCard {
    config: CardConfig,
    files: BTreeMap<u16, Vec<u8>>,
    /// The current EF; `None` with the MF selected.
    current: Option<u16>,
}

fn sw(sw1: u8, sw2: u8) -> Vec<u8> {
    vec![sw1, sw2]
}

impl IsoCard {
    pub fn new(config: CardConfig) -> Self {
        IsoCard {
            config,
            files: BTreeMap::new(),
            current: None,
        }
    }

    /// Contents of an EF.
    pub fn file(&self, fid: u16) -> Option<&[u8]> {
        self.files.get(&fid).map(Vec::as_slice)
    }

    pub fn config(&self) -> &CardConfig {
        &self.config
    }

    /// A reset: the MF is selected again; files persist.
    pub fn reset(&mut self) {
        self.current = None;
    }

    /// Processes one command APDU (short form) and returns the response APDU.
    pub fn process(&mut self, apdu: &[u8]) -> Vec<u8> {
        let Some(&[cla, ins, p1, p2]) = apdu.first_chunk::<4>() else {
            return sw(0x67, 0x00);
        };
        // Body: case 1 (none), 2 (Le), 3 (Lc data), 4 (Lc data Le).
        let body = &apdu[4..];
        let (data, le): (&[u8], Option<usize>) = match body.len() {
            0 => (&[], None),
            1 => (&[], Some(if body[0] == 0 { 256 } else { body[0].into() })),
            n => {
                let lc = usize::from(body[0]);
                if lc == 0 || n < 1 + lc || n > 2 + lc {
                    return sw(0x67, 0x00);
                }
                let le = body
                    .get(1 + lc)
                    .map(|&l| if l == 0 { 256 } else { usize::from(l) });
                (&body[1..1 + lc], le)
            }
        };
        match (cla, ins) {
            (0xFF, 0xCA) => self.get_data(p1, p2, le),
            (0x00, 0xA4) => self.select(p1, p2, data),
            (0x00, 0xE0) => self.create_file(p1, p2, data),
            (0x00, 0xD6) => self.update_binary(p1, p2, data),
            (0x00, 0xB0) => self.read_binary(p1, p2, le),
            (0x00 | 0xFF, _) => sw(0x6D, 0x00),
            _ => sw(0x6E, 0x00),
        }
    }

    fn get_data(&self, p1: u8, p2: u8, le: Option<usize>) -> Vec<u8> {
        if p1 != 0x00 || p2 != 0x00 {
            return sw(0x6A, 0x81);
        }
        let uid = &self.config.uid;
        match le {
            Some(le) if le != 256 && le != uid.len() => sw(0x6C, uid.len() as u8),
            _ => {
                let mut r = uid.clone();
                r.extend_from_slice(&[0x90, 0x00]);
                r
            }
        }
    }

    fn select(&mut self, p1: u8, p2: u8, data: &[u8]) -> Vec<u8> {
        if p2 & !0x0C != 0 {
            return sw(0x6A, 0x86);
        }
        let Some(&[hi, lo]) = data.first_chunk::<2>() else {
            return sw(0x67, 0x00);
        };
        if data.len() != 2 {
            return sw(0x67, 0x00);
        }
        let fid = u16::from_be_bytes([hi, lo]);
        match (p1, fid) {
            (0x00, MF) => {
                self.current = None;
            }
            (0x00 | 0x02, fid) if self.files.contains_key(&fid) => {
                self.current = Some(fid);
            }
            (0x00 | 0x02, _) => return sw(0x6A, 0x82),
            _ => return sw(0x6A, 0x86),
        }
        if p2 & 0x0C == 0x0C {
            return sw(0x90, 0x00);
        }
        // A minimal FCP: file ID and, for an EF, its size.
        let mut fcp = vec![0x83, 0x02, hi, lo];
        if let Some(size) = self.current.and_then(|f| self.files.get(&f)).map(Vec::len) {
            let [s1, s0] = (size as u16).to_be_bytes();
            fcp.extend_from_slice(&[0x80, 0x02, s1, s0, 0x82, 0x01, 0x01]);
        } else {
            fcp.extend_from_slice(&[0x82, 0x01, 0x38]);
        }
        let mut r = vec![0x62, fcp.len() as u8];
        r.extend_from_slice(&fcp);
        r.extend_from_slice(&[0x90, 0x00]);
        r
    }

    fn create_file(&mut self, p1: u8, p2: u8, data: &[u8]) -> Vec<u8> {
        if p1 != 0 || p2 != 0 {
            return sw(0x6A, 0x86);
        }
        if self.current.is_some() {
            // Files are created in the MF only.
            return sw(0x69, 0x86);
        }
        let Some((&0x62, rest)) = data.split_first() else {
            return sw(0x6A, 0x80);
        };
        let Some((&len, mut tlv)) = rest.split_first() else {
            return sw(0x6A, 0x80);
        };
        if usize::from(len) != tlv.len() {
            return sw(0x6A, 0x80);
        }
        let (mut fid, mut size, mut transparent) = (None, None, false);
        while let Some((&tag, r)) = tlv.split_first() {
            let Some((&l, r)) = r.split_first() else {
                return sw(0x6A, 0x80);
            };
            let l = usize::from(l);
            if r.len() < l {
                return sw(0x6A, 0x80);
            }
            let (v, r) = r.split_at(l);
            match (tag, v) {
                (0x83, &[hi, lo]) => fid = Some(u16::from_be_bytes([hi, lo])),
                (0x80 | 0x81, &[hi, lo]) => size = Some(usize::from(u16::from_be_bytes([hi, lo]))),
                (0x82, [d, ..]) => transparent = d & 0x07 == 0x01,
                _ => {}
            }
            tlv = r;
        }
        let (Some(fid), Some(size), true) = (fid, size, transparent) else {
            return sw(0x6A, 0x80);
        };
        if fid == MF || fid == 0xFFFF {
            return sw(0x6A, 0x80);
        }
        if self.files.contains_key(&fid) {
            return sw(0x6A, 0x89);
        }
        if size > self.config.max_file_size {
            return sw(0x6A, 0x84);
        }
        self.files.insert(fid, vec![0; size]);
        self.current = Some(fid);
        sw(0x90, 0x00)
    }

    fn offset(p1: u8, p2: u8) -> Option<usize> {
        // Bit 8 of P1 set means a short EF identifier, which this card does not support.
        (p1 & 0x80 == 0).then(|| usize::from(u16::from_be_bytes([p1, p2])))
    }

    fn update_binary(&mut self, p1: u8, p2: u8, data: &[u8]) -> Vec<u8> {
        let Some(offset) = Self::offset(p1, p2) else {
            return sw(0x6A, 0x81);
        };
        let Some(file) = self.current.and_then(|f| self.files.get_mut(&f)) else {
            return sw(0x69, 0x86);
        };
        if data.is_empty() {
            return sw(0x67, 0x00);
        }
        if offset >= file.len() {
            return sw(0x6B, 0x00);
        }
        if offset + data.len() > file.len() {
            return sw(0x67, 0x00);
        }
        file[offset..offset + data.len()].copy_from_slice(data);
        sw(0x90, 0x00)
    }

    fn read_binary(&self, p1: u8, p2: u8, le: Option<usize>) -> Vec<u8> {
        let Some(offset) = Self::offset(p1, p2) else {
            return sw(0x6A, 0x81);
        };
        let Some(file) = self.current.and_then(|f| self.files.get(&f)) else {
            return sw(0x69, 0x86);
        };
        let Some(le) = le else {
            return sw(0x67, 0x00);
        };
        if offset >= file.len() {
            return sw(0x6B, 0x00);
        }
        let end = (offset + le).min(file.len());
        let mut r = file[offset..end].to_vec();
        if end - offset < le {
            r.extend_from_slice(&[0x62, 0x82]);
        } else {
            r.extend_from_slice(&[0x90, 0x00]);
        }
        r
    }
}

/// The card used directly as a transport: unit tests of the writer logic without a reader.
impl Transport for IsoCard {
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, ChipError> {
        Ok(self.process(apdu))
    }
}

#[derive(Debug)]
struct State {
    card: IsoCard,
    inserted: bool,
    connected: bool,
    apdus: u64,
    pull_at: Option<u64>,
    /// When the card was last pulled out.
    out_since: Option<Instant>,
}

impl State {
    fn pull(&mut self) {
        self.inserted = false;
        self.pull_at = None;
        self.out_since = Some(Instant::now());
    }

    /// Inserted, and out long enough for pcscd to have seen it gone.
    fn may_connect(&self) -> bool {
        self.inserted && self.out_since.is_none_or(|t| t.elapsed() >= MIN_OUT)
    }
}

/// How long a pulled card stays out at least. pcscd polls vpcd for the card every 400 ms, and
/// vpcd takes a new connection for the same card: a card back within one poll is never seen
/// removed, and pcscd keeps the reader in the state of the failed exchange ("no card").
pub const MIN_OUT: Duration = Duration::from_millis(1000);

#[derive(Debug)]
struct Shared {
    state: Mutex<State>,
    stop: AtomicBool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A running emulated card in a vpcd reader. Stops (card removed) when dropped.
#[derive(Debug)]
pub struct Emulator {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl Emulator {
    /// Inserts a default card into the vpcd reader listening on `127.0.0.1:port`.
    /// Connecting is retried in the background until vpcd listens.
    pub fn start(port: u16) -> Emulator {
        Self::start_with(
            SocketAddr::from(([127, 0, 0, 1], port)),
            CardConfig::default(),
        )
    }

    /// Like [`Emulator::start`] with an address and card settings.
    pub fn start_with(addr: SocketAddr, config: CardConfig) -> Emulator {
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                card: IsoCard::new(config),
                inserted: true,
                connected: false,
                apdus: 0,
                pull_at: None,
                out_since: None,
            }),
            stop: AtomicBool::new(false),
        });
        let s = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("vpcd-card".into())
            .spawn(move || run(&s, addr))
            .ok();
        Emulator { shared, thread }
    }

    /// Pulls the card out of the reader right after it has answered `n` more APDUs
    /// (the connection to vpcd is closed; the card's files are kept).
    pub fn pull_card_after(&self, n: u64) {
        let mut st = self.shared.lock();
        st.pull_at = Some(st.apdus + n);
    }

    /// Pulls the card out of the reader now.
    pub fn pull_card(&self) {
        self.shared.lock().pull();
    }

    /// Puts the (same) card back into the reader (no sooner than [`MIN_OUT`] after it was pulled).
    pub fn insert_card(&self) {
        let mut st = self.shared.lock();
        st.inserted = true;
        st.pull_at = None;
    }

    /// Whether the card is connected to vpcd (in the reader).
    pub fn is_connected(&self) -> bool {
        self.shared.lock().connected
    }

    /// Command APDUs answered so far.
    pub fn apdu_count(&self) -> u64 {
        self.shared.lock().apdus
    }

    /// Contents of an EF on the card.
    pub fn file(&self, fid: u16) -> Option<Vec<u8>> {
        self.shared.lock().card.file(fid).map(<[u8]>::to_vec)
    }

    /// The card's UID.
    pub fn uid(&self) -> Vec<u8> {
        self.shared.lock().card.config().uid.clone()
    }

    /// Stops the emulator (the card leaves the reader).
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.shutdown();
    }
}

const POLL: Duration = Duration::from_millis(10);

fn run(shared: &Shared, addr: SocketAddr) {
    while !shared.stop.load(Ordering::SeqCst) {
        if !shared.lock().may_connect() {
            std::thread::sleep(POLL);
            continue;
        }
        match TcpStream::connect_timeout(&addr, Duration::from_millis(500)) {
            Ok(stream) => {
                shared.lock().connected = true;
                serve(shared, &stream);
                let _ = stream.shutdown(Shutdown::Both);
                let mut st = shared.lock();
                st.connected = false;
                st.card.reset();
            }
            Err(_) => std::thread::sleep(POLL),
        }
    }
}

/// Asks for immediate ACKs (Linux resets the flag, so this is repeated before each read):
/// vpcd writes a frame's length and body separately, and with Nagle on its side the body waits
/// for our ACK of the length — ~40 ms per APDU with delayed ACKs.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn quickack(stream: &TcpStream) {
    let _ = socket2::SockRef::from(stream).set_tcp_quickack(true);
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn quickack(_stream: &TcpStream) {}

/// Serves one connection until vpcd closes it, the card is pulled or the emulator stops.
fn serve(shared: &Shared, mut stream: &TcpStream) {
    // Without TCP_NODELAY, delayed ACKs cost ~40 ms per APDU.
    if stream.set_nodelay(true).is_err() || stream.set_read_timeout(Some(POLL)).is_err() {
        return;
    }
    let _ = stream.set_write_timeout(Some(Duration::from_secs(5)));
    let mut buf: Vec<u8> = Vec::new();
    let mut tmp = [0u8; 4096];
    loop {
        if shared.stop.load(Ordering::SeqCst) || !shared.lock().inserted {
            return;
        }
        quickack(stream);
        match stream.read(&mut tmp) {
            Ok(0) => return,
            Ok(n) => buf.extend_from_slice(&tmp[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                ) =>
            {
                continue
            }
            Err(_) => return,
        }
        while let Some(&[hi, lo]) = buf.first_chunk::<2>() {
            let len = usize::from(u16::from_be_bytes([hi, lo]));
            if buf.len() < 2 + len {
                break;
            }
            let body: Vec<u8> = buf.drain(..2 + len).skip(2).collect();
            let (reply, pull) = {
                let mut st = shared.lock();
                match body.as_slice() {
                    [0x00] | [0x02] => {
                        st.card.reset();
                        (None, false)
                    }
                    [0x01] | [] => (None, false),
                    [0x04] => (Some(st.card.config().atr.clone()), false),
                    [_] => (None, false),
                    apdu => {
                        let r = st.card.process(apdu);
                        st.apdus += 1;
                        let pull = st.pull_at.is_some_and(|at| st.apdus >= at);
                        if pull {
                            st.pull();
                        }
                        (Some(r), pull)
                    }
                }
            };
            if let Some(reply) = reply {
                let mut frame = (reply.len() as u16).to_be_bytes().to_vec();
                frame.extend_from_slice(&reply);
                if stream.write_all(&frame).is_err() {
                    return;
                }
            }
            if pull {
                return;
            }
        }
    }
}
