//! `skillcard keys …`: the real binary over a temporary key directory (no database). Rotation
//! keeps old cards verifiable; revocation invalidates them and needs `--yes`.

use crate::helpers::{attach_app, discard_database, fresh_database_url, unique_name, ServeProcess};
use crate::printing::issued_certificates;
use serde_json::json;
use skillcard_credential::{Claims, IssuerKey, KeyStatus, PublicKeySet, Verdict};
use skillcard_hsm::softhsm::MODULE as SOFTHSM;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::Output;

/// A fresh key directory (not yet created: `keys generate` creates it), removed on drop.
struct TempKeyDir {
    root: PathBuf,
    dir: PathBuf,
    /// Extra environment for every run (a security module's configuration and PIN).
    env: Vec<(String, String)>,
}

impl TempKeyDir {
    fn new() -> TempKeyDir {
        let root = std::env::temp_dir().join(format!("skillcard-it-keys-{}", unique_name()));
        let dir = root.join("keys");
        TempKeyDir {
            root,
            dir,
            env: Vec::new(),
        }
    }

    fn run(&self, args: &[&str]) -> Output {
        std::process::Command::new(env!("CARGO_BIN_EXE_skillcard"))
            .arg("keys")
            .args(args)
            .arg("--key-dir")
            .arg(&self.dir)
            .env_remove("SKILLCARD_KEY_DIR")
            // A database that must never be touched: `keys` needs none.
            .env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")
            .env("RUST_LOG", "warn")
            .env_remove("SKILLCARD_HSM_PIN")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .output()
            .unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "skillcard keys {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            !out.status.success(),
            "skillcard keys {args:?} should fail: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8(out.stderr).unwrap()
    }

    fn secret(&self, kid: &str) -> PathBuf {
        self.dir.join(format!("issuer-{kid}.key"))
    }

    fn public_keys_file(&self) -> String {
        std::fs::read_to_string(self.dir.join("public-keys.json")).unwrap()
    }

    fn exported(&self) -> PublicKeySet {
        PublicKeySet::from_json(&self.ok(&["export-public"])).unwrap()
    }
}

impl Drop for TempKeyDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn status_of(set: &PublicKeySet, kid: &str) -> KeyStatus {
    set.get(kid).unwrap().status
}

fn claims() -> Claims {
    Claims {
        certificate_no: "ESF-1404-000123".to_owned(),
        given_name: "علی".to_owned(),
        family_name: "رضایی".to_owned(),
        father_name: "محمد".to_owned(),
        national_id: "0012345679".to_owned(),
        trade_code: "7411-53-001-1".to_owned(),
        trade_title: "برق‌کار ساختمان".to_owned(),
        score: 875,
        issued_on: "2025-06-01".to_owned(),
        province_code: "ESF".to_owned(),
        card_serial: 102_345,
        chip_uid: vec![0x04, 0xa2, 0x2b, 0x91, 0x5c, 0x61, 0x80],
    }
}

