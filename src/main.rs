//! `skillcard`: the one binary. Subcommands serve the web application, migrate the database,
//! add users, load a demonstration dataset, check the invariants and manage the issuer keys.

mod backup;
mod card;
mod config;
mod keys;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use skillcard_core::policy::Role;
use skillcard_credential::transparency::{verify_inclusion, InclusionBundle, LogError, StatusList};
use skillcard_credential::KeyStatus;
use skillcard_db::{NewUser, Store};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "skillcard",
    version,
    about = "Electronic skill certificate cards: custody, issuance, delivery"
)]
struct Cli {
    /// A configuration file of `KEY=value` lines with the environment variables' names (also
    /// `SKILLCARD_CONFIG`); the environment wins over it.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// `sqlite:PATH` (default, a file in the working directory) or `postgres://…`.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite:skillcard.db",
        global = true
    )]
    database_url: String,
    /// How log lines go to standard error: `text` for people, `json` (one object a line, with
    /// the request's id in its span) for a log collector. `RUST_LOG` sets the level.
    #[arg(
        long,
        env = "SKILLCARD_LOG_FORMAT",
        value_enum,
        default_value_t = LogFormat::Text,
        global = true
    )]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

/// Log lines to standard error at `RUST_LOG`'s levels, and beside them (with its own filter,
/// so the log level does not change) the layer that times every database statement for
/// `/metrics`.
fn init_logging(format: LogFormat) {
    use tracing_subscriber::prelude::*;
    use tracing_subscriber::{fmt, EnvFilter, Registry};
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let lines: Box<dyn tracing_subscriber::Layer<Registry> + Send + Sync> = match format {
        LogFormat::Text => fmt::layer().with_writer(std::io::stderr).boxed(),
        LogFormat::Json => fmt::layer()
            .json()
            .with_current_span(true)
            .with_writer(std::io::stderr)
            .boxed(),
    };
    tracing_subscriber::registry()
        .with(lines.with_filter(filter))
        .with(skillcard_web::metrics::query_time_layer())
        .init();
}

