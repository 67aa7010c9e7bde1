//! End-to-end test of the PC/SC back end: our own `pcscd` with vsmartcard's `vpcd` driver, and
//! the crate's card emulator in the virtual reader.
//!
//! Needs the Debian packages `pcscd`, `vsmartcard-vpcd` and `libpcsclite-dev` (to build). When
//! they are missing the test FAILS, naming the package. pcscd's socket path is fixed
//! (`/run/pcscd/pcscd.comm`), so pcscd runs in a private mount namespace (`unshare -m`, or
//! `unshare -rm` without root) with our own directory bound over `/run`, and the client library
//! is pointed at it with `PCSCLITE_CSOCK_NAME`; this test can then run beside a system pcscd.
//! Without namespaces it falls back to the default socket (one run per machine).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use skillcard_chip::emulator::{CardConfig, Emulator};
use skillcard_chip::{CardWriter, ChipError, PcscWriter, EF_ID, MAX_PAYLOAD};

const VPCD_DRIVER: &str = "/usr/lib/pcsc/drivers/serial/libifdvpcd.so";
const FRIENDLY: &str = "Skillcard Test PCD";
const DEFAULT_SOCKET: &str = "/run/pcscd/pcscd.comm";

fn find_pcscd() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/sbin".into()])
        .map(|d| d.join("pcscd"))
        .find(|p| p.is_file())
}

/// Two consecutive free TCP ports (vpcd opens one per slot: `port` and `port + 1`).
fn free_port_pair() -> u16 {
    for _ in 0..50 {
        let l = TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let p = l.local_addr().unwrap().port();
        if p < u16::MAX && TcpListener::bind(("0.0.0.0", p + 1)).is_ok() {
            return p;
        }
    }
    panic!("no free pair of TCP ports");
}

/// A running pcscd; killed when dropped (also when the test fails).
struct Pcscd {
    child: Option<Child>,
    port: u16,
    log: PathBuf,
}

impl Pcscd {
    /// Starts pcscd with a private reader.conf for vpcd on a free port. `base` is the process's
    /// private directory; the socket is `base/run/pcscd/pcscd.comm` when namespaces work.
    fn start(base: &Path) -> (Pcscd, PathBuf) {
        let pcscd = find_pcscd().unwrap_or_else(|| {
            panic!("pcscd not found: install the Debian package `pcscd` (apt-get install pcscd)")
        });
        assert!(
            Path::new(VPCD_DRIVER).is_file(),
            "vpcd driver {VPCD_DRIVER} not found: install the Debian package `vsmartcard-vpcd` \
             (apt-get install vsmartcard-vpcd)"
        );
        let port = free_port_pair();
        let conf = base.join("reader.conf");
        fs::write(
            &conf,
            format!(
                "FRIENDLYNAME \"{FRIENDLY}\"\nDEVICENAME /dev/null:{port}\nLIBPATH {VPCD_DRIVER}\nCHANNELID {port}\n"
            ),
        )
        .unwrap();
        let run = base.join("run");
        let _ = fs::remove_dir_all(&run);
        fs::create_dir_all(&run).unwrap();
        let log = base.join("pcscd.log");
        let private_socket = run.join("pcscd").join("pcscd.comm");
        let script = r#"mount --bind "$0" /run && exec "$1" --foreground -c "$2""#;
        for flags in ["-m", "-rm"] {
            let child = Command::new("unshare")
                .arg(flags)
                .args(["sh", "-c", script])
                .arg(&run)
                .arg(&pcscd)
                .arg(&conf)
                .stdin(Stdio::null())
                .stdout(fs::File::create(&log).unwrap())
                .stderr(fs::File::create(base.join("pcscd.err")).unwrap())
                .spawn();
            let Ok(child) = child else { break };
            let mut d = Pcscd {
                child: Some(child),
                port,
                log: log.clone(),
            };
            if d.wait_for_socket(&private_socket) {
                return (d, private_socket);
            }
        }
        // No namespaces: pcscd on the default socket (only one per machine).
        let child = Command::new(&pcscd)
            .arg("--foreground")
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(fs::File::create(&log).unwrap())
            .stderr(fs::File::create(base.join("pcscd.err")).unwrap())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", pcscd.display()));
        let mut d = Pcscd {
            child: Some(child),
            port,
            log: log.clone(),
        };
        if d.wait_for_socket(Path::new(DEFAULT_SOCKET)) {
            return (d, DEFAULT_SOCKET.into());
        }
        panic!(
            "pcscd did not start (is another pcscd running?)\n--- log ---\n{}{}",
            fs::read_to_string(&log).unwrap_or_default(),
            fs::read_to_string(base.join("pcscd.err")).unwrap_or_default()
        );
    }

    /// Waits for the socket; false (and the child reaped) when pcscd exits first.
    fn wait_for_socket(&mut self, socket: &Path) -> bool {
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Some(c) = self.child.as_mut() {
                if let Ok(Some(_)) = c.try_wait() {
                    self.child = None;
                    return false;
                }
            }
            if socket.exists() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.stop();
        false
    }

    fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        // SIGTERM lets pcscd remove its socket; SIGKILL after 3 s.
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Drop for Pcscd {
    fn drop(&mut self) {
        self.stop();
    }
}

fn reader_name() -> String {
    format!("{FRIENDLY} 00 00")
}

/// Connects to the card in our reader, retrying while pcscd notices the card (≤ 10 s).
fn connect(pcscd: &Pcscd) -> PcscWriter {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match PcscWriter::connect(Some(&reader_name())) {
            Ok(w) => return w,
            Err(e) if Instant::now() > deadline => panic!(
                "no card in {}: {e}\n--- pcscd log ---\n{}",
                reader_name(),
                fs::read_to_string(&pcscd.log).unwrap_or_default()
            ),
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}

fn payload(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| (i as u8).wrapping_mul(13).wrapping_add(seed))
        .collect()
}

/// One test: pcscd is one per socket, so the scenarios run in sequence.
#[test]
fn pcsc_end_to_end_with_virtual_reader() {
    let base = std::env::temp_dir().join(format!("skillcard-pcsc-{}", std::process::id()));
    let _ = fs::remove_dir_all(&base);
    fs::create_dir_all(&base).unwrap();

    let t0 = Instant::now();
    let (mut pcscd, socket) = Pcscd::start(&base);
    // Read once by libpcsclite, before its first call.
    std::env::set_var("PCSCLITE_CSOCK_NAME", &socket);
    eprintln!(
        "pcscd up in {:?}, socket {}",
        t0.elapsed(),
        socket.display()
    );

    let uid = vec![0x04, 0xA1, 0xB2, 0xC3, 0xD4, 0xE5, 0xF6];
    let emu = Emulator::start_with(
        ([127, 0, 0, 1], pcscd.port).into(),
        CardConfig {
            uid: uid.clone(),
            ..CardConfig::default()
        },
    );

    // The reader is listed; a wrong name is a clear error.
    let readers = PcscWriter::list_readers().unwrap();
    assert!(readers.contains(&reader_name()), "{readers:?}");
    assert_eq!(
        PcscWriter::connect(Some("No Such Reader")).unwrap_err(),
        ChipError::ReaderNotFound("No Such Reader".into())
    );

    let mut w = connect(&pcscd);
    eprintln!("card ready {:?} after start", t0.elapsed());
    assert_eq!(w.reader(), reader_name());

    // UID.
    assert_eq!(w.uid().unwrap(), uid);

    // Blank card, then a 500-byte round trip.
    assert_eq!(w.read(), Err(ChipError::Blank));
    let p500 = payload(500, 1);
    w.write(&p500).unwrap();
    assert_eq!(w.read().unwrap(), p500);
    let ef = emu.file(EF_ID).unwrap();
    assert_eq!(ef.len(), 600);
    assert_eq!(&ef[..2], &500u16.to_be_bytes());
    assert_eq!(&ef[2..502], &p500[..]);

    // Timing: the full 600-byte EF image, written and read back (inside write), then read.
    let pmax = payload(MAX_PAYLOAD, 2);
    let before = emu.apdu_count();
    let t = Instant::now();
    w.write(&pmax).unwrap();
    let t_write = t.elapsed();
    let write_apdus = emu.apdu_count() - before;
    let t = Instant::now();
    assert_eq!(w.read().unwrap(), pmax);
    let t_read = t.elapsed();
    eprintln!(
        "TIMING: 600-byte image write+read-back {t_write:?} ({write_apdus} APDUs), read {t_read:?} \
         ({} APDUs)",
        emu.apdu_count() - before - write_apdus
    );

    // Too large: rejected before any APDU.
    let before = emu.apdu_count();
    assert_eq!(
        w.write(&payload(MAX_PAYLOAD + 1, 0)),
        Err(ChipError::TooLarge {
            len: MAX_PAYLOAD + 1,
            max: MAX_PAYLOAD
        })
    );
    assert_eq!(emu.apdu_count(), before);
    assert_eq!(w.read().unwrap(), pmax);

    // Card pulled mid-write: after SELECT MF, SELECT EF and the zeroed length prefix.
    emu.pull_card_after(3);
    let err = w.write(&p500).unwrap_err();
    eprintln!("pulled mid-write: {err:?} / {}", err.message_fa());
    assert_eq!(err, ChipError::CardRemoved);
    drop(w);
    // The torn write left a chip that reads as blank, not a mix.
    emu.insert_card();
    let mut w = connect(&pcscd);
    assert_eq!(w.read(), Err(ChipError::Blank));
    w.write(&p500).unwrap();
    assert_eq!(w.read().unwrap(), p500);
    drop(w);

    // No card in the reader.
    emu.pull_card();
    let deadline = Instant::now() + Duration::from_secs(10);
    let err = loop {
        match PcscWriter::connect(Some(&reader_name())) {
            Err(e) => break e,
            Ok(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
            Ok(_) => panic!("card still present after it was pulled"),
        }
    };
    assert_eq!(err, ChipError::NoCard);
    emu.stop();

    // pcscd stopped: NoService.
    pcscd.stop();
    assert_eq!(PcscWriter::connect(None).unwrap_err(), ChipError::NoService);
    assert_eq!(
        PcscWriter::list_readers().unwrap_err(),
        ChipError::NoService
    );
    if std::env::var_os("SKILLCARD_PCSC_KEEP").is_none() {
        let _ = fs::remove_dir_all(&base);
    }
}