#[test]
fn generate_rotate_list_export_and_revoke() {
    let d = TempKeyDir::new();
    let out = d.ok(&["list"]);
    assert!(out.contains("no keys"), "{out}");
    d.fails(&["export-public"]);

    let out = d.ok(&["generate", "--kid", "k1"]);
    assert!(out.contains("k1"), "{out}");
    let set = d.exported();
    let x1 = set.get("k1").unwrap().clone();
    assert_eq!(status_of(&set, "k1"), KeyStatus::Active);
    assert_eq!(mode(&d.secret("k1")), 0o600);
    assert_eq!(mode(&d.dir) & 0o077, 0, "the key directory is private");

    // Rotation: k2 becomes the one active key, k1 is retired but kept.
    let out = d.ok(&["generate", "--kid", "k2", "--not-after", "2030-12-31"]);
    assert!(
        out.contains("k2") && out.contains("k1 is now retired"),
        "{out}"
    );
    assert_eq!(mode(&d.secret("k2")), 0o600);
    let set = d.exported();
    assert_eq!(set.keys().len(), 2);
    assert_eq!(status_of(&set, "k1"), KeyStatus::Retired);
    assert_eq!(status_of(&set, "k2"), KeyStatus::Active);
    assert_eq!(
        set.get("k1").unwrap().key,
        x1.key,
        "k1's public key is unchanged"
    );
    assert_eq!(
        set.get("k2").unwrap().not_after.as_deref(),
        Some("2030-12-31")
    );

    let table = d.ok(&["list"]);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 3, "{table}");
    assert!(
        lines[0].contains("KID") && lines[0].contains("STATUS"),
        "{table}"
    );
    for (line, kid, status, not_after) in [
        (lines[1], "k1", "retired", "-"),
        (lines[2], "k2", "active", "2030-12-31"),
    ] {
        let cols: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(cols, [kid, status, not_after, "file"], "{table}");
    }

    // The file the page publishes is the same set, and --out writes it.
    let out_file = d.root.join("published.json");
    d.ok(&["export-public", "--out", out_file.to_str().unwrap()]);
    assert_eq!(PublicKeySet::load(&out_file).unwrap(), set);
    assert_eq!(PublicKeySet::from_json(&d.public_keys_file()).unwrap(), set);

    // An existing kid is never replaced, and an invalid one is refused.
    let before = d.public_keys_file();
    let secret_before = std::fs::read(d.secret("k1")).unwrap();
    let err = d.fails(&["generate", "--kid", "k1"]);
    assert!(err.contains("already exists"), "{err}");
    d.fails(&["generate", "--kid", "../k3"]);
    d.fails(&["generate", "--kid", "k3", "--not-after", "1404-01-01"]);
    assert!(!d.secret("k3").exists());
    assert_eq!(d.public_keys_file(), before);
    assert_eq!(std::fs::read(d.secret("k1")).unwrap(), secret_before);

    // Revocation needs --yes; without it nothing changes.
    let err = d.fails(&["revoke", "--kid", "k1"]);
    assert!(err.contains("--yes"), "{err}");
    assert_eq!(d.public_keys_file(), before);
    let err = d.fails(&["revoke", "--kid", "nope", "--yes"]);
    assert!(err.contains("no key"), "{err}");
    d.ok(&["revoke", "--kid", "k1", "--yes"]);
    let set = d.exported();
    assert_eq!(status_of(&set, "k1"), KeyStatus::Revoked);
    assert_eq!(status_of(&set, "k2"), KeyStatus::Active);
    // A revoked key never comes back.
    d.fails(&["retire", "--kid", "k1"]);

    // Retiring the active key leaves none: `keys check` says the app cannot sign.
    d.ok(&["check"]);
    let out = d.ok(&["retire", "--kid", "k2"]);
    assert!(out.contains("no active signing key"), "{out}");
    assert_eq!(status_of(&d.exported(), "k2"), KeyStatus::Retired);
    let err = d.fails(&["check"]);
    assert!(err.contains("no active signing key"), "{err}");
}

#[test]
fn old_cards_verify_after_rotation_and_fail_after_revocation() {
    let d = TempKeyDir::new();
    d.ok(&["generate", "--kid", "k1"]);
    let k1 = IssuerKey::load(&d.secret("k1")).unwrap();
    let card = skillcard_credential::sign(&claims(), &k1).unwrap();
    match skillcard_credential::verify(&card, &d.exported(), None) {
        Verdict::Valid {
            kid, key_status, ..
        } => assert_eq!((kid.as_str(), key_status), ("k1", KeyStatus::Active)),
        other => panic!("expected valid, got {other}"),
    }

    d.ok(&["generate", "--kid", "k2"]);
    let set = d.exported();
    match skillcard_credential::verify(&card, &set, None) {
        Verdict::Valid {
            kid, key_status, ..
        } => assert_eq!((kid.as_str(), key_status), ("k1", KeyStatus::Retired)),
        other => panic!("a card signed before rotation must stay valid, got {other}"),
    }
    let k2 = IssuerKey::load(&d.secret("k2")).unwrap();
    let new_card = skillcard_credential::sign(&claims(), &k2).unwrap();
    assert!(skillcard_credential::verify(&new_card, &set, None).is_valid());

    d.fails(&["revoke", "--kid", "k1"]);
    assert!(skillcard_credential::verify(&card, &d.exported(), None).is_valid());
    d.ok(&["revoke", "--kid", "k1", "--yes"]);
    let set = d.exported();
    assert_eq!(
        skillcard_credential::verify(&card, &set, None),
        Verdict::RevokedKey("k1".to_owned())
    );
    assert!(skillcard_credential::verify(&new_card, &set, None).is_valid());
}

#[test]
fn key_dir_comes_from_the_environment() {
    let d = TempKeyDir::new();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_skillcard"))
        .args(["keys", "generate", "--kid", "env-1"])
        .env("SKILLCARD_KEY_DIR", &d.dir)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(mode(&d.secret("env-1")), 0o600);
    assert!(d.ok(&["list"]).contains("env-1"));
}