// Parsed once per process: the size of `Serve`'s many settings costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// Run the web application (migrates the database first).
    Serve {
        #[arg(long, env = "SKILLCARD_LISTEN", default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Load the demonstration dataset into an empty database first.
        #[arg(long)]
        demo: bool,
        /// Force the cookies' `Secure` flag on or off. By default it is on unless the server
        /// listens on a loopback address (plain-HTTP development).
        #[arg(long, env = "SKILLCARD_SECURE_COOKIES")]
        secure_cookies: Option<bool>,
        /// The payment gateway's HMAC-SHA256 secret; without it the callback is off.
        #[arg(
            long,
            env = "SKILLCARD_GATEWAY_SECRET",
            hide_env_values = true,
            default_value = ""
        )]
        gateway_secret: String,
        /// The issuer key directory: its active key signs each printed card's credential
        /// . Without one, printing is refused; `--demo` makes a key if there is none.
        #[arg(long, env = "SKILLCARD_KEY_DIR", default_value = "./skillcard-keys")]
        key_dir: PathBuf,
        /// Requests a minute each client address may make to the public verification page and
        /// API (bursts of a quarter of it); 0 lifts the limit.
        #[arg(long, env = "SKILLCARD_PUBLIC_RATE", default_value_t = 120)]
        public_rate: u32,
        /// Public verification answers about registered cards kept in memory (about 1 KiB
        /// each); 0 reads the database for every verification.
        #[arg(long, env = "SKILLCARD_VERIFY_CACHE", default_value_t = skillcard_web::verify_cache::DEFAULT_CAPACITY)]
        verify_cache: usize,
        /// Addresses of the reverse proxies in front of the server, comma-separated: requests
        /// they relay count against the client named in `X-Forwarded-For` for the public limit.
        #[arg(long, env = "SKILLCARD_TRUSTED_PROXIES", value_delimiter = ',')]
        trusted_proxies: Vec<std::net::IpAddr>,
        /// Days an API token lives unless its request asks otherwise (1–365).
        #[arg(long, env = "SKILLCARD_TOKEN_DAYS", default_value_t = skillcard_core::account::DEFAULT_TOKEN_DAYS)]
        token_days: i64,
        /// Roles that must sign in with a second factor (TOTP), comma-separated, e.g.
        /// hq,admin,director_general; until they set one up they can do nothing else.
        #[arg(long, env = "SKILLCARD_SECOND_FACTOR_ROLES", value_delimiter = ',')]
        second_factor_roles: Vec<String>,
        #[command(flatten)]
        senders: SenderArgs,
        /// The bearer token Prometheus presents to GET /metrics; unset, there is no /metrics.
        #[arg(long, env = "SKILLCARD_METRICS_TOKEN", hide_env_values = true)]
        metrics_token: Option<String>,
        /// Append a signed audit checkpoint to this file every `--checkpoint-every` seconds in
        /// which the audit chain grew, and at shutdown (for `check --checkpoint`; keep the file
        /// where the database's administrator cannot write, or ship it off the host).
        #[arg(long, env = "SKILLCARD_CHECKPOINT_FILE")]
        checkpoint_file: Option<PathBuf>,
        #[arg(long, env = "SKILLCARD_CHECKPOINT_EVERY", default_value_t = 60)]
        checkpoint_every: u64,
        #[command(flatten)]
        hsm: HsmPin,
    },
    /// Bring the database schema up to date.
    Migrate,
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Fill the database with a realistic demonstration dataset.
    Demo {
        /// Also load a decade of national history set-based: about this many cards (a number,
        /// or `national` for 10,000,000), for benchmarks and trying the pages at scale.
        #[arg(long, value_parser = parse_scale)]
        scale: Option<i64>,
    },
    /// Verify the audit chain and the custody invariants; exits non-zero if anything is wrong.
    Check {
        /// A signed audit checkpoint kept outside the database, which the database must still
        /// extend (no audit record removed or rewritten since): a file of checkpoints (one
        /// base64 line each, as `checkpoint --append` and `serve --checkpoint-file` write; the
        /// last line counts) or the server's `/api/v1/public/audit/checkpoint` URL.
        #[arg(long, value_name = "FILE|URL")]
        checkpoint: Option<String>,
        /// The published key set the checkpoint is verified with; default: `public-keys.json`
        /// in the key directory.
        #[arg(long)]
        keys: Option<PathBuf>,
        #[arg(long, env = "SKILLCARD_KEY_DIR", default_value = "./skillcard-keys")]
        key_dir: PathBuf,
    },
    /// List the cards in service whose credential a key signed (CSV: serial, certificate,
    /// province, registered on): the cards to call back and reprint after `keys revoke`.
    SignedBy {
        #[arg(long)]
        kid: String,
    },
    /// Sign the audit chain's head with the active issuer key and append it to FILE (one base64
    /// line): a checkpoint for `check --checkpoint`, to keep where the database's administrator
    /// cannot write.
    Checkpoint {
        #[arg(long)]
        append: PathBuf,
        #[arg(long, env = "SKILLCARD_KEY_DIR", default_value = "./skillcard-keys")]
        key_dir: PathBuf,
        #[command(flatten)]
        hsm: HsmPin,
    },
    /// Write a consistent copy of the database while the server runs (SQLite: an online copy,
    /// checked at once; PostgreSQL: pg_dump's custom format). Never overwrites a file.
    Backup {
        #[arg(long)]
        out: PathBuf,
    },
    /// Restore a backup into a new SQLite file or an empty PostgreSQL database, then check it;
    /// exits non-zero (leaving no SQLite file) unless the copy passes.
    Restore {
        #[arg(long)]
        from: PathBuf,
        /// The target database URL (`sqlite:PATH` or `postgres://…`).
        #[arg(long)]
        to: String,
    },
    /// Verify a credential offline against a published public key set (no database needed).
    /// Prints the verdict as JSON; exits 1 unless the credential is valid.
    Verify {
        /// The public key set as published; default: `public-keys.json` in the key directory.
        #[arg(long)]
        keys: Option<PathBuf>,
        #[arg(long, env = "SKILLCARD_KEY_DIR", default_value = "./skillcard-keys")]
        key_dir: PathBuf,
        /// The UID read from the chip (hex), when verifying a payload read from a card.
        #[arg(long)]
        chip_uid: Option<String>,
        /// A downloaded status list (`/api/v1/public/status-list`): a card on it is reported
        /// void or damaged and fails.
        #[arg(long)]
        status_list: Option<PathBuf>,
        /// A downloaded inclusion proof (`/api/v1/public/log/inclusion`): the card must be in
        /// the transparency log under a tree head signed by a published key.
        #[arg(long)]
        log_proof: Option<PathBuf>,
        /// The QR text (`SC1:…`), or `@FILE` holding QR text, the raw signed bytes, or a JPEG
        /// or PNG photo of the card's QR code.
        payload: String,
    },
    /// For log monitors: check that an older signed tree head of the transparency log is a
    /// prefix of a newer one (nothing removed or changed), from files downloaded from
    /// `/api/v1/public/log/tree-head` and `/api/v1/public/log/consistency`. No database needed.
    VerifyLog {
        /// The public key set as published.
        #[arg(long)]
        keys: PathBuf,
        /// The older tree head (the JSON the API serves).
        #[arg(long)]
        old: PathBuf,
        /// The newer tree head.
        #[arg(long)]
        new: PathBuf,
        /// The consistency proof between them (the JSON the API serves).
        #[arg(long)]
        proof: PathBuf,
    },
    /// The issuance clerk's workstation: write a certificate's chip through the card reader
    /// or read and verify a card (no database needed; talks to the server's API).
    Card {
        #[command(subcommand)]
        command: CardCommand,
    },
    /// Manage the issuer signing keys and the published public key set (no database needed).
    Keys {
        /// Directory of the secret `issuer-<kid>.key` files, the `issuer-<kid>.hsm` references
        /// of keys held by a security module, and `public-keys.json`.
        #[arg(
            long,
            env = "SKILLCARD_KEY_DIR",
            default_value = "./skillcard-keys",
            global = true
        )]
        key_dir: PathBuf,
        #[command(flatten)]
        hsm: HsmPin,
        #[command(subcommand)]
        command: KeysCommand,
    },
}

/// Where notices to applicants go; a channel left unset writes its notices to the log.
#[derive(clap::Args)]
struct SenderArgs {
    /// The SMS gateway's HTTP endpoint (POST), e.g. https://sms.example.ir/v1/send.
    #[arg(long, env = "SKILLCARD_SMS_URL")]
    sms_url: Option<String>,
    /// One header that authorises the gateway's requests, as `Name: value`.
    #[arg(long, env = "SKILLCARD_SMS_AUTH", hide_env_values = true)]
    sms_auth: Option<String>,
    /// The JSON body, with {to}, {text} and {id} replaced (default {"to": "{to}", "text": "{text}"}).
    #[arg(long, env = "SKILLCARD_SMS_BODY")]
    sms_body: Option<String>,
    /// Where the provider's message id is in its answer, as a JSON pointer (e.g. /messageid):
    /// kept as the notice's receipt, it matches the provider's delivery reports.
    #[arg(long, env = "SKILLCARD_SMS_MESSAGE_ID")]
    sms_message_id: Option<String>,
    /// The secret the SMS provider's delivery reports carry (`?token=` in the callback URL or
    /// an `X-Report-Token` header); unset, POST /api/v1/notices/delivery-reports is refused.
    #[arg(long, env = "SKILLCARD_SMS_REPORT_TOKEN", hide_env_values = true)]
    sms_report_token: Option<String>,
    /// The SMTP relay: smtp://[user:password@]host[:port][?tls=required] or smtps://….
    #[arg(long, env = "SKILLCARD_SMTP_URL", hide_env_values = true)]
    smtp_url: Option<String>,
    /// The mailbox notices come from.
    #[arg(
        long,
        env = "SKILLCARD_SMTP_FROM",
        default_value = "no-reply@localhost"
    )]
    smtp_from: String,
    /// Seconds a gateway may take before the notice is retried later.
    #[arg(long, env = "SKILLCARD_SENDER_TIMEOUT", default_value_t = 10)]
    sender_timeout: u64,
}

