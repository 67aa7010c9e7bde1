//! `skillcard`: the one binary. Subcommands serve the web application, migrate the database,
//! add users, load a demonstration dataset and check the invariants.

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use skillcard_core::policy::Role;
use skillcard_db::{NewUser, Store};
use std::net::SocketAddr;

#[derive(Parser)]
#[command(
    name = "skillcard",
    version,
    about = "Electronic skill certificate cards: custody, issuance, delivery"
)]
struct Cli {
    /// `sqlite:PATH` (default, a file in the working directory) or `postgres://…`.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite:skillcard.db",
        global = true
    )]
    database_url: String,
    #[command(subcommand)]
    command: Command,
}

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
    },
    /// Bring the database schema up to date.
    Migrate,
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Fill the database with a realistic demonstration dataset.
    Demo,
    /// Verify the audit chain and the custody invariants; exits non-zero if anything is wrong.
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
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let cli = Cli::parse();
    let store = Store::connect(&cli.database_url)
        .await
        .with_context(|| format!("connecting to {}", cli.database_url))?;
    store.migrate().await.context("migrating the database")?;
    match cli.command {
        Command::Migrate => println!("database is up to date"),
        Command::Serve {
            listen,
            demo,
            secure_cookies,
        } => serve(store.clone(), listen, demo, secure_cookies).await?,
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
            let province_id = match province {
                Some(p) => Some(
                    store
                        .provinces()
                        .await?
                        .into_iter()
                        .find(|x| x.code.eq_ignore_ascii_case(&p) || x.id.to_string() == p)
                        .with_context(|| format!("unknown province {p:?}"))?
                        .id,
                ),
                None => None,
            };
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
        Command::Demo => {
            if skillcard_db::demo::seed(&store).await.map_err(describe)? {
                println!(
                    "demo loaded; every demo user's password is {:?}",
                    skillcard_db::demo::DEMO_PASSWORD
                );
            } else {
                println!("demo already present");
            }
        }
        Command::Check => {
            let report = store.check().await?;
            println!("{}", serde_json::to_string_pretty(&report)?);
            if !report.is_ok() {
                if let Some(e) = &report.chain_error {
                    eprintln!("audit chain broken: {e}");
                }
                for v in &report.violations {
                    eprintln!(
                        "invariant {} violated (province {:?}): {}",
                        v.invariant, v.province_id, v.detail
                    );
                }
                bail!("check failed");
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

/// Domain errors carry a Persian message; show it beside the English one for operators.
fn describe(e: skillcard_db::StoreError) -> anyhow::Error {
    match e.domain() {
        Some(d) => anyhow::anyhow!("{d} ({}): {}", d.code(), d.message_fa()),
        None => anyhow::anyhow!(e),
    }
}

async fn serve(
    store: Store,
    listen: SocketAddr,
    demo: bool,
    secure_cookies: Option<bool>,
) -> anyhow::Result<()> {
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
        },
        docs,
    );
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("binding {listen}"))?;
    tracing::info!("skillcard listening on http://{}", listener.local_addr()?);
    skillcard_web::serve(listener, state).await?;
    Ok(())
}