impl TempKeyDir {
    /// `skillcard verify … --key-dir <dir>`: (success, stdout as JSON).
    fn verify(&self, args: &[&str]) -> (bool, serde_json::Value) {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_skillcard"))
            .arg("verify")
            .args(args)
            .arg("--key-dir")
            .arg(&self.dir)
            .env_remove("SKILLCARD_KEY_DIR")
            .env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")
            .output()
            .unwrap();
        let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
            panic!(
                "verify printed no JSON: {}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
        (out.status.success(), json)
    }
}

#[test]
fn verify_command_checks_qr_text_and_chip_payloads_offline() {
    let d = TempKeyDir::new();
    d.ok(&["generate", "--kid", "k1"]);
    let k1 = IssuerKey::load(&d.secret("k1")).unwrap();
    let signed = skillcard_credential::sign(&claims(), &k1).unwrap();
    let qr = skillcard_credential::to_qr_text(&signed);

    let (ok, v) = d.verify(&[&qr]);
    assert!(ok, "{v}");
    assert_eq!(v["verdict"], "valid");
    assert_eq!(v["credential"]["kid"], "k1");
    assert_eq!(
        v["credential"]["claims"]["certificate_no"],
        "ESF-1404-000123"
    );

    // A payload read from a chip (raw bytes in a file) must match that chip's UID.
    let file = d.root.join("chip.bin");
    std::fs::create_dir_all(&d.root).unwrap();
    std::fs::write(&file, &signed).unwrap();
    let arg = format!("@{}", file.display());
    let (ok, v) = d.verify(&["--chip-uid", "04a22b915c6180", &arg]);
    assert!(ok, "{v}");
    let (ok, v) = d.verify(&["--chip-uid", "04:a2:2b:91:5c:61:81", &arg]);
    assert!(!ok);
    assert_eq!(v["verdict"], "chip_mismatch");

    // Tampered bytes: never valid, always a clear verdict.
    let mut tampered = signed.clone();
    let i = tampered.len() / 2;
    tampered[i] ^= 0x01;
    let (ok, v) = d.verify(&[&skillcard_credential::to_qr_text(&tampered)]);
    assert!(!ok);
    assert!(
        ["bad_signature", "malformed"].contains(&v["verdict"].as_str().unwrap()),
        "{v}"
    );
    let (ok, v) = d.verify(&["SC1:NOT-BASE45!!"]);
    assert!(!ok);
    assert_eq!(v["verdict"], "malformed");
    assert!(v["message"].as_str().unwrap().contains("گواهینامه"), "{v}");

    // After revocation the same card no longer verifies.
    d.ok(&["revoke", "--kid", "k1", "--yes"]);
    let (ok, v) = d.verify(&[&qr]);
    assert!(!ok);
    assert_eq!(v["verdict"], "revoked_key");
}

/// A SoftHSM2 token of this test's own under `root`, labelled `skillcard` (user PIN 1234);
/// returns the `SOFTHSM2_CONF` every process that uses it must see.
fn softhsm_token(root: &Path) -> String {
    assert!(
        Path::new(SOFTHSM).exists(),
        "{SOFTHSM} not found: install Debian's softhsm2"
    );
    skillcard_hsm::softhsm::init_token(root, "skillcard", "1234", "123456")
        .unwrap()
        .display()
        .to_string()
}

/// The whole life of a key held by a security module, through the real binary and a real
/// SoftHSM2 token: made on the token, listed and checked, refused without the right PIN,
/// signing the server's tree heads, and retired by rotation to a file key.
#[tokio::test]
async fn a_key_on_a_security_module_signs_for_the_server_and_rotates_away() {
    let mut d = TempKeyDir::new();
    std::fs::create_dir_all(&d.root).unwrap();
    let conf = softhsm_token(&d.root);
    d.env.push(("SOFTHSM2_CONF".into(), conf.clone()));
    let hsm = ["--hsm-module", SOFTHSM, "--hsm-token", "skillcard"];

    // Without a PIN nothing is made, and the directory gains no key.
    let err = d.fails(&[&["generate", "--kid", "h1"][..], &hsm].concat());
    assert!(err.contains("SKILLCARD_HSM_PIN"), "{err}");
    let err = d.fails(
        &[
            &["generate", "--kid", "h1", "--hsm-module", SOFTHSM][..],
            &["--hsm-pin", "1234"],
        ]
        .concat(),
    );
    assert!(err.contains("--hsm-token"), "{err}");
    assert!(!d.dir.join("issuer-h1.hsm").exists());

    // A wrong PIN is refused as such, and leaves nothing behind.
    d.env.push(("SKILLCARD_HSM_PIN".into(), "9999".into()));
    let err = d.fails(&[&["generate", "--kid", "h1"][..], &hsm].concat());
    assert!(err.contains("refused the PIN"), "{err}");
    assert!(!d.dir.join("issuer-h1.hsm").exists());
    d.env.pop();

    d.env.push(("SKILLCARD_HSM_PIN".into(), "1234".into()));
    let out = d.ok(&[&["generate", "--kid", "h1"][..], &hsm].concat());
    assert!(out.contains("h1") && out.contains("token"), "{out}");
    assert!(!d.secret("h1").exists(), "no secret file for a token key");
    let reference = std::fs::read_to_string(d.dir.join("issuer-h1.hsm")).unwrap();
    assert!(
        reference.contains("skillcard-issuer-h1") && !reference.contains("\"d\""),
        "the reference names the key and holds no secret: {reference}"
    );
    let table = d.ok(&["list"]);
    let cols: Vec<&str> = table.lines().nth(1).unwrap().split_whitespace().collect();
    assert_eq!(cols, ["h1", "active", "-", "hsm"], "{table}");
    d.ok(&["check"]);
    // The same label is never made twice, even under another kid's reference.
    let err = d.fails(&[&["generate", "--kid", "h1"][..], &hsm].concat());
    assert!(err.contains("already exists"), "{err}");

    // The check opens the active key on its token: a wrong PIN is a fatal problem.
    d.env.pop();
    d.env.push(("SKILLCARD_HSM_PIN".into(), "0000".into()));
    let err = d.fails(&["check"]);
    assert!(err.contains("refused the PIN"), "{err}");
    d.env.pop();

    // The server signs with the token's key: a card it prints and its tree head verify against
    // the published set.
    let published = d.exported();
    let db_url = fresh_database_url().await;
    let server = ServeProcess::start(
        &db_url,
        &d.dir,
        &["--demo"],
        &[
            ("SOFTHSM2_CONF", conf.as_str()),
            ("SKILLCARD_HSM_PIN", "1234"),
            ("RUST_LOG", "warn"),
        ],
    )
    .await;
    let addr: std::net::SocketAddr = server.addr().parse().unwrap();
    let app = attach_app(addr, &db_url).await;

    let (cert, _) = issued_certificates(&app).await[0];
    let uid = "04a22b915c6180";
    let print = app
        .post_ok(
            &format!("/api/v1/certificates/{cert}/prints"),
            "clerk",
            &json!({ "chip_uid": uid }),
        )
        .await;
    let credential = hex::decode(print["credential_hex"].as_str().unwrap()).unwrap();
    match skillcard_credential::verify(&credential, &published, Some(&hex::decode(uid).unwrap())) {
        Verdict::Valid { kid, claims, .. } => {
            assert_eq!(kid, "h1");
            assert_eq!(claims.card_serial, print["serial"].as_u64().unwrap());
        }
        other => panic!("the card signed on the token does not verify: {other:?}"),
    }

    let head = app.get_json("/api/v1/public/log/tree-head", None).await.1;
    assert_eq!(head["kid"], "h1", "{head}");
    let signed = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        head["signed"].as_str().unwrap(),
    )
    .unwrap();
    let (th, kid) = skillcard_credential::transparency::TreeHead::verify(&signed, &published)
        .expect("the token's signature verifies against the published key");
    assert_eq!(kid, "h1");
    assert_eq!(th.tree_size, head["tree_size"].as_u64().unwrap());
    assert_eq!(
        hex::encode(th.root_hash),
        head["root_hash"].as_str().unwrap()
    );
    app.assert_check_ok().await;