impl SenderArgs {
    fn senders(&self) -> anyhow::Result<skillcard_senders::Senders> {
        let timeout = std::time::Duration::from_secs(self.sender_timeout.max(1));
        let sms = match self.sms_url.as_deref().filter(|u| !u.is_empty()) {
            Some(url) => {
                let g = skillcard_senders::SmsGateway::new(
                    url,
                    self.sms_auth.as_deref(),
                    self.sms_body.as_deref(),
                    timeout,
                )?;
                Some(
                    match self.sms_message_id.as_deref().filter(|p| !p.is_empty()) {
                        Some(pointer) => g.with_message_id(pointer)?,
                        None => g,
                    },
                )
            }
            None => None,
        };
        let email = match self.smtp_url.as_deref().filter(|u| !u.is_empty()) {
            Some(url) => Some(skillcard_senders::Smtp::new(url, &self.smtp_from, timeout)?),
            None => None,
        };
        for (channel, set) in [("SMS", sms.is_some()), ("e-mail", email.is_some())] {
            if !set {
                tracing::warn!("no {channel} gateway configured: {channel} notices are only written to the log");
            }
        }
        Ok(skillcard_senders::Senders { sms, email })
    }
}

#[derive(Subcommand)]
enum CardCommand {
    /// Read the chip's UID, open a print for an issued certificate (or resume one with --print),
    /// write the signed credential, read it back and report the read-back to the server.
    Write {
        /// The server's base URL.
        #[arg(
            long,
            env = "SKILLCARD_SERVER",
            default_value = "http://127.0.0.1:8080"
        )]
        server: String,
        /// An API token of the issuance clerk (POST /api/v1/tokens).
        #[arg(
            long,
            env = "SKILLCARD_TOKEN",
            hide_env_values = true,
            default_value = ""
        )]
        token: String,
        /// The certificate to print a card for.
        #[arg(long, required_unless_present = "print", conflicts_with = "print")]
        certificate: Option<i64>,
        /// A serial of the office stock to use (default: the lowest).
        #[arg(long, requires = "certificate")]
        serial: Option<u64>,
        /// Resume an open print (same chip) after a failed or interrupted write.
        #[arg(long)]
        print: Option<i64>,
        /// Save the card face (PDF) for the card printer here.
        #[arg(long)]
        face_out: Option<PathBuf>,
        #[command(flatten)]
        reader: card::ReaderArgs,
    },
    /// Read the card in the reader and verify its credential offline, for this very chip.
    Read {
        /// The public key set; default: `public-keys.json` in the key directory.
        #[arg(long)]
        keys: Option<PathBuf>,
        #[arg(long, env = "SKILLCARD_KEY_DIR", default_value = "./skillcard-keys")]
        key_dir: PathBuf,
        #[command(flatten)]
        reader: card::ReaderArgs,
    },
}

/// The user PIN of the security module's token, for keys held there.
#[derive(clap::Args)]
struct HsmPin {
    /// The token's user PIN (prefer the environment: a flag shows in the process list).
    #[arg(
        long = "hsm-pin",
        env = "SKILLCARD_HSM_PIN",
        hide_env_values = true,
        global = true
    )]
    hsm_pin: Option<String>,
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Make a new active signing key; the key active until now becomes retired (rotation).
    Generate {
        /// The new key's id: 1 to 32 of A-Z a-z 0-9 . _ - (for example 2025-01).
        #[arg(long)]
        kid: String,
        /// The last Gregorian date (YYYY-MM-DD) on which the key may sign, if bounded.
        #[arg(long)]
        not_after: Option<String>,
        /// Make the key on a token of this PKCS#11 module instead of in a file (Debian's
        /// SoftHSM2: /usr/lib/softhsm/libsofthsm2.so); the secret never leaves the token.
        #[arg(long, env = "SKILLCARD_HSM_MODULE", requires = "hsm_token")]
        hsm_module: Option<PathBuf>,
        /// The label of the token to make it on.
        #[arg(long, env = "SKILLCARD_HSM_TOKEN")]
        hsm_token: Option<String>,
    },
    /// Show every key: id, status, last signing date and whether its secret file is here.
    List,
    /// Stop a key signing new cards; the cards it signed stay valid.
    Retire {
        #[arg(long)]
        kid: String,
    },
    /// Mark a compromised key: every card it ever signed fails verification. Irreversible.
    Revoke {
        #[arg(long)]
        kid: String,
        /// Confirm the revocation.
        #[arg(long)]
        yes: bool,
    },
    /// Print the public key set (JSON) to publish for verification, or write it to a file.
    ExportPublic {
        /// Write here instead of printing.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Check that the active key loads and every secret file matches the key set; exits
    /// non-zero if the application could not sign.
    Check,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user.
    Add {
        #[arg(long)]
        username: String,
        /// Read from SKILLCARD_PASSWORD if not given.
        #[arg(long, env = "SKILLCARD_PASSWORD", hide_env_values = true)]
        password: String,
        #[arg(long)]
        full_name: String,
        #[arg(long, default_value = "")]
        title: String,
        /// One of: hq, security, assessment_head, assessment_officer, issuance_clerk,
        /// center_examiner, delivery_agent, director_general, assessment_board, applicant.
        #[arg(long)]
        role: String,
        /// Province code (e.g. ESF) or id; not for hq.
        #[arg(long)]
        province: Option<String>,
    },
    /// List every user with their role, province, state and last sign-in.
    List,
    /// Deactivate a user: every session and API token of theirs ends at once.
    Disable { username: String },
    /// Reactivate a deactivated user (they sign in again; old tokens stay revoked).
    Enable { username: String },
    /// Give a user a one-time password (valid 24 hours, to be replaced at the first sign-in);
    /// their sessions and tokens end.
    ResetPassword { username: String },
    /// Give a user another role and province.
    SetRole {
        username: String,
        /// One of the roles listed under `add`, or admin.
        #[arg(long)]
        role: String,
        /// Province code or id; none for hq (and for a national admin).
        #[arg(long)]
        province: Option<String>,
    },
}

