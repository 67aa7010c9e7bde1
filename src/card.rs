//! `skillcard card …`: the issuance clerk's workstation, where the card reader is.
//!
//! The server never touches a reader: the clerk's PC reads the blank chip's UID, asks the server
//! (JSON API, bearer token) to open a print for the certificate — the server takes a card from
//! the office stock and signs the credential naming that UID and serial — then writes the signed
//! bytes to the chip, reads them back and reports the read-back. The face PDF carries the
//! same bytes in its QR. Inspection and registration are the clerk's decisions on
//! the certificate's page (or the API).

use anyhow::{bail, Context};
use serde_json::{json, Value};
use skillcard_chip::{CardWriter, FileWriter};
use std::path::PathBuf;

/// Which reader: a PC/SC reader, or the development file back end.
#[derive(clap::Args, Clone, Debug)]
pub struct ReaderArgs {
    /// The PC/SC reader's name (default: the first reader holding a card).
    #[arg(long)]
    pub reader: Option<String>,
    /// Use the file back end (development): a directory holding one file per card.
    #[arg(long, conflicts_with = "reader")]
    pub card_dir: Option<PathBuf>,
    /// The card's name within `--card-dir` (default: the one named in `current`).
    #[arg(long, requires = "card_dir")]
    pub card: Option<String>,
}

type Writer = Box<dyn CardWriter + Send>;

fn open_writer(r: &ReaderArgs) -> anyhow::Result<Writer> {
    if let Some(dir) = &r.card_dir {
        let w = match &r.card {
            Some(name) => FileWriter::for_card(dir, name)?,
            None => FileWriter::new(dir)?,
        };
        return Ok(Box::new(w));
    }
    open_pcsc(r.reader.as_deref())
}

#[cfg(feature = "pcsc")]
fn open_pcsc(reader: Option<&str>) -> anyhow::Result<Writer> {
    Ok(Box::new(skillcard_chip::PcscWriter::connect(reader)?))
}

#[cfg(not(feature = "pcsc"))]
fn open_pcsc(_reader: Option<&str>) -> anyhow::Result<Writer> {
    bail!(
        "this build has no PC/SC support: rebuild with `cargo build --release --features pcsc` \
         (needs libpcsclite-dev) or use --card-dir for the file back end"
    )
}

/// Runs blocking reader work off the async runtime.
async fn with_card<T: Send + 'static>(
    mut w: Writer,
    f: impl FnOnce(&mut Writer) -> Result<T, skillcard_chip::ChipError> + Send + 'static,
) -> anyhow::Result<(Writer, T)> {
    tokio::task::spawn_blocking(move || {
        let out = f(&mut w);
        out.map(|t| (w, t))
    })
    .await
    .context("card reader task")?
    .map_err(|e| anyhow::anyhow!("{} ({e})", e.message_fa()))
}

/// A client of the server's JSON API, authenticated with a bearer token.
pub struct Api {
    base: String,
    token: String,
    http: reqwest::Client,
}

impl Api {
    pub fn new(server: &str, token: &str) -> anyhow::Result<Api> {
        if token.is_empty() {
            bail!(
                "no API token: pass --token or set SKILLCARD_TOKEN (POST /api/v1/tokens makes one)"
            );
        }
        Ok(Api {
            base: server.trim_end_matches('/').to_string(),
            token: token.to_string(),
            http: reqwest::Client::new(),
        })
    }

    async fn call(&self, req: reqwest::RequestBuilder) -> anyhow::Result<reqwest::Response> {
        let resp = req.bearer_auth(&self.token).send().await?;
        if resp.status().is_success() {
            return Ok(resp);
        }
        let status = resp.status();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        bail!(
            "the server refused ({status}, {}): {}",
            body["code"].as_str().unwrap_or("?"),
            body["message"].as_str().unwrap_or("")
        )
    }

    async fn get(&self, path: &str) -> anyhow::Result<Value> {
        Ok(self
            .call(self.http.get(format!("{}{path}", self.base)))
            .await?
            .json()
            .await?)
    }

    async fn post(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        Ok(self
            .call(self.http.post(format!("{}{path}", self.base)).json(&body))
            .await?
            .json()
            .await?)
    }

    async fn bytes(&self, path: &str) -> anyhow::Result<Vec<u8>> {
        Ok(self
            .call(self.http.get(format!("{}{path}", self.base)))
            .await?
            .bytes()
            .await?
            .to_vec())
    }
}

/// What to write: a new print for a certificate, or an open print to resume.
pub enum Target {
    Certificate { id: i64, serial: Option<u64> },
    Print(i64),
}

/// at the workstation: read the UID, open (or resume) the print, optionally save the face
/// PDF, write the signed credential, read it back and report the read-back to the server.
/// Returns the print as the server last answered.
pub async fn write(
    api: &Api,
    reader: &ReaderArgs,
    target: Target,
    face_out: Option<PathBuf>,
) -> anyhow::Result<Value> {
    let w = open_writer(reader)?;
    let (w, uid) = with_card(w, |w| w.uid()).await?;
    let uid_hex = hex::encode(&uid);
    let print = match target {
        Target::Certificate { id, serial } => {
            let mut body = json!({ "chip_uid": uid_hex });
            if let Some(s) = serial {
                body["serial"] = json!(s);
            }
            api.post(&format!("/api/v1/certificates/{id}/prints"), body)
                .await?
        }
        Target::Print(id) => {
            let p = api.get(&format!("/api/v1/prints/{id}")).await?;
            if p["chip_uid"].as_str() != Some(uid_hex.as_str()) {
                bail!(
                    "print {id} was signed for chip {}, but the card in the reader is {uid_hex}: \
                     insert that card, or report the print spoiled and start a new one",
                    p["chip_uid"].as_str().unwrap_or("?")
                );
            }
            p
        }
    };
    let id = print["id"]
        .as_i64()
        .context("the server's answer has no print id")?;
    if print["status"].as_str() != Some("printing") {
        bail!(
            "print {id} is {}, not printing: nothing to write",
            print["status"].as_str().unwrap_or("?")
        );
    }
    if let Some(path) = face_out {
        let pdf = api.bytes(&format!("/api/v1/prints/{id}/face.pdf")).await?;
        std::fs::write(&path, pdf).with_context(|| format!("writing {}", path.display()))?;
        eprintln!("card face: {}", path.display());
    }
    let credential = hex::decode(print["credential_hex"].as_str().unwrap_or(""))
        .context("the server's credential is not hex")?;
    let (w, ()) = with_card(w, move |w| w.write(&credential)).await?;
    let (_w, read_back) = with_card(w, |w| w.read()).await?;
    api.post(
        &format!("/api/v1/prints/{id}/chip"),
        json!({ "chip_uid": uid_hex, "read_back": hex::encode(read_back) }),
    )
    .await
}

/// Reads the chip: its UID and payload, hex.
pub async fn read(reader: &ReaderArgs) -> anyhow::Result<(Vec<u8>, Vec<u8>)> {
    let w = open_writer(reader)?;
    let (w, uid) = with_card(w, |w| w.uid()).await?;
    let (_w, payload) = with_card(w, |w| w.read()).await?;
    Ok((uid, payload))
}