    // An audit checkpoint signed on the token, which the database then extends.
    let checkpoints = d.root.join("checkpoints.b64");
    for args in [
        vec!["checkpoint", "--append", checkpoints.to_str().unwrap()],
        vec!["check", "--checkpoint", checkpoints.to_str().unwrap()],
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_skillcard"))
            .args(&args)
            .arg("--key-dir")
            .arg(&d.dir)
            .env("DATABASE_URL", &db_url)
            .env("SOFTHSM2_CONF", &conf)
            .env("SKILLCARD_HSM_PIN", "1234")
            .env("RUST_LOG", "warn")
            .env_remove("SKILLCARD_CONFIG")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{args:?}: {text}");
        if args[0] == "checkpoint" {
            assert!(text.contains("signed with key h1"), "{text}");
        } else {
            assert!(
                text.contains("extends") && text.contains("key h1"),
                "{text}"
            );
        }
    }
    server.sigterm();
    assert!(server.finish().await.0);
    app.store.pool().close().await;
    drop(app);
    discard_database(&db_url).await;

    // Rotation to a file key retires the token's key; its reference stays for old cards.
    let out = d.ok(&["generate", "--kid", "k2"]);
    assert!(out.contains("h1 is now retired"), "{out}");
    let set = d.exported();
    assert_eq!(status_of(&set, "h1"), KeyStatus::Retired);
    assert_eq!(set.get("h1").unwrap().key, published.get("h1").unwrap().key);
    let table = d.ok(&["list"]);
    assert!(
        table
            .lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["h1", "retired", "-", "hsm"]),
        "{table}"
    );
    // The retired reference is compared, not opened: no PIN is needed to check.
    d.env.retain(|(k, _)| k != "SKILLCARD_HSM_PIN");
    d.ok(&["check"]);
}