fn main() -> anyhow::Result<()> {
    // The file's settings join the environment before any thread exists to read it.
    let args: Vec<String> = std::env::args().collect();
    if let Some(path) = config::named(&args) {
        config::apply(config::read(&path)?);
    }
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?
        .block_on(run())
}

async fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    init_logging(cli.log_format);
    let cli = match cli.command {
        Command::Keys {
            key_dir,
            hsm,
            command,
        } => return run_keys(&key_dir, hsm.hsm_pin, command),
        Command::Verify {
            keys,
            key_dir,
            chip_uid,
            status_list,
            log_proof,
            payload,
        } => {
            let keys = keys.unwrap_or_else(|| key_dir.join("public-keys.json"));
            let extra = OfflineEvidence {
                status_list,
                log_proof,
            };
            return run_verify(&keys, chip_uid.as_deref(), &payload, &extra);
        }
        Command::Card { command } => return run_card(command).await,
        Command::Backup { out } => return backup::backup(&cli.database_url, &out).await,
        Command::Restore { from, to } => return backup::restore(&from, &to).await,
        Command::VerifyLog {
            keys,
            old,
            new,
            proof,
        } => return run_verify_log(&keys, &old, &new, &proof),
        command => Cli { command, ..cli },
    };
    let store = Store::connect(&cli.database_url)
        .await
        .with_context(|| format!("connecting to {}", cli.database_url))?;
    store.migrate().await.context("migrating the database")?;
    match cli.command {
        Command::Migrate => println!("database is up to date"),
        Command::SignedBy { kid } => {
            println!("serial,certificate,province,registered_on");
            let mut after = 0;
            loop {
                let page = store.cards_signed_by(&kid, after).await.map_err(describe)?;
                let Some(last) = page.last() else { break };
                after = last.print_id;
                for c in &page {
                    println!(
                        "{},{},{},{}",
                        c.serial, c.certificate_no, c.province_code, c.registered_on
                    );
                }
            }
        }
        Command::Checkpoint {
            append,
            key_dir,
            hsm,
        } => {
            let key = keys::KeyDir::open(&key_dir)?
                .with_hsm_pin(hsm.hsm_pin)
                .active_signing_key()?;
            let cp = append_checkpoint(&store, &key, &append).await?;
            println!(
                "checkpoint: audit record {} at {}, signed with key {}, appended to {}",
                cp.seq,
                cp.at,
                key.kid(),
                append.display()
            );
        }
        Command::Serve {
            listen,
            demo,
            secure_cookies,
            gateway_secret,
            key_dir,
            public_rate,
            verify_cache,
            trusted_proxies,
            token_days,
            second_factor_roles,
            senders,
            metrics_token,
            checkpoint_file,
            checkpoint_every,
            hsm,
        } => {
            let sms_report_token = senders.sms_report_token.clone().filter(|t| !t.is_empty());
            let senders = senders.senders()?;
            let second_factor_roles = second_factor_roles
                .iter()
                .filter(|r| !r.trim().is_empty())
                .map(|r| Role::parse(r.trim()).with_context(|| format!("unknown role {r:?}")))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let opts = ServeOptions {
                listen,
                demo,
                secure_cookies,
                gateway_secret,
                key_dir,
                public_rate,
                verify_cache,
                trusted_proxies,
                token_days,
                second_factor_roles,
                senders,
                metrics_token: metrics_token.filter(|t| !t.is_empty()),
                sms_report_token,
                checkpoints: checkpoint_file.map(|f| (f, checkpoint_every.max(1))),
                hsm_pin: hsm.hsm_pin,
            };
            serve(store.clone(), opts).await?
        }
        Command::User {
            command:
                UserCommand::Add {
                    username,
                    password,
                    full_name,
                    title,
                    role,
                    province,
                },
        } => {
            let role = Role::parse(&role).with_context(|| format!("unknown role {role:?}"))?;
            let province_id = province_id(&store, province).await?;
            let id = store
                .create_user(
                    None,
                    NewUser {
                        username,
                        password,
                        full_name,
                        title,
                        role,
                        province_id,
                    },
                )
                .await
                .map_err(describe)?;
            println!("user {id} created");
        }
        Command::User {
            command: UserCommand::List,
        } => {
            for u in store.users(None).await.map_err(describe)? {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}",
                    u.username,
                    u.role,
                    u.province_id.map_or("-".to_string(), |p| p.to_string()),
                    if u.active == 1 { "active" } else { "disabled" },
                    u.last_login_at.as_deref().unwrap_or("-"),
                    u.full_name
                );
            }
        }
        Command::User {
            command: UserCommand::Disable { username },
        } => {
            store
                .set_user_active(skillcard_db::AccountAdmin::Operator, &username, false)
                .await
                .map_err(describe)?;
            println!("user {username} disabled; their sessions and tokens are ended");
        }
        Command::User {
            command: UserCommand::Enable { username },
        } => {
            store
                .set_user_active(skillcard_db::AccountAdmin::Operator, &username, true)
                .await
                .map_err(describe)?;
            println!("user {username} enabled");
        }
        Command::User {
            command: UserCommand::ResetPassword { username },
        } => {
            let otp = store
                .reset_password(skillcard_db::AccountAdmin::Operator, &username)
                .await
                .map_err(describe)?;
            println!(
                "one-time password for {username} (valid until {}, to be changed at the first sign-in): {}",
                otp.expires_at, otp.code
            );
        }
        Command::User {
            command:
                UserCommand::SetRole {
                    username,
                    role,
                    province,
                },
        } => {
            let role = Role::parse(&role).with_context(|| format!("unknown role {role:?}"))?;
            let province_id = province_id(&store, province).await?;
            store
                .set_user_role(
                    skillcard_db::AccountAdmin::Operator,
                    &username,
                    role,
                    province_id,
                )
                .await
                .map_err(describe)?;
            println!("user {username} is now {}", role.as_str());
        }
        Command::Demo { scale } => {
            if skillcard_db::demo::seed(&store).await.map_err(describe)? {
                println!(
                    "demo loaded; every demo user's password is {:?}",
                    skillcard_db::demo::DEMO_PASSWORD
                );
            } else {
                println!("demo already present");
            }
            if let Some(cards) = scale {
                let hq = skillcard_db::demo::hq_actor(&store)
                    .await
                    .map_err(describe)?;
                let r = skillcard_db::bulk::load(&store, cards, &hq)
                    .await
                    .map_err(describe)?;
                println!(
                    "national history loaded in {:.1} s: {} cards in {} shipments, {} monthly requests, \
                     {} exam lists, {} certificates, {} prints ({} spoiled), {} cards not yet delivered",
                    r.elapsed.as_secs_f64(),
                    r.cards,
                    r.shipments,
                    r.requests,
                    r.exam_lists,
                    r.certificates,
                    r.prints,
                    r.spoiled,
                    r.undelivered
                );
            }
        }
        // Handled above, before the database is opened.
        Command::Keys { .. }
        | Command::Verify { .. }
        | Command::VerifyLog { .. }
        | Command::Card { .. }
        | Command::Backup { .. }
        | Command::Restore { .. } => {
            bail!("internal error: an offline command reached the database path")
        }
        Command::Check {
            checkpoint,
            keys,
            key_dir,
        } => {
            let report = store.check().await?;
            println!("{}", serde_json::to_string_pretty(&report)?);
            if !report.is_ok() {
                print_failures(&report);
                bail!("check failed");
            }
            if let Some(source) = checkpoint {
                let keys = load_key_set(&keys.unwrap_or_else(|| key_dir.join("public-keys.json")))?;
                let (cp, kid) = read_checkpoint(&source, &keys).await?;
                let standing = store.standing_against(&cp).await?;
                if !standing.holds() {
                    eprintln!("FAILED checkpoint {source}: {standing}");
                    bail!(
                        "the database does not extend the checkpoint of {} (key {kid})",
                        cp.at
                    );
                }
                eprintln!(
                    "ok: {standing}; checkpoint of {} at audit record {} (key {kid})",
                    cp.at, cp.seq
                );
            }
            eprintln!(
                "ok: {} audit records, {} cards, {} provinces",
                report.audit_records, report.cards, report.provinces
            );
        }
    }
    store.close().await;
    Ok(())
}

async fn run_card(command: CardCommand) -> anyhow::Result<()> {
    match command {
        CardCommand::Write {
            server,
            token,
            certificate,
            serial,
            print,
            face_out,
            reader,
        } => {
            let api = card::Api::new(&server, &token)?;
            let target = match (certificate, print) {
                (_, Some(id)) => card::Target::Print(id),
                (Some(id), None) => card::Target::Certificate { id, serial },
                (None, None) => bail!("name --certificate or --print"),
            };
            let p = card::write(&api, &reader, target, face_out).await?;
            println!("{}", serde_json::to_string_pretty(&p)?);
            eprintln!(
                "chip written and verified for card {} (print {}); now record the inspection and register the serial",
                p["serial"], p["id"]
            );
            Ok(())
        }
        CardCommand::Read {
            keys,
            key_dir,
            reader,
        } => {
            let set = load_key_set(&keys.unwrap_or_else(|| key_dir.join("public-keys.json")))?;
            let (uid, payload) = card::read(&reader).await?;
            eprintln!("chip {}: {} bytes", hex::encode(&uid), payload.len());
            report(skillcard_credential::verify(&payload, &set, Some(&uid)))
        }
    }
}

fn load_key_set(path: &std::path::Path) -> anyhow::Result<skillcard_credential::PublicKeySet> {
    skillcard_credential::PublicKeySet::load(path)
        .with_context(|| format!("loading the public key set {}", path.display()))
}

/// What `skillcard verify` may check besides the signature, from downloaded files.
struct OfflineEvidence {
    status_list: Option<PathBuf>,
    log_proof: Option<PathBuf>,
}

/// `skillcard verify`: the same library function the verification page and API use, then the
/// downloaded status list and log proof, if given.
fn run_verify(
    keys: &std::path::Path,
    chip_uid: Option<&str>,
    payload: &str,
    extra: &OfflineEvidence,
) -> anyhow::Result<()> {
    let set = load_key_set(keys)?;
    let chip_uid = chip_uid
        .map(|h| hex_bytes(h).with_context(|| format!("--chip-uid {h:?} is not hex")))
        .transpose()?;
    let bytes = match payload.strip_prefix('@') {
        Some(path) => std::fs::read(path).with_context(|| format!("reading {path}"))?,
        None => payload.as_bytes().to_vec(),
    };
    let is_photo = bytes.starts_with(&[0xFF, 0xD8, 0xFF]) || bytes.starts_with(b"\x89PNG");
    let photo_text = if is_photo {
        Some(
            skillcard_credential::photo::qr_text_from_photo(&bytes)
                .with_context(|| format!("reading the QR code in {payload}"))?,
        )
    } else {
        None
    };
    let text = match &photo_text {
        Some(t) => Some(t.trim()),
        None => std::str::from_utf8(&bytes)
            .ok()
            .map(str::trim)
            .filter(|t| t.starts_with("SC1:")),
    };
    let signed = match text {
        Some(t) => skillcard_credential::from_qr_text(t).map_err(|e| e.to_string()),
        None => Ok(bytes.clone()),
    };
    let (verdict, credential) = match signed {
        Ok(b) => (
            skillcard_credential::verify(&b, &set, chip_uid.as_deref()),
            b,
        ),
        Err(e) => (skillcard_credential::Verdict::Malformed(e), Vec::new()),
    };
    let mut out = verdict_json(&verdict);
    let mut problems = Vec::new();
    if let (Some(path), true) = (&extra.status_list, verdict.is_valid()) {
        let list = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        out["status"] = match StatusList::verify(&list, &set) {
            Ok((list, kid)) => {
                let status = list.status_of(&credential);
                if let Some(r) = status {
                    problems.push(format!("the card is {} (status list)", r.as_str()));
                }
                serde_json::json!({
                    "result": status.map_or("good", |r| r.as_str()),
                    "list_issued_at": list.issued_at, "list_tree_size": list.tree_size,
                    "entries": list.len(), "kid": kid,
                })
            }
            Err(v) => {
                problems.push(format!("the status list cannot be trusted: {v}"));
                serde_json::json!({ "result": "untrusted_list", "detail": v.to_string() })
            }
        };
    }
    if let (Some(path), true) = (&extra.log_proof, verdict.is_valid()) {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let checked = serde_json::from_str::<InclusionBundle>(&text)
            .map_err(|e| LogError::Unreadable(e.to_string()))
            .and_then(|b| verify_inclusion(&credential, &b, &set));
        out["log"] = match checked {
            Ok(included) => serde_json::json!({ "result": "included", "proof": included }),
            Err(e) => {
                problems.push(format!("not shown to be in the transparency log: {e}"));
                serde_json::json!({ "result": "not_included", "detail": e.to_string() })
            }
        };
    }
    println!("{}", serde_json::to_string_pretty(&out)?);
    if !verdict.is_valid() {
        bail!("not valid: {}", verdict.code());
    }
    if !problems.is_empty() {
        bail!("not valid: {}", problems.join("; "));
    }
    Ok(())
}

fn verdict_json(verdict: &skillcard_credential::Verdict) -> serde_json::Value {
    let claims = match verdict {
        skillcard_credential::Verdict::Valid { claims, kid, .. } => {
            serde_json::json!({ "kid": kid, "claims": claims })
        }
        _ => serde_json::json!(null),
    };
    serde_json::json!({
        "verdict": verdict.code(),
        "message": verdict.message_fa(),
        "detail": verdict.to_string(),
        "credential": claims,
    })
}

/// `skillcard verify-log`: a monitor's consistency check between two downloaded tree heads.
fn run_verify_log(
    keys: &std::path::Path,
    old: &std::path::Path,
    new: &std::path::Path,
    proof: &std::path::Path,
) -> anyhow::Result<()> {
    use base64::Engine as _;
    let set = load_key_set(keys)?;
    let read_json = |path: &std::path::Path| -> anyhow::Result<serde_json::Value> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))
    };
    let signed = |path: &std::path::Path| -> anyhow::Result<Vec<u8>> {
        let v = read_json(path)?;
        let b64 = v["signed"]
            .as_str()
            .with_context(|| format!("{} has no \"signed\" tree head", path.display()))?;
        base64::engine::general_purpose::STANDARD
            .decode(b64.trim())
            .with_context(|| format!("{}: the signed tree head is not base64", path.display()))
    };
    let proof_json = read_json(proof)?;
    let hashes: Vec<String> = serde_json::from_value(proof_json["proof"].clone())
        .with_context(|| format!("{} has no \"proof\" list", proof.display()))?;
    let outcome = skillcard_credential::transparency::verify_log_consistency(
        &signed(old)?,
        &signed(new)?,
        &hashes,
        &set,
    );
    let out = match &outcome {
        Ok((o, n)) => serde_json::json!({
            "result": "consistent", "old": o, "new": n,
        }),
        Err(e) => serde_json::json!({ "result": "inconsistent", "detail": e.to_string() }),
    };
    println!("{}", serde_json::to_string_pretty(&out)?);
    if let Err(e) = outcome {
        bail!("the log is not shown consistent: {e}");
    }
    Ok(())
}

/// Prints a verdict as JSON; an error (exit 1) unless it is valid.
fn report(verdict: skillcard_credential::Verdict) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(&verdict_json(&verdict))?);
    if !verdict.is_valid() {
        bail!("not valid: {}", verdict.code());
    }
    Ok(())
}

fn hex_bytes(h: &str) -> Option<Vec<u8>> {
    let h: String = h.chars().filter(|c| !matches!(c, ' ' | ':')).collect();
    hex::decode(h).ok()
}

fn run_keys(
    key_dir: &std::path::Path,
    hsm_pin: Option<String>,
    command: KeysCommand,
) -> anyhow::Result<()> {
    let dir = keys::KeyDir::open(key_dir)?.with_hsm_pin(hsm_pin);
    match command {
        KeysCommand::Generate {
            kid,
            not_after,
            hsm_module,
            hsm_token,
        } => {
            let home = match (hsm_module, hsm_token) {
                (Some(module), Some(token)) => keys::KeyHome::Hsm { module, token },
                (None, None) => keys::KeyHome::File,
                (None, Some(_)) => bail!("--hsm-token needs --hsm-module"),
                (Some(_), None) => bail!("--hsm-module needs --hsm-token"),
            };
            let g = dir.generate(&kid, not_after.as_deref(), &home)?;
            println!("generated key {} (active)", g.key.kid);
            println!("public key (Ed25519, base64url): {}", g.key.public_key);
            for old in &g.retired {
                println!("key {old} is now retired: it signs no new cards; its cards stay valid");
            }
            match home {
                keys::KeyHome::File => println!(
                    "secret key: {} (mode 0600; keep it secret and back it up offline)",
                    g.secret_path.display()
                ),
                keys::KeyHome::Hsm { token, .. } => println!(
                    "the secret stays on token {token:?}; {} says where (back the token up as its vendor documents)",
                    g.secret_path.display()
                ),
            }
            println!(
                "public key set: {} (publish it again: `skillcard keys export-public`)",
                dir.public_keys_path().display()
            );
        }
        KeysCommand::List => {
            let rows = dir.list()?;
            if rows.is_empty() {
                println!(
                    "no keys in {}; make one with `skillcard keys generate --kid KID`",
                    dir.path().display()
                );
            } else {
                print!("{}", keys::format_table(&rows));
            }
        }
        KeysCommand::Retire { kid } => {
            let before = dir.set_status(&kid, KeyStatus::Retired)?;
            match before {
                KeyStatus::Retired => println!("key {kid} was already retired"),
                KeyStatus::Active => {
                    println!("key {kid} retired; its cards stay valid");
                    println!(
                        "warning: there is no active signing key now; \
                         run `skillcard keys generate --kid NEW` before issuing cards"
                    );
                }
                KeyStatus::Revoked => println!("key {kid} retired"),
            }
        }
        KeysCommand::Revoke { kid, yes } => {
            if !yes {
                // Name the key first, so a typo is reported as such rather than as "confirm".
                if !dir.list()?.iter().any(|k| k.kid == kid) {
                    bail!("no key {kid:?} in {}", dir.public_keys_path().display());
                }
                bail!(
                    "revoking key {kid:?} makes every card it ever signed fail verification, \
                     and cannot be undone; run again with --yes to confirm"
                );
            }
            match dir.set_status(&kid, KeyStatus::Revoked)? {
                KeyStatus::Revoked => println!("key {kid} was already revoked"),
                before => {
                    println!("key {kid} revoked: every card it signed now fails verification");
                    if before == KeyStatus::Active {
                        println!(
                            "warning: there is no active signing key now; \
                             run `skillcard keys generate --kid NEW` before issuing cards"
                        );
                    }
                    println!("publish the key set again: `skillcard keys export-public`");
                }
            }
        }
        KeysCommand::ExportPublic { out } => {
            let set = dir.public_set()?;
            if set.keys().is_empty() {
                bail!(
                    "no keys in {}; nothing to publish (make one with `skillcard keys generate`)",
                    dir.path().display()
                );
            }
            match out {
                Some(path) => {
                    set.save(&path)
                        .with_context(|| format!("writing {}", path.display()))?;
                    eprintln!("wrote {} ({} keys)", path.display(), set.keys().len());
                }
                None => println!("{}", set.to_json()),
            }
        }
        KeysCommand::Check => {
            let problems = dir.check()?;
            for p in &problems {
                let level = if p.fatal { "error" } else { "warning" };
                eprintln!("{level}: {}", p.message);
            }
            if problems.iter().any(|p| p.fatal) {
                bail!(
                    "the key directory {} cannot sign cards",
                    dir.path().display()
                );
            }
            let active = dir.active_signing_key()?;
            println!("ok: active signing key {}", active.kid());
        }
    }
    Ok(())
}

/// Domain errors carry a Persian message; show it beside the English one for operators.
/// `--scale`: a number of cards in any digit system, or `national` (ten million).
fn parse_scale(input: &str) -> Result<i64, String> {
    if input.trim() == "national" {
        return Ok(10_000_000);
    }
    skillcard_core::text::parse_u64(input)
        .and_then(|n| i64::try_from(n).ok())
        .ok_or_else(|| format!("{input:?} is neither a number of cards nor `national`"))
}

/// What a failed `check` found, a line each, on standard error.
/// The checkpoint writer of a serving node: a checkpoint whenever the chain grew since the last
/// one (looked at every `every`), and a last one when the server stops.
async fn write_checkpoints(
    store: Store,
    key: std::sync::Arc<skillcard_credential::IssuerKey>,
    file: PathBuf,
    every: std::time::Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut written: Option<u64> = None;
    let mut tick = tokio::time::interval(every);
    loop {
        let stopping = tokio::select! {
            _ = tick.tick() => false,
            _ = stop.wait_for(|s| *s) => true,
        };
        let grew = match store.audit_checkpoint("").await {
            Ok(now) => written != Some(now.seq),
            Err(e) => {
                tracing::warn!(error = %e, "reading the audit head for a checkpoint failed");
                false
            }
        };
        if grew {
            match append_checkpoint(&store, &key, &file).await {
                Ok(cp) => written = Some(cp.seq),
                Err(e) => {
                    tracing::error!(error = %format!("{e:#}"), "writing an audit checkpoint failed")
                }
            }
        }
        if stopping {
            return;
        }
    }
}

/// Signs the audit chain's head now and appends it to `file` as one base64 line (the file is
/// only ever appended to, and synced before this returns).
async fn append_checkpoint(
    store: &Store,
    key: &skillcard_credential::IssuerKey,
    file: &std::path::Path,
) -> anyhow::Result<skillcard_credential::transparency::AuditCheckpoint> {
    use base64::Engine as _;
    use std::io::Write as _;
    let now = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .context("formatting the time")?;
    let cp = store.audit_checkpoint(&now).await.map_err(describe)?;
    let signed =
        skillcard_db::signing::with_key(key, |k| cp.sign(k)).context("signing the checkpoint")?;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(file)
        .with_context(|| format!("opening {}", file.display()))?;
    writeln!(
        f,
        "{}",
        base64::engine::general_purpose::STANDARD.encode(signed)
    )
    .and_then(|()| f.sync_data())
    .with_context(|| format!("appending to {}", file.display()))?;
    Ok(cp)
}

/// The largest checkpoint file or answer read (a checkpoint line is about 200 bytes).
const MAX_CHECKPOINT_SOURCE: u64 = 16 << 20;

/// The latest checkpoint of `source` (a file's last line, or a server's JSON `signed`), verified
/// with `keys`.
async fn read_checkpoint(
    source: &str,
    keys: &skillcard_credential::PublicKeySet,
) -> anyhow::Result<(skillcard_credential::transparency::AuditCheckpoint, String)> {
    use base64::Engine as _;
    let text = if source.starts_with("http://") || source.starts_with("https://") {
        let answer: serde_json::Value = reqwest::get(source)
            .await
            .and_then(|r| r.error_for_status())
            .with_context(|| format!("fetching {source}"))?
            .json()
            .await
            .with_context(|| format!("reading {source}"))?;
        answer["signed"]
            .as_str()
            .with_context(|| format!("{source} has no `signed` checkpoint"))?
            .to_owned()
    } else {
        use std::io::Read as _;
        let mut all = String::new();
        std::fs::File::open(source)
            .with_context(|| format!("opening {source}"))?
            .take(MAX_CHECKPOINT_SOURCE)
            .read_to_string(&mut all)
            .with_context(|| format!("reading {source}"))?;
        all.lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .with_context(|| format!("{source} holds no checkpoint"))?
            .trim()
            .to_owned()
    };
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .with_context(|| format!("the checkpoint in {source} is not base64"))?;
    skillcard_credential::transparency::AuditCheckpoint::verify(&bytes, keys).map_err(|v| {
        anyhow::anyhow!(
            "the checkpoint in {source} cannot be trusted: {} ({})",
            v.code(),
            v.message_fa()
        )
    })
}

fn print_failures(report: &skillcard_db::CheckReport) {
    if let Some(e) = &report.chain_error {
        eprintln!("audit chain broken: {e}");
    }
    for v in &report.violations {
        eprintln!(
            "invariant {} violated (province {:?}): {}",
            v.invariant, v.province_id, v.detail
        );
    }
}

fn describe(e: skillcard_db::StoreError) -> anyhow::Error {
    match e.domain() {
        Some(d) => anyhow::anyhow!("{d} ({}): {}", d.code(), d.message_fa()),
        None => anyhow::anyhow!(e),
    }
}

struct ServeOptions {
    listen: SocketAddr,
    demo: bool,
    secure_cookies: Option<bool>,
    gateway_secret: String,
    key_dir: PathBuf,
    public_rate: u32,
    verify_cache: usize,
    trusted_proxies: Vec<std::net::IpAddr>,
    token_days: i64,
    second_factor_roles: Vec<Role>,
    senders: skillcard_senders::Senders,
    metrics_token: Option<String>,
    sms_report_token: Option<String>,
    /// Where to append audit checkpoints, and every how many seconds.
    checkpoints: Option<(PathBuf, u64)>,
    hsm_pin: Option<String>,
}

/// The active signing key, if the key directory has one. A demo server makes a key in an empty
/// directory so that cards can be printed out of the box.
fn signing_key(
    dir: &std::path::Path,
    hsm_pin: Option<String>,
    demo: bool,
) -> anyhow::Result<Option<skillcard_credential::IssuerKey>> {
    let dir = keys::KeyDir::open(dir)?.with_hsm_pin(hsm_pin);
    if demo && dir.list()?.is_empty() {
        let made = dir.generate("demo-1", None, &keys::KeyHome::File)?;
        tracing::info!(kid = %made.key.kid, dir = %dir.path().display(), "made a demo signing key");
    }
    match dir.active_signing_key() {
        Ok(key) => {
            tracing::info!(
                kid = key.kid(),
                held_by = if key.is_external() {
                    "security module"
                } else {
                    "key file"
                },
                "cards are signed with key {}",
                key.kid()
            );
            Ok(Some(key))
        }
        Err(e) => {
            tracing::warn!(error = %e, "no signing key: printing cards (R-6.8) is refused");
            Ok(None)
        }
    }
}

async fn serve(store: Store, opts: ServeOptions) -> anyhow::Result<()> {
    let ServeOptions {
        listen,
        demo,
        secure_cookies,
        gateway_secret,
        key_dir,
        public_rate,
        verify_cache,
        trusted_proxies,
        token_days,
        second_factor_roles,
        senders,
        metrics_token,
        sms_report_token,
        checkpoints,
        hsm_pin,
    } = opts;
    let key = signing_key(&key_dir, hsm_pin, demo)?;
    let public_keys = keys::KeyDir::open(&key_dir)?.public_set().ok();
    if demo && skillcard_db::demo::seed(&store).await.map_err(describe)? {
        tracing::info!(
            password = skillcard_db::demo::DEMO_PASSWORD,
            "demo loaded: users hq, security, head, officer, clerk, examiner, delivery, dg, board"
        );
    }
    let docs = match skillcard_docs::Renderer::discover() {
        Ok(r) => Some(r),
        Err(e) => {
            tracing::warn!(error = %e, "no Persian font found: PDF documents are disabled (run scripts/fetch-fonts)");
            None
        }
    };
    let secure = secure_cookies.unwrap_or(!listen.ip().is_loopback());
    let state = skillcard_web::AppState::new(
        store,
        skillcard_web::WebConfig {
            secure_cookies: secure,
            token_days,
            second_factor_roles,
            metrics_token,
            delivery_report_token: sms_report_token,
        },
        docs,
    )
    .with_gateway_secret(gateway_secret.as_bytes())
    .with_public_rate_limit_behind(public_rate, (public_rate / 4).max(1), trusted_proxies)
    .with_verify_cache(verify_cache);
    let state = match key {
        Some(k) => state.with_signing_key(k),
        None => state,
    };
    let state = match public_keys {
        Some(set) if !set.keys().is_empty() => state.with_public_keys(set),
        _ => state,
    };
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("binding {listen}"))?;
    tracing::info!("skillcard listening on http://{}", listener.local_addr()?);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let outbox = tokio::spawn(skillcard_db::notify::run_outbox(
        state.store.clone(),
        senders,
        std::time::Duration::from_secs(60),
        stopped,
    ));
    let checkpointer = match (checkpoints, state.signing_key.clone()) {
        (Some((file, every)), Some(key)) => {
            tracing::info!(file = %file.display(), every, "audit checkpoints are appended");
            Some(tokio::spawn(write_checkpoints(
                state.store.clone(),
                key,
                file,
                std::time::Duration::from_secs(every),
                stop.subscribe(),
            )))
        }
        (Some(_), None) => bail!("--checkpoint-file needs a signing key in the key directory"),
        (None, _) => None,
    };
    let served = skillcard_web::serve(listener, state).await;
    // SIGTERM: requests in flight are done; let the outbox finish the round it is sending.
    let _ = stop.send(true);
    if let Some(task) = checkpointer {
        let _ = task.await;
    }
    if tokio::time::timeout(std::time::Duration::from_secs(20), outbox)
        .await
        .is_err()
    {
        tracing::warn!(
            "the outbox did not stop within 20 s; leaving its claimed notices to expire"
        );
    }
    tracing::info!("skillcard stopped");
    served?;
    Ok(())
}

/// A province named by its code (e.g. ESF) or id.
async fn province_id(store: &Store, province: Option<String>) -> anyhow::Result<Option<i64>> {
    let Some(p) = province else { return Ok(None) };
    Ok(Some(
        store
            .provinces()
            .await?
            .into_iter()
            .find(|x| x.code.eq_ignore_ascii_case(&p) || x.id.to_string() == p)
            .with_context(|| format!("unknown province {p:?}"))?
            .id,
    ))
}
